//! Finding Harbor in the input by what it is, not by the registry's name: its core
//! ConfigMap, the harbor-core Deployment and container, the Services in front of it,
//! and its internal TLS Secret. Read-only, once per run; the plan and the checks both
//! use what it found.
//!
//! What the chart renders (goharbor/harbor-helm, v1.13 to v1.19):
//! - the core ConfigMap `<fullname>-core` (`templates/core/core-cm.yaml`) holds
//!   `EXT_ENDPOINT` and `CORE_URL`; jobservice's `<fullname>-jobservice-env` holds
//!   `CORE_URL` without `EXT_ENDPOINT`;
//! - the Deployment `<fullname>-core` (`templates/core/core-dpl.yaml`) runs container
//!   `core` with `envFrom: [configMapRef <fullname>-core, secretRef <fullname>-core]`,
//!   then `env` with `core.extraEnvVars` last; `env` wins over `envFrom`
//!   (kubernetes/api `core/v1/types.go`, `Container.EnvFrom`);
//! - the Service `<fullname>-core` selects `app`, `release`, `component: core`; the
//!   front Service of `expose.type: clusterIP` (default name `harbor`) selects
//!   `component: nginx` (`templates/nginx/service.yaml`);
//! - with internal TLS, the core certificate is the Secret `<fullname>-core-internal-tls`
//!   (`tls.crt`, `tls.key`, `ca.crt`), mounted at `/etc/harbor/ssl/core`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::realm::Rule;
use crate::codes::Code;
use crate::krm::env::{self, Holds, Object, Origin};
use crate::krm::fields::{WORKLOADS, containers, is_workload, str_at, string_map};
use crate::krm::{Failure, FnResult, Item, ResourceList, ResourceRef};
use crate::spec::Spec;

/// Where harbor-core reads one of its settings, as the kubelet builds its container's
/// environment ([`crate::krm::env`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Where {
    /// `env[index]` of the core container, with a value (the chart's
    /// `core.extraEnvVars`).
    Env { index: usize, value: String },
    /// `env[index]` with `valueFrom`: known only in the cluster.
    ValueFrom { index: usize },
    /// Key `key` of ConfigMap item `item`, read through `envFrom` (the chart's core
    /// ConfigMap, or another, with or without a prefix).
    ConfigMap {
        item: usize,
        key: String,
        value: String,
    },
    /// A Secret, read through `envFrom`: not patched by this function.
    Secret { name: String },
}

/// One of harbor-core's settings: where it is read (`None`: nothing in the input
/// sets it), and the `envFrom` objects not in the input that may set it over that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) at: Option<Where>,
    pub(crate) unknown_after: Vec<String>,
}

/// Harbor's core ConfigMap as it came in.
#[derive(Debug, Clone)]
pub(crate) struct CoreConfigMap {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) namespace: String,
    /// `data.<key>` for the keys this function reads (strings only).
    pub(crate) core_url: Option<String>,
    pub(crate) token_service_url: Option<String>,
    pub(crate) ext_endpoint: Option<String>,
}

/// The harbor-core Deployment as it came in.
#[derive(Debug, Clone)]
pub(crate) struct CoreDeployment {
    pub(crate) index: usize,
    /// Index of the harbor-core container in `spec.template.spec.containers`.
    pub(crate) container: usize,
    /// The image tag and the realm rule it implies, when the tag says.
    pub(crate) version: Option<(String, Rule)>,
    /// The pod-template annotation this function sets, as it is.
    pub(crate) checksum: Option<String>,
    /// `kind ns/name`, for messages.
    pub(crate) describe: String,
    /// The settings this function reads, as the container gets them.
    pub(crate) core_url: Setting,
    pub(crate) token_service_url: Setting,
    pub(crate) ext_endpoint: Setting,
    /// `INTERNAL_TLS_ENABLED` in its env, as the chart sets it with internal TLS.
    pub(crate) internal_tls: bool,
    /// The Secret mounted at `/etc/harbor/ssl/core` (the internal TLS certificate).
    pub(crate) tls_secret: Option<String>,
    /// The pod template's labels, which a Service selector must match.
    pub(crate) pod_labels: BTreeMap<String, String>,
}

