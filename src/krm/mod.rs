//! ResourceList plumbing: read one from stdin, write one to stdout.
//!
//! Reading (`read`) keeps only what identifies each item (apiVersion, kind, metadata
//! name and namespace, and the one label and annotation this function looks at); the
//! rest of an item is a span of the input. Writing copies those spans back out
//! verbatim, so an item this function does not touch leaves byte for byte as it came,
//! with every value meaning what it meant, whatever a YAML emitter would have made of it.
//!
//! The protocol (kustomize `functions-spec.md`, kpt `fnruntime`): `items`, then an
//! optional `functionConfig`, then `results` (`result`) with `message`, `severity`,
//! `resourceRef`, `field`; exit 0 on success, non-zero on failure.

mod mode;
mod read;
mod result;

use std::borrow::Cow;

use serde_json::Value;

use crate::yaml::{self, emit};

pub use mode::Mode;
pub use result::{Failure, Field, FnResult, ResourceRef, Severity, report};

pub const API_VERSION: &str = "config.kubernetes.io/v1";
const ACCEPTED_API_VERSIONS: &[&str] = &["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// A node's text in the input and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    pub text: &'a str,
    /// 0-based column of the first character, in characters.
    pub col: usize,
    /// 1-based line of the first character.
    pub line: usize,
}

/// What identifies an item, read from its metadata, and where its text is.
///
/// The strings borrow from the input where the YAML spells them plainly, so 10,000
/// items cost 10,000 small structs, not 50,000 allocations.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    pub span: Span<'a>,
    pub api_version: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub namespace: Cow<'a, str>,
    /// The `app.kubernetes.io/managed-by` label.
    pub managed_by: Option<Cow<'a, str>>,
    /// Whether `config.kubernetes.io/local-config` is `"true"`.
    pub local_config: bool,
}

impl Item<'_> {
    pub fn is(&self, api_group: &str, kind: &str) -> bool {
        self.kind == kind && group_of(&self.api_version) == api_group
    }

    /// Whether the item is in `namespace`, as a kustomize or kpt input has it: an item
    /// without a namespace (set later by the overlay), or an empty `namespace`, matches.
    pub fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace.is_empty() || namespace.is_empty() || self.namespace == namespace
    }
}

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A parsed ResourceList: spans of the input, and what identifies each item.
pub struct ResourceList<'a> {
    pub src: &'a str,
    /// `%` directives before an explicit `---`, which copied nodes may depend on.
    pub directives: &'a str,
    pub api_version: String,
    pub items: Vec<Item<'a>>,
    pub function_config: Option<Span<'a>>,
    /// Results already in the input (from an earlier run, or an earlier function in a
    /// pipe). Read, never written back: the output's results describe this run only.
    pub results: Vec<Span<'a>>,
}

impl<'a> ResourceList<'a> {
    /// Reads a ResourceList: a fast line-level split for the block-style lists that
    /// kustomize and kpt write, the full parser for anything else.
    pub fn parse(src: &'a str) -> Result<ResourceList<'a>, InputError> {
        read::parse(src)
    }

    /// Only the fast path: `None` where it does not apply (tests compare the two).
    pub fn parse_fast(src: &'a str) -> Option<ResourceList<'a>> {
        read::parse_fast(src)
    }

    /// The same, always with the full parser (the reference the fast path must match).
    pub fn parse_slow(src: &'a str) -> Result<ResourceList<'a>, InputError> {
        read::parse_slow(src)
    }

    /// The one item of `kind` in `group` named `name` in `namespace` (or with no
    /// namespace) that `filter` accepts. This is the one rule for finding an item, for
    /// every system and every check: several matches are an error, since which one is
    /// meant is unclear.
    pub fn one(
        &self,
        group: &str,
        kind: &str,
        name: &str,
        namespace: &str,
        filter: impl Fn(&Item) -> bool,
    ) -> Result<Option<usize>, Failure> {
        let found: Vec<(usize, &Item)> = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.is(group, kind) && i.name == name && i.in_namespace(namespace) && filter(i)
            })
            .collect();
        let [(first, item), rest @ ..] = found.as_slice() else {
            return Ok(None);
        };
        if rest.is_empty() {
            return Ok(Some(*first));
        }
        Err(Failure::new(
            FnResult::error(format!(
                "{} items match {kind} {namespace}/{name} ({}); keep one",
                found.len(),
                where_they_are(&found)
            ))
            .on(ResourceRef::of(item)),
        ))
    }

    /// Input item `index` as JSON (scalars typed as Go's yaml.v3 types them), or `None`
    /// when it does not re-read on its own (an alias to an anchor outside it).
    pub fn value(&self, index: usize) -> Option<Value> {
        self.value_of(self.items.get(index)?)
    }

    /// [`ResourceList::value`] of an item of this list.
    pub fn value_of(&self, item: &Item) -> Option<Value> {
        let (text, _) = self.standalone(&item.span);
        let tree = yaml::Tree::parse(&text).ok()?;
        tree.to_json(tree.root?).ok()
    }

    /// `span`'s text as a standalone document with the same line layout and columns
    /// (directives first, then the text at its original column), and the length of
    /// the prefix before the text.
    pub fn standalone(&self, span: &Span) -> (String, usize) {
        let mut s = String::with_capacity(self.directives.len() + span.col + span.text.len() + 8);
        if !self.directives.is_empty() {
            s.push_str(self.directives);
            s.push_str("---\n");
        }
        s.extend(std::iter::repeat_n(' ', span.col));
        let prefix = s.len();
        s.push_str(span.text);
        (s, prefix)
    }
}

/// Where the items that match one name are, for the duplicates error: how many in
/// each namespace and how many without one, and whether they are copies of each other
/// (the same file given twice).
fn where_they_are(found: &[(usize, &Item)]) -> String {
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for (_, item) in found {
        match groups
            .iter_mut()
            .find(|(ns, _)| *ns == item.namespace.as_ref())
        {
            Some((_, n)) => *n += 1,
            None => groups.push((item.namespace.as_ref(), 1)),
        }
    }
    let mut parts: Vec<String> = groups
        .iter()
        .map(|(ns, n)| match (*ns, groups.len()) {
            ("", 1) => "none with a namespace".to_string(),
            ("", _) => format!("{n} without a namespace"),
            (ns, 1) => format!("all in namespace {ns}"),
            (ns, _) => format!("{n} in namespace {ns}"),
        })
        .collect();
    let text = |i: &Item| i.span.text.trim_end().to_string();
    if found.iter().all(|(_, i)| text(i) == text(found[0].1)) {
        parts.push("each a copy of the first: is a file given twice?".to_string());
    }
    parts.join("; ")
}

/// A problem with the input as a whole, before any spec is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
    pub field: Option<String>,
}

