//! What a PF sent, reduced to what the judge compares: the side it went to and a key made of
//! the message's kind and content, never of its ids, tags or timing (issue 14, "Judge order and
//! content, not the model's hop latencies").
//!
//! The same reduction is applied to the messages a real PF sent (from a capture) and to the
//! messages the model's PF sent (from a trace's wire texts), so that the two sequences can be
//! compared item by item.

use crate::wire::msrp::{MsrpMessage, MsrpStart};
use crate::wire::sip::{SipMessage, StartLine};

/// Towards whom a PF message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// The Controlling Function (the group's focus): the PF's leg in the group session.
    Focus,
    /// Carol's side: her client, or the IMS core (P-CSCF, S-CSCF) that carries her signalling
    /// and the 3rd-party REGISTER.
    Client,
}

impl Side {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Focus => "focus",
            Side::Client => "client",
        }
    }
}

/// One message a PF sent, as the judge compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Where it went.
    pub side: Side,
    /// The comparison key: `SIP INVITE`, `SIP 200 (BYE)`, `MSRP SEND "text"`,
    /// `MSRP SEND (bind)`, `MSRP 200`.
    pub key: String,
    /// Milliseconds from the start of the run (model) or of the capture's time base (observed).
    pub at_ms: u64,
    /// The capture frame (observed), or the step index (model).
    pub frame: u64,
    /// Model only: the message never reached its receiver, so a capture taken away from the
    /// PF may not show it.
    pub dropped: bool,
}

/// What the key of a session offer or answer that carries the participant information ends with.
pub const WITH_INFO: &str = " with participant information";

/// The key of a SIP message, or `None` for what the judge does not compare: provisional
/// responses (RFC 3261 §8.2.6, §16.2: transaction-layer and hop-by-hop, a proxy's 100 Trying
/// is not the PF's behaviour).
///
/// A session offer or answer (INVITE, its 200) that carries the participant information as a
/// conference-info part (RFC 4575 in a multipart body, Q13 `in-session-setup`) says so in its
/// key: what the PF tells Carol there is content.
pub fn sip_key(m: &SipMessage) -> Option<String> {
    let info = if m.method() == Some("INVITE")
        && m.header("Content-Type").is_some_and(|c| c.contains("multipart"))
        && m.body.contains("application/conference-info+xml")
    {
        WITH_INFO
    } else {
        ""
    };
    match &m.start {
        StartLine::Request { method, .. } => Some(format!("SIP {method}{info}")),
        StartLine::Response { code, .. } => {
            if *code < 200 {
                return None;
            }
            let method = m.header("CSeq").and_then(|c| c.split_whitespace().nth(1)).unwrap_or("?");
            Some(format!("SIP {code} ({method}){info}"))
        }
    }
}

/// The key of an MSRP message: a SEND by its content (the CPIM document's content, RFC 3862
/// §3, or the body itself), an empty SEND as a bind (RFC 4975 §5.4), a response by its status.
pub fn msrp_key(m: &MsrpMessage<'_>) -> Option<String> {
    match &m.start {
        MsrpStart::Request(method) => {
            let body = m.body.as_deref().unwrap_or("");
            if body.is_empty() {
                return Some(format!("MSRP {method} (bind)"));
            }
            Some(format!("MSRP {method} {:?}", content_of(body)))
        }
        MsrpStart::Response { code, .. } => Some(format!("MSRP {code}")),
    }
}

/// The content of a message body: the CPIM document's content when the body is one (its
/// header block and its content headers are each ended by an empty line), else the body.
pub fn content_of(body: &str) -> &str {
    let looks_cpim = body.starts_with("From:") || body.starts_with("To:") || body.starts_with("NS:") || body.starts_with("DateTime:");
    if !looks_cpim {
        return body;
    }
    let mut rest = body;
    for _ in 0..2 {
        match rest.find("\r\n\r\n") {
            Some(i) => rest = &rest[i + 4..],
            None => return body,
        }
    }
    rest.trim_end_matches("\r\n")
}

/// The CPIM `From` user part of a chat's body (`From: Bob <sip:bob@example.net>` → `bob`).
pub fn cpim_from_user(body: &str) -> Option<String> {
    let line = body.lines().take_while(|l| !l.is_empty()).find(|l| l.starts_with("From:"))?;
    user_of(line)
}

/// The CPIM `To` user part of a body (an IMDN's `To` is the original sender, RFC 5438 §7.1.1).
pub fn cpim_to_user(body: &str) -> Option<String> {
    let line = body.lines().take_while(|l| !l.is_empty()).find(|l| l.starts_with("To:"))?;
    user_of(line)
}

/// Whether a body is a CPIM document carrying a disposition notification (`message/imdn+xml`,
/// RFC 5438 §7.1.1), not a chat message.
pub fn is_imdn(body: &str) -> bool {
    let Some(i) = body.find("\r\n\r\n") else { return false };
    body[i + 4..].lines().take_while(|l| !l.is_empty()).any(|l| l.eq_ignore_ascii_case("Content-Type: message/imdn+xml"))
}

/// The user part of the first SIP URI in `text` (`<sip:alice@host>` → `alice`).
pub fn user_of(text: &str) -> Option<String> {
    let i = text.find("sip:").or_else(|| text.find("sips:"))?;
    let rest = &text[i..];
    let rest = &rest[rest.find(':')? + 1..];
    let end = rest.find('@')?;
    let user = &rest[..end];
    (!user.is_empty() && user.len() <= 64).then(|| user.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpim_content_and_sender() {
        let body = "From: Bob <sip:bob@ims.example.net>\r\nTo: <sip:chat@cf>\r\n\r\nContent-Type: text/plain\r\n\r\nhello there\r\n";
        assert_eq!(content_of(body), "hello there");
        assert_eq!(cpim_from_user(body).as_deref(), Some("bob"));
        assert_eq!(content_of("plain text"), "plain text");
    }

    #[test]
    fn provisional_responses_are_not_compared() {
        let mut m = SipMessage::response(100);
        m.push("CSeq", "1 INVITE");
        assert_eq!(sip_key(&m), None);
        let mut m = SipMessage::response(200);
        m.push("CSeq", "2 BYE");
        assert_eq!(sip_key(&m).as_deref(), Some("SIP 200 (BYE)"));
    }
}
