// Tours (issue 15, "Tours as data"): a trainer's narrated path through a run, kept in the
// scenario file (version 2, `tour`; src/scenario.rs checks it, README "Tours") and so in share
// links and the offline file. Loaded on use: the File menu's "Tour…", a scenario that has a tour,
// or `?tour` (play it at once, in normal, presenter or embed mode).
//
// A stop names its step by identity (step.sid, docs/trace-contract.md): after an edit it finds the
// step again wherever the step's causal chain is unchanged, and says so when the step is gone.
// Captions are plain text: they reach the page through textContent only, never as markup.
// While a tour plays, the clicker keys PageDown / PageUp move stop to stop (in every mode).
import { ensureCss } from './lazy-css.js';
import { findSid, stateName } from './story.js';

const PANELS = { store: '.queue', inspector: '#inspector', timeline: '.timeline-wrap', policies: '#policies', cr: '#crpanel' };
const HIGHLIGHTS = [
  ['', 'nothing else'],
  ['arrow', 'its arrow'],
  ['panel:store', 'the store panel'],
  ['panel:inspector', 'the inspector'],
  ['panel:timeline', 'the timeline'],
  ['panel:policies', 'the policies'],
  ['panel:cr', 'the CR text'],
];
const SENTENCES = ['bye', 'remain', 'case1', 'case2', 'case3', 'note', 'subscribe', 'two-ways', 'path-a', 'path-b', 'no-invite', 'use-rejoin', 'msrp'];

let editor = null;
let box = null;
let at = -1; // the stop shown (playing), or -1
let editing = -1; // the stop in the form, or -1 (a new stop)
let keys = null;

/** The tour of the scenario (never null: an empty one when the scenario has none). */
export const tourOf = (scenario) => {
  const t = scenario?.tour;
  return t && typeof t === 'object' && Array.isArray(t.stops) ? t : { title: '', stops: [] };
};

/** The scenario with this tour (version 2: the format that has tours). */
export function withTour(scenario, tour) {
  const { format, version, ...rest } = scenario;
  void version;
  return { format: format || 'cpm-deferral-scenario', version: 2, ...rest, tour };
}

/** Move stop i by d places (immutably). */
export function moveStop(tour, i, d) {
  const j = i + d;
  if (j < 0 || j >= tour.stops.length) return tour;
  const stops = tour.stops.slice();
  [stops[i], stops[j]] = [stops[j], stops[i]];
  return { ...tour, stops };
}

/** The step a stop names in this trace: { i, step } or null (gone). */
export function stepOf(trace, stop) {
  const i = findSid(trace, stop?.step);
  return i >= 0 ? { i, step: trace.steps[i] } : null;
}

const describe = (api, s) => `#${s.index} at ${api.fmtMs(s.at_ms)}: ${s.kind === 'state' ? stateName(s.label) : s.label}${s.key !== undefined ? ` (key step: ${s.key})` : ''}`;

/** Called by the page after every redraw (app.js hooks.tour): the list follows edits. */
function refresh(api) {
  if (editor && !editor.hidden) drawList(api);
  drawStart(api);
  // A tour on show: an edit may have removed (or brought back) its stop's step.
  if (at >= 0 && box && !box.hidden) {
    const st = tourOf(api.state.scenario).stops[at];
    if (st) showGone(!!stepOf(api.state.trace, st));
  }
}

function showGone(found) {
  const gone = box.querySelector('.tour-gone');
  gone.hidden = found;
  gone.textContent = found ? '' : 'The step of this stop is no longer in the ladder: an edit of the timeline removed it. The playhead stays where it was.';
}

/** Attach to the page: the hook, and a "Play tour" button when the scenario has stops. */
export async function attach(api) {
  api.hooks.tour = () => refresh(api);
  await ensureCss();
  drawStart(api);
}

function drawStart(api) {
  const n = tourOf(api.state.scenario).stops.length;
  let b = document.getElementById('tour-start');
  if (!n) {
    b?.remove();
    return;
  }
  if (!b) {
    b = api.h('button', { type: 'button', id: 'tour-start', onclick: api.guard(() => play(api, 0)) });
    api.$('stepinfo').before(b);
  }
  const text = `▶ Tour (${n} stop${n === 1 ? '' : 's'})`;
  if (b.textContent !== text) b.textContent = text;
  // While the tour plays its bar has the controls (and the player keeps its width).
  if (b.hidden !== at >= 0) b.hidden = at >= 0;
  b.title = 'Play the tour of this timeline (PageDown / PageUp: stop to stop)';
}

