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
    let st = find(&t, "cut off #0").unwrap_or_else(|| panic!("\n{}", ladder(&t)));
    assert!(st.clauses.contains(&POLICY) && st.policy, "{:?}", st.clauses);
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

#[test]
#[ignore]
fn print_ladder() {
    for p in ["resend-whole", "resume"] {
        println!("=== {p}\n{}", ladder(&cut(p)));
    }
}
