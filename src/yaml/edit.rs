//! Surgical edits to a parsed item: replace or insert a mapping entry in the source
//! text, leaving every other byte as it was.
//!
//! This is how the Harbor ConfigMap, the harbor-core Deployment and an existing
//! BuildKit ConfigMap are patched: the user's other keys, comments, quoting and layout
//! survive, so `kpt fn render` diffs show only what this function changed.

use serde_json::Value;

use super::emit;
use super::scalar;
use super::tree::{Kind, NodeId, Seg, Style, Tree};
use super::{child_path, path_text};

/// Replacements of byte ranges of one source text, none overlapping another.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    edits: Vec<(usize, usize, String)>,
}

/// Two edits that touch the same bytes, or insert at the same place: applying both
/// would merge them by accident (two systems annotating one Deployment, say), so the
/// pair is refused instead. `at` is the byte offset where they meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overlap {
    pub(crate) at: usize,
}

type Edit = (usize, usize, String);

impl Edits {
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    fn push(&mut self, start: usize, end: usize, text: String) {
        self.edits.push((start, end, text));
    }

    /// Adds `other`'s edits, unless one of them overlaps one of these.
    pub(crate) fn extend(&mut self, other: Edits) -> Result<(), Overlap> {
        for o in &other.edits {
            if let Some(e) = self.edits.iter().find(|e| meet(e, o)) {
                return Err(Overlap { at: e.0.max(o.0) });
            }
        }
        self.edits.extend(other.edits);
        Ok(())
    }

    /// The source with every edit applied, or the place where two edits overlap.
    pub(crate) fn apply(mut self, src: &str) -> Result<String, Overlap> {
        // At one place, lines of a deeper mapping go before those of the one around it.
        self.edits
            .sort_by_key(|e| (e.0, e.1, std::cmp::Reverse(block_indent(&e.2))));
        if let Some(w) = self.edits.windows(2).find(|w| meet(&w[0], &w[1])) {
            return Err(Overlap { at: w[1].0 });
        }
        let mut out = String::with_capacity(src.len() + 256);
        let mut pos = 0;
        for (start, end, text) in self.edits {
            out.push_str(src.get(pos..start).ok_or(Overlap { at: start })?);
            out.push_str(&text);
            pos = end;
        }
        out.push_str(src.get(pos..).ok_or(Overlap { at: pos })?);
        Ok(out)
    }
}

impl Edits {
    /// `src[range]` with every edit applied; every edit must lie within `range` (an
    /// item's text in a whole document).
    pub(crate) fn apply_in(
        mut self,
        src: &str,
        range: std::ops::Range<usize>,
    ) -> Result<String, Overlap> {
        if let Some(&(s, e, _)) = self
            .edits
            .iter()
            .find(|(s, e, _)| *s < range.start || *e > range.end)
        {
            return Err(Overlap { at: s.min(e) });
        }
        for edit in &mut self.edits {
            edit.0 -= range.start;
            edit.1 -= range.start;
        }
        self.apply(src.get(range.clone()).ok_or(Overlap { at: range.start })?)
    }
}

/// How deep an insertion of whole block lines goes (`"\n    key: v"` at the end of a
/// line, or `"    key: v\n"` at the start of one): twice its indentation, plus one for
/// sequence items, which belong inside a key at their own column (`args:\n- a`).
/// `None` for anything else (flow insertions, replacements).
fn block_indent(text: &str) -> Option<usize> {
    let rest = match text.strip_prefix('\n') {
        Some(r) => r,
        None if text.starts_with(' ') && text.ends_with('\n') => text,
        None => return None,
    };
    let body = rest.trim_start_matches(' ');
    if body.is_empty() || body.starts_with('\n') {
        return None;
    }
    let item = usize::from(body.starts_with("- ") || body == "-" || body.starts_with("-\n"));
    Some(2 * (rest.len() - body.len()) + item)
}

/// Whether two edits conflict: their ranges share a byte, or they start at the same
/// place with no order between them. Insertions of block lines at one place have one:
/// the deeper first (a key added to a container before one added to its pod spec,
/// both at the end of the pod spec); at one depth, in the order they were made (new
/// keys of one mapping, new items of one list), unless they add the same key.
fn meet(x: &Edit, y: &Edit) -> bool {
    let ((a, b, t), (s, e, u)) = (x, y);
    if a == s && a == b && s == e {
        return match (block_indent(t), block_indent(u)) {
            (Some(i), Some(j)) if i != j => false,
            (Some(_), Some(_)) => match (new_key(t), new_key(u)) {
                (Some(k), Some(l)) => k == l,
                _ => false,
            },
            _ => true,
        };
    }
    a == s || (s < b && a < e)
}

/// The key a block insertion adds to a mapping (`"\n  key: ..."`), if it adds one.
fn new_key(text: &str) -> Option<&str> {
    let body = text.trim_start_matches('\n').trim_start_matches(' ');
    if body.starts_with('-') {
        return None;
    }
    body.split_once(':').map(|(k, _)| k)
}

/// Why an edit could not be made: the field path (relative to the edited node) and
/// what was found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditError {
    pub(crate) path: String,
    pub(crate) why: Refusal,
}

