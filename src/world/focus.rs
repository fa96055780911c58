//! The CF (conference focus): Carol's leg to her PF, the members' legs, the fan-out of every
//! message, and the conference state it reports to the PF's subscription (RFC 4575).

use super::build::*;
use super::*;

impl World<'_> {
    /// The focus sends a chat message to every participant but its sender.
    pub(super) fn fanout(&mut self, chat: u32, sender: Who) {
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
            // A trace statistic (the summary's sent_while_away), not what the focus knows.
            let live = self.pf.state() == PfState::Active && self.carol.conn == Conn::Up && self.carol.reachable;
            if !live {
                self.sent_while_away += 1;
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
    pub(super) fn cf_leg_gone(&mut self) {
        self.cf.carol_bound = false;
        for chat in std::mem::take(&mut self.cf.carol_queue) {
            self.lose(chat, "Lost: Carol's leg at the focus ended before its MSRP connection was bound.", cl!["RFC 4975 §5.4"]);
        }
    }

    /// The focus sends `chat` on Carol's leg, to her PF.
    pub(super) fn cf_sends_to_pf(&mut self, chat: u32) {
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

    pub(super) fn cf_gets_pf_invite(&mut self, txn: Txn) {
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
    pub(super) fn cf_invites_members(&mut self) {
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

    pub(super) fn cf_gets_member_ok(&mut self, m: usize) {
        let Some(d) = self.cf.member_legs[m].clone() else { return };
        let uri = d.a_uri.clone();
        // The ACK goes to the member's Contact (RFC 3261 §12.2.1.1), not to its address of record.
        let target = format!("sip:{}@198.51.100.{}:5060;transport=tcp", self.sc.members[m].id, 21 + m);
        let ack = self.new_request("ACK", &target, Node::Cf, format!("<{GROUP}>;tag={}", d.b_tag), format!("<{uri}>;tag={}", d.a_tag), &d.call_id, 1);
        self.sip(Node::Cf, Node::Member(m), &ack, cl!["RFC 3261 §13.2.2.4"], "The focus confirms with ACK.", None);
    }

    /// The focus ends the PF's conference subscription with a final NOTIFY (RFC 6665 §4.2.2).
    pub(super) fn cf_ends_subscription(&mut self, reason: &str, note: &'static str) {
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

    pub(super) fn send_notify_to_pf(&mut self, note: &'static str) {
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

    /// A message `a` (recorded at `step`) reaches the focus.
    pub(super) fn cf_arrival(&mut self, a: Arrival, _step: u32) {
        match a {
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
                // A SUBSCRIBE inside the dialog of the subscription it holds refreshes that
                // subscription (RFC 6665 §4.1.2.2, §4.2.1.1): same dialog, so its NOTIFY CSeq goes
                // on, and so does the conference-info version (RFC 4575 §4.1).
                let cseq = txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1);
                let refresh = txn.to.contains(";tag=") && self.cf.sub.as_ref().is_some_and(|d| d.call_id == txn.call_id);
                let note = match (expires, refresh) {
                    (0, _) => "The focus accepts the request to end the subscription.",
                    (_, true) => "The focus accepts the refresh of the subscription.",
                    _ => "The focus accepts the subscription.",
                };
                self.sip(Node::Cf, Node::Pf, &r, cl!["RFC 6665 §4.2.1"], note, None);
                if let (true, Some(d)) = (refresh, self.cf.sub.as_mut()) {
                    d.a_cseq = cseq;
                }
                if expires == 0 {
                    self.cf_ends_subscription("timeout", "The focus confirms the end of the subscription.");
                } else if refresh {
                    // The current state at once on a refresh too (RFC 6665 §4.2.1.1).
                    self.send_notify_to_pf("The focus sends the current conference state on the refreshed subscription (RFC 6665 §4.2.1.1).");
                } else {
                    // The focus's own record of the subscription dialog (RFC 6665 §4.1.2.1).
                    let tag = |h: &str| h.split(";tag=").nth(1).unwrap_or("").to_string();
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
                // Its own record of the member's leg, from the INVITE (RFC 3261 §12.1.1), with a
                // tag of its own made from the Call-ID (the member no longer writes this record).
                let d = Dialog {
                    call_id: txn.call_id.clone(),
                    a_uri: format!("sip:{}@ims.example.net", self.sc.members[member].id),
                    a_tag: txn.from.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string(),
                    b_uri: GROUP.into(),
                    b_tag: format!("cfm{member}-{}", base36(mix(crate::story::fnv(txn.call_id.as_bytes(), 0)), 6)),
                    a_cseq: txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
                    b_cseq: 0,
                    route: String::new(),
                };
                let tag = d.b_tag.clone();
                self.cf.member_legs[member] = Some(d);
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
                    Some(Arrival::CfRespAtMember { member, code: 200, txn: Txn::of(&r) }),
                );
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
            Arrival::MemberOkAtCf { member, txn } => {
                // The member's tag comes with its 200 (RFC 3261 §12.1.2): the focus's ACK and BYE
                // carry it.
                if let Some(d) = self.cf.member_legs[member].as_mut() {
                    d.a_tag = txn.to.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
                }
                self.cf_gets_member_ok(member)
            }
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
            _ => {}
        }
    }
}

#[cfg(test)]
mod alone {
    use super::*;
    use crate::wire::sip::SipMessage;

    /// The PF's SUBSCRIBE to the focus with CSeq `cseq`, inside the subscription dialog
    /// (`in_dialog`: To carries the focus's tag) or not.
    fn subscribe(cseq: u32, in_dialog: bool) -> Txn {
        let mut m = SipMessage::request("SUBSCRIBE", GROUP);
        m.push("Via", "SIP/2.0/TCP pf.cpm.example.net:5060;branch=z9hG4bKp-sub".to_string() + &cseq.to_string());
        m.push("From", format!("<{CAROL}>;tag=pfsub-1"));
        m.push("To", if in_dialog { format!("<{GROUP}>;tag=cfs-1") } else { format!("<{GROUP}>") });
        m.push("Call-ID", "pfsub-1@pf.cpm.example.net");
        m.push("CSeq", format!("{cseq} SUBSCRIBE"));
        Txn::of(&m)
    }

    /// Issue 11 (P's note): a refresh within the subscription dialog keeps the focus's NOTIFY
    /// CSeq and conference-info version going (RFC 6665 §4.1.2.2, §4.2.1.1; RFC 4575 §4.1); a
    /// new subscription starts them again. On main the refresh restarted both at 1.
    #[test]
    fn a_subscribe_refresh_in_its_dialog_keeps_notify_cseq_and_version() {
        let sc = Scenario::from_json(crate::presets::all()[0].json).unwrap();
        let mut w = World::new(Cow::Owned(sc), Rules::PostCr);
        w.wire = true;
        w.machines_wire();
        w.cf_arrival(Arrival::SubscribeAtCf { txn: subscribe(1, false), expires: 3600 }, 0);
        w.cf_arrival(Arrival::SubscribeAtCf { txn: subscribe(2, true), expires: 3600 }, 0);
        let notifies: Vec<&str> = w.steps.iter().filter(|s| s.label == "NOTIFY").map(|s| &*s.raw).collect();
        assert_eq!(notifies.len(), 2);
        if cfg!(feature = "wire-text") {
            assert!(notifies[0].contains("CSeq: 1 NOTIFY") && notifies[0].contains("version=\"1\""), "{}", notifies[0]);
            assert!(notifies[1].contains("CSeq: 2 NOTIFY") && notifies[1].contains("version=\"2\""), "the refresh restarted the NOTIFYs: {}", notifies[1]);
        }
        // A new subscription (a new dialog) starts them again.
        let mut fresh = subscribe(1, false);
        fresh.call_id = "pfsub-2@pf.cpm.example.net".into();
        w.cf_arrival(Arrival::SubscribeAtCf { txn: fresh, expires: 3600 }, 0);
        let last = w.steps.iter().rev().find(|s| s.label == "NOTIFY").unwrap();
        if cfg!(feature = "wire-text") {
            assert!(last.raw.contains("CSeq: 1 NOTIFY") && last.raw.contains("version=\"1\""), "{}", last.raw);
        }
    }
}
