//! Carol's Participating Function (OMA CPM §8.3.2.9 "Deferred CPM Group Session handling", as
//! amended by the CR, and under [`crate::Rules::PreCr`] the text before it), as a sans-IO
//! machine: fed one [`PfInput`] at a time ([`Pf::handle`]) and drained of [`PfOutput`]s
//! ([`Pf::poll_output`]) by the world (src/world/pf_glue.rs), which delivers what it sends after
//! the hop latency, runs its timers and records the trace.
//!
//! **The boundary.** The PF sees nothing but what reached it and its own configuration
//! ([`PfConfig`]: T1, the rules, the policies, the run's horizon). Its fields are visible only
//! inside `crate::pf`, so Carol's client, the focus, the members and the S-CSCF cannot read or
//! write its state; and nothing in `crate::pf` can read theirs: the world's actors and their
//! records (`World`, `Carol`, `Cf`, the trace's chats) are not named here, and
//! tests/pf_boundary.rs fails if src/pf/ names them. What the PF uses of `crate::world` is
//! message vocabulary only: [`Node`] (an address), `Txn`/`Dialog` (header values and its own
//! dialog records), `Arrival` (what a message it sends does on arrival), `Roster` (a NOTIFY's
//! participant information) and the wire-text [`crate::world::build::Builder`] over its own
//! [`crate::world::build::Ids`].

#[cfg(test)]
mod alone;
mod chunks;
mod client;
mod deferral;
mod dereg;
mod devices;
mod elsewhere;
mod emit;
mod focus;
mod handlers;
mod imdn;
mod in_dialog;
mod io;
mod open_questions;
mod q20;
mod relay;
mod subscription_fails;
mod timer;

/// The clause every deferral step cites.
const CL: &str = "8.3.2.9";
/// Behaviour that is our reading of §8.3.2.9, not its text (issue 11, defect 10;
/// docs/trace-contract.md "Citations"): case 2 applied to a new invitation from the focus, the
/// PF answering a re-join itself (path B), the replay in store order, and what the text before
/// the CR leaves the PF to do when its single trigger does not apply.
const READ: &str = "reading:8.3.2.9";
/// §8.2.2.3 ("Handle a SIP BYE Request"), whose text this project does not have: every step
/// that does what we take it to say cites this (issue 11, defect 10).
const READ_BYE: &str = "reading:8.2.2.3";

/// The Expires the PF asks for on its conference subscription (s).
const SUB_EXPIRES_S: u64 = 3600;
/// It refreshes that long before the subscription would expire (RFC 6665 §4.1.2.2 asks for a
/// refresh before expiry; how long before is the subscriber's choice).
const SUB_REFRESH_MARGIN_MS: u64 = 60_000;

pub(crate) use io::{ChatEvent, KeyAt, PfEmit, PfInput, PfOutput};
pub(crate) use timer::PfTimer;

use crate::machine::{Armed, Reasons};
use crate::policy::Policies;
use crate::trace::{Participant, PfState, Rules};
use crate::world::build::Ids;
use crate::world::{Dialog, Node, Roster, Txn};
use std::collections::VecDeque;
use std::sync::Arc;

/// The PF's configuration: what it is told, not what it sees.
#[derive(Debug, Clone)]
pub(crate) struct PfConfig {
    pub rules: Rules,
    pub policies: Policies,
    /// RFC 3261's T1 (ms).
    pub t1_ms: u64,
    /// The run's horizon (the time of the scenario's last event): it refreshes sessions only
    /// before it, so a run ends.
    pub horizon_ms: u64,
    /// The scenario's start (epoch ms), for conference-info times.
    pub epoch_ms: u64,
    /// Build wire texts.
    pub wire: bool,
    /// The members' user parts (the group's configuration).
    pub members: Vec<String>,
    /// Q14 (the scenario's `msrp_chunk_bytes`): a SEND to Carol whose body is longer goes in
    /// chunks of at most this many bytes (RFC 4975 §5.1); `None`: whole.
    pub chunk_bytes: Option<usize>,
    /// Carol has a second device, her tablet, registered at the start (issue 11, Q15).
    pub tablet: bool,
}

