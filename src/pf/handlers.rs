//! Carol's Participating Function: §8.3.2.9 "Deferred CPM Group Session handling" as amended by
//! the CR (three triggers, subscription to the focus, delivery paths A and B) and, under
//! [`Rules::PreCr`], the text before it (only the BYE trigger). Everything the CR leaves open
//! is a named policy and cites `policy:<id>`.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::*;
use crate::world::{Arrival, Dialog, Node, Txn, MSRP_TIMEOUT_MS};
use std::borrow::Cow;

impl Pf {
    /// The body of the PF's session offer or answer to Carol (its INVITE on path A, its 200 to
    /// a re-join on path B): the SDP, with the Participant Information as a conference-info part
    /// under Q13 `in-session-setup`. That information is what the focus's NOTIFYs told the PF
    /// (RFC 4575 §4.2); before the first one it has none to include. Returns the list included.
    pub(super) fn session_body(&self, m: &mut crate::wire::sip::SipMessage, sdp: String) -> Option<Vec<Participant>> {
        let Some(r) = self.roster.as_ref().filter(|_| self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup")) else {
            m.push("Content-Type", "application/sdp");
            m.body = sdp;
            return None;
        };
        if self.group_gone {
            // The group session is over (the focus's BYE reached the PF): no one is connected any
            // more, whatever its last NOTIFY said (issue 11 #5).
            let xml = if self.wire_text() { conference_info_xml(self.cfg.epoch_ms, r.version + 1, &[], &[]) } else { String::new() };
            let (ct, body) = Self::multipart(&sdp, &xml);
            m.push("Content-Type", ct);
            m.body = body;
            return Some(Vec::new());
        }
        let xml = if self.wire_text() { conference_info_xml(self.cfg.epoch_ms, r.version, &r.users, &r.info) } else { String::new() };
        let users = r.users.clone();
        let (ct, body) = Self::multipart(&sdp, &xml);
        m.push("Content-Type", ct);
        m.body = body;
        Some(users)
    }

