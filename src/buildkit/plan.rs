//! BuildKit's change: `buildkitd.toml` with our tables, in the ConfigMap the daemon
//! reads, mounted where the daemon reads it, and a restart when it changes.
//!
//! - The ConfigMap: the one the daemon mounts at its config path (edited in place),
//!   else `spec.buildkitConfigMap` in the daemon's namespace (edited, or generated).
//! - The daemon in the input: the ConfigMap mounted at its config folder (read-only,
//!   the key mapped to the file name), `--config=<path>` added to its flags when it
//!   has none (buildkitd silently runs with defaults when the file is missing, so the
//!   path is said rather than guessed), the `caSecret` mounted where `spec.ca` points,
//!   and a pod-template checksum of the file so it restarts when the file changes.
//! - Daemonless: the Task's step mounts the ConfigMap (in the Task's namespace) itself.
//! - No daemon in the input: a kustomize generator gets the ConfigMap and a warning
//!   that says how to mount it; a kpt package also a local-config patch that does it for
//!   BuildKit's example Deployment; anything else is an error, since nothing in the
//!   output would read the file.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::RESTART_ANNOTATION;
use super::daemon::{self, Daemon};
use super::detect::{Toml, Topology};
use super::toml as file;
use crate::codes::Code;
use crate::endpoint::Scheme;
use crate::krm::{Failure, FnResult, Mode, ResourceList, ResourceRef};
use crate::plan::{Append, Change, Plan, Set, System, checksum};
use crate::spec::Spec;
use crate::yaml::Seg;

/// The volume this function adds to the daemon for the file, and for the CA.
pub(crate) const CONFIG_VOLUME: &str = "harbor-buildkit-config";
pub(crate) const CA_VOLUME: &str = "harbor-buildkit-registry-ca";

/// Where a local-config mount patch goes in a kpt package.
pub(crate) const MOUNT_PATCH_PATH: &str = "harbor-buildkit/buildkitd-mount-patch.yaml";

pub(crate) fn plan(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    mode: Mode,
) -> Result<Plan, Failure> {
    let mut plan = Plan::new(System::Buildkit);
    let toml = config_map(rl, spec, topology, &mut plan)?;
    match &topology.daemon {
        _ if spec.buildkit.daemonless => plan.tell(FnResult::info(Code::BuildkitDaemonless, format!(
            "daemonless: the Task's step mounts ConfigMap {}/{} at {} and its buildkitd reads it there (--config), fresh on every run",
            topology.namespace,
            topology.name,
            crate::tekton::task::DAEMONLESS_CONFIG_DIR
        ))),
        Some(d) => wire(rl, spec, topology, d, &toml, &mut plan)?,
        None => no_daemon(spec, topology, mode, &toml, &mut plan)?,
    }
    Ok(plan)
}

fn key(k: &str) -> Seg<'static> {
    Seg::Key(Cow::Owned(k.to_string()))
}

