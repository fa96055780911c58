//! The world: a discrete-event loop with a virtual clock that drives Carol's client, her PF, the
//! CF (focus), the other members and the IMS core, and records every transmission and decision in
//! the [`Trace`]. No clock, thread, file or OS randomness: two runs of one scenario give
//! byte-identical traces.
//!
//! Every actor is a sans-IO machine of its own ([`crate::machine::Machine`]): the PF (src/pf/),
//! the IMS core (src/ims/), the CF (src/cf/), Carol's client (src/client/) and the members'
//! clients (src/members/). The world feeds them what reaches them and executes what they emit
//! (pf_glue.rs, ims.rs, cf_glue.rs, client_glue.rs, members_glue.rs), and keeps the facts of
//! Carol's device and network ([`Carol`]); actors.rs holds the set-up,
//! the scenario's events and the delivery of every message to its receiver, run.rs the event
//! loop and the recording, finish.rs the end of a run and the chat records.

pub(crate) mod actors;
pub(crate) mod build;
mod cf_glue;
mod client_glue;
mod finish;
pub(crate) mod ims;
mod members_glue;
mod pf_glue;
pub mod resumable;
mod run;

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
    /// Carol's second device, her tablet (issue 11, Q15): a second instance of her client.
    Tablet,
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

/// Whether this build sends chunked SENDs (Q14, Cargo feature `chunks`; off only in the page's
/// first wasm module, whose scenario reader refuses `msrp_chunk_bytes`). Every chunking branch
/// tests it (the machines, which may not reach into the world, `cfg!(feature = "chunks")`)
/// first, so a build without it compiles none of them.
pub(crate) const CHUNKS: bool = cfg!(feature = "chunks");

/// Which bytes of a chunked message one SEND carries (RFC 4975 §5.1, §7.1.1 `Byte-Range`):
/// `start..end` (0-based) of `total`, of the sender's message number `msg` (what its
/// `Message-ID` names, also on the fast path where no Message-ID is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkAt {
    pub msg: u32,
    pub start: u32,
    pub end: u32,
    pub total: u32,
}

impl ChunkAt {
    /// It carries the message's last byte (end-line flag `$`).
    pub(crate) fn last(&self) -> bool {
        self.end >= self.total
    }
}

