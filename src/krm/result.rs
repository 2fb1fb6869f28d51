//! KRM function results: `message`, `severity`, `resourceRef`, `field`, and the
//! result's stable [`Code`] in `tags`.

use serde_json::{Map, Value, json};

use super::Item;
use crate::codes::Code;
use crate::text::visible;

/// A KRM function result.
#[derive(Debug, Clone, PartialEq)]
pub struct FnResult {
    /// What the finding is, for scripts and tests: the sentence may change, the code not.
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub resource: Option<ResourceRef>,
    pub field: Option<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl ResourceRef {
    pub(crate) fn of(item: &Item<'_>) -> Self {
        ResourceRef {
            api_version: item.api_version.to_string(),
            kind: item.kind.to_string(),
            name: item.name.to_string(),
            namespace: item.namespace.to_string(),
        }
    }

    /// `Kind ns/name` (`Kind name` without a namespace), for messages.
    pub(crate) fn describe(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: String,
    pub current: Option<String>,
    pub proposed: Option<String>,
}

impl FnResult {
    /// A result with `message`, every invisible character in it (from the input it
    /// quotes) escaped ([`visible`]): a message shows what it says.
    pub(crate) fn new(code: Code, severity: Severity, message: impl Into<String>) -> Self {
        let message: String = message.into();
        FnResult {
            code,
            severity,
            message: visible(&message).into_owned(),
            resource: None,
            field: None,
        }
    }

    pub(crate) fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub(crate) fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub(crate) fn info(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, message)
    }

    pub(crate) fn at(mut self, path: impl Into<String>) -> Self {
        self.field = Some(Field {
            path: path.into(),
            current: None,
            proposed: None,
        });
        self
    }

    pub(crate) fn change(mut self, path: &str, current: Option<&str>, proposed: &str) -> Self {
        self.field = Some(Field {
            path: path.into(),
            current: current.map(str::to_string),
            proposed: Some(proposed.to_string()),
        });
        self
    }

    pub(crate) fn on(mut self, resource: ResourceRef) -> Self {
        self.resource = Some(resource);
        self
    }

    pub(crate) fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), json!(self.message));
        m.insert("severity".into(), json!(self.severity.as_str()));
        if let Some(r) = &self.resource {
            let mut rr = Map::new();
            rr.insert("apiVersion".into(), json!(r.api_version));
            rr.insert("kind".into(), json!(r.kind));
            rr.insert("name".into(), json!(r.name));
            if !r.namespace.is_empty() {
                rr.insert("namespace".into(), json!(r.namespace));
            }
            m.insert("resourceRef".into(), Value::Object(rr));
        }
        if let Some(f) = &self.field {
            let mut fm = Map::new();
            fm.insert("path".into(), json!(f.path));
            if let Some(c) = &f.current {
                fm.insert("currentValue".into(), json!(c));
            }
            if let Some(p) = &f.proposed {
                fm.insert("proposedValue".into(), json!(p));
            }
            m.insert("field".into(), Value::Object(fm));
        }
        // kyaml's Result.Tags (map[string]string): machine-readable labels.
        m.insert("tags".into(), json!({ "code": self.code.id() }));
        Value::Object(m)
    }

    /// One line for stderr: `error[HBF107]: spec.registry ...`. What it quotes of the
    /// input (the resource's kind and name too) shows every character ([`visible`]).
    pub fn to_line(&self) -> String {
        let mut s = format!("{}[{}]: ", self.severity.as_str(), self.code);
        if let Some(r) = &self.resource {
            s.push_str(&visible(&format!("{} {}: ", r.kind, ItemIdDisplay(r))));
        }
        s.push_str(&visible(&self.message));
        s
    }
}

struct ItemIdDisplay<'r>(&'r ResourceRef);

impl std::fmt::Display for ItemIdDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.namespace.is_empty() {
            f.write_str(&self.0.name)
        } else {
            write!(f, "{}/{}", self.0.namespace, self.0.name)
        }
    }
}

/// Findings as lines for a terminal: each result's line, its field and values
/// indented below it, and a count at the end.
pub fn report(results: &[FnResult]) -> String {
    let mut out = String::new();
    for r in results {
        out.push_str(&r.to_line());
        out.push('\n');
        if let Some(f) = &r.field {
            let mut line = format!("    field: {}", f.path);
            match (&f.current, &f.proposed) {
                (Some(c), Some(p)) if c != p => line.push_str(&format!(": {c} -> {p}")),
                (None, Some(p)) => line.push_str(&format!(": -> {p}")),
                (Some(c), _) => line.push_str(&format!(": {c}")),
                (None, None) => {}
            }
            out.push_str(&visible(&line));
            out.push('\n');
        }
    }
    let count = |s: Severity| results.iter().filter(|r| r.severity == s).count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{}, {}, {}\n",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info finding"),
    ));
    out
}

/// A run, or a step of one, that failed: at least one error result, by construction.
///
/// Every way to build one starts from an error, and nothing removes one, so a caller
/// that gets `Err(Failure)` always has something to tell the user; there is no silent
/// `Err(())`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// Never empty; every one of severity `error`.
    errors: Vec<FnResult>,
}

impl Failure {
    /// A failure of one error; `result`'s severity becomes `error` whatever it was.
    pub(crate) fn new(mut result: FnResult) -> Failure {
        result.severity = Severity::Error;
        Failure {
            errors: vec![result],
        }
    }

    /// A failure with this message (add `.on()`/`.at()` through [`Failure::new`]).
    pub(crate) fn error(code: Code, message: impl Into<String>) -> Failure {
        Failure::new(FnResult::error(code, message))
    }

    /// The error results of `results`, or `None` when there is none.
    pub(crate) fn from_results(results: Vec<FnResult>) -> Option<Failure> {
        let errors: Vec<FnResult> = results
            .into_iter()
            .filter(|r| r.severity == Severity::Error)
            .collect();
        (!errors.is_empty()).then_some(Failure { errors })
    }

    /// Adds `other`'s errors after this one's.
    pub(crate) fn merge(&mut self, other: Failure) {
        self.errors.extend(other.errors);
    }

    /// `a` and `b` together: a failure when either failed, with every error of both.
    pub(crate) fn both<A, B>(
        a: Result<A, Failure>,
        b: Result<B, Failure>,
    ) -> Result<(A, B), Failure> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
            (Err(mut a), Err(b)) => {
                a.merge(b);
                Err(a)
            }
        }
    }

    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn results(&self) -> impl Iterator<Item = &FnResult> {
        self.errors.iter()
    }

    pub(crate) fn into_results(self) -> Vec<FnResult> {
        self.errors
    }
}

impl From<FnResult> for Failure {
    fn from(r: FnResult) -> Self {
        Failure::new(r)
    }
}
