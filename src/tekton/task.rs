//! The Tekton Task (`tekton.dev/v1`) that builds and pushes with buildctl.
//!
//! From the seed's story: the docker-registry Secret's `.dockerconfigjson` is copied
//! to `$DOCKER_CONFIG/config.json` (buildctl reads only that name, and writes
//! `.token_seed` beside it, so the directory is a writable in-memory emptyDir).
//!
//! Two ways to reach BuildKit:
//! - **a daemon** (`BUILDKIT_HOST`): `buildctl --addr ... build`, with the daemon's
//!   client certificates from the `buildkit-client-certs` workspace as `--tlscacert`,
//!   `--tlscert` and `--tlskey` (buildctl's TLS options are global flags, before
//!   `build`, and no environment variable sets them: moby/buildkit
//!   `cmd/buildctl/main.go`); when the build fails and so does listing the daemon's
//!   workers, the step says what to check of the connection;
//! - **daemonless**: `buildctl-daemonless.sh build ...` starts a rootless buildkitd in
//!   the step (`BUILDKITD_FLAGS`), which reads the generated buildkitd.toml mounted into
//!   the step (moby/buildkit `examples/buildctl-daemonless/buildctl-daemonless.sh`,
//!   `examples/kubernetes/job.rootless.yaml`).
//!
//! Either way buildctl fetches the registry's tokens itself, outside the daemon, so a
//! private CA reaches it through the `registry-ca` workspace as
//! `--registry-auth-tlscontext host=<registry>,ca=<file>` (the host without a scheme:
//! the key is matched against the registry's URL host, moby/buildkit
//! `session/auth/authprovider/authprovider.go`), and `insecureSkipVerify` as
//! `insecure=true` there. For a plain-HTTP registry, pushes and registry caches carry
//! `registry.insecure=true` only when no buildkitd.toml known to be in place says
//! `http = true`: the flag replaces the daemon's table for that host with an
//! HTTPS-first fallback (moby/buildkit `util/push/push.go`, `util/resolver`).
//!
//! The step's `TMPDIR` is an emptyDir of its own: the rootless image's
//! (`/home/user/.local/tmp`) belongs to uid 1000 alone (moby/buildkit `Dockerfile`,
//! `rootless` stage), so any other uid (`runAsUser`, or OpenShift's) could not create
//! the metadata file there. The registry cache is exported with
//! `image-manifest=true,oci-mediatypes=true`, the form Harbor stores, which BuildKit
//! v0.12 to v0.20 do not write by default (`cache/remotecache/registry/registry.go`).
//! Every flag the step passes is read by BuildKit v0.13.0 and later
//! ([`crate::buildkit::release`]).
//!
//! Params reach the script through `env` and `args`, never as `$(params.X)` inside the
//! script text, where Tekton would paste them in before the shell parses it. Array
//! params are isolated `args` elements (Tekton refuses them anywhere else:
//! tektoncd/pipeline `pkg/apis/pipeline/v1/task_validation.go`). The digest comes
//! from `--metadata-file` (`containerimage.digest`) and is written to the
//! `IMAGE_DIGEST` and `IMAGE_URL` results that Tekton Chains reads.

use serde_json::{Value, json};

use crate::spec::Spec;

/// The step's script (`step.sh` beside this file). POSIX sh (the buildkit image's
/// busybox), shellcheck-clean.
pub const SCRIPT: &str = include_str!("step.sh");

/// The step's name; Tekton names its container `step-<name>` (tektoncd/pipeline
/// `pkg/pod/entrypoint.go`), which the AppArmor annotation must name.
pub(crate) const STEP: &str = "build-and-push";

/// The workspace of the registry credentials (a docker config, as a Secret).
pub(crate) const DOCKER_CONFIG: &str = "dockerconfig";
/// The optional workspaces: the daemon's client certificates, the registry's CA.
pub(crate) const CLIENT_CERTS: &str = "buildkit-client-certs";
pub(crate) const REGISTRY_CA: &str = "registry-ca";

/// Daemonless: where buildkitd.toml is mounted in the step, and the state folder the
/// rootless image's buildkitd writes (an emptyDir, as BuildKit's job.rootless.yaml has
/// it: the image's VOLUME "does not work with rootless on Google's Container-Optimized
/// OS").
pub(crate) const DAEMONLESS_CONFIG_DIR: &str = "/buildkit-config";
const DAEMONLESS_STATE: &str = "/home/user/.local/share/buildkit";

