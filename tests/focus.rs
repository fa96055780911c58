//! The CF (focus) as a machine of its own (src/cf/, issue 10): what it answers follows from what
//! reached it. Each test failed on the engine before the focus was a machine.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::Trace;
use cpm_deferral::{run, Rules};

fn scenario(head: &str, events: &str) -> Scenario {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {head} "events": {events} }}"#);
    Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"))
}

const MEMBERS: &str =
    r#""members": [ { "id": "alice", "name": "Alice" }, { "id": "bob", "name": "Bob" }, { "id": "dave", "name": "Dave", "in_group": false } ],"#;

/// The SIP labels between `a` and `b` (either way), in order.
fn sip_between<'t>(t: &'t Trace, a: &str, b: &str) -> Vec<(&'t str, &'t str, &'t str)> {
    t.steps
        .iter()
        .filter(|s| s.protocol == cpm_deferral::trace::Protocol::SIP && ((&*s.from, &*s.to) == (a, b) || (&*s.from, &*s.to) == (b, a)))
        .map(|s| (&*s.from, &*s.to, &*s.label))
        .collect()
}

/// A member who was never in the group asks to join after the group session has ended: the
/// member cannot know it ended (no BYE ever reached it), so its INVITE goes out, and the focus,
/// which holds no conference any more, answers 404 (RFC 3261 §21.4.5), as it does the PF's
/// INVITE then, and the member ACKs it. On main the member's code read the focus's `ended` flag and sent nothing.
#[test]
fn a_join_after_the_group_has_ended_gets_404_from_the_focus() {
    for rules in [Rules::PostCr, Rules::PreCr] {
        let t = run(
            &scenario(
                MEMBERS,
                r#"[
                    { "at_ms": 1000, "kind": "group_ends" },
                    { "at_ms": 2000, "kind": "join", "member": "dave" }
                ]"#,
            ),
            rules,
        );
        let dave = sip_between(&t, "dave", "cf");
        // The member's INVITE client transaction ACKs the 404 (RFC 3261 §17.1.1.3).
        assert_eq!(dave, [("dave", "cf", "INVITE"), ("cf", "dave", "404 Not Found"), ("dave", "cf", "ACK")], "{rules:?}: {dave:?}");
        let r = t.steps.iter().find(|s| &*s.from == "cf" && &*s.to == "dave").unwrap();
        assert!(r.clauses.contains(&"RFC 3261 §21.4.5"), "{:?}", r.clauses);
        if !r.raw.is_empty() {
            assert!(r.raw.starts_with("SIP/2.0 404 Not Found\r\n"), "{}", r.raw);
        }
        // Nobody joined: the roster the focus reported last has no connected Dave.
        assert!(!t.steps.iter().any(|s| &*s.from == "dave" && s.label == "SEND"), "no MSRP after a refused join");
    }
}

/// Before the end a join is admitted with a To tag the focus chose itself (its own record of
/// the leg, RFC 3261 §12.1.1): the member's ACK and BYE carry that tag, and a second join after
/// a leave gets a new one.
#[test]
fn a_joining_member_gets_the_focus_s_own_tag_on_each_leg() {
    let t = run(
        &scenario(
            MEMBERS,
            r#"[
                { "at_ms": 1000, "kind": "join", "member": "dave" },
                { "at_ms": 3000, "kind": "leave", "member": "dave" },
                { "at_ms": 5000, "kind": "join", "member": "dave" }
            ]"#,
        ),
        Rules::PostCr,
    );
    let labels: Vec<&str> = sip_between(&t, "dave", "cf").iter().map(|s| s.2).collect();
    assert_eq!(labels, ["INVITE", "200 OK", "ACK", "BYE", "200 OK", "INVITE", "200 OK", "ACK"], "{labels:?}");
    let texts: Vec<&str> =
        t.steps.iter().filter(|s| &*s.from == "dave" && &*s.to == "cf" && s.protocol == cpm_deferral::trace::Protocol::SIP).map(|s| &*s.raw).collect();
    if texts.iter().all(|r| !r.is_empty()) {
        let to_tag = |r: &str| r.lines().find(|l| l.starts_with("To: ")).and_then(|l| l.split(";tag=").nth(1)).unwrap_or("").to_string();
        let (ack1, bye, ack2) = (to_tag(texts[1]), to_tag(texts[2]), to_tag(texts[4]));
        assert!(!ack1.is_empty() && ack1 == bye, "the first leg's ACK and BYE: {ack1} {bye}");
        assert!(!ack2.is_empty() && ack2 != ack1, "the second leg has a tag of its own: {ack1} {ack2}");
    }
}

/// Carol leaves as the group ends: the PF's BYE on her leg crosses the focus's BYE on the same
/// leg. The focus, which ended that dialog itself, answers 481 (RFC 3261 §15.1.2, §12.2.2), as
/// the PF does the focus's; on main it answered 200 to a BYE on a dialog it had already ended.
#[test]
fn a_bye_from_the_pf_that_crosses_the_end_of_the_group_gets_481() {
    let mut seen = Vec::new();
    for at in [985, 990, 995, 1000, 1005] {
        let t = run(
            &scenario(MEMBERS, &format!(r#"[ {{ "at_ms": {at}, "kind": "leave", "member": "carol" }}, {{ "at_ms": 1005, "kind": "group_ends" }} ]"#)),
            Rules::PostCr,
        );
        let pf_cf = sip_between(&t, "carol-pf", "cf");
        let byes = pf_cf.iter().filter(|s| s.2 == "BYE").count();
        if let Some(i) = pf_cf.iter().position(|s| *s == ("carol-pf", "cf", "BYE")) {
            let answer = pf_cf[i + 1..].iter().find(|s| s.0 == "cf" && s.2.starts_with(char::is_numeric)).map(|s| s.2);
            assert_eq!(answer, Some("481 Call/Transaction Does Not Exist"), "leave at {at}: {pf_cf:?}");
            seen.push(at);
        }
        assert!(byes <= 2, "{pf_cf:?}");
    }
    assert!(!seen.is_empty(), "no timeline had the PF's BYE cross the focus's");
}
