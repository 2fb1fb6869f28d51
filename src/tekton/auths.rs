//! The check on the docker-registry Secret: does it hold an `auths` entry that
//! buildctl's credential lookup finds for the registry? Without one, buildctl fetches
//! its token anonymously and the push is answered 401: the next silent failure after
//! the realm.
//!
//! How buildctl looks credentials up, as read upstream:
//!
//! - buildctl loads `$DOCKER_CONFIG/config.json` with docker/cli's config library and,
//!   for each token or credentials request, asks it for the registry host of the
//!   request: `host[:port]` as the image reference names it (moby/buildkit
//!   `session/auth/authprovider/authprovider.go` `getAuthConfig`, `req.Host`), with
//!   Docker Hub's `registry-1.docker.io` asked for as `https://index.docker.io/v1/`
//!   (`dockerHubConfigfileKey`, same file).
//! - docker/cli (v28.5.0, the version moby/buildkit v0.26 vendors)
//!   `cli/config/configfile/file.go` `GetAuthConfig` → `GetCredentialsStore`: a
//!   credential helper named by `credHelpers[host]`, else by `credsStore`, else the
//!   file store; `cli/config/credentials/file_store.go` `Get`: `auths[host]` exactly,
//!   else the first key (in Go's map order) whose `ConvertToHostname` is `host`: the
//!   key with its scheme and path dropped and its port kept. The host asked for is not
//!   normalised, so `h` never finds `h:5000` and `h:5000` never finds `h`.
//! - `LoadFromReader` (file.go) decodes each entry's `auth` into user and password and
//!   fails the whole load on one it cannot decode; buildctl then only prints a warning
//!   and goes on with what it read (cli/config/config.go `LoadDefaultConfigFile`).
//! - buildctl sends an entry's `registrytoken` as the token itself, else its
//!   `identitytoken`, else its user and password (authprovider.go `FetchToken`,
//!   `credentials`): an entry with none of them sends nothing.
//!
//! Every `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`) and
//! `kubernetes.io/dockercfg` (`.dockercfg`) Secret of the Task's namespace is judged,
//! since any of them may be the one bound to the Task; one with entries for other
//! registries only is an error when a TaskRun of the output binds it to the Task (or a
//! PipelineRun, through its Pipeline), and a warning otherwise (it may be a pull Secret for another registry). Keys (host names) are printed; values
//! (`auth`, passwords, tokens) never are, not even in part.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::chain;
use super::docker_config::{self, Unreadable};
use super::task::DOCKER_CONFIG;
use crate::codes::Code;
use crate::endpoint::{Registry, split_port};
use crate::krm::{FnResult, ResourceRef};
use crate::output::Output;
use crate::spec::Spec;

/// Docker Hub's key in a docker config (moby/buildkit
/// `session/auth/authprovider/authprovider.go` `dockerHubConfigfileKey`).
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The key buildctl asks docker/cli for, for a registry that image references write
/// as `authority`.
///
/// Docker Hub: distribution/reference `normalize.go` turns `index.docker.io` into
/// `docker.io`, moby/buildkit `util/resolver/resolver.go` dials `docker.io` as
/// `registry-1.docker.io`, and authprovider.go asks for that host as
/// [`DOCKER_HUB_KEY`]. Every other registry is asked for as written.
pub(crate) fn lookup_key(authority: &str) -> String {
    match authority {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY.to_string(),
        other => other.to_string(),
    }
}

/// docker/cli `cli/config/credentials/file_store.go` `ConvertToHostname` (v28.5.0): a
/// key holding `://` is parsed as a URL and becomes its host, with its port when it
/// has one (`net.JoinHostPort`); any other key, or one Go's `url.Parse` refuses,
/// becomes what precedes its first `/`.
pub(crate) fn convert_to_hostname(key: &str) -> String {
    if key.contains("://") {
        if let Some(host) = url_host(key) {
            return host;
        }
    }
    key.split('/').next().unwrap_or(key).to_string()
}

/// `net.JoinHostPort(u.Hostname(), u.Port())` (or `u.Hostname()` without a port) of
/// Go's `url.Parse(key)`; `None` where Go's parse fails or the host is empty. Read from
/// Go's net/url `Parse`: control bytes are refused; the fragment and the query are cut;
/// a scheme is a letter then letters, digits, `+`, `-`, `.`; the authority follows `//`
/// up to the next `/`, without its user info; a port is digits only; a host holds no
/// ASCII byte that a host must escape.
fn url_host(key: &str) -> Option<String> {
    if key.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let key = key.split('#').next().unwrap_or(key);
    let (scheme, rest) = key.split_once(':')?;
    let mut letters = scheme.bytes();
    let scheme_ok = letters.next().is_some_and(|b| b.is_ascii_alphabetic())
        && letters.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return None;
    }
    let rest = rest.split('?').next().unwrap_or(rest);
    let authority = rest.strip_prefix("//")?.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (inside, after) = v6.split_once(']')?;
            let port = match after {
                "" => "",
                p => p.strip_prefix(':')?,
            };
            (inside, port)
        }
        None => match host_port.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (host_port, ""),
        },
    };
    if !port.bytes().all(|b| b.is_ascii_digit()) || !host.bytes().all(host_byte_ok) {
        return None;
    }
    if host.is_empty() {
        return None;
    }
    Some(match (port.is_empty(), host.contains(':')) {
        (true, _) => host.to_string(),
        (false, true) => format!("[{host}]:{port}"),
        (false, false) => format!("{host}:{port}"),
    })
}

/// A byte Go's net/url accepts unescaped in a host (`shouldEscape` in `encodeHost`
/// mode; `%` starts an escape, and bytes above ASCII pass).
fn host_byte_ok(b: u8) -> bool {
    b >= 0x80 || b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"%".contains(&b)
}

/// A key as messages print it: quoted, with any user info of a URL key (`https://user:
/// token@host/`, which `ConvertToHostname` drops) masked, since it may be a secret.
pub(crate) fn shown(key: &str) -> String {
    let masked = match key.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://****{}", &rest[at..]),
                None => key.to_string(),
            }
        }
        None => key.to_string(),
    };
    format!("{masked:?}")
}

