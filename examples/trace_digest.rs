//! Digests of whole traces (the JSON of the trace contract, wire texts included) of N random
//! timelines of the seeded generator (tests/common, the seeds tests/conformance.rs uses) under
//! both rule sets, one line per run, and a total on stderr: the check that a restructure of
//! the engine leaves every trace byte-identical (compare two builds' outputs with `diff`).
//!
//! ```text
//! cargo run --release -q --example trace_digest -- 400 > digests.txt
//! ```
#[path = "../tests/common/mod.rs"]
mod common;
use std::hash::Hasher;
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(300);
    let mut total = std::collections::hash_map::DefaultHasher::new();
    for i in 0..n {
        let seed = common::mix64(0xc0f0_0000 + i);
        let Ok(sc) = cpm_deferral::scenario::Scenario::from_json(&common::gen_scenario(seed)) else { continue };
        for rules in common::BOTH_RULES {
            let t = cpm_deferral::run(&sc, rules);
            let j = serde_json::to_string(&t).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            h.write(j.as_bytes());
            println!("{seed:#x} {} {:016x}", rules.as_str(), h.finish());
            total.write(j.as_bytes());
        }
    }
    eprintln!("total {:016x}", total.finish());
}
