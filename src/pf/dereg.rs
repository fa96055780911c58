//! The S-CSCF's 3rd-party REGISTER with `Expires: 0`: Carol de-registered (3GPP TS 24.229
//! §5.4.1.7; RFC 3261 §10.2.2: an expiration of zero removes the binding). It never makes her
//! "reachable again", so it never starts path A. What the PF does with a deferral it holds for a
//! de-registered user is policy `dereg-while-deferred` (issue 11; not in the CR):
//! `keep-deferring` (wait for the next registration or a re-join; Q7's retention still runs) or
//! `end-deferral` (leave the group for her, BYE with a Reason, the store lost).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::Builder;

/// The Reason the PF's BYE to the focus carries when it ends a deferral at a de-registration.
const DEREG_REASON: &str = "SIP;cause=480;text=\"Temporarily Unavailable\"";

impl Pf {
    /// A 3rd-party REGISTER with `Expires: 0` (3GPP TS 24.229 §5.4.1.7, RFC 3261 §10.2.2).
    pub(super) fn pf_gets_deregister(&mut self, txn: Txn) {
        let r = self.response(200, &txn, Some("pf-reg"));
        self.sip(
            Node::Scscf,
            r,
            cl!["3GPP TS 24.229 §5.4.1.7", "RFC 3261 §10.2.2"],
            "The PF accepts the 3rd-party REGISTER with Expires: 0: Carol is de-registered, not reachable again.",
            None,
        );
        let deferred = self.state == PfState::Deferred || (self.state == PfState::EndedWithBacklog && !self.store.is_empty());
        if !deferred {
            self.note(
                StepKind::Info,
                "de-registered",
                cl!["RFC 3261 §10.2.2"],
                "Carol de-registered while the PF holds no deferral for her: a de-registration never starts path A, so this changes nothing here.",
                None,
            );
            return;
        }
        // Our choice under both options: a path A that a REGISTER made due is called off, and the
        // still-registered wait ends (she is not registered any more).
        let due = self.reaction_timer.take();
        if let Some(t) = due {
            self.stop_timer(t);
        }
        self.stop_still_registered();
        if self.cfg.policies.index(PolicyId::DeregWhileDeferred) == 1 {
            self.note(
                StepKind::Info,
                "de-registered: deferral ends",
                cl!["RFC 3261 §10.2.2", "policy:dereg-while-deferred"],
                "Policy dereg-while-deferred end-deferral: Carol de-registered while deferred, so the PF gives the deferral up and leaves the group for her; no path A.",
                None,
            );
            self.key_last("Carol de-registered: the PF ends the deferral (policy)");
            if self.client_leg.is_some() {
                self.pf_closes_msrp_to_carol();
                self.bye_carol(
                    DEREG_REASON,
                    cl!["RFC 3261 §10.2.2", "policy:dereg-while-deferred"],
                    "Policy dereg-while-deferred end-deferral: the PF ends Carol's session too, as it leaves the group for her.",
                );
            }
            self.pf_leave(
                Some(DEREG_REASON),
                false,
                cl!["RFC 3261 §10.2.2", "policy:dereg-while-deferred"],
                "Policy dereg-while-deferred end-deferral: Carol de-registered; the stored messages are lost.",
            );
            return;
        }
        self.note(
            StepKind::Info,
            "de-registered: still deferred",
            cl!["RFC 3261 §10.2.2", "policy:dereg-while-deferred"],
            if due.is_some() {
                "Policy dereg-while-deferred keep-deferring: Carol de-registered before the PF reacted to her earlier REGISTER, so that path A is called off (our choice); the PF keeps deferring until the next REGISTER or a re-join, and Q7's retention still runs."
            } else {
                "Policy dereg-while-deferred keep-deferring: a de-registration is not path A; the PF keeps deferring until the next REGISTER or a re-join, and Q7's retention still runs."
            },
            None,
        );
        self.key_last("Carol de-registered: the PF keeps deferring (policy)");
    }
}
