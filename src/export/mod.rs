//! Exports of a [`Trace`] for sharing, embedding and presenting:
//!
//! | format       | what                                                                 | module        |
//! | ------------ | -------------------------------------------------------------------- | ------------- |
//! | `mermaid`    | Mermaid `sequenceDiagram` text                                       | [`mermaid`]   |
//! | `plantuml`   | PlantUML sequence diagram text                                       | [`plantuml`]  |
//! | `svg`        | a standalone SVG of the whole ladder (never cropped)                 | [`svg`]       |
//! | `transcript` | the plain-text ladder ([`crate::transcript`]) plus every wire text   | [`transcript`]|
//! | `pcap`       | a classic libpcap capture of every SIP and MSRP message over TCP/IPv4 | [`pcap`]      |
//!
//! `text` and `json` are the CLI's original formats ([`crate::transcript::render`] and
//! [`Trace::to_json`]); they are listed here so that one [`Format`] value covers every output.
//!
//! The trace's texts (title, member names, chat texts, wire texts) come from the user's scenario
//! and are untrusted: every text format escapes them for its own syntax.

pub mod mermaid;
pub mod pcap;
pub mod plantuml;
pub mod svg;
pub mod transcript;

use crate::scenario::Scenario;
use crate::trace::Trace;
use std::fmt;

/// An output format of the CLI and of the wasm export functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The readable ladder ([`crate::transcript::render`]); the CLI's default.
    Text,
    /// The trace as JSON (docs/trace-contract.md).
    Json,
    /// Mermaid `sequenceDiagram` text.
    Mermaid,
    /// PlantUML sequence diagram text.
    PlantUml,
    /// A standalone SVG document.
    Svg,
    /// The ladder plus the full wire text of every message.
    Transcript,
    /// A classic libpcap file (binary).
    Pcap,
}

impl Format {
    /// Every format, in the order the CLI's usage lists them.
    pub const ALL: [Format; 7] = [Format::Text, Format::Json, Format::Mermaid, Format::PlantUml, Format::Pcap, Format::Svg, Format::Transcript];

    /// The name used on the command line and by the wasm functions.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Mermaid => "mermaid",
            Format::PlantUml => "plantuml",
            Format::Svg => "svg",
            Format::Transcript => "transcript",
            Format::Pcap => "pcap",
        }
    }

    /// True for the one binary format (pcap).
    pub fn is_binary(self) -> bool {
        self == Format::Pcap
    }

    /// The usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text | Format::Transcript => "txt",
            Format::Json => "json",
            Format::Mermaid => "mmd",
            Format::PlantUml => "puml",
            Format::Svg => "svg",
            Format::Pcap => "pcap",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Self, ExportError> {
        Format::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| ExportError::UnknownFormat(s.to_string()))
    }
}

/// Why an export could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The format name is not one of [`Format::ALL`].
    UnknownFormat(String),
    /// A text export was asked for a binary format (pcap).
    NotText(Format),
    /// A packet time does not fit the classic pcap header (seconds since 1970 as u32, until 2106).
    TimeOutOfRange { step: u32, epoch_ms: u64 },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::UnknownFormat(s) => {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                write!(f, "unknown format {s:?} (use {})", names.join(", "))
            }
            ExportError::NotText(fmt) => write!(f, "{fmt} is a binary format, not text"),
            ExportError::TimeOutOfRange { step, epoch_ms } => {
                write!(f, "step {step}: time {epoch_ms} ms since 1970 does not fit a classic pcap timestamp (u32 seconds)")
            }
        }
    }
}

impl std::error::Error for ExportError {}

/// Renders a text format. [`Format::Pcap`] is refused with [`ExportError::NotText`]; use
/// [`render`] or [`pcap::write`] for it.
pub fn render_text(trace: &Trace, format: Format) -> Result<String, ExportError> {
    Ok(match format {
        Format::Text => crate::transcript::render(trace),
        Format::Json => trace.to_json(),
        Format::Mermaid => mermaid::render(trace),
        Format::PlantUml => plantuml::render(trace),
        Format::Svg => svg::render(trace),
        Format::Transcript => transcript::render(trace),
        Format::Pcap => return Err(ExportError::NotText(format)),
    })
}

/// Renders any format as bytes. The scenario gives the pcap its start time and its addresses
/// (see [`pcap::Network::for_scenario`]); the text formats only read the trace.
pub fn render(trace: &Trace, scenario: &Scenario, format: Format) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Pcap => pcap::write(trace, &pcap::Network::for_scenario(scenario)),
        f => render_text(trace, f).map(String::into_bytes),
    }
}

/// Shortens `s` to at most `max` characters, cutting at a word boundary when one is near and
/// ending with "…" when something was cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > cut.len() / 2 => cut[..i].trim_end_matches([',', ';', ':', '.', ' ']).to_string(),
        _ => cut,
    };
    format!("{cut}…")
}

/// `12.010s`: a step time in seconds with milliseconds.
pub(crate) fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// A short text for an internal step about a stored message being delivered: how long it waited
/// in the store (`None` for other steps).
pub(crate) fn store_delay(trace: &Trace, step: &crate::trace::Step) -> Option<String> {
    use crate::trace::StepKind;
    if step.kind != StepKind::Deliver {
        return None;
    }
    let chat = trace.chats.iter().find(|c| Some(c.id) == step.chat)?;
    let stored = chat.stored_ms?;
    Some(format!("waited {} in the store", secs(step.at_ms.saturating_sub(stored))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert_eq!("gif".parse::<Format>(), Err(ExportError::UnknownFormat("gif".into())));
        assert!(ExportError::UnknownFormat("gif".into()).to_string().contains("mermaid"));
    }

    #[test]
    fn shorten_cuts_at_words() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("The PF keeps answering the focus", 20), "The PF keeps…");
        assert_eq!(shorten("abcdefghijklmnopqrstuvwxyz", 10), "abcdefghi…");
    }
}