/// What was found where an edit was to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing,
    /// An alias: editing its anchor would change every place that reads it.
    Alias,
    NotMapping {
        found: String,
    },
    NotList {
        found: String,
    },
    /// An anchor (`name`, at `anchor_line`) that an alias on `alias_line` also reads.
    /// `root`: the node is the edited item itself; `inside`: the anchor is within it;
    /// `within`: the edit would replace the node (and leave the alias without it).
    SharedAnchor {
        name: String,
        anchor_line: Option<usize>,
        alias_line: usize,
        root: bool,
        within: bool,
    },
    EmptyBlockSequence,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => f.write_str("is missing"),
            Refusal::Alias => {
                f.write_str("is an alias (*anchor); write it out so it can be patched")
            }
            Refusal::NotMapping { found } => write!(f, "is {found}, expected a mapping"),
            Refusal::NotList { found } => write!(f, "is {found}, expected a list"),
            Refusal::SharedAnchor {
                name,
                anchor_line,
                alias_line,
                root,
                within,
            } => {
                let what = if *root { "this item " } else { "" };
                let whose = match anchor_line {
                    None => "has".to_string(),
                    Some(line) => format!("holds (at line {line})"),
                };
                write!(
                    f,
                    "{what}{whose} the anchor &{name}, which the alias *{name} on line {alias_line} also reads: changing it here would change that value too{}. Write the value out in place of *{name} (or give each place its own copy), then run again",
                    if *within {
                        ", or leave the alias without its anchor"
                    } else {
                        ""
                    },
                )
            }
            Refusal::EmptyBlockSequence => f.write_str("is an empty block sequence"),
        }
    }
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.why)
        } else {
            write!(f, "{} {}", self.path, self.why)
        }
    }
}

impl std::error::Error for EditError {}

/// Sets `path` (mapping keys, created as needed) below the mapping `map` to `value`.
/// Returns `Ok(false)` when the field already holds exactly that string.
#[cfg(test)]
pub(crate) fn set(
    tree: &Tree,
    map: NodeId,
    path: &[&str],
    value: &Value,
    edits: &mut Edits,
) -> Result<bool, EditError> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(false);
    };
    let parents: Vec<Seg> = parents.iter().map(|k| Seg::Key((*k).into())).collect();
    let changed = set_entries(tree, map, &parents, &[(last, value.clone())], edits)?;
    Ok(changed.first().copied().unwrap_or(false))
}

/// Sets several keys of the mapping at `parents` below `map` in one go (missing keys
/// on the way are created; sequence items must exist). Keys that are missing are
/// inserted together, so two new keys never create their parent twice. Returns, per
/// entry, whether it changed.
pub(crate) fn set_entries(
    tree: &Tree,
    map: NodeId,
    parents: &[Seg],
    entries: &[(&str, Value)],
    edits: &mut Edits,
) -> Result<Vec<bool>, EditError> {
    let all = || {
        let m: serde_json::Map<String, Value> = entries
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        Value::Object(m)
    };
    // The value that creates the missing `rest` of the path, or `None` when a sequence
    // item would have to be created.
    let nested = |rest: &[Seg]| -> Option<Value> {
        let mut v = all();
        for s in rest.iter().rev() {
            let Seg::Key(k) = s else { return None };
            let mut m = serde_json::Map::new();
            m.insert(k.to_string(), v);
            v = Value::Object(m);
        }
        Some(v)
    };
    let missing = |depth: usize| EditError {
        path: path_text(&parents[..=depth]),
        why: Refusal::Missing,
    };
    let mut cur = map;
    for (depth, step) in parents.iter().enumerate() {
        let key = match step {
            Seg::Key(k) => k.as_ref(),
            &Seg::Index(i) => {
                cur = own_seq(tree, cur, &path_text(&parents[..depth]))?
                    .get(i)
                    .copied()
                    .ok_or_else(|| missing(depth))?;
                continue;
            }
        };
        let node = own_map(tree, cur, &path_text(&parents[..depth]))?;
        match tree.entry(node, key) {
            None => {
                let Some(Value::Object(m)) = nested(&parents[depth + 1..]) else {
                    return Err(missing(depth));
                };
                insert_entries(tree, node, &[(key, Value::Object(m))], edits);
                return Ok(vec![true; entries.len()]);
            }
            Some((k, v)) if is_null(tree, v) => {
                let Some(value) = nested(&parents[depth + 1..]) else {
                    return Err(missing(depth));
                };
                let here = path_text(&parents[..=depth]);
                replace_value(tree, node, k, v, &value, &here, edits)?;
                return Ok(vec![true; entries.len()]);
            }
            Some((_, v)) => cur = v,
        }
    }
    let node = own_map(tree, cur, &path_text(parents))?;
    let mut changed = Vec::with_capacity(entries.len());
    let mut missing: Vec<(&str, Value)> = Vec::new();
    for (key, value) in entries {
        match tree.entry(node, key) {
            None => {
                missing.push((key, value.clone()));
                changed.push(true);
            }
            Some((k, v)) => {
                let same = matches!(
                    (string_of(tree, v), value),
                    (Some((old, _, _)), Value::String(new)) if old == new
                );
                if !same {
                    let here = child_path(parents, key);
                    replace_value(tree, node, k, v, value, &here, edits)?;
                }
                changed.push(!same);
            }
        }
    }
    if !missing.is_empty() {
        insert_entries(tree, node, &missing, edits);
    }
    Ok(changed)
}

