//! The CF (conference focus, RFC 4353 §3, RFC 4579) as a sans-IO machine of its own
//! ([`crate::machine::Machine`]; issue 10: "The CF, Carol's client, the members and the IMS
//! core are machines too"). It holds the group session: the users and their status as the focus
//! knows them, its dialogs with each member and with Carol's PF (RFC 3261 §12), the MSRP
//! sessions of those legs and whether each is bound (RFC 4975 §5.4), and the conference
//! subscription it serves with its own conference-info version (RFC 4575 §4.1, §5.1). It
//! distributes every chat message to the other participants (RFC 4975 §7.1.1).
//!
//! **The boundary.** The focus decides only from what reached it: the SIP and MSRP messages it
//! receives ([`CfInput`]), the scenario's focus events (the group ends) and its configuration
//! ([`CfConfig`]: who is on the recipient list, the members' ids, names and MSRP URIs, how the
//! group starts). In particular the fan-out of a chat message to Carol's PF depends only on its
//! own leg with the PF (dialog up, MSRP connection bound by the PF's first SEND), never on Carol's
//! client or the PF's state: if it believes the leg up, it sends, and the network delivers or
//! drops. Its state is private to this module; what it uses of `crate::world` is the message
//! vocabulary (`Arrival`, `Node`, `Roster`, `Txn`) and the wire-text layer (`build::`), and
//! tests/machine_boundaries.rs fails if it names more. The world (src/world/cf_glue.rs) feeds
//! it, records and delivers what it sends after the hop latency, and keeps the trace's chat
//! records (whether a message was for Carol, its loss) from what the focus reports.

#[cfg(test)]
mod alone;
mod handlers;
mod in_dialog;

use crate::machine::{Machine, Time};
use crate::policy::Policies;
use crate::scenario::{Member, Setup, SubRefusal, Who};
use crate::trace::{note_text, Clauses, Participant, StepKind};
use crate::wire::sip::SipMessage;
use crate::world::build::{Builder, Dialog, Ids};
use crate::world::{Arrival, Node, Txn};
use std::borrow::Cow;
use std::sync::Arc;

/// The focus's configuration: what it is told, not what it sees.
#[derive(Debug, Clone)]
pub(crate) struct CfConfig {
    /// How the group session starts (the scenario's `setup`).
    pub setup: Setup,
    /// The members (index = [`Node::Member`]'s): user part, display name, on the recipient list
    /// at t = 0.
    pub members: Vec<Member>,
    /// The run's lane ids (Carol's at 0, member `i`'s at 3 + `i`): the `id` of a user in a roster.
    pub ids: Vec<Arc<str>>,
    /// The MSRP URIs of each member (at 2`i`) and of the focus towards it (at 2`i` + 1), fixed
    /// for a run (RFC 4975 §6).
    pub paths: Vec<Arc<str>>,
    /// The scenario's wall-clock start (conference-info `when`, RFC 4575 §5.7).
    pub epoch_ms: u64,
    /// The run's policies (the Session-Expires its INVITEs ask for).
    pub policies: Policies,
    /// Q18's timeline: from that time on it refuses the PF's conference subscription, and how
    /// (the scenario's `subscription_refused_ms`; not in the CR).
    pub sub_refused: Option<(u64, SubRefusal)>,
    /// Q14 (the scenario's `msrp_chunk_bytes`): a SEND on Carol's leg whose body is longer goes
    /// in chunks of at most this many bytes (RFC 4975 §5.1); `None`: whole.
    pub chunk_bytes: Option<usize>,
    /// Build wire texts.
    pub wire: bool,
}