// ---------------------------------------------------------------- recording

/** The step a new stop takes: the selected step of the main ladder, else the one at the playhead. */
function currentStep(api) {
  const { state } = api;
  const sel = state.sel;
  if (sel && !sel.gone && sel.side === 'main' && state.trace.steps[sel.step]) return state.trace.steps[sel.step];
  return state.cursor > 0 ? state.trace.steps[state.cursor - 1] : null;
}

/** Open (or close) the tour editor in the side panel. */
export async function openEditor(api, open = !editor || editor.hidden) {
  await attach(api);
  if (!editor) buildEditor(api);
  editor.hidden = !open;
  if (open) {
    drawList(api);
    drawForm(api);
    editor.querySelector('#tour-caption').focus();
  }
}

function buildEditor(api) {
  const { h } = api;
  const title = h('input', { type: 'text', id: 'tour-title', maxLength: 200, placeholder: 'Title of the tour' });
  title.addEventListener('change', api.guard(() => setTour(api, { ...tourOf(api.state.scenario), title: title.value })));
  const hl = h('select', { id: 'tour-hl' });
  for (const [v, t] of HIGHLIGHTS) hl.append(h('option', { value: v, text: t }));
  for (const s of SENTENCES) hl.append(h('option', { value: `sentence:${s}`, text: `the CR sentence “${s}”` }));
  editor = h('section', { class: 'tour-editor', id: 'tour-editor', 'aria-labelledby': 'tour-h' },
    h('h2', { id: 'tour-h', text: 'Tour' }),
    h('label', { class: 'row' }, document.createTextNode('Title '), title),
    h('ol', { id: 'tour-stops', class: 'tour-stops', 'aria-label': 'Stops of the tour' }),
    h('p', { id: 'tour-at', class: 'muted' }),
    h('label', { for: 'tour-caption', text: 'Caption (plain text)' }),
    h('textarea', { id: 'tour-caption', rows: 3, maxLength: 2000 }),
    h('label', { class: 'row' }, document.createTextNode('Also highlight '), hl),
    h('label', { class: 'row' }, h('input', { type: 'checkbox', id: 'tour-keep' }), document.createTextNode(' with the rules, compare, filters and policies in force now')),
    // A multiple-choice question at the stop (a task the engine grades is written in the file).
    h('details', { id: 'tour-ask', class: 'tour-ask' },
      h('summary', { text: 'Ask a question here (multiple choice)' }),
      h('label', { for: 'tour-q', text: 'Question' }),
      h('input', { type: 'text', id: 'tour-q', maxLength: 1000 }),
      h('label', { for: 'tour-choices', text: 'Answers, one a line' }),
      h('textarea', { id: 'tour-choices', rows: 3 }),
      h('label', { class: 'row' }, document.createTextNode('The right one is answer number '), h('input', { type: 'number', id: 'tour-right', min: 1, max: 8, value: '1' })),
      h('label', { for: 'tour-explain', text: 'Explanation shown after an answer (name the clause or the policy)' }),
      h('textarea', { id: 'tour-explain', rows: 2, maxLength: 2000 }),
      h('p', { id: 'tour-task', class: 'muted', hidden: true })),
    h('p', { id: 'tour-error', class: 'ed-error', role: 'alert' }),
    h('div', { class: 'row' },
      h('button', { type: 'button', id: 'tour-add', text: 'Add stop', onclick: api.guard(() => saveStop(api)) }),
      h('button', { type: 'button', id: 'tour-cancel', text: 'New stop', onclick: () => { editing = -1; drawForm(api); } }),
      h('button', { type: 'button', id: 'tour-preview', text: 'Preview', onclick: api.guard(() => play(api, 0)) }),
      h('button', { type: 'button', id: 'tour-ready', text: 'Use the ready tour', title: 'A tour of this preset with exercises (replaces the stops above)', hidden: true, onclick: api.guard(() => useReady(api)) }),
      h('button', { type: 'button', id: 'tour-close', text: 'Close', onclick: () => { editor.hidden = true; api.$('file-menu').querySelector('summary').focus(); } })));
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      editor.hidden = true;
    }
  });
  api.$('editor').before(editor);
}

