//! Finding the ConfigMap that holds `buildkitd.toml` (`spec.buildkitConfigMap` in
//! `spec.namespace`) and reading the file it holds.

use super::toml::KEY;
use crate::krm::{Failure, ResourceList};
use crate::spec::Spec;
use crate::yaml::Tree;
use crate::yaml::scalar::{self, Resolved};

/// What `data.buildkitd.toml` of the ConfigMap holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toml {
    /// No such key.
    Missing,
    /// The file's text.
    Text(String),
    /// Something that is not a string: what it is, for the message.
    NotText(String),
}

/// The BuildKit ConfigMap as it came in.
#[derive(Debug, Clone)]
pub struct ConfigMap {
    pub index: usize,
    pub toml: Toml,
}

/// What the input holds of BuildKit.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub config_map: Option<ConfigMap>,
}

pub fn detect(rl: &ResourceList, spec: &Spec) -> Result<Topology, Failure> {
    let b = &spec.buildkit;
    let Some(index) = rl.one("", "ConfigMap", &b.config_map, &b.namespace, |_| true)? else {
        return Ok(Topology::default());
    };
    Ok(Topology {
        config_map: Some(ConfigMap {
            index,
            toml: toml_of(rl, index),
        }),
    })
}

fn toml_of(rl: &ResourceList, index: usize) -> Toml {
    let (text, _) = rl.standalone(&rl.items[index].span);
    let Ok(tree) = Tree::parse(&text) else {
        // The applier says why it cannot re-read the item.
        return Toml::Missing;
    };
    let Some(v) = tree
        .root
        .and_then(|r| tree.get(r, "data"))
        .and_then(|d| tree.get(d, KEY))
    else {
        return Toml::Missing;
    };
    match tree.scalar(v) {
        Some((s, style, tag)) if matches!(scalar::resolve(s, style, tag), Resolved::Str(_)) => {
            Toml::Text(s.to_string())
        }
        _ => Toml::NotText(tree.describe(v)),
    }
}
