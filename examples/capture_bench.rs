//! Benchmark of the capture reader (src/capture): `make bench-capture` or
//! `cargo run --release --example capture_bench -- --mb 1024`.
//!
//! Synthesises a large capture from the presets (each preset's traffic again and again, every
//! copy on its own ports and a minute later, written with the corpus transformer of
//! tests/capture_corpus/transform.rs: Ethernet, IPv4, TCP, classic pcap), then reads it twice
//! in the same run: with this crate's streaming reader (typed SIP and MSRP messages, plus the
//! role finder) and with `tshark -Y 'sip || msrp'` (full dissection with TCP reassembly).
//! Prints the time, throughput and peak memory of each and the ratio. With `--judge`, also
//! `cpm-deferral conform` on the same file (the judge, streaming: the first
//! `judge::MAX_JUDGED` messages judged, the rest read and counted; its own process, so its
//! peak RSS is its own), against the same tshark run. Not a timed test: the figures go to docs
//! and notes, nothing fails on them. `make bench` runs `--mb 1024 --judge`.

#[allow(dead_code)]
#[path = "../tests/capture_corpus/transform.rs"]
mod transform;

use cpm_deferral::capture::{self, roles::RoleFinder, WireMessage};
use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, Rules};
use pcap_file::pcap::{PcapHeader, PcapReader, PcapWriter};
use pcap_file::{DataLink, TsResolution};
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).map_or(f64::NAN, |kb| kb / 1024.0)
}

fn build(path: &Path, mb: u64) -> (u64, u64) {
    let runs: Vec<_> = presets::all()
        .iter()
        .map(|p| {
            let sc = Scenario::from_json(p.json).expect("preset");
            let t = cpm_deferral::run(&sc, Rules::PostCr);
            (sc, t)
        })
        .collect();
    let header = PcapHeader { datalink: DataLink::ETHERNET, snaplen: 262_144, ts_resolution: TsResolution::MicroSecond, ..PcapHeader::default() };
    let mut w = PcapWriter::with_header(BufWriter::new(std::fs::File::create(path).expect("create")), header).expect("writer");
    let (mut written, mut copies, mut messages) = (24u64, 0u64, 0u64);
    while written < mb << 20 {
        let (sc, t) = &runs[(copies as usize) % runs.len()];
        let mut sc = sc.clone();
        sc.start_epoch_ms += copies * 60_000;
        // Reused ports come with new initial sequence numbers, as real TCP does (RFC 9293 §3.4.1).
        let prof = transform::Profile {
            port_base: 10_000 + ((copies * 16) % 50_000) as u16,
            isn_base: (copies as u32).wrapping_mul(0x9e37_79b9),
            ..transform::plain()
        };
        let v = transform::write(t, &sc, &prof);
        messages += v.endpoints.len() as u64;
        let mut r = PcapReader::new(&v.bytes[..]).expect("variant");
        while let Some(p) = r.next_packet() {
            let p = p.expect("packet");
            written += 16 + p.data.len() as u64;
            w.write_packet(&p).expect("write");
        }
        copies += 1;
    }
    (written, messages)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.iter().position(|a| a == "--mb").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(256);
    let path = std::env::temp_dir().join(format!("cpm-capture-bench-{mb}mb.pcap"));
    let t0 = Instant::now();
    let (bytes, expected) = if path.exists() { (std::fs::metadata(&path).expect("size").len(), 0) } else { build(&path, mb) };
    println!("capture: {} ({:.0} MiB, {} messages written; built in {:.1} s)", path.display(), bytes as f64 / 1048576.0, expected, t0.elapsed().as_secs_f64());

    let rss_before = peak_rss_mib();
    let t = Instant::now();
    let file = std::fs::File::open(&path).expect("open");
    let mut it = capture::Messages::new(BufReader::with_capacity(1 << 16, file));
    let (mut sip, mut msrp) = (0u64, 0u64);
    let mut roles = RoleFinder::new();
    for m in it.by_ref() {
        let m = m.expect("the synthesised capture reads");
        match m.message {
            WireMessage::Sip(_) => sip += 1,
            WireMessage::Msrp(_) => msrp += 1,
        }
        roles.observe(&m);
    }
    let ours = t.elapsed().as_secs_f64();
    let stats = it.stats().clone();
    let pf = roles.finish(None).map(|r| r.pf.to_string()).unwrap_or_else(|e| e.to_string());
    println!(
        "reader:  {:>7.2} s  {:>7.1} MB/s  {} frames, {sip} SIP + {msrp} MSRP messages, {} skips; PF {pf}; peak RSS {:.1} MiB (before reading {:.1})",
        ours,
        bytes as f64 / 1e6 / ours,
        stats.frames,
        stats.skips.iter().map(|s| s.count).sum::<u64>(),
        peak_rss_mib(),
        rss_before
    );
    for s in &stats.skips {
        println!("         skipped {} x {} (first at frame {}: {})", s.count, s.kind.as_str(), s.first_frame, s.first_detail);
    }
    if expected > 0 {
        assert_eq!(sip + msrp, expected, "every written message is read back");
    }

    let tshark = Path::new("/usr/bin/tshark");
    if !tshark.exists() {
        println!("tshark: not installed (apt-get install tshark); no comparison");
        return;
    }
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M"]).arg(tshark);
        c
    } else {
        Command::new(tshark)
    };
    cmd.args(["-n", "-r"]).arg(&path).args(["-Y", "sip || msrp", "-T", "fields", "-e", "frame.number"]);
    let t = Instant::now();
    let out = cmd.output().expect("run tshark");
    let theirs = t.elapsed().as_secs_f64();
    let frames = String::from_utf8_lossy(&out.stdout).lines().count();
    let rss = String::from_utf8_lossy(&out.stderr).lines().last().and_then(|l| l.trim().parse::<f64>().ok()).map(|kb| format!("{:.1} MiB", kb / 1024.0));
    println!(
        "tshark:  {:>7.2} s  {:>7.1} MB/s  {frames} frames match 'sip || msrp'; peak RSS {}",
        theirs,
        bytes as f64 / 1e6 / theirs,
        rss.unwrap_or_else(|| "unknown (/usr/bin/time missing)".into())
    );
    println!("ratio:   the reader is {:.1}x tshark's speed", theirs / ours);

    if args.iter().any(|a| a == "--judge") {
        // The CLI as a user runs it, built by `cargo run --release` with this example.
        let bin = Path::new("target/release/cpm-deferral");
        if !bin.exists() {
            println!("judge:   target/release/cpm-deferral missing (cargo build --release)");
            return;
        }
        let mut cmd = if timed {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "%M"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        cmd.args(["conform", "--format", "json"]).arg(&path);
        let t = Instant::now();
        let out = cmd.output().expect("run cpm-deferral conform");
        let judge = t.elapsed().as_secs_f64();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        let rss = String::from_utf8_lossy(&out.stderr).lines().last().and_then(|l| l.trim().parse::<f64>().ok()).map(|kb| format!("{:.1} MiB", kb / 1024.0));
        println!(
            "judge:   {:>7.2} s  {:>7.1} MB/s  verdict {} ({} messages judged, {} more read), exit {:?}; peak RSS {}",
            judge,
            bytes as f64 / 1e6 / judge,
            v["verdict"],
            v["capture"]["messages"],
            v["capture"]["unjudged"],
            out.status.code(),
            rss.unwrap_or_else(|| "unknown (/usr/bin/time missing)".into())
        );
        println!("ratio:   the judge is {:.2}x tshark's speed (tshark -Y 'sip || msrp' only dissects and filters)", theirs / judge);
    }
}
