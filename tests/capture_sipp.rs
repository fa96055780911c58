//! Traffic from a SIP stack nobody here wrote: SIPp (Debian's `sip-tester`) plays its built-in
//! UAC and UAS scenarios over loopback, `tcpdump` captures them, and the capture reader must
//! read every message SIPp sent, typed, in order: over UDP captured on `lo` (Ethernet link
//! type) and over TCP captured on `any` (Linux cooked v2, SLL2, tcpdump's default there).
//! tcpdump runs with `--immediate-mode`: without it, packets still in the kernel's capture
//! buffer when it is stopped are never written (a capture of 0 packets in some runs).
//!
//! Runs when /usr/bin/sipp and /usr/bin/tcpdump exist (and as root, which tcpdump needs);
//! skipped with a message otherwise, unless CPM_REQUIRE_SIPP=1 (scripts/test.sh sets it and
//! installs both). Only loopback addresses are used; every process is bounded in time.
#![cfg(feature = "capture")]

use cpm_deferral::capture::{self, roles, Transport, WireMessage};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn available() -> bool {
    let ok = Path::new("/usr/bin/sipp").exists() && Path::new("/usr/bin/tcpdump").exists();
    if !ok && std::env::var("CPM_REQUIRE_SIPP").as_deref() == Ok("1") {
        panic!("CPM_REQUIRE_SIPP=1 but sipp or tcpdump is missing (apt-get install sip-tester tcpdump)");
    }
    if !ok {
        eprintln!("sipp or tcpdump missing: skipped (apt-get install sip-tester tcpdump)");
    }
    ok
}

/// Waits for `child` at most `limit`; kills it if it is still running.
fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Captures `calls` SIPp calls over `transport` (`u1` or `t1`) on interface `iface`.
fn sipp_capture(dir: &Path, iface: &str, transport: &str, calls: u32) -> (PathBuf, u16) {
    let base = 20_000 + (std::process::id() % 20_000) as u16 + if transport == "t1" { 7 } else { 0 };
    let (uac, uas) = (base, base + 1);
    let file = dir.join(format!("sipp-{transport}-{iface}.pcap"));
    let mut dump = Command::new("/usr/bin/tcpdump")
        .args(["-i", iface])
        .args(["--immediate-mode", "-U", "-s", "0", "-n", "-w"])
        .arg(&file)
        .arg(format!("host 127.0.0.1 and ({p} port {uac} or {p} port {uas})", p = if transport == "t1" { "tcp" } else { "udp" }))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcpdump");
    // tcpdump says "listening on …" once the capture runs.
    let mut err = BufReader::new(dump.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).expect("tcpdump stderr") > 0 && !line.contains("listening on") {
        line.clear();
    }
    assert!(line.contains("listening on"), "tcpdump did not start: {line}");
    // On `any` the capture is live a moment after the message.
    std::thread::sleep(Duration::from_millis(700));
    let log = |name: &str| std::fs::File::create(dir.join(format!("{name}-{transport}.log"))).expect("log file");
    let sipp = |args: &[&str], name: &str| {
        Command::new("/usr/bin/sipp")
            .args(args)
            .args(["-i", "127.0.0.1", "-t", transport, "-m", &calls.to_string(), "-nostdin", "-timeout", "20s", "-timeout_error"])
            .current_dir(dir)
            .stdout(log(name))
            .stderr(log(&format!("{name}-err")))
            .spawn()
            .expect("start sipp")
    };
    let mut server = sipp(&["-sn", "uas", "-p", &uas.to_string()], "uas");
    // The UAS must listen before the UAC's first INVITE, also on a loaded machine.
    std::thread::sleep(Duration::from_millis(1000));
    let mut client = sipp(&["-sn", "uac", &format!("127.0.0.1:{uas}"), "-p", &uac.to_string(), "-r", "20"], "uac");
    let c = wait(&mut client, Duration::from_secs(30));
    let s = wait(&mut server, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").arg("-TERM").arg(dump.id().to_string()).status();
    wait(&mut dump, Duration::from_secs(5));
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut err, &mut rest);
    assert!(!rest.starts_with("0 packets captured"), "tcpdump on {iface} (ports {uac}, {uas}): {rest}");
    let errors = std::fs::read_to_string(dir.join(format!("uac-err-{transport}.log"))).unwrap_or_default();
    assert!(c.is_some_and(|c| c.success()), "the SIPp UAC failed: {c:?}: {errors}");
    assert!(s.is_some(), "the SIPp UAS did not end");
    (file, uas)
}

