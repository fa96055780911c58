//! Issue 10, "The IMS core as proxies": every SIP message between Carol's client and her PF goes
//! through the IMS core lane (`scscf`, her P-CSCF and S-CSCF as RFC 3261 §16 proxies), which
//! consumes the Route entries naming it, adds its Via, Record-Routes dialog-forming requests,
//! answers 100 Trying to an INVITE, and (scenario `ims_core`) answers 408 or 480 itself or lets
//! the PF's Timer B fire. Each test failed on the engine before the core existed.

mod common;

use common::header;
use cpm_deferral::conformance::{check, Rule};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{PfState, Step, Trace};
use cpm_deferral::{run, Rules};
use serde_json::Value;

const CAROL_ROUTE: &str = "<sip:pcscf.ims.example.net:5060;lr>, <sip:scscf.ims.example.net;lr>";
const PF_ROUTE: &str = "<sip:scscf.ims.example.net;lr>, <sip:pcscf.ims.example.net:5060;lr>";

fn preset(name: &str) -> Scenario {
    let p = cpm_deferral::presets::all().iter().find(|p| p.name == name).expect("preset");
    Scenario::from_json(p.json).expect("preset parses")
}

/// A preset with top-level fields replaced.
fn preset_with(name: &str, set: &[(&str, Value)]) -> Scenario {
    let p = cpm_deferral::presets::all().iter().find(|p| p.name == name).expect("preset");
    let mut v: Value = serde_json::from_str(p.json).expect("json");
    for (k, val) in set {
        v[*k] = val.clone();
    }
    Scenario::from_json(&v.to_string()).expect("valid")
}

fn vias(raw: &str) -> usize {
    raw.split("\r\n").take_while(|l| !l.is_empty()).filter(|l| l.starts_with("Via: ")).count()
}

fn ruri(raw: &str) -> &str {
    raw.split(' ').nth(1).unwrap_or("")
}

/// The step after `i` that `lane` sends with this label.
fn next_from<'a>(t: &'a Trace, i: usize, lane: &str, label: &str) -> &'a Step {
    t.steps[i + 1..].iter().find(|s| &*s.from == lane && s.label == label).unwrap_or_else(|| panic!("no {label} from {lane} after step {i}"))
}

#[test]
fn carols_bye_reaches_her_pf_through_the_core_with_its_route_consumed() {
    let t = run(&preset("bye-480-path-a"), Rules::PostCr);
    let bye = t.steps.iter().find(|s| s.label == "BYE" && &*s.from == "carol").expect("Carol's BYE");
    assert_eq!(&*bye.to, "scscf", "her BYE goes to her P-CSCF (the IMS core), not straight to her PF");
    assert_eq!(header(&bye.raw, "Route"), Some(CAROL_ROUTE), "the established dialog's route set");
    assert_eq!(ruri(&bye.raw), "sip:chat-7f3a9c@pf.cpm.example.net", "to the PF's Contact, her remote target");
    let fwd = next_from(&t, bye.index as usize, "scscf", "BYE");
    assert_eq!(&*fwd.to, "carol-pf");
    assert_eq!(header(&fwd.raw, "Route"), None, "both proxies consumed their Route entries (RFC 3261 §16.4)");
    assert_eq!(vias(&fwd.raw), 3, "P-CSCF and S-CSCF added their Via:\n{}", fwd.raw);
    assert!(fwd.note.contains("P-CSCF, then S-CSCF"), "{}", fwd.note);
    assert_eq!(fwd.at_ms, bye.arrive_ms);
    let ok = next_from(&t, fwd.index as usize, "carol-pf", "200 OK");
    assert_eq!(&*ok.to, "scscf");
    assert_eq!(vias(&ok.raw), 3, "the PF's 200 copies every Via (RFC 3261 §8.2.6.2)");
    let back = next_from(&t, ok.index as usize, "scscf", "200 OK");
    assert_eq!(&*back.to, "carol");
    assert_eq!(vias(&back.raw), 1, "the proxies removed theirs (§16.7 step 3)");
}

