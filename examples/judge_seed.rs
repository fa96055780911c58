//! Judges the capture of one random timeline of the seeded generator (tests/common) against its
//! own run, and prints the timeline, the one the judge rebuilt and the judgement: the debugging
//! aid for a seed that `tests/judge.rs` names.
//!
//! ```text
//! cargo run -q --release --example judge_seed -- 0x1234abcd [pre-cr]
//! ```
#[path = "../tests/common/mod.rs"]
mod common;

use cpm_deferral::export::pcap;
use cpm_deferral::judge::{judge, to_json, to_text, Options};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::Rules;

fn main() {
    let mut args = std::env::args().skip(1);
    let arg = args.next().unwrap_or_default();
    let Ok(seed) = u64::from_str_radix(arg.trim_start_matches("0x"), 16) else {
        eprintln!("usage: judge_seed 0xSEED [post-cr|pre-cr]");
        std::process::exit(1);
    };
    let rules: Rules = args.next().unwrap_or_else(|| "post-cr".into()).parse().unwrap_or(Rules::PostCr);
    let json = common::gen_scenario(seed);
    let sc = Scenario::from_json(&json).expect("generated scenario");
    println!("timeline: {}", serde_json::from_str::<serde_json::Value>(&json).map(|v| v["events"].to_string()).unwrap_or_default());
    let t = cpm_deferral::run(&sc, rules);
    let bytes = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap");
    let _ = std::fs::write("/tmp/judge_seed.pcap", &bytes);
    match judge(&bytes, Options { pf: "192.0.2.10".parse().ok(), cf: "192.0.2.20".parse().ok(), rules }) {
        Ok(j) => {
            let v: serde_json::Value = serde_json::from_str(&to_json(&j)).unwrap_or_default();
            println!("rebuilt: {}", v["scenario"]["events"]);
            println!("{}", to_text(&j));
            if std::env::var("JUDGE_DEBUG").is_ok() {
                let (msgs, _, _) = cpm_deferral::capture::read_all(&bytes);
                let o = cpm_deferral::judge::rebuild::observe(&msgs, &j.roles);
                println!("observed (t0 {} ns):", o.t0_ns);
                for a in &o.actions {
                    println!("  {:>8} {:<6} {}", a.at_ms, a.side.as_str(), a.key);
                }
                let sc = Scenario::from_json(&j.scenario_json).expect("rebuilt");
                let t = cpm_deferral::run(&sc, rules);
                println!("model:");
                for s in t.steps.iter().filter(|s| &*s.from == "carol-pf" && !s.raw.is_empty()) {
                    println!("  {:>8} {:<8} {}{}", s.at_ms, s.to, s.label, if s.dropped { " (dropped)" } else { "" });
                }
            }
        }
        Err(e) => println!("cannot judge: {e}"),
    }
}
