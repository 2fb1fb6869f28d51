//! What doctor says about the redirects a request followed ([`super::net::Client::get`]
//! follows them one by one), with what buildctl does with its credentials there.
//!
//! buildctl's requests go through containerd's docker resolver on Go's HTTP client:
//! up to 10 redirects (containerd core/remotes/docker/resolver.go `(*request).do`),
//! the `Authorization` header copied on only to the same host name or a subdomain of
//! it, whatever the scheme and port, https to http included (Go net/http client.go
//! `makeHeadersCopier`, `shouldCopyHeaderOnRedirect`), and the new host authorized
//! only when it challenged BuildKit itself (the resolver's `CheckRedirect` calls its
//! authorizer again, and BuildKit's keeps credentials per host: moby/buildkit
//! util/resolver/authorizer.go). doctor carries the header on the same host only,
//! and never from https down to plain http.

use super::net::{Answer, Carried, Hop};
use crate::harbor::realm::Url;
use crate::text::visible;

/// Whether a redirect leaves the host of `initial` (host name, or port when the
/// scheme stays).
pub(crate) fn leaves_host(initial: &str, hop: &Hop) -> bool {
    let (Some(a), Some(b)) = (Url::parse(initial), Url::parse(&hop.to)) else {
        return true;
    };
    !a.host().eq_ignore_ascii_case(b.host()) || (a.scheme == b.scheme && a.port() != b.port())
}

/// Whether a redirect changes the scheme of `initial`.
pub(crate) fn changes_scheme(initial: &str, hop: &Hop) -> bool {
    match (Url::parse(initial), Url::parse(&hop.to)) {
        (Some(a), Some(b)) => a.scheme != b.scheme,
        _ => true,
    }
}

/// One line per redirect of `answer` (requested as `initial`), saying where it went
/// and what became of the credentials.
pub(crate) fn notes(initial: &str, answer: &Answer) -> Vec<String> {
    answer
        .redirects
        .iter()
        .map(|hop| {
            let mut line = format!(
                "redirected: {} answered {} with Location {}",
                visible(&hop.from),
                hop.status,
                visible(&hop.to)
            );
            if leaves_host(initial, hop) {
                line.push_str(
                    " (another host: Go's client, which buildctl uses, drops the Authorization header when a redirect leaves the host name, and BuildKit sends credentials there only after that host challenges it)",
                );
            }
            line.push_str(match hop.authorization {
                Carried::Nothing => "",
                Carried::Kept => "; the Authorization header went on (the same host)",
                Carried::Dropped { go_sends: true } => {
                    "; doctor did not send the Authorization header on (it keeps it on the same host and port, and never sends it from https to plain http); buildctl would have: Go's client sends it on to the same host name whatever the scheme and port (net/http client.go shouldCopyHeaderOnRedirect)"
                }
                Carried::Dropped { go_sends: false } => {
                    "; the Authorization header was not sent on, as Go's client (buildctl) does not send it to another host either"
                }
            });
            line
        })
        .collect()
}
