//! Property tests over random timelines: whatever happens to Carol, the PF's store never loses a
//! message silently, a voluntary leave stores nothing, runs are deterministic, the summary agrees
//! with the steps, the pre-CR rules defer only on a BYE, and no scenario text makes the crate
//! panic.
//!
//! The scenarios come from a small seeded PRNG (splitmix64, no extra crates) in
//! `tests/common/mod.rs`, so every case is reproducible from its seed. The generator leaves out
//! `msrp-loss-detection: session-refresh` while `common::INCLUDE_SESSION_REFRESH` is false
//! (docs/engine-review.md #5: such runs may never end).
//!
//! ```text
//! cargo test --test properties                                   # 1,000 cases per property
//! CPM_PROPTEST_CASES=10000 cargo test --release --test properties  # more cases
//! CPM_PROPTEST_SEED=0x1a2b3c cargo test --test properties NAME   # re-run the one case a failure printed
//! ```
//!
//! A failure prints the property, the seed, the command that re-runs it, the scenario JSON, and a
//! shrunk scenario (events and policies removed one by one while the property still fails).
//! A run that does not finish within [`CASE_DEADLINE`] (an engine loop) is reported the same way
//! by a watchdog, which then ends the test process: a hung run cannot be interrupted in-process.

mod common;

use common::{gen_scenario, label_chat, mix64, Rng, INCLUDE_SESSION_REFRESH};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Outcome, PfState, Protocol, StepKind, Trace};
use cpm_deferral::wire::reason;
use cpm_deferral::{run, Rules};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// ENGINE-BUG (not one of the 8 items in docs/engine-review.md): a member's message sent after
/// Carol left voluntarily is counted `lost` (and `sent_while_away`) instead of
/// `not_for_carol` when
/// 1. her client's re-join INVITE leaves within the focus's fan-out hop of the message: the client
///    marks Carol entitled when it *sends* the re-join, before the focus admits her again; or
/// 2. she leaves during the `full` set-up, before her client got the 200 OK to its INVITE: the
///    client sent BYE inside the INVITE transaction, the PF went `Left`, then the late ACK and
///    MSRP bind brought the PF back to `Active` without a leg to the focus. Fixed with issue 10
///    #7: the client CANCELs (after the PF's 100 Trying), or ACKs and BYEs a 2xx that came first.
///
/// Minimal scenarios: `engine_bug_*` below (both pass now). Property (b) checks it on every
/// random timeline.
const CHECK_MESSAGES_AFTER_A_LEAVE_ARE_NOT_FOR_CAROL: bool = true;

/// Default number of cases per property (`CPM_PROPTEST_CASES` overrides it).
const DEFAULT_CASES: u64 = 1_000;

/// A single run of the engine on these small scenarios takes milliseconds; one that takes this
/// long is treated as a hang.
const CASE_DEADLINE: Duration = Duration::from_secs(10);

// ====================================================================== runner

fn case_count() -> u64 {
    std::env::var("CPM_PROPTEST_CASES").ok().and_then(|s| s.trim().replace('_', "").parse().ok()).unwrap_or(DEFAULT_CASES)
}

fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The seeds of one property: `CPM_PROPTEST_SEED` alone if set, else a stream salted with the
/// property name (so the properties see different scenarios).
fn seeds(property: &str) -> Vec<u64> {
    if let Ok(s) = std::env::var("CPM_PROPTEST_SEED") {
        return vec![parse_seed(&s).unwrap_or_else(|| panic!("CPM_PROPTEST_SEED={s:?} is not a number (decimal or 0x-hex)"))];
    }
    let salt = property.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    (0..case_count()).map(|i| mix64(salt.wrapping_add(i))).collect()
}

/// What one case looks at: the JSON text it is built from.
type Check = dyn Fn(&str) -> Result<(), String>;

/// Runs `check`, turning a panic into an error message.
fn guarded(check: &Check, json: &str) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| check(json))) {
        Ok(r) => r,
        Err(p) => {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            Err(format!("PANIC: {msg}"))
        }
    }
}

/// Removes events and policies one at a time while the check still fails; returns the smallest
/// failing scenario found.
fn shrink(check: &Check, json: &str) -> Option<(String, String)> {
    let mut v: Value = serde_json::from_str(json).ok()?;
    let mut changed = true;
    while changed {
        changed = false;
        let n = v["events"].as_array().map_or(0, Vec::len);
        for i in (0..n).rev() {
            let mut c = v.clone();
            c["events"].as_array_mut()?.remove(i);
            if guarded(check, &c.to_string()).is_err() {
                v = c;
                changed = true;
            }
        }
        let keys: Vec<String> = v.get("policies").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        for k in keys {
            let mut c = v.clone();
            c["policies"].as_object_mut()?.remove(&k);
            if guarded(check, &c.to_string()).is_err() {
                v = c;
                changed = true;
            }
        }
    }
    let error = guarded(check, &v.to_string()).err()?;
    Some((serde_json::to_string_pretty(&v).ok()?, error))
}

/// The case a watchdog reports if it hangs: (property, seed, scenario, start).
type Current = Arc<Mutex<Option<(u64, String, Instant)>>>;

/// A thread that ends the process if one case runs longer than [`CASE_DEADLINE`].
fn watchdog(property: &'static str, current: Current, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let guard = current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((seed, json, start)) = guard.as_ref() {
                if start.elapsed() > CASE_DEADLINE {
                    // Straight to the process's stderr: the test harness captures eprintln!, and
                    // the captured text would die with the process.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nproperty `{property}`: the case with seed {seed:#x} did not finish within {CASE_DEADLINE:?} (engine hang?)\n\
                         reproduce: CPM_PROPTEST_SEED={seed:#x} cargo test --test properties {property}\nscenario:\n{json}\n"
                    );
                    std::process::exit(101);
                }
            }
        }
    });
}

