//! Where the CR is open, which readings fit what the PF did: every option of every policy is
//! tried against the capture (issue 14, "Policies").

use super::hidden::{explain, run, Explained};
use super::rebuild::{Observed, IMS_CORE, IMS_CORE_OPTIONS};
use super::verdict::compare;
use super::JudgeError;
use crate::policy::{PolicyId, ALL};
use crate::trace::{Rules, Trace};
use std::collections::BTreeMap;

/// Rounds of the policy and hidden-event search.
const ROUNDS: usize = 3;

/// Events beyond which the search is cut short (no rounds, one hidden event).
pub const LARGE: usize = 2_000;

/// The best explanation found.
pub struct Best {
    /// The model's run under the chosen options.
    pub run: Trace,
    /// The capture's end (ms).
    pub run_trace_end: u64,
    /// Per policy id: the options consistent with the capture.
    pub consistent: BTreeMap<&'static str, Vec<&'static str>>,
    /// The scenario file of the best run.
    pub scenario_json: String,
    /// The hidden events inferred, in words.
    pub inferred: Vec<String>,
    /// The model PF's state at each message of the capture.
    pub states: Vec<(usize, crate::trace::PfState)>,
    /// How well it explains the capture (`verdict::score`).
    pub score: (usize, usize, u64),
}

fn deviations(o: &Observed, t: &Trace) -> usize {
    compare(o, t).iter().filter(|s| s.deviation.is_some()).count()
}

fn with(chosen: &BTreeMap<PolicyId, &'static str>, ims: &'static str, p: PolicyId, opt: &'static str) -> Vec<(String, String)> {
    ALL.iter()
        .map(|q| {
            let v = if *q == p { opt } else { chosen[q] };
            (q.id().to_string(), v.to_string())
        })
        .chain(std::iter::once((IMS_CORE.to_string(), ims.to_string())))
        .collect()
}

