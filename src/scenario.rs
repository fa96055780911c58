//! Scenario files: a versioned JSON timeline a trainer can write by hand (format
//! `cpm-deferral-scenario`, versions 1 and 2; see README). Parsing is strict and every error names
//! the field (`events[3].at_ms`, `tour.stops[2].caption`) and what is wrong with it.
//!
//! Version 2 adds an optional `tour` (issue 15, "Tours as data"): an ordered list of stops, each
//! a step by its identity (`Step::sid`, docs/trace-contract.md), a caption in plain text and
//! optional switches (rules, policies, filters, compare) and a highlight. A version 1 file is a
//! version 2 file without a tour (the migration is the identity); a tour in a version 1 file is
//! refused by name.

use crate::json_tree::{Json, Obj};
use crate::policy::{Policies, PolicyId};
use crate::wire::reason::{self, ReasonError, ReasonValue};
use std::fmt;

/// The checks of a version 2 file's `tour` (issue 15), in their own module: the page's first
/// wasm module is built without them (feature `tours`), which keeps its first load light.
#[cfg(feature = "tours")]
#[path = "scenario_tour.rs"]
mod tour;

/// What a build without tours (the page's first wasm module) answers for a file with a tour;
/// `www/engine.js` knows this text and checks such a file with the second module.
#[cfg(not(feature = "tours"))]
pub const NO_TOURS: &str = "this build of the engine reads no tours (the page checks a tour with its second module)";

/// What a build without chunked SENDs (the page's first wasm module, Cargo feature `chunks`)
/// answers for a file with `msrp_chunk_bytes`; `www/engine.js` checks and runs such a file with
/// the second module.
#[cfg(not(feature = "chunks"))]
pub const NO_CHUNKS: &str = "this build of the engine sends no chunks (the page runs a scenario with msrp_chunk_bytes with its second module)";

/// The `format` value every scenario file carries.
pub const FORMAT: &str = "cpm-deferral-scenario";
/// The newest version this build reads (and the one a file with a tour must carry).
pub const VERSION: u64 = 2;
/// Every version this build reads: 1 (no tour) and 2.
pub const VERSIONS: [u64; 2] = [1, 2];
/// Largest number of stops in a tour.
pub const MAX_STOPS: usize = 200;
/// Longest tour caption in bytes.
pub const MAX_CAPTION: usize = 2000;
/// The page's filter ids (www/filters.js `FILTERS`) a tour stop may switch on.
pub const FILTER_IDS: [&str; 5] = ["msrp-200", "provisional", "subscription", "ims-core", "members"];
/// The panels a stop may highlight (the page's store, inspector, CR text, policies, timeline).
pub const PANELS: [&str; 5] = ["store", "inspector", "cr", "policies", "timeline"];
/// The sentences of the CR panel (www/cr-text.js `CR_SENTENCES` ids) a stop may highlight.
pub const CR_SENTENCE_IDS: [&str; 13] =
    ["bye", "remain", "case1", "case2", "case3", "note", "subscribe", "two-ways", "path-a", "path-b", "no-invite", "use-rejoin", "msrp"];
/// Largest number of events in one scenario.
pub const MAX_EVENTS: usize = 20_000;
/// Largest scenario file in bytes.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Latest allowed event time (30 days).
pub const MAX_AT_MS: u64 = 30 * 24 * 3600 * 1000;
/// Longest chat text in bytes.
pub const MAX_TEXT: usize = 2000;
/// Largest number of members besides Carol.
pub const MAX_MEMBERS: usize = 12;
/// The event kinds a scenario can place.
pub const EVENT_KINDS: [&str; 14] = [
    "message",
    "bye",
    "leave",
    "join",
    "unreachable",
    "msrp_loss",
    "msrp_setup_fails",
    "invite_rejected",
    "register",
    "rejoin",
    "group_ends",
    "deregister",
    "cf_reinvite",
    "cf_update",
];

/// The session IDs a re-join INVITE carries (digest §7 Q20; the scenario's `ids` field of a
/// `rejoin`). The CR's re-join is one "with the same Conversation-ID and Contribution-ID"
/// (8.3.2.9); a different one is not a re-join of this session, and what the PF makes of it is
/// policy `q20-other-contribution-id` (not in the CR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RejoinIds {
    /// `same`: the session's own Conversation-ID and Contribution-ID (the CR's re-join).
    #[default]
    Same,
    /// `new-contribution`: the same Conversation-ID and a new Contribution-ID (a new session
    /// of the same conversation, OMA CPM).
    NewContribution,
    /// `new-conversation`: a new Conversation-ID and a new Contribution-ID.
    NewConversation,
}

impl RejoinIds {
    /// The scenario file's spellings, default first.
    pub const ALL: [&'static str; 3] = ["same", "new-contribution", "new-conversation"];

    /// The scenario file's spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize]
    }

    /// True unless both IDs are the session's own.
    pub fn differ(self) -> bool {
        self != RejoinIds::Same
    }
}

/// How the group session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Carol, the members and the CF are already in an established session at t = 0.
    Established,
    /// Carol creates the group at t = 0: the full INVITE / 200 / ACK and MSRP set-up.
    Full,
    /// The members are in session; at t = 0 the CF invites Carol through her PF.
    CfInvites,
}

/// Who acts: Carol or one of the other members (index into [`Scenario::members`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Carol,
    Member(usize),
}

/// A group member other than Carol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Lane id and SIP user part (`alice` → `sip:alice@ims.example.net`).
    pub id: String,
    /// Display name (untrusted text).
    pub name: String,
    /// In the group at t = 0.
    pub in_group: bool,
}

/// One thing that happens on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A member (or Carol while connected) sends a chat message.
    Message { from: Who, text: String },
    /// Carol's client sends BYE with this Reason header value (None: no Reason header).
    Bye { reason: Option<(String, Vec<ReasonValue>)> },
    /// Someone leaves voluntarily (Carol: BYE with Reason SIP;cause=200).
    Leave { who: Who },
    /// A member who is not in the group joins it.
    Join { member: usize },
    /// Carol's device vanishes without a BYE.
    Unreachable,
    /// The MSRP connection towards Carol breaks.
    MsrpLoss,
    /// The next MSRP set-up towards Carol fails.
    MsrpSetupFails,
    /// The next INVITE towards Carol gets this final response.
    InviteRejected { status: u16 },
    /// Carol registers again; the S-CSCF sends a 3rd-party REGISTER; the PF reacts after `reaction_ms`.
    Register { reaction_ms: u64 },
    /// Carol's client re-joins the group session; `ids` are the Conversation-ID and
    /// Contribution-ID its INVITE carries (Q20; the default, the session's own).
    Rejoin { ids: RejoinIds },
    /// Carol's device de-registers (REGISTER with `Expires: 0`, RFC 3261 §10.2.2); the S-CSCF
    /// sends the PF a 3rd-party REGISTER with `Expires: 0` (3GPP TS 24.229 §5.4.1.7). What the PF
    /// does with it while deferred is policy `dereg-while-deferred` (not in the CR).
    Deregister,
    /// The CF ends the group session.
    GroupEnds,
    /// The CF sends a re-INVITE on its dialog with Carol's PF (digest Q16): a session refresh
    /// (RFC 4028 §7.4) with the same media, its SDP `o=` version one higher (RFC 3264 §8), and
    /// with `subject` a new Subject of the conference too (RFC 3261 §20.36; the focus's
    /// conference-info says it, RFC 4575 §5.3.1). What the PF answers while deferred is policy
    /// `q16-cf-in-dialog` (not in the CR).
    CfReinvite { subject: Option<String> },
    /// The CF sends an UPDATE without an offer on its dialog with Carol's PF (RFC 3311; a
    /// session refresh, RFC 4028 §7.4). Policy `q16-cf-in-dialog` as for `cf_reinvite`.
    CfUpdate,
    /// Something Carol's second device (her tablet) does: the event's `"device": "tablet"`
    /// (issue 11, Q15/Q9; only with `"devices": ["phone", "tablet"]`).
    Tablet(TabletEvent),
}

