//! The container image for real. `.ci/container-image` builds it from the Dockerfile
//! (BINARY_FROM=prebuilt, the static binary); here kpt runs it as an `image:` mutator
//! (`KRM_FN_RUNTIME=podman`; `KPT_FN_RUNTIME` before kpt v1.0.0-beta.59), and a
//! standalone kustomize 4.5.4 and `kubectl kustomize` run it as a `container:` function
//! (the docker CLI against `podman system service`), each output compared byte for byte with the exec mode's and with what is committed.
//! Each test skips with a visible message where podman, the image or a consumer is
//! missing, and fails instead when CI=true.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::container::{Podman, image_name};
use common::package::{overlays, read_tree, text, tree_diff, write_tree};
use common::registry::{Auth, PASSWORD, Registry, USER, docker_config};
use common::tools::{BIN, path_with_fn, run_with_stdin};
use common::{TempDir, parse_json, required_tool, root};

/// The functionConfig annotation of the exec form, as the examples write it.
const EXEC_FORM: &str = "exec:\n        path: harbor-buildkit-fn\n";

fn container_form(image: &str) -> String {
    format!("container:\n        image: {image}\n")
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Asserts success and returns stdout.
fn success(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn assert_same(what: &str, expected: &str, actual: &str) {
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected, actual)
            .unified_diff()
            .header("expected", "container")
            .to_string();
        panic!("{what} differs:\n{diff}");
    }
}

/// Every occurrence of a `...harbor-buildkit-fn:<digit>...` image reference in `text`.
fn image_refs(text: &str) -> Vec<&str> {
    let part = |c: char| c.is_ascii_alphanumeric() || "./_-:@".contains(c);
    let mut refs = Vec::new();
    for (at, _) in text.match_indices("harbor-buildkit-fn:") {
        let tail = &text[at + "harbor-buildkit-fn:".len()..];
        if !tail.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let start = text[..at].rfind(|c: char| !part(c)).map_or(0, |i| {
            i + text[i..].chars().next().map_or(1, char::len_utf8)
        });
        let end = at
            + text[at..]
                .find(|c: char| !part(c))
                .unwrap_or(text.len() - at);
        refs.push(text[start..end].trim_end_matches(['.', ':']));
    }
    refs
}

#[test]
fn image_refs_finds_every_form() {
    assert_eq!(
        image_refs(
            "a `localhost/harbor-buildkit-fn:0.1.0`, image: harbor-buildkit-fn:2.0.\n--image=x.io/o/harbor-buildkit-fn:1 harbor-buildkit-fn: no"
        ),
        [
            "localhost/harbor-buildkit-fn:0.1.0",
            "harbor-buildkit-fn:2.0",
            "x.io/o/harbor-buildkit-fn:1"
        ]
    );
}

/// The image name is written once (krm-fn.yaml from src/describe.rs); every file that
/// names the image names exactly that, and the files meant to name it do.
#[test]
fn image_name_is_written_in_one_place() {
    let image = image_name();
    // kpt reads a name without a registry part as gcr.io/kpt-fn/<name>.
    let (domain, _) = image.split_once('/').expect("a registry part");
    assert!(
        domain == "localhost" || domain.contains(['.', ':']),
        "{image}: its first part is not a registry"
    );
    assert!(image.ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))));

    let mut files = vec![
        root().join("README.md"),
        root().join("CHANGELOG.md"),
        root().join("Dockerfile"),
        root().join("krm-fn.yaml"),
        root().join(".ci/run"),
        root().join(".ci/container-image"),
    ];
    for dir in ["functions", "bench", "examples"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
    }
    let mut named = BTreeMap::new();
    for file in &files {
        let Ok(content) = std::fs::read_to_string(file) else {
            continue;
        };
        let rel = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        for r in image_refs(&content) {
            assert_eq!(r, image, "{rel} names another image");
            *named.entry(rel.clone()).or_insert(0) += 1;
        }
    }
    for must in [
        "README.md",
        "krm-fn.yaml",
        "functions/harbor-buildkit-container.yaml",
        "functions/Kptfile-container",
        "functions/doctor-job.yaml",
        "bench/container.md",
    ] {
        assert!(named.contains_key(must), "{must} does not name {image}");
    }

    // And where the consumers read it.
    let read = |f: &str| parse_json(&std::fs::read_to_string(root().join(f)).expect(f));
    let fc = read("functions/harbor-buildkit-container.yaml");
    let function = fc["metadata"]["annotations"]["config.kubernetes.io/function"]
        .as_str()
        .expect("function annotation");
    assert_eq!(function, container_form(&image).replace("        ", "  "));
    let kptfile = read("functions/Kptfile-container");
    assert_eq!(kptfile["pipeline"]["mutators"][0]["image"], image.as_str());
    let job = read("functions/doctor-job.yaml");
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        image.as_str()
    );
}

