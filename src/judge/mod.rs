//! The judge: does a real PF's capture conform to §8.3.2.9 (issue 14, "Bring your own PF")?
//!
//! 1. The capture is read ([`crate::capture`]) and the roles found (Carol's side, her PF, the
//!    CF, the S-CSCF; [`crate::capture::roles`]) or taken from `--pf`.
//! 2. What reached the PF is rebuilt as a timeline ([`rebuild`]): Carol's BYE and its Reason,
//!    her chats and re-join, the focus's chats, NOTIFYs and BYE, the 3rd-party REGISTER and the
//!    PF's reaction time, rejections of its INVITE.
//! 3. The oracle runs in lockstep with the capture ([`lockstep`]): the engine's own PF machine
//!    is fed what reached the real PF (its SIP requests and responses, MSRP SENDs, binds and
//!    200s), each at its capture time, its own timers firing in time order in between, the
//!    capture's Call-IDs and transaction ids mapped to its numbering. What the real PF sent is
//!    compared with what the machine emitted, towards the focus and towards Carol's side
//!    separately, in order, by kind and content ([`action`]); ids, tags and latencies are not
//!    compared. A message of the machine's towards Carol after which her side sent nothing more
//!    may be missing (a capture taken away from the PF cannot show what never reached her).
//!    The rebuilt timeline stays the "make this a scenario" file.
//! 4. What no message shows and the PF would see — a TCP reset of Carol's MSRP connection — is
//!    searched for ([`hidden`]): the judge adds the reset that best explains the PF's next
//!    action, as a linearizability checker searches orders.
//! 5. Where the CR is open, every policy option is tried ([`policies`]): the options consistent
//!    with what the PF did are reported per policy.
//! 6. Each sentence of the amended §8.3.2.9 (the ids of the CR panel, `www/cr-text.js`, and of
//!    docs/clause-index.md) gets a verdict: pass, fail, not exercised or inconclusive
//!    ([`verdict`]); a fail names its first deviation (time, frame, expected, observed).

pub mod action;
mod hidden;
pub mod ladders;
mod limits;
mod lockstep;
mod policies;
pub mod rebuild;
mod report;
mod stream;
mod verdict;

pub use report::{to_json, to_json_with_ladders, to_text};
pub use stream::{judge_reader, CaptureJudge, MAX_JUDGED};
pub use verdict::{ClauseVerdict, Deviation, Verdict};

use crate::capture::roles::{self, Node, Roles, RolesError};
use crate::capture::{CaptureError, Stats};
use crate::scenario::ScenarioError;
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
    /// How much of the capture was used (its IMDNs left out: `without_imdns`).
    pub messages: usize,
    /// The PF's messages compared.
    pub pf_messages: usize,
    /// The reader's statistics (what it skipped, and why).
    pub stats: Stats,
    /// Messages read after the first [`MAX_JUDGED`], not judged (the verdict is then at best
    /// inconclusive: the rest may hold a deviation).
    pub unjudged: u64,
    /// The two ladders of the page's judge panel, when asked for ([`judge_with_ladders`]).
    pub ladders: Option<Box<Ladders>>,
    /// What the capture shows that the judge's model does not reach (Carol with two devices;
    /// deviations only after the first chunk of a chunked MSRP message), one sentence each. When it is not
    /// empty the verdict is inconclusive: the comparison is shown, but it is not a verdict.
    pub not_judged: Vec<String>,
}

/// The observed and the expected ladder (the page's judge panel, issue 14): traces in the
/// trace contract's shape (docs/trace-contract.md); each [`Deviation`] names its step on both
/// (`observed_step`, `expected_step`).
#[derive(Debug, Clone)]
pub struct Ladders {
    /// The capture's messages, one step each, in the capture's order ([`ladders::observed_trace`]).
    pub observed: crate::trace::Trace,
    /// The model's run of the rebuilt timeline under the options found most consistent.
    pub expected: crate::trace::Trace,
}

/// Judges a capture held in memory.
pub fn judge(bytes: &[u8], opts: Options) -> Result<Judgement, JudgeError> {
    judge_inner(bytes, opts, false)
}

/// Judges a capture held in memory and keeps both ladders ([`Judgement::ladders`]).
pub fn judge_with_ladders(bytes: &[u8], opts: Options) -> Result<Judgement, JudgeError> {
    judge_inner(bytes, opts, true)
}

fn judge_inner(bytes: &[u8], opts: Options, want_ladders: bool) -> Result<Judgement, JudgeError> {
    let mut c = CaptureJudge::new();
    c.push(bytes);
    c.finish(opts, want_ladders)
}