/// A SEND towards Carol that has no 200 yet.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    pub tx: u32,
    pub chat: u32,
    pub timer: u32,
    pub replay: bool,
    /// Its CPIM document (re-sent if it goes back to the store).
    pub body: Arc<str>,
    /// Q14: it goes in chunks; `tx` is the chunk in flight.
    pub chunks: Option<Chunking>,
}

/// A message on its way to Carol in chunks (RFC 4975 §5.1; src/pf/chunks.rs).
#[derive(Debug, Clone)]
pub(crate) struct Chunking {
    /// Its message number (what its `Message-ID` names).
    pub msg: u32,
    /// Its MSRP `Message-ID` (empty without wire texts).
    pub msg_id: String,
    /// The end (0-based, exclusive) of the bytes sent so far, the chunk in flight included.
    pub sent: usize,
    /// The end of the bytes Carol's client acknowledged (a 200 to each chunk up to there).
    pub acked: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvitePurpose {
    /// Forwarding the CF's invitation (setup `cf_invites`).
    ForwardCf,
    /// Deferred delivery, path A.
    Delivery,
}

pub(crate) struct PfInvite {
    pub id: u32,
    pub purpose: InvitePurpose,
    pub txn: Txn,
    pub timer_b: u32,
    pub answered: bool,
    pub cancelled: bool,
    pub dialog: Dialog,
    /// The participant list the INVITE carried (Q13 `in-session-setup`), if any.
    pub roster: Option<Vec<Participant>>,
    /// The number of the MSRP path its SDP offer carries.
    pub path_no: u32,
    /// A provisional response arrived (the transaction is in Proceeding, RFC 3261 §17.1.1.2).
    pub provisional: bool,
    /// The PF wants to cancel but has had no provisional response yet (RFC 3261 §9.1: wait).
    pub cancel_wanted: bool,
    /// Why it gave the INVITE up (when `cancelled`): the CANCEL's and a crossing 200's notes say so.
    pub gave_up: GiveUp,
    /// Policy q4-ringing-no-answer: the no-answer timer running since a provisional response.
    pub no_answer: Option<u32>,
    /// The device of Carol's it went to (her phone unless her tablet, issue 11, Q15).
    pub to: Node,
}

/// Why the PF gives its own delivery INVITE up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GiveUp {
    /// Q1 prefer-rejoin: Carol re-joined herself.
    Rejoin,
    /// The PF leaves the group for her (Q7 retention, Q5, …): it no longer has a leg to the focus.
    Leave,
    /// Q4: Carol's client rang and did not answer within the policy's time.
    NoAnswer,
    /// Q2 invite-answered: Carol re-joined before the PF had reacted (its INVITE unanswered), so
    /// path B holds and the PF withdraws its INVITE.
    Unreacted,
    /// Q20 new-session: Carol's INVITE with other session IDs is a new session, which the PF
    /// takes instead of its own INVITE.
    NewSession,
}

/// (Carol's path number, its own), its own MSRP path and Carol's, as built from them.
#[cfg(feature = "wire-text")]
type PathView = ((u32, u32), Arc<str>, Arc<str>);

