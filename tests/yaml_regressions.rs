//! The YAML layer's promises, one test per way they were once broken (issue #16):
//! edits correct in every style YAML allows (flow mappings with trailing commas,
//! anchors, aliases across items), every comment in place, and only resources read.
//! Outputs are read back with PyYAML, a reader that is not this project's, where it
//! is installed (`SKIPPED` otherwise; required under CI=true).

mod common;

use common::results::{self as res, Code};
use common::tools::python_has;
use harbor_buildkit_fn::{FnResult, Severity};
use serde_json::Value;

const FC: &str = "functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: hb}\n  spec: {registry: harbor-core.default.svc.cluster.local, scheme: http, namespace: ci, harborConfigMap: harbor-core, harborNamespace: default, generate: [harborCore]}\n";
const CORE_URL: &str = "http://harbor-core.default.svc.cluster.local";
const TOKEN_URL: &str = "http://harbor-core.default.svc.cluster.local/service/token";

fn list(items: &str) -> String {
    common::ResourceList::new()
        .items_raw(items)
        .function_config(FC)
        .build()
}

/// `yaml` as PyYAML reads it (JSON-converted), or `None` (and SKIPPED) without it.
/// Panics when PyYAML refuses it: the output must be YAML any reader accepts.
fn pyyaml(yaml: &str) -> Option<Value> {
    if !common::require("python3 with PyYAML", python_has("yaml")) {
        return None;
    }
    let dir = common::TempDir::new("yaml-regressions");
    let path = dir.write("doc.yaml", yaml);
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), default=str))",
        ])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "PyYAML refuses the output: {}\n{yaml}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON"))
}

fn ok(input: &str) -> String {
    let out = common::run(input);
    assert_eq!(out.exit_code, 0, "{}\n{}", out.stderr, out.stdout);
    out.stdout
}

/// Exit 1, no items, and one error, of `code`, which stderr prints as its line.
fn refused(input: &str, code: Code) -> FnResult {
    let out = common::run(input);
    assert_eq!(out.exit_code, 1, "accepted:\n{}", out.stdout);
    assert!(out.stdout.contains("items: []\n"), "{}", out.stdout);
    assert_eq!(res::codes(&out.results), [code], "{}", out.stderr);
    assert_eq!(res::line_codes(&out.stderr), [(Severity::Error, code)]);
    out.results[0].clone()
}

/// What a refusal must name for the user to find the place: the anchor, the alias and
/// its line, the line of the input. No field holds them; the message does.
fn names(e: &FnResult, places: &[&str]) {
    for p in places {
        assert!(e.message.contains(p), "{p:?} unnamed: {}", e.message);
    }
}

fn item<'v>(doc: &'v Value, name: &str) -> &'v Value {
    doc["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["metadata"]["name"] == name))
        .unwrap_or_else(|| panic!("no item {name} in {doc}"))
}

#[test]
fn a_flow_mapping_with_a_trailing_comma_is_patched_in_place() {
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data: {EXT_ENDPOINT: \"https://harbor.example.com\", CORE_URL: \"http://harbor-core:80\", }\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: harbor-core, namespace: default}\n  spec:\n    template:\n      metadata:\n        annotations: {x: y, }\n      spec:\n        containers:\n        - {name: core, image: \"goharbor/harbor-core:v2.13.1\"}\n",
    );
    let out = ok(&input);
    assert!(
        out.contains(&format!(
            "  data: {{EXT_ENDPOINT: \"https://harbor.example.com\", CORE_URL: \"{CORE_URL}\", TOKEN_SERVICE_URL: \"{TOKEN_URL}\", }}\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "        annotations: {x: y, harbor-buildkit.dev/core-config-checksum: \"sha256:"
        ),
        "{out}"
    );
    assert!(!out.contains(",,"), "{out}");
    // Several lines, a comment, a key without a value: still one valid mapping.
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data: {\n    EXT_ENDPOINT: \"https://harbor.example.com\", # external\n    EMPTY,\n  }\n",
    );
    let out = ok(&input);
    if let Some(v) = pyyaml(&out) {
        let data = &item(&v, "harbor-core")["data"];
        assert_eq!(data["CORE_URL"], CORE_URL);
        assert_eq!(data["TOKEN_SERVICE_URL"], TOKEN_URL);
        assert_eq!(data["EMPTY"], Value::Null);
        assert_eq!(data["EXT_ENDPOINT"], "https://harbor.example.com");
    }
    assert!(out.contains("# external"), "{out}");
}

#[test]
fn an_anchor_on_a_patched_value_is_refused_naming_it() {
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data:\n    CORE_URL: &core \"http://harbor-core:80\"\n    LEGACY_URL: *core\n",
    );
    let e = refused(&input, Code::InputNotEditable);
    assert_eq!(res::on(&e), "ConfigMap default/harbor-core");
    assert_eq!(res::path(&e), Some("data.CORE_URL"));
    names(&e, &["&core", "*core on line 9"]);
    // An anchor nothing reads stays on the new value.
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data:\n    CORE_URL: &core \"http://harbor-core:80\" # chart default\n",
    );
    let out = ok(&input);
    assert!(
        out.contains(&format!(
            "    CORE_URL: &core \"{CORE_URL}\" # chart default\n"
        )),
        "{out}"
    );
    if let Some(v) = pyyaml(&out) {
        assert_eq!(item(&v, "harbor-core")["data"]["CORE_URL"], CORE_URL);
    }
}

