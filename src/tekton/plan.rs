//! Tekton's change: the Task, added, or regenerated in place of the one an earlier run
//! wrote. A Task of the same name that this function did not write is an error.
//!
//! How it is wired ([`task::Wiring`]) follows from the spec and what the input holds of
//! BuildKit: the daemon's address, whether the daemon demands client certificates,
//! whether a private CA must reach buildctl, whether the daemon's buildkitd.toml is
//! known to say `http = true` (so that `registry.insecure=true` can stay off).

use super::Topology;
use super::task::{self, Wiring};
use crate::codes::Code;
use crate::endpoint::Scheme;
use crate::krm::{Failure, FnResult, ResourceList, ResourceRef};
use crate::plan::{Change, Plan, System};
use crate::spec::Spec;
use crate::{MANAGED_BY, MANAGED_BY_LABEL, buildkit};

/// The daemon's address for `BUILDKIT_HOST`: the spec's when given, else the daemon's
/// Service in the input (`tcp://<service>.<namespace>.svc:<port>`, which resolves from
/// any namespace), else the default of BuildKit's examples.
fn buildkit_host(spec: &Spec, buildkit: &buildkit::Topology, plan: &mut Plan) -> String {
    let t = &spec.tekton;
    if t.buildkit_host_given {
        return t.buildkit_host.clone();
    }
    let Some(svc) = &buildkit.service else {
        let (where_, ns) = match &buildkit.daemon {
            Some(d) => (
                format!(
                    "{} runs in namespace {}, and no Service of it is in the input",
                    d.describe(),
                    d.namespace
                ),
                d.namespace.as_str(),
            ),
            None => (
                "no BuildKit daemon in the input says where it runs".to_string(),
                "buildkit",
            ),
        };
        plan.tell(FnResult::warning(
            Code::TektonBuildkitHostAssumed,
            format!(
                "the Task's BUILDKIT_HOST defaults to {} (spec.buildkitHost's default), which reaches a Service of that name only from the Task's own namespace {}: {where_}. Set spec.buildkitHost to the daemon's Service as the Task's namespace resolves it, e.g. tcp://buildkitd.{ns}.svc:1234 (BuildKit's examples/kubernetes)",
                t.buildkit_host, t.namespace
            ),
        )
        .on(ResourceRef {
            api_version: "tekton.dev/v1".into(),
            kind: "Task".into(),
            name: t.task_name.clone(),
            namespace: t.namespace.clone(),
        })
        .at("spec.buildkitHost"));
        return t.buildkit_host.clone();
    };
    let host = if svc.namespace.is_empty() {
        format!("tcp://{}:{}", svc.name, svc.port)
    } else {
        format!("tcp://{}.{}.svc:{}", svc.name, svc.namespace, svc.port)
    };
    plan.tell(FnResult::info(
        Code::TektonBuildkitHost,
        format!(
            "BUILDKIT_HOST defaults to {host}: the daemon's Service {}/{} (port {})",
            svc.namespace, svc.name, svc.port
        ),
    ));
    host
}

/// The Task's wiring, each decision said in the results.
fn wiring(spec: &Spec, buildkit: &buildkit::Topology, plan: &mut Plan) -> Wiring {
    let endpoint = &spec.endpoint;
    let registry = endpoint.authority();
    let daemonless = spec.buildkit.daemonless;
    let daemon = buildkit.daemon.as_ref().filter(|_| !daemonless);
    if daemonless {
        plan.tell(FnResult::info(Code::TektonDaemonless, format!(
            "daemonless: the step runs buildkitd itself, rootless (buildctl-daemonless.sh), so namespace {} must allow what that needs: seccomp and AppArmor Unconfined (for unshare and mount), privilege escalation (the setuid newuidmap and newgidmap), uid 1000 (the image's /etc/subuid); that is Pod Security privileged (baseline refuses Unconfined profiles), or on OpenShift an SCC allowing them",
            spec.tekton.namespace
        )));
    }
    let client_certs_required = daemon.is_some_and(|d| d.tls_ca);
    if let Some(d) = daemon.filter(|d| d.tls_ca) {
        plan.tell(FnResult::info(Code::TektonClientCertsRequired, format!(
            "{} demands client certificates (--tlscacert): the Task's {} workspace is required; bind it to the client Secret of BuildKit's create-certs.sh (buildkit-client-certs: ca.pem, cert.pem, key.pem)",
            d.describe(),
            task::CLIENT_CERTS
        )));
    }
    let registry_ca_required = endpoint.scheme == Scheme::Https
        && !endpoint.tls.ca.is_empty()
        && !endpoint.tls.insecure_skip_verify;
    if registry_ca_required {
        plan.tell(FnResult::info(Code::TektonRegistryCaRequired, format!(
            "buildctl fetches {registry}'s tokens itself, where the daemon's ca = [...] does not reach: the Task's {} workspace is required; bind it to the Secret or ConfigMap holding the CA (*.crt or *.pem), passed as --registry-auth-tlscontext host={registry},ca=<file>",
            task::REGISTRY_CA
        )));
    }
    let registry_insecure = registry_insecure(spec, daemon, plan);
    Wiring {
        buildkit_host: if daemonless {
            String::new()
        } else {
            buildkit_host(spec, buildkit, plan)
        },
        client_certs_required,
        registry_ca_required,
        registry_insecure,
        daemonless_config: (daemonless && spec.generate.buildkitd_config)
            .then(|| (buildkit.name.clone(), buildkit.key.clone())),
    }
}

