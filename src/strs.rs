//! Substring search for the engine's header handling (`;tag=`, `, `, `;branch=`) without
//! core's `StrSearcher` (the two-way algorithm): its code is about 2.5 KB of the page's first
//! wasm module (issue 10's page weight, docs/bench.md), and the needles here are a few bytes
//! long in header values of a few dozen, where a plain scan is as fast. Same answers as the
//! `str` methods named on each function (tests below check them against each other).
//!
//! A match of a valid UTF-8 needle in valid UTF-8 text starts and ends on character
//! boundaries (UTF-8 is self-synchronising), so the slices below cannot split a character.

/// `hay.find(pat)` for a non-empty `pat`.
pub(crate) fn find(hay: &str, pat: &str) -> Option<usize> {
    let (h, p) = (hay.as_bytes(), pat.as_bytes());
    if p.is_empty() {
        return Some(0);
    }
    h.windows(p.len()).position(|w| w == p)
}

/// `hay.contains(pat)`.
pub(crate) fn contains(hay: &str, pat: &str) -> bool {
    find(hay, pat).is_some()
}

/// `hay.split(pat)` for a non-empty `pat`.
pub(crate) fn split<'a>(hay: &'a str, pat: &'a str) -> Split<'a> {
    Split { rest: Some(hay), pat }
}

/// `hay.split(pat).nth(1)`: the text between the first `pat` and the next one (or the end).
pub(crate) fn second<'a>(hay: &'a str, pat: &'a str) -> Option<&'a str> {
    split(hay, pat).nth(1)
}

/// The iterator of [`split`].
pub(crate) struct Split<'a> {
    rest: Option<&'a str>,
    pat: &'a str,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match find(rest, self.pat).filter(|_| !self.pat.is_empty()) {
            Some(i) => {
                self.rest = Some(&rest[i + self.pat.len()..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_str_methods() {
        let hays =
            ["", ";tag=", "a;tag=b", "a;tag=b;tag=c;x", ";tag=;tag=", "é;tag=ü, x, , y", "no match", ", ", "a, b, c", ";;tag=tag=", "<sip:a>;tag=x;branch=z9"];
        let pats = [";tag=", ", ", ";branch=", "x", "é"];
        for h in hays {
            for p in pats {
                assert_eq!(find(h, p), h.find(p), "{h:?} {p:?}");
                assert_eq!(contains(h, p), h.contains(p), "{h:?} {p:?}");
                assert_eq!(split(h, p).collect::<Vec<_>>(), h.split(p).collect::<Vec<_>>(), "{h:?} {p:?}");
                assert_eq!(second(h, p), h.split(p).nth(1), "{h:?} {p:?}");
            }
        }
    }
}
