//! Who is calling the function, read from the shape of its input.
//!
//! What a caller does with the output decides what the function may leave for later:
//! kustomize merges a generator's `behavior: merge` patch into a ConfigMap from
//! `resources:`, but drops every local-config item (`api/resource/factory.go`
//! `DropLocalNodes`) and never shows `results` (only stderr); kpt keeps local-config
//! items in the package and prints both `results` and stderr.

use super::{Item, ResourceList};
use crate::yaml::{NodeId, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// kustomize `generators:`: the only item is the functionConfig itself
    /// (`api/internal/plugins/fnplugin/fnplugin.go`, `Generate` calls the function with
    /// the functionConfig as its input).
    KustomizeGenerator,
    /// kustomize `transformers:`: every item carries `kustomize.config.k8s.io/id`
    /// (`api/internal/plugins/utils/utils.go` `GetResMapWithIDAnnotation`), and the
    /// functionConfig the `config.kubernetes.io/local-config` annotation kustomize adds.
    KustomizeTransformer,
    /// kpt (`fn render`, `fn eval`): the items hold the package's Kptfile, or the
    /// functionConfig is the ConfigMap `function-input` that `kpt fn eval -- k=v` builds
    /// (`thirdparty/cmdconfig/commands/cmdeval/cmdeval.go`).
    KptPackage,
    /// Anything else: a ResourceList by hand, `run`, helm's `--post-renderer`.
    Other,
}

/// The annotation kustomize puts on every resource it hands a transformer.
const KUSTOMIZE_ID: &str = "kustomize.config.k8s.io/id";

impl Mode {
    /// Reads the mode from the items and the functionConfig (read as the spec is, from
    /// the whole document when it aliases an item's anchor).
    pub(crate) fn of_list(rl: &ResourceList) -> Mode {
        let parsed = rl
            .function_config
            .as_ref()
            .and_then(|span| rl.read(span, |tree, fc| Mode::of(rl, tree, fc)).ok());
        parsed.unwrap_or(if Mode::is_kpt(rl) {
            Mode::KptPackage
        } else {
            Mode::Other
        })
    }

    /// Reads the mode from the items and the functionConfig (`fc` in `tree`).
    pub(crate) fn of(rl: &ResourceList, tree: &Tree, fc: NodeId) -> Mode {
        let is_fc = |item: &Item| {
            tree.get_str(fc, &["kind"]) == Some(item.kind.as_ref())
                && tree.get_str(fc, &["apiVersion"]) == Some(item.api_version.as_ref())
                && tree.get_str(fc, &["metadata", "name"]).unwrap_or_default() == item.name
        };
        let annotation = |key: &str| tree.get_str(fc, &["metadata", "annotations", key]);
        // kustomize marks the functionConfig local-config in both roles; a function
        // config that says how to run it under kustomize is the rest of the sign.
        let fc_from_kustomize = annotation("config.kubernetes.io/local-config") == Some("true")
            && (annotation("config.kubernetes.io/function").is_some()
                || annotation("config.k8s.io/function").is_some());
        let kpt_eval_input = tree.get_str(fc, &["kind"]) == Some("ConfigMap")
            && tree.get_str(fc, &["metadata", "name"]) == Some("function-input");
        if Mode::is_kpt(rl) || kpt_eval_input {
            Mode::KptPackage
        } else if rl.items.len() == 1 && is_fc(&rl.items[0]) {
            Mode::KustomizeGenerator
        } else if (!rl.items.is_empty() && rl.items.iter().all(|i| i.mentions(KUSTOMIZE_ID)))
            || (rl.items.is_empty() && fc_from_kustomize)
        {
            Mode::KustomizeTransformer
        } else {
            Mode::Other
        }
    }

    /// Whether the items hold a Kptfile (kpt `pkg/lib/pkg/pkg.go` reads it with the
    /// resources, for render and eval).
    fn is_kpt(rl: &ResourceList) -> bool {
        rl.items.iter().any(|i| i.kind == "Kptfile")
    }

    /// Whether the caller shows a function's `results` (kpt does; kustomize never).
    pub(crate) fn shows_results(self) -> bool {
        self == Mode::KptPackage
    }
}
