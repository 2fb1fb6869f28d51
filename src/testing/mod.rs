//! What the tests, benchmarks and fuzz targets reach inside the crate (feature
//! `test-support`, which the crate's own dev-dependency and the fuzz crate turn on; it is
//! never in a build that ships). Everything else inside the crate is `pub(crate)`.

mod fuzz_doctor;
mod fuzz_run;
pub mod fuzzing;
pub mod server;

pub use crate::buildkit::release;
pub use crate::harbor::{patch, realm};
pub use crate::krm::ResourceList;
pub use crate::names::dns1123_label;
pub use crate::spec::DEFAULT_BUILDCTL_IMAGE;
pub use crate::spec::schema::{Field, Type as FieldType, fields};
pub use crate::tekton::task;
pub use crate::yaml::{Tree, emit};

/// The nodes a parse holds. Aliases are kept as references to their anchor, never
/// copied, so this counts the work a document costs to read, whatever its aliases
/// stand for (tests/hostile.rs counts an alias bomb's with it).
pub fn node_count(tree: &Tree<'_>) -> usize {
    tree.nodes.len()
}
