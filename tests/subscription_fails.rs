//! Issue 11, "Open questions still missing", Q18 (`q18-subscription-fails`; digest §7): the PF's
//! conference subscription to the focus fails. The scenario's `subscription_refused_ms` makes
//! the focus refuse it from that time on: it ends the subscription it holds at its next NOTIFY
//! (Subscription-State terminated, RFC 6665 §4.2.2) and answers every later SUBSCRIBE 403 or
//! 404 (RFC 6665 §4.2.1.2). Each option is run on the same timeline; the tests assert the steps
//! where they differ. Not in the CR: every such step cites the policy.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Step, Trace};
use cpm_deferral::{run, Rules};

const Q18: &str = "policy:q18-subscription-fails";

/// Carol drops (case 1) at 1 s and the PF subscribes; the focus refuses subscriptions from 5 s;
/// Bob leaves at 6 s (the focus's next NOTIFY ends the subscription); Alice writes while Carol
/// is away; Carol registers again at 600 s (path A).
const EVENTS: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 3000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 6000, "kind": "leave", "member": "bob" },
    { "at_ms": 8000, "kind": "message", "from": "alice", "text": "two" },
    { "at_ms": 600000, "kind": "register", "reaction_ms": 500 }
]"#;

fn trace(reason: &str, policies: &str) -> Trace {
    let refused = if reason.is_empty() { String::new() } else { format!(r#""subscription_refused_ms": 5000, "subscription_refused_reason": "{reason}","#) };
    let body = format!(
        r#"{{ "format": "cpm-deferral-scenario", "version": 1, {refused} "policies": {{ "q13-participant-info": "in-session-setup" {policies} }}, "events": {EVENTS} }}"#
    );
    let sc = Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"));
    run(&sc, Rules::PostCr)
}

fn ladder(t: &Trace) -> String {
    t.steps
        .iter()
        .map(|s| format!("{:>8} {:>9} → {:<9} {:<24} [{}]", s.at_ms, &*s.from, &*s.to, &*s.label, s.clauses.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn find<'t>(t: &'t Trace, label: &str) -> Option<&'t Step> {
    t.steps.iter().find(|s| s.label == label)
}

/// When the PF's SUBSCRIBEs leave it (new ones and renewals; not the Expires: 0 ones).
fn pf_subscribes(t: &Trace) -> Vec<u64> {
    t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "SUBSCRIBE" && !s.raw.contains("Expires: 0")).map(|s| s.at_ms).collect()
}

fn cites(s: &Step, c: &str) -> bool {
    s.clauses.contains(&c)
}

fn final_state(t: &Trace) -> PfState {
    t.pf_states.last().map(|s| s.state).unwrap_or(PfState::Idle)
}

/// The focus's side: from the scenario's time its NOTIFY ends the subscription (reason
/// rejected) and every later SUBSCRIBE gets 403.
#[test]
fn the_focus_ends_the_subscription_and_refuses_new_ones() {
    let t = trace("rejected", "");
    let end = t.steps.iter().find(|s| s.label == "NOTIFY" && &*s.from == "cf" && s.raw.contains("terminated")).expect("a terminating NOTIFY");
    assert!(end.at_ms >= 6000 && end.raw.contains("Subscription-State: terminated;reason=rejected"), "{}", end.raw);
    assert!(t.steps.iter().any(|s| &*s.from == "cf" && s.label.starts_with("403")), "\n{}", ladder(&t));
}

/// Default `retry-backoff`: the PF subscribes again after 30, 60, 120 and 240 s, each retry a
/// step citing the policy, then gives up; the roster it gives Carol on path A is marked stale.
#[test]
fn retry_backoff_retries_four_times_with_doubling_delays() {
    let t = trace("rejected", "");
    let subs = pf_subscribes(&t);
    assert_eq!(subs.len(), 5, "the first SUBSCRIBE and four retries\n{}", ladder(&t));
    let failures: Vec<u64> = t.steps.iter().filter(|s| s.label == "subscription failed").map(|s| s.at_ms).collect();
    assert_eq!(failures.len(), 5, "\n{}", ladder(&t));
    // Each retry leaves its back-off after the failure it follows, and cites the policy.
    let gaps: Vec<u64> = subs[1..].iter().zip(&failures).map(|(s, f)| s - f).collect();
    assert_eq!(gaps, [30_000, 60_000, 120_000, 240_000], "\n{}", ladder(&t));
    for s in t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "SUBSCRIBE").skip(1) {
        assert!(cites(s, Q18) && s.policy, "{:?}", s.clauses);
    }
    let failed = find(&t, "subscription failed").expect("the failure step");
    assert!(cites(failed, Q18) && failed.policy);
    assert!(find(&t, "retry later").is_some_and(|s| cites(s, Q18)));
    assert!(find(&t, "give up").is_some_and(|s| cites(s, Q18)), "after four retries it gives up\n{}", ladder(&t));
    assert!(find(&t, "roster stale").is_some_and(|s| cites(s, Q18)), "path A delivers a stale roster and says so\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// `give-up`: no SUBSCRIBE after the failure; the roster stays, stale.
#[test]
fn give_up_subscribes_no_more() {
    let t = trace("rejected", r#", "q18-subscription-fails": "give-up""#);
    assert_eq!(pf_subscribes(&t).len(), 1, "\n{}", ladder(&t));
    assert!(find(&t, "keep stale roster").is_some_and(|s| cites(s, Q18) && s.policy));
    assert!(find(&t, "retry later").is_none());
    assert!(find(&t, "roster stale").is_some(), "\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// `treat-as-group-ended` with `noresource`: the PF takes the conference for gone, ends its leg
/// to the focus (BYE, Reason 410) and Q8 keeps the store for Carol (deliver-then-close).
#[test]
fn treat_as_group_ended_on_noresource_ends_the_leg_and_applies_q8() {
    let t = trace("noresource", r#", "q18-subscription-fails": "treat-as-group-ended""#);
    let g = find(&t, "group taken as ended").unwrap_or_else(|| panic!("\n{}", ladder(&t)));
    assert!(cites(g, Q18) && cites(g, "policy:q8-group-ends"));
    let bye = t.steps.iter().find(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE").expect("the PF's BYE to the focus");
    assert!(cites(bye, Q18) && bye.raw.contains("cause=410"), "{}", bye.raw);
    assert!(t.pf_states.iter().any(|s| s.state == PfState::EndedWithBacklog), "\n{}", ladder(&t));
    assert_eq!(pf_subscribes(&t).len(), 1);
    assert_eq!(t.summary.delivered_from_store, 1, "Q8 deliver-then-close: the store is delivered (Alice's second message came after the leg ended)");
    assert_ne!(final_state(&t), PfState::Deferred);
}

/// `treat-as-group-ended` with `rejected`: nothing says the conference is gone, so it is give-up.
#[test]
fn treat_as_group_ended_on_rejected_is_give_up() {
    let t = trace("rejected", r#", "q18-subscription-fails": "treat-as-group-ended""#);
    assert!(find(&t, "group taken as ended").is_none());
    assert!(find(&t, "keep stale roster").is_some(), "\n{}", ladder(&t));
    assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE"));
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// Without the scenario's refusal nothing of this policy happens, whatever its option.
#[test]
fn no_refusal_no_q18_step() {
    for o in ["retry-backoff", "give-up", "treat-as-group-ended"] {
        let t = trace("", &format!(r#", "q18-subscription-fails": "{o}""#));
        assert!(!t.steps.iter().any(|s| cites(s, Q18)), "{o}\n{}", ladder(&t));
        assert_eq!(t.summary.delivered_from_store, 2);
    }
}

/// The scenario field is checked like the others.
#[test]
fn an_unknown_refusal_reason_is_refused() {
    let body = r#"{ "format": "cpm-deferral-scenario", "version": 1, "subscription_refused_ms": 10, "subscription_refused_reason": "gone", "events": [] }"#;
    let e = Scenario::from_json(body).unwrap_err().to_string();
    assert!(e.contains("subscription_refused_reason") && e.contains("noresource"), "{e}");
}
