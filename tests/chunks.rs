//! Q14 (issue 11; digest §7 Q14): messages sent in chunks (RFC 4975 §5.1, §7.1.1) when the
//! scenario's `msrp_chunk_bytes` is smaller than their CPIM document, on the focus's leg to the
//! PF and on the PF's leg to Carol, and a connection loss between two chunks, which leaves a
//! message partially delivered. What follows is policy `q14-cut-chunks` (not in the CR).

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Step, Trace};
use cpm_deferral::wire::msrp;
use cpm_deferral::{run, run_without_wire_text, Rules};

const POLICY: &str = "policy:q14-cut-chunks";

fn scenario(head: &str, policies: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "policies": {{ {policies} }}, "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

fn post(policies: &str, events: &str) -> Trace {
    run(&scenario(r#""msrp_chunk_bytes": 100,"#, policies, events), Rules::PostCr)
}

fn ladder(t: &Trace) -> String {
    t.steps
        .iter()
        .map(|s| format!("{:>8} {:>9} → {:<9} {:<28} [{}] {:?} {}", s.at_ms, &*s.from, &*s.to, &*s.label, s.clauses.join(", "), s.pf_state, s.note))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Byte-Range of every SEND from `from` to `to`, in order: (first, last, total, flag,
/// Message-ID).
fn sends(t: &Trace, from: &str, to: &str) -> Vec<(u64, u64, u64, char, String)> {
    t.steps
        .iter()
        .filter(|s| &*s.from == from && &*s.to == to && s.label == "SEND" && !s.raw.is_empty())
        .filter_map(|s| {
            let m = msrp::parse(&s.raw).unwrap_or_else(|e| panic!("{e}\n{}", s.raw));
            let n = m.body.as_ref().map_or(0, |b| b.len()) as u64;
            if n == 0 {
                return None;
            }
            let (a, b, c) = m.byte_range.unwrap_or((1, n, n));
            Some((a, b, c, m.flag, m.message_id.map(|i| i.to_string()).unwrap_or_default()))
        })
        .collect()
}

fn find<'a>(t: &'a Trace, label: &str) -> Option<&'a Step> {
    t.steps.iter().find(|s| s.label == label)
}

/// A text long enough that its CPIM document is several 100-byte chunks.
fn long() -> String {
    "Are we still on for 3pm? ".repeat(12)
}

/// One long message while Carol is in the session: chunked on both legs, each chunk answered.
#[test]
fn a_long_message_goes_in_chunks_on_both_legs() {
    let ev = format!(r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }} ]"#, long());
    let t = post("", &ev);
    for (from, to) in [("cf", "carol-pf"), ("carol-pf", "carol")] {
        let s = sends(&t, from, to);
        assert!(s.len() >= 4, "{from} → {to} in chunks\n{}", ladder(&t));
        let total = s[0].2;
        let mut next = 1;
        for (i, (a, b, c, flag, id)) in s.iter().enumerate() {
            assert_eq!((*a, *c), (next, total), "contiguous, one total");
            assert!(b - a < 100, "at most 100 bytes");
            assert_eq!(*flag, if i + 1 == s.len() { '$' } else { '+' });
            assert_eq!(id, &s[0].4, "one Message-ID");
            next = b + 1;
        }
        assert_eq!(next - 1, total);
        // Every chunk has its 200 (RFC 4975 §7.2).
        let oks = t.steps.iter().filter(|x| &*x.from == to && &*x.to == from && x.label == "200 OK").count();
        assert!(oks >= s.len(), "{oks} 200s for {} chunks\n{}", s.len(), ladder(&t));
    }
    assert_eq!(t.summary.delivered_live, 1, "\n{}", ladder(&t));
    assert!(cpm_deferral::conformance::check(&t).is_empty(), "{:?}", cpm_deferral::conformance::check(&t));
}

/// Without `msrp_chunk_bytes` the same message goes whole (the default: no preset chunks).
#[test]
fn without_a_chunk_size_a_message_goes_whole() {
    let ev = format!(r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }} ]"#, long());
    let t = run(&scenario("", "", &ev), Rules::PostCr);
    let s = sends(&t, "carol-pf", "carol");
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].0, s[0].1, s[0].3), (1, s[0].2, '$'));
}

