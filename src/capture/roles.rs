//! Who is who in a captured CPM group session: Carol's client, her Participating Function
//! (PF), the Controlling Function (CF, the conference focus) and the S-CSCF, found from the
//! signalling (issue 14, "Roles"), or the PF given by the user (`--pf IP[:PORT]`).
//!
//! The evidence, strongest first (every step is inference from the documents, not a rule of
//! the CR, and is reported as such in [`Roles::evidence`]):
//! 1. **The 3rd-party REGISTER** (3GPP TS 24.229 §5.4.1.7): a REGISTER whose From is not its To
//!    (the S-CSCF registers the served user at the AS) or whose body is `message/sip`. Its
//!    receiver is the PF (the AS of §8.3.2.9's path A), its sender the S-CSCF, its To
//!    Carol's public identity.
//! 2. **The conference URI**: the URI of a Contact with the `isfocus` feature parameter
//!    (RFC 4579 §4.2, RFC 3840). Requests whose Request-URI is it go from Carol's side through
//!    her PF to the CF (OMA CPM Conversation Functions §8.2.2: the PF relays to the CF): the PF
//!    is a node that both receives and sends such requests (a relay); the CF is the node that
//!    receives them and sends none; with no relay seen, the one node sending them to the CF.
//! 3. **SDP paths** (RFC 4975 §8.1 `a=path`): the first MSRP URI of an INVITE that reaches the
//!    PF for the conference names Carol's client even when proxies carried the INVITE (used
//!    when that address is seen in the capture, e.g. on her MSRP connection; else the sender).
//!
//! Nodes are IP addresses; when every SIP packet of the capture has one IP (a loopback
//! capture), nodes are IP and port instead (SIP over UDP: the ports the nodes listen on; over
//! TCP the connecting side's port is ephemeral, so give `--pf IP:PORT` there).

use super::{CapturedMessage, WireMessage};
use crate::wire::sip::{SipMessage, StartLine};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Distinct (sender, receiver, Request-URI) triples remembered; beyond, new ones are counted only.
pub const MAX_EDGES: usize = 20_000;

/// A node of the capture: an IP address, or an IP address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// The address.
    pub ip: IpAddr,
    /// The port, when the node is told apart by it.
    pub port: Option<u16>,
}

impl Node {
    /// Whether `a` is this node.
    pub fn matches(&self, a: SocketAddr) -> bool {
        a.ip() == self.ip && self.port.is_none_or(|p| p == a.port())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.port, self.ip) {
            (None, ip) => write!(f, "{ip}"),
            (Some(p), IpAddr::V6(ip)) => write!(f, "[{ip}]:{p}"),
            (Some(p), ip) => write!(f, "{ip}:{p}"),
        }
    }
}

impl std::str::FromStr for Node {
    type Err = RolesError;

    /// `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address.
    fn from_str(s: &str) -> Result<Node, RolesError> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Node { ip, port: None });
        }
        match s.parse::<SocketAddr>() {
            Ok(a) => Ok(Node { ip: a.ip(), port: Some(a.port()) }),
            Err(_) => Err(RolesError::BadPf(s.to_string())),
        }
    }
}

/// A role of §8.3.2.9's exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Carol's client (or the last proxy before her PF, when only the PF's side was captured).
    Carol,
    /// Carol's Participating Function.
    Pf,
    /// The Controlling Function (conference focus).
    Cf,
    /// The S-CSCF that sends the 3rd-party REGISTER.
    Scscf,
}

impl Role {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Carol => "carol",
            Role::Pf => "pf",
            Role::Cf => "cf",
            Role::Scscf => "scscf",
        }
    }
}

/// Why a node was given a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The role.
    pub role: Role,
    /// The frame of the message that shows it (0 when given by the user).
    pub frame: u64,
    /// What was seen.
    pub why: String,
}

/// The roles found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// Carol's PF.
    pub pf: Node,
    /// The CF, when the capture shows it.
    pub cf: Option<Node>,
    /// Carol's client (or the proxy before the PF), when the capture shows it.
    pub carol: Option<Node>,
    /// The S-CSCF, when the capture has the 3rd-party REGISTER.
    pub scscf: Option<Node>,
    /// The conference (group session) URI, from a Contact with `isfocus`.
    pub conference_uri: Option<String>,
    /// Carol's public identity (the 3rd-party REGISTER's To).
    pub carol_aor: Option<String>,
    /// The reasons, one or more per role found.
    pub evidence: Vec<Evidence>,
}

