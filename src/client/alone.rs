//! Carol's client alone: built without a world and fed messages and events by hand, it answers
//! from what reached it, what its device told it and its configuration only (issue 10: "The CF,
//! Carol's client, the members and the IMS core are machines too").

use super::*;
use crate::world::build::{CAROL, GROUP, PF_ROUTE};

fn client(established: bool, answer_ms: u64) -> Client {
    Client::new(ClientConfig {
        me: Node::Carol,
        established,
        answer_ms,
        policies: Policies::default(),
        wire: true,
        members: ["alice", "bob"].map(|id| Member { id: id.into(), name: id.into(), in_group: true }).to_vec(),
        imdn: crate::scenario::ImdnMode::Replayed,
        reads_ms: 5000,
        epoch_ms: 0,
    })
}

fn step(c: &mut Client, now: Time, input: ClientInput) -> Vec<ClientOutput> {
    c.handle(now, input);
    let mut out = Vec::new();
    c.poll_output(&mut out);
    out
}

/// The SIP messages it sends: (to, text).
fn sip(out: &[ClientOutput]) -> Vec<(Node, String)> {
    out.iter()
        .filter_map(|o| match o {
            ClientOutput::Sip { to, msg, .. } => Some((*to, msg.emit())),
            _ => None,
        })
        .collect()
}

/// The PF's delivery INVITE `inv` to Carol as it reaches her (through the core: its Via and
/// Record-Route entries).
fn pf_invite(inv: u32, call: &str) -> Arrival {
    let mut m = SipMessage::request("INVITE", CAROL);
    m.push("Via", "SIP/2.0/TCP pcscf.ims.example.net:5060;branch=z9hG4bKpc1");
    m.push("Via", "SIP/2.0/TCP pf.cpm.example.net:5060;branch=z9hG4bKp6001");
    m.push("Record-Route", "<sip:pcscf.ims.example.net:5060;lr>");
    m.push("Record-Route", "<sip:scscf.ims.example.net;lr>");
    m.push("From", format!("<{GROUP}>;tag=pf-1c3"));
    m.push("To", format!("<{CAROL}>"));
    m.push("Call-ID", call);
    m.push("CSeq", "1 INVITE");
    Arrival::PfInviteAtCarol { inv, txn: Txn::of(&m), no: 0x8001, delivery: true, roster: None }
}

/// A response of the PF's to Carol's request `req` (as it sent it), with the PF's To tag.
fn pf_response(code: u16, req: &str) -> Txn {
    let m = SipMessage::parse(req).expect("her request parses");
    let mut r = crate::world::build::response(code, &Txn::of(&m), Some("pf-92"));
    if code == 200 {
        r.push("Record-Route", PF_ROUTE);
    }
    Txn::of(&r)
}

/// Alerting for an INVITE, her client sends 180 Ringing with a To tag and its Contact (RFC 3261
/// §13.3.1.1) and arms its answer delay (its `poll_timeout` says so); when it fires, the 200
/// carries the same tag, an SDP answer with `a=setup:active` and the INVITE's Record-Route
/// (§12.1.1); the PF's ACK makes it open its MSRP connection, and only once the device says
/// it is up does it bind it with an empty SEND (RFC 4975 §5.4).
#[test]
fn alone_it_alerts_answers_and_opens_its_msrp_connection_as_the_active_side() {
    let mut c = client(false, 2_000);
    assert_eq!(c.poll_timeout(), None);
    let out = step(&mut c, 1_000, ClientInput::Message(pf_invite(3, "pf-dd01@pf")));
    assert!(matches!(out[0], ClientOutput::Arm { timer: ClientTimer::Answer { inv: 3 }, ms: 2_000, .. }));
    let s = sip(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, Node::Pf);
    assert!(s[0].1.starts_with("SIP/2.0 180 Ringing\r\n"), "{}", s[0].1);
    assert!(s[0].1.contains(&format!("To: <{CAROL}>;tag=c-901\r\n")), "{}", s[0].1);
    assert!(s[0].1.contains("\r\nContact: <sip:carol@198.51.100.7"), "{}", s[0].1);
    assert_eq!(c.poll_timeout(), Some((3_000, ClientTimer::Answer { inv: 3 })));

    let out = step(&mut c, 3_000, ClientInput::Timer(ClientTimer::Answer { inv: 3 }));
    assert_eq!(c.poll_timeout(), None, "its timer is gone once it fired");
    let s = sip(&out);
    assert_eq!(s.len(), 1);
    let ok = &s[0].1;
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert!(ok.contains(";tag=c-901\r\n"), "the same To tag as the 180:\n{ok}");
    assert!(ok.contains("a=setup:active"), "{ok}");
    assert!(ok.contains("Record-Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:scscf.ims.example.net;lr>\r\n"), "{ok}");

    let out = step(&mut c, 3_100, ClientInput::Message(Arrival::PfAckAtCarol { inv: 3 }));
    assert!(matches!(out[..], [ClientOutput::OpenMsrp]), "{out:?}");
    let out = step(&mut c, 3_100, ClientInput::MsrpOpened(true));
    let bind = out.iter().find_map(|o| match o {
        ClientOutput::Msrp { raw, arrival: Some(a), .. } if matches!(**a, Arrival::BindAtPf { .. }) => Some(raw.clone()),
        _ => None,
    });
    let bind = bind.expect("an empty SEND that binds the connection");
    assert!(bind.starts_with("MSRP ") && bind.contains(" SEND\r\n"), "{bind}");
    assert!(bind.contains("To-Path: msrp://192.0.2.10:20000/pf8001"), "to the PF's path of its offer:\n{bind}");
    assert!(!bind.contains("Content-Type"), "empty:\n{bind}");
}

