//! The function's self-description: the functionConfig schema and krm-fn.yaml.

mod common;

use harbor_buildkit_fn::describe;
use serde_json::Value;

#[test]
fn schema_is_structural_and_complete() {
    let schema = describe::function_config_schema();
    assert!(
        describe::non_structural_keys(&schema).is_empty(),
        "{:?}",
        describe::non_structural_keys(&schema)
    );
    assert!(
        !serde_json::to_string(&schema)
            .unwrap_or_default()
            .contains("$ref")
    );
    let spec = &schema["properties"]["spec"];
    assert_eq!(spec["required"], serde_json::json!(["registry"]));
    for (name, p) in spec["properties"].as_object().expect("properties") {
        assert!(
            p["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name} has no description"
        );
        // An int-or-string is typed by its two branches, as Kubernetes' structural
        // schemas write it (x-kubernetes-int-or-string).
        assert!(
            p["type"].is_string() || p["x-kubernetes-int-or-string"] == true,
            "{name} has no type"
        );
    }
    assert_eq!(
        spec["properties"]["scheme"]["enum"],
        serde_json::json!(["http", "https"])
    );
    assert_eq!(spec["properties"]["scheme"]["default"], "https");
    assert_eq!(
        spec["properties"]["generate"]["items"]["enum"],
        serde_json::json!(["harborCore", "buildkitdConfig", "task"])
    );
    assert_eq!(spec["properties"]["runAsUser"]["default"], 1000);
    assert_eq!(
        spec["properties"]["buildctlImage"]["default"],
        harbor_buildkit_fn::testing::DEFAULT_BUILDCTL_IMAGE
    );
}

/// The shipped functionConfigs validate against the schema; broken ones do not, and the
/// function rejects each broken one too, at the same field.
#[test]
fn schema_and_parser_agree() {
    let schema = describe::function_config_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for file in [
        "examples/kustomize/production/default/harbor-buildkit.yaml",
        "examples/kustomize/dev/harbor-buildkit.yaml",
        "examples/https/harbor-buildkit.yaml",
        "examples/kpt/ci-build/harbor-buildkit.yaml",
        "functions/harbor-buildkit.yaml",
    ] {
        let text = std::fs::read_to_string(common::root().join(file)).expect("read");
        let fc = common::parse_json(&text);
        let errors: Vec<String> = validator.iter_errors(&fc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
    for (spec, field) in [
        (r#"{"registry": 5}"#, "spec.registry"),
        (
            r#"{"registry": "h.ns.svc", "scheme": "ftp"}"#,
            "spec.scheme",
        ),
        (
            r#"{"registry": "h.ns.svc", "insecureSkipVerify": "yes"}"#,
            "spec.insecureSkipVerify",
        ),
        (
            r#"{"registry": "h.ns.svc", "generate": ["all"]}"#,
            "spec.generate[0]",
        ),
        (r#"{"registry": "Not A Host"}"#, "spec.registry"),
        (r#"{"scheme": "http"}"#, "spec.registry"),
    ] {
        let fc: Value = serde_json::from_str(&format!(
            r#"{{"apiVersion": "fn.harbor-buildkit.dev/v1alpha1", "kind": "HarborBuildkit", "metadata": {{"name": "x"}}, "spec": {spec}}}"#
        ))
        .expect("json");
        assert!(!validator.is_valid(&fc), "the schema accepts {spec}");
        let input = common::ResourceList::new()
            .function_config(&format!(
                "functionConfig: {}\n",
                serde_json::to_string(&fc).unwrap_or_default()
            ))
            .build();
        let out = common::run(&input);
        assert_eq!(out.exit_code, 1, "the function accepts {spec}");
        // Refused at the field the schema refuses.
        assert!(
            out.results
                .iter()
                .any(|r| r.field.as_ref().is_some_and(|f| f.path == field)),
            "{spec}: {}",
            out.stdout
        );
    }
}

/// krm-fn.yaml is what the code generates.
#[test]
fn krm_fn_yaml_is_up_to_date() {
    let committed = std::fs::read_to_string(common::root().join("krm-fn.yaml")).unwrap_or_default();
    assert!(
        committed == describe::definition_yaml(),
        "krm-fn.yaml is stale: regenerate it with `cargo run -q -- definition > krm-fn.yaml`"
    );
}

/// The fields KEP-2906's KRMFunctionDefinition schema requires.
#[test]
fn definition_has_what_kep_2906_requires() {
    let text = std::fs::read_to_string(common::root().join("krm-fn.yaml")).expect("krm-fn.yaml");
    let d = common::parse_json(&text);
    assert_eq!(d["apiVersion"], "config.kubernetes.io/v1alpha1");
    assert_eq!(d["kind"], "KRMFunctionDefinition");
    let spec = &d["spec"];
    for key in ["group", "description", "publisher"] {
        assert!(spec[key].is_string(), "spec.{key}");
    }
    assert_eq!(spec["names"]["kind"], "HarborBuildkit");
    let v = &spec["versions"][0];
    assert_eq!(v["name"], "v1alpha1");
    assert_eq!(v["idempotent"], true);
    assert_eq!(v["license"], "Apache 2.0");
    assert!(v["usage"].as_str().is_some_and(|u| u.contains("CORE_URL")));
    let examples = v["examples"].as_array().cloned().unwrap_or_default();
    assert!(!examples.is_empty());
    for e in examples {
        let path = e.as_str().unwrap_or("");
        assert!(
            common::root().join(path).is_file(),
            "example {path} does not exist"
        );
    }
    assert!(v["runtime"]["container"]["image"].is_string());
    assert_eq!(
        v["runtime"]["exec"]["platforms"][0]["bin"],
        "harbor-buildkit-fn"
    );
    assert_eq!(
        v["schema"]["openAPIV3Schema"],
        describe::function_config_schema()
    );
}
