//! Carol leaves on purpose from her other device (issue 11, the digest's Q9): her tablet, which
//! has no session with the group, asks the focus to end her participation with a REFER to the
//! group's identity, `Refer-To: <her AOR>;method=BYE` (RFC 4579 §5.5; RFC 3515 §2.4), without
//! the implicit subscription (`Refer-Sub: false`, RFC 4488 §4), with `Reason: SIP;cause=200`.
//! Her PF, the AS on her originating path, sees it first. The signal is our choice (not in the
//! CR): the CR names only a BYE with cause 200 on the session (§8.2.2.3).
//!
//! While the PF defers for her, what it does is policy `q9-leave-elsewhere` (not in the CR):
//! `end-deferral` (default, the digest: "any voluntary signal ends the deferral"): 202, then it
//! leaves the group for her with BYE and `Reason: SIP;cause=200` and empties the store (each
//! message a `discarded` step: she left on purpose, as for her own leave, issue 11 defect 8);
//! `keep-deferring` (only the dropped device's own signal counts): it declines the REFER (403,
//! our choice) and keeps storing. Outside a deferral, while the PF is in the group for her, the
//! REFER is her leave under both options. The other case of Q9, a leave in the UI while her
//! device is offline, stays as it was: nothing reaches the network, and her client declines the
//! next INVITE with 603 (`q5-invite-error`).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::Builder;

/// What its steps cite for the policy.
const Q9: &str = "policy:q9-leave-elsewhere";
/// The Reason of the PF's BYEs when Carol left from her other device (§8.2.2.3's voluntary cause).
const LEFT: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";

impl Pf {
    /// Carol's REFER `method=BYE` from her other device (module doc).
    pub(super) fn pf_gets_refer(&mut self, txn: Txn) {
        let deferred = matches!(self.state, PfState::Deferred | PfState::DeliveringA) || (self.state == PfState::EndedWithBacklog && !self.store.is_empty());
        let in_group = self.cf_leg.is_some();
        if deferred && self.cfg.policies.index(PolicyId::Q9LeaveElsewhere) == 1 {
            let r = self.response(403, &txn, Some("pf-rf"));
            self.sip(
                self.dev,
                r,
                cl!["RFC 3515 §2.4.2", Q9],
                "Policy q9-leave-elsewhere keep-deferring: only the dropped device's own signal ends the deferral, so the PF declines the leave from Carol's other device (403, our choice) and keeps storing.",
                None,
            );
            self.key_last("Carol leaves from her other device: the PF keeps deferring (policy)");
            return;
        }
        if !deferred && !in_group {
            let r = self.response(403, &txn, Some("pf-rf"));
            self.sip(self.dev, r, cl!["RFC 3515 §2.4.2", Q9], "The PF holds no group session for Carol, so there is nothing to leave (403).", None);
            return;
        }
        let mut r = self.response(202, &txn, Some("pf-rf"));
        r.push("Refer-Sub", "false");
        self.sip(
            self.dev,
            r,
            cl!["RFC 3515 §2.4.2", "RFC 4488 §4", Q9],
            "The PF accepts Carol's leave from her other device (202, no implicit subscription).",
            None,
        );
        self.set_carol_entitled(false);
        // Her session on the device the PF's client leg is with ends too (she left, on purpose).
        if self.client_leg.is_some() {
            self.pf_closes_msrp_to_carol();
            self.bye_carol(LEFT, cl!["RFC 3261 §15", Q9], "Carol left the chat from her other device, so the PF ends her session on this one too.");
        }
        self.pf_leave(
            Some(LEFT),
            true,
            cl!["reading:8.2.2.3", Q9],
            if deferred {
                "Policy q9-leave-elsewhere end-deferral: Carol left on purpose from her other device, so the deferral ends: the PF leaves the group for her with cause 200 and discards the store (our reading of a voluntary leave)."
            } else {
                "Carol left on purpose from her other device: the PF leaves the group for her with cause 200 (our reading of a voluntary leave)."
            },
        );
    }
}
