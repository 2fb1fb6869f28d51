//! Reading a ResourceList.
//!
//! Two paths give the same [`ResourceList`]:
//!
//! - **fast**: kustomize and kpt write ResourceLists in block style (top-level keys at
//!   column 0, one `- ` per item). A line scan finds the sections and the item
//!   boundaries; each item is then parsed on its own, as a document laid at its
//!   original columns, on all cores. Parsing is most of the function's time, and items
//!   are independent, so this divides it by the core count; and each item's tree is
//!   dropped as soon as its identity is read, so memory stays proportional to the
//!   number of items, not to the number of scalars.
//! - **slow**: anything the scan does not recognise (flow style, documents markers,
//!   directives, odd indentation), and any item that does not parse on its own (an
//!   alias to another item's anchor, or a real error, which the whole-document parse
//!   then reports with its true line), goes through one parse of the whole input.
//!
//! Either way every item is parsed fully, so malformed YAML anywhere is an error.
//!
//! An item's text runs from the first comment after its `- ` to the last comment
//! before the next item's `- ` (or the next section), so that every comment between
//! items travels with one of them, in place; a node's own span would drop them.

use std::borrow::Cow;

use super::{ACCEPTED_API_VERSIONS, InputError, Item, ResourceList, Span};
use crate::yaml::scalar::{Resolved, resolve};
use crate::yaml::tree::{Limits, trail_end, widened};
use crate::yaml::{Kind, NodeId, Seg, Tree};

const MANAGED_BY_LABEL: &str = crate::MANAGED_BY_LABEL;
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// Within an item, the paths read to identify it.
fn keep_in_item(path: &[Seg<'_>]) -> bool {
    let key = |i: usize| match path.get(i) {
        Some(Seg::Key(k)) => Some(k.as_ref()),
        _ => None,
    };
    match path.len() {
        0 => true,
        1 => matches!(key(0), Some("apiVersion" | "kind" | "metadata")),
        2 => {
            key(0) == Some("metadata")
                && matches!(
                    key(1),
                    Some("name" | "namespace" | "labels" | "annotations")
                )
        }
        3 => {
            (key(1) == Some("labels") && key(2) == Some(MANAGED_BY_LABEL))
                || (key(1) == Some("annotations") && key(2) == Some(LOCAL_CONFIG))
        }
        _ => false,
    }
}

/// Over the whole document (slow path): the envelope, the functionConfig, the results
/// entries' spans, and per item what [`keep_in_item`] keeps.
fn keep_in_document(path: &[Seg<'_>]) -> bool {
    match path.first() {
        None => true,
        Some(Seg::Key(k)) => match k.as_ref() {
            "apiVersion" | "kind" | "functionConfig" => true,
            "results" => path.len() <= 1,
            "items" => path.len() <= 1 || keep_in_item(&path[2..]),
            _ => false,
        },
        Some(Seg::Index(_)) => false,
    }
}

/// The string at `path` below `node`, borrowed from `src` (where `tree`'s text sits at
/// byte `offset`) when its source spells it as it is, owned otherwise.
fn string_at<'a>(
    tree: &Tree,
    node: NodeId,
    path: &[&str],
    src: &'a str,
    offset: usize,
) -> Option<Cow<'a, str>> {
    let mut cur = node;
    for key in path {
        cur = tree.get(cur, key)?;
    }
    let value = tree.get_str(node, path)?;
    let n = tree.node(tree.resolve(cur)?);
    let raw = src.get(offset + n.start..offset + n.end).unwrap_or("");
    let inner = if raw.len() >= 2 && raw.starts_with(['"', '\'']) {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    Some(if inner == value {
        Cow::Borrowed(inner)
    } else {
        Cow::Owned(value.to_string())
    })
}

/// Why an item is not a resource.
enum NotResource {
    /// Not a mapping at all.
    NotAMap,
    /// A field a resource must have is missing or not what it must be.
    Field(&'static str, String),
}

/// The identity of the item whose root is `id`: a resource, a mapping with
/// `apiVersion` and `kind` (strings) and `metadata` (a mapping). `tree`'s text is
/// `src` from byte `offset` on.
fn summarize<'a>(
    tree: &Tree,
    id: NodeId,
    span: Span<'a>,
    src: &'a str,
    offset: usize,
) -> Result<Item<'a>, NotResource> {
    if !matches!(tree.node(id).kind, Kind::Map { .. }) {
        return Err(NotResource::NotAMap);
    }
    let s = |path: &[&str]| string_at(tree, id, path, src, offset);
    for field in ["apiVersion", "kind"] {
        match tree.get(id, field) {
            None => return Err(NotResource::Field(field, "is missing".into())),
            Some(v) if s(&[field]).is_none_or(|v| v.is_empty()) => {
                let what = match tree.get_str(id, &[field]) {
                    Some(_) => "an empty string".to_string(),
                    None => tree.describe(v),
                };
                return Err(NotResource::Field(
                    field,
                    format!("is {what}, expected a string"),
                ));
            }
            Some(_) => {}
        }
    }
    match tree.get(id, "metadata") {
        None => return Err(NotResource::Field("metadata", "is missing".into())),
        Some(m) if tree.entries(m).is_none() => {
            let what = tree.describe(m);
            return Err(NotResource::Field(
                "metadata",
                format!("is {what}, expected a mapping"),
            ));
        }
        Some(_) => {}
    }
    let local_config = tree.get_str(id, &["metadata", "annotations", LOCAL_CONFIG]) == Some("true");
    Ok(Item {
        span,
        api_version: s(&["apiVersion"]).unwrap_or_default(),
        kind: s(&["kind"]).unwrap_or_default(),
        name: s(&["metadata", "name"]).unwrap_or_default(),
        namespace: s(&["metadata", "namespace"]).unwrap_or_default(),
        managed_by: s(&["metadata", "labels", MANAGED_BY_LABEL]),
        local_config,
    })
}

