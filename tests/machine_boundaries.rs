//! The type boundaries of the machines other than the PF (tests/pf_boundary.rs has the PF's):
//! issue 10's "The CF, Carol's client, the members and the IMS core are machines too; the world
//! only delivers what each emits". The compiler keeps the world's records out of a machine's
//! module (`World`, `Carol`, `Cf`, `TimerKind` … are visible only inside `crate::world`) and
//! the machine's state out of the world (its fields are private to its module). This test keeps
//! what each machine's module may name of the rest of the crate to the message vocabulary and
//! the wire-text layer, so that a glob import or a widened visibility fails here.

use std::path::PathBuf;

/// The code of a file without `//` comments (doc comments may name the world to explain it).
fn code(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn src(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

/// Every use of a path starting with `prefix` in the `.rs` files of `dir` that is not one of
/// `allowed`, and every word of `forbidden` in them.
fn past_the_boundary(dir: &std::path::Path, prefix: &str, allowed: &[&str], forbidden: &[&str]) -> (usize, Vec<String>) {
    let mut files = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the machine's folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let text = code(&std::fs::read_to_string(&path).expect("read"));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (i, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices(prefix) {
                let tail = &line[at..];
                let end = tail.find(';').unwrap_or(tail.len());
                let used = tail[..end].trim_end_matches([')', ' ']);
                if !allowed.iter().any(|a| used.starts_with(a) && (used.len() == a.len() || !a.ends_with('}'))) {
                    bad.push(format!("{name}:{}: uses `{used}`", i + 1));
                }
            }
            for f in forbidden {
                let hit = line.match_indices(f).any(|(at, _)| {
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    f.contains('.') || (!word(line[..at].chars().last()) && !word(line[at + f.len()..].chars().next()))
                });
                if hit {
                    bad.push(format!("{name}:{}: names `{f}`", i + 1));
                }
            }
        }
    }
    (files, bad)
}

/// The world's actors and records, and the PF's: no machine but the world names them.
const RECORDS: &[&str] = &[
    "World",
    "UserRec",
    "OwnInvite",
    "TimerKind",
    "Conn",
    "PfInput",
    "self.chats",
    "self.carol.",
    "self.cf.",
    "self.pf",
    "self.steps",
    "self.sc.",
    "self.record",
    "start_timer",
    "roster_now",
];

/// The IMS core (src/ims/) uses of the world only addresses, header values and what a message
/// does on arrival, and the wire-text layer; nothing of the PF.
#[test]
fn the_ims_core_names_only_the_message_vocabulary() {
    let allowed = ["crate::world::{Arrival, Node, Txn}", "crate::world::build::"];
    let (files, mut bad) = past_the_boundary(&src("ims"), "crate::world", &allowed, RECORDS);
    bad.extend(past_the_boundary(&src("ims"), "crate::pf", &[], &[]).1);
    assert!(files >= 2, "only {files} files in src/ims/");
    assert!(bad.is_empty(), "src/ims/ reaches past its boundary:\n{}", bad.join("\n"));
}

/// The CF (src/cf/) uses of the world only addresses, header values, what a message does on
/// arrival and the participant list a NOTIFY carries (`Roster`), and the wire-text layer;
/// nothing of the PF, Carol's client or the members. Its fan-out to Carol's PF can then only
/// follow its own leg with the PF, not Carol's or the PF's state.
#[test]
fn the_focus_names_only_the_message_vocabulary() {
    // `ChunkAt`: which bytes of a chunked message a SEND carries (Q14, RFC 4975 §7.1.1).
    let allowed = ["crate::world::{Arrival, Node, Txn}", "crate::world::build::", "crate::world::Roster", "crate::world::ChunkAt", "crate::world::ImdnMsg"];
    let (files, mut bad) = past_the_boundary(&src("cf"), "crate::world", &allowed, RECORDS);
    bad.extend(past_the_boundary(&src("cf"), "crate::pf", &[], &[]).1);
    bad.extend(past_the_boundary(&src("cf"), "crate::ims", &[], &[]).1);
    bad.extend(past_the_boundary(&src("cf"), "crate::client", &[], &[]).1);
    bad.extend(past_the_boundary(&src("cf"), "crate::members", &[], &[]).1);
    assert!(files >= 3, "only {files} files in src/cf/");
    assert!(bad.is_empty(), "src/cf/ reaches past its boundary:\n{}", bad.join("\n"));
}

/// Carol's client (src/client/) uses of the world only addresses, header values, its dialog
/// records and what a message does on arrival, and the wire-text layer; nothing of the PF or
/// the IMS core (it knows them only by the messages they send it).
#[test]
fn carols_client_names_only_the_message_vocabulary() {
    let allowed = ["crate::world::{Arrival, Dialog, Node, Txn}", "crate::world::build::", "crate::world::ChunkAt", "crate::world::ImdnMsg"];
    let (files, mut bad) = past_the_boundary(&src("client"), "crate::world", &allowed, RECORDS);
    bad.extend(past_the_boundary(&src("client"), "crate::pf", &[], &[]).1);
    bad.extend(past_the_boundary(&src("client"), "crate::ims", &[], &[]).1);
    bad.extend(past_the_boundary(&src("client"), "crate::cf", &[], &[]).1);
    bad.extend(past_the_boundary(&src("client"), "crate::members", &[], &[]).1);
    assert!(files >= 3, "only {files} files in src/client/");
    assert!(bad.is_empty(), "src/client/ reaches past its boundary:\n{}", bad.join("\n"));
}

/// The check can fail: a file that imports the world wholesale and reads Carol's records is
/// flagged on both counts.
#[test]
fn the_boundary_check_finds_a_reach_into_the_world() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("boundary-probe");
    std::fs::create_dir_all(&dir).expect("probe dir");
    std::fs::write(dir.join("a.rs"), "use crate::world::*;\nfn f(w: &World) -> bool {\n    w.carol.reachable\n}\nfn g(&self) { self.carol.entitled }\n")
        .expect("probe file");
    let allowed = ["crate::world::{Arrival, Node, Txn}", "crate::world::build::"];
    let (_, bad) = past_the_boundary(&dir, "crate::world", &allowed, RECORDS);
    assert!(bad.iter().any(|b| b.contains("uses `crate::world::*`")), "{bad:?}");
    assert!(bad.iter().any(|b| b.contains("names `World`")), "{bad:?}");
    assert!(bad.iter().any(|b| b.contains("names `self.carol.`")), "{bad:?}");
}

/// The members (src/members/) use of the world only addresses, header values, their own dialog
/// records and what a message does on arrival, and the wire-text layer; nothing of the PF, the
/// IMS core, the focus or Carol's client.
#[test]
fn the_members_name_only_the_message_vocabulary() {
    let allowed = ["crate::world::{Arrival, Dialog, Node, Txn}", "crate::world::build::"];
    let (files, mut bad) = past_the_boundary(&src("members"), "crate::world", &allowed, RECORDS);
    for other in ["crate::pf", "crate::ims", "crate::cf", "crate::client"] {
        bad.extend(past_the_boundary(&src("members"), other, &[], &[]).1);
    }
    assert!(files >= 2, "only {files} files in src/members/");
    assert!(bad.is_empty(), "src/members/ reaches past its boundary:\n{}", bad.join("\n"));
}
