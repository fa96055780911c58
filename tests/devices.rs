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

const Q15: &str = "policy:q15-which-device";

fn fork_all() -> String {
    r#""q15-which-device": "fork-all""#.to_string()
}

/// The semantic checker finds nothing in a two-device trace.
fn checked(t: &Trace) {
    let f = cpm_deferral::conformance::check(t);
    assert!(f.is_empty(), "{}\n{}", f.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"), ladder(t));
}

/// `"devices": ["phone"]` is the default: the same trace, byte for byte, as no `devices` at all;
/// and without a tablet, `q15-which-device` changes nothing.
#[test]
fn one_device_is_the_default_and_the_policy_needs_two() {
    let events = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 5000, "kind": "register" }
    ]"#;
    let none = run(&sc("", "", events), Rules::PostCr).to_json();
    let phone = run(&sc(r#""devices": ["phone"],"#, "", events), Rules::PostCr).to_json();
    assert_eq!(none, phone);
    let forked = run(&sc("", &fork_all(), events), Rules::PostCr);
    assert!(!forked.steps.iter().any(|s| s.clauses.contains(&Q15)), "{}", ladder(&forked));
    assert!(!forked.lanes.iter().any(|l| &*l.id == "carol-tablet"));
}

/// A scenario refuses a tablet event without a tablet, and an unknown device.
#[test]
fn a_tablet_event_needs_the_tablet() {
    let e = Scenario::from_json(r#"{ "format": "cpm-deferral-scenario", "version": 1, "events": [ { "at_ms": 1, "kind": "register", "device": "tablet" } ] }"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("device"), "{e}");
    let e = Scenario::from_json(r#"{ "format": "cpm-deferral-scenario", "version": 1, "devices": ["tablet"], "events": [] }"#).unwrap_err().to_string();
    assert!(e.contains("devices"), "{e}");
}

/// registering-device (default): the tablet's registration makes Carol reachable again, so path
/// A invites the tablet, by its Contact as the Request-URI; the stored messages reach the tablet;
/// her phone (off the network) gets no INVITE. The 3rd-party REGISTER carries the tablet's
/// REGISTER, whose Contact names its own `+sip.instance`.
#[test]
fn registering_device_invites_the_tablet_that_registered() {
    let t = post("", TABLET_REGISTERS);
    let third = t.steps.iter().find(|s| &*s.from == "scscf" && &*s.to == "carol-pf" && s.label == "REGISTER").expect("3rd-party REGISTER");
    assert!(third.raw.contains("+sip.instance=\"<urn:gsma:imei:35875206-118803-0>\""), "{}", third.raw);
    let tab = invites_to(&t, "carol-tablet");
    assert_eq!(tab.len(), 1, "{}", ladder(&t));
    assert!(tab[0].raw.starts_with("INVITE sip:carol@198.51.100.8:5060;transport=tcp SIP/2.0"), "{}", tab[0].raw);
    assert!(invites_to(&t, "carol").is_empty(), "{}", ladder(&t));
    assert!(!t.steps.iter().any(|s| s.clauses.contains(&Q15)), "{}", ladder(&t));
    // Every message reached Carol (on her tablet) and the PF is active again.
    assert!(t.chats.iter().filter(|c| c.for_carol).all(|c| matches!(c.outcome, Outcome::Live | Outcome::FromStore)), "{:?}", t.chats);
    assert_eq!(final_state(&t), PfState::Active);
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "carol-tablet" && s.label == "SEND"));
    assert!(t.lanes.iter().any(|l| &*l.id == "carol-tablet" && l.label == "Carol (tablet)"));
    checked(&t);
}

/// fork-all: the PF invites both registered devices; the tablet's 2xx comes first, so the PF
/// CANCELs its INVITE to the phone (it has had a 100 Trying from the IMS core, RFC 3261 §9.1)
/// and acknowledges the phone side's later failure. The delivery is on the tablet as before.
#[test]
fn fork_all_invites_both_and_cancels_the_loser() {
    let t = post(&fork_all(), TABLET_REGISTERS);
    assert_eq!(invites_to(&t, "carol-tablet").len(), 1, "{}", ladder(&t));
    let phone = invites_to(&t, "carol");
    assert_eq!(phone.len(), 1, "{}", ladder(&t));
    assert!(phone[0].raw.starts_with("INVITE sip:carol@198.51.100.7:5060;transport=tcp SIP/2.0"), "{}", phone[0].raw);
    let cancel = t.steps.iter().find(|s| &*s.from == "carol-pf" && s.label == "CANCEL").expect("CANCEL");
    assert!(cancel.clauses.contains(&Q15) && cancel.clauses.contains(&"RFC 3261 §9.1"), "{}", ladder(&t));
    assert!(cancel.raw.starts_with("CANCEL sip:carol@198.51.100.7:5060;transport=tcp SIP/2.0"), "{}", cancel.raw);
    assert!(t.chats.iter().filter(|c| c.for_carol).all(|c| matches!(c.outcome, Outcome::Live | Outcome::FromStore)), "{:?}", t.chats);
    assert_eq!(final_state(&t), PfState::Active);
    checked(&t);
}

/// Both devices on the network: her phone ends its session (480), then registers again. Under
/// registering-device only the phone is invited; under fork-all the tablet rings too, the
/// phone's 2xx (its INVITE went first) wins and the PF CANCELs the tablet's INVITE; the tablet's
/// 2xx crosses that CANCEL (both answer after the same delay), so the PF confirms it with ACK and
/// ends it with BYE (RFC 3261 §13.2.2.4, §15).
#[test]
fn fork_all_cancels_the_ringing_tablet_when_the_phone_answers_first() {
    let events = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 5000, "kind": "register" }
    ]"#;
    let one = post("", events);
    assert_eq!(invites_to(&one, "carol").len(), 1, "{}", ladder(&one));
    assert!(invites_to(&one, "carol-tablet").is_empty(), "{}", ladder(&one));
    checked(&one);
    let t = post(&fork_all(), events);
    assert_eq!(invites_to(&t, "carol").len(), 1, "{}", ladder(&t));
    assert_eq!(invites_to(&t, "carol-tablet").len(), 1, "{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == "CANCEL" && s.clauses.contains(&Q15)), "{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "scscf" && &*s.to == "carol-tablet" && s.label == "BYE" && s.clauses.contains(&Q15)), "{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "carol-tablet" && s.label == "200 OK" && s.clauses.contains(&"RFC 3261 §15.1.2")), "{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND"), "{}", ladder(&t));
    assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "carol-tablet" && s.label == "SEND"), "{}", ladder(&t));
    checked(&t);
}

