// The ladder as text: one list item per step (time, who to whom, what, the engine's note, the
// clauses), the step at the playhead marked. A text alternative of the SVG ladder for screen
// readers and for copying. Loaded on demand by the "Text version" button.
import { fmtMs } from './viewmodel.js';
import { stateName } from './story.js';

/** One step in words. */
export function stepLine(trace, s, hidden = false) {
  const lane = (id) => trace.lanes.find((l) => l.id === id)?.label || id;
  const who = s.from === s.to || s.protocol === 'none' ? lane(s.from) : `${lane(s.from)} → ${lane(s.to)}`;
  const what = s.protocol === 'none' ? (s.kind === 'state' ? stateName(s.label) : s.label) : `${s.protocol} ${s.label}`;
  const cites = (s.clauses || []).join(', ');
  return `${fmtMs(s.at_ms)} ${who}: ${what}${s.dropped ? ' (never arrives)' : ''}. ${s.note || ''}${cites ? ` [${cites}]` : ''}${s.policy ? ' (policy, not in the CR)' : ''}${hidden ? ' (hidden in the ladder by a filter)' : ''}`;
}

let shown = null;
let shownView = null;
let marked = null;

function sync(api) {
  const { state, $ } = api;
  const list = $('textview');
  if (list.hidden || !state.trace) return;
  if (shown !== state.trace || shownView !== state.view) {
    shown = state.trace;
    shownView = state.view;
    marked = null;
    list.replaceChildren(...state.trace.steps.map((s) => {
      const li = document.createElement('li');
      li.textContent = stepLine(state.trace, s, !!state.view?.hidden[s.index]);
      return li;
    }));
  }
  const li = list.children[state.cursor - 1] || null;
  if (li === marked) return;
  marked?.removeAttribute('aria-current');
  li?.setAttribute('aria-current', 'step');
  marked = li;
  li?.scrollIntoView({ block: 'nearest' });
}

export function toggle(api) {
  const { $, hooks } = api;
  const list = $('textview');
  const btn = $('text-toggle');
  list.hidden = !list.hidden;
  btn.setAttribute('aria-expanded', String(!list.hidden));
  hooks.text = list.hidden ? null : () => sync(api);
  shown = null;
  sync(api);
}
