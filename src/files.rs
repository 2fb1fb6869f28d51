//! Every file the tool reads, and the rules it reads them by.
//!
//! A tool that renders manifests reads what the user points it at and nothing else:
//!
//! - **regular files only.** A FIFO would block the read forever, `/dev/zero` never
//!   ends, `/dev/urandom` neither; a device or a socket is refused by its type, which
//!   is read before the file is opened (so a FIFO is never opened) and again from the
//!   open file (so a swap in between is caught too);
//! - **bounded.** A read takes at most its bound plus one byte, whatever the file's
//!   size says (a size can change, and `/proc` files say 0); one byte more is refused;
//! - **inside the folder given.** A folder is walked for `*.yaml` and `*.yml`; a
//!   symlink in it is followed only when its target, with every link resolved, is the
//!   folder or below it, as kustomize's loader allows a file (kubernetes-sigs/kustomize
//!   api/v0.21.1 `api/internal/loader/loadrestrictions.go` `RestrictionRootOnly`:
//!   "security; file ... is not in or below ..."). A path named on the command line is
//!   the user's choice, and is read wherever it is;
//! - **once.** A folder reached a second way (a link back to a parent, `a -> .`) is
//!   not listed again, and a file reached a second way is not read again: each is
//!   known by its resolved path, once per folder given, so a tree of links costs what
//!   its folders cost, and a link loop ends where it comes back.
//!
//! The walk is in byte order of the names, depth first, so its order, and the first
//! error it meets, are the same on every run.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a path is, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Folder,
    Other,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Fifo => "a FIFO (named pipe)",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Folder => "a folder",
            Kind::Other => "not a regular file",
        })
    }
}

fn kind_of(t: std::fs::FileType) -> Option<Kind> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some(Kind::Folder);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some(Kind::Fifo);
        }
        if t.is_socket() {
            return Some(Kind::Socket);
        }
        if t.is_char_device() {
            return Some(Kind::CharDevice);
        }
        if t.is_block_device() {
            return Some(Kind::BlockDevice);
        }
    }
    Some(Kind::Other)
}

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// Not a regular file.
    NotRegular(Kind),
    /// More than the bound: `limit` bytes.
    TooLarge {
        limit: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular(kind) => write!(f, "{kind}, not a regular file"),
            ReadError::TooLarge { limit } => write!(f, "larger than {}", size(*limit)),
        }
    }
}

/// `bytes` for people: `128 MiB`, `4 KiB`, `100 bytes`.
pub fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} bytes")
}

/// Reads the regular file at `path`, at most `limit` bytes. `follow`: whether a
/// symlink at `path` itself is followed (a path the user named) or refused (a path
/// the walk resolved already, which must not have become a link since).
pub(crate) fn read(path: &Path, limit: u64, follow: bool) -> Result<Vec<u8>, ReadError> {
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(ReadError::Io)?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    let file = open(path, follow).map_err(ReadError::Io)?;
    // The open file's own type: a path swapped for a FIFO or a device after the check
    // above is still refused (and, opened without blocking, has not hung the open).
    let meta = file.metadata().map_err(ReadError::Io)?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    read_limited(file, limit)
}

/// At most `limit` bytes of `from`; one more is [`ReadError::TooLarge`].
pub(crate) fn read_limited(from: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    from.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open(path: &Path, follow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading waits for a writer, for ever; without
    // blocking it opens at once, and its type then refuses it. O_NOCTTY: a terminal
    // named as a file does not become the process's controlling terminal.
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path, _follow: bool) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// A file the walk found: the path to show (as the user would write it, below the
/// folder given) and the path to read (every link resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) shown: PathBuf,
    pub(crate) real: PathBuf,
}

