//! Thin `#[wasm_bindgen]` facade over the engine, compiled only for `wasm32`. Small plain data
//! (policies, presets, comparisons) crosses with serde-wasm-bindgen (as JSON text in the page's
//! first module, built for size); the trace, packed (below).
//!
//! It converts data and errors and does nothing else. The page calls [`run`] on every edit. Two
//! things keep that call fast for big timelines (a 1,000-message scenario is ~9,000 steps):
//! the run builds no wire texts ([`crate::run_without_wire_text`]; the inspector asks for one
//! text at a time with `raw`, which re-runs the same scenario with texts once and keeps them;
//! the page's first module is built without the wire-text code at all, feature `wire-text`, and
//! the page asks the second module, `pkg/export/`, for texts),
//! and the trace crosses the boundary packed ([`crate::packed`]): flat number arrays and
//! interned strings that `www/engine.js` unpacks into the objects of docs/trace-contract.md.
//!
//! A Rust panic is reported through the panic hook (console and `globalThis.__cpmPanic`); the
//! page shows an error banner with a reload action.

#[cfg(feature = "wire-text")]
use std::cell::RefCell;
use std::str::FromStr;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::scenario::Scenario;
use crate::Rules;

/// The last scenario run under one rule set, and its wire texts once someone asked for one.
#[cfg(feature = "wire-text")]
struct Last {
    scenario: Scenario,
    raws: Option<Vec<String>>,
}

#[cfg(feature = "wire-text")]
thread_local! {
    /// The last run under each rule set: [post-cr, pre-cr].
    static LAST: RefCell<[Option<Last>; 2]> = const { RefCell::new([None, None]) };
}

#[cfg(feature = "wire-text")]
fn slot(rules: Rules) -> usize {
    match rules {
        Rules::PostCr => 0,
        Rules::PreCr => 1,
    }
}

fn parse_rules(rules: &str) -> Result<Rules, JsError> {
    Rules::from_str(rules).map_err(|_| JsError::new(&format!("rules: unknown value {rules:?} (expected \"post-cr\" or \"pre-cr\")")))
}

fn parse_scenario(json: &str) -> Result<Scenario, JsError> {
    Scenario::from_json(json).map_err(|e| JsError::new(&e.to_string()))
}

/// Bulk data to JS as one JSON string and the browser's native `JSON.parse`: for the thousands
/// of strings and records of a big trace that is about 3× faster than building the object graph
/// value by value, which is what serde-wasm-bindgen does.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    // Writing the engine's own plain data cannot fail (no maps with non-string keys, no
    // non-finite floats); a fixed message keeps serde_json's error texts out of the page's module.
    let text = serde_json::to_string(value).map_err(|_| JsError::new("the engine could not write its result as JSON"))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("JSON.parse failed"))
}

/// Small plain data (the policy catalogue, the preset list, a comparison) to JS with
/// serde-wasm-bindgen: real JS objects and arrays, no text in between. The same JS values as
/// [`to_js`] gives (`json_compatible`).
#[cfg(feature = "wasm-export")]
fn plain<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// In the page's first module (built for size) the same data goes as one JSON text: a second
/// serializer's copy of every `Serialize` impl there was 3.3 KB of the initial page's budget.
#[cfg(not(feature = "wasm-export"))]
fn plain<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    to_js(value)
}

/// Runs without wire texts, remembers the scenario for `raw` (in a module with wire texts), and
/// packs the trace for JS.
fn light(scenario: Scenario, rules: Rules) -> Result<(JsValue, crate::Trace), JsError> {
    let trace = crate::run_without_wire_text(&scenario, rules);
    let packed = packed_to_js(&crate::packed::pack(&trace))?;
    #[cfg(feature = "wire-text")]
    LAST.with(|l| l.borrow_mut()[slot(rules)] = Some(Last { scenario, raws: None }));
    #[cfg(not(feature = "wire-text"))]
    drop(scenario);
    Ok((packed, trace))
}

