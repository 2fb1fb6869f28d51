//! Secrets out of everything doctor prints.

/// Replaces every secret the probe handled with `****` in what it prints, in every
/// form a server may echo it in: as it is, %-encoded (any mix of encoded and plain
/// characters, either case of hex, `+` for a space), JSON-escaped, and base64 (of the
/// secret alone, at any alignment inside a longer base64 text, and of `user:password`
/// as a Basic header carries it).
#[derive(Default)]
pub(crate) struct Masker {
    /// The secrets, longest first.
    secrets: Vec<Vec<u8>>,
}

/// Very short secrets would mask ordinary words; a password of one to three characters
/// is also never printed by the probe itself.
const SHORTEST_MASKED: usize = 4;

impl Masker {
    /// Masks `secret`, and every base64 form of it.
    pub(crate) fn add(&mut self, secret: &str) {
        self.add_form(secret.as_bytes());
        for form in base64_forms(secret.as_bytes()) {
            self.add_form(form.as_bytes());
        }
    }

    /// Masks `user:password` in base64 (the Basic header), and the password itself.
    pub(crate) fn add_basic(&mut self, user: &str, password: &str) {
        self.add(password);
        for form in base64_forms(format!("{user}:{password}").as_bytes()) {
            self.add_form(form.as_bytes());
        }
    }

    fn add_form(&mut self, form: &[u8]) {
        if form.len() >= SHORTEST_MASKED && !self.secrets.iter().any(|s| s == form) {
            self.secrets.push(form.to_vec());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub(crate) fn mask(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_string();
        }
        let b = text.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match self.secrets.iter().find_map(|s| echoed(b, i, s)) {
                Some(end) => {
                    out.extend_from_slice(b"****");
                    i = end;
                }
                None => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        // A mask replaces whole secrets; what is left are the text's own characters,
        // and an echo that ended inside one leaves its tail, which is still text.
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Where an echo of `secret` that starts at `text[at]` ends: each of its bytes as
/// itself, `%XX` (either case), `+` for a space, or a JSON escape (`\"`, `\\`, `\/`,
/// `\u00XX`).
fn echoed(text: &[u8], at: usize, secret: &[u8]) -> Option<usize> {
    let hex = |h: &[u8]| -> Option<u8> {
        let s = std::str::from_utf8(h).ok()?;
        u8::from_str_radix(s, 16).ok()
    };
    let mut p = at;
    for &want in secret {
        let rest = text.get(p..)?;
        p += match rest {
            [c, ..] if *c == want => 1,
            [b'+', ..] if want == b' ' => 1,
            [b'%', h @ ..] if h.len() >= 2 && hex(&h[..2]) == Some(want) => 3,
            [b'\\', c, ..] if *c == want && matches!(want, b'"' | b'\\' | b'/') => 2,
            [b'\\', b'u', h @ ..] if h.len() >= 4 && hex(&h[..4]) == Some(want) => 6,
            _ => return None,
        };
    }
    Some(p)
}

/// `bytes` in base64 as a server may echo it: standard and URL-safe, padded or not,
/// and, for an echo inside a longer base64 text, the characters that depend on
/// `bytes` alone at each of the three alignments.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let mut out = Vec::new();
    for offset in 0..3 {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        for encoded in [STANDARD.encode(&padded), URL_SAFE_NO_PAD.encode(&padded)] {
            // Skip the characters that also encode the `offset` filler bytes, and the
            // last group, which depends on what follows.
            let skip = (offset * 4).div_ceil(3);
            let whole = padded.len() / 3 * 4;
            if offset == 0 {
                out.push(encoded.trim_end_matches('=').to_string());
                out.push(encoded.clone());
            }
            if whole > skip {
                out.push(encoded[skip..whole].to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_covers_every_occurrence() {
        let mut m = Masker::default();
        m.add("hunter22");
        m.add("ab"); // too short to mask safely
        assert_eq!(
            m.mask("pw hunter22, b64 aHVudGVyMjI=, again hunter22, ab"),
            "pw ****, b64 ****, again ****, ab"
        );
    }

    #[test]
    fn every_echoed_form_is_masked() {
        let mut m = Masker::default();
        m.add_basic("robot$ci", "p@ss word/+\"é");
        for echoed in [
            "p@ss word/+\"é",
            "p%40ss%20word%2F%2B%22%C3%A9",
            "p%40ss+word%2f%2b%22%c3%a9",
            "p@ss%20word/+%22é",
            "p@ss word\\/+\\\"é",
            "p\\u0040ss word/+\\u0022é",
        ] {
            let shown = m.mask(&format!("<{echoed}>"));
            assert_eq!(shown, "<****>", "{echoed}");
        }
        use base64::Engine;
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let basic = engine.encode("robot$ci:p@ss word/+\"é");
            assert!(!m.mask(&basic).contains(&basic[4..]), "{basic}");
            // The password inside a longer base64 text, at each alignment.
            for prefix in ["", "x", "xy"] {
                let longer = engine.encode(format!("{prefix}p@ss word/+\"é and more"));
                let shown = m.mask(&longer);
                assert!(shown.contains("****"), "{prefix:?}: {longer} -> {shown}");
            }
        }
    }
}
