//! SIP between the PF and Carol's client: her BYE (case 1 of §8.3.2.9 or a normal leave,
//! §8.2.2.3), her INVITEs (the group's creation, a re-join: path B), her CANCEL, and the PF's own
//! INVITE for the deferred delivery (path A) with its responses, Timer B (case 2) and Q5.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::wire::reason::ReasonValue;
use crate::world::build::*;
use crate::world::{Arrival, Dialog, Node, Txn, MSRP_TIMEOUT_MS};

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
pub(super) fn client_dialog(txn: &Txn) -> Dialog {
    let n = txn.call_id.strip_prefix("c-").and_then(|r| r.split('-').next()).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or(0);
    let mut d = Dialog::carol_pf(n);
    d.a_tag = crate::strs::second(&txn.from, ";tag=").unwrap_or("c").to_string();
    d.call_id = txn.call_id.clone();
    // Its route set: the request's Record-Route as it is (RFC 3261 §12.1.1).
    d.route = route_set(txn.record_route.as_deref(), false);
    d
}

impl Pf {
    // ------------------------------------------------------------------ SIP from Carol

    pub(super) fn pf_gets_client_bye(&mut self, txn: Txn, reason: Option<(String, Vec<ReasonValue>)>) {
        if self.client_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            let r = self.response(481, &txn, None);
            self.sip(self.dev, r, cl!["RFC 3261 §15.1.2"], "The PF has no such dialog with Carol.", None);
            return;
        }
        let r = self.response(200, &txn, None);
        self.sip(
            self.dev,
            r,
            cl![READ_BYE, "RFC 3261 §15.1.2"],
            "§8.3.2.9 sends the PF to §8.2.2.3 for the BYE; we do not have that text, and our reading is that the PF answers 200 OK.",
            None,
        );
        self.client_leg = None;
        let broad = self.policy(PolicyId::Q6NonSipReason, "broad");
        let class = classify(&reason, broad);
        self.key_input(match class {
            ByeClass::Trigger => "Trigger: Carol's BYE has Reason SIP with a cause other than 200",
            ByeClass::BroadTrigger => "BYE read as an involuntary drop (Q6 policy)",
            ByeClass::Leave if reason.is_none() => "BYE without Reason: a normal leave",
            ByeClass::Leave if reason.as_ref().is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP"))) => "BYE with Reason SIP cause 200: a normal leave",
            ByeClass::Leave => "BYE whose Reason is not SIP: a normal leave",
        });
        match class {
            ByeClass::Trigger => {
                self.enter_deferred(cl![CL], crate::trace::note_text("Case 1 of §8.3.2.9: the BYE carries Reason protocol SIP with a cause other than 200, so Carol did not leave voluntarily; the PF remains in the media path with the focus."));
                self.arm_still_registered();
            }
            ByeClass::BroadTrigger => {
                self.enter_deferred(cl!["policy:q6-non-sip-reason"], crate::trace::note_text("Q6 policy broad: this BYE is not case 1 of the CR (no SIP cause other than 200), but it signals an involuntary drop, so the PF defers anyway."));
                self.arm_still_registered();
            }
            ByeClass::Leave => {
                let why = if reason.is_none() {
                    "No Reason header: the CR's rule does not apply, so this is a normal leave (our reading of §8.2.2.3: the PF leaves the group and passes the Reason on)."
                } else {
                    "The Reason is SIP cause 200 or not protocol SIP: the CR's rule does not apply, so this is a normal leave (our reading of §8.2.2.3: the PF leaves the group and passes the Reason on)."
                };
                // A leave on purpose is a BYE whose Reason is SIP cause 200 (the same reading as
                // case 1 of §8.3.2.9, from what reached the PF).
                let voluntary = reason.as_ref().is_some_and(|(_, v)| v.iter().any(|r| r.is("SIP") && r.cause == Some(200)));
                // A Reason that says "normal clearing" in any protocol (SIP 200, Q.850 16 or 31,
                // RELEASE_CAUSE 1) ends Carol's participation on purpose: the group's later
                // messages are not meant for her, as after a SIP cause 200 (issue 11 #8). A bare
                // BYE says nothing, so what she misses after it still counts as lost.
                let normal = reason.as_ref().is_some_and(|(_, v)| {
                    v.iter().any(|r| match r.protocol.to_ascii_uppercase().as_str() {
                        "SIP" => r.cause == Some(200),
                        "Q.850" => matches!(r.cause, Some(16 | 31)),
                        "RELEASE_CAUSE" => r.cause == Some(1),
                        _ => false,
                    })
                });
                if normal {
                    self.set_carol_entitled(false);
                }
                let voluntary = voluntary || normal;
                let fwd = reason.map(|(raw, _)| raw);
                self.pf_leave(fwd.as_deref(), voluntary, cl![READ_BYE], why);
            }
        }
    }

    /// Carol's INVITE (`no`: the path number of its SDP offer, kept for the answer if the PF takes it).
    pub(super) fn pf_gets_client_invite(&mut self, txn: Txn, rejoin: bool, no: u32) {
        // Only her phone sends INVITEs in this model (issue 11: the tablet registers, de-registers
        // and leaves the network), so her INVITE puts the client leg on it.
        self.dev = Node::Carol;
        if !rejoin {
            // Full set-up: the PF relays Carol's group creation to the focus.
            self.trying_to_carol(&txn);
            self.pending_rejoin = Some(txn);
            self.rejoin_no = no;
            self.relay_invite_to_cf("The PF relays Carol's INVITE to the focus (B2BUA).");
            return;
        }
        match self.state {
            PfState::Deferred | PfState::EndedWithBacklog => {
                if self.q2_reacted_on_register() && self.q2_rejoin_after_register(&txn) {
                    return;
                }
                self.rejoin_no = no;
                self.path_b(txn)
            }
            PfState::DeliveringA if self.q2_not_reacted_until_answered() => {
                // Q2 invite-answered: the PF has not reacted until Carol answers its INVITE, so
                // this re-join is the CR's path B; the INVITE it already sent is withdrawn.
                self.drop_own_invite(GiveUp::Unreacted);
                if self.set_state(
                    PfState::Deferred,
                    cl![CL, "policy:q2-reacted-when"],
                    "Q2 policy invite-answered: Carol re-joined before her client answered the PF's INVITE, so the PF has not reacted yet: path B, and the PF withdraws its INVITE.",
                ) {
                    self.key_last("Re-join before the answer: path B (Q2 policy)");
                }
                self.rejoin_no = no;
                self.path_b(txn);
            }
            PfState::DeliveringA => {
                if self.policy(PolicyId::Q1RejoinAfterInvite, "prefer-rejoin") {
                    self.drop_own_invite(GiveUp::Rejoin);
                    if self.set_state(
                        PfState::Deferred,
                        cl!["policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-rejoin: the re-join came after the PF reacted; the PF gives up its own INVITE and uses the re-join.",
                    ) {
                        self.key_last("Re-join after the PF's INVITE: the PF gives its INVITE up (Q1 policy)");
                    }
                    self.rejoin_no = no;
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
                let own = self.delivery_session && self.invite.as_ref().is_some_and(|i| i.purpose == InvitePurpose::Delivery && i.answered);
                if own && self.policy(PolicyId::Q1RejoinAfterInvite, "prefer-own-invite") {
                    self.reject_client_invite(
                        486,
                        &txn,
                        cl!["policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-own-invite: Carol is already back on the PF's own session, so the re-join gets 486 Busy Here.",
                    );
                    return;
                }
                if self.cfg.rules == Rules::PreCr && self.state == PfState::Replaying {
                    // Issue 11 #4: the text before the CR has delivery path B too, so a re-join
                    // during the PF's own replay replaces the replay's session; it is no MSRP
                    // failure (which before the CR would end Carol's participation).
                    self.note(
                        StepKind::Info,
                        "replay session replaced",
                        cl!["reading:8.3.2.9"],
                        "Carol re-joins while the PF replays her store: the re-join replaces the replay's session (our reading: delivery over a re-join is in the text before the CR too), so the PF keeps the store and delivers over the new session.",
                        None,
                    );
                    self.pf_closes_msrp_to_carol();
                    self.end_stale_client_dialog();
                    self.enter_deferred(
                        cl!["reading:8.3.2.9"],
                        crate::trace::note_text("The replay's session is replaced by Carol's re-join; the PF keeps what it has not delivered yet."),
                    );
                    self.pf_gets_client_invite(txn, true, no);
                    return;
                }
                let why = if own {
                    "Q1 policy prefer-rejoin: the newer re-join replaces the session the PF set up itself."
                } else {
                    "The re-join shows that Carol's old session is gone."
                };
                self.note(
                    StepKind::Info,
                    "old session is stale",
                    if own { cl!["policy:q1-rejoin-after-invite"] } else { cl!["policy:msrp-loss-detection"] },
                    why,
                    None,
                );
                self.msrp_failed(if own { "Replaced by the re-join." } else { "Carol's old connection is gone." });
                self.pf_gets_client_invite(txn, true, no);
            }
            PfState::Left if self.pending_rejoin.is_some() => {
                self.reject_client_invite(486, &txn, cl!["RFC 3261 §21.4.24"], "The PF is still relaying Carol's previous re-join to the focus.");
            }
            PfState::Left => {
                self.trying_to_carol(&txn);
                self.pending_rejoin = Some(txn);
                self.rejoin_no = no;
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
    pub(super) fn reject_client_invite(&mut self, code: u16, txn: &Txn, clauses: Clauses, note: &'static str) {
        let r = self.response(code, txn, Some(&format!("pf-{code}")));
        let txn = Txn { route: txn.route.clone(), ..Txn::of(&r) };
        self.sip(self.dev, r, clauses, note, Some(Arrival::PfRespAtCarol { code, txn, delivery: false, no: 0, roster: None }));
    }

    /// 100 Trying to an INVITE of Carol's that the PF relays to the focus: its answer takes
    /// another round trip (RFC 3261 §8.2.6.1, §16.2), and it lets her client CANCEL (§9.1).
    pub(super) fn trying_to_carol(&mut self, txn: &Txn) {
        let r = self.response(100, txn, None);
        self.sip(
            self.dev,
            r,
            cl!["RFC 3261 §8.2.6.1"],
            "The PF tells Carol's client it is working on the INVITE (it relays it to the focus).",
            Some(Arrival::PfTryingAtCarol),
        );
    }

    /// Carol's CANCEL (RFC 3261 §9.2): 200 for the CANCEL; if the INVITE it relays still has no
    /// answer, 487 to Carol, and the leg to the focus is ended when the focus answers.
    pub(super) fn pf_gets_client_cancel(&mut self, txn: Txn) {
        let r = self.response(200, &txn, Some("pf-92"));
        self.sip(self.dev, r, cl!["RFC 3261 §9.2"], "The PF accepts Carol's CANCEL.", None);
        let pending = self.pending_rejoin.as_ref().is_some_and(|c| c.call_id == txn.call_id);
        let ctx = if pending { self.pending_rejoin.take() } else { None };
        let Some(ctx) = ctx else {
            self.note(StepKind::Info, "CANCEL too late", cl!["RFC 3261 §9.2"], "The INVITE was already answered: the CANCEL has no effect.", None);
            return;
        };
        self.relay_cancelled = true;
        let r = self.response(487, &ctx, Some("pf-92"));
        let rtxn = Txn::of(&r);
        self.sip(
            self.dev,
            r,
            cl!["RFC 3261 §9.2"],
            "The cancelled INVITE ends with 487 Request Terminated.",
            Some(Arrival::PfRespAtCarol { code: 487, txn: Txn { route: ctx.route.clone(), ..rtxn }, delivery: false, no: 0, roster: None }),
        );
    }

    // ------------------------------------------------------------------ path A and B

    pub(super) fn path_b(&mut self, txn: Txn) {
        // Q20 new-session: the same answer, for a new session of Carol's (src/pf/q20.rs).
        let new = std::mem::take(&mut self.q20_new_session);
        self.stop_still_registered();
        if let Some(t) = self.reaction_timer.take() {
            self.stop_timer(t);
            self.note(
                StepKind::Info,
                "no INVITE (path B)",
                cl![CL],
                "Path B: the re-join arrived before the PF reacted to the 3rd-party REGISTER, so the PF SHALL NOT send its own INVITE.",
                None,
            );
        }
        if let Some(t) = self.retention_timer.take() {
            self.stop_timer(t);
        }
        let cd = client_dialog(&txn);
        self.client_leg = Some(cd.clone());
        self.set_carol_entitled(true);
        let mut r = self.response(200, &txn, Some(&cd.b_tag));
        r.push("Contact", pf_focus_contact());
        let no = self.rejoin_no;
        self.carol_paths = (no, no);
        let sdp = self.sdp(Node::Pf, "pf", PF_IP, 20000, self.pf_path_n(no), "passive");
        // What her client will show from the 200's conference-info part: the list the PF held
        // from the focus, if any.
        let shown = self.session_body(&mut r, sdp);
        if shown.is_some() && !self.group_gone {
            self.q18_stale_note();
        }
        self.delivery_session = true;
        self.close_after_flush = self.group_gone;
        // Answering the re-join itself, not relaying it to the focus, is our reading of "use the
        // session setup following the received re-join request" (issue 11, defect 10).
        let mut clauses = if self.policy(PolicyId::Q13ParticipantInfo, "in-session-setup") { cl![READ, "policy:q13-participant-info"] } else { cl![READ] };
        // After the group ended only Q8 deliver-then-close keeps the store for this delivery.
        let q8 = self.group_gone;
        if q8 {
            clauses.to_mut().push("policy:q8-group-ends");
        }
        if new {
            clauses.to_mut().push("policy:q20-other-contribution-id");
        }
        let rtxn = Txn::of(&r);
        self.sip(
            self.dev,
            r,
            clauses,
            if new {
                "Policy q20-other-contribution-id: the PF answers Carol's new session itself (its leg to the focus stays; our choice) and, once the session is set up, delivers over it what it still stores for her."
            } else if q8 {
                "Path B: the PF accepts the re-join itself (our reading: the CR says to use the re-join's session, not how); the group session is over (Q8 policy deliver-then-close), so this session only carries the stored messages before it closes."
            } else {
                "Path B: the PF accepts the re-join itself instead of relaying it to the focus (our reading: the CR says to use the re-join's session, not how; its leg to the focus already exists) and will use this session for the deferred delivery."
            },
            Some(Arrival::PfRespAtCarol { code: 200, txn: rtxn, delivery: true, no, roster: shown }),
        );
        if new {
            self.key_last("New session: the PF answers Carol itself (Q20 policy)");
            self.set_state(PfState::DeliveringB, cl!["policy:q20-other-contribution-id"], "Carol's new session: waiting for ACK and her MSRP connection.");
            return;
        }
        self.key_last("Path B: Carol re-joined; the PF answers her itself, no INVITE of its own");
        self.set_state(
            PfState::DeliveringB,
            if q8 { cl![CL, "policy:q8-group-ends"] } else { cl![CL] },
            "Path B: waiting for ACK and Carol's MSRP connection.",
        );
    }

    pub(super) fn path_a(&mut self, note: &'static str, mut clauses: Clauses) {
        // After the group ended only Q8 deliver-then-close keeps the store for this delivery.
        if self.group_gone && !clauses.contains(&"policy:q8-group-ends") {
            clauses.to_mut().push("policy:q8-group-ends");
        }
        // Policy q15-which-device: the device this INVITE goes to (src/pf/devices.rs).
        self.pick_device();
        let fork = self.fork_target();
        let (inv, txn, path_no, m) = self.delivery_invite(self.dev);
        let roster = self.invite.as_ref().and_then(|i| i.roster.clone());
        self.sip(self.dev, m, clauses.clone(), note, Some(Arrival::PfInviteAtCarol { inv, txn, no: path_no, delivery: true, roster }));
        self.key_last(if self.retries > 0 { "Path A again: the PF invites Carol once more (Q3 policy)" } else { "Path A: the PF invites Carol back" });
        if let Some(other) = fork {
            let main = self.invite.take();
            let (inv, txn, path_no, m) = self.delivery_invite(other);
            let f = self.invite.take().expect("fork INVITE");
            let roster = f.roster.clone();
            self.fork = Some((other, f));
            self.invite = main;
            let mut cl = clauses.clone();
            cl.to_mut().push("policy:q15-which-device");
            self.sip(
                other,
                m,
                cl,
                "Policy q15-which-device fork-all: the PF invites Carol's other registered device too; the first 2xx wins.",
                Some(Arrival::PfInviteAtCarol { inv, txn, no: path_no, delivery: true, roster }),
            );
        }
        let state_cl = if self.group_gone { cl![CL, "policy:q8-group-ends"] } else { cl![CL] };
        self.set_state(PfState::DeliveringA, state_cl, "Path A: the PF's INVITE to Carol is under way (Timer B runs).");
    }

    /// The PF's delivery INVITE to Carol's device `to` (its Request-URI names the device with
    /// two devices, src/pf/devices.rs), kept as `self.invite` with its Timer B; returns (its
    /// number, its transaction, its MSRP path number, the message).
    fn delivery_invite(&mut self, to: Node) -> (u32, Txn, u32, crate::wire::sip::SipMessage) {
        let n = self.next(Node::Pf);
        let path_no = self.new_path_no(Node::Pf);
        let d = Dialog::pf_carol(n);
        let d_call = d.call_id.clone();
        let ruri = self.ruri_of(to);
        let mut m = self.new_request("INVITE", &ruri, Node::Pf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id, 1);
        m.push("Route", "<sip:scscf.ims.example.net;lr>");
        m.push("P-Asserted-Identity", format!("<{GROUP}>"));
        self.cpm_headers_as_focus(&mut m);
        m.push("Subject", SUBJECT);
        let sdp = {
            let p = self.pf_path_n(path_no);
            self.sdp(Node::Pf, "pf", PF_IP, 20000, p, "actpass")
        };
        let roster = self.session_body(&mut m, sdp);
        if roster.is_some() && !self.group_gone {
            self.q18_stale_note();
        }
        let inv = n as u32;
        let txn = Txn::of(&m);
        let timer_b = self.arm(PfTimer::TimerB { inv }, 64 * self.cfg.t1_ms);
        self.invite = Some(PfInvite {
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
            gave_up: GiveUp::Rejoin,
            no_answer: None,
            to,
        });
        if to == Node::Tablet {
            self.tablet_calls.push(d_call);
        }
        self.close_after_flush = self.group_gone;
        (inv, txn, path_no, m)
    }

    /// Gives up the PF's own delivery INVITE (`why`: Q1 prefer-rejoin, or the PF leaving the
    /// group): CANCEL if it has had a provisional response, wait for one if not (RFC 3261 §9.1),
    /// BYE if it was answered.
    pub(super) fn drop_own_invite(&mut self, why: GiveUp) {
        self.cancel_fork(crate::trace::note_str(
            "The PF gives its delivery INVITE up, so it cancels the one to Carol's other device too (policy q15-which-device fork-all).",
        ));
        let Some(mut inv) = self.invite.take() else { return };
        if let Some(t) = inv.no_answer.take() {
            self.stop_timer(t);
        }
        let clauses: Clauses = match why {
            GiveUp::Rejoin => cl!["RFC 3261 §9.1", "policy:q1-rejoin-after-invite"],
            GiveUp::Unreacted => cl!["RFC 3261 §9.1", "policy:q2-reacted-when"],
            GiveUp::NewSession => cl!["RFC 3261 §9.1", "policy:q20-other-contribution-id"],
            GiveUp::Leave | GiveUp::NoAnswer => cl!["RFC 3261 §9.1"],
        };
        inv.gave_up = why;
        if inv.answered {
            self.stop_timer(inv.timer_b);
            let (reason, note) = match why {
                GiveUp::Rejoin | GiveUp::Unreacted | GiveUp::NewSession => {
                    ("SIP;cause=200;text=\"Replaced by re-join\"", "Q1 policy prefer-rejoin: the PF ends its own session with Carol in favour of her re-join.")
                }
                GiveUp::Leave | GiveUp::NoAnswer => (
                    "SIP;cause=480;text=\"Temporarily Unavailable\"",
                    "The PF leaves the group for Carol, so it ends the delivery session it set up with her (RFC 3261 §15).",
                ),
            };
            let clauses = if why == GiveUp::Rejoin { cl!["policy:q1-rejoin-after-invite"] } else { cl!["RFC 3261 §15"] };
            self.bye_carol(reason, clauses, note);
        } else if inv.provisional {
            inv.cancelled = true;
            self.invite = Some(inv);
            self.send_cancel(
                clauses,
                match why {
                    GiveUp::Rejoin => "Q1 policy prefer-rejoin: the PF cancels its pending INVITE because Carol re-joined herself.",
                    GiveUp::Unreacted => "Q2 policy invite-answered: Carol re-joined before answering, so the PF cancels its pending INVITE (path B).",
                    GiveUp::NewSession => "Q20 policy: Carol's INVITE with other session IDs is a new session of hers, so the PF cancels its pending INVITE and uses that session.",
                    GiveUp::Leave | GiveUp::NoAnswer => {
                        "The PF leaves the group for Carol, so it cancels its pending delivery INVITE: there is no leg to the focus to deliver over."
                    }
                },
            );
        } else {
            // No provisional response yet: a CANCEL MUST NOT be sent (RFC 3261 §9.1); the PF
            // cancels when the 1xx comes, and ends the session if a 200 comes first.
            inv.cancelled = true;
            inv.cancel_wanted = true;
            self.invite = Some(inv);
            self.note(
                StepKind::Info,
                "CANCEL waits for a 1xx",
                clauses,
                match why {
                    GiveUp::Rejoin => "Q1 policy prefer-rejoin: the PF gives its INVITE up, but no provisional response has come yet, so its CANCEL waits for one.",
                    GiveUp::Unreacted => "Q2 policy invite-answered: the PF withdraws its INVITE for the re-join, but no provisional response has come yet, so its CANCEL waits for one.",
                    GiveUp::NewSession => "Q20 policy: the PF gives its INVITE up for Carol's new session, but no provisional response has come yet, so its CANCEL waits for one.",
                    GiveUp::Leave | GiveUp::NoAnswer => "The PF leaves the group for Carol and gives its delivery INVITE up, but no provisional response has come yet, so its CANCEL waits for one.",
                },
                None,
            );
        }
    }

    /// CANCEL for the PF's pending INVITE (RFC 3261 §9.1).
    pub(super) fn send_cancel(&mut self, clauses: Clauses, note: &'static str) {
        let Some(inv) = self.invite.as_ref() else { return };
        let c = Self::cancel_for(&inv.txn, &self.invite_ruri(inv));
        let id = inv.id;
        let txn = Txn::of(&c);
        self.sip(self.dev, c, clauses, note, Some(Arrival::CancelAtCarol { inv: id, txn }));
    }

    pub(super) fn pf_gets_invite_response(&mut self, inv: u32, code: u16, mut txn: Txn) {
        // Policy q15-which-device fork-all: the answer of the INVITE to her other device.
        if self.fork_response(inv, code, &txn) {
            return;
        }
        // The ACK of a failure keeps the INVITE's Route (RFC 3261 §17.1.1.3).
        txn.route = self.invite.as_ref().filter(|i| i.id == inv).and_then(|i| i.txn.route.clone());
        let Some(i) = self.invite.as_ref().filter(|i| i.id == inv) else {
            // A late answer to an INVITE the PF already gave up.
            if (200..300).contains(&code) {
                self.note(
                    StepKind::Info,
                    "late answer",
                    cl!["policy:q1-rejoin-after-invite"],
                    "An answer to an INVITE the PF already gave up; it is ignored.",
                    None,
                );
            }
            return;
        };
        let (purpose, timer_b, cancelled, path_no, cancel_wanted, gave_up, inv_to) =
            (i.purpose, i.timer_b, i.cancelled, i.path_no, i.cancel_wanted, i.gave_up, i.to);
        let inv_ruri = self.invite_ruri(i);
        let mut d = i.dialog.clone();
        self.stop_timer(timer_b);
        if code < 200 {
            // Proceeding: Timer B no longer runs (RFC 3261 §17.1.1.2); a CANCEL may go now.
            if let Some(i) = self.invite.as_mut() {
                i.provisional = true;
                i.cancel_wanted = false;
            }
            self.q4_provisional(code);
            if cancel_wanted {
                match gave_up {
                    GiveUp::Unreacted => self.send_cancel(
                        cl!["RFC 3261 §9.1", "policy:q2-reacted-when"],
                        "Q2 policy invite-answered: the provisional response has come, so the PF now cancels the INVITE it withdrew for the re-join.",
                    ),
                    GiveUp::Rejoin => self.send_cancel(
                        cl!["RFC 3261 §9.1", "policy:q1-rejoin-after-invite"],
                        "Q1 policy prefer-rejoin: the provisional response has come, so the PF now cancels the INVITE it gave up.",
                    ),
                    GiveUp::NewSession => self.send_cancel(
                        cl!["RFC 3261 §9.1", "policy:q20-other-contribution-id"],
                        "Q20 policy: the provisional response has come, so the PF now cancels the INVITE it gave up for Carol's new session.",
                    ),
                    GiveUp::Leave | GiveUp::NoAnswer => self.send_cancel(
                        cl!["RFC 3261 §9.1"],
                        "The provisional response has come, so the PF now cancels the delivery INVITE it gave up when it left the group.",
                    ),
                }
            }
            return;
        }
        self.q4_stop();
        d.b_tag = crate::strs::second(&txn.to, ";tag=").unwrap_or("").to_string();
        // The UAC's route set: the 2xx's Record-Route reversed (RFC 3261 §12.1.2).
        d.route = route_set(txn.record_route.as_deref(), true);
        if code == 487 || (cancelled && !(200..300).contains(&code)) {
            let ack = Self::non2xx_ack(&txn, &inv_ruri);
            self.sip(self.dev, ack, cl!["RFC 3261 §17.1.1.3"], "The PF acknowledges the 487 of its cancelled INVITE.", None);
            self.invite = None;
            return;
        }
        if (200..300).contains(&code) {
            let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, &self.target_for(&d.call_id));
            if cancelled && (purpose == InvitePurpose::Delivery || gave_up == GiveUp::NoAnswer) {
                // Issue 10 #6: the 200 crossed the CANCEL. The PF confirms and ends this extra
                // session (RFC 3261 §15) without taking it as Carol's session: her re-join keeps
                // its dialog and MSRP paths, and nothing waits for an MSRP set-up on this one.
                self.sip(self.dev, ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms the crossed session with ACK, only to end it.", None);
                match gave_up {
                    GiveUp::NoAnswer => self.bye_dialog(
                        d,
                        "SIP;cause=480;text=\"Temporarily Unavailable\"",
                        cl!["RFC 3261 §15", "policy:q4-ringing-no-answer"],
                        "The 200 crossed the PF's CANCEL: the PF had already given the unanswered INVITE up (Q4 policy), so it ends this session at once; a REGISTER or a re-join starts the delivery again.",
                    ),
                    GiveUp::Rejoin | GiveUp::Unreacted | GiveUp::NewSession => self.bye_dialog(
                        d,
                        "SIP;cause=200;text=\"Replaced by re-join\"",
                        cl!["policy:q1-rejoin-after-invite"],
                        "The 200 crossed the CANCEL: the PF ends this extra session; Carol's re-join stays her session.",
                    ),
                    GiveUp::Leave => self.bye_dialog(
                        d,
                        "SIP;cause=480;text=\"Temporarily Unavailable\"",
                        cl!["RFC 3261 §15"],
                        "The 200 crossed the PF's CANCEL: the PF has left the group for Carol, so it ends this session at once (it has no leg to the focus to deliver over).",
                    ),
                }
                self.invite = None;
                return;
            }
            if let Some(i) = self.invite.as_mut() {
                i.answered = true;
                i.dialog = d.clone();
            }
            self.client_leg = Some(d);
            self.dev = inv_to;
            self.carol_paths = (path_no, path_no);
            self.cancel_fork(
                "Policy q15-which-device fork-all: this device answered first, so the PF cancels its INVITE to Carol's other device (RFC 3261 §9.1).",
            );
            self.sip(self.dev, ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms the session with ACK.", Some(Arrival::PfAckAtCarol { inv }));
            self.setup_timer = Some(self.arm(PfTimer::SetupWait, MSRP_TIMEOUT_MS));
            match purpose {
                InvitePurpose::Delivery => self.delivery_session = true,
                InvitePurpose::ForwardCf => {
                    self.delivery_session = false;
                    self.answer_cf(200, "The PF passes Carol's acceptance on to the focus.", cl!["RFC 3261 §13.3.1"]);
                }
            }
            return;
        }
        let ack = Self::non2xx_ack(&txn, &inv_ruri);
        self.sip(self.dev, ack, cl!["RFC 3261 §17.1.1.3"], "The PF acknowledges the failure response.", None);
        if code == 408 {
            self.key_last(match (purpose, self.cfg.rules) {
                (InvitePurpose::ForwardCf, Rules::PostCr) => "Trigger: 408 from the IMS core, the INVITE to Carol timed out",
                (InvitePurpose::ForwardCf, Rules::PreCr) => "408 from the IMS core: no deferral trigger before the CR",
                (InvitePurpose::Delivery, _) => "408 from the IMS core: Carol did not answer the PF's INVITE",
            });
        }
        self.invite = None;
        if self.promote_fork() {
            return;
        }
        self.invite_failed(purpose, Some(code), None);
    }

    pub(super) fn pf_invite_timeout(&mut self, inv: u32) {
        if self.fork_timeout(inv) {
            return;
        }
        let Some(i) = self.invite.as_ref().filter(|i| i.id == inv) else { return };
        if i.answered {
            return;
        }
        let (purpose, cancelled) = (i.purpose, i.cancelled);
        self.invite = None;
        if cancelled {
            // The INVITE it gave up (its CANCEL still waiting for a 1xx) simply times out.
            self.note(
                StepKind::Timer,
                "Timer B fired",
                cl!["RFC 3261 §17.1.1.2"],
                "The INVITE the PF gave up had no answer within 64×T1; nothing more to do.",
                None,
            );
            return;
        }
        self.note(
            StepKind::Timer,
            "Timer B fired",
            cl!["RFC 3261 §17.1.1.2"],
            "No answer from Carol within 64×T1: the INVITE client transaction times out (handled as 408).",
            None,
        );
        self.key_last(match (purpose, self.cfg.rules) {
            (InvitePurpose::ForwardCf, Rules::PostCr) => "Trigger: Timer B fired, the INVITE to Carol timed out",
            (InvitePurpose::ForwardCf, Rules::PreCr) => "Timer B fired: no deferral trigger before the CR",
            (InvitePurpose::Delivery, _) => "Timer B fired: Carol did not answer the PF's INVITE",
        });
        if self.promote_fork() {
            return;
        }
        self.invite_failed(purpose, None, None);
    }

    /// The PF's INVITE to Carol failed: `code` None for its own Timer B. Both that and a 408 (the
    /// IMS core's own transaction timed out, RFC 3261 §16.8) are the CR's "timeout" (case 2 of
    /// §8.3.2.9; inference: §8.1.3.1 equates the two) under either Q5 option.
    /// `extra`: the policy that gave the INVITE up as timed out (Q4), cited by what follows.
    pub(super) fn invite_failed(&mut self, purpose: InvitePurpose, code: Option<u16>, extra: Option<&'static str>) {
        let literal = self.policy(PolicyId::Q5InviteError, "literal");
        let code = code.filter(|c| *c != 408);
        let like_timeout = match code {
            None => true,
            Some(480 | 486 | 503) => !literal,
            _ => false,
        };
        let decline = code == Some(603) && !literal;
        match purpose {
            InvitePurpose::ForwardCf => {
                // The focus's INVITE is a new invitation, not a CPM Session Carol had: applying
                // case 2 to it, and what the PF answers the focus, are our reading (issue 11,
                // defect 10).
                let mut with_q5: Clauses = if code.is_some() { cl![READ, "policy:q5-invite-error"] } else { cl![READ] };
                if let Some(p) = extra {
                    with_q5.to_mut().push(p);
                }
                self.set_carol_entitled(!decline);
                if like_timeout && self.cfg.rules == Rules::PostCr {
                    let cl = with_q5.clone();
                    self.answer_cf(
                        200,
                        "Case 2 of §8.3.2.9, applied to a new invitation (our reading: Carol never accepted, yet the PF answers 200 to the focus itself and remains in the media path for her).",
                        cl.clone(),
                    );
                    self.enter_deferred(
                        cl,
                        crate::trace::note_text(
                            "Case 2 of §8.3.2.9: timeout of the SIP INVITE sent to Carol. Applying it to the focus's new invitation is our reading; the PF stays in the group session and stores for her.",
                        ),
                    );
                } else {
                    let c = code.unwrap_or(408);
                    let why = if self.cfg.rules == Rules::PreCr && like_timeout {
                        "Before the CR an INVITE timeout was no deferral trigger: the PF reports the failure to the focus and Carol is not in the group."
                    } else {
                        "The PF reports the failure to the focus: Carol is not in the group."
                    };
                    let cl = with_q5.clone();
                    self.answer_cf(c, why, cl.clone());
                    if self.set_state(PfState::Left, cl, why) {
                        self.key_last("Carol is not in the group: the PF reports the failure");
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
                    let mut cl: Clauses = match (self.cfg.rules, code) {
                        (Rules::PostCr, None) => cl![CL, "policy:q3-unreachable-on-register"],
                        (_, Some(_)) => cl!["policy:q5-invite-error", "policy:q3-unreachable-on-register"],
                        (Rules::PreCr, None) => cl!["policy:q3-unreachable-on-register"],
                    };
                    if let Some(p) = extra {
                        cl.to_mut().push(p);
                    }
                    if self.set_state(
                        PfState::Deferred,
                        cl.clone(),
                        "Carol is still unreachable: the PF stays deferred and keeps storing (Q3 policy decides when to try again).",
                    ) {
                        self.key_last("Still unreachable: the PF stays deferred (Q3 policy)");
                    }
                    if self.policy(PolicyId::Q3UnreachableOnRegister, "retry-30s") && self.retries < 3 {
                        self.retries += 1;
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
}
