//! A semantic checker of a trace's wire texts: what a real SIP or MSRP peer would act on beyond
//! the grammar (issue 10). It reads only the steps (sender lane, receiver lane, send and arrival
//! times, text), so it judges any trace, a simulated one or, later, one read from a capture.
//!
//! SIP (RFC 3261): Content-Length; Via branch uniqueness and its reuse by CANCEL and the ACK of a
//! non-2xx (§8.1.1.7, §9.1, §17.1.1.3); responses copying Via, From, To, Call-ID and CSeq
//! (§8.2.6.2); dialog tags and CSeq per direction (§12.2.1.1); the ACK of a 2xx carrying the
//! 2xx's To tag and sent to its Contact (§13.2.2.4, §12.2.1.1); CANCEL only after a provisional
//! response (§9.1) with the INVITE's Route; Contact in the requests and responses that need it
//! (§8.1.1.8, RFC 6665 §4.1.2 and §4.2.2, RFC 3311 §5.1); Session-Expires answered (RFC 4028
//! §9); conference-info `version` per subscription (RFC 4575 §4.1 and §5.1); a distinct SDP
//! `o=` per session (RFC 8866 §5.2).
//!
//! MSRP (RFC 4975): parse (Byte-Range totals, end-line); the chunks of one Message-ID from one
//! sender with one total and no gap before a chunk (§5.1, §7.1.1); a response's To-Path and From-Path
//! mirroring its request's (§7.2); a SEND only over a session its sender has negotiated and not
//! ended, between the two paths of that session's SDP; the first message of a session sent by
//! its `a=setup:active` side as a SEND (§5.4, RFC 6135).

use crate::trace::{Protocol, Step, Trace};
use crate::wire::msrp::{self, MsrpStart};
use crate::wire::sip::{SipMessage, StartLine};
use std::collections::{HashMap, HashSet};

/// The rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The text does not parse (or Content-Length / Byte-Range does not match the body).
    Parse,
    /// A new request reuses a Via branch (RFC 3261 §8.1.1.7).
    BranchReuse,
    /// A response matches no request sent the other way (RFC 3261 §17.1.3).
    ResponseWithoutRequest,
    /// A response does not copy Via, From, To, Call-ID or CSeq (RFC 3261 §8.2.6.2).
    ResponseCopy,
    /// An in-dialog request's tags name no dialog (RFC 3261 §12.2.1.1).
    DialogTags,
    /// CSeq does not increase within one direction of a dialog (RFC 3261 §12.2.1.1).
    CseqOrder,
    /// The ACK of a 2xx: wrong To tag, no 2xx, or not sent to the 2xx's Contact (RFC 3261 §13.2.2.4).
    Ack2xx,
    /// The ACK of a non-2xx does not match the INVITE and the answer (RFC 3261 §17.1.1.3).
    AckNon2xx,
    /// A CANCEL that matches no INVITE, comes before any provisional response or drops the Route
    /// (RFC 3261 §9.1).
    Cancel,
    /// Contact missing where it is required.
    Contact,
    /// Session-Expires asked for and not answered (RFC 4028 §9).
    SessionExpires,
    /// conference-info `version` does not start at 1 and grow by 1 within a subscription (RFC 4575 §5.1).
    ConferenceVersion,
    /// The same SDP `o=` username and session id in two sessions (RFC 8866 §5.2).
    SdpOrigin,
    /// An MSRP response whose paths do not mirror its request's, or that answers nothing (RFC 4975 §7.2).
    MsrpResponse,
    /// An MSRP message outside a negotiated, live session of its sender (RFC 4975 §5.4, §8).
    MsrpSession,
    /// A session's first MSRP message not a SEND from its active side (RFC 4975 §5.4, RFC 6135).
    MsrpDirection,
    /// Chunks of one message (one sender, one Message-ID) with two totals, or a chunk that
    /// starts past every byte sent before it (RFC 4975 §5.1, §7.1.1).
    MsrpChunks,
    /// Routing (RFC 3261 §16.4, §16.6, §12.1, §12.2.1.1): a request sent to another lane than the
    /// one its top Route entry names; a proxy that does not consume the Route entries naming it
    /// or does not Record-Route a dialog-forming request; an 18x/2xx that does not copy the
    /// request's Record-Route; an in-dialog request whose Route is not its sender's route set
    /// or whose Request-URI is not the remote target.
    Routing,
}

