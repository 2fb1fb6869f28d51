//! The generated Task is one Tekton accepts: it validates against Tekton's own v1 CRD
//! schema (v1.15.0), obeys the rules the CRD cannot express, passes shellcheck, and
//! never pastes a param into its script.

mod common;

use common::{example, find, items, require, run, which};
use serde_json::Value;

fn generated_task(example_file: &str) -> Value {
    let out = run(&example(example_file));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    find(&items(&out.stdout), "Task", "buildkit-build").clone()
}

/// Tekton's Task CRD, kept in the repository (tests/fixtures/tekton/README.md says
/// where it comes from and how to refresh it).
const CRD: &str = "tests/fixtures/tekton/task-crd-v1.15.0.yaml";

/// The CRD's v1 schema, with unknown fields refused.
fn v1_schema() -> Value {
    let path = common::root().join(CRD);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{CRD}: {e}"));
    let tree = harbor_buildkit_fn::yaml::Tree::parse(&text).expect("CRD parses");
    let crd = tree
        .to_json(tree.root.expect("CRD is a document"))
        .expect("CRD converts");
    assert_eq!(crd["kind"], "CustomResourceDefinition", "{CRD}");
    assert_eq!(crd["metadata"]["name"], "tasks.tekton.dev", "{CRD}");
    let v1 = crd["spec"]["versions"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "v1"))
        .unwrap_or_else(|| panic!("{CRD} has no v1 version"))
        .clone();
    let mut schema = v1["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_object(), "{CRD}: v1 has no openAPIV3Schema");
    forbid_unknown_fields(&mut schema);
    schema
}