fn not_a_resource(tree: &Tree, id: NodeId, index: usize, why: NotResource) -> InputError {
    let line = tree.node(id).line;
    match why {
        NotResource::NotAMap => InputError::ItemNotAMapping {
            index,
            found: tree.describe(id),
        },
        NotResource::Field(field, what) => InputError::ItemField {
            index,
            line,
            field,
            what,
        },
    }
}

/// A node's span widened over the comments around it (see [`crate::yaml::tree::lead_start`] and
/// [`trail_end`]); `from` is where the text before the node begins.
fn widen<'a>(src: &'a str, from: usize, node: (usize, usize), col: usize, line: usize) -> Span<'a> {
    let (text, breaks) = widened(src, from, node.0, node.1);
    Span {
        text: &src[text],
        col,
        line: line.saturating_sub(breaks),
    }
}

/// The comments between a section's key (ending at `key_end`) and its value, on the
/// key's line and the lines below: ` # note\n# more`, or `""`.
fn after_key(src: &str, key_end: usize) -> &str {
    let bytes = src.as_bytes();
    let mut p = key_end;
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
        p += 1;
    }
    if bytes.get(p) == Some(&b':') {
        p += 1;
    }
    let end = trail_end(src, p);
    if src[p..end].contains('#') {
        &src[p..end]
    } else {
        ""
    }
}

/// The comment lines before the ResourceList's first key (`first` is where the
/// line holding it starts), or `""`.
fn head(src: &str, first: usize) -> &str {
    let line_start = src[..first].rfind('\n').map_or(0, |i| i + 1);
    let text = &src[..line_start];
    if text.contains('#') { text } else { "" }
}

/// Whether some alias of a tree read in part points at a part that was not read
/// (then the identities must be read from the whole tree).
fn has_unread_alias(tree: &Tree) -> bool {
    tree.nodes.iter().any(|n| match n.kind {
        Kind::Alias(None) => true,
        Kind::Alias(Some(t)) => matches!(tree.node(t).kind, Kind::Skipped),
        _ => false,
    })
}

fn check_envelope(kind: &str, api_version: &str) -> Result<(), InputError> {
    if kind != "ResourceList" {
        return Err(InputError::Kind {
            found: (!kind.is_empty()).then(|| kind.to_string()),
        });
    }
    if !ACCEPTED_API_VERSIONS.contains(&api_version) {
        return Err(InputError::ApiVersion {
            found: api_version.to_string(),
        });
    }
    Ok(())
}

