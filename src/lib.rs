//! harbor-buildkit-fn: a KRM function that wires BuildKit in Tekton to a Harbor registry.
//!
//! It reads a ResourceList on stdin and writes one on stdout with three things added
//! or patched. The code is laid out by the systems it wires, each in its own folder
//! with its detection, its plan and its checks, and one pipeline that runs them:
//!
//! | system | module | what it owns |
//! |---|---|---|
//! | Harbor | [`harbor`] | the `CORE_URL`/`TOKEN_SERVICE_URL` patch, Harbor's realm rules (`match`, `tokenSvcURL`), the realm and jobservice checks |
//! | BuildKit | [`buildkit`] | `buildkitd.toml` and its ConfigMap, the registry-table checks |
//! | Tekton | [`tekton`] | the Task and its step script in every mode (mTLS, private CA, daemonless), the checks on credentials and on runs of the Task |
//! | the registry | [`endpoint`] | host, port, scheme and TLS material, shared by all three |
//!
//! The pipeline, in [`function`] (every stage returns a [`krm::Failure`], which holds at
//! least one error result):
//!
//! | stage | where | what |
//! |---|---|---|
//! | read | [`krm`] | the ResourceList: each item's identity and text, the functionConfig |
//! | spec | [`spec`] | the functionConfig, validated into typed groups, every problem at once |
//! | detect | `<system>::detect` | read-only: what the input holds of each system, found once ([`krm::ResourceList::one`] is the one rule for duplicates; [`krm::fields`] reads their fields) |
//! | plan | `<system>::plan` | each system's [`plan::Change`]s, from the spec and what was detected |
//! | apply | [`function::apply`] | the one applier: surgical edits in place, conflicting changes refused |
//! | check | `<system>::check` | findings on the [`output::Output`], generated items included |
//! | write | [`krm`] | items, functionConfig, results |
//!
//! Around them: [`names`] (each name as its consumer reads it: Kubernetes DNS,
//! distribution/reference; checks on hosts, names, paths), [`doctor`] (the live probe
//! of a running registry, using Harbor's realm rules), [`describe`] (the schema and
//! krm-fn.yaml), [`standalone`] (`run` and `check` without kustomize or kpt), [`files`]
//! (every file the tool opens: regular, bounded, links within the folder), [`text`]
//! (invisible characters shown in messages), and [`yaml`] (spans, verbatim copy,
//! surgical edits, safe emitting), the plumbing under everything.
//!
//! The one rule everything serves: an item this function does not change leaves
//! byte for byte as it came. Items are never re-emitted; their source text is copied
//! (and, when patched, edited in place), so no YAML emitter can retype a user's
//! `"on"` or `"0755"`.

// The module map above links the internals for `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

// The API: the function and its check, doctor, the schema and definition, `run`
// without kustomize or kpt, and the result types and codes they report with.
pub mod codes;
pub mod describe;
pub mod doctor;
pub mod standalone;

mod buildkit;
mod endpoint;
mod files;
mod function;
mod harbor;
mod krm;
mod names;
mod output;
mod par;
mod plan;
mod spec;
mod tekton;
mod text;
mod yaml;

pub use endpoint::{Registry, Scheme};
pub use function::{Checked, Judge, Outcome, Status, check, run, run_to};
pub use krm::{Field, FnResult, InputError, ResourceRef, Severity, report, results_yaml};
pub use names::{Invalid, Rule, Via, registry, repository};
pub use text::visible;
pub use yaml::ParseError;

/// What the tests, benchmarks and fuzz targets reach inside the crate; only with the
/// `test-support` feature (the crate's own dev-dependency turns it on), never shipped.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod testing;

/// Label on the resources this function generates, so a later run regenerates them
/// in place instead of adding copies (and never touches a look-alike it did not make).
pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY: &str = "harbor-buildkit-fn";
