//! The Tekton Task (`tekton.dev/v1`) that builds and pushes with buildctl.
//!
//! Two things from the seed's story are built in: the docker-registry Secret's
//! `.dockerconfigjson` is copied to `$DOCKER_CONFIG/config.json` (buildctl reads only
//! that name, and writes `.token_seed` beside it, so the directory is a writable
//! in-memory emptyDir); and for a plain-HTTP registry, pushes and registry caches on it
//! carry `registry.insecure=true`.
//!
//! Params reach the script through `env` and `args`, never as `$(params.X)` inside the
//! script text, where Tekton would paste them in before the shell parses it. The
//! script's digest comes from `--metadata-file` (`containerimage.digest`) and is written
//! to the `IMAGE_DIGEST` and `IMAGE_URL` results that Tekton Chains reads.

use serde_json::{Value, json};

use crate::endpoint::Scheme;
use crate::spec::Spec;

/// The step's script (`step.sh` beside this file). POSIX sh (the buildkit image's
/// busybox), shellcheck-clean.
pub const SCRIPT: &str = include_str!("step.sh");

/// Where the Task goes in a kpt package.
pub fn path(spec: &Spec) -> String {
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

/// The Task for `spec`, whose `BUILDKIT_HOST` param defaults to `buildkit_host`.
pub fn task(spec: &Spec, buildkit_host: &str) -> Value {
    let path = path(spec);
    let registry = spec.endpoint.authority();
    let tekton = &spec.tekton;
    json!({
        "apiVersion": "tekton.dev/v1",
        "kind": "Task",
        "metadata": {
            "name": tekton.task_name,
            "namespace": tekton.namespace,
            "labels": { crate::MANAGED_BY_LABEL: crate::MANAGED_BY },
            "annotations": {
                "tekton.dev/displayName": "BuildKit build and push",
                "tekton.dev/categories": "Image Build",
                "tekton.dev/tags": "image-build, buildkit, harbor",
                "tekton.dev/pipelines.minVersion": "0.50.0",
                "internal.config.kubernetes.io/path": path,
                "config.kubernetes.io/path": path,
            },
        },
        "spec": {
            "description": format!(
                "Builds a Dockerfile with buildctl against a buildkitd daemon and pushes the image to {registry} ({}), with an optional registry cache. Bind the dockerconfig workspace to the registry's kubernetes.io/dockerconfigjson Secret.",
                spec.endpoint.scheme.as_str()
            ),
            "params": [
                param("IMAGE", &format!("Image to build and push, e.g. {registry}/library/app:tag."), None),
                param("CONTEXT", "Build context, relative to the source workspace.", Some(json!("."))),
                param("DOCKERFILE", "Dockerfile, relative to the source workspace.", Some(json!("./Dockerfile"))),
                param("CACHE_IMAGE", "Registry cache image (imported and exported with mode=max); empty for no cache.", Some(json!(""))),
                param("BUILDKIT_HOST", "Address of the buildkitd daemon.", Some(json!(buildkit_host))),
                param("EXTRA_ARGS", "More arguments for buildctl build, e.g. --opt build-arg:KEY=VALUE.", Some(json!([]))),
            ],
            "workspaces": [
                { "name": "source", "description": "The source to build: holds CONTEXT and DOCKERFILE." },
                {
                    "name": "dockerconfig",
                    "description": "Registry credentials: a kubernetes.io/dockerconfigjson Secret (.dockerconfigjson) or a config.json.",
                    "readOnly": true,
                },
            ],
            "results": [
                { "name": "IMAGE_DIGEST", "type": "string", "description": "Digest of the pushed image." },
                { "name": "IMAGE_URL", "type": "string", "description": "The pushed image, as given in IMAGE." },
            ],
            "volumes": [
                { "name": "docker-config", "emptyDir": { "medium": "Memory" } },
            ],
            "steps": [{
                "name": "build-and-push",
                "image": tekton.buildctl_image,
                "env": [
                    env("DOCKER_CONFIG", "/docker-config"),
                    env("BUILDKIT_HOST", "$(params.BUILDKIT_HOST)"),
                    env("IMAGE", "$(params.IMAGE)"),
                    env("CONTEXT", "$(params.CONTEXT)"),
                    env("DOCKERFILE", "$(params.DOCKERFILE)"),
                    env("CACHE_IMAGE", "$(params.CACHE_IMAGE)"),
                    env("REGISTRY", &registry),
                    env("REGISTRY_PLAIN_HTTP", if spec.endpoint.scheme == Scheme::Http { "true" } else { "false" }),
                    env("SOURCE_DIR", "$(workspaces.source.path)"),
                    env("DOCKERCONFIG_DIR", "$(workspaces.dockerconfig.path)"),
                    env("RESULT_IMAGE_DIGEST", "$(results.IMAGE_DIGEST.path)"),
                    env("RESULT_IMAGE_URL", "$(results.IMAGE_URL.path)"),
                ],
                "args": ["$(params.EXTRA_ARGS[*])"],
                "script": SCRIPT,
                "volumeMounts": [{ "name": "docker-config", "mountPath": "/docker-config" }],
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": 1000,
                    "runAsGroup": 1000,
                    "allowPrivilegeEscalation": false,
                    "capabilities": { "drop": ["ALL"] },
                    "seccompProfile": { "type": "RuntimeDefault" },
                },
            }],
        },
    })
}
