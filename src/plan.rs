//! What a system asks to be done to the output: the vocabulary between each system's
//! plan (`harbor::plan`, `buildkit::plan`, `tekton::plan`) and the one applier
//! (`function::apply`), which owns the edit plumbing and refuses conflicting changes.
//!
//! A plan only describes; it never touches text. That keeps every system's decision
//! readable on its own, and lets the applier see all changes to an item at once, so two
//! systems editing one Deployment are refused instead of merged by accident.

use std::borrow::Cow;

use serde_json::Value;

use crate::krm::FnResult;
use crate::yaml::{Seg, path_text};

/// The systems this function wires, in the order they plan, apply and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    Harbor,
    Buildkit,
    Tekton,
}

impl System {
    pub fn name(self) -> &'static str {
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
pub struct Set {
    pub item: usize,
    pub parent: Vec<Seg<'static>>,
    pub entries: Vec<(String, String)>,
}

impl Set {
    /// Keys below a path of mapping keys.
    pub fn new(item: usize, parent: &[&str], entries: Vec<(String, String)>) -> Set {
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
    pub fn at(item: usize, parent: Vec<Seg<'static>>, entries: Vec<(String, String)>) -> Set {
        Set {
            item,
            parent,
            entries,
        }
    }

    /// `parent.key` of the first entry, for messages.
    pub fn path(&self) -> String {
        let mut p = path_text(&self.parent);
        if let Some((k, _)) = self.entries.first() {
            if !p.is_empty() {
                p.push('.');
            }
            p.push_str(k);
        }
        p
    }
}

/// One change to the output.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Edit an input item in place (every other byte stays).
    Set(Set),
    /// Replace input item `item` with a generated resource, which keeps the identity
    /// annotations the item came in with (kpt's and kustomize's file and id marks).
    Replace { item: usize, with: Value },
    /// Add a generated resource after the input items.
    Add(Value),
}

impl Change {
    /// The input item the change touches, if any.
    pub fn item(&self) -> Option<usize> {
        match self {
            Change::Set(s) => Some(s.item),
            Change::Replace { item, .. } => Some(*item),
            Change::Add(_) => None,
        }
    }
}

/// A system's plan: its changes, and what it tells the user about them.
#[derive(Debug)]
pub struct Plan {
    pub system: System,
    pub changes: Vec<Change>,
    pub results: Vec<FnResult>,
}

impl Plan {
    pub fn new(system: System) -> Plan {
        Plan {
            system,
            changes: Vec::new(),
            results: Vec::new(),
        }
    }

    pub fn change(&mut self, c: Change) {
        self.changes.push(c);
    }

    pub fn tell(&mut self, r: FnResult) {
        self.results.push(r);
    }
}
