//! Prints the SIP wire texts of every preset under both rule sets and of N random
//! timelines (the seeded generator of tests/common, default 1,000) as JSON lines
//! `{"source", "rules", "step", "protocol", "from", "to", "raw"}`, for the third-party grammar
//! test (tests-web/unit/sip-grammars.test.mjs).
//!
//! ```text
//! cargo run -q --example wire_corpus -- 1000
//! ```
#[path = "../tests/common/mod.rs"]
mod common;

use cpm_deferral::trace::Protocol;
use cpm_deferral::{run, Rules};
use std::io::Write;

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut emit = |source: &str, rules: Rules, t: &cpm_deferral::Trace| {
        for s in &t.steps {
            if s.protocol != Protocol::SIP || s.raw.is_empty() {
                continue;
            }
            let line = serde_json::json!({
                "source": source, "rules": rules.as_str(), "step": s.index, "protocol": s.protocol.as_str(),
                "from": &*s.from, "to": &*s.to, "raw": s.raw,
            });
            writeln!(out, "{line}").expect("stdout");
        }
    };
    for (name, rules, t) in common::preset_traces() {
        emit(name, rules, &t);
    }
    for i in 0..n {
        let seed = common::mix64(0x5eed_0000 + i);
        let json = common::gen_scenario(seed);
        let Ok(sc) = cpm_deferral::scenario::Scenario::from_json(&json) else { continue };
        for rules in common::BOTH_RULES {
            emit(&format!("random {seed:#x}"), rules, &run(&sc, rules));
        }
    }
}
