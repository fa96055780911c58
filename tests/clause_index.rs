//! docs/clause-index.md stays true to the repository: every reference it makes is checked here,
//! so renaming a test, a preset, a policy option or a step's citation fails this test until the
//! index is brought up to date.
//!
//! - A link `[`name`](../tests/x.rs)` names a Rust test: `fn name(` (or a `name =>` line of
//!   tests/golden.rs's `golden_tests!`) is in that file.
//! - A link `[title](../tests-web/…/x.test.mjs)` names a browser or unit test: `test('title'` is
//!   in that file.
//! - A link `[name](../scenarios/name.json)` names a preset: the file exists and
//!   `presets::find(name)` knows it.
//! - Any other relative link points to a file or folder that exists.
//! - A code span shaped like a golden line, `` `[carol-pf] Deferred [8.3.2.9]` `` or
//!   `` `carol-pf → cf SUBSCRIBE [8.2.2.6.2, 8.3.2.9]` ``, is a step some run makes: that lane (or
//!   those lanes), that label (`#N` for any chat number) and exactly those clauses, in a preset
//!   under either rule set with all defaults or one policy option changed.
//! - Every policy of the catalogue is named with each of its options; a code span that looks
//!   like a policy id (`q<n>-…`) is one; every digest question Q1–Q20 has a row; every sentence
//!   id of www/cr-text.js is named.
//!
//! Run: `cargo test --release --test clause_index`.

use cpm_deferral::policy::catalogue;
use cpm_deferral::presets;
use cpm_deferral::scenario::Scenario;
use cpm_deferral::story::label_base;
use cpm_deferral::trace::Protocol;
use cpm_deferral::{run, Rules};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/clause-index.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    std::fs::read_to_string(root().join(DOC)).unwrap_or_else(|e| panic!("{DOC}: {e}"))
}

/// Every `[text](target)` of the document (targets without `#…`), with its line number.
fn links(doc: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (n, line) in doc.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find("](") else { break };
            let text = &after[..close];
            let tail = &after[close + 2..];
            let Some(end) = tail.find(')') else { break };
            let target = tail[..end].split('#').next().unwrap_or("").to_string();
            // A '[' inside the text starts a new candidate (e.g. "[carol-pf] …" code spans).
            if let Some(inner) = text.rfind('[') {
                rest = &after[inner..];
                continue;
            }
            out.push((n + 1, text.to_string(), target));
            rest = &tail[end + 1..];
        }
    }
    out
}

/// Every inline code span of the document, with its line number.
fn code_spans(doc: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in doc.lines().enumerate() {
        let mut parts = line.split('`');
        parts.next();
        while let Some(span) = parts.next() {
            out.push((n + 1, span.to_string()));
            if parts.next().is_none() {
                break;
            }
        }
    }
    out
}

fn unticked(s: &str) -> &str {
    s.trim().trim_matches('`')
}

#[test]
fn every_linked_test_preset_and_file_exists() {
    let doc = doc();
    let all = links(&doc);
    assert!(all.len() > 50, "{DOC} has only {} links", all.len());
    let mut problems = Vec::new();
    let (mut rust, mut web, mut preset) = (0, 0, 0);
    for (line, text, target) in &all {
        if target.starts_with("http") || target.is_empty() {
            continue;
        }
        let rel = target.strip_prefix("../").unwrap_or_else(|| panic!("{DOC}:{line}: link {target} is not relative to docs/"));
        let path = root().join(rel);
        if !path.exists() {
            problems.push(format!("{DOC}:{line}: {target} does not exist"));
            continue;
        }
        let body = || std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains('/') {
            // A link that names its file, e.g. [tests/golden.rs](../tests/golden.rs): existence is enough.
        } else if rel.starts_with("tests/") && rel.ends_with(".rs") {
            let name = unticked(text);
            let b = body();
            if !(b.contains(&format!("fn {name}(")) || b.contains(&format!("{name} =>"))) {
                problems.push(format!("{DOC}:{line}: no test `{name}` in {rel}"));
            }
            rust += 1;
        } else if rel.starts_with("tests-web/") && rel.ends_with(".test.mjs") {
            let title = unticked(text);
            let b = body();
            if !(b.contains(&format!("test('{title}'")) || b.contains(&format!("test(\"{title}\""))) {
                problems.push(format!("{DOC}:{line}: no test '{title}' in {rel}"));
            }
            web += 1;
        } else if let Some(file) = rel.strip_prefix("scenarios/") {
            let name = unticked(text);
            if file != format!("{name}.json") || presets::find(name).is_none() {
                problems.push(format!("{DOC}:{line}: [{name}]({target}) is not a preset and its file"));
            }
            preset += 1;
        }
    }
    assert!(problems.is_empty(), "{} stale references in {DOC} (update the index):\n{}", problems.len(), problems.join("\n"));
    assert!(rust > 30 && web > 3 && preset > 15, "too few references checked: {rust} Rust tests, {web} web tests, {preset} presets");
}

