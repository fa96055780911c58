//! The scripted part of a run: the group set-up, the scenario's events, and the delivery of
//! every message to its receiver ([`World::arrive`]); the S-CSCF's registrar and its 3rd-party
//! REGISTER (3GPP TS 24.229 §5.4.1.7). The actors' own code is in their machines: the IMS
//! core, the PF, the CF (focus), Carol's client and the members (src/ims/, src/pf/, src/cf/,
//! src/client/, src/members/).

use super::build::*;
use super::*;
use crate::scenario::EventKind;

pub(super) const SCENARIO: &str = "scenario";

impl World<'_> {
    pub(super) fn setup(&mut self) {
        match self.sc.setup {
            Setup::Established => {
                self.note(
                    Node::Cf,
                    StepKind::Info,
                    "established",
                    cl![SCENARIO],
                    "At t=0 Carol and the members are already in the CPM Group Session; Carol's PF relays her SIP and MSRP.",
                    None,
                );
                // Her client's view at t = 0 is the focus's roster (both start in the session).
                let r = self.cf.roster();
                self.snapshot("client", r);
                self.pf_input(crate::pf::PfInput::Start, None);
            }
            Setup::Full => self.client_input(crate::client::ClientInput::CreateGroup, None),
            Setup::CfInvites => self.cf_input(crate::cf::CfInput::Start),
        }
    }

    pub(super) fn scenario_event(&mut self, i: usize) {
        let kind = self.sc.events[i].kind.clone();
        match kind {
            EventKind::Message { from: Who::Member(m), text } => self.member_message(m, text),
            EventKind::Message { from: Who::Carol, text } => self.carol_message(text),
            EventKind::Bye { reason } => self.client_input(crate::client::ClientInput::Bye { reason }, None),
            EventKind::Leave { who: Who::Carol } => self.client_input(crate::client::ClientInput::Leave, None),
            EventKind::Leave { who: Who::Member(m) } => self.member_leave(m),
            EventKind::Join { member } => self.member_join(member),
            EventKind::Unreachable => {
                self.set_carol_reachable(false);
                self.carol_conn_breaks();
                self.note(
                    Node::Carol,
                    StepKind::Info,
                    "unreachable",
                    cl![SCENARIO],
                    "Carol's device drops off the network without sending BYE; requests towards her now get no answer.",
                    None,
                );
            }
            EventKind::MsrpLoss => {
                if self.carol.conn != Conn::Up {
                    self.note(
                        Node::Carol,
                        StepKind::Info,
                        "no MSRP connection",
                        cl![SCENARIO],
                        "There is no MSRP connection towards Carol to lose at this moment.",
                        None,
                    );
                    return;
                }
                self.carol_conn_breaks();
                self.note(
                    Node::Carol,
                    StepKind::Info,
                    "MSRP connection lost",
                    cl![SCENARIO],
                    "The TCP connection carrying MSRP between Carol's client and her PF breaks.",
                    None,
                );
                if self.policy(PolicyId::MsrpLossDetection, "tcp-reset") {
                    self.pf_input(crate::pf::PfInput::TcpReset, None);
                } else {
                    self.note(
                        Node::Pf,
                        StepKind::Info,
                        "not noticed yet",
                        cl!["policy:msrp-loss-detection"],
                        "Under the chosen detector the PF does not yet count the connection as lost (the CR's Editor's Note leaves this open).",
                        None,
                    );
                }
            }
            EventKind::MsrpSetupFails => {
                self.carol.setup_fails_next = true;
                self.note(
                    Node::Carol,
                    StepKind::Info,
                    "next MSRP set-up fails",
                    cl![SCENARIO],
                    "From now on, the next MSRP connection Carol's client tries to open will fail.",
                    None,
                );
            }
            EventKind::InviteRejected { status } => {
                self.client_input(crate::client::ClientInput::RejectNext(status), None);
                self.note(
                    Node::Carol,
                    StepKind::Info,
                    format!("next INVITE → {status}"),
                    cl![SCENARIO],
                    crate::trace::note_fmt!(
                        "The next INVITE towards Carol will be answered {status} {} (by her client or the P-CSCF).",
                        crate::wire::sip::reason_phrase(status)
                    ),
                    None,
                );
            }
            EventKind::Register { reaction_ms } => self.carol_register(reaction_ms),
            EventKind::Rejoin { ids } => self.carol_rejoin(ids),
            EventKind::Deregister => self.client_input(crate::client::ClientInput::Deregister, None),
            EventKind::GroupEnds => self.cf_input(crate::cf::CfInput::GroupEnds),
            EventKind::Tablet(t) => self.tablet_event(&t),
            EventKind::CfReinvite { subject } => self.cf_input(crate::cf::CfInput::InDialog { update: false, subject: subject.map(Arc::from) }),
            EventKind::CfUpdate => self.cf_input(crate::cf::CfInput::InDialog { update: true, subject: None }),
        }
    }

    pub(super) fn new_chat(&mut self, from: Who, text: String, for_carol: bool) -> u32 {
        self.new_chat_with(from, text, for_carol, None)
    }

    /// [`World::new_chat`] with the message's CPIM document when its sender already wrote it
    /// (a member's machine is given it with its user's text).
    pub(super) fn new_chat_with(&mut self, from: Who, text: String, for_carol: bool, cpim: Option<Arc<str>>) -> u32 {
        let id = self.chats.len() as u32;
        let imdn_id = base62(mix(0xC0FFEE ^ id as u64), 8);
        // The CPIM document only goes into wire texts (and the check that a transaction id does
        // not occur in it), so the fast path leaves it empty.
        let cpim: Arc<str> = match cpim {
            Some(doc) => doc,
            None if self.chat_texts() => self.cpim(from, &imdn_id, self.now, &text),
            None => self.no_text.clone(),
        };
        self.chats.push(Chat {
            id,
            from: self.who_lane(from),
            text,
            imdn_id,
            sent_ms: self.now,
            sent_step: self.steps.len() as u32,
            for_carol,
            stored_ms: None,
            stored_step: None,
            in_flight_ms: None,
            in_flight_step: None,
            delivered_ms: None,
            delivered_step: None,
            outcome: if for_carol { Outcome::Pending } else { Outcome::NotForCarol },
            removed_ms: None,
            removed_step: None,
            possible_duplicate: false,
            cpim,
        });
        id
    }

    /// A message `a` (recorded at `step`) arrives: each receiver handles its own arrivals (the
    /// machines: Carol's client, the members, the focus, the IMS core and the PF, each
    /// through their glue).
    // Boxed all the way to the receiver's glue, which moves out only the fields it uses (a
    // whole arrival moved at each call was a copy of 264 bytes per call).
    pub(super) fn arrive(&mut self, a: Box<Arrival>, step: u32) {
        match &*a {
            Arrival::AtCore(_) => {
                if let Arrival::AtCore(hop) = *a {
                    self.core_input(crate::ims::CoreInput::Message(hop))
                }
            }
            Arrival::MemberSendAtCf { .. }
            | Arrival::PfSendAtCf { .. }
            | Arrival::PfImdnAtCf { .. }
            | Arrival::BindAtCf { .. }
            | Arrival::PfInviteAtCf { .. }
            | Arrival::PfErrAtCf { .. }
            | Arrival::PfOkAtCf { .. }
            | Arrival::PfInDialogRespAtCf { .. }
            | Arrival::PfByeAtCf { .. }
            | Arrival::SubscribeAtCf { .. }
            | Arrival::MemberInviteAtCf { .. }
            | Arrival::MemberByeAtCf { .. }
            | Arrival::MemberOkAtCf { .. }
            | Arrival::MemberBindAtCf { .. } => self.cf_arrival(a, step),
            Arrival::CfSendAtMember { .. }
            | Arrival::CfImdnAtMember { .. }
            | Arrival::CfRespAtMember { .. }
            | Arrival::CfByeAtMember { .. }
            | Arrival::CfInviteAtMember { .. } => self.member_arrival(a, step),
            Arrival::PfInviteAtCarol { .. }
            | Arrival::CancelAtCarol { .. }
            | Arrival::PfAckAtCarol { .. }
            | Arrival::PfTryingAtCarol
            | Arrival::PfRespAtCarol { .. }
            | Arrival::PfByeAtCarol { .. }
            | Arrival::PfSendAtCarol { .. }
            | Arrival::NotifyAtCarol { .. }
            | Arrival::UpdateAtCarol { .. } => self.carol_arrival(*a, step),
            Arrival::RegisterAtScscf { .. } => self.scscf_arrival(*a, step),
            _ => self.pf_arrival(a, step),
        }
    }

    /// A message reaches the S-CSCF's registrar (Carol's REGISTER).
    pub(super) fn scscf_arrival(&mut self, a: Arrival, step: u32) {
        let Arrival::RegisterAtScscf { txn, reaction_ms, dereg } = a else { return };
        // Which of her devices registered (issue 11, Q15): the REGISTER came from its lane.
        let tablet = self.tablet.is_some() && *self.steps[step as usize].from == *"carol-tablet";
        let dev = if tablet { Node::Tablet } else { Node::Carol };
        let mut r = self.response(200, &txn, Some("scscf-1"));
        // RFC 3261 §10.3 step 8: the 200 lists the bindings that remain (none after Expires: 0).
        let (note, expires) = if dereg {
            ("The S-CSCF removes Carol's binding (Expires: 0): she is de-registered.", "0")
        } else {
            r.push("Contact", format!("{};expires=600000", self.contact(dev)));
            ("The S-CSCF registers Carol.", "600000")
        };
        self.sip(Node::Scscf, dev, &r, cl!["RFC 3261 §10.3"], note, None);
        let inner = self.steps[step as usize].raw.clone();
        let n = self.next(Node::Scscf);
        let mut m = self.new_request(
            "REGISTER",
            &format!("sip:{PF_HOST}"),
            Node::Scscf,
            format!("<sip:{SCSCF_HOST}>;tag=reg-{n:x}"),
            format!("<{CAROL}>"),
            &format!("3pr-{n:x}@{SCSCF_HOST}"),
            n as u32,
        );
        m.push("Contact", format!("<sip:{SCSCF_HOST}>"));
        m.push("Expires", expires);
        m.push("Content-Type", "message/sip");
        m.body = inner;
        let txn = Txn::of(&m);
        self.sip(
            Node::Scscf,
            Node::Pf,
            &m,
            cl!["3GPP TS 24.229 §5.4.1.7"],
            if dereg {
                "Because an initial Filter Criterion asks for it, the S-CSCF sends a 3rd-party REGISTER for Carol's de-registration (Expires: 0) to her PF."
            } else {
                "Because an initial Filter Criterion asks for it, the S-CSCF sends a 3rd-party REGISTER for Carol to her PF."
            },
            Some(Arrival::RegisterAtPf { txn, reaction_ms, dereg, tablet }),
        );
    }
}

pub(crate) const PF_HOST_URI: &str = "sip:pf.cpm.example.net;user=carol";
