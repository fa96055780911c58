//! The semantic checker (src/conformance.rs) over every preset × rule set and 1,000 random
//! timelines: no finding (issue 10). Each rule also has a test that shows it can fail.

mod common;

use common::{gen_scenario, header, mix64, preset_traces, BOTH_RULES};
use cpm_deferral::conformance::{check, Finding, Rule};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::{run, Rules};
use std::collections::BTreeMap;

fn cases() -> u64 {
    std::env::var("CPM_CONFORMANCE_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1000)
}

/// Every finding over presets and random timelines, grouped by rule: (count, first examples).
/// A random timeline is named by its seed; `cargo run --example print_seed -- 0xSEED` prints it.
fn survey() -> BTreeMap<Rule, (usize, Vec<String>)> {
    let mut by: BTreeMap<Rule, (usize, Vec<String>)> = BTreeMap::new();
    let mut add = |source: &str, f: Finding| {
        let e = by.entry(f.rule).or_default();
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(format!("{source}: {f}"));
        }
    };
    for (name, rules, t) in preset_traces() {
        for f in check(&t) {
            add(&format!("{name} {}", rules.as_str()), f);
        }
    }
    for i in 0..cases() {
        let seed = mix64(0xc0f0_0000 + i);
        let Ok(sc) = Scenario::from_json(&gen_scenario(seed)) else { continue };
        for rules in BOTH_RULES {
            for f in check(&run(&sc, rules)) {
                add(&format!("random {seed:#x} {}", rules.as_str()), f);
            }
        }
    }
    by
}

/// Rules that may still have findings (none: every rule holds over the presets and the random
/// timelines).
const OPEN: [Rule; 0] = [];

#[test]
fn no_finding_over_presets_and_random_timelines() {
    let mut report = String::new();
    for (rule, (n, ex)) in survey() {
        println!("{rule:?}: {n}");
        for e in &ex {
            println!("    {e}");
        }
        if !OPEN.contains(&rule) {
            report.push_str(&format!("{rule:?}: {n} findings, e.g.\n    {}\n", ex.join("\n    ")));
        }
    }
    assert!(report.is_empty(), "{report}");
}

fn preset(name: &str, rules: Rules) -> cpm_deferral::Trace {
    let p = cpm_deferral::presets::all().iter().find(|p| p.name == name).expect("preset");
    run(&common::preset_scenario(p), rules)
}

/// Issue 10 defect 1: the PF's ACK for the focus's 2xx carries the 2xx's To tag (RFC 3261
/// §13.2.2.4), not a tag read from its own INVITE.
#[test]
fn the_pf_acks_the_focus_2xx_with_its_to_tag() {
    let t = preset("full-setup-then-drop", Rules::PostCr);
    let ok = t
        .steps
        .iter()
        .find(|s| &*s.from == "cf" && &*s.to == "carol-pf" && s.label == "200 OK" && s.raw.contains("CSeq: 1 INVITE"))
        .expect("200 to the INVITE");
    let ack = t.steps.iter().find(|s| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "ACK").expect("ACK");
    let to = |raw: &str| header(raw, "To").unwrap_or("").to_string();
    assert_eq!(to(&ack.raw), to(&ok.raw));
}

/// Issue 10 defect 8: the terminating NOTIFY and the in-dialog SUBSCRIBE carry Contact; every 2xx
/// to an INVITE that asked for a session timer answers it; conference-info versions restart with
/// each subscription; no two sessions share an `o=` line.
#[test]
fn notify_subscribe_contact_session_expires_versions_and_origins() {
    let t = preset("group-ends-while-away", Rules::PostCr);
    let notify_end = t.steps.iter().find(|s| s.label == "NOTIFY" && s.raw.contains("terminated")).expect("terminating NOTIFY");
    assert!(header(&notify_end.raw, "Contact").is_some(), "{}", notify_end.raw);
    for (name, rules, t) in preset_traces() {
        for s in &t.steps {
            if s.label == "200 OK" && s.raw.contains(" INVITE\r\n") && s.raw.contains("m=message") {
                assert!(header(&s.raw, "Session-Expires").is_some(), "{name} {}: step {} has no Session-Expires", rules.as_str(), s.index);
            }
        }
        let mut first: Vec<&str> = Vec::new();
        for s in t.steps.iter().filter(|s| s.label == "NOTIFY" && s.raw.contains("<conference-info")) {
            let call = header(&s.raw, "Call-ID").unwrap_or("");
            if !first.contains(&call) {
                first.push(call);
                assert!(s.raw.contains("state=\"full\" version=\"1\""), "{name}: first NOTIFY of a subscription must say version 1: {}", s.raw);
            }
        }
    }
}

