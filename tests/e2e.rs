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
use common::tools::{kpt, path_with_fn};
use common::{TempDir, require, root, which};

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
    let Some(kubectl) = which("kubectl") else {
        require("kubectl", false);
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
        stderr.contains("kustomize drops local-config items, so a CORE_URL patch would never land"),
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
        stderr.contains(
            "warning: spec.registry harbor-core.harbor.svc.cluster.local:8080 connects to port 8080"
        ),
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
    let t = harbor_buildkit_fn::yaml::Tree::parse(&wf).expect("workflow parses");
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

/// Every command the README shows for the consumers runs, as written, from a copy of
/// the examples (kpt fn render writes in place).
#[test]
fn readme_commands_run_as_written() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    if kpt().is_none() {
        require("kpt", false);
        return;
    }
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let commands = [
        "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/default",
        "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/production/with-restart",
        "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize/dev",
        "kustomize build --enable-alpha-plugins --enable-exec examples/https",
        "kpt fn render --allow-exec examples/kpt/ci-build",
        "kpt fn eval examples/kpt/ci-build --exec harbor-buildkit-fn -- registry=harbor-core.default.svc.cluster.local scheme=http namespace=ci",
        "examples/ci/render-check.sh examples/kustomize/production",
        // The checks alone: the examples are clean, so they exit 0.
        "harbor-buildkit-fn check examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit",
        "kpt fn source examples/kpt/ci-build --fn-config examples/kpt/ci-build/harbor-buildkit.yaml | harbor-buildkit-fn check",
        "harbor-buildkit-fn check --format yaml < examples/resource-lists/harbor-chart.yaml",
    ];
    let work = TempDir::new("e2e-readme");
    copy_tree(&root().join("examples"), &work.join("examples"));
    // The copy loses the executable bit; the script runs through bash.
    let kz_dir = TempDir::new("e2e-kz-bin");
    std::os::unix::fs::symlink(&kz, kz_dir.join("kustomize")).expect("symlink kustomize");
    for cmd in commands {
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
        assert!(
            out.status.success(),
            "{cmd}:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}