#[test]
fn an_alias_shared_across_items_is_refused_not_changed() {
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data: &d\n    CORE_URL: \"http://harbor-core:80\"\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: other, namespace: default}\n  data: *d\n",
    );
    let e = refused(&input, Code::InputNotEditable);
    assert_eq!(res::on(&e), "ConfigMap default/harbor-core");
    assert_eq!(res::path(&e), Some("data"));
    names(&e, &["&d", "*d on line 12"]);
    // An alias to another item's anchor where nothing is edited: read across items.
    let input = list(
        "items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data:\n    CORE_URL: \"http://harbor-core:80\"\n    EXT_ENDPOINT: &ext https://harbor.example.com\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-jobservice, namespace: default}\n  data: {EXT: *ext}\n",
    );
    let out = ok(&input);
    assert!(out.contains("  data: {EXT: *ext}\n"), "{out}");
    if let Some(v) = pyyaml(&out) {
        assert_eq!(
            item(&v, "harbor-jobservice")["data"]["EXT"],
            "https://harbor.example.com"
        );
        assert_eq!(item(&v, "harbor-core")["data"]["CORE_URL"], CORE_URL);
    }
}

#[test]
fn an_item_that_aliases_an_anchor_elsewhere_is_still_patched() {
    // The harbor-core ConfigMap reads its labels from the Deployment: its re-read on
    // its own fails, the whole-document one does not.
    let input = list(
        "items:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: harbor-core\n    namespace: default\n    labels: &labels {app: harbor}\n  spec: {template: {spec: {containers: [{name: core, image: \"goharbor/harbor-core:v2.13.1\"}]}}}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: harbor-core\n    namespace: default\n    labels: *labels\n  data:\n    CORE_URL: \"http://harbor-core:80\"\n",
    );
    let run = common::run(&input);
    assert_eq!(run.exit_code, 0, "{}", run.stderr);
    let out = run.stdout;
    assert!(out.contains("    labels: *labels\n"), "{out}");
    // The checks read the patched item through the same fallback: the realm works,
    // by the CORE_URL written over the chart's.
    let realm = res::one(&run.results, Code::HarborRealmWorks);
    assert_eq!(res::on(realm), "ConfigMap default/harbor-core");
    assert_eq!(
        res::values(realm),
        (Some("http://harbor-core:80"), Some(CORE_URL)),
        "{realm:#?}"
    );
    if let Some(v) = pyyaml(&out) {
        let cm = v["items"][1].clone();
        assert_eq!(cm["data"]["CORE_URL"], CORE_URL);
        assert_eq!(cm["metadata"]["labels"]["app"], "harbor");
    }
}

#[test]
fn an_alias_in_the_function_config_to_an_item_anchor_is_read() {
    let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: other, namespace: default}\n  data:\n    reg: &reg harbor-core.default.svc.cluster.local\nfunctionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: hb}\n  spec: {registry: *reg, scheme: http, namespace: ci, generate: [task]}\n";
    let out = ok(input);
    assert!(out.contains("kind: Task"), "{out}");
    // A problem in the functionConfig is placed by the input's lines.
    let dup = input.replace(
        "  kind: HarborBuildkit\n",
        "  kind: HarborBuildkit\n  kind: X\n",
    );
    let e = refused(&dup, Code::InputNotYaml);
    names(&e, &["line 11"]);
}

#[test]
fn a_function_config_before_the_items_stays_before_them() {
    let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: hb}\n  spec: {registry: &reg harbor-core.default.svc.cluster.local, scheme: http, namespace: ci, generate: [task]}\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: other, namespace: default}\n  data:\n    reg: *reg\n";
    let out = ok(input);
    let fc = out.find("functionConfig:").expect("functionConfig");
    let items = out.find("\nitems:").expect("items");
    assert!(fc < items, "{out}");
    if let Some(v) = pyyaml(&out) {
        assert_eq!(
            item(&v, "other")["data"]["reg"],
            "harbor-core.default.svc.cluster.local"
        );
    }
}

