//! The reader of [`Json::parse`]: serde_json's `from_str` (`Deserializer<StrRead>`, version
//! 1.0, without its `float_roundtrip` feature) written out for the borrowed tree, so that the
//! page's first wasm module carries no generic deserializer. Same grammar (RFC 8259), number
//! rules, recursion limit (128), error messages, lines and columns; `answers_as_serde_json`
//! holds the two to the same answers.

use super::Json;
use std::borrow::Cow;
use std::fmt;

/// Why a text is not JSON: the errors of serde_json (`ErrorCode`) that a text can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Code {
    EofWhileParsingList,
    EofWhileParsingObject,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    TrailingCharacters,
    UnexpectedEndOfHexEscape,
    RecursionLimitExceeded,
}

impl Code {
    /// serde_json's words for it.
    fn text(self) -> &'static str {
        match self {
            Code::EofWhileParsingList => "EOF while parsing a list",
            Code::EofWhileParsingObject => "EOF while parsing an object",
            Code::EofWhileParsingString => "EOF while parsing a string",
            Code::EofWhileParsingValue => "EOF while parsing a value",
            Code::ExpectedColon => "expected `:`",
            Code::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Code::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Code::ExpectedSomeIdent => "expected ident",
            Code::ExpectedSomeValue => "expected value",
            Code::InvalidEscape => "invalid escape",
            Code::InvalidNumber => "invalid number",
            Code::NumberOutOfRange => "number out of range",
            Code::ControlCharacterWhileParsingString => "control character (\\u0000-\\u001F) found while parsing a string",
            Code::KeyMustBeAString => "key must be a string",
            Code::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Code::TrailingComma => "trailing comma",
            Code::TrailingCharacters => "trailing characters",
            Code::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
            Code::RecursionLimitExceeded => "recursion limit exceeded",
        }
    }
}

/// A text that is not JSON: what is wrong and where (line from 1, column in bytes from the
/// line's start, as serde_json counts them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    code: Code,
    line: usize,
    column: usize,
}

impl JsonError {
    pub(crate) fn line(&self) -> usize {
        self.line
    }
    pub(crate) fn column(&self) -> usize {
        self.column
    }
}

/// serde_json's form: `expected value at line 1 column 5`.
impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.code.text(), self.line, self.column)
    }
}

/// serde_json's `Deserializer<StrRead>` reduced to what [`Json::parse`] needs.
pub(super) struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) text: &'a str,
    pub(super) i: usize,
    /// Nesting still allowed (serde_json's recursion limit: 128).
    pub(super) depth: u32,
}

/// Whether `d` after `n` would take `n * 10 + d` past `max` (serde_json's `overflow!`).
fn overflows(n: u64, d: u64, max: u64) -> bool {
    n >= max / 10 && (n > max / 10 || d > max % 10)
}

/// 10^k rounded to the nearest `f64` (ties to even), as the literal `1e{k}` is, for k ≤ 308:
/// serde_json's table of powers, computed (an exact big integer, rounded) instead of stored.
fn pow10(k: usize) -> Option<f64> {
    if k > 308 {
        return None;
    }
    let mut f = 1.0f64;
    if k <= 22 {
        // Every step is exact: 10^22 < 2^53 · 2^22.
        for _ in 0..k {
            f *= 10.0;
        }
        return Some(f);
    }
    let mut limbs = [0u64; 17];
    limbs[0] = 1;
    let mut n = 1;
    for _ in 0..k {
        let mut carry = 0u64;
        for l in limbs[..n].iter_mut() {
            let v = (*l as u128) * 10 + carry as u128;
            *l = v as u64;
            carry = (v >> 64) as u64;
        }
        if carry > 0 {
            limbs[n] = carry;
            n += 1;
        }
    }
    let top = limbs[n - 1];
    let lz = top.leading_zeros();
    let mut bits = n as u32 * 64 - lz;
    let next = if n >= 2 { limbs[n - 2] } else { 0 };
    let (hi, below) = if lz == 0 { (top, next) } else { ((top << lz) | (next >> (64 - lz)), next << lz) };
    let sticky = below != 0 || limbs[..n.saturating_sub(2)].iter().any(|&l| l != 0);
    let mut m = hi >> 11;
    let rem = hi & 0x7ff;
    if rem > 0x400 || (rem == 0x400 && (sticky || m & 1 == 1)) {
        m += 1;
        if m == 1 << 53 {
            m >>= 1;
            bits += 1;
        }
    }
    f = f64::from_bits(((bits - 1 + 1023) as u64) << 52 | (m & ((1 << 52) - 1)));
    Some(f)
}

