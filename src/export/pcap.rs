//! A classic libpcap capture of every SIP and MSRP message of a trace, carried over TCP/IPv4 on
//! Ethernet, that Wireshark and tshark dissect as SIP (RFC 3261 §18.2 over TCP) and MSRP
//! (RFC 4975 §6 over TCP).
//!
//! File format: <https://wiki.wireshark.org/Development/LibpcapFileFormat> (magic `a1b2c3d4`
//! with microsecond timestamps, version 2.4, written little-endian, link type 1 = Ethernet).
//! Packets: Ethernet II (IEEE 802.3), IPv4 (RFC 791, header checksum RFC 1071), TCP (RFC 9293,
//! checksum over the RFC 9293 §3.1 pseudo-header; MSS and window-scale options on SYN, RFC 7323).
//!
//! # Addresses
//!
//! One IPv4 address per actor, those of the engine's wire texts where they name one
//! ([`Network::for_scenario`]):
//!
//! | lane         | address               | MAC                 | MSRP port (when the paths name none) |
//! | ------------ | --------------------- | ------------------- | ------------------------------------ |
//! | `carol`      | 198.51.100.7          | 02:00:c6:33:64:07   | 49152                                |
//! | `carol-pf`   | 192.0.2.10            | 02:00:c0:00:02:0a   | 20000 (Carol side), 20001 (CF side)  |
//! | `carol-tablet` | 198.51.100.8        | 02:00:c6:33:64:08   | 49152 (issue 11, Q15)                |
//! | `cf`         | 192.0.2.20            | 02:00:c0:00:02:14   | 30000                                |
//! | member *i*   | 198.51.100.(21 + *i*) | 02:00:c6:33:64:…    | 49150 + (*i* mod 10)                 |
//! | `scscf`      | 192.0.2.30            | 02:00:c0:00:02:1e   | none (SIP only)                      |
//! | other lanes  | 203.0.113.(1 + *k*)   | 02:00:cb:00:71:…    | 2855                                 |
//!
//! *i* is the member's position in the scenario; the MAC is `02:00` followed by the address.
//!
//! # Connections
//!
//! - SIP: one TCP connection per pair of actors, opened by the first sender from an ephemeral
//!   port (50000 upwards, per host) to port 5060 of the receiver, and reused in both directions
//!   (RFC 3261 §18.2.2; connection reuse as in RFC 5923).
//! - MSRP: one TCP connection per MSRP session (the pair of To-Path / From-Path URIs, RFC 4975
//!   §6), opened by the first sender (the active endpoint sends the first SEND, RFC 4975 §5.4)
//!   from an ephemeral port to the receiver's port in its MSRP URI.
//! - A connection starts with SYN, SYN-ACK, ACK at the time of its first message. Each message
//!   goes in one or more data segments (at most 1448 bytes each, the payload of a 1500-byte MTU
//!   with TCP timestamps' room left), the last one with PSH, at the step's `at_ms`; the receiver
//!   sends a pure ACK at the step's `arrive_ms`. Sequence and acknowledgement numbers follow the
//!   bytes, so Wireshark's TCP analysis and desegmentation see a clean stream.
//! - Connections are never closed (a run ends with its sessions open or abandoned).
//!
//! # Dropped messages
//!
//! A step marked `dropped` (the message never reached `to`) is **omitted**: the capture shows
//! what the network delivered. The TCP connection it was meant for is taken as dead, so the next
//! message between those two actors over that protocol opens a new connection (new ephemeral
//! port, new handshake).
//!
//! Timestamps are the scenario's `start_time` plus the step times.

use super::ExportError;
use crate::scenario::Scenario;
use crate::trace::{Protocol, Trace};

/// The largest TCP payload per segment.
pub const MSS_PAYLOAD: usize = 1448;
/// The SIP port (RFC 3261 §19.1.2).
pub const SIP_PORT: u16 = 5060;
/// The first ephemeral port handed out per host.
pub const EPHEMERAL_BASE: u16 = 50000;
/// Link type of the file: Ethernet.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// The classic pcap magic number (microsecond timestamps).
pub const MAGIC: u32 = 0xa1b2_c3d4;

/// One actor on the capture's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The lane id of the trace (`carol`, `carol-pf`, `cf`, a member id, `scscf`).
    pub lane: String,
    /// Its IPv4 address.
    pub ip: [u8; 4],
    /// The MSRP port used when a message's MSRP URIs do not name this host.
    pub msrp_port: u16,
}

