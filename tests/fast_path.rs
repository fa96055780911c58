//! The page's fast path gives the same trace as the full run: `run_without_wire_text` differs
//! from `run` only in the empty `raw` texts (so a text fetched later from a full run belongs to
//! the step the page shows), and the packed form (src/packed.rs) carries every other field of
//! the contract unchanged.

mod common;

use cpm_deferral::packed::{pack_json, CHAT_FIELDS, STEP_FIELDS};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, run, run_without_wire_text, Rules};
use serde_json::{json, Map, Value};

fn all_runs() -> Vec<(String, Rules, Scenario)> {
    let mut v = Vec::new();
    for p in presets::all() {
        let sc = Scenario::from_json(p.json).expect("preset parses");
        for r in [Rules::PostCr, Rules::PreCr] {
            v.push((p.name.to_string(), r, sc.clone()));
        }
    }
    v
}

#[test]
fn without_wire_text_only_the_raw_texts_are_missing() {
    for (name, rules, sc) in all_runs() {
        let mut full = run(&sc, rules);
        let light = run_without_wire_text(&sc, rules);
        assert!(light.steps.iter().all(|s| s.raw.is_empty()), "{name}: the fast path built a wire text");
        assert!(full.steps.iter().any(|s| !s.raw.is_empty()), "{name}: the full run has texts");
        for s in &mut full.steps {
            s.raw.clear();
        }
        assert_eq!(full.to_json(), light.to_json(), "{name} {rules:?}: fast path and full run differ beyond the wire texts");
    }
}

/// The same over 500 random timelines × both rules (the generator of tests/conformance.rs):
/// the fast path leaves out every body and text (SDP, conference-info, CPIM) but not a step,
/// a tag, an id or a time.
#[test]
fn random_timelines_fast_path_differs_only_in_raw() {
    let mut steps = 0;
    for seed in 0..500u64 {
        let json = common::gen_scenario(common::mix64(seed ^ 0xfa57_0a7e));
        let sc = Scenario::from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: the generator made an invalid timeline: {e}"));
        for rules in [Rules::PostCr, Rules::PreCr] {
            let mut full = run(&sc, rules);
            let light = run_without_wire_text(&sc, rules);
            for s in &mut full.steps {
                s.raw.clear();
            }
            steps += light.steps.len();
            assert_eq!(full.to_json(), light.to_json(), "seed {seed} {rules:?}: fast path and full run differ beyond the wire texts");
        }
    }
    assert!(steps > 20_000, "the random timelines ran {steps} steps in all");
}