#[test]
fn comments_between_items_and_after_the_dash_stay_in_place() {
    let items = "items:\n# before the first item\n- # after the dash\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    K: v # trailing\n  # indented, after the item\n# between items\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: harbor-core, namespace: default}\n  data:\n    CORE_URL: \"http://harbor-core:80\" # chart default, see TICKET-123\n    EMPTY: # nothing yet\n# after the last item\n";
    let out = ok(&format!("# a header\n{}", list(items)));
    assert!(out.starts_with("# a header\n"), "{out}");
    let patched = items.replace(
        "    EMPTY: # nothing yet\n",
        &format!("    EMPTY: # nothing yet\n    TOKEN_SERVICE_URL: {TOKEN_URL}\n"),
    );
    let patched = patched.replace("http://harbor-core:80", CORE_URL);
    assert!(out.contains(&patched), "want\n{patched}\nin\n{out}");
}

#[test]
fn run_keeps_a_helm_stream_s_separators_and_comments() {
    let dir = common::TempDir::new("yaml-run");
    let chart = "---\n# Source: harbor/templates/core/core-cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harbor-core\n  namespace: default\ndata:\n  EXT_ENDPOINT: \"https://harbor.example.com\"\n  CORE_URL: \"http://harbor-core:80\" # chart default, see TICKET-123\n---\n# Source: harbor/templates/other.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  E: # empty\n";
    let res = dir.write("chart/all.yaml", chart);
    let fc = dir.write(
        "fn.yaml",
        "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata: {name: hb}\nspec: {registry: harbor-core.default.svc.cluster.local, scheme: http, namespace: ci, harborConfigMap: harbor-core, harborNamespace: default, generate: [harborCore]}\n",
    );
    let (code, out, err) =
        common::run_bin(&["run", &fc.to_string_lossy(), &res.to_string_lossy()], b"");
    assert_eq!(code, 0, "{err}");
    let want = chart.replace(
        "\"http://harbor-core:80\" # chart default, see TICKET-123\n",
        &format!(
            "\"{CORE_URL}\" # chart default, see TICKET-123\n  TOKEN_SERVICE_URL: {TOKEN_URL}\n"
        ),
    );
    assert_eq!(out, want);
}

#[test]
fn run_reads_only_resources() {
    let dir = common::TempDir::new("yaml-run-dir");
    dir.write(
        "pkg/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n",
    );
    dir.write("pkg/kustomization.yaml", "resources: [cm.yaml]\n");
    dir.write(
        "pkg/Kptfile",
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: {name: pkg}\n",
    );
    let fc = dir.write(
        "pkg/fn.yaml",
        "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata: {name: hb}\nspec: {registry: harbor-core.default.svc.cluster.local, namespace: ci, generate: [task]}\n",
    );
    let pkg = dir.join("pkg");
    let (code, out, err) =
        common::run_bin(&["run", &fc.to_string_lossy(), &pkg.to_string_lossy()], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("resources:"),
        "kustomization.yaml read:\n{out}"
    );
    assert!(
        !out.contains("kind: HarborBuildkit"),
        "the functionConfig read:\n{out}"
    );
    assert!(!out.contains("kind: Kptfile"), "{out}");
    assert!(
        out.contains("name: other") && out.contains("kind: Task"),
        "{out}"
    );
    // A document that is not a resource is an error, with its file and line.
    dir.write("pkg/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: ConfigMap\nmetadata: {name: x}\n");
    let (code, _, err) =
        common::run_bin(&["run", &fc.to_string_lossy(), &pkg.to_string_lossy()], b"");
    assert_eq!(code, 1);
    let line = res::line(&err, Code::FileNotResource);
    // With its file and line: the file and the line the document starts on.
    assert!(line.rest.contains("bad.yaml, line 5"), "{err}");
}

#[test]
fn items_must_be_resources() {
    for (items, field) in [
        ("items:\n- {}\n", "items[0].apiVersion"),
        (
            "items:\n- kind: ConfigMap\n  metadata: {name: x}\n",
            "items[0].apiVersion",
        ),
        (
            "items:\n- apiVersion: v1\n  kind: ConfigMap\n",
            "items[0].metadata",
        ),
        (
            "items:\n- apiVersion: v1\n  kind: 5\n  metadata: {}\n",
            "items[0].kind",
        ),
    ] {
        let e = refused(&list(items), Code::InputItemNotResource);
        assert_eq!(res::path(&e), Some(field), "{items}");
    }
}
