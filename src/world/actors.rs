//! The scripted part of a run: the group set-up, the scenario's events, and the delivery of
//! every message to its receiver ([`World::arrive`]); the S-CSCF's registrar and its 3rd-party
//! REGISTER (3GPP TS 24.229 §5.4.1.7). The actors' own code: the CF (focus) in focus.rs, the
//! other members in member.rs; the IMS core, the PF and Carol's client are machines of their own
//! (src/ims/, src/pf/, src/client/).

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
                let r = self.roster_now();
                self.snapshot("client", r);
                self.pf_input(crate::pf::PfInput::Start, None);
            }
            Setup::Full => self.client_input(crate::client::ClientInput::CreateGroup, None),
            Setup::CfInvites => {
                let mut d = Dialog::cf_pf(0);
                d.b_tag.clear();
                let mut m = self.new_request("INVITE", CAROL, Node::Cf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id.clone(), 1);
                self.cpm_headers(&mut m, Node::Cf);
                m.push("Subject", SUBJECT);
                m.push("Referred-By", self.name_addr(Who::Member(0)));
                m.push("Content-Type", "application/sdp");
                m.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, self.cf_pf_path().to_string(), "actpass");
                let txn = Txn::of(&m);
                self.sip(
                    Node::Cf,
                    Node::Pf,
                    &m,
                    cl!["RFC 3261 §13.2.1"],
                    "The CF invites Carol to the running group session; the INVITE reaches her terminating PF.",
                    Some(Arrival::CfInviteAtPf { txn }),
                );
            }
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
                    format!(
                        "The next INVITE towards Carol will be answered {status} {} (by her client or the P-CSCF).",
                        crate::wire::sip::reason_phrase(status)
                    ),
                    None,
                );
            }
            EventKind::Register { reaction_ms } => self.carol_register(reaction_ms),
            EventKind::Rejoin => self.carol_rejoin(),
            EventKind::GroupEnds => self.group_ends(),
        }
    }

    pub(super) fn new_chat(&mut self, from: Who, text: String, for_carol: bool) -> u32 {
        let id = self.chats.len() as u32;
        let imdn_id = base62(mix(0xC0FFEE ^ id as u64), 8);
        // The CPIM document only goes into wire texts (and the check that a transaction id does
        // not occur in it), so the fast path leaves it empty.
        let cpim: Arc<str> = if self.wire() { self.cpim(from, &imdn_id, self.now, &text) } else { self.no_text.clone() };
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

    pub(super) fn group_ends(&mut self) {
        if self.cf.ended {
            self.note(Node::Cf, StepKind::Info, "already ended", cl![SCENARIO], "The group session has already ended.", None);
            return;
        }
        self.cf.ended = true;
        for m in 0..self.sc.members.len() {
            if self.member_in(m) {
                let mut d = self.cf.member_legs[m].clone().unwrap_or_else(|| Dialog::member_cf(m, 0));
                d.a_uri = format!("sip:{}@ims.example.net", self.sc.members[m].id);
                // To the member's Contact, its remote target (RFC 3261 §12.2.1.1).
                let target = format!("sip:{}@198.51.100.{}:5060;transport=tcp", self.sc.members[m].id, 21 + m);
                let mut req = self.dialog_request("BYE", &mut d, false, Node::Cf, &target);
                req.push("Reason", "SIP;cause=410;text=\"Gone\"");
                let txn = Txn::of(&req);
                self.sip(
                    Node::Cf,
                    Node::Member(m),
                    &req,
                    cl!["RFC 3261 §15.1.1"],
                    "The CF ends the group session for this member.",
                    Some(Arrival::CfByeAtMember { member: m, txn }),
                );
            }
        }
        for u in &mut self.cf.users {
            u.connected = false;
        }
        if self.cf.carol_admitted {
            if let Some(mut d) = self.cf.carol_leg.take() {
                // The focus is side A of a leg it set up itself (setup `cf_invites`), side B of one
                // the PF set up: its BYE carries its own tag in From (RFC 3261 §12.2.1.1).
                let from_a = d.a_uri == GROUP;
                let mut req = self.dialog_request("BYE", &mut d, from_a, Node::Cf, &format!("sip:{PF_HOST};user=carol"));
                req.push("Reason", "SIP;cause=410;text=\"Gone\"");
                let txn = Txn::of(&req);
                self.sip(
                    Node::Cf,
                    Node::Pf,
                    &req,
                    cl!["RFC 3261 §15.1.1"],
                    "The CF ends the group session on Carol's leg, which her PF holds.",
                    Some(Arrival::CfByeAtPf { txn }),
                );
            }
        }
        self.cf_ends_subscription("noresource", "The focus ends the PF's conference subscription because the conference is gone.");
    }

    /// A message `a` (recorded at `step`) arrives: each receiver handles its own arrivals (the
    /// focus in focus.rs, the members in member.rs; Carol's client, the IMS core and the PF
    /// through their glue).
    pub(super) fn arrive(&mut self, a: Arrival, step: u32) {
        match a {
            Arrival::AtCore(hop) => self.core_input(crate::ims::CoreInput::Message(hop)),
            a @ (Arrival::MemberSendAtCf { .. }
            | Arrival::PfSendAtCf { .. }
            | Arrival::BindAtCf { .. }
            | Arrival::PfInviteAtCf { .. }
            | Arrival::PfErrAtCf { .. }
            | Arrival::PfOkAtCf { .. }
            | Arrival::PfByeAtCf { .. }
            | Arrival::SubscribeAtCf { .. }
            | Arrival::MemberInviteAtCf { .. }
            | Arrival::MemberByeAtCf { .. }
            | Arrival::MemberOkAtCf { .. }
            | Arrival::MemberBindAtCf { .. }) => self.cf_arrival(a, step),
            a @ (Arrival::CfSendAtMember { .. } | Arrival::CfOkAtMember { .. } | Arrival::CfByeAtMember { .. } | Arrival::CfInviteAtMember { .. }) => {
                self.member_arrival(a, step)
            }
            a @ (Arrival::PfInviteAtCarol { .. }
            | Arrival::CancelAtCarol { .. }
            | Arrival::PfAckAtCarol { .. }
            | Arrival::PfTryingAtCarol
            | Arrival::PfRespAtCarol { .. }
            | Arrival::PfByeAtCarol { .. }
            | Arrival::PfSendAtCarol { .. }
            | Arrival::NotifyAtCarol { .. }
            | Arrival::UpdateAtCarol { .. }) => self.carol_arrival(a, step),
            a @ Arrival::RegisterAtScscf { .. } => self.scscf_arrival(a, step),
            other => self.pf_arrival(other, step),
        }
    }

    /// A message reaches the S-CSCF's registrar (Carol's REGISTER).
    pub(super) fn scscf_arrival(&mut self, a: Arrival, step: u32) {
        let Arrival::RegisterAtScscf { txn, reaction_ms } = a else { return };
        let mut r = self.response(200, &txn, Some("scscf-1"));
        r.push("Contact", format!("{};expires=600000", self.contact(Node::Carol)));
        self.sip(Node::Scscf, Node::Carol, &r, cl!["RFC 3261 §10.3"], "The S-CSCF registers Carol.", None);
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
        m.push("Expires", "600000");
        m.push("Content-Type", "message/sip");
        m.body = inner;
        let txn = Txn::of(&m);
        self.sip(
            Node::Scscf,
            Node::Pf,
            &m,
            cl!["3GPP TS 24.229 §5.4.1.7"],
            "Because an initial Filter Criterion asks for it, the S-CSCF sends a 3rd-party REGISTER for Carol to her PF.",
            Some(Arrival::RegisterAtPf { txn, reaction_ms }),
        );
    }
}

pub(crate) const PF_HOST_URI: &str = "sip:pf.cpm.example.net;user=carol";
