//! The packed form of a [`Trace`] that the wasm facade hands to the page: the same data as the
//! trace contract (docs/trace-contract.md) with the per-step and per-chat records laid out as
//! flat number arrays and every string interned once.
//!
//! Why: a 1,000-message run has about 9,000 steps. As plain JSON objects the keys alone are
//! ~140 bytes a step and the explanations repeat the same few hundred sentences, so the text is
//! ~3 MB, and writing it in wasm plus `JSON.parse` in the page cost ~40 ms — more than the
//! simulation. Packed it is a few hundred KB of `u32`s and one string: `www/engine.js` gives the
//! page the objects of the contract over it (`unpackTrace`), reading the numbers and slicing the
//! strings only when a field is read, so nothing above the facade changes and a 10,000-message
//! run (~87,000 steps) is not turned into a million JS values on every edit.
//! The wire texts are not part of it (see [`crate::run_without_wire_text`]).

use crate::trace::{Chat, PfState, Protocol, Step, StepKind, Trace};
use crate::u32map::U32Map;
use serde::Serialize;
use std::borrow::Cow;

/// Numbers per step in [`Packed::steps`], in this order: `at_ms`, `arrive_ms`, `from`, `to`,
/// `protocol`, `label`, `note`, clause set (index into [`Packed::clause_sets`]), `kind`,
/// `pf_state`, `queue_len`, `chat` ([`NONE`] for none), `event` ([`NONE`] for none), flags
/// (1 = policy, 2 = dropped), `key` ([`NONE`] for none), `cause`, `sig`, `nth`. String-valued
/// fields are string numbers (see [`Packed::text`]).
pub const STEP_FIELDS: usize = 18;

/// Numbers per chat in [`Packed::chats`], in this order: `id`, `from`, `text`, `imdn_id`,
/// `sent_ms`, `sent_step`, `for_carol` (0/1), `stored_ms`, `stored_step`, `in_flight_ms`,
/// `in_flight_step`, `delivered_ms`, `delivered_step`, `outcome`, `removed_ms`, `removed_step`,
/// `possible_duplicate` (0/1). Absent optional values are [`NONE`]; strings are string numbers.
pub const CHAT_FIELDS: usize = 17;

/// An absent optional number (`null` in the contract).
pub const NONE: u32 = u32::MAX;

/// Times fit in a `u32`: a scenario ends by [`crate::scenario::MAX_AT_MS`] (30 days, 2.6e9 ms)
/// and a run only a few minutes after its last event. Saturates rather than wraps, to be safe.
fn ms32(ms: u64) -> u32 {
    u32::try_from(ms).unwrap_or(NONE - 1)
}

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
    /// Format marker, always 2 (1 had `f64` numbers and a JSON array of strings).
    pub packed: u32,
    pub step_fields: usize,
    pub chat_fields: usize,
    /// Every string of the trace, one after the other: string `i` is
    /// `text[ends[i-1]..ends[i]]` (`ends[-1]` = 0).
    pub text: String,
    /// End of each string in [`Packed::text`], in UTF-16 code units (JavaScript string
    /// indices), so the page slices the one string it got instead of decoding thousands.
    pub ends: Vec<u32>,
    pub clause_sets: Vec<Vec<u32>>,
    pub steps: Vec<u32>,
    pub chats: Vec<u32>,
    pub rest: Rest<'a>,
}

#[derive(Default)]
struct Interner<'a> {
    text: String,
    ends: Vec<u32>,
    /// `ends.last()`, in UTF-16 units.
    end16: u32,
    /// Strings the run shares by pointer (the engine's static texts, the lanes' `Arc`s): keyed
    /// by address and length, so a long explanation is hashed as 16 bytes, not 100.
    by_ptr: U32Map<(usize, usize)>,
    /// Everything else, by content.
    by_text: U32Map<&'a str>,
}

impl<'a> Interner<'a> {
    fn push(&mut self, s: &'a str) -> u32 {
        let i = self.ends.len() as u32;
        self.text.push_str(s);
        let units = if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
        self.end16 += units as u32;
        self.ends.push(self.end16);
        i
    }

