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

pub(crate) mod env;
pub(crate) mod fields;
mod mode;
mod read;
mod result;

use std::borrow::Cow;

use serde_json::Value;

use crate::codes::Code;
use crate::yaml::{self, NodeId, ParseError, Tree, emit};

pub(crate) use mode::Mode;
pub(crate) use result::Failure;
pub use result::{Field, FnResult, ResourceRef, Severity, report};

pub(crate) const API_VERSION: &str = "config.kubernetes.io/v1";
const ACCEPTED_API_VERSIONS: &[&str] = &["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// A node's text in the input and where it starts.
///
/// An item's or the functionConfig's text also holds the comments around the node:
/// from the first comment after its `- ` (or key) to the last one before what follows,
/// so that they travel with it. `col` is the node's column (its first line may be a
/// comment, which may sit elsewhere); later lines are at their columns in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span<'a> {
    pub(crate) text: &'a str,
    /// 0-based column of the node's first character, in characters.
    pub(crate) col: usize,
    /// 1-based line of the text's first character.
    pub(crate) line: usize,
}

/// What identifies an item, read from its metadata, and where its text is.
///
/// The strings borrow from the input where the YAML spells them plainly, so 10,000
/// items cost 10,000 small structs, not 50,000 allocations.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    pub(crate) span: Span<'a>,
    pub(crate) api_version: Cow<'a, str>,
    pub(crate) kind: Cow<'a, str>,
    pub(crate) name: Cow<'a, str>,
    pub(crate) namespace: Cow<'a, str>,
    /// The `app.kubernetes.io/managed-by` label.
    pub(crate) managed_by: Option<Cow<'a, str>>,
    /// Whether `config.kubernetes.io/local-config` is `"true"`.
    pub(crate) local_config: bool,
}

impl Span<'_> {
    /// Whether the text holds `needle`: a cheap test before reading an item as JSON.
    pub(crate) fn mentions(&self, needle: &str) -> bool {
        memchr::memmem::find(self.text.as_bytes(), needle.as_bytes()).is_some()
    }
}

impl Item<'_> {
    /// Whether the item's text holds `needle` (see [`Span::mentions`]).
    pub(crate) fn mentions(&self, needle: &str) -> bool {
        self.span.mentions(needle)
    }

    pub(crate) fn is(&self, api_group: &str, kind: &str) -> bool {
        self.kind == kind && group_of(&self.api_version) == api_group
    }

    /// Whether the item is in `namespace`, as a kustomize or kpt input has it: an item
    /// without a namespace (set later by the overlay), or an empty `namespace`, matches.
    pub(crate) fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace.is_empty() || namespace.is_empty() || self.namespace == namespace
    }
}

/// `text` parsed with only the nodes `keep` accepts built (all of them with `None`).
fn parse_kept<'t>(text: &'t str, keep: Option<yaml::tree::Keep>) -> Result<Tree<'t>, ParseError> {
    match keep {
        Some(keep) => Tree::parse_with(text, yaml::tree::Limits::default(), keep),
        None => Tree::parse(text),
    }
}

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A parsed ResourceList: spans of the input, and what identifies each item.
pub struct ResourceList<'a> {
    pub(crate) src: &'a str,
    /// `%` directives before an explicit `---`, which copied nodes may depend on.
    pub(crate) directives: &'a str,
    /// Without directives: the comment lines before the first key, written back.
    pub(crate) head: &'a str,
    /// The comments after `items:` and before the first item (` # note` on the key's
    /// line, whole lines below it), written back.
    pub(crate) items_head: &'a str,
    /// Whether the functionConfig came before the items: then it is written first, so
    /// that an alias in an item to an anchor in the functionConfig stays after it.
    pub(crate) function_config_first: bool,
    pub(crate) api_version: String,
    pub(crate) items: Vec<Item<'a>>,
    pub(crate) function_config: Option<Span<'a>>,
    /// The whole input parsed in full, once, for the few re-reads that need it: a node
    /// with an alias to an anchor elsewhere in the document, or anchors of its own.
    whole: std::sync::OnceLock<Result<Tree<'a>, ParseError>>,
}

