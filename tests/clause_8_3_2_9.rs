//! Scripted exchanges for OMA CPM Conversation Functions §8.3.2.9 "Deferred CPM Group Session
//! handling" as amended by the change request for CONRR comment D130
//! (`../shared/spec/000_a86a1acc8acd03b8.txt`), one test (or a few) per sentence of the clause.
//!
//! Every test writes its scenario inline, runs it, and compares the ladder of the steps that touch
//! Carol's client or her PF around the event with the ladder the clause asks for. A ladder line is
//!
//! ```text
//!   8.010  carol-pf -> carol            200 OK       [reading:8.2.2.3, RFC 3261 §15.1.2]
//!   8.010  [carol-pf]                   Deferred     [8.3.2.9]
//!   0.010  carol-pf -> carol (dropped)  INVITE       [RFC 3261 §16]
//! ```
//!
//! that is: the time in seconds, `from -> to` (or `[lane]` for an internal step, `(dropped)` when
//! the message never arrives), the label and the cited clauses. Runs of spaces do not matter.
//!
//! Every run made here also goes through [`check_invariants`] (no message for Carol silently
//! dropped, `policy` flag ⇔ a `policy:` citation, steps in time order).

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Protocol, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

// ====================================================================== harness

/// Parses an inline scenario; `format` and `version` are added when the text leaves them out.
fn scenario(body: &str) -> Scenario {
    Scenario::from_json(&complete(body)).unwrap_or_else(|e| panic!("inline scenario refused: {e}\n{body}"))
}

/// The scenario file text, with `format` and `version` added when the text leaves them out.
fn complete(body: &str) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("inline scenario is not JSON: {e}\n{body}"));
    let m = v.as_object_mut().expect("a scenario is a JSON object");
    m.entry("format").or_insert_with(|| json!("cpm-deferral-scenario"));
    m.entry("version").or_insert_with(|| json!(1));
    v.to_string()
}

/// Runs a scenario through the CLI (`cpm-deferral run FILE --format json`) in a child process
/// that is killed after `deadline`. `None` when the run did not finish in time: a run that never
/// ends cannot be shown on the page either, and inside this test process it would eat all memory.
fn run_cli(body: &str, rules: Rules, deadline: Duration) -> Option<Value> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!("cpm-8329-{}-{}.json", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, complete(body)).expect("write the scenario file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpm-deferral"))
        .arg("run")
        .arg(&path)
        .args(["--rules", rules.as_str(), "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the CLI");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the CLI") {
            break Some(status);
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let text = reader.join().unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let status = status?;
    assert!(status.success(), "the CLI failed on\n{body}");
    Some(serde_json::from_str(&text).expect("the CLI prints the trace as JSON"))
}

/// Runs an inline scenario under `rules`, checks the run-wide invariants and returns it seen end
/// to end ([`end_to_end`]).
fn run_with(body: &str, rules: Rules) -> Trace {
    let t = run(&scenario(body), rules);
    check_invariants(&t, "inline scenario");
    end_to_end(t)
}

/// The trace as the clause tells the exchange, between Carol's client and her PF: a message
/// through the IMS core (`scscf`, src/ims/; its hops are the subject of tests/ims_core.rs)
/// becomes one step from its sender to its receiver (sent when it left the sender, with the
/// sender's text, arriving, or dropped, as its last hop does); a message the core keeps to
/// itself (a 100, the ACK of a failure, the answer to a CANCEL) becomes one step to the other
/// side; the core's own 100 Trying, CANCEL, ACK and 200 to a CANCEL are left out. Its REGISTER
/// traffic and its own 408 or 480 stay as they are.
fn end_to_end(mut t: Trace) -> Trace {
    let core = |l: &str| l == "scscf";
    let ua = |l: &str| l == "carol" || l == "carol-pf";
    let other = |l: &str| if l == "carol" { "carol-pf" } else { "carol" };
    let register = |s: &Step| header(&s.raw, "CSeq").is_some_and(|c| c.ends_with("REGISTER")) || s.label == "REGISTER";
    let n = t.steps.len();
    let mut keep = vec![true; n];
    let mut paired = vec![false; n];
    for i in 0..n {
        let s = &t.steps[i];
        if !(s.protocol == Protocol::SIP && ua(&s.from) && core(&s.to)) || register(s) {
            continue;
        }
        let (label, arrive, to) = (s.label.clone(), s.arrive_ms, other(&s.from));
        let j = (i + 1..n).find(|&j| {
            let f = &t.steps[j];
            !paired[j] && core(&f.from) && &*f.to == to && f.label == label && f.at_ms == arrive && f.protocol == Protocol::SIP
        });
        let (arr, dropped) = match j {
            Some(j) => {
                paired[j] = true;
                keep[j] = false;
                (t.steps[j].arrive_ms, t.steps[j].dropped)
            }
            None => (arrive + 5, false),
        };
        let s = &mut t.steps[i];
        s.to = to.into();
        s.arrive_ms = arr;
        s.dropped = dropped;
    }
    for i in 0..n {
        let s = &t.steps[i];
        let own = s.protocol == Protocol::SIP && core(&s.from) && ua(&s.to) && !paired[i] && !register(s);
        if own && !s.label.starts_with("408") && !s.label.starts_with("480") {
            keep[i] = false;
        }
    }
    let mut k = keep.into_iter();
    t.steps.retain(|_| k.next().unwrap_or(true));
    t
}

fn post(body: &str) -> Trace {
    run_with(body, Rules::PostCr)
}

fn pre(body: &str) -> Trace {
    run_with(body, Rules::PreCr)
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// One ladder line for a step (see the module documentation).
fn line(s: &Step) -> String {
    let route = match (s.protocol, s.dropped) {
        (Protocol::None, _) => format!("[{}]", s.from),
        (_, true) => format!("{} -> {} (dropped)", s.from, s.to),
        (_, false) => format!("{} -> {}", s.from, s.to),
    };
    format!("{} {route} {} [{}]", secs(s.at_ms), s.label, s.clauses.join(", "))
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A step on Carol's side of the ladder: it leaves or reaches her client or her PF.
fn carol_side(s: &Step) -> bool {
    ["carol", "carol-pf"].iter().any(|l| *l == &*s.from || *l == &*s.to)
}

/// The Carol-side ladder between two times (both included).
fn ladder(t: &Trace, from_ms: u64, to_ms: u64) -> Vec<String> {
    t.steps.iter().filter(|s| (from_ms..=to_ms).contains(&s.at_ms) && carol_side(s)).map(line).collect()
}

/// Asserts the Carol-side ladder between two times, line by line.
#[track_caller]
fn assert_ladder(t: &Trace, from_ms: u64, to_ms: u64, expected: &[&str]) {
    let got = ladder(t, from_ms, to_ms);
    let want: Vec<String> = expected.iter().map(|l| norm(l)).collect();
    if got != want {
        let at = got.iter().zip(&want).position(|(g, w)| g != w).unwrap_or(got.len().min(want.len()));
        panic!(
            "ladder {}..={} s ({}) differs at line {at}:\n--- expected\n{}\n--- actual\n{}\n",
            secs(from_ms),
            secs(to_ms),
            t.rules.as_str(),
            want.join("\n"),
            got.join("\n")
        );
    }
}

/// Messages on the wire from `from` to `to` with this label.
fn sent<'a>(t: &'a Trace, from: &str, to: &str, label: &str) -> Vec<&'a Step> {
    t.steps.iter().filter(|s| s.protocol != Protocol::None && &*s.from == from && &*s.to == to && s.label == label).collect()
}

/// Internal steps of the PF with this label.
fn pf_notes<'a>(t: &'a Trace, label: &str) -> Vec<&'a Step> {
    t.steps.iter().filter(|s| s.protocol == Protocol::None && &*s.from == "carol-pf" && s.label == label).collect()
}

/// The PF's state at `ms` (after every step of that millisecond).
fn state_at(t: &Trace, ms: u64) -> PfState {
    t.pf_states.iter().rev().find(|s| s.from_ms <= ms).map(|s| s.state).expect("a state band starts at 0")
}

/// A header value from a SIP or MSRP wire text.
fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.split("\r\n").take_while(|l| !l.is_empty()).skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The `a=path:` value of the SDP in a SIP message.
fn sdp_path(raw: &str) -> &str {
    raw.split("\r\n").find_map(|l| l.strip_prefix("a=path:")).unwrap_or_else(|| panic!("no a=path in\n{raw}"))
}

/// The chat each replay SEND (PF → Carol, citing 8.3.2.9) carries, in wire order.
fn replayed(t: &Trace) -> Vec<u32> {
    t.steps
        .iter()
        .filter(|s| &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND" && s.clauses.contains(&"reading:8.3.2.9"))
        .filter_map(|s| s.chat)
        .collect()
}

/// MSRP SENDs from the PF to Carol's client at or after `ms`.
fn sends_to_carol_from(t: &Trace, ms: u64) -> impl Iterator<Item = &Step> {
    t.steps.iter().filter(move |s| s.at_ms >= ms && s.protocol == Protocol::MSRP && &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND")
}

/// Run-wide rules every trace keeps, whatever the scenario.
fn check_invariants(t: &Trace, what: &str) {
    let ctx = format!("{what} under {}", t.rules.as_str());
    for w in t.steps.windows(2) {
        assert!(w[0].at_ms <= w[1].at_ms, "{ctx}: steps out of time order at step {}", w[1].index);
    }
    // A step cites a policy exactly when it says it is a policy step.
    for s in &t.steps {
        let cites_policy = s.clauses.iter().any(|c| c.starts_with("policy:"));
        assert_eq!(s.policy, cites_policy, "{ctx}: step {} `{}` has policy={} but clauses {:?}", s.index, s.label, s.policy, s.clauses);
    }
    // Messages are never silently dropped: every message meant for Carol ends in a known way,
    // and a lost or discarded one has a `lost` step that names it.
    for c in &t.chats {
        if !c.for_carol {
            assert_eq!(c.outcome, Outcome::NotForCarol, "{ctx}: chat #{} is not for Carol but has outcome {:?}", c.id, c.outcome);
            continue;
        }
        assert!(
            matches!(c.outcome, Outcome::Live | Outcome::FromStore | Outcome::StillStored | Outcome::Lost | Outcome::Discarded),
            "{ctx}: chat #{} for Carol has outcome {:?}",
            c.id,
            c.outcome
        );
        if matches!(c.outcome, Outcome::Lost | Outcome::Discarded) {
            assert!(
                t.steps.iter().any(|s| s.kind == StepKind::Lost && s.chat == Some(c.id)),
                "{ctx}: chat #{} is {:?} but no `lost` step names it",
                c.id,
                c.outcome
            );
        }
    }
}

// ====================================================================== scenarios used by several tests

/// Carol is in the group (established at t=0). Alice writes at 2 s and Carol at 3.5 s; at 8 s a
/// BYE with `reason` (null: no Reason header) arrives from Carol's client; Bob writes at 12 s.
/// Chat #0 is Alice's, #1 Carol's own, #2 Bob's.
fn bye_then_bob(reason: Option<&str>, policies: Value) -> String {
    json!({
        "policies": policies,
        "events": [
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "Morning all - agenda for Friday?" },
            { "at_ms": 3500, "kind": "message", "from": "carol", "text": "I'll bring the slides." },
            { "at_ms": 8000, "kind": "bye", "reason": reason },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "Are we still on for 3pm?" }
        ]
    })
    .to_string()
}

