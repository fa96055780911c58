//! The capture corpus kept in the repository (issue 14, "Build a corpus and keep it in the
//! repo (small)"): what [`entries`] makes is written under `tests/capture_corpus/files/`, each
//! capture gzip-compressed (`.pcap.gz`, `.pcapng.gz`: SIP and MSRP text packs about 6.5:1, so the
//! corpus stays well under 1 MB; `zcat` or tshark read them as they are), with the verdict each
//! must get in `tests/capture_corpus/EXPECTED.tsv`.
//!
//! - `presets/`: every preset's capture (the pcap export, `src/export/pcap.rs`) under both rule
//!   sets; each passes under the rules it ran with, and the pre-CR PF's captures where the CR
//!   added a trigger fail the amended text at that case.
//! - `networks/`: one run's traffic as other networks carry it (tests/capture_corpus/transform.rs:
//!   other addresses and ports, other segmenting, compact forms, pcapng, SLL, SLL2, IPv6, VLAN,
//!   raw IP, SIP over UDP and IP fragments, MSRP chunks); each passes.
//! - `faults/`: PF faults injected at message level into a conforming run's capture; each fails
//!   at the sentence it breaks.
//!
//! Written by `UPDATE_CORPUS=1 cargo test --test capture_files -- --test-threads=1`; `capture_files`'
//! `the_committed_corpus_is_what_the_generator_makes` fails when the files drift from it.

use super::transform;
use cpm_deferral::export::pcap;
use cpm_deferral::presets;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Rules, StepKind, Trace};

/// One capture of the corpus and the verdicts it must get.
pub struct Entry {
    /// Its path under `tests/capture_corpus/files/`, without the `.gz`.
    pub file: String,
    /// The capture.
    pub bytes: Vec<u8>,
    /// (rules judged against, verdict, a sentence that must fail or `-`).
    pub expect: Vec<(Rules, &'static str, &'static str)>,
}

fn scenario(name: &str) -> Scenario {
    let p = presets::find(name).unwrap_or_else(|| panic!("preset {name}"));
    Scenario::from_json(p.json).unwrap_or_else(|e| panic!("preset {name}: {e}"))
}

fn capture_of(sc: &Scenario, t: &Trace) -> Vec<u8> {
    pcap::write(t, &pcap::Network::for_scenario(sc)).expect("pcap export")
}

/// Where a pre-CR PF fails the amended text: the case the CR added (tests/judge.rs shows the
/// others pass or differ elsewhere).
const PRE_CR_FAILS: [(&str, &str); 3] = [("invite-timeout-path-a", "cr-case2"), ("silent-drop-send-timeout", "cr-case3"), ("msrp-loss-path-b", "cr-case3")];

/// The preset whose run the network variants carry.
const NETWORK_PRESET: &str = "bye-480-path-b";

/// Every capture of the corpus, in a fixed order.
pub fn entries() -> Vec<Entry> {
    let mut out = Vec::new();
    for p in presets::all() {
        let sc = scenario(p.name);
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = cpm_deferral::run(&sc, rules);
            let mut expect = vec![(rules, "pass", "-")];
            if rules == Rules::PreCr {
                if let Some((_, clause)) = PRE_CR_FAILS.iter().find(|(n, _)| *n == p.name) {
                    expect.push((Rules::PostCr, "fail", clause));
                }
            }
            out.push(Entry { file: format!("presets/{}.{}.pcap", p.name, rules.as_str()), bytes: capture_of(&sc, &t), expect });
        }
    }
    let sc = scenario(NETWORK_PRESET);
    let t = cpm_deferral::run(&sc, Rules::PostCr);
    for prof in transform::profiles() {
        let ext = if prof.container == transform::Container::PcapNg { "pcapng" } else { "pcap" };
        let v = transform::write(&t, &sc, &prof);
        out.push(Entry { file: format!("networks/{NETWORK_PRESET}.{}.{ext}", prof.name), bytes: v.bytes, expect: vec![(Rules::PostCr, "pass", "-")] });
    }
    for (name, sc, t, clause) in faults() {
        out.push(Entry { file: format!("faults/{name}.pcap"), bytes: capture_of(&sc, &t), expect: vec![(Rules::PostCr, "fail", clause)] });
    }
    out
}

fn post_cr(preset: &str) -> (Scenario, Trace) {
    let sc = scenario(preset);
    let t = cpm_deferral::run(&sc, Rules::PostCr);
    (sc, t)
}

fn pf_steps(t: &Trace, to: &str, label: &str) -> Vec<usize> {
    t.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| &*s.from == "carol-pf" && &*s.to == to && s.kind == StepKind::Message && s.label == label && !s.raw.is_empty())
        .map(|(i, _)| i)
        .collect()
}

