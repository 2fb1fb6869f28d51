//! The BuildKit daemon in the input: which workload runs buildkitd, how (rootless or
//! rootful), where it reads `buildkitd.toml`, what it mounts, and the Service in front.
//!
//! Read from moby/buildkit v0.26:
//! - `cmd/buildkitd/main.go`: `--config` (no environment variable), defaulting to
//!   `$XDG_CONFIG_HOME/buildkit/buildkitd.toml` or `$HOME/.config/buildkit/buildkitd.toml`
//!   when rootless (`isRootlessConfig`: in a user namespace with `USER` not root), else
//!   `/etc/buildkit/buildkitd.toml` (`util/appdefaults`);
//! - `cmd/buildkitd/config/load.go`: a missing file is no error, even for `--config`,
//!   so a wrong mount gives the defaults, silently;
//! - the rootless image (`Dockerfile`, stage `rootless`): user 1000, `HOME=/home/user`,
//!   `USER=user`, `ENTRYPOINT ["rootlesskit", "buildkitd"]`, tags `*-rootless`;
//! - `examples/kubernetes`: Deployment or StatefulSet `buildkitd`, container
//!   `buildkitd`, label `app: buildkitd`, Service `buildkitd` on port 1234, mTLS with
//!   `--tlscacert/--tlscert/--tlskey` from Secret `buildkit-daemon-certs` at `/certs`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::flags::{self, Parser};
use crate::codes::Code;
use crate::krm::env::env_entry;
use crate::krm::fields::{array_at, containers, is_workload, str_at, string_map};
use crate::krm::{Failure, FnResult, ResourceList, ResourceRef};
use crate::spec::Spec;

/// A volume of the daemon's pod, reduced to where its files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// `configMap`, with `items` (key, path) when it lists some.
    ConfigMap {
        name: String,
        items: Vec<(String, String)>,
    },
    /// `secret`, likewise.
    Secret {
        name: String,
        items: Vec<(String, String)>,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Volume {
    pub(crate) name: String,
    pub(crate) source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub(crate) name: String,
    pub(crate) mount_path: String,
    pub(crate) sub_path: Option<String>,
}

/// The rootless image's `$XDG_CONFIG_HOME` (moby/buildkit `Dockerfile`: `HOME=/home/user`).
pub(crate) const ROOTLESS_CONFIG_HOME: &str = "/home/user/.config";
/// Where buildkitd reads its config, rootless (under the config home) and rootful.
pub(crate) const ROOTLESS_CONFIG_DIR: &str = "/home/user/.config/buildkit";
pub(crate) const ROOTFUL_CONFIG_DIR: &str = "/etc/buildkit";
pub(crate) const ROOTFUL_CONFIG: &str = "/etc/buildkit/buildkitd.toml";

/// The ConfigMap key a file in the daemon's container comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountedFile {
    pub(crate) config_map: String,
    pub(crate) key: String,
}

/// A buildkitd workload of the input.
#[derive(Debug, Clone)]
pub(crate) struct Daemon {
    pub(crate) index: usize,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) namespace: String,
    /// Index of the buildkitd container.
    pub(crate) container: usize,
    pub(crate) container_name: String,
    /// Rootless, and why it was read so.
    pub(crate) rootless: Option<String>,
    /// Where it reads buildkitd.toml, and whether `--config` says so.
    pub(crate) config_path: String,
    pub(crate) config_flag: bool,
    /// Why `--config` cannot be mounted as buildkitd reads it (a relative path, a
    /// folder, flags the versions read apart), for the plan to refuse.
    pub(crate) config_problem: Option<String>,
    /// Whether `--config` may be added to `args` and be read: the container runs
    /// buildkitd's command, and its args neither end the flags (`--`) nor, for a
    /// version that stops at the first argument that is not a flag, hold one.
    pub(crate) flags_appendable: bool,
    pub(crate) volumes: Vec<Volume>,
    pub(crate) mounts: Vec<Mount>,
    /// `--tlscacert` among its flags: it demands client certificates.
    pub(crate) tls_ca: bool,
    pub(crate) pod_labels: BTreeMap<String, String>,
    /// The pod-template annotation this function sets, as it is.
    pub(crate) checksum: Option<String>,
}