/// The API server prunes fields a structural schema does not name, silently: a typo in
/// a generated field would vanish. Make the schema say so instead.
fn forbid_unknown_fields(schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            let preserves = m
                .get("x-kubernetes-preserve-unknown-fields")
                .is_some_and(|v| v == true);
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserves
            {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in m.values_mut() {
                forbid_unknown_fields(v);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(forbid_unknown_fields),
        _ => {}
    }
}

#[test]
fn validates_against_tekton_v1_crd_schema() {
    let schema = v1_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for file in [
        "generator.yaml",
        "https-kpt-package.yaml",
        "configmap-function-config.yaml",
    ] {
        let task = generated_task(file);
        let errors: Vec<String> = validator
            .iter_errors(&task)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
    // And the check can fail: a misspelled field is caught.
    let mut bad = generated_task("generator.yaml");
    bad["spec"]["steps"][0]["scirpt"] = Value::String("x".into());
    assert!(!validator.is_valid(&bad));
}

#[test]
fn obeys_tekton_rules_the_schema_cannot_express() {
    let task = generated_task("generator.yaml");
    assert_eq!(task["apiVersion"], "tekton.dev/v1");
    let spec = &task["spec"];
    let steps = spec["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    let declared = |list: &str| -> Vec<String> {
        spec[list]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| p["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let params = declared("params");
    let workspaces = declared("workspaces");
    let results = declared("results");
    for step in steps {
        let name = step["name"].as_str().unwrap_or("");
        assert!(
            harbor_buildkit_fn::names::dns1123_label(name).is_ok(),
            "{name}"
        );
        assert!(step["image"].is_string());
        assert!(step.get("command").is_none() || step.get("script").is_none());
        for m in step["volumeMounts"].as_array().into_iter().flatten() {
            let path = m["mountPath"].as_str().unwrap_or("");
            assert!(
                !path.starts_with("/tekton/") || path.starts_with("/tekton/home"),
                "{path}"
            );
        }
        assert_eq!(step["securityContext"]["runAsNonRoot"], true);
        // Every $(params.X), $(workspaces.X...), $(results.X...) names something declared.
        let text = serde_json::to_string(step).unwrap_or_default();
        for (prefix, names) in [
            ("$(params.", &params),
            ("$(workspaces.", &workspaces),
            ("$(results.", &results),
        ] {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                assert!(names.contains(&name), "{prefix}{name} is not declared");
            }
        }
    }
    assert_eq!(
        params,
        [
            "IMAGE",
            "CONTEXT",
            "DOCKERFILE",
            "CACHE_IMAGE",
            "BUILDKIT_HOST",
            "EXTRA_ARGS"
        ]
    );
    assert_eq!(results, ["IMAGE_DIGEST", "IMAGE_URL"]);
    assert_eq!(spec["workspaces"][1]["name"], "dockerconfig");
    assert_eq!(spec["workspaces"][1]["readOnly"], true);
    assert!(
        spec["params"][0].get("default").is_none(),
        "IMAGE is required"
    );
}

#[test]
fn params_never_reach_the_script_text() {
    let task = generated_task("generator.yaml");
    let script = task["spec"]["steps"][0]["script"].as_str().expect("script");
    for var in [
        "$(params.",
        "$(workspaces.",
        "$(results.",
        "$(context.",
        "$(steps.",
    ] {
        assert!(
            !script.contains(var),
            "Tekton would paste {var}...) into the script:\n{script}"
        );
    }
    assert_eq!(script, harbor_buildkit_fn::tekton::task::SCRIPT);
}

#[test]
fn script_passes_shellcheck() {
    let dir = common::TempDir::new("shellcheck");
    let file = dir.join("build.sh");
    std::fs::write(&file, harbor_buildkit_fn::tekton::task::SCRIPT).expect("write script");
    common::assert_lint_clean("shellcheck", &["--shell=sh", "--severity=style"], &file);
}

/// The script's logic, run for real with a stub buildctl: the credentials are copied
/// under the name buildctl reads, the options are right for http, and the results
/// are written.
#[test]
fn script_copies_credentials_and_passes_the_right_options() {
    let Some(sh) = which("sh") else {
        require("sh", false);
        return;
    };
    let dir = common::TempDir::new("script");
    for d in ["bin", "src", "creds", "docker", "results"] {
        std::fs::create_dir_all(dir.join(d)).expect("dirs");
    }
    let digest = format!("sha256:{}", "a".repeat(64));
    let stub = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"{log}\"\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --metadata-file ]; then printf '{{\\n  \"containerimage.digest\": \"{digest}\"\\n}}' > \"$2\"; fi; shift; done\n",
        log = dir.join("args").display()
    );
    let buildctl = dir.join("bin/buildctl");
    std::fs::write(&buildctl, stub).expect("stub");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&buildctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(dir.join("creds/.dockerconfigjson"), "{\"auths\":{}}").expect("creds");

    let registry = "harbor-core.default.svc.cluster.local";
    let run_script = |image: &str, cache: &str, creds: &str| {
        std::process::Command::new(&sh)
            .arg("-c")
            .arg(harbor_buildkit_fn::tekton::task::SCRIPT)
            .arg("build.sh")
            .arg("--opt")
            .arg("build-arg:A=1")
            .env("PATH", common::tools::path_with(&[&dir.join("bin")]))
            .env("DOCKER_CONFIG", dir.join("docker"))
            .env("BUILDKIT_HOST", "tcp://buildkitd:1234")
            .env("IMAGE", image)
            .env("CONTEXT", ".")
            .env("DOCKERFILE", "./docker/Dockerfile")
            .env("CACHE_IMAGE", cache)
            .env("REGISTRY", registry)
            .env("REGISTRY_PLAIN_HTTP", "true")
            .env("SOURCE_DIR", dir.join("src"))
            .env("DOCKERCONFIG_DIR", dir.join(creds))
            .env("RESULT_IMAGE_DIGEST", dir.join("results/digest"))
            .env("RESULT_IMAGE_URL", dir.join("results/url"))
            .output()
            .expect("sh runs")
    };

    let image = format!("{registry}/library/app:1");
    let cache = format!("{registry}/library/app:cache");
    let out = run_script(&image, &cache, "creds");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("docker/config.json")).unwrap_or_default(),
        "{\"auths\":{}}"
    );
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args[0], "build");
    assert!(
        args.contains(
            &format!("type=image,name={image},push=true,registry.insecure=true").as_str()
        ),
        "{args:?}"
    );
    assert!(
        args.contains(&format!("type=registry,ref={cache},registry.insecure=true").as_str()),
        "{args:?}"
    );
    assert!(
        args.contains(
            &format!("type=registry,ref={cache},mode=max,registry.insecure=true").as_str()
        ),
        "{args:?}"
    );
    assert!(args.contains(&"filename=Dockerfile"), "{args:?}");
    assert_eq!(
        args[args.len() - 2..],
        ["--opt", "build-arg:A=1"],
        "EXTRA_ARGS come last"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("results/digest")).unwrap_or_default(),
        digest
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("results/url")).unwrap_or_default(),
        image
    );

    // Another registry gets no insecure flag; no cache means no cache options.
    let out = run_script("docker.io/library/app:1", "", "creds");
    assert!(out.status.success());
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    assert!(
        args.contains("type=image,name=docker.io/library/app:1,push=true\n"),
        "{args}"
    );
    assert!(!args.contains("cache"), "{args}");

    // A comma in IMAGE would smuggle in buildctl options: refused.
    let out = run_script(&format!("{image},push=false"), "", "creds");
    assert!(!out.status.success());

    // No credentials: a clear message, not a confusing 401 later.
    let out = run_script(&image, "", "src");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither .dockerconfigjson nor config.json")
    );
}