impl InputError {
    fn new(message: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
            field: None,
        }
    }
}

/// Turns stdin bytes into the text the parser reads: UTF-8 checked, a byte-order mark
/// dropped, CRLF and lone CR line breaks made LF (YAML treats all three as one line
/// break, inside scalars too, so this changes no value).
pub fn decode(input: &[u8]) -> Result<std::borrow::Cow<'_, str>, InputError> {
    let text = std::str::from_utf8(input).map_err(|e| {
        let at = e.valid_up_to();
        let line = input[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        InputError::new(format!(
            "the input is not UTF-8: invalid byte 0x{:02X} at byte offset {at} (line {line}); YAML must be UTF-8",
            input[at]
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\r') {
        Ok(std::borrow::Cow::Owned(
            text.replace("\r\n", "\n").replace('\r', "\n"),
        ))
    } else {
        Ok(std::borrow::Cow::Borrowed(text))
    }
}

/// One item of the output list.
pub enum OutItem {
    /// The input item at this index, copied verbatim.
    Input(usize),
    /// An input item with edits applied: its new text and the column it started at.
    Edited { text: String, col: usize },
    /// A resource this function generated.
    New(Value),
}

/// Writes the output ResourceList to `out`, item by item (verbatim items straight
/// from the input's text).
pub fn write(
    out: &mut dyn std::io::Write,
    rl: Option<&ResourceList>,
    items: &[OutItem],
    results: &[FnResult],
) -> std::io::Result<()> {
    let mut buf = String::with_capacity(4096);
    if let Some(rl) = rl.filter(|rl| !rl.directives.is_empty()) {
        buf.push_str(rl.directives);
        buf.push_str("---\n");
    }
    buf.push_str("apiVersion: ");
    buf.push_str(rl.map_or(API_VERSION, |rl| rl.api_version.as_str()));
    buf.push_str("\nkind: ResourceList\n");
    if items.is_empty() {
        buf.push_str("items: []\n");
    } else {
        buf.push_str("items:\n");
        for item in items {
            match item {
                OutItem::Input(i) => {
                    if let Some(item) = rl.and_then(|rl| rl.items.get(*i)) {
                        entry(&mut buf, &item.span, out)?;
                    }
                }
                OutItem::Edited { text, col } => {
                    let span = Span {
                        text,
                        col: *col,
                        line: 0,
                    };
                    entry(&mut buf, &span, out)?;
                }
                OutItem::New(v) => emit::seq_entry(&mut buf, v, 0),
            }
            flush(&mut buf, out)?;
        }
    }
    if let Some(fc) = rl.and_then(|rl| rl.function_config.as_ref()) {
        // On its own line below the key: valid for block and flow mappings alike.
        buf.push_str("functionConfig:\n  ");
        yaml::reindent(&mut buf, fc.text, fc.col, 2);
        end_line(&mut buf);
    }
    // Only this run's results: an input's own `results` (a second run on the output of
    // a first) are dropped, or they would pile up run after run.
    if !results.is_empty() {
        buf.push_str("results:\n");
        for r in results {
            emit::seq_entry(&mut buf, &r.to_value(), 0);
        }
    }
    out.write_all(buf.as_bytes())?;
    out.flush()
}

fn flush(buf: &mut String, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if buf.len() >= 2048 {
        out.write_all(buf.as_bytes())?;
        buf.clear();
    }
    Ok(())
}

/// A sequence entry holding `span`'s text, re-indented under its `- `. Text that stays
/// at its column goes straight to `out`.
fn entry(buf: &mut String, span: &Span, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    buf.push_str("- ");
    if span.col == 2 {
        out.write_all(buf.as_bytes())?;
        buf.clear();
        out.write_all(span.text.as_bytes())?;
        if !span.text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    yaml::reindent(buf, span.text, span.col, 2);
    end_line(buf);
    Ok(())
}

fn end_line(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}
