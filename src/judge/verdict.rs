//! Comparing what the real PF sent with what the model's PF sent, and a verdict per sentence
//! of §8.3.2.9.

use super::action::{msrp_key, sip_key, Action, Side};
use super::rebuild::Observed;
use crate::trace::{PfState, Protocol, StepKind, Trace};
use crate::wire::sip::SipMessage;

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every exercised sentence holds and nothing is left open.
    Pass,
    /// At least one deviation.
    Fail,
    /// No deviation, but the capture does not show enough to tell (or ends too soon); or it shows
    /// what the judge's model does not reach (`Judgement::not_judged`), deviations or not.
    Inconclusive,
}

impl Verdict {
    /// `pass`, `fail` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The verdict on one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseVerdict {
    /// The sentence's id (`cr-case1`, …: docs/clause-index.md, www/cr-text.js).
    pub id: &'static str,
    /// What the sentence says, in a few words.
    pub title: &'static str,
    /// `pass`, `fail`, `not exercised` or `inconclusive`.
    pub verdict: &'static str,
    /// Why, in one sentence.
    pub why: String,
}

/// The first point where the real PF did something the model does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The sentence it breaks (an id of [`CLAUSES`], or `outside` for behaviour §8.3.2.9
    /// does not govern, e.g. relaying while Carol is connected).
    pub clause: &'static str,
    /// Towards the focus or Carol's side.
    pub side: Side,
    /// Capture time, ms from the rebuilt timeline's t = 0.
    pub at_ms: u64,
    /// The capture frame of the PF's message (0 when the PF sent nothing where one was due).
    pub frame: u64,
    /// What the model's PF sends there.
    pub expected: String,
    /// What the real PF sent there.
    pub observed: String,
    /// The step of the model's run (the expected ladder) where it deviates: the message the
    /// model's PF sends there, or its last message before when it sends nothing more.
    pub expected_step: Option<u32>,
    /// The step of the observed ladder (the capture's messages in order, one step each) where
    /// it deviates: the real PF's message, or the last message before the time when it sent
    /// nothing (set by [`super::judge`]).
    pub observed_step: Option<u32>,
    /// The citations on the model PF's step there (the clause or RFC section its decision
    /// cites, e.g. `8.3.2.9`, `RFC 4975 §7.1.1`, `policy:q19-dialog-on-msrp-loss`).
    pub cites: Vec<&'static str>,
}

/// The sentences of the amended §8.3.2.9, in the CR's order: (id, title).
pub const CLAUSES: [(&str, &str); 13] = [
    ("cr-bye", "a client BYE is handled as in 8.2.2.3"),
    ("cr-remain", "remain in the media path and store all further messages"),
    ("cr-case1", "case 1: BYE with Reason protocol SIP, cause other than 200"),
    ("cr-case2", "case 2: timeout of the INVITE sent to the user"),
    ("cr-case3", "case 3: MSRP set-up fails or the connection is lost"),
    ("cr-note", "Editor's Note: when a connection counts as lost"),
    ("cr-subscribe", "subscribe to the focus for the latest Participant Information"),
    ("cr-two-ways", "deferred delivery is triggered in two ways"),
    ("cr-path-a", "path A: the PF invites the client upon the 3rd-party REGISTER"),
    ("cr-path-b", "path B: the client re-joins before the PF reacts"),
    ("cr-no-invite", "path B: no INVITE to the client for the deferred delivery"),
    ("cr-use-rejoin", "path B: the re-join's session is used for the delivery"),
    ("cr-msrp", "the deferred delivery is performed over MSRP"),
];

/// The sentences about MSRP alone: "not exercised" by a capture that holds no MSRP.
const MSRP_ONLY: [&str; 3] = ["cr-msrp", "cr-case3", "cr-note"];

/// One message of the model's PF, with what the verdict needs.
#[derive(Debug, Clone)]
pub struct ModelAction {
    /// The action.
    pub action: Action,
    /// The PF's state at the step.
    pub state: PfState,
}

/// The model's PF messages, reduced like the capture's.
pub fn model_actions(t: &Trace) -> Vec<ModelAction> {
    let mut out = Vec::new();
    for s in &t.steps {
        if &*s.from != "carol-pf" || s.kind != StepKind::Message || s.raw.is_empty() {
            continue;
        }
        let key = match s.protocol {
            Protocol::SIP => SipMessage::parse(&s.raw).ok().and_then(|m| sip_key(&m)),
            Protocol::MSRP => crate::wire::msrp::parse(&s.raw).ok().and_then(|m| msrp_key(&m)),
            Protocol::None => None,
        };
        let Some(key) = key else { continue };
        let side = if &*s.to == "cf" { Side::Focus } else { Side::Client };
        out.push(ModelAction { action: Action { side, key, at_ms: s.at_ms, frame: u64::from(s.index), dropped: s.dropped }, state: s.pf_state });
    }
    out
}