/// The step's `TMPDIR`: an emptyDir, writable by whatever uid the step runs as (the
/// kubelet makes an emptyDir's folder mode 0777: kubernetes
/// `pkg/volume/emptydir/empty_dir.go`, `perm`).
pub(crate) const STEP_TMP: &str = "/tmp";

/// What the plan decided the Task is wired to, from the spec and the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wiring {
    /// `BUILDKIT_HOST`'s default (not used daemonless).
    pub(crate) buildkit_host: String,
    /// The daemon demands client certificates: the workspace is required.
    pub(crate) client_certs_required: bool,
    /// A private CA must reach buildctl: the workspace is required.
    pub(crate) registry_ca_required: bool,
    /// Pushes and caches on the registry carry `registry.insecure=true`.
    pub(crate) registry_insecure: bool,
    /// Daemonless (`spec.daemonless`): the ConfigMap (name, key) mounted into the step,
    /// unless buildkitdConfig is not generated (buildkitd then runs with its defaults).
    pub(crate) daemonless_config: Option<(String, String)>,
}

/// Where the Task goes in a kpt package.
pub(crate) fn path(spec: &Spec) -> String {
    format!("harbor-buildkit/task_{}.yaml", spec.tekton.task_name)
}

fn param(name: &str, description: &str, default: Option<Value>) -> Value {
    let mut p = json!({ "name": name, "type": "string", "description": description });
    if let Some(d) = default {
        if d.is_array() {
            p["type"] = json!("array");
        }
        p["default"] = d;
    }
    p
}

fn env(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

fn workspace(name: &str, description: &str, optional: bool) -> Value {
    let mut w = json!({ "name": name, "description": description, "readOnly": true });
    if optional {
        w["optional"] = json!(true);
    }
    w
}

/// The Task for `spec`, wired as `wiring` says.
pub(crate) fn task(spec: &Spec, wiring: &Wiring) -> Value {
    let path = path(spec);
    let registry = spec.endpoint.authority();
    let tekton = &spec.tekton;
    let step = step(spec, wiring, &registry);
    let mut annotations = json!({
        "tekton.dev/displayName": "BuildKit build and push",
        "tekton.dev/categories": "Image Build",
        "tekton.dev/tags": "image-build, buildkit, harbor",
        "tekton.dev/pipelines.minVersion": "0.50.0",
        "internal.config.kubernetes.io/path": path,
        "config.kubernetes.io/path": path,
    });
    let how = if spec.buildkit.daemonless {
        // AppArmor Unconfined as the annotation, not the securityContext field: the
        // field is k8s.io/api v0.30+, which no Tekton before v0.69.0 vendors, and its
        // webhook decodes a Task strictly (`json: unknown field "appArmorProfile"`;
        // tests/fixtures/tekton/versions.tsv). Tekton copies a Task's annotations to
        // the TaskRun and the TaskRun's to the pod (tektoncd/pipeline
        // pkg/reconciler/taskrun/taskrun.go `storeTaskSpecAndMergeMeta`, pkg/pod/pod.go,
        // v0.50.6 to v1.15.0), and the API server of Kubernetes 1.30 and later copies
        // the annotation into the container's field (kubernetes
        // pkg/registry/core/pod/strategy.go `applyAppArmorVersionSkew`); older ones
        // read the annotation itself.
        annotations[format!("container.apparmor.security.beta.kubernetes.io/step-{STEP}")] =
            json!("unconfined");
        "with a rootless buildkitd in the step (buildctl-daemonless.sh; the namespace must allow privileged pods: seccomp and AppArmor Unconfined)"
    } else {
        "with buildctl against a buildkitd daemon"
    };
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {
            "name": tekton.task_name,
            "namespace": tekton.namespace,
            "labels": { crate::MANAGED_BY_LABEL: crate::MANAGED_BY },
            "annotations": annotations,
        },
        "spec": {
            "description": format!(
                "Builds a Dockerfile {how} and pushes the image to {registry} ({}), with an optional registry cache. Bind the dockerconfig workspace to the registry's kubernetes.io/dockerconfigjson Secret.",
                spec.endpoint.scheme.as_str()
            ),
            "params": params(spec, wiring, &registry),
            "workspaces": workspaces(spec, wiring, &registry),
            "results": [
                { "name": "IMAGE_DIGEST", "type": "string", "description": "Digest of the pushed image." },
                { "name": "IMAGE_URL", "type": "string", "description": "The pushed image, as given in IMAGE." },
            ],
            "volumes": step.volumes,
            "steps": [{
                "name": STEP,
                "image": "$(params.BUILDER_IMAGE)",
                "env": step.env,
                "args": ["$(params.BUILD_ARGS[*])", "--", "$(params.EXTRA_ARGS[*])"],
                "script": SCRIPT,
                "volumeMounts": step.mounts,
                "securityContext": step.security,
            }],
        },
    })
}

