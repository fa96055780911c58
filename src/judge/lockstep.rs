//! The oracle (issue 14, "Oracle"): the engine's own PF machine ([`crate::pf::Pf`], the one the
//! world runs) fed, in lockstep with the capture, with what reached the real PF — each SIP
//! request and response to it, each MSRP SEND, bind and 200 to it, as [`PfInput`]s at their
//! capture times — while its own timers fire in time order between them
//! ([`crate::machine::Machine::poll_timeout`]). What it emits at each point is what the model
//! allows the real PF to send there; [`super::verdict`] compares the two, per peer, in order,
//! by kind and content (not ids, not latencies).
//!
//! **Identities.** The machine numbers its own dialogs, INVITEs (`inv`) and SENDs (`tx`); the
//! capture has Call-IDs and MSRP transaction ids. They are mapped as the two go along: the real
//! PF's k-th request of a method towards a peer is the machine's k-th (its Call-ID maps to the
//! machine's, so the peer's responses and in-dialog requests on it reach the machine's dialog);
//! on a session established before the capture the first Call-ID of each peer maps to the
//! machine's initial leg (inference: a capture that starts mid-session shows no set-up); a
//! Call-ID the peer chose (Carol's re-join INVITE) is the machine's as it is. Carol's 200 to a
//! SEND reaches the machine's SEND of the same content (the real PF's SEND with that
//! transaction id carried it); her answer to an INVITE reaches the machine's INVITE on the
//! mapped Call-ID.
//!
//! **What the capture cannot show.** A TCP reset of Carol's MSRP connection that the capture
//! does not hold is an input the judge infers ([`super::hidden`], named under `inferred`);
//! Carol's device vanishing, a connection that never opens, a group that ends while the PF is
//! not in it are not inputs of the PF at all: their effects (no answer, a 408, a 404) are in
//! the capture and reach the machine as they reached the real PF.

use super::action::content_of;
use super::rebuild::Observed;
use crate::capture::roles::Roles;
use crate::capture::{CapturedMessage, WireMessage};
use crate::machine::Machine;
use crate::pf::{Pf, PfConfig, PfEmit, PfInput, PfOutput};
use crate::policy::{Policies, PolicyId};
use crate::trace::{LaneInfo, Participant, PfState, Protocol, Rules, StateSpan, Step, StepKind, Summary, Trace};
use crate::wire::conference_info::ConferenceInfo;
use crate::wire::msrp::MsrpStart;
use crate::wire::sip::StartLine;
use crate::world::build::{Dialog, UserInfo};
use crate::world::{Arrival, Node, Roster, Txn};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Who sent a message the PF received, or got one it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The focus (CF).
    Focus,
    /// Carol's client or the IMS core on her side.
    Client,
    /// The S-CSCF (the 3rd-party REGISTER).
    Scscf,
}

impl Peer {
    fn lane(self) -> &'static str {
        match self {
            Peer::Focus => "cf",
            Peer::Client => "carol",
            Peer::Scscf => "scscf",
        }
    }
}

/// One message of the capture to or from the PF, in capture order (what the lockstep uses).
#[derive(Debug, Clone)]
pub struct Fed {
    /// ms from the rebuilt timeline's t = 0.
    pub at_ms: u64,
    /// Its index in the capture's messages (the observed ladder's step).
    pub index: usize,
    /// The other end.
    pub peer: Peer,
    /// The real PF sent it (else it reached the PF).
    pub from_pf: bool,
    /// The message.
    pub msg: CapturedMessage,
}

