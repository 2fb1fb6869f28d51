//! Every generated Task is one that each Tekton release from its own
//! `tekton.dev/pipelines.minVersion` on accepts: every field is a field of the Go type
//! that release's admission webhook decodes it into (strictly: an unknown field is
//! refused, `json: unknown field "appArmorProfile"`), and no value needs a feature flag
//! the release leaves off. The releases and their types are data read from
//! tektoncd/pipeline at each tag: `tests/fixtures/tekton/versions.tsv`, `fields.tsv`,
//! `gates.tsv` (their README says how).
//!
//! With Tekton's own validation built from its source (`HBFN_TEKTON_VALIDATORS`, a
//! folder of `<tag>/validate-task`; never in CI), each release also judges the Tasks
//! itself.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::modes::every_mode;
use serde_json::Value;

type Tag = (u32, u32, u32);

/// `v0.50.0` or `0.50.0`.
fn tag(s: &str) -> Tag {
    let mut p = s
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or_else(|e| panic!("{s}: {e}")));
    let t = (
        p.next().expect("major"),
        p.next().expect("minor"),
        p.next().unwrap_or(0),
    );
    assert!(p.next().is_none(), "{s}");
    t
}

/// The data lines of a fixture, split at tabs.
fn rows(name: &str) -> Vec<Vec<String>> {
    let path = common::root().join("tests/fixtures/tekton").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The releases of versions.tsv, in order.
fn releases() -> Vec<(String, Tag)> {
    let releases: Vec<(String, Tag)> = rows("versions.tsv")
        .into_iter()
        .map(|r| (r[0].clone(), tag(&r[0])))
        .collect();
    assert!(
        releases.windows(2).all(|w| w[0].1 < w[1].1),
        "versions.tsv is in release order"
    );
    releases
}

/// The fields of struct `name` at release `at` (fields.tsv).
struct Fields(Vec<(String, Tag, Tag, BTreeSet<String>)>);

impl Fields {
    fn load() -> Fields {
        Fields(
            rows("fields.tsv")
                .into_iter()
                .map(|r| {
                    let fields = r[3].split(',').map(str::to_string).collect();
                    (r[0].clone(), tag(&r[1]), tag(&r[2]), fields)
                })
                .collect(),
        )
    }

    fn of(&self, name: &str, at: Tag) -> &BTreeSet<String> {
        self.0
            .iter()
            .find(|(n, first, last, _)| n == name && *first <= at && at <= *last)
            .map(|(_, _, _, f)| f)
            .unwrap_or_else(|| panic!("fields.tsv has no {name} at {at:?}"))
    }
}

/// The struct of field `key` of struct `of` (of its elements, for a list), for the
/// fields that hold objects; `None` for a field that holds scalars.
fn child(of: &str, key: &str) -> Option<&'static str> {
    Some(match (of, key) {
        ("TaskSpec", "params") => "ParamSpec",
        ("TaskSpec", "workspaces") => "WorkspaceDeclaration",
        ("TaskSpec", "results") => "TaskResult",
        ("TaskSpec", "steps") => "Step",
        ("TaskSpec", "volumes") => "Volume",
        ("Step", "env") => "EnvVar",
        ("Step", "volumeMounts") => "VolumeMount",
        ("Step", "securityContext") => "SecurityContext",
        ("SecurityContext", "capabilities") => "Capabilities",
        ("SecurityContext", "seccompProfile") => "SeccompProfile",
        ("SecurityContext", "appArmorProfile") => "AppArmorProfile",
        ("Volume", "emptyDir") => "EmptyDirVolumeSource",
        ("Volume", "configMap") => "ConfigMapVolumeSource",
        ("ConfigMapVolumeSource", "items") => "KeyToPath",
        _ => return None,
    })
}

/// Whether `v` holds an object (itself, or as a list's element).
fn holds_objects(v: &Value) -> bool {
    v.is_object() || v.as_array().is_some_and(|a| a.iter().any(Value::is_object))
}

