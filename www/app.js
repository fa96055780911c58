// The explorer page: wires the engine, the pure view model and the renderers together.
// All user text goes into the DOM through textContent / .value, never as markup.
import { loadEngine, loadFirstView, EngineCrash } from './engine.js';
import {
  GEOM, cursorAt, queueAt, rosterCompare, pfStateAt, firstDifference, summaryCounts, fmtMs, fmtDur,
  advance, memberNames,
} from './viewmodel.js';
import {
  EVENT_KINDS, newEvent, addEvent, updateEvent, deleteEvent, setPolicy, membersOf, describeEvent, scenarioJson,
} from './scenario.js';
import { Ladder, stateClass, setAttr } from './ladder.js';
import { Timeline, SYMBOL, COLOR } from './timeline.js';
import { nextStop, prevStop, stateName, findSid, stepSentence, announce, closingSummary } from './story.js';

/** The saved timeline (www/storage.js: localStorage, IndexedDB when too big, other tabs), loaded at start. */
let saver = null;
// Page modes from the query: ?embed (for iframes), ?present, ?preset=NAME, &autoplay.
const params = new URLSearchParams(location.search);
const MODE = { embed: params.has('embed'), present: params.has('present'), autoplay: params.has('autoplay'), preset: params.get('preset') || '' };
if (MODE.embed) document.documentElement.classList.add('embed');
const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;
const $ = (id) => document.getElementById(id);
const h = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && k !== 'list') e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
};
const other = (r) => (r === 'post-cr' ? 'pre-cr' : 'post-cr');

const state = {
  engine: null,
  presets: [],
  catalogue: [],
  preset: '',
  scenario: null,
  rules: 'post-cr',
  compare: false,
  trace: null,
  alt: null,
  comparison: null,
  error: null,
  cursor: 0,
  t: 0,
  playing: false,
  speed: 1,
  hideFuture: false,
  sel: null, // { side: 'main'|'alt', step, chat }
  selEvent: null,
  large: false,
  theme: null,
  history: null, // www/history.js, loaded at start
  dragBase: null,
  timings: { run: 0, render: 0 },
  drawn: null, // { scenario, selEvent, rules, compare } of the trace drawn (what a cancelled big run gives back)
  long: null, // the big run under way (rerunLong, www/longrun.js), or null
  // false in embed mode, and after opening a share link until the first edit: neither may
  // overwrite the user's own saved timeline.
  persist: !MODE.embed,
  fromLink: false,
  present: false,
  description: '',
  filters: [], // ids of filters.js FILTERS in force
  zoom: null, // the timeline's zoom window { from, to } in ms (zoom.js), null: the whole timeline
  view: null, // the main ladder's filtered rows (filters.js filterRows), null without filters
};
/** Called with no argument after every playhead or trace change (captions of presenter/embed). */
const hooks = { cursor: null, text: null, cr: null, lead: null };

let ladder;
let altLadder;
let timeline;

// ---------------------------------------------------------------- persistence
function save() {
  if (!state.persist || !saver) return;
  saver.save().catch(report);
}
/**
 * Save after the redraw: an edit re-runs and redraws at once, and the write to localStorage
 * (~1 ms for a 1,000-event scenario) follows once the frame is out. A page that is hidden or
 * closed first, or an engine crash, writes at once (flushSave), so no edit is lost.
 */
let saveQueued = false;
function saveSoon() {
  if (saveQueued) return;
  saveQueued = true;
  const later = () => setTimeout(flushSave, 0);
  if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(later);
  else later();
}
function flushSave() {
  if (!saveQueued) return;
  saveQueued = false;
  save();
}
addEventListener('pagehide', flushSave);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') flushSave();
});

/** The view now belongs to the user (first edit after opening a link): save from now on. */
function adopt() {
  if (!state.fromLink) return;
  state.fromLink = false;
  state.persist = !MODE.embed;
  const q = new URLSearchParams(location.search);
  q.delete('preset');
  history.replaceState(null, '', location.pathname + (q.size ? `?${q}` : '').replace(/=(&|$)/g, '$1'));
}
// ---------------------------------------------------------------- banners
/** sessionStorage: the last engine panic of this tab, { msg, atStart } (see fatal). */
const CRASH_KEY = 'cpm-deferral-explorer:crash';
function fatal(msg) {
  state.playing = false;
  saveQueued = false;
  save();
  const b = $('banner');
  b.className = 'banner';
  // An engine panic on the start-up run (the saved timeline itself) would come back at every
  // reload: the next start then holds the saved timeline (download or discard) and shows a preset.
  const saved = !!state.long?.opening?.saved; // the saved timeline's run, in the worker (storage.js)
  if (state.engine?.crashed || saved) {
    try {
      sessionStorage.setItem(CRASH_KEY, JSON.stringify({ msg: String(msg).slice(0, 300), atStart: saved || document.documentElement.dataset.ready !== 'yes' }));
    } catch {}
  }
  $('banner-text').textContent = `The engine stopped: ${msg}. Your timeline is saved in this browser: Reload starts the page again with it, `
    + 'and should the engine stop on it again as the page starts, the next reload shows a preset and keeps your timeline, untouched, to download or discard.';
  if (!$('banner-download') && state.scenario) {
    $('banner-reload').before(h('button', { type: 'button', id: 'banner-download', text: 'Download this timeline',
      onclick: () => import('./files.js').then((m) => m.saveScenario(state.scenario)).catch(report) }));
  }
  $('banner-reload').hidden = false;
  $('banner-close').hidden = true;
  b.hidden = false;
}
/** A message the user can dismiss (bad link, bad file, export limits); '' hides it. */
function notice(msg) {
  const b = $('banner');
  if (!msg) {
    if (b.classList.contains('notice')) b.hidden = true;
    return;
  }
  b.className = 'banner problem notice';
  $('banner-download')?.remove();
  // Values in messages are cut where they are made; this bounds what is left (a file name).
  $('banner-text').textContent = msg.length > 1200 ? `${msg.slice(0, 1200)}…` : msg;
  $('banner-reload').hidden = true;
  $('banner-close').hidden = false;
  b.hidden = false;
}
function problem(msg) {
  const b = $('banner');
  if (!msg) {
    if (b.classList.contains('problem')) b.hidden = true;
    return;
  }
  b.className = 'banner problem';
  $('banner-download')?.remove();
  $('banner-text').textContent = `This timeline cannot run: ${msg}`;
  $('banner-reload').hidden = true;
  $('banner-close').hidden = true;
  b.hidden = false;
}
function guard(fn) {
  return (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof EngineCrash) fatal(e.message);
      else throw e;
    }
  };
}

// ---------------------------------------------------------------- engine runs
/**
 * Re-run the engine on the current scenario and redraw everything. A big timeline (more than
 * FAST_EVENTS events, once one is drawn) runs off the page's thread (www/longrun.js): this
 * returns PENDING at once, after the engine's check (`checked`: the file's text was checked
 * already), and the run is drawn when it is done (see rerunLong). `sync` keeps it here (a share
 * link's view needs its trace at once).
 */
function rerun({ keepTime = true, sync = false, hook = null, checked = false, view = null, file = null } = {}) {
  if (!state.engine.canRun(state.over ? state.over(state.scenario) : state.scenario)) return deferRerun(keepTime);
  if (!sync && state.trace && state.engine.isBig(state.scenario)) return rerunLong(keepTime, hook, checked, view, file);
  if (state.long) dropLong();
  const t0 = performance.now();
  let trace;
  let alt = null;
  let comparison = null;
  // A tour stop's policies apply to its run only (tour.js).
  const sc = state.over ? state.over(state.scenario) : state.scenario;
  if (state.compare) {
    const r = state.engine.runBoth(sc);
    if (r.error) return showError(r.error);
    trace = state.rules === 'post-cr' ? r.post : r.pre;
    alt = state.rules === 'post-cr' ? r.pre : r.post;
    comparison = r.comparison;
  } else {
    trace = state.engine.run(sc, state.rules);
    if (trace.error) return showError(trace.error);
  }
  applyRun(trace, alt, comparison, keepTime, t0, performance.now());
  return true;
}
/**
 * A first visit draws the first preset without the engine (www/engine.js loadFirstView); a run
 * it does not hold (another preset, a change of the timeline) is made once the engine has
 * loaded, of what is current then: one run for any number of asks meanwhile. Answers true (the
 * change is kept, its run follows); if the engine does not load, the drawn view comes back.
 */
