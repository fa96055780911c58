//! Carol's Participating Function: §8.3.2.9 "Deferred CPM Group Session handling" as amended by
//! the CR (three triggers, subscription to the focus, delivery paths A and B) and, under
//! [`Rules::PreCr`], the text before it (only the BYE trigger). Everything the CR leaves open
//! is a named policy and cites `policy:<id>`.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::wire::reason::ReasonValue;
use crate::world::actors::PF_HOST_URI;
use crate::world::build::*;
use crate::world::*;
use std::borrow::Cow;

const CL: &str = "8.3.2.9";

/// How a client BYE is read.
enum ByeClass {
    /// §8.3.2.9 case 1: Reason protocol SIP with a cause other than 200.
    Trigger,
    /// Deferral only because the Q6 policy reads it broadly.
    BroadTrigger,
    /// Not a deferral trigger: normal §8.2.2.3 handling (leave the group).
    Leave,
}

fn classify(reason: &Option<(String, Vec<ReasonValue>)>, broad: bool) -> ByeClass {
    let Some((_, values)) = reason else {
        return if broad { ByeClass::BroadTrigger } else { ByeClass::Leave };
    };
    if values.iter().any(|v| v.is("SIP") && v.cause.is_some_and(|c| c != 200)) {
        return ByeClass::Trigger;
    }
    if values.iter().any(|v| v.is("SIP") && v.cause == Some(200)) {
        return ByeClass::Leave;
    }
    if broad {
        let failure = values.iter().any(|v| match v.protocol.to_ascii_uppercase().as_str() {
            "Q.850" => v.cause.is_some_and(|c| c != 16 && c != 31),
            "RELEASE_CAUSE" => v.cause.is_some_and(|c| c != 1),
            "FAILURE_CAUSE" => true,
            _ => false,
        });
        if failure {
            return ByeClass::BroadTrigger;
        }
    }
    ByeClass::Leave
}

/// The PF's record of the dialog that Carol's INVITE `txn` creates (RFC 3261 §12.1.1): her side
/// from the request (Call-ID, From tag), its own tag a function of the Call-ID (her client's
/// Call-IDs carry her session number), so it needs nothing but the request.
fn client_dialog(txn: &Txn) -> Dialog {
    let n = txn.call_id.strip_prefix("c-").and_then(|r| r.split('-').next()).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or(0);
    let mut d = Dialog::carol_pf(n);
    d.a_tag = txn.from.split(";tag=").nth(1).unwrap_or("c").to_string();
    d.call_id = txn.call_id.clone();
    // Its route set: the request's Record-Route as it is (RFC 3261 §12.1.1).
    d.route = route_set(txn.record_route.as_deref(), false);
    d
}

