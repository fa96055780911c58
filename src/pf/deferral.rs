//! Entering and leaving deferral (§8.3.2.9): staying in the media path, the subscription to the
//! focus (§8.2.2.6.2), what happens to unacknowledged SENDs (Q12), the loss of Carol's MSRP
//! connection (case 3), and the PF leaving the group for her with its store.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::actors::PF_HOST_URI;
use crate::world::build::*;
use crate::world::{Arrival, Dialog, Node, Txn};

impl Pf {
    // ------------------------------------------------------------------ deferral

    /// Enters deferral: remain in the media path with the CF, store, subscribe to the focus.
    pub(super) fn enter_deferred(&mut self, clauses: Clauses, why: std::borrow::Cow<'static, str>) {
        if self.cf_leg.is_none() && !self.group_gone {
            // Nothing to remain in: the PF holds no leg to the focus for Carol (it left the group
            // for her, and her re-join is not through), so it cannot defer (issue 11 invariant:
            // never Active or deferring without both legs).
            self.client_leg = None;
            self.client_sub = None;
            self.requeue_in_flight();
            self.note(
                StepKind::Info,
                "no leg to remain in",
                cl![CL],
                "The PF holds no leg to the focus for Carol, so it cannot remain in the media path: there is nothing to defer.",
                None,
            );
            self.set_state(PfState::Left, cl![CL], "Carol's session failed and the PF holds no leg to the focus for her.");
            self.purge(clauses, false);
            return;
        }
        self.client_leg = None;
        // Her client is gone: the subscription it had with the PF goes with it (her client
        // subscribes again on the next session).
        self.client_sub = None;
        self.delivery_session = false;
        if let Some(t) = self.setup_timer.take() {
            self.stop_timer(t);
        }
        if let Some(t) = self.refresh_timer.take() {
            self.stop_timer(t);
        }
        self.requeue_in_flight();
        let state = if self.group_gone { PfState::EndedWithBacklog } else { PfState::Deferred };
        if self.set_state(state, clauses, why) {
            self.key_last(if self.group_gone { "Deferred, with the group already over" } else { "Deferred: the PF stays in the group for Carol" });
        }
        if self.group_gone {
            if self.store.is_empty() {
                self.set_state(PfState::Ended, cl![CL], "Nothing is stored and the group session is over.");
            }
            return;
        }
        self.note(
            StepKind::Info,
            "stays in media path",
            cl![CL],
            "The PF sends no BYE to the focus: Carol's leg stays up, so the group still sees her as a participant.",
            None,
        );
        if self.sub.is_none() {
            self.subscribe();
        }
        if self.retention_timer.is_none() {
            let dur = match self.cfg.policies.get(PolicyId::Q7NeverReturns) {
                "expire-10min" => Some(600_000),
                "expire-1h" => Some(3_600_000),
                _ => None,
            };
            if let Some(d) = dur {
                self.retention_timer = Some(self.arm(PfTimer::Retention, d));
            }
        }
    }

    /// SUBSCRIBE to the focus (§8.2.2.6.2), a key step of the story.
    pub(super) fn subscribe(&mut self) {
        self.subscribe_as(true, None);
    }

    /// SUBSCRIBE to the focus again after a failure (policy q18-subscription-fails
    /// `retry-backoff`): the step cites `policy`.
    pub(super) fn subscribe_again(&mut self, policy: &'static str) {
        self.subscribe_as(false, Some(policy));
    }

    /// SUBSCRIBE to the focus; `key`: a key step (not for a renewal); `policy`: the policy that
    /// makes it, if any.
    fn subscribe_as(&mut self, key: bool, policy: Option<&'static str>) {
        let n = self.next(Node::Pf);
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
        m.push("Expires", SUB_EXPIRES_S.to_string());
        self.sub = Some(d);
        self.arm_sub_refresh();
        // conference-info versions count per subscription (RFC 4575 §5.1): the new one starts
        // again at 1, so the version kept from an earlier subscription no longer compares.
        if let Some(r) = self.roster.as_mut() {
            r.version = 0;
        }
        let txn = Txn::of(&m);
        let mut clauses = cl!["8.2.2.6.2", CL];
        if let Some(p) = policy {
            clauses.to_mut().push(p);
        }
        self.sip(
            Node::Cf,
            m,
            clauses,
            "The PF subscribes to the focus of the group session to obtain the latest Participant Information for the deferred delivery.",
            Some(Arrival::SubscribeAtCf { txn, expires: SUB_EXPIRES_S as u32 }),
        );
        if key {
            self.key_last("The PF subscribes to the focus");
        }
    }

    /// Arms the refresh of its conference subscription, before the run's horizon only (so a run
    /// ends; the same rule as the session refresh).
    fn arm_sub_refresh(&mut self) {
        if let Some(t) = self.sub_refresh_timer.take() {
            self.stop_timer(t);
        }
        // Only a refresh due before the run's horizon is armed: after it nothing can change.
        if self.now + SUB_EXPIRES_S * 1000 - SUB_REFRESH_MARGIN_MS < self.cfg.horizon_ms {
            self.sub_refresh_timer = Some(self.arm(PfTimer::SubscriptionRefresh, SUB_EXPIRES_S * 1000 - SUB_REFRESH_MARGIN_MS));
        }
    }