/// Runs `check` on `cases` scenarios built by `make` from the property's seeds; panics with a
/// reproducible report on the first failure.
fn for_all(property: &'static str, make: fn(u64) -> String, check: &Check, shrinkable: bool) {
    let current: Current = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicBool::new(false));
    watchdog(property, current.clone(), done.clone());
    let mut failure = None;
    for seed in seeds(property) {
        let json = make(seed);
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some((seed, json.clone(), Instant::now()));
        if let Err(e) = guarded(check, &json) {
            failure = Some((seed, json, e));
            break;
        }
    }
    *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    if let Some((seed, json, e)) = failure {
        let shrunk = if shrinkable { shrink(check, &json) } else { None };
        done.store(true, Ordering::Relaxed);
        panic!(
            "property `{property}` failed for seed {seed:#x}\n{e}\n\
             reproduce: CPM_PROPTEST_SEED={seed:#x} cargo test --test properties {property}\n\
             scenario:\n{}\n{}",
            if json.is_ascii() { json.clone() } else { format!("{json:?}") },
            shrunk.map(|(s, e)| format!("shrunk scenario, which fails with\n{e}\n{s}\n")).unwrap_or_default()
        );
    }
    done.store(true, Ordering::Relaxed);
}

/// Parses a generated scenario (the generator only makes valid ones) and runs it under `rules`.
fn parse(json: &str) -> Result<Scenario, String> {
    Scenario::from_json(json).map_err(|e| format!("the generator made a scenario the parser refuses: {e}"))
}

fn uses_session_refresh(sc: &Scenario) -> bool {
    sc.policies.iter().any(|(p, v)| p.id() == "msrp-loss-detection" && v == "session-refresh")
}

