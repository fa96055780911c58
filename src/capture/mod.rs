//! The capture reader: a pcap or pcapng file of someone's network, read as a stream of
//! reassembled, typed SIP and MSRP messages with frame number, time, endpoints and transport
//! (issue 14, "Bring your own PF": the input half).
//!
//! Layers, each in its own module:
//! - `container`: pcap / pcapng records (the `pcap-parser` crate);
//! - `packet`: link, IP and transport headers, IP fragments (the `etherparse` crate);
//! - `tcp`: stream reassembly of each direction of each connection;
//! - `framing`: SIP and MSRP message boundaries, then the typed parsers of [`crate::wire`]
//!   ([`SipMessage::parse`], [`crate::wire::msrp::parse`]); `msrp_chunks` joins MSRP chunks;
//! - `problems`: [`CaptureError`], [`SkipKind`] and the [`Stats`] that count skips;
//! - [`roles`]: who is Carol's client, her PF, the CF and the S-CSCF.
//!
//! The reader is sans-IO and streaming: [`CaptureReader::push`] takes the bytes as they come
//! (a file read in chunks, a browser `File` sliced), [`CaptureReader::finish`] marks the end,
//! and [`CaptureReader::pop`] hands out what is complete ([`CaptureReader::pop_item`] also
//! the TCP connection events, [`ConnectionEvent`], in order with the messages). Memory is bounded by the limits
//! below, whatever the file's size: one record ([`MAX_RECORD`]), per TCP direction one
//! message being framed ([`MAX_HEAD`] + [`MAX_BODY`]) and [`MAX_OUT_OF_ORDER`] bytes behind a
//! hole, at most [`MAX_FLOWS`] directions at once, [`MAX_PENDING_CHUNKED`] MSRP messages
//! being joined from chunks of at most [`MAX_JOINED`] bytes, and the IP packets being joined
//! from fragments within [`FRAGMENT_FRAMES`] frames (64 KiB each at most). [`Messages`] is the native
//! iterator over any [`std::io::Read`].
//!
//! Malformed input never panics: a broken file is a [`CaptureError`]; a packet or message the
//! reader cannot use is counted by [`SkipKind`] in [`Stats`] with the first frame and a detail.

mod container;
mod framing;
mod msrp_chunks;
mod packet;
mod problems;
pub mod roles;
mod tcp;

pub use container::MAX_RECORD;
pub use framing::{MAX_BODY, MAX_HEAD, MAX_JOINED, MAX_PENDING_CHUNKED};
pub use packet::FRAGMENT_FRAMES;
pub use problems::{CaptureError, SkipCount, SkipKind, Stats};
pub use tcp::MAX_OUT_OF_ORDER;

use crate::wire::msrp::MsrpMessage;
use crate::wire::sip::SipMessage;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// Directions of TCP connections followed at once; beyond, the longest idle one is dropped.
pub const MAX_FLOWS: usize = 4096;

/// The transport a message came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (RFC 768): one SIP message per datagram.
    Udp,
    /// TCP (RFC 9293): a reassembled byte stream.
    Tcp,
}

impl Transport {
    /// `udp` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// A typed message: the values the emulator's own machines take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireMessage {
    /// A SIP request or response (RFC 3261).
    Sip(SipMessage),
    /// An MSRP request or response (RFC 4975), chunks joined.
    Msrp(MsrpMessage<'static>),
}

impl WireMessage {
    /// A short label: the method or `code reason`.
    pub fn label(&self) -> String {
        match self {
            WireMessage::Sip(m) => m.label(),
            WireMessage::Msrp(m) => m.label(),
        }
    }
}

/// One message read from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    /// Number of the frame whose bytes completed the message (1 = the file's first packet, as
    /// Wireshark counts).
    pub frame: u64,
    /// Number of the frame that brought its first byte (first chunk for joined MSRP chunks).
    pub first_frame: u64,
    /// Time of `frame`, nanoseconds since 1970 (UTC).
    pub time_ns: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// The parsed message.
    pub message: WireMessage,
    /// Its size on the wire in bytes (the last chunk's for joined MSRP chunks).
    pub wire_len: usize,
}

/// A TCP connection event, one direction (RFC 9293 §3.5, §3.6): what the judge needs to see
/// connection losses (e.g. Carol's MSRP connection reset) in order with the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionKind {
    /// `src` opened a connection to `dst` (SYN without ACK).
    Opened,
    /// `src` closed its direction (FIN), after its last bytes.
    Closed,
    /// `src` reset the connection (RST).
    Reset,
}

/// A TCP connection opened, closed or reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionEvent {
    /// The frame of the SYN, FIN or RST.
    pub frame: u64,
    /// Its time, nanoseconds since 1970 (UTC).
    pub time_ns: u64,
    /// The side that sent it.
    pub src: SocketAddr,
    /// The other side.
    pub dst: SocketAddr,
    /// What happened.
    pub kind: ConnectionKind,
}