/// What Carol's tablet does (issue 11, Q15 and Q9: a second instance of her client with its own
/// `+sip.instance`, RFC 5626 §4.1 / 3GPP TS 24.229 §5.1.1.2; Contact, tags and counters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabletEvent {
    /// The tablet registers (its own binding); the S-CSCF's 3rd-party REGISTER names its instance.
    Register { reaction_ms: u64 },
    /// The tablet de-registers (`Expires: 0` on its binding only).
    Deregister,
    /// The tablet leaves the network (nothing reaches it any more).
    Unreachable,
    /// Carol leaves the chat from her tablet (`leave` of `carol` with `"device": "tablet"`):
    /// outside a session of its own, the tablet asks the focus to end Carol's participation
    /// with REFER `method=BYE` (RFC 4579 §5.5, RFC 3515), which her PF sees first. What the PF
    /// does with it while deferred is policy `q9-leave-elsewhere` (not in the CR).
    Leave,
}

/// An event at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds from the start of the run.
    pub at_ms: u64,
    /// What happens.
    pub kind: EventKind,
}

/// How the IMS core (Carol's P-CSCF and S-CSCF, src/ims/) treats an INVITE towards
/// Carol that she cannot answer: the scenario's `ims_core` (not in the CR: a property of the
/// network the PF runs in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImsCore {
    /// `"answers-408"` (default): transaction-stateful proxies (RFC 3261 §16.2, §16.7): 100
    /// Trying to every INVITE, and 408 Request Timeout after their own Timer B when Carol does
    /// not answer.
    #[default]
    Answers408,
    /// `"answers-480"`: stateful, and the P-CSCF that has lost Carol's connection answers 480
    /// Temporarily Unavailable at once.
    Answers480,
    /// `"stateless"`: stateless proxies (RFC 3261 §16.11): no 100 Trying, no answer of their
    /// own, so the PF's Timer B fires when Carol is gone.
    Stateless,
}

/// `answer_ms` written `"never"`: Carol's client rings (180) and never answers (policy Q4,
/// `q4-ringing-no-answer`, decides what the PF does).
pub const ANSWER_NEVER: u64 = u64::MAX;

/// `carol_reads_ms` written `"never"`: she never reads what she was given, so her client sends
/// no `displayed` notification (RFC 5438 §5.2).
pub const READS_NEVER: u64 = u64::MAX;

/// Which chat messages Carol's client sends IMDNs for (the scenario's `imdn`; issue 11, digest
/// Q17). Every CPIM document the engine writes asks for `positive-delivery, display` (RFC 5438
/// §6.2); a real client would answer each of them, and `all` does. Not in the CR: the default
/// answers only the replayed ones (Q17 is about those), so runs without a replay stay as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImdnMode {
    /// `"replayed"` (default): only the messages the PF delivers from its store.
    #[default]
    Replayed,
    /// `"all"`: every message she is given, live or replayed.
    All,
    /// `"none"`: her client sends no IMDN.
    None,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub title: String,
    pub description: String,
    pub setup: Setup,
    /// RFC 3261 T1; Timer B and Timer F are 64×T1.
    pub t1_ms: u64,
    /// How long Carol's client alerts (180 Ringing) before it accepts an INVITE (auto-accept);
    /// [`ANSWER_NEVER`] when it rings and never answers.
    pub answer_ms: u64,
    /// The IMS core's behaviour towards an unreachable Carol (`ims_core`).
    pub ims_core: ImsCore,
    /// Wall-clock time of t = 0 (epoch ms) for CPIM DateTime headers.
    pub start_epoch_ms: u64,
    pub members: Vec<Member>,
    pub policies: Policies,
    pub events: Vec<Event>,
    /// The trainer's tour through the run (version 2), if the file has one. Shared, not copied,
    /// when a scenario is cloned (the engine never changes it; the page runs a clone per rule set).
    pub tour: Option<std::sync::Arc<Tour>>,
    /// Q18's timeline (`subscription_refused_ms`, `subscription_refused_reason`): from that time
    /// on the focus refuses the PF's conference subscription (not in the CR).
    pub sub_refused: Option<(u64, SubRefusal)>,
    /// Q14's `msrp_chunk_bytes` (not in the CR: a property of the MSRP endpoints): SENDs whose
    /// CPIM document is longer are sent in chunks of at most this many bytes (RFC 4975 §5.1,
    /// §7.1.1) on the PF's leg to Carol and on the focus's leg to the PF; `None` (default):
    /// every message whole, in one SEND.
    pub msrp_chunk_bytes: Option<u32>,
    /// `imdn`: which messages her client sends IMDNs for (RFC 5438; Q17).
    pub imdn: ImdnMode,
    /// `carol_reads_ms`: how long after a message reaches her client she reads it, so it sends
    /// `displayed` (RFC 5438 §5.2); [`READS_NEVER`] for `"never"`. Default 5000.
    pub carol_reads_ms: u64,
    /// `"devices": ["phone", "tablet"]`: Carol has a second device, registered at the start and
    /// not in the group session (issue 11, Q15). Default `["phone"]`: one device.
    pub tablet: bool,
}

/// Smallest and largest `msrp_chunk_bytes` (RFC 4975 §7.1.1 asks endpoints to accept chunks of
/// at least 2048 bytes; smaller ones are allowed here so that short chat texts chunk).
pub const CHUNK_BYTES: std::ops::RangeInclusive<u64> = 16..=65_536;

/// How the focus refuses the PF's conference subscription from the scenario's
/// `subscription_refused_ms` on (Q18; RFC 6665 §4.1.3, §4.2.2): it answers a new SUBSCRIBE with
/// an error and ends a subscription it holds at its next NOTIFY with Subscription-State
/// `terminated` and this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubRefusal {
    /// `"rejected"` (default): the focus no longer authorises the subscription (403 Forbidden;
    /// `reason=rejected`, RFC 6665 §4.2.2).
    Rejected,
    /// `"noresource"`: the focus says the conference no longer exists (404 Not Found;
    /// `reason=noresource`, RFC 6665 §4.2.2), although its group session goes on.
    NoResource,
}

impl SubRefusal {
    /// The Subscription-State reason of its terminating NOTIFY (RFC 6665 §4.2.2).
    pub fn reason(self) -> &'static str {
        match self {
            SubRefusal::Rejected => "rejected",
            SubRefusal::NoResource => "noresource",
        }
    }

    /// The status of its answer to a new SUBSCRIBE (RFC 6665 §4.2.1.2; RFC 3261 §21.4).
    pub fn status(self) -> u16 {
        match self {
            SubRefusal::Rejected => 403,
            SubRefusal::NoResource => 404,
        }
    }
}

/// Reads `subscription_refused_ms` and `subscription_refused_reason` (Q18).
fn sub_refused(m: Obj, root: Loc) -> R<Option<(u64, SubRefusal)>> {
    let reason = match get_str(m, root, "subscription_refused_reason")?.unwrap_or("rejected") {
        "rejected" => SubRefusal::Rejected,
        "noresource" => SubRefusal::NoResource,
        other => {
            return Err(ScenarioError::OutOfRange {
                path: "subscription_refused_reason".into(),
                value: format!("{:?}", cut(other)),
                allowed: "\"rejected\", \"noresource\"".into(),
            })
        }
    };
    Ok(get_u64(m, root, "subscription_refused_ms", 0..=MAX_AT_MS, MS)?.map(|t| (t, reason)))
}

