//! The PF's type boundary (issue 10: "The PF module reads no other actor's state (a type
//! boundary shows it)"). The compiler already keeps the world's actors out of src/pf/: `World`,
//! `Carol`, `Cf`, `UserRec`, `OwnInvite`, `Conn` and `TimerKind` are visible only inside
//! `crate::world`. This test keeps what src/pf/ may name of `crate::world` to the message
//! vocabulary and the wire-text builders, so that widening that visibility, or a glob import
//! of the world, fails here.

use std::path::PathBuf;

/// What the PF may use of `crate::world`: addresses, header values and dialog records, what a
/// message it sends does on arrival, a NOTIFY's participant information, two protocol
/// constants, the wire-text builders over its own ids, and its host's URI.
const ALLOWED: &[&str] = &[
    "crate::world::{Arrival, Dialog, Node, Txn, MSRP_TIMEOUT_MS}",
    "crate::world::{Arrival, Dialog, Node, Txn}",
    "crate::world::{Arrival, Node, Roster, Txn}",
    "crate::world::{Dialog, Node, Roster, Txn}",
    "crate::world::{Arrival, Node, MSRP_TIMEOUT_MS, REFRESH_MS}",
    "crate::world::Arrival",
    // Which bytes of a chunked message a SEND carries (Q14, RFC 4975 §7.1.1).
    "crate::world::ChunkAt",
    "crate::world::Node",
    // An IMDN on its way back to a chat's sender (RFC 5438 §7.1.1).
    "crate::world::ImdnMsg",
    // The wire-text layer: identities, Txn/Dialog, Ids, the Builder trait, conference-info.
    "crate::world::build::",
    "crate::world::actors::PF_HOST_URI",
];

/// Names of the world's actors and records that must not appear in the PF's code.
const FORBIDDEN: &[&str] =
    &["World", "UserRec", "OwnInvite", "TimerKind", "self.chats", "self.carol.", "self.cf.", "self.steps", "self.sc.", "roster_now", "events_left"];

/// The code of a file without `//` comments (doc comments may name the world to explain it).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_pf_names_only_the_message_vocabulary_of_the_world() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src").join("pf");
    let mut files = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/pf") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let text = code(&std::fs::read_to_string(&path).expect("read"));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::world") {
                let tail = &rest[at..];
                let end = tail.find(';').unwrap_or(tail.len());
                let path_used = tail[..end].trim_end_matches([')', ' ']);
                if !ALLOWED.iter().any(|a| path_used.starts_with(a) && (path_used.len() == a.len() || !a.ends_with('}'))) {
                    bad.push(format!("{name}:{}: uses `{path_used}`", i + 1));
                }
                rest = &tail[end.min(tail.len())..];
                if end == tail.len() {
                    break;
                }
            }
            for f in FORBIDDEN {
                let hit = line.match_indices(f).any(|(at, _)| {
                    let before = line[..at].chars().last();
                    let after = line[at + f.len()..].chars().next();
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    f.contains('.') || (!word(before) && !word(after))
                });
                if hit {
                    bad.push(format!("{name}:{}: names `{f}`", i + 1));
                }
            }
        }
    }
    assert!(files >= 8, "only {files} files in src/pf/");
    assert!(bad.is_empty(), "src/pf/ reaches past its boundary:\n{}", bad.join("\n"));
}
