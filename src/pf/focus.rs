//! SIP between the PF and the focus (its relayed INVITE, the focus's own INVITE for Carol, the
//! focus's BYE when the group ends: Q8) and the S-CSCF's 3rd-party REGISTER that starts path A.

use super::client::client_dialog;
use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::actors::PF_HOST_URI;
use crate::world::build::*;
use crate::world::{Arrival, Dialog, Node, Txn};

impl Pf {
    pub(super) fn relay_invite_to_cf(&mut self, note: &'static str) {
        let d = Dialog::pf_cf(self.next(Node::Pf));
        let mut m = self.new_request("INVITE", GROUP, Node::Pf, format!("<{CAROL}>;tag={}", d.a_tag), format!("<{GROUP}>"), &d.call_id, 1);
        self.cpm_headers(&mut m, Node::Pf);
        m.push("Content-Type", "application/sdp");
        m.body = self.sdp(Node::Pf, "pf", PF_IP, 20001, self.pf_cf_path().to_string(), "active");
        self.cf_sdp = Some(m.body.clone());
        self.cf_leg = Some(d);
        self.cf_media = false;
        let txn = Txn::of(&m);
        self.sip(Node::Cf, m, cl!["RFC 3261 §16"], note, Some(Arrival::PfInviteAtCf { txn }));
    }

    pub(super) fn pf_gets_cf_response(&mut self, code: u16, txn: Txn) {
        if self.pending_rejoin.is_none() && std::mem::take(&mut self.relay_cancelled) {
            // Carol cancelled meanwhile: confirm and end the focus's 2xx at once (RFC 3261 §15).
            if code == 200 {
                if let Some(d) = self.cf_leg.as_mut() {
                    d.b_tag = crate::strs::second(&txn.to, ";tag=").unwrap_or("cf").to_string();
                }
                let d = self.cf_leg.clone().unwrap_or_else(|| Dialog::pf_cf(0));
                let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, GROUP);
                self.sip(Node::Cf, ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms its leg to the focus, only to end it: Carol cancelled.", None);
                self.pf_leave(
                    Some("SIP;cause=200;text=\"Call completed\""),
                    true,
                    cl![READ_BYE, "RFC 3261 §9.2"],
                    "Carol cancelled her INVITE before it was answered: she left, and so does the PF.",
                );
            } else {
                self.cf_leg = None;
                self.cf_media = false;
            }
            return;
        }
        let Some(ctx) = self.pending_rejoin.take() else { return };
        if code == 200 {
            if let Some(d) = self.cf_leg.as_mut() {
                d.b_tag = crate::strs::second(&txn.to, ";tag=").unwrap_or("cf").to_string();
            }
            let d = self.cf_leg.clone().unwrap_or_else(|| Dialog::pf_cf(0));
            let ack = self.ack_or_cancel("ACK", &d, true, Node::Pf, GROUP);
            self.sip(Node::Cf, ack, cl!["RFC 3261 §13.2.2.4"], "The PF confirms its leg to the focus.", None);
            self.pf_bind_cf();
            let cd = client_dialog(&ctx);
            self.client_leg = Some(cd.clone());
            let mut r = self.response(200, &ctx, Some(&cd.b_tag));
            r.push("Contact", pf_focus_contact());
            r.push("Content-Type", "application/sdp");
            let no = self.rejoin_no;
            self.carol_paths = (no, no);
            r.body = self.sdp(Node::Pf, "pf", PF_IP, 20000, self.pf_path_n(no), "passive");
            self.delivery_session = false;
            self.set_carol_entitled(true);
            let rtxn = Txn::of(&r);
            self.sip(
                self.dev,
                r,
                cl!["RFC 3261 §13.3.1"],
                "The PF answers Carol: she is in the group session.",
                Some(Arrival::PfRespAtCarol { code: 200, txn: rtxn, delivery: false, no, roster: None }),
            );
        } else {
            self.cf_leg = None;
            self.cf_media = false;
            let r = self.response(code, &ctx, Some("pf-x"));
            let rtxn = Txn::of(&r);
            self.sip(
                self.dev,
                r,
                cl!["RFC 3261 §16.7"],
                "The PF passes the focus's answer on to Carol.",
                Some(Arrival::PfRespAtCarol { code, txn: Txn { route: ctx.route.clone(), ..rtxn }, delivery: false, no: 0, roster: None }),
            );
            if code == 404 {
                self.set_state(PfState::Ended, cl!["RFC 3261 §21.4.5"], "The group session no longer exists.");
            }
        }
    }

