//! MSRP messages (RFC 4975 §6–§7): `MSRP <tid> <METHOD>` or `MSRP <tid> <code> [comment]`,
//! To-Path and From-Path first, then the other headers, an optional body, and the end-line
//! `-------<tid><flag>`. `Byte-Range` of a whole SEND is computed from the body (RFC 4975
//! §7.1.1); a chunk of a larger message (RFC 4975 §5.1) carries its own `n-m/total` and the
//! end-line flag `+` (more follow), `$` (the last) or `#` (aborted, §7.1.1).

use super::sip::push_u64;
use super::{parse_header_lines, WireError};
use std::borrow::Cow;

/// Request or response line of an MSRP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsrpStart<'a> {
    /// `SEND`, `REPORT` or another method.
    Request(Cow<'a, str>),
    /// A transaction response (RFC 4975 §7.2), e.g. `200 OK`.
    Response { code: u16, comment: Option<Cow<'a, str>> },
}

/// One MSRP message: a whole message in one SEND, or one chunk of it (`byte_range`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpMessage<'a> {
    /// Transaction identifier; must not occur in the body after seven dashes.
    pub tid: Cow<'a, str>,
    /// Method or status.
    pub start: MsrpStart<'a>,
    /// `To-Path` (the next hop's MSRP URI).
    pub to_path: Cow<'a, str>,
    /// `From-Path` (the sender's MSRP URI).
    pub from_path: Cow<'a, str>,
    /// `Message-ID` (identifies the MSRP message across chunks; not the IMDN id).
    pub message_id: Option<Cow<'a, str>>,
    /// `Success-Report`.
    pub success_report: Option<Cow<'a, str>>,
    /// `Failure-Report`.
    pub failure_report: Option<Cow<'a, str>>,
    /// `Status` (REPORT requests).
    pub status: Option<Cow<'a, str>>,
    /// `Content-Type` of the body.
    pub content_type: Option<Cow<'a, str>>,
    /// The body, e.g. a `message/cpim` document.
    pub body: Option<Cow<'a, str>>,
    /// End-line flag: `$` complete, `+` more chunks, `#` aborted.
    pub flag: char,
    /// A chunk's `Byte-Range` (first byte, last byte, total; RFC 4975 §7.1.1, 1-based); `None`
    /// for a whole SEND (`1-n/n`, computed from the body) and for anything but a SEND.
    pub byte_range: Option<(u64, u64, u64)>,
}

/// The comment of an MSRP status code (RFC 4975 §10, IANA registry).
pub fn status_comment(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Unintelligible",
        403 => "Action-not-allowed",
        408 => "Transaction-did-not-complete",
        413 => "Stop-sending-message",
        415 => "MIME-not-understood",
        423 => "Parameter-out-of-bounds",
        481 => "Session-does-not-exist",
        501 => "Request-method-not-understood",
        506 => "Session-already-in-use",
        _ => "Unknown",
    }
}

impl<'a> MsrpMessage<'a> {
    /// A complete SEND carrying `body` of type `content_type`.
    pub fn send(
        tid: impl Into<Cow<'a, str>>,
        to: impl Into<Cow<'a, str>>,
        from: impl Into<Cow<'a, str>>,
        message_id: impl Into<Cow<'a, str>>,
        content_type: Option<Cow<'a, str>>,
        body: Option<Cow<'a, str>>,
    ) -> Self {
        MsrpMessage {
            tid: tid.into(),
            start: MsrpStart::Request(Cow::Borrowed("SEND")),
            to_path: to.into(),
            from_path: from.into(),
            message_id: Some(message_id.into()),
            success_report: Some(Cow::Borrowed("no")),
            failure_report: Some(Cow::Borrowed("yes")),
            status: None,
            content_type,
            body,
            flag: '$',
            byte_range: None,
        }
    }

