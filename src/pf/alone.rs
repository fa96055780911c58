//! The PF alone: constructed without a world and fed inputs by hand, it answers from what
//! reached it and its configuration only (issue 10, "A test that constructs a `Pf` alone and
//! feeds it wire messages is the proof"; /work/shared/design/architecture.md).

use super::*;
use crate::trace::{Participant, PfState, Rules};
use crate::wire::sip::SipMessage;
use crate::world::build::{UserInfo, CAROL, GROUP};

fn config() -> PfConfig {
    PfConfig {
        rules: Rules::PostCr,
        policies: Policies::default(),
        t1_ms: 500,
        horizon_ms: 100_000,
        epoch_ms: 1_700_000_000_000,
        wire: true,
        members: vec!["alice".into(), "bob".into()],
        chunk_bytes: None,
        tablet: false,
    }
}

/// A request's header values as they would reach the PF.
fn txn(method: &'static str, call_id: &str, from_tag: &str) -> Txn {
    let mut m = SipMessage::request(method, GROUP);
    m.push("Via", "SIP/2.0/TCP 198.51.100.7:5060;branch=z9hG4bKc1");
    m.push("From", format!("<{CAROL}>;tag={from_tag}"));
    m.push("To", format!("<{GROUP}>"));
    m.push("Call-ID", call_id);
    m.push("CSeq", format!("1 {method}"));
    Txn::of(&m)
}

fn drain(pf: &mut Pf) -> Vec<PfEmit> {
    let mut out = Vec::new();
    pf.poll_output(&mut out);
    out
}

/// The NOTIFYs the PF sends Carol, as text.
fn notifies_to_carol(out: &[PfEmit]) -> Vec<String> {
    out.iter()
        .filter_map(|e| match &e.out {
            PfOutput::Sip { to: Node::Carol, msg, .. } if msg.label_cow() == "NOTIFY" => Some(msg.emit()),
            _ => None,
        })
        .collect()
}

/// Every output is moved twice (into the queue, out of it): it carries its arrival boxed (the
/// box the event queue needs anyway), not inline (an `Arrival` is 232 bytes here).
#[test]
fn outputs_stay_small() {
    let (emit, arrival) = (std::mem::size_of::<PfEmit>(), std::mem::size_of::<crate::world::Arrival>());
    assert!(emit <= 192 && emit < arrival, "PfEmit is {emit} B (an Arrival {arrival} B)");
}

/// Before any NOTIFY from the focus the PF knows no participant: its NOTIFY to Carol's own
/// subscription is a full state with no users (RFC 6665 §4.2.1 still asks for one at once).
/// (The world's PF used to copy the focus's live roster here.)
#[test]
fn before_any_notify_the_pf_tells_carol_of_no_participant() {
    let mut pf = Pf::new(true, config());
    pf.handle(1_000, PfInput::CarolSubscribe { txn: txn("SUBSCRIBE", "cs-1@198.51.100.7", "cs-1") });
    let out = drain(&mut pf);
    let n = notifies_to_carol(&out);
    assert_eq!(n.len(), 1, "one NOTIFY at once");
    assert!(n[0].contains("<conference-info") && !n[0].contains("<user "), "a full state with no users:\n{}", n[0]);
}

/// What the PF tells Carol of a participant (how she left, when) is what the focus's NOTIFY
/// said, not the focus's records now. (The world's PF used to look up the focus's records.)
#[test]
fn the_pf_passes_on_what_the_focus_notify_said() {
    let mut pf = Pf::new(true, config());
    let users = vec![Participant { id: "alice".into(), name: "Alice".into(), status: "disconnected" }];
    let info = vec![UserInfo { dialed_out: true, how_left: "failed", left_ms: Some(2_000) }];
    let roster = Roster { version: 3, users, info };
    pf.handle(3_000, PfInput::FocusNotify { txn: txn("NOTIFY", "pfsub-1@pf", "cf-9"), terminated: None, roster: Some(roster) });
    let out = drain(&mut pf);
    assert!(out.iter().any(|e| matches!(&e.out, PfOutput::Roster(u) if u.len() == 1)), "the PF records the list it now holds");
    pf.handle(4_000, PfInput::CarolSubscribe { txn: txn("SUBSCRIBE", "cs-1@198.51.100.7", "cs-1") });
    let n = notifies_to_carol(&drain(&mut pf));
    assert_eq!(n.len(), 1);
    for part in ["sip:alice@ims.example.net", "<disconnection-method>failed</disconnection-method>", "dialed-out", "2023-11-14T22:13:22"] {
        assert!(n[0].contains(part), "missing {part}:\n{}", n[0]);
    }
}