fn string_of<'t>(tree: &'t Tree, id: NodeId) -> Option<(&'t str, Style, Option<&'t str>)> {
    let (s, style, tag) = tree.scalar(id)?;
    match scalar::resolve(s, style, tag) {
        scalar::Resolved::Str(_) => Some((s, style, tag)),
        _ => None,
    }
}

fn is_null(tree: &Tree, id: NodeId) -> bool {
    tree.scalar(id)
        .is_some_and(|(s, st, t)| scalar::resolve(s, st, t) == scalar::Resolved::Null)
}

/// `id` itself as a mapping we may edit: not an alias (editing an anchor would change
/// every place that refers to it), not a scalar.
fn own_map(tree: &Tree, id: NodeId, here: &str) -> Result<NodeId, EditError> {
    match &tree.node(id).kind {
        Kind::Map { .. } => unshared(tree, id, here, false).map(|()| id),
        Kind::Alias(_) => Err(EditError {
            path: here.to_string(),
            why: Refusal::Alias,
        }),
        _ => Err(EditError {
            path: here.to_string(),
            why: Refusal::NotMapping {
                found: tree.describe(id),
            },
        }),
    }
}

/// The items of `id` as a sequence we may step into: not an alias, not a scalar.
fn own_seq<'t>(tree: &'t Tree, id: NodeId, here: &str) -> Result<&'t [NodeId], EditError> {
    match &tree.node(id).kind {
        Kind::Seq { items, .. } => unshared(tree, id, here, false).map(|()| items.as_slice()),
        Kind::Alias(_) => Err(EditError {
            path: here.to_string(),
            why: Refusal::Alias,
        }),
        _ => Err(EditError {
            path: here.to_string(),
            why: Refusal::NotList {
                found: tree.describe(id),
            },
        }),
    }
}

/// Refuses to edit `id` when an alias elsewhere reads it (`within`: or a node inside
/// it): the edit would change that value too, or, replacing the node, leave the
/// alias without its anchor. The tree must be the whole document for aliases in
/// other items to be seen.
fn unshared(tree: &Tree, id: NodeId, here: &str, within: bool) -> Result<(), EditError> {
    let Some(&(alias, anchor)) = tree.aliases_of(id, within).first() else {
        return Ok(());
    };
    // The path goes before the message (`data.A has ...`); the root has none.
    Err(EditError {
        path: here.to_string(),
        why: Refusal::SharedAnchor {
            name: tree.anchor_name(anchor).unwrap_or("?").to_string(),
            anchor_line: (anchor != id).then(|| tree.node(anchor).line),
            alias_line: tree.node(alias).line,
            root: here.is_empty(),
            within,
        },
    })
}

fn is_flow(tree: &Tree, map: NodeId) -> bool {
    matches!(tree.node(map).kind, Kind::Map { flow: true, .. })
}

/// Column of a block mapping's entries. saphyr starts a block mapping at its first
/// entry (an explicit key's `?` included), unless it has properties (`&a`, `!t`),
/// which start it on the line above: then the first key's column, or its `?`'s.
fn key_indent(tree: &Tree, map: NodeId) -> usize {
    let node = tree.node(map);
    if !matches!(tree.src.as_bytes().get(node.start), Some(b'&' | b'!')) {
        return node.col;
    }
    let Some(&(k, _)) = tree.entries(map).and_then(|e| e.first()) else {
        return node.col;
    };
    let key = tree.node(k);
    let line_start = tree.src[..key.start].rfind('\n').map_or(0, |i| i + 1);
    let before = tree.src[line_start..key.start].trim_end_matches([' ', '\t']);
    match before.strip_suffix('?') {
        Some(lead) if lead.trim_start_matches(' ').is_empty() => lead.chars().count(),
        _ => key.col,
    }
}

/// Where a value's text begins. saphyr starts block scalars at their content and
/// empty values before the `:`, so for those we scan from the key.
fn value_start(tree: &Tree, key: NodeId, value: NodeId) -> usize {
    let v = tree.node(value);
    let needs_scan = match &v.kind {
        Kind::Scalar {
            style, value: s, ..
        } => matches!(style, Style::Literal | Style::Folded) || (s.is_empty() && v.start == v.end),
        _ => false,
    };
    if !needs_scan {
        return v.start;
    }
    let bytes = tree.src.as_bytes();
    let mut p = tree.node(key).end;
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
        p += 1;
    }
    if p < bytes.len() && bytes[p] == b':' {
        p += 1;
    }
    while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
        p += 1;
    }
    p
}

/// End of the line holding `p`: the position of its `\n` (or the end of the text).
fn line_end(src: &str, p: usize) -> usize {
    src[p..].find('\n').map_or(src.len(), |i| p + i)
}

