//! The other members of the group (Alice, Bob, …): each member's client as a sans-IO machine of
//! its own ([`crate::machine::Machine`]). One [`Member`] per member, not one machine holding
//! all of them: each is a separate UA on a separate device (its own Via host, Contact, tags and
//! MSRP URI), nothing one member knows is known to another, and the world feeds each only what
//! reaches it. A member talks to the focus only (its dialog and its MSRP session are with the
//! CF; RFC 4579 §3, OMA CPM's conference model).
//!
//! What a member keeps (all its own, RFC 3261 §12): its dialog with the focus (Call-ID, its own
//! tag and the focus's, the CSeq of each direction, [`Dialog`] with the member as side A), its
//! INVITE client transaction while it joins, and its MSRP session (bound once it has opened the
//! connection and sent the binding SEND, RFC 4975 §5.4, RFC 6135: it is the `a=setup:active`
//! side). Every tag, Call-ID, Via branch and MSRP id it makes up comes from its one
//! [`Ids`]: two dialogs of one member never share a tag.
//!
//! What it decides, from what reached it only: a chat message of its user goes out only over a
//! session it has and has not ended (RFC 3261 §15.1.1: once it sent BYE the session is over for
//! it); a leave is a BYE on its own dialog record (CSeq one more than its last, §12.2.1.1); a
//! join is an INVITE whenever it is not in the session (whether the group still exists is the
//! focus's answer: a final non-2xx, e.g. 404 after the group ended, ends the attempt with an ACK
//! of its own, §17.1.1.3); the focus's INVITE is accepted (auto-accept of a group chat); the
//! focus's BYE is accepted if it names its dialog and answered 481 if not (§15.1.2).
//!
//! **The boundary.** Inputs ([`MemberInput`]): the focus's INVITE, responses, BYE and SENDs, and
//! its user's actions from the scenario (join, leave, a chat message with its CPIM document).
//! Outputs ([`MemberOutput`]): SIP and MSRP messages to the focus (typed SIP, MSRP as text) with
//! what they do on arrival, and steps with clause and note. Its state is private to this module;
//! what it uses of `crate::world` is the message vocabulary (`Arrival`, `Dialog`, `Node`, `Txn`)
//! and the wire-text layer (`build::`), and tests/machine_boundaries.rs fails if it names more.
//! The world (src/world/members_glue.rs) feeds it and records and delivers what it emits.
//!
//! Timers: none yet. The model has no SIP retransmissions and no MSRP transaction timeout on a
//! member's side, so a member arms nothing ([`MemberTimer`] has no variant, [`MemberInput`] no
//! timer input, and [`Machine::poll_timeout`] answers None); one is added as for the PF and the
//! core when a member's timer is modelled.

#[cfg(test)]
mod alone;

use crate::machine::{Machine, Time};
use crate::policy::Policies;
use crate::trace::Clauses;
use crate::wire::sip::{quote, SipMessage};
use crate::world::build::{Builder, Ids, GROUP};
use crate::world::{Arrival, Dialog, Node, Txn};
use std::borrow::Cow;
use std::sync::Arc;

/// What a member is told, not what it sees: who it is and how the run builds its texts.
#[derive(Debug, Clone)]
pub(crate) struct MemberConfig {
    /// Its number in the scenario's member list (its lane, `Node::Member(index)`).
    pub index: usize,
    /// Its user part (`alice` → `sip:alice@ims.example.net`).
    pub id: String,
    /// Its display name (untrusted text, quoted per RFC 3261 §25.1).
    pub name: String,
    /// The run's policies (the Session-Expires its INVITE asks for follows them).
    pub policies: Policies,
    /// Build wire texts.
    pub wire: bool,
    /// Its own MSRP URI.
    pub own_path: Arc<str>,
    /// The focus's MSRP URI towards it. Inference, not in the CR: the SDP of the focus's INVITE
    /// or 200 carries it; the model keeps one fixed URI per member for the whole run.
    pub focus_path: Arc<str>,
    /// It is in the group session at t = 0 (set-ups `established` and `cf_invites`), on the
    /// dialog `Dialog::member_cf(index, 0)` with its MSRP connection bound.
    pub in_session: bool,
}

/// A timer of a member: none is modelled yet (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberTimer {}

