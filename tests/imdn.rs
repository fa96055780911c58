//! Issue 11, "IMDN (RFC 5438)", digest Q17: Carol's client answers each message replayed to it
//! with `delivered` and, after the scenario's `carol_reads_ms`, `displayed` (RFC 5438 §5.1,
//! §5.2); each IMDN is an MSRP SEND whose CPIM `To` is the original sender, with an
//! `imdn.Message-ID` of its own, and whose IMDN document names the original's `imdn.Message-ID`
//! and `DateTime` (§7.1.1, §7.2.1.1, §7.2.1.2). It goes Carol → PF → focus → the sender, whose
//! lane shows a `delivered #n` / `displayed #n` step. The scenario's `imdn` (`replayed`,
//! default; `all`; `none`) says which messages are answered, and policy
//! `q17-imdn-while-storing` (not in the CR) what the PF says itself while it stores.

mod common;

use cpm_deferral::export::pcap;
use cpm_deferral::judge::{judge, Options, Verdict};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Protocol, Step, Trace};
use cpm_deferral::wire::cpim::CpimMessage;
use cpm_deferral::wire::imdn::{Imdn, ImdnKind, ImdnStatus};
use cpm_deferral::wire::msrp;
use cpm_deferral::{run, Rules};

const Q17: &str = "policy:q17-imdn-while-storing";

/// Alice writes live at 1 s; Carol drops (case 1) at 2 s; Alice and Bob write while she is away;
/// she re-joins at 20 s (path B) and the PF replays both; Bob writes live at 40 s.
const EVENTS: &str = r#"[
    { "at_ms": 1000, "kind": "message", "from": "alice", "text": "live before" },
    { "at_ms": 2000, "kind": "bye", "reason": "SIP;cause=480" },
    { "at_ms": 4000, "kind": "message", "from": "alice", "text": "stored one" },
    { "at_ms": 5000, "kind": "message", "from": "bob", "text": "stored two" },
    { "at_ms": 20000, "kind": "rejoin" },
    { "at_ms": 40000, "kind": "message", "from": "bob", "text": "live after" }
]"#;

fn trace_with(top: &str, policies: &str) -> Trace {
    let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {top} "policies": {{ {policies} }}, "events": {EVENTS} }}"#);
    let sc = Scenario::from_json(&body).unwrap_or_else(|e| panic!("scenario refused: {e}\n{body}"));
    run(&sc, Rules::PostCr)
}

/// The MSRP SENDs whose CPIM document carries an IMDN, with the sender's lane and the document.
fn imdn_sends(t: &Trace) -> Vec<(&Step, CpimMessage, Imdn)> {
    t.steps
        .iter()
        .filter(|s| s.protocol == Protocol::MSRP && s.label == "SEND" && s.raw.contains("message/imdn+xml"))
        .map(|s| {
            let m = msrp::parse(&s.raw).unwrap_or_else(|e| panic!("step {}: {e}", s.index));
            let doc = CpimMessage::parse(m.body.as_deref().unwrap_or("")).unwrap_or_else(|e| panic!("step {}: {e}", s.index));
            let imdn = Imdn::parse(&doc.content).unwrap_or_else(|e| panic!("step {}: {e}\n{}", s.index, doc.content));
            (s, doc, imdn)
        })
        .collect()
}

/// What the members' lanes say of IMDNs: (lane, label, time).
fn member_marks(t: &Trace) -> Vec<(String, String, u64)> {
    t.steps.iter().filter(|s| s.from == s.to && s.clauses.contains(&"RFC 5438 §7.2.1")).map(|s| (s.from.to_string(), s.label.to_string(), s.at_ms)).collect()
}

fn chat_by_text<'t>(t: &'t Trace, text: &str) -> &'t cpm_deferral::trace::Chat {
    t.chats.iter().find(|c| c.text == text).unwrap_or_else(|| panic!("no chat {text:?}"))
}

