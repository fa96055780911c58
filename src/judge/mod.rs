//! The judge: does a real PF's capture conform to §8.3.2.9 (issue 14, "Bring your own PF")?
//!
//! 1. The capture is read ([`crate::capture`]) and the roles found (Carol's side, her PF, the
//!    CF, the S-CSCF; [`crate::capture::roles`]) or taken from `--pf`.
//! 2. What reached the PF is rebuilt as a timeline ([`rebuild`]): Carol's BYE and its Reason,
//!    her chats and re-join, the focus's chats, NOTIFYs and BYE, the 3rd-party REGISTER and the
//!    PF's reaction time, rejections of its INVITE.
//! 3. The model runs that timeline (the engine's PF, the oracle) and what the real PF sent is
//!    compared with what the model's PF sent, towards the focus and towards Carol's side
//!    separately, in order, by kind and content ([`action`]); ids, tags and latencies are not
//!    compared. A message the model sent but which never arrived may be missing (a capture taken
//!    away from the PF cannot show it).
//! 4. What no message shows — Carol's device vanishing, her MSRP connection failing — is
//!    searched for ([`hidden`]): the judge adds the event that best explains the PF's next
//!    action, as a linearizability checker searches orders.
//! 5. Where the CR is open, every policy option is tried ([`policies`]): the options consistent
//!    with what the PF did are reported per policy.
//! 6. Each sentence of the amended §8.3.2.9 (the ids of the CR panel, `www/cr-text.js`, and of
//!    docs/clause-index.md) gets a verdict: pass, fail, not exercised or inconclusive
//!    ([`verdict`]); a fail names its first deviation (time, frame, expected, observed).

pub mod action;
mod hidden;
mod policies;
pub mod rebuild;
mod report;
mod verdict;

pub use report::{to_json, to_text};
pub use verdict::{ClauseVerdict, Deviation, Verdict};

use crate::capture::roles::{self, Node, Roles, RolesError};
use crate::capture::{CaptureError, Stats};
use crate::scenario::{Scenario, ScenarioError};
use crate::trace::Rules;
use std::collections::BTreeMap;
use std::fmt;

/// Why a capture cannot be judged (the CLI's exit status 2).
#[derive(Debug)]
pub enum JudgeError {
    /// The file is not a capture the reader can use.
    Capture(CaptureError),
    /// The capture holds no SIP or MSRP message the reader could use.
    NoMessages(Stats),
    /// The PF (or the roles) cannot be told from the capture.
    Roles(RolesError),
    /// No node of the capture can be told to be the focus the PF works with.
    NoGroupSession {
        /// The PF found.
        pf: Node,
    },
    /// The timeline rebuilt from the capture is not one the model can run.
    Timeline(ScenarioError),
}

impl fmt::Display for JudgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JudgeError::Capture(e) => write!(f, "cannot read the capture: {e}"),
            JudgeError::NoMessages(s) => write!(f, "the capture holds no SIP or MSRP message ({} frames read); is it the PF's traffic?", s.frames),
            JudgeError::Roles(e) => write!(f, "cannot tell the PF: {e}"),
            JudgeError::NoGroupSession { pf } => {
                write!(f, "cannot tell the focus (CF) the PF ({pf}) works with: no request of the PF's names a conference, no Contact has isfocus and no peer fans out the chats of several members; give --cf IP[:PORT] (or --pf, if another node is the PF)")
            }
            JudgeError::Timeline(e) => write!(f, "the timeline rebuilt from the capture cannot be run: {e}"),
        }
    }
}

impl std::error::Error for JudgeError {}

/// What the judge is asked.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The PF, when the user names it (`--pf IP[:PORT]`).
    pub pf: Option<Node>,
    /// The CF (the group's focus), when the user names it (`--cf IP[:PORT]`).
    pub cf: Option<Node>,
    /// The rules to judge against (the amended text by default).
    pub rules: Rules,
}

impl Default for Options {
    fn default() -> Self {
        Options { pf: None, cf: None, rules: Rules::PostCr }
    }
}

/// The judgement of one capture.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// pass, fail or inconclusive.
    pub verdict: Verdict,
    /// The rules judged against.
    pub rules: Rules,
    /// Who is who.
    pub roles: Roles,
    /// One verdict per sentence of §8.3.2.9.
    pub clauses: Vec<ClauseVerdict>,
    /// The first deviation on each side (towards the focus, towards Carol), at most two.
    pub deviations: Vec<Deviation>,
    /// Per open question: the options consistent with what the PF did.
    pub policies: BTreeMap<&'static str, Vec<&'static str>>,
    /// The rebuilt timeline as a scenario file ("make this a scenario").
    pub scenario_json: String,
    /// Events the judge inferred from what no message shows.
    pub inferred: Vec<String>,
    /// How much of the capture was used.
    pub messages: usize,
    /// The PF's messages compared.
    pub pf_messages: usize,
    /// The reader's statistics (what it skipped, and why).
    pub stats: Stats,
}