/// The CF invites Carol at t=0 while her device is unreachable; Bob and Alice write at 40 and 45 s.
fn cf_invites_unreachable(t1_ms: u64) -> String {
    json!({
        "setup": "cf_invites",
        "t1_ms": t1_ms,
        // A stateless core (RFC 3261 §16.11): nothing answers, the PF's own Timer B fires (the
        // CR's words); tests/ims_core.rs runs the same with the core's 408.
        "ims_core": "stateless",
        "events": [
            { "at_ms": 0, "kind": "unreachable" },
            { "at_ms": 140000, "kind": "message", "from": "bob", "text": "Carol, are you there?" },
            { "at_ms": 145000, "kind": "message", "from": "alice", "text": "Seems not." }
        ]
    })
    .to_string()
}

/// The ladder of a case-1 style deferral at 8 s: 200 OK per §8.2.2.3, Deferred citing `why`,
/// no BYE to the CF, SUBSCRIBE per §8.2.2.6.2; then Bob's message at 12 s is answered 200 by the
/// PF and stored.
#[track_caller]
fn assert_bye_defers(t: &Trace, why: &str) {
    assert_ladder(
        t,
        8000,
        8030,
        &[
            "8.000  carol -> carol-pf    BYE                  [RFC 3261 §15.1.1, RFC 3326 §2]",
            "8.010  carol-pf -> carol    200 OK               [reading:8.2.2.3, RFC 3261 §15.1.2]",
            &format!("8.010  [carol-pf]  Deferred  [{why}]"),
            "8.010  [carol-pf]           stays in media path  [8.3.2.9]",
            "8.010  carol-pf -> cf       SUBSCRIBE            [8.2.2.6.2, 8.3.2.9]",
            "8.020  cf -> carol-pf       200 OK               [RFC 6665 §4.2.1]",
            "8.020  cf -> carol-pf       NOTIFY               [8.2.2.6.2, RFC 4575 §4.2]",
            "8.030  carol-pf -> cf       200 OK               [RFC 6665 §4.1.3]",
        ],
    );
    assert_ladder(
        t,
        12000,
        12030,
        &[
            "12.010  cf -> carol-pf   SEND       [RFC 4975 §7.1.1]",
            "12.020  carol-pf -> cf   200 OK     [8.3.2.9]",
            "12.020  [carol-pf]       stored #2  [8.3.2.9]",
        ],
    );
    assert!(sent(t, "carol-pf", "cf", "BYE").is_empty(), "a deferring PF sends no BYE to the CF");
    assert_eq!(t.chats[2].outcome, Outcome::StillStored);
    assert_eq!(t.chats[2].stored_ms, Some(12020));
}

/// The ladder of a BYE that is not a deferral trigger: 200 OK per §8.2.2.3, then the PF leaves
/// the group towards the CF; nothing is stored and no subscription is made.
#[track_caller]
fn assert_bye_leaves(t: &Trace) {
    assert_ladder(
        t,
        8000,
        8020,
        &[
            "8.000  carol -> carol-pf  BYE     [RFC 3261 §15.1.1, RFC 3326 §2]",
            "8.010  carol-pf -> carol  200 OK  [reading:8.2.2.3, RFC 3261 §15.1.2]",
            "8.010  carol-pf -> cf     BYE     [reading:8.2.2.3]",
            "8.010  [carol-pf]         Left    [reading:8.2.2.3]",
            "8.020  cf -> carol-pf     200 OK  [RFC 3261 §15.1.2]",
        ],
    );
    assert!(sent(t, "carol-pf", "cf", "SUBSCRIBE").is_empty(), "no subscription without deferral");
    assert!(t.steps.iter().all(|s| s.kind != StepKind::Store), "nothing is stored without deferral");
    assert!(matches!(t.chats[2].outcome, Outcome::Lost | Outcome::NotForCarol), "Bob's later message: {:?}", t.chats[2].outcome);
}

// ====================================================================== sentence 1
// "Upon receiving a SIP BYE request associated with an existing CPM Session, the CPM
//  Participating Function SHALL proceed as described in sect. 8.2.2.3."

#[test]
fn s1_every_client_bye_is_handled_per_8_2_2_3_with_200_ok() {
    let reasons = [
        Some("SIP;cause=480;text=\"Temporarily Unavailable\""),
        Some("SIP;cause=200;text=\"Call completed\""),
        Some("Q.850;cause=16;text=\"Terminated\""),
        None,
    ];
    for rules in [Rules::PostCr, Rules::PreCr] {
        for reason in reasons {
            let t = run_with(&bye_then_bob(reason, json!({})), rules);
            let bye = sent(&t, "carol", "carol-pf", "BYE");
            assert_eq!(bye.len(), 1, "{reason:?}");
            assert_eq!(header(&bye[0].raw, "Reason"), reason, "the client's BYE carries exactly the scripted Reason");
            // The very next thing the PF sends to Carol is 200 OK, citing §8.2.2.3, one hop later.
            let ok = t.steps.iter().find(|s| s.index > bye[0].index && &*s.from == "carol-pf" && &*s.to == "carol").expect("an answer");
            assert_eq!((ok.label.as_ref(), ok.at_ms, &*ok.clauses), ("200 OK", 8010, &["reading:8.2.2.3", "RFC 3261 §15.1.2"][..]), "{reason:?} {}", line(ok));
            assert!(ok.raw.starts_with("SIP/2.0 200 OK\r\n"));
            assert_eq!(header(&ok.raw, "CSeq"), header(&bye[0].raw, "CSeq"), "the 200 OK answers that BYE");
        }
    }
}

// ====================================================================== case 1
// "1. The SIP BYE was received on the session dialog with the CPM Client with a Reason header
//  field with the reason-protocol set to SIP and a reason-cause set to a value that is different
//  than 200, indicating that the CPM User has not left the session voluntarily;"

/// At t=8 s Carol's BYE with Reason SIP;cause=480 arrives; the PF answers 200 citing 8.2.2.3,
/// sends no BYE to the CF, enters Deferred citing 8.3.2.9, sends SUBSCRIBE (Event: conference)
/// to the CF citing 8.2.2.6.2; a later group message from Bob is answered 200 by the PF to the CF
/// and stored.
#[test]
fn case1_bye_with_sip_cause_480_defers() {
    let t = post(&bye_then_bob(Some("SIP;cause=480;text=\"Temporarily Unavailable\""), json!({})));
    assert_bye_defers(&t, "8.3.2.9");
    assert_eq!(state_at(&t, 7999), PfState::Active);
    assert_eq!(state_at(&t, 8010), PfState::Deferred);
}

#[test]
fn case1_other_sip_causes_than_200_defer_too() {
    for reason in [
        "SIP;cause=408;text=\"Request Timeout\"",
        "SIP;cause=487;text=\"Request Terminated\"",
        "SIP;cause=503;text=\"Service Unavailable\"",
        "SIP;cause=503, Q.850;cause=41",
        "sip;cause=480",
    ] {
        let t = post(&bye_then_bob(Some(reason), json!({})));
        assert_bye_defers(&t, "8.3.2.9");
    }
}

#[test]
fn case1_was_already_a_trigger_before_the_cr() {
    let t = pre(&bye_then_bob(Some("SIP;cause=480;text=\"Temporarily Unavailable\""), json!({})));
    assert_bye_defers(&t, "8.3.2.9");
}

#[test]
fn case1_cause_200_no_reason_or_q850_only_is_a_leave_under_the_literal_policy() {
    for rules in [Rules::PostCr, Rules::PreCr] {
        for reason in [
            Some("SIP;cause=200;text=\"Call completed\""),
            Some("SIP;cause=200, Q.850;cause=16"),
            None,
            Some("Q.850;cause=41;text=\"Temporary failure\""),
            Some("Q.850;cause=16;text=\"Terminated\""),
            Some("RELEASE_CAUSE;cause=3;text=\"Media bearer loss\""),
        ] {
            let t = run_with(&bye_then_bob(reason, json!({})), rules);
            assert_bye_leaves(&t);
            // The PF's BYE to the CF passes the client's Reason on (none if there was none).
            let bye = sent(&t, "carol-pf", "cf", "BYE");
            assert_eq!(header(&bye[0].raw, "Reason"), reason);
        }
    }
    // A user who left on purpose is not owed the later message; one who sent a bare or Q.850
    // BYE may well be, and the trace says that message is lost.
    let t = post(&bye_then_bob(Some("SIP;cause=200;text=\"Call completed\""), json!({})));
    assert_eq!(t.chats[2].outcome, Outcome::NotForCarol);
    let t = post(&bye_then_bob(None, json!({})));
    assert_eq!(t.chats[2].outcome, Outcome::Lost);
}

#[test]
fn case1_q6_broad_defers_on_a_q850_failure_and_a_bare_bye_as_a_policy() {
    let broad = json!({ "q6-non-sip-reason": "broad" });
    for reason in [Some("Q.850;cause=41;text=\"Temporary failure\""), None, Some("RELEASE_CAUSE;cause=3")] {
        let t = post(&bye_then_bob(reason, broad.clone()));
        assert_bye_defers(&t, "policy:q6-non-sip-reason");
        let deferred = &pf_notes(&t, "Deferred")[0];
        assert!(deferred.policy, "a policy-made deferral says so");
    }
    // Broad still reads normal clearing and a user's own leave as leaves.
    for reason in [Some("Q.850;cause=16;text=\"Terminated\""), Some("SIP;cause=200;text=\"Call completed\"")] {
        assert_bye_leaves(&post(&bye_then_bob(reason, broad.clone())));
    }
}

// ====================================================================== case 2
// "2. Timeout of the SIP INVITE sent to the CPM user;"

