//! The IMS core alone: built without a world and fed SIP messages by hand, it proxies and
//! answers from what reached it and its configuration only (issue 10: "The CF, Carol's client,
//! the members and the IMS core are machines too").

use super::*;
use crate::world::build::{GROUP, PF_ROUTE};

fn core(mode: ImsCore) -> Core {
    Core::new(CoreConfig { mode, t1_ms: 500, wire: true })
}

/// The PF's INVITE to Carol's AOR, preloaded with its route through the core, as it reaches
/// the core (inv: the PF's number of it).
fn pf_invite(inv: u32) -> Box<CoreHop> {
    let mut m = SipMessage::request("INVITE", CAROL);
    m.push("Via", "SIP/2.0/TCP pf.cpm.example.net:5060;branch=z9hG4bKp6001");
    m.push("Route", PF_ROUTE);
    m.push("Max-Forwards", "70");
    m.push("From", format!("<{GROUP}>;tag=pf-1"));
    m.push("To", format!("<{CAROL}>"));
    m.push("Call-ID", "pfi-1@pf.cpm.example.net");
    m.push("CSeq", "1 INVITE");
    let txn = Txn::of(&m);
    Box::new(CoreHop {
        msg: m,
        from: Node::Pf,
        to: Node::Carol,
        arrival: Some(Arrival::PfInviteAtCarol { inv, txn, no: 0x8001, delivery: true, roster: None }),
        clauses: Cow::Borrowed(&["8.3.2.9"]),
    })
}

fn step(c: &mut Core, now: Time, input: CoreInput) -> Vec<CoreOutput> {
    c.handle(now, input);
    let mut out = Vec::new();
    c.poll_output(&mut out);
    out
}

/// What it sends: (to, text).
fn sent(out: &[CoreOutput]) -> Vec<(Node, &str)> {
    out.iter()
        .filter_map(|o| match o {
            CoreOutput::Sip { to, raw, .. } => Some((*to, raw.as_str())),
            _ => None,
        })
        .collect()
}

/// A transaction-stateful core takes the PF's INVITE on with 100 Trying (RFC 3261 §16.2,
/// §17.2.1), forwards it to Carol's registered contact with both proxies' Via and
/// Record-Route and its Route entries consumed (§16.4, §16.6), runs its own Timer B (its
/// `poll_timeout` says so, with the reason), and answers 408 when it fires (§16.8).
#[test]
fn alone_the_core_proxies_an_invite_and_answers_408_after_its_timer_b() {
    let mut c = core(ImsCore::Answers408);
    assert_eq!(c.poll_timeout(), None);
    let out = step(&mut c, 1_000, CoreInput::Message(pf_invite(7)));
    let s = sent(&out);
    assert_eq!(s.len(), 2, "100 Trying back, the INVITE on");
    assert_eq!(s[0].0, Node::Pf);
    assert!(s[0].1.starts_with("SIP/2.0 100 Trying\r\n"), "{}", s[0].1);
    assert_eq!(s[1].0, Node::Carol);
    let inv = s[1].1;
    assert!(inv.starts_with("INVITE sip:carol@198.51.100.7:5060;transport=tcp SIP/2.0\r\n"), "retargeted to her contact:\n{inv}");
    assert_eq!(inv.matches("\r\nVia: ").count(), 3, "the PF's Via under the S-CSCF's and the P-CSCF's:\n{inv}");
    assert!(inv.contains("Record-Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:scscf.ims.example.net;lr>\r\n"), "{inv}");
    assert!(!inv.contains("\r\nRoute: "), "the Route entries naming the core are consumed:\n{inv}");
    assert!(inv.contains("Max-Forwards: 68\r\n"));
    assert!(out.iter().any(|o| matches!(o, CoreOutput::Arm { timer: CoreTimer::TimerB { txn: 0 }, ms: 32_000, .. })));
    assert_eq!(c.poll_timeout(), Some((33_000, CoreTimer::TimerB { txn: 0 })));
    // Nobody answers: its Timer B fires and it answers the PF itself.
    let out = step(&mut c, 33_000, CoreInput::Timer(CoreTimer::TimerB { txn: 0 }));
    let s = sent(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, Node::Pf);
    assert!(s[0].1.starts_with("SIP/2.0 408 Request Timeout\r\n"), "{}", s[0].1);
    let to_pf = out.iter().find_map(|o| match o {
        CoreOutput::Sip { arrival: Some(a), .. } => Some(a),
        _ => None,
    });
    assert!(matches!(to_pf.map(|a| &**a), Some(Arrival::CarolRespAtPf { inv: 7, code: 408, .. })), "{to_pf:?}");
    assert_eq!(c.poll_timeout(), None, "its timer is gone once it fired");
}

/// A response from Carol stops the core's Timer B (no `poll_timeout` left) and goes on to the
/// PF with the core's Via entries removed (§16.7).
#[test]
fn alone_a_response_stops_the_cores_timer_and_goes_on_along_the_via() {
    let mut c = core(ImsCore::Answers408);
    let out = step(&mut c, 1_000, CoreInput::Message(pf_invite(1)));
    let fwd = sent(&out)[1].1.to_string();
    let inv = crate::wire::sip::SipMessage::parse(&fwd).expect("the forwarded INVITE parses");
    let mut ringing = response(180, &Txn::of(&inv), Some("c-1"));
    ringing.push("Contact", "<sip:carol@198.51.100.7:5060;transport=tcp>");
    let hop = CoreHop { msg: ringing, from: Node::Carol, to: Node::Pf, arrival: None, clauses: Cow::Borrowed(&[]) };
    let out = step(&mut c, 1_400, CoreInput::Message(Box::new(hop)));
    assert!(out.iter().any(|o| matches!(o, CoreOutput::Stop { handle: 0 })));
    assert_eq!(c.poll_timeout(), None);
    let s = sent(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, Node::Pf);
    assert_eq!(s[0].1.matches("\r\nVia: ").count(), 1, "only the PF's own Via is left:\n{}", s[0].1);
}

/// Told that Carol's signalling connection is gone, an `answers-480` core rejects the INVITE at
/// once (3GPP TS 24.229 §5.2.6.3) and arms nothing; a stateless core (§16.11) answers nothing.
#[test]
fn alone_what_the_core_was_told_of_carol_decides_480_and_stateless_answers_nothing() {
    let mut c = core(ImsCore::Answers480);
    assert!(step(&mut c, 500, CoreInput::CarolReachable(false)).is_empty(), "an input that only informs it");
    let out = step(&mut c, 1_000, CoreInput::Message(pf_invite(2)));
    let s = sent(&out);
    assert_eq!(s.len(), 1);
    assert!(s[0].1.starts_with("SIP/2.0 480 Temporarily Unavailable\r\n"), "{}", s[0].1);
    assert_eq!(c.poll_timeout(), None);

    let mut c = core(ImsCore::Stateless);
    let out = step(&mut c, 1_000, CoreInput::Message(pf_invite(3)));
    let s = sent(&out);
    assert_eq!(s.len(), 1, "only the INVITE, forwarded");
    assert_eq!(s[0].0, Node::Carol);
    assert_eq!(c.poll_timeout(), None, "a stateless core runs no timer");
}
