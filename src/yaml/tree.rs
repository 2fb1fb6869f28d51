//! A YAML document as a tree of nodes that remember where they came from.
//!
//! Built from saphyr-parser's event stream. Every node carries its byte span in the
//! source, so callers can copy a node's text verbatim (pass-through items) or splice an
//! edit into it (`yaml::edit`) without re-emitting anything they did not change.
//!
//! Two properties matter for hostile input:
//! - building is iterative (an explicit stack), so deep nesting cannot overflow the
//!   call stack, and a [`Limits::max_depth`] turns absurd depth into a clear error;
//! - aliases are kept as references to their anchor, never expanded, so an alias bomb
//!   costs one node per alias.
//!
//! A caller can ask for only part of the tree to be materialised (`keep`): the
//! ResourceList reader keeps just the identifying fields of each item, so memory stays
//! proportional to the number of items rather than to the number of scalars.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Index of a node in [`Tree::nodes`].
pub type NodeId = usize;

/// How a scalar was written. Decides whether its source text may be reused and how
/// its value resolves (only plain scalars can be anything but strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Self {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

#[derive(Debug)]
pub(crate) enum Kind<'a> {
    Scalar {
        value: Cow<'a, str>,
        style: Style,
        /// Full tag, e.g. `tag:yaml.org,2002:str` for `!!str`.
        tag: Option<String>,
    },
    Seq {
        items: Vec<NodeId>,
        flow: bool,
    },
    Map {
        entries: Vec<(NodeId, NodeId)>,
        flow: bool,
    },
    /// `*name`: the node the anchor named (an unresolvable target is `None`).
    Alias(Option<NodeId>),
    /// A subtree the caller chose not to materialise: only its span is known.
    Skipped,
}

#[derive(Debug)]
pub(crate) struct Node<'a> {
    pub(crate) kind: Kind<'a>,
    /// Byte offset of the node's first character, properties (`&a`, `!!map`) included.
    /// For block scalars without properties saphyr starts the span at the content, after
    /// the `|`/`>` header; `yaml::edit` accounts for that.
    pub(crate) start: usize,
    /// Byte offset just past the node's last content character.
    pub(crate) end: usize,
    /// 1-based line of `start`.
    pub(crate) line: usize,
    /// 0-based column of `start`, in characters.
    pub(crate) col: usize,
}

/// One step of a path from the root: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

/// Which paths of a document to materialise (see [`Tree::parse_with`]).
pub(crate) type Keep<'k> = &'k dyn Fn(&[Seg<'_>]) -> bool;

/// Bounds that keep hostile input from costing unbounded time or memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Deepest nesting of collections accepted.
    pub(crate) max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Real manifests nest a few dozen levels at most (CRD schemas are the deepest).
        Limits { max_depth: 1000 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// 1-based line, when the error has a place.
    pub line: Option<usize>,
    /// 1-based column, when the error has a place.
    pub col: Option<usize>,
}

impl From<saphyr_parser::ScanError> for ParseError {
    fn from(e: saphyr_parser::ScanError) -> Self {
        ParseError {
            message: e.info().to_string(),
            line: Some(e.marker().line()),
            col: Some(e.marker().col() + 1),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Why a node has no JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJson {
    /// Deeper than the reader's limit (or an alias that refers to itself).
    TooDeep,
    UnknownAnchor,
    /// A part of the document the reader skipped.
    NotRead,
    /// A mapping key that is not a scalar (JSON keys are strings).
    ComplexKey,
    /// A merge (`<<`) whose value is not a mapping or a list of mappings.
    BadMerge,
}

impl std::fmt::Display for NotJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotJson::TooDeep => "nested too deeply (or an alias refers to itself)",
            NotJson::UnknownAnchor => "an alias to an unknown anchor",
            NotJson::NotRead => "a part of the document that was not read",
            NotJson::ComplexKey => "a mapping key that is not a scalar",
            NotJson::BadMerge => "a merge (<<) whose value is not a mapping or a list of mappings",
        })
    }
}

impl std::error::Error for NotJson {}

/// A parsed document (the first and only one of the stream).
#[derive(Debug)]
pub struct Tree<'a> {
    pub(crate) src: &'a str,
    pub(crate) nodes: Vec<Node<'a>>,
    pub root: Option<NodeId>,
    /// Byte offset where the document's content may begin: after `%` directives and
    /// `---`, if any. Text before it (directives) must travel with copied nodes.
    pub(crate) directives: &'a str,
    /// The nodes that carry an anchor (`&name`), in document order; empty for the
    /// many documents without one.
    pub(crate) anchored: Vec<NodeId>,
    /// The aliases (`*name`) to an anchor of the tree, in document order.
    pub(crate) aliases: Vec<NodeId>,
}