fn both_traces(json: &str) -> Result<[Trace; 2], String> {
    let sc = parse(json)?;
    Ok([run(&sc, Rules::PostCr), run(&sc, Rules::PreCr)])
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

// ====================================================================== (a) the store

/// Replays the store from the steps: `stored #n` joins the end, `back to store #n` (Q12 resend)
/// the front, a replay SEND (PF → Carol citing 8.3.2.9) takes the head, `delivered #n` settles
/// the replay SEND in flight, and `lost #n` / `discarded #n` takes a message out. At the end every
/// message that was ever stored is delivered exactly once (in store order, because each replay
/// SEND must take the head), still stored, or lost/discarded by a step that cites why.
fn store_accounting(t: &Trace) -> Result<(), String> {
    let rules = t.rules.as_str();
    let mut queue: VecDeque<u32> = VecDeque::new();
    let mut in_flight: Vec<u32> = Vec::new();
    let mut delivered: Vec<u32> = Vec::new();
    let mut removed: HashMap<u32, usize> = HashMap::new();
    let mut last_send: HashMap<u32, usize> = HashMap::new();
    for (i, s) in t.steps.iter().enumerate() {
        let replay_send = s.protocol == Protocol::MSRP
            && &*s.from == "carol-pf"
            && matches!(&*s.to, "carol" | "carol-tablet")
            && s.label == "SEND"
            && s.clauses.contains(&"reading:8.3.2.9");
        if !(replay_send || matches!(s.kind, StepKind::Store | StepKind::Deliver | StepKind::Lost)) {
            continue;
        }
        let n = if replay_send { s.chat } else { label_chat(&s.label) };
        let Some(n) = n else { return Err(format!("{rules}: step {i} `{}` names no chat", s.label)) };
        ensure!(replay_send || s.chat == Some(n), "{rules}: step {i} `{}` has chat {:?}", s.label, s.chat);
        match s.kind {
            _ if replay_send => {
                ensure!(queue.front() == Some(&n), "{rules}: step {i} replays #{n} but the head of the store is {:?} (store {queue:?})", queue.front());
                queue.pop_front();
                in_flight.push(n);
                last_send.insert(n, i);
            }
            StepKind::Store if s.label.starts_with("back to store") => {
                ensure!(!queue.contains(&n), "{rules}: step {i} puts #{n} back into a store that already holds it");
                in_flight.retain(|c| *c != n);
                queue.push_front(n);
            }
            StepKind::Store => {
                ensure!(
                    !queue.contains(&n) && !in_flight.contains(&n) && !delivered.contains(&n),
                    "{rules}: step {i} stores #{n} a second time (store {queue:?}, in flight {in_flight:?})"
                );
                queue.push_back(n);
            }
            StepKind::Deliver => {
                ensure!(in_flight.contains(&n), "{rules}: step {i} says #{n} was delivered from the store, but no replay SEND of it is in flight");
                ensure!(!delivered.contains(&n), "{rules}: step {i} delivers #{n} from the store a second time");
                let send = last_send[&n];
                ensure!(!t.steps[send].dropped, "{rules}: step {i} says #{n} was delivered, but its replay SEND (step {send}) never arrived");
                in_flight.retain(|c| *c != n);
                delivered.push(n);
            }
            _ => {
                ensure!(!s.clauses.is_empty(), "{rules}: step {i} `{}` cites nothing", s.label);
                if queue.contains(&n) || in_flight.contains(&n) {
                    queue.retain(|c| *c != n);
                    in_flight.retain(|c| *c != n);
                    removed.insert(n, i);
                }
            }
        }
        if replay_send {
            ensure!(s.pf_state == PfState::Replaying, "{rules}: step {i} replays #{n} while the PF is {:?}", s.pf_state);
        }
        if matches!(s.kind, StepKind::Store) || replay_send {
            ensure!(s.queue_len as usize == queue.len(), "{rules}: step {i} `{}` reports queue_len {} but the store holds {queue:?}", s.label, s.queue_len);
        }
    }
    // The store exists only while the PF defers or delivers: a PF that is back to normal (or
    // gone) holds nothing, so nothing can be stuck in it. Checked on the last step of each
    // millisecond (within one, the PF may record its new state before it empties the store).
    for (i, s) in t.steps.iter().enumerate() {
        if t.steps.get(i + 1).is_some_and(|n| n.at_ms == s.at_ms) {
            continue;
        }
        let holds = matches!(s.pf_state, PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::Replaying | PfState::EndedWithBacklog);
        ensure!(
            holds || s.queue_len == 0,
            "{rules}: step {i} `{}` at {} ms: the PF is {:?} with {} message(s) in its store",
            s.label,
            s.at_ms,
            s.pf_state,
            s.queue_len
        );
    }
    for c in t.chats.iter().filter(|c| c.stored_ms.is_some() && c.outcome != Outcome::NotForCarol) {
        let id = c.id;
        match c.outcome {
            Outcome::FromStore => ensure!(delivered.contains(&id), "{rules}: chat #{id} is from_store but no `delivered #{id}` step settles it"),
            Outcome::StillStored => ensure!(queue.contains(&id), "{rules}: chat #{id} is still_stored but the store at the end is {queue:?}"),
            Outcome::Lost | Outcome::Discarded => {
                let Some(&i) = removed.get(&id) else {
                    return Err(format!("{rules}: stored chat #{id} is {:?} but no lost/discarded step took it out of the store", c.outcome));
                };
                // After the CR the PF delivers "all further CPM Messages": a stored one may only be
                // lost by a policy (not in the CR), or because a BYE that is no deferral trigger
                // made the PF leave the group (§8.2.2.3).
                let accounted = t.steps[i].clauses.iter().any(|cl| cl.starts_with("policy:") || *cl == "reading:8.2.2.3");
                ensure!(
                    t.rules == Rules::PreCr || c.outcome == Outcome::Discarded || accounted,
                    "{rules}: stored chat #{id} is lost by step {i} `{}` citing {:?}, neither a policy nor §8.2.2.3",
                    t.steps[i].label,
                    t.steps[i].clauses
                );
            }
            other => return Err(format!("{rules}: stored chat #{id} ends as {other:?}: it vanished from the store")),
        }
    }
    for n in queue.iter().filter(|n| t.chats[**n as usize].outcome != Outcome::NotForCarol) {
        ensure!(t.chats[*n as usize].outcome == Outcome::StillStored, "{rules}: #{n} is in the store at the end but is {:?}", t.chats[*n as usize].outcome);
    }
    Ok(())
}

#[test]
fn a_every_stored_message_is_delivered_once_in_order_or_still_stored_or_accounted() {
    for_all(
        "a_every_stored_message_is_delivered_once_in_order_or_still_stored_or_accounted",
        gen_scenario,
        &|json| {
            for t in both_traces(json)? {
                store_accounting(&t)?;
            }
            Ok(())
        },
        true,
    );
}

/// §8.3.2.9: a deferring PF keeps "all further CPM Messages" of the group session: every message
/// the focus sends on Carol's leg while the PF defers (or has a delivery under way) is stored at
/// once, under both rule sets, unless a store cap (Q10, not in the CR) drops it with a step.
fn every_message_reaching_a_deferring_pf_is_stored(t: &Trace) -> Result<(), String> {
    let rules = t.rules.as_str();
    for (i, s) in t.steps.iter().enumerate() {
        let ack_to_cf = s.protocol == Protocol::MSRP && &*s.from == "carol-pf" && &*s.to == "cf" && s.label == "200 OK";
        let Some(n) = s.chat.filter(|_| ack_to_cf) else { continue };
        // Strict (issue 11 #2): also a chat that is, by ground truth, not meant for Carol (she
        // left while offline): the PF cannot know, so it stores what reaches it all the same.
        if !matches!(s.pf_state, PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::EndedWithBacklog) {
            continue;
        }
        // Stored, or (Q10, a store cap) dropped at once by a `lost` step that says why.
        let stored = t.steps[i..]
            .iter()
            .take_while(|x| x.at_ms == s.at_ms)
            .any(|x| x.chat == Some(n) && (x.kind == StepKind::Store || x.kind == StepKind::Lost && x.clauses.iter().any(|c| c.starts_with("policy:q10-"))));
        ensure!(stored, "{rules}: the PF ({:?}) answers the focus's SEND of #{n} at {} ms (step {i}) but neither stores it nor says why", s.pf_state, s.at_ms);
    }
    Ok(())
}

#[test]
fn a_every_message_that_reaches_a_deferring_pf_is_stored() {
    for_all(
        "a_every_message_that_reaches_a_deferring_pf_is_stored",
        gen_scenario,
        &|json| {
            for t in both_traces(json)? {
                every_message_reaching_a_deferring_pf_is_stored(&t)?;
            }
            Ok(())
        },
        true,
    );
}

// ====================================================================== (b) voluntary leave

/// A Reason that says the user left on purpose: a SIP cause 200 and no other SIP cause.
fn is_voluntary(reason_value: Option<&str>) -> bool {
    let Some(Ok(values)) = reason_value.map(reason::parse) else { return false };
    values.iter().any(|v| v.is("SIP") && v.cause == Some(200)) && !values.iter().any(|v| v.is("SIP") && v.cause.is_some_and(|c| c != 200))
}

/// A 200 OK to a BYE, sent from `from` to `to`.
/// (`to` Carol or her PF: through the IMS core, src/ims/, the answer's first hop goes to
/// the core lane `scscf`.)
fn answers_bye(s: &cpm_deferral::trace::Step, from: &str, to: &str) -> bool {
    let via_core = (from == "carol" || from == "carol-pf") && &*s.to == "scscf";
    &*s.from == from && (&*s.to == to || via_core) && s.label == "200 OK" && common::header(&s.raw, "CSeq").is_some_and(|c| c.ends_with(" BYE"))
}

/// After the PF answers a BYE with SIP cause 200 from Carol's client, nothing is stored for her
/// until her client re-joins (its next INVITE to the PF).
fn nothing_stored_after_voluntary_leave(t: &Trace) -> Result<(), String> {
    let rules = t.rules.as_str();
    let mut left_at: Option<usize> = None;
    for (i, s) in t.steps.iter().enumerate() {
        // Her SIP towards her PF leaves for the IMS core (src/ims/); REGISTER stays there.
        let from_carol_to_pf =
            &*s.from == "carol" && (&*s.to == "carol-pf" || (&*s.to == "scscf" && s.label != "REGISTER")) && s.protocol == Protocol::SIP && !s.dropped;
        if from_carol_to_pf && s.label == "BYE" && is_voluntary(common::header(&s.raw, "Reason")) {
            // The leave counts from the PF's answer to this BYE, if it accepted it (a 481 means
            // there was no session to leave).
            let answer = t.steps.iter().enumerate().skip(i + 1).find(|(_, a)| {
                &*a.from == "carol-pf" && (&*a.to == "carol" || &*a.to == "scscf") && common::header(&a.raw, "CSeq").is_some_and(|c| c.ends_with(" BYE"))
            });
            if let Some((j, a)) = answer {
                if a.label == "200 OK" && common::header(&a.raw, "Call-ID") == common::header(&s.raw, "Call-ID") {
                    left_at = Some(j);
                }
            }
        } else if from_carol_to_pf && s.label == "INVITE" {
            left_at = None;
        } else if let Some(l) = left_at {
            ensure!(
                !(s.kind == StepKind::Store && i > l),
                "{rules}: step {i} `{}` at {} ms stores for Carol after she left voluntarily (PF answered her BYE at step {l})",
                s.label,
                s.at_ms
            );
            // A message a member sends after the leave is not meant for her (not "lost").
            // ENGINE-BUG: off until the engine counts such messages `not_for_carol` in two corner
            // cases (see CHECK_MESSAGES_AFTER_A_LEAVE_ARE_NOT_FOR_CAROL and the ignored
            // `engine_bug_*` tests below).
            if let Some(c) = t.chats.iter().find(|c| CHECK_MESSAGES_AFTER_A_LEAVE_ARE_NOT_FOR_CAROL && c.sent_step as usize == i && &*c.from != "carol") {
                ensure!(
                    c.outcome == Outcome::NotForCarol,
                    "{rules}: chat #{} sent at {} ms, after Carol left voluntarily (step {l}), ends as {:?}",
                    c.id,
                    c.sent_ms,
                    c.outcome
                );
            }
        }
    }
    Ok(())
}

#[test]
fn b_nothing_is_stored_after_a_voluntary_leave_until_carol_rejoins() {
    for_all(
        "b_nothing_is_stored_after_a_voluntary_leave_until_carol_rejoins",
        gen_scenario,
        &|json| {
            for t in both_traces(json)? {
                nothing_stored_after_voluntary_leave(&t)?;
            }
            Ok(())
        },
        true,
    );
}

// ====================================================================== (c) determinism

#[test]
fn c_the_same_scenario_gives_byte_identical_traces() {
    for_all(
        "c_the_same_scenario_gives_byte_identical_traces",
        gen_scenario,
        &|json| {
            let a = parse(json)?;
            let b = parse(json)?;
            ensure!(a == b, "parsing the same text twice gives different scenarios");
            for rules in [Rules::PostCr, Rules::PreCr] {
                let (x, y) = (run(&a, rules).to_json(), run(&b, rules).to_json());
                if x != y {
                    let at = x.bytes().zip(y.bytes()).position(|(p, q)| p != q).unwrap_or(x.len().min(y.len()));
                    let from = at.saturating_sub(80);
                    return Err(format!(
                        "{}: two runs differ at byte {at}:\n  {}\n  {}",
                        rules.as_str(),
                        &x[from..(at + 80).min(x.len())],
                        &y[from..(at + 80).min(y.len())]
                    ));
                }
            }
            Ok(())
        },
        true,
    );
}

// ====================================================================== (d) summary

/// The chats meant for Carol that steps matching `pred` name. (The PF stores, relays, delivers or
/// drops every message on her leg, as it cannot know whether it is for her; a message that was
/// not, by ground truth, keeps the outcome `not_for_carol` whatever the PF did with it.)
fn distinct_chats(t: &Trace, pred: impl Fn(&cpm_deferral::trace::Step) -> bool) -> usize {
    t.steps.iter().filter(|s| pred(s)).filter_map(|s| s.chat).filter(|c| t.chats[*c as usize].for_carol).collect::<HashSet<_>>().len()
}

/// The summary counts agree with the chats and with the steps that produced them.
fn summary_agrees(t: &Trace) -> Result<(), String> {
    let rules = t.rules.as_str();
    let m = &t.summary;
    let count = |o: Outcome| t.chats.iter().filter(|c| c.outcome == o).count();
    let checks: [(&str, u32, usize, usize); 6] = [
        ("stored", m.stored, t.chats.iter().filter(|c| c.stored_ms.is_some() && c.for_carol).count(), distinct_chats(t, |s| s.kind == StepKind::Store)),
        ("delivered_from_store", m.delivered_from_store, count(Outcome::FromStore), distinct_chats(t, |s| s.kind == StepKind::Deliver)),
        ("lost", m.lost, count(Outcome::Lost), distinct_chats(t, |s| s.kind == StepKind::Lost && s.label.starts_with("lost"))),
        ("discarded", m.discarded, count(Outcome::Discarded), distinct_chats(t, |s| s.kind == StepKind::Lost && s.label.starts_with("discarded"))),
        (
            "possible_duplicates",
            m.possible_duplicates,
            t.chats.iter().filter(|c| c.possible_duplicate).count(),
            distinct_chats(t, |s| s.label.starts_with("back to store")),
        ),
        (
            "still_stored",
            m.still_stored,
            count(Outcome::StillStored),
            // The store's length also counts messages that were not for Carol (store_accounting
            // follows each one); compare it only when there were none.
            if t.chats.iter().any(|c| !c.for_carol && c.stored_ms.is_some()) {
                count(Outcome::StillStored)
            } else {
                t.steps.last().map_or(0, |s| s.queue_len as usize)
            },
        ),
    ];
    for (name, summary, by_chats, by_steps) in checks {
        ensure!(summary as usize == by_chats, "{rules}: summary.{name} = {summary} but {by_chats} chats say so");
        ensure!(summary as usize == by_steps, "{rules}: summary.{name} = {summary} but the steps show {by_steps}");
    }
    ensure!(
        m.delivered_live as usize == count(Outcome::Live),
        "{rules}: summary.delivered_live = {} but {} chats are live",
        m.delivered_live,
        count(Outcome::Live)
    );
    let for_carol = t.chats.iter().filter(|c| c.for_carol).count();
    let settled = (m.delivered_live + m.delivered_from_store + m.still_stored + m.lost + m.discarded) as usize;
    ensure!(settled == for_carol, "{rules}: {for_carol} chats are for Carol but live+from_store+still_stored+lost+discarded = {settled}");
    ensure!(m.sent_while_away as usize <= for_carol, "{rules}: sent_while_away {} > {for_carol} chats for Carol", m.sent_while_away);
    for c in &t.chats {
        ensure!(c.for_carol == (c.outcome != Outcome::NotForCarol), "{rules}: chat #{} for_carol={} but outcome {:?}", c.id, c.for_carol, c.outcome);
        ensure!(c.outcome != Outcome::Pending, "{rules}: chat #{} is still pending after the run", c.id);
    }
    Ok(())
}

#[test]
fn d_summary_counts_agree_with_the_steps_and_chats() {
    for_all(
        "d_summary_counts_agree_with_the_steps_and_chats",
        gen_scenario,
        &|json| {
            for t in both_traces(json)? {
                summary_agrees(&t)?;
            }
            Ok(())
        },
        true,
    );
}

// ====================================================================== (e) pre-CR

/// Before the CR only a BYE with an involuntary Reason kept the PF in the group: under `pre-cr`
/// every deferral that starts from a live session or an invitation starts right after the PF
/// answered a BYE from Carol's client, so nothing is stored for any other trigger.
fn pre_cr_defers_only_on_bye(t: &Trace) -> Result<(), String> {
    for (i, s) in t.steps.iter().enumerate() {
        if s.kind != StepKind::State || !matches!(s.label.as_ref(), "Deferred" | "EndedWithBacklog") {
            continue;
        }
        let before = if i == 0 { PfState::Idle } else { t.steps[i - 1].pf_state };
        if !matches!(before, PfState::Active | PfState::Replaying | PfState::Idle | PfState::Inviting) {
            continue; // a delivery attempt within an existing deferral went back to waiting
        }
        // Between the answer and the state change the PF may settle SENDs that were in flight
        // (Q12: back to the store, or lost).
        let cause = t.steps[..i].iter().rev().find(|p| !matches!(p.kind, StepKind::Store | StepKind::Lost));
        let after_bye = cause.is_some_and(|p| answers_bye(p, "carol-pf", "carol") && p.clauses.contains(&"reading:8.2.2.3"));
        ensure!(after_bye, "pre-cr: step {i} at {} ms enters {} from {before:?} without a client BYE (cited {:?}: {})", s.at_ms, s.label, s.clauses, s.note);
    }
    if !t.steps.iter().any(|s| &*s.from == "carol" && (&*s.to == "carol-pf" || &*s.to == "scscf") && s.label == "BYE") {
        ensure!(t.steps.iter().all(|s| s.kind != StepKind::Store), "pre-cr: something is stored although Carol's client never sent BYE");
    }
    Ok(())
}

#[test]
fn e_pre_cr_stores_only_after_the_bye_trigger() {
    for_all(
        "e_pre_cr_stores_only_after_the_bye_trigger",
        gen_scenario,
        &|json| {
            let sc = parse(json)?;
            pre_cr_defers_only_on_bye(&run(&sc, Rules::PreCr))
        },
        true,
    );
}

// ====================================================================== well-formed traces

/// Run-wide shape of every trace (docs/trace-contract.md): indexes, time order, arrival after
/// departure, a citation on every step, the `policy` flag exactly when a policy is cited, chat ids
/// in range, and a raw text exactly on SIP and MSRP steps.
fn well_formed(t: &Trace) -> Result<(), String> {
    let rules = t.rules.as_str();
    for (i, s) in t.steps.iter().enumerate() {
        ensure!(s.index as usize == i, "{rules}: step {i} has index {}", s.index);
        ensure!(i == 0 || t.steps[i - 1].at_ms <= s.at_ms, "{rules}: step {i} at {} ms comes before step {} at {} ms", s.at_ms, i - 1, t.steps[i - 1].at_ms);
        ensure!(s.arrive_ms >= s.at_ms, "{rules}: step {i} arrives before it leaves");
        ensure!(!s.clauses.is_empty(), "{rules}: step {i} `{}` cites nothing", s.label);
        ensure!(!s.note.trim().is_empty(), "{rules}: step {i} `{}` has no note", s.label);
        let cites_policy = s.clauses.iter().any(|c| c.starts_with("policy:"));
        ensure!(s.policy == cites_policy, "{rules}: step {i} `{}` policy={} but clauses {:?}", s.label, s.policy, s.clauses);
        ensure!(s.chat.is_none_or(|c| (c as usize) < t.chats.len()), "{rules}: step {i} names chat {:?} of {}", s.chat, t.chats.len());
        ensure!((s.protocol == Protocol::None) == s.raw.is_empty(), "{rules}: step {i} `{}` ({:?}) raw is {} bytes", s.label, s.protocol, s.raw.len());
    }
    ensure!(t.steps.last().is_none_or(|s| s.at_ms <= t.end_ms), "{rules}: end_ms {} is before the last step", t.end_ms);
    for w in t.pf_states.windows(2) {
        ensure!(w[0].to_ms == w[1].from_ms, "{rules}: the PF state band has a gap or overlap at {} ms", w[0].to_ms);
    }
    Ok(())
}

#[test]
fn every_random_trace_is_well_formed() {
    for_all(
        "every_random_trace_is_well_formed",
        gen_scenario,
        &|json| {
            for t in both_traces(json)? {
                well_formed(&t)?;
            }
            Ok(())
        },
        true,
    );
}

// ====================================================================== (f) no panics on bad text

/// Every leaf path of a JSON value, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| pointers(c, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
}