impl<'a> Reader<'a> {
    fn at(&self, i: usize, code: Code) -> JsonError {
        let line_start = self.b[..i].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
        let line = 1 + self.b[..line_start].iter().filter(|&&c| c == b'\n').count();
        JsonError { code, line, column: i - line_start }
    }
    /// An error caused by the byte just taken (serde_json's `error`).
    fn err(&self, code: Code) -> JsonError {
        self.at(self.i, code)
    }
    /// An error caused by the byte looked at (serde_json's `peek_error`).
    pub(super) fn peek_err(&self, code: Code) -> JsonError {
        self.at((self.i + 1).min(self.b.len()), code)
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn peek_or_null(&self) -> u8 {
        self.peek().unwrap_or(0)
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    /// Skips whitespace; the next byte, not taken.
    pub(super) fn ws(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
        self.peek()
    }

    pub(super) fn value(&mut self) -> Result<Json<'a>, JsonError> {
        let Some(peek) = self.ws() else {
            return Err(self.peek_err(Code::EofWhileParsingValue));
        };
        match peek {
            b'n' => self.ident(b"null", Json::Null),
            b't' => self.ident(b"true", Json::Bool(true)),
            b'f' => self.ident(b"false", Json::Bool(false)),
            b'-' => {
                self.i += 1;
                self.number(false)
            }
            b'0'..=b'9' => self.number(true),
            b'"' => {
                self.i += 1;
                Ok(Json::Str(self.string()?))
            }
            b'[' | b'{' => {
                self.depth -= 1;
                if self.depth == 0 {
                    return Err(self.peek_err(Code::RecursionLimitExceeded));
                }
                self.i += 1;
                let v = if peek == b'[' { self.array() } else { self.object() };
                self.depth += 1;
                let v = v?;
                // The closing bracket the loop stopped at.
                self.i += 1;
                Ok(v)
            }
            _ => Err(self.peek_err(Code::ExpectedSomeValue)),
        }
    }

    fn ident(&mut self, word: &[u8], v: Json<'a>) -> Result<Json<'a>, JsonError> {
        self.i += 1;
        for &want in &word[1..] {
            match self.next() {
                None => return Err(self.err(Code::EofWhileParsingValue)),
                Some(c) if c != want => return Err(self.err(Code::ExpectedSomeIdent)),
                Some(_) => {}
            }
        }
        Ok(v)
    }

    fn array(&mut self) -> Result<Json<'a>, JsonError> {
        let mut v = Vec::new();
        loop {
            let Some(peek) = self.ws() else {
                return Err(self.peek_err(Code::EofWhileParsingList));
            };
            if peek == b']' {
                return Ok(Json::Array(v));
            }
            if !v.is_empty() {
                if peek != b',' {
                    return Err(self.peek_err(Code::ExpectedListCommaOrEnd));
                }
                self.i += 1;
                match self.ws() {
                    Some(b']') => return Err(self.peek_err(Code::TrailingComma)),
                    Some(_) => {}
                    None => return Err(self.peek_err(Code::EofWhileParsingValue)),
                }
            }
            v.push(self.value()?);
        }
    }

    fn object(&mut self) -> Result<Json<'a>, JsonError> {
        let mut v = Vec::with_capacity(4);
        loop {
            let Some(peek) = self.ws() else {
                return Err(self.peek_err(Code::EofWhileParsingObject));
            };
            if peek == b'}' {
                return Ok(Json::Object(v));
            }
            if v.is_empty() {
                if peek != b'"' {
                    return Err(self.peek_err(Code::KeyMustBeAString));
                }
            } else {
                if peek != b',' {
                    return Err(self.peek_err(Code::ExpectedObjectCommaOrEnd));
                }
                self.i += 1;
                match self.ws() {
                    Some(b'"') => {}
                    Some(b'}') => return Err(self.peek_err(Code::TrailingComma)),
                    Some(_) => return Err(self.peek_err(Code::KeyMustBeAString)),
                    None => return Err(self.peek_err(Code::EofWhileParsingValue)),
                }
            }
            self.i += 1;
            let k = self.string()?;
            match self.ws() {
                Some(b':') => self.i += 1,
                Some(_) => return Err(self.peek_err(Code::ExpectedColon)),
                None => return Err(self.peek_err(Code::EofWhileParsingObject)),
            }
            let x = self.value()?;
            v.push((k, x));
        }
    }

