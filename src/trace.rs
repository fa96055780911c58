//! The trace: the one data contract between the engine, the CLI, the golden tests and the page
//! (see docs/trace-contract.md). Every step carries what produced it (a clause, an RFC section
//! or `policy:<id>`) and one sentence that explains it.

use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// Which rule set a run uses.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rules {
    /// §8.3.2.9 as amended by the CR: three deferral triggers.
    #[serde(rename = "post-cr")]
    PostCr,
    /// The text before the CR: only the BYE-with-Reason trigger.
    #[serde(rename = "pre-cr")]
    PreCr,
}

impl Rules {
    /// "post-cr" or "pre-cr".
    pub fn as_str(self) -> &'static str {
        match self {
            Rules::PostCr => "post-cr",
            Rules::PreCr => "pre-cr",
        }
    }
}

impl std::str::FromStr for Rules {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "post-cr" => Ok(Rules::PostCr),
            "pre-cr" => Ok(Rules::PreCr),
            _ => Err(format!("unknown rules {s:?} (use post-cr or pre-cr)")),
        }
    }
}

/// The protocol of a step.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Protocol {
    SIP,
    MSRP,
    /// An internal step (state change, store, loss, timer): no wire text.
    #[serde(rename = "none")]
    None,
}

impl Protocol {
    /// Every variant, in declaration order (so `v as usize` indexes a table of this length).
    pub const ALL: [Protocol; 3] = [Protocol::SIP, Protocol::MSRP, Protocol::None];

    /// The name the trace contract's JSON uses (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::SIP => "SIP",
            Protocol::MSRP => "MSRP",
            Protocol::None => "none",
        }
    }
}

/// What a step shows.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A SIP or MSRP message on the wire.
    Message,
    /// A PF state change.
    State,
    /// A message entered the PF's store.
    Store,
    /// A stored message was delivered.
    Deliver,
    /// A message for Carol was lost.
    Lost,
    /// A timer fired.
    Timer,
    /// Anything else worth a line (an event with no effect, a modelling note).
    Info,
}

impl StepKind {
    /// Every variant, in declaration order (so `v as usize` indexes a table of this length).
    pub const ALL: [StepKind; 7] = [StepKind::Message, StepKind::State, StepKind::Store, StepKind::Deliver, StepKind::Lost, StepKind::Timer, StepKind::Info];

    /// The name the trace contract's JSON uses (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Message => "message",
            StepKind::State => "state",
            StepKind::Store => "store",
            StepKind::Deliver => "deliver",
            StepKind::Lost => "lost",
            StepKind::Timer => "timer",
            StepKind::Info => "info",
        }
    }
}

/// States of the PF for Carol in this group session (research digest §7.1).
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PfState {
    /// Not in the session yet.
    Idle,
    /// Forwarding the CF's INVITE to Carol; Timer B runs.
    Inviting,
    /// Both legs up; messages relayed.
    Active,
    /// CF leg kept, client leg gone: storing (§8.3.2.9).
    Deferred,
    /// Path A: the PF's own INVITE to Carol is under way.
    DeliveringA,
    /// Path B: the re-join was answered; waiting for ACK and MSRP.
    DeliveringB,
    /// The store is being sent to Carol.
    Replaying,
    /// Carol is no longer in the group (BYE sent to the CF, or never joined).
    Left,
    /// The group session is over.
    Ended,
    /// The group session is over but stored messages wait for Carol (Q8 policy).
    EndedWithBacklog,
}

impl PfState {
    /// Every variant, in declaration order (so `v as usize` indexes a table of this length).
    pub const ALL: [PfState; 10] = [
        PfState::Idle,
        PfState::Inviting,
        PfState::Active,
        PfState::Deferred,
        PfState::DeliveringA,
        PfState::DeliveringB,
        PfState::Replaying,
        PfState::Left,
        PfState::Ended,
        PfState::EndedWithBacklog,
    ];

    /// The name the trace contract's JSON uses (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            PfState::Idle => "Idle",
            PfState::Inviting => "Inviting",
            PfState::Active => "Active",
            PfState::Deferred => "Deferred",
            PfState::DeliveringA => "DeliveringA",
            PfState::DeliveringB => "DeliveringB",
            PfState::Replaying => "Replaying",
            PfState::Left => "Left",
            PfState::Ended => "Ended",
            PfState::EndedWithBacklog => "EndedWithBacklog",
        }
    }
}

/// The clauses (or RFC sections, or `policy:<id>`) a step cites: a static list, so recording a
/// step allocates nothing for it.
pub type Clauses = Cow<'static, [&'static str]>;

