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
    /// The machine's state at each message of the capture ([`super::lockstep::Run::states`]).
    pub states: Vec<(usize, crate::trace::PfState)>,
}

/// The policies that decide how (or whether) the PF notices a hidden event of this kind.
fn noticed_by(json: &str) -> &'static [PolicyId] {
    if json.contains("\"msrp_loss\"") || json.contains("\"unreachable\"") {
        &[PolicyId::MsrpLossDetection, PolicyId::Q19DialogOnMsrpLoss, PolicyId::Q12InFlightAtLoss]
    } else {
        &[]
    }
}

/// Runs the model's PF in lockstep with the capture ([`super::lockstep`]) with the hidden
/// events `extra` (a TCP reset of Carol's MSRP connection is the one the PF sees; the others
/// show to it only through what the capture holds) under `policies`.
pub fn run(o: &Observed, extra: &[Event], policies: &[(String, String)], rules: Rules) -> Result<Explained, JudgeError> {
    let json = scenario_json(o, extra, policies, "Rebuilt from a capture");
    let resets: Vec<u64> = extra.iter().filter(|e| e.json == "\"kind\":\"msrp_loss\"").map(|e| e.at_ms).collect();
    let r = super::lockstep::run(o, &resets, policies, rules);
    let score = score(o, &r.trace);
    Ok(Explained { extra: extra.to_vec(), json, trace: r.trace, score, policies: policies.to_vec(), states: r.states })
}

fn hidden(at_ms: u64, kind: &str, what: String) -> Event {
    Event { at_ms, json: format!("\"kind\":\"{kind}\""), frame: 0, what }
}

/// Whether a TCP reset of Carol's MSRP connection at `at` fits the capture: a connection was
/// open (her side sent the PF MSRP before it, and no new session was set up since: an INVITE
/// exchange on her side comes before its own bind), and her side sends the PF no MSRP after it
/// on that connection (a 200, a chat) before it binds a new one (RFC 4975 §5.4: an empty SEND
/// opens the next).
fn reset_fits(o: &Observed, at: u64) -> bool {
    use crate::capture::WireMessage;
    use crate::wire::msrp::MsrpStart;
    let carol_side = |f: &&super::lockstep::Fed| f.peer != super::lockstep::Peer::Focus;
    let invite = |f: &super::lockstep::Fed| match &f.msg.message {
        WireMessage::Sip(s) => s.method() == Some("INVITE") || s.header("CSeq").is_some_and(|c| c.ends_with("INVITE")),
        WireMessage::Msrp(_) => false,
    };
    // On a session established before the capture, her connection may predate it.
    let mut open = o.setup == "established";
    for f in o.feed.iter().filter(carol_side).take_while(|f| f.at_ms < at) {
        if !f.from_pf && matches!(f.msg.message, WireMessage::Msrp(_)) {
            open = true;
        } else if invite(f) {
            open = false;
        }
    }
    if !open {
        return false;
    }
    for f in o.feed.iter().filter(|f| !f.from_pf && f.at_ms > at).filter(carol_side) {
        if let WireMessage::Msrp(x) = &f.msg.message {
            return x.body.as_deref().unwrap_or("").is_empty() && matches!(&x.start, MsrpStart::Request(_));
        }
    }
    true
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
        // Where Carol's side fell silent: just before the first messages of the model's PF
        // towards her that the capture may not show (a loss the PF saw there explains why the
        // real PF then acted as it did, though the comparison only deviates later).
        let silent = best.trace.steps.iter().filter(|s| s.dropped && &*s.from == "carol-pf" && s.at_ms < t).map(|s| s.at_ms);
        let mut runs: Vec<u64> = Vec::new();
        for x in silent {
            if runs.last().is_none_or(|r| o.client_seen.iter().any(|c| c > r && *c < x)) && runs.len() < 3 {
                runs.push(x);
            }
        }
        at.extend(runs.iter().map(|x| x.saturating_sub(1)));
        at.sort_unstable();
        at.dedup();
        let mut candidates = Vec::new();
        // Of the events no message shows, only a TCP reset of Carol's MSRP connection is an
        // input of the PF; her device vanishing or a connection that never opens reach it only
        // as what the capture holds (no answer, a 408), which the lockstep feeds it already.
        for a in at.into_iter().filter(|a| reset_fits(o, *a)) {
            candidates.push(hidden(
                a,
                "msrp_loss",
                format!("Carol's MSRP connection was lost at {a} ms: a TCP reset reached the PF (no message of the capture shows it; inferred from what the PF did next)"),
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
                // A hidden event must explain more of the capture (more real messages matched,
                // or as many with fewer deviations), not merely move the first deviation later.
                let bar = next.as_ref().map_or(best.score, |n| n.score);
                if (r.score.0, r.score.1) > (bar.0, bar.1) {
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