/// The properties at the start of a value's text (`&anchor`, `!tag`, either order):
/// the anchor token, where the properties end, and where the content starts (after
/// the space, line breaks and comments that follow them; `end` at most).
fn split_props(src: &str, start: usize, end: usize) -> (Option<&str>, usize, usize) {
    let bytes = src.as_bytes();
    let mut anchor = None;
    let mut props_end = start;
    let mut p = start;
    while p < end && matches!(bytes[p], b'&' | b'!') {
        let token_end = if src[p..].starts_with("!<") {
            src[p..end].find('>').map_or(end, |i| p + i + 1)
        } else {
            src[p..end]
                .find([' ', '\t', '\n', ',', '[', ']', '{', '}'])
                .map_or(end, |i| p + i)
        };
        if bytes[p] == b'&' {
            anchor = Some(&src[p..token_end]);
        }
        props_end = token_end;
        p = token_end;
        // Space, line breaks and comments up to the content.
        loop {
            while p < end && matches!(bytes[p], b' ' | b'\t' | b'\n') {
                p += 1;
            }
            if p < end && bytes[p] == b'#' {
                p = line_end(src, p).min(end);
                continue;
            }
            break;
        }
    }
    (anchor, props_end, p.max(props_end))
}

#[allow(clippy::too_many_arguments)]
fn replace_value(
    tree: &Tree,
    map: NodeId,
    key: NodeId,
    value: NodeId,
    new: &Value,
    here: &str,
    edits: &mut Edits,
) -> Result<(), EditError> {
    // Aliases elsewhere that read this value (or an anchor inside it) would change
    // with it, or lose their anchor.
    unshared(tree, value, here, true)?;
    let start = value_start(tree, key, value);
    let mut end = tree.node(value).end.max(start);
    let old_ends_line = tree.src[..end].ends_with('\n');
    let mut text = String::new();
    let was_quoted = matches!(
        tree.node(value).kind,
        Kind::Scalar {
            style: Style::DoubleQuoted | Style::SingleQuoted,
            ..
        }
    );
    let one_line = new.as_str().is_some_and(|s| !s.contains('\n'));
    if is_flow(tree, map) || (was_quoted && one_line) {
        // Keep a quoted value quoted: the diff shows only the value that changed.
        text.push_str(&flow(new));
    } else {
        emit::value_after_key(&mut text, new, key_indent(tree, map));
        // value_after_key starts with the separator after `:` and ends with a line
        // break; the `:` and its space are already in the source.
        let body = text.trim_start_matches(' ').to_string();
        text = body;
        if text.starts_with('\n') {
            // A nested block value: put it in flow style to stay on the key's line.
            text = flow(new);
        } else if !old_ends_line {
            // The old value ended mid-line. A multi-line (literal) replacement must not
            // run into a trailing comment, so it takes the rest of the line too.
            if text.trim_end_matches('\n').contains('\n') {
                end = line_end(tree.src, end);
            }
            if text.ends_with('\n') {
                text.pop();
            }
        }
    }
    // The value's anchor stays (nothing else reads it, or the edit was refused above);
    // a tag goes, since it named the old value's type. Comments between the
    // properties and the content stay.
    let (anchor, props_end, content) = split_props(tree.src, start, end);
    let start = match anchor {
        Some(anchor) => {
            let gap = &tree.src[props_end..content];
            let mut kept = String::from(anchor);
            kept.push_str(if gap.is_empty() { " " } else { gap });
            text.insert_str(0, &kept);
            start
        }
        None if tree.src[props_end..content].contains('#') => content,
        None => start,
    };
    if tree.src[..start].ends_with(':') {
        text.insert(0, ' ');
    }
    // An empty value followed by a comment (`KEY: # note`): the comment must stay one,
    // and a `#` right after a plain scalar would become part of it.
    if tree.src[end..].starts_with('#') && !text.ends_with([' ', '\n']) {
        text.push(' ');
    }
    edits.push(start, end, text);
    Ok(())
}

/// Inserts new entries after the last entry of `map`, as one edit.
fn insert_entries(tree: &Tree, map: NodeId, entries: &[(&str, Value)], edits: &mut Edits) {
    let node = tree.node(map);
    let key_text = |key: &str| {
        let mut k = String::new();
        scalar::inline_string(key, &mut k);
        k
    };
    if is_flow(tree, map) {
        let parts: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}: {}", key_text(k), flow(v)))
            .collect();
        // Right after the last entry, before any trailing comma, comment or line
        // break of the mapping (`{a: 1, }` becomes `{a: 1, B: x, }`); in an empty
        // mapping, right after its `{`.
        let last = tree
            .entries(map)
            .and_then(|e| e.last())
            .map(|&(k, v)| tree.node(k).end.max(tree.node(v).end));
        let text = parts.join(", ");
        let edit = match last {
            // A trailing comma (`{a: 1, }`, `{a:, }`): after it, and one after ours,
            // so the bytes of the last entry stay as they were.
            Some(end) => match comma_after(tree.src, end, node.end) {
                Some(comma) => (comma + 1, format!(" {text},")),
                None if tree.src[..end].ends_with(':') => (end, format!(" , {text}")),
                None => (end, format!(", {text}")),
            },
            None => {
                let open = tree.src[node.start..node.end]
                    .find('{')
                    .map_or(node.start, |i| node.start + i + 1);
                (open, text)
            }
        };
        edits.push(edit.0, edit.0, edit.1);
        return;
    }
    let indent = key_indent(tree, map);
    let mut text = String::new();
    for (k, v) in entries {
        text.push_str(&" ".repeat(indent));
        text.push_str(&key_text(k));
        text.push(':');
        emit::value_after_key(&mut text, v, indent);
    }
    let last_end = tree
        .entries(map)
        .and_then(|e| e.last())
        .map_or(node.end, |(_, v)| tree.node(*v).end);
    if tree.src[..last_end].ends_with('\n') {
        edits.push(last_end, last_end, text);
    } else {
        let eol = line_end(tree.src, last_end);
        text.pop(); // the line break already at eol ends the inserted entries
        edits.push(eol, eol, format!("\n{text}"));
    }
}

