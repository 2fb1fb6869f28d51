//! The credentials buildctl would send: the docker config's `auths` entry for the
//! registry, read the way the docker CLI reads it.
//!
//! buildctl reads `$DOCKER_CONFIG/config.json`; the Task this crate generates puts the
//! docker-registry Secret's `.dockerconfigjson` there, which has the same shape. So
//! `--docker-config` takes either file (or a folder holding `config.json`).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::files::{self, ReadError};
use crate::tekton::auths;
use crate::text::visible;

/// The most a docker config holds: a Kubernetes Secret is at most 1 MiB, and
/// `kubectl get secret -o yaml` writes it base64-encoded, a third larger.
pub(crate) const DOCKER_CONFIG_LIMIT: u64 = 4 << 20;

/// A user name and a secret that is never printed.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: Secret,
    /// The file they came from, for messages.
    pub(crate) source: PathBuf,
}

/// A string whose `Debug` is `****`: it cannot leak through a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

/// What the docker config says about a registry.
pub(crate) enum Lookup {
    Found(Credentials),
    /// No entry (or no file): the probe goes on anonymously; the note says why.
    Anonymous(String),
}

/// The docker config file: `path` (a file, a folder with `config.json`, or `-` for
/// stdin), else
/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub(crate) fn config_path(path: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = path {
        return Some(if p.as_os_str() == "-" || !p.is_dir() {
            p.to_path_buf()
        } else {
            p.join("config.json")
        });
    }
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// Why the docker config gives no credentials that doctor can send. `shown` is where it
/// came from (a path, or `stdin`); `detail` a parser's own message. No variant holds a
/// credential.
#[derive(Debug)]
pub(crate) enum Unusable {
    Read {
        path: PathBuf,
        error: ReadError,
    },
    /// Neither JSON nor YAML.
    NotJsonOrYaml {
        shown: String,
        detail: String,
    },
    /// YAML, but not a docker config in JSON form.
    NotJson {
        shown: String,
        detail: String,
    },
    NotObject {
        shown: String,
        found: &'static str,
    },
    /// A Secret whose value under `key` (in `field`) cannot be read.
    SecretValue {
        shown: String,
        field: String,
        key: &'static str,
        why: String,
    },
    SecretNotJson {
        shown: String,
        key: &'static str,
        detail: String,
    },
    SecretWithoutConfig {
        shown: String,
    },
    AuthsNotObject {
        shown: String,
    },
    AuthNotBase64 {
        shown: String,
        key: String,
    },
    AuthNoColon {
        shown: String,
        key: String,
    },
    NoCredentials {
        shown: String,
        key: String,
    },
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Read { path, error } => {
                write!(
                    f,
                    "cannot read the docker config {}: {error}",
                    visible(&path.display().to_string())
                )
            }
            Unusable::NotJsonOrYaml { shown, detail } => write!(
                f,
                "{shown} is not a docker config (JSON) or a Secret (YAML): {detail}"
            ),
            Unusable::NotJson { shown, detail } => {
                write!(f, "{shown} is not a docker config (JSON): {detail}")
            }
            Unusable::NotObject { shown, found } => write!(
                f,
                "{shown} is not a docker config: expected an object with auths, found {found}"
            ),
            Unusable::SecretValue {
                shown,
                field,
                key,
                why,
            } => write!(f, "{shown}: the Secret's {field}[{key:?}] {why}"),
            Unusable::SecretNotJson { shown, key, detail } => write!(
                f,
                "{shown}: the Secret's {key} is not a docker config (JSON): {detail}"
            ),
            Unusable::SecretWithoutConfig { shown } => write!(
                f,
                "{shown} is a Secret without .dockerconfigjson or config.json (a kubernetes.io/dockerconfigjson Secret holds .dockerconfigjson)"
            ),
            Unusable::AuthsNotObject { shown } => write!(f, "{shown}: auths is not an object"),
            Unusable::AuthNotBase64 { shown, key } => write!(
                f,
                "{shown}: auths[{key:?}].auth is not base64 of user:password"
            ),
            Unusable::AuthNoColon { shown, key } => write!(
                f,
                "{shown}: auths[{key:?}].auth does not decode to user:password"
            ),
            Unusable::NoCredentials { shown, key } => write!(
                f,
                "{shown}: auths[{key:?}] has neither auth nor username and password"
            ),
        }
    }
}

impl std::error::Error for Unusable {}