/// (from, to, label with `#N`, clauses) of every step of the runs the index may cite.
fn observed_steps() -> HashSet<(String, String, String, String)> {
    let mut variants: Vec<Option<(&str, &str)>> = vec![None];
    for p in catalogue() {
        // session-refresh may keep a run going until its deadline (tests/clause_8_3_2_9.rs).
        for o in p.options.iter().skip(1).filter(|o| **o != "session-refresh") {
            variants.push(Some((p.id, o)));
        }
    }
    let mut seen = HashSet::new();
    for p in presets::all() {
        for v in &variants {
            let mut json: serde_json::Value = serde_json::from_str(p.json).expect("preset JSON");
            if let Some((id, o)) = v {
                json.as_object_mut().expect("object").entry("policies").or_insert_with(|| serde_json::json!({}))[*id] = serde_json::Value::from(*o);
            }
            let sc = Scenario::from_json(&json.to_string()).unwrap_or_else(|e| panic!("{} {v:?}: {e}", p.name));
            for rules in [Rules::PostCr, Rules::PreCr] {
                for s in run(&sc, rules).steps {
                    let base = label_base(&s.label);
                    let label = if base.len() < s.label.len() { format!("{base} #N") } else { base.to_string() };
                    let to = if s.protocol == Protocol::None { String::new() } else { s.to.to_string() };
                    seen.insert((s.from.to_string(), to, label, s.clauses.join(", ")));
                }
            }
        }
    }
    seen
}

/// A code span shaped like a golden line: `[lane] label [clauses]` or `from → to label [clauses]`.
fn step_ref(span: &str) -> Option<(String, String, String, String)> {
    let span = span.trim();
    if !span.ends_with(']') {
        return None;
    }
    let open = span.rfind(" [")?;
    let clauses = span[open + 2..span.len() - 1].to_string();
    let head = &span[..open];
    if let Some(lane) = head.strip_prefix('[') {
        let (lane, label) = lane.split_once("] ")?;
        if lane.is_empty() || !lane.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return None;
        }
        return Some((lane.to_string(), String::new(), label.trim().to_string(), clauses));
    }
    let (from, rest) = head.split_once(" → ")?;
    let (to, label) = rest.split_once(' ')?;
    let lane = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    if !lane(from) || !lane(to) {
        return None;
    }
    Some((from.to_string(), to.to_string(), label.trim().to_string(), clauses))
}

