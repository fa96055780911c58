//! A member alone: built without a world and fed messages and its user's actions by hand, it
//! answers from what reached it and its configuration only (issue 10: "The CF, Carol's client,
//! the members and the IMS core are machines too").

use super::*;
use crate::world::build::response;

fn member(in_session: bool) -> Member {
    let cfg = MemberConfig {
        index: 0,
        id: "alice".into(),
        name: "Alice".into(),
        policies: Policies::default(),
        wire: true,
        own_path: Arc::from("msrp://198.51.100.21:49150/alicem0;tcp"),
        focus_path: Arc::from("msrp://192.0.2.20:30000/cfm0x5;tcp"),
        in_session,
    };
    Member::new(cfg, Ids::new(3, "m0", 0))
}

fn step(m: &mut Member, now: Time, input: MemberInput) -> Vec<MemberOutput> {
    m.handle(now, input);
    let mut out = Vec::new();
    m.poll_output(&mut out);
    out
}

/// The SIP texts it sends.
fn sips(out: &[MemberOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            MemberOutput::Sip { msg, .. } => Some(msg.emit()),
            _ => None,
        })
        .collect()
}

fn msrps(out: &[MemberOutput]) -> Vec<&str> {
    out.iter()
        .filter_map(|o| match o {
            MemberOutput::Msrp { label, .. } => Some(*label),
            _ => None,
        })
        .collect()
}

fn notes(out: &[MemberOutput]) -> Vec<&str> {
    out.iter()
        .filter_map(|o| match o {
            MemberOutput::Note { label, .. } => Some(&**label),
            _ => None,
        })
        .collect()
}

fn header<'a>(text: &'a str, name: &str) -> &'a str {
    let p = format!("\r\n{name}: ");
    let at = text.find(&p).unwrap_or_else(|| panic!("no {name} in\n{text}")) + p.len();
    &text[at..at + text[at..].find("\r\n").unwrap()]
}

/// A request of the focus to the member (`to_tag`: inside a dialog).
fn focus_request(method: &'static str, call_id: &str, cseq: u32, from_tag: &str, to_tag: Option<&str>) -> Txn {
    let mut m = SipMessage::request(method, "sip:alice@198.51.100.21:5060;transport=tcp");
    m.push("Via", format!("SIP/2.0/TCP cf.cpm.example.net:5060;branch=z9hG4bKf{method}{cseq}"));
    m.push("From", format!("<{GROUP}>;tag={from_tag}"));
    m.push("To", to_tag.map_or("<sip:alice@ims.example.net>".to_string(), |t| format!("<sip:alice@ims.example.net>;tag={t}")));
    m.push("Call-ID", call_id);
    m.push("CSeq", format!("{cseq} {method}"));
    Txn::of(&m)
}

/// The focus's answer `code` to the member's INVITE `inv` (the text it sent), with tag `tag`.
fn focus_answer(code: u16, inv: &str, tag: &str) -> Txn {
    let inv = SipMessage::parse(inv).expect("its INVITE parses");
    Txn::of(&response(code, &Txn::of(&inv), Some(tag)))
}

fn say(m: &mut Member, now: Time, chat: u32) -> Vec<MemberOutput> {
    step(m, now, MemberInput::Say { chat, text: "hi".into(), body: Arc::from("From: Alice\r\n\r\nhi") })
}