/// Unpacks like `unpackTrace` in www/engine.js.
fn unpack(p: &Value) -> Value {
    // The strings: one text, cut at the UTF-16 offsets in `ends`.
    let units: Vec<u16> = p["text"].as_str().unwrap().encode_utf16().collect();
    let mut start = 0;
    let owned: Vec<String> = p["ends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let end = e.as_u64().unwrap() as usize;
            let s = String::from_utf16(&units[start..end]).expect("a string ends on a character boundary");
            start = end;
            s
        })
        .collect();
    assert_eq!(start, units.len(), "the last end is the end of the text");
    let s: Vec<&str> = owned.iter().map(String::as_str).collect();
    let sets: Vec<Vec<Value>> = p["clause_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|set| set.as_array().unwrap().iter().map(|i| json!(s[i.as_u64().unwrap() as usize])).collect())
        .collect();
    const NONE: f64 = u32::MAX as f64;
    let num = |v: &Value| v.as_u64().unwrap() as f64;
    let f: Vec<f64> = p["steps"].as_array().unwrap().iter().map(num).collect();
    let st = |x: f64| json!(s[x as usize]);
    let int = |x: f64| json!(x as u64);
    let mut steps = Vec::new();
    for (i, r) in f.chunks(STEP_FIELDS).enumerate() {
        let mut o = Map::new();
        o.insert("index".into(), json!(i));
        o.insert("at_ms".into(), int(r[0]));
        o.insert("arrive_ms".into(), int(r[1]));
        o.insert("from".into(), st(r[2]));
        o.insert("to".into(), st(r[3]));
        o.insert("protocol".into(), st(r[4]));
        o.insert("label".into(), st(r[5]));
        o.insert("raw".into(), json!(""));
        o.insert("clauses".into(), Value::Array(sets[r[7] as usize].clone()));
        o.insert("note".into(), st(r[6]));
        o.insert("kind".into(), st(r[8]));
        o.insert("policy".into(), json!(r[13] as u8 & 1 == 1));
        o.insert("pf_state".into(), st(r[9]));
        o.insert("queue_len".into(), int(r[10]));
        if r[11] != NONE {
            o.insert("chat".into(), int(r[11]));
        }
        if r[12] != NONE {
            o.insert("event".into(), int(r[12]));
        }
        if r[13] as u8 & 2 == 2 {
            o.insert("dropped".into(), json!(true));
        }
        if r[14] != NONE {
            o.insert("key".into(), st(r[14]));
        }
        o.insert("cause".into(), st(r[15]));
        o.insert("sig".into(), int(r[16]));
        o.insert("nth".into(), int(r[17]));
        steps.push(Value::Object(o));
    }
    let c: Vec<f64> = p["chats"].as_array().unwrap().iter().map(num).collect();
    let opt = |x: f64| if x == NONE { Value::Null } else { int(x) };
    let mut chats = Vec::new();
    for r in c.chunks(CHAT_FIELDS) {
        chats.push(json!({
            "id": int(r[0]), "from": st(r[1]), "text": st(r[2]), "imdn_id": st(r[3]), "sent_ms": int(r[4]), "sent_step": int(r[5]),
            "for_carol": r[6] == 1.0, "stored_ms": opt(r[7]), "stored_step": opt(r[8]), "in_flight_ms": opt(r[9]), "in_flight_step": opt(r[10]),
            "delivered_ms": opt(r[11]), "delivered_step": opt(r[12]), "outcome": st(r[13]), "removed_ms": opt(r[14]), "removed_step": opt(r[15]),
            "possible_duplicate": r[16] == 1.0,
        }));
    }
    let mut rest = p["rest"].as_object().unwrap().clone();
    rest.insert("steps".into(), Value::Array(steps));
    rest.insert("chats".into(), Value::Array(chats));
    Value::Object(rest)
}

#[test]
fn the_packed_trace_unpacks_to_the_contract() {
    for (name, rules, sc) in all_runs() {
        let light = run_without_wire_text(&sc, rules);
        let want: Value = serde_json::from_str(&light.to_json()).unwrap();
        let packed: Value = serde_json::from_str(&pack_json(&light)).unwrap();
        assert_eq!(unpack(&packed), want, "{name} {rules:?}");
    }
}

/// String ends are JavaScript (UTF-16) offsets: texts with accents, CJK and characters outside
/// the BMP (two units each) must come back whole.
#[test]
fn the_packed_trace_cuts_non_ascii_strings_right() {
    let sc = Scenario::from_json(
        r#"{"format":"cpm-deferral-scenario","version":1,"title":"Grüße 😀","setup":"established","events":[
        {"at_ms":1000,"kind":"message","from":"alice","text":"😀 first, 𝄞 clef"},
        {"at_ms":1200,"kind":"bye","reason":"SIP;cause=480"},
        {"at_ms":1500,"kind":"message","from":"bob","text":"日本語のテキスト"},
        {"at_ms":1700,"kind":"message","from":"alice","text":"é"},
        {"at_ms":3000,"kind":"register"}]}"#,
    )
    .expect("scenario parses");
    for rules in [Rules::PostCr, Rules::PreCr] {
        let light = run_without_wire_text(&sc, rules);
        let want: Value = serde_json::from_str(&light.to_json()).unwrap();
        let packed: Value = serde_json::from_str(&pack_json(&light)).unwrap();
        assert_eq!(unpack(&packed), want, "{rules:?}");
        assert!(want["chats"].as_array().unwrap().iter().any(|c| c["text"] == "😀 first, 𝄞 clef"));
    }
}
