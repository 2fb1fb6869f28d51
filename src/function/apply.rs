//! The one applier: every system's changes, made to the output in one pass.
//!
//! It owns the edit plumbing: an input item is re-read whole (the ResourceList reader
//! kept only its identity), edited surgically (`yaml::edit`), and written back at its
//! original column, so every byte the changes do not name stays as it came. Two
//! changes that touch the same item in ways that cannot both hold (two edits of the
//! same bytes, two new keys creating the same parent, an edit of an item another
//! change replaces) are refused, naming both; nothing is merged by accident. Appends
//! to one list are the one exception: they compose, in plan order.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::codes::Code;
use crate::krm::{Failure, FnResult, Item, OutItem, ResourceList, ResourceRef};
use crate::output::Output;
use crate::plan::{Append, Change, Plan, Set, System};
use crate::yaml::edit::{self, Edits};
use crate::yaml::{NodeId, Tree};

/// Annotations that tie an item to its file and identity in kpt and kustomize; an
/// item this function regenerates keeps the ones it came in with.
fn is_identity_annotation(key: &str) -> bool {
    key.starts_with("internal.config.kubernetes.io/")
        || matches!(
            key,
            "config.kubernetes.io/path"
                | "config.kubernetes.io/index"
                | "config.k8s.io/id"
                | "kustomize.config.k8s.io/id"
        )
}

/// An edit in place: keys set, or items appended to a sequence.
enum Edit {
    Set(Set),
    Append(Append),
}

impl Edit {
    fn path(&self) -> String {
        match self {
            Edit::Set(s) => s.path(),
            Edit::Append(a) => a.path(),
        }
    }
}

/// What is to happen to one input item, and which system asked.
#[derive(Default)]
struct ItemChanges {
    sets: Vec<(System, Edit)>,
    replace: Option<(System, Value)>,
}

/// Applies the plans' changes. On failure, every error of every system, in system
/// order.
pub(crate) fn apply<'r, 's>(
    rl: &'r ResourceList<'s>,
    plans: Vec<Plan>,
) -> Result<Output<'r, 's>, Failure> {
    let mut output = Output::unchanged(rl);
    let mut by_item: BTreeMap<usize, ItemChanges> = BTreeMap::new();
    let mut added = Vec::new();
    let mut failures: BTreeMap<System, Failure> = BTreeMap::new();
    let mut fail = |system: System, f: Failure| match failures.get_mut(&system) {
        Some(existing) => existing.merge(f),
        None => {
            failures.insert(system, f);
        }
    };
    for plan in plans {
        for change in plan.changes {
            match change {
                Change::Add(v) => added.push(v),
                Change::Set(set) => by_item
                    .entry(set.item)
                    .or_default()
                    .sets
                    .push((plan.system, Edit::Set(set))),
                Change::Append(a) => {
                    let sets = &mut by_item.entry(a.item).or_default().sets;
                    // Two appends to one list are one append of both (a volume for the
                    // config and one for the CA, to a pod that has none yet): as two,
                    // each would create the list.
                    let same_list = sets.iter_mut().find_map(|(_, e)| match e {
                        Edit::Append(b) if b.parent == a.parent && b.key == a.key => Some(b),
                        _ => None,
                    });
                    match same_list {
                        Some(b) => b.items.extend(a.items),
                        None => sets.push((plan.system, Edit::Append(a))),
                    }
                }
                Change::Replace { item, with } => {
                    let entry = by_item.entry(item).or_default();
                    if let Some((first, _)) = &entry.replace {
                        let item = &rl.items[item];
                        fail(
                            plan.system,
                            conflict(
                                item,
                                &format!(
                                    "{} and {} both regenerate it",
                                    first.name(),
                                    plan.system.name()
                                ),
                            ),
                        );
                        continue;
                    }
                    entry.replace = Some((plan.system, with));
                }
            }
        }
    }
    for (index, changes) in by_item {
        let item = &rl.items[index];
        match changes {
            ItemChanges {
                sets,
                replace: Some((system, with)),
            } => {
                if let Some((other, set)) = sets.first() {
                    fail(
                        *other,
                        conflict(
                            item,
                            &format!(
                                "{} regenerates it and {} edits {}",
                                system.name(),
                                other.name(),
                                set.path()
                            ),
                        ),
                    );
                    continue;
                }
                if let Some(f) = shared_anchor(rl, item) {
                    fail(system, f);
                    continue;
                }
                output.items[index] = OutItem::New(keep_identity(with, rl, item));
            }
            ItemChanges {
                sets,
                replace: None,
            } => match edit_item(rl, item, &sets) {
                Ok(edited) => output.items[index] = edited,
                Err((system, f)) => fail(system, f),
            },
        }
    }
    let mut failures = failures.into_values();
    if let Some(mut first) = failures.next() {
        for f in failures {
            first.merge(f);
        }
        return Err(first);
    }
    output.items.extend(added.into_iter().map(OutItem::New));
    Ok(output)
}