/// Harbor's jobservice workload as it came in. jobservice compares a replication
/// endpoint's URL with its own `CORE_URL` to tell the local Harbor
/// (goharbor/harbor `src/pkg/reg/adapter/harbor/base/adapter.go` `isLocalHarbor`,
/// `url == os.Getenv("CORE_URL")`), where the URL is harbor-core's `CORE_URL`
/// (`src/pkg/reg/manager.go`, `config.InternalCoreURL()`): the two must be one string.
#[derive(Debug, Clone)]
pub(crate) struct Jobservice {
    pub(crate) index: usize,
    pub(crate) container: usize,
    /// `kind ns/name`, for messages.
    pub(crate) describe: String,
    pub(crate) core_url: Setting,
    pub(crate) token_service_url: Setting,
    /// The pod-template annotation this function sets, as it is.
    pub(crate) checksum: Option<String>,
}

/// A host an Ingress of the input routes, and whether its `tls` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IngressHost {
    pub(crate) host: String,
    pub(crate) ingress: String,
    pub(crate) tls: bool,
}

/// A Service of the input: what it selects and what it exposes.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) selector: BTreeMap<String, String>,
    /// `(name, port)` of each entry of `spec.ports`.
    pub(crate) ports: Vec<(String, u16)>,
}

/// A Secret of the input holding a TLS certificate (`tls.crt`).
#[derive(Debug, Clone)]
pub(crate) struct TlsSecret {
    pub(crate) name: String,
    /// The PEM text of `tls.crt` (`data` decoded, or `stringData`), when readable.
    pub(crate) certificate: Option<String>,
}

/// A patch this function wrote on an earlier run, when Harbor's ConfigMap was not in
/// its input: found again when the function runs on its own output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PreviousPatch {
    /// The kustomize generator's `behavior: merge` patch.
    Merge(usize),
    /// The kpt package's local-config patch.
    LocalConfig(usize),
}

/// What the input holds of Harbor.
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    /// The real core ConfigMap (not a patch).
    pub(crate) config_map: Option<CoreConfigMap>,
    pub(crate) previous_patch: Option<PreviousPatch>,
    pub(crate) deployment: Option<CoreDeployment>,
    /// Every Service of the input (the one the registry names is among them, if any),
    /// read only when the plan routes a registry that names a Service: each is read as
    /// JSON, and nothing else looks at them.
    pub(crate) services: Vec<Service>,
    /// The core's internal TLS Secret, when it is in the input.
    pub(crate) tls_secret: Option<TlsSecret>,
    /// jobservice, when it is in the input.
    pub(crate) jobservice: Option<Jobservice>,
    /// The hosts the input's Ingresses route (read only for a registry outside the
    /// cluster).
    pub(crate) ingress_hosts: Vec<IngressHost>,
    /// The realm of the registry's own configuration (`auth.token.realm` in its
    /// `config.yml`), which Harbor v1.10 and earlier answer with; read only for those.
    pub(crate) registry_realm: Option<String>,
    /// Whether Harbor's namespace is an assumption: its core ConfigMap came without
    /// `metadata.namespace` (harbor-helm renders one from v1.16.0 on),
    /// `spec.harborNamespace` is not given, and `spec.registry` names a Service in a
    /// namespace, which is taken for Harbor's.
    pub(crate) namespace_assumed: bool,
}

impl Topology {
    /// Harbor's namespace as the input shows it, else as the spec says.
    pub(crate) fn namespace<'a>(&'a self, spec: &'a Spec) -> &'a str {
        match &self.config_map {
            Some(cm) if !cm.namespace.is_empty() => &cm.namespace,
            _ => &spec.harbor.namespace,
        }
    }