/// What the reader hands out, in capture order.
// Messages are the common case: boxing them would cost an allocation each to save room in the
// rare connection events.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A whole SIP or MSRP message.
    Message(CapturedMessage),
    /// A TCP connection opened, closed or reset.
    Connection(ConnectionEvent),
}

struct Flow {
    reasm: tcp::Reassembler,
    framer: framing::StreamFramer,
    last_frame: u64,
    last_ns: u64,
    /// An Opened event was given for this direction.
    opened: bool,
    /// FIN or RST seen: later segments are retransmissions, until a new SYN.
    closed: bool,
}

/// The streaming capture reader (see the module documentation).
pub struct CaptureReader {
    container: container::Container,
    /// Unparsed input (at most one record).
    buf: Vec<u8>,
    flows: HashMap<(SocketAddr, SocketAddr), Flow>,
    chunks: msrp_chunks::Chunks,
    defrag: packet::Defrag,
    out: VecDeque<Item>,
    stats: Stats,
    failed: Option<CaptureError>,
    finished: bool,
}

impl Default for CaptureReader {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureReader {
    /// A reader before the first byte.
    pub fn new() -> Self {
        CaptureReader {
            container: container::Container::new(),
            buf: Vec::new(),
            flows: HashMap::new(),
            chunks: msrp_chunks::Chunks::default(),
            defrag: packet::Defrag::default(),
            out: VecDeque::new(),
            stats: Stats::default(),
            failed: None,
            finished: false,
        }
    }

    /// Feeds the next bytes of the file. After an error, every later call returns it again.
    pub fn push(&mut self, data: &[u8]) -> Result<(), CaptureError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.stats.bytes += data.len() as u64;
        let r = if self.buf.is_empty() {
            self.parse(data).map(|n| self.buf.extend_from_slice(&data[n..]))
        } else {
            let mut b = std::mem::take(&mut self.buf);
            b.extend_from_slice(data);
            let r = self.parse(&b).map(|n| {
                b.drain(..n);
            });
            self.buf = b;
            r
        };
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Marks the end of the file: connections still open are flushed (a message cut at the
    /// end is counted as [`SkipKind::Incomplete`]). An input that stops inside a record is a
    /// [`CaptureError::Truncated`]; the messages before it stay available to [`CaptureReader::pop`].
    pub fn finish(&mut self) -> Result<(), CaptureError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.finished {
            self.finished = true;
            let mut flows: Vec<_> = self.flows.drain().collect();
            flows.sort_by_key(|(_, f)| f.last_frame);
            for ((src, dst), mut f) in flows {
                let mut sink =
                    framing::Sink { out: &mut self.out, stats: &mut self.stats, chunks: &mut self.chunks, frame: f.last_frame, time_ns: f.last_ns, src, dst };
                let framer = &mut f.framer;
                f.reasm.close(&mut |p| framer.feed(p, &mut sink));
                framer.close(&mut sink);
            }
        }
        let e = if self.stats.bytes == 0 {
            CaptureError::Empty
        } else if !self.buf.is_empty() || !self.container.started() {
            CaptureError::Truncated { offset: self.container.offset, present: self.buf.len() as u64 }
        } else {
            return Ok(());
        };
        self.failed = Some(e.clone());
        Err(e)
    }

    /// The next complete message, in the order their last bytes were captured (connection
    /// events are passed over; [`CaptureReader::pop_item`] gives both).
    pub fn pop(&mut self) -> Option<CapturedMessage> {
        loop {
            match self.out.pop_front()? {
                Item::Message(m) => return Some(m),
                Item::Connection(_) => continue,
            }
        }
    }

    /// The next message or connection event, in capture order.
    pub fn pop_item(&mut self) -> Option<Item> {
        self.out.pop_front()
    }

    /// What the reader saw so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Parses records from `src`; returns how many bytes were consumed.
    fn parse(&mut self, src: &[u8]) -> Result<usize, CaptureError> {
        let mut at = 0;
        loop {
            match self.container.next(&src[at..])? {
                container::Step::Need => return Ok(at),
                container::Step::Record { consumed, frame } => {
                    if consumed == 0 {
                        return Ok(at); // cannot happen with pcap-parser; guards the loop
                    }
                    if let Some(f) = frame {
                        self.frame(f);
                    }
                    at += consumed;
                    self.container.offset += consumed as u64;
                }
            }
        }
    }

