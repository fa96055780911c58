//! Q20 (issue 11, digest §7 Q20): Carol re-joins with another Contribution-ID or
//! Conversation-ID than her session's (the scenario's `ids` on a `rejoin`). The CR's re-join has
//! "the same Conversation-ID and Contribution-ID" (8.3.2.9); what the PF does with other IDs is
//! policy `q20-other-contribution-id` (not in the CR). Each test is a scripted timeline run
//! under the options it tells apart; the judge reads the IDs from a capture.

mod common;
use common::ladder;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};

fn scenario(top: &str, policies: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {top} "policies": {{ {policies} }}, "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

fn post(policies: &str, events: &str) -> Trace {
    run(&scenario("", policies, events), Rules::PostCr)
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.split("\r\n").take_while(|l| !l.is_empty()).skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn sent<'a>(t: &'a Trace, from: &str, to: &str, label: &str) -> Vec<&'a Step> {
    t.steps.iter().filter(|s| s.kind == StepKind::Message && &*s.from == from && &*s.to == to && s.label == label).collect()
}

fn keys(t: &Trace) -> Vec<&str> {
    t.steps.iter().filter_map(|s| s.key.as_deref()).collect()
}

/// Every chat reached Carol (live or from the store).
fn delivered(t: &Trace) -> bool {
    t.chats.iter().all(|c| matches!(c.outcome, Outcome::Live | Outcome::FromStore))
}

fn noted(t: &Trace, label: &str) -> bool {
    t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == label)
}

const POLICY: &str = "policy:q20-other-contribution-id";
const SESSION_CONV: &str = "8a3e2b1c-4d5f-4c11-9b0e-6f7a1c2d3e4f";
const SESSION_CONTRIB: &str = "2f4d6e8a-1b3c-4d5e-8f90-a1b2c3d4e5f6";

/// Carol drops (case 1), two messages are stored, she re-joins with `ids`, a third comes.
fn rejoin(ids: &str) -> String {
    format!(
        r#"[
        {{ "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" }},
        {{ "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" }},
        {{ "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" }},
        {{ "at_ms": 10000, "kind": "rejoin", "ids": "{ids}" }},
        {{ "at_ms": 20000, "kind": "message", "from": "alice", "text": "three" }}
    ]"#
    )
}

/// The wire: the re-join INVITE carries what the scenario says; `same` is the session's IDs.
#[test]
fn the_rejoin_invite_carries_the_ids_the_scenario_gives() {
    for (ids, conv_same, contrib_same) in [("same", true, true), ("new-contribution", true, false), ("new-conversation", false, false)] {
        let t = post("", &rejoin(ids));
        let inv = sent(&t, "carol", "scscf", "INVITE");
        assert_eq!(inv.len(), 1, "{ids}\n{}", ladder(&t));
        assert_eq!(header(&inv[0].raw, "Conversation-ID") == Some(SESSION_CONV), conv_same, "{ids}: {}", inv[0].raw);
        assert_eq!(header(&inv[0].raw, "Contribution-ID") == Some(SESSION_CONTRIB), contrib_same, "{ids}: {}", inv[0].raw);
    }
    // An unknown spelling is refused with the allowed ones.
    let body = r#"{ "format": "cpm-deferral-scenario", "version": 1, "events": [ { "at_ms": 1, "kind": "rejoin", "ids": "other" } ] }"#;
    let e = Scenario::from_json(body).expect_err("unknown ids").to_string();
    assert!(e.contains("same, new-contribution, new-conversation"), "{e}");
}