/// In the session from the start, it sends its user's message (the chat record first); its leave
/// is one BYE on its own dialog record, and after it (RFC 3261 §15.1.1) a second leave and a
/// message send nothing: it decides from its own state, not the focus's.
#[test]
fn alone_a_member_leaves_once_and_sends_nothing_after_its_bye() {
    let mut m = member(true);
    assert_eq!(m.poll_timeout(), None, "a member arms no timer");
    let out = say(&mut m, 1_000, 4);
    assert!(matches!(out.first(), Some(MemberOutput::Chat { chat: 4, .. })), "{out:?}");
    assert_eq!(msrps(&out), ["SEND"]);
    let out = step(&mut m, 2_000, MemberInput::Leave);
    let bye = &sips(&out)[0];
    assert!(bye.starts_with("BYE sip:chat-7f3a9c@cf.cpm.example.net SIP/2.0\r\n"), "{bye}");
    assert_eq!(header(bye, "CSeq"), "2 BYE");
    assert_eq!(header(bye, "From"), "<sip:alice@ims.example.net>;tag=m0-10");
    // 5 ms later, before the focus has seen the BYE: nothing goes out.
    let out = step(&mut m, 2_005, MemberInput::Leave);
    assert!(sips(&out).is_empty(), "a second BYE: {:?}", sips(&out));
    assert_eq!(notes(&out), ["not in session"]);
    let out = say(&mut m, 2_005, 5);
    assert!(msrps(&out).is_empty() && !out.iter().any(|o| matches!(o, MemberOutput::Chat { .. })), "{out:?}");
    assert_eq!(notes(&out), ["not in session"]);
    // A SEND of the focus that crossed its BYE is still answered (it answers what arrived).
    let out = step(&mut m, 2_010, MemberInput::FocusSend { chat: 3, tid: "t1".into() });
    assert_eq!(msrps(&out), ["200 OK"]);
}

/// A join after the group ended: the member cannot know, so it sends its INVITE; the focus's 404
/// ends the attempt: the ACK of a non-2xx on the INVITE's branch with the answer's To (RFC 3261
/// §17.1.1.3), a `join refused` step, and it is not in the session (its message sends nothing).
/// A second join is a new dialog: a new Call-ID and a new tag.
#[test]
fn alone_a_404_to_its_join_ends_the_attempt_with_a_step() {
    let mut m = member(false);
    let out = step(&mut m, 1_000, MemberInput::Join);
    let inv = sips(&out).remove(0);
    assert!(inv.starts_with("INVITE sip:chat-7f3a9c@cf.cpm.example.net SIP/2.0\r\n"), "{inv}");
    assert_eq!(header(&inv, "To"), format!("<{GROUP}>"), "no tag of the focus's is known before its answer");
    let out = step(&mut m, 1_010, MemberInput::FocusResponse { code: 404, txn: focus_answer(404, &inv, "cf-404") });
    let s = sips(&out);
    assert_eq!(s.len(), 1, "the ACK only: {s:?}");
    let ack = &s[0];
    assert!(ack.starts_with("ACK sip:chat-7f3a9c@cf.cpm.example.net SIP/2.0\r\n"), "{ack}");
    assert_eq!(header(ack, "Via"), header(&inv, "Via"), "the INVITE's branch");
    assert_eq!(header(ack, "To"), format!("<{GROUP}>;tag=cf-404"));
    assert_eq!(header(ack, "CSeq"), "1 ACK");
    assert_eq!(notes(&out), ["join refused"]);
    assert!(msrps(&out).is_empty(), "no MSRP connection for a refused join");
    assert_eq!(notes(&say(&mut m, 1_100, 0)), ["not in session"]);
    let again = sips(&step(&mut m, 2_000, MemberInput::Join)).remove(0);
    assert_ne!(header(&again, "Call-ID"), header(&inv, "Call-ID"));
    assert_ne!(header(&again, "From"), header(&inv, "From"));
}

