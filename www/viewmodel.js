// Pure view model: trace (docs/trace-contract.md) → lanes, arrows, links, timer spans, state
// bands, queue rows, rosters. No DOM here, so Node's test runner covers it (tests-web/unit).
//
// The ladder is laid out in *rows*: one row per trace step, in trace order. Time is shown in the
// left gutter. A "cursor" is the number of steps already shown: steps with index < cursor are
// past, the rest are future. Scrubbing to a time t gives cursor = number of steps with at_ms <= t.

export const GEOM = Object.freeze({
  rowH: 26, // px per step row
  top: 8, // px above the first row
  gutter: 76, // px at the left for the time labels
  minLaneGap: 130, // px between lane centres at least
  right: 24,
});

/** Number of steps with at_ms <= t (binary search; steps are in time order). */
export function cursorAt(steps, t) {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid].at_ms <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first step with at_ms >= t (steps.length if none). */
export function firstStepAtOrAfter(steps, t) {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid].at_ms < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const rowTop = (i, g = GEOM) => g.top + i * g.rowH;
export const rowMid = (i, g = GEOM) => g.top + i * g.rowH + g.rowH / 2;

/** Lane x positions for a given drawing width. */
export function layoutLanes(lanes, width, g = GEOM) {
  const n = Math.max(lanes.length, 1);
  const gap = Math.max(g.minLaneGap, (width - g.gutter - g.right) / n);
  const out = lanes.map((l, i) => ({ ...l, x: Math.round(g.gutter + gap * i + gap / 2) }));
  return { lanes: out, gap, width: Math.ceil(g.gutter + gap * n + g.right) };
}

const PROTOCOL_CLASS = { SIP: 'sip', MSRP: 'msrp', none: 'internal' };

/**
 * The whole ladder model. Everything is positioned in px; renderers only pick the visible part.
 * @param {object} trace  a trace per docs/trace-contract.md (steps may lack `raw`)
 * @param {number} width  available drawing width in px
 */