/// What the image holds, read from the image itself.
#[test]
fn image_is_tiny_static_non_root_and_defines_nobody() {
    let Some(podman) = Podman::find() else {
        return;
    };
    let image = &podman.image;
    let inspect = podman.run(&["image", "inspect", image], b"");
    let inspect: serde_json::Value =
        serde_json::from_str(&success("podman image inspect", &inspect)).expect("JSON");
    let config = &inspect[0]["Config"];
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/harbor-buildkit-fn"])
    );
    let labels = &config["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "harbor-buildkit-fn"
    );
    let size = inspect[0]["Size"].as_u64().expect("Size");
    assert!(size < 16 << 20, "{size} bytes");

    // The files, copied out of a container that never starts.
    let created = podman.run(&["create", image], b"");
    let id = success("podman create", &created).trim().to_string();
    let dir = TempDir::new("container-files");
    let copy = |from: &str, name: &str| {
        let out = podman.run(
            &[
                "cp",
                &format!("{id}:{from}"),
                &dir.join(name).to_string_lossy(),
            ],
            b"",
        );
        success(&format!("podman cp {from}"), &out);
        std::fs::read(dir.join(name)).expect("copied file")
    };
    let passwd = text(&copy("/etc/passwd", "passwd"));
    let group = text(&copy("/etc/group", "group"));
    let ca = text(&copy("/etc/ssl/certs/ca-certificates.crt", "ca.crt"));
    let binary = copy("/usr/local/bin/harbor-buildkit-fn", "harbor-buildkit-fn");
    let _ = podman.run(&["rm", &id], b"");
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nobody:x:65534:65534:")),
        "{passwd}"
    );
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nonroot:x:65532:65532:")),
        "{passwd}"
    );
    assert!(group.lines().any(|l| l == "nobody:x:65534:"), "{group}");
    assert!(ca.matches("BEGIN CERTIFICATE").count() > 10);
    // The image holds the static binary this run built (not a stale one).
    if let Some(bin) = std::env::var_os("HBFN_STATIC_BIN") {
        assert!(
            std::fs::read(&bin).expect("static binary") == binary,
            "the image's binary is not HBFN_STATIC_BIN: rebuild with .ci/container-image"
        );
    }

    // Run as kpt and kustomize run it: same output as the exec function.
    let input =
        std::fs::read(root().join("examples/resource-lists/generator.yaml")).expect("example");
    let exec = run_with_stdin(&mut Command::new(BIN), &input);
    let run = podman.run(
        &[
            "run",
            "--rm",
            "-i",
            "--network",
            "none",
            "--user",
            "nobody",
            "--security-opt=no-new-privileges",
            image,
        ],
        &input,
    );
    assert_same(
        "podman run --user nobody",
        &success("exec", &exec),
        &success("podman run --user nobody", &run),
    );
}