/// Where two readings of one ResourceList differ (the fast and the slow reader).
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadApart {
    /// How many items each read.
    ItemCount(usize, usize),
    /// An item's span or identity, as each read it.
    Item {
        index: usize,
        one: String,
        other: String,
    },
    /// The functionConfig and the layout the writer keeps, as each read them.
    Layout { one: String, other: String },
}

#[cfg(any(test, feature = "test-support"))]
impl std::fmt::Display for ReadApart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadApart::ItemCount(a, b) => write!(f, "{a} items, and {b}"),
            ReadApart::Item { index, one, other } => {
                write!(f, "items[{index}]: {one} and {other}")
            }
            ReadApart::Layout { one, other } => write!(f, "{one} and {other}"),
        }
    }
}

#[cfg(any(test, feature = "test-support"))]
impl std::error::Error for ReadApart {}

impl<'a> ResourceList<'a> {
    /// Reads a ResourceList: a fast line-level split for the block-style lists that
    /// kustomize and kpt write, the full parser for anything else.
    pub(crate) fn parse(src: &'a str) -> Result<ResourceList<'a>, InputError> {
        read::parse(src)
    }

    /// The namespaces the input shows exist: those of its namespaced items, and its
    /// Namespace objects.
    pub(crate) fn namespaces(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .items
            .iter()
            .map(|i| {
                if i.is("", "Namespace") {
                    i.name.as_ref()
                } else {
                    i.namespace.as_ref()
                }
            })
            .filter(|ns| !ns.is_empty())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How many items the list holds.
    #[cfg(any(test, feature = "test-support"))]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the list holds no item.
    #[cfg(any(test, feature = "test-support"))]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `other` read the same list: every item's span and identity, the
    /// functionConfig, and the layout the writer keeps (the fast and the slow reader
    /// must agree on all of it). `Err` says where they differ.
    #[cfg(any(test, feature = "test-support"))]
    pub fn same_reading(&self, other: &ResourceList<'a>) -> Result<(), ReadApart> {
        if self.items.len() != other.items.len() {
            return Err(ReadApart::ItemCount(self.items.len(), other.items.len()));
        }
        for (i, (a, b)) in self.items.iter().zip(&other.items).enumerate() {
            let identity = |x: &Item<'a>| {
                (
                    x.span,
                    x.api_version.to_string(),
                    x.kind.to_string(),
                    x.name.to_string(),
                    x.namespace.to_string(),
                    x.managed_by.as_deref().map(str::to_string),
                    x.local_config,
                )
            };
            if identity(a) != identity(b) {
                return Err(ReadApart::Item {
                    index: i,
                    one: format!("{:?}", identity(a)),
                    other: format!("{:?}", identity(b)),
                });
            }
        }
        let layout = |r: &ResourceList<'a>| {
            (
                r.function_config,
                r.function_config_first,
                r.api_version.clone(),
                r.head,
                r.items_head,
            )
        };
        if layout(self) != layout(other) {
            return Err(ReadApart::Layout {
                one: format!("{:?}", layout(self)),
                other: format!("{:?}", layout(other)),
            });
        }
        Ok(())
    }

    /// Only the fast path: `None` where it does not apply (tests compare the two).
    #[cfg(any(test, feature = "test-support"))]
    pub fn parse_fast(src: &'a str) -> Option<ResourceList<'a>> {
        read::parse_fast(src)
    }

    /// The same, always with the full parser (the reference the fast path must match).
    #[cfg(any(test, feature = "test-support"))]
    pub fn parse_slow(src: &'a str) -> Result<ResourceList<'a>, InputError> {
        read::parse_slow(src)
    }

    /// The one item of `kind` in `group` named `name` in `namespace` (or with no
    /// namespace) that `filter` accepts. This is the one rule for finding an item, for
    /// every system and every check: several matches are an error, since which one is
    /// meant is unclear.
    pub(crate) fn one(
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
            FnResult::error(
                Code::InputDuplicateItems,
                format!(
                    "{} items match {kind} {namespace}/{name} ({}); keep one",
                    found.len(),
                    where_they_are(&found)
                ),
            )
            .on(ResourceRef::of(item)),
        ))
    }

    /// Input item `index` as JSON (scalars typed as Go's yaml.v3 types them, aliases
    /// read across the whole document), or `None` when it is not convertible.
    pub(crate) fn value(&self, index: usize) -> Option<Value> {
        self.value_of(self.items.get(index)?)
    }

