//! Reading the functionConfig's fields from YAML: each value type-checked against its
//! field in the schema, every problem reported at its path, all at once.
//!
//! What passes becomes a JSON object that serde turns into [`super::Fields`]; what does
//! not is left out (its default applies) after its problem is recorded, so one bad
//! value gives one error, not a second one for a value derived from it.

use serde_json::{Map, Value};

use super::schema::{self, Field, Type};
use crate::codes::Code;
use crate::krm::FnResult;
use crate::yaml::scalar::{Resolved, resolve};
use crate::yaml::{NodeId, Tree};

/// Collected problems, each an error result at a field path.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<FnResult>);

impl Problems {
    /// An error at `path`; the message names the field, since not every tool that
    /// shows results shows `field.path`.
    pub(super) fn add(&mut self, code: Code, path: &str, message: impl std::fmt::Display) {
        let message = format!("{path} {message}");
        self.0.push(FnResult::error(code, message).at(path));
    }
}

/// Reports top-level keys of the functionConfig other than `allowed`.
pub(super) fn check_top_level(tree: &Tree, fc: NodeId, allowed: &[&str], problems: &mut Problems) {
    for &(k, _) in tree.entries(fc).unwrap_or_default() {
        let key = tree.scalar(k).map(|s| s.0).unwrap_or("?");
        if !allowed.contains(&key) {
            problems.add(
                Code::SpecUnknownField,
                key,
                format!(
                    "is an unknown field; a functionConfig has only {}",
                    allowed.join(", ")
                ),
            );
        }
    }
}

fn unknown_field(name: &str, path: &str, problems: &mut Problems) {
    let fields = schema::fields();
    let hint = fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name) || edit_distance(&f.name, name) <= 2)
        .map(|f| format!(" (did you mean {}?)", f.name))
        .unwrap_or_default();
    let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    problems.add(
        Code::SpecUnknownField,
        path,
        format!(
            "is an unknown field{hint}; known fields: {}",
            known.join(", ")
        ),
    );
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The entries of `map` that name a spec field: `(field, path, value)`. Keys that are
/// not strings, and unknown fields, are reported instead.
fn known_fields(
    tree: &Tree,
    map: NodeId,
    prefix: &str,
    problems: &mut Problems,
) -> Vec<(&'static Field, String, NodeId)> {
    let mut out = Vec::new();
    for &(k, v) in tree.entries(map).unwrap_or_default() {
        let Some((name, _, _)) = tree.scalar(k) else {
            problems.add(
                Code::SpecWrongType,
                prefix,
                "has a key that is not a string",
            );
            continue;
        };
        let path = format!("{prefix}.{name}");
        match schema::field(name) {
            Some(field) => out.push((field, path, v)),
            None => unknown_field(name, &path, problems),
        }
    }
    out
}

/// What was read: the valid values by field name (as serde reads [`super::Fields`]),
/// and the fields that were given at all, valid or not.
#[derive(Default)]
pub(super) struct Read {
    pub(super) values: Map<String, Value>,
    pub(super) given: Vec<&'static str>,
}

impl Read {
    fn set(&mut self, field: &'static Field, value: Value) {
        self.values.insert(field.name.clone(), value);
    }

    /// Reports every required field that was not given.
    pub(super) fn require(&self, prefix: &str, problems: &mut Problems) {
        for f in schema::fields().iter().filter(|f| f.required) {
            if !self.given.contains(&f.name.as_str()) {
                problems.add(
                    Code::SpecRequired,
                    &format!("{prefix}.{}", f.name),
                    required(f),
                );
            }
        }
    }
}

/// What a required field is, to say when it is missing or null ("is required: ...").
fn required(field: &Field) -> String {
    match field.name.as_str() {
        "registry" => "is required: the registry host[:port] as image references name it, e.g. harbor-core.harbor.svc.cluster.local".into(),
        _ => "is required".into(),
    }
}

/// What a field of type `ty` expects, for messages.
fn expected(ty: Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Bool => "true or false",
        Type::List => "a list of strings",
        Type::IntOrString => "a number",
    }
}

/// A field given as null (`scheme:` with no value, `~`, `null`). An error rather than
/// "the default": the key is there, so a value was meant, and a silent default
/// (`scheme: null` meaning https) is what a typo'd value would also get.
fn null_value(field: &Field) -> String {
    let name = &field.name;
    if field.required {
        format!("is null ({name}: with no value); it {}", required(field))
    } else {
        let default = if field.default.is_empty() {
            String::new()
        } else {
            format!(" ({})", field.default)
        };
        let give = match (field.ty, field.values.as_slice()) {
            (Type::IntOrString, values) => format!("a number or {}", values.join(" or ")),
            (ty, []) => expected(ty).to_string(),
            (Type::List, values) => format!("a list of {}", values.join(", ")),
            (_, values) => values.join(" or "),
        };
        format!(
            "is null ({name}: with no value); give {give}, or leave {name} out for its default{default}"
        )
    }
}

/// Whether `s` is one of `field`'s closed set of values (any string, when it has none);
/// if not, the problem is reported at `path`. The set is the schema's enum, which
/// serde's enums produce: a value that passes here deserializes.
fn allowed(field: &Field, s: &str, path: &str, problems: &mut Problems) -> bool {
    let values = &field.values;
    if values.is_empty() || values.iter().any(|v| v == s) {
        return true;
    }
    let expected = match values.as_slice() {
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", values.join(", ")),
    };
    let hint = if s.contains("://") {
        " (without ://)"
    } else if values.iter().any(|v| v.eq_ignore_ascii_case(s)) {
        " (spelled as written here: values are case-sensitive)"
    } else {
        ""
    };
    problems.add(
        Code::SpecValue,
        path,
        format!("is {s:?}; expected {expected}{hint}"),
    );
    false
}

