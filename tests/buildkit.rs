//! BuildKit's side against the daemon as moby/buildkit's examples/kubernetes lays it out
//! (tests/common/buildkit_examples.rs): buildkitd.toml lands where the daemon reads it,
//! the daemon restarts when it changes, mirrors get their own tables, and a config no
//! daemon reads is never an exit 0.

mod common;

use common::buildkit_examples::{Mode, deployment, service, statefulset};
use common::results::{self as res, Code};
use harbor_buildkit_fn::Severity;
use serde_json::Value;

const REGISTRY: &str = "harbor-core.harbor.svc.cluster.local";

use common::input;

/// The registry over plain HTTP, the Task in `ci`, Harbor left out.
fn spec(extra: &str) -> String {
    format!(
        "registry: {REGISTRY}\nscheme: http\nnamespace: ci\ngenerate: [buildkitdConfig, task]\n{extra}"
    )
}

fn run(input: &str) -> (Vec<Value>, harbor_buildkit_fn::Outcome) {
    let out = common::run(input);
    assert_eq!(out.exit_code, 0, "{}{}", out.stderr, out.stdout);
    (common::items(&out.stdout), out)
}

fn workload<'v>(items: &'v [Value], kind: &str) -> &'v Value {
    common::find(items, kind, "buildkitd")
}

fn container(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]["containers"][0]
}

