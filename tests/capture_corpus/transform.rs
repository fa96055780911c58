//! The corpus transformer: a trace's SIP and MSRP messages written as another network would
//! carry them (see [`profiles`]). Packets are built with `etherparse` (PacketBuilder for
//! IP/UDP/TCP, its header types for Ethernet, VLAN and Linux SLL); containers with `pcap-file`.
//! The one link header no crate here writes is Linux SLL2 (20 bytes, tcpdump.org/linktypes/
//! LINKTYPE_LINUX_SLL2.html), spelled out below.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Protocol, Step, Trace};
use etherparse::{
    ArpHardwareId, EtherType, Ethernet2Header, IpFragOffset, IpNumber, Ipv4Header, LinuxSllHeader, LinuxSllPacketType, LinuxSllProtocolType, PacketBuilder,
    SingleVlanHeader, VlanId, VlanPcp,
};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, TsResolution};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    Vlan,
    Sll,
    Sll2,
    RawIp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Pcap,
    PcapNg,
}

/// How the variant network carries the traffic.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: &'static str,
    pub ipv6: bool,
    pub link: Link,
    pub container: Container,
    /// Largest TCP payload per segment.
    pub mss: usize,
    /// Consecutive messages of one direction of one connection share segments.
    pub coalesce: bool,
    /// The first two segments of a message are written in reverse order.
    pub reorder: bool,
    /// The first segment of every message is written again after the last.
    pub retransmit: bool,
    /// SIP headers in compact form, other case and order.
    pub compact: bool,
    /// SIP over UDP.
    pub sip_udp: bool,
    /// IPv4 UDP datagrams larger than this are sent as IP fragments of this size (a multiple
    /// of 8), last fragment first.
    pub fragment: Option<usize>,
    /// MSRP SEND bodies cut into chunks of this many bytes.
    pub msrp_chunk: Option<usize>,
    /// DNS, HTTP and ARP frames mixed in.
    pub noise: bool,
    pub sip_port: u16,
    /// The first port the connecting sides use (one per connection upwards).
    pub port_base: u16,
    /// How the TCP connections end: left open, FIN from both sides, or RST from the opener.
    pub end: End,
    /// Added to every initial sequence number (copies of one trace on reused ports differ).
    pub isn_base: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Open,
    Fin,
    Rst,
}

const BASE: Profile = Profile {
    name: "",
    ipv6: false,
    link: Link::Ethernet,
    container: Container::Pcap,
    mss: 1448,
    coalesce: false,
    reorder: false,
    retransmit: false,
    compact: false,
    sip_udp: false,
    fragment: None,
    msrp_chunk: None,
    noise: false,
    sip_port: 5060,
    port_base: 40000,
    end: End::Open,
    isn_base: 0,
};

/// The plain network: Ethernet, IPv4, TCP, classic pcap.
pub fn plain() -> Profile {
    Profile { name: "plain", ..BASE }
}

/// The corpus's networks.
pub fn profiles() -> Vec<Profile> {
    vec![
        plain(),
        Profile { name: "other-addresses-and-ports", sip_port: 5080, port_base: 33000, ..BASE },
        Profile { name: "small-segments-reordered-retransmitted", mss: 61, reorder: true, retransmit: true, end: End::Fin, ..BASE },
        Profile { name: "coalesced-segments", coalesce: true, mss: 9000, ..BASE },
        Profile { name: "compact-forms-case-order", compact: true, ..BASE },
        Profile { name: "pcapng-ipv6", container: Container::PcapNg, ipv6: true, end: End::Rst, ..BASE },
        Profile { name: "vlan-noise", link: Link::Vlan, noise: true, ..BASE },
        Profile { name: "linux-sll", link: Link::Sll, mss: 500, ..BASE },
        Profile { name: "linux-sll2-ipv6-pcapng", link: Link::Sll2, ipv6: true, container: Container::PcapNg, ..BASE },
        Profile { name: "raw-ip-sip-over-udp", link: Link::RawIp, sip_udp: true, ..BASE },
        Profile { name: "msrp-chunks", msrp_chunk: Some(37), mss: 200, ..BASE },
        Profile { name: "sip-over-udp-ip-fragments", sip_udp: true, fragment: Some(496), ..BASE },
    ]
}