    /// The name of Harbor's core ConfigMap: found, else the spec's.
    pub(crate) fn config_map_name<'a>(&'a self, spec: &'a Spec) -> &'a str {
        self.config_map
            .as_ref()
            .map_or(&spec.harbor.config_map, |cm| &cm.name)
    }

    /// `CORE_URL` as harbor-core will read it.
    pub(crate) fn core_url(&self) -> Effective<'_> {
        self.effective(|d| &d.core_url, |c| c.core_url.as_deref())
    }

    /// `EXT_ENDPOINT` as harbor-core will read it.
    pub(crate) fn ext_endpoint(&self) -> Effective<'_> {
        self.effective(|d| &d.ext_endpoint, |c| c.ext_endpoint.as_deref())
    }

    /// Where `CORE_URL` is read, when the deployment's environment says.
    pub(crate) fn core_url_at(&self) -> Option<&Where> {
        self.deployment.as_ref()?.core_url.at.as_ref()
    }

    fn effective(
        &self,
        setting: impl Fn(&CoreDeployment) -> &Setting,
        data: impl Fn(&CoreConfigMap) -> Option<&str>,
    ) -> Effective<'_> {
        match self
            .deployment
            .as_ref()
            .and_then(|d| setting(d).at.as_ref())
        {
            Some(Where::Env { value, .. }) => Effective::Env(value),
            Some(Where::ValueFrom { .. }) => Effective::EnvFrom,
            Some(Where::ConfigMap { value, .. }) => Effective::ConfigMap(value),
            Some(Where::Secret { name }) => Effective::Secret(name),
            // Nothing known sets it: the core ConfigMap's, when it is in the input.
            None => match self.config_map.as_ref().and_then(data) {
                Some(v) => Effective::ConfigMap(v),
                None => Effective::Unknown,
            },
        }
    }
}

/// A setting of harbor-core and where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effective<'a> {
    /// The core container's `env` (e.g. the chart's `core.extraEnvVars`).
    Env(&'a str),
    /// The core container's `env`, with `valueFrom`: known only in the cluster.
    EnvFrom,
    /// A Secret (`envFrom`): not read here.
    Secret(&'a str),
    /// The core ConfigMap, read through `envFrom`.
    ConfigMap(&'a str),
    /// Not in the input.
    Unknown,
}

impl<'a> Effective<'a> {
    pub(crate) fn value(self) -> Option<&'a str> {
        match self {
            Effective::Env(v) | Effective::ConfigMap(v) => Some(v),
            Effective::EnvFrom | Effective::Secret(_) | Effective::Unknown => None,
        }
    }
}

/// The namespace Harbor is looked for in: the spec's, when it names one.
fn in_harbor_namespace(item: &Item, spec: &Spec) -> bool {
    item.in_namespace(&spec.harbor.namespace)
}

pub(crate) fn detect(rl: &ResourceList, spec: &Spec) -> Result<Topology, Failure> {
    let managed = |i: &Item| i.managed_by.as_deref() == Some(crate::MANAGED_BY);
    let h = &spec.harbor;
    let config_map = find_config_map(rl, spec).and_then(|found| match found {
        None if spec.generate.harbor_core => elsewhere(rl, spec).map(|()| None),
        found => Ok(found),
    });
    let local = rl.one("", "ConfigMap", &h.config_map, &h.namespace, |i| {
        i.local_config && managed(i)
    });
    let merged = rl.one("", "ConfigMap", &h.config_map, &h.namespace, |i| {
        !i.local_config && is_our_merge_patch(rl, i)
    });
    let (config_map, (local, merged)) = Failure::both(config_map, Failure::both(local, merged))?;
    let previous_patch = local
        .map(PreviousPatch::LocalConfig)
        .or(merged.map(PreviousPatch::Merge));
    let config_map = config_map.map(|index| read_config_map(rl, index));
    let deployment = find_deployment(rl, spec, config_map.as_ref())?
        .map(|(index, v)| read_deployment(rl, index, &v, config_map.as_ref()));
    let routed = spec.generate.harbor_core && spec.endpoint.place.service().is_some();
    let services = match routed {
        true => rl
            .items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.is("", "Service"))
            .filter_map(|(index, i)| read_service(rl, index, i))
            .collect(),
        false => Vec::new(),
    };
    let tls_secret = find_tls_secret(rl, spec, config_map.as_ref(), deployment.as_ref());
    let jobservice = find_jobservice(rl, spec, config_map.as_ref());
    let ingress_hosts = match spec.generate.harbor_core && spec.endpoint.place.service().is_none() {
        true => ingress_hosts(rl),
        false => Vec::new(),
    };
    let registry_realm = match deployment.as_ref().and_then(|d| d.version.as_ref()) {
        Some((_, Rule::Static)) => registry_realm(rl, spec),
        _ => None,
    };
    let namespace_assumed = config_map
        .as_ref()
        .is_some_and(|cm| cm.namespace.is_empty())
        && !spec.harbor.namespace_given
        && spec.endpoint.place.service().is_some();
    Ok(Topology {
        config_map,
        previous_patch,
        deployment,
        services,
        tls_secret,
        jobservice,
        ingress_hosts,
        registry_realm,
        namespace_assumed,
    })
}

