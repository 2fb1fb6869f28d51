//! How the function is being called, read from the shape of its input.

use super::{Item, ResourceList};
use crate::yaml::{NodeId, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// kustomize `generators:`: the only item is the functionConfig itself.
    KustomizeGenerator,
    /// A kpt package: the items hold a Kptfile.
    KptPackage,
    /// Anything else: a transformer over whatever resources came in.
    Transformer,
}

impl Mode {
    /// Reads the mode from the items and the functionConfig (`fc` in `tree`).
    pub fn of(rl: &ResourceList, tree: &Tree, fc: NodeId) -> Mode {
        let is_fc = |item: &Item| {
            tree.get_str(fc, &["kind"]) == Some(item.kind.as_ref())
                && tree.get_str(fc, &["apiVersion"]) == Some(item.api_version.as_ref())
                && tree.get_str(fc, &["metadata", "name"]).unwrap_or_default() == item.name
        };
        if rl.items.iter().any(|i| i.kind == "Kptfile") {
            Mode::KptPackage
        } else if rl.items.len() == 1 && is_fc(&rl.items[0]) {
            Mode::KustomizeGenerator
        } else {
            Mode::Transformer
        }
    }
}
