//! Text from the input, shown in a message: every character that would not show (or
//! would not show as itself) is written as an escape, so a message never hides what
//! it quotes.
//!
//! `kind: ResourceList\u{2028}` is not `kind: ResourceList`, and a message that quotes
//! it must say so; a right-to-left override (U+202E) in a name must not turn the rest
//! of a line around; a NUL or an ESC must not reach a terminal. Every message that
//! quotes input passes through [`visible`]: result messages ([`crate::krm`]),
//! `run`'s and `check`'s lines, and doctor's report.
//!
//! The escapes are Rust's (`\u{2028}`, `\t`, `\0`), the form `{:?}` already writes in
//! the messages that quote with it, so one message never mixes two notations; text
//! already escaped passes through unchanged ([`visible`] is idempotent).

use std::borrow::Cow;

/// Whether `c` is invisible, or shows as something else, where a message quotes it:
/// controls (C0, DEL, C1: Unicode's `Cc`), format characters (`Cf`: the bidi
/// controls U+202A-U+202E and U+2066-U+2069, zero-width U+200B-U+200F, U+2060-U+2064,
/// the byte-order mark U+FEFF, the soft hyphen, tags U+E0000-U+E0FFF), separators other
/// than the ASCII space (`Zs`, `Zl` U+2028, `Zp` U+2029), variation selectors and
/// fillers that draw nothing, and the noncharacters (U+FDD0-U+FDEF and every
/// U+xFFFE/U+xFFFF, which YAML 1.2 §5.1 leaves out of its printable set).
pub(crate) fn is_invisible(c: char) -> bool {
    let u = c as u32;
    matches!(
        u,
        // Cc: C0 (TAB and LF included: a message is one line), DEL, C1.
        0x00..=0x1F | 0x7F..=0x9F
        // Zs other than U+0020, Zl, Zp.
        | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000
        // Cf, and characters that draw nothing (combining grapheme joiner, Hangul and
        // Khmer fillers, Mongolian selectors, variation selectors).
        | 0xAD | 0x34F | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890 | 0x891 | 0x8E2
        | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164
        | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF
        // Noncharacters.
        | 0xFDD0..=0xFDEF
    ) || u & 0xFFFE == 0xFFFE
}

/// `s` with every [`is_invisible`] character escaped as Rust writes it (`\t`, `\n`,
/// `\r`, `\0`, else `\u{202e}`); borrowed when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_invisible) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_invisible(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.extend(c.escape_unicode()),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(visible("kind: ResourceList"), "kind: ResourceList");
        assert_eq!(visible("ResourceList\u{2028}"), "ResourceList\\u{2028}");
        assert_eq!(visible("a\tb\nc\r\0"), "a\\tb\\nc\\r\\0");
        assert_eq!(visible("admin\u{202e}nimda"), "admin\\u{202e}nimda");
        assert_eq!(
            visible("\u{feff}x\u{fffe}\u{ffff}"),
            "\\u{feff}x\\u{fffe}\\u{ffff}"
        );
        assert_eq!(visible("\u{1b}[31m"), "\\u{1b}[31m");
        assert_eq!(visible("a\u{a0}b"), "a\\u{a0}b");
        // What shows stays: letters of any script, emoji, accents.
        assert_eq!(visible("é ü 日本 😀 ←"), "é ü 日本 😀 ←");
    }

    #[test]
    fn every_code_point_comes_out_visible_and_once_escaped_stays() {
        for u in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(u) else { continue };
            let s = format!("a{c}b");
            let shown = visible(&s);
            assert!(!shown.chars().any(is_invisible), "U+{u:04X}");
            assert_eq!(visible(&shown), shown, "U+{u:04X}");
            // Escaped or kept, never dropped: the text can be told from another.
            assert_eq!(is_invisible(c), shown.len() > s.len(), "U+{u:04X}");
        }
    }
}
