// The timeline: a horizontal time axis with the scenario's events as markers (drag to move,
// click to select, keyboard: Enter/Delete/Alt+←→), the PF state strip, and the playhead.
import { timelineScale, fmtMs } from './viewmodel.js';
import { KIND, describeEvent } from './scenario.js';
import { stateClass, replaceIfChanged, setAttr } from './ladder.js';

const NS = 'http://www.w3.org/2000/svg';
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

export const SYMBOL = {
  message: 'M', bye: 'B', leave: 'L', join: 'J', unreachable: 'U', msrp_loss: '✂', msrp_setup_fails: 'S',
  invite_rejected: '4', register: 'R', rejoin: 'RJ', group_ends: 'E', deregister: 'D', cf_reinvite: 'RI', cf_update: 'UP',
};
export const COLOR = {
  message: '#4c6a92', bye: '#c0392b', leave: '#7f8c8d', join: '#16a085', unreachable: '#8e44ad', msrp_loss: '#d35400',
  msrp_setup_fails: '#b9770e', invite_rejected: '#a93226', register: '#1e8449', rejoin: '#2874a6', group_ends: '#34495e', deregister: '#7d6608',
  cf_reinvite: '#5b2c6f', cf_update: '#6c3483',
};

const PAD_L = 12;
const DENSE = 150; // more events than this: messages become ticks
const PAD_R = 16;

