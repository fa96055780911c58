//! PlantUML sequence diagram text of a trace
//! (syntax: <https://plantuml.com/sequence-diagram>).
//!
//! Participants are declared with aliases (`participant "Carol (client)" as P0`); SIP messages are
//! solid arrows (`->`), MSRP messages dotted ones (`-->`), a message that never arrives ends in a
//! cross (`->x`, `-->x`); internal steps are `note over` the lane; a divider (`== … ==`) marks
//! where the PF starts and stops holding messages for Carol.
//!
//! Every text that comes from the trace goes through [`escape`]: PlantUML renders Creole and a
//! subset of HTML in texts (`<b>`, `**bold**`, `//italic//`, `\n`, `#colour`), so every ASCII
//! character outside letters, digits, space and `.()'!?+` becomes a numeric character reference
//! `&#NN;` (PlantUML: "You can use `&#XXXX;` … to display a Unicode character"). Line breaks
//! become spaces.

use super::mermaid::{alias, arrow_text, holds_store, note_text, participants};
use crate::trace::{Protocol, Trace};
use std::fmt::Write;

/// Escapes a text for any place in a PlantUML sequence diagram (participant name, message text,
/// note, title, divider): see the module documentation.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' | '.' | '(' | ')' | '\'' | '!' | '?' | '+' => o.push(c),
            c if c.is_control() => o.push(' '),
            c if c.is_ascii() => {
                let _ = write!(o, "&#{};", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// Renders the trace as a PlantUML sequence diagram (`@startuml` … `@enduml`).
pub fn render(t: &Trace) -> String {
    let parts = participants(t);
    let mut o = String::with_capacity(128 + t.steps.len() * 96);
    o.push_str("@startuml\n");
    let _ = writeln!(o, "title {}", escape(&format!("{} (rules: {})", t.title, t.rules.as_str())));
    for (i, (_, label)) in parts.iter().enumerate() {
        let _ = writeln!(o, "participant \"{}\" as P{i}", escape(label));
    }
    let mut held = false;
    for s in &t.steps {
        let now = holds_store(s.pf_state);
        if now != held {
            let text = if now { format!("PF state {:?}: messages for Carol are stored", s.pf_state) } else { format!("PF state {:?}", s.pf_state) };
            let _ = writeln!(o, "== {} ==", escape(&text));
            held = now;
        }
        let (from, to) = (alias(&parts, &s.from), alias(&parts, &s.to));
        match s.protocol {
            Protocol::None => {
                let _ = writeln!(o, "note over {from} : {}", escape(&format!("{} {}", super::secs(s.at_ms), note_text(t, s))));
            }
            p => {
                let arrow = match (p == Protocol::MSRP, s.dropped) {
                    (false, false) => "->",
                    (true, false) => "-->",
                    (false, true) => "->x",
                    (true, true) => "-->x",
                };
                let _ = writeln!(o, "{from} {arrow} {to} : {}", escape(&format!("{} {}", super::secs(s.at_ms), arrow_text(&s.label, &s.note, s.dropped))));
            }
        }
    }
    o.push_str("@enduml\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_creole_and_html() {
        assert_eq!(escape("<b>x</b>;#"), "&#60;b&#62;x&#60;&#47;b&#62;&#59;&#35;");
        assert_eq!(escape("**bold** //it// \\n"), "&#42;&#42;bold&#42;&#42; &#47;&#47;it&#47;&#47; &#92;n");
    }
}
