//! Policies: every behaviour that §8.3.2.9 leaves open is a named, switchable policy with a
//! default (research digest §7). Each step a policy produces cites `policy:<id>` and says so.

use serde::Serialize;

/// One open question and the option chosen for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyId {
    /// The CR's Editor's Note: when an existing MSRP connection counts as lost.
    MsrpLossDetection,
    /// Q1: the re-join arrives after the PF already reacted (sent its INVITE).
    Q1RejoinAfterInvite,
    /// Q3: the 3rd-party REGISTER arrives but the PF's INVITE times out again.
    Q3UnreachableOnRegister,
    /// Q5: non-timeout final responses to the PF's INVITE.
    Q5InviteError,
    /// Q6: a BYE with a non-SIP Reason, or without Reason.
    Q6NonSipReason,
    /// Q7: the user never comes back.
    Q7NeverReturns,
    /// Q8: the group session ends while the user is deferred.
    Q8GroupEnds,
    /// Q11: live messages that arrive during the replay.
    Q11LiveDuringReplay,
    /// Q12: a SEND in flight when the connection died.
    Q12InFlightAtLoss,
    /// Q13: how the latest Participant Information is delivered.
    Q13ParticipantInfo,
    /// Q19: the client's SIP dialog when trigger (3) fires.
    Q19DialogOnMsrpLoss,
    /// When the PF ends the conference subscription it made for the deferral.
    SubscriptionEnd,
    // --- issue 11: Q2, Q4, Q10 and a deferral while Carol is still registered.
    /// Q2: the moment that counts as the PF having "reacted" to the 3rd-party REGISTER (the end
    /// of the CR's path-B window).
    Q2ReactedWhen,
    /// Q4: a provisional response to the PF's INVITE, then silence.
    Q4RingingNoAnswer,
    /// Q10: how many messages the PF stores for Carol.
    Q10StoreCap,
    /// Q10: what the PF does when its store is full.
    Q10AtCap,
    /// A deferral that starts while Carol is still registered (no 3rd-party REGISTER will come).
    StillRegistered,
    // --- issue 11: de-registration while deferred.
    /// Carol de-registers (`Expires: 0`) while the PF holds a deferral for her.
    DeregWhileDeferred,
    // --- issue 11: Q18.
    /// Q18: the PF's conference subscription to the focus fails (RFC 6665 §4.1.3, §4.2.2).
    Q18SubscriptionFails,
    // --- issue 11: Q14.
    /// Q14: a chunked message cut off mid-transfer (RFC 4975 §5.1, §7.1.1).
    Q14CutChunks,
    // --- issue 11: Q20.
    /// Q20: a re-join with another Contribution-ID or Conversation-ID than the session's.
    Q20OtherContributionId,
    // --- issue 11: Q17.
    /// Q17: the PF's IMDNs for what it stores (RFC 5438 §5.3, §7.2.1.3).
    Q17ImdnWhileStoring,
    // --- issue 11: several devices.
    /// Q15: which of Carol's devices path A invites.
    Q15WhichDevice,
    /// Q9: Carol leaves on purpose from her other device while the PF defers.
    Q9LeaveElsewhere,
    // --- issue 11: Q16.
    /// Q16: an in-dialog request from the CF (refresh re-INVITE, UPDATE) while the PF defers.
    Q16CfInDialog,
}

/// Description of a policy for pickers and documentation.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    /// Stable id, used in scenario files and in `policy:<id>` citations.
    pub id: &'static str,
    /// The digest question it answers ("Q1" … or "EN" for the Editor's Note).
    pub question: &'static str,
    /// A short title.
    pub title: &'static str,
    /// The default option.
    pub default: &'static str,
    /// All options, default first.
    pub options: &'static [&'static str],
    /// What each option does, in one paragraph.
    pub description: &'static str,
    /// Always false: a policy is by definition not in the CR.
    pub in_cr: bool,
}

