//! The PF acts on what reached it, never on another actor's state or the run's ground truth
//! (issue 10: "It sees nothing but what reached it"; src/pf/mod.rs). Each test here failed while
//! the PF still read the others' state: the outcome accounting ("not for Carol", "lost",
//! "discarded") stays the world's recorder's, decided from ground truth after the PF acted.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, Trace};
use cpm_deferral::{run, Rules};

fn post(events: &str) -> Trace {
    post_with("{}", events)
}

fn post_with(policies: &str, events: &str) -> Trace {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, "policies": {policies}, "events": {events} }}"#);
    let sc = Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"));
    run(&sc, Rules::PostCr)
}

/// Steps `from → to` with `label` that carry chat `chat`.
fn sends(t: &Trace, from: &str, to: &str, label: &str, chat: u32) -> usize {
    t.steps.iter().filter(|s| &*s.from == from && &*s.to == to && s.label == label && s.chat == Some(chat)).count()
}

/// Carol's device drops off and she leaves the chat while offline: nothing of that reaches the
/// PF, so it relays the next group message on her session as before (it cannot know); the
/// message is still not for Carol in the trace's accounting.
#[test]
fn a_leave_while_offline_does_not_reach_the_pf_so_it_still_relays() {
    let t = post(
        r#"[
            { "at_ms": 1000, "kind": "unreachable" },
            { "at_ms": 2000, "kind": "leave", "member": "carol" },
            { "at_ms": 3000, "kind": "message", "from": "alice", "text": "after she left" }
        ]"#,
    );
    assert_eq!(sends(&t, "cf", "carol-pf", "SEND", 0), 1, "the focus sends on Carol's leg, which her PF holds");
    assert_eq!(sends(&t, "carol-pf", "carol", "SEND", 0), 1, "the PF relays it: it cannot know she left");
    assert_eq!(t.chats[0].outcome, Outcome::NotForCarol, "ground truth: she had left");
}

/// The same, until the PF notices: the relayed SEND times out, and under Q12 `resend` the PF puts
/// it back into its store like any unacknowledged SEND (it cannot tell that it was not for her;
/// before, it asked the trace whether the message still counted).
#[test]
fn an_unacknowledged_send_goes_back_to_the_store_whoever_it_was_for() {
    let t = post(
        r#"[
            { "at_ms": 1000, "kind": "unreachable" },
            { "at_ms": 2000, "kind": "leave", "member": "carol" },
            { "at_ms": 3000, "kind": "message", "from": "alice", "text": "after she left" }
        ]"#,
    );
    let back = t.steps.iter().filter(|s| s.label == "back to store #0").count();
    assert_eq!(back, 1, "the PF re-stores its unacknowledged SEND (Q12 resend)");
    assert_eq!(t.chats[0].outcome, Outcome::NotForCarol);
    assert_eq!(t.summary.possible_duplicates, 0, "the summary counts messages for Carol only");
}

/// Carol drops (BYE 480: the PF defers), then leaves while offline, which nothing tells the PF.
/// When its retention ends it drops the store as a PF that lost her does ("Lost: …"); the trace's
/// outcome stays ground truth: she had left on purpose, so the message is discarded. (Before, the
/// PF's explanation read her entitlement from the world.)
#[test]
fn the_pfs_explanation_of_a_purge_follows_what_reached_it_the_outcome_ground_truth() {
    let t = post_with(
        r#"{ "q7-never-returns": "expire-10min" }"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "stored for her" },
            { "at_ms": 3000, "kind": "leave", "member": "carol" }
        ]"#,
    );
    let drop = t.steps.iter().find(|s| s.chat == Some(0) && s.kind == cpm_deferral::trace::StepKind::Lost).expect("the PF drops #0");
    assert!(drop.note.starts_with("Lost:"), "the PF cannot know she left: {}", drop.note);
    assert_eq!(t.chats[0].outcome, Outcome::Discarded, "ground truth: she left on purpose");
}

/// The run's horizon is configuration (the time of the scenario's last event), not a look at the
/// world's event queue: the PF refreshes Carol's session (RFC 4028 §10, `session-refresh`
/// detector) only before it, so a timeline whose events are all at t = 0 has no refresh at all.
/// (Before, the PF armed a refresh while the queue still held an event, even one at t = 0.)
#[test]
fn session_refreshes_stop_at_the_configured_horizon() {
    let t = post_with(r#"{ "msrp-loss-detection": "session-refresh" }"#, r#"[ { "at_ms": 0, "kind": "message", "from": "alice", "text": "hi" } ]"#);
    let updates: Vec<u64> = t.steps.iter().filter(|s| s.label == "UPDATE" && &*s.from == "carol-pf").map(|s| s.at_ms).collect();
    assert!(updates.is_empty(), "refresh UPDATEs after the horizon (0 ms): {updates:?}");
    let t = post_with(
        r#"{ "msrp-loss-detection": "session-refresh" }"#,
        r#"[ { "at_ms": 0, "kind": "message", "from": "alice", "text": "hi" },
             { "at_ms": 200000, "kind": "message", "from": "alice", "text": "later" } ]"#,
    );
    let updates: Vec<u64> = t.steps.iter().filter(|s| s.label == "UPDATE" && &*s.from == "carol-pf").map(|s| s.at_ms).collect();
    // Refreshes are armed (90 s ahead) only before the horizon at 200 s: the last one armed at
    // 180.04 s, after its 200 OK, fires at 270.04 s; none is armed after that.
    assert_eq!(updates, [90_000, 180_020, 270_040], "a refresh every 90 s, armed before the horizon only");
}
