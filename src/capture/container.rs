//! The capture file container: classic pcap (all four magic numbers: micro- and nanosecond,
//! either byte order, and the "modified" format) and pcapng (sections of either byte order,
//! several interfaces, `if_tsresol` and `if_tsoffset`), read with the `pcap-parser` crate
//! (rusticata) one record at a time from whatever bytes have arrived.
//!
//! Formats: <https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html> (pcap) and
//! <https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html> (pcapng §4.1 SHB, §4.2 IDB,
//! §4.3 EPB, §4.4 SPB; `if_tsresol` §4.2).

use super::CaptureError;
use pcap_parser::nom;
use pcap_parser::{Block, Linktype, PcapError};

/// The largest record accepted (a pcap record or a pcapng block): a declared length above it is
/// refused before anything is buffered for it. 256 KiB is the largest snaplen tcpdump and
/// Wireshark write; the margin covers pcapng options.
pub const MAX_RECORD: usize = 1 << 20;

/// One captured packet.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    /// Nanoseconds since 1970 (UTC).
    pub time_ns: u64,
    /// The packet's link type (of the file, or of its pcapng interface).
    pub linktype: Linktype,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Whether fewer bytes were captured than the packet had (snaplen).
    pub cut: bool,
}

/// What the parser made of the bytes at hand.
pub(crate) enum Step<'a> {
    /// More bytes are needed before anything can be parsed.
    Need,
    /// `consumed` bytes were parsed; a packet record gives a frame, other records none.
    Record { consumed: usize, frame: Option<Frame<'a>> },
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset_s: i64,
}

#[derive(Debug)]
enum Format {
    /// Nothing parsed yet.
    Start,
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        linktype: Linktype,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// The container parser's state (which format, byte order, interfaces).
#[derive(Debug)]
pub(crate) struct Container {
    format: Format,
    /// Bytes consumed so far (for error messages).
    pub offset: u64,
    /// Time of the last frame (a pcapng Simple Packet Block has none of its own).
    last_ns: u64,
}

const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Whether these first bytes can start a capture file this reader knows.
fn known_magic(b: &[u8; 4]) -> bool {
    let le = u32::from_le_bytes(*b);
    matches!(le, 0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 | 0xd4c3_b2a1 | 0x4d3c_b2a1) || *b == PCAPNG_SHB
}

fn nom_err(offset: u64, what: &'static str, e: nom::Err<PcapError<&[u8]>>) -> CaptureError {
    let detail = match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => match e {
            PcapError::NomError(_, k) | PcapError::OwnedNomError(_, k) => format!("{k:?}"),
            other => format!("{other:?}"),
        },
        nom::Err::Incomplete(_) => "incomplete".into(),
    };
    CaptureError::Malformed { offset, what, detail }
}

fn need(offset: u64, have: usize, n: nom::Needed) -> Result<Step<'static>, CaptureError> {
    if let nom::Needed::Size(n) = n {
        let total = have.saturating_add(n.get());
        if total > MAX_RECORD {
            return Err(CaptureError::RecordTooLarge { offset, limit: MAX_RECORD as u64 });
        }
    }
    if have > MAX_RECORD {
        return Err(CaptureError::RecordTooLarge { offset, limit: MAX_RECORD as u64 });
    }
    Ok(Step::Need)
}

/// Nanoseconds of `units` ticks at `per_second` ticks per second, plus `offset_s` seconds.
fn ticks_to_ns(ticks: u64, per_second: u64, offset_s: i64) -> u64 {
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(per_second.max(1));
    let ns = ns as i128 + i128::from(offset_s) * 1_000_000_000;
    ns.clamp(0, i128::from(u64::MAX)) as u64
}

impl Container {
    pub fn new() -> Self {
        Container { format: Format::Start, offset: 0, last_ns: 0 }
    }

