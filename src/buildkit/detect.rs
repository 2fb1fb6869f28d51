//! What the input holds of BuildKit: the daemon ([`super::daemon`]), the Service in
//! front of it, and the ConfigMap holding `buildkitd.toml`: the one the daemon mounts,
//! else `spec.buildkitConfigMap` in the daemon's namespace.

use super::daemon::{self, Daemon, Service};
use super::toml::KEY;
use crate::codes::Code;
use crate::krm::{Failure, FnResult, ResourceList, ResourceRef};
use crate::spec::Spec;
use crate::yaml::scalar::{self, Resolved};

/// What the ConfigMap's key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Toml {
    /// No such key.
    Missing,
    /// The file's text.
    Text(String),
    /// Something that is not a string: what it is, for the message.
    NotText(String),
}

/// The BuildKit ConfigMap as it came in.
#[derive(Debug, Clone)]
pub(crate) struct ConfigMap {
    pub(crate) index: usize,
    pub(crate) toml: Toml,
}

/// What the input holds of BuildKit.
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    pub(crate) daemon: Option<Daemon>,
    pub(crate) service: Option<Service>,
    /// The ConfigMap the file goes in: its name, namespace and key.
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) key: String,
    /// Whether the daemon already mounts that ConfigMap's key at its config path.
    pub(crate) mounted: bool,
    /// That ConfigMap, when it is in the input.
    pub(crate) config_map: Option<ConfigMap>,
    /// The local-config mount patch an earlier run wrote into a kpt package.
    pub(crate) previous_mount_patch: Option<usize>,
}

pub(crate) fn detect(rl: &ResourceList, spec: &Spec) -> Result<Topology, Failure> {
    let b = &spec.buildkit;
    // Daemonless, the step runs its own buildkitd: a daemon in the input is not ours
    // to wire, and the file goes to the Task's namespace, where the step mounts it.
    let daemon = if b.daemonless {
        None
    } else {
        daemon::find(rl, spec)?
    };
    let service = daemon.as_ref().and_then(|d| daemon::service(rl, d));
    let mounted = daemon
        .as_ref()
        .and_then(|d| d.config_map_file(&d.config_path));
    let namespace = match &daemon {
        Some(d) if !b.namespace_given && !d.namespace.is_empty() => d.namespace.clone(),
        _ => b.namespace.clone(),
    };
    let (name, key) = match (&mounted, &daemon) {
        (Some(file), Some(d)) => {
            if b.config_map_given && file.config_map != b.config_map {
                return Err(Failure::new(
                    FnResult::error(Code::BuildkitConfigMapMismatch, format!(
                        "{} reads {} from ConfigMap {} (key {}), not from spec.buildkitConfigMap {}: set spec.buildkitConfigMap to {}, or leave it out",
                        d.describe(),
                        d.config_path,
                        file.config_map,
                        file.key,
                        b.config_map,
                        file.config_map
                    ))
                    .on(ResourceRef::of(&rl.items[d.index]))
                    .at("spec.buildkitConfigMap"),
                ));
            }
            (file.config_map.clone(), file.key.clone())
        }
        _ => (b.config_map.clone(), KEY.to_string()),
    };
    let config_map = rl
        .one("", "ConfigMap", &name, &namespace, |_| true)?
        .map(|index| ConfigMap {
            index,
            toml: toml_of(rl, index, &key),
        });
    let previous_mount_patch = rl.items.iter().position(|i| {
        i.is("apps", "Deployment")
            && i.local_config
            && i.managed_by.as_deref() == Some(crate::MANAGED_BY)
    });
    Ok(Topology {
        daemon,
        service,
        name,
        namespace,
        key,
        mounted: mounted.is_some(),
        config_map,
        previous_mount_patch,
    })
}

fn toml_of(rl: &ResourceList, index: usize, key: &str) -> Toml {
    // Read as every item is (aliases to anchors in other items resolve); an item that
    // does not read at all is the applier's to explain.
    let read = rl.read(&rl.items[index].span, |tree, root| {
        let v = tree.get(root, "data").and_then(|d| tree.get(d, key))?;
        Some(match tree.scalar(v) {
            Some((s, style, tag)) if matches!(scalar::resolve(s, style, tag), Resolved::Str(_)) => {
                Toml::Text(s.to_string())
            }
            _ => Toml::NotText(tree.describe(v)),
        })
    });
    read.ok().flatten().unwrap_or(Toml::Missing)
}