/// A written variant.
pub struct Variant {
    pub bytes: Vec<u8>,
    /// Sender and receiver of every message, in the order of the trace's carried messages.
    pub endpoints: Vec<(SocketAddr, SocketAddr)>,
    /// Added to every time (nanoseconds).
    pub offset_ns: u64,
    /// MSRP chunks written (beyond whole messages).
    pub chunks: usize,
    /// IP fragments written.
    pub fragments: usize,
    /// TCP connections opened.
    pub connections: usize,
    /// The address of every lane.
    pub lanes: Vec<(String, IpAddr)>,
}

struct Writer {
    link: Link,
    ng: Option<PcapNgWriter<Vec<u8>>>,
    pcap: Option<PcapWriter<Vec<u8>>>,
}

fn datalink(link: Link) -> DataLink {
    match link {
        Link::Ethernet | Link::Vlan => DataLink::ETHERNET,
        Link::Sll => DataLink::LINUX_SLL,
        Link::Sll2 => DataLink::LINUX_SLL2,
        Link::RawIp => DataLink::RAW,
    }
}

impl Writer {
    fn new(link: Link, container: Container) -> Writer {
        match container {
            Container::Pcap => {
                let h = PcapHeader { datalink: datalink(link), snaplen: 262_144, ts_resolution: TsResolution::MicroSecond, ..PcapHeader::default() };
                Writer { link, ng: None, pcap: Some(PcapWriter::with_header(Vec::new(), h).unwrap()) }
            }
            Container::PcapNg => {
                let mut w = PcapNgWriter::new(Vec::new()).unwrap();
                let idb = InterfaceDescriptionBlock { linktype: datalink(link), snaplen: 262_144, options: vec![InterfaceDescriptionOption::IfTsResol(9)] };
                w.write_pcapng_block(idb).unwrap();
                Writer { link, ng: Some(w), pcap: None }
            }
        }
    }

    /// Writes an IP packet (`ip` starts with the IP header) under the profile's link header.
    fn frame(&mut self, ns: u64, ip: &[u8], v6: bool) {
        let ether_type = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
        let mut f = Vec::with_capacity(ip.len() + 24);
        match self.link {
            Link::Ethernet => f.extend_from_slice(&Ethernet2Header { source: [2, 0, 0, 0, 0, 1], destination: [2, 0, 0, 0, 0, 2], ether_type }.to_bytes()),
            Link::Vlan => {
                f.extend_from_slice(
                    &Ethernet2Header { source: [2, 0, 0, 0, 0, 1], destination: [2, 0, 0, 0, 0, 2], ether_type: EtherType::VLAN_TAGGED_FRAME }.to_bytes(),
                );
                let vlan = SingleVlanHeader { pcp: VlanPcp::ZERO, drop_eligible_indicator: false, vlan_id: VlanId::try_new(42).unwrap(), ether_type };
                f.extend_from_slice(&vlan.to_bytes());
            }
            Link::Sll => {
                let h = LinuxSllHeader {
                    packet_type: LinuxSllPacketType::OUTGOING,
                    arp_hrd_type: ArpHardwareId::ETHERNET,
                    sender_address_valid_length: 6,
                    sender_address: [2, 0, 0, 0, 0, 1, 0, 0],
                    protocol_type: LinuxSllProtocolType::EtherType(ether_type),
                };
                f.extend_from_slice(&h.to_bytes());
            }
            Link::Sll2 => {
                // protocol type, reserved, interface index, ARPHRD, packet type, address length, address
                f.extend_from_slice(&ether_type.0.to_be_bytes());
                f.extend_from_slice(&[0, 0]);
                f.extend_from_slice(&3u32.to_be_bytes());
                f.extend_from_slice(&1u16.to_be_bytes());
                f.extend_from_slice(&[4, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::RawIp => {}
        }
        f.extend_from_slice(ip);
        self.raw(ns, &f);
    }

    fn raw(&mut self, ns: u64, f: &[u8]) {
        let ts = Duration::from_nanos(ns);
        if let Some(w) = &mut self.pcap {
            w.write_packet(&PcapPacket { timestamp: ts, orig_len: f.len() as u32, data: Cow::Borrowed(f) }).unwrap();
        }
        if let Some(w) = &mut self.ng {
            w.write_pcapng_block(EnhancedPacketBlock { interface_id: 0, timestamp: ts, original_len: f.len() as u32, data: Cow::Borrowed(f), options: vec![] })
                .unwrap();
        }
    }

    fn finish(self) -> Vec<u8> {
        match (self.pcap, self.ng) {
            (Some(w), _) => w.into_writer(),
            (_, Some(w)) => w.into_inner(),
            _ => unreachable!(),
        }
    }
}

fn ip_of(ipv6: bool, k: usize) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xc0, 0, 0, 0, 0, 0x10 + k as u16))
    } else {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 50 + k as u8))
    }
}

