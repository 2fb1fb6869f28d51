//! `Www-Authenticate` challenges, parsed as RFC 7235 §4.1 and §2.1 define them.
//!
//! ```text
//! WWW-Authenticate = 1#challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! Commas separate both challenges and parameters, so a comma followed by
//! `token =` continues the parameters and a comma followed by a bare token starts a
//! new challenge. Quoted strings may hold commas and `\`-escaped characters.
//! Scheme and parameter names are case-insensitive; they are kept lowercased.

/// One challenge: `Bearer realm="...",service="..."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// Lowercased (`bearer`, `basic`).
    pub(crate) scheme: String,
    pub(crate) token68: Option<String>,
    /// Names lowercased, values unquoted, in order.
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    /// The parameter named `name` (case-insensitive); of several, the last, as the
    /// clients BuildKit uses read it: containerd's parser stores each parameter in a
    /// map, so a later one replaces an earlier one (containerd v2.3.4
    /// core/remotes/docker/auth/parse.go `parseValueAndParams`, `params[pkey] =
    /// pvalue`, vendored by moby/buildkit v0.32.2; distribution v3.1.1
    /// internal/client/auth/challenge/authchallenge.go does the same).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The parameters given more than once, each with its values in order.
    pub(crate) fn repeated(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in &self.params {
            match out.iter_mut().find(|(name, _)| *name == k.as_str()) {
                Some((_, values)) => values.push(v),
                None => out.push((k, vec![v])),
            }
        }
        out.retain(|(_, values)| values.len() > 1);
        out
    }
}

/// The challenge in a canonical form (every parameter value quoted) that [`parse`]
/// reads back as the same challenge.
impl std::fmt::Display for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token68 {
            return write!(f, " {t}");
        }
        for (i, (k, v)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write!(f, "{k}=\"")?;
            for c in v.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&self.s[start..self.pos]).unwrap_or(""))
    }

    /// Whether `token BWS "=" BWS` followed by a value (not another `=`, a comma or
    /// the end) starts here: an auth-param rather than a token68 or a new challenge.
    fn at_param(&self) -> bool {
        let mut p = Scanner {
            s: self.s,
            pos: self.pos,
        };
        if p.token().is_none() {
            return false;
        }
        p.skip_ows();
        if p.peek() != Some(b'=') {
            return false;
        }
        p.pos += 1;
        p.skip_ows();
        matches!(p.peek(), Some(b) if b == b'"' || is_tchar(b) && b != b'=')
    }

    fn quoted(&mut self) -> Result<String, Malformed> {
        let start = self.pos;
        self.pos += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(Malformed::Unclosed { at: start }),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    let Some(&next) = self.s.get(self.pos + 1) else {
                        return Err(Malformed::LoneBackslash);
                    };
                    out.push(next);
                    self.pos += 2;
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

/// Why a `Www-Authenticate` value does not parse: where (a byte offset) and what.
/// The header itself is not kept: [`Malformed`] is shown beside it by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Malformed {
    Unclosed { at: usize },
    LoneBackslash,
    NoScheme { at: usize },
    Unexpected { c: char, at: usize },
    AfterToken68 { at: usize },
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Unclosed { at } => {
                write!(f, "a quoted string opened at byte {at} is not closed")
            }
            Malformed::LoneBackslash => f.write_str("a quoted string ends in a lone backslash"),
            Malformed::NoScheme { at } => write!(f, "expected an auth scheme at byte {at}"),
            Malformed::Unexpected { c, at } => write!(f, "unexpected {c:?} at byte {at}"),
            Malformed::AfterToken68 { at } => {
                write!(f, "unexpected text after the token68 at byte {at}")
            }
        }
    }
}

impl std::error::Error for Malformed {}

/// Parses the values of every `Www-Authenticate` header of a response (one header
/// may hold several challenges, and a response may repeat the header).
pub(crate) fn parse_all<'h>(
    headers: impl IntoIterator<Item = &'h str>,
) -> Result<Vec<Challenge>, Malformed> {
    let mut out = Vec::new();
    for h in headers {
        out.extend(parse(h)?);
    }
    Ok(out)
}