    /// [`ResourceList::value`] of an item of this list.
    pub(crate) fn value_of(&self, item: &Item) -> Option<Value> {
        self.read(&item.span, |tree, id| tree.to_json(id).ok())
            .ok()
            .flatten()
    }

    /// Reads `span` (an item's or the functionConfig's text, from this input) again in
    /// full and calls `f` with its tree and node. The text is parsed on its own (the
    /// fast path, at its original columns); when that fails (an alias to an anchor in
    /// another item, or the functionConfig's to one in an item: valid YAML), the node
    /// is read from the whole document, where aliases resolve as YAML says and line
    /// numbers are the input's.
    pub(crate) fn read<R>(
        &self,
        span: &Span,
        f: impl FnOnce(&Tree, NodeId) -> R,
    ) -> Result<R, ParseError> {
        self.read_kept(span, None, f)
    }

    /// [`ResourceList::read`] building only the nodes `keep` accepts (all of them with
    /// `None`); the whole document, the fallback, is always read in full.
    pub(crate) fn read_kept<R>(
        &self,
        span: &Span,
        keep: Option<yaml::tree::Keep>,
        f: impl FnOnce(&Tree, NodeId) -> R,
    ) -> Result<R, ParseError> {
        self.read_from(span, false, keep, |tree, id, _| f(tree, id))
    }

    /// [`ResourceList::read`] for an edit: with `anchors_whole`, a text that holds
    /// anchors is read from the whole document too, so that aliases in other items to
    /// them are seen. `f` also gets the byte range of the span's text in the tree's
    /// source (where edits apply).
    pub(crate) fn read_with<R>(
        &self,
        span: &Span,
        anchors_whole: bool,
        f: impl FnOnce(&Tree, NodeId, std::ops::Range<usize>) -> R,
    ) -> Result<R, ParseError> {
        self.read_from(span, anchors_whole, None, f)
    }

    fn read_from<R>(
        &self,
        span: &Span,
        anchors_whole: bool,
        keep: Option<yaml::tree::Keep>,
        f: impl FnOnce(&Tree, NodeId, std::ops::Range<usize>) -> R,
    ) -> Result<R, ParseError> {
        let (text, prefix) = self.standalone(span);
        let own = parse_kept(&text, keep);
        let standalone_error = match own {
            Ok(tree) if !anchors_whole || tree.anchored.is_empty() => {
                let root = tree.root.ok_or_else(|| empty_error(span.line))?;
                return Ok(f(&tree, root, prefix..text.len()));
            }
            Ok(_) => None,
            Err(e) => Some(e),
        };
        let Some(range) = self.range_of(span) else {
            return Err(standalone_error.unwrap_or_else(|| empty_error(span.line)));
        };
        let whole = self.whole()?;
        let id = node_at(whole, range.clone()).ok_or_else(|| empty_error(span.line))?;
        Ok(f(whole, id, range))
    }

    /// Reads an edited item (`edited`, the new text of input item `original`) in full:
    /// on its own, or in place of the original in the whole document when it does not
    /// read on its own.
    pub(crate) fn read_edited<R>(
        &self,
        original: &Span,
        edited: &Span,
        keep: Option<yaml::tree::Keep>,
        f: impl FnOnce(&Tree, NodeId) -> R,
    ) -> Result<R, ParseError> {
        let (text, _) = self.standalone(edited);
        let error = match parse_kept(&text, keep) {
            Ok(tree) => {
                let root = tree.root.ok_or_else(|| empty_error(edited.line))?;
                return Ok(f(&tree, root));
            }
            Err(e) => e,
        };
        let Some(range) = self.range_of(original) else {
            return Err(error);
        };
        let mut doc = String::with_capacity(self.src.len() + edited.text.len());
        doc.push_str(&self.src[..range.start]);
        doc.push_str(edited.text);
        doc.push_str(&self.src[range.end..]);
        // In full: `keep`'s paths are the item's, not the document's.
        let tree = Tree::parse(&doc)?;
        let id = node_at(&tree, range.start..range.start + edited.text.len())
            .ok_or_else(|| empty_error(edited.line))?;
        Ok(f(&tree, id))
    }

