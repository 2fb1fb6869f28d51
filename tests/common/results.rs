//! Results picked by what identifies them: their code (`src/codes.rs`), then the
//! structured fields (severity, resourceRef, field path and values). A result's
//! sentence may be reworded; tests that need its wording say why where they read it.
#![allow(dead_code)]

pub use harbor_buildkit_fn::codes::Code;
use harbor_buildkit_fn::{FnResult, Severity};

/// Every result, one line each with its field, for assertion messages.
pub fn dump(results: &[FnResult]) -> String {
    results
        .iter()
        .map(|r| format!("  {}\n      {:?}\n", r.to_line(), r.field))
        .collect()
}

/// The results with `code`.
pub fn all(results: &[FnResult], code: Code) -> Vec<&FnResult> {
    results.iter().filter(|r| r.code == code).collect()
}

/// The one result with `code`; fails, listing every result, when there is none or
/// more than one.
pub fn one(results: &[FnResult], code: Code) -> &FnResult {
    let found = all(results, code);
    assert_eq!(
        found.len(),
        1,
        "expected one {code} result, got {}:\n{}",
        found.len(),
        dump(results)
    );
    found[0]
}

/// Whether a result with `code` has `severity`.
pub fn has(results: &[FnResult], code: Code, severity: Severity) -> bool {
    results
        .iter()
        .any(|r| r.code == code && r.severity == severity)
}

/// The codes of `results`, in order.
pub fn codes(results: &[FnResult]) -> Vec<Code> {
    results.iter().map(|r| r.code).collect()
}

/// `Kind namespace/name` of a result's resource (`Kind name` without a namespace,
/// empty without a resource), as the stderr lines write it.
pub fn on(r: &FnResult) -> String {
    match &r.resource {
        None => String::new(),
        Some(res) if res.namespace.is_empty() => format!("{} {}", res.kind, res.name),
        Some(res) => format!("{} {}/{}", res.kind, res.namespace, res.name),
    }
}

/// A result's field path, if it has one.
pub fn path(r: &FnResult) -> Option<&str> {
    r.field.as_ref().map(|f| f.path.as_str())
}

/// A result's field's current and proposed values.
pub fn values(r: &FnResult) -> (Option<&str>, Option<&str>) {
    r.field.as_ref().map_or((None, None), |f| {
        (f.current.as_deref(), f.proposed.as_deref())
    })
}

/// One line a command printed for a result: `severity[CODE]: rest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub severity: Severity,
    pub code: Code,
    /// What follows `]: `: `Kind ns/name: message`, or the message alone.
    pub rest: String,
}

impl Line {
    /// Whether the line names the resource `on` (`Kind ns/name`).
    pub fn is_on(&self, on: &str) -> bool {
        self.rest.starts_with(&format!("{on}: "))
    }
}

/// The result lines of a command's output (`run`, `check`, the function's stderr):
/// every `severity[CODE]: ...` line, in order; other lines are skipped.
pub fn lines(text: &str) -> Vec<Line> {
    text.lines()
        .filter_map(|l| {
            let (severity, rest) = l.split_once('[')?;
            let severity = match severity {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                _ => return None,
            };
            let (id, rest) = rest.split_once("]: ")?;
            Some(Line {
                severity,
                code: Code::parse(id)?,
                rest: rest.to_string(),
            })
        })
        .collect()
}

/// The `(severity, code)` of every result line of `text`.
pub fn line_codes(text: &str) -> Vec<(Severity, Code)> {
    lines(text)
        .into_iter()
        .map(|l| (l.severity, l.code))
        .collect()
}

/// The one result line of `text` with `code`; fails, showing `text`, otherwise.
pub fn line(text: &str, code: Code) -> Line {
    let found: Vec<Line> = lines(text).into_iter().filter(|l| l.code == code).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {code} line, got {}:\n{text}",
        found.len()
    );
    found[0].clone()
}

/// The code of a result as an output ResourceList writes it (`tags: {code: HBF201}`).
pub fn code_of_json(result: &serde_json::Value) -> Option<Code> {
    result["tags"]["code"].as_str().and_then(Code::parse)
}