/// The packed trace as a JS object: the number columns as `Uint32Array`s (one copy, no
/// parsing), all strings as one JS string (decoded once) with their ends, and the small
/// remainder through `JSON.parse`.
fn packed_to_js(p: &crate::packed::Packed) -> Result<JsValue, JsError> {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &JsValue::from_str(k), &v).map(|_| ()).map_err(|_| JsError::new("cannot build the packed trace"));
    set("packed", JsValue::from(p.packed))?;
    set("step_fields", JsValue::from(p.step_fields as u32))?;
    set("chat_fields", JsValue::from(p.chat_fields as u32))?;
    set("text", JsValue::from_str(&p.text))?;
    set("ends", js_sys::Uint32Array::from(p.ends.as_slice()).into())?;
    set("clause_sets", to_js(&p.clause_sets)?)?;
    set("steps", js_sys::Uint32Array::from(p.steps.as_slice()).into())?;
    set("chats", js_sys::Uint32Array::from(p.chats.as_slice()).into())?;
    set("rest", to_js(&p.rest)?)?;
    Ok(o.into())
}

#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&format!("cpm-deferral engine panic: {msg}")));
        let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("__cpmPanic"), &JsValue::from_str(&msg));
    }));
}

/// The crate version, shown in the page footer.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Run a scenario (JSON text, format of docs/trace-contract.md) under `"post-cr"` or `"pre-cr"`.
/// Returns the packed trace (`www/engine.js` `unpackTrace` gives the contract's objects).
/// Errors name the field, e.g. `events[3].at_ms: time goes backwards`.
#[wasm_bindgen(unchecked_return_type = "PackedTrace")]
pub fn run(scenario_json: &str, rules: &str) -> Result<JsValue, JsError> {
    let rules = parse_rules(rules)?;
    let scenario = parse_scenario(scenario_json)?;
    Ok(light(scenario, rules)?.0)
}

/// The full wire text of one step of the last run under `rules` (CRLF line ends), if any.
///
/// Only in a module built with wire texts (feature `wire-text`: `pkg/export/`); the page's
/// first module has no `raw`, and `www/engine.js` asks the second one for a step's text.
#[cfg(feature = "wire-text")]
#[wasm_bindgen]
pub fn raw(rules: &str, step_index: usize) -> Result<Option<String>, JsError> {
    let rules = parse_rules(rules)?;
    Ok(LAST.with(|l| {
        let mut l = l.borrow_mut();
        let last = l[slot(rules)].as_mut()?;
        // The same deterministic run with texts: identical steps, now with `raw` filled in.
        let raws = last.raws.get_or_insert_with(|| crate::run(&last.scenario, rules).steps.into_iter().map(|s| s.raw).collect());
        raws.get(step_index).cloned()
    }))
}

/// Both rule sets on one scenario, for the side-by-side view: `{ post, pre, comparison }`.
/// `post` and `pre` are traces as from [`run`]; `comparison` is the engine's comparison
/// (both summaries and the first difference).
#[wasm_bindgen(unchecked_return_type = "{ post: PackedTrace, pre: PackedTrace, comparison: Comparison }")]
pub fn run_both(scenario_json: &str) -> Result<JsValue, JsError> {
    let scenario = parse_scenario(scenario_json)?;
    let (post, post_trace) = light(scenario.clone(), Rules::PostCr)?;
    let (pre, pre_trace) = light(scenario, Rules::PreCr)?;
    let comparison = plain(&crate::compare::compare_traces(&post_trace, &pre_trace))?;
    let out = js_sys::Object::new();
    for (k, v) in [("post", post), ("pre", pre), ("comparison", comparison)] {
        js_sys::Reflect::set(&out, &JsValue::from_str(k), &v).map_err(|_| JsError::new("run_both: cannot build result"))?;
    }
    Ok(out.into())
}

#[derive(Serialize)]
struct PresetView {
    name: &'static str,
    description: &'static str,
    json: &'static str,
}

/// The built-in presets: `[{ name, description, json }]` (json = the scenario file's text).
#[wasm_bindgen(unchecked_return_type = "{ name: string, description: string, json: string }[]")]
pub fn presets() -> Result<JsValue, JsError> {
    let list: Vec<PresetView> = crate::presets::all().iter().map(|p| PresetView { name: p.name, description: p.description, json: p.json }).collect();
    plain(&list)
}

