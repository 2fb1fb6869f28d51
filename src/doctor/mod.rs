//! `harbor-buildkit-fn doctor`: probe a running registry the way buildctl does.
//!
//! 1. `GET /v2/` without credentials, and read the answer: `200` (no auth), `401`
//!    with a `Www-Authenticate` challenge ([`challenge`]), or something that is not
//!    a registry;
//! 2. compare the Bearer realm's scheme and host with the registry's: buildctl
//!    fetches its token from the realm as written, so a mismatch is the failure this
//!    crate exists for, explained with the Harbor rule that produces it ([`realm`]);
//! 3. fetch a token from the realm with the registry's credentials from the docker
//!    config ([`credentials`]), as buildctl does;
//! 4. repeat the request with the token (or Basic credentials, for a registry that
//!    asks for them) and read the verdict.
//!
//! Each step prints its outcome; a failure prints the fix in this tool's terms (a
//! spec field or a ConfigMap key). Credentials and tokens never print: every line
//! passes through [`Masker`].
//!
//! [`realm`]: crate::harbor::realm

pub(crate) mod challenge;
pub(crate) mod credentials;
pub(crate) mod mask;
pub(crate) mod net;
pub(crate) mod redirects;
pub(crate) mod tls;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

use crate::endpoint::{Registry, Scheme};
use crate::harbor::realm::{self, Mismatch};
use challenge::Challenge;
use credentials::{Credentials, Lookup};
use mask::Masker;
use net::{Client, Distrust, Failed, NetError};
use tls::Issuer;

/// What to probe and how.
pub struct Options {
    pub registry: Registry,
    pub scheme: Scheme,
    /// A docker config file or folder; default `$DOCKER_CONFIG` or `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// A repository (`project/name`) to list tags of, with a `pull,push` scope.
    pub repository: Option<String>,
    pub timeout: Duration,
    /// CAs to trust besides the system's, for every request: the registry's (what
    /// the daemon's `ca` gives it) and the realm's (what buildctl's
    /// `--registry-auth-tlscontext ... ca=` gives it).
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Warn,
    Fail,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok  ",
            Outcome::Warn => "warn",
            Outcome::Fail => "FAIL",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) outcome: Outcome,
    /// Whether it is one of the four probe steps (numbered when printed), rather than
    /// a note about the set-up such as the credentials.
    pub(crate) numbered: bool,
    pub(crate) title: String,
    pub(crate) detail: Vec<String>,
    pub(crate) fix: Option<String>,
}

fn step(outcome: Outcome, title: impl Into<String>) -> Step {
    Step {
        outcome,
        numbered: true,
        title: title.into(),
        detail: Vec::new(),
        fix: None,
    }
}

impl Step {
    fn note(mut self, line: impl std::fmt::Display) -> Step {
        self.detail.push(line.to_string());
        self
    }

    fn notes(mut self, lines: impl IntoIterator<Item = String>) -> Step {
        self.detail.extend(lines);
        self
    }

    fn fix(mut self, fix: impl Into<String>) -> Step {
        self.fix = Some(fix.into());
        self
    }
}

/// The probe's result.
pub struct Report {
    pub(crate) target: String,
    pub(crate) steps: Vec<Step>,
    masker: Masker,
    /// Whether step 2 judged the Bearer realm right (`None`: it did not get there).
    realm_right: Option<bool>,
}

impl Report {
    /// Whether step 2 judged the realm right: the only case where credentials may
    /// go to a realm that is not on the registry's own address.
    #[cfg(feature = "test-support")]
    pub(crate) fn realm_judged_right(&self) -> bool {
        self.realm_right == Some(true)
    }

    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.outcome != Outcome::Fail)
    }

    /// The report as printed: one block per step, every line masked, then with its
    /// invisible characters shown escaped (a line quotes what servers answered).
    pub fn render(&self) -> String {
        let show = |t: &str| crate::text::visible(&self.masker.mask(t)).into_owned();
        let mut out = format!("doctor: {}\n", show(&self.target));
        let mut n = 0;
        for s in &self.steps {
            if s.numbered {
                n += 1;
                out.push_str(&format!("{} {n}. {}\n", s.outcome.label(), show(&s.title)));
            } else {
                out.push_str(&format!("{} {}\n", s.outcome.label(), show(&s.title)));
            }
            for d in &s.detail {
                out.push_str(&format!("        {}\n", show(d)));
            }
            if let Some(f) = &s.fix {
                out.push_str(&format!("        fix: {}\n", show(f)));
            }
        }
        out.push_str(if self.passed() {
            "PASS: BuildKit can authenticate to this registry the way buildctl does.\n"
        } else {
            "FAIL: see the fix under each failed step.\n"
        });
        out
    }
}

