//! Helpers shared by the integration test files (`mod common;`). Each test file uses a part of
//! them, so unused ones are allowed here.
#![allow(dead_code)]

use cpm_deferral::presets::{self, Preset};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::Trace;
use cpm_deferral::{run, Rules};

/// Both rule sets, post-CR first.
pub const BOTH_RULES: [Rules; 2] = [Rules::PostCr, Rules::PreCr];

/// The scenario of a built-in preset (panics with the parse error: presets must always parse).
pub fn preset_scenario(p: &Preset) -> Scenario {
    Scenario::from_json(p.json).unwrap_or_else(|e| panic!("preset {} does not parse: {e}", p.name))
}

/// Every preset run under both rule sets: (preset name, rules, trace).
pub fn preset_traces() -> Vec<(&'static str, Rules, Trace)> {
    let mut out = Vec::new();
    for p in presets::all() {
        let sc = preset_scenario(p);
        for rules in BOTH_RULES {
            out.push((p.name, rules, run(&sc, rules)));
        }
    }
    out
}

/// `12.345` for 12345 ms.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// The first value of header `name` in the header block of SIP or MSRP wire text (the start line
/// is skipped; the search stops at the first empty line).
pub fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.split("\r\n").skip(1).take_while(|l| !l.is_empty()).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The chat id in an internal label such as `stored #4`, `back to store #4`, `delivered #4`,
/// `lost #4` or `discarded #4`.
pub fn label_chat(label: &str) -> Option<u32> {
    label.rsplit_once('#').and_then(|(_, n)| n.parse().ok())
}
