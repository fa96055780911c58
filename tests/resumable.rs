//! A run in slices (`Resumable`, the page's single-thread fallback for big timelines, issue 13
//! item 9) gives the trace of one uninterrupted run, byte for byte, whatever the slice size;
//! its progress rises from 0 to 1.

mod common;

use cpm_deferral::scenario::Scenario;
use cpm_deferral::{presets, run, run_without_wire_text, Resumable, Rules};

fn sliced(sc: &Scenario, rules: Rules, wire: bool, budget: usize) -> (String, Vec<f64>) {
    let mut r = Resumable::start(sc.clone(), rules, wire);
    let mut seen = vec![r.progress()];
    let mut slices = 0;
    while !r.advance(budget) {
        seen.push(r.progress());
        slices += 1;
        assert!(slices < 10_000_000, "the run never ends");
    }
    seen.push(r.progress());
    (r.finish().to_json(), seen)
}

#[test]
fn presets_in_slices_equal_one_run() {
    for p in presets::all() {
        let sc = Scenario::from_json(p.json).expect("preset parses");
        for rules in [Rules::PostCr, Rules::PreCr] {
            let whole = run(&sc, rules).to_json();
            let light = run_without_wire_text(&sc, rules).to_json();
            for budget in [1, 2, 7, 64, usize::MAX] {
                assert_eq!(sliced(&sc, rules, true, budget).0, whole, "{} {rules:?} budget {budget}", p.name);
                assert_eq!(sliced(&sc, rules, false, budget).0, light, "{} {rules:?} budget {budget} (no wire text)", p.name);
            }
        }
    }
}

#[test]
fn random_timelines_in_slices_equal_one_run() {
    for seed in 0..200u64 {
        let json = common::gen_scenario(common::mix64(seed ^ 0x51_1ce5));
        let sc = Scenario::from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let budget = 1 + (common::mix64(seed) % 50) as usize;
        for rules in [Rules::PostCr, Rules::PreCr] {
            let (got, progress) = sliced(&sc, rules, false, budget);
            assert_eq!(got, run_without_wire_text(&sc, rules).to_json(), "seed {seed} {rules:?} budget {budget}");
            assert!(progress.windows(2).all(|w| w[0] <= w[1]), "seed {seed}: progress went back: {progress:?}");
            assert_eq!(progress.last(), Some(&1.0));
        }
    }
}

#[test]
fn finish_before_done_completes_the_run() {
    let p = &presets::all()[0];
    let sc = Scenario::from_json(p.json).expect("preset parses");
    let mut r = Resumable::start(sc.clone(), Rules::PostCr, true);
    r.advance(3);
    assert!(r.progress() < 1.0);
    assert_eq!(r.scenario().events.len(), sc.events.len());
    assert_eq!(r.finish().to_json(), run(&sc, Rules::PostCr).to_json());
}
