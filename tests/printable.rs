//! Output that stays YAML: every character outside YAML 1.2's printable set (yaml/yaml-spec
//! spec/1.2.2/spec.md §5.1, `c-printable`) is written escaped, in generated values and
//! in results alike; and messages show the invisible characters they quote.
//!
//! A string holding U+FFFE once came back raw in a result's `currentValue`, in the realm
//! check's message and in a re-emitted `buildkitd.toml`, with exit 0: PyYAML and
//! ruamel.yaml then refused the whole output ("special characters are not allowed").

mod common;

use std::process::Command;

use common::results::{Code, line, one, values};
use common::tools::python_has;
use harbor_buildkit_fn::testing::{Tree, emit};
use serde_json::{Value, json};

/// YAML 1.2's printable set, as the spec writes it (not the crate's copy).
fn printable(c: char) -> bool {
    matches!(
        c as u32,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF
    )
}

fn assert_printable(text: &str) {
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !printable(c)) {
        let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
        panic!(
            "U+{:04X} written raw, at byte {at}: {:?}",
            c as u32,
            &text[from..at]
        );
    }
}

/// Every code point (a sample of them for a developer's `cargo test`: every 61st, and
/// every one of the ranges where YAML's rules change), as a value inside a line, alone,
/// as a key, and inside a multi-line value (where a literal block would be written if
/// it could hold the character): the output is printable, and the crate's own reader
/// reads back the same strings.
#[test]
fn every_code_point_is_written_printable_and_reads_back() {
    let interesting = |u: u32| {
        u <= 0x2FF
            || (0x2000..=0x206F).contains(&u)
            || (0xD7F0..=0xE010).contains(&u)
            || (0xFDD0..=0xFFFF).contains(&u)
            || u & 0xFFFF >= 0xFFFE
            || u >= 0x10FFF0
    };
    let all: Vec<char> = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
    let chars: Vec<char> = if common::sample::full() {
        all
    } else {
        let kept: Vec<char> = all
            .into_iter()
            .filter(|&c| interesting(c as u32) || c as u32 % 61 == 0)
            .collect();
        common::sample::note(&format!(
            "tests/printable.rs: {} of 1112064 code points (CI=true or FULL_TESTS=1 runs all of them)",
            kept.len()
        ));
        kept
    };
    for chunk in chars.chunks(4096) {
        let mut values = serde_json::Map::new();
        let mut keys = serde_json::Map::new();
        for &c in chunk {
            let n = c as u32;
            values.insert(format!("v{n}"), json!(format!("a{c}b")));
            values.insert(format!("o{n}"), json!(c.to_string()));
            values.insert(format!("m{n}"), json!(format!("line {c}\nnext\n")));
            keys.insert(format!("k{c}"), json!(n));
        }
        let v = json!({ "values": values, "keys": keys });
        let doc = emit::document(&v);
        assert_printable(&doc);
        let t = Tree::parse(&doc).unwrap_or_else(|e| panic!("{e}"));
        let back = t.to_json(t.root.expect("a root")).expect("JSON");
        assert_eq!(back, v, "from U+{:04X}", chunk[0] as u32);
    }
}

/// `example` (under examples/resource-lists) as JSON, with `change` applied, written
/// back by the crate's emitter (which escapes what it must).
fn changed_example(example: &str, change: impl Fn(&mut Value)) -> String {
    let mut v = common::parse_json(&common::example(example));
    change(&mut v);
    emit::document(&v)
}

fn item<'v>(v: &'v mut Value, kind: &str, name: &str) -> &'v mut Value {
    v["items"]
        .as_array_mut()
        .and_then(|items| {
            items
                .iter_mut()
                .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        })
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The three places the issue found a raw U+FFFE or U+FFFF: the CORE_URL patch's
/// `currentValue`, the realm check's message (which quotes CORE_URL and EXT_ENDPOINT),
/// and a `buildkitd.toml` that holds one (TOML allows it raw in a comment or a string;
/// a YAML block scalar cannot hold it, so the value is written double-quoted).
fn hostile_outputs() -> Vec<(&'static str, String)> {
    let chart = changed_example("harbor-chart.yaml", |v| {
        let cm = item(v, "ConfigMap", "harbor-core");
        cm["data"]["CORE_URL"] = json!("http://harbor-core:80\u{FFFE}");
        cm["data"]["EXT_ENDPOINT"] = json!("https://harbor.clusters.zjusct.io\u{FFFF}");
    });
    let toml = changed_example("existing-buildkitd-toml.yaml", |v| {
        let cm = item(v, "ConfigMap", "buildkitd-config");
        let text = cm["data"]["buildkitd.toml"]
            .as_str()
            .unwrap_or("")
            .to_string();
        cm["data"]["buildkitd.toml"] = json!(format!("# note \u{FFFE} and \u{FFFF}\n{text}"));
    });
    let mut out = Vec::new();
    for (name, input) in [("chart", chart), ("toml", toml)] {
        let o = common::run(&input);
        assert_eq!(o.exit_code, 0, "{name}: {}", o.stderr);
        out.push((name, o.stdout));
    }
    out
}

