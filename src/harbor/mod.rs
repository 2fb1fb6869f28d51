//! Harbor: the `CORE_URL` that makes Harbor's Bearer realm carry the scheme and host
//! BuildKit uses.
//!
//! Harbor (`src/server/middleware/v2auth/auth.go`) answers an anonymous `/v2/` request
//! with `Www-Authenticate: Bearer realm="<CORE_URL>/service/token"` only when the
//! request's `Host` header matches `CORE_URL` ([`realm`]); otherwise the realm takes the
//! scheme of `EXT_ENDPOINT` (v2.14+) or all of `EXT_ENDPOINT` (v2.10–v2.13). buildctl
//! fetches the token from that realm as written, outside buildkitd.toml, so the realm
//! must already be right: `CORE_URL = <scheme>://<registry>`.
//!
//! | part | module |
//! |---|---|
//! | Harbor's rules: `match` and `tokenSvcURL`, the realm it answers with | [`realm`] |
//! | finding Harbor's core ConfigMap and Deployment in the input | [`detect`](mod@detect) |
//! | the change: in place, a kustomize merge patch, or a kpt local-config patch | [`plan`](mod@plan) |
//! | the resources written: the patch, the restart checksum | [`patch`] |
//! | the checks: the realm Harbor will answer, jobservice's CORE_URL | [`check`] |

pub mod check;
pub mod detect;
pub mod patch;
pub mod plan;
pub mod realm;

pub use detect::{Topology, detect};
pub use plan::plan;