impl<'a> Tree<'a> {
    /// Parses the whole document.
    pub fn parse(src: &'a str) -> Result<Tree<'a>, ParseError> {
        Self::parse_with(src, Limits::default(), &|_| true)
    }

    /// Parses, materialising only the nodes whose path `keep` accepts (the root always
    /// is). A node that is not kept still appears, as [`Kind::Skipped`], in its parent,
    /// so spans of every direct child of a kept collection are known.
    pub(crate) fn parse_with(
        src: &'a str,
        limits: Limits,
        keep: &dyn Fn(&[Seg<'_>]) -> bool,
    ) -> Result<Tree<'a>, ParseError> {
        Builder::new(src, limits, keep).run()
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id]
    }

    /// Follows an alias to its anchor (aliases never point at aliases).
    pub(crate) fn resolve(&self, id: NodeId) -> Option<NodeId> {
        match self.nodes[id].kind {
            Kind::Alias(target) => target,
            _ => Some(id),
        }
    }

    /// The mapping entries of `id` (after resolving an alias), or `None` if it is not a
    /// mapping.
    pub(crate) fn entries(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.nodes[self.resolve(id)?].kind {
            Kind::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    pub(crate) fn seq_items(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.nodes[self.resolve(id)?].kind {
            Kind::Seq { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The scalar value and style of `id` (after resolving an alias).
    pub(crate) fn scalar(&self, id: NodeId) -> Option<(&str, Style, Option<&str>)> {
        match &self.nodes[self.resolve(id)?].kind {
            Kind::Scalar { value, style, tag } => Some((value, *style, tag.as_deref())),
            _ => None,
        }
    }

    /// The value of `key` in mapping `map`: the entry whose key is a scalar equal to `key`.
    pub(crate) fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entry(map, key).map(|(_, v)| v)
    }

    /// The `(key, value)` entry of `key` in mapping `map`.
    pub(crate) fn entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.entries(map)?
            .iter()
            .find(|(k, _)| self.scalar(*k).is_some_and(|(s, _, _)| s == key))
            .copied()
    }

    /// The string at `path` below `map`, if every step exists and the leaf is a
    /// string scalar.
    pub(crate) fn get_str(&self, map: NodeId, path: &[&str]) -> Option<&str> {
        let mut cur = map;
        for key in path {
            cur = self.get(cur, key)?;
        }
        let (value, style, tag) = self.scalar(cur)?;
        match crate::yaml::scalar::resolve(value, style, tag) {
            crate::yaml::scalar::Resolved::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The name of the anchor on `id` (`core` for `&core "..."`), read from the node's
    /// properties in the source; `None` when it has no anchor.
    pub(crate) fn anchor_name(&self, id: NodeId) -> Option<&'a str> {
        if !self.anchored.contains(&id) {
            return None;
        }
        props_anchor(self.src, self.nodes[id].start)
    }

    /// The aliases outside `target` that read it: those whose anchor is `target`
    /// itself, and with `within`, also those whose anchor is a node inside it. An
    /// edit of `target` would change what each of them reads (or, replacing it, leave
    /// them without their anchor). Returns `(alias, its anchor)` pairs.
    pub(crate) fn aliases_of(&self, target: NodeId, within: bool) -> Vec<(NodeId, NodeId)> {
        if self.anchored.is_empty() {
            return Vec::new();
        }
        let (start, end) = (self.nodes[target].start, self.nodes[target].end);
        let is_inside = |n: &Node| n.start >= start && n.end <= end;
        let anchors: Vec<NodeId> = self
            .anchored
            .iter()
            .copied()
            .filter(|&a| a == target || (within && is_inside(&self.nodes[a])))
            .collect();
        if anchors.is_empty() {
            return Vec::new();
        }
        self.aliases
            .iter()
            .filter_map(|&i| match self.nodes[i].kind {
                Kind::Alias(Some(t)) if anchors.contains(&t) && !is_inside(&self.nodes[i]) => {
                    Some((i, t))
                }
                _ => None,
            })
            .collect()
    }

    /// The source text of a node.
    #[cfg(test)]
    pub(crate) fn text(&self, id: NodeId) -> &'a str {
        let n = &self.nodes[id];
        self.src.get(n.start..n.end).unwrap_or("")
    }

    /// The value of a node as JSON, scalars typed as Go's yaml.v3 types them. Aliases
    /// are followed; depth is bounded, so an alias cycle or bomb is an error, not a hang.
    pub fn to_json(&self, id: NodeId) -> Result<serde_json::Value, NotJson> {
        self.to_json_at(id, 0, false)
    }

    /// [`Tree::to_json`] of a tree read by [`Tree::parse_with`]: what was not kept is
    /// left out of mappings and `null` in sequences (so indices stay true).
    pub(crate) fn to_json_kept(&self, id: NodeId) -> Result<serde_json::Value, NotJson> {
        self.to_json_at(id, 0, true)
    }

    fn to_json_at(
        &self,
        id: NodeId,
        depth: usize,
        kept: bool,
    ) -> Result<serde_json::Value, NotJson> {
        use serde_json::Value;
        if depth > Limits::default().max_depth {
            return Err(NotJson::TooDeep);
        }
        let id = self.resolve(id).ok_or(NotJson::UnknownAnchor)?;
        Ok(match &self.nodes[id].kind {
            Kind::Scalar { value, style, tag } => scalar_json(value, *style, tag.as_deref()),
            Kind::Seq { items, .. } => Value::Array(
                items
                    .iter()
                    .map(|&i| self.to_json_at(i, depth + 1, kept))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Map { entries, .. } => {
                let mut m = serde_json::Map::new();
                let mut merges = Vec::new();
                for &(k, v) in entries {
                    if self.is_merge_key(k) {
                        merges.push(v);
                        continue;
                    }
                    let key = self.key_text(k)?;
                    if kept && matches!(self.nodes[v].kind, Kind::Skipped) {
                        continue;
                    }
                    m.insert(key, self.to_json_at(v, depth + 1, kept)?);
                }
                for v in merges {
                    self.merge_into(&mut m, v, depth + 1, kept)?;
                }
                Value::Object(m)
            }
            Kind::Skipped if kept => Value::Null,
            Kind::Alias(_) | Kind::Skipped => return Err(NotJson::NotRead),
        })
    }

    /// A mapping key as JSON's object keys are: its text, for any scalar (yaml.v3 keys
    /// an `interface{}` map by the typed value; `1` and `"1"` are the same key in JSON).
    fn key_text(&self, k: NodeId) -> Result<String, NotJson> {
        match self.scalar(k) {
            Some((s, _, _)) => Ok(s.to_string()),
            None => Err(NotJson::ComplexKey),
        }
    }

    /// Whether `k` is the merge key `<<` (plain, untagged or `!!merge`), as yaml.v3's
    /// `isMerge` has it.
    fn is_merge_key(&self, k: NodeId) -> bool {
        matches!(&self.nodes[k].kind, Kind::Scalar { value, style: Style::Plain, tag }
            if value == "<<" && matches!(tag.as_deref(), None | Some("!") | Some("tag:yaml.org,2002:merge")))
    }

    /// Adds the entries `<<: v` brings (a mapping, or a list of mappings, the first one
    /// winning) for the keys `m` does not have yet: explicit keys win, as in yaml.v3.
    fn merge_into(
        &self,
        m: &mut serde_json::Map<String, serde_json::Value>,
        v: NodeId,
        depth: usize,
        kept: bool,
    ) -> Result<(), NotJson> {
        let want_map = || NotJson::BadMerge;
        let target = self.resolve(v).ok_or(NotJson::UnknownAnchor)?;
        let maps: Vec<NodeId> = match &self.nodes[target].kind {
            Kind::Map { .. } => vec![target],
            Kind::Seq { items, .. } => items.clone(),
            Kind::Skipped if kept => return Ok(()),
            _ => return Err(want_map()),
        };
        for map in maps {
            // Only a mapping reads as an object.
            let serde_json::Value::Object(add) = self.to_json_at(map, depth, kept)? else {
                return Err(want_map());
            };
            for (k, v) in add {
                m.entry(k).or_insert(v);
            }
        }
        Ok(())
    }

    /// A short description of what a node is, for "expected X, found Y" messages.
    pub(crate) fn describe(&self, id: NodeId) -> String {
        let Some(id) = self.resolve(id) else {
            return "an alias".into();
        };
        match &self.nodes[id].kind {
            Kind::Scalar { value, style, tag } => {
                use crate::yaml::scalar::Resolved;
                match crate::yaml::scalar::resolve(value, *style, tag.as_deref()) {
                    Resolved::Null => "null".into(),
                    Resolved::Bool(b) => format!("the boolean {b}"),
                    Resolved::Int | Resolved::Float => format!("the number {value}"),
                    Resolved::Timestamp => format!("the timestamp {value}"),
                    Resolved::Str(_) => "a string".into(),
                }
            }
            Kind::Seq { .. } => "a list".into(),
            Kind::Map { .. } => "a mapping".into(),
            Kind::Alias(_) | Kind::Skipped => "a value".into(),
        }
    }
}

/// A scalar as JSON, typed as yaml.v3 decodes it. JSON has no infinities, NaN or
/// timestamps: those stay the text they were written as.
fn scalar_json(value: &str, style: Style, tag: Option<&str>) -> serde_json::Value {
    use crate::yaml::scalar::{GoValue, go_value};
    use serde_json::Value;
    match go_value(value, style, tag) {
        GoValue::Null => Value::Null,
        GoValue::Bool(b) => Value::Bool(b),
        GoValue::Int(i) => Value::from(i),
        GoValue::Uint(u) => Value::from(u),
        GoValue::Float(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| Value::String(value.to_string()), Value::Number),
        GoValue::Timestamp | GoValue::Str => Value::String(value.to_string()),
    }
}

/// One document of a multi-document stream: its root node's text and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document<'a> {
    /// The root node's text, with the comments before it (after the `---` line) and
    /// after it (up to the next `---`): a `helm template` stream's `# Source:` lines.
    pub(crate) text: &'a str,
    /// The root node's column.
    pub(crate) col: usize,
    /// 1-based line where the text starts.
    pub(crate) line: usize,
    /// Whether the root is a mapping (a resource); documents that are empty are skipped.
    pub(crate) is_mapping: bool,
    /// Whether the document began with an explicit `---`.
    pub(crate) explicit_start: bool,
}

/// Splits a YAML stream (`---`-separated documents, as files hold resources) into its
/// documents' root nodes, without building trees. Every document is parsed whole, so
/// a stream that is not valid YAML is an error.
pub(crate) fn documents(src: &str) -> Result<Vec<Document<'_>>, ParseError> {
    let offsets = Offsets::new(src);
    let mut parser = Parser::new_from_str(src);
    // Per document: the root's start, column, line and kind, and where its text ends.
    let mut roots: Vec<(usize, usize, usize, bool, usize, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut root: Option<(usize, usize, usize, bool)> = None;
    let mut last_end = 0;
    let mut explicit = false;
    while let Some(event) = parser.next_event() {
        let (event, span) = event?;
        let start = offsets.byte(src, span.start.index());
        let end = offsets.byte(src, span.end.index());
        match event {
            Event::DocumentStart(e) => explicit = e,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if depth == 0 {
                    let is_map = matches!(event, Event::MappingStart(..));
                    root = Some((start, span.start.col(), span.start.line(), is_map));
                }
                depth += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.saturating_sub(1);
                if let Some(e) = closing_bracket(src, start).filter(|_| {
                    // A block collection's end event has no text.
                    end > start || matches!(src.as_bytes().get(start), Some(b']' | b'}'))
                }) {
                    last_end = e;
                }
                if depth == 0 {
                    if let Some((s, col, line, is_mapping)) = root.take() {
                        roots.push((s, col, line, is_mapping, last_end.max(s), explicit));
                    }
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = Style::from(style);
                let bare = anchor == 0 && tag.is_none() && style == Style::Plain;
                let e = if bare && value.is_empty() {
                    after_colon(src, start)
                } else {
                    scalar_end(src, style, start, end)
                };
                last_end = e;
                if depth == 0 && !(value.is_empty() && bare) {
                    roots.push((
                        start,
                        span.start.col(),
                        span.start.line(),
                        false,
                        e,
                        explicit,
                    ));
                }
            }
            Event::Alias(_) => {
                last_end = end;
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    let mut docs = Vec::with_capacity(roots.len());
    let mut from = 0;
    for (start, col, line, is_mapping, end, explicit_start) in roots {
        let (text, breaks) = widened(src, from, start, end);
        from = end;
        docs.push(Document {
            text: src.get(text).unwrap_or(""),
            col,
            line: line.saturating_sub(breaks),
            is_mapping,
            explicit_start,
        });
    }
    Ok(docs)
}

/// A block scalar whose last line ends the input without a line break has no final
/// line break in its value, whatever its chomping (YAML 1.2 `b-chomped-last`: the end
/// of input instead of a break; what libyaml, and so Go's yaml.v3, PyYAML and ruamel
/// read); saphyr adds one for clip and keep, which is taken off here. A last line of
/// blanks no deeper than the scalar's indentation is an empty line, not content: the
/// break before it ends the value, and stays.
fn at_end_of_input<'v>(
    src: &str,
    style: Style,
    (start, end): (usize, usize),
    value: Cow<'v, str>,
) -> Cow<'v, str> {
    let block = matches!(style, Style::Literal | Style::Folded);
    let last_line = end >= src.trim_end_matches([' ', '\t']).len()
        && !src.ends_with('\n')
        && last_line_is_content(src, start);
    match value {
        Cow::Owned(mut v) if block && last_line && v.ends_with('\n') => {
            v.pop();
            Cow::Owned(v)
        }
        Cow::Borrowed(v) if block && last_line && v.ends_with('\n') => {
            Cow::Borrowed(&v[..v.len() - 1])
        }
        v => v,
    }
}

/// Whether the input's last line (it has no line break) is content of the block
/// scalar whose header is at `start`: text, or blanks deeper than the scalar's
/// indentation (that of its first line with text).
fn last_line_is_content(src: &str, start: usize) -> bool {
    let last = src.rfind('\n').map_or(src, |at| &src[at + 1..]);
    if !last.bytes().all(|b| matches!(b, b' ' | b'\t')) {
        return true;
    }
    // The lines after the header's (`|` or `>`, on the node's line or the last line
    // with text before it).
    let header = super::block_header(src, start).map_or(start, |(at, _)| at);
    let body = src
        .get(header..)
        .and_then(|s| s.split_once('\n'))
        .map_or("", |(_, rest)| rest);
    let indent = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len());
    indent.is_some_and(|n| last.len() > n)
}

/// Where a scalar's text ends, given saphyr's span `start..end` of it. A block
/// scalar's span runs on over trailing blank lines and the next line's indentation:
/// keep the line breaks (they may be content under `|+`) but not that indentation. A
/// quoted scalar's span may run on to the next token, over a comment (`"x" # c`): end
/// at the closing quote.
fn scalar_end(src: &str, style: Style, start: usize, end: usize) -> usize {
    match style {
        Style::Literal | Style::Folded => start.max(trim_spaces_end(src, end)),
        Style::SingleQuoted | Style::DoubleQuoted => closing_quote(src, start, end).unwrap_or(end),
        Style::Plain => end,
    }
}

/// The text of the node at `start..end` with the comments around it ([`lead_start`],
/// [`trail_end`]; `from` is where the text before the node begins), and how many line
/// breaks it gains before the node.
pub(crate) fn widened(
    src: &str,
    from: usize,
    start: usize,
    end: usize,
) -> (std::ops::Range<usize>, usize) {
    let text_start = lead_start(src, from, start);
    let breaks = memchr::memchr_iter(b'\n', &src.as_bytes()[text_start..start]).count();
    (text_start..trail_end(src, end), breaks)
}

/// Where the comments before a node begin: at the first comment after the last
/// indicator (`-`, `,`, `[`, `:`, `---`) in `src[from..node_start]`, or at the node.
/// Between an indicator and a node there is only space and comments.
pub(crate) fn lead_start(src: &str, from: usize, node_start: usize) -> usize {
    let bytes = src.as_bytes();
    let mut first_comment = None;
    let mut p = from.min(node_start);
    while p < node_start {
        match bytes[p] {
            b' ' | b'\t' | b'\n' | b'\r' => p += 1,
            b'#' => {
                first_comment.get_or_insert(p);
                p = memchr::memchr(b'\n', &bytes[p..node_start]).map_or(node_start, |i| p + i);
            }
            _ => {
                first_comment = None;
                p += 1;
            }
        }
    }
    first_comment.unwrap_or(node_start)
}

/// Where the comments after a node end: past the last comment in the space and
/// comments that follow `node_end` (up to the next indicator or content), or at
/// `node_end`.
pub(crate) fn trail_end(src: &str, node_end: usize) -> usize {
    let bytes = src.as_bytes();
    let mut end = node_end;
    let mut p = node_end;
    while p < bytes.len() {
        match bytes[p] {
            b' ' | b'\t' | b'\n' | b'\r' => p += 1,
            b'#' => {
                p = memchr::memchr(b'\n', &bytes[p..]).map_or(bytes.len(), |i| p + i);
                end = p;
            }
            _ => break,
        }
    }
    end
}

/// Converts saphyr's character offsets into byte offsets. ASCII input (the common case)
/// needs no table; otherwise a checkpoint every 64 characters bounds each lookup.
struct Offsets {
    ascii: bool,
    checkpoints: Vec<usize>,
}

const CHECKPOINT: usize = 64;

impl Offsets {
    fn new(src: &str) -> Offsets {
        if src.is_ascii() {
            return Offsets {
                ascii: true,
                checkpoints: Vec::new(),
            };
        }
        let checkpoints = src
            .char_indices()
            .step_by(CHECKPOINT)
            .map(|(b, _)| b)
            .collect();
        Offsets {
            ascii: false,
            checkpoints,
        }
    }

    fn byte(&self, src: &str, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(src.len());
        }
        let Some(&base) = self.checkpoints.get(char_index / CHECKPOINT) else {
            return src.len();
        };
        let rest = char_index % CHECKPOINT;
        src[base..]
            .char_indices()
            .nth(rest)
            .map_or(src.len(), |(b, _)| base + b)
    }
}

struct Frame<'a> {
    /// The collection's node, when it has one (a child of a kept collection, or kept).
    node: Option<NodeId>,
    /// Whether its children are materialised.
    kept: bool,
    is_map: bool,
    flow: bool,
    children: Vec<NodeId>,
    /// Mapping only: the key waiting for its value.
    pending_key: Option<NodeId>,
    /// Children seen (kept or not), for sequence indexes and key/value parity.
    count: usize,
    /// Whether this frame pushed a segment on the path.
    pushed: bool,
    /// The anchor on this collection (0 for none), and the nodes its children stand
    /// for with aliases expanded.
    anchor: usize,
    size: u64,
    /// Mapping only: the scalar keys seen so far, with their lines, to refuse
    /// duplicates (Go's yaml.v3 refuses them, and readers disagree on which wins).
    keys: KeySet<'a>,
}

/// The keys of one mapping, with the line each was first seen on. Most mappings are
/// small: a linear scan beats hashing until a few dozen keys.
#[derive(Default)]
struct KeySet<'a> {
    small: Vec<(Cow<'a, str>, usize)>,
    large: Option<HashMap<Cow<'a, str>, usize>>,
}

impl<'a> KeySet<'a> {
    const SMALL: usize = 24;

    /// Adds `key`; returns the line of an earlier equal key. Takes the `Cow` so that
    /// a borrowed key is stored without allocating.
    #[allow(clippy::ptr_arg)]
    fn insert(&mut self, key: &Cow<'a, str>, line: usize) -> Option<usize> {
        if let Some(large) = &mut self.large {
            return match large.get(key.as_ref()) {
                Some(&first) => Some(first),
                None => {
                    large.insert(key.clone(), line);
                    None
                }
            };
        }
        if let Some((_, first)) = self.small.iter().find(|(k, _)| k == key) {
            return Some(*first);
        }
        self.small.push((key.clone(), line));
        if self.small.len() > Self::SMALL {
            self.large = Some(self.small.drain(..).collect());
        }
        None
    }
}

struct Builder<'a, 'k> {
    src: &'a str,
    offsets: Offsets,
    limits: Limits,
    keep: &'k dyn Fn(&[Seg<'_>]) -> bool,
    nodes: Vec<Node<'a>>,
    stack: Vec<Frame<'a>>,
    path: Vec<Seg<'a>>,
    anchors: HashMap<usize, Option<NodeId>>,
    /// How many nodes each anchor's node stands for with its aliases expanded.
    expanded: HashMap<usize, u64>,
    /// Nodes seen, and nodes the document stands for once aliases are expanded.
    physical: u64,
    total: u64,
    last_end: usize,
    root: Option<NodeId>,
    anchored: Vec<NodeId>,
    aliases: Vec<NodeId>,
    docs: usize,
    directives_end: usize,
}

