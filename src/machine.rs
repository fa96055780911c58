//! The one surface every actor of the model has (/work/shared/design/architecture.md, "Sans-IO
//! state machines"; in the shape of str0m's `Rtc` and quinn-proto's `Connection`): it is fed one
//! input at a time with the time it happens ([`Machine::handle`]), drained of what it wants done
//! ([`Machine::poll_output`]), and asked for its next deadline with the reason it runs
//! ([`Machine::poll_timeout`], str0m's timeout reason). No clock, socket or world inside: the
//! world (src/world/) steps the earliest event, delivers what each machine emits after its hop
//! latency, runs the timers each one arms and records the trace.
//!
//! Implemented by Carol's PF ([`crate::pf::Pf`]), the IMS core ([`crate::ims::Core`]), the CF
//! ([`crate::cf::Focus`], which arms no timer: its `Timer` type has no value), Carol's client
//! ([`crate::client::Client`]) and each member's client ([`crate::members::Member`], one machine
//! per member). The world calls each machine
//! through this trait statically (one monomorphization each, no generic code per machine); the
//! trait states the contract and lets a test drive any machine the same way. Each machine's
//! module names only the message vocabulary and the wire-text layer of the world
//! (tests/pf_boundary.rs, tests/machine_boundaries.rs).

/// Virtual time in milliseconds since the run's start (the world's clock; smoltcp-style: an
/// integer of our own, never the OS clock).
pub(crate) type Time = u64;

/// A sans-IO machine (module doc).
pub(crate) trait Machine {
    /// One thing that reaches it: a message received, a connection event, a timer firing.
    type Input;
    /// One thing it wants done or recorded.
    type Output;
    /// Why one of its timers runs (the name and clause the trace draws).
    type Timer: Copy;

    /// Feeds it `input`, which happens at `now`; what it wants done is then queued for
    /// [`Machine::poll_output`].
    fn handle(&mut self, now: Time, input: Self::Input);

    /// Moves what it wants done, in order, into `into` (which must be empty).
    fn poll_output(&mut self, into: &mut Vec<Self::Output>);

    /// Its earliest armed timer: when it fires and why (None when none is armed). The world
    /// fires it by feeding the machine that timer as an input at that time.
    fn poll_timeout(&self) -> Option<(Time, Self::Timer)>;
}

/// The timers a machine has armed and not yet seen fire or stopped, by the handle it gave each
/// (what [`Machine::poll_timeout`] answers from). Not generic, so every machine shares one copy
/// of its code: the machine keeps each handle's reason itself ([`Reasons`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Armed {
    /// (handle, deadline) of each armed timer (handles grow with the order of arming).
    at: Vec<(u32, Time)>,
}

impl Armed {
    /// Timer `handle` runs until `at`.
    pub(crate) fn arm(&mut self, handle: u32, at: Time) {
        self.at.push((handle, at));
    }

    /// Timer `handle` is stopped or fired (no effect if it is not armed).
    pub(crate) fn stop(&mut self, handle: u32) {
        if let Some(i) = self.at.iter().position(|e| e.0 == handle) {
            self.at.swap_remove(i);
        }
    }

    /// The earliest deadline (the first armed among equals) and its timer's handle.
    pub(crate) fn next(&self) -> Option<(Time, u32)> {
        let mut best: Option<(Time, u32)> = None;
        for &(h, t) in &self.at {
            if best.is_none_or(|b| (t, h) < b) {
                best = Some((t, h));
            }
        }
        best
    }

    /// How many are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }
}

/// The reason of each timer handle a machine handed out (handles are 0, 1, 2 … in order).
#[derive(Debug, Clone)]
pub(crate) struct Reasons<T>(Vec<T>);

impl<T> Default for Reasons<T> {
    fn default() -> Self {
        Reasons(Vec::new())
    }
}

impl<T: Copy + PartialEq> Reasons<T> {
    /// The next handle, for `reason`.
    pub(crate) fn add(&mut self, reason: T) -> u32 {
        self.0.push(reason);
        self.0.len() as u32 - 1
    }

    /// The reason of `handle`.
    pub(crate) fn of(&self, handle: u32) -> Option<T> {
        self.0.get(handle as usize).copied()
    }

    /// The armed timers' next deadline with its reason ([`Machine::poll_timeout`]).
    pub(crate) fn next(&self, armed: &Armed) -> Option<(Time, T)> {
        let (at, h) = armed.next()?;
        Some((at, self.of(h)?))
    }

    /// A timer for `reason` fired at `now`: the earliest armed one for it that was due is no
    /// longer armed.
    pub(crate) fn fired(&self, armed: &mut Armed, now: Time, reason: T) {
        let mut best: Option<(Time, u32)> = None;
        for &(h, t) in &armed.at {
            if t <= now && best.is_none_or(|b| (t, h) < b) && self.0.get(h as usize) == Some(&reason) {
                best = Some((t, h));
            }
        }
        if let Some((_, h)) = best {
            armed.stop(h);
        }
    }
}