fn check((file, port): (PathBuf, u16), transport: Transport, calls: usize) {
    let file = file.as_path();
    let bytes = std::fs::read(file).expect("capture");
    if Path::new("/usr/bin/tshark").exists() {
        // tshark agrees on the number of SIP messages.
        let out = Command::new("/usr/bin/tshark")
            .arg("-n")
            .arg("-r")
            .arg(file)
            .args(["-d", &format!("tcp.port=={port},sip"), "-Y", "sip", "-T", "fields", "-e", "sip.CSeq"])
            .output()
            .expect("tshark");
        let n: usize = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split(',').count()).sum();
        assert_eq!(n, 6 * calls, "tshark's count of SIP messages in {}", file.display());
    }
    let (msgs, stats, err) = capture::read_all(&bytes);
    assert_eq!(err, None, "{}", file.display());
    assert!(stats.skips.is_empty(), "{}: {:?}", file.display(), stats.skips);
    // SIPp's built-in uac and uas: INVITE, 180, 200, ACK, BYE, 200 per call.
    let labels: Vec<String> = msgs.iter().map(|m| m.message.label()).collect();
    assert_eq!(msgs.len(), 6 * calls, "{}: {labels:?}", file.display());
    let mut by_call: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in &msgs {
        assert_eq!(m.transport, transport);
        assert!(m.src.ip().is_loopback() && m.dst.ip().is_loopback());
        let WireMessage::Sip(s) = &m.message else { panic!("SIPp sends SIP only") };
        let call = s.header("Call-ID").expect("Call-ID").to_string();
        let what = match s.method() {
            Some(method) if s.label() == method => method.to_string(),
            _ => format!("{} {}", s.label().split(' ').next().unwrap(), s.method().unwrap_or("?")),
        };
        by_call.entry(call).or_default().push(what);
        if s.method() == Some("INVITE") && s.label() == "INVITE" {
            assert!(s.body.starts_with("v=0"), "SIPp's INVITE carries SDP: {:?}", s.body);
        }
    }
    assert_eq!(by_call.len(), calls);
    for (call, seq) in &by_call {
        assert_eq!(seq, &["INVITE", "180 INVITE", "200 INVITE", "ACK", "BYE", "200 BYE"], "call {call}");
    }
    // No CPM here: the role finder says it cannot tell, naming the loopback nodes by port.
    let e = roles::find(&msgs, None).unwrap_err();
    assert!(matches!(e, roles::RolesError::NoEvidence { ref nodes } if nodes.iter().all(|n| n.port.is_some())), "{e}");
    // And the judge (`conform`) refuses it with that reason, rather than judging a plain call;
    // told that SIPp's UAS is the PF, it still finds no focus to judge against.
    let e = cpm_deferral::judge::judge(&bytes, cpm_deferral::judge::Options::default()).unwrap_err();
    assert!(matches!(e, cpm_deferral::judge::JudgeError::Roles(roles::RolesError::NoEvidence { .. })), "{e}");
    let pf = msgs.iter().find(|m| matches!(&m.message, WireMessage::Sip(s) if s.method() == Some("INVITE"))).map(|m| m.dst).expect("an INVITE");
    let opts = cpm_deferral::judge::Options { pf: Some(roles::Node { ip: pf.ip(), port: Some(pf.port()) }), ..Default::default() };
    let e = cpm_deferral::judge::judge(&bytes, opts).unwrap_err();
    assert!(matches!(e, cpm_deferral::judge::JudgeError::NoGroupSession { .. }), "{e}");
}

#[test]
fn sipp_traffic_captured_by_tcpdump_reads_back() {
    if !available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("cpm-sipp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    check(sipp_capture(&dir, "lo", "u1", 3), Transport::Udp, 3);
    check(sipp_capture(&dir, "any", "t1", 3), Transport::Tcp, 3);
    std::fs::remove_dir_all(&dir).ok();
}
