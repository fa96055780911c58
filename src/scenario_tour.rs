//! The `tour` of a version 2 scenario file (issue 15, "Tours as data"): stops by step identity,
//! captions, switches, highlights and exercises, each field checked and named like the rest of
//! the file (`tour.stops[2].caption`). Built with feature `tours` (see `super`).

use super::*;

/// An optional string field that must be one of `allowed`.
fn pick<'o>(m: Obj<'o, '_>, path: Loc, key: &str, allowed: &[&str]) -> R<Option<&'o str>> {
    match get_str(m, path, key)? {
        Some(v) if !allowed.contains(&v) => {
            Err(ScenarioError::OutOfRange { path: join(path, key), value: format!("{:?}", cut(v)), allowed: allowed.join(", ") })
        }
        v => Ok(v),
    }
}

/// The `tour` object of a version 2 file (issue 15, "Tours as data").
pub(super) fn parse_tour(v: &Json) -> R<Tour> {
    let m = obj(v, Loc::Tour)?;
    check_fields(m, Loc::Tour, &["title", "stops"])?;
    let title = get_str(m, Loc::Tour, "title")?.unwrap_or("");
    check_text(&|| "tour.title".into(), title, 200)?;
    let arr = m.get("stops").ok_or_else(|| ScenarioError::Missing { path: "tour.stops".into() })?;
    let arr = arr.as_array().ok_or_else(|| ScenarioError::WrongType { path: "tour.stops".into(), expected: "an array" })?;
    if arr.len() > MAX_STOPS {
        return Err(ScenarioError::OutOfRange { path: "tour.stops".into(), value: format!("{} stops", arr.len()), allowed: format!("at most {MAX_STOPS}") });
    }
    let mut stops = Vec::with_capacity(arr.len());
    for (i, s) in arr.iter().enumerate() {
        stops.push(parse_stop(s, i)?);
    }
    Ok(Tour { title: title.to_string(), stops })
}

