//! A generated Task's step, run the way Tekton runs it, with stand-ins for `buildctl`
//! and `buildctl-daemonless.sh` that record their arguments.
//!
//! What Tekton does and this does too (tektoncd/pipeline v1.15.0):
//! - a required param or workspace that the run does not give is refused
//!   (`pkg/reconciler/taskrun/validate_taskrun.go`); a param not given takes its default;
//! - `$(params.X)` in `env` and `args` becomes the value, and an array param's
//!   `$(params.X[*])`, an isolated `args` element, becomes its items
//!   (`pkg/reconciler/taskrun/resources/apply.go`);
//! - `$(workspaces.X.path)` is the mount path, `""` for an optional workspace not
//!   bound, and `$(workspaces.X.bound)` is `true` or `false` (`ApplyWorkspaces`);
//! - `$(results.X.path)` is a file the step writes;
//! - the script runs with the `args` as its arguments (`docs/tasks.md`).
//!
//! Volume mounts are folders below the run's temp dir, so an absolute `mountPath`
//! such as `/docker-config` is that folder (mode 0777, as the kubelet makes an
//! emptyDir's). The environment is the image's (`TaskRun::image_env`), then the step's,
//! then a pod template's (`TaskRun::pod_env`), as Tekton orders them. `TaskRun::uid`
//! runs the step as a uid that owns nothing, and `TaskRun::tools` with real BuildKit
//! binaries in place of the stand-ins.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::TempDir;

/// What a TaskRun gives: param values and bound workspaces (folders with files); and
/// what the pod around the step brings: the image's environment, a pod template's,
/// the uid it runs as, and the tools on its PATH.
#[derive(Default)]
pub struct TaskRun {
    pub params: BTreeMap<String, Value>,
    pub workspaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The image's `ENV`: under the step's `env`.
    pub image_env: BTreeMap<String, String>,
    /// A pod template's `env`: Tekton appends it after the step's, so it wins
    /// (tektoncd/pipeline pkg/pod/pod.go, `podTemplate.Env`).
    pub pod_env: BTreeMap<String, String>,
    /// Runs the step as this uid and gid, with no supplementary groups (`setpriv`;
    /// the test must run as root), owning nothing of the image.
    pub uid: Option<u32>,
    /// A folder of real tools (`buildctl`, `buildctl-daemonless.sh`, ...) to run
    /// instead of the stand-ins.
    pub tools: Option<PathBuf>,
    /// How the `buildctl` stand-in behaves.
    pub buildctl: Buildctl,
    /// Files in the step's volume mounts (a ConfigMap's): mount path, file, content.
    pub volume_files: Vec<(String, String, String)>,
}

/// How the `buildctl` stand-in answers.
#[derive(Default, Clone)]
pub enum Buildctl {
    /// Records its arguments and writes the metadata file.
    #[default]
    Works,
    /// Every call fails, saying this on stderr: no daemon answers.
    Unreachable(String),
    /// `build` fails, saying this; `debug workers` answers.
    BuildFails(String),
}

impl TaskRun {
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// Binds workspace `name` to a folder holding `files` (name, content).
    pub fn workspace(mut self, name: &str, files: &[(&str, &str)]) -> Self {
        self.workspaces.insert(
            name.into(),
            files
                .iter()
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .collect(),
        );
        self
    }

    pub fn image_env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.image_env.insert(name.into(), value.into());
        self
    }

    pub fn pod_env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.pod_env.insert(name.into(), value.into());
        self
    }

    pub fn uid(mut self, uid: u32) -> Self {
        self.uid = Some(uid);
        self
    }

    pub fn tools(mut self, dir: &Path) -> Self {
        self.tools = Some(dir.to_path_buf());
        self
    }

    pub fn buildctl(mut self, b: Buildctl) -> Self {
        self.buildctl = b;
        self
    }

    /// Puts `file` with `content` in the volume mounted at `mount_path`.
    pub fn volume_file(mut self, mount_path: &str, file: &str, content: &str) -> Self {
        self.volume_files
            .push((mount_path.into(), file.into(), content.into()));
        self
    }
}