/// Keys BuildKit reads from a `[registry."host"]` table; anything else BuildKit would
/// ignore without a word.
use common::buildkit_examples::REGISTRY_KEYS;

#[test]
fn buildkitd_toml_parses_and_uses_only_keys_buildkit_knows() {
    for file in [
        "generator.yaml",
        "https-kpt-package.yaml",
        "configmap-function-config.yaml",
        "existing-buildkitd-toml.yaml",
    ] {
        let out = run(&example(file));
        let cm = find(&items(&out.stdout), "ConfigMap", "buildkitd-config").clone();
        let text = cm["data"]["buildkitd.toml"].as_str().expect("toml text");
        let doc: toml_edit::DocumentMut = text.parse().expect("toml parses");
        let registry = doc["registry"].as_table_like().expect("registry table");
        for (host, table) in registry.iter() {
            let table = table.as_table_like().expect("host table");
            for (key, _) in table.iter() {
                assert!(
                    REGISTRY_KEYS.contains(&key),
                    "{file}: registry.{host:?}.{key} is not a BuildKit key"
                );
            }
        }
        let ours = registry
            .get("harbor-core.default.svc.cluster.local")
            .or_else(|| registry.get("harbor.clusters.zjusct.io"))
            .or_else(|| registry.get("harbor-core.harbor.svc.cluster.local"))
            .and_then(|t| t.as_table_like())
            .expect("our table");
        let http = ours.get("http").and_then(|v| v.as_bool());
        let insecure = ours.get("insecure").and_then(|v| v.as_bool());
        assert!(
            !(http == Some(true) && insecure == Some(true)),
            "{file}: http and insecure together"
        );
    }
}

/// A clone tests itself: no test, benchmark or CI step reads a file outside the
/// repository (the Tekton CRD once came from a folder beside the clone).
#[test]
fn nothing_reads_outside_the_repository() {
    let root = common::root();
    assert!(root.join(CRD).is_file(), "{CRD} is committed");
    let mut stack = vec![
        root.join("tests"),
        root.join("src"),
        root.join("benches"),
        root.join("bench"),
        root.join(".ci"),
        root.join("examples/ci"),
    ];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                if !p.ends_with("snapshots") && !p.ends_with("fixtures") {
                    stack.push(p);
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                // The needles are split so that this file does not match itself.
                if line.contains(concat!("../", "shared"))
                    || line.contains(concat!("root().join(\"", ".."))
                {
                    offenders.push(format!("{}:{}: {line}", p.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "reads outside the clone:\n{}",
        offenders.join("\n")
    );
}
