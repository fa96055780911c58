//! The typed wire layer: SIP (RFC 3261), Reason (RFC 3326), SDP for MSRP (RFC 4566/4975),
//! MSRP (RFC 4975), CPIM (RFC 3862) with IMDN headers and documents (RFC 5438) and conference-info
//! (RFC 4575). Every value emits exact text and parses back into the same value;
//! Content-Length and Byte-Range are computed on emission, never stored.

pub mod conference_info;
pub mod cpim;
pub mod datetime;
pub mod imdn;
pub mod msrp;
pub mod reason;
pub mod sdp;
pub mod sip;
mod xml;

use std::fmt;

/// A reason why a piece of wire text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The text ends before the named part.
    Truncated(&'static str),
    /// The first line is not a valid start line of the protocol.
    BadStartLine(String),
    /// A header line has no colon or an empty name.
    BadHeader(String),
    /// A header the protocol requires is absent.
    MissingHeader(&'static str),
    /// A header value is not what its grammar allows.
    BadValue { header: &'static str, value: String },
    /// A declared length (Content-Length, Byte-Range) does not match the body.
    LengthMismatch { header: &'static str, declared: String, actual: usize },
    /// The MSRP end-line is missing or does not carry the transaction id.
    BadEndLine(String),
    /// The XML document is not well-formed or lacks a required element.
    Xml(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated(what) => write!(f, "text ends before the {what}"),
            WireError::BadStartLine(l) => write!(f, "not a valid start line: {l:?}"),
            WireError::BadHeader(l) => write!(f, "not a valid header line: {l:?}"),
            WireError::MissingHeader(h) => write!(f, "required header {h} is missing"),
            WireError::BadValue { header, value } => write!(f, "{header} has an invalid value {value:?}"),
            WireError::LengthMismatch { header, declared, actual } => {
                write!(f, "{header} says {declared} but the body has {actual} bytes")
            }
            WireError::BadEndLine(l) => write!(f, "MSRP end-line missing or wrong: {l:?}"),
            WireError::Xml(m) => write!(f, "XML document: {m}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Splits `text` into header lines and body at the first empty line (CRLF CRLF).
/// Returns `None` when there is no empty line.
pub(crate) fn split_head(text: &str) -> Option<(&str, &str)> {
    text.find("\r\n\r\n").map(|i| (&text[..i], &text[i + 4..]))
}

/// Parses `Name: value` lines (CRLF separated) into pairs.
pub(crate) fn parse_header_lines(head: &str) -> Result<Vec<(String, String)>, WireError> {
    let mut out = Vec::new();
    for line in head.split("\r\n") {
        let (name, value) = line.split_once(':').ok_or_else(|| WireError::BadHeader(line.to_string()))?;
        let name = name.trim();
        if name.is_empty() || name.contains(' ') {
            return Err(WireError::BadHeader(line.to_string()));
        }
        out.push((name.to_string(), value.trim().to_string()));
    }
    Ok(out)
}