/// The daemon's Service: the address buildctl dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) port: u16,
}

impl Daemon {
    /// The workload as results write it: `Deployment buildkit/buildkitd`.
    pub(crate) fn describe(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// The volume mounted at `path` or at a folder above it (the most specific), and
    /// the path below that mount.
    pub(crate) fn mount_of(&self, path: &str) -> Option<(&Mount, String)> {
        self.mounts
            .iter()
            .filter_map(|m| {
                let at = m.mount_path.trim_end_matches('/');
                if m.sub_path.is_some() {
                    return (at == path).then(|| (m, String::new()));
                }
                let rest = path.strip_prefix(at)?.strip_prefix('/')?;
                Some((m, rest.to_string()))
            })
            .max_by_key(|(m, _)| m.mount_path.len())
    }

    /// The volume that provides `path`, and the file's path within that volume.
    fn source_of(&self, path: &str) -> Option<(&Source, String)> {
        let (mount, rest) = self.mount_of(path)?;
        let volume = self.volumes.iter().find(|v| v.name == mount.name)?;
        Some((&volume.source, mount.sub_path.clone().unwrap_or(rest)))
    }

    /// The ConfigMap key that ends up at `path` in the container, if a ConfigMap does.
    pub(crate) fn config_map_file(&self, path: &str) -> Option<MountedFile> {
        let (Source::ConfigMap { name, items }, file) = self.source_of(path)? else {
            return None;
        };
        let key = if items.is_empty() {
            file
        } else {
            items.iter().find(|(_, p)| *p == file)?.0.clone()
        };
        Some(MountedFile {
            config_map: name.clone(),
            key,
        })
    }

    /// Whether Secret `secret` is what is mounted at `path`'s folder (or above it).
    pub(crate) fn mounts_secret_at(&self, path: &str, secret: &str) -> bool {
        matches!(self.source_of(path), Some((Source::Secret { name, .. }, _)) if name == secret)
    }

    /// The mount `path` is under, and its volume's name, if one is.
    pub(crate) fn mount_above(&self, path: &str) -> Option<(&str, &str)> {
        self.mount_of(path)
            .map(|(m, _)| (m.mount_path.as_str(), m.name.as_str()))
    }

    /// Whether any volume provides `path` (a file of a ConfigMap or Secret, or a folder
    /// of another kind: what is in it is not known here, so it is taken as provided).
    pub(crate) fn provides(&self, path: &str) -> bool {
        match self.source_of(path) {
            None => false,
            Some((Source::ConfigMap { items, .. } | Source::Secret { items, .. }, file)) => {
                items.is_empty() || items.iter().any(|(_, p)| *p == file)
            }
            Some((Source::Other, _)) => true,
        }
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Whether an image is BuildKit's: `[registry/]moby/buildkit[:tag][@digest]`.
pub(crate) fn is_buildkit_image(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or(image);
    let repo = match name.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => name,
    };
    repo == "moby/buildkit" || repo.ends_with("/moby/buildkit")
}

/// What the daemon's command line says, as its buildkitd reads it.
#[derive(Debug, Default)]
struct Flags {
    /// `--config`, cleaned (`..` resolved); `None` when not given.
    config: Option<String>,
    tlscacert: bool,
    appendable: bool,
    problem: Option<String>,
}

/// buildkitd's arguments in a container: after `buildkitd` in `command` (itself, or
/// under rootlesskit), then `args`; with no `command`, the image's entrypoint
/// (`buildkitd`, or `rootlesskit buildkitd` in the rootless image) takes `args`.
/// `None` for a command of another program (a shell script), which is not read.
fn buildkitd_argv(command: &[String], args: &[String]) -> Option<Vec<String>> {
    let after = match command.iter().position(|c| c.ends_with("buildkitd")) {
        Some(at) => &command[at + 1..],
        None if command.is_empty() => &[][..],
        None => return None,
    };
    Some(after.iter().chain(args).cloned().collect())
}

/// The daemon's flags as its version of buildkitd reads them (read both ways when the
/// image tag does not say the version, and refused when the two disagree).
fn read_flags(image: &str, command: &[String], args: &[String], workdir: Option<&str>) -> Flags {
    let Some(argv) = buildkitd_argv(command, args) else {
        return Flags::default();
    };
    let readings: Vec<(Parser, flags::Parsed)> = match Parser::of_image(image) {
        Some(p) => vec![(p, flags::parse(&argv, p))],
        None => [Parser::GoFlag, Parser::CliV3]
            .into_iter()
            .map(|p| (p, flags::parse(&argv, p)))
            .collect(),
    };
    let mut out = Flags {
        appendable: readings
            .iter()
            .all(|(_, r)| !r.dashdash && r.stopped_at.is_none() && r.missing_value.is_none()),
        ..Flags::default()
    };
    let (_, first) = &readings[0];
    out.tlscacert = readings.iter().any(|(_, r)| r.tlscacert.is_some());
    if let Some(flag) = &first.missing_value {
        out.problem = Some(format!(
            "its args end with --{flag} and no value: buildkitd refuses to start (flag needs an argument)"
        ));
        return out;
    }
    if readings.windows(2).any(|w| w[0].1.config != w[1].1.config) {
        let arg = readings
            .iter()
            .find_map(|(_, r)| r.stopped_at.clone())
            .unwrap_or_default();
        out.problem = Some(format!(
            "its --config comes after {arg:?}, which is not a flag: buildkitd v0.30 and earlier stop reading flags there and never read --config, v0.31 and later read it, and its image {image:?} does not say which it runs. Put --config before {arg:?}, or pin the image to a release"
        ));
        return out;
    }
    if let (Some(arg), None) = (&first.stopped_at, &first.config) {
        let later = argv
            .iter()
            .skip_while(|a| *a != arg)
            .any(|a| a.starts_with("--config") || a.starts_with("-config"));
        if later {
            out.problem = Some(format!(
                "its --config comes after {arg:?}, which is not a flag, and this buildkitd (v0.30 or earlier) stops reading flags there: it never reads --config. Put --config before {arg:?}"
            ));
            return out;
        }
    }
    match first.config.as_deref().map(|p| flags::clean(p, workdir)) {
        Some(Ok(p)) => out.config = Some(p),
        Some(Err(bad)) => out.problem = Some(bad.to_string()),
        None => {}
    }
    out
}

/// The daemon: the workload `spec.buildkitDaemon` names, else the one running a
/// moby/buildkit image. Several are an error naming them.
pub(crate) fn find(rl: &ResourceList, spec: &Spec) -> Result<Option<Daemon>, Failure> {
    let b = &spec.buildkit;
    let ns = if b.namespace_given {
        b.namespace.as_str()
    } else {
        ""
    };
    let candidates = candidates(rl, spec, ns);
    match candidates.len() {
        0 if !ns.is_empty() => elsewhere(rl, spec).map(|()| None),
        0 => Ok(None),
        1 => {
            let (n, v) = &candidates[0];
            if b.daemon.is_some() && !runs_buildkit(v) {
                return Err(not_a_daemon(rl, *n, v));
            }
            Ok(read(rl, *n, v))
        }
        _ => {
            let names: Vec<String> = candidates
                .iter()
                .map(|(n, _)| {
                    let i = &rl.items[*n];
                    format!("{} {}/{}", i.kind, i.namespace, i.name)
                })
                .collect();
            Err(Failure::new(
                FnResult::error(Code::BuildkitAmbiguous, format!(
                    "{} workloads run a moby/buildkit image: {}; set spec.buildkitDaemon to the one BuildKit builds run on",
                    names.len(),
                    names.join(", ")
                ))
                .on(ResourceRef::of(&rl.items[candidates[0].0]))
                .at("spec.buildkitDaemon"),
            ))
        }
    }
}

/// The workloads of namespace `ns` (every namespace when empty) that may be the
/// daemon: the one `spec.buildkitDaemon` names, or those running a moby/buildkit image.
fn candidates(rl: &ResourceList, spec: &Spec, ns: &str) -> Vec<(usize, Value)> {
    let b = &spec.buildkit;
    rl.items
        .iter()
        .enumerate()
        .filter(|(_, i)| is_workload(i) && i.in_namespace(ns))
        .filter(|(_, i)| match &b.daemon {
            Some(name) => i.name == name.as_str(),
            None => i.mentions("moby/buildkit"),
        })
        .filter_map(|(n, _)| Some((n, rl.value(n)?)))
        .filter(|(_, v)| {
            b.daemon.is_some()
                || containers(v)
                    .iter()
                    .any(|c| str_at(c, &["image"]).is_some_and(is_buildkit_image))
        })
        .collect()
}

/// Whether a workload runs BuildKit's daemon: a moby/buildkit image, an image named
/// for buildkit (a build of one's own), or `buildkitd` in its command or args.
fn runs_buildkit(v: &Value) -> bool {
    containers(v).iter().any(|c| {
        let image = str_at(c, &["image"]).unwrap_or("");
        let repo = image.split(['@', ':']).next().unwrap_or("");
        is_buildkit_image(image)
            || repo
                .rsplit('/')
                .next()
                .is_some_and(|n| n.contains("buildkit"))
            || ["command", "args"]
                .iter()
                .any(|k| strings(c, k).iter().any(|a| a.contains("buildkitd")))
    })
}

/// The workload `spec.buildkitDaemon` names runs no BuildKit.
fn not_a_daemon(rl: &ResourceList, index: usize, v: &Value) -> Failure {
    let item = &rl.items[index];
    let images: Vec<&str> = containers(v)
        .iter()
        .filter_map(|c| str_at(c, &["image"]))
        .collect();
    Failure::new(
        FnResult::error(
            Code::BuildkitNotADaemon,
            format!(
                "{} {}/{}, which spec.buildkitDaemon names, runs no BuildKit daemon (its containers run {}, and none runs buildkitd): buildkitd.toml and --config mounted into it would be read by nothing. Name the workload that runs moby/buildkit in spec.buildkitDaemon, or leave it out to have it found",
                item.kind,
                item.namespace,
                item.name,
                if images.is_empty() {
                    "no image".to_string()
                } else {
                    images.join(", ")
                }
            ),
        )
        .on(ResourceRef::of(item))
        .at("spec.buildkitDaemon"),
    )
}

/// No daemon in the namespace `spec.buildkitNamespace` names, but one elsewhere: an
/// error that says where it is (the file would go to a namespace no daemon reads).
fn elsewhere(rl: &ResourceList, spec: &Spec) -> Result<(), Failure> {
    let Some((n, v)) = candidates(rl, spec, "").into_iter().next() else {
        return Ok(());
    };
    if spec.buildkit.daemon.is_some() && !runs_buildkit(&v) {
        return Ok(());
    }
    let item = &rl.items[n];
    Err(Failure::new(
        FnResult::error(
            Code::BuildkitElsewhere,
            format!(
                "{} {}/{} runs BuildKit in namespace {}, while spec.buildkitNamespace is {}, where the input has no daemon: set spec.buildkitNamespace: {} (buildkitd.toml goes to the daemon's namespace), or leave it out to have it found",
                item.kind,
                item.namespace,
                item.name,
                item.namespace,
                spec.buildkit.namespace,
                item.namespace
            ),
        )
        .on(ResourceRef::of(item))
        .at("spec.buildkitNamespace"),
    ))
}

fn items_of(source: &Value) -> Vec<(String, String)> {
    source
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some((
                str_at(i, &["key"])?.to_string(),
                str_at(i, &["path"])?.to_string(),
            ))
        })
        .collect()
}