/// One thing that reaches the focus.
#[derive(Debug)]
pub(crate) enum CfInput {
    /// The run starts (setup `cf_invites`: the focus invites Carol through her PF).
    Start,
    /// The scenario ends the group session.
    GroupEnds,
    /// A member's chat SEND (`body`: its CPIM document, as the SEND carried it).
    MemberSend { chat: u32, member: usize, tid: String, body: Arc<str> },
    /// A member's empty SEND that opens and binds its MSRP connection (RFC 4975 §5.4).
    MemberBind { member: usize, tid: String },
    /// A member's INVITE to join (a 404 once the group session is gone, RFC 3261 §21.4.5).
    MemberInvite { member: usize, txn: Txn },
    /// A member's 200 to the focus's INVITE (`txn`: the 200's header values, with its To tag).
    MemberOk { member: usize, txn: Txn },
    /// A member's BYE.
    MemberBye { member: usize, txn: Txn },
    /// Carol's chat SEND on her leg, from her PF.
    PfSend { chat: u32, tid: String, body: Arc<str> },
    /// An IMDN on Carol's leg (her client's, or her PF's own under Q17; RFC 5438 §7.1.1).
    PfImdn { imdn: crate::world::ImdnMsg, tid: String },
    /// The PF's empty SEND that binds the MSRP connection of Carol's leg.
    PfBind { tid: String },
    /// The PF's INVITE for Carol (a relayed join or re-join).
    PfInvite { txn: Txn },
    /// The PF's 200 to the focus's INVITE (setup `cf_invites`; `txn`: the 200's header values).
    PfOk { txn: Txn },
    /// The PF's failure response to the focus's INVITE (`txn`: the response's header values).
    PfError { txn: Txn },
    /// The PF's BYE on Carol's leg (`voluntary`: its Reason says Carol left on purpose).
    PfBye { txn: Txn, voluntary: bool },
    /// The PF's SUBSCRIBE to the conference event package (RFC 4575 §3).
    Subscribe { txn: Txn, expires: u32 },
    /// The scenario (digest Q16): the focus sends a refresh re-INVITE, with `subject` a new
    /// Subject too, or (`update`) an UPDATE on Carol's leg.
    InDialog { update: bool, subject: Option<Arc<str>> },
    /// The PF's final response to that re-INVITE or UPDATE (`txn`: the response's header values).
    PfInDialogResp { code: u16, txn: Txn },
}

/// The focus's timers. It has none: it runs no INVITE client transaction timer (its peers are
/// reliable in the model) and no subscription expiry (the PF refreshes). The type states that
/// (no value of it exists, so [`CfInput`] has no timer input), and [`Machine::poll_timeout`]
/// answers None.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CfTimer {}

/// What the focus reports of a chat message (for the trace's chat records; no step of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CfChat {
    /// It distributed a member's message: the world records whether it was for Carol.
    Distributed(u32),
    /// It has no leg for Carol to send this member's message on.
    NoLegForCarol(u32),
    /// It held this message for Carol's leg until its MSRP connection was bound, and the leg
    /// ended first.
    LegEndedUnbound(u32),
}