/// The addresses of the capture and its start time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Milliseconds since 1970 of the run's time 0 (the scenario's `start_time`).
    pub start_epoch_ms: u64,
    /// One entry per actor; lanes not listed get 203.0.113.(1 + k).
    pub hosts: Vec<Host>,
}

const CAROL_IP: [u8; 4] = [198, 51, 100, 7];
const PF_IP: [u8; 4] = [192, 0, 2, 10];
const CF_IP: [u8; 4] = [192, 0, 2, 20];
const SCSCF_IP: [u8; 4] = [192, 0, 2, 30];
const TABLET_IP: [u8; 4] = [198, 51, 100, 8];

fn member_host(id: &str, i: usize) -> Host {
    Host { lane: id.to_string(), ip: [198, 51, 100, (21 + i).min(255) as u8], msrp_port: 49150 + (i % 10) as u16 }
}

fn fixed_hosts(members: impl Iterator<Item = String>) -> Vec<Host> {
    let mut v = vec![
        Host { lane: "carol".into(), ip: CAROL_IP, msrp_port: 49152 },
        Host { lane: "carol-pf".into(), ip: PF_IP, msrp_port: 20000 },
        Host { lane: "cf".into(), ip: CF_IP, msrp_port: 30000 },
    ];
    v.extend(members.enumerate().map(|(i, id)| member_host(&id, i)));
    v.push(Host { lane: "scscf".into(), ip: SCSCF_IP, msrp_port: 2855 });
    // Carol's tablet (issue 11, Q15), when the scenario has one.
    v.push(Host { lane: "carol-tablet".into(), ip: TABLET_IP, msrp_port: 49152 });
    v
}

impl Network {
    /// The addresses of the engine's wire texts (see the module table), members by their position
    /// in the scenario, and the scenario's start time.
    pub fn for_scenario(sc: &Scenario) -> Network {
        Network { start_epoch_ms: sc.start_epoch_ms, hosts: fixed_hosts(sc.members.iter().map(|m| m.id.clone())) }
    }

    /// Addresses from the trace alone: member lanes (role `member`) numbered in lane order. The
    /// addresses match the wire texts when every member has a lane; [`Network::for_scenario`]
    /// is exact.
    pub fn from_trace(t: &Trace, start_epoch_ms: u64) -> Network {
        Network { start_epoch_ms, hosts: fixed_hosts(t.lanes.iter().filter(|l| l.role == "member").map(|l| l.id.to_string())) }
    }
}

/// A capture and what it holds.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The pcap file.
    pub bytes: Vec<u8>,
    /// Number of packets.
    pub packets: u32,
    /// Number of TCP connections.
    pub connections: u32,
    /// SIP messages carried (the trace's SIP steps that were not dropped).
    pub sip_messages: u32,
    /// MSRP messages carried (the trace's MSRP steps that were not dropped).
    pub msrp_messages: u32,
    /// The listening ports of the MSRP connections (for "decode as MSRP"), sorted.
    pub msrp_ports: Vec<u16>,
}

/// The pcap file of the trace's SIP and MSRP messages.
pub fn write(t: &Trace, net: &Network) -> Result<Vec<u8>, ExportError> {
    capture(t, net).map(|c| c.bytes)
}

// ------------------------------------------------------------------ MSRP URIs

/// An MSRP URI's IPv4 address (`None` for a host name), port and text.
type MsrpUri<'a> = (Option<[u8; 4]>, Option<u16>, &'a str);

/// `(IPv4 address, port, uri)` of every URI in the To-Path and From-Path headers of an MSRP
/// message (address `None` when the host is a name).
fn msrp_uris(raw: &str) -> Vec<MsrpUri<'_>> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    let mut out = Vec::new();
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else { continue };
        if !(name.eq_ignore_ascii_case("To-Path") || name.eq_ignore_ascii_case("From-Path")) {
            continue;
        }
        for uri in value.split_whitespace() {
            let rest = uri.strip_prefix("msrps://").or_else(|| uri.strip_prefix("msrp://")).unwrap_or(uri);
            let authority = rest.split(['/', ';']).next().unwrap_or("");
            let authority = authority.rsplit('@').next().unwrap_or(authority);
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u16>().ok()),
                None => (authority, None),
            };
            out.push((ipv4(host), port, uri));
        }
    }
    out
}