function drawForm(api) {
  const stops = tourOf(api.state.scenario).stops;
  const st = editing >= 0 ? stops[editing] : null;
  const s = currentStep(api);
  editor.querySelector('#tour-at').textContent = st
    ? `Editing stop ${editing + 1}. Its step: ${(() => { const f = stepOf(api.state.trace, st); return f ? describe(api, f.step) : 'no longer in the ladder'; })()}.`
    : s ? `A new stop at the step ${describe(api, s)} (go to another step with the player, or click an arrow).` : 'Go to a step first (the player, or click an arrow); the stop is that step.';
  editor.querySelector('#tour-caption').value = st ? st.caption || '' : '';
  const hl = st?.highlight;
  editor.querySelector('#tour-hl').value = !hl ? '' : hl.arrow ? 'arrow' : hl.panel ? `panel:${hl.panel}` : `sentence:${hl.sentence}`;
  editor.querySelector('#tour-keep').checked = !!(st && (st.rules || st.filters || st.policies || st.compare != null));
  const ask = st?.ask;
  const mc = ask && Array.isArray(ask.choices);
  editor.querySelector('#tour-ask').open = !!ask;
  editor.querySelector('#tour-q').value = mc ? String(ask.question ?? '') : '';
  editor.querySelector('#tour-choices').value = mc ? ask.choices.join('\n') : '';
  editor.querySelector('#tour-right').value = String(mc ? Number(ask.answer) + 1 : 1);
  editor.querySelector('#tour-explain').value = mc ? String(ask.explain ?? '') : '';
  const task = editor.querySelector('#tour-task');
  task.hidden = !(ask && !mc);
  task.textContent = ask && !mc ? `This stop has a task the engine grades (“${String(ask.question ?? '')}”); it is kept as it is (edit it in the file).` : '';
  editor.querySelector('#tour-add').textContent = st ? 'Save stop' : 'Add stop';
  editor.querySelector('#tour-error').textContent = '';
  editor.querySelector('#tour-title').value = tourOf(api.state.scenario).title || '';
}

/** The preset's ready tour (ready-tours.js) into the scenario; false when it has none. */
async function useReady(api) {
  const { state } = api;
  const m = await import('./ready-tours.js');
  const t = state.rules === 'post-cr' ? state.trace : state.engine.run(state.scenario, 'post-cr');
  const tour = m.readyTour(state.preset, t);
  if (!tour) return false;
  if (state.rules !== 'post-cr') api.setRules('post-cr');
  return setTour(api, tour);
}

function drawList(api) {
  const { h, state } = api;
  import('./ready-tours.js').then((m) => { editor.querySelector('#tour-ready').hidden = !m.names.includes(state.preset); });
  const tour = tourOf(state.scenario);
  const list = editor.querySelector('#tour-stops');
  list.replaceChildren(...tour.stops.map((st, i) => {
    const f = stepOf(state.trace, st);
    const btn = (text, label, fn, id) => h('button', { type: 'button', text, 'aria-label': label, onclick: api.guard(fn), ...(id ? { 'data-act': id } : {}) });
    const n = i + 1;
    return h('li', { class: f ? '' : 'gone', 'data-stop': String(i) },
      h('span', { class: 'tour-step', text: f ? describe(api, f.step) : 'its step is no longer in the ladder (an edit removed it)' }),
      h('span', { class: 'tour-cap', text: st.caption || '(no caption)' }),
      h('span', { class: 'row' },
        btn('Go', `Go to stop ${n}`, () => play(api, i), 'go'),
        btn('↑', `Move stop ${n} up`, () => setTour(api, moveStop(tour, i, -1)), 'up'),
        btn('↓', `Move stop ${n} down`, () => setTour(api, moveStop(tour, i, 1)), 'down'),
        btn('Edit', `Edit stop ${n}`, () => { editing = i; drawForm(api); editor.querySelector('#tour-caption').focus(); }, 'edit'),
        btn('Delete', `Delete stop ${n}`, () => { editing = -1; setTour(api, { ...tour, stops: tour.stops.filter((_, k) => k !== i) }); drawForm(api); }, 'delete')));
  }));
  if (!tour.stops.length) list.append(h('li', { class: 'muted', text: 'No stops yet: go to a step, write a caption, Add stop.' }));
}

/** Write the tour into the scenario: an ordinary edit (undo, save, the engine's check). */
function setTour(api, tour) {
  const why = api.edit(withTour(api.state.scenario, tour));
  if (editor) editor.querySelector('#tour-error').textContent = why || '';
  return !why;
}

