//! harbor-buildkit-fn: a KRM function that wires BuildKit in Tekton to a Harbor registry.
//!
//! It reads a ResourceList on stdin and writes one on stdout with three things added
//! or patched, each in its own module:
//!
//! | concept | module |
//! |---|---|
//! | Harbor's core ConfigMap (`CORE_URL`, `TOKEN_SERVICE_URL`) | [`harbor`] |
//! | the BuildKit ConfigMap with `buildkitd.toml` | [`buildkitd`] |
//! | the Tekton Task running `buildctl build` | [`task`] |
//!
//! around them:
//!
//! | concept | module |
//! |---|---|
//! | the functionConfig: fields, defaults, validation | [`spec`] |
//! | checks on hosts, names, paths | [`names`] |
//! | ResourceList in and out, results | [`krm`] |
//! | the transformation and its modes (kustomize generator, kpt package, transformer) | [`function`] |
//! | Harbor's `match` and `tokenSvcURL`: the realm it answers with | [`realm`] |
//! | the static checks on every run (realm, jobservice, buildkitd.toml, DOCKER_CONFIG) | [`check`] |
//! | the live probe of a running registry (`doctor`) | [`doctor`] |
//! | YAML with spans: verbatim copy, surgical edits, safe emitting | [`yaml`] |
//!
//! The one rule everything serves: an item this function does not change leaves
//! byte for byte as it came. Items are never re-emitted; their source text is copied
//! (and, when patched, edited in place), so no YAML emitter can retype a user's
//! `"on"` or `"0755"`.

pub mod buildkitd;
pub mod check;
pub mod describe;
pub mod doctor;
pub mod function;
#[doc(hidden)]
pub mod fuzzing;
pub mod harbor;
pub mod krm;
pub mod names;
pub mod realm;
pub mod spec;
pub mod standalone;
pub mod task;
pub mod yaml;

pub use function::{Outcome, run};

/// Label on the resources this function generates, so a later run regenerates them
/// in place instead of adding copies (and never touches a look-alike it did not make).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "harbor-buildkit-fn";
