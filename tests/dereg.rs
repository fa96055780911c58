//! Issue 11: Carol de-registers (REGISTER with `Expires: 0`, RFC 3261 §10.2.2) while the PF holds
//! a deferral for her. The S-CSCF's 3rd-party REGISTER then says `Expires: 0` (3GPP TS 24.229
//! §5.4.1.7): it never starts path A. What follows is policy `dereg-while-deferred` (not in the
//! CR); each test is a scripted timeline run under each option.

mod common;
use common::ladder;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};

fn post(policies: &str, events: &str) -> Trace {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, "policies": {{ {policies} }}, "events": {events} }}"#);
    let sc = Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"));
    run(&sc, Rules::PostCr)
}

fn find<'a>(t: &'a Trace, label: &str) -> Option<&'a Step> {
    t.steps.iter().find(|s| s.label == label)
}

/// The PF's own INVITEs towards Carol (path A).
fn pf_invites(t: &Trace) -> usize {
    t.steps.iter().filter(|s| &*s.from == "carol-pf" && &*s.to != "cf" && s.label == "INVITE").count()
}

fn final_state(t: &Trace) -> PfState {
    t.pf_states.last().map(|s| s.state).unwrap_or(PfState::Idle)
}

const POLICY: &str = "policy:dereg-while-deferred";

/// Carol drops (case 1), two messages are stored, she de-registers, a third message comes.
const DEREG: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 10000, "kind": "deregister" },
    { "at_ms": 20000, "kind": "message", "from": "alice", "text": "three" }
]"#;

/// The wire: Carol's REGISTER and the S-CSCF's 3rd-party REGISTER both say `Expires: 0`, and the
/// PF's 200 cites RFC 3261 §10.2.2.
#[test]
fn a_deregistration_is_expires_0_on_the_wire() {
    let t = post("", DEREG);
    let regs: Vec<&Step> = t.steps.iter().filter(|s| s.label == "REGISTER").collect();
    assert_eq!(regs.len(), 2, "Carol's and the S-CSCF's\n{}", ladder(&t));
    for r in &regs {
        assert!(r.raw.contains("\r\nExpires: 0\r\n"), "{}", r.raw);
    }
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == "200 OK" && s.clauses.contains(&"RFC 3261 §10.2.2")), "\n{}", ladder(&t));
}

/// Default `keep-deferring`: no path A; the store is kept and grows; a step says so.
#[test]
fn keep_deferring_stores_on_and_never_invites() {
    let t = post("", DEREG);
    assert_eq!(pf_invites(&t), 0, "a de-registered user is not invited\n{}", ladder(&t));
    let s = find(&t, "de-registered: still deferred").unwrap_or_else(|| panic!("the step\n{}", ladder(&t)));
    assert!(s.clauses.contains(&POLICY) && s.policy, "{:?}", s.clauses);
    assert_eq!((t.summary.still_stored, t.summary.lost), (3, 0));
    assert_eq!(final_state(&t), PfState::Deferred);
}

/// `keep-deferring`: the next registration is the CR's path A and delivers the whole store.
#[test]
fn keep_deferring_then_a_register_delivers() {
    let ev = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 10000, "kind": "deregister" },
        { "at_ms": 20000, "kind": "message", "from": "alice", "text": "two" },
        { "at_ms": 30000, "kind": "register", "reaction_ms": 500 }
    ]"#;
    let t = post("", ev);
    assert_eq!(pf_invites(&t), 1, "\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// `end-deferral`: the PF leaves the group for Carol (BYE with Reason 480), each stored message
/// is a lost step citing the policy, and the later message is not stored.
#[test]
fn end_deferral_leaves_the_group_and_loses_the_store() {
    let t = post(r#""dereg-while-deferred": "end-deferral""#, DEREG);
    assert_eq!(pf_invites(&t), 0, "\n{}", ladder(&t));
    let e = find(&t, "de-registered: deferral ends").unwrap_or_else(|| panic!("the step\n{}", ladder(&t)));
    assert!(e.clauses.contains(&POLICY) && e.policy);
    let bye =
        t.steps.iter().find(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE").unwrap_or_else(|| panic!("BYE to the focus\n{}", ladder(&t)));
    assert!(bye.raw.contains("Reason: SIP;cause=480") && bye.clauses.contains(&POLICY), "{}", bye.raw);
    let lost: Vec<&Step> = t.steps.iter().filter(|s| s.kind == StepKind::Lost && s.at_ms == e.at_ms).collect();
    assert_eq!(lost.len(), 2, "\n{}", ladder(&t));
    assert!(lost.iter().all(|s| s.clauses.contains(&POLICY)));
    assert_eq!(t.summary.still_stored, 0);
    assert!(t.summary.lost >= 2);
    assert_eq!(final_state(&t), PfState::Left);
}

/// A de-registration inside the reaction delay of an earlier REGISTER calls that path A off
/// (under either option): she is not registered when the INVITE would leave.
#[test]
fn a_deregistration_in_the_reaction_delay_calls_path_a_off() {
    let ev = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 20000, "kind": "register", "reaction_ms": 5000 },
        { "at_ms": 22000, "kind": "deregister" }
    ]"#;
    for p in ["", r#""dereg-while-deferred": "end-deferral""#] {
        let t = post(p, ev);
        assert_eq!(pf_invites(&t), 0, "{p}\n{}", ladder(&t));
    }
}

/// Policy still-registered `invite-after-60s`: a de-registration ends that wait, so no INVITE.
#[test]
fn a_deregistration_ends_the_still_registered_wait() {
    let t = post(r#""still-registered": "invite-after-60s""#, DEREG);
    assert!(find(&t, "invite when registered").is_some(), "the wait had started\n{}", ladder(&t));
    assert_eq!(pf_invites(&t), 0, "\n{}", ladder(&t));
}

/// With nothing deferred (Carol in session), a de-registration changes nothing for the PF.
#[test]
fn a_deregistration_with_nothing_deferred_changes_nothing() {
    let ev = r#"[
        { "at_ms": 1000, "kind": "deregister" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" }
    ]"#;
    let t = post(r#""dereg-while-deferred": "end-deferral""#, ev);
    let s = find(&t, "de-registered").unwrap_or_else(|| panic!("the step\n{}", ladder(&t)));
    assert!(!s.policy, "{:?}", s.clauses);
    assert_eq!(final_state(&t), PfState::Active, "\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_live, 1);
}

/// The judge reads a captured `Expires: 0` as a de-registration, not as path A: a capture of
/// either option judged against its own rules conforms (before, the judge's model would have
/// invited Carol and found the PF's silence a deviation).
#[test]
fn the_judge_reads_a_captured_deregistration_as_one() {
    use cpm_deferral::export::pcap;
    use cpm_deferral::judge::{judge, Options, Verdict};
    for p in ["", r#""dereg-while-deferred": "end-deferral""#] {
        let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, "policies": {{ {p} }}, "events": {DEREG} }}"#);
        let sc = Scenario::from_json(&body).expect("scenario");
        let t = run(&sc, Rules::PostCr);
        let bytes = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap export");
        let j = judge(&bytes, Options { pf: None, cf: None, rules: Rules::PostCr }).expect("judged");
        assert_eq!(j.verdict, Verdict::Pass, "{p}: {:?}\n{}", j.deviations, cpm_deferral::judge::to_text(&j));
    }
}
