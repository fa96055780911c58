//! Q14: messages sent to Carol in chunks (RFC 4975 §5.1, §7.1.1) when the scenario's
//! `msrp_chunk_bytes` is smaller than their CPIM document, and what becomes of one cut off
//! mid-transfer (policy `q14-cut-chunks`, not in the CR). The next chunk goes after the 200 to
//! the one before (RFC 4975 allows more at once; one at a time is this model's choice, so a
//! connection loss can fall between two chunks). Each chunk is a transaction of its own with
//! its own 30 s timeout, as every SEND is (RFC 4975 §7.1.1).

use super::*;
use crate::policy::PolicyId;
use crate::trace::*;
use crate::world::build::*;
use crate::world::Arrival;
use crate::world::ChunkAt;

impl Pf {
    /// Whether `body` goes to Carol in chunks.
    pub(super) fn chunked(&self, body: &str) -> bool {
        cfg!(feature = "chunks") && self.cfg.chunk_bytes.is_some_and(|c| body.len() > c)
    }

    /// Starts sending `chat` in chunks: from byte 1 under a new Message-ID, or, under Q14
    /// `resume`, from where its cut-off transfer was acknowledged under the old one.
    pub(super) fn send_chunks_to_carol(&mut self, chat: u32, body: Arc<str>, replay: bool) {
        let (mut c, resumed) = match self.resume.iter().position(|(ch, _)| *ch == chat) {
            Some(i) => (self.resume.remove(i).1, true),
            None => {
                self.msg_no += 1;
                (Chunking { msg: self.msg_no, msg_id: self.msrp_message_id(Node::Pf), sent: 0, acked: 0 }, false)
            }
        };
        let (tx, timer) = self.send_chunk(chat, &body, replay, &mut c, resumed);
        self.in_flight.push(InFlight { tx, chat, timer, replay, body, chunks: Some(c) });
        if replay {
            self.chat(ChatEvent::InFlight(chat));
        }
    }

    /// Sends the chunk of `c` that starts at its acknowledged end; returns its transaction and
    /// timer handle.
    fn send_chunk(&mut self, chat: u32, body: &Arc<str>, replay: bool, c: &mut Chunking, resumed: bool) -> (u32, u32) {
        let start = c.acked;
        let end = crate::wire::msrp::chunk_end(body, start, self.cfg.chunk_bytes.unwrap_or(usize::MAX));
        let (from, to) = self.pf_view();
        let (raw, tid) = self.chunk_text(Node::Pf, &to, &from, &c.msg_id, body, start..end);
        let tx = self.next(Node::Pf) as u32;
        let total = body.len();
        // The first chunk of a replayed transfer is the replay's SEND, in store order (our
        // reading, as for a whole SEND); the chunks after it only continue it.
        let (clauses, note): (Clauses, std::borrow::Cow<'static, str>) = if resumed {
            (
                if replay {
                    cl![READ, "RFC 4975 §7.1.1", "policy:q14-cut-chunks", "reading:RFC 4975 §7.1.1"]
                } else {
                    cl!["RFC 4975 §7.1.1", "policy:q14-cut-chunks", "reading:RFC 4975 §7.1.1"]
                },
                note_fmt!("Q14 policy resume: the PF goes on with the message from byte {} of {total}, the byte after the last chunk Carol's client acknowledged, under the same Message-ID (that her client joins it across two sessions is our reading).", start + 1),
            )
        } else if start == 0 {
            let why = if replay { "the next stored message" } else { "the group message" };
            (if replay { cl![READ, "RFC 4975 §5.1", "RFC 4975 §7.1.1"] } else { cl!["RFC 4975 §5.1", "RFC 4975 §7.1.1"] }, note_fmt!("The PF sends {why} to Carol in chunks: it is longer than the chunk size. This is bytes 1-{end} of {total} (end-line flag +); the next chunk follows the 200 to this one."))
        } else {
            let flag = if end >= total { "$: the last" } else { "+: more follow" };
            (cl!["RFC 4975 §7.1.1"], note_fmt!("The next chunk: bytes {}-{end} of {total} (end-line flag {flag}).", start + 1))
        };
        let chunk = ChunkAt { msg: c.msg, start: start as u32, end: end as u32, total: total as u32 };
        self.msrp(self.dev, raw, "SEND", clauses, note, Some(chat), Some(Arrival::PfSendAtCarol { chat, tx, tid, chunk: Some(chunk), replay }));
        c.sent = end;
        let timer = self.arm_send_timeout(tx);
        (tx, timer)
    }

    /// Carol's 200 to the chunk in flight of `in_flight[pos]`: sends the next chunk and returns
    /// true, or returns false when that was the last (the message is delivered).
    pub(super) fn next_chunk(&mut self, pos: usize) -> bool {
        let f = &mut self.in_flight[pos];
        let Some(mut c) = f.chunks.take() else { return false };
        c.acked = c.sent;
        if c.acked >= f.body.len() {
            f.chunks = Some(c);
            return false;
        }
        let (chat, replay, body, timer) = (f.chat, f.replay, f.body.clone(), f.timer);
        self.stop_timer(timer);
        let (tx, timer) = self.send_chunk(chat, &body, replay, &mut c, false);
        let f = &mut self.in_flight[pos];
        f.tx = tx;
        f.timer = timer;
        f.chunks = Some(c);
        true
    }

    /// Whether `f` was cut off mid-transfer: some of its chunks were acknowledged, not all.
    pub(super) fn cut_off(f: &InFlight) -> bool {
        cfg!(feature = "chunks") && f.chunks.as_ref().is_some_and(|c| c.acked > 0 && c.acked < f.body.len())
    }

    /// Q14: `f`, cut off mid-transfer when Carol's session went away (its timer is stopped).
    pub(super) fn q14_cut(&mut self, f: InFlight) {
        let Some(c) = f.chunks else { return };
        let (chat, acked, total) = (f.chat, c.acked, f.body.len());
        if self.policy(PolicyId::Q14CutChunks, "drop") {
            self.pf_drops(
                chat,
                None,
                note_fmt!("Q14 policy drop: Carol's client has only bytes 1-{acked} of {total} of this message, cut off with her connection; the PF does not send it again, so it is lost."),
                cl!["policy:q14-cut-chunks"],
            );
            return;
        }
        let note = if self.policy(PolicyId::Q14CutChunks, "resume") {
            self.resume.push((chat, c));
            note_fmt!("Q14 policy resume: bytes 1-{acked} of {total} reached Carol before her connection was lost; the message goes back to the front of the store and will go on from byte {} under the same Message-ID.", acked + 1)
        } else {
            note_fmt!("Q14 policy resend-whole: bytes 1-{acked} of {total} reached Carol before her connection was lost; the message goes back to the front of the store and will be sent again whole from byte 1, with a new MSRP Message-ID and the same imdn.Message-ID.")
        };
        self.store.push_front((chat, f.body));
        self.note(StepKind::Store, format!("back to store #{chat}"), cl!["policy:q14-cut-chunks"], note, Some(chat));
        let q = self.store.len();
        self.key_last(format!("Message #{chat} cut off mid-transfer: back in the store (Q14 policy; store: {q})"));
        self.chat(ChatEvent::Requeued(chat));
    }
}