/// All policies, in display order.
pub const ALL: [PolicyId; 25] = [
    PolicyId::MsrpLossDetection,
    PolicyId::Q1RejoinAfterInvite,
    PolicyId::Q3UnreachableOnRegister,
    PolicyId::Q5InviteError,
    PolicyId::Q6NonSipReason,
    PolicyId::Q7NeverReturns,
    PolicyId::Q8GroupEnds,
    PolicyId::Q11LiveDuringReplay,
    PolicyId::Q12InFlightAtLoss,
    PolicyId::Q13ParticipantInfo,
    PolicyId::Q19DialogOnMsrpLoss,
    PolicyId::SubscriptionEnd,
    // issue 11: Q2, Q4, Q10, still registered
    PolicyId::Q2ReactedWhen,
    PolicyId::Q4RingingNoAnswer,
    PolicyId::Q10StoreCap,
    PolicyId::Q10AtCap,
    PolicyId::StillRegistered,
    // issue 11: de-registration while deferred
    PolicyId::DeregWhileDeferred,
    // issue 11: Q18
    PolicyId::Q18SubscriptionFails,
    // issue 11: Q14
    PolicyId::Q14CutChunks,
    // issue 11: Q20
    PolicyId::Q20OtherContributionId,
    // issue 11: Q17
    PolicyId::Q17ImdnWhileStoring,
    // issue 11: several devices
    PolicyId::Q15WhichDevice,
    PolicyId::Q9LeaveElsewhere,
    // issue 11: Q16
    PolicyId::Q16CfInDialog,
];

