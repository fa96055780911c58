//! The PF's timers and why each runs (in the spirit of str0m's timeout reason and quinn-proto's
//! timer enum): the world arms and fires them; the trace draws each with its name and clause.

/// A timer of the PF, named by its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PfTimer {
    /// RFC 3261 §17.1.1.2: its INVITE `inv` has had no response for 64×T1 (Calling only).
    TimerB { inv: u32 },
    /// RFC 4975 §7.1.1: its SEND `tx` to Carol has had no transaction response.
    MsrpTransaction { tx: u32 },
    /// §8.3.2.9: the reaction delay after the 3rd-party REGISTER that shows Carol is back.
    Reaction,
    /// Policy msrp-loss-detection: Carol's client has not opened and bound its MSRP connection
    /// after the SIP handshake.
    SetupWait,
    /// RFC 4028 §10: time to refresh Carol's session.
    Refresh,
    /// RFC 3261 §17.1.2.2: its refresh UPDATE `upd` has had no final response.
    TimerF { upd: u32 },
    /// Policy q3-unreachable-on-register: try path A once more.
    Retry,
    /// Policy q7-never-returns: the store's retention ends.
    Retention,
    /// RFC 6665 §4.1.2.2: time to refresh its conference subscription to the focus before it
    /// expires.
    SubscriptionRefresh,
    /// Policy q4-ringing-no-answer: its INVITE `inv` has had a provisional response and no final
    /// one for the policy's time.
    NoAnswer { inv: u32 },
    /// Policy still-registered: the deferral started while Carol may still be registered, and
    /// no REGISTER or re-join has come; time to invite her (path A).
    StillRegistered,
    /// Policy q18-subscription-fails `retry-backoff`: time to subscribe to the focus again.
    SubscriptionRetry,
}

impl PfTimer {
    /// The timer's name on the ladder.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PfTimer::TimerB { .. } => "Timer B",
            PfTimer::MsrpTransaction { .. } => "MSRP transaction timeout",
            PfTimer::Reaction => "PF reaction delay",
            PfTimer::SetupWait => "MSRP set-up wait",
            PfTimer::Refresh => "session refresh",
            PfTimer::TimerF { .. } => "Timer F",
            PfTimer::Retry => "retry",
            PfTimer::Retention => "retention",
            PfTimer::SubscriptionRefresh => "subscription refresh",
            PfTimer::NoAnswer { .. } => "no-answer timer",
            PfTimer::StillRegistered => "invite while registered",
            PfTimer::SubscriptionRetry => "subscription retry",
        }
    }

    /// The clause or policy the timer comes from.
    pub(crate) fn clause(self) -> &'static str {
        match self {
            PfTimer::TimerB { .. } => "RFC 3261 §17.1.1.2",
            PfTimer::MsrpTransaction { .. } => "RFC 4975 §7.1.1",
            PfTimer::Reaction => "8.3.2.9",
            PfTimer::SetupWait => "policy:msrp-loss-detection",
            PfTimer::Refresh => "RFC 4028 §10",
            PfTimer::TimerF { .. } => "RFC 3261 §17.1.2.2",
            PfTimer::Retry => "policy:q3-unreachable-on-register",
            PfTimer::Retention => "policy:q7-never-returns",
            PfTimer::SubscriptionRefresh => "RFC 6665 §4.1.2.2",
            PfTimer::NoAnswer { .. } => "policy:q4-ringing-no-answer",
            PfTimer::StillRegistered => "policy:still-registered",
            PfTimer::SubscriptionRetry => "policy:q18-subscription-fails",
        }
    }

    /// Whether the trace shows its span also when it is stopped before it fires (the ones a
    /// reader waits for: Timer B and F, the reaction delay, the retry, the retention and the
    /// still-registered wait). The Q4 no-answer timer runs on every ringing INVITE, so it is
    /// drawn only when it fires.
    pub(crate) fn shown_when_stopped(self) -> bool {
        matches!(self, PfTimer::TimerB { .. } | PfTimer::TimerF { .. } | PfTimer::Reaction | PfTimer::Retry | PfTimer::Retention | PfTimer::StillRegistered)
    }
}