function deferRerun(keepTime) {
  const d = state.deferred;
  if (d) {
    d.keepTime &&= keepTime;
    return true;
  }
  const w = (state.deferred = { keepTime });
  $('stepinfo').textContent = 'Loading the engine…';
  announce('Loading the engine…');
  state.engine.loadFirst().then(guard(() => {
    if (state.deferred !== w) return;
    state.deferred = null;
    rerun({ keepTime: w.keepTime });
  }), (e) => {
    if (state.deferred !== w) return;
    state.deferred = null;
    const drawn = state.drawn;
    state.scenario = drawn.scenario;
    state.rules = drawn.rules;
    state.compare = drawn.compare;
    state.preset = drawn.preset;
    state.selEvent = drawn.selEvent;
    document.querySelector(`input[name="rules"][value="${state.rules}"]`).checked = true;
    $('compare').checked = state.compare;
    $('preset').value = state.preset || '';
    const p = state.presets.find((x) => x.name === state.preset);
    if (p) setDescription(p.description);
    save();
    drawAll();
    drawEditor();
    notice(`This change was not made: the engine did not load (${String(e && e.message ? e.message : e).slice(0, 200)}). Reload the page and try again.`);
  });
  return true;
}
/**
 * Draw a run's trace(s): the scenario, rules and view they were made of become the drawn ones.
 * `later` (a big run, longrun.js): the panels other than the ladder are drawn in the task it
 * gives (a promise), so that no one task draws everything; the answer is then that promise.
 */
function applyRun(trace, alt, comparison, keepTime, t0, t1, later = null) {
  state.error = null;
  problem(null);
  state.trace = trace;
  state.alt = alt;
  state.comparison = comparison;
  if (!keepTime) state.t = 0;
  state.t = Math.min(state.t, trace.end_ms);
  state.cursor = cursorAt(trace.steps, state.t);
  reselect();
  state.drawn = { scenario: state.scenario, selEvent: state.selEvent, rules: state.rules, compare: state.compare, preset: state.preset };
  const drawn = drawAll(later);
  const timed = () => (state.timings = { run: t1 - t0, render: performance.now() - t1 });
  return drawn ? drawn.then(timed) : timed();
}

// ---------------------------------------------------------------- big runs (issue 13, item 9)
/** What rerun answers for a run started off the page's thread (www/longrun.js draws it). */
const PENDING = 'pending';
const longUse = (f) => import('./longrun.js').then(f).catch(report);
/**
 * Start the run of a big timeline off the page's thread, once the engine's check has passed.
 * state.long is the run under way: `base` the drawn state (what Cancel gives back), `record`
 * whether an edit is in it, `hooks` what Cancel must also undo (an undo's move in the history).
 */
function rerunLong(keepTime, hook, checked, view, file) {
  // The engine's check is part of the run, in the worker: a refusal comes back from there
  // (longrun.js), and until then nothing draws or saves the unchecked scenario (`unchecked`).
  const L = (state.long ||= { base: { ...state.drawn, ...(view || { t: state.t, sel: state.sel }) }, record: false, keepTime: true, hooks: [] });
  L.unchecked = !checked;
  L.file = file; // a file's text, run (and so checked) as written; its refusal names the file
  if (hook) L.hooks.push(hook);
  L.keepTime &&= keepTime;
  const job = { json: file ? file.text : null, scenario: state.scenario, rules: state.rules, both: state.compare, events: state.scenario.events.length };
  L.token = job; // the newest run of L: an older one's answer is dropped
  longUse((m) => state.long === L && L.token === job && m.begin(api, L, job));
  document.documentElement.dataset.run = 'running';
  return PENDING;
}
/** A newer, small run replaced the big one under way: it is ended, nothing is given back. */
function dropLong() {
  const L = state.long;
  state.long = null;
  longUse((m) => m.cancelQuietly(L));
  document.documentElement.dataset.run = 'dropped';
}
const revertLong = (msg) => longUse((m) => m.revert(api, msg));
function showError(msg) {
  state.error = msg;
  problem(msg);
  // Nothing the engine refused is drawn: the timeline keeps the last checked scenario.
  return false;
}

/**
 * Apply an edit: re-run, record undo, save. An edit the engine refuses (an event at 1e13 ms, say)
 * is not made: the previous scenario stays, drawn and saved as it was, and the refusal is
 * returned (the engine's own message, as `check` gives it) for the editor to show.
 */
function edit(next, opts = {}) {
  // A scenario the first module cannot run (a policy other than its default, say) waits for the
  // second module (www/engine.js needsSecond); the edit is made once it is there, unless another
  // change came first. The Policies panel has started loading it when it opened.
  // So does any change on a first visit before the engine itself has loaded (loadFirstView).
  if (state.engine?.waits?.(next)) {
    const base = state.scenario;
    const first = !state.engine.canRun(next);
    state.engine.ensure(next).then(guard((m) => {
      if (state.scenario !== base) return notice('This change was not made: the timeline changed while the engine module for it was loading.');
      if (!m) {
        drawPolicies();
        return notice(first
          ? 'This change was not made: the engine (pkg/) did not load. Reload the page and try again.'
          : 'This change was not made: the engine module that runs it (pkg/export/) did not load. Reload the page and try again.');
      }
      edit(next, opts);
    }));
    return null;
  }
  return editNow(next, opts);
}
function editNow(next, { record = true, selEvent, sync = false, checked = false, fresh = false, file = null } = {}) {
  const prev = state.scenario;
  const prevSel = state.selEvent;
  const view = { t: state.t, sel: state.sel, selEvent: prevSel }; // what a cancelled big run gives back
  if (fresh) {
    // A new timeline (a file): from its start, nothing selected.
    state.sel = null;
    state.t = 0;
  }
  state.scenario = next;
  if (selEvent !== undefined) state.selEvent = selEvent;
  const ran = rerun({ sync, checked, view, file });
  if (!ran) {
    const msg = state.error;
    state.scenario = prev;
    state.selEvent = prevSel;
    state.t = view.t;
    state.sel = view.sel;
    // A big timeline is not run again: it is drawn already, or its run is under way.
    if (prev && !state.engine.isBig(prev)) rerun();
    else {
      state.error = null;
      problem(null);
    }
    notice(`This change was not made: ${msg}`);
    return msg;
  }
  if (ran === PENDING) {
    // Made when the run is done (an undo step, a save); Cancel gives back the drawn timeline.
    state.long.record ||= record;
    drawEditor();
    return null;
  }
  adopt();
  unPreset();
  if (record && prev) state.history.push(prev, next);
  saveSoon();
  drawEditor();
  updateUndo();
  return null;
}

