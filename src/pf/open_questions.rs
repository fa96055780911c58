//! Open questions of §8.3.2.9 that the CR leaves to the implementation (issue 11; research digest
//! §7), each a named, switchable policy ([`PolicyId`]), none of it in the CR:
//!
//! - Q2 (`q2-reacted-when`): which moment counts as the PF having "reacted" to the 3rd-party
//!   REGISTER, the end of the CR's path-B window ("if the client re-joins before the PF
//!   reacted");
//! - Q4 (`q4-ringing-no-answer`): a provisional response to the PF's INVITE, then silence (the
//!   client transaction is in Proceeding and Timer B no longer runs, RFC 3261 §17.1.1.2);
//! - Q10 (`q10-store-cap`, `q10-at-cap`): a cap on the store and what happens at it;
//! - `still-registered`: a deferral that starts while Carol may still be registered, so no
//!   3rd-party REGISTER will come to start path A.
//!
//! Every step these produce cites `policy:<id>`.

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;

/// The Reason the PF's BYE to the focus carries when it gives a deferral up for Carol.
const GIVE_UP_REASON: &str = "SIP;cause=480;text=\"Temporarily Unavailable\"";

impl Pf {
    // ------------------------------------------------------------------ Q2

    /// Q2 `register-received`: the PF counts as having reacted as soon as it accepted the
    /// 3rd-party REGISTER, so a re-join during its reaction delay comes after reacting (Q1's case).
    pub(super) fn q2_reacted_on_register(&self) -> bool {
        self.reaction_timer.is_some() && self.cfg.policies.index(PolicyId::Q2ReactedWhen) == 1
    }

    /// Q2 `invite-answered`: its INVITE is not answered yet, so the PF has not reacted and a
    /// re-join is still path B.
    pub(super) fn q2_not_reacted_until_answered(&self) -> bool {
        self.cfg.policies.index(PolicyId::Q2ReactedWhen) == 2
    }

    /// A re-join during the reaction delay under Q2 `register-received`: the PF already reacted,
    /// so Q1 decides. Returns true when the re-join was turned away (the INVITE still goes).
    pub(super) fn q2_rejoin_after_register(&mut self, txn: &Txn) -> bool {
        if self.policy(PolicyId::Q1RejoinAfterInvite, "prefer-own-invite") {
            self.reject_client_invite(
                486,
                txn,
                cl!["policy:q2-reacted-when", "policy:q1-rejoin-after-invite"],
                "Q2 policy register-received: the PF reacted when it accepted the 3rd-party REGISTER, so this re-join comes after reacting; Q1 prefer-own-invite turns it away with 486 Busy Here and the PF's INVITE goes when its reaction delay ends.",
            );
            self.key_last("Re-join after the PF reacted: turned away (Q2 policy)");
            return true;
        }
        if let Some(t) = self.reaction_timer.take() {
            self.stop_timer(t);
        }
        self.note(
            StepKind::Info,
            "reaction given up",
            cl!["policy:q2-reacted-when", "policy:q1-rejoin-after-invite"],
            "Q2 policy register-received: the PF reacted when it accepted the 3rd-party REGISTER, so this is a re-join after reacting (not the CR's path B); Q1 prefer-rejoin: the PF gives its reaction up before its INVITE leaves and uses the re-join.",
            None,
        );
        false
    }

    // ------------------------------------------------------------------ Q4

    /// How long the Q4 no-answer timer runs (None: `never`).
    fn q4_limit_ms(&self) -> Option<u64> {
        // Options: no-answer-60s, no-answer-180s, never.
        [Some(60_000), Some(180_000), None].get(self.cfg.policies.index(PolicyId::Q4RingingNoAnswer)).copied().flatten()
    }

    /// A provisional response `code` to its INVITE: the no-answer timer starts with the first and
    /// starts again with each later one other than 100 (as a proxy's Timer C, RFC 3261 §16.7
    /// step 2).
    pub(super) fn q4_provisional(&mut self, code: u16) {
        let Some(ms) = self.q4_limit_ms() else { return };
        let Some(i) = self.invite.as_ref().filter(|i| !i.cancelled && !i.answered) else { return };
        if i.no_answer.is_some() && code == 100 {
            return;
        }
        let (inv, old) = (i.id, i.no_answer);
        if let Some(t) = old {
            self.stop_timer(t);
        }
        let t = self.arm(PfTimer::NoAnswer { inv }, ms);
        if let Some(i) = self.invite.as_mut() {
            i.no_answer = Some(t);
        }
    }

    /// Stops the no-answer timer of its INVITE (a final response came, or it gives the INVITE up).
    pub(super) fn q4_stop(&mut self) {
        if let Some(t) = self.invite.as_mut().and_then(|i| i.no_answer.take()) {
            self.stop_timer(t);
        }
    }

    /// The no-answer timer fires: CANCEL (it has had a provisional response, RFC 3261 §9.1) and
    /// handle the INVITE as timed out (case 2 of §8.3.2.9, by this policy).
    pub(super) fn q4_no_answer(&mut self, inv: u32) {
        let Some(i) = self.invite.as_mut().filter(|i| i.id == inv && !i.answered && !i.cancelled) else { return };
        i.no_answer = None;
        i.cancelled = true;
        i.gave_up = GiveUp::NoAnswer;
        let purpose = i.purpose;
        let secs = self.q4_limit_ms().unwrap_or(0) / 1000;
        self.note(
            StepKind::Timer,
            "no answer",
            cl!["policy:q4-ringing-no-answer"],
            note_fmt!("Carol's client has been ringing for {secs} s without a final response (Timer B no longer runs after a 1xx, RFC 3261 §17.1.1.2): the PF gives its INVITE up."),
            None,
        );
        self.key_last("No answer: the PF cancels (Q4 policy)");
        self.send_cancel(cl!["RFC 3261 §9.1", "policy:q4-ringing-no-answer"], "Q4 policy: the PF cancels the INVITE Carol's client did not answer.");
        self.invite_failed(purpose, None, Some("policy:q4-ringing-no-answer"));
    }

