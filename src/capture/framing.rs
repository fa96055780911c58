//! From reassembled bytes to whole SIP and MSRP messages:
//! - SIP over TCP: a message ends after the empty line plus `Content-Length` bytes (RFC 3261
//!   §18.3; `l` is its compact form, §7.3.3); several messages may share a segment and one
//!   may span several. CRLF keep-alives between messages (RFC 5626 §3.5.1) are skipped.
//! - SIP over UDP: one message per datagram; without a Content-Length the body runs to the
//!   end of the datagram (RFC 3261 §18.3).
//! - MSRP over TCP: a message ends with its end-line `-------<transaction-id><flag>` (RFC 4975
//!   §7.1); chunks of one message (`Byte-Range` n-m/total, flag `+` then `$`, §7.1.1 and
//!   §5.1) are joined into one SEND carrying the whole body (`msrp_chunks`).
//!
//! After a hole in a TCP stream the framer looks for the next line that can start a message.

use super::msrp_chunks::{Chunk, Chunks};
use super::{tcp::Piece, CapturedMessage, Item, SkipKind, Stats, Transport, WireMessage};
use crate::wire::{msrp, sip::SipMessage};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// The longest SIP header section accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The largest SIP body (declared Content-Length) or MSRP message (one chunk) accepted.
pub const MAX_BODY: usize = 1 << 20;
/// The largest MSRP message joined from chunks.
pub const MAX_JOINED: usize = 4 << 20;
/// MSRP messages whose chunks are being joined at once.
pub const MAX_PENDING_CHUNKED: usize = 256;

pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// Whether `line` (without its CRLF) is a SIP Request-Line or Status-Line (RFC 3261 §7.1, §7.2).
pub(crate) fn is_sip_start_line(line: &[u8]) -> bool {
    if line.len() >= 12 && line[..8].eq_ignore_ascii_case(b"SIP/2.0 ") {
        return line[8..11].iter().all(u8::is_ascii_digit) && line[11] == b' ';
    }
    let mut parts = line.split(|&c| c == b' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(uri), Some(v), None) => {
            !m.is_empty() && m.iter().all(|c| c.is_ascii_uppercase()) && !uri.is_empty() && v.eq_ignore_ascii_case(b"SIP/2.0")
        }
        _ => false,
    }
}

/// Whether `line` is an MSRP request or response line (RFC 4975 §7.1): `MSRP <tid> …`.
fn msrp_tid(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"MSRP ")?;
    let end = rest.iter().position(|&c| c == b' ')?;
    let tid = &rest[..end];
    (!tid.is_empty() && tid.len() <= 64 && tid.iter().all(|c| c.is_ascii_alphanumeric() || b".-+%=".contains(c))).then_some(tid)
}

/// Where the delivered messages and the skips go, with the frame being read.
pub(crate) struct Sink<'s> {
    pub out: &'s mut VecDeque<Item>,
    pub stats: &'s mut Stats,
    pub chunks: &'s mut Chunks,
    pub frame: u64,
    pub time_ns: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

