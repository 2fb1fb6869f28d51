//! buildkitd's command line, read as buildkitd reads it (moby/buildkit
//! `cmd/buildkitd/main.go`, v0.26.3 and v0.32.2).
//!
//! Up to v0.30 buildkitd parses with urfave/cli v1 over Go's `flag` package: flags stop
//! at the first argument that is not one. From v0.31 it uses urfave/cli v3, which reads
//! flags on both sides of other arguments. In both, `--` ends the flags, one dash or two
//! are the same, a flag takes `--name=value` or `--name value` (the next argument,
//! whatever it is), a boolean flag takes a value only as `--name=value`, and the last
//! of a name wins. `--config` names the file buildkitd reads; a missing file there is
//! no error (`cmd/buildkitd/config/load.go`), so a path that names nothing is silent.

/// buildkitd's boolean flags (v0.26.3 to v0.32.2; `proxy-network` from v0.32): each
/// takes no following argument.
const BOOLS: &[&str] = &[
    "debug",
    "trace",
    "rootless",
    "cdi-disabled",
    "save-cache-debug",
    "proxy-network",
    "oci-worker-selinux",
    "oci-worker-rootless",
    "oci-worker-no-process-sandbox",
    "oci-worker-gc",
    "containerd-worker-selinux",
    "containerd-worker-rootless",
    "containerd-worker-gc",
    "help",
    "h",
    "version",
    "v",
];

/// How a buildkitd version reads its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parser {
    /// v0.30 and earlier: Go's `flag` package, which stops at the first non-flag.
    GoFlag,
    /// v0.31 and later: urfave/cli v3, flags and other arguments interleaved.
    CliV3,
}

impl Parser {
    /// The parser of the BuildKit release an image tag names (`v0.26.3-rootless`), if
    /// the tag says.
    pub(crate) fn of_image(image: &str) -> Option<Parser> {
        let v = super::release::Version::of_image_tag(image)?;
        Some(if v < super::release::Version::new(0, 31, 0) {
            Parser::GoFlag
        } else {
            Parser::CliV3
        })
    }
}

/// What a parse found of the flags this function reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// `--config`'s value, the last one given.
    pub(crate) config: Option<String>,
    pub(crate) tlscacert: Option<String>,
    /// A flag given without its value at the end: buildkitd refuses to start.
    pub(crate) missing_value: Option<String>,
    /// The argument at which Go's `flag` stopped reading flags (v0.30 and earlier).
    pub(crate) stopped_at: Option<String>,
    /// Whether `--` ends the flags.
    pub(crate) dashdash: bool,
}

/// Reads `argv` (what follows `buildkitd`) as `parser` does.
pub(crate) fn parse(argv: &[String], parser: Parser) -> Parsed {
    let mut out = Parsed::default();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            out.dashdash = true;
            break;
        }
        let name_value = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .filter(|rest| !rest.is_empty() && !rest.starts_with('-'));
        let Some(rest) = name_value else {
            // Not a flag: Go's flag package stops here; cli v3 reads on.
            match parser {
                Parser::GoFlag => {
                    out.stopped_at = Some(arg.clone());
                    break;
                }
                Parser::CliV3 => continue,
            }
        };
        let (name, inline) = match rest.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (rest, None),
        };
        let value = match inline {
            Some(v) => Some(v),
            None if BOOLS.contains(&name) => None,
            None => match it.next() {
                Some(v) => Some(v.clone()),
                None => {
                    out.missing_value = Some(name.to_string());
                    break;
                }
            },
        };
        match name {
            "config" => out.config = value,
            "tlscacert" => out.tlscacert = value,
            _ => {}
        }
    }
    out
}

/// Why a `--config` value cannot be mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadPath {
    /// `--config=`: buildkitd opens "", which is missing, and runs with its defaults.
    Empty,
    /// Relative: resolved against the working directory, which the manifests do not say.
    Relative(String),
    /// Ends in `/`, or is `/`: a folder, which buildkitd cannot read as a file.
    Folder(String),
}

impl std::fmt::Display for BadPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadPath::Empty => f.write_str(
                "--config is empty: buildkitd opens no file, which it does not report (a missing config file is not an error), and runs with its defaults",
            ),
            BadPath::Relative(p) => write!(
                f,
                "--config {p} is a relative path, read from the container's working directory, which its spec does not set (the image's WORKDIR decides): write it as an absolute path"
            ),
            BadPath::Folder(p) => write!(
                f,
                "--config {p} names a folder, not a file: buildkitd fails to read it as TOML; name the file (e.g. {}buildkitd.toml)",
                if p.ends_with('/') {
                    p.clone()
                } else {
                    format!("{p}/")
                }
            ),
        }
    }
}

