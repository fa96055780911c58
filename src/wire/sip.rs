//! SIP messages (RFC 3261 §7): a start line, ordered header fields and a body.
//! `Content-Length` is never stored: [`SipMessage::emit`] computes it from the body and
//! [`SipMessage::parse`] checks it against the body and removes it.

use super::{parse_header_lines, split_head, WireError};
use std::borrow::Cow;

/// The first line of a SIP message (RFC 3261 §7.1, §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD Request-URI SIP/2.0`
    Request { method: Cow<'static, str>, uri: String },
    /// `SIP/2.0 code reason-phrase`
    Response { code: u16, reason: Cow<'static, str> },
}

/// A SIP request or response as a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// Request-Line or Status-Line.
    pub start: StartLine,
    /// Header fields in wire order, without `Content-Length`.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The message body (SDP, XML, `message/sip`, multipart …); may be empty.
    pub body: String,
}

/// The standard reason phrase of a SIP status code (RFC 3261 §21).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        200 => "OK",
        202 => "Accepted",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        491 => "Request Pending",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Unknown",
    }
}

/// "CODE Reason" for the codes of [`reason_phrase`], as static text (no allocation per message).
pub fn status_label(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "100 Trying",
        180 => "180 Ringing",
        200 => "200 OK",
        404 => "404 Not Found",
        408 => "408 Request Timeout",
        410 => "410 Gone",
        480 => "480 Temporarily Unavailable",
        481 => "481 Call/Transaction Does Not Exist",
        486 => "486 Busy Here",
        487 => "487 Request Terminated",
        491 => "491 Request Pending",
        500 => "500 Server Internal Error",
        503 => "503 Service Unavailable",
        603 => "603 Decline",
        _ => return None,
    })
}

/// Quotes `s` as a SIP quoted-string (RFC 3261 §25.1): `"` and `\` are escaped, and
/// characters a quoted-string cannot carry (control characters) are replaced by a space.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s);
    out
}

/// Appends [`quote`]`(s)` to `out`. Always inlined: the page's first wasm module has only
/// [`quote`] and stays as small as with one function.
#[inline(always)]
pub fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reverses [`quote`]: strips the quotes and unescapes quoted-pairs.
pub fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

impl SipMessage {
    /// A request with no headers yet.
    pub fn request(method: &'static str, uri: impl Into<String>) -> Self {
        SipMessage { start: StartLine::Request { method: Cow::Borrowed(method), uri: uri.into() }, headers: Vec::new(), body: String::new() }
    }

    /// A response with the standard reason phrase and no headers yet.
    pub fn response(code: u16) -> Self {
        SipMessage { start: StartLine::Response { code, reason: Cow::Borrowed(reason_phrase(code)) }, headers: Vec::new(), body: String::new() }
    }

    /// Appends a header field.
    pub fn push(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.headers.push((Cow::Borrowed(name), value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive, RFC 3261 §7.3.1; a compact form
    /// sent on the wire is stored under its long name by [`SipMessage::parse`]).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The method of a request, or of the transaction a response answers (from CSeq).
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => self.header("CSeq").and_then(|c| c.split_whitespace().nth(1)),
        }
    }

    /// A short label for a ladder arrow: the method, or `code reason`.
    pub fn label(&self) -> String {
        self.label_cow().into_owned()
    }

    /// [`SipMessage::label`] without an allocation when the method or status text is static.
    pub fn label_cow(&self) -> Cow<'static, str> {
        match &self.start {
            StartLine::Request { method: Cow::Borrowed(m), .. } => Cow::Borrowed(m),
            StartLine::Request { method, .. } => Cow::Owned(method.to_string()),
            StartLine::Response { code, reason } if reason == reason_phrase(*code) => match status_label(*code) {
                Some(l) => Cow::Borrowed(l),
                None => Cow::Owned(format!("{code} {reason}")),
            },
            StartLine::Response { code, reason } => Cow::Owned(format!("{code} {reason}")),
        }
    }

