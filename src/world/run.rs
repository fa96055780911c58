//! The world's event loop (the earliest event first: scenario events before anything scheduled
//! at the same time), its timers, and the recording of every step of the trace.

use super::*;

impl World<'_> {
    // ------------------------------------------------------------------ event loop

    pub(super) fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Pending { at, seq: self.seq, ev, cause: self.cur_cause }));
    }

    pub(super) fn start(&mut self) {
        self.members = self.new_members();
        self.setup();
    }

    /// The next thing to happen: a scenario event (they are sorted by time and, at equal times,
    /// come before anything the run scheduled) or the earliest scheduled arrival or timer.
    pub(super) fn pop_next(&mut self) -> Option<(u64, Ev)> {
        let ev_at = self.sc.events.get(self.next_event).map(|e| e.at_ms);
        let q_at = self.queue.peek().map(|Reverse(p)| p.at);
        match (ev_at, q_at) {
            (Some(e), Some(q)) if e <= q => {}
            (Some(_), None) => {}
            (_, Some(_)) => {
                return self.queue.pop().map(|Reverse(p)| {
                    self.cur_cause = p.cause;
                    (p.at, p.ev)
                })
            }
            (None, None) => return None,
        }
        let i = self.next_event;
        self.next_event += 1;
        self.cur_cause = i as u32 + 1;
        Some((self.sc.events[i].at_ms, Ev::Scenario(i)))
    }

    pub(super) fn run(&mut self) {
        while !self.advance(usize::MAX) {}
    }

    /// Processes at most `budget` things that happen (events, arrivals, timers); true when
    /// nothing is left ([`resumable`] runs the loop in slices).
    pub(super) fn advance(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            let Some((at, ev)) = self.pop_next() else { return true };
            self.now = at;
            match ev {
                Ev::Scenario(i) => {
                    self.cur_event = Some(i as u32);
                    self.scenario_event(i);
                    self.cur_event = None;
                }
                Ev::Arrive(a, step) => self.arrive(a, step),
                Ev::Timer(id) => {
                    let t = &mut self.timers[id as usize];
                    if t.active {
                        t.active = false;
                        let (kind, name, clause, lane, start) = (t.kind, t.name, t.clause, t.lane, t.start);
                        self.spans.push(TimerSpan { name, lane: self.lane(lane), start_ms: start, end_ms: self.now, outcome: "fired", clause });
                        match kind {
                            TimerKind::Client(t) => self.client_input(crate::client::ClientInput::Timer(t), None),
                            TimerKind::Tablet(t) => self.device_input(Node::Tablet, crate::client::ClientInput::Timer(t), None),
                            TimerKind::Pf(t) => self.pf_input(crate::pf::PfInput::Timer(t), None),
                            TimerKind::Core(t) => self.core_input(crate::ims::CoreInput::Timer(t)),
                        }
                    }
                }
            }
        }
        false
    }

    /// Starts a timer of `dur` ms; returns its id.
    pub(crate) fn start_timer(&mut self, kind: TimerKind, dur: u64, name: &'static str, clause: &'static str, lane: Node, always_record: bool) -> u32 {
        let id = self.timers.len() as u32;
        self.timers.push(TimerRec { kind, name, clause, lane, start: self.now, due: self.now + dur, active: true, always_record });
        self.push(self.now + dur, Ev::Timer(id));
        id
    }

    /// Stops a running timer (no effect if it already fired or stopped).
    pub(crate) fn stop_timer(&mut self, id: u32) {
        let t = &mut self.timers[id as usize];
        if t.active {
            t.active = false;
            if t.always_record {
                let (name, clause, lane, start) = (t.name, t.clause, t.lane, t.start);
                self.spans.push(TimerSpan { name, lane: self.lane(lane), start_ms: start, end_ms: self.now, outcome: "stopped", clause });
            }
        }
    }

    // ------------------------------------------------------------------ recording

    pub(crate) fn lane_index(&self, n: Node) -> usize {
        match n {
            Node::Carol => 0,
            Node::Pf => 1,
            Node::Cf => 2,
            Node::Member(i) => 3 + i,
            Node::Scscf => 3 + self.sc.members.len(),
            // After the IMS core, so a one-device run's lanes are what they were.
            Node::Tablet => 4 + self.sc.members.len(),
        }
    }

    pub(crate) fn lane(&self, n: Node) -> Arc<str> {
        self.lanes[self.lane_index(n)].clone()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        from: Node,
        to: Node,
        protocol: Protocol,
        label: Cow<'static, str>,
        raw: String,
        clauses: Clauses,
        note: Cow<'static, str>,
        kind: StepKind,
        chat: Option<u32>,
        arrive: u64,
    ) -> u32 {
        let index = self.steps.len() as u32;
        let (fi, ti) = (self.lane_index(from), self.lane_index(to));
        if protocol != Protocol::None {
            self.used_lanes[fi] = true;
            self.used_lanes[ti] = true;
        }
        let policy = clauses.iter().any(|c| c.starts_with("policy:"));
        // Identity (crate::story): cause, signature, ordinal.
        let chat_cause_h = match chat {
            Some(c) => {
                while self.chat_cause.len() <= c as usize {
                    self.chat_cause.push(self.cur_cause);
                }
                self.causes[self.chat_cause[c as usize] as usize].1
            }
            None => 0,
        };
        let sig = self.sig_memo.sig(fi, ti, self.lane_h[fi], self.lane_h[ti], protocol, kind, &label, chat_cause_h);
        let nth = self.nths.next(self.cur_cause, sig);
        self.steps.push(Step {
            index,
            at_ms: self.now,
            arrive_ms: arrive,
            from: self.lanes[fi].clone(),
            to: self.lanes[ti].clone(),
            protocol,
            label,
            raw,
            clauses,
            note: crate::trace::note_text(note),
            kind,
            policy,
            pf_state: self.pf_snap.0,
            queue_len: self.pf_snap.1,
            chat,
            event: self.cur_event,
            dropped: false,
            key: None,
            cause: self.causes[self.cur_cause as usize].0.clone(),
            sig,
            nth,
        });
        index
    }

    /// Marks `step` as a key step of the story with a short title ([`crate::story`]).
    pub(crate) fn mark_key(&mut self, step: u32, title: impl Into<Cow<'static, str>>) {
        if let Some(s) = self.steps.get_mut(step as usize) {
            s.key = Some(title.into());
        }
    }

    /// Marks the step recorded last as a key step.
    pub(crate) fn key_last(&mut self, title: impl Into<Cow<'static, str>>) {
        if let Some(i) = self.steps.len().checked_sub(1) {
            self.mark_key(i as u32, title);
        }
    }

    /// Records a SIP message and schedules its arrival.
    pub(crate) fn sip(
        &mut self,
        from: Node,
        to: Node,
        msg: &crate::wire::sip::SipMessage,
        clauses: Clauses,
        note: impl Into<Cow<'static, str>>,
        arrival: impl IntoArrival,
    ) -> u32 {
        if matches!((from, to), (Node::Carol | Node::Tablet, Node::Pf) | (Node::Pf, Node::Carol | Node::Tablet)) {
            return self.sip_via_core(from, to, msg, clauses, crate::trace::note_text(note), arrival.boxed().map(|a| *a));
        }
        let raw = if self.wire() { msg.emit() } else { String::new() };
        let label = msg.label_cow();
        let at = self.now + HOP_MS;
        let idx = self.record(from, to, Protocol::SIP, label, raw, clauses, crate::trace::note_text(note), StepKind::Message, None, at);
        if let Some(a) = arrival.boxed() {
            self.push(at, Ev::Arrive(a, idx));
        }
        idx
    }

    /// Records an MSRP message and schedules its arrival.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn msrp(
        &mut self,
        from: Node,
        to: Node,
        raw: String,
        label: &'static str,
        clauses: Clauses,
        note: impl Into<Cow<'static, str>>,
        chat: Option<u32>,
        arrival: impl IntoArrival,
    ) -> u32 {
        let at = self.now + HOP_MS;
        let idx = self.record(from, to, Protocol::MSRP, Cow::Borrowed(label), raw, clauses, crate::trace::note_text(note), StepKind::Message, chat, at);
        if let Some(a) = arrival.boxed() {
            self.push(at, Ev::Arrive(a, idx));
        }
        idx
    }

    /// Records an internal step on one lane.
    pub(crate) fn note(
        &mut self,
        lane: Node,
        kind: StepKind,
        label: impl Into<Cow<'static, str>>,
        clauses: Clauses,
        note: impl Into<Cow<'static, str>>,
        chat: Option<u32>,
    ) -> u32 {
        let now = self.now;
        self.record(lane, lane, Protocol::None, label.into(), String::new(), clauses, crate::trace::note_text(note), kind, chat, now)
    }

    /// Marks a sent message as never arriving.
    pub(crate) fn drop_step(&mut self, step: u32) {
        if let Some(s) = self.steps.get_mut(step as usize) {
            s.dropped = true;
        }
    }

    /// The id source of actor `n` (each actor numbers its own tags, branches and ids).
    pub(crate) fn ids_of(&mut self, n: Node) -> &mut build::Ids {
        let i = self.lane_index(n);
        &mut self.ids[i]
    }

    /// A fresh number of actor `n`'s own (for its tags, dialogs and ids).
    pub(crate) fn next(&mut self, n: Node) -> u64 {
        self.ids_of(n).next()
    }

    pub(crate) fn policy(&self, p: PolicyId, option: &str) -> bool {
        self.pol.is(p, option)
    }

    pub(crate) fn who_lane(&self, w: Who) -> Arc<str> {
        match w {
            Who::Carol => self.lanes[0].clone(),
            Who::Member(i) => self.lanes[3 + i].clone(),
        }
    }

    pub(crate) fn snapshot(&mut self, holder: &'static str, users: Vec<Participant>) {
        let step = self.steps.len().saturating_sub(1) as u32;
        self.rosters.push(RosterSnapshot { at_ms: self.now, step, holder, users });
    }
}
