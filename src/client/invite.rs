//! Her client's sessions: the INVITEs it sends (creating the group, re-joining) with their
//! client transactions and CANCEL rules (RFC 3261 §9.1, §17.1.1), the INVITEs it answers with
//! their server transactions (RFC 3261 §13.3.1, §17.2.1), and the BYEs that end a session
//! either way (§15).

use super::*;
use crate::world::build::{route_set, CAROL, FACTORY, GROUP, PF_TARGET, SUBJECT};

impl Client {
    /// Setup `full`: Carol's client creates the group with an INVITE to the conference factory,
    /// the invitees in a recipient list (RFC 5366), routed to her PF.
    pub(super) fn create_group(&mut self) {
        self.session_no += 1;
        let mut d = Dialog::carol_pf(self.session_no);
        d.b_tag.clear();
        let mut m = self.new_request("INVITE", FACTORY, self.me, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{FACTORY}>"), &d.call_id.clone(), 1);
        // Her outbound route: P-CSCF, then S-CSCF (3GPP TS 24.229 §5.1.2A.1.1).
        m.push("Route", CAROL_ROUTE);
        self.cpm_headers(&mut m, self.me);
        m.push("Require", "recipient-list-invite");
        m.push("Subject", SUBJECT);
        let no = self.new_path_no(self.me);
        self.offers.push((d.call_id.clone(), no));
        let sdp = self.sdp(self.me, "carol", self.carol_ip(), 9, self.carol_path_n(no), "active");
        let mut list =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n  <list>\r\n");
        for m in self.cfg.members.iter().filter(|m| m.in_group) {
            list.push_str(&format!("    <entry uri=\"sip:{}@ims.example.net\"/>\r\n", m.id));
        }
        list.push_str("  </list>\r\n</resource-lists>\r\n");
        let boundary = "cpm-boundary-rl01";
        m.push("Content-Type", format!("multipart/mixed;boundary={boundary}"));
        m.body = format!("--{boundary}\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--{boundary}\r\nContent-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n{list}\r\n--{boundary}--\r\n");
        let txn = Txn::of(&m);
        self.in_dialog = true;
        self.own_invite = Some(Pending { txn: txn.clone(), ruri: FACTORY, provisional: false, leave: None, cancelled: false });
        self.sip(
            Node::Pf,
            m,
            cl!["RFC 3261 §13.2.1"],
            "Carol's client creates the group: an INVITE to the conference factory with the invitees in a recipient list, routed to her PF.",
            Some(Arrival::CarolInviteAtPf { txn, rejoin: false, no, ids: None }),
        );
    }

    /// She re-joins (§8.3.2.9): an INVITE to the group session identity, unless her client is
    /// still in its session.
    pub(super) fn rejoin(&mut self, ids: crate::scenario::RejoinIds) {
        if self.in_dialog && self.link == Link::Up {
            self.note("already in session", cl![SCENARIO], "Carol's client is still in the session, so it does not re-join.", None);
            return;
        }
        self.in_dialog = false;
        self.link = Link::None;
        self.out.push(ClientOutput::CloseMsrp);
        // She is a participant again only once her re-join is accepted (path B, or the focus
        // admitting her after a voluntary leave), not when her client sends it.
        self.left_idle = false;
        self.session_no += 1;
        let mut d = Dialog::carol_pf(self.session_no);
        d.b_tag.clear();
        let mut m = self.new_request("INVITE", GROUP, self.me, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{GROUP}>"), &d.call_id.clone(), 1);
        m.push("Route", CAROL_ROUTE);
        self.cpm_headers(&mut m, self.me);
        // Q20: the scenario may give the re-join other session IDs than the session's own.
        let (conv, contrib) = crate::world::build::rejoin_ids(ids, self.session_no);
        for (name, v) in &mut m.headers {
            if name.eq_ignore_ascii_case("Conversation-ID") {
                v.clone_from(&conv);
            } else if name.eq_ignore_ascii_case("Contribution-ID") {
                v.clone_from(&contrib);
            }
        }
        m.push("P-Preferred-Identity", format!("<{CAROL}>"));
        m.push("Content-Type", "application/sdp");
        let no = self.new_path_no(self.me);
        self.offers.push((d.call_id.clone(), no));
        m.body = self.sdp(self.me, "carol", self.carol_ip(), 9, self.carol_path_n(no), "active");
        let txn = Txn::of(&m);
        self.own_invite = Some(Pending { txn: txn.clone(), ruri: GROUP, provisional: false, leave: None, cancelled: false });
        self.sip(
            Node::Pf,
            m,
            cl!["8.3.2.9"],
            if ids.differ() {
                "Carol's client re-joins with other session IDs than her session's (the scenario, Q20): an INVITE to the group session identity with another Contribution-ID, routed to her PF."
            } else {
                "Carol's client re-joins: an INVITE to the group session identity with the same Conversation-ID and Contribution-ID, routed to her PF."
            },
            Some(Arrival::CarolInviteAtPf { txn, rejoin: true, no, ids: Some(Box::new((conv, contrib))) }),
        );
    }

    /// She leaves the chat: in a session, a BYE with `SIP;cause=200` (the CR's voluntary leave);
    /// while her own INVITE (a re-join) is pending, a CANCEL of it (RFC 3261 §9.1, through
    /// [`Client::bye`]); without either (or off the network) nothing can go out now, and her
    /// client will decline the next INVITE for this chat with 603 (the RCS leave-while-idle rule).
    pub(super) fn leave(&mut self) {
        if self.me == Node::Tablet && !self.in_dialog && self.own_invite.is_none() && self.online {
            // Her tablet has no session with the group: it asks the focus to end hers.
            return self.refer_bye();
        }
        if (self.in_dialog || self.own_invite.is_some()) && self.online {
            let v = ReasonValue::sip(200, "Call completed");
            let raw = crate::wire::reason::emit(std::slice::from_ref(&v));
            self.bye(Some((raw, vec![v])));
        } else {
            self.out.push(ClientOutput::Left);
            self.left_idle = true;
            self.note("leaves (offline)", cl![SCENARIO, "policy:q5-invite-error"], "Carol leaves the chat while she has no session; nothing reaches the network now, and her client will decline the next INVITE for this chat with 603 (RCS leave-while-idle rule).", None);
        }
    }

    /// She ends her session with a BYE carrying `reason` (or, while her own INVITE is pending,
    /// cancels it).
    pub(super) fn bye(&mut self, reason: Reason) {
        if self.online && self.own_invite.as_ref().is_some_and(|o| o.leave.is_none()) {
            return self.leaves_during_setup(reason);
        }
        if !self.in_dialog || !self.online || self.own_invite.is_some() {
            self.note("no session", cl![SCENARIO], "Carol's client has no session it could end with BYE (or cannot reach the network).", None);
            return;
        }
        // Her own record of the dialog (the PF's Contact, GROUP, is the remote target either way).
        let mut d = self.dialog.take().unwrap_or_else(|| Dialog::carol_pf(self.session_no));
        self.dropped.push(d.call_id.clone());
        let from_a = d.a_uri == CAROL;
        let mut m = self.dialog_request("BYE", &mut d, from_a, self.me, PF_TARGET);
        if let Some((raw, _)) = &reason {
            m.push("Reason", raw.clone());
        }
        if voluntary(&reason) {
            self.out.push(ClientOutput::Left);
        }
        self.in_dialog = false;
        self.link = Link::None;
        self.out.push(ClientOutput::CloseMsrp);
        let txn = Txn::of(&m);
        let note = match &reason {
            None => crate::trace::note_fmt!("Carol's client ends its session with a BYE that carries no Reason header."),
            Some((raw, _)) => crate::trace::note_fmt!("Carol's client ends its session with BYE and Reason: {raw}."),
        };
        self.sip(Node::Pf, m, cl!["RFC 3261 §15.1.1", "RFC 3326 §2"], note, Some(Arrival::CarolByeAtPf { txn, reason }));
    }

    /// Carol leaves (or drops) while her own INVITE has no final response: no BYE outside a
    /// confirmed dialog (RFC 3261 §15); a CANCEL once a provisional response came (§9.1), and an
    /// ACK and BYE with her Reason if a 2xx comes all the same.
    fn leaves_during_setup(&mut self, reason: Reason) {
        if voluntary(&reason) {
            self.out.push(ClientOutput::Left);
        }
        let Some(o) = self.own_invite.as_mut() else { return };
        o.leave = Some(reason);
        if o.provisional {
            self.cancels();
        } else {
            self.note(
                "CANCEL waits for a 1xx",
                cl!["RFC 3261 §9.1"],
                "Carol's client wants out while its INVITE has no answer yet: no BYE before the dialog exists, and no CANCEL before a provisional response, so it waits.",
                None,
            );
        }
    }

    /// It cancels its pending INVITE (RFC 3261 §9.1).
    fn cancels(&mut self) {
        let Some(o) = self.own_invite.as_mut() else { return };
        o.cancelled = true;
        let c = Self::cancel_for(&o.txn, o.ruri);
        let txn = Txn::of(&c);
        self.sip(
            Node::Pf,
            c,
            cl!["RFC 3261 §9.1"],
            "Carol's client leaves before its INVITE was answered: it cancels the INVITE.",
            Some(Arrival::CarolCancelAtPf { txn }),
        );
    }

    /// A provisional response to its own INVITE: the transaction is in Proceeding, so a CANCEL
    /// it was waiting to send may go now (RFC 3261 §9.1).
    pub(super) fn gets_trying(&mut self) {
        let Some(o) = self.own_invite.as_mut() else { return };
        o.provisional = true;
        if o.leave.is_some() && !o.cancelled {
            self.cancels();
        }
    }

    /// An INVITE from her PF: rejected if the scenario or her leave says so, else she alerts
    /// (180 Ringing when she takes time, RFC 3261 §13.3.1.1) and accepts after the answer delay.
    pub(super) fn gets_invite(&mut self, inv: u32, txn: Txn, no: u32, what: (bool, Option<Vec<Participant>>)) {
        let code = if let Some(c) = self.reject_next.take() {
            Some(c)
        } else if self.left_idle {
            self.left_idle = false;
            Some(603)
        } else {
            None
        };
        if let Some(code) = code {
            let r = self.response(code, &txn, Some("c-rej"));
            let rtxn = Txn::of(&r);
            self.sip(
                Node::Pf,
                r,
                cl!["RFC 3261 §21"],
                crate::trace::note_fmt!("The INVITE towards Carol is answered {code} {}.", crate::wire::sip::reason_phrase(code)),
                Some(Arrival::CarolRespAtPf { inv, code, txn: rtxn }),
            );
            return;
        }
        let tag = format!("c-{:03x}", 0x901 + self.session_no);
        self.alerting = Some(Alerting { inv, txn: Some(txn.clone()), what, no, tag: tag.clone() });
        let answer_ms = self.cfg.answer_ms;
        // "never" (the scenario's answer_ms): she rings and never answers (Q4's timeline).
        let never = answer_ms == crate::scenario::ANSWER_NEVER;
        if !never {
            self.arm(ClientTimer::Answer { inv }, answer_ms);
        }
        if answer_ms > 0 {
            // She is alerting: 180 Ringing (RFC 3261 §13.3.1.1), which moves the PF's INVITE
            // transaction to Proceeding (no Timer B any more, §17.1.1.2) and allows a CANCEL (§9.1).
            let mut r = self.response(180, &txn, Some(&tag));
            r.push("Contact", self.contact(self.me));
            let rtxn = Txn::of(&r);
            self.sip(
                Node::Pf,
                r,
                cl!["RFC 3261 §13.3.1.1"],
                if never {
                    crate::trace::note_text("Carol's client is alerting and will never answer (the scenario's answer_ms is \"never\").")
                } else {
                    crate::trace::note_fmt!("Carol's client is alerting; it will accept the invitation after {answer_ms} ms (the scenario's answer_ms).")
                },
                Some(Arrival::CarolRespAtPf { inv, code: 180, txn: rtxn }),
            );
        }
    }

    /// Its answer delay for INVITE `inv` is over: it accepts (if it is still alerting for it and
    /// its device is on the network).
    pub(super) fn answers(&mut self, inv: u32) {
        if self.alerting.as_ref().is_none_or(|a| a.inv != inv) || !self.online {
            return;
        }
        let Some(Alerting { txn: Some(txn), what: (delivery, roster), no, tag, .. }) = self.alerting.take() else { return };
        self.answered_delivery = delivery;
        self.session_no += 1;
        self.in_dialog = true;
        self.dialog = Some(Dialog {
            call_id: txn.call_id.clone(),
            a_uri: GROUP.into(),
            a_tag: tag_of(&txn.from),
            b_uri: CAROL.into(),
            b_tag: tag.clone(),
            a_cseq: cseq_no(&txn.cseq),
            b_cseq: 0,
            // The UAS's route set: the INVITE's Record-Route as it is (RFC 3261 §12.1.1).
            route: route_set(txn.record_route.as_deref(), false),
        });
        let mut r = self.response(200, &txn, Some(&tag));
        r.push("Contact", self.contact(self.me));
        r.push("Content-Type", "application/sdp");
        self.paths = (no, no);
        self.live_call = txn.call_id.clone();
        r.body = self.sdp(self.me, "carol", self.carol_ip(), 9, self.carol_path_n(no), "active");
        let rtxn = Txn::of(&r);
        self.sip(
            Node::Pf,
            r,
            cl!["RFC 3261 §13.3.1"],
            "Carol's client accepts the invitation (SDP answer, a=setup:active).",
            Some(Arrival::CarolRespAtPf { inv, code: 200, txn: rtxn }),
        );
        // Q13 in-session-setup: the INVITE she accepted carried the conference state.
        if let (true, Some(users)) = (delivery, roster) {
            self.out.push(ClientOutput::Roster(users));
        }
    }

    /// A CANCEL of an INVITE from her PF (`txn`: the CANCEL's own transaction, RFC 3261 §9.2):
    /// 200 to the CANCEL and, if she was still alerting for it, 487 to the INVITE.
    pub(super) fn gets_cancel(&mut self, inv: u32, txn: Txn) {
        let alerting = self.alerting.as_ref().is_some_and(|a| a.inv == inv);
        // Its To tag is the one of her answers to the INVITE.
        let tag = match &self.alerting {
            Some(a) if alerting => a.tag.clone(),
            _ => "c-487".to_string(),
        };
        let r = self.response(200, &txn, Some(&tag));
        self.sip(Node::Pf, r, cl!["RFC 3261 §9.2"], "Carol's client accepts the CANCEL.", None);
        if alerting {
            // Her own copy of the INVITE she was alerting for (RFC 3261 §9.2): she alerts no more.
            if let Some(itx) = self.alerting.take().and_then(|a| a.txn) {
                let r = self.response(487, &itx, Some(&tag));
                let rtxn = Txn::of(&r);
                self.sip(
                    Node::Pf,
                    r,
                    cl!["RFC 3261 §9.2"],
                    "The cancelled INVITE ends with 487 Request Terminated.",
                    Some(Arrival::CarolRespAtPf { inv, code: 487, txn: rtxn }),
                );
            }
        }
    }

    /// A final response to her own INVITE (or one that crossed it).
    pub(super) fn gets_response(&mut self, code: u16, txn: Txn, delivery: bool, no: u32, roster: Option<Vec<Participant>>) {
        let own = self.own_invite.take().filter(|o| o.txn.call_id == txn.call_id);
        let leave = own.as_ref().and_then(|o| o.leave.clone());
        if (200..300).contains(&code) {
            // Her dialog as the 2xx establishes it (RFC 3261 §12.1.2): her tag, the PF's tag,
            // the remote URI of her INVITE's To.
            let remote = txn.to.split('<').nth(1).and_then(|r| r.split('>').next()).unwrap_or(GROUP).to_string();
            let d = Dialog {
                call_id: txn.call_id.clone(),
                a_uri: CAROL.into(),
                a_tag: tag_of(&txn.from),
                b_uri: remote,
                b_tag: tag_of(&txn.to),
                a_cseq: cseq_no(&txn.cseq),
                b_cseq: 0,
                // The UAC's route set: the 2xx's Record-Route reversed (RFC 3261 §12.1.2).
                route: route_set(txn.record_route.as_deref(), true),
            };
            let ack = self.ack_or_cancel("ACK", &d, true, self.me, PF_TARGET);
            self.dialog = Some(d);
            self.in_dialog = true;
            let mine = self.offers.iter().rev().find(|(c, _)| *c == txn.call_id).map_or(0, |(_, n)| *n);
            self.paths = (mine, no);
            self.live_call = txn.call_id.clone();
            self.sip(Node::Pf, ack, cl!["RFC 3261 §13.2.2.4"], "Carol's client confirms the session with ACK.", Some(Arrival::CarolAckAtPf));
            if delivery && self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup") {
                if let Some(users) = roster {
                    self.out.push(ClientOutput::Roster(users));
                }
            }
            if let Some(reason) = leave {
                // She left meanwhile: confirm the dialog, then end it at once.
                self.bye(reason);
                return;
            }
            self.connect(delivery);
        } else {
            // A failed INVITE creates no dialog and ends none (RFC 3261 §17.1.1.3).
            let ruri = own.as_ref().map_or(GROUP, |o| o.ruri);
            // Her INVITE's own Route (RFC 3261 §17.1.1.3), from her own transaction.
            // (Every INVITE of hers carries her preloaded Route, also one she no longer tracks.)
            let route = own.as_ref().map_or_else(|| Some(CAROL_ROUTE.to_string()), |o| o.txn.route.clone());
            let ack = Self::non2xx_ack(&Txn { route, ..txn.clone() }, ruri);
            self.sip(Node::Pf, ack, cl!["RFC 3261 §17.1.1.3"], "Carol's client acknowledges the failure response.", None);
            if own.is_some() && self.dialog.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
                self.in_dialog = false;
            }
        }
    }

    /// A BYE from her PF: 481 on a dialog it ended already (RFC 3261 §12.2.2), else 200; on her
    /// current session it ends the session and closes its MSRP connection.
    pub(super) fn gets_bye(&mut self, txn: Txn) {
        if self.dropped.contains(&txn.call_id) {
            // She ended that dialog herself (their BYEs crossed) or it ended already: no dialog
            // matches the request (RFC 3261 §12.2.2).
            let r = self.response(481, &txn, None);
            self.sip(Node::Pf, r, cl!["RFC 3261 §12.2.2"], "Carol's client has no such dialog any more (it ended it itself), so it answers 481.", None);
            return;
        }
        self.dropped.push(txn.call_id.clone());
        let r = self.response(200, &txn, None);
        self.sip(Node::Pf, r, cl!["RFC 3261 §15.1.2"], "Carol's client accepts the BYE.", None);
        // A BYE on another dialog (a crossed session) leaves her current session alone.
        if txn.call_id == self.live_call {
            self.dialog = None;
            self.in_dialog = false;
            self.link = Link::None;
            self.out.push(ClientOutput::CloseMsrp);
        }
    }
}