/// Judges a capture held in memory.
pub fn judge(bytes: &[u8], opts: Options) -> Result<Judgement, JudgeError> {
    let (msgs, stats, err) = crate::capture::read_all(bytes);
    if let Some(e) = err {
        if msgs.is_empty() || !matches!(e, CaptureError::Truncated { .. }) {
            return Err(JudgeError::Capture(e));
        }
    }
    if msgs.is_empty() {
        return Err(JudgeError::NoMessages(stats));
    }
    let mut roles = match (roles::find(&msgs, opts.pf), opts.pf, opts.cf) {
        (Ok(r), ..) => r,
        // Both named: a capture of MSRP alone (no SIP) can still be judged.
        (Err(_), Some(pf), Some(_)) => Roles {
            pf,
            cf: None,
            carol: None,
            scscf: None,
            conference_uri: None,
            carol_aor: None,
            evidence: vec![roles::Evidence { role: roles::Role::Pf, frame: 0, why: "given with --pf".into() }],
        },
        (Err(e), ..) => return Err(JudgeError::Roles(e)),
    };
    if let Some(cf) = opts.cf {
        roles.cf = Some(cf);
        roles.evidence.push(roles::Evidence { role: roles::Role::Cf, frame: 0, why: "given with --cf".into() });
    }
    if roles.cf.is_none() {
        focus_from_contact(&msgs, &mut roles);
    }
    if roles.cf.is_none() {
        return Err(JudgeError::NoGroupSession { pf: roles.pf });
    }
    let observed = rebuild::observe(&msgs, &roles);
    let best = policies::search(&observed, opts.rules)?;
    let v = verdict::judge(&observed, &best.run, best.run_trace_end);
    Ok(Judgement {
        verdict: v.verdict,
        rules: opts.rules,
        roles,
        clauses: v.clauses,
        deviations: v.deviations,
        policies: best.consistent,
        scenario_json: best.scenario_json,
        inferred: best.inferred,
        messages: msgs.len(),
        pf_messages: observed.actions.len(),
        stats,
    })
}

/// The CF when the PF never relayed a request to it (it declined the focus's INVITE, say):
/// the node that sent the PF a request whose Contact carries `isfocus` (RFC 4579 §4.2).
fn focus_from_contact(msgs: &[crate::capture::CapturedMessage], roles: &mut Roles) {
    use crate::capture::WireMessage;
    let found = msgs.iter().find(|m| {
        roles.pf.matches(m.dst)
            && matches!(&m.message, WireMessage::Sip(s) if matches!(s.start, crate::wire::sip::StartLine::Request { .. }) && s.header("Contact").is_some_and(|c| c.contains("isfocus")))
    });
    if let Some(m) = found {
        roles.cf = Some(Node { ip: m.src.ip(), port: roles.pf.port.map(|_| m.src.port()) });
        roles.evidence.push(roles::Evidence {
            role: roles::Role::Cf,
            frame: m.frame,
            why: "sends the PF a request with a Contact that has isfocus (RFC 4579 §4.2, inference)".into(),
        });
        return;
    }
    // Else the focus fans out: of the PF's MSRP peers, the one whose chats come from the most
    // senders other than Carol (CPIM From, RFC 3862 §3.2), when one has more than every other.
    let carol = roles.carol_aor.as_deref().and_then(action::user_of);
    let mut senders: BTreeMap<std::net::IpAddr, (std::collections::BTreeSet<String>, u64)> = BTreeMap::new();
    for m in msgs.iter().filter(|m| roles.pf.matches(m.dst)) {
        if let WireMessage::Msrp(x) = &m.message {
            if let Some(u) = x.body.as_deref().and_then(action::cpim_from_user).filter(|u| Some(u) != carol.as_ref()) {
                let e = senders.entry(m.src.ip()).or_insert_with(|| (Default::default(), m.frame));
                e.0.insert(u);
            }
        }
    }
    let mut by: Vec<(usize, std::net::IpAddr, u64)> = senders.into_iter().map(|(ip, (u, f))| (u.len(), ip, f)).collect();
    by.sort_by_key(|b| std::cmp::Reverse(b.0));
    if let [first, rest @ ..] = by.as_slice() {
        // With Carol's identity known (the 3rd-party REGISTER), one other sender is enough.
        let enough = if carol.is_some() { 1 } else { 2 };
        if first.0 >= enough && rest.iter().all(|r| r.0 < first.0) {
            roles.cf = Some(Node { ip: first.1, port: None });
            let why = format!("sends the PF chats from {} different senders: it fans the group's messages out (inference)", first.0);
            roles.evidence.push(roles::Evidence { role: roles::Role::Cf, frame: first.2, why });
        }
    }
}

/// The model's run of a rebuilt timeline.
pub(crate) fn run_model(json: &str, rules: Rules) -> Result<(Scenario, crate::trace::Trace), JudgeError> {
    let sc = Scenario::from_json(json).map_err(JudgeError::Timeline)?;
    let t = crate::world::simulate(&sc, rules, true);
    Ok((sc, t))
}