impl PolicyId {
    /// The catalogue entry.
    pub fn info(self) -> PolicyInfo {
        let (id, question, title, options, description): (&str, &str, &str, &'static [&'static str], &str) = match self {
            PolicyId::MsrpLossDetection => ("msrp-loss-detection", "EN", "When an MSRP connection counts as lost (Editor's Note)", &["tcp-reset", "send-timeout", "session-refresh"],
                "tcp-reset: a broken TCP connection is noticed at once, and a silently vanished client when a SEND gets no response within 30 s. send-timeout: only a SEND unanswered for 30 s counts. session-refresh: only a failed session refresh (UPDATE every 90 s, Timer F) counts."),
            PolicyId::Q1RejoinAfterInvite => ("q1-rejoin-after-invite", "Q1", "Re-join after the PF already sent its INVITE", &["prefer-rejoin", "prefer-own-invite"],
                "prefer-rejoin: CANCEL the PF's pending INVITE (or BYE its answered dialog) and deliver over the re-join's session. prefer-own-invite: answer the re-join 486 Busy Here and keep the PF's own session."),
            PolicyId::Q3UnreachableOnRegister => ("q3-unreachable-on-register", "Q3", "Still unreachable when the PF invites after a REGISTER", &["wait-next-register", "retry-30s"],
                "wait-next-register: stay deferred until the next 3rd-party REGISTER. retry-30s: also retry the INVITE 30 s after each timeout, at most 3 times."),
            PolicyId::Q5InviteError => ("q5-invite-error", "Q5", "Non-timeout errors to the PF's INVITE (480, 486, 503, 603; 408 is a timeout)", &["treat-as-timeout", "literal"],
                "A 408 Request Timeout (the IMS core's own transaction towards Carol timed out) is the CR's timeout like the PF's own Timer B under both options. treat-as-timeout: 480, 486 and 503 are handled like a timeout too (defer or stay deferred); 603 Decline is a voluntary leave. literal: only a timeout (Timer B or 408) defers; any other error ends Carol's participation and the store is lost."),
            PolicyId::Q6NonSipReason => ("q6-non-sip-reason", "Q6", "BYE with a non-SIP Reason or without Reason", &["literal", "broad"],
                "literal: only Reason protocol SIP with cause other than 200 defers. broad: a Q.850 cause other than 16/31, RELEASE_CAUSE other than 1, FAILURE_CAUSE, and a BYE without Reason also defer."),
            PolicyId::Q7NeverReturns => ("q7-never-returns", "Q7", "Carol never comes back", &["keep", "expire-10min", "expire-1h"],
                "keep: the store is kept for as long as the group session lives. expire-*: after that long in deferral the PF leaves the group (BYE with Reason SIP;cause=480) and the stored messages are lost."),
            PolicyId::Q8GroupEnds => ("q8-group-ends", "Q8", "The group session ends while Carol is deferred", &["deliver-then-close", "discard"],
                "deliver-then-close: keep the store, deliver it when Carol returns (path A or B), then BYE her with Reason SIP;cause=410. discard: the stored messages are lost when the group ends."),
            PolicyId::Q11LiveDuringReplay => ("q11-live-during-replay", "Q11", "Live messages that arrive during the replay", &["queue-behind-store", "interleave"],
                "queue-behind-store: new messages join the end of the store, so Carol sees one order. interleave: new messages are forwarded at once, between replayed ones."),
            PolicyId::Q12InFlightAtLoss => ("q12-in-flight-at-loss", "Q12", "A SEND in flight when the connection died", &["resend", "count-lost"],
                "resend: unacknowledged messages go back to the front of the store and are re-sent on delivery (at least once; marked possible duplicate, the client drops copies by imdn.Message-ID). count-lost: they are lost."),
            PolicyId::Q13ParticipantInfo => ("q13-participant-info", "Q13", "How the latest Participant Information is delivered", &["notify-after-subscribe", "in-session-setup"],
                "notify-after-subscribe: Carol's client subscribes to the conference state and the PF answers with a full NOTIFY from its cache. in-session-setup: the PF puts the conference-info document in the INVITE (path A) or the 200 OK (path B) as a multipart body."),
            PolicyId::Q19DialogOnMsrpLoss => ("q19-dialog-on-msrp-loss", "Q19", "The client's SIP dialog when the MSRP connection fails", &["bye-client", "keep-dialog"],
                "bye-client: the PF ends the client's dialog with BYE and Reason SIP;cause=480. keep-dialog: the PF leaves the dialog alone; a later delivery uses a new session anyway."),
            PolicyId::SubscriptionEnd => ("subscription-end", "SUB", "When the PF ends its conference subscription", &["after-delivery", "keep"],
                "after-delivery: the PF subscribed only to have the latest Participant Information for the deferred delivery, so it ends the subscription (SUBSCRIBE with Expires: 0) once the store is delivered, unless Carol's client has a conference subscription that the PF serves from it (then it keeps it, so her roster follows later joins and leaves); a later deferral subscribes again. keep: the subscription stays for the rest of the group session."),
            PolicyId::DeregWhileDeferred => other_dereg(),
            PolicyId::Q15WhichDevice => q15_which_device(),
            PolicyId::Q9LeaveElsewhere => q9_leave_elsewhere(),
            PolicyId::Q18SubscriptionFails => Self::info_q18(),
            PolicyId::Q14CutChunks => info_q14(),
            PolicyId::Q20OtherContributionId => other_q20(),
            PolicyId::Q17ImdnWhileStoring => info_q17(),
            PolicyId::Q16CfInDialog => info_q16(),
            other => other.info_p(),
        };
        // The page's first wasm module carries no descriptions (feature `policy-text`): its
        // Policies panel loads them on use (www/policies.js, the second module's catalogue).
        let description = if cfg!(feature = "policy-text") { description } else { "" };
        PolicyInfo { id, question, title, default: options[0], options, description, in_cr: false }
    }

    /// The default option (the first of `info().options`), as a literal: in a build without
    /// the Cargo feature `policies` (the page's first wasm module) every policy is at its
    /// default, and `Policies::is` compares with this at compile time, so the optimiser drops
    /// the code of the other options.
    #[cfg_attr(not(feature = "policies"), inline(always))]
    pub const fn default_option(self) -> &'static str {
        match self {
            PolicyId::MsrpLossDetection => "tcp-reset",
            PolicyId::Q1RejoinAfterInvite => "prefer-rejoin",
            PolicyId::Q3UnreachableOnRegister => "wait-next-register",
            PolicyId::Q5InviteError => "treat-as-timeout",
            PolicyId::Q6NonSipReason => "literal",
            PolicyId::Q7NeverReturns => "keep",
            PolicyId::Q8GroupEnds => "deliver-then-close",
            PolicyId::Q11LiveDuringReplay => "queue-behind-store",
            PolicyId::Q12InFlightAtLoss => "resend",
            PolicyId::Q13ParticipantInfo => "notify-after-subscribe",
            PolicyId::Q19DialogOnMsrpLoss => "bye-client",
            PolicyId::SubscriptionEnd => "after-delivery",
            PolicyId::Q2ReactedWhen => "invite-sent",
            PolicyId::Q4RingingNoAnswer => "no-answer-60s",
            PolicyId::Q10StoreCap => "unlimited",
            PolicyId::Q10AtCap => "drop-oldest",
            PolicyId::StillRegistered => "wait",
            PolicyId::DeregWhileDeferred => "keep-deferring",
            PolicyId::Q15WhichDevice => "registering-device",
            PolicyId::Q9LeaveElsewhere => "end-deferral",
            PolicyId::Q18SubscriptionFails => "retry-backoff",
            PolicyId::Q14CutChunks => "resend-whole",
            PolicyId::Q20OtherContributionId => "new-session",
            PolicyId::Q17ImdnWhileStoring => "none",
            PolicyId::Q16CfInDialog => "answer-as-user",
        }
    }

    /// The id string.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Looks a policy up by id.
    pub fn from_id(id: &str) -> Option<PolicyId> {
        ALL.into_iter().find(|p| p.id() == id)
    }

    /// The `policy:<id>` citation used in trace steps.
    pub fn cite(self) -> &'static str {
        match self {
            PolicyId::MsrpLossDetection => "policy:msrp-loss-detection",
            PolicyId::Q1RejoinAfterInvite => "policy:q1-rejoin-after-invite",
            PolicyId::Q3UnreachableOnRegister => "policy:q3-unreachable-on-register",
            PolicyId::Q5InviteError => "policy:q5-invite-error",
            PolicyId::Q6NonSipReason => "policy:q6-non-sip-reason",
            PolicyId::Q7NeverReturns => "policy:q7-never-returns",
            PolicyId::Q8GroupEnds => "policy:q8-group-ends",
            PolicyId::Q11LiveDuringReplay => "policy:q11-live-during-replay",
            PolicyId::Q12InFlightAtLoss => "policy:q12-in-flight-at-loss",
            PolicyId::Q13ParticipantInfo => "policy:q13-participant-info",
            PolicyId::Q19DialogOnMsrpLoss => "policy:q19-dialog-on-msrp-loss",
            PolicyId::SubscriptionEnd => "policy:subscription-end",
            PolicyId::Q2ReactedWhen => "policy:q2-reacted-when",
            PolicyId::Q4RingingNoAnswer => "policy:q4-ringing-no-answer",
            PolicyId::Q10StoreCap => "policy:q10-store-cap",
            PolicyId::Q10AtCap => "policy:q10-at-cap",
            PolicyId::StillRegistered => "policy:still-registered",
            PolicyId::DeregWhileDeferred => "policy:dereg-while-deferred",
            PolicyId::Q15WhichDevice => "policy:q15-which-device",
            PolicyId::Q9LeaveElsewhere => "policy:q9-leave-elsewhere",
            PolicyId::Q18SubscriptionFails => "policy:q18-subscription-fails",
            PolicyId::Q14CutChunks => "policy:q14-cut-chunks",
            PolicyId::Q20OtherContributionId => "policy:q20-other-contribution-id",
            PolicyId::Q17ImdnWhileStoring => "policy:q17-imdn-while-storing",
            PolicyId::Q16CfInDialog => "policy:q16-cf-in-dialog",
        }
    }

    /// The catalogue rows of Q2, Q4, Q10 and `still-registered` (issue 11; digest §7): (id,
    /// question, title, options with the default first, description). None is in the CR.
    #[allow(clippy::type_complexity)]
    fn info_p(self) -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
        match self {
            PolicyId::Q2ReactedWhen => ("q2-reacted-when", "Q2", "When the PF has reacted to the 3rd-party REGISTER", &["invite-sent", "register-received", "invite-answered"],
                "Not in the CR: it says only that a re-join \"before the PF reacted\" is path B. invite-sent: the PF has reacted once its INVITE has left; a re-join during its reaction delay is path B (no INVITE). register-received: it has reacted as soon as it accepted the REGISTER; a re-join during the delay is a re-join after reacting, decided by Q1 (prefer-rejoin: the INVITE is not sent and the re-join is used; prefer-own-invite: the re-join gets 486 and the INVITE goes). invite-answered: it has reacted only once Carol answered its INVITE; a re-join while that INVITE is pending is still path B, so the PF cancels its INVITE and takes the re-join whatever Q1 says."),
            PolicyId::Q4RingingNoAnswer => ("q4-ringing-no-answer", "Q4", "Carol's client rings (1xx) and never answers", &["no-answer-60s", "no-answer-180s", "never"],
                "Not in the CR. After a provisional response Timer B no longer runs (RFC 3261 §17.1.1.2), so without a limit the PF's INVITE could wait for ever. no-answer-60s / no-answer-180s: an application no-answer timer, started by the first provisional response and restarted by each later one other than 100 (as a proxy's Timer C, RFC 3261 §16.6 item 11); when it fires the PF sends CANCEL and handles the INVITE as timed out (case 2 of §8.3.2.9: it defers, or stays deferred). never: the PF waits until Carol answers, re-joins, or the PF leaves (this model's IMS core runs no Timer C of its own)."),
            PolicyId::Q10StoreCap => ("q10-store-cap", "Q10", "How many messages the PF stores", &["unlimited", "5-messages", "100-messages"],
                "Not in the CR. unlimited: the store has no cap. 5-messages / 100-messages: the store holds at most that many messages; what happens to one more is policy q10-at-cap. The cap counts messages, not bytes (the page's fast run builds no CPIM text to measure), and the messages that Q12 resend puts back in the store at a connection loss are not held against it."),
            PolicyId::Q10AtCap => ("q10-at-cap", "Q10", "What the PF does when its store is full", &["drop-oldest", "drop-newest", "leave-group"],
                "Not in the CR; only with a q10-store-cap. drop-oldest: the oldest stored message is dropped to make room (a lost step says so). drop-newest: the new message is not stored (a lost step says so). leave-group: the PF gives the deferral up, leaves the group for Carol (BYE with Reason SIP;cause=480) and the stored messages are lost. Every message dropped at the cap counts as lost in the summary."),
            PolicyId::StillRegistered => ("still-registered", "REG", "A deferral while Carol is still registered", &["wait", "invite-after-60s", "invite-after-10min"],
                "Not in the CR: path A starts on a 3rd-party REGISTER, which comes only when Carol registers again. After case 1 (her own BYE reached the PF, so her device was on the network) or case 3 (her MSRP connection failed; her registration may be intact) she may still be registered. wait: only a re-join or a later 3rd-party REGISTER starts the delivery. invite-after-60s / invite-after-10min: that long after such a deferral starts, the PF invites her (path A) unless a REGISTER or a re-join came first; an unanswered INVITE leaves it deferred (Q3). Not after case 2: an unanswered INVITE says her device is gone, and a REGISTER will come."),
            _ => unreachable!("info_p covers the policies of Q2, Q4, Q10 and still-registered only"),
        }
    }

    /// The catalogue row of Q18 (issue 11; digest §7 Q18): the PF's conference subscription
    /// fails. Not in the CR.
    #[allow(clippy::type_complexity)]
    fn info_q18() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
        ("q18-subscription-fails", "Q18", "The PF's subscription to the focus fails", &["retry-backoff", "give-up", "treat-as-group-ended"],
            "Not in the CR: it says the PF subscribes (8.2.2.6.2) but not what it does when the focus refuses the SUBSCRIBE (a 4xx to it) or ends the subscription with Subscription-State terminated;reason=rejected or noresource (RFC 6665 §4.1.3, §4.2.2). Under every option the PF keeps the last roster it had and marks it stale: what it later gives Carol as Participant Information says it is not current. retry-backoff: it subscribes again after 30 s, 60 s, 120 s and 240 s (each retry a step), then gives up. give-up: it does not subscribe again during this deferral. treat-as-group-ended: when the answer says the conference is gone (noresource, 404, 410) the PF handles it like the end of the group session (Q8 decides the store) and leaves its leg to the focus; any other refusal is handled as give-up.")
    }
}