/// One thing that reaches a member.
#[derive(Debug)]
pub(crate) enum MemberInput {
    /// The scenario: its user writes chat message number `chat` (the trace's number), with the
    /// CPIM document its client composes (`body`; empty without wire texts).
    Say { chat: u32, text: String, body: Arc<str> },
    /// The scenario: its user joins the group session.
    Join,
    /// The scenario: its user leaves the group session.
    Leave,
    /// The focus's INVITE reached it (`txn`: the request's header values).
    FocusInvite { txn: Txn },
    /// The focus's response to its INVITE reached it.
    FocusResponse { code: u16, txn: Txn },
    /// The focus's BYE reached it.
    FocusBye { txn: Txn },
    /// A SEND of the focus reached it over its MSRP connection (chat `chat`, transaction `tid`).
    FocusSend { chat: u32, tid: String },
    /// An IMDN about its user's chat message `chat`, routed to it by the focus (RFC 5438 §7.1.1).
    FocusImdn { chat: u32, status: crate::wire::imdn::ImdnStatus, tid: String },
    // No `Timer(MemberTimer)` input while [`MemberTimer`] has no variant (module doc).
}

/// One thing a member wants done or recorded, in order. Everything it sends goes to the focus.
#[derive(Debug)]
pub(crate) enum MemberOutput {
    /// Send a SIP message (its ladder note; what it does when it reaches the focus).
    Sip { msg: SipMessage, clauses: Clauses, note: Cow<'static, str>, arrival: Option<Box<Arrival>> },
    /// Send an MSRP message (its text, empty without wire texts; its ladder label; the chat it
    /// carries or answers).
    /// The arrival is boxed here, where the world's event queue would box it anyway (as the CF
    /// and the PF do), so an output stays small to move.
    Msrp { raw: String, label: &'static str, clauses: Clauses, note: Cow<'static, str>, chat: Option<u32>, arrival: Option<Box<Arrival>> },
    /// A decision of its own, as an info step on its lane.
    Note { label: Cow<'static, str>, clauses: Clauses, note: Cow<'static, str> },
    /// It sends its user's chat message `chat` (the SEND follows): the trace's record of that
    /// message starts here, with the text and the CPIM document it was given back (so the
    /// world need not write the document a second time).
    Chat { chat: u32, text: String, body: Arc<str> },
}

/// Where a member is with the group session, as it knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No session: never in, left, refused or ended by the focus.
    Out,
    /// Its own INVITE has no final response yet.
    Joining,
    /// In the session: a dialog with the focus and its MSRP connection bound.
    In,
}

/// Its own INVITE while it has no final response (its INVITE client transaction, RFC 3261 §17.1.1).
#[derive(Debug)]
struct Joining {
    /// The INVITE's header values (the ACK of a non-2xx reuses its Via, §17.1.1.3).
    txn: Txn,
    /// The dialog it will form (the focus's tag comes with the 2xx, §12.1.2).
    dialog: Dialog,
    /// Its user left meanwhile: it ends the session as soon as the focus accepts (a CANCEL needs
    /// a provisional response first, §9.1, and the focus sends none).
    leave: bool,
}

/// The clause of a scenario-driven step (the member's user acted).
const SCENARIO: &str = "scenario";

/// One member's client (module doc).
#[derive(Debug)]
pub(crate) struct Member {
    cfg: MemberConfig,
    /// Its own id source (tags, Call-IDs, Via branches, MSRP ids, SDP sessions).
    ids: Ids,
    phase: Phase,
    /// Its dialog with the focus (itself side A), while it has one.
    dialog: Option<Dialog>,
    /// Its INVITE while it has no final response.
    invite: Option<Joining>,
    /// The time of the input being handled.
    now: Time,
    /// What it wants done, in order.
    out: Vec<MemberOutput>,
}

impl Member {
    /// The member at the start of a run, with its own id source `ids`.
    pub(crate) fn new(cfg: MemberConfig, ids: Ids) -> Self {
        let (phase, dialog) = if cfg.in_session {
            let mut d = Dialog::member_cf(cfg.index, 0);
            d.a_uri = aor(&cfg.id);
            (Phase::In, Some(d))
        } else {
            (Phase::Out, None)
        };
        Member { cfg, ids, phase, dialog, invite: None, now: 0, out: Vec::new() }
    }

    fn me(&self) -> Node {
        Node::Member(self.cfg.index)
    }

    fn name_addr(&self) -> String {
        format!("{} <{}>", quote(&self.cfg.name), aor(&self.cfg.id))
    }

    /// A fresh tag of its own (one counter for every dialog it is in, RFC 3261 §19.3).
    fn new_tag(&mut self) -> String {
        let n = self.ids.next();
        format!("m{}-{:02x}", self.cfg.index, 0x10 + n)
    }
}

/// A member's address of record.
fn aor(id: &str) -> String {
    format!("sip:{id}@ims.example.net")
}