/// `%`-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs the probe.
pub fn run(opts: &Options) -> Report {
    let authority = opts.registry.authority();
    let scheme = opts.scheme.as_str();
    let base = format!("{scheme}://{authority}");
    let mut report = Report {
        target: format!(
            "{base} (Host: {authority}, as image references {authority}/... make BuildKit send it)"
        ),
        steps: Vec::new(),
        masker: Masker::default(),
        realm_right: None,
    };
    let client = match Client::new(
        opts.timeout,
        opts.ca_file.as_deref(),
        opts.insecure_skip_verify,
    ) {
        Ok(c) => c,
        Err(e) => {
            report
                .steps
                .push(step(Outcome::Fail, "set up the HTTP client").note(e));
            return report;
        }
    };
    // The credentials, read first so that every later line is masked.
    let creds = match read_credentials(opts, &authority, &mut report) {
        Ok(creds) => creds,
        Err(failed) => {
            report.steps.push(failed);
            return report;
        }
    };
    let target = match &opts.repository {
        Some(r) => format!("{base}/v2/{r}/tags/list"),
        None => format!("{base}/v2/"),
    };
    let mut probe = Probe {
        opts,
        client,
        authority,
        scheme,
        base,
        target,
        creds,
        report,
    };
    // Each step records its outcome; `None` means the probe cannot go on.
    let _ = probe.steps();
    probe.report
}

/// The probe's state between steps.
struct Probe<'o> {
    opts: &'o Options,
    client: Client,
    authority: String,
    scheme: &'static str,
    /// `scheme://authority`.
    base: String,
    /// What the last step asks for: `/v2/`, or the repository's tags list.
    target: String,
    creds: Option<Credentials>,
    report: Report,
}