impl Roles {
    /// The role of the endpoint `a`, if any.
    pub fn role_of(&self, a: SocketAddr) -> Option<Role> {
        [(Some(self.pf), Role::Pf), (self.cf, Role::Cf), (self.scscf, Role::Scscf), (self.carol, Role::Carol)]
            .into_iter()
            .find_map(|(n, r)| n.filter(|n| n.matches(a)).map(|_| r))
    }
}

/// Why the roles cannot be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolesError {
    /// The capture has no SIP message.
    NoSip,
    /// Neither a 3rd-party REGISTER nor a conference URI (Contact with `isfocus`) was seen.
    NoEvidence {
        /// SIP nodes seen (at most 8).
        nodes: Vec<Node>,
    },
    /// Several nodes fit the PF.
    Ambiguous {
        /// The candidates with their evidence.
        candidates: Vec<(Node, String)>,
    },
    /// The conference URI was seen but no node relays or sends requests for it to a focus.
    NoRelay {
        /// The conference URI.
        conference_uri: String,
    },
    /// The PF given by the user sends and receives no SIP in the capture.
    PfNotInCapture {
        /// The PF given.
        pf: Node,
        /// SIP nodes seen (at most 8).
        nodes: Vec<Node>,
    },
    /// `--pf` is not `IP` or `IP:PORT`.
    BadPf(String),
}

fn list(nodes: &[Node]) -> String {
    nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for RolesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolesError::NoSip => write!(f, "no SIP message in the capture, so no PF to judge (was SIP filtered out, on TLS, or on a link type the reader skips? see the skip counts)"),
            RolesError::NoEvidence { nodes } => write!(
                f,
                "cannot tell which node is the PF: the capture has no 3rd-party REGISTER (TS 24.229 §5.4.1.7) and no Contact with isfocus (RFC 4579) naming the conference; SIP nodes seen: {}; pass --pf IP[:PORT]",
                list(nodes)
            ),
            RolesError::Ambiguous { candidates } => {
                write!(f, "cannot tell which node is the PF: ")?;
                for (i, (n, why)) in candidates.iter().enumerate() {
                    write!(f, "{}{n} ({why})", if i > 0 { " or " } else { "" })?;
                }
                write!(f, "; pass --pf IP[:PORT]")
            }
            RolesError::NoRelay { conference_uri } => write!(
                f,
                "cannot tell which node is the PF: the conference {conference_uri} appears, but no node relays requests for it and none sends them to a focus; pass --pf IP[:PORT]"
            ),
            RolesError::PfNotInCapture { pf, nodes } => write!(f, "the PF {pf} sends and receives no SIP in this capture; SIP nodes seen: {}", list(nodes)),
            RolesError::BadPf(s) => write!(f, "--pf {s:?} is not IP or IP:PORT (e.g. 192.0.2.10, 192.0.2.10:5060 or [2001:db8::10]:5060)"),
        }
    }
}

impl std::error::Error for RolesError {}

/// The URI of a name-addr or addr-spec header value (`"Carol" <sip:c@x>;tag=1` → `sip:c@x`),
/// without URI parameters, lower case: comparable across messages.
fn uri_of(value: &str) -> String {
    let v = value.trim();
    let inner = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v),
    };
    let no_params = inner.split(';').next().unwrap_or(inner);
    no_params.split('?').next().unwrap_or(no_params).trim().to_ascii_lowercase()
}

/// Whether a Contact value has the `isfocus` feature parameter (RFC 4579 §4.2).
fn is_focus_contact(value: &str) -> bool {
    let params = match value.find('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').any(|p| p.trim().eq_ignore_ascii_case("isfocus"))
}

/// The IP host of the first `a=path` MSRP URI of an SDP body.
fn sdp_path_ip(body: &str) -> Option<IpAddr> {
    let line = body.lines().find_map(|l| l.trim().strip_prefix("a=path:"))?;
    let uri = line.split_whitespace().next()?;
    let rest = uri.strip_prefix("msrps://").or_else(|| uri.strip_prefix("msrp://"))?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit('@').next()?;
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h).parse().ok()
}

#[derive(Debug, Clone)]
struct Edge {
    frame: u64,
    methods: BTreeSet<String>,
    /// The SDP path host of an INVITE on this edge.
    path_ip: Option<IpAddr>,
}

