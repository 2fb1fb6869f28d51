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

use std::borrow::Cow;

use super::{ACCEPTED_API_VERSIONS, InputError, Item, ResourceList, Span};
use crate::yaml::scalar::{Resolved, resolve};
use crate::yaml::tree::Limits;
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

/// The identity of the item whose root is `id`; `None` when it is not a mapping.
/// `tree`'s text is `src` from byte `offset` on.
fn summarize<'a>(
    tree: &Tree,
    id: NodeId,
    span: Span<'a>,
    src: &'a str,
    offset: usize,
) -> Option<Item<'a>> {
    if !matches!(tree.node(id).kind, Kind::Map { .. }) {
        return None;
    }
    let s = |path: &[&str]| string_at(tree, id, path, src, offset);
    let local_config = tree.get_str(id, &["metadata", "annotations", LOCAL_CONFIG]) == Some("true");
    Some(Item {
        span,
        api_version: s(&["apiVersion"]).unwrap_or_default(),
        kind: s(&["kind"]).unwrap_or_default(),
        name: s(&["metadata", "name"]).unwrap_or_default(),
        namespace: s(&["metadata", "namespace"]).unwrap_or_default(),
        managed_by: s(&["metadata", "labels", MANAGED_BY_LABEL]),
        local_config,
    })
}

fn not_a_resource(tree: &Tree, id: NodeId, index: usize) -> InputError {
    InputError {
        message: format!(
            "items[{index}] is {}, expected a resource (a mapping with apiVersion, kind and metadata)",
            tree.describe(id)
        ),
        field: Some(format!("items[{index}]")),
    }
}

fn check_envelope(kind: &str, api_version: &str) -> Result<(), InputError> {
    if kind != "ResourceList" {
        return Err(InputError {
            message: format!(
                "expected kind: ResourceList, found {}",
                if kind.is_empty() {
                    "no kind".into()
                } else {
                    format!("kind: {kind}")
                }
            ),
            field: Some("kind".into()),
        });
    }
    if !ACCEPTED_API_VERSIONS.contains(&api_version) {
        return Err(InputError {
            message: format!(
                "unsupported ResourceList apiVersion {api_version:?}; expected one of {}",
                ACCEPTED_API_VERSIONS.join(", ")
            ),
            field: Some("apiVersion".into()),
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

pub(super) fn parse_fast(src: &str) -> Option<ResourceList<'_>> {
    fast::parse(src)
}

pub(super) fn parse_slow(src: &str) -> Result<ResourceList<'_>, InputError> {
    let tree = Tree::parse_with(src, Limits::default(), &keep_in_document)
        .map_err(|e| InputError::new(format!("the input is not valid YAML: {e}")))?;
    let Some(root) = tree.root else {
        return Err(InputError::new(
            "the input is empty: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1) on stdin",
        ));
    };
    if tree.entries(root).is_none() {
        return Err(InputError::new(format!(
            "the input is {}, expected a ResourceList mapping",
            tree.describe(root)
        )));
    }
    let api_version = tree.get_str(root, &["apiVersion"]).unwrap_or_default();
    check_envelope(
        tree.get_str(root, &["kind"]).unwrap_or_default(),
        api_version,
    )?;
    let span = |id: NodeId| {
        let n = tree.node(id);
        Span {
            text: tree.text(id),
            col: n.col,
            line: n.line,
        }
    };
    let mut items = Vec::new();
    if let Some(list) = tree.get(root, "items") {
        if let Some(ids) = tree.seq_items(list) {
            items.reserve(ids.len());
            for (i, &id) in ids.iter().enumerate() {
                let item = tree
                    .resolve(id)
                    .and_then(|r| summarize(&tree, r, span(id), src, 0));
                items.push(item.ok_or_else(|| not_a_resource(&tree, id, i))?);
            }
        } else if !is_null(&tree, list) {
            return Err(InputError {
                message: format!(
                    "items is {}, expected a list of resources",
                    tree.describe(list)
                ),
                field: Some("items".into()),
            });
        }
    }
    let function_config = tree
        .get(root, "functionConfig")
        .filter(|&id| !is_null(&tree, id))
        .map(span);
    let results = tree
        .get(root, "results")
        .and_then(|r| tree.seq_items(r))
        .map(|ids| ids.iter().map(|&id| span(id)).collect())
        .unwrap_or_default();
    Ok(ResourceList {
        src,
        directives: tree.directives,
        api_version: api_version.to_string(),
        items,
        function_config,
        results,
    })
}

mod fast {
    //! The line-level split. Returns `None` at the first thing it does not recognise,
    //! and the caller falls back to the whole-document parse.

    use super::*;

    /// A top-level section: its key, the rest of the key's line, and its body lines.
    struct Section<'a> {
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
                    key,
                    inline,
                    body: next..src.len(),
                    body_line: line_no + 1,
                });
            } else if out.is_empty() && !is_blank_or_comment(line) {
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
    ) -> Option<(Span<'a>, Option<Item<'a>>)> {
        let mut text = src[start..end].to_string();
        text.replace_range(dash_col..dash_col + 1, " ");
        let tree = Tree::parse_with(&text, Limits::default(), &keep_in_item).ok()?;
        let root = tree.root?;
        let node = tree.node(root);
        let span = Span {
            text: src.get(start + node.start..start + node.end)?,
            col: node.col,
            line: line_no + node.line - 1,
        };
        let item = tree
            .resolve(root)
            .and_then(|r| summarize(&tree, r, span, src, start));
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
                    let parsed = parse_entry(src, s, e, l, dash_col)?;
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
            if !src[s.body.clone()].split('\n').all(is_blank_or_comment) {
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
        let results = match find("results") {
            None => Vec::new(),
            Some(s) if s.inline.trim().is_empty() => parse_entries(src, s, false)?
                .into_iter()
                .map(|(span, _)| span)
                .collect(),
            Some(_) => return None,
        };
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
                Some(Span {
                    text: src.get(s.body.start + node.start..s.body.start + node.end)?,
                    col: node.col,
                    line: s.body_line + node.line - 1,
                })
            }
            Some(_) => return None,
        };
        Some(ResourceList {
            src,
            directives: "",
            api_version: api_version.to_string(),
            items,
            function_config,
            results,
        })
    }
}
