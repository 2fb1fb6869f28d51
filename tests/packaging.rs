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

#[test]
fn dockerfile_builds_a_static_non_root_image() {
    let d = dockerfile();
    let froms: Vec<&str> = d.lines().filter(|l| l.starts_with("FROM ")).collect();
    // build (from source), prebuilt (from the build context), binary (the one chosen),
    // and the final image.
    assert_eq!(froms.len(), 4, "stages: {froms:?}");
    assert!(froms[0].ends_with(" AS build"), "{}", froms[0]);
    assert_eq!(froms[1], "FROM scratch AS prebuilt");
    assert_eq!(froms[2], "FROM ${BINARY_FROM} AS binary");
    assert_eq!(froms[3], "FROM scratch", "the final image is scratch");
    // The choice is a global build argument (usable in FROM), from source by default.
    let first_from = d.find("\nFROM ").expect("a FROM line");
    assert!(d[..first_from].contains("\nARG BINARY_FROM=build\n"));
    let stage = |i: usize| {
        let start = d.find(froms[i]).expect("stage");
        let end = froms.get(i + 1).map_or(d.len(), |next| {
            d[start + 1..].find(next).map_or(d.len(), |o| start + 1 + o)
        });
        &d[start..end]
    };
    assert!(stage(0).contains("--target x86_64-unknown-linux-musl"));
    // Both stages hold the binary and the CA bundle at the same paths; the prebuilt
    // one takes the static binary cargo builds for the musl target.
    assert!(stage(0).contains(
        "cp target/x86_64-unknown-linux-musl/release/harbor-buildkit-fn /harbor-buildkit-fn"
    ));
    assert!(stage(1).contains(
        "COPY target/x86_64-unknown-linux-musl/release/harbor-buildkit-fn /harbor-buildkit-fn"
    ));
    assert!(stage(1).contains("/etc/ssl/certs/ca-certificates.crt"));
    let last = stage(3);
    assert!(
        last.contains("COPY --from=binary /harbor-buildkit-fn /usr/local/bin/harbor-buildkit-fn")
    );
    assert!(last.contains("COPY --from=binary /etc/ssl/certs/ca-certificates.crt "));
    assert!(last.contains("COPY image/passwd image/group /etc/"));
    let user = last
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER line");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "USER {user}"
    );
    assert!(last.contains("ENTRYPOINT [\"/usr/local/bin/harbor-buildkit-fn\"]"));
    for label in ["title", "description", "version", "licenses"] {
        assert!(
            last.contains(&format!("org.opencontainers.image.{label}=")),
            "OCI label {label}"
        );
    }
    // The image's own user and nobody are defined (kpt and kustomize run `--user nobody`).
    let passwd = std::fs::read_to_string(root().join("image/passwd")).expect("image/passwd");
    let group = std::fs::read_to_string(root().join("image/group")).expect("image/group");
    let uid = user.split(':').next().unwrap_or_default();
    fn entry<'a>(file: &'a str, field: usize, value: &str) -> Option<Vec<&'a str>> {
        file.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.get(field) == Some(&value))
    }
    let nobody = entry(&passwd, 0, "nobody").expect("nobody in image/passwd");
    assert_eq!(&nobody[2..4], ["65534", "65534"], "nobody is 65534:65534");
    assert!(entry(&group, 0, "nobody").is_some_and(|g| g[2] == "65534"));
    let own = entry(&passwd, 2, uid).unwrap_or_else(|| panic!("USER {uid} not in image/passwd"));
    assert!(
        entry(&group, 2, own[3]).is_some(),
        "group {} not in image/group",
        own[3]
    );
    // No login shell for anyone: the image has no shell at all.
    assert!(
        passwd.lines().all(|l| l.ends_with(":/sbin/nologin")),
        "{passwd}"
    );
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
