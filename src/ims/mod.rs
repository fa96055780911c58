//! The IMS core on Carol's SIP path: her P-CSCF and S-CSCF as RFC 3261 §16 proxies, drawn as one
//! lane (`scscf`, "IMS core"), as a sans-IO machine of its own ([`crate::machine::Machine`]). Every SIP message between Carol's client and her PF goes through
//! it, both ways; her PF is an application server reached through the S-CSCF (3GPP TS 24.229
//! §5.4.3.2 originating, §5.4.3.3 terminating; §5.7 the AS). MSRP does not traverse the core.
//!
//! What the two proxies do to a request (each in turn: from Carol the P-CSCF first, from the PF
//! the S-CSCF first): consume the Route entries that name them (loose routing, §16.4), add their
//! Via (§16.6 step 8), Record-Route a dialog-forming request (INVITE, SUBSCRIBE; §16.6 step 4),
//! decrement Max-Forwards (§16.6 step 3); the terminating S-CSCF retargets a request for Carol's
//! AOR to her registered contact (24.229 §5.4.3.3). To a response: remove their Via and pass it
//! on along the next one (§16.7 step 3, §16.12). Record-Route in a response is the UAS's copy and
//! is left alone.
//!
//! How the core treats transactions is the scenario's `ims_core` choice
//! ([`crate::scenario::ImsCore`]): a transaction-stateful core answers 100 Trying to an INVITE it
//! forwards (§16.2, §17.2.1), keeps 100s to itself (§16.7 step 5), answers CANCEL hop by hop
//! (§16.10, §9.2) and acknowledges a non-2xx final response itself (§17.1.1.3), and answers
//! `408` after its own Timer B towards an unreachable Carol (§16.7 step 2: a timeout is a 408)
//! or `480` at once; a stateless core (§16.11) forwards everything and answers nothing, so the
//! PF's own Timer B is what tells it Carol is gone.

//!
//! **The boundary.** The core sees only what reached it: the SIP messages its proxies receive
//! ([`CoreInput::Message`]), whether the P-CSCF still has Carol's signalling connection
//! ([`CoreInput::CarolReachable`]) and its own timers; and its configuration ([`CoreConfig`]).
//! Its state is private to this module; what it uses of `crate::world` is the message
//! vocabulary (`Node`, `Txn`, `Arrival`) and the wire-text layer (`build::`), and
//! tests/machine_boundaries.rs fails if it names more. The world (src/world/ims.rs) records the
//! hop into the core, feeds it, and records and delivers what it sends, half a hop later.

#[cfg(test)]
mod alone;

use crate::machine::{Armed, Machine, Reasons, Time};
use crate::scenario::ImsCore;
use crate::trace::Clauses;
use crate::wire::sip::{SipMessage, StartLine};
use crate::world::build::{joined, response, CAROL, SCSCF_HOST};
use crate::world::{Arrival, Node, Txn};
use std::borrow::Cow;

/// The P-CSCF's own URI in a Route or Record-Route (the host Carol's preloaded Route names).
pub const PCSCF_RR: &str = "<sip:pcscf.ims.example.net:5060;lr>";
/// The S-CSCF's own URI in a Route or Record-Route.
pub const SCSCF_RR: &str = "<sip:scscf.ims.example.net;lr>";
/// Carol's side's route set through the core (her preloaded Route, and what a 2xx or a request
/// through the core gives her): P-CSCF, then S-CSCF.
pub const CAROL_ROUTE: &str = "<sip:pcscf.ims.example.net:5060;lr>, <sip:scscf.ims.example.net;lr>";
/// The PF's side's route set through the core: S-CSCF, then P-CSCF.
pub const PF_ROUTE: &str = "<sip:scscf.ims.example.net;lr>, <sip:pcscf.ims.example.net:5060;lr>";
/// Carol's registered contact, where the terminating S-CSCF sends a request for her AOR.
pub const CAROL_CONTACT_URI: &str = "sip:carol@198.51.100.7:5060;transport=tcp";

/// A message on its way through the core.
#[derive(Debug, Clone)]
pub(crate) struct CoreHop {
    /// The message as it reached the core.
    pub msg: SipMessage,
    /// Where it came from and where it goes (Carol's client or her PF).
    pub from: Node,
    pub to: Node,
    /// What it does when it reaches `to`.
    pub arrival: Option<Arrival>,
    /// What the sender's step cites: the hop out of the core is the same message and cites it
    /// too (a key step the receiver marks on it keeps the CR's clause).
    pub clauses: Clauses,
}