const HUGE_NUMBERS: [&str; 9] =
    ["18446744073709551615", "18446744073709551616", "99999999999999999999999999", "1e308", "-1", "1.5", "-0", "2592000001", "4294967296"];

fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!([]),
        3 => json!({}),
        4 => json!(""),
        5 => json!("x".repeat(rng.range(1, 9000) as usize)),
        6 => json!("\u{0}\u{7}\r\n\t"),
        7 => json!("carol"),
        8 => json!("SIP;cause="),
        9 => json!(-7),
        10 => json!([1, "two", null]),
        _ => json!(u64::MAX),
    }
}

/// One random damage to a scenario text.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let v: Option<Value> = serde_json::from_str(text).ok();
    let mut bytes = text.as_bytes().to_vec();
    match (rng.below(10), v) {
        (0, _) | (1, None) if !bytes.is_empty() => {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] = rng.below(256) as u8;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (1, _) | (2, None) => {
            let cut = rng.below(bytes.len() as u64 + 1) as usize;
            String::from_utf8_lossy(&bytes[..cut]).into_owned()
        }
        (2, _) | (3, None) if !bytes.is_empty() => {
            let i = rng.below(bytes.len() as u64) as usize;
            let j = (i + rng.range(1, 40) as usize).min(bytes.len());
            bytes.drain(i..j);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (3, _) => {
            // A duplicated key right after an opening brace (serde keeps one of the two).
            let opens: Vec<usize> = text.match_indices('{').map(|(i, _)| i).collect();
            if opens.is_empty() {
                return text.to_string();
            }
            let at = *rng.pick(&opens) + 1;
            let dup = *rng.pick(&[
                r#""at_ms":1,"#,
                r#""kind":"rejoin","#,
                r#""events":[],"#,
                r#""version":1,"#,
                r#""from":"carol","#,
                r#""reason":"SIP;cause=200","#,
            ]);
            format!("{}{dup}{}", &text[..at], &text[at..])
        }
        (4, Some(mut v)) => {
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            if ps.len() < 2 {
                return text.to_string();
            }
            let p = rng.pick(&ps[1..]).clone();
            let (parent, key) = p.rsplit_once('/').unwrap_or(("", ""));
            match v.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            }
            v.to_string()
        }
        (5, Some(v)) => {
            // A number replaced by a huge, negative or fractional one (textually, so that
            // values serde_json cannot hold as u64 reach the parser too).
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            let nums: Vec<String> = ps.into_iter().filter(|p| v.pointer(p).is_some_and(Value::is_number)).collect();
            if nums.is_empty() {
                return text.to_string();
            }
            let chosen: &String = rng.pick(&nums);
            let target = v.pointer(chosen).map(|n| n.to_string()).unwrap_or_default();
            let hits: Vec<usize> = text.match_indices(&target).map(|(i, _)| i).collect();
            if hits.is_empty() {
                return text.to_string();
            }
            let at = *rng.pick(&hits);
            format!("{}{}{}", &text[..at], rng.pick(&HUGE_NUMBERS), &text[at + target.len()..])
        }
        (6, Some(mut v)) => {
            let mut ps = Vec::new();
            pointers(&v, String::new(), &mut ps);
            let p = rng.pick(&ps).clone();
            if let Some(slot) = v.pointer_mut(&p) {
                *slot = odd_value(rng);
            }
            v.to_string()
        }
        (7, Some(mut v)) => {
            // A duplicated or moved event (time may now go backwards).
            if let Some(evs) = v.get_mut("events").and_then(Value::as_array_mut) {
                if !evs.is_empty() {
                    let i = rng.below(evs.len() as u64) as usize;
                    let e = evs[i].clone();
                    let j = rng.below(evs.len() as u64 + 1) as usize;
                    evs.insert(j, e);
                }
            }
            v.to_string()
        }
        (8, Some(mut v)) => {
            // An event of another kind with this kind's fields, or a made-up kind.
            if let Some(evs) = v.get_mut("events").and_then(Value::as_array_mut) {
                if let Some(e) = evs.get_mut(rng.below(8) as usize).and_then(Value::as_object_mut) {
                    let k = *rng.pick(&["message", "bye", "leave", "join", "register", "invite_rejected", "group_ends", "dance", "", "MESSAGE"]);
                    e.insert("kind".into(), json!(k));
                }
            }
            v.to_string()
        }
        (_, Some(mut v)) => {
            // A policy set to an unknown option or an unknown policy id.
            if let Some(m) = v.as_object_mut() {
                let pol = m.entry("policies").or_insert_with(|| json!({}));
                if let Some(pm) = pol.as_object_mut() {
                    let (k, o) =
                        *rng.pick(&[("q8-group-ends", "coin-toss"), ("q99-unknown", "keep"), ("q7-never-returns", "expire-1h"), ("q12-in-flight-at-loss", "")]);
                    pm.insert(k.into(), json!(o));
                }
            }
            v.to_string()
        }
        _ => text.to_string(),
    }
}

