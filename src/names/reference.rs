//! Image references as BuildKit reads them: distribution/reference v0.6.0
//! (`normalize.go`, `splitDockerDomain`), which BuildKit's push uses
//! (moby/buildkit `util/push/push.go`, `reference.ParseNormalizedNamed`).

/// The registry an image reference `r` goes to: its first `/`-separated component when
/// that has a `.` or a `:`, is `localhost`, or has an uppercase letter; otherwise
/// Docker Hub (`docker.io`), whatever the rest says. `index.docker.io` is Docker Hub
/// too.
pub(crate) fn domain(r: &str) -> &str {
    match r.split_once('/') {
        Some(("index.docker.io", _)) => "docker.io",
        Some((first, _))
            if first == "localhost"
                || first.contains(['.', ':'])
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            first
        }
        _ => "docker.io",
    }
}

#[cfg(test)]
mod tests {
    use super::domain;

    /// distribution/reference v0.6.0's own cases (normalize_test.go), and the one this
    /// project exists to catch: a bare Service name is a Docker Hub path.
    #[test]
    fn domains_as_distribution_splits_them() {
        for (r, want) in [
            ("harbor-core/library/app:1", "docker.io"),
            ("harbor-core.harbor/library/app", "harbor-core.harbor"),
            ("harbor-core:80/library/app", "harbor-core:80"),
            ("localhost/app", "localhost"),
            ("localhost:5000/app", "localhost:5000"),
            ("localhost", "docker.io"),
            ("app", "docker.io"),
            ("library/app", "docker.io"),
            ("index.docker.io/app", "docker.io"),
            ("Harbor/app", "Harbor"),
            ("10.0.0.1:5000/app", "10.0.0.1:5000"),
        ] {
            assert_eq!(domain(r), want, "{r}");
        }
    }
}