    /// The transaction response to `req` from the hop at `own_path` (RFC 4975 §7.2: To-Path is the
    /// previous hop's From-Path).
    pub fn response_to(req: &'a MsrpMessage<'_>, code: u16) -> MsrpMessage<'a> {
        MsrpMessage {
            tid: Cow::Borrowed(&req.tid),
            start: MsrpStart::Response { code, comment: Some(Cow::Borrowed(status_comment(code))) },
            to_path: Cow::Borrowed(&req.from_path),
            from_path: Cow::Borrowed(&req.to_path),
            message_id: None,
            success_report: None,
            failure_report: None,
            status: None,
            content_type: None,
            body: None,
            flag: '$',
            byte_range: None,
        }
    }

    /// A short label for a ladder arrow.
    pub fn label(&self) -> String {
        match &self.start {
            MsrpStart::Request(m) => m.to_string(),
            MsrpStart::Response { code, comment } => match comment {
                Some(c) => format!("{code} {c}"),
                None => code.to_string(),
            },
        }
    }

    fn is_send(&self) -> bool {
        matches!(&self.start, MsrpStart::Request(m) if m == "SEND")
    }

    /// Writes the exact wire text.
    pub fn emit_into(&self, out: &mut String) {
        out.push_str("MSRP ");
        out.push_str(&self.tid);
        out.push(' ');
        match &self.start {
            MsrpStart::Request(m) => out.push_str(m),
            MsrpStart::Response { code, comment } => {
                push_u64(out, *code as u64);
                if let Some(c) = comment {
                    out.push(' ');
                    out.push_str(c);
                }
            }
        }
        out.push_str("\r\nTo-Path: ");
        out.push_str(&self.to_path);
        out.push_str("\r\nFrom-Path: ");
        out.push_str(&self.from_path);
        out.push_str("\r\n");
        let mut h = |name: &str, v: &Option<Cow<'_, str>>| {
            if let Some(v) = v {
                out.push_str(name);
                out.push_str(v);
                out.push_str("\r\n");
            }
        };
        h("Message-ID: ", &self.message_id);
        if self.is_send() {
            let n = self.body.as_ref().map_or(0, |b| b.len()) as u64;
            let (first, last, total) = self.byte_range.unwrap_or((1, n, n));
            out.push_str("Byte-Range: ");
            push_u64(out, first);
            out.push('-');
            push_u64(out, last);
            out.push('/');
            push_u64(out, total);
            out.push_str("\r\n");
        }
        let mut h = |name: &str, v: &Option<Cow<'_, str>>| {
            if let Some(v) = v {
                out.push_str(name);
                out.push_str(v);
                out.push_str("\r\n");
            }
        };
        h("Success-Report: ", &self.success_report);
        h("Failure-Report: ", &self.failure_report);
        h("Status: ", &self.status);
        h("Content-Type: ", &self.content_type);
        if let Some(b) = &self.body {
            out.push_str("\r\n");
            out.push_str(b);
            out.push_str("\r\n");
        }
        out.push_str("-------");
        out.push_str(&self.tid);
        out.push(self.flag);
        out.push_str("\r\n");
    }

    /// The exact wire text.
    pub fn emit(&self) -> String {
        // Room for everything, so the text is not reallocated while it is written.
        let opt = |v: &Option<Cow<'_, str>>| v.as_ref().map_or(0, |v| v.len() + 20);
        let cap = 120
            + 2 * self.tid.len()
            + self.to_path.len()
            + self.from_path.len()
            + opt(&self.message_id)
            + opt(&self.success_report)
            + opt(&self.failure_report)
            + opt(&self.status)
            + opt(&self.content_type)
            + opt(&self.body);
        let mut s = String::with_capacity(cap);
        self.emit_into(&mut s);
        s
    }

    /// Makes every borrowed part owned.
    pub fn into_owned(self) -> MsrpMessage<'static> {
        let o = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        let oo = |c: Option<Cow<'_, str>>| c.map(|c| Cow::Owned(c.into_owned()));
        MsrpMessage {
            tid: o(self.tid),
            start: match self.start {
                MsrpStart::Request(m) => MsrpStart::Request(o(m)),
                MsrpStart::Response { code, comment } => MsrpStart::Response { code, comment: oo(comment) },
            },
            to_path: o(self.to_path),
            from_path: o(self.from_path),
            message_id: oo(self.message_id),
            success_report: oo(self.success_report),
            failure_report: oo(self.failure_report),
            status: oo(self.status),
            content_type: oo(self.content_type),
            body: oo(self.body),
            flag: self.flag,
            byte_range: self.byte_range,
        }
    }
}