/// The catalogue row of Q17 (issue 11; digest §7 Q17; RFC 5438 §5.3, §7.2.1.3): what the PF
/// tells a sender about a message it stores for Carol. Not in the CR.
#[allow(clippy::type_complexity)]
fn info_q17() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q17-imdn-while-storing", "Q17", "IMDNs for the messages the PF stores", &["none", "processing-stored", "delivered-on-behalf"],
        "Not in the CR. Under every option Carol's client sends its own delivered (and, once she has read it, displayed) notification for each message replayed to her, through the PF and the focus to its sender (RFC 5438 §7.1.1, §7.2.1.1). none: the PF sends nothing of its own while it stores. processing-stored: for each message it stores, the PF sends the sender a processing-notification with status stored (RFC 5438 §7.2.1.3), as an intermediary that keeps a message for later delivery. RFC 5438 §5.3 and §6.2 make that an answer to a request for \"processing\", and this model's messages ask only for positive-delivery, display: a strict PF would send it only to a message that asked for processing, so the option shows one that was not asked for. delivered-on-behalf: the PF answers delivered for Carol when it stores the message (not recommended: RFC 5438 §5.1 has delivered mean the message reached the recipient's device, which a stored one has not; the sender is told a falsehood, and Carol's own delivered on replay then comes as a second one for the same message).")
}

