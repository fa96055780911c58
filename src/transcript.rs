//! A readable ladder transcript of a trace (the CLI's `--format text`).

use crate::trace::{Protocol, Trace};
use std::fmt::Write;

/// Renders one line per step (time, arrow, label, citations, explanation), then the summary.
pub fn render(t: &Trace) -> String {
    let mut o = String::with_capacity(t.steps.len() * 160);
    let _ = writeln!(o, "{} — rules: {}", t.title, t.rules.as_str());
    let _ = writeln!(o, "lanes: {}", t.lanes.iter().map(|l| format!("{} ({})", l.id, l.label)).collect::<Vec<_>>().join(", "));
    for s in &t.steps {
        let secs = format!("{}.{:03}", s.at_ms / 1000, s.at_ms % 1000);
        let arrow = match s.protocol {
            Protocol::None => format!("[{}]", s.from),
            p => format!("{} -{}-> {}{}", s.from, if p == Protocol::SIP { "SIP" } else { "MSRP" }, s.to, if s.dropped { " (never arrives)" } else { "" }),
        };
        let _ = writeln!(
            o,
            "{secs:>10}s  {arrow:<32} {:<24} [{}] {}{}",
            s.label,
            s.clauses.join(", "),
            if s.policy { "(policy, not in the CR) " } else { "" },
            s.note
        );
    }
    let m = &t.summary;
    let _ = writeln!(
        o,
        "summary: sent while deferred {}, stored {}, delivered from store {}, lost {}, discarded {}, still stored {}, delivered live {}, possible duplicates {}",
        m.sent_while_away, m.stored, m.delivered_from_store, m.lost, m.discarded, m.still_stored, m.delivered_live, m.possible_duplicates
    );
    o
}
