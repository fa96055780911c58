//! The world: a discrete-event loop with a virtual clock that drives Carol's client, her PF, the
//! CF (focus), the other members and the S-CSCF, and records every transmission and decision in
//! the [`Trace`]. No clock, thread, file or OS randomness: two runs of one scenario give
//! byte-identical traces.

/// A static clause list for a step ([`crate::trace::Clauses`]).
pub(crate) mod actors;
pub(crate) mod build;
pub(crate) mod ims;
mod pf_glue;
pub mod resumable;

use crate::policy::{Policies, PolicyId};
use crate::scenario::{Scenario, Setup, Who};
use crate::trace::*;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(crate) use crate::pf::Pf;
use std::sync::Arc;

pub(crate) use build::{Dialog, Txn};

/// The Via branch codes of the members (member `i` puts `MEMBER_CODES[i]` into its branches).
const MEMBER_CODES: [&str; 16] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "ma", "mb", "mc", "md", "me", "mf"];

/// One-way latency of every hop, in milliseconds.
pub const HOP_MS: u64 = 10;
/// MSRP transaction timeout (RFC 4975 §7.1.1; 30 s in rcsjta and rust-rcs-core).
pub const MSRP_TIMEOUT_MS: u64 = 30_000;
/// Session refresh interval with the `session-refresh` detector (Session-Expires 180, refresher at half).
pub const REFRESH_MS: u64 = 90_000;

/// An actor on the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    Carol,
    Pf,
    Cf,
    Member(usize),
    Scscf,
}

/// The physical MSRP connection between Carol's client and her PF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::world) enum Conn {
    None,
    Up,
    /// Broken (reset or device gone); the PF may not know yet.
    Broken,
}

/// What a message does when it arrives.
#[derive(Debug, Clone)]
pub(crate) enum Arrival {
    // --- MSRP
    MemberSendAtCf {
        chat: u32,
        member: usize,
        tid: String,
    },
    CfSendAtMember {
        chat: u32,
        member: usize,
        tid: String,
    },
    CfSendAtPf {
        chat: u32,
        tid: String,
    },
    PfSendAtCarol {
        chat: u32,
        tx: u32,
        tid: String,
    },
    CarolOkAtPf {
        tx: u32,
    },
    CarolSendAtPf {
        chat: u32,
        tid: String,
    },
    PfSendAtCf {
        chat: u32,
        tid: String,
    },
    BindAtPf {
        tid: String,
    },
    BindAtCf {
        tid: String,
    },
    // --- SIP
    CarolInviteAtPf {
        txn: Txn,
        rejoin: bool,
        /// The number of the MSRP paths of its SDP offer ([`World::carol_path_n`]).
        no: u32,
    },
    PfInviteAtCf {
        txn: Txn,
    },
    CfRespAtPf {
        code: u16,
        txn: Txn,
    },
    PfRespAtCarol {
        code: u16,
        txn: Txn,
        delivery: bool,
        /// The number of the PF's MSRP path in its SDP answer.
        no: u32,
        /// The participant list its conference-info part carries (Q13 `in-session-setup`).
        roster: Option<Vec<Participant>>,
    },
    CarolAckAtPf,
    PfInviteAtCarol {
        inv: u32,
        txn: Txn,
        /// The number of the PF's MSRP path in its SDP offer.
        no: u32,
        /// The PF's own INVITE for the deferred delivery (path A), not a forwarded one.
        delivery: bool,
        /// The participant list its conference-info part carries (Q13 `in-session-setup`).
        roster: Option<Vec<Participant>>,
    },
    CarolRespAtPf {
        inv: u32,
        code: u16,
        txn: Txn,
    },
    PfAckAtCarol {
        inv: u32,
    },
    CancelAtCarol {
        inv: u32,
        txn: Txn,
    },
    CarolByeAtPf {
        txn: Txn,
        reason: Option<(String, Vec<crate::wire::reason::ReasonValue>)>,
    },
    PfByeAtCarol {
        txn: Txn,
    },
    PfByeAtCf {
        txn: Txn,
        voluntary: bool,
    },
    CfByeAtPf {
        txn: Txn,
    },
    CfByeAtMember {
        member: usize,
        txn: Txn,
    },
    CfInviteAtPf {
        txn: Txn,
    },
    SubscribeAtCf {
        txn: Txn,
        expires: u32,
    },
    /// A NOTIFY on the PF's conference subscription; `roster` is the version and users its body carries.
    NotifyAtPf {
        txn: Txn,
        terminated: bool,
        roster: Option<Roster>,
    },
    RegisterAtScscf {
        txn: Txn,
        reaction_ms: u64,
    },
    RegisterAtPf {
        txn: Txn,
        reaction_ms: u64,
    },
    MemberInviteAtCf {
        member: usize,
        txn: Txn,
    },
    MemberByeAtCf {
        member: usize,
        txn: Txn,
    },
    ClientSubscribeAtPf {
        txn: Txn,
    },
    NotifyAtCarol {
        txn: Txn,
        /// The participant list her client shows from its conference-info body (the one the PF
        /// held from the focus; none if it held none).
        users: Option<Vec<Participant>>,
    },
    UpdateAtCarol {
        upd: u32,
        txn: Txn,
    },
    UpdateOkAtPf {
        upd: u32,
    },
    PfOkAtCf {
        txn: Txn,
    },
    PfErrAtCf {
        txn: Txn,
    },
    CfAckAtPf,
    CfInviteAtMember {
        member: usize,
        txn: Txn,
    },
    MemberOkAtCf {
        member: usize,
    },
    /// The focus's 200 OK to a joining member's INVITE.
    CfOkAtMember {
        member: usize,
    },
    /// The PF's 100 Trying to Carol's INVITE.
    PfTryingAtCarol,
    /// Carol's CANCEL of her INVITE (`txn`: the CANCEL's own transaction).
    CarolCancelAtPf {
        txn: Txn,
    },
    /// A member's empty SEND that opens and binds its MSRP connection (RFC 4975 §5.4).
    MemberBindAtCf {
        member: usize,
        tid: String,
    },
    /// A SIP message between Carol's client and her PF reaches the IMS core ([`ims`]).
    AtCore(Box<ims::CoreHop>),
}