/// Carol's Participating Function.
pub(crate) struct Pf {
    pub(in crate::pf) state: PfState,
    /// The stored messages, in order: (chat, CPIM document as the focus's SEND carried it).
    pub(in crate::pf) store: VecDeque<(u32, Arc<str>)>,
    pub(in crate::pf) in_flight: Vec<InFlight>,
    pub(in crate::pf) cf_leg: Option<Dialog>,
    /// Its MSRP connection on that leg is open: it opened and bound it (it is the
    /// `a=setup:active` side, RFC 4975 §5.4), or the run starts with the session established.
    pub(in crate::pf) cf_media: bool,
    pub(in crate::pf) client_leg: Option<Dialog>,
    pub(in crate::pf) sub: Option<Dialog>,
    /// Carol's conference subscription as the PF accepted it (RFC 6665 §4.2.1): it answers it
    /// itself from what it kept of the focus's NOTIFYs.
    pub(in crate::pf) client_sub: Option<Dialog>,
    /// The conference-info version of the last NOTIFY on `client_sub` (RFC 4575 §5.1: 1, 2, …).
    pub(in crate::pf) client_sub_version: u32,
    /// The participant information of the focus's last NOTIFY that carried one (RFC 4575 §4.2).
    pub(in crate::pf) roster: Option<Roster>,
    pub(in crate::pf) reaction_timer: Option<u32>,
    pub(in crate::pf) reacted: bool,
    pub(in crate::pf) invite: Option<PfInvite>,
    pub(in crate::pf) retention_timer: Option<u32>,
    pub(in crate::pf) refresh_timer: Option<u32>,
    /// The refresh of its conference subscription (RFC 6665 §4.1.2.2).
    pub(in crate::pf) sub_refresh_timer: Option<u32>,
    pub(in crate::pf) setup_timer: Option<u32>,
    pub(in crate::pf) retries: u32,
    pub(in crate::pf) close_after_flush: bool,
    pub(in crate::pf) delivery_session: bool,
    pub(in crate::pf) cf_invite: Option<Txn>,
    pub(in crate::pf) pending_rejoin: Option<Txn>,
    pub(in crate::pf) group_gone: bool,
    /// The MSRP paths (Carol's number, its own number) of the session the PF uses towards her.
    pub(in crate::pf) carol_paths: (u32, u32),
    /// [`Pf::pf_view`] of `carol_paths`, built once per pair of path numbers (every message
    /// to or from Carol needs them).
    #[cfg(feature = "wire-text")]
    pub(in crate::pf) view: Option<PathView>,
    /// The path number of the offer in Carol's last INVITE.
    pub(in crate::pf) rejoin_no: u32,
    /// Carol cancelled the INVITE the PF is relaying to the focus: a 200 from the focus is ACKed
    /// and its leg ended at once.
    pub(in crate::pf) relay_cancelled: bool,
    /// Policy still-registered: the timer after which it invites Carol although no REGISTER came.
    pub(in crate::pf) still_registered_timer: Option<u32>,
    /// Policy q18-subscription-fails: its conference subscription failed, so the roster it
    /// keeps may be out of date.
    pub(in crate::pf) roster_stale: bool,
    /// Policy q18-subscription-fails `retry-backoff`: the retries made since the last success.
    pub(in crate::pf) sub_retries: u8,
    /// Policy q18-subscription-fails `retry-backoff`: the timer of the next retry.
    pub(in crate::pf) sub_retry_timer: Option<u32>,
    /// Q14 `resume`: messages cut off mid-transfer that go on from the last acknowledged byte
    /// under the same Message-ID when they are sent again.
    pub(in crate::pf) resume: Vec<(u32, Chunking)>,
    /// The last message number given to a chunked message.
    pub(in crate::pf) msg_no: u32,
    /// Policy q20-other-contribution-id: the session [`Pf::path_b`] answers is a new session of
    /// Carol's (other session IDs), not the CR's re-join.
    pub(in crate::pf) q20_new_session: bool,
    // --- issue 11, Q15: Carol's devices (src/pf/devices.rs)
    /// The device its client leg is with (her phone unless a delivery went to her tablet).
    pub(in crate::pf) dev: Node,
    /// The device whose 3rd-party REGISTER came last (policy q15-which-device
    /// `registering-device`: the one path A invites).
    pub(in crate::pf) reg_dev: Node,
    /// Which of her devices are registered, as the 3rd-party REGISTERs told it: (phone, tablet).
    pub(in crate::pf) registered: (bool, bool),
    /// Policy q15-which-device `fork-all`: its parallel delivery INVITE to her other device.
    pub(in crate::pf) fork: Option<(Node, PfInvite)>,
    /// The dialogs (by Call-ID) it has with her tablet; any other is with her phone.
    pub(in crate::pf) tablet_calls: Vec<String>,
    /// The SDP it gave on its leg to the focus (its offer or answer; None on a leg the run
    /// started with): its answer to a refresh re-INVITE, unchanged (Q16, RFC 3264 §8).
    pub(in crate::pf) cf_sdp: Option<String>,
    /// It gave a final response to the focus's re-INVITE (Q16): the focus's next ACK is that
    /// transaction's, not the one that confirms a new leg.
    pub(in crate::pf) cf_ack_due: bool,
    // --- the machine
    pub(in crate::pf) cfg: PfConfig,
    /// Its own id source (tags, branches, MSRP ids, SDP sessions, path numbers).
    pub(in crate::pf) ids: Ids,
    /// The time of the input being handled.
    pub(in crate::pf) now: u64,
    /// The reason of each timer handle handed out so far, and the timers armed and not yet
    /// fired or stopped ([`Pf::poll_timeout`]).
    pub(in crate::pf) reasons: Reasons<PfTimer>,
    pub(in crate::pf) armed: Armed,
    /// What it wants done, in order (drained by [`Pf::poll_output`]).
    pub(in crate::pf) out: Vec<PfEmit>,
}

