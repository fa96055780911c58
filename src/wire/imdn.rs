//! `message/imdn+xml` documents (RFC 5438 §7.2): the disposition notification a recipient sends
//! back for a message that asked for one with `imdn.Disposition-Notification` (§6.2), and the
//! CPIM envelope that carries it (§7.1.1: `Content-Disposition: notification`, CPIM `To` set to
//! the original sender, no notification requested for the notification itself).
//!
//! In CPM group chat the recipient's client sends `delivered` and then `displayed` for each
//! message it was given, over MSRP towards the focus, which routes it to the sender (digest §7,
//! Q17). A PF that stores a message for a user who is away may answer `processing-notification`
//! with `stored` (§7.2.1.3) on the user's behalf.

use super::xml::{self, escape_into};
use super::WireError;

/// Which of the three notifications a document is (RFC 5438 §7.2.1: exactly one of
/// `<delivery-notification>`, `<display-notification>`, `<processing-notification>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImdnKind {
    /// `<delivery-notification>`: answers `positive-delivery` / `negative-delivery` (§5.1).
    Delivery,
    /// `<display-notification>`: answers `display` (§5.2).
    Display,
    /// `<processing-notification>`: answers `processing` (§5.3), sent by an intermediary.
    Processing,
}

/// The `<status>` child (RFC 5438 §7.2.1.1–§7.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImdnStatus {
    /// Delivery: the message reached the recipient's device.
    Delivered,
    /// Delivery: it could not be delivered.
    Failed,
    /// Display: the user was shown the message.
    Displayed,
    /// Processing: an intermediary processed it.
    Processed,
    /// Processing: an intermediary stored it for later delivery (the deferral's case).
    Stored,
    /// Any kind: the recipient or an intermediary refuses to disclose the disposition.
    Forbidden,
    /// Any kind: an error while producing the disposition.
    Error,
}

impl ImdnStatus {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            ImdnStatus::Delivered => "delivered",
            ImdnStatus::Failed => "failed",
            ImdnStatus::Displayed => "displayed",
            ImdnStatus::Processed => "processed",
            ImdnStatus::Stored => "stored",
            ImdnStatus::Forbidden => "forbidden",
            ImdnStatus::Error => "error",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "delivered" => ImdnStatus::Delivered,
            "failed" => ImdnStatus::Failed,
            "displayed" => ImdnStatus::Displayed,
            "processed" => ImdnStatus::Processed,
            "stored" => ImdnStatus::Stored,
            "forbidden" => ImdnStatus::Forbidden,
            "error" => ImdnStatus::Error,
            _ => return None,
        })
    }

    /// Whether RFC 5438 §7.2.1 allows this status in a notification of `kind` (its schema, §9,
    /// gives each notification its own set).
    pub fn allowed_in(self, kind: ImdnKind) -> bool {
        use ImdnStatus::*;
        match kind {
            ImdnKind::Delivery => matches!(self, Delivered | Failed | Forbidden | Error),
            ImdnKind::Display => matches!(self, Displayed | Forbidden | Error),
            ImdnKind::Processing => matches!(self, Processed | Stored | Forbidden | Error),
        }
    }
}

impl ImdnKind {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            ImdnKind::Delivery => "delivery-notification",
            ImdnKind::Display => "display-notification",
            ImdnKind::Processing => "processing-notification",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "delivery-notification" => ImdnKind::Delivery,
            "display-notification" => ImdnKind::Display,
            "processing-notification" => ImdnKind::Processing,
            _ => return None,
        })
    }
}

/// An IMDN document as a typed value (RFC 5438 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imdn {
    /// `<message-id>`: the `imdn.Message-ID` of the message this notification is about.
    pub message_id: String,
    /// `<datetime>`: the `DateTime` of that message (§7.2.1.2: copied, so the sender can match).
    pub datetime: String,
    /// `<recipient-uri>` and `<original-recipient-uri>` (both or neither, §7.2.1.4–5): who
    /// the message reached, and whom it was first addressed to.
    pub recipient: Option<(String, String)>,
    /// Which notification.
    pub kind: ImdnKind,
    /// Its status.
    pub status: ImdnStatus,
}

