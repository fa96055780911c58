//! Issue 11, "Open questions still missing": Q2 (when the PF has reacted to the 3rd-party
//! REGISTER), Q4 (a 1xx, then silence), Q10 (a store cap and what happens at it) and a deferral
//! that starts while Carol is still registered. Each is a policy (not in the CR); each test is a
//! scripted timeline run under each option, asserting the steps where the options differ.

mod common;
use common::ladder;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};

fn scenario(head: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

/// Runs `events` post-CR with `policies` (a JSON object's members) and the rest of `head`.
fn post(head: &str, policies: &str, events: &str) -> Trace {
    run(&scenario(&format!(r#"{head} "policies": {{ {policies} }},"#), events), Rules::PostCr)
}

fn find(t: &Trace, f: impl Fn(&Step) -> bool) -> Option<&Step> {
    t.steps.iter().find(|s| f(s))
}

/// The PF's own INVITEs towards Carol (path A), as they leave it.
fn pf_invites(t: &Trace) -> Vec<u64> {
    t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "INVITE").map(|s| s.at_ms).collect()
}

fn pf_sends(t: &Trace, label: &str) -> usize {
    t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == label).count()
}

fn cites(s: &Step, c: &str) -> bool {
    s.clauses.contains(&c)
}

fn final_state(t: &Trace) -> PfState {
    t.pf_states.last().map(|s| s.state).unwrap_or(PfState::Idle)
}

// ---------------------------------------------------------------------------------------- Q2

/// Carol drops (case 1), registers again (the PF's reaction takes 5 s) and re-joins 2 s later,
/// inside the reaction delay.
const Q2_IN_DELAY: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 20000, "kind": "register", "reaction_ms": 5000 },
    { "at_ms": 22000, "kind": "rejoin" }
]"#;