fn conflict(item: &Item, what: &str) -> Failure {
    Failure::new(
        FnResult::error(Code::Internal, format!(
            "conflicting changes to this item: {what}; this is a bug in harbor-buildkit-fn, please report it with the input"
        ))
        .on(ResourceRef::of(item)),
    )
}

/// An input item with `sets` made in place. The item is re-read on its own, or from
/// the whole document when it holds anchors (so that aliases to them in other items
/// are seen, and an edit they would see is refused) or aliases to anchors elsewhere.
fn edit_item(
    rl: &ResourceList,
    item: &Item,
    sets: &[(System, Edit)],
) -> Result<OutItem, (System, Failure)> {
    let first = sets.first().map_or(System::Harbor, |(s, _)| *s);
    let edited = rl
        .read_with(&item.span, true, |tree, root, range| {
            edit_tree(tree, root, range, item, sets)
        })
        .map_err(|e| (first, reread_error(item, &e)))??;
    Ok(OutItem::Edited {
        text: edited,
        col: item.span.col,
    })
}

/// The edits of `sets` to the item at `root` of `tree`, applied to its text
/// (`tree.src[range]`).
fn edit_tree(
    tree: &Tree,
    root: NodeId,
    range: std::ops::Range<usize>,
    item: &Item,
    sets: &[(System, Edit)],
) -> Result<String, (System, Failure)> {
    let first = sets.first().map_or(System::Harbor, |(s, _)| *s);
    let mut all = Edits::default();
    let mut done: Vec<(System, String)> = Vec::new();
    for (system, set) in sets {
        let mut edits = Edits::default();
        let made = match set {
            Edit::Set(set) => {
                let entries: Vec<(&str, Value)> = set
                    .entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), Value::String(v.clone())))
                    .collect();
                edit::set_entries(tree, root, &set.parent, &entries, &mut edits).map(|_| ())
            }
            Edit::Append(a) => {
                edit::append_items(tree, root, &a.parent, &a.key, &a.items, &mut edits)
            }
        };
        if let Err(e) = made {
            return Err((*system, edit_error(item, e)));
        }
        if all.extend(edits).is_err() {
            let (other, path) = done
                .iter()
                .find(|(_, p)| *p != set.path())
                .or(done.first())
                .cloned()
                .unwrap_or((*system, String::new()));
            return Err((
                *system,
                conflict(
                    item,
                    &format!(
                        "{} edits {path} and {} edits {}, at the same place",
                        other.name(),
                        system.name(),
                        set.path()
                    ),
                ),
            ));
        }
        done.push((*system, set.path()));
    }
    all.apply_in(tree.src, range).map_err(|o| {
        (first, Failure::new(
            FnResult::error(Code::Internal, format!(
                "internal: two edits of this item overlap at byte {}; this is a bug in harbor-buildkit-fn, please report it with the input",
                o.at
            ))
            .on(ResourceRef::of(item)),
        ))
    })
}

/// An input item that no longer re-reads: the input was read whole before, so this
/// is never the user's YAML.
fn reread_error(item: &Item, e: &crate::yaml::ParseError) -> Failure {
    Failure::new(
        FnResult::error(Code::Internal, format!(
            "internal: cannot re-read this item to patch it ({e}); this is a bug in harbor-buildkit-fn, please report it with the input"
        ))
        .on(ResourceRef::of(item)),
    )
}