#[test]
fn generated_values_and_results_escape_non_printables() {
    let outputs = hostile_outputs();
    for (name, out) in &outputs {
        assert_printable(out);
        let t = Tree::parse(out).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(t.root.is_some());
    }
    // What the escapes stand for is what the input held.
    let chart = common::run(&changed_example("harbor-chart.yaml", |v| {
        item(v, "ConfigMap", "harbor-core")["data"]["CORE_URL"] =
            json!("http://harbor-core:80\u{FFFE}");
    }));
    let set = common::results::all(&chart.results, Code::HarborCoreUrlSet)
        .into_iter()
        .find(|r| common::results::path(r) == Some("data.CORE_URL"))
        .unwrap_or_else(|| panic!("no CORE_URL change: {}", chart.stderr));
    assert_eq!(values(set).0, Some("http://harbor-core:80\u{FFFE}"));
    let doc = common::parse_json(&outputs[1].1);
    let toml = common::find(
        doc["items"].as_array().expect("items"),
        "ConfigMap",
        "buildkitd-config",
    );
    assert!(
        toml["data"]["buildkitd.toml"]
            .as_str()
            .is_some_and(|t| t.starts_with("# note \u{FFFE} and \u{FFFF}\n")),
        "{toml}"
    );
}

const LOAD: &str = r#"
import sys
text = open(sys.argv[2], encoding="utf-8").read()
if sys.argv[1] == "yaml":
    import yaml
    doc = yaml.safe_load(text)
else:
    from ruamel.yaml import YAML
    doc = YAML(typ="safe", pure=True).load(text)
assert "\ufffe" in repr(doc) or "\\ufffe" in repr(doc), "U+FFFE lost"
"#;

/// PyYAML (YAML 1.1) and ruamel.yaml (1.2) read the whole output, and find the
/// character in it.
#[test]
fn python_readers_read_the_whole_output() {
    for (module, which) in [("yaml", "yaml"), ("ruamel.yaml", "ruamel")] {
        if !common::require(&format!("python3 with {module}"), python_has(module)) {
            continue;
        }
        let dir = common::TempDir::new("printable");
        for (name, out) in hostile_outputs() {
            let path = dir.write(&format!("{name}.yaml"), &out);
            let res = Command::new("python3")
                .args(["-c", LOAD, which])
                .arg(&path)
                .output()
                .expect("python3 runs");
            assert!(
                res.status.success(),
                "{module}, {name}: {}",
                String::from_utf8_lossy(&res.stderr)
            );
        }
    }
}

/// `kind: ResourceList` followed by U+2028 once read "found kind: ResourceList": the
/// message now shows what is there, in the result and on stderr.
#[test]
fn messages_show_invisible_characters() {
    let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\u{2028}\nitems: []\n";
    let o = common::run(input);
    assert_eq!(o.exit_code, 1);
    let r = one(&o.results, Code::InputNotResourceList);
    assert!(
        r.message.ends_with("found kind: ResourceList\\u{2028}"),
        "{}",
        r.message
    );
    let l = line(&o.stderr, Code::InputNotResourceList);
    assert!(l.rest.ends_with("ResourceList\\u{2028}"), "{}", l.rest);
    assert!(!o.stderr.contains('\u{2028}') && !o.stdout.contains('\u{2028}'));

    // A bidi override, a zero-width space and a BOM in a registry name: named escaped.
    for (raw, shown) in [
        ("harbor\u{202e}core", "harbor\\u{202e}core"),
        ("harbor\u{200b}-core", "harbor\\u{200b}-core"),
        ("\u{feff}harbor-core", "\\u{feff}harbor-core"),
    ] {
        let input = common::ResourceList::new()
            .spec_value("hb", json!({ "registry": raw }))
            .build();
        let o = common::run(&input);
        assert_eq!(o.exit_code, 1, "{raw:?}");
        let every = format!("{}{}", o.stderr, o.stdout);
        assert!(!every.contains(raw), "{raw:?} printed raw:\n{every}");
        assert!(
            o.results.iter().any(|r| r.message.contains(shown)),
            "{shown}: {}",
            o.stderr
        );
    }
}