/// The policy catalogue for the pickers (every policy is "not in the CR").
#[wasm_bindgen(unchecked_return_type = "PolicyInfo[]")]
pub fn policies() -> Result<JsValue, JsError> {
    plain(&crate::policy::catalogue())
}

/// Check a scenario without running it: `null` when valid, else the error message.
#[wasm_bindgen]
pub fn check(scenario_json: &str) -> Option<String> {
    Scenario::from_json(scenario_json).err().map(|e| e.to_string())
}

/// Panic on purpose, so the browser tests can check the error banner and the restore.
#[wasm_bindgen]
pub fn debug_panic() {
    panic!("debug_panic called from the page (a test of the error banner)");
}

#[wasm_bindgen(typescript_custom_section)]
const PACKED_TS: &str = r#"
/** A trace packed for the boundary (src/packed.rs); `unpackTrace` in www/engine.js gives a `Trace`. */
export interface PackedTrace {
  packed: 2;
  step_fields: number;
  chat_fields: number;
  /** Every string, one after the other; string i ends at ends[i] (UTF-16 units). */
  text: string;
  ends: Uint32Array;
  clause_sets: number[][];
  /** 0xFFFFFFFF = absent (null). */
  steps: Uint32Array;
  chats: Uint32Array;
  rest: Omit<Trace, "steps" | "chats">;
}
"#;

// ---------------------------------------------------------------- exports (src/export)
// Only with the `wasm-export` feature: scripts/build-wasm.sh builds them into a second module
// (pkg/export/) that the page loads when the user first exports, so the first page load does
// not carry the export code.

/// A text export of one run: `format` is `"mermaid"`, `"plantuml"`, `"svg"` or `"transcript"`
/// (also `"text"` and `"json"`). The texts are escaped for their syntax (see `crate::export`).
#[cfg(feature = "wasm-export")]
#[wasm_bindgen]
pub fn export_text(scenario_json: &str, rules: &str, format: &str) -> Result<String, JsError> {
    let rules = parse_rules(rules)?;
    let format = format.parse::<crate::export::Format>().map_err(|e| JsError::new(&e.to_string()))?;
    let scenario = parse_scenario(scenario_json)?;
    // Only the JSON and the transcript show wire texts; the diagrams are drawn from the fast path.
    let trace = match format {
        crate::export::Format::Json | crate::export::Format::Transcript => crate::run(&scenario, rules),
        _ => crate::run_without_wire_text(&scenario, rules),
    };
    crate::export::render_text(&trace, format).map_err(|e| JsError::new(&e.to_string()))
}

/// The pcap file (classic libpcap, Ethernet/IPv4/TCP) of one run's SIP and MSRP messages, as a
/// `Uint8Array`; see `crate::export::pcap` for the address table.
#[cfg(feature = "wasm-export")]
#[wasm_bindgen]
pub fn export_pcap(scenario_json: &str, rules: &str) -> Result<Vec<u8>, JsError> {
    let rules = parse_rules(rules)?;
    let scenario = parse_scenario(scenario_json)?;
    let trace = crate::run(&scenario, rules);
    crate::export::pcap::write(&trace, &crate::export::pcap::Network::for_scenario(&scenario)).map_err(|e| JsError::new(&e.to_string()))
}

/// For `make bench`: `rounds` times the page's fast path inside wasm (parse, run without wire
/// texts, pack), without handing anything to JS, so the benchmark can compare the same work
/// with the native build. Returns the number of steps of the last run.
#[cfg(feature = "wasm-export")]
#[wasm_bindgen]
pub fn bench_fast_path(scenario_json: &str, rules: &str, rounds: u32) -> Result<u32, JsError> {
    let rules = parse_rules(rules)?;
    let mut steps = 0;
    for _ in 0..rounds {
        let scenario = parse_scenario(scenario_json)?;
        let trace = crate::run_without_wire_text(&scenario, rules);
        steps = std::hint::black_box(crate::packed::pack(&trace)).steps.len() / crate::packed::STEP_FIELDS;
    }
    Ok(steps as u32)
}