export function buildLadder(trace, width = 1000, g = GEOM, view = null) {
  const steps = trace.steps || [];
  // A filtered view (filters.js): rows are steps or markers of hidden runs; rowOf maps a step
  // to its row (a hidden step to its run's marker). Without one, row = step index.
  const rowOf = view ? (i) => view.rowOf[i] : (i) => i;
  const nRows = view ? view.rows.length : steps.length;
  const { lanes, gap, width: w } = layoutLanes(view ? (trace.lanes || []).filter((l) => view.lanes.has(l.id)) : trace.lanes || [], width, g);
  const laneX = new Map(lanes.map((l) => [l.id, l.x]));
  const pfLane = lanes.find((l) => l.role === 'pf');
  const xOf = (id) => (laneX.has(id) ? laneX.get(id) : g.gutter);

  // One arrow per step, built when a row is drawn: only the rows in view ever are, and a
  // 10,000-message ladder has ~87,000 steps.
  const arrow = (i) => {
    const s = steps[i];
    // A folded IMS core (filters.js) draws a hop through it from sender to receiver.
    const e = view && view.ends && view.ends.get(i);
    const from = e ? e[0] : s.from;
    const to = e ? e[1] : s.to;
    const protocol = s.protocol;
    return {
      index: i,
      y: rowMid(rowOf(i), g),
      x1: xOf(from),
      x2: xOf(to),
      internal: protocol === 'none' || from === to,
      protocol,
      cls: PROTOCOL_CLASS[protocol] || 'internal',
      kind: s.kind,
      label: s.label,
      policy: !!s.policy,
      at_ms: s.at_ms,
      chat: s.chat ?? null,
      event: s.event ?? null,
      dropped: !!s.dropped,
    };
  };

  // Stored → delivered links: a dashed line beside the PF lane from the row where the message
  // entered the store to the row where it left (replay SEND, loss or discard), or to the end.
  // Only their rows are found here (typed arrays: 20,000 messages in ~1 ms); a link's object is
  // made when a row it crosses is drawn (linksIn), or all of them on a read of `links`.
  const last = steps.length - 1;
  const chats = trace.chats || [];
  const lkChat = [];
  const lkFrom = [];
  const lkTo = [];
  const lkX = [];
  const x0 = (pfLane ? pfLane.x : g.gutter) + Math.round(gap * 0.36);
  for (let k = 0; k < chats.length; k++) {
    const c = chats[k];
    const st = c.stored_step;
    if (st == null) continue;
    const leave = c.in_flight_step ?? c.removed_step ?? null;
    lkX.push(x0 + (lkChat.length % 4) * 5);
    lkChat.push(k);
    lkFrom.push(rowOf(st));
    lkTo.push(leave == null ? nRows - 1 : rowOf(leave));
  }
  const made = new Array(lkChat.length);
  const link = (j) => {
    if (made[j]) return made[j];
    const c = chats[lkChat[j]];
    const leave = c.in_flight_step ?? c.removed_step ?? null;
    const endStep = leave ?? last;
    return (made[j] = {
      chat: c.id,
      from: c.from,
      x: lkX[j],
      y1: rowMid(lkFrom[j], g),
      y2: leave == null ? rowTop(nRows, g) : rowMid(lkTo[j], g),
      fromStep: c.stored_step,
      toStep: endStep,
      fromRow: lkFrom[j],
      toRow: lkTo[j],
      open: leave == null,
      outcome: c.outcome,
      heldMs: (c.in_flight_ms ?? c.removed_ms ?? trace.end_ms) - c.stored_ms,
    });
  };
  /**
   * The links crossing rows [first, last], in order. `through(x, fromStep, chat)`, when given, is
   * asked first about each link that only passes through those rows (stored above, left below):
   * true, and no object is made for it (the renderer draws those as one line per position).
   */
  const linksIn = (first, lastRow, through = null) => {
    const out = [];
    for (let j = 0; j < lkChat.length; j++) {
      if (lkTo[j] < first || lkFrom[j] > lastRow) continue;
      if (through && lkFrom[j] < first && lkTo[j] > lastRow) {
        const c = chats[lkChat[j]];
        if (through(lkX[j], c.stored_step, c.id)) continue;
      }
      out.push(link(j));
    }
    return out;
  };

  // Timer spans: from the first row at/after start_ms to the last row at/before end_ms.
  const timers = [];
  const perLane = new Map();
  for (const tm of trace.timers || []) {
    const a = firstStepAtOrAfter(steps, tm.start_ms);
    const b = Math.max(a, cursorAt(steps, tm.end_ms) - 1);
    const k = perLane.get(tm.lane) || 0;
    perLane.set(tm.lane, k + 1);
    timers.push({
      ...tm,
      x: xOf(tm.lane) - 12 - (k % 3) * 7,
      y1: rowTop(rowOf(Math.min(a, last)), g) + 3,
      y2: rowTop(rowOf(Math.min(b, last)) + 1, g) - 3,
      fromStep: a,
      toStep: b,
      fromRow: rowOf(Math.min(a, last)),
      toRow: rowOf(Math.min(b, last)),
    });
  }

  // PF state band: runs of equal pf_state along the PF lane, in row space, over steps [i0, i1]
  // (a band that starts before i0 starts at i0's row here: the renderer cuts it there anyway).
  const bandsOf = (i0, i1) => {
    const out = [];
    for (let i = i0; i <= i1; i++) {
      const st = steps[i].pf_state;
      const r = rowOf(i);
      const prev = out[out.length - 1];
      if (prev && (prev.state === st || prev.toRow === r)) {
        prev.toStep = i;
        prev.toRow = r;
        prev.y2 = rowTop(r + 1, g);
      } else {
        out.push({ state: st, fromStep: i, toStep: i, fromRow: r, toRow: r, y1: rowTop(r, g), y2: rowTop(r + 1, g) });
      }
    }
    return out;
  };
  let allBands = null;
  const bands = () => (allBands ||= bandsOf(0, last));
  /** The bands over rows [first, last]: without a filter only the steps of those rows are read. */
  const bandsIn = view ? (first, lastRow) => overlapping(bands(), first, lastRow) : (first, lastRow) => bandsOf(Math.max(0, first), Math.min(last, lastRow));
  const bandX = pfLane ? pfLane.x : null;

  return {
    lanes,
    gap,
    width: w,
    height: rowTop(nRows, g) + g.top,
    nRows,
    rowOf,
    /** The step of row r, or a marker { first, last, count, label } of hidden steps. */
    rowStep: view ? (r) => (view.rows[r] >= 0 ? view.rows[r] : view.markers[-view.rows[r] - 1]) : (r) => r,
    rowH: g.rowH,
    /** The arrow of step i: { index, y, x1, x2, internal, protocol, cls, kind, label, policy, at_ms, chat, event }. */
    arrow,
    /** Every stored → delivered link (made on this read; the renderer asks linksIn). */
    get links() {
      return linksIn(0, Infinity);
    },
    linksIn,
    timers,
    /** Every PF state band (found on the first read; the renderer asks bandsIn). */
    get bands() {
      return bands();
    },
    bandsIn,
    bandX,
  };
}