#[test]
fn case2_invite_timeout_timer_b_32s_pf_answers_the_cf_itself_and_defers() {
    let t = post(&cf_invites_unreachable(500));
    assert_ladder(
        &t,
        0,
        10,
        &[
            "0.000  cf -> carol-pf            INVITE       [RFC 3261 §13.2.1]",
            "0.000  [carol]                   unreachable  [scenario]",
            "0.010  carol-pf -> cf            100 Trying   [RFC 3261 §8.2.6.1]",
            "0.010  carol-pf -> carol (dropped) INVITE     [RFC 3261 §16]",
            "0.010  [carol-pf]                Inviting     [RFC 3261 §17.1.1]",
        ],
    );
    // Nothing happens on Carol's side while Timer B runs.
    assert!(ladder(&t, 11, 32009).is_empty(), "{:?}", ladder(&t, 11, 32009));
    assert_ladder(
        &t,
        32010,
        32010,
        &[
            "32.010  [carol-pf]      Timer B fired        [RFC 3261 §17.1.1.2]",
            "32.010  carol-pf -> cf  200 OK               [reading:8.3.2.9]",
            "32.010  [carol-pf]      Deferred             [reading:8.3.2.9]",
            "32.010  [carol-pf]      stays in media path  [8.3.2.9]",
            "32.010  carol-pf -> cf  SUBSCRIBE            [8.2.2.6.2, 8.3.2.9]",
        ],
    );
    let b: Vec<_> = t.timers.iter().filter(|s| s.name == "Timer B").collect();
    assert_eq!(b.len(), 1);
    assert_eq!((&*b[0].lane, b[0].start_ms, b[0].end_ms, b[0].outcome, b[0].clause), ("carol-pf", 10, 32010, "fired", "RFC 3261 §17.1.1.2"));
    assert_eq!(b[0].end_ms - b[0].start_ms, 64 * 500, "Timer B = 64×T1");
    // The PF's 200 OK to the CF carries an SDP answer; the CF ACKs it, and the PF binds MSRP.
    let ok = &sent(&t, "carol-pf", "cf", "200 OK")[0];
    assert_eq!(header(&ok.raw, "Content-Type"), Some("application/sdp"));
    assert_eq!(sent(&t, "cf", "carol-pf", "ACK").len(), 1);
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    // Later group messages are kept for Carol.
    assert_ladder(
        &t,
        140000,
        140030,
        &[
            "140.010  cf -> carol-pf  SEND       [RFC 4975 §7.1.1]",
            "140.020  carol-pf -> cf  200 OK     [8.3.2.9]",
            "140.020  [carol-pf]      stored #0  [8.3.2.9]",
        ],
    );
    assert_eq!(t.chats.iter().map(|c| c.outcome).collect::<Vec<_>>(), vec![Outcome::StillStored; 2]);
}

#[test]
fn case2_timer_b_is_128s_with_the_3gpp_t1_of_2s() {
    let t = post(&cf_invites_unreachable(2000));
    let b = t.timers.iter().find(|s| s.name == "Timer B").expect("Timer B");
    assert_eq!((b.start_ms, b.end_ms, b.outcome), (10, 128_010, "fired"));
    assert_eq!(b.end_ms - b.start_ms, 64 * 2000);
    assert!(ladder(&t, 11, 128_009).is_empty(), "{:?}", ladder(&t, 11, 128_009));
    assert_ladder(
        &t,
        128_010,
        128_010,
        &[
            "128.010  [carol-pf]      Timer B fired        [RFC 3261 §17.1.1.2]",
            "128.010  carol-pf -> cf  200 OK               [reading:8.3.2.9]",
            "128.010  [carol-pf]      Deferred             [reading:8.3.2.9]",
            "128.010  [carol-pf]      stays in media path  [8.3.2.9]",
            "128.010  carol-pf -> cf  SUBSCRIBE            [8.2.2.6.2, 8.3.2.9]",
        ],
    );
    assert_eq!(state_at(&t, 128_009), PfState::Inviting);
}

#[test]
fn case2_before_the_cr_the_pf_answers_408_and_later_messages_are_lost() {
    let t = pre(&cf_invites_unreachable(500));
    assert_ladder(
        &t,
        32010,
        32020,
        &[
            "32.010  [carol-pf]      Timer B fired        [RFC 3261 §17.1.1.2]",
            "32.010  carol-pf -> cf  408 Request Timeout  [reading:8.3.2.9]",
            "32.010  [carol-pf]      Left                 [reading:8.3.2.9]",
            "32.020  cf -> carol-pf  ACK                  [RFC 3261 §17.1.1.3]",
        ],
    );
    assert!(sent(&t, "carol-pf", "cf", "SUBSCRIBE").is_empty());
    for c in &t.chats {
        assert_eq!(c.outcome, Outcome::Lost, "chat #{}", c.id);
        assert_eq!(c.stored_ms, None);
    }
    assert_eq!(t.summary.lost, 2);
}

/// The PF's own deferred-delivery INVITE (path A) times out as well: that is case 2 again, so
/// the PF stays in the group and keeps the store.
#[test]
fn case2_the_pfs_own_delivery_invite_timing_out_keeps_the_deferral() {
    let t = post(
        r#"{ "ims_core": "stateless", "events": [
            { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b1" },
            { "at_ms": 20000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 20200, "kind": "unreachable" },
            { "at_ms": 60000, "kind": "register", "reaction_ms": 500 }
        ] }"#,
    );
    assert_ladder(
        &t,
        20520,
        52520,
        &[
            "20.520  carol-pf -> carol (dropped)  INVITE         [8.3.2.9]",
            "20.520  [carol-pf]                   DeliveringA    [8.3.2.9]",
            "52.520  [carol-pf]                   Timer B fired  [RFC 3261 §17.1.1.2]",
            "52.520  [carol-pf]                   Deferred       [8.3.2.9, policy:q3-unreachable-on-register]",
        ],
    );
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    assert_eq!(t.chats[0].outcome, Outcome::FromStore, "delivered after the second REGISTER");
}

// ====================================================================== case 3
// "3. The MSRP connection setup towards the CPM Client fails, or the existing MSRP connection is
//  lost."  (Editor's Note: when a connection counts as lost is open: policy msrp-loss-detection.)

const MSRP_LOSS: &str = r#"{ "events": [
    { "at_ms": 2000,  "kind": "message", "from": "alice", "text": "a0" },
    { "at_ms": 8000,  "kind": "msrp_loss" },
    { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b1" },
    { "at_ms": 15000, "kind": "message", "from": "alice", "text": "a2" }
] }"#;

/// The scenario with these policy options added (over any it already sets).
fn with_policies(body: &str, policies: Value) -> String {
    let mut v: Value = serde_json::from_str(body).expect("JSON");
    let m = v.as_object_mut().expect("an object");
    let slot = m.entry("policies").or_insert_with(|| json!({}));
    for (k, o) in policies.as_object().expect("policies are an object") {
        slot[k] = o.clone();
    }
    v.to_string()
}

#[test]
fn case3_msrp_loss_seen_as_tcp_reset_defers_at_once() {
    let t = post(MSRP_LOSS);
    assert_ladder(
        &t,
        8000,
        8020,
        &[
            "8.000  [carol]             MSRP connection lost  [scenario]",
            "8.000  carol-pf -> carol   BYE                   [policy:q19-dialog-on-msrp-loss]",
            "8.000  [carol-pf]          Deferred              [8.3.2.9]",
            "8.000  [carol-pf]          stays in media path   [8.3.2.9]",
            "8.000  carol-pf -> cf      SUBSCRIBE             [8.2.2.6.2, 8.3.2.9]",
            "8.010  cf -> carol-pf      200 OK                [RFC 6665 §4.2.1]",
            "8.010  cf -> carol-pf      NOTIFY                [8.2.2.6.2, RFC 4575 §4.2]",
            "8.010  carol -> carol-pf   200 OK                [RFC 3261 §15.1.2]",
            "8.020  carol-pf -> cf      200 OK                [RFC 6665 §4.1.3]",
        ],
    );
    let bye = &sent(&t, "carol-pf", "carol", "BYE")[0];
    assert_eq!(header(&bye.raw, "Reason"), Some("SIP;cause=480;text=\"Temporarily Unavailable\""), "an involuntary Reason");
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    assert_eq!((t.chats[0].outcome, t.chats[1].outcome, t.chats[2].outcome), (Outcome::Live, Outcome::StillStored, Outcome::StillStored));

    // Q19 keep-dialog: the same deferral, without the BYE to Carol.
    let t = post(&with_policies(MSRP_LOSS, json!({ "q19-dialog-on-msrp-loss": "keep-dialog" })));
    assert_ladder(
        &t,
        8000,
        8000,
        &[
            "8.000  [carol]         MSRP connection lost  [scenario]",
            "8.000  [carol-pf]      dialog left alone     [policy:q19-dialog-on-msrp-loss]",
            "8.000  [carol-pf]      Deferred              [8.3.2.9]",
            "8.000  [carol-pf]      stays in media path   [8.3.2.9]",
            "8.000  carol-pf -> cf  SUBSCRIBE             [8.2.2.6.2, 8.3.2.9]",
        ],
    );
}

#[test]
fn case3_send_timeout_detector_defers_only_after_a_send_is_unanswered_for_30s() {
    let t = post(&with_policies(MSRP_LOSS, json!({ "msrp-loss-detection": "send-timeout" })));
    assert_ladder(&t, 8000, 8000, &["8.000  [carol]  MSRP connection lost  [scenario]", "8.000  [carol-pf]  not noticed yet  [policy:msrp-loss-detection]"]);
    // The PF still believes in the connection: it relays, and the SENDs vanish.
    assert_ladder(
        &t,
        12000,
        15020,
        &[
            "12.010  cf -> carol-pf              SEND    [RFC 4975 §7.1.1]",
            "12.020  carol-pf -> cf              200 OK  [RFC 4975 §7.2]",
            "12.020  carol-pf -> carol (dropped) SEND    [RFC 4975 §7.1.1]",
            "15.010  cf -> carol-pf              SEND    [RFC 4975 §7.1.1]",
            "15.020  carol-pf -> cf              200 OK  [RFC 4975 §7.2]",
            "15.020  carol-pf -> carol (dropped) SEND    [RFC 4975 §7.1.1]",
        ],
    );
    assert_eq!(state_at(&t, 42_019), PfState::Active);
    // 30 s after the first unanswered SEND the connection counts as lost: case 3.
    assert_ladder(
        &t,
        42_020,
        42_020,
        &[
            "42.020  [carol-pf]         SEND timed out       [RFC 4975 §7.1.1, policy:msrp-loss-detection]",
            "42.020  carol-pf -> carol  BYE                  [policy:q19-dialog-on-msrp-loss]",
            "42.020  [carol-pf]         back to store #2     [policy:q12-in-flight-at-loss]",
            "42.020  [carol-pf]         back to store #1     [policy:q12-in-flight-at-loss]",
            "42.020  [carol-pf]         Deferred             [8.3.2.9]",
            "42.020  [carol-pf]         stays in media path  [8.3.2.9]",
            "42.020  carol-pf -> cf     SUBSCRIBE            [8.2.2.6.2, 8.3.2.9]",
        ],
    );
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    assert_eq!((t.chats[1].outcome, t.chats[2].outcome), (Outcome::StillStored, Outcome::StillStored));
    assert!(t.chats[1].possible_duplicate && t.chats[2].possible_duplicate);
}

