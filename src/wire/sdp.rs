//! The SDP offers and answers of a CPM session (RFC 4566 with the MSRP media line of
//! RFC 4975 §8.1: `m=message <port> TCP/MSRP *`, `a=path`, `a=accept-types`, and `a=setup`
//! of RFC 4145).

use super::WireError;

/// An SDP body describing one MSRP media stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpSdp {
    /// `o=` username.
    pub username: String,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version: the session id in a first offer or answer, one higher in each
    /// later offer that describes the session again (RFC 4566 §5.2, RFC 3264 §8).
    pub version: u64,
    /// Connection address (IPv4).
    pub ip: String,
    /// Port on the `m=` line (9 for the active side, RFC 4145).
    pub port: u16,
    /// `a=accept-types`.
    pub accept_types: String,
    /// `a=accept-wrapped-types`.
    pub accept_wrapped_types: String,
    /// `a=path` (the MSRP URI of this endpoint).
    pub path: String,
    /// `a=setup` (`active`, `passive`, `actpass`).
    pub setup: String,
}

impl MsrpSdp {
    /// The exact body text (CRLF line ends).
    pub fn emit(&self) -> String {
        format!(
            "v=0\r\no={u} {id} {ver} IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=message {port} TCP/MSRP *\r\na=accept-types:{at}\r\na=accept-wrapped-types:{awt}\r\na=path:{path}\r\na=setup:{setup}\r\na=sendrecv\r\n",
            u = self.username,
            id = self.session_id,
            ver = self.version,
            ip = self.ip,
            port = self.port,
            at = self.accept_types,
            awt = self.accept_wrapped_types,
            path = self.path,
            setup = self.setup
        )
    }

    /// Parses a body produced by [`MsrpSdp::emit`] (order-insensitive for the attributes).
    pub fn parse(text: &str) -> Result<Self, WireError> {
        let bad = |v: &str| WireError::BadValue { header: "SDP", value: v.to_string() };
        let mut s = MsrpSdp {
            username: String::new(),
            session_id: 0,
            version: 0,
            ip: String::new(),
            port: 0,
            accept_types: String::new(),
            accept_wrapped_types: String::new(),
            path: String::new(),
            setup: String::new(),
        };
        let body = text.strip_suffix("\r\n").ok_or(WireError::Truncated("SDP line end"))?;
        let mut saw_m = false;
        for line in body.split("\r\n") {
            let (k, v) = line.split_once('=').ok_or_else(|| bad(line))?;
            match k {
                "v" if v == "0" => {}
                "s" | "t" => {}
                "o" => {
                    let f: Vec<&str> = v.split(' ').collect();
                    if f.len() != 6 || f[3] != "IN" || f[4] != "IP4" {
                        return Err(bad(line));
                    }
                    s.username = f[0].to_string();
                    s.session_id = f[1].parse().map_err(|_| bad(line))?;
                    s.version = f[2].parse().map_err(|_| bad(line))?;
                }
                "c" => s.ip = v.strip_prefix("IN IP4 ").ok_or_else(|| bad(line))?.to_string(),
                "m" => {
                    let f: Vec<&str> = v.split(' ').collect();
                    if f.len() != 4 || f[0] != "message" || f[2] != "TCP/MSRP" || f[3] != "*" {
                        return Err(bad(line));
                    }
                    s.port = f[1].parse().map_err(|_| bad(line))?;
                    saw_m = true;
                }
                "a" => {
                    let (name, val) = v.split_once(':').unwrap_or((v, ""));
                    match name {
                        "accept-types" => s.accept_types = val.to_string(),
                        "accept-wrapped-types" => s.accept_wrapped_types = val.to_string(),
                        "path" => s.path = val.to_string(),
                        "setup" => s.setup = val.to_string(),
                        "sendrecv" => {}
                        _ => return Err(bad(line)),
                    }
                }
                _ => return Err(bad(line)),
            }
        }
        if !saw_m || s.path.is_empty() {
            return Err(WireError::MissingHeader("m=message and a=path"));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = MsrpSdp {
            username: "carol".into(),
            session_id: 2890844527,
            version: 2890844528,
            ip: "198.51.100.7".into(),
            port: 9,
            accept_types: "message/cpim application/im-iscomposing+xml".into(),
            accept_wrapped_types: "text/plain message/imdn+xml".into(),
            path: "msrp://198.51.100.7:49152/c4r0lx;tcp".into(),
            setup: "active".into(),
        };
        let t = s.emit();
        assert!(t.contains("m=message 9 TCP/MSRP *\r\n"));
        assert!(t.contains("o=carol 2890844527 2890844528 IN IP4"));
        assert_eq!(MsrpSdp::parse(&t).unwrap(), s);
        assert!(MsrpSdp::parse("v=0\r\n").is_err());
    }
}