fn read(rl: &ResourceList, index: usize, v: &Value) -> Option<Daemon> {
    let item = &rl.items[index];
    of_value(index, (&item.kind, &item.name, &item.namespace), v)
}

/// The daemon workload `v` (item `index`, with its kind, name and namespace), as
/// read from the input or from the output.
pub(crate) fn of_value(
    index: usize,
    (kind, name, namespace): (&str, &str, &str),
    v: &Value,
) -> Option<Daemon> {
    let containers = containers(v);
    let container = containers
        .iter()
        .position(|c| str_at(c, &["image"]).is_some_and(is_buildkit_image))
        .or_else(|| {
            containers
                .iter()
                .position(|c| str_at(c, &["name"]) == Some("buildkitd"))
        })
        .unwrap_or(0);
    let c = containers.get(container)?;
    let image = str_at(c, &["image"]).unwrap_or("").to_string();
    let args = strings(c, "args");
    let command = strings(c, "command");
    let env = |name: &str| {
        env_entry(c, name)
            .and_then(|(_, e)| str_at(e, &["value"]))
            .map(str::to_string)
    };
    let run_as = |ctx: Option<&Value>| ctx.and_then(|s| s.get("runAsUser")).and_then(Value::as_u64);
    let uid = run_as(c.get("securityContext"))
        .or(run_as(v.pointer("/spec/template/spec/securityContext")));
    let rootless = rootless(&image, &command, &args, uid);
    let flags = read_flags(&image, &command, &args, str_at(c, &["workingDir"]));
    let (config_path, config_flag) = match &flags.config {
        Some(p) => (p.clone(), true),
        None if rootless.is_some() => {
            let dir =
                env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| format!("{h}/.config")));
            let dir = dir.unwrap_or_else(|| ROOTLESS_CONFIG_HOME.to_string());
            (
                format!("{}/buildkit/buildkitd.toml", dir.trim_end_matches('/')),
                false,
            )
        }
        None => (ROOTFUL_CONFIG.to_string(), false),
    };

    let pod_labels = string_map(v.pointer("/spec/template/metadata/labels"));
    Some(Daemon {
        index,
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.to_string(),
        container,
        container_name: str_at(c, &["name"]).unwrap_or("").to_string(),
        rootless,
        config_path,
        config_flag,
        config_problem: flags.problem,
        flags_appendable: flags.appendable,
        volumes: volumes(v),
        mounts: mounts(c),
        tls_ca: flags.tlscacert,
        pod_labels,
        checksum: str_at(
            v,
            &[
                "spec",
                "template",
                "metadata",
                "annotations",
                super::RESTART_ANNOTATION,
            ],
        )
        .map(str::to_string),
    })
}