/// `path` as the kernel resolves it (`.` and `..` taken out, `//` made `/`), absolute;
/// or why it cannot be mounted. A container's working directory is `workdir` when its
/// spec sets one.
pub(crate) fn clean(path: &str, workdir: Option<&str>) -> Result<String, BadPath> {
    if path.is_empty() {
        return Err(BadPath::Empty);
    }
    let full = match (path.starts_with('/'), workdir) {
        (true, _) => path.to_string(),
        (false, Some(w)) if w.starts_with('/') => format!("{w}/{path}"),
        (false, _) => return Err(BadPath::Relative(path.to_string())),
    };
    if full.ends_with('/') {
        return Err(BadPath::Folder(path.to_string()));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() || full.ends_with("/.") || full.ends_with("/..") {
        return Err(BadPath::Folder(path.to_string()));
    }
    Ok(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn config(argv: &str, parser: Parser) -> Option<String> {
        parse(&args(argv), parser).config
    }

    /// The cases run against both vendored parsers (urfave/cli v1.22.17 over Go's flag
    /// in v0.26.3, urfave/cli v3.9.0 in v0.32.2).
    #[test]
    fn reads_config_as_each_buildkitd_version_does() {
        use Parser::*;
        for p in [GoFlag, CliV3] {
            for a in ["--config a", "--config=a", "-config a", "-config=a"] {
                assert_eq!(config(a, p).as_deref(), Some("a"), "{a}");
            }
            assert_eq!(config("--config a --config b", p).as_deref(), Some("b"));
            assert_eq!(config("-- --config a", p), None);
            assert_eq!(config("--config --debug", p).as_deref(), Some("--debug"));
            assert_eq!(config("--config=", p).as_deref(), Some(""));
            assert_eq!(config("--debug --config a", p).as_deref(), Some("a"));
            assert_eq!(
                parse(&args("--addr x --config"), p)
                    .missing_value
                    .as_deref(),
                Some("config")
            );
        }
        // Go's flag stops at the first argument that is not a flag; cli v3 reads on.
        assert_eq!(config("pos --config a", GoFlag), None);
        assert_eq!(config("pos --config a", CliV3).as_deref(), Some("a"));
        assert_eq!(config("--debug false --config a", GoFlag), None);
        assert_eq!(
            config("--debug false --config a", CliV3).as_deref(),
            Some("a")
        );
        assert_eq!(
            parse(&args("pos --config a"), GoFlag).stopped_at.as_deref(),
            Some("pos")
        );
    }

    #[test]
    fn versions_from_image_tags() {
        assert_eq!(
            Parser::of_image("moby/buildkit:v0.26.3-rootless"),
            Some(Parser::GoFlag)
        );
        assert_eq!(
            Parser::of_image("docker.io/moby/buildkit:v0.30.1"),
            Some(Parser::GoFlag)
        );
        assert_eq!(
            Parser::of_image("moby/buildkit:v0.31.0-rootless"),
            Some(Parser::CliV3)
        );
        assert_eq!(Parser::of_image("moby/buildkit:latest"), None);
        assert_eq!(Parser::of_image("moby/buildkit"), None);
    }

    #[test]
    fn paths_are_cleaned_or_refused() {
        assert_eq!(
            clean("/etc/buildkit/../bk//buildkitd.toml", None),
            Ok("/etc/bk/buildkitd.toml".to_string())
        );
        assert_eq!(
            clean("./bk.toml", Some("/work")),
            Ok("/work/bk.toml".to_string())
        );
        assert_eq!(clean("", None), Err(BadPath::Empty));
        assert_eq!(
            clean("bk.toml", None),
            Err(BadPath::Relative("bk.toml".into()))
        );
        assert_eq!(clean("/", None), Err(BadPath::Folder("/".into())));
        assert_eq!(
            clean("/etc/buildkit/", None),
            Err(BadPath::Folder("/etc/buildkit/".into()))
        );
        assert_eq!(
            clean("/etc/buildkit/..", None),
            Err(BadPath::Folder("/etc/buildkit/..".into()))
        );
    }
}
