//! The world's side of the PF's boundary: what reaches the PF becomes a [`PfInput`], and what the
//! PF emits ([`PfOutput`]) is executed here: its messages are recorded and delivered after the
//! hop latency, its timers armed and stopped with their reason, its decisions recorded as steps,
//! and its chat bookkeeping written into the trace's records. The PF itself (src/pf/) never sees
//! the world.

use super::*;
use crate::machine::Machine;
use crate::pf::{ChatEvent, KeyAt, PfEmit, PfInput, PfOutput};

impl World<'_> {
    /// A message `a` (recorded at `step`) reaches the PF.
    // Boxed as it left the queue: only the fields it uses are moved out (on wasm32 the arrival
    // is small enough for clippy to want it unboxed).
    #[allow(clippy::boxed_local)]
    pub(super) fn pf_arrival(&mut self, a: Box<Arrival>, step: u32) {
        let input = match *a {
            // The CPIM document is what the SEND carried (shared, not copied).
            Arrival::CfSendAtPf { chat, tid, chunk } => {
                PfInput::FocusSend { chat, tid, body: self.chat_body(chat), chunk, sender: self.chats[chat as usize].from.clone() }
            }
            Arrival::CarolImdnAtPf { imdn, tid } => PfInput::CarolImdn { imdn, tid },
            Arrival::CarolSendAtPf { chat, tid } => PfInput::CarolSend { chat, tid, body: self.chat_body(chat) },
            Arrival::CarolOkAtPf { tx } => PfInput::CarolSendOk { tx },
            Arrival::BindAtPf { tid } => PfInput::CarolBind { tid },
            Arrival::CarolInviteAtPf { txn, rejoin, no, ids } => PfInput::CarolInvite { txn, rejoin, no, ids },
            Arrival::CfRespAtPf { code, txn } => PfInput::FocusResponse { code, txn },
            Arrival::CarolCancelAtPf { txn } => PfInput::CarolCancel { txn },
            Arrival::CarolAckAtPf => PfInput::CarolAck,
            Arrival::CarolRespAtPf { inv, code, txn } => PfInput::CarolInviteResponse { inv, code, txn },
            Arrival::CarolByeAtPf { txn, reason } => PfInput::CarolBye { txn, reason },
            Arrival::CfByeAtPf { txn } => PfInput::FocusBye { txn },
            Arrival::CfInviteAtPf { txn } => PfInput::FocusInvite { txn },
            Arrival::CfInDialogAtPf { txn, update } => PfInput::FocusInDialog { txn, update },
            Arrival::NotifyAtPf { txn, terminated, roster } => PfInput::FocusNotify { txn, terminated, roster },
            Arrival::RegisterAtPf { txn, dereg: true, tablet, .. } => PfInput::Deregister { txn, device: if tablet { Node::Tablet } else { Node::Carol } },
            Arrival::RegisterAtPf { txn, reaction_ms, dereg: false, tablet } => {
                PfInput::Register { txn, reaction_ms, device: if tablet { Node::Tablet } else { Node::Carol } }
            }
            Arrival::ClientSubscribeAtPf { txn } => PfInput::CarolSubscribe { txn },
            Arrival::ReferAtPf { txn } => PfInput::CarolRefer { txn },
            Arrival::UpdateOkAtPf { upd } => PfInput::CarolUpdateOk { upd },
            Arrival::CfAckAtPf => PfInput::FocusAck,
            _ => return,
        };
        self.pf_input(input, Some(step));
    }

    /// Feeds the PF one input (`step`: the step of the message that arrived, if any) and executes
    /// what it emits, in order.
    pub(super) fn pf_input(&mut self, input: PfInput, step: Option<u32>) {
        // Through the one surface of every machine (static calls: crate::machine).
        Machine::handle(&mut self.pf, self.now, input);
        let mut out = std::mem::take(&mut self.pf_out);
        Machine::poll_output(&mut self.pf, &mut out);
        // Executed in place (the fields are taken out), so no output is moved a second time.
        for e in out.iter_mut() {
            self.pf_exec(e, step);
        }
        out.clear();
        self.pf_out = out;
        self.pf_snap = (self.pf.state(), self.pf.store_len() as u32);
        debug_assert_eq!(Machine::poll_timeout(&self.pf), self.pf_next_timer(), "the PF's poll_timeout against the timers the world runs for it");
    }

    /// The earliest of the PF's timers the world runs (what its `poll_timeout` must answer).
    fn pf_next_timer(&self) -> Option<(u64, crate::pf::PfTimer)> {
        let mut best: Option<(u64, crate::pf::PfTimer)> = None;
        for &id in &self.pf_timer_ids {
            let t = &self.timers[id as usize];
            if let (true, TimerKind::Pf(reason)) = (t.active, t.kind) {
                if best.is_none_or(|(at, _)| t.due < at) {
                    best = Some((t.due, reason));
                }
            }
        }
        best
    }

    fn last_step(&self) -> u32 {
        self.steps.len().saturating_sub(1) as u32
    }

    fn pf_exec(&mut self, e: &mut PfEmit, input_step: Option<u32>) {
        use std::mem::take;
        // The trace's per-step snapshot shows the PF as it was when it emitted this.
        self.pf_snap = (e.state, e.store);
        match &mut e.out {
            PfOutput::Sip { to, msg, clauses, note, arrival } => {
                self.sip(Node::Pf, *to, msg, take(clauses), take(note), Boxed(arrival.take()));
            }
            PfOutput::Msrp { to, raw, label, clauses, note, chat, arrival } => {
                if matches!(to, Node::Carol | Node::Tablet) {
                    self.pf_dev = *to;
                }
                self.msrp(Node::Pf, *to, take(raw), label, take(clauses), take(note), *chat, Boxed(arrival.take()));
            }
            PfOutput::Note { kind, label, clauses, note, chat } => {
                self.note(Node::Pf, *kind, take(label), take(clauses), take(note), *chat);
            }
            PfOutput::State { state, clauses, note } => self.pf_state_changed(*state, take(clauses), take(note)),
            PfOutput::Key { at, title } => {
                let step = match at {
                    KeyAt::Last => self.last_step(),
                    KeyAt::Input => input_step.unwrap_or(u32::MAX),
                    KeyAt::Mark => self.pf_mark,
                };
                self.mark_key(step, take(title));
            }
            PfOutput::Mark => self.pf_mark = self.steps.len() as u32,
            PfOutput::Arm { handle, timer, ms } => {
                let (timer, ms) = (*timer, *ms);
                let id = self.start_timer(TimerKind::Pf(timer), ms, timer.name(), timer.clause(), Node::Pf, timer.shown_when_stopped());
                debug_assert_eq!(*handle as usize, self.pf_timer_ids.len());
                self.pf_timer_ids.push(id);
            }
            PfOutput::Stop { handle } => self.stop_timer(self.pf_timer_ids[*handle as usize]),
            PfOutput::Roster(users) => self.snapshot("pf", take(users)),
            PfOutput::Chat(c) => match c {
                ChatEvent::Stored(chat) => self.chat_stored(*chat, self.last_step()),
                ChatEvent::InFlight(chat) => self.chat_in_flight(*chat, self.last_step()),
                ChatEvent::Delivered { chat, from_store } => {
                    self.deliver_mark(*chat, *from_store);
                    self.chat_delivered(*chat, input_step.unwrap_or(0));
                }
                ChatEvent::Requeued(chat) => self.chat_requeued(*chat, self.last_step()),
                ChatEvent::Dropped { chat, purge, why, clauses } => self.pf_drops(*chat, *purge, take(why), take(clauses)),
            },
            PfOutput::Entitled(b) => self.carol.entitled = *b,
            PfOutput::CloseMsrpToCarol => self.pf_closes_msrp_to_carol(),
        }
    }

    /// The PF's state changed: the state band and a state step.
    fn pf_state_changed(&mut self, s: PfState, clauses: Clauses, note: Cow<'static, str>) {
        if let Some(last) = self.states.last_mut() {
            if last.from_ms == self.now {
                last.state = s;
            } else {
                last.to_ms = self.now;
                self.states.push(StateSpan { state: s, from_ms: self.now, to_ms: self.now });
            }
        }
        if self.states.len() >= 2 {
            let n = self.states.len();
            if self.states[n - 2].state == self.states[n - 1].state {
                self.states.pop();
            }
        }
        let label = format!("{s:?}");
        self.note(Node::Pf, StepKind::State, label, clauses, note, None);
    }
}
