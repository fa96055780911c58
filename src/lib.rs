//! CPM Deferral Explorer: a deterministic, clause-traced emulator of OMA CPM Conversation
//! Functions §8.3.2.9 "Deferred CPM Group Session handling" as amended by the change request
//! for CONRR comment D130, and of the text before it.
#![forbid(unsafe_code)]

macro_rules! cl {
    ($($c:expr),* $(,)?) => {
        std::borrow::Cow::Borrowed(&[$($c),*][..])
    };
}

#[cfg(feature = "capture")]
pub mod capture;
mod cf;
mod client;
pub mod compare;
pub mod conformance;
pub mod export;
mod ims;
#[cfg(not(target_arch = "wasm32"))]
pub mod input;
mod json_tree;
#[cfg(feature = "capture")]
pub mod judge;
mod machine;
mod members;
pub mod packed;
mod pf;
pub mod policy;
pub mod presets;
pub mod scenario;
pub mod shown;
pub mod story;
mod strs;
pub mod trace;
pub mod transcript;
mod u32map;
pub mod wire;
mod world;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use compare::compare;
pub use trace::{Rules, Trace};
pub use world::resumable::Resumable;

/// Runs a scenario under one rule set and returns its trace.
pub fn run(scenario: &scenario::Scenario, rules: Rules) -> Trace {
    world::simulate(scenario, rules, true)
}

/// Like [`run`] but without the wire texts: every step's `raw` is empty and everything else
/// is identical to [`run`]'s trace (same ids, tags and times), so a caller can show the ladder
/// at once and fetch a text later from a full [`run`] of the same scenario. The page's fast path.
pub fn run_without_wire_text(scenario: &scenario::Scenario, rules: Rules) -> Trace {
    world::simulate(scenario, rules, false)
}
