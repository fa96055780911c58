//! Member-side defects found in review (issue 10: the members as machines of their own). Each
//! test is a scripted exchange that failed on the engine before the members became machines,
//! when a member decided from the focus's records (`cf.users`, `cf.member_legs`, `cf.ended`)
//! instead of its own.

mod common;

use common::{gen_scenario, header, mix64, BOTH_RULES};
use cpm_deferral::conformance::{check, Rule};
use cpm_deferral::run;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Protocol, Step, Trace};
use std::collections::HashMap;

fn scenario(head: &str, events: &str) -> Scenario {
    let json = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "events": {events} }}"#);
    Scenario::from_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

fn sip_from<'a>(t: &'a Trace, lane: &'a str, label: &'a str) -> impl Iterator<Item = &'a Step> + 'a {
    t.steps.iter().filter(move |s| &*s.from == lane && s.protocol == Protocol::SIP && s.label == label)
}

fn notes_on<'a>(t: &'a Trace, lane: &'a str) -> Vec<(u64, &'a str)> {
    t.steps.iter().filter(|s| &*s.from == lane && &*s.to == lane).map(|s| (s.at_ms, &*s.label)).collect()
}

/// Two leaves of Alice 5 ms apart, before the focus has her BYE: she sends one BYE. Before, the
/// second leave sent a second BYE with the first one's CSeq (her dialog record was a copy of the
/// focus's, never written back; RFC 3261 §12.2.1.1 wants the CSeq to grow), because she still
/// counted as connected in the focus's records.
///
/// The scenario validator now refuses such a timeline (issue 11, defect 9: a leave of a member
/// not in the group), so the second leave is added through the library, past the validator:
/// the member's machine must still send one BYE whatever it is given.
#[test]
fn a_second_leave_sends_no_second_bye_with_the_same_cseq() {
    let json = r#"{ "format": "cpm-deferral-scenario", "version": 1, "events": [ { "at_ms": 5000, "kind": "leave", "member": "alice" }, { "at_ms": 5005, "kind": "leave", "member": "alice" } ] }"#;
    assert!(Scenario::from_json(json).is_err(), "the validator refuses a second leave");
    let mut sc = scenario("", r#"[ { "at_ms": 5000, "kind": "leave", "member": "alice" } ]"#);
    let mut again = sc.events[0].clone();
    again.at_ms = 5005;
    sc.events.push(again);
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        let byes: Vec<&Step> = sip_from(&t, "alice", "BYE").collect();
        let cseqs: Vec<&str> = byes.iter().map(|s| header(&s.raw, "CSeq").unwrap_or("")).collect();
        assert_eq!(byes.len(), 1, "{rules:?}: Alice's BYEs carry CSeq {cseqs:?}");
        assert!(notes_on(&t, "alice").contains(&(5005, "not in session")), "{:?}", notes_on(&t, "alice"));
        let order: Vec<_> = check(&t).into_iter().filter(|f| f.rule == Rule::CseqOrder).collect();
        assert!(order.is_empty(), "{order:?}");
    }
}

/// Alice leaves, and her user writes 5 ms later: her client sends nothing (RFC 3261 §15.1.1: the
/// session is over once the BYE goes). Before, she sent a SEND over the session she had ended,
/// because the focus still counted her connected until her BYE reached it.
#[test]
fn a_member_sends_no_msrp_on_a_session_it_has_ended() {
    let sc = scenario(
        "",
        r#"[ { "at_ms": 5000, "kind": "leave", "member": "alice" }, { "at_ms": 5005, "kind": "message", "from": "alice", "text": "one more thing" } ]"#,
    );
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        let late: Vec<&Step> = t.steps.iter().filter(|s| &*s.from == "alice" && s.protocol == Protocol::MSRP && s.at_ms >= 5000).collect();
        assert!(late.is_empty(), "{rules:?}: Alice sends MSRP after her BYE: {:?}", late.iter().map(|s| (s.at_ms, &s.label)).collect::<Vec<_>>());
        assert!(notes_on(&t, "alice").contains(&(5005, "not in session")), "{:?}", notes_on(&t, "alice"));
        assert!(t.chats.is_empty(), "a message that was not sent has no chat record");
        let ended: Vec<_> = check(&t).into_iter().filter(|f| f.rule == Rule::MsrpSession).collect();
        assert!(ended.is_empty(), "{ended:?}");
    }
}