impl Probe<'_> {
    fn push(&mut self, s: Step) {
        self.report.steps.push(s);
    }

    fn steps(&mut self) -> Option<()> {
        let bearer = self.anonymous()?;
        let (realm, mismatched) = self.realm(&bearer)?;
        let token = self.token(&bearer, &realm, mismatched)?;
        let step = verdict(
            &self.client,
            &self.report.masker,
            &self.target,
            Some(&format!("Bearer {token}")),
            "with the token",
        );
        self.push(step);
        Some(())
    }

    /// Step 1: `GET /v2/` without credentials. Goes on only with a Bearer challenge
    /// (a registry without auth, or with Basic auth, is finished here).
    fn anonymous(&mut self) -> Option<Challenge> {
        let v2 = format!("{}/v2/", self.base);
        let first = match self.client.get(&v2, None) {
            Ok(a) => a,
            Err(e) => {
                let fix = self.unreachable_fix(&e);
                self.push(
                    step(Outcome::Fail, format!("GET {v2}"))
                        .note(e.message)
                        .fix(fix),
                );
                return None;
            }
        };
        let at = self.report.steps.len();
        let bearer = match first.status {
            200 => {
                self.open(&v2, &first);
                None
            }
            401 => self.challenge(&v2, &first),
            status => {
                self.not_a_registry(&v2, status, &first);
                None
            }
        };
        self.first_redirects(at, &v2, &first);
        bearer
    }

    /// Step 1's redirects, noted on its step (at `at`): a `/v2/` that answers from
    /// another host, or with another scheme, is a warning, since BuildKit asks
    /// spec.registry for every manifest and blob and follows the same redirects.
    fn first_redirects(&mut self, at: usize, v2: &str, first: &net::Answer) {
        let Some(last) = first.redirects.last() else {
            return;
        };
        let elsewhere = first
            .redirects
            .iter()
            .any(|h| redirects::leaves_host(v2, h) || redirects::changes_scheme(v2, h));
        let authority = self.authority.clone();
        let final_url = last.to.clone();
        let Some(s) = self.report.steps.get_mut(at) else {
            return;
        };
        s.detail.extend(redirects::notes(v2, first));
        if elsewhere {
            if s.outcome == Outcome::Ok {
                s.outcome = Outcome::Warn;
            }
            s.detail.push(format!(
                "the registry's /v2/ answers from {}, not from {}: BuildKit sends every manifest and blob request to {authority} (spec.registry) and is redirected the same way, its credentials for {authority} dropped where the host changes; make spec.registry (and spec.scheme) the address that answers /v2/ itself",
                crate::text::visible(&final_url),
                v2
            ));
        }
    }

    /// What to check when `/v2/` could not be reached at all.
    fn unreachable_fix(&self, e: &net::NetError) -> String {
        let authority = &self.authority;
        let scheme = self.scheme;
        match e.kind {
            Failed::NotTls => "the registry speaks plain HTTP here: use --scheme http, and spec.scheme: http for BuildKit".to_string(),
            Failed::NotPlainHttp => {
                "the registry speaks HTTPS here: use --scheme https, and spec.scheme: https"
                    .to_string()
            }
            Failed::Untrusted(why) => trust_fix(why, e, authority),
            Failed::BadHeaders => "the registry's answer itself is at fault, not the address or the scheme: fix the registry, or the proxy or ingress in front of it, that writes that header".to_string(),
            Failed::Unresolvable
                if crate::names::dns::Cluster::default()
                    .place(&self.opts.registry.host)
                    .in_cluster() => in_pod_fix(self.opts),
            _ => format!(
                "check that spec.registry ({authority}) and spec.scheme ({scheme}) name where the registry listens, from where BuildKit runs"
            ),
        }
    }

    /// `/v2/` answered 200: a registry without auth, or a web page that is no registry.
    fn open(&mut self, v2: &str, first: &net::Answer) {
        let authority = self.authority.clone();
        // A registry's /v2/ answers JSON (`{}`) with the API version header
        // (distribution sends it on every answer, Harbor passes it through);
        // a web server's page answers 200 too, and is no registry.
        let api = first.header("docker-distribution-api-version").is_some();
        let json =
            serde_json::from_str::<serde_json::Value>(&first.body).is_ok_and(|v| v.is_object());
        if !api && !json {
            let what = first.header("content-type").map_or_else(
                || "no Content-Type".to_string(),
                |t| format!("Content-Type {t}"),
            );
            self.push(
                step(
                    Outcome::Fail,
                    format!("GET {v2}: 200, but not a registry's answer"),
                )
                .note(format!(
                    "no Docker-Distribution-Api-Version header and a body that is not JSON ({what}): a registry's /v2/ answers {{}} with that header"
                ))
                .note(snippet(&self.report.masker, &first.body))
                .fix(format!(
                    "spec.registry ({authority}) must name the registry itself (Harbor's core or its nginx/ingress), port included: this address serves something else"
                )),
            );
            return;
        }
        let mut s = step(
            Outcome::Ok,
            format!("GET {v2}: 200, the registry asks for no credentials"),
        );
        if !api {
            s = s.note("no Docker-Distribution-Api-Version header: check that this really is a registry's /v2/ API");
            s.outcome = Outcome::Warn;
        }
        self.push(s);
        if self.opts.repository.is_some() {
            let s = verdict(
                &self.client,
                &self.report.masker,
                &self.target,
                None,
                "without credentials",
            );
            self.push(s);
        }
    }

    /// `/v2/` answered neither 200 nor 401.
    fn not_a_registry(&mut self, v2: &str, status: u16, first: &net::Answer) {
        let authority = &self.authority;
        let s = match status {
            400 if first.body.contains("HTTP request to an HTTPS server") => step(
                Outcome::Fail,
                format!("GET {v2}: 400, the server speaks HTTPS on this port"),
            )
            .fix("use --scheme https and spec.scheme: https"),
            404 => step(Outcome::Fail, format!("GET {v2}: 404, no registry API here"))
                .note(snippet(&self.report.masker, &first.body))
                .fix(format!("spec.registry ({authority}) must name the registry itself (Harbor's core or its nginx/ingress), port included")),
            status => step(
                Outcome::Fail,
                format!("GET {v2}: {status}, not the 200 or 401 a registry answers"),
            )
            .note(snippet(&self.report.masker, &first.body))
            .fix(format!("check that {} is the registry", self.base)),
        };
        self.push(s);
    }

    /// `/v2/` answered 401: its challenge, Bearer (returned, for the token steps) or
    /// Basic (probed here).
    fn challenge(&mut self, v2: &str, first: &net::Answer) -> Option<Challenge> {
        let challenges = match challenge::parse_all(first.headers("www-authenticate")) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => {
                self.push(
                    step(Outcome::Fail, format!("GET {v2}: 401 without a Www-Authenticate challenge"))
                        .fix("the server at this address does not follow the registry API: check spec.registry"),
                );
                return None;
            }
            Err(e) => {
                self.push(
                    step(
                        Outcome::Fail,
                        format!("GET {v2}: 401 with a Www-Authenticate that does not parse"),
                    )
                    .note(format!(
                        "{e} of {:?}",
                        first
                            .headers("www-authenticate")
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                return None;
            }
        };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let mut s = step(
                Outcome::Ok,
                format!(
                    "GET {v2}: 401 with a Bearer challenge: {}",
                    describe_challenges(std::slice::from_ref(bearer))
                ),
            );
            for (name, values) in bearer.repeated() {
                s.outcome = Outcome::Warn;
                s = s.note(format!(
                    "the challenge gives {name} {} times ({}): BuildKit takes the last, {:?}, as containerd's parser keeps the last value of a parameter (containerd core/remotes/docker/auth/parse.go parseValueAndParams; distribution's internal/client/auth/challenge/authchallenge.go reads it the same way), and so does doctor; a client that takes the first would go elsewhere: have the server send {name} once",
                    values.len(),
                    values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", "),
                    values.last().copied().unwrap_or_default()
                ));
            }
            self.push(s);
            return Some(bearer.clone());
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            self.push(step(
                Outcome::Ok,
                format!("GET {v2}: 401 with a Basic challenge ({}): no token service; buildctl sends the docker config's credentials directly", describe_challenges(&challenges)),
            ));
            self.basic();
        } else {
            self.push(step(
                Outcome::Fail,
                format!(
                    "GET {v2}: 401 asking for {}, which buildctl does not speak",
                    describe_challenges(&challenges)
                ),
            ));
        }
        None
    }

    /// Step 2: the realm against the registry. Returns the realm, and whether it
    /// did not match.
    fn realm(&mut self, bearer: &Challenge) -> Option<(String, bool)> {
        let Some(realm) = bearer.param("realm").filter(|r| !r.is_empty()) else {
            self.push(
                step(Outcome::Fail, "the Bearer challenge has no realm")
                    .fix("the registry's token auth is misconfigured"),
            );
            return None;
        };
        if let Some((user, password)) = userinfo(realm) {
            if let Some(p) = password {
                self.report.masker.add(p);
            }
            self.push(
                step(
                    Outcome::Fail,
                    format!("realm {realm} carries user info ({user}:...@) in its URL"),
                )
                .note("buildctl uses the realm as written (containerd core/remotes/docker/auth/fetch.go GenerateTokenOptions keeps the URL's user info), and Go's client turns user info into Basic credentials when no Authorization header is set (net/http client.go send): the token service gets that user and password, on top of the docker config's when buildctl POSTs them, and a failed token fetch prints the URL, password and all (containerd core/remotes/errors ErrUnexpectedStatus)")
                .note("doctor refuses such a realm: it sends it no request and no credentials")
                .fix("configure the token service's realm without user info (Harbor builds it from CORE_URL or TOKEN_SERVICE_URL, which hold none; distribution: auth.token.realm)"),
            );
            return None;
        }
        let mismatches = realm::compare(realm, self.scheme, &self.authority);
        let harbor = if mismatches.is_empty() {
            None
        } else {
            self.harbor(bearer)
        };
        let s = realm_step(
            realm,
            bearer,
            harbor.as_deref(),
            self.scheme,
            &self.authority,
            &mismatches,
        );
        let mismatched = s.outcome != Outcome::Ok;
        self.report.realm_right = Some(!mismatched);
        self.push(s);
        Some((realm.to_string(), mismatched))
    }

    /// How the registry shows that it is Harbor, when it does: Harbor's token service
    /// name in the challenge (`service="harbor-registry"`), or, behind a proxy that
    /// rewrote it, Harbor's own API on the same address: `GET /api/v2.0/ping` answers
    /// `Pong` without credentials (goharbor/harbor `src/server/v2.0/handler/ping.go`).
    fn harbor(&self, bearer: &Challenge) -> Option<String> {
        if bearer.param("service") == Some("harbor-registry") {
            return Some("service harbor-registry".into());
        }
        let ping = format!("{}/api/v2.0/ping", self.base);
        let answer = self.client.get(&ping, None).ok()?;
        let body = answer.body.trim().trim_matches('"');
        (answer.status == 200 && body == "Pong")
            .then(|| "GET /api/v2.0/ping answers Pong, as Harbor's API does".into())
    }

    /// Step 3: a token from the realm, with the docker config's credentials, unless
    /// step 2 judged the realm wrong (`mismatched`): then anonymously, saying why.
    fn token(&mut self, bearer: &Challenge, realm: &str, mismatched: bool) -> Option<String> {
        let url = token_url(bearer, realm, self.opts.repository.as_deref());
        // Never where step 2 judged the realm wrong: the credentials would go to a host
        // or scheme that is not the registry's (from https to plain http, at worst).
        let withheld = self
            .creds
            .as_ref()
            .filter(|_| mismatched)
            .map(|c| withheld_note(&c.username, realm, self.scheme));
        let sent = self.creds.as_ref().filter(|_| withheld.is_none());
        let basic_header = sent.map(basic_authorization);
        let who = match sent {
            Some(c) => format!(
                "as {} (from {})",
                c.username,
                crate::text::visible(&c.source.display().to_string())
            ),
            None if withheld.is_some() => "anonymously (credentials withheld)".to_string(),
            None => "anonymously".to_string(),
        };
        let fetched = self.client.get(&url, basic_header.as_deref());
        let (mut s, token) = match fetched {
            Ok(answer) => {
                let (s, token) = self.token_answer(&url, &who, &answer, withheld.is_some());
                (s.notes(redirects::notes(&url, &answer)), token)
            }
            Err(e) => (self.token_failed(&url, &who, &e, mismatched), None),
        };
        if let Some(w) = withheld {
            s = s.note(w);
        }
        self.push(s);
        token
    }

    /// Step 3 when the realm could not be reached.
    fn token_failed(&self, url: &str, who: &str, e: &NetError, mismatched: bool) -> Step {
        let mut s = step(Outcome::Fail, format!("GET {url} {who}")).note(e.message.clone());
        if mismatched {
            s = s.note("this is the failure the realm mismatch above predicts: buildctl fails here the same way");
            s = s.fix(format!(
                "make the realm {}://{}/... (see step 2)",
                self.scheme, self.authority
            ));
        } else if let Failed::Untrusted(why) = e.kind {
            s = s.note("buildctl fetches this token itself, outside the daemon: the daemon's CA (spec.ca) does not reach this request");
            s = s.fix(realm_trust_fix(why, e, &self.authority));
        }
        s
    }

    /// Step 3's answer: the token (masked from then on), or why there is none.
    fn token_answer(
        &mut self,
        url: &str,
        who: &str,
        answer: &net::Answer,
        withheld: bool,
    ) -> (Step, Option<String>) {
        let authority = &self.authority;
        let body = snippet(&self.report.masker, &answer.body);
        match answer.status {
            200 => {}
            401 | 403 => {
                let fix = match &self.creds {
                    _ if withheld => format!(
                        "make the realm {}://{authority}/... (see step 2); with a realm that matches, doctor sends the credentials and tells whether the token service takes them",
                        self.scheme
                    ),
                    Some(c) => format!(
                        "the token service rejected {}'s credentials: update the docker-registry Secret's .dockerconfigjson (auths[\"{authority}\"]) for the Task",
                        c.username
                    ),
                    None => format!(
                        "no credentials for {authority}: give --docker-config with an auths[\"{authority}\"] entry (the same .dockerconfigjson the Task's Secret holds)"
                    ),
                };
                let s = step(Outcome::Fail, format!("GET {url} {who}: {}", answer.status))
                    .note(body)
                    .fix(fix);
                return (s, None);
            }
            status => {
                let s = step(Outcome::Fail, format!("GET {url} {who}: {status}, not a token"))
                    .note(body)
                    .fix("the realm does not point at the registry's token service (for Harbor: <CORE_URL>/service/token)");
                return (s, None);
            }
        }
        let Some(token) = token_of(&answer.body) else {
            let s = step(
                Outcome::Fail,
                format!("GET {url} {who}: 200 without a token or access_token field"),
            )
            .note(body);
            return (s, None);
        };
        self.report.masker.add(&token);
        let s = self.issued(
            step(Outcome::Ok, format!("GET {url} {who}: 200, token issued")),
            &token,
        );
        (s, Some(token))
    }

    /// The issued-token step, with what the token grants (and a warning when it does
    /// not grant push on the repository).
    fn issued(&self, mut s: Step, token: &str) -> Step {
        if let Some(access) = granted(token) {
            s = s.note(format!("the token grants: {}", describe_access(&access)));
            if let Some(repo) = &self.opts.repository {
                let can_push = access
                    .iter()
                    .filter(|a| a.kind == "repository" && &a.name == repo)
                    .any(|a| a.actions.iter().any(|x| x == "push"));
                if !can_push {
                    s.outcome = Outcome::Warn;
                    s = s.note(format!(
                        "no push on {repo}: buildctl could not push there as {}; give the account push rights on the project (for Harbor: a robot account with push, or project membership as developer)",
                        self.creds.as_ref().map_or("anonymous", |c| c.username.as_str())
                    ));
                }
            }
        }
        s
    }

    /// For a registry with Basic auth: the request with the docker config's credentials.
    fn basic(&mut self) {
        let Some(c) = &self.creds else {
            self.push(
                step(Outcome::Fail, "no credentials to answer the Basic challenge with")
                    .fix("give --docker-config with an auths entry for the registry (the Task's Secret's .dockerconfigjson)"),
            );
            return;
        };
        let header = basic_authorization(c);
        let how = format!(
            "as {} (from {})",
            c.username,
            crate::text::visible(&c.source.display().to_string())
        );
        let s = verdict(
            &self.client,
            &self.report.masker,
            &self.target,
            Some(&header),
            &how,
        );
        self.push(s);
    }
}