/// Default `new-session`: not path B, a new session the PF answers itself; the stored messages
/// are delivered over it after its set-up. `treat-as-rejoin`: the CR's path B. Both deliver.
#[test]
fn new_session_delivers_over_the_new_session_and_treat_as_rejoin_is_path_b() {
    for ids in ["new-contribution", "new-conversation"] {
        let t = post("", &rejoin(ids));
        assert!(noted(&t, "not a re-join: new session"), "{ids}\n{}", ladder(&t));
        let ok = sent(&t, "carol-pf", "scscf", "200 OK").into_iter().find(|s| s.clauses.contains(&POLICY)).unwrap_or_else(|| panic!("{}", ladder(&t)));
        assert!(ok.at_ms >= 10_000);
        assert!(keys(&t).iter().any(|k| k.contains("New session")), "{:?}", keys(&t));
        assert!(!keys(&t).iter().any(|k| k.starts_with("Path B")), "{:?}", keys(&t));
        assert!(delivered(&t), "{ids}: {:?}\n{}", t.chats, ladder(&t));
        // The focus sees no new INVITE: the PF keeps its leg (our choice).
        assert!(sent(&t, "carol-pf", "cf", "INVITE").is_empty(), "{}", ladder(&t));
        let t = post(r#""q20-other-contribution-id": "treat-as-rejoin""#, &rejoin(ids));
        assert!(noted(&t, "other IDs ignored"), "{}", ladder(&t));
        assert!(!noted(&t, "not a re-join: new session"));
        assert!(keys(&t).iter().any(|k| k.starts_with("Path B")), "{:?}", keys(&t));
        assert!(delivered(&t), "{:?}", t.chats);
    }
    // The session's own IDs are the CR's re-join under every option: no Q20 step.
    for opt in ["new-session", "new-session-no-delivery", "treat-as-rejoin"] {
        let t = post(&format!(r#""q20-other-contribution-id": "{opt}""#), &rejoin("same"));
        assert!(!t.steps.iter().any(|s| s.clauses.contains(&POLICY)), "{opt}\n{}", ladder(&t));
        assert!(delivered(&t), "{opt}");
    }
}

/// `new-session-no-delivery`: the new session starts empty; the two stored messages are lost
/// (lost steps), the live one after the re-join reaches her.
#[test]
fn new_session_no_delivery_loses_the_store() {
    let t = post(r#""q20-other-contribution-id": "new-session-no-delivery""#, &rejoin("new-contribution"));
    let outcomes: Vec<Outcome> = t.chats.iter().map(|c| c.outcome).collect();
    assert_eq!(outcomes, [Outcome::Lost, Outcome::Lost, Outcome::Live], "{}", ladder(&t));
    let lost: Vec<&Step> = t.steps.iter().filter(|s| s.kind == StepKind::Lost).collect();
    assert_eq!(lost.len(), 2);
    assert!(lost.iter().all(|s| s.clauses.contains(&POLICY) && s.at_ms == 10_010), "{}", ladder(&t));
    assert_eq!(t.pf_states.last().map(|s| s.state), Some(PfState::Active));
}

/// Path A under way (the PF's INVITE rings, unanswered) and Q1 prefer-own-invite: the CR's
/// re-join gets 486 (treat-as-rejoin); a new session is no re-join, so Q1 does not apply: the
/// PF cancels its INVITE and answers the new session (new-session).
#[test]
fn a_new_session_is_not_q1s_rejoin() {
    let events = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 5000, "kind": "register", "reaction_ms": 0 },
        { "at_ms": 6000, "kind": "rejoin", "ids": "new-contribution" }
    ]"#;
    let sc = |opt: &str| {
        scenario(r#""answer_ms": 8000,"#, &format!(r#""q1-rejoin-after-invite": "prefer-own-invite", "q20-other-contribution-id": "{opt}""#), events)
    };
    let t = run(&sc("treat-as-rejoin"), Rules::PostCr);
    assert_eq!(sent(&t, "carol-pf", "scscf", "486 Busy Here").len(), 1, "{}", ladder(&t));
    assert!(sent(&t, "carol-pf", "scscf", "CANCEL").is_empty());
    let t = run(&sc("new-session"), Rules::PostCr);
    assert!(sent(&t, "carol-pf", "scscf", "486 Busy Here").is_empty(), "{}", ladder(&t));
    let cancel = sent(&t, "carol-pf", "scscf", "CANCEL");
    assert_eq!(cancel.len(), 1, "{}", ladder(&t));
    assert!(cancel[0].clauses.contains(&POLICY));
    assert!(delivered(&t), "{:?}\n{}", t.chats, ladder(&t));
}

/// The PF acts on the IDs that reached it: the judge reads them from a capture, maps the
/// capture's session IDs to the machine's, and finds the option the PF ran with.
#[cfg(feature = "capture")]
#[test]
fn the_judge_reads_the_ids_and_finds_the_option() {
    use cpm_deferral::export::pcap;
    use cpm_deferral::judge::{judge, Options, Verdict};
    for opt in ["new-session", "new-session-no-delivery", "treat-as-rejoin"] {
        let found = opt;
        let sc = scenario(r#""setup": "full","#, &format!(r#""q20-other-contribution-id": "{opt}""#), &rejoin("new-contribution").replace("1000,", "1900,"));
        let t = run(&sc, Rules::PostCr);
        let cap = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap export");
        let j = judge(&cap, Options { pf: None, cf: None, rules: Rules::PostCr }).expect("judged");
        assert_eq!(j.verdict, Verdict::Pass, "{opt}: {:?}", j.deviations);
        let q20 = &j.policies["q20-other-contribution-id"];
        assert!(q20.contains(&found), "{opt}: {q20:?}");
        // Only the discarding option shows on the wire here (the other two deliver alike).
        assert_eq!(q20.len() == 1, opt == "new-session-no-delivery", "{opt}: {q20:?}");
    }
}