impl<'a, 'k> Builder<'a, 'k> {
    fn new(src: &'a str, limits: Limits, keep: &'k dyn Fn(&[Seg<'_>]) -> bool) -> Self {
        Builder {
            src,
            offsets: Offsets::new(src),
            limits,
            keep,
            nodes: Vec::new(),
            stack: Vec::new(),
            path: Vec::new(),
            anchors: HashMap::new(),
            expanded: HashMap::new(),
            physical: 0,
            total: 0,
            last_end: 0,
            root: None,
            anchored: Vec::new(),
            aliases: Vec::new(),
            docs: 0,
            directives_end: 0,
        }
    }

    fn err_at(&self, message: String, span: &Span) -> ParseError {
        ParseError {
            message,
            line: Some(span.start.line()),
            col: Some(span.start.col() + 1),
        }
    }

    fn run(mut self) -> Result<Tree<'a>, ParseError> {
        let mut parser = Parser::new_from_str(self.src);
        while let Some(event) = parser.next_event() {
            let (event, span) = event?;
            match event {
                Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                Event::DocumentStart(explicit) => {
                    self.docs += 1;
                    if self.docs > 1 {
                        return Err(self.err_at(
                            "the input holds more than one YAML document; a ResourceList is a single document"
                                .into(),
                            &span,
                        ));
                    }
                    if explicit {
                        self.directives_end = self.offsets.byte(self.src, span.start.index());
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let start = self.offsets.byte(self.src, span.start.index());
                    let style = Style::from(style);
                    let end = scalar_end(
                        self.src,
                        style,
                        start,
                        self.offsets.byte(self.src, span.end.index()),
                    );
                    let in_value = self
                        .stack
                        .last()
                        .is_some_and(|f| f.is_map && f.count % 2 == 1);
                    let bare = anchor == 0 && tag.is_none() && style == Style::Plain;
                    // An empty value without properties has no text; saphyr may give it
                    // the span of what follows (`{k}`: the `}`).
                    let end = if bare && value.is_empty() { start } else { end };
                    let (start, end) = if in_value && value.is_empty() && start == end {
                        // saphyr places an empty value before its key's `:`; it ends
                        // after it (or an item ending `key:` would lose its colon).
                        let e = after_colon(self.src, start);
                        (e, e)
                    } else {
                        (start, end)
                    };
                    let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                    let value = at_end_of_input(self.src, style, (start, end), value);
                    let kind = Kind::Scalar { value, style, tag };
                    if anchor != 0 {
                        self.expanded.insert(anchor, 1);
                    }
                    self.count(1, &span)?;
                    self.leaf(kind, start, end, &span, anchor)?;
                }
                Event::Alias(anchor) => {
                    let start = self.offsets.byte(self.src, span.start.index());
                    let end = self.offsets.byte(self.src, span.end.index());
                    let target = self.anchors.get(&anchor).copied().flatten();
                    let size = self.expanded.get(&anchor).copied().unwrap_or(1);
                    self.count(size, &span)?;
                    self.leaf(Kind::Alias(target), start, end, &span, 0)?;
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    self.open(is_map, &span, anchor)?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(&span)?,
            }
        }
        Ok(Tree {
            src: self.src,
            nodes: self.nodes,
            root: self.root,
            directives: &self.src[..self.directives_end],
            anchored: self.anchored,
            aliases: self.aliases,
        })
    }

    /// Where the next node goes: whether it is kept, and the path segment it adds.
    /// Returns `(has_node, kept, segment)`.
    fn place(&mut self, is_scalar: bool) -> (bool, bool, Option<Seg<'a>>) {
        let Some(parent) = self.stack.last() else {
            return (true, true, None);
        };
        if !parent.kept {
            return (false, false, None);
        }
        if parent.is_map {
            match parent.pending_key {
                // A key: scalar keys are kept (they name their values), others are not.
                None => (true, is_scalar, None),
                Some(key) => {
                    let name = match &self.nodes[key].kind {
                        Kind::Scalar { value, .. } => value.clone(),
                        _ => Cow::Borrowed(""),
                    };
                    let seg = Seg::Key(name);
                    let kept = self.keep_with(&seg);
                    (true, kept, Some(seg))
                }
            }
        } else {
            let seg = Seg::Index(parent.count);
            let kept = self.keep_with(&seg);
            (true, kept, Some(seg))
        }
    }

    fn keep_with(&mut self, seg: &Seg<'a>) -> bool {
        self.path.push(seg.clone());
        let kept = (self.keep)(&self.path);
        self.path.pop();
        kept
    }

    fn push_node(&mut self, kind: Kind<'a>, start: usize, end: usize, span: &Span) -> NodeId {
        self.nodes.push(Node {
            kind,
            start,
            end,
            line: span.start.line(),
            col: span.start.col(),
        });
        self.nodes.len() - 1
    }

    fn leaf(
        &mut self,
        kind: Kind<'a>,
        start: usize,
        end: usize,
        span: &Span,
        anchor: usize,
    ) -> Result<(), ParseError> {
        self.last_end = end;
        if let Kind::Scalar { value, .. } = &kind {
            self.check_key(value, span)?;
        }
        let (has_node, kept, _) = self.place(true);
        let id = if has_node {
            let alias = kept && matches!(kind, Kind::Alias(Some(_)));
            let kind = if kept { kind } else { Kind::Skipped };
            let id = self.push_node(kind, start, end, span);
            if alias {
                self.aliases.push(id);
            }
            Some(id)
        } else {
            None
        };
        if anchor != 0 {
            self.anchors.insert(anchor, id);
            self.anchored.extend(id);
        }
        self.attach(id, span)
    }

    fn open(&mut self, is_map: bool, span: &Span, anchor: usize) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.err_at(
                format!(
                    "nesting deeper than {} levels; no Kubernetes resource nests this deep",
                    self.limits.max_depth
                ),
                span,
            ));
        }
        let start = self.offsets.byte(self.src, span.start.index());
        let end = self.offsets.byte(self.src, span.end.index());
        // A flow collection's start event spans its properties and bracket (and may
        // run on over space and a comment after it: `[    # note`); a block one's
        // spans at most its properties.
        let flow = opens_flow(&self.src[start..end]);
        let (has_node, kept, seg) = self.place(false);
        let node = if has_node {
            let kind = if kept {
                if is_map {
                    Kind::Map {
                        entries: Vec::new(),
                        flow,
                    }
                } else {
                    Kind::Seq {
                        items: Vec::new(),
                        flow,
                    }
                }
            } else {
                Kind::Skipped
            };
            Some(self.push_node(kind, start, end, span))
        } else {
            None
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node);
            self.anchored.extend(node);
        }
        let pushed = kept && seg.is_some();
        if let (true, Some(seg)) = (pushed, seg) {
            self.path.push(seg);
        }
        self.stack.push(Frame {
            node,
            kept,
            is_map,
            flow,
            children: Vec::new(),
            pending_key: None,
            count: 0,
            pushed,
            keys: KeySet::default(),
            anchor,
            size: 0,
        });
        Ok(())
    }

    /// Adds `size` expanded nodes to the collection being built (or to the document),
    /// and refuses a document whose aliases expand it far beyond its own size.
    fn count(&mut self, size: u64, span: &Span) -> Result<(), ParseError> {
        self.physical += 1;
        match self.stack.last_mut() {
            Some(parent) => parent.size = parent.size.saturating_add(size),
            None => self.total = self.total.saturating_add(size),
        }
        let open: u64 = self
            .stack
            .iter()
            .map(|f| f.size)
            .fold(0, u64::saturating_add);
        let expanded = self.total.saturating_add(open);
        if expanded > self.physical.saturating_mul(10).saturating_add(1_000_000) {
            return Err(self.err_at(
                format!(
                    "excessive aliasing: the aliases expand this document to more than {expanded} nodes from {} (an alias bomb); write the values out instead",
                    self.physical
                ),
                span,
            ));
        }
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<(), ParseError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let size = frame.size.saturating_add(1);
        if frame.anchor != 0 {
            self.expanded.insert(frame.anchor, size);
        }
        self.physical = self.physical.saturating_sub(1);
        self.count(size, span)?;
        if frame.pushed {
            self.path.pop();
        }
        if frame.flow {
            // saphyr's end of a flow mapping with a trailing comma (`{a: 1, }`) is the
            // comma: the node ends after its closing bracket.
            let at = self.offsets.byte(self.src, span.start.index());
            self.last_end = closing_bracket(self.src, at)
                .unwrap_or_else(|| self.offsets.byte(self.src, span.end.index()));
        }
        let end = self.last_end;
        if let Some(id) = frame.node {
            self.nodes[id].end = end;
            if frame.kept {
                if frame.is_map {
                    let entries: Vec<(NodeId, NodeId)> = frame
                        .children
                        .chunks_exact(2)
                        .map(|kv| (kv[0], kv[1]))
                        .collect();
                    self.nodes[id].kind = Kind::Map {
                        entries,
                        flow: frame.flow,
                    };
                } else {
                    self.nodes[id].kind = Kind::Seq {
                        items: frame.children,
                        flow: frame.flow,
                    };
                }
            }
        }
        self.attach(frame.node, span)
    }

    fn attach(&mut self, id: Option<NodeId>, span: &Span) -> Result<(), ParseError> {
        let Some(parent) = self.stack.last_mut() else {
            self.root = id;
            return Ok(());
        };
        parent.count += 1;
        if parent.kept {
            let Some(id) = id else {
                return Err(self.err_at("internal: kept child without a node".into(), span));
            };
            parent.children.push(id);
            if parent.is_map {
                parent.pending_key = match parent.pending_key {
                    None => Some(id),
                    Some(_) => None,
                };
            }
        }
        Ok(())
    }

    /// Refuses a scalar key already present in the mapping being built. Takes the
    /// `Cow` itself: cloning a borrowed one is free, where a `&str` would allocate.
    #[allow(clippy::ptr_arg)]
    fn check_key(&mut self, value: &Cow<'a, str>, span: &Span) -> Result<(), ParseError> {
        let Some(parent) = self.stack.last_mut() else {
            return Ok(());
        };
        if !parent.is_map || parent.count % 2 != 0 {
            return Ok(());
        }
        if let Some(first) = parent.keys.insert(value, span.start.line()) {
            return Err(ParseError {
                message: format!(
                    "duplicate key {:?} (first on line {first}); YAML readers disagree on which value wins",
                    value.as_ref()
                ),
                line: Some(span.start.line()),
                col: Some(span.start.col() + 1),
            });
        }
        Ok(())
    }
}