/// The tag parameter of a From or To value (empty when it has none).
fn tag_of(v: &str) -> String {
    crate::strs::second(v, ";tag=").map(|t| t.split(';').next().unwrap_or("").to_string()).unwrap_or_default()
}

/// The CSeq number of a CSeq value.
fn cseq_of(v: &str) -> u32 {
    v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1)
}

impl Machine for Member {
    type Input = MemberInput;
    type Output = MemberOutput;
    type Timer = MemberTimer;

    fn handle(&mut self, now: Time, input: MemberInput) {
        self.now = now;
        match input {
            MemberInput::Say { chat, text, body } => self.say(chat, text, body),
            MemberInput::Join => self.join(),
            MemberInput::Leave => self.leave(),
            MemberInput::FocusInvite { txn } => self.gets_invite(txn),
            MemberInput::FocusResponse { code, txn } => self.gets_response(code, txn),
            MemberInput::FocusBye { txn } => self.gets_bye(txn),
            MemberInput::FocusSend { chat, tid } => self.gets_send(chat, tid),
            MemberInput::FocusImdn { chat, status, tid } => self.gets_imdn(chat, status, tid),
        }
    }

    fn poll_output(&mut self, into: &mut Vec<MemberOutput>) {
        debug_assert!(into.is_empty());
        std::mem::swap(into, &mut self.out);
    }

    fn poll_timeout(&self) -> Option<(Time, MemberTimer)> {
        None
    }
}

impl Member {
    // ------------------------------------------------------------------ its user's actions

    fn say(&mut self, chat: u32, text: String, body: Arc<str>) {
        if self.phase != Phase::In {
            let note = if cfg!(feature = "note-text") {
                Cow::Owned(format!("{} is not in the group session, so nothing is sent.", self.cfg.id))
            } else {
                Cow::Borrowed("")
            };
            return self.note("not in session", cl![SCENARIO], note);
        }
        self.out.push(MemberOutput::Chat { chat, text, body: body.clone() });
        let (to, from) = (self.cfg.focus_path.clone(), self.cfg.own_path.clone());
        let (raw, tid) = self.send_text(self.me(), &to, &from, Some(&body));
        let member = self.cfg.index;
        self.msrp(
            raw,
            "SEND",
            cl!["RFC 4975 §7.1.1"],
            "A member sends a chat message (CPIM with IMDN headers) to the focus.",
            Some(chat),
            Some(Arrival::MemberSendAtCf { chat, member, tid }),
        );
    }

    fn join(&mut self) {
        if self.phase != Phase::Out {
            return self.note("cannot join", cl![SCENARIO], Cow::Borrowed("The member is already in the session, or joining it."));
        }
        let n = self.ids.next();
        let mut d = Dialog::member_cf(self.cfg.index, n);
        d.a_uri = aor(&self.cfg.id);
        // The focus's tag comes with its answer (RFC 3261 §12.1.2).
        d.b_tag.clear();
        let from = format!("{};tag={}", self.name_addr(), d.a_tag);
        let me = self.me();
        let mut req = self.new_request("INVITE", GROUP, me, from, format!("<{GROUP}>"), &d.call_id, 1);
        self.cpm_headers(&mut req, me);
        req.push("Content-Type", "application/sdp");
        req.body = self.own_sdp();
        let txn = Txn::of(&req);
        self.invite = Some(Joining { txn: txn.clone(), dialog: d, leave: false });
        self.phase = Phase::Joining;
        let member = self.cfg.index;
        self.sip(
            req,
            cl!["RFC 3261 §13.2.1"],
            "A new member joins the group session (roster change while Carol may be away).",
            Some(Arrival::MemberInviteAtCf { member, txn }),
        );
    }

    fn leave(&mut self) {
        if let (Phase::Joining, Some(j)) = (self.phase, self.invite.as_mut()) {
            j.leave = true;
            return self.note(
                "leaves on the answer",
                cl![SCENARIO, "RFC 3261 §9.1", "RFC 3261 §15"],
                Cow::Borrowed(
                    "Its INVITE has no answer yet and no provisional response to CANCEL after: the member ends the session as soon as the focus answers.",
                ),
            );
        }
        if self.phase != Phase::In {
            return self.note("not in session", cl![SCENARIO], Cow::Borrowed("The member is not in the group session, so there is nothing to leave."));
        }
        let Some(mut d) = self.dialog.take() else { return };
        let me = self.me();
        let mut req = self.dialog_request("BYE", &mut d, true, me, GROUP);
        req.push("Reason", "SIP;cause=200;text=\"Call completed\"");
        let txn = Txn::of(&req);
        // The session is over for it once the BYE goes (RFC 3261 §15.1.1): no media after it.
        self.phase = Phase::Out;
        let member = self.cfg.index;
        self.sip(req, cl!["RFC 3261 §15.1.1"], "A member leaves the group voluntarily.", Some(Arrival::MemberByeAtCf { member, txn }));
    }