/// Writes a complete SEND (one chunk, flag `$`) straight into `out`: byte for byte what
/// [`MsrpMessage::send`] with `Success-Report: no` and `Failure-Report: yes` and then
/// [`MsrpMessage::emit`] write (RFC 4975 §7.1.1: To-Path and From-Path first, `Byte-Range`
/// from the body), without building the message first. `message_id` appends the Message-ID
/// (up to 32 bytes fit without a reallocation); `body` is the content type and the body.
pub fn send_text(tid: &str, to_path: &str, from_path: &str, message_id: impl FnOnce(&mut String), body: Option<(&str, &str)>) -> String {
    let n = body.map_or(0, |(_, b)| b.len());
    let mut text = String::with_capacity(180 + 2 * tid.len() + to_path.len() + from_path.len() + body.map_or(0, |(t, b)| t.len() + b.len()));
    let out = &mut text;
    out.push_str("MSRP ");
    out.push_str(tid);
    out.push_str(" SEND\r\nTo-Path: ");
    out.push_str(to_path);
    out.push_str("\r\nFrom-Path: ");
    out.push_str(from_path);
    out.push_str("\r\nMessage-ID: ");
    message_id(out);
    out.push_str("\r\nByte-Range: 1-");
    push_u64(out, n as u64);
    out.push('/');
    push_u64(out, n as u64);
    out.push_str("\r\nSuccess-Report: no\r\nFailure-Report: yes\r\n");
    if let Some((content_type, b)) = body {
        out.push_str("Content-Type: ");
        out.push_str(content_type);
        out.push_str("\r\n\r\n");
        out.push_str(b);
        out.push_str("\r\n");
    }
    out.push_str("-------");
    out.push_str(tid);
    out.push_str("$\r\n");
    text
}

/// The `200 OK` transaction response to a request with transaction id `tid` that came with
/// `To-Path: req_to` and `From-Path: req_from` (RFC 4975 §7.2: the response's To-Path is the
/// request's From-Path): byte for byte what [`MsrpMessage::response_to`] and then
/// [`MsrpMessage::emit`] write.
pub fn ok_text(tid: &str, req_to: &str, req_from: &str) -> String {
    let mut out = String::with_capacity(60 + 2 * tid.len() + req_to.len() + req_from.len());
    out.push_str("MSRP ");
    out.push_str(tid);
    out.push_str(" 200 OK\r\nTo-Path: ");
    out.push_str(req_from);
    out.push_str("\r\nFrom-Path: ");
    out.push_str(req_to);
    out.push_str("\r\n-------");
    out.push_str(tid);
    out.push_str("$\r\n");
    out
}

/// `first-last/total` of a `Byte-Range` (RFC 4975 §7.1.1; `*` totals are not written by the
/// emulator and not read).
fn chunk_range(v: &str) -> Option<(u64, u64, u64)> {
    let (span, total) = v.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let n = |s: &str| if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    Some((n(first)?, n(last)?, n(total)?))
}

