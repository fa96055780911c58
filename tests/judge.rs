//! The judge (`cpm-deferral conform`, issue 14): a capture of a PF's traffic against §8.3.2.9.
//!
//! Its oracle is the model, so the first property is that the model's own PF conforms: a
//! capture of any run (the pcap export, the traffic as the network carried it, without the
//! messages that never arrived) is judged "pass" under the rules it ran with. Then: a PF that
//! follows the text before the CR fails the amended text exactly where the CR added triggers;
//! a PF that skips a stored message fails the delivery sentence at the right frame; a PF run
//! with a non-default reading of an open question is found to follow that reading; a file that
//! is not a capture, or shows no PF, cannot be judged.
#![cfg(feature = "capture")]

mod common;
#[path = "capture_corpus/corpus.rs"]
#[allow(dead_code)] // the corpus's file helpers serve tests/capture_files.rs
mod corpus;
#[path = "capture_corpus/transform.rs"]
#[allow(dead_code)] // the corpus writer's other helpers serve tests/capture.rs
mod transform;

use common::{gen_scenario, preset_scenario};
use cpm_deferral::export::pcap;
use cpm_deferral::judge::{judge, Options, Verdict};
use cpm_deferral::presets;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Rules, StepKind, Trace};

fn simulate(sc: &Scenario, rules: Rules, _wire: bool) -> Trace {
    cpm_deferral::run(sc, rules)
}

fn capture_of(sc: &Scenario, t: &Trace) -> Vec<u8> {
    pcap::write(t, &pcap::Network::for_scenario(sc)).expect("pcap export")
}

fn judged(sc: &Scenario, rules: Rules, judge_rules: Rules) -> cpm_deferral::judge::Judgement {
    let t = simulate(sc, rules, true);
    judge(&capture_of(sc, &t), Options { pf: None, cf: None, rules: judge_rules }).unwrap_or_else(|e| panic!("{}: cannot judge: {e}", sc.title))
}

fn clause<'a>(j: &'a cpm_deferral::judge::Judgement, id: &str) -> &'a str {
    j.clauses.iter().find(|c| c.id == id).map(|c| c.verdict).unwrap_or("missing")
}

#[test]
fn every_preset_under_both_rule_sets_conforms_to_the_rules_it_ran_with() {
    for p in presets::all() {
        let sc = preset_scenario(p);
        for rules in [Rules::PostCr, Rules::PreCr] {
            let j = judged(&sc, rules, rules);
            assert_eq!(j.verdict, Verdict::Pass, "{} under {}: {:?}\n{}", p.name, rules.as_str(), j.deviations, cpm_deferral::judge::to_text(&j));
            // The defaults the preset ran with are among the readings found consistent.
            for (id, opts) in &j.policies {
                let p = cpm_deferral::policy::PolicyId::from_id(id).expect("policy id");
                assert!(opts.contains(&p.info().default), "{id}: {opts:?}");
            }
        }
    }
}

#[test]
fn a_pre_cr_pf_fails_the_amended_text_where_the_cr_added_triggers_2_and_3() {
    for (preset, case) in [("invite-timeout-path-a", "cr-case2"), ("silent-drop-send-timeout", "cr-case3"), ("msrp-loss-path-b", "cr-case3")] {
        let sc = preset_scenario(presets::find(preset).expect("preset"));
        let j = judged(&sc, Rules::PreCr, Rules::PostCr);
        assert_eq!(j.verdict, Verdict::Fail, "{preset}");
        let d = j.deviations.iter().find(|d| d.clause == "cr-remain").unwrap_or_else(|| panic!("{preset}: {:?}", j.deviations));
        assert!(d.frame > 0, "{preset}: the frame of the PF's message that leaves: {d:?}");
        assert_eq!(clause(&j, case), "fail", "{preset}: {:?}", j.clauses);
        assert_eq!(clause(&j, "cr-case1"), "not exercised", "{preset}");
    }
    // Case 1 was in the text before the CR: a pre-CR PF passes the amended text there.
    let sc = preset_scenario(presets::find("bye-480-path-a").expect("preset"));
    let j = judged(&sc, Rules::PreCr, Rules::PostCr);
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.deviations);
    assert_eq!(clause(&j, "cr-case1"), "pass");
    assert_eq!(clause(&j, "cr-path-a"), "pass");
    assert_eq!(clause(&j, "cr-msrp"), "pass");
}