/// An INVITE transaction the core forwarded, as its proxy state keeps it (§16.6, §16.7).
#[derive(Debug, Clone)]
struct CoreTxn {
    /// The top Via branch of the request as it reached the core (its server transaction).
    branch: String,
    /// The INVITE as the core forwarded it (its client transaction).
    sent: SipMessage,
    /// The INVITE as it reached the core (what the core's own answers copy).
    got: Txn,
    /// Where the INVITE went.
    to: Node,
    /// The PF's number of its INVITE (the arrival of an answer the core makes itself).
    inv: Option<u32>,
    /// A provisional response came back (Proceeding, §17.1.1.2; a CANCEL may go, §9.1).
    provisional: bool,
    /// A final response came back or the core answered itself.
    done: bool,
    /// A CANCEL came from upstream before any provisional response from downstream.
    cancel_waiting: bool,
    /// The handle of its own Timer B towards Carol (stopped by any response from her).
    timer: Option<u32>,
}

/// The core's configuration: what it is told, not what it sees.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoreConfig {
    /// How it treats transactions (the scenario's `ims_core`, not in the CR).
    pub mode: ImsCore,
    /// RFC 3261's T1 (ms), for its own Timer B (64×T1).
    pub t1_ms: u64,
    /// Build wire texts.
    pub wire: bool,
}

/// One thing that reaches the core.
#[derive(Debug)]
pub(crate) enum CoreInput {
    /// A SIP message between Carol's client and her PF reaches its proxies.
    Message(Box<CoreHop>),
    /// Carol's P-CSCF has (true) or has lost (false) her device's signalling connection.
    CarolReachable(bool),
    /// Whether the P-CSCF still has the signalling connection of Carol's device `Node` (her
    /// phone or, issue 11 Q15, her tablet).
    DeviceReachable(Node, bool),
    /// One of its timers fired.
    Timer(CoreTimer),
}

/// A timer of the core, named by its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CoreTimer {
    /// RFC 3261 §17.1.1.2: the INVITE transaction `txn` it forwarded to Carol has had no
    /// response for 64×T1.
    TimerB { txn: u32 },
}

impl CoreTimer {
    /// The timer's name on the ladder.
    pub(crate) fn name(self) -> &'static str {
        "Timer B (IMS core)"
    }
    /// The clause the timer comes from.
    pub(crate) fn clause(self) -> &'static str {
        "RFC 3261 §17.1.1.2"
    }
}

/// One thing the core wants done, in order.
#[derive(Debug)]
pub(crate) enum CoreOutput {
    /// Send a SIP message out of the core to `to` (its text, empty without wire texts; its
    /// ladder label; what it cites; its arrival there).
    Sip { to: Node, raw: String, label: Cow<'static, str>, clauses: Clauses, note: &'static str, arrival: Option<Box<Arrival>> },
    /// Arm timer `handle` for `ms` with its reason.
    Arm { handle: u32, timer: CoreTimer, ms: u64 },
    /// Stop timer `handle`.
    Stop { handle: u32 },
}

/// Carol's IMS core: her P-CSCF and S-CSCF (module doc).
#[derive(Debug)]
pub(crate) struct Core {
    cfg: CoreConfig,
    /// The INVITE transactions it proxies.
    txns: Vec<CoreTxn>,
    /// What the P-CSCF knows of Carol's signalling connection.
    carol_reachable: bool,
    /// The same for her tablet (issue 11, Q15).
    tablet_reachable: bool,
    /// The time of the input being handled.
    now: Time,
    /// Its timer handles handed out so far, and the ones armed.
    reasons: Reasons<CoreTimer>,
    armed: Armed,
    /// What it wants done, in order.
    out: Vec<CoreOutput>,
}

impl Core {
    /// The core at the start of a run (Carol registered and reachable).
    pub(crate) fn new(cfg: CoreConfig) -> Self {
        Core {
            cfg,
            txns: Vec::new(),
            carol_reachable: true,
            tablet_reachable: true,
            now: 0,
            reasons: Reasons::default(),
            armed: Armed::default(),
            out: Vec::new(),
        }
    }

    /// Whether it builds wire texts (set before the run starts).
    pub(crate) fn cfg_wire(&mut self, wire: bool) {
        self.cfg.wire = wire;
    }

    /// Whether this run builds wire texts: asked for and compiled in (feature `wire-text`; the
    /// page's first wasm module leaves the text-only proxy work out).
    #[inline]
    fn wire(&self) -> bool {
        cfg!(feature = "wire-text") && self.cfg.wire
    }
}