/// A failed TCP connect (what the device tells it) leaves it without a connection: no SEND,
/// and a re-join is not "already in session".
#[test]
fn alone_a_failed_connect_sends_nothing_and_a_rejoin_goes_out() {
    let mut c = client(false, 0);
    step(&mut c, 1_000, ClientInput::Message(pf_invite(1, "pf-dd01@pf")));
    step(&mut c, 1_000, ClientInput::Timer(ClientTimer::Answer { inv: 1 }));
    step(&mut c, 1_020, ClientInput::Message(Arrival::PfAckAtCarol { inv: 1 }));
    assert!(step(&mut c, 1_020, ClientInput::MsrpOpened(false)).is_empty());
    let s = sip(&step(&mut c, 5_000, ClientInput::Rejoin { ids: crate::scenario::RejoinIds::Same }));
    assert_eq!(s.len(), 1);
    assert!(s[0].1.starts_with(&format!("INVITE {GROUP} SIP/2.0\r\n")), "{}", s[0].1);
}

/// Told that the device is off the network, it does not answer when its answer delay ends.
#[test]
fn alone_off_the_network_it_does_not_answer() {
    let mut c = client(false, 500);
    step(&mut c, 1_000, ClientInput::Message(pf_invite(2, "pf-dd02@pf")));
    step(&mut c, 1_200, ClientInput::Network(false));
    assert!(sip(&step(&mut c, 1_500, ClientInput::Timer(ClientTimer::Answer { inv: 2 }))).is_empty());
}

/// A leave while its own INVITE has no answer is no BYE (RFC 3261 §15) and no CANCEL before a
/// provisional response (§9.1): it waits, and cancels with the INVITE's branch, Route and CSeq
/// number once a 100 Trying arrives (issue 10 #7, the `full` set-up).
#[test]
fn alone_a_leave_during_its_own_invite_waits_for_a_provisional_then_cancels() {
    let mut c = client(false, 0);
    let s = sip(&step(&mut c, 1_000, ClientInput::CreateGroup));
    let invite = SipMessage::parse(&s[0].1).expect("her INVITE parses");
    let out = step(&mut c, 1_005, ClientInput::Leave);
    assert!(sip(&out).is_empty(), "nothing goes out before a provisional response: {out:?}");
    assert!(out.iter().any(|o| matches!(o, ClientOutput::Note { label, .. } if label == "CANCEL waits for a 1xx")));
    assert!(out.iter().any(|o| matches!(o, ClientOutput::Left)), "a voluntary leave");
    let s = sip(&step(&mut c, 1_020, ClientInput::Message(Arrival::PfTryingAtCarol)));
    assert_eq!(s.len(), 1);
    let cancel = SipMessage::parse(&s[0].1).expect("the CANCEL parses");
    assert!(s[0].1.starts_with("CANCEL sip:conf-factory@cf.cpm.example.net SIP/2.0\r\n"), "{}", s[0].1);
    assert_eq!(cancel.header("Via"), invite.header("Via"), "the INVITE's branch");
    assert_eq!(cancel.header("Route"), invite.header("Route"));
    assert_eq!(cancel.header("CSeq"), Some("1 CANCEL"));
    assert_eq!(cancel.header("To"), invite.header("To"), "no To tag");
}

