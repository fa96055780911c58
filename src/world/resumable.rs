//! A run in slices: the same event loop as [`super::simulate`], cut into bounded pieces so that
//! a caller with one thread (the web page where no Worker may run: a `worker-src 'none'`
//! policy) can show progress and stop between two of them (issue 13, item 9: long work shows
//! progress and can be cancelled). The trace is byte-identical to [`crate::run`]'s
//! (`tests/resumable.rs`), whatever the slices.
//!
//! The run owns its scenario (the world borrows it as a `Cow`), so it can live between calls.

use std::borrow::Cow;

use super::World;
use crate::scenario::Scenario;
use crate::trace::{Rules, Trace};

/// A run of one scenario under one rule set, advanced a slice at a time.
pub struct Resumable {
    world: World<'static>,
    total: usize,
    done: bool,
}

impl Resumable {
    /// Starts the run (the setup of `Setup`, nothing of the timeline yet). `wire`: build the
    /// wire texts ([`crate::run`]) or not ([`crate::run_without_wire_text`]).
    pub fn start(scenario: Scenario, rules: Rules, wire: bool) -> Self {
        let total = scenario.events.len();
        let mut world = World::new(Cow::Owned(scenario), rules);
        world.wire = wire;
        world.machines_wire();
        world.start();
        Resumable { world, total, done: false }
    }

    /// Processes at most `budget` things that happen (scenario events, arrivals, timers: about
    /// one step each); true when the run has nothing left to do.
    pub fn advance(&mut self, budget: usize) -> bool {
        if !self.done {
            self.done = self.world.advance(budget.max(1));
        }
        self.done
    }

    /// The share of the scenario's events processed so far, 0 to 1 (1 once done).
    pub fn progress(&self) -> f64 {
        if self.done || self.total == 0 {
            return if self.done { 1.0 } else { 0.0 };
        }
        self.world.next_event.min(self.total) as f64 / self.total as f64
    }

    /// The rule set of this run.
    pub fn rules(&self) -> Rules {
        self.world.rules
    }

    /// The scenario of this run.
    pub fn scenario(&self) -> &Scenario {
        &self.world.sc
    }

    /// The trace: the rest of the run is made first if it is not done.
    pub fn finish(mut self) -> Trace {
        while !self.advance(usize::MAX) {}
        self.world.finish()
    }
}
