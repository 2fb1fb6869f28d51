//! ResourceList plumbing: read one from stdin, write one to stdout.
//!
//! Reading keeps only what identifies each item (apiVersion, kind, metadata name,
//! namespace, labels, annotations); the rest of an item is a span of the input. Writing
//! copies those spans back out verbatim, so an item this function does not touch
//! leaves byte for byte as it came, with every value meaning what it meant, whatever
//! a YAML emitter would have made of it.
//!
//! The protocol (kustomize `functions-spec.md`, kpt `fnruntime`): `items`, then an
//! optional `functionConfig`, then `results` with `message`, `severity`,
//! `resourceRef`, `field`, `file`; exit 0 on success, non-zero on failure.

use serde_json::{Map, Value, json};

use crate::yaml::{self, NodeId, Seg, Tree, emit, tree::Limits};

pub const API_VERSION: &str = "config.kubernetes.io/v1";
const ACCEPTED_API_VERSIONS: &[&str] = &["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// What identifies an item, read from its metadata.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub node: NodeId,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
}

impl Item {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is(&self, api_group: &str, kind: &str) -> bool {
        self.kind == kind && group_of(&self.api_version) == api_group
    }

    /// `namespace/name`, or `name` for an item without a namespace.
    pub fn id(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A parsed ResourceList.
pub struct ResourceList<'a> {
    pub tree: Tree<'a>,
    pub api_version: String,
    pub items: Vec<Item>,
    pub function_config: Option<NodeId>,
    /// Results already in the input (from an earlier function in a pipe): kept.
    pub results: Vec<NodeId>,
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

/// Which parts of the input to materialise: the envelope, the functionConfig whole,
/// and per item only apiVersion, kind, and metadata name/namespace/labels/annotations.
fn keep(path: &[Seg]) -> bool {
    let key = |i: usize| match path.get(i) {
        Some(Seg::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    match key(0) {
        None => path.is_empty(),
        Some("apiVersion" | "kind") => true,
        Some("functionConfig") => true,
        Some("results") => path.len() <= 1,
        Some("items") => match path.len() {
            1 | 2 => true,
            3 => matches!(key(2), Some("apiVersion" | "kind" | "metadata")),
            4 => {
                key(2) == Some("metadata")
                    && matches!(
                        key(3),
                        Some("name" | "namespace" | "labels" | "annotations")
                    )
            }
            5 => matches!(key(3), Some("labels" | "annotations")),
            _ => false,
        },
        Some(_) => false,
    }
}

impl<'a> ResourceList<'a> {
    pub fn parse(src: &'a str) -> Result<ResourceList<'a>, InputError> {
        let tree = Tree::parse_with(src, Limits::default(), &keep)
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
        let kind = tree.get_str(root, &["kind"]).unwrap_or_default();
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
        let api_version = tree.get_str(root, &["apiVersion"]).unwrap_or_default();
        if !ACCEPTED_API_VERSIONS.contains(&api_version) {
            return Err(InputError {
                message: format!(
                    "unsupported ResourceList apiVersion {api_version:?}; expected one of {}",
                    ACCEPTED_API_VERSIONS.join(", ")
                ),
                field: Some("apiVersion".into()),
            });
        }
        let mut items = Vec::new();
        if let Some(list) = tree.get(root, "items") {
            if let Some(ids) = tree.seq_items(list) {
                for (i, &id) in ids.iter().enumerate() {
                    items.push(read_item(&tree, id, i)?);
                }
            } else if tree.scalar(list).is_none_or(|(s, st, t)| {
                yaml::scalar::resolve(s, st, t) != yaml::scalar::Resolved::Null
            }) {
                return Err(InputError {
                    message: format!(
                        "items is {}, expected a list of resources",
                        tree.describe(list)
                    ),
                    field: Some("items".into()),
                });
            }
        }
        let function_config = tree.get(root, "functionConfig").filter(|&id| {
            tree.scalar(id).is_none_or(|(s, st, t)| {
                yaml::scalar::resolve(s, st, t) != yaml::scalar::Resolved::Null
            })
        });
        let results = tree
            .get(root, "results")
            .and_then(|r| tree.seq_items(r))
            .map(<[NodeId]>::to_vec)
            .unwrap_or_default();
        Ok(ResourceList {
            api_version: api_version.to_string(),
            tree,
            items,
            function_config,
            results,
        })
    }
}

fn read_item(tree: &Tree, id: NodeId, index: usize) -> Result<Item, InputError> {
    let field = Some(format!("items[{index}]"));
    if !matches!(tree.node(id).kind, yaml::Kind::Map { .. }) {
        return Err(InputError {
            message: format!(
                "items[{index}] is {}, expected a resource (a mapping with apiVersion, kind and metadata)",
                tree.describe(id)
            ),
            field,
        });
    }
    let string_map = |key: &str| -> Vec<(String, String)> {
        tree.get(id, "metadata")
            .and_then(|m| tree.get(m, key))
            .and_then(|m| tree.entries(m))
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|&(k, v)| {
                        let k = tree.scalar(k)?.0.to_string();
                        let v = tree.scalar(v)?.0.to_string();
                        Some((k, v))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let s = |path: &[&str]| tree.get_str(id, path).unwrap_or_default().to_string();
    Ok(Item {
        node: id,
        api_version: s(&["apiVersion"]),
        kind: s(&["kind"]),
        name: s(&["metadata", "name"]),
        namespace: s(&["metadata", "namespace"]),
        labels: string_map("labels"),
        annotations: string_map("annotations"),
    })
}

/// A KRM function result.
#[derive(Debug, Clone, PartialEq)]
pub struct FnResult {
    pub severity: Severity,
    pub message: String,
    pub resource: Option<ResourceRef>,
    pub field: Option<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl ResourceRef {
    pub fn of(item: &Item) -> Self {
        ResourceRef {
            api_version: item.api_version.clone(),
            kind: item.kind.clone(),
            name: item.name.clone(),
            namespace: item.namespace.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: String,
    pub current: Option<String>,
    pub proposed: Option<String>,
}

impl FnResult {
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        FnResult {
            severity,
            message: message.into(),
            resource: None,
            field: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.field = Some(Field {
            path: path.into(),
            current: None,
            proposed: None,
        });
        self
    }

    pub fn change(mut self, path: &str, current: Option<&str>, proposed: &str) -> Self {
        self.field = Some(Field {
            path: path.into(),
            current: current.map(str::to_string),
            proposed: Some(proposed.to_string()),
        });
        self
    }

    pub fn on(mut self, resource: ResourceRef) -> Self {
        self.resource = Some(resource);
        self
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), json!(self.message));
        m.insert("severity".into(), json!(self.severity.as_str()));
        if let Some(r) = &self.resource {
            let mut rr = Map::new();
            rr.insert("apiVersion".into(), json!(r.api_version));
            rr.insert("kind".into(), json!(r.kind));
            rr.insert("name".into(), json!(r.name));
            if !r.namespace.is_empty() {
                rr.insert("namespace".into(), json!(r.namespace));
            }
            m.insert("resourceRef".into(), Value::Object(rr));
        }
        if let Some(f) = &self.field {
            let mut fm = Map::new();
            fm.insert("path".into(), json!(f.path));
            if let Some(c) = &f.current {
                fm.insert("currentValue".into(), json!(c));
            }
            if let Some(p) = &f.proposed {
                fm.insert("proposedValue".into(), json!(p));
            }
            m.insert("field".into(), Value::Object(fm));
        }
        Value::Object(m)
    }

    /// One line for stderr: `error: spec.scheme: ...`.
    pub fn to_line(&self) -> String {
        let mut s = format!("{}: ", self.severity.as_str());
        if let Some(r) = &self.resource {
            s.push_str(&format!("{} {}: ", r.kind, ItemIdDisplay(r)));
        }
        s.push_str(&self.message);
        s
    }
}

struct ItemIdDisplay<'r>(&'r ResourceRef);

impl std::fmt::Display for ItemIdDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.namespace.is_empty() {
            f.write_str(&self.0.name)
        } else {
            write!(f, "{}/{}", self.0.namespace, self.0.name)
        }
    }
}

/// One item of the output list.
pub enum OutItem {
    /// An input item, copied verbatim.
    Input(NodeId),
    /// An input item with edits applied: its new text and the column it started at.
    Edited { text: String, col: usize },
    /// A resource this function generated.
    New(Value),
}

/// Writes the output ResourceList.
pub fn write(out: &mut String, rl: Option<&ResourceList>, items: &[OutItem], results: &[FnResult]) {
    let tree = rl.map(|rl| &rl.tree);
    if let Some(t) = tree.filter(|t| !t.directives.is_empty()) {
        out.push_str(t.directives);
        out.push_str("---\n");
    }
    out.push_str("apiVersion: ");
    out.push_str(rl.map_or(API_VERSION, |rl| rl.api_version.as_str()));
    out.push_str("\nkind: ResourceList\n");
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        for item in items {
            match (item, tree) {
                (OutItem::Input(id), Some(t)) => verbatim_entry(out, t, *id),
                (OutItem::Edited { text, col }, _) => {
                    out.push_str("- ");
                    yaml::reindent(out, text, *col, 2);
                    end_line(out);
                }
                (OutItem::New(v), _) => emit::seq_entry(out, v, 0),
                (OutItem::Input(_), None) => {}
            }
        }
    }
    if let (Some(rl), Some(fc)) = (rl, rl.and_then(|rl| rl.function_config)) {
        let t = &rl.tree;
        let flow_or_scalar =
            t.text(fc).starts_with(['{', '[', '"', '\'']) || t.scalar(fc).is_some();
        if flow_or_scalar {
            out.push_str("functionConfig: ");
        } else {
            out.push_str("functionConfig:\n  ");
        }
        yaml::reindent(out, t.text(fc), t.node(fc).col, 2);
        end_line(out);
    }
    let carried = rl.map_or(&[][..], |rl| rl.results.as_slice());
    if !carried.is_empty() || !results.is_empty() {
        out.push_str("results:\n");
        if let Some(rl) = rl {
            for &id in carried {
                verbatim_entry(out, &rl.tree, id);
            }
        }
        for r in results {
            emit::seq_entry(out, &r.to_value(), 0);
        }
    }
}

fn verbatim_entry(out: &mut String, tree: &Tree, id: NodeId) {
    out.push_str("- ");
    let node = tree.node(id);
    yaml::reindent(out, tree.text(id), node.col, 2);
    end_line(out);
}

fn end_line(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}
