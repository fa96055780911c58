//! TCP stream reassembly, one direction of one connection (RFC 9293 §3.4 sequence numbers):
//! bytes are delivered once and in order; retransmitted bytes are dropped, segments ahead of
//! the next expected byte wait (bounded), and a hole that never fills is skipped and reported
//! so the framer above can resynchronise on the next message start.

use std::collections::BTreeMap;

/// Bytes held for one direction waiting for a hole to fill; beyond, the hole is given up.
pub const MAX_OUT_OF_ORDER: usize = 256 * 1024;

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub(crate) struct Reassembler {
    /// Sequence number of stream offset 0 (the byte after the SYN, or the first byte seen).
    base: Option<u32>,
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Segments ahead of `next`, by stream offset.
    ahead: BTreeMap<u64, Vec<u8>>,
    ahead_bytes: usize,
    /// Segments whose bytes had all been delivered already.
    pub retransmissions: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order: u64,
}

/// A piece of the stream handed to the framer.
pub(crate) enum Piece<'a> {
    /// Bytes that follow the previous piece directly.
    Bytes(&'a [u8]),
    /// Bytes were lost (never captured) before what follows: `n` of them.
    Gap(u64),
}

impl Reassembler {
    /// Stream offset of sequence number `seq`, taking the one nearest to `next` (wrap-around).
    fn offset_of(&self, base: u32, seq: u32) -> u64 {
        let rel = seq.wrapping_sub(base);
        let d = rel.wrapping_sub(self.next as u32) as i32;
        (self.next as i64 + i64::from(d)).max(0) as u64
    }

    /// Feeds a segment; calls `out` with what becomes deliverable, in order.
    pub fn segment(&mut self, seq: u32, syn: bool, payload: &[u8], out: &mut impl FnMut(Piece<'_>)) {
        if syn {
            if self.base.is_none() {
                self.base = Some(seq.wrapping_add(1));
            }
            // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
            if payload.is_empty() {
                return;
            }
            return self.segment(seq.wrapping_add(1), false, payload, out);
        }
        if payload.is_empty() {
            return;
        }
        let base = *self.base.get_or_insert(seq);
        let start = self.offset_of(base, seq);
        let end = start + payload.len() as u64;
        if end <= self.next {
            self.retransmissions += 1;
            return;
        }
        if start > self.next {
            self.out_of_order += 1;
            if self.ahead_bytes + payload.len() > MAX_OUT_OF_ORDER {
                self.skip_hole(out);
                if start > self.next {
                    out(Piece::Gap(start - self.next));
                    self.next = start;
                }
            } else {
                let keep = match self.ahead.get(&start) {
                    Some(old) => old.len() < payload.len(),
                    None => true,
                };
                if keep {
                    if let Some(old) = self.ahead.insert(start, payload.to_vec()) {
                        self.ahead_bytes -= old.len();
                    }
                    self.ahead_bytes += payload.len();
                }
                return;
            }
        }
        if end <= self.next {
            return;
        }
        let from = (self.next - start) as usize;
        out(Piece::Bytes(&payload[from..]));
        self.next = end;
        self.drain(out);
    }

    /// Delivers waiting segments that now follow `next`.
    fn drain(&mut self, out: &mut impl FnMut(Piece<'_>)) {
        while let Some(entry) = self.ahead.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let bytes = entry.remove();
            self.ahead_bytes -= bytes.len();
            let end = start + bytes.len() as u64;
            if end > self.next {
                out(Piece::Bytes(&bytes[(self.next - start) as usize..]));
                self.next = end;
            }
        }
    }

    /// Gives up the hole before the first waiting segment and delivers from there.
    fn skip_hole(&mut self, out: &mut impl FnMut(Piece<'_>)) {
        while let Some((&start, _)) = self.ahead.first_key_value() {
            if start > self.next {
                out(Piece::Gap(start - self.next));
                self.next = start;
            }
            self.drain(out);
        }
    }

    /// Nothing seen yet (no SYN, no data).
    pub fn is_fresh(&self) -> bool {
        self.base.is_none()
    }

    /// Bytes waiting behind a hole.
    pub fn waiting(&self) -> usize {
        self.ahead_bytes
    }

    /// The connection ended (FIN, RST or end of capture): what waits behind a hole is delivered
    /// after a gap.
    pub fn close(&mut self, out: &mut impl FnMut(Piece<'_>)) {
        self.skip_hole(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(r: &mut Reassembler, segs: &[(u32, &str)]) -> String {
        let mut s = String::new();
        for (seq, p) in segs {
            r.segment(*seq, false, p.as_bytes(), &mut |piece| match piece {
                Piece::Bytes(b) => s.push_str(std::str::from_utf8(b).unwrap()),
                Piece::Gap(n) => s.push_str(&format!("<gap {n}>")),
            });
        }
        r.close(&mut |piece| match piece {
            Piece::Bytes(b) => s.push_str(std::str::from_utf8(b).unwrap()),
            Piece::Gap(n) => s.push_str(&format!("<gap {n}>")),
        });
        s
    }

    #[test]
    fn reorders_drops_duplicates_and_reports_holes() {
        let mut r = Reassembler::default();
        r.segment(99, true, &[], &mut |_| {});
        assert_eq!(run(&mut r, &[(100, "ab"), (104, "ef"), (102, "cd"), (102, "cd"), (101, "bcd"), (106, "g")]), "abcdefg");
        assert_eq!((r.retransmissions, r.out_of_order), (2, 1));
        let mut r = Reassembler::default();
        assert_eq!(run(&mut r, &[(10, "ab"), (15, "xy")]), "ab<gap 3>xy");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut r = Reassembler::default();
        assert_eq!(run(&mut r, &[(u32::MAX - 1, "ab"), (0, "cd"), (2, "e")]), "abcde");
    }
}