/// The preset files and generated scenarios, damaged one to three times.
fn gen_mutated(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let presets = cpm_deferral::presets::all();
    let mut text = if rng.chance(25) { rng.pick(presets).json.to_string() } else { gen_scenario(rng.next_u64()) };
    for _ in 0..[1, 1, 1, 1, 1, 1, 2, 2, 2, 3][rng.below(10) as usize] {
        text = mutate(&mut rng, &text);
    }
    text
}

#[test]
fn f_no_scenario_text_makes_the_parser_or_the_engine_panic() {
    for_all(
        "f_no_scenario_text_makes_the_parser_or_the_engine_panic",
        gen_mutated,
        &|text| match catch_unwind(|| Scenario::from_json(text)) {
            Err(_) => Err("Scenario::from_json panicked".into()),
            Ok(Err(e)) => {
                let shown = e.to_string();
                ensure!(!shown.is_empty(), "an empty error message");
                ensure!(e.path().is_empty() || shown.starts_with(e.path()), "the error {shown:?} does not start with its path {:?}", e.path());
                Ok(())
            }
            Ok(Ok(sc)) if uses_session_refresh(&sc) && !INCLUDE_SESSION_REFRESH => Ok(()),
            Ok(Ok(sc)) => {
                for rules in [Rules::PostCr, Rules::PreCr] {
                    let json = catch_unwind(AssertUnwindSafe(|| run(&sc, rules).to_json()))
                        .map_err(|_| format!("run under {} panicked on a scenario the parser accepted", rules.as_str()))?;
                    ensure!(serde_json::from_str::<Value>(&json).is_ok(), "{}: to_json is not JSON", rules.as_str());
                }
                Ok(())
            }
        },
        false,
    );
}