#[test]
fn every_cited_step_is_made_by_the_engine_with_those_clauses() {
    let doc = doc();
    let refs: Vec<(usize, (String, String, String, String))> = code_spans(&doc).into_iter().filter_map(|(n, s)| step_ref(&s).map(|r| (n, r))).collect();
    assert!(refs.len() > 25, "{DOC} cites only {} steps", refs.len());
    let seen = observed_steps();
    let mut problems = Vec::new();
    for (line, r) in &refs {
        if !seen.contains(r) {
            let (from, to, label, clauses) = r;
            let near: Vec<String> = seen.iter().filter(|(f, t, l, _)| f == from && t == to && l == label).map(|(_, _, _, c)| format!("[{c}]")).collect();
            problems.push(format!(
                "{DOC}:{line}: no run makes `{}{label} [{clauses}]`{}",
                if to.is_empty() { format!("[{from}] ") } else { format!("{from} → {to} ") },
                if near.is_empty() { String::new() } else { format!(" (the engine cites {})", near.join(" or ")) }
            ));
        }
    }
    assert!(problems.is_empty(), "{} cited steps no longer match the engine (update {DOC}):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_policy_option_question_and_cr_sentence_is_named() {
    let doc = doc();
    let spans: HashSet<String> = code_spans(&doc).into_iter().map(|(_, s)| s.trim().to_string()).collect();
    let mut problems = Vec::new();
    let ids: HashSet<&str> = catalogue().iter().map(|p| p.id).collect();
    for p in catalogue() {
        if !spans.contains(p.id) {
            problems.push(format!("policy `{}` ({}) is not named", p.id, p.question));
        }
        for o in p.options {
            if !spans.contains(*o) {
                problems.push(format!("option `{o}` of `{}` is not named", p.id));
            }
        }
    }
    for s in &spans {
        let id = s.strip_prefix("policy:").unwrap_or(s);
        let looks_like_policy = id.starts_with('q') && id[1..].split('-').next().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if looks_like_policy && !ids.contains(id) {
            problems.push(format!("`{s}` is not a policy id"));
        }
    }
    for q in 1..=20 {
        if !doc.lines().any(|l| l.starts_with(&format!("| Q{q} |"))) {
            problems.push(format!("no row `| Q{q} |` for the digest's question Q{q}"));
        }
    }
    let cr = std::fs::read_to_string(root().join("www/cr-text.js")).expect("www/cr-text.js");
    let sentence_ids: Vec<&str> = cr.split("id: '").skip(1).filter_map(|s| s.split('\'').next()).collect();
    assert!(sentence_ids.len() >= 13, "www/cr-text.js sentence ids: {sentence_ids:?}");
    for id in sentence_ids {
        if !spans.contains(&format!("cr-{id}")) {
            problems.push(format!("CR sentence `cr-{id}` (www/cr-text.js) has no entry"));
        }
    }
    assert!(problems.is_empty(), "{DOC} is out of date:\n{}", problems.join("\n"));
}

#[test]
fn the_checker_reads_what_it_checks() {
    let d = "a [`f`](../tests/x.rs) `[<lane>] <label> [<clauses>]` b [t](../scenarios/t.json) `[carol-pf] stored #N [8.3.2.9]` `carol-pf → cf 200 OK [8.3.2.9]` `x [y]`";
    let l = links(d);
    assert_eq!(l.iter().map(|(_, t, g)| (t.as_str(), g.as_str())).collect::<Vec<_>>(), vec![("`f`", "../tests/x.rs"), ("t", "../scenarios/t.json")]);
    let refs: Vec<_> = code_spans(d).into_iter().filter_map(|(_, s)| step_ref(&s)).collect();
    assert_eq!(
        refs,
        vec![("carol-pf".into(), String::new(), "stored #N".into(), "8.3.2.9".into()), ("carol-pf".into(), "cf".into(), "200 OK".into(), "8.3.2.9".into())]
    );
    assert!(Path::new(&root().join("tests/clause_index.rs")).exists());
}

/// The README's policy table ("Policies (not in the CR)") has a row for every policy of the
/// catalogue, with every option and the default in bold first, so the page, the scenario file
/// and the README never disagree on what can be switched.
#[test]
fn the_readme_lists_every_policy_with_its_options() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let table = readme.split("## Policies (not in the CR)").nth(1).expect("the README's policy section");
    let table = table.split("\n## ").next().unwrap_or(table);
    for p in catalogue() {
        let row = table.lines().find(|l| l.starts_with(&format!("| `{}` |", p.id))).unwrap_or_else(|| panic!("README: no row for policy {}", p.id));
        assert!(row.contains(&format!("**`{}`**", p.default)), "README row of {}: the default {} is not first in bold: {row}", p.id, p.default);
        for o in p.options {
            assert!(row.contains(&format!("`{o}`")), "README row of {}: option {o} missing: {row}", p.id);
        }
    }
}