/// One thing a real peer would object to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The step that breaks the rule.
    pub step: u32,
    /// Which rule.
    pub rule: Rule,
    /// What is wrong, in one sentence.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: {:?}: {}", self.step, self.rule, self.detail)
    }
}

/// Checks every SIP and MSRP text of `trace` (steps without text, e.g. the page's fast path, are
/// skipped). An empty list means no finding.
pub fn check(trace: &Trace) -> Vec<Finding> {
    // Proxy lanes (role "ims"), and which lane each Via host is (the top Via of what a lane sends).
    let mut c = Checker { proxies: trace.lanes.iter().filter(|l| l.role == "ims").map(|l| l.id.to_string()).collect(), ..Checker::default() };
    for s in trace.steps.iter().filter(|s| s.protocol == Protocol::SIP && s.raw.starts_with(|ch: char| ch.is_ascii_uppercase()) && !s.raw.starts_with("SIP/")) {
        for line in s.raw.split("\r\n").take_while(|l| !l.is_empty()).filter(|l| l.starts_with("Via: ")) {
            let host = via_host(line.trim_start_matches("Via: "));
            c.hosts.entry(host).or_insert_with(|| s.from.to_string());
            if !c.proxies.contains(&s.from.to_string()) {
                break; // a UA's own Via only; a proxy's entries are on top of the ones it got
            }
        }
    }
    for s in &trace.steps {
        if s.raw.is_empty() {
            continue;
        }
        match s.protocol {
            Protocol::SIP => c.sip(s),
            Protocol::MSRP => c.msrp(s),
            Protocol::None => {}
        }
    }
    c.out
}

/// The value of a `;name=` parameter in a header value.
fn param<'a>(v: &'a str, name: &str) -> Option<&'a str> {
    let after = v.rsplit_once('>').map_or(v, |(_, a)| a);
    after.split(';').skip(1).find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| val.trim())
    })
}

/// The URI inside `<…>` (or the whole value up to its parameters).
fn uri(v: &str) -> &str {
    match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v).trim(),
    }
}

/// The host of a Via value (`SIP/2.0/TCP host:port;…`) or of a URI (`<sip:user@host:port;…>`).
fn via_host(v: &str) -> String {
    let sent_by = v.split_whitespace().nth(1).unwrap_or("");
    sent_by.split([';', ':']).next().unwrap_or("").to_string()
}

fn uri_host(v: &str) -> String {
    let u = uri(v);
    let u = u.strip_prefix("sip:").or_else(|| u.strip_prefix("sips:")).unwrap_or(u);
    let u = u.rsplit_once('@').map_or(u, |(_, h)| h);
    u.split([';', ':', '>']).next().unwrap_or("").to_string()
}

/// The entries of a list header (Route, Record-Route) over all its lines, top first.
fn entries(lines: &[String]) -> Vec<String> {
    lines.iter().flat_map(|l| l.split(", ").map(str::to_string)).filter(|e| !e.is_empty()).collect()
}

/// The value of a header without its `;tag=…`.
fn untagged(v: &str) -> String {
    match v.find(";tag=") {
        Some(i) => {
            let rest = &v[i + 5..];
            let end = rest.find(';').map_or(rest.len(), |j| j);
            format!("{}{}", &v[..i], &rest[end..])
        }
        None => v.to_string(),
    }
}

#[derive(Debug, Clone)]
struct Req {
    from_lane: String,
    to_lane: String,
    method: String,
    ruri: String,
    vias: Vec<String>,
    from: String,
    to: String,
    call_id: String,
    cseq: String,
    cseq_n: u32,
    routes: Vec<String>,
    /// Record-Route entries, top first.
    rr: Vec<String>,
    /// The lane of the UA that sent the request first (itself, or the sender of what a proxy forwarded).
    origin: String,
    /// A proxy forwarded it (it is another hop of a request already checked).
    forwarded: bool,
    contact: Option<String>,
    session_expires: bool,
    /// Arrival of the first provisional response at the requester.
    provisional: Option<u64>,
    /// Final responses: (code, To, Contact URI, arrival at the requester).
    finals: Vec<(u16, String, Option<String>, u64)>,
    sdp: Option<(String, String)>,
}

