//! BuildKit's change: the ConfigMap with `buildkitd.toml`, edited in place (only our
//! registry table changes) or generated.

use super::detect::{Toml, Topology};
use super::toml::{self as file, KEY};
use crate::endpoint::Scheme;
use crate::krm::{Failure, FnResult, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, Set, System};
use crate::spec::Spec;

pub fn plan(rl: &ResourceList, spec: &Spec, topology: &Topology) -> Result<Plan, Failure> {
    let mut plan = Plan::new(System::Buildkit);
    let (name, ns) = (&spec.buildkit.config_map, &spec.buildkit.namespace);
    let host = spec.endpoint.authority();
    let Some(cm) = &topology.config_map else {
        let toml = file::render(None, spec)
            .map_err(|e| Failure::error(format!("internal: {}", e.message)))?;
        plan.change(Change::Add(file::config_map(spec, &toml)));
        plan.tell(
            FnResult::info(format!(
                "generated buildkitd.toml with [registry.\"{host}\"] ({}); mount it at /etc/buildkit (rootful) or ~/.config/buildkit (rootless)",
                summary(spec)
            ))
            .on(ResourceRef {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.clone(),
                namespace: ns.clone(),
            }),
        );
        return Ok(plan);
    };
    let resource = ResourceRef::of(&rl.items[cm.index]);
    let path = format!("data.{KEY}");
    let existing = match &cm.toml {
        Toml::Missing => None,
        Toml::Text(t) => Some(t.as_str()),
        Toml::NotText(what) => {
            return Err(Failure::new(
                FnResult::error(format!("is {what}, expected the text of buildkitd.toml"))
                    .on(resource)
                    .at(path),
            ));
        }
    };
    let toml = file::render(existing, spec).map_err(|e| {
        Failure::new(
            FnResult::error(format!(
                "data.buildkitd.toml does not parse as TOML, line {}: {}",
                e.line, e.message
            ))
            .on(resource.clone())
            .at(path.clone()),
        )
    })?;
    let changed = existing != Some(toml.as_str());
    plan.change(Change::Set(Set::new(
        cm.index,
        &["data"],
        vec![(KEY.to_string(), toml)],
    )));
    plan.tell(
        FnResult::info(if changed {
            format!(
                "set [registry.\"{host}\"] in buildkitd.toml ({}); the rest of the file is unchanged",
                summary(spec)
            )
        } else {
            format!("[registry.\"{host}\"] in buildkitd.toml is already current")
        })
        .on(resource)
        .at(path),
    );
    Ok(plan)
}

/// Our table's settings, for messages.
fn summary(spec: &Spec) -> String {
    let endpoint = &spec.endpoint;
    let mut parts = Vec::new();
    match endpoint.scheme {
        Scheme::Http => parts.push("http = true".to_string()),
        Scheme::Https => {
            if !endpoint.tls.ca.is_empty() {
                parts.push(format!("ca = {:?}", endpoint.tls.ca));
            }
            if endpoint.tls.insecure_skip_verify {
                parts.push("insecure = true".into());
            }
        }
    }
    if !spec.buildkit.mirrors.is_empty() {
        parts.push(format!("mirrors = {:?}", spec.buildkit.mirrors));
    }
    if parts.is_empty() {
        "https with the system CAs".into()
    } else {
        parts.join(", ")
    }
}