/// `examples/kpt/ci-build` with its mutator switched to the image: rendered by kpt
/// through podman, it changes exactly what the exec render changes (the committed
/// `.expected/diff.patch`), and a second render changes nothing.
#[test]
fn kpt_renders_the_image_like_exec() {
    let Some(kpt) = required_tool("kpt") else {
        return;
    };
    let Some(podman) = Podman::find() else {
        return;
    };
    let src = root().join("examples/kpt/ci-build");
    let original = read_tree(&src);
    let work = TempDir::new("container-kpt");

    let exec_pkg = work.join("exec/ci-build");
    write_tree(&exec_pkg, &original);
    success(
        "kpt fn render --allow-exec",
        &output(
            Command::new(&kpt)
                .args(["fn", "render", "--allow-exec"])
                .arg(&exec_pkg)
                .env("PATH", path_with_fn()),
        ),
    );
    let exec_after = read_tree(&exec_pkg);

    let mut before = original.clone();
    let kptfile = before.get_mut("Kptfile").expect("Kptfile");
    let switched = kptfile.replace(
        "- exec: harbor-buildkit-fn\n",
        &format!("- image: {}\n", podman.image),
    );
    assert_ne!(
        *kptfile, switched,
        "the Kptfile has no exec mutator to switch"
    );
    *kptfile = switched;
    let pkg = work.join("image/ci-build");
    write_tree(&pkg, &before);
    let render = || {
        // No PATH to the binary: only the image can do the work.
        let mut cmd = Command::new(&kpt);
        cmd.args(["fn", "render", "--image-pull-policy", "never"])
            .arg(&pkg)
            .env("KRM_FN_RUNTIME", "podman")
            // kpt up to v1.0.0-beta.58 (the machine image has beta.56) reads the old name.
            .env("KPT_FN_RUNTIME", "podman");
        let out = output(podman.env_on(&mut cmd));
        // kpt reports on stderr.
        success("KRM_FN_RUNTIME=podman kpt fn render", &out) + &text(&out.stderr)
    };
    let log = render();
    assert!(
        log.contains(&format!("[PASS] \"{}\"", podman.image)),
        "{log}"
    );
    let after = read_tree(&pkg);
    let diff = tree_diff(&before, &after);
    assert!(
        diff.contains("b/harbor-buildkit/task_buildkit-build.yaml"),
        "{diff}"
    );
    assert_same(
        ".expected/diff.patch",
        &std::fs::read_to_string(src.join(".expected/diff.patch")).expect("diff.patch"),
        &diff,
    );
    let mut exec_rest = exec_after.clone();
    let mut image_rest = after.clone();
    exec_rest.remove("Kptfile");
    image_rest.remove("Kptfile");
    assert!(
        exec_rest == image_rest,
        "the image render and the exec render differ"
    );

    render();
    assert!(
        read_tree(&pkg) == after,
        "a second render changed the package"
    );
}

/// A copy of examples/ whose function configs all name the image instead of the binary.
fn examples_as_containers(image: &str) -> (TempDir, Vec<PathBuf>) {
    let work = TempDir::new("container-kustomize");
    let mut files = read_tree(&root().join("examples"));
    let mut switched = 0;
    for content in files.values_mut() {
        if content.contains("config.kubernetes.io/function") && content.contains(EXEC_FORM) {
            *content = content.replace(EXEC_FORM, &container_form(image));
            switched += 1;
        }
    }
    write_tree(&work.join("examples"), &files);
    let list = overlays(&work.join("examples"));
    // Nothing is left in the overlays for an exec run (and no --enable-exec is given).
    for overlay in &list {
        for (rel, content) in &files {
            if Path::new(rel).parent() == Some(overlay.as_path()) {
                assert!(!content.contains("path: harbor-buildkit-fn"), "{rel}");
            }
        }
    }
    for must in [
        "kustomize/production/default",
        "kustomize/production/with-restart",
        "kustomize/dev",
        "https",
    ] {
        assert!(list.iter().any(|o| o == Path::new(must)), "no {must}");
    }
    assert!(
        switched >= list.len(),
        "{switched} function configs switched"
    );
    (work, list)
}

/// Each overlay with `container:` functions: standalone kustomize 4.5.4 prints exactly
/// what the exec function prints (and what is committed as expected.yaml).
#[test]
fn kustomize_runs_the_container_like_exec() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let Some(podman) = Podman::find() else {
        return;
    };
    let Some(api) = podman.docker_api() else {
        return;
    };
    let (work, list) = examples_as_containers(&podman.image);
    for overlay in &list {
        let exec = output(
            Command::new(&kz)
                .current_dir(root().join("examples"))
                .args(["build", "--enable-alpha-plugins", "--enable-exec"])
                .arg(overlay)
                .env("PATH", path_with_fn()),
        );
        let exec = success(&format!("exec {}", overlay.display()), &exec);
        let mut cmd = Command::new(&kz);
        cmd.current_dir(work.join("examples"))
            .args(["build", "--enable-alpha-plugins"])
            .arg(overlay);
        let out = output(api.env_on(&mut cmd));
        let what = format!("kustomize build {} (container)", overlay.display());
        let container = success(&format!("{what}\n{}", api.log()), &out);
        assert_same(&what, &exec, &container);
        let committed =
            std::fs::read_to_string(root().join("examples").join(overlay).join("expected.yaml"))
                .expect("expected.yaml");
        assert_same(
            &format!("{what} against expected.yaml"),
            &committed,
            &container,
        );
    }
    drop(api);
}

