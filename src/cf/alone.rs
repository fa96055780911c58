//! The focus alone: built without a world and fed SIP and MSRP messages by hand, it answers
//! from what reached it and its configuration only (issue 10: "The CF, Carol's client, the
//! members and the IMS core are machines too").

use super::*;
use crate::world::build::{CAROL, GROUP};

fn config(setup: Setup) -> CfConfig {
    let member = |id: &str, name: &str| Member { id: id.into(), name: name.into(), in_group: true };
    let members = vec![member("alice", "Alice"), member("bob", "Bob")];
    let mut paths = Vec::new();
    for (i, m) in members.iter().enumerate() {
        paths.push(Arc::from(format!("msrp://198.51.100.{}:4915{i}/{}m{i};tcp", 21 + i, m.id)));
        paths.push(Arc::from(format!("msrp://192.0.2.20:30000/cfm{i}x{};tcp", m.id.len())));
    }
    CfConfig {
        setup,
        members,
        ids: ["carol", "carol-pf", "cf", "alice", "bob"].into_iter().map(Arc::from).collect(),
        paths,
        epoch_ms: 1_700_000_000_000,
        policies: Policies::default(),
        sub_refused: None,
        chunk_bytes: None,
        wire: true,
    }
}

fn step(f: &mut Focus, now: Time, input: CfInput) -> Vec<CfOutput> {
    f.handle(now, input);
    let mut out = Vec::new();
    f.poll_output(&mut out);
    out
}

/// What it sends: (to, label, text).
fn sent(out: &[CfOutput]) -> Vec<(Node, String, String)> {
    out.iter()
        .filter_map(|o| match o {
            CfOutput::Sip { to, msg, .. } => Some((*to, msg.label_cow().to_string(), msg.emit())),
            CfOutput::Msrp { to, raw, label, .. } => Some((*to, label.to_string(), raw.clone())),
            _ => None,
        })
        .collect()
}

/// A request's header values as they would reach the focus.
fn request(method: &'static str, from: &str, to: &str, call_id: &str, cseq: u32) -> Txn {
    let mut m = SipMessage::request(method, GROUP);
    m.push("Via", format!("SIP/2.0/TCP pf.cpm.example.net:5060;branch=z9hG4bKp-{method}{cseq}"));
    m.push("From", from.to_string());
    m.push("To", to.to_string());
    m.push("Call-ID", call_id);
    m.push("CSeq", format!("{cseq} {method}"));
    Txn::of(&m)
}

/// The PF's SUBSCRIBE to the focus with CSeq `cseq`, inside the subscription dialog
/// (`in_dialog`: To carries the focus's tag) or not.
fn subscribe(cseq: u32, in_dialog: bool) -> Txn {
    let to = if in_dialog { format!("<{GROUP}>;tag=cfs-1") } else { format!("<{GROUP}>") };
    request("SUBSCRIBE", &format!("<{CAROL}>;tag=pfsub-1"), &to, "pfsub-1@pf.cpm.example.net", cseq)
}

/// Issue 11 (P's note): a refresh within the subscription dialog keeps the focus's NOTIFY
/// CSeq and conference-info version going (RFC 6665 §4.1.2.2, §4.2.1.1; RFC 4575 §4.1); a
/// new subscription starts them again. On main the refresh restarted both at 1.
#[test]
fn a_subscribe_refresh_in_its_dialog_keeps_notify_cseq_and_version() {
    let mut f = Focus::new(config(Setup::Established));
    let mut notifies = Vec::new();
    for (cseq, in_dialog) in [(1, false), (2, true)] {
        let out = step(&mut f, 100, CfInput::Subscribe { txn: subscribe(cseq, in_dialog), expires: 3600 });
        notifies.extend(sent(&out).into_iter().filter(|s| s.1 == "NOTIFY").map(|s| s.2));
    }
    assert_eq!(notifies.len(), 2);
    if cfg!(feature = "wire-text") {
        assert!(notifies[0].contains("CSeq: 1 NOTIFY") && notifies[0].contains("version=\"1\""), "{}", notifies[0]);
        assert!(notifies[1].contains("CSeq: 2 NOTIFY") && notifies[1].contains("version=\"2\""), "the refresh restarted the NOTIFYs: {}", notifies[1]);
    }
    // A new subscription (a new dialog) starts them again.
    let mut fresh = subscribe(1, false);
    fresh.call_id = "pfsub-2@pf.cpm.example.net".into();
    let out = step(&mut f, 200, CfInput::Subscribe { txn: fresh, expires: 3600 });
    let last = sent(&out).into_iter().rfind(|s| s.1 == "NOTIFY").expect("a NOTIFY");
    if cfg!(feature = "wire-text") {
        assert!(last.2.contains("CSeq: 1 NOTIFY") && last.2.contains("version=\"1\""), "{}", last.2);
    }
}

