//! Issue 11's invariants of the PF, over random timelines (`common::gen_scenario`, both rule
//! sets; 10,000 timelines by default, `CPM_PF_INVARIANT_CASES` overrides it). The runs use the
//! fast path (`run_without_wire_text`: the same trace without wire texts), which is what keeps
//! 20,000 runs affordable; no timeline is filtered out.
//!
//! 1. The PF is never `Active` without its leg to the focus (issue 11 #1).
//! 2. Every request that reaches the PF (a SIP request other than ACK, an MSRP SEND) produces a
//!    step of the PF at its arrival: an answer, a message, a note or a state.
//! 3. Every chat the focus sends to a deferring PF is stored, or a step of the PF on that chat
//!    says why not (strict: also for chats not meant for Carol; issue 11 #2).
//! 4. Everything stored is delivered exactly once in order, still stored, or shown lost by a
//!    step: tests/properties.rs `a_every_stored_message_is_delivered_once_in_order_or_still_stored_or_accounted`
//!    checks it (with a shrinker) on its own random timelines; here a lighter count on the same 10,000.

mod common;

use common::{gen_scenario, mix64};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Protocol, StepKind, Trace};
use cpm_deferral::{run_without_wire_text, Rules};
use std::collections::HashMap;

fn cases() -> u64 {
    std::env::var("CPM_PF_INVARIANT_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

const PF: &str = "carol-pf";

fn active_only_with_a_leg_to_the_focus(t: &Trace) -> Result<(), String> {
    // An established session (the run's first step says so) starts with the leg up.
    let mut leg = t.steps.first().is_some_and(|s| s.label == "established");
    for s in &t.steps {
        let (from, to) = (&*s.from, &*s.to);
        if s.protocol == Protocol::SIP && s.label == "BYE" && ((from == PF && to == "cf") || (from == "cf" && to == PF && !s.dropped)) {
            leg = false;
        }
        if s.protocol == Protocol::SIP && s.label == "ACK" && ((from == PF && to == "cf") || (from == "cf" && to == PF)) {
            leg = true;
        }
        if s.kind == StepKind::State && from == PF && s.label == "Active" && !leg {
            return Err(format!("step {}: the PF turns Active at {} ms without a leg to the focus", s.index, s.at_ms));
        }
    }
    Ok(())
}

fn every_request_to_the_pf_gets_a_step(t: &Trace) -> Result<(), String> {
    for (i, s) in t.steps.iter().enumerate() {
        if &*s.to != PF || &*s.from == PF || s.dropped {
            continue;
        }
        let request = match s.protocol {
            Protocol::SIP => !s.label.starts_with(|c: char| c.is_ascii_digit()) && s.label != "ACK",
            Protocol::MSRP => s.label == "SEND",
            _ => false,
        };
        if !request {
            continue;
        }
        let answered = t.steps[i + 1..].iter().take_while(|x| x.at_ms <= s.arrive_ms).any(|x| &*x.from == PF && x.at_ms == s.arrive_ms);
        if !answered {
            return Err(format!("step {i}: {:?} {} from {} reaches the PF at {} ms and no step of the PF follows", s.protocol, s.label, s.from, s.arrive_ms));
        }
    }
    Ok(())
}

fn every_chat_to_a_deferring_pf_is_stored_or_explained(t: &Trace) -> Result<(), String> {
    for (i, s) in t.steps.iter().enumerate() {
        let ack_to_cf = s.protocol == Protocol::MSRP && &*s.from == PF && &*s.to == "cf" && s.label == "200 OK";
        let Some(n) = s.chat.filter(|_| ack_to_cf) else { continue };
        if !matches!(s.pf_state, PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::EndedWithBacklog) {
            continue;
        }
        let handled = t.steps[i + 1..].iter().take_while(|x| x.at_ms == s.at_ms).any(|x| &*x.from == PF && &*x.to == PF && x.chat == Some(n));
        if !handled {
            return Err(format!(
                "step {i}: the deferring PF ({:?}) answers the focus's SEND of #{n} at {} ms but neither stores it nor says why",
                s.pf_state, s.at_ms
            ));
        }
    }
    Ok(())
}

fn stored_is_delivered_once_still_stored_or_lost(t: &Trace) -> Result<(), String> {
    let mut delivered: HashMap<u32, u32> = HashMap::new();
    for s in &t.steps {
        if &*s.from == PF && s.kind == StepKind::Deliver {
            if let Some(n) = s.chat {
                *delivered.entry(n).or_default() += 1;
            }
        }
    }
    for c in t.chats.iter().filter(|c| c.stored_ms.is_some()) {
        let d = delivered.get(&c.id).copied().unwrap_or(0);
        let lost_step = t.steps.iter().any(|s| s.kind == StepKind::Lost && s.chat == Some(c.id));
        let ok = match c.outcome {
            Outcome::FromStore => d == 1,
            Outcome::StillStored => d == 0,
            Outcome::Lost | Outcome::Discarded => d == 0 && lost_step,
            Outcome::NotForCarol => d <= 1,
            _ => d <= 1,
        };
        if !ok {
            return Err(format!("stored chat #{} ends {:?} with {d} delivered steps (lost step: {lost_step})", c.id, c.outcome));
        }
    }
    Ok(())
}

#[test]
fn the_pfs_invariants_hold_on_10_000_random_timelines() {
    let salt = 0x1111_0011_u64;
    for i in 0..cases() {
        let seed = mix64(salt.wrapping_add(i));
        let json = gen_scenario(seed);
        let sc = Scenario::from_json(&json).unwrap_or_else(|e| panic!("seed {seed:#x}: {e}"));
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = run_without_wire_text(&sc, rules);
            for (name, check) in [
                ("never Active without a leg to the focus", active_only_with_a_leg_to_the_focus as fn(&Trace) -> Result<(), String>),
                ("every request to the PF gets a step", every_request_to_the_pf_gets_a_step),
                ("every chat to a deferring PF is stored or explained", every_chat_to_a_deferring_pf_is_stored_or_explained),
                ("stored: delivered once, still stored or lost by a step", stored_is_delivered_once_still_stored_or_lost),
            ] {
                if let Err(e) = check(&t) {
                    panic!("{name}: seed {seed:#x} ({rules:?}): {e}\nscenario:\n{json}");
                }
            }
        }
    }
}
