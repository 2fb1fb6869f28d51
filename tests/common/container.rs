//! The container image under a real runtime, for `tests/container.rs`: podman (what kpt
//! runs with `KRM_FN_RUNTIME=podman`) and the docker CLI against `podman system service`
//! (what kustomize and `kubectl kustomize` run), with the configuration that
//! `.ci/container-image` writes under `target/containers/`.
//!
//! [`Podman::find`] prints `SKIPPED: ...` and returns `None` when podman or the image is
//! missing (under CI=true it panics instead, see [`super::require`]); so does
//! [`Podman::docker_api`] without a docker CLI. A [`DockerApi`] is a podman service on
//! a socket in its own temp dir; dropping it kills the service.
#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::tools::run_with_stdin;
use super::{TempDir, parse_json, require, root, which};

/// How long [`Podman::docker_api`] waits for the service's socket.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);

/// The image's name: krm-fn.yaml's `runtime.container.image` (of its one version), generated from
/// `IMAGE` in src/describe.rs (the one place it is written; `.ci/container-image`
/// tags the image with the same field).
pub fn image_name() -> String {
    let path = root().join("krm-fn.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let definition = parse_json(&text);
    let images: Vec<&str> = definition["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["runtime"]["container"]["image"].as_str())
        .collect();
    assert_eq!(
        images.len(),
        1,
        "krm-fn.yaml: runtime.container.image {images:?}"
    );
    images[0].to_string()
}

/// podman, configured as `.ci/container-image` left it, with the image present.
pub struct Podman {
    bin: PathBuf,
    env: Vec<(&'static str, PathBuf)>,
    /// The image's name ([`image_name`]).
    pub image: String,
}

impl Podman {
    /// podman with the image, or `None` after a `SKIPPED` line (a panic under CI=true).
    pub fn find() -> Option<Podman> {
        let Some(bin) = which("podman") else {
            require("podman (.ci/container-image installs it)", false);
            return None;
        };
        // CONTAINERS_CONF / CONTAINERS_STORAGE_CONF as given, else the files
        // .ci/container-image writes (runc, cgroupfs, ulimits, vfs under target/).
        let mut env = Vec::new();
        for (var, file) in [
            ("CONTAINERS_CONF", "containers.conf"),
            ("CONTAINERS_STORAGE_CONF", "storage.conf"),
        ] {
            let path = std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target/containers").join(file));
            if path.is_file() {
                env.push((var, path));
            }
        }
        let podman = Podman {
            bin,
            env,
            image: image_name(),
        };
        let exists = podman
            .command()
            .args(["image", "exists", &podman.image])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            // The image is built from the static binary; .ci/run says when it has none.
            if let Ok(why) = std::env::var("HBFN_STATIC_BIN_UNAVAILABLE") {
                eprintln!("SKIPPED: no image without a static binary: {why}");
                return None;
            }
            require(
                &format!("the image {} (built by .ci/container-image)", podman.image),
                false,
            );
            return None;
        }
        Some(podman)
    }

    /// `podman` with the configuration in its environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        self.env_on(&mut cmd);
        cmd
    }

    /// Puts the configuration into `cmd`'s environment (for kpt, which runs podman).
    pub fn env_on<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        for (var, path) in &self.env {
            cmd.env(var, path);
        }
        cmd
    }

    /// Runs podman with `args` and `stdin`, and returns its output.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        run_with_stdin(self.command().args(args), stdin)
    }

    /// A Docker API on a fresh socket, served by podman, for the docker CLI that
    /// kustomize runs; `None` after a `SKIPPED` line when there is no docker CLI.
    pub fn docker_api(&self) -> Option<DockerApi> {
        if which("docker").is_none() {
            require("the docker CLI (kustomize runs `docker run`)", false);
            return None;
        }
        let dir = TempDir::new("docker-api");
        let socket = dir.join("podman.sock");
        let log_path = dir.join("service.log");
        let log = std::fs::File::create(&log_path).expect("service log");
        let log_err = log.try_clone().expect("service log handle");
        // --time 0: no idle timeout; the service lives until DockerApi is dropped.
        let child = self
            .command()
            .args(["system", "service", "--time", "0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("podman system service starts");
        let docker_config = dir.join("docker-config");
        std::fs::create_dir_all(&docker_config).expect("docker config dir");
        // An empty config (podman, too, reads DOCKER_CONFIG, and wants the file).
        std::fs::write(docker_config.join("config.json"), "{}\n").expect("docker config");
        let mut api = DockerApi {
            child,
            host: format!("unix://{}", socket.display()),
            docker_config,
            log: log_path,
            dir,
        };
        let start = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = api.child.try_wait() {
                panic!("podman system service exited ({status}):\n{}", api.log());
            }
            assert!(
                start.elapsed() < SERVICE_TIMEOUT,
                "no socket from podman system service after {SERVICE_TIMEOUT:?}:\n{}",
                api.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(api)
    }
}

/// `podman system service` on a unix socket; dropping it kills the service.
pub struct DockerApi {
    child: Child,
    /// `unix://<socket>`, for DOCKER_HOST.
    pub host: String,
    /// An empty DOCKER_CONFIG, so that the docker CLI reads nothing of ~/.docker.
    docker_config: PathBuf,
    log: PathBuf,
    dir: TempDir,
}

impl DockerApi {
    /// Points the docker CLI that `cmd` runs at this service.
    pub fn env_on<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.docker_config)
    }

    /// The service's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for DockerApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