/// An MSRP session negotiated by an INVITE's offer and its 2xx's answer.
#[derive(Debug, Clone)]
struct Session {
    call_id: String,
    offerer: String,
    answerer: String,
    offer_path: String,
    answer_path: String,
    /// The lane that opens the connection and sends first.
    active: String,
    /// When the offerer (the 2xx's arrival) and the answerer (the 2xx's sending) may use it.
    usable_offerer: u64,
    usable_answerer: u64,
    /// When each side stopped: the BYE's sending (inclusive) or arrival (a message sent in that
    /// same millisecond still crossed it).
    ended: HashMap<String, (u64, bool)>,
    used: bool,
}

#[derive(Default)]
struct Checker {
    out: Vec<Finding>,
    reqs: Vec<Req>,
    /// Top Via branch → requests with it.
    branches: HashMap<String, Vec<usize>>,
    /// (Call-ID, From tag) → last CSeq number of a request other than ACK and CANCEL.
    cseq: HashMap<(String, String), u32>,
    /// Call-IDs whose dialog-creating request is in the trace.
    created: HashSet<String>,
    /// (Call-ID, tag, tag) of every dialog, tags sorted.
    dialogs: HashSet<(String, String, String)>,
    /// Subscription Call-ID → last conference-info version.
    versions: HashMap<String, u32>,
    /// SDP `o=` username and session id → the Call-ID it first appeared in.
    origins: HashMap<(String, String), String>,
    sessions: Vec<Session>,
    /// MSRP transaction id → (sender lane, receiver lane, To-Path, From-Path).
    msrp_reqs: HashMap<String, (String, String, String, String)>,
    /// (sender lane, Message-ID) of a chunked SEND → (its total, the end of the bytes sent).
    chunks: HashMap<(String, String), (u64, u64)>,
    /// Lanes that act as proxies (role "ims").
    proxies: HashSet<String>,
    /// Via host → the lane it belongs to.
    hosts: HashMap<String, String>,
    /// (Call-ID, lane) → that side's route set (RFC 3261 §12.1.1, §12.1.2).
    route_sets: HashMap<(String, String), Vec<String>>,
    /// (Call-ID, lane) → that side's remote target (the peer's Contact URI).
    targets: HashMap<(String, String), String>,
}

fn dialog_key(call_id: &str, a: &str, b: &str) -> (String, String, String) {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    (call_id.to_string(), x.to_string(), y.to_string())
}

/// The first `a=path` and `a=setup` of an SDP in a body (plain or multipart).
fn sdp_of(body: &str) -> Option<(String, String)> {
    let path = body.split("\r\n").find_map(|l| l.strip_prefix("a=path:"))?;
    let setup = body.split("\r\n").find_map(|l| l.strip_prefix("a=setup:"))?;
    Some((path.to_string(), setup.to_string()))
}

impl Checker {
    fn find(&mut self, step: &Step, rule: Rule, detail: impl Into<String>) {
        self.out.push(Finding { step: step.index, rule, detail: detail.into() });
    }