/// A tour: stops in the order they are shown (issue 15, "Tours as data").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tour {
    pub title: String,
    pub stops: Vec<Stop>,
}

/// What a stop draws attention to, besides its step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Highlight {
    /// The stop's own arrow in the ladder.
    Arrow,
    /// A panel of the page (one of [`PANELS`]).
    Panel(String),
    /// A sentence of the CR panel (one of [`CR_SENTENCE_IDS`]).
    Sentence(String),
}

/// One stop of a tour. The switches are applied when the stop is shown; `None` keeps what is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The step's identity (`Step::sid`: `cause/sig/nth`); a step that an edit removed is
    /// reported by the player, not refused here (the file stays readable after any edit).
    pub step: String,
    /// Plain text written by the trainer (shown as text, never as markup).
    pub caption: String,
    pub rules: Option<crate::Rules>,
    pub policies: Option<Policies>,
    pub filters: Option<Vec<String>>,
    pub compare: Option<bool>,
    pub highlight: Option<Highlight>,
    /// An exercise asked at this stop.
    pub ask: Option<Ask>,
}

/// The summary counts an exercise can test (`Trace::summary`, docs/trace-contract.md).
pub const COUNT_FIELDS: [&str; 8] =
    ["sent_while_away", "stored", "delivered_from_store", "lost", "discarded", "still_stored", "delivered_live", "possible_duplicates"];
/// The PF states an exercise can test (`PfState` names in the trace).
pub const PF_STATES: [&str; 10] = ["Idle", "Inviting", "Active", "Deferred", "DeliveringA", "DeliveringB", "Replaying", "Left", "Ended", "EndedWithBacklog"];
/// Most choices or conditions in one exercise.
pub const MAX_CHOICES: usize = 8;

/// An exercise at a tour stop (issue 15, "Exercises"): a question with feedback that explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// 1–64 lowercase letters, digits or '-': the result's id (an xAPI activity for the host).
    pub id: String,
    pub question: String,
    /// The explanation shown after an answer (the clause or the policy).
    pub explain: String,
    pub kind: AskKind,
}

/// What the learner does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskKind {
    /// Picks one of `choices`; `answer` is the right one's index.
    Choice { choices: Vec<String>, answer: usize },
    /// Edits the timeline (events, policies) until every condition holds on the run under `rules`
    /// (or the rules in force); the page grades it with the engine's run.
    Task { rules: Option<crate::Rules>, expect: Vec<Condition> },
}

/// A condition on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `summary.<field>` within `min ..= max` (either may be absent).
    Count { field: String, min: Option<u64>, max: Option<u64> },
    /// A key step whose title contains `text` is (or is not) in the run.
    Key { text: String, present: bool },
    /// The step with this identity is (or is not) in the run.
    Step { sid: String, present: bool },
    /// The PF is in `state` at `at_ms`.
    StateAt { at_ms: u64, state: String },
}

/// Why a scenario file was refused. Every variant names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// The text is not JSON at all.
    NotJson { line: usize, column: usize, message: String },
    /// The file is larger than [`MAX_BYTES`] or has more than [`MAX_EVENTS`] events.
    TooLarge { what: &'static str, limit: usize },
    /// A required field is absent.
    Missing { path: String },
    /// A field has the wrong JSON type.
    WrongType { path: String, expected: &'static str },
    /// A field this format does not have (probably a typo).
    UnknownField { path: String, allowed: Vec<&'static str> },
    /// `kind` is not one of [`EVENT_KINDS`].
    UnknownEventKind { path: String, kind: String },
    /// An event is earlier than the one before it.
    TimeBackwards { path: String, at_ms: u64, previous_ms: u64 },
    /// A member id that the scenario does not define.
    UnknownMember { path: String, member: String, known: Vec<String> },
    /// A Reason header value that RFC 3326 does not allow.
    MalformedReason { path: String, value: String, error: ReasonError },
    /// A number or string outside what is allowed.
    OutOfRange { path: String, value: String, allowed: String },
    /// A `join` of a member who is already in the group at that point of the timeline (issue
    /// 11, defect 9): the run would send a second INVITE and hold two dialogs for one member.
    /// `since` says why the member is in: `None` from the start (`in_group`), else the index
    /// and time of the earlier `join`.
    AlreadyInGroup { path: String, member: String, at_ms: u64, since: Option<(usize, u64)> },
    /// A member's `leave` when they are not in the group at that point of the timeline (issue
    /// 11, defect 9, the same check the other way round: two leaves a few milliseconds apart
    /// sent two BYEs with one CSeq). `since`: `None` outside from the start (`in_group` false),
    /// else the index and time of the `leave` that took them out.
    NotInGroup { path: String, member: String, at_ms: u64, since: Option<(usize, u64)> },
    /// Anything else, with a sentence.
    Invalid { path: String, problem: String },
}

pub use crate::shown::{cut, SHOWN_BYTES};

/// Every value taken from the file is cut with [`cut`] (the whole text of an `Invalid` problem
/// too, which quotes values): a message stays a sentence, whatever the file holds.
impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ScenarioError::*;
        match self {
            NotJson { line, column, message } => write!(f, "not valid JSON at line {line}, column {column}: {}", cut(message)),
            TooLarge { what, limit } => write!(f, "{what}: too large (the limit is {limit})"),
            Missing { path } => write!(f, "{}: required field is missing", cut(path)),
            WrongType { path, expected } => write!(f, "{}: expected {expected}", cut(path)),
            UnknownField { path, allowed } => write!(f, "{}: unknown field (allowed here: {})", cut(path), allowed.join(", ")),
            UnknownEventKind { path, kind } => write!(f, "{}: unknown event kind {:?} (known kinds: {})", cut(path), cut(kind), EVENT_KINDS.join(", ")),
            TimeBackwards { path, at_ms, previous_ms } => {
                write!(f, "{}: time goes backwards ({at_ms} ms comes after an event at {previous_ms} ms; events must be in time order)", cut(path))
            }
            UnknownMember { path, member, known } => write!(f, "{}: unknown member {:?} (known: {})", cut(path), cut(member), known.join(", ")),
            MalformedReason { path, value, error } => write!(f, "{}: malformed Reason {:?}: {error}", cut(path), cut(value)),
            OutOfRange { path, value, allowed } => write!(f, "{}: {} is out of range (allowed: {allowed})", cut(path), cut(value)),
            AlreadyInGroup { path, member, at_ms, since } | NotInGroup { path, member, at_ms, since } => {
                let join = matches!(self, AlreadyInGroup { .. });
                let (is, other, this) = if join { ("already in", "leave", "join") } else { ("not in", "join", "leave") };
                let m = cut(member);
                write!(f, "{}: {m:?} is {is} the group at {at_ms} ms (", cut(path))?;
                match since {
                    None => write!(f, "from the start: \"in_group\" is {join}")?,
                    Some((i, t)) => write!(f, "since events[{i}] at {t} ms")?,
                }
                write!(f, "); add a \"{other}\" of {m:?} before this {this}, or remove one of the {this}s")
            }
            Invalid { path, problem } => {
                // A problem is a sentence about a value; only its value part can be long.
                let p = crate::shown::cut_at(problem, 4 * SHOWN_BYTES);
                write!(f, "{}: {p}", cut(path))
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// The JSON path of the offending field ("" for whole-file errors).
    pub fn path(&self) -> &str {
        use ScenarioError::*;
        match self {
            NotJson { .. } => "",
            TooLarge { what, .. } => what,
            Missing { path }
            | WrongType { path, .. }
            | UnknownField { path, .. }
            | UnknownEventKind { path, .. }
            | TimeBackwards { path, .. }
            | UnknownMember { path, .. }
            | MalformedReason { path, .. }
            | OutOfRange { path, .. }
            | AlreadyInGroup { path, .. }
            | NotInGroup { path, .. }
            | Invalid { path, .. } => path,
        }
    }
}

type R<T> = Result<T, ScenarioError>;

/// Where a field is, for error messages; only turned into text when there is an error (a
/// 10,000-event file is read on every edit in the page).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "tours"), allow(dead_code))]
enum Loc {
    /// The top-level object.
    Root,
    /// `members[i]` or `events[i]`.
    Item(&'static str, usize),
    /// `tour`.
    Tour,
    /// `tour.stops[i]`.
    Stop(usize),
    /// `tour.stops[i].highlight`.
    Highlight(usize),
    /// `tour.stops[i].ask`.
    Ask(usize),
    /// `tour.stops[i].ask.expect[k]`.
    Cond(usize, usize),
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Root => Ok(()),
            Loc::Item(list, i) => write!(f, "{list}[{i}]"),
            Loc::Tour => f.write_str("tour"),
            Loc::Stop(i) => write!(f, "tour.stops[{i}]"),
            Loc::Highlight(i) => write!(f, "tour.stops[{i}].highlight"),
            Loc::Ask(i) => write!(f, "tour.stops[{i}].ask"),
            Loc::Cond(i, k) => write!(f, "tour.stops[{i}].ask.expect[{k}]"),
        }
    }
}

fn obj<'o, 'a>(v: &'o Json<'a>, path: Loc) -> R<Obj<'o, 'a>> {
    v.as_object().ok_or_else(|| ScenarioError::WrongType {
        path: match path {
            Loc::Root => "(top level)".to_string(),
            _ => path.to_string(),
        },
        expected: "an object",
    })
}

fn check_fields(m: Obj, path: Loc, allowed: &[&'static str]) -> R<()> {
    match m.first_unknown_key(allowed) {
        Some(k) => Err(ScenarioError::UnknownField { path: join(path, k), allowed: allowed.to_vec() }),
        None => Ok(()),
    }
}

fn join(path: Loc, key: &str) -> String {
    match path {
        Loc::Root => key.to_string(),
        _ => format!("{path}.{key}"),
    }
}

fn get_str<'o>(m: Obj<'o, '_>, path: Loc, key: &str) -> R<Option<&'o str>> {
    match m.get(key) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(_) => Err(ScenarioError::WrongType { path: join(path, key), expected: "a string" }),
    }
}

fn req_str<'o>(m: Obj<'o, '_>, path: Loc, key: &str) -> R<&'o str> {
    get_str(m, path, key)?.ok_or_else(|| ScenarioError::Missing { path: join(path, key) })
}

/// What a number field holds, for its error message.
const MS: &str = "a whole number of milliseconds (0 or more)";
const STATUS: &str = "a whole number, a SIP final status code";

fn get_u64(m: Obj, path: Loc, key: &str, range: std::ops::RangeInclusive<u64>, what: &'static str) -> R<Option<u64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => {
            let n = v.as_u64().ok_or_else(|| match v {
                // 486.0, 1e3 or -0: a whole value written as a decimal, which this format refuses
                // (the page and the CLI read the text as written, one validator for both).
                // A whole value past the range written as a decimal or exponent (1e13, 1e308).
                Json::Float(x) if x.is_finite() && x.fract() == 0.0 && *x > *range.end() as f64 => {
                    ScenarioError::OutOfRange { path: join(path, key), value: v.short(40), allowed: format!("{} to {}", range.start(), range.end()) }
                }
                Json::Float(x) if x.is_finite() && x.fract() == 0.0 && *x >= 0.0 => ScenarioError::Invalid {
                    path: join(path, key),
                    problem: format!("expected {what}, found {} (write it as {} without a decimal point, exponent or sign)", v.short(40), *x as u64),
                },
                _ => ScenarioError::WrongType { path: join(path, key), expected: what },
            })?;
            if !range.contains(&n) {
                return Err(ScenarioError::OutOfRange {
                    path: join(path, key),
                    value: n.to_string(),
                    allowed: format!("{} to {}", range.start(), range.end()),
                });
            }
            Ok(Some(n))
        }
    }
}