/// Default `invite-sent`: the re-join during the reaction delay is the CR's path B: no INVITE.
#[test]
fn q2_invite_sent_a_rejoin_in_the_reaction_delay_is_path_b() {
    let t = post("", "", Q2_IN_DELAY);
    assert!(pf_invites(&t).is_empty(), "path B: no INVITE of the PF's own\n{}", ladder(&t));
    let b = find(&t, |s| s.label == "no INVITE (path B)").expect("the path-B step");
    assert!(cites(b, "8.3.2.9") && !b.policy, "path B is the CR's own: {:?}", b.clauses);
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// `register-received` with Q1 `prefer-rejoin`: the re-join comes after reacting, so it is not
/// path B; the PF gives its reaction up (a step citing both policies) and still sends no INVITE.
#[test]
fn q2_register_received_makes_the_same_rejoin_a_q1_case() {
    let t = post("", r#""q2-reacted-when": "register-received""#, Q2_IN_DELAY);
    assert!(find(&t, |s| s.label == "no INVITE (path B)").is_none(), "not the CR's path B\n{}", ladder(&t));
    let g = find(&t, |s| s.label == "reaction given up").expect("the PF gives its reaction up");
    assert!(cites(g, "policy:q2-reacted-when") && cites(g, "policy:q1-rejoin-after-invite") && g.policy);
    assert!(pf_invites(&t).is_empty(), "prefer-rejoin: the INVITE never leaves");
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// `register-received` with Q1 `prefer-own-invite`: the re-join is turned away with 486 and the
/// PF's INVITE goes at the end of its delay (under `invite-sent` the same timeline is path B).
#[test]
fn q2_register_received_with_prefer_own_invite_turns_the_rejoin_away() {
    let t = post("", r#""q2-reacted-when": "register-received", "q1-rejoin-after-invite": "prefer-own-invite""#, Q2_IN_DELAY);
    let busy = find(&t, |s| &*s.from == "carol-pf" && s.label.starts_with("486")).unwrap_or_else(|| panic!("486 to the re-join\n{}", ladder(&t)));
    assert!(cites(busy, "policy:q2-reacted-when"));
    let delay = find(&t, |s| s.label == "reaction delay").expect("the reaction delay starts");
    assert!(cites(delay, "policy:q2-reacted-when"));
    assert_eq!(pf_invites(&t), vec![delay.at_ms + 5000], "the PF's INVITE leaves when its reaction delay ends\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 2, "delivered over the PF's own session");
    let base = post("", r#""q1-rejoin-after-invite": "prefer-own-invite""#, Q2_IN_DELAY);
    assert!(pf_invites(&base).is_empty() && pf_sends(&base, "486 Busy Here") == 0, "invite-sent: the same timeline is path B");
}

/// Carol's client rings for 10 s; she re-joins 5 s after the PF's INVITE left (Q1 `prefer-own-
/// invite`, so the difference is Q2's alone).
const Q2_WHILE_RINGING: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 20000, "kind": "register", "reaction_ms": 500 },
    { "at_ms": 25000, "kind": "rejoin" }
]"#;

/// `invite-answered`: the PF has not reacted until its INVITE is answered, so a re-join while it
/// rings is path B: the PF cancels its INVITE and answers the re-join; under `invite-sent` Q1
/// `prefer-own-invite` turns the same re-join away.
#[test]
fn q2_invite_answered_a_rejoin_while_the_invite_rings_is_still_path_b() {
    let head = r#""answer_ms": 10000,"#;
    let sent = post(head, r#""q1-rejoin-after-invite": "prefer-own-invite""#, Q2_WHILE_RINGING);
    assert!(find(&sent, |s| &*s.from == "carol-pf" && s.label.starts_with("486")).is_some(), "invite-sent: Q1 turns it away\n{}", ladder(&sent));
    assert_eq!(pf_sends(&sent, "CANCEL"), 0);

    let t = post(head, r#""q1-rejoin-after-invite": "prefer-own-invite", "q2-reacted-when": "invite-answered""#, Q2_WHILE_RINGING);
    assert!(find(&t, |s| &*s.from == "carol-pf" && s.label.starts_with("486")).is_none(), "no 486\n{}", ladder(&t));
    let cancel = find(&t, |s| &*s.from == "carol-pf" && s.label == "CANCEL").unwrap_or_else(|| panic!("the PF cancels its INVITE\n{}", ladder(&t)));
    assert!(cites(cancel, "policy:q2-reacted-when"));
    assert!(find(&t, |s| s.kind == StepKind::State && s.pf_state == PfState::DeliveringB && s.at_ms >= 25000).is_some(), "path B\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 1);
}

// ---------------------------------------------------------------------------------------- Q4

/// Carol drops, registers again, and her client rings for ever when the PF invites her.
const Q4_NEVER: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 10000, "kind": "register", "reaction_ms": 500 },
    { "at_ms": 200000, "kind": "message", "from": "bob", "text": "two" }
]"#;

/// Default `no-answer-60s`: 60 s after the 180 the PF cancels and stays deferred (handled as a
/// timeout); `no-answer-180s` waits three minutes; `never` keeps ringing to the end.
#[test]
fn q4_each_option_gives_the_ringing_invite_up_at_its_own_time_or_never() {
    let head = r#""answer_ms": "never","#;
    let at_ringing = |t: &Trace| find(t, |s| s.label == "180 Ringing" && &*s.to == "carol-pf").map(|s| s.arrive_ms).expect("Carol's client rings");
    for (option, after) in [("no-answer-60s", Some(60_000)), ("no-answer-180s", Some(180_000)), ("never", None)] {
        let t = post(head, &format!(r#""q4-ringing-no-answer": "{option}""#), Q4_NEVER);
        let ring = at_ringing(&t);
        let cancel = find(&t, |s| &*s.from == "carol-pf" && s.label == "CANCEL");
        match after {
            Some(ms) => {
                let fired = find(&t, |s| s.label == "no answer").unwrap_or_else(|| panic!("{option}: the no-answer timer fires\n{}", ladder(&t)));
                assert_eq!(fired.at_ms, ring + ms, "{option}");
                assert!(cites(fired, "policy:q4-ringing-no-answer") && fired.policy);
                let c = cancel.unwrap_or_else(|| panic!("{option}: CANCEL"));
                assert!(cites(c, "policy:q4-ringing-no-answer"));
                let back = find(&t, |s| s.kind == StepKind::State && s.at_ms == fired.at_ms && s.pf_state == PfState::Deferred).expect("deferred again");
                assert!(cites(back, "policy:q4-ringing-no-answer"), "{:?}", back.clauses);
                // Bob's later message is stored while she is away, not sent into a ringing session.
                assert_eq!(t.summary.still_stored, 2, "{option}\n{}", ladder(&t));
                assert_eq!(final_state(&t), PfState::Deferred);
            }
            None => {
                assert!(cancel.is_none() && find(&t, |s| s.label == "no answer").is_none(), "never: no give-up\n{}", ladder(&t));
                assert_eq!(final_state(&t), PfState::DeliveringA, "never: the INVITE is still pending at the end");
                assert_eq!(t.summary.still_stored, 2);
            }
        }
    }
}

/// The CF invites Carol (setup `cf_invites`) and her client rings for ever: under the default
/// the PF answers the focus itself after 60 s and defers (case 2 by Q4); under `never` Carol is
/// never in the group and the PF never answers the focus.
#[test]
fn q4_a_cf_invitation_that_rings_for_ever_defers_only_with_a_no_answer_timer() {
    let head = r#""setup": "cf_invites", "answer_ms": "never","#;
    let ev = r#"[ { "at_ms": 90000, "kind": "message", "from": "alice", "text": "one" } ]"#;
    let t = post(head, "", ev);
    let ok =
        find(&t, |s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "200 OK").unwrap_or_else(|| panic!("the PF answers the focus\n{}", ladder(&t)));
    assert!(cites(ok, "policy:q4-ringing-no-answer"), "{:?}", ok.clauses);
    assert_eq!(t.summary.stored, 1, "Alice's message is stored for Carol\n{}", ladder(&t));
    let never = post(head, r#""q4-ringing-no-answer": "never""#, ev);
    assert!(find(&never, |s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "200 OK").is_none(), "never: no answer to the focus\n{}", ladder(&never));
    assert_eq!(never.summary.stored, 0);
}

// ---------------------------------------------------------------------------------------- Q10

/// Carol drops, seven messages come while she is away, she re-joins.
const Q10_SEVEN: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "m1" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "m2" },
    { "at_ms": 4000, "kind": "message", "from": "alice", "text": "m3" },
    { "at_ms": 5000, "kind": "message", "from": "bob", "text": "m4" },
    { "at_ms": 6000, "kind": "message", "from": "alice", "text": "m5" },
    { "at_ms": 7000, "kind": "message", "from": "bob", "text": "m6" },
    { "at_ms": 8000, "kind": "message", "from": "alice", "text": "m7" },
    { "at_ms": 20000, "kind": "rejoin" }
]"#;

/// The texts Carol got from the store, in order, and those lost.
fn outcomes(t: &Trace) -> (Vec<String>, Vec<String>) {
    let mut got: Vec<_> = t.chats.iter().filter(|c| c.outcome == Outcome::FromStore).collect();
    got.sort_by_key(|c| c.delivered_ms);
    let lost = t.chats.iter().filter(|c| c.outcome == Outcome::Lost).map(|c| c.text.clone()).collect();
    (got.into_iter().map(|c| c.text.clone()).collect(), lost)
}

/// Each lost message has its `lost #N` step citing Q10, and the summary counts them as lost.
fn lost_steps_cite_q10(t: &Trace) {
    for c in t.chats.iter().filter(|c| c.outcome == Outcome::Lost) {
        let s = find(t, |s| s.kind == StepKind::Lost && s.chat == Some(c.id)).unwrap_or_else(|| panic!("a lost step for #{}\n{}", c.id, ladder(t)));
        assert!(s.clauses.iter().any(|x| x.starts_with("policy:q10-")), "{:?}", s.clauses);
    }
    assert_eq!(t.summary.lost as usize, t.chats.iter().filter(|c| c.outcome == Outcome::Lost).count());
}

#[test]
fn q10_unlimited_delivers_all_seven() {
    let t = post("", "", Q10_SEVEN);
    let (got, lost) = outcomes(&t);
    assert_eq!(got, ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    assert!(lost.is_empty());
}

#[test]
fn q10_drop_oldest_loses_the_first_two() {
    let t = post("", r#""q10-store-cap": "5-messages""#, Q10_SEVEN);
    let (got, lost) = outcomes(&t);
    assert_eq!(got, ["m3", "m4", "m5", "m6", "m7"], "\n{}", ladder(&t));
    assert_eq!(lost, ["m1", "m2"]);
    lost_steps_cite_q10(&t);
    assert_eq!((t.summary.stored, t.summary.lost, t.summary.delivered_from_store), (7, 2, 5));
    assert!(t.steps.iter().all(|s| s.queue_len <= 5), "the store never holds more than its cap");
}

#[test]
fn q10_drop_newest_loses_the_last_two() {
    let t = post("", r#""q10-store-cap": "5-messages", "q10-at-cap": "drop-newest""#, Q10_SEVEN);
    let (got, lost) = outcomes(&t);
    assert_eq!(got, ["m1", "m2", "m3", "m4", "m5"], "\n{}", ladder(&t));
    assert_eq!(lost, ["m6", "m7"]);
    lost_steps_cite_q10(&t);
    assert_eq!((t.summary.stored, t.summary.lost), (5, 2), "a message dropped at the cap never entered the store");
}

#[test]
fn q10_leave_group_gives_the_deferral_up_at_the_cap() {
    let t = post("", r#""q10-store-cap": "5-messages", "q10-at-cap": "leave-group""#, Q10_SEVEN);
    let full = find(&t, |s| s.label == "store full").unwrap_or_else(|| panic!("the cap is reached\n{}", ladder(&t)));
    assert!(cites(full, "policy:q10-at-cap"));
    let bye = find(&t, |s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "BYE").expect("the PF leaves the group");
    assert!(bye.at_ms >= 7000 && cites(bye, "policy:q10-at-cap"));
    let (got, lost) = outcomes(&t);
    assert!(got.is_empty(), "nothing is delivered: {got:?}");
    assert!(lost.len() >= 6, "the five stored and the sixth are lost: {lost:?}\n{}", ladder(&t));
    for c in t.chats.iter().filter(|c| c.outcome == Outcome::Lost) {
        assert!(find(&t, |s| s.kind == StepKind::Lost && s.chat == Some(c.id)).is_some(), "a lost step for #{}", c.id);
    }
    assert_eq!(t.summary.delivered_from_store, 0);
}

// --------------------------------------------------------------------- still registered

/// Carol's client ends its session with an involuntary BYE (case 1) but her device stays on the
/// network: no 3rd-party REGISTER will come, and she does not re-join.
const STILL_ON: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 700000, "kind": "message", "from": "bob", "text": "three" }
]"#;

#[test]
fn still_registered_wait_stores_until_the_end() {
    let t = post("", "", STILL_ON);
    assert!(pf_invites(&t).is_empty(), "\n{}", ladder(&t));
    assert_eq!(t.summary.still_stored, 3);
    assert_eq!(final_state(&t), PfState::Deferred);
}

#[test]
fn still_registered_invite_after_60s_delivers_without_a_register() {
    let t = post("", r#""still-registered": "invite-after-60s""#, STILL_ON);
    let armed = find(&t, |s| s.label == "invite when registered").unwrap_or_else(|| panic!("the wait starts\n{}", ladder(&t)));
    let inv = pf_invites(&t);
    assert_eq!(inv, vec![armed.at_ms + 60_000], "\n{}", ladder(&t));
    let first = find(&t, |s| &*s.from == "carol-pf" && s.label == "INVITE").unwrap();
    assert!(cites(first, "policy:still-registered") && first.policy);
    assert_eq!((t.summary.delivered_from_store, t.summary.still_stored, t.summary.delivered_live), (2, 0, 1));
}

#[test]
fn still_registered_invite_after_10min_waits_ten_minutes() {
    let t = post("", r#""still-registered": "invite-after-10min""#, STILL_ON);
    let armed = find(&t, |s| s.label == "invite when registered").expect("the wait starts");
    assert_eq!(pf_invites(&t), vec![armed.at_ms + 600_000], "\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 2);
}

/// A REGISTER before the wait ends takes over: one INVITE only, the CR's path A.
#[test]
fn still_registered_a_register_first_is_the_crs_path_a() {
    let ev = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 30000, "kind": "register", "reaction_ms": 500 },
        { "at_ms": 200000, "kind": "message", "from": "bob", "text": "two" }
    ]"#;
    let t = post("", r#""still-registered": "invite-after-60s""#, ev);
    let inv: Vec<_> = t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "INVITE").collect();
    assert_eq!(inv.len(), 1, "\n{}", ladder(&t));
    assert!(inv[0].at_ms > 30000 && !cites(inv[0], "policy:still-registered"), "{:?}", inv[0].clauses);
    assert!(find(&t, |s| s.label == "invite when registered").is_some(), "the wait had started");
}

/// Case 2 (the INVITE to Carol timed out: her device is gone) starts no such wait.
#[test]
fn still_registered_not_after_an_invite_timeout() {
    let ev = r#"[
        { "at_ms": 0, "kind": "unreachable" },
        { "at_ms": 90000, "kind": "message", "from": "alice", "text": "one" }
    ]"#;
    let t = post(r#""setup": "cf_invites","#, r#""still-registered": "invite-after-60s""#, ev);
    assert!(find(&t, |s| s.kind == StepKind::State && s.pf_state == PfState::Deferred).is_some(), "case 2 defers\n{}", ladder(&t));
    assert!(find(&t, |s| s.label == "invite when registered").is_none());
    // Only the PF's relay of the focus's invitation: no INVITE of its own later.
    assert_eq!(pf_invites(&t).len(), 1, "\n{}", ladder(&t));
}