impl Sink<'_> {
    pub fn skip(&mut self, kind: SkipKind, detail: impl FnOnce() -> String) {
        self.stats.skip(kind, self.frame, detail);
    }

    fn push(&mut self, first_frame: u64, transport: Transport, message: WireMessage, wire_len: usize) {
        match message {
            WireMessage::Sip(_) => self.stats.sip += 1,
            WireMessage::Msrp(_) => self.stats.msrp += 1,
        }
        self.out.push_back(Item::Message(CapturedMessage {
            frame: self.frame,
            first_frame,
            time_ns: self.time_ns,
            src: self.src,
            dst: self.dst,
            transport,
            message,
            wire_len,
        }));
    }

    fn sip(&mut self, bytes: &[u8], first_frame: u64, transport: Transport, datagram: bool) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.skip(SkipKind::NotUtf8, || "SIP message".into());
        };
        let parsed = if datagram { SipMessage::parse_datagram(text) } else { SipMessage::parse(text) };
        match parsed {
            Ok(m) => self.push(first_frame, transport, WireMessage::Sip(m), bytes.len()),
            Err(e) => self.skip(SkipKind::BadSip, || format!("{e} (first line {:?})", text.lines().next().unwrap_or(""))),
        }
    }

    fn msrp(&mut self, bytes: &[u8], first_frame: u64) {
        // A chunk may end inside a UTF-8 character: chunks are joined as bytes.
        if let Some(chunk) = Chunk::of(bytes) {
            let key = (self.src, self.dst, chunk.message_id.to_string());
            return match self.chunks.add(key, chunk, first_frame) {
                Ok(None) => {}
                Ok(Some((joined, first))) => self.msrp_whole(&joined, first, bytes.len()),
                Err(why) => self.skip(SkipKind::MsrpChunk, || why),
            };
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.skip(SkipKind::NotUtf8, || "MSRP message".into());
        };
        self.msrp_whole(text, first_frame, bytes.len());
    }

    fn msrp_whole(&mut self, text: &str, first_frame: u64, wire_len: usize) {
        match msrp::parse(text) {
            Ok(m) => self.push(first_frame, Transport::Tcp, WireMessage::Msrp(m), wire_len),
            Err(e) => self.skip(SkipKind::BadMsrp, || format!("{e} (first line {:?})", text.lines().next().unwrap_or(""))),
        }
    }
}

// ------------------------------------------------------------------ UDP

/// One UDP datagram.
pub(crate) fn datagram(payload: &[u8], sink: &mut Sink<'_>) {
    let mut p = payload;
    while let Some(rest) = p.strip_prefix(b"\r\n") {
        p = rest;
    }
    if p.is_empty() {
        return; // keep-alive
    }
    let line_end = find(p, b"\r\n", 0).unwrap_or(p.len());
    if !is_sip_start_line(&p[..line_end]) {
        let (src, dst) = (sink.src, sink.dst);
        return sink.skip(SkipKind::NotSipMsrp, || format!("UDP {src} → {dst}"));
    }
    let Some(h) = find(p, b"\r\n\r\n", 0) else {
        return sink.skip(SkipKind::BadSip, || "a UDP datagram without the empty line after the headers".into());
    };
    match content_length(&p[..h]) {
        Some(Ok(n)) if h + 4 + n <= p.len() => sink.sip(&p[..h + 4 + n], sink.frame, Transport::Udp, false),
        Some(Ok(n)) => sink.skip(SkipKind::BadSip, || format!("Content-Length {n} is more than the {} bytes the datagram carries", p.len() - h - 4)),
        Some(Err(v)) => sink.skip(SkipKind::BadSip, || format!("Content-Length {v:?} is not a number")),
        None => sink.sip(p, sink.frame, Transport::Udp, true),
    }
}

/// The Content-Length (or `l`) of a SIP header section: `None` when absent.
fn content_length(head: &[u8]) -> Option<Result<usize, String>> {
    for line in head.split(|&c| c == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&c| c == b':') else { continue };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let v = line[colon + 1..].trim_ascii();
            return Some(std::str::from_utf8(v).ok().and_then(|s| s.parse::<usize>().ok()).ok_or_else(|| String::from_utf8_lossy(v).into_owned()));
        }
    }
    None
}

// ------------------------------------------------------------------ TCP streams

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Sip,
    Msrp,
    /// Neither SIP nor MSRP: ignored.
    Other,
}

/// The framer of one direction of one TCP connection.
#[derive(Debug)]
pub(crate) struct StreamFramer {
    kind: Kind,
    buf: Vec<u8>,
    /// The frame that brought the first byte of `buf`.
    first_frame: Option<u64>,
    /// After a hole: bytes are dropped up to the next line that can start a message.
    resync: bool,
    /// Bytes of `buf` already searched for the end of the current message.
    scanned: usize,
    /// The stream was seen from its SYN: its first bytes start a message.
    from_start: bool,
}

