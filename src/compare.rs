//! Runs one scenario under both rule sets and reports the difference (what the CR changed).

use crate::scenario::Scenario;
use crate::trace::{Rules, Summary, Trace};
use serde::Serialize;

/// Where two traces first differ.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Index of the first step that differs (same in both traces).
    pub index: u32,
    /// Time of that step in the post-CR trace (or the pre-CR one if post-CR has no such step).
    pub at_ms: u64,
    /// A one-line description of each side, empty if the trace has ended.
    pub post_cr: String,
    pub pre_cr: String,
}

/// Both summaries and the first difference.
#[cfg_attr(target_arch = "wasm32", derive(tsify_next::Tsify))]
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub post_cr: Summary,
    pub pre_cr: Summary,
    pub first_difference: Option<Difference>,
}

fn line(t: &Trace, i: usize) -> String {
    t.steps.get(i).map(|s| format!("{} {} → {}: {}", s.at_ms, s.from, s.to, s.label)).unwrap_or_default()
}

/// Compares two traces of one scenario.
pub fn compare_traces(post: &Trace, pre: &Trace) -> Comparison {
    let n = post.steps.len().max(pre.steps.len());
    let first = (0..n).find(|&i| match (post.steps.get(i), pre.steps.get(i)) {
        (Some(a), Some(b)) => a.at_ms != b.at_ms || a.from != b.from || a.to != b.to || a.label != b.label || a.clauses != b.clauses,
        _ => true,
    });
    Comparison {
        post_cr: post.summary,
        pre_cr: pre.summary,
        first_difference: first.map(|i| Difference {
            index: i as u32,
            at_ms: post.steps.get(i).or(pre.steps.get(i)).map_or(0, |s| s.at_ms),
            post_cr: line(post, i),
            pre_cr: line(pre, i),
        }),
    }
}

/// Runs `sc` under `post-cr` and `pre-cr` and compares.
pub fn compare(sc: &Scenario) -> Comparison {
    compare_traces(&crate::run(sc, Rules::PostCr), &crate::run(sc, Rules::PreCr))
}