/// The step's run: which tool it called, with what, and in which environment.
pub struct StepRun {
    pub dir: TempDir,
    pub out: Output,
    /// `buildctl` or `buildctl-daemonless.sh`, and its argument vector.
    pub tool: Option<String>,
    pub argv: Vec<String>,
    /// Every call of a stand-in, its arguments joined by spaces, in order.
    pub calls: Vec<String>,
    /// `BUILDKITD_FLAGS` as the tool saw it (daemonless).
    pub buildkitd_flags: String,
    /// `DOCKER_AUTH_CONFIG` as the tool saw it (`unset` when it was not set).
    pub docker_auth_config: String,
    /// Where each workspace was mounted.
    pub mounts: BTreeMap<String, PathBuf>,
}

impl StepRun {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn ok(&self) -> bool {
        self.out.status.success()
    }

    /// The argv up to `build`: buildctl's global flags.
    pub fn global(&self) -> &[String] {
        let at = self
            .argv
            .iter()
            .position(|a| a == "build")
            .unwrap_or(self.argv.len());
        &self.argv[..at]
    }

    /// The values of every `flag VALUE` pair after `build`.
    pub fn values(&self, flag: &str) -> Vec<&str> {
        let build = &self.argv[self.global().len()..];
        build
            .windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    pub fn path(&self, workspace: &str) -> String {
        self.mounts
            .get(workspace)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// The digest the stand-ins write to `--metadata-file`.
pub fn digest() -> String {
    format!("sha256:{}", "a".repeat(64))
}

/// A stand-in that records its arguments (each ended by a NUL, so that a newline
/// inside one stays in it) and `BUILDKITD_FLAGS`, and writes the metadata file buildctl
/// writes; or fails as `how` says. Each call appends its argv to `calls`.
fn stand_in(dir: &Path, tool: &str, how: &Buildctl) -> String {
    let d = dir.display();
    let record = format!(
        "printf '%s\\n' {tool} > \"{d}/tool\"\nprintf '%s\\0' \"$@\" > \"{d}/argv\"\nprintf '%s ' \"$@\" >> \"{d}/calls\"\necho >> \"{d}/calls\"\nprintf '%s' \"${{BUILDKITD_FLAGS:-}}\" > \"{d}/flags\"\nprintf '%s' \"${{DOCKER_AUTH_CONFIG-unset}}\" > \"{d}/docker_auth_config\"\n"
    );
    let fail = |when: &str, message: &str| {
        format!(
            "for a do if [ \"$a\" = {when} ]; then printf '%s\\n' '{}' >&2; exit 1; fi; done\n",
            message.replace('\'', "'\\''")
        )
    };
    let behaviour = match how {
        _ if tool != "buildctl" => String::new(),
        Buildctl::Works => String::new(),
        Buildctl::Unreachable(m) => fail("build", m) + &fail("debug", m),
        Buildctl::BuildFails(m) => fail("build", m),
    };
    format!(
        "#!/bin/sh\n{record}{behaviour}while [ $# -gt 0 ]; do if [ \"$1\" = --metadata-file ]; then printf '{{\\n  \"containerimage.digest\": \"{digest}\"\\n}}' > \"$2\"; fi; shift; done\n",
        digest = digest()
    )
}

/// Runs the one step of `task` as `run` binds it. Panics where Tekton would refuse
/// the run (a required param or workspace missing).
pub fn run_step(task: &Value, run: &TaskRun) -> StepRun {
    let dir = TempDir::new("taskrun");
    let bin = dir.join("bin");
    let log = dir.join("log");
    for d in [&bin, &log, &dir.join("results"), &dir.join("mnt")] {
        std::fs::create_dir_all(d).expect("dirs");
    }
    install_stand_ins(&bin, &log, &run.buildctl);
    let spec = &task["spec"];
    let steps = spec["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "one step");
    let step = &steps[0];
    let vars = Variables {
        params: bind_params(spec, run),
        workspaces: bind_workspaces(spec, run, &dir),
        spec,
        dir: &dir,
    };
    let tools = run.tools.as_deref().unwrap_or(&bin);
    let mut cmd = command(step, &vars, run, tools);
    let out = cmd.output().expect("sh runs");
    let read = |f: &str| std::fs::read_to_string(log.join(f)).ok();
    StepRun {
        tool: read("tool").map(|t| t.trim().to_string()),
        argv: read("argv")
            .and_then(|a| {
                a.strip_suffix('\0')
                    .map(|a| a.split('\0').map(str::to_string).collect())
            })
            .unwrap_or_default(),
        calls: read("calls")
            .map(|c| c.lines().map(|l| l.trim_end().to_string()).collect())
            .unwrap_or_default(),
        buildkitd_flags: read("flags").unwrap_or_default(),
        docker_auth_config: read("docker_auth_config").unwrap_or_default(),
        out,
        mounts: vars.workspaces.mounts,
        dir,
    }
}

fn install_stand_ins(bin: &Path, log: &Path, buildctl: &Buildctl) {
    for tool in ["buildctl", "buildctl-daemonless.sh"] {
        let path = bin.join(tool);
        std::fs::write(&path, stand_in(log, tool, buildctl)).expect("stand-in");
        chmod(&path, 0o755);
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Params: given, else the default; a required one missing is refused.
fn bind_params(spec: &Value, run: &TaskRun) -> BTreeMap<String, Value> {
    let mut params: BTreeMap<String, Value> = BTreeMap::new();
    for p in spec["params"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().expect("param name").to_string();
        let value = run
            .params
            .get(&name)
            .or(p.get("default"))
            .unwrap_or_else(|| panic!("Tekton refuses the run: param {name} is required"))
            .clone();
        params.insert(name, value);
    }
    for given in run.params.keys() {
        assert!(params.contains_key(given), "no param {given} in the Task");
    }
    params
}

/// The workspaces of a run: each bound to a folder, or unbound when optional.
struct Workspaces {
    mounts: BTreeMap<String, PathBuf>,
    bound: BTreeMap<String, bool>,
}

fn bind_workspaces(spec: &Value, run: &TaskRun, dir: &TempDir) -> Workspaces {
    let mut mounts = BTreeMap::new();
    let mut bound = BTreeMap::new();
    for w in spec["workspaces"].as_array().into_iter().flatten() {
        let name = w["name"].as_str().expect("workspace name").to_string();
        match run.workspaces.get(&name) {
            Some(files) => {
                let path = dir.join("workspace").join(&name);
                std::fs::create_dir_all(&path).expect("workspace");
                for (f, c) in files {
                    std::fs::write(path.join(f), c).expect("workspace file");
                }
                mounts.insert(name.clone(), path);
                bound.insert(name, true);
            }
            None => {
                assert!(
                    w["optional"] == true,
                    "Tekton refuses the run: workspace {name} is required"
                );
                bound.insert(name, false);
            }
        }
    }
    for given in run.workspaces.keys() {
        assert!(
            bound.contains_key(given),
            "no workspace {given} in the Task"
        );
    }
    Workspaces { mounts, bound }
}

/// What Tekton substitutes into the Task's text for one run.
struct Variables<'a> {
    params: BTreeMap<String, Value>,
    workspaces: Workspaces,
    spec: &'a Value,
    dir: &'a TempDir,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => panic!("a string param used as one: {other}"),
    }
}

impl Variables<'_> {
    fn resolve(&self, var: &str) -> Option<String> {
        if let Some(name) = var.strip_prefix("params.") {
            return self.params.get(name).map(text);
        }
        if let Some(rest) = var.strip_prefix("workspaces.") {
            let (name, what) = rest.rsplit_once('.')?;
            let is_bound = *self.workspaces.bound.get(name)?;
            return match what {
                "path" => Some(
                    self.workspaces
                        .mounts
                        .get(name)
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                ),
                "bound" => Some(is_bound.to_string()),
                _ => None,
            };
        }
        let name = var.strip_prefix("results.")?.strip_suffix(".path")?;
        self.spec["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["name"] == name)
            .then(|| self.dir.join("results").join(name).display().to_string())
    }

    /// Tekton replaces each variable of the Task's text with its value in one pass
    /// (tektoncd/pipeline pkg/substitution `ApplyReplacements`): a value is never read
    /// again for variables, so a value holding `$(...)` stays as it is.
    fn substitute(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find("$(") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after
                .find(')')
                .unwrap_or_else(|| panic!("unclosed $( in {s}"));
            let var = &after[..end];
            let value = self
                .resolve(var)
                .unwrap_or_else(|| panic!("unresolved: $({var}) in {s}"));
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The step as the container runs it: `sh -c script` with its args (an array param
/// expanded in place) and env (the image's, the step's, a pod template's), as `run`'s
/// uid when it gives one; volume mounts each a folder (mode 0777, as the kubelet makes
/// an emptyDir's), env values naming one pointing into it.
fn command(step: &Value, vars: &Variables, run: &TaskRun, tools: &Path) -> std::process::Command {
    let mut mount_dirs = Vec::new();
    for m in step["volumeMounts"].as_array().into_iter().flatten() {
        let path = m["mountPath"].as_str().expect("mountPath");
        let local = vars.dir.join("mnt").join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&local).expect("mount");
        chmod(&local, 0o777);
        for (_, file, content) in run.volume_files.iter().filter(|(p, _, _)| p == path) {
            std::fs::write(local.join(file), content).expect("volume file");
        }
        mount_dirs.push((path.to_string(), local));
    }
    let mapped = |value: &str| map_mounts(value, &mount_dirs, &vars.dir.join("mnt"));
    let mut cmd = match run.uid {
        Some(uid) => {
            // The uid must reach what the run hands the step: the stand-ins' log and
            // the results folder are writable by anyone, as Tekton's are.
            for d in ["log", "results"] {
                chmod(&vars.dir.join(d), 0o777);
            }
            let mut c = std::process::Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={uid}"))
                .arg("--clear-groups")
                .arg("sh");
            c
        }
        None => std::process::Command::new("sh"),
    };
    cmd.arg("-c")
        .arg(step["script"].as_str().expect("script"))
        .arg("step.sh");
    for a in step["args"].as_array().into_iter().flatten() {
        let a = a.as_str().expect("arg");
        match a
            .strip_prefix("$(params.")
            .and_then(|r| r.strip_suffix("[*])"))
        {
            Some(name) => {
                for item in vars.params[name].as_array().expect("an array param") {
                    cmd.arg(text(item));
                }
            }
            None => {
                cmd.arg(vars.substitute(a));
            }
        }
    }
    cmd.env_clear()
        .env("PATH", super::tools::path_with(&[tools]))
        .env("TMPDIR", vars.dir.path());
    for (name, value) in &run.image_env {
        cmd.env(name, mapped(value));
    }
    for e in step["env"].as_array().into_iter().flatten() {
        // A mount path in the Task's own text is the mount's folder here; a value
        // substituted in (a workspace's path) is one already.
        let raw = mapped(e["value"].as_str().expect("env value"));
        cmd.env(e["name"].as_str().expect("env name"), vars.substitute(&raw));
    }
    cmd.envs(&run.pod_env);
    cmd
}

/// `value` with each path in it (the whole value, a word, or a word's part after `=`:
/// `--config=/buildkit-config/buildkitd.toml`) that is a mount path, below one, or
/// above one (the image's `HOME` above a mounted state folder) made the folder that
/// stands for it under `mnt`. A folder the tests made (`TempDir`, under the system's
/// temp dir) is a path of this machine already, and stays.
fn map_mounts(value: &str, mounts: &[(String, PathBuf)], mnt: &Path) -> String {
    let ours = std::env::temp_dir().join("hbfn-").display().to_string();
    let map_path = |p: &str| -> Option<String> {
        let hit = !p.starts_with(&ours)
            && mounts.iter().any(|(m, _)| {
                p == m || p.starts_with(&format!("{m}/")) || m.starts_with(&format!("{p}/"))
            });
        (p.starts_with('/') && hit)
            .then(|| mnt.join(p.trim_start_matches('/')).display().to_string())
    };
    value
        .split(' ')
        .map(|word| match word.split_once('=') {
            Some((k, v)) => map_path(v).map_or_else(|| word.to_string(), |v| format!("{k}={v}")),
            None => map_path(word).unwrap_or_else(|| word.to_string()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