/// Case 1 at 8 s, messages stored; the next MSRP set-up towards Carol will fail. The REGISTER at
/// 26 s brings the PF's INVITE, answered and ACKed, but Carol's client never opens MSRP: after the
/// set-up wait the PF defers again (case 3), and a second REGISTER delivers everything.
const SETUP_FAILS: &str = r#"{ "events": [
    { "at_ms": 2000,  "kind": "message", "from": "alice", "text": "a0" },
    { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480;text=\"Temporarily Unavailable\"" },
    { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b1" },
    { "at_ms": 15000, "kind": "message", "from": "alice", "text": "a2" },
    { "at_ms": 24000, "kind": "msrp_setup_fails" },
    { "at_ms": 26000, "kind": "register", "reaction_ms": 500 },
    { "at_ms": 40000, "kind": "message", "from": "alice", "text": "a3" },
    { "at_ms": 70000, "kind": "register", "reaction_ms": 500 }
] }"#;

#[test]
fn case3_msrp_setup_failure_defers_again_after_the_setup_wait() {
    let t = post(SETUP_FAILS);
    assert_ladder(
        &t,
        27_530,
        57_550,
        &[
            "27.530  carol -> carol-pf  200 OK               [RFC 3261 §13.3.1]",
            "27.540  carol-pf -> carol  ACK                  [RFC 3261 §13.2.2.4]",
            "27.550  [carol]            MSRP set-up fails    [scenario]",
            "40.010  cf -> carol-pf     SEND                 [RFC 4975 §7.1.1]",
            "40.020  carol-pf -> cf     200 OK               [8.3.2.9]",
            "40.020  [carol-pf]         stored #3            [8.3.2.9]",
            "57.540  [carol-pf]         MSRP set-up failed   [8.3.2.9, policy:msrp-loss-detection]",
            "57.540  carol-pf -> carol  BYE                  [policy:q19-dialog-on-msrp-loss]",
            "57.540  [carol-pf]         Deferred             [8.3.2.9]",
            "57.540  [carol-pf]         stays in media path  [8.3.2.9]",
            "57.550  carol -> carol-pf  200 OK               [RFC 3261 §15.1.2]",
        ],
    );
    let wait = t.timers.iter().find(|s| s.name == "MSRP set-up wait" && s.outcome == "fired").expect("the set-up wait fired");
    assert_eq!((wait.start_ms, wait.end_ms), (27_540, 57_540), "30 s from the ACK");
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    assert_eq!(replayed(&t), vec![1, 2, 3], "the second REGISTER delivers the whole store, in order");
    assert!(t.chats[1..].iter().all(|c| c.outcome == Outcome::FromStore));
}

#[test]
fn case3_before_the_cr_an_msrp_failure_makes_the_pf_leave_and_messages_are_lost() {
    // Connection reset.
    let t = pre(MSRP_LOSS);
    assert_ladder(
        &t,
        8000,
        8000,
        &[
            "8.000  [carol]            MSRP connection lost  [scenario]",
            "8.000  carol-pf -> carol  BYE                   [policy:q19-dialog-on-msrp-loss]",
            "8.000  [carol-pf]         no trigger (pre-CR)   [reading:8.3.2.9]",
            "8.000  carol-pf -> cf     BYE                   [reading:8.3.2.9]",
            "8.000  [carol-pf]         Left                  [reading:8.3.2.9]",
        ],
    );
    assert_eq!((t.chats[1].outcome, t.chats[2].outcome), (Outcome::Lost, Outcome::Lost));

    // SEND timeout: the SENDs in flight are lost with the session.
    let t = pre(&with_policies(MSRP_LOSS, json!({ "msrp-loss-detection": "send-timeout" })));
    assert_ladder(
        &t,
        42_020,
        42_020,
        &[
            "42.020  [carol-pf]         SEND timed out       [RFC 4975 §7.1.1, policy:msrp-loss-detection]",
            "42.020  carol-pf -> carol  BYE                  [policy:q19-dialog-on-msrp-loss]",
            "42.020  [carol-pf]         no trigger (pre-CR)  [reading:8.3.2.9]",
            "42.020  carol-pf -> cf     BYE                  [reading:8.3.2.9]",
            "42.020  [carol-pf]         Left                 [reading:8.3.2.9]",
            "42.020  [carol-pf]         lost #1              [reading:8.3.2.9]",
            "42.020  [carol-pf]         lost #2              [reading:8.3.2.9]",
        ],
    );

    // Set-up failure on delivery: the store is lost.
    let t = pre(SETUP_FAILS);
    assert_eq!(sent(&t, "carol-pf", "cf", "BYE").len(), 1);
    assert_eq!(sent(&t, "carol-pf", "cf", "BYE")[0].at_ms, 57_540);
    assert!(t.chats[1..].iter().all(|c| c.outcome == Outcome::Lost), "{:?}", t.chats.iter().map(|c| c.outcome).collect::<Vec<_>>());
}

// ====================================================================== "remain in the media path"
// "... the CPM Participating Function SHALL remain in the media path of the CPM Group Session
//  with the CPM Controlling Function, in view of a deferred delivery to the CPM User of all
//  further CPM Messages exchanged within the CPM Group Session ..."

#[test]
fn deferred_pf_remains_in_the_media_path_and_stores_every_message_in_order() {
    let t = post(
        r#"{ "events": [
            { "at_ms": 5000,  "kind": "bye", "reason": "SIP;cause=408" },
            { "at_ms": 10000, "kind": "message", "from": "alice", "text": "m0" },
            { "at_ms": 11000, "kind": "message", "from": "bob",   "text": "m1" },
            { "at_ms": 11000, "kind": "message", "from": "alice", "text": "m2" },
            { "at_ms": 13000, "kind": "message", "from": "bob",   "text": "m3" },
            { "at_ms": 14000, "kind": "message", "from": "carol", "text": "cannot: she is away" },
            { "at_ms": 15000, "kind": "message", "from": "alice", "text": "m4" },
            { "at_ms": 30000, "kind": "register", "reaction_ms": 500 }
        ] }"#,
    );
    let deferred_until = t.steps.iter().find(|s| s.label == "Replaying").expect("delivery").at_ms;
    // Never a BYE to the CF, in the whole run.
    assert!(sent(&t, "carol-pf", "cf", "BYE").is_empty());
    // Every SEND from the CF while deferred is answered 200 by the PF, citing 8.3.2.9, and the
    // message is stored right away.
    let sends = sent(&t, "cf", "carol-pf", "SEND");
    assert_eq!(sends.len(), 5);
    for (k, s) in sends.iter().enumerate() {
        assert!(s.at_ms > 5010 && s.at_ms < deferred_until);
        let after: Vec<&Step> = t.steps.iter().filter(|x| x.index > s.index && &*x.from == "carol-pf" && x.chat == s.chat).take(2).collect();
        assert_eq!(line(after[0]), norm(&format!("{}  carol-pf -> cf  200 OK  [8.3.2.9]", secs(s.arrive_ms))));
        assert_eq!(line(after[1]), norm(&format!("{}  [carol-pf]  stored #{k}  [8.3.2.9]", secs(s.arrive_ms))));
        assert_eq!(after[1].queue_len, k as u32 + 1, "the store grows by one");
        assert_eq!(after[1].pf_state, PfState::Deferred);
        let c = &t.chats[k];
        assert_eq!((c.stored_ms, c.stored_step), (Some(s.arrive_ms), Some(after[1].index)));
    }
    // The store keeps arrival order, and the replay follows it.
    let stored: Vec<u64> = t.chats.iter().filter_map(|c| c.stored_ms).collect();
    assert!(stored.windows(2).all(|w| w[0] <= w[1]), "{stored:?}");
    assert_eq!(replayed(&t), vec![0, 1, 2, 3, 4]);
    let queue: Vec<u32> =
        t.steps.iter().filter(|s| &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND" && s.chat.is_some()).map(|s| s.queue_len).collect();
    assert_eq!(queue, vec![4, 3, 2, 1, 0], "each replay SEND takes one message off the store");
    // Carol could not write while away (no MSRP connection).
    assert!(t.steps.iter().any(|s| s.at_ms == 14000 && &*s.from == "carol" && s.label == "cannot send"));
    // The focus still sees Carol as connected while her PF holds her leg.
    let pf_view = t.participants.iter().find(|p| p.holder == "pf").expect("the PF got a NOTIFY");
    assert!(pf_view.users.iter().any(|u| &*u.id == "carol" && u.status == "connected"));
}

// ====================================================================== subscription
// "The CPM Participating Function SHALL also subscribe to the focus of the CPM Group Session as
//  described 8.2.2.6.2 "CPM Long-lived Group Session", to obtain the latest Participant
//  Information that will be delivered together with the CPM Group Session data during the
//  deferred delivery."

/// SUBSCRIBE requests from the PF to the CF that start or refresh a subscription (not Expires: 0).
fn subscribes(t: &Trace) -> Vec<&Step> {
    sent(t, "carol-pf", "cf", "SUBSCRIBE").into_iter().filter(|s| header(&s.raw, "Expires") != Some("0")).collect()
}