/// The ConfigMap with our tables: edited in place, or generated. Returns the file.
fn config_map(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    plan: &mut Plan,
) -> Result<String, Failure> {
    let (name, ns, data_key) = (&topology.name, &topology.namespace, &topology.key);
    let host = spec.endpoint.authority();
    let Some(cm) = &topology.config_map else {
        let toml = file::render(None, spec)
            .map_err(|e| Failure::error(Code::Internal, format!("internal: {e}")))?;
        plan.change(Change::Add(file::config_map(name, ns, data_key, &toml)));
        plan.tell(
            FnResult::info(
                Code::BuildkitConfigGenerated,
                format!(
                    "generated buildkitd.toml with [registry.\"{host}\"] ({})",
                    summary(spec)
                ),
            )
            .on(ResourceRef {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.clone(),
                namespace: ns.clone(),
            }),
        );
        return Ok(toml);
    };
    let resource = ResourceRef::of(&rl.items[cm.index]);
    let path = format!("data.{data_key}");
    let existing = match &cm.toml {
        Toml::Missing => None,
        Toml::Text(t) => Some(t.as_str()),
        Toml::NotText(what) => {
            return Err(Failure::new(
                FnResult::error(
                    Code::BuildkitConfigNotText,
                    format!("{path} is {what}, expected the text of buildkitd.toml"),
                )
                .on(resource)
                .at(path),
            ));
        }
    };
    let toml = file::render(existing, spec).map_err(|e| {
        Failure::new(
            FnResult::error(
                Code::BuildkitConfigNotToml,
                format!("{path} does not parse as TOML, line {}: {}", e.line(), e),
            )
            .on(resource.clone())
            .at(path.clone()),
        )
    })?;
    let changed = existing != Some(toml.as_str());
    plan.change(Change::Set(Set::new(
        cm.index,
        &["data"],
        vec![(data_key.clone(), toml.clone())],
    )));
    plan.tell(
        FnResult::info(Code::BuildkitConfigSet, if changed {
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
    Ok(toml)
}

/// The file mounted into the daemon, its CA files too, and a restart on change.
fn wire(
    rl: &ResourceList,
    spec: &Spec,
    topology: &Topology,
    d: &Daemon,
    toml: &str,
    plan: &mut Plan,
) -> Result<(), Failure> {
    let resource = ResourceRef::of(&rl.items[d.index]);
    let pod = [key("spec"), key("template"), key("spec")];
    let container = || {
        let mut p = pod.to_vec();
        p.extend([key("containers"), Seg::Index(d.container)]);
        p
    };
    let refuse = |why: String| {
        Failure::new(FnResult::error(Code::BuildkitMountConflict, why).on(resource.clone()))
    };
    if let Some(problem) = &d.config_problem {
        return Err(Failure::new(
            FnResult::error(
                Code::BuildkitConfigFlag,
                format!("{}: {problem}", d.describe()),
            )
            .on(resource.clone()),
        ));
    }
    if topology.mounted {
        plan.tell(
            FnResult::info(
                Code::BuildkitMounted,
                format!(
                    "{} reads {} from ConfigMap {} (key {}): the file is written there",
                    d.describe(),
                    d.config_path,
                    topology.name,
                    topology.key
                ),
            )
            .on(resource.clone()),
        );
    } else {
        mount_config(topology, d, (&pod, &container()), plan, &refuse, &resource)?;
    }
    mount_ca(spec, d, &container(), &pod, plan, &refuse)?;
    plan.restart_on_change(
        d.index,
        resource,
        RESTART_ANNOTATION,
        toml,
        d.checksum.as_deref(),
        (
            "the pod-template checksum of buildkitd.toml is already current",
            "set the pod-template checksum of buildkitd.toml, so the daemon restarts and reads it (only at start)",
        ),
    );
    Ok(())
}

/// Mounts the ConfigMap at the folder of the daemon's config path (and passes
/// `--config` when it can), unless something else is mounted there.
fn mount_config(
    topology: &Topology,
    d: &Daemon,
    (pod, container): (&[Seg<'static>], &[Seg<'static>]),
    plan: &mut Plan,
    refuse: &dyn Fn(String) -> Failure,
    resource: &ResourceRef,
) -> Result<(), Failure> {
    let (dir, base) = d
        .config_path
        .rsplit_once('/')
        .map(|(a, b)| (if a.is_empty() { "/" } else { a }, b))
        .ok_or_else(|| {
            refuse(format!(
                "--config {} is not an absolute path",
                d.config_path
            ))
        })?;
    if let Some(m) = d
        .mounts
        .iter()
        .find(|m| m.mount_path.trim_end_matches('/') == dir)
    {
        return Err(refuse(format!(
            "{} mounts volume {} at {dir}, where it reads buildkitd.toml ({}), and that volume does not hold it: mount ConfigMap {} there instead, or give the daemon --config=<a path of its own>",
            d.describe(),
            m.name,
            d.config_path,
            topology.name
        )));
    }
    if d.volumes.iter().any(|v| v.name == CONFIG_VOLUME) {
        return Err(refuse(format!(
            "{} has a volume named {CONFIG_VOLUME} that does not hold buildkitd.toml at {}: rename it, or mount it at {dir}",
            d.describe(),
            d.config_path
        )));
    }
    // A file mounted where the other kind of buildkitd looks was never read.
    let other = if d.rootless.is_some() {
        daemon::ROOTFUL_CONFIG_DIR
    } else {
        daemon::ROOTLESS_CONFIG_DIR
    };
    if let Some(m) = d
        .mounts
        .iter()
        .find(|m| m.mount_path.trim_end_matches('/') == other && other != dir)
    {
        plan.tell(
            FnResult::warning(
                Code::BuildkitConfigNeverRead,
                format!(
                    "{} mounts volume {} at {other}, where a {} buildkitd reads buildkitd.toml, but it runs {} and reads {}: the file at {other} was never read, so its settings were never in effect. The generated file goes where it reads; move what that file set (mirrors, CAs, other registries) into it, or into this function's spec",
                    d.describe(),
                    m.name,
                    if d.rootless.is_some() { "rootful" } else { "rootless" },
                    match &d.rootless {
                        Some(why) => format!("rootless ({why})"),
                        None => "rootful".to_string(),
                    },
                    d.config_path
                ),
            )
            .on(resource.clone()),
        );
    }
    add_volume(
        plan,
        d.index,
        (pod, container),
        config_volume(topology, base),
        read_only_mount(CONFIG_VOLUME, dir),
    );
    let mut said = format!(
        "mounted ConfigMap {} at {dir} in {} (container {}), where it reads {}",
        topology.name,
        d.describe(),
        d.container_name,
        d.config_path
    );
    match (&d.rootless, d.config_flag) {
        (_, true) => said.push_str(" (its --config)"),
        (Some(why), false) => said.push_str(&format!(" as a rootless daemon ({why})")),
        (None, false) => said.push_str(" as a rootful daemon"),
    }
    if !d.config_flag && d.flags_appendable {
        plan.change(Change::Append(Append::new(
            d.index,
            container.to_vec(),
            "args",
            vec![json!(format!("--config={}", d.config_path))],
        )));
        said.push_str(&format!(
            ", and passed --config={}: buildkitd runs with its defaults, silently, when the file is not where it looks",
            d.config_path
        ));
    }
    plan.tell(FnResult::info(Code::BuildkitMounted, said).on(resource.clone()));
    Ok(())
}

/// `caSecret` mounted where `spec.ca` points, unless a volume provides those files.
fn mount_ca(
    spec: &Spec,
    d: &Daemon,
    container: &[Seg<'static>],
    pod: &[Seg<'static>],
    plan: &mut Plan,
    refuse: &dyn Fn(String) -> Failure,
) -> Result<(), Failure> {
    let ca = &spec.endpoint.tls.ca;
    let Some(secret) = &spec.buildkit.ca_secret else {
        return Ok(());
    };
    // Mounted already from that very Secret; any other volume above the folder (the
    // daemon's own certificates at /certs) does not hold it, and the Secret is mounted
    // below it, nested.
    if ca.iter().all(|p| d.mounts_secret_at(p, secret)) {
        return Ok(());
    }
    let dirs: Vec<&str> = ca
        .iter()
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let Some(dir) = dirs.first().filter(|d| dirs.iter().all(|x| x == *d)) else {
        return Err(refuse(format!(
            "spec.ca lists files in several folders ({}); spec.caSecret mounts one Secret at one folder: put them in one",
            ca.join(", ")
        )));
    };
    if d.mounts
        .iter()
        .any(|m| m.mount_path.trim_end_matches('/') == *dir)
    {
        return Err(refuse(format!(
            "{} mounts another volume at {dir}, where spec.ca points: mount Secret {secret} there yourself, or point spec.ca elsewhere",
            d.describe()
        )));
    }
    let dir = if dir.is_empty() { "/" } else { *dir };
    let nested = d
        .mount_above(&format!("{dir}/"))
        .map(|(at, volume)| format!(", inside the mount of volume {volume} at {at}"))
        .unwrap_or_default();
    add_volume(
        plan,
        d.index,
        (pod, container),
        json!({ "name": CA_VOLUME, "secret": { "secretName": secret } }),
        read_only_mount(CA_VOLUME, dir),
    );
    plan.tell(FnResult::info(
        Code::BuildkitCaMounted,
        format!(
            "mounted Secret {secret} at {dir} in {}{nested}, for {}",
            d.describe(),
            ca.join(", ")
        ),
    ));
    Ok(())
}

/// No daemon in the input: what the caller can still use, or an error.
fn no_daemon(
    spec: &Spec,
    topology: &Topology,
    mode: Mode,
    toml: &str,
    plan: &mut Plan,
) -> Result<(), Failure> {
    let (name, ns) = (&topology.name, &topology.namespace);
    // Where the ConfigMap went is a guess without the daemon: say so, and how to say.
    let assumed = if spec.buildkit.namespace_given {
        String::new()
    } else {
        format!(
            " The ConfigMap is in namespace {ns} (spec.namespace, the Task's), which is the daemon's only if it runs there: BuildKit's examples run it in a namespace of its own; set spec.buildkitNamespace to the daemon's."
        )
    };
    let how = format!(
        "mount ConfigMap {ns}/{name} into the daemon at {} (the rootless image; {} when rootful) or pass --config with where you mount it, and restart the daemon when it changes (buildkitd reads the file only at start, and runs with its defaults, silently, without it).{assumed}",
        daemon::ROOTLESS_CONFIG_DIR,
        daemon::ROOTFUL_CONFIG_DIR
    );
    let generated = ResourceRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: name.clone(),
        namespace: ns.clone(),
    };
    let patch_written = |plan: &mut Plan| {
        plan.tell(
            FnResult::warning(Code::BuildkitNoDaemon, format!(
                "no BuildKit daemon in the package, so nothing here reads this buildkitd.toml: {how} {MOUNT_PATCH_PATH} (local config) does it for BuildKit's examples/kubernetes rootless Deployment buildkitd, as a strategic-merge patch (kustomize patches:, or kubectl patch --patch-file)"
            ))
            .on(generated.clone()),
        );
    };
    // A ConfigMap an earlier run generated with no daemon in view came from a kustomize
    // generator (anywhere else, no daemon is an error, or a kpt package's mount patch
    // beside it): this is that run's output, judged as that run was.
    let mode = match (&topology.config_map, mode) {
        (Some(cm), Mode::Other) if cm.ours && topology.previous_mount_patch.is_none() => {
            Mode::KustomizeGenerator
        }
        (_, mode) => mode,
    };
    // The patch an earlier run wrote is kept current (its checksum follows the file).
    if let Some(item) = topology.previous_mount_patch {
        let with = mount_patch(topology, toml);
        plan.change(Change::Replace { item, with });
        patch_written(plan);
        return Ok(());
    }
    match mode {
        Mode::KustomizeGenerator => {
            plan.tell(
                FnResult::warning(Code::BuildkitNoDaemon, format!(
                    "no BuildKit daemon in view (a kustomize generator sees only its own config), so nothing here reads this buildkitd.toml: {how} As a transformer over the daemon's manifests, this function does it"
                ))
                .on(generated),
            );
            Ok(())
        }
        Mode::KptPackage => {
            plan.change(Change::Add(mount_patch(topology, toml)));
            patch_written(plan);
            Ok(())
        }
        Mode::KustomizeTransformer | Mode::Other => Err(Failure::new(
            FnResult::error(Code::BuildkitNoDaemon, format!(
                "no BuildKit daemon in the input (a Deployment, StatefulSet or DaemonSet running a moby/buildkit image), so this buildkitd.toml would be read by nothing: add the daemon's manifests, name it with spec.buildkitDaemon, or leave buildkitdConfig out of spec.generate and {how}"
            ))
            .on(generated),
        )),
    }
}

/// The daemon's volume of the generated ConfigMap, its key as file `file`.
fn config_volume(topology: &Topology, file: &str) -> Value {
    json!({
        "name": CONFIG_VOLUME,
        "configMap": {
            "name": topology.name,
            "items": [{ "key": topology.key, "path": file }],
        },
    })
}

/// A read-only mount of volume `name` at `dir`.
fn read_only_mount(name: &str, dir: &str) -> Value {
    json!({ "name": name, "mountPath": dir, "readOnly": true })
}

/// Adds `volume` to the pod at `pod` in item `index`, and `mount` to its container at
/// `container`.
fn add_volume(
    plan: &mut Plan,
    index: usize,
    (pod, container): (&[Seg<'static>], &[Seg<'static>]),
    volume: Value,
    mount: Value,
) {
    plan.change(Change::Append(Append::new(
        index,
        pod.to_vec(),
        "volumes",
        vec![volume],
    )));
    plan.change(Change::Append(Append::new(
        index,
        container.to_vec(),
        "volumeMounts",
        vec![mount],
    )));
}

/// A strategic-merge patch that mounts the file into BuildKit's example rootless
/// Deployment (`examples/kubernetes/deployment+service.rootless.yaml`: Deployment and
/// container `buildkitd`), marked local config.
fn mount_patch(topology: &Topology, toml: &str) -> Value {
    let dir = daemon::ROOTLESS_CONFIG_DIR;
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "buildkitd",
            "namespace": topology.namespace,
            "labels": { crate::MANAGED_BY_LABEL: crate::MANAGED_BY },
            "annotations": {
                "config.kubernetes.io/local-config": "true",
                "internal.config.kubernetes.io/path": MOUNT_PATCH_PATH,
                "config.kubernetes.io/path": MOUNT_PATCH_PATH,
            },
        },
        "spec": {
            "template": {
                "metadata": { "annotations": { RESTART_ANNOTATION: checksum(toml) } },
                "spec": {
                    "containers": [{
                        "name": "buildkitd",
                        "volumeMounts": [read_only_mount(CONFIG_VOLUME, dir)],
                    }],
                    "volumes": [config_volume(topology, "buildkitd.toml")],
                },
            },
        },
    })
}

/// Our tables' settings, for messages.
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
    let mirrors: Vec<String> = spec.buildkit.mirrors.iter().map(|m| m.entry()).collect();
    if !mirrors.is_empty() {
        parts.push(format!("mirrors = {mirrors:?}"));
    }
    if parts.is_empty() {
        "https with the system CAs".into()
    } else {
        parts.join(", ")
    }
}
