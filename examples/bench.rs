//! Engine benchmark (`make bench`, or `cargo run --release --example bench`): simulates a
//! 10,000-event scenario natively and reports trace steps per second.
//!
//! The figure is a ratio against a peer measured in the same run on the same machine: the time
//! `serde_json` takes to serialize the very trace the engine produced (a well-optimised
//! library doing comparable per-step work: formatting every wire text and field). A ratio is
//! stable when the absolute numbers move with machine load.
//!
//! Options: `--events N` (default 10,000), `--rounds N` (default 15), `--quick` (3 rounds).

use cpm_deferral::scenario::Scenario;
use cpm_deferral::{run, Rules};
use std::time::{Duration, Instant};

/// A 10,000-event timeline: Alice and Bob alternate every 300 ms; Carol drops with
/// `SIP;cause=480` at a third, registers at two thirds (path A), and drops again by MSRP loss
/// near the end so the store fills twice.
fn scenario(events: usize) -> String {
    let mut ev = Vec::with_capacity(events);
    let n = events.saturating_sub(4).max(1);
    let step = 300u64;
    let end = n as u64 * step;
    let special = [
        (end / 3, r#"{"at_ms":AT,"kind":"bye","reason":"SIP;cause=480"}"#),
        (2 * end / 3, r#"{"at_ms":AT,"kind":"register","reaction_ms":500}"#),
        (5 * end / 6, r#"{"at_ms":AT,"kind":"msrp_loss"}"#),
        (11 * end / 12, r#"{"at_ms":AT,"kind":"rejoin"}"#),
    ];
    let mut s = 0;
    for i in 0..n {
        let at = i as u64 * step + 1;
        while s < special.len() && special[s].0 <= at {
            ev.push(special[s].1.replace("AT", &special[s].0.to_string()));
            s += 1;
        }
        let from = if i % 2 == 0 { "alice" } else { "bob" };
        ev.push(format!(r#"{{"at_ms":{at},"kind":"message","from":"{from}","text":"Message {i} of the benchmark timeline."}}"#));
    }
    for sp in &special[s..] {
        ev.push(sp.1.replace("AT", &(end + 1).to_string()));
    }
    format!(r#"{{"format":"cpm-deferral-scenario","version":1,"title":"bench","events":[{}]}}"#, ev.join(","))
}

/// Minor page faults of this process so far (Linux `/proc/self/stat`, field 10; 0 elsewhere):
/// each is a page of fresh memory the kernel hands over (and zeroes) on first touch.
fn minor_faults() -> u64 {
    std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| s.rsplit(')').next()?.split_whitespace().nth(7)?.parse().ok()).unwrap_or(0)
}

/// The time the kernel takes to hand over `pages` fresh pages here and now: a buffer of that
/// size, one byte written per page (what a run pays for its fresh memory, measured in the same
/// run).
fn fresh_pages_time(pages: u64) -> Duration {
    let bytes = pages as usize * 4096;
    let t0 = Instant::now();
    let mut v: Vec<u8> = Vec::with_capacity(bytes);
    for i in (0..bytes).step_by(4096) {
        v.spare_capacity_mut()[i].write(1);
    }
    std::hint::black_box(&v);
    let el = t0.elapsed();
    drop(v);
    el
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: usize| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default);
    let events = opt("--events", 10_000);
    let rounds = if args.iter().any(|a| a == "--quick") { 3 } else { opt("--rounds", 15) };
    let json = scenario(events);
    // The same scenario for the wasm half of `make bench` (tests-web/bench/engine-wasm.mjs).
    let _ = std::fs::create_dir_all("target");
    let _ = std::fs::write("target/bench-scenario.json", &json);
    let parse_start = Instant::now();
    let sc = match Scenario::from_json(&json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: generated scenario is invalid: {e}");
            std::process::exit(1);
        }
    };
    let parse = parse_start.elapsed();
    // Warm-up.
    let (f0, c0) = (minor_faults(), Instant::now());
    let t = run(&sc, Rules::PostCr);
    let (cold, cold_faults) = (c0.elapsed(), minor_faults() - f0);
    let steps = t.steps.len();
    let raw_bytes: usize = t.steps.iter().map(|s| s.raw.len()).sum();
    drop(t);
    let (mut ours, mut peer, mut light, mut pack, mut parses) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), vec![parse]);
    let mut json_len = 0;
    let mut faults = Vec::new();
    for _ in 0..rounds {
        let f0 = minor_faults();
        let t0 = Instant::now();
        let t = run(&sc, Rules::PostCr);
        ours.push(t0.elapsed());
        faults.push(minor_faults() - f0);
        let t1 = Instant::now();
        let out = serde_json::to_string(&t).unwrap_or_default();
        peer.push(t1.elapsed());
        json_len = out.len();
        std::hint::black_box(out);
        let tp = Instant::now();
        let again = Scenario::from_json(&json).map(|s| s.events.len()).unwrap_or(0);
        parses.push(tp.elapsed());
        std::hint::black_box(again);
        let t2 = Instant::now();
        let lt = cpm_deferral::run_without_wire_text(&sc, Rules::PostCr);
        light.push(t2.elapsed());
        let t3 = Instant::now();
        std::hint::black_box(cpm_deferral::packed::pack(&lt).steps.len());
        pack.push(t3.elapsed());
    }
    let (o, p, l, k, parse) = (median(ours), median(peer), median(light), median(pack), median(parses));
    faults.sort_unstable();
    let warm_faults = faults[faults.len() / 2];
    let fresh = median((0..5).map(|_| fresh_pages_time(warm_faults)).collect());
    let sps = steps as f64 / o.as_secs_f64();
    println!("engine benchmark: {events} scenario events, {steps} trace steps, {:.1} MB of wire text, {rounds} rounds (median)", raw_bytes as f64 / 1e6);
    println!("  scenario parse (JSON -> Scenario):  {:>8.2} ms", parse.as_secs_f64() * 1e3);
    println!("  engine run (Scenario -> Trace):     {:>8.2} ms  = {:.2} M steps/s (target >= 2 M steps/s, issue 10)", o.as_secs_f64() * 1e3, sps / 1e6);
    println!(
        "    of which fresh memory: {warm_faults} page faults ({:.1} MB), which take {:.2} ms here on their own ({:.0} %); first run {:.2} ms with {cold_faults} faults",
        warm_faults as f64 * 4096.0 / 1e6,
        fresh.as_secs_f64() * 1e3,
        100.0 * fresh.as_secs_f64() / o.as_secs_f64(),
        cold.as_secs_f64() * 1e3
    );
    println!("  peer: serde_json of that trace:     {:>8.2} ms  ({:.1} MB JSON)", p.as_secs_f64() * 1e3, json_len as f64 / 1e6);
    println!(
        "  ratio engine / peer:                {:>8.2}x  (below 1 = the engine simulates faster than serde_json prints its result)",
        o.as_secs_f64() / p.as_secs_f64()
    );
    println!(
        "  page fast path: run without wire text {:>6.2} ms ({:.2} M steps/s), pack {:.2} ms",
        l.as_secs_f64() * 1e3,
        steps as f64 / l.as_secs_f64() / 1e6,
        k.as_secs_f64() * 1e3
    );
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap_or(0))))
        .unwrap_or(0);
    println!("  peak resident memory of this process: {:.1} MB (holds the scenario and two traces with all wire texts)", peak_kb as f64 / 1024.0);
    let _ = std::fs::write(
        "target/bench-native.json",
        format!(
            "{{\"events\":{events},\"steps\":{steps},\"raw_mb\":{},\"parse_ms\":{},\"light_ms\":{},\"pack_ms\":{},\"run_ms\":{},\"peer_ms\":{},\"json_mb\":{},\"peak_mb\":{},\"rounds\":{rounds},\"faults\":{warm_faults},\"fresh_ms\":{},\"cold_ms\":{},\"cold_faults\":{cold_faults}}}",
            raw_bytes as f64 / 1e6,
            parse.as_secs_f64() * 1e3,
            l.as_secs_f64() * 1e3,
            k.as_secs_f64() * 1e3,
            o.as_secs_f64() * 1e3,
            p.as_secs_f64() * 1e3,
            json_len as f64 / 1e6,
            peak_kb as f64 / 1024.0,
            fresh.as_secs_f64() * 1e3,
            cold.as_secs_f64() * 1e3
        ),
    );
    println!("RESULT steps_per_sec={sps:.0} target_met={}", sps >= 2e6);
}
