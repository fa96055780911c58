//! The world's side of the members' boundary (each member's client is a machine of its own in
//! src/members/): what reaches a member, and what its user does in the scenario, becomes a
//! [`MemberInput`]; what it emits is recorded and delivered to the focus after the hop latency.

use super::build::*;
use super::*;
use crate::machine::Machine;
use crate::members::{Member, MemberConfig, MemberInput, MemberOutput};

impl World<'_> {
    /// Every member's client at the start of a run (each with its own id source, on its lane),
    /// made when the run starts, once it is known whether it builds wire texts.
    pub(super) fn new_members(&self) -> Vec<Member> {
        let (sc, paths, wire) = (&self.sc, &self.paths, self.wire());
        let in_at_start = sc.setup != Setup::Full;
        sc.members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let cfg = MemberConfig {
                    index: i,
                    id: m.id.clone(),
                    name: m.name.clone(),
                    policies: sc.policies.clone(),
                    wire,
                    own_path: paths[2 * i].clone(),
                    focus_path: paths[2 * i + 1].clone(),
                    in_session: m.in_group && in_at_start,
                };
                Member::new(cfg, build::Ids::new(3 + i, MEMBER_CODES.get(i).copied().unwrap_or("m"), 0))
            })
            .collect()
    }

    /// The scenario: member `m`'s user writes `text`. The chat record is made only if its client
    /// sends it (its [`MemberOutput::Chat`]).
    pub(super) fn member_message(&mut self, m: usize, text: String) {
        let chat = self.chats.len() as u32;
        let body = if self.chat_texts() {
            let imdn_id = base62(mix(0xC0FFEE ^ chat as u64), 8);
            self.cpim(Who::Member(m), &imdn_id, self.now, &text)
        } else {
            self.no_text.clone()
        };
        self.member_input(m, MemberInput::Say { chat, text, body });
    }

    /// The scenario: member `m`'s user joins.
    pub(super) fn member_join(&mut self, m: usize) {
        self.member_input(m, MemberInput::Join);
    }

    /// The scenario: member `m`'s user leaves.
    pub(super) fn member_leave(&mut self, m: usize) {
        self.member_input(m, MemberInput::Leave);
    }

    /// A message `a` (recorded at `step`) reaches a member's client.
    // Boxed as it left the queue: only the fields it uses are moved out (on wasm32 the arrival
    // is small enough for clippy to want it unboxed).
    #[allow(clippy::boxed_local)]
    pub(super) fn member_arrival(&mut self, a: Box<Arrival>, _step: u32) {
        let (m, input) = match *a {
            Arrival::CfSendAtMember { chat, member, tid } => (member, MemberInput::FocusSend { chat, tid }),
            Arrival::CfImdnAtMember { member, imdn, tid } => (member, MemberInput::FocusImdn { chat: imdn.chat, status: imdn.status, tid }),
            Arrival::CfRespAtMember { member, code, txn } => (member, MemberInput::FocusResponse { code, txn }),
            Arrival::CfByeAtMember { member, txn } => (member, MemberInput::FocusBye { txn }),
            Arrival::CfInviteAtMember { member, txn } => (member, MemberInput::FocusInvite { txn }),
            _ => return,
        };
        self.member_input(m, input);
    }

    /// Feeds member `m` one input and executes what it emits, in order.
    fn member_input(&mut self, m: usize, input: MemberInput) {
        Machine::handle(&mut self.members[m], self.now, input);
        let mut out = std::mem::take(&mut self.member_out);
        Machine::poll_output(&mut self.members[m], &mut out);
        let me = Node::Member(m);
        for o in out.iter_mut() {
            // Taken out in place (a cheap variant is left behind), so nothing moves twice.
            // (A Note of borrowed texts: no reference count to touch.)
            match std::mem::replace(o, MemberOutput::Note { label: Cow::Borrowed(""), clauses: Cow::Borrowed(&[]), note: Cow::Borrowed("") }) {
                MemberOutput::Sip { msg, clauses, note, arrival } => {
                    self.sip(me, Node::Cf, &msg, clauses, note, Boxed(arrival));
                }
                MemberOutput::Msrp { raw, label, clauses, note, chat, arrival } => {
                    self.msrp(me, Node::Cf, raw, label, clauses, note, chat, Boxed(arrival));
                }
                MemberOutput::Note { label, clauses, note } => {
                    self.note(me, StepKind::Info, label, clauses, note, None);
                }
                MemberOutput::Chat { chat, text, body } => {
                    let id = self.new_chat_with(Who::Member(m), text, false, Some(body));
                    debug_assert_eq!(id, chat, "the chat number the member was given");
                }
            }
        }
        out.clear();
        self.member_out = out;
        debug_assert_eq!(Machine::poll_timeout(&self.members[m]), None, "a member arms no timer");
    }
}