    /// Handles one input at time `now` ([`Pf::handle`]).
    pub(in crate::pf) fn dispatch(&mut self, now: u64, input: PfInput) {
        self.now = now;
        match input {
            PfInput::Start => self.arm_refresh(),
            PfInput::TcpReset => self.loss_detected(crate::trace::note_str("The PF sees the TCP reset at once and counts the MSRP connection as lost.")),
            PfInput::Timer(t) => self.timer_fired(t),
            PfInput::FocusSend { chat, tid, body, chunk, sender } => self.pf_gets_chat(chat, tid, body, chunk, sender),
            PfInput::CarolImdn { imdn, tid } => self.carol_imdn(imdn, tid),
            PfInput::CarolSend { chat, tid, body } => {
                let (own, peer) = self.pf_view();
                let raw = self.ok_text(&tid, &own, &peer);
                self.msrp(self.dev, raw, "200 OK", cl!["RFC 4975 §7.2"], "The PF acknowledges Carol's SEND.", Some(chat), None);
                if self.cf_leg.is_some() && self.cf_media {
                    let (raw, tid) = self.send_text(Node::Pf, self.cf_pf_path(), self.pf_cf_path(), Some(&body));
                    self.msrp(
                        Node::Cf,
                        raw,
                        "SEND",
                        cl!["RFC 4975 §7.1.1"],
                        "The PF relays Carol's message to the focus.",
                        Some(chat),
                        Some(Arrival::PfSendAtCf { chat, tid }),
                    );
                } else {
                    self.note(
                        StepKind::Info,
                        format!("not relayed #{chat}"),
                        cl![CL],
                        if self.cf_leg.is_some() {
                            "The PF's MSRP connection to the focus is not open yet, so it cannot relay Carol's message; it is lost."
                        } else {
                            "The PF holds no leg to the focus for Carol, so her message cannot reach the group; it is lost."
                        },
                        Some(chat),
                    );
                }
            }
            PfInput::CarolSendOk { tx } => {
                if let Some(pos) = self.in_flight.iter().position(|f| f.tx == tx) {
                    // Q14: a chunk's 200; the next chunk goes, or this was the last.
                    if cfg!(feature = "chunks") && self.next_chunk(pos) {
                        return;
                    }
                    let f = self.in_flight.remove(pos);
                    self.stop_timer(f.timer);
                    self.chat(ChatEvent::Delivered { chat: f.chat, from_store: f.replay });
                    if f.replay {
                        self.note(
                            StepKind::Deliver,
                            crate::trace::numbered("delivered #", f.chat as u64, ""),
                            cl![CL],
                            "A stored message has reached Carol: deferred delivery over MSRP.",
                            Some(f.chat),
                        );
                        self.pump();
                    }
                }
            }
            PfInput::CarolBind { tid } => {
                let (own, peer) = self.pf_view();
                let raw = self.ok_text(&tid, &own, &peer);
                self.msrp(self.dev, raw, "200 OK", cl!["RFC 4975 §7.2"], "The PF binds the new MSRP connection to Carol's session.", None, None);
                if let Some(t) = self.setup_timer.take() {
                    self.stop_timer(t);
                }
                self.client_session_up();
            }
            PfInput::CarolInvite { txn, rejoin, no, ids } => {
                // Q20: other session IDs than her session's (not in the CR; src/pf/q20.rs).
                if rejoin && Self::q20_other_ids(ids.as_deref()) && self.q20_rejoin_with_other_ids(&txn, no) {
                    // Only her phone sends INVITEs (as in `pf_gets_client_invite`): the new
                    // session's client leg is with it, whichever device the PF served before.
                    self.dev = Node::Carol;
                } else {
                    self.pf_gets_client_invite(txn, rejoin, no)
                }
            }
            PfInput::FocusResponse { code, txn } if txn.cseq.ends_with("SUBSCRIBE") => self.q18_subscribe_refused(code, txn),
            PfInput::FocusResponse { code, txn } => self.pf_gets_cf_response(code, txn),
            PfInput::CarolCancel { txn } => self.pf_gets_client_cancel(txn),
            PfInput::CarolAck => {
                // Through the IMS core her ACK may come after her client has already opened and
                // bound the MSRP connection (Active or Replaying): then there is nothing to wait for.
                if !matches!(self.state, PfState::Active | PfState::Replaying) {
                    self.setup_timer = Some(self.arm(PfTimer::SetupWait, MSRP_TIMEOUT_MS));
                }
            }
            PfInput::CarolInviteResponse { inv, code, txn } => self.pf_gets_invite_response(inv, code, txn),
            PfInput::CarolBye { txn, reason } => self.pf_gets_client_bye(txn, reason),
            PfInput::FocusBye { txn } => self.pf_gets_cf_bye(txn),
            PfInput::FocusInvite { txn } => self.pf_gets_cf_invite(txn),
            PfInput::FocusInDialog { txn, update } => self.pf_gets_cf_in_dialog(txn, update),
            PfInput::FocusNotify { txn, terminated, roster } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Cf, r, cl!["RFC 6665 §4.1.3"], "The PF accepts the NOTIFY.", None);
                // The NOTIFY's From tag is the focus's tag of the subscription dialog (RFC 6665
                // §4.1.2.4): the PF learns it here, from what reached it.
                if let Some(d) = self.sub.as_mut().filter(|d| d.call_id == txn.call_id) {
                    d.b_tag = crate::strs::second(&txn.from, ";tag=").unwrap_or("").split(';').next().unwrap_or("").to_string();
                }
                if let Some(reason) = terminated {
                    if self.sub.as_ref().is_some_and(|d| d.call_id == txn.call_id) {
                        self.sub = None;
                        if let Some(t) = self.sub_refresh_timer.take() {
                            self.stop_timer(t);
                        }
                        self.q18_subscription_ended(reason);
                    }
                } else if let Some(r) = roster {
                    self.q18_roster_current();
                    // Keep what the NOTIFY said (RFC 4575 §4.2), not the focus's state now.
                    if self.roster.as_ref().is_none_or(|k| k.version < r.version) {
                        let users = r.users.clone();
                        let changed = self.roster.as_ref().is_none_or(|k| k.users != r.users);
                        self.roster = Some(r);
                        self.snapshot(users);
                        // Carol's own subscription, which the PF serves, hears of a change too
                        // (RFC 6665 §4.2.2; issue 11 #6).
                        if changed {
                            self.notify_client("The participants changed: the PF passes what the focus's NOTIFY said on to Carol's subscription.");
                        }
                    }
                }
            }
            PfInput::Register { txn, reaction_ms, device } => {
                self.device_registers(device, true);
                self.pf_gets_register(txn, reaction_ms)
            }
            PfInput::CarolRefer { txn } => self.pf_gets_refer(txn),
            PfInput::Deregister { txn, device } => {
                if self.device_registers(device, false) {
                    self.pf_gets_deregister(txn)
                } else {
                    self.other_device_deregistered(txn)
                }
            }
            PfInput::CarolSubscribe { txn } => {
                let gone = self.group_gone;
                let mut r = self.response(200, &txn, Some("pfs-1"));
                r.push("Expires", if gone { "0" } else { "3600" });
                r.push("Contact", pf_focus_contact());
                self.sip(self.dev, r, cl!["RFC 6665 §4.2.1", "policy:q13-participant-info"], "The PF accepts Carol's conference subscription itself.", None);
                // Its own record of the dialog: Carol's side from the SUBSCRIBE, its own tag.
                let tag_of = |h: &str| crate::strs::second(h, ";tag=").unwrap_or("").split(';').next().unwrap_or("").to_string();
                self.note_device_of(&txn);
                self.client_sub = Some(Dialog {
                    call_id: txn.call_id.clone(),
                    a_uri: CAROL.into(),
                    a_tag: tag_of(&txn.from),
                    b_uri: GROUP.into(),
                    b_tag: "pfs-1".into(),
                    a_cseq: txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
                    b_cseq: 0,
                    route: route_set(txn.record_route.as_deref(), false),
                });
                self.client_sub_version = 1;
                // It serves her subscription from its own to the focus: if it has ended that one
                // (policy subscription-end), it subscribes again so later changes reach her.
                if !gone && self.sub.is_none() && self.cf_leg.is_some() {
                    self.subscribe();
                }
                if let Some(mut d) = self.client_sub.clone() {
                    let target = self.target_for(&d.call_id);
                    let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Pf, &target);
                    self.client_sub = Some(d);
                    n.push("Contact", pf_focus_contact());
                    n.push("Event", "conference");
                    // After the group session ended there is no conference to watch: the first
                    // NOTIFY ends the subscription (RFC 6665 §4.2.2, reason noresource) and lists
                    // no one (issue 11 #5).
                    n.push("Subscription-State", if gone { "terminated;reason=noresource" } else { "active;expires=3600" });
                    n.push("Content-Type", "application/conference-info+xml");
                    // The first (and only) NOTIFY of Carol's new subscription: version 1 (RFC 4575
                    // §5.1), with what the PF kept of the focus's last NOTIFY; before it has had
                    // one, a full state with no users (it knows of none; RFC 6665 §4.2.1 still
                    // asks for an immediate NOTIFY).
                    if self.wire_text() {
                        n.body = match &self.roster {
                            Some(r) if !gone => conference_info_xml(self.cfg.epoch_ms, 1, &r.users, &r.info),
                            _ => conference_info_xml(self.cfg.epoch_ms, 1, &[], &[]),
                        };
                    }
                    let txn = Txn::of(&n);
                    if gone {
                        self.client_sub = None;
                        self.sip(
                            self.dev,
                            n,
                            cl!["RFC 6665 §4.2.2", "policy:q8-group-ends"],
                            "The group session is over: the PF answers Carol's subscription with a NOTIFY that lists no one and ends it at once (reason noresource).",
                            Some(Arrival::NotifyAtCarol { txn, users: Some(Vec::new()) }),
                        );
                        self.key_last("Participant information: the group session is over");
                        return;
                    }
                    // What her client will show: the list the PF held from the focus, if any.
                    let users = self.roster.as_ref().map(|r| r.users.clone());
                    self.sip(
                        self.dev,
                        n,
                        cl![CL, "policy:q13-participant-info"],
                        "The PF delivers the latest Participant Information it kept from the focus, as a full-state NOTIFY.",
                        Some(Arrival::NotifyAtCarol { txn, users }),
                    );
                    self.key_last("Participant information delivered to Carol");
                }
            }
            PfInput::CarolUpdateOk { upd } => {
                let _ = upd;
                if let Some(t) = self.refresh_timer.take() {
                    self.stop_timer(t);
                }
                self.arm_refresh();
            }
            // The PF opens its MSRP connection only if it still holds the leg (it may have left
            // while the focus's ACK was on its way).
            // The ACK of its final response to the focus's re-INVITE ends that transaction (Q16).
            PfInput::FocusAck if std::mem::take(&mut self.cf_ack_due) => {}
            PfInput::FocusAck if self.cf_leg.is_some() => self.pf_bind_cf(),
            PfInput::FocusAck => {}
        }
    }

    /// A NOTIFY with the participant information it holds now on Carol's subscription, if she
    /// has one with it (RFC 6665 §4.2.2; RFC 4575 §5.1: the version grows by one).
    pub(in crate::pf) fn notify_client(&mut self, note: &'static str) {
        let Some(mut d) = self.client_sub.clone() else { return };
        let Some(r) = self.roster.as_ref() else { return };
        self.client_sub_version += 1;
        let (users, info, v) = (r.users.clone(), r.info.clone(), self.client_sub_version);
        let target = self.target_for(&d.call_id);
        let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Pf, &target);
        self.client_sub = Some(d);
        n.push("Contact", pf_focus_contact());
        n.push("Event", "conference");
        n.push("Subscription-State", "active;expires=3600");
        n.push("Content-Type", "application/conference-info+xml");
        if self.wire_text() {
            n.body = conference_info_xml(self.cfg.epoch_ms, v, &users, &info);
        }
        let txn = Txn::of(&n);
        self.sip(
            self.dev,
            n,
            cl!["RFC 6665 §4.2.2", "RFC 4575 §4.2", "policy:q13-participant-info"],
            note,
            Some(Arrival::NotifyAtCarol { txn, users: Some(users) }),
        );
        self.q18_stale_note();
    }

    /// A PF timer fires.
    fn timer_fired(&mut self, t: PfTimer) {
        match t {
            PfTimer::TimerB { inv } => self.pf_invite_timeout(inv),
            PfTimer::MsrpTransaction { tx } => {
                let Some(chat) = self.in_flight.iter().find(|f| f.tx == tx).map(|f| f.chat) else { return };
                if self.policy(PolicyId::MsrpLossDetection, "session-refresh") {
                    self.note(
                        StepKind::Timer,
                        "SEND timed out",
                        cl!["RFC 4975 §7.1.1", "policy:msrp-loss-detection"],
                        "No response to this SEND within 30 s; under the session-refresh detector that alone does not count as a lost connection.",
                        Some(chat),
                    );
                } else {
                    self.note(
                        StepKind::Timer,
                        "SEND timed out",
                        cl!["RFC 4975 §7.1.1", "policy:msrp-loss-detection"],
                        "No response to this SEND within 30 s: the PF counts the MSRP connection as lost (a detector the CR's Editor's Note leaves open).",
                        Some(chat),
                    );
                    self.loss_detected("MSRP transaction timeout.");
                }
            }
            PfTimer::Reaction => {
                self.reaction_timer = None;
                self.reacted = true;
                let deliverable = matches!(self.state, PfState::Deferred) || (self.state == PfState::EndedWithBacklog && !self.store.is_empty());
                if deliverable {
                    self.path_a("The PF reacts to the 3rd-party REGISTER: it invites Carol back for deferred delivery (path A).", cl![CL]);
                }
            }
            PfTimer::SetupWait => {
                self.setup_timer = None;
                self.note(StepKind::Timer, "MSRP set-up failed", cl![CL, "policy:msrp-loss-detection"], "Carol's client never opened the MSRP connection within 30 s: the MSRP connection set-up towards her failed (how long to wait is not in the CR).", None);
                self.msrp_failed(crate::trace::note_str("The MSRP connection set-up towards Carol failed."));
            }
            PfTimer::Refresh => {
                self.refresh_timer = None;
                if !(matches!(self.state, PfState::Active | PfState::Replaying) && self.client_leg.is_some()) {
                    return;
                }
                let mut d = self.client_leg.clone().unwrap_or_else(|| Dialog::carol_pf(0));
                let from_a = d.a_uri != CAROL;
                let target = self.target_for(&d.call_id);
                let mut m = self.dialog_request("UPDATE", &mut d, from_a, Node::Pf, &target);
                m.push("Session-Expires", "180;refresher=uas");
                // UPDATE is a target refresh request: it carries Contact (RFC 3311 §5.1).
                m.push("Contact", pf_focus_contact());
                self.client_leg = Some(d);
                let upd = self.next(Node::Pf) as u32;
                let txn = Txn::of(&m);
                self.sip(
                    self.dev,
                    m,
                    cl!["RFC 4028 §7.4", "policy:msrp-loss-detection"],
                    "The PF refreshes Carol's session (the detector chosen for a lost connection).",
                    Some(Arrival::UpdateAtCarol { upd, txn }),
                );
                let t1 = self.cfg.t1_ms;
                self.refresh_timer = Some(self.arm(PfTimer::TimerF { upd }, 64 * t1));
            }
            PfTimer::TimerF { upd } => {
                let _ = upd;
                self.refresh_timer = None;
                self.note(
                    StepKind::Timer,
                    "refresh failed",
                    cl!["RFC 3261 §17.1.2.2", "policy:msrp-loss-detection"],
                    "The session refresh got no answer before Timer F (64×T1): the PF counts Carol's connection as lost.",
                    None,
                );
                self.loss_detected("Session refresh failure.");
            }
            PfTimer::Retry => {
                if self.state == PfState::Deferred && self.invite.is_none() {
                    self.path_a("Q3 policy: the PF tries its INVITE again 30 s after the last timeout.", cl![CL, "policy:q3-unreachable-on-register"]);
                }
            }
            PfTimer::SubscriptionRefresh => self.refresh_subscription(),
            PfTimer::SubscriptionRetry => self.q18_retry(),
            PfTimer::NoAnswer { inv } => self.q4_no_answer(inv),
            PfTimer::StillRegistered => self.still_registered_fired(),
            PfTimer::Retention => {
                self.retention_timer = None;
                if matches!(self.state, PfState::Deferred | PfState::DeliveringA) {
                    let note = if self.reaction_timer.is_some() {
                        // A stated choice (issue 11 #9): the retention is the store's limit, and a
                        // REGISTER the PF has not reacted to yet does not extend it.
                        "The retention time ends while the PF's reaction to Carol's 3rd-party REGISTER is still due: the limit wins (our choice: a pending reaction does not extend the retention), so the PF gives up the deferral."
                    } else {
                        "Carol has not come back within the retention time: the PF gives up the deferral."
                    };
                    self.note(StepKind::Timer, "retention expired", cl!["policy:q7-never-returns"], note, None);
                    self.key_last("Retention expired: the PF gives up (Q7 policy)");
                    self.pf_leave(
                        Some("SIP;cause=480;text=\"Temporarily Unavailable\""),
                        false,
                        cl!["policy:q7-never-returns"],
                        "Retention expired: stored messages are lost.",
                    );
                }
            }
        }
    }
}

