//! The PF's outbox: every helper here appends one [`PfOutput`] (with the PF's state and store
//! length at that moment) instead of acting on the world; and the PF's own wire-text builder.

use super::*;
use crate::machine::{Machine, Time};
use crate::policy::PolicyId;
use crate::trace::{Clauses, StepKind};
use crate::wire::sip::SipMessage;
use crate::world::build::Builder;
use crate::world::Arrival;
use std::borrow::Cow;

impl Pf {
    /// Feeds the PF one input at time `now`; what it wants done is then in its output queue
    /// ([`Pf::poll_output`]).
    pub(crate) fn handle(&mut self, now: u64, input: PfInput) {
        if let PfInput::Timer(t) = input {
            self.reasons.fired(&mut self.armed, now, t);
        }
        self.dispatch(now, input);
    }

    /// Its earliest armed timer (when it fires and why), as str0m's `poll_timeout`; None when
    /// none runs.
    pub(crate) fn poll_timeout(&self) -> Option<(Time, PfTimer)> {
        self.reasons.next(&self.armed)
    }

    /// Moves what the PF wants done, in order, into `into` (which must be empty; the two buffers
    /// swap, so draining allocates nothing once both have grown).
    pub(crate) fn poll_output(&mut self, into: &mut Vec<PfEmit>) {
        debug_assert!(into.is_empty());
        std::mem::swap(into, &mut self.out);
    }

    pub(in crate::pf) fn emit(&mut self, out: PfOutput) {
        self.out.push(PfEmit { state: self.state, store: self.store.len() as u32, out });
    }

    /// Sends a SIP message to `to`.
    pub(in crate::pf) fn sip(&mut self, to: Node, msg: SipMessage, clauses: Clauses, note: impl Into<Cow<'static, str>>, arrival: Option<Arrival>) {
        // Towards Carol: the device the message itself names (src/pf/devices.rs).
        let to = if matches!(to, Node::Carol | Node::Tablet) { Self::device_of_msg(&msg) } else { to };
        // Boxed here, where the world would box it for its event queue anyway.
        self.emit(PfOutput::Sip { to, msg, clauses, note: crate::trace::note_text(note), arrival: arrival.map(Box::new) });
    }

    /// Sends an MSRP message to `to`.
    #[allow(clippy::too_many_arguments)]
    // (With wire texts, the arrival is built in the caller's frame and moved once, into its box;
    // not inlined in the page's first wasm module, which has no wire text and counts bytes.)
    #[cfg_attr(feature = "wire-text", inline(always))]
    pub(in crate::pf) fn msrp(
        &mut self,
        to: Node,
        raw: String,
        label: &'static str,
        clauses: Clauses,
        note: impl Into<Cow<'static, str>>,
        chat: Option<u32>,
        arrival: Option<Arrival>,
    ) {
        self.emit(PfOutput::Msrp { to, raw, label, clauses, note: crate::trace::note_text(note), chat, arrival: arrival.map(Box::new) });
    }

    /// A decision or note of its own.
    pub(in crate::pf) fn note(
        &mut self,
        kind: StepKind,
        label: impl Into<Cow<'static, str>>,
        clauses: Clauses,
        note: impl Into<Cow<'static, str>>,
        chat: Option<u32>,
    ) {
        self.emit(PfOutput::Note { kind, label: label.into(), clauses, note: crate::trace::note_text(note), chat });
    }

    /// Titles the step its last output recorded as a key step of the story.
    pub(in crate::pf) fn key_last(&mut self, title: impl Into<Cow<'static, str>>) {
        self.emit(PfOutput::Key { at: KeyAt::Last, title: title.into() });
    }

    /// Titles the step of the message being handled as a key step.
    pub(in crate::pf) fn key_input(&mut self, title: impl Into<Cow<'static, str>>) {
        self.emit(PfOutput::Key { at: KeyAt::Input, title: title.into() });
    }

    /// Remembers where its next step will be ([`Pf::key_at_mark`]).
    pub(in crate::pf) fn mark(&mut self) {
        self.emit(PfOutput::Mark);
    }

    /// Titles the first step after the last [`Pf::mark`] as a key step.
    pub(in crate::pf) fn key_at_mark(&mut self, title: impl Into<Cow<'static, str>>) {
        self.emit(PfOutput::Key { at: KeyAt::Mark, title: title.into() });
    }

    /// Arms timer `t` for `ms`; returns its handle (to stop it).
    pub(in crate::pf) fn arm(&mut self, t: PfTimer, ms: u64) -> u32 {
        let handle = self.reasons.add(t);
        self.armed.arm(handle, self.now + ms);
        self.emit(PfOutput::Arm { handle, timer: t, ms });
        handle
    }

    /// Stops timer `handle` (no effect if it already fired or stopped).
    pub(in crate::pf) fn stop_timer(&mut self, handle: u32) {
        self.armed.stop(handle);
        self.emit(PfOutput::Stop { handle });
    }

    /// The participant list it holds now changed.
    pub(in crate::pf) fn snapshot(&mut self, users: Vec<Participant>) {
        self.emit(PfOutput::Roster(users));
    }

    /// Reports what happened to a chat message at its hands.
    pub(in crate::pf) fn chat(&mut self, e: ChatEvent) {
        self.emit(PfOutput::Chat(e));
    }

    /// It drops `chat` (`purge`: Some(voluntary) when it empties its store on leaving).
    pub(in crate::pf) fn pf_drops(&mut self, chat: u32, purge: Option<bool>, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        self.chat(ChatEvent::Dropped { chat, purge, why: crate::trace::note_text(why), clauses });
    }

    /// It considers Carol a participant entitled to the group's messages (or no longer).
    pub(in crate::pf) fn set_carol_entitled(&mut self, entitled: bool) {
        self.emit(PfOutput::Entitled(entitled));
    }

    /// It gives up its MSRP connection with Carol's client.
    pub(in crate::pf) fn pf_closes_msrp_to_carol(&mut self) {
        self.emit(PfOutput::CloseMsrpToCarol);
    }

    /// Whether policy `p` is set to `option` (its configuration).
    pub(in crate::pf) fn policy(&self, p: PolicyId, option: &str) -> bool {
        self.cfg.policies.is(p, option)
    }

    /// A fresh number of its own.
    pub(in crate::pf) fn next(&mut self, _me: Node) -> u64 {
        self.ids.next()
    }
}

/// The PF builds what it sends with its own ids and configuration.
impl Builder for Pf {
    fn ids(&mut self, _n: Node) -> &mut Ids {
        &mut self.ids
    }
    fn wire_text(&self) -> bool {
        cfg!(feature = "wire-text") && self.cfg.wire
    }
    fn policies(&self) -> &Policies {
        &self.cfg.policies
    }
    fn member_id(&self, i: usize) -> &str {
        &self.cfg.members[i]
    }
    fn carol_ip(&self) -> &'static str {
        if self.dev == Node::Tablet {
            crate::world::build::TABLET_IP
        } else {
            crate::world::build::CAROL_IP
        }
    }
}

/// The PF's surface as a [`Machine`] (the inherent methods, which the world calls).
impl Machine for Pf {
    type Input = PfInput;
    type Output = PfEmit;
    type Timer = PfTimer;
    fn handle(&mut self, now: Time, input: PfInput) {
        Pf::handle(self, now, input)
    }
    fn poll_output(&mut self, into: &mut Vec<PfEmit>) {
        Pf::poll_output(self, into)
    }
    fn poll_timeout(&self) -> Option<(Time, PfTimer)> {
        Pf::poll_timeout(self)
    }
}