/// Whether pushes and caches on a plain-HTTP registry carry `registry.insecure=true`:
/// as `spec.registryInsecure` says, else only when no buildkitd.toml known to say
/// `http = true` is read by the builder (the daemon's, when this run wires the file into
/// it or it mounts it already, or the step's own, daemonless). Said in a result either
/// way, with what the flag costs.
fn registry_insecure(
    spec: &Spec,
    daemon: Option<&buildkit::daemon::Daemon>,
    plan: &mut Plan,
) -> bool {
    let endpoint = &spec.endpoint;
    if endpoint.scheme != Scheme::Http {
        return false;
    }
    let registry = endpoint.authority();
    let daemonless = spec.buildkit.daemonless;
    let http_in_place = spec.generate.buildkitd_config && (daemonless || daemon.is_some());
    let given = spec.tekton.registry_insecure;
    let insecure = given.unwrap_or(!http_in_place);
    let reader = match (daemonless, daemon) {
        (true, _) => "the step's own buildkitd".to_string(),
        (false, Some(d)) => d.describe(),
        (false, None) => "the daemon".to_string(),
    };
    let unseen = if spec.generate.buildkitd_config {
        "no daemon in the input"
    } else {
        "buildkitdConfig is not in spec.generate"
    };
    let message = match (insecure, given, http_in_place) {
        (true, _, _) => format!(
            "pushes and caches on {registry} carry registry.insecure=true{}. For each such push and cache, buildkitd sets aside its own [registry.\"{registry}\"] table (its ca and mirrors with it) for {{insecure, http}} (moby/buildkit util/push/push.go, cache/remotecache/registry/registry.go): HTTPS first, then HTTP (util/resolver/resolver.go, httpFallback). {} {}",
            if given.is_some() {
                format!(
                    ", as spec.registryInsecure says, though {reader} reads buildkitd.toml with http = true for it"
                )
            } else {
                format!(
                    ": no buildkitd.toml known to say http = true for it is read by the builder here ({unseen})"
                )
            },
            fallback_cost(endpoint.registry.port),
            if given.is_some() {
                "Leave spec.registryInsecure out to let http = true govern.".to_string()
            } else {
                "Once the daemon reads buildkitd.toml with http = true for it, set spec.registryInsecure: false; with the daemon's manifests in the input, this function wires that file and leaves the flag off itself.".to_string()
            },
        ),
        (false, Some(false), false) => format!(
            "pushes and caches on {registry} carry no registry.insecure=true, as spec.registryInsecure: false says: the daemon must read buildkitd.toml with http = true for {registry}, which this run cannot see ({unseen}); without that table buildkitd speaks HTTPS to it and the push fails (http: server gave HTTP response to HTTPS client)"
        ),
        (false, _, _) => format!(
            "pushes and caches on {registry} carry no registry.insecure=true: {reader} reads buildkitd.toml with http = true for it, which that flag would set aside for HTTPS first, then HTTP"
        ),
    };
    plan.tell(FnResult::info(Code::TektonRegistryInsecure, message).at("spec.registryInsecure"));
    insecure
}

/// What the HTTPS-first fallback costs on a registry with port `port` (none: the
/// scheme's). buildkitd falls back to HTTP on an HTTP answer to its TLS hello at once,
/// and on a refused or timed-out connection only when the host names no port
/// (`isTLSError`, `isPortError` in util/resolver/resolver.go, v0.14 and later).
fn fallback_cost(port: Option<u16>) -> String {
    match port {
        Some(p) => format!(
            "Port {p} answers HTTPS with HTTP, so it falls back at once."
        ),
        None => "HTTPS goes to port 443: a refused connection falls back at once, but where packets to 443 are dropped (a Service without that port, under kube-proxy's iptables mode) only after the 30 s dial timeout (newDefaultTransport), on every push and cache export.".to_string(),
    }
}

pub(crate) fn plan(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    buildkit: &buildkit::Topology,
) -> Result<Plan, Failure> {
    let mut plan = Plan::new(System::Tekton);
    let (name, ns) = (&spec.tekton.task_name, &spec.tekton.namespace);
    let wiring = wiring(spec, buildkit, &mut plan);
    let generated = task::task(spec, &wiring);
    match topology.task {
        None => {
            plan.change(Change::Add(generated));
            plan.tell(
                FnResult::info(
                    Code::TektonTaskGenerated,
                    format!(
                        "generated Task {ns}/{name}: buildctl build and push to {}",
                        spec.endpoint.authority()
                    ),
                )
                .on(ResourceRef {
                    api_version: "tekton.dev/v1".into(),
                    kind: "Task".into(),
                    name: name.clone(),
                    namespace: ns.clone(),
                }),
            );
        }
        Some(t) if t.ours => {
            plan.change(Change::Replace {
                item: t.index,
                with: generated,
            });
            plan.tell(
                FnResult::info(
                    Code::TektonTaskGenerated,
                    format!("regenerated Task {ns}/{name}"),
                )
                .on(ResourceRef::of(&rl.items[t.index])),
            );
        }
        Some(t) => {
            return Err(Failure::new(
                FnResult::error(Code::TektonTaskNameTaken, format!(
                    "a Task {name} that harbor-buildkit-fn did not generate (no {MANAGED_BY_LABEL}: {MANAGED_BY} label) is already in the input; set spec.taskName to another name, or remove that Task"
                ))
                .on(ResourceRef::of(&rl.items[t.index]))
                .at("spec.taskName"),
            ));
        }
    }
    Ok(plan)
}