/// The capture's messages to and from the PF, in order.
pub fn collect(msgs: &[CapturedMessage], roles: &Roles, t0_ns: u64) -> Vec<Fed> {
    let mut out = Vec::new();
    // The transaction ids of the MSRP requests that reached the PF: the reader joins a chunked
    // SEND into one under its last chunk's id (src/capture/msrp_chunks.rs), so a 200 of the PF
    // to any other id answers a chunk before the last (Q14, RFC 4975 §7.2) and is left out, as
    // the machine, fed the whole message, sends one 200.
    let mut requests: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (index, m) in msgs.iter().enumerate() {
        if let WireMessage::Msrp(x) = &m.message {
            if roles.pf.matches(m.dst) && matches!(x.start, MsrpStart::Request(_)) {
                requests.insert(&x.tid);
            } else if roles.pf.matches(m.src) && matches!(x.start, MsrpStart::Response { .. }) && !requests.contains(x.tid.as_ref()) {
                continue;
            }
        }
        let (from_pf, other) = if roles.pf.matches(m.src) {
            (true, m.dst)
        } else if roles.pf.matches(m.dst) {
            (false, m.src)
        } else {
            continue;
        };
        let peer = if roles.cf.is_some_and(|n| n.matches(other)) {
            Peer::Focus
        } else if roles.scscf.is_some_and(|n| n.matches(other)) {
            Peer::Scscf
        } else {
            Peer::Client
        };
        out.push(Fed { at_ms: m.time_ns.saturating_sub(t0_ns) / 1_000_000, index, peer, from_pf, msg: m.clone() });
    }
    out
}

/// The TCP resets of Carol's MSRP connection that the capture shows, (ms, frame): an RST on a
/// connection between the PF and a node other than the focus that carried MSRP (RFC 9293
/// §3.10.7.4: the connection is gone; the PF's `tcp-reset` loss detector sees it at once).
pub fn resets_seen(msgs: &[CapturedMessage], resets: &[crate::capture::ConnectionEvent], roles: &Roles, t0_ns: u64, end_ms: u64) -> Vec<(u64, u64)> {
    resets
        .iter()
        .filter(|r| {
            let (pf_end, other) = if roles.pf.matches(r.src) { (r.src, r.dst) } else { (r.dst, r.src) };
            roles.pf.matches(pf_end)
                && !roles.cf.is_some_and(|n| n.matches(other))
                && msgs
                    .iter()
                    .any(|m| matches!(m.message, WireMessage::Msrp(_)) && ((m.src == pf_end && m.dst == other) || (m.src == other && m.dst == pf_end)))
        })
        .map(|r| (r.time_ns.saturating_sub(t0_ns) / 1_000_000, r.frame))
        // After the capture's last message: how the capture ended; what the PF did about it
        // is not in the capture.
        .filter(|(at, _)| *at <= end_ms)
        .collect()
}

/// The lockstep run: the machine's messages and decisions as a trace (the expected ladder:
/// what reached the PF, at its capture time, and what the model's PF does with it), and the
/// machine's state at each message of the capture (the observed ladder's PF state).
pub struct Run {
    /// The machine's run in lockstep with the capture.
    pub trace: Trace,
    /// (index in the capture's messages, the machine's state when that message was sent or
    /// received).
    pub states: Vec<(usize, PfState)>,
}

/// Most timers the machine may fire in one run (a guard: refreshes re-arm only before the
/// horizon, so a run ends long before).
const MAX_FIRES: usize = 100_000;

/// How long after the capture's last message the machine's timers still fire (what it would
/// do next: the verdicts count it as "due after the capture ends").
const TAIL_MS: u64 = 3_600_000;

struct Lock<'a> {
    o: &'a Observed,
    pf: Pf,
    buf: Vec<PfEmit>,
    steps: Vec<Step>,
    spans: Vec<StateSpan>,
    /// Real Call-ID → the machine's.
    calls: HashMap<String, String>,
    /// The machine's requests not yet paired with one of the real PF's: (peer is the focus,
    /// method, Call-ID).
    pending: VecDeque<(bool, String, String)>,
    /// The real PF's requests not yet paired with one of the machine's: (focus, method, Call-ID).
    unpaired: VecDeque<(bool, String, String)>,
    /// The machine's INVITEs to Carol: (Call-ID, inv).
    invites: Vec<(String, u32)>,
    /// The machine's SENDs to Carol without a 200 yet: (tx, content).
    sends: Vec<(u32, String)>,
    /// The real PF's SENDs to Carol: transaction id → content.
    real_sends: HashMap<String, String>,
    /// Content of each chat number the lockstep gave out.
    chats: Vec<String>,
    /// The machine's initial legs not yet mapped (established set-up): Carol's, the focus's.
    initial: (Option<String>, Option<String>),
    /// Calls on which the real PF's last final response was a 2xx (an ACK there is for it).
    acked_2xx: Vec<String>,
    first_invite: bool,
    path_no: u32,
    registers: VecDeque<u64>,
    fires: usize,
}

