//! What no message shows: Carol's device vanishing (`unreachable`), her MSRP connection
//! breaking (`msrp_loss`) or failing to open (`msrp_setup_fails`). A capture shows only their
//! effects: requests towards her that nothing answers, or a PF that acts towards her with no
//! message from her side to act on. The judge searches for them as a linearizability checker
//! searches orders: at the first deviation it tries each kind of hidden event at the moments
//! the capture allows (just after Carol's last sign of life, at the PF's unprompted action,
//! at the start) and keeps the one that makes the model explain the most of the capture. Every
//! event kept is reported as an inference.

use super::rebuild::{scenario_json, Event, Observed};
use super::verdict::{compare, score};
use super::JudgeError;
use crate::policy::PolicyId;
use crate::trace::{Rules, Trace};

/// Most hidden events the search adds.
pub const MAX_HIDDEN: usize = 8;

/// A run of the rebuilt timeline with hidden events added.
pub struct Explained {
    /// The events the judge added.
    pub extra: Vec<Event>,
    /// The scenario file of the run.
    pub json: String,
    /// The model's trace.
    pub trace: Trace,
    /// Its score ([`score`]).
    pub score: (usize, usize, u64),
    /// The policy options it ran with.
    pub policies: Vec<(String, String)>,
}

/// The policies that decide how (or whether) the PF notices a hidden event of this kind.
fn noticed_by(json: &str) -> &'static [PolicyId] {
    if json.contains("\"msrp_loss\"") || json.contains("\"unreachable\"") {
        &[PolicyId::MsrpLossDetection, PolicyId::Q19DialogOnMsrpLoss, PolicyId::Q12InFlightAtLoss]
    } else {
        &[]
    }
}

/// Runs the timeline with `extra` events and `policies`.
pub fn run(o: &Observed, extra: &[Event], policies: &[(String, String)], rules: Rules) -> Result<Explained, JudgeError> {
    let json = scenario_json(o, extra, policies, "Rebuilt from a capture");
    let (_, trace) = super::run_model(&json, rules)?;
    let score = score(o, &trace);
    Ok(Explained { extra: extra.to_vec(), json, trace, score, policies: policies.to_vec() })
}

fn hidden(at_ms: u64, kind: &str, what: String) -> Event {
    Event { at_ms, json: format!("\"kind\":\"{kind}\""), frame: 0, what }
}

/// Searches for the hidden events that best explain the capture under `policies`.
pub fn explain(o: &Observed, policies: &[(String, String)], rules: Rules, max_hidden: usize) -> Result<Explained, JudgeError> {
    let mut best = run(o, &[], policies, rules)?;
    let mut policies: Vec<(String, String)> = policies.to_vec();
    for _ in 0..max_hidden {
        let sides = compare(o, &best.trace);
        let Some(d) = sides.iter().filter_map(|s| s.deviation.as_ref()).min_by_key(|d| d.at_ms) else { break };
        // The model's time of the message it expected there, if any.
        let expected_at = sides.iter().filter(|s| s.deviation.as_ref() == Some(d)).find_map(|s| s.model.get(s.checked).map(|m| m.action.at_ms));
        let t = d.at_ms.min(expected_at.unwrap_or(u64::MAX));
        let life = o.client_seen.iter().copied().filter(|x| *x < t).max();
        // And the sign of life before that one: Carol may have vanished between the two (her
        // client comes back with a re-join the PF did not expect).
        let before = life.and_then(|l| o.client_seen.iter().copied().filter(|x| *x < l).max());
        let mut at: Vec<u64> = vec![life.map_or(0, |l| l + 1), t.saturating_sub(1), d.at_ms, 0];
        if let (Some(b), Some(l)) = (before, life) {
            at.extend([b + 1, l.saturating_sub(1)]);
        }
        at.sort_unstable();
        at.dedup();
        let mut candidates = Vec::new();
        for a in at {
            let after = life.map_or("the start".to_string(), |l| format!("{l} ms, Carol's last sign of life"));
            candidates.push(hidden(
                a,
                "unreachable",
                format!("Carol's device became unreachable at {a} ms (no message shows it; inferred: after {after}, before the PF's next action towards her)"),
            ));
            candidates.push(hidden(
                a,
                "msrp_loss",
                format!("Carol's MSRP connection was lost at {a} ms (no message shows it; inferred from what the PF did next)"),
            ));
            candidates.push(hidden(
                a,
                "msrp_setup_fails",
                format!("Carol's next MSRP connection set-up failed (inferred at {a} ms: her side never opened it)"),
            ));
            candidates.push(hidden(
                a,
                "group_ends",
                format!("the group session ended by {a} ms while the PF was not in it (inferred from the focus's answers)"),
            ));
        }
        let mut next: Option<Explained> = None;
        for c in candidates {
            if best.extra.iter().any(|e| e.at_ms == c.at_ms && e.json == c.json) {
                continue;
            }
            // With the policies as they are, and with each option of the policies that decide
            // how the PF notices this kind of event (a hidden loss shows only under the right
            // detector, say).
            let mut tries: Vec<Vec<(String, String)>> = vec![policies.clone()];
            for p in noticed_by(&c.json) {
                for opt in p.info().options.iter().copied() {
                    let mut v = policies.clone();
                    match v.iter_mut().find(|(k, _)| k == p.id()) {
                        Some(kv) if kv.1 != opt => kv.1 = opt.to_string(),
                        Some(_) => continue,
                        None => v.push((p.id().to_string(), opt.to_string())),
                    }
                    tries.push(v);
                }
            }
            for pols in tries {
                let mut extra = best.extra.clone();
                extra.push(c.clone());
                let mut r = run(o, &extra, &pols, rules)?;
                if r.score > next.as_ref().map_or(best.score, |n| n.score) {
                    r.policies = pols;
                    next = Some(r);
                }
            }
        }
        match next {
            Some(n) => {
                policies = n.policies.clone();
                best = n;
            }
            None => break,
        }
    }
    Ok(best)
}