impl Machine for Core {
    type Input = CoreInput;
    type Output = CoreOutput;
    type Timer = CoreTimer;

    fn handle(&mut self, now: Time, input: CoreInput) {
        self.now = now;
        match input {
            CoreInput::Message(hop) => self.gets(*hop),
            CoreInput::CarolReachable(r) | CoreInput::DeviceReachable(Node::Carol, r) => self.carol_reachable = r,
            CoreInput::DeviceReachable(_, r) => self.tablet_reachable = r,
            CoreInput::Timer(t) => {
                self.reasons.fired(&mut self.armed, now, t);
                let CoreTimer::TimerB { txn } = t;
                self.timer_b(txn);
            }
        }
    }

    fn poll_output(&mut self, into: &mut Vec<CoreOutput>) {
        debug_assert!(into.is_empty());
        std::mem::swap(into, &mut self.out);
    }

    fn poll_timeout(&self) -> Option<(Time, CoreTimer)> {
        self.reasons.next(&self.armed)
    }
}

/// The top Via's branch parameter.
/// One of Carol's devices (her phone, or her tablet: issue 11, Q15).
fn carol_side(n: Node) -> bool {
    matches!(n, Node::Carol | Node::Tablet)
}

fn top_branch(m: &SipMessage) -> String {
    m.header("Via").and_then(|v| crate::strs::second(v, ";branch=")).map(|b| b.split([';', ',']).next().unwrap_or("").to_string()).unwrap_or_default()
}

/// The branch a proxy derives from the incoming one (`p` or `s`: §16.11 allows a function of the
/// request; the same request, a CANCEL or a non-2xx ACK of it, gets the same branch).
fn derived(branch: &str, p: char) -> String {
    let rest = branch.strip_prefix("z9hG4bK").unwrap_or(branch);
    format!("z9hG4bK{p}{rest}")
}

fn via(host: &str, branch: &str) -> String {
    format!("SIP/2.0/TCP {host}:5060;branch={branch}")
}

const PCSCF_HOST: &str = "pcscf.ims.example.net";

/// A dialog-forming request (INVITE or SUBSCRIBE outside a dialog): the proxies Record-Route it.
fn forming(m: &SipMessage) -> bool {
    matches!(m.method(), Some("INVITE" | "SUBSCRIBE")) && !m.header("To").is_some_and(|t| crate::strs::contains(t, ";tag="))
}

/// Whether a Route entry names one of the core's proxies.
fn names_core(entry: &str) -> bool {
    crate::strs::contains(entry, "pcscf.ims.example.net") || crate::strs::contains(entry, "scscf.ims.example.net")
}

impl Core {
    fn stateful(&self) -> bool {
        self.cfg.mode != ImsCore::Stateless
    }

    /// A message reached the core: proxy it (module doc).
    fn gets(&mut self, hop: CoreHop) {
        match hop.msg.start {
            StartLine::Response { code, .. } => self.core_response(hop, code),
            StartLine::Request { .. } => self.core_request(hop),
        }
    }

    fn core_txn(&mut self, branch: &str) -> Option<usize> {
        self.txns.iter().rposition(|t| t.branch == branch)
    }