/// Where an empty mapping value really ends: after the `:` that follows `pos` (the
/// end of its key), or `pos` when there is none.
fn after_colon(src: &str, pos: usize) -> usize {
    let bytes = src.as_bytes();
    let mut p = pos;
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
        p += 1;
    }
    if p < bytes.len() && bytes[p] == b':' {
        p + 1
    } else {
        pos
    }
}

/// Whether a collection's start event text (`&a !t [`, `{ # c`) opens a flow
/// collection: a bracket before any comment.
fn opens_flow(text: &str) -> bool {
    let mut prev_space = true;
    for c in text.chars() {
        match c {
            '[' | '{' => return true,
            '#' if prev_space => return false,
            _ => prev_space = matches!(c, ' ' | '\t' | '\n'),
        }
    }
    false
}

/// The end of a flow collection whose closing event starts at `at`: just past the
/// first `]` or `}` from there, over spaces, line breaks, commas and comments.
fn closing_bracket(src: &str, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut p = at;
    while p < bytes.len() {
        match bytes[p] {
            b']' | b'}' => return Some(p + 1),
            b' ' | b'\t' | b'\n' | b'\r' | b',' => p += 1,
            b'#' => p += memchr::memchr(b'\n', &bytes[p..]).unwrap_or(bytes.len() - p),
            _ => return None,
        }
    }
    None
}