/// The result of comparing one side.
#[derive(Debug, Clone)]
pub struct SideResult {
    /// The model's actions on this side, in order.
    pub model: Vec<ModelAction>,
    /// How many of them were checked (matched, or skipped as dropped) before the comparison
    /// stopped.
    pub checked: usize,
    /// How many real messages matched.
    pub matched: usize,
    /// The first deviation.
    pub deviation: Option<Deviation>,
}

/// Compares one side: the model's messages against the real ones, in order.
pub fn compare_side(side: Side, model: Vec<ModelAction>, observed: &[Action], end_ms: u64) -> SideResult {
    let obs: Vec<&Action> = observed.iter().filter(|a| a.side == side).collect();
    let mut used = vec![false; obs.len()];
    let (mut i, mut j, mut matched) = (0usize, 0usize, 0usize);
    let mut deviation = None;
    while i < model.len() {
        while j < obs.len() && used[j] {
            j += 1;
        }
        let e = &model[i];
        // The real PF may send at the same moment in another order (another connection, or
        // the same instant): the expected message counts when it comes within REORDER_MS of
        // the next one not yet matched.
        // Only past messages of the other protocol (another connection) or of the very same
        // millisecond: the order of a PF's messages on one connection is its behaviour.
        let proto = |k: &str| k.split(' ').next().unwrap_or("").to_string();
        let found = obs.get(j).and_then(|o| {
            let k = (j..obs.len()).take_while(|k| obs[*k].at_ms <= o.at_ms + REORDER_MS).find(|k| !used[*k] && obs[*k].key == e.action.key)?;
            let skipped_ok = (j..k).filter(|x| !used[*x]).all(|x| proto(&obs[x].key) != proto(&e.action.key) || obs[x].at_ms == obs[k].at_ms);
            skipped_ok.then_some(k)
        });
        match (found, obs.get(j)) {
            (Some(k), _) => {
                used[k] = true;
                i += 1;
                matched += 1;
            }
            _ if e.action.dropped => i += 1,
            (None, Some(o)) => {
                // A PF that leaves the group where the model stays breaks "remain", whatever
                // the model would have sent there.
                let left = side == Side::Focus && o.key == "SIP BYE";
                // An INVITE to Carol where the model, in a path-B delivery, sends none.
                let invites_on_b = side == Side::Client && o.key.starts_with("SIP INVITE") && model[..=i].iter().any(|m| m.state == PfState::DeliveringB);
                let clause = if left {
                    Some("cr-remain")
                } else if invites_on_b {
                    Some("cr-no-invite")
                } else {
                    clause_of(side, &e.action.key, e.state, true).or_else(|| clause_of(side, &o.key, e.state, false))
                };
                deviation = Some(Deviation {
                    clause: clause.unwrap_or("outside"),
                    side,
                    at_ms: o.at_ms,
                    frame: o.frame,
                    expected: e.action.key.clone(),
                    observed: o.key.clone(),
                    expected_step: step_of(e),
                    observed_step: None,
                    cites: Vec::new(),
                });
                break;
            }
            (None, None) if e.action.at_ms > end_ms => break,
            (None, None) => {
                deviation = Some(Deviation {
                    clause: clause_of(side, &e.action.key, e.state, true).unwrap_or("outside"),
                    side,
                    at_ms: e.action.at_ms,
                    frame: 0,
                    expected: e.action.key.clone(),
                    observed: "nothing (the PF sends no further message this way)".into(),
                    expected_step: step_of(e),
                    observed_step: None,
                    cites: Vec::new(),
                });
                break;
            }
        }
    }
    if deviation.is_none() && i == model.len() {
        if let Some(k) = (0..obs.len()).find(|k| !used[*k]) {
            let o = obs[k];
            let state = model.last().map(|m| m.state).unwrap_or(PfState::Idle);
            deviation = Some(Deviation {
                clause: clause_of(side, &o.key, state, false).unwrap_or("outside"),
                side,
                at_ms: o.at_ms,
                frame: o.frame,
                expected: "nothing more this way".into(),
                observed: o.key.clone(),
                expected_step: model.last().and_then(step_of),
                observed_step: None,
                cites: Vec::new(),
            });
        }
    }
    SideResult { model, checked: i, matched, deviation }
}

/// The model's step index of one of its messages (`Action::frame` holds it, [`model_actions`]).
fn step_of(m: &ModelAction) -> Option<u32> {
    u32::try_from(m.action.frame).ok()
}

/// How far apart (ms) two messages of the PF may be and still be compared in either order.
pub const REORDER_MS: u64 = 20;

fn delivering(s: PfState) -> bool {
    matches!(s, PfState::Replaying | PfState::DeliveringA | PfState::DeliveringB)
}

