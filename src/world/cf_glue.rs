//! The world's side of the focus's boundary (the focus itself is the machine in src/cf/): what
//! reaches the focus becomes a [`CfInput`], and what it emits ([`CfOutput`]) is executed here:
//! its messages are recorded and delivered after the hop latency, its decisions recorded as
//! steps on its lane, and what it reports of a chat message written into the trace's chat
//! records, judged against the world's ground truth (whether Carol was entitled to it).

use super::*;
use crate::cf::{CfChat, CfConfig, CfInput, CfOutput, Focus};
use crate::machine::Machine;

impl World<'_> {
    /// The focus at the start of a run, configured from the scenario.
    pub(super) fn new_focus(sc: &Scenario, paths: &[Arc<str>], lanes: &[Arc<str>]) -> Focus {
        Focus::new(CfConfig {
            setup: sc.setup,
            members: sc.members.clone(),
            ids: lanes.to_vec(),
            paths: paths.to_vec(),
            epoch_ms: sc.start_epoch_ms,
            policies: sc.policies.clone(),
            sub_refused: sc.sub_refused,
            chunk_bytes: sc.msrp_chunk_bytes.map(|n| n as usize),
            wire: true,
        })
    }

    /// A message `a` (recorded at `step`) reaches the focus.
    // Boxed as it left the queue: only the fields it uses are moved out (on wasm32 the arrival
    // is small enough for clippy to want it unboxed).
    #[allow(clippy::boxed_local)]
    pub(super) fn cf_arrival(&mut self, a: Box<Arrival>, _step: u32) {
        let input = match *a {
            // The CPIM document is what the SEND carried (shared, not copied).
            Arrival::MemberSendAtCf { chat, member, tid } => CfInput::MemberSend { chat, member, tid, body: self.chat_body(chat) },
            Arrival::PfSendAtCf { chat, tid } => CfInput::PfSend { chat, tid, body: self.chat_body(chat) },
            Arrival::BindAtCf { tid } => CfInput::PfBind { tid },
            Arrival::PfImdnAtCf { imdn, tid } => CfInput::PfImdn { imdn, tid },
            Arrival::PfInviteAtCf { txn } => CfInput::PfInvite { txn },
            Arrival::PfErrAtCf { txn } => CfInput::PfError { txn },
            Arrival::PfOkAtCf { txn } => CfInput::PfOk { txn },
            Arrival::PfInDialogRespAtCf { code, txn } => CfInput::PfInDialogResp { code, txn },
            Arrival::PfByeAtCf { txn, voluntary } => CfInput::PfBye { txn, voluntary },
            Arrival::SubscribeAtCf { txn, expires } => CfInput::Subscribe { txn, expires },
            Arrival::MemberInviteAtCf { member, txn } => CfInput::MemberInvite { member, txn },
            Arrival::MemberByeAtCf { member, txn } => CfInput::MemberBye { member, txn },
            Arrival::MemberOkAtCf { member, txn } => CfInput::MemberOk { member, txn },
            Arrival::MemberBindAtCf { member, tid } => CfInput::MemberBind { member, tid },
            _ => return,
        };
        self.cf_input(input);
    }

    /// Feeds the focus one input and executes what it emits, in order.
    pub(super) fn cf_input(&mut self, input: CfInput) {
        Machine::handle(&mut self.cf, self.now, input);
        let mut out = std::mem::take(&mut self.cf_out);
        Machine::poll_output(&mut self.cf, &mut out);
        for o in out.iter_mut() {
            // Taken out in place (the Vec's own code, no drain or iterator of outputs to carry).
            match std::mem::replace(o, CfOutput::Chat(CfChat::Distributed(u32::MAX))) {
                CfOutput::Sip { to, msg, clauses, note, arrival } => {
                    self.sip(Node::Cf, to, &msg, clauses, note, Boxed(arrival));
                }
                CfOutput::Msrp { to, raw, label, clauses, note, chat, arrival } => {
                    self.msrp(Node::Cf, to, raw, label, clauses, note, chat, Boxed(arrival));
                }
                CfOutput::Note { kind, label, clauses, note } => {
                    self.note(Node::Cf, kind, label, clauses, note, None);
                }
                CfOutput::Chat(c) => self.cf_chat(c),
            }
        }
        out.clear();
        self.cf_out = out;
        debug_assert_eq!(Machine::poll_timeout(&self.cf), None, "the focus runs no timer");
    }

    /// What the focus reports of a chat message, into the trace's chat records.
    fn cf_chat(&mut self, c: CfChat) {
        match c {
            CfChat::Distributed(chat) => {
                // Whether the message was for Carol is the world's ground truth, not what the
                // focus knows.
                let for_carol = self.carol.entitled;
                let rec = &mut self.chats[chat as usize];
                rec.for_carol = for_carol;
                if !for_carol {
                    rec.outcome = Outcome::NotForCarol;
                } else {
                    rec.outcome = Outcome::Pending;
                    // A trace statistic (the summary's sent_while_away).
                    let live = self.pf.state() == PfState::Active && self.carol.conn == Conn::Up && self.carol.reachable;
                    if !live {
                        self.sent_while_away += 1;
                    }
                }
            }
            CfChat::NoLegForCarol(chat) => {
                if self.chats[chat as usize].for_carol {
                    let why = match self.rules {
                        Rules::PreCr => "Lost: Carol's PF is not in the group session any more, so the focus has no leg to send this on for her (before the CR only a BYE with an involuntary Reason kept the PF in).",
                        Rules::PostCr => "Lost: Carol's PF is not in the group session, so the focus has no leg to send this on for her.",
                    };
                    self.lose(chat, why, cl!["8.3.2.9"]);
                    self.key_last(format!("Lost: message #{chat}, the focus has no leg for Carol"));
                }
            }
            CfChat::LegEndedUnbound(chat) => {
                self.lose(chat, "Lost: Carol's leg at the focus ended before its MSRP connection was bound.", cl!["RFC 4975 §5.4"]);
            }
        }
    }
}