    fn core_request(&mut self, hop: CoreHop) {
        let method = hop.msg.method().unwrap_or("").to_string();
        let branch = top_branch(&hop.msg);
        if self.stateful() && method == "ACK" && self.core_txn(&branch).is_some() {
            // The ACK of a non-2xx final response (it shares the INVITE's branch) ends at the
            // first proxy (§17.2.1); the core acknowledged downstream itself.
            return;
        }
        if self.stateful() && method == "CANCEL" {
            return self.core_cancel(hop, branch);
        }
        let fwd = self.proxy_request(&hop.msg, hop.to);
        let invite = method == "INVITE";
        let reachable = match hop.to {
            Node::Carol => self.carol_reachable,
            Node::Tablet => self.tablet_reachable,
            _ => true,
        };
        let inv = match &hop.arrival {
            Some(Arrival::PfInviteAtCarol { inv, .. }) => Some(*inv),
            _ => None,
        };
        if invite && self.stateful() {
            let got = Txn::of(&hop.msg);
            if carol_side(hop.to) && !reachable && self.cfg.mode == ImsCore::Answers480 {
                // The P-CSCF has lost Carol's signalling connection and rejects the request
                // until she registers again (the digest's Q5; 24.229 §5.2.6.3).
                let r = response(480, &got, Some("ims-480"));
                self.txns.push(CoreTxn { branch, sent: fwd, got, to: hop.to, inv, provisional: false, done: true, cancel_waiting: false, timer: None });
                self.sip_from_core(
                    hop.from,
                    &r,
                    cl!["RFC 3261 §16.7", "3GPP TS 24.229 §5.2.6.3"],
                    "The IMS core cannot reach Carol (her P-CSCF has no connection to her device) and answers the INVITE itself: 480.",
                    inv.map(|inv| Arrival::CarolRespAtPf { inv, code: 480, txn: Txn::of(&r) }),
                );
                return;
            }
            // 100 Trying on the hop it came from (§16.2, §17.2.1): the PF's Timer B stops.
            let r = response(100, &got, None);
            let back = match hop.from {
                Node::Pf => inv.map(|inv| Arrival::CarolRespAtPf { inv, code: 100, txn: Txn::of(&r) }),
                _ => Some(Arrival::PfTryingAtCarol),
            };
            self.sip_from_core(
                hop.from,
                &r,
                cl!["RFC 3261 §16.2", "RFC 3261 §17.2.1"],
                "The IMS core takes the INVITE on: 100 Trying on the hop it came from.",
                back,
            );
            let id = self.txns.len() as u32;
            let timer = carol_side(hop.to).then(|| self.arm(CoreTimer::TimerB { txn: id }, 64 * self.cfg.t1_ms));
            self.txns.push(CoreTxn { branch, sent: fwd.clone(), got, to: hop.to, inv, provisional: false, done: false, cancel_waiting: false, timer });
        }
        self.forward(hop.to, &fwd, hop.arrival, true, &hop.clauses);
    }

    /// CANCEL at a transaction-stateful core: answered on its hop (§9.2, §16.10), and a CANCEL of
    /// the core's own for the INVITE it forwarded once that has had a provisional response (§9.1).
    fn core_cancel(&mut self, hop: CoreHop, branch: String) {
        let got = Txn::of(&hop.msg);
        let r = response(200, &got, Some("ims-c"));
        self.sip_from_core(hop.from, &r, cl!["RFC 3261 §16.10", "RFC 3261 §9.2"], "The IMS core accepts the CANCEL on its hop.", None);
        let Some(t) = self.core_txn(&branch) else { return };
        if self.txns[t].done {
            return;
        }
        if !self.txns[t].provisional {
            self.txns[t].cancel_waiting = true;
            return;
        }
        let c = self.core_cancel_text(t);
        let to = self.txns[t].to;
        let arrival = hop.arrival;
        self.forward(to, &c, arrival, true, &hop.clauses);
    }

    /// The core's CANCEL (or, with `ack`, its ACK of a non-2xx) for the INVITE it forwarded:
    /// its top Via, Request-URI, Route, From, To, Call-ID and CSeq number (§9.1, §17.1.1.3).
    fn core_own(&self, t: usize, method: &'static str, to: Option<&str>) -> SipMessage {
        let s = &self.txns[t].sent;
        let mut m = SipMessage::request(
            method,
            match &s.start {
                StartLine::Request { uri, .. } => uri.clone(),
                _ => String::new(),
            },
        );
        m.push("Via", s.header("Via").unwrap_or("").to_string());
        if let Some(r) = s.header("Route") {
            m.push("Route", r.to_string());
        }
        m.push("Max-Forwards", "70");
        m.push("From", s.header("From").unwrap_or("").to_string());
        m.push("To", to.map_or_else(|| s.header("To").unwrap_or("").to_string(), str::to_string));
        m.push("Call-ID", s.header("Call-ID").unwrap_or("").to_string());
        let n = s.header("CSeq").and_then(|c| c.split_whitespace().next()).unwrap_or("1");
        m.push("CSeq", format!("{n} {method}"));
        m
    }

    fn core_cancel_text(&self, t: usize) -> SipMessage {
        self.core_own(t, "CANCEL", None)
    }

