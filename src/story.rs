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
//! title (`key`) at the point where the decision is made (src/pf/): the trigger, the
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

/// Appends `h` as 8 lower-case hex digits (what `{:08x}` writes, without the formatter).
fn push_hex8(out: &mut String, h: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..8).rev() {
        out.push(HEX[((h >> (4 * i)) & 0xf) as usize] as char);
    }
}

/// The cause key of every scenario event, in scenario order (see the module documentation).
pub fn event_causes(sc: &Scenario) -> Vec<String> {
    let who = |out: &mut String, w: &Who| match w {
        Who::Carol => out.push_str("carol"),
        Who::Member(i) => match sc.members.get(*i) {
            Some(m) => out.push_str(&m.id),
            None => {
                out.push('m');
                out.push_str(&i.to_string());
            }
        },
    };
    // Each key is written once into its own string (the base, then `#n`): two `format!`s per
    // event were a tenth of a 10,000-event run.
    let bases: Vec<String> = sc
        .events
        .iter()
        .map(|e| {
            let mut b = String::with_capacity(32);
            match &e.kind {
                EventKind::Message { from, text } => {
                    b.push_str("message:");
                    who(&mut b, from);
                    b.push(':');
                    push_hex8(&mut b, fnv(text.as_bytes(), 0) as u32);
                }
                EventKind::Bye { reason } => {
                    b.push_str("bye:");
                    push_hex8(&mut b, fnv(reason.as_ref().map_or("none", |(raw, _)| raw.as_str()).as_bytes(), 0) as u32);
                }
                EventKind::Leave { who: w } => {
                    b.push_str("leave:");
                    who(&mut b, w);
                }
                EventKind::Join { member } => {
                    b.push_str("join:");
                    who(&mut b, &Who::Member(*member));
                }
                EventKind::Unreachable => b.push_str("unreachable"),
                EventKind::MsrpLoss => b.push_str("msrp_loss"),
                EventKind::MsrpSetupFails => b.push_str("msrp_setup_fails"),
                EventKind::InviteRejected { status } => {
                    b.push_str("invite_rejected:");
                    b.push_str(&status.to_string());
                }
                EventKind::Register { .. } => b.push_str("register"),
                EventKind::Rejoin { .. } => b.push_str("rejoin"),
                EventKind::Deregister => b.push_str("deregister"),
                EventKind::GroupEnds => b.push_str("group_ends"),
                EventKind::Tablet(t) => b.push_str(match t {
                    crate::scenario::TabletEvent::Register { .. } => "tablet:register",
                    crate::scenario::TabletEvent::Deregister => "tablet:deregister",
                    crate::scenario::TabletEvent::Unreachable => "tablet:unreachable",
                    crate::scenario::TabletEvent::Leave => "tablet:leave",
                }),
                EventKind::CfReinvite { subject: None } => b.push_str("cf_reinvite"),
                EventKind::CfReinvite { subject: Some(s) } => {
                    b.push_str("cf_reinvite:");
                    push_hex8(&mut b, fnv(s.as_bytes(), 0) as u32);
                }
                EventKind::CfUpdate => b.push_str("cf_update"),
            }
            b
        })
        .collect();
    // How many events of each content came before: a map (a 10,000-message timeline has 10,000
    // distinct keys; a linear search among them was quadratic). Keyed by &str like the packer's
    // string map, so the page's wasm holds one instantiation of it.
    let mut seen: crate::u32map::U32Map<&str> = crate::u32map::U32Map::default();
    seen.reserve(bases.len());
    let counts: Vec<u32> = bases
        .iter()
        .map(|base| {
            let n = seen.get_or_insert(base.as_str(), u32::MAX);
            *n = n.wrapping_add(1);
            *n
        })
        .collect();
    drop(seen);
    bases
        .into_iter()
        .zip(counts)
        .map(|(mut base, n)| {
            base.push('#');
            if n < 10 {
                base.push((b'0' + n as u8) as char);
            } else {
                base.push_str(&n.to_string());
            }
            base
        })
        .collect()
}

/// A label without a trailing chat number: `stored #12` → `stored`.
pub fn label_base(label: &str) -> &str {
    // Byte by byte from the end (a `str` pattern search set up a two-way searcher per step).
    let b = label.as_bytes();
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let i = b.len() - digits;
    if digits > 0 && i >= 2 && b[i - 2] == b' ' && b[i - 1] == b'#' {
        &label[..i - 2]
    } else {
        label
    }
}

/// The `sig` of a step: hashes of its lanes (`from_h`, `to_h`: [`fnv`] of the lane ids), its
/// protocol, kind and label base, and the hash of its chat's cause (0 for none).
pub fn signature(from_h: u64, to_h: u64, protocol: Protocol, kind: StepKind, label: &str, chat_cause_h: u64) -> u32 {
    sig_finish(sig_prefix(from_h, to_h, protocol, kind, label), chat_cause_h)
}

/// The hash state of [`signature`] before the chat cause.
fn sig_prefix(from_h: u64, to_h: u64, protocol: Protocol, kind: StepKind, label: &str) -> u64 {
    let mut h = fnv(&from_h.to_le_bytes(), 0);
    h = fnv(&to_h.to_le_bytes(), h);
    h = fnv(&[protocol as u8, kind as u8], h);
    fnv(label_base(label).as_bytes(), h)
}

fn sig_finish(prefix: u64, chat_cause_h: u64) -> u32 {
    let h = fnv(&chat_cause_h.to_le_bytes(), prefix);
    (h ^ (h >> 32)) as u32
}