/// kubectl's kustomize cannot run exec functions, but it runs the container: each
/// overlay prints exactly the committed expected.yaml (the exec output).
#[test]
fn kubectl_kustomize_runs_the_container() {
    let Some(kubectl) = required_tool("kubectl") else {
        return;
    };
    let Some(podman) = Podman::find() else {
        return;
    };
    let Some(api) = podman.docker_api() else {
        return;
    };
    let (work, list) = examples_as_containers(&podman.image);
    for overlay in &list {
        let mut cmd = Command::new(&kubectl);
        cmd.current_dir(work.join("examples"))
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(overlay);
        let out = output(api.env_on(&mut cmd));
        let what = format!("kubectl kustomize {} (container)", overlay.display());
        let container = success(&format!("{what}\n{}", api.log()), &out);
        let committed =
            std::fs::read_to_string(root().join("examples").join(overlay).join("expected.yaml"))
                .expect("expected.yaml");
        assert_same(&what, &committed, &container);
    }
    drop(api);
}

/// functions/harbor-buildkit-container.yaml works as copied, under both kustomizes,
/// and gives what functions/harbor-buildkit.yaml (exec) gives.
#[test]
fn functions_container_config_works_as_copied() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let Some(kubectl) = required_tool("kubectl") else {
        return;
    };
    let Some(podman) = Podman::find() else {
        return;
    };
    let Some(api) = podman.docker_api() else {
        return;
    };
    let work = TempDir::new("container-functions");
    write_tree(
        &work.join("base"),
        &read_tree(&root().join("examples/kustomize/base/harbor")),
    );
    for (dir, file) in [
        ("exec", "harbor-buildkit.yaml"),
        ("container", "harbor-buildkit-container.yaml"),
    ] {
        let overlay = work.join(dir);
        std::fs::create_dir_all(&overlay).expect("overlay");
        std::fs::copy(root().join("functions").join(file), overlay.join(file)).expect("copy");
        std::fs::write(
            overlay.join("kustomization.yaml"),
            format!("resources:\n- ../base\ngenerators:\n- {file}\n"),
        )
        .expect("kustomization");
    }
    let exec = success(
        "functions/harbor-buildkit.yaml",
        &output(
            Command::new(&kz)
                .args(["build", "--enable-alpha-plugins", "--enable-exec"])
                .arg(work.join("exec"))
                .env("PATH", path_with_fn()),
        ),
    );
    assert!(exec.contains("CORE_URL: http://harbor-core.default.svc.cluster.local\n"));
    assert!(exec.contains("kind: Task"));
    let mut standalone = Command::new(&kz);
    standalone
        .args(["build", "--enable-alpha-plugins"])
        .arg(work.join("container"));
    let mut builtin = Command::new(&kubectl);
    builtin
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(work.join("container"));
    for (what, cmd) in [
        ("kustomize build --enable-alpha-plugins", &mut standalone),
        ("kubectl kustomize --enable-alpha-plugins", &mut builtin),
    ] {
        let out = success(what, &output(api.env_on(cmd)));
        assert_same(what, &exec, &out);
    }
    drop(api);
}

/// functions/Kptfile-container works as copied into the example package: the render
/// changes what the exec render of the example changes.
#[test]
fn functions_kptfile_container_works_as_copied() {
    let Some(kpt) = required_tool("kpt") else {
        return;
    };
    let Some(podman) = Podman::find() else {
        return;
    };
    let work = TempDir::new("container-kptfile");
    let original = read_tree(&root().join("examples/kpt/ci-build"));
    let exec_pkg = work.join("exec/my-package");
    write_tree(&exec_pkg, &original);
    success(
        "kpt fn render --allow-exec",
        &output(
            Command::new(&kpt)
                .args(["fn", "render", "--allow-exec"])
                .arg(&exec_pkg)
                .env("PATH", path_with_fn()),
        ),
    );
    let mut files = original.clone();
    files.insert(
        "Kptfile".into(),
        std::fs::read_to_string(root().join("functions/Kptfile-container")).expect("Kptfile"),
    );
    let pkg = work.join("image/my-package");
    write_tree(&pkg, &files);
    let mut cmd = Command::new(&kpt);
    cmd.args(["fn", "render", "--image-pull-policy", "never"])
        .arg(&pkg)
        .env("KRM_FN_RUNTIME", "podman")
        // kpt up to v1.0.0-beta.58 (the machine image has beta.56) reads the old name.
        .env("KPT_FN_RUNTIME", "podman");
    success("kpt fn render", &output(podman.env_on(&mut cmd)));
    let (mut exec, mut image) = (read_tree(&exec_pkg), read_tree(&pkg));
    assert_ne!(exec, original, "the exec render changed nothing");
    exec.remove("Kptfile");
    image.remove("Kptfile");
    assert!(exec == image, "{}", tree_diff(&exec, &image));
}