function saveStop(api) {
  const { state } = api;
  const tour = tourOf(state.scenario);
  const old = editing >= 0 ? tour.stops[editing] : null;
  const s = old ? null : currentStep(api);
  if (!old && !s) {
    editor.querySelector('#tour-error').textContent = 'Go to a step first: the stop shows the step at the playhead (or the selected arrow).';
    return;
  }
  const stop = { step: old ? old.step : s.sid, caption: editor.querySelector('#tour-caption').value };
  const hl = editor.querySelector('#tour-hl').value;
  if (hl === 'arrow') stop.highlight = { arrow: true };
  else if (hl.startsWith('panel:')) stop.highlight = { panel: hl.slice(6) };
  else if (hl.startsWith('sentence:')) stop.highlight = { sentence: hl.slice(9) };
  if (editor.querySelector('#tour-keep').checked) {
    if (old && (old.rules || old.filters || old.policies || old.compare != null)) {
      for (const k of ['rules', 'compare', 'filters', 'policies']) if (old[k] !== undefined) stop[k] = old[k];
    } else {
      stop.rules = state.rules;
      stop.compare = state.compare;
      stop.filters = [...state.filters];
      stop.policies = { ...(state.scenario.policies || {}) };
    }
  }
  const q = editor.querySelector('#tour-q').value.trim();
  const choices = editor.querySelector('#tour-choices').value.split('\n').map((c) => c.trim()).filter(Boolean);
  if (old?.ask && !Array.isArray(old.ask.choices)) stop.ask = old.ask; // a task from the file
  else if (q || choices.length) {
    const right = Number(editor.querySelector('#tour-right').value) - 1;
    if (!q || choices.length < 2 || !(right >= 0 && right < choices.length)) {
      editor.querySelector('#tour-error').textContent = 'A question needs its text, at least two answers (one a line) and the number of the right one.';
      return;
    }
    const slug = q.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'question';
    const n = (old ? editing : tour.stops.length) + 1;
    stop.ask = { id: old?.ask?.id || `stop-${n}-${slug}`, question: q, choices, answer: right };
    const explain = editor.querySelector('#tour-explain').value.trim();
    if (explain) stop.ask.explain = explain;
  }
  const stops = tour.stops.slice();
  if (old) stops[editing] = stop;
  else stops.push(stop);
  if (setTour(api, { ...tour, stops })) {
    editing = -1;
    drawForm(api);
  }
}

// ---------------------------------------------------------------- playing

/** Show stop i (0-based) of the scenario's tour: its switches, its step, its caption. */
export async function play(api, i) {
  await attach(api);
  const { state } = api;
  let tour = tourOf(state.scenario);
  // ?tour on a preset without a tour of its own: its ready tour, if it has one.
  if (!tour.stops.length && state.preset && (await useReady(api))) tour = tourOf(state.scenario);
  if (!tour.stops.length) {
    api.notice('This timeline has no tour yet (File menu: Tour…).');
    return false;
  }
  at = Math.max(0, Math.min(i, tour.stops.length - 1));
  state.tourStop = at;
  const st = tour.stops[at];
  api.pause();
  // A stop's policies run on the second module (www/engine.js needsSecond): loaded first.
  if (st.policies && typeof st.policies === 'object') await state.engine.prepare({ policies: st.policies });
  // Switches: rules, compare, filters, and policies (for this run only: state.over).
  let rerun = false;
  if (st.rules && st.rules !== state.rules) {
    state.rules = st.rules;
    const r = document.querySelector(`input[name="rules"][value="${st.rules === 'pre-cr' ? 'pre-cr' : 'post-cr'}"]`);
    if (r) r.checked = true;
    rerun = true;
  }
  if (typeof st.compare === 'boolean' && st.compare !== state.compare && !api.MODE.embed) {
    state.compare = st.compare;
    api.$('compare').checked = st.compare;
    rerun = true;
  }
  if (Array.isArray(st.filters)) state.filters = st.filters.slice();
  const over = st.policies && typeof st.policies === 'object' ? st.policies : null;
  if (over || state.over) {
    state.over = over ? (s) => ({ ...s, policies: { ...over } }) : null;
    rerun = true;
  }
  if (rerun || Array.isArray(st.filters)) api.rerun();
  const f = stepOf(state.trace, st);
  // The bar first: the ladder then scrolls for the height it ends up with.
  drawBox(api, tour, st, f);
  drawStart(api);
  if (f) {
    api.setCursor(f.i + 1);
    api.selectStep('main', f.i, null, true);
  }
  highlight(api, st.highlight, f);
  if (!keys) {
    keys = api.guard((e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || at < 0) return;
      const t = e.target.tagName;
      if (t === 'TEXTAREA' || (t === 'INPUT' && e.target.type === 'text')) return;
      if (e.key !== 'PageDown' && e.key !== 'PageUp') return;
      e.preventDefault();
      e.stopImmediatePropagation();
      step(api, e.key === 'PageDown' ? 1 : -1);
    });
    // On window, capturing: before the page's and the presenter's own clicker keys.
    window.addEventListener('keydown', keys, true);
  }
  return !!f;
}