fn edit_error(item: &Item, e: edit::EditError) -> Failure {
    let r = FnResult::error(Code::InputNotEditable, e.to_string()).on(ResourceRef::of(item));
    Failure::new(if e.path.is_empty() { r } else { r.at(e.path) })
}

/// Why input item `item` cannot be replaced by a generated resource: an alias
/// elsewhere reads an anchor in it, and would be left without it.
fn shared_anchor(rl: &ResourceList, item: &Item) -> Option<Failure> {
    let found = rl.read_with(&item.span, true, |tree, id, _| {
        let &(alias, anchor) = tree.aliases_of(id, true).first()?;
        let name = tree.anchor_name(anchor).unwrap_or("?");
        Some(format!(
            "this item is regenerated, but it holds the anchor &{name} (line {}), which the alias *{name} on line {} reads: the alias would be left without its anchor. Write the value out in place of *{name}, then run again",
            tree.node(anchor).line,
            tree.node(alias).line
        ))
    });
    let message = found.ok().flatten()?;
    Some(Failure::new(
        FnResult::error(Code::InputNotEditable, message).on(ResourceRef::of(item)),
    ))
}

/// `generated` with the identity annotations `previous` came in with.
fn keep_identity(mut generated: Value, rl: &ResourceList, previous: &Item) -> Value {
    let kept: Vec<(String, String)> = rl
        .read(&previous.span, |tree, root| {
            let Some(entries) = tree
                .get(root, "metadata")
                .and_then(|m| tree.get(m, "annotations"))
                .and_then(|a| tree.entries(a))
            else {
                return Vec::new();
            };
            entries
                .iter()
                .filter_map(|&(k, v)| {
                    let ((k, _, _), (v, _, _)) = (tree.scalar(k)?, tree.scalar(v)?);
                    is_identity_annotation(k).then(|| (k.to_string(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(annotations) = generated
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for (k, v) in kept {
            annotations.insert(k, Value::String(v));
        }
    }
    generated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rl(src: &str) -> ResourceList<'_> {
        ResourceList::parse(src).expect("a ResourceList")
    }

    const ONE_DEPLOYMENT: &str = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: d\n  spec: {}\n";

    fn annotate(item: usize, key: &str, value: &str) -> Change {
        Change::Set(Set::new(
            item,
            &["spec", "template", "metadata", "annotations"],
            vec![(key.into(), value.into())],
        ))
    }

    fn plan(system: System, changes: Vec<Change>) -> Plan {
        let mut p = Plan::new(system);
        p.changes = changes;
        p
    }

    #[test]
    fn two_systems_annotating_one_deployment_are_refused() {
        let rl = rl(ONE_DEPLOYMENT);
        let plans = vec![
            plan(System::Harbor, vec![annotate(0, "a", "1")]),
            plan(System::Buildkit, vec![annotate(0, "b", "2")]),
        ];
        let Err(f) = apply(&rl, plans) else {
            panic!("applied");
        };
        let message = &f.results().next().expect("an error").message;
        assert!(message.contains("conflicting changes"), "{message}");
        assert!(
            message.contains("Harbor") && message.contains("BuildKit"),
            "{message}"
        );
    }

    #[test]
    fn one_system_setting_two_keys_of_one_parent_is_one_edit() {
        let rl = rl(ONE_DEPLOYMENT);
        let change = Change::Set(Set::new(
            0,
            &["spec", "template", "metadata", "annotations"],
            vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        ));
        let output = apply(&rl, vec![plan(System::Harbor, vec![change])]).expect("applies");
        let v = output.value(0).expect("re-reads");
        assert_eq!(
            v.pointer("/spec/template/metadata/annotations/b"),
            Some(&Value::from("2"))
        );
    }

    #[test]
    fn an_edit_of_an_item_another_change_replaces_is_refused() {
        let rl = rl(ONE_DEPLOYMENT);
        let plans = vec![
            plan(System::Harbor, vec![annotate(0, "a", "1")]),
            plan(
                System::Tekton,
                vec![Change::Replace {
                    item: 0,
                    with: serde_json::json!({"kind": "X"}),
                }],
            ),
        ];
        assert!(apply(&rl, plans).is_err());
    }
}
