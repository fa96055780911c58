//! Her client's disposition notifications (RFC 5438; issue 11, digest Q17): for a message that
//! asks for them (`imdn.Disposition-Notification`, §6.2) it sends `delivered` once the message
//! has reached it (§5.1) and `displayed` once she has read it (§5.2, after the scenario's
//! `carol_reads_ms`). Each is an MSRP SEND to her PF whose CPIM document has `To` the original
//! sender and an `imdn.Message-ID` of its own, and whose `message/imdn+xml` content names the
//! original's `imdn.Message-ID` and `DateTime` (§7.1.1, §7.2.1.1, §7.2.1.2); the PF relays it to
//! the focus, which routes it by that `To` to the sender's session.
//!
//! Which messages it answers is the scenario's `imdn` (not in the CR): `replayed` (default),
//! `all`, `none`. A copy it drops (RFC 5438 §6.3) is not answered again.

use super::*;
use crate::scenario::{ImdnMode, READS_NEVER};
use crate::wire::imdn::{self, ImdnStatus};
use crate::world::ImdnMsg;

/// Her address ([`crate::world::build::CAROL`]) as a CPIM `From` (RFC 3862 §3.3: in angle brackets).
const CAROL_IN_ANGLES: &str = "<sip:carol@ims.example.net>";

impl Client {
    /// Chat message `chat` (from `sender`, CPIM document `body`) has reached it for the first
    /// time: `delivered` now, `displayed` after her read delay, each if the message asks for it
    /// and the scenario's `imdn` covers it.
    pub(super) fn answers_with_imdns(&mut self, chat: u32, replay: bool, sender: Arc<str>, body: Arc<str>) {
        let covered = match self.cfg.imdn {
            ImdnMode::Replayed => replay,
            ImdnMode::All => true,
            ImdnMode::None => false,
        };
        if !covered {
            return;
        }
        // Its header read once for both statuses (one pass over the document's header lines).
        let header = disposition(&body);
        let (delivered, displayed) = (imdn::asks_for(header, ImdnStatus::Delivered), imdn::asks_for(header, ImdnStatus::Displayed));
        if delivered {
            self.sends_imdn(chat, ImdnStatus::Delivered, &sender, &body);
        }
        if displayed && self.cfg.reads_ms != READS_NEVER {
            if self.cfg.reads_ms == 0 {
                self.sends_imdn(chat, ImdnStatus::Displayed, &sender, &body);
            } else {
                self.unread.push_back((chat, sender, body));
                self.arm(ClientTimer::Read { chat }, self.cfg.reads_ms);
            }
        }
    }

    /// Her read delay for `chat` is over: she has read it, so `displayed` (RFC 5438 §5.2).
    pub(super) fn reads(&mut self, chat: u32) {
        let Some(pos) = self.unread.iter().position(|(c, _, _)| *c == chat) else { return };
        let Some((chat, sender, body)) = self.unread.remove(pos) else { return };
        self.sends_imdn(chat, ImdnStatus::Displayed, &sender, &body);
    }

    /// Sends the IMDN with `status` about `chat` to her PF, the next MSRP hop, if her MSRP
    /// connection is up; otherwise it is not sent (a note says so; not in the CR: this model's
    /// client keeps no IMDN for a later session).
    fn sends_imdn(&mut self, chat: u32, status: ImdnStatus, sender: &Arc<str>, original: &Arc<str>) {
        if self.link != Link::Up || !self.online {
            self.note(
                "IMDN not sent",
                cl!["RFC 5438 §7.1.1"],
                crate::trace::note_str(
                    "Carol's client has no working MSRP connection, so it cannot send this disposition notification; it keeps none for later.",
                ),
                Some(chat),
            );
            return;
        }
        let n = self.next_id();
        let (body, dash_run): (Arc<str>, bool) = if self.wire_text() {
            use std::fmt::Write as _;
            let mut own_id = String::with_capacity(12);
            let _ = write!(own_id, "ci{n:x}");
            let at = self.cfg.epoch_ms + self.now;
            let (doc, dash_run) = imdn::answer_and_dash_run(original, CAROL_IN_ANGLES, status, &own_id, at).unwrap_or_default();
            (doc.into(), dash_run)
        } else {
            (Arc::from(""), false)
        };
        let (from, to) = self.view();
        let (raw, tid) = self.send_text_known(Node::Carol, &to, &from, &body, dash_run);
        let note = match status {
            ImdnStatus::Delivered => {
                "Carol's client tells the sender the message reached her device: a delivered IMDN, CPIM To the original sender, through her PF."
            }
            _ => "Carol has read the message: her client sends a displayed IMDN, CPIM To the original sender, through her PF.",
        };
        let clauses = if status == ImdnStatus::Delivered { cl!["RFC 5438 §7.1.1", "RFC 5438 §5.1"] } else { cl!["RFC 5438 §7.1.1", "RFC 5438 §5.2"] };
        self.msrp(
            raw,
            "SEND",
            clauses,
            crate::trace::note_str(note),
            None,
            Some(Arrival::CarolImdnAtPf { imdn: ImdnMsg { chat, status, to: sender.clone(), body, dash_run }, tid }),
        );
    }
}

/// The `imdn.Disposition-Notification` of a CPIM document (None when no text was built: the
/// engine's fast path, where every message asks for `positive-delivery, display`).
fn disposition(body: &str) -> Option<&str> {
    if body.is_empty() {
        return None;
    }
    // A header line of the message headers (RFC 3862 §3: before the first blank line).
    let [d] = imdn::message_headers(body, ["imdn.Disposition-Notification"]);
    Some(d.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn her_cpim_from_is_her_address() {
        assert_eq!(super::CAROL_IN_ANGLES, format!("<{}>", crate::world::build::CAROL));
    }
}