/// A text field: at most `max` bytes, no control characters but line feed and tab.
/// (`path` is a `dyn` closure: one copy of this function in the wasm, not one per call site.)
fn check_text(path: &dyn Fn() -> String, s: &str, max: usize) -> R<()> {
    if s.len() > max {
        return Err(ScenarioError::OutOfRange { path: path(), value: format!("{} bytes", s.len()), allowed: format!("at most {max} bytes") });
    }
    // The control characters (Unicode Cc) are U+0000–U+001F, U+007F and U+0080–U+009F; the last
    // are C2 80–C2 9F in UTF-8, so a byte scan finds them without decoding.
    let b = s.as_bytes();
    let bad = |i: usize| match b[i] {
        b'\n' | b'\t' => false,
        0..=0x1f | 0x7f => true,
        0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
        _ => false,
    };
    if let Some(i) = (0..b.len()).find(|&i| bad(i)) {
        let c = s[i..].chars().next().map_or(0, |c| c as u32);
        return Err(ScenarioError::Invalid { path: path(), problem: format!("control character U+{c:04X} is not allowed") });
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty() && b.len() <= 16 && b[0].is_ascii_lowercase() && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

const RESERVED_IDS: [&str; 4] = ["carol", "carol-pf", "cf", "scscf"];

impl Scenario {
    /// Parses and validates a scenario file.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_BYTES {
            return Err(ScenarioError::TooLarge { what: "file", limit: MAX_BYTES });
        }
        if text.starts_with('\u{feff}') {
            return Err(ScenarioError::Invalid {
                path: "(file)".into(),
                problem: "starts with a byte order mark (U+FEFF); save it as UTF-8 without a BOM".into(),
            });
        }
        let v = Json::parse(text).map_err(|e| ScenarioError::NotJson { line: e.line(), column: e.column(), message: e.to_string() })?;
        Self::from_tree(&v)
    }

    /// Validates an already parsed JSON tree.
    fn from_tree(v: &Json) -> Result<Scenario, ScenarioError> {
        let root = Loc::Root;
        let m = obj(v, root)?;
        check_fields(
            m,
            root,
            &[
                "format",
                "version",
                "title",
                "description",
                "setup",
                "t1_ms",
                "answer_ms",
                "ims_core",
                "start_time",
                "members",
                "policies",
                "events",
                "tour",
                "subscription_refused_ms",
                "subscription_refused_reason",
                "msrp_chunk_bytes",
                "imdn",
                "carol_reads_ms",
                "devices",
            ],
        )?;
        let format = req_str(m, root, "format")?;
        if format != FORMAT {
            return Err(ScenarioError::Invalid { path: "format".into(), problem: format!("must be {FORMAT:?}, found {:?}", cut(format)) });
        }
        let version = match m.get("version") {
            None => return Err(ScenarioError::Missing { path: "version".into() }),
            Some(v) if v.as_u64().is_some_and(|n| VERSIONS.contains(&n)) => v.as_u64().unwrap_or(VERSION),
            Some(v @ Json::Float(x)) if VERSIONS.iter().any(|n| *x == *n as f64) => {
                return Err(ScenarioError::Invalid {
                    path: "version".into(),
                    problem: format!("found {}; write {} (a whole number without a decimal point)", v.short(20), *x as u64),
                })
            }
            Some(v) => {
                return Err(ScenarioError::Invalid {
                    path: "version".into(),
                    problem: format!("unsupported version {} (this build reads versions 1 and {VERSION})", v.short(80)),
                })
            }
        };
        let title = get_str(m, root, "title")?.unwrap_or("Untitled scenario").to_string();
        check_text(&|| "title".into(), &title, 200)?;
        let description = get_str(m, root, "description")?.unwrap_or("").to_string();
        check_text(&|| "description".into(), &description, 1000)?;
        let setup = match get_str(m, root, "setup")?.unwrap_or("established") {
            "established" => Setup::Established,
            "full" => Setup::Full,
            "cf_invites" => Setup::CfInvites,
            other => {
                return Err(ScenarioError::OutOfRange {
                    path: "setup".into(),
                    value: format!("{:?}", cut(other)),
                    allowed: "\"established\", \"full\", \"cf_invites\"".into(),
                })
            }
        };
        let t1_ms = get_u64(m, root, "t1_ms", 100..=4000, MS)?.unwrap_or(500);
        // `"never"`: her client rings and never answers (Q4's timeline).
        let answer_ms = match m.get("answer_ms").and_then(|v| v.as_str()) {
            Some("never") => ANSWER_NEVER,
            _ => get_u64(m, root, "answer_ms", 0..=20_000, "a whole number of milliseconds or \"never\"")?.unwrap_or(1000),
        };
        let ims_core = match get_str(m, root, "ims_core")?.unwrap_or("answers-408") {
            "answers-408" => ImsCore::Answers408,
            "answers-480" => ImsCore::Answers480,
            "stateless" => ImsCore::Stateless,
            other => {
                return Err(ScenarioError::OutOfRange {
                    path: "ims_core".into(),
                    value: format!("{:?}", cut(other)),
                    allowed: "\"answers-408\", \"answers-480\", \"stateless\"".into(),
                })
            }
        };
        let start_epoch_ms = match get_str(m, root, "start_time")? {
            None => crate::wire::datetime::parse_ms("2024-05-14T09:00:00Z").unwrap_or(0),
            Some(s) => crate::wire::datetime::parse_ms(s).map_err(|_| ScenarioError::Invalid {
                path: "start_time".into(),
                problem: format!("{:?} is not a UTC time like \"2024-05-14T09:00:00Z\"", cut(s)),
            })?,
        };
        let members = parse_members(m.get("members"))?;
        let policies = match m.get("policies") {
            Some(p) => parse_policies(p, "policies")?,
            None => Policies::default(),
        };
        let evs = m.get("events").ok_or_else(|| ScenarioError::Missing { path: "events".into() })?;
        let evs = evs.as_array().ok_or_else(|| ScenarioError::WrongType { path: "events".into(), expected: "an array" })?;
        if evs.len() > MAX_EVENTS {
            return Err(ScenarioError::TooLarge { what: "events", limit: MAX_EVENTS });
        }
        let tablet = devices(m)?;
        let mut events = Vec::with_capacity(evs.len());
        let mut prev = 0u64;
        let mut roster = Roster::new(&members);
        for (i, ev) in evs.iter().enumerate() {
            let path = Loc::Item("events", i);
            let e = parse_event(ev, path, &members, tablet)?;
            if e.at_ms < prev {
                return Err(ScenarioError::TimeBackwards { path: format!("{path}.at_ms"), at_ms: e.at_ms, previous_ms: prev });
            }
            prev = e.at_ms;
            roster.apply(i, &e, &members)?;
            events.push(e);
        }
        let tour = match m.get("tour") {
            None => None,
            Some(_) if version < 2 => {
                return Err(ScenarioError::Invalid { path: "tour".into(), problem: "a tour needs \"version\": 2 (version 1 files have none)".into() })
            }
            #[cfg(feature = "tours")]
            Some(t) => Some(std::sync::Arc::new(tour::parse_tour(t)?)),
            // The page's first wasm module reads no tours: the page checks a file with a tour
            // with its second module (www/engine.js `prepare`), which has them.
            #[cfg(not(feature = "tours"))]
            Some(_) => return Err(ScenarioError::Invalid { path: "tour".into(), problem: NO_TOURS.into() }),
        };
        let sub_refused = sub_refused(m, root)?;
        let msrp_chunk_bytes = get_u64(m, root, "msrp_chunk_bytes", CHUNK_BYTES, "a whole number of bytes from 16 to 65536")?.map(|n| n as u32);
        let imdn = match get_str(m, root, "imdn")?.unwrap_or("replayed") {
            "replayed" => ImdnMode::Replayed,
            "all" => ImdnMode::All,
            "none" => ImdnMode::None,
            other => {
                return Err(ScenarioError::OutOfRange {
                    path: "imdn".into(),
                    value: format!("{:?}", cut(other)),
                    allowed: "\"replayed\", \"all\", \"none\"".into(),
                })
            }
        };
        // `"never"`: she never reads them (no `displayed`).
        let carol_reads_ms = match m.get("carol_reads_ms").and_then(|v| v.as_str()) {
            Some("never") => READS_NEVER,
            _ => get_u64(m, root, "carol_reads_ms", 0..=MAX_AT_MS, "a whole number of milliseconds or \"never\"")?.unwrap_or(5000),
        };
        // The page's first wasm module sends no chunks: the page checks and runs such a file
        // with its second module (www/engine.js `hasChunks`), which has them.
        #[cfg(not(feature = "chunks"))]
        if msrp_chunk_bytes.is_some() {
            return Err(ScenarioError::Invalid { path: "msrp_chunk_bytes".into(), problem: NO_CHUNKS.into() });
        }
        Ok(Scenario {
            title,
            description,
            setup,
            t1_ms,
            answer_ms,
            ims_core,
            start_epoch_ms,
            members,
            policies,
            events,
            tour,
            sub_refused,
            imdn,
            carol_reads_ms,
            msrp_chunk_bytes,
            tablet,
        })
    }

    /// The member index for `id`.
    pub fn member(&self, id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.id == id)
    }
}

