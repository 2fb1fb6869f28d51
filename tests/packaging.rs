//! The container image and the static binary it holds.

mod common;

use std::process::Command;

use common::{require, root};

fn dockerfile() -> String {
    std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile")
}

#[test]
fn dockerfile_passes_hadolint() {
    common::assert_lint_clean("hadolint", &[], &root().join("Dockerfile"));
}

/// Where a file of an image comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A file of the build context (the repository, or target/ for the prebuilt files).
    Context(String),
    /// `cargo build --target <target>` in a stage, at this path under its WORKDIR.
    Built { target: String, path: String },
    /// A file the stage's base image ships.
    Base(String),
}

/// One stage of a Dockerfile, as far as the files it ends with go.
#[derive(Debug, Clone, Default)]
struct Stage {
    name: Option<String>,
    base: String,
    files: std::collections::BTreeMap<String, Source>,
    runs: usize,
    user: Option<String>,
    entrypoint: Option<String>,
    labels: Vec<(String, String)>,
    args: Vec<(String, String)>,
}

/// Files the base images this Dockerfile builds on are known to ship: Debian's CA
/// bundle (package ca-certificates, in the rust:*-bookworm images).
const BASE_FILES: &[(&str, &str)] = &[(
    "docker.io/library/rust:",
    "/etc/ssl/certs/ca-certificates.crt",
)];

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions(d: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in d.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(t);
                if let Some((op, rest)) = current.trim().split_once(' ') {
                    out.push((op.to_ascii_uppercase(), rest.trim().to_string()));
                }
                current.clear();
            }
        }
    }
    out
}

/// `text` with `${NAME}` and `$NAME` replaced from `args`.
fn expand(text: &str, args: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (k, v) in args {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}

/// What `docker build --build-arg BINARY_FROM=<binary_from>` makes of the Dockerfile:
/// every stage with the files it ends with. A `COPY --from` of a file the stage does not
/// have fails the build, as it does.
fn interpret(d: &str, build_args: &[(&str, &str)]) -> Vec<Stage> {
    let mut global: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for (op, rest) in instructions(d) {
        let given = |name: &str| {
            build_args
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        if op == "ARG" {
            let (name, default) = rest.split_once('=').unwrap_or((&rest, ""));
            let value = given(name).unwrap_or_else(|| default.to_string());
            match stages.last_mut() {
                None => global.push((name.to_string(), value)),
                Some(stage) => stage.args.push((name.to_string(), value)),
            }
            continue;
        }
        if op == "FROM" {
            let rest = expand(&rest, &global);
            let (base, name) = match rest.split_once(" AS ") {
                Some((b, n)) => (b.trim().to_string(), Some(n.trim().to_string())),
                None => (rest.clone(), None),
            };
            let mut stage = Stage {
                name,
                base: base.clone(),
                ..Stage::default()
            };
            if let Some(parent) = stages.iter().find(|s| s.name.as_deref() == Some(&base)) {
                stage.files = parent.files.clone();
            }
            for (image, file) in BASE_FILES {
                if base.starts_with(image) {
                    stage
                        .files
                        .insert(file.to_string(), Source::Base(base.clone()));
                }
            }
            stages.push(stage);
            continue;
        }
        let stage = stages.last_mut().expect("an instruction before FROM");
        let rest = expand(&rest, &stage.args.clone());
        match op.as_str() {
            "WORKDIR" | "ENV" => {}
            "RUN" => run(stage, &rest),
            "COPY" => copy(&mut stages, &rest),
            "USER" => stage.user = Some(rest),
            "ENTRYPOINT" => stage.entrypoint = Some(rest),
            "LABEL" => {
                // key="value" pairs, values quoted.
                let mut text = rest.as_str();
                while let Some((k, after)) = text.split_once("=\"") {
                    let (v, tail) = after.split_once('"').unwrap_or((after, ""));
                    stage.labels.push((k.trim().to_string(), v.to_string()));
                    text = tail;
                }
            }
            other => panic!("an instruction this test does not model: {other}"),
        }
    }
    stages
}

/// `RUN`: counted; a `cargo build --target T` followed by `cp built /path` leaves the
/// built file at the path.
fn run(stage: &mut Stage, rest: &str) {
    stage.runs += 1;
    // cargo build --target T, then `cp built /path`.
    let words: Vec<&str> = rest.split_whitespace().collect();
    let target = words
        .windows(2)
        .find(|w| w[0] == "--target")
        .map(|w| w[1].to_string());
    for w in words.windows(3).filter(|w| w[0] == "cp") {
        let target = target.clone().expect("cp of a build without --target");
        stage.files.insert(
            w[2].to_string(),
            Source::Built {
                target,
                path: w[1].to_string(),
            },
        );
    }
}

/// `COPY [--from=STAGE] SRC... DST` into the last stage.
fn copy(stages: &mut [Stage], rest: &str) {
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let from = words
        .first()
        .and_then(|w| w.strip_prefix("--from="))
        .map(str::to_string);
    if from.is_some() {
        words.remove(0);
    }
    let dst = words.pop().expect("a destination");
    for src in &words {
        let to = if dst.ends_with('/') {
            let file = src.rsplit('/').next().unwrap_or(src);
            format!("{dst}{file}")
        } else {
            dst.to_string()
        };
        let source = match &from {
            None => Source::Context(src.to_string()),
            Some(name) => {
                let other = stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(name))
                    .unwrap_or_else(|| panic!("COPY --from={name}: no such stage"));
                other.files.get(*src).cloned().unwrap_or_else(|| {
                    panic!("COPY --from={name} {src}: the stage has no such file")
                })
            }
        };
        stages.last_mut().expect("a stage").files.insert(to, source);
    }
}

/// `[package]`'s `key` in Cargo.toml.
fn package(key: &str) -> String {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let doc: toml_edit::DocumentMut = cargo.parse().expect("Cargo.toml parses");
    doc["package"][key].as_str().expect("a string").to_string()
}

/// A user the image defines, not root, in a group it defines; and nobody.
fn check_user(binary_from: &str, image: &Stage) {
    let user = image.user.clone().expect("a USER");
    let (uid, gid) = user.split_once(':').unwrap_or((&user, ""));
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u != 0),
        "USER {user}: kubelets check runAsNonRoot by a numeric uid"
    );
    let file = |path: &str| match image.files.get(path) {
        Some(Source::Context(f)) => {
            std::fs::read_to_string(root().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
        }
        other => panic!("{binary_from}: {path} is {other:?}"),
    };
    let (passwd, group) = (file("/etc/passwd"), file("/etc/group"));
    let entry = |text: &str, field: usize, value: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
            .find(|f| f.get(field).map(String::as_str) == Some(value))
    };
    let own = entry(&passwd, 2, uid).unwrap_or_else(|| panic!("uid {uid} not in /etc/passwd"));
    assert!(gid.is_empty() || own[3] == gid, "USER {user}: {own:?}");
    assert!(
        entry(&group, 2, &own[3]).is_some(),
        "gid {} not in /etc/group",
        own[3]
    );
    let nobody = entry(&passwd, 0, "nobody").expect("nobody in /etc/passwd");
    assert!(entry(&group, 2, &nobody[3]).is_some(), "nobody's group");
    // No shell to log in with: the image has none.
    assert!(
        passwd.lines().all(|l| l.ends_with(":/sbin/nologin")),
        "{passwd}"
    );
}