impl Imdn {
    /// The exact XML text. The status must be one [`ImdnStatus::allowed_in`] the kind; a
    /// value built otherwise is a programming error and is written as `error`.
    pub fn emit(&self) -> String {
        let mut o = String::with_capacity(320);
        let recipient = self.recipient.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
        write_xml(&mut o, &self.message_id, &self.datetime, recipient, self.kind, self.status);
        o
    }

    /// Parses an IMDN document; the inverse of [`Imdn::emit`]. Refuses a document without
    /// `message-id` or `datetime`, with no notification or more than one, or with a status the
    /// notification does not allow.
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let root = xml::parse(text)?;
        if root.name != "imdn" {
            return Err(WireError::Xml(format!("the root element is <{}>, not <imdn>", root.name)));
        }
        if root.attr("xmlns") != Some("urn:ietf:params:xml:ns:imdn") {
            return Err(WireError::Xml("<imdn> is not in the namespace urn:ietf:params:xml:ns:imdn".into()));
        }
        let text_of = |name: &'static str| -> Result<String, WireError> {
            root.child(name).map(|e| e.text.clone()).ok_or_else(|| WireError::Xml(format!("<imdn> has no <{name}>")))
        };
        let message_id = text_of("message-id")?;
        let datetime = text_of("datetime")?;
        let recipient = match (root.child("recipient-uri"), root.child("original-recipient-uri")) {
            (Some(r), Some(o)) => Some((r.text.clone(), o.text.clone())),
            (None, None) => None,
            _ => return Err(WireError::Xml("<recipient-uri> and <original-recipient-uri> come together".into())),
        };
        let notes: Vec<_> = root.children.iter().filter_map(|c| ImdnKind::from_name(&c.name).map(|k| (k, c))).collect();
        let [(kind, note)] = notes[..] else {
            return Err(WireError::Xml(format!("<imdn> has {} notifications, not one", notes.len())));
        };
        let status_el = note.child("status").ok_or_else(|| WireError::Xml(format!("<{}> has no <status>", kind.name())))?;
        let [ref only] = status_el.children[..] else {
            return Err(WireError::Xml("<status> holds exactly one element".into()));
        };
        let status = ImdnStatus::from_name(&only.name).ok_or_else(|| WireError::Xml(format!("<{}> is not an IMDN status", only.name)))?;
        if !status.allowed_in(kind) {
            return Err(WireError::Xml(format!("<{}> is not a status of <{}> (RFC 5438 §7.2.1)", status.name(), kind.name())));
        }
        Ok(Imdn { message_id, datetime, recipient, kind, status })
    }

    /// The CPIM document that carries it (RFC 5438 §7.1.1, RFC 3862 §3): `From` the one who
    /// notifies, `To` the original sender, a new `imdn.Message-ID` of its own, `DateTime`, and
    /// no `imdn.Disposition-Notification` (a notification never asks for one, §7.1.1);
    /// the content is `message/imdn+xml` with `Content-Disposition: notification`.
    pub fn cpim(&self, from: &str, to: &str, own_id: &str, now: &str) -> String {
        envelope(&self.emit(), from, to, own_id, now)
    }
}

/// Writes the XML text of [`Imdn::emit`] from its parts.
fn write_xml(o: &mut String, message_id: &str, datetime: &str, recipient: Option<(&str, &str)>, kind: ImdnKind, status: ImdnStatus) {
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n  <message-id>");
    escape_into(o, message_id);
    o.push_str("</message-id>\r\n  <datetime>");
    escape_into(o, datetime);
    o.push_str("</datetime>\r\n");
    if let Some((to, original)) = recipient {
        o.push_str("  <recipient-uri>");
        escape_into(o, to);
        o.push_str("</recipient-uri>\r\n  <original-recipient-uri>");
        escape_into(o, original);
        o.push_str("</original-recipient-uri>\r\n");
    }
    let status = if status.allowed_in(kind) { status } else { ImdnStatus::Error };
    o.push_str("  <");
    o.push_str(kind.name());
    o.push_str(">\r\n    <status>\r\n      <");
    o.push_str(status.name());
    o.push_str("/>\r\n    </status>\r\n  </");
    o.push_str(kind.name());
    o.push_str(">\r\n</imdn>\r\n");
}