/** The next (d = 1) or previous (d = -1) stop; past the last one the tour ends. */
export function step(api, d) {
  const n = tourOf(api.state.scenario).stops.length;
  if (at + d >= n) return end(api, true);
  return play(api, Math.max(0, at + d));
}

/** Leave the tour (the policies of its stops no longer apply). */
export function end(api, finished = false) {
  const { state } = api;
  if (at < 0) return;
  at = -1;
  state.tourStop = -1;
  if (keys) window.removeEventListener('keydown', keys, true);
  keys = null;
  clearHighlight();
  drawStart(api);
  if (state.over) {
    state.over = null;
    api.rerun();
  }
  if (finished && box) {
    box.querySelector('.tour-n').textContent = 'End of the tour';
    box.querySelector('.tour-text').textContent = 'Press ▶ Tour to see it again.';
    box.querySelector('.tour-gone').hidden = true;
    box.querySelector('#tour-next').disabled = true;
    setTimeout(() => { if (at < 0 && box) box.hidden = true; }, 4000);
  } else if (box) box.hidden = true;
}

function drawBox(api, tour, st, f) {
  const { h } = api;
  if (!box) {
    box = h('section', { class: 'tour-bar', id: 'tour-box', 'aria-label': 'Tour', 'aria-live': 'polite' },
      h('p', { class: 'tour-n' }),
      h('p', { class: 'tour-text' }),
      h('p', { class: 'tour-gone', role: 'alert' }),
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'tour-prev', text: '◀ stop', title: 'The previous stop (PageUp)', onclick: api.guard(() => step(api, -1)) }),
        h('button', { type: 'button', id: 'tour-next', text: 'stop ▶', title: 'The next stop (PageDown)', onclick: api.guard(() => step(api, 1)) }),
        h('button', { type: 'button', id: 'tour-end', text: 'End tour', onclick: api.guard(() => end(api)) })));
    api.$('caption').before(box);
  }
  box.hidden = false;
  box.dataset.stop = String(at);
  box.querySelector('.tour-n').textContent = `${tour.title ? `${tour.title} · ` : ''}stop ${at + 1} of ${tour.stops.length}`;
  box.querySelector('.tour-text').textContent = st.caption || '';
  showGone(!!f);
  box.querySelector('#tour-prev').disabled = at === 0;
  box.querySelector('#tour-next').disabled = false;
  box.querySelector('#tour-next').textContent = at === tour.stops.length - 1 ? 'end ▶' : 'stop ▶';
  // The stop's exercise (exercises.js, loaded when a stop asks one).
  // Once the ladder has its new height (a resize observer, next frame), its step is in view.
  const settle = () => requestAnimationFrame(() => requestAnimationFrame(() => {
    if (f && at >= 0) api.ladder.reveal(f.i);
  }));
  if (st.ask || box.querySelector('.ex')) import('./exercises.js').then((m) => { m.show(api, box, st.ask); settle(); }).catch((e) => api.notice(String(e.message || e)));
  else settle();
}

function clearHighlight() {
  for (const e of document.querySelectorAll('.tour-hl')) e.classList.remove('tour-hl');
}

async function highlight(api, hl, f) {
  clearHighlight();
  if (!hl || typeof hl !== 'object') return;
  if (hl.arrow && f) {
    document.querySelector(`#pane-main [data-step="${f.i}"]`)?.classList.add('tour-hl');
    return;
  }
  if (hl.panel === 'cr' || (typeof hl.sentence === 'string' && SENTENCES.includes(hl.sentence))) {
    const p = await import('./crpanel.js');
    if (hl.sentence) await p.show(api, hl.sentence);
    else await p.toggle(api, true);
    const e = hl.sentence ? document.getElementById(`cr-${hl.sentence}`) : document.getElementById('crpanel');
    e?.classList.add('tour-hl');
    return;
  }
  if (hl.panel === 'policies') api.$('policies').open = true;
  const sel = PANELS[hl.panel];
  if (sel) document.querySelector(sel)?.classList.add('tour-hl');
}

/** For tests and the host API: which stop is shown (-1: none). */
export const current = () => at;
