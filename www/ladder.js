// SVG ladder renderer. Draws only the rows in view (plus a margin), so an 8,000-step trace costs
// the same per frame as a 40-step one. Text always goes in as text nodes (never markup).
import { buildLadder, visibleRows, overlapping, fmtMs, fmtDur, GEOM } from './viewmodel.js';
import { stateName } from './story.js';

const NS = 'http://www.w3.org/2000/svg';
let uid = 0;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
/** Set an attribute only when its value changes (a write of the same value still dirties style). */
export function setAttr(e, name, value) {
  const v = String(value);
  if (e.getAttribute(name) !== v) e.setAttribute(name, v);
}
function text(parent, x, y, str, attrs) {
  const t = el('text', { x, y, ...attrs }, parent);
  t.textContent = str;
  return t;
}
const stateClass = (s) => {
  const v = String(s || '');
  if (/^Deliver|^Replay/i.test(v)) return 'st-Delivering';
  if (/^Defer/i.test(v)) return 'st-Deferred';
  if (/^Left/i.test(v)) return 'st-Left';
  if (/^End/i.test(v)) return 'st-Ended';
  if (/^Idle|^Inviting/i.test(v)) return 'st-Idle';
  return 'st-Active';
};
export { stateClass };

/**
 * Put `frag`'s nodes into `group` in place of its children, keeping every child that is equal to
 * its new counterpart (isEqualNode: names, attributes, text): an unchanged drawing stays in the
 * DOM as it is, so the browser has nothing to restyle or lay out again, and a changed one (a
 * moved marker) replaces only the nodes that changed.
 */
export function replaceIfChanged(group, frag) {
  const a = group.childNodes;
  const b = [...frag.childNodes];
  if (a.length !== b.length) {
    group.replaceChildren(frag);
    return;
  }
  for (let i = 0; i < b.length; i++) if (!a[i].isEqualNode(b[i])) group.replaceChild(b[i], a[i]);
}

