//! Carol's client (her UE) as a sans-IO machine ([`crate::machine::Machine`]; issue 10: "The
//! CF, Carol's client, the members and the IMS core are machines too; the world only delivers
//! what each emits"). It is fed one [`ClientInput`] at a time: a SIP or MSRP message that
//! reached it (typed values from the message vocabulary), what its device tells it (the network
//! is there or gone, its MSRP TCP connection came up, broke or was closed by the peer), the
//! scenario's events for Carol (she sends a message, drops with a Reason, leaves, re-joins,
//! registers, her client is told to reject the next INVITE) and its own timer; and it is drained
//! of [`ClientOutput`]s: messages to send, its timer with its reason, its notes, and what it
//! asks of its device (open or close the MSRP connection).
//!
//! What it keeps: its dialogs with her PF (tags, CSeq per direction, route sets; RFC 3261
//! §12), its own INVITE client transaction (CANCEL only after a provisional response, §9.1;
//! ACK of a 2xx in the dialog, §13.2.2.4, of a failure in the transaction, §17.1.1.3), its
//! INVITE server transactions (180 Ringing while alerting, §13.3.1.1; 200 and 487 with the
//! same To tag; 200 to CANCEL, §9.2), its MSRP session (the path numbers of her offers and
//! answers; `a=setup:active`: it opens the connection and binds it by its first SEND, RFC 4975
//! §5.4), its conference subscription (RFC 4575 §3), and what it has received and shown.
//!
//! **The boundary.** What is the device's or the network's stays in the world: whether the
//! device is on the network and whether its TCP connection to the PF is physically up decide
//! whether a message is delivered at all (src/world/client_glue.rs), and whether Carol is
//! still entitled to the group's messages is the recorder's ground truth. The client is told
//! of each such fact as an input and keeps its own view of it; no other actor can read its
//! state (its fields are private to this module). What it names of `crate::world` is the
//! message vocabulary (`Node`, `Txn`, `Dialog`, `Arrival`) and the wire-text layer (`build::`);
//! tests/machine_boundaries.rs fails if it names more.

#[cfg(test)]
mod alone;
mod imdn;
mod invite;
mod media;

use crate::machine::{Armed, Machine, Reasons, Time};
use crate::policy::{Policies, PolicyId};
use crate::scenario::Member;
use crate::trace::{Clauses, Participant};
use crate::wire::reason::ReasonValue;
use crate::wire::sip::SipMessage;
use crate::world::build::{Builder, Ids, CAROL_ROUTE};
use crate::world::{Arrival, Dialog, Node, Txn};
use std::borrow::Cow;
use std::sync::Arc;

/// What every step the scenario makes her client take cites.
const SCENARIO: &str = "scenario";

/// A Reason header as it was written and as it parses (RFC 3326).
pub(crate) type Reason = Option<(String, Vec<ReasonValue>)>;

/// The client's configuration: what it is told, not what it sees.
#[derive(Debug, Clone)]
pub(crate) struct ClientConfig {
    /// The run starts with her session established (she is in the group, her MSRP connection up).
    pub established: bool,
    /// How long she lets her client alert before she accepts an invitation (the scenario's
    /// `answer_ms`; 0: at once, no 180).
    pub answer_ms: u64,
    /// The run's policies (Q13 decides whether she subscribes to the conference state).
    pub policies: Policies,
    /// Build wire texts.
    pub wire: bool,
    /// The group's members as the scenario configures them (their user parts; the ones in the
    /// group at the start are whom she invites when she creates the group).
    pub members: Vec<Member>,
    /// Which messages it sends IMDNs for (the scenario's `imdn`; RFC 5438, Q17).
    pub imdn: crate::scenario::ImdnMode,
    /// How long after a message reaches it she reads it (`carol_reads_ms`; `displayed`).
    pub reads_ms: u64,
    /// Wall-clock time of t = 0 (epoch ms), for the `DateTime` of its IMDNs.
    pub epoch_ms: u64,
    /// The device it runs on: her phone (`Node::Carol`) or her tablet (`Node::Tablet`, issue
    /// 11, Q15), each with its own `+sip.instance`, Contact, tags and counters.
    pub me: Node,
}

/// Her client's own view of its MSRP connection to her PF (what its TCP stack has told it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    None,
    Up,
    /// Broken (reset, or the device left the network); nothing closed it yet.
    Broken,
}