/// Who is in the group along the timeline, as the events say (issue 11, defect 9): a member is
/// in from the start when `in_group`, after a `join`, and out after a `leave`. The world does not
/// consult it; it is the validator's check that a `join` comes from outside the group and a
/// `leave` from inside (two joins, or two leaves, a few milliseconds apart made two INVITEs or
/// two BYEs with one CSeq for one member).
struct Roster {
    /// Per member: in the group, and the `events[i]` (index, time) that put them there or took
    /// them out (`None`: so from the start).
    state: Vec<(bool, Option<(usize, u64)>)>,
}

impl Roster {
    fn new(members: &[Member]) -> Roster {
        Roster { state: members.iter().map(|m| (m.in_group, None)).collect() }
    }

    /// Applies `events[i]`; a `join` of a member already in, or a `leave` of one not in, is
    /// refused by name.
    fn apply(&mut self, i: usize, e: &Event, members: &[Member]) -> R<()> {
        let (m, join) = match e.kind {
            EventKind::Join { member } => (member, true),
            EventKind::Leave { who: Who::Member(m) } => (m, false),
            _ => return Ok(()),
        };
        let (inside, since) = self.state[m];
        if inside == join {
            let (path, member, at_ms) = (format!("events[{i}].member"), members[m].id.clone(), e.at_ms);
            return Err(if join {
                ScenarioError::AlreadyInGroup { path, member, at_ms, since }
            } else {
                ScenarioError::NotInGroup { path, member, at_ms, since }
            });
        }
        self.state[m] = (join, Some((i, e.at_ms)));
        Ok(())
    }
}