/// The catalogue row of Q16 (issue 11; digest §7 Q16): an in-dialog request from the CF while
/// the PF defers. Not in the CR.
#[allow(clippy::type_complexity)]
fn info_q16() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q16-cf-in-dialog", "Q16", "The CF's re-INVITE or UPDATE while Carol is deferred", &["answer-as-user", "reject", "leave-group"],
        "Not in the CR: it says nothing of requests the focus sends on the PF's leg while Carol is deferred (a session refresh re-INVITE or UPDATE, RFC 4028 §7.4; a re-INVITE with a new Subject). Only while the PF is Deferred; when Carol is in session the PF, a B2BUA, answers the refresh of its leg itself (each leg's session timer is its own) under every option. answer-as-user (the digest's answer): 200 OK, to a re-INVITE with the PF's own SDP unchanged (o= version too, RFC 3264 §8), and the PF keeps deferring; a new subject shows up in the focus's conference-info. reject: 403 Forbidden (RFC 3261 §21.4.4); the leg and its session stay as they were (RFC 3261 §14.2, RFC 3311 §5.2) and the PF keeps deferring. leave-group: 403 Forbidden, then the PF leaves the group for Carol (BYE with Reason SIP;cause=480) and the stored messages are lost, each a lost step.")
}

/// The catalogue row of `dereg-while-deferred` (issue 11; 3GPP TS 24.229 §5.4.1.7, RFC 3261
/// §10.2.2): (id, question, title, options with the default first, description). Not in the CR.
#[allow(clippy::type_complexity)]
fn other_dereg() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("dereg-while-deferred", "DEREG", "Carol de-registers while deferred", &["keep-deferring", "end-deferral"],
        "Not in the CR: it starts path A on a 3rd-party REGISTER, but one with Expires: 0 is a de-registration (RFC 3261 §10.2.2), so it never starts path A under either option; a path A due from an earlier REGISTER is called off, and the still-registered wait ends. keep-deferring: the PF keeps the store and waits for the next registration or a re-join; Q7's retention still runs. end-deferral: the PF leaves the group for Carol (BYE with Reason SIP;cause=480) and the stored messages are lost, each a lost step.")
}

