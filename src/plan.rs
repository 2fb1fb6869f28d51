//! What a system asks to be done to the output: the vocabulary between each system's
//! plan (`harbor::plan`, `buildkit::plan`, `tekton::plan`) and the one applier
//! (`function::apply`), which owns the edit plumbing and refuses conflicting changes.
//!
//! A plan only describes; it never touches text. That keeps every system's decision
//! readable on its own, and lets the applier see all changes to an item at once, so two
//! systems editing one Deployment are refused instead of merged by accident.

use std::borrow::Cow;

use serde_json::Value;

use crate::codes::Code;
use crate::krm::FnResult;
use crate::yaml::{Seg, child_path, path_text};

/// The systems this function wires, in the order they plan, apply and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum System {
    Harbor,
    Buildkit,
    Tekton,
}

impl System {
    pub(crate) fn name(self) -> &'static str {
        match self {
            System::Harbor => "Harbor",
            System::Buildkit => "BuildKit",
            System::Tekton => "Tekton",
        }
    }
}

/// String values set below `parent` in input item `item`, in place. The path runs from
/// the item's root: mapping keys are created as needed, sequence items must exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Set {
    pub(crate) item: usize,
    pub(crate) parent: Vec<Seg<'static>>,
    pub(crate) entries: Vec<(String, String)>,
}

impl Set {
    /// Keys below a path of mapping keys.
    pub(crate) fn new(item: usize, parent: &[&str], entries: Vec<(String, String)>) -> Set {
        Set {
            item,
            parent: parent
                .iter()
                .map(|s| Seg::Key(Cow::Owned((*s).to_string())))
                .collect(),
            entries,
        }
    }

    /// Keys below any path (sequence items included).
    pub(crate) fn at(
        item: usize,
        parent: Vec<Seg<'static>>,
        entries: Vec<(String, String)>,
    ) -> Set {
        Set {
            item,
            parent,
            entries,
        }
    }

    /// `parent.key` of the first entry, for messages.
    pub(crate) fn path(&self) -> String {
        match self.entries.first() {
            Some((k, _)) => child_path(&self.parent, k),
            None => path_text(&self.parent),
        }
    }
}

/// Items appended to the sequence `parent.key` in input item `item`, in place (the
/// sequence is made when missing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Append {
    pub(crate) item: usize,
    pub(crate) parent: Vec<Seg<'static>>,
    pub(crate) key: String,
    pub(crate) items: Vec<Value>,
}

impl Append {
    pub(crate) fn new(
        item: usize,
        parent: Vec<Seg<'static>>,
        key: &str,
        items: Vec<Value>,
    ) -> Append {
        Append {
            item,
            parent,
            key: key.to_string(),
            items,
        }
    }

    /// `parent.key`, for messages.
    pub(crate) fn path(&self) -> String {
        child_path(&self.parent, &self.key)
    }
}

/// One change to the output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// Edit an input item in place (every other byte stays).
    Set(Set),
    /// Append to a sequence of an input item, in place.
    Append(Append),
    /// Replace input item `item` with a generated resource, which keeps the identity
    /// annotations the item came in with (kpt's and kustomize's file and id marks).
    Replace { item: usize, with: Value },
    /// Add a generated resource after the input items.
    Add(Value),
}

/// A system's plan: its changes, and what it tells the user about them.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) system: System,
    pub(crate) changes: Vec<Change>,
    pub(crate) results: Vec<FnResult>,
}

impl Plan {
    pub(crate) fn new(system: System) -> Plan {
        Plan {
            system,
            changes: Vec::new(),
            results: Vec::new(),
        }
    }

    pub(crate) fn change(&mut self, c: Change) {
        self.changes.push(c);
    }

    pub(crate) fn tell(&mut self, r: FnResult) {
        self.results.push(r);
    }

    /// Sets the pod-template annotation `annotation` of workload `item` to the
    /// [`checksum`] of `content`, so it restarts when that changes; `current` is the
    /// annotation as it is, `said` what to tell when it is already current and when not.
    pub(crate) fn restart_on_change(
        &mut self,
        item: usize,
        resource: crate::krm::ResourceRef,
        annotation: &str,
        content: &str,
        current: Option<&str>,
        said: (&str, &str),
    ) {
        let sum = checksum(content);
        let same = current == Some(sum.as_str());
        self.change(Change::Set(Set::new(
            item,
            &["spec", "template", "metadata", "annotations"],
            vec![(annotation.to_string(), sum.clone())],
        )));
        // Only a workload of Harbor's or BuildKit's is restarted.
        let code = match self.system {
            System::Harbor => Code::HarborRestart,
            System::Buildkit | System::Tekton => Code::BuildkitRestart,
        };
        self.tell(
            FnResult::info(code, if same { said.0 } else { said.1 })
                .on(resource)
                .change(
                    &format!("spec.template.metadata.annotations.{annotation}"),
                    None,
                    &sum,
                ),
        );
    }
}

/// The pod-template annotation value that restarts a workload when something it reads
/// only at start (a ConfigMap through `envFrom`, a config file) changes: a short
/// SHA-256 of that content. Patching rendered output leaves a chart's own checksums as
/// they were; this one changes with the content.
pub(crate) fn checksum(content: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(content.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{}", &hex[..16])
}
