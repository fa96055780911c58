//! A borrowed JSON tree for reading scenario files (src/scenario.rs).
//!
//! `serde_json::Value` would do, but it copies every key and string and keeps each object in a
//! `BTreeMap`: for a 10,000-event scenario that is ~60,000 allocations on every edit in the
//! page, the largest part of re-reading it. Here strings without escapes borrow from the input
//! and objects are small vectors of pairs. Lookups answer as `Value` would: with a key given
//! twice the last one counts, and objects are walked in key order.
//!
//! The reader ([`Json::parse`]) is serde_json's `from_str` written out for this one tree (its
//! grammar, RFC 8259; its number rules; its recursion limit; its error messages and their line
//! and column, which the scenario check shows): serde_json's generic deserializer was about
//! 5 KB (gzip) of the page's first wasm module. A test holds the two to the same answers over
//! random texts (`answers_as_serde_json`).

mod float;
mod read;

pub(crate) use read::JsonError;
use read::{Code, Reader};
use std::borrow::Cow;
use std::fmt;

/// A JSON value that borrows its strings from the input where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// A whole number 0 or more (what `Value::as_u64` accepts).
    Uint(u64),
    /// A negative whole number.
    Int(i64),
    /// Any other number.
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// The members in file order; see [`Json::get`] for duplicate keys.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Reads `text` as one JSON value (what `serde_json::from_str::<Value>` accepts).
    pub(crate) fn parse(text: &'a str) -> Result<Json<'a>, JsonError> {
        let mut r = Reader { b: text.as_bytes(), text, i: 0, depth: 128 };
        let v = r.value()?;
        match r.ws() {
            Some(_) => Err(r.peek_err(Code::TrailingCharacters)),
            None => Ok(v),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Uint(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<Obj<'_, 'a>> {
        match self {
            Json::Object(v) => Some(Obj(v)),
            _ => None,
        }
    }
}

impl Json<'_> {
    /// [`fmt::Display`]'s text cut after `max` bytes (with "…"): an error message shows a value
    /// without growing to the size of a hostile file, and stops formatting there.
    pub(crate) fn short(&self, max: usize) -> String {
        struct Capped(String, usize);
        impl fmt::Write for Capped {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let room = self.1 - self.0.len();
                if s.len() <= room {
                    self.0.push_str(s);
                    return Ok(());
                }
                let mut cut = room;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                self.0.push_str(&s[..cut]);
                Err(fmt::Error)
            }
        }
        let mut out = Capped(String::new(), max);
        if fmt::write(&mut out, format_args!("{self}")).is_err() {
            out.0.push('…');
        }
        out.0
    }
}

/// Compact JSON, as `serde_json::Value` prints it (object keys sorted, a repeated key once with
/// its last value), for an error message that shows a value.
impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Uint(n) => write!(f, "{n}"),
            Json::Int(n) => write!(f, "{n}"),
            Json::Float(x) => f.write_str(&float::text(*x)),
            Json::Str(s) => f.write_str(&text(s)),
            Json::Array(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().enumerate() {
                    write!(f, "{}{x}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("]")
            }
            Json::Object(v) => {
                let o = Obj(v);
                f.write_str("{")?;
                for (i, k) in o.sorted_keys().enumerate() {
                    write!(f, "{}{}:{}", if i > 0 { "," } else { "" }, text(k), o.get(k).unwrap_or(&Json::Null))?;
                }
                f.write_str("}")
            }
        }
    }
}

/// An object's members.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'o, 'a>(&'o [(Cow<'a, str>, Json<'a>)]);

impl<'o, 'a> Obj<'o, 'a> {
    /// The value of `key`; when the key is given more than once, the last one (as `Value`).
    pub(crate) fn get(&self, key: &str) -> Option<&'o Json<'a>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The distinct keys in sorted order (the order `Value`'s map walks them in), found one at a
    /// time: each next key is one pass over the members. A caller that stops early (at the
    /// first unknown key, or when an error message is long enough) stays linear in the size of
    /// a hostile object with a million keys, and the page's module carries no sorting code.
    pub(crate) fn sorted_keys(&self) -> impl Iterator<Item = &'o str> + 'o {
        let members = self.0;
        let mut last: Option<&'o str> = None;
        std::iter::from_fn(move || {
            let next = members.iter().map(|(k, _)| k.as_ref()).filter(|k| last.is_none_or(|l| *k > l)).min()?;
            last = Some(next);
            Some(next)
        })
    }

    /// The first key in sorted order that `allowed` does not list, if any. The common case
    /// (every key allowed) sorts nothing.
    pub(crate) fn first_unknown_key(&self, allowed: &[&str]) -> Option<&'o str> {
        self.0.iter().map(|(k, _)| k.as_ref()).filter(|k| !allowed.contains(k)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The tree answers as `serde_json::Value` does, including numbers, escapes and repeated keys.
    #[test]
    fn reads_like_value() {
        for text in [
            r#"{"b":1,"a":[true,null,-3,2.5,1e300,18446744073709551615,18446744073709551616,"x\"y",{"z":[],"y":{"k":1,"k":-0}}],"a":"last","é":"\u00e9"}"#,
            r#"[1e400]"#,
            r#"[1.0, -0, 0, 1e2, "", "\ud83d\ude00"]"#,
            "null",
        ] {
            let v = serde_json::from_str::<Value>(text).map(|v| v.to_string()).unwrap_or_else(|e| e.to_string());
            let j = Json::parse(text).map(|j| j.to_string()).unwrap_or_else(|e| e.to_string());
            assert_eq!(j, v, "{text}");
        }
        let text = r#"{"k":1,"k":2,"z":0,"a":0}"#;
        let j = Json::parse(text).unwrap();
        let o = j.as_object().unwrap();
        assert_eq!(o.get("k").and_then(Json::as_u64), Some(2));
        assert_eq!(o.sorted_keys().collect::<Vec<_>>(), vec!["a", "k", "z"]);
        assert_eq!(o.first_unknown_key(&["k"]), Some("a"));
        assert_eq!(o.first_unknown_key(&["k", "z", "a"]), None);
    }

    /// A million keys: the sorted walk stops early and a shown value stays short. (No clock here:
    /// performance lives in the benchmarks; a quadratic walk would make this test take hours.)
    #[test]
    fn big_objects_stay_linear() {
        let text = format!("{{{}}}", (0..1_000_000).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(","));
        let j = Json::parse(&text).unwrap();
        let shown = j.short(40);
        assert_eq!(shown, r#"{"k0":0,"k1":1,"k10":10,"k100":100,"k100…"#);
        assert_eq!(j.as_object().unwrap().sorted_keys().take(3).collect::<Vec<_>>(), vec!["k0", "k1", "k10"]);
        assert_eq!(Json::parse(r#""ééé""#).unwrap().short(3), "\"é…");
    }

    #[test]
    fn errors_keep_serde_json_positions() {
        let a = Json::parse("{\n  \"a\": [1,\n 2,,]}").unwrap_err();
        let b = serde_json::from_str::<Value>("{\n  \"a\": [1,\n 2,,]}").unwrap_err();
        assert_eq!((a.line(), a.column(), a.to_string()), (b.line(), b.column(), b.to_string()));
    }
}
