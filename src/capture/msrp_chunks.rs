//! MSRP chunks (RFC 4975 §5.1: one message sent as several SENDs with `Byte-Range`
//! n-m/total, end-line flag `+` until the last, `$`; `#` aborts) joined into the text of one
//! whole SEND for the typed parser. Chunks are joined as bytes: one may end inside a UTF-8
//! character.

use super::framing::{find, MAX_JOINED, MAX_PENDING_CHUNKED};
use std::collections::HashMap;
use std::net::SocketAddr;

/// One chunk of an MSRP SEND that is not the whole message.
pub(crate) struct Chunk<'t> {
    tid: &'t str,
    pub message_id: &'t str,
    /// Header lines other than Byte-Range, in wire order.
    headers: Vec<&'t str>,
    start: u64,
    body: &'t [u8],
    flag: u8,
}

impl<'t> Chunk<'t> {
    /// The chunk in `bytes` (a whole framed MSRP message), or `None` when it is a whole message
    /// or not a SEND (then the typed parser decides).
    pub fn of(bytes: &'t [u8]) -> Option<Chunk<'t>> {
        let l = find(bytes, b"\r\n", 0)?;
        let first = std::str::from_utf8(&bytes[..l]).ok()?;
        let mut parts = first.split(' ');
        let (_, tid, method) = (parts.next()?, parts.next()?, parts.next()?);
        if method != "SEND" {
            return None;
        }
        let flag = *bytes.get(bytes.len().checked_sub(3)?)?;
        // The end-line, with the CRLF before it: "\r\n-------" tid flag "\r\n".
        let end_line = bytes.len().checked_sub(2 + 7 + tid.len() + 3)?;
        let rest = bytes.get(l + 2..end_line.max(l + 2))?;
        let (head, body) = match find(rest, b"\r\n\r\n", 0) {
            Some(i) => (&rest[..i], &rest[i + 4..]),
            None => (rest, &[][..]),
        };
        let head = std::str::from_utf8(head).ok()?;
        let mut range = None;
        let mut message_id = None;
        let mut headers = Vec::new();
        for line in head.split("\r\n") {
            let (n, v) = line.split_once(':')?;
            if n.trim().eq_ignore_ascii_case("Byte-Range") {
                range = Some(v.trim());
            } else {
                if n.trim().eq_ignore_ascii_case("Message-ID") {
                    message_id = Some(v.trim());
                }
                headers.push(line);
            }
        }
        let (span, total) = range?.split_once('/')?;
        let (s, e) = span.split_once('-')?;
        let start: u64 = s.parse().ok()?;
        let whole = start == 1 && flag == b'$' && e.parse::<usize>().ok() == Some(body.len()) && total.parse::<usize>().ok() == Some(body.len());
        if whole {
            return None;
        }
        Some(Chunk { tid, message_id: message_id?, headers, start, body, flag })
    }
}

struct Joining {
    first_frame: u64,
    headers: Vec<String>,
    body: Vec<u8>,
}

/// MSRP messages being joined from their chunks, by sender, receiver and Message-ID.
#[derive(Default)]
pub(crate) struct Chunks {
    pending: HashMap<(SocketAddr, SocketAddr, String), Joining>,
}

impl Chunks {
    /// Adds a chunk; returns the joined message text when this was the last chunk.
    pub fn add(&mut self, key: (SocketAddr, SocketAddr, String), c: Chunk<'_>, first_frame: u64) -> Result<Option<(String, u64)>, String> {
        if !self.pending.contains_key(&key) {
            if c.start != 1 {
                return Err(format!("chunk of {} starts at byte {} but no earlier chunk was seen", c.message_id, c.start));
            }
            if self.pending.len() >= MAX_PENDING_CHUNKED {
                return Err(format!("more than {MAX_PENDING_CHUNKED} chunked messages in progress at once"));
            }
            let headers = c.headers.iter().map(|h| h.to_string()).collect();
            self.pending.insert(key.clone(), Joining { first_frame, headers, body: Vec::new() });
        }
        let j = self.pending.get_mut(&key).expect("inserted above");
        if c.start != j.body.len() as u64 + 1 {
            let expected = j.body.len() + 1;
            self.pending.remove(&key);
            return Err(format!("chunk of {} starts at byte {} where byte {expected} was expected (out of order or missing)", c.message_id, c.start));
        }
        if j.body.len() + c.body.len() > MAX_JOINED {
            self.pending.remove(&key);
            return Err(format!("message {} grows beyond {MAX_JOINED} bytes", c.message_id));
        }
        j.body.extend_from_slice(c.body);
        match c.flag {
            b'+' => Ok(None),
            b'#' => {
                self.pending.remove(&key);
                Err(format!("message {} was aborted by its sender (flag #)", c.message_id))
            }
            _ => {
                let j = self.pending.remove(&key).expect("present");
                let n = j.body.len();
                let body = String::from_utf8(j.body).map_err(|_| format!("the joined body of {} is not UTF-8 text", c.message_id))?;
                let mut text = format!("MSRP {} SEND\r\n", c.tid);
                for h in &j.headers {
                    text.push_str(h);
                    text.push_str("\r\n");
                }
                text.push_str(&format!("Byte-Range: 1-{n}/{n}\r\n"));
                if n > 0 {
                    text.push_str("\r\n");
                    text.push_str(&body);
                    text.push_str("\r\n");
                }
                text.push_str(&format!("-------{}$\r\n", c.tid));
                Ok(Some((text, j.first_frame)))
            }
        }
    }
}