    /// A string that is usually one of a few shared instances.
    fn shared(&mut self, s: &'a str) -> u32 {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(i) = self.by_ptr.get(&key) {
            return i;
        }
        let i = self.id(s);
        self.by_ptr.insert(key, i);
        i
    }

    /// A label or an explanation: the engine's static texts by address; a text it formatted for
    /// this one step (`stored #12`) is not looked up at all.
    #[allow(clippy::ptr_arg)] // the variant is the point: `Borrowed` texts are the engine's statics
    fn cow(&mut self, s: &'a Cow<'static, str>) -> u32 {
        match s {
            Cow::Borrowed(b) => self.shared(b),
            Cow::Owned(o) => self.push(o),
        }
    }

    /// Any string, interned by content.
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some(i) = self.by_text.get(&s) {
            return i;
        }
        let i = self.push(s);
        self.by_text.insert(s, i);
        i
    }

    /// One of a handful of strings (the lane ids): a short linear scan by address.
    fn few(&mut self, cache: &mut Vec<((usize, usize), u32)>, s: &'a str) -> u32 {
        let p = (s.as_ptr() as usize, s.len());
        if let Some((_, i)) = cache.iter().find(|(q, _)| *q == p) {
            return *i;
        }
        let i = self.id(s);
        cache.push((p, i));
        i
    }

    /// An enum's name, by its discriminant `d` (a slot of `cache`).
    fn named(&mut self, cache: &mut [u32], d: usize, name: &'a str) -> u32 {
        if cache[d] == NONE {
            cache[d] = self.id(name);
        }
        cache[d]
    }

    /// A string that is (nearly) always unique, such as a chat text: not looked up at all.
    fn unique(&mut self, s: &'a str) -> u32 {
        self.push(s)
    }
}

fn opt(v: Option<u32>) -> u32 {
    v.unwrap_or(NONE)
}

fn flag(b: bool) -> u32 {
    u32::from(b)
}

/// Packs `trace` (its `raw` texts are not included).
pub fn pack(trace: &Trace) -> Packed<'_> {
    let mut int = Interner::default();
    let mut sets: Vec<Vec<u32>> = Vec::new();
    // Clause sets: the engine cites static lists (`cl!`), so the list's own address and length
    // find a set without looking at its strings; a list seen for the first time is matched by
    // content, so equal lists written in two places share one set.
    let mut set_by_ptr: U32Map<(usize, usize)> = U32Map::default();
    let mut set_by_text: U32Map<&[&'static str]> = U32Map::default();
    let mut steps = Vec::with_capacity(trace.steps.len() * STEP_FIELDS);
    let mut lanes = Vec::new();
    // The enums' names by discriminant: NONE until first used.
    let (mut protocols, mut kinds, mut states) = ([NONE; Protocol::ALL.len()], [NONE; StepKind::ALL.len()], [NONE; PfState::ALL.len()]);
    for s in &trace.steps {
        let Step {
            at_ms,
            arrive_ms,
            from,
            to,
            protocol,
            label,
            clauses,
            note,
            kind,
            policy,
            pf_state,
            queue_len,
            chat,
            event,
            dropped,
            key: title,
            cause,
            sig,
            nth,
            ..
        } = s;
        let key = (clauses.as_ptr() as usize, clauses.len());
        let set = match set_by_ptr.get(&key) {
            Some(i) => i,
            None => {
                let i = match set_by_text.get(&&**clauses) {
                    Some(i) => i,
                    None => {
                        let ids = clauses.iter().map(|c| int.shared(c)).collect();
                        let i = sets.len() as u32;
                        sets.push(ids);
                        set_by_text.insert(&**clauses, i);
                        i
                    }
                };
                // Only a static list keeps its address for good.
                if matches!(clauses, Cow::Borrowed(_)) {
                    set_by_ptr.insert(key, i);
                }
                i
            }
        };
        steps.extend_from_slice(&[
            ms32(*at_ms),
            ms32(*arrive_ms),
            int.few(&mut lanes, from),
            int.few(&mut lanes, to),
            int.named(&mut protocols, *protocol as usize, protocol.as_str()),
            int.cow(label),
            int.cow(note),
            set,
            int.named(&mut kinds, *kind as usize, kind.as_str()),
            int.named(&mut states, *pf_state as usize, pf_state.as_str()),
            *queue_len,
            opt(*chat),
            opt(*event),
            flag(*policy) | (flag(*dropped) << 1),
            title.as_ref().map_or(NONE, |k| int.cow(k)),
            int.shared(cause),
            *sig,
            *nth,
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
        let ms = |v: &Option<u64>| v.map_or(NONE, ms32);
        chats.extend_from_slice(&[
            *id,
            int.shared(from),
            int.unique(text),
            int.unique(imdn_id),
            ms32(*sent_ms),
            *sent_step,
            flag(*for_carol),
            ms(stored_ms),
            opt(*stored_step),
            ms(in_flight_ms),
            opt(*in_flight_step),
            ms(delivered_ms),
            opt(*delivered_step),
            int.shared(outcome.as_str()),
            ms(removed_ms),
            opt(*removed_step),
            flag(*possible_duplicate),
        ]);
    }
    Packed {
        packed: 2,
        step_fields: STEP_FIELDS,
        chat_fields: CHAT_FIELDS,
        text: int.text,
        ends: int.ends,
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
