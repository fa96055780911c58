//! Exports (src/export): Mermaid and PlantUML escaping, SVG well-formedness and height, pcap
//! framing (checked by an independent reader here), tshark's dissection of every preset's pcap
//! under both rule sets, and the CLI's `--format` / `--out`.
//!
//! The tshark checks run when `/usr/bin/tshark` exists. Without it they are skipped with a
//! message, unless `CPM_REQUIRE_TSHARK=1`, which makes them fail.

mod common;

use cpm_deferral::export::{self, pcap, Format};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::trace::{Protocol, Trace};
use cpm_deferral::{presets, run, Rules};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const TSHARK: &str = "/usr/bin/tshark";
const HOSTILE: &str = "<script>alert(\"x\");</script> #59; & 'q' %% --> ;; end\r\nnote over P0: pwned";

fn preset(name: &str) -> (Scenario, Trace) {
    let p = presets::find(name).expect("preset exists");
    let sc = Scenario::from_json(p.json).expect("preset parses");
    let t = run(&sc, Rules::PostCr);
    (sc, t)
}

fn all_runs() -> Vec<(String, Rules, Scenario, Trace)> {
    let mut v = Vec::new();
    for p in presets::all() {
        let sc = Scenario::from_json(p.json).expect("preset parses");
        for rules in [Rules::PostCr, Rules::PreCr] {
            let t = run(&sc, rules);
            v.push((p.name.to_string(), rules, sc.clone(), t));
        }
    }
    v
}

/// A real trace whose title, lane labels, step labels and notes are all hostile text.
fn hostile_trace() -> Trace {
    let (_, mut t) = preset("bye-480-path-a");
    t.title = HOSTILE.to_string();
    for l in &mut t.lanes {
        l.label = format!("{} {HOSTILE}", l.label);
    }
    for s in &mut t.steps {
        s.label = format!("{} {HOSTILE}", s.label).into();
        s.note = HOSTILE.into();
    }
    t
}

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cpm-export-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

// ====================================================================== Mermaid / PlantUML

/// The user-text parts of a diagram line (after the syntax the exporter writes).
fn text_parts(line: &str, plantuml: bool) -> Vec<&str> {
    let l = line.trim_start();
    if let Some(rest) = l.strip_prefix("title ") {
        return vec![rest];
    }
    if plantuml {
        if let Some(rest) = l.strip_prefix("participant \"") {
            let (name, tail) = rest.rsplit_once("\" as P").expect("participant line");
            assert!(tail.chars().all(|c| c.is_ascii_digit()), "alias {tail:?}");
            return vec![name];
        }
        if let Some(rest) = l.strip_prefix("== ") {
            return vec![rest.strip_suffix(" ==").expect("divider")];
        }
        if l.starts_with("@startuml") || l.starts_with("@enduml") {
            return vec![];
        }
        let (_, text) = l.split_once(" : ").unwrap_or_else(|| panic!("unexpected PlantUML line {line:?}"));
        vec![text]
    } else {
        if let Some(rest) = l.strip_prefix("participant P") {
            let (_, name) = rest.split_once(" as ").expect("participant alias");
            return vec![name];
        }
        if l == "sequenceDiagram" || l == "end" || l.starts_with("rect rgb(") {
            return vec![];
        }
        let (_, text) = l.split_once(": ").unwrap_or_else(|| panic!("unexpected Mermaid line {line:?}"));
        vec![text]
    }
}

