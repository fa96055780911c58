//! Carol's client (her UE): what she does in the scenario (messages, BYE, leave, REGISTER,
//! re-join), how her client answers what reaches it, and its MSRP connection to her PF.

use super::build::*;
use super::*;

use super::actors::SCENARIO;

impl World<'_> {
    pub(super) fn carol_message(&mut self, text: String) {
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

    pub(super) fn carol_bye(&mut self, reason: Option<(String, Vec<crate::wire::reason::ReasonValue>)>) {
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
        self.carol.dropped.push(d.call_id.clone());
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
        self.sip(Node::Carol, Node::Pf, &m, cl!["RFC 3261 §15.1.1", "RFC 3326 §2"], note, Some(Arrival::CarolByeAtPf { txn, reason }));
    }

    /// Carol leaves (or drops) while her own INVITE has no final response: no BYE outside a
    /// confirmed dialog (RFC 3261 §15); a CANCEL once a provisional response came (§9.1), and an
    /// ACK and BYE with her Reason if a 2xx comes all the same.
    pub(super) fn carol_leaves_during_setup(&mut self, reason: Option<(String, Vec<crate::wire::reason::ReasonValue>)>) {
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

    pub(super) fn carol_cancels(&mut self) {
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

    pub(super) fn carol_register(&mut self, reaction_ms: u64) {
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

    pub(super) fn carol_rejoin(&mut self) {
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

    /// Carol's client gets an INVITE from her PF.
    pub(super) fn carol_gets_invite(&mut self, inv: u32, txn: Txn, no: u32, what: (bool, Option<Vec<Participant>>), step: u32) {
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
    pub(super) fn carol_connect(&mut self, delivery: bool) {
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

    /// A message `a` (recorded at `step`) reaches Carol's client.
    pub(super) fn carol_arrival(&mut self, a: Arrival, step: u32) {
        match a {
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
                if self.carol.dropped.contains(&txn.call_id) {
                    // She ended that dialog herself (their BYEs crossed) or it ended already: no
                    // dialog matches the request (RFC 3261 §12.2.2).
                    let r = self.response(481, &txn, None);
                    self.sip(
                        Node::Carol,
                        Node::Pf,
                        &r,
                        cl!["RFC 3261 §12.2.2"],
                        "Carol's client has no such dialog any more (it ended it itself), so it answers 481.",
                        None,
                    );
                    return;
                }
                self.carol.dropped.push(txn.call_id.clone());
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
            _ => {}
        }
    }
}
