//! Issue 11, Q15: Carol has a second device, her tablet (the scenario's `"devices": ["phone",
//! "tablet"]`), a second instance of her client machine with its own `+sip.instance`, Contact,
//! tags and counters, on a lane of its own ("Carol (tablet)"). Which device path A invites is
//! policy `q15-which-device` (not in the CR): each test runs a scripted timeline under each option.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Step, Trace};
use cpm_deferral::{run, Rules};

fn sc(head: &str, policies: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "policies": {{ {policies} }}, "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

fn post(policies: &str, events: &str) -> Trace {
    run(&sc(r#""devices": ["phone", "tablet"],"#, policies, events), Rules::PostCr)
}

fn ladder(t: &Trace) -> String {
    t.steps
        .iter()
        .map(|s| format!("{:>8} {:>12} → {:<12} {:<28} [{}] {:?}", s.at_ms, &*s.from, &*s.to, &*s.label, s.clauses.join(", "), s.pf_state))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The PF's INVITEs to device lane `lane`.
fn invites_to<'a>(t: &'a Trace, lane: &str) -> Vec<&'a Step> {
    t.steps.iter().filter(|s| &*s.from == "scscf" && &*s.to == lane && s.label == "INVITE").collect()
}

fn final_state(t: &Trace) -> PfState {
    t.pf_states.last().map(|s| s.state).unwrap_or(PfState::Idle)
}

/// Her phone leaves the network (its MSRP connection breaks, the PF defers), two messages are
/// stored, then her tablet registers: the S-CSCF's 3rd-party REGISTER names the tablet.
const TABLET_REGISTERS: &str = r#"[
    { "at_ms": 1000, "kind": "unreachable" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 40000, "kind": "register", "device": "tablet" },
    { "at_ms": 60000, "kind": "message", "from": "alice", "text": "three" }
]"#;

#[test]
fn print() {
    for p in ["", r#""q15-which-device": "fork-all""#] {
        let t = post(p, TABLET_REGISTERS);
        println!("== {p}\n{}", ladder(&t));
    }
}
