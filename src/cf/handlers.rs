//! What the focus does with each input: its legs with the members and with Carol's PF
//! (RFC 3261 §12, §13, §15), the fan-out of every chat message (RFC 4975 §7.1.1) and the
//! conference state it reports to the PF's subscription (RFC 4575 §4.2, RFC 6665 §4.2).

use super::*;
use crate::world::build::{conference_info_xml_about, UserInfo, CAROL, CF_IP, GROUP, PF_HOST, SUBJECT};
use crate::world::ChunkAt;
use crate::world::Roster;

/// The Subscription-State reasons the focus uses (RFC 6665 §4.2.2), as static text.
fn reason_str(r: &str) -> &'static str {
    match r {
        "noresource" => "noresource",
        "rejected" => "rejected",
        _ => "timeout",
    }
}

/// The PF's Contact (its remote target on Carol's leg and on the subscription).
pub(super) const PF_TARGET: &str = "sip:pf.cpm.example.net;user=carol";

impl Focus {
    pub(super) fn gets(&mut self, input: CfInput) {
        match input {
            CfInput::Start => self.start(),
            CfInput::GroupEnds => self.group_ends(),
            CfInput::MemberSend { chat, member, tid, body } => {
                let (from, to) = self.paths_of(member);
                let raw = self.ok_text(&tid, &to, &from);
                self.msrp(Node::Member(member), raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus acknowledges the SEND hop by hop.", Some(chat), None);
                self.fanout(chat, Who::Member(member), body);
            }
            CfInput::PfSend { chat, tid, body } => {
                let raw = self.ok_text(&tid, Builder::cf_pf_path(self), Builder::pf_cf_path(self));
                self.msrp(Node::Pf, raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus acknowledges Carol's message.", Some(chat), None);
                self.fanout(chat, Who::Carol, body);
            }
            CfInput::PfImdn { imdn, tid } => {
                let raw = self.ok_text(&tid, Builder::cf_pf_path(self), Builder::pf_cf_path(self));
                self.msrp(Node::Pf, raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus acknowledges the IMDN.", None, None);
                self.routes_imdn(imdn);
            }
            CfInput::PfBind { tid } => {
                let raw = self.ok_text(&tid, Builder::cf_pf_path(self), Builder::pf_cf_path(self));
                self.msrp(Node::Pf, raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus binds the PF's MSRP connection to Carol's leg.", None, None);
                if self.carol_admitted {
                    self.carol_bound = true;
                    let queue = std::mem::take(&mut self.carol_queue);
                    for (chat, body) in &queue {
                        self.sends_on_carols_leg(*chat, body);
                    }
                }
            }
            CfInput::PfInvite { txn } => self.gets_pf_invite(txn),
            CfInput::PfError { txn } => {
                // The ACK of a non-2xx final response is part of the INVITE transaction: the
                // INVITE's Via (same branch), and the To of the response, with its tag
                // (RFC 3261 §17.1.1.3).
                let mut ack = self.new_request("ACK", CAROL, Node::Cf, txn.from.clone(), txn.to.clone(), &txn.call_id, cseq_no(&txn.cseq));
                if let Some(v) = ack.headers.iter_mut().find(|(n, _)| n == "Via") {
                    v.1 = txn.via.clone();
                }
                self.sip(Node::Pf, ack, cl!["RFC 3261 §17.1.1.3"], "The focus acknowledges the failure response hop by hop.", None);
            }
            CfInput::PfOk { txn } => {
                // The dialog of its own INVITE, with the tag the PF's 200 carried (RFC 3261 §12.1.2).
                let mut d = Dialog::cf_pf(0);
                d.b_tag = tag_of(&txn.to).to_string();
                let ack = self.ack_or_cancel("ACK", &d, true, Node::Cf, PF_TARGET);
                self.carol_leg = Some(d);
                self.sip(Node::Pf, ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms Carol's leg with ACK.", Some(Arrival::CfAckAtPf));
                self.carol_admitted = true;
                self.carol_bound = false;
                self.user_joins(Who::Carol, false, true);
                self.roster_changed();
            }
            CfInput::PfBye { txn, voluntary } => {
                if self.carol_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
                    // The PF's BYE crossed the focus's own (the group ended), or names a leg
                    // the focus never held: no such dialog (RFC 3261 §12.2.2, §15.1.2).
                    let r = self.response(481, &txn, None);
                    self.sip(Node::Pf, r, cl!["RFC 3261 §15.1.2", "RFC 3261 §12.2.2"], "The focus holds no such leg for Carol any more.", None);
                    return;
                }
                let r = self.response(200, &txn, None);
                self.sip(Node::Pf, r, cl!["RFC 3261 §15.1.2"], "The focus accepts the BYE: Carol is no longer a participant.", None);
                self.carol_admitted = false;
                self.carol_leg = None;
                self.leg_gone();
                self.user_leaves(Who::Carol, if voluntary { "departed" } else { "failed" });
                self.roster_changed();
            }
            CfInput::Subscribe { txn, expires } => self.gets_subscribe(txn, expires),
            CfInput::InDialog { update, subject } => self.sends_in_dialog(update, subject),
            CfInput::PfInDialogResp { code, txn } => self.gets_in_dialog_response(code, txn),
            CfInput::MemberInvite { member, txn } => self.gets_member_invite(member, txn),
            CfInput::MemberBye { member, txn } => {
                if self.member_legs[member].as_ref().is_none_or(|d| d.call_id != txn.call_id) {
                    let r = self.response(481, &txn, None);
                    self.sip(Node::Member(member), r, cl!["RFC 3261 §15.1.2", "RFC 3261 §12.2.2"], "The focus holds no such leg with this member.", None);
                    return;
                }
                let r = self.response(200, &txn, None);
                self.sip(Node::Member(member), r, cl!["RFC 3261 §15.1.2"], "The focus accepts the member's BYE.", None);
                self.user_leaves(Who::Member(member), "departed");
                self.roster_changed();
            }
            CfInput::MemberOk { member, txn } => self.gets_member_ok(member, txn),
            CfInput::MemberBind { member, tid } => {
                let (from, to) = self.paths_of(member);
                let raw = self.ok_text(&tid, &to, &from);
                self.msrp(Node::Member(member), raw, "200 OK", cl!["RFC 4975 §7.2"], "The focus binds the member's MSRP connection to its leg.", None, None);
                self.user_joins(Who::Member(member), true, false);
                self.roster_changed();
            }
        }
    }

    /// The run starts: with setup `cf_invites` the focus invites Carol to the running group
    /// session; her terminating PF receives the INVITE (RFC 3261 §13.2.1).
    fn start(&mut self) {
        if self.cfg.setup != Setup::CfInvites {
            return;
        }
        let d = Dialog::cf_pf(0);
        let mut m = self.new_request("INVITE", CAROL, Node::Cf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id, 1);
        self.cpm_headers(&mut m, Node::Cf);
        m.push("Subject", SUBJECT);
        if let Some(first) = self.cfg.members.first() {
            m.push("Referred-By", format!("{} <sip:{}@ims.example.net>", crate::wire::sip::quote(&first.name), first.id));
        }
        m.push("Content-Type", "application/sdp");
        let path = Builder::cf_pf_path(self).to_string();
        m.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, path, "actpass");
        self.carol_sdp = Some(m.body.clone());
        let txn = Txn::of(&m);
        self.sip(
            Node::Pf,
            m,
            cl!["RFC 3261 §13.2.1"],
            "The CF invites Carol to the running group session; the INVITE reaches her terminating PF.",
            Some(Arrival::CfInviteAtPf { txn }),
        );
    }

    /// The focus sends a chat message to every participant but its sender; a member's message
    /// also goes on Carol's leg if the focus holds one (bound, or waiting for the binding).
    fn fanout(&mut self, chat: u32, sender: Who, body: Arc<str>) {
        if self.ended {
            // A SEND that crossed the end of the conference: acknowledged, distributed to no one.
            return;
        }
        for m in 0..self.cfg.members.len() {
            if Who::Member(m) != sender && self.member_connected(m) {
                let (to, from) = self.paths_of(m);
                let (raw, tid) = self.send_text(Node::Cf, &to, &from, Some(&body));
                self.msrp(
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
        self.chat(CfChat::Distributed(chat));
        if self.carol_admitted && !self.carol_bound {
            // The PF (the a=setup:active side) has not opened and bound the MSRP connection of
            // the new leg yet: the focus keeps the message until it has (RFC 4975 §5.4).
            self.carol_queue.push((chat, body));
        } else if self.carol_admitted {
            self.sends_on_carols_leg(chat, &body);
        } else {
            self.chat(CfChat::NoLegForCarol(chat));
        }
    }

    /// An IMDN goes to the participant its CPIM `To` names, the original sender (RFC 5438
    /// §7.1.1), on that member's MSRP session; one whose sender is not connected goes nowhere.
    fn routes_imdn(&mut self, imdn: crate::world::ImdnMsg) {
        let to = self.cfg.members.iter().position(|m| *m.id == *imdn.to).filter(|m| self.member_connected(*m) && !self.ended);
        let Some(m) = to else {
            self.note(
                StepKind::Info,
                "IMDN not routed",
                cl!["RFC 5438 §7.1.1"],
                "The IMDN's CPIM To names no participant connected now, so the focus has no session to route it on.",
            );
            return;
        };
        let (to, from) = self.paths_of(m);
        let (raw, tid) = self.send_text_known(Node::Cf, &to, &from, &imdn.body, imdn.dash_run);
        self.msrp(
            Node::Member(m),
            raw,
            "SEND",
            cl!["RFC 5438 §7.1.1", "RFC 4975 §7.1.1"],
            "The focus routes the IMDN by its CPIM To to the original sender's MSRP session.",
            None,
            Some(Arrival::CfImdnAtMember { member: m, imdn, tid }),
        );
    }

    /// Carol's leg ends or is replaced: its MSRP connection is not bound any more; what waited
    /// for it goes nowhere.
    pub(super) fn leg_gone(&mut self) {
        self.carol_bound = false;
        let queue = std::mem::take(&mut self.carol_queue);
        for (chat, _) in &queue {
            self.chat(CfChat::LegEndedUnbound(*chat));
        }
    }

    /// The focus sends `chat` on Carol's leg, which ends at her PF.
    fn sends_on_carols_leg(&mut self, chat: u32, body: &Arc<str>) {
        let (to, from) = (Builder::pf_cf_path(self), Builder::cf_pf_path(self));
        if let Some(size) = self.cfg.chunk_bytes.filter(|c| cfg!(feature = "chunks") && body.len() > *c) {
            // Q14: in chunks (RFC 4975 §5.1, §7.1.1), all at once: a sender need not wait for
            // the 200 to one chunk before the next; this leg is never cut in a scenario.
            let id = self.msrp_message_id(Node::Cf);
            let mut start = 0;
            while start < body.len() {
                let end = crate::wire::msrp::chunk_end(body, start, size);
                let (raw, tid) = self.chunk_text(Node::Cf, to, from, &id, body, start..end);
                let chunk = ChunkAt { msg: chat, start: start as u32, end: end as u32, total: body.len() as u32 };
                let note = crate::trace::note_fmt!(
                    "The focus sends the message on Carol's leg, which ends at her PF, in chunks: bytes {}-{end} of {} (end-line flag {}).",
                    start + 1,
                    body.len(),
                    if chunk.last() { "$" } else { "+" }
                );
                self.msrp(
                    Node::Pf,
                    raw,
                    "SEND",
                    cl!["RFC 4975 §5.1", "RFC 4975 §7.1.1"],
                    note,
                    Some(chat),
                    Some(Arrival::CfSendAtPf { chat, tid, chunk: Some(chunk) }),
                );
                start = end;
            }
            return;
        }
        let (raw, tid) = self.send_text(Node::Cf, to, from, Some(body));
        self.msrp(
            Node::Pf,
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "The focus sends the message on Carol's leg, which ends at her PF.",
            Some(chat),
            Some(Arrival::CfSendAtPf { chat, tid, chunk: None }),
        );
    }

    /// `who` is a connected user now (`dialed_in` if the focus did not invite it).
    fn user_joins(&mut self, who: Who, dialed_in: bool, first: bool) {
        match self.users.iter_mut().find(|u| u.who == who) {
            Some(u) => {
                u.connected = true;
                u.left_ms = None;
            }
            None => {
                let u = User { who, connected: true, dialed_in, left_ms: None, how_left: "" };
                if first {
                    self.users.insert(0, u);
                } else {
                    self.users.push(u);
                }
            }
        }
    }

    /// `who` left the conference now, by `how` (RFC 4575 §5.6.1 disconnection-method).
    pub(super) fn user_leaves(&mut self, who: Who, how: &'static str) {
        let now = self.now;
        if let Some(u) = self.users.iter_mut().find(|u| u.who == who) {
            u.connected = false;
            u.left_ms = Some(now);
            u.how_left = how;
        }
    }

    fn gets_pf_invite(&mut self, txn: Txn) {
        if self.ended {
            let r = self.response(404, &txn, Some("cf-404"));
            let rtxn = Txn::of(&r);
            self.sip(Node::Pf, r, cl!["RFC 3261 §21.4.5"], "The group session no longer exists.", Some(Arrival::CfRespAtPf { code: 404, txn: rtxn }));
            return;
        }
        let n = self.ids.next();
        let mut d = Dialog::pf_cf(n);
        let mut r = self.response(200, &txn, Some(&d.b_tag));
        // Its own record of the leg: the PF's side from the INVITE, its own tag (RFC 3261 §12.1.1).
        d.call_id = txn.call_id.clone();
        d.a_tag = tag_of(&txn.from).to_string();
        d.a_cseq = cseq_no(&txn.cseq);
        self.carol_leg = Some(d);
        r.push("Contact", self.contact(Node::Cf));
        r.push("Content-Type", "application/sdp");
        let path = Builder::cf_pf_path(self).to_string();
        r.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, path, "passive");
        self.carol_sdp = Some(r.body.clone());
        self.in_dialog = None;
        self.carol_admitted = true;
        self.leg_gone();
        self.user_joins(Who::Carol, true, true);
        let rtxn = Txn::of(&r);
        self.sip(
            Node::Pf,
            r,
            cl!["RFC 3261 §13.3.1"],
            "The focus admits Carol; its Contact carries the group session identity with isfocus.",
            Some(Arrival::CfRespAtPf { code: 200, txn: rtxn }),
        );
        if self.cfg.setup == Setup::Full && !self.users.iter().any(|u| matches!(u.who, Who::Member(_)) && u.connected) {
            self.invites_members();
        }
        self.roster_changed();
    }

    /// Full set-up: the focus invites the members of the recipient list (its configuration: the
    /// members in the group at t = 0, the list Carol's INVITE carried).
    fn invites_members(&mut self) {
        for m in 0..self.cfg.members.len() {
            if !self.cfg.members[m].in_group {
                continue;
            }
            // A member invited again gets a new dialog (a new Call-ID and tags, RFC 3261 §12.1).
            let n = if self.member_legs[m].is_some() { self.ids.next() } else { 0 };
            let mut d = Dialog::member_cf(m, n);
            d.a_uri = format!("sip:{}@ims.example.net", self.cfg.members[m].id);
            // The focus's INVITE used CSeq 1 on its side of this dialog (RFC 3261 §12.2.1.1).
            d.b_cseq = 1;
            let mut req = self.new_request("INVITE", &d.a_uri, Node::Cf, format!("<{GROUP}>;tag={}", d.b_tag), format!("<{}>", d.a_uri), &d.call_id, 1);
            self.cpm_headers(&mut req, Node::Cf);
            req.push("Referred-By", format!("<{CAROL}>"));
            req.push("Content-Type", "application/sdp");
            let path = self.paths_of(m).1.to_string();
            req.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, path, "actpass");
            let txn = Txn::of(&req);
            self.sip(
                Node::Member(m),
                req,
                cl!["RFC 3261 §13.2.1"],
                "The focus invites a member from Carol's recipient list.",
                Some(Arrival::CfInviteAtMember { member: m, txn }),
            );
            self.member_legs[m] = Some(d);
        }
    }

    /// A member's 200 to the focus's INVITE: the member's tag from its To (RFC 3261 §12.1.2),
    /// and the ACK to its Contact (§12.2.1.1, §13.2.2.4).
    fn gets_member_ok(&mut self, m: usize, txn: Txn) {
        let Some(d) = self.member_legs[m].as_mut() else { return };
        let tag = tag_of(&txn.to);
        if !tag.is_empty() {
            d.a_tag = tag.to_string();
        }
        let d = d.clone();
        let target = format!("sip:{}@198.51.100.{}:5060;transport=tcp", self.cfg.members[m].id, 21 + m);
        let ack = self.new_request("ACK", &target, Node::Cf, format!("<{GROUP}>;tag={}", d.b_tag), format!("<{}>;tag={}", d.a_uri, d.a_tag), &d.call_id, 1);
        self.sip(Node::Member(m), ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms with ACK.", None);
    }

    /// A member's INVITE to join: admitted with a leg of the focus's own (its record from the
    /// INVITE, its own To tag, RFC 3261 §12.1.1), or 404 once the group session is gone
    /// (RFC 3261 §21.4.5: the conference URI names no resource any more).
    fn gets_member_invite(&mut self, member: usize, txn: Txn) {
        if self.ended {
            let r = self.response(404, &txn, Some("cf-404"));
            let rtxn = Txn::of(&r);
            self.sip(
                Node::Member(member),
                r,
                cl!["RFC 3261 §21.4.5"],
                "The group session no longer exists: the focus rejects the join.",
                Some(Arrival::CfRespAtMember { member, code: 404, txn: rtxn }),
            );
            return;
        }
        self.member_tags[member] += 1;
        let b_tag = format!("cfm{member}-j{}", self.member_tags[member]);
        self.member_legs[member] = Some(Dialog {
            call_id: txn.call_id.clone(),
            a_uri: format!("sip:{}@ims.example.net", self.cfg.members[member].id),
            a_tag: tag_of(&txn.from).to_string(),
            b_uri: GROUP.into(),
            b_tag: b_tag.clone(),
            a_cseq: cseq_no(&txn.cseq),
            b_cseq: 0,
            route: String::new(),
        });
        let mut r = self.response(200, &txn, Some(&b_tag));
        r.push("Contact", self.contact(Node::Cf));
        r.push("Content-Type", "application/sdp");
        let path = self.paths_of(member).1.to_string();
        r.body = self.sdp(Node::Cf, "cf", CF_IP, 30000, path, "passive");
        let rtxn = Txn::of(&r);
        self.sip(
            Node::Member(member),
            r,
            cl!["RFC 3261 §13.3.1"],
            "The focus admits the new member.",
            Some(Arrival::CfRespAtMember { member, code: 200, txn: rtxn }),
        );
    }

    fn gets_subscribe(&mut self, txn: Txn, expires: u32) {
        if let (Some(how), true) = (self.refusing(), expires > 0) {
            self.refuses_subscribe(how, &txn);
            return;
        }
        let mut r = self.response(200, &txn, Some("cfs-1"));
        r.push("Expires", expires.to_string());
        r.push("Contact", self.contact(Node::Cf));
        // A SUBSCRIBE inside the dialog of the subscription it holds refreshes that
        // subscription (RFC 6665 §4.1.2.2, §4.2.1.1): same dialog, so its NOTIFY CSeq goes
        // on, and so does the conference-info version (RFC 4575 §4.1).
        let cseq = cseq_no(&txn.cseq);
        let refresh = crate::strs::contains(&txn.to, ";tag=") && self.sub.as_ref().is_some_and(|d| d.call_id == txn.call_id);
        let note = match (expires, refresh) {
            (0, _) => "The focus accepts the request to end the subscription.",
            (_, true) => "The focus accepts the refresh of the subscription.",
            _ => "The focus accepts the subscription.",
        };
        self.sip(Node::Pf, r, cl!["RFC 6665 §4.2.1"], note, None);
        if let (true, Some(d)) = (refresh, self.sub.as_mut()) {
            d.a_cseq = cseq;
        }
        if expires == 0 {
            self.ends_subscription("timeout", "The focus confirms the end of the subscription.");
        } else if refresh {
            // The current state at once on a refresh too (RFC 6665 §4.2.1.1).
            self.notify_pf("The focus sends the current conference state on the refreshed subscription (RFC 6665 §4.2.1.1).");
        } else {
            // The focus's own record of the subscription dialog (RFC 6665 §4.1.2.1).
            self.sub = Some(Dialog {
                call_id: txn.call_id.clone(),
                a_uri: CAROL.into(),
                a_tag: crate::strs::second(&txn.from, ";tag=").unwrap_or("").to_string(),
                b_uri: GROUP.into(),
                b_tag: "cfs-1".into(),
                a_cseq: cseq,
                b_cseq: 0,
                route: String::new(),
            });
            self.sub_version = 0;
            self.notify_pf("The focus sends the full conference state at once (RFC 4575 §4.2).");
        }
    }

    /// Q18 (the scenario's `subscription_refused_ms`): the focus refuses a SUBSCRIBE from the
    /// PF with 403 or 404 (RFC 6665 §4.2.1.2); a refresh of the subscription it holds ends that
    /// subscription (RFC 6665 §4.1.2.2: a failed refresh ends it).
    fn refuses_subscribe(&mut self, how: SubRefusal, txn: &Txn) {
        let r = self.response(how.status(), txn, Some("cfs-x"));
        let note = match how {
            SubRefusal::Rejected => "The focus refuses the PF's conference subscription (the scenario: it no longer authorises it).",
            SubRefusal::NoResource => "The focus answers that it knows no such conference (the scenario), although its group session goes on.",
        };
        let arrival = Arrival::CfRespAtPf { code: how.status(), txn: Txn::of(&r) };
        self.sip(Node::Pf, r, cl!["RFC 6665 §4.2.1.2", "scenario"], note, Some(arrival));
        if self.sub.as_ref().is_some_and(|d| d.call_id == txn.call_id) {
            self.sub = None;
        }
    }

    /// The focus ends the PF's conference subscription with a final NOTIFY (RFC 6665 §4.2.2).
    fn ends_subscription(&mut self, reason: &str, note: &'static str) {
        let Some(mut d) = self.sub.take() else { return };
        let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Cf, PF_TARGET);
        // Every NOTIFY carries Contact, the terminating one too (RFC 6665 §4.2.2, RFC 3261 §12.2.1.1).
        n.push("Contact", self.contact(Node::Cf));
        n.push("Event", "conference");
        n.push("Subscription-State", format!("terminated;reason={reason}"));
        let txn = Txn::of(&n);
        self.sip(Node::Pf, n, cl!["RFC 6665 §4.2.2"], note, Some(Arrival::NotifyAtPf { txn, terminated: Some(reason_str(reason)), roster: None }));
    }

    /// The roster changed: notify the PF if it subscribed.
    pub(super) fn roster_changed(&mut self) {
        if self.sub.is_some() && !self.ended {
            self.notify_pf("The focus reports the changed roster to the PF's subscription (RFC 4575 §4.2).");
        }
    }

    /// A NOTIFY with the full conference state on the PF's subscription (RFC 4575 §4.2).
    pub(super) fn notify_pf(&mut self, note: &'static str) {
        if let (Some(how), Some(_)) = (self.refusing(), self.sub.as_ref()) {
            // Q18 (the scenario): from its time on the focus ends the subscription it holds
            // instead of reporting on it (RFC 6665 §4.2.2).
            let why = match how {
                SubRefusal::Rejected => "The focus ends the PF's conference subscription: it no longer authorises it (the scenario).",
                SubRefusal::NoResource => {
                    "The focus ends the PF's conference subscription saying the conference is gone (the scenario), although its group session goes on."
                }
            };
            self.ends_subscription(how.reason(), why);
            return;
        }
        let Some(mut d) = self.sub.take() else { return };
        let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Cf, PF_TARGET);
        self.sub = Some(d);
        n.push("Contact", self.contact(Node::Cf));
        n.push("Event", "conference");
        n.push("Subscription-State", "active;expires=3600");
        n.push("Content-Type", "application/conference-info+xml");
        let users = self.roster();
        // The version counts the NOTIFYs of this subscription (RFC 4575 §5.1), not the focus's
        // changes since the start.
        self.sub_version += 1;
        let version = self.sub_version;
        let info: Vec<UserInfo> = self.users.iter().map(|u| UserInfo { dialed_out: !u.dialed_in, how_left: u.how_left, left_ms: u.left_ms }).collect();
        if self.wire_text() {
            let subject = self.subject.as_deref().unwrap_or(SUBJECT);
            n.body = conference_info_xml_about(subject, self.cfg.epoch_ms, version, &users, &info);
        }
        let txn = Txn::of(&n);
        let roster = Some(Roster { version, users, info });
        self.sip(Node::Pf, n, cl!["8.2.2.6.2", "RFC 4575 §4.2"], note, Some(Arrival::NotifyAtPf { txn, terminated: None, roster }));
    }

    /// The scenario ends the group session: BYE to every connected member and on Carol's leg
    /// (Reason 410), and the end of the PF's subscription (RFC 6665 §4.2.2 `noresource`).
    fn group_ends(&mut self) {
        if self.ended {
            self.note(StepKind::Info, "already ended", cl!["scenario"], "The group session has already ended.");
            return;
        }
        self.ended = true;
        for m in 0..self.cfg.members.len() {
            if self.member_connected(m) {
                let mut d = self.member_legs[m].clone().unwrap_or_else(|| Dialog::member_cf(m, 0));
                d.a_uri = format!("sip:{}@ims.example.net", self.cfg.members[m].id);
                // To the member's Contact, its remote target (RFC 3261 §12.2.1.1).
                let target = format!("sip:{}@198.51.100.{}:5060;transport=tcp", self.cfg.members[m].id, 21 + m);
                let mut req = self.dialog_request("BYE", &mut d, false, Node::Cf, &target);
                self.member_legs[m] = Some(d);
                req.push("Reason", "SIP;cause=410;text=\"Gone\"");
                let txn = Txn::of(&req);
                self.sip(
                    Node::Member(m),
                    req,
                    cl!["RFC 3261 §15.1.1"],
                    "The CF ends the group session for this member.",
                    Some(Arrival::CfByeAtMember { member: m, txn }),
                );
            }
        }
        for u in &mut self.users {
            u.connected = false;
        }
        if self.carol_admitted {
            if let Some(mut d) = self.carol_leg.take() {
                // The focus is side A of a leg it set up itself (setup `cf_invites`), side B of one
                // the PF set up: its BYE carries its own tag in From (RFC 3261 §12.2.1.1).
                let from_a = d.a_uri == GROUP;
                let mut req = self.dialog_request("BYE", &mut d, from_a, Node::Cf, &format!("sip:{PF_HOST};user=carol"));
                req.push("Reason", "SIP;cause=410;text=\"Gone\"");
                let txn = Txn::of(&req);
                self.sip(
                    Node::Pf,
                    req,
                    cl!["RFC 3261 §15.1.1"],
                    "The CF ends the group session on Carol's leg, which her PF holds.",
                    Some(Arrival::CfByeAtPf { txn }),
                );
            }
        }
        self.ends_subscription("noresource", "The focus ends the PF's conference subscription because the conference is gone.");
    }
}
