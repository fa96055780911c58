//! A standalone SVG 1.1 document of the whole ladder
//! (<https://www.w3.org/TR/SVG11/>; XML 1.0 escaping, <https://www.w3.org/TR/xml/#syntax>).
//!
//! Nothing is cropped: the height is computed from the number of steps ([`height_for`]) and the
//! width from the number of lanes. Layout, top to bottom: the title, one header box per lane,
//! then one row per step:
//!
//! - left column: the step's time (`12.010s`);
//! - a message is an arrow between two lifelines, SIP solid blue, MSRP dashed green, with its
//!   label above; a message that never arrives (`dropped`) is drawn faded and ends in a red cross;
//! - an internal step (state, store, delivery, timer, loss) is a small box on its lane;
//! - right column: the step's clauses and a short form of its note (the full note is the row's
//!   `<title>`, a tooltip in browsers);
//! - rows where the PF holds messages for Carol (Deferred, EndedWithBacklog) are shaded.
//!
//! Every text from the trace is XML-escaped ([`escape`]); characters that XML 1.0 forbids
//! (control characters) become spaces.

use super::mermaid::{holds_store, note_text, participants};
use super::{secs, shorten};
use crate::trace::{Protocol, StepKind, Trace};
use std::fmt::Write;

const TIME_COL: u32 = 86;
const LANE_W: u32 = 170;
const NOTE_W: u32 = 900;
const HEAD: u32 = 96;
const ROW: u32 = 26;
const FOOT: u32 = 36;
/// Characters of clauses and note together in the right column (about 6 px each at 11 px).
const NOTE_CHARS: usize = 140;
const LABEL_CHARS: usize = 26;

/// The SVG height in pixels for `steps` rows.
pub fn height_for(steps: usize) -> u64 {
    HEAD as u64 + steps as u64 * ROW as u64 + FOOT as u64
}