/// The catalogue row of `q14-cut-chunks` (issue 11; digest §7 Q14; RFC 4975 §5.1, §7.1.1):
/// (id, question, title, options with the default first, description). Not in the CR.
#[allow(clippy::type_complexity)]
fn info_q14() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q14-cut-chunks", "Q14", "A chunked message cut off mid-transfer", &["resend-whole", "resume", "drop"],
        "Not in the CR. With the scenario's msrp_chunk_bytes, a message longer than that goes to Carol in chunks (RFC 4975 §5.1: Byte-Range n-m/total, end-line flag + until the last, $), the next chunk after the 200 to the one before. When her MSRP connection is lost after some chunks were acknowledged and before the last, the message is partially delivered. resend-whole (the digest's answer): the message goes back to the front of the store and is sent again whole from byte 1 with a new MSRP Message-ID and the same imdn.Message-ID; her client discards the cut-off part. resume: it goes back to the store and, when sent again, continues from the byte after the last acknowledged chunk with the same Message-ID (RFC 4975 §7.1.1: one Message-ID names a message across its chunks; that her client joins it across two sessions is our reading). drop: it is counted lost, with a step. A message none of whose chunks was acknowledged is a SEND in flight as before (Q12).")
}

/// The catalogue row of Q20 (issue 11; digest §7 Q20): a re-join INVITE whose Conversation-ID
/// or Contribution-ID is not the session's. Not in the CR.
#[allow(clippy::type_complexity)]
fn other_q20() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q20-other-contribution-id", "Q20", "A re-join with another Contribution-ID or Conversation-ID", &["new-session", "new-session-no-delivery", "treat-as-rejoin"],
        "Not in the CR: its re-join carries \"the same Conversation-ID and Contribution-ID\" (8.3.2.9). An INVITE of Carol's to the group with other IDs, while the PF defers for her (or invites her, or still relays her old session), is then not a re-join of this session. new-session: the PF takes it as a new session of Carol's and answers it itself (its leg to the focus stays, so the group sees no leave and join; our choice); it is not the CR's path B, so neither Q1 nor Q2 applies: a pending reaction to a REGISTER and a pending INVITE of the PF's own are dropped for the new session. Once that session is set up (ACK and MSRP), the PF delivers the deferred messages over it, as a delivery of their own after the set-up. new-session-no-delivery: the same, but the new session starts empty: the stored messages are discarded, each a lost step. treat-as-rejoin: the PF ignores the difference and handles the INVITE as the CR's re-join (path B, Q1 and Q2 as for any re-join).")
}

