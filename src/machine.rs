//! The one surface every actor of the model has (/work/shared/design/architecture.md, "Sans-IO
//! state machines"; in the shape of str0m's `Rtc` and quinn-proto's `Connection`): it is fed one
//! input at a time with the time it happens ([`Machine::handle`]), drained of what it wants done
//! ([`Machine::poll_output`]), and asked for its next deadline with the reason it runs
//! ([`Machine::poll_timeout`], str0m's timeout reason). No clock, socket or world inside: the
//! world (src/world/) steps the earliest event, delivers what each machine emits after its hop
//! latency, runs the timers each one arms and records the trace.
//!
//! Implemented by Carol's PF ([`crate::pf::Pf`]). The world calls each machine's own methods (one monomorphization each, no generic code per
//! machine); the trait states the contract and lets a test drive any machine the same way.

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
/// (what [`Machine::poll_timeout`] answers from). The handles and deadlines sit apart from the
/// reasons, so the search code is shared by every machine (one copy, not one per reason type).
#[derive(Debug, Clone)]
pub(crate) struct Armed<T> {
    /// (handle, deadline) of each armed timer (handles grow with the order of arming).
    at: Vec<(u32, Time)>,
    /// The reason of each, at the same index.
    why: Vec<T>,
}

impl<T> Default for Armed<T> {
    fn default() -> Self {
        Armed { at: Vec::new(), why: Vec::new() }
    }
}

/// The index of the earliest deadline, the first armed among equals.
fn earliest(at: &[(u32, Time)]) -> Option<usize> {
    let mut best: Option<(usize, (Time, u32))> = None;
    for (i, &(h, t)) in at.iter().enumerate() {
        if best.is_none_or(|(_, b)| (t, h) < b) {
            best = Some((i, (t, h)));
        }
    }
    best.map(|(i, _)| i)
}

impl<T: Copy + PartialEq> Armed<T> {
    /// Timer `handle` runs until `at` for `reason`.
    pub(crate) fn arm(&mut self, handle: u32, at: Time, reason: T) {
        self.at.push((handle, at));
        self.why.push(reason);
    }

    fn forget(&mut self, i: usize) {
        if i < self.at.len() && i < self.why.len() {
            self.at.swap_remove(i);
            self.why.swap_remove(i);
        }
    }

    /// Timer `handle` is stopped (no effect if it is not armed).
    pub(crate) fn stop(&mut self, handle: u32) {
        if let Some(i) = self.at.iter().position(|e| e.0 == handle) {
            self.forget(i);
        }
    }

    /// A timer for `reason` fired at `now`: the earliest armed one for it that was due.
    pub(crate) fn fired(&mut self, now: Time, reason: T) {
        let mut best: Option<(usize, (Time, u32))> = None;
        for (i, (&(h, t), w)) in self.at.iter().zip(&self.why).enumerate() {
            if *w == reason && t <= now && best.is_none_or(|(_, b)| (t, h) < b) {
                best = Some((i, (t, h)));
            }
        }
        if let Some((i, _)) = best {
            self.forget(i);
        }
    }

    /// The earliest deadline (the first armed among equals) and its reason.
    pub(crate) fn next(&self) -> Option<(Time, T)> {
        let i = earliest(&self.at)?;
        Some((self.at.get(i)?.1, *self.why.get(i)?))
    }

    /// How many are armed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }
}