    pub(super) fn pf_gets_cf_invite(&mut self, txn: Txn) {
        let path_no = self.new_path_no(Node::Pf);
        let r = self.response(100, &txn, None);
        self.sip(Node::Cf, r, cl!["RFC 3261 §8.2.6.1"], "The PF tells the focus it is working on the invitation.", None);
        self.cf_invite = Some(txn);
        let n = self.next(Node::Pf);
        let d = Dialog::pf_carol(n);
        let mut m = self.new_request("INVITE", CAROL, Node::Pf, format!("<{GROUP}>;tag={}", d.a_tag), format!("<{CAROL}>"), &d.call_id, 1);
        m.push("P-Asserted-Identity", format!("<{GROUP}>"));
        self.cpm_headers_as_focus(&mut m);
        m.push("Subject", SUBJECT);
        m.push("Content-Type", "application/sdp");
        m.body = {
            let p = self.pf_path_n(path_no);
            self.sdp(Node::Pf, "pf", PF_IP, 20000, p, "actpass")
        };
        let inv = n as u32;
        let itxn = Txn::of(&m);
        let timer_b = self.arm(PfTimer::TimerB { inv }, 64 * self.cfg.t1_ms);
        self.invite = Some(PfInvite {
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
            gave_up: GiveUp::Rejoin,
            no_answer: None,
            to: Node::Carol,
        });
        self.sip(
            self.dev,
            m,
            cl!["RFC 3261 §16"],
            "The PF forwards the focus's invitation to Carol's client.",
            Some(Arrival::PfInviteAtCarol { inv, txn: itxn, no: path_no, delivery: false, roster: None }),
        );
        self.set_state(PfState::Inviting, cl!["RFC 3261 §17.1.1"], "The PF waits for Carol's answer; Timer B runs.");
    }

    /// Answers the CF's pending INVITE for Carol (setup `cf_invites`).
    pub(super) fn answer_cf(&mut self, code: u16, note: &'static str, clauses: Clauses) {
        let Some(txn) = self.cf_invite.take() else { return };
        let d = Dialog::cf_pf(0);
        let mut r = self.response(code, &txn, Some(&d.b_tag));
        if code == 200 {
            r.push("Contact", format!("<{PF_HOST_URI}>"));
            r.push("Content-Type", "application/sdp");
            r.body = self.sdp(Node::Pf, "pf", PF_IP, 20001, self.pf_cf_path().to_string(), "active");
            self.cf_sdp = Some(r.body.clone());
            self.cf_ack_due = false;
            self.cf_leg = Some(d);
            self.cf_media = false;
            self.set_carol_entitled(true);
            // The focus learns the PF's tag from the answer itself (RFC 3261 §12.1.2).
            let rtxn = Txn::of(&r);
            self.sip(Node::Cf, r, clauses, note, Some(Arrival::PfOkAtCf { txn: rtxn }));
        } else {
            let rtxn = Txn::of(&r);
            self.sip(Node::Cf, r, clauses, note, Some(Arrival::PfErrAtCf { txn: rtxn }));
            self.set_carol_entitled(true);
        }
    }

