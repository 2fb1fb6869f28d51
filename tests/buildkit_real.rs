//! The generated Task's step, as Tekton would substitute it (tests/common/tekton.rs),
//! run with real BuildKit against a real distribution registry (`docker-registry`) with
//! token auth (tests/common/registry.rs), in the modes issue 23 touches:
//!
//! - a rootless buildkitd (`rootlesskit buildkitd`, as a user with a `/etc/subuid`
//!   range) that demands client certificates (`--tlscacert`), as BuildKit's
//!   examples/kubernetes run it: the push with its registry cache, and what the step
//!   says without the certificates or with the wrong server name;
//! - the step as a uid that owns nothing of the image (its `TMPDIR` and `HOME` not
//!   writable), against that daemon;
//! - daemonless: `buildctl-daemonless.sh` starting `rootlesskit buildkitd` in the step,
//!   reading the generated buildkitd.toml.
//!
//! CI cannot have BuildKit (it builds nothing from upstream source): these run when
//! `HBFN_BUILDKIT_BIN` names a folder of `vX.Y.Z/{buildctl,buildkitd}` (and
//! `buildctl-daemonless.sh` there or in the folder itself), as root, with `setpriv`,
//! `rootlesskit`, `newuidmap` and a user with a `/etc/subuid` range
//! (`HBFN_ROOTLESS_USER`, default `bkuser`); otherwise each prints its `SKIPPED:` line.
//! `HBFN_BUILDKIT_VERSION` picks the release (default: the newest). What they ran and
//! saw here is in `bench/buildkit-real.md`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::modes::task_of;
use common::registry::{Auth, PASSWORD, Registry, SERVICE, ServerCert, TestCa, USER, http_agent};
use common::tekton::{StepRun, TaskRun, run_step};
use common::tools::{skip_outside_ci, which};
use harbor_buildkit_fn::testing::release::{MIN_SUPPORTED, Version};
use serde_json::Value;

/// How long a daemon may take to answer, and a build to finish: bounds for a hang, not
/// a measure.
const DAEMON_READY: Duration = Duration::from_secs(60);

/// What the runs need of the machine.
struct Machine {
    /// The release's folder: buildctl, buildkitd.
    bin: PathBuf,
    version: Version,
    /// buildctl-daemonless.sh, when found.
    daemonless: Option<PathBuf>,
    /// The rootless user: name, uid, gid.
    user: (String, u32, u32),
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The release folder `HBFN_BUILDKIT_VERSION` names, or the newest with both binaries.
fn release(root: &Path) -> Option<(Version, PathBuf)> {
    let wanted = std::env::var("HBFN_BUILDKIT_VERSION").ok();
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = Version::of_tag(&e.file_name().to_string_lossy())?;
            let dir = e.path();
            (dir.join("buildctl").is_file() && dir.join("buildkitd").is_file()).then_some((v, dir))
        })
        .filter(|(v, _)| wanted.as_deref().is_none_or(|w| v.to_string() == w))
        .max()
}