enum Framed {
    Need,
    /// A whole message of this many bytes.
    Message(usize),
    /// A message that cannot be framed: drop this many bytes (and resynchronise if `lost`).
    Bad {
        kind: SkipKind,
        detail: String,
        drop: usize,
        resync: bool,
    },
}

impl StreamFramer {
    pub fn new() -> Self {
        StreamFramer { kind: Kind::Unknown, buf: Vec::new(), first_frame: None, resync: false, scanned: 0, from_start: false }
    }

    /// The SYN of this direction was seen.
    pub fn seen_from_start(&mut self) {
        self.from_start = true;
    }

    pub fn feed(&mut self, piece: Piece<'_>, sink: &mut Sink<'_>) {
        match piece {
            Piece::Gap(n) => {
                if self.kind == Kind::Other {
                    return;
                }
                let had = self.buf.len();
                sink.skip(SkipKind::TcpGap, || {
                    if had > 0 {
                        format!("{n} bytes never captured; the message they cut ({had} bytes seen) is lost")
                    } else {
                        format!("{n} bytes never captured")
                    }
                });
                self.clear();
                self.resync = true;
            }
            Piece::Bytes(b) => {
                if self.kind == Kind::Other {
                    return;
                }
                if self.buf.is_empty() {
                    self.first_frame = Some(sink.frame);
                }
                self.buf.extend_from_slice(b);
                self.extract(sink);
            }
        }
    }

