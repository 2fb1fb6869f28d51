//! `run` over a folder tree the fuzzer builds: folders, resource files, junk, symlinks
//! (to `.`, to a parent, to a Secret outside, to /dev/zero, into a loop, to nowhere),
//! FIFOs and sparse files past the size bound. Whatever the tree, `run` ends, reads
//! nothing from outside the folder, reads each file once, and says the same on a
//! second run.

use std::path::{Path, PathBuf};

use crate::standalone::{self, Input};

/// What the Secret outside the folder holds: it must never reach the output.
const CANARY: &str = "canary-from-outside-the-folder";

/// The bound the fuzzed runs read by: small, so that a sparse file passes it cheaply.
const LIMIT: u64 = 1 << 20;

/// At most this many operations are read from the input.
const MAX_OPS: usize = 48;

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

/// A scratch folder: `config.yaml`, `outside/secret.yaml` (the canary) and `pkg/`, the
/// folder given to `run`. Removed when dropped (links are removed, not followed).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Option<Scratch> {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hbfn-fuzz-run-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("pkg")).ok()?;
        std::fs::create_dir_all(dir.join("outside")).ok()?;
        std::fs::write(dir.join("config.yaml"), CONFIG).ok()?;
        std::fs::write(
            dir.join("outside/secret.yaml"),
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: outside\nstringData:\n  password: {CANARY}\n"
            ),
        )
        .ok()?;
        Some(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The tree as it is built: the folders and files made so far (below `pkg`).
struct Tree {
    root: PathBuf,
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Tree {
    fn pick(list: &[PathBuf], i: u8) -> Option<&PathBuf> {
        list.get(usize::from(i) % list.len().max(1))
    }

    /// Applies one operation, `op` with arguments `a` and `b` (`n`: its index, which
    /// names what it makes).
    fn apply(&mut self, n: usize, op: u8, a: u8, b: u8, junk: &[u8]) {
        let Some(parent) = Self::pick(&self.dirs, a).cloned() else {
            return;
        };
        let k = b % 4;
        match op % 7 {
            0 => {
                let dir = parent.join(format!("d{k}"));
                if std::fs::create_dir(&dir).is_ok() {
                    self.dirs.push(dir);
                }
            }
            1 => {
                let file = parent.join(format!("f{k}.yaml"));
                let text = format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{n}\n  namespace: ci\ndata:\n  k: v\n"
                );
                if std::fs::write(&file, text).is_ok() {
                    self.files.push(file);
                }
            }
            2 => {
                let _ = std::fs::write(parent.join(format!("j{k}.yaml")), junk);
            }
            3 => self.file_link(&parent, k, b / 4),
            4 => self.dir_link(&parent, k, b / 4),
            5 => fifo(&parent.join(format!("p{k}.yaml"))),
            _ => {
                if let Ok(f) = std::fs::File::create(parent.join(format!("b{k}.yaml"))) {
                    let _ = f.set_len(u64::from(b) << 14);
                }
            }
        }
    }

    /// A link named like a resource file, to one of the targets a hostile folder
    /// holds.
    fn file_link(&self, parent: &Path, k: u8, which: u8) {
        let outside = self.root.join("outside/secret.yaml");
        let target = match which % 8 {
            0 => PathBuf::from("."),
            1 => PathBuf::from(".."),
            2 => outside,
            3 => PathBuf::from("/dev/zero"),
            4 => match Self::pick(&self.files, which) {
                Some(f) => f.clone(),
                None => PathBuf::from("missing.yaml"),
            },
            5 => PathBuf::from("missing.yaml"),
            6 => PathBuf::from(format!("l{k}.yaml")),
            _ => {
                let depth = parent
                    .strip_prefix(&self.root)
                    .map_or(0, |p| p.components().count());
                PathBuf::from(format!("{}outside/secret.yaml", "../".repeat(depth)))
            }
        };
        link(&target, &parent.join(format!("l{k}.yaml")));
    }

    /// A link named like a folder.
    fn dir_link(&self, parent: &Path, k: u8, which: u8) {
        let target = match which % 6 {
            0 => PathBuf::from("."),
            1 => PathBuf::from(".."),
            2 => PathBuf::from("../.."),
            3 => Self::pick(&self.dirs, which).cloned().unwrap_or_default(),
            4 => self.root.join("outside"),
            _ => self.root.clone(),
        };
        link(&target, &parent.join(format!("s{k}")));
    }
}

fn link(target: &Path, at: &Path) {
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink(target, at);
    #[cfg(not(unix))]
    let _ = (target, at);
}

fn fifo(path: &Path) {
    #[cfg(unix)]
    if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) {
        // SAFETY: a NUL-terminated path, which mkfifo only reads.
        let _ = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Builds the tree `data` describes (three bytes an operation; what follows the
/// operations is the junk files' content), runs `run` on it twice and checks the
/// properties above.
pub fn check_run_tree(data: &[u8]) {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let root = scratch.0.clone();
    let ops = data.len().min(MAX_OPS * 3) / 3;
    let junk = &data[ops * 3..];
    let mut tree = Tree {
        root: root.clone(),
        dirs: vec![root.join("pkg")],
        files: Vec::new(),
    };
    for (n, op) in data[..ops * 3].chunks(3).enumerate() {
        tree.apply(n, op[0], op[1], op[2], junk);
    }
    let config = root.join("config.yaml");
    let run =
        || standalone::run_bounded(&config, Input::Paths(vec![root.join("pkg")]), false, LIMIT);
    let first = run();
    let second = run();
    assert_eq!(first.exit_code, second.exit_code, "{}", first.stderr);
    assert_eq!(first.stdout, second.stdout, "a second run prints otherwise");
    assert_eq!(first.stderr, second.stderr, "a second run says otherwise");
    assert!(
        !first.stdout.contains(CANARY) && !first.stderr.contains(CANARY),
        "a file outside the folder was read:\n{}{}",
        first.stdout,
        first.stderr
    );
    if first.exit_code == 0 {
        for n in 0..ops {
            let name = format!("  name: cm-{n}\n");
            assert!(
                first.stdout.matches(&name).count() <= 1,
                "cm-{n} read twice:\n{}",
                first.stdout
            );
        }
    } else {
        assert!(
            first.stderr.lines().any(|l| l.starts_with("error[HBF")),
            "exit {} without an error line:\n{}",
            first.exit_code,
            first.stderr
        );
    }
}