fn ip_packet(src: SocketAddr, dst: SocketAddr, tcp: Option<(u32, u32, u8)>, payload: &[u8]) -> Vec<u8> {
    let b = match (src.ip(), dst.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ipv4(a.octets(), b.octets(), 64),
        (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ipv6(a.octets(), b.octets(), 64),
        _ => unreachable!(),
    };
    let mut out = Vec::new();
    match tcp {
        None => b.udp(src.port(), dst.port()).write(&mut out, payload).unwrap(),
        Some((seq, ack, flags)) => {
            let mut t = b.tcp(src.port(), dst.port(), seq, 64240);
            if flags & 2 != 0 {
                t = t.syn();
            }
            if flags & 1 != 0 {
                t = t.fin();
            }
            if flags & 4 != 0 {
                t = t.rst();
            }
            if flags & 16 != 0 {
                t = t.ack(ack);
            }
            if flags & 8 != 0 {
                t = t.psh();
            }
            t.write(&mut out, payload).unwrap()
        }
    }
    out
}

/// An IPv4 packet (20-byte header, as PacketBuilder writes it) cut into fragments of `n`
/// payload bytes (RFC 791 §2.3, offsets in 8-byte units), each with its own header.
fn fragments(packet: &[u8], n: usize, id: u16) -> Vec<Vec<u8>> {
    let (h, _) = Ipv4Header::from_slice(packet).unwrap();
    let payload = &packet[20..];
    let count = payload.len().div_ceil(n);
    (0..count)
        .map(|k| {
            let piece = &payload[k * n..((k + 1) * n).min(payload.len())];
            let mut f = Ipv4Header::new(piece.len() as u16, 64, IpNumber::UDP, h.source, h.destination).unwrap();
            f.identification = 0x4000 + id;
            f.dont_fragment = false;
            f.more_fragments = k + 1 < count;
            f.fragment_offset = IpFragOffset::try_new((k * n / 8) as u16).unwrap();
            f.header_checksum = f.calc_header_checksum();
            let mut out = f.to_bytes().to_vec();
            out.extend_from_slice(piece);
            out
        })
        .collect()
}

/// SIP text with compact header forms, other case and another legal order.
fn compact(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap();
    let mut hs: Vec<(String, String)> = lines
        .enumerate()
        .map(|(i, l)| {
            let (n, v) = l.split_once(':').unwrap();
            let short = match n {
                "Call-ID" => Some("i"),
                "Via" => Some("v"),
                "From" => Some("f"),
                "To" => Some("t"),
                "Contact" => Some("m"),
                "Content-Length" => Some("l "),
                "Content-Type" => Some("c"),
                "Supported" => Some("k"),
                "Event" => Some("o"),
                "Allow-Events" => Some("u"),
                _ => None,
            };
            let name = match short {
                Some(s) => s.to_string(),
                None if i % 2 == 0 => n.to_ascii_lowercase(),
                None => n.to_ascii_uppercase(),
            };
            (name, v.trim().to_string())
        })
        .collect();
    // Another legal order (RFC 3261 §7.3.1): fields of different names move, fields of one
    // name keep their relative order (stable sort).
    hs.sort_by_key(|(n, _)| std::cmp::Reverse(n.trim().len()));
    let mut s = String::from(start);
    for (n, v) in hs {
        s.push_str("\r\n");
        s.push_str(&n);
        s.push_str(if n.len() == 1 { ":" } else { ":  " });
        s.push_str(&v);
    }
    s.push_str("\r\n\r\n");
    s.push_str(body);
    s
}

/// An MSRP SEND cut into chunks of `n` body bytes (RFC 4975 §5.1, Byte-Range §7.1.1); the last
/// chunk keeps the transaction id, so the trace's 200 OK answers it.
fn chunked(raw: &str, n: usize) -> Option<Vec<Vec<u8>>> {
    let (first, rest) = raw.split_once("\r\n")?;
    let mut p = first.split(' ');
    let (_, tid, method) = (p.next()?, p.next()?, p.next()?);
    if method != "SEND" {
        return None;
    }
    let (head, body_end) = rest.split_once("\r\n\r\n")?;
    let end_line = format!("\r\n-------{tid}$\r\n");
    let body = body_end.strip_suffix(&end_line)?.as_bytes();
    if body.len() <= n {
        return None;
    }
    let headers: Vec<&str> = head.split("\r\n").filter(|l| !l.starts_with("Byte-Range:")).collect();
    let pieces: Vec<&[u8]> = body.chunks(n).collect();
    let mut out = Vec::new();
    let mut start = 1;
    for (k, piece) in pieces.iter().enumerate() {
        let last = k + 1 == pieces.len();
        let t = if last { tid.to_string() } else { format!("{tid}c{k}") };
        let mut m = format!("MSRP {t} SEND\r\n").into_bytes();
        for (i, h) in headers.iter().enumerate() {
            m.extend_from_slice(h.as_bytes());
            m.extend_from_slice(b"\r\n");
            if i == 2 {
                m.extend_from_slice(format!("Byte-Range: {start}-{}/{}\r\n", start + piece.len() - 1, body.len()).as_bytes());
            }
        }
        m.extend_from_slice(b"\r\n");
        m.extend_from_slice(piece);
        m.extend_from_slice(format!("\r\n-------{t}{}\r\n", if last { '$' } else { '+' }).as_bytes());
        start += piece.len();
        out.push(m);
    }
    Some(out)
}

struct Conn {
    lanes: [usize; 2],
    ports: [u16; 2],
    nxt: [u32; 2],
}

/// The trace's carried messages (those the pcap export carries, in its order) written as
/// `prof` says.
pub fn write(t: &Trace, sc: &Scenario, prof: &Profile) -> Variant {
    let mut steps: Vec<&Step> = t.steps.iter().filter(|s| s.protocol != Protocol::None && !s.raw.is_empty() && !s.dropped).collect();
    steps.sort_by_key(|s| s.at_ms);
    let offset_ns = if prof.container == Container::PcapNg { 777 } else { 3_000_000 };
    let mut w = Writer::new(prof.link, prof.container);
    // The four roles first, so they have the same addresses in every preset.
    let mut lanes: Vec<&str> = vec!["carol", "carol-pf", "cf", "scscf"];
    let mut lane = |l: &str| match lanes.iter().position(|x| *x == l) {
        Some(i) => i,
        None => {
            lanes.push(l.to_owned().leak());
            lanes.len() - 1
        }
    };
    let mut conns: Vec<((bool, usize, usize), Conn)> = Vec::new();
    let mut endpoints = Vec::new();
    let mut chunks = 0;
    let mut fragments_written = 0;
    let mut i = 0;
    let mut noise_done = false;
    while i < steps.len() {
        let s = steps[i];
        let ns = (sc.start_epoch_ms + s.at_ms) * 1_000_000 + offset_ns;
        let (a, b) = (lane(&s.from), lane(&s.to));
        let msrp = s.protocol == Protocol::MSRP;
        if prof.noise && !noise_done {
            noise_done = true;
            noise(&mut w, ns, prof.ipv6);
        }
        if !msrp && prof.sip_udp {
            let src = SocketAddr::new(ip_of(prof.ipv6, a), prof.sip_port);
            let dst = SocketAddr::new(ip_of(prof.ipv6, b), prof.sip_port);
            let text = if prof.compact { compact(&s.raw) } else { s.raw.clone() };
            let packet = ip_packet(src, dst, None, text.as_bytes());
            match prof.fragment {
                Some(n) if !prof.ipv6 && packet.len() > 20 + n => {
                    let mut frags = fragments(&packet, n, i as u16);
                    fragments_written += frags.len();
                    frags.reverse();
                    for f in frags {
                        w.frame(ns, &f, false);
                    }
                }
                _ => w.frame(ns, &packet, prof.ipv6),
            }
            endpoints.push((src, dst));
            i += 1;
            continue;
        }
        let key = (msrp, a.min(b), a.max(b));
        let c = match conns.iter().position(|(k, _)| *k == key) {
            Some(c) => c,
            None => {
                let n = conns.len() as u16;
                let listen = if msrp { 2855 + n } else { prof.sip_port };
                let conn = Conn {
                    lanes: [a, b],
                    ports: [prof.port_base.wrapping_add(n), listen],
                    nxt: [prof.isn_base.wrapping_add(1000 + u32::from(n) * 7919), prof.isn_base.wrapping_add(900_000 + u32::from(n) * 104_729)],
                };
                let src = SocketAddr::new(ip_of(prof.ipv6, a), conn.ports[0]);
                let dst = SocketAddr::new(ip_of(prof.ipv6, b), conn.ports[1]);
                let (i0, i1) = (conn.nxt[0], conn.nxt[1]);
                w.frame(ns, &ip_packet(src, dst, Some((i0, 0, 2)), &[]), prof.ipv6);
                let (j0, j1) = (i0.wrapping_add(1), i1.wrapping_add(1));
                w.frame(ns, &ip_packet(dst, src, Some((i1, j0, 18)), &[]), prof.ipv6);
                w.frame(ns, &ip_packet(src, dst, Some((j0, j1, 16)), &[]), prof.ipv6);
                conns.push((key, Conn { nxt: [j0, j1], ..conn }));
                conns.len() - 1
            }
        };
        // The bytes of this message, and of the following ones on the same direction when
        // coalescing.
        let mut payload = Vec::new();
        let mut j = i;
        loop {
            let sj = steps[j];
            let text = if !msrp && prof.compact { compact(&sj.raw) } else { sj.raw.clone() };
            match prof.msrp_chunk.and_then(|n| if msrp { chunked(&sj.raw, n) } else { None }) {
                Some(parts) => {
                    chunks += parts.len() - 1;
                    for p in parts {
                        payload.extend_from_slice(&p);
                    }
                }
                None => payload.extend_from_slice(text.as_bytes()),
            }
            j += 1;
            let same = j < steps.len() && steps[j].from == sj.from && steps[j].to == sj.to && steps[j].protocol == sj.protocol && steps[j].at_ms == sj.at_ms;
            if !(prof.coalesce && same) {
                break;
            }
        }
        let conn = &mut conns[c].1;
        let d = if conn.lanes[0] == a { 0 } else { 1 };
        let src = SocketAddr::new(ip_of(prof.ipv6, conn.lanes[d]), conn.ports[d]);
        let dst = SocketAddr::new(ip_of(prof.ipv6, conn.lanes[1 - d]), conn.ports[1 - d]);
        let segs: Vec<(u32, &[u8])> = {
            let mut seq = conn.nxt[d];
            payload
                .chunks(prof.mss)
                .map(|p| {
                    let r = (seq, p);
                    seq = seq.wrapping_add(p.len() as u32);
                    r
                })
                .collect()
        };
        let mut order: Vec<usize> = (0..segs.len()).collect();
        if prof.reorder && order.len() >= 2 {
            order.swap(0, 1);
        }
        if prof.retransmit {
            order.push(0);
        }
        let ack = conn.nxt[1 - d];
        for k in order {
            let (seq, p) = segs[k];
            w.frame(ns, &ip_packet(src, dst, Some((seq, ack, 24)), p), prof.ipv6);
        }
        conn.nxt[d] = conn.nxt[d].wrapping_add(payload.len() as u32);
        w.frame(ns, &ip_packet(dst, src, Some((ack, conn.nxt[d], 16)), &[]), prof.ipv6);
        for _ in i..j {
            endpoints.push((src, dst));
        }
        i = j;
    }
    if let Some(last) = steps.last() {
        let ns = (sc.start_epoch_ms + last.at_ms + 1) * 1_000_000 + offset_ns;
        for (_, c) in &conns {
            let a = SocketAddr::new(ip_of(prof.ipv6, c.lanes[0]), c.ports[0]);
            let b = SocketAddr::new(ip_of(prof.ipv6, c.lanes[1]), c.ports[1]);
            match prof.end {
                End::Open => {}
                End::Fin => {
                    w.frame(ns, &ip_packet(a, b, Some((c.nxt[0], c.nxt[1], 17)), &[]), prof.ipv6);
                    w.frame(ns, &ip_packet(b, a, Some((c.nxt[1], c.nxt[0].wrapping_add(1), 17)), &[]), prof.ipv6);
                    w.frame(ns, &ip_packet(a, b, Some((c.nxt[0].wrapping_add(1), c.nxt[1].wrapping_add(1), 16)), &[]), prof.ipv6);
                }
                End::Rst => w.frame(ns, &ip_packet(a, b, Some((c.nxt[0], 0, 4)), &[]), prof.ipv6),
            }
        }
    }
    let connections = conns.len();
    let lanes = lanes.iter().enumerate().map(|(k, l)| (l.to_string(), ip_of(prof.ipv6, k))).collect();
    Variant { bytes: w.finish(), endpoints, offset_ns, chunks, fragments: fragments_written, connections, lanes }
}

/// Traffic that is neither SIP nor MSRP: a DNS query, an HTTP request, and on Ethernet links
/// an ARP frame.
fn noise(w: &mut Writer, ns: u64, v6: bool) {
    let (a, b) = (SocketAddr::new(ip_of(v6, 90), 53000), SocketAddr::new(ip_of(v6, 91), 53));
    w.frame(ns, &ip_packet(a, b, None, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"), v6);
    let (a, b) = (SocketAddr::new(ip_of(v6, 90), 53001), SocketAddr::new(ip_of(v6, 92), 80));
    w.frame(ns, &ip_packet(a, b, Some((5, 0, 2)), &[]), v6);
    w.frame(ns, &ip_packet(a, b, Some((6, 1, 24)), b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), v6);
    if matches!(w.link, Link::Ethernet | Link::Vlan) {
        let mut arp = Ethernet2Header { source: [2, 0, 0, 0, 0, 1], destination: [0xff; 6], ether_type: EtherType::ARP }.to_bytes().to_vec();
        arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 203, 0, 113, 90, 0, 0, 0, 0, 0, 0, 203, 0, 113, 91]);
        w.raw(ns, &arp);
    }
}

/// An Ethernet pcap with noise only.
pub fn noise_only() -> Vec<u8> {
    let mut w = Writer::new(Link::Ethernet, Container::Pcap);
    noise(&mut w, 1_700_000_000_000_000_000, false);
    w.finish()
}

/// A pcapng file with its section header and nothing else.
pub fn pcapng_header_only() -> Vec<u8> {
    PcapNgWriter::new(Vec::new()).unwrap().into_inner()
}