/// Collects the signalling facts while the messages stream by; [`RoleFinder::finish`] decides.
/// Memory: [`MAX_EDGES`] edges, and a few registrations and URIs.
#[derive(Debug, Default)]
pub struct RoleFinder {
    sip: u64,
    edges: BTreeMap<(SocketAddr, SocketAddr, String), Edge>,
    edges_dropped: u64,
    /// (frame, sender, receiver, To URI) of 3rd-party REGISTERs (first 16).
    third_party: Vec<(u64, SocketAddr, SocketAddr, String)>,
    focus_uris: BTreeMap<String, u64>,
    /// SIP endpoints (at most 4096).
    addrs: BTreeSet<SocketAddr>,
    /// IP addresses of every SIP or MSRP packet (at most 4096).
    ips: BTreeSet<IpAddr>,
}

impl RoleFinder {
    /// A finder that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in one message.
    pub fn observe(&mut self, m: &CapturedMessage) {
        if self.ips.len() < 4096 {
            self.ips.insert(m.src.ip());
            self.ips.insert(m.dst.ip());
        }
        let WireMessage::Sip(s) = &m.message else { return };
        self.sip += 1;
        if self.addrs.len() < 4096 {
            self.addrs.insert(m.src);
            self.addrs.insert(m.dst);
        }
        if let Some(c) = s.header("Contact") {
            if is_focus_contact(c) && self.focus_uris.len() < 64 {
                self.focus_uris.entry(uri_of(c)).or_insert(m.frame);
            }
        }
        let StartLine::Request { method, uri } = &s.start else { return };
        if method == "REGISTER" && is_third_party(s) && self.third_party.len() < 16 {
            self.third_party.push((m.frame, m.src, m.dst, s.header("To").map(uri_of).unwrap_or_default()));
        }
        let key = (m.src, m.dst, uri_of(uri));
        let path_ip = if method == "INVITE" { sdp_path_ip(&s.body) } else { None };
        let full = self.edges.len() >= MAX_EDGES;
        match self.edges.get_mut(&key) {
            Some(e) => {
                if e.methods.len() < 16 {
                    e.methods.insert(method.to_string());
                }
                e.path_ip = e.path_ip.or(path_ip);
            }
            None if !full => {
                self.edges.insert(key, Edge { frame: m.frame, methods: BTreeSet::from([method.to_string()]), path_ip });
            }
            None => self.edges_dropped += 1,
        }
    }