/// The capture without its disposition notifications (RFC 5438: MSRP SENDs whose CPIM document
/// carries `message/imdn+xml`) and the responses to them. §8.3.2.9 says nothing of IMDNs, so the
/// judge leaves them out (and the rebuilt timeline has `"imdn": "none"`); what a PF does with
/// them, Q17's `q17-imdn-while-storing` included, is not judged.
fn without_imdns(mut msgs: Vec<crate::capture::CapturedMessage>) -> Vec<crate::capture::CapturedMessage> {
    use crate::capture::WireMessage;
    use crate::wire::msrp::MsrpStart;
    let tids: std::collections::HashSet<String> = msgs
        .iter()
        .filter_map(|m| match &m.message {
            WireMessage::Msrp(x) if matches!(&x.start, MsrpStart::Request(r) if r == "SEND") && x.body.as_deref().is_some_and(action::is_imdn) => {
                Some(x.tid.to_string())
            }
            _ => None,
        })
        .collect();
    if !tids.is_empty() {
        msgs.retain(|m| !matches!(&m.message, WireMessage::Msrp(x) if tids.contains(x.tid.as_ref())));
    }
    msgs
}

/// Judges the messages read (the first [`MAX_JUDGED`]; `unjudged` more were read after them).
fn judge_messages(
    msgs: Vec<crate::capture::CapturedMessage>,
    resets: &[crate::capture::ConnectionEvent],
    stats: Stats,
    err: Option<CaptureError>,
    unjudged: u64,
    opts: Options,
    want_ladders: bool,
) -> Result<Judgement, JudgeError> {
    if let Some(e) = err {
        if msgs.is_empty() || !matches!(e, CaptureError::Truncated { .. }) {
            return Err(JudgeError::Capture(e));
        }
    }
    let msgs = without_imdns(msgs);
    if msgs.is_empty() {
        return Err(JudgeError::NoMessages(stats));
    }
    let mut roles = match (roles::find(&msgs, opts.pf), opts.pf, opts.cf) {
        (Ok(r), ..) => r,
        // Several relays of the conference's requests (the IMS core relays Carol's to her PF,
        // her PF relays them to the focus): the PF is the one that also carries MSRP with two
        // or more peers (MSRP does not traverse the core).
        (Err(RolesError::Ambiguous { candidates }), None, _) => {
            let relays = msrp_relays(&msgs);
            let both: Vec<Node> = candidates.iter().map(|(n, _)| *n).filter(|n| relays.iter().any(|(ip, _)| *ip == n.ip)).collect();
            match both.as_slice() {
                [one] => {
                    let mut r = roles::find(&msgs, Some(*one)).map_err(JudgeError::Roles)?;
                    r.evidence.retain(|e| e.role != roles::Role::Pf);
                    r.evidence.push(roles::Evidence { role: roles::Role::Pf, frame: 0, why: "of the nodes relaying the conference's requests, the one that carries MSRP with two or more peers; the other is a proxy on Carol's path (inference)".to_string() });
                    r
                }
                _ => return Err(JudgeError::Roles(RolesError::Ambiguous { candidates })),
            }
        }
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
    // MSRP does not traverse the IMS core. When the PF was told only by relayed requests (no
    // 3rd-party REGISTER names it) and the node found carries no MSRP, it is a proxy on Carol's
    // path (the IMS core relays her requests to her PF): the PF is then the node that carries
    // MSRP with two or more peers and exchanges SIP with that proxy.
    if opts.pf.is_none() && roles.scscf.is_none() {
        let proxy = roles.pf;
        let carries = msgs.iter().any(|m| matches!(m.message, crate::capture::WireMessage::Msrp(_)) && (proxy.matches(m.src) || proxy.matches(m.dst)));
        let talks = |ip: std::net::IpAddr| {
            msgs.iter().any(|m| {
                matches!(m.message, crate::capture::WireMessage::Sip(_))
                    && ((proxy.matches(m.src) && m.dst.ip() == ip) || (proxy.matches(m.dst) && m.src.ip() == ip))
            })
        };
        let found: Vec<(std::net::IpAddr, u64)> = if carries { Vec::new() } else { msrp_relays(&msgs).into_iter().filter(|(ip, _)| talks(*ip)).collect() };
        if let [(relay, frame)] = found.as_slice() {
            roles.pf = Node { ip: *relay, port: None };
            roles.cf = roles.cf.filter(|c| c.ip != *relay);
            roles.evidence.retain(|e| e.role != roles::Role::Pf && e.role != roles::Role::Cf);
            roles.evidence.push(roles::Evidence {
                role: roles::Role::Pf,
                frame: *frame,
                why: format!("carries MSRP with two or more peers and SIP with {proxy}, which relays the conference's requests but carries no MSRP: {proxy} is a proxy on Carol's path (inference)"),
            });
        }
    }
    // The node that sends the 3rd-party REGISTER is the S-CSCF, on Carol's side: a "focus"
    // found there is the IMS core carrying her dialog (the role finder's guess from a request
    // the PF sent it), not the CF.
    if opts.cf.is_none() && roles.cf.is_some() && roles.cf == roles.scscf {
        roles.cf = None;
        roles.evidence.retain(|e| e.role != roles::Role::Cf);
    }
    if roles.cf.is_none() {
        focus_from_contact(&msgs, &mut roles);
    }
    if roles.cf.is_none() {
        return Err(JudgeError::NoGroupSession { pf: roles.pf });
    }
    let mut observed = rebuild::observe(&msgs, &roles);
    observed.resets = lockstep::resets_seen(&msgs, resets, &roles, observed.t0_ns, observed.end_ms);
    let best = policies::search(&observed, opts.rules)?;
    let mut v = verdict::judge(&observed, &best.run, best.run_trace_end);
    // What was read but not judged may hold a deviation: no "pass" for the whole capture.
    if unjudged > 0 && v.verdict == Verdict::Pass {
        v.verdict = Verdict::Inconclusive;
    }
    let frames: Vec<u64> = v.deviations.iter().map(|d| d.frame).collect();
    let not_judged = limits::of(&msgs, &roles).sentences(&frames);
    if !not_judged.is_empty() {
        v.verdict = Verdict::Inconclusive;
    }
    for d in &mut v.deviations {
        d.observed_step = ladders::observed_step(&msgs, &roles, observed.t0_ns, d.frame, d.at_ms);
    }
    let ladders = want_ladders
        .then(|| Box::new(Ladders { observed: ladders::observed_trace(&msgs, &roles, observed.t0_ns, opts.rules, &best.states), expected: best.run.clone() }));
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
        unjudged,
        ladders,
        not_judged,
    })
}