// ---------------------------------------------------------------- drawing
function drawAll(later = null) {
  setText($('title'), state.scenario?.title || '');
  const cmp = state.compare && state.alt;
  let d = null;
  if (cmp) {
    // The engine's comparison names the first step that differs (same index in both traces).
    const fd = state.comparison?.first_difference;
    d = fd ? { a: Math.min(fd.index, state.trace.steps.length - 1), b: Math.min(fd.index, state.alt.steps.length - 1), at_ms: fd.at_ms }
      : state.comparison && 'first_difference' in state.comparison ? null : firstDifference(state.trace, state.alt);
  }
  const selMain = state.sel?.side === 'main';
  ladder.atStart = state.t <= 0;
  ladder.view = state.view = viewFor(state.trace);
  altLadder.view = cmp ? viewFor(state.alt) : null;
  ladder.update(state.trace, {
    cursor: state.cursor, selected: selMain ? state.sel.step : null, chat: selMain ? state.sel.chat : null, diff: d ? d.a : null,
  });
  for (const id of ['pane-alt', 'pane-main-title', 'compare-head']) if ($(id).hidden !== !cmp) $(id).hidden = !cmp;
  if (cmp) {
    $('pane-main-title').textContent = `${state.rules} (${state.rules === 'post-cr' ? 'with the CR' : 'before the CR'})`;
    $('pane-alt-title').textContent = `${other(state.rules)} (${other(state.rules) === 'post-cr' ? 'with the CR' : 'before the CR'})`;
    altLadder.update(state.alt, {
      cursor: cursorAt(state.alt.steps, state.t), selected: state.sel?.side === 'alt' ? state.sel.step : null, diff: d ? d.b : null,
    });
    drawCompareHead(d);
  }
  const panels = [drawTimeline, drawPlayer, drawQueue, drawInspector, drawSummary, drawPolicyMark, () => {
    if (hooks.tour) hooks.tour();
    else if (state.scenario.tour) tourUse((m) => m.attach(api));
  }];
  // A big run's panels: a task each (`later` gives the next one).
  if (later) return panels.reduce((p, f) => p.then(later).then(() => f()), Promise.resolve());
  for (const f of panels) f();
}
/** Tours (tour.js, on use). */
// A tour runs its stops on the engine: on a first visit it is loaded first.
const tourUse = (fn) => state.engine.loadFirst().then(() => import('./tour.js')).then(fn).catch(report);

function drawTimeline() {
  const names = state.trace ? memberNames(state.trace) : new Map();
  const sc = state.long?.unchecked ? state.drawn.scenario : state.scenario;
  for (const m of membersOf(sc)) names.set(m.id, m.name);
  timeline.set({
    events: sc.events,
    names,
    pfStates: state.trace?.pf_states || [],
    endMs: state.trace?.end_ms || 0,
    selected: state.selEvent,
  });
}

// Writes that leave the page as it is when nothing changed: rewriting a text, even with the same
// string, replaces its text node and makes the next frame lay the player out again.
const setText = (e, text) => {
  if (e.textContent !== text) e.textContent = text;
};
function drawPlayer() {
  const tr = state.trace;
  if (!tr) return;
  const scrub = $('scrub');
  const max = String(Math.max(1, tr.end_ms));
  if (scrub.max !== max) scrub.max = max;
  const value = String(Math.round(state.t));
  if (scrub.value !== value) scrub.value = value;
  setAttr(scrub, 'aria-valuetext', fmtMs(state.t));
  setText($('clock'), fmtMs(state.t));
  setText($('stepinfo'), `step ${state.cursor} / ${tr.steps.length}`);
  // At the end of the story: what was stored, delivered and lost (both rule sets when comparing).
  const end = tr.steps.length > 0 && state.cursor >= tr.steps.length;
  if (end) setText($('closing'), closingSummary(tr, state.compare ? state.alt : null));
  if ($('closing').hidden === end) $('closing').hidden = !end;
  const st = pfStateAt(tr, state.cursor);
  const pf = $('pfstate');
  setText(pf, `PF: ${stateName(st)}`);
  const cls = `pfstate ${stateClass(st)}`;
  if (pf.className !== cls) pf.className = cls;
  const play = $('play');
  setText(play, state.playing ? '⏸' : '▶');
  setAttr(play, 'aria-label', state.playing ? 'Pause' : 'Play');
  setAttr(play, 'aria-pressed', String(state.playing));
  timeline.setTime(state.t);
  if (tr.notesMissing && (hooks.cursor || hooks.text || hooks.cr)) needNotes();
  hooks.cursor?.();
  hooks.text?.();
  hooks.cr?.();
  hooks.lead?.();
  hooks.host?.();
}

/** Rows of the store panel drawn at most (the front of the queue). */
const QUEUE_ROWS = 200;

/**
 * The store panel's rows are kept between draws, one per message (for the trace they were made
 * for): a playhead move only changes the rows whose state changed and adds or removes the rows
 * that entered or left the front of the store. Rebuilding all of them (up to 201 grid rows) made
 * every playhead move lay out the whole list again, about 10 ms at 10,000 messages.
 */
const queueView = { trace: null, rows: new Map(), more: null, count: '', roster: '' };

const span = (cls, text) => {
  const e = document.createElement('span');
  e.className = cls;
  e.textContent = text;
  return e;
};
function queueRow(r) {
  let v = queueView.rows.get(r.chat);
  if (!v) {
    // Built directly (not through h()): a jump into a full store makes 200 of these at once.
    const li = document.createElement('li');
    li.tabIndex = 0;
    li.dataset.chat = r.chat;
    const chip = span('chip', r.state);
    li.append(span('from', r.fromName), span('text', r.text), chip,
      span('when', `stored at ${fmtMs(r.stored_ms)}${r.possible_duplicate ? ' · possible duplicate (re-sent)' : ''}`));
    v = { li, chip, row: r, state: null, selected: null };
    queueView.rows.set(r.chat, v);
  }
  v.row = r;
  if (v.state !== r.state) {
    v.state = r.state;
    v.li.dataset.state = r.state;
    v.li.setAttribute('aria-label', `${r.fromName}: ${r.text}, ${r.state}`);
    v.chip.className = `chip ${r.state.replace(' ', '-')}`;
    v.chip.textContent = r.state;
  }
  return v;
}

/**
 * Make list's children exactly `want` with as few DOM changes as possible: drop what is not
 * wanted, then insert the missing rows in place (both lists are in the store's order, so the rows
 * that stay need no move). With nothing in common, one replaceChildren.
 */
function placeRows(list, want) {
  const wanted = new Set(want);
  const drop = [];
  for (let c = list.firstElementChild; c; c = c.nextElementSibling) if (!wanted.has(c)) drop.push(c);
  if (drop.length === list.childElementCount) {
    if (drop.length || want.length) list.replaceChildren(...want);
    return;
  }
  for (const c of drop) c.remove();
  let at = list.firstElementChild;
  let run = null; // consecutive new rows go in together
  for (const li of want) {
    if (at === li) {
      if (run) list.insertBefore(run, at);
      run = null;
      at = at.nextElementSibling;
    } else {
      (run ||= document.createDocumentFragment()).append(li);
    }
  }
  if (run) list.insertBefore(run, at);
}

function drawQueue() {
  const tr = state.trace;
  const q = queueAt(tr, state.cursor);
  const count = `${q.waiting} waiting (${q.stored} stored, ${q.inFlight} in flight) · ${q.delivered} delivered`;
  if (count !== queueView.count) {
    queueView.count = count;
    $('queue-count').textContent = count;
    $('queue').dataset.waiting = String(q.waiting);
  }
  if (queueView.trace !== tr) {
    queueView.trace = tr;
    queueView.rows.clear();
    queueView.roster = '';
  }
  const selChat = state.sel?.side === 'main' ? state.sel.chat : null;
  // The front of the store is what matters (it is delivered first); with thousands waiting,
  // building a row for each on every playhead move would cost more than the whole ladder.
  let shown = q.rows;
  let more = 0;
  let extra = null;
  if (shown.length > QUEUE_ROWS) {
    more = shown.length - QUEUE_ROWS;
    shown = shown.slice(0, QUEUE_ROWS);
    extra = (selChat != null && q.rows.find((r, i) => i >= QUEUE_ROWS && r.chat === selChat)) || null;
  }
  const want = [];
  const keep = new Set();
  const add = (r) => {
    const v = queueRow(r);
    const sel = r.chat === selChat;
    if (v.selected !== sel) {
      v.selected = sel;
      v.li.className = sel ? 'selected' : '';
    }
    want.push(v.li);
    keep.add(r.chat);
  };
  for (const r of shown) add(r);
  if (more) {
    queueView.more ||= h('li', { class: 'more muted' });
    const text = `… and ${more} more waiting behind these (they leave the store in this order)`;
    if (queueView.more.textContent !== text) queueView.more.textContent = text;
    want.push(queueView.more);
  }
  if (extra) add(extra);
  // Rows that left the front are forgotten (they are made again if they come back).
  if (queueView.rows.size > keep.size) for (const k of queueView.rows.keys()) if (!keep.has(k)) queueView.rows.delete(k);
  placeRows($('queue'), want);
  $('queue-empty').hidden = want.length > 0;

  const rc = rosterCompare(tr, state.cursor);
  const key = JSON.stringify(rc.rows);
  if (key === queueView.roster) return;
  queueView.roster = key;
  const rows = rc.rows.map((r) => h('tr', { class: r.differs ? 'differs' : '' },
    h('td', { text: r.name }), h('td', { text: r.pf ?? '—' }), h('td', { text: r.client ?? '—' })));
  if (!rows.length) rows.push(h('tr', {}, h('td', { colSpan: 3, class: 'muted', text: 'No roster yet.' })));
  $('roster').replaceChildren(...rows);
}

