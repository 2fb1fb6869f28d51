//! Tekton: the Task that builds and pushes with buildctl, and the checks on how Tasks
//! hand buildctl its credentials.
//!
//! | part | module |
//! |---|---|
//! | the Task (`tekton.dev/v1`) and its step script (`step.sh`) | [`task`] |
//! | finding a Task of the same name in the input | [`detect`](mod@detect) |
//! | the change: a new Task, or ours regenerated in place | [`plan`](mod@plan) |
//! | where a step's `DOCKER_CONFIG` points: a workspace, a Secret volume | [`docker_config`] |
//! | the checks: `DOCKER_CONFIG` on a Secret mount without `config.json`, `BUILDKIT_HOST` | [`check`] |
//! | the check: a docker-registry Secret's `auths` entry for the registry, as buildctl looks it up | [`auths`] |
//! | the checks along the push: client certificates, a private CA, runs binding what the Task requires | [`chain`] |
//! | the checks on the values runs give: `IMAGE` on the registry, a `BUILDER_IMAGE` new enough | [`params`] |

pub(crate) mod auths;
pub(crate) mod chain;
pub(crate) mod check;
pub(crate) mod detect;
pub(crate) mod docker_config;
pub(crate) mod params;
pub(crate) mod plan;
pub mod task;

pub(crate) use detect::{Topology, detect};
pub(crate) use plan::plan;