/// Parses one header value.
pub(crate) fn parse(header: &str) -> Result<Vec<Challenge>, Malformed> {
    let mut sc = Scanner {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        // Empty list elements are allowed: `, , Basic`.
        while matches!(sc.peek(), Some(b' ' | b'\t' | b',')) {
            sc.pos += 1;
        }
        if sc.peek().is_none() {
            break;
        }
        let Some(scheme) = sc.token() else {
            return Err(Malformed::NoScheme { at: sc.pos });
        };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            token68: None,
            params: Vec::new(),
        };
        sc.skip_ows();
        if sc.at_param() {
            loop {
                let name = sc.token().unwrap_or_default().to_ascii_lowercase();
                sc.skip_ows();
                sc.pos += 1; // '='
                sc.skip_ows();
                let value = if sc.peek() == Some(b'"') {
                    sc.quoted()?
                } else {
                    sc.token().unwrap_or_default().to_string()
                };
                challenge.params.push((name, value));
                sc.skip_ows();
                match sc.peek() {
                    None => break,
                    Some(b',') => {
                        // Another parameter, or the next challenge.
                        let mark = sc.pos;
                        while matches!(sc.peek(), Some(b' ' | b'\t' | b',')) {
                            sc.pos += 1;
                        }
                        if !sc.at_param() {
                            sc.pos = mark;
                            break;
                        }
                    }
                    Some(b) => {
                        return Err(Malformed::Unexpected {
                            c: char_at(header, sc.pos).unwrap_or(char::from(b)),
                            at: sc.pos,
                        });
                    }
                }
            }
        } else if sc.peek().is_some_and(is_token68_char) {
            let start = sc.pos;
            while sc.peek().is_some_and(is_token68_char) {
                sc.pos += 1;
            }
            while sc.peek() == Some(b'=') {
                sc.pos += 1;
            }
            challenge.token68 = Some(header[start..sc.pos].to_string());
            sc.skip_ows();
            if !matches!(sc.peek(), None | Some(b',')) {
                return Err(Malformed::AfterToken68 { at: sc.pos });
            }
        } else if !matches!(sc.peek(), None | Some(b',')) {
            return Err(Malformed::Unexpected {
                c: char_at(header, sc.pos).unwrap_or(' '),
                at: sc.pos,
            });
        }
        out.push(challenge);
    }
    Ok(out)
}

