//! The packed form of a [`Trace`] that the wasm facade hands to the page: the same data as the
//! trace contract (docs/trace-contract.md) with the per-step and per-chat records laid out as
//! flat number arrays and every string interned once.
//!
//! Why: a 1,000-message run has about 9,000 steps. As plain JSON objects the keys alone are
//! ~140 bytes a step and the explanations repeat the same few hundred sentences, so the text is
//! ~3 MB, and writing it in wasm plus `JSON.parse` in the page cost ~40 ms — more than the
//! simulation. Packed it is a few hundred KB of numbers; `www/engine.js` turns it back into
//! exactly the objects of the contract (`unpackTrace`), so nothing above the facade changes.
//! The wire texts are not part of it (see [`crate::run_without_wire_text`]).

use crate::trace::{Chat, Outcome, PfState, Protocol, Step, StepKind, Trace};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: interning hashes ~20,000 short strings per run; SipHash's DoS resistance buys
/// nothing here and costs a third of the packing time in wasm.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    /// Whole words at a time: the pointer-and-length keys are hashed in two steps, not sixteen.
    fn write_usize(&mut self, x: usize) {
        let h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        self.0 = (h ^ x as u64).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Numbers per step in [`Packed::steps`], in this order: `at_ms`, `arrive_ms`, `from`, `to`,
/// `protocol`, `label`, `note`, clause set (index into [`Packed::clause_sets`]), `kind`,
/// `pf_state`, `queue_len`, `chat` (-1 for none), `event` (-1 for none), flags (1 = policy,
/// 2 = dropped). String-valued fields are indices into [`Packed::strings`].
pub const STEP_FIELDS: usize = 14;

/// Numbers per chat in [`Packed::chats`], in this order: `id`, `from`, `text`, `imdn_id`,
/// `sent_ms`, `sent_step`, `for_carol` (0/1), `stored_ms`, `stored_step`, `in_flight_ms`,
/// `in_flight_step`, `delivered_ms`, `delivered_step`, `outcome`, `removed_ms`, `removed_step`,
/// `possible_duplicate` (0/1). Absent optional values are -1; strings are indices.
pub const CHAT_FIELDS: usize = 17;

/// Everything of the trace except steps and chats, serialized as in the contract.
#[derive(Serialize)]
pub struct Rest<'a> {
    pub version: u32,
    pub rules: crate::Rules,
    pub title: &'a str,
    pub end_ms: u64,
    pub lanes: &'a [crate::trace::LaneInfo],
    pub timers: &'a [crate::trace::TimerSpan],
    pub pf_states: &'a [crate::trace::StateSpan],
    pub participants: &'a [crate::trace::RosterSnapshot],
    pub policies: &'a [crate::trace::PolicyChoice],
    pub summary: crate::trace::Summary,
}

/// A packed trace (see the module documentation).
#[derive(Serialize)]
pub struct Packed<'a> {
    /// Format marker, always 1.
    pub packed: u32,
    pub step_fields: usize,
    pub chat_fields: usize,
    pub strings: Vec<&'a str>,
    pub clause_sets: Vec<Vec<u32>>,
    pub steps: Vec<f64>,
    pub chats: Vec<f64>,
    pub rest: Rest<'a>,
}

#[derive(Default)]
struct Interner<'a> {
    strings: Vec<&'a str>,
    /// Strings the run shares by pointer (the engine's static texts, the lanes' `Arc`s): keyed
    /// by address and length, so a long explanation is hashed as 16 bytes, not 100.
    by_ptr: FastMap<(usize, usize), u32>,
    /// Everything else, by content.
    by_text: FastMap<&'a str, u32>,
}

impl<'a> Interner<'a> {
    fn push(&mut self, s: &'a str) -> u32 {
        let i = self.strings.len() as u32;
        self.strings.push(s);
        i
    }

    /// A string that is usually one of a few shared instances.
    fn shared(&mut self, s: &'a str) -> f64 {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(i) = self.by_ptr.get(&key) {
            return f64::from(*i);
        }
        let i = self.id(s);
        self.by_ptr.insert(key, i as u32);
        i
    }

    /// Any string, interned by content.
    fn id(&mut self, s: &'a str) -> f64 {
        if let Some(i) = self.by_text.get(s) {
            return f64::from(*i);
        }
        let i = self.push(s);
        self.by_text.insert(s, i);
        f64::from(i)
    }

    /// One of a handful of strings (lane ids, enum names): a short linear scan by address.
    fn few(&mut self, cache: &mut Vec<((usize, usize), f64)>, s: &'a str) -> f64 {
        let p = (s.as_ptr() as usize, s.len());
        if let Some((_, i)) = cache.iter().find(|(q, _)| *q == p) {
            return *i;
        }
        let i = self.id(s);
        cache.push((p, i));
        i
    }

    /// A string that is (nearly) always unique, such as a chat text: not looked up at all.
    fn unique(&mut self, s: &'a str) -> f64 {
        f64::from(self.push(s))
    }
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::SIP => "SIP",
        Protocol::MSRP => "MSRP",
        Protocol::None => "none",
    }
}

fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Message => "message",
        StepKind::State => "state",
        StepKind::Store => "store",
        StepKind::Deliver => "deliver",
        StepKind::Lost => "lost",
        StepKind::Timer => "timer",
        StepKind::Info => "info",
    }
}

fn state_name(s: PfState) -> &'static str {
    match s {
        PfState::Idle => "Idle",
        PfState::Inviting => "Inviting",
        PfState::Active => "Active",
        PfState::Deferred => "Deferred",
        PfState::DeliveringA => "DeliveringA",
        PfState::DeliveringB => "DeliveringB",
        PfState::Replaying => "Replaying",
        PfState::Left => "Left",
        PfState::Ended => "Ended",
        PfState::EndedWithBacklog => "EndedWithBacklog",
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Live => "live",
        Outcome::FromStore => "from_store",
        Outcome::StillStored => "still_stored",
        Outcome::Lost => "lost",
        Outcome::Discarded => "discarded",
        Outcome::NotForCarol => "not_for_carol",
        Outcome::Pending => "pending",
    }
}