/** After a re-run: the selected step by its identity (step.sid), or a note that it is gone. */
function reselect() {
  const sel = state.sel;
  if (!sel || sel.gone) return;
  const tr = sel.side === 'alt' ? state.alt : state.trace;
  const steps = tr?.steps || [];
  if (!sel.sid) {
    if (steps[sel.step]) sel.sid = steps[sel.step].sid;
    else state.sel = null;
    return;
  }
  if (steps[sel.step]?.sid === sel.sid) return;
  const i = findSid(tr, sel.sid);
  if (i >= 0) sel.step = i;
  else state.sel = { gone: sel.what };
}

function currentStep() {
  if (!state.sel || state.sel.gone) return null;
  const tr = state.sel.side === 'alt' ? state.alt : state.trace;
  return tr?.steps[state.sel.step] ? { tr, s: tr.steps[state.sel.step] } : null;
}

function drawInspector() {
  const cur = currentStep();
  setText($('insp-empty'), state.sel?.gone ? `The step you were inspecting (${state.sel.gone}) is no longer in the ladder after this change.` : 'Click an arrow or a stored message.');
  $('insp-empty').hidden = !!cur;
  $('insp-body').hidden = !cur;
  if (!cur) return;
  const { tr, s } = cur;
  const lane = (id) => tr.lanes.find((l) => l.id === id)?.label || id;
  const route = s.from === s.to ? lane(s.from) : `${lane(s.from)} → ${lane(s.to)}`;
  const proto = s.protocol === 'none' ? '' : `${s.protocol} `;
  $('insp-head').textContent = `#${s.index} · ${fmtMs(s.at_ms)}${s.arrive_ms !== s.at_ms ? `–${fmtMs(s.arrive_ms)}` : ''} · ${route} · ${proto}${s.kind === 'state' ? stateName(s.label) : s.label}${s.dropped ? ' · never arrived' : ''}`;
  $('insp-note').textContent = !tr.notesMissing ? s.note || '' : tr.notesAsk?.failed ? 'The explanation could not be loaded.' : 'Loading the explanation…';
  if (tr.notesMissing) needNotes();
  const chips = (s.clauses || []).map((c) => {
    const pol = c.startsWith('policy:');
    // A clause of §8.3.2.9's text is a button: it opens the CR panel at its sentence.
    if (CR_CLAUSES.includes(c)) return h('button', { type: 'button', class: 'clause cr', text: c, title: 'Show this sentence in the CR text', onclick: () => openCr(c, s) });
    const rd = c.startsWith('reading:');
    return h('span', { class: `clause${pol || rd ? ' pol' : ''}`, text: pol ? `${c} (not in the CR)` : rd ? `${c} (our reading, not the CR's text)` : c });
  });
  if (s.policy && !chips.some((c) => c.classList.contains('pol'))) chips.push(h('span', { class: 'clause pol', text: 'policy (not in the CR)' }));
  chips.push(h('span', { class: 'clause', text: `PF after: ${stateName(s.pf_state)} · store: ${s.queue_len}` }));
  if (s.key !== undefined) chips.unshift(h('span', { class: 'clause key', text: `Key step: ${s.key}` }));
  const hid = tr === state.trace && filtersMod?.hiddenBy(state.view, s.index);
  if (hid) chips.push(h('span', { class: 'clause', text: `hidden in the ladder by the filter “${hid}”` }));
  $('insp-clauses').replaceChildren(...chips);
  const pre = $('insp-raw');
  const show = (raw) => {
    pre.textContent = raw ? raw.replace(/\r\n/g, '\n') : '(internal step: nothing on the wire)';
    pre.dataset.raw = raw ? 'yes' : 'no';
  };
  const raw = s.protocol === 'none' ? '' : state.engine.raw(tr.rules, s.index);
  if (typeof raw === 'string') return show(raw);
  // Not at hand: the first wasm module has no wire texts (the second one, loaded on the first
  // ask, has), and a big run's worker writes its text on request (a moment).
  const ask = (pre.ask = {});
  pre.textContent = 'Loading the wire text…';
  pre.dataset.raw = 'loading';
  state.engine.rawOf(state.scenario, tr.rules, s.index).then(
    (r) => pre.ask === ask && show(r),
    (e) => {
      if (e instanceof EngineCrash) return fatal(e.message);
      if (pre.ask !== ask) return;
      pre.textContent = `The wire text could not be loaded: ${e.message || e}`;
      pre.dataset.raw = 'no';
    },
  );
}

/**
 * The notes of the traces drawn. The first wasm module records steps without them (Cargo
 * feature `note-text`); the inspector, a ladder arrow's tooltip, the CR panel, presenter
 * captions and the Text version ask for them here, the second module gives them (loaded on the
 * first ask), and what shows them is drawn again. A promise of true once they are there.
 */
function needNotes() {
  const trs = [state.trace, state.alt].filter((t) => t && t.notesMissing);
  if (!trs.length) return Promise.resolve(true);
  const scenario = state.scenario;
  // Only the first ask for a trace draws again when it is answered (no loop when it fails).
  const fresh = trs.some((t) => !t.notesAsk);
  return Promise.all(trs.map((t) => state.engine.notesFor(t, scenario))).then((ok) => {
    if (fresh && (trs.includes(state.trace) || trs.includes(state.alt))) {
      ladder.render(true);
      if (state.compare) altLadder.render(true);
      drawInspector();
      drawPlayer();
    }
    return ok.every(Boolean);
  }, (e) => {
    if (e instanceof EngineCrash) fatal(e.message);
    return false;
  });
}

const CR_CLAUSES = ['8.3.2.9', '8.2.2.3', '8.2.2.6.2'];
function openCr(c, s) {
  Promise.all([import('./crpanel.js'), import('./cr-text.js'), needNotes()])
    .then(([p, t]) => p.show(api, c === '8.2.2.3' ? 'bye' : c === '8.2.2.6.2' ? 'subscribe' : t.sentenceFor(s) || 'remain')).catch(report);
}

let compareMod = null;
let compareD = null;
/** The compare view's counts and first difference (www/compare.js, loaded when first shown). */
function drawCompareHead(d) {
  compareD = d;
  if (compareMod) return compareMod.drawHead(api, d);
  import('./compare.js').then((m) => {
    compareMod = m;
    if (state.compare && state.alt) m.drawHead(api, compareD);
  }).catch(report);
}

let zoomMod = null;
function zoomUse(fn) {
  if (zoomMod) return fn(zoomMod);
  return import('./zoom.js').then((m) => {
    if (!zoomMod) m.attachPinch(api);
    zoomMod = m;
    fn(m);
  }).catch(report);
}

