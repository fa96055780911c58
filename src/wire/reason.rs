//! The `Reason` header field (RFC 3326 §2): `protocol *(SEMI reason-params)`, several values
//! separated by commas. Parsing is strict about the grammar (token protocol, `cause` digits,
//! `text` quoted-string) so that a scenario author gets a precise error.

use super::sip::{quote, unquote};
use std::fmt;

/// One `reason-value` of a Reason header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonValue {
    /// `SIP`, `Q.850` or another token such as the 3GPP `RELEASE_CAUSE`.
    pub protocol: String,
    /// `cause=` (a SIP status code for `SIP`, a Q.850 cause value for `Q.850`).
    pub cause: Option<u32>,
    /// `text=` without its quotes.
    pub text: Option<String>,
    /// Other `reason-extension` parameters, in order (value without change).
    pub extensions: Vec<(String, Option<String>)>,
}

/// Why a Reason header value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasonError {
    /// Nothing but white space.
    Empty,
    /// A reason-value does not start with a protocol token.
    ExpectedProtocol(String),
    /// A parameter is not `name` or `name=value`.
    BadParam(String),
    /// `cause` is not 1*DIGIT.
    CauseNotNumber(String),
    /// `cause` is digits, more than the 9 this reader takes (a SIP or Q.850 cause has 2 or 3).
    CauseTooLong(String),
    /// `text` is not a quoted-string.
    TextNotQuoted(String),
    /// A parameter appears twice in one reason-value.
    Duplicate(String),
}

impl fmt::Display for ReasonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReasonError::Empty => write!(f, "empty Reason value (use null for no Reason header)"),
            ReasonError::ExpectedProtocol(s) => write!(f, "expected a protocol token such as SIP or Q.850, found {:?}", crate::shown::cut(s)),
            ReasonError::BadParam(s) => write!(f, "malformed parameter {:?} (expected name=value after ';')", crate::shown::cut(s)),
            ReasonError::CauseNotNumber(s) => write!(f, "cause must be digits, found {:?}", crate::shown::cut(s)),
            ReasonError::CauseTooLong(s) => {
                write!(f, "cause has {} digits, more than the 9 this reader takes (a SIP status or Q.850 cause has 2 or 3)", s.len())
            }
            ReasonError::TextNotQuoted(s) => write!(f, "text must be a quoted string like text=\"Gone\", found {:?}", crate::shown::cut(s)),
            ReasonError::Duplicate(s) => write!(f, "parameter {s:?} appears twice in one reason value"),
        }
    }
}

impl std::error::Error for ReasonError {}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c))
}

/// Splits at `sep` outside quoted strings.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_q, mut esc) = (0, false, false);
    for (i, c) in s.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' if in_q => esc = true,
            '"' => in_q = !in_q,
            c if c == sep && !in_q => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

impl ReasonValue {
    /// `SIP;cause=<code>;text="<phrase>"`
    pub fn sip(cause: u32, text: &str) -> Self {
        ReasonValue { protocol: "SIP".into(), cause: Some(cause), text: Some(text.into()), extensions: Vec::new() }
    }