/// Just past the closing quote of the quoted scalar in `src[start..limit]` (after its
/// properties, if any): `''` is a quote inside single quotes, `\"` inside double.
fn closing_quote(src: &str, start: usize, limit: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let limit = limit.min(bytes.len());
    let open = start + src.get(start..limit)?.find(['"', '\''])?;
    let quote = bytes[open];
    let mut p = open + 1;
    while p < limit {
        // Straight to the next quote or backslash.
        p += memchr::memchr2(quote, b'\\', &bytes[p..limit])?;
        match bytes[p] {
            b'\\' if quote == b'"' => p += 2,
            b'\'' if quote == b'\'' && bytes.get(p + 1) == Some(&b'\'') => p += 2,
            c if c == quote => return Some(p + 1),
            _ => p += 1,
        }
    }
    None
}

/// The anchor among the properties (`!tag &name`, either order) that start at `at`.
fn props_anchor(src: &str, at: usize) -> Option<&str> {
    let mut rest = src.get(at..)?;
    for _ in 0..2 {
        rest = rest.trim_start_matches([' ', '\t', '\n']);
        let end = rest
            .find([' ', '\t', '\n', ',', '[', ']', '{', '}'])
            .unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        if let Some(name) = token.strip_prefix('&') {
            return Some(name);
        }
        if !token.starts_with('!') {
            return None;
        }
        rest = after;
    }
    None
}

