//! The output as it will be written: the input items (verbatim or edited in place) and
//! the generated resources, in order. The checks read this, not the input, so what
//! they judge is exactly what reaches the cluster, generated items included.

use std::borrow::Cow;

use serde_json::Value;

use crate::krm::{OutItem, ResourceList, ResourceRef, Span, group_of};
use crate::yaml::Tree;
use crate::yaml::tree::Seg;

/// What identifies an output item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity<'o> {
    pub(crate) api_version: &'o str,
    pub(crate) kind: &'o str,
    pub(crate) name: &'o str,
    pub(crate) namespace: &'o str,
}

impl Identity<'_> {
    pub(crate) fn is(&self, api_group: &str, kind: &str) -> bool {
        self.kind == kind && group_of(self.api_version) == api_group
    }

    /// As [`crate::krm::Item::in_namespace`]: no namespace on either side matches.
    pub(crate) fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace.is_empty() || namespace.is_empty() || self.namespace == namespace
    }

    pub(crate) fn resource_ref(&self) -> ResourceRef {
        ResourceRef {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            name: self.name.into(),
            namespace: self.namespace.into(),
        }
    }
}

/// The output items over the input they came from. Index `i` below the input's item
/// count is what became of input item `i`; generated resources follow.
pub(crate) struct Output<'r, 's> {
    pub(crate) rl: &'r ResourceList<'s>,
    pub(crate) items: Vec<OutItem>,
}

impl<'r, 's> Output<'r, 's> {
    /// Every input item as it came.
    pub(crate) fn unchanged(rl: &'r ResourceList<'s>) -> Self {
        Output {
            rl,
            items: (0..rl.items.len()).map(OutItem::Input).collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether item `i` is a resource this run generated (added, or regenerated in
    /// place of an input item).
    pub(crate) fn is_generated(&self, i: usize) -> bool {
        matches!(self.items.get(i), Some(OutItem::New(_)))
    }

    pub(crate) fn identity(&self, i: usize) -> Identity<'_> {
        let empty = Identity {
            api_version: "",
            kind: "",
            name: "",
            namespace: "",
        };
        match self.items.get(i) {
            Some(OutItem::New(v)) => {
                // `get`, not `pointer`: the checks ask for identities often, and a
                // pointer allocates for each of its segments.
                fn s(v: Option<&Value>) -> &str {
                    v.and_then(Value::as_str).unwrap_or("")
                }
                let metadata = v.get("metadata");
                Identity {
                    api_version: s(v.get("apiVersion")),
                    kind: s(v.get("kind")),
                    name: s(metadata.and_then(|m| m.get("name"))),
                    namespace: s(metadata.and_then(|m| m.get("namespace"))),
                }
            }
            Some(_) => match self.rl.items.get(i) {
                Some(item) => Identity {
                    api_version: &item.api_version,
                    kind: &item.kind,
                    name: &item.name,
                    namespace: &item.namespace,
                },
                None => empty,
            },
            None => empty,
        }
    }

    pub(crate) fn resource_ref(&self, i: usize) -> ResourceRef {
        self.identity(i).resource_ref()
    }

    /// The YAML text of an input item (edited or not); `None` for generated ones.
    pub(crate) fn text(&self, i: usize) -> Option<Span<'_>> {
        match self.items.get(i)? {
            OutItem::Input(n) => self.rl.items.get(*n).map(|item| item.span),
            OutItem::Edited { text, col } => Some(Span {
                text,
                col: *col,
                line: 0,
            }),
            OutItem::New(_) => None,
        }
    }

    /// Item `i` as JSON (aliases read across the whole document); `None` when it is
    /// not convertible.
    pub(crate) fn value(&self, i: usize) -> Option<Cow<'_, Value>> {
        if let Some(OutItem::New(v)) = self.items.get(i) {
            return Some(Cow::Borrowed(v));
        }
        self.read(i, None, &|tree, id| tree.to_json(id).ok())
            .map(Cow::Owned)
    }

    /// Item `i` read in full (or with only what `keep` accepts), `f` applied to its
    /// tree and node; generated items are converted to JSON directly.
    fn read(
        &self,
        i: usize,
        keep: Option<crate::yaml::tree::Keep>,
        f: &dyn Fn(&Tree, crate::yaml::NodeId) -> Option<Value>,
    ) -> Option<Value> {
        match self.items.get(i)? {
            OutItem::New(v) => Some(v.clone()),
            OutItem::Input(n) => {
                let span = self.rl.items.get(*n)?.span;
                self.rl.read_kept(&span, keep, f).ok().flatten()
            }
            OutItem::Edited { .. } => {
                let original = self.rl.items.get(i)?.span;
                self.rl
                    .read_edited(&original, &self.text(i)?, keep, f)
                    .ok()
                    .flatten()
            }
        }
    }

    /// Item `i` as JSON with only the parts `keep` accepts read from text (generated
    /// items are whole): for checks over many items that need a few fields of each.
    pub(crate) fn value_kept(&self, i: usize, keep: &dyn Fn(&[Seg<'_>]) -> bool) -> Option<Value> {
        self.read(i, Some(keep), &|tree, id| tree.to_json_kept(id).ok())
    }

    /// Whether item `i`'s text holds `needle` (generated items: always, as a text
    /// prefilter must never skip them).
    pub(crate) fn mentions(&self, i: usize, needle: &str) -> bool {
        match self.text(i) {
            Some(span) => span.mentions(needle),
            None => true,
        }
    }

    /// The items whose identity `matches`, in order.
    pub(crate) fn find<'o>(
        &'o self,
        matches: impl Fn(&Identity<'o>) -> bool + 'o,
    ) -> impl Iterator<Item = usize> + 'o {
        (0..self.len()).filter(move |&i| matches(&self.identity(i)))
    }
}
