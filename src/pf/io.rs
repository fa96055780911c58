//! What the PF is fed ([`PfInput`]: one message, connection event or timer at a time) and what it
//! is drained of ([`PfOutput`]: messages to send, timers to arm or stop with their reason, its
//! decisions and notes, and the facts the world's recorder needs), in the shape of str0m's
//! `Rtc` and quinn-proto's `Connection` (docs: /work/shared/design/architecture.md, "sans-IO").
//!
//! The values are the engine's: a received SIP message is its [`Txn`] (the header values a
//! response or ACK copies, RFC 3261 §8.2.6.2) plus what its body said; a received MSRP SEND its
//! transaction id and CPIM body.

use super::PfTimer;
use crate::trace::{Clauses, Participant, PfState, StepKind};
use crate::wire::reason::ReasonValue;
use crate::wire::sip::SipMessage;
use crate::world::{Arrival, Node, Roster, Txn};
use std::borrow::Cow;
use std::sync::Arc;

/// One thing that reaches the PF.
#[derive(Debug, Clone)]
pub(crate) enum PfInput {
    /// The run starts (on an established session the PF arms its first refresh).
    Start,
    // --- MSRP received
    /// A SEND from the focus on Carol's leg (RFC 4975 §7.1.1), with its CPIM body.
    /// `chunk`: Q14, one chunk of it (RFC 4975 §5.1).
    FocusSend { chat: u32, tid: String, body: Arc<str>, chunk: Option<crate::world::ChunkAt>, sender: Arc<str> },
    /// An IMDN from Carol's client (RFC 5438 §7.1.1), to be relayed to the focus.
    CarolImdn { imdn: crate::world::ImdnMsg, tid: String },
    /// A SEND from Carol's client, with its CPIM body.
    CarolSend { chat: u32, tid: String, body: Arc<str> },
    /// Carol's 200 to the PF's SEND `tx`.
    CarolSendOk { tx: u32 },
    /// The empty SEND with which Carol's client binds a new MSRP connection (RFC 4975 §5.4).
    CarolBind { tid: String },
    // --- SIP received
    /// Carol's INVITE (`rejoin`: to the group's identity, not the factory; `no`: its offer's MSRP
    /// path number; `ids`: its Conversation-ID and Contribution-ID, Q20).
    CarolInvite { txn: Txn, rejoin: bool, no: u32, ids: Option<Box<(String, String)>> },
    /// Carol's CANCEL.
    CarolCancel { txn: Txn },
    /// Carol's ACK of the PF's 2xx.
    CarolAck,
    /// Carol's response to the PF's INVITE `inv`.
    CarolInviteResponse { inv: u32, code: u16, txn: Txn },
    /// Carol's BYE with its Reason header (RFC 3326), if any.
    CarolBye { txn: Txn, reason: Option<(String, Vec<ReasonValue>)> },
    /// Carol's SUBSCRIBE to the conference state.
    CarolSubscribe { txn: Txn },
    /// Carol's 200 to the PF's refresh UPDATE `upd`.
    CarolUpdateOk { upd: u32 },
    /// The focus's response to the INVITE the PF relayed.
    FocusResponse { code: u16, txn: Txn },
    /// The focus's ACK of the PF's 200.
    FocusAck,
    /// The focus's BYE on Carol's leg.
    FocusBye { txn: Txn },
    /// The focus's INVITE for Carol (set-up `cf_invites`).
    FocusInvite { txn: Txn },
    /// The focus's re-INVITE (`update`: UPDATE) on the PF's leg (digest Q16).
    FocusInDialog { txn: Txn, update: bool },
    /// A NOTIFY on the PF's conference subscription, with the participant information its body carries.
    FocusNotify { txn: Txn, terminated: Option<&'static str>, roster: Option<Roster> },
    /// The S-CSCF's 3rd-party REGISTER for Carol (3GPP TS 24.229 §5.4.1.7), with the PF's reaction delay.
    Register { txn: Txn, reaction_ms: u64, device: Node },
    /// The S-CSCF's 3rd-party REGISTER with `Expires: 0`: Carol de-registered (3GPP TS 24.229
    /// §5.4.1.7, RFC 3261 §10.2.2). Never "reachable again".
    Deregister { txn: Txn, device: Node },
    /// Carol's REFER to the group with `Refer-To: <her AOR>;method=BYE` from a device without a
    /// session of its own (issue 11, Q9; RFC 4579 §5.5, RFC 3515): she leaves from elsewhere.
    CarolRefer { txn: Txn },
    // --- connection events and timers
    /// The TCP connection of Carol's MSRP session was reset (the `tcp-reset` detector sees it).
    TcpReset,
    /// One of the PF's timers fired.
    Timer(PfTimer),
}

/// Which step a key-step title goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAt {
    /// The step the PF's last output recorded.
    Last,
    /// The step of the message being handled (its arrival).
    Input,
    /// The first step recorded after the last [`PfOutput::Mark`].
    Mark,
}

/// One thing the PF wants done or recorded. Outputs are executed in order; each carries the PF's
/// state and store length when it was emitted ([`PfEmit`]), for the trace's per-step snapshot.
#[derive(Debug)]
pub(crate) enum PfOutput {
    /// Send a SIP message to `to` (its arrival there is `arrival`).
    Sip { to: Node, msg: SipMessage, clauses: Clauses, note: Cow<'static, str>, arrival: Option<Box<Arrival>> },
    /// Send an MSRP message (its text; empty without wire texts).
    Msrp { to: Node, raw: String, label: &'static str, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32>, arrival: Option<Box<Arrival>> },
    /// A decision or note of the PF's own (an internal step on its lane).
    Note { kind: StepKind, label: Cow<'static, str>, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32> },
    /// Its state changed (§8.3.2.9's states), with why.
    State { state: PfState, clauses: Clauses, note: Cow<'static, str> },
    /// A key step of the story, with its title.
    Key { at: KeyAt, title: Cow<'static, str> },
    /// Remember where the next step will be (for [`KeyAt::Mark`]).
    Mark,
    /// Arm timer `handle` for `ms` with its reason.
    Arm { handle: u32, timer: PfTimer, ms: u64 },
    /// Stop timer `handle`.
    Stop { handle: u32 },
    /// The participant list it holds now (the trace's roster snapshot).
    Roster(Vec<Participant>),
    /// What happened to a chat message at its hands (the recorder's chat bookkeeping).
    Chat(ChatEvent),
    /// It considers Carol a participant entitled to the group's messages, or not.
    Entitled(bool),
    /// It gives up its MSRP connection with Carol's client (the TCP close reaches her end).
    CloseMsrpToCarol,
}

/// The chat bookkeeping the PF reports (docs/trace-contract.md, chats).
#[derive(Debug)]
pub(crate) enum ChatEvent {
    /// It stored `chat` (at the step recorded last).
    Stored(u32),
    /// Its replay SEND of `chat` left (at the step recorded last).
    InFlight(u32),
    /// Carol's 200 for `chat` reached it (at the input's step); `from_store`: a replayed one.
    Delivered { chat: u32, from_store: bool },
    /// It put `chat` back into its store (Q12 resend, at the step recorded last).
    Requeued(u32),
    /// It dropped `chat`: `purge` Some(voluntary) when it empties its store on leaving.
    Dropped { chat: u32, purge: Option<bool>, why: Cow<'static, str>, clauses: Clauses },
}

/// An output with the PF's state and store length when it was emitted.
#[derive(Debug)]
pub(crate) struct PfEmit {
    pub state: PfState,
    pub store: u32,
    pub out: PfOutput,
}
