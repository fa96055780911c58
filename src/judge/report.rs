//! The judgement as JSON (the `conform --format json` contract of issue 14) and as text.

use super::Judgement;
use serde_json::{json, Value};

fn node(n: Option<crate::capture::roles::Node>) -> Value {
    n.map_or(Value::Null, |n| Value::String(n.to_string()))
}

/// The judgement as one JSON object: `verdict`, `rules`, `roles`, `clauses`, `deviations`,
/// `policies` (policy id → consistent options), `inferred`, `scenario` (the rebuilt timeline,
/// a scenario file) and `capture` (what was read).
pub fn to_json(j: &Judgement) -> String {
    to_value(j).to_string()
}

/// [`to_json`] plus `ladders`: `{observed, expected}`, two traces in the trace contract's shape
/// (the page's judge panel draws them; each deviation's `observed_step` and `expected_step`
/// index their steps).
pub fn to_json_with_ladders(j: &Judgement) -> String {
    let mut v = to_value(j);
    if let Some(l) = &j.ladders {
        let t = |t: &crate::trace::Trace| serde_json::to_value(t).unwrap_or(Value::Null);
        v["ladders"] = json!({ "observed": t(&l.observed), "expected": t(&l.expected) });
    }
    v.to_string()
}

fn to_value(j: &Judgement) -> Value {
    let scenario: Value = serde_json::from_str(&j.scenario_json).unwrap_or(Value::Null);
    json!({
        "verdict": j.verdict.as_str(),
        "rules": j.rules.as_str(),
        "roles": {
            "pf": j.roles.pf.to_string(),
            "cf": node(j.roles.cf),
            "carol": node(j.roles.carol),
            "scscf": node(j.roles.scscf),
            "evidence": j.roles.evidence.iter().map(|e| json!({"role": e.role.as_str(), "frame": e.frame, "why": e.why})).collect::<Vec<_>>(),
        },
        "clauses": j.clauses.iter().map(|c| json!({"id": c.id, "title": c.title, "verdict": c.verdict, "why": c.why})).collect::<Vec<_>>(),
        "deviations": j.deviations.iter().map(|d| json!({
            "clause": d.clause, "side": d.side.as_str(), "at_ms": d.at_ms, "frame": d.frame,
            "expected": d.expected, "observed": d.observed,
            "expected_step": d.expected_step, "observed_step": d.observed_step, "cites": d.cites,
        })).collect::<Vec<_>>(),
        "policies": j.policies,
        "inferred": j.inferred,
        "not_judged": j.not_judged,
        "scenario": scenario,
        "capture": { "messages": j.messages, "pf_messages": j.pf_messages, "packets": j.stats.frames, "unjudged": j.unjudged },
    })
}

/// The judgement as text for a terminal.
pub fn to_text(j: &Judgement) -> String {
    let mut out = String::new();
    let verdict = match j.verdict {
        super::Verdict::Pass => "PASS: the PF conforms",
        super::Verdict::Fail => "FAIL: the PF deviates",
        super::Verdict::Inconclusive if !j.not_judged.is_empty() => "INCONCLUSIVE: the capture shows what the judge does not model",
        super::Verdict::Inconclusive => "INCONCLUSIVE: no deviation, but the capture does not show enough",
    };
    out.push_str(&format!("{verdict} (§8.3.2.9, rules {})\n", j.rules.as_str()));
    out.push_str(&format!(
        "roles: PF {}, CF {}, Carol's side {}, S-CSCF {}\n",
        j.roles.pf,
        node(j.roles.cf).as_str().unwrap_or("not seen"),
        node(j.roles.carol).as_str().unwrap_or("not seen"),
        node(j.roles.scscf).as_str().unwrap_or("not seen")
    ));
    out.push_str(&format!("read: {} messages, {} of them the PF's\n", j.messages, j.pf_messages));
    if j.unjudged > 0 {
        out.push_str(&format!(
            "judged: the first {} messages; {} more were read after them and not judged (the verdict is at best inconclusive)\n",
            j.messages, j.unjudged
        ));
    }
    for n in &j.not_judged {
        out.push_str(&format!("not judged: {n}\n"));
    }
    out.push_str("\nclauses:\n");
    for c in &j.clauses {
        out.push_str(&format!("  {:<14} {:<14} {} — {}\n", c.id, c.verdict, c.title, c.why));
    }
    if !j.deviations.is_empty() {
        out.push_str("\ndeviations (the first on each side):\n");
        for d in &j.deviations {
            out.push_str(&format!(
                "  {} towards the {} at {} ms, frame {}: expected {}, observed {}{}\n",
                d.clause,
                d.side.as_str(),
                d.at_ms,
                d.frame,
                d.expected,
                d.observed,
                if d.cites.is_empty() { String::new() } else { format!(" (the model's step cites {})", d.cites.join(", ")) }
            ));
        }
    }
    out.push_str("\npolicies (options consistent with the capture):\n");
    for (p, opts) in &j.policies {
        out.push_str(&format!("  {p}: {}\n", if opts.is_empty() { "none".to_string() } else { opts.join(" or ") }));
    }
    if !j.inferred.is_empty() {
        out.push_str("\ninferred (no message shows these):\n");
        for i in &j.inferred {
            out.push_str(&format!("  {i}\n"));
        }
    }
    out
}
