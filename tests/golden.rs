//! Golden traces: every built-in preset, run under both rule sets, rendered as a compact text
//! ladder and compared byte for byte with `tests/golden/<preset>.<rules>.txt`.
//!
//! A golden file is meant to be read in review. It holds one line per step
//!
//! ```text
//!     8.000  carol → carol-pf            SIP   BYE  [8.2.2.3, RFC 3326 §2]  Carol's client … | Reason: SIP;cause=480;…
//!     8.010  [carol-pf]                  state Deferred  [8.3.2.9]  Case 1 of §8.3.2.9: …
//!    12.020  [carol-pf]                  store stored #2  [8.3.2.9]  Deferred: the PF stores … | queue 1
//! ```
//!
//! (time in seconds, `from → to` or `[lane]` for an internal step, `(never arrives)` for a
//! dropped message, the protocol or the kind of internal step, the label, the cited clauses, the
//! one-sentence note, and after `|` a few key facts: the Reason and Subscription-State headers,
//! the chat a SEND carries, the store length after store/deliver/lost steps). A key step of the
//! story is followed by a line `★ key step: <its title>`. After the steps come
//! the PF state band, what happened to every chat message, and the summary counts. Full wire
//! text is not in the files (tests/wire_roundtrip.rs checks it).
//!
//! Regenerate after an intended engine change, then read the diff:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --test golden
//! ```

mod common;

use common::{header, preset_scenario, secs, BOTH_RULES};
use cpm_deferral::presets;
use cpm_deferral::trace::{Protocol, Step, StepKind, Trace};
use cpm_deferral::{run, Rules};
use std::fmt::Write;
use std::path::PathBuf;

// ====================================================================== rendering

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden")
}

fn golden_path(preset: &str, rules: Rules) -> PathBuf {
    golden_dir().join(format!("{preset}.{}.txt", rules.as_str()))
}

/// The key facts of a step that are shown after `|`.
fn key_facts(s: &Step) -> Vec<String> {
    let mut facts = Vec::new();
    match s.protocol {
        Protocol::SIP => {
            for name in ["Reason", "Subscription-State"] {
                if let Some(v) = header(&s.raw, name) {
                    facts.push(format!("{name}: {v}"));
                }
            }
        }
        Protocol::MSRP => {
            if let Some(c) = s.chat {
                facts.push(format!("chat #{c}"));
            }
        }
        Protocol::None => {
            if matches!(s.kind, StepKind::Store | StepKind::Deliver | StepKind::Lost) {
                facts.push(format!("queue {}", s.queue_len));
            }
        }
    }
    facts
}

/// One ladder line for a step.
fn step_line(s: &Step) -> String {
    let route = match s.protocol {
        Protocol::None => format!("[{}]", s.from),
        _ if s.dropped => format!("{} → {} (never arrives)", s.from, s.to),
        _ => format!("{} → {}", s.from, s.to),
    };
    let what = match s.protocol {
        Protocol::SIP => "SIP",
        Protocol::MSRP => "MSRP",
        Protocol::None => s.kind.as_str(),
    };
    let mut line = format!("{:>9}  {route:<34} {what:<7} {}  [{}]  {}", secs(s.at_ms), s.label, s.clauses.join(", "), s.note);
    let facts = key_facts(s);
    if !facts.is_empty() {
        let _ = write!(line, " | {}", facts.join("; "));
    }
    if let Some(k) = &s.key {
        let _ = write!(line, "\n{:>9}  ★ key step: {k}", "");
    }
    line
}

fn opt_secs(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".to_string(), secs)
}

/// The whole golden text of one trace.
fn render(preset: &str, t: &Trace) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# golden trace of preset {preset} under {} (regenerate: UPDATE_GOLDEN=1 cargo test --test golden)", t.rules.as_str());
    let _ = writeln!(o, "# {}", t.title);
    let changed: Vec<String> = t.policies.iter().filter(|p| p.value != p.default).map(|p| format!("{}={}", p.id, p.value)).collect();
    let _ = writeln!(o, "policies: {}", if changed.is_empty() { "all defaults".to_string() } else { changed.join(", ") });
    let _ = writeln!(o, "lanes: {}", t.lanes.iter().map(|l| l.id.to_string()).collect::<Vec<_>>().join(", "));
    let _ = writeln!(o, "steps ({}):", t.steps.len());
    for s in &t.steps {
        let _ = writeln!(o, "{}", step_line(s));
    }
    let band: Vec<String> = t.pf_states.iter().map(|b| format!("{:?} {}–{}", b.state, secs(b.from_ms), secs(b.to_ms))).collect();
    let _ = writeln!(o, "pf states: {}", band.join(", "));
    let _ = writeln!(o, "chats:");
    for c in &t.chats {
        let _ = writeln!(
            o,
            "  #{} {} {:?}: {}{} (sent {}, stored {}, in flight {}, delivered {}, removed {})",
            c.id,
            c.from,
            c.text,
            c.outcome.as_str(),
            if c.possible_duplicate { ", possible duplicate" } else { "" },
            secs(c.sent_ms),
            opt_secs(c.stored_ms),
            opt_secs(c.in_flight_ms),
            opt_secs(c.delivered_ms),
            opt_secs(c.removed_ms),
        );
    }
    let m = &t.summary;
    let _ = writeln!(
        o,
        "summary: sent_while_away={} stored={} delivered_from_store={} lost={} discarded={} still_stored={} delivered_live={} possible_duplicates={}",
        m.sent_while_away, m.stored, m.delivered_from_store, m.lost, m.discarded, m.still_stored, m.delivered_live, m.possible_duplicates
    );
    o
}