// ---------------------------------------------------------------- filters (filters.js, on use)
let filtersMod = null;
/** The ladder's rows with the filters in force, or null (filters.js is loaded the first time). */
function viewFor(tr) {
  if (!tr || !state.filters.length) return null;
  if (filtersMod) return filtersMod.filterRows(tr, state.filters);
  import('./filters.js').then((m) => {
    filtersMod = m;
    state.filters = m.cleanFilters(state.filters);
    drawAll();
  }).catch(report);
  return null;
}
function setFilters(ids) {
  state.filters = filtersMod ? filtersMod.cleanFilters(ids) : ids;
  save();
  drawAll();
}

/** An edited preset is the user's own timeline now: the picker says so (and does after a reload). */
function unPreset() {
  if (!state.preset) return;
  const p = state.presets.find((x) => x.name === state.preset);
  state.preset = '';
  $('preset').value = '';
  setDescription(p ? `Your timeline, edited from the preset “${presetTitle(p)}”.` : '');
}
const presetTitle = (p) => {
  try {
    return JSON.parse(p.json).title || p.name;
  } catch {
    return p.name;
  }
};

/** The main page shows when a policy other than the default is in force (Policies button). */
function drawPolicyMark() {
  setText($('filter-mark'), state.filters.length ? `${state.filters.length} on` : '');
  const n = (state.trace?.policies || []).filter((p) => p.value !== p.default).length;
  const mark = $('policy-mark');
  setText(mark, n ? `${n} changed` : '');
  if (mark.hidden === !!n) mark.hidden = !n;
  setAttr($('policies').querySelector('summary'), 'title', n ? `${n} polic${n === 1 ? 'y is' : 'ies are'} not at the default` : 'All policies at their defaults');
}

function drawSummary() {
  const parts = summaryCounts(state.trace).map(([k, v]) => `${k} ${v}`);
  $('summary').textContent = `${state.trace.rules}: ${parts.join(' · ')}`;
}

// ---------------------------------------------------------------- event editor
let editorMod = null;
/** The event editor (www/editor.js, loaded when an event is first selected). */
function drawEditor() {
  const box = $('editor');
  if (state.selEvent == null || !state.scenario.events[state.selEvent]) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  if (editorMod) return editorMod.draw(api);
  import('./editor.js').then((m) => {
    editorMod = m;
    drawEditor();
  }).catch(report);
}

function deleteSelected(i = state.selEvent) {
  if (i == null) return;
  edit(deleteEvent(state.scenario, i), { selEvent: null });
}

// ---------------------------------------------------------------- selection & time
function selectStep(side, step, chat = null, reveal = false) {
  const tr = side === 'alt' ? state.alt : state.trace;
  if (!tr || step == null || !tr.steps[step]) return;
  const s = tr.steps[step];
  state.sel = { side, step, chat: chat ?? s.chat ?? null, sid: s.sid, what: `#${step} ${s.label}` };
  // Scroll before drawing: the ladder then draws once, for where it ends up.
  if (reveal) (side === 'alt' ? altLadder : ladder).scrollToRow(step);
  ladder.setSelected(side === 'main' ? step : null, side === 'main' ? state.sel.chat : null);
  if (altLadder && state.alt) altLadder.setSelected(side === 'alt' ? step : null, null);
  timeline.setLinked(new Set(s.event != null ? [s.event] : []));
  drawQueue();
  drawInspector();
}

function setTime(t, follow = true) {
  const tr = state.trace;
  if (!tr) return;
  state.t = Math.max(0, Math.min(t, tr.end_ms));
  const c = cursorAt(tr.steps, state.t);
  const changed = c !== state.cursor;
  state.cursor = c;
  if (changed) moveLadders(c, follow && c > 0);
  if (changed) drawQueue();
  drawPlayer();
}
function setCursor(c) {
  const tr = state.trace;
  c = Math.max(0, Math.min(c, tr.steps.length));
  state.t = c > 0 ? tr.steps[c - 1].at_ms : 0;
  state.cursor = c;
  moveLadders(c, true, true);
  drawQueue();
  drawPlayer();
}
/**
 * The ladders' cursors to c (the other rules' ladder: to the same time), scrolled to follow it.
 * Both ladders scroll before either draws, and nothing here reads layout, so a playhead move
 * costs one style + layout per frame (the browser's own), not one per ladder write.
 */
function moveLadders(c, follow, followAlt = follow) {
  const ca = state.alt ? cursorAt(state.alt.steps, state.t) : 0;
  if (follow) ladder.scrollToRow(Math.max(0, c - 1));
  ladder.atStart = state.t <= 0;
  if (state.alt && followAlt) altLadder.scrollToRow(Math.max(0, ca - 1));
  ladder.setCursor(c);
  if (state.alt) altLadder.setCursor(ca);
}
/** Move the playhead to cursor c by a discrete step (button, key): select and announce it. */
function stepTo(c) {
  pause();
  setCursor(c);
  if (state.cursor > 0) selectStep('main', state.cursor - 1);
  announce(stepSentence(state.trace, state.cursor));
}
const stepNext = () => stepTo(Math.min(state.cursor + 1, state.trace.steps.length));
const stepPrev = () => stepTo(Math.max(0, state.cursor - 1));
/** The next / previous key step of the story (src/story.rs, www/story.js). */
const keyNext = () => stepTo(nextStop(state.trace, state.cursor));
const keyPrev = () => stepTo(prevStop(state.trace, state.cursor));

function setRules(r) {
  adopt();
  state.rules = r;
  document.querySelector(`input[name="rules"][value="${r}"]`).checked = true;
  state.sel = null;
  save();
  rerun();
}

// ---------------------------------------------------------------- playback
let rafId = 0;
let lastFrame = 0;
function play() {
  if (state.playing || !state.trace) return;
  if (state.t >= state.trace.end_ms) setTime(0);
  state.playing = true;
  lastFrame = performance.now();
  rafId = requestAnimationFrame(frame);
  drawPlayer();
}
function pause() {
  if (!state.playing) return;
  state.playing = false;
  cancelAnimationFrame(rafId);
  drawPlayer();
  save();
}
function frame(now) {
  if (!state.playing) return;
  const dt = Math.min(250, now - lastFrame) * state.speed;
  lastFrame = now;
  const t = advance(state.trace.steps, state.t, dt, 1500 * state.speed);
  setTime(t);
  if (state.t >= state.trace.end_ms) {
    pause();
    return;
  }
  rafId = requestAnimationFrame(frame);
}

// ---------------------------------------------------------------- controls
function updateUndo() {
  $('undo').disabled = !state.history.canUndo();
  $('redo').disabled = !state.history.canRedo();
}
function undo() {
  // Undo (or redo) while a big run is under way takes back what that run was for.
  if (state.long) return revertLong('The run was cancelled (undo): the timeline is as it was before the change.');
  const s = state.history.undo(state.scenario);
  if (!s) return;
  adopt();
  state.scenario = s;
  state.selEvent = null;
  save();
  rerun({ hook: () => state.history.redo(s) });
  drawEditor();
  updateUndo();
}
function redo() {
  if (state.long) return revertLong('The run was cancelled (redo): the timeline is as it was before the change.');
  const s = state.history.redo(state.scenario);
  if (!s) return;
  adopt();
  state.scenario = s;
  state.selEvent = null;
  save();
  rerun({ hook: () => state.history.undo(s) });
  drawEditor();
  updateUndo();
}

function loadPreset(name, record = true) {
  const p = state.presets.find((x) => x.name === name);
  if (!p) return;
  if (record) adopt();
  state.preset = name;
  $('preset').value = name;
  setDescription(p.description);
  const sc = JSON.parse(p.json);
  if (record && state.scenario) state.history.push(state.scenario);
  state.scenario = sc;
  state.selEvent = null;
  state.sel = null;
  state.t = 0;
  save();
  rerun({ keepTime: false });
  drawEditor();
  drawPolicies();
  updateUndo();
}