/// A `policies` object (the scenario's, or a tour stop's at `path`).
fn parse_policies(p: &Json, path: &str) -> R<Policies> {
    let mut policies = Policies::default();
    let pm = p.as_object().ok_or_else(|| ScenarioError::WrongType { path: path.into(), expected: "an object" })?;
    // Stops at the first unknown key, so a huge object costs a few passes, not a sort.
    for k in pm.sorted_keys() {
        let v = pm.get(k).unwrap_or(&Json::Null);
        let path = format!("{path}.{k}");
        let id = PolicyId::from_id(k)
            .ok_or_else(|| ScenarioError::UnknownField { path: path.clone(), allowed: crate::policy::ALL.iter().map(|p| p.id()).collect() })?;
        let opt = v.as_str().ok_or_else(|| ScenarioError::WrongType { path: path.clone(), expected: "a string" })?;
        if !policies.set(id, opt) {
            // The page's first wasm module runs only the defaults: the page checks and runs
            // such a scenario with its second module (www/engine.js `hasPolicies`).
            #[cfg(not(feature = "policies"))]
            if id.info().options.contains(&opt) {
                return Err(ScenarioError::Invalid { path, problem: crate::policy::NO_POLICIES.into() });
            }
            return Err(ScenarioError::OutOfRange { path, value: format!("{:?}", cut(opt)), allowed: id.info().options.join(", ") });
        }
    }
    Ok(policies)
}

fn parse_members(v: Option<&Json>) -> R<Vec<Member>> {
    let Some(v) = v else {
        return Ok(vec![Member { id: "alice".into(), name: "Alice".into(), in_group: true }, Member { id: "bob".into(), name: "Bob".into(), in_group: true }]);
    };
    let arr = v.as_array().ok_or_else(|| ScenarioError::WrongType { path: "members".into(), expected: "an array" })?;
    if arr.is_empty() || arr.len() > MAX_MEMBERS {
        return Err(ScenarioError::OutOfRange { path: "members".into(), value: format!("{} members", arr.len()), allowed: format!("1 to {MAX_MEMBERS}") });
    }
    let mut out: Vec<Member> = Vec::new();
    for (i, mv) in arr.iter().enumerate() {
        let path = Loc::Item("members", i);
        let m = obj(mv, path)?;
        check_fields(m, path, &["id", "name", "in_group"])?;
        let id = req_str(m, path, "id")?;
        if !valid_id(id) || RESERVED_IDS.contains(&id) {
            return Err(ScenarioError::Invalid {
                path: format!("{path}.id"),
                problem: format!(
                    "{:?} must be 1-16 lowercase letters, digits or '-', start with a letter, and not be one of {}",
                    cut(id),
                    RESERVED_IDS.join(", ")
                ),
            });
        }
        if out.iter().any(|o| o.id == id) {
            return Err(ScenarioError::Invalid { path: format!("{path}.id"), problem: format!("{id:?} is used twice") });
        }
        let name = get_str(m, path, "name")?.map(str::to_string).unwrap_or_else(|| id.to_string());
        check_text(&|| format!("{path}.name"), &name, 64)?;
        if name.trim().is_empty() || name.as_bytes().contains(&b'\n') {
            return Err(ScenarioError::Invalid { path: format!("{path}.name"), problem: "must be one non-empty line".into() });
        }
        let in_group = match m.get("in_group") {
            None => true,
            Some(Json::Bool(b)) => *b,
            Some(_) => return Err(ScenarioError::WrongType { path: format!("{path}.in_group"), expected: "true or false" }),
        };
        out.push(Member { id: id.to_string(), name, in_group });
    }
    Ok(out)
}

fn who(m: Obj, path: Loc, key: &str, members: &[Member]) -> R<Who> {
    let id = req_str(m, path, key)?;
    if id == "carol" {
        return Ok(Who::Carol);
    }
    members.iter().position(|x| x.id == id).map(Who::Member).ok_or_else(|| ScenarioError::UnknownMember {
        path: join(path, key),
        member: id.to_string(),
        known: std::iter::once("carol".to_string()).chain(members.iter().map(|m| m.id.clone())).collect(),
    })
}

/// Reads `devices` (issue 11, Q15): `["phone"]` (default) or `["phone", "tablet"]`.
fn devices(m: Obj) -> R<bool> {
    let Some(v) = m.get("devices") else { return Ok(false) };
    let names: Option<Vec<&str>> = v.as_array().map(|a| a.iter().filter_map(|d| d.as_str()).collect());
    match names.as_deref() {
        Some(["phone"]) => Ok(false),
        Some(["phone", "tablet"]) => Ok(true),
        _ => Err(ScenarioError::Invalid { path: "devices".into(), problem: "must be [\"phone\"] or [\"phone\", \"tablet\"]".into() }),
    }
}

/// Reads an event's `device` (issue 11): None or `"phone"` is her phone, `"tablet"` her tablet
/// (only when the scenario has one).
fn device(m: Obj, path: Loc, tablet: bool) -> R<bool> {
    match get_str(m, path, "device")? {
        None | Some("phone") => Ok(false),
        Some("tablet") if tablet => Ok(true),
        Some("tablet") => Err(ScenarioError::Invalid { path: join(path, "device"), problem: "the scenario's devices have no tablet".into() }),
        Some(other) => {
            Err(ScenarioError::OutOfRange { path: join(path, "device"), value: format!("{:?}", cut(other)), allowed: "\"phone\", \"tablet\"".into() })
        }
    }
}

fn parse_event(v: &Json, path: Loc, members: &[Member], tablet: bool) -> R<Event> {
    let m = obj(v, path)?;
    let kind = req_str(m, path, "kind")?;
    let at_ms = get_u64(m, path, "at_ms", 0..=MAX_AT_MS, MS)?.ok_or_else(|| ScenarioError::Missing { path: join(path, "at_ms") })?;
    let fields: &[&'static str] = match kind {
        "message" => &["at_ms", "kind", "from", "text"],
        "bye" => &["at_ms", "kind", "reason"],
        "leave" => &["at_ms", "kind", "member", "device"],
        "join" => &["at_ms", "kind", "member"],
        "invite_rejected" => &["at_ms", "kind", "status"],
        "register" => &["at_ms", "kind", "reaction_ms", "device"],
        "rejoin" => &["at_ms", "kind", "ids"],
        "deregister" | "unreachable" => &["at_ms", "kind", "device"],
        "cf_reinvite" => &["at_ms", "kind", "subject"],
        k if EVENT_KINDS.contains(&k) => &["at_ms", "kind"],
        k => return Err(ScenarioError::UnknownEventKind { path: join(path, "kind"), kind: k.to_string() }),
    };
    check_fields(m, path, fields)?;
    if device(m, path, tablet)? {
        let t = match kind {
            "register" => TabletEvent::Register { reaction_ms: get_u64(m, path, "reaction_ms", 0..=600_000, MS)?.unwrap_or(500) },
            "deregister" => TabletEvent::Deregister,
            "leave" if req_str(m, path, "member")? == "carol" => TabletEvent::Leave,
            "leave" => return Err(ScenarioError::Invalid { path: join(path, "device"), problem: "only Carol's leave names a device".into() }),
            _ => TabletEvent::Unreachable,
        };
        return Ok(Event { at_ms, kind: EventKind::Tablet(t) });
    }
    let kind = match kind {
        "message" => {
            let from = who(m, path, "from", members)?;
            let text = req_str(m, path, "text")?.to_string();
            check_text(&|| join(path, "text"), &text, MAX_TEXT)?;
            EventKind::Message { from, text }
        }
        "bye" => match m.get("reason") {
            None | Some(Json::Null) => EventKind::Bye { reason: None },
            Some(Json::Str(s)) => {
                check_text(&|| join(path, "reason"), s, 300)?;
                if s.as_bytes().contains(&b'\n') {
                    return Err(ScenarioError::Invalid { path: join(path, "reason"), problem: "a header value cannot contain a line break".into() });
                }
                let parsed = reason::parse(s).map_err(|error| ScenarioError::MalformedReason { path: join(path, "reason"), value: s.to_string(), error })?;
                EventKind::Bye { reason: Some((s.trim().to_string(), parsed)) }
            }
            Some(_) => {
                return Err(ScenarioError::WrongType {
                    path: join(path, "reason"),
                    expected: "a Reason header value string such as \"SIP;cause=480\", or null",
                })
            }
        },
        "leave" => EventKind::Leave { who: who(m, path, "member", members)? },
        "join" => match who(m, path, "member", members)? {
            Who::Member(i) => EventKind::Join { member: i },
            Who::Carol => {
                return Err(ScenarioError::Invalid {
                    path: join(path, "member"),
                    problem: "Carol returns with \"rejoin\" or \"register\", not \"join\"".into(),
                })
            }
        },
        "invite_rejected" => {
            let st = get_u64(m, path, "status", 300..=699, STATUS)?.ok_or_else(|| ScenarioError::Missing { path: join(path, "status") })?;
            EventKind::InviteRejected { status: st as u16 }
        }
        "register" => EventKind::Register { reaction_ms: get_u64(m, path, "reaction_ms", 0..=600_000, MS)?.unwrap_or(500) },
        "unreachable" => EventKind::Unreachable,
        "msrp_loss" => EventKind::MsrpLoss,
        "msrp_setup_fails" => EventKind::MsrpSetupFails,
        "rejoin" => {
            let ids = get_str(m, path, "ids")?.unwrap_or("same");
            let i = RejoinIds::ALL.iter().position(|x| *x == ids).ok_or_else(|| ScenarioError::OutOfRange {
                path: join(path, "ids"),
                value: format!("{:?}", cut(ids)),
                allowed: RejoinIds::ALL.join(", "),
            })?;
            EventKind::Rejoin { ids: [RejoinIds::Same, RejoinIds::NewContribution, RejoinIds::NewConversation][i] }
        }
        "deregister" => EventKind::Deregister,
        "cf_reinvite" => EventKind::CfReinvite { subject: subject(m, path)? },
        "cf_update" => EventKind::CfUpdate,
        _ => EventKind::GroupEnds,
    };
    Ok(Event { at_ms, kind })
}