/// One thing that reaches Carol's client. (An input is built and moved once, straight into
/// [`Machine::handle`], never stored: the arrival is not boxed again, as the event queue's box
/// was just opened for it.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum ClientInput {
    /// A SIP or MSRP message from her PF (or the IMS core for it) reaches the client.
    Message(Arrival),
    /// Setup `full`: she creates the group (an INVITE to the conference factory).
    CreateGroup,
    /// She sends chat message `chat` (its CPIM document `body`) over her MSRP session (the
    /// world feeds this only while the connection is physically up).
    Chat { chat: u32, body: Arc<str> },
    /// She ends her session (the scenario's drop), with this Reason.
    Bye { reason: Reason },
    /// She leaves the chat (a BYE with `SIP;cause=200` in session; offline, a decline later).
    Leave,
    /// She re-joins the group (§8.3.2.9: an INVITE to the group's identity), with the session
    /// IDs `ids` (Q20).
    Rejoin { ids: crate::scenario::RejoinIds },
    /// Her device registers again; `reaction_ms` is what the 3rd-party REGISTER carries on.
    Register { reaction_ms: u64 },
    /// Her device de-registers: a REGISTER with `Expires: 0` (RFC 3261 §10.2.2).
    Deregister,
    /// The scenario: her client (or her P-CSCF) answers the next INVITE with this status.
    RejectNext(u16),
    /// Her device is on the network (true) or has dropped off it (false).
    Network(bool),
    /// The MSRP connection it asked to open came up (true) or the TCP connect failed (false).
    MsrpOpened(bool),
    /// Its MSRP connection broke (reset, or the device lost the network).
    MsrpBroken,
    /// Its PF closed the MSRP connection.
    MsrpClosed,
    /// Its timer fired.
    Timer(ClientTimer),
    /// Chat message `chat` reaches it in a SEND from her PF (`replay`: from the PF's store), with
    /// what its CPIM document says: the sender's user part and the document (empty on the fast
    /// path). What it needs to answer the message with IMDNs (RFC 5438 §7.1.1).
    /// `chunk`: Q14, one chunk of it (RFC 4975 §5.1).
    ChatIn { chat: u32, tx: u32, tid: String, chunk: Option<crate::world::ChunkAt>, replay: bool, sender: Arc<str>, body: Arc<str> },
}

/// A timer of the client, named by its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientTimer {
    /// The scenario's answer delay for the INVITE `inv` it is alerting for.
    Answer { inv: u32 },
    /// The scenario's read delay (`carol_reads_ms`) for chat message `chat`: then she has read
    /// it and her client sends `displayed` (RFC 5438 §5.2).
    Read { chat: u32 },
}

impl ClientTimer {
    /// The timer's name on the ladder.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ClientTimer::Answer { .. } => "answer delay",
            ClientTimer::Read { .. } => "read delay",
        }
    }
    /// Where the timer comes from (not in any RFC: how long she takes to accept).
    pub(crate) fn clause(self) -> &'static str {
        SCENARIO
    }
}