    /// Keeps its conference subscription to the focus from expiring (RFC 6665 §4.1.2.2: the
    /// subscriber refreshes before expiry). The PF renews it: it ends the old subscription and
    /// makes a new one at once, so the focus's NOTIFYs keep coming with versions from 1 on the
    /// new dialog (RFC 4575 §5.1). (An in-dialog refresh would be the shorter way; this model's
    /// focus does not take one yet, so the renewal is our choice, noted as such.)
    pub(super) fn refresh_subscription(&mut self) {
        self.sub_refresh_timer = None;
        if self.sub.is_none() {
            return;
        }
        self.unsubscribe(
            cl!["RFC 6665 §4.1.2.2"],
            "The PF's conference subscription would expire soon and the deferral goes on: it ends this subscription and subscribes again at once (a renewal instead of an in-dialog refresh: our choice).",
        );
        self.subscribe_as(false, None);
    }

    pub(super) fn unsubscribe(&mut self, clauses: Clauses, note: &'static str) {
        if let Some(t) = self.sub_refresh_timer.take() {
            self.stop_timer(t);
        }
        let Some(mut d) = self.sub.clone() else { return };
        let mut m = self.dialog_request("SUBSCRIBE", &mut d, true, Node::Pf, GROUP);
        // A SUBSCRIBE is a target refresh request: it carries Contact (RFC 6665 §4.1.2).
        m.push("Contact", format!("<{PF_HOST_URI}>"));
        m.push("Event", "conference");
        m.push("Expires", "0");
        // The PF is done with this subscription now; the focus's final NOTIFY only confirms it.
        self.sub = None;
        let _ = d;
        let txn = Txn::of(&m);
        self.sip(Node::Cf, m, clauses, note, Some(Arrival::SubscribeAtCf { txn, expires: 0 }));
    }

    /// Q12: what happens to SENDs towards Carol that had no 200 when her session went away.
    pub(super) fn requeue_in_flight(&mut self) {
        let flights = std::mem::take(&mut self.in_flight);
        if flights.is_empty() {
            return;
        }
        let resend = self.policy(PolicyId::Q12InFlightAtLoss, "resend");
        for f in flights.into_iter().rev() {
            self.stop_timer(f.timer);
            if Self::cut_off(&f) {
                // Q14: part of it reached Carol (src/pf/chunks.rs).
                self.q14_cut(f);
            } else if resend {
                self.store.push_front((f.chat, f.body.clone()));
                self.note(StepKind::Store, format!("back to store #{}", f.chat), cl!["policy:q12-in-flight-at-loss"], "Q12 policy resend: this SEND had no 200 when the session went away, so it goes back to the front of the store (Carol may see it twice; her client drops copies by imdn.Message-ID).", Some(f.chat));
                let q = self.store.len();
                self.key_last(format!("Unacknowledged message #{} back in the store (Q12 policy; store: {q})", f.chat));
                self.chat(ChatEvent::Requeued(f.chat));
            } else {
                self.pf_drops(
                    f.chat,
                    None,
                    "Q12 policy count-lost: this SEND had no 200 when the session went away; it is not re-sent.",
                    cl!["policy:q12-in-flight-at-loss"],
                );
            }
        }
    }

