//! Profiling aid: runs the page's fast path on a big generated scenario many times
//! (`profile_light EVENTS|FILE.json ROUNDS [wire]`; with `wire`, the full run with every wire
//! text; a file instead of a count runs that scenario, e.g. `target/bench-scenario.json`).
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(1000);
    let mut ev = Vec::new();
    for i in 0..n {
        let from = if i % 2 == 0 { "alice" } else { "bob" };
        ev.push(format!(r#"{{"at_ms":{},"kind":"message","from":"{from}","text":"message {i} lorem ipsum"}}"#, 1000 + i * 400));
    }
    ev.push(format!(r#"{{"at_ms":{},"kind":"bye","reason":"SIP;cause=480"}}"#, 1000 + n / 3 * 400 + 200));
    ev.push(format!(r#"{{"at_ms":{},"kind":"register"}}"#, 1000 + 2 * n / 3 * 400 + 200));
    ev.sort_by_key(|e| e[9..e.find(',').unwrap_or(10)].parse::<u64>().unwrap_or(0));
    let arg = std::env::args().nth(1).unwrap_or_default();
    let json = if arg.ends_with(".json") {
        std::fs::read_to_string(&arg).expect("readable scenario file")
    } else {
        format!(r#"{{"format":"cpm-deferral-scenario","version":1,"events":[{}]}}"#, ev.join(","))
    };
    let sc = cpm_deferral::scenario::Scenario::from_json(&json).expect("valid");
    let wire = std::env::args().nth(3).is_some_and(|a| a == "wire");
    let mut total = 0;
    for _ in 0..std::env::args().nth(2).and_then(|v| v.parse().ok()).unwrap_or(200) {
        total += if wire {
            cpm_deferral::run(&sc, cpm_deferral::Rules::PostCr).steps.len()
        } else {
            cpm_deferral::run_without_wire_text(&sc, cpm_deferral::Rules::PostCr).steps.len()
        };
    }
    println!("{total}");
}