// ====================================================================== the generator itself

#[test]
fn the_generator_makes_valid_scenarios_that_reach_every_event_kind_and_outcome() {
    let mut kinds = HashSet::new();
    let mut outcomes = HashSet::new();
    let mut stored = 0;
    for seed in 0..300u64 {
        let json = gen_scenario(mix64(seed));
        let sc = Scenario::from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{json}"));
        let v: Value = serde_json::from_str(&json).expect("JSON");
        for e in v["events"].as_array().expect("events") {
            kinds.insert(e["kind"].as_str().expect("kind").to_string());
        }
        let t = run(&sc, Rules::PostCr);
        stored += t.summary.stored;
        outcomes.extend(t.chats.iter().map(|c| format!("{:?}", c.outcome)));
    }
    assert_eq!(kinds.len(), cpm_deferral::scenario::EVENT_KINDS.len(), "kinds reached: {kinds:?}");
    for o in ["Live", "FromStore", "StillStored", "Lost", "Discarded", "NotForCarol"] {
        assert!(outcomes.contains(o), "no generated scenario ends with a chat {o} (reached: {outcomes:?})");
    }
    assert!(stored > 100, "the generated scenarios store too little ({stored} in 300 runs) to test the store");
}

// ====================================================================== engine bugs found here

/// Runs an inline scenario (format and version added) under post-CR.
fn post_cr(events: Value, setup: &str) -> Trace {
    let json = json!({"format": "cpm-deferral-scenario", "version": 1, "setup": setup, "answer_ms": 10, "events": events}).to_string();
    run(&Scenario::from_json(&json).expect("valid scenario"), Rules::PostCr)
}