    /// Bytes of an unfinished message held.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.first_frame = None;
        self.scanned = 0;
    }

    fn consume(&mut self, n: usize, frame: u64) {
        self.buf.drain(..n.min(self.buf.len()));
        self.scanned = 0;
        self.first_frame = if self.buf.is_empty() { None } else { Some(frame) };
    }

    /// The connection ended: an unfinished message is reported.
    pub fn close(&mut self, sink: &mut Sink<'_>) {
        let rest = self.buf.iter().filter(|&&c| c != b'\r' && c != b'\n').count();
        if rest > 0 && self.kind == Kind::Unknown {
            // No line of it ever started a SIP or MSRP message.
            self.other(sink);
        } else if rest > 0 && self.kind != Kind::Other {
            let n = self.buf.len();
            sink.skip(SkipKind::Incomplete, || format!("the stream ends inside a message ({n} bytes seen)"));
        }
        self.clear();
    }

    fn extract(&mut self, sink: &mut Sink<'_>) {
        loop {
            if self.resync && !self.resynchronise() {
                return;
            }
            let crlfs = self.buf.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
            if crlfs > 0 {
                self.buf.drain(..crlfs);
                self.scanned = 0;
            }
            if self.buf.is_empty() {
                self.first_frame = None;
                return;
            }
            if self.kind == Kind::Unknown {
                // The first line that starts a SIP or MSRP message decides; bytes before it are
                // the end of a message whose start was not captured (a capture begun
                // mid-connection). No such line in the first MAX_HEAD bytes: not SIP or MSRP.
                // A stream seen from its SYN must start with a message (RFC 3261 §18.3,
                // RFC 4975 §7): its first line decides at once.
                if self.from_start {
                    if let Some(l) = find(&self.buf, b"\r\n", 0) {
                        let line = &self.buf[..l];
                        if msrp_tid(line).is_none() && !is_sip_start_line(line) {
                            return self.other(sink);
                        }
                    } else if self.buf.len() > 8192 {
                        return self.other(sink);
                    }
                }
                let mut at = 0;
                let found = loop {
                    let Some(l) = find(&self.buf, b"\r\n", at) else { break None };
                    let line = &self.buf[at..l];
                    if msrp_tid(line).is_some() {
                        break Some((at, Kind::Msrp));
                    }
                    if is_sip_start_line(line) {
                        break Some((at, Kind::Sip));
                    }
                    at = l + 2;
                };
                match found {
                    Some((start, kind)) => {
                        if start > 0 {
                            sink.skip(SkipKind::Incomplete, || {
                                format!("the connection was captured from the middle of a message ({start} bytes before the first message start)")
                            });
                            self.buf.drain(..start);
                            self.scanned = 0;
                        }
                        self.kind = kind;
                    }
                    None if self.buf.len() > MAX_HEAD => return self.other(sink),
                    None => return,
                }
            }
            let framed = if self.kind == Kind::Sip { self.frame_sip() } else { self.frame_msrp() };
            let first = self.first_frame.unwrap_or(sink.frame);
            match framed {
                Framed::Need => return,
                Framed::Message(n) => {
                    if self.kind == Kind::Sip {
                        sink.sip(&self.buf[..n], first, Transport::Tcp, false);
                    } else {
                        sink.msrp(&self.buf[..n], first);
                    }
                    self.consume(n, sink.frame);
                }
                Framed::Bad { kind, detail, drop, resync } => {
                    sink.skip(kind, || detail);
                    self.consume(drop, sink.frame);
                    self.resync |= resync;
                }
            }
        }
    }

    fn other(&mut self, sink: &mut Sink<'_>) {
        self.kind = Kind::Other;
        let (src, dst) = (sink.src, sink.dst);
        sink.skip(SkipKind::NotSipMsrp, || format!("TCP {src} → {dst}"));
        self.clear();
    }

    /// Drops bytes up to the next line that starts a message of this stream's kind; `false`
    /// when none is in the buffer yet.
    fn resynchronise(&mut self) -> bool {
        let mut at = 0;
        while let Some(l) = find(&self.buf, b"\r\n", at) {
            let line = &self.buf[at..l];
            let fits = match self.kind {
                Kind::Msrp => msrp_tid(line).is_some(),
                _ => is_sip_start_line(line) || msrp_tid(line).is_some(),
            };
            if fits {
                self.buf.drain(..at);
                self.scanned = 0;
                self.resync = false;
                return true;
            }
            at = l + 2;
        }
        // Keep the unfinished last line.
        self.buf.drain(..at);
        if self.buf.len() > 8192 {
            self.buf.clear();
        }
        self.scanned = 0;
        false
    }

    fn frame_sip(&mut self) -> Framed {
        let Some(h) = find(&self.buf, b"\r\n\r\n", self.scanned.saturating_sub(3)) else {
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_HEAD {
                return Framed::Bad {
                    kind: SkipKind::TooLong,
                    detail: format!("a SIP header section longer than {MAX_HEAD} bytes"),
                    drop: self.buf.len(),
                    resync: true,
                };
            }
            return Framed::Need;
        };
        self.scanned = h;
        match content_length(&self.buf[..h]) {
            // RFC 3261 §18.3: over a stream the length is required; the parser says so.
            None => Framed::Message(h + 4),
            Some(Err(v)) => Framed::Bad { kind: SkipKind::BadSip, detail: format!("Content-Length {v:?} is not a number"), drop: h + 4, resync: true },
            Some(Ok(n)) if n > MAX_BODY => Framed::Bad {
                kind: SkipKind::TooLong,
                detail: format!("Content-Length {n} is more than the {MAX_BODY} bytes accepted"),
                drop: h + 4,
                resync: true,
            },
            Some(Ok(n)) if self.buf.len() >= h + 4 + n => Framed::Message(h + 4 + n),
            Some(Ok(_)) => Framed::Need,
        }
    }

    fn frame_msrp(&mut self) -> Framed {
        let Some(l) = find(&self.buf, b"\r\n", 0) else { return Framed::Need };
        let Some(tid) = msrp_tid(&self.buf[..l]) else {
            let line = String::from_utf8_lossy(&self.buf[..l.min(80)]).into_owned();
            return Framed::Bad { kind: SkipKind::BadMsrp, detail: format!("not an MSRP start line: {line:?}"), drop: l + 2, resync: true };
        };
        let mut needle = b"\r\n-------".to_vec();
        needle.extend_from_slice(tid);
        let mut from = self.scanned.max(l).saturating_sub(needle.len() + 3).max(l);
        while let Some(i) = find(&self.buf, &needle, from) {
            let end = i + needle.len();
            if self.buf.len() < end + 3 {
                return Framed::Need;
            }
            if b"$+#".contains(&self.buf[end]) && &self.buf[end + 1..end + 3] == b"\r\n" {
                return Framed::Message(end + 3);
            }
            from = i + 1;
        }
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_BODY + MAX_HEAD {
            return Framed::Bad {
                kind: SkipKind::TooLong,
                detail: format!("an MSRP message longer than {} bytes", MAX_BODY + MAX_HEAD),
                drop: self.buf.len(),
                resync: true,
            };
        }
        Framed::Need
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink_run(f: impl FnOnce(&mut Sink<'_>)) -> (Vec<CapturedMessage>, Stats) {
        let (mut out, mut stats, mut chunks) = (VecDeque::new(), Stats::default(), Chunks::default());
        let a: SocketAddr = "192.0.2.1:2855".parse().unwrap();
        let mut sink = Sink { out: &mut out, stats: &mut stats, chunks: &mut chunks, frame: 7, time_ns: 1, src: a, dst: a };
        f(&mut sink);
        (out.into_iter().filter_map(|i| if let Item::Message(m) = i { Some(m) } else { None }).collect(), stats)
    }

    fn chunk(tid: &str, range: &str, body: &[u8], flag: char) -> Vec<u8> {
        let mut m = format!("MSRP {tid} SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: m1\r\nByte-Range: {range}\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
        m.extend_from_slice(body);
        m.extend_from_slice(format!("\r\n-------{tid}{flag}\r\n").as_bytes());
        m
    }

    #[test]
    fn chunks_split_inside_a_character_are_joined() {
        let body = "h\u{e9}llo".as_bytes(); // é is two bytes: cut between them
        let (a, b) = body.split_at(2);
        let (out, stats) = sink_run(|s| {
            s.msrp(&chunk("t1", "1-2/6", a, '+'), 3);
            s.msrp(&chunk("t2", "3-6/6", b, '$'), 5);
        });
        assert!(stats.skips.is_empty(), "{:?}", stats.skips);
        let WireMessage::Msrp(m) = &out[0].message else { panic!() };
        assert_eq!(m.body.as_deref(), Some("h\u{e9}llo"));
        assert_eq!((out[0].first_frame, &*m.tid), (3, "t2"));
    }

    #[test]
    fn a_missing_or_aborted_chunk_is_a_named_skip() {
        let (out, stats) = sink_run(|s| {
            s.msrp(&chunk("t1", "1-2/6", b"ab", '+'), 3);
            s.msrp(&chunk("t3", "5-6/6", b"ef", '$'), 5);
            s.msrp(&chunk("t4", "1-2/4", b"ab", '#'), 6);
        });
        assert!(out.is_empty());
        assert_eq!(stats.skipped(SkipKind::MsrpChunk), 2, "{:?}", stats.skips);
    }

    #[test]
    fn sip_start_lines() {
        assert!(is_sip_start_line(b"SIP/2.0 200 OK"));
        assert!(is_sip_start_line(b"INVITE sip:a@b SIP/2.0"));
        assert!(!is_sip_start_line(b"GET / HTTP/1.1"));
        assert!(!is_sip_start_line(b"SIP/2.0 20 OK"));
        assert_eq!(msrp_tid(b"MSRP a1 SEND"), Some(&b"a1"[..]));
        assert_eq!(msrp_tid(b"MSRP  SEND"), None);
    }
}
