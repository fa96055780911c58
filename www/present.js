// Presenter mode (?present, the Present button, or P) and the captions of embed mode (?embed).
// Loaded on demand. Presenter mode: full screen on request, large type, a guided caption per
// step (captions.js), and clicker keys: PageDown / space / → the next key step of the story
// (www/story.js), PageUp / ← the previous one, ↓ / ↑ one step, "." play or pause, Home / End
// first / last step, F full screen, Esc or P leaves. The bar shows the PF's state and the store's
// size; at the end the caption sums the story up.
import { captionAt } from './captions.js';
import { closingSummary, stateName } from './story.js';
import { ensureCss } from './lazy-css.js';

let bar = null;
let keys = null;

/** Draw the caption of the current playhead into #caption (text only). */
export function renderCaption(api) {
  const { state, $ } = api;
  const box = $('caption');
  if (!state.trace) return;
  const c = captionAt(state.trace, state.cursor, state.description);
  const p = (cls, text) => {
    const e = document.createElement('p');
    e.className = cls;
    e.textContent = text;
    return e;
  };
  const parts = [];
  if (c.situation) parts.push(p('cap-situation', c.situation));
  if (c.story) {
    parts.push(p('cap-key', c.story.titles.join(' · ')));
    parts.push(p('cap-changed', c.story.changed));
    for (const q of c.story.cites) {
      const e = p(q.policy ? 'cap-cr policy' : 'cap-cr', q.policy ? `Open question ${q.text}` : `${q.pre ? 'Before the CR' : 'The CR'}: “${q.text}”`);
      e.dataset.cite = q.policy ? `policy:${q.policy}` : q.sentence;
      parts.push(e);
    }
  }
  parts.push(p('cap-head', c.head));
  if (c.note) parts.push(p('cap-note', c.note));
  if (c.cites.length) parts.push(p(`cap-cites${c.policy ? ' policy' : ''}`, `Why: ${c.cites.join(' · ')}`));
  if (state.cursor >= state.trace.steps.length && state.trace.steps.length) parts.push(p('cap-closing', closingSummary(state.trace, state.compare ? state.alt : null)));
  box.replaceChildren(...parts);
  const strip = document.getElementById('present-status');
  if (strip) {
    const s = state.trace.steps[state.cursor - 1];
    strip.textContent = `PF: ${stateName(s ? s.pf_state : state.trace.pf_states?.[0]?.state)} · store: ${s ? s.queue_len : 0} · step ${state.cursor} / ${state.trace.steps.length}`;
  }
  box.dataset.step = c.step == null ? '' : String(c.step);
  box.hidden = false;
}

function isTyping(t) {
  const tag = t.tagName;
  return tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable || (tag === 'INPUT' && !['radio', 'checkbox', 'button', 'range'].includes(t.type));
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
  else document.documentElement.requestFullscreen?.().catch(() => {});
}

export async function enter(api, { fullscreen = false } = {}) {
  const { state, hooks } = api;
  if (state.present) return;
  if (fullscreen) toggleFullscreen(); // while the key press or click still counts as a gesture
  await ensureCss();
  if (state.present) return;
  state.present = true;
  document.documentElement.classList.add('present');
  api.applyLarge();
  bar = document.createElement('header');
  bar.className = 'present-bar';
  const title = document.createElement('h1');
  title.className = 'present-title';
  title.textContent = state.scenario?.title || '';
  const hint = document.createElement('span');
  hint.className = 'present-hint';
  hint.textContent = 'PageDown / space: next key step · PageUp: back · ↓ ↑: one step · “.”: play · Esc: leave';
  const status = document.createElement('span');
  status.id = 'present-status';
  status.className = 'present-status';
  const fs = document.createElement('button');
  fs.type = 'button';
  fs.textContent = 'Full screen';
  fs.addEventListener('click', toggleFullscreen);
  const leave = document.createElement('button');
  leave.type = 'button';
  leave.id = 'present-exit';
  leave.textContent = 'Leave presenter mode';
  leave.addEventListener('click', () => exit(api));
  bar.append(title, status, hint, fs, leave);
  document.body.prepend(bar);
  hooks.cursor = () => renderCaption(api);
  renderCaption(api);
  keys = api.guard((e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    const onButton = e.target.tagName === 'BUTTON' || e.target.tagName === 'SUMMARY';
    let act = null;
    switch (e.key) {
      case 'PageDown':
      case 'ArrowRight':
        act = api.keyNext;
        break;
      case 'ArrowDown':
        act = api.stepNext;
        break;
      case ' ':
      case 'Enter':
        if (!onButton) act = api.keyNext;
        break;
      case 'PageUp':
      case 'ArrowLeft':
      case 'Backspace':
        act = api.keyPrev;
        break;
      case 'ArrowUp':
        act = api.stepPrev;
        break;
      case '.':
        act = () => (state.playing ? api.pause() : api.play());
        break;
      case 'Home':
      case 'End':
        act = () => api.stepTo(e.key === 'Home' ? 0 : state.trace.steps.length);
        break;
      case 'f':
      case 'F':
        act = toggleFullscreen;
        break;
      case 'Escape':
      case 'p':
      case 'P':
        act = () => exit(api);
        break;
      default:
    }
    if (!act) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    act();
  });
  document.addEventListener('keydown', keys, true);
  api.ladder.scroll.focus({ preventScroll: true });
}

export function exit(api) {
  const { state, hooks, $ } = api;
  if (!state.present) return;
  state.present = false;
  document.removeEventListener('keydown', keys, true);
  keys = null;
  bar?.remove();
  bar = null;
  hooks.cursor = null;
  $('caption').hidden = true;
  document.documentElement.classList.remove('present');
  api.applyLarge();
  if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
  $('present').focus();
}

/** Embed mode: captions under the ladder and a link to the full explorer. */
export async function embed(api) {
  const { state, hooks, $ } = api;
  await ensureCss();
  const head = document.createElement('header');
  head.className = 'embed-bar';
  const title = document.createElement('h1');
  title.className = 'embed-title';
  title.textContent = state.scenario?.title || '';
  const open = document.createElement('a');
  const where = location.hash.startsWith('#s=') ? location.hash : state.preset ? `?preset=${encodeURIComponent(state.preset)}` : '';
  open.href = location.href.replace(/[?#].*$/, '') + where;
  open.target = '_blank';
  open.rel = 'noopener';
  open.textContent = 'Open in the explorer ↗';
  head.append(title, open);
  document.body.prepend(head);
  // A small iframe (640×400): narrower lanes, so the whole ladder fits across (extra.css gives
  // the rows the height: no legend, a short caption).
  if (innerWidth < 760) api.ladder.setGeometry({ ...api.ladder.geom, minLaneGap: 88, gutter: 58 });
  hooks.cursor = () => renderCaption(api);
  renderCaption(api);
  void $;
}