/** Range of step rows intersecting [scrollTop, scrollTop + viewH], with a margin of rows. */
export function visibleRows(nSteps, scrollTop, viewH, g = GEOM, margin = 4) {
  const first = Math.max(0, Math.floor((scrollTop - g.top) / g.rowH) - margin);
  const last = Math.min(nSteps - 1, Math.ceil((scrollTop + viewH - g.top) / g.rowH) + margin);
  return { first, last };
}

/** Items whose [fromStep, toStep] overlaps the rows [first, last]. */
export function overlapping(items, first, last) {
  return items.filter((it) => (it.toRow ?? it.toStep) >= first && (it.fromRow ?? it.fromStep) <= last);
}

/** State of one chat in the PF's store at a cursor, or null when it is not in the store. */
export function chatStateAt(c, cursor) {
  const seen = (s) => s != null && s < cursor;
  if (!seen(c.stored_step)) return null;
  if (seen(c.removed_step)) return null;
  if (seen(c.delivered_step)) return 'delivered';
  if (seen(c.in_flight_step)) return 'in flight';
  return 'stored';
}

/** The PF's store for Carol at a cursor (steps < cursor have happened). */
export function queueAt(trace, cursor) {
  const names = memberNames(trace);
  const rows = [];
  for (const c of trace.chats || []) {
    const state = chatStateAt(c, cursor);
    if (!state) continue;
    rows.push({
      chat: c.id,
      from: c.from,
      fromName: names.get(c.from) || c.from,
      text: c.text,
      stored_ms: c.stored_ms,
      stored_step: c.stored_step,
      state,
      step: state === 'delivered' ? c.delivered_step : state === 'in flight' ? c.in_flight_step : c.stored_step,
      possible_duplicate: !!c.possible_duplicate,
      outcome: c.outcome,
    });
  }
  rows.sort((a, b) => a.stored_step - b.stored_step);
  const waiting = rows.filter((r) => r.state !== 'delivered').length;
  const inFlight = rows.filter((r) => r.state === 'in flight').length;
  const delivered = rows.length - waiting;
  return { rows, waiting, inFlight, stored: waiting - inFlight, delivered };
}

/** Names for member ids, from the lanes and the roster snapshots. */
export function memberNames(trace) {
  const m = new Map([['carol', 'Carol']]);
  for (const p of trace.participants || []) for (const u of p.users || []) m.set(u.id, u.name);
  for (const l of trace.lanes || []) if (l.role === 'member') m.set(l.id, l.label);
  return m;
}

/** Latest roster snapshot of a holder ("pf" | "client") whose step happened before the cursor. */
export function rosterAt(trace, holder, cursor) {
  let best = null;
  for (const p of trace.participants || []) {
    if (p.holder !== holder) continue;
    if (p.step < cursor && (!best || p.step >= best.step)) best = p;
  }
  return best;
}