fn opt(v: Option<u32>) -> f64 {
    v.map_or(-1.0, f64::from)
}

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// Packs `trace` (its `raw` texts are not included).
pub fn pack(trace: &Trace) -> Packed<'_> {
    let mut int = Interner::default();
    let mut sets: Vec<Vec<u32>> = Vec::new();
    // Clause sets by the addresses of their (static) strings; content decides only for the rare
    // set of more than four.
    let mut set_by_ptr: FastMap<[usize; 5], u32> = FastMap::default();
    let mut set_by_text: FastMap<&[&'static str], u32> = FastMap::default();
    let mut steps = Vec::with_capacity(trace.steps.len() * STEP_FIELDS);
    let (mut lanes, mut enums) = (Vec::new(), Vec::new());
    for s in &trace.steps {
        let Step { at_ms, arrive_ms, from, to, protocol, label, clauses, note, kind, policy, pf_state, queue_len, chat, event, dropped, .. } = s;
        let mut key = [clauses.len(), 0, 0, 0, 0];
        if clauses.len() <= 4 {
            for (k, c) in key[1..].iter_mut().zip(clauses.iter()) {
                *k = c.as_ptr() as usize;
            }
        }
        let known = if clauses.len() <= 4 { set_by_ptr.get(&key) } else { set_by_text.get(clauses.as_slice()) };
        let set = match known {
            Some(i) => *i,
            None => {
                let ids = clauses.iter().map(|c| int.shared(c) as u32).collect();
                let i = sets.len() as u32;
                sets.push(ids);
                if clauses.len() <= 4 {
                    set_by_ptr.insert(key, i);
                } else {
                    set_by_text.insert(clauses.as_slice(), i);
                }
                i
            }
        };
        steps.extend_from_slice(&[
            *at_ms as f64,
            *arrive_ms as f64,
            int.few(&mut lanes, from),
            int.few(&mut lanes, to),
            int.few(&mut enums, protocol_name(*protocol)),
            int.shared(label),
            int.shared(note),
            f64::from(set),
            int.few(&mut enums, kind_name(*kind)),
            int.few(&mut enums, state_name(*pf_state)),
            f64::from(*queue_len),
            opt(*chat),
            opt(*event),
            flag(*policy) + 2.0 * flag(*dropped),
        ]);
    }
    let mut chats = Vec::with_capacity(trace.chats.len() * CHAT_FIELDS);
    for c in &trace.chats {
        let Chat {
            id,
            from,
            text,
            imdn_id,
            sent_ms,
            sent_step,
            for_carol,
            stored_ms,
            stored_step,
            in_flight_ms,
            in_flight_step,
            delivered_ms,
            delivered_step,
            outcome,
            removed_ms,
            removed_step,
            possible_duplicate,
            ..
        } = c;
        let ms = |v: &Option<u64>| v.map_or(-1.0, |x| x as f64);
        chats.extend_from_slice(&[
            f64::from(*id),
            int.shared(from),
            int.unique(text),
            int.unique(imdn_id),
            *sent_ms as f64,
            f64::from(*sent_step),
            flag(*for_carol),
            ms(stored_ms),
            opt(*stored_step),
            ms(in_flight_ms),
            opt(*in_flight_step),
            ms(delivered_ms),
            opt(*delivered_step),
            int.shared(outcome_name(*outcome)),
            ms(removed_ms),
            opt(*removed_step),
            flag(*possible_duplicate),
        ]);
    }
    Packed {
        packed: 1,
        step_fields: STEP_FIELDS,
        chat_fields: CHAT_FIELDS,
        strings: int.strings,
        clause_sets: sets,
        steps,
        chats,
        rest: Rest {
            version: trace.version,
            rules: trace.rules,
            title: &trace.title,
            end_ms: trace.end_ms,
            lanes: &trace.lanes,
            timers: &trace.timers,
            pf_states: &trace.pf_states,
            participants: &trace.participants,
            policies: &trace.policies,
            summary: trace.summary,
        },
    }
}

/// The packed trace as JSON text.
pub fn pack_json(trace: &Trace) -> String {
    serde_json::to_string(&pack(trace)).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names used here are the ones serde writes in the contract.
    #[test]
    fn enum_names_match_the_contract() {
        let j = |v: &dyn erased::Ser| v.json();
        for p in [Protocol::SIP, Protocol::MSRP, Protocol::None] {
            assert_eq!(j(&p), format!("{:?}", protocol_name(p)));
        }
        for k in [StepKind::Message, StepKind::State, StepKind::Store, StepKind::Deliver, StepKind::Lost, StepKind::Timer, StepKind::Info] {
            assert_eq!(j(&k), format!("{:?}", kind_name(k)));
        }
        for s in [
            PfState::Idle,
            PfState::Inviting,
            PfState::Active,
            PfState::Deferred,
            PfState::DeliveringA,
            PfState::DeliveringB,
            PfState::Replaying,
            PfState::Left,
            PfState::Ended,
            PfState::EndedWithBacklog,
        ] {
            assert_eq!(j(&s), format!("{:?}", state_name(s)));
        }
        for o in [Outcome::Live, Outcome::FromStore, Outcome::StillStored, Outcome::Lost, Outcome::Discarded, Outcome::NotForCarol, Outcome::Pending] {
            assert_eq!(j(&o), format!("{:?}", outcome_name(o)));
        }
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    }
}