    // ------------------------------------------------------------------ what reaches it

    /// The focus invites it: auto-accept, with a tag of its own, and open the MSRP connection.
    fn gets_invite(&mut self, txn: Txn) {
        let tag = self.new_tag();
        let d = Dialog {
            call_id: txn.call_id.clone(),
            a_uri: aor(&self.cfg.id),
            a_tag: tag.clone(),
            b_uri: GROUP.into(),
            b_tag: tag_of(&txn.from),
            // Its own side has sent nothing yet: its first request (a BYE) takes CSeq 2.
            a_cseq: 1,
            b_cseq: cseq_of(&txn.cseq),
            route: String::new(),
        };
        let me = self.me();
        let mut r = self.response(200, &txn, Some(&tag));
        r.push("Contact", self.contact(me));
        r.push("Content-Type", "application/sdp");
        r.body = self.own_sdp();
        self.dialog = Some(d);
        self.phase = Phase::In;
        let member = self.cfg.index;
        let ok = Txn::of(&r);
        self.sip(r, cl!["RFC 3261 §13.3.1"], "The member accepts (auto-accept of a group chat).", Some(Arrival::MemberOkAtCf { member, txn: ok }));
        self.binds();
    }

    /// The focus answers its INVITE.
    fn gets_response(&mut self, code: u16, txn: Txn) {
        if code < 200 || self.invite.as_ref().is_none_or(|j| j.txn.call_id != txn.call_id) {
            return;
        }
        let Some(j) = self.invite.take() else { return };
        let joining = self.phase == Phase::Joining;
        if code >= 300 {
            // A final non-2xx ends the INVITE transaction: ACK it on the INVITE's branch, with the
            // answer's To (RFC 3261 §17.1.1.3), and the attempt is over.
            let ack = <Self as Builder>::non2xx_ack(&txn, GROUP);
            self.sip(ack, cl!["RFC 3261 §17.1.1.3"], "The member acknowledges the focus's refusal.", None);
            if !joining {
                return;
            }
            self.phase = Phase::Out;
            let note = if cfg!(feature = "note-text") {
                Cow::Owned(format!("The focus answered {code} {}: {} is not in the group session.", crate::wire::sip::reason_phrase(code), self.cfg.id))
            } else {
                Cow::Borrowed("")
            };
            return self.note("join refused", cl!["RFC 3261 §13.2.2.3"], note);
        }
        let mut d = j.dialog;
        // The focus's tag from its 2xx (RFC 3261 §12.1.2), for the ACK and every later request.
        d.b_tag = tag_of(&txn.to);
        let me = self.me();
        let ack = self.ack_or_cancel("ACK", &d, true, me, GROUP);
        self.sip(ack, cl!["RFC 3261 §13.2.2.4"], "The new member confirms with ACK.", None);
        if j.leave || !joining {
            // Its user left while it waited, or it is in the group already on the focus's own
            // INVITE, which crossed its own: it ends this dialog at once (RFC 3261 §15.1.1).
            if joining {
                self.phase = Phase::Out;
            }
            let mut bye = self.dialog_request("BYE", &mut d, true, me, GROUP);
            bye.push("Reason", "SIP;cause=200;text=\"Call completed\"");
            let member = self.cfg.index;
            let txn = Txn::of(&bye);
            return self.sip(
                bye,
                cl!["RFC 3261 §15.1.1"],
                "The member ends the session it no longer wants (its user left, or it is in the group on the focus's INVITE already).",
                Some(Arrival::MemberByeAtCf { member, txn }),
            );
        }
        self.dialog = Some(d);
        self.phase = Phase::In;
        self.binds();
    }

    /// The focus ends the session (the group ends): accepted if it names its dialog.
    fn gets_bye(&mut self, txn: Txn) {
        // Its dialog: the Call-ID and both tags (RFC 3261 §12.2.2).
        let mine = self.dialog.as_ref().is_some_and(|d| d.call_id == txn.call_id && d.a_tag == tag_of(&txn.to) && d.b_tag == tag_of(&txn.from));
        if !mine {
            // Its own BYE crossed the focus's: the dialog is gone (RFC 3261 §15.1.2).
            let r = self.response(481, &txn, None);
            return self.sip(r, cl!["RFC 3261 §15.1.2"], "The member's client has no such dialog any more (its own BYE went first).", None);
        }
        let r = self.response(200, &txn, None);
        self.dialog = None;
        self.phase = Phase::Out;
        self.sip(r, cl!["RFC 3261 §15.1.2"], "The member's client accepts the end of the session.", None);
    }