/// The sentence a PF message belongs to; `expected` says whether the model sends it (else it
/// is one the real PF sent).
fn clause_of(side: Side, key: &str, state: PfState, expected: bool) -> Option<&'static str> {
    let key = key.strip_suffix(super::action::WITH_INFO).unwrap_or(key);
    Some(match (side, key) {
        (Side::Focus, "SIP BYE") if expected => "cr-bye",
        (Side::Focus, "SIP BYE") => "cr-remain",
        (Side::Focus, "SIP SUBSCRIBE") => "cr-subscribe",
        (Side::Focus, "MSRP 200") if !matches!(state, PfState::Active) => "cr-remain",
        // Case 2 on the focus's invitation: the PF answers it itself and stays (inference:
        // the CR does not say how the PF joins for a user who never answered).
        (Side::Focus, "SIP 200 (INVITE)") if expected && matches!(state, PfState::Inviting | PfState::Deferred) => "cr-remain",
        (Side::Focus, k)
            if !expected
                && k.starts_with("SIP ")
                && k.ends_with("(INVITE)")
                && !k.starts_with("SIP 200")
                && matches!(state, PfState::Inviting | PfState::Deferred) =>
        {
            "cr-remain"
        }
        (Side::Client, "SIP INVITE") if !expected && matches!(state, PfState::DeliveringB | PfState::Replaying) => "cr-no-invite",
        (Side::Client, "SIP INVITE") | (Side::Client, "SIP 200 (REGISTER)") => "cr-path-a",
        (Side::Client, "SIP 200 (INVITE)") if state == PfState::DeliveringB => "cr-use-rejoin",
        (Side::Client, "SIP NOTIFY") => "cr-subscribe",
        (Side::Client, "SIP 200 (BYE)") => "cr-bye",
        (Side::Client, k) if k.starts_with("MSRP SEND") && delivering(state) => "cr-msrp",
        _ => return None,
    })
}

/// The case (1, 2, 3) of each deferral the model entered: (step time, case).
fn deferrals(t: &Trace) -> Vec<(u64, u8)> {
    t.steps
        .iter()
        .filter(|s| &*s.from == "carol-pf" && s.kind == StepKind::State && s.pf_state == PfState::Deferred && s.label == "Deferred")
        .map(|s| {
            let case = ["Case 1", "Case 2", "Case 3"].iter().position(|c| s.note.contains(c)).map(|i| i as u8 + 1).unwrap_or(0);
            (s.at_ms, case)
        })
        .collect()
}

/// The verdicts.
pub struct Outcome {
    /// Overall.
    pub verdict: Verdict,
    /// Per sentence.
    pub clauses: Vec<ClauseVerdict>,
    /// At most one per side.
    pub deviations: Vec<Deviation>,
}