/// The checker can fail: a broken copy of a good trace gives the finding of the rule it breaks.
#[test]
fn the_checker_finds_what_is_broken() {
    let good = preset("full-setup-then-drop", Rules::PostCr);
    assert_eq!(check(&good).iter().filter(|f| !OPEN.contains(&f.rule)).count(), 0);
    let broken = |pick: &dyn Fn(&cpm_deferral::trace::Step) -> bool, from: &str, to: &str| {
        let mut t = good.clone();
        let s = t.steps.iter_mut().find(|s| pick(s)).expect("a step to break");
        assert!(s.raw.contains(from), "{from:?} not in {}", s.raw);
        s.raw = s.raw.replacen(from, to, 1);
        check(&t).into_iter().map(|f| f.rule).collect::<Vec<_>>()
    };
    let ack = |s: &cpm_deferral::trace::Step| &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "ACK";
    assert!(broken(&ack, ";tag=cf-", ";tag=xx-").contains(&Rule::Ack2xx));
    let ok = |s: &cpm_deferral::trace::Step| &*s.from == "cf" && &*s.to == "carol-pf" && s.label == "200 OK" && s.raw.contains("CSeq: 1 INVITE");
    assert!(broken(&ok, "Call-ID: ", "Call-ID: x").contains(&Rule::ResponseCopy));
    assert!(broken(&ok, "Session-Expires:", "X-Session-Expires:").contains(&Rule::SessionExpires));
    let invite = |s: &cpm_deferral::trace::Step| &*s.from == "cf" && &*s.to == "alice" && s.label == "INVITE";
    assert!(broken(&invite, "Contact:", "X-Contact:").contains(&Rule::Contact));
    assert!(broken(&invite, "Content-Length: ", "Content-Length: 1").contains(&Rule::Parse));
}

/// Issue 10 defect 6 (Q1, crossed 200): Carol's 200 to the PF's INVITE crosses the PF's CANCEL
/// (she re-joined meanwhile). The PF ACKs and BYEs the crossed session, and delivers the store
/// over her re-join: every stored message reaches her, no MSRP set-up failure, no finding.
#[test]
fn a_200_that_crosses_the_cancel_leaves_the_rejoin_in_charge() {
    let p = cpm_deferral::presets::all().iter().find(|p| p.name == "race-rejoin-after-invite").expect("preset");
    let mut v: serde_json::Value = serde_json::from_str(p.json).expect("json");
    // The PF's INVITE reaches Carol at 26,530 ms; she answers 3,000 ms later, at 29,530 ms: a
    // re-join at 29,525 ms reaches the PF at 29,535 ms, whose CANCEL is on its way when her 200
    // leaves.
    let events = v["events"].as_array_mut().expect("events");
    let last = events.last_mut().expect("rejoin");
    assert_eq!(last["kind"], "rejoin");
    last["at_ms"] = serde_json::json!(29_525);
    let sc = Scenario::from_json(&v.to_string()).expect("valid");
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        let labels: Vec<String> = t.steps.iter().map(|s| format!("{} {}→{} {}", s.at_ms, s.from, s.to, s.label)).collect();
        assert!(t.steps.iter().any(|s| s.label == "CANCEL"), "{}: no CANCEL: {labels:#?}", rules.as_str());
        assert!(
            t.steps.iter().any(|s| s.label == "BYE" && &*s.from == "carol-pf" && s.raw.contains("Replaced by re-join")),
            "{}: the crossed session is not ended",
            rules.as_str()
        );
        assert!(!t.steps.iter().any(|s| s.label == "MSRP set-up failed"), "{}: {labels:#?}", rules.as_str());
        let stored: Vec<_> = t.chats.iter().filter(|c| c.stored_ms.is_some()).collect();
        assert_eq!(stored.len(), 3, "{}", rules.as_str());
        for c in stored {
            assert_eq!(c.outcome, cpm_deferral::trace::Outcome::FromStore, "{}: chat {} {:?}: {labels:#?}", rules.as_str(), c.id, c.outcome);
        }
        let findings: Vec<String> = check(&t).iter().filter(|f| !OPEN.contains(&f.rule)).map(|f| f.to_string()).collect();
        assert!(findings.is_empty(), "{}: {findings:#?}", rules.as_str());
    }
}

/// Issue 10 defect 2: Carol's client answers 180 Ringing while it alerts; the PF's CANCEL (Q1)
/// comes only after a provisional response (RFC 3261 §9.1), and Timer B stops with the 180
/// (§17.1.1.2), so a slow answer is not taken for a timeout.
#[test]
fn ringing_comes_before_cancel_and_stops_timer_b() {
    let t = preset("race-rejoin-after-invite", Rules::PostCr);
    let ringing = t.steps.iter().find(|s| s.label == "180 Ringing" && &*s.from == "carol").expect("180 Ringing from Carol");
    let cancel = t.steps.iter().find(|s| s.label == "CANCEL").expect("CANCEL");
    assert!(ringing.arrive_ms <= cancel.at_ms, "180 arrives at {} ms, CANCEL leaves at {} ms", ringing.arrive_ms, cancel.at_ms);
    assert!(header(&ringing.raw, "Contact").is_some());

    // T1 = 100 ms (Timer B 6.4 s) and an answer after 20 s: the 180 keeps the INVITE alive.
    let json = r#"{"format": "cpm-deferral-scenario", "version": 1, "t1_ms": 100, "answer_ms": 20000, "events": [
        {"at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480"},
        {"at_ms": 2000, "kind": "message", "from": "bob", "text": "are you there?"},
        {"at_ms": 3000, "kind": "register", "reaction_ms": 500}]}"#;
    let sc = Scenario::from_json(json).expect("valid");
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        assert!(!t.steps.iter().any(|s| s.label == "Timer B fired"), "{}: Timer B fired while Carol was alerting", rules.as_str());
        let b = t.timers.iter().find(|x| x.name == "Timer B").expect("Timer B span");
        assert_eq!(b.outcome, "stopped");
        assert!(t.chats.iter().all(|c| !c.for_carol || c.outcome == cpm_deferral::trace::Outcome::FromStore), "{}: {:?}", rules.as_str(), t.chats);
    }
}
