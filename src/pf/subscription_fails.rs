//! Q18 (`q18-subscription-fails`; issue 11, research digest §7 Q18): the PF's conference
//! subscription to the focus fails. The CR says the PF subscribes to obtain the latest
//! Participant Information (8.2.2.6.2), not what it does when the focus refuses the SUBSCRIBE
//! (RFC 6665 §4.2.1.2) or ends the subscription with `terminated;reason=rejected` or
//! `noresource` (RFC 6665 §4.1.3, §4.2.2). Not in the CR: every step here cites the policy.
//!
//! Under every option the PF keeps the last roster it had and marks it stale, and what it later
//! gives Carol as Participant Information says so ([`Pf::q18_stale_note`]).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::{Builder, CAROL, GROUP};
use crate::world::Arrival;

/// The citation of every step of this policy.
const Q18: &str = "policy:q18-subscription-fails";
/// How many times `retry-backoff` subscribes again (after 30, 60, 120, 240 s).
const RETRIES: u8 = 4;
/// The first back-off; each later one doubles it.
const FIRST_BACKOFF_MS: u64 = 30_000;
/// The Reason of its BYE to the focus when it takes the refusal for the end of the group.
const GONE_REASON: &str = "SIP;cause=410;text=\"Gone\"";

impl Pf {
    /// A final response `code` ≥ 300 to its SUBSCRIBE (RFC 6665 §4.1.2.1): the subscription was
    /// not made, or a refresh failed and it ended (RFC 6665 §4.1.2.2).
    pub(super) fn q18_subscribe_refused(&mut self, code: u16, txn: Txn) {
        if self.sub.as_ref().is_none_or(|d| d.call_id != txn.call_id) {
            return;
        }
        self.q18_lost_subscription();
        // 404 Not Found and 410 Gone say the conference is not there (RFC 3261 §21.4.5, §21.4.11).
        self.q18_failed(matches!(code, 404 | 410), note_fmt!("The focus refused the PF's conference subscription ({code})."));
    }

    /// A NOTIFY ended its subscription with `reason` (RFC 6665 §4.2.2). Returns true when it is
    /// a failure Q18 handles: the PF did not ask for the end (it still held the subscription) and
    /// the group session has not ended (the focus's BYE did not come first).
    pub(super) fn q18_subscription_ended(&mut self, reason: &'static str) -> bool {
        if self.group_gone || !matches!(reason, "rejected" | "noresource") {
            return false;
        }
        self.q18_failed(reason == "noresource", note_fmt!("The focus ended the PF's conference subscription (reason={reason})."));
        true
    }

    /// Its subscription is gone: the PF forgets the dialog and its refresh timer.
    fn q18_lost_subscription(&mut self) {
        self.sub = None;
        if let Some(t) = self.sub_refresh_timer.take() {
            self.stop_timer(t);
        }
    }

    /// The subscription failed (`gone`: the answer says the conference no longer exists).
    fn q18_failed(&mut self, gone: bool, what: std::borrow::Cow<'static, str>) {
        self.roster_stale = true;
        self.note(StepKind::Info, "subscription failed", cl!["RFC 6665 §4.2.2", Q18], what, None);
        // Options: retry-backoff, give-up, treat-as-group-ended.
        match self.cfg.policies.index(PolicyId::Q18SubscriptionFails) {
            0 if self.sub_retries < RETRIES => {
                let ms = FIRST_BACKOFF_MS << self.sub_retries;
                self.sub_retries += 1;
                self.note(
                    StepKind::Info,
                    "retry later",
                    cl![Q18],
                    note_fmt!("Q18 policy retry-backoff: the PF keeps the last roster it had (now stale) and subscribes again in {} s.", ms / 1000),
                    None,
                );
                if let Some(t) = self.sub_retry_timer.take() {
                    self.stop_timer(t);
                }
                self.sub_retry_timer = Some(self.arm(PfTimer::SubscriptionRetry, ms));
            }
            0 => self.note(
                StepKind::Info,
                "give up",
                cl![Q18],
                "Q18 policy retry-backoff: the PF has tried four times; it keeps the last roster it had, stale, and subscribes no more.",
                None,
            ),
            2 if gone => self.q18_group_ended(),
            i => self.note(
                StepKind::Info,
                "keep stale roster",
                cl![Q18],
                if i == 2 {
                    "Q18 policy treat-as-group-ended: the refusal does not say the conference is gone, so the PF gives up: it keeps the last roster it had, stale, and does not subscribe again."
                } else {
                    "Q18 policy give-up: the PF keeps the last roster it had, stale, and does not subscribe again during this deferral."
                },
                None,
            ),
        }
    }

    /// The retry timer fires: subscribe again if the PF still wants the Participant Information
    /// (it still holds a deferral and no subscription).
    pub(super) fn q18_retry(&mut self) {
        self.sub_retry_timer = None;
        if self.sub.is_some() || !matches!(self.state, PfState::Deferred | PfState::DeliveringA) {
            return;
        }
        self.subscribe_again(Q18);
    }

    /// `treat-as-group-ended`: the focus says the conference is gone, so the PF takes it as the
    /// end of the group session (like the focus's BYE, Q8 decides the store) and ends its own leg
    /// to the focus, which leads nowhere now (RFC 3261 §15.1.1).
    fn q18_group_ended(&mut self) {
        self.note(
            StepKind::Info,
            "group taken as ended",
            cl![Q18, "policy:q8-group-ends"],
            "Q18 policy treat-as-group-ended: the focus says the conference is gone, so the PF handles it as the end of the group session (Q8).",
            None,
        );
        if let Some(mut d) = self.cf_leg.take() {
            let from_a = d.a_uri == CAROL;
            let mut m = self.dialog_request("BYE", &mut d, from_a, Node::Pf, GROUP);
            m.push("Reason", GONE_REASON);
            let txn = Txn::of(&m);
            self.sip(
                Node::Cf,
                m,
                cl!["RFC 3261 §15.1.1", Q18],
                "Q18 policy treat-as-group-ended: the PF ends Carol's leg to the focus, whose conference it takes as gone.",
                Some(Arrival::PfByeAtCf { txn, voluntary: false }),
            );
        }
        self.group_is_gone();
    }

    /// A new subscription reported the conference state: the PF's roster is current again.
    pub(super) fn q18_roster_current(&mut self) {
        self.roster_stale = false;
        self.sub_retries = 0;
    }

    /// The PF gives Carol Participant Information it knows to be stale (Q18): a step says so.
    pub(super) fn q18_stale_note(&mut self) {
        if self.roster_stale {
            self.note(
                StepKind::Info,
                "roster stale",
                cl![Q18],
                "Q18: the Participant Information the PF gives Carol is the last roster it had before its conference subscription failed; it may no longer be current.",
                None,
            );
        }
    }
}