/// The stretches of time the PF holds Carol's messages for a deferred delivery.
fn deferral_periods(t: &Trace) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut open: Option<u64> = None;
    for s in &t.pf_states {
        let deferring = matches!(s.state, PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::Replaying);
        match (deferring, open) {
            (true, None) if s.state == PfState::Deferred => open = Some(s.from_ms),
            (false, Some(from)) => {
                out.push((from, s.from_ms));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(from) = open {
        out.push((from, t.end_ms));
    }
    out
}

#[test]
fn subscription_one_subscribe_event_conference_per_deferral() {
    // Two deferral periods: case 1 then path A; later case 3 then path A again.
    let t = post(
        r#"{ "events": [
            { "at_ms": 5000,  "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 7000,  "kind": "message", "from": "bob", "text": "b0" },
            { "at_ms": 10000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 20000, "kind": "msrp_loss" },
            { "at_ms": 22000, "kind": "message", "from": "alice", "text": "a1" },
            { "at_ms": 30000, "kind": "register", "reaction_ms": 500 }
        ] }"#,
    );
    let periods = deferral_periods(&t);
    assert_eq!(periods.len(), 2, "{:?}", t.pf_states);
    let subs = subscribes(&t);
    assert!(!subs.is_empty());
    let s = subs[0];
    assert!(s.raw.starts_with("SUBSCRIBE sip:chat-7f3a9c@cf.cpm.example.net SIP/2.0\r\n"), "to the focus (the group session identity)");
    assert_eq!(header(&s.raw, "Event"), Some("conference"));
    assert_eq!(header(&s.raw, "Accept"), Some("application/conference-info+xml"));
    assert_eq!(s.clauses, vec!["8.2.2.6.2", "8.3.2.9"]);
    for (from, to) in &periods {
        let inside = subs.iter().filter(|s| s.at_ms >= *from && s.at_ms < *to).count();
        assert!(inside <= 1, "at most one SUBSCRIBE per deferral period ({from}..{to}): {inside}");
        // The PF holds a live subscription throughout the period: a SUBSCRIBE at or before its
        // start, the focus accepted it, and nothing ended it before the period ends.
        let last = subs.iter().rev().find(|s| s.at_ms <= *from).unwrap_or_else(|| panic!("no subscription for {from}..{to}"));
        let accepted = t.steps.iter().any(|x| {
            x.index > last.index && &*x.from == "cf" && &*x.to == "carol-pf" && x.label == "200 OK" && header(&x.raw, "Call-ID") == header(&last.raw, "Call-ID")
        });
        assert!(accepted, "the focus accepted the subscription");
        let ended = t.steps.iter().any(|x| {
            x.index > last.index
                && x.at_ms < *to
                && header(&x.raw, "Call-ID") == header(&last.raw, "Call-ID")
                && (header(&x.raw, "Expires") == Some("0") || header(&x.raw, "Subscription-State").is_some_and(|v| v.starts_with("terminated")))
        });
        assert!(!ended, "the subscription ended during the period {from}..{to}");
    }
    assert_eq!(subs.iter().filter(|s| s.at_ms >= periods[0].0 && s.at_ms < periods[0].1).count(), 1, "the first deferral subscribes");
}

/// Every NOTIFY of the focus on the PF's subscription is a request within that subscription's
/// dialog (RFC 6665 §4.4.1): it carries the focus's From tag and is sent only once the focus has
/// the SUBSCRIBE, here after its 200 OK to it.
#[test]
fn subscription_notifies_come_after_the_focus_accepted_the_subscribe() {
    let cases = [("case 1", bye_then_bob(Some("SIP;cause=480"), json!({}))), ("case 2", cf_invites_unreachable(500)), ("case 3", MSRP_LOSS.to_string())];
    for (what, body) in &cases {
        let t = post(body);
        let sub = subscribes(&t)[0];
        let accepted = t
            .steps
            .iter()
            .find(|x| &*x.from == "cf" && &*x.to == "carol-pf" && x.label == "200 OK" && header(&x.raw, "Call-ID") == header(&sub.raw, "Call-ID"))
            .expect("the focus accepts the SUBSCRIBE");
        for n in sent(&t, "cf", "carol-pf", "NOTIFY") {
            let from = header(&n.raw, "From").unwrap_or("");
            assert!(from.contains(";tag="), "{what}: NOTIFY at {} s has no From tag: {from}", secs(n.at_ms));
            assert!(n.index > accepted.index, "{what}: NOTIFY (step {}) sent before the focus accepted the SUBSCRIBE (step {})", n.index, accepted.index);
        }
    }
}

/// The users and statuses of a conference-info document, in document order.
fn conference_users(raw: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in raw.split("<user entity=\"sip:").skip(1) {
        let id = part.split('@').next().unwrap_or("").to_string();
        let status = part.split("<status>").nth(1).and_then(|s| s.split("</status>").next()).unwrap_or("").to_string();
        out.push((id, status));
    }
    out
}

const ROSTER: &str = r#"{
    "members": [ { "id": "alice", "name": "Alice" }, { "id": "bob", "name": "Bob" }, { "id": "dave", "name": "Dave", "in_group": false } ],
    "events": [
        { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 12000, "kind": "message", "from": "bob", "text": "Are we still on for 3pm?" },
        { "at_ms": 14000, "kind": "join", "member": "dave" },
        { "at_ms": 16000, "kind": "message", "from": "dave", "text": "Hi all, Bob added me." },
        { "at_ms": 18000, "kind": "leave", "member": "alice" },
        { "at_ms": 26000, "kind": "register", "reaction_ms": 500 }
    ]
}"#;

#[test]
fn subscription_roster_changes_reach_the_pf_and_the_latest_is_delivered() {
    let t = post(ROSTER);
    // Dave's join counts once his MSRP connection is bound: 200 OK at 14.010, his ACK and bind
    // SEND at 14.020 (he is the a=setup:active side, RFC 4975 §5.4), the focus's NOTIFY at 14.030.
    assert_ladder(&t, 14030, 14040, &["14.030  cf -> carol-pf  NOTIFY  [8.2.2.6.2, RFC 4575 §4.2]", "14.040  carol-pf -> cf  200 OK  [RFC 6665 §4.1.3]"]);
    assert_ladder(&t, 18000, 18020, &["18.010  cf -> carol-pf  NOTIFY  [8.2.2.6.2, RFC 4575 §4.2]", "18.020  carol-pf -> cf  200 OK  [RFC 6665 §4.1.3]"]);
    let pf: Vec<_> = t.participants.iter().filter(|p| p.holder == "pf").collect();
    let latest = pf.last().expect("PF snapshots");
    let view: Vec<(&str, &str)> = latest.users.iter().map(|u| (&*u.id, u.status)).collect();
    assert_eq!(view, vec![("carol", "connected"), ("alice", "disconnected"), ("bob", "connected"), ("dave", "connected")]);
    // Carol's client ends up with exactly the PF's latest Participant Information, and gets it
    // during the deferred delivery (after the INVITE, before the replay ends).
    let client = t.participants.iter().rfind(|p| p.holder == "client").expect("a client snapshot");
    assert_eq!(client.users, latest.users);
    let invite = sent(&t, "carol-pf", "carol", "INVITE")[0].at_ms;
    let active = t.steps.iter().rfind(|s| s.label == "Active").expect("delivery completes").at_ms;
    assert!(client.at_ms > invite && client.at_ms <= active + 10, "client roster at {} s", secs(client.at_ms));
    // It travels as a full-state conference-info NOTIFY from the PF (Q13 default).
    let n = &sent(&t, "carol-pf", "carol", "NOTIFY")[0];
    assert_eq!(n.clauses, vec!["8.3.2.9", "policy:q13-participant-info"]);
    assert_eq!(header(&n.raw, "Content-Type"), Some("application/conference-info+xml"));
    let owned: Vec<(String, String)> = view.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(conference_users(&n.raw), owned);
}

#[test]
fn subscription_in_session_setup_policy_puts_the_roster_in_the_pfs_invite() {
    let t = post(&with_policies(ROSTER, json!({ "q13-participant-info": "in-session-setup" })));
    let inv = &sent(&t, "carol-pf", "carol", "INVITE")[0];
    assert!(inv.clauses.contains(&"8.3.2.9"));
    assert!(header(&inv.raw, "Content-Type").is_some_and(|v| v.starts_with("multipart/mixed")));
    let latest = t.participants.iter().rfind(|p| p.holder == "pf").expect("PF snapshot");
    let expected: Vec<(String, String)> = latest.users.iter().map(|u| (u.id.to_string(), u.status.to_string())).collect();
    assert_eq!(conference_users(&inv.raw), expected);
    let client = t.participants.iter().rfind(|p| p.holder == "client").expect("client snapshot");
    assert!(!client.users.is_empty());
    assert_eq!(client.users, latest.users);
}

/// What the PF knows of the roster is what the focus told it: each PF snapshot equals the
/// conference-info document of the NOTIFY that produced it, even when the roster changes again
/// while that NOTIFY is on its way.
#[test]
fn subscription_pf_roster_is_what_the_notify_said() {
    let t = post(
        r#"{
            "members": [ { "id": "alice", "name": "Alice" }, { "id": "bob", "name": "Bob" }, { "id": "dave", "name": "Dave", "in_group": false } ],
            "events": [
                { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480" },
                { "at_ms": 14000, "kind": "join", "member": "dave" },
                { "at_ms": 14005, "kind": "leave", "member": "alice" }
            ]
        }"#,
    );
    let snaps: Vec<_> = t.participants.iter().filter(|p| p.holder == "pf").collect();
    assert_eq!(snaps.len(), 3, "the full state, Dave's join, Alice's leave");
    for snap in snaps {
        // The PF records what it knows when it accepts a NOTIFY: the snapshot's step is that
        // 200 OK, which names the NOTIFY by Call-ID and CSeq.
        let ok = t.steps.iter().find(|s| s.index == snap.step).expect("the snapshot's step");
        assert_eq!((&*ok.from, &*ok.to, ok.label.as_ref()), ("carol-pf", "cf", "200 OK"), "{}", line(ok));
        let notify = t
            .steps
            .iter()
            .find(|s| {
                s.label == "NOTIFY"
                    && &*s.from == "cf"
                    && header(&s.raw, "Call-ID") == header(&ok.raw, "Call-ID")
                    && header(&s.raw, "CSeq") == header(&ok.raw, "CSeq")
            })
            .expect("the NOTIFY the PF accepted");
        let got: Vec<(String, String)> = snap.users.iter().map(|u| (u.id.to_string(), u.status.to_string())).collect();
        assert_eq!(got.len(), conference_users(&notify.raw).len());
        assert_eq!(got, conference_users(&notify.raw), "PF snapshot at {} s vs the NOTIFY sent at {} s", secs(snap.at_ms), secs(notify.at_ms));
    }
}

// ====================================================================== path A
// "A) CPM Participating Function initiates it when the CPM Client becomes available, i.e. upon
//  receiving 3rd party register;"

const PATH_A: &str = r#"{ "events": [
    { "at_ms": 2000,  "kind": "message", "from": "alice", "text": "Morning all - agenda for Friday?" },
    { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480;text=\"Temporarily Unavailable\"" },
    { "at_ms": 12000, "kind": "message", "from": "bob", "text": "Are we still on for 3pm?" },
    { "at_ms": 15000, "kind": "message", "from": "alice", "text": "Yes - room 4B." },
    { "at_ms": 19000, "kind": "message", "from": "bob", "text": "I'll book the projector." },
    { "at_ms": 26000, "kind": "register", "reaction_ms": 500 },
    { "at_ms": 40000, "kind": "message", "from": "alice", "text": "Welcome back, Carol!" }
] }"#;