fn is_null(tree: &Tree, id: NodeId) -> bool {
    tree.scalar(id)
        .is_some_and(|(s, st, t)| resolve(s, st, t) == Resolved::Null)
}

pub(super) fn parse(src: &str) -> Result<ResourceList<'_>, InputError> {
    match fast::parse(src) {
        Some(rl) => Ok(rl),
        None => parse_slow(src),
    }
}

#[cfg(any(test, feature = "test-support"))]
pub(super) fn parse_fast(src: &str) -> Option<ResourceList<'_>> {
    fast::parse(src)
}

pub(super) fn parse_slow(src: &str) -> Result<ResourceList<'_>, InputError> {
    let invalid = InputError::NotYaml;
    let mut tree = Tree::parse_with(src, Limits::default(), &keep_in_document).map_err(invalid)?;
    if has_unread_alias(&tree) {
        // An identity read through an alias into a part the first pass skipped.
        tree = Tree::parse(src).map_err(invalid)?;
    }
    let Some(root) = tree.root else {
        return Err(InputError::Empty);
    };
    if tree.entries(root).is_none() {
        return Err(InputError::NotAMapping {
            found: tree.describe(root),
        });
    }
    let api_version = tree.get_str(root, &["apiVersion"]).unwrap_or_default();
    check_envelope(
        tree.get_str(root, &["kind"]).unwrap_or_default(),
        api_version,
    )?;
    // A node's span with the comments around it; `from` is where the text before it
    // begins (the end of the previous item, or of the section's key).
    let wide = |id: NodeId, from: usize| {
        let n = tree.node(id);
        widen(src, from, (n.start, n.end), n.col, n.line)
    };
    let mut items = Vec::new();
    let mut items_head = "";
    let items_entry = tree.entry(root, "items");
    if let Some((key, list)) = items_entry {
        if let Some(ids) = tree.seq_items(list) {
            items.reserve(ids.len());
            items_head = after_key(src, tree.node(key).end);
            let mut from = tree.node(key).end;
            for (i, &id) in ids.iter().enumerate() {
                let span = wide(id, from);
                from = tree.node(id).end;
                let item = match tree.resolve(id) {
                    Some(r) => summarize(&tree, r, span, src, 0),
                    None => Err(NotResource::NotAMap),
                };
                items.push(item.map_err(|why| not_a_resource(&tree, id, i, why))?);
            }
        } else if !is_null(&tree, list) {
            return Err(InputError::ItemsNotList {
                found: tree.describe(list),
            });
        }
    }
    let fc_entry = tree
        .entry(root, "functionConfig")
        .filter(|&(_, id)| !is_null(&tree, id));
    let function_config = fc_entry.map(|(key, id)| wide(id, tree.node(key).end));
    let function_config_first = match (fc_entry, items_entry) {
        (Some((fc, _)), Some((items, _))) => tree.node(fc).start < tree.node(items).start,
        _ => false,
    };
    let head = if tree.directives.is_empty() {
        head(src, tree.node(root).start)
    } else {
        ""
    };
    Ok(ResourceList {
        src,
        directives: tree.directives,
        head,
        items_head,
        function_config_first,
        api_version: api_version.to_string(),
        items,
        function_config,
        whole: Default::default(),
    })
}

mod fast {
    //! The line-level split. Returns `None` at the first thing it does not recognise,
    //! and the caller falls back to the whole-document parse.

    use super::*;