    /// Writes the exact wire text (CRLF line ends, computed Content-Length).
    pub fn emit_into(&self, out: &mut String) {
        match &self.start {
            StartLine::Request { method, uri } => {
                out.push_str(method);
                out.push(' ');
                out.push_str(uri);
                out.push_str(" SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                out.push_str("SIP/2.0 ");
                push_u64(out, *code as u64);
                out.push(' ');
                out.push_str(reason);
                out.push_str("\r\n");
            }
        }
        for (n, v) in &self.headers {
            out.push_str(n);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        out.push_str("Content-Length: ");
        push_u64(out, self.body.len() as u64);
        out.push_str("\r\n\r\n");
        out.push_str(&self.body);
    }

    /// The exact wire text.
    pub fn emit(&self) -> String {
        let mut s = String::with_capacity(256 + self.headers.len() * 48 + self.body.len());
        self.emit_into(&mut s);
        s
    }

    /// Parses wire text; the inverse of [`SipMessage::emit`]. Also reads what other SIP stacks
    /// send: header names in any case (kept as sent; [`SipMessage::header`] ignores case),
    /// compact forms (RFC 3261 §7.3.3: stored under their long names, [`long_form`], so `i:`
    /// is found as `Call-ID`) and header lines folded onto continuation lines (RFC 3261 §7.3.1,
    /// unfolded to one line). The Content-Length is required and must match the body, as over
    /// a stream transport (RFC 3261 §18.3).
    pub fn parse(text: &str) -> Result<Self, WireError> {
        Self::parse_inner(text, true)
    }

    /// Parses one UDP datagram's message: as [`SipMessage::parse`], but a missing Content-Length
    /// means the body runs to the end of the datagram (RFC 3261 §18.3).
    pub fn parse_datagram(text: &str) -> Result<Self, WireError> {
        Self::parse_inner(text, false)
    }

    fn parse_inner(text: &str, length_required: bool) -> Result<Self, WireError> {
        let (head, body) = split_head(text).ok_or(WireError::Truncated("empty line after the headers"))?;
        let unfolded;
        let head = if head.contains("\r\n ") || head.contains("\r\n\t") {
            unfolded = unfold(head);
            unfolded.as_str()
        } else {
            head
        };
        let (first, rest) = head.split_once("\r\n").unwrap_or((head, ""));
        let start = if let Some(status) = first.strip_prefix("SIP/2.0 ") {
            let (code, reason) = status.split_once(' ').ok_or_else(|| WireError::BadStartLine(first.into()))?;
            let code: u16 = code.parse().map_err(|_| WireError::BadStartLine(first.into()))?;
            if !(100..=699).contains(&code) {
                return Err(WireError::BadStartLine(first.into()));
            }
            StartLine::Response { code, reason: Cow::Owned(reason.to_string()) }
        } else {
            let mut parts = first.split(' ');
            let (m, u, v) = (parts.next(), parts.next(), parts.next());
            match (m, u, v, parts.next()) {
                (Some(m), Some(u), Some("SIP/2.0"), None) if !m.is_empty() && m.bytes().all(|c| c.is_ascii_uppercase()) && !u.is_empty() => {
                    StartLine::Request { method: Cow::Owned(m.to_string()), uri: u.to_string() }
                }
                _ => return Err(WireError::BadStartLine(first.into())),
            }
        };
        let mut headers: Vec<(Cow<'static, str>, String)> = if rest.is_empty() {
            Vec::new()
        } else {
            parse_header_lines(rest)?.into_iter().map(|(n, v)| (long_form(&n).map_or(Cow::Owned(n), Cow::Borrowed), v)).collect()
        };
        let Some(pos) = headers.iter().position(|(n, _)| n.eq_ignore_ascii_case("Content-Length")) else {
            if length_required {
                return Err(WireError::MissingHeader("Content-Length"));
            }
            return Ok(SipMessage { start, headers, body: body.to_string() });
        };
        let (_, declared) = headers.remove(pos);
        let len: usize = declared.parse().map_err(|_| WireError::BadValue { header: "Content-Length", value: declared.clone() })?;
        if len != body.len() {
            return Err(WireError::LengthMismatch { header: "Content-Length", declared, actual: body.len() });
        }
        Ok(SipMessage { start, headers, body: body.to_string() })
    }
}

/// The long name of a compact header form (RFC 3261 §7.3.3 and the extensions that define one:
/// RFC 3265 `o` Event and `u` Allow-Events, RFC 3515 `r` Refer-To, RFC 3892 `b` Referred-By,
/// RFC 4028 `x` Session-Expires, RFC 3841 `a` Accept-Contact, `j` Reject-Contact and
/// `d` Request-Disposition, RFC 4474 `y` Identity and `n` Identity-Info), in any case.
pub fn long_form(compact: &str) -> Option<&'static str> {
    let [c] = compact.as_bytes() else { return None };
    Some(match c.to_ascii_lowercase() {
        b'a' => "Accept-Contact",
        b'b' => "Referred-By",
        b'c' => "Content-Type",
        b'd' => "Request-Disposition",
        b'e' => "Content-Encoding",
        b'f' => "From",
        b'i' => "Call-ID",
        b'j' => "Reject-Contact",
        b'k' => "Supported",
        b'l' => "Content-Length",
        b'm' => "Contact",
        b'n' => "Identity-Info",
        b'o' => "Event",
        b'r' => "Refer-To",
        b's' => "Subject",
        b't' => "To",
        b'u' => "Allow-Events",
        b'v' => "Via",
        b'x' => "Session-Expires",
        b'y' => "Identity",
        _ => return None,
    })
}

/// Joins continuation lines (starting with SP or HT) to the header line before them, with one
/// space (RFC 3261 §7.3.1: the folding is equivalent to a single SP).
fn unfold(head: &str) -> String {
    let mut out = String::with_capacity(head.len());
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) && !out.is_empty() {
            out.truncate(out.trim_end_matches([' ', '\t']).len());
            out.push(' ');
            out.push_str(line.trim_start_matches([' ', '\t']));
        } else {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            out.push_str(line);
        }
    }
    out
}

