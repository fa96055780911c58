//! Key steps and step identity (src/story.rs, docs/trace-contract.md "Key steps" and "Step
//! identity"): the engine marks the steps that carry the story, and a step keeps its identity
//! (`sid`) when other events are moved, edited or deleted.

mod common;

use common::{preset_scenario, preset_traces};
use cpm_deferral::presets;
use cpm_deferral::scenario::{EventKind, Scenario};
use cpm_deferral::story::label_base;
use cpm_deferral::trace::{PfState, StepKind, Trace};
use cpm_deferral::{run, Rules};
use std::collections::{HashMap, HashSet};

fn sids(t: &Trace) -> Vec<String> {
    t.steps.iter().map(|s| s.sid()).collect()
}

#[test]
fn every_step_has_a_unique_identity_and_every_preset_a_story() {
    for (name, rules, t) in preset_traces() {
        let all = sids(&t);
        let set: HashSet<&String> = all.iter().collect();
        assert_eq!(set.len(), all.len(), "{name} {rules:?}: duplicate sid");
        assert!(t.steps.iter().all(|s| !s.cause.is_empty()), "{name}: empty cause");
        let keys: Vec<&str> = t.steps.iter().filter_map(|s| s.key.as_deref()).collect();
        assert!(keys.len() >= 2, "{name} {rules:?}: {keys:?}");
        assert!(keys.iter().all(|k| !k.is_empty() && k.len() <= 90), "{name}: a key title is empty or long: {keys:?}");
    }
}

#[test]
fn the_key_steps_are_where_the_cr_decides() {
    for (name, rules, t) in preset_traces() {
        // Every entry into Deferred is a key step, and so is every replay start and end.
        for (i, s) in t.steps.iter().enumerate() {
            if s.kind == StepKind::State && matches!(s.pf_state, PfState::Deferred | PfState::Replaying) {
                assert!(s.key.is_some(), "{name} {rules:?}: state step {i} {} is not a key step", s.label);
            }
            if s.label == "SUBSCRIBE" && s.from.as_ref() == "carol-pf" && s.clauses.contains(&"8.2.2.6.2") {
                assert!(s.key.is_some(), "{name}: the PF's SUBSCRIBE is not a key step");
            }
        }
        // A deferral always follows a key step that is its trigger.
        if let Some(d) = t.steps.iter().position(|s| s.kind == StepKind::State && s.pf_state == PfState::Deferred) {
            let trig = t.steps[..d].iter().rev().find(|s| s.key.is_some());
            let title = trig.and_then(|s| s.key.as_deref()).unwrap_or("");
            assert!(title.contains("Trigger") || title.contains("Q6") || title.contains("Q1"), "{name} {rules:?}: no trigger before the deferral: {title}");
        }
    }
    // Before the CR an INVITE timeout is not a trigger, and the key step says so.
    let p = presets::find("invite-timeout-path-a").expect("preset");
    let t = run(&preset_scenario(p), Rules::PreCr);
    assert!(t.steps.iter().any(|s| s.key.as_deref() == Some("Timer B fired: no deferral trigger before the CR")));
    assert!(t.steps.iter().any(|s| s.key.as_deref().is_some_and(|k| k.contains("messages lost"))));
}

/// A run of stored messages is told as its first and its count, not one key step each.
#[test]
fn stored_messages_are_the_first_and_a_count() {
    let p = presets::find("bye-480-path-a").expect("preset");
    let t = run(&preset_scenario(p), Rules::PostCr);
    let stores: Vec<&str> = t.steps.iter().filter(|s| s.kind == StepKind::Store).filter_map(|s| s.key.as_deref()).collect();
    assert_eq!(stores, ["Stored message #2 for Carol (store: 1)", "3 messages stored for Carol (store: 3)"]);
}

fn without(sc: &Scenario, i: usize) -> Scenario {
    let mut s = sc.clone();
    s.events.remove(i);
    s
}

/// sid → label base of every step of a trace.
fn by_sid(t: &Trace) -> HashMap<String, String> {
    t.steps.iter().map(|s| (s.sid(), label_base(&s.label).to_string())).collect()
}

#[test]
fn deleting_an_earlier_event_keeps_the_identity_of_the_other_steps() {
    let p = presets::find("bye-480-path-a").expect("preset");
    let sc = preset_scenario(p);
    let first_msg = sc.events.iter().position(|e| matches!(e.kind, EventKind::Message { .. })).expect("a message");
    let before = run(&sc, Rules::PostCr);
    let after = run(&without(&sc, first_msg), Rules::PostCr);
    let cause = before.steps.iter().find(|s| s.event == Some(first_msg as u32)).map(|s| s.cause.clone()).expect("a step of the event");
    let old = by_sid(&before);
    let new = by_sid(&after);
    // Every step not caused by the deleted event is still there under the same sid, with the same label.
    let kept: HashMap<&String, &String> = old.iter().filter(|(k, _)| !k.starts_with(&format!("{cause}/"))).collect();
    assert!(kept.len() > 50);
    for (sid, label) in &kept {
        assert_eq!(new.get(*sid), Some(*label), "{sid} lost or changed");
    }
    assert_eq!(new.len(), kept.len(), "the new trace has steps the old one did not");
    // The REGISTER the issue names: its index moved, its identity did not.
    let reg_old = before.steps.iter().find(|s| s.label == "REGISTER").expect("REGISTER");
    let reg_new = after.steps.iter().find(|s| s.sid() == reg_old.sid()).expect("same sid");
    assert_eq!(reg_new.label, "REGISTER");
    assert!(reg_new.index < reg_old.index);
}

#[test]
fn moving_an_event_keeps_every_identity() {
    let p = presets::find("bye-480-path-a").expect("preset");
    let mut sc = preset_scenario(p);
    let before = sids(&run(&sc, Rules::PostCr));
    let reg = sc.events.iter().position(|e| matches!(e.kind, EventKind::Register { .. })).expect("register");
    sc.events[reg].at_ms += 700;
    let after = sids(&run(&sc, Rules::PostCr));
    let (a, b): (HashSet<_>, HashSet<_>) = (before.iter().collect(), after.iter().collect());
    assert_eq!(a, b);
}

#[test]
fn identity_is_deterministic_and_the_same_without_wire_text() {
    for p in presets::all() {
        let sc = preset_scenario(p);
        let a = run(&sc, Rules::PostCr);
        let b = cpm_deferral::run_without_wire_text(&sc, Rules::PostCr);
        assert_eq!(sids(&a), sids(&b), "{}", p.name);
        let ka: Vec<_> = a.steps.iter().map(|s| s.key.clone()).collect();
        let kb: Vec<_> = b.steps.iter().map(|s| s.key.clone()).collect();
        assert_eq!(ka, kb);
    }
}