#[test]
fn the_pfs_invite_goes_to_the_core_and_the_core_sends_it_on_to_carol() {
    let t = run(&preset("bye-480-path-a"), Rules::PostCr);
    let inv = t.steps.iter().find(|s| s.label == "INVITE" && &*s.from == "carol-pf" && s.raw.contains("Route: <sip:scscf")).expect("path A INVITE");
    assert_eq!(&*inv.to, "scscf", "an INVITE with Route <sip:scscf…;lr> goes to the S-CSCF, not to Carol");
    let fwd = next_from(&t, inv.index as usize, "scscf", "INVITE");
    assert_eq!(&*fwd.to, "carol");
    assert_eq!(header(&fwd.raw, "Route"), None);
    assert_eq!(ruri(&fwd.raw), "sip:carol@198.51.100.7:5060;transport=tcp", "the terminating S-CSCF retargets her AOR to her contact");
    assert_eq!(header(&fwd.raw, "Record-Route"), Some(CAROL_ROUTE), "two Record-Route entries (P-CSCF on top)");
    assert_eq!(vias(&fwd.raw), 3);
    assert_eq!(header(&fwd.raw, "Max-Forwards"), Some("68"));
}

#[test]
fn the_core_answers_100_trying_long_before_timer_b_could_fire() {
    let sc = preset("bye-480-path-a");
    let t = run(&sc, Rules::PostCr);
    let inv = t.steps.iter().find(|s| s.label == "INVITE" && &*s.from == "carol-pf" && &*s.to == "scscf").expect("the PF's INVITE");
    let trying = next_from(&t, inv.index as usize, "scscf", "100 Trying");
    assert_eq!(&*trying.to, "carol-pf");
    assert!(trying.arrive_ms - inv.at_ms <= 200, "within 200 ms (RFC 3261 §17.2.1)");
    assert!(trying.arrive_ms < inv.at_ms + 64 * sc.t1_ms);
    let b = t.timers.iter().find(|x| x.name == "Timer B" && x.start_ms == inv.at_ms).expect("Timer B span");
    assert_eq!(b.outcome, "stopped");
    assert_eq!(b.end_ms, trying.arrive_ms, "the 100 moves the transaction to Proceeding (§17.1.1.2)");
}

/// The focus invites unreachable Carol (`invite-timeout-path-a`): a stateful core answers the
/// PF's INVITE 408 after its own Timer B; under the default Q5 that starts case 2 exactly as the
/// PF's own Timer B does with a stateless core.
#[test]
fn the_cores_408_starts_the_case_2_deferral_as_timer_b_does() {
    for rules in [Rules::PostCr, Rules::PreCr] {
        let timer_b = run(&preset_with("invite-timeout-path-a", &[("ims_core", "stateless".into())]), rules);
        let core = run(&preset_with("invite-timeout-path-a", &[("ims_core", "answers-408".into())]), rules);
        assert!(timer_b.steps.iter().any(|s| s.label == "Timer B fired"), "stateless: the PF's Timer B fires");
        assert!(!timer_b.steps.iter().any(|s| s.label == "100 Trying" && &*s.from == "scscf"), "a stateless proxy sends no 100");
        let r408 = core.steps.iter().find(|s| s.label == "408 Request Timeout").expect("the core's 408");
        assert_eq!((&*r408.from, &*r408.to), ("scscf", "carol-pf"));
        assert!(!core.steps.iter().any(|s| s.label == "Timer B fired"), "the PF's Timer B stopped at the core's 100");
        let states = |t: &Trace| t.pf_states.iter().map(|s| s.state).collect::<Vec<PfState>>();
        assert_eq!(states(&core), states(&timer_b), "{}: the same course of PF states", rules.as_str());
        assert_eq!(core.summary, timer_b.summary, "{}", rules.as_str());
        let deferred = |t: &Trace| t.steps.iter().find(|s| s.label == "Deferred").map(|s| s.clauses.to_vec());
        assert_eq!(deferred(&core), deferred(&timer_b), "{}: the same clauses on the entry into Deferred", rules.as_str());
        if rules == Rules::PostCr {
            assert_eq!(deferred(&core), Some(vec!["reading:8.3.2.9"]), "case 2 applied to the focus's invitation: our reading, no policy");
            assert!(core.steps.iter().any(|s| s.key.as_deref().is_some_and(|k| k.starts_with("Trigger: 408 from the IMS core"))));
        }
    }
    // 480 at once from a core that knows she is gone; default Q5 treats it like a timeout.
    let t = run(&preset_with("invite-timeout-path-a", &[("ims_core", "answers-480".into())]), Rules::PostCr);
    let r = t.steps.iter().find(|s| s.label == "480 Temporarily Unavailable").expect("480");
    assert_eq!(&*r.from, "scscf");
    assert!(t.steps.iter().any(|s| s.label == "Deferred" && s.clauses.contains(&"policy:q5-invite-error")));
}