/// The values of message headers `names` of a CPIM document (RFC 3862 §3: `Name: value` lines
/// before the first blank line), each trimmed as [`super::cpim::CpimMessage::parse`] trims it,
/// the first of each name; all None when the document has no blank line after its headers.
/// One pass over the lines, no searcher set up per call: the client reads these off every
/// message it gets (docs/bench-engine.md).
pub(crate) fn message_headers<'a, const N: usize>(doc: &'a str, names: [&str; N]) -> [Option<&'a str>; N] {
    let mut out = [None; N];
    let b = doc.as_bytes();
    let mut i = 0;
    while let Some(nl) = b[i..].iter().position(|&c| c == b'\n') {
        let end = i + nl;
        if end == i || b[end - 1] != b'\r' {
            break; // a bare LF: not a CPIM header block
        }
        if end - 1 == i {
            return out; // the blank line: the end of the message headers
        }
        // `Name: value` with `Name` one of `names` (none has a ':'), spaces around it allowed:
        // what splitting at the first ':' and trimming the name finds.
        let line = doc[i..end - 1].trim_start();
        for (k, name) in names.iter().enumerate() {
            if out[k].is_none() {
                if let Some(v) = line.strip_prefix(name).map(str::trim_start).and_then(|r| r.strip_prefix(':')) {
                    out[k] = Some(v.trim());
                    break;
                }
            }
        }
        i = end + 1;
    }
    [None; N]
}

/// Whether a message's `imdn.Disposition-Notification` (RFC 5438 §6.2) asks for a notification
/// with `status`: `positive-delivery` for `delivered`, `display` for `displayed`, `processing`
/// for `processed` and `stored` (§5.1–§5.3). `header` is None for a message whose CPIM text is
/// not built (the engine's fast path): every message the engine writes asks for
/// `positive-delivery, display`.
pub fn asks_for(header: Option<&str>, status: ImdnStatus) -> bool {
    let want = match status {
        ImdnStatus::Delivered => "positive-delivery",
        ImdnStatus::Displayed => "display",
        ImdnStatus::Processed | ImdnStatus::Stored => "processing",
        _ => return false,
    };
    match header {
        None => matches!(status, ImdnStatus::Delivered | ImdnStatus::Displayed),
        Some(h) => h.split(',').any(|t| t.trim().eq_ignore_ascii_case(want)),
    }
}

/// The notification kind a status belongs to (the first RFC 5438 §7.2.1 allows it in).
pub fn kind_of(status: ImdnStatus) -> ImdnKind {
    match status {
        ImdnStatus::Delivered | ImdnStatus::Failed => ImdnKind::Delivery,
        ImdnStatus::Displayed => ImdnKind::Display,
        _ => ImdnKind::Processing,
    }
}

/// The CPIM document of the notification with `status` about the message whose CPIM document is
/// `original` (RFC 5438 §7.1.1): `From` is `from`, `To` the original sender's address (its
/// `From` without the display name), a new `imdn.Message-ID` `own_id`, `DateTime` `now_ms`
/// (epoch ms); the IMDN's `<message-id>` is the original's `imdn.Message-ID` and its
/// `<datetime>` the original's `DateTime` (§7.2.1.1, §7.2.1.2): the same text as
/// [`Imdn::cpim`] of that value. None when `original` has no such message headers.
pub fn answer(original: &str, from: &str, status: ImdnStatus, own_id: &str, now_ms: u64) -> Option<String> {
    answer_and_dash_run(original, from, status, own_id, now_ms).map(|(doc, _)| doc)
}

/// [`answer`], and whether the document has seven `-` in a row (what
/// [`super::msrp::has_dash_run`] answers for it), known from its parts: no fixed text of
/// the document has a `-` next to a value, so a run of seven lies within one value, and XML
/// escaping leaves every `-` and puts none in.
pub(crate) fn answer_and_dash_run(original: &str, from: &str, status: ImdnStatus, own_id: &str, now_ms: u64) -> Option<(String, bool)> {
    // Read off the header lines, not a parsed document: the client answers every message it
    // gets, so this is on the engine's hot path (docs/bench-engine.md).
    let [sender, message_id, datetime] = message_headers(original, ["From", "imdn.Message-ID", "DateTime"]);
    let (sender, message_id, datetime) = (sender?, message_id?, datetime?);
    let to = match (sender.find('<'), sender.rfind('>')) {
        (Some(a), Some(b)) if a < b => &sender[a..=b],
        _ => sender,
    };
    let mut body = String::with_capacity(320);
    write_xml(&mut body, message_id, datetime, None, kind_of(status), status);
    let mut now = String::with_capacity(24);
    super::datetime::push_ms(&mut now, now_ms);
    let dash_run = [from, to, own_id, &now, message_id, datetime].into_iter().any(super::msrp::has_dash_run);
    let doc = envelope(&body, from, to, own_id, &now);
    debug_assert_eq!(dash_run, super::msrp::has_dash_run(&doc), "the fixed text of an IMDN has no '-' next to a value");
    Some((doc, dash_run))
}

