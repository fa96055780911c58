//! Step identity and key steps: what lets the page tell the story of a run and follow one step
//! across edits (docs/trace-contract.md, "Key steps" and "Step identity").
//!
//! **Identity.** A step's index changes whenever an earlier event is added, moved or deleted.
//! Its identity does not, as far as it can be helped. It is made of three fields of [`Step`]:
//!
//! - `cause`: the scenario event at the root of the causal chain that produced the step (every
//!   arrival and timer carries the cause of whatever sent or started it), written from the
//!   event's *content*, not its position or time: `message:alice:3f2a91c0#0`, `bye:5d1e07aa#0`,
//!   `register#0`, `leave:carol#0`, … (`#n` counts events of equal content in scenario order).
//!   Steps of the set-up are caused by `setup`, the clean-up at the end of the run by `end`.
//! - `sig`: a 32-bit hash of what the step is: its `from` and `to` lanes, protocol, kind, the
//!   label without a trailing ` #N` (chat numbers are positions too) and, for a step about a
//!   chat message, that message's own cause.
//! - `nth`: how many earlier steps of the run have the same `cause` and `sig`.
//!
//! The string `sid` = `cause/sig/nth` (sig in lower-case hex, 8 digits) names the step; see
//! [`Step::sid`]. Moving an event, editing or deleting *another* event, or a policy change that
//! does not alter this chain keeps every `sid` of the chain; editing the event's own content
//! gives its steps new identities (they are, in a sense, different steps).
//!
//! **Key steps.** The engine marks the steps that carry the story of §8.3.2.9 with a short
//! title (`key`) at the point where the decision is made (src/world/pf.rs): the trigger, the
//! deferral, the subscription, the stores, the path chosen, the PF's INVITE or the re-join, the
//! replay's start and end, the participant information, the leave, and what was lost.

use crate::scenario::{EventKind, Scenario, Who};
use crate::trace::{Protocol, Step, StepKind};

/// FNV-1a, 64 bit: a stable hash (the same in every run, on every platform).
pub fn fnv(bytes: &[u8], seed: u64) -> u64 {
    let mut h = if seed == 0 { 0xcbf2_9ce4_8422_2325 } else { seed };
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The cause key of every scenario event, in scenario order (see the module documentation).
pub fn event_causes(sc: &Scenario) -> Vec<String> {
    let who = |w: &Who| match w {
        Who::Carol => "carol".to_string(),
        Who::Member(i) => sc.members.get(*i).map_or_else(|| format!("m{i}"), |m| m.id.clone()),
    };
    let bases: Vec<String> = sc
        .events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Message { from, text } => format!("message:{}:{:08x}", who(from), fnv(text.as_bytes(), 0) as u32),
            EventKind::Bye { reason } => format!("bye:{:08x}", fnv(reason.as_ref().map_or("none", |(raw, _)| raw.as_str()).as_bytes(), 0) as u32),
            EventKind::Leave { who: w } => format!("leave:{}", who(w)),
            EventKind::Join { member } => format!("join:{}", who(&Who::Member(*member))),
            EventKind::Unreachable => "unreachable".into(),
            EventKind::MsrpLoss => "msrp_loss".into(),
            EventKind::MsrpSetupFails => "msrp_setup_fails".into(),
            EventKind::InviteRejected { status } => format!("invite_rejected:{status}"),
            EventKind::Register { .. } => "register".into(),
            EventKind::Rejoin => "rejoin".into(),
            EventKind::GroupEnds => "group_ends".into(),
        })
        .collect();
    // How many events of each content came before: a map (a 10,000-message timeline has 10,000
    // distinct keys; a linear search among them was quadratic). Keyed by &str like the packer's
    // string map, so the page's wasm holds one instantiation of it.
    let mut seen: crate::packed::FastMap<&str, u32> = crate::packed::FastMap::default();
    bases
        .iter()
        .map(|base| {
            let n = seen.entry(base.as_str()).and_modify(|n| *n += 1).or_insert(0);
            format!("{base}#{n}")
        })
        .collect()
}

/// A label without a trailing chat number: `stored #12` → `stored`.
pub fn label_base(label: &str) -> &str {
    match label.rfind(" #") {
        Some(i) if label[i + 2..].bytes().all(|b| b.is_ascii_digit()) && i + 2 < label.len() => &label[..i],
        _ => label,
    }
}

/// The `sig` of a step: hashes of its lanes (`from_h`, `to_h`: [`fnv`] of the lane ids), its
/// protocol, kind and label base, and the hash of its chat's cause (0 for none).
pub fn signature(from_h: u64, to_h: u64, protocol: Protocol, kind: StepKind, label: &str, chat_cause_h: u64) -> u32 {
    let mut h = fnv(&from_h.to_le_bytes(), 0);
    h = fnv(&to_h.to_le_bytes(), h);
    h = fnv(&[protocol as u8, kind as u8], h);
    h = fnv(label_base(label).as_bytes(), h);
    h = fnv(&chat_cause_h.to_le_bytes(), h);
    (h ^ (h >> 32)) as u32
}

impl Step {
    /// The step's identity as one string: `cause/sig/nth` (module [`crate::story`]).
    pub fn sid(&self) -> String {
        format!("{}/{:08x}/{}", self.cause, self.sig, self.nth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_base_drops_only_a_trailing_number() {
        assert_eq!(label_base("stored #12"), "stored");
        assert_eq!(label_base("back to store #3"), "back to store");
        assert_eq!(label_base("200 OK"), "200 OK");
        assert_eq!(label_base("a #"), "a #");
        assert_eq!(label_base("x #1b"), "x #1b");
    }

    #[test]
    fn fnv_is_the_published_fnv1a() {
        // FNV-1a 64 of "a" (test vector of the reference implementation).
        assert_eq!(fnv(b"a", 0), 0xaf63_dc4c_8601_ec8c);
    }
}