/// The cut: her MSRP connection breaks after the first chunk's 200, with the second in flight;
/// she re-joins later and the store is replayed.
fn cut(policy: &str) -> Trace {
    let ev = format!(
        r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }},
            {{ "at_ms": 1045, "kind": "msrp_loss" }},
            {{ "at_ms": 5000, "kind": "rejoin" }} ]"#,
        long()
    );
    post(&format!(r#""q14-cut-chunks": "{policy}""#), &ev)
}

#[test]
fn resend_whole_sends_it_again_from_byte_1_with_a_new_message_id() {
    let t = cut("resend-whole");
    let s = sends(&t, "carol-pf", "carol");
    let cut_at = s.iter().position(|x| x.0 == 1 && x.4 != s[0].4).unwrap_or_else(|| panic!("a second transfer\n{}", ladder(&t)));
    assert_eq!(cut_at, 2, "two chunks before the cut (one acknowledged, one lost)\n{}", ladder(&t));
    assert_eq!(s.last().map(|x| x.3), Some('$'));
    let st = find(&t, "back to store #0").unwrap_or_else(|| panic!("\n{}", ladder(&t)));
    assert!(st.clauses[..] == [POLICY] && st.policy, "{:?}", st.clauses);
    assert!(find(&t, "discards part of #0").is_some(), "her client drops the cut-off part\n{}", ladder(&t));
    assert_eq!((t.summary.delivered_from_store, t.summary.lost), (1, 0), "\n{}", ladder(&t));
    // The second transfer is the same CPIM document (so the same imdn.Message-ID), from byte 1.
    let bodies = |id: &str| -> String {
        t.steps
            .iter()
            .filter(|x| &*x.from == "carol-pf" && &*x.to == "carol" && x.label == "SEND")
            .filter_map(|x| msrp::parse(&x.raw).ok())
            .filter(|m| m.message_id.as_deref() == Some(id))
            .filter_map(|m| m.body.map(|b| b.to_string()))
            .collect()
    };
    let (old, new) = (bodies(&s[0].4), bodies(&s[cut_at].4));
    assert!(new.contains("imdn.Message-ID: ") && new.len() as u64 == s[0].2, "{new}");
    assert!(new.starts_with(&old), "the cut-off part is the start of the whole");
    assert!(cpm_deferral::conformance::check(&t).is_empty(), "{:?}", cpm_deferral::conformance::check(&t));
}

#[test]
fn resume_goes_on_from_the_last_acknowledged_byte_with_the_same_message_id() {
    let t = cut("resume");
    let s = sends(&t, "carol-pf", "carol");
    assert!(s.iter().all(|x| x.4 == s[0].4), "one Message-ID\n{}", ladder(&t));
    // Chunk 2 went twice: lost with the connection, then resumed from the same byte.
    assert_eq!(s[1].0, s[2].0, "\n{}", ladder(&t));
    assert_eq!(s.iter().filter(|x| x.0 == 1).count(), 1, "byte 1 sent once");
    assert!(find(&t, "discards part of #0").is_none());
    assert_eq!((t.summary.delivered_from_store, t.summary.lost), (1, 0), "\n{}", ladder(&t));
    assert!(t.steps.iter().any(|x| x.clauses.contains(&POLICY) && x.clauses.contains(&"reading:RFC 4975 §7.1.1")));
    assert!(cpm_deferral::conformance::check(&t).is_empty(), "{:?}", cpm_deferral::conformance::check(&t));
}

#[test]
fn drop_counts_it_lost_with_a_step() {
    let t = cut("drop");
    let s = sends(&t, "carol-pf", "carol");
    assert_eq!(s.len(), 2, "nothing after the cut\n{}", ladder(&t));
    let st = t.steps.iter().find(|x| x.clauses.contains(&POLICY)).unwrap_or_else(|| panic!("\n{}", ladder(&t)));
    assert!(st.policy, "{st:?}");
    assert_eq!((t.summary.delivered_from_store, t.summary.lost), (0, 1), "\n{}", ladder(&t));
}

/// A loss before any chunk was acknowledged is Q12's, as for a whole SEND.
#[test]
fn a_loss_before_the_first_200_is_q12s() {
    let ev = format!(r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }}, {{ "at_ms": 1025, "kind": "msrp_loss" }} ]"#, long());
    for p in ["resend-whole", "resume", "drop"] {
        let t = post(&format!(r#""q14-cut-chunks": "{p}""#), &ev);
        assert!(!t.steps.iter().any(|x| x.clauses.contains(&POLICY)), "{p}\n{}", ladder(&t));
        assert!(t.steps.iter().any(|x| x.clauses.contains(&"policy:q12-in-flight-at-loss")), "{p}\n{}", ladder(&t));
    }
}

/// The page's fast run (no wire texts) makes the same steps: it builds the CPIM documents
/// whose length decides the chunks.
#[test]
fn the_fast_run_makes_the_same_steps() {
    for p in ["resend-whole", "resume", "drop"] {
        let ev = format!(
            r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }}, {{ "at_ms": 1045, "kind": "msrp_loss" }}, {{ "at_ms": 5000, "kind": "rejoin" }} ]"#,
            long()
        );
        let sc = scenario(r#""msrp_chunk_bytes": 100,"#, &format!(r#""q14-cut-chunks": "{p}""#), &ev);
        let (a, b) = (run(&sc, Rules::PostCr), run_without_wire_text(&sc, Rules::PostCr));
        let key = |t: &Trace| t.steps.iter().map(|s| (s.at_ms, s.from.to_string(), s.to.to_string(), s.label.to_string())).collect::<Vec<_>>();
        assert_eq!(key(&a), key(&b), "{p}");
    }
}