let policiesMod = null;
/** The policy pickers (www/policies.js), drawn when the Policies panel is first opened. */
function drawPolicies() {
  if (policiesMod) return policiesMod.draw(api);
  if (!$('policies').open) return;
  import('./policies.js').then((m) => {
    policiesMod = m;
    m.draw(api);
  }).catch(report);
}

function buildPalette() {
  const pal = $('palette');
  let drag = null;
  let suppress = false;
  for (const k of EVENT_KINDS) {
    const b = h('button', { type: 'button', 'data-kind': k.kind, title: `${k.hint}. Drag onto the timeline, or click to add at the playhead.` },
      h('span', { class: 'sym', text: `${SYMBOL[k.kind]} ` }), document.createTextNode(k.label));
    b.style.borderColor = COLOR[k.kind];
    b.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      drag = { kind: k.kind, x: e.clientX, y: e.clientY, moved: false, ghost: null };
      b.setPointerCapture?.(e.pointerId);
    });
    b.addEventListener('pointermove', (e) => {
      if (!drag) return;
      if (!drag.moved && Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < 4) return;
      drag.moved = true;
      if (!drag.ghost) {
        drag.ghost = h('div', { class: 'ghost', text: `${SYMBOL[k.kind]} ${k.label}` });
        document.body.append(drag.ghost);
      }
      drag.ghost.style.left = `${e.clientX + 8}px`;
      drag.ghost.style.top = `${e.clientY + 8}px`;
    });
    const end = guard((e) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      d.ghost?.remove();
      if (!d.moved) return;
      suppress = true;
      if (e.type === 'pointerup' && timeline.contains(e.clientX, e.clientY)) addAt(k.kind, timeline.tAt(e.clientX));
    });
    b.addEventListener('pointerup', end);
    b.addEventListener('pointercancel', end);
    b.addEventListener('click', guard(() => {
      if (suppress) {
        suppress = false;
        return;
      }
      addAt(k.kind, state.t);
    }));
    pal.append(b);
  }
}
function addAt(kind, t) {
  const ev = newEvent(kind, Math.round(t / 10) * 10, state.scenario);
  const r = addEvent(state.scenario, ev);
  edit(r.scenario, { selEvent: r.index });
}

function onKey(e) {
  const tag = e.target.tagName;
  const typing = tag === 'TEXTAREA' || tag === 'SELECT' || e.target.isContentEditable
    || (tag === 'INPUT' && !['radio', 'checkbox', 'button'].includes(e.target.type));
  const mod = e.ctrlKey || e.metaKey;
  if (mod && (e.key === 'z' || e.key === 'Z')) {
    if (typing && e.target.type === 'text') return; // let text fields undo their own typing
    e.preventDefault();
    if (e.shiftKey) redo();
    else undo();
    return;
  }
  if (mod && (e.key === 'y' || e.key === 'Y')) {
    e.preventDefault();
    redo();
    return;
  }
  if (e.key === 'Escape' && $('policies').open) {
    // Also from inside the panel (its selects count as typing).
    $('policies').open = false;
    $('policies').querySelector('summary').focus();
    return;
  }
  if (typing || mod || e.altKey) return;
  // Space toggles a focused checkbox itself (the IMS core fold, the filters), it does not play.
  const onButton = tag === 'BUTTON' || tag === 'SUMMARY' || e.target.getAttribute?.('role') === 'button' || (tag === 'INPUT' && e.target.type === 'checkbox');
  switch (e.key) {
    case ' ':
    case 'Spacebar':
      if (onButton) return;
      e.preventDefault();
      state.playing ? pause() : play();
      break;
    case '.':
      e.preventDefault();
      state.playing ? pause() : play();
      break;
    case 'ArrowRight':
    case 'PageDown':
      e.preventDefault();
      (e.shiftKey ? keyNext : stepNext)();
      break;
    case 'ArrowLeft':
    case 'PageUp':
      e.preventDefault();
      (e.shiftKey ? keyPrev : stepPrev)();
      break;
    case 'Home':
      if (e.target.closest?.('.ladder-scroll')) return;
      e.preventDefault();
      stepTo(0);
      break;
    case 'End':
      if (e.target.closest?.('.ladder-scroll')) return;
      e.preventDefault();
      stepTo(state.trace.steps.length);
      break;
    case 'Escape':
      state.selEvent = null;
      drawEditor();
      drawTimeline();
      for (const d of [$('file-menu'), $('policies'), $('filters')]) {
        if (!d.open) continue;
        d.open = false;
        d.querySelector('summary').focus();
      }
      break;
    case 'p':
    case 'P':
      if (MODE.embed || onButton) return;
      e.preventDefault();
      togglePresent();
      break;
    default:
  }
}

function applyTheme() {
  const dark = state.theme ? state.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}
function applyLarge() {
  const on = state.large || state.present; // presenter mode is always large type
  document.documentElement.classList.toggle('large', on);
  $('large').setAttribute('aria-pressed', String(state.large));
  const g = on ? { ...GEOM, rowH: 34, minLaneGap: 170, gutter: 96, charW: state.present ? 10.6 : 9.2 } : GEOM;
  ladder.setGeometry(g);
  altLadder.setGeometry(g);
  timeline.draw();
}

// ---------------------------------------------------------------- share, files, exports, presenter
// Rarely used code lives in modules loaded on first use (dynamic import), so the first page
// load stays small: share.js, files.js, exports.js, present.js, fallback.js.

function setDescription(text) {
  state.description = text || '';
  $('preset-caption').textContent = state.description;
}

/** Share links (share.js): the link of this view; open the link in location.hash. */
async function shareLink() {
  return (await import('./share.js')).linkOf(api);
}
async function share() {
  pause();
  (await import('./share.js')).share(api, $('share'));
}
async function openShareLink(fallbackText) {
  return (await import('./share.js')).openLink(api, fallbackText);
}

/** Open a scenario file (picker or drop): checked, then loaded as an undoable edit (files.js). */
function openFile(file) {
  if (file) import('./files.js').then((m) => m.openFile(api, file)).catch(report);
}
function report(e) {
  if (e instanceof EngineCrash) fatal(e.message);
  else notice(String(e && e.message ? e.message : e));
}

/** Drop a scenario file anywhere on the page. */
function setupDrop() {
  const files = (e) => e.dataTransfer?.types.includes('Files');
  const show = (on) => document.documentElement.classList.toggle('dropping', on);
  document.addEventListener('dragover', (e) => {
    if (!files(e)) return;
    e.preventDefault();
    show(true);
  });
  document.addEventListener('dragleave', (e) => e.relatedTarget || show(false));
  document.addEventListener('drop', (e) => {
    if (!files(e)) return;
    e.preventDefault();
    show(false);
    openFile(e.dataTransfer.files[0]);
  });
}

async function exportAs(kind) {
  $('file-menu').open = false;
  pause();
  const m = await import('./exports.js');
  const msg = await m.exportAs(kind, api);
  notice(msg || '');
}

let presenter = null;
async function togglePresent(on = !state.present) {
  presenter ||= await import('./present.js');
  // The captions read the steps' notes (from the second module, needNotes): wait for them a
  // moment, not so long that the click no longer counts for full screen.
  if (on) await Promise.race([needNotes(), new Promise((r) => setTimeout(r, 1500))]);
  if (on) presenter.enter(api, { fullscreen: true });
  else presenter.exit(api);
}

/** What the lazy modules may use. */
const api = {
  state, MODE, hooks, $, h, fmtMs, needNotes, stepNext, stepPrev, keyNext, keyPrev, stepTo, play, pause, setCursor, applyLarge, notice, guard,
  reducedMotion, togglePresent, rerun, edit, selectStep, scenarioJson, EngineCrash, setDescription, drawEditor, drawPolicies, drawPlayer,
  drawQueue, updateUndo, setFilters, save, saveSoon, applyRun, problem, drawAll, drawTimeline, adopt, unPreset, fatal, report,
  deleteSelected, setTime, setRules,
  setZoom: (z) => zoomUse((m) => m.set(api, z)),
  get timeline() {
    return timeline;
  },
  get ladder() {
    return ladder;
  },
  get altLadder() {
    return altLadder;
  },
  canvasLimit: null, // tests lower it to exercise the PNG split
};