#[test]
fn engine_bug_a_message_sent_before_a_rejoin_after_a_voluntary_leave_is_not_for_carol() {
    // Alice writes 5 ms before Carol's client re-joins; the focus fans the message out 5 ms after
    // the re-join left the client, before the focus admits Carol again.
    let t = post_cr(
        json!([
            { "at_ms": 5000, "kind": "leave", "member": "carol" },
            { "at_ms": 10000, "kind": "message", "from": "alice", "text": "hi" },
            { "at_ms": 10005, "kind": "rejoin" }
        ]),
        "established",
    );
    assert_eq!(t.chats[0].outcome, Outcome::NotForCarol, "Alice wrote while Carol was out of the group");
    assert_eq!((t.summary.lost, t.summary.sent_while_away), (0, 0));
}

/// Issue 10 defect 7 (was ENGINE-BUG 2): a leave during the `full` set-up is a CANCEL once the
/// PF's 100 Trying came (before it, the client waits); a 2xx that comes all the same is ACKed and
/// ended with BYE; the PF does not come back Active.
#[test]
fn engine_bug_a_leave_during_the_full_setup_does_not_bring_the_pf_back() {
    for leave_ms in [0, 23] {
        let t = post_cr(
            json!([
                { "at_ms": leave_ms, "kind": "bye", "reason": "SIP;cause=200;text=\"Call completed\"" },
                { "at_ms": 246089, "kind": "message", "from": "bob", "text": "hi" }
            ]),
            "full",
        );
        // RFC 3261 §15: the caller may send BYE only once the dialog is confirmed (before that:
        // CANCEL, §9.1, and only after a provisional response).
        let ok_reaches_carol = t
            .steps
            .iter()
            .find(|s| {
                (&*s.from == "carol-pf" || &*s.from == "scscf")
                    && &*s.to == "carol"
                    && s.label == "200 OK"
                    && common::header(&s.raw, "CSeq") == Some("1 INVITE")
            })
            .map(|s| s.arrive_ms);
        if let Some(bye) = t.steps.iter().find(|s| &*s.from == "carol" && s.label == "BYE") {
            let ok = ok_reaches_carol.expect("a BYE only after a 200");
            assert!(bye.at_ms >= ok, "leave at {leave_ms} ms: BYE at {} ms before the 200 OK reached Carol at {ok} ms", bye.at_ms);
        }
        // The IMS core's 100 Trying (it answers the INVITE on its hop, RFC 3261 §16.2).
        let trying =
            t.steps.iter().find(|s| (&*s.from == "carol-pf" || &*s.from == "scscf") && &*s.to == "carol" && s.label == "100 Trying").expect("100 Trying");
        let cancel = t.steps.iter().find(|s| &*s.from == "carol" && s.label == "CANCEL").expect("Carol's client cancels");
        assert!(cancel.at_ms >= trying.arrive_ms, "leave at {leave_ms} ms: CANCEL before the 100 Trying arrived");
        let left = t.steps.iter().position(|s| s.label == "Left");
        if let Some(l) = left {
            assert!(
                t.steps[l..].iter().all(|s| s.label != "Active"),
                "leave at {leave_ms} ms: the PF left the group and then went Active again without a new INVITE"
            );
        }
        assert_eq!(t.chats[0].outcome, Outcome::NotForCarol, "leave at {leave_ms} ms: Bob wrote long after Carol left");
    }
}