    // ------------------------------------------------------------------ Q10

    /// The store's cap (None: `unlimited`).
    fn q10_cap(&self) -> Option<usize> {
        // Options: unlimited, 5-messages, 100-messages.
        [None, Some(5), Some(100)].get(self.cfg.policies.index(PolicyId::Q10StoreCap)).copied().flatten()
    }

    /// Before `chat` is stored: makes room under the cap (Q10). Returns false when `chat` is not
    /// to be stored (dropped, or the PF left the group), each drop a `lost` step.
    pub(super) fn q10_room_for(&mut self, chat: u32) -> bool {
        let Some(cap) = self.q10_cap() else { return true };
        if self.store.len() < cap {
            return true;
        }
        // Options: drop-oldest, drop-newest, leave-group.
        match self.cfg.policies.index(PolicyId::Q10AtCap) {
            1 => {
                self.pf_drops(
                    chat,
                    None,
                    note_fmt!("Q10 policy drop-newest: the store already holds {cap} messages (its cap), so this one is not stored; Carol will never get it."),
                    cl!["policy:q10-store-cap", "policy:q10-at-cap"],
                );
                self.key_last(format!("Store full: #{chat} dropped (Q10 policy)"));
                false
            }
            2 => {
                self.note(
                    StepKind::Info,
                    "store full",
                    cl!["policy:q10-store-cap", "policy:q10-at-cap"],
                    note_fmt!("Q10 policy leave-group: the store already holds {cap} messages (its cap): the PF gives the deferral up and leaves the group for Carol."),
                    Some(chat),
                );
                self.key_last("Store full: the PF leaves the group (Q10 policy)");
                if self.client_leg.is_some() {
                    self.pf_closes_msrp_to_carol();
                    self.bye_carol(
                        GIVE_UP_REASON,
                        cl!["policy:q10-at-cap"],
                        "Q10 policy leave-group: the PF ends Carol's session too, as it leaves the group for her.",
                    );
                }
                self.pf_leave(
                    Some(GIVE_UP_REASON),
                    false,
                    cl!["policy:q10-at-cap"],
                    "Q10 policy leave-group: the store is full; the stored messages are lost.",
                );
                self.pf_drops(
                    chat,
                    None,
                    "Q10 policy leave-group: the PF has left the group for Carol, so this message is not stored; Carol will never get it.",
                    cl!["policy:q10-at-cap"],
                );
                false
            }
            _ => {
                if let Some((old, _)) = self.store.pop_front() {
                    self.pf_drops(
                        old,
                        None,
                        note_fmt!("Q10 policy drop-oldest: the store holds {cap} messages (its cap), so the oldest is dropped to make room for #{chat}; Carol will never get it."),
                        cl!["policy:q10-store-cap", "policy:q10-at-cap"],
                    );
                    self.key_last(format!("Store full: #{old} dropped (Q10 policy)"));
                }
                true
            }
        }
    }

    // ------------------------------------------------------------------ still registered

    /// After a deferral that Carol's own BYE (case 1, or Q6 broad) or the loss of her MSRP
    /// connection (case 3) started, she may still be registered: under `invite-after-*` the PF
    /// invites her (path A) that long after, unless a REGISTER or a re-join comes first.
    pub(super) fn arm_still_registered(&mut self) {
        // Options: wait, invite-after-60s, invite-after-10min.
        let ms = match self.cfg.policies.index(PolicyId::StillRegistered) {
            1 => 60_000,
            2 => 600_000,
            _ => return,
        };
        if self.state != PfState::Deferred {
            return;
        }
        self.stop_still_registered();
        self.still_registered_timer = Some(self.arm(PfTimer::StillRegistered, ms));
        self.note(
            StepKind::Timer,
            "invite when registered",
            cl!["policy:still-registered"],
            note_fmt!(
                "Still-registered policy: this trigger does not show that Carol's device is gone, so no 3rd-party REGISTER may come; unless a REGISTER or a re-join comes first, the PF invites her in {} s.",
                ms / 1000
            ),
            None,
        );
    }

    /// A REGISTER, a re-join or a leave takes over from the still-registered wait.
    pub(super) fn stop_still_registered(&mut self) {
        if let Some(t) = self.still_registered_timer.take() {
            self.stop_timer(t);
        }
    }

    /// The still-registered wait ends: path A, although no REGISTER came.
    pub(super) fn still_registered_fired(&mut self) {
        self.still_registered_timer = None;
        let deliverable = self.state == PfState::Deferred || (self.state == PfState::EndedWithBacklog && !self.store.is_empty());
        if deliverable && self.invite.is_none() && self.reaction_timer.is_none() {
            self.path_a(
                "Still-registered policy: no REGISTER and no re-join came, so the PF invites Carol for the deferred delivery (path A) in case she is still registered.",
                cl![CL, "policy:still-registered"],
            );
        }
    }
}