/// A run in slices for a page thread that may start no Worker (a `worker-src 'none'` policy):
/// `new SlicedRun(json, rules, both)`, then `advance(budget)` until it answers true (each call
/// processes at most `budget` things that happen, about one step each, so the page stays
/// responsive and can stop between two calls), then `finish()`: what [`run`] (or, with `both`,
/// [`run_both`]) gives for the same scenario. Issue 13, item 9; see [`crate::Resumable`].
#[cfg(feature = "wasm-export")]
#[wasm_bindgen]
pub struct SlicedRun {
    /// The runs still to make or finish: post-cr first with `both`.
    runs: Vec<(Rules, crate::Resumable)>,
    /// The traces finished so far (post-cr first).
    done: Vec<(Rules, crate::Trace)>,
    both: bool,
}

#[cfg(feature = "wasm-export")]
#[wasm_bindgen]
impl SlicedRun {
    /// Reads the scenario (the engine's check: a refused scenario is the error) and starts the
    /// run(s); nothing of the timeline is processed yet.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario_json: &str, rules: &str, both: bool) -> Result<SlicedRun, JsError> {
        let rules = if both { Rules::PostCr } else { parse_rules(rules)? };
        let scenario = parse_scenario(scenario_json)?;
        let mut runs = Vec::new();
        if both {
            runs.push((Rules::PreCr, crate::Resumable::start(scenario.clone(), Rules::PreCr, false)));
        }
        runs.push((rules, crate::Resumable::start(scenario, rules, false)));
        Ok(SlicedRun { runs, done: Vec::new(), both })
    }

    /// Processes at most `budget` things that happen; true when every run is done.
    pub fn advance(&mut self, budget: u32) -> bool {
        while let Some((rules, mut r)) = self.runs.pop() {
            if !r.advance(budget as usize) {
                self.runs.push((rules, r));
                return false;
            }
            self.done.push((rules, r.finish_and_remember()));
        }
        true
    }

    /// The share of the work done, 0 to 1.
    pub fn progress(&self) -> f64 {
        let n = (self.runs.len() + self.done.len()).max(1) as f64;
        (self.done.len() as f64 + self.runs.last().map_or(0.0, |(_, r)| r.progress())) / n
    }

    /// The packed trace (`{ post, pre, comparison }` with `both`), the rest of the run made
    /// first if it is not done. The scenario is kept for `raw`, as after [`run`].
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        self.advance(u32::MAX);
        let mut done = std::mem::take(&mut self.done);
        if !self.both {
            let (_, trace) = done.pop().ok_or_else(|| JsError::new("SlicedRun: finished twice"))?;
            return packed_to_js(&crate::packed::pack(&trace));
        }
        let (Some((_, pre)), Some((_, post))) = (done.pop(), done.pop()) else {
            return Err(JsError::new("SlicedRun: finished twice"));
        };
        let out = js_sys::Object::new();
        let comparison = plain(&crate::compare::compare_traces(&post, &pre))?;
        for (k, v) in [("post", packed_to_js(&crate::packed::pack(&post))?), ("pre", packed_to_js(&crate::packed::pack(&pre))?), ("comparison", comparison)] {
            js_sys::Reflect::set(&out, &JsValue::from_str(k), &v).map_err(|_| JsError::new("SlicedRun: cannot build result"))?;
        }
        Ok(out.into())
    }
}

/// The notes (explanations) of every step of the last run under `rules`, in step order, joined
/// by U+001E (which no note holds: scenario texts refuse control characters).
///
/// Only in a module built with notes (feature `note-text`: `pkg/export/`); the page's first
/// module records steps without notes, and `www/engine.js` fills them in from here on first use.
#[cfg(all(feature = "wire-text", feature = "note-text"))]
#[wasm_bindgen]
pub fn notes(rules: &str) -> Result<Option<String>, JsError> {
    let rules = parse_rules(rules)?;
    Ok(LAST.with(|l| {
        let l = l.borrow();
        let last = l[slot(rules)].as_ref()?;
        let trace = crate::run_without_wire_text(&last.scenario, rules);
        let mut out = String::new();
        for (i, s) in trace.steps.iter().enumerate() {
            if i > 0 {
                out.push('\u{1e}');
            }
            out.push_str(&s.note);
        }
        Some(out)
    }))
}