/// Appends `items` to the sequence at `parents.key` below `map`: after its last item
/// (block or flow), or as a new sequence when the key is missing or null (parents are
/// created as [`set_entries`] creates them).
pub(crate) fn append_items(
    tree: &Tree,
    map: NodeId,
    parents: &[Seg],
    key: &str,
    items: &[Value],
    edits: &mut Edits,
) -> Result<(), EditError> {
    if items.is_empty() {
        return Ok(());
    }
    let all = Value::Array(items.to_vec());
    // The parent mapping, when it and the key exist.
    let mut cur = map;
    for (depth, step) in parents.iter().enumerate() {
        let here = path_text(&parents[..depth]);
        let next = match step {
            Seg::Key(k) => tree.get(own_map(tree, cur, &here)?, k),
            Seg::Index(i) => own_seq(tree, cur, &here)?.get(*i).copied(),
        };
        match next {
            Some(n) if !is_null(tree, n) => cur = n,
            _ => {
                set_entries(tree, map, parents, &[(key, all)], edits)?;
                return Ok(());
            }
        }
    }
    let parent = own_map(tree, cur, &path_text(parents))?;
    let Some(seq) = tree.get(parent, key).filter(|&v| !is_null(tree, v)) else {
        set_entries(tree, map, parents, &[(key, all)], edits)?;
        return Ok(());
    };
    let here = child_path(parents, key);
    let existing = own_seq(tree, seq, &here)?;
    let node = tree.node(seq);
    if matches!(node.kind, Kind::Seq { flow: true, .. }) {
        let close = node.end.saturating_sub(1);
        // After the last item: a comma already there (`[a, b, ]`) needs no other.
        let after_last = existing
            .last()
            .map_or("", |&l| tree.src.get(tree.node(l).end..close).unwrap_or(""));
        let sep = if existing.is_empty() || after_last.contains(',') {
            ""
        } else {
            ", "
        };
        let parts: Vec<String> = items.iter().map(flow).collect();
        edits.push(close, close, format!("{sep}{}", parts.join(", ")));
        return Ok(());
    }
    let Some(&last) = existing.last() else {
        return Err(EditError {
            path: here,
            why: Refusal::EmptyBlockSequence,
        });
    };
    // The column of the items' dash: the `-` before the first item on its line.
    let first = tree.node(existing[0]);
    let line_start = tree.src[..first.start].rfind('\n').map_or(0, |i| i + 1);
    let dash = tree.src[line_start..first.start]
        .rfind('-')
        .map_or(first.col.saturating_sub(2), |d| {
            tree.src[line_start..line_start + d].chars().count()
        });
    let mut text = String::new();
    for v in items {
        text.push_str(&" ".repeat(dash));
        emit::seq_entry(&mut text, v, dash);
    }
    let last_end = tree.node(last).end;
    if tree.src[..last_end].ends_with('\n') {
        edits.push(last_end, last_end, text);
    } else {
        let eol = line_end(tree.src, last_end);
        text.pop();
        edits.push(eol, eol, format!("\n{text}"));
    }
    Ok(())
}

/// The position of the comma that follows `from` in a flow collection ending at
/// `end`, over space and comments; `None` when the next thing is not a comma.
fn comma_after(src: &str, from: usize, end: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut p = from;
    while p < end {
        match bytes[p] {
            b' ' | b'\t' | b'\n' | b'\r' => p += 1,
            b'#' => p = line_end(src, p),
            b',' => return Some(p),
            _ => return None,
        }
    }
    None
}