#[test]
fn the_reading_of_an_open_question_is_found_from_what_the_pf_did() {
    let sc = preset_scenario(presets::find("bye-480-path-a").expect("preset"));
    let mut other = sc.clone();
    assert!(other.policies.set(cpm_deferral::policy::PolicyId::Q13ParticipantInfo, "in-session-setup"));
    let j = judged(&other, Rules::PostCr, Rules::PostCr);
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.deviations);
    assert_eq!(j.policies["q13-participant-info"], vec!["in-session-setup"]);
    let j = judged(&sc, Rules::PostCr, Rules::PostCr);
    assert_eq!(j.policies["q13-participant-info"], vec!["notify-after-subscribe"]);
}

/// Q18: the focus refuses the PF's conference subscription (403 to a SUBSCRIBE, or a NOTIFY
/// `terminated;reason=rejected|noresource`). The judge reads the refusal from the capture: the
/// lockstep PF gets the same answers, so each option's retries (or their absence) match, the
/// option is found, and the rebuilt timeline carries the refusal as `subscription_refused_ms`.
#[test]
fn a_refused_subscription_is_read_from_the_capture() {
    let events = r#"[
        { "at_ms": 1000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 3000, "kind": "message", "from": "alice", "text": "one" },
        { "at_ms": 6000, "kind": "leave", "member": "bob" },
        { "at_ms": 8000, "kind": "message", "from": "alice", "text": "two" },
        { "at_ms": 600000, "kind": "register", "reaction_ms": 500 }
    ]"#;
    for reason in ["rejected", "noresource"] {
        for opt in ["retry-backoff", "give-up", "treat-as-group-ended"] {
            let body = format!(
                r#"{{ "format": "cpm-deferral-scenario", "version": 1, "subscription_refused_ms": 5000, "subscription_refused_reason": "{reason}", "policies": {{ "q18-subscription-fails": "{opt}" }}, "events": {events} }}"#
            );
            let sc = Scenario::from_json(&body).expect("scenario");
            let j = judged(&sc, Rules::PostCr, Rules::PostCr);
            assert_eq!(j.verdict, Verdict::Pass, "{reason} {opt}: {:?}\n{}", j.deviations, cpm_deferral::judge::to_text(&j));
            assert!(j.policies["q18-subscription-fails"].contains(&opt), "{reason} {opt}: {:?}", j.policies["q18-subscription-fails"]);
            let rebuilt = Scenario::from_json(&j.scenario_json).unwrap_or_else(|e| panic!("{e}\n{}", j.scenario_json));
            let (at, how) = rebuilt.sub_refused.unwrap_or_else(|| panic!("{reason} {opt}: no refusal in {}", j.scenario_json));
            assert!((5000..=6100).contains(&at), "{reason} {opt}: refused from {at} ms");
            assert_eq!(how.reason(), reason, "{reason} {opt}");
            assert!(j.inferred.iter().any(|i| i.contains("subscription_refused_ms")), "{reason} {opt}: {:?}", j.inferred);
        }
        // retry-backoff's four retries and give-up's none tell the two apart.
        let body = |opt: &str| {
            format!(
                r#"{{ "format": "cpm-deferral-scenario", "version": 1, "subscription_refused_ms": 5000, "subscription_refused_reason": "{reason}", "policies": {{ "q18-subscription-fails": "{opt}" }}, "events": {events} }}"#
            )
        };
        let j = judged(&Scenario::from_json(&body("retry-backoff")).expect("scenario"), Rules::PostCr, Rules::PostCr);
        assert!(!j.policies["q18-subscription-fails"].contains(&"give-up"), "{reason}: {:?}", j.policies["q18-subscription-fails"]);
    }
}