/// The fan-out to Carol's PF follows the focus's own leg only: with the leg up and bound
/// (setup `established`) a member's message goes to the other member and to the PF; after
/// the PF's BYE it goes to the member only and the focus reports it has no leg for Carol; a
/// new leg from the PF's INVITE holds the next message until the PF's first SEND binds the
/// MSRP connection (RFC 4975 §5.4), then sends it.
#[test]
fn alone_the_fanout_to_the_pf_follows_its_own_leg() {
    let mut f = Focus::new(config(Setup::Established));
    let body: Arc<str> = Arc::from("From: <sip:alice@ims.example.net>\r\n\r\nhi");
    let send = |chat| CfInput::MemberSend { chat, member: 0, tid: format!("t{chat}"), body: body.clone() };
    let out = step(&mut f, 1_000, send(0));
    let to: Vec<(Node, String)> = sent(&out).into_iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(to, [(Node::Member(0), "200 OK".into()), (Node::Member(1), "SEND".into()), (Node::Pf, "SEND".into())]);
    assert!(out.iter().any(|o| matches!(o, CfOutput::Chat(CfChat::Distributed(0)))));

    // The PF ends Carol's leg.
    let bye = request("BYE", &format!("<{CAROL}>;tag=pfo-3a"), &format!("<{GROUP}>;tag=cf-51"), "pfcf-00-77e1@pf.cpm.example.net", 2);
    let out = step(&mut f, 2_000, CfInput::PfBye { txn: bye, voluntary: false });
    assert_eq!(sent(&out)[0].1, "200 OK");
    let out = step(&mut f, 3_000, send(1));
    assert!(!sent(&out).iter().any(|s| s.0 == Node::Pf), "no leg, nothing to the PF");
    assert!(out.iter().any(|o| matches!(o, CfOutput::Chat(CfChat::NoLegForCarol(1)))));

    // The PF joins again: a new leg, not bound yet.
    let inv = request("INVITE", &format!("<{CAROL}>;tag=pfo-3c"), &format!("<{GROUP}>"), "pfcf-02-77e1@pf.cpm.example.net", 1);
    let out = step(&mut f, 4_000, CfInput::PfInvite { txn: inv });
    let ok = sent(&out).into_iter().find(|s| s.0 == Node::Pf).expect("the 200");
    assert_eq!(ok.1, "200 OK");
    if cfg!(feature = "wire-text") {
        assert!(ok.2.contains("a=setup:passive"), "{}", ok.2);
    }
    let out = step(&mut f, 5_000, send(2));
    assert!(!sent(&out).iter().any(|s| s.0 == Node::Pf), "held until the PF binds");
    let out = step(&mut f, 5_100, CfInput::PfBind { tid: "b1".into() });
    let to: Vec<(Node, String)> = sent(&out).into_iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(to, [(Node::Pf, "200 OK".into()), (Node::Pf, "SEND".into())]);
    assert_eq!(f.poll_timeout(), None, "the focus runs no timer");
}

/// Once the group session is gone the focus rejects a join with 404 (RFC 3261 §21.4.5), as it
/// does the PF's INVITE; before, it admits the member with a To tag of its own and the member
/// is a user once its MSRP connection is bound.
#[test]
fn alone_a_join_after_the_group_ended_gets_404() {
    let mut f = Focus::new(config(Setup::Established));
    let join = |call: &str| request("INVITE", "\"Bob;tag=x\" <sip:bob@ims.example.net>;tag=m1-12", &format!("<{GROUP}>"), call, 1);
    let out = step(&mut f, 1_000, CfInput::MemberInvite { member: 1, txn: join("m1-02-2b4@198.51.100.22") });
    let ok = &sent(&out)[0];
    assert_eq!((ok.0, ok.1.as_str()), (Node::Member(1), "200 OK"));
    if cfg!(feature = "wire-text") {
        assert!(ok.2.contains(";tag=m1-12\r\n") || ok.2.contains(";tag=m1-12"), "{}", ok.2);
    }
    let leg = f.member_leg(1).expect("its own record of the leg");
    assert_eq!((leg.a_tag.as_str(), leg.call_id.as_str()), ("m1-12", "m1-02-2b4@198.51.100.22"), "the member's tag after its address, not in its name");

    let out = step(&mut f, 2_000, CfInput::GroupEnds);
    assert!(sent(&out).iter().any(|s| s.1 == "BYE"));
    let out = step(&mut f, 3_000, CfInput::MemberInvite { member: 1, txn: join("m1-03-2b4@198.51.100.22") });
    let s = sent(&out);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].0, s[0].1.as_str()), (Node::Member(1), "404 Not Found"));
    let out = step(&mut f, 3_100, CfInput::GroupEnds);
    assert!(matches!(&out[..], [CfOutput::Note { label: "already ended", .. }]));
}

/// With setup `cf_invites` the focus starts by inviting Carol through her PF; it takes the PF's
/// tag from the PF's 200 for its ACK (RFC 3261 §12.1.2, §13.2.2.4), not from a guess.
#[test]
fn alone_the_focus_acks_with_the_tag_of_the_pfs_answer() {
    let mut f = Focus::new(config(Setup::CfInvites));
    let out = step(&mut f, 0, CfInput::Start);
    let s = sent(&out);
    assert_eq!((s.len(), s[0].0, s[0].1.as_str()), (1, Node::Pf, "INVITE"));
    let inv = out
        .iter()
        .find_map(|o| match o {
            CfOutput::Sip { msg, .. } => Some(Txn::of(msg)),
            _ => None,
        })
        .unwrap();
    let ok = crate::world::build::response(200, &inv, Some("pft-other"));
    let out = step(&mut f, 20, CfInput::PfOk { txn: Txn::of(&ok) });
    let ack = &sent(&out)[0];
    assert_eq!(ack.1, "ACK");
    if cfg!(feature = "wire-text") {
        assert!(ack.2.contains(";tag=pft-other\r\n"), "{}", ack.2);
    }
}
