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
//! such as `/docker-config` is that folder.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use super::TempDir;

/// What a TaskRun gives: param values and bound workspaces (folders with files).
#[derive(Default)]
pub struct TaskRun {
    pub params: BTreeMap<String, Value>,
    pub workspaces: BTreeMap<String, BTreeMap<String, String>>,
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
}

/// The step's run: which tool it called, with what, and in which environment.
pub struct StepRun {
    pub dir: TempDir,
    pub out: Output,
    /// `buildctl` or `buildctl-daemonless.sh`, and its argument vector.
    pub tool: Option<String>,
    pub argv: Vec<String>,
    /// `BUILDKITD_FLAGS` as the tool saw it (daemonless).
    pub buildkitd_flags: String,
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
/// writes.
fn stand_in(dir: &Path, tool: &str) -> String {
    format!(
        "#!/bin/sh\nprintf '%s\\n' {tool} > \"{d}/tool\"\nprintf '%s\\0' \"$@\" > \"{d}/argv\"\nprintf '%s' \"${{BUILDKITD_FLAGS:-}}\" > \"{d}/flags\"\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --metadata-file ]; then printf '{{\\n  \"containerimage.digest\": \"{digest}\"\\n}}' > \"$2\"; fi; shift; done\n",
        d = dir.display(),
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
    install_stand_ins(&bin, &log);
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
    let mut cmd = command(step, &vars, &bin);
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
        buildkitd_flags: read("flags").unwrap_or_default(),
        out,
        mounts: vars.workspaces.mounts,
        dir,
    }
}

fn install_stand_ins(bin: &Path, log: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for tool in ["buildctl", "buildctl-daemonless.sh"] {
        let path = bin.join(tool);
        std::fs::write(&path, stand_in(log, tool)).expect("stand-in");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
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
/// expanded in place) and env, volume mounts each a folder, env values naming one
/// pointing into it.
fn command(step: &Value, vars: &Variables, bin: &Path) -> std::process::Command {
    let mut mount_dirs = Vec::new();
    for m in step["volumeMounts"].as_array().into_iter().flatten() {
        let path = m["mountPath"].as_str().expect("mountPath");
        let local = vars.dir.join("mnt").join(path.trim_start_matches('/'));
        std::fs::create_dir_all(&local).expect("mount");
        mount_dirs.push((path.to_string(), local));
    }
    let mut cmd = std::process::Command::new("sh");
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
        .env("PATH", super::tools::path_with(&[bin]))
        .env("TMPDIR", vars.dir.path());
    for e in step["env"].as_array().into_iter().flatten() {
        let mut value = vars.substitute(e["value"].as_str().expect("env value"));
        for (path, local) in &mount_dirs {
            if value == *path || value.starts_with(&format!("{path}/")) {
                value = value.replacen(path.as_str(), &local.display().to_string(), 1);
            }
        }
        cmd.env(e["name"].as_str().expect("env name"), value);
    }
    cmd
}