/// Why a folder cannot be walked.
#[derive(Debug)]
pub enum WalkError {
    /// A folder that cannot be listed.
    Folder {
        path: PathBuf,
        error: std::io::Error,
    },
    /// An entry that cannot be read: a link that cannot be resolved (it leads nowhere,
    /// or round in a loop of links).
    Entry {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A symlink whose target is outside the folder given (`target`: the link's text).
    Outside {
        link: PathBuf,
        target: PathBuf,
        folder: PathBuf,
    },
}

/// One step of the walk: a folder to list, or a file to read, in the order found.
enum Work {
    Folder { shown: PathBuf, real: PathBuf },
    File(Found),
}

/// The files below `folder` whose names `wanted` accepts, in walk order, each once
/// (see the module's rules). Entries whose names start with `.` are left out, folders
/// too.
pub(crate) fn walk(folder: &Path, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<Found>, WalkError> {
    let root = std::fs::canonicalize(folder).map_err(|error| WalkError::Folder {
        path: folder.to_path_buf(),
        error,
    })?;
    let mut visited: HashSet<PathBuf> = HashSet::new();
    let mut found = Vec::new();
    let mut stack = vec![Work::Folder {
        shown: folder.to_path_buf(),
        real: root.clone(),
    }];
    let mut read: HashSet<PathBuf> = HashSet::new();
    while let Some(work) = stack.pop() {
        match work {
            Work::File(f) => {
                if read.insert(f.real.clone()) {
                    found.push(f);
                }
            }
            Work::Folder { shown, real } => {
                if !visited.insert(real.clone()) {
                    continue;
                }
                let mut next = list(&shown, &real, &root, folder, wanted)?;
                next.reverse();
                stack.extend(next);
            }
        }
    }
    Ok(found)
}

/// The entries of one folder that the walk goes on with, in name order.
fn list(
    shown: &Path,
    real: &Path,
    root: &Path,
    folder: &Path,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Vec<Work>, WalkError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| WalkError::Folder { path, error }
    };
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(real)
        .map_err(io(shown))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(io(shown))?;
    names.retain(|n| !n.to_string_lossy().starts_with('.'));
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let shown = shown.join(&name);
        let path = real.join(&name);
        let is_wanted = wanted(&name.to_string_lossy());
        let meta = std::fs::symlink_metadata(&path).map_err(|error| WalkError::Entry {
            path: shown.clone(),
            error,
        })?;
        if !meta.file_type().is_symlink() {
            if meta.is_dir() {
                out.push(Work::Folder { shown, real: path });
            } else if is_wanted {
                out.push(Work::File(Found { shown, real: path }));
            }
            continue;
        }
        // A link: followed when it leads to a folder, or to a file the walk wants,
        // and only inside the folder given. A link that leads nowhere is an error
        // only where a file was wanted.
        let target = match std::fs::canonicalize(&path) {
            Ok(t) => t,
            Err(_) if !is_wanted => continue,
            Err(error) => return Err(WalkError::Entry { path: shown, error }),
        };
        let is_dir = std::fs::metadata(&target).is_ok_and(|m| m.is_dir());
        if !is_dir && !is_wanted {
            continue;
        }
        if !target.starts_with(root) {
            // The link as written: where it points, in the user's own words.
            let written = std::fs::read_link(&path).unwrap_or(target);
            return Err(WalkError::Outside {
                link: shown,
                target: written,
                folder: folder.to_path_buf(),
            });
        }
        out.push(if is_dir {
            Work::Folder {
                shown,
                real: target,
            }
        } else {
            Work::File(Found {
                shown,
                real: target,
            })
        });
    }
    Ok(out)
}

/// Why a size does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadSize {
    /// Not bytes, nor a number with `K`, `M` or `G`.
    NotASize(String),
    /// More than 2^64 bytes.
    TooLarge(String),
    /// Zero.
    Zero(String),
}

impl std::fmt::Display for BadSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadSize::NotASize(s) => {
                write!(f, "{s:?} is not a size (bytes, or a number with K, M or G)")
            }
            BadSize::TooLarge(s) => write!(f, "{s:?} is too large"),
            BadSize::Zero(s) => write!(f, "{s:?}: the size must be at least 1 byte"),
        }
    }
}

impl std::error::Error for BadSize {}

/// A size as `--max-input-size` takes it: bytes, or a number with `K`, `M` or `G`
/// (powers of 1024; `KiB`, `MiB`, `GiB`, `KB`... too), at least 1.
pub fn parse_size(s: &str) -> Result<u64, BadSize> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(BadSize::NotASize(s.to_string())),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| BadSize::NotASize(s.to_string()))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| BadSize::TooLarge(s.to_string()))?;
    if bytes == 0 {
        return Err(BadSize::Zero(s.to_string()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_print() {
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        for bad in ["", "0", "M", "1.5M", "-1", "1T", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(size(128 << 20), "128 MiB");
        assert_eq!(size(4096), "4 KiB");
        assert_eq!(size(100), "100 bytes");
        assert_eq!(size(1025), "1025 bytes");
    }

    #[test]
    fn reads_are_bounded() {
        let data = [b'x'; 10];
        assert_eq!(read_limited(&data[..], 10).map(|v| v.len()).ok(), Some(10));
        assert!(matches!(
            read_limited(&data[..], 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
        // An endless source stops at the bound.
        assert!(matches!(
            read_limited(std::io::repeat(0), 1 << 20),
            Err(ReadError::TooLarge { .. })
        ));
    }
}