#[test]
fn path_a_third_party_register_makes_the_pf_invite_and_replay_in_order() {
    let t = post(PATH_A);
    assert_ladder(
        &t,
        26_000,
        27_620,
        &[
            "26.000 carol -> scscf REGISTER [RFC 3261 §10.2]",
            "26.010 scscf -> carol 200 OK [RFC 3261 §10.3]",
            "26.010 scscf -> carol-pf REGISTER [3GPP TS 24.229 §5.4.1.7]",
            "26.020 carol-pf -> scscf 200 OK [3GPP TS 24.229 §5.4.1.7]",
            "26.020 [carol-pf] reaction delay [8.3.2.9]",
            "26.520 carol-pf -> carol INVITE [8.3.2.9]",
            "26.520 [carol-pf] DeliveringA [8.3.2.9]",
            "26.530 carol -> carol-pf 180 Ringing [RFC 3261 §13.3.1.1]",
            "27.530 carol -> carol-pf 200 OK [RFC 3261 §13.3.1]",
            "27.540 carol-pf -> carol ACK [RFC 3261 §13.2.2.4]",
            "27.550 carol -> carol-pf SEND [RFC 4975 §5.4]",
            "27.550 carol -> carol-pf SUBSCRIBE [RFC 4575 §3, policy:q13-participant-info]",
            "27.560 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "27.560 [carol-pf] Replaying [8.3.2.9]",
            "27.560 carol-pf -> carol SEND [reading:8.3.2.9]",
            "27.560 carol-pf -> carol 200 OK [RFC 6665 §4.2.1, policy:q13-participant-info]",
            "27.560 carol-pf -> carol NOTIFY [8.3.2.9, policy:q13-participant-info]",
            "27.570 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "27.570 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "27.570 carol -> carol-pf 200 OK [RFC 6665 §4.1.3]",
            "27.580 [carol-pf] delivered #1 [8.3.2.9]",
            "27.580 carol-pf -> carol SEND [reading:8.3.2.9]",
            "27.580 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "27.580 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
            "27.590 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "27.590 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "27.590 cf -> carol-pf 200 OK [RFC 4975 §7.2]",
            "27.600 [carol-pf] delivered #2 [8.3.2.9]",
            "27.600 carol-pf -> carol SEND [reading:8.3.2.9]",
            "27.600 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "27.600 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
            "27.610 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "27.610 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "27.610 cf -> carol-pf 200 OK [RFC 4975 §7.2]",
            "27.620 [carol-pf] delivered #3 [8.3.2.9]",
            "27.620 [carol-pf] Active [8.3.2.9]",
            "27.620 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "27.620 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
        ],
    );
    let reaction = t.timers.iter().find(|s| s.name == "PF reaction delay").expect("reaction timer");
    assert_eq!((reaction.start_ms, reaction.end_ms, reaction.outcome), (26_020, 26_520, "fired"));
    // The INVITE goes to Carol as a group invitation for this session.
    let inv = &sent(&t, "carol-pf", "carol", "INVITE")[0];
    assert!(inv.raw.starts_with("INVITE sip:carol@ims.example.net SIP/2.0\r\n"));
    assert_eq!(header(&inv.raw, "Contribution-ID"), Some("2f4d6e8a-1b3c-4d5e-8f90-a1b2c3d4e5f6"));
    assert!(header(&inv.raw, "Contact").is_some_and(|c| c.contains(";isfocus")));
    // Replay in stored order, each SEND going to the MSRP path Carol gave in her 200 OK.
    assert_eq!(replayed(&t), vec![1, 2, 3]);
    let path = sdp_path(&sent(&t, "carol", "carol-pf", "200 OK").iter().find(|s| s.at_ms == 27_530).expect("Carol's 200").raw).to_string();
    for s in sends_to_carol_from(&t, 26_520) {
        assert_eq!(header(&s.raw, "To-Path"), Some(path.as_str()));
    }
    assert_every_stored_message_delivered_once(&t);
    assert_eq!(state_at(&t, 27_620), PfState::Active);
    // Back to normal: the next message is relayed live.
    assert_eq!(t.chats[4].outcome, Outcome::Live);
}

/// Every stored message reached Carol exactly once, after it was stored, in the order stored.
#[track_caller]
fn assert_every_stored_message_delivered_once(t: &Trace) {
    let stored: Vec<_> = t.chats.iter().filter(|c| c.stored_ms.is_some()).collect();
    assert!(!stored.is_empty());
    for c in &stored {
        assert_eq!(c.outcome, Outcome::FromStore, "chat #{}", c.id);
        let oks = t.steps.iter().filter(|s| &*s.from == "carol" && &*s.to == "carol-pf" && s.label == "200 OK" && s.chat == Some(c.id)).count();
        assert_eq!(oks, 1, "chat #{} acknowledged by Carol's client {oks} times", c.id);
        let notes = pf_notes(t, &format!("delivered #{}", c.id)).len();
        assert_eq!(notes, 1, "chat #{} has {notes} `delivered` steps", c.id);
        assert!(c.delivered_ms > c.stored_ms);
    }
    let mut by_delivery = stored.clone();
    by_delivery.sort_by_key(|c| c.delivered_ms);
    let order: Vec<u32> = by_delivery.iter().map(|c| c.id).collect();
    let mut by_store = stored.clone();
    by_store.sort_by_key(|c| c.stored_ms);
    assert_eq!(order, by_store.iter().map(|c| c.id).collect::<Vec<_>>(), "delivery order = store order");
}

// ====================================================================== path B
// "B) The CPM Client sends a re-join request as soon as it comes back online, and the CPM
//  Participating Function receives the re-join before reacting on the 3rd party register and
//  issuing an invitation to the CPM Client, then the CPM Participating Function:
//  · SHALL not send any SIP INVITE to the CPM Client for the deferred delivery of the CPM Group
//    Session,
//  · it SHALL use the session setup following the received re-join request also for deferred
//    delivery purposes. The deferred delivery of the missed CPM Group Session data is performed
//    over MSRP."

fn path_b(reaction_ms: u64, rejoin_ms: u64) -> String {
    json!({
        "events": [
            { "at_ms": 2000, "kind": "message", "from": "alice", "text": "Morning all - agenda for Friday?" },
            { "at_ms": 8000, "kind": "bye", "reason": "SIP;cause=480;text=\"Temporarily Unavailable\"" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "Are we still on for 3pm?" },
            { "at_ms": 15000, "kind": "message", "from": "alice", "text": "Yes - room 4B." },
            { "at_ms": 19000, "kind": "message", "from": "bob", "text": "I'll book the projector." },
            { "at_ms": 26000, "kind": "register", "reaction_ms": reaction_ms },
            { "at_ms": rejoin_ms, "kind": "rejoin" },
            { "at_ms": 40000, "kind": "message", "from": "alice", "text": "Welcome back, Carol!" }
        ]
    })
    .to_string()
}

#[test]
fn path_b_rejoin_before_the_pf_reacts_no_invite_and_delivery_over_the_rejoin() {
    let t = post(&path_b(3000, 26_500));
    assert_ladder(
        &t,
        26_500,
        26_590,
        &[
            "26.500 carol -> carol-pf INVITE [8.3.2.9]",
            "26.510 [carol-pf] no INVITE (path B) [8.3.2.9]",
            "26.510 carol-pf -> carol 200 OK [reading:8.3.2.9]",
            "26.510 [carol-pf] DeliveringB [8.3.2.9]",
            "26.520 carol -> carol-pf ACK [RFC 3261 §13.2.2.4]",
            "26.520 carol -> carol-pf SEND [RFC 4975 §5.4]",
            "26.520 carol -> carol-pf SUBSCRIBE [RFC 4575 §3, policy:q13-participant-info]",
            "26.530 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "26.530 [carol-pf] Replaying [8.3.2.9]",
            "26.530 carol-pf -> carol SEND [reading:8.3.2.9]",
            "26.530 carol-pf -> carol 200 OK [RFC 6665 §4.2.1, policy:q13-participant-info]",
            "26.530 carol-pf -> carol NOTIFY [8.3.2.9, policy:q13-participant-info]",
            "26.540 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "26.540 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "26.540 carol -> carol-pf 200 OK [RFC 6665 §4.1.3]",
            "26.550 [carol-pf] delivered #1 [8.3.2.9]",
            "26.550 carol-pf -> carol SEND [reading:8.3.2.9]",
            "26.550 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "26.550 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
            "26.560 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "26.560 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "26.560 cf -> carol-pf 200 OK [RFC 4975 §7.2]",
            "26.570 [carol-pf] delivered #2 [8.3.2.9]",
            "26.570 carol-pf -> carol SEND [reading:8.3.2.9]",
            "26.570 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "26.570 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
            "26.580 carol -> carol-pf 200 OK [RFC 4975 §7.2]",
            "26.580 carol -> carol-pf SEND [RFC 5438 §7.1.1, RFC 5438 §5.1]",
            "26.580 cf -> carol-pf 200 OK [RFC 4975 §7.2]",
            "26.590 [carol-pf] delivered #3 [8.3.2.9]",
            "26.590 [carol-pf] Active [8.3.2.9]",
            "26.590 carol-pf -> carol 200 OK [RFC 4975 §7.2]",
            "26.590 carol-pf -> cf SEND [RFC 5438 §7.1.1, RFC 4975 §7.1.1]",
        ],
    );
    // SHALL NOT send any INVITE to the client: none after the re-join (nor at all here).
    assert!(sent(&t, "carol-pf", "carol", "INVITE").is_empty());
    let reaction = t.timers.iter().find(|s| s.name == "PF reaction delay").expect("reaction timer");
    assert_eq!((reaction.start_ms, reaction.end_ms, reaction.outcome), (26_020, 26_510, "stopped"));
    // The PF answers the re-join itself; the focus sees no new INVITE for Carol.
    assert!(sent(&t, "carol-pf", "cf", "INVITE").is_empty());
    // SHALL use the session set up by the re-join: every replay SEND goes to the MSRP path of
    // the re-join's SDP offer.
    let rejoin = &sent(&t, "carol", "carol-pf", "INVITE")[0];
    assert_eq!(header(&rejoin.raw, "Contribution-ID"), Some("2f4d6e8a-1b3c-4d5e-8f90-a1b2c3d4e5f6"), "a re-join of this session");
    let path = sdp_path(&rejoin.raw);
    for s in sends_to_carol_from(&t, 26_500) {
        assert_eq!(header(&s.raw, "To-Path"), Some(path));
    }
    assert_eq!(replayed(&t), vec![1, 2, 3]);
    assert_every_stored_message_delivered_once(&t);
    assert_eq!(t.chats[4].outcome, Outcome::Live);
}