/// Escapes a text for XML character data and attribute values (`&`, `<`, `>`, `"`, `'`), turning
/// control characters (which XML 1.0 forbids, or which would break a one-line text) into spaces.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Renders the whole ladder as one SVG document.
pub fn render(t: &Trace) -> String {
    let parts = participants(t);
    let lanes = parts.len() as u32;
    let width = TIME_COL + lanes * LANE_W + NOTE_W;
    let height = height_for(t.steps.len());
    let x_of = |id: &str| -> u32 {
        let i = parts.iter().position(|(p, _)| p == id).unwrap_or(0) as u32;
        TIME_COL + i * LANE_W + LANE_W / 2
    };
    let note_x = TIME_COL + lanes * LANE_W + 8;
    let mut o = String::with_capacity(2048 + t.steps.len() * 420);
    let _ = writeln!(o, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">"#
    );
    let _ = writeln!(o, "<title>{}</title>", escape(&format!("{} (rules: {})", t.title, t.rules.as_str())));
    o.push_str(concat!(
        "<defs>\n",
        "<marker id=\"a-sip\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f6feb\"/></marker>\n",
        "<marker id=\"a-msrp\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1a7f37\"/></marker>\n",
        "</defs>\n",
    ));
    let _ = writeln!(o, r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##);
    let _ = writeln!(o, r#"<text x="12" y="24" font-size="16" font-weight="bold">{}</text>"#, escape(&format!("{} — rules: {}", t.title, t.rules.as_str())));
    // Legend.
    let lx = TIME_COL + lanes * LANE_W + NOTE_W.saturating_sub(320);
    let _ = writeln!(o, r##"<line x1="{lx}" y1="20" x2="{}" y2="20" stroke="#1f6feb" stroke-width="1.5"/><text x="{}" y="24">SIP</text>"##, lx + 36, lx + 42);
    let _ = writeln!(
        o,
        r##"<line x1="{}" y1="20" x2="{}" y2="20" stroke="#1a7f37" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{}" y="24">MSRP</text>"##,
        lx + 80,
        lx + 116,
        lx + 122
    );
    let _ = writeln!(o, r##"<rect x="{}" y="12" width="14" height="12" fill="#fff3cd"/><text x="{}" y="24">PF stores</text>"##, lx + 170, lx + 190);
    // Shaded rows: the PF holds messages for Carol.
    o.push_str("<g fill=\"#fff3cd\">\n");
    for (i, s) in t.steps.iter().enumerate() {
        if holds_store(s.pf_state) {
            let _ = writeln!(o, r#"<rect x="0" y="{}" width="{width}" height="{ROW}"/>"#, HEAD + i as u32 * ROW);
        }
    }
    o.push_str("</g>\n");
    // Lane headers and lifelines.
    for (id, label) in &parts {
        let x = x_of(id);
        let _ = writeln!(o, r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#8c959f" stroke-width="1"/>"##, HEAD - 26, height - FOOT as u64 + 8);
        let _ = writeln!(
            o,
            r##"<rect x="{}" y="{}" width="{}" height="26" rx="4" fill="#f6f8fa" stroke="#8c959f"/><text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"##,
            x - LANE_W / 2 + 8,
            HEAD - 56,
            LANE_W - 16,
            HEAD - 38,
            escape(&shorten(label, LABEL_CHARS))
        );
    }
    let _ = writeln!(o, r##"<text x="{note_x}" y="{}" font-weight="bold" fill="#57606a">clauses · note</text>"##, HEAD - 38);
    // Steps.
    for (i, s) in t.steps.iter().enumerate() {
        let top = HEAD + i as u32 * ROW;
        let y = top + ROW / 2 + 4;
        let _ = writeln!(o, r#"<g id="step-{}">"#, s.index);
        let _ = writeln!(o, "<title>{}</title>", escape(&format!("#{} {} {} → {}: {} — {}", s.index, secs(s.at_ms), s.from, s.to, s.label, s.note)));
        let _ = writeln!(o, r##"<text x="8" y="{}" fill="#57606a" font-family="ui-monospace, monospace" font-size="11">{}</text>"##, y + 4, secs(s.at_ms));
        match s.protocol {
            Protocol::None => {
                let x = x_of(&s.from);
                let text = shorten(&note_text(t, s), LABEL_CHARS);
                let fill = match s.kind {
                    StepKind::State => "#ddf4ff",
                    StepKind::Store => "#fff8c5",
                    StepKind::Deliver => "#dafbe1",
                    StepKind::Lost => "#ffebe9",
                    StepKind::Timer => "#fbefff",
                    _ => "#f6f8fa",
                };
                let _ = writeln!(
                    o,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="#8c959f"/><text x="{x}" y="{}" text-anchor="middle" font-size="11">{}</text>"##,
                    x - LANE_W / 2 + 12,
                    top + 3,
                    LANE_W - 24,
                    ROW - 6,
                    y,
                    escape(&text)
                );
            }
            p => {
                let (x1, x2) = (x_of(&s.from), x_of(&s.to));
                let msrp = p == Protocol::MSRP;
                let colour = if msrp { "#1a7f37" } else { "#1f6feb" };
                let dash = if msrp { r#" stroke-dasharray="6 4""# } else { "" };
                let dir: i64 = if x2 >= x1 { 1 } else { -1 };
                let y_line = y + 6;
                if s.dropped {
                    let _ = writeln!(
                        o,
                        r#"<line x1="{x1}" y1="{y_line}" x2="{x2}" y2="{y_line}" stroke="{colour}" stroke-width="1.5" stroke-opacity="0.45"{dash}/>"#
                    );
                    let _ = writeln!(
                        o,
                        r##"<path d="M{} {} l8 8 M{} {} l-8 8" stroke="#cf222e" stroke-width="2"/>"##,
                        x2 as i64 - 4 - dir * 4,
                        y_line - 4,
                        x2 as i64 + 4 - dir * 4,
                        y_line - 4
                    );
                } else {
                    let marker = if msrp { "a-msrp" } else { "a-sip" };
                    let _ = writeln!(
                        o,
                        r#"<line x1="{x1}" y1="{y_line}" x2="{x2}" y2="{y_line}" stroke="{colour}" stroke-width="1.5"{dash} marker-end="url(#{marker})"/>"#
                    );
                }
                let mid = (x1 + x2) / 2;
                let mut label = s.label.to_string();
                if s.dropped {
                    label.push_str(" (never arrives)");
                }
                let _ = writeln!(
                    o,
                    r#"<text x="{mid}" y="{}" text-anchor="middle" fill="{colour}">{}</text>"#,
                    y_line - 4,
                    escape(&shorten(&label, LABEL_CHARS + 8))
                );
            }
        }
        let mut note = s.clauses.join(", ");
        if s.policy {
            note.push_str(" (policy, not in the CR)");
        }
        let _ = writeln!(
            o,
            r##"<text x="{note_x}" y="{}" font-size="11"><tspan fill="#8250df">{}</tspan> <tspan fill="#24292f">{}</tspan></text>"##,
            y + 4,
            escape(&note),
            escape(&shorten(&s.note, NOTE_CHARS.saturating_sub(note.chars().count()).max(40)))
        );
        o.push_str("</g>\n");
    }
    let m = &t.summary;
    let _ = writeln!(
        o,
        r##"<text x="12" y="{}" fill="#57606a">{}</text>"##,
        height - FOOT as u64 + 24,
        escape(&format!(
            "summary: sent while deferred {}, stored {}, delivered from store {}, lost {}, discarded {}, still stored {}, delivered live {}, possible duplicates {}",
            m.sent_while_away, m.stored, m.delivered_from_store, m.lost, m.discarded, m.still_stored, m.delivered_live, m.possible_duplicates
        ))
    );
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape("<a href=\"x\">&'</a>\u{1}"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt; ");
        assert_eq!(height_for(10) - height_for(9), ROW as u64);
    }
}