    fn frame(&mut self, f: container::Frame<'_>) {
        self.stats.frames += 1;
        let n = self.stats.frames;
        let p = match packet::decode(f.linktype, f.data, n, &mut self.defrag) {
            Ok(Some(p)) => p,
            Ok(None) => return, // a fragment; the packet comes with its last one
            Err((kind, detail)) => {
                let kind = if f.cut && kind == SkipKind::Malformed { SkipKind::SnapCut } else { kind };
                return self.stats.skip(kind, n, || detail);
            }
        };
        let mut sink =
            framing::Sink { out: &mut self.out, stats: &mut self.stats, chunks: &mut self.chunks, frame: n, time_ns: f.time_ns, src: p.src, dst: p.dst };
        let packet::Seg::Tcp { seq, syn, ack, fin, rst } = p.seg else {
            return framing::datagram(&p.payload, &mut sink);
        };
        let key = (p.src, p.dst);
        if !self.flows.contains_key(&key) && self.flows.len() >= MAX_FLOWS {
            // The longest idle direction goes; that loses something only when it held bytes.
            if let Some(old) = self.flows.iter().min_by_key(|(_, f)| f.last_frame).map(|(k, _)| *k) {
                if let Some(f) = self.flows.remove(&old) {
                    let held = f.framer.buffered() + f.reasm.waiting();
                    if held > 0 {
                        sink.skip(SkipKind::FlowEvicted, || format!("TCP {} → {} with {held} bytes of an unfinished message", old.0, old.1));
                    }
                }
            }
        }
        let new_flow = || Flow {
            reasm: tcp::Reassembler::default(),
            framer: framing::StreamFramer::new(),
            last_frame: n,
            last_ns: f.time_ns,
            opened: false,
            closed: false,
        };
        let flow = self.flows.entry(key).or_insert_with(new_flow);
        if flow.closed {
            if !syn {
                // A retransmission after the close.
                sink.stats.tcp_retransmissions += 1;
                return;
            }
            *flow = new_flow(); // the 4-tuple used again
        }
        flow.last_frame = n;
        flow.last_ns = f.time_ns;
        let event = |kind| Item::Connection(ConnectionEvent { frame: n, time_ns: f.time_ns, src: p.src, dst: p.dst, kind });
        if syn && !ack && !flow.opened {
            flow.opened = true;
            sink.out.push_back(event(ConnectionKind::Opened));
        }
        if syn && flow.reasm.is_fresh() {
            flow.framer.seen_from_start();
        }
        let (r0, o0) = (flow.reasm.retransmissions, flow.reasm.out_of_order);
        let framer = &mut flow.framer;
        flow.reasm.segment(seq, syn, &p.payload, &mut |piece| framer.feed(piece, &mut sink));
        sink.stats.tcp_retransmissions += flow.reasm.retransmissions - r0;
        sink.stats.tcp_out_of_order += flow.reasm.out_of_order - o0;
        if fin || rst {
            let framer = &mut flow.framer;
            flow.reasm.close(&mut |piece| framer.feed(piece, &mut sink));
            framer.close(&mut sink);
            flow.closed = true;
            sink.out.push_back(event(if rst { ConnectionKind::Reset } else { ConnectionKind::Closed }));
        }
    }
}

/// Reads a whole capture held in memory: every message, the statistics, and the error that
/// stopped the reading if any (the messages before it are kept).
pub fn read_all(bytes: &[u8]) -> (Vec<CapturedMessage>, Stats, Option<CaptureError>) {
    let mut r = CaptureReader::new();
    let mut err = r.push(bytes).err();
    if err.is_none() {
        err = r.finish().err();
    }
    let mut v = Vec::new();
    while let Some(m) = r.pop() {
        v.push(m);
    }
    (v, r.stats.clone(), err)
}

/// The messages and connection events of a capture read from `R` in 64 KiB pieces: the native
/// streaming iterator. Yields every item, then the error that ended the reading if any, then
/// `None`.
pub struct Items<R> {
    input: R,
    reader: CaptureReader,
    piece: Vec<u8>,
    done: bool,
    error: Option<CaptureError>,
}

impl<R: std::io::Read> Items<R> {
    /// Starts reading `input`.
    pub fn new(input: R) -> Self {
        Items { input, reader: CaptureReader::new(), piece: vec![0; 64 * 1024], done: false, error: None }
    }

    /// What the reader saw so far.
    pub fn stats(&self) -> &Stats {
        self.reader.stats()
    }
}

impl<R: std::io::Read> Iterator for Items<R> {
    type Item = Result<Item, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(m) = self.reader.pop_item() {
                return Some(Ok(m));
            }
            if self.done {
                return self.error.take().map(Err);
            }
            let n = match self.input.read(&mut self.piece) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    self.error = Some(CaptureError::Io(e.to_string()));
                    continue;
                }
            };
            let r = if n == 0 {
                self.done = true;
                self.reader.finish()
            } else {
                self.reader.push(&self.piece[..n])
            };
            if let Err(e) = r {
                // Items completed before the error come first.
                self.done = true;
                self.error = Some(e);
            }
        }
    }
}

/// The messages of a capture read from `R` ([`Items`] without the connection events).
pub struct Messages<R>(Items<R>);

impl<R: std::io::Read> Messages<R> {
    /// Starts reading `input`.
    pub fn new(input: R) -> Self {
        Messages(Items::new(input))
    }

    /// What the reader saw so far.
    pub fn stats(&self) -> &Stats {
        self.0.stats()
    }
}

impl<R: std::io::Read> Iterator for Messages<R> {
    type Item = Result<CapturedMessage, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.0.next()? {
                Ok(Item::Message(m)) => return Some(Ok(m)),
                Ok(Item::Connection(_)) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