/// Reports every list entry that repeats an earlier one: a duplicate says nothing more
/// than the first, so it is most likely a mistake for another value.
fn duplicates(items: &[String], at: impl Fn(usize) -> String, problems: &mut Problems) {
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().position(|x| x == item) {
            problems.add(
                Code::SpecDuplicateValue,
                &at(i),
                format!("{item:?} is listed twice (also at [{first}]); list each value once"),
            );
        }
    }
}

/// The `spec` of a HarborBuildkit: typed YAML values.
pub(super) fn typed(tree: &Tree, spec: NodeId, prefix: &str, problems: &mut Problems) -> Read {
    let mut read = Read::default();
    for (field, path, v) in known_fields(tree, spec, prefix, problems) {
        let scalar = tree.scalar(v).map(|(s, st, t)| resolve(s, st, t));
        match (field.ty, scalar) {
            (_, Some(Resolved::Null)) => {
                problems.add(Code::SpecWrongType, &path, null_value(field))
            }
            (Type::String, Some(Resolved::Str(s))) => {
                if allowed(field, s, &path, problems) {
                    read.set(field, Value::String(s.into()));
                }
            }
            (Type::IntOrString, Some(Resolved::Int)) => match int_value(tree, v) {
                Some(n) => read.set(field, n),
                None => problems.add(Code::SpecWrongType, &path, "is not a whole number in range"),
            },
            (Type::IntOrString, Some(Resolved::Str(s))) => read.set(field, Value::String(s.into())),
            (Type::Bool, Some(Resolved::Bool(b))) => read.set(field, Value::Bool(b)),
            (Type::Bool, Some(Resolved::Str(s))) => problems.add(
                Code::SpecWrongType,
                &path,
                format!(
                    "is the string {s:?}, expected true or false (unquoted){}",
                    if matches!(
                        s.to_ascii_lowercase().as_str(),
                        "yes" | "no" | "on" | "off" | "y" | "n"
                    ) {
                        "; yes/no/on/off are YAML 1.1 spellings that readers disagree on"
                    } else {
                        ""
                    }
                ),
            ),
            (Type::List, None) if tree.seq_items(v).is_some() => {
                let mut items = Vec::new();
                let mut texts = Vec::new();
                // A list with a value outside its set is left out whole (its default
                // applies): one bad value, one error.
                let mut all_allowed = true;
                for (i, &item) in tree.seq_items(v).unwrap_or_default().iter().enumerate() {
                    match tree.scalar(item).map(|(s, st, t)| resolve(s, st, t)) {
                        Some(Resolved::Str(s)) => {
                            all_allowed &= allowed(field, s, &format!("{path}[{i}]"), problems);
                            items.push(Value::String(s.into()));
                            texts.push((i, s.to_string()));
                        }
                        _ => problems.add(
                            Code::SpecWrongType,
                            &format!("{path}[{i}]"),
                            format!("is {}, expected a string", tree.describe(item)),
                        ),
                    }
                }
                let strings: Vec<String> = texts.iter().map(|(_, s)| s.clone()).collect();
                duplicates(&strings, |k| format!("{path}[{}]", texts[k].0), problems);
                if all_allowed {
                    read.set(field, Value::Array(items));
                }
            }
            (Type::IntOrString, _) => problems.add(
                Code::SpecWrongType,
                &path,
                format!(
                    "is {}, expected a number or {}",
                    tree.describe(v),
                    field.values.join(" or ")
                ),
            ),
            (ty, _) => problems.add(
                Code::SpecWrongType,
                &path,
                format!("is {}, expected {}", tree.describe(v), expected(ty)),
            ),
        }
        read.given.push(field.name.as_str());
    }
    read
}

/// An integer scalar's value as JSON (decimal, octal or hex, as yaml.v3 reads it).
fn int_value(tree: &Tree, v: NodeId) -> Option<Value> {
    let json = tree.to_json(v).ok()?;
    json.is_i64().then_some(json)
}

/// The `data` of a ConfigMap functionConfig: every value a string.
pub(super) fn flat(tree: &Tree, data: NodeId, prefix: &str, problems: &mut Problems) -> Read {
    let mut read = Read::default();
    for (field, path, v) in known_fields(tree, data, prefix, problems) {
        read.given.push(field.name.as_str());
        let s = match tree.scalar(v).map(|(s, st, t)| resolve(s, st, t)) {
            Some(Resolved::Str(s)) => s.to_string(),
            _ => {
                problems.add(
                    Code::SpecWrongType,
                    &path,
                    format!(
                        "is {}; ConfigMap data values are strings (quote it)",
                        tree.describe(v)
                    ),
                );
                continue;
            }
        };
        let value = match field.ty {
            Type::String if !allowed(field, &s, &path, problems) => continue,
            Type::String => Value::String(s),
            // Data values are strings: a number in one is a number.
            Type::IntOrString => s.parse::<i64>().map_or(Value::String(s), Value::from),
            Type::Bool => match s.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    problems.add(
                        Code::SpecWrongType,
                        &path,
                        format!("is {s:?}, expected \"true\" or \"false\""),
                    );
                    continue;
                }
            },
            Type::List => {
                let items: Vec<String> = s
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect();
                duplicates(&items, |_| path.clone(), problems);
                if !items.iter().all(|x| allowed(field, x, &path, problems)) {
                    continue;
                }
                Value::Array(items.into_iter().map(Value::String).collect())
            }
        };
        read.set(field, value);
    }
    read
}