fn is_jobservice_image(container: &Value) -> bool {
    container
        .get("image")
        .and_then(Value::as_str)
        .is_some_and(|i| i.contains("harbor-jobservice"))
}

/// jobservice: the workload in Harbor's namespace that runs a harbor-jobservice image,
/// else the chart's `<fullname>-jobservice` (the core ConfigMap is `<fullname>-core`).
fn find_jobservice(
    rl: &ResourceList,
    spec: &Spec,
    config_map: Option<&CoreConfigMap>,
) -> Option<Jobservice> {
    let chart_name = config_map
        .and_then(|cm| cm.name.strip_suffix("-core"))
        .map(|fullname| format!("{fullname}-jobservice"));
    let (index, v, container) = rl
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| is_workload(i) && in_harbor_namespace(i, spec))
        .filter(|(_, i)| i.mentions("jobservice"))
        .filter_map(|(n, i)| {
            let v = rl.value(n)?;
            let cs = containers(&v);
            let c = cs.iter().position(is_jobservice_image).or_else(|| {
                (chart_name.as_deref() == Some(i.name.as_ref()) && !cs.is_empty()).then_some(0)
            })?;
            Some((n, v, c))
        })
        .next()?;
    let item = &rl.items[index];
    let c = containers(&v).get(container)?;
    Some(Jobservice {
        index,
        container,
        describe: ResourceRef::of(item).describe(),
        core_url: setting(rl, &item.namespace, c, "CORE_URL"),
        token_service_url: setting(rl, &item.namespace, c, "TOKEN_SERVICE_URL"),
        checksum: restart_checksum(&v),
    })
}

/// The pod-template annotation this function sets so a workload restarts, as it is.
fn restart_checksum(v: &Value) -> Option<String> {
    str_at(
        v,
        &[
            "spec",
            "template",
            "metadata",
            "annotations",
            super::patch::RESTART_ANNOTATION,
        ],
    )
    .map(str::to_string)
}

