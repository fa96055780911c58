//! The world's side of the IMS core's boundary (the core itself is the machine in src/ims/):
//! a SIP message between Carol's client and her PF is recorded as its hop into the core and fed
//! to the core when it arrives there; what the core sends is recorded as its hop out, half a
//! hop later, and delivered; its timers are run with their reason.

use super::*;
use crate::ims::{CoreInput, CoreOutput, CoreTimer};
use crate::machine::Machine;
use crate::wire::sip::SipMessage;

pub(crate) use crate::ims::{Core, CoreConfig, CoreHop, CAROL_ROUTE, PF_ROUTE};

impl World<'_> {
    /// Sends `msg` from Carol's client or her PF to the other through the IMS core: the step to
    /// the core (half a hop's latency), then the core's processing on arrival. Returns the
    /// first step.
    pub(super) fn sip_via_core(&mut self, from: Node, to: Node, msg: &SipMessage, clauses: Clauses, note: Cow<'static, str>, arrival: Option<Arrival>) -> u32 {
        let raw = if self.wire() { msg.emit() } else { String::new() };
        let at = self.now + HOP_MS / 2;
        let idx = self.record(from, Node::Scscf, Protocol::SIP, msg.label_cow(), raw, clauses.clone(), note, StepKind::Message, None, at);
        let hop = CoreHop { msg: msg.clone(), from, to, arrival, clauses };
        self.push(at, Ev::Arrive(Box::new(Arrival::AtCore(Box::new(hop))), idx));
        idx
    }

    /// Feeds the core one input and executes what it emits, in order.
    pub(super) fn core_input(&mut self, input: CoreInput) {
        Machine::handle(&mut self.core, self.now, input);
        let mut out = std::mem::take(&mut self.core_out);
        Machine::poll_output(&mut self.core, &mut out);
        for o in out.iter_mut() {
            // Taken out in place (a Stop of no handle is left behind), so nothing moves twice.
            match std::mem::replace(o, CoreOutput::Stop { handle: u32::MAX }) {
                CoreOutput::Sip { to, raw, label, clauses, note, arrival } => {
                    let at = self.now + HOP_MS / 2;
                    let idx = self.record(Node::Scscf, to, Protocol::SIP, label, raw, clauses, crate::trace::note_text(note), StepKind::Message, None, at);
                    if let Some(a) = arrival {
                        self.push(at, Ev::Arrive(a, idx));
                    }
                }
                CoreOutput::Arm { handle, timer, ms } => {
                    let id = self.start_timer(TimerKind::Core(timer), ms, timer.name(), timer.clause(), Node::Scscf, false);
                    debug_assert_eq!(handle as usize, self.core_timer_ids.len());
                    self.core_timer_ids.push(id);
                }
                CoreOutput::Stop { handle } => self.stop_timer(self.core_timer_ids[handle as usize]),
            }
        }
        out.clear();
        self.core_out = out;
        debug_assert_eq!(Machine::poll_timeout(&self.core), self.core_next_timer(), "the core's poll_timeout against the timers the world runs for it");
    }

    /// The earliest of the core's timers the world runs (what its `poll_timeout` must answer).
    fn core_next_timer(&self) -> Option<(u64, CoreTimer)> {
        let mut best: Option<(u64, CoreTimer)> = None;
        for &id in &self.core_timer_ids {
            let t = &self.timers[id as usize];
            if let (true, TimerKind::Core(reason)) = (t.active, t.kind) {
                if best.is_none_or(|(at, _)| t.due < at) {
                    best = Some((t.due, reason));
                }
            }
        }
        best
    }

    /// Carol's device is reachable again, or not any more: the world's ground truth, and what
    /// her P-CSCF knows of her signalling connection.
    pub(super) fn set_carol_reachable(&mut self, r: bool) {
        self.carol.reachable = r;
        self.core_input(CoreInput::CarolReachable(r));
        self.client_input(crate::client::ClientInput::Network(r), None);
    }
}

impl Arrival {
    /// The transaction an arrival carries (the request or response as it reaches its receiver).
    pub(crate) fn txn_mut(&mut self) -> Option<&mut Txn> {
        match self {
            Arrival::CarolInviteAtPf { txn, .. }
            | Arrival::CarolRespAtPf { txn, .. }
            | Arrival::PfRespAtCarol { txn, .. }
            | Arrival::PfInviteAtCarol { txn, .. }
            | Arrival::CancelAtCarol { txn, .. }
            | Arrival::CarolByeAtPf { txn, .. }
            | Arrival::PfByeAtCarol { txn }
            | Arrival::ClientSubscribeAtPf { txn }
            | Arrival::ReferAtPf { txn }
            | Arrival::NotifyAtCarol { txn, .. }
            | Arrival::UpdateAtCarol { txn, .. }
            | Arrival::CarolCancelAtPf { txn } => Some(txn),
            _ => None,
        }
    }
}
