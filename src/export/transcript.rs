//! A plain-text transcript: the readable ladder of [`crate::transcript::render`] (one line per
//! step and the summary), then the full wire text of every SIP and MSRP message in step order.
//!
//! Wire texts are shown with LF line ends (the trace keeps CRLF, RFC 3261 §7 / RFC 4975 §7.1),
//! each under a header line `--- #12 8.000s carol -> carol-pf SIP BYE ---`. Control characters
//! other than line ends and tabs are shown as `\u{…}` escapes so that a hostile text cannot
//! drive a terminal.

use super::secs;
use crate::trace::{Protocol, Trace};
use std::fmt::Write;

fn clean_into(o: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' | '\t' => o.push(c),
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
}

/// Renders the ladder and then every message's wire text.
pub fn render(t: &Trace) -> String {
    let ladder = crate::transcript::render(t);
    let mut o = String::with_capacity(ladder.len() + t.steps.iter().map(|s| s.raw.len() + 80).sum::<usize>());
    clean_into(&mut o, &ladder);
    o.push_str("\nwire texts\n==========\n");
    for s in t.steps.iter().filter(|s| s.protocol != Protocol::None) {
        let proto = if s.protocol == Protocol::SIP { "SIP" } else { "MSRP" };
        let mut head = format!("--- #{} {} {} -> {} {proto} {}", s.index, secs(s.at_ms), s.from, s.to, s.label);
        if s.dropped {
            head.push_str(" (never arrives)");
        }
        head.push_str(" ---\n");
        clean_into(&mut o, &head);
        clean_into(&mut o, &s.raw.replace("\r\n", "\n"));
        if !o.ends_with('\n') {
            o.push('\n');
        }
        o.push('\n');
    }
    o
}