    /// Decides the roles; `pf` is the PF given by the user, if any.
    pub fn finish(&self, pf: Option<Node>) -> Result<Roles, RolesError> {
        if self.sip == 0 {
            return Err(RolesError::NoSip);
        }
        let one_ip = self.addrs.iter().map(|a| a.ip()).collect::<BTreeSet<_>>().len() == 1;
        let node = |a: &SocketAddr| Node { ip: a.ip(), port: one_ip.then_some(a.port()) };
        let mut nodes: Vec<Node> = self.addrs.iter().map(node).collect::<BTreeSet<_>>().into_iter().collect();
        nodes.truncate(8);
        let mut evidence = Vec::new();
        let conference_uri = self.focus_uris.iter().min_by_key(|(_, f)| **f).map(|(u, _)| u.clone());
        // Conference edges between nodes: (from, to) → first frame, methods, SDP path.
        let mut conf: BTreeMap<(Node, Node), Edge> = BTreeMap::new();
        // Without a focus Contact, any Request-URI relayed from one node to another counts
        // (e.g. Carol's BYE that her PF forwards to the focus): weaker, and said so.
        let focus_known = !self.focus_uris.is_empty();
        let mut relayed_uri: Option<&str> = None;
        for ((src, dst, uri), e) in &self.edges {
            if focus_known && !self.focus_uris.contains_key(uri) {
                continue;
            }
            // The same conference by its user part: a PF behind Carol's IMS core answers her as
            // `chat-…@pf…` and relays to the focus's `chat-…@cf…` (src/world/ims.rs).
            let user = |u: &str| u.split_once('@').map_or(u.to_string(), |(a, _)| a.to_string());
            let relayed = |(s2, d2, u2): &(SocketAddr, SocketAddr, String)| {
                user(u2) == user(uri) && ((node(s2) == node(dst) && node(d2) != node(src)) || (node(d2) == node(src) && node(s2) != node(dst)))
            };
            if !focus_known && !self.edges.keys().any(relayed) {
                continue;
            }
            if !focus_known {
                relayed_uri.get_or_insert(uri);
            }
            let k = (node(src), node(dst));
            let c = conf.entry(k).or_insert_with(|| e.clone());
            c.frame = c.frame.min(e.frame);
            c.methods.extend(e.methods.iter().cloned());
            c.path_ip = c.path_ip.or(e.path_ip);
        }
        let receivers: BTreeSet<Node> = conf.keys().map(|k| k.1).collect();
        let senders: BTreeSet<Node> = conf.keys().map(|k| k.0).collect();
        let third: Vec<(u64, Node, Node, &str)> = self.third_party.iter().map(|(f, s, d, to)| (*f, node(s), node(d), to.as_str())).collect();

        let pf = match pf {
            Some(given) => {
                if !self.addrs.iter().any(|a| given.matches(*a)) {
                    return Err(RolesError::PfNotInCapture { pf: given, nodes });
                }
                evidence.push(Evidence { role: Role::Pf, frame: 0, why: "given with --pf".into() });
                // Matched against the capture's own node form.
                given
            }
            None => {
                let targets: BTreeSet<Node> = third.iter().map(|t| t.2).collect();
                let all_relays: BTreeSet<Node> =
                    receivers.iter().filter(|n| conf.keys().any(|(s, d)| s == *n && !conf.contains_key(&(*d, **n)) && d != *n)).copied().collect();
                // A chain of relays (Carol's IMS core, then her PF, then the focus): the PF is the
                // last one, the relay that sends them on to a node that relays nothing.
                let last: BTreeSet<Node> = all_relays
                    .iter()
                    .filter(|n| conf.keys().any(|(s, d)| s == *n && !all_relays.contains(d) && !conf.contains_key(&(*d, **n)) && d != *n))
                    .copied()
                    .collect();
                let relays = if last.is_empty() { all_relays } else { last };
                let relay_why = |n: &Node| {
                    let inbound = conf.iter().find(|((_, d), _)| d == n).map_or(0, |(_, e)| e.frame);
                    match (&conference_uri, relayed_uri) {
                        (Some(c), _) => format!("relays requests for the conference {c}: receives one at frame {inbound} and sends them on (OMA CPM §8.2.2, inference)"),
                        (None, u) => format!(
                            "relays requests for {}: receives one at frame {inbound} and sends them on to another node; no Contact with isfocus names the conference, so this is the weakest evidence (inference)",
                            u.unwrap_or("?")
                        ),
                    }
                };
                if targets.len() == 1 {
                    let (f, s, d, to) = third[0];
                    evidence.push(Evidence {
                        role: Role::Pf,
                        frame: f,
                        why: format!("receives the 3rd-party REGISTER for {to} from {s} (TS 24.229 §5.4.1.7)"),
                    });
                    if relays.contains(&d) {
                        evidence.push(Evidence { role: Role::Pf, frame: 0, why: relay_why(&d) });
                    }
                    d
                } else if targets.len() > 1 {
                    let both: Vec<Node> = targets.iter().filter(|t| relays.contains(t)).copied().collect();
                    if both.len() != 1 {
                        return Err(RolesError::Ambiguous {
                            candidates: targets
                                .iter()
                                .map(|t| (*t, format!("receives a 3rd-party REGISTER at frame {}", third.iter().find(|x| x.2 == *t).map_or(0, |x| x.0))))
                                .collect(),
                        });
                    }
                    evidence.push(Evidence { role: Role::Pf, frame: 0, why: format!("receives a 3rd-party REGISTER and {}", relay_why(&both[0])) });
                    both[0]
                } else if relays.len() == 1 {
                    let n = *relays.iter().next().expect("one");
                    evidence.push(Evidence { role: Role::Pf, frame: 0, why: relay_why(&n) });
                    n
                } else if relays.len() > 1 {
                    return Err(RolesError::Ambiguous { candidates: relays.iter().map(|n| (*n, relay_why(n))).collect() });
                } else {
                    let Some(uri) = conference_uri.clone() else { return Err(RolesError::NoEvidence { nodes }) };
                    // No relay seen (only the PF–CF side captured): the one sender to the sink.
                    let sinks: BTreeSet<Node> = receivers.difference(&senders).copied().collect();
                    let to_sink: BTreeSet<Node> = conf.keys().filter(|(_, d)| sinks.contains(d)).map(|k| k.0).collect();
                    if to_sink.len() != 1 {
                        return match to_sink.len() {
                            0 => Err(RolesError::NoRelay { conference_uri: uri }),
                            _ => Err(RolesError::Ambiguous {
                                candidates: to_sink.iter().map(|n| (*n, format!("sends requests for {uri} to a focus"))).collect(),
                            }),
                        };
                    }
                    let n = *to_sink.iter().next().expect("one");
                    evidence.push(Evidence {
                        role: Role::Pf,
                        frame: 0,
                        why: format!(
                            "the one node sending requests for the conference {uri} to the focus (no relay or 3rd-party REGISTER captured; inference)"
                        ),
                    });
                    n
                }
            }
        };
        let is_pf = |n: &Node| pf.ip == n.ip && (pf.port.is_none() || n.port.is_none() || pf.port == n.port);

        let cfs: BTreeSet<Node> = conf.keys().filter(|(s, _)| is_pf(s)).map(|k| k.1).filter(|d| !is_pf(d)).collect();
        let cf = cfs.iter().next().copied();
        if let Some(c) = cf {
            let e = &conf[&conf.keys().find(|(s, d)| is_pf(s) && *d == c).copied().expect("an edge")];
            evidence.push(Evidence {
                role: Role::Cf,
                frame: e.frame,
                why: format!(
                    "receives the PF's {} for {}",
                    e.methods.iter().cloned().collect::<Vec<_>>().join("/"),
                    conference_uri.as_deref().or(relayed_uri).unwrap_or("?")
                ),
            });
        }
        let scscf = third.iter().find(|t| is_pf(&t.2)).map(|t| {
            evidence.push(Evidence { role: Role::Scscf, frame: t.0, why: "sends the 3rd-party REGISTER to the PF (TS 24.229 §5.4.1.7)".into() });
            t.1
        });
        let carol_aor = third.iter().find(|t| is_pf(&t.2)).map(|t| t.3.to_string()).filter(|s| !s.is_empty());
        // Carol: the SDP path of a conference INVITE that reached the PF, when that address
        // sends or receives packets here (her MSRP connection), else the INVITE's sender.
        let inbound: Vec<(&(Node, Node), &Edge)> = conf.iter().filter(|((s, d), _)| is_pf(d) && !is_pf(s) && Some(*s) != cf).collect();
        let carol = inbound.iter().find_map(|((s, _), e)| e.path_ip.filter(|ip| self.ips.contains(ip)).map(|ip| (ip, *s, e.frame))).map(|(ip, s, f)| {
            evidence.push(Evidence {
                role: Role::Carol,
                frame: f,
                why: format!("the SDP a=path of the INVITE for the conference that reached the PF from {s} (RFC 4975 §8.1)"),
            });
            Node { ip, port: s.port.filter(|_| s.ip == ip) }
        });
        let carol = carol.or_else(|| {
            inbound.first().map(|((s, _), e)| {
                evidence.push(Evidence {
                    role: Role::Carol,
                    frame: e.frame,
                    why: format!(
                        "sends {} for the conference to the PF (Carol's client, or the last proxy before the PF)",
                        e.methods.iter().cloned().collect::<Vec<_>>().join("/")
                    ),
                });
                *s
            })
        });
        Ok(Roles { pf, cf, carol, scscf, conference_uri, carol_aor, evidence })
    }
}