// ------------------------------------------------------------------ Q10: a store cap (issue 11)

/// A random timeline (`gen_scenario`) with the store capped at 5 messages and a random Q10
/// action at the cap (drop-oldest, drop-newest, leave-group), with more messages while Carol is
/// away than the plain generator makes, so the cap is reached often.
fn gen_capped(seed: u64) -> String {
    let mut v: Value = serde_json::from_str(&gen_scenario(seed)).expect("the generator writes JSON");
    let at_cap = ["drop-oldest", "drop-newest", "leave-group"][(mix64(seed ^ 0x10ca9) % 3) as usize];
    let top = v.as_object_mut().expect("an object");
    let policies = top.entry("policies").or_insert_with(|| json!({}));
    policies["q10-store-cap"] = json!("5-messages");
    policies["q10-at-cap"] = json!(at_cap);
    // A burst of member messages in the middle of the run.
    let mut rng = Rng::new(seed ^ 0xca9);
    if let Some(Value::Array(events)) = top.get_mut("events") {
        let last = events.iter().filter_map(|e| e["at_ms"].as_u64()).max().unwrap_or(10_000);
        let start = rng.range(0, last.max(1));
        for k in 0..rng.range(6, 12) {
            let from = if k % 2 == 0 { "alice" } else { "bob" };
            events.push(json!({ "at_ms": start + k * 700, "kind": "message", "from": from, "text": format!("burst {k}") }));
        }
        events.sort_by_key(|e| e["at_ms"].as_u64().unwrap_or(0));
    }
    v.to_string()
}

/// Under a store cap every check of the store still holds: each message that reaches a
/// deferring PF is stored or dropped by a step that cites Q10; everything stored is delivered
/// once in order, still stored, or lost by a step; the summary agrees with the steps; the store
/// never holds more than the cap plus what Q12 resend puts back.
#[test]
fn g_a_store_cap_drops_only_with_a_step_and_the_store_accounting_holds() {
    for_all(
        "g_a_store_cap_drops_only_with_a_step_and_the_store_accounting_holds",
        gen_capped,
        &|json| {
            for t in both_traces(json)? {
                every_message_reaching_a_deferring_pf_is_stored(&t)?;
                store_accounting(&t)?;
                summary_agrees(&t)?;
                well_formed(&t)?;
                let requeued = t.steps.iter().filter(|s| s.label.starts_with("back to store #")).count() as u32;
                let max = t.steps.iter().map(|s| s.queue_len).max().unwrap_or(0);
                ensure!(max <= 5 + requeued, "{}: the store holds {max} messages, over the cap of 5 (+{requeued} put back by Q12)", t.rules.as_str());
            }
            Ok(())
        },
        true,
    );
}

/// The capped generator does reach the cap (so the property above judges the drops).
#[test]
fn the_capped_generator_reaches_the_cap_under_every_action() {
    let mut hits = HashMap::new();
    for seed in 0..300u64 {
        let json = gen_capped(seed);
        let Ok(sc) = Scenario::from_json(&json) else { continue };
        let t = run(&sc, Rules::PostCr);
        if t.steps.iter().any(|s| s.clauses.contains(&"policy:q10-at-cap")) {
            *hits.entry(sc.policies.get(cpm_deferral::policy::PolicyId::from_id("q10-at-cap").unwrap())).or_insert(0) += 1;
        }
    }
    for action in ["drop-oldest", "drop-newest", "leave-group"] {
        assert!(hits.get(action).copied().unwrap_or(0) >= 5, "the cap is reached under {action} in {hits:?} of 300 timelines");
    }
}
