//! The focus's in-dialog requests on the PF's leg (digest Q16, issue 11): a session refresh
//! re-INVITE (RFC 4028 §7.4, RFC 3264 §8), perhaps with a new Subject, or an UPDATE
//! (RFC 3311). The CR says nothing of them. While Carol is deferred the answer is policy
//! `q16-cf-in-dialog` (not in the CR): `answer-as-user` (the digest's answer: 200, the PF's own
//! SDP unchanged, it keeps deferring), `reject` (403 Forbidden, RFC 3261 §21.4.4: the leg stays
//! as it was, §14.2, RFC 3311 §5.2) or `leave-group` (403, then BYE to the focus; the store is
//! lost). Otherwise (Carol in session, or a delivery under way) our reading: the PF, a B2BUA,
//! answers the refresh of its own leg itself, since each leg's session timer is its own, and a
//! new Subject reaches Carol through conference-info, not a relayed re-INVITE.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::*;
use crate::world::Arrival;

/// The Reason of the PF's BYE to the focus under `leave-group`.
const LEAVE_REASON: &str = "SIP;cause=480;text=\"Temporarily Unavailable\"";

impl Pf {
    /// The focus's re-INVITE (`update` false) or UPDATE on the PF's leg.
    pub(super) fn pf_gets_cf_in_dialog(&mut self, txn: Txn, update: bool) {
        if self.cf_leg.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            // It crossed the PF's BYE, or names a leg the PF never held (RFC 3261 §12.2.2).
            let r = self.response(481, &txn, None);
            let rtxn = Txn::of(&r);
            self.cf_ack_due = !update;
            self.sip(
                Node::Cf,
                r,
                cl!["RFC 3261 §12.2.2"],
                "The PF holds no such leg to the focus any more.",
                Some(Arrival::PfInDialogRespAtCf { code: 481, txn: rtxn }),
            );
            return;
        }
        if self.state != PfState::Deferred {
            self.answers_cf_in_dialog(
                200,
                &txn,
                update,
                cl!["RFC 4028 §7.4", "reading:8.3.2.9"],
                "The PF answers the focus's refresh of its leg itself (our reading: a B2BUA runs each leg's session timer on its own, so it relays nothing to Carol; a new Subject reaches her in conference-info). Policy q16-cf-in-dialog applies only while she is deferred.",
            );
            return;
        }
        match self.cfg.policies.index(PolicyId::Q16CfInDialog) {
            0 => {
                self.answers_cf_in_dialog(
                    200,
                    &txn,
                    update,
                    cl!["RFC 4028 §7.4", "RFC 3264 §8", "policy:q16-cf-in-dialog"],
                    if update {
                        "Policy q16-cf-in-dialog answer-as-user: Carol is deferred, so the PF answers the focus's UPDATE as if it were her and keeps deferring."
                    } else {
                        "Policy q16-cf-in-dialog answer-as-user: Carol is deferred, so the PF answers the focus's re-INVITE as if it were her (its own SDP, o= version unchanged) and keeps deferring."
                    },
                );
                self.key_last("The focus refreshes Carol's leg: the PF answers as her (Q16 policy)");
            }
            1 => {
                self.answers_cf_in_dialog(
                    403,
                    &txn,
                    update,
                    cl!["RFC 3261 §21.4.4", "RFC 3261 §14.2", "policy:q16-cf-in-dialog"],
                    "Policy q16-cf-in-dialog reject: Carol is deferred, so the PF refuses the focus's request with 403 Forbidden; the leg and its session stay as they were, and it keeps deferring.",
                );
                self.key_last("The focus refreshes Carol's leg: the PF refuses (Q16 policy)");
            }
            _ => {
                self.answers_cf_in_dialog(
                    403,
                    &txn,
                    update,
                    cl!["RFC 3261 §21.4.4", "policy:q16-cf-in-dialog"],
                    "Policy q16-cf-in-dialog leave-group: Carol is deferred, so the PF refuses the focus's request with 403 Forbidden and leaves the group for her.",
                );
                self.key_last("The focus refreshes Carol's leg: the PF leaves the group (Q16 policy)");
                self.stop_still_registered();
                if self.client_leg.is_some() {
                    self.pf_closes_msrp_to_carol();
                    self.bye_carol(
                        LEAVE_REASON,
                        cl!["policy:q16-cf-in-dialog"],
                        "Policy q16-cf-in-dialog leave-group: the PF ends Carol's session too, as it leaves the group for her.",
                    );
                }
                self.pf_leave(
                    Some(LEAVE_REASON),
                    false,
                    cl!["policy:q16-cf-in-dialog"],
                    "Policy q16-cf-in-dialog leave-group: the PF left the group for Carol at the focus's request; the stored messages are lost.",
                );
            }
        }
    }

    /// Its final response to the focus's re-INVITE or UPDATE: a 2xx carries its Contact (a
    /// target refresh, RFC 3261 §12.2.2, RFC 3311 §5.2), the Session-Expires it agrees to
    /// (RFC 4028 §9) and, to a re-INVITE, its SDP answer, the one it gave before (RFC 3264 §8:
    /// an unchanged answer keeps its `o=` version).
    fn answers_cf_in_dialog(&mut self, code: u16, txn: &Txn, update: bool, clauses: Clauses, note: &'static str) {
        let mut r = self.response(code, txn, None);
        if code == 200 {
            r.push("Contact", self.contact(Node::Pf));
            if !update {
                r.push("Content-Type", "application/sdp");
                r.body = self.cf_answer_sdp();
            }
        }
        // A re-INVITE's final response (any) is ACKed by the focus; an UPDATE's is not.
        self.cf_ack_due = !update;
        let rtxn = Txn::of(&r);
        self.sip(Node::Cf, r, clauses, note, Some(Arrival::PfInDialogRespAtCf { code, txn: rtxn }));
    }

    /// The SDP the PF gave on its leg to the focus (a run that starts established never showed
    /// it: the PF describes the same media as its offer would have).
    fn cf_answer_sdp(&mut self) -> String {
        if self.cf_sdp.is_none() {
            self.cf_sdp = Some(self.sdp(Node::Pf, "pf", PF_IP, 20001, self.pf_cf_path().to_string(), "active"));
        }
        self.cf_sdp.clone().unwrap_or_default()
    }
}