fn replays(t: &Trace) -> Vec<usize> {
    pf_steps(t, "carol", "SEND").into_iter().filter(|i| t.steps[*i].note.contains("stored message")).collect()
}

/// The PF also sends `raw` (as `label`) to `to`, `after_ms` after step `i`.
fn add(t: &mut Trace, i: usize, to: &str, label: &'static str, raw: String, after_ms: u64) {
    let mut s = t.steps[i].clone();
    s.to = to.into();
    s.label = label.into();
    s.raw = raw;
    s.at_ms += after_ms;
    s.arrive_ms += after_ms;
    s.dropped = false;
    t.steps.insert(i + 1, s);
}

/// The PF faults, each as (file name, scenario, the faulty run, the sentence it breaks).
pub fn faults() -> Vec<(&'static str, Scenario, Trace, &'static str)> {
    let mut out = Vec::new();

    // A BYE to the focus after Carol's cause-480 BYE: it leaves instead of remaining.
    let (sc, mut t) = post_cr("bye-480-path-a");
    let (_, leave) = post_cr("voluntary-leave");
    let bye = leave.steps[pf_steps(&leave, "cf", "BYE")[0]].raw.clone();
    let ok = pf_steps(&t, "scscf", "200 OK")[0]; // the PF's 200 to Carol's BYE (through the core)
    add(&mut t, ok, "cf", "BYE", bye, 1);
    out.push(("bye-to-the-focus-after-a-cause-480-bye", sc, t, "cr-remain"));

    // No SUBSCRIBE to the focus.
    let (sc, mut t) = post_cr("bye-480-path-a");
    let sub = pf_steps(&t, "cf", "SUBSCRIBE")[0];
    t.steps[sub].raw.clear();
    out.push(("no-subscribe-to-the-focus", sc, t, "cr-subscribe"));

    // The replay out of order.
    let (sc, mut t) = post_cr("bye-480-path-a");
    let r = replays(&t);
    let (a, b) = (t.steps[r[0]].raw.clone(), t.steps[r[1]].raw.clone());
    t.steps[r[0]].raw = b;
    t.steps[r[1]].raw = a;
    out.push(("replay-out-of-order", sc, t, "cr-msrp"));

    // One stored message missing from the replay.
    let (sc, mut t) = post_cr("bye-480-path-b");
    let r = replays(&t);
    t.steps[r[1]].dropped = true;
    out.push(("replay-one-message-missing", sc, t, "cr-msrp"));

    // One stored message delivered twice (a new MSRP transaction, RFC 4975 §7.1.1: not a
    // retransmission).
    let (sc, mut t) = post_cr("bye-480-path-b");
    let r = replays(&t);
    let raw = t.steps[r[0]].raw.clone();
    let tid = raw.split_whitespace().nth(1).expect("tid").to_string();
    add(&mut t, r[0], "carol", "SEND", raw.replace(&tid, &format!("{tid}x2")), 1);
    out.push(("replay-one-message-twice", sc, t, "cr-msrp"));

    // An INVITE to Carol on path B (after answering her re-join).
    let (sc, mut t) = post_cr("bye-480-path-b");
    let (_, a) = post_cr("bye-480-path-a");
    let invite = a.steps[pf_steps(&a, "scscf", "INVITE")[0]].raw.clone();
    let ok = pf_steps(&t, "scscf", "200 OK").into_iter().find(|i| t.steps[*i].raw.contains("INVITE")).expect("the PF's 200 to the re-join");
    add(&mut t, ok, "scscf", "INVITE", invite, 1);
    out.push(("invite-on-path-b", sc, t, "cr-no-invite"));

    // Nothing delivered after the 3rd-party REGISTER.
    let (sc, mut t) = post_cr("bye-480-path-a");
    let reg_ok = pf_steps(&t, "scscf", "200 OK")[0];
    for i in reg_ok + 1..t.steps.len() {
        if &*t.steps[i].from == "carol-pf" && matches!(&*t.steps[i].to, "carol" | "scscf") {
            t.steps[i].raw.clear();
        }
    }
    out.push(("nothing-delivered-after-the-register", sc, t, "cr-path-a"));
    out
}

/// The expectations file's text: a header line, then `file<TAB>rules<TAB>verdict<TAB>clause`.
pub fn expected_tsv(entries: &[Entry]) -> String {
    let mut s = String::from("# file\trules\tverdict\tfailing clause (- when it passes)\n");
    for e in entries {
        for (rules, verdict, clause) in &e.expect {
            s.push_str(&format!("{}.gz\t{}\t{verdict}\t{clause}\n", e.file, rules.as_str()));
        }
    }
    s
}

/// A capture gzip-compressed, byte for byte the same on every run (no name, no time in the
/// gzip header, RFC 1952 §2.3).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// A corpus file's capture.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("gunzip");
    out
}