#[test]
fn random_timelines_judged_against_their_own_run_conform() {
    let n: u64 = std::env::var("CPM_JUDGE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    // The export's PF and CF addresses, as a user who knows the network gives --pf and --cf.
    let (pf, cf) = ("192.0.2.10".parse().ok(), "192.0.2.20".parse().ok());
    let mut failed = Vec::new();
    let mut judged = 0;
    let mut not_judged = 0;
    for seed in 0..n {
        let seed = common::mix64(seed ^ 0x6a75_6467);
        let sc = Scenario::from_json(&gen_scenario(seed)).expect("generated scenario");
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = simulate(&sc, rules, true);
            // A run in which the PF never exchanged a message with the focus has no group
            // session to judge: only there may the judge refuse.
            let has_focus_traffic = t.steps.iter().any(|s| {
                s.kind == StepKind::Message && !s.dropped && ((&*s.from == "carol-pf" && &*s.to == "cf") || (&*s.from == "cf" && &*s.to == "carol-pf"))
            });
            match judge(&capture_of(&sc, &t), Options { pf, cf, rules }) {
                // Carol with her tablet: the judge's model has one device of hers, so it says so
                // and calls the comparison neither a pass nor a fail (src/judge/limits.rs). A
                // capture of one device must never be read as two.
                Ok(j) if j.not_judged.iter().any(|n| n.contains("devices")) => {
                    if !sc.tablet || j.verdict != Verdict::Inconclusive {
                        failed.push(format!("{seed:#x} {}: read as two devices, {:?}, tablet {}", rules.as_str(), j.verdict, sc.tablet));
                    } else {
                        not_judged += 1;
                    }
                }
                Ok(j) if j.verdict == Verdict::Fail => failed.push(format!("{seed:#x} {}: {:?}", rules.as_str(), j.deviations)),
                Ok(j) if !j.not_judged.is_empty() => not_judged += 1,
                Ok(_) => judged += 1,
                Err(e) if has_focus_traffic => failed.push(format!("{seed:#x} {}: cannot judge: {e}", rules.as_str())),
                Err(_) => {}
            }
        }
    }
    // Known limit, measured rather than hidden: on these adversarial timelines (hidden losses
    // during re-joins, rejections and registrations in the same seconds, policies drawn at
    // random) what reached the PF does not always determine what the model's PF saw, and the
    // judge then reports a deviation of a conforming PF. 1,000 runs: 1.0 % with the lockstep
    // oracle, 6.5 % with the model re-run it replaced (docs/judge.md), on an older tree; on
    // this one, with the focus refusing the PF's subscription in about one timeline in five
    // (Q18) and re-joins with other session IDs (Q20), nothing filtered out: 46 of 1,920 judged
    // runs (2.4 %; 10 of the 352 runs with a refusal, 2.8 %). Every such run is listed; more
    // than 3 % fails the test, and so does any refusal to judge.
    let refused = failed.iter().filter(|f| f.contains("cannot judge")).count();
    eprintln!(
        "judge self-test: {} of {} judged runs reported a deviation ({not_judged} more were said to be beyond the model):\n{}",
        failed.len() - refused,
        judged + failed.len() - refused,
        failed.join("\n")
    );
    assert_eq!(refused, 0, "runs with traffic to the focus that the judge refused:\n{}", failed.join("\n"));
    let total = judged + failed.len();
    assert!(failed.len() * 100 <= total * 3, "{} of {total} runs judged against themselves did not pass (limit 3 %):\n{}", failed.len(), failed.join("\n"));
    assert!(judged as u64 >= n, "only {judged} of {} runs could be judged", 2 * n);
}

