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
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[1].contains("scratch") || froms[1].contains("distroless/static"));
    assert!(d.contains("--target x86_64-unknown-linux-musl"));
    let user = d
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("a USER line");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "USER {user}"
    );
    assert!(d.contains("ENTRYPOINT [\"/usr/local/bin/harbor-buildkit-fn\"]"));
    for label in ["title", "description", "version", "licenses"] {
        assert!(
            d.contains(&format!("org.opencontainers.image.{label}=")),
            "OCI label {label}"
        );
    }
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
    let run = |exe: &std::ffi::OsStr| {
        use std::io::Write;
        let mut child = Command::new(exe)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&input)
            .expect("write");
        child.wait_with_output().expect("exits")
    };
    let static_out = run(&bin);
    assert!(static_out.status.success());
    let dynamic_out = run(std::ffi::OsStr::new(env!(
        "CARGO_BIN_EXE_harbor-buildkit-fn"
    )));
    assert_eq!(static_out.stdout, dynamic_out.stdout);
}
