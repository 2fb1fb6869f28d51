//! The golden cases: one folder per case under `tests/cases/<name>/`, the way
//! kpt-functions-catalog and kustomize keep theirs. A new case is a new folder.
//!
//! - `input.yaml`: the ResourceList the function reads on stdin; or, with `args`, a file
//!   the command reads. (Or `input-from`: the path of a shipped example, from the
//!   repository's root, read instead.)
//! - `args` (optional): the command line, one argument a line, run in the case's folder
//!   with nothing on stdin (other files there are what it names); result codes are read
//!   off `severity[CODE]:` lines on stderr and stdout (`check`'s report).
//! - the expectation, one of:
//!   - `expected-results.yaml`: the `results:` of the output (what most cases are about);
//!   - `expected.yaml`: the whole output, for cases whose resources are the point;
//!   - `expected.txt` (with `args`): the exit code, stderr and stdout.
//!
//! The generated Task's step script is the same in every mode; an expected file holds a
//! reference line in its place, and the script itself is pinned once, in
//! `tests/cases/step-script/expected.sh`, so a change to it is one reviewed diff.
//!
//! `UPDATE_CASES=1 cargo test --test cases` writes the expected files from what the
//! function prints; review every changed file (`git diff tests/cases`) before committing.
//!
//! The cases are also the examples of the result codes (`src/codes.rs`): each code's
//! example must emit it, so the table and the code agree both ways.

mod common;

use std::path::{Path, PathBuf};

use harbor_buildkit_fn::Severity;
use harbor_buildkit_fn::codes::{self, Code};

const STEP_SCRIPT_REFERENCE: &str =
    "# the step script, pinned once in tests/cases/step-script/expected.sh";

struct Case {
    name: String,
    dir: PathBuf,
    input: Vec<u8>,
    args: Option<Vec<String>>,
}