/// A value in flow style, for flow mappings and same-line replacements. JSON is valid
/// YAML flow, and its strings are double-quoted, so nothing in it can change type.
fn flow(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let mut out = String::new();
            scalar::double_quoted(s, &mut out);
            out
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    scalar::double_quoted(k, &mut key);
                    format!("{key}: {}", flow(v))
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(src: &str, path: &[&str], v: Value) -> String {
        let t = Tree::parse(src).unwrap();
        let mut e = Edits::default();
        set(&t, t.root.unwrap(), path, &v, &mut e).unwrap();
        let out = e.apply(src).unwrap();
        // The result must parse and hold the value.
        let t2 = Tree::parse(&out).unwrap_or_else(|err| panic!("{err}\n{out}"));
        let mut cur = t2.root.unwrap();
        for k in path {
            cur = t2
                .get(cur, k)
                .unwrap_or_else(|| panic!("{k} missing in\n{out}"));
        }
        if let Value::String(s) = &v {
            assert_eq!(t2.scalar(cur).unwrap().0, s, "{out}");
        }
        out
    }

    #[test]
    fn replaces_a_value_in_place() {
        let out = edit(
            "data:\n  A: x # keep\n  CORE_URL: http://harbor-core:80\n  Z: \"on\"\n",
            &["data", "CORE_URL"],
            json!("http://h.default.svc"),
        );
        assert_eq!(
            out,
            "data:\n  A: x # keep\n  CORE_URL: http://h.default.svc\n  Z: \"on\"\n"
        );
    }

    /// Found by fuzzing: an empty value with a comment right after `: `.
    #[test]
    fn an_empty_value_keeps_its_comment_a_comment() {
        let out = edit(
            "data:\n  TOKEN_SERVICE_URL: #old value\n  Z: 1\n",
            &["data", "TOKEN_SERVICE_URL"],
            json!("http://h/service/token"),
        );
        assert_eq!(
            out,
            "data:\n  TOKEN_SERVICE_URL: http://h/service/token #old value\n  Z: 1\n"
        );
        let out = edit("data:\n  K:    # spaced\n", &["data", "K"], json!("v"));
        assert_eq!(out, "data:\n  K:    v # spaced\n");
    }

    #[test]
    fn inserts_after_the_last_entry_at_its_indent() {
        let out = edit(
            "data:\n    A: x # c\nother: 1\n",
            &["data", "B"],
            json!("yes"),
        );
        assert_eq!(
            out,
            "data:\n    A: x # c\n    B: yes\nother: 1\n".replace("yes", "\"yes\"")
        );
    }

    #[test]
    fn inserts_into_flow_maps() {
        assert_eq!(
            edit("data: {}\n", &["data", "B"], json!("y")),
            "data: {B: \"y\"}\n"
        );
        assert_eq!(
            edit("data: {A: 1}\n", &["data", "B"], json!("y")),
            "data: {A: 1, B: \"y\"}\n"
        );
    }

    /// Every flow layout: trailing commas, spaces, comments, several lines, keys
    /// without values. The new entry goes right after the last one.
    #[test]
    fn inserts_into_flow_maps_of_every_layout() {
        for (src, want) in [
            ("data: {A: 1, }\n", "data: {A: 1, B: \"y\", }\n"),
            ("data: {A: 1 ,   }\n", "data: {A: 1 , B: \"y\",   }\n"),
            ("data: {A:, }\n", "data: {A:, B: \"y\", }\n"),
            ("data: { }\n", "data: {B: \"y\" }\n"),
            ("data: {A}\n", "data: {A, B: \"y\"}\n"),
            ("data: {A: }\n", "data: {A: , B: \"y\" }\n"),
            (
                "data: {\n  A: 1, # c\n  C: 2,\n}\n",
                "data: {\n  A: 1, # c\n  C: 2, B: \"y\",\n}\n",
            ),
            (
                "data: {\n  A: 1, # c\n  C: 2 # d\n}\n",
                "data: {\n  A: 1, # c\n  C: 2, B: \"y\" # d\n}\n",
            ),
            ("data:\n  ? A\n  : 1\n", "data:\n  ? A\n  : 1\n  B: \"y\"\n"),
            ("data:\n  ? A\n  ? C\n", "data:\n  ? A\n  ? C\n  B: \"y\"\n"),
            (
                "data:\n  ?\n  - a\n  :\n  - c\n",
                "data:\n  ?\n  - a\n  :\n  - c\n  B: \"y\"\n",
            ),
            (
                "data: &m\n  ? A\n  : 1\n",
                "data: &m\n  ? A\n  : 1\n  B: \"y\"\n",
            ),
            ("data: !!map\n  A: 1\n", "data: !!map\n  A: 1\n  B: \"y\"\n"),
            ("data: &d {A: 1,}\n", "data: &d {A: 1, B: \"y\",}\n"),
            ("data: !!map {A: 1}\n", "data: !!map {A: 1, B: \"y\"}\n"),
            (
                "data: {A: [1, 2, ], }\n",
                "data: {A: [1, 2, ], B: \"y\", }\n",
            ),
        ] {
            assert_eq!(edit(src, &["data", "B"], json!("y")), want, "{src}");
        }
    }

    #[test]
    fn replaces_in_flow_maps_with_trailing_commas() {
        assert_eq!(
            edit("data: {A: \"x\", B: \"y\", }\n", &["data", "B"], json!("z")),
            "data: {A: \"x\", B: \"z\", }\n"
        );
    }

    /// A value's anchor stays when nothing else reads it; its tag goes.
    #[test]
    fn keeps_the_anchor_of_a_replaced_value() {
        assert_eq!(
            edit("data:\n  A: &a \"x\" # c\n", &["data", "A"], json!("y")),
            "data:\n  A: &a \"y\" # c\n"
        );
        assert_eq!(
            edit("data:\n  A: &a\n", &["data", "A"], json!("y")),
            "data:\n  A: &a \"y\"\n"
        );
        assert_eq!(
            edit("data:\n  A: !!str &a x\n", &["data", "A"], json!("y")),
            "data:\n  A: &a \"y\"\n"
        );
        assert_eq!(
            edit("data:\n  A: &a # c\n    x\n", &["data", "A"], json!("y")),
            "data:\n  A: &a # c\n    \"y\"\n"
        );
        assert_eq!(
            edit(
                "m:\n  annotations: &a\n",
                &["m", "annotations", "k"],
                json!("v")
            ),
            "m:\n  annotations: &a {\"k\": \"v\"}\n"
        );
    }

    /// An anchor that an alias reads is never edited: the alias would change too, or
    /// be left without its anchor.
    #[test]
    fn refuses_to_edit_what_an_alias_reads() {
        let refused = |src: &str, path: &[&str]| {
            let t = Tree::parse(src).unwrap();
            let mut e = Edits::default();
            set(&t, t.root.unwrap(), path, &json!("new"), &mut e).unwrap_err()
        };
        let err = refused("data:\n  A: &core x\n  B: *core\n", &["data", "A"]);
        assert_eq!(err.path, "data.A");
        assert!(
            err.to_string().contains("&core") && err.to_string().contains("*core on line 3"),
            "{err:?}"
        );
        let err = refused("data: &d\n  A: x\nother: *d\n", &["data", "B"]);
        assert_eq!(err.path, "data");
        let err = refused("data:\n  A: {x: &y 1}\nz: *y\n", &["data", "A"]);
        assert!(
            err.to_string().contains("holds (at line 2) the anchor &y"),
            "{err:?}"
        );
        // Aliases inside the edited node itself change along with it: fine.
        edit("data:\n  A: &x 1\n  B: *x\n", &["data", "C"], json!("c"));
    }

    #[test]
    fn creates_missing_parents() {
        let out = edit(
            "spec:\n  template:\n    spec:\n      containers: []\n",
            &["spec", "template", "metadata", "annotations", "a/b"],
            json!("c"),
        );
        assert_eq!(
            out,
            "spec:\n  template:\n    spec:\n      containers: []\n    metadata:\n      annotations:\n        a/b: c\n"
        );
        let out = edit(
            "metadata:\n  annotations:\n  name: x\n",
            &["metadata", "annotations", "k"],
            json!("v"),
        );
        assert_eq!(out, "metadata:\n  annotations: {\"k\": \"v\"}\n  name: x\n");
    }

    #[test]
    fn replaces_block_scalars_with_block_scalars() {
        let src = "data:\n  t: |\n    old = 1\n\n  u: x\n";
        let out = edit(src, &["data", "t"], json!("new = 2\n[a]\n"));
        assert_eq!(out, "data:\n  t: |\n    new = 2\n    [a]\n  u: x\n");
        let out = edit("data:\n  t: x # c\n", &["data", "t"], json!("a\nb\n"));
        assert_eq!(out, "data:\n  t: |\n    a\n    b\n");
        let out = edit("data:\n  t: |-\n    x\n", &["data", "t"], json!("z"));
        assert_eq!(out, "data:\n  t: z\n");
    }

    #[test]
    fn several_new_keys_share_one_new_parent() {
        for src in [
            "kind: X\n",
            "{kind: X}\n",
            "kind: X\ndata: {}\n",
            "kind: X\ndata:\n",
        ] {
            let t = Tree::parse(src).unwrap();
            let mut e = Edits::default();
            let entries = [("A", json!("1")), ("B", json!("2"))];
            set_entries(
                &t,
                t.root.unwrap(),
                &[Seg::Key("data".into())],
                &entries,
                &mut e,
            )
            .unwrap();
            let out = e.apply(src).unwrap();
            let t2 = Tree::parse(&out).unwrap_or_else(|err| panic!("{err}\n{out}"));
            let data = t2.get(t2.root.unwrap(), "data").unwrap();
            assert_eq!(t2.get_str(data, &["A"]), Some("1"), "{out}");
            assert_eq!(t2.get_str(data, &["B"]), Some("2"), "{out}");
        }
    }

    #[test]
    fn unchanged_values_are_not_edited() {
        let t = Tree::parse("a: 'x'\n").unwrap();
        let mut e = Edits::default();
        assert!(!set(&t, t.root.unwrap(), &["a"], &json!("x"), &mut e).unwrap());
        assert!(e.is_empty());
    }

    #[test]
    fn steps_into_existing_sequence_items() {
        let src = "spec:\n  containers:\n  - name: a\n  - name: core\n    env:\n    - name: CORE_URL\n      value: http://x\n";
        let t = Tree::parse(src).unwrap();
        let steps = [
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Index(1),
            Seg::Key("env".into()),
            Seg::Index(0),
        ];
        let mut e = Edits::default();
        let entries = [("value", json!("http://h.ns.svc"))];
        set_entries(&t, t.root.unwrap(), &steps, &entries, &mut e).unwrap();
        assert_eq!(
            e.apply(src).unwrap(),
            src.replace("http://x", "http://h.ns.svc")
        );
        // A missing item is not created.
        let steps = [
            Seg::Key("spec".into()),
            Seg::Key("containers".into()),
            Seg::Index(5),
        ];
        let err =
            set_entries(&t, t.root.unwrap(), &steps, &entries, &mut Edits::default()).unwrap_err();
        assert_eq!(err.path, "spec.containers[5]");
        assert_eq!(path_text(&steps), "spec.containers[5]");
    }

    fn appended(src: &str, parents: &[&str], key: &str, items: &[Value]) -> String {
        let t = Tree::parse(src).unwrap();
        let parents: Vec<Seg> = parents.iter().map(|k| Seg::Key((*k).into())).collect();
        let mut e = Edits::default();
        append_items(&t, t.root.unwrap(), &parents, key, items, &mut e).unwrap();
        let out = e.apply(src).unwrap();
        Tree::parse(&out).unwrap_or_else(|err| panic!("{err}\n{out}"));
        out
    }

    #[test]
    fn appends_to_sequences_of_every_style() {
        let item = json!({"name": "cfg", "configMap": {"name": "buildkitd-config"}});
        assert_eq!(
            appended(
                "spec:\n  volumes:\n  - name: a\n    emptyDir: {}\n",
                &["spec"],
                "volumes",
                std::slice::from_ref(&item)
            ),
            "spec:\n  volumes:\n  - name: a\n    emptyDir: {}\n  - name: cfg\n    configMap:\n      name: buildkitd-config\n"
        );
        // Indented under the key, with a comment after the last item.
        assert_eq!(
            appended(
                "spec:\n  args:\n    - --a # keep\n",
                &["spec"],
                "args",
                &[json!("--b")]
            ),
            "spec:\n  args:\n    - --a # keep\n    - \"--b\"\n"
        );
        assert_eq!(
            appended(
                "spec:\n  args: [--a, ]\n",
                &["spec"],
                "args",
                &[json!("--b")]
            ),
            "spec:\n  args: [--a, \"--b\"]\n"
        );
        assert_eq!(
            appended("spec:\n  args: []\n", &["spec"], "args", &[json!("--b")]),
            "spec:\n  args: [\"--b\"]\n"
        );
        // Missing or null: a new sequence.
        assert_eq!(
            appended("spec:\n  x: 1\n", &["spec"], "args", &[json!("--b")]),
            "spec:\n  x: 1\n  args:\n  - \"--b\"\n"
        );
        assert_eq!(
            appended(
                "spec:\n  args:\n  x: 1\n",
                &["spec"],
                "args",
                &[json!("--b")]
            ),
            "spec:\n  args: [\"--b\"]\n  x: 1\n"
        );
    }

    #[test]
    fn overlapping_edits_are_refused_not_merged() {
        let src = "metadata:\n  name: x\n";
        let t = Tree::parse(src).unwrap();
        let root = t.root.unwrap();
        // Two systems each adding an annotation: both would create `annotations`.
        let mut a = Edits::default();
        set(
            &t,
            root,
            &["metadata", "annotations", "a"],
            &json!("1"),
            &mut a,
        )
        .unwrap();
        let mut b = Edits::default();
        set(
            &t,
            root,
            &["metadata", "annotations", "b"],
            &json!("2"),
            &mut b,
        )
        .unwrap();
        assert!(a.extend(b).is_err());
        // The same value set twice is the same replacement of the same bytes.
        let mut a = Edits::default();
        set(&t, root, &["metadata", "name"], &json!("y"), &mut a).unwrap();
        let mut b = Edits::default();
        set(&t, root, &["metadata", "name"], &json!("z"), &mut b).unwrap();
        assert!(a.extend(b).is_err());
        // Keys added to a nested mapping and to the one around it, both at its end.
        let src = "spec:\n  a:\n    x: 1\n";
        let t = Tree::parse(src).unwrap();
        let root = t.root.unwrap();
        let mut inner = Edits::default();
        set(&t, root, &["spec", "a", "c"], &json!("2"), &mut inner).unwrap();
        let mut outer = Edits::default();
        set(&t, root, &["spec", "b"], &json!("3"), &mut outer).unwrap();
        outer.extend(inner).unwrap();
        assert_eq!(
            outer.apply(src).unwrap(),
            "spec:\n  a:\n    x: 1\n    c: \"2\"\n  b: \"3\"\n"
        );
        // An item appended to an indentless list and a key added after it, both at the
        // end of its mapping: the item belongs to the list, so it goes first.
        let src = "c:\n  args:\n  - a\n";
        let t = Tree::parse(src).unwrap();
        let root = t.root.unwrap();
        let mut key = Edits::default();
        set(&t, root, &["c", "mounts"], &json!("m"), &mut key).unwrap();
        let mut item = Edits::default();
        append_items(
            &t,
            root,
            &[Seg::Key("c".into())],
            "args",
            &[json!("b")],
            &mut item,
        )
        .unwrap();
        key.extend(item).unwrap();
        assert_eq!(
            key.apply(src).unwrap(),
            "c:\n  args:\n  - a\n  - b\n  mounts: m\n"
        );
        // Edits of distinct bytes go together.
        let src = "a: 1\nb: 2\n";
        let t = Tree::parse(src).unwrap();
        let root = t.root.unwrap();
        let mut a = Edits::default();
        set(&t, root, &["a"], &json!("x"), &mut a).unwrap();
        let mut b = Edits::default();
        set(&t, root, &["b"], &json!("y"), &mut b).unwrap();
        a.extend(b).unwrap();
        assert_eq!(a.apply(src).unwrap(), "a: x\nb: \"y\"\n");
    }

    #[test]
    fn refuses_to_edit_through_aliases_and_scalars() {
        let t = Tree::parse("base: &b {x: 1}\ndata: *b\ns: str\n").unwrap();
        let mut e = Edits::default();
        let err = set(&t, t.root.unwrap(), &["data", "k"], &json!("v"), &mut e).unwrap_err();
        assert_eq!(err.path, "data");
        let err = set(&t, t.root.unwrap(), &["s", "k"], &json!("v"), &mut e).unwrap_err();
        assert!(err.to_string().contains("a string"), "{err:?}");
    }
}