    fn sip(&mut self, s: &Step) {
        let m = match SipMessage::parse(&s.raw) {
            Ok(m) => m,
            Err(e) => return self.find(s, Rule::Parse, format!("SIP text does not parse: {e}")),
        };
        let h = |n: &str| m.header(n).unwrap_or("").to_string();
        let vias: Vec<String> = m.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Via")).map(|(_, v)| v.clone()).collect();
        let routes: Vec<String> = m.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Route")).map(|(_, v)| v.clone()).collect();
        let branch = vias.first().and_then(|v| param(v, "branch")).unwrap_or("").to_string();
        let (cseq, call_id) = (h("CSeq"), h("Call-ID"));
        let cseq_n: u32 = cseq.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let cseq_method = cseq.split_whitespace().nth(1).unwrap_or("").to_string();
        self.sdp_origins(s, &m.body, &call_id);
        match &m.start {
            StartLine::Request { method, uri: ruri } => {
                let method = method.to_string();
                if cseq_method != method {
                    self.find(s, Rule::Parse, format!("CSeq method {cseq_method} is not the request's {method}"));
                }
                let from_tag = param(&h("From"), "tag").unwrap_or("").to_string();
                let to_tag = param(&h("To"), "tag").map(str::to_string);
                let rr_lines: Vec<String> = m.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Record-Route")).map(|(_, v)| v.clone()).collect();
                // A request a proxy lane passes on: its Via list ends with the one it received.
                let got = if self.proxies.contains(&s.from.to_string()) && vias.len() > 1 {
                    self.reqs.iter().rposition(|r| r.to_lane == *s.from && r.method == method && vias.len() > r.vias.len() && vias.ends_with(&r.vias))
                } else {
                    None
                };
                let req = Req {
                    from_lane: s.from.to_string(),
                    to_lane: s.to.to_string(),
                    method: method.clone(),
                    ruri: ruri.clone(),
                    vias: vias.clone(),
                    from: h("From"),
                    to: h("To"),
                    call_id: call_id.clone(),
                    cseq: cseq.clone(),
                    cseq_n,
                    routes,
                    rr: entries(&rr_lines),
                    origin: got.map_or_else(|| s.from.to_string(), |g| self.reqs[g].origin.clone()),
                    forwarded: got.is_some(),
                    contact: m.header("Contact").map(|c| uri(c).to_string()),
                    session_expires: m.header("Session-Expires").is_some(),
                    provisional: None,
                    finals: Vec::new(),
                    sdp: if method == "INVITE" { sdp_of(&m.body) } else { None },
                };
                if matches!(method.as_str(), "INVITE" | "SUBSCRIBE" | "NOTIFY" | "UPDATE") && m.header("Contact").is_none() {
                    self.find(s, Rule::Contact, format!("{method} without Contact (RFC 3261 §8.1.1.8, RFC 6665 §4.1.2/§4.2.2, RFC 3311 §5.1)"));
                }
                self.routing(s, &req, got, to_tag.is_some());
                match method.as_str() {
                    "CANCEL" => self.cancel(s, &req, &branch),
                    "ACK" => self.ack(s, &req, &branch),
                    _ if req.forwarded => {}
                    _ => {
                        if self.branches.contains_key(&branch) {
                            self.find(s, Rule::BranchReuse, format!("{method} reuses Via branch {branch}"));
                        }
                        let key = (call_id.clone(), from_tag.clone());
                        if let Some(&last) = self.cseq.get(&key) {
                            if cseq_n <= last {
                                self.find(s, Rule::CseqOrder, format!("{method} CSeq {cseq_n} does not follow {last} in this direction"));
                            }
                        }
                        self.cseq.insert(key, cseq_n);
                        match &to_tag {
                            None => {
                                // A REFER may be sent outside a dialog (RFC 3515 §2.4.1; issue 11,
                                // Q9: Carol's tablet, with Refer-Sub: false, RFC 4488 §4).
                                if matches!(method.as_str(), "INVITE" | "SUBSCRIBE" | "REGISTER" | "REFER") {
                                    self.created.insert(call_id.clone());
                                } else {
                                    self.find(s, Rule::DialogTags, format!("{method} outside a dialog needs a dialog-creating method"));
                                }
                            }
                            Some(t) => {
                                let known = self.dialogs.contains(&dialog_key(&call_id, &from_tag, t));
                                // A NOTIFY may create the subscription's dialog (RFC 6665 §4.1.2.4).
                                let notify_creates = method == "NOTIFY"
                                    && self.reqs.iter().any(|r| r.method == "SUBSCRIBE" && r.call_id == call_id && param(&r.from, "tag") == Some(t.as_str()));
                                if notify_creates {
                                    self.dialogs.insert(dialog_key(&call_id, &from_tag, t));
                                } else if !known && self.created.contains(&call_id) {
                                    self.find(s, Rule::DialogTags, format!("{method} with tags {from_tag}/{t} matches no dialog of Call-ID {call_id}"));
                                } else if !known {
                                    // A dialog that existed before the trace started.
                                    self.created.insert(call_id.clone());
                                    self.dialogs.insert(dialog_key(&call_id, &from_tag, t));
                                }
                            }
                        }
                        if method == "BYE" {
                            self.end_sessions(&call_id, s);
                        }
                    }
                }
                if method == "NOTIFY" && !req.forwarded {
                    self.conference_version(s, &call_id, &m);
                }
                let i = self.reqs.len();
                self.branches.entry(branch).or_default().push(i);
                self.reqs.push(req);
            }
            StartLine::Response { code, .. } => self.response(s, *code, &m, &vias, &branch, &cseq_method),
        }
    }