/// The machine, or `None` after a `SKIPPED:` line saying what is missing.
fn machine() -> Option<Machine> {
    let root = common::optional_outside_ci(
        "HBFN_BUILDKIT_BIN",
        "a folder of vX.Y.Z/{buildctl,buildkitd}, BuildKit's binaries",
    )?;
    let Some((version, bin)) = release(&root) else {
        skip_outside_ci(&format!(
            "no vX.Y.Z/{{buildctl,buildkitd}} (HBFN_BUILDKIT_VERSION) in {}",
            root.display()
        ));
        return None;
    };
    assert!(
        version >= MIN_SUPPORTED,
        "{version} is older than the Task supports"
    );
    if id(&["-u"]) != Some(0) {
        skip_outside_ci("these runs start a rootless buildkitd as another user: run as root");
        return None;
    }
    for tool in ["setpriv", "rootlesskit", "newuidmap", "docker-registry"] {
        if which(tool).is_none() && !Path::new("/usr/bin").join(tool).is_file() {
            skip_outside_ci(&format!("{tool} is not on PATH"));
            return None;
        }
    }
    let name = std::env::var("HBFN_ROOTLESS_USER").unwrap_or_else(|_| "bkuser".into());
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
    let (Some(uid), Some(gid)) = (id(&["-u", &name]), id(&["-g", &name])) else {
        skip_outside_ci(&format!("no user {name} (HBFN_ROOTLESS_USER)"));
        return None;
    };
    if !subuid.lines().any(|l| l.starts_with(&format!("{name}:"))) {
        skip_outside_ci(&format!("{name} has no range in /etc/subuid"));
        return None;
    }
    let daemonless = [
        bin.join("buildctl-daemonless.sh"),
        root.join("buildctl-daemonless.sh"),
    ]
    .into_iter()
    .find(|p| p.is_file());
    Some(Machine {
        bin,
        version,
        daemonless,
        user: (name, uid, gid),
    })
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

/// A folder owned by the rootless user, mode 0700 (a runtime dir, a state dir).
fn owned_dir(path: &Path, m: &Machine) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path).expect("dir");
    chown(path, m.user.1, m.user.2);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    path.to_path_buf()
}

/// The daemon's and the client's certificates, from one CA, as BuildKit's
/// create-certs.sh makes them.
struct Certs {
    ca: String,
    daemon: ServerCert,
    client: ServerCert,
}

impl Certs {
    fn new() -> Certs {
        let ca = TestCa::new("buildkit test CA");
        Certs {
            daemon: ca.leaf(
                &["127.0.0.1", "buildkitd", "localhost"],
                rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            ),
            client: ca.leaf(&["client"], rcgen::ExtendedKeyUsagePurpose::ClientAuth),
            ca: ca.pem,
        }
    }

    /// The client Secret's files, as create-certs.sh names them.
    fn client_files(&self) -> [(&'static str, &str); 3] {
        [
            ("ca.pem", &self.ca),
            ("cert.pem", &self.client.cert_pem),
            ("key.pem", &self.client.key_pem),
        ]
    }
}

/// A rootless buildkitd on `tcp://127.0.0.1:PORT` that demands client certificates,
/// run as the rootless user under rootlesskit; stopped (by its pid) when dropped.
struct Daemon {
    child: Child,
    addr: String,
    dir: common::TempDir,
}

impl Daemon {
    fn start(m: &Machine, certs: &Certs) -> Daemon {
        let dir = common::TempDir::new("buildkitd");
        chown(&dir, m.user.1, m.user.2);
        for (name, text) in [
            ("ca.pem", &certs.ca),
            ("daemon.pem", &certs.daemon.cert_pem),
            ("daemon-key.pem", &certs.daemon.key_pem),
        ] {
            let path = dir.write(name, text);
            chown(&path, m.user.1, m.user.2);
        }
        let runtime = owned_dir(&dir.join("run"), m);
        let state = owned_dir(&dir.join("state"), m);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("buildkitd.log")).expect("log");
        let child = Command::new("setpriv")
            .arg(format!("--reuid={}", m.user.1))
            .arg(format!("--regid={}", m.user.2))
            .arg("--init-groups")
            .arg("rootlesskit")
            .arg(m.bin.join("buildkitd"))
            .arg("--oci-worker-no-process-sandbox")
            .arg(format!("--root={}", state.display()))
            .arg(format!("--addr={addr}"))
            .arg(format!("--tlscert={}", dir.join("daemon.pem").display()))
            .arg(format!("--tlskey={}", dir.join("daemon-key.pem").display()))
            .arg(format!("--tlscacert={}", dir.join("ca.pem").display()))
            .env_clear()
            .env("PATH", common::tools::path_with(&[&m.bin]))
            .env("HOME", dir.path())
            // buildkitd takes the rootless defaults (its socket, state and trace socket
            // under XDG_RUNTIME_DIR) only with USER set and not root
            // (cmd/buildkitd/main.go `isRootlessConfig`); the rootless image sets it.
            .env("USER", &m.user.0)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("setpriv rootlesskit buildkitd");
        let mut daemon = Daemon { child, addr, dir };
        daemon.wait_ready(m, certs);
        daemon
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("buildkitd.log")).unwrap_or_default()
    }

    /// Waits until `buildctl debug workers` answers with the client certificate.
    fn wait_ready(&mut self, m: &Machine, certs: &Certs) {
        let client = common::TempDir::new("client");
        let files: Vec<PathBuf> = certs
            .client_files()
            .iter()
            .map(|(n, t)| client.write(n, t))
            .collect();
        let deadline = Instant::now() + DAEMON_READY;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("buildkitd exited ({status}):\n{}", self.log());
            }
            let ok = Command::new(m.bin.join("buildctl"))
                .arg(format!("--addr={}", self.addr))
                .arg(format!("--tlscacert={}", files[0].display()))
                .arg(format!("--tlscert={}", files[1].display()))
                .arg(format!("--tlskey={}", files[2].display()))
                .args(["debug", "workers"])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "buildkitd did not answer within {DAEMON_READY:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // rootlesskit passes SIGTERM on to buildkitd; SIGKILL if it lingers.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The source to build: no base image (nothing is pulled), two stages, a build arg.
