//! What a scalar means, and how to write a string so that it keeps meaning a string.
//!
//! The readers downstream of a KRM function are Go's (kyaml on gopkg.in/yaml.v3, in
//! kustomize and kpt), and users also read the output with YAML 1.1 tools (PyYAML).
//! They disagree: yaml.v3 reads plain `1_000` and `0755` as integers and `2024-01-01`
//! as a timestamp, YAML 1.1 reads `on`/`yes`/`y` as booleans and `12:30` as a
//! base-60 integer. [`resolve`] and [`go_value`] follow yaml.v3's `resolve.go` (the
//! type, and the value `yaml::tree::Tree::to_json` writes); [`plain_is_safe`] is deliberately stricter than any reader, so a string we write
//! plain is a string to all of them.

use super::tree::Style;

/// The type a scalar resolves to under the core schema as Go's yaml.v3 applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved<'s> {
    Null,
    Bool(bool),
    Int,
    Float,
    Timestamp,
    Str(&'s str),
}

/// A scalar's value as Go's yaml.v3 decodes it into an `interface{}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GoValue {
    Null,
    Bool(bool),
    /// `int` (Go's int is 64 bits on the platforms kustomize and kpt ship for).
    Int(i64),
    /// `uint64`, for integers above `i64::MAX`.
    Uint(u64),
    /// `float64`; `.inf`, `-.inf` and `.nan` included.
    Float(f64),
    Timestamp,
    Str,
}

const TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A scalar's tag, as the resolver sees it.
enum Tag<'t> {
    /// No tag, or the non-specific `!`.
    None,
    /// A core-schema tag, in its short form (`tag:yaml.org,2002:int` is `int`).
    Core(&'t str),
    /// Any other tag.
    Other,
}

fn core_tag(tag: Option<&str>) -> Tag<'_> {
    match tag {
        None | Some("!") => Tag::None,
        Some(t) => t.strip_prefix(TAG_PREFIX).map_or(Tag::Other, Tag::Core),
    }
}

/// Resolves a scalar as yaml.v3 does: quoted and block scalars are strings unless an
/// explicit tag says otherwise; a plain scalar (or one tagged `!!int`, `!!float`,
/// `!!bool`, `!!null`, `!!timestamp`) is null, a bool, a number or a timestamp when it
/// reads as one; `!!str`, `!!binary` and tags outside the core schema are strings.
pub(crate) fn resolve<'s>(value: &'s str, style: Style, tag: Option<&str>) -> Resolved<'s> {
    match go_value(value, style, tag) {
        GoValue::Null => Resolved::Null,
        GoValue::Bool(b) => Resolved::Bool(b),
        GoValue::Int(_) | GoValue::Uint(_) => Resolved::Int,
        GoValue::Float(_) => Resolved::Float,
        GoValue::Timestamp => Resolved::Timestamp,
        GoValue::Str => Resolved::Str(value),
    }
}

/// The value yaml.v3 decodes a scalar to (gopkg.in/yaml.v3 `resolve.go`, `resolve`,
/// and `decode.go`, `indicatedString`). A scalar whose explicit tag does not fit its
/// text (`!!int abc`, which Go refuses to decode) is taken as the string it spells.
pub(crate) fn go_value(value: &str, style: Style, tag: Option<&str>) -> GoValue {
    let wanted = match core_tag(tag) {
        // No tag: quoted and block scalars are strings, plain ones are resolved.
        Tag::None if style != Style::Plain => return GoValue::Str,
        Tag::None => None,
        Tag::Other | Tag::Core("str" | "binary") => return GoValue::Str,
        Tag::Core(t @ ("null" | "bool" | "int" | "float" | "timestamp")) => Some(t),
        Tag::Core(_) => return GoValue::Str,
    };
    let got = resolve_plain(value, wanted.is_none() || wanted == Some("timestamp"));
    match (wanted, got) {
        (None, v) => v,
        (Some("float"), GoValue::Int(i)) => GoValue::Float(i as f64),
        (Some("float"), GoValue::Uint(u)) => GoValue::Float(u as f64),
        (Some(t), v) if kind_of(v) == t => v,
        _ => GoValue::Str,
    }
}

fn kind_of(v: GoValue) -> &'static str {
    match v {
        GoValue::Null => "null",
        GoValue::Bool(_) => "bool",
        GoValue::Int(_) | GoValue::Uint(_) => "int",
        GoValue::Float(_) => "float",
        GoValue::Timestamp => "timestamp",
        GoValue::Str => "str",
    }
}