fn strip_entities(s: &str, prefix: &str) -> String {
    // Removes `#NN;` (Mermaid) or `&#NN;` (PlantUML) entity codes.
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i]);
        let after = &rest[i + prefix.len()..];
        let digits = after.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && after[digits..].starts_with(';') {
            rest = &after[digits + 1..];
        } else {
            out.push_str(prefix);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn mermaid_escapes_hostile_labels() {
    let t = hostile_trace();
    let m = export::mermaid::render(&t);
    assert!(m.starts_with("sequenceDiagram\n"));
    let lines: Vec<&str> = m.lines().collect();
    // One line per step, plus the header, the participants and the shaded blocks.
    assert!(lines.len() >= t.steps.len() + 1 + t.lanes.len());
    let mut texts = 0;
    for line in &lines {
        for part in text_parts(line, false) {
            texts += 1;
            let bare = strip_entities(part, "#");
            for bad in [';', '#', '<', '>', '"', '%', '&', ':'] {
                assert!(!bare.contains(bad), "raw {bad:?} in Mermaid text {part:?}");
            }
        }
    }
    assert!(texts > t.steps.len());
    // The hostile text survives as entities, and no line was injected.
    assert!(m.contains("#60;script#62;alert(#34;x#34;)#59;#60;/script#62;"));
    assert!(!m.lines().any(|l| l.trim_start().starts_with("note over P0")));
    assert_eq!(m.matches("rect rgb(").count(), m.lines().filter(|l| l.trim() == "end").count());
    // SIP solid, MSRP dotted.
    let (_, plain) = preset("bye-480-path-a");
    let m = export::mermaid::render(&plain);
    let sip = plain.steps.iter().filter(|s| s.protocol == Protocol::SIP).count();
    let msrp = plain.steps.iter().filter(|s| s.protocol == Protocol::MSRP).count();
    assert_eq!(m.lines().filter(|l| l.contains("->>") && !l.contains("-->>")).count(), sip);
    assert_eq!(m.lines().filter(|l| l.contains("-->>")).count(), msrp);
}

#[test]
fn plantuml_escapes_hostile_labels() {
    let t = hostile_trace();
    let p = export::plantuml::render(&t);
    assert!(p.starts_with("@startuml\n") && p.ends_with("@enduml\n"));
    assert_eq!(p.matches("@startuml").count(), 1);
    assert_eq!(p.matches("@enduml").count(), 1);
    let mut texts = 0;
    for line in p.lines() {
        for part in text_parts(line, true) {
            texts += 1;
            let bare = strip_entities(part, "&#");
            for bad in [';', '#', '<', '>', '"', '&', '\\', '/', '*', '='] {
                assert!(!bare.contains(bad), "raw {bad:?} in PlantUML text {part:?}");
            }
        }
    }
    assert!(texts > t.steps.len());
    assert!(p.contains("&#60;script&#62;alert(&#34;x&#34;)&#59;&#60;&#47;script&#62;"));
}

#[test]
fn dropped_messages_end_in_a_cross() {
    let (_, t) = preset("silent-drop-send-timeout");
    let dropped = t.steps.iter().filter(|s| s.dropped && s.protocol != Protocol::None).count();
    assert!(dropped > 0);
    let m = export::mermaid::render(&t);
    assert_eq!(m.lines().filter(|l| l.contains("-x") || l.contains("--x")).count(), dropped);
    let p = export::plantuml::render(&t);
    assert_eq!(p.lines().filter(|l| l.contains(" ->x ") || l.contains(" -->x ")).count(), dropped);
}

// ====================================================================== SVG

/// A small strict XML 1.0 well-formedness check: one root, balanced tags, quoted attributes
/// without `<`, no duplicate attributes, only the five predefined or numeric entities, no raw
/// `<` or `&` in text, no control characters.
fn check_xml(doc: &str) -> Result<(), String> {
    let b = doc.as_bytes();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let check_text = |s: &str| -> Result<(), String> {
        if let Some(c) = s.chars().find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            return Err(format!("control character {c:?}"));
        }
        let mut rest = s;
        while let Some(a) = rest.find('&') {
            let tail = &rest[a + 1..];
            let end = tail.find(';').ok_or("unterminated entity")?;
            let name = &tail[..end];
            let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                || (name.starts_with("#x") && name.len() > 2 && name[2..].chars().all(|c| c.is_ascii_hexdigit()))
                || (name.starts_with('#') && name.len() > 1 && name[1..].chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return Err(format!("bad entity &{name};"));
            }
            rest = &tail[end + 1..];
        }
        Ok(())
    };
    if doc.starts_with("<?xml") {
        i = doc.find("?>").ok_or("unterminated XML declaration")? + 2;
    }
    while i < b.len() {
        if b[i] == b'<' {
            let end = i + doc[i..].find('>').ok_or("unterminated tag")?;
            let tag = &doc[i + 1..end];
            if tag.starts_with("!--") {
                let close = i + doc[i..].find("-->").ok_or("unterminated comment")?;
                i = close + 3;
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack.pop().ok_or_else(|| format!("close tag </{name}> without open"))?;
                if open != name.trim() {
                    return Err(format!("</{name}> closes <{open}>"));
                }
                if stack.is_empty() {
                    roots += 1;
                }
            } else {
                let self_closing = tag.ends_with('/');
                let body = tag.trim_end_matches('/');
                let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
                let name = &body[..name_end];
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) {
                    return Err(format!("bad tag name {name:?}"));
                }
                // Attributes: name="value" pairs.
                let mut rest = body[name_end..].trim_start();
                let mut seen = Vec::new();
                while !rest.is_empty() {
                    let eq = rest.find('=').ok_or_else(|| format!("attribute without value in <{name}>"))?;
                    let an = rest[..eq].trim();
                    if an.is_empty() || seen.contains(&an) {
                        return Err(format!("bad or duplicate attribute {an:?} in <{name}>"));
                    }
                    seen.push(an);
                    let after = rest[eq + 1..].trim_start();
                    let q = after.chars().next().ok_or("attribute value missing")?;
                    if q != '"' && q != '\'' {
                        return Err(format!("unquoted attribute {an} in <{name}>"));
                    }
                    let close = after[1..].find(q).ok_or("unterminated attribute value")?;
                    let value = &after[1..1 + close];
                    if value.contains('<') {
                        return Err(format!("'<' in attribute {an}"));
                    }
                    check_text(value)?;
                    rest = after[close + 2..].trim_start();
                }
                if self_closing {
                    if stack.is_empty() {
                        roots += 1;
                    }
                } else {
                    stack.push(name.to_string());
                }
            }
            i = end + 1;
        } else {
            let next = doc[i..].find('<').map_or(b.len(), |n| i + n);
            let text = &doc[i..next];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err("text outside the root element".into());
            }
            if text.contains('>') && text.contains("]]>") {
                return Err("]]> in text".into());
            }
            check_text(text)?;
            i = next;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed <{}>", stack.join("> <")));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn svg_height(svg: &str) -> u64 {
    let i = svg.find("<svg ").expect("svg element");
    let h = &svg[i..];
    let a = h.find(" height=\"").expect("height attribute") + 9;
    h[a..a + h[a..].find('"').unwrap()].parse().expect("numeric height")
}

