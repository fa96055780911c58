//! The world's side of Carol's client's boundary (the client itself is the machine in
//! src/client/): what reaches her device is fed to it if the device can receive it, what it
//! emits is recorded and delivered, its timer run with its reason. The world keeps the facts of
//! her device and network ([`Carol`]): whether the device is on the network and whether its MSRP
//! TCP connection is physically up decide whether a message reaches her client at all, and
//! whether a connection it opens comes up; the client is told of each as an input. With a
//! second device (issue 11, Q15) her tablet is a second instance of the client machine with
//! facts of its own ([`Tablet`]); each function here takes the device it is about.

use super::*;
use crate::client::{ClientInput, ClientOutput, ClientTimer};
use crate::machine::Machine;

impl World<'_> {
    /// The world's facts of Carol's device `d` (her phone unless `d` is her tablet).
    fn dev(&mut self, d: Node) -> &mut Carol {
        match (d, self.tablet.as_mut()) {
            (Node::Tablet, Some(t)) => &mut t.dev,
            _ => &mut self.carol,
        }
    }

    /// Which of Carol's devices step `step` went to (her tablet when it is on its lane).
    pub(super) fn device_of_step(&self, step: u32) -> Node {
        if self.tablet.is_some() && *self.steps[step as usize].to == *"carol-tablet" {
            Node::Tablet
        } else {
            Node::Carol
        }
    }

    /// A message `a` (recorded at `step`) reaches one of Carol's devices: its client gets it if
    /// the device is on the network (and, for an MSRP SEND, its TCP connection is up);
    /// otherwise the step shows as not arriving.
    pub(super) fn carol_arrival(&mut self, a: Arrival, step: u32) {
        let d = self.device_of_step(step);
        let c = *self.dev(d);
        let delivered = match &a {
            Arrival::PfSendAtCarol { .. } => c.reachable && c.conn == Conn::Up,
            _ => c.reachable,
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
        self.device_input(d, input, Some(step));
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

    /// What Carol's tablet does (issue 11, Q15): it registers (on the network again), de-registers,
    /// or leaves the network (its MSRP connection, if any, breaks).
    pub(super) fn tablet_event(&mut self, e: &crate::scenario::TabletEvent) {
        use crate::scenario::TabletEvent;
        if self.tablet.is_none() {
            return;
        }
        match *e {
            TabletEvent::Register { reaction_ms } => {
                self.set_tablet_reachable(true);
                let d = self.dev(Node::Tablet);
                if d.conn == Conn::Broken {
                    d.conn = Conn::None;
                }
                self.device_input(Node::Tablet, ClientInput::Register { reaction_ms }, None);
            }
            TabletEvent::Deregister => self.device_input(Node::Tablet, ClientInput::Deregister, None),
            TabletEvent::Leave => self.device_input(Node::Tablet, ClientInput::Leave, None),
            TabletEvent::Unreachable => {
                self.set_tablet_reachable(false);
                let d = self.dev(Node::Tablet);
                if d.conn == Conn::Up {
                    d.conn = Conn::Broken;
                    self.device_input(Node::Tablet, ClientInput::MsrpBroken, None);
                }
            }
        }
    }

    /// Carol's tablet is on the network or not: the world's fact, what her P-CSCF knows of the
    /// tablet's signalling connection, and what its client is told.
    fn set_tablet_reachable(&mut self, r: bool) {
        self.dev(Node::Tablet).reachable = r;
        self.core_input(crate::ims::CoreInput::DeviceReachable(Node::Tablet, r));
        self.device_input(Node::Tablet, ClientInput::Network(r), None);
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
    /// the close reaches the end of the device its client leg is with.
    pub(crate) fn pf_closes_msrp_to_carol(&mut self) {
        let d = self.pf_dev;
        if self.dev(d).conn == Conn::Up {
            self.dev(d).conn = Conn::None;
            self.device_input(d, ClientInput::MsrpClosed, None);
        }
    }

    /// Feeds Carol's (phone's) client one input.
    pub(super) fn client_input(&mut self, input: ClientInput, step: Option<u32>) {
        self.device_input(Node::Carol, input, step);
    }

    /// Feeds the client of Carol's device `d` one input (`step`: the step of the message that
    /// arrived, if any) and executes what it emits, in order.
    pub(super) fn device_input(&mut self, d: Node, mut input: ClientInput, step: Option<u32>) {
        loop {
            let mut out = std::mem::take(&mut self.client_out);
            match (d, self.tablet.as_mut()) {
                (Node::Tablet, Some(t)) => {
                    Machine::handle(&mut t.client, self.now, input);
                    Machine::poll_output(&mut t.client, &mut out);
                }
                _ => {
                    Machine::handle(&mut self.client, self.now, input);
                    Machine::poll_output(&mut self.client, &mut out);
                }
            }
            // What the device answers an `OpenMsrp` with, fed once this batch is executed.
            let mut opened = None;
            for o in out.iter_mut() {
                // Taken out in place (an `Ignore` is left behind), so nothing moves twice.
                match std::mem::replace(o, ClientOutput::Ignore) {
                    ClientOutput::Sip { to, msg, clauses, note, arrival } => {
                        self.sip(d, to, &msg, clauses, note, Boxed(arrival));
                    }
                    ClientOutput::Msrp { raw, label, clauses, note, chat, arrival } => {
                        self.msrp(d, Node::Pf, raw, label, clauses, note, chat, Boxed(arrival));
                    }
                    ClientOutput::Note { label, clauses, note, chat } => {
                        self.note(d, StepKind::Info, label, clauses, note, chat);
                    }
                    ClientOutput::Arm { handle, timer, ms } => match (d, self.tablet.is_some()) {
                        (Node::Tablet, true) => {
                            let id = self.start_timer(TimerKind::Tablet(timer), ms, timer.name(), timer.clause(), Node::Tablet, false);
                            if let Some(t) = self.tablet.as_mut() {
                                debug_assert_eq!(handle as usize, t.timer_ids.len());
                                t.timer_ids.push(id);
                            }
                        }
                        _ => {
                            let id = self.start_timer(TimerKind::Client(timer), ms, timer.name(), timer.clause(), Node::Carol, false);
                            debug_assert_eq!(handle as usize, self.client_timer_ids.len());
                            self.client_timer_ids.push(id);
                        }
                    },
                    ClientOutput::Roster(users) => self.snapshot("client", users),
                    ClientOutput::OpenMsrp => opened = Some(self.carol_opens_msrp(d)),
                    ClientOutput::CloseMsrp => self.dev(d).conn = Conn::None,
                    // Carol the user leaves (the ground truth is hers, whichever device she used).
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
        debug_assert_eq!(self.client_poll(d), self.client_next_timer(d), "the client's poll_timeout against the timers the world runs for it");
    }

    /// The client's own `poll_timeout` on device `d`.
    fn client_poll(&self, d: Node) -> Option<(u64, ClientTimer)> {
        match (d, self.tablet.as_ref()) {
            (Node::Tablet, Some(t)) => Machine::poll_timeout(&t.client),
            _ => Machine::poll_timeout(&self.client),
        }
    }

    /// The client on device `d` opens its MSRP connection: it comes up unless the scenario made
    /// the next TCP connect fail (her phone only).
    fn carol_opens_msrp(&mut self, d: Node) -> bool {
        if self.dev(d).setup_fails_next {
            self.dev(d).setup_fails_next = false;
            self.dev(d).conn = Conn::None;
            self.note(
                d,
                StepKind::Info,
                "MSRP set-up fails",
                cl![actors::SCENARIO],
                "Carol's client cannot open the MSRP connection to her PF (TCP connect fails).",
                None,
            );
            return false;
        }
        self.dev(d).conn = Conn::Up;
        true
    }

    /// The earliest of the timers the world runs for the client on device `d` (what its
    /// `poll_timeout` must answer).
    fn client_next_timer(&self, d: Node) -> Option<(u64, ClientTimer)> {
        let mut best: Option<(u64, ClientTimer)> = None;
        let ids = match (d, self.tablet.as_ref()) {
            (Node::Tablet, Some(t)) => &t.timer_ids,
            _ => &self.client_timer_ids,
        };
        for &id in ids {
            let t = &self.timers[id as usize];
            if let (true, TimerKind::Client(reason) | TimerKind::Tablet(reason)) = (t.active, t.kind) {
                if best.is_none_or(|(at, _)| t.due < at) {
                    best = Some((t.due, reason));
                }
            }
        }
        best
    }
}