/// Runs the machine in lockstep with the capture under `policies` (and the scenario's
/// `ims_core`, which is the network's and not an input here), with a TCP reset of Carol's MSRP
/// connection inferred at each time of `resets`.
pub fn run(o: &Observed, resets: &[u64], policies: &[(String, String)], rules: Rules) -> Run {
    let mut pols = Policies::default();
    for (k, v) in policies {
        if let Some(p) = PolicyId::from_id(k) {
            pols.set(p, v);
        }
    }
    let established = o.setup == "established";
    let cfg = PfConfig {
        rules,
        policies: pols,
        t1_ms: 500,
        horizon_ms: o.end_ms,
        epoch_ms: o.t0_ns / 1_000_000,
        wire: true,
        members: o.members.iter().map(|m| m.id.clone()).collect(),
        // The capture reader joins chunks into whole SENDs (src/capture/msrp_chunks.rs), so the
        // machine is fed and compared whole messages (Q14).
        chunk_bytes: None,
        // The judge sees one device of Carol's (issue 11: a second device is not judged yet).
        tablet: false,
    };
    let registers = o
        .events
        .iter()
        .filter(|e| e.json.starts_with("\"kind\":\"register\""))
        .map(|e| e.json.rsplit(':').next().and_then(|n| n.trim_end_matches('}').parse().ok()).unwrap_or(500))
        .collect();
    let mut l = Lock {
        o,
        pf: Pf::new(established, cfg),
        buf: Vec::with_capacity(16),
        steps: Vec::new(),
        spans: vec![StateSpan { state: if established { PfState::Active } else { PfState::Idle }, from_ms: 0, to_ms: 0 }],
        calls: HashMap::new(),
        pending: VecDeque::new(),
        unpaired: VecDeque::new(),
        invites: Vec::new(),
        sends: Vec::new(),
        real_sends: HashMap::new(),
        chats: Vec::new(),
        initial: if established { (Some(Dialog::carol_pf(0).call_id), Some(Dialog::pf_cf(0).call_id)) } else { (None, None) },
        acked_2xx: Vec::new(),
        first_invite: o.setup == "full",
        path_no: 0,
        registers,
        fires: 0,
    };
    if established {
        l.feed(0, PfInput::Start, None);
    }
    // (ms, frame of the RST the capture shows, or 0 for one the judge inferred).
    let mut resets: Vec<(u64, u64)> = resets.iter().map(|r| (*r, 0)).chain(o.resets.iter().copied()).collect();
    resets.sort_unstable();
    let mut resets = resets.into_iter().peekable();
    let mut states = Vec::with_capacity(o.feed.len());
    for f in &o.feed {
        while let Some((r, frame)) = resets.next_if(|r| r.0 <= f.at_ms) {
            l.timers_until(r);
            l.feed(r, PfInput::TcpReset, Some(frame));
        }
        l.timers_until(f.at_ms);
        if f.from_pf {
            l.real_sent(f);
        } else if let Some(input) = l.input_of(f) {
            l.fed_step(f);
            l.feed(f.at_ms, input, None);
        }
        states.push((f.index, l.pf.state()));
    }
    for (r, frame) in resets {
        l.timers_until(r);
        l.feed(r, PfInput::TcpReset, Some(frame));
    }
    l.timers_until(o.end_ms.saturating_add(TAIL_MS));
    may_be_missing(o, &mut l.steps);
    let end_ms = l.steps.last().map_or(0, |s| s.at_ms).max(o.end_ms);
    if let Some(last) = l.spans.last_mut() {
        last.to_ms = end_ms;
    }
    let lanes = [("carol", "Carol (client)", "client"), ("scscf", "IMS core", "ims"), ("carol-pf", "Carol's PF", "pf"), ("cf", "CF (focus)", "cf")]
        .into_iter()
        .map(|(id, label, role)| LaneInfo { id: id.into(), label: label.into(), role })
        .collect();
    let trace = Trace {
        version: 1,
        rules,
        title: "Expected: the model's PF in lockstep with what reached the real PF".into(),
        end_ms,
        lanes,
        steps: l.steps,
        chats: Vec::new(),
        timers: Vec::new(),
        pf_states: l.spans,
        participants: Vec::new(),
        policies: Vec::new(),
        summary: Summary::default(),
    };
    Run { trace, states }
}

