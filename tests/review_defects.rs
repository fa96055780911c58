//! Issue 11, "The PF's behaviour": every defect a standards review found, as a timeline nobody
//! here wrote, with what must hold. Each test failed on the engine before its fix.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Step, Trace};
use cpm_deferral::{run, Rules};

fn scenario(head: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

fn post(head: &str, events: &str) -> Trace {
    run(&scenario(head, events), Rules::PostCr)
}

fn pf_states(t: &Trace) -> Vec<(u64, &str)> {
    t.steps
        .iter()
        .filter(|s| &*s.from == "carol-pf" && &*s.to == "carol-pf" && s.kind == cpm_deferral::trace::StepKind::State)
        .map(|s| (s.at_ms, &*s.label))
        .collect()
}

fn find(t: &Trace, f: impl Fn(&Step) -> bool) -> Option<&Step> {
    t.steps.iter().find(|s| f(s))
}

/// Defect 1: retention (Q7 expire-10min) expires while the PF's path-A INVITE is pending. The PF
/// leaves the group, so it must give the INVITE up (CANCEL after the 1xx, RFC 3261 §9.1) and
/// never claim "Active" without its leg to the focus; Carol's later message gets a step.
#[test]
fn defect_1_leaving_cancels_the_pending_delivery_invite_and_never_reads_active() {
    let t = post(
        r#""answer_ms": 10000, "policies": { "q7-never-returns": "expire-10min" },"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 595000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 620000, "kind": "message", "from": "carol", "text": "carol's" },
            { "at_ms": 625000, "kind": "message", "from": "bob", "text": "bob's" }
        ]"#,
    );
    let left = find(&t, |s| s.label == "Left").expect("the PF leaves at the retention's end").at_ms;
    assert!(t.steps.iter().any(|s| &*s.from == "carol-pf" && s.label == "CANCEL" && s.at_ms >= left), "the PF cancels its pending INVITE when it leaves");
    let states = pf_states(&t);
    assert!(!states.iter().any(|(at, s)| *at > left && *s == "Active"), "never Active after leaving without a leg to the focus: {states:?}");
    assert_eq!(t.pf_states.last().map(|s| s.state), Some(PfState::Left));
}

/// Defect 1, the same when the 200 from Carol comes before the PF has had any 1xx to cancel
/// after (a stateless IMS core): the PF ends the session it can no longer use, and says so.
#[test]
fn defect_1_a_200_after_leaving_is_ended_not_taken_as_active() {
    let t = post(
        r#""answer_ms": 10000, "ims_core": "stateless", "policies": { "q7-never-returns": "expire-10min" },"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 595000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 620000, "kind": "message", "from": "bob", "text": "bob's" }
        ]"#,
    );
    let left = find(&t, |s| s.label == "Left").expect("the PF leaves").at_ms;
    let states = pf_states(&t);
    assert!(!states.iter().any(|(at, s)| *at > left && *s == "Active"), "{states:?}");
}

/// Defect 3: the retention time (Q7) counts from the start of each deferral. The first
/// deferral ends with a path-A delivery; the second starts at 590 s, so the first one's timer
/// (due at 601 s) must not end it 11 s in.
#[test]
fn defect_3_each_deferral_has_its_own_retention_time() {
    let t = post(
        r#""policies": { "q7-never-returns": "expire-10min" },"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 5000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 590000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 595000, "kind": "message", "from": "bob", "text": "two" },
            { "at_ms": 700000, "kind": "message", "from": "bob", "text": "three" }
        ]"#,
    );
    let expired: Vec<u64> = t.steps.iter().filter(|s| s.label == "retention expired").map(|s| s.at_ms).collect();
    assert!(expired.iter().all(|at| *at >= 590_000 + 600_000), "retention must run from the second deferral's start: {expired:?}");
    assert_eq!(expired.len(), 1, "the second deferral's own retention ends it once: {expired:?}");
    assert!(!t.steps.iter().any(|s| s.note.contains("has not come back") && s.at_ms < 1_190_000), "no false note that Carol did not come back in time");
}