/// The Task's params: what a TaskRun sets.
fn params(spec: &Spec, wiring: &Wiring, registry: &str) -> Vec<Value> {
    let tekton = &spec.tekton;
    let daemonless = spec.buildkit.daemonless;
    let mut params = vec![
        param(
            "IMAGE",
            &format!("Image to build and push, e.g. {registry}/library/app:tag."),
            None,
        ),
        param(
            "CONTEXT",
            "Build context, relative to the source workspace.",
            Some(json!(".")),
        ),
        param(
            "DOCKERFILE",
            "Dockerfile, relative to the source workspace.",
            Some(json!("./Dockerfile")),
        ),
        param(
            "CACHE_IMAGE",
            "Registry cache image (imported and exported with mode=max); empty for no cache.",
            Some(json!("")),
        ),
    ];
    if !daemonless {
        params.push(param(
            "BUILDKIT_HOST",
            "Address of the buildkitd daemon.",
            Some(json!(wiring.buildkit_host)),
        ));
        params.push(param(
            "BUILDKIT_TLS_SERVER_NAME",
            "The name the daemon's certificate is checked against (--tlsservername), when it is not BUILDKIT_HOST's host; used with the buildkit-client-certs workspace.",
            Some(json!(tekton.tls_server_name)),
        ));
    }
    params.extend([
        param(
            "BUILDER_IMAGE",
            if daemonless {
                "The step's image: BuildKit's rootless image, with buildctl-daemonless.sh and buildkitd."
            } else {
                "The step's image: it needs buildctl and a POSIX shell."
            },
            Some(json!(tekton.buildctl_image)),
        ),
        param("PLATFORMS", "Platforms to build and push as one multi-platform image, comma-separated (linux/amd64,linux/arm64); empty for the builder's own.", Some(json!(""))),
        param("TARGET", "The Dockerfile stage to build; empty for the last one.", Some(json!(""))),
        param("BUILD_ARGS", "Build arguments, each KEY=VALUE (passed as --opt build-arg:KEY=VALUE).", Some(json!([]))),
        param("EXTRA_ARGS", "More arguments for buildctl build, after all others.", Some(json!([]))),
    ]);
    params
}

/// The Task's workspaces: what a TaskRun binds.
fn workspaces(spec: &Spec, wiring: &Wiring, registry: &str) -> Vec<Value> {
    let mut workspaces = vec![
        json!({ "name": "source", "description": "The source to build: holds CONTEXT and DOCKERFILE." }),
        workspace(
            DOCKER_CONFIG,
            &format!(
                "Registry credentials: a kubernetes.io/dockerconfigjson Secret (.dockerconfigjson) or a config.json, with an auths entry for {registry}."
            ),
            false,
        ),
    ];
    if !spec.buildkit.daemonless {
        workspaces.push(workspace(
            CLIENT_CERTS,
            "The daemon's client certificates, for a daemon run with --tlscacert: the buildkit-client-certs Secret of BuildKit's create-certs.sh (ca.pem, cert.pem, key.pem), or a kubernetes.io/tls Secret with ca.crt. Passed as buildctl --tlsdir.",
            !wiring.client_certs_required,
        ));
    }
    workspaces.push(workspace(
        REGISTRY_CA,
        &format!("The CA that signed {registry}'s certificate (*.crt or *.pem files), for buildctl's own token fetch: passed as --registry-auth-tlscontext host={registry},ca=<file>."),
        !wiring.registry_ca_required,
    ));
    workspaces
}

/// The step's environment, mounts and security context, and the Task's volumes.
struct Step {
    env: Vec<Value>,
    volumes: Vec<Value>,
    mounts: Vec<Value>,
    security: Value,
}