// ---------------------------------------------------------------- start
async function main() {
  $('banner-reload').addEventListener('click', () => location.reload());
  // The store panel's rows select their step (click, Enter): one listener for all of them.
  const pickRow = (e) => {
    const li = e.target.closest?.('li[data-chat]');
    const v = li && queueView.rows.get(Number(li.dataset.chat));
    if (!v || v.li !== li) return;
    if (e.type === 'keydown') {
      if (e.key !== 'Enter') return;
      e.preventDefault();
    }
    guard(() => selectStep('main', v.row.step, v.row.chat, true))();
  };
  $('queue').addEventListener('click', pickRow);
  $('queue').addEventListener('keydown', pickRow);
  $('banner-close').addEventListener('click', () => notice(''));
  ladder = new Ladder($('pane-main'), { label: 'Ladder', onSelect: guard((i, chat) => selectStep('main', i, Number.isNaN(chat) ? null : chat)) });
  altLadder = new Ladder($('pane-alt'), { label: 'Ladder under the other rules', onSelect: guard((i) => selectStep('alt', i)) });
  // An arrow's tooltip shows the step's note: hovering or focusing a ladder asks for them.
  for (const p of ['pane-main', 'pane-alt']) for (const ev of ['pointerover', 'focusin']) $(p).addEventListener(ev, () => state.trace?.notesMissing && needNotes());
  timeline = new Timeline($('timeline'), {
    onScrub: guard((t, done) => {
      pause();
      setTime(t);
      if (done) save();
    }),
    onSelect: guard((i) => {
      state.selEvent = i;
      drawEditor();
      timeline.setSelected(i);
      const idx = state.trace?.steps.findIndex((s) => s.event === i) ?? -1;
      if (idx >= 0) selectStep('main', idx, null, true);
    }),
    onMove: guard((i, t, done) => {
      if (!state.dragBase) state.dragBase = state.scenario;
      const r = updateEvent(state.dragBase, i, { at_ms: t });
      if (!done) {
        state.scenario = r.scenario;
        // A big timeline runs at the drop only (each run takes longer than a frame).
        if (state.engine.isBig(state.scenario)) drawTimeline();
        else rerun();
        return;
      }
      const base = state.dragBase;
      state.dragBase = null;
      state.scenario = base;
      edit(r.scenario, { selEvent: r.index });
      timeline.focusMarker(r.index);
    }),
    onDelete: guard((i) => deleteSelected(i)),
  });
  buildPalette();

  // An embedded page starts from its link or preset only, never from the visitor's own timeline.
  // Loaded next to the engine (dynamic imports, fetched at once): the undo history and the store.
  const [{ History }, storage] = await Promise.all([import('./history.js'), import('./storage.js')]);
  state.history = new History();
  saver = storage.keeper(api);
  const saved = MODE.embed ? null : await saver.read();
  state.theme = saved?.settings.theme ?? null;
  state.large = !!saved?.settings.large;
  applyTheme();
  matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', applyTheme);

  // A first visit (no saved timeline, no share link, no tour; a ?preset= link, an embed or the
  // presenter of one is one) draws its preset from the engine's answers made at build time and
  // loads the engine on the first input, or in embed and presenter mode when a change needs it
  // (www/engine.js loadFirstView; issue 10's initial page); any other start loads it now.
  const firstVisit = !saved && !location.hash && [...params.keys()].every((k) => FIRST_VIEW_PARAMS.includes(k));
  try {
    state.engine = firstVisit ? await loadFirstView(MODE.preset) : await loadEngine();
  } catch (e) {
    // No WebAssembly here (a host's CSP, a browser setting): the pre-rendered ladder instead.
    const why = String(e && e.message ? e.message : e);
    try {
      const fb = await import('./fallback.js');
      await fb.showFallback({ $, h, MODE, why });
      document.documentElement.dataset.ready = 'fallback';
    } catch (e2) {
      fatal(`the WebAssembly module did not load (${why}); run scripts/build-wasm.sh`);
    }
    return;
  }
  try {
    $('version').textContent = `engine ${state.engine.version()}`;
    state.presets = state.engine.presets();
    state.catalogue = state.engine.policies();
  } catch (e) {
    if (e instanceof EngineCrash) return fatal(e.message);
    throw e;
  }
  if (!state.engine.mod) document.documentElement.dataset.engine = 'first-view';
  if (!state.engine.mod && !MODE.embed && !MODE.present) {
    // The first input of any kind starts the download: the run it may ask for is then near.
    const soon = () => {
      for (const ev of INTENT) window.removeEventListener(ev, soon, true);
      state.engine.loadFirst().catch((e) => console.warn(`cpm-deferral: the engine did not load yet (${e && e.message ? e.message : e})`));
    };
    for (const ev of INTENT) window.addEventListener(ev, soon, { capture: true, passive: true });
  }
  const sel = $('preset');
  sel.append(h('option', { value: '', text: '(your timeline)' }));
  for (const p of state.presets) sel.append(h('option', { value: p.name, text: presetTitle(p), title: p.description }));
  sel.addEventListener('change', guard(() => sel.value && loadPreset(sel.value)));

  document.querySelectorAll('input[name="rules"]').forEach((r) => r.addEventListener('change', guard(() => setRules(r.value))));
  $('compare').addEventListener('change', guard(() => {
    adopt();
    state.compare = $('compare').checked;
    state.sel = null;
    save();
    rerun();
  }));
  $('undo').addEventListener('click', guard(undo));
  $('redo').addEventListener('click', guard(redo));
  $('play').addEventListener('click', guard(() => (state.playing ? pause() : play())));
  $('next').addEventListener('click', guard(stepNext));
  $('prev').addEventListener('click', guard(stepPrev));
  $('next-key').addEventListener('click', guard(keyNext));
  $('prev-key').addEventListener('click', guard(keyPrev));
  $('speed').addEventListener('change', () => {
    state.speed = Number($('speed').value);
    save();
  });
  $('scrub').addEventListener('input', guard(() => {
    pause();
    setTime(Number($('scrub').value));
  }));
  $('hidefuture').addEventListener('change', () => {
    state.hideFuture = $('hidefuture').checked;
    ladder.setHideFuture(state.hideFuture);
    altLadder.setHideFuture(state.hideFuture);
  });
  $('large').addEventListener('click', guard(() => {
    state.large = !state.large;
    applyLarge();
    save();
  }));
  $('theme').addEventListener('click', () => {
    state.theme = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    applyTheme();
    save();
  });
  $('copy').addEventListener('click', async () => {
    const text = state.sel ? await state.engine.rawOf(state.scenario, (state.sel.side === 'alt' ? state.alt : state.trace).rules, state.sel.step).catch(() => '') : '';
    try {
      await navigator.clipboard.writeText(text);
      $('copy').textContent = 'Copied';
    } catch {
      const r = document.createRange();
      r.selectNodeContents($('insp-raw'));
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      $('copy').textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => ($('copy').textContent = 'Copy'), 1500);
  });
  $('share').addEventListener('click', () => share().catch(report));
  $('open-file').addEventListener('click', () => {
    $('file-menu').open = false;
    $('file-input').click();
  });
  $('file-input').addEventListener('change', () => {
    openFile($('file-input').files[0]);
    $('file-input').value = '';
  });
  $('save-file').addEventListener('click', () => {
    $('file-menu').open = false;
    import('./files.js').then((m) => m.saveScenario(state.scenario)).catch(report);
  });
  for (const b of document.querySelectorAll('[data-export]')) b.addEventListener('click', () => exportAs(b.dataset.export).catch(report));
  document.addEventListener('click', (e) => {
    for (const d of [$('file-menu'), $('policies'), $('filters')]) if (d.open && !d.contains(e.target)) d.open = false;
  });
  $('present').addEventListener('click', () => togglePresent().catch(report));
  $('judge-open').addEventListener('click', () => {
    $('file-menu').open = false;
    import('./judge.js').then((m) => m.open(api)).catch(report);
  });
  $('tour-edit').addEventListener('click', () => {
    $('file-menu').open = false;
    tourUse((m) => m.openEditor(api));
  });
  $('text-toggle').addEventListener('click', () => import('./textview.js').then((m) => m.toggle(api)).catch(report));
  // Timeline zoom (zoom.js, loaded on first use): wheel / pinch, the buttons, + − 0 on the timeline.
  $('timeline').addEventListener('wheel', (e) => {
    e.preventDefault();
    zoomUse((m) => m.wheel(api, e));
  }, { passive: false });
  $('timeline').addEventListener('keydown', (e) => {
    if (['+', '=', '-', '_', '0'].includes(e.key) && !e.ctrlKey && !e.metaKey) zoomUse((m) => m.key(api, e));
  });
  $('zoom-in').addEventListener('click', () => zoomUse((m) => m.zoomBy(api, 0.5)));
  $('zoom-out').addEventListener('click', () => zoomUse((m) => m.zoomBy(api, 2)));
  $('zoom-fit').addEventListener('click', () => zoomUse((m) => m.set(api, null)));
  if (matchMedia('(pointer: coarse)').matches) zoomUse(() => {});
  $('policies').addEventListener('toggle', () => $('policies').open && drawPolicies());
  $('filters').addEventListener('toggle', () => {
    if ($('filters').open) import('./filters.js').then((m) => { filtersMod = m; m.drawList(api); }).catch(report);
  });
  $('cr-toggle').addEventListener('click', () => import('./crpanel.js').then((m) => m.toggle(api)).catch(report));
  if (!MODE.embed) setupDrop();
  document.addEventListener('keydown', guard(onKey));
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) pause();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#s=')) openShareLink('The page is as it was.').catch(report);
  });

  // Start from: a share link in the fragment; else ?preset=NAME; else the user's saved
  // timeline; else the first preset.
  // The saved record is checked like a file (settings in storage.js, the scenario by the engine);
  // one that cannot be opened is kept, untouched, until the user downloads or discards it.
  let good = null;
  let crashed = null;
  try {
    crashed = JSON.parse(sessionStorage.getItem(CRASH_KEY) || 'null');
    sessionStorage.removeItem(CRASH_KEY);
  } catch {}
  if (saved?.scenario) await state.engine.prepare(saved.scenario); // a tour: the second module checks it
  if (saved) {
    const stopped = crashed?.atStart && `the engine stopped on it as the page last started (${String(crashed.msg).slice(0, 200)})`;
    // A big one is checked by its run, in the worker (storage.js open).
    const why = saved.problem || stopped || (saved.scenario && !state.engine.isBig(saved.scenario) && saver.check(saved.scenario));
    if (why) saver.refuse({ ...saved, problem: saved.problem || stopped || `its scenario is not valid: ${why}` });
    else good = saved;
  }
  state.rules = saved?.settings.rules ?? 'post-cr';
  document.querySelector(`input[name="rules"][value="${state.rules}"]`).checked = true;
  state.compare = !!saved?.settings.compare;
  $('compare').checked = state.compare;
  state.speed = saved?.settings.speed ?? 1;
  // Filters: the saved ones, or those of the link (?filter=msrp-200,provisional: embeds too).
  state.filters = params.has('filter') ? params.get('filter').split(',') : MODE.embed ? [] : saved?.settings.filters ?? [];
  $('speed').value = String(state.speed);
  if (state.large) applyLarge();
  const start = () => {
    const preset = state.presets.find((p) => p.name === MODE.preset);
    if (preset) {
      // Like a share link: a ?preset= link does not replace the saved timeline until an edit.
      state.persist = false;
      state.fromLink = true;
      loadPreset(preset.name, false);
    } else if (good) {
      // A big saved timeline runs in the worker: a preset underneath meanwhile, never saved over
      // it; the page is ready once it is drawn (or cancelled, or refused).
      if (state.engine.isBig(good.scenario)) {
        state.persist = false;
        loadPreset(state.presets[0]?.name, false);
      }
      return saver.open(good, false);
    } else {
      loadPreset(state.presets[0]?.name, false);
    }
    if (MODE.preset && !preset) notice(`There is no preset called “${MODE.preset.slice(0, 80)}”.`);
  };
  try {
    let opened = false;
    if (location.hash.startsWith('#s=')) {
      start(); // a working page underneath, in case the link is bad
      opened = await openShareLink(good && !MODE.embed ? 'Showing your own saved timeline instead (it is unchanged).' : 'Showing a preset instead.');
    } else {
      await start();
    }
    void opened;
    updateUndo();
  } catch (e) {
    if (e instanceof EngineCrash) return fatal(e.message);
    throw e;
  }
  if (MODE.embed || MODE.present) {
    presenter = await import('./present.js');
    await needNotes();
    if (MODE.embed) presenter.embed(api);
    else presenter.enter(api, { fullscreen: false });
  }
  if (params.has('tour')) await tourUse((m) => m.play(api, 0));
  // A first visit: one line of what this is and where to start (lead.js, shown once).
  if (!MODE.embed && !MODE.present && !location.hash && !params.has('tour')) {
    let seen = true;
    try {
      seen = localStorage.getItem('cpm-deferral-explorer:lead-seen') === '1';
    } catch { /* no storage: no lead */ }
    if (!seen) await import('./lead.js').then((m) => m.show(api)).catch(report);
  }
  document.documentElement.dataset.ready = 'yes';
  // Framed: the host control API (host.js, docs/host-api.md).
  if (window.parent !== window) await import('./host.js').then((m) => m.start(api)).catch(report);
  if (MODE.autoplay && state.trace) {
    if (reducedMotion()) notice('Autoplay is off because your system asks for reduced motion: press Play (▶) to start.');
    else play();
  }
}