/// A dotted-quad IPv4 address.
fn ipv4(s: &str) -> Option<[u8; 4]> {
    let mut ip = [0u8; 4];
    let mut parts = s.split('.');
    for b in &mut ip {
        *b = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(ip)
}

// ------------------------------------------------------------------ packets

/// RFC 1071 ones' complement sum, folded; `data` padded with a zero byte when odd.
fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The IPv4 header checksum of a 20-byte header (with its checksum field zero).
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    fold(ones_sum(0, header))
}

/// The TCP checksum of `segment` (header with a zero checksum field, then payload) between two
/// IPv4 addresses (pseudo-header: source, destination, zero, protocol 6, TCP length).
pub fn tcp_checksum(src: [u8; 4], dst: [u8; 4], segment: &[u8]) -> u16 {
    let mut acc = ones_sum(0, &src);
    acc = ones_sum(acc, &dst);
    acc += 6;
    acc += segment.len() as u32;
    fold(ones_sum(acc, segment))
}

const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
/// Window scale shift announced on SYN and SYN-ACK.
const WSCALE: u8 = 7;

struct Writer {
    bytes: Vec<u8>,
    packets: u32,
    /// Last IP identification per source address (a few hosts: a list is enough and keeps the
    /// wasm module small).
    ip_id: Vec<([u8; 4], u16)>,
}

struct Seg<'a> {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &'a [u8],
}

impl Writer {
    fn new() -> Writer {
        let mut bytes = Vec::with_capacity(1 << 16);
        bytes.extend_from_slice(&MAGIC.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes()); // thiszone: UTC
        bytes.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        bytes.extend_from_slice(&262_144u32.to_le_bytes()); // snaplen
        bytes.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        Writer { bytes, packets: 0, ip_id: Vec::new() }
    }

    fn packet(&mut self, epoch_ms: u64, step: u32, s: &Seg<'_>) -> Result<(), ExportError> {
        let secs = u32::try_from(epoch_ms / 1000).map_err(|_| ExportError::TimeOutOfRange { step, epoch_ms })?;
        let usecs = (epoch_ms % 1000) as u32 * 1000;
        let syn = s.flags & SYN != 0;
        let options: &[u8] = if syn { &[2, 4, 0x05, 0xb4, 1, 3, 3, WSCALE] } else { &[] };
        let tcp_len = 20 + options.len() + s.payload.len();
        let ip_len = 20 + tcp_len;
        let mut tcp = Vec::with_capacity(tcp_len);
        tcp.extend_from_slice(&s.sport.to_be_bytes());
        tcp.extend_from_slice(&s.dport.to_be_bytes());
        tcp.extend_from_slice(&s.seq.to_be_bytes());
        tcp.extend_from_slice(&(if s.flags & ACK != 0 { s.ack } else { 0 }).to_be_bytes());
        tcp.push((((20 + options.len()) / 4) as u8) << 4);
        tcp.push(s.flags);
        // 64240 unscaled on SYN; 502 << 7 = 64256 afterwards.
        tcp.extend_from_slice(&(if syn { 64240u16 } else { 502 }).to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        tcp.extend_from_slice(options);
        tcp.extend_from_slice(s.payload);
        let c = tcp_checksum(s.src, s.dst, &tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());

        let id = match self.ip_id.iter_mut().find(|(ip, _)| *ip == s.src) {
            Some((_, id)) => id,
            None => {
                self.ip_id.push((s.src, 0x1000 + u16::from(s.src[3]) * 97));
                &mut self.ip_id.last_mut().expect("just pushed").1
            }
        };
        *id = id.wrapping_add(1);
        let mut ip = Vec::with_capacity(20);
        ip.extend_from_slice(&[0x45, 0]);
        ip.extend_from_slice(&(ip_len as u16).to_be_bytes());
        ip.extend_from_slice(&id.to_be_bytes());
        ip.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
        ip.extend_from_slice(&[64, 6, 0, 0]);
        ip.extend_from_slice(&s.src);
        ip.extend_from_slice(&s.dst);
        let c = ipv4_checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());

        let frame_len = 14 + ip_len;
        self.bytes.extend_from_slice(&secs.to_le_bytes());
        self.bytes.extend_from_slice(&usecs.to_le_bytes());
        self.bytes.extend_from_slice(&(frame_len as u32).to_le_bytes());
        self.bytes.extend_from_slice(&(frame_len as u32).to_le_bytes());
        self.bytes.extend_from_slice(&[0x02, 0x00]);
        self.bytes.extend_from_slice(&s.dst);
        self.bytes.extend_from_slice(&[0x02, 0x00]);
        self.bytes.extend_from_slice(&s.src);
        self.bytes.extend_from_slice(&0x0800u16.to_be_bytes());
        self.bytes.extend_from_slice(&ip);
        self.bytes.extend_from_slice(&tcp);
        self.packets += 1;
        Ok(())
    }
}