/// The participant information a NOTIFY's conference-info body carries (RFC 4575): its version,
/// the users, and what it says of each beyond the status.
#[derive(Debug, Clone)]
pub(crate) struct Roster {
    pub version: u32,
    pub users: Vec<Participant>,
    pub info: Vec<build::UserInfo>,
}

/// What a message does on arrival, for [`World::sip`] and [`World::msrp`]: an `Option<Arrival>`,
/// or one the PF already boxed ([`Boxed`]: it boxes its own when it emits the message, where the
/// world would box it for the event queue anyway, so its outputs stay small to move).
pub(crate) trait IntoArrival {
    fn boxed(self) -> Option<Box<Arrival>>;
}
impl IntoArrival for Option<Arrival> {
    #[inline]
    fn boxed(self) -> Option<Box<Arrival>> {
        self.map(Box::new)
    }
}
/// An arrival already boxed.
pub(crate) struct Boxed(pub Option<Box<Arrival>>);
impl IntoArrival for Boxed {
    #[inline]
    fn boxed(self) -> Option<Box<Arrival>> {
        self.0
    }
}

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy)]
pub(in crate::world) enum TimerKind {
    /// Carol's client answers the INVITE `inv` it is alerting for (the scenario's answer_ms).
    CarolAnswers { inv: u32 },
    /// A timer of the PF, with its reason ([`crate::pf::PfTimer`]).
    Pf(crate::pf::PfTimer),
    /// The IMS core's own Timer B on the INVITE transaction `txn` it forwarded to Carol.
    Core { txn: u32 },
}

struct TimerRec {
    kind: TimerKind,
    name: &'static str,
    clause: &'static str,
    lane: Node,
    start: u64,
    active: bool,
    /// Record the span in the trace even when stopped early.
    always_record: bool,
}

enum Ev {
    Scenario(usize),
    Arrive(Box<Arrival>, u32),
    Timer(u32),
}