    /// The byte range of `span`'s text in the input, when it is a part of it.
    fn range_of(&self, span: &Span) -> Option<std::ops::Range<usize>> {
        let start = (span.text.as_ptr() as usize).checked_sub(self.src.as_ptr() as usize)?;
        let end = start + span.text.len();
        (end <= self.src.len()).then_some(start..end)
    }

    /// The whole input, parsed in full once.
    fn whole(&self) -> Result<&Tree<'a>, ParseError> {
        self.whole
            .get_or_init(|| Tree::parse(self.src))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `span`'s text as a standalone document with the same line layout and columns
    /// (directives first, then the text at its original column), and the length of
    /// the prefix before the text.
    pub(crate) fn standalone(&self, span: &Span) -> (String, usize) {
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

/// The node of a span's text (`range` in `tree.src`, a whole ResourceList): the item,
/// functionConfig or result whose node lies in it (the text may begin and end with
/// comments).
fn node_at(tree: &Tree, range: std::ops::Range<usize>) -> Option<NodeId> {
    let root = tree.root?;
    let seq = |key: &str| {
        tree.get(root, key)
            .and_then(|s| tree.seq_items(s))
            .unwrap_or_default()
            .iter()
            .copied()
    };
    seq("items")
        .chain(tree.get(root, "functionConfig"))
        .chain(seq("results"))
        .find(|&id| {
            let n = tree.node(id);
            n.start >= range.start && n.end <= range.end
        })
}

fn empty_error(line: usize) -> ParseError {
    ParseError {
        message: "it is empty".into(),
        line: Some(line),
        col: None,
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
pub enum InputError {
    /// A byte that is not UTF-8, at `offset` (on `line`).
    NotUtf8 {
        byte: u8,
        offset: usize,
        line: usize,
    },
    /// The stream does not parse.
    NotYaml(ParseError),
    /// Nothing but comments and blank lines.
    Empty,
    /// The root is not a mapping (`found` describes it).
    NotAMapping { found: String },
    /// The root's kind is not ResourceList (`None`: no kind).
    Kind { found: Option<String> },
    /// A ResourceList apiVersion this function does not read.
    ApiVersion { found: String },
    /// `items` is not a list (`found` describes it).
    ItemsNotList { found: String },
    /// `items[index]` is not a mapping (`found` describes it).
    ItemNotAMapping { index: usize, found: String },
    /// `items[index]` (on `line`) has a `field` that is missing or not what it must be.
    ItemField {
        index: usize,
        line: usize,
        field: &'static str,
        what: String,
    },
}

impl InputError {
    pub(crate) fn code(&self) -> Code {
        match self {
            InputError::NotUtf8 { .. } => Code::InputNotUtf8,
            InputError::NotYaml(_) => Code::InputNotYaml,
            InputError::Empty => Code::InputEmpty,
            InputError::NotAMapping { .. } | InputError::Kind { .. } => Code::InputNotResourceList,
            InputError::ApiVersion { .. } => Code::InputApiVersion,
            InputError::ItemsNotList { .. } => Code::InputItemsNotList,
            InputError::ItemNotAMapping { .. } | InputError::ItemField { .. } => {
                Code::InputItemNotResource
            }
        }
    }

    /// The field of the ResourceList the problem is at, when it has one.
    pub(crate) fn field(&self) -> Option<String> {
        match self {
            InputError::Kind { .. } => Some("kind".into()),
            InputError::ApiVersion { .. } => Some("apiVersion".into()),
            InputError::ItemsNotList { .. } => Some("items".into()),
            InputError::ItemNotAMapping { index, .. } => Some(format!("items[{index}]")),
            InputError::ItemField { index, field, .. } => Some(format!("items[{index}].{field}")),
            InputError::NotUtf8 { .. }
            | InputError::NotYaml(_)
            | InputError::Empty
            | InputError::NotAMapping { .. } => None,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::NotUtf8 { byte, offset, line } => write!(
                f,
                "the input is not UTF-8: invalid byte 0x{byte:02X} at byte offset {offset} (line {line}); YAML must be UTF-8"
            ),
            InputError::NotYaml(e) => write!(f, "the input is not valid YAML: {e}"),
            InputError::Empty => f.write_str(
                "the input is empty: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1) on stdin",
            ),
            InputError::NotAMapping { found } => {
                write!(f, "the input is {found}, expected a ResourceList mapping")
            }
            InputError::Kind { found: None } => {
                f.write_str("expected kind: ResourceList, found no kind")
            }
            InputError::Kind { found: Some(kind) } => {
                write!(f, "expected kind: ResourceList, found kind: {kind}")
            }
            InputError::ApiVersion { found } => write!(
                f,
                "unsupported ResourceList apiVersion {found:?}; expected one of {}",
                ACCEPTED_API_VERSIONS.join(", ")
            ),
            InputError::ItemsNotList { found } => {
                write!(f, "items is {found}, expected a list of resources")
            }
            InputError::ItemNotAMapping { index, found } => write!(
                f,
                "items[{index}] is {found}, expected a resource (a mapping with apiVersion, kind and metadata)"
            ),
            InputError::ItemField {
                index,
                line,
                field,
                what,
            } => write!(
                f,
                "items[{index}] (line {line}): {field} {what}; a resource is a mapping with apiVersion, kind and metadata"
            ),
        }
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for FnResult {
    fn from(e: InputError) -> FnResult {
        let r = FnResult::error(e.code(), e.to_string());
        match e.field() {
            Some(f) => r.at(f),
            None => r,
        }
    }
}

/// Turns stdin bytes into the text the parser reads: UTF-8 checked, a byte-order mark
/// dropped, CRLF and lone CR line breaks made LF (YAML treats all three as one line
/// break, inside scalars too, so this changes no value).
pub(crate) fn decode(input: &[u8]) -> Result<std::borrow::Cow<'_, str>, InputError> {
    let text = std::str::from_utf8(input).map_err(|e| {
        let at = e.valid_up_to();
        let line = input[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        InputError::NotUtf8 {
            byte: input[at],
            offset: at,
            line,
        }
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
pub(crate) enum OutItem {
    /// The input item at this index, copied verbatim.
    Input(usize),
    /// An input item with edits applied: its new text and the column it started at.
    Edited { text: String, col: usize },
    /// A resource this function generated.
    New(Value),
}

/// Writes the output ResourceList to `out`, item by item (verbatim items straight
/// from the input's text).
/// `results` as a ResourceList with no items: what `check --format yaml` prints.
pub fn results_yaml(results: &[FnResult]) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut out, None, &[], results);
    String::from_utf8(out).unwrap_or_default()
}

pub(crate) fn write(
    out: &mut dyn std::io::Write,
    rl: Option<&ResourceList>,
    items: &[OutItem],
    results: &[FnResult],
) -> std::io::Result<()> {
    let mut buf = String::with_capacity(4096);
    if let Some(rl) = rl {
        if !rl.directives.is_empty() {
            buf.push_str(rl.directives);
            buf.push_str("---\n");
        } else {
            buf.push_str(rl.head);
        }
    }
    buf.push_str("apiVersion: ");
    buf.push_str(rl.map_or(API_VERSION, |rl| rl.api_version.as_str()));
    buf.push_str("\nkind: ResourceList\n");
    let fc = rl.and_then(|rl| rl.function_config.as_ref());
    let fc_first = rl.is_some_and(|rl| rl.function_config_first);
    if let Some(fc) = fc.filter(|_| fc_first) {
        function_config(&mut buf, fc);
    }
    if items.is_empty() {
        buf.push_str("items: []\n");
    } else {
        buf.push_str("items:");
        match rl.map_or("", |rl| rl.items_head) {
            "" => buf.push('\n'),
            head => {
                buf.push_str(head);
                buf.push('\n');
            }
        }
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
    if let Some(fc) = fc.filter(|_| !fc_first) {
        function_config(&mut buf, fc);
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

fn function_config(buf: &mut String, fc: &Span) {
    // On its own line below the key: valid for block and flow mappings alike.
    buf.push_str("functionConfig:\n  ");
    yaml::reindent(buf, &yaml::followable(fc.text, fc.col), fc.col, 2);
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
/// One item, followed by more: its text made [`yaml::followable`], so that what
/// comes after (the next item, the functionConfig, the results) changes no value.
fn entry(buf: &mut String, span: &Span, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    buf.push_str("- ");
    let text = yaml::followable(span.text, span.col);
    if span.col == 2 {
        out.write_all(buf.as_bytes())?;
        buf.clear();
        return out.write_all(text.as_bytes());
    }
    yaml::reindent(buf, &text, span.col, 2);
    Ok(())
}