/// A SEND from the focus on an established session: the PF answers it hop by hop, relays it to
/// Carol with the body that reached it, and arms its transaction timer with the reason; its
/// state snapshot rides along with every output.
#[test]
fn a_send_from_the_focus_is_relayed_with_its_own_body_and_timer() {
    let mut pf = Pf::new(true, config());
    pf.handle(2_000, PfInput::FocusSend { chat: 0, tid: "t1".into(), body: "CPIM-BODY-0".into(), chunk: None, sender: "bob".into() });
    let out = drain(&mut pf);
    let to_cf = out.iter().filter(|e| matches!(&e.out, PfOutput::Msrp { to: Node::Cf, label: "200 OK", .. })).count();
    let relayed: Vec<&String> = out
        .iter()
        .filter_map(|e| match &e.out {
            PfOutput::Msrp { to: Node::Carol, label: "SEND", raw, .. } => Some(raw),
            _ => None,
        })
        .collect();
    assert_eq!(to_cf, 1);
    assert_eq!(relayed.len(), 1);
    assert!(relayed[0].contains("CPIM-BODY-0"), "the body it relays is the one that reached it");
    assert!(out.iter().any(|e| matches!(e.out, PfOutput::Arm { timer: PfTimer::MsrpTransaction { .. }, ms: 30_000, .. })));
    assert!(out.iter().all(|e| e.state == PfState::Active));
    // Nothing more to drain: one input, its outputs, then empty.
    assert!(drain(&mut pf).is_empty());
}

/// Drives any machine through the one surface (crate::machine): one input, then drain.
fn step<M: crate::machine::Machine>(m: &mut M, now: u64, input: M::Input) -> Vec<M::Output> {
    m.handle(now, input);
    let mut out = Vec::new();
    m.poll_output(&mut out);
    out
}

/// `poll_timeout` answers from the PF's own armed timers, with their reason: a relayed SEND's
/// transaction timer (RFC 4975 §7.1.1) runs until its 200 stops it, and one that fires is gone.
#[test]
fn poll_timeout_names_the_earliest_armed_timer_and_why() {
    use crate::machine::Machine;
    let mut pf = Pf::new(true, config());
    assert_eq!(pf.poll_timeout(), None, "nothing armed at the start");
    let out = step(&mut pf, 2_000, PfInput::FocusSend { chat: 0, tid: "t1".into(), body: "B0".into(), chunk: None, sender: "bob".into() });
    let tx = out
        .iter()
        .find_map(|e| match e.out {
            PfOutput::Arm { timer: PfTimer::MsrpTransaction { tx }, .. } => Some(tx),
            _ => None,
        })
        .expect("a transaction timer");
    assert_eq!(Machine::poll_timeout(&pf), Some((32_000, PfTimer::MsrpTransaction { tx })));
    // A second SEND later: the first one's deadline is still the earliest.
    let out = step(&mut pf, 5_000, PfInput::FocusSend { chat: 1, tid: "t2".into(), body: "B1".into(), chunk: None, sender: "bob".into() });
    let tx2 = out
        .iter()
        .find_map(|e| match e.out {
            PfOutput::Arm { timer: PfTimer::MsrpTransaction { tx }, .. } => Some(tx),
            _ => None,
        })
        .expect("a second transaction timer");
    assert_eq!(pf.poll_timeout(), Some((32_000, PfTimer::MsrpTransaction { tx })));
    // Carol's 200 to the first stops its timer: the second is next.
    let out = step(&mut pf, 5_030, PfInput::CarolSendOk { tx });
    assert!(out.iter().any(|e| matches!(e.out, PfOutput::Stop { .. })));
    assert_eq!(pf.poll_timeout(), Some((35_000, PfTimer::MsrpTransaction { tx: tx2 })));
    // The second fires: it is no longer armed (whatever the PF arms in answer is its own).
    step(&mut pf, 35_000, PfInput::Timer(PfTimer::MsrpTransaction { tx: tx2 }));
    assert!(pf.poll_timeout().is_none_or(|(at, t)| t != PfTimer::MsrpTransaction { tx: tx2 } && at >= 35_000));
    assert!(pf.armed.len() <= 2);
}