    /// Rule::Routing for a request (the rule's doc).
    fn routing(&mut self, s: &Step, req: &Req, got: Option<usize>, in_dialog: bool) {
        let routes = entries(&req.routes);
        if let Some(lane) = routes.first().and_then(|e| self.hosts.get(&uri_host(e))) {
            if *lane != *s.to {
                let lane = lane.clone();
                self.find(s, Rule::Routing, format!("{} goes to {} but its top Route entry names {lane} (RFC 3261 §16.12, §12.2.1.1)", req.method, s.to));
            }
        }
        if let Some(g) = got {
            let r = &self.reqs[g];
            let added: HashSet<String> = req.vias[..req.vias.len() - r.vias.len()].iter().map(|v| via_host(v)).collect();
            let want: Vec<String> = entries(&r.routes).into_iter().skip_while(|e| added.contains(&uri_host(e))).collect();
            if routes != want {
                self.find(
                    s,
                    Rule::Routing,
                    format!(
                        "the proxy passes the {} on with Route {routes:?}, not {want:?}: it must consume the entries naming it (RFC 3261 §16.4)",
                        req.method
                    ),
                );
            }
            let forming = matches!(req.method.as_str(), "INVITE" | "SUBSCRIBE") && !in_dialog;
            if forming && added.iter().any(|h| !req.rr.iter().any(|e| uri_host(e) == *h)) {
                self.find(
                    s,
                    Rule::Routing,
                    format!(
                        "the proxy passes the dialog-forming {} on without its Record-Route (RFC 3261 §16.6 step 4, 3GPP TS 24.229 §5.2.6.3, §5.4.3.2)",
                        req.method
                    ),
                );
            }
            return;
        }
        if !in_dialog || matches!(req.method.as_str(), "CANCEL") {
            return;
        }
        let key = (req.call_id.clone(), s.from.to_string());
        let non2xx_ack = req.method == "ACK" && self.invite_by_branch(req.vias.first().and_then(|v| param(v, "branch")).unwrap_or(""), &s.from).is_some();
        if non2xx_ack {
            return;
        }
        if let Some(set) = self.route_sets.get(&key) {
            if routes != *set {
                let set = set.clone();
                self.find(s, Rule::Routing, format!("in-dialog {} with Route {routes:?}, not its route set {set:?} (RFC 3261 §12.2.1.1)", req.method));
            }
        }
        if let Some(t) = self.targets.get(&key) {
            if *t != req.ruri {
                let t = t.clone();
                self.find(s, Rule::Routing, format!("in-dialog {} to {} instead of the remote target {t} (RFC 3261 §12.2.1.1)", req.method, req.ruri));
            }
        }
    }

    fn sdp_origins(&mut self, s: &Step, body: &str, call_id: &str) {
        for line in body.split("\r\n") {
            if let Some(o) = line.strip_prefix("o=") {
                let mut f = o.split(' ');
                let key = (f.next().unwrap_or("").to_string(), f.next().unwrap_or("").to_string());
                match self.origins.get(&key) {
                    Some(c) if c != call_id => {
                        let c = c.clone();
                        self.find(s, Rule::SdpOrigin, format!("o={} {} was already used by the session of Call-ID {c}", key.0, key.1));
                    }
                    Some(_) => {}
                    None => {
                        self.origins.insert(key, call_id.to_string());
                    }
                }
            }
        }
    }

    fn conference_version(&mut self, s: &Step, call_id: &str, m: &SipMessage) {
        if !m.body.contains("<conference-info") {
            return;
        }
        let root = m.body.split("<conference-info").nth(1).unwrap_or("");
        let Some(v) = root.split(" version=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse::<u32>().ok()) else {
            return self.find(s, Rule::ConferenceVersion, "conference-info without a version");
        };
        let want = self.versions.get(call_id).map_or(1, |last| last + 1);
        if v != want {
            self.find(s, Rule::ConferenceVersion, format!("version {v} in this subscription where {want} is due (RFC 4575 §5.1)"));
        }
        self.versions.insert(call_id.to_string(), v);
    }

    /// The INVITE sent from `lane` with this branch.
    fn invite_by_branch(&self, branch: &str, lane: &str) -> Option<usize> {
        self.branches.get(branch)?.iter().copied().find(|&i| self.reqs[i].method == "INVITE" && self.reqs[i].from_lane == lane)
    }