    /// The PF counts the MSRP connection to Carol as lost (case 3, or pre-CR: release).
    pub(super) fn loss_detected(&mut self, why: &'static str) {
        if !matches!(self.state, PfState::Active | PfState::Replaying | PfState::DeliveringB | PfState::DeliveringA)
            || self.client_leg.is_none() && self.state != PfState::DeliveringB
        {
            self.note(
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
    pub(super) fn msrp_failed(&mut self, why: &'static str) {
        // The step recorded last is what detected the failure (a timer, a reset, a re-join).
        self.key_last(match self.cfg.rules {
            Rules::PostCr => "Trigger: the MSRP connection to Carol failed",
            Rules::PreCr => "MSRP connection failed: no deferral trigger before the CR",
        });
        self.end_stale_client_dialog();
        match self.cfg.rules {
            Rules::PostCr => {
                self.enter_deferred(
                    cl![CL],
                    crate::trace::note_fmt!("{why} Case 3 of §8.3.2.9: the PF remains in the media path with the focus and defers delivery."),
                );
                self.arm_still_registered();
            }
            Rules::PreCr => {
                self.client_leg = None;
                self.note(
                    StepKind::Info,
                    "no trigger (pre-CR)",
                    cl![READ],
                    crate::trace::note_fmt!(
                        "{why} Before the CR only a client BYE with an involuntary Reason kept the PF in the group, so it releases Carol's participation."
                    ),
                    None,
                );
                self.pf_leave(
                    Some("SIP;cause=480;text=\"Temporarily Unavailable\""),
                    false,
                    cl![READ],
                    "Pre-CR: the text before the CR does not say what the PF does here; our reading is that it leaves the group for Carol (BYE, SIP cause 480), and what was in flight or stored is lost.",
                );
            }
        }
    }

    /// Q19: what becomes of Carol's SIP dialog whose MSRP session is gone.
    pub(super) fn end_stale_client_dialog(&mut self) {
        if self.client_leg.is_some() && self.policy(PolicyId::Q19DialogOnMsrpLoss, "bye-client") {
            self.bye_carol(
                "SIP;cause=480;text=\"Temporarily Unavailable\"",
                cl!["policy:q19-dialog-on-msrp-loss"],
                "Q19 policy: without MSRP the PF also ends Carol's SIP dialog, with an involuntary Reason.",
            );
        } else if self.client_leg.is_some() {
            self.note(StepKind::Info,
                "dialog left alone",
                cl!["policy:q19-dialog-on-msrp-loss"],
                "Q19 policy keep-dialog: the PF sends Carol's client no BYE; the dialog without media is simply no longer used, and a later delivery uses a new session.",
                None,
            );
        }
    }

    /// BYE towards Carol's client on the current client dialog.
    pub(super) fn bye_carol(&mut self, reason: &str, clauses: Clauses, note: &'static str) {
        let Some(d) = self.client_leg.take() else { return };
        self.bye_dialog(d, reason, clauses, note);
    }

    /// BYE towards Carol's client on dialog `d`.
    pub(super) fn bye_dialog(&mut self, mut d: Dialog, reason: &str, clauses: Clauses, note: &'static str) {
        let from_a = d.a_uri != CAROL;
        let target = self.target_for(&d.call_id);
        let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Pf, &target);
        m.push("Reason", reason);
        let txn = Txn::of(&m);
        self.sip(self.dev, m, clauses, note, Some(Arrival::PfByeAtCarol { txn }));
    }

    /// The PF leaves the group for Carol: BYE to the focus, end the subscription, empty the store.
    pub(super) fn pf_leave(&mut self, reason: Option<&str>, voluntary: bool, clauses: Clauses, why: &'static str) {
        // Its own delivery INVITE (path A) is given up too: without a leg to the focus it has
        // nothing to deliver over (issue 11 #1; RFC 3261 §9.1, §15).
        if self.invite.as_ref().is_some_and(|i| i.purpose == InvitePurpose::Delivery && !i.cancelled) {
            self.drop_own_invite(GiveUp::Leave);
        }
        self.stop_still_registered();
        for t in [self.retention_timer.take(), self.reaction_timer.take(), self.setup_timer.take(), self.refresh_timer.take()].into_iter().flatten() {
            self.stop_timer(t);
        }
        if self.sub.is_some() {
            self.unsubscribe(cl!["RFC 6665 §4.1.2.3"], "Carol is no longer in the group: the PF ends its conference subscription.");
        }
        self.cf_media = false;
        self.client_sub = None;
        if let Some(mut d) = self.cf_leg.take() {
            let from_a = d.a_uri == CAROL;
            let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Pf, GROUP);
            if let Some(r) = reason {
                m.push("Reason", r);
            }
            let txn = Txn::of(&m);
            self.sip(Node::Cf, m, clauses.clone(), "The PF leaves the group session on Carol's behalf.", Some(Arrival::PfByeAtCf { txn, voluntary }));
        }
        self.delivery_session = false;
        if self.set_state(PfState::Left, clauses.clone(), why) {
            self.key_last(if voluntary { "The PF leaves the group: Carol left on purpose" } else { "The PF leaves the group for Carol" });
        }
        self.purge(clauses, voluntary);
    }

    /// Empties the store and the in-flight list: discarded when the PF leaves because Carol left
    /// on purpose (`voluntary`, from what reached it), lost otherwise.
    pub(super) fn purge(&mut self, clauses: Clauses, voluntary: bool) {
        let mut all: Vec<u32> = std::mem::take(&mut self.in_flight)
            .into_iter()
            .map(|f| {
                self.stop_timer(f.timer);
                f.chat
            })
            .collect();
        all.extend(std::mem::take(&mut self.store).into_iter().map(|(c, _)| c));
        self.resume.clear();
        let n = all.len();
        self.mark();
        for chat in all {
            if !voluntary {
                self.pf_drops(
                    chat,
                    Some(false),
                    "Lost: the PF no longer holds a session for Carol, so this stored message will never reach her.",
                    clauses.clone(),
                );
            } else {
                self.pf_drops(chat, Some(true), "Discarded: Carol left the group voluntarily, so the stored message is not delivered.", clauses.clone());
            }
        }
        if n > 0 {
            let what = if !voluntary { "lost: Carol will never get" } else { "discarded: Carol left, so she does not get" };
            self.key_at_mark(format!("{n} stored message{} {what} {}", if n == 1 { "" } else { "s" }, if n == 1 { "it" } else { "them" }));
        }
    }
}