/// An IMDN on its way back to the sender of a chat message (RFC 5438 §7.1.1): what every hop's
/// SEND carries besides its transaction id. Its CPIM document is the SEND's content, shared by
/// every hop (empty on the fast path, where no wire text is built).
#[derive(Debug, Clone)]
pub(crate) struct ImdnMsg {
    /// The chat message it is about (the trace's number for its `imdn.Message-ID`).
    pub chat: u32,
    /// `delivered`, `displayed` (Carol's client) or `stored` (her PF, Q17).
    pub status: crate::wire::imdn::ImdnStatus,
    /// The user part of its CPIM `To`: the original sender, whom the focus routes it to.
    pub to: Arc<str>,
    /// Its CPIM document (RFC 5438 §7.1.1; `message/imdn+xml` inside).
    pub body: Arc<str>,
    /// Whether `body` has seven `-` in a row ([`build::has_dash_run`]): known where it is
    /// written, so no hop's SEND searches it again for its transaction id (RFC 4975 §6).
    pub dash_run: bool,
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
        /// Q14: a chunk of the message (RFC 4975 §5.1), not the whole of it.
        chunk: Option<ChunkAt>,
    },
    PfSendAtCarol {
        chat: u32,
        tx: u32,
        tid: String,
        /// Q14: a chunk of the message (RFC 4975 §5.1), not the whole of it.
        chunk: Option<ChunkAt>,
        /// The PF sends it from its store (the deferred delivery), not live.
        replay: bool,
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
    /// Carol's client's IMDN reaches her PF (RFC 5438 §7.1.1).
    CarolImdnAtPf {
        imdn: ImdnMsg,
        tid: String,
    },
    /// An IMDN (Carol's, or the PF's own under Q17) reaches the focus.
    PfImdnAtCf {
        imdn: ImdnMsg,
        tid: String,
    },
    /// The focus has routed an IMDN to the member its CPIM `To` names.
    CfImdnAtMember {
        member: usize,
        imdn: ImdnMsg,
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
        /// Its Conversation-ID and Contribution-ID headers (Q20); None: the session's set-up.
        ids: Option<Box<(String, String)>>,
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
        /// The Subscription-State reason of a terminating NOTIFY (RFC 6665 §4.2.2); None: active.
        terminated: Option<&'static str>,
        roster: Option<Roster>,
    },
    /// Carol's REGISTER; `dereg`: it says `Expires: 0` (RFC 3261 §10.2.2).
    RegisterAtScscf {
        txn: Txn,
        reaction_ms: u64,
        dereg: bool,
    },
    /// The S-CSCF's 3rd-party REGISTER; `dereg`: it says `Expires: 0`; `tablet`: the
    /// registration its body carries is her tablet's (its Contact's `+sip.instance`, issue 11).
    RegisterAtPf {
        txn: Txn,
        reaction_ms: u64,
        dereg: bool,
        tablet: bool,
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
    /// Carol's REFER with `method=BYE` from her tablet (issue 11, Q9; RFC 4579 §5.5).
    ReferAtPf {
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
    /// The PF's 200 to the focus's INVITE (`txn`: the 200's header values, with its To tag).
    PfOkAtCf {
        txn: Txn,
    },
    /// The PF's failure response to the focus's INVITE (`txn`: the response's header values).
    PfErrAtCf {
        txn: Txn,
    },
    CfAckAtPf,
    /// The focus's in-dialog request on Carol's leg (digest Q16): a re-INVITE, or with `update`
    /// an UPDATE (RFC 3311).
    CfInDialogAtPf {
        txn: Txn,
        update: bool,
    },
    /// The PF's final response to that request (`txn`: the response's header values).
    PfInDialogRespAtCf {
        code: u16,
        txn: Txn,
    },
    CfInviteAtMember {
        member: usize,
        txn: Txn,
    },
    /// A member's 200 to the focus's INVITE (`txn`: the 200's header values, with its To tag).
    MemberOkAtCf {
        member: usize,
        txn: Txn,
    },
    /// The focus's response to a joining member's INVITE (`txn`: the response's header values).
    CfRespAtMember {
        member: usize,
        code: u16,
        txn: Txn,
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
    /// A timer of Carol's client, with its reason ([`crate::client::ClientTimer`]).
    Client(crate::client::ClientTimer),
    /// A timer of Carol's tablet's client (issue 11, Q15).
    Tablet(crate::client::ClientTimer),
    /// A timer of the PF, with its reason ([`crate::pf::PfTimer`]).
    Pf(crate::pf::PfTimer),
    /// A timer of the IMS core, with its reason ([`crate::ims::CoreTimer`]).
    Core(crate::ims::CoreTimer),
}

struct TimerRec {
    kind: TimerKind,
    name: &'static str,
    clause: &'static str,
    lane: Node,
    start: u64,
    /// When it fires (unless stopped first).
    due: u64,
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

/// The facts of Carol's device and network, and the recorder's ground truth about her (her
/// client's own knowledge is in its machine, src/client/).
#[derive(Debug, Clone, Copy)]
pub(in crate::world) struct Carol {
    /// Her device is on the network (what reaches it is delivered).
    pub reachable: bool,
    /// Ground truth: Carol is entitled to the group's messages (a participant who did not leave voluntarily).
    pub entitled: bool,
    /// Her MSRP TCP connection to her PF, physically.
    pub conn: Conn,
    /// The scenario made the next TCP connect of her MSRP connection fail.
    pub setup_fails_next: bool,
}

/// Carol's tablet (issue 11, Q15): its client machine (a second instance, with its own
/// `+sip.instance`), the world's facts of the device, and its timers.
pub(in crate::world) struct Tablet {
    client: crate::client::Client,
    dev: Carol,
    timer_ids: Vec<u32>,
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
    /// Carol's client, a machine of its own (src/client/), its output buffer and the world's
    /// timer id of each of its timer handles.
    client: crate::client::Client,
    client_out: Vec<crate::client::ClientOutput>,
    client_timer_ids: Vec<u32>,
    /// Carol's second device, her tablet (issue 11, Q15), when the scenario has one.
    tablet: Option<Box<Tablet>>,
    /// The device the PF's client leg last addressed (whose MSRP connection a close of the PF's
    /// reaches).
    pf_dev: Node,
    pub pf: Pf,
    /// The PF's output buffer (swapped with the PF's own, so draining allocates nothing).
    pf_out: Vec<crate::pf::PfEmit>,
    /// The world's timer id of each PF timer handle.
    pf_timer_ids: Vec<u32>,
    /// The PF's state and store length for the trace's per-step snapshot (as of its last output).
    pf_snap: (PfState, u32),
    /// Where the PF's last `Mark` output pointed.
    pf_mark: u32,
    /// The CF, a machine of its own (src/cf/), and its output buffer.
    pub cf: crate::cf::Focus,
    cf_out: Vec<crate::cf::CfOutput>,
    /// The IMS core, a machine of its own (src/ims/), its output buffer and the world's timer
    /// id of each of its timer handles.
    core: ims::Core,
    core_out: Vec<crate::ims::CoreOutput>,
    core_timer_ids: Vec<u32>,
    /// The members' clients, each a machine of its own (src/members/), and their output buffer.
    members: Vec<crate::members::Member>,
    member_out: Vec<crate::members::MemberOutput>,
    pub sent_while_away: u32,
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

    /// Whether this run builds the CPIM document of each chat message: with wire texts, and
    /// always when the scenario chunks SENDs (Q14 `msrp_chunk_bytes`: the document's length
    /// decides the chunks, so the page's fast run must have it too).
    #[inline]
    pub(crate) fn chat_texts(&self) -> bool {
        self.wire() || (CHUNKS && self.sc.msrp_chunk_bytes.is_some())
    }

    /// Tells the machines whether this run builds wire texts (before it starts).
    pub(in crate::world) fn machines_wire(&mut self) {
        let wire = self.wire();
        self.pf.cfg_wire(wire);
        self.core.cfg_wire(wire);
        self.cf.cfg_wire(wire);
        self.client.cfg_wire(wire);
        if let Some(t) = self.tablet.as_mut() {
            t.client.cfg_wire(wire);
        }
    }
}

/// Runs `sc` under `rules` and returns the trace.
pub fn simulate(sc: &Scenario, rules: Rules, wire: bool) -> Trace {
    let mut w = World::new(Cow::Borrowed(sc), rules);
    w.wire = wire;
    w.machines_wire();
    w.start();
    w.run();
    w.finish()
}

impl<'a> World<'a> {
    fn new(sc: Cow<'a, Scenario>, rules: Rules) -> Self {
        let mut lanes: Vec<Arc<str>> = vec![Arc::from("carol"), Arc::from("carol-pf"), Arc::from("cf")];
        lanes.extend(sc.members.iter().map(|m| Arc::from(m.id.as_str())));
        lanes.push(Arc::from("scscf"));
        if sc.tablet {
            lanes.push(Arc::from("carol-tablet"));
        }
        let n = lanes.len();
        let lane_h: Vec<u64> = lanes.iter().map(|l| crate::story::fnv(l.as_bytes(), 0)).collect();
        let initial = sc.setup == Setup::Established;
        let paths = World::member_paths(&sc);
        let cf = World::new_focus(&sc, &paths, &lanes);
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
                    i if i == 3 + sc.members.len() => build::Ids::new(i, "s", 0),
                    i if i == 4 + sc.members.len() => build::Ids::new(i, "t", 0),
                    i => build::Ids::new(i, MEMBER_CODES.get(i - 3).copied().unwrap_or("m"), 0),
                })
                .collect(),
            carol: Carol {
                reachable: true,
                entitled: sc.setup != Setup::CfInvites,
                conn: if initial { Conn::Up } else { Conn::None },
                setup_fails_next: false,
            },
            client: crate::client::Client::new(crate::client::ClientConfig {
                established: initial,
                answer_ms: sc.answer_ms,
                policies: sc.policies.clone(),
                wire: true,
                members: sc.members.clone(),
                imdn: sc.imdn,
                reads_ms: sc.carol_reads_ms,
                epoch_ms: sc.start_epoch_ms,
                me: Node::Carol,
            }),
            client_out: Vec::with_capacity(8),
            client_timer_ids: Vec::new(),
            tablet: sc.tablet.then(|| {
                Box::new(Tablet {
                    client: crate::client::Client::new(crate::client::ClientConfig {
                        established: false,
                        answer_ms: sc.answer_ms,
                        policies: sc.policies.clone(),
                        wire: true,
                        members: sc.members.clone(),
                        imdn: sc.imdn,
                        reads_ms: sc.carol_reads_ms,
                        epoch_ms: sc.start_epoch_ms,
                        me: Node::Tablet,
                    }),
                    dev: Carol { reachable: true, entitled: false, conn: Conn::None, setup_fails_next: false },
                    timer_ids: Vec::new(),
                })
            }),
            pf_dev: Node::Carol,
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
                    chunk_bytes: sc.msrp_chunk_bytes.map(|n| n as usize),
                    tablet: sc.tablet,
                },
            ),
            pf_out: Vec::with_capacity(16),
            pf_timer_ids: Vec::new(),
            pf_snap: (if initial { PfState::Active } else { PfState::Idle }, 0),
            pf_mark: 0,
            cf,
            cf_out: Vec::with_capacity(16),
            core: ims::Core::new(ims::CoreConfig { mode: sc.ims_core, t1_ms: sc.t1_ms, wire: true }),
            core_out: Vec::new(),
            core_timer_ids: Vec::new(),
            members: Vec::new(),
            member_out: Vec::new(),
            sent_while_away: 0,
            wire: true,
            paths,
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
}
