//! Her client's MSRP session (RFC 4975: it is the `a=setup:active` side, so it opens the
//! connection and binds it by its first SEND, §5.4; it acknowledges every SEND, §7.2, and drops
//! a copy of a message it already has, RFC 5438 §6.3), its conference subscription (RFC 4575
//! §3, RFC 6665), the session refresh it answers (RFC 4028 §9) and its REGISTER (RFC 3261 §10).

use super::*;
use crate::world::build::{CAROL, GROUP};

impl Client {
    /// She sends chat message `chat` to her PF, the next MSRP hop (RFC 4975 §7.1.1).
    pub(super) fn send_chat(&mut self, chat: u32, body: Arc<str>) {
        let (from, to) = self.view();
        let (raw, tid) = self.send_text(self.me, &to, &from, Some(&body));
        self.msrp(
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "Carol sends a chat message; her PF is the next MSRP hop.",
            Some(chat),
            Some(Arrival::CarolSendAtPf { chat, tid }),
        );
    }

    /// After the SIP handshake it opens the MSRP connection (it is the active side, RFC 4145);
    /// what follows once it is up is [`Client::opened`].
    pub(super) fn connect(&mut self, delivery: bool) {
        self.opening = Some(delivery);
        self.out.push(ClientOutput::OpenMsrp);
    }

    /// Its MSRP connection came up (it sends an empty SEND to bind it and, on a delivery session,
    /// subscribes to the conference state when the Q13 policy says so) or could not be opened.
    pub(super) fn opened(&mut self, ok: bool) {
        let Some(delivery) = self.opening.take() else { return };
        if !ok {
            self.link = Link::None;
            return;
        }
        self.link = Link::Up;
        let (from, to) = self.view();
        let (raw, tid) = self.send_text(self.me, &to, &from, None);
        self.msrp(
            raw,
            "SEND",
            cl!["RFC 4975 §5.4"],
            "Carol's client opens the MSRP connection and sends an empty SEND so the PF can bind it to the session.",
            None,
            Some(Arrival::BindAtPf { tid }),
        );
        if delivery && self.policy(PolicyId::Q13ParticipantInfo, "notify-after-subscribe") {
            self.subscribe();
        }
    }

    /// It subscribes to the conference state of the group (RFC 4575 §3); its PF answers.
    fn subscribe(&mut self) {
        let n = self.next_id();
        let mut m = self.new_request(
            "SUBSCRIBE",
            GROUP,
            self.me,
            format!("<{CAROL}>;tag=cs-{n:x}"),
            format!("<{GROUP}>"),
            &format!("csub-{n:x}@{}", self.carol_ip()),
            1,
        );
        m.headers.insert(1, (Cow::Borrowed("Route"), CAROL_ROUTE.to_string()));
        m.push("Contact", self.contact(self.me));
        m.push("Event", "conference");
        m.push("Accept", "application/conference-info+xml");
        m.push("Expires", "3600");
        let txn = Txn::of(&m);
        self.sub = Some(Dialog {
            call_id: format!("csub-{n:x}@{}", self.carol_ip()),
            a_uri: CAROL.into(),
            a_tag: format!("cs-{n:x}"),
            b_uri: GROUP.into(),
            b_tag: "pfs-1".into(),
            a_cseq: 1,
            b_cseq: 0,
            // What the PF's 200 gives her (its Record-Route reversed): the same path as her
            // preloaded Route (RFC 3261 §12.1.2).
            route: CAROL_ROUTE.into(),
        });
        self.sip(
            Node::Pf,
            m,
            cl!["RFC 4575 §3", "policy:q13-participant-info"],
            "Carol's client subscribes to the conference state of the group (its PF answers from its cache).",
            Some(Arrival::ClientSubscribeAtPf { txn }),
        );
    }

