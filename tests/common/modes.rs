//! The generated Task of every mode, for the tests that hold each to an outside rule
//! (Tekton's CRD and webhook, Pod Security admission).
#![allow(dead_code)]

use serde_json::Value;

/// A plain-HTTP registry in the cluster, and an https one outside it.
pub const HTTP: &str = "harbor-core.default.svc.cluster.local";
pub const HTTPS: &str = "harbor.example.com";

/// The generated Task of a ResourceList of `items` and `spec` (which must succeed).
pub fn task_of(items: &[String], spec: &str) -> Value {
    let out = super::run(&super::input(items, spec));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    super::items(&out.stdout)
        .into_iter()
        .find(|i| i["kind"] == "Task")
        .unwrap_or_else(|| panic!("no Task in:\n{}", out.stdout))
}

/// The generated Task of a shipped example (`examples/resource-lists/`).
pub fn example_task(example_file: &str) -> Value {
    let out = super::run(&super::example(example_file));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    super::find(&super::items(&out.stdout), "Task", "buildkit-build").clone()
}

/// The daemon of BuildKit's examples (mTLS, `--tlscacert`) and its Service, in
/// namespace buildkit.
pub fn mtls_daemon() -> Vec<String> {
    use super::buildkit_examples::{Mode, deployment, service};
    vec![
        deployment(Mode::Rootless, "buildkit", &[]),
        service("buildkit"),
    ]
}

/// The modes of the README's table (`plain`, `mTLS`, `private CA`, `skip-verify`,
/// `daemonless`), named as it names them.
pub fn readme_modes() -> Vec<(&'static str, Value)> {
    vec![
        (
            "plain",
            task_of(
                &[],
                &format!("registry: {HTTP}\nscheme: http\ngenerate: [task]\n"),
            ),
        ),
        (
            "mTLS",
            task_of(
                &mtls_daemon(),
                &format!("registry: {HTTP}\nscheme: http\ngenerate: [buildkitdConfig, task]\n"),
            ),
        ),
        (
            "private CA",
            task_of(
                &[],
                &format!("registry: {HTTPS}\nca: [/certs/ca.crt]\ngenerate: [task]\n"),
            ),
        ),
        (
            "skip-verify",
            task_of(
                &[],
                &format!("registry: {HTTPS}\ninsecureSkipVerify: true\ngenerate: [task]\n"),
            ),
        ),
        (
            "daemonless",
            task_of(
                &[],
                &format!(
                    "registry: {HTTP}\nscheme: http\ndaemonless: true\ngenerate: [buildkitdConfig, task]\n"
                ),
            ),
        ),
    ]
}

/// The Tasks of every mode: the README's, the shipped examples', the uid left to the
/// platform, and daemonless without a generated buildkitd.toml.
pub fn every_mode() -> Vec<(String, Value)> {
    let mut tasks: Vec<(String, Value)> = readme_modes()
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
    for f in [
        "generator.yaml",
        "https-kpt-package.yaml",
        "configmap-function-config.yaml",
        "harbor-chart.yaml",
    ] {
        tasks.push((format!("example {f}"), example_task(f)));
    }
    tasks.push((
        "uid from the platform".into(),
        task_of(
            &[],
            &format!("registry: {HTTPS}\ninsecureSkipVerify: true\nrunAsUser: platform\ngenerate: [task]\n"),
        ),
    ));
    tasks.push((
        "daemonless without buildkitd.toml".into(),
        task_of(
            &[],
            &format!("registry: {HTTP}\nscheme: http\ndaemonless: true\ngenerate: [task]\n"),
        ),
    ));
    tasks
}