/// One step of the ladder.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub index: u32,
    pub at_ms: u64,
    pub arrive_ms: u64,
    pub from: Arc<str>,
    pub to: Arc<str>,
    pub protocol: Protocol,
    pub label: Cow<'static, str>,
    pub raw: String,
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string[]"))]
    pub clauses: Clauses,
    pub note: Cow<'static, str>,
    pub kind: StepKind,
    pub policy: bool,
    pub pf_state: PfState,
    pub queue_len: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<u32>,
    /// The message never reached `to` (device gone, connection dead).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
    /// A key step of the story (§8.3.2.9's trigger, deferral, subscription, store, path,
    /// INVITE or re-join, replay, participant information, leave, loss): a short title, set by
    /// the engine where it makes the decision ([`crate::story`]). Left out when not a key step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Cow<'static, str>>,
    /// Identity, part 1: the scenario event at the root of the step's causal chain, by content
    /// (`register#0`, `message:alice:3f2a91c0#0`, `setup`, `end`; [`crate::story`]).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "string"))]
    pub cause: Arc<str>,
    /// Identity, part 2: a hash of the step's lanes, protocol, kind, label base and chat cause.
    pub sig: u32,
    /// Identity, part 3: the number of earlier steps with the same `cause` and `sig`.
    pub nth: u32,
}

/// A lane of the ladder.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct LaneInfo {
    pub id: Arc<str>,
    pub label: String,
    pub role: &'static str,
}

/// What finally happened to a chat message, from Carol's point of view.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Delivered to Carol as it happened.
    Live,
    /// Stored by the PF and delivered later.
    FromStore,
    /// Still in the PF's store when the run ends.
    StillStored,
    /// Meant for Carol and never delivered.
    Lost,
    /// Dropped because Carol left voluntarily.
    Discarded,
    /// Not meant for Carol (she sent it, had left, or was not a participant yet).
    NotForCarol,
    /// Not settled yet (only during a run).
    Pending,
}

impl Outcome {
    /// Every variant, in declaration order (so `v as usize` indexes a table of this length).
    pub const ALL: [Outcome; 7] =
        [Outcome::Live, Outcome::FromStore, Outcome::StillStored, Outcome::Lost, Outcome::Discarded, Outcome::NotForCarol, Outcome::Pending];

    /// The name the trace contract's JSON uses (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Live => "live",
            Outcome::FromStore => "from_store",
            Outcome::StillStored => "still_stored",
            Outcome::Lost => "lost",
            Outcome::Discarded => "discarded",
            Outcome::NotForCarol => "not_for_carol",
            Outcome::Pending => "pending",
        }
    }
}

/// One group chat message of the run.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub id: u32,
    pub from: Arc<str>,
    pub text: String,
    pub imdn_id: String,
    pub sent_ms: u64,
    pub sent_step: u32,
    pub for_carol: bool,
    pub stored_ms: Option<u64>,
    pub stored_step: Option<u32>,
    pub in_flight_ms: Option<u64>,
    pub in_flight_step: Option<u32>,
    pub delivered_ms: Option<u64>,
    pub delivered_step: Option<u32>,
    pub outcome: Outcome,
    pub removed_ms: Option<u64>,
    pub removed_step: Option<u32>,
    pub possible_duplicate: bool,
    /// The CPIM document (shared by every hop's SEND; not serialized).
    #[serde(skip)]
    pub cpim: Arc<str>,
}

/// A timer span on a lane.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct TimerSpan {
    pub name: &'static str,
    pub lane: Arc<str>,
    pub start_ms: u64,
    pub end_ms: u64,
    pub outcome: &'static str,
    pub clause: &'static str,
}

/// A stretch of time in one PF state.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct StateSpan {
    pub state: PfState,
    pub from_ms: u64,
    pub to_ms: u64,
}

/// One participant as the PF or Carol's client knows it.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub id: Arc<str>,
    pub name: String,
    pub status: &'static str,
}

/// A roster snapshot.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct RosterSnapshot {
    pub at_ms: u64,
    pub step: u32,
    pub holder: &'static str,
    pub users: Vec<Participant>,
}

/// A policy and the option in force.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct PolicyChoice {
    pub id: &'static str,
    pub question: &'static str,
    pub title: &'static str,
    pub value: &'static str,
    pub default: &'static str,
    pub options: &'static [&'static str],
}

/// Counts of what happened to the messages meant for Carol.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Group messages meant for Carol sent while she had no live delivery path.
    pub sent_while_away: u32,
    /// Messages that entered the PF's store.
    pub stored: u32,
    /// Stored messages delivered to Carol.
    pub delivered_from_store: u32,
    /// Messages meant for Carol that she never got and never will.
    pub lost: u32,
    /// Stored messages dropped because Carol left voluntarily.
    pub discarded: u32,
    /// Messages still in the store at the end.
    pub still_stored: u32,
    /// Messages delivered as they happened.
    pub delivered_live: u32,
    /// Messages re-sent after a SEND was in flight at a connection loss.
    pub possible_duplicates: u32,
}