/// Why the daemon runs rootless (it then reads `$HOME/.config/buildkit`), or `None`.
fn rootless(image: &str, command: &[String], args: &[String], uid: Option<u64>) -> Option<String> {
    let tag = image
        .split('@')
        .next()
        .unwrap_or("")
        .rsplit_once(':')
        .map(|(_, t)| t);
    if tag.is_some_and(|t| t == "rootless" || t.ends_with("-rootless")) {
        Some(format!("its image {image} is the rootless one"))
    } else if command.first().is_some_and(|c| c.ends_with("rootlesskit")) {
        Some("it runs under rootlesskit".to_string())
    } else if args.iter().any(|a| a == "--oci-worker-no-process-sandbox") || uid == Some(1000) {
        Some("it runs as uid 1000 or with --oci-worker-no-process-sandbox".to_string())
    } else {
        None
    }
}

/// The pod's volumes.
fn volumes(v: &Value) -> Vec<Volume> {
    array_at(v, "/spec/template/spec/volumes")
        .iter()
        .filter_map(|vol| {
            let name = str_at(vol, &["name"])?.to_string();
            let source = if let Some(cm) = vol.get("configMap") {
                Source::ConfigMap {
                    name: str_at(cm, &["name"]).unwrap_or("").to_string(),
                    items: items_of(cm),
                }
            } else if let Some(s) = vol.get("secret") {
                Source::Secret {
                    name: str_at(s, &["secretName"]).unwrap_or("").to_string(),
                    items: items_of(s),
                }
            } else {
                Source::Other
            };
            Some(Volume { name, source })
        })
        .collect()
}