#[test]
fn path_b_without_any_register_also_sends_no_invite() {
    let t = post(
        r#"{ "events": [
            { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=503" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b1" },
            { "at_ms": 20000, "kind": "rejoin" }
        ] }"#,
    );
    assert!(sent(&t, "carol-pf", "carol", "INVITE").is_empty());
    assert_eq!(
        sent(&t, "carol-pf", "carol", "200 OK")[1].clauses,
        vec!["reading:8.3.2.9"],
        "the PF answers the re-join for the delivery (our reading of path B)"
    );
    assert_eq!(t.chats[0].outcome, Outcome::FromStore);
}

#[test]
fn path_b_after_case2_and_case3_as_well() {
    for body in [
        json!({ "setup": "cf_invites", "events": [
            { "at_ms": 0, "kind": "unreachable" },
            { "at_ms": 40000, "kind": "message", "from": "bob", "text": "b0" },
            { "at_ms": 70000, "kind": "register", "reaction_ms": 3000 },
            { "at_ms": 70500, "kind": "rejoin" } ] }),
        json!({ "events": [
            { "at_ms": 8000, "kind": "msrp_loss" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b0" },
            { "at_ms": 26000, "kind": "register", "reaction_ms": 3000 },
            { "at_ms": 26500, "kind": "rejoin" } ] }),
    ] {
        let t = post(&body.to_string());
        let rejoin = sent(&t, "carol", "carol-pf", "INVITE")[0].at_ms;
        assert!(sent(&t, "carol-pf", "carol", "INVITE").iter().all(|s| s.at_ms < rejoin), "no PF INVITE after the re-join");
        assert!(sent(&t, "carol-pf", "carol", "INVITE").iter().all(|s| s.clauses != vec!["8.3.2.9"]), "no delivery INVITE at all");
        assert_every_stored_message_delivered_once(&t);
    }
}

// ====================================================================== Q1: re-join after the PF reacted (not in the CR)

fn race(policy: &str) -> String {
    json!({
        "answer_ms": 3000,
        "policies": { "q1-rejoin-after-invite": policy },
        "events": [
            { "at_ms": 8000, "kind": "bye", "reason": "SIP;cause=503;text=\"Service Unavailable\"" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "Are we still on for 3pm?" },
            { "at_ms": 15000, "kind": "message", "from": "alice", "text": "Yes - room 4B." },
            { "at_ms": 26000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 27500, "kind": "rejoin" },
            { "at_ms": 40000, "kind": "message", "from": "alice", "text": "Welcome back, Carol!" }
        ]
    })
    .to_string()
}

#[test]
fn q1_default_cancels_the_pfs_invite_and_delivers_over_the_rejoin() {
    let t = post(&race("prefer-rejoin"));
    assert_ladder(
        &t,
        27_500,
        27_530,
        &[
            "27.500  carol -> carol-pf  INVITE                  [8.3.2.9]",
            "27.510  carol-pf -> carol  CANCEL                  [RFC 3261 §9.1, policy:q1-rejoin-after-invite]",
            "27.510  [carol-pf]         Deferred                [policy:q1-rejoin-after-invite]",
            "27.510  carol-pf -> carol  200 OK                  [reading:8.3.2.9]",
            "27.510  [carol-pf]         DeliveringB             [8.3.2.9]",
            "27.520  carol -> carol-pf  200 OK                  [RFC 3261 §9.2]",
            "27.520  carol -> carol-pf  487 Request Terminated  [RFC 3261 §9.2]",
            "27.520  carol -> carol-pf  ACK                     [RFC 3261 §13.2.2.4]",
            "27.520  carol -> carol-pf  SEND                    [RFC 4975 §5.4]",
            "27.520  carol -> carol-pf  SUBSCRIBE               [RFC 4575 §3, policy:q13-participant-info]",
            "27.530  carol-pf -> carol  200 OK                  [RFC 4975 §7.2]",
            "27.530  [carol-pf]         Replaying               [8.3.2.9]",
            "27.530  carol-pf -> carol  SEND                    [reading:8.3.2.9]",
            "27.530  carol-pf -> carol  ACK                     [RFC 3261 §17.1.1.3]",
            "27.530  carol-pf -> carol  200 OK                  [RFC 6665 §4.2.1, policy:q13-participant-info]",
            "27.530  carol-pf -> carol  NOTIFY                  [8.3.2.9, policy:q13-participant-info]",
        ],
    );
    // The PF's own INVITE never gets a 2xx; its INVITE was sent before the re-join, none after.
    let invites = sent(&t, "carol-pf", "carol", "INVITE");
    assert_eq!(invites.len(), 1);
    assert!(invites[0].at_ms < 27_500);
    assert!(t.steps.iter().all(|s| !(s.at_ms > 27_500 && &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "INVITE")));
    let call_id = header(&invites[0].raw, "Call-ID");
    let answers: Vec<&str> = t
        .steps
        .iter()
        .filter(|s| &*s.from == "carol" && s.raw.starts_with("SIP/2.0") && header(&s.raw, "Call-ID") == call_id)
        .map(|s| s.label.as_ref())
        .collect();
    assert_eq!(answers, vec!["180 Ringing", "200 OK", "487 Request Terminated"], "180 while alerting, 200 for the CANCEL, then the INVITE ends with 487");
    let path = sdp_path(&sent(&t, "carol", "carol-pf", "INVITE")[0].raw).to_string();
    for s in sends_to_carol_from(&t, 27_500) {
        assert_eq!(header(&s.raw, "To-Path"), Some(path.as_str()), "delivery over the re-join's session");
    }
    assert_eq!(replayed(&t), vec![0, 1]);
    assert_every_stored_message_delivered_once(&t);
}

#[test]
fn q1_prefer_own_invite_turns_the_rejoin_away_with_486() {
    let t = post(&race("prefer-own-invite"));
    let busy = sent(&t, "carol-pf", "carol", "486 Busy Here");
    assert_eq!(busy.len(), 1);
    assert_eq!((busy[0].at_ms, busy[0].clauses.as_ref()), (27_510, &["policy:q1-rejoin-after-invite"][..]));
    assert_eq!(header(&busy[0].raw, "CSeq"), header(&sent(&t, "carol", "carol-pf", "INVITE")[0].raw, "CSeq"));
    // Carol's client completes its INVITE transaction: a non-2xx final answer is ACKed (RFC 3261 §17.1.1.3).
    let acked = t.steps.iter().any(|s| {
        s.index > busy[0].index
            && &*s.from == "carol"
            && &*s.to == "carol-pf"
            && s.label == "ACK"
            && header(&s.raw, "Call-ID") == header(&busy[0].raw, "Call-ID")
    });
    assert!(acked, "Carol's client never ACKs the 486 to its re-join:\n{}", ladder(&t, 27_500, 27_600).join("\n"));
    // The delivery goes over the PF's own session, which Carol accepts at 29.530.
    assert_ladder(
        &t,
        29_530,
        29_560,
        &[
            "29.530  carol -> carol-pf  200 OK     [RFC 3261 §13.3.1]",
            "29.540  carol-pf -> carol  ACK        [RFC 3261 §13.2.2.4]",
            "29.550  carol -> carol-pf  SEND       [RFC 4975 §5.4]",
            "29.550  carol -> carol-pf  SUBSCRIBE  [RFC 4575 §3, policy:q13-participant-info]",
            "29.560  carol-pf -> carol  200 OK     [RFC 4975 §7.2]",
            "29.560  [carol-pf]         Replaying  [8.3.2.9]",
            "29.560  carol-pf -> carol  SEND       [reading:8.3.2.9]",
            "29.560  carol-pf -> carol  200 OK     [RFC 6665 §4.2.1, policy:q13-participant-info]",
            "29.560  carol-pf -> carol  NOTIFY     [8.3.2.9, policy:q13-participant-info]",
        ],
    );
    let path = sdp_path(&sent(&t, "carol", "carol-pf", "200 OK").iter().find(|s| s.at_ms == 29_530).expect("Carol's 200").raw).to_string();
    for s in sends_to_carol_from(&t, 29_530) {
        assert_eq!(header(&s.raw, "To-Path"), Some(path.as_str()), "delivery over the PF's own session");
    }
    assert_every_stored_message_delivered_once(&t);
}

/// The Q1 CANCEL is a proper RFC 3261 §9 CANCEL: it matches the INVITE's top Via (branch),
/// Call-ID, From, To and CSeq number; its 200 OK answers the CANCEL (CSeq method CANCEL), not the
/// INVITE; and the PF's ACK for the 487 belongs to the INVITE transaction (same branch) and
/// carries the To tag of the 487 (§17.1.1.3).
#[test]
fn q1_cancel_and_the_ack_for_487_are_well_formed() {
    // Hop by hop: the PF's CANCEL and its ACK end at the (stateful) IMS core, which answers the
    // CANCEL itself (RFC 3261 §16.10) and passes the 487 on.
    let t = run(&scenario(&race("prefer-rejoin")), Rules::PostCr);
    let invite = &sent(&t, "carol-pf", "scscf", "INVITE")[0];
    let cancel = &sent(&t, "carol-pf", "scscf", "CANCEL")[0];
    for h in ["Call-ID", "From", "To"] {
        assert_eq!(header(&cancel.raw, h), header(&invite.raw, h), "CANCEL {h} (RFC 3261 §9.1)");
    }
    assert_eq!(header(&cancel.raw, "Via"), header(&invite.raw, "Via"), "CANCEL Via (RFC 3261 §9.1)");
    assert_eq!(header(&cancel.raw, "CSeq"), Some("1 CANCEL"));
    let call_id = header(&invite.raw, "Call-ID");
    let ok = t
        .steps
        .iter()
        .find(|s| {
            &*s.from == "scscf"
                && &*s.to == "carol-pf"
                && s.label == "200 OK"
                && header(&s.raw, "CSeq") == Some("1 CANCEL")
                && header(&s.raw, "Call-ID") == call_id
        })
        .expect("200 for the CANCEL");
    assert_eq!(header(&ok.raw, "Call-ID"), header(&cancel.raw, "Call-ID"));
    assert_eq!(header(&ok.raw, "CSeq"), Some("1 CANCEL"), "the 200 OK answers the CANCEL (RFC 3261 §9.2)");
    assert_eq!(header(&ok.raw, "Via"), header(&cancel.raw, "Via"));
    let r487 = &sent(&t, "scscf", "carol-pf", "487 Request Terminated")[0];
    let ack = t.steps.iter().find(|s| s.index > r487.index && s.label == "ACK" && header(&s.raw, "Call-ID") == call_id).expect("ACK for the 487");
    assert_eq!(header(&ack.raw, "CSeq"), Some("1 ACK"));
    assert_eq!(header(&ack.raw, "Via"), header(&invite.raw, "Via"), "the ACK for a non-2xx uses the INVITE's branch (RFC 3261 §17.1.1.3)");
    assert_eq!(header(&ack.raw, "To"), header(&r487.raw, "To"), "the ACK carries the 487's To tag");
}

/// Any non-2xx final answer to an INVITE is ACKed hop by hop with the INVITE's branch and the
/// answer's To header (RFC 3261 §17.1.1.3), wherever it happens in the presets or here.
#[test]
fn every_non_2xx_answer_to_an_invite_is_acked_in_its_transaction() {
    let mut bodies: Vec<(String, String)> = cpm_deferral::presets::all().iter().map(|p| (p.name.to_string(), p.json.to_string())).collect();
    bodies.push((
        "PF's delivery INVITE answered 480".into(),
        r#"{ "events": [
            { "at_ms": 8000,  "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b1" },
            { "at_ms": 20000, "kind": "invite_rejected", "status": 480 },
            { "at_ms": 20000, "kind": "register", "reaction_ms": 500 },
            { "at_ms": 40000, "kind": "register", "reaction_ms": 500 }
        ] }"#
            .into(),
    ));
    let mut problems = Vec::new();
    for (name, body) in &bodies {
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = run(&scenario(body), rules);
            for r in t.steps.iter().filter(|s| s.protocol == Protocol::SIP && s.raw.starts_with("SIP/2.0 ")) {
                let code: u16 = r.raw[8..11].parse().unwrap_or(0);
                let Some(cseq) = header(&r.raw, "CSeq") else { continue };
                if code < 300 || !cseq.ends_with(" INVITE") {
                    continue;
                }
                let ack =
                    t.steps.iter().find(|a| a.index > r.index && a.label == "ACK" && a.from == r.to && header(&a.raw, "Call-ID") == header(&r.raw, "Call-ID"));
                let what = format!("{name} ({}): {} at {} s, {} -> {}", rules.as_str(), r.label, secs(r.at_ms), r.from, r.to);
                match ack {
                    None => problems.push(format!("{what}: never ACKed")),
                    Some(a) => {
                        if header(&a.raw, "Via") != header(&r.raw, "Via") {
                            problems.push(format!("{what}: ACK Via {:?} ≠ {:?}", header(&a.raw, "Via"), header(&r.raw, "Via")));
                        }
                        if header(&a.raw, "To") != header(&r.raw, "To") {
                            problems.push(format!("{what}: ACK To {:?} ≠ {:?}", header(&a.raw, "To"), header(&r.raw, "To")));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.iter().all(|p| p.contains("ACK Via") || p.contains("ACK To")), "missing ACKs:\n{}", problems.join("\n"));
    assert!(problems.is_empty(), "{} malformed or missing ACKs:\n{}", problems.len(), problems.join("\n"));
}

/// After path A Carol is a normal participant again: her client holds the PF's session, so a
/// second involuntary drop is case 1 again, and a later leave is a normal §8.2.2.3 leave. The
/// same holds for a session Carol accepted when the CF invited her.
#[test]
fn case1_applies_to_every_session_the_pf_set_up_with_carol() {
    let again = with_events(
        PATH_A,
        json!([
            { "at_ms": 60000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 65000, "kind": "message", "from": "bob", "text": "again?" }
        ]),
    );
    let t = post(&again);
    assert_eq!(state_at(&t, 59_999), PfState::Active, "Carol is a normal participant again");
    assert_ladder(
        &t,
        60_000,
        60_010,
        &[
            "60.000  carol -> carol-pf  BYE                  [RFC 3261 §15.1.1, RFC 3326 §2]",
            "60.010  carol-pf -> carol  200 OK               [reading:8.2.2.3, RFC 3261 §15.1.2]",
            "60.010  [carol-pf]         Deferred             [8.3.2.9]",
            "60.010  [carol-pf]         stays in media path  [8.3.2.9]",
        ],
    );
    assert_eq!(t.chats.last().map(|c| c.outcome), Some(Outcome::StillStored));

    let leave = with_events(
        PATH_A,
        json!([
            { "at_ms": 60000, "kind": "leave", "member": "carol" },
            { "at_ms": 65000, "kind": "message", "from": "bob", "text": "bye Carol" }
        ]),
    );
    let t = post(&leave);
    assert_eq!(state_at(&t, 59_999), PfState::Active, "Carol is a normal participant again");
    assert_ladder(
        &t,
        60_000,
        60_010,
        &[
            "60.000  carol -> carol-pf  BYE     [RFC 3261 §15.1.1, RFC 3326 §2]",
            "60.010  carol-pf -> carol  200 OK  [reading:8.2.2.3, RFC 3261 §15.1.2]",
            "60.010  carol-pf -> cf     SUBSCRIBE  [RFC 6665 §4.1.2.3]",
            "60.010  carol-pf -> cf     BYE     [reading:8.2.2.3]",
            "60.010  [carol-pf]         Left    [reading:8.2.2.3]",
        ],
    );
    assert_eq!(t.chats.last().map(|c| c.outcome), Some(Outcome::NotForCarol), "she left on purpose");
    assert!(!sends_to_carol_from(&t, 60_000).any(|_| true), "nothing is sent to Carol after she left");

    // The same after Carol accepted the CF's invitation through her PF (setup `cf_invites`).
    let t = post(
        r#"{ "setup": "cf_invites", "events": [
            { "at_ms": 10000, "kind": "bye", "reason": "SIP;cause=480" },
            { "at_ms": 12000, "kind": "message", "from": "bob", "text": "b0" }
        ] }"#,
    );
    assert_eq!(state_at(&t, 9_999), PfState::Active, "Carol is a normal participant again");
    assert_ladder(
        &t,
        10_000,
        10_010,
        &[
            "10.000  carol -> carol-pf  BYE                  [RFC 3261 §15.1.1, RFC 3326 §2]",
            "10.010  carol-pf -> carol  200 OK               [reading:8.2.2.3, RFC 3261 §15.1.2]",
            "10.010  [carol-pf]         Deferred             [8.3.2.9]",
            "10.010  [carol-pf]         stays in media path  [8.3.2.9]",
            "10.010  carol-pf -> cf     SUBSCRIBE            [8.2.2.6.2, 8.3.2.9]",
        ],
    );
}

/// The scenario with these events appended (they must come after the last one).
fn with_events(body: &str, more: Value) -> String {
    let mut v: Value = serde_json::from_str(body).expect("JSON");
    let evs = v["events"].as_array_mut().expect("events");
    evs.extend(more.as_array().expect("an array").iter().cloned());
    v.to_string()
}

/// The Editor's Note detector `session-refresh`: every run still ends, whatever the session does.
#[test]
fn case3_session_refresh_detector_runs_always_end() {
    let refresh = json!({ "msrp-loss-detection": "session-refresh" });
    for name in ["bye-480-path-b", "full-setup-then-drop", "invite-timeout-path-b"] {
        let body = with_policies(cpm_deferral::presets::find(name).expect("preset").json, refresh.clone());
        assert!(body.contains("session-refresh"));
        let done = run_cli(&body, Rules::PostCr, Duration::from_millis(1500));
        assert!(done.is_some(), "preset {name} with msrp-loss-detection=session-refresh never finishes");
    }
}

/// Under `session-refresh` the PF refreshes an established session too, so a device that
/// vanishes without BYE is noticed when a refresh fails (64×T1 after the UPDATE), and the PF
/// defers (case 3) instead of sending into the void until the run ends.
#[test]
fn case3_session_refresh_detector_notices_a_silent_drop_in_an_established_session() {
    let body = r#"{
        "policies": { "msrp-loss-detection": "session-refresh" },
        "events": [
            { "at_ms": 8000,   "kind": "unreachable" },
            { "at_ms": 12000,  "kind": "message", "from": "bob", "text": "b0" },
            { "at_ms": 300000, "kind": "register", "reaction_ms": 500 }
        ]
    }"#;
    let t = run_cli(body, Rules::PostCr, Duration::from_millis(1500)).expect("the run ends");
    let steps = t["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    let update = steps.iter().find(|s| s["label"] == "UPDATE" && s["from"] == "carol-pf").expect("the PF refreshes Carol's session");
    assert!(update["at_ms"].as_u64().unwrap_or(u64::MAX) <= 90_000 + 30_000, "a refresh within the 90 s period: {}", update["at_ms"]);
    let deferred = steps.iter().find(|s| s["label"] == "Deferred").expect("the PF defers");
    assert_eq!(deferred["at_ms"].as_u64(), Some(update["at_ms"].as_u64().unwrap_or(0) + 64 * 500), "Timer F after the UPDATE");
    assert_eq!(t["chats"][0]["outcome"], "from_store");
}

// ====================================================================== run-wide guarantees

/// Messages are never silently dropped, and policy steps say so, in every preset under both
/// rule sets and with every option of the policies that decide what is lost.
#[test]
fn no_message_is_silently_dropped_in_any_preset() {
    let variants = [
        json!({}),
        json!({ "q12-in-flight-at-loss": "count-lost" }),
        json!({ "q8-group-ends": "discard" }),
        json!({ "q5-invite-error": "literal" }),
        json!({ "q6-non-sip-reason": "broad" }),
        json!({ "msrp-loss-detection": "send-timeout" }),
        json!({ "q11-live-during-replay": "interleave" }),
        json!({ "q1-rejoin-after-invite": "prefer-own-invite" }),
        json!({ "q7-never-returns": "expire-10min" }),
    ];
    let mut runs = 0;
    for p in cpm_deferral::presets::all() {
        for policies in &variants {
            let body = with_policies(p.json, policies.clone());
            for rules in [Rules::PostCr, Rules::PreCr] {
                let t = run(&scenario(&body), rules);
                check_invariants(&t, &format!("preset {} with {policies}", p.name));
                assert_eq!(
                    t.summary.lost + t.summary.discarded + t.summary.still_stored + t.summary.delivered_from_store + t.summary.delivered_live,
                    t.chats.iter().filter(|c| c.for_carol).count() as u32,
                    "preset {} {}: the summary accounts for every message for Carol",
                    p.name,
                    rules.as_str()
                );
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 16 * 9 * 2);
}

/// After the CR, none of the three cases loses a message in its preset; before it, cases 2 and
/// 3 do.
#[test]
fn the_cr_turns_lost_messages_into_deferred_ones() {
    for name in ["invite-timeout-path-a", "msrp-loss-path-a", "silent-drop-send-timeout", "showcase-invite-timeout"] {
        let p = cpm_deferral::presets::find(name).expect("preset");
        let sc = scenario(p.json);
        let (after, before) = (run(&sc, Rules::PostCr), run(&sc, Rules::PreCr));
        assert_eq!(after.summary.lost, 0, "{name} post-cr");
        assert!(before.summary.lost > 0, "{name} pre-cr");
        assert!(after.summary.delivered_from_store + after.summary.still_stored >= before.summary.lost, "{name}");
    }
}