impl Pf {
    /// The PF at the start of a run: `Active` on an established session, `Idle` otherwise.
    pub(crate) fn new(initial: bool, cfg: PfConfig) -> Self {
        Pf {
            ids: Ids::new(1, "p", 0x8000),
            now: 0,
            reasons: Reasons::default(),
            armed: Armed::default(),
            out: Vec::with_capacity(16),
            state: if initial { PfState::Active } else { PfState::Idle },
            store: VecDeque::new(),
            in_flight: Vec::new(),
            cf_leg: if initial { Some(Dialog::pf_cf(0)) } else { None },
            cf_media: initial,
            client_leg: if initial { Some(Dialog { route: crate::world::build::PF_ROUTE.into(), ..Dialog::carol_pf(0) }) } else { None },
            sub: None,
            client_sub: None,
            client_sub_version: 0,
            roster: None,
            reaction_timer: None,
            reacted: false,
            invite: None,
            retention_timer: None,
            refresh_timer: None,
            sub_refresh_timer: None,
            setup_timer: None,
            retries: 0,
            close_after_flush: false,
            delivery_session: false,
            cf_invite: None,
            pending_rejoin: None,
            group_gone: false,
            carol_paths: (0, 0),
            #[cfg(feature = "wire-text")]
            view: None,
            rejoin_no: 0,
            relay_cancelled: false,
            still_registered_timer: None,
            roster_stale: false,
            sub_retries: 0,
            sub_retry_timer: None,
            resume: Vec::new(),
            msg_no: 0,
            q20_new_session: false,
            dev: Node::Carol,
            reg_dev: Node::Carol,
            registered: (true, cfg.tablet),
            fork: None,
            tablet_calls: Vec::new(),
            cfg,
            cf_sdp: None,
            cf_ack_due: false,
        }
    }

    /// Whether it builds wire texts (set before the run starts).
    pub(crate) fn cfg_wire(&mut self, wire: bool) {
        self.cfg.wire = wire;
    }

    /// Its state (§8.3.2.9's Active, Deferred, Delivering, …), for the trace's per-step snapshot.
    pub(crate) fn state(&self) -> PfState {
        self.state
    }

    /// How many messages its store holds, for the trace's per-step snapshot.
    pub(crate) fn store_len(&self) -> usize {
        self.store.len()
    }

    /// The SENDs towards Carol still unacknowledged, taken at the end of the run (the world
    /// records what became of them).
    pub(crate) fn take_in_flight(&mut self) -> Vec<InFlight> {
        std::mem::take(&mut self.in_flight)
    }

    /// The chats in its store, in order (read at the end of the run for the trace).
    pub(crate) fn stored(&self) -> impl Iterator<Item = u32> + '_ {
        self.store.iter().map(|(c, _)| *c)
    }
}