/// Writes one chunk of a SEND (RFC 4975 §5.1, §7.1.1): `body[start..end]` of the whole
/// message `body` (0-based byte offsets, on character boundaries), `Byte-Range:
/// start+1-end/len`, and the end-line flag `flag` (`+` more follow, `$` the last, `#`
/// aborted). `Success-Report: no` and `Failure-Report: yes` as in [`send_text`]; a chunk
/// covering the whole body with `$` is byte for byte what [`send_text`] writes.
#[allow(clippy::too_many_arguments)]
pub fn chunk_text(tid: &str, to_path: &str, from_path: &str, message_id: &str, content_type: &str, body: &str, start: usize, end: usize, flag: char) -> String {
    let part = &body[start..end];
    let mut out = String::with_capacity(200 + 2 * tid.len() + to_path.len() + from_path.len() + message_id.len() + content_type.len() + part.len());
    out.push_str("MSRP ");
    out.push_str(tid);
    out.push_str(" SEND\r\nTo-Path: ");
    out.push_str(to_path);
    out.push_str("\r\nFrom-Path: ");
    out.push_str(from_path);
    out.push_str("\r\nMessage-ID: ");
    out.push_str(message_id);
    out.push_str("\r\nByte-Range: ");
    push_u64(&mut out, start as u64 + 1);
    out.push('-');
    push_u64(&mut out, end as u64);
    out.push('/');
    push_u64(&mut out, body.len() as u64);
    out.push_str("\r\nSuccess-Report: no\r\nFailure-Report: yes\r\nContent-Type: ");
    out.push_str(content_type);
    out.push_str("\r\n\r\n");
    out.push_str(part);
    out.push_str("\r\n-------");
    out.push_str(tid);
    out.push(flag);
    out.push_str("\r\n");
    out
}

/// Where the chunk that starts at byte offset `start` of `body` ends when chunks carry at most
/// `chunk` bytes: on a character boundary (the emulator's texts are UTF-8 strings; RFC 4975
/// §5.1 would allow a cut inside one), and at least one character on.
pub fn chunk_end(body: &str, start: usize, chunk: usize) -> usize {
    let mut end = (start + chunk.max(1)).min(body.len());
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    if end <= start {
        end = start + 1;
        while end < body.len() && !body.is_char_boundary(end) {
            end += 1;
        }
    }
    end.min(body.len())
}

/// Parses one whole MSRP message; the inverse of [`MsrpMessage::emit`].
pub fn parse(text: &str) -> Result<MsrpMessage<'static>, WireError> {
    let (first, rest) = text.split_once("\r\n").ok_or(WireError::Truncated("first line"))?;
    let mut parts = first.splitn(3, ' ');
    let (proto, tid, what) = (parts.next(), parts.next(), parts.next());
    let (tid, what) = match (proto, tid, what) {
        (Some("MSRP"), Some(t), Some(w)) if !t.is_empty() && t.bytes().all(|c| c.is_ascii_alphanumeric() || b".-+%=".contains(&c)) => (t, w),
        _ => return Err(WireError::BadStartLine(first.into())),
    };
    let start = if what.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
        let (code, comment) = match what.split_once(' ') {
            Some((c, m)) => (c, Some(Cow::Owned(m.to_string()))),
            None => (what, None),
        };
        let code: u16 = code.parse().map_err(|_| WireError::BadStartLine(first.into()))?;
        if code.to_string().len() != 3 {
            return Err(WireError::BadStartLine(first.into()));
        }
        MsrpStart::Response { code, comment }
    } else if !what.is_empty() && what.bytes().all(|c| c.is_ascii_uppercase()) {
        MsrpStart::Request(Cow::Owned(what.to_string()))
    } else {
        return Err(WireError::BadStartLine(first.into()));
    };
    let end_line = format!("-------{tid}");
    let end_at = rest.rfind(&end_line).ok_or_else(|| WireError::BadEndLine(rest.lines().last().unwrap_or("").to_string()))?;
    let tail = &rest[end_at + end_line.len()..];
    let flag = match tail {
        "$\r\n" => '$',
        "+\r\n" => '+',
        "#\r\n" => '#',
        _ => return Err(WireError::BadEndLine(format!("{end_line}{tail}"))),
    };
    let before = &rest[..end_at];
    let (head, body) = match before.find("\r\n\r\n") {
        Some(i) => {
            let b = &before[i + 4..];
            let b = b.strip_suffix("\r\n").ok_or(WireError::Truncated("CRLF before the end-line"))?;
            (&before[..i], Some(b))
        }
        None => (before.strip_suffix("\r\n").ok_or(WireError::Truncated("headers"))?, None),
    };
    let headers = parse_header_lines(head)?;
    let mut m = MsrpMessage {
        tid: Cow::Owned(tid.to_string()),
        start,
        to_path: Cow::Borrowed(""),
        from_path: Cow::Borrowed(""),
        message_id: None,
        success_report: None,
        failure_report: None,
        status: None,
        content_type: None,
        body: body.map(|b| Cow::Owned(b.to_string())),
        flag,
        byte_range: None,
    };
    if headers.len() < 2 || headers[0].0 != "To-Path" || headers[1].0 != "From-Path" {
        return Err(WireError::MissingHeader("To-Path and From-Path as the first two headers"));
    }
    let mut byte_range = None;
    for (n, v) in headers {
        let v = Cow::Owned(v);
        match n.as_str() {
            "To-Path" => m.to_path = v,
            "From-Path" => m.from_path = v,
            "Message-ID" => m.message_id = Some(v),
            "Success-Report" => m.success_report = Some(v),
            "Failure-Report" => m.failure_report = Some(v),
            "Status" => m.status = Some(v),
            "Content-Type" => m.content_type = Some(v),
            "Byte-Range" => byte_range = Some(v.into_owned()),
            _ => return Err(WireError::BadHeader(n)),
        }
    }
    if m.is_send() {
        let n = m.body.as_ref().map_or(0, |b| b.len());
        let declared = byte_range.ok_or(WireError::MissingHeader("Byte-Range"))?;
        if !(declared == format!("1-{n}/{n}") && flag == '$') {
            // A chunk (RFC 4975 §5.1, §7.1.1): `first-last/total` with the body's length, the
            // last chunk (`$`) ending at the total, a `+` chunk before it.
            let range = chunk_range(&declared).filter(|&(first, last, total)| {
                first >= 1
                    && last + 1 == first + n as u64
                    && last <= total
                    && match flag {
                        '$' => last == total,
                        '+' => last < total,
                        _ => true,
                    }
            });
            m.byte_range = Some(range.ok_or(WireError::LengthMismatch { header: "Byte-Range", declared, actual: n })?);
        }
    }
    if m.body.is_some() && m.content_type.is_none() {
        return Err(WireError::MissingHeader("Content-Type"));
    }
    Ok(m)
}