    fn cancel(&mut self, s: &Step, c: &Req, branch: &str) {
        let Some(i) = self.invite_by_branch(branch, &c.from_lane) else {
            return self.find(s, Rule::Cancel, "CANCEL with the branch of no INVITE its sender sent (RFC 3261 §9.1)");
        };
        let inv = self.reqs[i].clone();
        if c.ruri != inv.ruri
            || c.from != inv.from
            || c.to != inv.to
            || c.call_id != inv.call_id
            || c.cseq_n != inv.cseq_n
            || c.vias.first() != inv.vias.first()
        {
            self.find(s, Rule::Cancel, "CANCEL does not copy the INVITE's Request-URI, top Via, From, To, Call-ID and CSeq number (RFC 3261 §9.1)");
        }
        if c.routes != inv.routes {
            self.find(s, Rule::Cancel, format!("CANCEL Route {:?} is not the INVITE's {:?} (RFC 3261 §9.1)", c.routes, inv.routes));
        }
        if inv.provisional.is_none_or(|t| t > s.at_ms) {
            self.find(s, Rule::Cancel, "CANCEL before any provisional response to the INVITE (RFC 3261 §9.1: MUST NOT)");
        }
    }

    fn ack(&mut self, s: &Step, a: &Req, branch: &str) {
        if let Some(i) = self.invite_by_branch(branch, &a.from_lane) {
            let inv = self.reqs[i].clone();
            let Some(fin) = inv.finals.iter().find(|f| f.0 >= 300) else {
                return self.find(s, Rule::AckNon2xx, "ACK in the INVITE transaction but no failure response reached the sender");
            };
            if a.to != fin.1 || a.from != inv.from || a.call_id != inv.call_id || a.cseq_n != inv.cseq_n || a.ruri != inv.ruri {
                self.find(
                    s,
                    Rule::AckNon2xx,
                    "ACK of a failure does not copy the INVITE's Request-URI, From, Call-ID, CSeq number and the answer's To (RFC 3261 §17.1.1.3)",
                );
            }
            if a.routes != inv.routes {
                self.find(s, Rule::AckNon2xx, format!("ACK Route {:?} is not the INVITE's {:?} (RFC 3261 §17.1.1.3)", a.routes, inv.routes));
            }
            return;
        }
        let inv = self
            .reqs
            .iter()
            .rev()
            .find(|r| {
                r.method == "INVITE"
                    && r.call_id == a.call_id
                    && r.cseq_n == a.cseq_n
                    && r.from_lane == a.from_lane
                    && param(&r.from, "tag") == param(&a.from, "tag")
            })
            .cloned();
        let Some(inv) = inv else {
            return self.find(s, Rule::Ack2xx, "ACK for no INVITE of its sender with this Call-ID and CSeq");
        };
        let Some(ok) = inv.finals.iter().find(|f| (200..300).contains(&f.0)) else {
            return self.find(s, Rule::Ack2xx, "ACK with a new branch but no 2xx reached the sender");
        };
        if param(&a.to, "tag") != param(&ok.1, "tag") {
            self.find(s, Rule::Ack2xx, format!("ACK To tag {:?} is not the 2xx's {:?} (RFC 3261 §13.2.2.4)", param(&a.to, "tag"), param(&ok.1, "tag")));
        }
        if let Some(contact) = &ok.2 {
            if &a.ruri != contact {
                self.find(s, Rule::Ack2xx, format!("ACK to {} instead of the 2xx's Contact {contact} (RFC 3261 §12.2.1.1)", a.ruri));
            }
        }
    }

