//! Standalone mode, like kyaml's: `harbor-buildkit-fn run CONFIG [FILE|DIR ...]`.
//!
//! Reads a functionConfig file and plain resource files (multi-document YAML; folders
//! are walked for `*.yaml`/`*.yml`, dot-folders skipped; stdin when no path is given),
//! runs the function on them and prints the resulting resources as a multi-document
//! stream. Problems print as readable lines on stderr, not as a ResourceList, so a user
//! can try the function without kustomize or kpt.
//!
//! Only resources are read: a folder's `kustomization.yaml` (and `Kptfile`) and the
//! functionConfig file itself are skipped (a file named on the command line is read
//! whatever its name), and every document must be a resource. The stream keeps what a
//! `helm template` stream (`run` as helm's `--post-renderer`) has: the `---` lines and
//! the comments of each document (`# Source: ...`).

use std::path::{Path, PathBuf};

use crate::krm::{ResourceList, Severity};
use crate::yaml::{self, tree};

/// What to print and how to exit.
pub struct Report {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

fn fail(message: String) -> Report {
    Report {
        stdout: String::new(),
        stderr: format!("error: {message}\n"),
        exit_code: 1,
    }
}

/// Where resources come from: named files and folders, or text already read (stdin).
pub enum Input {
    Paths(Vec<PathBuf>),
    Text(String),
}

/// Runs the function on `config` and the resources of `input`. `verbose` also prints
/// info results.
pub fn run(config: &Path, input: Input, verbose: bool) -> Report {
    let (rl, leading_marker) = match build(config, input) {
        Ok(built) => built,
        Err(message) => return fail(message),
    };

    let outcome = crate::run(rl.as_bytes());
    let mut stderr = String::new();
    for r in &outcome.results {
        if verbose || r.severity != Severity::Info {
            stderr.push_str(&r.to_line());
            stderr.push('\n');
        }
    }
    if outcome.exit_code != 0 {
        return Report {
            stdout: String::new(),
            stderr,
            exit_code: outcome.exit_code,
        };
    }
    match stream(&outcome.stdout, leading_marker) {
        Ok(stdout) => Report {
            stdout,
            stderr,
            exit_code: 0,
        },
        Err(e) => fail(format!(
            "internal: cannot read the function's own output: {e}"
        )),
    }
}

/// The ResourceList that `config` and the resources of `input` make: what kustomize or
/// kpt would have sent.
pub fn resource_list(config: &Path, input: Input) -> Result<String, String> {
    build(config, input).map(|(rl, _)| rl)
}

/// Files a folder holds that are not resources: kustomize's and kpt's own.
fn is_tool_file(name: &str) -> bool {
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization" | "Kptfile"
    )
}

/// The ResourceList, and whether the first document began with `---` (the output
/// then does too).
fn build(config: &Path, input: Input) -> Result<(String, bool), String> {
    let config_text = match std::fs::read_to_string(config) {
        Ok(t) => t,
        Err(e) => {
            return Err(format!(
                "cannot read the functionConfig {}: {e}",
                config.display()
            ));
        }
    };
    let mut sources: Vec<(String, String)> = Vec::new();
    match input {
        Input::Text(t) => sources.push(("<stdin>".into(), t)),
        Input::Paths(paths) => {
            let skip = std::fs::canonicalize(config).ok();
            for path in paths {
                collect(&path, skip.as_deref(), &mut sources)?;
            }
        }
    }

    let fc_docs = match tree::documents(&config_text) {
        Ok(d) => d,
        Err(e) => return Err(format!("{}: not valid YAML: {e}", config.display())),
    };
    let [fc] = fc_docs.as_slice() else {
        return Err(format!(
            "{} holds {} YAML documents; a functionConfig is one (a HarborBuildkit or a ConfigMap)",
            config.display(),
            fc_docs.len()
        ));
    };

    let mut rl = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
    let mut count = 0;
    let mut items = String::new();
    let mut leading_marker = None;
    for (name, text) in &sources {
        let docs = match tree::documents(text) {
            Ok(d) => d,
            Err(e) => return Err(format!("{name}: not valid YAML: {e}")),
        };
        for doc in docs {
            leading_marker.get_or_insert(doc.explicit_start);
            if let Err(what) = resource(&doc) {
                return Err(format!(
                    "{name}, line {}: a document that is not a resource ({what}; a resource is a mapping with apiVersion, kind and metadata)",
                    doc.line
                ));
            }
            items.push_str("- ");
            yaml::reindent(&mut items, doc.text, doc.col, 2);
            items.push('\n');
            count += 1;
        }
    }
    if count == 0 {
        rl.push_str("items: []\n");
    } else {
        rl.push_str("items:\n");
        rl.push_str(&items);
    }
    rl.push_str("functionConfig:\n  ");
    yaml::reindent(&mut rl, fc.text, fc.col, 2);
    rl.push('\n');

    Ok((rl, leading_marker.unwrap_or(false)))
}

/// Whether a document is a resource: a mapping with `apiVersion` and `kind` (strings)
/// and `metadata` (a mapping); else what it lacks.
fn resource(doc: &tree::Document) -> Result<(), String> {
    if !doc.is_mapping {
        return Err("not a mapping".into());
    }
    let keep = |p: &[yaml::Seg<'_>]| p.len() <= 1;
    let mut text = " ".repeat(doc.col);
    text.push_str(doc.text);
    let t =
        tree::Tree::parse_with(&text, tree::Limits::default(), &keep).map_err(|e| e.to_string())?;
    let root = t.root.ok_or("empty")?;
    for field in ["apiVersion", "kind"] {
        if t.get_str(root, &[field]).is_none_or(str::is_empty) {
            return Err(format!("no {field}"));
        }
    }
    match t.get(root, "metadata") {
        Some(m) if t.entries(m).is_some() => Ok(()),
        _ => Err("no metadata".into()),
    }
}

/// The items of a ResourceList as a `---`-separated stream (with a `---` before the
/// first too when `leading_marker`), each with its comments.
fn stream(resource_list: &str, leading_marker: bool) -> Result<String, String> {
    let rl = ResourceList::parse(resource_list).map_err(|e| e.message)?;
    let mut out = String::with_capacity(resource_list.len());
    for (i, item) in rl.items.iter().enumerate() {
        if i > 0 || leading_marker {
            out.push_str("---\n");
        }
        yaml::reindent(&mut out, item.span.text, item.span.col, 0);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Reads a file, or every `*.yaml`/`*.yml` below a folder (sorted; dot-entries,
/// kustomize's and kpt's files, and `skip`, the functionConfig, left out). A file
/// named on the command line is read whatever its name, but never `skip`.
fn collect(
    path: &Path,
    skip: Option<&Path>,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if skip.is_some() && std::fs::canonicalize(path).ok().as_deref() == skip {
        return Ok(());
    }
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read folder {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        for entry in entries {
            let is_yaml = entry.extension().is_some_and(|x| x == "yaml" || x == "yml");
            let tool = entry
                .file_name()
                .is_some_and(|n| is_tool_file(&n.to_string_lossy()));
            if entry.is_dir() || (is_yaml && !tool) {
                collect(&entry, skip, out)?;
            }
        }
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = crate::krm::decode(&bytes)
        .map_err(|e| format!("{}: {}", path.display(), e.message))?
        .into_owned();
    out.push((path.display().to_string(), text));
    Ok(())
}