/// One thing the client wants done or recorded, in order.
#[derive(Debug)]
pub(crate) enum ClientOutput {
    /// Send a SIP message to `to` (her PF, through the IMS core, or the S-CSCF's registrar).
    Sip { to: Node, msg: SipMessage, clauses: Clauses, note: Cow<'static, str>, arrival: Option<Box<Arrival>> },
    /// Send an MSRP message to her PF (its text; empty without wire texts).
    Msrp { raw: String, label: &'static str, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32>, arrival: Option<Box<Arrival>> },
    /// A note of its own (an information step on her lane).
    Note { label: Cow<'static, str>, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32> },
    /// Arm timer `handle` for `ms` with its reason.
    Arm { handle: u32, timer: ClientTimer, ms: u64 },
    /// The participant list it shows now (the trace's roster snapshot, holder `client`).
    Roster(Vec<Participant>),
    /// Open its MSRP connection to the PF (it is the `a=setup:active` side, RFC 4975 §5.4); the
    /// device answers with [`ClientInput::MsrpOpened`].
    OpenMsrp,
    /// Close its MSRP connection.
    CloseMsrp,
    /// She has left the group of her own will (the recorder's ground truth: no longer entitled).
    Left,
    /// The message that reached it matches nothing it can act on and is ignored (the trace shows
    /// it as not arriving).
    Ignore,
}

/// The INVITE it is alerting for (its INVITE server transaction, RFC 3261 §17.2.1).
#[derive(Debug, Clone)]
struct Alerting {
    /// The PF's number of that INVITE.
    inv: u32,
    /// The INVITE as it reached her (None once answered).
    txn: Option<Txn>,
    /// The PF's own delivery INVITE or not, and the participant list it carried.
    what: (bool, Option<Vec<Participant>>),
    /// The number of the PF's MSRP path in its offer.
    no: u32,
    /// Her To tag (180, 200 and 487 carry the same).
    tag: String,
}

/// Her own pending INVITE, as its INVITE client transaction sees it (RFC 3261 §17.1.1).
#[derive(Debug, Clone)]
struct Pending {
    txn: Txn,
    ruri: &'static str,
    /// A provisional response arrived, so a CANCEL may be sent (RFC 3261 §9.1).
    provisional: bool,
    /// She wants out (leave or BYE event) with this Reason: CANCEL, or ACK and BYE after a 2xx.
    leave: Option<Reason>,
    cancelled: bool,
}

/// Carol's MSRP path numbers (hers, the PF's) and their URIs, as last built.
#[cfg(feature = "wire-text")]
type View = ((u32, u32), Arc<str>, Arc<str>);

/// Carol's client (module doc).
pub(crate) struct Client {
    cfg: ClientConfig,
    /// Its device (a copy of `cfg.me`).
    me: Node,
    ids: Ids,
    now: Time,
    reasons: Reasons<ClientTimer>,
    armed: Armed,
    out: Vec<ClientOutput>,
    /// What its device says of the network.
    online: bool,
    /// What its device says of its MSRP connection.
    link: Link,
    /// Whether it asked to open the MSRP connection of a delivery session (what it does once
    /// the connection is up).
    opening: Option<bool>,
    /// It considers itself in a session with the group.
    in_dialog: bool,
    reject_next: Option<u16>,
    /// Carol left while she had no session: her client declines the next INVITE (603).
    left_idle: bool,
    /// The chat messages it has received (by the trace's chat number, its stand-in for the
    /// imdn.Message-ID, RFC 5438 §6.3).
    received: Vec<bool>,
    /// Q14: messages it has part of (RFC 4975 §5.1): (message number, chat, end of the bytes
    /// it has from byte 1). Kept across sessions, so a continuation under the same Message-ID
    /// can be joined (policy q14-cut-chunks `resume`).
    partial: Vec<(u32, u32, u32)>,
    session_no: u32,
    /// Its conference subscription (RFC 6665 §4.1.2).
    sub: Option<Dialog>,
    /// The MSRP paths (her number, the PF's number) of the session it uses now.
    paths: (u32, u32),
    /// The path numbers of her SDP offers, by Call-ID.
    offers: Vec<(String, u32)>,
    alerting: Option<Alerting>,
    /// The INVITE she accepted last was the PF's delivery INVITE.
    answered_delivery: bool,
    /// The Call-ID of her current session (a BYE on another dialog leaves it alone).
    live_call: String,
    /// Her own INVITE while it has no final response (issue 10 #7: a leave then is a CANCEL).
    own_invite: Option<Pending>,
    /// Its record of its session dialog with the PF.
    dialog: Option<Dialog>,
    /// The Call-IDs of the dialogs it has ended (its BYE or the PF's): a BYE on one of them
    /// matches no dialog (RFC 3261 §12.2.2: 481).
    dropped: Vec<String>,
    /// The messages it waits for her to read (their `displayed` IMDN is due when each one's
    /// read delay fires): (chat, the sender's user part, its CPIM document), in the order they
    /// arrived; with one read delay for all, the one read next is the front one.
    unread: std::collections::VecDeque<(u32, Arc<str>, Arc<str>)>,
    /// Its MSRP URIs for the path numbers it last built them for.
    #[cfg(feature = "wire-text")]
    view: Option<View>,
}

impl Client {
    /// Carol's client at the start of a run.
    pub(crate) fn new(cfg: ClientConfig) -> Self {
        let initial = cfg.established;
        let me = cfg.me;
        Client {
            me,
            // The tablet's ids: their own branch code and salt (lane 31 is no lane's).
            ids: if me == Node::Tablet { Ids::new(31, "t", 0).sdp_from(0x100) } else { Ids::new(0, "c", 0) },
            now: 0,
            reasons: Reasons::default(),
            armed: Armed::default(),
            out: Vec::with_capacity(8),
            online: true,
            link: if initial { Link::Up } else { Link::None },
            opening: None,
            in_dialog: initial,
            reject_next: None,
            left_idle: false,
            received: Vec::new(),
            partial: Vec::new(),
            session_no: 0,
            sub: None,
            paths: (0, 0),
            offers: Vec::new(),
            alerting: None,
            answered_delivery: false,
            live_call: Dialog::carol_pf(0).call_id,
            own_invite: None,
            dialog: if initial { Some(Dialog { route: CAROL_ROUTE.into(), ..Dialog::carol_pf(0) }) } else { None },
            dropped: Vec::new(),
            unread: std::collections::VecDeque::new(),
            #[cfg(feature = "wire-text")]
            view: None,
            cfg,
        }
    }

    /// Whether it builds wire texts (set before the run starts).
    pub(crate) fn cfg_wire(&mut self, wire: bool) {
        self.cfg.wire = wire;
    }

    /// Whether it has received chat message `chat` (read by the recorder at the end of a run).
    pub(crate) fn has_received(&self, chat: u32) -> bool {
        self.received.get(chat as usize).copied().unwrap_or(false)
    }

    fn dispatch(&mut self, input: ClientInput) {
        match input {
            ClientInput::Message(a) => self.arrival(a),
            ClientInput::CreateGroup => self.create_group(),
            ClientInput::Chat { chat, body } => self.send_chat(chat, body),
            ClientInput::Bye { reason } => self.bye(reason),
            ClientInput::Leave => self.leave(),
            ClientInput::Rejoin { ids } => self.rejoin(ids),
            ClientInput::Register { reaction_ms } => self.register(reaction_ms),
            ClientInput::Deregister => self.deregister(),
            ClientInput::RejectNext(code) => self.reject_next = Some(code),
            ClientInput::Network(on) => self.online = on,
            ClientInput::MsrpOpened(ok) => self.opened(ok),
            ClientInput::MsrpBroken => {
                if self.link == Link::Up {
                    self.link = Link::Broken;
                }
            }
            ClientInput::MsrpClosed => {
                if self.link == Link::Up {
                    self.link = Link::None;
                }
            }
            ClientInput::Timer(ClientTimer::Answer { inv }) => self.answers(inv),
            ClientInput::Timer(ClientTimer::Read { chat }) => self.reads(chat),
            ClientInput::ChatIn { chat, tx, tid, chunk, replay, sender, body } => self.gets_send(chat, tx, tid, chunk, Some((replay, sender, body))),
        }
    }

    /// A message reaches it.
    fn arrival(&mut self, a: Arrival) {
        match a {
            Arrival::PfInviteAtCarol { inv, txn, no, delivery, roster } => self.gets_invite(inv, txn, no, (delivery, roster)),
            Arrival::CancelAtCarol { inv, txn } => self.gets_cancel(inv, txn),
            Arrival::PfAckAtCarol { inv } => {
                // The ACK of its 2xx to INVITE `inv` (the last one it accepted).
                let _ = inv;
                self.connect(self.answered_delivery)
            }
            Arrival::PfTryingAtCarol => self.gets_trying(),
            Arrival::PfRespAtCarol { code, txn, delivery, no, roster } => self.gets_response(code, txn, delivery, no, roster),
            Arrival::PfByeAtCarol { txn } => self.gets_bye(txn),
            // Without what its document says (a test feeding the bare arrival) it sends no IMDN.
            Arrival::PfSendAtCarol { chat, tx, tid, chunk, .. } => self.gets_send(chat, tx, tid, chunk, None),
            Arrival::NotifyAtCarol { txn, users } => self.gets_notify(txn, users),
            Arrival::UpdateAtCarol { upd, txn } => self.gets_update(upd, txn),
            _ => {}
        }
    }

    // ------------------------------------------------------------------ the outbox

    /// Sends a SIP message to `to`.
    fn sip(&mut self, to: Node, msg: SipMessage, clauses: Clauses, note: impl Into<Cow<'static, str>>, arrival: Option<Arrival>) {
        self.out.push(ClientOutput::Sip { to, msg, clauses, note: crate::trace::note_text(note), arrival: arrival.map(Box::new) });
    }

    /// Sends an MSRP message to her PF.
    // (With wire texts, the arrival is built in the caller's frame and moved once, into its box;
    // not inlined in the page's first wasm module, which has no wire text and counts bytes.)
    #[cfg_attr(feature = "wire-text", inline(always))]
    fn msrp(&mut self, raw: String, label: &'static str, clauses: Clauses, note: impl Into<Cow<'static, str>>, chat: Option<u32>, arrival: Option<Arrival>) {
        self.out.push(ClientOutput::Msrp { raw, label, clauses, note: crate::trace::note_text(note), chat, arrival: arrival.map(Box::new) });
    }

    /// A note of its own.
    fn note(&mut self, label: impl Into<Cow<'static, str>>, clauses: Clauses, note: impl Into<Cow<'static, str>>, chat: Option<u32>) {
        self.out.push(ClientOutput::Note { label: label.into(), clauses, note: crate::trace::note_text(note), chat });
    }

    /// Arms timer `t` for `ms`.
    fn arm(&mut self, t: ClientTimer, ms: u64) {
        let handle = self.reasons.add(t);
        self.armed.arm(handle, self.now + ms);
        self.out.push(ClientOutput::Arm { handle, timer: t, ms });
    }

    /// Whether policy `p` is set to `option`.
    fn policy(&self, p: PolicyId, option: &str) -> bool {
        self.cfg.policies.is(p, option)
    }

    /// A fresh number of its own.
    fn next_id(&mut self) -> u64 {
        self.ids.next()
    }

    /// (Her own MSRP path, the PF's) of the session it uses now: built once per pair of path
    /// numbers (every message to her needs them for its 200 OK).
    #[cfg(feature = "wire-text")]
    fn view(&mut self) -> (Arc<str>, Arc<str>) {
        let key = self.paths;
        match &self.view {
            Some((k, own, pf)) if *k == key => (own.clone(), pf.clone()),
            _ => {
                // (The PF's URI is the wire-text layer's, named through the trait.)
                let (own, pf): (Arc<str>, Arc<str>) = (self.carol_path_n(key.0).into(), Builder::pf_path_n(self, key.1).into());
                self.view = Some((key, own.clone(), pf.clone()));
                (own, pf)
            }
        }
    }

    /// Without wire texts the paths are empty (only the texts show them).
    #[cfg(not(feature = "wire-text"))]
    fn view(&mut self) -> (String, String) {
        (String::new(), String::new())
    }
}

/// Its BYE or leave is voluntary: a Reason `SIP;cause=200` and no other SIP cause (the CR's
/// voluntary leave, §8.3.2.9).
fn voluntary(reason: &Reason) -> bool {
    reason.as_ref().is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP") && r.cause == Some(200)) && !v.iter().any(|r| r.is("SIP") && r.cause != Some(200)))
}

/// The tag parameter of a From or To value (empty when none).
fn tag_of(h: &str) -> String {
    crate::strs::second(h, ";tag=").unwrap_or("").split(';').next().unwrap_or("").to_string()
}

/// The CSeq number of a CSeq value.
fn cseq_no(cseq: &str) -> u32 {
    cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1)
}

/// The client builds what it sends with its own ids and configuration.
impl Builder for Client {
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
    fn carol_ip(&self) -> &'static str {
        if self.me == Node::Tablet {
            crate::world::build::TABLET_IP
        } else {
            crate::world::build::CAROL_IP
        }
    }
}

impl Machine for Client {
    type Input = ClientInput;
    type Output = ClientOutput;
    type Timer = ClientTimer;

    fn handle(&mut self, now: Time, input: ClientInput) {
        self.now = now;
        if let ClientInput::Timer(t) = input {
            self.reasons.fired(&mut self.armed, now, t);
        }
        self.dispatch(input);
    }

    fn poll_output(&mut self, into: &mut Vec<ClientOutput>) {
        debug_assert!(into.is_empty());
        std::mem::swap(into, &mut self.out);
    }

    fn poll_timeout(&self) -> Option<(Time, ClientTimer)> {
        self.reasons.next(&self.armed)
    }
}