    fn core_response(&mut self, hop: CoreHop, code: u16) {
        let stateful = self.stateful();
        let invite = hop.msg.method() == Some("INVITE");
        if stateful && code == 100 {
            return; // a 100 ends at the proxy (§16.7 step 5)
        }
        if stateful && hop.msg.method() == Some("CANCEL") {
            return; // the answer to the core's own CANCEL
        }
        // The branch of the core's edge Via on this response names its transaction.
        let edge_branch = top_branch(&hop.msg);
        let mut fwd = hop.msg.clone();
        let mut removed = 0;
        fwd.headers.retain(|(n, v)| {
            if removed < 2 && n.eq_ignore_ascii_case("Via") && (crate::strs::contains(v, PCSCF_HOST) || crate::strs::contains(v, SCSCF_HOST)) {
                removed += 1;
                return false;
            }
            true
        });
        if stateful && invite {
            if let Some(t) = self.txns.iter().rposition(|t| top_branch(&t.sent) == edge_branch) {
                if let Some(handle) = self.txns[t].timer.take() {
                    self.stop(handle);
                }
                if code < 200 {
                    self.txns[t].provisional = true;
                    if std::mem::take(&mut self.txns[t].cancel_waiting) && !self.txns[t].done {
                        let c = self.core_cancel_text(t);
                        let to = self.txns[t].to;
                        let inv = self.txns[t].inv;
                        let arrival = match to {
                            Node::Carol | Node::Tablet => inv.map(|inv| Arrival::CancelAtCarol { inv, txn: Txn::of(&c) }),
                            _ => Some(Arrival::CarolCancelAtPf { txn: Txn::of(&c) }),
                        };
                        self.forward(hop.to, &fwd, hop.arrival, false, &hop.clauses);
                        self.forward(to, &c, arrival, true, &cl!["RFC 3261 §9.1"]);
                        return;
                    }
                } else {
                    let was_done = std::mem::replace(&mut self.txns[t].done, true);
                    if was_done && code >= 300 {
                        return; // the core already answered upstream itself
                    }
                    if code >= 300 {
                        // The core acknowledges a failure on its hop itself (§17.1.1.3).
                        let ack = self.core_own(t, "ACK", hop.msg.header("To"));
                        self.sip_from_core(hop.from, &ack, cl!["RFC 3261 §17.1.1.3"], "The IMS core acknowledges the failure response on its hop.", None);
                    }
                }
            }
        }
        self.forward(hop.to, &fwd, hop.arrival, false, &hop.clauses);
    }

    /// The core's own Timer B on an INVITE towards Carol fired: with no answer from her, it
    /// answers the PF `408 Request Timeout` (§16.7 step 2, §16.8) unless it is stateless.
    fn timer_b(&mut self, t: u32) {
        let t = t as usize;
        let Some(tx) = self.txns.get(t) else { return };
        if tx.done || tx.provisional {
            return;
        }
        let got = tx.got.clone();
        let inv = tx.inv;
        self.txns[t].done = true;
        let r = response(408, &got, Some("ims-408"));
        self.sip_from_core(
            Node::Pf,
            &r,
            cl!["RFC 3261 §16.8", "RFC 3261 §17.1.1.2"],
            "Carol's client never answered the INVITE within 64×T1: the IMS core's own transaction times out and it answers the PF 408 Request Timeout.",
            inv.map(|inv| Arrival::CarolRespAtPf { inv, code: 408, txn: Txn::of(&r) }),
        );
    }

