//! The other members of the group: their messages, joins and leaves, and their clients'
//! answers to the focus.

use super::build::*;
use super::*;

use super::actors::SCENARIO;

impl World<'_> {
    /// What the member's code still reads of the focus's records (until the members are
    /// machines of their own): member `m` is a connected user.
    pub(super) fn member_in(&self, m: usize) -> bool {
        self.cf.member_connected(m)
    }

    pub(super) fn member_message(&mut self, m: usize, text: String) {
        if self.cf.ended() || !self.member_in(m) {
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

    pub(super) fn member_join(&mut self, m: usize) {
        // A member the focus is inviting right now (it holds a leg, and the member never left)
        // answers that INVITE rather than sending one of its own. Whether the group session
        // still exists is for the focus to say (a 404 to the INVITE).
        let being_invited = self.cf.member_being_invited(m);
        if self.member_in(m) || being_invited {
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
        self.sip(
            Node::Member(m),
            Node::Cf,
            &req,
            cl!["RFC 3261 §13.2.1"],
            "A new member joins the group session (roster change while Carol may be away).",
            Some(Arrival::MemberInviteAtCf { member: m, txn }),
        );
    }

    pub(super) fn member_leave(&mut self, m: usize) {
        if self.cf.ended() || !self.member_in(m) {
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
        let mut d = self.cf.member_leg(m).cloned().unwrap_or_else(|| Dialog::member_cf(m, 0));
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

    pub(super) fn member_gets_cf_invite(&mut self, m: usize, txn: Txn) {
        let tag = self.cf.member_leg(m).map(|d| d.a_tag.clone()).unwrap_or_default();
        let mut r = self.response(200, &txn, Some(&tag));
        r.push("Contact", self.contact(Node::Member(m)));
        r.push("Content-Type", "application/sdp");
        r.body = self.sdp(Node::Member(m), &self.sc.members[m].id.clone(), &format!("198.51.100.{}", 21 + m), 9, self.member_path(m).to_string(), "active");
        let rtxn = Txn::of(&r);
        self.sip(
            Node::Member(m),
            Node::Cf,
            &r,
            cl!["RFC 3261 §13.3.1"],
            "The member accepts (auto-accept of a group chat).",
            Some(Arrival::MemberOkAtCf { member: m, txn: rtxn }),
        );
        self.member_binds(m);
    }

    /// Member `m` answered or offered `a=setup:active`, so it opens the MSRP connection to the
    /// focus and binds it with an empty SEND (RFC 4975 §5.4, RFC 6135); the focus counts it
    /// connected when that SEND arrives.
    pub(super) fn member_binds(&mut self, m: usize) {
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

    /// A message `a` (recorded at `step`) reaches a member's client.
    pub(super) fn member_arrival(&mut self, a: Arrival, _step: u32) {
        match a {
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
            Arrival::CfOkAtMember { member } => {
                if let Some(mut d) = self.cf.member_leg(member).cloned() {
                    d.a_uri = format!("sip:{}@ims.example.net", self.sc.members[member].id);
                    let ack = self.ack_or_cancel("ACK", &d, true, Node::Member(member), GROUP);
                    self.sip(Node::Member(member), Node::Cf, &ack, cl!["RFC 3261 §13.2.2.4"], "The new member confirms with ACK.", None);
                }
                self.member_binds(member);
            }
            Arrival::CfByeAtMember { member, txn } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Member(member), Node::Cf, &r, cl!["RFC 3261 §15.1.2"], "The member's client accepts the end of the session.", None);
            }
            Arrival::CfInviteAtMember { member, txn } => self.member_gets_cf_invite(member, txn),
            _ => {}
        }
    }
}