/// Marks the machine's messages towards Carol that a capture may not show (`dropped`, which the
/// comparison lets be missing): those after which her side sent the PF nothing more before her
/// next session (a re-join INVITE, a 3rd-party REGISTER) or the capture's end. Her device was
/// then silent, most likely gone, and a capture taken at her side or in the network does not
/// hold what never reached her (inference; a capture at the PF itself shows them all).
fn may_be_missing(o: &Observed, steps: &mut [Step]) {
    // Carol's side's messages to the PF: (ms, starts a new session).
    let client: Vec<(u64, bool, bool)> = o
        .feed
        .iter()
        .filter(|f| !f.from_pf && f.peer != Peer::Focus)
        // A failure response may be the IMS core's (a 408, a 480 for an unreachable Carol,
        // RFC 3261 §16.7), not a sign of her device.
        .filter(|f| !matches!(&f.msg.message, WireMessage::Sip(s) if matches!(s.start, StartLine::Response { code, .. } if code >= 300)))
        .map(|f| {
            let new = matches!(&f.msg.message, WireMessage::Sip(s) if matches!(&s.start, StartLine::Request { method, .. } if method == "REGISTER" || (method == "INVITE" && s.header("To").is_some_and(|t| !t.contains("tag=")))));
            (f.at_ms, new, matches!(f.msg.message, WireMessage::Msrp(_)))
        })
        .collect();
    for s in steps.iter_mut().filter(|s| &*s.from == "carol-pf" && &*s.to != "cf" && s.kind == StepKind::Message) {
        // Her next message of the same protocol (an MSRP connection may be dead while her SIP
        // dialog lives), or her next session.
        let msrp = s.protocol == Protocol::MSRP;
        let next = client.iter().find(|(t, new, m)| *t > s.at_ms && (*m == msrp || *new)).map(|(t, new, _)| (*t, *new));
        if next.is_none_or(|(_, new)| new) {
            s.dropped = true;
        }
    }
}

/// A participant status the trace contract knows (RFC 4575 §5.7.1 `<status>`).
fn status_of(s: &str) -> &'static str {
    const KNOWN: [&str; 9] = ["connected", "disconnected", "on-hold", "muted-via-focus", "pending", "alerting", "dialing-in", "dialing-out", "disconnecting"];
    KNOWN.iter().copied().find(|k| *k == s).unwrap_or("disconnected")
}