/// 32 bytes: a heap entry moved as two 16-byte halves (at 40 bytes a pop stalled on store
/// forwarding).
struct Pending {
    at: u64,
    /// Order among equal times: the order of scheduling (a run schedules far fewer than 2^32).
    seq: u32,
    /// The root cause of whatever scheduled this (an index into [`World::causes`]).
    cause: u32,
    ev: Ev,
}
impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// Carol's client and the ground truth about her.
pub(in crate::world) struct Carol {
    pub reachable: bool,
    /// Ground truth: Carol is entitled to the group's messages (a participant who did not leave voluntarily).
    pub entitled: bool,
    pub conn: Conn,
    pub in_dialog: bool,
    pub reject_next: Option<u16>,
    pub setup_fails_next: bool,
    /// Carol left while she had no session: her client declines the next INVITE (603).
    pub left_idle: bool,
    pub received: Vec<bool>,
    pub answering: Option<u32>,
    pub session_no: u32,
    pub sub: Option<Dialog>,
    /// The MSRP paths (her number, the PF's number) of the session her client uses now.
    pub paths: (u32, u32),
    /// The path numbers of her SDP offers, by Call-ID, and of the offer she is alerting for.
    pub offers: Vec<(String, u32)>,
    pub answering_no: u32,
    /// Her To tag towards the INVITE she is alerting for (180, 200 and 487 carry the same).
    pub answering_tag: String,
    /// The Call-ID of her current session (a BYE on another dialog leaves it alone).
    pub live_call: String,
    /// Her own INVITE while it has no final response (issue 10 #7: a leave then is a CANCEL).
    pub own_invite: Option<OwnInvite>,
    /// Her client's own record of its session dialog with the PF (tags, CSeq of her side).
    pub dialog: Option<Dialog>,
    /// The INVITE she is alerting for, as it reached her.
    pub answering_txn: Option<Txn>,
    /// What that INVITE carried: the PF's own delivery INVITE or not, and a participant list.
    pub answering_what: (bool, Option<Vec<Participant>>),
    /// The INVITE she accepted last was the PF's delivery INVITE (her session is a delivery one).
    pub answered_delivery: bool,
}

/// Carol's pending INVITE, as her client's INVITE client transaction sees it.
#[derive(Debug, Clone)]
pub(in crate::world) struct OwnInvite {
    pub txn: Txn,
    pub ruri: &'static str,
    /// A provisional response arrived, so a CANCEL may be sent (RFC 3261 §9.1).
    pub provisional: bool,
    /// She wants out (leave or BYE event) with this Reason: CANCEL, or ACK and BYE after a 2xx.
    pub leave: Option<Option<(String, Vec<crate::wire::reason::ReasonValue>)>>,
    pub cancelled: bool,
}

pub(in crate::world) struct UserRec {
    pub who: Who,
    pub connected: bool,
    pub dialed_in: bool,
    pub left_ms: Option<u64>,
    pub how_left: &'static str,
}

/// The CF (conference focus).
pub(in crate::world) struct Cf {
    pub version: u32,
    pub users: Vec<UserRec>,
    pub member_legs: Vec<Option<Dialog>>,
    pub carol_admitted: bool,
    /// Carol's leg (to her PF) as the focus holds it: set by its 200 to the PF's INVITE or by the
    /// ACK of its own INVITE's 200 (RFC 3261 §12.1), cleared by a BYE either way.
    pub carol_leg: Option<Dialog>,
    /// The MSRP connection of Carol's leg is bound (the PF's first SEND arrived, RFC 4975 §5.4).
    pub carol_bound: bool,
    /// Messages for Carol's leg that wait for that binding.
    pub carol_queue: Vec<u32>,
    pub ended: bool,
    /// The PF's conference subscription as the focus holds it: set when the focus accepts the
    /// SUBSCRIBE (RFC 6665 §4.2.1), cleared when it ends it.
    pub sub: Option<Dialog>,
    /// conference-info version of the last NOTIFY on that subscription (RFC 4575 §5.1).
    pub sub_version: u32,
}

