//! Traffic from a SIP stack nobody here wrote: SIPp (Debian's `sip-tester`) plays its built-in
//! UAC and UAS scenarios over loopback, `tcpdump` captures them, and the capture reader must
//! read every message SIPp sent, typed, in order: over UDP captured on `lo` (Ethernet link
//! type) and over TCP captured on `any` (Linux cooked v2, SLL2, tcpdump's default there).
//! tcpdump runs with `--immediate-mode`: without it, packets still in the kernel's capture
//! buffer when it is stopped are never written (a capture of 0 packets in some runs).
//!
//!
//! Then SIPp against a PF: SIPp scenarios (tests/sipp/) play Carol's client, her S-CSCF, the CF
//! and the PF itself, the PF's side scripted after the CR's exchange (Carol's BYE with Reason
//! SIP;cause=480 → the PF's 200, no BYE to the CF, the PF's SUBSCRIBE to the focus and its 200
//! to the NOTIFY, the 3rd-party REGISTER → its 200 and the PF's INVITE to Carol, her 180 and
//! 200, its ACK), each SIPp on its own loopback address, over UDP (SIPp's `setdest`, which the
//! PF needs to talk to three peers, works over UDP only), captured by tcpdump on `lo`. The judge
//! finds the roles itself and passes every SIP sentence the exchange exercises, and says the
//! MSRP ones are not exercised (SIPp has no MSRP); a faulty PF script (a BYE to the CF after
//! the cause-480 BYE) fails at `cr-remain` and `cr-case1`. SIPp matches messages to its calls
//! by Call-ID, so the whole exchange shares one (`-cid_str`): legal (dialogs differ by tags),
//! unlike a real network's.
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

