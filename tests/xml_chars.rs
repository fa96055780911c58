//! Issue 13, item 12: the conference-info XML must be XML 1.0 whatever the display names hold.
//! U+FFFE and U+FFFF (and the C0 controls but tab, LF and CR) are not XML 1.0 characters
//! (XML 1.0 §2.2 `Char`) and have no escape either; they reached the NOTIFY body raw. Judged by
//! a real, strict XML parser (roxmltree), which refuses such documents.

use cpm_deferral::scenario::Scenario;
use cpm_deferral::wire::conference_info::{ConfUser, ConferenceInfo};
use cpm_deferral::{run, Rules};

/// Every character XML 1.0 leaves out, and the legal ones at the edges of its ranges.
fn hostile_text() -> String {
    let mut s: String = (0u32..0x20).filter_map(char::from_u32).collect();
    s.push_str("\u{FFFE}a\u{FFFF}b\u{FFFD}\u{D7FF}\u{E000}\u{10000}\u{10FFFF}\u{7F}\u{85}<&>\"'");
    s
}

fn doc(name: &str) -> ConferenceInfo {
    ConferenceInfo {
        entity: "sip:group@cf.example.net".into(),
        state: "full".into(),
        version: 1,
        subject: name.into(),
        users: vec![ConfUser {
            entity: "sip:alice@ims.example.net".into(),
            display_text: name.into(),
            status: "connected".into(),
            joining_method: None,
            disconnection_method: None,
            disconnected_when: None,
        }],
    }
}

/// Is `c` an XML 1.0 character, by the judge: a one-character document.
fn is_xml_char(c: char) -> bool {
    roxmltree::Document::parse(&format!("<a>&#x{:X};</a>", c as u32)).is_ok()
}

#[test]
fn the_judge_and_our_reader_refuse_what_xml_1_0_refuses() {
    let good = doc("MARK").emit();
    let wrap = |x: &str| good.replace("MARK", x);
    for bad in ["\u{FFFE}", "\u{FFFF}", "\u{1}", "&#xFFFE;", "&#0;", "&#x1;"] {
        assert!(roxmltree::Document::parse(&wrap(bad)).is_err(), "roxmltree took {bad:?}");
        assert!(ConferenceInfo::parse(&wrap(bad)).is_err(), "our reader took {bad:?}");
    }
    assert!(roxmltree::Document::parse(&wrap("\u{FFFD}\u{10000}&#xFFFD;")).is_ok());
    assert!(ConferenceInfo::parse(&wrap("\u{FFFD}\u{10000}&#xFFFD;")).is_ok());
    for c in ['\u{0}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
        assert!(!is_xml_char(c), "{c:?}");
    }
}

#[test]
fn conference_info_with_hostile_names_is_well_formed_xml_1_0() {
    let name = hostile_text();
    let text = doc(&name).emit();
    let parsed = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML 1.0: {e}\n{text:?}"));
    // The names survive, but for the characters XML cannot carry (written as spaces).
    let want: String = name.chars().map(|c| if is_xml_char(c) { c } else { ' ' }).collect();
    let shown = parsed.descendants().find(|n| n.has_tag_name("display-text")).and_then(|n| n.text()).unwrap_or_default();
    // XML parsers normalise CR and CR LF to LF (XML 1.0 §2.11).
    assert_eq!(shown, want.replace("\r\n", "\n").replace('\r', "\n"));
    // Our own reader reads what it wrote.
    assert_eq!(ConferenceInfo::parse(&text).expect("our reader").users[0].display_text.replace('\r', "\n"), want.replace('\r', "\n"));
}

/// The whole path: a member name the scenario format allows (no control characters, but U+FFFE
/// and U+FFFF are not controls) reaches every NOTIFY's conference-info body as XML 1.0.
#[test]
fn notify_bodies_of_a_run_parse_as_xml_1_0() {
    let json = r#"{"format":"cpm-deferral-scenario","version":1,"title":"U+FFFE",
      "members":[{"id":"alice","name":"Al\uFFFEice\uFFFF"},{"id":"bob","name":"Bob"}],
      "events":[{"at_ms":1000,"kind":"bye","reason":"SIP;cause=480"},
                {"at_ms":2000,"kind":"message","from":"alice","text":"x"},
                {"at_ms":9000,"kind":"register","reaction_ms":500}]}"#;
    let scenario = Scenario::from_json(json).expect("the format allows U+FFFE in a name");
    let mut bodies = 0;
    for rules in [Rules::PostCr, Rules::PreCr] {
        for s in run(&scenario, rules).steps {
            let Some(at) = s.raw.find("<?xml") else { continue };
            let body = &s.raw[at..];
            if !body.contains("conference-info") {
                continue;
            }
            roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("step {} ({}): not XML 1.0: {e}", s.index, s.label));
            bodies += 1;
        }
    }
    assert!(bodies > 0, "no conference-info body in the run");
}
