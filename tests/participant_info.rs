//! What the PF tells Carol about the participants comes from what the focus told it (OMA CPM
//! §8.3.2.9 with the Q13 policy `in-session-setup`; RFC 4575 §4.2): a conference-info part in
//! the PF's INVITE (path A) or in its 200 to her re-join (path B) follows a NOTIFY from the focus
//! with a conference-info body that reached the PF before it. (The PF reads no other actor's
//! state, src/pf/mod.rs; before, with no NOTIFY yet, it copied the focus's live roster.)

mod common;

use common::{gen_scenario, mix64, BOTH_RULES};
use cpm_deferral::run;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::Trace;

/// The PF's INVITEs and 200s to Carol with a conference-info part: (how many, the indices of
/// those that no NOTIFY with conference-info from the focus had preceded at the PF).
fn parts_without_a_notify(t: &Trace) -> (usize, Vec<u32>) {
    let (mut parts, mut bad) = (0, Vec::new());
    for s in &t.steps {
        // Towards Carol: through the IMS core (src/ims/), the first hop goes to `scscf`.
        let mine = &*s.from == "carol-pf" && (&*s.to == "carol" || &*s.to == "scscf") && (s.label == "INVITE" || s.label == "200 OK");
        if !mine || !s.raw.contains("application/conference-info+xml") {
            continue;
        }
        parts += 1;
        let told = t.steps.iter().any(|x| {
            &*x.from == "cf" && &*x.to == "carol-pf" && x.label == "NOTIFY" && !x.dropped && x.arrive_ms <= s.at_ms && x.raw.contains("<conference-info")
        });
        if !told {
            bad.push(s.index);
        }
    }
    (parts, bad)
}

#[test]
fn participant_information_in_the_session_setup_comes_from_a_notify_of_the_focus() {
    let (mut checked, mut parts) = (0, 0);
    let mut failures = Vec::new();
    for i in 0..400 {
        let seed = mix64(0xc0f0_0000 + i);
        let Ok(sc) = Scenario::from_json(&gen_scenario(seed)) else { continue };
        for rules in BOTH_RULES {
            let t = run(&sc, rules);
            let (n, bad) = parts_without_a_notify(&t);
            parts += n;
            if !bad.is_empty() {
                failures.push(format!("seed {seed:#x} {}: steps {bad:?}", rules.as_str()));
            }
            checked += 1;
        }
    }
    assert!(checked > 700, "only {checked} runs");
    assert!(parts > 10, "only {parts} conference-info parts in {checked} runs: the property would be vacuous");
    assert!(failures.is_empty(), "conference-info sent to Carol before any NOTIFY from the focus:\n{}", failures.join("\n"));
}
