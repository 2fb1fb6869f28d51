//! How a pod in the cluster resolves a host name, and which Service it reaches: the one
//! reading of Kubernetes DNS that every check and plan goes through.
//!
//! - The kubelet gives a `ClusterFirst` pod in namespace `<ns>` the search path
//!   `<ns>.svc.<cluster domain> svc.<cluster domain> <cluster domain>` with `ndots:5`
//!   (kubernetes/kubernetes `pkg/kubelet/network/dns/dns.go`,
//!   `generateSearchesForDNSClusterFirst`).
//! - CoreDNS's `kubernetes` plugin answers `<service>.<namespace>.svc.<zone>`, and only
//!   for a namespace that exists (coredns/coredns `plugin/kubernetes/parse.go`,
//!   `parseRequest`; `namespaceExposed`).
//! - Go's resolver (buildctl and buildkitd are pure Go) tries the search suffixes for a
//!   name with fewer than `ndots` dots (`net/dnsclient_unix.go`, `nameList`).
//!
//! So from any pod: `svc.ns`, `svc.ns.svc` and `svc.ns.svc.<cluster domain>` reach
//! Service `svc` in namespace `ns` (`svc.ns` only when namespace `ns` exists; otherwise
//! it falls through to the outside DNS as a host of its own), and a bare `svc` reaches
//! Service `svc` of the pod's own namespace only.

use std::collections::BTreeSet;

use super::parse_ipv4;

/// The cluster domain Kubernetes uses unless the kubelet's `--cluster-domain` says
/// otherwise.
pub const DEFAULT_CLUSTER_DOMAIN: &str = "cluster.local";

/// What the cluster is known to hold, for reading names: its domain, and the
/// namespaces that the input and the spec name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cluster {
    pub(crate) domain: String,
    namespaces: BTreeSet<String>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            domain: DEFAULT_CLUSTER_DOMAIN.to_string(),
            namespaces: BTreeSet::new(),
        }
    }
}

/// How a Service name is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `svc`: only from pods of the Service's own namespace.
    Bare,
    /// `svc.ns`, through the search path's `svc.<cluster domain>`.
    Short,
    /// `svc.ns.svc`, through the search path's `<cluster domain>`.
    Svc,
    /// `svc.ns.svc.<cluster domain>`.
    Fqdn,
}

/// Where a host name leads from a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A Service. `namespace` is `None` for a bare name: the namespace of the pod that
    /// asks.
    Service {
        name: String,
        namespace: Option<String>,
        form: Form,
    },
    /// `svc.ns.svc.<domain>` under another domain than the cluster's: pods never
    /// resolve it as a Service.
    OtherDomain {
        name: String,
        namespace: String,
        domain: String,
    },
    Localhost,
    /// A private, loopback, link-local or CGNAT IPv4 address.
    PrivateAddress,
    PublicAddress,
    /// A DNS name outside the cluster.
    External,
}

impl Place {
    /// Whether the name stays inside the cluster (or its network).
    pub(crate) fn in_cluster(&self) -> bool {
        !matches!(self, Place::PublicAddress | Place::External)
    }

    /// `(service, namespace)` of a Service name that says its namespace.
    pub(crate) fn service(&self) -> Option<(&str, &str)> {
        match self {
            Place::Service {
                name,
                namespace: Some(ns),
                ..
            } => Some((name, ns)),
            _ => None,
        }
    }
}