/// Judges the observed PF against the model's run `t` of the rebuilt timeline.
pub fn judge(o: &Observed, t: &Trace, _end: u64) -> Outcome {
    let sides = compare(o, t);
    let defs = deferrals(t);
    let mut deviations: Vec<Deviation> = sides.iter().filter_map(|s| s.deviation.clone()).collect();
    for d in &mut deviations {
        if let Some(step) = d.expected_step.and_then(|i| t.steps.get(i as usize)) {
            d.cites = step.clauses.to_vec();
        }
    }
    // Where each side's comparison stopped, in model time (u64::MAX: it went to the end).
    let stop_of = |s: &SideResult| if s.checked < s.model.len() { s.model[s.checked].action.at_ms } else { u64::MAX };
    let stop_all = sides.iter().map(stop_of).min().unwrap_or(u64::MAX);
    // Model messages of each sentence: (time, checked).
    let mut seen: Vec<(&'static str, u64, bool)> = Vec::new();
    for s in &sides {
        for (k, m) in s.model.iter().enumerate() {
            if let Some(c) = clause_of(m.action.side, &m.action.key, m.state, true) {
                seen.push((c, m.action.at_ms, k < s.checked));
            }
        }
    }
    for (at, case) in &defs {
        let ok = *at < stop_all;
        seen.push(("cr-remain", *at, ok));
        match case {
            1 => seen.push(("cr-case1", *at, ok)),
            2 => seen.push(("cr-case2", *at, ok)),
            3 => {
                seen.push(("cr-case3", *at, ok));
                seen.push(("cr-note", *at, ok));
            }
            _ => {}
        }
    }
    for s in &t.steps {
        if &*s.from == "carol-pf" && s.kind == StepKind::State {
            let c = match s.pf_state {
                PfState::DeliveringA => "cr-path-a",
                PfState::DeliveringB => "cr-path-b",
                PfState::Replaying => "cr-msrp",
                _ => continue,
            };
            seen.push((c, s.at_ms, s.at_ms < stop_all));
            if s.pf_state == PfState::DeliveringB {
                seen.push(("cr-no-invite", s.at_ms, s.at_ms < stop_all));
                seen.push(("cr-use-rejoin", s.at_ms, s.at_ms < stop_all));
            }
            if s.pf_state != PfState::Replaying {
                seen.push(("cr-two-ways", s.at_ms, s.at_ms < stop_all));
            }
        }
    }
    // The case behind a deviation on remaining or subscribing: the deferral it happened in.
    let mut failed: Vec<(&'static str, &Deviation)> = Vec::new();
    for d in &deviations {
        failed.push((d.clause, d));
        if matches!(d.clause, "cr-remain" | "cr-subscribe") {
            if let Some((_, case)) = defs.iter().rev().find(|(at, _)| *at <= d.at_ms.saturating_add(1_000)).or(defs.first()) {
                let c = match case {
                    1 => "cr-case1",
                    2 => "cr-case2",
                    3 => "cr-case3",
                    _ => continue,
                };
                failed.push((c, d));
            }
        }
        if matches!(d.clause, "cr-path-a" | "cr-path-b" | "cr-no-invite" | "cr-use-rejoin") {
            failed.push(("cr-two-ways", d));
        }
    }
    let clauses: Vec<ClauseVerdict> = CLAUSES
        .iter()
        .map(|(id, title)| {
            if let Some((_, d)) = failed.iter().find(|(c, _)| c == id) {
                let frame = if d.frame > 0 { format!("frame {}", d.frame) } else { "no frame".into() };
                return ClauseVerdict {
                    id,
                    title,
                    verdict: "fail",
                    why: format!("at {} ms ({frame}) the model's PF sends {}, the real PF {}", d.at_ms, d.expected, d.observed),
                };
            }
            // A capture of SIP alone (a SIP test tool's, say) cannot show MSRP: the sentences
            // about MSRP are not exercised by it, whatever the model's PF would do there.
            if !o.msrp && MSRP_ONLY.contains(id) {
                return ClauseVerdict {
                    id,
                    title,
                    verdict: "not exercised",
                    why: "the capture holds no MSRP (SIP only): the delivery over MSRP cannot be judged from it".into(),
                };
            }
            let mine: Vec<&(&str, u64, bool)> = seen.iter().filter(|(c, ..)| c == id).collect();
            if mine.is_empty() {
                return ClauseVerdict { id, title, verdict: "not exercised", why: "nothing in the capture calls for it".into() };
            }
            if mine.iter().all(|(_, _, ok)| *ok) {
                return ClauseVerdict { id, title, verdict: "pass", why: format!("{} message(s) or decision(s) of the model's PF matched", mine.len()) };
            }
            // With no deviation anywhere, what is still due after the capture's last message is
            // beyond it (the capture ends there), not against the sentence: it holds for what
            // the capture shows when that is at least one message or decision.
            let (before, after): (Vec<&&(&str, u64, bool)>, Vec<_>) = mine.iter().partition(|(_, at, _)| *at <= o.end_ms);
            if deviations.is_empty() && !before.is_empty() && before.iter().all(|(_, _, ok)| *ok) && after.iter().all(|(_, at, _)| *at > o.end_ms) {
                return ClauseVerdict {
                    id,
                    title,
                    verdict: "pass",
                    why: format!("{} message(s) or decision(s) of the model's PF matched; {} more due after the capture ends", before.len(), after.len()),
                };
            }
            ClauseVerdict {
                id,
                title,
                verdict: "inconclusive",
                why: "the comparison stopped (an earlier deviation, or the capture ends) before the PF's messages for it".into(),
            }
        })
        .collect();
    let verdict = if !deviations.is_empty() {
        Verdict::Fail
    } else if clauses.iter().any(|c| c.verdict == "inconclusive") || clauses.iter().all(|c| c.verdict == "not exercised") {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    Outcome { verdict, clauses, deviations }
}

/// Both sides compared.
pub fn compare(o: &Observed, t: &Trace) -> Vec<SideResult> {
    let all = model_actions(t);
    [Side::Focus, Side::Client]
        .into_iter()
        .map(|side| compare_side(side, all.iter().filter(|m| m.action.side == side).cloned().collect(), &o.actions, o.end_ms))
        .collect()
}

/// How well a run explains the capture: real messages matched, then fewer deviations, then
/// a later first deviation.
pub fn score(o: &Observed, t: &Trace) -> (usize, usize, u64) {
    let sides = compare(o, t);
    let matched = sides.iter().map(|s| s.matched).sum();
    let devs = sides.iter().filter(|s| s.deviation.is_some()).count();
    let first = sides.iter().filter_map(|s| s.deviation.as_ref().map(|d| d.at_ms)).min().unwrap_or(u64::MAX);
    (matched, 2 - devs, first)
}