/// The character that starts at byte `at` (a non-ASCII one whole, not its first byte).
fn char_at(header: &str, at: usize) -> Option<char> {
    header.get(at..).and_then(|rest| rest.chars().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: &str) -> Challenge {
        let mut v = parse(h).unwrap_or_else(|e| panic!("{h}: {e}"));
        assert_eq!(v.len(), 1, "{h}: {v:?}");
        v.remove(0)
    }

    #[test]
    fn harbor_and_distribution_challenges() {
        let c = one(
            r#"Bearer realm="http://harbor-core.default.svc.cluster.local/service/token",service="harbor-registry""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(
            c.param("realm"),
            Some("http://harbor-core.default.svc.cluster.local/service/token")
        );
        assert_eq!(c.param("SERVICE"), Some("harbor-registry"));

        let c = one(
            r#"Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push",error="insufficient_scope""#,
        );
        // A comma inside quotes belongs to the value.
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(c.param("error"), Some("insufficient_scope"));
        assert_eq!(
            one(r#"Basic realm="harbor""#).param("realm"),
            Some("harbor")
        );
    }

    /// A non-ASCII character where none may be is named whole, as the header has it
    /// (it was named by its first byte, as Latin-1: `é` read `Ã`).
    #[test]
    fn an_unexpected_character_is_named_whole() {
        for (h, at) in [(r#"Bearer realm="a"é"#, 16), ("Bearer é", 7)] {
            match parse(h) {
                Err(Malformed::Unexpected { c, at: got }) => {
                    assert_eq!((c, got), ('é', at), "{h}");
                    assert!(Malformed::Unexpected { c, at }.to_string().contains("'é'"));
                }
                other => panic!("{h}: {other:?}"),
            }
        }
    }

    #[test]
    fn escapes_whitespace_and_tokens() {
        let c = one(r#"Bearer  realm = "a \"quoted\" \\ realm" , service=reg.example ,scope="x""#);
        assert_eq!(c.param("realm"), Some(r#"a "quoted" \ realm"#));
        assert_eq!(c.param("service"), Some("reg.example"));
        assert_eq!(c.param("scope"), Some("x"));
    }

    #[test]
    fn several_challenges_in_one_header() {
        let v = parse(r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"", Bearer realm="https://t/token",service="s""#)
            .unwrap_or_default();
        let schemes: Vec<&str> = v.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "newauth", "bearer"]);
        assert_eq!(v[1].param("type"), Some("1"));
        assert_eq!(v[1].param("title"), Some(r#"Login to "apps""#));
        assert_eq!(v[2].param("service"), Some("s"));
    }

    #[test]
    fn token68_and_bare_schemes() {
        let v = parse("Negotiate abc+/def==, Basic, Bearer realm=x").unwrap_or_default();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].token68.as_deref(), Some("abc+/def=="));
        assert!(v[1].params.is_empty() && v[1].token68.is_none());
        assert_eq!(v[2].param("realm"), Some("x"));
    }

    /// A parameter given twice: the last counts, as containerd's parser (BuildKit's)
    /// and distribution's read it.
    #[test]
    fn a_repeated_parameter_reads_as_its_last_value() {
        let c = one(r#"Bearer realm="https://a/token",service="s",Realm="https://b/token""#);
        assert_eq!(c.param("realm"), Some("https://b/token"));
        assert_eq!(
            c.repeated(),
            [("realm", vec!["https://a/token", "https://b/token"])]
        );
        assert!(one(r#"Bearer realm="x",service="s""#).repeated().is_empty());
    }

    #[test]
    fn headers_are_combined() {
        let v = parse_all([r#"Basic realm="r""#, r#"Bearer realm="t""#]).unwrap_or_default();
        assert_eq!(v.len(), 2);
    }

    fn quote(v: &str) -> String {
        let mut out = String::from("\"");
        for c in v.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    /// A header text: any text; text of the characters challenges are made of; and
    /// challenges written with quoted values holding quotes, backslashes and commas,
    /// escaped as a server may escape them (any character may be), token values and
    /// token68s, which parse.
    fn header_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        let value =
            ("[ -~]{0,12}", proptest::bool::ANY).prop_map(|(v, escape_all): (String, bool)| {
                let mut out = String::from("\"");
                for c in v.chars() {
                    if escape_all || c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
                out
            });
        let param = (
            "[A-Za-z][A-Za-z0-9_]{0,6}",
            "(=| =|= | = )",
            proptest::prop_oneof![value, "[A-Za-z0-9.!#$%&'*+^_`|~-]{1,8}"],
        )
            .prop_map(|(k, eq, v)| format!("{k}{eq}{v}"));
        let challenge = (
            "[A-Za-z][A-Za-z0-9-]{0,8}",
            proptest::prop_oneof![
                proptest::collection::vec(param, 0..4).prop_map(|p| p.join(", ")),
                "[A-Za-z0-9+/._~-]{1,12}=*",
            ],
        )
            .prop_map(|(scheme, rest)| {
                if rest.is_empty() {
                    scheme
                } else {
                    format!("{scheme} {rest}")
                }
            });
        proptest::prop_oneof![
            "\\PC{0,80}",
            "[A-Za-z0-9=,\" \t\\\\/+._~-]{0,60}",
            proptest::collection::vec(challenge, 1..4).prop_map(|c| c.join(", ")),
        ]
    }

    proptest::proptest! {
        /// Whatever parses reads back as the same challenges when written out again
        /// (the Display form); whatever does not says where, with an offset inside the
        /// header at the byte it names.
        #[test]
        fn any_text_parses_or_errs(s in header_text()) {
            match parse(&s) {
                Ok(challenges) => {
                    let written = challenges
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let again = parse(&written)
                        .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{written:?}: {e}")))?;
                    proptest::prop_assert_eq!(again, challenges, "{:?} written as {:?}", s, written);
                }
                Err(Malformed::Unclosed { at }) => {
                    proptest::prop_assert_eq!(s.as_bytes().get(at), Some(&b'"'), "{:?}", s);
                }
                Err(Malformed::LoneBackslash) => {
                    proptest::prop_assert!(s.ends_with('\\'), "{:?}", s);
                }
                Err(Malformed::NoScheme { at } | Malformed::AfterToken68 { at }) => {
                    proptest::prop_assert!(at < s.len() && s.is_char_boundary(at), "{:?} at {}", s, at);
                }
                Err(Malformed::Unexpected { c, at }) => {
                    proptest::prop_assert!(at < s.len() && s.is_char_boundary(at), "{:?} at {}", s, at);
                    // The character named is the one there, a non-ASCII one whole.
                    let here = s[at..].chars().next();
                    proptest::prop_assert!(
                        here == Some(c),
                        "{:?}: {:?} at {}", s, c, at
                    );
                }
            }
        }

        /// Challenges written with quoted values (commas, quotes, backslashes and
        /// spaces inside) read back as written.
        #[test]
        fn written_challenges_read_back(
            challenges in proptest::collection::vec(
                (
                    "[A-Za-z][A-Za-z0-9-]{0,8}",
                    proptest::collection::vec(("[a-z][a-z0-9_]{0,6}", "[ -~]{0,16}"), 0..4),
                ),
                1..4,
            ),
            sep in "(,|, |,  )",
        ) {
            let header = challenges
                .iter()
                .map(|(scheme, params)| {
                    let params: Vec<String> =
                        params.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
                    if params.is_empty() {
                        scheme.clone()
                    } else {
                        format!("{scheme} {}", params.join(&sep))
                    }
                })
                .collect::<Vec<_>>()
                .join(&sep);
            let parsed = parse(&header)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let want: Vec<Challenge> = challenges
                .iter()
                .map(|(scheme, params)| Challenge {
                    scheme: scheme.to_ascii_lowercase(),
                    token68: None,
                    params: params.clone(),
                })
                .collect();
            proptest::prop_assert_eq!(parsed, want, "{}", header);
        }
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for h in [
            r#"Bearer realm="open"#,
            r#"Bearer realm="x\"#,
            "Bearer realm=x junk",
            "=x",
            "Bearer abc def",
            "Bearer \"x\"",
        ] {
            assert!(parse(h).is_err(), "{h}");
        }
        assert_eq!(parse("").unwrap_or_default(), Vec::new());
    }
}
