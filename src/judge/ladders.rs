//! The two ladders of the page's judge panel (issue 14, "the observed ladder is drawn by the
//! same renderer, the expected ladder beside it"): the capture's messages as a trace in the
//! trace contract's shape (docs/trace-contract.md), one step per message, on lanes named by
//! the roles found, and the deviations' step on each ladder.
//!
//! The observed trace carries only what the capture shows: messages (kind `message`), their
//! wire text, time and frame (in the note). It has no chats, timers, PF states or policies:
//! those are the model's, and the expected ladder (the model's run of the rebuilt timeline)
//! shows them.

use crate::capture::roles::{Node, Roles};
use crate::capture::{CapturedMessage, WireMessage};
use crate::trace::{LaneInfo, PfState, Protocol, Rules, Step, StepKind, Summary, Trace};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Most messages the observed ladder draws (the page's renderer is fast with ~90,000 steps; a
/// bigger capture is cut there and says so in its title).
pub const MAX_STEPS: usize = 100_000;

/// The lane of an address: the roles' lanes (the model's lane ids, so both ladders read alike)
/// or one lane per other address.
struct Lanes<'a> {
    roles: &'a Roles,
    lanes: Vec<LaneInfo>,
    others: BTreeMap<SocketAddr, Arc<str>>,
}

impl Lanes<'_> {
    /// (lane id, label, role) of a role found; the addresses are in every step's note and in
    /// the panel's roles line.
    fn role_lane(&self, a: SocketAddr) -> Option<(&'static str, &'static str, &'static str)> {
        let r = self.roles;
        if r.pf.matches(a) {
            return Some(("carol-pf", "Carol's PF", "pf"));
        }
        let named: [(Option<Node>, _, _, _); 3] =
            [(r.cf, "cf", "CF (focus)", "cf"), (r.carol, "carol", "Carol (client)", "client"), (r.scscf, "scscf", "IMS core", "ims")];
        named.into_iter().find_map(|(n, id, label, role)| n.filter(|n| n.matches(a)).map(|_| (id, label, role)))
    }

    fn lane(&mut self, a: SocketAddr) -> Arc<str> {
        if let Some((id, label, role)) = self.role_lane(a) {
            if !self.lanes.iter().any(|l| &*l.id == id) {
                self.lanes.push(LaneInfo { id: id.into(), label: label.into(), role });
            }
            return id.into();
        }
        // Another node: keyed by address alone (its ports are its connections).
        let key = SocketAddr::new(a.ip(), 0);
        if let Some(id) = self.others.get(&key) {
            return id.clone();
        }
        let id: Arc<str> = format!("node-{}", self.others.len() + 1).into();
        self.lanes.push(LaneInfo { id: id.clone(), label: a.ip().to_string(), role: "member" });
        self.others.insert(key, id.clone());
        id
    }
}

/// The capture's messages as a trace: `t0_ns` is the rebuilt timeline's t = 0, so both ladders
/// share a time axis.
///
/// `states` gives the model PF's state at messages of the capture (index, state: the lockstep
/// oracle's machine when that message was sent or received); a message between two takes the
/// state of the one before (Active before the first).
pub fn observed_trace(msgs: &[CapturedMessage], roles: &Roles, t0_ns: u64, rules: Rules, states: &[(usize, PfState)]) -> Trace {
    let mut known = states.iter().peekable();
    let mut state = PfState::Active;
    let mut lanes = Lanes { roles, lanes: Vec::new(), others: BTreeMap::new() };
    let mut steps = Vec::with_capacity(msgs.len().min(MAX_STEPS));
    for (i, m) in msgs.iter().take(MAX_STEPS).enumerate() {
        while let Some((_, s)) = known.next_if(|(k, _)| *k <= i) {
            state = *s;
        }
        let from = lanes.lane(m.src);
        let to = lanes.lane(m.dst);
        let (protocol, raw) = match &m.message {
            WireMessage::Sip(s) => (Protocol::SIP, s.emit()),
            WireMessage::Msrp(x) => (Protocol::MSRP, x.emit()),
        };
        let at_ms = m.time_ns.saturating_sub(t0_ns) / 1_000_000;
        steps.push(Step {
            index: i as u32,
            at_ms,
            arrive_ms: at_ms,
            from,
            to,
            protocol,
            label: Cow::Owned(m.message.label()),
            raw,
            clauses: Cow::Borrowed(&[]),
            note: Cow::Owned(format!("frame {} ({} → {}, {:?})", m.frame, m.src, m.dst, m.transport)),
            kind: StepKind::Message,
            policy: false,
            pf_state: state,
            queue_len: 0,
            chat: None,
            event: None,
            dropped: false,
            key: None,
            cause: format!("frame:{}", m.frame).into(),
            sig: 0,
            nth: 0,
        });
    }
    // Ladder order: Carol's side, the core, her PF, the focus, then the other nodes.
    let rank = |l: &LaneInfo| match l.role {
        "client" => 0,
        "ims" => 1,
        "pf" => 2,
        "cf" => 3,
        _ => 4,
    };
    let mut lanes = lanes.lanes;
    lanes.sort_by_key(rank);
    let cut = if msgs.len() > MAX_STEPS { format!(" (its first {MAX_STEPS} of {} messages)", msgs.len()) } else { String::new() };
    let pf_states = spans(&steps);
    Trace {
        version: 1,
        rules,
        title: format!("Observed: the capture's messages{cut}"),
        end_ms: steps.last().map_or(0, |s| s.at_ms),
        lanes,
        steps,
        chats: Vec::new(),
        timers: Vec::new(),
        pf_states,
        participants: Vec::new(),
        policies: Vec::new(),
        summary: Summary::default(),
    }
}

/// The state band of the observed ladder: the model PF's state along the capture.
fn spans(steps: &[Step]) -> Vec<crate::trace::StateSpan> {
    let mut out: Vec<crate::trace::StateSpan> = Vec::new();
    for s in steps {
        match out.last_mut() {
            Some(l) if l.state == s.pf_state => l.to_ms = s.at_ms,
            Some(l) => {
                l.to_ms = s.at_ms;
                out.push(crate::trace::StateSpan { state: s.pf_state, from_ms: s.at_ms, to_ms: s.at_ms });
            }
            None => out.push(crate::trace::StateSpan { state: s.pf_state, from_ms: 0, to_ms: s.at_ms }),
        }
    }
    out
}

/// The observed step of a deviation: the real PF's message in `frame` (its position in
/// `msgs`), or, when the PF sent nothing (`frame` 0), the last message at or before `at_ms`.
pub fn observed_step(msgs: &[CapturedMessage], roles: &Roles, t0_ns: u64, frame: u64, at_ms: u64) -> Option<u32> {
    let i = if frame > 0 {
        msgs.iter().position(|m| m.frame == frame && roles.pf.matches(m.src)).or_else(|| msgs.iter().position(|m| m.frame == frame))?
    } else {
        let n = msgs.iter().take_while(|m| m.time_ns.saturating_sub(t0_ns) / 1_000_000 <= at_ms).count();
        n.checked_sub(1)?
    };
    u32::try_from(i).ok().filter(|i| (*i as usize) < MAX_STEPS)
}