#[test]
fn the_chunk_size_is_validated() {
    let bad = r#"{ "format": "cpm-deferral-scenario", "version": 1, "msrp_chunk_bytes": 8, "events": [] }"#;
    let e = Scenario::from_json(bad).unwrap_err().to_string();
    assert!(e.contains("msrp_chunk_bytes"), "{e}");
}

mod common;

/// The random timelines (tests/common/mod.rs) reach chunking and cut-offs under every option.
#[test]
fn random_timelines_reach_chunks_and_cuts() {
    let (mut chunked, mut cut) = (0, std::collections::BTreeMap::new());
    // 2,000 seeds: a cut-off is rare (about 2 % of the timelines), and every option must be met.
    for seed in 0..2000u64 {
        let sc = Scenario::from_json(&common::gen_scenario(common::mix64(seed))).expect("generated scenario");
        if sc.msrp_chunk_bytes.is_none() {
            continue;
        }
        let t = run_without_wire_text(&sc, Rules::PostCr);
        chunked += 1;
        if t.steps.iter().any(|s| s.clauses.contains(&POLICY)) {
            *cut.entry(sc.policies.get(cpm_deferral::policy::PolicyId::Q14CutChunks)).or_insert(0) += 1;
        }
    }
    assert!(chunked >= 200, "{chunked} chunked timelines");
    for o in ["resend-whole", "resume", "drop"] {
        assert!(cut.get(o).copied().unwrap_or(0) >= 1, "{o}: {cut:?}");
    }
}

/// The semantic checker holds the chunks of one message to one total and no gap.
#[test]
fn the_checker_reads_byte_range_totals_across_chunks() {
    use cpm_deferral::conformance::{check, Rule};
    let ev = format!(r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }} ]"#, long());
    let t = post("", &ev);
    assert!(check(&t).is_empty());
    let chunk = |t: &Trace, n: usize| {
        t.steps.iter().enumerate().filter(|(_, s)| &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND").nth(n).map(|(i, _)| i).expect("chunk")
    };
    let mut other_total = t.clone();
    let i = chunk(&t, 1);
    let total = msrp::parse(&t.steps[i].raw).ok().and_then(|m| m.byte_range).expect("range").2;
    other_total.steps[i].raw = t.steps[i].raw.replace(&format!("/{total}\r\n"), &format!("/{}\r\n", total + 1));
    assert!(check(&other_total).iter().any(|f| f.rule == Rule::MsrpChunks), "{:?}", check(&other_total));
    let mut gap = t.clone();
    gap.steps.remove(chunk(&t, 1));
    assert!(check(&gap).iter().any(|f| f.rule == Rule::MsrpChunks), "{:?}", check(&gap));
}

/// The judge reads chunked captures of the engine's own runs: the capture reader joins the
/// chunks (src/capture/msrp_chunks.rs) and the PF's 200s to the chunks before the last are not
/// counted as its actions; without a loss between two chunks it finds no deviation. Known limit:
/// the machine the judge runs sends whole messages, so the reader's joined SEND (at its last
/// chunk) comes later than the machine's; a message of the PF's own to Carol between two chunks
/// (her conference subscription's 200 and NOTIFY under Q13's default) then reads as out of
/// order, which is why the replay here is under `in-session-setup`.
#[test]
fn the_judge_reads_chunked_captures_of_our_own_runs() {
    use cpm_deferral::export::pcap;
    use cpm_deferral::judge::{judge, Options, Verdict};
    let live = format!(r#"[ {{ "at_ms": 1000, "kind": "message", "from": "alice", "text": "{}" }} ]"#, long());
    let deferred = format!(
        r#"[ {{ "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" }},
            {{ "at_ms": 2000, "kind": "message", "from": "alice", "text": "{}" }},
            {{ "at_ms": 3000, "kind": "message", "from": "bob", "text": "short" }},
            {{ "at_ms": 9000, "kind": "register", "reaction_ms": 500 }} ]"#,
        long()
    );
    for (ev, pol) in [(live, ""), (deferred, r#""q13-participant-info": "in-session-setup""#)] {
        let sc = scenario(r#""msrp_chunk_bytes": 100,"#, pol, &ev);
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = run(&sc, rules);
            assert!(sends(&t, "cf", "carol-pf").len() > 2, "chunked");
            let cap = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap");
            let j =
                judge(&cap, Options { pf: "192.0.2.10".parse().ok(), cf: "192.0.2.20".parse().ok(), rules }).unwrap_or_else(|e| panic!("cannot judge: {e}"));
            assert!(j.verdict != Verdict::Fail, "{rules:?}: {:?}\n{}", j.deviations, ladder(&t));
        }
    }
}
