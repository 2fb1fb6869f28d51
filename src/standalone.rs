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
//!
//! Files are read by [`crate::files`]' rules: regular files only, symlinks in a folder
//! followed only inside it, each folder listed once, and at most `--max-input-size`
//! bytes in all (the functionConfig, every resource file, stdin).

use std::path::{Path, PathBuf};

use crate::codes::Code;
use crate::files::{self, ReadError, WalkError};
use crate::krm::{InputError, ResourceList, Severity};
use crate::text::visible;
use crate::yaml::{self, ParseError, tree};

pub use crate::files::{BadSize, Kind, parse_size, size};

/// How much `run` and `check` read in all, unless `--max-input-size` says otherwise:
/// far more than any rendered chart or package (a large one is a few MiB), far less
/// than what would exhaust a CI runner's memory (the input is held two or three times
/// over while it is read, run and written).
pub const DEFAULT_MAX_INPUT: u64 = 128 << 20;

/// Why the files given to `run` or `check` do not make a ResourceList.
#[derive(Debug)]
pub enum Error {
    /// The functionConfig file cannot be read.
    Config {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A folder cannot be listed.
    Folder {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A file cannot be read.
    File {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A path (`name`) that is not a regular file: a FIFO, a device, a socket.
    NotRegular { name: String, kind: Kind },
    /// Reading `name` takes the input past `limit` bytes.
    TooLarge { name: String, limit: u64 },
    /// A symlink (`link`) in a folder given (`folder`) leads outside it, to `target`.
    Outside {
        link: String,
        target: String,
        folder: String,
    },
    /// A file (`name`) is not UTF-8.
    NotUtf8 { name: String, error: InputError },
    /// A file (`name`) is not YAML.
    NotYaml { name: String, error: ParseError },
    /// The functionConfig file holds `count` documents.
    ConfigDocuments { path: PathBuf, count: usize },
    /// A document of `name`, at `line`, is not a resource (`what` it lacks).
    NotResource {
        name: String,
        line: usize,
        what: String,
    },
    /// The function's own output does not read back.
    Output(InputError),
}

impl Error {
    pub fn code(&self) -> Code {
        match self {
            Error::Config { .. } | Error::Folder { .. } | Error::File { .. } => {
                Code::FileUnreadable
            }
            Error::NotRegular { .. } => Code::FileNotRegular,
            Error::TooLarge { .. } => Code::InputTooLarge,
            Error::Outside { .. } => Code::FileOutsideFolder,
            Error::NotUtf8 { .. } => Code::InputNotUtf8,
            Error::NotYaml { .. } => Code::InputNotYaml,
            Error::ConfigDocuments { .. } => Code::SpecKind,
            Error::NotResource { .. } => Code::FileNotResource,
            Error::Output(_) => Code::Internal,
        }
    }

    /// The error for a file (`path`, the functionConfig when `config`) that was not read.
    fn of_read(path: &Path, config: bool, e: ReadError) -> Error {
        let name = path.display().to_string();
        match e {
            ReadError::Io(error) if config => Error::Config {
                path: path.to_path_buf(),
                error,
            },
            ReadError::Io(error) => Error::File {
                path: path.to_path_buf(),
                error,
            },
            ReadError::NotRegular(kind) => Error::NotRegular { name, kind },
            ReadError::TooLarge { limit } => Error::TooLarge { name, limit },
        }
    }
}

impl From<WalkError> for Error {
    fn from(e: WalkError) -> Error {
        match e {
            WalkError::Folder { path, error } => Error::Folder { path, error },
            WalkError::Entry { path, error } => Error::File { path, error },
            WalkError::Outside {
                link,
                target,
                folder,
            } => Error::Outside {
                link: link.display().to_string(),
                target: target.display().to_string(),
                folder: folder.display().to_string(),
            },
        }
    }
}

/// The message, every invisible character it quotes (from a path, a parser's words
/// about the input) shown escaped.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        self.describe(&mut text)?;
        f.write_str(&visible(&text))
    }
}

impl Error {
    fn describe(&self, f: &mut String) -> std::fmt::Result {
        use std::fmt::Write as _;
        let shown = |p: &Path| visible(&p.display().to_string()).into_owned();
        match self {
            Error::Config { path, error } => {
                write!(f, "cannot read the functionConfig {}: {error}", shown(path))
            }
            Error::Folder { path, error } => {
                write!(f, "cannot read folder {}: {error}", shown(path))
            }
            Error::File { path, error } => write!(f, "cannot read {}: {error}", shown(path)),
            Error::NotRegular { name, kind } => write!(
                f,
                "{} is {kind}, not a regular file: only regular files are read (a FIFO would block, a device such as /dev/zero never ends); name the file itself, or pipe a stream to stdin (-)",
                visible(name)
            ),
            Error::TooLarge { name, limit } => write!(
                f,
                "{}: reading it takes the input past {} (--max-input-size): the functionConfig, the resource files and stdin together; give a larger --max-input-size if the input really is this large",
                visible(name),
                size(*limit)
            ),
            Error::Outside {
                link,
                target,
                folder,
            } => write!(
                f,
                "{} is a symlink to {}, which leads outside the folder {}: a folder's symlinks are followed only within it (as kustomize's loader refuses a file not in or below its root); name the file on the command line to read it",
                visible(link),
                visible(target),
                visible(folder)
            ),
            Error::NotUtf8 { name, error } => write!(f, "{}: {error}", visible(name)),
            Error::NotYaml { name, error } => {
                write!(f, "{}: not valid YAML: {error}", visible(name))
            }
            Error::ConfigDocuments { path, count } => write!(
                f,
                "{} holds {count} YAML documents; a functionConfig is one (a HarborBuildkit or a ConfigMap)",
                shown(path)
            ),
            Error::NotResource { name, line, what } => write!(
                f,
                "{}, line {line}: a document that is not a resource ({what}; a resource is a mapping with apiVersion, kind and metadata)",
                visible(name)
            ),
            Error::Output(e) => write!(f, "internal: cannot read the function's own output: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// What to print and how to exit.
pub struct Report {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

fn fail(e: &Error) -> Report {
    Report {
        stdout: String::new(),
        stderr: format!("error[{}]: {e}\n", e.code()),
        exit_code: 1,
    }
}

/// Where resources come from: named files and folders, or text already read (stdin).
pub enum Input {
    Paths(Vec<PathBuf>),
    Text(String),
}

/// Reads stdin, at most `limit` bytes: the resources of `run` and `check` given
/// through a pipe, by the same bound as files.
pub fn read_stdin(limit: u64) -> Result<Vec<u8>, Error> {
    files::read_limited(std::io::stdin().lock(), limit).map_err(|e| match e {
        ReadError::Io(error) => Error::File {
            path: PathBuf::from("<stdin>"),
            error,
        },
        ReadError::TooLarge { limit } => Error::TooLarge {
            name: "<stdin>".into(),
            limit,
        },
        ReadError::NotRegular(kind) => Error::NotRegular {
            name: "<stdin>".into(),
            kind,
        },
    })
}

/// Runs the function on `config` and the resources of `input`, reading at most
/// [`DEFAULT_MAX_INPUT`] bytes in all. `verbose` also prints info results.
pub fn run(config: &Path, input: Input, verbose: bool) -> Report {
    run_bounded(config, input, verbose, DEFAULT_MAX_INPUT)
}

/// [`run`], reading at most `max_input` bytes in all (`--max-input-size`).
pub fn run_bounded(config: &Path, input: Input, verbose: bool, max_input: u64) -> Report {
    let Built {
        rl,
        leading_marker,
        restore,
    } = match build(config, input, max_input) {
        Ok(built) => built,
        Err(e) => return fail(&e),
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
    match stream(&outcome.stdout, leading_marker, &restore) {
        Ok(stdout) => Report {
            stdout,
            stderr,
            exit_code: 0,
        },
        Err(e) => fail(&Error::Output(e)),
    }
}

/// The ResourceList that `config` and the resources of `input` make: what kustomize or
/// kpt would have sent.
pub fn resource_list(config: &Path, input: Input, max_input: u64) -> Result<String, Error> {
    build(config, input, max_input).map(|b| b.rl)
}

/// The ResourceList `run` sends, and how to give its output back as a stream.
struct Built {
    rl: String,
    /// Whether the first document began with `---` (the output then does too).
    leading_marker: bool,
    /// Documents that ended their file without a line break, changed to be followed by
    /// more in the list ([`yaml::followable`]): each as the list holds it, and as the
    /// input had it, so that a stream that ends with it ends with the input's bytes.
    restore: Vec<(String, String)>,
}

/// Files a folder holds that are not resources: kustomize's and kpt's own.
fn is_tool_file(name: &str) -> bool {
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization" | "Kptfile"
    )
}

/// What is left of `--max-input-size` as files are read.
struct Budget {
    limit: u64,
    left: u64,
}

impl Budget {
    /// Reads `path` within what is left (`follow`: see [`files::read`]).
    fn read(&mut self, path: &Path, follow: bool) -> Result<Vec<u8>, ReadError> {
        let bytes = files::read(path, self.left, follow).map_err(|e| match e {
            ReadError::TooLarge { .. } => ReadError::TooLarge { limit: self.limit },
            e => e,
        })?;
        self.left -= bytes.len() as u64;
        Ok(bytes)
    }
}

/// The ResourceList of `config` and the resources of `input`.
fn build(config: &Path, input: Input, max_input: u64) -> Result<Built, Error> {
    let mut budget = Budget {
        limit: max_input,
        left: max_input,
    };
    let config_bytes = budget
        .read(config, true)
        .map_err(|e| Error::of_read(config, true, e))?;
    let config_text = crate::krm::decode(&config_bytes)
        .map_err(|error| Error::NotUtf8 {
            name: config.display().to_string(),
            error,
        })?
        .into_owned();
    let mut sources: Vec<(String, String)> = Vec::new();
    match input {
        Input::Text(t) => {
            if t.len() as u64 > budget.left {
                return Err(Error::TooLarge {
                    name: "<stdin>".into(),
                    limit: max_input,
                });
            }
            sources.push(("<stdin>".into(), t));
        }
        Input::Paths(paths) => {
            let skip = std::fs::canonicalize(config).ok();
            for path in paths {
                collect(&path, skip.as_deref(), &mut budget, &mut sources)?;
            }
        }
    }

    let fc_docs = tree::documents(&config_text).map_err(|error| Error::NotYaml {
        name: config.display().to_string(),
        error,
    })?;
    let [fc] = fc_docs.as_slice() else {
        return Err(Error::ConfigDocuments {
            path: config.to_path_buf(),
            count: fc_docs.len(),
        });
    };

    let mut rl = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
    let mut count = 0;
    let mut items = String::new();
    let mut leading_marker = None;
    let mut restore = Vec::new();
    for (name, text) in &sources {
        let docs = tree::documents(text).map_err(|error| Error::NotYaml {
            name: name.clone(),
            error,
        })?;
        let last = docs.len().saturating_sub(1);
        for (n, doc) in docs.into_iter().enumerate() {
            leading_marker.get_or_insert(doc.explicit_start);
            if let Err(what) = resource(&doc) {
                return Err(Error::NotResource {
                    name: name.clone(),
                    line: doc.line,
                    what: what.to_string(),
                });
            }
            items.push_str("- ");
            let followable = yaml::followable(doc.text, doc.col);
            // The last document of a file, as the file ends: with what follows its
            // text (blanks, a last line without a break), given back if it ends the
            // output unchanged.
            let original = match n == last {
                true => tail_from(text, doc.text),
                false => doc.text,
            };
            if followable.as_ref() != original {
                restore.push((followable.to_string(), original.to_string()));
            }
            yaml::reindent(&mut items, &followable, doc.col, 2);
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
    yaml::reindent(&mut rl, &yaml::followable(fc.text, fc.col), fc.col, 2);

    Ok(Built {
        rl,
        leading_marker: leading_marker.unwrap_or(false),
        restore,
    })
}

/// `text` from where `part`, a slice of it, starts to its end (`part` itself when it
/// is not a slice of `text`).
fn tail_from<'t>(text: &'t str, part: &'t str) -> &'t str {
    let (base, start) = (text.as_ptr() as usize, part.as_ptr() as usize);
    let inside = start >= base && start + part.len() <= base + text.len();
    match inside {
        true => text.get(start - base..).unwrap_or(part),
        false => part,
    }
}

/// What a document lacks to be a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lacks {
    Mapping,
    Text,
    Field(&'static str),
}

impl std::fmt::Display for Lacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lacks::Mapping => f.write_str("not a mapping"),
            Lacks::Text => f.write_str("empty"),
            Lacks::Field(field) => write!(f, "no {field}"),
        }
    }
}

/// Whether a document is a resource: a mapping with `apiVersion` and `kind` (strings)
/// and `metadata` (a mapping); else what it lacks.
fn resource(doc: &tree::Document) -> Result<(), Lacks> {
    if !doc.is_mapping {
        return Err(Lacks::Mapping);
    }
    let keep = |p: &[yaml::Seg<'_>]| p.len() <= 1;
    let mut text = " ".repeat(doc.col);
    text.push_str(doc.text);
    // The document was read whole before: it reads again.
    let t =
        tree::Tree::parse_with(&text, tree::Limits::default(), &keep).map_err(|_| Lacks::Text)?;
    let root = t.root.ok_or(Lacks::Text)?;
    for field in ["apiVersion", "kind"] {
        if t.get_str(root, &[field]).is_none_or(str::is_empty) {
            return Err(Lacks::Field(field));
        }
    }
    match t.get(root, "metadata") {
        Some(m) if t.entries(m).is_some() => Ok(()),
        _ => Err(Lacks::Field("metadata")),
    }
}

/// The items of a ResourceList as a `---`-separated stream (with a `---` before the
/// first too when `leading_marker`), each with its comments; the last one, when
/// `restore` lists it, as the input ended with it.
fn stream(
    resource_list: &str,
    leading_marker: bool,
    restore: &[(String, String)],
) -> Result<String, InputError> {
    let rl = ResourceList::parse(resource_list)?;
    let mut out = String::with_capacity(resource_list.len());
    let last = rl.items.len().saturating_sub(1);
    for (i, item) in rl.items.iter().enumerate() {
        if i > 0 || leading_marker {
            out.push_str("---\n");
        }
        let mut text = String::new();
        yaml::reindent(&mut text, item.span.text, item.span.col, 0);
        match restore.iter().find(|(listed, _)| *listed == text) {
            Some((_, original)) if i == last => out.push_str(original),
            _ => {
                out.push_str(&text);
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
    Ok(out)
}

/// Whether the walk of a folder reads a file of this name: `*.yaml` and `*.yml`, but
/// not kustomize's and kpt's own files.
fn is_resource_file(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !is_tool_file(name)
}

/// Reads a file, or every `*.yaml`/`*.yml` below a folder (in walk order: see
/// [`files::walk`]; dot-entries, kustomize's and kpt's files, and `skip`, the
/// functionConfig, left out). A file named on the command line is read whatever its
/// name and wherever it is, but never `skip`.
fn collect(
    path: &Path,
    skip: Option<&Path>,
    budget: &mut Budget,
    out: &mut Vec<(String, String)>,
) -> Result<(), Error> {
    let is_skip = |p: &Path| skip.is_some() && std::fs::canonicalize(p).ok().as_deref() == skip;
    if is_skip(path) {
        return Ok(());
    }
    if !std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        let bytes = budget
            .read(path, true)
            .map_err(|e| Error::of_read(path, false, e))?;
        return push(path, &bytes, out);
    }
    for found in files::walk(path, &is_resource_file)? {
        if skip == Some(found.real.as_path()) {
            continue;
        }
        let bytes = budget
            .read(&found.real, false)
            .map_err(|e| Error::of_read(&found.shown, false, e))?;
        push(&found.shown, &bytes, out)?;
    }
    Ok(())
}

/// A file's text, for the list (named as `path` shows it).
fn push(path: &Path, bytes: &[u8], out: &mut Vec<(String, String)>) -> Result<(), Error> {
    let text = crate::krm::decode(bytes)
        .map_err(|error| Error::NotUtf8 {
            name: path.display().to_string(),
            error,
        })?
        .into_owned();
    out.push((path.display().to_string(), text));
    Ok(())
}
