//! What a scalar means, and how to write a string so that it keeps meaning a string.
//!
//! The readers downstream of a KRM function are Go's (kyaml on gopkg.in/yaml.v3, in
//! kustomize and kpt), and users also read the output with YAML 1.1 tools (PyYAML).
//! They disagree: yaml.v3 reads plain `1_000` and `0755` as integers and `2024-01-01`
//! as a timestamp, YAML 1.1 reads `on`/`yes`/`y` as booleans and `12:30` as a
//! base-60 integer. [`resolve`] follows yaml.v3 closely enough to type-check a spec;
//! [`plain_is_safe`] is deliberately stricter than any reader, so a string we write
//! plain is a string to all of them.

use super::tree::Style;

/// The type a scalar resolves to under the core schema as Go's yaml.v3 applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved<'s> {
    Null,
    Bool(bool),
    Int,
    Float,
    Timestamp,
    Str(&'s str),
}

const STR_TAG: &str = "tag:yaml.org,2002:str";

/// Resolves a scalar: quoted and block scalars, and anything tagged `!!str`, are strings;
/// a plain scalar is null, a bool, a number or a timestamp when it looks like one.
pub fn resolve<'s>(value: &'s str, style: Style, tag: Option<&str>) -> Resolved<'s> {
    if style != Style::Plain || tag == Some(STR_TAG) {
        return Resolved::Str(value);
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if is_int(value) {
        Resolved::Int
    } else if is_float(value) {
        Resolved::Float
    } else if is_timestamp(value) {
        Resolved::Timestamp
    } else {
        Resolved::Str(value)
    }
}

/// Integers as yaml.v3 reads them (Go's `strconv.ParseInt(s, 0, 64)` syntax: signs,
/// `0x`/`0o`/`0b` prefixes, legacy leading-zero octal, `_` separators).
fn is_int(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = s.strip_prefix("0o").or(s.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = s.strip_prefix("0b").or(s.strip_prefix("0B")) {
        (r, 2)
    } else {
        (s, 10)
    };
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && digits.chars().any(|c| c.is_digit(radix))
        && digits.chars().all(|c| c == '_' || c.is_digit(radix))
}

/// Floats as yaml.v3 reads them: decimal with optional exponent (no `_`), `.inf`, `.nan`.
fn is_float(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = mantissa.chars().filter(char::is_ascii_digit).count();
    let dots = mantissa.chars().filter(|&c| c == '.').count();
    let mantissa_ok =
        digits > 0 && dots <= 1 && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Timestamps as yaml.v3 reads them: a date `YYYY-M-D`, optionally followed by a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut parts = s[5..].splitn(2, '-');
    let month = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("");
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[day.len()..];
    (1..=2).contains(&month.len())
        && month.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
        && (after.is_empty() || after.starts_with(['T', 't', ' ']))
}

/// Words some YAML reader (YAML 1.1: PyYAML, old go-yaml) takes for a bool or null.
fn is_special_word(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nil",
    ];
    s == "~" || WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// Whether `s` may be written as a plain scalar and read back as the same string by
/// every YAML 1.1 and 1.2 reader. Anything that starts with a digit, a sign, a dot or
/// an indicator, holds a space, `#`, `,`, `=`, quotes or brackets, or is a bool/null
/// word in any reader's book, is quoted instead.
pub fn plain_is_safe(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | ':' | '@' | '-'))
        && !s.ends_with(':')
        && !s.contains("::")
        && !is_special_word(s)
}

/// Writes `s` as a YAML double-quoted scalar: only `"`, `\` and characters that are
/// not printable (or that YAML 1.1 treats as line breaks) are escaped.
pub fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `s` as a scalar that can stand on one line: plain when that is safe,
/// double-quoted otherwise.
pub fn inline_string(s: &str, out: &mut String) {
    if plain_is_safe(s) {
        out.push_str(s);
    } else {
        double_quoted(s, out);
    }
}

/// Whether `s` can be written as a literal block scalar (`|`) and read back exactly:
/// several lines, no trailing whitespace on any line (it would be invisible), no
/// leading space on the first line (that would need an indentation indicator), only
/// printable characters.
pub fn literal_is_safe(s: &str) -> bool {
    let body = s.trim_end_matches('\n');
    s.contains('\n')
        && !body.is_empty()
        && !body.starts_with([' ', '\n'])
        && body
            .split('\n')
            .all(|line| !line.ends_with([' ', '\t']) && !line.starts_with('\t'))
        && !s.chars().any(|c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go() {
        for s in ["1", "-3", "0755", "0x1F", "0o17", "1_000", "+7"] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Int, "{s}");
        }
        for s in ["1e3", "1.5", ".inf", "-.inf", ".nan", "6.02e+23"] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Float, "{s}");
        }
        for s in ["2024-01-01", "2001-12-14t21:59:43.10-05:00"] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Timestamp, "{s}");
        }
        for s in ["on", "yes", "10.0.0.1", "12:30", "a-b", "1.2.3", "1e", "_1"] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Str(s), "{s}");
        }
        assert_eq!(resolve("true", Style::Plain, None), Resolved::Bool(true));
        assert_eq!(resolve("~", Style::Plain, None), Resolved::Null);
        assert_eq!(resolve("", Style::Plain, None), Resolved::Null);
        assert_eq!(
            resolve("true", Style::DoubleQuoted, None),
            Resolved::Str("true")
        );
        assert_eq!(
            resolve("1", Style::Plain, Some(STR_TAG)),
            Resolved::Str("1")
        );
    }

    #[test]
    fn ambiguous_strings_are_never_plain() {
        for s in [
            "on",
            "yes",
            "Y",
            "NO",
            "0755",
            "0o17",
            "0x1F",
            "1e3",
            "1_000",
            "12:30",
            "1:2:3",
            "2024-01-01",
            "~",
            "null",
            ".inf",
            "=",
            "<<",
            " x",
            "x ",
            "",
            "a: b",
            "a #b",
            "-",
            "- a",
            "? x",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "a,b",
            "[x]",
            "{x}",
            "x:",
            "True",
            "nil",
            "'x'",
            "\"x\"",
            "|",
            ">",
            "1",
            "-1",
            "+1",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "harbor-core",
            "http://harbor-core.default.svc.cluster.local",
            "config.kubernetes.io/path",
            "buildkitd.toml",
            "IMAGE_DIGEST",
            "/etc/ssl/ca.pem",
        ] {
            assert!(plain_is_safe(s), "{s:?} can stay plain");
        }
    }

    #[test]
    fn double_quoting_escapes_what_it_must() {
        let mut out = String::new();
        double_quoted("a\"b\\c\nd\te\u{1}\u{2028}", &mut out);
        assert_eq!(out, r#""a\"b\\c\nd\te\x01\u2028""#);
    }

    #[test]
    fn literal_safety() {
        assert!(literal_is_safe("a\nb\n"));
        assert!(literal_is_safe("a\n\n  b"));
        assert!(!literal_is_safe("one line"));
        assert!(!literal_is_safe("a \nb\n"));
        assert!(!literal_is_safe(" a\nb\n"));
        assert!(!literal_is_safe("a\r\nb\n"));
        assert!(!literal_is_safe("\n\n"));
    }
}
