//! The world's side of Carol's client's boundary (the client itself is the machine in
//! src/client/): what reaches her device is fed to it if the device can receive it, what it
//! emits is recorded and delivered, its timer run with its reason. The world keeps the facts of
//! her device and network ([`Carol`]): whether the device is on the network and whether its MSRP
//! TCP connection is physically up decide whether a message reaches her client at all, and
//! whether a connection it opens comes up; the client is told of each as an input.

use super::*;
use crate::client::{ClientInput, ClientOutput, ClientTimer};
use crate::machine::Machine;

impl World<'_> {
    /// A message `a` (recorded at `step`) reaches Carol's device: her client gets it if the
    /// device is on the network (and, for an MSRP SEND, her TCP connection is up); otherwise the
    /// step shows as not arriving.
    pub(super) fn carol_arrival(&mut self, a: Arrival, step: u32) {
        let delivered = match &a {
            Arrival::PfSendAtCarol { .. } => self.carol.reachable && self.carol.conn == Conn::Up,
            _ => self.carol.reachable,
        };
        if !delivered {
            self.drop_step(step);
            return;
        }
        let input = match a {
            // What its CPIM document says goes with it (the sender, the document): what her client
            // needs to answer it with IMDNs (RFC 5438 §7.1.1).
            Arrival::PfSendAtCarol { chat, tx, tid, chunk, replay } => {
                let c = &self.chats[chat as usize];
                ClientInput::ChatIn { chat, tx, tid, chunk, replay, sender: c.from.clone(), body: c.cpim.clone() }
            }
            a => ClientInput::Message(a),
        };
        self.client_input(input, Some(step));
    }

    /// Carol sends a chat message: it leaves her device only over a working MSRP connection.
    pub(super) fn carol_message(&mut self, text: String) {
        if !(self.carol.reachable && self.carol.conn == Conn::Up) {
            self.note(
                Node::Carol,
                StepKind::Info,
                "cannot send",
                cl![actors::SCENARIO],
                "Carol's client has no working MSRP connection, so her message cannot leave the device.",
                None,
            );
            return;
        }
        let chat = self.new_chat(Who::Carol, text, false);
        let body = self.chats[chat as usize].cpim.clone();
        self.client_input(ClientInput::Chat { chat, body }, None);
    }

    /// Carol's device registers again: it is on the network, and a connection that broke while
    /// it was away is gone.
    pub(super) fn carol_register(&mut self, reaction_ms: u64) {
        self.set_carol_reachable(true);
        if self.carol.conn == Conn::Broken {
            self.carol.conn = Conn::None;
        }
        self.client_input(ClientInput::Register { reaction_ms }, None);
    }

    /// Carol re-joins: her device is on the network again.
    pub(super) fn carol_rejoin(&mut self, ids: crate::scenario::RejoinIds) {
        self.set_carol_reachable(true);
        self.client_input(ClientInput::Rejoin { ids }, None);
    }

    /// Her MSRP connection breaks (a reset, or the device leaves the network).
    pub(super) fn carol_conn_breaks(&mut self) {
        if self.carol.conn == Conn::Up {
            self.carol.conn = Conn::Broken;
            self.client_input(ClientInput::MsrpBroken, None);
        }
    }

    /// The PF gives up its MSRP connection with Carol's client (RFC 4975 §5.4's TCP connection):
    /// the close reaches her end.
    pub(crate) fn pf_closes_msrp_to_carol(&mut self) {
        if self.carol.conn == Conn::Up {
            self.carol.conn = Conn::None;
            self.client_input(ClientInput::MsrpClosed, None);
        }
    }

    /// Feeds Carol's client one input (`step`: the step of the message that arrived, if any)
    /// and executes what it emits, in order.
    pub(super) fn client_input(&mut self, mut input: ClientInput, step: Option<u32>) {
        loop {
            Machine::handle(&mut self.client, self.now, input);
            let mut out = std::mem::take(&mut self.client_out);
            Machine::poll_output(&mut self.client, &mut out);
            // What the device answers an `OpenMsrp` with, fed once this batch is executed.
            let mut opened = None;
            for o in out.iter_mut() {
                // Taken out in place (an `Ignore` is left behind), so nothing moves twice.
                match std::mem::replace(o, ClientOutput::Ignore) {
                    ClientOutput::Sip { to, msg, clauses, note, arrival } => {
                        self.sip(Node::Carol, to, &msg, clauses, note, Boxed(arrival));
                    }
                    ClientOutput::Msrp { raw, label, clauses, note, chat, arrival } => {
                        self.msrp(Node::Carol, Node::Pf, raw, label, clauses, note, chat, Boxed(arrival));
                    }
                    ClientOutput::Note { label, clauses, note, chat } => {
                        self.note(Node::Carol, StepKind::Info, label, clauses, note, chat);
                    }
                    ClientOutput::Arm { handle, timer, ms } => {
                        let id = self.start_timer(TimerKind::Client(timer), ms, timer.name(), timer.clause(), Node::Carol, false);
                        debug_assert_eq!(handle as usize, self.client_timer_ids.len());
                        self.client_timer_ids.push(id);
                    }
                    ClientOutput::Roster(users) => self.snapshot("client", users),
                    ClientOutput::OpenMsrp => opened = Some(self.carol_opens_msrp()),
                    ClientOutput::CloseMsrp => self.carol.conn = Conn::None,
                    ClientOutput::Left => self.carol.entitled = false,
                    ClientOutput::Ignore => {
                        if let Some(s) = step {
                            self.drop_step(s);
                        }
                    }
                }
            }
            out.clear();
            self.client_out = out;
            match opened {
                Some(ok) => input = ClientInput::MsrpOpened(ok),
                None => break,
            }
        }
        debug_assert_eq!(Machine::poll_timeout(&self.client), self.client_next_timer(), "the client's poll_timeout against the timers the world runs for it");
    }

    /// Her client opens its MSRP connection: it comes up unless the scenario made the next TCP
    /// connect fail.
    fn carol_opens_msrp(&mut self) -> bool {
        if self.carol.setup_fails_next {
            self.carol.setup_fails_next = false;
            self.carol.conn = Conn::None;
            self.note(
                Node::Carol,
                StepKind::Info,
                "MSRP set-up fails",
                cl![actors::SCENARIO],
                "Carol's client cannot open the MSRP connection to her PF (TCP connect fails).",
                None,
            );
            return false;
        }
        self.carol.conn = Conn::Up;
        true
    }

    /// The earliest of the client's timers the world runs (what its `poll_timeout` must answer).
    fn client_next_timer(&self) -> Option<(u64, ClientTimer)> {
        let mut best: Option<(u64, ClientTimer)> = None;
        for &id in &self.client_timer_ids {
            let t = &self.timers[id as usize];
            if let (true, TimerKind::Client(reason)) = (t.active, t.kind) {
                if best.is_none_or(|(at, _)| t.due < at) {
                    best = Some((t.due, reason));
                }
            }
        }
        best
    }
}
