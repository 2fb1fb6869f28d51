//! The one way tests build a ResourceList: items (as YAML entries, emitted values or
//! JSON) and a functionConfig (a HarborBuildkit spec, or raw text).

use harbor_buildkit_fn::testing::emit;
use serde_json::{Value, json};

/// A ResourceList under construction; [`ResourceList::build`] writes its text.
#[derive(Debug, Clone, Default)]
pub struct ResourceList {
    api_version: Option<&'static str>,
    items: Items,
    wide: bool,
    function_config: String,
}

#[derive(Debug, Clone)]
enum Items {
    /// Sequence entries, each its own `- ...` block at column 0.
    Entries(Vec<String>),
    /// The items section as written (`items: 5\n`, or nothing at all).
    Raw(String),
}

impl Default for Items {
    fn default() -> Self {
        Items::Entries(Vec::new())
    }
}

impl ResourceList {
    pub fn new() -> Self {
        Self::default()
    }

    /// `config.kubernetes.io/v1beta1` instead of `v1`.
    pub fn api_version(mut self, v: &'static str) -> Self {
        self.api_version = Some(v);
        self
    }

    /// An entry written as YAML: `- ` at column 0, continuation lines indented by two
    /// (an empty entry is left out).
    pub fn item(mut self, entry: &str) -> Self {
        if !entry.is_empty() {
            let mut e = entry.to_string();
            if !e.ends_with('\n') {
                e.push('\n');
            }
            self.entries().push(e);
        }
        self
    }

    pub fn items(self, entries: &[&str]) -> Self {
        entries.iter().fold(self, |rl, e| rl.item(e))
    }

    /// A document's text (a resource as a file holds it) as an entry.
    pub fn document(self, text: &str) -> Self {
        let mut e = String::new();
        for (i, line) in text.split('\n').enumerate() {
            if i == 0 {
                e.push_str("- ");
            } else if !line.is_empty() {
                e.push_str("  ");
            }
            e.push_str(line);
            e.push('\n');
        }
        self.item(&e)
    }

    /// A value, as this crate's emitter writes it (block style).
    pub fn resource(self, v: &Value) -> Self {
        let mut e = String::new();
        emit::seq_entry(&mut e, v, 0);
        self.item(&e)
    }

    /// A value as one line of JSON (flow style), as a hand-written list might hold it.
    pub fn resource_as_json(self, v: &Value) -> Self {
        self.item(&format!(
            "- {}\n",
            serde_json::to_string(v).unwrap_or_default()
        ))
    }

    /// The items section written as is (`""` for none at all).
    pub fn items_raw(mut self, section: &str) -> Self {
        self.items = Items::Raw(section.to_string());
        self
    }

    /// Entries as an indented sequence (`  - `) instead of at column 0.
    pub fn wide(mut self) -> Self {
        self.wide = true;
        self
    }

    /// A HarborBuildkit named `name` whose spec is `spec` (unindented YAML lines).
    pub fn spec(mut self, name: &str, spec: &str) -> Self {
        let mut s = format!(
            "functionConfig:\n  apiVersion: fn.harbor-buildkit.dev/v1alpha1\n  kind: HarborBuildkit\n  metadata:\n    name: {name}\n  spec:\n"
        );
        for line in spec.lines() {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
        self.function_config = s;
        self
    }

    /// A HarborBuildkit named `name` with `spec` as a value, emitted.
    pub fn spec_value(mut self, name: &str, spec: Value) -> Self {
        let fc = json!({
            "apiVersion": "fn.harbor-buildkit.dev/v1alpha1",
            "kind": "HarborBuildkit",
            "metadata": {"name": name},
            "spec": spec,
        });
        let mut s = String::from("functionConfig:\n");
        for line in emit::document(&fc).lines() {
            s.push_str("  ");
            s.push_str(line);
            s.push('\n');
        }
        self.function_config = s;
        self
    }

    /// The functionConfig section written as is (`functionConfig:\n  ...`).
    pub fn function_config(mut self, section: &str) -> Self {
        self.function_config = section.to_string();
        self
    }

    fn entries(&mut self) -> &mut Vec<String> {
        if let Items::Raw(_) = self.items {
            self.items = Items::Entries(Vec::new());
        }
        match &mut self.items {
            Items::Entries(e) => e,
            Items::Raw(_) => unreachable!("set above"),
        }
    }

    pub fn build(&self) -> String {
        let mut s = format!(
            "apiVersion: {}\nkind: ResourceList\n",
            self.api_version.unwrap_or("config.kubernetes.io/v1")
        );
        match &self.items {
            Items::Raw(raw) => s.push_str(raw),
            Items::Entries(e) if e.is_empty() => s.push_str("items: []\n"),
            Items::Entries(entries) => {
                s.push_str("items:\n");
                for e in entries {
                    if self.wide {
                        for line in e.split_inclusive('\n') {
                            if line != "\n" {
                                s.push_str("  ");
                            }
                            s.push_str(line);
                        }
                    } else {
                        s.push_str(e);
                    }
                }
            }
        }
        s.push_str(&self.function_config);
        s
    }
}