fn step(spec: &Spec, wiring: &Wiring, registry: &str) -> Step {
    let flag = |b: bool| if b { "true" } else { "false" };
    let daemonless = spec.buildkit.daemonless;
    let mut step = Step {
        env: vec![
            env("DOCKER_CONFIG", "/docker-config"),
            env("IMAGE", "$(params.IMAGE)"),
            env("CONTEXT", "$(params.CONTEXT)"),
            env("DOCKERFILE", "$(params.DOCKERFILE)"),
            env("CACHE_IMAGE", "$(params.CACHE_IMAGE)"),
            env("PLATFORMS", "$(params.PLATFORMS)"),
            env("TARGET", "$(params.TARGET)"),
            env("REGISTRY", registry),
            env("REGISTRY_INSECURE", flag(wiring.registry_insecure)),
            env(
                "REGISTRY_SKIP_VERIFY",
                flag(spec.endpoint.tls.insecure_skip_verify),
            ),
            env(
                "REGISTRY_CA_BOUND",
                &format!("$(workspaces.{REGISTRY_CA}.bound)"),
            ),
            env(
                "REGISTRY_CA_DIR",
                &format!("$(workspaces.{REGISTRY_CA}.path)"),
            ),
            env("SOURCE_DIR", "$(workspaces.source.path)"),
            env(
                "DOCKERCONFIG_DIR",
                &format!("$(workspaces.{DOCKER_CONFIG}.path)"),
            ),
            env("RESULT_IMAGE_DIGEST", "$(results.IMAGE_DIGEST.path)"),
            env("RESULT_IMAGE_URL", "$(results.IMAGE_URL.path)"),
            env("DAEMONLESS", flag(daemonless)),
            env("TMPDIR", STEP_TMP),
        ],
        volumes: vec![
            json!({ "name": "docker-config", "emptyDir": { "medium": "Memory" } }),
            json!({ "name": "tmp", "emptyDir": {} }),
        ],
        mounts: vec![
            json!({ "name": "docker-config", "mountPath": "/docker-config" }),
            json!({ "name": "tmp", "mountPath": STEP_TMP }),
        ],
        security: json!({ "runAsNonRoot": true }),
    };
    if let Some(uid) = spec.tekton.run_as_user {
        step.security["runAsUser"] = json!(uid);
        step.security["runAsGroup"] = json!(uid);
    }
    if daemonless {
        daemonless_step(wiring, &mut step);
    } else {
        step.env.extend([
            env("BUILDKIT_HOST", "$(params.BUILDKIT_HOST)"),
            env(
                "BUILDKIT_TLS_SERVER_NAME",
                "$(params.BUILDKIT_TLS_SERVER_NAME)",
            ),
            env(
                "BUILDKIT_TLS_BOUND",
                &format!("$(workspaces.{CLIENT_CERTS}.bound)"),
            ),
            env(
                "BUILDKIT_TLS_DIR",
                &format!("$(workspaces.{CLIENT_CERTS}.path)"),
            ),
        ]);
        step.security["allowPrivilegeEscalation"] = json!(false);
        step.security["capabilities"] = json!({ "drop": ["ALL"] });
        step.security["seccompProfile"] = json!({ "type": "RuntimeDefault" });
    }
    step
}

/// The daemonless step: buildkitd's flags, its config and state, and what a rootless
/// buildkitd needs of the pod.
fn daemonless_step(wiring: &Wiring, step: &mut Step) {
    let mut flags = "--oci-worker-no-process-sandbox".to_string();
    if let Some((config_map, key)) = &wiring.daemonless_config {
        flags.push_str(&format!(" --config={DAEMONLESS_CONFIG_DIR}/buildkitd.toml"));
        step.volumes.push(json!({
            "name": "buildkitd-config",
            "configMap": { "name": config_map, "items": [{ "key": key, "path": "buildkitd.toml" }] },
        }));
        step.mounts.push(json!({ "name": "buildkitd-config", "mountPath": DAEMONLESS_CONFIG_DIR, "readOnly": true }));
    }
    step.env.push(env("BUILDKITD_FLAGS", &flags));
    step.volumes
        .push(json!({ "name": "buildkitd-state", "emptyDir": {} }));
    step.mounts
        .push(json!({ "name": "buildkitd-state", "mountPath": DAEMONLESS_STATE }));
    // Rootless buildkitd (moby/buildkit examples/kubernetes/job.rootless.yaml,
    // docs/rootless.md): unshare and mount need seccomp and AppArmor unconfined;
    // newuidmap/newgidmap (the image's shadow-uidmap, setuid root) need privilege
    // escalation, which allowPrivilegeEscalation: false forbids. AppArmor is the
    // Task's annotation only (see `task`): the securityContext field would be refused
    // by every Tekton before v0.69.
    step.security["allowPrivilegeEscalation"] = json!(true);
    step.security["seccompProfile"] = json!({ "type": "Unconfined" });
}