/// The default (`imdn: replayed`, `carol_reads_ms` 5000): each replayed message gets delivered
/// at once and displayed 5 s later, each one routed Carol → PF → focus → its sender; the IMDN
/// names the original's imdn.Message-ID and DateTime and has a new id of its own.
#[test]
fn replayed_messages_get_delivered_then_displayed_routed_to_their_sender() {
    let t = trace_with("", "");
    let one = chat_by_text(&t, "stored one");
    let two = chat_by_text(&t, "stored two");
    let sends = imdn_sends(&t);
    let from_carol: Vec<_> = sends.iter().filter(|(s, ..)| &*s.from == "carol").collect();
    assert_eq!(from_carol.len(), 4, "delivered and displayed for each of the two replayed messages");
    for (chat, sender) in [(one, "alice"), (two, "bob")] {
        let original =
            t.steps.iter().find(|s| s.chat == Some(chat.id) && &*s.from == "carol-pf" && &*s.to == "carol" && s.label == "SEND").expect("replayed SEND");
        let orig_doc = CpimMessage::parse(msrp::parse(&original.raw).unwrap().body.as_deref().unwrap()).unwrap();
        let mut kinds = Vec::new();
        for (s, doc, imdn) in sends.iter().filter(|(_, _, m)| m.message_id == chat.imdn_id) {
            assert_eq!(imdn.datetime, orig_doc.header("DateTime").unwrap(), "RFC 5438 §7.2.1.2: the original DateTime");
            assert_eq!(doc.header("To"), Some(format!("<sip:{sender}@ims.example.net>").as_str()), "CPIM To is the original sender");
            assert_ne!(doc.header("imdn.Message-ID"), Some(chat.imdn_id.as_str()), "an IMDN has an imdn.Message-ID of its own");
            assert_eq!(doc.header("imdn.Disposition-Notification"), None, "an IMDN asks for none (RFC 5438 §7.1.1)");
            assert_eq!(imdn.recipient, None);
            kinds.push((&*s.from, &*s.to, imdn.kind));
        }
        use ImdnKind::*;
        assert_eq!(
            kinds,
            [
                ("carol", "carol-pf", Delivery),
                ("carol-pf", "cf", Delivery),
                ("cf", sender, Delivery),
                ("carol", "carol-pf", Display),
                ("carol-pf", "cf", Display),
                ("cf", sender, Display)
            ],
            "{sender}'s message #{}",
            chat.id
        );
    }
    let marks = member_marks(&t);
    let delivered = marks.iter().find(|(l, m, _)| l == "alice" && *m == format!("delivered #{}", one.id)).expect("alice's lane: delivered");
    let displayed = marks.iter().find(|(l, m, _)| l == "alice" && *m == format!("displayed #{}", one.id)).expect("alice's lane: displayed");
    assert_eq!(displayed.2 - delivered.2, 5000, "displayed comes carol_reads_ms after delivered (same path)");
    assert!(marks.iter().any(|(l, m, _)| l == "bob" && *m == format!("delivered #{}", two.id)));
    assert_eq!(marks.len(), 4, "{marks:?}");
    // The live messages (before the drop, after the replay) are not answered by default.
    for text in ["live before", "live after"] {
        let c = chat_by_text(&t, text);
        assert!(!sends.iter().any(|(_, _, m)| m.message_id == c.imdn_id), "{text} got an IMDN under imdn: replayed");
    }
    // IMDNs are no chat messages: the chat records and the summary are what they were.
    assert_eq!(t.chats.len(), 4);
    assert_eq!((t.summary.stored, t.summary.delivered_from_store), (2, 2));
}

