//! BuildKit: the daemon's `buildkitd.toml`, with our `[registry."<host>"]` table.
//!
//! BuildKit (`util/resolver/config/config.go`, `util/resolver/resolver.go`) matches the
//! table key exactly against an image reference's domain, port included. For a
//! plain-HTTP registry `http = true` is the direct setting; `insecure = true` means
//! "HTTPS without verification", and the two together make BuildKit try HTTPS first
//! with an HTTP fallback, which its docs advise against.
//!
//! | part | module |
//! |---|---|
//! | the file: our table set, the rest of an existing file kept | [`toml`] |
//! | finding the ConfigMap that holds it in the input | [`detect`](mod@detect) |
//! | the change: edited in place, or a new ConfigMap | [`plan`](mod@plan) |
//! | the checks: the registry tables as BuildKit will read them | [`check`] |

pub mod check;
pub mod detect;
pub mod plan;
pub mod toml;

pub use detect::{Topology, detect};
pub use plan::plan;
