//! How the function describes itself to the tools around it: the functionConfig's
//! OpenAPI v3 schema and the `KRMFunctionDefinition` (KEP-2906) in krm-fn.yaml.
//!
//! Both are generated from [`crate::spec::Fields`] with schemars, then made
//! structural the way a CRD's `openAPIV3Schema` must be: every node typed, no `$ref`,
//! no `additionalProperties` beside `properties`, no `nullable` or extension keys the
//! API server would refuse.

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::spec::{self, Fields};

/// The spec's schema as schemars writes it, with our `x-default` notes kept (the
/// field table reads them).
pub fn spec_schema() -> Value {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let schema = generator.into_root_schema_for::<Fields>();
    let mut v = schema.to_value();
    if let Some(m) = v.as_object_mut() {
        m.remove("title");
        m.remove("$schema");
    }
    v
}

/// Makes a schemars schema structural (Kubernetes' rules for CRD schemas).
fn structural(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("x-default");
            m.remove("title");
            if m.get("nullable") == Some(&Value::Bool(true)) {
                m.remove("nullable");
            }
            if m.contains_key("properties") {
                m.remove("additionalProperties");
            }
            // Option<T> comes out as `type: [T, null]` in some settings: keep T.
            if let Some(Value::Array(types)) = m.get("type").cloned() {
                if let Some(t) = types.iter().find(|t| *t != "null") {
                    m.insert("type".into(), t.clone());
                }
            }
            // Doc comments wrap at 90 columns; a description is one paragraph.
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = d
                    .split("\n\n")
                    .map(|p| p.replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            for child in m.values_mut() {
                structural(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(structural),
        _ => {}
    }
}

/// The functionConfig's schema: a `HarborBuildkit` resource with the spec above,
/// usable as a CRD's `openAPIV3Schema`.
pub fn function_config_schema() -> Value {
    let mut spec = spec_schema();
    structural(&mut spec);
    json!({
        "type": "object",
        "description": format!(
            "{}: configures harbor-buildkit-fn, a KRM function that patches Harbor's core ConfigMap (CORE_URL, TOKEN_SERVICE_URL), writes buildkitd.toml for the registry, and generates a Tekton Task that builds and pushes with buildctl.",
            spec::KIND
        ),
        "required": ["apiVersion", "kind", "spec"],
        "properties": {
            "apiVersion": { "type": "string", "enum": [spec::API_VERSION] },
            "kind": { "type": "string", "enum": [spec::KIND] },
            "metadata": { "type": "object" },
            "spec": spec,
        },
    })
}

const GROUP: &str = "fn.harbor-buildkit.dev";

/// The container image's name: the one place it is written (krm-fn.yaml is generated
/// from it; tests check functions/, the README and .ci against it). Not published: it
/// names the image built locally from the Dockerfile. It carries a registry part
/// (`localhost/`) because kpt prefixes a name without one with `gcr.io/kpt-fn/`.
pub const IMAGE: &str = concat!("localhost/harbor-buildkit-fn:", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
harbor-buildkit-fn wires BuildKit in Tekton to a Harbor registry. From a HarborBuildkit
functionConfig it (1) sets CORE_URL and TOKEN_SERVICE_URL in Harbor's core ConfigMap to
<scheme>://<registry> when the realm needs it, and jobservice's CORE_URL to the same
string, so Harbor's Bearer realm carries the scheme and host BuildKit uses (patched in place when the ConfigMap is in the input, as a kustomize merge patch from a
generator, or as local config otherwise); (2) writes buildkitd.toml with the registry's
[registry.\"<host>\"] table (http = true for plain HTTP, ca for a private CA); (3) generates
a Tekton Task that copies the docker-registry Secret's .dockerconfigjson to
$DOCKER_CONFIG/config.json and runs buildctl build with push and registry-cache options.
Pass-through items leave byte for byte as they came. Every run also checks the result:
the realm Harbor will answer BuildKit with (Harbor's match and tokenSvcURL rules), a
jobservice CORE_URL that disagrees, buildkitd.toml tables that BuildKit would not use
as meant, and Tekton Tasks whose DOCKER_CONFIG is a Secret mount without config.json;
a finding that would fail a build is an error result. Run `harbor-buildkit-fn --help`
for the commands (`check` for the checks alone, `doctor` to probe a live registry) and
README.md for every field.
";

/// The KRMFunctionDefinition for krm-fn.yaml.
pub fn definition() -> Value {
    json!({
        "apiVersion": "config.kubernetes.io/v1alpha1",
        "kind": "KRMFunctionDefinition",
        "metadata": { "name": format!("harborbuildkits.{GROUP}") },
        "spec": {
            "group": GROUP,
            "names": { "kind": spec::KIND },
            "description": "Wires BuildKit in Tekton to a Harbor registry: Harbor's CORE_URL patch, buildkitd.toml, and a buildctl Task.",
            "publisher": "harbor-buildkit-fn",
            "tags": ["mutator", "generator", "harbor", "buildkit", "tekton"],
            "versions": [{
                "name": "v1alpha1",
                "schema": { "openAPIV3Schema": function_config_schema() },
                "idempotent": true,
                "usage": USAGE,
                // KEP-2906: URIs of READMEs, one example each (relative to this repository).
                "examples": [
                    "examples/kustomize/README.md",
                    "examples/kpt/README.md",
                    "examples/https/README.md",
                ],
                "license": "Apache 2.0",
                "runtime": {
                    "container": {
                        "image": IMAGE,
                        "requireNetwork": false,
                        "requireStorageMount": false,
                    },
                    "exec": {
                        "platforms": [
                            { "bin": "harbor-buildkit-fn", "os": "linux", "arch": "amd64" },
                        ],
                    },
                },
            }],
        },
    })
}

/// A schema (or any JSON value) as YAML, written as this function writes its resources.
pub fn yaml(value: &Value) -> String {
    crate::yaml::emit::document(value)
}

/// The definition as krm-fn.yaml holds it.
pub fn definition_yaml() -> String {
    let mut out = String::from(
        "# Generated by `harbor-buildkit-fn definition > krm-fn.yaml`; do not edit by hand.\n",
    );
    out.push_str(&crate::yaml::emit::document(&definition()));
    out
}

/// Keys of a schema node that `structural` would refuse, for tests.
pub fn non_structural_keys(v: &Value) -> Vec<String> {
    let mut found = Vec::new();
    fn walk(v: &Value, path: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for key in ["$ref", "nullable", "x-default", "additionalProperties"] {
                    // additionalProperties alone (a map type) is structural; beside
                    // properties it is not.
                    let allowed = key == "additionalProperties" && !m.contains_key("properties");
                    if m.contains_key(key) && !allowed {
                        found.push(format!("{path}.{key}"));
                    }
                }
                let is_schema = m.contains_key("properties") || m.contains_key("items");
                if is_schema && !m.contains_key("type") {
                    found.push(format!("{path}: no type"));
                }
                for (k, child) in m {
                    walk(child, &format!("{path}.{k}"), found);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, &format!("{path}[{i}]"), found);
                }
            }
            _ => {}
        }
    }
    walk(v, "", &mut found);
    found
}
