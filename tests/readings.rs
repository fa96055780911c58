//! Issue 11, defect 10, "Inference shown as the CR": a step whose behaviour is our reading of
//! a clause cites `reading:<clause>` (docs/trace-contract.md, "Citations"), never the plain
//! clause, so a trainee can tell the CR's text from our reading of it. Checked on every preset
//! under both rule sets and on random timelines.

mod common;

use common::{gen_scenario, header, mix64, preset_traces, BOTH_RULES};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Step, Trace};
use cpm_deferral::{run, Rules};

/// What our reading covers, by step: (what, does this step do it).
fn inference(s: &Step) -> Option<&'static str> {
    let pf = &*s.from == "carol-pf";
    let to_client = pf && &*s.to != "cf" && &*s.to != "carol-pf";
    let cseq = header(&s.raw, "CSeq").unwrap_or("");
    if pf && s.label == "200 OK" && cseq.ends_with(" BYE") && to_client {
        return Some("the 200 OK to Carol's BYE (§8.2.2.3, whose text we do not have)");
    }
    if to_client && s.label == "SEND" && s.note.starts_with("Deferred delivery") {
        return Some("the replay in store order");
    }
    if to_client && s.label == "200 OK" && cseq.ends_with(" INVITE") && s.note.starts_with("Path B") {
        return Some("path B: the PF answers the re-join itself instead of relaying it");
    }
    if pf && &*s.to == "cf" && s.label == "200 OK" && cseq.ends_with(" INVITE") && s.note.starts_with("Case 2") {
        return Some("case 2 on a new invitation: the PF answers 200 to the focus for a user who never accepted");
    }
    if pf && s.label == "Deferred" && s.note.contains("Case 2 of") {
        return Some("case 2 on a new invitation: the deferral");
    }
    if pf
        && &*s.to == "cf"
        && s.label == "200 OK"
        && (cseq.ends_with(" INVITE") || cseq.ends_with(" UPDATE"))
        && s.note.starts_with("The PF answers the focus's refresh")
    {
        return Some("Q16 outside a deferral: the PF answers the focus's refresh of its leg itself");
    }
    if pf && s.label == "no trigger (pre-CR)" {
        return Some("what the text before the CR leaves the PF to do");
    }
    None
}

fn check(name: &str, t: &Trace) -> Result<usize, String> {
    let mut n = 0;
    for s in &t.steps {
        if s.clauses.contains(&"8.2.2.3") {
            return Err(format!("{name} {}: step {} `{}` cites plain 8.2.2.3, a text we do not have", t.rules.as_str(), s.index, s.label));
        }
        if s.note.contains("our reading") && !s.clauses.iter().any(|c| c.starts_with("reading:") || c.starts_with("policy:")) {
            return Err(format!("{name} {}: step {} `{}` says \"our reading\" but cites {:?}", t.rules.as_str(), s.index, s.label, s.clauses));
        }
        let Some(what) = inference(s) else { continue };
        n += 1;
        let plain = s.clauses.iter().any(|c| *c == "8.3.2.9" || *c == "8.2.2.3");
        let reading = s.clauses.iter().any(|c| c.starts_with("reading:"));
        if plain || !reading {
            return Err(format!("{name} {}: step {} `{}` is {what} but cites {:?}", t.rules.as_str(), s.index, s.label, s.clauses));
        }
    }
    Ok(n)
}

/// Every preset under both rules: each inference step cites a reading, no step cites plain
/// §8.2.2.3, and each kind of inference occurs somewhere (the check is not empty).
#[test]
fn defect_10_every_inference_step_in_the_presets_cites_our_reading_not_the_clause() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut n = 0;
    for (name, _, t) in preset_traces() {
        n += check(name, &t).unwrap_or_else(|e| panic!("{e}"));
        kinds.extend(t.steps.iter().filter_map(inference));
    }
    assert!(n > 20, "only {n} inference steps in the presets");
    assert!(kinds.len() >= 5, "kinds of inference seen: {kinds:?}");
}

/// The same over random timelines, both rule sets.
#[test]
fn defect_10_every_inference_step_on_random_timelines_cites_our_reading() {
    for seed in 0..400u64 {
        let Ok(sc) = Scenario::from_json(&gen_scenario(mix64(seed ^ 0x0d10))) else { panic!("seed {seed}: generated scenario refused") };
        for rules in BOTH_RULES {
            check(&format!("seed {seed}"), &run(&sc, rules)).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// The words on the steps: the trace's citation says it, and the note says which part is the
/// CR's text. (Path B's 200 and the replay, from `bye-480-path-b`.)
#[test]
fn defect_10_the_notes_say_what_is_text_and_what_is_reading() {
    let t = preset_traces().into_iter().find(|(n, r, _)| *n == "bye-480-path-b" && *r == Rules::PostCr).expect("preset").2;
    let ok = t.steps.iter().find(|s| inference(s) == Some("path B: the PF answers the re-join itself instead of relaying it")).expect("path B's 200");
    assert_eq!(&*ok.clauses, &["reading:8.3.2.9"][..]);
    assert!(ok.note.contains("our reading: the CR says to use the re-join's session, not how"), "{}", ok.note);
    let send = t.steps.iter().find(|s| inference(s) == Some("the replay in store order")).expect("a replayed SEND");
    assert!(send.note.contains("Deferred delivery over MSRP (§8.3.2.9)") && send.note.contains("is our reading"), "{}", send.note);
}