/// Defect 4: before the CR too, delivery over a re-join exists; a re-join during the PF's own
/// replay (its old session silently gone, the `send-timeout` detector not yet firing) replaces
/// the replay's session. It is no MSRP failure: the PF keeps its store and delivers everything.
#[test]
fn defect_4_pre_cr_a_rejoin_during_the_replay_replaces_its_session() {
    let sc = scenario(
        r#""policies": { "msrp-loss-detection": "send-timeout" },"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 2100, "kind": "message", "from": "bob", "text": "two" },
            { "at_ms": 2200, "kind": "message", "from": "alice", "text": "three" },
            { "at_ms": 2300, "kind": "message", "from": "alice", "text": "four" },
            { "at_ms": 5000, "kind": "rejoin" },
            { "at_ms": 5045, "kind": "msrp_loss" },
            { "at_ms": 6000, "kind": "rejoin" }
        ]"#,
    );
    for rules in [Rules::PreCr, Rules::PostCr] {
        let t = run(&sc, rules);
        assert_eq!(t.summary.lost, 0, "{rules:?}: nothing is lost: {:?}", t.summary);
        assert_eq!(t.summary.delivered_from_store, 4, "{rules:?}: {:?}", t.summary);
        assert!(!t.steps.iter().any(|s| s.label == "Left"), "{rules:?}: the PF does not leave the group");
    }
}

/// Defect 5: after the group session ended (the preset group-ends-while-away, Q8
/// deliver-then-close), what the PF tells Carol about the participants must not be stale: her
/// subscription is ended at once listing no one (RFC 6665 §4.2.2), a path-B 200 does not claim
/// a leg to the focus, and the INVITE, 200 and Delivering steps Q8 causes cite Q8.
#[test]
fn defect_5_no_stale_participant_information_after_the_group_ends() {
    let ev = |tail: &str| {
        format!(
            r#"[
            {{ "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" }},
            {{ "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" }},
            {{ "at_ms": 4000, "kind": "group_ends" }},
            {tail}
        ]"#
        )
    };
    // Path A, Carol's client subscribes (Q13 default notify-after-subscribe).
    let t = post("", &ev(r#"{ "at_ms": 6000, "kind": "register", "reaction_ms": 500 }"#));
    let n = find(&t, |s| &*s.from == "carol-pf" && s.label == "NOTIFY").expect("the PF answers Carol's subscription");
    assert!(n.raw.contains("Subscription-State: terminated;reason=noresource"), "{}", n.raw);
    assert!(!n.raw.contains("<user "), "no one is connected any more:\n{}", n.raw);
    let inv = find(&t, |s| &*s.from == "carol-pf" && s.label == "INVITE").expect("path A");
    assert!(inv.clauses.contains(&"policy:q8-group-ends"), "{:?}", inv.clauses);
    let da = find(&t, |s| s.label == "DeliveringA").expect("DeliveringA");
    assert!(da.clauses.contains(&"policy:q8-group-ends"), "{:?}", da.clauses);
    // Path B with the participant list in the 200 (Q13 in-session-setup).
    let t = post(r#""policies": { "q13-participant-info": "in-session-setup" },"#, &ev(r#"{ "at_ms": 6000, "kind": "rejoin" }"#));
    let ok = find(&t, |s| &*s.from == "carol-pf" && s.label == "200 OK" && s.note.starts_with("Path B")).expect("path B");
    assert!(!ok.note.contains("already exists"), "{}", ok.note);
    assert!(ok.clauses.contains(&"policy:q8-group-ends"), "{:?}", ok.clauses);
    assert!(!ok.raw.contains("<user "), "no one is connected any more:\n{}", ok.raw);
    let db = find(&t, |s| s.label == "DeliveringB").expect("DeliveringB");
    assert!(db.clauses.contains(&"policy:q8-group-ends"), "{:?}", db.clauses);
}

/// Defect 6: after the delivery Carol's roster must follow the group: the PF serves her
/// subscription, so every later join and leave the focus reports reaches her as a NOTIFY
/// (RFC 6665 §4.2.2) with the next conference-info version (RFC 4575 §5.1).
#[test]
fn defect_6_carol_hears_of_joins_and_leaves_after_the_delivery() {
    let t = post(
        r#""members": [ { "id": "alice", "name": "Alice" }, { "id": "bob", "name": "Bob" }, { "id": "dave", "name": "Dave", "in_group": false } ],"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 5000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 20000, "kind": "join", "member": "dave" },
            { "at_ms": 30000, "kind": "leave", "member": "bob" }
        ]"#,
    );
    let to_carol: Vec<&Step> = t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "NOTIFY" && s.at_ms > 20_000).collect();
    assert_eq!(to_carol.len(), 2, "one NOTIFY for the join, one for the leave");
    assert!(to_carol[0].raw.contains("version=\"2\"") && to_carol[0].raw.contains("dave"), "{}", to_carol[0].raw);
    assert!(to_carol[1].raw.contains("version=\"3\""), "{}", to_carol[1].raw);
}