    /// A top-level section: its key, the rest of the key's line, and its body lines.
    struct Section<'a> {
        /// Byte offset of the key's line.
        start: usize,
        key: &'a str,
        inline: &'a str,
        /// Byte range of the lines after the key line, up to the next top-level key.
        body: std::ops::Range<usize>,
        /// 1-based line number of the first body line.
        body_line: usize,
    }

    /// Byte offsets of the starts of the lines of `src[range]`, with line numbers.
    fn lines(src: &str, range: std::ops::Range<usize>, first_line: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = range.start;
        let mut line = first_line;
        while pos < range.end {
            out.push((pos, line));
            pos = match memchr::memchr(b'\n', &src.as_bytes()[pos..range.end]) {
                Some(i) => pos + i + 1,
                None => range.end,
            };
            line += 1;
        }
        out
    }

    fn line_at(src: &str, start: usize) -> &str {
        let end = memchr::memchr(b'\n', &src.as_bytes()[start..]).map_or(src.len(), |i| start + i);
        &src[start..end]
    }

    /// Whether a line the fast path reads without a parser (a comment) holds only
    /// what YAML allows (`c-printable`, and no byte-order mark, which may only start
    /// the stream); otherwise the parser is to say what is wrong.
    fn printable(line: &str) -> bool {
        line.chars().all(|c| {
            c != '\u{feff}'
                && (matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
                    || c >= '\u{10000}')
        })
    }

    fn is_blank_or_comment(line: &str) -> bool {
        let t = line.trim_start_matches(' ');
        t.is_empty() || t.starts_with('#')
    }

    /// A plain scalar simple enough to read without a parser, before an optional comment.
    fn simple_value(rest: &str) -> Option<&str> {
        let v = rest.split(" #").next().unwrap_or("").trim_matches(' ');
        (!v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_')))
        .then_some(v)
    }

    fn sections(src: &str) -> Option<Vec<Section<'_>>> {
        let mut out: Vec<Section> = Vec::new();
        let mut pos = 0;
        let mut line_no = 1;
        while pos < src.len() {
            let line = line_at(src, pos);
            let next = (pos + line.len() + 1).min(src.len());
            let at_col0 =
                !line.starts_with([' ', '\t']) && !line.is_empty() && !line.starts_with('#');
            if line.starts_with('\t') {
                return None;
            }
            if at_col0 && !line.starts_with('-') {
                let (key, inline) = line.split_once(':')?;
                if !matches!(
                    key,
                    "apiVersion" | "kind" | "items" | "functionConfig" | "results"
                ) || out.iter().any(|s| s.key == key)
                    || !(inline.is_empty() || inline.starts_with(' '))
                {
                    return None;
                }
                if let Some(last) = out.last_mut() {
                    last.body.end = pos;
                }
                out.push(Section {
                    start: pos,
                    key,
                    inline,
                    body: next..src.len(),
                    body_line: line_no + 1,
                });
            } else if out.is_empty() && !(is_blank_or_comment(line) && printable(line)) {
                return None;
            }
            pos = next;
            line_no += 1;
        }
        Some(out)
    }

    /// The start lines of the entries of a block sequence body, with the column of its
    /// dashes; `None` if the body is not a plain block sequence.
    fn entries(src: &str, body: &Section) -> Option<(Vec<(usize, usize)>, usize)> {
        let lines = lines(src, body.body.clone(), body.body_line);
        let mut dash_col = None;
        let mut starts = Vec::new();
        for &(start, line_no) in &lines {
            let line = line_at(src, start);
            if is_blank_or_comment(line) {
                // Lines before the first entry are read by no parser here.
                if starts.is_empty() && !printable(line) {
                    return None;
                }
                continue;
            }
            let indent = line.len() - line.trim_start_matches(' ').len();
            let rest = &line[indent..];
            let is_dash = rest == "-" || rest.starts_with("- ");
            let col = *dash_col.get_or_insert(indent);
            if indent == col && is_dash {
                starts.push((start, line_no));
            } else if indent <= col || starts.is_empty() {
                return None;
            }
        }
        Some((starts, dash_col.unwrap_or(0)))
    }

    /// One entry parsed on its own: the text from its dash line to the next entry, with
    /// the dash blanked, so every character keeps its column.
    fn parse_entry<'a>(
        src: &'a str,
        start: usize,
        end: usize,
        line_no: usize,
        dash_col: usize,
        want_items: bool,
    ) -> Option<(Span<'a>, Option<Item<'a>>)> {
        let mut text = src[start..end].to_string();
        text.replace_range(dash_col..dash_col + 1, " ");
        let tree = Tree::parse_with(&text, Limits::default(), &keep_in_item).ok()?;
        let root = tree.root?;
        let node = tree.node(root);
        let line = line_no + node.line - 1;
        let span = if want_items {
            // With the comments after the dash and up to the next item.
            let at = (start + node.start, start + node.end);
            widen(src, start + dash_col + 1, at, node.col, line)
        } else {
            Span {
                text: src.get(start + node.start..start + node.end)?,
                col: node.col,
                line,
            }
        };
        let item = tree
            .resolve(root)
            .and_then(|r| summarize(&tree, r, span, src, start).ok());
        Some((span, item))
    }

    /// Parses the entries of a sequence body, on several threads when there are many.
    fn parse_entries<'a>(
        src: &'a str,
        section: &Section,
        want_items: bool,
    ) -> Option<Vec<(Span<'a>, Option<Item<'a>>)>> {
        let (starts, dash_col) = entries(src, section)?;
        let bounds: Vec<(usize, usize, usize)> = starts
            .iter()
            .enumerate()
            .map(|(i, &(start, line))| {
                let end = starts.get(i + 1).map_or(section.body.end, |&(s, _)| s);
                (start, end, line)
            })
            .collect();
        let work = |chunk: &[(usize, usize, usize)]| -> Option<Vec<_>> {
            chunk
                .iter()
                .map(|&(s, e, l)| {
                    let parsed = parse_entry(src, s, e, l, dash_col, want_items)?;
                    // A non-resource item: let the whole-document parse say so.
                    (!want_items || parsed.1.is_some()).then_some(parsed)
                })
                .collect()
        };
        let mut out = Vec::with_capacity(bounds.len());
        for chunk in crate::par::chunks(&bounds, &work) {
            out.extend(chunk?);
        }
        Some(out)
    }

    pub(super) fn parse(src: &str) -> Option<ResourceList<'_>> {
        let sections = sections(src)?;
        let find = |key: &str| sections.iter().find(|s| s.key == key);
        let api_version = simple_value(find("apiVersion")?.inline)?;
        let kind = simple_value(find("kind")?.inline)?;
        check_envelope(kind, api_version).ok()?;
        for s in sections
            .iter()
            .filter(|s| matches!(s.key, "apiVersion" | "kind"))
        {
            if !src[s.body.clone()]
                .split('\n')
                .all(|l| is_blank_or_comment(l) && printable(l))
            {
                return None;
            }
        }

        let items = match find("items") {
            None => Vec::new(),
            Some(s) if s.inline.trim() == "[]" && s.body.is_empty() => Vec::new(),
            Some(s) if s.inline.trim().is_empty() => parse_entries(src, s, true)?
                .into_iter()
                .map(|(_, item)| item)
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        // An input's own results are not kept (the output's describe this run only),
        // but they must read as the full parser reads them.
        match find("results") {
            None => {}
            Some(s) if s.inline.trim().is_empty() => {
                parse_entries(src, s, false)?;
            }
            Some(_) => return None,
        }
        let function_config = match find("functionConfig") {
            None => None,
            Some(s) if s.inline.trim().is_empty() => {
                let text = &src[s.body.clone()];
                let tree = Tree::parse(text).ok()?;
                let root = tree.root?;
                let node = tree.node(root);
                if !matches!(node.kind, Kind::Map { .. }) {
                    return None;
                }
                let at = (s.body.start + node.start, s.body.start + node.end);
                let line = s.body_line + node.line - 1;
                Some(widen(src, s.start + s.key.len(), at, node.col, line))
            }
            Some(_) => return None,
        };
        let position = |key: &str| sections.iter().position(|s| s.key == key);
        let function_config_first = match (position("functionConfig"), position("items")) {
            (Some(fc), Some(items)) => fc < items,
            _ => false,
        };
        let items_head = find("items").map_or("", |s| after_key(src, s.start + s.key.len()));
        Some(ResourceList {
            src,
            directives: "",
            head: sections.first().map_or("", |s| head(src, s.start)),
            items_head,
            function_config_first,
            api_version: api_version.to_string(),
            items,
            function_config,
            whole: Default::default(),
        })
    }
}