/// How a key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found<'k> {
    /// `auths[lookup]` itself.
    Exact(&'k str),
    /// Keys whose [`convert_to_hostname`] is the lookup, in the file's order. docker/cli
    /// takes the first its map iteration yields, which Go randomises: any of them.
    Normalised(Vec<&'k str>),
}

impl Found<'_> {
    /// The key read (for several normalised ones, the first in the file).
    pub(crate) fn key(&self) -> &str {
        match self {
            Found::Exact(k) => k,
            Found::Normalised(keys) => keys.first().copied().unwrap_or(""),
        }
    }

    pub(crate) fn how(&self) -> &'static str {
        match self {
            Found::Exact(_) => "exact match",
            Found::Normalised(_) => {
                "matched once normalised: scheme and path dropped, port kept, as docker/cli's file store compares keys"
            }
        }
    }
}

/// The key docker/cli's file store finds for `lookup` among `keys` (file_store.go
/// `Get`): the exact key, else the normalised ones.
pub(crate) fn find<'k>(keys: impl IntoIterator<Item = &'k str>, lookup: &str) -> Option<Found<'k>> {
    let keys: Vec<&str> = keys.into_iter().collect();
    if let Some(k) = keys.iter().find(|k| **k == lookup) {
        return Some(Found::Exact(k));
    }
    let normalised: Vec<&str> = keys
        .into_iter()
        .filter(|k| convert_to_hostname(k) == lookup)
        .collect();
    (!normalised.is_empty()).then_some(Found::Normalised(normalised))
}

/// A field of a JSON object as Go's encoding/json finds a struct field: the exact
/// name, else one that differs only in case.
pub(crate) fn field<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The two Secret types that hold docker credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `kubernetes.io/dockerconfigjson`: `.dockerconfigjson` holds a config.json.
    ConfigJson,
    /// `kubernetes.io/dockercfg`: `.dockercfg` holds the legacy `~/.dockercfg`, the
    /// entries at the top level with no `auths` around them.
    Cfg,
}

impl Format {
    fn of(secret: &Value) -> Option<Format> {
        match secret.get("type").and_then(Value::as_str)? {
            "kubernetes.io/dockerconfigjson" => Some(Format::ConfigJson),
            "kubernetes.io/dockercfg" => Some(Format::Cfg),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Format::ConfigJson => ".dockerconfigjson",
            Format::Cfg => ".dockercfg",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Format::ConfigJson => "kubernetes.io/dockerconfigjson",
            Format::Cfg => "kubernetes.io/dockercfg",
        }
    }
}

/// What an entry would make buildctl send, by the fields that hold it (never their
/// values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sends {
    RegistryToken,
    IdentityToken,
    /// A user and password, from `auth` or from `username`/`password`.
    Password(&'static str),
    Nothing(&'static str),
    /// An `auth` that docker/cli's `decodeAuth` refuses, which fails the whole load.
    BadAuth(&'static str),
}

/// The fields of docker/cli's `types.AuthConfig` (cli/config/types/authconfig.go),
/// all strings: another type fails the whole load.
const AUTH_FIELDS: [&str; 7] = [
    "username",
    "password",
    "auth",
    "email",
    "serveraddress",
    "identitytoken",
    "registrytoken",
];

/// A docker config that docker/cli loads: its entries in the file's order, and the
/// credential helper it names for the lookup, if any.
struct Config {
    entries: Map<String, Value>,
    helper: Option<(String, &'static str)>,
}

/// Why docker/cli would not load the text. No variant holds a value of the config,
/// only its keys (shown through [`shown`]), so no secret reaches a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NotLoaded {
    /// Not JSON: where serde_json stopped, and whether the text ended too early.
    NotJson {
        eof: bool,
        line: usize,
        column: usize,
    },
    /// JSON but not an object (`kind` of value).
    NotObject {
        kind: &'static str,
        format: Format,
    },
    AuthsNotObject {
        kind: &'static str,
    },
    EntryNotObject {
        key: String,
        kind: &'static str,
    },
    FieldNotString {
        key: String,
        name: &'static str,
        kind: &'static str,
    },
    BadAuth {
        key: String,
        why: &'static str,
    },
}

impl std::fmt::Display for NotLoaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotLoaded::NotJson { eof, line, column } => write!(
                f,
                "is not JSON ({} at line {line} column {column})",
                if *eof {
                    "it ends too early"
                } else {
                    "a syntax error"
                }
            ),
            NotLoaded::NotObject { kind, format } => write!(
                f,
                "is JSON but not an object ({kind}): a docker config is an object{}",
                match format {
                    Format::ConfigJson => " with auths",
                    Format::Cfg => " of registry entries",
                }
            ),
            NotLoaded::AuthsNotObject { kind } => write!(
                f,
                "has auths that is {kind}, not an object: docker/cli cannot load it (cli/config/configfile/file.go LoadFromReader)"
            ),
            NotLoaded::EntryNotObject { key, kind } => write!(
                f,
                "has an entry {} that is {kind}, not an object: docker/cli cannot load it",
                shown(key)
            ),
            NotLoaded::FieldNotString { key, name, kind } => write!(
                f,
                "has {name} of entry {} as {kind}, not a string: docker/cli cannot load it",
                shown(key)
            ),
            NotLoaded::BadAuth { key, why } => write!(
                f,
                "has an entry {} whose auth {why}: docker/cli's LoadFromReader (cli/config/configfile/file.go decodeAuth) fails on it, and buildctl, after a warning, goes on without the credentials it had not decoded yet (Go's map order decides which)",
                shown(key)
            ),
        }
    }
}

