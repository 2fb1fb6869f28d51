//! The helm routes without the chart's sources: a replay chart that renders a committed
//! stream again, and helm 3 and helm 4 run on it plain, with the function as a helm 3
//! `--post-renderer`, and as a helm 4 `postrenderer/v1` plugin (with an identity plugin
//! beside it for the baseline, since helm 4 re-serialises whatever a post-renderer
//! prints).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::TempDir;
use crate::common::tools::{BIN, helm_or_skip};

/// A chart named `harbor` with one template per `# Source:` path of `stream`, each
/// printing its documents with `.Files.Get` from a copy under `stream/`: helm renders
/// it back to `stream` byte for byte (the same sort, the same `# Source:` lines), which
/// `tests/helm.rs` checks.
pub fn replay_chart(dir: &Path, stream: &str) {
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("chart dir");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    write(
        "Chart.yaml",
        "apiVersion: v2\nname: harbor\nversion: 0.0.0\ndescription: replays a committed render (tests/common/harbor_helm/routes.rs)\n",
    );
    let (_, docs) = super::stream::documents(stream);
    let mut files: Vec<(String, Vec<&str>)> = Vec::new();
    for d in &docs {
        let (source, body) = d.text["---\n".len()..]
            .split_once('\n')
            .expect("a # Source: line");
        let path = source
            .strip_prefix("# Source: harbor/templates/")
            .unwrap_or_else(|| panic!("not a harbor template: {source}"));
        match files.iter_mut().find(|(p, _)| p == path) {
            Some((_, bodies)) => bodies.push(body),
            None => files.push((path.to_string(), vec![body])),
        }
    }
    for (path, bodies) in files {
        write(&format!("stream/{path}"), &bodies.join("---\n"));
        write(
            &format!("templates/{path}"),
            &format!("{{{{ .Files.Get \"stream/{path}\" }}}}"),
        );
    }
}

/// A helm binary with its own cache, config and data folders (helm 3 cannot read a
/// helm 4 plugin, so each major gets its own).
pub struct Helm {
    pub major: u8,
    pub bin: PathBuf,
    home: TempDir,
}

impl Helm {
    /// helm `major`, or `None` after a `SKIPPED:` line (a failure under CI=true).
    pub fn new(major: u8) -> Option<Helm> {
        let bin = helm_or_skip(major)?;
        Some(Helm {
            major,
            bin,
            home: TempDir::new(&format!("helm{major}")),
        })
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        for part in ["cache", "config", "data"] {
            cmd.env(
                format!("HELM_{}_HOME", part.to_uppercase()),
                self.home.join(part),
            );
        }
        cmd
    }

    pub fn version(&self) -> String {
        let out = self
            .command()
            .args(["version", "--short"])
            .output()
            .expect("helm runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `helm template harbor CHART -n harbor ARGS...`.
    pub fn template(&self, chart: &Path, args: &[&str]) -> Output {
        self.command()
            .args(["template", "harbor"])
            .arg(chart)
            .args(["-n", "harbor"])
            .args(args)
            .output()
            .expect("helm runs")
    }

    /// helm 3: the function's binary as `--post-renderer`, run with `run CONFIG`.
    pub fn with_function_v3(&self, chart: &Path, config: &Path) -> Output {
        let config = config.to_str().expect("UTF-8 path");
        self.template(
            chart,
            &[
                "--post-renderer",
                BIN,
                "--post-renderer-args",
                "run",
                "--post-renderer-args",
                config,
            ],
        )
    }

    /// helm 4: the `postrenderer/v1` plugin `name`, given CONFIG.
    pub fn with_plugin(&self, chart: &Path, name: &str, config: Option<&Path>) -> Output {
        let mut args = vec!["--post-renderer", name];
        if let Some(config) = config {
            args.extend(["--post-renderer-args", config.to_str().expect("UTF-8 path")]);
        }
        self.template(chart, &args)
    }

    /// `helm plugin install DIR` (helm 4 links a local folder in).
    pub fn install_plugin(&self, dir: &Path) {
        let out = self
            .command()
            .args(["plugin", "install"])
            .arg(dir)
            .output()
            .expect("helm runs");
        assert!(
            out.status.success(),
            "helm plugin install {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The two helm 4 plugins, installed: `harbor-buildkit` (the function's binary with
    /// `run`, the layout helm 4 v4.1.4 reads: internal/plugin/metadata_v1.go, and
    /// runtime_subprocess.go, which appends `--post-renderer-args`), and `identity` (`cat`).
    pub fn install_plugins(&self, dir: &Path) {
        let plugin = |name: &str, command: &str, args: &str| {
            let d = dir.join(name);
            std::fs::create_dir_all(&d).expect("plugin dir");
            std::fs::write(
                d.join("plugin.yaml"),
                format!(
                    "apiVersion: v1\ntype: postrenderer/v1\nname: {name}\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: {command}\n      args: [{args}]\n"
                ),
            )
            .expect("plugin.yaml");
            d
        };
        let function = plugin(
            "harbor-buildkit",
            "${HELM_PLUGIN_DIR}/bin/harbor-buildkit-fn",
            "\"run\"",
        );
        std::fs::create_dir_all(function.join("bin")).expect("bin");
        std::os::unix::fs::symlink(BIN, function.join("bin/harbor-buildkit-fn")).expect("symlink");
        self.install_plugin(&function);
        self.install_plugin(&plugin("identity", "cat", ""));
    }
}

/// stdout of a helm run that must succeed.
pub fn stdout_of(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}
