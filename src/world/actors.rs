//! Everyone but the PF: the group set-up, the scenario's events, Carol's client, the CF (focus),
//! the other members and the S-CSCF's 3rd-party REGISTER (3GPP TS 24.229 §5.4.1.7).

use super::build::*;
use super::*;
use crate::scenario::EventKind;

const SCENARIO: &str = "scenario";

impl World<'_> {
    // ------------------------------------------------------------------ set-up

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
            Setup::Full => {
                self.carol.session_no += 1;
                let mut d = Dialog::carol_pf(self.carol.session_no);
                d.b_tag.clear();
                let mut m =
                    self.new_request("INVITE", FACTORY, Node::Carol, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{FACTORY}>"), &d.call_id.clone(), 1);
                // Her outbound route: P-CSCF, then S-CSCF (3GPP TS 24.229 §5.1.2A.1.1).
                m.push("Route", super::ims::CAROL_ROUTE);
                self.cpm_headers(&mut m, Node::Carol);
                m.push("Require", "recipient-list-invite");
                m.push("Subject", SUBJECT);
                let no = self.new_path_no(Node::Carol);
                self.carol.offers.push((d.call_id.clone(), no));
                let sdp = self.sdp(Node::Carol, "carol", CAROL_IP, 9, self.carol_path_n(no), "active");
                let mut list = String::from(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n  <list>\r\n",
                );
                for (i, mem) in self.sc.members.iter().enumerate() {
                    if mem.in_group {
                        list.push_str(&format!("    <entry uri=\"sip:{}@ims.example.net\"/>\r\n", mem.id));
                        let _ = i;
                    }
                }
                list.push_str("  </list>\r\n</resource-lists>\r\n");
                let boundary = "cpm-boundary-rl01";
                m.push("Content-Type", format!("multipart/mixed;boundary={boundary}"));
                m.body = format!("--{boundary}\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--{boundary}\r\nContent-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n{list}\r\n--{boundary}--\r\n");
                let txn = Txn::of(&m);
                self.carol.in_dialog = true;
                self.carol.own_invite = Some(OwnInvite { txn: txn.clone(), ruri: FACTORY, provisional: false, leave: None, cancelled: false });
                self.sip(
                    Node::Carol,
                    Node::Pf,
                    &m,
                    cl!["RFC 3261 §13.2.1"],
                    "Carol's client creates the group: an INVITE to the conference factory with the invitees in a recipient list, routed to her PF.",
                    Some(Arrival::CarolInviteAtPf { txn, rejoin: false, no }),
                );
            }
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

    // ------------------------------------------------------------------ scenario events

    pub(super) fn scenario_event(&mut self, i: usize) {
        let kind = self.sc.events[i].kind.clone();
        match kind {
            EventKind::Message { from: Who::Member(m), text } => self.member_message(m, text),
            EventKind::Message { from: Who::Carol, text } => self.carol_message(text),
            EventKind::Bye { reason } => self.carol_bye(reason),
            EventKind::Leave { who: Who::Carol } => {
                if self.carol.in_dialog && self.carol.reachable {
                    let v = crate::wire::reason::ReasonValue::sip(200, "Call completed");
                    let raw = crate::wire::reason::emit(std::slice::from_ref(&v));
                    self.carol_bye(Some((raw, vec![v])));
                } else {
                    self.carol.entitled = false;
                    self.carol.left_idle = true;
                    self.note(Node::Carol, StepKind::Info, "leaves (offline)", cl![SCENARIO, "policy:q5-invite-error"], "Carol leaves the chat while she has no session; nothing reaches the network now, and her client will decline the next INVITE for this chat with 603 (RCS leave-while-idle rule).", None);
                }
            }
            EventKind::Leave { who: Who::Member(m) } => self.member_leave(m),
            EventKind::Join { member } => self.member_join(member),
            EventKind::Unreachable => {
                self.set_carol_reachable(false);
                if self.carol.conn == Conn::Up {
                    self.carol.conn = Conn::Broken;
                }
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
                self.carol.conn = Conn::Broken;
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
                self.carol.reject_next = Some(status);
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

    fn member_in(&self, m: usize) -> bool {
        self.cf.users.iter().any(|u| u.who == Who::Member(m) && u.connected)
    }

    fn new_chat(&mut self, from: Who, text: String, for_carol: bool) -> u32 {
        let id = self.chats.len() as u32;
        let imdn_id = base62(mix(0xC0FFEE ^ id as u64), 8);
        // The CPIM document only goes into wire texts (and the check that a transaction id does
        // not occur in it), so the fast path leaves it empty.
        let cpim: Arc<str> = if self.wire() { Arc::from(self.cpim(from, &imdn_id, self.now, &text)) } else { self.no_text.clone() };
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
        self.carol.received.push(false);
        id
    }

    fn member_message(&mut self, m: usize, text: String) {
        if self.cf.ended || !self.member_in(m) {
            let name = self.sc.members[m].id.clone();
            self.note(
                Node::Member(m),
                StepKind::Info,
                "not in session",
                cl![SCENARIO],
                format!("{name} is not in the group session, so nothing is sent."),
                None,
            );
            return;
        }
        let chat = self.new_chat(Who::Member(m), text, false);
        let body = self.chats[chat as usize].cpim.clone();
        let (to, from) = (self.cf_member_path(m), self.member_path(m));
        let (raw, tid) = self.send_text(Node::Member(m), &to, &from, Some(&body));
        self.msrp(
            Node::Member(m),
            Node::Cf,
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "A member sends a chat message (CPIM with IMDN headers) to the focus.",
            Some(chat),
            Some(Arrival::MemberSendAtCf { chat, member: m, tid }),
        );
    }

    fn carol_message(&mut self, text: String) {
        if !(self.carol.reachable && self.carol.conn == Conn::Up) {
            self.note(
                Node::Carol,
                StepKind::Info,
                "cannot send",
                cl![SCENARIO],
                "Carol's client has no working MSRP connection, so her message cannot leave the device.",
                None,
            );
            return;
        }
        let chat = self.new_chat(Who::Carol, text, false);
        let body = self.chats[chat as usize].cpim.clone();
        let (from, to) = self.carol_view();
        let (raw, tid) = self.send_text(Node::Carol, &to, &from, Some(&body));
        self.msrp(
            Node::Carol,
            Node::Pf,
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "Carol sends a chat message; her PF is the next MSRP hop.",
            Some(chat),
            Some(Arrival::CarolSendAtPf { chat, tid }),
        );
    }

    fn carol_bye(&mut self, reason: Option<(String, Vec<crate::wire::reason::ReasonValue>)>) {
        if self.carol.reachable && self.carol.own_invite.as_ref().is_some_and(|o| o.leave.is_none()) {
            return self.carol_leaves_during_setup(reason);
        }
        if !self.carol.in_dialog || !self.carol.reachable || self.carol.own_invite.is_some() {
            self.note(
                Node::Carol,
                StepKind::Info,
                "no session",
                cl![SCENARIO],
                "Carol's client has no session it could end with BYE (or cannot reach the network).",
                None,
            );
            return;
        }
        // Her own record of the dialog (the PF's Contact, GROUP, is the remote target either way).
        let mut d = self.carol.dialog.take().unwrap_or_else(|| Dialog::carol_pf(self.carol.session_no));
        let from_a = d.a_uri == CAROL;
        let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Carol, PF_TARGET);
        if let Some((raw, _)) = &reason {
            m.push("Reason", raw.clone());
        }
        let voluntary = reason
            .as_ref()
            .is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP") && r.cause == Some(200)) && !v.iter().any(|r| r.is("SIP") && r.cause != Some(200)));
        if voluntary {
            self.carol.entitled = false;
        }
        self.carol.in_dialog = false;
        self.carol.conn = Conn::None;
        let txn = Txn::of(&m);
        let note = match &reason {
            None => "Carol's client ends its session with a BYE that carries no Reason header.".to_string(),
            Some((raw, _)) => format!("Carol's client ends its session with BYE and Reason: {raw}."),
        };
        self.sip(Node::Carol, Node::Pf, &m, cl!["8.2.2.3", "RFC 3326 §2"], note, Some(Arrival::CarolByeAtPf { txn, reason }));
    }

    /// Carol leaves (or drops) while her own INVITE has no final response: no BYE outside a
    /// confirmed dialog (RFC 3261 §15); a CANCEL once a provisional response came (§9.1), and an
    /// ACK and BYE with her Reason if a 2xx comes all the same.
    fn carol_leaves_during_setup(&mut self, reason: Option<(String, Vec<crate::wire::reason::ReasonValue>)>) {
        let voluntary = reason
            .as_ref()
            .is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP") && r.cause == Some(200)) && !v.iter().any(|r| r.is("SIP") && r.cause != Some(200)));
        if voluntary {
            self.carol.entitled = false;
        }
        let Some(o) = self.carol.own_invite.as_mut() else { return };
        o.leave = Some(reason);
        if o.provisional {
            self.carol_cancels();
        } else {
            self.note(
                Node::Carol,
                StepKind::Info,
                "CANCEL waits for a 1xx",
                cl!["RFC 3261 §9.1"],
                "Carol's client wants out while its INVITE has no answer yet: no BYE before the dialog exists, and no CANCEL before a provisional response, so it waits.",
                None,
            );
        }
    }

    fn carol_cancels(&mut self) {
        let Some(o) = self.carol.own_invite.as_mut() else { return };
        o.cancelled = true;
        let c = Self::cancel_for(&o.txn, o.ruri);
        let txn = Txn::of(&c);
        self.sip(
            Node::Carol,
            Node::Pf,
            &c,
            cl!["RFC 3261 §9.1"],
            "Carol's client leaves before its INVITE was answered: it cancels the INVITE.",
            Some(Arrival::CarolCancelAtPf { txn }),
        );
    }

    fn carol_register(&mut self, reaction_ms: u64) {
        self.set_carol_reachable(true);
        if self.carol.conn == Conn::Broken {
            self.carol.conn = Conn::None;
            self.carol.in_dialog = false;
        }
        let n = self.next(Node::Carol);
        let mut m = self.new_request(
            "REGISTER",
            "sip:ims.example.net",
            Node::Carol,
            format!("<{CAROL}>;tag=reg-{n:x}"),
            format!("<{CAROL}>"),
            &format!("reg-{n:x}-c@{CAROL_IP}"),
            2 + n as u32,
        );
        m.push("Contact", format!("{};expires=600000", self.contact(Node::Carol)));
        m.push("Expires", "600000");
        let txn = Txn::of(&m);
        self.sip(
            Node::Carol,
            Node::Scscf,
            &m,
            cl!["RFC 3261 §10.2"],
            "Carol's device registers again (authentication not drawn).",
            Some(Arrival::RegisterAtScscf { txn, reaction_ms }),
        );
    }

    fn carol_rejoin(&mut self) {
        self.set_carol_reachable(true);
        if self.carol.in_dialog && self.carol.conn == Conn::Up {
            self.note(
                Node::Carol,
                StepKind::Info,
                "already in session",
                cl![SCENARIO],
                "Carol's client is still in the session, so it does not re-join.",
                None,
            );
            return;
        }
        self.carol.in_dialog = false;
        self.carol.conn = Conn::None;
        // She is a participant again only once her re-join is accepted (path B, or the focus
        // admitting her after a voluntary leave), not when her client sends it.
        self.carol.left_idle = false;
        self.carol.session_no += 1;
        let mut d = Dialog::carol_pf(self.carol.session_no);
        d.b_tag.clear();
        let mut m = self.new_request("INVITE", GROUP, Node::Carol, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{GROUP}>"), &d.call_id.clone(), 1);
        m.push("Route", super::ims::CAROL_ROUTE);
        self.cpm_headers(&mut m, Node::Carol);
        m.push("P-Preferred-Identity", format!("<{CAROL}>"));
        m.push("Content-Type", "application/sdp");
        let no = self.new_path_no(Node::Carol);
        self.carol.offers.push((d.call_id.clone(), no));
        m.body = self.sdp(Node::Carol, "carol", CAROL_IP, 9, self.carol_path_n(no), "active");
        let txn = Txn::of(&m);
        self.carol.own_invite = Some(OwnInvite { txn: txn.clone(), ruri: GROUP, provisional: false, leave: None, cancelled: false });
        self.sip(
            Node::Carol,
            Node::Pf,
            &m,
            cl!["8.3.2.9"],
            "Carol's client re-joins: an INVITE to the group session identity with the same Conversation-ID and Contribution-ID, routed to her PF.",
            Some(Arrival::CarolInviteAtPf { txn, rejoin: true, no }),
        );
    }

    fn member_join(&mut self, m: usize) {
        // A member the focus is inviting right now (it holds a leg, and the member never left)
        // answers that INVITE rather than sending one of its own.
        let being_invited = self.cf.member_legs[m].is_some() && !self.cf.users.iter().any(|u| u.who == Who::Member(m) && (u.connected || u.left_ms.is_some()));
        if self.cf.ended || self.member_in(m) || being_invited {
            self.note(Node::Member(m), StepKind::Info, "cannot join", cl![SCENARIO], "The member is already in the session, or the session has ended.", None);
            return;
        }
        let d = Dialog::member_cf(m, self.next(Node::Member(m)));
        let from = format!("{};tag={}", self.name_addr(Who::Member(m)), d.a_tag);
        let mut req = self.new_request("INVITE", GROUP, Node::Member(m), from, format!("<{GROUP}>"), &d.call_id, 1);
        self.cpm_headers(&mut req, Node::Member(m));
        req.push("Content-Type", "application/sdp");
        req.body = self.sdp(Node::Member(m), &self.sc.members[m].id.clone(), &format!("198.51.100.{}", 21 + m), 9, self.member_path(m).to_string(), "active");
        let txn = Txn::of(&req);
        self.cf.member_legs[m] = Some(d);
        self.sip(
            Node::Member(m),
            Node::Cf,
            &req,
            cl!["RFC 3261 §13.2.1"],
            "A new member joins the group session (roster change while Carol may be away).",
            Some(Arrival::MemberInviteAtCf { member: m, txn }),
        );
    }

    fn member_leave(&mut self, m: usize) {
        if self.cf.ended || !self.member_in(m) {
            self.note(
                Node::Member(m),
                StepKind::Info,
                "not in session",
                cl![SCENARIO],
                "The member is not in the group session, so there is nothing to leave.",
                None,
            );
            return;
        }
        let mut d = self.cf.member_legs[m].clone().unwrap_or_else(|| Dialog::member_cf(m, 0));
        d.a_uri = format!("sip:{}@ims.example.net", self.sc.members[m].id);
        let mut req = self.dialog_request("BYE", &mut d, true, Node::Member(m), GROUP);
        req.push("Reason", "SIP;cause=200;text=\"Call completed\"");
        let txn = Txn::of(&req);
        self.sip(
            Node::Member(m),
            Node::Cf,
            &req,
            cl!["RFC 3261 §15.1.1"],
            "A member leaves the group voluntarily.",
            Some(Arrival::MemberByeAtCf { member: m, txn }),
        );
    }

    fn group_ends(&mut self) {
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

    // ------------------------------------------------------------------ arrivals

    pub(super) fn arrive(&mut self, a: Arrival, step: u32) {
        match a {
            Arrival::AtCore(hop) => self.core_input(crate::ims::CoreInput::Message(hop)),
            Arrival::MemberSendAtCf { chat, member, tid } => {
                let (to, from) = (self.cf_member_path(member), self.member_path(member));
                let raw = self.ok_text(&tid, &to, &from);
                self.msrp(Node::Cf, Node::Member(member), raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus acknowledges the SEND hop by hop.", Some(chat), None);
                self.fanout(chat, Who::Member(member));
            }
            Arrival::PfSendAtCf { chat, tid } => {
                let raw = self.ok_text(&tid, self.cf_pf_path(), self.pf_cf_path());
                self.msrp(Node::Cf, Node::Pf, raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus acknowledges Carol's message.", Some(chat), None);
                self.fanout(chat, Who::Carol);
            }
            Arrival::CfSendAtMember { chat, member, tid } => {
                let raw = self.ok_text(&tid, &self.member_path(member), &self.cf_member_path(member));
                self.msrp(
                    Node::Member(member),
                    Node::Cf,
                    raw,
                    "200 OK",
                    cl!["RFC 4975 §7.2"],
                    "The member's client acknowledges the message.",
                    Some(chat),
                    None,
                );
            }
            Arrival::BindAtCf { tid } => {
                let raw = self.ok_text(&tid, self.cf_pf_path(), self.pf_cf_path());
                self.msrp(Node::Cf, Node::Pf, raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus binds the PF's MSRP connection to Carol's leg.", None, None);
                if self.cf.carol_admitted {
                    self.cf.carol_bound = true;
                    for chat in std::mem::take(&mut self.cf.carol_queue) {
                        self.cf_sends_to_pf(chat);
                    }
                }
            }
            Arrival::PfInviteAtCf { txn } => self.cf_gets_pf_invite(txn),
            Arrival::PfErrAtCf { txn } => {
                let to = format!("{};tag={}", txn.to, Dialog::cf_pf(0).b_tag);
                let mut ack = self.new_request("ACK", CAROL, Node::Cf, txn.from.clone(), to, &txn.call_id, 1);
                if let Some(v) = ack.headers.iter_mut().find(|(n, _)| n == "Via") {
                    v.1 = txn.via.clone();
                }
                self.sip(Node::Cf, Node::Pf, &ack, cl!["RFC 3261 §17.1.1.3"], "The focus acknowledges the failure response hop by hop.", None);
            }
            Arrival::PfOkAtCf { txn } => {
                // The dialog of its own INVITE, with the tag the PF's 200 carried.
                let d = Dialog::cf_pf(0);
                let ack = self.ack_or_cancel("ACK", &d, true, Node::Cf, &format!("sip:{PF_HOST};user=carol"));
                let _ = txn;
                self.cf.carol_leg = Some(d);
                self.sip(Node::Cf, Node::Pf, &ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms Carol's leg with ACK.", Some(Arrival::CfAckAtPf));
                self.cf.carol_admitted = true;
                self.cf.carol_bound = false;
                if let Some(u) = self.cf.users.iter_mut().find(|u| u.who == Who::Carol) {
                    u.connected = true;
                    u.left_ms = None;
                } else {
                    self.cf.users.insert(0, UserRec { who: Who::Carol, connected: true, dialed_in: false, left_ms: None, how_left: "" });
                }
                self.roster_changed();
            }
            Arrival::PfByeAtCf { txn, voluntary } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Cf, Node::Pf, &r, cl!["RFC 3261 §15.1.2"], "The focus accepts the BYE: Carol is no longer a participant.", None);
                self.cf.carol_admitted = false;
                self.cf.carol_leg = None;
                self.cf_leg_gone();
                if let Some(u) = self.cf.users.iter_mut().find(|u| u.who == Who::Carol) {
                    u.connected = false;
                    u.left_ms = Some(self.now);
                    u.how_left = if voluntary { "departed" } else { "failed" };
                }
                self.roster_changed();
            }
            Arrival::SubscribeAtCf { txn, expires } => {
                let r = self.response(200, &txn, Some("cfs-1"));
                let mut r = r;
                r.push("Expires", expires.to_string());
                r.push("Contact", self.contact(Node::Cf));
                let note = if expires == 0 { "The focus accepts the request to end the subscription." } else { "The focus accepts the subscription." };
                self.sip(Node::Cf, Node::Pf, &r, cl!["RFC 6665 §4.2.1"], note, None);
                if expires == 0 {
                    self.cf_ends_subscription("timeout", "The focus confirms the end of the subscription.");
                } else {
                    // The focus's own record of the subscription dialog (RFC 6665 §4.1.2.1).
                    let tag = |h: &str| h.split(";tag=").nth(1).unwrap_or("").to_string();
                    let cseq = txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1);
                    self.cf.sub = Some(Dialog {
                        call_id: txn.call_id.clone(),
                        a_uri: CAROL.into(),
                        a_tag: tag(&txn.from),
                        b_uri: GROUP.into(),
                        b_tag: "cfs-1".into(),
                        a_cseq: cseq,
                        b_cseq: 0,
                        route: String::new(),
                    });
                    self.cf.sub_version = 0;
                    self.send_notify_to_pf("The focus sends the full conference state at once (RFC 4575 §4.2).");
                }
            }
            Arrival::MemberInviteAtCf { member, txn } => {
                let tag = self.cf.member_legs[member].as_ref().map_or_else(|| format!("cfm{member}"), |d| d.b_tag.clone());
                let mut r = self.response(200, &txn, Some(&tag));
                r.push("Contact", self.contact(Node::Cf));
                r.push("Content-Type", "application/sdp");
                r.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, self.cf_member_path(member).to_string(), "passive");
                self.sip(
                    Node::Cf,
                    Node::Member(member),
                    &r,
                    cl!["RFC 3261 §13.3.1"],
                    "The focus admits the new member.",
                    Some(Arrival::CfOkAtMember { member }),
                );
            }
            Arrival::CfOkAtMember { member } => {
                if let Some(mut d) = self.cf.member_legs[member].clone() {
                    d.a_uri = format!("sip:{}@ims.example.net", self.sc.members[member].id);
                    let ack = self.ack_or_cancel("ACK", &d, true, Node::Member(member), GROUP);
                    self.sip(Node::Member(member), Node::Cf, &ack, cl!["RFC 3261 §13.2.2.4"], "The new member confirms with ACK.", None);
                }
                self.member_binds(member);
            }
            Arrival::MemberByeAtCf { member, txn } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Cf, Node::Member(member), &r, cl!["RFC 3261 §15.1.2"], "The focus accepts the member's BYE.", None);
                if let Some(u) = self.cf.users.iter_mut().find(|u| u.who == Who::Member(member)) {
                    u.connected = false;
                    u.left_ms = Some(self.now);
                    u.how_left = "departed";
                }
                self.roster_changed();
            }
            Arrival::CfByeAtMember { member, txn } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Member(member), Node::Cf, &r, cl!["RFC 3261 §15.1.2"], "The member's client accepts the end of the session.", None);
            }
            Arrival::RegisterAtScscf { txn, reaction_ms } => {
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
            Arrival::CfInviteAtMember { member, txn } => self.member_gets_cf_invite(member, txn),
            Arrival::MemberOkAtCf { member } => self.cf_gets_member_ok(member),
            Arrival::MemberBindAtCf { member, tid } => {
                let (to, from) = (self.cf_member_path(member), self.member_path(member));
                let raw = self.ok_text(&tid, &to, &from);
                self.msrp(
                    Node::Cf,
                    Node::Member(member),
                    raw,
                    "200 OK",
                    cl!["RFC 4975 §7.2"],
                    "The focus binds the member's MSRP connection to its leg.",
                    None,
                    None,
                );
                match self.cf.users.iter_mut().find(|u| u.who == Who::Member(member)) {
                    Some(u) => {
                        u.connected = true;
                        u.left_ms = None;
                    }
                    None => self.cf.users.push(UserRec { who: Who::Member(member), connected: true, dialed_in: true, left_ms: None, how_left: "" }),
                }
                self.roster_changed();
            }
            // Carol's client
            Arrival::PfInviteAtCarol { inv, txn, no, delivery, roster } => self.carol_gets_invite(inv, txn, no, (delivery, roster), step),
            Arrival::CancelAtCarol { inv, txn } => {
                if !self.carol.reachable {
                    self.drop_step(step);
                    return;
                }
                // `txn` is the CANCEL's own transaction (RFC 3261 §9.2); its To tag is the one of
                // her answers to the INVITE.
                let alerting = self.carol.answering == Some(inv);
                let tag = if alerting { self.carol.answering_tag.clone() } else { "c-487".to_string() };
                let r = self.response(200, &txn, Some(&tag));
                self.sip(Node::Carol, Node::Pf, &r, cl!["RFC 3261 §9.2"], "Carol's client accepts the CANCEL.", None);
                if alerting {
                    self.carol.answering = None;
                    // Her own copy of the INVITE she was alerting for (RFC 3261 §9.2).
                    if let Some(itx) = self.carol.answering_txn.take() {
                        {
                            let r = self.response(487, &itx, Some(&tag));
                            self.sip(
                                Node::Carol,
                                Node::Pf,
                                &r,
                                cl!["RFC 3261 §9.2"],
                                "The cancelled INVITE ends with 487 Request Terminated.",
                                Some(Arrival::CarolRespAtPf { inv, code: 487, txn: Txn::of(&r) }),
                            );
                        }
                    }
                }
            }
            Arrival::PfAckAtCarol { inv } => {
                let _ = inv;
                if !self.carol.reachable {
                    self.drop_step(step);
                    return;
                }
                self.carol_connect(self.carol.answered_delivery);
            }
            Arrival::PfTryingAtCarol => {
                let Some(o) = self.carol.own_invite.as_mut() else { return };
                o.provisional = true;
                if o.leave.is_some() && !o.cancelled {
                    self.carol_cancels();
                }
            }
            Arrival::PfRespAtCarol { code, txn, delivery, no, roster } => {
                if !self.carol.reachable {
                    self.drop_step(step);
                    return;
                }
                let own = self.carol.own_invite.take().filter(|o| o.txn.call_id == txn.call_id);
                let leave = own.as_ref().and_then(|o| o.leave.clone());
                if (200..300).contains(&code) {
                    // Her dialog as the 2xx establishes it (RFC 3261 §12.1.2): her tag, the PF's
                    // tag, the remote URI of her INVITE's To.
                    let tag_of = |h: &str| h.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
                    let remote = txn.to.split('<').nth(1).and_then(|r| r.split('>').next()).unwrap_or(GROUP).to_string();
                    let d = Dialog {
                        call_id: txn.call_id.clone(),
                        a_uri: CAROL.into(),
                        a_tag: tag_of(&txn.from),
                        b_uri: remote,
                        b_tag: tag_of(&txn.to),
                        a_cseq: txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
                        b_cseq: 0,
                        // The UAC's route set: the 2xx's Record-Route reversed (RFC 3261 §12.1.2).
                        route: route_set(txn.record_route.as_deref(), true),
                    };
                    self.carol.dialog = Some(d.clone());
                    let ack = self.ack_or_cancel("ACK", &d, true, Node::Carol, PF_TARGET);
                    self.carol.in_dialog = true;
                    let mine = self.carol.offers.iter().rev().find(|(c, _)| *c == txn.call_id).map_or(0, |(_, n)| *n);
                    self.carol.paths = (mine, no);
                    self.carol.live_call = txn.call_id.clone();
                    self.sip(
                        Node::Carol,
                        Node::Pf,
                        &ack,
                        cl!["RFC 3261 §13.2.2.4"],
                        "Carol's client confirms the session with ACK.",
                        Some(Arrival::CarolAckAtPf),
                    );
                    if delivery && self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup") {
                        if let Some(users) = roster {
                            self.snapshot("client", users);
                        }
                    }
                    if let Some(reason) = leave {
                        // She left meanwhile: confirm the dialog, then end it at once.
                        self.carol_bye(reason);
                        return;
                    }
                    self.carol_connect(delivery);
                } else {
                    // A failed INVITE creates no dialog and ends none (RFC 3261 §17.1.1.3).
                    let ruri = own.as_ref().map_or(GROUP, |o| o.ruri);
                    // Her INVITE's own Route (RFC 3261 §17.1.1.3), from her own transaction.
                    // (Every INVITE of hers carries her preloaded Route, also one she no longer tracks.)
                    let route = own.as_ref().map_or_else(|| Some(super::ims::CAROL_ROUTE.to_string()), |o| o.txn.route.clone());
                    let ack = Self::non2xx_ack(&Txn { route, ..txn.clone() }, ruri);
                    self.sip(Node::Carol, Node::Pf, &ack, cl!["RFC 3261 §17.1.1.3"], "Carol's client acknowledges the failure response.", None);
                    if own.is_some() && self.carol.dialog.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
                        self.carol.in_dialog = false;
                    }
                }
            }
            Arrival::PfByeAtCarol { txn } => {
                if !self.carol.reachable {
                    self.drop_step(step);
                    return;
                }
                let r = self.response(200, &txn, None);
                self.sip(Node::Carol, Node::Pf, &r, cl!["RFC 3261 §15.1.2"], "Carol's client accepts the BYE.", None);
                // A BYE on another dialog (a crossed session) leaves her current session alone.
                if txn.call_id == self.carol.live_call {
                    self.carol.dialog = None;
                    self.carol.in_dialog = false;
                    self.carol.conn = Conn::None;
                }
            }
            Arrival::PfSendAtCarol { chat, tx, tid } => {
                if !(self.carol.reachable && self.carol.conn == Conn::Up) {
                    self.drop_step(step);
                    return;
                }
                let dup = std::mem::replace(&mut self.carol.received[chat as usize], true);
                if dup {
                    self.note(
                        Node::Carol,
                        StepKind::Info,
                        format!("duplicate #{chat}"),
                        cl!["RFC 5438 §6.3", "policy:q12-in-flight-at-loss"],
                        "Carol's client already has this imdn.Message-ID and drops the copy.",
                        Some(chat),
                    );
                }
                let (own, peer) = self.carol_view();
                let raw = self.ok_text(&tid, &own, &peer);
                self.msrp(
                    Node::Carol,
                    Node::Pf,
                    raw,
                    "200 OK",
                    cl!["RFC 4975 §7.2"],
                    "Carol's client acknowledges the message.",
                    Some(chat),
                    Some(Arrival::CarolOkAtPf { tx }),
                );
            }
            Arrival::NotifyAtCarol { txn, users } => {
                if !self.carol.reachable {
                    self.drop_step(step);
                    return;
                }
                let r = self.response(200, &txn, None);
                self.sip(Node::Carol, Node::Pf, &r, cl!["RFC 6665 §4.1.3"], "Carol's client accepts the NOTIFY and now shows the latest participants.", None);
                if let Some(users) = users {
                    self.snapshot("client", users);
                }
            }
            Arrival::UpdateAtCarol { upd, txn } => {
                if !(self.carol.reachable && self.carol.in_dialog) {
                    self.drop_step(step);
                    return;
                }
                let r = self.response(200, &txn, None);
                self.sip(Node::Carol, Node::Pf, &r, cl!["RFC 4028 §9"], "Carol's client answers the session refresh.", Some(Arrival::UpdateOkAtPf { upd }));
            }
            // Carol's PF
            other => self.pf_arrival(other, step),
        }
    }

    /// Carol's client gets an INVITE from her PF.
    fn carol_gets_invite(&mut self, inv: u32, txn: Txn, no: u32, what: (bool, Option<Vec<Participant>>), step: u32) {
        if !self.carol.reachable {
            self.drop_step(step);
            return;
        }
        let code = if let Some(c) = self.carol.reject_next.take() {
            Some(c)
        } else if self.carol.left_idle {
            self.carol.left_idle = false;
            Some(603)
        } else {
            None
        };
        if let Some(code) = code {
            let r = self.response(code, &txn, Some("c-rej"));
            self.sip(
                Node::Carol,
                Node::Pf,
                &r,
                cl!["RFC 3261 §21"],
                format!("The INVITE towards Carol is answered {code} {}.", crate::wire::sip::reason_phrase(code)),
                Some(Arrival::CarolRespAtPf { inv, code, txn: Txn::of(&r) }),
            );
            return;
        }
        self.carol.answering = Some(inv);
        self.carol.answering_txn = Some(txn.clone());
        self.carol.answering_what = what;
        self.carol.answering_no = no;
        self.carol.answering_tag = format!("c-{:03x}", 0x901 + self.carol.session_no);
        self.start_timer(TimerKind::CarolAnswers { inv }, self.sc.answer_ms, "answer delay", "scenario", Node::Carol, false);
        if self.sc.answer_ms > 0 {
            // She is alerting: 180 Ringing (RFC 3261 §13.3.1.1), which moves the PF's INVITE
            // transaction to Proceeding (no Timer B any more, §17.1.1.2) and allows a CANCEL (§9.1).
            let tag = self.carol.answering_tag.clone();
            let mut r = self.response(180, &txn, Some(&tag));
            r.push("Contact", self.contact(Node::Carol));
            self.sip(
                Node::Carol,
                Node::Pf,
                &r,
                cl!["RFC 3261 §13.3.1.1"],
                format!("Carol's client is alerting; it will accept the invitation after {} ms (the scenario's answer_ms).", self.sc.answer_ms),
                Some(Arrival::CarolRespAtPf { inv, code: 180, txn: Txn::of(&r) }),
            );
        }
    }

    /// Carol's client answers an INVITE (if still reachable and not cancelled).
    pub(crate) fn carol_answers(&mut self, inv: u32) {
        if self.carol.answering != Some(inv) || !self.carol.reachable {
            return;
        }
        self.carol.answering = None;
        let Some(txn) = self.carol.answering_txn.take() else { return };
        // What the INVITE carried (a conference-info part under Q13 in-session-setup).
        let (delivery, roster) = std::mem::take(&mut self.carol.answering_what);
        self.carol.answered_delivery = delivery;
        self.carol.session_no += 1;
        self.carol.in_dialog = true;
        let tag = std::mem::take(&mut self.carol.answering_tag);
        let tag_of = |h: &str| h.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
        self.carol.dialog = Some(Dialog {
            call_id: txn.call_id.clone(),
            a_uri: GROUP.into(),
            a_tag: tag_of(&txn.from),
            b_uri: CAROL.into(),
            b_tag: tag.clone(),
            a_cseq: txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
            b_cseq: 0,
            // The UAS's route set: the INVITE's Record-Route as it is (RFC 3261 §12.1.1).
            route: route_set(txn.record_route.as_deref(), false),
        });
        let mut r = self.response(200, &txn, Some(&tag));
        r.push("Contact", self.contact(Node::Carol));
        r.push("Content-Type", "application/sdp");
        let no = self.carol.answering_no;
        self.carol.paths = (no, no);
        self.carol.live_call = txn.call_id.clone();
        r.body = self.sdp(Node::Carol, "carol", CAROL_IP, 9, self.carol_path_n(no), "active");
        self.sip(
            Node::Carol,
            Node::Pf,
            &r,
            cl!["RFC 3261 §13.3.1"],
            "Carol's client accepts the invitation (SDP answer, a=setup:active).",
            Some(Arrival::CarolRespAtPf { inv, code: 200, txn: Txn::of(&r) }),
        );
        // Q13 in-session-setup: the INVITE she accepted carried the conference state.
        if let (true, Some(users)) = (delivery, roster) {
            self.snapshot("client", users);
        }
    }

    /// After the SIP handshake Carol's client opens the MSRP connection (it is the active side,
    /// RFC 4145) and sends an empty SEND to bind it; on a delivery session it also subscribes to
    /// the conference state when the Q13 policy says so.
    fn carol_connect(&mut self, delivery: bool) {
        if self.carol.setup_fails_next {
            self.carol.setup_fails_next = false;
            self.carol.conn = Conn::None;
            self.note(
                Node::Carol,
                StepKind::Info,
                "MSRP set-up fails",
                cl![SCENARIO],
                "Carol's client cannot open the MSRP connection to her PF (TCP connect fails).",
                None,
            );
            return;
        }
        self.carol.conn = Conn::Up;
        let (from, to) = self.carol_view();
        let (raw, tid) = self.send_text(Node::Carol, &to, &from, None);
        self.msrp(
            Node::Carol,
            Node::Pf,
            raw,
            "SEND",
            cl!["RFC 4975 §5.4"],
            "Carol's client opens the MSRP connection and sends an empty SEND so the PF can bind it to the session.",
            None,
            Some(Arrival::BindAtPf { tid }),
        );
        if delivery && self.policy(PolicyId::Q13ParticipantInfo, "notify-after-subscribe") {
            let n = self.next(Node::Carol);
            let mut m = self.new_request(
                "SUBSCRIBE",
                GROUP,
                Node::Carol,
                format!("<{CAROL}>;tag=cs-{n:x}"),
                format!("<{GROUP}>"),
                &format!("csub-{n:x}@{CAROL_IP}"),
                1,
            );
            m.headers.insert(1, (Cow::Borrowed("Route"), super::ims::CAROL_ROUTE.to_string()));
            m.push("Contact", self.contact(Node::Carol));
            m.push("Event", "conference");
            m.push("Accept", "application/conference-info+xml");
            m.push("Expires", "3600");
            let txn = Txn::of(&m);
            self.carol.sub = Some(Dialog {
                call_id: format!("csub-{n:x}@{CAROL_IP}"),
                a_uri: CAROL.into(),
                a_tag: format!("cs-{n:x}"),
                b_uri: GROUP.into(),
                b_tag: "pfs-1".into(),
                a_cseq: 1,
                b_cseq: 0,
                // What the PF's 200 gives her (its Record-Route reversed): the same path as
                // her preloaded Route (RFC 3261 §12.1.2).
                route: super::ims::CAROL_ROUTE.into(),
            });
            self.sip(
                Node::Carol,
                Node::Pf,
                &m,
                cl!["RFC 4575 §3", "policy:q13-participant-info"],
                "Carol's client subscribes to the conference state of the group (its PF answers from its cache).",
                Some(Arrival::ClientSubscribeAtPf { txn }),
            );
        }
    }

    // ------------------------------------------------------------------ the CF

    /// The focus sends a chat message to every participant but its sender.
    fn fanout(&mut self, chat: u32, sender: Who) {
        if self.cf.ended {
            // A SEND that crossed the end of the conference: acknowledged, distributed to no one.
            return;
        }
        let body = self.chats[chat as usize].cpim.clone();
        for m in 0..self.sc.members.len() {
            if Who::Member(m) != sender && self.member_in(m) {
                let (to, from) = (self.member_path(m), self.cf_member_path(m));
                let (raw, tid) = self.send_text(Node::Cf, &to, &from, Some(&body));
                self.msrp(
                    Node::Cf,
                    Node::Member(m),
                    raw,
                    "SEND",
                    cl!["RFC 4975 §7.1.1"],
                    "The focus fans the message out to this participant.",
                    Some(chat),
                    Some(Arrival::CfSendAtMember { chat, member: m, tid }),
                );
            }
        }
        if sender == Who::Carol {
            return;
        }
        let for_carol = self.carol.entitled;
        self.chats[chat as usize].for_carol = for_carol;
        if !for_carol {
            self.chats[chat as usize].outcome = Outcome::NotForCarol;
        } else {
            self.chats[chat as usize].outcome = Outcome::Pending;
            // A trace statistic (the summary's sent_while_deferred), not what the focus knows.
            let live = self.pf.state() == PfState::Active && self.carol.conn == Conn::Up && self.carol.reachable;
            if !live {
                self.sent_while_deferred += 1;
            }
        }
        if self.cf.carol_admitted && !self.cf.carol_bound {
            // The PF (the a=setup:active side) has not opened and bound the MSRP connection of
            // the new leg yet: the focus keeps the message until it has (RFC 4975 §5.4).
            self.cf.carol_queue.push(chat);
        } else if self.cf.carol_admitted {
            self.cf_sends_to_pf(chat);
        } else if for_carol {
            let why = match self.rules {
                Rules::PreCr => "Lost: Carol's PF is not in the group session any more, so the focus has no leg to send this on for her (before the CR only a BYE with an involuntary Reason kept the PF in).",
                Rules::PostCr => "Lost: Carol's PF is not in the group session, so the focus has no leg to send this on for her.",
            };
            self.lose(chat, why, cl!["8.3.2.9"]);
            self.key_last(format!("Lost: message #{chat}, the focus has no leg for Carol"));
        }
    }

    /// Carol's leg ends or is replaced: its MSRP connection is not bound any more; what waited
    /// for it is lost for Carol.
    fn cf_leg_gone(&mut self) {
        self.cf.carol_bound = false;
        for chat in std::mem::take(&mut self.cf.carol_queue) {
            self.lose(chat, "Lost: Carol's leg at the focus ended before its MSRP connection was bound.", cl!["RFC 4975 §5.4"]);
        }
    }

    /// The focus sends `chat` on Carol's leg, to her PF.
    fn cf_sends_to_pf(&mut self, chat: u32) {
        let body = self.chats[chat as usize].cpim.clone();
        let (to, from) = (self.pf_cf_path(), self.cf_pf_path());
        let (raw, tid) = self.send_text(Node::Cf, to, from, Some(&body));
        self.msrp(
            Node::Cf,
            Node::Pf,
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "The focus sends the message on Carol's leg, which ends at her PF.",
            Some(chat),
            Some(Arrival::CfSendAtPf { chat, tid }),
        );
    }

    fn cf_gets_pf_invite(&mut self, txn: Txn) {
        if self.cf.ended {
            let r = self.response(404, &txn, Some("cf-404"));
            self.sip(
                Node::Cf,
                Node::Pf,
                &r,
                cl!["RFC 3261 §21.4.5"],
                "The group session no longer exists.",
                Some(Arrival::CfRespAtPf { code: 404, txn: Txn::of(&r) }),
            );
            return;
        }
        let mut d = Dialog::pf_cf(self.next(Node::Cf));
        let mut r = self.response(200, &txn, Some(&d.b_tag));
        // Its own record of the leg: the PF's side from the INVITE, its own tag (RFC 3261 §12.1.1).
        d.call_id = txn.call_id.clone();
        d.a_tag = txn.from.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
        d.a_cseq = txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1);
        self.cf.carol_leg = Some(d);
        r.push("Contact", self.contact(Node::Cf));
        r.push("Content-Type", "application/sdp");
        r.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, self.cf_pf_path().to_string(), "passive");
        self.cf.carol_admitted = true;
        self.cf_leg_gone();
        match self.cf.users.iter_mut().find(|u| u.who == Who::Carol) {
            Some(u) => {
                u.connected = true;
                u.left_ms = None;
            }
            None => self.cf.users.insert(0, UserRec { who: Who::Carol, connected: true, dialed_in: true, left_ms: None, how_left: "" }),
        }
        self.sip(
            Node::Cf,
            Node::Pf,
            &r,
            cl!["RFC 3261 §13.3.1"],
            "The focus admits Carol; its Contact carries the group session identity with isfocus.",
            Some(Arrival::CfRespAtPf { code: 200, txn: Txn::of(&r) }),
        );
        if self.sc.setup == Setup::Full && !self.cf.users.iter().any(|u| matches!(u.who, Who::Member(_)) && u.connected) {
            self.cf_invites_members();
        }
        self.roster_changed();
    }

    /// Full set-up: the focus invites the members of the recipient list.
    fn cf_invites_members(&mut self) {
        for m in 0..self.sc.members.len() {
            if !self.sc.members[m].in_group {
                continue;
            }
            // A member invited again gets a new dialog (a new Call-ID and tags, RFC 3261 §12.1).
            let n = if self.cf.member_legs[m].is_some() { self.next(Node::Cf) } else { 0 };
            let mut d = Dialog::member_cf(m, n);
            d.a_uri = format!("sip:{}@ims.example.net", self.sc.members[m].id);
            // The focus's INVITE used CSeq 1 on its side of this dialog (RFC 3261 §12.2.1.1).
            d.b_cseq = 1;
            let uri = d.a_uri.clone();
            let mut req = self.new_request("INVITE", &uri, Node::Cf, format!("<{GROUP}>;tag={}", d.b_tag), format!("<{uri}>"), &d.call_id.clone(), 1);
            self.cpm_headers(&mut req, Node::Cf);
            req.push("Referred-By", format!("<{CAROL}>"));
            req.push("Content-Type", "application/sdp");
            req.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, self.cf_member_path(m).to_string(), "actpass");
            let txn = Txn::of(&req);
            self.sip(
                Node::Cf,
                Node::Member(m),
                &req,
                cl!["RFC 3261 §13.2.1"],
                "The focus invites a member from Carol's recipient list.",
                Some(Arrival::CfInviteAtMember { member: m, txn }),
            );
            self.cf.member_legs[m] = Some(d);
        }
    }

    fn member_gets_cf_invite(&mut self, m: usize, txn: Txn) {
        let tag = self.cf.member_legs[m].as_ref().map(|d| d.a_tag.clone()).unwrap_or_default();
        let mut r = self.response(200, &txn, Some(&tag));
        r.push("Contact", self.contact(Node::Member(m)));
        r.push("Content-Type", "application/sdp");
        r.body = self.sdp(Node::Member(m), &self.sc.members[m].id.clone(), &format!("198.51.100.{}", 21 + m), 9, self.member_path(m).to_string(), "active");
        self.sip(
            Node::Member(m),
            Node::Cf,
            &r,
            cl!["RFC 3261 §13.3.1"],
            "The member accepts (auto-accept of a group chat).",
            Some(Arrival::MemberOkAtCf { member: m }),
        );
        self.member_binds(m);
    }

    /// Member `m` answered or offered `a=setup:active`, so it opens the MSRP connection to the
    /// focus and binds it with an empty SEND (RFC 4975 §5.4, RFC 6135); the focus counts it
    /// connected when that SEND arrives.
    fn member_binds(&mut self, m: usize) {
        let (to, from) = (self.cf_member_path(m), self.member_path(m));
        let (raw, tid) = self.send_text(Node::Member(m), &to, &from, None);
        self.msrp(
            Node::Member(m),
            Node::Cf,
            raw,
            "SEND",
            cl!["RFC 4975 §5.4", "RFC 6135"],
            "The member's client (the a=setup:active side) opens the MSRP connection to the focus and binds it with an empty SEND.",
            None,
            Some(Arrival::MemberBindAtCf { member: m, tid }),
        );
    }

    fn cf_gets_member_ok(&mut self, m: usize) {
        let Some(d) = self.cf.member_legs[m].clone() else { return };
        let uri = d.a_uri.clone();
        // The ACK goes to the member's Contact (RFC 3261 §12.2.1.1), not to its address of record.
        let target = format!("sip:{}@198.51.100.{}:5060;transport=tcp", self.sc.members[m].id, 21 + m);
        let ack = self.new_request("ACK", &target, Node::Cf, format!("<{GROUP}>;tag={}", d.b_tag), format!("<{uri}>;tag={}", d.a_tag), &d.call_id, 1);
        self.sip(Node::Cf, Node::Member(m), &ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms with ACK.", None);
    }

    /// The focus ends the PF's conference subscription with a final NOTIFY (RFC 6665 §4.2.2).
    fn cf_ends_subscription(&mut self, reason: &str, note: &'static str) {
        let Some(mut d) = self.cf.sub.take() else { return };
        let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Cf, &format!("sip:{PF_HOST};user=carol"));
        // Every NOTIFY carries Contact, the terminating one too (RFC 6665 §4.2.2, RFC 3261 §12.2.1.1).
        n.push("Contact", self.contact(Node::Cf));
        n.push("Event", "conference");
        n.push("Subscription-State", format!("terminated;reason={reason}"));
        let txn = Txn::of(&n);
        self.sip(Node::Cf, Node::Pf, &n, cl!["RFC 6665 §4.2.2"], note, Some(Arrival::NotifyAtPf { txn, terminated: true, roster: None }));
    }

    /// The roster changed: bump the version and notify the PF if it subscribed.
    pub(crate) fn roster_changed(&mut self) {
        self.cf.version += 1;
        if self.cf.sub.is_some() && !self.cf.ended {
            self.send_notify_to_pf("The focus reports the changed roster to the PF's subscription (RFC 4575 §4.2).");
        }
    }

    fn send_notify_to_pf(&mut self, note: &'static str) {
        let Some(mut d) = self.cf.sub.take() else { return };
        let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Cf, &format!("sip:{PF_HOST};user=carol"));
        self.cf.sub = Some(d);
        n.push("Contact", self.contact(Node::Cf));
        n.push("Event", "conference");
        n.push("Subscription-State", "active;expires=3600");
        n.push("Content-Type", "application/conference-info+xml");
        let users = self.roster_now();
        // The version counts the NOTIFYs of this subscription (RFC 4575 §5.1), not the focus's
        // changes since the start.
        self.cf.sub_version += 1;
        let version = self.cf.sub_version;
        let info = self.user_info(&users);
        if self.wire() {
            n.body = conference_info_xml(self.sc.start_epoch_ms, version, &users, &info);
        }
        let txn = Txn::of(&n);
        let roster = Some(Roster { version, users, info });
        self.sip(Node::Cf, Node::Pf, &n, cl!["8.2.2.6.2", "RFC 4575 §4.2"], note, Some(Arrival::NotifyAtPf { txn, terminated: false, roster }));
    }
}

pub(crate) const PF_HOST_URI: &str = "sip:pf.cpm.example.net;user=carol";
