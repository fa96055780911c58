//! The end of a run (the trace, its lanes, policies and summary; what was still in flight or
//! stored) and the trace's chat records: what became of every chat message (docs/trace-contract.md).

use super::*;

impl World<'_> {
    // ------------------------------------------------------------------ the end

    pub(super) fn finish(mut self) -> Trace {
        self.cur_cause = self.causes.len() as u32 - 1;
        // Anything still in flight at the end was never acknowledged: say so and count it.
        let unacked = self.pf.take_in_flight();
        for f in unacked {
            if self.chats[f.chat as usize].outcome == Outcome::Pending
                && !self.client.has_received(f.chat)
                && !self.tablet.as_ref().is_some_and(|t| t.client.has_received(f.chat))
            {
                self.lose(f.chat, "The run ends with this SEND still unacknowledged: Carol never got it.", cl!["RFC 4975 §7.1.1"]);
            } else if self.chats[f.chat as usize].outcome == Outcome::Pending {
                self.deliver_mark(f.chat, f.replay);
            }
        }
        self.thin_store_keys();
        let store: Vec<u32> = self.pf.stored().collect();
        for c in store {
            let c = &mut self.chats[c as usize];
            if c.outcome != Outcome::NotForCarol {
                c.outcome = Outcome::StillStored;
            }
        }
        // The time of the last step (or of the last arrival or timer span on the ladder); timers
        // that were stopped earlier still advance the clock and do not count.
        let end = self.steps.iter().map(|s| s.arrive_ms).chain(self.spans.iter().map(|t| t.end_ms)).max().unwrap_or(0);
        if let Some(last) = self.states.last_mut() {
            last.to_ms = end;
        }
        let mut summary = Summary { sent_while_away: self.sent_while_away, ..Summary::default() };
        for c in &mut self.chats {
            if c.outcome == Outcome::Pending {
                c.outcome = if c.for_carol { Outcome::Lost } else { Outcome::NotForCarol };
            }
            if c.stored_ms.is_some() && c.for_carol {
                summary.stored += 1;
            }
            if c.possible_duplicate {
                summary.possible_duplicates += 1;
            }
            match c.outcome {
                Outcome::Live => summary.delivered_live += 1,
                Outcome::FromStore => summary.delivered_from_store += 1,
                Outcome::StillStored => summary.still_stored += 1,
                Outcome::Lost => summary.lost += 1,
                Outcome::Discarded => summary.discarded += 1,
                _ => {}
            }
        }
        self.spans.sort_by_key(|a| (a.start_ms, a.end_ms));
        let lanes = self
            .lanes
            .iter()
            .enumerate()
            .filter(|(i, _)| self.used_lanes[*i])
            .map(|(i, id)| {
                let (label, role) = match i {
                    0 => ("Carol (client)".to_string(), "client"),
                    1 => ("Carol's PF".to_string(), "pf"),
                    2 => ("CF (focus)".to_string(), "cf"),
                    i if i == 3 + self.sc.members.len() => ("IMS core".to_string(), "ims"),
                    i if i == 4 + self.sc.members.len() => ("Carol (tablet)".to_string(), "client"),
                    i => (self.sc.members[i - 3].name.clone(), "member"),
                };
                LaneInfo { id: id.clone(), label, role }
            })
            .collect();
        let policies = self
            .pol
            .iter()
            .map(|(p, v)| {
                let i = p.info();
                PolicyChoice { id: i.id, question: i.question, title: i.title, value: v, default: i.default, options: i.options }
            })
            .collect();
        Trace {
            version: 1,
            rules: self.rules,
            title: self.sc.title.clone(),
            end_ms: end,
            lanes,
            steps: self.steps,
            chats: self.chats,
            timers: self.spans,
            pf_states: self.states,
            participants: self.rosters,
            policies,
            summary,
        }
    }

    /// "Each stored message, or the first and a count": in a run of stored (or lost) messages with no
    /// other key step between them, the first and the last stay key steps (the last titled
    /// with the count), the ones between do not, so a story of 40 stored messages is two
    /// presses, not forty.
    pub(super) fn thin_store_keys(&mut self) {
        let keys: Vec<usize> = self.steps.iter().filter(|s| s.key.is_some()).map(|s| s.index as usize).collect();
        let mut i = 0;
        while i < keys.len() {
            let mut j = i;
            let kind = self.steps[keys[i]].kind;
            while j + 1 < keys.len() && matches!(kind, StepKind::Store | StepKind::Lost) && self.steps[keys[j + 1]].kind == kind {
                j += 1;
            }
            if j > i + 1 {
                for k in &keys[i + 1..j] {
                    self.steps[*k].key = None;
                }
            }
            if j > i {
                let n = j - i + 1;
                let q = self.steps[keys[j]].queue_len;
                let back = self.steps[keys[j]].label.starts_with("back to store");
                self.steps[keys[j]].key = Some(Cow::Owned(if back {
                    format!("{n} unacknowledged messages back in the store (Q12 policy; store: {q})")
                } else if kind == StepKind::Store {
                    format!("{n} messages stored for Carol (store: {q})")
                } else {
                    format!("{n} messages lost for Carol")
                }));
            }
            i = j + 1;
        }
    }

    // ------------------------------------------------------------------ chat bookkeeping
    //
    // What the trace records about each chat message (docs/trace-contract.md, chats). The PF
    // reports its part through its outputs (src/pf/io.rs, executed by pf_glue.rs); it does not write the records.

    /// The content (CPIM document) of `chat`, by reference: the body of the SEND that carried it.
    pub(crate) fn chat_body(&self, chat: u32) -> Arc<str> {
        self.chats[chat as usize].cpim.clone()
    }

    /// `chat` went into the PF's store at `step` (the first time counts).
    pub(crate) fn chat_stored(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        if c.stored_ms.is_none() {
            c.stored_ms = Some(self.now);
            c.stored_step = Some(step);
        }
    }

    /// `chat`, replayed from the store, left the PF at `step`.
    pub(crate) fn chat_in_flight(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        c.in_flight_ms = Some(self.now);
        c.in_flight_step = Some(step);
    }

    /// Carol's 200 for `chat` reached the PF at `step`.
    pub(crate) fn chat_delivered(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        c.delivered_ms = Some(self.now);
        c.delivered_step = Some(step);
    }

    /// `chat`, unacknowledged when the session went away, went back into the store at `step`
    /// (Q12 resend: Carol may see it twice).
    pub(crate) fn chat_requeued(&mut self, chat: u32, step: u32) {
        let c = &mut self.chats[chat as usize];
        // (A message that was not for Carol is not counted, whatever the PF does with it.)
        c.possible_duplicate = c.outcome != Outcome::NotForCarol;
        c.in_flight_ms = None;
        c.in_flight_step = None;
        self.chat_stored(chat, step);
    }

    /// The PF drops `chat` (out of its store or in flight) with its explanation `why`. `purge` is
    /// Some when it empties its store on leaving the group (true when it believes Carol left on
    /// purpose), None when it counts one message lost. The outcome is ground truth, decided here
    /// after the PF acted: a purged message is discarded if Carol left on purpose, else lost
    /// (whatever the PF could tell); a message that was not for her keeps that outcome, and its
    /// step says what the PF believed.
    pub(crate) fn pf_drops(&mut self, chat: u32, purge: Option<bool>, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        if self.chats[chat as usize].outcome != Outcome::NotForCarol {
            return if purge.is_some() && !self.carol.entitled { self.discard(chat, why, clauses) } else { self.lose(chat, why, clauses) };
        }
        let label = format!("{} #{chat}", if purge == Some(true) { "discarded" } else { "lost" });
        let step = self.note(Node::Pf, StepKind::Lost, label, clauses, why, Some(chat));
        let c = &mut self.chats[chat as usize];
        if c.stored_ms.is_some() {
            c.removed_ms = Some(self.now);
            c.removed_step = Some(step);
        }
    }

    /// Marks `chat` lost with an explanation on the PF lane.
    pub(crate) fn lose(&mut self, chat: u32, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        let c = &mut self.chats[chat as usize];
        if c.outcome != Outcome::Pending {
            return;
        }
        c.outcome = Outcome::Lost;
        let was_stored = c.stored_ms.is_some();
        let label = format!("lost #{chat}");
        let step = self.note(Node::Pf, StepKind::Lost, label, clauses, why, Some(chat));
        if was_stored {
            let c = &mut self.chats[chat as usize];
            c.removed_ms = Some(self.now);
            c.removed_step = Some(step);
        }
    }

    /// Marks `chat` discarded (Carol left voluntarily).
    pub(crate) fn discard(&mut self, chat: u32, why: impl Into<Cow<'static, str>>, clauses: Clauses) {
        if self.chats[chat as usize].outcome != Outcome::Pending {
            return;
        }
        self.chats[chat as usize].outcome = Outcome::Discarded;
        let step = self.note(Node::Pf, StepKind::Lost, format!("discarded #{chat}"), clauses, why, Some(chat));
        let c = &mut self.chats[chat as usize];
        c.removed_ms = Some(self.now);
        c.removed_step = Some(step);
    }

    pub(crate) fn deliver_mark(&mut self, chat: u32, from_store: bool) {
        let c = &mut self.chats[chat as usize];
        if c.outcome == Outcome::Pending {
            c.outcome = if from_store || c.stored_ms.is_some() { Outcome::FromStore } else { Outcome::Live };
        }
    }
}