fn parse_stop(v: &Json, i: usize) -> R<Stop> {
    let path = Loc::Stop(i);
    let m = obj(v, path)?;
    check_fields(m, path, &["step", "caption", "rules", "policies", "filters", "compare", "highlight", "ask"])?;
    let step = req_str(m, path, "step")?;
    check_text(&|| join(path, "step"), step, 300)?;
    let caption = get_str(m, path, "caption")?.unwrap_or("");
    check_text(&|| join(path, "caption"), caption, MAX_CAPTION)?;
    let rules = pick(m, path, "rules", &["post-cr", "pre-cr"])?.map(|r| if r == "pre-cr" { crate::Rules::PreCr } else { crate::Rules::PostCr });
    let policies = match m.get("policies") {
        Some(p) => Some(parse_policies(p, &join(path, "policies"))?),
        None => None,
    };
    let filters = match m.get("filters") {
        None => None,
        Some(f) => {
            let a = f.as_array().ok_or_else(|| ScenarioError::WrongType { path: join(path, "filters"), expected: "an array of filter ids" })?;
            let mut out: Vec<String> = Vec::new();
            for (k, x) in a.iter().enumerate() {
                let id = x.as_str().filter(|id| FILTER_IDS.contains(id)).ok_or_else(|| ScenarioError::OutOfRange {
                    path: format!("{path}.filters[{k}]"),
                    value: x.short(40),
                    allowed: FILTER_IDS.join(", "),
                })?;
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
            Some(out)
        }
    };
    let compare = match m.get("compare") {
        None => None,
        Some(Json::Bool(b)) => Some(*b),
        Some(_) => return Err(ScenarioError::WrongType { path: join(path, "compare"), expected: "true or false" }),
    };
    let highlight = match m.get("highlight") {
        None | Some(Json::Null) => None,
        Some(h) => {
            let hp = Loc::Highlight(i);
            let hm = obj(h, hp)?;
            check_fields(hm, hp, &["arrow", "panel", "sentence"])?;
            let panel = pick(hm, hp, "panel", &PANELS)?;
            let sentence = pick(hm, hp, "sentence", &CR_SENTENCE_IDS)?;
            match (hm.get("arrow"), panel, sentence) {
                (Some(Json::Bool(true)), None, None) => Some(Highlight::Arrow),
                (None, Some(p), None) => Some(Highlight::Panel(p.to_string())),
                (None, None, Some(s)) => Some(Highlight::Sentence(s.to_string())),
                _ => {
                    return Err(ScenarioError::Invalid {
                        path: hp.to_string(),
                        problem: "needs exactly one of \"arrow\": true, \"panel\": a panel id, \"sentence\": a CR sentence id".into(),
                    })
                }
            }
        }
    };
    let ask = match m.get("ask") {
        None | Some(Json::Null) => None,
        Some(a) => Some(parse_ask(a, i)?),
    };
    Ok(Stop { step: step.to_string(), caption: caption.to_string(), rules, policies, filters, compare, highlight, ask })
}

/// `true` / `false` at `key` (`default` when absent).
fn get_bool(m: Obj, path: Loc, key: &str, default: bool) -> R<bool> {
    match m.get(key) {
        None => Ok(default),
        Some(Json::Bool(b)) => Ok(*b),
        Some(_) => Err(ScenarioError::WrongType { path: join(path, key), expected: "true or false" }),
    }
}

/// An exercise: multiple choice (`choices` and `answer`) or a task (`expect`, optional `rules`).
fn parse_ask(v: &Json, i: usize) -> R<Ask> {
    let path = Loc::Ask(i);
    let m = obj(v, path)?;
    // Multiple choice has `choices` and `answer`, a task `expect` and `rules`: a field of the
    // other kind is an unknown field here.
    let choice = m.get("choices").is_some();
    let (key, fields): (&str, &[&'static str]) =
        if choice { ("choices", &["id", "question", "explain", "choices", "answer"]) } else { ("expect", &["id", "question", "explain", "expect", "rules"]) };
    check_fields(m, path, fields)?;
    let id = req_str(m, path, "id")?;
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
        return Err(ScenarioError::Invalid { path: join(path, "id"), problem: format!("{:?} must be 1-64 lowercase letters, digits or '-'", cut(id)) });
    }
    let question = req_str(m, path, "question")?;
    check_text(&|| join(path, "question"), question, 1000)?;
    let explain = get_str(m, path, "explain")?.unwrap_or("");
    check_text(&|| join(path, "explain"), explain, MAX_CAPTION)?;
    let items = m.get(key).and_then(Json::as_array).filter(|a| !a.is_empty() && a.len() <= MAX_CHOICES).ok_or_else(|| ScenarioError::Invalid {
        path: join(path, key),
        problem: format!("needs an array of 1 to {MAX_CHOICES} (\"choices\" for multiple choice, \"expect\" for a task the engine grades)"),
    })?;
    let kind = if choice {
        let mut choices = Vec::with_capacity(items.len());
        for (k, c) in items.iter().enumerate() {
            let p = || format!("{path}.choices[{k}]");
            let c = c.as_str().ok_or_else(|| ScenarioError::WrongType { path: p(), expected: "a string" })?;
            check_text(&p, c, 500)?;
            choices.push(c.to_string());
        }
        let answer = get_u64(m, path, "answer", 0..=items.len() as u64 - 1, "the index of the right choice")?
            .ok_or_else(|| ScenarioError::Missing { path: join(path, "answer") })?;
        AskKind::Choice { choices, answer: answer as usize }
    } else {
        let rules = pick(m, path, "rules", &["post-cr", "pre-cr"])?.map(|r| if r == "pre-cr" { crate::Rules::PreCr } else { crate::Rules::PostCr });
        let mut expect = Vec::with_capacity(items.len());
        for (k, c) in items.iter().enumerate() {
            expect.push(parse_condition(c, Loc::Cond(i, k))?);
        }
        AskKind::Task { rules, expect }
    };
    Ok(Ask { id: id.to_string(), question: question.to_string(), explain: explain.to_string(), kind })
}

/// One of `{"count", "min"?, "max"?}`, `{"key", "present"?}`, `{"step", "present"?}`, `{"state_at", "state"}`.
fn parse_condition(v: &Json, path: Loc) -> R<Condition> {
    let m = obj(v, path)?;
    const N: &str = "a whole number (0 or more)";
    if let Some(field) = pick(m, path, "count", &COUNT_FIELDS)? {
        check_fields(m, path, &["count", "min", "max"])?;
        let min = get_u64(m, path, "min", 0..=u32::MAX as u64, N)?;
        let max = get_u64(m, path, "max", 0..=u32::MAX as u64, N)?;
        return Ok(Condition::Count { field: field.to_string(), min, max });
    }
    if m.get("key").is_some() || m.get("step").is_some() {
        let key = m.get("key").is_some();
        let f = if key { "key" } else { "step" };
        check_fields(m, path, &[f, "present"])?;
        let text = req_str(m, path, f)?;
        check_text(&|| join(path, f), text, 300)?;
        let present = get_bool(m, path, "present", true)?;
        return Ok(if key { Condition::Key { text: text.to_string(), present } } else { Condition::Step { sid: text.to_string(), present } });
    }
    if m.get("state_at").is_some() {
        check_fields(m, path, &["state_at", "state"])?;
        let at_ms = get_u64(m, path, "state_at", 0..=MAX_AT_MS, MS)?.unwrap_or(0);
        let state = pick(m, path, "state", &PF_STATES)?.ok_or_else(|| ScenarioError::Missing { path: join(path, "state") })?;
        return Ok(Condition::StateAt { at_ms, state: state.to_string() });
    }
    Err(ScenarioError::Invalid { path: path.to_string(), problem: "needs one of \"count\", \"key\", \"step\", \"state_at\"".into() })
}