/// The `ims_core` a run was made with.
fn ims_of(pols: &[(String, String)], or: &'static str) -> &'static str {
    pols.iter().find(|(k, _)| k == IMS_CORE).and_then(|(_, v)| IMS_CORE_OPTIONS.iter().copied().find(|o| o == v)).unwrap_or(or)
}

/// Takes the options a run was made with.
fn adopt(chosen: &mut BTreeMap<PolicyId, &'static str>, pols: &[(String, String)]) {
    for (k, v) in pols {
        if let Some(p) = PolicyId::from_id(k) {
            if let Some(opt) = p.info().options.iter().copied().find(|o| o == v) {
                chosen.insert(p, opt);
            }
        }
    }
}

/// Finds hidden events and policy options that explain the capture best. A capture that
/// begins with Carol's INVITE is read as her session's set-up (`full`) and also as a re-join on
/// a session established before the capture (the PF's answer tells them apart: a PF that
/// already holds her session answers a re-join, e.g. by ending the old dialog); the reading
/// that explains more is kept, the set-up's on a tie, and named under `inferred`.
pub fn search(o: &Observed, rules: Rules) -> Result<Best, JudgeError> {
    let best = search_with(o, rules)?;
    let first_invite = o.feed.iter().find(|f| !f.from_pf && matches!(&f.msg.message, crate::capture::WireMessage::Sip(s) if s.method() == Some("INVITE")));
    let (true, Some(f)) = (o.setup == "full" && best.score.1 < 2, first_invite) else { return Ok(best) };
    let mut alt = o.clone();
    alt.setup = "established";
    alt.events
        .insert(0, super::rebuild::Event { at_ms: f.at_ms, json: "\"kind\":\"rejoin\"".into(), frame: f.msg.frame, what: "Carol's re-join INVITE".into() });
    let other = search_with(&alt, rules)?;
    if other.score > best.score {
        let mut other = other;
        other.inferred.push(
            "the capture begins with Carol's re-join on a session established before it (the PF answers it as one), not with her session's set-up (inference)"
                .into(),
        );
        return Ok(other);
    }
    Ok(best)
}

fn search_with(o: &Observed, rules: Rules) -> Result<Best, JudgeError> {
    let mut chosen: BTreeMap<PolicyId, &'static str> = ALL.iter().map(|p| (*p, p.info().default)).collect();
    let mut ims = o.ims_core;
    let defaults = with(&chosen, ims, ALL[0], chosen[&ALL[0]]);
    // A large capture gets a shorter search (each try is a run of its whole timeline).
    let large = o.events.len() > LARGE;
    let mut best: Explained = explain(o, &defaults, rules, if large { 1 } else { super::hidden::MAX_HIDDEN })?;
    adopt(&mut chosen, &best.policies);
    ims = ims_of(&best.policies, ims);
    // Rounds of: each policy takes the option that explains the most, then the hidden events
    // are searched again under those options (a reading of an open question can explain what
    // looked like a hidden event, and the other way round).
    for _ in 0..if large { 0 } else { ROUNDS } {
        if deviations(o, &best.trace) == 0 {
            break;
        }
        let before = best.score;
        // How the IMS core answers for an unreachable Carol is the network's, not the PF's:
        // searched like a policy, reported as an inference.
        for alt in IMS_CORE_OPTIONS {
            if alt != ims {
                let r = run(o, &best.extra, &with(&chosen, alt, ALL[0], chosen[&ALL[0]]), rules)?;
                if r.score > best.score {
                    ims = alt;
                    best = r;
                }
            }
        }
        for p in ALL {
            for opt in p.info().options.iter().copied() {
                if opt == chosen[&p] {
                    continue;
                }
                // Without the hidden events found so far, and with them.
                for extra in [&[][..], &best.extra.clone()[..]] {
                    let r = run(o, extra, &with(&chosen, ims, p, opt), rules)?;
                    if r.score > best.score {
                        chosen.insert(p, opt);
                        best = r;
                    }
                }
            }
        }
        let again = explain(o, &with(&chosen, ims, ALL[0], chosen[&ALL[0]]), rules, super::hidden::MAX_HIDDEN)?;
        if again.score > best.score {
            adopt(&mut chosen, &again.policies);
            ims = ims_of(&again.policies, ims);
            best = again;
        }
        if best.score == before {
            break;
        }
    }
    // Which options are consistent, the others at their chosen value.
    let best_devs = deviations(o, &best.trace);
    let mut consistent = BTreeMap::new();
    for p in ALL {
        let mut ok = Vec::new();
        for opt in p.info().options.iter().copied() {
            let fits = if opt == chosen[&p] {
                true
            } else if large {
                false
            } else {
                let r = run(o, &best.extra, &with(&chosen, ims, p, opt), rules)?;
                if best_devs == 0 {
                    deviations(o, &r.trace) == 0
                } else {
                    r.score >= best.score
                }
            };
            if fits {
                ok.push(opt);
            }
        }
        consistent.insert(p.id(), ok);
    }
    let mut inferred: Vec<String> = best.extra.iter().map(|e| e.what.clone()).collect();
    if let Some((t, reason)) = o.subscription_refused {
        inferred.push(format!(
            "the focus refuses the PF's conference subscription ({reason}) from {t} ms on, as its first refusal in the capture shows (the scenario's subscription_refused_ms, Q18; the focus's behaviour, not the PF's)"
        ));
    }
    if ims != "answers-408" {
        inferred.push(format!("the IMS core towards an unreachable Carol: {ims} (the scenario's ims_core; not the PF's behaviour)"));
    }
    if large {
        inferred.push(format!(
            "a large capture ({} events): the policy options were not searched; each policy lists only the option the model ran with",
            o.events.len()
        ));
    }
    // "Make this a scenario": the rebuilt timeline must be a scenario the model can run.
    crate::scenario::Scenario::from_json(&best.json).map_err(JudgeError::Timeline)?;
    Ok(Best { run: best.trace, run_trace_end: o.end_ms, consistent, scenario_json: best.json, inferred, states: best.states, score: best.score })
}