fn cases_dir() -> PathBuf {
    common::root().join("tests/cases")
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = std::fs::read_dir(cases_dir())
        .expect("tests/cases")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("input.yaml").is_file() || p.join("input-from").is_file())
        .map(|dir| Case {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            input: read_input(&dir),
            args: std::fs::read_to_string(dir.join("args"))
                .ok()
                .map(|a| a.lines().map(str::to_string).collect()),
            dir,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A case's input: its `input.yaml`, or the example its `input-from` names.
fn read_input(dir: &Path) -> Vec<u8> {
    match std::fs::read_to_string(dir.join("input-from")) {
        Ok(from) => {
            let path = common::root().join(from.trim());
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }
        Err(_) => std::fs::read(dir.join("input.yaml")).expect("input.yaml"),
    }
}

/// What a case printed, and the codes of its results (`args` cases: read off stderr).
struct Printed {
    exit: i32,
    stdout: String,
    stderr: String,
    codes: Vec<(Code, Severity)>,
}

fn print(case: &Case) -> Printed {
    match &case.args {
        None => {
            let o = harbor_buildkit_fn::run(&case.input);
            Printed {
                exit: o.exit_code,
                codes: o.results.iter().map(|r| (r.code, r.severity)).collect(),
                stdout: o.stdout,
                stderr: o.stderr,
            }
        }
        Some(args) => {
            let out = std::process::Command::new(common::tools::BIN)
                .args(args)
                .current_dir(&case.dir)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("the binary runs");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            // The function prints its results on stderr; `check` prints them as its
            // report, on stdout.
            let mut codes = codes_on_lines(&stderr);
            codes.extend(codes_on_lines(&stdout));
            Printed {
                exit: out.status.code().unwrap_or(-1),
                codes,
                stdout,
                stderr,
            }
        }
    }
}

/// The codes of `severity[CODE]: ...` lines.
fn codes_on_lines(text: &str) -> Vec<(Code, Severity)> {
    text.lines()
        .filter_map(|l| {
            let (severity, rest) = l.split_once('[')?;
            let (id, _) = rest.split_once("]: ")?;
            let severity = match severity {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                _ => return None,
            };
            Some((Code::parse(id)?, severity))
        })
        .collect()
}

/// `text` with the block of every `script:` that holds the step script replaced by
/// [`STEP_SCRIPT_REFERENCE`].
fn with_script_referenced(text: &str) -> String {
    let script = harbor_buildkit_fn::testing::task::SCRIPT;
    let first = script.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let is_block = trimmed.starts_with("script: |") || trimmed.starts_with("- script: |");
        if is_block && lines.peek().is_some_and(|next| next.trim() == first.trim()) {
            out.push_str(&line[..indent]);
            out.push_str(trimmed.split_once('|').map_or(trimmed, |(k, _)| k));
            out.push_str(STEP_SCRIPT_REFERENCE);
            out.push('\n');
            while lines
                .peek()
                .is_some_and(|next| next.trim().is_empty() || leading(next) > indent)
            {
                lines.next();
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn leading(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The `results:` section of an output ResourceList (`""` when it has none).
fn results_section(stdout: &str) -> String {
    match stdout.find("\nresults:\n") {
        Some(at) => stdout[at + 1..].to_string(),
        None => String::new(),
    }
}

/// The expected file of a case and what it should hold.
fn expectation(case: &Case, printed: &Printed) -> (PathBuf, String) {
    if case.args.is_some() {
        return (
            case.dir.join("expected.txt"),
            format!(
                "exit: {}\n--- stderr\n{}--- stdout\n{}",
                printed.exit,
                printed.stderr,
                with_script_referenced(&printed.stdout)
            ),
        );
    }
    let whole = case.dir.join("expected.yaml");
    if whole.exists() {
        return (whole, with_script_referenced(&printed.stdout));
    }
    (
        case.dir.join("expected-results.yaml"),
        results_section(&printed.stdout),
    )
}

fn updating() -> bool {
    std::env::var("UPDATE_CASES").is_ok_and(|v| v == "1")
}

/// Compares `path` with `actual`, or writes it under `UPDATE_CASES=1`; a mismatch is
/// returned as a message.
fn compare(path: &Path, actual: &str) -> Option<String> {
    let expected = std::fs::read_to_string(path).ok();
    if expected.as_deref() == Some(actual) {
        return None;
    }
    if updating() {
        std::fs::write(path, actual).expect("write the expected file");
        eprintln!("UPDATE_CASES: wrote {}", path.display());
        return None;
    }
    Some(match expected {
        None => format!(
            "{} is missing (UPDATE_CASES=1 writes it); the case printed:\n{actual}",
            path.display()
        ),
        Some(expected) => format!(
            "{} differs (UPDATE_CASES=1 rewrites it; review the diff):\n{}",
            path.display(),
            similar::TextDiff::from_lines(expected.as_str(), actual)
                .unified_diff()
                .context_radius(3)
        ),
    })
}

#[test]
fn every_case_prints_what_its_folder_expects() {
    let mut failures = Vec::new();
    for case in cases() {
        let printed = print(&case);
        // An error result and exit 1 go together, in every case.
        if case.args.is_none() {
            let has_error = printed.codes.iter().any(|(_, s)| *s == Severity::Error);
            if has_error != (printed.exit == 1) {
                failures.push(format!(
                    "{}: exit {} with {} error result",
                    case.name,
                    printed.exit,
                    if has_error { "an" } else { "no" }
                ));
            }
        }
        let (path, actual) = expectation(&case, &printed);
        if let Some(f) = compare(&path, &actual) {
            failures.push(format!("{}: {f}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_step_script_is_pinned_once() {
    let path = cases_dir().join("step-script/expected.sh");
    if let Some(f) = compare(&path, harbor_buildkit_fn::testing::task::SCRIPT) {
        panic!("{f}");
    }
}

/// Every code the table documents has an example case, and that case emits it; a code
/// that is emitted is in the table by construction (results carry a `Code`, and
/// `Code` is the table's enum).
#[test]
fn every_code_is_emitted_by_its_example() {
    let cases = cases();
    let mut failures = Vec::new();
    for entry in codes::TABLE {
        if entry.example.is_empty() {
            // Only the code of this function's own bugs has no input that reaches it;
            // src/function/apply.rs's unit tests make its conflicts by hand.
            assert_eq!(entry.code, Code::Internal, "{} has no example", entry.id);
            continue;
        }
        let Some(case) = cases.iter().find(|c| c.name == entry.example) else {
            failures.push(format!(
                "{}: its example tests/cases/{} does not exist",
                entry.id, entry.example
            ));
            continue;
        };
        assert_eq!(
            case.input, entry.input,
            "{}: the compiled-in example is stale (rebuild)",
            entry.id
        );
        let printed = print(case);
        if !printed.codes.iter().any(|(c, _)| *c == entry.code) {
            failures.push(format!(
                "{}: its example {} emits {:?}, not {}\n--- stderr\n{}",
                entry.id,
                entry.example,
                printed
                    .codes
                    .iter()
                    .map(|(c, s)| format!("{c} {}", s.as_str()))
                    .collect::<Vec<_>>(),
                entry.id,
                printed.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `CODES.md` is the table rendered, so readers without the binary see every entry.
#[test]
fn codes_md_is_the_table() {
    let path = common::root().join("CODES.md");
    if let Some(f) = compare(&path, &codes::markdown()) {
        panic!("{f}");
    }
}

/// `--explain` prints an entry by its id, in any case, and refuses an unknown one.
#[test]
fn explain_prints_each_entry() {
    for entry in codes::TABLE {
        let (code, out, err) = common::run_bin(&["--explain", &entry.id.to_lowercase()], b"");
        assert_eq!(code, 0, "{}: {err}", entry.id);
        assert_eq!(out, codes::explain(entry.code));
        assert!(out.starts_with(&format!("{}: {}", entry.id, entry.title)));
    }
    let (code, _, err) = common::run_bin(&["--explain", "HBF999"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("HBF999") && err.contains("HBF200"), "{err}");
    let (code, out, _) = common::run_bin(&["--explain", "all"], b"");
    assert_eq!((code, out), (0, codes::markdown()));
}