/// The CPIM document around IMDN XML `body` ([`Imdn::cpim`]).
fn envelope(body: &str, from: &str, to: &str, own_id: &str, now: &str) -> String {
    let mut out = String::with_capacity(body.len() + 300);
    super::cpim::write_document(
        &mut out,
        &[("From", from), ("To", to), ("NS", "imdn <urn:ietf:params:imdn>"), ("imdn.Message-ID", own_id), ("DateTime", now)],
        &[("Content-Type", "message/imdn+xml"), ("Content-Disposition", "notification")],
        body,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::cpim::CpimMessage;

    fn all() -> Vec<Imdn> {
        let kinds = [ImdnKind::Delivery, ImdnKind::Display, ImdnKind::Processing];
        let statuses = [
            ImdnStatus::Delivered,
            ImdnStatus::Failed,
            ImdnStatus::Displayed,
            ImdnStatus::Processed,
            ImdnStatus::Stored,
            ImdnStatus::Forbidden,
            ImdnStatus::Error,
        ];
        let mut v = Vec::new();
        for (i, k) in kinds.iter().enumerate() {
            for s in statuses.iter().filter(|s| s.allowed_in(*k)) {
                v.push(Imdn {
                    message_id: format!("Xs83kJd{i}"),
                    datetime: "2024-05-14T09:12:44.120Z".into(),
                    recipient: (i % 2 == 0).then(|| ("sip:carol@ims.example.net".into(), "sip:chat-7f3a9c@cf.cpm.example.net".into())),
                    kind: *k,
                    status: *s,
                });
            }
        }
        v
    }

    #[test]
    fn every_kind_and_allowed_status_round_trips() {
        let v = all();
        assert_eq!(v.len(), 4 + 3 + 4, "RFC 5438 §7.2.1's statuses per notification");
        for m in v {
            assert_eq!(Imdn::parse(&m.emit()).unwrap(), m, "{}", m.emit());
        }
    }

    #[test]
    fn a_status_of_another_notification_is_refused() {
        let m =
            Imdn { message_id: "a".into(), datetime: "2024-05-14T09:12:44Z".into(), recipient: None, kind: ImdnKind::Display, status: ImdnStatus::Displayed };
        let text = m.emit().replace("<displayed/>", "<delivered/>");
        let e = Imdn::parse(&text).unwrap_err().to_string();
        assert!(e.contains("not a status of <display-notification>"), "{e}");
        assert!(Imdn::parse(&m.emit().replace("<message-id>a</message-id>", "")).is_err());
        assert!(Imdn::parse(&m.emit().replace("urn:ietf:params:xml:ns:imdn", "urn:x")).is_err());
    }

    #[test]
    fn the_dash_run_of_an_answer_is_the_one_a_search_of_its_document_finds() {
        // Values with runs of 6, 7 and 8 dashes, at either end of a value and inside it, in
        // each part the answer takes from: the original's From, imdn.Message-ID and DateTime,
        // the IMDN's own From, id and time (its time has single dashes only).
        let values = ["plain", "a-b", "------", "-------", "x-------", "-------y", "a--------b", "-&-<------"];
        let mut seen = [false; 2];
        for (i, v) in values.iter().enumerate() {
            for part in 0..5 {
                let pick = |k: usize| if k == part { *v } else { "x" };
                let original = format!(
                    "From: \"A\" <sip:{}@ims.example.net>\r\nimdn.Message-ID: {}\r\nDateTime: {}\r\n\r\nContent-Length: 0\r\n\r\n",
                    pick(0),
                    pick(1),
                    pick(2)
                );
                let from = format!("<sip:{}@ims.example.net>", pick(3));
                let (doc, dash_run) = answer_and_dash_run(&original, &from, ImdnStatus::Displayed, pick(4), 1_715_677_200_000 + i as u64).unwrap();
                assert_eq!(dash_run, crate::wire::msrp::has_dash_run(&doc), "{v:?} in part {part}:\n{doc}");
                assert_eq!(answer(&original, &from, ImdnStatus::Displayed, pick(4), 1_715_677_200_000 + i as u64).as_deref(), Some(doc.as_str()));
                seen[dash_run as usize] = true;
            }
        }
        assert_eq!(seen, [true, true], "both answers were judged");
    }

    #[test]
    fn the_cpim_envelope_asks_for_no_notification_and_carries_the_document() {
        let m = Imdn {
            message_id: "Xs83kJd0".into(),
            datetime: "2024-05-14T09:12:44.120Z".into(),
            recipient: None,
            kind: ImdnKind::Delivery,
            status: ImdnStatus::Delivered,
        };
        let doc = CpimMessage::parse(&m.cpim("<sip:carol@ims.example.net>", "<sip:bob@ims.example.net>", "n7Yq2", "2024-05-14T11:40:02.010Z")).unwrap();
        assert_eq!(doc.header("To"), Some("<sip:bob@ims.example.net>"));
        assert_eq!(doc.header("imdn.Disposition-Notification"), None);
        assert_eq!(doc.content_headers[0], ("Content-Type".into(), "message/imdn+xml".into()));
        assert_eq!(Imdn::parse(&doc.content).unwrap(), m);
    }

    #[test]
    fn message_headers_are_read_before_the_blank_line_only() {
        let doc = "From: <sip:a@x>\r\n DateTime :  2024-05-14T09:12:44Z \r\nFrom: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\nimdn.Message-ID: no\r\n\r\nx";
        assert_eq!(message_headers(doc, ["From", "DateTime", "imdn.Message-ID"]), [Some("<sip:a@x>"), Some("2024-05-14T09:12:44Z"), None]);
        // The same values as the parsed document's.
        let parsed = CpimMessage::parse("From: <sip:a@x>\r\n DateTime :  2024-05-14T09:12:44Z \r\n\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(parsed.header("DateTime"), Some("2024-05-14T09:12:44Z"));
        assert_eq!(message_headers("From: <sip:a@x>\r\n", ["From"]), [None], "no blank line: no CPIM document");
        assert_eq!(message_headers("From: <sip:a@x>\n\r\n", ["From"]), [None], "a bare LF");
    }

    #[test]
    fn an_answer_copies_the_originals_id_and_datetime_and_goes_to_its_sender() {
        let original = "From: \"Bob\" <sip:bob@ims.example.net>\r\nTo: <sip:chat-7f3a9c@cf.cpm.example.net>\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: Xs83kJd0\r\nDateTime: 2024-05-14T09:12:44.120Z\r\nimdn.Disposition-Notification: positive-delivery, display\r\n\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\nhi";
        let text = answer(original, "<sip:carol@ims.example.net>", ImdnStatus::Displayed, "n7Yq2", 1_715_679_602_010).unwrap();
        let expected = Imdn {
            message_id: "Xs83kJd0".into(),
            datetime: "2024-05-14T09:12:44.120Z".into(),
            recipient: None,
            kind: ImdnKind::Display,
            status: ImdnStatus::Displayed,
        };
        assert_eq!(text, expected.cpim("<sip:carol@ims.example.net>", "<sip:bob@ims.example.net>", "n7Yq2", "2024-05-14T09:40:02.010Z"));
        let doc = CpimMessage::parse(&text).unwrap();
        assert_eq!(doc.header("To"), Some("<sip:bob@ims.example.net>"));
        assert_eq!(doc.header("imdn.Message-ID"), Some("n7Yq2"));
        let m = Imdn::parse(&doc.content).unwrap();
        assert_eq!((m.message_id.as_str(), m.datetime.as_str(), m.kind), ("Xs83kJd0", "2024-05-14T09:12:44.120Z", ImdnKind::Display));
        let asks = CpimMessage::parse(original).unwrap();
        let h = asks.header("imdn.Disposition-Notification");
        assert!(asks_for(h, ImdnStatus::Delivered) && asks_for(h, ImdnStatus::Displayed) && !asks_for(h, ImdnStatus::Stored));
        assert!(asks_for(None, ImdnStatus::Delivered) && !asks_for(None, ImdnStatus::Stored));
        assert!(answer("not cpim", "<sip:carol@ims.example.net>", ImdnStatus::Delivered, "x", 0).is_none());
    }
}
