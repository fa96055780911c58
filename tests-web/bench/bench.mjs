// Benchmark (not a timed test): for a 1,000-message scenario, the time from an edit to the
// redrawn ladder (re-simulate in wasm + view model + SVG render), and Mermaid rendering the same
// ladder as a sequenceDiagram, in the same headless Chromium run. Writes docs/bench.md.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';
import { launch, watchErrors } from '../browser.mjs';
import { weightMarkdown } from './weight.mjs';
import { bigScenario } from '../big-scenario.mjs';
import { measureLongTasks, longTaskMarkdown } from './longtask.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EDITS = Number(process.env.BENCH_EDITS || 41);
const MERMAID_RUNS = Number(process.env.BENCH_MERMAID_RUNS || 3);
const BIG = Number(process.env.BENCH_BIG || 10000); // the scale scenario (no Mermaid on it)
const BIG_EDITS = Number(process.env.BENCH_BIG_EDITS || 15);
// Warm-up edits before the measured ones: the browser compiles the hot wasm functions with its
// optimising tier during the first few runs (about 5 here; the first run takes ~5x as long).
const BIG_WARM = Number(process.env.BENCH_BIG_WARM || 5);
const SCRUBS = 60; // playhead positions, evenly spread
const SCROLLS = 100; // ladder scroll positions, top to bottom
const SWEEP_FRAMES = 120; // frames of continuous scrubbing / scrolling for the rAF deltas
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const f1 = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));


