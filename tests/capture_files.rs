//! The capture corpus kept in the repository (tests/capture_corpus/files/, issue 14): every
//! file is judged and gets the verdict `tests/capture_corpus/EXPECTED.tsv` gives it (and the
//! failing sentence); the files and the expectations are exactly what the generator
//! (tests/capture_corpus/corpus.rs) makes, so they cannot drift from the engine; the corpus
//! stays small. Regenerate with `UPDATE_CORPUS=1 cargo test --test capture_files -- --test-threads=1`.
#![cfg(feature = "capture")]

#[path = "capture_corpus/corpus.rs"]
mod corpus;
#[path = "capture_corpus/transform.rs"]
#[allow(dead_code)] // the corpus writer's other helpers serve tests/capture.rs
mod transform;

use cpm_deferral::judge::{judge, Options};
use cpm_deferral::trace::Rules;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/capture_corpus")
}

fn files() -> PathBuf {
    dir().join("files")
}

/// Every file under `files/`, as a path relative to it.
fn committed() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![files()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(files()).expect("under files/").to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

fn expectations() -> Vec<(String, Rules, String, String)> {
    let text = std::fs::read_to_string(dir().join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "EXPECTED.tsv: {l:?}");
            let rules = f[1].parse::<Rules>().unwrap_or_else(|e| panic!("EXPECTED.tsv: {l:?}: {e:?}"));
            (f[0].to_string(), rules, f[2].to_string(), f[3].to_string())
        })
        .collect()
}

#[test]
fn every_committed_capture_gets_its_expected_verdict() {
    let rows = expectations();
    let listed: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert_eq!(listed, committed(), "every file has a row in EXPECTED.tsv and every row a file");
    for (file, rules, verdict, clause) in &rows {
        let bytes = corpus::gunzip(&std::fs::read(files().join(file)).expect("read"));
        let j = judge(&bytes, Options { rules: *rules, ..Options::default() }).unwrap_or_else(|e| panic!("{file} under {}: cannot judge: {e}", rules.as_str()));
        let text = || cpm_deferral::judge::to_text(&j);
        assert_eq!(j.verdict.as_str(), verdict, "{file} under {}:\n{}", rules.as_str(), text());
        if clause != "-" {
            assert!(
                j.deviations.iter().any(|d| d.clause == clause) || j.clauses.iter().any(|c| c.id == clause && c.verdict == "fail"),
                "{file}: expected {clause} to fail:\n{}",
                text()
            );
            assert_eq!(j.clauses.iter().find(|c| c.id == clause).map(|c| c.verdict), Some("fail"), "{file}:\n{}", text());
        }
    }
}

/// `UPDATE_CORPUS=1`: the corpus is rewritten from the generator (as `UPDATE_GOLDEN=1` rewrites
/// the goldens) before it is compared, so the comparison below then holds.
fn update() -> bool {
    std::env::var_os("UPDATE_CORPUS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Writes the generator's files and EXPECTED.tsv in place of the committed ones.
fn write(entries: &[corpus::Entry]) {
    let _ = std::fs::remove_dir_all(files());
    for e in entries {
        let p = files().join(format!("{}.gz", e.file));
        std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
        std::fs::write(&p, corpus::gzip(&e.bytes)).expect("write");
    }
    std::fs::write(dir().join("EXPECTED.tsv"), corpus::expected_tsv(entries)).expect("write");
}

#[test]
fn the_committed_corpus_is_what_the_generator_makes() {
    let entries = corpus::entries();
    if update() {
        write(&entries);
    }
    let made: BTreeSet<String> = entries.iter().map(|e| format!("{}.gz", e.file)).collect();
    assert_eq!(
        made,
        committed(),
        "the files under tests/capture_corpus/files/ are the generator's: regenerate with `UPDATE_CORPUS=1 cargo test --test capture_files -- --test-threads=1`"
    );
    for e in &entries {
        let have = corpus::gunzip(&std::fs::read(files().join(format!("{}.gz", e.file))).expect("read"));
        assert!(
            have == e.bytes,
            "{} differs from what the generator makes: regenerate with `UPDATE_CORPUS=1 cargo test --test capture_files -- --test-threads=1`",
            e.file
        );
    }
    let tsv = std::fs::read_to_string(dir().join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    assert_eq!(tsv, corpus::expected_tsv(&entries), "EXPECTED.tsv differs from what the generator makes");
}

#[test]
fn the_corpus_is_small() {
    let total: u64 = committed().iter().map(|f| std::fs::metadata(files().join(f)).expect("size").len()).sum();
    assert!(total < 600_000, "the corpus is {total} bytes: keep it well under 1 MB");
}