/// The README's `kubectl run` line runs the same image, and names the Job's file.
fn readme_runs_the_same_image() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let run_line = readme
        .lines()
        .find(|l| l.contains("kubectl") && l.contains(" run ") && l.contains("--image="))
        .expect("a kubectl run line in the README");
    assert!(
        run_line.contains(&format!("--image={}", image_name())),
        "{run_line}"
    );
    assert!(readme.contains("functions/doctor-job.yaml"));
}

/// functions/doctor-job.yaml: a Job that runs the image's doctor with the Secret
/// mounted. Run here as a kubelet would run it (its args, its user, the Secret as a
/// read-only folder holding `.dockerconfigjson`), against a registry on loopback in
/// place of the in-cluster name; and the README's `kubectl run` line says the same.
#[test]
fn doctor_job_runs_the_image_doctor_with_the_secret() {
    let job = parse_json(
        &std::fs::read_to_string(root().join("functions/doctor-job.yaml")).expect("job"),
    );
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["backoffLimit"], 0);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let user = pod["securityContext"]["runAsUser"]
        .as_u64()
        .expect("runAsUser");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], image_name().as_str());
    let args: Vec<String> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect();
    assert_eq!(args[0], "doctor");
    assert!(args[1].ends_with(".svc.cluster.local"), "{}", args[1]);
    let config_path = args
        .iter()
        .position(|a| a == "--docker-config")
        .map(|i| args[i + 1].clone())
        .expect("--docker-config");
    let mount = &container["volumeMounts"][0];
    let mount_path = mount["mountPath"].as_str().expect("mountPath");
    assert_eq!(mount["readOnly"], true);
    assert_eq!(config_path, format!("{mount_path}/.dockerconfigjson"));
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    assert!(volume["secret"]["secretName"].is_string(), "{volume}");

    readme_runs_the_same_image();

    let Some(podman) = Podman::find() else {
        return;
    };
    let Some(reg) = Registry::start(Auth::Htpasswd) else {
        return;
    };
    // The Secret as the kubelet projects it: one file per key.
    let secret = TempDir::new("container-secret");
    let config = docker_config(&secret.join("made"), &reg.addr, USER, PASSWORD);
    std::fs::copy(&config, secret.join(".dockerconfigjson")).expect("copy");
    std::fs::remove_dir_all(secret.join("made")).expect("rm");
    let mut run_args: Vec<String> = [
        "run",
        "--rm",
        // The registry listens on the host's loopback.
        "--network",
        "host",
        "--user",
        &format!("{user}:{user}"),
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt=no-new-privileges",
        "--volume",
        &format!("{}:{mount_path}:ro", secret.display()),
        &podman.image,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut job_args = args.clone();
    job_args[1] = reg.addr.clone();
    run_args.extend(job_args);
    let refs: Vec<&str> = run_args.iter().map(String::as_str).collect();
    let out = podman.run(&refs, b"");
    let report = text(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{report}{}\n{}",
        out.status,
        text(&out.stderr),
        reg.log_tail()
    );
    assert!(
        report.contains(&format!("as {USER} (from {config_path})")),
        "{report}"
    );
    assert!(report.contains("PASS"), "{report}");
    assert!(!report.contains(PASSWORD), "{report}");

    // Without the Secret the same Job fails, and says so.
    let mut bad = run_args.clone();
    let volume_at = bad.iter().position(|a| a == "--volume").expect("--volume");
    bad.drain(volume_at..volume_at + 2);
    let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
    let out = podman.run(&refs, b"");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn container_scripts_pass_shellcheck() {
    for script in [".ci/container-image", "bench/container.sh"] {
        common::assert_lint_clean("shellcheck", &[], &root().join(script));
    }
}