    fn parse_one(s: &str) -> Result<Self, ReasonError> {
        let mut params = split_outside_quotes(s, ';').into_iter();
        let protocol = params.next().unwrap_or("").trim();
        if !is_token(protocol) {
            return Err(ReasonError::ExpectedProtocol(protocol.to_string()));
        }
        let mut v = ReasonValue { protocol: protocol.to_string(), cause: None, text: None, extensions: Vec::new() };
        for p in params {
            let p = p.trim();
            let (name, value) = match p.split_once('=') {
                Some((n, val)) => (n.trim(), Some(val.trim())),
                None => (p, None),
            };
            if !is_token(name) {
                return Err(ReasonError::BadParam(p.to_string()));
            }
            if name.eq_ignore_ascii_case("cause") {
                let val = value.unwrap_or("");
                if v.cause.is_some() {
                    return Err(ReasonError::Duplicate("cause".into()));
                }
                if val.is_empty() || !val.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(ReasonError::CauseNotNumber(val.to_string()));
                }
                if val.len() > 9 {
                    return Err(ReasonError::CauseTooLong(val.to_string()));
                }
                v.cause = Some(val.parse().map_err(|_| ReasonError::CauseNotNumber(val.to_string()))?);
            } else if name.eq_ignore_ascii_case("text") {
                let val = value.unwrap_or("");
                if v.text.is_some() {
                    return Err(ReasonError::Duplicate("text".into()));
                }
                v.text = Some(unquote(val).ok_or_else(|| ReasonError::TextNotQuoted(val.to_string()))?);
            } else {
                if let Some(val) = value {
                    if val.is_empty() || !(is_token(val) || unquote(val).is_some()) {
                        return Err(ReasonError::BadParam(p.to_string()));
                    }
                }
                v.extensions.push((name.to_string(), value.map(str::to_string)));
            }
        }
        Ok(v)
    }

    /// Writes this reason-value.
    pub fn emit_into(&self, out: &mut String) {
        out.push_str(&self.protocol);
        if let Some(c) = self.cause {
            out.push_str(";cause=");
            out.push_str(&c.to_string());
        }
        if let Some(t) = &self.text {
            out.push_str(";text=");
            out.push_str(&quote(t));
        }
        for (n, v) in &self.extensions {
            out.push(';');
            out.push_str(n);
            if let Some(v) = v {
                out.push('=');
                out.push_str(v);
            }
        }
    }

    /// True when this value says `protocol` (case-insensitive).
    pub fn is(&self, protocol: &str) -> bool {
        self.protocol.eq_ignore_ascii_case(protocol)
    }
}

/// Parses a whole Reason header value (one or more comma-separated reason-values).
pub fn parse(header_value: &str) -> Result<Vec<ReasonValue>, ReasonError> {
    if header_value.trim().is_empty() {
        return Err(ReasonError::Empty);
    }
    split_outside_quotes(header_value, ',').into_iter().map(ReasonValue::parse_one).collect()
}

/// Emits a whole Reason header value.
pub fn emit(values: &[ReasonValue]) -> String {
    let mut s = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        v.emit_into(&mut s);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_digest_examples() {
        let v = parse("SIP;cause=480;text=\"Temporarily Unavailable\"").unwrap();
        assert_eq!(v, vec![ReasonValue::sip(480, "Temporarily Unavailable")]);
        let v = parse("SIP;cause=503, Q.850;cause=41").unwrap();
        assert_eq!(v.len(), 2);
        assert!(v[1].is("q.850"));
        assert_eq!(v[1].cause, Some(41));
        let v = parse("RELEASE_CAUSE;cause=3;text=\"Media bearer loss\"").unwrap();
        assert_eq!(v[0].protocol, "RELEASE_CAUSE");
        let v = parse("SIP ; cause = 200 ; text=\"a, b; c\"").unwrap();
        assert_eq!(v[0].text.as_deref(), Some("a, b; c"));
    }

    #[test]
    fn round_trips() {
        for s in ["SIP;cause=480;text=\"Temporarily Unavailable\"", "SIP;cause=200, Q.850;cause=16", "Q.850;cause=41;text=\"Temporary failure\";x-ext=1", "SIP"]
        {
            let v = parse(s).unwrap();
            assert_eq!(emit(&v), s);
            assert_eq!(parse(&emit(&v)).unwrap(), v);
        }
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(parse(" "), Err(ReasonError::Empty));
        assert!(matches!(parse("SIP;cause=4x0"), Err(ReasonError::CauseNotNumber(_))));
        assert!(matches!(parse("SIP;text=Gone"), Err(ReasonError::TextNotQuoted(_))));
        assert!(matches!(parse(";cause=1"), Err(ReasonError::ExpectedProtocol(_))));
        assert!(matches!(parse("SIP;cause=1;cause=2"), Err(ReasonError::Duplicate(_))));
        assert!(matches!(parse("SIP;=3"), Err(ReasonError::BadParam(_))));
        assert!(matches!(parse("S I P"), Err(ReasonError::ExpectedProtocol(_))));
    }
}