/// The catalogue row of `q15-which-device` (issue 11, the digest's Q15; RFC 5626 §4.1, RFC 3261
/// §9.1, §13.2.2.4): (id, question, title, options with the default first, description). Not in
/// the CR.
#[allow(clippy::type_complexity)]
fn q15_which_device() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q15-which-device", "Q15", "Which of Carol's devices gets the delivery", &["registering-device", "fork-all"],
        "Not in the CR (the digest's Q15: unspecified). Only with a second device (the scenario's devices). registering-device: path A invites the device whose 3rd-party REGISTER came last (its +sip.instance is in the REGISTER body), by its Contact URI. fork-all: the PF invites every registered device; the first 2xx wins and the PF CANCELs the others (RFC 3261 §9.1), ending a 2xx that comes anyway with ACK and BYE (§13.2.2.4, §15).")
}

/// The catalogue row of `q9-leave-elsewhere` (issue 11, the digest's Q9; RFC 4579 §5.5, RFC
/// 3515): (id, question, title, options with the default first, description). Not in the CR.
#[allow(clippy::type_complexity)]
fn q9_leave_elsewhere() -> (&'static str, &'static str, &'static str, &'static [&'static str], &'static str) {
    ("q9-leave-elsewhere", "Q9", "Carol leaves from her other device while deferred", &["end-deferral", "keep-deferring"],
        "Not in the CR. Only with a second device: her tablet, outside any session, asks the focus to end her participation (REFER method=BYE, RFC 4579 §5.5, Refer-Sub: false), and her PF sees it. end-deferral: any voluntary signal ends the deferral (the digest): the PF accepts (202), leaves the group for her with BYE and Reason SIP;cause=200 and discards the store. keep-deferring: only the dropped device's own signal counts: the PF declines (403) and keeps storing. A leave in the UI while her device is offline is unchanged: her client declines the next INVITE with 603.")
}

/// What a build with only the defaults (the page's first wasm module, without the Cargo feature
/// `policies`) answers for a scenario that sets a policy to another option; `www/engine.js`
/// knows this text and checks and runs such a scenario with the second module.
#[cfg(not(feature = "policies"))]
pub const NO_POLICIES: &str = "this build of the engine runs every policy at its default (the page runs a scenario with other policies with its second module)";

/// Whether this build runs every option of every policy (Cargo feature `policies`).
pub const ALL_OPTIONS: bool = cfg!(feature = "policies");

/// The option chosen for every policy in one run (index into each policy's `options`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policies {
    chosen: [u8; ALL.len()],
}