fn read_credentials(
    opts: &Options,
    authority: &str,
    report: &mut Report,
) -> Result<Option<Credentials>, Step> {
    let Some(path) = credentials::config_path(opts.docker_config.as_deref()) else {
        return Ok(None);
    };
    match credentials::lookup(&path, authority, opts.docker_config.is_some()) {
        Ok(Lookup::Found(c)) => {
            report.masker.add_basic(&c.username, &c.password.0);
            Ok(Some(c))
        }
        Ok(Lookup::Anonymous(note)) => {
            let mut s = step(
                Outcome::Warn,
                "credentials: none, the probe goes on anonymously",
            )
            .note(note);
            s.numbered = false;
            report.steps.push(s);
            Ok(None)
        }
        Err(e) => {
            let mut s = step(Outcome::Fail, "credentials: cannot read the docker config")
                .note(e)
                .fix(
                    "give a docker config (config.json or the Task's Secret) with --docker-config",
                );
            s.numbered = false;
            Err(s)
        }
    }
}

/// Why step 3 did not send `user`'s credentials to `realm`, and what buildctl would do.
fn withheld_note(user: &str, realm: &str, scheme: &str) -> String {
    let downgrade = scheme == "https" && realm.to_ascii_lowercase().starts_with("http://");
    let why = if downgrade {
        "it is plain http for an https registry, and doctor never sends credentials from https down to http (they would cross the network in clear)"
    } else {
        "step 2 judged it wrong: not the registry's scheme, host and port"
    };
    format!(
        "doctor did not send {user}'s credentials to this realm: {why}. buildctl would send them: it fetches its token from the realm as written (containerd core/remotes/docker/auth/fetch.go GenerateTokenOptions takes the realm URL unchecked, and FetchToken/FetchTokenWithOAuth send the username and password to it), so fix the realm before BuildKit pushes"
    )
}

