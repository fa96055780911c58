//! The PF in the media path: it relays the focus's SENDs to Carol or stores them (§8.3.2.9:
//! "stores every further CPM Message"), replays the store in order over her new session, binds
//! its own MSRP connection to the focus (RFC 4975 §5.4), and refreshes her session (RFC 4028).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::*;
use crate::world::ChunkAt;
use crate::world::{Arrival, Node, MSRP_TIMEOUT_MS, REFRESH_MS};
use std::sync::Arc;

impl Pf {
    // ------------------------------------------------------------------ messages from the CF

    pub(super) fn pf_gets_chat(&mut self, chat: u32, tid: String, body: Arc<str>, chunk: Option<ChunkAt>, sender: Arc<str>) {
        let raw = self.ok_text(&tid, self.pf_cf_path(), self.cf_pf_path());
        if let Some(c) = chunk.filter(|c| cfg!(feature = "chunks") && !c.last()) {
            // Q14: a chunk of the focus's message (RFC 4975 §5.1); the PF has the message when
            // the last one arrives.
            self.msrp(
                Node::Cf,
                raw,
                "200 OK",
                cl!["RFC 4975 §7.2"],
                note_fmt!("The PF acknowledges the chunk (bytes {}-{} of {}); it has the message with the last chunk.", c.start + 1, c.end, c.total),
                Some(chat),
                None,
            );
            return;
        }
        let deferring = !matches!(self.state, PfState::Active | PfState::Replaying | PfState::Idle | PfState::Inviting);
        let note = if deferring {
            "The PF keeps answering the focus's SENDs: it remains in the media path for Carol."
        } else {
            "The PF acknowledges the SEND hop by hop."
        };
        self.msrp(Node::Cf, raw, "200 OK", if deferring { cl![CL] } else { cl!["RFC 4975 §7.2"] }, note, Some(chat), None);
        // Every SEND on Carol's leg is for her as far as the PF can tell (whether she still counts
        // as a participant is the focus's business): it relays or stores each one.
        match self.state {
            PfState::Active => self.send_to_carol(chat, body, false),
            PfState::Replaying => {
                if self.policy(PolicyId::Q11LiveDuringReplay, "interleave") {
                    self.note(
                        StepKind::Info,
                        "forwarded during replay",
                        cl!["policy:q11-live-during-replay"],
                        "Q11 policy interleave: a live message goes to Carol at once, between replayed ones.",
                        Some(chat),
                    );
                    self.send_to_carol(chat, body, false);
                } else if self.store_chat(
                    chat,
                    body.clone(),
                    cl!["policy:q11-live-during-replay"],
                    "Q11 policy: a live message that arrives during the replay joins the end of the store, so Carol sees one order.",
                ) {
                    self.q17_stored(chat, &sender, &body);
                }
            }
            PfState::Deferred | PfState::DeliveringA | PfState::DeliveringB | PfState::EndedWithBacklog => {
                if self.store_chat(
                    chat,
                    body.clone(),
                    cl![CL],
                    "Deferred: the PF stores every further CPM Message of the group session for later delivery to Carol.",
                ) {
                    self.q17_stored(chat, &sender, &body);
                }
            }
            _ => self.pf_drops(chat, None, "Carol's PF has no session with her and is not deferring: the message cannot reach her.", cl![CL]),
        }
    }

    /// Stores `chat` for Carol; false if Q10's cap kept it out.
    pub(super) fn store_chat(&mut self, chat: u32, body: Arc<str>, clauses: Clauses, note: &'static str) -> bool {
        // Q10: a cap on the store (src/pf/open_questions.rs).
        if !self.q10_room_for(chat) {
            return false;
        }
        self.store.push_back((chat, body));
        self.note(StepKind::Store, crate::trace::numbered("stored #", chat as u64, ""), clauses, note, Some(chat));
        self.key_last(crate::trace::numbered2("Stored message #", chat as u64, " for Carol (store: ", Some(self.store.len() as u64), ")"));
        self.chat(ChatEvent::Stored(chat));
        if self.state == PfState::Replaying {
            self.pump();
        }
        true
    }

    /// Sends `chat` (CPIM document `body`) to Carol over her MSRP session.
    pub(super) fn send_to_carol(&mut self, chat: u32, body: Arc<str>, replay: bool) {
        if self.chunked(&body) {
            return self.send_chunks_to_carol(chat, body, replay);
        }
        let (from, to) = self.pf_view();
        let (raw, tid) = self.send_text(Node::Pf, &to, &from, Some(&body));
        let tx = self.next(Node::Pf) as u32;
        let (clauses, note): (Clauses, &'static str) = if replay {
            (cl![READ], "Deferred delivery over MSRP (§8.3.2.9): the PF sends the next stored message to Carol. One at a time in the order it was stored is our reading; the CR gives no order.")
        } else {
            (cl!["RFC 4975 §7.1.1"], "The PF relays the group message to Carol.")
        };
        self.msrp(self.dev, raw, "SEND", clauses, note, Some(chat), Some(Arrival::PfSendAtCarol { chat, tx, tid, chunk: None, replay }));
        let timer = self.arm(PfTimer::MsrpTransaction { tx }, MSRP_TIMEOUT_MS);
        self.in_flight.push(InFlight { tx, chat, timer, replay, body, chunks: None });
        if replay {
            self.chat(ChatEvent::InFlight(chat));
        }
    }

