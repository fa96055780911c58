//! CPM Deferral Explorer: a deterministic, clause-traced emulator of OMA CPM Conversation
//! Functions §8.3.2.9 "Deferred CPM Group Session handling" as amended by the change request
//! for CONRR comment D130, and of the text before it.
#![forbid(unsafe_code)]

pub mod compare;
pub mod export;
pub mod policy;
pub mod presets;
pub mod scenario;
pub mod trace;
pub mod transcript;
pub mod wire;
mod world;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use compare::compare;
pub use trace::{Rules, Trace};

/// Runs a scenario under one rule set and returns its trace.
pub fn run(scenario: &scenario::Scenario, rules: Rules) -> Trace {
    world::simulate(scenario, rules)
}
