//! Issue 11, digest Q16: in-dialog requests from the CF on the PF's leg (a session refresh
//! re-INVITE, RFC 4028 §7.4 and RFC 3264 §8, perhaps with a new Subject; an UPDATE, RFC 3311).
//! While Carol is deferred the PF's answer is policy `q16-cf-in-dialog` (not in the CR); each
//! test is a scripted timeline run under each option, and the judge reads a capture of each.

mod common;
use common::ladder;

use cpm_deferral::export::pcap;
use cpm_deferral::judge::{judge, Options, Verdict};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};

fn scenario(setup: &str, policies: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, "setup": "{setup}", "policies": {{ {policies} }}, "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

fn post(policies: &str, events: &str) -> Trace {
    run(&scenario("established", policies, events), Rules::PostCr)
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    common::header(raw, name)
}

/// The SIP messages between the PF and the focus with this label, in order.
fn on_leg<'a>(t: &'a Trace, from: &str, label: &str) -> Vec<&'a Step> {
    let to = if from == "cf" { "carol-pf" } else { "cf" };
    t.steps.iter().filter(|s| s.kind == StepKind::Message && &*s.from == from && &*s.to == to && s.label == label).collect()
}

/// The `o=` line's (session id, version) of an SDP body.
fn origin(raw: &str) -> (u64, u64) {
    let o = raw.split("\r\n").find_map(|l| l.strip_prefix("o=")).unwrap_or_else(|| panic!("no o= line in\n{raw}"));
    let f: Vec<&str> = o.split(' ').collect();
    (f[1].parse().unwrap(), f[2].parse().unwrap())
}

fn branch(raw: &str) -> &str {
    header(raw, "Via").and_then(|v| v.split("branch=").nth(1)).unwrap_or("")
}

fn final_state(t: &Trace) -> PfState {
    t.pf_states.last().map(|s| s.state).unwrap_or(PfState::Idle)
}

const POLICY: &str = "policy:q16-cf-in-dialog";

/// Carol drops (case 1), a message is stored, the focus refreshes her leg with a re-INVITE and
/// then an UPDATE, another message comes, and she registers again later.
const DEFERRED: &str = r#"[
    { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 2000, "kind": "message", "from": "alice", "text": "one" },
    { "at_ms": 5000, "kind": "cf_reinvite" },
    { "at_ms": 6000, "kind": "cf_update" },
    { "at_ms": 7000, "kind": "message", "from": "bob", "text": "two" },
    { "at_ms": 20000, "kind": "register" }
]"#;

