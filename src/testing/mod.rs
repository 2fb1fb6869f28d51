//! What the tests, benchmarks and fuzz targets reach inside the crate (feature
//! `test-support`, which the crate's own dev-dependency and the fuzz crate turn on; it is
//! never in a build that ships). Everything else inside the crate is `pub(crate)`.

pub mod fuzzing;

pub use crate::harbor::{patch, realm};
pub use crate::krm::ResourceList;
pub use crate::names::dns1123_label;
pub use crate::spec::DEFAULT_BUILDCTL_IMAGE;
pub use crate::spec::schema::{Field, Type as FieldType, fields};
pub use crate::tekton::task;
pub use crate::yaml::{Tree, emit};