/// Every host the Ingresses of the input route (`spec.rules[].host`), with whether
/// the Ingress lists it under `spec.tls[].hosts`.
fn ingress_hosts(rl: &ResourceList) -> Vec<IngressHost> {
    let mut out = Vec::new();
    for (n, item) in rl.items.iter().enumerate() {
        if !(item.is("networking.k8s.io", "Ingress") || item.is("extensions", "Ingress")) {
            continue;
        }
        let Some(v) = rl.value(n) else { continue };
        let tls_hosts: Vec<&str> = crate::krm::fields::array_at(&v, "/spec/tls")
            .iter()
            .flat_map(|t| crate::krm::fields::array_at(t, "/hosts"))
            .filter_map(Value::as_str)
            .collect();
        for rule in crate::krm::fields::array_at(&v, "/spec/rules") {
            if let Some(host) = str_at(rule, &["host"]) {
                out.push(IngressHost {
                    host: host.to_string(),
                    ingress: item.name.to_string(),
                    tls: tls_hosts.contains(&host),
                });
            }
        }
    }
    out
}

/// `auth.token.realm` of a registry `config.yml` held by a ConfigMap in Harbor's
/// namespace (harbor-helm v1.3 `templates/registry/registry-cm.yaml` writes
/// `realm: <externalURL>/service/token`).
fn registry_realm(rl: &ResourceList, spec: &Spec) -> Option<String> {
    rl.items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.is("", "ConfigMap") && in_harbor_namespace(i, spec) && i.mentions("realm")
        })
        .filter_map(|(n, _)| {
            let v = rl.value(n)?;
            let text = str_at(&v, &["data", "config.yml"])?.to_string();
            let tree = crate::yaml::Tree::parse(&text).ok()?;
            let config = tree.to_json(tree.root?).ok()?;
            str_at(&config, &["auth", "token", "realm"]).map(str::to_string)
        })
        .next()
}

/// Whether `item` is the merge patch this function generates: `behavior: merge` and
/// no data but the two keys it owns.
fn is_our_merge_patch(rl: &ResourceList, item: &Item) -> bool {
    const BEHAVIOR: &str = "kustomize.config.k8s.io/behavior";
    // Only an item that names the annotation is read as JSON.
    if !item.mentions(BEHAVIOR) {
        return false;
    }
    let Some(v) = rl.value_of(item) else {
        return false;
    };
    let behavior = str_at(&v, &["metadata", "annotations", BEHAVIOR]);
    let keys_ours = v.get("data").and_then(Value::as_object).is_some_and(|d| {
        d.keys()
            .all(|k| k == "CORE_URL" || k == "TOKEN_SERVICE_URL")
    });
    behavior == Some("merge") && keys_ours
}

/// Harbor's core ConfigMap: the one `spec.harborConfigMap` names, or the one ConfigMap
/// that holds both `EXT_ENDPOINT` and `CORE_URL`.
fn find_config_map(rl: &ResourceList, spec: &Spec) -> Result<Option<usize>, Failure> {
    let h = &spec.harbor;
    if h.config_map_given {
        return rl.one("", "ConfigMap", &h.config_map, &h.namespace, |i| {
            !i.local_config && !is_our_merge_patch(rl, i)
        });
    }
    let candidates: Vec<usize> = rl
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.is("", "ConfigMap")
                && !i.local_config
                && in_harbor_namespace(i, spec)
                && i.mentions("EXT_ENDPOINT")
                && i.mentions("CORE_URL")
        })
        .map(|(n, _)| n)
        .filter(|&n| {
            rl.value(n).is_some_and(|v| {
                str_at(&v, &["data", "EXT_ENDPOINT"]).is_some()
                    && str_at(&v, &["data", "CORE_URL"]).is_some()
            })
        })
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        // One ConfigMap given more than once (a file passed twice): the list's one
        // duplicates rule says so, rather than "set spec.harborConfigMap".
        [first, rest @ ..]
            if rest.iter().all(|&r| {
                let (a, b) = (&rl.items[*first], &rl.items[r]);
                a.name == b.name && a.namespace == b.namespace
            }) =>
        {
            let item = &rl.items[*first];
            rl.one("", "ConfigMap", &item.name, &item.namespace, |i| {
                candidates.iter().any(|&c| std::ptr::eq(&rl.items[c], i))
            })
        }
        [first, ..] => Err(Failure::new(
            FnResult::error(Code::HarborAmbiguous, format!(
                "{} ConfigMaps hold EXT_ENDPOINT and CORE_URL, as Harbor's core ConfigMap does: {}; set spec.harborConfigMap (and spec.harborNamespace) to the one harbor-core reads",
                candidates.len(),
                names(rl, &candidates)
            ))
            .on(ResourceRef::of(&rl.items[*first]))
            .at("spec.harborConfigMap"),
        )),
    }
}