/// One device de-registers while the other stays registered: Carol is still registered, so
/// dereg-while-deferred end-deferral does not end the deferral (our reading).
#[test]
fn one_device_deregistering_leaves_carol_registered() {
    let events = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 5000, "kind": "deregister", "device": "tablet" }
    ]"#;
    let t = post(r#""dereg-while-deferred": "end-deferral""#, events);
    assert!(t.steps.iter().any(|s| s.label == "one device de-registered"), "{}", ladder(&t));
    assert_eq!(final_state(&t), PfState::Deferred, "{}", ladder(&t));
    checked(&t);
}

mod common;
use common::ladder;

/// The random timelines (tests/common/mod.rs) reach Carol's tablet under both options of
/// q15-which-device: path A to the tablet, and a fork to both devices.
#[test]
fn random_timelines_reach_both_options() {
    let (mut to_tablet, mut forked) = (0, 0);
    for i in 0..3000u64 {
        let Ok(s) = Scenario::from_json(&common::gen_scenario(common::mix64(0xde71_ce00 + i))) else { continue };
        if !s.tablet {
            continue;
        }
        let t = run(&s, Rules::PostCr);
        to_tablet += usize::from(!invites_to(&t, "carol-tablet").is_empty());
        forked += usize::from(t.steps.iter().any(|s| s.label == "INVITE" && s.clauses.contains(&Q15)));
    }
    assert!(to_tablet > 0 && forked > 0, "to the tablet {to_tablet}, forked {forked}");
}