/// Its dialog as a 2xx to its own INVITE makes it (RFC 3261 §12.1.2): the ACK follows the route
/// set (the 2xx's Record-Route reversed) to the remote target, with the PF's To tag; its BYE
/// is the next CSeq of its side; a BYE from the PF on the dialog it ended is answered 481
/// (§12.2.2).
#[test]
fn alone_its_dialog_keeps_tags_cseq_and_route_and_a_crossed_bye_gets_481() {
    let mut c = client(false, 0);
    let s = sip(&step(&mut c, 1_000, ClientInput::Rejoin { ids: crate::scenario::RejoinIds::Same }));
    let ok = pf_response(200, &s[0].1);
    let call = ok.call_id.clone();
    let out = step(&mut c, 1_040, ClientInput::Message(Arrival::PfRespAtCarol { code: 200, txn: ok, delivery: false, no: 0x8002, roster: None }));
    let s = sip(&out);
    let ack = &s[0].1;
    assert!(ack.starts_with("ACK sip:chat-7f3a9c@pf.cpm.example.net SIP/2.0\r\n"), "{ack}");
    assert!(ack.contains("Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:scscf.ims.example.net;lr>\r\n"), "{ack}");
    assert!(ack.contains(";tag=pf-92\r\n") && ack.contains("CSeq: 1 ACK\r\n"), "{ack}");
    assert!(matches!(out.last(), Some(ClientOutput::OpenMsrp)));
    step(&mut c, 1_040, ClientInput::MsrpOpened(true));
    let s = sip(&step(&mut c, 2_000, ClientInput::Bye { reason: None }));
    let bye = &s[0].1;
    assert!(bye.starts_with("BYE ") && bye.contains("CSeq: 2 BYE\r\n") && bye.contains(";tag=pf-92\r\n"), "{bye}");
    // The PF's BYE on the same dialog crossed hers.
    let mut m = SipMessage::request("BYE", "sip:carol@198.51.100.7:5060;transport=tcp");
    m.push("Via", "SIP/2.0/TCP pf.cpm.example.net:5060;branch=z9hG4bKp3b");
    m.push("From", format!("<{GROUP}>;tag=pf-92"));
    m.push("To", format!("<{CAROL}>;tag=c-772"));
    m.push("Call-ID", call);
    m.push("CSeq", "1 BYE");
    let s = sip(&step(&mut c, 2_005, ClientInput::Message(Arrival::PfByeAtCarol { txn: Txn::of(&m) })));
    assert!(s[0].1.starts_with("SIP/2.0 481 "), "{}", s[0].1);
}

/// A copy of a message it already has is acknowledged and dropped (RFC 5438 §6.3), and what it
/// received is what the recorder reads at the end.
#[test]
fn alone_a_duplicate_send_is_acknowledged_and_noted() {
    let mut c = client(true, 0);
    assert!(!c.has_received(4));
    let out = step(&mut c, 1_000, ClientInput::Message(Arrival::PfSendAtCarol { chat: 4, tx: 1, tid: "t1".into(), chunk: None, replay: true }));
    assert!(matches!(out[..], [ClientOutput::Msrp { label: "200 OK", .. }]), "{out:?}");
    assert!(c.has_received(4));
    let out = step(&mut c, 1_100, ClientInput::Message(Arrival::PfSendAtCarol { chat: 4, tx: 2, tid: "t2".into(), chunk: None, replay: true }));
    assert!(matches!(&out[..], [ClientOutput::Note { label, .. }, ClientOutput::Msrp { label: "200 OK", .. }] if label == "duplicate #4"), "{out:?}");
}

/// A leave while its re-join INVITE is pending is the same: it waits for a provisional response
/// and cancels (before, her client took itself for offline and let the re-join complete).
#[test]
fn alone_a_leave_during_its_rejoin_invite_cancels_it() {
    let mut c = client(false, 0);
    step(&mut c, 1_000, ClientInput::Rejoin { ids: crate::scenario::RejoinIds::Same });
    let out = step(&mut c, 1_002, ClientInput::Leave);
    assert!(out.iter().any(|o| matches!(o, ClientOutput::Note { label, .. } if label == "CANCEL waits for a 1xx")), "{out:?}");
    let s = sip(&step(&mut c, 1_010, ClientInput::Message(Arrival::PfTryingAtCarol)));
    assert!(s.len() == 1 && s[0].1.starts_with(&format!("CANCEL {GROUP} SIP/2.0\r\n")), "{s:?}");
}