    /// Parses the next record of `buf` (the unparsed bytes; `buf[0]` is at [`Container::offset`]).
    pub fn next<'a>(&mut self, buf: &'a [u8]) -> Result<Step<'a>, CaptureError> {
        let offset = self.offset;
        match &mut self.format {
            Format::Start => {
                let Some(first) = buf.first_chunk::<4>() else { return Ok(Step::Need) };
                if !known_magic(first) {
                    return Err(CaptureError::NotACapture { first_bytes: *first });
                }
                if *first == PCAPNG_SHB {
                    // The section header is parsed as a block below.
                    self.format = Format::PcapNg { big_endian: false, interfaces: Vec::new() };
                    return self.next(buf);
                }
                match pcap_parser::parse_pcap_header(buf) {
                    Ok((rest, h)) => {
                        self.format = Format::Pcap {
                            big_endian: h.is_bigendian(),
                            nanos: h.is_nanosecond_precision(),
                            modified: h.is_modified_format(),
                            linktype: h.network,
                        };
                        Ok(Step::Record { consumed: buf.len() - rest.len(), frame: None })
                    }
                    Err(nom::Err::Incomplete(n)) => need(offset, buf.len(), n),
                    Err(e) => Err(nom_err(offset, "pcap file header", e)),
                }
            }
            Format::Pcap { big_endian, nanos, modified, linktype } => {
                let r = if *modified {
                    pcap_parser::parse_pcap_frame_modified(buf)
                } else if *big_endian {
                    pcap_parser::parse_pcap_frame_be(buf)
                } else {
                    pcap_parser::parse_pcap_frame(buf)
                };
                match r {
                    Ok((rest, b)) => {
                        let frac = u64::from(b.ts_usec) * if *nanos { 1 } else { 1000 };
                        let time_ns = (u64::from(b.ts_sec) * 1_000_000_000).saturating_add(frac);
                        self.last_ns = time_ns;
                        let frame = Frame { time_ns, linktype: *linktype, data: b.data, cut: b.caplen < b.origlen };
                        Ok(Step::Record { consumed: buf.len() - rest.len(), frame: Some(frame) })
                    }
                    Err(nom::Err::Incomplete(n)) => need(offset, buf.len(), n),
                    Err(e) => Err(nom_err(offset, "pcap record", e)),
                }
            }
            Format::PcapNg { big_endian, interfaces } => {
                // A new section may change the byte order: its header is recognised in both.
                let is_shb = buf.first_chunk::<4>() == Some(&PCAPNG_SHB);
                let r = if is_shb {
                    pcap_parser::parse_sectionheaderblock(buf).map(|(r, b)| (r, Block::SectionHeader(b)))
                } else if *big_endian {
                    pcap_parser::parse_block_be(buf)
                } else {
                    pcap_parser::parse_block_le(buf)
                };
                let (rest, block) = match r {
                    Ok(x) => x,
                    Err(nom::Err::Incomplete(n)) => return need(offset, buf.len(), n),
                    Err(e) => return Err(nom_err(offset, "pcapng block", e)),
                };
                let consumed = buf.len() - rest.len();
                let frame = match block {
                    Block::SectionHeader(shb) => {
                        *big_endian = shb.big_endian();
                        interfaces.clear();
                        None
                    }
                    Block::InterfaceDescription(idb) => {
                        let units = idb.ts_resolution().ok_or(CaptureError::Malformed {
                            offset,
                            what: "pcapng interface description",
                            detail: format!("if_tsresol {} is not a usable resolution", idb.if_tsresol),
                        })?;
                        interfaces.push(Interface { linktype: idb.linktype, units, offset_s: idb.if_tsoffset });
                        None
                    }
                    Block::EnhancedPacket(epb) => {
                        let Some(ifc) = interfaces.get(epb.if_id as usize) else {
                            return Err(CaptureError::Malformed {
                                offset,
                                what: "pcapng enhanced packet",
                                detail: format!("interface {} was not described", epb.if_id),
                            });
                        };
                        let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        let time_ns = ticks_to_ns(ticks, ifc.units, ifc.offset_s);
                        self.last_ns = time_ns;
                        let data: &'a [u8] = epb.data;
                        let data = &data[..data.len().min(epb.caplen as usize)];
                        Some(Frame { time_ns, linktype: ifc.linktype, data, cut: epb.caplen < epb.origlen })
                    }
                    Block::SimplePacket(spb) => {
                        let Some(ifc) = interfaces.first() else {
                            return Err(CaptureError::Malformed { offset, what: "pcapng simple packet", detail: "no interface was described".into() });
                        };
                        let data: &'a [u8] = spb.data;
                        let data = &data[..data.len().min(spb.origlen as usize)];
                        Some(Frame { time_ns: self.last_ns, linktype: ifc.linktype, data, cut: (data.len() as u64) < u64::from(spb.origlen) })
                    }
                    _ => None,
                };
                Ok(Step::Record { consumed, frame })
            }
        }
    }

    /// Whether the file header has been read.
    pub fn started(&self) -> bool {
        !matches!(self.format, Format::Start)
    }
}
