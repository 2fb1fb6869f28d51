//! BuildKit releases: the version an image tag names, and the releases the Task's step
//! works with.
//!
//! The step passes buildctl flags and cache attributes that BuildKit added over time;
//! [`NEEDS`] lists each with the first release that reads it, read in moby/buildkit at
//! the tags named (v0.12.5 is the oldest release surveyed: what it has is written
//! as "v0.12.5 and earlier"). The oldest release that has them all is
//! [`MIN_SUPPORTED`]; `check` flags a `BUILDER_IMAGE` older than that.

use std::fmt;

/// A BuildKit release, `vMAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The release a tag names: `v0.26.3`, `v0.26.3-rootless`, `v0.13.0-rc1` (as
    /// v0.13.0), `v0.26` (as v0.26.0). `latest`, `rootless`, `master` name none.
    pub fn of_tag(tag: &str) -> Option<Version> {
        let version = tag.strip_prefix('v')?;
        let core = version.split('-').next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version::new(major, minor, patch))
    }

    /// The release an image's tag names, whatever the image (`moby/buildkit:v0.26.3`;
    /// a digest after the tag is ignored).
    pub fn of_image_tag(image: &str) -> Option<Version> {
        let name = image.split('@').next()?;
        let (repo, tag) = name.rsplit_once(':')?;
        // `host:5000/moby/buildkit` has a port, not a tag.
        if tag.contains('/') || repo.is_empty() {
            return None;
        }
        Version::of_tag(tag)
    }

    /// The release an image of BuildKit's own repository names: `moby/buildkit:TAG`
    /// on Docker Hub, or under any registry or mirror path that ends in
    /// `moby/buildkit`. `None` for another image, whose tag says nothing of BuildKit.
    pub fn of_buildkit_image(image: &str) -> Option<Version> {
        let name = image.split('@').next()?;
        let (repo, _) = name.rsplit_once(':')?;
        if repo != "moby/buildkit" && !repo.ends_with("/moby/buildkit") {
            return None;
        }
        Version::of_image_tag(image)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What the step hands BuildKit, and where BuildKit reads it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// The flag or attribute, as the step writes it.
    pub what: &'static str,
    /// Who reads it: `buildctl` (the step's image) or `buildkitd` (the daemon, or the
    /// step's own daemonless).
    pub reader: &'static str,
    /// The first release that reads it.
    pub since: Version,
    /// Where that was read (moby/buildkit path, and the commit or tag).
    pub source: &'static str,
}

const OLDEST_SURVEYED: Version = Version::new(0, 12, 5);

/// Everything the step passes, with the first release that reads it.
pub const NEEDS: &[Need] = &[
    Need {
        what: "--addr, --tlscacert, --tlscert, --tlskey, --tlsservername",
        reader: "buildctl",
        since: OLDEST_SURVEYED,
        source: "cmd/buildctl/main.go (global flags; v0.12.5 to v0.32.2)",
    },
    Need {
        what: "build --frontend --local --opt --output --import-cache --export-cache --metadata-file",
        reader: "buildctl",
        since: OLDEST_SURVEYED,
        source: "cmd/buildctl/build.go (v0.12.5 to v0.32.2)",
    },
    Need {
        what: "debug workers",
        reader: "buildctl",
        since: OLDEST_SURVEYED,
        source: "cmd/buildctl/debug/workers.go (v0.12.5 to v0.32.2)",
    },
    Need {
        what: "--registry-auth-tlscontext",
        reader: "buildctl",
        since: Version::new(0, 13, 0),
        source: "cmd/buildctl/build.go, commit 2bd8d7650 (first in v0.13.0; v0.12.5 stops with 'flag provided but not defined')",
    },
    Need {
        what: "registry.insecure (image output and registry cache)",
        reader: "buildkitd",
        since: OLDEST_SURVEYED,
        source: "exporter/containerimage/exptypes/keys.go, cache/remotecache/registry/registry.go",
    },
    Need {
        what: "image-manifest=true (registry cache)",
        reader: "buildkitd",
        since: Version::new(0, 12, 0),
        source: "cache/remotecache/registry/registry.go, commit 797156ac8 (first in v0.12.0)",
    },
    Need {
        what: "oci-mediatypes=true (registry cache)",
        reader: "buildkitd",
        since: Version::new(0, 8, 0),
        source: "cache/remotecache/registry/registry.go, commit 8adf951bc (first in v0.8.0)",
    },
];

/// The oldest release that reads all of [`NEEDS`]: the Task supports it and later.
pub const MIN_SUPPORTED: Version = Version::new(0, 13, 0);

/// The needs `v` lacks.
pub fn lacks(v: Version) -> impl Iterator<Item = &'static Need> {
    NEEDS.iter().filter(move |n| n.since > v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_tags_and_images() {
        assert_eq!(
            Version::of_tag("v0.26.3-rootless"),
            Some(Version::new(0, 26, 3))
        );
        assert_eq!(Version::of_tag("v0.13.0-rc1"), Some(Version::new(0, 13, 0)));
        assert_eq!(Version::of_tag("v0.26"), Some(Version::new(0, 26, 0)));
        for none in ["latest", "rootless", "0.26.3", "v0.26.3.1", "vx"] {
            assert_eq!(Version::of_tag(none), None, "{none}");
        }
        assert_eq!(
            Version::of_buildkit_image("docker.io/moby/buildkit:v0.12.5-rootless"),
            Some(Version::new(0, 12, 5))
        );
        assert_eq!(
            Version::of_buildkit_image(
                "harbor.example.com:5000/dockerhub/moby/buildkit:v0.20.2@sha256:ab"
            ),
            Some(Version::new(0, 20, 2))
        );
        assert_eq!(Version::of_buildkit_image("moby/buildkit"), None);
        assert_eq!(
            Version::of_buildkit_image("example.com/buildctl:v0.1.0"),
            None
        );
        assert_eq!(
            Version::of_buildkit_image("example.com:5000/moby/buildkit"),
            None
        );
        assert_eq!(Version::new(0, 13, 0).to_string(), "v0.13.0");
    }

    #[test]
    fn the_minimum_is_the_newest_need() {
        let newest = NEEDS.iter().map(|n| n.since).max();
        assert_eq!(newest, Some(MIN_SUPPORTED));
        assert_eq!(lacks(MIN_SUPPORTED).count(), 0);
        assert_eq!(
            lacks(Version::new(0, 12, 5))
                .map(|n| n.what)
                .collect::<Vec<_>>(),
            ["--registry-auth-tlscontext"]
        );
    }
}
