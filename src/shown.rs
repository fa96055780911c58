//! Values shown in messages: an error names the value it refuses, cut to a few dozen bytes, so
//! a hostile 8 MB key, kind or cause becomes a sentence, not an 8 MB message (issue 13, item 8).

use std::borrow::Cow;

/// Longest piece of a value (or of a path made of keys from the input) a message shows, in bytes.
pub const SHOWN_BYTES: usize = 80;

/// `s` cut after [`SHOWN_BYTES`] bytes (at a character boundary) with "…".
pub fn cut(s: &str) -> Cow<'_, str> {
    cut_at(s, SHOWN_BYTES)
}

/// `s` cut after `max` bytes (at a character boundary) with "…".
pub fn cut_at(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return s.into();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_char_boundary() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(100);
        let c = cut(&long);
        assert!(c.len() <= SHOWN_BYTES + '…'.len_utf8() && c.ends_with('…'), "{c}");
        assert_eq!(cut_at("abcdef", 3), "abc…");
    }
}