    /// A string after its opening quote: borrowed from the text when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        let mut owned: Option<String> = None;
        let mut start = self.i;
        loop {
            while self.i < self.b.len() && !matches!(self.b[self.i], b'"' | b'\\' | 0..=0x1f) {
                self.i += 1;
            }
            let Some(c) = self.peek() else {
                return Err(self.err(Code::EofWhileParsingString));
            };
            // `start` and `i` sit next to ASCII bytes, so both are char boundaries.
            let part = self.text.get(start..self.i).unwrap_or_default();
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(part),
                        Some(mut s) => {
                            s.push_str(part);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(part);
                    self.i += 1;
                    let ch = self.escape()?;
                    owned.get_or_insert_with(String::new).push(ch);
                    start = self.i;
                }
                _ => {
                    self.i += 1;
                    return Err(self.err(Code::ControlCharacterWhileParsingString));
                }
            }
        }
    }

    /// The character of an escape, after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(c) = self.next() else {
            return Err(self.err(Code::EofWhileParsingString));
        };
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.err(Code::InvalidEscape)),
        })
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let n = self.hex4()?;
        if (0xdc00..=0xdfff).contains(&n) {
            return Err(self.err(Code::LoneLeadingSurrogateInHexEscape));
        }
        if !(0xd800..=0xdbff).contains(&n) {
            return Ok(char::from_u32(n as u32).unwrap_or('\u{fffd}'));
        }
        for want in [b'\\', b'u'] {
            let Some(c) = self.peek() else {
                return Err(self.err(Code::EofWhileParsingString));
            };
            self.i += 1;
            if c != want {
                return Err(self.err(Code::UnexpectedEndOfHexEscape));
            }
        }
        let n2 = self.hex4()?;
        if !(0xdc00..=0xdfff).contains(&n2) {
            return Err(self.err(Code::LoneLeadingSurrogateInHexEscape));
        }
        let c = ((((n - 0xd800) as u32) << 10) | (n2 - 0xdc00) as u32) + 0x1_0000;
        Ok(char::from_u32(c).unwrap_or('\u{fffd}'))
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let Some(d) = self.b.get(self.i..self.i + 4) else {
            self.i = self.b.len();
            return Err(self.err(Code::EofWhileParsingString));
        };
        self.i += 4;
        let mut n = 0u16;
        for &c in d {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(self.err(Code::InvalidEscape)),
            };
            n = n << 4 | v as u16;
        }
        Ok(n)
    }

    /// A number after its sign (serde_json's `parse_integer`).
    fn number(&mut self, positive: bool) -> Result<Json<'a>, JsonError> {
        let Some(first) = self.next() else {
            return Err(self.err(Code::EofWhileParsingValue));
        };
        let sig = match first {
            b'0' => {
                if self.peek_or_null().is_ascii_digit() {
                    return Err(self.peek_err(Code::InvalidNumber));
                }
                0
            }
            b'1'..=b'9' => {
                let mut sig = (first - b'0') as u64;
                while let c @ b'0'..=b'9' = self.peek_or_null() {
                    let d = (c - b'0') as u64;
                    if overflows(sig, d, u64::MAX) {
                        return self.long_integer(positive, sig).map(Json::Float);
                    }
                    self.i += 1;
                    sig = sig * 10 + d;
                }
                sig
            }
            _ => return Err(self.err(Code::InvalidNumber)),
        };
        Ok(match self.peek_or_null() {
            b'.' => Json::Float(self.decimal(positive, sig, 0)?),
            b'e' | b'E' => Json::Float(self.exponent(positive, sig, 0)?),
            _ if positive => Json::Uint(sig),
            _ => {
                let neg = (sig as i64).wrapping_neg();
                // `-0` and what does not fit an i64 are floats.
                if neg >= 0 {
                    Json::Float(-(sig as f64))
                } else {
                    Json::Int(neg)
                }
            }
        })
    }

    fn long_integer(&mut self, positive: bool, sig: u64) -> Result<f64, JsonError> {
        let mut exponent = 0i32;
        loop {
            match self.peek_or_null() {
                b'0'..=b'9' => {
                    self.i += 1;
                    exponent += 1;
                }
                b'.' => return self.decimal(positive, sig, exponent),
                b'e' | b'E' => return self.exponent(positive, sig, exponent),
                _ => return self.float_of_parts(positive, sig, exponent),
            }
        }
    }

    fn decimal(&mut self, positive: bool, mut sig: u64, before: i32) -> Result<f64, JsonError> {
        self.i += 1;
        let mut after = 0i32;
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            let d = (c - b'0') as u64;
            if overflows(sig, d, u64::MAX) {
                // Further digits change nothing.
                while self.peek_or_null().is_ascii_digit() {
                    self.i += 1;
                }
                return match self.peek_or_null() {
                    b'e' | b'E' => self.exponent(positive, sig, before + after),
                    _ => self.float_of_parts(positive, sig, before + after),
                };
            }
            self.i += 1;
            sig = sig * 10 + d;
            after -= 1;
        }
        if after == 0 {
            return Err(self.peek_err(if self.peek().is_some() { Code::InvalidNumber } else { Code::EofWhileParsingValue }));
        }
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, sig, before + after),
            _ => self.float_of_parts(positive, sig, before + after),
        }
    }

    fn exponent(&mut self, positive: bool, sig: u64, start: i32) -> Result<f64, JsonError> {
        self.i += 1;
        let positive_exp = match self.peek_or_null() {
            b'+' => {
                self.i += 1;
                true
            }
            b'-' => {
                self.i += 1;
                false
            }
            _ => true,
        };
        let mut exp = match self.next() {
            None => return Err(self.err(Code::EofWhileParsingValue)),
            Some(c @ b'0'..=b'9') => (c - b'0') as i32,
            Some(_) => return Err(self.err(Code::InvalidNumber)),
        };
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            self.i += 1;
            let d = (c - b'0') as i32;
            if overflows(exp as u64, d as u64, i32::MAX as u64) {
                // Error instead of an infinity; else zero.
                if sig != 0 && positive_exp {
                    return Err(self.err(Code::NumberOutOfRange));
                }
                while self.peek_or_null().is_ascii_digit() {
                    self.i += 1;
                }
                return Ok(if positive { 0.0 } else { -0.0 });
            }
            exp = exp * 10 + d;
        }
        let e = if positive_exp { start.saturating_add(exp) } else { start.saturating_sub(exp) };
        self.float_of_parts(positive, sig, e)
    }

    /// `sig · 10^exponent` as serde_json computes it (without its `float_roundtrip` feature).
    fn float_of_parts(&mut self, positive: bool, sig: u64, mut exponent: i32) -> Result<f64, JsonError> {
        let mut f = sig as f64;
        loop {
            match pow10(exponent.unsigned_abs() as usize) {
                Some(pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.err(Code::NumberOutOfRange));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.err(Code::NumberOutOfRange));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { f } else { -f })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The same answers as serde_json over random texts: a value read the same (compared in
    /// `Value`'s compact form), or the same error at the same line and column. The texts are
    /// random JSON documents (escapes, surrogate pairs, numbers at every edge, whitespace,
    /// nesting to the recursion limit) and the same documents with bytes dropped, doubled,
    /// swapped or replaced by one of the grammar's own characters: nearly every error path.
    #[test]
    fn answers_as_serde_json() {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0
            }
            fn below(&mut self, n: usize) -> usize {
                (self.next() % n as u64) as usize
            }
            fn pick<'p>(&mut self, xs: &[&'p str]) -> &'p str {
                xs[self.below(xs.len())]
            }
        }
        const NUMBERS: &[&str] = &[
            "0",
            "-0",
            "1",
            "-1",
            "12",
            "1.5",
            "-2.25",
            "1e3",
            "1E+3",
            "1e-3",
            "0.1",
            "1e308",
            "1.8e308",
            "1e309",
            "-1e309",
            "4.9e-324",
            "1e-400",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "1.23456789012345678901234567890",
            "2592000000",
            "1000.0",
            "486.0",
            "1e2147483648",
            "0e2147483648",
            "-1e-2147483649",
            "0.000000000000000000000000000001",
            "1e22",
            "1e23",
            "9007199254740993",
            "00",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "--1",
            "+1",
            "0x10",
            "1.e3",
        ];
        const STRINGS: &[&str] = &[
            r#""""#,
            r#""a""#,
            r#""é""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u00e9\u0041""#,
            r#""\ud83d\ude00""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\u12""#,
            r#""\uZZZZ""#,
            r#""\x""#,
            "\"a\u{1}b\"",
            "\"tab\tin\"",
            r#""ünï€😀""#,
            r#""\"#,
        ];
        fn doc(r: &mut Rng, depth: usize, out: &mut String) {
            let ws = [" ", "\n", "\t", "\r\n", "", "", ""];
            out.push_str(ws[r.below(ws.len())]);
            match if depth > 4 { r.below(4) } else { r.below(7) } {
                0 => out.push_str(r.pick(NUMBERS)),
                1 => out.push_str(r.pick(STRINGS)),
                2 => out.push_str(r.pick(&["null", "true", "false", "nul", "tru", "fals", "nulx"])),
                3 => out.push_str(r.pick(NUMBERS)),
                4 | 5 => {
                    out.push('[');
                    for i in 0..r.below(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        doc(r, depth + 1, out);
                    }
                    out.push_str(ws[r.below(ws.len())]);
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..r.below(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(r.pick(&[r#""k""#, r#""a""#, r#""k\u0041""#, r#""é""#, r#""""#]));
                        out.push_str(ws[r.below(ws.len())]);
                        out.push(':');
                        doc(r, depth + 1, out);
                    }
                    out.push('}');
                }
            }
            out.push_str(ws[r.below(ws.len())]);
        }
        let check = |text: &str| {
            let want = serde_json::from_str::<Value>(text);
            let got = Json::parse(text);
            match (&want, &got) {
                (Ok(v), Ok(j)) => assert_eq!(j.to_string(), v.to_string(), "{text:?}"),
                (Err(e), Err(g)) => assert_eq!((g.line(), g.column(), g.to_string()), (e.line(), e.column(), e.to_string()), "{text:?}"),
                _ => panic!("{text:?}: serde_json {want:?}, here {got:?}"),
            }
        };
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let (mut oks, mut errs) = (0, 0);
        for _ in 0..40_000 {
            let mut text = String::new();
            doc(&mut r, 0, &mut text);
            let mut chars: Vec<char> = text.chars().collect();
            for _ in 0..r.below(3) {
                if chars.is_empty() {
                    break;
                }
                let i = r.below(chars.len());
                match r.below(4) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(i, chars[i]),
                    2 => {
                        let j = r.below(chars.len());
                        chars.swap(i, j);
                    }
                    _ => chars[i] = ['[', ']', '{', '}', ',', ':', '"', '\\', '-', '.', 'e', '0', '\n', 'x'][r.below(14)],
                }
            }
            let text: String = chars.into_iter().collect();
            check(&text);
            if serde_json::from_str::<Value>(&text).is_ok() {
                oks += 1;
            } else {
                errs += 1;
            }
        }
        // Both kinds, in numbers that show the generator reaches them.
        assert!(oks > 5_000 && errs > 5_000, "{oks} read, {errs} refused");
        // Nesting: serde_json's limit of 128 levels, and the empty text.
        for n in [1, 126, 127, 128, 129, 300] {
            check(&format!("{}{}", "[".repeat(n), "]".repeat(n)));
            check(&format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)));
            check(&"[".repeat(n));
        }
        for text in ["", " ", "\n\n  x", "[1,2]x", "{\"a\":1,}", "[1,]", "{,}", "{\"a\" 1}", "{1:2}", "[1 2]", "\"a"] {
            check(text);
        }
    }

    /// 10^k as the literal `1e{k}` reads, for every k serde_json's table holds.
    #[test]
    fn powers_of_ten_are_the_literals() {
        for k in 0..=308usize {
            assert_eq!(pow10(k), Some(format!("1e{k}").parse::<f64>().unwrap()), "10^{k}");
        }
        assert_eq!(pow10(309), None);
    }
}