    fn response(&mut self, s: &Step, code: u16, m: &SipMessage, vias: &[String], branch: &str, cseq_method: &str) {
        let Some(i) = self.branches.get(branch).and_then(|v| {
            v.iter().copied().rev().find(|&i| self.reqs[i].method == cseq_method && self.reqs[i].from_lane == *s.to && self.reqs[i].to_lane == *s.from)
        }) else {
            return self.find(s, Rule::ResponseWithoutRequest, format!("{code} to {cseq_method} matches no request sent {} → {}", s.to, s.from));
        };
        let req = self.reqs[i].clone();
        let h = |n: &str| m.header(n).unwrap_or("").to_string();
        if vias != req.vias.as_slice() || h("From") != req.from || h("Call-ID") != req.call_id || h("CSeq") != req.cseq {
            self.find(s, Rule::ResponseCopy, "the response does not copy the request's Via, From, Call-ID and CSeq (RFC 3261 §8.2.6.2)");
        }
        let to = h("To");
        let to_ok = if param(&req.to, "tag").is_some() { to == req.to } else { untagged(&to) == req.to && (code == 100 || param(&to, "tag").is_some()) };
        if !to_ok {
            self.find(s, Rule::ResponseCopy, format!("To {to:?} is not the request's {:?} with a tag added (RFC 3261 §8.2.6.2)", req.to));
        }
        let contact = m.header("Contact").map(|c| uri(c).to_string());
        if (200..300).contains(&code) && matches!(cseq_method, "INVITE" | "SUBSCRIBE") && contact.is_none() {
            self.find(s, Rule::Contact, format!("2xx to {cseq_method} without Contact (RFC 3261 §13.3.1, RFC 6665 §4.2.1)"));
        }
        if (200..300).contains(&code) && matches!(cseq_method, "INVITE" | "UPDATE") && req.session_expires && m.header("Session-Expires").is_none() {
            self.find(s, Rule::SessionExpires, format!("the {cseq_method} asked for a session timer and the 2xx carries no Session-Expires (RFC 4028 §9)"));
        }
        let rr: Vec<String> = entries(&m.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Record-Route")).map(|(_, v)| v.clone()).collect::<Vec<_>>());
        let forming = matches!(cseq_method, "INVITE" | "SUBSCRIBE") && param(&req.to, "tag").is_none();
        if forming && (101..300).contains(&code) && !self.proxies.contains(&s.from.to_string()) && rr != req.rr {
            self.find(s, Rule::Routing, format!("{code} to {cseq_method} with Record-Route {rr:?}, not the request's {:?} (RFC 3261 §12.1.1)", req.rr));
        }
        if forming && (200..300).contains(&code) && !req.forwarded {
            // The UAC's route set and remote target (§12.1.2) once the 2xx reaches it.
            let mut set = rr.clone();
            set.reverse();
            self.route_sets.insert((req.call_id.clone(), s.to.to_string()), set);
            if let Some(c) = &contact {
                self.targets.insert((req.call_id.clone(), s.to.to_string()), c.clone());
            }
        }
        if forming && (200..300).contains(&code) && !self.proxies.contains(&s.from.to_string()) {
            // The UAS's route set and remote target (§12.1.1).
            self.route_sets.insert((req.call_id.clone(), s.from.to_string()), req.rr.clone());
            if let Some(c) = &req.contact {
                self.targets.insert((req.call_id.clone(), s.from.to_string()), c.clone());
            }
        }
        let r = &mut self.reqs[i];
        if code < 200 {
            if r.provisional.is_none() {
                r.provisional = Some(s.arrive_ms);
            }
            return;
        }
        r.finals.push((code, to.clone(), contact, s.arrive_ms));
        if (200..300).contains(&code) && matches!(cseq_method, "INVITE" | "SUBSCRIBE") {
            let (ft, tt) = (param(&req.from, "tag").unwrap_or(""), param(&to, "tag").unwrap_or(""));
            self.dialogs.insert(dialog_key(&req.call_id, ft, tt));
            let from_proxy = self.proxies.contains(&s.from.to_string());
            if cseq_method == "INVITE" && from_proxy && !req.forwarded {
                // The 2xx a proxy passed on reaches the offerer: its session is usable now.
                if let Some(x) = self.sessions.iter_mut().rev().find(|x| x.call_id == req.call_id && x.offerer == *s.to && x.usable_offerer == u64::MAX) {
                    x.usable_offerer = s.arrive_ms;
                }
            }
            if cseq_method == "INVITE" && !from_proxy {
                if let (Some((op, _)), Some((ap, setup))) = (req.sdp.clone(), sdp_of(&m.body)) {
                    // A re-INVITE (RFC 3261 §14) that keeps the paths keeps the session and its
                    // connection (RFC 4975 §5.4), as does one on a dialog set up before the
                    // trace: no new session to open.
                    let in_dialog = param(&req.to, "tag").is_some();
                    let same =
                        |x: &Session| x.call_id == req.call_id && ((x.offer_path == op && x.answer_path == ap) || (x.offer_path == ap && x.answer_path == op));
                    if in_dialog && (self.sessions.iter().any(same) || !self.sessions.iter().any(|x| x.call_id == req.call_id)) {
                        return;
                    }
                    let active = if setup == "active" { s.from.to_string() } else { req.origin.clone() };
                    self.sessions.push(Session {
                        call_id: req.call_id.clone(),
                        offerer: req.origin.clone(),
                        answerer: s.from.to_string(),
                        offer_path: op,
                        answer_path: ap,
                        active,
                        usable_offerer: if req.forwarded { u64::MAX } else { s.arrive_ms },
                        usable_answerer: s.at_ms,
                        ended: HashMap::new(),
                        used: false,
                    });
                }
            }
        }
    }

    fn end_sessions(&mut self, call_id: &str, bye: &Step) {
        for ses in self.sessions.iter_mut().filter(|x| x.call_id == call_id) {
            ses.ended.entry(bye.from.to_string()).or_insert((bye.at_ms, true));
            ses.ended.entry(bye.to.to_string()).or_insert((bye.arrive_ms, false));
        }
    }

    fn msrp(&mut self, s: &Step) {
        let m = match msrp::parse(&s.raw) {
            Ok(m) => m,
            Err(e) => return self.find(s, Rule::Parse, format!("MSRP text does not parse: {e}")),
        };
        let (to, from) = (m.to_path.to_string(), m.from_path.to_string());
        let is_request = matches!(m.start, MsrpStart::Request(_));
        if let (Some((first, last, total)), Some(id)) = (m.byte_range, m.message_id.as_deref()) {
            let (t, end) = self.chunks.get(&(s.from.to_string(), id.to_string())).copied().unwrap_or((total, 0));
            if t != total || first > end + 1 {
                self.find(s, Rule::MsrpChunks, format!("chunk {first}-{last}/{total} of {id}: the chunks before it said /{t} and ended at byte {end}"));
            }
            self.chunks.insert((s.from.to_string(), id.to_string()), (t, end.max(last)));
        }
        if is_request {
            self.msrp_reqs.insert(m.tid.to_string(), (s.from.to_string(), s.to.to_string(), to.clone(), from.clone()));
        } else {
            match self.msrp_reqs.get(m.tid.as_ref()) {
                None => self.find(s, Rule::MsrpResponse, format!("response to transaction {} that no one sent", m.tid)),
                Some((sender, receiver, rt, rf)) => {
                    if *sender != *s.to || *receiver != *s.from || to != *rf || from != *rt {
                        self.find(s, Rule::MsrpResponse, "the response's To-Path/From-Path do not mirror its request's From-Path/To-Path hop (RFC 4975 §7.2)");
                    }
                }
            }
        }
        // A response answers what arrived (a SEND that crossed a BYE or a new offer included):
        // only requests must use a session their sender has negotiated and not ended.
        if !is_request {
            return;
        }
        // Which negotiated session these paths belong to, as the sender sees it now.
        let lane = s.from.to_string();
        let now = s.at_ms;
        let found = self.sessions.iter().rposition(|x| {
            let pair = (x.offer_path == to && x.answer_path == from) || (x.offer_path == from && x.answer_path == to);
            let usable = (x.offerer == lane && x.usable_offerer <= now) || (x.answerer == lane && x.usable_answerer <= now);
            pair && usable
        });
        let Some(i) = found else {
            // Paths of a session that exists (its 2xx was sent) but not yet, or no longer, for
            // this sender; paths of no answered session belong to one set up before the trace.
            let known = self.sessions.iter().any(|x| (x.offer_path == to && x.answer_path == from) || (x.offer_path == from && x.answer_path == to));
            if known {
                self.find(s, Rule::MsrpSession, format!("MSRP {from} → {to} over no session its sender has negotiated by now"));
            }
            return;
        };
        let ses = &mut self.sessions[i];
        if ses.ended.get(&lane).is_some_and(|&(t, sent)| t < now || (sent && t == now)) {
            let call_id = ses.call_id.clone();
            self.find(s, Rule::MsrpSession, format!("MSRP over the session of Call-ID {call_id}, which its sender had already ended"));
            return;
        }
        if !ses.used {
            ses.used = true;
            let (active, want) = (ses.active.clone(), matches!(&m.start, MsrpStart::Request(x) if x == "SEND"));
            if active != lane || !want {
                self.find(s, Rule::MsrpDirection, format!("the session's first MSRP message comes from {lane}, but {active} is the a=setup:active side that opens the connection and binds it with a SEND"));
            }
        }
    }
}