/// Invited by the focus, it answers with a tag of its own (not one the focus picked for it), binds
/// its MSRP connection, and a join then is refused on its own knowledge. Its tags over several
/// dialogs come from one counter and never repeat (RFC 3261 §19.3); a BYE of the focus that
/// names its dialog gets 200, one that names a dialog it ended gets 481 (§15.1.2).
#[test]
fn alone_every_dialog_of_a_member_has_a_tag_of_its_own() {
    let mut m = member(false);
    let mut tags = Vec::new();
    for (i, now) in [(0u32, 1_000u64), (1, 5_000)] {
        let call = format!("cf-m0-{i}@cf.cpm.example.net");
        let out = step(&mut m, now, MemberInput::FocusInvite { txn: focus_request("INVITE", &call, 1, "cfm0-00", None) });
        let ok = sips(&out).remove(0);
        assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
        assert!(header(&ok, "Contact").starts_with("<sip:alice@198.51.100.21:5060;transport=tcp>"));
        assert_eq!(msrps(&out), ["SEND"], "it opens and binds the connection");
        let tag = header(&ok, "To").split(";tag=").nth(1).unwrap().to_string();
        assert_eq!(notes(&step(&mut m, now + 10, MemberInput::Join)), ["cannot join"]);
        let bye = step(&mut m, now + 20, MemberInput::FocusBye { txn: focus_request("BYE", &call, 2, "cfm0-00", Some(&tag)) });
        assert!(sips(&bye)[0].starts_with("SIP/2.0 200 OK\r\n"));
        tags.push(tag);
    }
    let inv = sips(&step(&mut m, 9_000, MemberInput::Join)).remove(0);
    tags.push(header(&inv, "From").split(";tag=").nth(1).unwrap().to_string());
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tags.len(), "a tag used twice: {tags:?}");

    // In at t = 0, it leaves; the focus's BYE for that dialog crosses its own.
    let mut m = member(true);
    step(&mut m, 1_000, MemberInput::Leave);
    let out = step(&mut m, 1_005, MemberInput::FocusBye { txn: focus_request("BYE", "m0-00-2b4@198.51.100.21", 2, "cfm0-00", Some("m0-10")) });
    assert!(sips(&out)[0].starts_with("SIP/2.0 481 Call/Transaction Does Not Exist\r\n"), "{}", sips(&out)[0]);
}

/// Its user leaves while its INVITE has no answer: no CANCEL (no provisional response, RFC 3261
/// §9.1), a step, and on the focus's 200 an ACK and at once a BYE of that dialog (§15.1.1); the
/// focus's INVITE crossing its own: it accepts that one and ends its own dialog on the 200.
#[test]
fn alone_a_leave_or_a_crossing_invite_during_its_join_ends_its_own_dialog_on_the_200() {
    let mut m = member(false);
    let inv = sips(&step(&mut m, 1_000, MemberInput::Join)).remove(0);
    let out = step(&mut m, 1_005, MemberInput::Leave);
    assert!(sips(&out).is_empty(), "no CANCEL, no BYE yet: {:?}", sips(&out));
    assert_eq!(notes(&out), ["leaves on the answer"]);
    let out = step(&mut m, 1_010, MemberInput::FocusResponse { code: 200, txn: focus_answer(200, &inv, "cfm0-aa") });
    let s = sips(&out);
    assert_eq!(s.iter().map(|t| header(t, "CSeq")).collect::<Vec<_>>(), ["1 ACK", "2 BYE"]);
    assert_eq!(header(&s[1], "To"), format!("<{GROUP}>;tag=cfm0-aa"));
    assert!(msrps(&out).is_empty(), "no MSRP connection for a session it ends at once");
    assert_eq!(notes(&say(&mut m, 1_020, 0)), ["not in session"]);

    let mut m = member(false);
    let inv = sips(&step(&mut m, 2_000, MemberInput::Join)).remove(0);
    let out = step(&mut m, 2_005, MemberInput::FocusInvite { txn: focus_request("INVITE", "cf-m0-9@cf.cpm.example.net", 1, "cfm0-09", None) });
    assert!(sips(&out)[0].starts_with("SIP/2.0 200 OK\r\n"));
    let out = step(&mut m, 2_010, MemberInput::FocusResponse { code: 200, txn: focus_answer(200, &inv, "cfm0-bb") });
    let s = sips(&out);
    assert_eq!(s.iter().map(|t| header(t, "CSeq")).collect::<Vec<_>>(), ["1 ACK", "2 BYE"]);
    assert_eq!(header(&s[1], "Call-ID"), header(&inv, "Call-ID"), "it ends its own dialog, not the focus's");
    assert_eq!(msrps(&say(&mut m, 2_020, 0)), ["SEND"], "it is in the session on the focus's INVITE");
}