/// The result of one run.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub version: u32,
    pub rules: Rules,
    pub title: String,
    pub end_ms: u64,
    pub lanes: Vec<LaneInfo>,
    pub steps: Vec<Step>,
    pub chats: Vec<Chat>,
    pub timers: Vec<TimerSpan>,
    pub pf_states: Vec<StateSpan>,
    pub participants: Vec<RosterSnapshot>,
    pub policies: Vec<PolicyChoice>,
    pub summary: Summary,
}

impl Trace {
    /// The trace as one JSON object (the CLI's `--format json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }
}

/// A step's note, or nothing in a build without notes (Cargo feature `note-text`, off only in
/// the page's first wasm module: dropping the text here lets the compiler leave every note's
/// literal out of that module).
#[inline(always)]
pub(crate) fn note_text(note: impl Into<std::borrow::Cow<'static, str>>) -> std::borrow::Cow<'static, str> {
    #[cfg(feature = "note-text")]
    return note.into();
    #[cfg(not(feature = "note-text"))]
    {
        drop(note);
        std::borrow::Cow::Borrowed("")
    }
}

/// [`note_text`] for the machines whose outputs carry a note as `&'static str` (the CF, the
/// IMS core): the note, or `""` in a build without notes (Cargo feature `note-text`), so that
/// the literal is never stored and the compiler leaves it out of the page's first wasm module.
#[inline(always)]
pub(crate) fn note_str(note: &'static str) -> &'static str {
    if cfg!(feature = "note-text") {
        note
    } else {
        ""
    }
}

/// `format!` for a step's note: the text in a build with notes (Cargo feature `note-text`), `""`
/// without, where neither the format string nor the formatting of its arguments is compiled in
/// (a note formatted first and dropped by [`note_text`] later would still be).
macro_rules! note_fmt {
    ($($arg:tt)*) => {
        if cfg!(feature = "note-text") {
            std::borrow::Cow::<'static, str>::Owned(format!($($arg)*))
        } else {
            std::borrow::Cow::<'static, str>::Borrowed("")
        }
    };
}
pub(crate) use note_fmt;

/// `format!("{prefix}{n}{suffix}")` without the formatting machinery: a label or key title with
/// one number, written at its size (the PF writes one per stored message). In the page's first
/// wasm module (no `wire-text`), which already holds `format!` and counts bytes, it is `format!`.
pub(crate) fn numbered(prefix: &str, n: u64, suffix: &str) -> String {
    numbered2(prefix, n, suffix, None, "")
}

/// [`numbered`] with a second number: `format!("{prefix}{n}{mid}{m}{suffix}")` (no `{m}{suffix}`
/// when `m` is None).
pub(crate) fn numbered2(prefix: &str, n: u64, mid: &str, m: Option<u64>, suffix: &str) -> String {
    #[cfg(not(feature = "wire-text"))]
    return match m {
        Some(m) => format!("{prefix}{n}{mid}{m}{suffix}"),
        None => format!("{prefix}{n}{mid}"),
    };
    #[cfg(feature = "wire-text")]
    {
        let mut s = String::with_capacity(prefix.len() + mid.len() + suffix.len() + 40);
        s.push_str(prefix);
        crate::wire::sip::push_u64(&mut s, n);
        s.push_str(mid);
        if let Some(m) = m {
            crate::wire::sip::push_u64(&mut s, m);
            s.push_str(suffix);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_writes_what_format_writes() {
        for n in [0u64, 9, 10, 999, 1000, 65_536, u64::MAX] {
            assert_eq!(numbered("stored #", n, ""), format!("stored #{n}"));
            assert_eq!(numbered("a ", n, " b"), format!("a {n} b"));
            assert_eq!(numbered2("a ", n, " b ", Some(n / 7), ")"), format!("a {n} b {})", n / 7));
        }
    }

    /// `as_str` gives the names serde writes in the contract, for every variant.
    #[test]
    fn enum_names_match_the_contract() {
        let j = |v: &dyn erased::Ser| v.json();
        for p in Protocol::ALL {
            assert_eq!(j(&p), format!("{:?}", p.as_str()));
        }
        for k in StepKind::ALL {
            assert_eq!(j(&k), format!("{:?}", k.as_str()));
        }
        for s in PfState::ALL {
            assert_eq!(j(&s), format!("{:?}", s.as_str()));
        }
        for o in Outcome::ALL {
            assert_eq!(j(&o), format!("{:?}", o.as_str()));
        }
        // ALL lists each variant once, in order.
        assert!(Protocol::ALL.iter().enumerate().all(|(i, v)| *v as usize == i));
        assert!(StepKind::ALL.iter().enumerate().all(|(i, v)| *v as usize == i));
        assert!(PfState::ALL.iter().enumerate().all(|(i, v)| *v as usize == i));
        assert!(Outcome::ALL.iter().enumerate().all(|(i, v)| *v as usize == i));
    }

    mod erased {
        pub trait Ser {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    }
}