/// The wire of two refreshes on an established leg while Carol is in session: the re-INVITE
/// offers the same media with the `o=` version one higher each time (same session id), the
/// PF's 200 answers with its SDP unchanged (same version both times), the focus ACKs each 200
/// with the INVITE's CSeq number on a new branch; the UPDATE carries no body, its 200 no body,
/// and no ACK follows it. CSeq grows on the focus's side of the dialog.
#[test]
fn refreshes_on_the_wire_have_the_right_sdp_versions_cseq_and_acks() {
    let t = post("", r#"[ { "at_ms": 1000, "kind": "cf_reinvite" }, { "at_ms": 2000, "kind": "cf_update" }, { "at_ms": 3000, "kind": "cf_reinvite" } ]"#);
    let invites = on_leg(&t, "cf", "INVITE");
    assert_eq!(invites.len(), 2, "\n{}", ladder(&t));
    let (o1, o2) = (origin(&invites[0].raw), origin(&invites[1].raw));
    assert_eq!(o1.0, o2.0, "one SDP session");
    assert_eq!(o2.1, o1.1 + 1, "the o= version goes up by one per new offer (RFC 3264 §8)");
    for i in &invites {
        assert!(header(&i.raw, "To").is_some_and(|v| v.contains(";tag=")), "a re-INVITE is in the dialog:\n{}", i.raw);
        assert!(header(&i.raw, "Contact").is_some(), "a target refresh carries Contact");
        assert_eq!(header(&i.raw, "Session-Expires"), Some("1800;refresher=uac"));
    }
    let oks: Vec<&Step> = on_leg(&t, "carol-pf", "200 OK");
    let ok_inv: Vec<&&Step> = oks.iter().filter(|s| header(&s.raw, "CSeq").is_some_and(|c| c.ends_with(" INVITE"))).collect();
    assert_eq!(ok_inv.len(), 2);
    assert_eq!(origin(&ok_inv[0].raw), origin(&ok_inv[1].raw), "the PF's answer is unchanged, o= version too");
    let acks = on_leg(&t, "cf", "ACK");
    assert_eq!(acks.len(), 2, "one ACK per re-INVITE, none for the UPDATE\n{}", ladder(&t));
    for (a, i) in acks.iter().zip(&invites) {
        let n = |raw: &str| header(raw, "CSeq").and_then(|c| c.split(' ').next()).unwrap_or("").to_string();
        assert_eq!(n(&a.raw), n(&i.raw));
        assert_ne!(branch(&a.raw), branch(&i.raw), "the ACK of a 2xx is a transaction of its own (RFC 3261 §13.2.2.4)");
    }
    // The ACKs end the re-INVITE transactions: the PF does not take them for the ACK of a new
    // leg (it would open and bind its MSRP connection again).
    assert!(on_leg(&t, "carol-pf", "SEND").is_empty(), "no new bind\n{}", ladder(&t));
    let upd = on_leg(&t, "cf", "UPDATE");
    assert_eq!(upd.len(), 1);
    assert!(header(&upd[0].raw, "Content-Type").is_none() && header(&upd[0].raw, "Contact").is_some(), "{}", upd[0].raw);
    let cseqs: Vec<u32> = t
        .steps
        .iter()
        .filter(|s| &*s.from == "cf" && &*s.to == "carol-pf" && matches!(&*s.label, "INVITE" | "UPDATE"))
        .map(|s| header(&s.raw, "CSeq").and_then(|c| c.split(' ').next()).unwrap().parse().unwrap())
        .collect();
    assert_eq!(cseqs, [1, 2, 3], "the focus's own CSeq space on the leg");
    // Carol is in session: the PF answers itself (our reading), under the policy's every option.
    for opt in ["answer-as-user", "reject", "leave-group"] {
        let t = post(&format!(r#""q16-cf-in-dialog": "{opt}""#), r#"[ { "at_ms": 1000, "kind": "cf_reinvite" } ]"#);
        let ok = on_leg(&t, "carol-pf", "200 OK");
        assert_eq!(ok.len(), 1, "{opt}\n{}", ladder(&t));
        assert!(ok[0].clauses.contains(&"reading:8.3.2.9") && !ok[0].clauses.contains(&POLICY), "{:?}", ok[0].clauses);
        assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to != "cf" && s.label == "INVITE"), "nothing relayed to Carol");
        assert_eq!(final_state(&t), PfState::Active);
    }
}

/// Default `answer-as-user` (the digest): 200 to both, the PF stays deferred and the store
/// keeps both messages for path A.
#[test]
fn answer_as_user_answers_200_and_keeps_deferring() {
    let t = post("", DEFERRED);
    let oks: Vec<&Step> = on_leg(&t, "carol-pf", "200 OK").into_iter().filter(|s| s.clauses.contains(&POLICY)).collect();
    assert_eq!(oks.len(), 2, "\n{}", ladder(&t));
    assert!(oks.iter().all(|s| s.pf_state == PfState::Deferred && s.policy));
    assert_eq!(on_leg(&t, "cf", "ACK").len(), 1);
    assert_eq!((t.summary.delivered_from_store, t.summary.lost), (2, 0), "\n{}", ladder(&t));
}

/// `reject`: 403 to both; the focus ACKs the 403 on the re-INVITE's branch (RFC 3261
/// §17.1.1.3) and keeps the leg; the PF keeps deferring and delivers the store later.
#[test]
fn reject_answers_403_and_keeps_the_leg_and_the_store() {
    let t = post(r#""q16-cf-in-dialog": "reject""#, DEFERRED);
    let refusals = on_leg(&t, "carol-pf", "403 Forbidden");
    assert_eq!(refusals.len(), 2, "\n{}", ladder(&t));
    assert!(refusals.iter().all(|s| s.clauses.contains(&POLICY) && s.clauses.contains(&"RFC 3261 §21.4.4")));
    let inv = &on_leg(&t, "cf", "INVITE")[0];
    let ack = &on_leg(&t, "cf", "ACK")[0];
    assert_eq!(branch(&ack.raw), branch(&inv.raw), "the ACK of a non-2xx is part of the INVITE transaction");
    assert!(t.steps.iter().any(|s| &*s.from == "cf" && s.label == "refused"), "\n{}", ladder(&t));
    assert!(on_leg(&t, "carol-pf", "BYE").is_empty());
    assert_eq!((t.summary.delivered_from_store, t.summary.lost), (2, 0), "\n{}", ladder(&t));
}

/// `leave-group`: 403 to the re-INVITE, then BYE with a Reason to the focus; the stored
/// message is lost (a lost step citing the policy), the later one never reaches the PF, and
/// the UPDATE finds no dialog at the focus, so it is not sent.
#[test]
fn leave_group_refuses_then_leaves_and_loses_the_store() {
    let t = post(r#""q16-cf-in-dialog": "leave-group""#, DEFERRED);
    assert_eq!(on_leg(&t, "carol-pf", "403 Forbidden").len(), 1, "\n{}", ladder(&t));
    let bye = on_leg(&t, "carol-pf", "BYE");
    assert_eq!(bye.len(), 1, "\n{}", ladder(&t));
    assert!(header(&bye[0].raw, "Reason").is_some_and(|r| r.contains("cause=480")));
    assert!(bye[0].clauses.contains(&POLICY));
    assert!(on_leg(&t, "cf", "UPDATE").is_empty(), "no leg for the UPDATE\n{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "cf" && s.label == "no leg for Carol"));
    let lost: Vec<&Step> = t.steps.iter().filter(|s| s.kind == StepKind::Lost).collect();
    assert!(!lost.is_empty() && lost.iter().any(|s| s.clauses.contains(&POLICY)), "\n{}", ladder(&t));
    assert_eq!(t.summary.delivered_from_store, 0);
    assert!(t.summary.lost >= 1);
    assert!(!t.steps.iter().any(|s| &*s.from == "carol-pf" && &*s.to != "cf" && s.label == "INVITE"), "no path A after leaving");
    assert_eq!(final_state(&t), PfState::Left);
}

/// A re-INVITE with a new Subject: the Subject header, and the focus's next NOTIFY to the PF's
/// subscription says the new subject in conference-info (RFC 4575 §5.3.1), as the digest says.
#[test]
fn a_new_subject_shows_in_the_focus_conference_info() {
    let ev = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 5000, "kind": "cf_reinvite", "subject": "Saturday <planning> & more" }
    ]"#;
    let t = post("", ev);
    let inv = &on_leg(&t, "cf", "INVITE")[0];
    assert_eq!(header(&inv.raw, "Subject"), Some("Saturday <planning> & more"));
    let notifies = on_leg(&t, "cf", "NOTIFY");
    let last = notifies.last().unwrap_or_else(|| panic!("\n{}", ladder(&t)));
    assert!(last.at_ms >= 5000 && last.raw.contains("<subject>Saturday &lt;planning&gt; &amp; more</subject>"), "{}", last.raw);
    assert!(notifies.iter().filter(|n| n.at_ms < 5000).all(|n| n.raw.contains("<subject>Friday planning</subject>")));
}

/// Without a leg (Carol left on purpose, so did her PF) the focus has nothing to send on; under
/// `cf_invites` the re-INVITE goes on the leg the focus set up (it is side A: its own tag in
/// From, CSeq 2 after its INVITE's 1).
#[test]
fn no_leg_no_request_and_the_focus_as_side_a() {
    let t = post("", r#"[ { "at_ms": 1000, "kind": "leave", "member": "carol" }, { "at_ms": 5000, "kind": "cf_reinvite" } ]"#);
    assert!(on_leg(&t, "cf", "INVITE").is_empty(), "\n{}", ladder(&t));
    assert!(t.steps.iter().any(|s| &*s.from == "cf" && s.label == "no leg for Carol"));
    let t = run(&scenario("cf_invites", "", r#"[ { "at_ms": 5000, "kind": "cf_reinvite" } ]"#), Rules::PostCr);
    let invites = on_leg(&t, "cf", "INVITE");
    assert_eq!(invites.len(), 2, "\n{}", ladder(&t));
    let (first, re) = (invites[0], invites[1]);
    assert_eq!(header(&re.raw, "Call-ID"), header(&first.raw, "Call-ID"));
    assert_eq!(header(&re.raw, "CSeq"), Some("2 INVITE"));
    assert_eq!(origin(&re.raw).1, origin(&first.raw).1 + 1);
    assert_eq!(header(&re.raw, "From"), header(&first.raw, "From"));
}

/// The judge reads a capture with the focus's re-INVITEs and UPDATEs: each option's run is
/// judged (not refused), passes, and the option it ran with is among the readings found; the
/// other options do not fit it.
#[test]
fn the_judge_judges_captures_with_cf_in_dialog_requests() {
    for opt in ["answer-as-user", "reject", "leave-group"] {
        let sc = scenario("established", &format!(r#""q16-cf-in-dialog": "{opt}""#), DEFERRED);
        let t = run(&sc, Rules::PostCr);
        let cap = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap");
        let j = judge(&cap, Options { pf: None, cf: None, rules: Rules::PostCr }).unwrap_or_else(|e| panic!("{opt}: cannot judge: {e}"));
        assert_eq!(j.verdict, Verdict::Pass, "{opt}: {:?}", j.deviations);
        assert_eq!(j.policies.get("q16-cf-in-dialog").map(Vec::as_slice), Some(&[opt][..]), "{opt}: {:?}", j.policies);
    }
}

/// The random timelines of the property tests (tests/common) reach each option's behaviour:
/// the PF's 200 as the user, its 403, its BYE after a 403, and its own answer outside a
/// deferral (our reading), and the semantic checker finds nothing in those runs.
#[test]
fn random_timelines_reach_every_option() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400u64 {
        let sc = Scenario::from_json(&common::gen_scenario(common::mix64(seed ^ 0x0016))).expect("generated scenario");
        let t = run(&sc, Rules::PostCr);
        for s in t.steps.iter().filter(|s| &*s.from == "carol-pf" && &*s.to == "cf") {
            let what = match (&*s.label, s.clauses.contains(&POLICY), s.clauses.contains(&"reading:8.3.2.9")) {
                ("200 OK", true, _) if header(&s.raw, "CSeq").is_some_and(|c| !c.ends_with(" NOTIFY")) => "answer-as-user",
                ("403 Forbidden", true, _) => "403",
                ("BYE", true, _) => "leave-group",
                ("200 OK", false, true) if header(&s.raw, "CSeq").is_some_and(|c| c.ends_with(" INVITE") || c.ends_with(" UPDATE")) => "reading",
                _ => continue,
            };
            seen.insert(what);
        }
        if t.steps.iter().any(|s| &*s.from == "cf" && matches!(&*s.label, "INVITE" | "UPDATE") && header(&s.raw, "To").is_some_and(|v| v.contains("tag="))) {
            let found = cpm_deferral::conformance::check(&t);
            assert!(found.is_empty(), "seed {seed}: {:?}", found.iter().map(|f| f.to_string()).collect::<Vec<_>>());
        }
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["403", "answer-as-user", "leave-group", "reading"]);
}
