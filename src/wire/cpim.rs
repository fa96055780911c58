//! `message/cpim` documents (RFC 3862 §3): message headers (From, To, NS, DateTime, and the
//! IMDN headers of RFC 5438 §6), an empty line, MIME content headers, an empty line, the
//! content. The content's `Content-Length` is computed, never stored.

use super::{parse_header_lines, split_head, WireError};

/// A CPIM message as a typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimMessage {
    /// Message headers in order (`From`, `To`, `NS`, `imdn.Message-ID`, `DateTime`, …).
    pub headers: Vec<(String, String)>,
    /// MIME headers of the content except `Content-Length` (`Content-Type` first).
    pub content_headers: Vec<(String, String)>,
    /// The content, e.g. the chat text.
    pub content: String,
}

/// Writes a CPIM document from its parts (what [`CpimMessage::emit_into`] writes; the engine
/// calls it with borrowed header values, so a chat message's document needs no owned headers).
pub fn write_document(out: &mut String, headers: &[(&str, &str)], content_headers: &[(&str, &str)], content: &str) {
    let lines = |out: &mut String, list: &[(&str, &str)]| {
        for (n, v) in list {
            out.push_str(n);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
    };
    lines(out, headers);
    out.push_str("\r\n");
    lines(out, content_headers);
    out.push_str("Content-Length: ");
    super::sip::push_u64(out, content.len() as u64);
    out.push_str("\r\n\r\n");
    out.push_str(content);
}

impl CpimMessage {
    /// The first value of message header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Writes the exact text.
    pub fn emit_into(&self, out: &mut String) {
        fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
            v.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect()
        }
        write_document(out, &pairs(&self.headers), &pairs(&self.content_headers), &self.content);
    }

    /// The exact text.
    pub fn emit(&self) -> String {
        let mut s = String::with_capacity(300 + self.content.len());
        self.emit_into(&mut s);
        s
    }

    /// Parses a CPIM document; the inverse of [`CpimMessage::emit`].
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let (msg_head, rest) = split_head(text).ok_or(WireError::Truncated("empty line after the CPIM message headers"))?;
        let (mime_head, content) = split_head(rest).ok_or(WireError::Truncated("empty line after the CPIM content headers"))?;
        let headers = parse_header_lines(msg_head)?;
        if !headers.iter().any(|(n, _)| n == "From") {
            return Err(WireError::MissingHeader("From"));
        }
        let mut content_headers = parse_header_lines(mime_head)?;
        let pos = content_headers.iter().position(|(n, _)| n.eq_ignore_ascii_case("Content-Length")).ok_or(WireError::MissingHeader("Content-Length"))?;
        let (_, declared) = content_headers.remove(pos);
        if declared != content.len().to_string() {
            return Err(WireError::LengthMismatch { header: "Content-Length", declared, actual: content.len() });
        }
        Ok(CpimMessage { headers, content_headers, content: content.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_example_round_trips() {
        let m = CpimMessage {
            headers: vec![
                ("From".into(), "<sip:bob@ims.example.net>".into()),
                ("To".into(), "<sip:chat-7f3a9c@cf.cpm.example.net>".into()),
                ("NS".into(), "imdn <urn:ietf:params:imdn>".into()),
                ("imdn.Message-ID".into(), "Xs83kJd0".into()),
                ("DateTime".into(), "2024-05-14T09:12:44.120Z".into()),
                ("imdn.Disposition-Notification".into(), "positive-delivery, display".into()),
            ],
            content_headers: vec![("Content-Type".into(), "text/plain;charset=UTF-8".into())],
            content: "Are we still on for 3pm?".into(),
        };
        let t = m.emit();
        assert_eq!(t.len(), 318, "the digest's worked Byte-Range");
        assert_eq!(CpimMessage::parse(&t).unwrap(), m);
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(CpimMessage::parse("From: <a>\r\n\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nabc").is_err());
        assert!(CpimMessage::parse("To: <a>\r\n\r\nContent-Length: 0\r\n\r\n").is_err());
    }
}