    /// The request as the two proxies forward it towards `to` (module doc).
    fn proxy_request(&self, m: &SipMessage, to: Node) -> SipMessage {
        let mut f = m.clone();
        let branch = top_branch(m);
        let (first, second) = if to == Node::Pf { ((PCSCF_HOST, 'p'), (SCSCF_HOST, 's')) } else { ((SCSCF_HOST, 's'), (PCSCF_HOST, 'p')) };
        f.headers.insert(0, (Cow::Borrowed("Via"), via(first.0, &derived(&branch, first.1))));
        f.headers.insert(0, (Cow::Borrowed("Via"), via(second.0, &derived(&branch, second.1))));
        if !self.wire() {
            // Without wire texts only the Via matters (it names the core's transactions); the
            // rest shows in the text alone, and the page's first module leaves its code out.
            return f;
        }
        // Loose routing (§16.4): the Route entries that name the core are its own to consume.
        if let Some(pos) = f.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case("Route")) {
            let all = joined(&f, "Route").unwrap_or_default();
            f.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Route"));
            let rest: Vec<&str> = crate::strs::split(&all, ", ").skip_while(|e| names_core(e)).collect();
            if !rest.is_empty() {
                f.headers.insert(pos, (Cow::Borrowed("Route"), rest.join(", ")));
            }
        }
        if let Some(mf) = f.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case("Max-Forwards")) {
            mf.1 = mf.1.trim().parse::<u32>().map_or(mf.1.clone(), |n| n.saturating_sub(2).to_string());
        }
        // The terminating S-CSCF sends a request for Carol's AOR to her registered contact.
        if let StartLine::Request { uri, .. } = &mut f.start {
            if to == Node::Carol && uri == CAROL {
                *uri = CAROL_CONTACT_URI.to_string();
            }
        }
        if forming(m) {
            // Record-Route (§16.6 step 4), under the Via entries: the second proxy's entry on top.
            let (a, b) = if to == Node::Pf { (SCSCF_RR, PCSCF_RR) } else { (PCSCF_RR, SCSCF_RR) };
            let at = f.headers.iter().rposition(|(n, _)| n.eq_ignore_ascii_case("Via")).map_or(0, |i| i + 1);
            f.headers.insert(at, (Cow::Borrowed("Record-Route"), format!("{a}, {b}")));
        }
        f
    }

    /// Records the core's hop towards `to` (half a hop's latency) and schedules `arrival` there,
    /// with the transaction as it arrives (the proxies' Via and Record-Route in it).
    fn forward(&mut self, to: Node, m: &SipMessage, arrival: Option<Arrival>, request: bool, cites: &Clauses) {
        let forming = request && forming(m);
        // The page's first wasm module carries no step notes (feature `note-text`), so these
        // texts are left out of it too.
        let note: &'static str = if !cfg!(feature = "note-text") {
            ""
        } else {
            match (to, request, forming) {
            (Node::Pf, true, true) => "The IMS core passes the request on to Carol's PF, an AS on her path: P-CSCF, then S-CSCF, each consuming its Route entry and adding its Via and Record-Route.",
            (Node::Pf, true, false) => "The IMS core passes the request on to Carol's PF: P-CSCF, then S-CSCF, each consuming its Route entry and adding its Via.",
            (_, true, true) => "The IMS core passes the request on to Carol's client: S-CSCF (her AOR retargeted to her registered contact), then P-CSCF, each consuming its Route entry and adding its Via and Record-Route.",
            (_, true, false) => "The IMS core passes the request on to Carol's client: S-CSCF, then P-CSCF, each consuming its Route entry and adding its Via.",
            (Node::Pf, false, _) => "The IMS core passes the response on to Carol's PF along the Via (S-CSCF, then P-CSCF remove theirs).",
            (_, false, _) => "The IMS core passes the response on to Carol's client along the Via (P-CSCF, then S-CSCF remove theirs).",
            }
        };
        let arrival = arrival.map(|mut a| {
            if let Some(t) = a.txn_mut() {
                let route = t.route.take();
                *t = Txn::of(m);
                if !request {
                    t.route = route; // what the sender keeps for its ACK (not on the wire)
                }
            }
            a
        });
        let own: &[&'static str] = match (to, request) {
            (Node::Pf, true) => &["RFC 3261 §16.6", "3GPP TS 24.229 §5.4.3.2"],
            (_, true) => &["RFC 3261 §16.6", "3GPP TS 24.229 §5.4.3.3"],
            _ => &["RFC 3261 §16.7"],
        };
        let clauses: Clauses = Cow::Owned(cites.iter().copied().chain(own.iter().copied().filter(|c| !cites.contains(c))).collect());
        self.sip_from_core(to, m, clauses, note, arrival);
    }

    /// Sends `m` out of the core towards `to` (its arrival there is `arrival`). Inlined, so that
    /// without feature `note-text` (the page's first wasm module) the callers' notes are dead text.
    #[inline(always)]
    fn sip_from_core(&mut self, to: Node, m: &SipMessage, clauses: Clauses, note: &'static str, arrival: Option<Arrival>) {
        let note = if cfg!(feature = "note-text") { note } else { "" };
        let raw = if self.wire() { m.emit() } else { String::new() };
        // Boxed here, where the world would box it for its event queue anyway.
        self.out.push(CoreOutput::Sip { to, raw, label: m.label_cow(), clauses, note: crate::trace::note_str(note), arrival: arrival.map(Box::new) });
    }

    /// Arms timer `t` for `ms`; returns its handle.
    fn arm(&mut self, t: CoreTimer, ms: u64) -> u32 {
        let handle = self.reasons.add(t);
        self.armed.arm(handle, self.now + ms);
        self.out.push(CoreOutput::Arm { handle, timer: t, ms });
        handle
    }

    /// Stops timer `handle` (no effect if it already fired or stopped).
    fn stop(&mut self, handle: u32) {
        self.armed.stop(handle);
        self.out.push(CoreOutput::Stop { handle });
    }
}