    /// A SEND from her PF: 200 OK (RFC 4975 §7.2); a copy of a message it has already is
    /// dropped (RFC 5438 §6.3). A new one is answered with IMDNs when it asks for them
    /// (`about`: whether it was replayed, its sender and its CPIM document; src/client/imdn.rs).
    /// `chunk` (Q14): one chunk of it; the message is there with its last byte.
    pub(super) fn gets_send(&mut self, chat: u32, tx: u32, tid: String, chunk: Option<crate::world::ChunkAt>, about: Option<(bool, Arc<str>, Arc<str>)>) {
        if let Some(c) = chunk.filter(|_| cfg!(feature = "chunks")) {
            if !self.joins_chunk(chat, c) {
                let (own, peer) = self.view();
                let raw = self.ok_text(&tid, &own, &peer);
                let note = crate::trace::note_fmt!(
                    "Carol's client acknowledges the chunk (bytes {}-{} of {}); it has the message when it has every byte of it.",
                    c.start + 1,
                    c.end,
                    c.total
                );
                self.msrp(raw, "200 OK", cl!["RFC 4975 §7.2"], note, Some(chat), Some(Arrival::CarolOkAtPf { tx }));
                return;
            }
        }
        let i = chat as usize;
        if self.received.len() <= i {
            self.received.resize(i + 1, false);
        }
        let duplicate = std::mem::replace(&mut self.received[i], true);
        if duplicate {
            self.note(
                format!("duplicate #{chat}"),
                cl!["RFC 5438 §6.3", "policy:q12-in-flight-at-loss"],
                "Carol's client already has this imdn.Message-ID and drops the copy.",
                Some(chat),
            );
        }
        let (own, peer) = self.view();
        let raw = self.ok_text(&tid, &own, &peer);
        self.msrp(raw, "200 OK", cl!["RFC 4975 §7.2"], "Carol's client acknowledges the message.", Some(chat), Some(Arrival::CarolOkAtPf { tx }));
        if let (false, Some((replay, sender, body))) = (duplicate, about) {
            self.answers_with_imdns(chat, replay, sender, body);
        }
    }

    /// Q14: adds chunk `c` of `chat` to what it has (RFC 4975 §5.1: bytes placed by their
    /// Byte-Range, so an overlap is harmless); true when it now has the whole message. A first
    /// chunk under a new Message-ID for a message it has part of replaces that part (Q14
    /// `resend-whole`: the cut-off copy is discarded).
    fn joins_chunk(&mut self, chat: u32, c: crate::world::ChunkAt) -> bool {
        if c.start == 0 {
            if let Some(i) = self.partial.iter().position(|p| p.1 == chat && p.0 != c.msg) {
                let (_, _, had) = self.partial.remove(i);
                self.note(
                    format!("discards part of #{chat}"),
                    cl!["RFC 4975 §5.1", "policy:q14-cut-chunks"],
                    crate::trace::note_fmt!(
                        "The message starts again under a new Message-ID: Carol's client discards the {had} bytes it had of the cut-off copy."
                    ),
                    Some(chat),
                );
            }
        }
        let got = match self.partial.iter().position(|p| p.0 == c.msg) {
            Some(i) if c.start <= self.partial[i].2 => {
                self.partial[i].2 = self.partial[i].2.max(c.end);
                self.partial[i].2
            }
            Some(_) => return false,
            None if c.start == 0 => {
                self.partial.push((c.msg, chat, c.end));
                c.end
            }
            None => return false,
        };
        if got < c.total {
            return false;
        }
        self.partial.retain(|p| p.0 != c.msg);
        true
    }

    /// A NOTIFY on her conference subscription: 200 (RFC 6665 §4.1.3), and it shows the users.
    pub(super) fn gets_notify(&mut self, txn: Txn, users: Option<Vec<Participant>>) {
        let r = self.response(200, &txn, None);
        self.sip(Node::Pf, r, cl!["RFC 6665 §4.1.3"], "Carol's client accepts the NOTIFY and now shows the latest participants.", None);
        if let Some(users) = users {
            self.out.push(ClientOutput::Roster(users));
        }
    }