/// [`signature`] for the engine, which records ~9 steps per scenario event with a few dozen
/// static labels: the hash state before the chat cause is remembered per (lanes, protocol,
/// kind, label address) for labels that are `&'static str`, so a step hashes 8 bytes instead
/// of ~50 (FNV's byte loop was a sixth of a run). Owned labels are hashed in full. Gives the
/// same values as [`signature`].
pub(crate) struct SigMemo {
    /// Direct-mapped: (label address, label length, lanes/protocol/kind, state); address 0 = empty.
    slots: Vec<(usize, usize, u64, u64)>,
}

impl Default for SigMemo {
    fn default() -> Self {
        SigMemo { slots: vec![(0, 0, 0, 0); 512] }
    }
}

impl SigMemo {
    /// The `sig` of a step from lane `fi` (hash `from_h`) to lane `ti` (hash `to_h`).
    // `&Cow`, not `&str`: whether the label is borrowed (static) is what the memo keys on.
    #[allow(clippy::too_many_arguments, clippy::ptr_arg)]
    pub(crate) fn sig(
        &mut self,
        fi: usize,
        ti: usize,
        from_h: u64,
        to_h: u64,
        protocol: Protocol,
        kind: StepKind,
        label: &std::borrow::Cow<'static, str>,
        chat_cause_h: u64,
    ) -> u32 {
        let std::borrow::Cow::Borrowed(text) = label else {
            return signature(from_h, to_h, protocol, kind, label, chat_cause_h);
        };
        let (ptr, len) = (text.as_ptr() as usize, text.len());
        let key = fi as u64 | (ti as u64) << 20 | (protocol as u64) << 40 | (kind as u64) << 48;
        // Multiplicative hashing of all of the key (the lanes, protocol and kind matter as much
        // as the label: "200 OK" goes between many pairs of lanes); the top 9 bits pick the slot.
        let x = (ptr as u64) ^ (len as u64).rotate_left(32) ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize & (self.slots.len() - 1);
        let s = self.slots[slot];
        let prefix = if s.0 == ptr && s.1 == len && s.2 == key {
            s.3
        } else {
            let p = sig_prefix(from_h, to_h, protocol, kind, text);
            self.slots[slot] = (ptr, len, key, p);
            p
        };
        sig_finish(prefix, chat_cause_h)
    }
}

/// Distinct `sig`s counted in place per cause before [`NthCounter`] uses its map.
const INLINE_SIGS: usize = 12;

/// The `nth` of each step: how many earlier steps had the same (cause, sig). A message event's
/// cause has about nine steps with distinct sigs, so each cause keeps its first
/// [`INLINE_SIGS`] counters in a fixed slot of one array (a step touches one cache line near
/// the other steps of its event); a cause with more distinct sigs (a replay of the store under
/// `register#0`) counts the rest in a map. One map entry per step was a quarter of the page's
/// fast path: a store into a 2 MB table that missed the cache on nearly every step.
pub(crate) struct NthCounter {
    inline: Vec<([(u32, u32); INLINE_SIGS], u8)>,
    spill: crate::u32map::U32Map<(usize, usize)>,
}

impl NthCounter {
    /// A counter for causes `0..causes`.
    pub(crate) fn new(causes: usize) -> Self {
        NthCounter { inline: vec![([(0, 0); INLINE_SIGS], 0); causes], spill: crate::u32map::U32Map::default() }
    }

    /// Counts a step of `cause` with `sig` and returns how many came before it.
    pub(crate) fn next(&mut self, cause: u32, sig: u32) -> u32 {
        let (slots, len) = &mut self.inline[cause as usize];
        for (s, n) in slots[..*len as usize].iter_mut() {
            if *s == sig {
                *n += 1;
                return *n - 1;
            }
        }
        if (*len as usize) < INLINE_SIGS {
            slots[*len as usize] = (sig, 1);
            *len += 1;
            return 0;
        }
        let n = self.spill.get_or_insert((cause as usize, sig as usize), 0);
        *n += 1;
        *n - 1
    }
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
    fn the_memo_gives_the_signature() {
        use std::borrow::Cow;
        let mut m = SigMemo::default();
        for label in [Cow::Borrowed("SEND"), Cow::Borrowed("stored #3"), Cow::Owned("stored #4".to_string()), Cow::Borrowed("SEND")] {
            for (fi, ti) in [(0, 1), (1, 0), (1, 2)] {
                for chat in [0, 77] {
                    let (fh, th) = (fnv(&[fi as u8], 0), fnv(&[ti as u8], 0));
                    let want = signature(fh, th, Protocol::MSRP, StepKind::Message, &label, chat);
                    assert_eq!(m.sig(fi, ti, fh, th, Protocol::MSRP, StepKind::Message, &label, chat), want);
                }
            }
        }
    }

    #[test]
    fn nth_counts_per_cause_and_sig_past_the_inline_slots() {
        let mut c = NthCounter::new(2);
        let mut want = std::collections::HashMap::new();
        for i in 0..200u32 {
            let (cause, sig) = (i % 2, (i * 7) % 31);
            let e = want.entry((cause, sig)).or_insert(0);
            assert_eq!(c.next(cause, sig), *e);
            *e += 1;
        }
    }

    #[test]
    fn fnv_is_the_published_fnv1a() {
        // FNV-1a 64 of "a" (test vector of the reference implementation).
        assert_eq!(fnv(b"a", 0), 0xaf63_dc4c_8601_ec8c);
    }
}