impl World<'_> {
    /// The body of the PF's session offer or answer to Carol (its INVITE on path A, its 200 to
    /// a re-join on path B): the SDP, with the Participant Information as a conference-info part
    /// under Q13 `in-session-setup`. That information is what the focus's NOTIFYs told the PF
    /// (RFC 4575 §4.2); before the first one it has none to include. Returns the list included.
    fn session_body(&self, m: &mut crate::wire::sip::SipMessage, sdp: String) -> Option<Vec<Participant>> {
        let info = self.pf.roster.clone().filter(|_| self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup"));
        let Some((version, users)) = info else {
            m.push("Content-Type", "application/sdp");
            m.body = sdp;
            return None;
        };
        let xml = self.conference_info(version, &users);
        let (ct, body) = Self::multipart(&sdp, &xml);
        m.push("Content-Type", ct);
        m.body = body;
        Some(users)
    }

    pub(crate) fn pf_arrival(&mut self, a: Arrival, step: u32) {
        match a {
            Arrival::CfSendAtPf { chat, tid } => self.pf_gets_chat(chat, tid),
            Arrival::CarolSendAtPf { chat, tid } => {
                let (own, peer) = self.pf_view();
                let raw = self.ok_text(&tid, &own, &peer);
                self.msrp(Node::Pf, Node::Carol, raw, "200 OK", cl!["RFC 4975 §7.2"], "The PF acknowledges Carol's SEND.", Some(chat), None);
                if self.pf.cf_leg.is_some() && self.pf.cf_media {
                    let body = self.chat_body(chat);
                    let (raw, tid) = self.send_text(self.cf_pf_path(), self.pf_cf_path(), Some(&body));
                    self.msrp(
                        Node::Pf,
                        Node::Cf,
                        raw,
                        "SEND",
                        cl!["RFC 4975 §7.1.1"],
                        "The PF relays Carol's message to the focus.",
                        Some(chat),
                        Some(Arrival::PfSendAtCf { chat, tid }),
                    );
                }
            }
            Arrival::CarolOkAtPf { tx } => {
                if let Some(pos) = self.pf.in_flight.iter().position(|f| f.tx == tx) {
                    let f = self.pf.in_flight.remove(pos);
                    self.stop_timer(f.timer);
                    self.deliver_mark(f.chat, f.replay);
                    self.chat_delivered(f.chat, step);
                    if f.replay {
                        self.note(
                            Node::Pf,
                            StepKind::Deliver,
                            format!("delivered #{}", f.chat),
                            cl![CL],
                            "A stored message has reached Carol: deferred delivery over MSRP.",
                            Some(f.chat),
                        );
                        self.pump();
                    }
                }
            }
            Arrival::BindAtPf { tid } => {
                let (own, peer) = self.pf_view();
                let raw = self.ok_text(&tid, &own, &peer);
                self.msrp(Node::Pf, Node::Carol, raw, "200 OK", cl!["RFC 4975 §7.2"], "The PF binds the new MSRP connection to Carol's session.", None, None);
                if let Some(t) = self.pf.setup_timer.take() {
                    self.stop_timer(t);
                }
                self.client_session_up();
            }
            Arrival::CarolInviteAtPf { txn, rejoin, no } => self.pf_gets_client_invite(txn, rejoin, no),
            Arrival::CfRespAtPf { code, txn } => self.pf_gets_cf_response(code, txn),
            Arrival::CarolCancelAtPf { txn } => self.pf_gets_client_cancel(txn),
            Arrival::CarolAckAtPf { delivery } => {
                let _ = delivery;
                // Through the IMS core her ACK may come after her client has already opened and
                // bound the MSRP connection (Active or Replaying): then there is nothing to wait for.
                if !matches!(self.pf.state, PfState::Active | PfState::Replaying) {
                    self.pf.setup_timer = Some(self.arm(PfTimer::SetupWait, MSRP_TIMEOUT_MS));
                }
            }
            Arrival::CarolRespAtPf { inv, code, txn } => self.pf_gets_invite_response(inv, code, txn),
            Arrival::CarolByeAtPf { txn, reason } => self.pf_gets_client_bye(txn, reason, step),
            Arrival::CfByeAtPf { txn } => self.pf_gets_cf_bye(txn),
            Arrival::CfInviteAtPf { txn } => self.pf_gets_cf_invite(txn),
            Arrival::NotifyAtPf { txn, terminated, roster } => {
                let r = self.response(200, &txn, None);
                self.sip(Node::Pf, Node::Cf, &r, cl!["RFC 6665 §4.1.3"], "The PF accepts the NOTIFY.", None);
                // The NOTIFY's From tag is the focus's tag of the subscription dialog (RFC 6665
                // §4.1.2.4): the PF learns it here, from what reached it.
                if let Some(d) = self.pf.sub.as_mut().filter(|d| d.call_id == txn.call_id) {
                    d.b_tag = txn.from.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
                }
                if terminated {
                    if self.pf.sub.as_ref().is_some_and(|d| d.call_id == txn.call_id) {
                        self.pf.sub = None;
                    }
                } else if let Some((version, users)) = roster {
                    // Keep what the NOTIFY said (RFC 4575 §4.2), not the focus's state now.
                    if self.pf.roster.as_ref().is_none_or(|(v, _)| *v < version) {
                        self.pf.roster = Some((version, users.clone()));
                        self.snapshot("pf", users);
                    }
                }
            }
            Arrival::RegisterAtPf { txn, reaction_ms } => self.pf_gets_register(txn, reaction_ms),
            Arrival::ClientSubscribeAtPf { txn } => {
                let mut r = self.response(200, &txn, Some("pfs-1"));
                r.push("Expires", "3600");
                r.push("Contact", pf_focus_contact());
                self.sip(
                    Node::Pf,
                    Node::Carol,
                    &r,
                    cl!["RFC 6665 §4.2.1", "policy:q13-participant-info"],
                    "The PF accepts Carol's conference subscription itself.",
                    None,
                );
                // Its own record of the dialog: Carol's side from the SUBSCRIBE, its own tag.
                let tag_of = |h: &str| h.split(";tag=").nth(1).unwrap_or("").split(';').next().unwrap_or("").to_string();
                self.pf.client_sub = Some(Dialog {
                    call_id: txn.call_id.clone(),
                    a_uri: CAROL.into(),
                    a_tag: tag_of(&txn.from),
                    b_uri: GROUP.into(),
                    b_tag: "pfs-1".into(),
                    a_cseq: txn.cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
                    b_cseq: 0,
                    route: route_set(txn.record_route.as_deref(), false),
                });
                if let Some(mut d) = self.pf.client_sub.clone() {
                    let mut n = self.dialog_request("NOTIFY", &mut d, false, Node::Pf, &format!("sip:carol@{CAROL_IP}:5060;transport=tcp"));
                    self.pf.client_sub = Some(d);
                    n.push("Contact", pf_focus_contact());
                    n.push("Event", "conference");
                    n.push("Subscription-State", "active;expires=3600");
                    n.push("Content-Type", "application/conference-info+xml");
                    let users = self.pf.roster.clone().map_or_else(|| self.roster_now(), |(_, u)| u);
                    // The first (and only) NOTIFY of Carol's new subscription: version 1 (RFC 4575 §5.1).
                    n.body = self.conference_info(1, &users);
                    let txn = Txn::of(&n);
                    // What her client will show: the list the PF held from the focus, if any.
                    let users = self.pf.roster.clone().map(|(_, u)| u);
                    self.sip(
                        Node::Pf,
                        Node::Carol,
                        &n,
                        cl![CL, "policy:q13-participant-info"],
                        "The PF delivers the latest Participant Information it kept from the focus, as a full-state NOTIFY.",
                        Some(Arrival::NotifyAtCarol { txn, users }),
                    );
                    self.key_last("Participant information delivered to Carol");
                }
            }
            Arrival::UpdateOkAtPf { upd } => {
                let _ = upd;
                if let Some(t) = self.pf.refresh_timer.take() {
                    self.stop_timer(t);
                }
                self.arm_refresh();
            }
            // The PF opens its MSRP connection only if it still holds the leg (it may have left
            // while the focus's ACK was on its way).
            Arrival::CfAckAtPf if self.pf.cf_leg.is_some() => self.pf_bind_cf(),
            Arrival::CfAckAtPf => {}
            other => {
                let _ = other;
            }
        }
    }

    /// Arms PF timer `t` to fire in `dur` ms; returns its id (to stop it).
    pub(crate) fn arm(&mut self, t: PfTimer, dur: u64) -> u32 {
        self.start_timer(TimerKind::Pf(t), dur, t.name(), t.clause(), Node::Pf, t.shown_when_stopped())
    }

    /// A PF timer fires.
    pub(crate) fn pf_timer_fired(&mut self, t: PfTimer) {
        match t {
            PfTimer::TimerB { inv } => self.pf_invite_timeout(inv),
            PfTimer::MsrpTransaction { tx } => {
                let Some(f) = self.pf.in_flight.iter().find(|f| f.tx == tx).copied() else { return };
                if self.policy(PolicyId::MsrpLossDetection, "session-refresh") {
                    self.note(
                        Node::Pf,
                        StepKind::Timer,
                        "SEND timed out",
                        cl!["RFC 4975 §7.1.1", "policy:msrp-loss-detection"],
                        "No response to this SEND within 30 s; under the session-refresh detector that alone does not count as a lost connection.",
                        Some(f.chat),
                    );
                } else {
                    self.note(
                        Node::Pf,
                        StepKind::Timer,
                        "SEND timed out",
                        cl!["RFC 4975 §7.1.1", "policy:msrp-loss-detection"],
                        "No response to this SEND within 30 s: the PF counts the MSRP connection as lost (a detector the CR's Editor's Note leaves open).",
                        Some(f.chat),
                    );
                    self.loss_detected("MSRP transaction timeout.");
                }
            }
            PfTimer::Reaction => {
                self.pf.reaction_timer = None;
                self.pf.reacted = true;
                let deliverable = matches!(self.pf.state, PfState::Deferred) || (self.pf.state == PfState::EndedWithBacklog && !self.pf.store.is_empty());
                if deliverable {
                    self.path_a("The PF reacts to the 3rd-party REGISTER: it invites Carol back for deferred delivery (path A).", cl![CL]);
                }
            }
            PfTimer::SetupWait => {
                self.pf.setup_timer = None;
                self.note(Node::Pf, StepKind::Timer, "MSRP set-up failed", cl![CL, "policy:msrp-loss-detection"], "Carol's client never opened the MSRP connection within 30 s: the MSRP connection set-up towards her failed (how long to wait is not in the CR).", None);
                self.msrp_failed("The MSRP connection set-up towards Carol failed.");
            }
            PfTimer::Refresh => {
                self.pf.refresh_timer = None;
                if !(matches!(self.pf.state, PfState::Active | PfState::Replaying) && self.pf.client_leg.is_some()) {
                    return;
                }
                let mut d = self.pf.client_leg.clone().unwrap_or_else(|| Dialog::carol_pf(0));
                let from_a = d.a_uri != CAROL;
                let mut m = self.dialog_request("UPDATE", &mut d, from_a, Node::Pf, &format!("sip:carol@{CAROL_IP}:5060;transport=tcp"));
                m.push("Session-Expires", "180;refresher=uas");
                // UPDATE is a target refresh request: it carries Contact (RFC 3311 §5.1).
                m.push("Contact", pf_focus_contact());
                self.pf.client_leg = Some(d);
                let upd = self.next() as u32;
                let txn = Txn::of(&m);
                self.sip(
                    Node::Pf,
                    Node::Carol,
                    &m,
                    cl!["RFC 4028 §7.4", "policy:msrp-loss-detection"],
                    "The PF refreshes Carol's session (the detector chosen for a lost connection).",
                    Some(Arrival::UpdateAtCarol { upd, txn }),
                );
                let t1 = self.sc.t1_ms;
                self.pf.refresh_timer = Some(self.arm(PfTimer::TimerF { upd }, 64 * t1));
            }
            PfTimer::TimerF { upd } => {
                let _ = upd;
                self.pf.refresh_timer = None;
                self.note(
                    Node::Pf,
                    StepKind::Timer,
                    "refresh failed",
                    cl!["RFC 3261 §17.1.2.2", "policy:msrp-loss-detection"],
                    "The session refresh got no answer before Timer F (64×T1): the PF counts Carol's connection as lost.",
                    None,
                );
                self.loss_detected("Session refresh failure.");
            }
            PfTimer::Retry => {
                if self.pf.state == PfState::Deferred && self.pf.invite.is_none() {
                    self.path_a("Q3 policy: the PF tries its INVITE again 30 s after the last timeout.", cl![CL, "policy:q3-unreachable-on-register"]);
                }
            }
            PfTimer::Retention => {
                self.pf.retention_timer = None;
                if matches!(self.pf.state, PfState::Deferred | PfState::DeliveringA) {
                    self.note(
                        Node::Pf,
                        StepKind::Timer,
                        "retention expired",
                        cl!["policy:q7-never-returns"],
                        "Carol has not come back within the retention time: the PF gives up the deferral.",
                        None,
                    );
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

    // ------------------------------------------------------------------ messages from the CF

    fn pf_gets_chat(&mut self, chat: u32, tid: String) {
        let raw = self.ok_text(&tid, self.pf_cf_path(), self.cf_pf_path());
        let deferring = !matches!(self.pf.state, PfState::Active | PfState::Replaying | PfState::Idle | PfState::Inviting);
        let note = if deferring {
            "The PF keeps answering the focus's SENDs: it remains in the media path for Carol."
        } else {
            "The PF acknowledges the SEND hop by hop."
        };
        self.msrp(Node::Pf, Node::Cf, raw, "200 OK", if deferring { cl![CL] } else { cl!["RFC 4975 §7.2"] }, note, Some(chat), None);
        if !self.chat_for_carol(chat) {
            return;
        }
        match self.pf.state {
            PfState::Active => self.send_to_carol(chat, false),
            PfState::Replaying => {
                if self.policy(PolicyId::Q11LiveDuringReplay, "interleave") {
                    self.note(
                        Node::Pf,
                        StepKind::Info,
                        "forwarded during replay",
                        cl!["policy:q11-live-during-replay"],
                        "Q11 policy interleave: a live message goes to Carol at once, between replayed ones.",
                        Some(chat),
                    );
                    self.send_to_carol(chat, false);
                } else {
                    self.store_chat(
                        chat,
                        cl!["policy:q11-live-during-replay"],
                        "Q11 policy: a live message that arrives during the replay joins the end of the store, so Carol sees one order.",
                    );
                }
            }
            PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::EndedWithBacklog => {
                self.store_chat(chat, cl![CL], "Deferred: the PF stores every further CPM Message of the group session for later delivery to Carol.");
            }
            _ => self.lose(chat, "Carol's PF has no session with her and is not deferring: the message cannot reach her.", cl![CL]),
        }
    }

    fn store_chat(&mut self, chat: u32, clauses: Clauses, note: &'static str) {
        self.pf.store.push_back(chat);
        let step = self.note(Node::Pf, StepKind::Store, format!("stored #{chat}"), clauses, note, Some(chat));
        let q = self.pf.store.len();
        self.mark_key(step, format!("Stored message #{chat} for Carol (store: {q})"));
        self.chat_stored(chat, step);
        if self.pf.state == PfState::Replaying {
            self.pump();
        }
    }

    /// Sends `chat` to Carol over her MSRP session.
    fn send_to_carol(&mut self, chat: u32, replay: bool) {
        let body = self.chat_body(chat);
        let (from, to) = self.pf_view();
        let (raw, tid) = self.send_text(&to, &from, Some(&body));
        let tx = self.next() as u32;
        let (clauses, note): (Clauses, &'static str) = if replay {
            (cl![CL], "Deferred delivery: the PF sends the next stored message to Carol over MSRP, in the order it was stored.")
        } else {
            (cl!["RFC 4975 §7.1.1"], "The PF relays the group message to Carol.")
        };
        let step = self.msrp(Node::Pf, Node::Carol, raw, "SEND", clauses, note, Some(chat), Some(Arrival::PfSendAtCarol { chat, tx, tid }));
        let timer = self.arm(PfTimer::MsrpTransaction { tx }, MSRP_TIMEOUT_MS);
        self.pf.in_flight.push(InFlight { tx, chat, timer, replay });
        if replay {
            self.chat_in_flight(chat, step);
        }
    }

    /// Replays the store one message at a time; ends the delivery when it is empty.
    fn pump(&mut self) {
        if self.pf.state != PfState::Replaying || self.pf.in_flight.iter().any(|f| f.replay) {
            return;
        }
        if let Some(chat) = self.pf.store.pop_front() {
            self.send_to_carol(chat, true);
            return;
        }
        if self.pf.close_after_flush {
            self.bye_carol(
                "SIP;cause=410;text=\"Gone\"",
                cl!["policy:q8-group-ends"],
                "Q8 policy: the group session ended while Carol was away; after delivering what was stored, the PF closes her session.",
            );
            if let Some(i) = self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "The backlog is delivered and the group session is over.") {
                self.mark_key(i, "Backlog delivered; the PF closes Carol's session (Q8 policy)");
            }
            return;
        }
        if let Some(i) = self.set_state(PfState::Active, cl![CL], "Deferred delivery complete: the store is empty and Carol is a normal participant again.") {
            self.mark_key(i, "Replay ends: Carol has everything she missed");
        }
        if self.policy(PolicyId::SubscriptionEnd, "after-delivery") && self.pf.sub.is_some() {
            self.unsubscribe(
                cl!["RFC 6665 §4.1.2.3", "policy:subscription-end"],
                "The deferred delivery is done, so the PF no longer needs the focus's Participant Information and ends its subscription (when is not in the CR).",
            );
        }
    }

    // ------------------------------------------------------------------ deferral

    /// Enters deferral: remain in the media path with the CF, store, subscribe to the focus.
    fn enter_deferred(&mut self, clauses: Clauses, why: String) {
        self.pf.client_leg = None;
        self.pf.delivery_session = false;
        if let Some(t) = self.pf.setup_timer.take() {
            self.stop_timer(t);
        }
        if let Some(t) = self.pf.refresh_timer.take() {
            self.stop_timer(t);
        }
        self.requeue_in_flight();
        let state = if self.pf.group_gone { PfState::EndedWithBacklog } else { PfState::Deferred };
        if let Some(i) = self.set_state(state, clauses, why) {
            self.mark_key(i, if self.pf.group_gone { "Deferred, with the group already over" } else { "Deferred: the PF stays in the group for Carol" });
        }
        if self.pf.group_gone {
            if self.pf.store.is_empty() {
                self.set_state(PfState::Ended, cl![CL], "Nothing is stored and the group session is over.");
            }
            return;
        }
        self.note(
            Node::Pf,
            StepKind::Info,
            "stays in media path",
            cl![CL],
            "The PF sends no BYE to the focus: Carol's leg stays up, so the group still sees her as a participant.",
            None,
        );
        if self.pf.sub.is_none() {
            self.subscribe();
        }
        if self.pf.retention_timer.is_none() {
            let dur = match self.pol.get(PolicyId::Q7NeverReturns) {
                "expire-10min" => Some(600_000),
                "expire-1h" => Some(3_600_000),
                _ => None,
            };
            if let Some(d) = dur {
                self.pf.retention_timer = Some(self.arm(PfTimer::Retention, d));
            }
        }
    }

    /// SUBSCRIBE to the focus (§8.2.2.6.2).
    fn subscribe(&mut self) {
        let n = self.next();
        let d = Dialog {
            call_id: format!("pfsub-{n:x}@{PF_HOST}"),
            a_uri: CAROL.into(),
            a_tag: format!("pfsub-{n:x}"),
            b_uri: GROUP.into(),
            b_tag: String::new(),
            a_cseq: 1,
            b_cseq: 0,
            route: String::new(),
        };
        let mut m = self.new_request("SUBSCRIBE", GROUP, Node::Pf, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{GROUP}>"), &d.call_id, 1);
        m.push("Contact", format!("<{PF_HOST_URI}>"));
        m.push("Event", "conference");
        m.push("Accept", "application/conference-info+xml");
        m.push("Expires", "3600");
        self.pf.sub = Some(d);
        // conference-info versions count per subscription (RFC 4575 §5.1): the new one starts
        // again at 1, so the version kept from an earlier subscription no longer compares.
        if let Some((v, _)) = self.pf.roster.as_mut() {
            *v = 0;
        }
        let txn = Txn::of(&m);
        self.sip(
            Node::Pf,
            Node::Cf,
            &m,
            cl!["8.2.2.6.2", CL],
            "The PF subscribes to the focus of the group session to obtain the latest Participant Information for the deferred delivery.",
            Some(Arrival::SubscribeAtCf { txn, expires: 3600 }),
        );
        self.key_last("The PF subscribes to the focus");
    }

    fn unsubscribe(&mut self, clauses: Clauses, note: &'static str) {
        let Some(mut d) = self.pf.sub.clone() else { return };
        let mut m = self.dialog_request("SUBSCRIBE", &mut d, true, Node::Pf, GROUP);
        // A SUBSCRIBE is a target refresh request: it carries Contact (RFC 6665 §4.1.2).
        m.push("Contact", format!("<{PF_HOST_URI}>"));
        m.push("Event", "conference");
        m.push("Expires", "0");
        // The PF is done with this subscription now; the focus's final NOTIFY only confirms it.
        self.pf.sub = None;
        let _ = d;
        let txn = Txn::of(&m);
        self.sip(Node::Pf, Node::Cf, &m, clauses, note, Some(Arrival::SubscribeAtCf { txn, expires: 0 }));
    }

    /// Q12: what happens to SENDs towards Carol that had no 200 when her session went away.
    fn requeue_in_flight(&mut self) {
        let flights = std::mem::take(&mut self.pf.in_flight);
        if flights.is_empty() {
            return;
        }
        let resend = self.policy(PolicyId::Q12InFlightAtLoss, "resend");
        for f in flights.iter().rev() {
            self.stop_timer(f.timer);
            if !self.chat_pending(f.chat) {
                continue;
            }
            if resend {
                self.pf.store.push_front(f.chat);
                let step = self.note(Node::Pf, StepKind::Store, format!("back to store #{}", f.chat), cl!["policy:q12-in-flight-at-loss"], "Q12 policy resend: this SEND had no 200 when the session went away, so it goes back to the front of the store (Carol may see it twice; her client drops copies by imdn.Message-ID).", Some(f.chat));
                let q = self.pf.store.len();
                self.mark_key(step, format!("Unacknowledged message #{} back in the store (Q12 policy; store: {q})", f.chat));
                self.chat_requeued(f.chat, step);
            } else {
                self.lose(
                    f.chat,
                    "Q12 policy count-lost: this SEND had no 200 when the session went away; it is not re-sent.",
                    cl!["policy:q12-in-flight-at-loss"],
                );
            }
        }
    }

    /// The PF counts the MSRP connection to Carol as lost (case 3, or pre-CR: release).
    pub(crate) fn loss_detected(&mut self, why: &'static str) {
        if !matches!(self.pf.state, PfState::Active | PfState::Replaying | PfState::DeliveringB | PfState::DeliveringA)
            || self.pf.client_leg.is_none() && self.pf.state != PfState::DeliveringB
        {
            self.note(
                Node::Pf,
                StepKind::Info,
                "no session to lose",
                cl!["policy:msrp-loss-detection"],
                "The PF has no client session at this moment, so there is nothing more to do.",
                None,
            );
            return;
        }
        self.pf_closes_msrp_to_carol();
        self.msrp_failed(why);
    }

    /// Case 3 of §8.3.2.9 (set-up failed or connection lost).
    fn msrp_failed(&mut self, why: &'static str) {
        // The step recorded last is what detected the failure (a timer, a reset, a re-join).
        self.key_last(match self.rules {
            Rules::PostCr => "Trigger: the MSRP connection to Carol failed",
            Rules::PreCr => "MSRP connection failed: no deferral trigger before the CR",
        });
        if self.pf.client_leg.is_some() && self.policy(PolicyId::Q19DialogOnMsrpLoss, "bye-client") {
            self.bye_carol(
                "SIP;cause=480;text=\"Temporarily Unavailable\"",
                cl!["policy:q19-dialog-on-msrp-loss"],
                "Q19 policy: without MSRP the PF also ends Carol's SIP dialog, with an involuntary Reason.",
            );
        } else if self.pf.client_leg.is_some() {
            self.note(
                Node::Pf,
                StepKind::Info,
                "dialog left alone",
                cl!["policy:q19-dialog-on-msrp-loss"],
                "Q19 policy keep-dialog: the PF sends Carol's client no BYE; the dialog without media is simply no longer used, and a later delivery uses a new session.",
                None,
            );
        }
        match self.rules {
            Rules::PostCr => {
                self.enter_deferred(cl![CL], format!("{why} Case 3 of §8.3.2.9: the PF remains in the media path with the focus and defers delivery."))
            }
            Rules::PreCr => {
                self.pf.client_leg = None;
                self.note(
                    Node::Pf,
                    StepKind::Info,
                    "no trigger (pre-CR)",
                    cl![CL],
                    format!("{why} Before the CR only a client BYE with an involuntary Reason kept the PF in the group, so it releases Carol's participation."),
                    None,
                );
                self.pf_leave(
                    Some("SIP;cause=480;text=\"Temporarily Unavailable\""),
                    false,
                    cl![CL],
                    "Pre-CR: the PF leaves the group for Carol; what was in flight or stored is lost.",
                );
            }
        }
    }

    /// BYE towards Carol's client on the current client dialog.
    fn bye_carol(&mut self, reason: &str, clauses: Clauses, note: &'static str) {
        let Some(d) = self.pf.client_leg.take() else { return };
        self.bye_dialog(d, reason, clauses, note);
    }

    /// BYE towards Carol's client on dialog `d`.
    fn bye_dialog(&mut self, mut d: Dialog, reason: &str, clauses: Clauses, note: &'static str) {
        let from_a = d.a_uri != CAROL;
        let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Pf, &format!("sip:carol@{CAROL_IP}:5060;transport=tcp"));
        m.push("Reason", reason);
        let txn = Txn::of(&m);
        self.sip(Node::Pf, Node::Carol, &m, clauses, note, Some(Arrival::PfByeAtCarol { txn }));
    }

    /// The PF leaves the group for Carol: BYE to the focus, end the subscription, empty the store.
    fn pf_leave(&mut self, reason: Option<&str>, voluntary: bool, clauses: Clauses, why: &'static str) {
        for t in [self.pf.retention_timer.take(), self.pf.reaction_timer.take(), self.pf.setup_timer.take(), self.pf.refresh_timer.take()].into_iter().flatten()
        {
            self.stop_timer(t);
        }
        if self.pf.sub.is_some() {
            self.unsubscribe(cl!["RFC 6665 §4.1.2.3"], "Carol is no longer in the group: the PF ends its conference subscription.");
        }
        self.pf.cf_media = false;
        if let Some(mut d) = self.pf.cf_leg.take() {
            let from_a = d.a_uri == CAROL;
            let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Pf, GROUP);
            if let Some(r) = reason {
                m.push("Reason", r);
            }
            let txn = Txn::of(&m);
            self.sip(
                Node::Pf,
                Node::Cf,
                &m,
                clauses.clone(),
                "The PF leaves the group session on Carol's behalf.",
                Some(Arrival::PfByeAtCf { txn, voluntary }),
            );
        }
        self.pf.delivery_session = false;
        if let Some(i) = self.set_state(PfState::Left, clauses.clone(), why) {
            self.mark_key(i, if voluntary { "The PF leaves the group: Carol left on purpose" } else { "The PF leaves the group for Carol" });
        }
        self.purge(clauses);
    }

    /// Empties the store and the in-flight list: discarded for a voluntary leaver, lost otherwise.
    fn purge(&mut self, clauses: Clauses) {
        let mut all: Vec<u32> = std::mem::take(&mut self.pf.in_flight)
            .into_iter()
            .map(|f| {
                self.stop_timer(f.timer);
                f.chat
            })
            .collect();
        all.extend(std::mem::take(&mut self.pf.store));
        let (n, first) = (all.len(), self.steps.len() as u32);
        for chat in all {
            if self.carol_entitled() {
                self.lose(chat, "Lost: the PF no longer holds a session for Carol, so this stored message will never reach her.", clauses.clone());
            } else {
                self.discard(chat, "Discarded: Carol left the group voluntarily, so the stored message is not delivered.", clauses.clone());
            }
        }
        if n > 0 {
            let what = if self.carol_entitled() { "lost: Carol will never get" } else { "discarded: Carol left, so she does not get" };
            self.mark_key(first, format!("{n} stored message{} {what} {}", if n == 1 { "" } else { "s" }, if n == 1 { "it" } else { "them" }));
        }
    }

    // ------------------------------------------------------------------ SIP from Carol

    fn pf_gets_client_bye(&mut self, txn: Txn, reason: Option<(String, Vec<ReasonValue>)>, bye_step: u32) {
        if self.pf.client_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            let r = self.response(481, &txn, None);
            self.sip(Node::Pf, Node::Carol, &r, cl!["RFC 3261 §15.1.2"], "The PF has no such dialog with Carol.", None);
            return;
        }
        let r = self.response(200, &txn, None);
        self.sip(Node::Pf, Node::Carol, &r, cl!["8.2.2.3"], "The PF handles the BYE as in §8.2.2.3 and answers 200 OK.", None);
        self.pf.client_leg = None;
        let broad = self.policy(PolicyId::Q6NonSipReason, "broad");
        let class = classify(&reason, broad);
        self.mark_key(
            bye_step,
            match class {
                ByeClass::Trigger => "Trigger: Carol's BYE has Reason SIP with a cause other than 200",
                ByeClass::BroadTrigger => "BYE read as an involuntary drop (Q6 policy)",
                ByeClass::Leave if reason.is_none() => "BYE without Reason: a normal leave",
                ByeClass::Leave if reason.as_ref().is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP"))) => "BYE with Reason SIP cause 200: a normal leave",
                ByeClass::Leave => "BYE whose Reason is not SIP: a normal leave",
            },
        );
        match class {
            ByeClass::Trigger => self.enter_deferred(cl![CL], "Case 1 of §8.3.2.9: the BYE carries Reason protocol SIP with a cause other than 200, so Carol did not leave voluntarily; the PF remains in the media path with the focus.".into()),
            ByeClass::BroadTrigger => self.enter_deferred(cl!["policy:q6-non-sip-reason"], "Q6 policy broad: this BYE is not case 1 of the CR (no SIP cause other than 200), but it signals an involuntary drop, so the PF defers anyway.".into()),
            ByeClass::Leave => {
                let why = if reason.is_none() { "No Reason header: the CR's rule does not apply, so this is a normal leave (§8.2.2.3)." } else { "The Reason is SIP cause 200 or not protocol SIP: the CR's rule does not apply, so this is a normal leave (§8.2.2.3)." };
                let fwd = reason.map(|(raw, _)| raw);
                let voluntary = !self.carol_entitled();
                self.pf_leave(fwd.as_deref(), voluntary, cl!["8.2.2.3"], why);
            }
        }
    }

    /// Carol's INVITE (`no`: the path number of its SDP offer, kept for the answer if the PF takes it).
    fn pf_gets_client_invite(&mut self, txn: Txn, rejoin: bool, no: u32) {
        if !rejoin {
            // Full set-up: the PF relays Carol's group creation to the focus.
            self.trying_to_carol(&txn);
            self.pf.pending_rejoin = Some(txn);
            self.pf.rejoin_no = no;
            self.relay_invite_to_cf("The PF relays Carol's INVITE to the focus (B2BUA).");
            return;
        }
        match self.pf.state {
            PfState::Deferred | PfState::EndedWithBacklog => {
                self.pf.rejoin_no = no;
                self.path_b(txn)
            }
            PfState::DeliveringA => {
                if self.policy(PolicyId::Q1RejoinAfterInvite, "prefer-rejoin") {
                    self.drop_own_invite();
                    if let Some(i) = self.set_state(
                        PfState::Deferred,
                        cl!["policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-rejoin: the re-join came after the PF reacted; the PF gives up its own INVITE and uses the re-join.",
                    ) {
                        self.mark_key(i, "Re-join after the PF's INVITE: the PF gives its INVITE up (Q1 policy)");
                    }
                    self.pf.rejoin_no = no;
                    self.path_b(txn);
                } else {
                    self.reject_client_invite(
                        486,
                        &txn,
                        cl!["policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-own-invite: the PF already invited Carol, so it turns the re-join away with 486 Busy Here.",
                    );
                    self.key_last("Re-join turned away: the PF keeps its own INVITE (Q1 policy)");
                }
            }
            PfState::Active | PfState::Replaying => {
                let own = self.pf.delivery_session && self.pf.invite.as_ref().is_some_and(|i| i.purpose == InvitePurpose::Delivery && i.answered);
                if own && self.policy(PolicyId::Q1RejoinAfterInvite, "prefer-own-invite") {
                    self.reject_client_invite(
                        486,
                        &txn,
                        cl!["policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-own-invite: Carol is already back on the PF's own session, so the re-join gets 486 Busy Here.",
                    );
                    return;
                }
                let why = if own {
                    "Q1 policy prefer-rejoin: the newer re-join replaces the session the PF set up itself."
                } else {
                    "The re-join shows that Carol's old session is gone."
                };
                self.note(
                    Node::Pf,
                    StepKind::Info,
                    "old session is stale",
                    if own { cl!["policy:q1-rejoin-after-invite"] } else { cl!["policy:msrp-loss-detection"] },
                    why,
                    None,
                );
                self.msrp_failed(if own { "Replaced by the re-join." } else { "Carol's old connection is gone." });
                self.pf_gets_client_invite(txn, true, no);
            }
            PfState::Left if self.pf.pending_rejoin.is_some() => {
                self.reject_client_invite(486, &txn, cl!["RFC 3261 §21.4.24"], "The PF is still relaying Carol's previous re-join to the focus.");
            }
            PfState::Left => {
                self.trying_to_carol(&txn);
                self.pf.pending_rejoin = Some(txn);
                self.pf.rejoin_no = no;
                self.relay_invite_to_cf("The PF no longer holds Carol's leg, so it relays the re-join to the focus as a new join (nothing was stored).");
            }
            PfState::Ended => {
                self.reject_client_invite(404, &txn, cl!["RFC 3261 §21.4.5"], "The group session no longer exists.");
            }
            PfState::DeliveringB => {
                self.reject_client_invite(491, &txn, cl!["RFC 3261 §14.2"], "A re-join is already being answered.");
            }
            PfState::Idle | PfState::Inviting => {
                self.reject_client_invite(486, &txn, cl!["RFC 3261 §21.4.24"], "The PF is still setting up Carol's first session.");
            }
        }
    }

    /// Answers one of Carol's INVITEs with a failure `code` (a tag of the PF's own); her client
    /// ACKs it in the same transaction (RFC 3261 §17.1.1.3).
    fn reject_client_invite(&mut self, code: u16, txn: &Txn, clauses: Clauses, note: &'static str) {
        let r = self.response(code, txn, Some(&format!("pf-{code}")));
        let txn = Txn { route: txn.route.clone(), ..Txn::of(&r) };
        self.sip(Node::Pf, Node::Carol, &r, clauses, note, Some(Arrival::PfRespAtCarol { code, txn, delivery: false, no: 0, roster: None }));
    }

    fn relay_invite_to_cf(&mut self, note: &'static str) {
        let d = Dialog::pf_cf(self.next());
        let mut m = self.new_request("INVITE", GROUP, Node::Pf, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{GROUP}>"), &d.call_id, 1);
        self.cpm_headers(&mut m, Node::Pf);
        m.push("Content-Type", "application/sdp");
        m.body = self.sdp("pf", PF_IP, 20001, self.pf_cf_path().to_string(), "active");
        self.pf.cf_leg = Some(d);
        self.pf.cf_media = false;
        let txn = Txn::of(&m);
        self.sip(Node::Pf, Node::Cf, &m, cl!["RFC 3261 §16"], note, Some(Arrival::PfInviteAtCf { txn }));
    }

    /// 100 Trying to an INVITE of Carol's that the PF relays to the focus: its answer takes
    /// another round trip (RFC 3261 §8.2.6.1, §16.2), and it lets her client CANCEL (§9.1).
    fn trying_to_carol(&mut self, txn: &Txn) {
        let r = self.response(100, txn, None);
        self.sip(
            Node::Pf,
            Node::Carol,
            &r,
            cl!["RFC 3261 §8.2.6.1"],
            "The PF tells Carol's client it is working on the INVITE (it relays it to the focus).",
            Some(Arrival::PfTryingAtCarol),
        );
    }

    /// Carol's CANCEL (RFC 3261 §9.2): 200 for the CANCEL; if the INVITE it relays still has no
    /// answer, 487 to Carol, and the leg to the focus is ended when the focus answers.
    fn pf_gets_client_cancel(&mut self, txn: Txn) {
        let r = self.response(200, &txn, Some("pf-92"));
        self.sip(Node::Pf, Node::Carol, &r, cl!["RFC 3261 §9.2"], "The PF accepts Carol's CANCEL.", None);
        let pending = self.pf.pending_rejoin.as_ref().is_some_and(|c| c.call_id == txn.call_id);
        let ctx = if pending { self.pf.pending_rejoin.take() } else { None };
        let Some(ctx) = ctx else {
            self.note(Node::Pf, StepKind::Info, "CANCEL too late", cl!["RFC 3261 §9.2"], "The INVITE was already answered: the CANCEL has no effect.", None);
            return;
        };
        self.pf.relay_cancelled = true;
        let r = self.response(487, &ctx, Some("pf-92"));
        self.sip(
            Node::Pf,
            Node::Carol,
            &r,
            cl!["RFC 3261 §9.2"],
            "The cancelled INVITE ends with 487 Request Terminated.",
            Some(Arrival::PfRespAtCarol { code: 487, txn: Txn { route: ctx.route.clone(), ..Txn::of(&r) }, delivery: false, no: 0, roster: None }),
        );
    }

    fn pf_gets_cf_response(&mut self, code: u16, txn: Txn) {
        if self.pf.pending_rejoin.is_none() && std::mem::take(&mut self.pf.relay_cancelled) {
            // Carol cancelled meanwhile: confirm and end the focus's 2xx at once (RFC 3261 §15).
            if code == 200 {
                if let Some(d) = self.pf.cf_leg.as_mut() {
                    d.b_tag = txn.to.split(";tag=").nth(1).unwrap_or("cf").to_string();
                }
                let d = self.pf.cf_leg.clone().unwrap_or_else(|| Dialog::pf_cf(0));
                let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, GROUP);
                self.sip(Node::Pf, Node::Cf, &ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms its leg to the focus, only to end it: Carol cancelled.", None);
                self.pf_leave(
                    Some("SIP;cause=200;text=\"Call completed\""),
                    true,
                    cl!["8.2.2.3", "RFC 3261 §9.2"],
                    "Carol cancelled her INVITE before it was answered: she left, and so does the PF.",
                );
            } else {
                self.pf.cf_leg = None;
                self.pf.cf_media = false;
            }
            return;
        }
        let Some(ctx) = self.pf.pending_rejoin.take() else { return };
        if code == 200 {
            if let Some(d) = self.pf.cf_leg.as_mut() {
                d.b_tag = txn.to.split(";tag=").nth(1).unwrap_or("cf").to_string();
            }
            let d = self.pf.cf_leg.clone().unwrap_or_else(|| Dialog::pf_cf(0));
            let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, GROUP);
            self.sip(Node::Pf, Node::Cf, &ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms its leg to the focus.", None);
            self.pf_bind_cf();
            let cd = client_dialog(&ctx);
            self.pf.client_leg = Some(cd.clone());
            let mut r = self.response(200, &ctx, Some(&cd.b_tag));
            r.push("Contact", pf_focus_contact());
            r.push("Content-Type", "application/sdp");
            let no = self.pf.rejoin_no;
            self.pf.carol_paths = (no, no);
            r.body = self.sdp("pf", PF_IP, 20000, self.pf_path_n(no), "passive");
            self.pf.delivery_session = false;
            self.set_carol_entitled(true);
            self.sip(
                Node::Pf,
                Node::Carol,
                &r,
                cl!["RFC 3261 §13.3.1"],
                "The PF answers Carol: she is in the group session.",
                Some(Arrival::PfRespAtCarol { code: 200, txn: Txn::of(&r), delivery: false, no, roster: None }),
            );
        } else {
            self.pf.cf_leg = None;
            self.pf.cf_media = false;
            let r = self.response(code, &ctx, Some("pf-x"));
            self.sip(
                Node::Pf,
                Node::Carol,
                &r,
                cl!["RFC 3261 §16.7"],
                "The PF passes the focus's answer on to Carol.",
                Some(Arrival::PfRespAtCarol { code, txn: Txn { route: ctx.route.clone(), ..Txn::of(&r) }, delivery: false, no: 0, roster: None }),
            );
            if code == 404 {
                self.set_state(PfState::Ended, cl!["RFC 3261 §21.4.5"], "The group session no longer exists.");
            }
        }
    }

    fn pf_bind_cf(&mut self) {
        self.pf.cf_media = true;
        let (raw, tid) = self.send_text(self.cf_pf_path(), self.pf_cf_path(), None);
        self.msrp(
            Node::Pf,
            Node::Cf,
            raw,
            "SEND",
            cl!["RFC 4975 §5.4"],
            "The PF opens its MSRP connection to the focus and binds it with an empty SEND.",
            None,
            Some(Arrival::BindAtCf { tid }),
        );
    }

    /// Carol's MSRP connection is bound: the session is usable.
    fn client_session_up(&mut self) {
        self.arm_refresh();
        match self.pf.state {
            PfState::Idle | PfState::Inviting | PfState::Left => {
                let was_left = self.pf.state == PfState::Left;
                if let Some(i) = self.set_state(PfState::Active, cl!["RFC 4975 §5.4"], "Carol's session is complete: both legs are up and the PF relays MSRP.")
                {
                    if was_left {
                        self.mark_key(i, "Carol is back as a new participant: nothing was kept for her");
                    }
                }
            }
            PfState::DeliveringA | PfState::DeliveringB => {
                let n = self.pf.store.len();
                if let Some(i) = self.set_state(
                    PfState::Replaying,
                    cl![CL],
                    "The deferred delivery of the missed CPM Group Session data is performed over MSRP: the PF replays the store in order.",
                ) {
                    self.mark_key(i, format!("Replay starts: {n} stored message{} to deliver", if n == 1 { "" } else { "s" }));
                }
                self.pump();
            }
            _ => {}
        }
    }

    /// Arms the next session refresh (RFC 4028 §10) under the `session-refresh` detector, but
    /// only while scenario events are still to come: after the last one nothing can change, so
    /// further refreshes would only make the run endless.
    pub(crate) fn arm_refresh(&mut self) {
        if self.policy(PolicyId::MsrpLossDetection, "session-refresh") && self.pf.refresh_timer.is_none() && self.events_left > 0 {
            self.pf.refresh_timer = Some(self.arm(PfTimer::Refresh, REFRESH_MS));
        }
    }

    // ------------------------------------------------------------------ path A and B

    fn path_b(&mut self, txn: Txn) {
        if let Some(t) = self.pf.reaction_timer.take() {
            self.stop_timer(t);
            self.note(
                Node::Pf,
                StepKind::Info,
                "no INVITE (path B)",
                cl![CL],
                "Path B: the re-join arrived before the PF reacted to the 3rd-party REGISTER, so the PF SHALL NOT send its own INVITE.",
                None,
            );
        }
        if let Some(t) = self.pf.retention_timer.take() {
            self.stop_timer(t);
        }
        let cd = client_dialog(&txn);
        self.pf.client_leg = Some(cd.clone());
        self.set_carol_entitled(true);
        let mut r = self.response(200, &txn, Some(&cd.b_tag));
        r.push("Contact", pf_focus_contact());
        let no = self.pf.rejoin_no;
        self.pf.carol_paths = (no, no);
        let sdp = self.sdp("pf", PF_IP, 20000, self.pf_path_n(no), "passive");
        // What her client will show from the 200's conference-info part: the list the PF held
        // from the focus, if any.
        let shown = self.session_body(&mut r, sdp);
        self.pf.delivery_session = true;
        self.pf.close_after_flush = self.pf.group_gone;
        let clauses = if self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup") { cl![CL, "policy:q13-participant-info"] } else { cl![CL] };
        self.sip(
            Node::Pf,
            Node::Carol,
            &r,
            clauses,
            "Path B: the PF accepts the re-join itself (its leg to the focus already exists) and will use this session for the deferred delivery.",
            Some(Arrival::PfRespAtCarol { code: 200, txn: Txn::of(&r), delivery: true, no, roster: shown }),
        );
        self.key_last("Path B: Carol re-joined; the PF answers her itself, no INVITE of its own");
        self.set_state(PfState::DeliveringB, cl![CL], "Path B: waiting for ACK and Carol's MSRP connection.");
    }

    fn path_a(&mut self, note: &'static str, clauses: Clauses) {
        let n = self.next();
        let path_no = self.new_path_no();
        let d = Dialog::pf_carol(n);
        let mut m = self.new_request("INVITE", CAROL, Node::Pf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id, 1);
        m.push("Route", "<sip:scscf.ims.example.net;lr>");
        m.push("P-Asserted-Identity", format!("<{GROUP}>"));
        self.cpm_headers_as_focus(&mut m);
        m.push("Subject", SUBJECT);
        let sdp = {
            let p = self.pf_path_n(path_no);
            self.sdp("pf", PF_IP, 20000, p, "actpass")
        };
        let roster = self.session_body(&mut m, sdp);
        let inv = n as u32;
        let txn = Txn::of(&m);
        let timer_b = self.arm(PfTimer::TimerB { inv }, 64 * self.sc.t1_ms);
        self.pf.invite = Some(PfInvite {
            id: inv,
            purpose: InvitePurpose::Delivery,
            txn: txn.clone(),
            timer_b,
            answered: false,
            cancelled: false,
            dialog: d,
            roster,
            path_no,
            provisional: false,
            cancel_wanted: false,
        });
        self.pf.close_after_flush = self.pf.group_gone;
        let roster = self.pf.invite.as_ref().and_then(|i| i.roster.clone());
        self.sip(Node::Pf, Node::Carol, &m, clauses, note, Some(Arrival::PfInviteAtCarol { inv, txn, no: path_no, delivery: true, roster }));
        self.key_last(if self.pf.retries > 0 { "Path A again: the PF invites Carol once more (Q3 policy)" } else { "Path A: the PF invites Carol back" });
        self.set_state(PfState::DeliveringA, cl![CL], "Path A: the PF's INVITE to Carol is under way (Timer B runs).");
    }

    /// Gives up the PF's own delivery INVITE (Q1 prefer-rejoin): CANCEL if unanswered, BYE if answered.
    fn drop_own_invite(&mut self) {
        let Some(mut inv) = self.pf.invite.take() else { return };
        if inv.answered {
            self.stop_timer(inv.timer_b);
            self.bye_carol(
                "SIP;cause=200;text=\"Replaced by re-join\"",
                cl!["policy:q1-rejoin-after-invite"],
                "Q1 policy prefer-rejoin: the PF ends its own session with Carol in favour of her re-join.",
            );
        } else if inv.provisional {
            inv.cancelled = true;
            self.pf.invite = Some(inv);
            self.send_cancel("Q1 policy prefer-rejoin: the PF cancels its pending INVITE because Carol re-joined herself.");
        } else {
            // No provisional response yet: a CANCEL MUST NOT be sent (RFC 3261 §9.1); the PF
            // cancels when the 1xx comes, and ends the session if a 200 comes first.
            inv.cancelled = true;
            inv.cancel_wanted = true;
            self.pf.invite = Some(inv);
            self.note(
                Node::Pf,
                StepKind::Info,
                "CANCEL waits for a 1xx",
                cl!["RFC 3261 §9.1", "policy:q1-rejoin-after-invite"],
                "Q1 policy prefer-rejoin: the PF gives its INVITE up, but no provisional response has come yet, so its CANCEL waits for one.",
                None,
            );
        }
    }

    /// CANCEL for the PF's pending INVITE (RFC 3261 §9.1).
    fn send_cancel(&mut self, note: &'static str) {
        let Some(inv) = self.pf.invite.as_ref() else { return };
        let c = Self::cancel_for(&inv.txn, CAROL);
        let id = inv.id;
        let txn = Txn::of(&c);
        self.sip(Node::Pf, Node::Carol, &c, cl!["RFC 3261 §9.1", "policy:q1-rejoin-after-invite"], note, Some(Arrival::CancelAtCarol { inv: id, txn }));
    }

    fn pf_gets_invite_response(&mut self, inv: u32, code: u16, mut txn: Txn) {
        // The ACK of a failure keeps the INVITE's Route (RFC 3261 §17.1.1.3).
        txn.route = self.pf.invite.as_ref().filter(|i| i.id == inv).and_then(|i| i.txn.route.clone());
        let Some(i) = self.pf.invite.as_ref().filter(|i| i.id == inv) else {
            // A late answer to an INVITE the PF already gave up.
            if (200..300).contains(&code) {
                self.note(
                    Node::Pf,
                    StepKind::Info,
                    "late answer",
                    cl!["policy:q1-rejoin-after-invite"],
                    "An answer to an INVITE the PF already gave up; it is ignored.",
                    None,
                );
            }
            return;
        };
        let (purpose, timer_b, cancelled, path_no, cancel_wanted) = (i.purpose, i.timer_b, i.cancelled, i.path_no, i.cancel_wanted);
        let mut d = i.dialog.clone();
        self.stop_timer(timer_b);
        if code < 200 {
            // Proceeding: Timer B no longer runs (RFC 3261 §17.1.1.2); a CANCEL may go now.
            if let Some(i) = self.pf.invite.as_mut() {
                i.provisional = true;
                i.cancel_wanted = false;
            }
            if cancel_wanted {
                self.send_cancel("Q1 policy prefer-rejoin: the provisional response has come, so the PF now cancels the INVITE it gave up.");
            }
            return;
        }
        d.b_tag = txn.to.split(";tag=").nth(1).unwrap_or("").to_string();
        // The UAC's route set: the 2xx's Record-Route reversed (RFC 3261 §12.1.2).
        d.route = route_set(txn.record_route.as_deref(), true);
        if code == 487 || (cancelled && !(200..300).contains(&code)) {
            let ack = Self::non2xx_ack(&txn, CAROL);
            self.sip(Node::Pf, Node::Carol, &ack, cl!["RFC 3261 §17.1.1.3"], "The PF acknowledges the 487 of its cancelled INVITE.", None);
            self.pf.invite = None;
            return;
        }
        if (200..300).contains(&code) {
            let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, &format!("sip:carol@{CAROL_IP}:5060;transport=tcp"));
            if purpose == InvitePurpose::Delivery && cancelled {
                // Issue 10 #6: the 200 crossed the CANCEL. The PF confirms and ends this extra
                // session (RFC 3261 §15) without taking it as Carol's session: her re-join keeps
                // its dialog and MSRP paths, and nothing waits for an MSRP set-up on this one.
                self.sip(Node::Pf, Node::Carol, &ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms the crossed session with ACK, only to end it.", None);
                self.bye_dialog(
                    d,
                    "SIP;cause=200;text=\"Replaced by re-join\"",
                    cl!["policy:q1-rejoin-after-invite"],
                    "The 200 crossed the CANCEL: the PF ends this extra session; Carol's re-join stays her session.",
                );
                self.pf.invite = None;
                return;
            }
            if let Some(i) = self.pf.invite.as_mut() {
                i.answered = true;
                i.dialog = d.clone();
            }
            self.pf.client_leg = Some(d);
            self.pf.carol_paths = (path_no, path_no);
            self.sip(Node::Pf, Node::Carol, &ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms the session with ACK.", Some(Arrival::PfAckAtCarol { inv }));
            self.pf.setup_timer = Some(self.arm(PfTimer::SetupWait, MSRP_TIMEOUT_MS));
            match purpose {
                InvitePurpose::Delivery => self.pf.delivery_session = true,
                InvitePurpose::ForwardCf => {
                    self.pf.delivery_session = false;
                    self.answer_cf(200, "The PF passes Carol's acceptance on to the focus.", cl!["RFC 3261 §13.3.1"]);
                }
            }
            return;
        }
        let ack = Self::non2xx_ack(&txn, CAROL);
        self.sip(Node::Pf, Node::Carol, &ack, cl!["RFC 3261 §17.1.1.3"], "The PF acknowledges the failure response.", None);
        if code == 408 {
            self.key_last(match (purpose, self.rules) {
                (InvitePurpose::ForwardCf, Rules::PostCr) => "Trigger: 408 from the IMS core, the INVITE to Carol timed out",
                (InvitePurpose::ForwardCf, Rules::PreCr) => "408 from the IMS core: no deferral trigger before the CR",
                (InvitePurpose::Delivery, _) => "408 from the IMS core: Carol did not answer the PF's INVITE",
            });
        }
        self.pf.invite = None;
        self.invite_failed(purpose, Some(code));
    }

    fn pf_invite_timeout(&mut self, inv: u32) {
        let Some(i) = self.pf.invite.as_ref().filter(|i| i.id == inv) else { return };
        if i.answered {
            return;
        }
        let (purpose, cancelled) = (i.purpose, i.cancelled);
        self.pf.invite = None;
        if cancelled {
            // The INVITE it gave up (its CANCEL still waiting for a 1xx) simply times out.
            self.note(
                Node::Pf,
                StepKind::Timer,
                "Timer B fired",
                cl!["RFC 3261 §17.1.1.2"],
                "The INVITE the PF gave up had no answer within 64×T1; nothing more to do.",
                None,
            );
            return;
        }
        self.note(
            Node::Pf,
            StepKind::Timer,
            "Timer B fired",
            cl!["RFC 3261 §17.1.1.2"],
            "No answer from Carol within 64×T1: the INVITE client transaction times out (handled as 408).",
            None,
        );
        self.key_last(match (purpose, self.rules) {
            (InvitePurpose::ForwardCf, Rules::PostCr) => "Trigger: Timer B fired, the INVITE to Carol timed out",
            (InvitePurpose::ForwardCf, Rules::PreCr) => "Timer B fired: no deferral trigger before the CR",
            (InvitePurpose::Delivery, _) => "Timer B fired: Carol did not answer the PF's INVITE",
        });
        self.invite_failed(purpose, None);
    }

    /// The PF's INVITE to Carol failed: `code` None for its own Timer B. Both that and a 408 (the
    /// IMS core's own transaction timed out, RFC 3261 §16.8) are the CR's "timeout" (case 2 of
    /// §8.3.2.9; inference: §8.1.3.1 equates the two) under either Q5 option.
    fn invite_failed(&mut self, purpose: InvitePurpose, code: Option<u16>) {
        let literal = self.policy(PolicyId::Q5InviteError, "literal");
        let code = code.filter(|c| *c != 408);
        let like_timeout = match code {
            None => true,
            Some(480 | 486 | 503) => !literal,
            _ => false,
        };
        let decline = code == Some(603) && !literal;
        let with_q5: Clauses = if code.is_some() { cl![CL, "policy:q5-invite-error"] } else { cl![CL] };
        match purpose {
            InvitePurpose::ForwardCf => {
                self.set_carol_entitled(!decline);
                if like_timeout && self.rules == Rules::PostCr {
                    let cl = with_q5.clone();
                    self.answer_cf(
                        200,
                        "Case 2 of §8.3.2.9: the INVITE to Carol timed out, so the PF answers the focus itself and remains in the media path for her.",
                        cl.clone(),
                    );
                    self.enter_deferred(
                        cl,
                        "Case 2 of §8.3.2.9: timeout of the SIP INVITE sent to Carol; the PF stays in the group session and stores for her.".into(),
                    );
                } else {
                    let c = code.unwrap_or(408);
                    let why = if self.rules == Rules::PreCr && like_timeout {
                        "Before the CR an INVITE timeout was no deferral trigger: the PF reports the failure to the focus and Carol is not in the group."
                    } else {
                        "The PF reports the failure to the focus: Carol is not in the group."
                    };
                    let cl = with_q5.clone();
                    self.answer_cf(c, why, cl.clone());
                    if let Some(i) = self.set_state(PfState::Left, cl, why) {
                        self.mark_key(i, "Carol is not in the group: the PF reports the failure");
                    }
                }
            }
            InvitePurpose::Delivery => {
                if decline {
                    self.set_carol_entitled(false);
                    self.pf_leave(
                        Some("SIP;cause=603;text=\"Decline\""),
                        true,
                        cl!["policy:q5-invite-error"],
                        "Q5 policy: 603 Decline means Carol left the chat voluntarily; the PF leaves the group and discards the store.",
                    );
                } else if like_timeout {
                    let cl: Clauses = match (self.rules, code) {
                        (Rules::PostCr, None) => cl![CL, "policy:q3-unreachable-on-register"],
                        (_, Some(_)) => cl!["policy:q5-invite-error", "policy:q3-unreachable-on-register"],
                        (Rules::PreCr, None) => cl!["policy:q3-unreachable-on-register"],
                    };
                    if let Some(i) = self.set_state(
                        PfState::Deferred,
                        cl.clone(),
                        "Carol is still unreachable: the PF stays deferred and keeps storing (Q3 policy decides when to try again).",
                    ) {
                        self.mark_key(i, "Still unreachable: the PF stays deferred (Q3 policy)");
                    }
                    if self.policy(PolicyId::Q3UnreachableOnRegister, "retry-30s") && self.pf.retries < 3 {
                        self.pf.retries += 1;
                        self.arm(PfTimer::Retry, 30_000);
                    }
                } else {
                    self.pf_leave(
                        Some("SIP;cause=480;text=\"Temporarily Unavailable\""),
                        false,
                        cl!["policy:q5-invite-error"],
                        "Q5 policy literal: only a timeout keeps the deferral; this error ends Carol's participation and the store is lost.",
                    );
                }
            }
        }
    }

    fn pf_gets_cf_invite(&mut self, txn: Txn) {
        let path_no = self.new_path_no();
        let r = self.response(100, &txn, None);
        self.sip(Node::Pf, Node::Cf, &r, cl!["RFC 3261 §8.2.6.1"], "The PF tells the focus it is working on the invitation.", None);
        self.pf.cf_invite = Some(txn);
        let n = self.next();
        let d = Dialog::pf_carol(n);
        let mut m = self.new_request("INVITE", CAROL, Node::Pf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id, 1);
        m.push("P-Asserted-Identity", format!("<{GROUP}>"));
        self.cpm_headers_as_focus(&mut m);
        m.push("Subject", SUBJECT);
        m.push("Content-Type", "application/sdp");
        m.body = {
            let p = self.pf_path_n(path_no);
            self.sdp("pf", PF_IP, 20000, p, "actpass")
        };
        let inv = n as u32;
        let itxn = Txn::of(&m);
        let timer_b = self.arm(PfTimer::TimerB { inv }, 64 * self.sc.t1_ms);
        self.pf.invite = Some(PfInvite {
            id: inv,
            purpose: InvitePurpose::ForwardCf,
            txn: itxn.clone(),
            timer_b,
            answered: false,
            cancelled: false,
            dialog: d,
            roster: None,
            path_no,
            provisional: false,
            cancel_wanted: false,
        });
        self.sip(
            Node::Pf,
            Node::Carol,
            &m,
            cl!["RFC 3261 §16"],
            "The PF forwards the focus's invitation to Carol's client.",
            Some(Arrival::PfInviteAtCarol { inv, txn: itxn, no: path_no, delivery: false, roster: None }),
        );
        self.set_state(PfState::Inviting, cl!["RFC 3261 §17.1.1"], "The PF waits for Carol's answer; Timer B runs.");
    }

    /// Answers the CF's pending INVITE for Carol (setup `cf_invites`).
    fn answer_cf(&mut self, code: u16, note: &'static str, clauses: Clauses) {
        let Some(txn) = self.pf.cf_invite.take() else { return };
        let d = Dialog::cf_pf(0);
        let mut r = self.response(code, &txn, Some(&d.b_tag));
        if code == 200 {
            r.push("Contact", format!("<{PF_HOST_URI}>"));
            r.push("Content-Type", "application/sdp");
            r.body = self.sdp("pf", PF_IP, 20001, self.pf_cf_path().to_string(), "active");
            self.pf.cf_leg = Some(d);
            self.pf.cf_media = false;
            self.set_carol_entitled(true);
            self.sip(Node::Pf, Node::Cf, &r, clauses, note, Some(Arrival::PfOkAtCf { txn }));
        } else {
            self.sip(Node::Pf, Node::Cf, &r, clauses, note, Some(Arrival::PfErrAtCf { txn }));
            self.set_carol_entitled(true);
        }
    }

    fn pf_gets_cf_bye(&mut self, txn: Txn) {
        if self.pf.cf_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            // The focus's BYE crossed the PF's own (or names a leg it never held): no such
            // dialog (RFC 3261 §12.2.2, §15.1.2).
            let r = self.response(481, &txn, None);
            self.sip(Node::Pf, Node::Cf, &r, cl!["RFC 3261 §12.2.2"], "The PF holds no such leg to the focus any more.", None);
            return;
        }
        let r = self.response(200, &txn, None);
        self.sip(Node::Pf, Node::Cf, &r, cl!["RFC 3261 §15.1.2"], "The PF accepts the end of the group session.", None);
        self.pf.cf_leg = None;
        self.pf.cf_media = false;
        self.pf.group_gone = true;
        if let Some(t) = self.pf.retention_timer.take() {
            self.stop_timer(t);
        }
        let keep = self.policy(PolicyId::Q8GroupEnds, "deliver-then-close");
        match self.pf.state {
            PfState::Active => {
                self.bye_carol("SIP;cause=410;text=\"Gone\"", cl!["RFC 3261 §15.1.1"], "The PF passes the end of the group session on to Carol.");
                if let Some(i) = self.set_state(PfState::Ended, cl!["RFC 3261 §15.1.1"], "The group session is over.") {
                    self.mark_key(i, "The group session ends");
                }
            }
            PfState::Replaying | PfState::DeliveringA | PfState::DeliveringB => {
                if keep {
                    self.pf.close_after_flush = true;
                    self.note(
                        Node::Pf,
                        StepKind::Info,
                        "finish delivery",
                        cl!["policy:q8-group-ends"],
                        "Q8 policy deliver-then-close: the PF finishes the deferred delivery, then closes Carol's session.",
                        None,
                    );
                    self.key_last("The group ends during delivery: the PF finishes first (Q8 policy)");
                } else {
                    self.bye_carol(
                        "SIP;cause=410;text=\"Gone\"",
                        cl!["policy:q8-group-ends"],
                        "Q8 policy discard: the group is over, so the PF ends Carol's session now.",
                    );
                    if let Some(i) = self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "Q8 policy discard: the rest of the store is lost.") {
                        self.mark_key(i, "The group ends during delivery: the rest is dropped (Q8 policy)");
                    }
                    self.purge(cl!["policy:q8-group-ends"]);
                }
            }
            PfState::Deferred => {
                if keep && !self.pf.store.is_empty() {
                    if let Some(i) = self.set_state(
                        PfState::EndedWithBacklog,
                        cl!["policy:q8-group-ends"],
                        "Q8 policy deliver-then-close: the group session is over but the stored messages wait for Carol's return.",
                    ) {
                        self.mark_key(i, "The group ends; the store waits for Carol (Q8 policy)");
                    }
                } else {
                    if let Some(i) = self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "The group session is over while Carol is deferred.") {
                        self.mark_key(i, "The group session ends while Carol is away (Q8 policy)");
                    }
                    self.purge(cl!["policy:q8-group-ends"]);
                }
            }
            _ => {}
        }
    }

    fn pf_gets_register(&mut self, txn: Txn, reaction_ms: u64) {
        let r = self.response(200, &txn, Some("pf-reg"));
        self.sip(Node::Pf, Node::Scscf, &r, cl!["3GPP TS 24.229 §5.4.1.7"], "The PF accepts the 3rd-party REGISTER: Carol is reachable again.", None);
        let deliverable = self.pf.state == PfState::Deferred || (self.pf.state == PfState::EndedWithBacklog && !self.pf.store.is_empty());
        if !deliverable {
            self.note(
                Node::Pf,
                StepKind::Info,
                "nothing deferred",
                cl![CL],
                "The PF holds no deferred group session for Carol right now, so the REGISTER starts nothing.",
                None,
            );
            return;
        }
        if self.pf.reaction_timer.is_some() {
            return;
        }
        self.pf.retries = 0;
        self.pf.reacted = false;
        self.pf.reaction_timer = Some(self.arm(PfTimer::Reaction, reaction_ms));
        self.note(
            Node::Pf,
            StepKind::Timer,
            "reaction delay",
            cl![CL],
            format!(
                "Path A is due: the PF will invite Carol in {reaction_ms} ms. A re-join before then is path B (the CR does not say how long 'reacting' takes)."
            ),
            None,
        );
        self.key_last("Carol is reachable again: the S-CSCF's 3rd-party REGISTER");
    }
}

/// The PF's own state changes and its view of its MSRP session (recorded by the world).
impl World<'_> {
    /// Changes the PF state and records it.
    /// Returns the state step's index, or None when the state did not change.
    pub(crate) fn set_state(&mut self, s: PfState, clauses: Clauses, note: impl Into<Cow<'static, str>>) -> Option<u32> {
        if self.pf.state == s {
            return None;
        }
        self.pf.state = s;
        if let Some(last) = self.states.last_mut() {
            if last.from_ms == self.now {
                last.state = s;
            } else {
                last.to_ms = self.now;
                self.states.push(StateSpan { state: s, from_ms: self.now, to_ms: self.now });
            }
        }
        if self.states.len() >= 2 {
            let n = self.states.len();
            if self.states[n - 2].state == self.states[n - 1].state {
                self.states.pop();
            }
        }
        let label = format!("{s:?}");
        Some(self.note(Node::Pf, StepKind::State, label, clauses, note, None))
    }

    /// (The PF's own path, Carol's path) of the session the PF uses towards her now.
    pub(crate) fn pf_view(&self) -> (String, String) {
        (self.pf_path_n(self.pf.carol_paths.1), self.carol_path_n(self.pf.carol_paths.0))
    }
}