/// Harbor's core ConfigMap in another namespace than the one Harbor is looked for in:
/// an error that says where it is and which field to change (otherwise the patch
/// would go to a namespace where nothing reads it).
fn elsewhere(rl: &ResourceList, spec: &Spec) -> Result<(), Failure> {
    let h = &spec.harbor;
    if h.namespace.is_empty() {
        return Ok(());
    }
    let found = rl.items.iter().enumerate().find(|(n, i)| {
        i.is("", "ConfigMap")
            && !i.local_config
            && !i.namespace.is_empty()
            && i.namespace != h.namespace
            && if h.config_map_given {
                i.name == h.config_map
            } else {
                i.mentions("EXT_ENDPOINT")
                    && i.mentions("CORE_URL")
                    && rl.value(*n).is_some_and(|v| {
                        str_at(&v, &["data", "EXT_ENDPOINT"]).is_some()
                            && str_at(&v, &["data", "CORE_URL"]).is_some()
                    })
            }
    });
    let Some((_, item)) = found else {
        return Ok(());
    };
    let (there, wanted) = (&item.namespace, &h.namespace);
    let (why, fix) = match spec.endpoint.place.service() {
        Some((name, ns)) if ns == wanted && !h.namespace_given => (
            format!("spec.registry names namespace {wanted}"),
            format!(
                "name harbor-core where it runs: spec.registry {}",
                spec.cluster.fqdn(name, there)
            ),
        ),
        _ => (
            format!("spec.harborNamespace is {wanted}"),
            format!("set spec.harborNamespace: {there}"),
        ),
    };
    Err(Failure::new(
        FnResult::error(
            Code::HarborElsewhere,
            format!(
                "Harbor's core ConfigMap is ConfigMap {there}/{}, in namespace {there}, while {why}, where the input has none: {fix}",
                item.name
            ),
        )
        .on(ResourceRef::of(item))
        .at(if h.namespace_given {
            "spec.harborNamespace"
        } else {
            "spec.registry"
        }),
    ))
}

