//! RFC 4975 path rules on every MSRP message of every preset: a request's To-Path is the
//! receiver's URI and its From-Path the sender's (§7.1.1); a response's To-Path is the request's
//! From-Path and its From-Path the responder's own URI (§7.2). Each actor uses one URI per
//! session, so a URI seen as one actor's From-Path never shows up as another actor's.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, run, Rules};
use std::collections::HashMap;

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

#[test]
fn msrp_paths_name_sender_and_receiver() {
    for p in presets::all() {
        let sc = Scenario::from_json(p.json).expect("preset");
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = run(&sc, rules);
            // URI -> the lane that owns it, learnt from From-Path (always the sender's own URI).
            let mut owner: HashMap<String, String> = HashMap::new();
            let mut requests: HashMap<String, (String, String)> = HashMap::new();
            for s in t.steps.iter().filter(|s| s.raw.starts_with("MSRP ")) {
                let from_path = header(&s.raw, "From-Path").expect("From-Path").to_string();
                let to_path = header(&s.raw, "To-Path").expect("To-Path").to_string();
                let who = owner.entry(from_path.clone()).or_insert_with(|| s.from.to_string());
                assert_eq!(*who, *s.from, "{}: {from_path} sent by {} but it belongs to {who} (step {})", p.name, s.from, s.index);
                if let Some(o) = owner.get(&to_path) {
                    assert_eq!(*o, *s.to, "{}: To-Path {to_path} is {o}'s, the message goes to {} (step {})", p.name, s.to, s.index);
                }
                let tid = s.raw.split(' ').nth(1).unwrap_or("").to_string();
                if s.label == "SEND" {
                    requests.insert(tid, (to_path, from_path));
                } else if let Some((req_to, req_from)) = requests.get(&tid) {
                    assert_eq!(&to_path, req_from, "{}: the response's To-Path is the request's From-Path (step {})", p.name, s.index);
                    assert_eq!(&from_path, req_to, "{}: the response's From-Path is the responder's URI (step {})", p.name, s.index);
                }
            }
        }
    }
}