impl Lock<'_> {
    /// Fires the machine's timers due by `t`, in time order.
    fn timers_until(&mut self, t: u64) {
        while self.fires < MAX_FIRES {
            match Machine::poll_timeout(&self.pf) {
                Some((at, timer)) if at <= t => {
                    self.fires += 1;
                    self.feed(at, PfInput::Timer(timer), None);
                }
                _ => break,
            }
        }
    }

    /// The machine's Call-ID for a real one; `leg`: the message belongs to an INVITE dialog
    /// (so an unknown Call-ID may be the leg established before the capture).
    fn call(&mut self, real: &str, peer: Peer, leg: bool) -> String {
        if let Some(m) = self.calls.get(real) {
            return m.clone();
        }
        if !leg {
            return real.to_string();
        }
        // A session established before the capture: the first Call-ID of a peer is the
        // machine's initial leg (inference).
        let slot = if peer == Peer::Focus { &mut self.initial.1 } else { &mut self.initial.0 };
        if let Some(m) = slot.take() {
            self.calls.insert(real.to_string(), m.clone());
            return m;
        }
        real.to_string()
    }

    /// The real PF sent `f`: pair its identities with the machine's.
    fn real_sent(&mut self, f: &Fed) {
        match &f.msg.message {
            WireMessage::Sip(s) => {
                let call = s.header("Call-ID").unwrap_or("").to_string();
                match &s.start {
                    StartLine::Request { method, .. } => {
                        if method == "ACK" || method == "CANCEL" || self.calls.contains_key(&call) {
                            return;
                        }
                        let focus = f.peer == Peer::Focus;
                        match self.pending.iter().position(|(p, m, _)| *p == focus && m == method) {
                            Some(i) => {
                                let (_, _, mine) = self.pending.remove(i).expect("found");
                                self.calls.insert(call, mine);
                            }
                            // Sent before the machine's (its timer ran shorter): paired when the
                            // machine sends its own.
                            None => self.unpaired.push_back((focus, method.to_string(), call)),
                        }
                    }
                    StartLine::Response { code, .. } => {
                        if *code >= 200 && s.header("CSeq").is_some_and(|c| c.ends_with("INVITE")) {
                            self.acked_2xx.retain(|c| *c != call);
                            if *code < 300 {
                                self.acked_2xx.push(call);
                            }
                        }
                    }
                }
            }
            WireMessage::Msrp(x) => {
                if f.peer != Peer::Focus && matches!(&x.start, MsrpStart::Request(r) if r == "SEND") {
                    let body = x.body.as_deref().unwrap_or("");
                    self.real_sends.insert(x.tid.to_string(), content_of(body).to_string());
                }
            }
        }
    }

    /// The session IDs of one of Carol's INVITEs as the machine reads them (Q20): the capture's
    /// session IDs ([`Observed::session_ids`]) map to the machine's, other IDs stay other.
    fn ids_of(&self, s: &crate::wire::sip::SipMessage) -> Option<Box<(String, String)>> {
        use crate::world::build::{CONTRIBUTION_ID, CONVERSATION_ID};
        let (conv, contrib) = super::rebuild::ids_of(s)?;
        let (sconv, scontrib) = self.o.session_ids.as_ref()?;
        let map = |v: String, session: &str, machine: &str| {
            if v == session {
                machine.to_string()
            } else if v == machine {
                format!("{v}-other")
            } else {
                v
            }
        };
        Some(Box::new((map(conv, sconv, CONVERSATION_ID), map(contrib, scontrib, CONTRIBUTION_ID))))
    }

    fn chat(&mut self, body: &str) -> u32 {
        self.chats.push(content_of(body).to_string());
        self.chats.len() as u32 - 1
    }

    fn roster_of(&self, body: &str) -> Option<Roster> {
        let ci = ConferenceInfo::parse(body).ok()?;
        let carol = self.o.carol_user.as_deref();
        let mut users = Vec::new();
        let mut info = Vec::new();
        for u in &ci.users {
            let user = super::action::user_of(&u.entity)?;
            let id = if Some(user.as_str()) == carol {
                "carol".to_string()
            } else {
                self.o.members.iter().find(|m| m.user == user).map_or(user.clone(), |m| m.id.clone())
            };
            users.push(Participant { id: id.into(), name: u.display_text.clone(), status: status_of(&u.status) });
            info.push(UserInfo { dialed_out: u.joining_method.as_deref() == Some("dialed-out"), how_left: "", left_ms: None });
        }
        Some(Roster { version: ci.version, users, info })
    }

    /// What a message that reached the PF is for the machine (None: nothing the PF acts on,
    /// e.g. the focus's 200 to its SEND).
    fn input_of(&mut self, f: &Fed) -> Option<PfInput> {
        match &f.msg.message {
            WireMessage::Sip(s) => {
                let mut txn = Txn::of(s);
                let real_call = txn.call_id.clone();
                match (&s.start, f.peer) {
                    (StartLine::Request { method, .. }, Peer::Focus) => {
                        // A re-INVITE carries the PF's tag in To: a request of a leg (Q16).
                        let reinvite = method == "INVITE" && s.header("To").is_some_and(|t| t.contains("tag="));
                        if method != "INVITE" || reinvite {
                            let leg = method != "NOTIFY";
                            txn.call_id = self.call(&real_call, f.peer, leg);
                        }
                        Some(match &**method {
                            "INVITE" if reinvite => PfInput::FocusInDialog { txn, update: false },
                            "UPDATE" => PfInput::FocusInDialog { txn, update: true },
                            "INVITE" => {
                                self.calls.entry(real_call.clone()).or_insert(real_call);
                                PfInput::FocusInvite { txn }
                            }
                            "ACK" => PfInput::FocusAck,
                            "BYE" => PfInput::FocusBye { txn },
                            "NOTIFY" => {
                                // The reason of a terminating NOTIFY (RFC 6665 §4.2.2), as the PF reads it.
                                let terminated = s.header("Subscription-State").filter(|v| v.trim_start().starts_with("terminated")).map(|v| {
                                    match v.split(';').find_map(|p| p.trim().strip_prefix("reason=")).map(str::trim) {
                                        Some("noresource") => "noresource",
                                        Some("rejected") => "rejected",
                                        _ => "timeout",
                                    }
                                });
                                let roster = if terminated.is_some() { None } else { self.roster_of(&s.body) };
                                PfInput::FocusNotify { txn, terminated, roster }
                            }
                            _ => return None,
                        })
                    }
                    (StartLine::Response { code, .. }, Peer::Focus) => {
                        // The PF reads the final responses to its INVITEs, and the refusals of its
                        // SUBSCRIBEs (Q18).
                        let sub = s.header("CSeq").is_some_and(|c| c.ends_with("SUBSCRIBE"));
                        if *code < 200 || !(s.header("CSeq").is_some_and(|c| c.ends_with("INVITE")) || (sub && *code >= 300)) {
                            return None;
                        }
                        txn.call_id = self.call(&real_call, f.peer, !sub);
                        Some(PfInput::FocusResponse { code: *code, txn })
                    }
                    (StartLine::Request { method, .. }, _) => {
                        let in_dialog = s.header("To").is_some_and(|t| t.contains("tag="));
                        if in_dialog || method == "ACK" || method == "CANCEL" {
                            let leg = method != "SUBSCRIBE" && method != "NOTIFY";
                            txn.call_id = self.call(&real_call, f.peer, leg);
                        }
                        Some(match &**method {
                            "INVITE" if !in_dialog => {
                                // A Call-ID Carol chose: the machine's dialog takes it as it is.
                                self.calls.insert(real_call.clone(), real_call.clone());
                                let rejoin = !std::mem::take(&mut self.first_invite);
                                self.path_no += 1;
                                PfInput::CarolInvite { txn, rejoin, no: self.path_no, ids: self.ids_of(s) }
                            }
                            "CANCEL" => PfInput::CarolCancel { txn },
                            "ACK" if self.acked_2xx.contains(&real_call) => PfInput::CarolAck,
                            "BYE" => {
                                let reason = s.header("Reason").map(|r| (r.to_string(), crate::wire::reason::parse(r).unwrap_or_default()));
                                PfInput::CarolBye { txn, reason }
                            }
                            "SUBSCRIBE" => PfInput::CarolSubscribe { txn },
                            // Expires: 0 is a de-registration (RFC 3261 §10.2.2), never path A.
                            "REGISTER" if s.header("Expires").is_some_and(|e| e.trim() == "0") => PfInput::Deregister { txn, device: Node::Carol },
                            "REGISTER" => PfInput::Register { txn, reaction_ms: self.registers.pop_front().unwrap_or(500), device: Node::Carol },
                            _ => return None,
                        })
                    }
                    (StartLine::Response { code, .. }, _) => {
                        let cseq = s.header("CSeq").unwrap_or("");
                        if !cseq.ends_with("INVITE") && !cseq.ends_with("UPDATE") {
                            return None;
                        }
                        let mine = self.call(&real_call, f.peer, true);
                        txn.call_id = mine.clone();
                        if cseq.ends_with("INVITE") {
                            let inv = self.invites.iter().rev().find(|(c, _)| *c == mine).or(self.invites.last()).map_or(u32::MAX, |(_, i)| *i);
                            Some(PfInput::CarolInviteResponse { inv, code: *code, txn })
                        } else if cseq.ends_with("UPDATE") && (200..300).contains(code) {
                            Some(PfInput::CarolUpdateOk { upd: 0 })
                        } else {
                            None
                        }
                    }
                }
            }
            WireMessage::Msrp(x) => {
                let body = x.body.as_deref().unwrap_or("");
                match (&x.start, f.peer) {
                    (MsrpStart::Request(r), Peer::Focus) if r == "SEND" && !body.is_empty() => {
                        let chat = self.chat(body);
                        let sender: std::sync::Arc<str> = super::action::cpim_from_user(body).unwrap_or_default().into();
                        Some(PfInput::FocusSend { chat, tid: x.tid.to_string(), body: body.into(), chunk: None, sender })
                    }
                    (MsrpStart::Request(r), Peer::Client | Peer::Scscf) if r == "SEND" => {
                        if body.is_empty() {
                            return Some(PfInput::CarolBind { tid: x.tid.to_string() });
                        }
                        if super::action::is_imdn(body) {
                            // Her client's IMDN (RFC 5438 §7.1.1): the PF relays it as it came.
                            let to: std::sync::Arc<str> = super::action::cpim_to_user(body).unwrap_or_default().into();
                            let status = crate::wire::imdn::Imdn::parse(content_of(body)).map_or(crate::wire::imdn::ImdnStatus::Delivered, |m| m.status);
                            let dash_run = crate::world::build::has_dash_run(body);
                            let imdn = crate::world::ImdnMsg { chat: 0, status, to, body: body.into(), dash_run };
                            return Some(PfInput::CarolImdn { imdn, tid: x.tid.to_string() });
                        }
                        let chat = self.chat(body);
                        Some(PfInput::CarolSend { chat, tid: x.tid.to_string(), body: body.into() })
                    }
                    (MsrpStart::Response { code: 200, .. }, Peer::Client | Peer::Scscf) => {
                        // The machine's SEND of the content the real PF's SEND with this id carried.
                        let content = self.real_sends.get(x.tid.as_ref())?;
                        let i = self.sends.iter().rposition(|(_, c)| c == content)?;
                        let (tx, _) = self.sends.remove(i);
                        Some(PfInput::CarolSendOk { tx })
                    }
                    _ => None,
                }
            }
        }
    }

    /// A step for a message that reached the PF (the expected ladder shows what the machine got).
    fn fed_step(&mut self, f: &Fed) {
        let (protocol, raw) = match &f.msg.message {
            WireMessage::Sip(s) => (Protocol::SIP, s.emit()),
            WireMessage::Msrp(x) => (Protocol::MSRP, x.emit()),
        };
        let label = f.msg.message.label();
        let note = format!("frame {}: reached the real PF and is fed to the model's PF", f.msg.frame);
        self.push_step(f.at_ms, f.peer.lane(), "carol-pf", protocol, label.into(), raw, Cow::Borrowed(&[]), note.into(), StepKind::Message);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_step(
        &mut self,
        at_ms: u64,
        from: &str,
        to: &str,
        protocol: Protocol,
        label: Cow<'static, str>,
        raw: String,
        clauses: crate::trace::Clauses,
        note: Cow<'static, str>,
        kind: StepKind,
    ) {
        let index = self.steps.len() as u32;
        self.steps.push(Step {
            index,
            at_ms,
            arrive_ms: at_ms,
            from: from.into(),
            to: to.into(),
            protocol,
            label,
            raw,
            clauses,
            note,
            kind,
            policy: false,
            pf_state: self.pf.state(),
            queue_len: self.pf.store_len() as u32,
            chat: None,
            event: None,
            dropped: false,
            key: None,
            cause: Arc::from("lockstep"),
            sig: 0,
            nth: 0,
        });
    }

    /// Feeds the machine one input at `now` and records what it emits.
    /// `reset`: the input is a TCP reset, shown in that frame of the capture (0: inferred).
    fn feed(&mut self, now: u64, input: PfInput, reset: Option<u64>) {
        if let Some(frame) = reset {
            let note: Cow<'static, str> = if frame == 0 {
                "inferred: a TCP reset of Carol's MSRP connection that no packet of the capture shows".into()
            } else {
                format!("frame {frame}: a TCP reset (RST) of Carol's MSRP connection, fed to the model's PF").into()
            };
            self.push_step(now, "carol", "carol-pf", Protocol::None, "TCP reset".into(), String::new(), Cow::Borrowed(&[]), note, StepKind::Info);
        }
        Machine::handle(&mut self.pf, now, input);
        let mut out = std::mem::take(&mut self.buf);
        Machine::poll_output(&mut self.pf, &mut out);
        for e in out.drain(..) {
            self.emitted(now, e);
        }
        self.buf = out;
    }

    fn emitted(&mut self, now: u64, e: PfEmit) {
        let lane = |n: Node| match n {
            Node::Cf | Node::Member(_) => "cf",
            Node::Scscf => "scscf",
            Node::Carol | Node::Tablet | Node::Pf => "carol",
        };
        let at = |s: &mut Self| s.steps.len();
        match e.out {
            PfOutput::Sip { to, msg, clauses, note, arrival } => {
                if let StartLine::Request { method, .. } = &msg.start {
                    let call = msg.header("Call-ID").unwrap_or("").to_string();
                    if method != "ACK" && method != "CANCEL" && !self.calls.values().any(|c| *c == call) {
                        let focus = to == Node::Cf;
                        match self.unpaired.iter().position(|(p, m, _)| *p == focus && m == method) {
                            Some(i) => {
                                let (_, _, real) = self.unpaired.remove(i).expect("found");
                                self.calls.insert(real, call.clone());
                            }
                            None => self.pending.push_back((focus, method.to_string(), call.clone())),
                        }
                    }
                    if let Some(Arrival::PfInviteAtCarol { inv, .. }) = arrival.as_deref() {
                        self.invites.push((call, *inv));
                    }
                }
                let label = msg.label();
                let raw = msg.emit();
                let i = at(self);
                self.push_step(now, "carol-pf", lane(to), Protocol::SIP, label.into(), raw, clauses, note, StepKind::Message);
                self.steps[i].pf_state = e.state;
                self.steps[i].queue_len = e.store;
            }
            PfOutput::Msrp { to, raw, label, clauses, note, chat, arrival } => {
                if let Some(Arrival::PfSendAtCarol { tx, chat, .. }) = arrival.as_deref() {
                    let content = self.chats.get(*chat as usize).cloned().unwrap_or_else(|| {
                        crate::wire::msrp::parse(&raw).ok().and_then(|m| m.body.as_deref().map(|b| content_of(b).to_string())).unwrap_or_default()
                    });
                    self.sends.push((*tx, content));
                }
                let i = at(self);
                self.push_step(now, "carol-pf", lane(to), Protocol::MSRP, label.into(), raw, clauses, note, StepKind::Message);
                self.steps[i].pf_state = e.state;
                self.steps[i].queue_len = e.store;
                self.steps[i].chat = chat;
            }
            PfOutput::Note { kind, label, clauses, note, chat } => {
                let i = at(self);
                self.push_step(now, "carol-pf", "carol-pf", Protocol::None, label, String::new(), clauses, note, kind);
                self.steps[i].chat = chat;
            }
            PfOutput::State { state, clauses, note } => {
                match self.spans.last_mut() {
                    Some(last) if last.from_ms == now => last.state = state,
                    Some(last) => {
                        last.to_ms = now;
                        self.spans.push(StateSpan { state, from_ms: now, to_ms: now });
                    }
                    None => self.spans.push(StateSpan { state, from_ms: now, to_ms: now }),
                }
                let n = self.spans.len();
                if n >= 2 && self.spans[n - 2].state == self.spans[n - 1].state {
                    self.spans.pop();
                }
                let i = at(self);
                self.push_step(now, "carol-pf", "carol-pf", Protocol::None, format!("{state:?}").into(), String::new(), clauses, note, StepKind::State);
                self.steps[i].pf_state = state;
            }
            _ => {}
        }
    }
}