#[test]
fn what_is_not_a_capture_of_a_pf_cannot_be_judged() {
    for bytes in [&b""[..], b"not a capture at all", &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]] {
        let e = judge(bytes, Options::default()).expect_err("refused");
        assert!(!e.to_string().is_empty());
    }
}

/// `cpm-deferral conform` keeps the issue's contract: exit 0 conforms, 1 a deviation, 2 cannot
/// judge with one line on stderr; `--format json` has `verdict`, `clauses`, `deviations` and
/// `policies`.
#[test]
fn the_conform_command_keeps_its_contract() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_cpm-deferral");
    let dir = std::env::temp_dir().join(format!("cpm-judge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sc = preset_scenario(presets::find("invite-timeout-path-a").expect("preset"));
    let write = |name: &str, rules: Rules| {
        let path = dir.join(name);
        std::fs::write(&path, capture_of(&sc, &simulate(&sc, rules, true))).expect("write");
        path
    };
    let post = write("post.pcap", Rules::PostCr);
    let pre = write("pre.pcap", Rules::PreCr);
    let bad = dir.join("bad.pcap");
    std::fs::write(&bad, b"hello, not a capture").expect("write");

    let out = Command::new(bin).args(["conform"]).arg(&post).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("PASS"));

    let out = Command::new(bin).args(["conform", "--format", "json"]).arg(&pre).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verdict"], "fail");
    assert!(v["clauses"].as_array().is_some_and(|c| c.iter().any(|c| c["id"] == "cr-case2" && c["verdict"] == "fail")), "{}", v["clauses"]);
    let d = &v["deviations"][0];
    for key in ["clause", "at_ms", "frame", "expected", "observed"] {
        assert!(!d[key].is_null(), "deviation without {key}: {d}");
    }
    assert!(v["policies"]["q1-rejoin-after-invite"].is_array());
    assert_eq!(v["scenario"]["format"], "cpm-deferral-scenario", "the rebuilt timeline is a scenario file");

    // Judged with the rules before the CR, the same pre-CR capture conforms.
    let out = Command::new(bin).args(["conform", "--rules", "pre-cr"]).arg(&pre).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    for args in [
        vec!["conform".to_string(), bad.display().to_string()],
        vec!["conform".into()],
        vec!["conform".into(), "--format".into(), "xml".into(), post.display().to_string()],
    ] {
        let out = Command::new(bin).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        if args.len() == 2 {
            assert_eq!(err.lines().count(), 1, "one line: {err}");
        }
    }
    // Read streaming, no size is refused: a 2 GB file (sparse: zeros) and /dev/zero are not
    // captures, which the reader tells at their first bytes (neither is read to its end).
    let big = dir.join("big.pcap");
    std::fs::File::create(&big).and_then(|f| f.set_len(2 << 30)).expect("sparse file");
    for path in [big.display().to_string(), "/dev/zero".to_string()] {
        let out = Command::new(bin).args(["conform", &path]).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a pcap or pcapng") && err.lines().count() == 1, "{path}: {err}");
    }
    let out = Command::new(bin).args(["help", "conform"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Exit status: 0 the PF conforms"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The judgement does not depend on how the network carried the traffic: every variant of the
/// capture corpus (pcapng, VLAN, SLL and SLL2, raw IP, IPv6, SIP over UDP and IP fragments,
/// compact header forms in another case and order, small, coalesced, reordered and retransmitted
/// TCP segments, MSRP chunks, noise frames, other ports, FIN and RST) gets the verdict, the
/// per-sentence verdicts and the deviations of the plain capture.
#[test]
fn the_judgement_is_the_same_over_every_network_of_the_capture_corpus() {
    for (preset, rules, judge_rules) in [
        ("bye-480-path-b", Rules::PostCr, Rules::PostCr),
        ("invite-timeout-path-a", Rules::PreCr, Rules::PostCr),
        ("msrp-loss-path-a", Rules::PostCr, Rules::PostCr),
    ] {
        let sc = preset_scenario(presets::find(preset).expect("preset"));
        let t = simulate(&sc, rules, true);
        let plain = judge(&transform::write(&t, &sc, &transform::plain()).bytes, Options { pf: None, cf: None, rules: judge_rules }).expect("plain judged");
        let shape = |j: &cpm_deferral::judge::Judgement| {
            (
                j.verdict,
                j.clauses.iter().map(|c| (c.id, c.verdict)).collect::<Vec<_>>(),
                j.deviations.iter().map(|d| (d.clause, d.expected.clone(), d.observed.clone())).collect::<Vec<_>>(),
            )
        };
        for prof in transform::profiles() {
            let v = transform::write(&t, &sc, &prof);
            let j = judge(&v.bytes, Options { pf: None, cf: None, rules: judge_rules }).unwrap_or_else(|e| panic!("{preset} over {}: {e}", prof.name));
            assert_eq!(shape(&j), shape(&plain), "{preset} over {}", prof.name);
        }
    }
}

/// PF faults injected at message level into the capture of a conforming run, each failing at
/// the sentence it breaks (issue 14, "Tests"): the corpus's `faults/` (tests/capture_corpus/
/// corpus.rs builds them; tests/capture_files.rs judges the committed files).
#[test]
fn each_pf_fault_fails_at_the_sentence_it_breaks() {
    for (name, sc, t, clause) in corpus::faults() {
        let j = judge(&capture_of(&sc, &t), Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(j.verdict, Verdict::Fail, "{name}: {}", cpm_deferral::judge::to_text(&j));
        assert!(j.deviations.iter().any(|d| d.clause == clause), "{name}: expected a deviation at {clause}: {:?}", j.deviations);
        assert_eq!(self::clause(&j, clause), "fail", "{name}");
        match name {
            // Leaving after a cause-480 BYE breaks case 1 too.
            "bye-to-the-focus-after-a-cause-480-bye" => assert_eq!(self::clause(&j, "cr-case1"), "fail", "{:?}", j.clauses),
            // A stored message skipped: the delivery sentence fails at a SEND, the deferral was right.
            "replay-one-message-missing" => {
                let d = j.deviations.iter().find(|d| d.clause == "cr-msrp").expect("cr-msrp");
                assert!(d.expected.starts_with("MSRP SEND \""), "{d:?}");
                assert_eq!(self::clause(&j, "cr-case1"), "pass", "the deferral itself was right");
            }
            _ => {}
        }
    }
}

/// The page's two ladders (issue 14, "the observed ladder … the expected ladder beside it,
/// deviations marked on both"): the observed trace has one step per captured message on the
/// roles' lanes, and each deviation names its step on both ladders: the real PF's message in
/// the deviation's frame, and the model's message it expected there.
#[test]
fn each_deviation_names_its_step_on_the_observed_and_the_expected_ladder() {
    let sc = preset_scenario(presets::find("invite-timeout-path-a").expect("preset"));
    let t = simulate(&sc, Rules::PreCr, true);
    let bytes = capture_of(&sc, &t);
    let j = cpm_deferral::judge::judge_with_ladders(&bytes, Options::default()).expect("judged");
    let l = j.ladders.as_ref().expect("ladders");
    assert_eq!(l.observed.steps.len(), j.messages, "one step per captured message");
    assert!(l.observed.lanes.iter().any(|x| &*x.id == "carol-pf" && x.role == "pf"));
    assert!(!j.deviations.is_empty());
    for d in &j.deviations {
        let o = &l.observed.steps[d.observed_step.expect("observed step") as usize];
        assert!(o.note.starts_with(&format!("frame {} ", d.frame)), "{d:?}: {}", o.note);
        assert_eq!(&*o.from, "carol-pf", "{d:?}");
        let e = &l.expected.steps[d.expected_step.expect("expected step") as usize];
        assert_eq!(&*e.from, "carol-pf", "{d:?}");
        let method = d.expected.split(' ').nth(1).expect("key");
        assert!(e.label.starts_with(method), "{d:?}: expected step {}", e.label);
    }
    // A conforming capture: ladders, no deviation to mark.
    let t = simulate(&sc, Rules::PostCr, true);
    let j = cpm_deferral::judge::judge_with_ladders(&capture_of(&sc, &t), Options::default()).expect("judged");
    assert!(j.deviations.is_empty() && j.ladders.is_some());
    let json: serde_json::Value = serde_json::from_str(&cpm_deferral::judge::to_json_with_ladders(&j)).expect("json");
    assert!(json["ladders"]["observed"]["steps"].as_array().is_some_and(|s| s.len() == j.messages));
    assert!(json["ladders"]["expected"]["lanes"].as_array().is_some_and(|s| !s.is_empty()));
    // The CLI's JSON does not carry them.
    let cli: serde_json::Value = serde_json::from_str(&cpm_deferral::judge::to_json(&j)).expect("json");
    assert!(cli.get("ladders").is_none());
}

/// Streaming (src/judge/stream.rs): a capture pushed in pieces of any size, down to a byte, is
/// judged exactly as the whole file held in memory: the corpus's networks (pcapng, SLL2,
/// fragments, chunks, …) and faults.
#[test]
fn a_capture_pushed_in_pieces_of_any_size_is_judged_as_the_whole_file() {
    let shape =
        |j: &cpm_deferral::judge::Judgement| (j.verdict, j.messages, j.clauses.clone(), j.deviations.clone(), j.policies.clone(), j.scenario_json.clone());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for e in corpus::entries().into_iter().filter(|e| !e.file.starts_with("presets/")) {
        let whole = judge(&e.bytes, Options::default()).unwrap_or_else(|x| panic!("{}: {x}", e.file));
        let mut c = cpm_deferral::judge::CaptureJudge::new();
        let mut at = 0;
        while at < e.bytes.len() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let n = (1 + seed % 1500) as usize;
            let end = (at + n).min(e.bytes.len());
            c.push(&e.bytes[at..end]);
            at = end;
        }
        let pieces = c.finish(Options::default(), false).unwrap_or_else(|x| panic!("{}: {x}", e.file));
        assert!(shape(&pieces) == shape(&whole), "{}: pieces {:?}, whole {:?}", e.file, pieces.deviations, whole.deviations);
        assert_eq!(pieces.unjudged, 0);
        // And from a reader (the CLI's way).
        let read = cpm_deferral::judge::judge_reader(&e.bytes[..], Options::default()).expect("read");
        assert!(shape(&read) == shape(&whole), "{}", e.file);
    }
}

/// Memory stays bounded: only the first `MAX_JUDGED` messages are kept; the ones read after
/// them are counted, not judged, and a capture that would pass is then "inconclusive" (the
/// rest may hold a deviation), with the same verdict per sentence.
#[test]
fn messages_after_the_first_max_judged_are_read_and_counted_not_judged() {
    let mut sc = preset_scenario(presets::find("bye-480-path-a").expect("preset"));
    // Without IMDNs: the judge leaves them out of `messages` but reads (and counts) them
    // towards MAX_JUDGED, so the count below holds for a capture without them.
    sc.imdn = cpm_deferral::scenario::ImdnMode::None;
    let mut bytes = capture_of(&sc, &simulate(&sc, Rules::PostCr, true));
    let plain = judge(&bytes, Options::default()).expect("judged");
    assert_eq!(plain.verdict, Verdict::Pass);
    // The last record's time (classic pcap, little-endian, as the export writes it).
    let (mut at, mut ts) = (24usize, [0u8; 8]);
    while at + 16 <= bytes.len() {
        ts.copy_from_slice(&bytes[at..at + 8]);
        at += 16 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("len")) as usize;
    }
    // Then OPTIONS pings between two other nodes, at that same time, past the limit.
    let extra = cpm_deferral::judge::MAX_JUDGED + 50;
    for k in 0..extra {
        let sip = format!("OPTIONS sip:10.9.9.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.1:5060;branch=z9hG4bK{k}\r\nFrom: <sip:a@10.9.9.1>;tag=1\r\nTo: <sip:b@10.9.9.2>\r\nCall-ID: ping-{k}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 9, 9, 1], [10, 9, 9, 2], 64)
            .udp(5060, 5060)
            .write(&mut frame, sip.as_bytes())
            .expect("frame");
        bytes.extend_from_slice(&ts);
        bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&frame);
    }
    let j = cpm_deferral::judge::judge_reader(&bytes[..], Options::default()).expect("judged");
    assert_eq!(j.messages, cpm_deferral::judge::MAX_JUDGED);
    assert_eq!(j.unjudged as usize, plain.messages + extra - cpm_deferral::judge::MAX_JUDGED);
    assert_eq!(j.verdict, Verdict::Inconclusive, "{}", cpm_deferral::judge::to_text(&j));
    assert_eq!(j.clauses, plain.clauses);
    assert!(cpm_deferral::judge::to_text(&j).contains("not judged"));
}

/// The oracle runs in lockstep with the capture (src/judge/lockstep.rs): what reached the PF is
/// fed to the model's PF in the capture's order, at the capture's times. Here a member's chat
/// reaches the PF within 30 ms either side of Carol's cause-480 BYE, or of her re-join: each of
/// the 122 conforming captures passes. The oracle before (a model re-run of a timeline rebuilt
/// from the capture, each event moved by the model's own hop latencies) failed 5 of them (a chat
/// 11 to 15 ms after the re-join: "expected MSRP 200, observed SIP SUBSCRIBE" at cr-subscribe).
#[test]
fn what_reached_the_pf_is_judged_in_the_order_the_capture_shows() {
    let mut failed = Vec::new();
    for (at, kind) in [(8_000u64, "bye"), (20_000, "rejoin")] {
        for delta in -30i64..=30 {
            let chat = (at as i64 + delta) as u64;
            let mut events = [
                (2_000, r#""kind":"message","from":"alice","text":"before""#.to_string()),
                (8_000, r#""kind":"bye","reason":"SIP;cause=480""#.to_string()),
                (chat, r#""kind":"message","from":"bob","text":"close by""#.to_string()),
                (20_000, r#""kind":"rejoin""#.to_string()),
                (26_000, r#""kind":"message","from":"alice","text":"after""#.to_string()),
            ];
            events.sort_by_key(|e| e.0);
            let events: Vec<String> = events.iter().map(|(t, e)| format!("{{\"at_ms\":{t},{e}}}")).collect();
            let json = format!(r#"{{"format":"cpm-deferral-scenario","version":1,"title":"chat around a {kind}","events":[{}]}}"#, events.join(","));
            let sc = Scenario::from_json(&json).expect("scenario");
            let j = judged(&sc, Rules::PostCr, Rules::PostCr);
            if j.verdict != Verdict::Pass {
                failed.push(format!("chat {delta:+} ms from the {kind}: {} {:?}", j.verdict.as_str(), j.deviations));
            }
        }
    }
    assert!(failed.is_empty(), "{} of 122 conforming captures not passed:\n{}", failed.len(), failed.join("\n"));
}

/// A TCP reset the capture shows is an input of the PF (src/judge/lockstep.rs): fed to the
/// model's PF at its time, so the loss of Carol's MSRP connection is not inferred. The pcap
/// export writes no RST (the judge then infers the reset from what the PF did next, and says
/// so); the same capture with the RST of her MSRP connection at the loss has nothing inferred,
/// passes, and the expected ladder shows the reset with its frame.
#[test]
fn a_tcp_reset_the_capture_shows_is_fed_to_the_pf() {
    use cpm_deferral::capture::{read_all, WireMessage};
    let sc = preset_scenario(presets::find("msrp-loss-path-b").expect("preset"));
    let t = simulate(&sc, Rules::PostCr, true);
    let mut bytes = capture_of(&sc, &t);
    let opts = Options { pf: None, cf: None, rules: Rules::PostCr };
    let inferred = judge(&bytes, opts).expect("judged");
    assert_eq!(inferred.verdict, Verdict::Pass);
    assert!(inferred.inferred.iter().any(|i| i.contains("TCP reset")), "without the RST the reset is inferred: {:?}", inferred.inferred);
    // Carol's MSRP connection with her PF: her client's first SEND to it.
    let (msgs, ..) = read_all(&bytes);
    let pf = inferred.roles.pf;
    let first = msgs
        .iter()
        .find(|m| pf.matches(m.dst) && matches!(m.message, WireMessage::Msrp(_)) && !inferred.roles.cf.is_some_and(|c| c.matches(m.src)))
        .expect("Carol's MSRP");
    let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (first.src.ip(), first.dst.ip()) else { panic!("IPv4") };
    let mut packet = Vec::new();
    etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src.octets(), dst.octets(), 64)
        .tcp(first.src.port(), first.dst.port(), 1, 64_240)
        .rst()
        .write(&mut packet, &[])
        .expect("RST");
    // The loss (8 s into the run), appended as the file's last record (the reader orders
    // nothing; the judge takes each event at its time).
    let at_ms = sc.start_epoch_ms + 8_000;
    for v in [(at_ms / 1000) as u32, (at_ms % 1000) as u32 * 1000, packet.len() as u32, packet.len() as u32] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes.extend_from_slice(&packet);
    let seen = cpm_deferral::judge::judge_with_ladders(&bytes, opts).expect("judged");
    assert_eq!(seen.verdict, Verdict::Pass, "{:?}", seen.deviations);
    assert!(!seen.inferred.iter().any(|i| i.contains("TCP reset")), "the RST is in the capture: {:?}", seen.inferred);
    let expected = &seen.ladders.as_ref().expect("ladders").expected;
    assert!(expected.steps.iter().any(|s| s.label == "TCP reset" && s.note.contains("frame")), "the expected ladder shows the capture's RST");
}

/// The observed ladder's steps carry the model PF's state at each point of the capture (the
/// lockstep machine's when that message was sent or received), so its PF lane shows the
/// deferral and the delivery where they happened; and a deviation names the citation on the
/// model's step where it deviates.
#[test]
fn the_observed_ladder_shows_the_model_pfs_state_along_the_capture() {
    use cpm_deferral::trace::PfState;
    let sc = preset_scenario(presets::find("bye-480-path-b").expect("preset"));
    let t = simulate(&sc, Rules::PostCr, true);
    let j = cpm_deferral::judge::judge_with_ladders(&capture_of(&sc, &t), Options { pf: None, cf: None, rules: Rules::PostCr }).expect("judged");
    assert_eq!(j.verdict, Verdict::Pass);
    let observed = &j.ladders.as_ref().expect("ladders").observed;
    let states: Vec<PfState> = observed.steps.iter().map(|s| s.pf_state).collect();
    for want in [PfState::Active, PfState::Deferred, PfState::DeliveringB] {
        assert!(states.contains(&want), "{want:?} on the observed ladder: {states:?}");
    }
    assert!(observed.pf_states.len() >= 3, "a state band per state: {:?}", observed.pf_states);
    // A pre-CR PF judged post-CR: the deviation cites what the model's PF decides there.
    let sc = preset_scenario(presets::find("invite-timeout-path-a").expect("preset"));
    let j = judged(&sc, Rules::PreCr, Rules::PostCr);
    assert!(j.deviations.iter().any(|d| !d.cites.is_empty()), "{:?}", j.deviations);
}
