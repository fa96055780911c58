//! What can go wrong reading a capture: [`CaptureError`] (the file cannot be read at all) and
//! the packets and messages skipped and counted by [`SkipKind`] in [`Stats`].

use std::fmt;

/// Why a capture cannot be read at all. Messages read before the error stay available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The input has no bytes.
    Empty,
    /// The first bytes are neither a pcap nor a pcapng magic number.
    NotACapture {
        /// The first four bytes.
        first_bytes: [u8; 4],
    },
    /// The input ends inside a record (a capture cut short, e.g. tcpdump killed while writing).
    Truncated {
        /// Offset of the record that is cut.
        offset: u64,
        /// Bytes of it present.
        present: u64,
    },
    /// A record declares a length beyond [`MAX_RECORD`](super::MAX_RECORD).
    RecordTooLarge {
        /// Offset of the record.
        offset: u64,
        /// The limit.
        limit: u64,
    },
    /// A record is not what the format allows.
    Malformed {
        /// Offset of the record.
        offset: u64,
        /// Which record.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Reading the input failed.
    Io(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Empty => write!(f, "the capture is empty (0 bytes)"),
            CaptureError::NotACapture { first_bytes: b } => write!(
                f,
                "not a pcap or pcapng file (it starts with {:02x} {:02x} {:02x} {:02x}); save the capture as pcap or pcapng, e.g. with Wireshark's File › Save As or `editcap -F pcapng IN OUT`",
                b[0], b[1], b[2], b[3]
            ),
            CaptureError::Truncated { offset, present } => {
                write!(f, "the capture ends inside a record at byte {offset} ({present} bytes of it present): the file was cut short; the messages before it were read")
            }
            CaptureError::RecordTooLarge { offset, limit } => {
                write!(f, "the record at byte {offset} declares a length over the {limit} bytes accepted: the file is damaged or not a capture")
            }
            CaptureError::Malformed { offset, what, detail } => write!(f, "malformed {what} at byte {offset}: {detail}"),
            CaptureError::Io(e) => write!(f, "cannot read the capture: {e}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// A kind of packet or message the reader could not use. Counted, never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// A link type the reader does not decode (it knows Ethernet, Linux SLL and SLL2, raw IP,
    /// BSD loopback).
    LinkType,
    /// The link, IP or transport header is damaged.
    Malformed,
    /// The packet was captured shorter than it was (snaplen) and cannot be used.
    SnapCut,
    /// Not IPv4 or IPv6 (ARP, LLDP …).
    NotIp,
    /// IP fragments that cannot be joined (overlapping, too long).
    IpFragment,
    /// Neither UDP nor TCP (ICMP …).
    NotUdpTcp,
    /// UDP datagrams or TCP connections that carry neither SIP nor MSRP (DNS, RTP, TLS …).
    NotSipMsrp,
    /// A SIP message the SIP parser refuses.
    BadSip,
    /// An MSRP message the MSRP parser refuses.
    BadMsrp,
    /// MSRP chunks that cannot be joined (out of order, missing, aborted).
    MsrpChunk,
    /// A message that is not UTF-8 text.
    NotUtf8,
    /// Bytes of a TCP stream that were never captured.
    TcpGap,
    /// A message beyond the size limits.
    TooLong,
    /// A TCP stream that ends inside a message.
    Incomplete,
    /// A TCP direction holding part of a message dropped because more than [`MAX_FLOWS`](super::MAX_FLOWS) were
    /// open (idle directions holding nothing are dropped without a count).
    FlowEvicted,
}

impl SkipKind {
    /// Every kind, in order.
    pub const ALL: [SkipKind; 15] = [
        SkipKind::LinkType,
        SkipKind::Malformed,
        SkipKind::SnapCut,
        SkipKind::NotIp,
        SkipKind::IpFragment,
        SkipKind::NotUdpTcp,
        SkipKind::NotSipMsrp,
        SkipKind::BadSip,
        SkipKind::BadMsrp,
        SkipKind::MsrpChunk,
        SkipKind::NotUtf8,
        SkipKind::TcpGap,
        SkipKind::TooLong,
        SkipKind::Incomplete,
        SkipKind::FlowEvicted,
    ];

    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::LinkType => "unsupported-link-type",
            SkipKind::Malformed => "malformed-packet",
            SkipKind::SnapCut => "cut-by-snaplen",
            SkipKind::NotIp => "not-ip",
            SkipKind::IpFragment => "ip-fragment",
            SkipKind::NotUdpTcp => "not-udp-or-tcp",
            SkipKind::NotSipMsrp => "not-sip-or-msrp",
            SkipKind::BadSip => "bad-sip",
            SkipKind::BadMsrp => "bad-msrp",
            SkipKind::MsrpChunk => "msrp-chunks",
            SkipKind::NotUtf8 => "not-utf8",
            SkipKind::TcpGap => "tcp-gap",
            SkipKind::TooLong => "too-long",
            SkipKind::Incomplete => "incomplete",
            SkipKind::FlowEvicted => "flow-evicted",
        }
    }
}

/// How often one kind of skip happened, and where first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipCount {
    /// The kind.
    pub kind: SkipKind,
    /// How many times.
    pub count: u64,
    /// The frame of the first one.
    pub first_frame: u64,
    /// What the first one was.
    pub first_detail: String,
}

/// What the reader saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of input.
    pub bytes: u64,
    /// Packet records.
    pub frames: u64,
    /// SIP messages delivered.
    pub sip: u64,
    /// MSRP messages delivered (chunks joined count once).
    pub msrp: u64,
    /// TCP segments whose bytes had been seen already.
    pub tcp_retransmissions: u64,
    /// TCP segments that came ahead of missing bytes.
    pub tcp_out_of_order: u64,
    /// Skips by kind, in [`SkipKind::ALL`] order, those that happened.
    pub skips: Vec<SkipCount>,
}

impl Stats {
    pub(crate) fn skip(&mut self, kind: SkipKind, frame: u64, detail: impl FnOnce() -> String) {
        match self.skips.iter_mut().find(|s| s.kind == kind) {
            Some(s) => s.count += 1,
            None => {
                self.skips.push(SkipCount { kind, count: 1, first_frame: frame, first_detail: detail() });
                self.skips.sort_by_key(|s| s.kind);
            }
        }
    }

    /// The count of one kind of skip.
    pub fn skipped(&self, kind: SkipKind) -> u64 {
        self.skips.iter().find(|s| s.kind == kind).map_or(0, |s| s.count)
    }
}