const Q9: &str = "policy:q9-leave-elsewhere";

/// Carol drops on her phone (480), two messages are stored, then she leaves the chat from her
/// tablet, which has no session: a REFER `method=BYE` to the group, through her PF.
const LEAVE_FROM_TABLET: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 10000, "kind": "leave", "member": "carol", "device": "tablet" },
    { "at_ms": 20000, "kind": "message", "from": "alice", "text": "three" },
    { "at_ms": 30000, "kind": "register" }
]"#;

/// The signal: the tablet's REFER carries `Refer-To: <her AOR>;method=BYE`, `Refer-Sub: false`
/// and the voluntary cause, and goes through the IMS core to her PF.
#[test]
fn a_leave_from_the_tablet_is_a_refer_method_bye() {
    let t = post("", LEAVE_FROM_TABLET);
    let refer = t.steps.iter().find(|s| &*s.from == "carol-tablet" && s.label == "REFER").expect("REFER");
    assert_eq!(&*refer.to, "scscf");
    for h in ["Refer-To: <sip:carol@ims.example.net>;method=BYE\r\n", "Refer-Sub: false\r\n", "Reason: SIP;cause=200"] {
        assert!(refer.raw.contains(h), "{h}\n{}", refer.raw);
    }
    assert!(t.steps.iter().any(|s| &*s.from == "scscf" && &*s.to == "carol-pf" && s.label == "REFER"), "{}", ladder(&t));
    checked(&t);
}

/// end-deferral (default): the PF accepts (202), leaves the group with cause 200, and the
/// stored messages are discarded (she left on purpose); her phone's REGISTER later starts nothing.
#[test]
fn q9_end_deferral_leaves_the_group_for_her() {
    let t = post("", LEAVE_FROM_TABLET);
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == "202 Accepted" && s.clauses.contains(&Q9)), "{}", ladder(&t));
    let bye = t.steps.iter().find(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE").expect("BYE to the focus");
    assert!(bye.raw.contains("Reason: SIP;cause=200"), "{}", bye.raw);
    assert_eq!(final_state(&t), PfState::Left, "{}", ladder(&t));
    assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == "INVITE"), "no path A\n{}", ladder(&t));
    assert_eq!(t.summary.lost, 0, "{}", ladder(&t));
    assert!(t.chats.iter().filter(|c| c.text != "three").all(|c| c.outcome == Outcome::Discarded), "{:?}", t.chats);
    checked(&t);
}

/// keep-deferring: the PF declines (403) and keeps storing; her phone's REGISTER then starts
/// path A and the store is delivered to the phone.
#[test]
fn q9_keep_deferring_declines_and_delivers_later() {
    let t = post(r#""q9-leave-elsewhere": "keep-deferring""#, LEAVE_FROM_TABLET);
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label.starts_with("403") && s.clauses.contains(&Q9)), "{}", ladder(&t));
    assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE"), "{}", ladder(&t));
    assert_eq!(invites_to(&t, "carol").len(), 1, "{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND"), "{}", ladder(&t));
    checked(&t);
}

/// The random timelines reach both options of q9-leave-elsewhere: a tablet's leave while the
/// PF defers, declined and accepted.
#[test]
fn random_timelines_reach_both_q9_options() {
    let (mut accepted, mut declined) = (0, 0);
    for i in 0..3000u64 {
        let Ok(s) = Scenario::from_json(&common::gen_scenario(common::mix64(0x0009_1eaf + i))) else { continue };
        if !s.tablet {
            continue;
        }
        let t = run(&s, Rules::PostCr);
        let deferred = |s: &Step| matches!(s.pf_state, PfState::Deferred | PfState::DeliveringA);
        accepted += usize::from(t.steps.iter().any(|s| s.label == "202 Accepted" && s.clauses.contains(&Q9) && deferred(s)));
        declined += usize::from(t.steps.iter().any(|s| s.label.starts_with("403") && s.clauses.contains(&Q9) && deferred(s)));
    }
    assert!(accepted > 0 && declined > 0, "accepted {accepted}, declined {declined}");
}
