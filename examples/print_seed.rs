//! Prints the scenario of one random timeline of the seeded generator (tests/common), with its
//! steps and the semantic checker's findings under both rule sets: the debugging aid for a
//! finding that `tests/conformance.rs` names by seed.
//!
//! ```text
//! cargo run -q --example print_seed -- 0x1234abcd
//! ```
#[path = "../tests/common/mod.rs"]
mod common;

use common::{gen_scenario, BOTH_RULES};
use cpm_deferral::conformance::check;
use cpm_deferral::run;
use cpm_deferral::scenario::Scenario;

fn main() {
    let arg = std::env::args().nth(1).or_else(|| std::env::var("CPM_SEED").ok()).unwrap_or_default();
    let Ok(seed) = u64::from_str_radix(arg.trim_start_matches("0x"), 16) else {
        eprintln!("usage: print_seed 0xSEED (the seed a finding of tests/conformance.rs names, in hex)");
        std::process::exit(1);
    };
    let json = gen_scenario(seed);
    println!("{json}");
    let sc = match Scenario::from_json(&json) {
        Ok(sc) => sc,
        Err(e) => {
            eprintln!("print_seed: the generated scenario is invalid: {e}");
            std::process::exit(1);
        }
    };
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        println!("== {}", rules.as_str());
        for s in &t.steps {
            let first = s.raw.lines().find(|l| l.starts_with("CSeq") || l.starts_with("To:")).unwrap_or("");
            println!("{:>4} {:>8} {}→{} {} {} | {}", s.index, s.at_ms, s.from, s.to, s.label, first, s.note);
        }
        for f in check(&t) {
            println!("  {f}");
        }
    }
}