/// The image, as the Dockerfile builds it with either source of the binary: on
/// scratch, so it holds only what is copied in; its entrypoint is this crate's binary,
/// built for a static (musl) target, run directly (no shell: scratch has none); it runs
/// as a non-root user the image's /etc/passwd defines, next to `nobody` (kpt and
/// kustomize run functions as `--user nobody`); and it has the CA bundle `doctor` reads.
#[test]
fn dockerfile_builds_a_static_non_root_image() {
    let d = dockerfile();
    let name = package("name");
    let ci_run = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    let ci_image =
        std::fs::read_to_string(root().join(".ci/container-image")).expect(".ci/container-image");
    let mut images = Vec::new();
    for binary_from in ["build", "prebuilt"] {
        let stages = interpret(&d, &[("BINARY_FROM", binary_from)]);
        let image = stages.last().expect("a stage").clone();
        assert_eq!(
            image.base, "scratch",
            "{binary_from}: the image is not on scratch"
        );
        assert_eq!(
            image.runs, 0,
            "{binary_from}: a RUN needs a shell, which scratch lacks"
        );

        // The entrypoint, in exec form (a shell form would need /bin/sh).
        let entrypoint: Vec<String> =
            serde_json::from_str(image.entrypoint.as_deref().expect("an ENTRYPOINT"))
                .expect("ENTRYPOINT in exec form (a JSON array)");
        let program = image.files.get(&entrypoint[0]).unwrap_or_else(|| {
            panic!(
                "{binary_from}: the entrypoint {} is not in the image",
                entrypoint[0]
            )
        });
        let (target, path) = match program {
            Source::Built { target, path } => (target.clone(), path.clone()),
            Source::Context(path) => {
                let target = path
                    .strip_prefix("target/")
                    .and_then(|p| p.split('/').next())
                    .expect("a prebuilt binary from target/<triple>/")
                    .to_string();
                // What .ci/container-image checks for, and .ci/run builds.
                assert!(ci_image.contains(&format!("bin={path}\n")), "{path}");
                (target, path.clone())
            }
            other => panic!("{binary_from}: the entrypoint comes from {other:?}"),
        };
        assert_eq!(
            path,
            format!("target/{target}/release/{name}"),
            "{binary_from}"
        );
        assert!(
            target.ends_with("-musl"),
            "{binary_from}: {target} is not a static target"
        );
        assert!(
            ci_run.contains(&format!(
                "cargo build --release --locked --target {target}\n"
            )),
            ".ci/run does not build {target}"
        );

        // The CA bundle doctor reads (rustls-native-certs' first place on Linux).
        let ca = image
            .files
            .get("/etc/ssl/certs/ca-certificates.crt")
            .unwrap_or_else(|| panic!("{binary_from}: no CA bundle"));
        if let Source::Context(path) = ca {
            assert!(
                ci_image.contains(&format!("cp /etc/ssl/certs/ca-certificates.crt {path}\n")),
                "{path}"
            );
        }

        check_user(binary_from, &image);

        // The version label says the crate's version.
        let version = image
            .labels
            .iter()
            .find(|(k, _)| k == "org.opencontainers.image.version")
            .map(|(_, v)| v.clone());
        assert_eq!(version, Some(package("version")), "{binary_from}");
        images.push(image.files.keys().cloned().collect::<Vec<_>>());
    }
    // Either source gives the same files at the same places.
    assert_eq!(images[0], images[1]);
    // And the interpretation can fail: a COPY of a file the chosen stage lacks.
    let broken = d.replace(
        "COPY --from=binary /harbor-buildkit-fn ",
        "COPY --from=binary /harbor-buildkit ",
    );
    assert_ne!(broken, d);
    assert!(std::panic::catch_unwind(|| interpret(&broken, &[])).is_err());
}