/// A `cf_reinvite`'s optional `subject`: one header line of text (RFC 3261 §20.36), or null.
fn subject(m: Obj, path: Loc) -> R<Option<String>> {
    match m.get("subject") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => {
            check_text(&|| join(path, "subject"), s, 300)?;
            if s.contains(['\n', '\r']) || s.trim().is_empty() {
                return Err(ScenarioError::Invalid { path: join(path, "subject"), problem: "a Subject is one non-empty header line".into() });
            }
            Ok(Some(s.trim().to_string()))
        }
        Some(_) => Err(ScenarioError::WrongType { path: join(path, "subject"), expected: "a Subject string, or null" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Scenario::from_json(json).unwrap_err().to_string()
    }

    const HEAD: &str = r#""format":"cpm-deferral-scenario","version":1"#;

    /// Hostile shapes stay linear: 300,000 policy keys (unknown, or one known key repeated) and
    /// a version object of as many keys are refused or read, and the error message stays short.
    /// (No clock here: a quadratic reader would make this test take minutes.)
    #[test]
    fn huge_objects_are_read_in_linear_time() {
        let keys = |k: &dyn Fn(usize) -> String| (0..300_000).map(|i| format!("\"{}\":\"keep\"", k(i))).collect::<Vec<_>>().join(",");
        let unknown = format!(r#"{{{HEAD},"policies":{{{}}},"events":[]}}"#, keys(&|i| format!("x{i}")));
        assert!(err(&unknown).starts_with("policies.x0: unknown field"), "{}", &err(&unknown)[..80]);
        let repeated = format!(r#"{{{HEAD},"policies":{{{}}},"events":[]}}"#, keys(&|_| "q8-group-ends".into())).replace("\"keep\"", "\"discard\"");
        assert!(Scenario::from_json(&repeated).is_ok());
        let version = format!(r#"{{"format":"cpm-deferral-scenario","version":{{{}}},"events":[]}}"#, keys(&|i| format!("v{i}")));
        let e = err(&version);
        assert!(e.starts_with(r#"version: unsupported version {"v0":"keep","v1":"keep","#) && e.len() < 200, "{e}");
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let s = Scenario::from_json(&format!("{{{HEAD},\"events\":[]}}")).unwrap();
        assert_eq!(s.members.len(), 2);
        assert_eq!(s.t1_ms, 500);
        assert_eq!(s.setup, Setup::Established);
    }

    #[test]
    fn errors_name_the_field() {
        assert!(err("{").starts_with("not valid JSON"));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":5,\"kind\":\"dance\"}}]}}")).starts_with("events[0].kind: unknown event kind \"dance\""));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":5,\"kind\":\"rejoin\"}},{{\"at_ms\":4,\"kind\":\"rejoin\"}}]}}"))
            .starts_with("events[1].at_ms: time goes backwards"));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":5,\"kind\":\"message\",\"from\":\"zed\",\"text\":\"x\"}}]}}"))
            .starts_with("events[0].from: unknown member \"zed\""));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":5,\"kind\":\"bye\",\"reason\":\"SIP;cause=abc\"}}]}}"))
            .starts_with("events[0].reason: malformed Reason"));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":-5,\"kind\":\"bye\"}}]}}")).starts_with("events[0].at_ms: expected"));
        assert!(err(&format!("{{{HEAD},\"events\":[{{\"at_ms\":5,\"kind\":\"bye\",\"reasn\":null}}]}}")).starts_with("events[0].reasn: unknown field"));
        assert!(err(&format!("{{{HEAD},\"policies\":{{\"q1-rejoin-after-invite\":\"coin-toss\"}},\"events\":[]}}"))
            .starts_with("policies.q1-rejoin-after-invite: \"coin-toss\" is out of range"));
        assert!(err(r#"{"format":"cpm-deferral-scenario","version":3,"events":[]}"#).starts_with("version: unsupported version 3"));
        assert!(err(&format!("{{{HEAD}}}")).starts_with("events: required field is missing"));
        assert!(err(&format!("{{{HEAD},\"members\":[{{\"id\":\"Carol\"}}],\"events\":[]}}")).starts_with("members[0].id:"));
        assert!(err("[1,2]").starts_with("(top level): expected an object"));
    }

    const V2: &str = r#""format":"cpm-deferral-scenario","version":2"#;

    /// Issue 15, "Tours as data": a version 2 tour is read with every switch; version 1 files
    /// read as before (no tour) and a tour in one is refused by name.
    #[test]
    fn tours_read_and_version_1_migrates() {
        let v1 = Scenario::from_json(&format!("{{{HEAD},\"events\":[]}}")).unwrap();
        assert_eq!(v1.tour, None);
        let v2 = Scenario::from_json(&format!("{{{V2},\"events\":[]}}")).unwrap();
        assert_eq!(v1, v2, "a version 1 file is a version 2 file without a tour");
        let t = Scenario::from_json(&format!(
            r#"{{{V2},"events":[],"tour":{{"title":"T","stops":[
              {{"step":"setup/0000abcd/0","caption":"<b>hi</b>\nthere"}},
              {{"step":"bye:1#0/00000001/0","caption":"","rules":"pre-cr","policies":{{"q8-group-ends":"discard"}},
                "filters":["msrp-200","msrp-200","members"],"compare":true,"highlight":{{"sentence":"case1"}}}},
              {{"step":"x","highlight":{{"panel":"store"}}}},{{"step":"y","highlight":{{"arrow":true}}}}]}}}}"#
        ))
        .unwrap()
        .tour
        .unwrap();
        assert_eq!(t.title, "T");
        assert_eq!(t.stops.len(), 4);
        assert_eq!(t.stops[0].caption, "<b>hi</b>\nthere");
        assert_eq!(t.stops[1].rules, Some(crate::Rules::PreCr));
        assert_eq!(t.stops[1].policies.as_ref().map(|p| p.get(PolicyId::from_id("q8-group-ends").unwrap())), Some("discard"));
        assert_eq!(t.stops[1].filters.as_deref(), Some(&["msrp-200".to_string(), "members".to_string()][..]));
        assert_eq!(t.stops[1].compare, Some(true));
        assert_eq!(t.stops[1].highlight, Some(Highlight::Sentence("case1".into())));
        assert_eq!(t.stops[2].highlight, Some(Highlight::Panel("store".into())));
        assert_eq!(t.stops[3].highlight, Some(Highlight::Arrow));
        assert_eq!(t.stops[3].caption, "");
    }

    /// Issue 15, "Exercises": multiple choice and engine-graded tasks, every condition kind.
    #[test]
    fn exercises_read_and_errors_name_the_field() {
        let with = |ask: &str| format!(r#"{{{V2},"events":[],"tour":{{"stops":[{{"step":"a","ask":{ask}}}]}}}}"#);
        let s = Scenario::from_json(&with(r#"{"id":"which-case","question":"Which case?","choices":["1","2","3"],"answer":0,"explain":"§8.3.2.9 case 1"}"#))
            .unwrap();
        let a = s.tour.unwrap().stops[0].ask.clone().unwrap();
        assert_eq!(a.kind, AskKind::Choice { choices: vec!["1".into(), "2".into(), "3".into()], answer: 0 });
        let s = Scenario::from_json(&with(
            r#"{"id":"lost-0","question":"Q","rules":"pre-cr","expect":[{"count":"lost","max":0},{"key":"Deferred"},{"step":"x/1/0","present":false},{"state_at":9000,"state":"Deferred"}]}"#,
        ))
        .unwrap();
        let AskKind::Task { rules, expect } = s.tour.unwrap().stops[0].ask.clone().unwrap().kind else { panic!("a task") };
        assert_eq!(rules, Some(crate::Rules::PreCr));
        assert_eq!(expect[0], Condition::Count { field: "lost".into(), min: None, max: Some(0) });
        assert_eq!(expect[1], Condition::Key { text: "Deferred".into(), present: true });
        assert_eq!(expect[2], Condition::Step { sid: "x/1/0".into(), present: false });
        assert_eq!(expect[3], Condition::StateAt { at_ms: 9000, state: "Deferred".into() });
        let e = |ask: &str| err(&with(ask));
        assert!(e(r#"{"question":"Q","choices":["a"],"answer":0}"#).starts_with("tour.stops[0].ask.id: required"));
        assert!(e(r#"{"id":"A!","question":"Q","choices":["a"],"answer":0}"#).starts_with("tour.stops[0].ask.id: \"A!\" must be"));
        assert!(e(r#"{"id":"a","question":"Q","choices":["a","b"],"answer":2}"#).starts_with("tour.stops[0].ask.answer: 2 is out of range"));
        assert!(e(r#"{"id":"a","question":"Q","choices":["a"]}"#).starts_with("tour.stops[0].ask.answer: required"));
        assert!(e(r#"{"id":"a","question":"Q","choices":[]}"#).starts_with("tour.stops[0].ask.choices: needs an array of 1 to 8"));
        assert!(e(r#"{"id":"a","question":"Q","choices":[1]}"#).starts_with("tour.stops[0].ask.choices[0]: expected a string"));
        assert!(e(r#"{"id":"a","question":"Q"}"#).starts_with("tour.stops[0].ask.expect: needs an array of 1 to 8"));
        assert!(e(r#"{"id":"a","question":"Q","expect":[{"count":"lots"}]}"#).starts_with("tour.stops[0].ask.expect[0].count: \"lots\" is out of range"));
        assert!(e(r#"{"id":"a","question":"Q","expect":[{"count":"lost","is":0}]}"#).starts_with("tour.stops[0].ask.expect[0].is: unknown field"));
        assert!(e(r#"{"id":"a","question":"Q","expect":[{"state_at":5,"state":"Asleep"}]}"#)
            .starts_with("tour.stops[0].ask.expect[0].state: \"Asleep\" is out of range"));
        assert!(
            e(r#"{"id":"a","question":"Q","expect":[{"key":"x","present":"no"}]}"#).starts_with("tour.stops[0].ask.expect[0].present: expected true or false")
        );
        assert!(e(r#"{"id":"a","question":"Q","expect":[{"glow":1}]}"#).starts_with("tour.stops[0].ask.expect[0]: needs one of"));
        assert!(e(r#"{"id":"a","question":"Q","expect":[{"key":"x"}],"answer":1}"#).starts_with("tour.stops[0].ask.answer: unknown field"));
        assert!(e(r#"{"id":"a","question":"Q","choices":["a"],"answer":0,"rules":"pre-cr"}"#).starts_with("tour.stops[0].ask.rules: unknown field"));
    }

    #[test]
    fn tour_errors_name_the_field() {
        let tour = |t: &str| err(&format!("{{{V2},\"events\":[],\"tour\":{t}}}"));
        let stop = |s: &str| tour(&format!("{{\"stops\":[{{\"step\":\"a\"}},{s}]}}"));
        assert!(err(&format!("{{{HEAD},\"events\":[],\"tour\":{{\"stops\":[]}}}}")).starts_with("tour: a tour needs \"version\": 2"));
        assert!(err(r#"{"format":"cpm-deferral-scenario","version":2.0,"events":[]}"#).starts_with("version: found 2.0; write 2"));
        assert!(tour("[]").starts_with("tour: expected an object"));
        assert!(tour("{}").starts_with("tour.stops: required field is missing"));
        assert!(tour(r#"{"stops":[],"colour":1}"#).starts_with("tour.colour: unknown field"));
        assert!(stop("{}").starts_with("tour.stops[1].step: required field is missing"));
        assert!(stop(r#"{"step":"a","caption":7}"#).starts_with("tour.stops[1].caption: expected a string"));
        assert!(stop(r#"{"step":"a","caption":"bell\u0007"}"#).starts_with("tour.stops[1].caption: control character U+0007"));
        let long = "x".repeat(MAX_CAPTION + 1);
        assert!(stop(&format!(r#"{{"step":"a","caption":"{long}"}}"#)).starts_with("tour.stops[1].caption: 2001 bytes is out of range"));
        assert!(stop(r#"{"step":"a","rules":"best"}"#).starts_with("tour.stops[1].rules: \"best\" is out of range"));
        assert!(stop(r#"{"step":"a","policies":{"q99":"x"}}"#).starts_with("tour.stops[1].policies.q99: unknown field"));
        assert!(stop(r#"{"step":"a","filters":["msrp-200","loud"]}"#).starts_with("tour.stops[1].filters[1]: \"loud\" is out of range"));
        assert!(stop(r#"{"step":"a","compare":"yes"}"#).starts_with("tour.stops[1].compare: expected true or false"));
        assert!(stop(r#"{"step":"a","highlight":{"panel":"store","arrow":true}}"#).starts_with("tour.stops[1].highlight: needs exactly one of"));
        assert!(stop(r#"{"step":"a","highlight":{"glow":1}}"#).starts_with("tour.stops[1].highlight.glow: unknown field"));
        assert!(stop(r#"{"step":"a","highlight":{"sentence":"case9"}}"#).starts_with("tour.stops[1].highlight.sentence: \"case9\" is out of range"));
        assert!(stop(r#"{"step":"a","go":1}"#).starts_with("tour.stops[1].go: unknown field"));
        let many = vec![r#"{"step":"a"}"#; MAX_STOPS + 1].join(",");
        assert!(tour(&format!(r#"{{"stops":[{many}]}}"#)).starts_with("tour.stops: 201 stops is out of range"));
    }
}