/// tshark's fields output for `file` with `args`, None without tshark.
fn tshark(file: &Path, args: &[&str]) -> Option<String> {
    if !Path::new("/usr/bin/tshark").exists() {
        return None;
    }
    let out = Command::new("/usr/bin/tshark").arg("-n").arg("-r").arg(file).args(args).output().expect("tshark");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// tshark's count of SIP messages in `file` (SIP over TCP decoded on `port`), None without tshark.
fn tshark_count(file: &Path, port: u16) -> Option<usize> {
    let out = tshark(file, &["-d", &format!("tcp.port=={port},sip"), "-Y", "sip", "-T", "fields", "-e", "sip.CSeq"])?;
    Some(out.lines().map(|l| l.split(',').count()).sum())
}

/// Whether a capture holds every segment: tshark finds no "previous segment not captured" (on
/// a loaded machine the kernel's capture on `any` has dropped a few; that capture is retaken,
/// since a capture that lost packets is not the input this test judges the reader on).
fn complete(file: &Path) -> bool {
    tshark(file, &["-Y", "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment"]).is_none_or(|out| out.is_empty())
}

/// [`sipp_capture`] until a capture is complete, at most three times.
fn complete_capture(dir: &Path, iface: &str, transport: &str, calls: u32) -> (PathBuf, u16) {
    for attempt in 1..=3 {
        let cap = sipp_capture(dir, iface, transport, calls);
        if complete(&cap.0) {
            return cap;
        }
        eprintln!("capture {} (attempt {attempt}) lost TCP segments in the kernel: taken again", cap.0.display());
    }
    panic!("three captures over {transport} on {iface} lost TCP segments");
}

fn check((file, port): (PathBuf, u16), transport: Transport, calls: usize) {
    let file = file.as_path();
    let bytes = std::fs::read(file).expect("capture");
    // tshark agrees on the number of SIP messages.
    if let Some(n) = tshark_count(file, port) {
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
    check(complete_capture(&dir, "any", "t1", 3), Transport::Tcp, 3);
    std::fs::remove_dir_all(&dir).ok();
}

/// One SIPp of an exchange: its scenario (tests/sipp/), address, port, and the peer a client
/// sends its first request to (`None`: it waits for one, a server).
struct Player {
    xml: &'static str,
    ip: &'static str,
    port: u16,
    target: Option<(&'static str, u16)>,
}

/// Plays `players` (servers first, then clients, all at once) on loopback under tcpdump on
/// `lo`; returns the capture. Every SIPp gets the others' addresses as keys.
fn play(dir: &Path, name: &str, players: &[Player], keys: &[(&str, String)]) -> PathBuf {
    let file = dir.join(format!("{name}.pcap"));
    let ports: Vec<String> = players.iter().map(|p| format!("port {}", p.port)).collect();
    let mut dump = Command::new("/usr/bin/tcpdump")
        .args(["-i", "lo", "--immediate-mode", "-U", "-s", "0", "-n", "-w"])
        .arg(&file)
        .arg(format!("udp and net 127.0.1.0/24 and ({})", ports.join(" or ")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcpdump");
    let mut err = BufReader::new(dump.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).expect("tcpdump stderr") > 0 && !line.contains("listening on") {
        line.clear();
    }
    assert!(line.contains("listening on"), "tcpdump did not start: {line}");
    std::thread::sleep(Duration::from_millis(500));
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp");
    let start = |p: &Player| {
        let log = |what: &str| std::fs::File::create(dir.join(format!("{name}-{}-{what}.log", p.xml))).expect("log file");
        let mut c = Command::new("/usr/bin/sipp");
        if let Some((ip, port)) = p.target {
            c.arg(format!("{ip}:{port}"));
        }
        c.arg("-sf").arg(scenarios.join(p.xml)).args(["-i", p.ip, "-p", &p.port.to_string()]);
        for (k, v) in keys {
            c.args(["-key", k, v]);
        }
        c.args(["-t", "u1", "-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error", "-cid_str", &format!("cpm-sipp-{name}-1")])
            .current_dir(dir)
            .stdout(log("out"))
            .stderr(log("err"))
            .spawn()
            .expect("start sipp")
    };
    let mut servers: Vec<(&Player, Child)> = players.iter().filter(|p| p.target.is_none()).map(|p| (p, start(p))).collect();
    // The servers must listen before the first request, also on a loaded machine.
    std::thread::sleep(Duration::from_millis(1000));
    let mut clients: Vec<(&Player, Child)> = players.iter().filter(|p| p.target.is_some()).map(|p| (p, start(p))).collect();
    let mut failed = Vec::new();
    for (p, c) in clients.iter_mut().chain(servers.iter_mut()) {
        let s = wait(c, Duration::from_secs(30));
        if !s.is_some_and(|s| s.success()) {
            failed.push(format!("{}: {s:?}: {}", p.xml, std::fs::read_to_string(dir.join(format!("{name}-{}-err.log", p.xml))).unwrap_or_default()));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").arg("-TERM").arg(dump.id().to_string()).status();
    wait(&mut dump, Duration::from_secs(5));
    assert!(failed.is_empty(), "SIPp players of {name} failed: {failed:#?}");
    file
}

#[test]
fn sipp_playing_a_pf_its_client_and_focus_is_judged() {
    if !available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("cpm-sipp-pf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = 30_000 + (std::process::id() % 20_000) as u16;
    let (carol, pf, cf, scscf) = (("127.0.1.1", base), ("127.0.1.2", base + 1), ("127.0.1.3", base + 2), ("127.0.1.4", base + 3));
    let keys: Vec<(&str, String)> = [("carol", carol), ("pf", pf), ("cf", cf), ("scscf", scscf)]
        .iter()
        .flat_map(|(k, (ip, port))| [(ip_key(k), ip.to_string()), (port_key(k), port.to_string())])
        .collect();
    let judge = |file: &Path| {
        let bytes = std::fs::read(file).expect("capture");
        cpm_deferral::judge::judge(&bytes, cpm_deferral::judge::Options::default()).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    };
    let verdict = |j: &cpm_deferral::judge::Judgement, id: &str| j.clauses.iter().find(|c| c.id == id).map(|c| (c.verdict, c.why.clone())).expect("clause");

    // The PF as the amended text has it.
    let file = play(
        &dir,
        "conforming",
        &[
            Player { xml: "cf.xml", ip: cf.0, port: cf.1, target: None },
            Player { xml: "pf.xml", ip: pf.0, port: pf.1, target: None },
            Player { xml: "carol.xml", ip: carol.0, port: carol.1, target: Some(pf) },
            Player { xml: "scscf.xml", ip: scscf.0, port: scscf.1, target: Some(pf) },
        ],
        &keys,
    );
    let j = judge(&file);
    let text = cpm_deferral::judge::to_text(&j);
    assert_eq!(j.messages, 12, "{text}");
    assert_eq!(j.roles.pf.ip.to_string(), pf.0, "{text}");
    assert_eq!(j.roles.cf.map(|n| n.ip.to_string()).as_deref(), Some(cf.0), "{text}");
    assert_eq!(j.verdict, cpm_deferral::judge::Verdict::Pass, "{text}");
    for id in ["cr-bye", "cr-remain", "cr-case1", "cr-subscribe", "cr-two-ways", "cr-path-a"] {
        assert_eq!(verdict(&j, id).0, "pass", "{id}: {text}");
    }
    let (v, why) = verdict(&j, "cr-msrp");
    assert_eq!(v, "not exercised", "{text}");
    assert!(why.contains("no MSRP"), "said as such: {why}");

    // A faulty PF: it leaves the group after the cause-480 BYE.
    let file = play(
        &dir,
        "faulty",
        &[
            Player { xml: "cf-bye.xml", ip: cf.0, port: cf.1, target: None },
            Player { xml: "pf-leaves.xml", ip: pf.0, port: pf.1, target: None },
            Player { xml: "carol-bye.xml", ip: carol.0, port: carol.1, target: Some(pf) },
        ],
        &keys,
    );
    let j = judge(&file);
    let text = cpm_deferral::judge::to_text(&j);
    assert_eq!(j.verdict, cpm_deferral::judge::Verdict::Fail, "{text}");
    let d = j.deviations.iter().find(|d| d.clause == "cr-remain").unwrap_or_else(|| panic!("{text}"));
    assert_eq!((d.expected.as_str(), d.observed.as_str(), d.frame), ("SIP SUBSCRIBE", "SIP BYE", 3), "{text}");
    assert_eq!(verdict(&j, "cr-case1").0, "fail", "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The SIPp key of a player's address (`-key pf_ip …` fills `[pf_ip]` in tests/sipp/).
fn ip_key(k: &str) -> &'static str {
    match k {
        "carol" => "carol_ip",
        "pf" => "pf_ip",
        "cf" => "cf_ip",
        _ => "scscf_ip",
    }
}

/// The SIPp key of a player's port.
fn port_key(k: &str) -> &'static str {
    match k {
        "carol" => "carol_port",
        "pf" => "pf_port",
        "cf" => "cf_port",
        _ => "scscf_port",
    }
}
