// Exercises at tour stops (issue 15, "Exercises"; the stop's `ask`, README "Tours"): a multiple
// choice, or a task the engine grades on the learner's own timeline (conditions on the run:
// summary counts, a key step or a step present or absent, the PF's state at a time). Feedback is
// the trainer's explanation (the clause or the policy). Each answer makes a result shaped for
// xAPI, posted to the embedding host (host.js sets hooks.result; docs/host-api.md). Loaded on use by tour.js.
// Every text from the file reaches the page through textContent.
import { cursorAt, pfStateAt } from './viewmodel.js';
import { findSid, stateName } from './story.js';

const attempts = new Map(); // exercise id → answers given in this page

/** Does condition `c` hold on `trace`? → { ok, text } (text: what the run has, in words). */
export function evaluate(trace, c) {
  if (typeof c.count === 'string') {
    const v = trace.summary?.[c.count] ?? 0;
    const ok = (c.min == null || v >= c.min) && (c.max == null || v <= c.max);
    const want = c.min != null && c.max != null ? (c.min === c.max ? `${c.min}` : `${c.min} to ${c.max}`) : c.min != null ? `at least ${c.min}` : `at most ${c.max}`;
    return { ok, text: `${c.count.replace(/_/g, ' ')}: ${v} (wanted ${want})` };
  }
  if (typeof c.key === 'string') {
    const has = trace.steps.some((s) => s.key !== undefined && String(s.key).includes(c.key));
    const want = c.present !== false;
    return { ok: has === want, text: `a key step “${c.key}” is ${has ? '' : 'not '}in the run` };
  }
  if (typeof c.step === 'string') {
    const has = findSid(trace, c.step) >= 0;
    const want = c.present !== false;
    return { ok: has === want, text: `that step is ${has ? '' : 'not '}in the run` };
  }
  if (Number.isFinite(c.state_at)) {
    const st = pfStateAt(trace, cursorAt(trace.steps, c.state_at));
    return { ok: st === c.state, text: `the PF is ${stateName(st)} at ${c.state_at} ms (wanted ${stateName(c.state)})` };
  }
  return { ok: false, text: 'an unknown condition' };
}

/** Grade a task on the learner's timeline: the engine runs it, every condition must hold. */
export function check(api, ask) {
  const { state } = api;
  const tr = state.engine.run(state.scenario, ask.rules || state.rules);
  if (tr.error) return { ok: false, response: tr.error };
  const results = (ask.expect || []).map((c) => evaluate(tr, c));
  return { ok: results.every((r) => r.ok), response: results.map((r) => r.text).join('; ') };
}

/** The result of an answer, as the host receives it (`xapi`: the statement without its actor). */
export function resultOf(ask, correct, n, response) {
  const choice = Array.isArray(ask.choices);
  const resp = String(response ?? '').slice(0, 500);
  return {
    id: ask.id, correct, attempts: n, response: resp,
    xapi: {
      verb: { id: 'http://adlnet.gov/expapi/verbs/answered', display: { 'en-US': 'answered' } },
      object: {
        id: `urn:cpm-deferral-explorer:exercise:${ask.id}`,
        definition: {
          name: { 'en-US': String(ask.question) },
          type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
          interactionType: choice ? 'choice' : 'performance',
          ...(choice ? { choices: ask.choices.map((c, i) => ({ id: String(i), description: { 'en-US': String(c) } })), correctResponsesPattern: [String(ask.answer)] } : {}),
        },
      },
      result: { success: correct, response: resp, extensions: { 'urn:cpm-deferral-explorer:attempts': n } },
    },
  };
}

function grade(api, sec, ask, correct, response, shown = response) {
  const n = (attempts.get(ask.id) || 0) + 1;
  attempts.set(ask.id, n);
  const fb = sec.querySelector('.ex-feedback');
  fb.className = `ex-feedback ${correct ? 'right' : 'wrong'}`;
  fb.textContent = `${correct ? 'Right.' : 'Not yet.'}${!correct && shown ? ` ${shown}.` : ''}${ask.explain && (correct || Array.isArray(ask.choices)) ? ` ${ask.explain}` : ''}`;
  const result = resultOf(ask, correct, n, response);
  api.state.lastResult = result;
  api.hooks.result?.(result); // host.js, when framed: the `result` event
}

/** Show the exercise of a stop in the tour's bar (or remove it: ask null). */
export function show(api, box, ask) {
  const { h } = api;
  box.querySelector('.ex')?.remove();
  if (!ask || typeof ask !== 'object' || typeof ask.id !== 'string') return;
  const sec = h('section', { class: 'ex', 'aria-label': 'Exercise' }, h('p', { class: 'ex-q', text: String(ask.question ?? '') }));
  if (Array.isArray(ask.choices)) {
    const fs = h('fieldset', { class: 'ex-choices' }, h('legend', { text: 'Your answer' }));
    ask.choices.forEach((c, i) => fs.append(h('label', {}, h('input', { type: 'radio', name: `ex-${ask.id}`, value: String(i) }), document.createTextNode(` ${c}`))));
    sec.append(fs, h('button', {
      type: 'button', id: 'ex-answer', text: 'Answer',
      onclick: () => {
        const sel = fs.querySelector('input:checked');
        if (!sel) {
          sec.querySelector('.ex-feedback').textContent = 'Pick one answer first.';
          return;
        }
        const i = Number(sel.value);
        grade(api, sec, ask, i === ask.answer, String(i), '');
      },
    }));
  } else {
    sec.append(h('p', { class: 'muted', text: 'Change the timeline (move or add an event, change a policy), then press Check: the engine runs your timeline and checks it.' }),
      h('button', { type: 'button', id: 'ex-check', text: 'Check', onclick: api.guard(() => { const r = check(api, ask); grade(api, sec, ask, r.ok, r.response); }) }));
  }
  sec.append(h('p', { class: 'ex-feedback', role: 'status' }));
  box.append(sec);
}