/// `imdn: all` answers the live messages too; `imdn: none` answers nothing; the other steps
/// (chats, store, outcomes) are the same under all three.
#[test]
fn the_scenarios_imdn_says_which_messages_are_answered() {
    let all = trace_with(r#""imdn": "all","#, "");
    let none = trace_with(r#""imdn": "none","#, "");
    let replayed = trace_with("", "");
    let answered = |t: &Trace| {
        let ids: Vec<String> = imdn_sends(t).iter().filter(|(s, ..)| &*s.from == "carol").map(|(_, _, m)| m.message_id.clone()).collect();
        t.chats.iter().filter(|c| ids.contains(&c.imdn_id)).map(|c| c.text.clone()).collect::<Vec<_>>()
    };
    assert_eq!(answered(&replayed), ["stored one", "stored two"]);
    assert_eq!(answered(&all), ["live before", "stored one", "stored two", "live after"]);
    assert!(answered(&none).is_empty());
    assert!(imdn_sends(&none).is_empty() && member_marks(&none).is_empty());
    for t in [&all, &none] {
        assert_eq!(t.summary, replayed.summary);
        let outcomes = |t: &Trace| t.chats.iter().map(|c| c.outcome).collect::<Vec<_>>();
        assert_eq!(outcomes(t), outcomes(&replayed));
    }
}

/// `carol_reads_ms: "never"`: delivered only; `0`: displayed at once, right after delivered.
#[test]
fn carol_reads_ms_delays_or_drops_displayed() {
    let never = trace_with(r#""carol_reads_ms": "never","#, "");
    let kinds = |t: &Trace| imdn_sends(t).iter().filter(|(s, ..)| &*s.from == "carol").map(|(s, _, m)| (m.kind, s.at_ms)).collect::<Vec<_>>();
    assert!(kinds(&never).iter().all(|(k, _)| *k == ImdnKind::Delivery) && kinds(&never).len() == 2, "{:?}", kinds(&never));
    assert!(!never.timers.iter().any(|x| x.name == "read delay"));
    let now = trace_with(r#""carol_reads_ms": 0,"#, "");
    let k = kinds(&now);
    assert_eq!(k.len(), 4);
    assert_eq!(k[0].0, ImdnKind::Delivery);
    assert_eq!(k[1], (ImdnKind::Display, k[0].1), "displayed in the same instant as delivered");
    let default = trace_with("", "");
    assert!(default.timers.iter().any(|x| x.name == "read delay" && x.lane.as_ref() == "carol" && x.end_ms - x.start_ms == 5000));
    assert!(Scenario::from_json(r#"{ "format": "cpm-deferral-scenario", "version": 1, "carol_reads_ms": "soon", "events": [] }"#).is_err());
    assert!(Scenario::from_json(r#"{ "format": "cpm-deferral-scenario", "version": 1, "imdn": "some", "events": [] }"#).is_err());
}

/// Q17 `none` (default): while it stores, the PF sends nothing of its own; `processing-stored`:
/// for each stored message a processing-notification `stored` to its sender, citing the
/// policy; `delivered-on-behalf`: `delivered` at storage time, so the sender is later told
/// `delivered` twice (Carol's own on replay).
#[test]
fn q17_each_option_changes_what_the_sender_hears_while_carol_is_away() {
    let by_pf = |t: &Trace| {
        imdn_sends(t).into_iter().filter(|(s, ..)| &*s.from == "carol-pf" && s.clauses.contains(&Q17)).map(|(s, _, m)| (s.at_ms, m.status)).collect::<Vec<_>>()
    };
    let none = trace_with("", r#""q17-imdn-while-storing": "none""#);
    assert!(by_pf(&none).is_empty());
    assert!(!none.steps.iter().any(|s| s.clauses.contains(&Q17)));

    let stored = trace_with("", r#""q17-imdn-while-storing": "processing-stored""#);
    let pf = by_pf(&stored);
    assert_eq!(pf.iter().map(|(_, st)| *st).collect::<Vec<_>>(), [ImdnStatus::Stored, ImdnStatus::Stored], "{pf:?}");
    let one = chat_by_text(&stored, "stored one");
    assert_eq!(pf[0].0, one.stored_ms.unwrap(), "sent when the PF stores the message");
    let marks = member_marks(&stored);
    assert!(marks.iter().any(|(l, m, _)| l == "alice" && *m == format!("stored #{}", one.id)), "{marks:?}");
    assert!(marks.iter().any(|(l, m, _)| l == "bob" && m.starts_with("stored #")), "{marks:?}");
    assert_eq!(stored.summary, none.summary);

    let behalf = trace_with("", r#""q17-imdn-while-storing": "delivered-on-behalf""#);
    assert_eq!(by_pf(&behalf).iter().map(|(_, st)| *st).collect::<Vec<_>>(), [ImdnStatus::Delivered, ImdnStatus::Delivered]);
    let one = chat_by_text(&behalf, "stored one");
    let delivered = member_marks(&behalf).into_iter().filter(|(l, m, _)| l == "alice" && *m == format!("delivered #{}", one.id)).count();
    assert_eq!(delivered, 2, "the PF's on Carol's behalf, then her client's own on replay");
}

/// An IMDN whose sender has left the group is not routed: the focus says so.
#[test]
fn an_imdn_for_a_sender_who_left_is_not_routed() {
    let events = r#"[
        { "at_ms": 2000, "kind": "bye", "reason": "SIP;cause=480" },
        { "at_ms": 4000, "kind": "message", "from": "alice", "text": "stored one" },
        { "at_ms": 6000, "kind": "leave", "member": "alice" },
        { "at_ms": 20000, "kind": "rejoin" }
    ]"#;
    let sc = Scenario::from_json(&format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, "events": {events} }}"#)).unwrap();
    let t = run(&sc, Rules::PostCr);
    assert!(imdn_sends(&t).iter().any(|(s, ..)| &*s.from == "carol-pf" && &*s.to == "cf"));
    assert!(!imdn_sends(&t).iter().any(|(s, ..)| &*s.from == "cf"));
    assert!(t.steps.iter().any(|s| &*s.from == "cf" && s.label == "IMDN not routed"));
}

/// The judge accepts a run with IMDNs (every option of Q17, every `imdn` mode): it leaves them
/// out and judges the rest, which passes; the rebuilt timeline has no IMDN chats.
#[test]
fn the_judge_passes_runs_with_imdns_and_counts_no_imdn_as_a_chat() {
    for (top, q17) in [("", "none"), (r#""imdn": "all","#, "processing-stored"), (r#""carol_reads_ms": 0,"#, "delivered-on-behalf")] {
        let t = trace_with(top, &format!(r#""q17-imdn-while-storing": "{q17}""#));
        let body = format!(r#"{{ "format": "cpm-deferral-scenario", "version": 1, {top} "events": {EVENTS} }}"#);
        let sc = Scenario::from_json(&body).unwrap();
        assert!(!imdn_sends(&t).is_empty());
        let bytes = pcap::write(&t, &pcap::Network::for_scenario(&sc)).expect("pcap export");
        let j = judge(&bytes, Options::default()).unwrap_or_else(|e| panic!("{q17}: {e}"));
        assert_eq!(j.verdict, Verdict::Pass, "{q17}: {:?}", j.deviations);
        let messages = j.scenario_json.matches("\"kind\":\"message\"").count();
        assert_eq!(messages, 4, "{q17}: the rebuilt timeline's chats:\n{}", j.scenario_json);
        assert!(!j.scenario_json.contains("imdn+xml"));
    }
}

/// Two random timelines of tests/judge.rs's self-test (Q17 `processing-stored`, and Carol's
/// IMDNs around a BYE) on which the judge, before it left IMDNs out, reported the PF's IMDN
/// SENDs as deviations from §8.3.2.9.
#[test]
fn the_judge_leaves_imdns_out_of_random_timelines_that_carry_them() {
    let (pf, cf) = ("192.0.2.10".parse().ok(), "192.0.2.20".parse().ok());
    for seed in [0x410f_164b_d6e9_614d_u64, 0x4131_31ea_36b3_0326] {
        let sc = Scenario::from_json(&common::gen_scenario_for_the_judge(seed)).expect("generated scenario");
        let t = run(&sc, Rules::PostCr);
        assert!(!imdn_sends(&t).is_empty(), "{seed:#x}: the timeline carries no IMDN any more");
        let j = judge(&pcap::write(&t, &pcap::Network::for_scenario(&sc)).unwrap(), Options { pf, cf, rules: Rules::PostCr }).unwrap();
        assert_ne!(j.verdict, Verdict::Fail, "{seed:#x}: {:?}", j.deviations);
    }
}