#[test]
fn xml_checker_rejects_broken_documents() {
    assert!(check_xml("<a><b/></a>").is_ok());
    for bad in ["<a><b></a>", "<a>x & y</a>", "<a x=1/>", "<a>1 < 2</a>", "<a/><b/>", "<a x=\"1\" x=\"2\"/>", "<a>&bogus;</a>", "<a>\u{1}</a>"] {
        assert!(check_xml(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn svg_is_well_formed_and_never_cropped() {
    let t = hostile_trace();
    let svg = export::svg::render(&t);
    check_xml(&svg).unwrap_or_else(|e| panic!("SVG is not well-formed XML: {e}"));
    assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;);&lt;/script&gt;"));
    assert!(!svg.contains("<script"));
    for (name, rules, _, t) in all_runs() {
        let svg = export::svg::render(&t);
        check_xml(&svg).unwrap_or_else(|e| panic!("{name} {rules:?}: SVG is not well-formed XML: {e}"));
        assert_eq!(svg_height(&svg), export::svg::height_for(t.steps.len()));
        assert_eq!(svg.matches("<g id=\"step-").count(), t.steps.len(), "{name}: one group per step");
        // Every step's row lies inside the picture.
        let last_y =
            svg.rsplit("<g id=\"step-").next().and_then(|g| g.split(" y=\"").nth(1)).and_then(|v| v.split('"').next()).and_then(|v| v.parse::<u64>().ok());
        assert!(last_y.is_some_and(|y| y < svg_height(&svg)), "{name}: last row below the bottom");
    }
    // Height grows with the number of steps.
    let (_, full) = preset("bye-480-path-a");
    let mut short = full.clone();
    short.steps.truncate(10);
    let (h_short, h_full) = (svg_height(&export::svg::render(&short)), svg_height(&export::svg::render(&full)));
    assert!(h_full > h_short, "{h_full} <= {h_short}");
    let mut long = full.clone();
    for k in 0..2000 {
        let mut s = full.steps[k % full.steps.len()].clone();
        s.index = (full.steps.len() + k) as u32;
        long.steps.push(s);
    }
    let svg = export::svg::render(&long);
    assert!(svg_height(&svg) > h_full + 2000 * 20);
    check_xml(&svg).expect("long SVG well-formed");
}

// ====================================================================== transcript

#[test]
fn transcript_has_ladder_and_every_wire_text() {
    let (_, t) = preset("bye-480-path-a");
    let text = export::transcript::render(&t);
    assert!(text.starts_with(&cpm_deferral::transcript::render(&t).replace('\r', "\\u{d}")));
    for s in t.steps.iter().filter(|s| s.protocol != Protocol::None) {
        assert!(text.contains(&s.raw.replace("\r\n", "\n")), "wire text of step {} missing", s.index);
    }
    assert!(!text.contains('\r'));
    let hostile = export::transcript::render(&hostile_trace());
    assert!(!hostile.contains('\r') && !hostile.contains('\u{1b}'));
}

// ====================================================================== pcap framing

fn sum16(data: &[u8]) -> u32 {
    let mut acc = 0u32;
    for c in data.chunks(2) {
        acc += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

#[derive(Debug)]
struct Packet {
    ts_us: u64,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: Vec<u8>,
}

/// Reads a classic pcap file written by the exporter, checking every length and checksum.
fn read_pcap(b: &[u8]) -> Vec<Packet> {
    assert!(b.len() >= 24, "no global header");
    assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1], "magic (little-endian a1b2c3d4)");
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), 2);
    assert_eq!(u16::from_le_bytes([b[6], b[7]]), 4);
    let snaplen = u32::from_le_bytes(b[16..20].try_into().unwrap());
    assert_eq!(u32::from_le_bytes(b[20..24].try_into().unwrap()), 1, "link type Ethernet");
    let mut i = 24;
    let mut out = Vec::new();
    while i < b.len() {
        assert!(i + 16 <= b.len(), "truncated record header");
        let r = |o: usize| u32::from_le_bytes(b[i + o..i + o + 4].try_into().unwrap());
        let (sec, usec, incl, orig) = (r(0), r(4), r(8) as usize, r(12) as usize);
        assert!(usec < 1_000_000);
        assert_eq!(incl, orig, "whole packets");
        assert!(incl as u32 <= snaplen);
        let f = &b[i + 16..i + 16 + incl];
        i += 16 + incl;
        assert_eq!(&f[12..14], &[0x08, 0x00], "IPv4 ethertype");
        let ip = &f[14..];
        assert_eq!(ip[0], 0x45);
        let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
        assert_eq!(total, ip.len(), "IP total length");
        assert_eq!(fold(sum16(&ip[..20])), 0xffff, "IP header checksum");
        assert_eq!(ip[9], 6, "TCP");
        let (src, dst): ([u8; 4], [u8; 4]) = (ip[12..16].try_into().unwrap(), ip[16..20].try_into().unwrap());
        assert_eq!(&f[0..6], &[2, 0, dst[0], dst[1], dst[2], dst[3]], "destination MAC");
        let tcp = &ip[20..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        assert_eq!(fold(sum16(&pseudo) + sum16(tcp)), 0xffff, "TCP checksum");
        let off = (tcp[12] >> 4) as usize * 4;
        assert!(off >= 20 && off <= tcp.len());
        out.push(Packet {
            ts_us: u64::from(sec) * 1_000_000 + u64::from(usec),
            src,
            dst,
            sport: u16::from_be_bytes([tcp[0], tcp[1]]),
            dport: u16::from_be_bytes([tcp[2], tcp[3]]),
            seq: u32::from_be_bytes(tcp[4..8].try_into().unwrap()),
            ack: u32::from_be_bytes(tcp[8..12].try_into().unwrap()),
            flags: tcp[13],
            payload: tcp[off..].to_vec(),
        });
    }
    out
}

/// Checks the TCP conversation rules on the packets and returns the concatenated payload.
fn check_tcp(packets: &[Packet]) -> Vec<u8> {
    type Flow = ([u8; 4], u16, [u8; 4], u16);
    let mut next: BTreeMap<Flow, u32> = BTreeMap::new();
    let mut all = Vec::new();
    let mut last_ts = 0;
    for (n, p) in packets.iter().enumerate() {
        assert!(p.ts_us >= last_ts, "packet {n}: time goes backwards");
        last_ts = p.ts_us;
        let flow = (p.src, p.sport, p.dst, p.dport);
        let back = (p.dst, p.dport, p.src, p.sport);
        assert!(p.payload.len() <= pcap::MSS_PAYLOAD, "packet {n}: segment larger than {}", pcap::MSS_PAYLOAD);
        if p.flags & 0x02 != 0 {
            assert!(!next.contains_key(&flow), "packet {n}: second SYN on a flow");
            assert!(p.payload.is_empty());
            if p.flags & 0x10 != 0 {
                assert_eq!(Some(&p.ack), next.get(&back), "packet {n}: SYN-ACK acknowledges the SYN");
            } else {
                assert!(!next.contains_key(&back), "packet {n}: SYN on a used connection");
            }
            next.insert(flow, p.seq.wrapping_add(1));
            continue;
        }
        assert_eq!(p.flags & 0x10, 0x10, "packet {n}: ACK flag");
        let expect = next.get_mut(&flow).unwrap_or_else(|| panic!("packet {n}: data before the handshake"));
        assert_eq!(p.seq, *expect, "packet {n}: sequence number");
        *expect = expect.wrapping_add(p.payload.len() as u32);
        let other = *next.get(&back).expect("reverse flow known");
        // Never acknowledge bytes that were not sent.
        assert!(other.wrapping_sub(p.ack) < 1 << 30, "packet {n}: ACK {} beyond {}", p.ack, other);
        all.extend_from_slice(&p.payload);
    }
    all
}

#[test]
fn pcap_framing_checksums_and_streams() {
    for (name, rules, sc, t) in all_runs() {
        let cap = pcap::capture(&t, &pcap::Network::for_scenario(&sc)).expect("capture");
        let packets = read_pcap(&cap.bytes);
        assert_eq!(packets.len() as u32, cap.packets);
        let payload = check_tcp(&packets);
        // The payload bytes, in file order, are exactly the wire texts of the messages that
        // arrived, in step order.
        let sent: Vec<_> = t.steps.iter().filter(|s| s.protocol != Protocol::None && !s.dropped).collect();
        let expected: Vec<u8> = sent.iter().flat_map(|s| s.raw.bytes()).collect();
        assert!(payload == expected, "{name} {rules:?}: payload differs from the wire texts");
        assert_eq!(cap.sip_messages as usize, sent.iter().filter(|s| s.protocol == Protocol::SIP).count());
        assert_eq!(cap.msrp_messages as usize, sent.iter().filter(|s| s.protocol == Protocol::MSRP).count());
        // Timestamps: the first data packet of each message is at start_time + at_ms.
        let mut data = packets.iter().filter(|p| !p.payload.is_empty());
        for s in &sent {
            let first = data.next().expect("data packet");
            assert_eq!(first.ts_us, (sc.start_epoch_ms + s.at_ms) * 1000, "{name}: step {} time", s.index);
            for _ in 1..s.raw.len().div_ceil(pcap::MSS_PAYLOAD) {
                data.next();
            }
        }
        // Every actor keeps one address; SIP goes to port 5060.
        for p in packets.iter().filter(|p| p.flags == 0x02) {
            assert!(p.dport == pcap::SIP_PORT || cap.msrp_ports.contains(&p.dport), "{name}: SYN to port {}", p.dport);
        }
    }
}

#[test]
fn pcap_segments_large_messages() {
    let (sc, mut t) = preset("bye-480-path-a");
    let s = t.steps.iter_mut().find(|s| s.protocol == Protocol::SIP).unwrap();
    s.raw = format!("{}{}", s.raw, "x".repeat(5000));
    let packets = read_pcap(&pcap::write(&t, &pcap::Network::for_scenario(&sc)).unwrap());
    let sizes: Vec<usize> = packets.iter().map(|p| p.payload.len()).filter(|&n| n == pcap::MSS_PAYLOAD).collect();
    assert!(sizes.len() >= 3, "a 5 kB message is cut in 1448-byte segments");
    check_tcp(&packets);
}

#[test]
fn pcap_omits_dropped_messages_and_reopens_the_connection() {
    let (sc, t) = preset("silent-drop-send-timeout");
    let cap = pcap::capture(&t, &pcap::Network::for_scenario(&sc)).unwrap();
    let packets = read_pcap(&cap.bytes);
    let carol = [198, 51, 100, 7];
    let dropped = t.steps.iter().filter(|s| s.dropped).count();
    assert!(dropped > 0);
    let arrived = t.steps.iter().filter(|s| s.protocol != Protocol::None && !s.dropped).count();
    assert_eq!((cap.sip_messages + cap.msrp_messages) as usize, arrived);
    // After the drop, Carol's next connections are new ones (a second SYN towards or from her).
    let syns = packets.iter().filter(|p| p.flags == 0x02 && (p.src == carol || p.dst == carol)).count();
    assert!(syns >= 2, "{syns} connections with Carol");
}

// ====================================================================== tshark

fn tshark_available() -> bool {
    let present = Path::new(TSHARK).exists();
    if !present {
        if std::env::var("CPM_REQUIRE_TSHARK").as_deref() == Ok("1") {
            panic!("CPM_REQUIRE_TSHARK=1 but {TSHARK} is missing (apt-get install tshark)");
        }
        eprintln!("skipped: {TSHARK} is missing (set CPM_REQUIRE_TSHARK=1 to make this a failure)");
    }
    present
}

fn tshark(file: &Path, ports: &[u16], extra: &[&str]) -> String {
    let mut cmd = Command::new(TSHARK);
    cmd.arg("-n").arg("-r").arg(file);
    for o in ["tcp.desegment_tcp_streams:TRUE", "tcp.check_checksum:TRUE", "ip.check_checksum:TRUE", "tcp.analyze_sequence_numbers:TRUE"] {
        cmd.args(["-o", o]);
    }
    for p in ports {
        cmd.arg("-d").arg(format!("tcp.port=={p},msrp"));
    }
    cmd.args(extra);
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("tshark output is UTF-8")
}

/// tshark's report of malformed packets without the SENDs that carry one chunk of a message
/// (Q14, `msrp_chunk_bytes`): every chunk has a Content-Type (RFC 4975 §7.1's ABNF asks it of
/// any request with a body), and tshark hands a `message/cpim` chunk's part of the document to
/// its IMF dissector as if it were whole, which then fails on a part that starts or ends inside
/// a header. Each such line names the chunk's transaction id; the chunks themselves are checked
/// by the engine's parser and the semantic checker (tests/chunks.rs).
fn without_partial_cpim(bad: &str, t: &Trace) -> String {
    let chunk_tids: Vec<String> = t
        .steps
        .iter()
        .filter(|s| s.protocol == Protocol::MSRP)
        .filter_map(|s| cpm_deferral::wire::msrp::parse(&s.raw).ok().filter(|m| m.byte_range.is_some()).map(|m| m.tid.to_string()))
        .collect();
    bad.lines()
        .filter(|l| !l.split("Transaction ID: ").nth(1).is_some_and(|rest| chunk_tids.iter().any(|tid| rest.starts_with(&format!("{tid}[")))))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The start-line token of each message: the method of a request, the status code of a response.
fn start_token(proto: Protocol, raw: &str) -> String {
    let line = raw.split("\r\n").next().unwrap_or("");
    let w: Vec<&str> = line.split(' ').collect();
    match proto {
        Protocol::SIP if w[0] == "SIP/2.0" => w[1].to_string(),
        Protocol::SIP => w[0].to_string(),
        _ => w[2].to_string(),
    }
}

/// The top-level SIP and MSRP PDUs tshark found, in order, as start-line tokens (a frame's layer
/// is a list when the frame completes several PDUs; a SIP body holding a SIP message, as in a
/// third-party REGISTER, is nested below its PDU and not counted).
fn dissected(json: &str) -> (Vec<String>, Vec<String>) {
    let v: Value = serde_json::from_str(json).expect("tshark JSON");
    let (mut sip, mut msrp) = (Vec::new(), Vec::new());
    let pick = |o: &Value, keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| {
            let (tree, field) = k.split_once('/').unwrap();
            o.get(tree).and_then(|t| t.get(field)).and_then(|x| x.as_str()).map(str::to_string)
        })
    };
    for frame in v.as_array().expect("array of frames") {
        let layers = &frame["_source"]["layers"];
        for (layer, out, keys) in [
            ("sip", &mut sip, &["sip.Request-Line_tree/sip.Method", "sip.Status-Line_tree/sip.Status-Code"][..]),
            ("msrp", &mut msrp, &["msrp.request.line_tree/msrp.method", "msrp.response.line_tree/msrp.status.code"][..]),
        ] {
            let pdus = match layers.get(layer) {
                None => vec![],
                Some(Value::Array(a)) => a.iter().collect(),
                Some(o) => vec![o],
            };
            for pdu in pdus {
                out.push(pick(pdu, keys).unwrap_or_else(|| format!("?{pdu}")));
            }
        }
    }
    (sip, msrp)
}

/// bye-480-path-a with two 2,000-character chat messages (one while Carol is away).
fn big_scenario() -> Scenario {
    let mut v: Value = serde_json::from_str(presets::find("bye-480-path-a").unwrap().json).unwrap();
    let events = v["events"].as_array_mut().unwrap();
    let long = |at: u64, from: &str, c: &str| serde_json::json!({ "at_ms": at, "kind": "message", "from": from, "text": format!("{}<b>;#&\"</b>", c.repeat(1984 / c.len())) });
    events.insert(0, long(1000, "alice", "L"));
    let i = events.iter().position(|e| e["at_ms"].as_u64().unwrap() >= 12000).unwrap();
    events.insert(i, long(11000, "bob", "\u{e9}"));
    Scenario::from_json(&v.to_string()).expect("long scenario parses")
}

#[test]
fn tshark_dissects_every_preset() {
    if !tshark_available() {
        return;
    }
    let dir = tmp_dir("tshark");
    let mut report = Vec::new();
    let mut runs = all_runs();
    // Plus messages longer than one segment, with markup and SIP separators in them.
    let sc = big_scenario();
    for rules in [Rules::PostCr, Rules::PreCr] {
        let t = run(&sc, rules);
        assert!(t.steps.iter().any(|s| s.protocol == Protocol::MSRP && s.raw.len() > pcap::MSS_PAYLOAD));
        runs.push(("long-messages".into(), rules, sc.clone(), t));
    }
    for (name, rules, sc, t) in runs {
        let cap = pcap::capture(&t, &pcap::Network::for_scenario(&sc)).expect("capture");
        let file = dir.join(format!("{name}-{}.pcap", rules.as_str()));
        std::fs::write(&file, &cap.bytes).unwrap();
        let bad = tshark(&file, &cap.msrp_ports, &["-Y", "_ws.malformed || _ws.expert.severity == error"]);
        assert!(bad.trim().is_empty(), "{name} {rules:?}: tshark reports malformed packets or errors:\n{bad}");
        let json = tshark(&file, &cap.msrp_ports, &["-Y", "sip || msrp", "-T", "json", "--no-duplicate-keys", "-J", "sip msrp"]);
        let (sip, msrp) = dissected(&json);
        let want = |p: Protocol| -> Vec<String> { t.steps.iter().filter(|s| s.protocol == p && !s.dropped).map(|s| start_token(p, &s.raw)).collect() };
        assert_eq!(sip, want(Protocol::SIP), "{name} {rules:?}: SIP messages");
        assert_eq!(msrp, want(Protocol::MSRP), "{name} {rules:?}: MSRP messages");
        report.push(format!("{name} {}: malformed/errors 0, SIP {}, MSRP {}", rules.as_str(), sip.len(), msrp.len()));
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{}", report.join("\n"));
}

/// Issue "proof at scale": the pcaps of random timelines (the generator of the property tests,
/// both rule sets alternating) dissect with zero malformed packets and the trace's SIP and MSRP
/// counts. `CPM_TSHARK_RANDOM=N` sets how many (default 1,000); two worker threads share them.
#[test]
fn tshark_dissects_random_timelines() {
    if !tshark_available() {
        return;
    }
    let n: u64 = std::env::var("CPM_TSHARK_RANDOM").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tmp_dir("tshark-random");
    let next = std::sync::atomic::AtomicU64::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let (sip_total, msrp_total) = (std::sync::atomic::AtomicUsize::new(0), std::sync::atomic::AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let seed = common::mix64(0x7457_4a52 ^ i);
                let json = common::gen_scenario(seed);
                let Ok(sc) = Scenario::from_json(&json) else { continue };
                let rules = if i % 2 == 0 { Rules::PostCr } else { Rules::PreCr };
                let t = run(&sc, rules);
                let cap = pcap::capture(&t, &pcap::Network::for_scenario(&sc)).expect("capture");
                let file = dir.join(format!("random-{i}.pcap"));
                std::fs::write(&file, &cap.bytes).unwrap();
                let bad = tshark(&file, &cap.msrp_ports, &["-Y", "_ws.malformed || _ws.expert.severity == error"]);
                let bad = without_partial_cpim(&bad, &t);
                let json_out = tshark(&file, &cap.msrp_ports, &["-Y", "sip || msrp", "-T", "json", "--no-duplicate-keys", "-J", "sip msrp"]);
                let (sip, msrp) = dissected(&json_out);
                let want = |p: Protocol| -> Vec<String> { t.steps.iter().filter(|s| s.protocol == p && !s.dropped).map(|s| start_token(p, &s.raw)).collect() };
                let mut problem = String::new();
                if !bad.trim().is_empty() {
                    problem += &format!("malformed/error packets:\n{bad}\n");
                }
                if sip != want(Protocol::SIP) || msrp != want(Protocol::MSRP) {
                    problem += &format!(
                        "counts: tshark SIP {} MSRP {}, trace SIP {} MSRP {}\n",
                        sip.len(),
                        msrp.len(),
                        want(Protocol::SIP).len(),
                        want(Protocol::MSRP).len()
                    );
                }
                sip_total.fetch_add(sip.len(), std::sync::atomic::Ordering::Relaxed);
                msrp_total.fetch_add(msrp.len(), std::sync::atomic::Ordering::Relaxed);
                if problem.is_empty() {
                    let _ = std::fs::remove_file(&file);
                } else {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("timeline {i} (seed {seed:#x}, {rules:?}, pcap kept at {}):\n{problem}scenario: {json}", file.display()));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {n} random timelines fail in tshark:\n{}",
        failures.len(),
        failures.iter().take(3).cloned().collect::<Vec<_>>().join("\n\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{n} random timelines: malformed/errors 0; SIP {} and MSRP {} messages, each count equal to the trace's",
        sip_total.into_inner(),
        msrp_total.into_inner()
    );
}

#[test]
fn tshark_flags_a_corrupted_checksum() {
    // The error filter used above does see a broken packet.
    if !tshark_available() {
        return;
    }
    let (sc, t) = preset("bye-480-path-a");
    let cap = pcap::capture(&t, &pcap::Network::for_scenario(&sc)).unwrap();
    let mut bytes = cap.bytes.clone();
    let n = bytes.len();
    bytes[n - 3] ^= 0x20; // a payload byte of the last packet
    let dir = tmp_dir("corrupt");
    let file = dir.join("bad.pcap");
    std::fs::write(&file, &bytes).unwrap();
    let bad = tshark(&file, &cap.msrp_ports, &["-Y", "_ws.malformed || _ws.expert.severity == error"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(bad.lines().count(), 1, "one bad packet expected, got:\n{bad}");
}

// ====================================================================== CLI

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cpm-deferral")).args(args).output().expect("run the CLI")
}

#[test]
fn cli_formats_and_out() {
    let (sc, t) = preset("bye-480-path-a");
    let dir = tmp_dir("cli");
    // text and json on stdout are unchanged.
    let o = cli(&["run", "--preset", "bye-480-path-a"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), cpm_deferral::transcript::render(&t));
    let o = cli(&["run", "--preset", "bye-480-path-a", "--format", "json"]);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), format!("{}\n", t.to_json()));
    for f in Format::ALL {
        let want = export::render(&t, &sc, f).unwrap();
        // stdout (pcap too: a pipe is not a terminal)
        let o = cli(&["run", "--preset", "bye-480-path-a", "--format", f.as_str()]);
        assert!(o.status.success(), "{f}: {}", String::from_utf8_lossy(&o.stderr));
        let mut got = o.stdout;
        if f == Format::Json {
            assert_eq!(got.pop(), Some(b'\n'));
        }
        assert!(got == want, "{f} on stdout differs from the library");
        // --out
        let file = dir.join(format!("out.{}", f.extension()));
        let o = cli(&["run", "--preset", "bye-480-path-a", "--rules", "pre-cr", "--format", f.as_str(), "--out", file.to_str().unwrap()]);
        assert!(o.status.success(), "{f} --out: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout.is_empty(), "{f} --out writes nothing to stdout");
        let pre = run(&sc, Rules::PreCr);
        let mut want = export::render(&pre, &sc, f).unwrap();
        if f == Format::Json {
            want.push(b'\n');
        }
        assert!(std::fs::read(&file).unwrap() == want, "{f} --out file differs");
    }
    // Errors.
    let o = cli(&["run", "--preset", "bye-480-path-a", "--format", "gif"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown format \"gif\""));
    let o = cli(&["run", "--preset", "bye-480-path-a", "--out"]);
    assert_eq!(o.status.code(), Some(1));
    let o = cli(&["run", "--preset", "bye-480-path-a", "--format", "svg", "--out", dir.join("no/such/dir.svg").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}