/// The credentials for `registry` (`host[:port]`). `explicit` says whether the user
/// named the file: then a missing file is an error, not a reason to go anonymous.
pub(crate) fn lookup(path: &Path, registry: &str, explicit: bool) -> Result<Lookup, Unusable> {
    let read = if path.as_os_str() == "-" {
        files::read_limited(std::io::stdin().lock(), DOCKER_CONFIG_LIMIT)
    } else {
        files::read(path, DOCKER_CONFIG_LIMIT, true)
    };
    let bytes = match read {
        Ok(b) => b,
        Err(ReadError::Io(e)) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Lookup::Anonymous(format!(
                "no docker config at {} (give one with --docker-config)",
                visible(&path.display().to_string())
            )));
        }
        Err(error) => {
            return Err(Unusable::Read {
                path: path.to_path_buf(),
                error,
            });
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(Unusable::Read {
                path: path.to_path_buf(),
                error: ReadError::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            });
        }
    };
    parse(&text, path, registry)
}

/// A docker config as JSON, from its text: the config itself, or a Kubernetes Secret
/// (`kubectl get secret -o yaml` or `-o json`) holding it under `.dockerconfigjson` or
/// `config.json`.
fn config_json(text: &str, shown: &str) -> Result<Value, Unusable> {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_error) => {
            // YAML (a Secret as kubectl prints it); any JSON error is the one to show.
            let tree = crate::yaml::Tree::parse(text).map_err(|_| Unusable::NotJsonOrYaml {
                shown: shown.to_string(),
                detail: json_error.to_string(),
            })?;
            tree.root
                .and_then(|r| tree.to_json(r).ok())
                .ok_or_else(|| Unusable::NotJson {
                    shown: shown.to_string(),
                    detail: json_error.to_string(),
                })?
        }
    };
    if !v.is_object() {
        return Err(Unusable::NotObject {
            shown: shown.to_string(),
            found: match v {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Null => "nothing",
                _ => "a scalar",
            },
        });
    }
    if v.get("kind").and_then(Value::as_str) != Some("Secret") {
        return Ok(v);
    }
    // The Secret's data read as the check reads it (stringData over data).
    for key in [".dockerconfigjson", "config.json"] {
        let inner = match crate::tekton::docker_config::secret_text(&v, key) {
            None => continue,
            Some((_, Ok(text))) => text,
            Some((field, Err(e))) => {
                return Err(Unusable::SecretValue {
                    shown: shown.to_string(),
                    field: field.to_string(),
                    key,
                    why: e.describe().to_string(),
                });
            }
        };
        return serde_json::from_str(&inner).map_err(|e| Unusable::SecretNotJson {
            shown: shown.to_string(),
            key,
            detail: e.to_string(),
        });
    }
    Err(Unusable::SecretWithoutConfig {
        shown: shown.to_string(),
    })
}