    /// Arms the 30 s timeout of SEND transaction `tx` (RFC 4975 §7.1.1).
    pub(super) fn arm_send_timeout(&mut self, tx: u32) -> u32 {
        self.arm(PfTimer::MsrpTransaction { tx }, MSRP_TIMEOUT_MS)
    }

    /// Replays the store one message at a time; ends the delivery when it is empty.
    pub(super) fn pump(&mut self) {
        if self.state != PfState::Replaying || self.in_flight.iter().any(|f| f.replay) {
            return;
        }
        if let Some((chat, body)) = self.store.pop_front() {
            self.send_to_carol(chat, body, true);
            return;
        }
        if self.close_after_flush {
            self.bye_carol(
                "SIP;cause=410;text=\"Gone\"",
                cl!["policy:q8-group-ends"],
                "Q8 policy: the group session ended while Carol was away; after delivering what was stored, the PF closes her session.",
            );
            if self.set_state(PfState::Ended, cl!["policy:q8-group-ends"], "The backlog is delivered and the group session is over.") {
                self.key_last("Backlog delivered; the PF closes Carol's session (Q8 policy)");
            }
            return;
        }
        if self.set_state(PfState::Active, cl![CL], "Deferred delivery complete: the store is empty and Carol is a normal participant again.") {
            self.key_last("Replay ends: Carol has everything she missed");
        }
        // It keeps its subscription while it serves Carol's own from it (issue 11 #6).
        if self.policy(PolicyId::SubscriptionEnd, "after-delivery") && self.sub.is_some() && self.client_sub.is_none() {
            self.unsubscribe(
                cl!["RFC 6665 §4.1.2.3", "policy:subscription-end"],
                "The deferred delivery is done, so the PF no longer needs the focus's Participant Information and ends its subscription (when is not in the CR).",
            );
        }
    }

    pub(super) fn pf_bind_cf(&mut self) {
        self.cf_media = true;
        let (raw, tid) = self.send_text(Node::Pf, self.cf_pf_path(), self.pf_cf_path(), None);
        self.msrp(
            Node::Cf,
            raw,
            "SEND",
            cl!["RFC 4975 §5.4"],
            "The PF opens its MSRP connection to the focus and binds it with an empty SEND.",
            None,
            Some(Arrival::BindAtCf { tid }),
        );
    }

    /// Carol's MSRP connection is bound: the session is usable.
    pub(super) fn client_session_up(&mut self) {
        self.arm_refresh();
        match self.state {
            PfState::Idle | PfState::Inviting | PfState::Left if self.cf_leg.is_none() => {
                // "Active" means both legs are up: without its leg to the focus the PF is not.
                self.note(
                    StepKind::Info,
                    "no leg to the focus",
                    cl!["RFC 4975 §5.4"],
                    "Carol's MSRP connection is bound, but the PF holds no leg to the focus for her, so it relays nothing on this session.",
                    None,
                );
            }
            PfState::Idle | PfState::Inviting | PfState::Left => {
                let was_left = self.state == PfState::Left;
                if self.set_state(PfState::Active, cl!["RFC 4975 §5.4"], "Carol's session is complete: both legs are up and the PF relays MSRP.") && was_left {
                    self.key_last("Carol is back as a new participant: nothing was kept for her");
                }
            }
            PfState::DeliveringA | PfState::DeliveringB => {
                // Carol is back: this deferral's retention (Q7) ends here; a later deferral
                // starts its own (issue 11 #3).
                if let Some(t) = self.retention_timer.take() {
                    self.stop_timer(t);
                }
                let n = self.store.len();
                if self.set_state(
                    PfState::Replaying,
                    cl![CL],
                    "The deferred delivery of the missed CPM Group Session data is performed over MSRP: the PF replays the store in order.",
                ) {
                    self.key_last(format!("Replay starts: {n} stored message{} to deliver", if n == 1 { "" } else { "s" }));
                }
                self.pump();
            }
            _ => {}
        }
    }

    /// Arms the next session refresh (RFC 4028 §10) under the `session-refresh` detector, but
    /// only before the run's horizon (the time of the scenario's last event, configuration): after
    /// it nothing can change, so further refreshes would only make the run endless.
    pub(super) fn arm_refresh(&mut self) {
        if self.policy(PolicyId::MsrpLossDetection, "session-refresh") && self.refresh_timer.is_none() && self.now < self.cfg.horizon_ms {
            self.refresh_timer = Some(self.arm(PfTimer::Refresh, REFRESH_MS));
        }
    }
}