/// The user and password (when one is written) of a URL's user info, if it has one.
fn userinfo(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (info, _) = authority.rsplit_once('@')?;
    Some(match info.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (info, None),
    })
}

fn basic_authorization(c: &Credentials) -> String {
    let raw = format!("{}:{}", c.username, c.password.0);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Step 2 for a Bearer realm: the realm must carry the registry's scheme and host.
/// `harbor` says how the registry showed it is Harbor, when it did.
fn realm_step(
    realm: &str,
    bearer: &Challenge,
    harbor: Option<&str>,
    scheme: &str,
    authority: &str,
    mismatches: &[Mismatch],
) -> Step {
    if mismatches.is_empty() {
        return step(
            Outcome::Ok,
            format!("realm {realm} has the registry's scheme ({scheme}) and host ({authority})"),
        );
    }
    // Harbor's token service is harbor-core behind the registry's own address, so its
    // realm must be the registry's scheme and host. Other registries may keep their
    // token service elsewhere (another host, port or scheme): only the token request
    // (step 3) can tell whether that works.
    let scheme_differs = mismatches.iter().any(|m| !matches!(m, Mismatch::Host(..)));
    let outcome = match (harbor.is_some(), scheme_differs) {
        (true, _) => Outcome::Fail,
        (false, true) => Outcome::Warn,
        (false, false) => Outcome::Ok,
    };
    let title = if outcome == Outcome::Ok {
        format!(
            "realm {realm} has the registry's scheme ({scheme}); its token service is on another host or port, which is fine outside Harbor"
        )
    } else {
        format!("realm {realm} does not match the registry {scheme}://{authority}")
    };
    let mut s = step(outcome, title);
    for m in mismatches {
        s = s.note(match m {
            Mismatch::NotAUrl => "it is not an absolute http(s) URL".to_string(),
            Mismatch::Scheme(r, want) => format!(
                "its scheme is {r}, the registry's is {want}: buildctl fetches the token from the realm as written (buildkitd.toml does not apply to that request), so it would speak {r} to the token service"
            ),
            Mismatch::Host(r, want) => format!(
                "its host is {r}, not {want}: buildctl must reach {r} from the BuildKit pod"
            ),
        });
    }
    let scheme_only = mismatches.iter().all(|m| matches!(m, Mismatch::Scheme(..)));
    let why = if scheme_only {
        format!(
            "Harbor answers with the request's Host and the scheme of EXT_ENDPOINT (v2.14+) when the Host ({authority}) does not match CORE_URL; CORE_URL = {scheme}://{authority} makes it match (Harbor compares host[:port] exactly, dropping :80 for http and :443 for https)"
        )
    } else {
        format!(
            "Harbor v2.0-v2.13 answers with EXT_ENDPOINT, the external name, when the Host ({authority}) does not match CORE_URL; CORE_URL = {scheme}://{authority} makes it match (exact host[:port], default ports dropped)"
        )
    };
    s = s.note(match harbor {
        Some(how) => format!("this is Harbor ({how}): {why}"),
        None => format!(
            "the service is {:?}, not Harbor's harbor-registry, and /api/v2.0/ping does not answer as Harbor's: the realm comes from the registry's own token auth settings (distribution: auth.token.realm). Were this Harbor: {why}",
            bearer.param("service").unwrap_or("")
        ),
    });
    if outcome == Outcome::Ok {
        return s;
    }
    s.fix(format!(
        "set CORE_URL={scheme}://{authority} and TOKEN_SERVICE_URL={scheme}://{authority}/service/token in Harbor's core ConfigMap (harbor-buildkit-fn does it from spec.registry: {authority}, spec.scheme: {scheme}), then restart harbor-core"
    ))
}

/// The last step: the request with credentials, and what its answer means (bodies
/// shown through `masker`), with the redirects it followed.
fn verdict(
    client: &Client,
    masker: &Masker,
    target: &str,
    authorization: Option<&str>,
    how: &str,
) -> Step {
    let title = format!("GET {target} {how}");
    match client.get(target, authorization) {
        Err(e) => step(Outcome::Fail, title).note(e.message),
        Ok(a) => verdict_of(&title, masker, target, authorization, &a)
            .notes(redirects::notes(target, &a)),
    }
}

/// What the last step's answer `a` means.
fn verdict_of(
    title: &str,
    masker: &Masker,
    target: &str,
    authorization: Option<&str>,
    a: &net::Answer,
) -> Step {
    let snippet = |body: &str| snippet(masker, body);
    match a {
        a if a.status == 200 => step(Outcome::Ok, format!("{title}: 200, accepted")),
        a if a.status == 404 && a.body.contains("NAME_UNKNOWN") => step(
            Outcome::Ok,
            format!(
                "{title}: 404 NAME_UNKNOWN: accepted; the repository does not exist yet (a first push creates it)"
            ),
        ),
        // Harbor's answer for a repository it does not have, past its auth middleware
        // (src/server/registry/tag.go, lib/http SendError): the request was let in.
        a if a.status == 404
            && a.body.contains("NOT_FOUND")
            && a.body.contains("repository") =>
        {
            step(
                Outcome::Ok,
                format!(
                    "{title}: 404 NOT_FOUND (Harbor: no such repository yet): accepted; a first push creates it in an existing project"
                ),
            )
        }
        a if a.status == 404 => step(Outcome::Fail, format!("{title}: 404, no such API path"))
            .note(snippet(&a.body))
            .fix(if target.ends_with("/tags/list") {
                "the registry has no tags list at this path: check --repository (project/name, as image references write it after the registry host, without a tag); for Harbor the project must exist"
            } else {
                "the registry answers 404 for its own /v2/ API: check that spec.registry names the registry itself, port included"
            }),
        a if a.status == 401 || a.status == 403 => {
            // The registry says why in its challenge: error="insufficient_scope" (the
            // token is good but grants too little) or "invalid_token".
            let error = challenge::parse_all(a.headers("www-authenticate"))
                .ok()
                .and_then(|c| c.iter().find_map(|c| c.param("error").map(str::to_string)));
            let bearer = authorization.is_some_and(|h| h.starts_with("Bearer "));
            let fix = match error.as_deref() {
                Some("insufficient_scope") => {
                    "the token is valid but grants too little for this request: give the account pull (and push) rights on the project, or create the project"
                }
                _ if bearer => {
                    "the registry does not accept the token its realm issued: the token service and the registry disagree (service name, issuer or signing certificate); for Harbor, core and registry must share the token certificate (harbor-core's secret)"
                }
                _ => {
                    "the registry rejected the credentials: update the docker-registry Secret's .dockerconfigjson"
                }
            };
            let mut s = step(Outcome::Fail, format!("{title}: {}, rejected", a.status))
                .note(snippet(&a.body));
            if let Some(e) = error {
                s = s.note(format!("the registry's challenge says error={e:?}"));
            }
            s.fix(fix)
        }
        a => step(Outcome::Fail, format!("{title}: {}", a.status))
            .note(snippet(&a.body))
            .fix(format!(
                "a registry answers this request with 200 (or 401/403 with a reason); {} is the registry's own error: see its body above and the registry's logs",
                a.status
            )),
    }
}

/// The CA to trust, in words: the one that issued the certificate when the verifier
/// noted it.
fn the_ca(e: &NetError, whose: &str) -> String {
    match &e.issuer {
        Some(Issuer::By(dn)) => format!("the CA that issued {whose} certificate ({dn})"),
        Some(Issuer::SelfSigned(dn)) => {
            format!("{whose} self-signed certificate ({dn}) itself, as its own CA")
        }
        None => format!("{whose} CA"),
    }
}

/// Where buildctl takes the CA for its own token fetch.
fn buildctl_ca(authority: &str) -> String {
    format!(
        "the Task's registry-ca workspace for buildctl, which fetches its tokens itself (buildctl build --registry-auth-tlscontext host={authority},ca=<ca.crt>)"
    )
}
/// The realm's URL with the challenge's `service` and, for a repository, a
/// `pull,push` scope, as buildctl asks for its token.
fn token_url(bearer: &Challenge, realm: &str, repository: Option<&str>) -> String {
    let scope = repository.map(|r| format!("repository:{r}:pull,push"));
    let mut url = realm.to_string();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in [
        ("service", bearer.param("service")),
        ("scope", scope.as_deref()),
    ] {
        if let Some(v) = v {
            url.push(sep);
            url.push_str(&format!("{k}={}", encode(v)));
            sep = '&';
        }
    }
    url
}

/// The fix for a certificate the probe does not trust: trust, not the address (unless
/// the certificate is for another name).
fn trust_fix(why: Distrust, e: &NetError, authority: &str) -> String {
    match why {
        Distrust::Name => "the certificate is not for this name: make spec.registry (and REGISTRY here) a name the certificate lists, or give the registry a certificate for this name".into(),
        Distrust::Dates => "renew the registry's certificate (or check this machine's clock)".into(),
        Distrust::Issuer => format!(
            "trust {}: --ca-file here; for BuildKit, spec.ca (its path in the buildkitd container) for the daemon, and {}; or spec.insecureSkipVerify (and --insecure-skip-verify) to skip the check",
            the_ca(e, "the registry's"),
            buildctl_ca(authority)
        ),
    }
}

/// The fix for a realm whose certificate the probe does not trust (the registry's it
/// did trust, or the request would not have got here).
fn realm_trust_fix(why: Distrust, e: &NetError, authority: &str) -> String {
    match why {
        Distrust::Name => "the token service's certificate is not for the realm's host: give it a certificate for that name, or make the realm a name its certificate lists".into(),
        Distrust::Dates => "renew the token service's certificate (or check this machine's clock)".into(),
        Distrust::Issuer => format!(
            "trust {}: --ca-file here (one file may hold the registry's CA and this one), and {}; or skip the check: --insecure-skip-verify here, spec.insecureSkipVerify for BuildKit (insecure=true in --registry-auth-tlscontext)",
            the_ca(e, "the token service's"),
            buildctl_ca(authority)
        ),
    }
}

/// The fix for an in-cluster name that does not resolve where the probe runs: run it
/// in a pod, where BuildKit runs (this tool's container image has doctor).
fn in_pod_fix(opts: &Options) -> String {
    let mut args = format!(
        "doctor {} --scheme {}",
        opts.registry.authority(),
        opts.scheme.as_str()
    );
    if let Some(r) = &opts.repository {
        args.push_str(&format!(" --repository {r}"));
    }
    let run = format!(
        "kubectl run -n NAMESPACE hbfn-doctor --rm -i --restart=Never --image={} -- {args}",
        crate::describe::IMAGE
    );
    if opts.docker_config.is_some() {
        format!(
            "{} is a name inside the cluster: run the probe in a pod there, in BuildKit's namespace, with the Task's Secret on stdin: kubectl -n NAMESPACE get secret SECRET -o yaml | {run} --docker-config -",
            opts.registry.host
        )
    } else {
        format!(
            "{} is a name inside the cluster: run the probe in a pod there, in BuildKit's namespace: {run}",
            opts.registry.host
        )
    }
}

/// The challenges as written, each parameter value cut at 200 characters (a server
/// may send a megabyte in one).
fn describe_challenges(challenges: &[Challenge]) -> String {
    const SHOWN: usize = 200;
    let written: Vec<String> = challenges
        .iter()
        .map(|c| {
            let mut c = c.clone();
            for (_, v) in &mut c.params {
                if v.chars().count() > SHOWN {
                    let len = v.len();
                    *v = format!(
                        "{}... ({len} bytes)",
                        v.chars().take(SHOWN).collect::<String>()
                    );
                }
            }
            c.to_string()
        })
        .collect();
    written.join("; ")
}

/// The `token` (or OAuth2 `access_token`) of a token service's answer.
fn token_of(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| v.get(k).and_then(|t| t.as_str()).filter(|t| !t.is_empty()))
        .map(str::to_string)
}

