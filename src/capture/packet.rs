//! From a captured frame to an IP endpoint pair and a UDP or TCP payload, with the `etherparse`
//! crate: Ethernet II with IEEE 802.1Q / 802.1ad VLAN tags, Linux cooked capture v1 (SLL) and
//! v2 (SLL2, its header read by `pcap-parser`'s `data` module), raw IP, BSD loopback; IPv4
//! (RFC 791) and IPv6 (RFC 8200, extension headers skipped); UDP (RFC 768) and TCP (RFC 9293).
//! IP fragments (RFC 791 §2.3, RFC 8200 §4.5; e.g. a SIP INVITE over UDP larger than the MTU)
//! are joined with etherparse's `IpDefragPool`; a packet whose fragments are not all there
//! [`FRAGMENT_FRAMES`] frames after its first is given up (so at most that many packets of at
//! most 64 KiB are in progress).

use super::SkipKind;
use etherparse::defrag::IpDefragPool;
use etherparse::{EtherType, IpNumber, NetSlice, SlicedPacket, TcpSlice, TransportSlice, UdpSlice};
use pcap_parser::data::PacketData;
use pcap_parser::Linktype;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

/// The transport part of a packet the reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg {
    Udp,
    Tcp { seq: u32, syn: bool, ack: bool, fin: bool, rst: bool },
}

/// A UDP datagram or a TCP segment between two endpoints.
#[derive(Debug)]
pub(crate) struct Packet<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seg: Seg,
    /// Borrowed from the frame, or owned when joined from IP fragments.
    pub payload: Cow<'a, [u8]>,
}

/// Frames after which an unfinished fragmented IP packet is given up.
pub const FRAGMENT_FRAMES: u64 = 2048;

/// The IP fragments in progress (stamped with the frame number of their latest fragment).
#[derive(Debug, Default)]
pub(crate) struct Defrag {
    pool: IpDefragPool<u64, ()>,
}

/// Why a frame carries nothing for the reader, with a detail for the first of its kind.
pub(crate) type Skip = (SkipKind, String);

fn sliced(linktype: Linktype, data: &[u8]) -> Result<SlicedPacket<'_>, Skip> {
    let r = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 | Linktype(12) | Linktype(14) => SlicedPacket::from_ip(data),
        Linktype::LINUX_SLL2 | Linktype::NULL | Linktype::LOOP => {
            let l3 = if linktype == Linktype::LINUX_SLL2 {
                pcap_parser::data::get_packetdata_linux_sll2(data, data.len())
            } else {
                pcap_parser::data::get_packetdata_null(data, data.len())
            };
            match l3 {
                Some(PacketData::L3(ethertype, payload)) => SlicedPacket::from_ether_type(EtherType(ethertype), payload),
                _ => return Err((SkipKind::Malformed, format!("link header of type {} is too short", linktype.0))),
            }
        }
        other => return Err((SkipKind::LinkType, format!("link type {} (see tcpdump.org/linktypes)", other.0))),
    };
    r.map_err(|e| (SkipKind::Malformed, e.to_string()))
}

/// Decodes one frame (number `frame`) down to its UDP or TCP payload. `Ok(None)`: a fragment
/// of an IP packet not complete yet.
pub(crate) fn decode<'a>(linktype: Linktype, data: &'a [u8], frame: u64, defrag: &mut Defrag) -> Result<Option<Packet<'a>>, Skip> {
    let p = sliced(linktype, data)?;
    let (src, dst, fragmented) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), v4.payload().fragmented)
        }
        Some(NetSlice::Ipv6(v6)) => {
            let h = v6.header();
            (IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr()), v6.payload().fragmented)
        }
        _ => return Err((SkipKind::NotIp, "no IPv4 or IPv6 header".into())),
    };
    if fragmented {
        return defragment(&p, src, dst, frame, defrag);
    }
    match p.transport {
        Some(TransportSlice::Udp(u)) => Ok(Some(Packet {
            src: SocketAddr::new(src, u.source_port()),
            dst: SocketAddr::new(dst, u.destination_port()),
            seg: Seg::Udp,
            payload: Cow::Borrowed(u.payload()),
        })),
        Some(TransportSlice::Tcp(t)) => Ok(Some(Packet {
            src: SocketAddr::new(src, t.source_port()),
            dst: SocketAddr::new(dst, t.destination_port()),
            seg: Seg::Tcp { seq: t.sequence_number(), syn: t.syn(), ack: t.ack(), fin: t.fin(), rst: t.rst() },
            payload: Cow::Borrowed(t.payload()),
        })),
        _ => Err((SkipKind::NotUdpTcp, format!("{src} → {dst}"))),
    }
}

fn defragment<'a>(p: &SlicedPacket<'_>, src: IpAddr, dst: IpAddr, frame: u64, d: &mut Defrag) -> Result<Option<Packet<'a>>, Skip> {
    if frame % 256 == 0 {
        let oldest = frame.saturating_sub(FRAGMENT_FRAMES);
        d.pool.retain(|seen| *seen >= oldest);
    }
    let whole = match d.pool.process_sliced_packet(p, frame, ()) {
        Ok(None) => return Ok(None),
        Ok(Some(w)) => w,
        Err(e) => return Err((SkipKind::IpFragment, format!("{src} → {dst}: {e}"))),
    };
    let bytes = whole.payload;
    let packet = match whole.ip_number {
        IpNumber::UDP => {
            let u = UdpSlice::from_slice(&bytes).map_err(|e| (SkipKind::Malformed, format!("joined IP fragments {src} → {dst}: {e}")))?;
            let (sp, dp) = (u.source_port(), u.destination_port());
            let at = bytes.len() - u.payload().len();
            Packet { src: SocketAddr::new(src, sp), dst: SocketAddr::new(dst, dp), seg: Seg::Udp, payload: Cow::Owned(bytes[at..].to_vec()) }
        }
        IpNumber::TCP => {
            let t = TcpSlice::from_slice(&bytes).map_err(|e| (SkipKind::Malformed, format!("joined IP fragments {src} → {dst}: {e}")))?;
            let seg = Seg::Tcp { seq: t.sequence_number(), syn: t.syn(), ack: t.ack(), fin: t.fin(), rst: t.rst() };
            let (sp, dp) = (t.source_port(), t.destination_port());
            let at = bytes.len() - t.payload().len();
            Packet { src: SocketAddr::new(src, sp), dst: SocketAddr::new(dst, dp), seg, payload: Cow::Owned(bytes[at..].to_vec()) }
        }
        _ => return Err((SkipKind::NotUdpTcp, format!("{src} → {dst}"))),
    };
    Ok(Some(packet))
}