    pub(super) fn pf_gets_cf_bye(&mut self, txn: Txn) {
        if self.cf_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            // The focus's BYE crossed the PF's own (or names a leg it never held): no such
            // dialog (RFC 3261 §12.2.2, §15.1.2).
            let r = self.response(481, &txn, None);
            self.sip(Node::Cf, r, cl!["RFC 3261 §12.2.2"], "The PF holds no such leg to the focus any more.", None);
            return;
        }
        let r = self.response(200, &txn, None);
        self.sip(Node::Cf, r, cl!["RFC 3261 §15.1.2"], "The PF accepts the end of the group session.", None);
        self.group_is_gone();
    }

    /// The group session is over (the focus's BYE, or Q18 `treat-as-group-ended`): Carol's
    /// session ends if she is active, and Q8 decides the store if she is deferred.
    pub(super) fn group_is_gone(&mut self) {
        self.cf_leg = None;
        self.cf_media = false;
        self.group_gone = true;
        if let Some(t) = self.retention_timer.take() {
            self.stop_timer(t);
        }
        let keep = self.policy(PolicyId::Q8GroupEnds, "deliver-then-close");
        match self.state {
            PfState::Active => {
                self.bye_carol("SIP;cause=410;text=\"Gone\"", cl!["RFC 3261 §15.1.1"], "The PF passes the end of the group session on to Carol.");
                if self.set_state(PfState::Ended, cl!["RFC 3261 §15.1.1"], "The group session is over.") {
                    self.key_last("The group session ends");
                }
            }
            PfState::Replaying | PfState::DeliveringA | PfState::DeliveringB => {
                if keep {
                    self.close_after_flush = true;
                    self.note(
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
                    if self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "Q8 policy discard: the rest of the store is lost.") {
                        self.key_last("The group ends during delivery: the rest is dropped (Q8 policy)");
                    }
                    self.purge(cl!["policy:q8-group-ends"], false);
                }
            }
            PfState::Deferred => {
                if keep && !self.store.is_empty() {
                    if self.set_state(
                        PfState::EndedWithBacklog,
                        cl!["policy:q8-group-ends"],
                        "Q8 policy deliver-then-close: the group session is over but the stored messages wait for Carol's return.",
                    ) {
                        self.key_last("The group ends; the store waits for Carol (Q8 policy)");
                    }
                } else {
                    if self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "The group session is over while Carol is deferred.") {
                        self.key_last("The group session ends while Carol is away (Q8 policy)");
                    }
                    self.purge(cl!["policy:q8-group-ends"], false);
                }
            }
            _ => {}
        }
    }

    pub(super) fn pf_gets_register(&mut self, txn: Txn, reaction_ms: u64) {
        let deliverable = self.state == PfState::Deferred || (self.state == PfState::EndedWithBacklog && !self.store.is_empty());
        // "Reachable again" only after an absence the PF knows of (issue 11 #9).
        let r = self.response(200, &txn, Some("pf-reg"));
        let note = if deliverable { "The PF accepts the 3rd-party REGISTER: Carol is reachable again." } else { "The PF accepts the 3rd-party REGISTER." };
        self.sip(Node::Scscf, r, cl!["3GPP TS 24.229 §5.4.1.7"], note, None);
        if !deliverable {
            let why: &'static str = match self.state {
                PfState::DeliveringA => "The PF has already invited Carol for the deferred delivery (path A): this REGISTER changes nothing.",
                PfState::DeliveringB | PfState::Replaying => "The deferred delivery is already under way on Carol's session: this REGISTER changes nothing.",
                PfState::Active => {
                    "Carol is a participant with a working session: the PF has nothing deferred, so this REGISTER (a refresh or another device) starts nothing."
                }
                _ => "The PF holds no deferred group session for Carol right now, so the REGISTER starts nothing.",
            };
            self.note(StepKind::Info, "nothing deferred", cl![CL], why, None);
            return;
        }
        if self.reaction_timer.is_some() {
            self.note(
                StepKind::Info,
                "reaction already due",
                cl![CL],
                "Another 3rd-party REGISTER during the reaction delay: the PF's INVITE is already due, so it changes nothing.",
                None,
            );
            return;
        }
        self.retries = 0;
        self.reacted = false;
        self.stop_still_registered();
        self.reaction_timer = Some(self.arm(PfTimer::Reaction, reaction_ms));
        // Options: invite-sent, register-received, invite-answered.
        match self.cfg.policies.index(crate::policy::PolicyId::Q2ReactedWhen) {
            1 => self.note(
                StepKind::Timer,
                "reaction delay",
                cl![CL, "policy:q2-reacted-when"],
                note_fmt!("Path A is due: the PF will invite Carol in {reaction_ms} ms. Q2 policy register-received: it has reacted already, so a re-join from now on is a re-join after reacting (Q1), not path B."),
                None,
            ),
            2 => self.note(
                StepKind::Timer,
                "reaction delay",
                cl![CL, "policy:q2-reacted-when"],
                note_fmt!("Path A is due: the PF will invite Carol in {reaction_ms} ms. Q2 policy invite-answered: until her client answers that INVITE the PF has not reacted, so a re-join until then is path B."),
                None,
            ),
            _ => self.note(
                StepKind::Timer,
                "reaction delay",
                cl![CL],
                note_fmt!(
                    "Path A is due: the PF will invite Carol in {reaction_ms} ms. A re-join before then is path B (the CR does not say how long 'reacting' takes)."
                ),
                None,
            ),
        }
        self.key_last("Carol is reachable again: the S-CSCF's 3rd-party REGISTER");
    }
}