/// Whether `body` has seven `-` in a row, the start of an end-line (RFC 4975 §6): only every seventh byte is looked at until one is a
/// `-` (any seven bytes in a row include one of them).
pub(crate) fn has_dash_run(body: &str) -> bool {
    let b = body.as_bytes();
    let mut i = 6;
    while i < b.len() {
        if b[i] == b'-' {
            let start = b[..i].iter().rposition(|&c| c != b'-').map_or(0, |p| p + 1);
            let end = b[i..].iter().position(|&c| c != b'-').map_or(b.len(), |p| i + p);
            if end - start >= 7 {
                return true;
            }
        }
        i += 7;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_BODY: &str = "From: <sip:bob@ims.example.net>\r\nTo: <sip:chat-7f3a9c@cf.cpm.example.net>\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: Xs83kJd0\r\nDateTime: 2024-05-14T09:12:44.120Z\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 24\r\n\r\nAre we still on for 3pm?";

    #[test]
    fn byte_range_matches_the_digest_example() {
        let m = MsrpMessage::send(
            "k39fj2",
            "msrp://198.51.100.7:49152/c4r0lx;tcp",
            "msrp://192.0.2.10:20000/pf8d2k3;tcp",
            "pf-replay-0001",
            Some("message/cpim".into()),
            Some(DIGEST_BODY.into()),
        );
        let text = m.emit();
        assert!(text.contains("Byte-Range: 1-318/318\r\n"), "{text}");
        assert!(text.ends_with("Are we still on for 3pm?\r\n-------k39fj2$\r\n"));
        assert_eq!(parse(&text).unwrap(), m.into_owned());
    }

    #[test]
    fn response_round_trips() {
        let req = MsrpMessage::send("t1", "msrp://a:1/x;tcp", "msrp://b:2/y;tcp", "m1", None, None);
        let r = MsrpMessage::response_to(&req, 200);
        let text = r.emit();
        assert_eq!(text, "MSRP t1 200 OK\r\nTo-Path: msrp://b:2/y;tcp\r\nFrom-Path: msrp://a:1/x;tcp\r\n-------t1$\r\n");
        assert_eq!(parse(&text).unwrap(), r.into_owned());
        let empty = req.emit();
        assert!(empty.contains("Byte-Range: 1-0/0"));
        assert_eq!(parse(&empty).unwrap(), req.into_owned());
    }

    #[test]
    fn direct_writers_write_what_emit_writes() {
        for body in [None, Some(DIGEST_BODY), Some("")] {
            let m = MsrpMessage::send(
                "k39fj2",
                "msrp://a:1/x;tcp",
                "msrp://b:2/yy;tcp",
                "m0123456789",
                body.map(|_| "message/cpim".into()),
                body.map(Cow::Borrowed),
            );
            let direct = send_text("k39fj2", "msrp://a:1/x;tcp", "msrp://b:2/yy;tcp", |o| o.push_str("m0123456789"), body.map(|b| ("message/cpim", b)));
            assert_eq!(direct, m.emit());
            assert_eq!(ok_text("k39fj2", "msrp://a:1/x;tcp", "msrp://b:2/yy;tcp"), MsrpMessage::response_to(&m, 200).emit());
        }
    }

    #[test]
    fn chunks_carry_their_byte_range_and_round_trip() {
        let body = DIGEST_BODY;
        let mut at = 0;
        let mut n = 0;
        while at < body.len() {
            let end = chunk_end(body, at, 100);
            let flag = if end == body.len() { '$' } else { '+' };
            let text = chunk_text("c1", "msrp://a:1/x;tcp", "msrp://b:2/y;tcp", "m1", "message/cpim", body, at, end, flag);
            assert!(text.contains(&format!("Byte-Range: {}-{end}/318\r\n", at + 1)), "{text}");
            let m = parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(m.byte_range, Some((at as u64 + 1, end as u64, 318)));
            assert_eq!(m.flag, flag);
            assert_eq!(m.emit(), text);
            at = end;
            n += 1;
        }
        assert_eq!(n, 4);
        // One chunk that is the whole message is the whole SEND.
        let whole = chunk_text("c1", "msrp://a:1/x;tcp", "msrp://b:2/y;tcp", "m1", "message/cpim", body, 0, body.len(), '$');
        assert_eq!(whole, send_text("c1", "msrp://a:1/x;tcp", "msrp://b:2/y;tcp", |o| o.push_str("m1"), Some(("message/cpim", body))));
        assert_eq!(parse(&whole).unwrap().byte_range, None);
        // An aborted chunk (#) parses; a `$` chunk short of the total, a `+` at the total and a
        // range that is not the body's length do not.
        assert!(parse(&chunk_text("c2", "a", "b", "m1", "text/plain", "abcdef", 0, 3, '#')).is_ok());
        assert!(parse(&chunk_text("c2", "a", "b", "m1", "text/plain", "abcdef", 0, 3, '$')).is_err());
        assert!(parse(&chunk_text("c2", "a", "b", "m1", "text/plain", "abcdef", 3, 6, '+')).is_err());
        assert!(parse("MSRP t1 SEND\r\nTo-Path: a\r\nFrom-Path: b\r\nByte-Range: 2-9/9\r\nContent-Type: text/plain\r\n\r\nabc\r\n-------t1$\r\n").is_err());
        // Chunk ends fall on character boundaries.
        assert_eq!(chunk_end("aé", 0, 2), 1);
        assert_eq!(chunk_end("éa", 0, 1), 2);
    }

    #[test]
    fn rejects_broken_framing() {
        assert!(parse("MSRP t1 SEND\r\nTo-Path: a\r\nFrom-Path: b\r\nByte-Range: 1-0/0\r\n-------t2$\r\n").is_err());
        assert!(parse("MSRP t1 SEND\r\nFrom-Path: b\r\nTo-Path: a\r\n-------t1$\r\n").is_err());
        assert!(parse("MSRP t1 SEND\r\nTo-Path: a\r\nFrom-Path: b\r\nByte-Range: 1-9/9\r\nContent-Type: text/plain\r\n\r\nabc\r\n-------t1$\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\n").is_err());
    }
}