/// A REGISTER sent by a registrar on the user's behalf (TS 24.229 §5.4.1.7): From ≠ To, or the
/// user's REGISTER carried as a `message/sip` body.
fn is_third_party(s: &SipMessage) -> bool {
    let from = s.header("From").map(uri_of);
    let to = s.header("To").map(uri_of);
    let ct = s.header("Content-Type").map(|c| c.trim().to_ascii_lowercase());
    from != to || ct.as_deref().is_some_and(|c| c.starts_with("message/sip"))
}

/// Finds the roles in a list of messages.
pub fn find(messages: &[CapturedMessage], pf: Option<Node>) -> Result<Roles, RolesError> {
    let mut f = RoleFinder::new();
    for m in messages {
        f.observe(m);
    }
    f.finish(pf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths() {
        assert_eq!(uri_of("\"Carol\" <sip:Carol@IMS.example.net;user=phone>;tag=1"), "sip:carol@ims.example.net");
        assert_eq!(uri_of("sip:a@b;tag=1"), "sip:a@b");
        assert!(is_focus_contact("<sip:chat@cf>;isfocus;+g.x=\"y\""));
        assert!(!is_focus_contact("<sip:chat@cf;isfocus>"));
        assert_eq!(sdp_path_ip("v=0\r\na=path:msrp://198.51.100.7:49152/x;tcp\r\n"), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(sdp_path_ip("a=path:msrp://[2001:db8::7]:49152/x;tcp"), Some("2001:db8::7".parse().unwrap()));
        assert_eq!(sdp_path_ip("a=path:msrp://carol.example.net:1/x;tcp"), None);
        assert_eq!("192.0.2.1:5060".parse::<Node>().unwrap().to_string(), "192.0.2.1:5060");
        assert_eq!("2001:db8::1".parse::<Node>().unwrap().port, None);
        assert!(matches!("pf.example.net".parse::<Node>(), Err(RolesError::BadPf(_))));
    }
}