/// Every dialog a member is in, per member lane: (Call-ID, its own tag, the INVITE's branch, a
/// step). Its own tag is in From of what it sends and in To of its responses; a dialog is its
/// INVITE transaction (the top Via branch of the INVITE and of its responses), or, for a dialog
/// that exists at t = 0, its Call-ID.
fn member_dialogs(t: &Trace) -> HashMap<String, Vec<(String, String, String, u32)>> {
    let members: Vec<String> = t.lanes.iter().filter(|l| l.role == "member").map(|l| l.id.to_string()).collect();
    let tag = |v: &str| v.split(";tag=").nth(1).map(|x| x.split(';').next().unwrap_or("").to_string());
    let mut out: HashMap<String, Vec<(String, String, String, u32)>> = HashMap::new();
    for s in t.steps.iter().filter(|s| s.protocol == Protocol::SIP && !s.raw.is_empty() && members.iter().any(|m| **m == *s.from)) {
        let (Some(call), Some(cseq)) = (header(&s.raw, "Call-ID"), header(&s.raw, "CSeq")) else { continue };
        let own = if s.raw.starts_with("SIP/2.0 ") { header(&s.raw, "To") } else { header(&s.raw, "From") };
        let Some(own) = own.and_then(tag) else { continue };
        let list = out.entry(s.from.to_string()).or_default();
        let txn = if cseq.ends_with(" INVITE") {
            // The member's own branch or the focus's: the last Via of the request.
            s.raw.split("\r\n").filter(|l| l.starts_with("Via: ")).last().unwrap_or("").to_string()
        } else if list.iter().any(|d| d.0 == call) {
            continue;
        } else {
            format!("before the trace ({call})")
        };
        if !list.iter().any(|d| d.2 == txn) {
            list.push((call.to_string(), own, txn, s.index));
        }
    }
    out
}

/// The collisions a member's dialogs must never have: two INVITE transactions (distinct Via
/// branches) of one Call-ID, or one tag of the member's in two Call-IDs.
fn collisions(t: &Trace) -> Vec<String> {
    let mut bad = Vec::new();
    for (lane, dialogs) in member_dialogs(t) {
        for (a, x) in dialogs.iter().enumerate() {
            for y in &dialogs[a + 1..] {
                if x.0 == y.0 || x.1 == y.1 {
                    bad.push(format!("{lane}'s dialogs at steps {} and {} share {:?} / {:?}", x.3, y.3, (&x.0, &x.1), (&y.0, &y.1)));
                }
            }
        }
    }
    bad
}

/// Full set-up; Alice leaves, Carol leaves and re-joins twice, Alice joins 15 ms after the
/// second re-join, while the focus is inviting the members again. Before, the focus picked the
/// tag and Call-ID of the member it invited from its own counter (`m0-07`, `m0-17`) and Alice
/// picked hers for her own join from another, which had reached the same value: two INVITEs
/// (the focus's and Alice's) with one Call-ID and one tag of Alice's (RFC 3261 §8.1.1.4,
/// §19.3). Now every tag and Call-ID of hers comes from her own one counter.
#[test]
fn a_members_tags_from_two_counters_never_meet() {
    let sc = scenario(
        r#""setup": "full","#,
        r#"[ {"at_ms":1040,"kind":"register","reaction_ms":100}, {"at_ms":1040,"kind":"leave","member":"alice"},
             {"at_ms":1045,"kind":"leave","member":"carol"}, {"at_ms":1345,"kind":"register","reaction_ms":100},
             {"at_ms":3345,"kind":"message","from":"bob","text":"x"}, {"at_ms":3345,"kind":"leave","member":"bob"},
             {"at_ms":5345,"kind":"rejoin"}, {"at_ms":5645,"kind":"join","member":"alice"},
             {"at_ms":5645,"kind":"register","reaction_ms":100}, {"at_ms":5650,"kind":"leave","member":"alice"},
             {"at_ms":7650,"kind":"rejoin"}, {"at_ms":7665,"kind":"join","member":"alice"},
             {"at_ms":7965,"kind":"leave","member":"carol"} ]"#,
    );
    for rules in BOTH_RULES {
        let t = run(&sc, rules);
        let invites = t.steps.iter().filter(|s| s.label == "INVITE" && (&*s.from == "alice" || &*s.to == "alice")).count();
        assert!(invites >= 2, "{rules:?}: the focus's INVITE and Alice's own");
        let bad = collisions(&t);
        assert!(bad.is_empty(), "{rules:?}: {bad:?}");
        assert!(check(&t).is_empty(), "{rules:?}: {:?}", check(&t));
    }
}

/// The same over random timelines (tests/common's generator): no member's dialogs collide.
#[test]
fn no_members_dialogs_collide_over_random_timelines() {
    let mut checked = 0;
    for i in 0..300u64 {
        let seed = mix64(0x3e3b_0000 + i);
        let Ok(sc) = Scenario::from_json(&gen_scenario(seed)) else { continue };
        for rules in BOTH_RULES {
            let t = run(&sc, rules);
            let bad = collisions(&t);
            assert!(bad.is_empty(), "seed {seed:#x} {rules:?}: {bad:?}");
            checked += member_dialogs(&t).values().map(Vec::len).sum::<usize>();
        }
    }
    assert!(checked > 300, "only {checked} member dialogs looked at");
}