/// Every field of `v` (a `name` struct at `path`) that release `at` does not decode.
fn unknown(v: &Value, name: &str, path: &str, at: Tag, fields: &Fields, out: &mut Vec<String>) {
    let Some(map) = v.as_object() else {
        panic!("{path}: {name} is not an object: {v}");
    };
    let known = fields.of(name, at);
    for (key, value) in map {
        let here = format!("{path}.{key}");
        if !known.contains(key) {
            out.push(here);
            continue;
        }
        // A param's default is a value of any shape (ParamValue).
        if name == "ParamSpec" && key == "default" {
            continue;
        }
        match child(name, key) {
            Some(c) => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        unknown(item, c, &format!("{here}[{i}]"), at, fields, out);
                    }
                }
                _ => unknown(value, c, &here, at, fields, out),
            },
            None => assert!(
                !holds_objects(value),
                "{here} holds objects: map {name}.{key} to the struct of fields.tsv that decodes them"
            ),
        }
    }
}

/// The Task's declared minimum Tekton release.
fn min_version(task: &Value) -> Tag {
    let v = task["metadata"]["annotations"]["tekton.dev/pipelines.minVersion"]
        .as_str()
        .expect("tekton.dev/pipelines.minVersion");
    tag(v)
}

/// What release `at` refuses of `task`'s fields.
fn refused(task: &Value, at: Tag, fields: &Fields) -> Vec<String> {
    let mut out = Vec::new();
    unknown(&task["spec"], "TaskSpec", "spec", at, fields, &mut out);
    out
}

#[test]
fn every_mode_decodes_in_every_tekton_release_from_its_min_version() {
    let releases = releases();
    let fields = Fields::load();
    for (mode, task) in every_mode() {
        let min = min_version(&task);
        assert!(
            releases[0].1 <= min,
            "{mode}: minVersion {min:?} is older than versions.tsv reaches"
        );
        for (name, at) in releases.iter().filter(|(_, at)| *at >= min) {
            let refused = refused(&task, *at, &fields);
            assert!(
                refused.is_empty(),
                "{mode}: Tekton {name} refuses {refused:?} (tests/fixtures/tekton/fields.tsv)"
            );
        }
    }
}

/// The check can fail: the daemonless Task as it was (AppArmor as the securityContext
/// field) is refused by every release before v0.69.0, though it declared v0.50.0.
#[test]
fn the_apparmor_field_is_refused_before_tekton_0_69() {
    let fields = Fields::load();
    let mut task = every_mode()
        .into_iter()
        .find(|(m, _)| m == "daemonless")
        .expect("daemonless")
        .1;
    task["spec"]["steps"][0]["securityContext"]["appArmorProfile"] =
        serde_json::json!({ "type": "Unconfined" });
    for (name, at) in releases() {
        let refused = refused(&task, at, &fields);
        if at < (0, 69, 0) {
            assert_eq!(
                refused,
                ["spec.steps[0].securityContext.appArmorProfile"],
                "{name}"
            );
        } else {
            assert!(refused.is_empty(), "{name}: {refused:?}");
        }
    }
}