/// Defect 7: a deferral that outlives the PF's conference subscription (`Expires: 3600`; here
/// 9.8 days) is refreshed in its dialog before each expiry (RFC 6665 §4.1.2.2), and the trace
/// stays conformant.
#[test]
fn defect_7_the_pfs_conference_subscription_is_refreshed_before_it_expires() {
    let t = post(
        "",
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
            { "at_ms": 846720000, "kind": "register", "reaction_ms": 500 }
        ]"#,
    );
    let subs: Vec<&Step> = t.steps.iter().filter(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "SUBSCRIBE").collect();
    let first = subs[0].at_ms;
    // Every moment of the deferral is covered: each SUBSCRIBE comes within 3600 s of the one before.
    let mut last = first;
    for s in &subs[1..] {
        assert!(s.at_ms - last < 3_600_000, "a gap of {} ms between subscription refreshes", s.at_ms - last);
        last = s.at_ms;
    }
    assert!(last + 3_600_000 > 846_720_000, "the subscription still runs when Carol is back (last refresh at {last} ms)");
    assert!(subs.iter().all(|s| s.raw.contains("Expires: 3600") || s.raw.contains("Expires: 0")), "each renewal asks for 3600 s or ends the old one");
    let findings = cpm_deferral::conformance::check(&t);
    assert!(findings.is_empty(), "{findings:?}");
}

/// Defect 8: a BYE that the PF handles as a leave (§8.2.2.3) ends Carol's participation whatever
/// its Reason's protocol, so a Q.850 normal clearing (cause 16) counts like a SIP cause 200:
/// nothing sent while deferred, nothing lost.
#[test]
fn defect_8_a_leave_counts_the_same_whatever_the_reason_protocol() {
    let ev = |reason: &str| {
        format!(
            r#"[
            {{ "at_ms": 1000, "kind": "bye", "reason": "{reason}" }},
            {{ "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" }},
            {{ "at_ms": 3000, "kind": "message", "from": "bob", "text": "two" }}
        ]"#
        )
    };
    for rules in [Rules::PostCr, Rules::PreCr] {
        let q850 = run(&scenario("", &ev("Q.850;cause=16")), rules).summary;
        let sip = run(&scenario("", &ev("SIP;cause=200")), rules).summary;
        assert_eq!((q850.sent_while_away, q850.lost), (0, 0), "{rules:?}: {q850:?}");
        assert_eq!(format!("{q850:?}"), format!("{sip:?}"), "{rules:?}");
    }
}