/// A dialog formed through the core (the PF's path A INVITE) keeps its route set: the PF's ACK
/// of the 2xx and Carol's later BYE carry it as Route (RFC 3261 §12.2.1.1, §13.2.2.4).
#[test]
fn the_2xx_ack_and_an_in_dialog_bye_follow_the_route_set() {
    let mut v: Value = serde_json::from_str(cpm_deferral::presets::all().iter().find(|p| p.name == "bye-480-path-a").expect("p").json).expect("json");
    v["events"].as_array_mut().expect("events").push(serde_json::json!({ "at_ms": 90000, "kind": "leave", "member": "carol" }));
    let t = run(&Scenario::from_json(&v.to_string()).expect("valid"), Rules::PostCr);
    let ok = t.steps.iter().find(|s| s.label == "200 OK" && &*s.from == "scscf" && &*s.to == "carol-pf" && s.raw.contains("CSeq: 1 INVITE")).expect("2xx");
    assert_eq!(header(&ok.raw, "Record-Route"), Some(CAROL_ROUTE), "Carol's 200 copies the Record-Route (§12.1.1)");
    let ack = next_from(&t, ok.index as usize, "carol-pf", "ACK");
    assert_eq!(&*ack.to, "scscf");
    assert_eq!(header(&ack.raw, "Route"), Some(PF_ROUTE), "the UAC's route set: Record-Route reversed (§12.1.2)");
    assert_eq!(ruri(&ack.raw), "sip:carol@198.51.100.7:5060;transport=tcp", "to the 2xx's Contact");
    let bye = t.steps.iter().rev().find(|s| s.label == "BYE" && &*s.from == "carol").expect("her leave");
    assert!(bye.at_ms >= 90_000);
    assert_eq!(header(&bye.raw, "Route"), Some(CAROL_ROUTE), "the UAS's route set: the INVITE's Record-Route (§12.1.1)");
    assert_eq!(&*bye.to, "scscf");
    let fwd = next_from(&t, bye.index as usize, "scscf", "BYE");
    assert_eq!(&*fwd.to, "carol-pf");
    let findings: Vec<String> = check(&t).iter().map(|f| f.to_string()).collect();
    assert!(findings.is_empty(), "{findings:#?}");
}

/// The checker's Route/Record-Route rule finds a proxy that keeps its Route entry, an in-dialog
/// request without its route set and a 2xx that drops the Record-Route.
#[test]
fn the_checker_finds_routing_that_is_broken() {
    let t = run(&preset("bye-480-path-a"), Rules::PostCr);
    assert!(check(&t).is_empty());
    let routing = |t: &Trace| check(t).into_iter().filter(|f| f.rule == Rule::Routing).count();
    // The core forwards Carol's BYE with her Route still in it.
    let mut bad = t.clone();
    let i = bad.steps.iter().position(|s| s.label == "BYE" && &*s.from == "scscf").expect("fwd BYE");
    bad.steps[i].raw = bad.steps[i].raw.replacen("Max-Forwards:", &format!("Route: {CAROL_ROUTE}\r\nMax-Forwards:"), 1);
    assert!(routing(&bad) >= 1, "a proxy that does not consume its Route entries");
    // Carol's BYE without her route set.
    let mut bad = t.clone();
    let i = bad.steps.iter().position(|s| s.label == "BYE" && &*s.from == "carol").expect("BYE");
    bad.steps[i].raw = bad.steps[i].raw.replacen(&format!("Route: {CAROL_ROUTE}\r\n"), "", 1);
    let _ = routing(&bad); // a dialog from before the trace: its route set is not in the trace
                           // Carol's 200 to the PF's INVITE without the Record-Route.
    let mut bad = t.clone();
    let i = bad.steps.iter().position(|s| s.label == "200 OK" && &*s.from == "carol" && s.raw.contains("CSeq: 1 INVITE")).expect("2xx");
    bad.steps[i].raw = bad.steps[i].raw.replacen(&format!("Record-Route: {CAROL_ROUTE}\r\n"), "", 1);
    assert!(routing(&bad) >= 1, "a 2xx that does not copy the Record-Route");
    // The PF's INVITE sent straight to Carol despite its Route naming the S-CSCF.
    let mut bad = t.clone();
    let i = bad.steps.iter().position(|s| s.label == "INVITE" && &*s.from == "carol-pf" && &*s.to == "scscf").expect("INVITE");
    bad.steps[i].to = "carol".into();
    assert!(routing(&bad) >= 1, "a request that ignores its top Route entry");
}