pub(in crate::world) struct World<'a> {
    /// The scenario: borrowed by [`simulate`], owned by a run in slices ([`resumable`]).
    pub sc: Cow<'a, Scenario>,
    pub rules: Rules,
    pub pol: Policies,
    pub now: u64,
    seq: u32,
    queue: BinaryHeap<Reverse<Pending>>,
    timers: Vec<TimerRec>,
    pub lanes: Vec<Arc<str>>,
    used_lanes: Vec<bool>,
    pub steps: Vec<Step>,
    pub chats: Vec<Chat>,
    pub spans: Vec<TimerSpan>,
    pub states: Vec<StateSpan>,
    pub rosters: Vec<RosterSnapshot>,
    pub cur_event: Option<u32>,
    /// Every actor's own id source, by lane ([`World::ids_of`]).
    ids: Vec<build::Ids>,
    pub carol: Carol,
    pub pf: Pf,
    /// The PF's output buffer (swapped with the PF's own, so draining allocates nothing).
    pf_out: Vec<crate::pf::PfEmit>,
    /// The world's timer id of each PF timer handle.
    pf_timer_ids: Vec<u32>,
    /// The PF's state and store length for the trace's per-step snapshot (as of its last output).
    pf_snap: (PfState, u32),
    /// Where the PF's last `Mark` output pointed.
    pf_mark: u32,
    pub cf: Cf,
    /// The IMS core's proxy state ([`ims`]).
    pub(crate) core: ims::Core,
    pub sent_while_deferred: u32,
    /// Build the wire text of every message (off for the page's fast path: the texts are
    /// recomputed on demand by a second, identical run).
    pub wire: bool,
    /// MSRP URIs of the members and of the focus towards them ([`World::member_paths`]).
    pub paths: Vec<Arc<str>>,
    /// The next scenario event to process (they are sorted by time, so they need no heap).
    next_event: usize,
    /// A shared empty text (the CPIM body of a chat on the fast path).
    pub no_text: Arc<str>,
    /// Step identity ([`crate::story`]): the cause keys (0 = `setup`, 1..=n the scenario's
    /// events, n+1 = `end`) and their hashes.
    causes: Vec<(Arc<str>, u64)>,
    /// The cause of what is being processed now.
    cur_cause: u32,
    /// The hash of every lane id.
    lane_h: Vec<u64>,
    /// The cause of every chat message (the cause of its first step).
    chat_cause: Vec<u32>,
    /// How many steps have had each (cause, sig) so far.
    nths: crate::story::NthCounter,
    /// Remembered label hashes for `sig` ([`crate::story::SigMemo`]).
    sig_memo: crate::story::SigMemo,
}

impl World<'_> {
    /// Whether this run builds wire texts: asked for ([`World::wire`]) and compiled in (feature
    /// `wire-text`; the page's first wasm module is built without it and asks the second module,
    /// `pkg/export/`, for a step's text).
    #[inline]
    pub(crate) fn wire(&self) -> bool {
        cfg!(feature = "wire-text") && self.wire
    }
}

/// Runs `sc` under `rules` and returns the trace.
pub fn simulate(sc: &Scenario, rules: Rules, wire: bool) -> Trace {
    let mut w = World::new(Cow::Borrowed(sc), rules);
    w.wire = wire;
    w.pf.cfg_wire(w.wire());
    w.start();
    w.run();
    w.finish()
}