export class Timeline {
  /**
   * @param {HTMLElement} host
   * @param {object} cb { onScrub(t, done), onSelect(index), onMove(index, t, done), onDelete(index), onDropNew(kind, t) }
   */
  constructor(host, cb) {
    this.host = host;
    this.cb = cb;
    this.svg = el('svg', { role: 'group', 'aria-label': 'Timeline of events' }, host);
    this.gAxis = el('g', { class: 'tl-axis' }, this.svg);
    this.bg = el('rect', { class: 'tl-bg', x: 0, y: 0, width: 10, height: 10 }, this.svg);
    this.gBand = el('g', { class: 'tl-band' }, this.svg);
    this.gTicks = el('g', null, this.svg); // a dense timeline's messages (ticks)
    this.gMarks = el('g', null, this.svg);
    this.ph = el('line', { class: 'tl-playhead' }, this.svg);
    this.knob = el('path', { class: 'tl-playhead-knob' }, this.svg);
    this.events = [];
    this.names = new Map();
    this.pfStates = [];
    this.endMs = 0;
    this.t = 0;
    this.selected = null;
    this.linked = new Set();
    this.drag = null;
    this.win = null;
    this.gMarks.addEventListener('pointerdown', (e) => {
      const g = e.target.closest('.marker');
      if (g) this.markerDown(e, Number(g.dataset.ev), g);
    });
    this.gMarks.addEventListener('keydown', (e) => {
      const g = e.target.closest('.marker');
      if (g) this.markerKey(e, Number(g.dataset.ev));
    });
    this.bg.addEventListener('pointerdown', (e) => this.scrubStart(e));
    this.knob.addEventListener('pointerdown', (e) => this.scrubStart(e));
    // The size is read when it changes, not on every draw: reading clientWidth right after the
    // ladder was redrawn forces a synchronous layout (about 3 ms per edit on a 1,000-message
    // ladder).
    this.size = null;
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(() => {
        this.size = null;
        this.draw();
      }).observe(host);
    }
  }

  measure() {
    if (!this.size) this.size = { w: this.host.clientWidth || 800, h: this.host.clientHeight || 90 };
    return this.size;
  }
  get width() {
    return this.measure().w;
  }
  get height() {
    return this.measure().h;
  }
  /** The time window shown: the whole span, or the zoom window (zoom.js) inside it. */
  get from() {
    return this.win ? this.win.from : 0;
  }
  get to() {
    return this.win ? this.win.to : this.scale.span;
  }
  x(t) {
    return PAD_L + ((t - this.from) / (this.to - this.from)) * (this.width - PAD_L - PAD_R);
  }
  /** Time at a client x; left: the timeline's client left when known (a drag reads it once). */
  tAt(clientX, left = this.svg.getBoundingClientRect().left) {
    const t = this.from + ((clientX - left - PAD_L) / (this.width - PAD_L - PAD_R)) * (this.to - this.from);
    return Math.max(0, Math.min(this.scale.span, t));
  }
  /** Zoom to [from, to] ms (null: the whole timeline); returns the window in force. */
  setWindow(win) {
    this.win = win && win.to > win.from ? { from: Math.max(0, win.from), to: win.to } : null;
    this.draw();
    return this.win;
  }
  /** True when the client point is over the timeline. */
  contains(clientX, clientY) {
    const r = this.svg.getBoundingClientRect();
    return clientX >= r.left && clientX <= r.right && clientY >= r.top - 8 && clientY <= r.bottom + 8;
  }

  set({ events, names, pfStates, endMs, selected = this.selected }) {
    this.events = events;
    this.selected = selected;
    this.names = names || new Map();
    this.pfStates = pfStates || [];
    this.endMs = endMs || 0;
    this.draw();
  }
  setSelected(i) {
    this.selected = i;
    this.draw();
  }
  setLinked(set) {
    this.linked = set;
    for (const g of this.gMarks.children) g.classList.toggle('linked', this.linked.has(Number(g.dataset.ev)));
  }

  draw() {
    if (this.dragging) return; // the dragged marker must survive; drawn again when the drag ends
    this.scale = timelineScale(this.endMs, this.events);
    if (this.win && this.win.to > this.scale.span) this.win = { from: Math.max(0, this.scale.span - (this.win.to - this.win.from)), to: this.scale.span };
    // The ticks of the window shown (the whole span's when not zoomed).
    const tick = this.win ? timelineScale(this.win.to - this.win.from, []).tick : this.scale.tick;
    const inView = (t) => t >= this.from - 1e-6 && t <= this.to + 1e-6;
    const W = this.width;
    const H = this.height;
    const axisY = H - 18;
    setAttr(this.bg, 'width', W);
    setAttr(this.bg, 'height', H);
    // Axis
    const ax = document.createDocumentFragment();
    el('line', { x1: PAD_L, x2: W - PAD_R, y1: axisY, y2: axisY }, ax);
    for (let t = Math.ceil(this.from / tick) * tick; t <= this.to + 1e-6; t += tick) {
      const x = this.x(t);
      el('line', { x1: x, x2: x, y1: axisY, y2: axisY + 4 }, ax);
      const tx = el('text', { x, y: H - 3, 'text-anchor': 'middle' }, ax);
      tx.textContent = t >= 60000 ? fmtMs(t).replace(/\.000$/, '') : `${t / 1000} s`;
    }
    replaceIfChanged(this.gAxis, ax);
    // PF state strip, just above the axis
    const band = document.createDocumentFragment();
    for (const s of this.pfStates) {
      if (s.to_ms < this.from || s.from_ms > this.to) continue;
      const x1 = this.x(Math.max(s.from_ms, this.from));
      const x2 = this.x(Math.min(Math.max(s.to_ms, s.from_ms), this.to));
      const r = el('rect', { class: stateClass(s.state), x: x1, y: axisY - 7, width: Math.max(1, x2 - x1), height: 6 }, band);
      el('title', null, r).textContent = `PF ${s.state}: ${fmtMs(s.from_ms)} → ${fmtMs(s.to_ms)}`;
    }
    replaceIfChanged(this.gBand, band);
    // Markers, stacked in rows so that close ones do not overlap
    const marks = document.createDocumentFragment();
    const rowsEnd = [];
    const maxRows = Math.max(1, Math.floor((axisY - 14) / 19));
    // Many messages (a bench-sized scenario) are drawn as one path of ticks, not as markers;
    // zoomed in far enough that the window holds few of them, they are markers again.
    let shown = this.events.length;
    if (this.win) shown = this.events.reduce((n, ev) => n + (inView(ev.at_ms) ? 1 : 0), 0);
    const dense = shown > DENSE;
    const path = dense ? this.ticks(axisY) : null;
    if (path !== this.gTicks.firstChild) this.gTicks.replaceChildren(...(path ? [path] : []));
    this.events.forEach((ev, i) => {
      if (this.win && !inView(ev.at_ms)) return;
      if (dense && ev.kind === 'message' && i !== this.selected) return;
      const x = this.x(ev.at_ms);
      let row = -1;
      for (let r = 0; r < rowsEnd.length; r++) if (x - rowsEnd[r] > 20) { row = r; break; }
      if (row < 0) {
        if (rowsEnd.length < maxRows) row = rowsEnd.length;
        else { row = 0; for (let r = 1; r < rowsEnd.length; r++) if (rowsEnd[r] < rowsEnd[row]) row = r; }
      }
      rowsEnd[row] = x;
      const y = axisY - 18 - row * 19;
      const kind = KIND.get(ev.kind);
      const desc = describeEvent(ev, this.names);
      const g = el('g', {
        class: `marker${i === this.selected ? ' selected' : ''}${this.linked.has(i) ? ' linked' : ''}`,
        'data-ev': i, 'data-kind': ev.kind, tabindex: 0, role: 'button',
        // The symbol drawn on the marker is part of its name (WCAG 2.5.3, label in name).
        'aria-label': `${SYMBOL[ev.kind] || '?'}${ev.device === 'tablet' ? 't' : ''} ${kind ? kind.label : ev.kind} at ${fmtMs(ev.at_ms)}: ${desc}`,
        transform: `translate(${x},${y})`,
      }, marks);
      el('line', { x1: 0, x2: 0, y1: 8, y2: axisY - y, stroke: COLOR[ev.kind] || '#555', 'stroke-width': 1, opacity: 0.6 }, g);
      el('rect', { class: 'mk', x: -10, y: -8, width: 20, height: 16, rx: ev.kind === 'message' ? 8 : 3, fill: COLOR[ev.kind] || '#555' }, g);
      const tx = el('text', { x: 0, y: 4, 'text-anchor': 'middle' }, g);
      // Carol's tablet (issue 11, Q15): the marker's symbol with a "t".
      tx.textContent = `${SYMBOL[ev.kind] || '?'}${ev.device === 'tablet' ? 't' : ''}`;
      // No <title>: axe counts its text as the button's visible text (label-content-name-mismatch);
      // the name above says the same.
    });
    replaceIfChanged(this.gMarks, marks);
    this.drawPlayhead();
  }

  /**
   * The messages of a dense timeline as one path of ticks. Rebuilt only when a message time, the
   * width or the scale changed: an edit of another event (a drag of the BYE across a
   * 10,000-message timeline) keeps the path, so the browser does not parse 10,000 subpaths again.
   */
  ticks(axisY) {
    const times = [];
    for (const ev of this.events) if (ev.kind === 'message') times.push(ev.at_ms);
    const key = `${this.width}|${this.height}|${this.scale.span}|${this.from}|${this.to}`;
    const old = this._ticks;
    if (old && old.key === key && old.times.length === times.length && old.times.every((t, i) => t === times[i])) return old.path;
    let d = '';
    for (const t of times) if (t >= this.from && t <= this.to) d += `M${this.x(t).toFixed(1)},${axisY - 12}v10`;
    const path = el('path', { d, class: 'tl-ticks', stroke: COLOR.message, 'stroke-width': 1 });
    el('title', null, path).textContent = `${times.length} messages (too many for markers; edit the others)`;
    this._ticks = { key, times, path };
    return path;
  }

  setTime(t) {
    this.t = t;
    this.drawPlayhead();
  }
  drawPlayhead() {
    if (!this.scale) return;
    const x = this.x(Math.max(this.from, Math.min(this.t, this.to)));
    const H = this.height;
    // Zoomed in, a playhead outside the window is not drawn at its edge as if it were there.
    const out = this.t < this.from - 1e-6 || this.t > this.to + 1e-6 ? 'hidden' : 'visible';
    if (this.ph.getAttribute('visibility') !== out) {
      this.ph.setAttribute('visibility', out);
      this.knob.setAttribute('visibility', out);
    }
    // Same place: nothing to write (the player redraws on pause, play, every playback frame).
    if (this.phAt && this.phAt.x === x && this.phAt.H === H) return;
    this.phAt = { x, H };
    this.ph.setAttribute('x1', x);
    this.ph.setAttribute('x2', x);
    this.ph.setAttribute('y1', 0);
    this.ph.setAttribute('y2', H - 18);
    this.knob.setAttribute('d', `M${x - 6},${H - 18} L${x + 6},${H - 18} L${x},${H - 10} z`);
  }

  scrubStart(e) {
    if (e.button !== 0) return;
    e.preventDefault();
    const target = e.currentTarget;
    target.setPointerCapture?.(e.pointerId);
    // Read where the timeline is once, before the first scrub writes anything: a read in each
    // pointermove would come after the previous move's redraw and force a layout.
    const left = this.svg.getBoundingClientRect().left;
    this.cb.onScrub(this.tAt(e.clientX, left), false);
    const move = (ev) => this.cb.onScrub(this.tAt(ev.clientX, left), false);
    const up = (ev) => {
      target.removeEventListener('pointermove', move);
      target.removeEventListener('pointerup', up);
      target.removeEventListener('pointercancel', up);
      this.cb.onScrub(this.tAt(ev.clientX, left), true);
    };
    target.addEventListener('pointermove', move);
    target.addEventListener('pointerup', up);
    target.addEventListener('pointercancel', up);
  }

  markerDown(e, i, g) {
    if (e.button !== 0) return;
    e.preventDefault();
    e.stopPropagation();
    g.focus({ preventScroll: true });
    g.setPointerCapture?.(e.pointerId);
    const startX = e.clientX;
    const startT = this.events[i].at_ms;
    let moved = false;
    let lastT = startT;
    g.classList.add('dragging');
    this.dragging = true;
    const move = (ev) => {
      if (!moved && Math.abs(ev.clientX - startX) < 3) return;
      moved = true;
      lastT = Math.round(Math.min(this.tAt(ev.clientX), this.dragSpan ?? Infinity) / 10) * 10;
      g.setAttribute('transform', g.getAttribute('transform').replace(/translate\([^,]+,/, `translate(${this.x(lastT)},`));
      this.cb.onMove(i, lastT, false);
    };
    const up = () => {
      g.removeEventListener('pointermove', move);
      g.removeEventListener('pointerup', up);
      g.removeEventListener('pointercancel', up);
      g.classList.remove('dragging');
      this.dragging = false;
      if (moved) this.cb.onMove(i, lastT, true);
      else this.cb.onSelect(i);
    };
    g.addEventListener('pointermove', move);
    g.addEventListener('pointerup', up);
    g.addEventListener('pointercancel', up);
  }

  markerKey(e, i) {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      e.stopPropagation();
      this.cb.onSelect(i);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      e.stopPropagation();
      this.cb.onDelete(i);
    } else if (e.altKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      e.preventDefault();
      e.stopPropagation();
      const d = (e.key === 'ArrowLeft' ? -1 : 1) * (e.shiftKey ? 1000 : 100);
      this.cb.onMove(i, Math.max(0, this.events[i].at_ms + d), true);
    }
  }

  focusMarker(i) {
    const g = this.gMarks.querySelector(`[data-ev="${i}"]`);
    if (g) g.focus({ preventScroll: true });
  }
}