// ------------------------------------------------------------------ connections

#[derive(Debug, Clone, PartialEq, Eq)]
struct ConnKey<'a> {
    msrp: bool,
    lo: usize,
    hi: usize,
    session: Option<(&'a str, &'a str)>,
    generation: u32,
}

struct Conn {
    /// Host index and port of the opening side (0) and the listening side (1).
    host: [usize; 2],
    port: [u16; 2],
    /// Next sequence number each side sends.
    nxt: [u32; 2],
    /// The acknowledgement number each side sends (next byte it expects).
    rcv: [u32; 2],
}

/// Deterministic initial sequence numbers (no clock, no randomness: the file is reproducible).
fn isn(conn: usize, side: u32) -> u32 {
    let mut z = (conn as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(side).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 31;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    (z >> 32) as u32
}

/// Builds the capture.
pub fn capture(t: &Trace, net: &Network) -> Result<Capture, ExportError> {
    // Host table: the network's hosts, then lanes it does not know.
    let mut hosts: Vec<Host> = net.hosts.clone();
    let mut extra = 0u8;
    for s in t.steps.iter().filter(|s| s.protocol != Protocol::None) {
        for lane in [&s.from, &s.to] {
            if !hosts.iter().any(|h| *h.lane == **lane) {
                extra = extra.saturating_add(1);
                hosts.push(Host { lane: lane.to_string(), ip: [203, 0, 113, extra], msrp_port: 2855 });
            }
        }
    }
    let host_of = |lane: &str| hosts.iter().position(|h| h.lane == lane).unwrap_or(0);

    // Events in time order: (ms, step position, phase) with phase 0 = drop, 1 = send, 2 = arrive.
    let mut unsorted: Vec<(u64, usize, u8)> = Vec::with_capacity(t.steps.len() * 2);
    for (i, s) in t.steps.iter().enumerate() {
        if s.protocol == Protocol::None || s.raw.is_empty() {
            continue;
        }
        if s.dropped {
            unsorted.push((s.at_ms, i, 0));
        } else {
            unsorted.push((s.at_ms, i, 1));
            unsorted.push((s.arrive_ms.max(s.at_ms), i, 2));
        }
    }
    // Time order; sends come in step order already and arrivals land near the end, so an
    // insertion keeps this cheap (and spares the wasm module a sort).
    let mut events: Vec<(u64, usize, u8)> = Vec::with_capacity(unsorted.len());
    for e in unsorted {
        let at = events.partition_point(|x| *x <= e);
        events.insert(at, e);
    }

    let mut w = Writer::new();
    let mut conns: Vec<Conn> = Vec::new();
    // Lists rather than hash maps: few entries, and a smaller wasm module.
    let mut by_key: Vec<(ConnKey, usize)> = Vec::new();
    let mut generation: Vec<((bool, usize, usize), u32)> = Vec::new();
    let mut next_port: Vec<u16> = vec![EPHEMERAL_BASE; hosts.len()];
    let mut sent: Vec<Option<(usize, usize, u32)>> = vec![None; t.steps.len()];
    let mut msrp_ports: Vec<u16> = Vec::new();
    let (mut sip_messages, mut msrp_messages) = (0u32, 0u32);

    for (ms, i, phase) in events {
        let s = &t.steps[i];
        let epoch = net.start_epoch_ms.saturating_add(ms);
        let (from, to) = (host_of(&s.from), host_of(&s.to));
        let msrp = s.protocol == Protocol::MSRP;
        let pair = (msrp, from.min(to), from.max(to));
        match phase {
            0 => match generation.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, g)) => *g += 1,
                None => generation.push((pair, 1)),
            },
            1 => {
                let uris = if msrp { msrp_uris(&s.raw) } else { Vec::new() };
                let session = if msrp && uris.len() >= 2 {
                    let (a, b) = (uris[0].2, uris[1].2);
                    Some(if a <= b { (a, b) } else { (b, a) })
                } else {
                    None
                };
                let key = ConnKey { msrp, lo: pair.1, hi: pair.2, session, generation: generation.iter().find(|(p, _)| *p == pair).map_or(0, |(_, g)| *g) };
                let c = match by_key.iter().rev().find(|(k, _)| *k == key) {
                    Some(&(_, c)) => c,
                    None => {
                        let n = conns.len();
                        let listen = if msrp {
                            uris.iter().find(|(h, p, _)| *h == Some(hosts[to].ip) && p.is_some()).and_then(|u| u.1).unwrap_or(hosts[to].msrp_port)
                        } else {
                            SIP_PORT
                        };
                        if msrp && !msrp_ports.contains(&listen) {
                            msrp_ports.push(listen);
                        }
                        let eph = next_port[from];
                        next_port[from] = eph.checked_add(1).unwrap_or(EPHEMERAL_BASE);
                        let (i0, i1) = (isn(n, 0), isn(n, 1));
                        let conn = Conn {
                            host: [from, to],
                            port: [eph, listen],
                            nxt: [i0.wrapping_add(1), i1.wrapping_add(1)],
                            rcv: [i1.wrapping_add(1), i0.wrapping_add(1)],
                        };
                        let (a, b) = (hosts[from].ip, hosts[to].ip);
                        let idx = s.index;
                        w.packet(epoch, idx, &Seg { src: a, dst: b, sport: eph, dport: listen, seq: i0, ack: 0, flags: SYN, payload: &[] })?;
                        w.packet(epoch, idx, &Seg { src: b, dst: a, sport: listen, dport: eph, seq: i1, ack: conn.rcv[1], flags: SYN | ACK, payload: &[] })?;
                        w.packet(epoch, idx, &Seg { src: a, dst: b, sport: eph, dport: listen, seq: conn.nxt[0], ack: conn.rcv[0], flags: ACK, payload: &[] })?;
                        conns.push(conn);
                        by_key.push((key, n));
                        n
                    }
                };
                let conn = &mut conns[c];
                let d = if conn.host[0] == from { 0 } else { 1 };
                let (src, dst) = (hosts[conn.host[d]].ip, hosts[conn.host[1 - d]].ip);
                let (sport, dport) = (conn.port[d], conn.port[1 - d]);
                let payload = s.raw.as_bytes();
                let count = payload.chunks(MSS_PAYLOAD).count();
                for (k, chunk) in payload.chunks(MSS_PAYLOAD).enumerate() {
                    let flags = if k + 1 == count { ACK | PSH } else { ACK };
                    w.packet(epoch, s.index, &Seg { src, dst, sport, dport, seq: conn.nxt[d], ack: conn.rcv[d], flags, payload: chunk })?;
                    conn.nxt[d] = conn.nxt[d].wrapping_add(chunk.len() as u32);
                }
                sent[i] = Some((c, d, payload.len() as u32));
                if msrp {
                    msrp_messages += 1;
                } else {
                    sip_messages += 1;
                }
            }
            _ => {
                let Some((c, d, len)) = sent[i] else { continue };
                let conn = &mut conns[c];
                let r = 1 - d;
                conn.rcv[r] = conn.rcv[r].wrapping_add(len);
                let (src, dst) = (hosts[conn.host[r]].ip, hosts[conn.host[d]].ip);
                let seg = Seg { src, dst, sport: conn.port[r], dport: conn.port[d], seq: conn.nxt[r], ack: conn.rcv[r], flags: ACK, payload: &[] };
                w.packet(epoch, s.index, &seg)?;
            }
        }
    }
    msrp_ports.sort_unstable();
    Ok(Capture { packets: w.packets, connections: conns.len() as u32, bytes: w.bytes, sip_messages, msrp_messages, msrp_ports })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        // RFC 1071 example header (Wikipedia "IPv4 header checksum"): 0xb861.
        let h = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        assert_eq!(ipv4_checksum(&h), 0xb861);
    }

    #[test]
    fn msrp_uris_are_parsed() {
        let raw = "MSRP x SEND\r\nTo-Path: msrp://192.0.2.10:20001/pfcf77e1;tcp\r\nFrom-Path: msrp://192.0.2.20:30000/cfcarol9;tcp\r\n-------x$\r\n";
        let u = msrp_uris(raw);
        assert_eq!(u[0].0, Some([192, 0, 2, 10]));
        assert_eq!(ipv4("cf.example.net"), None);
        assert_eq!(ipv4("1.2.3.4.5"), None);
        assert_eq!(u[0].1, Some(20001));
        assert_eq!(u[1].1, Some(30000));
    }
}