// ====================================================================== comparison

/// A short unified-style diff: the first hunk where the texts differ, with three lines of
/// context and at most `MAX` removed and added lines.
fn short_diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX: usize = 12;
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let prefix = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = e[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (e_mid, a_mid) = (&e[prefix..e.len() - suffix], &a[prefix..a.len() - suffix]);
    let start = prefix.saturating_sub(CONTEXT);
    let mut o = format!("@@ -{},{} +{},{} @@\n", prefix + 1, e_mid.len(), prefix + 1, a_mid.len());
    for l in &e[start..prefix] {
        let _ = writeln!(o, " {l}");
    }
    for (sign, lines) in [('-', e_mid), ('+', a_mid)] {
        for l in lines.iter().take(MAX) {
            let _ = writeln!(o, "{sign}{l}");
        }
        if lines.len() > MAX {
            let _ = writeln!(o, "{sign}… ({} more lines)", lines.len() - MAX);
        }
    }
    for l in e[e.len() - suffix..].iter().take(CONTEXT) {
        let _ = writeln!(o, " {l}");
    }
    o
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `preset` under both rule sets and compares (or, with UPDATE_GOLDEN=1, rewrites) its goldens.
fn check_preset(name: &str) {
    let p = presets::find(name).unwrap_or_else(|| panic!("no preset called {name}"));
    let sc = preset_scenario(p);
    let mut failures = Vec::new();
    for rules in BOTH_RULES {
        let actual = render(name, &run(&sc, rules));
        let path = golden_path(name, rules);
        if updating() {
            std::fs::create_dir_all(golden_dir()).expect("create tests/golden");
            std::fs::write(&path, &actual).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Err(e) => failures.push(format!("{}: {e}; create it with UPDATE_GOLDEN=1 cargo test --test golden", path.display())),
            Ok(expected) if expected != actual => failures.push(format!(
                "{} differs from the engine's trace (if the change is intended: UPDATE_GOLDEN=1 cargo test --test golden)\n{}",
                path.display(),
                short_diff(&expected, &actual)
            )),
            Ok(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ====================================================================== one test per preset

macro_rules! golden_tests {
    ($($test:ident => $preset:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_preset($preset);
            }
        )*

        /// The presets that have a golden test here, in display order.
        const COVERED: &[&str] = &[$($preset),*];
    };
}

golden_tests! {
    golden_bye_480_path_a => "bye-480-path-a",
    golden_bye_480_path_b => "bye-480-path-b",
    golden_invite_timeout_path_a => "invite-timeout-path-a",
    golden_invite_timeout_path_b => "invite-timeout-path-b",
    golden_msrp_loss_path_a => "msrp-loss-path-a",
    golden_msrp_loss_path_b => "msrp-loss-path-b",
    golden_race_rejoin_after_invite => "race-rejoin-after-invite",
    golden_voluntary_leave => "voluntary-leave",
    golden_bye_without_reason => "bye-without-reason",
    golden_q850_reason => "q850-reason",
    golden_roster_change_while_away => "roster-change-while-away",
    golden_group_ends_while_away => "group-ends-while-away",
    golden_showcase_invite_timeout => "showcase-invite-timeout",
    golden_full_setup_then_drop => "full-setup-then-drop",
    golden_silent_drop_send_timeout => "silent-drop-send-timeout",
    golden_msrp_setup_fails => "msrp-setup-fails",
}

#[test]
fn every_preset_has_a_golden_test() {
    let all: Vec<&str> = presets::all().iter().map(|p| p.name).collect();
    assert_eq!(all, COVERED, "add a line to golden_tests! for every preset (same order as presets::all())");
}

#[test]
fn every_golden_file_belongs_to_a_preset_and_a_rule_set() {
    if updating() {
        return;
    }
    let expected: Vec<String> = presets::all().iter().flat_map(|p| BOTH_RULES.iter().map(move |r| format!("{}.{}.txt", p.name, r.as_str()))).collect();
    let dir = std::fs::read_dir(golden_dir()).expect("tests/golden exists (UPDATE_GOLDEN=1 cargo test --test golden creates it)");
    for entry in dir {
        let name = entry.expect("read tests/golden").file_name().to_string_lossy().into_owned();
        assert!(expected.contains(&name), "tests/golden/{name} belongs to no preset; delete it");
    }
}

#[test]
fn the_diff_shows_the_first_differing_lines_with_context() {
    let d = short_diff("a\nb\nc\nd\ne\n", "a\nb\nC\nd\ne\n");
    assert_eq!(d, "@@ -3,1 +3,1 @@\n a\n b\n-c\n+C\n d\n e\n");
    let d = short_diff("a\n", "a\nb\n");
    assert_eq!(d, "@@ -2,0 +2,1 @@\n a\n+b\n");
}