/// yaml.v3's `resolve` for an untagged plain scalar: the first byte picks what the
/// text may be (a sign or digit: a number or timestamp; `.`: a float; one of
/// `yYnNtTfFoO~`: a word), and only the exact words of its table are bools or nulls
/// (`yes`, `on` and `y` are strings, unlike YAML 1.1).
fn resolve_plain(s: &str, timestamps: bool) -> GoValue {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return GoValue::Null,
        "true" | "True" | "TRUE" => return GoValue::Bool(true),
        "false" | "False" | "FALSE" => return GoValue::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return GoValue::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return GoValue::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return GoValue::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => match go_parse_float(s) {
            Some(f) => GoValue::Float(f),
            None => GoValue::Str,
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if timestamps && is_timestamp(s) {
                return GoValue::Timestamp;
            }
            let plain = without_underscores(s);
            if let Some(i) = go_parse_int(&plain) {
                return GoValue::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return GoValue::Uint(u);
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = plain.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    return GoValue::Float(f);
                }
            }
            GoValue::Str
        }
        _ => GoValue::Str,
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` (without underscores, which the caller removed):
/// `0x`/`0o`/`0b` prefixes, and a leading `0` alone meaning octal (`0755` is 493).
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (digits, radix) = if b.first() == Some(&b'0') {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'x') if b.len() >= 3 => (&s[2..], 16),
            Some(b'o') if b.len() >= 3 => (&s[2..], 8),
            Some(b'b') if b.len() >= 3 => (&s[2..], 2),
            _ => (&s[1..], 8),
        }
    } else if b.is_empty() {
        return None;
    } else {
        (s, 10)
    };
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        // "0" (a prefix that is also the value).
        return Some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then [`go_parse_uint`]'s syntax,
/// within the range of an int64.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.is_empty() || rest.starts_with(['+', '-']) {
        return None;
    }
    let u = go_parse_uint(rest)?;
    if neg {
        if u <= 1 << 63 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// yaml.v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => digits(mantissa),
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// `s` with its `_` digit separators removed, borrowed when it has none (most
/// numbers: this runs for every number-like scalar read).
fn without_underscores(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('_') {
        s.replace('_', "").into()
    } else {
        s.into()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for text that starts with `.` (yaml.v3 hands such
/// scalars to it unchanged): `.5`, `.5e-3`; underscores only between digits.
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let digit = |j: Option<&u8>| j.is_some_and(u8::is_ascii_digit);
            if !digit(i.checked_sub(1).and_then(|j| b.get(j))) || !digit(b.get(i + 1)) {
                return None;
            }
        }
    }
    let clean = without_underscores(s);
    if !is_yaml_style_float(&clean) {
        return None;
    }
    clean.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Timestamps as yaml.v3 reads them (`parseTimestamp`): exactly four digits and `-`,
/// then one of Go's layouts `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`, with Go's range checks (a real date,
/// hours below 24, minutes and seconds below 60). Anything else is not a timestamp.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut p = Cursor { b, at: 5 };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let Some(month) = p.num() else { return false };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.num() else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = match p.next() {
        Some(b'T' | b't') => true,
        Some(b' ') => false,
        _ => return false,
    };
    let (Some(h), true, Some(m), true, Some(sec)) =
        (p.num(), p.eat(b':'), p.num(), p.eat(b':'), p.num())
    else {
        return false;
    };
    if h >= 24 || m >= 60 || sec >= 60 {
        return false;
    }
    // Optional fraction: `.` or `,` and digits.
    if matches!(p.peek(), Some(b'.' | b',')) && p.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
        p.at += 1;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.at += 1;
        }
    }
    if !zoned {
        return p.done();
    }
    match p.next() {
        Some(b'Z') => p.done(),
        Some(b'+' | b'-') => {
            let rest = &b[p.at..];
            rest.len() == 5
                && rest[..2].iter().all(u8::is_ascii_digit)
                && rest[2] == b':'
                && rest[3..].iter().all(u8::is_ascii_digit)
                && (rest[0] - b'0') * 10 + (rest[1] - b'0') <= 24
                && (rest[3] - b'0') * 10 + (rest[4] - b'0') <= 60
        }
        _ => false,
    }
}

/// A position in a timestamp's bytes.
struct Cursor<'b> {
    b: &'b [u8],
    at: usize,
}

impl Cursor<'_> {
    /// One or two digits, as Go's layouts `1`, `2`, `15`, `4` and `5` read them.
    fn num(&mut self) -> Option<u32> {
        let d = |i: usize| {
            self.b
                .get(i)
                .filter(|c| c.is_ascii_digit())
                .map(|c| u32::from(c - b'0'))
        };
        let first = d(self.at)?;
        match d(self.at + 1) {
            Some(second) => {
                self.at += 2;
                Some(first * 10 + second)
            }
            None => {
                self.at += 1;
                Some(first)
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.peek() == Some(c);
        if ok {
            self.at += 1;
        }
        ok
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.b.get(self.at + n).copied()
    }

    fn done(&self) -> bool {
        self.at == self.b.len()
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
pub(crate) fn plain_is_safe(s: &str) -> bool {
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

/// Whether YAML 1.2 lets `c` stand as itself in a stream: its printable set
/// (yaml/yaml-spec `spec/1.2.2/spec.md` §5.1, production `c-printable`: TAB, LF, CR,
/// U+0020-U+007E, NEL, U+00A0-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF). "Characters
/// outside this set must be presented using escape sequences": C0 and C1 controls,
/// DEL, U+FFFE and U+FFFF. PyYAML and ruamel.yaml refuse a stream holding one raw.
pub(crate) fn yaml_printable(c: char) -> bool {
    matches!(
        c as u32,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF
    )
}

/// Characters that are printable but that a reader may take for something else: NEL,
/// U+2028 and U+2029 are line breaks to YAML 1.1 readers (PyYAML), and a byte-order
/// mark inside a scalar "should be escaped on output" (§5.2). They are escaped too,
/// as go-yaml v3 escapes them (`emitterc.go` `yaml_emitter_write_double_quoted_scalar`).
fn escaped_though_printable(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// Writes `s` as a YAML double-quoted scalar: only `"`, `\`, the characters outside
/// YAML's printable set ([`yaml_printable`]) and [`escaped_though_printable`] are
/// escaped: `\xXX` up to U+00FF, `\uXXXX` above (uppercase hex, fixed width, as
/// go-yaml v3 writes them), and the short forms `\n`, `\t`, `\r`, `\0`.
pub(crate) fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) <= 0xFF && !yaml_printable(c) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if !yaml_printable(c) || escaped_though_printable(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `s` as a scalar that can stand on one line: plain when that is safe,
/// double-quoted otherwise.
pub(crate) fn inline_string(s: &str, out: &mut String) {
    if plain_is_safe(s) {
        out.push_str(s);
    } else {
        double_quoted(s, out);
    }
}

/// Whether `s` can be written as a literal block scalar (`|`) and read back exactly:
/// several lines, no trailing whitespace on any line (it would be invisible), no
/// leading space on the first line (that would need an indentation indicator), and no
/// character a block cannot hold as itself: one outside YAML's printable set (a block
/// has no escapes), a CR or a YAML 1.1 line break (a reader would fold it into a line
/// break), or a byte-order mark. Such a string is written double-quoted instead.
pub(crate) fn literal_is_safe(s: &str) -> bool {
    let body = s.trim_end_matches('\n');
    s.contains('\n')
        && !body.is_empty()
        && !body.starts_with([' ', '\n'])
        && body
            .split('\n')
            .all(|line| !line.ends_with([' ', '\t']) && !line.starts_with('\t'))
        && s.chars()
            .all(|c| yaml_printable(c) && c != '\r' && !escaped_though_printable(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STR_TAG: &str = "tag:yaml.org,2002:str";

    #[test]
    fn resolves_like_go() {
        for s in [
            "1", "-3", "0755", "0x1F", "0o17", "1_000", "+7", "1_", "0b101", "-0x1F",
        ] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Int, "{s}");
        }
        for s in [
            "1e3", "1.5", ".inf", "-.inf", ".nan", "6.02e+23", "08", "1.", ".5", "+.5",
        ] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Float, "{s}");
        }
        for s in [
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2001-2-3T4:5:6Z",
        ] {
            assert_eq!(resolve(s, Style::Plain, None), Resolved::Timestamp, "{s}");
        }
        for s in [
            "on",
            "yes",
            "10.0.0.1",
            "12:30",
            "a-b",
            "1.2.3",
            "1e",
            "_1",
            "0x",
            "1e400",
            "2024-13-01",
            "2023-02-29",
            "2001-12-14 21:59:43.10 -5",
            ".Nan",
            "<<",
            "-",
            ".",
        ] {
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

    /// The values, not only the types: what `yaml::tree::to_json` writes.
    #[test]
    fn decodes_numbers_like_go() {
        let v = |s: &str| go_value(s, Style::Plain, None);
        assert_eq!(v("0x1F"), GoValue::Int(31));
        assert_eq!(v("0755"), GoValue::Int(493));
        assert_eq!(v("0o17"), GoValue::Int(15));
        assert_eq!(v("-0b11"), GoValue::Int(-3));
        assert_eq!(v("1_000"), GoValue::Int(1000));
        assert_eq!(v("-9223372036854775808"), GoValue::Int(i64::MIN));
        assert_eq!(v("18446744073709551615"), GoValue::Uint(u64::MAX));
        assert_eq!(
            v("18446744073709551616"),
            GoValue::Float(18446744073709551616.0)
        );
        assert_eq!(v("08"), GoValue::Float(8.0));
        assert_eq!(v("1e3"), GoValue::Float(1000.0));
        // An explicit core tag resolves the text whatever its style.
        let tagged = |s: &str, t: &str| go_value(s, Style::DoubleQuoted, Some(t));
        assert_eq!(tagged("3", "tag:yaml.org,2002:int"), GoValue::Int(3));
        assert_eq!(tagged("3", "tag:yaml.org,2002:float"), GoValue::Float(3.0));
        assert_eq!(tagged("abc", "tag:yaml.org,2002:int"), GoValue::Str);
        assert_eq!(tagged("3", "!custom"), GoValue::Str);
        // The non-specific tag `!` is no tag to yaml.v3.
        assert_eq!(go_value("3", Style::Plain, Some("!")), GoValue::Int(3));
        assert_eq!(go_value("3", Style::SingleQuoted, Some("!")), GoValue::Str);
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
