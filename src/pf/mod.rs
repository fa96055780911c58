//! Carol's Participating Function (OMA CPM §8.3.2.9 "Deferred CPM Group Session handling", as
//! amended by the CR, and under [`crate::Rules::PreCr`] the text before it).
//!
//! The PF's state lives here, behind a privacy boundary: its fields are visible only inside
//! `crate::pf`, so Carol's client, the focus, the members and the S-CSCF (in `crate::world`)
//! cannot read or write it; what they know of the PF is what its messages told them. The world
//! reads it only to record the trace ([`Pf::state`], [`Pf::store_len`]). The PF's handlers
//! ([`handlers`], fed one arrival or timer at a time) are still methods of the world and read
//! some of the other actors' state; docs/notes list what remains before the PF is a sans-IO
//! machine of its own (issue 10, "What to build").

mod handlers;
mod timer;

pub(crate) use timer::PfTimer;

use crate::trace::{Participant, PfState};
use crate::world::{Dialog, Txn};
use std::collections::VecDeque;

/// A SEND towards Carol that has no 200 yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFlight {
    pub tx: u32,
    pub chat: u32,
    pub timer: u32,
    pub replay: bool,
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
}

/// Carol's Participating Function.
pub(crate) struct Pf {
    pub(in crate::pf) state: PfState,
    pub(in crate::pf) store: VecDeque<u32>,
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
    pub(in crate::pf) roster: Option<(u32, Vec<Participant>)>,
    pub(in crate::pf) reaction_timer: Option<u32>,
    pub(in crate::pf) reacted: bool,
    pub(in crate::pf) invite: Option<PfInvite>,
    pub(in crate::pf) retention_timer: Option<u32>,
    pub(in crate::pf) refresh_timer: Option<u32>,
    pub(in crate::pf) setup_timer: Option<u32>,
    pub(in crate::pf) retries: u32,
    pub(in crate::pf) close_after_flush: bool,
    pub(in crate::pf) delivery_session: bool,
    pub(in crate::pf) cf_invite: Option<Txn>,
    pub(in crate::pf) pending_rejoin: Option<Txn>,
    pub(in crate::pf) group_gone: bool,
    /// The MSRP paths (Carol's number, its own number) of the session the PF uses towards her.
    pub(in crate::pf) carol_paths: (u32, u32),
    /// The path number of the offer in Carol's last INVITE.
    pub(in crate::pf) rejoin_no: u32,
    /// Carol cancelled the INVITE the PF is relaying to the focus: a 200 from the focus is ACKed
    /// and its leg ended at once.
    pub(in crate::pf) relay_cancelled: bool,
}

impl Pf {
    /// The PF at the start of a run: `Active` on an established session, `Idle` otherwise.
    pub(crate) fn new(initial: bool) -> Self {
        Pf {
            state: if initial { PfState::Active } else { PfState::Idle },
            store: VecDeque::new(),
            in_flight: Vec::new(),
            cf_leg: if initial { Some(Dialog::pf_cf(0)) } else { None },
            cf_media: initial,
            client_leg: if initial { Some(Dialog { route: crate::world::ims::PF_ROUTE.into(), ..Dialog::carol_pf(0) }) } else { None },
            sub: None,
            client_sub: None,
            roster: None,
            reaction_timer: None,
            reacted: false,
            invite: None,
            retention_timer: None,
            refresh_timer: None,
            setup_timer: None,
            retries: 0,
            close_after_flush: false,
            delivery_session: false,
            cf_invite: None,
            pending_rejoin: None,
            group_gone: false,
            carol_paths: (0, 0),
            rejoin_no: 0,
            relay_cancelled: false,
        }
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
        self.store.iter().copied()
    }
}
