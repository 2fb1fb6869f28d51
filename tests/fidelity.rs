//! Value fidelity: values that YAML 1.1 readers (PyYAML, old go-yaml) and YAML 1.2
//! readers disagree on, or that look like another type, pass through the function and
//! read back equal to the input's, with a YAML 1.1 reader (PyYAML) and a YAML 1.2
//! reader (ruamel.yaml), and with our own reader (Go yaml.v3's core schema); and
//! through a real `kustomize build` with the function as a transformer.

mod common;

use std::process::Command;

use common::require;
use common::tools::python_has;
use harbor_buildkit_fn::testing::emit;
use serde_json::{Value, json};

use common::TRICKY_VALUES as VALUES;

/// Resources holding every value in data, labels, annotations, keys and nested fields.
fn items() -> Vec<Value> {
    let map = |prefix: &str| -> serde_json::Map<String, Value> {
        VALUES
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{prefix}{i}"), json!(v)))
            .collect()
    };
    let keys: serde_json::Map<String, Value> = VALUES
        .iter()
        .enumerate()
        .map(|(i, v)| ((*v).to_string(), json!(format!("key-{i}"))))
        .collect();
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "values", "namespace": "ci", "labels": map("l"), "annotations": map("a")},
            "data": map("d"),
        }),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "keys"},
            "data": keys,
        }),
        json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "nested"},
            "spec": {"deep": {"list": VALUES, "map": map("m")}},
        }),
    ]
}

const FC: &str = "functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: hb}\n  spec: {registry: harbor-core.default.svc.cluster.local, namespace: ci, generate: [task]}\n";

/// The items written by our emitter (block) and as JSON (flow).
fn inputs() -> Vec<(&'static str, String)> {
    let mut block = common::ResourceList::new().function_config(FC);
    let mut flow = block.clone();
    for item in items() {
        block = block.resource(&item);
        // JSON leaves U+2028 raw, which YAML 1.1 readers take for a line break.
        flow = flow.item(&format!(
            "- {}\n",
            serde_json::to_string(&item)
                .unwrap_or_default()
                .replace('\u{2028}', "\\u2028")
        ));
    }
    vec![("block", block.build()), ("json", flow.build())]
}

const COMPARE: &str = r#"
import sys
which, before, after, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def load(path):
    text = open(path, encoding="utf-8").read()
    if which == "yaml1.1":
        import yaml
        return yaml.safe_load(text)
    from ruamel.yaml import YAML
    return YAML(typ="safe", pure=True).load(text)
a, b = load(before)["items"], load(after)["items"][:n]
bad = 0
for x, y in zip(a, b):
    if x != y:
        bad += 1
        print("differs:", repr(x)[:300], "\n   now:", repr(y)[:300])
for item in a:
    for k, v in (item.get("data") or {}).items():
        if item["metadata"]["name"] == "values" and not isinstance(v, str):
            bad += 1
            print("not a string in the input itself:", k, repr(v))
sys.exit(1 if bad else 0)
"#;