/// The image holds the binary and nothing else it could lean on: no environment (no
/// HOME, no PATH), no writable or even readable working directory of its own. The
/// function runs all the same, and prints what it prints anywhere.
#[test]
fn the_binary_needs_nothing_a_scratch_image_lacks() {
    let input =
        std::fs::read(root().join("examples/resource-lists/generator.yaml")).expect("example");
    let bin = env!("CARGO_BIN_EXE_harbor-buildkit-fn");
    let bare =
        common::tools::run_with_stdin(Command::new(bin).env_clear().current_dir("/"), &input);
    assert!(
        bare.status.success(),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    let usual = common::tools::run_with_stdin(&mut Command::new(bin), &input);
    assert_eq!(bare.stdout, usual.stdout);
    assert_eq!(bare.stderr, usual.stderr);
}

/// The build context lets through exactly the two files the prebuilt stage copies
/// from target/ (and nothing else of it).
#[test]
fn dockerignore_lets_the_prebuilt_files_through() {
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(rules.contains(&"target/"));
    let exceptions: Vec<&str> = rules.iter().filter_map(|r| r.strip_prefix('!')).collect();
    let d = dockerfile();
    let copied: Vec<&str> = d
        .lines()
        .filter_map(|l| l.strip_prefix("COPY target/"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(copied.len(), 2, "{copied:?}");
    for file in copied {
        assert!(
            exceptions.contains(&format!("target/{file}").as_str()),
            "{file} is ignored"
        );
    }
    assert_eq!(exceptions.len(), 2, "{exceptions:?}");
}

/// Whether an ELF file asks for a dynamic loader (a PT_INTERP program header).
fn has_interpreter(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[o..o + 8]);
        u64::from_le_bytes(b) as usize
    };
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) == 3
    })
}

/// `.ci/run` builds the musl binary where the target can be installed and points
/// HBFN_STATIC_BIN at it (or says why not in HBFN_STATIC_BIN_UNAVAILABLE).
#[test]
fn static_binary_runs_the_shipped_example() {
    let Some(bin) = std::env::var_os("HBFN_STATIC_BIN") else {
        if let Ok(why) = std::env::var("HBFN_STATIC_BIN_UNAVAILABLE") {
            common::tools::skip(&format!("no static binary: {why}"));
            return;
        }
        require(
            "a static musl binary (HBFN_STATIC_BIN, built by .ci/run)",
            false,
        );
        return;
    };
    let bytes = std::fs::read(&bin).expect("static binary");
    assert!(
        !has_interpreter(&bytes),
        "the binary needs a dynamic loader"
    );
    // The check can tell: the ordinary build does need one.
    let dynamic = std::fs::read(env!("CARGO_BIN_EXE_harbor-buildkit-fn")).expect("binary");
    assert!(has_interpreter(&dynamic));
    let example = root().join("examples/resource-lists/generator.yaml");
    let input = std::fs::read(&example).expect("example");
    let run = |exe: &std::ffi::OsStr| common::tools::run_with_stdin(&mut Command::new(exe), &input);
    let static_out = run(&bin);
    assert!(static_out.status.success());
    let dynamic_out = run(std::ffi::OsStr::new(env!(
        "CARGO_BIN_EXE_harbor-buildkit-fn"
    )));
    assert_eq!(static_out.stdout, dynamic_out.stdout);
    // The generator's one warning (no daemon in view), the same from both.
    assert_eq!(static_out.stderr, dynamic_out.stderr);
}