export class Ladder {
  /**
   * @param {HTMLElement} host  element to fill
   * @param {{onSelect?: (i:number)=>void, label?: string}} opts
   */
  constructor(host, opts = {}) {
    this.opts = opts;
    this.id = `lad${uid++}`;
    this.geom = GEOM;
    this.scroll = document.createElement('div');
    this.scroll.className = 'ladder-scroll';
    this.scroll.tabIndex = 0;
    this.scroll.setAttribute('role', 'region');
    this.scroll.setAttribute('aria-label', opts.label || 'Ladder');
    host.appendChild(this.scroll);
    this.head = el('svg', { class: 'ladder-head', height: 44, 'aria-hidden': 'true' }, this.scroll);
    this.body = el('svg', { class: 'ladder-body', role: 'img', 'aria-label': 'Sequence diagram' }, this.scroll);
    const defs = el('defs', null, this.body);
    for (const k of ['sip', 'msrp', 'sel']) {
      const m = el('marker', { id: `${this.id}-ah-${k}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: `ah-${k}` }, m);
    }
    this.gBack = el('g', null, this.body);
    this.gRows = el('g', null, this.body);
    // Under the step rows: timers and store links (a few, drawn anew each time). The step rows
    // are kept between renders (see placeRows): an edit, a scrub or a scroll rebuilds only the
    // rows whose drawing changed, so the browser restyles and lays out only those.
    this.gOver = el('g', null, this.gRows);
    this.gSteps = el('g', null, this.gRows);
    /** The step rows in the DOM, in row order: `{ key, cls, g, nodes }` (see placeRows). */
    this.units = [];
    this.playhead = el('line', { class: 'playhead', x1: 0, x2: 0, y1: 0, y2: 0 }, this.body);
    this.trace = null;
    this.model = null;
    this.cursor = 0;
    this.selected = null;
    this.selectedChat = null;
    this.diff = null;
    this.hideFuture = false;
    /** A filtered row view (filters.js filterRows), or null for one row per step. */
    this.view = null;
    /** The playhead is at the very start (t = 0): nothing is drawn faded yet (set by the page). */
    this.atStart = false;
    this.width = 0;
    /** The ResizeObserver has reported the sizes (width, viewH): setTrace need not read them. */
    this.sized = false;
    // What the renderer needs of the layout, kept here so that moving the cursor reads no layout
    // (a read after the page's own DOM writes forces a synchronous style + layout): the head's
    // height (drawHead sets it), the viewport's height (setTrace and the ResizeObserver) and the
    // scroll position (our own writes; the scroll handler's render reads it after a scroll).
    this.headH = 44;
    this.viewH = 0;
    this.top = 0;
    this._readTop = false;
    this._drawn = null; // what the last render drew (rows, cursor, selection, diff): same again → skipped
    this._raf = 0;
    this.lastRender = { rows: 0, ms: 0 };
    this.scroll.addEventListener('scroll', () => {
      this._readTop = true;
      this.schedule();
    }, { passive: true });
    this.body.addEventListener('click', (e) => {
      const g = e.target.closest('[data-step]');
      if (g && this.opts.onSelect) this.opts.onSelect(Number(g.dataset.step), Number(g.dataset.chat ?? NaN));
    });
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(() => {
        // Called after layout: these reads cost nothing.
        // These sizes are the ones setTrace and render use from now on (sized).
        const w = this.scroll.clientWidth || 900;
        const h = this.scroll.clientHeight;
        const widened = Math.abs(w - this.width) > 2;
        const resized = h !== this.viewH;
        this.width = w;
        this.viewH = h;
        this.sized = true;
        this.top = this.scroll.scrollTop;
        this._readTop = false;
        if (this.trace && widened) this.setTrace(this.trace);
        else if (resized) this.render();
      }).observe(this.scroll);
    }
  }

  setGeometry(g) {
    this.geom = g;
    if (this.trace) this.setTrace(this.trace);
  }

  setTrace(trace) {
    this.trace = trace;
    // The sizes come from the ResizeObserver once it has reported (and the scroll position from
    // our own writes and the scroll handler): a read here, after the page's writes of the same
    // edit, would force a synchronous layout. Before that, all layout reads together, before
    // this method writes anything.
    if (!this.sized) {
      this.width = this.scroll.clientWidth || 900;
      this.viewH = this.scroll.clientHeight;
      this.top = this.scroll.scrollTop;
      this._readTop = false;
    } else if (this._readTop) {
      // A scroll not yet drawn: its position, before the writes below.
      this.top = this.scroll.scrollTop;
      this._readTop = false;
    }
    this.model = buildLadder(trace, this.width, this.geom, this.view);
    const m = this.model;
    setAttr(this.body, 'width', m.width);
    setAttr(this.body, 'height', m.height);
    setAttr(this.head, 'width', m.width);
    this.drawHead();
    // A shorter ladder lowers the largest scroll position: the browser clamps it (and says so in
    // a scroll event); draw for the clamped position already.
    this.top = Math.min(this.top, this.maxTop());
    this.render();
  }

  drawHead() {
    const m = this.model;
    const h = document.createDocumentFragment();
    const hh = Math.round(this.geom.rowH * 1.7);
    setAttr(this.head, 'height', hh);
    this.headH = hh;
    el('rect', { class: 'head-bg', x: 0, y: 0, width: m.width, height: hh }, h);
    for (const l of m.lanes) {
      const g = el('g', { class: 'lane-head' }, h);
      const w = Math.min(m.gap - 8, 150);
      el('rect', { x: l.x - w / 2, y: 3, width: w, height: hh - 6, rx: 6 }, g);
      const t = text(g, l.x, hh / 2 - 1, l.label, { 'text-anchor': 'middle' });
      el('title', null, t).textContent = `${l.label} (${l.role})`;
      text(g, l.x, hh / 2 + this.geom.rowH * 0.45, l.role, { 'text-anchor': 'middle', class: 'role' });
    }
    replaceIfChanged(this.head, h);
  }

  /** Set the trace and the view state at once, rendering one time. */
  update(trace, { cursor = 0, selected = null, chat = null, diff = null } = {}) {
    this.cursor = cursor;
    this.selected = selected;
    this.selectedChat = chat;
    this.diff = diff;
    this.setTrace(trace);
  }

  /** Move the cursor and draw (after a scrollToRow: for the new position; nothing when unchanged). */
  setCursor(cursor) {
    this.cursor = cursor;
    this.render();
  }
  setSelected(index, chat = null) {
    this.selected = index;
    this.selectedChat = chat;
    this.render();
  }
  setDiff(index) {
    this.diff = index;
    this.render();
  }
  setHideFuture(on) {
    this.hideFuture = on;
    this.body.classList.toggle('hide-future', on);
    this._drawn = null;
    this.render();
  }

  schedule() {
    if (this._raf) return;
    this._raf = requestAnimationFrame(() => {
      this._raf = 0;
      this.render();
    });
  }

  /** Scroll so that step i is in view (centred when it is out of view), and draw the rows there. */
  reveal(i, center = false) {
    if (this.scrollToRow(i, center)) this.render();
  }

  /**
   * Scroll so that step i is in view (centred when it is out of view) without drawing: returns
   * true when the position changed. Reads no layout; the write itself needs an up-to-date layout,
   * so callers scroll first and draw afterwards (one layout per frame, not one per write).
   */
  scrollToRow(i, center = false) {
    if (!this.model) return false;
    const g = this.geom;
    const n = this.trace.steps.length;
    const y = g.top + (n ? this.model.rowOf(Math.max(0, Math.min(i, n - 1))) : 0) * g.rowH;
    const top = this.top;
    const h = this.viewH - this.headH;
    if (!(center || y < top || y + g.rowH > top + h)) return false;
    const want = Math.round(Math.min(this.maxTop(), Math.max(0, y - (center ? h / 2 : h - 3 * g.rowH))));
    if (want === top) return false;
    this.top = want;
    this.scroll.scrollTop = want;
    return true;
  }

  /** The largest scroll position: the head and the body above the viewport's bottom. */
  maxTop() {
    return this.model ? Math.max(0, this.headH + this.model.height - this.viewH) : 0;
  }

  /** Draw the rows in view; force: even when they are drawn already (the benchmark's timing). */
  render(force = false) {
    if (!this.model) return;
    // After a scroll (the user's, or someone else's write) the position is read once, here: in
    // the animation frame, before this frame's writes.
    if (this._readTop) {
      this._readTop = false;
      this.top = this.scroll.scrollTop;
    }
    const t0 = performance.now();
    const m = this.model;
    const g = this.geom;
    const steps = this.trace.steps;
    const n = m.nRows;
    const rowOf = m.rowOf;
    const headH = this.headH;
    // The sticky head covers the top of the viewport; body y = scrollTop is just below it.
    const top = this.top;
    const viewH = Math.max(0, (this.viewH || 600) - headH);
    const { first, last } = n ? visibleRows(n, top, viewH, g) : { first: 0, last: -1 };
    const y0 = g.top + first * g.rowH;
    const y1 = g.top + (last + 1) * g.rowH;
    const cursor = this.cursor;
    // Nothing to do when the same rows would be drawn the same way again (the scroll event of our
    // own scrollToRow, a cursor move within the same time, …).
    const d = this._drawn;
    if (!force && d && d.m === m && d.first === first && d.last === last && d.cursor === cursor && d.selected === this.selected
      && d.chat === this.selectedChat && d.diff === this.diff && d.atStart === this.atStart) return;
    this._drawn = { m, first, last, cursor, selected: this.selected, chat: this.selectedChat, diff: this.diff, atStart: this.atStart };
    // Before the first step nothing is "future" yet: the whole ladder reads clearly (a first
    // visit does not start on a faded wall); from the first step on, what is to come is faded.
    const fut = this.atStart && !this.hideFuture ? Infinity : cursor;

    // Background: lifelines (full height is fine: 1 element per lane) and the PF band.
    const back = document.createDocumentFragment();
    const selRow = this.selected != null && steps[this.selected] ? rowOf(this.selected) : null;
    if (selRow != null && selRow >= first && selRow <= last) {
      el('rect', { class: 'row-sel', x: 0, y: g.top + selRow * g.rowH, width: m.width, height: g.rowH }, back);
    }
    const diffRow = this.diff != null && steps[this.diff] ? rowOf(this.diff) : null;
    if (diffRow != null && diffRow >= first && diffRow <= last) {
      el('rect', { class: 'row-diff', x: 0, y: g.top + diffRow * g.rowH, width: m.width, height: g.rowH }, back);
    }
    for (const l of m.lanes) el('line', { class: 'lifeline', x1: l.x, x2: l.x, y1: y0, y2: y1 }, back);
    if (m.bandX != null) {
      for (const b of m.bandsIn(first, last)) {
        const by1 = Math.max(b.y1, y0);
        const by2 = Math.min(b.y2, y1);
        const r = el('rect', { class: `band ${stateClass(b.state)}`, x: m.bandX - 5, y: by1, width: 10, height: Math.max(0, by2 - by1) }, back);
        el('title', null, r).textContent = `PF state: ${stateName(b.state)}`;
      }
    }
    replaceIfChanged(this.gBack, back);

    const rows = document.createDocumentFragment();
    if (this.gSteps.parentNode !== this.gRows) {
      // Someone else filled gRows (the benchmark's renderAll): start again from empty.
      this.gRows.replaceChildren(this.gOver, this.gSteps);
      this.gSteps.replaceChildren();
      this.units = [];
    }
    // Timers
    for (const tm of overlapping(m.timers, first, last)) {
      const gt = el('g', { class: `timer${tm.fromStep >= fut ? ' future' : ''}` }, rows);
      el('rect', { x: tm.x - 3, y: tm.y1, width: 6, height: Math.max(2, tm.y2 - tm.y1), rx: 2 }, gt);
      el('line', { class: 'end', x1: tm.x - 6, x2: tm.x + 6, y1: tm.y2, y2: tm.y2 }, gt);
      // The name goes left of the bar, under the arrow line of the first row in view where no
      // note box or arrow label is in its way (arrow labels sit above their line); none free:
      // no name (the tooltip has it).
      const nx2 = tm.x - 6;
      const nx1 = nx2 - tm.name.length * 6.2;
      for (let r = Math.max(tm.fromRow, first); r <= Math.min(tm.toRow, last); r++) {
        if (!this.rowFree(r, nx1, nx2)) continue;
        text(gt, nx2, g.top + r * g.rowH + g.rowH / 2 + 10, tm.name, { 'text-anchor': 'end' });
        break;
      }
      el('title', null, gt).textContent = `${tm.name}: ${fmtMs(tm.start_ms)} → ${fmtMs(tm.end_ms)} (${tm.outcome}) · ${tm.clause}`;
    }
    // Stored → delivered links. Those that only pass through the rows in view (stored above,
    // delivered below) look the same at each of their few x positions, so each position gets
    // one line for all of them: with thousands of messages held (a 10,000-message timeline)
    // this keeps the ladder to a few dozen elements instead of thousands.
    const passing = new Map();
    const through = (x, fromStep, chat) => {
      if (this.selectedChat != null && chat === this.selectedChat) return false;
      const key = `${x}|${fromStep >= fut ? 1 : 0}`;
      const p = passing.get(key) || { x, future: fromStep >= fut, n: 0 };
      p.n++;
      passing.set(key, p);
      return true;
    };
    for (const lk of m.linksIn(first, last, through)) {
      const sel = this.selectedChat != null && lk.chat === this.selectedChat;
      const gl = el('g', { class: `link${sel ? ' selected' : ''}${lk.fromStep >= fut ? ' future' : ''}`, 'data-step': lk.fromStep, 'data-chat': lk.chat }, rows);
      el('line', { x1: lk.x, x2: lk.x, y1: lk.y1, y2: lk.y2 }, gl);
      el('circle', { cx: lk.x, cy: lk.y1, r: 3 }, gl);
      if (!lk.open) el('circle', { cx: lk.x, cy: lk.y2, r: 3 }, gl);
      if (lk.fromRow >= first) text(gl, lk.x + 5, lk.y1 + 4, `held ${fmtDur(lk.heldMs)}`);
      el('title', null, gl).textContent = `message #${lk.chat} held in the PF's store for ${fmtDur(lk.heldMs)} (${lk.outcome})`;
    }
    for (const p of passing.values()) {
      const gl = el('g', { class: `link through${p.future ? ' future' : ''}` }, rows);
      el('line', { x1: p.x, x2: p.x, y1: this.geom.top + first * this.geom.rowH, y2: this.geom.top + (last + 1) * this.geom.rowH }, gl);
      el('title', null, gl).textContent = `${p.n} message${p.n === 1 ? '' : 's'} held in the PF's store across these rows`;
    }
    replaceIfChanged(this.gOver, rows);
    // Step rows: each described by a key of everything its drawing depends on but the "future"
    // class (which a scrub changes on many rows at once, and which is set on the kept row).
    const rowT = (r) => { const x = m.rowStep(r); return typeof x === 'number' ? steps[x].at_ms : steps[x.last].at_ms; };
    let prevT = first > 0 ? rowT(first - 1) : -1;
    const want = [];
    for (let r = first; r <= last; r++) {
      const i = m.rowStep(r);
      if (typeof i !== 'number') {
        const y = g.top + r * g.rowH + g.rowH / 2;
        const key = `h|${i.first}|${i.count}|${i.label}|${y}|${m.width}`;
        want.push({ key, cls: `step hidden-run${i.first >= fut ? ' future' : ''}`, make: () => this.hiddenRun(i, y, m, g) });
        continue;
      }
      const a = m.arrow(i);
      const s = steps[i];
      const showT = s.at_ms !== prevT;
      prevT = s.at_ms;
      let cls = `step ${a.cls} k-${a.kind}`;
      if (a.policy) cls += ' policy';
      if (i === this.selected) cls += ' selected';
      if (a.dropped && !a.internal) cls += ' dropped';
      const key = `${i}|${showT}|${cls}|${a.x1}|${a.x2}|${a.y}|${a.chat}|${a.internal}|${a.dropped}|${a.label}|${m.gap}|${s.at_ms}|${s.from}|${s.to}|${s.protocol}|${s.kind}|${s.label}|${s.dropped}|${s.policy}|${s.note}`;
      if (i >= fut) cls += ' future';
      want.push({ key, cls, make: () => this.stepRow(i, a, s, showT, m, g) });
    }
    this.placeRows(want);

    // Playhead: below the last shown step.
    const py = g.top + (cursor > 0 && steps.length ? rowOf(Math.min(cursor, steps.length) - 1) + 1 : 0) * g.rowH;
    setAttr(this.playhead, 'x1', 0);
    setAttr(this.playhead, 'x2', m.width);
    setAttr(this.playhead, 'y1', py);
    setAttr(this.playhead, 'y2', py);
    this.lastRender = { rows: Math.max(0, last - first + 1), ms: performance.now() - t0 };
  }

  /**
   * Put the rows `want` (in row order: `{ key, cls, make }`) into the step group, keeping every
   * row already there whose key is the same and setting its class; a row is made (`make()`:
   * `{ g, nodes }`) only when its key is new. Kept rows stay where they are in the DOM, so a
   * redraw after an edit away from the view, a scrub or a scroll of a few rows lays out only the
   * rows that changed.
   */
  placeRows(want) {
    const old = new Map();
    for (const u of this.units) old.set(u.key, u);
    const parent = this.gSteps;
    const next = [];
    let ref = parent.firstChild;
    for (const w of want) {
      let u = old.get(w.key);
      if (u) old.delete(w.key);
      else u = { key: w.key, cls: null, ...w.make() };
      if (u.cls !== w.cls) {
        u.g.setAttribute('class', w.cls);
        u.cls = w.cls;
      }
      if (u.nodes[0] === ref) {
        for (let k = 0; k < u.nodes.length; k++) ref = ref.nextSibling;
      } else {
        for (const n of u.nodes) parent.insertBefore(n, ref);
      }
      next.push(u);
    }
    for (const u of old.values()) for (const n of u.nodes) n.remove();
    this.units = next;
  }

  /** A run of steps hidden by a filter: one row with their count; a click selects the first. */
  hiddenRun(i, y, m, g) {
    const gm = el('g', { 'data-step': i.first });
    el('line', { class: 'run', x1: g.gutter, x2: m.width - g.right, y1: y, y2: y }, gm);
    text(gm, m.width / 2, y + 4, `+${i.count} ${i.label}`, { class: 'lbl', 'text-anchor': 'middle' });
    el('title', null, gm).textContent = `${i.count} step${i.count === 1 ? '' : 's'} hidden by a filter (${i.label}): click to inspect the first; the text version lists them all`;
    return { g: gm, nodes: [gm] };
  }

  /** The row of step i (arrow a): its time label when `showT`, and its group. */
  stepRow(i, a, s, showT, m, g) {
    const nodes = [];
    if (showT) nodes.push(text(null, 4, a.y + 4, fmtMs(s.at_ms), { class: 'tlabel' }));
    const gs = el('g', { 'data-step': i });
    nodes.push(gs);
    if (a.chat != null) gs.setAttribute('data-chat', a.chat);
    if (a.internal) {
      // The box fits its text at this type size (geom.charW: px per character); a label longer
      // than the lane gap allows is cut with "…" (the tooltip and the inspector have it whole).
      const cw = g.charW || 6.6;
      const maxW = m.gap * 0.9;
      let label = a.kind === 'state' ? stateName(a.label) : a.label;
      const fit = Math.max(4, Math.floor((maxW - 12) / cw));
      if (label.length > fit) label = `${label.slice(0, fit - 1)}…`;
      const w = Math.min(maxW, Math.max(40, label.length * cw + 12));
      el('rect', { class: 'box', x: a.x1 - w / 2, y: a.y - g.rowH / 2 + 3, width: w, height: g.rowH - 6, rx: 4 }, gs);
      text(gs, a.x1, a.y + 4, label, { class: 'lbl', 'text-anchor': 'middle' });
    } else if (a.dropped) {
      // Sent, never arrives: the arrow stops short of the lane, with a cross and no head.
      const x2 = a.x1 + (a.x2 - a.x1) * 0.6;
      el('line', { class: 'hit', x1: a.x1, x2, y1: a.y, y2: a.y }, gs);
      el('line', { class: 'ln', x1: a.x1, x2, y1: a.y, y2: a.y }, gs);
      text(gs, x2, a.y + 4, '×', { class: 'lost-x', 'text-anchor': 'middle' });
      text(gs, (a.x1 + x2) / 2, a.y - 4, `${a.label} (never arrives)`, { class: 'lbl', 'text-anchor': 'middle' });
    } else {
      const mk = i === this.selected ? 'sel' : a.cls;
      el('line', { class: 'hit', x1: a.x1, x2: a.x2, y1: a.y, y2: a.y }, gs);
      el('line', { class: 'ln', x1: a.x1, x2: a.x2, y1: a.y, y2: a.y, 'marker-end': `url(#${this.id}-ah-${mk})` }, gs);
      const mid = (a.x1 + a.x2) / 2;
      text(gs, mid, a.y - 4, a.label, { class: 'lbl', 'text-anchor': 'middle' });
    }
    const tip = el('title', null, gs);
    tip.textContent = `#${i} ${fmtMs(s.at_ms)} ${s.from} → ${s.to} ${s.protocol} ${s.kind === 'state' ? stateName(s.label) : s.label}${s.dropped ? ' (never arrives)' : ''}${s.policy ? ' (policy: not in the CR)' : ''}\n${s.note || ''}`;
    return { g: gs, nodes };
  }

  /** Whether the lower half of row r is clear between x1 and x2 (no note box, no arrow label below its line). */
  rowFree(r, x1, x2) {
    const m = this.model;
    const i = m.rowStep(r);
    if (typeof i !== 'number') return false;
    const a = m.arrow(i);
    const cw = this.geom.charW || 6.6;
    if (a.internal) {
      const w = Math.min(m.gap * 0.9, Math.max(40, a.label.length * cw + 12));
      return x2 < a.x1 - w / 2 - 2 || x1 > a.x1 + w / 2 + 2;
    }
    // An arrow's own label is above its line; the next row's label starts at its top.
    const nx = r + 1 < m.nRows ? m.rowStep(r + 1) : null;
    if (typeof nx === 'number') {
      const b = m.arrow(nx);
      const half = ((b.internal ? Math.min(m.gap * 0.9, b.label.length * cw + 12) : b.label.length * cw) / 2) + 2;
      const mid = b.internal ? b.x1 : (b.x1 + b.x2) / 2;
      if (!(x2 < mid - half || x1 > mid + half)) return false;
    }
    return true;
  }
}