const DOCKERFILE: &str = "FROM scratch AS base\nARG GREETING\nCOPY hello.txt /hello.txt\n\nFROM base AS final\nCOPY hello.txt /again.txt\n";

/// A TaskRun of the generated Task against `reg`, with its credentials, a cache, and
/// the source.
fn task_run(reg: &Registry) -> TaskRun {
    let auth = STANDARD.encode(format!("{USER}:{PASSWORD}"));
    TaskRun::default()
        .param("IMAGE", format!("{}/library/app:1", reg.addr))
        .param("CACHE_IMAGE", format!("{}/library/app:cache", reg.addr))
        .param("TARGET", "final")
        .param("BUILD_ARGS", serde_json::json!(["GREETING=hello"]))
        .workspace(
            "source",
            &[("Dockerfile", DOCKERFILE), ("hello.txt", "hello\n")],
        )
        .workspace(
            "dockerconfig",
            &[(
                ".dockerconfigjson",
                &format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", reg.addr),
            )],
        )
}

/// `GET /v2/<path>` with a pull token from the registry's token service: the status,
/// the `Content-Type` and `Docker-Content-Digest` headers.
fn registry_get(reg: &Registry, path: &str, accept: &str) -> (u16, String, String) {
    let token_service = reg.token.as_ref().expect("token auth");
    let scope = "repository:library/app:pull";
    let basic = format!("Basic {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    let mut resp = http_agent()
        .get(&format!(
            "{}?service={SERVICE}&scope={scope}",
            token_service.realm
        ))
        .header("Authorization", &basic)
        .call()
        .expect("token");
    let body = resp.body_mut().read_to_string().expect("token body");
    let token: Value = serde_json::from_str(&body).expect("token JSON");
    let resp = http_agent()
        .get(&format!("{}/v2/{path}", reg.url()))
        .header(
            "Authorization",
            &format!("Bearer {}", token["token"].as_str().unwrap_or("")),
        )
        .header("Accept", accept)
        .call()
        .expect("GET");
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    (
        resp.status().as_u16(),
        header("Content-Type"),
        header("Docker-Content-Digest"),
    )
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The step pushed the image whose digest it wrote, and the cache as an image manifest.
fn assert_pushed(step: &StepRun, reg: &Registry, daemon_log: &str) {
    assert!(
        step.ok(),
        "the step failed:\n{}\n--- buildkitd\n{daemon_log}\n--- registry\n{}",
        step.stderr(),
        reg.log_tail()
    );
    let digest =
        std::fs::read_to_string(step.dir.join("results/IMAGE_DIGEST")).expect("IMAGE_DIGEST");
    let (status, _, pushed) = registry_get(reg, "library/app/manifests/1", ACCEPT);
    assert_eq!(status, 200);
    assert_eq!(
        pushed, digest,
        "the digest the step wrote is the registry's"
    );
    let (status, media_type, _) = registry_get(reg, "library/app/manifests/cache", ACCEPT);
    assert_eq!(status, 200, "the cache was exported");
    assert_eq!(
        media_type, OCI_MANIFEST,
        "the cache is an image manifest, as Harbor stores it"
    );
}

/// The Task for a daemon at `addr`, the registry plain HTTP on loopback.
fn daemon_task(reg: &Registry, addr: &str) -> Value {
    task_of(
        &[],
        &format!(
            "registry: {}\nscheme: http\nbuildkitHost: {addr}\ngenerate: [task]\n",
            reg.addr
        ),
    )
}

#[test]
fn rootless_daemon_with_mtls_and_token_auth() {
    let Some(m) = machine() else { return };
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let certs = Certs::new();
    let daemon = Daemon::start(&m, &certs);
    let task = daemon_task(&reg, &daemon.addr);
    let tools = m.bin.clone();
    let step = run_step(
        &task,
        &task_run(&reg)
            .workspace("buildkit-client-certs", &certs.client_files())
            .tools(&tools),
    );
    assert_pushed(&step, &reg, &daemon.log());
    // BuildKit v0.12 to v0.20 write the cache as an OCI index unless told otherwise,
    // which Harbor refuses (goharbor/harbor#14774): the step as it was shows it.
    if m.version < Version::new(0, 21, 0) {
        let mut old = task.clone();
        let script = old["spec"]["steps"][0]["script"].as_str().expect("script");
        old["spec"]["steps"][0]["script"] = script
            .replace(",image-manifest=true,oci-mediatypes=true", "")
            .into();
        let step = run_step(
            &old,
            &task_run(&reg)
                .param("CACHE_IMAGE", format!("{}/library/app:old-cache", reg.addr))
                .workspace("buildkit-client-certs", &certs.client_files())
                .tools(&tools),
        );
        assert!(step.ok(), "{}", step.stderr());
        let (_, media_type, _) = registry_get(&reg, "library/app/manifests/old-cache", ACCEPT);
        assert_eq!(media_type, "application/vnd.oci.image.index.v1+json");
    }
    // The token came from the client, buildctl, which asked with the docker config's
    // credentials.
    let tokens = reg.token.as_ref().expect("token auth").requests();
    assert!(tokens.iter().any(|t| t.basic_ok), "{tokens:?}");
    // Without the client certificates: buildctl's terse error, then what to check.
    let step = run_step(&task, &task_run(&reg).tools(&tools));
    assert!(!step.ok());
    let err = step.stderr();
    assert!(
        ["server preface", "certificate required", "broken pipe"]
            .iter()
            .any(|w| err.contains(w)),
        "{err}"
    );
    assert!(err.contains("cannot talk to the buildkitd daemon"), "{err}");
    assert!(
        err.contains("buildkit-client-certs workspace is not bound"),
        "{err}"
    );
    eprintln!(
        "buildkit_real: {} without client certificates, the step says:\n{err}",
        m.version
    );
    // A server name the daemon's certificate is not for.
    let step = run_step(
        &task,
        &task_run(&reg)
            .param("BUILDKIT_TLS_SERVER_NAME", "wrong.example")
            .workspace("buildkit-client-certs", &certs.client_files())
            .tools(&tools),
    );
    assert!(!step.ok());
    let err = step.stderr();
    assert!(err.contains("certificate is valid for"), "{err}");
    assert!(err.contains("set BUILDKIT_TLS_SERVER_NAME"), "{err}");
    eprintln!(
        "buildkit_real: {} with a wrong server name, the step says:\n{err}",
        m.version
    );
    eprintln!(
        "buildkit_real: {} rootless mTLS daemon: pushed, refused without certificates, refused with a wrong name",
        m.version
    );
}

#[test]
fn step_as_a_uid_that_owns_nothing_against_a_real_daemon() {
    let Some(m) = machine() else { return };
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let certs = Certs::new();
    let daemon = Daemon::start(&m, &certs);
    let task = daemon_task(&reg, &daemon.addr);
    // The image's TMPDIR and HOME, owned by root here (by uid 1000 in the image).
    let image = common::TempDir::new("image-home");
    let home = image.join("home/user");
    std::fs::create_dir_all(home.join(".local/tmp")).expect("image dirs");
    let stranger = |task: &Value| {
        run_step(
            task,
            &task_run(&reg)
                .workspace("buildkit-client-certs", &certs.client_files())
                .image_env("HOME", home.display().to_string())
                .image_env("TMPDIR", home.join(".local/tmp").display().to_string())
                .uid(1234)
                .tools(&m.bin),
        )
    };
    assert_pushed(&stranger(&task), &reg, &daemon.log());
    // The Task without its own TMPDIR: mktemp fails before buildctl runs.
    let mut old = task.clone();
    old["spec"]["steps"][0]["env"]
        .as_array_mut()
        .expect("env")
        .retain(|e| e["name"] != "TMPDIR");
    let step = stranger(&old);
    assert!(!step.ok());
    assert!(
        step.stderr().contains("Permission denied"),
        "{}",
        step.stderr()
    );
    eprintln!(
        "buildkit_real: {} step as uid 1234: pushed; without its TMPDIR: {}",
        m.version,
        step.stderr().trim()
    );
}

#[test]
fn daemonless_with_rootlesskit() {
    let Some(m) = machine() else { return };
    let Some(script) = m.daemonless.clone() else {
        skip_outside_ci(
            "no buildctl-daemonless.sh in HBFN_BUILDKIT_BIN (moby/buildkit examples/buildctl-daemonless/)",
        );
        return;
    };
    let Some(reg) = Registry::start(Auth::Token {
        realm_scheme: "http",
    }) else {
        return;
    };
    let out = common::run(&common::input(
        &[],
        &format!(
            "registry: {}\nscheme: http\nnamespace: ci\ndaemonless: true\ngenerate: [buildkitdConfig, task]\n",
            reg.addr
        ),
    ));
    assert_eq!(out.exit_code, 0, "{}", out.stderr);
    let items = common::items(&out.stdout);
    let task = common::find(&items, "Task", "buildkit-build").clone();
    let toml = common::find(&items, "ConfigMap", "buildkitd-config")["data"]["buildkitd.toml"]
        .as_str()
        .expect("buildkitd.toml")
        .to_string();
    assert!(toml.contains("http = true"), "{toml}");
    // The tools: this release's, and buildctl-daemonless.sh beside them.
    let tools = common::TempDir::new("daemonless-tools");
    for (name, from) in [
        ("buildctl", m.bin.join("buildctl")),
        ("buildkitd", m.bin.join("buildkitd")),
        ("buildctl-daemonless.sh", script),
    ] {
        std::os::unix::fs::symlink(&from, tools.join(name)).expect("symlink");
    }
    let runtime = owned_dir(&tools.join("run"), &m);
    let step = run_step(
        &task,
        &task_run(&reg)
            .volume_file("/buildkit-config", "buildkitd.toml", &toml)
            .image_env("HOME", "/home/user")
            .image_env("USER", "user")
            .image_env("XDG_RUNTIME_DIR", runtime.display().to_string())
            .uid(m.user.1)
            .tools(&tools),
    );
    assert_pushed(&step, &reg, "(in the step)");
    eprintln!(
        "buildkit_real: {} daemonless (buildctl-daemonless.sh, rootlesskit, uid {}): pushed",
        m.version, m.user.1
    );
}