    /// A SEND of the focus: acknowledged hop by hop (a SEND that crossed its BYE too: it answers
    /// what arrived, as the semantic checker's MSRP rule has it).
    fn gets_send(&mut self, chat: u32, tid: String) {
        let raw = self.ok_text(&tid, &self.cfg.own_path, &self.cfg.focus_path);
        self.msrp(raw, "200 OK", cl!["RFC 4975 §7.2"], "The member's client acknowledges the message.", Some(chat), None);
    }

    /// An IMDN about its user's message `chat`: 200 OK (RFC 4975 §7.2), and its client shows the
    /// message as delivered, displayed or stored (RFC 5438 §7.2.1).
    fn gets_imdn(&mut self, chat: u32, status: crate::wire::imdn::ImdnStatus, tid: String) {
        let raw = self.ok_text(&tid, &self.cfg.own_path, &self.cfg.focus_path);
        self.msrp(raw, "200 OK", cl!["RFC 4975 §7.2"], "The member's client acknowledges the IMDN.", None, None);
        // "delivered #3", written at its size: `format!` cost about 800 instructions per IMDN here
        // (callgrind on make bench's scenario).
        let name = status.name();
        let mut label = String::with_capacity(name.len() + 12);
        label.push_str(name);
        label.push_str(" #");
        crate::wire::sip::push_u64(&mut label, u64::from(chat));
        let label = Cow::Owned(label);
        let note =
            crate::trace::note_str("The member's client reads the IMDN (RFC 5438 §7.2.1): it marks its message with what happened to it at Carol's end.");
        self.out.push(MemberOutput::Note { label, clauses: cl!["RFC 5438 §7.2.1"], note: Cow::Borrowed(note) });
    }

    /// It answered or offered `a=setup:active`, so it opens the MSRP connection to the focus and
    /// binds it with an empty SEND (RFC 4975 §5.4, RFC 6135); the focus counts it connected
    /// when that SEND arrives.
    fn binds(&mut self) {
        let (to, from) = (self.cfg.focus_path.clone(), self.cfg.own_path.clone());
        let (raw, tid) = self.send_text(self.me(), &to, &from, None);
        let member = self.cfg.index;
        self.msrp(
            raw,
            "SEND",
            cl!["RFC 4975 §5.4", "RFC 6135"],
            "The member's client (the a=setup:active side) opens the MSRP connection to the focus and binds it with an empty SEND.",
            None,
            Some(Arrival::MemberBindAtCf { member, tid }),
        );
    }

    // ------------------------------------------------------------------ its outbox

    /// Its SDP offer or answer (active: it opens the connection).
    fn own_sdp(&mut self) -> String {
        let (me, id, path) = (self.me(), self.cfg.id.clone(), self.cfg.own_path.to_string());
        self.sdp(me, &id, &format!("198.51.100.{}", 21 + self.cfg.index), 9, path, "active")
    }

    fn sip(&mut self, msg: SipMessage, clauses: Clauses, note: &'static str, arrival: Option<Arrival>) {
        self.out.push(MemberOutput::Sip { msg, clauses, note: crate::trace::note_text(note), arrival: arrival.map(Box::new) });
    }

    // (With wire texts, the arrival is built in the caller's frame and moved once, into its box;
    // not inlined in the page's first wasm module, which has no wire text and counts bytes.)
    #[cfg_attr(feature = "wire-text", inline(always))]
    fn msrp(&mut self, raw: String, label: &'static str, clauses: Clauses, note: &'static str, chat: Option<u32>, arrival: Option<Arrival>) {
        self.out.push(MemberOutput::Msrp { raw, label, clauses, note: crate::trace::note_text(note), chat, arrival: arrival.map(Box::new) });
    }

    fn note(&mut self, label: &'static str, clauses: Clauses, note: Cow<'static, str>) {
        self.out.push(MemberOutput::Note { label: Cow::Borrowed(label), clauses, note: crate::trace::note_text(note) });
    }
}

/// A member builds what it sends with its own ids and configuration.
impl Builder for Member {
    fn ids(&mut self, _n: Node) -> &mut Ids {
        &mut self.ids
    }
    fn wire_text(&self) -> bool {
        cfg!(feature = "wire-text") && self.cfg.wire
    }
    fn policies(&self) -> &Policies {
        &self.cfg.policies
    }
    fn member_id(&self, _i: usize) -> &str {
        &self.cfg.id
    }
}
