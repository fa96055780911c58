//! Carol's client as a machine (src/client/, issue 10): what her client does with what reached
//! it and with the scenario's events for her, seen on the ladder. Each test failed on the
//! engine before its fix.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Trace};
use cpm_deferral::{run, Rules};

fn post(head: &str, events: &str) -> Trace {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "events": {events} }}"#);
    let sc = Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"));
    run(&sc, Rules::PostCr)
}

/// She leaves 2 ms after her re-join INVITE went out, before any answer: her client has a
/// transaction in flight, so it is not "offline with no session". It may not BYE outside a
/// dialog (RFC 3261 §15) and may CANCEL only after a provisional response (§9.1); the PF's 200
/// crosses the CANCEL, so she ACKs and ends the session with BYE `SIP;cause=200` (a voluntary
/// leave, §8.2.2.3): the PF leaves the group, and the later message is not for her. (Before,
/// her client said "leaves (offline)", let the INVITE complete and was back in the session,
/// receiving the group's messages after she had left.)
#[test]
fn a_leave_while_her_rejoin_invite_is_pending_cancels_it_and_she_stays_out() {
    let t = post(
        r#""answer_ms": 0,"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 5000, "kind": "rejoin" },
            { "at_ms": 5002, "kind": "leave", "member": "carol" },
            { "at_ms": 9000, "kind": "message", "from": "bob", "text": "two" }
        ]"#,
    );
    let from_carol = |label: &str| t.steps.iter().filter(|s| &*s.from == "carol" && &*s.label == label).map(|s| s.at_ms).collect::<Vec<_>>();
    assert!(!t.steps.iter().any(|s| s.label == "leaves (offline)"), "her client has an INVITE in flight, it is not offline");
    assert!(t.steps.iter().any(|s| &*s.from == "carol" && s.label == "CANCEL waits for a 1xx" && s.at_ms == 5002));
    let cancel = from_carol("CANCEL");
    assert_eq!(cancel.len(), 1, "one CANCEL, after the 100 Trying reached her");
    assert!(cancel[0] >= 5005);
    let bye = t.steps.iter().find(|s| &*s.from == "carol" && s.label == "BYE" && s.at_ms > 5002).expect("the crossed 200 is ACKed and ended");
    assert!(bye.raw.contains("Reason: SIP;cause=200"), "{}", bye.raw);
    assert_eq!(t.pf_states.last().map(|s| s.state), Some(PfState::Left), "the PF leaves the group for her");
    assert!(!t.steps.iter().any(|s| &*s.to == "carol" && s.label == "SEND" && s.at_ms >= 9000), "no message after her leave reaches her");
    assert_eq!(t.summary.delivered_live, 0);
}

/// A message reaches her client only while her device is on the network: also a provisional
/// response. She leaves during the `full` set-up and her device drops off before the 100
/// Trying comes back: the 100 never arrives, so her client sends nothing from the dead device
/// (before, the 100 was handed to her client all the same and it sent its CANCEL while
/// unreachable).
#[test]
fn nothing_reaches_her_client_while_her_device_is_off_the_network() {
    let t = post(
        r#""setup": "full", "answer_ms": 0,"#,
        r#"[
            { "at_ms": 2, "kind": "leave", "member": "carol" },
            { "at_ms": 3, "kind": "unreachable" }
        ]"#,
    );
    let trying = t.steps.iter().find(|s| &*s.to == "carol" && s.label == "100 Trying").expect("the core's 100 Trying towards her");
    assert!(trying.dropped, "it never arrives at an unreachable device");
    let sent: Vec<_> = t.steps.iter().filter(|s| &*s.from == "carol" && &*s.to != "carol" && s.at_ms > 3).map(|s| (s.at_ms, &*s.label)).collect();
    assert!(sent.is_empty(), "her device is off the network, yet: {sent:?}");
}