/** The same ladder as a Mermaid sequenceDiagram: one arrow (or note) per trace step. */
function toMermaid(trace) {
  const id = (s) => `L${trace.lanes.findIndex((l) => l.id === s)}`;
  const out = ['sequenceDiagram'];
  for (const l of trace.lanes) out.push(`  participant ${id(l.id)} as ${l.label.replace(/[;#:]/g, ' ')}`);
  for (const s of trace.steps) {
    const label = String(s.label).replace(/[;#:]/g, ' ');
    if (s.protocol === 'none' || s.from === s.to) out.push(`  Note over ${id(s.from)}: ${label}`);
    else out.push(`  ${id(s.from)}${s.protocol === 'MSRP' ? '-->>' : '->>'}${id(s.to)}: ${label}`);
  }
  return out.join('\n');
}

const server = createServer(ROOT);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
let browser = await launch();
const results = {};
try {
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${base}/www/`);
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 60000 }); // its own save() is done
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  const sc = bigScenario(1000);
  await page.evaluate((s) => {
    localStorage.clear();
    localStorage.setItem('cpm-deferral-explorer:v1', JSON.stringify({ scenario: s, rules: 'post-cr' }));
  }, sc);
  await page.reload();
  await page.waitForSelector('html[data-ready="yes"]', { timeout: 60000 });
  await page.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  const info = await page.evaluate(() => {
    const tr = window.__explorer.state.trace;
    return { steps: tr.steps.length, chats: tr.chats.length, summary: tr.summary, arrows: tr.steps.filter((s) => s.protocol !== 'none').length };
  });
  results.info = info;
  // A timeline of more than SPEED_EVENTS events runs on the speed module once it has loaded (its
  // first run asked for it): wait for it, as a user's second edit would find it.
  await page.waitForFunction(() => window.__explorer.state.engine.fast !== null, null, { timeout: 60000 });
  // Edits: move the BYE marker back and forth by 10 ms; each is one synchronous edit path.
  const byeIndex = sc.events.findIndex((e) => e.kind === 'bye');
  const byeAt = sc.events[byeIndex].at_ms;
  const m = await page.evaluate(async ({ i, at, n }) => {
    const ex = window.__explorer;
    const sync = [];
    const paint = [];
    const run = [];
    const render = [];
    for (let k = 0; k < n; k++) {
      const t = at + (k % 2 ? 10 : -10);
      const idx = ex.state.scenario.events.findIndex((e) => e.kind === 'bye');
      const t0 = performance.now();
      const tm = ex.benchMove(idx, t);
      document.body.getBoundingClientRect(); // style + layout of the redrawn ladder
      const t1 = performance.now();
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const t2 = performance.now();
      if (k >= 3) {
        sync.push(t1 - t0);
        paint.push(t2 - t0);
        run.push(tm.run);
        render.push(tm.render);
      }
    }
    // The whole ladder drawn (every arrow in the DOM), for a like-for-like figure with Mermaid.
    const full = [];
    const { renderAll } = await import(new URL('ladder-full.js', location.href).href);
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      renderAll(ex.ladder);
      document.body.getBoundingClientRect();
      full.push(performance.now() - t0);
    }
    ex.ladder.render();
    void i;
    return { sync, paint, run, render, full };
  }, { i: byeIndex, at: byeAt, n: EDITS });
  results.ours = {
    median: median(m.sync), p90: pct(m.sync, 90), paintMedian: median(m.paint), runMedian: median(m.run), renderMedian: median(m.render),
    fullMedian: median(m.full), n: m.sync.length,
  };
  const traceForMermaid = await page.evaluate(() => {
    const tr = window.__explorer.state.trace;
    return { lanes: tr.lanes, steps: tr.steps.map((s) => ({ from: s.from, to: s.to, protocol: s.protocol, label: s.label })) };
  });
  await page.screenshot({ path: path.join(ROOT, 'test-results', 'bench-ours.png') });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

  const mpage = await browser.context.newPage();
  const merrors = watchErrors(mpage);
  await mpage.goto(`${base}/tests-web/bench/mermaid.html`);
  await mpage.waitForFunction(() => window.mermaidReady === true);
  const text = toMermaid(traceForMermaid);
  const runs = [];
  for (let k = 0; k < MERMAID_RUNS; k++) {
    const r = await mpage.evaluate(([tx, id]) => window.renderMermaid(tx, id), [text, `m${k}`]);
    runs.push(r);
    process.stderr.write(`bench: mermaid run ${k + 1}: ${r.ms.toFixed(0)} ms\n`);
  }
  await mpage.screenshot({ path: path.join(ROOT, 'test-results', 'bench-mermaid.png') });
  results.mermaid = { median: median(runs.map((r) => r.ms)), paintMedian: median(runs.map((r) => r.paintMs)), svgBytes: runs[0].bytes, n: runs.length, lines: text.split('\n').length };
  if (merrors.length) process.stderr.write(`bench: mermaid page console errors: ${merrors.join('; ')}\n`);
  await mpage.close();
  await page.close();

  // ---- scale: 10,000 messages (edits, scrubbing, scrolling); no Mermaid on this one.
  // In a fresh browser: Mermaid's run leaves hundreds of MB in the renderer it shared with the
  // page, which slows every later garbage collection there (by ~10 ms an edit at this size).
  await browser.close();
  browser = await launch();
  const bpage = await browser.context.newPage();
  const berrors = watchErrors(bpage);
  await bpage.goto(`${base}/www/`);
  await bpage.waitForSelector('html[data-ready="yes"]', { timeout: 60000 });
  await bpage.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  const big = bigScenario(BIG);
  await bpage.evaluate((s) => {
    localStorage.clear();
    localStorage.setItem('cpm-deferral-explorer:v1', JSON.stringify({ scenario: s, rules: 'post-cr' }));
  }, big);
  const tLoad = Date.now();
  await bpage.reload();
  await bpage.waitForSelector('html[data-ready="yes"]', { timeout: 120000 });
  await bpage.evaluate(() => window.__explorer.engineLoaded()); // a first visit loads it on the first input
  results.big = { loadMs: Date.now() - tLoad };
  results.big.info = await bpage.evaluate((n) => {
    const tr = window.__explorer.state.trace;
    if (tr.chats.length !== n) throw new Error(`the ${n}-message scenario did not load (${tr.chats.length} chats)`);
    return { steps: tr.steps.length, chats: tr.chats.length, summary: tr.summary, arrows: tr.steps.filter((s) => s.protocol !== 'none').length, endMs: tr.end_ms };
  }, BIG);
  process.stderr.write(`bench: ${BIG} messages loaded: ${results.big.info.steps} steps\n`);
  // A timeline this big runs on the speed-optimised module, which the first run asked for: wait
  // until it is there, so every measured edit runs on it (the first run, on the size-optimised
  // module, is in the load time above).
  const tFast = Date.now();
  await bpage.waitForFunction(() => window.__explorer.state.engine.fast !== null, null, { timeout: 60000 });
  results.big.fastMs = Date.now() - tFast;
  // Edits, as for 1,000.
  results.big.edit = await bpage.evaluate(async ({ n, warm }) => {
    const ex = window.__explorer;
    const at = ex.state.scenario.events.find((e) => e.kind === 'bye').at_ms;
    const sync = [];
    const paint = [];
    const run = [];
    const render = [];
    for (let k = 0; k < n + warm; k++) {
      const idx = ex.state.scenario.events.findIndex((e) => e.kind === 'bye');
      const t0 = performance.now();
      const tm = ex.benchMove(idx, at + (k % 2 ? 10 : -10));
      document.body.getBoundingClientRect();
      const t1 = performance.now();
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const t2 = performance.now();
      if (k >= warm) {
        sync.push(t1 - t0);
        paint.push(t2 - t0);
        run.push(tm.run);
        render.push(tm.render);
      }
    }
    return { sync, paint, run, render };
  }, { n: BIG_EDITS, warm: BIG_WARM });
  process.stderr.write(`bench: ${BIG} messages: edits done\n`);
  // Scrubbing through the timeline's own scrub callback (what a pointerdown/move on the timeline
  // calls): the playhead moves, the ladder's cursor follows and the ladder scrolls to it.
  results.big.scrub = await bpage.evaluate(async ({ n, frames }) => {
    const ex = window.__explorer;
    const lad = ex.ladder;
    const onScrub = ex.timeline.cb.onScrub;
    const end = ex.state.trace.end_ms;
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const sync = [];
    const total = [];
    const paint = [];
    const ladderPart = [];
    const queueLen = [];
    let lateRenders = 0;
    for (let k = 0; k < n; k++) {
      const t = ((k + 0.5) / n) * end;
      const before0 = lad.lastRender;
      const t0 = performance.now();
      onScrub(t, false);
      const before = lad.lastRender;
      ladderPart.push(before !== before0 ? before.ms : 0); // the ladder's own render in the call
      document.body.getBoundingClientRect(); // style + layout of the redraw
      const t1 = performance.now();
      queueLen.push(document.querySelectorAll('#queue li').length);
      // The ladder's scroll handler runs in the next animation frame; it redraws only when the
      // call did not already draw the rows now in view. Such a redraw counts as work of this move.
      await nextFrame();
      const t2 = performance.now();
      const scrollRender = lad.lastRender !== before ? lad.lastRender.ms : 0;
      if (lad.lastRender !== before) lateRenders++;
      sync.push(t1 - t0);
      total.push(t1 - t0 + scrollRender);
      paint.push(t2 - t0);
    }
    // Continuous scrubbing: one playhead move per animation frame, the whole span in `frames` frames.
    const deltas = [];
    const work = [];
    await new Promise((resolve) => {
      let k = 0;
      let last = 0;
      const tick = (ts) => {
        if (last) deltas.push(ts - last);
        last = ts;
        if (k === frames) return resolve();
        const t0 = performance.now();
        onScrub(((k + 0.5) / frames) * end, false);
        document.body.getBoundingClientRect();
        work.push(performance.now() - t0);
        k++;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    onScrub(end, true);
    return { sync, total, paint, deltas, work, ladderPart, queueLen, lateRenders };
  }, { n: SCRUBS, frames: SWEEP_FRAMES });
  process.stderr.write(`bench: ${BIG} messages: scrubbing done\n`);
  // Scrolling the ladder's scroll container from the top to the bottom.
  results.big.scroll = await bpage.evaluate(async ({ n, frames }) => {
    const ex = window.__explorer;
    const lad = ex.ladder;
    const sc = lad.scroll;
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const maxTop = sc.scrollHeight - sc.clientHeight;
    const rowsInDom = () => lad.gRows.querySelectorAll('g.step').length;
    const linksInDom = () => lad.gRows.querySelectorAll('g.link').length;
    const links = [];
    const sync = [];
    const handler = [];
    const rows = [];
    const elems = [];
    for (let k = 0; k < n; k++) {
      sc.scrollTop = Math.round((k / (n - 1)) * maxTop);
      const before = lad.lastRender;
      await nextFrame(); // the app's scroll handler renders in this frame
      handler.push(lad.lastRender !== before ? lad.lastRender.ms : 0);
      // The same render once more (forced: the ladder skips a render of what it shows already),
      // timed with the layout it causes.
      const t0 = performance.now();
      lad.render(true);
      document.body.getBoundingClientRect();
      sync.push(performance.now() - t0);
      rows.push(rowsInDom());
      links.push(linksInDom());
      elems.push(lad.body.getElementsByTagName('*').length);
    }
    // Continuous scrolling: one scroll step per animation frame, the whole height in `frames` frames.
    const deltas = [];
    const renders = [];
    sc.scrollTop = 0;
    await nextFrame();
    await new Promise((resolve) => {
      let k = 0;
      let last = 0;
      let before = lad.lastRender;
      const tick = (ts) => {
        if (last) deltas.push(ts - last);
        last = ts;
        if (lad.lastRender !== before) renders.push(lad.lastRender.ms);
        before = lad.lastRender;
        if (k === frames) return resolve();
        k++;
        sc.scrollTop = Math.round((k / frames) * maxTop);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    return {
      sync, handler, rows, links, elems, deltas, renders, maxTop, viewH: sc.clientHeight, totalRows: ex.state.trace.steps.length,
      endTop: sc.scrollTop,
    };
  }, { n: SCROLLS, frames: SWEEP_FRAMES });
  process.stderr.write(`bench: ${BIG} messages: scrolling done\n`);
  await bpage.screenshot({ path: path.join(ROOT, 'test-results', 'bench-ours-10k.png') });
  fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-10k.json'), JSON.stringify(results.big));
  if (berrors.length) throw new Error(`page errors (${BIG} messages): ${berrors.join('; ')}`);
  const maxRows = Math.max(...results.big.scroll.rows);
  if (maxRows > 200) throw new Error(`the ladder kept ${maxRows} step rows in the DOM (not virtualised?)`);
} finally {
  await browser.close();
  server.close();
}

const chromium = execSync('/usr/bin/chromium --version').toString().trim();
const mermaidVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/mermaid/package.json'))).version;
const o = results.ours;
const mm = results.mermaid;
const ratio = mm.median / o.median;
const B = results.big;
const be = { median: median(B.edit.sync), p90: pct(B.edit.sync, 90), paint: median(B.edit.paint), run: median(B.edit.run), render: median(B.edit.render), n: B.edit.sync.length };
const FRAME = 1000 / 60;
// A frame "meets 16 ms" when the work done in it is ≤ 16 ms and the rAF delta shows no dropped
// frame (delta < 1.5 × 16.7 ms at 60 Hz).
const dropped = (ds) => ds.filter((d) => d > 1.5 * FRAME).length;
const sw = B.scrub;
const sl = B.scroll;
const scrubMet = pct(sw.total, 90) <= 16 && pct(sw.deltas, 90) <= 1.5 * FRAME;
const scrollMet = pct(sl.sync, 90) <= 16 && pct(sl.deltas, 90) <= 1.5 * FRAME;
const editMet = be.median <= 50;
const N = B.info.chats.toLocaleString('en');
const bigMd = `## ${N} messages

Same generator (\`bigScenario(${B.info.chats})\`), same run, in a fresh browser (so that Mermaid's heap does not slow its garbage collection), loaded the same way (localStorage + reload:
${(B.loadMs / 1000).toFixed(1)} s until the page is ready). Trace: **${B.info.steps} steps** (${B.info.arrows} SIP/MSRP arrows),
${B.info.chats} chat messages, ${B.info.summary.stored} stored and ${B.info.summary.delivered_from_store} delivered from the store;
the ladder is ${sl.totalRows} rows, ${Math.round(sl.maxTop + sl.viewH)} px high. Mermaid is not run on this one
(it already takes ${f1(mm.median / 1000)} s at 1,000 messages).

- **Edit**: the BYE moved by 10 ms through \`__explorer.benchMove\`, ${be.n} times after ${BIG_WARM} warm-ups, on
  the speed-optimised engine module (pkg/export/) that the page uses for timelines of more than
  2,000 events (it had loaded ${(results.big.fastMs / 1000).toFixed(1)} s after the page was ready; see docs/bench-engine.md).
- **Scrub**: the playhead set to ${sw.sync.length} evenly spread times through the timeline's own
  scrub callback (\`timeline.cb.onScrub\`, what a pointerdown/pointermove on the timeline calls): the
  cursor, panels and playhead are redrawn and the ladder scrolls to the cursor. *Sync* is the call
  plus \`getBoundingClientRect()\` (style + layout); *work* adds any render the ladder's scroll
  handler does in the next animation frame (it redrew in ${sw.lateRenders ?? 'n/a'} of ${sw.sync.length} moves: the call
  scrolls first and draws the rows now in view itself, so the handler finds nothing to redraw).
  *Continuous*: one scrub per animation frame across the whole span (${sw.deltas.length} frames).
- **Scroll**: the ladder's scroll container (\`.ladder-scroll\`) set to ${sl.sync.length} positions from
  the top to the bottom; per position the render of its scroll handler (\`Ladder.render\`, as
  timed by the ladder itself) and the same render again timed with the layout it causes.
  *Continuous*: one scroll step per animation frame across the whole height (${sl.deltas.length} frames).

| ${N} messages | median | p90 | max |
| --- | ---: | ---: | ---: |
| **edit → ladder redrawn (sync, incl. layout)** | **${f1(be.median)} ms** | ${f1(be.p90)} ms | ${f1(Math.max(...B.edit.sync))} ms |
| edit: … until the next frame is painted | ${f1(be.paint)} ms | | |
| edit, of which engine run + transfer | ${f1(be.run)} ms | | |
| edit, of which view model + all panels + SVG | ${f1(be.render)} ms | | |
| **scrub: work per playhead move (sync + scroll render)** | **${f1(median(sw.total))} ms** | ${f1(pct(sw.total, 90))} ms | ${f1(Math.max(...sw.total))} ms |
| scrub: sync part (incl. layout) | ${f1(median(sw.sync))} ms | ${f1(pct(sw.sync, 90))} ms | |
| scrub: of which the ladder's render of the new cursor | ${f1(median(sw.ladderPart))} ms | ${f1(pct(sw.ladderPart, 90))} ms | |
| scrub: … until the next frame is painted | ${f1(median(sw.paint))} ms | ${f1(pct(sw.paint, 90))} ms | |
| **scrub, continuous: rAF frame delta** | **${f1(median(sw.deltas))} ms** | ${f1(pct(sw.deltas, 90))} ms | ${f1(Math.max(...sw.deltas))} ms |
| scrub, continuous: work per frame | ${f1(median(sw.work))} ms | ${f1(pct(sw.work, 90))} ms | |
| **scroll: render + layout per scroll position** | **${f1(median(sl.sync))} ms** | ${f1(pct(sl.sync, 90))} ms | ${f1(Math.max(...sl.sync))} ms |
| scroll: the scroll handler's render (no layout) | ${f1(median(sl.handler))} ms | ${f1(pct(sl.handler, 90))} ms | |
| **scroll, continuous: rAF frame delta** | **${f1(median(sl.deltas))} ms** | ${f1(pct(sl.deltas, 90))} ms | ${f1(Math.max(...sl.deltas))} ms |
| scroll, continuous: the handler's render per frame | ${f1(median(sl.renders))} ms | ${f1(pct(sl.renders, 90))} ms | |

The rest of a scrub's sync time is the page outside the ladder: the store panel (\`#queue\`), whose
rows (up to ${Math.max(...sw.queueLen)} here) are kept between moves and updated where their state changed, the player and the
timeline's playhead, and their style and layout.

Dropped frames (rAF delta > 1.5 × 16.7 ms): scrubbing ${dropped(sw.deltas)} of ${sw.deltas.length},
scrolling ${dropped(sl.deltas)} of ${sl.deltas.length}. Step rows in the DOM while scrolling:
${Math.min(...sl.rows)}–${Math.max(...sl.rows)} of ${sl.totalRows} (only the rows in view plus a margin;
${Math.min(...sl.elems)}–${Math.max(...sl.elems)} SVG elements in the ladder body). The benchmark fails
if more than 200 step rows are ever in the DOM. Store links ("held …" lines from a stored message
to its delivery) are drawn whenever they cross the view, so they are not bounded by the view:
${Math.min(...sl.links)}–${Math.max(...sl.links)} of them in the DOM while scrolling (between the BYE and the REGISTER every
stored message's link crosses every view).

Targets at ${N} messages (a frame meets 16 ms when its work is ≤ 16 ms at p90 and the
p90 rAF delta shows no dropped frame):

| target | figure | |
| --- | ---: | --- |
| scrub ≤ 16 ms per frame | p90 work ${f1(pct(sw.total, 90))} ms, p90 delta ${f1(pct(sw.deltas, 90))} ms | **${scrubMet ? 'met' : 'NOT met'}** |
| scroll ≤ 16 ms per frame | p90 work ${f1(pct(sl.sync, 90))} ms, p90 delta ${f1(pct(sl.deltas, 90))} ms | **${scrollMet ? 'met' : 'NOT met'}** |
| edit ≤ 50 ms | median ${f1(be.median)} ms | **${editMet ? 'met' : 'NOT met'}** |

From 1,000 to ${N} messages the edit goes from ${f1(o.median)} ms to ${f1(be.median)} ms
(${(be.median / o.median).toFixed(1)}×; engine ${f1(o.runMedian)} → ${f1(be.run)} ms, page ${f1(o.renderMedian)} → ${f1(be.render)} ms).
Mermaid at 1,000 messages / ours at ${N} messages: ${(mm.median / be.median).toFixed(0)}×.
`;
// ---- the longest page task around a 20,000-message edit, this tree's www/ against a base commit's.
const loadBefore = os.loadavg()[0];
const lt = await measureLongTasks();
const ltMd = longTaskMarkdown(lt, `${loadBefore.toFixed(1)}–${os.loadavg()[0].toFixed(1)}`);
fs.writeFileSync(path.join(ROOT, 'test-results', 'bench-longtask.json'), JSON.stringify(lt));

const md = `# Benchmark: edit → redrawn ladder, ours vs Mermaid

Produced by \`scripts/bench-web.sh\` (a benchmark, not a timed test) on ${new Date().toISOString().slice(0, 10)},
${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${chromium} headless, Mermaid ${mermaidVersion}.

Scenario: 1,000 group messages (Alice and Bob alternating every 400 ms), Carol's BYE with
\`Reason: SIP;cause=480\` a third of the way in, her REGISTER at two thirds (path A replay).
Trace: **${results.info.steps} steps** (${results.info.arrows} SIP/MSRP arrows), ${results.info.chats} chat messages,
${results.info.summary.stored} stored and ${results.info.summary.delivered_from_store} delivered from the store.

The edit is the drop of a dragged marker (the BYE moved by 10 ms), done ${o.n} times after 3 warm-ups:
re-simulate in wasm + hand the trace to JS (without the wire texts) + view model + SVG render of
the rows in view + style and layout. A timeline of more than 500 events (\`SPEED_EVENTS\` in
www/engine.js) runs on the speed-optimised module once the first run has loaded it; the edits
start when it is there.

| | median | p90 |
| --- | ---: | ---: |
| **ours: edit → ladder redrawn (sync, incl. layout)** | **${f1(o.median)} ms** | ${f1(o.p90)} ms |
| ours: … until the next frame is painted | ${f1(o.paintMedian)} ms | |
| ours, of which engine run + transfer | ${f1(o.runMedian)} ms | |
| ours, of which view model + all panels + SVG | ${f1(o.renderMedian)} ms | |
| ours: draw *every* row of the ladder (no culling) | ${f1(o.fullMedian)} ms | |
| **Mermaid \`sequenceDiagram\`, same ${results.info.steps}-step ladder (${mm.n} runs)** | **${f1(mm.median)} ms** | |

**Ratio: Mermaid / ours = ${ratio.toFixed(0)}×** (median against median). Target for ours: ≤ 16 ms: **${o.median <= 16 ? 'met' : 'NOT met'}**.

Mermaid re-parses and re-lays out the whole diagram for every change; the explorer re-runs the
engine and redraws only the rows in view (the full-ladder line shows what culling saves), and of
those only the ones whose drawing changed: the others stay in the DOM as they are (www/ladder.js
placeRows), so the browser restyles and lays out only what changed.

${bigMd}
${ltMd}
${weightMarkdown()}
## Notes

The machine has 2 cores shared with other work, so figures move by ±20 % between runs. On
the edit path the engine runs without building wire texts (the inspector fetches one on demand
from an identical run) and hands the trace over packed: \`Uint32Array\` columns and one string of
all strings, read through small getter objects (docs/trace-contract.md); the view model builds an
arrow only for a row it draws; the page computes each scenario's JSON once and writes
localStorage after the frame. The first module (the one the page runs on; a first visit draws
from its answers made at build time, pkg/first-view/, and loads it on the first input) is built
at \`opt-level = "z"\`; the second module (\`pkg/export/\`, feature \`wasm-export\`:
the engine plus the export code for SVG, PNG source, Mermaid, PlantUML, transcript and pcap) is
built at \`opt-level = 2\` and loaded on the first export or for a timeline of more than 2,000
events, which then runs on it (about 2× faster than at \`z\`). Both give identical traces.
The engine alone, natively and in wasm: \`make bench\` (docs/bench-engine.md).
`;
fs.writeFileSync(path.join(ROOT, 'docs/bench.md'), md);
process.stdout.write(md);