/// One entry of a registry token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Access {
    kind: String,
    name: String,
    actions: Vec<String>,
}

/// A JWT's `access` claim, read without verifying (the registry verifies);
/// `None` when the token is not a JWT with one.
fn granted(token: &str) -> Option<Vec<Access>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k).and_then(|x| x.as_str()).unwrap_or("?").to_string()
    };
    Some(
        claims
            .get("access")?
            .as_array()?
            .iter()
            .map(|a| Access {
                kind: text(a, "type"),
                name: text(a, "name"),
                actions: a
                    .get("actions")
                    .and_then(|x| x.as_array())
                    .map(|x| {
                        x.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

fn describe_access(access: &[Access]) -> String {
    if access.is_empty() {
        return "no repository access (enough for /v2/)".into();
    }
    access
        .iter()
        .map(|a| format!("{} {} [{}]", a.kind, a.name, a.actions.join(",")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The start of a body, on one line, for messages: every secret masked first (so that
/// the cut cannot leave part of one), every invisible character shown escaped.
fn snippet(masker: &Masker, body: &str) -> String {
    let masked = masker.mask(body);
    let one: String = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = crate::text::visible(&one).into_owned();
    let cut: String = one.chars().take(200).collect();
    if cut.is_empty() {
        "(empty body)".into()
    } else if cut.len() < one.len() {
        format!("body: {cut}...")
    } else {
        format!("body: {cut}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(encode("harbor-registry"), "harbor-registry");
    }

    #[test]
    fn tokens_and_grants() {
        assert_eq!(token_of(r#"{"token":"t1"}"#).as_deref(), Some("t1"));
        assert_eq!(token_of(r#"{"access_token":"t2"}"#).as_deref(), Some("t2"));
        assert_eq!(token_of(r#"{"token":""}"#), None);
        assert_eq!(token_of("<html>"), None);
        // {"access":[{"type":"repository","name":"a/b","actions":["pull"]}]}
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"access":[{"type":"repository","name":"a/b","actions":["pull"]}]}"#);
        let access = granted(&format!("h.{payload}.s")).unwrap_or_default();
        assert_eq!(describe_access(&access), "repository a/b [pull]");
        assert_eq!(
            describe_access(&[]),
            "no repository access (enough for /v2/)"
        );
        assert_eq!(granted("not-a-jwt"), None);
    }
}