/// One thing the focus wants done or recorded, in order.
#[derive(Debug)]
pub(crate) enum CfOutput {
    /// Send a SIP message to `to` (its arrival there is `arrival`).
    Sip { to: Node, msg: SipMessage, clauses: Clauses, note: Cow<'static, str>, arrival: Option<Box<Arrival>> },
    /// Send an MSRP message (its text, empty without wire texts).
    Msrp { to: Node, raw: String, label: &'static str, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32>, arrival: Option<Box<Arrival>> },
    /// A decision of its own, as a step on its lane.
    Note { kind: StepKind, label: &'static str, clauses: Clauses, note: Cow<'static, str> },
    /// What became of a chat message at its hands.
    Chat(CfChat),
}

/// A user as the focus knows it (RFC 4575 §5.6: status, joining and disconnection info).
#[derive(Debug, Clone)]
struct User {
    who: Who,
    connected: bool,
    dialed_in: bool,
    left_ms: Option<u64>,
    how_left: &'static str,
}

/// The CF (module doc).
#[derive(Debug)]
pub(crate) struct Focus {
    cfg: CfConfig,
    ids: Ids,
    /// The time of the input being handled.
    now: Time,
    /// The users of the conference and their status.
    users: Vec<User>,
    /// Its dialog with each member, if it holds one (A: the member, B: the focus).
    member_legs: Vec<Option<Dialog>>,
    /// How many legs it has answered each member's INVITEs with (its own To tags).
    member_tags: Vec<u32>,
    /// Carol's PF is admitted on Carol's leg.
    carol_admitted: bool,
    /// Carol's leg (to her PF) as the focus holds it: set by its 200 to the PF's INVITE or by the
    /// ACK of its own INVITE's 200 (RFC 3261 §12.1), cleared by a BYE either way.
    carol_leg: Option<Dialog>,
    /// The MSRP connection of Carol's leg is bound (the PF's first SEND arrived, RFC 4975 §5.4).
    carol_bound: bool,
    /// Messages for Carol's leg that wait for that binding.
    carol_queue: Vec<(u32, Arc<str>)>,
    /// The group session is over.
    ended: bool,
    /// The PF's conference subscription as the focus holds it: set when the focus accepts the
    /// SUBSCRIBE (RFC 6665 §4.2.1), cleared when it ends it.
    sub: Option<Dialog>,
    /// conference-info version of the last NOTIFY on that subscription (RFC 4575 §5.1).
    sub_version: u32,
    /// The SDP it last gave on Carol's leg (its offer or answer; empty without wire texts;
    /// None on a leg the run started with): a refresh re-INVITE offers it again with the `o=`
    /// version one higher (RFC 3264 §8).
    carol_sdp: Option<String>,
    /// The conference's Subject now, once a Q16 re-INVITE changed it (RFC 4575 §5.3.1).
    subject: Option<Arc<str>>,
    /// Its re-INVITE or UPDATE on Carol's leg that has no final response yet (its CSeq number,
    /// `true` for an UPDATE): one at a time (RFC 3261 §14.1, RFC 3311 §5.1).
    in_dialog: Option<(u32, bool)>,
    /// What it wants done, in order.
    out: Vec<CfOutput>,
}

impl Focus {
    /// The focus at the start of a run: with setup `established` Carol's leg (its dialog
    /// `Dialog::pf_cf(0)`, bound) and the members' legs exist; with `cf_invites` the members';
    /// with `full` none. The odd members of the list dialled out (RFC 4575 §5.6 joining-method).
    pub(crate) fn new(cfg: CfConfig) -> Self {
        let initial = cfg.setup == Setup::Established;
        let mut users = vec![User { who: Who::Carol, connected: initial, dialed_in: true, left_ms: None, how_left: "" }];
        for (i, m) in cfg.members.iter().enumerate() {
            if m.in_group {
                users.push(User { who: Who::Member(i), connected: cfg.setup != Setup::Full, dialed_in: i % 2 == 0, left_ms: None, how_left: "" });
            }
        }
        let member_legs =
            cfg.members.iter().enumerate().map(|(i, m)| if m.in_group && cfg.setup != Setup::Full { Some(Dialog::member_cf(i, 0)) } else { None }).collect();
        Focus {
            ids: Ids::new(2, "f", 0),
            now: 0,
            users,
            member_tags: vec![0; cfg.members.len()],
            member_legs,
            carol_admitted: initial,
            carol_leg: if initial { Some(Dialog::pf_cf(0)) } else { None },
            carol_bound: initial,
            carol_queue: Vec::new(),
            ended: false,
            sub: None,
            sub_version: 0,
            carol_sdp: None,
            subject: None,
            in_dialog: None,
            out: Vec::with_capacity(8),
            cfg,
        }
    }

    /// Whether it builds wire texts (set before the run starts).
    pub(crate) fn cfg_wire(&mut self, wire: bool) {
        self.cfg.wire = wire;
    }

    /// The participant list it holds now (RFC 4575 §5.6 users and their status).
    pub(crate) fn roster(&self) -> Vec<Participant> {
        self.users
            .iter()
            .map(|u| Participant {
                id: self.lane_of(u.who),
                name: self.name_of(u.who).to_string(),
                status: if u.connected { "connected" } else { "disconnected" },
            })
            .collect()
    }

    // ---- The focus's own view of the members (its fan-out uses it; a test reads its legs).

    /// Member `m` is a connected user of the conference.
    fn member_connected(&self, m: usize) -> bool {
        self.users.iter().any(|u| u.who == Who::Member(m) && u.connected)
    }

    /// The focus's dialog with member `m`.
    #[cfg(test)]
    pub(crate) fn member_leg(&self, m: usize) -> Option<&Dialog> {
        self.member_legs[m].as_ref()
    }

    // ---- helpers

    /// How it refuses the PF's conference subscription now, if the scenario says it does from
    /// a time at or before now (Q18).
    fn refusing(&self) -> Option<SubRefusal> {
        self.cfg.sub_refused.filter(|(t, _)| self.now >= *t).map(|(_, r)| r)
    }

    fn lane_of(&self, w: Who) -> Arc<str> {
        match w {
            Who::Carol => self.cfg.ids[0].clone(),
            Who::Member(i) => self.cfg.ids[3 + i].clone(),
        }
    }

    /// Member `m`'s MSRP URI and the focus's towards it.
    fn paths_of(&self, m: usize) -> (Arc<str>, Arc<str>) {
        (self.cfg.paths[2 * m].clone(), self.cfg.paths[2 * m + 1].clone())
    }

    fn name_of(&self, w: Who) -> &str {
        match w {
            Who::Carol => "Carol",
            Who::Member(i) => &self.cfg.members[i].name,
        }
    }

    // The note goes through `note_text` where it is emitted, so that a build without notes
    // (the page's first wasm module) leaves every note's literal out.

    fn sip(&mut self, to: Node, msg: SipMessage, clauses: Clauses, note: &'static str, arrival: Option<Arrival>) {
        self.out.push(CfOutput::Sip { to, msg, clauses, note: note_text(note), arrival: arrival.map(Box::new) });
    }

    #[allow(clippy::too_many_arguments)]
    // (With wire texts, the arrival is built in the caller's frame and moved once, into its box;
    // not inlined in the page's first wasm module, which has no wire text and counts bytes.)
    #[cfg_attr(feature = "wire-text", inline(always))]
    fn msrp(
        &mut self,
        to: Node,
        raw: String,
        label: &'static str,
        clauses: Clauses,
        note: impl Into<std::borrow::Cow<'static, str>>,
        chat: Option<u32>,
        arrival: Option<Arrival>,
    ) {
        self.out.push(CfOutput::Msrp { to, raw, label, clauses, note: note_text(note), chat, arrival: arrival.map(Box::new) });
    }

    fn note(&mut self, kind: StepKind, label: &'static str, clauses: Clauses, note: &'static str) {
        self.out.push(CfOutput::Note { kind, label, clauses, note: note_text(note) });
    }

    fn chat(&mut self, c: CfChat) {
        self.out.push(CfOutput::Chat(c));
    }
}

/// The focus builds what it sends with its own ids and configuration.
impl Builder for Focus {
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
        &self.cfg.members[i].id
    }
}

impl Machine for Focus {
    type Input = CfInput;
    type Output = CfOutput;
    type Timer = CfTimer;

    fn handle(&mut self, now: Time, input: CfInput) {
        self.now = now;
        self.gets(input);
    }

    fn poll_output(&mut self, into: &mut Vec<CfOutput>) {
        debug_assert!(into.is_empty());
        std::mem::swap(into, &mut self.out);
    }

    fn poll_timeout(&self) -> Option<(Time, CfTimer)> {
        None
    }
}

/// The tag of a From or To value (`"Name" <sip:…>;tag=x;y` → `x`): its last `tag` parameter
/// (a quoted display name before the address may hold anything), empty if it has none.
fn tag_of(h: &str) -> &str {
    let mut parts = crate::strs::split(h, ";tag=");
    parts.next();
    parts.last().unwrap_or("").split(';').next().unwrap_or("")
}

/// The number of a CSeq value (`2 SUBSCRIBE` → 2; 1 if unreadable).
fn cseq_no(cseq: &str) -> u32 {
    cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1)
}
