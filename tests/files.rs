//! `run` over hostile folders, and every path the tool opens: each case once hung the
//! tool, read without bound, or printed a file from outside the folder it was given.
//! Every run here goes through [`common::bounded`], which kills a run that hangs, so a
//! regression fails (naming the hang) instead of stalling the suite.

mod common;

use std::path::Path;

use common::TempDir;
use common::bounded::{Finished, run_in};
use common::results::{Code, line, line_codes};
use harbor_buildkit_fn::Severity;

/// A functionConfig that generates the Task only, so that `run` passes on a folder of
/// plain resources (its warnings say what it cannot see).
const CONFIG: &str = "\
apiVersion: fn.harbor-buildkit.dev/v1alpha1
kind: HarborBuildkit
metadata:
  name: harbor-buildkit
spec:
  registry: harbor-core.default.svc.cluster.local
  scheme: http
  namespace: ci
  buildkitHost: tcp://buildkitd.buildkit.svc:1234
  generate: [task]
";

fn config_map(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: ci\ndata:\n  k: v\n"
    )
}

/// A folder with the functionConfig at `config.yaml`.
fn workspace() -> TempDir {
    let dir = TempDir::new("files");
    dir.write("config.yaml", CONFIG);
    dir
}

fn run(dir: &Path, args: &[&str]) -> Finished {
    run_in(dir, args, None, &[])
}

fn link(target: &str, at: &Path) {
    std::os::unix::fs::symlink(target, at).unwrap_or_else(|e| panic!("symlink {at:?}: {e}"));
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("a path");
    // SAFETY: a NUL-terminated path; mkfifo only reads it.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(
        rc,
        0,
        "mkfifo {path:?}: {}",
        std::io::Error::last_os_error()
    );
}

/// The error line of `code`, and that it is the run's only result line.
fn refused(f: &Finished, code: Code) -> String {
    assert_eq!(f.code, 1, "stdout:\n{}\nstderr:\n{}", f.stdout, f.stderr);
    assert!(f.stdout.is_empty(), "{}", f.stdout);
    assert_eq!(
        line_codes(&f.stderr),
        [(Severity::Error, code)],
        "{}",
        f.stderr
    );
    line(&f.stderr, code).rest
}

/// How many times a ConfigMap named `name` is in a `run` stream.
fn count(stream: &str, name: &str) -> usize {
    stream.matches(&format!("  name: {name}\n")).count()
}