/// The volume the function added, and where the container mounts it.
fn config_mount(w: &Value) -> (Value, String) {
    let volume = w["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "harbor-buildkit-config"))
        .cloned()
        .expect("the config volume");
    let path = container(w)["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == "harbor-buildkit-config"))
        .and_then(|m| m["mountPath"].as_str())
        .expect("the config mount")
        .to_string();
    (volume, path)
}

fn args(w: &Value) -> Vec<String> {
    container(w)["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

fn checksum(w: &Value) -> String {
    w["spec"]["template"]["metadata"]["annotations"]["harbor-buildkit.dev/buildkitd-config-checksum"]
        .as_str()
        .expect("the checksum annotation")
        .to_string()
}

fn items_text(out: &str) -> &str {
    out.split("\nfunctionConfig:").next().unwrap_or(out)
}

/// The README's layout: the rootless Deployment and its Service in namespace
/// `buildkit`, the Task in `ci`.
#[test]
fn a_rootless_daemon_in_its_own_namespace_reads_the_file() {
    let items = vec![
        deployment(Mode::Rootless, "buildkit", &[]),
        service("buildkit"),
    ];
    let input = input(&items, &spec(""));
    let (out, outcome) = run(&input);
    // The ConfigMap goes to the daemon's namespace, not the Task's.
    let cm = common::find(&out, "ConfigMap", "buildkitd-config");
    assert_eq!(cm["metadata"]["namespace"], "buildkit");
    // Mounted where the rootless image reads it (HOME=/home/user), said with --config.
    let d = workload(&out, "Deployment");
    let (volume, path) = config_mount(d);
    assert_eq!(path, "/home/user/.config/buildkit");
    assert_eq!(volume["configMap"]["name"], "buildkitd-config");
    assert_eq!(volume["configMap"]["items"][0]["path"], "buildkitd.toml");
    assert!(args(d).contains(&"--config=/home/user/.config/buildkit/buildkitd.toml".to_string()));
    // The example's own volumes and flags stay.
    assert!(args(d).contains(&"--oci-worker-no-process-sandbox".to_string()));
    assert!(
        container(d)["volumeMounts"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["mountPath"] == "/certs"))
    );
    assert!(checksum(d).starts_with("sha256:"));
    // The Task dials the daemon's Service across namespaces.
    let task = common::find(&out, "Task", "buildkit-build");
    let host = task["spec"]["params"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "BUILDKIT_HOST"))
        .map(|p| p["default"].clone());
    assert_eq!(host, Some(Value::from("tcp://buildkitd.buildkit.svc:1234")));
    assert!(
        outcome
            .results
            .iter()
            .all(|r| r.severity != Severity::Error)
    );

    // A second run changes nothing.
    let second = common::run(&outcome.stdout);
    assert_eq!(second.exit_code, 0, "{}", second.stderr);
    assert_eq!(items_text(&outcome.stdout), items_text(&second.stdout));
}

#[test]
fn a_rootful_daemon_reads_etc_buildkit() {
    let items = vec![
        deployment(Mode::Privileged, "buildkit", &[]),
        service("buildkit"),
    ];
    let (out, _) = run(&input(&items, &spec("")));
    let d = workload(&out, "Deployment");
    assert_eq!(config_mount(d).1, "/etc/buildkit");
    assert!(args(d).contains(&"--config=/etc/buildkit/buildkitd.toml".to_string()));
}

#[test]
fn statefulsets_rootless_and_rootful() {
    for (mode, dir) in [
        (Mode::Rootless, "/home/user/.config/buildkit"),
        (Mode::Privileged, "/etc/buildkit"),
    ] {
        let items = vec![statefulset(mode, "buildkit")];
        let (out, outcome) = run(&input(&items, &spec("")));
        let s = workload(&out, "StatefulSet");
        assert_eq!(config_mount(s).1, dir, "{mode:?}");
        // The rootful example has no args at all: they are made.
        assert!(
            args(s).iter().any(|a| a.starts_with("--config=")),
            "{mode:?}"
        );
        let second = common::run(&outcome.stdout);
        assert_eq!(
            items_text(&outcome.stdout),
            items_text(&second.stdout),
            "{mode:?}"
        );
    }
}

#[test]
fn a_daemon_with_its_own_config_flag_gets_the_file_there() {
    let items = vec![
        deployment(
            Mode::Rootless,
            "buildkit",
            &["--config", "/etc/buildkit-ci/buildkitd.toml"],
        ),
        service("buildkit"),
    ];
    let (out, _) = run(&input(&items, &spec("")));
    let d = workload(&out, "Deployment");
    assert_eq!(config_mount(d).1, "/etc/buildkit-ci");
    assert_eq!(
        args(d).iter().filter(|a| a.contains("config")).count(),
        1,
        "{:?}",
        args(d)
    );
}

/// A daemon that already mounts a ConfigMap at its config path: that ConfigMap is the
/// one edited (kept name and key), and nothing is mounted twice.
#[test]
fn the_configmap_the_daemon_mounts_is_the_one_edited() {
    let mounted = deployment(Mode::Privileged, "buildkit", &[]).replace(
        "              - name: certs\n                readOnly: true\n                mountPath: /certs\n",
        "              - name: certs\n                readOnly: true\n                mountPath: /certs\n              - name: conf\n                mountPath: /etc/buildkit\n",
    )
    .replace(
        "          - name: certs\n            secret:\n",
        "          - name: conf\n            configMap:\n              name: team-buildkit\n              items:\n                - key: config.toml\n                  path: buildkitd.toml\n          - name: certs\n            secret:\n",
    );
    let cm = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: team-buildkit\n    namespace: buildkit\n  data:\n    config.toml: |\n      debug = true\n".to_string();
    let (out, _) = run(&input(&[mounted, cm], &spec("")));
    let edited = common::find(&out, "ConfigMap", "team-buildkit");
    let toml = edited["data"]["config.toml"].as_str().expect("the file");
    assert!(
        toml.contains("debug = true") && toml.contains(&format!("[registry.\"{REGISTRY}\"]")),
        "{toml}"
    );
    assert!(
        !out.iter()
            .any(|i| i["metadata"]["name"] == "buildkitd-config")
    );
    let d = workload(&out, "Deployment");
    assert!(!d.to_string().contains("harbor-buildkit-config"));
    assert!(checksum(d).starts_with("sha256:"));
}

#[test]
fn changing_a_toml_value_changes_the_checksum() {
    let items = vec![
        deployment(Mode::Rootless, "buildkit", &[]),
        service("buildkit"),
    ];
    let (a, _) = run(&input(&items, &spec("")));
    let (b, _) = run(&input(
        &items,
        &spec("mirrors: [mirror.buildkit.svc:5000]\n"),
    ));
    assert_ne!(
        checksum(workload(&a, "Deployment")),
        checksum(workload(&b, "Deployment"))
    );
}

/// No daemon: a kustomize generator gets the ConfigMap and a warning (on stderr, all
/// kustomize shows), a kpt package also a local-config mount patch, anything else an
/// error: nothing in the output would read the file.
#[test]
fn no_daemon_is_never_a_silent_exit_0() {
    // A transformer's or a hand-made input.
    let out = common::run(&input(&[], &spec("")));
    assert_eq!(out.exit_code, 1);
    let e = res::one(&out.results, Code::BuildkitNoDaemon);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(res::on(e), "ConfigMap ci/buildkitd-config");
    assert!(
        res::line(&out.stderr, Code::BuildkitNoDaemon).severity == Severity::Error,
        "{}",
        out.stderr
    );

    // A kustomize generator: the functionConfig is its only item.
    let fc = serde_json::json!({
        "apiVersion": "fn.harbor-buildkit.dev/v1alpha1",
        "kind": "HarborBuildkit",
        "metadata": {"name": "harbor-buildkit"},
        "spec": {"registry": REGISTRY, "scheme": "http", "namespace": "ci", "generate": ["buildkitdConfig", "task"]},
    });
    let generator = common::ResourceList::new()
        .resource(&fc)
        .spec("harbor-buildkit", &spec(""))
        .build();
    let (out, outcome) = run(&generator);
    assert!(
        out.iter()
            .any(|i| i["metadata"]["name"] == "buildkitd-config")
    );
    // A warning, on stderr too (all kustomize shows), on the generated ConfigMap.
    let w = res::line(&outcome.stderr, Code::BuildkitNoDaemon);
    assert_eq!(w.severity, Severity::Warning, "{}", outcome.stderr);
    assert!(
        w.is_on("ConfigMap ci/buildkitd-config"),
        "{}",
        outcome.stderr
    );

    // A kpt package: a local-config strategic-merge patch for the examples' Deployment.
    let kptfile =
        "- apiVersion: kpt.dev/v1\n  kind: Kptfile\n  metadata:\n    name: pkg\n".to_string();
    let (out, outcome) = run(&input(&[kptfile], &spec("")));
    let patch = common::find(&out, "Deployment", "buildkitd");
    assert_eq!(
        patch["metadata"]["annotations"]["config.kubernetes.io/local-config"],
        "true"
    );
    assert_eq!(config_mount(patch).1, "/home/user/.config/buildkit");
    let w = res::one(&outcome.results, Code::BuildkitNoDaemon);
    assert_eq!(
        w.severity,
        Severity::Warning,
        "{}",
        res::dump(&outcome.results)
    );
    // Where kpt keeps the patch: the file the user must edit to name their daemon. The
    // message is the only place the file is named, and naming it is the point.
    assert!(
        w.message.contains("buildkitd-mount-patch.yaml"),
        "{}",
        w.message
    );
    let second = common::run(&outcome.stdout);
    assert_eq!(items_text(&outcome.stdout), items_text(&second.stdout));
}

/// The mirror's own table carries its transport (util/resolver/resolver.go
/// `fillInsecureOpts(mirrorHost, m[mirrorHost], ...)`), and Harbor as a proxy cache is
/// the upstream's mirror with the project as its path (`newMirrorRegistryHost` maps it
/// to `/v2/<project>/...`): read back with a TOML parser, with BuildKit's keys only.
#[test]
fn mirrors_and_the_proxy_cache_preset_as_buildkit_reads_them() {
    let items = vec![deployment(Mode::Rootless, "buildkit", &[])];
    let extra = "mirrors: [\"http://mirror.buildkit.svc:5000\", \"https://mirror.gcr.io/cache\"]\nproxyCache: [docker.io=dockerhub, ghcr.io=ghcr]\n";
    let (out, _) = run(&input(&items, &spec(extra)));
    let cm = common::find(&out, "ConfigMap", "buildkitd-config");
    let text = cm["data"]["buildkitd.toml"].as_str().expect("the file");
    let doc: toml_edit::DocumentMut = text.parse().expect("TOML");
    let registry = doc["registry"].as_table_like().expect("[registry]");
    let keys = common::buildkit_examples::REGISTRY_KEYS;
    for (host, table) in registry.iter() {
        for (k, _) in table.as_table_like().expect("a table").iter() {
            assert!(
                keys.contains(&k),
                "registry.{host:?}.{k} is not a BuildKit key"
            );
        }
    }
    let list = |host: &str, key: &str| -> Vec<String> {
        registry
            .get(host)
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let flag = |host: &str, key: &str| {
        registry
            .get(host)
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_bool())
    };
    assert_eq!(
        list(REGISTRY, "mirrors"),
        ["mirror.buildkit.svc:5000", "mirror.gcr.io/cache"]
    );
    assert_eq!(flag("mirror.buildkit.svc:5000", "http"), Some(true));
    assert_eq!(
        flag("mirror.gcr.io", "http"),
        None,
        "an https mirror needs no table"
    );
    assert_eq!(
        list("docker.io", "mirrors"),
        [format!("{REGISTRY}/dockerhub")]
    );
    assert_eq!(list("ghcr.io", "mirrors"), [format!("{REGISTRY}/ghcr")]);
    // The Harbor mirror's transport is our own table's: http = true.
    assert_eq!(flag(REGISTRY, "http"), Some(true));
}

#[test]
fn a_proxy_cache_keeps_the_upstreams_other_mirrors() {
    let cm = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: buildkitd-config\n    namespace: buildkit\n  data:\n    buildkitd.toml: |\n      [registry.\"docker.io\"]\n        mirrors = [\"mirror.gcr.io\"]\n".to_string();
    let items = vec![deployment(Mode::Rootless, "buildkit", &[]), cm];
    let (out, outcome) = run(&input(&items, &spec("proxyCache: [docker.io=dockerhub]\n")));
    let text = common::find(&out, "ConfigMap", "buildkitd-config")["data"]["buildkitd.toml"]
        .as_str()
        .expect("the file")
        .to_string();
    assert!(
        text.contains(&format!(
            "mirrors = [\"{REGISTRY}/dockerhub\", \"mirror.gcr.io\"]"
        )),
        "{text}"
    );
    let second = common::run(&outcome.stdout);
    assert_eq!(items_text(&outcome.stdout), items_text(&second.stdout));
}

// ---------------------------------------------------------------------------------
// The checks

fn check(input: &str) -> harbor_buildkit_fn::Checked {
    harbor_buildkit_fn::check(input.as_bytes(), harbor_buildkit_fn::Judge::Planned)
}

/// With buildkitd.toml left out, the daemon in the input reads nothing at its config
/// path: it runs with BuildKit's defaults (https for the registry).
#[test]
fn a_daemon_that_mounts_no_config_is_an_error_for_an_http_registry() {
    let items = vec![deployment(Mode::Rootless, "buildkit", &[])];
    let spec = format!("registry: {REGISTRY}\nscheme: http\nnamespace: ci\ngenerate: [task]\n");
    let c = check(&input(&items, &spec));
    assert_eq!(c.exit_code, 1);
    let f = res::one(&c.results, Code::BuildkitConfigNotMounted);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(res::on(f), "Deployment buildkit/buildkitd");
    // Where the rootless daemon reads the file, which the message names for the fix.
    assert!(
        f.message
            .contains("/home/user/.config/buildkit/buildkitd.toml"),
        "{}",
        f.message
    );
}

/// The file the daemon really mounts is the one judged, wherever it lives: here one
/// with `insecure = true` and no `http = true` for a plain-HTTP registry.
#[test]
fn the_mounted_file_is_the_one_checked() {
    let mounted = deployment(Mode::Privileged, "buildkit", &[]).replace(
        "              - name: certs\n                readOnly: true\n                mountPath: /certs\n",
        "              - name: certs\n                readOnly: true\n                mountPath: /certs\n              - name: conf\n                mountPath: /etc/buildkit\n",
    )
    .replace(
        "          - name: certs\n            secret:\n",
        "          - name: conf\n            configMap:\n              name: legacy\n          - name: certs\n            secret:\n",
    );
    let cm = format!(
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: legacy\n    namespace: buildkit\n  data:\n    buildkitd.toml: |\n      [registry.\"{REGISTRY}\"]\n        insecure = true\n"
    );
    let spec = format!("registry: {REGISTRY}\nscheme: http\nnamespace: ci\ngenerate: [task]\n");
    let c = check(&input(&[mounted, cm], &spec));
    assert_eq!(c.exit_code, 1, "{:#?}", c.results);
    let f = res::one(&c.results, Code::BuildkitHttpMissing);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(res::on(f), "ConfigMap buildkit/legacy");
}

#[test]
fn a_ca_no_volume_provides_is_an_error_and_ca_secret_mounts_it() {
    let items = vec![deployment(Mode::Rootless, "buildkit", &[])];
    let base = format!(
        "registry: {REGISTRY}\nscheme: https\nnamespace: ci\ngenerate: [buildkitdConfig, task]\nca: [/etc/registry-ca/ca.crt]\n"
    );
    let out = common::run(&input(&items, &base));
    assert_eq!(out.exit_code, 1);
    let e = res::one(&out.results, Code::BuildkitCaNotMounted);
    assert_eq!(res::path(e), Some("spec.ca[0]"), "{e:#?}");
    assert_eq!(
        res::line(&out.stderr, Code::BuildkitCaNotMounted).severity,
        Severity::Error
    );
    // With the Secret named, it is mounted there.
    let (out, _) = run(&input(&items, &format!("{base}caSecret: harbor-ca\n")));
    let d = workload(&out, "Deployment");
    let mounted = container(d)["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["mountPath"] == "/etc/registry-ca"))
        .cloned();
    assert!(mounted.is_some(), "{d}");
    assert!(d.to_string().contains("\"secretName\":\"harbor-ca\""));
}

#[test]
fn a_buildkit_host_on_a_port_the_service_lacks_is_an_error() {
    let items = vec![
        deployment(Mode::Rootless, "buildkit", &[]),
        service("buildkit"),
    ];
    let c = check(&input(
        &items,
        &spec("buildkitHost: tcp://buildkitd.buildkit.svc:4321\n"),
    ));
    assert_eq!(c.exit_code, 1, "{:#?}", c.results);
    let e = res::one(&c.results, Code::TektonBuildkitHostService);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(res::on(e), "Task ci/buildkit-build");
    // A Service that is not there at all: a warning.
    let c = check(&input(
        &items,
        &spec("buildkitHost: tcp://other.buildkit.svc:1234\n"),
    ));
    let w = res::one(&c.results, Code::TektonBuildkitHostService);
    assert_eq!(w.severity, Severity::Warning, "{}", res::dump(&c.results));
}

#[test]
fn two_daemons_are_an_error_naming_both() {
    let rootful = statefulset(Mode::Privileged, "buildkit")
        .replace("name: buildkitd\n", "name: buildkitd-rootful\n");
    let items = vec![deployment(Mode::Rootless, "buildkit", &[]), rootful];
    let out = common::run(&input(&items, &spec("")));
    assert_eq!(out.exit_code, 1);
    let e = res::one(&out.results, Code::BuildkitAmbiguous);
    // The choice is the user's: the message names both, to choose from.
    for both in [
        "Deployment buildkit/buildkitd",
        "StatefulSet buildkit/buildkitd-rootful",
    ] {
        assert!(e.message.contains(both), "{}", e.message);
    }
    // Named, the one is wired.
    let (out, _) = run(&input(&items, &spec("buildkitDaemon: buildkitd-rootful\n")));
    let s = common::find(&out, "StatefulSet", "buildkitd-rootful");
    assert_eq!(config_mount(s).1, "/etc/buildkit");
}