/// The docker config in `text`, or why docker/cli would not load it.
fn load(text: &str, format: Format, lookup: &str) -> Result<Config, NotLoaded> {
    let top: Value = serde_json::from_str(text).map_err(|e| NotLoaded::NotJson {
        eof: e.classify() == serde_json::error::Category::Eof,
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(top) = top else {
        return Err(NotLoaded::NotObject {
            kind: kind(&top),
            format,
        });
    };
    let (entries, helper) = match format {
        Format::Cfg => (top, None),
        Format::ConfigJson => {
            let entries = match field(&top, "auths") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(other) => {
                    return Err(NotLoaded::AuthsNotObject { kind: kind(other) });
                }
            };
            // file.go getConfiguredCredentialStore: credHelpers[host], else credsStore.
            let named = |v: Option<&Value>| {
                v.and_then(Value::as_str)
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
            };
            let helper = field(&top, "credHelpers")
                .and_then(Value::as_object)
                .and_then(|m| named(m.get(lookup)))
                .map(|h| (h, "credHelpers"))
                .or_else(|| named(field(&top, "credsStore")).map(|h| (h, "credsStore")));
            (entries, helper)
        }
    };
    for (key, entry) in &entries {
        let Some(object) = entry.as_object() else {
            if entry.is_null() {
                continue;
            }
            return Err(NotLoaded::EntryNotObject {
                key: key.clone(),
                kind: kind(entry),
            });
        };
        for name in AUTH_FIELDS {
            match field(object, name) {
                None | Some(Value::Null | Value::String(_)) => {}
                Some(other) => {
                    return Err(NotLoaded::FieldNotString {
                        key: key.clone(),
                        name,
                        kind: kind(other),
                    });
                }
            }
        }
        if let Sends::BadAuth(why) = sends(object) {
            return Err(NotLoaded::BadAuth {
                key: key.clone(),
                why,
            });
        }
    }
    Ok(Config { entries, helper })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// What buildctl sends for an entry (authprovider.go `FetchToken`: `registrytoken`
/// first; `credentials`: `identitytoken`, else user and password). `auth` is decoded as
/// docker/cli's `decodeAuth` does: standard base64 of `user:password`, the user not
/// empty, and it replaces `username` and `password`.
fn sends(entry: &Map<String, Value>) -> Sends {
    let text = |name: &str| {
        field(entry, name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if text("registrytoken").is_some() {
        return Sends::RegistryToken;
    }
    if text("identitytoken").is_some() {
        return Sends::IdentityToken;
    }
    if let Some(auth) = text("auth") {
        let Ok(bytes) = docker_config::go_base64(auth) else {
            return Sends::BadAuth("is not base64");
        };
        let Some(colon) = bytes.iter().position(|&b| b == b':') else {
            return Sends::BadAuth("does not decode to user:password");
        };
        if colon == 0 {
            return Sends::BadAuth("decodes to an empty user");
        }
        // decodeAuth trims NUL bytes from the password.
        let password_empty = bytes[colon + 1..].iter().all(|&b| b == 0);
        return if password_empty {
            Sends::Nothing("its auth decodes to a user with an empty password")
        } else {
            Sends::Password("auth")
        };
    }
    if text("password").is_some() {
        return Sends::Password("username/password");
    }
    Sends::Nothing(if text("username").is_some() {
        "it has a username but no password"
    } else {
        "it has no auth, username/password, identitytoken or registrytoken"
    })
}

/// Runs the check on every docker-registry Secret of the output.
pub(crate) fn run(spec: &Spec, output: &Output, out: &mut Vec<FnResult>) {
    let task = &spec.tekton;
    let bound = || bound_secrets(&task.task_name, &task.namespace, output);
    judge_secrets(&spec.endpoint.registry, &task.namespace, bound, output, out);
}

/// Judges the docker Secrets of `namespace` for `registry`; `bound` lists the ones a
/// run binds to the Task (asked only when there are Secrets to judge).
fn judge_secrets(
    registry: &Registry,
    namespace: &str,
    bound: impl FnOnce() -> Vec<String>,
    output: &Output,
    out: &mut Vec<FnResult>,
) {
    let authority = registry.authority();
    let lookup = lookup_key(&authority);
    // Only a Secret whose text names a docker type can be one; the text test keeps the
    // parse to those. A Secret in another namespace than the Task's is not one its
    // pods can mount.
    let candidates: Vec<usize> = output
        .find(|id| id.is("", "Secret") && id.in_namespace(namespace))
        .filter(|&i| output.mentions(i, "kubernetes.io/docker"))
        .collect();
    if candidates.is_empty() {
        return;
    }
    let bound = bound();
    for i in candidates {
        let Some(secret) = output.value(i) else {
            continue;
        };
        let Some(format) = Format::of(&secret) else {
            continue;
        };
        let judged = Judged {
            resource: output.resource_ref(i),
            format,
            authority: &authority,
            lookup: &lookup,
            bound: bound.iter().any(|b| b == output.identity(i).name),
        };
        judged.judge(&secret, out);
    }
}

/// The Secrets that runs of the output bind to the dockerconfig workspace of Task
/// `task` (by `taskRef`) in `namespace`: a TaskRun directly, a PipelineRun through a
/// Pipeline (its `pipelineSpec`, or the Pipeline of the output its `pipelineRef`
/// names) whose task maps `dockerconfig` to one of the Pipeline's workspaces, the one
/// of the same name when the mapping names none (tektoncd/pipeline
/// pkg/apis/pipeline/v1/pipeline_validation.go `validateWorkspaces`).
fn bound_secrets(task: &str, namespace: &str, output: &Output) -> Vec<String> {
    let of_kind = |kind: &'static str| {
        output.find(move |id| id.is("tekton.dev", kind) && id.in_namespace(namespace))
    };
    let mut secrets: Vec<String> = of_kind("TaskRun")
        .filter(|&i| output.mentions(i, task))
        .filter_map(|i| output.value(i))
        .filter(|v| v.get("spec").is_some_and(|s| chain::runs_task(s, task)))
        .flat_map(|v| secret_of(v.pointer("/spec/workspaces"), DOCKER_CONFIG))
        .collect();
    // The Pipelines that run the Task, by name, each read once (the first of a name
    // wins, as a lookup by name would find it).
    let mut pipelines: HashMap<&str, Option<Cow<'_, Value>>> = HashMap::new();
    for i in of_kind("Pipeline").filter(|&i| output.mentions(i, task)) {
        pipelines
            .entry(output.identity(i).name)
            .or_insert_with(|| output.value(i));
    }
    for run in of_kind("PipelineRun").filter_map(|i| output.value(i)) {
        let pipeline = match run.pointer("/spec/pipelineSpec") {
            Some(inline) => Some(inline),
            None => run
                .pointer("/spec/pipelineRef/name")
                .and_then(Value::as_str)
                .and_then(|name| pipelines.get(name)?.as_deref()?.get("spec")),
        };
        let Some(pipeline) = pipeline else { continue };
        let mapped = chain::tasks_running(pipeline, task)
            .filter_map(|(_, _, t)| t.get("workspaces")?.as_array())
            .flatten()
            .filter(|w| w.get("name").and_then(Value::as_str) == Some(DOCKER_CONFIG))
            .filter_map(|w| {
                w.get("workspace")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .or(Some(DOCKER_CONFIG))
            });
        for workspace in mapped {
            secrets.extend(secret_of(run.pointer("/spec/workspaces"), workspace));
        }
    }
    secrets
}

/// The Secret that the binding named `workspace` in `bindings` mounts, if any.
fn secret_of(bindings: Option<&Value>, workspace: &str) -> Option<String> {
    bindings?
        .as_array()?
        .iter()
        .find(|w| w.get("name").and_then(Value::as_str) == Some(workspace))?
        .pointer("/secret/secretName")?
        .as_str()
        .map(str::to_string)
}

/// One Secret under judgement. Its findings are on it (their resourceRef names it,
/// and every renderer prints that before the message), so messages start with the key.
struct Judged<'a> {
    resource: ResourceRef,
    format: Format,
    authority: &'a str,
    lookup: &'a str,
    /// A TaskRun or PipelineRun of the output binds it to the Task's dockerconfig workspace. When not,
    /// it may well be another registry's (a pull Secret for docker.io beside it): it
    /// not matching ours is a warning, not an error.
    bound: bool,
}

impl Judged<'_> {
    /// An entry for another registry only: an error for the Secret bound to the Task.
    fn no_match(&self, code: Code, message: String) -> FnResult {
        if self.bound {
            FnResult::error(code, message)
        } else {
            FnResult::warning(
                code,
                format!(
                    "{message} (if this is the Secret you bind to the Task's dockerconfig workspace: no TaskRun or PipelineRun in the input says)"
                ),
            )
        }
    }

    fn push(&self, finding: FnResult, path: &str, out: &mut Vec<FnResult>) {
        out.push(finding.on(self.resource.clone()).at(path));
    }

    /// The fix: an entry keyed as buildctl asks.
    fn fix(&self) -> String {
        let key = self.lookup;
        format!(
            "add an entry keyed {key:?} (the registry's host[:port] exactly as image references write it), e.g. kubectl create secret docker-registry NAME --docker-server={key} --docker-username=USER --docker-password=PASSWORD"
        )
    }

    /// What buildctl asks for, in words.
    fn asks(&self) -> String {
        if self.lookup == self.authority {
            format!(
                "buildctl asks docker/cli for {:?} (the key exactly, else each key with its scheme and path dropped and its port kept)",
                self.lookup
            )
        } else {
            format!(
                "buildctl asks docker/cli for Docker Hub ({}) as {:?}, which only that very key matches (a normalised key never has a scheme)",
                self.authority, self.lookup
            )
        }
    }

    fn judge(&self, secret: &Value, out: &mut Vec<FnResult>) {
        let key = self.format.key();
        let type_name = self.format.type_name();
        let Some((from, text)) = docker_config::secret_text(secret, key) else {
            self.push(
                FnResult::error(Code::AuthNoKey, format!(
                    "the Secret is of type {type_name} but has no {key} in data or stringData: buildctl would find no credentials in it (the API server also refuses such a Secret); put the docker config under {key}"
                )),
                "data",
                out,
            );
            return;
        };
        let path = format!("{from}.{key}");
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                let why = match e {
                    Unreadable::NotBase64 => {
                        " (data values are base64 of the file; stringData takes it as text)"
                    }
                    _ => "",
                };
                self.push(
                    FnResult::error(Code::AuthUnreadable, format!(
                        "{path} {}{why}: there is no docker config to read, and buildctl would push without credentials",
                        e.describe()
                    )),
                    &path,
                    out,
                );
                return;
            }
        };
        let config = match load(&text, self.format, self.lookup) {
            Ok(c) => c,
            Err(why) => {
                self.push(
                    FnResult::error(Code::AuthInvalid, format!(
                        "{path} {why}; buildctl would push without those credentials: fix the docker config (kubectl create secret docker-registry writes a valid one)"
                    )),
                    &path,
                    out,
                );
                return;
            }
        };
        self.judge_config(&path, &config, out);
    }

    /// The findings on a docker config that loads: the entry buildctl's lookup finds,
    /// and what it sends.
    fn judge_config(&self, path: &str, config: &Config, out: &mut Vec<FnResult>) {
        let path = path.to_string();
        let keys: Vec<&str> = config.entries.keys().map(String::as_str).collect();
        let found = find(keys.iter().copied(), self.lookup);
        let listed = self.listed(&keys);
        if self.format == Format::Cfg {
            self.legacy(&path, &keys, found.as_ref(), &listed, out);
            return;
        }
        if let Some((helper, from_field)) = &config.helper {
            self.push(
                FnResult::warning(Code::AuthHelper, format!(
                    "{path} names the credential helper docker-credential-{helper} ({from_field}) for {:?}: docker/cli asks that helper instead of reading auths (cli/config/configfile/file.go GetCredentialsStore), and buildctl fails to get credentials unless the step's image has docker-credential-{helper} on its PATH; remove {from_field} to use the auths entry",
                    self.lookup
                )),
                &path,
                out,
            );
        }
        let Some(found) = found else {
            if keys.is_empty() {
                if config.helper.is_none() {
                    self.push(
                        FnResult::warning(Code::AuthNoEntries, format!(
                            "{path} has no auths entries: {}, finds none and would fetch its token anonymously (answered 401 on a push); {}",
                            self.asks(),
                            self.fix()
                        )),
                        &path,
                        out,
                    );
                }
                return;
            }
            self.push(
                self.no_match(Code::AuthNoMatch, format!(
                    "{path} has no auths entry that buildctl's credential lookup matches for {}: its keys are {listed}; {}, finds none and would fetch its token anonymously, so the push is answered 401; {}{}",
                    self.authority,
                    self.asks(),
                    self.port_hint(&keys),
                    self.fix()
                )),
                &path,
                out,
            );
            return;
        };
        let entry = config.entries.get(found.key()).and_then(Value::as_object);
        let sent = entry.map_or(Sends::Nothing("it is null"), sends);
        let matched = format!(
            "buildctl's credential lookup for {:?} finds auths[{}] ({})",
            self.lookup,
            shown(found.key()),
            found.how()
        );
        match sent {
            Sends::Nothing(why) | Sends::BadAuth(why) => self.push(
                FnResult::warning(Code::AuthNoCredentials, format!(
                    "{path}: {matched}, but {why}: buildctl sends no credentials and fetches its token anonymously (moby/buildkit session/auth/authprovider/authprovider.go); put the account's credentials in that entry (kubectl create secret docker-registry --docker-server={} ...)",
                    self.lookup
                )),
                &path,
                out,
            ),
            Sends::RegistryToken | Sends::IdentityToken | Sends::Password(_) => {
                let what = match sent {
                    Sends::RegistryToken => "a registrytoken, sent as the bearer token itself",
                    Sends::IdentityToken => "an identitytoken, sent to the token service",
                    Sends::Password("auth") => "a user and password (auth), sent to the token service",
                    _ => "a user and password (username/password), sent to the token service",
                };
                self.push(
                    FnResult::info(Code::AuthFound, format!("{path}: {matched}, with {what}")),
                    &path,
                    out,
                );
            }
        }
        // Several keys that normalise alike with different contents: Go's map order
        // picks one.
        if let Found::Normalised(all) = &found {
            let contents: Vec<&Value> = all.iter().filter_map(|k| config.entries.get(*k)).collect();
            if contents.windows(2).any(|w| w[0] != w[1]) {
                self.push(
                    FnResult::warning(Code::AuthConflicting, format!(
                        "{path}: the keys {} all normalise to {:?} and hold different credentials: docker/cli takes whichever Go's map iteration yields first, which changes from run to run; keep one entry, keyed {:?}",
                        self.listed(all),
                        self.lookup,
                        self.lookup
                    )),
                    &path,
                    out,
                );
            }
        }
    }

    /// A `kubernetes.io/dockercfg` Secret: buildctl reads none of it.
    fn legacy(
        &self,
        path: &str,
        keys: &[&str],
        found: Option<&Found>,
        listed: &str,
        out: &mut Vec<FnResult>,
    ) {
        // docker/cli reads only config.json, whose entries are under auths
        // (cli/config/config.go load, cli/config/configfile/file.go ConfigFile); the
        // legacy ~/.dockercfg reader (LegacyLoadFromReader) was removed in docker/cli
        // commit ee218fa89e (2020). The Task's step copies .dockerconfigjson or
        // config.json only (src/tekton/step.sh).
        let why = format!(
            "{path} is in the legacy format of a kubernetes.io/dockercfg Secret (its entries at the top level, no auths around them): buildctl reads only $DOCKER_CONFIG/config.json with an auths object (docker/cli dropped the ~/.dockercfg format in commit ee218fa89e), and the Task's step copies only .dockerconfigjson or config.json, so bound to the Task it gives buildctl no credentials"
        );
        let recreate = format!(
            "recreate it as a kubernetes.io/dockerconfigjson Secret: kubectl create secret docker-registry NAME --docker-server={} --docker-username=USER --docker-password=PASSWORD",
            self.lookup
        );
        let finding = match found {
            Some(f) => FnResult::warning(
                Code::AuthLegacy,
                format!(
                    "{why}; its entry {} would match {:?} ({}); {recreate}",
                    shown(f.key()),
                    self.lookup,
                    f.how()
                ),
            ),
            None if !keys.is_empty() => self.no_match(
                Code::AuthLegacy,
                format!(
                    "{why}; nor does any of its keys ({listed}) match {}: {}; {}{recreate}",
                    self.authority,
                    self.asks(),
                    self.port_hint(keys)
                ),
            ),
            None => FnResult::warning(
                Code::AuthLegacy,
                format!("{why}; it has no entries either; {recreate}"),
            ),
        };
        self.push(finding, path, out);
    }

    /// The keys, quoted, each with its normalised form when that differs.
    fn listed(&self, keys: &[&str]) -> String {
        if keys.is_empty() {
            return "none".to_string();
        }
        keys.iter()
            .map(|k| {
                let n = convert_to_hostname(k);
                if n == *k {
                    shown(k)
                } else {
                    format!("{} (normalised: {n:?})", shown(k))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A sentence for keys that name the registry's host with another port (or none).
    fn port_hint(&self, keys: &[&str]) -> String {
        let (host, port) = split_port(self.lookup);
        let mut hints = Vec::new();
        for k in keys {
            let normalised = convert_to_hostname(k);
            let (h, p) = split_port(&normalised);
            if h != host || p == port {
                continue;
            }
            hints.push(match (p, port) {
                (None, Some(want)) => format!(
                    "the key {} has no port, and the lookup is for port {want}: the port is part of the match",
                    shown(k)
                ),
                (Some(has), None) => format!(
                    "the key {} names port {has}, which the registry's image references do not write: the lookup is for {host} alone",
                    shown(k)
                ),
                (Some(has), Some(want)) => {
                    format!("the key {} names port {has}, not {want}", shown(k))
                }
                (None, None) => continue,
            });
        }
        if hints.is_empty() {
            String::new()
        } else {
            format!("{}; ", hints.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krm::{ResourceList, Severity};
    use base64::Engine;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    /// The auth of `ci-bot:hunter2-pass`: in no message.
    const AUTH: &str = "Y2ktYm90Omh1bnRlcjItcGFzcw==";
    const PASSWORD: &str = "hunter2-pass";

    fn registry(authority: &str) -> Registry {
        let (host, port) = split_port(authority);
        Registry {
            host: host.to_string(),
            port: port.and_then(|p| p.parse().ok()),
        }
    }

    /// The findings for `items` (YAML list entries at column 0) against `authority`.
    fn check(authority: &str, items: &str) -> Vec<FnResult> {
        let text =
            format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}");
        let rl = match ResourceList::parse(&text) {
            Ok(rl) => rl,
            Err(e) => panic!("input does not parse: {e:?}\n{text}"),
        };
        let output = Output::unchanged(&rl);
        let mut out = Vec::new();
        // Bound to the Task, as a TaskRun would: a Secret for another host is an error.
        let bound = || rl.items.iter().map(|i| i.name.to_string()).collect();
        judge_secrets(&registry(authority), "", bound, &output, &mut out);
        for f in &out {
            for secret in [AUTH, PASSWORD] {
                assert!(!f.message.contains(secret), "a secret in {}", f.message);
            }
        }
        out
    }

    /// A Secret of `type_` with `field: {key: value}`, `value` a YAML flow scalar.
    fn secret(name: &str, type_: &str, field: &str, key: &str, value: &str) -> String {
        format!(
            "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: {name}\n    namespace: ci\n  type: {type_}\n  {field}:\n    {key}: {value}\n"
        )
    }

    fn config_json(name: &str, json: &str) -> String {
        secret(
            name,
            "kubernetes.io/dockerconfigjson",
            "data",
            ".dockerconfigjson",
            &b64(json),
        )
    }

    fn auths(key: &str) -> String {
        format!(r#"{{"auths":{{"{key}":{{"auth":"{AUTH}"}}}}}}"#)
    }

    fn one(findings: &[FnResult]) -> &FnResult {
        assert_eq!(findings.len(), 1, "{findings:#?}");
        &findings[0]
    }

    #[test]
    fn keys_normalise_as_docker_cli_does() {
        for (key, host) in [
            ("https://h:5000/v2/", "h:5000"),
            ("http://h", "h"),
            ("https://h/", "h"),
            ("h:5000", "h:5000"),
            ("h:5000/v1/", "h:5000"),
            ("h", "h"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("https://user@h:443/path?x#y", "h:443"),
            ("HTTPS://H:5000", "H:5000"),
            ("https://[::1]:5000/", "[::1]:5000"),
            ("https://[::1]/", "::1"),
            // Go's url.Parse refuses these: what precedes the first '/'.
            ("https://h:port/", "https:"),
            ("https://bad host/", "https:"),
            ("https:///path", "https:"),
            ("1h://x/", "1h:"),
        ] {
            assert_eq!(convert_to_hostname(key), host, "{key}");
        }
    }

    #[test]
    fn the_lookup_matches_exactly_else_normalised_and_keeps_ports() {
        assert_eq!(
            find(["h:5000", "https://h:5000/"], "h:5000"),
            Some(Found::Exact("h:5000"))
        );
        assert_eq!(
            find(["https://h:5000/v2/", "http://h:5000"], "h:5000"),
            Some(Found::Normalised(vec![
                "https://h:5000/v2/",
                "http://h:5000"
            ]))
        );
        assert_eq!(
            find(["http://h"], "h"),
            Some(Found::Normalised(vec!["http://h"]))
        );
        // A key without the port never matches a registry with one, and the reverse.
        assert_eq!(find(["h", "https://h/"], "h:5000"), None);
        assert_eq!(find(["h:5000", "https://h:443/"], "h"), None);
        // Case counts: the lookup is compared as a string.
        assert_eq!(find(["H"], "h"), None);
    }

    #[test]
    fn docker_hub_is_asked_for_by_its_v1_key_only() {
        for authority in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            assert_eq!(lookup_key(authority), DOCKER_HUB_KEY);
        }
        assert_eq!(lookup_key("h:5000"), "h:5000");
        assert_eq!(
            find([DOCKER_HUB_KEY], DOCKER_HUB_KEY),
            Some(Found::Exact(DOCKER_HUB_KEY))
        );
        // Normalised keys carry no scheme, so nothing else finds Docker Hub.
        assert_eq!(
            find(
                [
                    "docker.io",
                    "index.docker.io",
                    "https://index.docker.io/v2/"
                ],
                DOCKER_HUB_KEY
            ),
            None
        );
        let f = check("docker.io", &config_json("hub", &auths("docker.io")));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .contains("Docker Hub (docker.io) as \"https://index.docker.io/v1/\"")
                && f.message
                    .contains("--docker-server=https://index.docker.io/v1/"),
            "{}",
            f.message
        );
        let f = check("docker.io", &config_json("hub", &auths(DOCKER_HUB_KEY)));
        assert_eq!(one(&f).severity, Severity::Info, "{f:#?}");
    }

    #[test]
    fn a_matching_entry_is_info_naming_the_key_and_how() {
        let f = check("h:5000", &config_json("push", &auths("h:5000")));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(
            f.field.as_ref().map(|p| p.path.as_str()),
            Some("data..dockerconfigjson")
        );
        assert!(
            f.message.starts_with("data..dockerconfigjson: buildctl's credential lookup for \"h:5000\" finds auths[\"h:5000\"] (exact match), with a user and password (auth)"),
            "{}",
            f.message
        );
        let f = check("h:5000", &config_json("push", &auths("https://h:5000/v2/")));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Info);
        assert!(
            f.message.contains("finds auths[\"https://h:5000/v2/\"] (matched once normalised: scheme and path dropped, port kept"),
            "{}",
            f.message
        );
    }

    #[test]
    fn no_matching_entry_is_an_error_with_the_keys_the_lookup_and_the_fix() {
        let json = format!(
            r#"{{"auths":{{"h":{{"auth":"{AUTH}"}},"https://ghcr.io/":{{"auth":"{AUTH}"}}}}}}"#
        );
        let f = check("h:5000", &config_json("push", &json));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        for phrase in [
            "data..dockerconfigjson has no auths entry that buildctl's credential lookup matches for h:5000",
            "its keys are \"h\", \"https://ghcr.io/\" (normalised: \"ghcr.io\")",
            "buildctl asks docker/cli for \"h:5000\"",
            "the key \"h\" has no port, and the lookup is for port 5000",
            "add an entry keyed \"h:5000\"",
            "kubectl create secret docker-registry NAME --docker-server=h:5000",
        ] {
            assert!(
                f.message.contains(phrase),
                "lacks {phrase:?}:\n{}",
                f.message
            );
        }
        // The registry without a port, a key with one.
        let f = check("h", &config_json("push", &auths("h:443")));
        assert!(
            one(&f).message.contains("the key \"h:443\" names port 443, which the registry's image references do not write"),
            "{f:#?}"
        );
        // No entries at all: a warning (nothing for any host).
        let f = check("h", &config_json("push", r#"{"auths":{}}"#));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("has no auths entries"), "{}", f.message);
    }

    #[test]
    fn data_and_string_data_are_both_read_and_string_data_wins() {
        let json = auths("h");
        let in_string_data = format!(
            "- apiVersion: v1\n  kind: Secret\n  metadata: {{name: s, namespace: ci}}\n  type: kubernetes.io/dockerconfigjson\n  stringData:\n    .dockerconfigjson: '{json}'\n"
        );
        let f = check("h", &in_string_data);
        let f = one(&f);
        assert_eq!(f.severity, Severity::Info, "{}", f.message);
        assert_eq!(
            f.field.as_ref().map(|p| p.path.as_str()),
            Some("stringData..dockerconfigjson")
        );
        // Both: the API server keeps stringData's.
        let both = format!(
            "- apiVersion: v1\n  kind: Secret\n  metadata: {{name: s, namespace: ci}}\n  type: kubernetes.io/dockerconfigjson\n  data:\n    .dockerconfigjson: {}\n  stringData:\n    .dockerconfigjson: '{json}'\n",
            b64(&auths("other"))
        );
        assert_eq!(one(&check("h", &both)).severity, Severity::Info);
        // A data value folded over lines reads, as Go's base64 ignores line breaks.
        let encoded = b64(&json);
        let (a, b) = encoded.split_at(20);
        let folded = format!(
            "- apiVersion: v1\n  kind: Secret\n  metadata: {{name: s, namespace: ci}}\n  type: kubernetes.io/dockerconfigjson\n  data:\n    .dockerconfigjson: |\n      {a}\n      {b}\n"
        );
        assert_eq!(one(&check("h", &folded)).severity, Severity::Info);
        // Other Secret types are not judged.
        let opaque = secret("o", "Opaque", "data", ".dockerconfigjson", "bm90LWpzb24=");
        assert!(check("h", &opaque).is_empty());
    }

    #[test]
    fn unreadable_values_are_errors_naming_the_secret_and_key_only() {
        let not_base64 = secret(
            "s",
            "kubernetes.io/dockerconfigjson",
            "data",
            ".dockerconfigjson",
            "'!!hunter2-pass'",
        );
        let f = check("h", &not_base64);
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .starts_with("data..dockerconfigjson is not base64"),
            "{}",
            f.message
        );
        // base64 of text that is not JSON.
        let not_json = secret(
            "s",
            "kubernetes.io/dockerconfigjson",
            "data",
            ".dockerconfigjson",
            &b64("hunter2-pass"),
        );
        let f = check("h", &not_json);
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .contains("data..dockerconfigjson is not JSON (a syntax error at line 1 column"),
            "{}",
            f.message
        );
        // Not UTF-8.
        let binary = secret(
            "s",
            "kubernetes.io/dockerconfigjson",
            "data",
            ".dockerconfigjson",
            &base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe]),
        );
        assert!(
            one(&check("h", &binary))
                .message
                .contains("is not text (UTF-8)")
        );
        // JSON, but a list.
        let f = check("h", &config_json("s", "[1]"));
        assert!(
            one(&f)
                .message
                .contains("is JSON but not an object (a list)")
        );
        // The key is missing.
        let f = check(
            "h",
            &secret(
                "s",
                "kubernetes.io/dockerconfigjson",
                "data",
                "config.json",
                &b64(&auths("h")),
            ),
        );
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .contains("has no .dockerconfigjson in data or stringData"),
            "{}",
            f.message
        );
        // An auth that does not decode fails docker/cli's whole load.
        let bad_auth = r#"{"auths":{"h":{"auth":"!!hunter2-pass"}}}"#;
        let f = check("h", &config_json("s", bad_auth));
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .contains("has an entry \"h\" whose auth is not base64"),
            "{}",
            f.message
        );
        let no_colon = format!(
            r#"{{"auths":{{"h":{{"auth":"{}"}}}}}}"#,
            b64("hunter2-pass")
        );
        assert!(
            one(&check("h", &config_json("s", &no_colon)))
                .message
                .contains("does not decode to user:password")
        );
        // A field of the wrong type.
        let f = check("h", &config_json("s", r#"{"auths":{"h":{"password":5}}}"#));
        assert!(
            one(&f)
                .message
                .contains("has password of entry \"h\" as a number, not a string"),
            "{f:#?}"
        );
    }

    #[test]
    fn entries_without_credentials_are_warnings() {
        for (entry, why) in [
            (
                r#"{"email":"a@b"}"#,
                "it has no auth, username/password, identitytoken or registrytoken",
            ),
            (
                r#"{"username":"ci-bot"}"#,
                "it has a username but no password",
            ),
            (
                &format!(r#"{{"auth":"{}"}}"#, b64("ci-bot:")),
                "its auth decodes to a user with an empty password",
            ),
        ] {
            let f = check(
                "h",
                &config_json("s", &format!(r#"{{"auths":{{"h":{entry}}}}}"#)),
            );
            let f = one(&f);
            assert_eq!(f.severity, Severity::Warning, "{entry}");
            assert!(
                f.message.contains(why) && f.message.contains("buildctl sends no credentials"),
                "{}",
                f.message
            );
        }
        for (entry, what) in [
            (r#"{"identitytoken":"hunter2-pass"}"#, "an identitytoken"),
            (r#"{"registrytoken":"hunter2-pass"}"#, "a registrytoken"),
            (
                r#"{"username":"ci-bot","password":"hunter2-pass"}"#,
                "(username/password)",
            ),
            // Go's encoding/json matches field names case-insensitively.
            (r#"{"Auth":"Y2ktYm90Omh1bnRlcjItcGFzcw=="}"#, "(auth)"),
        ] {
            let f = check(
                "h",
                &config_json("s", &format!(r#"{{"Auths":{{"h":{entry}}}}}"#)),
            );
            let f = one(&f);
            assert_eq!(f.severity, Severity::Info, "{entry}");
            assert!(f.message.contains(what), "{}", f.message);
        }
    }

    #[test]
    fn a_credential_helper_for_the_host_is_a_warning() {
        let json = format!(r#"{{"auths":{{"h":{{"auth":"{AUTH}"}}}},"credsStore":"desktop"}}"#);
        let f = check("h", &config_json("s", &json));
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].severity == Severity::Warning
                && f[0]
                    .message
                    .contains("docker-credential-desktop (credsStore)"),
            "{f:#?}"
        );
        assert_eq!(f[1].severity, Severity::Info);
        // credHelpers for another host leaves this one to auths.
        let json = format!(
            r#"{{"auths":{{"h":{{"auth":"{AUTH}"}}}},"credHelpers":{{"gcr.io":"gcloud"}}}}"#
        );
        assert_eq!(
            one(&check("h", &config_json("s", &json))).severity,
            Severity::Info
        );
    }

    #[test]
    fn normalised_keys_with_different_credentials_are_a_warning() {
        let json = format!(
            r#"{{"auths":{{"https://h/":{{"auth":"{AUTH}"}},"http://h/v2/":{{"username":"other","password":"hunter2-pass"}}}}}}"#
        );
        let f = check("h", &config_json("s", &json));
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(
            f[1].severity == Severity::Warning && f[1].message.contains("all normalise to \"h\""),
            "{f:#?}"
        );
        // The same credentials twice: nothing to warn about.
        let json = format!(
            r#"{{"auths":{{"https://h/":{{"auth":"{AUTH}"}},"http://h":{{"auth":"{AUTH}"}}}}}}"#
        );
        assert_eq!(check("h", &config_json("s", &json)).len(), 1);
    }

    #[test]
    fn dockercfg_secrets_are_legacy_and_read_without_auths() {
        let cfg = |entries: &str| {
            secret(
                "legacy",
                "kubernetes.io/dockercfg",
                "data",
                ".dockercfg",
                &b64(entries),
            )
        };
        // Its entries match: still a warning, since buildctl never reads it.
        let f = check(
            "h:5000",
            &cfg(&format!(r#"{{"https://h:5000":{{"auth":"{AUTH}"}}}}"#)),
        );
        let f = one(&f);
        assert_eq!(f.severity, Severity::Warning);
        for phrase in [
            "data..dockercfg is in the legacy format of a kubernetes.io/dockercfg Secret",
            "docker/cli dropped the ~/.dockercfg format",
            "its entry \"https://h:5000\" would match \"h:5000\" (matched once normalised",
            "recreate it as a kubernetes.io/dockerconfigjson Secret: kubectl create secret docker-registry NAME --docker-server=h:5000",
        ] {
            assert!(
                f.message.contains(phrase),
                "lacks {phrase:?}:\n{}",
                f.message
            );
        }
        // Entries for other hosts only: an error.
        let f = check(
            "h:5000",
            &cfg(&format!(r#"{{"ghcr.io":{{"auth":"{AUTH}"}}}}"#)),
        );
        let f = one(&f);
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message
                .contains("nor does any of its keys (\"ghcr.io\") match h:5000"),
            "{}",
            f.message
        );
        // An `auths` wrapper in a .dockercfg is one more (odd) host key.
        let f = check("h", &cfg(&auths("h")));
        assert_eq!(one(&f).severity, Severity::Error, "{f:#?}");
    }

    #[test]
    fn user_info_in_a_key_is_masked() {
        assert_eq!(
            shown("https://u:hunter2-pass@h/v2/"),
            r#""https://****@h/v2/""#
        );
        assert_eq!(shown("https://h/a@b"), r#""https://h/a@b""#);
        assert_eq!(shown("h:5000"), r#""h:5000""#);
        // The key matches (ConvertToHostname drops the user info), and prints masked.
        let f = check(
            "h",
            &config_json("s", &auths("https://ci-bot:hunter2-pass@h/")),
        );
        let f = one(&f);
        assert_eq!(f.severity, Severity::Info);
        assert!(
            f.message.contains(r#"finds auths["https://****@h/"]"#),
            "{}",
            f.message
        );
        let f = check(
            "other",
            &config_json("s", &auths("https://ci-bot:hunter2-pass@h/")),
        );
        assert!(
            one(&f)
                .message
                .contains(r#""https://****@h/" (normalised: "h")"#)
        );
    }

    #[test]
    fn several_secrets_are_judged_each() {
        let items = config_json("ours", &auths("h")) + &config_json("theirs", &auths("ghcr.io"));
        let f = check("h", &items);
        assert_eq!(f.len(), 2, "{f:#?}");
        let by = |name: &str| {
            f.iter()
                .find(|r| r.resource.as_ref().is_some_and(|r| r.name == name))
                .map(|r| r.severity)
        };
        assert_eq!(by("ours"), Some(Severity::Info));
        assert_eq!(by("theirs"), Some(Severity::Error));
    }
}
