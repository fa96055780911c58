//! Issue 11, defect 9: a timeline is refused when it has a member `join` the group they are
//! already in (two joins 10 ms apart made two INVITEs and two dialogs for one member). The
//! scenario validator (src/scenario.rs) refuses it by name, for `cpm-deferral check` and the
//! page's import alike; the judge's rebuilt timelines and the random generators never make one.

mod common;

use cpm_deferral::scenario::{Scenario, ScenarioError};
use cpm_deferral::{run, Rules};

fn file(members: &str, events: &str) -> String {
    format!(r#"{{"format":"cpm-deferral-scenario","version":1,"members":{members},"events":{events}}}"#)
}

const DAVE_OUT: &str = r#"[{"id":"alice"},{"id":"bob"},{"id":"dave","name":"Dave","in_group":false}]"#;

/// The timeline of the review: Dave joins twice, 10 ms apart. Refused, naming the second join,
/// the earlier one and what to do.
#[test]
fn defect_9_a_second_join_of_a_member_in_the_group_is_refused_by_name() {
    let text = file(DAVE_OUT, r#"[{"at_ms":5000,"kind":"join","member":"dave"},{"at_ms":5010,"kind":"join","member":"dave"}]"#);
    let e = Scenario::from_json(&text).expect_err("a join of a member already in the group");
    assert_eq!(e, ScenarioError::AlreadyInGroup { path: "events[1].member".into(), member: "dave".into(), at_ms: 5010, since: Some((0, 5000)) });
    assert_eq!(e.path(), "events[1].member");
    assert_eq!(
        e.to_string(),
        "events[1].member: \"dave\" is already in the group at 5010 ms (since events[0] at 5000 ms); add a \"leave\" of \"dave\" before this join, or remove one of the joins"
    );
}

/// A member in the group from the start (`in_group`, the default) cannot join either.
#[test]
fn defect_9_a_join_of_a_member_in_the_group_from_the_start_is_refused() {
    let e = Scenario::from_json(&file(DAVE_OUT, r#"[{"at_ms":1000,"kind":"join","member":"alice"}]"#)).expect_err("alice is in from the start");
    assert!(matches!(&e, ScenarioError::AlreadyInGroup { since: None, member, .. } if member == "alice"), "{e:?}");
    assert!(e.to_string().contains("(from the start: \"in_group\" is true)"), "{e}");
}

/// What stays valid: a join from outside, join – leave – join, a leave then a join. Each join
/// makes one INVITE.
#[test]
fn joins_from_outside_the_group_stay_valid_and_run_one_invite_each() {
    for events in [
        r#"[{"at_ms":5000,"kind":"join","member":"dave"}]"#,
        r#"[{"at_ms":5000,"kind":"join","member":"dave"},{"at_ms":9000,"kind":"leave","member":"dave"},{"at_ms":12000,"kind":"join","member":"dave"}]"#,
        r#"[{"at_ms":1000,"kind":"leave","member":"alice"},{"at_ms":30000,"kind":"join","member":"alice"}]"#,
    ] {
        let sc = Scenario::from_json(&file(DAVE_OUT, events)).unwrap_or_else(|e| panic!("{events}: {e}"));
        let t = run(&sc, Rules::PostCr);
        let joins = sc.events.iter().filter(|e| matches!(e.kind, cpm_deferral::scenario::EventKind::Join { .. })).count();
        let invites = t.steps.iter().filter(|s| s.label == "INVITE" && &*s.to == "cf" && ["alice", "dave"].contains(&&*s.from)).count();
        assert_eq!(invites, joins, "{events}: one INVITE to the focus per join");
    }
}

/// The same the other way round: a leave of a member who is not in the group (two leaves in one
/// millisecond sent two BYEs with one CSeq; a leave of a member outside from the start did
/// nothing but a note) is refused by name.
#[test]
fn defect_9_a_leave_of_a_member_not_in_the_group_is_refused_by_name() {
    let text = file(DAVE_OUT, r#"[{"at_ms":1000,"kind":"leave","member":"alice"},{"at_ms":1000,"kind":"leave","member":"alice"}]"#);
    let e = Scenario::from_json(&text).expect_err("a second leave");
    assert_eq!(e, ScenarioError::NotInGroup { path: "events[1].member".into(), member: "alice".into(), at_ms: 1000, since: Some((0, 1000)) });
    assert_eq!(
        e.to_string(),
        "events[1].member: \"alice\" is not in the group at 1000 ms (since events[0] at 1000 ms); add a \"join\" of \"alice\" before this leave, or remove one of the leaves"
    );
    let e = Scenario::from_json(&file(DAVE_OUT, r#"[{"at_ms":1000,"kind":"leave","member":"dave"}]"#)).expect_err("dave is outside");
    assert!(e.to_string().contains("(from the start: \"in_group\" is false)"), "{e}");
    // Carol's leave is hers to make in any state (the world decides what it means).
    assert!(Scenario::from_json(&file(DAVE_OUT, r#"[{"at_ms":1000,"kind":"leave","member":"carol"},{"at_ms":2000,"kind":"leave","member":"carol"}]"#)).is_ok());
}

/// The random timelines of the property tests (`common::gen_scenario`) are all valid, and
/// joins and leaves stay among them: the check does not leave them only invalid timelines.
#[test]
fn generated_timelines_are_valid_and_still_join() {
    use cpm_deferral::scenario::{EventKind, Who};
    let (mut joins, mut leaves) = (0, 0);
    for seed in 0..3000u64 {
        let text = common::gen_scenario(common::mix64(seed));
        let sc = Scenario::from_json(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        joins += sc.events.iter().filter(|e| matches!(e.kind, EventKind::Join { .. })).count();
        leaves += sc.events.iter().filter(|e| matches!(e.kind, EventKind::Leave { who: Who::Member(_) })).count();
    }
    assert!(joins > 100 && leaves > 100, "only {joins} joins and {leaves} member leaves in 3000 random timelines");
}

/// The judge rebuilds a timeline from a capture and runs it (src/judge/rebuild.rs). Dave chats,
/// leaves before the PF subscribes to the focus (so no NOTIFY shows him leaving), and joins
/// again while Carol is deferred (a NOTIFY shows him connected). The rebuilt timeline has him
/// in the group from his chat on; it must not add a join of a member already in, which the
/// validator now refuses: the judge still reaches a verdict on a valid timeline.
#[cfg(feature = "capture")]
#[test]
fn the_judge_never_rebuilds_a_join_of_a_member_already_in_the_group() {
    use cpm_deferral::export::pcap;
    use cpm_deferral::judge::{judge, Options};
    let sc = Scenario::from_json(&file(
        r#"[{"id":"alice"},{"id":"bob"},{"id":"dave","name":"Dave"}]"#,
        r#"[{"at_ms":1000,"kind":"message","from":"dave","text":"hi"},{"at_ms":2000,"kind":"leave","member":"dave"},
            {"at_ms":8000,"kind":"bye","reason":"SIP;cause=480"},{"at_ms":12000,"kind":"join","member":"dave"},
            {"at_ms":15000,"kind":"message","from":"dave","text":"back"},{"at_ms":20000,"kind":"rejoin"}]"#,
    ))
    .expect("valid");
    let t = run(&sc, Rules::PostCr);
    let cap = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap export");
    let j = judge(&cap, Options { pf: None, cf: None, rules: Rules::PostCr }).unwrap_or_else(|e| panic!("cannot judge: {e}"));
    let rebuilt = Scenario::from_json(&j.scenario_json).unwrap_or_else(|e| panic!("rebuilt timeline refused: {e}\n{}", j.scenario_json));
    let joins = rebuilt.events.iter().filter(|e| matches!(e.kind, cpm_deferral::scenario::EventKind::Join { .. })).count();
    assert_eq!(joins, 0, "{}", j.scenario_json);
}