/// Its state changes and its view of its MSRP session.
impl Pf {
    /// Changes the PF state and reports it; false when the state did not change.
    pub(in crate::pf) fn set_state(&mut self, s: PfState, clauses: Clauses, note: impl Into<Cow<'static, str>>) -> bool {
        if self.state == s {
            return false;
        }
        self.state = s;
        self.emit(PfOutput::State { state: s, clauses, note: crate::trace::note_text(note) });
        true
    }

    /// (The PF's own path, Carol's path) of the session the PF uses towards her now.
    #[cfg(feature = "wire-text")]
    pub(in crate::pf) fn pf_view(&mut self) -> (Arc<str>, Arc<str>) {
        let key = self.carol_paths;
        match &self.view {
            Some((k, own, peer)) if *k == key => (own.clone(), peer.clone()),
            _ => {
                let (own, peer): (Arc<str>, Arc<str>) = (self.pf_path_n(key.1).into(), self.carol_path_n(key.0).into());
                self.view = Some((key, own.clone(), peer.clone()));
                (own, peer)
            }
        }
    }

    /// Without wire texts the paths are empty (only the texts show them).
    #[cfg(not(feature = "wire-text"))]
    pub(in crate::pf) fn pf_view(&mut self) -> (String, String) {
        (String::new(), String::new())
    }
}
