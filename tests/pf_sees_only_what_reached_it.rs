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
