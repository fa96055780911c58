// Benchmark (not a timed test): the longest task on the page's main thread around an edit of a
// 19,998-message timeline (issue 13, item 9), at 1x and with the page's CPU throttled 4x (CDP
// Emulation.setCPUThrottlingRate; the engine's worker is not throttled), for this tree's www/
// and, in the same run and the same Chromium, for a base commit's www/ (default: main before
// this work; BENCH_LONGTASK_BASE=<git ref>) with the same pkg/. Every task of the page's
// renderer main thread is read from a Chromium trace (category "toplevel": each task it runs),
// from just before `api.edit` until the edit is drawn and saved; the long-task observer of the
// page sees only tasks over 50 ms.
//   node tests-web/bench/longtask.mjs            (prints JSON; bench.mjs writes it into docs/bench.md)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from '../../scripts/serve.mjs';
import { launch } from '../browser.mjs';
import { bigScenario } from '../big-scenario.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE_REF = process.env.BENCH_LONGTASK_BASE || '154cec7';
const N = 19998;

/** A copy of `ref`'s www/ next to this tree's pkg/ (a symlink), or null when git cannot give it. */
function baseTree(ref) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpm-base-'));
  try {
    execSync(`git archive ${ref} www | tar -x -C ${dir}`, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
  fs.symlinkSync(path.join(ROOT, 'pkg'), path.join(dir, 'pkg'));
  return dir;
}

/** The tasks (ms) of the main thread of the renderer that wrote `mark`, between the marks. */
function tasksOf(events, startMark, endMark, profile = null) {
  const mk = (name) => events.find((e) => e.name === name && (e.ph === 'R' || e.ph === 'I' || e.ph === 'n' || e.ph === 'b' || e.ph === 'X' || e.ph === 'i'));
  const a = mk(startMark);
  const b = mk(endMark);
  if (!a || !b) throw new Error('the marks are not in the trace');
  const tasks = events.filter((e) => e.ph === 'X' && e.pid === a.pid && e.tid === a.tid && e.cat.includes('toplevel') && e.ts >= a.ts - 1e5 && e.ts <= b.ts && e.dur);
  // Nested toplevel events (a task inside a task): keep the outermost ones.
  tasks.sort((x, y) => x.ts - y.ts);
  const out = [];
  let end = -1;
  for (const t of tasks) {
    if (t.ts < end) continue;
    out.push(t);
    end = t.ts + t.dur;
  }
  const kept = out.filter((t) => t.ts + t.dur >= a.ts);
  if (process.env.BENCH_LONGTASK_DEBUG) {
    // What each task over 16 ms held: the timeline events inside it, longest first.
    for (const t of kept.filter((x) => x.dur > 16000)) {
      const inner = events.filter((e) => e.ph === 'X' && e.pid === a.pid && e.tid === a.tid && e.ts >= t.ts && e.ts + (e.dur || 0) <= t.ts + t.dur && e !== t && e.dur > 1000);
      const name = (e) => `${e.name}${e.args?.data?.functionName ? `:${e.args.data.functionName}` : ''}${e.args?.data?.url ? `@${String(e.args.data.url).split('/').pop()}:${e.args.data.lineNumber ?? ''}` : ''}`;
      process.stderr.write(`task ${(t.dur / 1000).toFixed(1)} ms: ${inner.sort((x, y) => y.dur - x.dur).slice(0, 8).map((e) => `${name(e)} ${(e.dur / 1000).toFixed(1)}`).join(' | ')}\n`);
      if (profile) {
        // Self time per function from the CPU profile's samples inside the task.
        const byId = new Map(profile.nodes.map((n) => [n.id, n]));
        const self = new Map();
        let ts = profile.startTime;
        for (let k = 0; k < profile.samples.length; k++) {
          ts += profile.timeDeltas[k];
          if (ts < t.ts || ts > t.ts + t.dur) continue;
          const n = byId.get(profile.samples[k]);
          const f = n.callFrame;
          const key = `${f.functionName || '(anon)'}@${f.url.split('/').pop()}:${f.lineNumber + 1}`;
          self.set(key, (self.get(key) || 0) + (profile.timeDeltas[k] || 0));
        }
        const top = [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10);
        process.stderr.write(`   self: ${top.map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(' | ')}\n`);
      }
    }
  }
  return kept.map((t) => t.dur / 1000);
}

async function measureOnce(context, root, rate, big) {
  const server = createServer(root);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/www/`;
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForSelector('html[data-ready="yes"]', { timeout: 60000 });
    await page.evaluate(async () => {
      localStorage.clear();
      // IndexedDB too (a big timeline's record may be there).
      for (const d of (await indexedDB.databases?.()) || []) indexedDB.deleteDatabase(d.name);
    });
    await page.goto(url);
    await page.waitForSelector('html[data-ready="yes"]', { timeout: 60000 });
    await page.evaluate((s) => {
      window.__big = s;
    }, big);
    // A first big run: the speed module and the worker's module are loaded and compiled.
    await page.evaluate(() => window.__explorer.api.edit({ ...window.__big, title: 'warm' }));
    await page.waitForFunction(() => window.__explorer.state.trace.title === 'warm' && !window.__explorer.state.long, null, { timeout: 180000 });
    await page.waitForTimeout(1500);
    const cdp = await context.newCDPSession(page);
    if (rate > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate });
    const chunks = [];
    cdp.on('Tracing.dataCollected', ({ value }) => chunks.push(...value));
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['toplevel', 'blink.user_timing', 'devtools.timeline', ...(process.env.BENCH_LONGTASK_DEBUG ? ['v8', 'disabled-by-default-v8.gc', 'blink'] : [])], recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
    if (process.env.BENCH_LONGTASK_DEBUG) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const r = await page.evaluate(() => new Promise((resolve) => {
      performance.mark('cpm-edit-start');
      setTimeout(() => {
        const t0 = performance.now();
        window.__explorer.api.edit({ ...window.__big, title: 'measured' });
        const check = () => {
          const st = window.__explorer.state;
          if (st.trace.title === 'measured' && !st.long) {
            // The save follows the draw (its own frame): wait for it too.
            setTimeout(() => {
              performance.mark('cpm-edit-end');
              resolve({ ms: Math.round(performance.now() - t0), steps: st.trace.steps.length });
            }, 1500);
          } else setTimeout(check, 20);
        };
        check();
      }, 50);
    }));
    const profile = process.env.BENCH_LONGTASK_DEBUG ? (await cdp.send('Profiler.stop')).profile : null;
    await cdp.send('Tracing.end');
    await done;
    if (rate > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await cdp.detach();
    const tasks = tasksOf(chunks, 'cpm-edit-start', 'cpm-edit-end', profile);
    const sorted = [...tasks].sort((a, b) => b - a);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return { longest: sorted[0] || 0, top: sorted.slice(0, 5).map((x) => Math.round(x * 10) / 10), over16: tasks.filter((t) => t > 16).length, over50: tasks.filter((t) => t > 50).length, tasks: tasks.length, ms: r.ms, steps: r.steps };
  } finally {
    await page.close();
    server.close();
  }
}

/** { base, ref, rounds, cases: { '1x': { base: [...], ours: [...] }, '4x': … } } */
export async function measureLongTasks({ rounds = Number(process.env.BENCH_LONGTASK_ROUNDS || 3), rates = (process.env.BENCH_LONGTASK_RATES || '1,4').split(',').map(Number) } = {}) {
  const base = process.env.BENCH_LONGTASK_NOBASE ? null : baseTree(BASE_REF);
  const big = bigScenario(N);
  const browser = await launch();
  const cases = {};
  try {
    for (const rate of rates) {
      const c = (cases[`${rate}x`] = { base: [], ours: [] });
      for (let k = 0; k < rounds; k++) {
        // Alternating, so that a busy moment of the machine hits both alike.
        if (base) c.base.push(await measureOnce(browser.context, base, rate, big));
        c.ours.push(await measureOnce(browser.context, ROOT, rate, big));
        process.stderr.write(`bench: longest task ${rate}x round ${k + 1}: base ${c.base.at(-1)?.longest.toFixed(1) ?? '–'} ms, ours ${c.ours.at(-1).longest.toFixed(1)} ms\n`);
      }
    }
  } finally {
    await browser.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }
  return { ref: base ? BASE_REF : null, rounds, n: N, cases };
}

/** The docs/bench.md section. */
export function longTaskMarkdown(r, load) {
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[(s.length - 1) >> 1] : NaN;
  };
  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const rows = Object.entries(r.cases).map(([rate, c]) => {
    const b = c.base.map((x) => x.longest);
    const o = c.ours.map((x) => x.longest);
    return `| ${rate} | ${f(med(b))} (${b.map(f).join(', ') || '–'}) | ${f(med(o))} (${o.map(f).join(', ')}) | ${c.ours.map((x) => x.top.join(' / ')).join('; ')} |`;
  });
  return `## Longest page task around a ${r.n.toLocaleString('en')}-message edit

\`api.edit\` of a ${r.n.toLocaleString('en')}-message timeline (the same one, retitled, after a warm
first run), from just before the edit until it is drawn and saved: the longest task of the page's
main thread, read from a Chromium trace (every task, category \`toplevel\`), at 1x and with the
page's CPU throttled 4x (the engine's worker is not). "base" is \`${r.ref ?? '(not available)'}\`'s www/
with this tree's pkg/, measured in the same run, alternating with this tree's. ${r.rounds} rounds each; load
average ${load}. Targets (issue 13, item 9): no task over 16 ms at 1x on a quiet machine, none over 50 ms at 4x.

| CPU | base: longest task, ms (median; each round) | this tree: longest task, ms (median; each round) | this tree: five longest tasks, ms (each round) |
|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await measureLongTasks();
  console.log(JSON.stringify(r, null, 1));
  console.log(longTaskMarkdown(r, os.loadavg().map((x) => x.toFixed(1)).join(' ')));
}
