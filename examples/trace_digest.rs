//! Digests of whole traces (the JSON of the trace contract, wire texts included) of every
//! preset and of N random timelines of the seeded generator (tests/common, the seeds
//! tests/conformance.rs uses) under both rule sets, one line per run, and a total on stderr: the
//! check that a restructure of the engine leaves every trace byte-identical (compare two builds'
//! outputs with `diff`).
//!
//! With `mask`, every generated identifier in the wire texts is replaced by `*` before hashing
//! (tags, Via branches, Call-IDs, MSRP transaction ids and Message-IDs, MSRP path names, SDP
//! `o=` session ids, a REGISTER's CSeq number): the check that a change renumbered identifiers
//! and nothing else.
//!
//! ```text
//! cargo run --release -q --example trace_digest -- 400 > digests.txt
//! cargo run --release -q --example trace_digest -- 400 mask > masked.txt
//! ```
#[path = "../tests/common/mod.rs"]
mod common;
use std::hash::Hasher;

/// Replaces the identifier after each `key` (up to one of `stop`) with `*`.
fn mask_after(s: &str, key: &str, stop: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let end = rest.find(|c: char| stop.contains(&c)).unwrap_or(rest.len());
        out.push('*');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn mask(j: &str) -> String {
    let word: &[char] = &[';', '>', ',', ' ', '\\', '"', '&', '<'];
    let mut s = mask_after(j, "tag=", word);
    s = mask_after(&s, "branch=", word);
    s = mask_after(&s, "Call-ID: ", &['\\']);
    s = mask_after(&s, "Message-ID: ", &['\\']);
    s = mask_after(&s, "\"raw\":\"MSRP ", &[' ']);
    s = mask_after(&s, "-------", &['$', '+', '#']);
    s = mask_after(&s, "tcp/", &[';']);
    for port in [":49152/", ":20000/", ":20001/", ":30000/"] {
        s = mask_after(&s, port, &[';']);
    }
    s = mask_after(&s, " IN IP4 ", &['\\']);
    // o=<user> <session id> <version> IN IP4 <addr>: mask the two numbers.
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("o=") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let line_end = rest.find('\\').unwrap_or(rest.len());
        let line = &rest[..line_end];
        out.push_str(&line.split(' ').map(|w| if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) { "*" } else { w }).collect::<Vec<_>>().join(" "));
        rest = &rest[line_end..];
    }
    out.push_str(rest);
    // A body that embeds a message (the 3rd-party REGISTER) changes length with its ids.
    let out = mask_after(&out, "Content-Length: ", &['\\']);
    mask_after(&out, "CSeq: ", &[' '])
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(300);
    let masked = std::env::args().any(|a| a == "mask");
    // `dump=NAME`: print the (masked) JSON of the runs named NAME instead, one per line.
    let dump: Option<String> = std::env::args().find_map(|a| a.strip_prefix("dump=").map(str::to_string));
    let mut total = std::collections::hash_map::DefaultHasher::new();
    let mut line = |name: &str, rules: cpm_deferral::Rules, t: &cpm_deferral::trace::Trace| {
        let mut j = serde_json::to_string(t).unwrap();
        if masked {
            j = mask(&j);
        }
        if let Some(d) = &dump {
            if d == name {
                println!("{j}");
            }
            return;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(j.as_bytes());
        println!("{name} {} {:016x}", rules.as_str(), h.finish());
        total.write(j.as_bytes());
    };
    for p in cpm_deferral::presets::all() {
        let sc = common::preset_scenario(p);
        for rules in common::BOTH_RULES {
            line(p.name, rules, &cpm_deferral::run(&sc, rules));
        }
    }
    for i in 0..n {
        let seed = common::mix64(0xc0f0_0000 + i);
        let Ok(sc) = cpm_deferral::scenario::Scenario::from_json(&common::gen_scenario(seed)) else { continue };
        for rules in common::BOTH_RULES {
            line(&format!("{seed:#x}"), rules, &cpm_deferral::run(&sc, rules));
        }
    }
    eprintln!("total {:016x}", total.finish());
}