fn compare_with(reader: &str, module: &str) {
    if !require(&format!("python3 with {module}"), python_has(module)) {
        return;
    }
    let dir = common::TempDir::new(&format!("fidelity-{reader}"));
    for (style, input) in inputs() {
        let out = common::run(&input);
        assert_eq!(out.exit_code, 0, "{}", out.stderr);
        let (before, after) = (
            dir.join(format!("{style}-in.yaml")),
            dir.join(format!("{style}-out.yaml")),
        );
        std::fs::write(&before, &input).expect("write");
        std::fs::write(&after, &out.stdout).expect("write");
        let res = Command::new("python3")
            .args(["-c", COMPARE, reader])
            .arg(&before)
            .arg(&after)
            .arg(items().len().to_string())
            .output()
            .expect("python3 runs");
        assert!(
            res.status.success(),
            "{reader}, {style}: {}{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
}

#[test]
fn values_survive_for_a_yaml_1_1_reader() {
    compare_with("yaml1.1", "yaml");
}

#[test]
fn values_survive_for_a_yaml_1_2_reader() {
    compare_with("yaml1.2", "ruamel.yaml");
}

/// And for Go's yaml.v3 core schema, as our reader applies it: the output's items
/// read back as the values the inputs were written from (the JSON of `items()`, not
/// our reading of the input, so a resolver bug cannot cancel out), every one a string.
#[test]
fn values_survive_for_the_go_core_schema() {
    let want = items();
    for (style, input) in inputs() {
        let out = common::run(&input);
        let after = common::parse_json(&out.stdout)["items"].clone();
        for (i, item) in want.iter().enumerate() {
            assert_eq!(&after[i], item, "{style}");
        }
        for (k, v) in after[0]["data"].as_object().into_iter().flatten() {
            assert!(v.is_string(), "{style}: {k} = {v}");
        }
    }
}

/// Through a real kustomize, the function as a transformer: every resource leaves
/// kustomize exactly as it does without the function.
#[test]
fn values_survive_a_real_kustomize_build() {
    let Some(kz) = common::kustomize_or_skip() else {
        return;
    };
    let dir = common::TempDir::new("fidelity-kz");
    std::fs::create_dir_all(dir.join("plain")).expect("dir");
    std::fs::create_dir_all(dir.join("with-fn")).expect("dir");
    // kustomize cannot round-trip an empty key or a key holding U+2028 through its own
    // function protocol even with `cat` as the function: those keys are left out here.
    let mut resources = String::new();
    for mut item in items() {
        if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
            data.retain(|k, _| !k.is_empty() && !k.contains('\u{2028}'));
        }
        resources.push_str("---\n");
        resources.push_str(&emit::document(&item));
    }
    for d in ["plain", "with-fn"] {
        std::fs::write(dir.join(d).join("resources.yaml"), &resources).expect("write");
    }
    std::fs::write(
        dir.join("plain/kustomization.yaml"),
        "resources:\n- resources.yaml\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("with-fn/kustomization.yaml"),
        "resources:\n- resources.yaml\ntransformers:\n- fn.yaml\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("with-fn/fn.yaml"),
        "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata:\n  name: hb\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: harbor-buildkit-fn\nspec:\n  registry: harbor-core.default.svc.cluster.local\n  namespace: ci\n  generate: [task]\n",
    )
    .expect("write");
    let path = common::tools::path_with_fn();
    let build = |d: &str| {
        let out = Command::new(&kz)
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(dir.join(d))
            .env("PATH", &path)
            .output()
            .expect("kustomize runs");
        assert!(
            out.status.success(),
            "{d}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plain = build("plain");
    let with_fn = build("with-fn");
    // The Task is the only addition. (kustomize's key order within a mapping can differ
    // between the two runs even with `cat` as the function, so documents are compared
    // as values, read by the same reader, not as text.)
    let docs = |s: &str| -> Vec<Value> {
        s.split("\n---\n")
            .map(common::parse_json)
            .filter(|d| d["kind"] != "Task")
            .collect()
    };
    let (plain, with) = (docs(&plain), docs(&with_fn));
    assert_eq!(plain.len(), with.len());
    for (a, b) in plain.iter().zip(&with) {
        assert_eq!(a, b, "kustomize's output differs with the function");
    }
    let values = plain
        .iter()
        .find(|d| d["metadata"]["name"] == "values")
        .expect("values");
    for (k, v) in values["data"].as_object().into_iter().flatten() {
        assert!(v.is_string(), "{k} = {v} after kustomize");
    }
}

/// Injection through the spec is refused per output channel, with an error naming the
/// field: the Task (env values), the TOML, and the YAML.
#[test]
fn injection_attempts_are_refused_in_every_channel() {
    let attempts: &[(&str, &str, &str)] = &[
        // The Task: values that reach the step's env and args.
        (
            "buildkitHost",
            "\"tcp://buildkitd:1234\\\"; rm -rf / #\"",
            "spec.buildkitHost",
        ),
        (
            "buildkitHost",
            "\"tcp://$(curl evil)\"",
            "spec.buildkitHost",
        ),
        (
            "buildctlImage",
            "\"moby/buildkit`id`\"",
            "spec.buildctlImage",
        ),
        (
            "registry",
            "\"harbor.ns.svc\\nREGISTRY_PLAIN_HTTP=false\"",
            "spec.registry",
        ),
        // The TOML: values that reach buildkitd.toml.
        (
            "ca",
            "[\"/certs/ca.pem\\\"]\\n[registry.\\\"evil\\\"]\"]",
            "spec.ca[0]",
        ),
        ("ca", "[\"/certs/ca.pem\\\"\\\"\\\"\"]", "spec.ca[0]"),
        (
            "mirrors",
            "[\"mirror.example.com\\\"]\"]",
            "spec.mirrors[0]",
        ),
        (
            "mirrors",
            "[\"m.example.com # comment\"]",
            "spec.mirrors[0]",
        ),
        (
            "registry",
            "\"harbor.ns.svc\\\"]\\nhttp = true #\"",
            "spec.registry",
        ),
        // The YAML: values that reach generated resources' names and text.
        ("namespace", "\"ci\\nkind: Secret\"", "spec.namespace"),
        ("taskName", "\"x: {y: z}\"", "spec.taskName"),
        ("buildkitConfigMap", "\"a'b\"", "spec.buildkitConfigMap"),
    ];
    for (field, value, path) in attempts {
        let others = if *field == "registry" {
            "scheme: https\nharborNamespace: harbor"
        } else {
            "registry: harbor-core.default.svc"
        };
        let input = common::ResourceList::new()
            .spec("x", &format!("{others}\n{field}: {value}"))
            .build();
        let out = common::run(&input);
        assert_eq!(
            out.exit_code, 1,
            "{field}: {value} was accepted:\n{}",
            out.stdout
        );
        assert!(out.stdout.contains("items: []"), "{field}");
        // Refused at the field it was written in.
        assert!(
            out.results
                .iter()
                .any(|r| r.field.as_ref().is_some_and(|f| f.path == *path)),
            "{field}: {value}: no error at {path}:\n{}",
            out.stderr
        );
        assert!(!out.stdout.contains("kind: Task"), "{field}");
    }
}