/// The container's volume mounts.
fn mounts(c: &Value) -> Vec<Mount> {
    c.get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            Some(Mount {
                name: str_at(m, &["name"])?.to_string(),
                mount_path: str_at(m, &["mountPath"])?.to_string(),
                sub_path: str_at(m, &["subPath"]).map(str::to_string),
            })
        })
        .collect()
}

/// The Service whose selector picks the daemon's pods, and its port for buildctl:
/// the one onto 1234 (the examples' `--addr tcp://0.0.0.0:1234`), else the first.
pub(crate) fn service(rl: &ResourceList, daemon: &Daemon) -> Option<Service> {
    rl.items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.is("", "Service") && i.in_namespace(&daemon.namespace))
        .filter_map(|(n, i)| Some((i, rl.value(n)?)))
        .find_map(|(i, v)| {
            let selector = v.pointer("/spec/selector")?.as_object()?;
            let selects = !selector.is_empty()
                && selector.iter().all(|(k, val)| {
                    val.as_str()
                        .is_some_and(|s| daemon.pod_labels.get(k).map(String::as_str) == Some(s))
                });
            if !selects {
                return None;
            }
            let ports = array_at(&v, "/spec/ports");
            let port_of = |p: &Value| {
                p.get("port")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
            };
            let port = ports
                .iter()
                .find(|p| {
                    p.get("targetPort").and_then(Value::as_u64) == Some(1234)
                        || (p.get("targetPort").is_none() && port_of(p) == Some(1234))
                })
                .or(ports.first())
                .and_then(port_of)?;
            Some(Service {
                name: i.name.to_string(),
                namespace: if i.namespace.is_empty() {
                    daemon.namespace.clone()
                } else {
                    i.namespace.to_string()
                },
                port,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildkit_images() {
        for (image, yes) in [
            ("moby/buildkit:master-rootless", true),
            ("docker.io/moby/buildkit:v0.26.3", true),
            ("registry:5000/moby/buildkit@sha256:abc", true),
            ("moby/buildkit", true),
            ("example.com/not-moby/buildkit2:v1", false),
            ("busybox", false),
        ] {
            assert_eq!(is_buildkit_image(image), yes, "{image}");
        }
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    /// The container's command and args, as buildkitd gets them; the image's tag says
    /// how it reads them.
    #[test]
    fn flags_as_the_daemon_reads_them() {
        let image = "moby/buildkit:v0.26.3-rootless";
        let f = read_flags(
            image,
            &[],
            &strings(&["--addr", "tcp://0.0.0.0:1234", "--config=/c/../b.toml"]),
            None,
        );
        assert_eq!(f.config.as_deref(), Some("/b.toml"));
        assert!(!f.tlscacert && f.appendable && f.problem.is_none());
        let f = read_flags(
            image,
            &strings(&["rootlesskit", "buildkitd", "--tlscacert=/certs/ca.pem"]),
            &strings(&["--config", "/a", "--config", "/b"]),
            None,
        );
        assert_eq!(f.config.as_deref(), Some("/b"));
        assert!(f.tlscacert);
        // After `--`, --config is no flag, and an appended one would not be either.
        let f = read_flags(image, &[], &strings(&["--", "--config=/x"]), None);
        assert_eq!((f.config, f.appendable), (None, false));
        // A shell command is not read.
        let f = read_flags(
            image,
            &strings(&["sh", "-c", "buildkitd --config /x"]),
            &[],
            None,
        );
        assert_eq!((f.config, f.appendable), (None, false));
        // v0.26 stops at `pos`: the --config after it is never read.
        let f = read_flags(image, &[], &strings(&["pos", "--config", "/x"]), None);
        assert!(
            f.problem
                .is_some_and(|p| p.contains("never reads --config"))
        );
        // An untagged image: the two readings disagree.
        let f = read_flags(
            "moby/buildkit",
            &[],
            &strings(&["pos", "--config", "/x"]),
            None,
        );
        assert!(f.problem.is_some_and(|p| p.contains("does not say which")));
        let f = read_flags(image, &[], &strings(&["--config=bk.toml"]), None);
        assert!(f.problem.is_some_and(|p| p.contains("relative path")));
    }
}
