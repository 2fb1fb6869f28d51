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
//! | the file: our tables set, the rest of an existing file kept | [`toml`] |
//! | the daemon: rootless or rootful, where it reads the file, what it mounts, its Service | [`daemon`] |
//! | finding the daemon and the ConfigMap it reads in the input | [`detect`](mod@detect) |
//! | the change: the ConfigMap, mounted into the daemon, which restarts when it changes | [`plan`](mod@plan) |
//! | the checks: the file the daemon really reads, its `ca` files, the Task's address | [`check`] |
//! | BuildKit releases: the version an image names, what the Task's step needs of one | [`release`] |

pub(crate) mod check;
pub(crate) mod daemon;
pub(crate) mod detect;
pub(crate) mod flags;
pub(crate) mod plan;
pub mod release;
pub(crate) mod toml;

/// Pod-template annotation on the daemon: buildkitd reads its config only at start,
/// so a changed file needs a restart; this changes with the file.
pub(crate) const RESTART_ANNOTATION: &str = "harbor-buildkit.dev/buildkitd-config-checksum";

pub(crate) use detect::{Topology, detect};
pub(crate) use plan::plan;
