//! The BuildKit releases the Task works with: everything its step passes, in every mode,
//! is listed in `src/buildkit/release.rs` with the first release that reads it, and
//! the Task's minimum is the newest of those. With BuildKit's binaries at hand
//! (`HBFN_BUILDKIT_BIN`, never in CI), each release's own `--help` says the same.

mod common;

use std::collections::BTreeSet;

use common::modes::{HTTP, HTTPS, readme_modes};
use common::tekton::{TaskRun, run_step};
use harbor_buildkit_fn::testing::release::{self, MIN_SUPPORTED, NEEDS, Version};

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB (a test CA)\n-----END CERTIFICATE-----\n";

/// A run of `mode`'s Task with everything bound and a cache, so that every flag shows.
fn full_run(mode: &str) -> TaskRun {
    let registry = if mode == "private CA" || mode == "skip-verify" {
        HTTPS
    } else {
        HTTP
    };
    let mut run = TaskRun::default()
        .param("IMAGE", format!("{registry}/library/app:1"))
        .param("CACHE_IMAGE", format!("{registry}/library/app:cache"))
        .workspace("source", &[("Dockerfile", "FROM scratch\n")])
        .workspace(
            "dockerconfig",
            &[(
                "config.json",
                &format!("{{\"auths\":{{\"{registry}\":{{\"auth\":\"dTpw\"}}}}}}"),
            )],
        );
    if mode == "mTLS" {
        run = run.workspace(
            "buildkit-client-certs",
            &[("ca.pem", CA), ("cert.pem", CA), ("key.pem", "KEY")],
        );
    }
    if mode == "private CA" {
        run = run.workspace("registry-ca", &[("ca.crt", CA)]);
    }
    run
}

/// The flags and the attributes (`key=` of `--output`, `--import-cache`,
/// `--export-cache` values) that the step of every README mode passes.
fn passed() -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut flags, mut attrs) = (BTreeSet::new(), BTreeSet::new());
    for (mode, task) in readme_modes() {
        let step = run_step(&task, &full_run(mode));
        assert!(step.ok(), "{mode}: {}", step.stderr());
        for w in step.argv.windows(2) {
            if w[0].starts_with("--") {
                flags.insert(w[0].clone());
            }
            if ["--output", "--import-cache", "--export-cache"].contains(&w[0].as_str()) {
                attrs.extend(
                    w[1].split(',')
                        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string())),
                );
            }
        }
    }
    (flags, attrs)
}

#[test]
fn the_step_passes_only_what_release_rs_lists() {
    let (flags, attrs) = passed();
    let listed = |what: &str| NEEDS.iter().any(|n| n.what.contains(what));
    for f in &flags {
        assert!(
            listed(f),
            "the step passes {f}, which src/buildkit/release.rs does not list"
        );
    }
    // The attributes a release may not know (type, ref, name, push and mode are as
    // old as the registry cache and the image exporter).
    for a in attrs
        .iter()
        .filter(|a| !["type", "ref", "name", "push", "mode"].contains(&a.as_str()))
    {
        assert!(
            listed(a),
            "the step passes {a}=, which src/buildkit/release.rs does not list"
        );
    }
    for must in [
        "--registry-auth-tlscontext",
        "--tlscacert",
        "--export-cache",
    ] {
        assert!(flags.contains(must), "{must} in {flags:?}");
    }
    for must in ["image-manifest", "oci-mediatypes", "registry.insecure"] {
        assert!(attrs.contains(must), "{must} in {attrs:?}");
    }
    // The minimum is the newest need, and one below it lacks it.
    assert_eq!(NEEDS.iter().map(|n| n.since).max(), Some(MIN_SUPPORTED));
    assert!(
        release::lacks(Version::new(0, 12, 5))
            .any(|n| n.what.contains("--registry-auth-tlscontext"))
    );
}

/// `buildctl [SUBCOMMAND] --help` of one release.
fn help(buildctl: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(buildctl)
        .args(args)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", buildctl.display()));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Each release's buildctl has the flags from the release `release.rs` names on, and
/// not before: `HBFN_BUILDKIT_BIN/vX.Y.Z/buildctl`.
#[test]
fn each_release_has_the_flags_from_when_release_rs_says() {
    let Some(dir) = common::optional_outside_ci(
        "HBFN_BUILDKIT_BIN",
        "a folder of vX.Y.Z/{buildctl,buildkitd}, BuildKit's binaries",
    ) else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir)
        .expect("HBFN_BUILDKIT_BIN")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (Some(v), buildctl) = (Version::of_tag(&name), entry.path().join("buildctl")) else {
            continue;
        };
        if !buildctl.is_file() {
            continue;
        }
        seen += 1;
        let text = [
            help(&buildctl, &[]),
            help(&buildctl, &["build"]),
            help(&buildctl, &["debug"]),
        ]
        .concat();
        for need in NEEDS.iter().filter(|n| n.reader == "buildctl") {
            let flags: Vec<&str> = need
                .what
                .split([' ', ','])
                .filter(|w| w.starts_with("--"))
                .collect();
            for f in flags {
                assert_eq!(
                    text.contains(f),
                    need.since <= v,
                    "{name}: {f} (src/buildkit/release.rs: from {})",
                    need.since
                );
            }
            if need.what == "debug workers" {
                assert!(text.contains("workers"), "{name}: debug workers");
            }
        }
    }
    assert!(seen > 0, "no vX.Y.Z/buildctl in {}", dir.display());
}