/// `a -> .` and `b -> .` once made the walk take every path through them (2^depth of
/// them, each longer), until it was killed or the kernel refused a path with "too many
/// levels of symbolic links", at a different place on each run. Each folder is now
/// listed once: the resource is read once, and two runs print the same.
#[test]
fn a_folder_with_two_links_to_itself_is_walked_once() {
    let ws = workspace();
    ws.write("loop/cm.yaml", &config_map("in-the-loop"));
    link(".", &ws.join("loop/a"));
    link(".", &ws.join("loop/b"));
    let first = run(&ws, &["run", "config.yaml", "loop"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(count(&first.stdout, "in-the-loop"), 1, "{}", first.stdout);
    let second = run(&ws, &["run", "config.yaml", "loop"]);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second.stderr, first.stderr);
}

/// Links that are no loop but still multiply the paths: each level has two links to
/// the next, so 2^16 paths lead to the last level's file. It is read once.
#[test]
fn a_tree_of_links_costs_what_its_folders_cost() {
    let ws = workspace();
    let levels = 16;
    for i in 0..levels {
        std::fs::create_dir_all(ws.join(format!("tree/l{i}"))).expect("dir");
    }
    for i in 0..levels - 1 {
        for name in ["x", "y"] {
            link(
                &format!("../l{}", i + 1),
                &ws.join(format!("tree/l{i}/{name}")),
            );
        }
    }
    ws.write(
        &format!("tree/l{}/cm.yaml", levels - 1),
        &config_map("deep"),
    );
    let f = run(&ws, &["run", "config.yaml", "tree"]);
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(count(&f.stdout, "deep"), 1, "{}", f.stdout);
}

/// A FIFO named `*.yaml` once blocked the run for ever (the open waits for a writer).
#[test]
fn a_fifo_in_a_folder_is_refused_not_waited_for() {
    let ws = workspace();
    ws.write("pipes/cm.yaml", &config_map("before-the-pipe"));
    mkfifo(&ws.join("pipes/pipe.yaml"));
    let f = run(&ws, &["run", "config.yaml", "pipes"]);
    let rest = refused(&f, Code::FileNotRegular);
    assert!(rest.starts_with("pipes/pipe.yaml is a FIFO"), "{rest}");
}

/// The same for a FIFO named on the command line, for `check` too, and for
/// `doctor --ca-file` and `--docker-config`.
#[test]
fn a_fifo_named_on_the_command_line_is_refused() {
    let ws = workspace();
    mkfifo(&ws.join("pipe.yaml"));
    let f = run(&ws, &["run", "config.yaml", "pipe.yaml"]);
    refused(&f, Code::FileNotRegular);
    let f = run(&ws, &["check", "config.yaml", "pipe.yaml"]);
    refused(&f, Code::FileNotRegular);
    let f = run(&ws, &["run", "pipe.yaml", "-"]);
    refused(&f, Code::FileNotRegular);
    for flag in ["--ca-file", "--docker-config"] {
        let f = run(
            &ws,
            &[
                "doctor",
                "127.0.0.1:9",
                "--scheme",
                "http",
                flag,
                "pipe.yaml",
            ],
        );
        assert_eq!(f.code, 1, "{}", f.stdout);
        assert!(
            f.stdout
                .contains("pipe.yaml: a FIFO (named pipe), not a regular file"),
            "{flag}: {}",
            f.stdout
        );
    }
}

/// /dev/zero never ends and /dev/urandom neither: named on the command line, or
/// through a link named there, they are refused for what they are.
#[test]
fn endless_devices_are_refused() {
    let ws = workspace();
    link("/dev/zero", &ws.join("zero.yaml"));
    for path in ["/dev/zero", "/dev/urandom", "zero.yaml"] {
        let f = run(&ws, &["run", "config.yaml", path]);
        let rest = refused(&f, Code::FileNotRegular);
        assert!(
            rest.starts_with(&format!("{path} is a character device")),
            "{rest}"
        );
    }
    let f = run(&ws, &["doctor", "127.0.0.1:9", "--ca-file", "/dev/zero"]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert!(
        f.stdout
            .contains("cannot read --ca-file /dev/zero: a character device, not a regular file"),
        "{}",
        f.stdout
    );
}

/// A link in a folder to a device, or to a Secret, outside the folder: refused, and
/// nothing of the Secret printed. (The link to /dev/zero once grew the output past a
/// gigabyte in seconds.)
#[test]
fn links_out_of_the_folder_are_refused() {
    let ws = workspace();
    ws.write(
        "outside/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: admin\nstringData:\n  password: s3cr3t-from-outside\n",
    );
    ws.write("app/cm.yaml", &config_map("app"));
    link("../outside/secret.yaml", &ws.join("app/secret.yaml"));
    let f = run(&ws, &["run", "config.yaml", "app"]);
    let rest = refused(&f, Code::FileOutsideFolder);
    assert!(
        rest.starts_with("app/secret.yaml is a symlink to ../outside/secret.yaml"),
        "{rest}"
    );
    assert!(!f.stderr.contains("s3cr3t") && !f.stdout.contains("s3cr3t"));

    let zero = workspace();
    zero.write("app/cm.yaml", &config_map("app"));
    link("/dev/zero", &zero.join("app/zero.yaml"));
    let f = run(&zero, &["run", "config.yaml", "app"]);
    refused(&f, Code::FileOutsideFolder);

    // A folder outside, linked in, is refused the same way.
    let dir = workspace();
    dir.write("elsewhere/secret.yaml", &config_map("elsewhere"));
    dir.write("app/cm.yaml", &config_map("app"));
    link("../elsewhere", &dir.join("app/more"));
    let f = run(&dir, &["run", "config.yaml", "app"]);
    refused(&f, Code::FileOutsideFolder);

    // Named on the command line, the same file is the user's choice, and is read.
    let f = run(&ws, &["run", "config.yaml", "outside/secret.yaml"]);
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert!(f.stdout.contains("s3cr3t-from-outside"), "{}", f.stdout);
}

/// Links that stay inside the folder are followed (to a file in a dot-folder, which
/// the walk itself skips, and to that folder), each file read once however many ways
/// lead to it; a link that leads nowhere is named.
#[test]
fn links_inside_the_folder_are_followed() {
    let ws = workspace();
    ws.write("app/.shared/cm.yaml", &config_map("shared"));
    link(".shared/cm.yaml", &ws.join("app/cm.yaml"));
    link(".shared", &ws.join("app/linked"));
    // Through `linked`, .shared is walked as a folder: its file, reached a second way,
    // is read once.
    let f = run(&ws, &["run", "config.yaml", "app"]);
    assert_eq!(f.code, 0, "{}", f.stderr);
    assert_eq!(count(&f.stdout, "shared"), 1, "{}", f.stdout);

    link("missing.yaml", &ws.join("app/dangling.yaml"));
    let f = run(&ws, &["run", "config.yaml", "app"]);
    let rest = refused(&f, Code::FileUnreadable);
    assert!(rest.starts_with("cannot read app/dangling.yaml"), "{rest}");
}

/// A regular file larger than the bound (sparse: it takes no disk) is refused after
/// the bound plus one byte, whatever its size; a smaller bound can be given.
#[test]
fn a_file_past_the_size_bound_is_refused() {
    let ws = workspace();
    ws.write("app/cm.yaml", &config_map("app"));
    let big = std::fs::File::create(ws.join("app/huge.yaml")).expect("create");
    big.set_len(200 << 20).expect("a sparse file");
    let f = run(&ws, &["run", "config.yaml", "app"]);
    let rest = refused(&f, Code::InputTooLarge);
    assert!(
        rest.starts_with("app/huge.yaml: reading it takes the input past 128 MiB"),
        "{rest}"
    );

    std::fs::remove_file(ws.join("app/huge.yaml")).expect("rm");
    let f = run(
        &ws,
        &["run", "--max-input-size", "300", "config.yaml", "app"],
    );
    let rest = refused(&f, Code::InputTooLarge);
    assert!(rest.contains("past 300 bytes"), "{rest}");
    let f = run(
        &ws,
        &["run", "--max-input-size", "1M", "config.yaml", "app"],
    );
    assert_eq!(f.code, 0, "{}", f.stderr);
    let f = run(&ws, &["run", "--max-input-size", "0", "config.yaml", "app"]);
    assert_eq!(f.code, 2, "{}", f.stderr);
}

/// stdin is read by the same bound: /dev/zero piped in ends at it.
#[test]
fn stdin_is_bounded_too() {
    let ws = workspace();
    let f = run_in(
        &ws,
        &["run", "config.yaml", "-"],
        Some(Path::new("/dev/zero")),
        &[],
    );
    let rest = refused(&f, Code::InputTooLarge);
    assert!(
        rest.starts_with("<stdin>: reading it takes the input past 128 MiB"),
        "{rest}"
    );
    let f = run_in(&ws, &["check"], Some(Path::new("/dev/zero")), &[]);
    refused(&f, Code::InputTooLarge);
}

/// `run --help` says the rules a user meets here, with their codes.
#[test]
fn run_help_says_what_is_read() {
    let ws = workspace();
    let f = run(&ws, &["run", "--help"]);
    assert_eq!(f.code, 0);
    let help = f.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for rule in [
        "regular files only: a FIFO, a device (/dev/zero) or a socket is refused (HBF012)",
        "at most --max-input-size bytes in all, CONFIG, files and stdin together (HBF013)",
        "a symlink is followed only when its target, every link resolved, is in or below that folder (HBF014)",
        "each folder and each file once",
        "--max-input-size <SIZE>",
        "[default: 128M]",
    ] {
        assert!(
            help.contains(rule),
            "run --help lacks {rule:?}:\n{}",
            f.stdout
        );
    }
}
