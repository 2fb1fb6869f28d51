//! Harbor: the `CORE_URL` that makes Harbor's Bearer realm carry the scheme and host
//! BuildKit uses.
//!
//! Harbor (`src/server/middleware/v2auth/auth.go`) answers an anonymous `/v2/` request
//! with `Www-Authenticate: Bearer realm="<CORE_URL>/service/token"` only when the
//! request's `Host` header matches `CORE_URL` ([`realm`]); otherwise the realm takes the
//! scheme of `EXT_ENDPOINT` (v2.14+) or all of `EXT_ENDPOINT` (v2.0–v2.13). buildctl
//! fetches the token from that realm as written, outside buildkitd.toml, so the realm
//! must already be right: `CORE_URL = <scheme>://<registry>`.
//!
//! | part | module |
//! |---|---|
//! | Harbor's rules: `match` and `tokenSvcURL`, the realm it answers with | [`realm`] |
//! | finding harbor-core in the input by what it is: ConfigMap, Deployment, env, Services, TLS Secret | [`detect`](mod@detect) |
//! | what the registry's name reaches: harbor-core, nginx, or unknown; its ports | [`routing`] |
//! | the fronts (nginx, Ingress, the external endpoint) and the schemes they serve | [`front`] |
//! | jobservice's `CORE_URL`, kept the same string as harbor-core's | [`jobservice`] |
//! | internal TLS: https only, and a certificate that must cover the name | [`tls`] |
//! | the change: when needed and safe, in env or ConfigMap, or a patch for kustomize/kpt | [`plan`](mod@plan) |
//! | the resources written: the patch, the restart checksum | [`patch`] |
//! | the check: the realm Harbor will answer | [`check`] |

pub(crate) mod check;
pub(crate) mod detect;
pub(crate) mod front;
pub(crate) mod jobservice;
pub mod patch;
pub(crate) mod plan;
pub mod realm;
pub(crate) mod routing;
pub(crate) mod tls;

pub(crate) use detect::{Topology, detect};
pub(crate) use plan::plan;