/// A finished run's trace; its scenario becomes the one `raw` answers for under its rules.
#[cfg(feature = "wasm-export")]
trait Remember {
    fn finish_and_remember(self) -> crate::Trace;
}

#[cfg(feature = "wasm-export")]
impl Remember for crate::Resumable {
    fn finish_and_remember(self) -> crate::Trace {
        let rules = self.rules();
        let scenario = self.scenario().clone();
        let trace = self.finish();
        LAST.with(|l| l.borrow_mut()[slot(rules)] = Some(Last { scenario, raws: None }));
        trace
    }
}

// ---------------------------------------------------------------- the judge (src/judge)
// Only with the `capture` feature, which scripts/build-wasm.sh adds to the second module.

/// Judges a capture (pcap or pcapng bytes, read in the browser and never sent anywhere)
/// against §8.3.2.9 under `rules`, as `cpm-deferral conform --format json` does: the same JSON
/// (`verdict`, `clauses`, `deviations`, `policies`, `inferred`, `roles`, `scenario`, `capture`)
/// plus `ladders` (`observed`, `expected`: the judge panel's two ladders, traces in the trace
/// contract's shape). A capture that cannot be judged is an error with the CLI's message.
#[cfg(feature = "capture")]
#[wasm_bindgen]
pub fn judge_capture(bytes: &[u8], rules: &str, pf: Option<String>, cf: Option<String>) -> Result<String, JsError> {
    let mut j = CaptureJudging::new();
    j.push(bytes);
    j.finish(rules, pf, cf)
}

#[cfg(feature = "capture")]
fn judge_options(rules: &str, pf: Option<String>, cf: Option<String>) -> Result<crate::judge::Options, JsError> {
    let rules = parse_rules(rules)?;
    let node = |what: &str, v: Option<String>| -> Result<Option<crate::capture::roles::Node>, JsError> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|e: crate::capture::roles::RolesError| JsError::new(&format!("{what}: {e}"))),
        }
    };
    Ok(crate::judge::Options { pf: node("PF", pf)?, cf: node("CF", cf)?, rules })
}

/// A capture judged as it is read (src/judge/stream.rs): the page's worker pushes a File's
/// slices as they come, so a big capture is never held whole (memory stays bounded), then
/// asks for the judgement (the JSON of [`judge_capture`]).
#[cfg(feature = "capture")]
#[wasm_bindgen]
pub struct CaptureJudging {
    inner: Option<crate::judge::CaptureJudge>,
}

#[cfg(feature = "capture")]
#[wasm_bindgen]
impl CaptureJudging {
    /// Nothing read yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> CaptureJudging {
        CaptureJudging { inner: Some(crate::judge::CaptureJudge::new()) }
    }

    /// Reads the next slice; false once the reading has stopped on a damaged file (the rest
    /// need not be pushed: [`CaptureJudging::finish`] says why).
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        match self.inner.as_mut() {
            Some(j) => {
                j.push(bytes);
                !j.failed()
            }
            None => false,
        }
    }

    /// SIP and MSRP messages read so far (for the progress line).
    pub fn messages(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |j| j.messages() as f64)
    }

    /// The judgement of what was pushed, as `judge_capture`'s JSON; an error with the CLI's
    /// message when it cannot be judged.
    pub fn finish(&mut self, rules: &str, pf: Option<String>, cf: Option<String>) -> Result<String, JsError> {
        let opts = judge_options(rules, pf, cf)?;
        let j = self.inner.take().ok_or_else(|| JsError::new("this judgement is finished already"))?;
        j.finish(opts, true).map(|j| crate::judge::to_json_with_ladders(&j)).map_err(|e| JsError::new(&e.to_string()))
    }
}

#[cfg(feature = "capture")]
impl Default for CaptureJudging {
    fn default() -> Self {
        Self::new()
    }
}