impl Cluster {
    /// The cluster with domain `domain`, where namespaces `namespaces` exist.
    pub(crate) fn new<'n>(domain: &str, namespaces: impl IntoIterator<Item = &'n str>) -> Self {
        Cluster {
            domain: domain.to_string(),
            namespaces: namespaces
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// Whether namespace `ns` is known to exist.
    pub(crate) fn has_namespace(&self, ns: &str) -> bool {
        self.namespaces.contains(ns)
    }

    /// Where `host` (a lowercase name or IPv4 address, without a port) leads from a pod.
    pub(crate) fn place(&self, host: &str) -> Place {
        if host == "localhost" {
            return Place::Localhost;
        }
        if let Some(ip) = parse_ipv4(host) {
            return if is_private(ip) {
                Place::PrivateAddress
            } else {
                Place::PublicAddress
            };
        }
        let labels: Vec<&str> = host.split('.').collect();
        let service = |namespace: Option<&str>, form| Place::Service {
            name: labels[0].to_string(),
            namespace: namespace.map(str::to_string),
            form,
        };
        match labels.as_slice() {
            [_] => service(None, Form::Bare),
            [_, ns] if self.has_namespace(ns) => service(Some(ns), Form::Short),
            [_, ns, "svc"] => service(Some(ns), Form::Svc),
            [name, ns, "svc", domain @ ..] => {
                let domain = domain.join(".");
                if domain == self.domain {
                    service(Some(ns), Form::Fqdn)
                } else {
                    Place::OtherDomain {
                        name: name.to_string(),
                        namespace: ns.to_string(),
                        domain,
                    }
                }
            }
            _ => Place::External,
        }
    }

    /// The name of Service `name` in namespace `namespace` that resolves from any pod.
    pub(crate) fn fqdn(&self, name: &str, namespace: &str) -> String {
        format!("{name}.{namespace}.svc.{}", self.domain)
    }
}

/// RFC 1918 private ranges, loopback, link-local and CGNAT (100.64.0.0/10, which
/// some clusters give pods and Services).
fn is_private([a, b, _, _]: [u8; 4]) -> bool {
    a == 10
        || a == 127
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 168)
        || (a == 169 && b == 254)
        || (a == 100 && (64..=127).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        Cluster::new("cluster.local", ["harbor", "ci"])
    }

    fn svc(name: &str, ns: Option<&str>, form: Form) -> Place {
        Place::Service {
            name: name.into(),
            namespace: ns.map(str::to_string),
            form,
        }
    }

    /// Each form a pod in another namespace resolves through its search path reaches
    /// the Service; `svc.ns` only when the namespace exists, as CoreDNS answers.
    #[test]
    fn service_names_in_every_form() {
        let c = cluster();
        for (host, want) in [
            (
                "harbor-core.harbor.svc.cluster.local",
                svc("harbor-core", Some("harbor"), Form::Fqdn),
            ),
            (
                "harbor-core.harbor.svc",
                svc("harbor-core", Some("harbor"), Form::Svc),
            ),
            (
                "harbor-core.harbor",
                svc("harbor-core", Some("harbor"), Form::Short),
            ),
            ("harbor-core", svc("harbor-core", None, Form::Bare)),
            // A namespace the cluster is not known to have: an outside name.
            ("harbor.example", Place::External),
            ("harbor.example.com", Place::External),
            (
                "harbor-core.harbor.svc.corp.local",
                Place::OtherDomain {
                    name: "harbor-core".into(),
                    namespace: "harbor".into(),
                    domain: "corp.local".into(),
                },
            ),
            ("localhost", Place::Localhost),
            ("10.0.0.8", Place::PrivateAddress),
            ("100.64.1.1", Place::PrivateAddress),
            ("8.8.8.8", Place::PublicAddress),
        ] {
            assert_eq!(c.place(host), want, "{host}");
        }
        // svc.ns.svc needs no known namespace: its third label says Service.
        assert_eq!(
            Cluster::default().place("a.b.svc"),
            svc("a", Some("b"), Form::Svc)
        );
    }

    #[test]
    fn another_cluster_domain_is_read_as_configured() {
        let c = Cluster::new("corp.local", ["harbor"]);
        assert_eq!(
            c.place("harbor-core.harbor.svc.corp.local"),
            svc("harbor-core", Some("harbor"), Form::Fqdn)
        );
        assert!(matches!(
            c.place("harbor-core.harbor.svc.cluster.local"),
            Place::OtherDomain { .. }
        ));
        assert_eq!(
            c.fqdn("harbor-core", "harbor"),
            "harbor-core.harbor.svc.corp.local"
        );
    }
}