/** What the PF holds vs what Carol's client last knew, user by user, with the differences. */
export function rosterCompare(trace, cursor) {
  const pf = rosterAt(trace, 'pf', cursor);
  const client = rosterAt(trace, 'client', cursor);
  const ids = [];
  const byId = new Map();
  for (const [side, snap] of [['pf', pf], ['client', client]]) {
    for (const u of snap?.users || []) {
      if (!byId.has(u.id)) {
        byId.set(u.id, { id: u.id, name: u.name, pf: null, client: null });
        ids.push(u.id);
      }
      byId.get(u.id)[side] = u.status;
    }
  }
  const rows = ids.map((id) => {
    const r = byId.get(id);
    return { ...r, differs: r.pf !== r.client };
  });
  return { pf, client, rows, differences: rows.filter((r) => r.differs).length };
}

/** The PF state at a cursor (state after the last shown step). */
export function pfStateAt(trace, cursor) {
  const steps = trace.steps || [];
  if (cursor <= 0) return trace.pf_states?.[0]?.state ?? steps[0]?.pf_state ?? '';
  return steps[Math.min(cursor, steps.length) - 1].pf_state;
}

/** Signature used to find the first point where two traces differ. */
const sig = (s) => `${s.from}>${s.to}|${s.protocol}|${s.label}|${s.kind}`;

/** First step index where the two traces differ in what is sent (null when they never do). */
export function firstDifference(a, b) {
  const sa = a.steps || [];
  const sb = b.steps || [];
  const n = Math.min(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    if (sig(sa[i]) !== sig(sb[i])) return { a: i, b: i, at_ms: Math.min(sa[i].at_ms, sb[i].at_ms) };
  }
  if (sa.length !== sb.length) {
    const at = n < sa.length ? sa[n].at_ms : sb[n].at_ms;
    return { a: Math.min(n, sa.length - 1), b: Math.min(n, sb.length - 1), at_ms: at };
  }
  return null;
}

/** Counts shown in the compare view. */
export function summaryCounts(trace) {
  const s = trace.summary || {};
  return [
    ['sent while away', s.sent_while_away ?? 0],
    ['stored', s.stored ?? 0],
    ['delivered from store', s.delivered_from_store ?? 0],
    ['lost', s.lost ?? 0],
    ['discarded', s.discarded ?? 0],
    ['still stored', s.still_stored ?? 0],
    ['delivered live', s.delivered_live ?? 0],
  ];
}

/** "1:05.250" style time. */
export function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  const neg = ms < 0;
  ms = Math.abs(Math.round(ms));
  const m = Math.floor(ms / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  const r = ms % 1000;
  return `${neg ? '-' : ''}${m}:${String(s).padStart(2, '0')}.${String(r).padStart(3, '0')}`;
}

/** Short duration: "480 ms", "32 s", "1 min 5 s". */
export function fmtDur(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

/** Playback: the next time the playhead should show, skipping idle gaps longer than maxGapMs. */
export function advance(steps, t, dtMs, maxGapMs = 1500) {
  let nt = t + dtMs;
  const next = firstStepAtOrAfter(steps, t + 1e-9);
  if (next < steps.length) {
    const gapToNext = steps[next].at_ms - t;
    if (gapToNext > maxGapMs && nt < steps[next].at_ms - maxGapMs / 3) {
      nt = Math.max(nt, steps[next].at_ms - maxGapMs / 3);
    }
  }
  return nt;
}

/** Timeline (horizontal axis) scale: span in ms and a tick step. */
export function timelineScale(endMs, events) {
  let max = 1000;
  const take = (v) => {
    if (typeof v === 'number' && Number.isFinite(v) && v > max) max = v;
  };
  take(endMs);
  for (const e of events || []) take(e?.at_ms);
  max = max * 1.06;
  const nice = [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
  const target = max / 10;
  // Past an hour a tick: 1, 2 or 5 × a power of ten hours, so a span never has more than ~10
  // ticks (a capped tick drew a million of them for an event at an epoch time).
  let tick = nice.find((n) => n >= target);
  if (!tick) {
    const p = 3600000 * 10 ** Math.floor(Math.log10(target / 3600000));
    tick = [1, 2, 5, 10].map((k) => k * p).find((n) => n >= target);
  }
  const span = Math.ceil(max / tick) * tick;
  return { span, tick };
}