impl<'a> World<'a> {
    fn new(sc: Cow<'a, Scenario>, rules: Rules) -> Self {
        let mut lanes: Vec<Arc<str>> = vec![Arc::from("carol"), Arc::from("carol-pf"), Arc::from("cf")];
        lanes.extend(sc.members.iter().map(|m| Arc::from(m.id.as_str())));
        lanes.push(Arc::from("scscf"));
        let n = lanes.len();
        let lane_h: Vec<u64> = lanes.iter().map(|l| crate::story::fnv(l.as_bytes(), 0)).collect();
        let initial = sc.setup == Setup::Established;
        let mut users = vec![UserRec { who: Who::Carol, connected: initial, dialed_in: true, left_ms: None, how_left: "" }];
        for (i, m) in sc.members.iter().enumerate() {
            if m.in_group {
                users.push(UserRec { who: Who::Member(i), connected: sc.setup != Setup::Full, dialed_in: i % 2 == 0, left_ms: None, how_left: "" });
            }
        }
        World {
            rules,
            pol: sc.policies.clone(),
            now: 0,
            seq: 0,
            queue: BinaryHeap::with_capacity(64),
            timers: Vec::new(),
            lanes,
            used_lanes: vec![false; n],
            steps: Vec::with_capacity(sc.events.len() * 10 + 32),
            chats: Vec::with_capacity(sc.events.len()),
            spans: Vec::new(),
            states: vec![StateSpan { state: if initial { PfState::Active } else { PfState::Idle }, from_ms: 0, to_ms: 0 }],
            rosters: Vec::new(),
            cur_event: None,
            ids: (0..n)
                .map(|i| match i {
                    0 => build::Ids::new(i, "c", 0),
                    1 => build::Ids::new(i, "p", 0x8000),
                    2 => build::Ids::new(i, "f", 0),
                    i if i == n - 1 => build::Ids::new(i, "s", 0),
                    i => build::Ids::new(i, MEMBER_CODES.get(i - 3).copied().unwrap_or("m"), 0),
                })
                .collect(),
            carol: Carol {
                reachable: true,
                entitled: sc.setup != Setup::CfInvites,
                conn: if initial { Conn::Up } else { Conn::None },
                in_dialog: initial,
                reject_next: None,
                setup_fails_next: false,
                left_idle: false,
                received: Vec::new(),
                answering: None,
                session_no: 0,
                sub: None,
                paths: (0, 0),
                offers: Vec::new(),
                answering_no: 0,
                answering_tag: String::new(),
                live_call: Dialog::carol_pf(0).call_id,
                own_invite: None,
                dialog: if initial { Some(Dialog { route: ims::CAROL_ROUTE.into(), ..Dialog::carol_pf(0) }) } else { None },
                answering_txn: None,
                answering_what: (false, None),
                answered_delivery: false,
            },
            pf: Pf::new(
                initial,
                crate::pf::PfConfig {
                    rules,
                    policies: sc.policies.clone(),
                    t1_ms: sc.t1_ms,
                    horizon_ms: sc.events.last().map_or(0, |e| e.at_ms),
                    epoch_ms: sc.start_epoch_ms,
                    wire: true,
                    members: sc.members.iter().map(|m| m.id.clone()).collect(),
                },
            ),
            pf_out: Vec::with_capacity(16),
            pf_timer_ids: Vec::new(),
            pf_snap: (if initial { PfState::Active } else { PfState::Idle }, 0),
            pf_mark: 0,
            cf: Cf {
                version: 1,
                users,
                member_legs: sc
                    .members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| if m.in_group && sc.setup != Setup::Full { Some(Dialog::member_cf(i, 0)) } else { None })
                    .collect(),
                carol_admitted: initial,
                carol_leg: if initial { Some(Dialog::pf_cf(0)) } else { None },
                carol_bound: initial,
                carol_queue: Vec::new(),
                ended: false,
                sub: None,
                sub_version: 0,
            },
            core: ims::Core::default(),
            sent_while_deferred: 0,
            wire: true,
            paths: World::member_paths(&sc),
            next_event: 0,
            no_text: Arc::from(""),
            causes: std::iter::once("setup".to_string())
                .chain(crate::story::event_causes(&sc))
                .chain(std::iter::once("end".to_string()))
                .map(|c| {
                    let h = crate::story::fnv(c.as_bytes(), 0);
                    (Arc::from(c), h)
                })
                .collect(),
            cur_cause: 0,
            lane_h,
            chat_cause: Vec::with_capacity(sc.events.len()),
            nths: crate::story::NthCounter::new(sc.events.len() + 2),
            sig_memo: crate::story::SigMemo::default(),
            sc,
        }
    }

    // ------------------------------------------------------------------ event loop

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Pending { at, seq: self.seq, ev, cause: self.cur_cause }));
    }

    fn start(&mut self) {
        self.setup();
    }

    /// The next thing to happen: a scenario event (they are sorted by time and, at equal times,
    /// come before anything the run scheduled) or the earliest scheduled arrival or timer.
    fn pop_next(&mut self) -> Option<(u64, Ev)> {
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

    fn run(&mut self) {
        while !self.advance(usize::MAX) {}
    }

    /// Processes at most `budget` things that happen (events, arrivals, timers); true when
    /// nothing is left ([`resumable`] runs the loop in slices).
    fn advance(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            let Some((at, ev)) = self.pop_next() else { return true };
            self.now = at;
            match ev {
                Ev::Scenario(i) => {
                    self.cur_event = Some(i as u32);
                    self.scenario_event(i);
                    self.cur_event = None;
                }
                Ev::Arrive(a, step) => self.arrive(*a, step),
                Ev::Timer(id) => {
                    let t = &mut self.timers[id as usize];
                    if t.active {
                        t.active = false;
                        let (kind, name, clause, lane, start) = (t.kind, t.name, t.clause, t.lane, t.start);
                        self.spans.push(TimerSpan { name, lane: self.lane(lane), start_ms: start, end_ms: self.now, outcome: "fired", clause });
                        match kind {
                            TimerKind::CarolAnswers { inv } => self.carol_answers(inv),
                            TimerKind::Pf(t) => self.pf_input(crate::pf::PfInput::Timer(t), None),
                            TimerKind::Core { txn } => self.core_timer(txn),
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
        self.timers.push(TimerRec { kind, name, clause, lane, start: self.now, active: true, always_record });
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
        }
    }

    pub(crate) fn lane(&self, n: Node) -> Arc<str> {
        self.lanes[self.lane_index(n)].clone()
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
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

    /// The PF gives up its MSRP connection with Carol's client (RFC 4975 §5.4's TCP connection):
    /// the close reaches her end, whose state the world keeps with her client's.
    pub(crate) fn pf_closes_msrp_to_carol(&mut self) {
        if self.carol.conn == Conn::Up {
            self.carol.conn = Conn::None;
        }
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
        if matches!((from, to), (Node::Carol, Node::Pf) | (Node::Pf, Node::Carol)) {
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

    /// Builds the roster list that the CF holds now.
    pub(crate) fn roster_now(&self) -> Vec<Participant> {
        self.cf
            .users
            .iter()
            .map(|u| Participant {
                id: self.who_lane(u.who),
                name: self.who_name(u.who).to_string(),
                status: if u.connected { "connected" } else { "disconnected" },
            })
            .collect()
    }

    pub(crate) fn who_lane(&self, w: Who) -> Arc<str> {
        match w {
            Who::Carol => self.lanes[0].clone(),
            Who::Member(i) => self.lanes[3 + i].clone(),
        }
    }

    pub(crate) fn who_name(&self, w: Who) -> &str {
        match w {
            Who::Carol => "Carol",
            Who::Member(i) => &self.sc.members[i].name,
        }
    }

    pub(crate) fn snapshot(&mut self, holder: &'static str, users: Vec<Participant>) {
        let step = self.steps.len().saturating_sub(1) as u32;
        self.rosters.push(RosterSnapshot { at_ms: self.now, step, holder, users });
    }

    // ------------------------------------------------------------------ the end

    fn finish(mut self) -> Trace {
        self.cur_cause = self.causes.len() as u32 - 1;
        // Anything still in flight at the end was never acknowledged: say so and count it.
        let unacked = self.pf.take_in_flight();
        for f in unacked {
            if self.chats[f.chat as usize].outcome == Outcome::Pending && !self.carol.received[f.chat as usize] {
                self.lose(f.chat, "The run ends with this SEND still unacknowledged: Carol never got it.", cl!["RFC 4975 §7.1.1"]);
            } else if self.chats[f.chat as usize].outcome == Outcome::Pending {
                self.deliver_mark(f.chat, f.replay);
            }
        }
        self.thin_store_keys();
        let store: Vec<u32> = self.pf.stored().collect();
        for c in store {
            let c = &mut self.chats[c as usize];
            if c.outcome != Outcome::NotForCarol {
                c.outcome = Outcome::StillStored;
            }
        }
        // The time of the last step (or of the last arrival or timer span on the ladder); timers
        // that were stopped earlier still advance the clock and do not count.
        let end = self.steps.iter().map(|s| s.arrive_ms).chain(self.spans.iter().map(|t| t.end_ms)).max().unwrap_or(0);
        if let Some(last) = self.states.last_mut() {
            last.to_ms = end;
        }
        let mut summary = Summary { sent_while_deferred: self.sent_while_deferred, ..Summary::default() };
        for c in &mut self.chats {
            if c.outcome == Outcome::Pending {
                c.outcome = if c.for_carol { Outcome::Lost } else { Outcome::NotForCarol };
            }
            if c.stored_ms.is_some() && c.for_carol {
                summary.stored += 1;
            }
            if c.possible_duplicate {
                summary.possible_duplicates += 1;
            }
            match c.outcome {
                Outcome::Live => summary.delivered_live += 1,
                Outcome::FromStore => summary.delivered_from_store += 1,
                Outcome::StillStored => summary.still_stored += 1,
                Outcome::Lost => summary.lost += 1,
                Outcome::Discarded => summary.discarded += 1,
                _ => {}
            }
        }
        self.spans.sort_by_key(|a| (a.start_ms, a.end_ms));
        let lanes = self
            .lanes
            .iter()
            .enumerate()
            .filter(|(i, _)| self.used_lanes[*i])
            .map(|(i, id)| {
                let (label, role) = match i {
                    0 => ("Carol (client)".to_string(), "client"),
                    1 => ("Carol's PF".to_string(), "pf"),
                    2 => ("CF (focus)".to_string(), "cf"),
                    i if i == self.lanes.len() - 1 => ("IMS core".to_string(), "ims"),
                    i => (self.sc.members[i - 3].name.clone(), "member"),
                };
                LaneInfo { id: id.clone(), label, role }
            })
            .collect();
        let policies = self
            .pol
            .iter()
            .map(|(p, v)| {
                let i = p.info();
                PolicyChoice { id: i.id, question: i.question, title: i.title, value: v, default: i.default, options: i.options }
            })
            .collect();
        Trace {
            version: 1,
            rules: self.rules,
            title: self.sc.title.clone(),
            end_ms: end,
            lanes,
            steps: self.steps,
            chats: self.chats,
            timers: self.spans,
            pf_states: self.states,
            participants: self.rosters,
            policies,
            summary,
        }
    }

    /// "Each stored message, or the first and a count": in a run of stored (or lost) messages with no
    /// other key step between them, the first and the last stay key steps (the last titled
    /// with the count), the ones between do not, so a story of 40 stored messages is two
    /// presses, not forty.
    fn thin_store_keys(&mut self) {
        let keys: Vec<usize> = self.steps.iter().filter(|s| s.key.is_some()).map(|s| s.index as usize).collect();
        let mut i = 0;
        while i < keys.len() {
            let mut j = i;
            let kind = self.steps[keys[i]].kind;
            while j + 1 < keys.len() && matches!(kind, StepKind::Store | StepKind::Lost) && self.steps[keys[j + 1]].kind == kind {
                j += 1;
            }
            if j > i + 1 {
                for k in &keys[i + 1..j] {
                    self.steps[*k].key = None;
                }
            }
            if j > i {
                let n = j - i + 1;
                let q = self.steps[keys[j]].queue_len;
                let back = self.steps[keys[j]].label.starts_with("back to store");
                self.steps[keys[j]].key = Some(Cow::Owned(if back {
                    format!("{n} unacknowledged messages back in the store (Q12 policy; store: {q})")
                } else if kind == StepKind::Store {
                    format!("{n} messages stored for Carol (store: {q})")
                } else {
                    format!("{n} messages lost for Carol")
                }));
            }
            i = j + 1;
        }
    }

    // ------------------------------------------------------------------ chat bookkeeping
    //
    // What the trace records about each chat message (docs/trace-contract.md, chats). The PF
    // reports its part through its outputs (src/pf/io.rs, executed by pf_glue.rs); it does not write the records.

    /// The content (CPIM document) of `chat`, by reference: the body of the SEND that carried it.
    pub(crate) fn chat_body(&self, chat: u32) -> Arc<str> {
        self.chats[chat as usize].cpim.clone()
    }

    /// `chat` went into the PF's store at `step` (the first time counts).
    pub(crate) fn chat_stored(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        if c.stored_ms.is_none() {
            c.stored_ms = Some(self.now);
            c.stored_step = Some(step);
        }
    }

    /// `chat`, replayed from the store, left the PF at `step`.
    pub(crate) fn chat_in_flight(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        c.in_flight_ms = Some(self.now);
        c.in_flight_step = Some(step);
    }

    /// Carol's 200 for `chat` reached the PF at `step`.
    pub(crate) fn chat_delivered(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        c.delivered_ms = Some(self.now);
        c.delivered_step = Some(step);
    }

    /// `chat`, unacknowledged when the session went away, went back into the store at `step`
    /// (Q12 resend: Carol may see it twice).
    pub(crate) fn chat_requeued(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        // (A message that was not for Carol is not counted, whatever the PF does with it.)
        c.possible_duplicate = c.outcome != Outcome::NotForCarol;
        c.in_flight_ms = None;
        c.in_flight_step = None;
        self.chat_stored(chat, step);
    }

    /// The PF drops `chat` (out of its store or in flight) with its explanation `why`. `purge` is
    /// Some when it empties its store on leaving the group (true when it believes Carol left on
    /// purpose), None when it counts one message lost. The outcome is ground truth, decided here
    /// after the PF acted: a purged message is discarded if Carol left on purpose, else lost
    /// (whatever the PF could tell); a message that was not for her keeps that outcome, and its
    /// step says what the PF believed.
    pub(crate) fn pf_drops(&mut self, chat: u32, purge: Option<bool>, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        if self.chats[chat as usize].outcome != Outcome::NotForCarol {
            return if purge.is_some() && !self.carol.entitled { self.discard(chat, why, clauses) } else { self.lose(chat, why, clauses) };
        }
        let label = format!("{} #{chat}", if purge == Some(true) { "discarded" } else { "lost" });
        let step = self.note(Node::Pf, StepKind::Lost, label, clauses, why, Some(chat));
        let c = &mut self.chats[chat as usize];
        if c.stored_ms.is_some() {
            c.removed_ms = Some(self.now);
            c.removed_step = Some(step);
        }
    }

    /// Marks `chat` lost with an explanation on the PF lane.
    pub(crate) fn lose(&mut self, chat: u32, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        let c = &mut self.chats[chat as usize];
        if c.outcome != Outcome::Pending {
            return;
        }
        c.outcome = Outcome::Lost;
        let was_stored = c.stored_ms.is_some();
        let label = format!("lost #{chat}");
        let step = self.note(Node::Pf, StepKind::Lost, label, clauses, why, Some(chat));
        if was_stored {
            let c = &mut self.chats[chat as usize];
            c.removed_ms = Some(self.now);
            c.removed_step = Some(step);
        }
    }

    /// Marks `chat` discarded (Carol left voluntarily).
    pub(crate) fn discard(&mut self, chat: u32, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        if self.chats[chat as usize].outcome != Outcome::Pending {
            return;
        }
        self.chats[chat as usize].outcome = Outcome::Discarded;
        let step = self.note(Node::Pf, StepKind::Lost, format!("discarded #{chat}"), clauses, why, Some(chat));
        let c = &mut self.chats[chat as usize];
        c.removed_ms = Some(self.now);
        c.removed_step = Some(step);
    }

    pub(crate) fn deliver_mark(&mut self, chat: u32, from_store: bool) {
        let c = &mut self.chats[chat as usize];
        if c.outcome == Outcome::Pending {
            c.outcome = if from_store || c.stored_ms.is_some() { Outcome::FromStore } else { Outcome::Live };
        }
    }
}