/// The nodes that exchange MSRP with two or more other nodes, with the first frame of it.
fn msrp_relays(msgs: &[crate::capture::CapturedMessage]) -> Vec<(std::net::IpAddr, u64)> {
    use crate::capture::WireMessage;
    let mut peers: BTreeMap<std::net::IpAddr, (std::collections::BTreeSet<std::net::IpAddr>, u64)> = BTreeMap::new();
    for m in msgs.iter().filter(|m| matches!(m.message, WireMessage::Msrp(_))) {
        for (a, b) in [(m.src.ip(), m.dst.ip()), (m.dst.ip(), m.src.ip())] {
            let e = peers.entry(a).or_insert_with(|| (Default::default(), m.frame));
            if e.0.len() < 16 {
                e.0.insert(b);
            }
        }
    }
    peers.into_iter().filter(|(_, (p, _))| p.len() >= 2).map(|(ip, (_, f))| (ip, f)).collect()
}

/// The CF when the PF never relayed a request to it (it declined the focus's INVITE, say):
/// the node that sent the PF a request whose Contact carries `isfocus` (RFC 4579 §4.2).
fn focus_from_contact(msgs: &[crate::capture::CapturedMessage], roles: &mut Roles) {
    use crate::capture::WireMessage;
    let not_client = |a: std::net::SocketAddr| !roles.scscf.is_some_and(|n| n.matches(a)) && !roles.carol.is_some_and(|n| n.matches(a));
    let found = msgs.iter().find(|m| {
        roles.pf.matches(m.dst)
            && not_client(m.src)
            && matches!(&m.message, WireMessage::Sip(s) if s.method() == Some("INVITE"))
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
    for m in msgs.iter().filter(|m| roles.pf.matches(m.dst) && not_client(m.src)) {
        if let WireMessage::Msrp(x) = &m.message {
            if let Some(u) = x.body.as_deref().and_then(action::cpim_from_user).filter(|u| Some(u) != carol.as_ref()) {
                let e = senders.entry(m.src.ip()).or_insert_with(|| (Default::default(), m.frame));
                e.0.insert(u);
            }
        }
    }
    // Or the PF's one peer that is not on Carol's side (her client, the proxies that carry her
    // requests, any node whose messages come from her identity).
    let carol_user = rebuild::carol_user(msgs, roles);
    let from_carol = |m: &crate::capture::CapturedMessage| match &m.message {
        WireMessage::Sip(s) => matches!(s.start, crate::wire::sip::StartLine::Request { .. }) && s.header("From").and_then(action::user_of) == carol_user,
        WireMessage::Msrp(x) => x.body.as_deref().and_then(action::cpim_from_user).is_some_and(|u| Some(&u) == carol_user.as_ref()),
    };
    if carol_user.is_some() {
        let carol_side: std::collections::BTreeSet<std::net::IpAddr> =
            msgs.iter().filter(|m| roles.pf.matches(m.dst) && from_carol(m)).map(|m| m.src.ip()).collect();
        let mut others: BTreeMap<std::net::IpAddr, u64> = BTreeMap::new();
        for m in msgs {
            let peer = if roles.pf.matches(m.src) {
                m.dst
            } else if roles.pf.matches(m.dst) {
                m.src
            } else {
                continue;
            };
            if not_client(peer) && peer.ip() != roles.pf.ip && !carol_side.contains(&peer.ip()) {
                others.entry(peer.ip()).or_insert(m.frame);
            }
        }
        if others.len() == 1 {
            let (ip, frame) = others.into_iter().next().expect("one");
            roles.cf = Some(Node { ip, port: None });
            roles.evidence.push(roles::Evidence { role: roles::Role::Cf, frame, why: "the PF's one peer besides Carol's side (inference)".into() });
            return;
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
