// The ladder as text: one list item per step (time, who to whom, what, the engine's note, the
// clauses), the step at the playhead marked. A text alternative of the SVG ladder for screen
// readers and for copying. Loaded on demand by the "Text version" button.
//
// A big trace (20,000 messages: ~170,000 steps) is written in slices a frame apart with a
// progress line and a Cancel button (progress.js); the list is filled from a fragment, never by
// spreading every item into one call (that exceeded the call stack at 20,000 messages).
import { fmtMs } from './viewmodel.js';
import { progress, sliced } from './progress.js';
import { stateName } from './story.js';
import { ensureCss } from './lazy-css.js';

// Its styles are in extra.css (issue 10: the first load's weight): the module is ready once they are.
await ensureCss();

/** One step in words. */
export function stepLine(trace, s, hidden = false) {
  const lane = (id) => trace.lanes.find((l) => l.id === id)?.label || id;
  const who = s.from === s.to || s.protocol === 'none' ? lane(s.from) : `${lane(s.from)} → ${lane(s.to)}`;
  const what = s.protocol === 'none' ? (s.kind === 'state' ? stateName(s.label) : s.label) : `${s.protocol} ${s.label}`;
  const cites = (s.clauses || []).join(', ');
  return `${fmtMs(s.at_ms)} ${who}: ${what}${s.dropped ? ' (never arrives)' : ''}. ${s.note || ''}${cites ? ` [${cites}]` : ''}${s.policy ? ' (policy, not in the CR)' : ''}${hidden ? ' (hidden in the ladder by a filter)' : ''}`;
}

/** Steps written at once without a progress line (well under a frame). */
const QUICK = 3000;

let shown = null;
let shownView = null;
let marked = null;
let building = null; // { trace, p } while a big list is being written
let waiting = null; // the newest wait for a trace's notes

function mark(api) {
  const { state, $ } = api;
  const li = $('textview').children[state.cursor - 1] || null;
  if (li === marked) return;
  marked?.removeAttribute('aria-current');
  li?.setAttribute('aria-current', 'step');
  marked = li;
  li?.scrollIntoView({ block: 'nearest' });
}

async function build(api, list, trace) {
  const steps = trace.steps;
  const view = api.state.view;
  list.replaceChildren();
  const item = (i) => {
    const li = document.createElement('li');
    li.textContent = stepLine(trace, steps[i], !!view?.hidden[i]);
    return li;
  };
  if (steps.length <= QUICK) {
    const f = document.createDocumentFragment();
    for (let i = 0; i < steps.length; i++) f.append(item(i));
    list.append(f);
    return true;
  }
  const p = progress(`Writing the text version: 0 of ${steps.length.toLocaleString('en')} steps…`);
  building = { trace, view, p };
  let f = document.createDocumentFragment();
  const ok = await sliced(steps.length, (i) => f.append(item(i)), {
    p,
    onSlice: (done) => {
      list.append(f);
      f = document.createDocumentFragment();
      p.update(`Writing the text version: ${done.toLocaleString('en')} of ${steps.length.toLocaleString('en')} steps…`);
    },
  });
  p.done();
  building = null;
  if (!ok) {
    list.replaceChildren();
    if (api.state.trace === trace) api.notice(`The text version was cancelled (${steps.length.toLocaleString('en')} steps).`);
  }
  return ok;
}

async function sync(api) {
  const { state, $ } = api;
  const list = $('textview');
  if (list.hidden || !state.trace) return;
  if (building) {
    if (building.trace === state.trace && building.view === state.view) return;
    building.p.cancelled = true; // the trace changed: start again for the new one
    return;
  }
  if (shown !== state.trace || shownView !== state.view) {
    const first = state.trace;
    if (first.notesMissing) {
      // The first wasm module's steps have no notes: they come from the second one (app.js
      // needNotes); without them (it did not load) the lines are written without. Meanwhile
      // the list is empty and busy, and says so (extra.css): no lines of an older trace.
      list.replaceChildren();
      shown = null;
      marked = null;
      list.setAttribute('aria-busy', 'true');
      const wait = (waiting = {});
      const got = await api.needNotes();
      if (waiting === wait) list.removeAttribute('aria-busy'); // not a later trace's wait
      if (got) return sync(api);
      if (state.trace !== first || list.hidden || building) return;
    }
    const tr = state.trace;
    const view = state.view;
    shown = tr;
    shownView = view;
    marked = null;
    if (!(await build(api, list, tr))) {
      shown = null;
      if (!list.hidden && (state.trace !== tr || state.view !== view)) sync(api);
      else close(api);
      return;
    }
    if (state.trace !== tr || state.view !== view) return sync(api);
  }
  mark(api);
}

function close(api) {
  const { $, hooks } = api;
  $('textview').hidden = true;
  $('text-toggle').setAttribute('aria-expanded', 'false');
  hooks.text = null;
}

export function toggle(api) {
  const { $, hooks } = api;
  const list = $('textview');
  const btn = $('text-toggle');
  list.hidden = !list.hidden;
  btn.setAttribute('aria-expanded', String(!list.hidden));
  hooks.text = list.hidden ? null : () => sync(api);
  if (list.hidden && building) building.p.cancelled = true;
  shown = null;
  return sync(api);
}