/// The uses in `task` of gates.tsv's `path` (`spec.params[].enum`) with `value` (`*`:
/// any), as the paths found.
fn uses(task: &Value, path: &str, value: &str) -> Vec<String> {
    let mut found = vec![(String::from("spec"), &task["spec"])];
    for part in path.trim_start_matches("spec.").split('.') {
        let (key, list) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        found = found
            .into_iter()
            .flat_map(|(p, v)| match v.get(key) {
                Some(Value::Array(a)) if list => a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{p}.{key}[{i}]"), x))
                    .collect::<Vec<_>>(),
                Some(x) if !list => vec![(format!("{p}.{key}"), x)],
                _ => Vec::new(),
            })
            .collect();
    }
    found
        .into_iter()
        .filter(|(_, v)| value == "*" || v.as_str() == Some(value))
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn no_mode_uses_a_value_its_min_version_gates() {
    let gates = rows("gates.tsv");
    assert!(!gates.is_empty());
    for (mode, task) in every_mode() {
        let min = min_version(&task);
        for g in &gates {
            let (path, value, from) = (&g[0], &g[1], &g[2]);
            let used = uses(&task, path, value);
            let allowed = from != "never" && tag(from) <= min;
            assert!(
                used.is_empty() || allowed,
                "{mode}: {used:?} is refused before {from} (tests/fixtures/tekton/gates.tsv: {})",
                g[3]
            );
        }
    }
    // The check can fail: an enum on a param is found.
    let mut task = every_mode().remove(0).1;
    task["spec"]["params"][0]["enum"] = serde_json::json!(["a"]);
    assert_eq!(
        uses(&task, "spec.params[].enum", "*"),
        ["spec.params[0].enum"]
    );
}

/// Each release's own webhook validation (`validate-task`, built from tektoncd/pipeline
/// at the tag: decodes strictly, defaults and validates as the webhook does), when a
/// developer has them: `HBFN_TEKTON_VALIDATORS/<tag>/validate-task`.
#[test]
fn tekton_itself_accepts_every_mode() {
    let Some(dir) = common::optional_outside_ci(
        "HBFN_TEKTON_VALIDATORS",
        "a folder of <tag>/validate-task, Tekton's webhook validation built from its source",
    ) else {
        return;
    };
    let mut validators: Vec<(Tag, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path().join("validate-task"))
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.parent()?.file_name()?.to_str()?.to_string();
            Some((tag(&name), p))
        })
        .collect();
    validators.sort();
    assert!(
        !validators.is_empty(),
        "no <tag>/validate-task in {}",
        dir.display()
    );
    let tmp = common::TempDir::new("validate");
    let validate = |bin: &PathBuf, task: &Value| {
        let file = tmp.join("task.json");
        std::fs::write(&file, task.to_string()).expect("write the Task");
        let out = std::process::Command::new(bin)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    for (mode, task) in every_mode() {
        let min = min_version(&task);
        for (at, bin) in validators.iter().filter(|(at, _)| *at >= min) {
            let (ok, said) = validate(bin, &task);
            assert!(ok, "{mode}: Tekton {at:?} refuses the Task:\n{said}");
        }
    }
    // And the validators can refuse: the AppArmor field before v0.69.
    let mut task = every_mode()
        .into_iter()
        .find(|(m, _)| m == "daemonless")
        .expect("daemonless")
        .1;
    task["spec"]["steps"][0]["securityContext"]["appArmorProfile"] =
        serde_json::json!({ "type": "Unconfined" });
    for (at, bin) in &validators {
        let (ok, said) = validate(bin, &task);
        assert_eq!(ok, *at >= (0, 69, 0), "{at:?}:\n{said}");
        if !ok {
            assert!(said.contains("unknown field \"appArmorProfile\""), "{said}");
        }
    }
}

/// The README's table of Tekton releases says what versions.tsv says: each row's
/// k8s.io/api range is that of the releases of its minors.
#[test]
fn the_readme_table_is_the_fixture() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let header = "| Tekton | k8s.io/api it vendors |";
    let start = readme
        .lines()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("README.md has no table starting {header:?}"));
    let apis: Vec<(Tag, Tag)> = rows("versions.tsv")
        .into_iter()
        .map(|r| (tag(&r[0]), tag(&r[1])))
        .collect();
    let mut minors_seen = std::collections::BTreeSet::new();
    for line in readme
        .lines()
        .skip(start + 2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let range = |cell: &str| -> (Tag, Tag) {
            let mut ends = cell.split(" – ").map(tag);
            let first = ends.next().expect("a version");
            (first, ends.next().unwrap_or(first))
        };
        let (lo, hi) = range(cells[0]);
        let minor = |t: Tag| (t.0, t.1);
        let in_rows: Vec<Tag> = apis
            .iter()
            .filter(|(t, _)| minor(lo) <= minor(*t) && minor(*t) <= minor(hi))
            .map(|(t, api)| {
                minors_seen.insert(minor(*t));
                *api
            })
            .collect();
        assert!(!in_rows.is_empty(), "{line}: no release in versions.tsv");
        let want = (
            *in_rows.iter().min().expect("one"),
            *in_rows.iter().max().expect("one"),
        );
        assert_eq!(range(cells[1]), want, "{line}");
    }
    let all: std::collections::BTreeSet<(u32, u32)> =
        apis.iter().map(|(t, _)| (t.0, t.1)).collect();
    assert_eq!(
        minors_seen, all,
        "the README's table covers every minor of versions.tsv"
    );
}