/// Defect 8, the name: the counter of messages for Carol sent while she had no live path is
/// called for what it counts (`sent_while_away`), not `sent_while_deferred`: under pre-CR it is
/// non-zero where nothing was deferred (nothing stored). The JSON summary (CLI, wasm) carries it.
#[test]
fn defect_8_the_counter_is_named_for_what_it_counts() {
    let s = scenario(
        "",
        r#"[
            { "at_ms": 1000, "kind": "msrp_loss" },
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" }
        ]"#,
    );
    let pre = run(&s, Rules::PreCr).summary;
    let json = serde_json::to_value(pre).unwrap();
    assert!(json.get("sent_while_deferred").is_none(), "{json}");
    assert_eq!(json["sent_while_away"], 1, "{json}");
    assert_eq!(json["stored"], 0, "pre-CR stores nothing: {json}");
}

/// Defect 9 (the PF's part): every 3rd-party REGISTER gets a step that says what the PF did with
/// it (a second one during the reaction delay, one while Active, one during DeliveringA);
/// "reachable again" only after an absence; Q7 expiry while a reaction is due is a stated choice.
#[test]
fn defect_9_every_register_gets_a_step_that_says_what_the_pf_did() {
    let t = post(
        r#""answer_ms": 3000,"#,
        r#"[
            { "at_ms": 1000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 2000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 3000, "kind": "register", "reaction_ms": 2000 },
            { "at_ms": 3500, "kind": "register", "reaction_ms": 2000 },
            { "at_ms": 6000, "kind": "register", "reaction_ms": 500 }
        ]"#,
    );
    let oks: Vec<&Step> = t.steps.iter().filter(|s| &*s.from == "carol-pf" && s.label == "200 OK" && s.clauses.contains(&"3GPP TS 24.229 §5.4.1.7")).collect();
    assert_eq!(oks.len(), 4);
    assert!(!oks[0].note.contains("reachable again"), "Carol was never away: {}", oks[0].note);
    assert!(oks[1].note.contains("reachable again"));
    let notes: Vec<&str> = oks
        .iter()
        .map(|ok| t.steps.iter().find(|s| s.index > ok.index && &*s.from == "carol-pf" && &*s.to == "carol-pf").map(|s| &*s.note).unwrap_or(""))
        .collect();
    assert!(notes[0].contains("working session"), "while Active: {}", notes[0]);
    assert!(notes[2].contains("already due"), "during the reaction delay: {}", notes[2]);
    assert!(notes[3].contains("already invited"), "during DeliveringA: {}", notes[3]);
    // Q7 expiry while a reaction is due.
    let t = post(
        r#""policies": { "q7-never-returns": "expire-10min" },"#,
        r#"[
            { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 600000, "kind": "register", "reaction_ms": 40000 }
        ]"#,
    );
    let exp = find(&t, |s| s.label == "retention expired").expect("retention expires");
    assert!(exp.note.contains("our choice"), "{}", exp.note);
}

/// Defect 9 (Carol's client's part): the focus ends the group while Carol leaves, so her BYE and
/// the PF's BYE for the same dialog cross. Her client has dropped the dialog when the PF's BYE
/// reaches it, so it answers 481 Call/Transaction Does Not Exist (RFC 3261 §12.2.2), not 200.
#[test]
fn defect_9_carol_answers_481_to_a_bye_on_a_dialog_she_has_dropped() {
    let t = post(
        "",
        r#"[
            { "at_ms": 5000, "kind": "group_ends" },
            { "at_ms": 5005, "kind": "bye", "reason": "SIP;cause=200;text=\"Call completed\"" }
        ]"#,
    );
    let bye = find(&t, |s| &*s.from == "scscf" && &*s.to == "carol" && s.label == "BYE").expect("the PF's BYE reaches Carol through the core");
    let answer = find(&t, |s| s.index > bye.index && &*s.from == "carol" && s.label.starts_with(|c: char| c.is_ascii_digit())).expect("her client answers it");
    assert_eq!(answer.label, "481 Call/Transaction Does Not Exist", "{}", answer.note);
    let findings = cpm_deferral::conformance::check(&t);
    assert!(findings.is_empty(), "{findings:?}");
}