/** The link parameters of a start that may be a first view (the others need the engine at once). */
const FIRST_VIEW_PARAMS = ['preset', 'embed', 'present', 'filter', 'autoplay'];
/** The inputs after which a first view loads the engine (the pointer, keys, focus, a dropped file). */
const INTENT = ['pointerdown', 'keydown', 'focusin', 'touchstart', 'wheel', 'dragenter'];

// Hooks for the browser tests and the benchmark (not used by the page itself).
window.__explorer = {
  state,
  /** Loads the engine now (a first visit loads it on the first input): resolves true once it is there. */
  engineLoaded: () => state.engine.loadFirst().then(() => true),
  get ladder() {
    return ladder;
  },
  get timeline() {
    return timeline;
  },
  /** Client x of a time on the timeline (for drag tests). */
  timelineX(t) {
    return timeline.svg.getBoundingClientRect().left + timeline.x(t);
  },
  /** The edit path of a drag's drop, synchronously: returns { run, render } in ms. */
  benchMove(i, t) {
    const r = updateEvent(state.scenario, i, { at_ms: t });
    edit(r.scenario, { selEvent: null, sync: true });
    return state.timings;
  },
  /** Open a scenario as an edit, run on this thread whatever its size (tests read the trace at once). */
  load(scenario) {
    edit(scenario, { sync: true });
  },
  /** Resolves when every save asked for so far has been written (or refused). */
  async settled() {
    flushSave();
    await saver?.store.queue;
  },
  /** The share link of the current view (a promise). */
  shareLink,
  api,
  panic: guard(() => state.engine.debugPanic()),
  describe: (ev) => describeEvent(ev),
  fmtDur,
};

main().catch((e) => fatal(String(e && e.message ? e.message : e)));