/// Moves `end` back over spaces and tabs (not line breaks).
fn trim_spaces_end(src: &str, end: usize) -> usize {
    let bytes = src.as_bytes();
    let mut e = end.min(bytes.len());
    while e > 0 && matches!(bytes[e - 1], b' ' | b'\t') {
        e -= 1;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_bytes_even_after_multibyte_text() {
        let src = "a: \"é\"\nb: ü\nc: [x, y]\n";
        let t = Tree::parse(src).unwrap();
        let root = t.root.unwrap();
        assert_eq!(t.text(t.get(root, "b").unwrap()), "ü");
        assert_eq!(t.text(t.get(root, "c").unwrap()), "[x, y]");
        assert_eq!(t.text(t.get(root, "a").unwrap()), "\"é\"");
    }

    /// A block scalar at the end of the input with no line break: the last line counts
    /// as content only when it has text or blanks past the scalar's indentation (what
    /// libyaml, PyYAML and ruamel.yaml read, each checked by hand against PyYAML 6).
    #[test]
    fn block_scalars_ending_the_input_read_as_libyaml_reads_them() {
        for (src, want) in [
            ("k: |\n  a", serde_json::json!({"k": "a"})),
            ("k: |\n  a\n ", serde_json::json!({"k": "a\n"})),
            ("k: |+\n  a\n\n ", serde_json::json!({"k": "a\n\n"})),
            ("k: |\n  a\n   ", serde_json::json!({"k": "a\n "})),
            ("k: |+\n  a\n   ", serde_json::json!({"k": "a\n "})),
            ("k: >\n  a\n ", serde_json::json!({"k": "a\n"})),
            ("- |\n  a\n ", serde_json::json!(["a\n"])),
            ("k: |2\n  a\n   ", serde_json::json!({"k": "a\n "})),
        ] {
            let t = Tree::parse(src).unwrap();
            assert_eq!(t.to_json(t.root.unwrap()).unwrap(), want, "{src:?}");
        }
    }

    /// saphyr's span of a quoted scalar can take a comment after it in.
    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let src = "m:\n  a: \"x \\\" y\" # c\n  b: &q 'it''s' # d\n";
        let t = Tree::parse(src).unwrap();
        let m = t.get(t.root.unwrap(), "m").unwrap();
        assert_eq!(t.text(t.get(m, "a").unwrap()), "\"x \\\" y\"");
        assert_eq!(t.text(t.get(m, "b").unwrap()), "&q 'it''s'");
    }

    #[test]
    fn block_scalar_end_keeps_breaks_but_not_next_indent() {
        let src = "m:\n  a: |+\n    x\n\n  b: 1\n";
        let t = Tree::parse(src).unwrap();
        let m = t.get(t.root.unwrap(), "m").unwrap();
        let a = t.get(m, "a").unwrap();
        assert!(t.text(a).ends_with("x\n\n"), "{:?}", t.text(a));
    }

    #[test]
    fn block_collection_ends_at_last_content() {
        let src = "items:\n- a: 1\n  b: two\n\n# c\n- x\n";
        let t = Tree::parse(src).unwrap();
        let items = t
            .seq_items(t.get(t.root.unwrap(), "items").unwrap())
            .unwrap();
        assert_eq!(t.text(items[0]), "a: 1\n  b: two");
        assert_eq!(t.text(items[1]), "x");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = Tree::parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(e.message.contains("duplicate key \"a\""), "{e}");
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn more_than_one_document_is_an_error() {
        let e = Tree::parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.message.contains("more than one YAML document"), "{e}");
    }

    #[test]
    fn skipped_subtrees_keep_their_spans() {
        let src = "a:\n  deep: [1, 2]\nb: 3\n";
        let keep = |p: &[Seg<'_>]| p.is_empty() || p[0] != Seg::Key("a".into());
        let t = Tree::parse_with(src, Limits::default(), &keep).unwrap();
        let a = t.get(t.root.unwrap(), "a").unwrap();
        assert!(matches!(t.node(a).kind, Kind::Skipped));
        assert_eq!(t.text(a), "deep: [1, 2]");
        assert_eq!(t.get_str(t.root.unwrap(), &["b"]), None, "3 is an int");
    }

    #[test]
    fn deep_nesting_is_a_clear_error_not_a_crash() {
        let mut src = String::from("a:\n");
        for i in 0..5000 {
            src.push_str(&" ".repeat(i + 1));
            src.push_str("b:\n");
        }
        let e = Tree::parse(&src).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{e}");
    }

    #[test]
    fn an_empty_value_ends_after_its_colon() {
        let src = "a:\n  b: 1\n  c:\nd: 2\n";
        let t = Tree::parse(src).unwrap();
        let a = t.get(t.root.unwrap(), "a").unwrap();
        assert_eq!(t.text(a), "b: 1\n  c:");
        let docs = documents("x: 1\ny:\n---\nz: 2\n").unwrap();
        assert_eq!(docs[0].text, "x: 1\ny:");
    }

    #[test]
    fn splits_streams_into_documents() {
        let docs = documents("a: 1\n---\n# c\nb: [2]\n---\n---\n- x\n").unwrap();
        let texts: Vec<&str> = docs.iter().map(|d| d.text).collect();
        // A document's comments travel with it.
        assert_eq!(texts, ["a: 1", "# c\nb: [2]", "- x"]);
        assert!(docs[0].is_mapping && !docs[2].is_mapping);
        assert_eq!(docs[1].line, 3);
        assert!(!docs[0].explicit_start && docs[1].explicit_start);
        let docs = documents("---\n# Source: a.yaml\nk: {a: 1, } # t\n# after\n---\nz: 'q' # c\n")
            .unwrap();
        let texts: Vec<&str> = docs.iter().map(|d| d.text).collect();
        assert_eq!(
            texts,
            ["# Source: a.yaml\nk: {a: 1, } # t\n# after", "z: 'q' # c"]
        );
    }

    /// Scalars as Go's yaml.v3 decodes them: `0x1F` is 31, `0755` is octal (493),
    /// `08` is a float; merge keys bring their mapping's entries, explicit keys winning.
    #[test]
    fn to_json_types_like_go() {
        let src = "a: 0x1F\nb: 0755\nc: 08\nd: 0o17\ne: 1_000\nf: .inf\ng: \"0x1F\"\nh: 2024-01-01\ni: !!int \"7\"\n";
        let t = Tree::parse(src).unwrap();
        let v = t.to_json(t.root.unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 31, "b": 493, "c": 8.0, "d": 15, "e": 1000, "f": ".inf", "g": "0x1F", "h": "2024-01-01", "i": 7})
        );
        let src =
            "base: &b {x: 1, y: 2}\nmore: &m {z: 3}\nm: {<<: [*b, *m], y: 9}\nq: {\"<<\": 1}\n";
        let t = Tree::parse(src).unwrap();
        let v = t.to_json(t.root.unwrap()).unwrap();
        assert_eq!(v["m"], serde_json::json!({"y": 9, "x": 1, "z": 3}));
        assert_eq!(v["q"], serde_json::json!({"<<": 1}));
        let t = Tree::parse("m: {<<: 1}\n").unwrap();
        assert!(t.to_json(t.root.unwrap()).is_err());
    }

    #[test]
    fn aliases_point_at_anchors_without_copying() {
        let src = "a: &x {k: v}\nb: *x\n";
        let t = Tree::parse(src).unwrap();
        let b = t.get(t.root.unwrap(), "b").unwrap();
        assert_eq!(t.get_str(b, &["k"]), Some("v"));
    }
}