/// Reads the credentials for `registry` from a docker config's text (or a Secret's).
pub(crate) fn parse(text: &str, path: &Path, registry: &str) -> Result<Lookup, Unusable> {
    let shown = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let v = config_json(text, &shown)?;
    let auths = match v.get("auths") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(Unusable::AuthsNotObject { shown }),
    };
    // The entry buildctl's lookup finds, found the same way (the auths check's port of
    // docker/cli's file store: the exact key, else a key normalised to host[:port]).
    let lookup = auths::lookup_key(registry);
    let entry = auths.and_then(|m| {
        let found = auths::find(m.keys().map(String::as_str), &lookup)?;
        m.get_key_value(found.key())
    });
    let Some((key, entry)) = entry else {
        let helper = v
            .pointer(&format!(
                "/credHelpers/{}",
                lookup.replace('~', "~0").replace('/', "~1")
            ))
            .or_else(|| v.get("credsStore"))
            .and_then(Value::as_str);
        // Keys print as the check prints them, any user info in a URL key masked.
        let known: Vec<String> = auths
            .map(|m| m.keys().map(|k| auths::shown(k)).collect())
            .unwrap_or_default();
        let mut note = format!(
            "{shown} has no auths entry for {registry} (it has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
        if let Some(h) = helper {
            note.push_str(&format!(
                "; it names the credential helper docker-credential-{h}, which doctor does not run (buildctl in a pod has no helper either: put the credentials in auths)"
            ));
        }
        return Ok(Lookup::Anonymous(note));
    };
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Ok(Lookup::Found(Credentials {
            username: u.to_string(),
            password: Secret(p.to_string()),
            source: PathBuf::from(&shown),
        }));
    }
    if let Some(auth) = field("auth") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Unusable::AuthNotBase64 {
                shown: shown.clone(),
                key: key.clone(),
            })?;
        let Some((u, p)) = decoded.split_once(':') else {
            return Err(Unusable::AuthNoColon {
                shown,
                key: key.clone(),
            });
        };
        return Ok(Lookup::Found(Credentials {
            username: u.to_string(),
            password: Secret(p.to_string()),
            source: PathBuf::from(&shown),
        }));
    }
    if field("identitytoken").is_some() {
        return Ok(Lookup::Anonymous(format!(
            "{shown}: auths[{key:?}] holds an identitytoken (OAuth refresh token), which doctor does not exchange; it probes anonymously"
        )));
    }
    Err(Unusable::NoCredentials {
        shown,
        key: key.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, registry: &str) -> Option<(String, String)> {
        match parse(text, Path::new("config.json"), registry) {
            Ok(Lookup::Found(c)) => Some((c.username, c.password.0)),
            _ => None,
        }
    }

    #[test]
    fn auth_and_username_password_entries() {
        // base64("ci-bot:pa:ss") — a colon in the password is kept.
        let text = r#"{"auths":{"h:5000":{"auth":"Y2ktYm90OnBhOnNz"}}}"#;
        assert_eq!(
            found(text, "h:5000"),
            Some(("ci-bot".into(), "pa:ss".into()))
        );
        assert_eq!(found(text, "h"), None);
        let text = r#"{"auths":{"https://h/v1/":{"username":"u","password":"p"}}}"#;
        assert_eq!(found(text, "h"), Some(("u".into(), "p".into())));
        // The exact key wins over an earlier one that normalises to it, as in
        // docker/cli's file store; a key's port must be the registry's.
        let text = r#"{"auths":{"https://h/v1/":{"username":"u1","password":"p"},"h":{"username":"u2","password":"p"}}}"#;
        assert_eq!(found(text, "h"), Some(("u2".into(), "p".into())));
        assert_eq!(found(text, "h:5000"), None);
        // Docker Hub: only its v1 key.
        let text = r#"{"auths":{"docker.io":{"username":"a","password":"b"},"https://index.docker.io/v1/":{"username":"hub","password":"b"}}}"#;
        assert_eq!(found(text, "docker.io"), Some(("hub".into(), "b".into())));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s:?}"), "****");
    }

    #[test]
    fn notes_and_errors_never_carry_the_secret() {
        let text = r#"{"auths":{"h":{"auth":"!!not-base64-hunter2"}}}"#;
        let e = parse(text, Path::new("c.json"), "h")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("not base64") && !e.contains("hunter2"), "{e}");
        let text = r#"{"auths":{"other":{"auth":"eDp5"}},"credsStore":"desktop"}"#;
        match parse(text, Path::new("c.json"), "h") {
            Ok(Lookup::Anonymous(note)) => {
                assert!(note.contains("docker-credential-desktop") && note.contains("other"))
            }
            _ => panic!("expected an anonymous lookup"),
        }
        assert!(parse("{not json", Path::new("c.json"), "h").is_err());
        assert!(parse("- a list", Path::new("c.json"), "h").is_err());
    }

    #[test]
    fn secrets_as_kubectl_prints_them() {
        // {"auths":{"h:5000":{"auth":"dTpw"}}} = u:p
        let inner = base64::engine::general_purpose::STANDARD
            .encode(r#"{"auths":{"h:5000":{"auth":"dTpw"}}}"#);
        let yaml = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: harbor-push\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {inner}\n"
        );
        assert_eq!(found(&yaml, "h:5000"), Some(("u".into(), "p".into())));
        let json = format!(
            r#"{{"apiVersion":"v1","kind":"Secret","data":{{".dockerconfigjson":"{inner}"}}}}"#
        );
        assert_eq!(found(&json, "h:5000"), Some(("u".into(), "p".into())));
        let string_data = r#"{"kind":"Secret","stringData":{"config.json":"{\"auths\":{\"h\":{\"username\":\"a\",\"password\":\"b\"}}}"}}"#;
        assert_eq!(found(string_data, "h"), Some(("a".into(), "b".into())));
        let opaque = "kind: Secret\ndata:\n  token: eDp5\n";
        let e = parse(opaque, Path::new("s.yaml"), "h")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("without .dockerconfigjson"), "{e}");
    }
}
