//! Q20 (`q20-other-contribution-id`; issue 11, research digest §7 Q20): Carol's INVITE to the
//! group carries another Conversation-ID or Contribution-ID than her session's. The CR's re-join
//! is an INVITE "with the same Conversation-ID and Contribution-ID" (8.3.2.9); it does not say
//! what the PF does with one that has other IDs. Not in the CR: every step here cites the policy.
//!
//! The PF reads the IDs from the INVITE that reached it and compares them with its session's
//! (the ones it set up or relayed; [`CONVERSATION_ID`], [`CONTRIBUTION_ID`]).
//!
//! - `new-session` (default, the digest's reading): not a re-join of this session, so not the
//!   CR's path B (neither Q1 nor Q2 applies). The PF takes it as a new session of Carol's and
//!   answers it itself, keeping its leg to the focus (our choice: the group sees no leave and
//!   join); a pending reaction to a REGISTER and a pending INVITE of its own are dropped for the
//!   new session. Once the new session is set up (ACK, MSRP), the PF delivers the deferred
//!   messages over it, as a delivery of their own.
//! - `new-session-no-delivery`: the same, but the new session starts empty: the stored messages
//!   are discarded, each a lost step.
//! - `treat-as-rejoin`: the PF ignores the difference (the CR's re-join: path B, Q1, Q2).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::{CONTRIBUTION_ID, CONVERSATION_ID};

/// The citation of every step of this policy.
const Q20: &str = "policy:q20-other-contribution-id";

impl Pf {
    /// True when the IDs of Carol's INVITE (Conversation-ID, Contribution-ID, as they reached
    /// the PF) are not her session's.
    pub(super) fn q20_other_ids(ids: Option<&(String, String)>) -> bool {
        ids.is_some_and(|(conv, contrib)| conv != CONVERSATION_ID || contrib != CONTRIBUTION_ID)
    }

    /// Carol's INVITE to the group with other session IDs (`no`: its offer's MSRP path number).
    /// Returns false when the PF handles it as any re-join: under `treat-as-rejoin`, and in the
    /// states where it holds no deferral or session of hers to compare it with (left, ended,
    /// still setting up, answering a re-join), which handle it as before (our choice).
    pub(super) fn q20_rejoin_with_other_ids(&mut self, txn: &Txn, no: u32) -> bool {
        use PfState::*;
        if !matches!(self.state, Deferred | EndedWithBacklog | DeliveringA | Active | Replaying) {
            return false;
        }
        if self.cfg.policies.index(PolicyId::Q20OtherContributionId) == 2 {
            self.note(
                StepKind::Info,
                "other IDs ignored",
                cl![Q20],
                "Policy q20-other-contribution-id treat-as-rejoin: Carol's INVITE carries other session IDs than her session's; the PF ignores the difference and takes it as the CR's re-join.",
                None,
            );
            return false;
        }
        let keep = self.cfg.policies.index(PolicyId::Q20OtherContributionId) == 0;
        self.note(
            StepKind::Info,
            "not a re-join: new session",
            cl![CL, Q20],
            if keep {
                "Policy q20-other-contribution-id new-session: Carol's INVITE carries other session IDs than her session's, so it is not the CR's re-join (same Conversation-ID and Contribution-ID) but a new session; the PF will deliver the deferred messages over it once it is set up."
            } else {
                "Policy q20-other-contribution-id new-session-no-delivery: Carol's INVITE carries other session IDs than her session's, so it is not the CR's re-join but a new session, which starts empty: the stored messages are discarded."
            },
            None,
        );
        self.key_last("Carol's INVITE has other session IDs: a new session (Q20 policy)");
        match self.state {
            Replaying if self.cfg.rules == Rules::PreCr => {
                // As for a re-join during the replay before the CR (src/pf/client.rs): the new
                // session replaces the replay's, and the PF keeps what it has not delivered yet.
                self.pf_closes_msrp_to_carol();
                self.end_stale_client_dialog();
                self.enter_deferred(
                    cl![READ, Q20],
                    note_text("The replay's session is replaced by Carol's new session; the PF keeps what it has not delivered yet."),
                );
            }
            Active | Replaying => {
                // Her old session is gone, as for any INVITE of hers to the group.
                self.note(StepKind::Info, "old session is stale", cl![Q20], "Carol's new session shows that her old one is gone.", None);
                self.msrp_failed("Replaced by Carol's new session.");
                if self.state != Deferred {
                    // Before the CR the PF left the group for her: it relays the INVITE to the
                    // focus as a new join, as for any INVITE of hers then.
                    self.pf_gets_client_invite(txn.clone(), true, no);
                    return true;
                }
            }
            DeliveringA => {
                self.drop_own_invite(GiveUp::NewSession);
                self.set_state(Deferred, cl![Q20], "Policy q20-other-contribution-id: the PF gives its own INVITE up for Carol's new session.");
            }
            _ => {}
        }
        if let Some(t) = self.reaction_timer.take() {
            self.stop_timer(t);
            self.note(
                StepKind::Info,
                "no INVITE (new session)",
                cl![Q20],
                "Carol's new session makes the PF's reaction to her REGISTER unnecessary: it sends no INVITE of its own (not the CR's path B rule, which is for a re-join).",
                None,
            );
        }
        if !keep {
            self.q20_discard_store();
        }
        self.rejoin_no = no;
        self.q20_new_session = true;
        self.path_b(txn.clone());
        true
    }

    /// `new-session-no-delivery`: the stored messages (and any still in flight) are lost.
    fn q20_discard_store(&mut self) {
        let mut all: Vec<u32> = std::mem::take(&mut self.in_flight)
            .into_iter()
            .map(|f| {
                self.stop_timer(f.timer);
                f.chat
            })
            .collect();
        all.extend(std::mem::take(&mut self.store).into_iter().map(|(c, _)| c));
        if all.is_empty() {
            return;
        }
        let n = all.len();
        self.mark();
        for chat in all {
            self.pf_drops(
                chat,
                None,
                "Lost: policy q20-other-contribution-id new-session-no-delivery; Carol's new session does not carry what the PF stored for her old one.",
                cl![Q20],
            );
        }
        self.key_at_mark(note_fmt!("{n} stored message{} lost: Carol's new session starts empty (Q20 policy)", if n == 1 { "" } else { "s" }));
    }
}