impl Policies {
    /// The chosen option string of `p`.
    #[cfg_attr(not(feature = "policies"), inline(always))]
    pub fn get(&self, p: PolicyId) -> &'static str {
        if !ALL_OPTIONS {
            return p.default_option();
        }
        let i = ALL.iter().position(|x| *x == p).unwrap_or(0);
        p.info().options[self.chosen[i] as usize]
    }

    /// The index of the chosen option of `p` in its `options` (0: the default).
    #[cfg_attr(not(feature = "policies"), inline(always))]
    pub fn index(&self, p: PolicyId) -> usize {
        if !ALL_OPTIONS {
            return 0;
        }
        ALL.iter().position(|x| *x == p).map_or(0, |i| self.chosen[i] as usize)
    }

    /// True when `p` is set to `option`.
    #[cfg_attr(not(feature = "policies"), inline(always))]
    pub fn is(&self, p: PolicyId, option: &str) -> bool {
        self.get(p) == option
    }

    /// Sets `p` to `option`; returns false (and changes nothing) if the option is unknown, or,
    /// in a build without the Cargo feature `policies`, not the default (see [`NO_POLICIES`]).
    pub fn set(&mut self, p: PolicyId, option: &str) -> bool {
        let i = ALL.iter().position(|x| *x == p).unwrap_or(0);
        match p.info().options.iter().position(|o| *o == option) {
            Some(o) if ALL_OPTIONS || o == 0 => {
                self.chosen[i] = o as u8;
                true
            }
            _ => false,
        }
    }

    /// (policy, chosen option) for every policy.
    pub fn iter(&self) -> impl Iterator<Item = (PolicyId, &'static str)> + '_ {
        ALL.iter().map(move |p| (*p, self.get(*p)))
    }
}

/// The policy catalogue, for pickers and `--help`-style listings.
pub fn catalogue() -> Vec<PolicyInfo> {
    ALL.iter().map(|p| p.info()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_cited_consistently() {
        let mut ids: Vec<_> = ALL.iter().map(|p| p.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for p in ALL {
            assert_eq!(p.cite(), format!("policy:{}", p.id()));
            assert_eq!(PolicyId::from_id(p.id()), Some(p));
        }
    }

    /// src/pf/open_questions.rs reads these policies by option index: their order is fixed.
    #[test]
    fn new_policies_option_order_is_what_the_pf_reads() {
        let opts = |p: PolicyId| p.info().options.to_vec();
        assert_eq!(opts(PolicyId::Q2ReactedWhen), ["invite-sent", "register-received", "invite-answered"]);
        assert_eq!(opts(PolicyId::Q4RingingNoAnswer), ["no-answer-60s", "no-answer-180s", "never"]);
        assert_eq!(opts(PolicyId::Q10StoreCap), ["unlimited", "5-messages", "100-messages"]);
        assert_eq!(opts(PolicyId::Q10AtCap), ["drop-oldest", "drop-newest", "leave-group"]);
        assert_eq!(opts(PolicyId::StillRegistered), ["wait", "invite-after-60s", "invite-after-10min"]);
        assert_eq!(opts(PolicyId::DeregWhileDeferred), ["keep-deferring", "end-deferral"]);
        assert_eq!(opts(PolicyId::Q15WhichDevice), ["registering-device", "fork-all"]);
        assert_eq!(opts(PolicyId::Q9LeaveElsewhere), ["end-deferral", "keep-deferring"]);
        assert_eq!(opts(PolicyId::Q18SubscriptionFails), ["retry-backoff", "give-up", "treat-as-group-ended"]);
        assert_eq!(opts(PolicyId::Q14CutChunks), ["resend-whole", "resume", "drop"]);
        assert_eq!(opts(PolicyId::Q20OtherContributionId), ["new-session", "new-session-no-delivery", "treat-as-rejoin"]);
        assert_eq!(opts(PolicyId::Q17ImdnWhileStoring), ["none", "processing-stored", "delivered-on-behalf"]);
        assert_eq!(opts(PolicyId::Q16CfInDialog), ["answer-as-user", "reject", "leave-group"]);
        let mut ps = Policies::default();
        assert!(ps.set(PolicyId::Q10AtCap, "leave-group"));
        assert_eq!(ps.index(PolicyId::Q10AtCap), 2);
    }

    #[test]
    fn default_option_is_the_first_option() {
        for p in ALL {
            assert_eq!(p.default_option(), p.info().options[0], "{}", p.id());
            assert_eq!(p.default_option(), p.info().default);
        }
    }

    #[test]
    fn set_and_get() {
        let mut ps = Policies::default();
        assert_eq!(ps.get(PolicyId::Q1RejoinAfterInvite), "prefer-rejoin");
        assert!(ps.set(PolicyId::Q1RejoinAfterInvite, "prefer-own-invite"));
        assert!(ps.is(PolicyId::Q1RejoinAfterInvite, "prefer-own-invite"));
        assert!(!ps.set(PolicyId::Q1RejoinAfterInvite, "nope"));
    }
}