    /// Its PF's session refresh (RFC 4028 §9): answered in a session, ignored outside one.
    pub(super) fn gets_update(&mut self, upd: u32, txn: Txn) {
        if !self.in_dialog {
            self.out.push(ClientOutput::Ignore);
            return;
        }
        let r = self.response(200, &txn, None);
        self.sip(Node::Pf, r, cl!["RFC 4028 §9"], "Carol's client answers the session refresh.", Some(Arrival::UpdateOkAtPf { upd }));
    }

    /// Her device registers again (RFC 3261 §10.2); a session whose MSRP connection broke
    /// meanwhile is over for her client.
    pub(super) fn register(&mut self, reaction_ms: u64) {
        if self.link == Link::Broken {
            self.link = Link::None;
            self.in_dialog = false;
        }
        let n = self.next_id();
        let mut m = self.new_request(
            "REGISTER",
            "sip:ims.example.net",
            self.me,
            format!("<{CAROL}>;tag=reg-{n:x}"),
            format!("<{CAROL}>"),
            &format!("reg-{n:x}-c@{}", self.carol_ip()),
            2 + n as u32,
        );
        m.push("Contact", format!("{};expires=600000", self.contact(self.me)));
        m.push("Expires", "600000");
        let txn = Txn::of(&m);
        self.sip(
            Node::Scscf,
            m,
            cl!["RFC 3261 §10.2"],
            "Carol's device registers again (authentication not drawn).",
            Some(Arrival::RegisterAtScscf { txn, reaction_ms, dereg: false }),
        );
    }

    /// Her device de-registers: REGISTER with `Expires: 0` removes its binding (RFC 3261
    /// §10.2.2). Her client's session state is left as it is.
    pub(super) fn deregister(&mut self) {
        let n = self.next_id();
        let mut m = self.new_request(
            "REGISTER",
            "sip:ims.example.net",
            self.me,
            format!("<{CAROL}>;tag=reg-{n:x}"),
            format!("<{CAROL}>"),
            &format!("reg-{n:x}-c@{}", self.carol_ip()),
            2 + n as u32,
        );
        m.push("Contact", format!("{};expires=0", self.contact(self.me)));
        m.push("Expires", "0");
        let txn = Txn::of(&m);
        self.sip(
            Node::Scscf,
            m,
            cl!["RFC 3261 §10.2.2"],
            "Carol's device de-registers (Expires: 0).",
            Some(Arrival::RegisterAtScscf { txn, reaction_ms: 0, dereg: true }),
        );
    }

    /// She leaves from her tablet, which has no session with the group (issue 11, Q9): a REFER
    /// to the group asking the focus to remove her (`Refer-To: <her AOR>;method=BYE`, RFC 4579
    /// §5.5; RFC 3515 §2.4), without the implicit subscription (`Refer-Sub: false`, RFC 4488 §4),
    /// with the CR's voluntary cause (`Reason: SIP;cause=200`, §8.2.2.3).
    pub(super) fn refer_bye(&mut self) {
        let n = self.next_id();
        let mut m =
            self.new_request("REFER", GROUP, self.me, format!("<{CAROL}>;tag=rf-{n:x}"), format!("<{GROUP}>"), &format!("refer-{n:x}@{}", self.carol_ip()), 1);
        m.headers.insert(1, (Cow::Borrowed("Route"), CAROL_ROUTE.to_string()));
        m.push("Contact", self.contact(self.me));
        m.push("Refer-To", format!("<{CAROL}>;method=BYE"));
        m.push("Refer-Sub", "false");
        m.push("Reason", "SIP;cause=200;text=\"Call completed\"");
        let txn = Txn::of(&m);
        self.out.push(ClientOutput::Left);
        self.sip(
            Node::Pf,
            m,
            cl!["RFC 4579 §5.5", "RFC 3515 §2.4", "RFC 4488 §4"],
            "Carol leaves the chat from her tablet, which has no session with the group: it asks the focus to end her participation (REFER method=BYE); her PF is on the way.",
            Some(Arrival::ReferAtPf { txn }),
        );
    }
}
