//! Mermaid `sequenceDiagram` text of a trace
//! (syntax: <https://mermaid.js.org/syntax/sequenceDiagram.html>).
//!
//! - Participants are declared with short aliases (`participant P0 as Carol (client)`), so lane
//!   ids such as `carol-pf` never meet Mermaid's arrow syntax.
//! - SIP messages are solid arrows (`->>`), MSRP messages dotted ones (`-->>`); a message that
//!   never arrives ends in a cross (`-x`, `--x`).
//! - An arrow's text is the step's label (method or status) and a short form of its note;
//!   internal steps (state changes, store, timers) are `Note over` the lane.
//! - Stretches where the PF holds Carol's messages (Deferred, EndedWithBacklog) are shaded with a
//!   `rect`, and a delivery from the store says how long the message waited.
//!
//! Every text that comes from the trace goes through [`escape`]: Mermaid ends a statement at `;`,
//! starts an entity at `#` and renders HTML, so those and every other ASCII character outside
//! letters, digits, space and `.()'!?+-_=/@*` become entity codes `#NN;` (decimal, as the
//! Mermaid docs describe under "Entity codes to escape characters"). Line breaks become spaces.

use super::{shorten, store_delay};
use crate::trace::{PfState, Protocol, Trace};
use std::fmt::Write;

/// The longest note text put on an arrow, in characters.
pub const NOTE_CHARS: usize = 48;

/// Escapes a text for any place in a Mermaid sequence diagram (participant alias, message text,
/// note, title): see the module documentation.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' | '.' | '(' | ')' | '\'' | '!' | '?' | '+' | '-' | '_' | '=' | '/' | '@' | '*' => o.push(c),
            c if c.is_control() => o.push(' '),
            c if c.is_ascii() => {
                let _ = write!(o, "#{};", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// Lane aliases `P0`, `P1`, … with their display labels: the trace's lanes, then any lane a step
/// names that the lane list lacks (labelled by its id).
pub(crate) fn participants(t: &Trace) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = t.lanes.iter().map(|l| (l.id.to_string(), l.label.clone())).collect();
    for s in &t.steps {
        for id in [&s.from, &s.to] {
            if !v.iter().any(|(i, _)| **i == **id) {
                v.push((id.to_string(), id.to_string()));
            }
        }
    }
    v
}

pub(crate) fn alias(parts: &[(String, String)], id: &str) -> String {
    format!("P{}", parts.iter().position(|(i, _)| i == id).unwrap_or(0))
}

pub(crate) fn holds_store(s: PfState) -> bool {
    matches!(s, PfState::Deferred | PfState::EndedWithBacklog)
}

/// The text of an arrow: label, then a short form of the note.
pub(crate) fn arrow_text(label: &str, note: &str, dropped: bool) -> String {
    let mut t = label.to_string();
    if dropped {
        t.push_str(" (never arrives)");
    }
    let n = shorten(note, NOTE_CHARS);
    if !n.is_empty() {
        t.push_str(" - ");
        t.push_str(&n);
    }
    t
}

/// The text of a note for an internal step: label, and how long a delivered message waited.
pub(crate) fn note_text(t: &Trace, s: &crate::trace::Step) -> String {
    match store_delay(t, s) {
        Some(d) => format!("{} ({d})", s.label),
        None => s.label.to_string(),
    }
}

/// Renders the trace as a Mermaid `sequenceDiagram`.
pub fn render(t: &Trace) -> String {
    let parts = participants(t);
    let mut o = String::with_capacity(128 + t.steps.len() * 96);
    o.push_str("sequenceDiagram\n");
    let _ = writeln!(o, "    title {}", escape(&format!("{} (rules: {})", t.title, t.rules.as_str())));
    for (i, (_, label)) in parts.iter().enumerate() {
        let _ = writeln!(o, "    participant P{i} as {}", escape(label));
    }
    let mut shaded = false;
    for s in &t.steps {
        let held = holds_store(s.pf_state);
        if held != shaded {
            if held {
                o.push_str("    rect rgb(255, 243, 205)\n");
                let _ = writeln!(
                    o,
                    "    Note over {}: {}",
                    alias(&parts, "carol-pf"),
                    escape(&format!("PF state {:?}: messages for Carol are stored", s.pf_state))
                );
            } else {
                o.push_str("    end\n");
            }
            shaded = held;
        }
        let (from, to) = (alias(&parts, &s.from), alias(&parts, &s.to));
        match s.protocol {
            Protocol::None => {
                let _ = writeln!(o, "    Note over {from}: {}", escape(&format!("{} {}", super::secs(s.at_ms), note_text(t, s))));
            }
            p => {
                let arrow = match (p == Protocol::MSRP, s.dropped) {
                    (false, false) => "->>",
                    (true, false) => "-->>",
                    (false, true) => "-x",
                    (true, true) => "--x",
                };
                let _ = writeln!(o, "    {from}{arrow}{to}: {}", escape(&format!("{} {}", super::secs(s.at_ms), arrow_text(&s.label, &s.note, s.dropped))));
            }
        }
    }
    if shaded {
        o.push_str("    end\n");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_statement_and_html_characters() {
        assert_eq!(escape("a;b#c<d>e\"f"), "a#59;b#35;c#60;d#62;e#34;f");
        assert_eq!(escape("line\r\nbreak"), "line  break");
        assert_eq!(escape("Carol's PF §8.3.2.9"), "Carol's PF §8.3.2.9");
        assert_eq!(escape("100%"), "100#37;");
    }
}