/// Appends the decimal digits of `v` (faster than `write!` on the hot path). Numbers below 1000
/// (status codes, most lengths) take a path without a loop.
pub(crate) fn push_u64(out: &mut String, v: u64) {
    let digit = |d: u64| (b'0' + d as u8) as char;
    if v < 10 {
        out.push(digit(v));
    } else if v < 100 {
        out.push(digit(v / 10));
        out.push(digit(v % 10));
    } else if v < 1000 {
        out.push(digit(v / 100));
        out.push(digit(v / 10 % 10));
        out.push(digit(v % 10));
    } else {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut v = v;
        while v > 0 {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for &b in &buf[i..] {
            out.push(b as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_u64_writes_what_to_string_writes() {
        for v in [0, 7, 9, 10, 99, 100, 318, 65_535, u64::MAX] {
            let mut s = String::from("x");
            push_u64(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
    }

    #[test]
    fn request_round_trips_with_computed_length() {
        let mut m = SipMessage::request("BYE", "sip:pf.cpm.example.net");
        m.push("Via", "SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bK1").push("Reason", "SIP;cause=480;text=\"Temporarily Unavailable\"");
        m.body = "v=0\r\n".into();
        let text = m.emit();
        assert!(text.contains("Content-Length: 5\r\n\r\nv=0\r\n"));
        assert_eq!(SipMessage::parse(&text).unwrap(), m);
    }

    #[test]
    fn response_round_trips() {
        let mut m = SipMessage::response(487);
        m.push("CSeq", "1 INVITE");
        let p = SipMessage::parse(&m.emit()).unwrap();
        assert_eq!(p.emit(), m.emit());
        assert_eq!(p.label(), "487 Request Terminated");
        assert_eq!(p.method(), Some("INVITE"));
    }

    #[test]
    fn rejects_wrong_length_and_bad_lines() {
        assert!(matches!(SipMessage::parse("BYE x SIP/2.0\r\nContent-Length: 3\r\n\r\nab"), Err(WireError::LengthMismatch { .. })));
        assert!(SipMessage::parse("HELLO\r\n\r\n").is_err());
        assert!(SipMessage::parse("BYE x SIP/2.0\r\nNoColon\r\nContent-Length: 0\r\n\r\n").is_err());
        assert!(SipMessage::parse("SIP/2.0 99 X\r\nContent-Length: 0\r\n\r\n").is_err());
    }

    #[test]
    fn reads_compact_forms_any_case_and_folded_lines() {
        let text = "SUBSCRIBE sip:chat@cf.example.net SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK7\r\ncall-id: abc\r\nO: conference\r\nSubject: a\r\n  long one\r\nl: 2\r\n\r\nhi";
        let m = SipMessage::parse(text).unwrap();
        assert_eq!(m.header("Via"), Some("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK7"));
        assert_eq!(m.header("Call-ID"), Some("abc"));
        assert_eq!(m.header("event"), Some("conference"));
        let names: Vec<&str> = m.headers.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["Via", "call-id", "Event", "Subject"], "compact forms under their long names, other names as sent");
        assert_eq!(m.header("Subject"), Some("a long one"));
        assert_eq!(m.header("Content-Length"), None, "the length is checked and removed");
        assert_eq!(m.body, "hi");
        assert!(matches!(SipMessage::parse("BYE x SIP/2.0\r\nl: 3\r\n\r\nab"), Err(WireError::LengthMismatch { .. })));
        assert_eq!(long_form("K"), Some("Supported"));
        assert_eq!(long_form("q"), None);
        assert_eq!(long_form("ii"), None);
    }

    #[test]
    fn a_datagram_may_omit_the_length() {
        let text = "OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\nbody";
        assert!(matches!(SipMessage::parse(text), Err(WireError::MissingHeader("Content-Length"))));
        assert_eq!(SipMessage::parse_datagram(text).unwrap().body, "body");
        assert!(SipMessage::parse_datagram("OPTIONS sip:a SIP/2.0\r\nl: 9\r\n\r\nbody").is_err());
    }

    #[test]
    fn quoting_escapes() {
        let q = quote("a \"b\" \\c\r\n");
        assert_eq!(q, "\"a \\\"b\\\" \\\\c  \"");
        assert_eq!(unquote(&q).unwrap(), "a \"b\" \\c  ");
    }
}