/// `Kind ns/name, Kind ns/name` of some items.
fn kinds_and_names(rl: &ResourceList, items: &[usize]) -> String {
    items
        .iter()
        .map(|&i| format!("{} {}", rl.items[i].kind, names(rl, &[i])))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ns/name, ns/name` of some items.
fn names(rl: &ResourceList, items: &[usize]) -> String {
    items
        .iter()
        .map(|&i| {
            let item = &rl.items[i];
            if item.namespace.is_empty() {
                item.name.to_string()
            } else {
                format!("{}/{}", item.namespace, item.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_config_map(rl: &ResourceList, index: usize) -> CoreConfigMap {
    let v = rl.value(index).unwrap_or(Value::Null);
    let data = |k: &str| str_at(&v, &["data", k]).map(str::to_string);
    let item = &rl.items[index];
    CoreConfigMap {
        index,
        name: item.name.to_string(),
        namespace: item.namespace.to_string(),
        core_url: data("CORE_URL"),
        token_service_url: data("TOKEN_SERVICE_URL"),
        ext_endpoint: data("EXT_ENDPOINT"),
    }
}

/// Whether a container reads ConfigMap `name` through `envFrom`.
fn reads_config_map(container: &Value, name: &str) -> bool {
    container
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|e| str_at(e, &["configMapRef", "name"]) == Some(name))
}

fn is_core_image(container: &Value) -> bool {
    container
        .get("image")
        .and_then(Value::as_str)
        .is_some_and(|i| i.contains("harbor-core"))
}

/// The harbor-core container of a Deployment: the one reading the core ConfigMap, else
/// the one running a harbor-core image.
fn core_container(v: &Value, config_map: Option<&CoreConfigMap>) -> Option<usize> {
    let cs = containers(v);
    config_map
        .and_then(|cm| cs.iter().position(|c| reads_config_map(c, &cm.name)))
        .or_else(|| cs.iter().position(is_core_image))
}

/// The harbor-core Deployment: the one `spec.harborDeployment` names, else the one
/// whose container reads the core ConfigMap or runs a harbor-core image.
fn find_deployment(
    rl: &ResourceList,
    spec: &Spec,
    config_map: Option<&CoreConfigMap>,
) -> Result<Option<(usize, Value)>, Failure> {
    let h = &spec.harbor;
    if h.deployment_given {
        // harbor-core runs as whatever workload the user's manifests make of it.
        let mut found = None;
        for (group, kind) in WORKLOADS {
            if let Some(i) = rl.one(group, kind, &h.deployment, &h.namespace, |_| true)? {
                found.get_or_insert(i);
            }
        }
        return Ok(found.and_then(|i| Some((i, rl.value(i)?))));
    }
    let candidates: Vec<(usize, Value)> = rl
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            is_workload(i)
                && in_harbor_namespace(i, spec)
                && (i.mentions("harbor-core") || config_map.is_some_and(|cm| i.mentions(&cm.name)))
        })
        .filter_map(|(n, _)| Some((n, rl.value(n)?)))
        .filter(|(_, v)| core_container(v, config_map).is_some())
        .collect();
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.into_iter().next()),
        _ => {
            let indices: Vec<usize> = candidates.iter().map(|(i, _)| *i).collect();
            Err(Failure::new(
                FnResult::error(Code::HarborAmbiguous, format!(
                    "{} workloads run harbor-core: {}; set spec.harborDeployment to the one to restart",
                    indices.len(),
                    kinds_and_names(rl, &indices)
                ))
                .on(ResourceRef::of(&rl.items[indices[0]]))
                .at("spec.harborDeployment"),
            ))
        }
    }
}

fn read_deployment(
    rl: &ResourceList,
    index: usize,
    v: &Value,
    config_map: Option<&CoreConfigMap>,
) -> CoreDeployment {
    let container = core_container(v, config_map).unwrap_or(0);
    let c = containers(v).get(container);
    let item = &rl.items[index];
    let var = |name: &str| {
        c.map(|c| setting(rl, &item.namespace, c, name))
            .unwrap_or_default()
    };
    let tls_volume = c
        .and_then(|c| c.get("volumeMounts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|m| {
            str_at(m, &["mountPath"]).map(|p| p.trim_end_matches('/'))
                == Some("/etc/harbor/ssl/core")
        })
        .and_then(|m| str_at(m, &["name"]));
    let tls_secret = tls_volume.and_then(|name| {
        v.pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)?
            .iter()
            .find(|vol| str_at(vol, &["name"]) == Some(name))
            .and_then(|vol| str_at(vol, &["secret", "secretName"]))
            .map(str::to_string)
    });
    CoreDeployment {
        index,
        container,
        version: c
            .and_then(|c| c.get("image"))
            .and_then(Value::as_str)
            .and_then(Rule::of_image),
        checksum: restart_checksum(v),
        describe: ResourceRef::of(item).describe(),
        core_url: var("CORE_URL"),
        token_service_url: var("TOKEN_SERVICE_URL"),
        ext_endpoint: var("EXT_ENDPOINT"),
        internal_tls: matches!(
            var("INTERNAL_TLS_ENABLED").at,
            Some(Where::Env { value, .. } | Where::ConfigMap { value, .. }) if value == "true"
        ),
        tls_secret,
        pod_labels: string_map(v.pointer("/spec/template/metadata/labels")),
    }
}

/// Where container `c` (of a pod in namespace `ns`) reads `name`: its `env`, else the
/// last `envFrom` object of the input that holds it (the kubelet's order).
fn setting(rl: &ResourceList, ns: &str, c: &Value, name: &str) -> Setting {
    let object_item = |object: Object, object_name: &str| {
        rl.items
            .iter()
            .position(|i| i.is("", object.kind()) && i.name == object_name && i.in_namespace(ns))
    };
    let holds = |object: Object, object_name: &str, key: &str| {
        let Some(n) = object_item(object, object_name) else {
            return Holds::Unknown;
        };
        let has = rl.value(n).is_some_and(|v| {
            ["data", "stringData"]
                .iter()
                .any(|d| v.get(d).and_then(|m| m.get(key)).is_some())
        });
        if has { Holds::Yes } else { Holds::No }
    };
    let mut resolved = env::resolve(c, name, &holds);
    // The chart's own core Secret (`<fullname>-core`, named as the core ConfigMap;
    // harbor-helm templates/core/core-secret.yaml) holds keys and passwords, never
    // these settings: its absence from the input hides nothing.
    let core_secret = c
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|s| str_at(s, &["configMapRef", "name"]))
        .map(|cm| format!("Secret {cm}"));
    resolved
        .unknown_after
        .retain(|u| Some(u) != core_secret.as_ref());
    let at = resolved.origin.map(|origin| match origin {
        Origin::Value { index, value } => Where::Env { index, value },
        Origin::ValueFrom { index } => Where::ValueFrom { index },
        Origin::EnvFrom {
            object: Object::Secret,
            name,
            ..
        } => Where::Secret { name },
        Origin::EnvFrom {
            object: Object::ConfigMap,
            name: object_name,
            key,
            ..
        } => {
            let item = object_item(Object::ConfigMap, &object_name).unwrap_or(0);
            let value = rl
                .value(item)
                .and_then(|v| str_at(&v, &["data", &key]).map(str::to_string))
                .unwrap_or_default();
            Where::ConfigMap { item, key, value }
        }
    });
    Setting {
        at,
        unknown_after: resolved.unknown_after,
    }
}

fn read_service(rl: &ResourceList, index: usize, item: &Item) -> Option<Service> {
    let v = rl.value(index)?;
    let ports = v
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let port = u16::try_from(p.get("port")?.as_u64()?).ok()?;
            Some((str_at(p, &["name"]).unwrap_or("").to_string(), port))
        })
        .collect();
    Some(Service {
        name: item.name.to_string(),
        namespace: item.namespace.to_string(),
        selector: string_map(v.pointer("/spec/selector")),
        ports,
    })
}

/// The core's internal TLS Secret: the one the core container mounts, else the
/// chart's `<core ConfigMap name>-internal-tls`.
fn find_tls_secret(
    rl: &ResourceList,
    spec: &Spec,
    config_map: Option<&CoreConfigMap>,
    deployment: Option<&CoreDeployment>,
) -> Option<TlsSecret> {
    let name = match (deployment.and_then(|d| d.tls_secret.clone()), config_map) {
        (Some(n), _) => n,
        (None, Some(cm)) => format!("{}-internal-tls", cm.name),
        (None, None) => format!("{}-internal-tls", spec.harbor.config_map),
    };
    let index = rl
        .items
        .iter()
        .position(|i| i.is("", "Secret") && i.name == name && in_harbor_namespace(i, spec))?;
    let v = rl.value(index).unwrap_or(Value::Null);
    let certificate = str_at(&v, &["stringData", "tls.crt"])
        .map(str::to_string)
        .or_else(|| {
            use base64::Engine;
            let b64 = str_at(&v, &["data", "tls.crt"])?;
            let clean: String = b64.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(clean)
                .ok()?;
            String::from_utf8(bytes).ok()
        });
    Some(TlsSecret { name, certificate })
}
