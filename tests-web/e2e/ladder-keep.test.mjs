// The ladder and the timeline keep what they drew: a redraw puts into the DOM only the rows and
// marks whose drawing changed (www/ladder.js placeRows and replaceIfChanged), so an edit away
// from the view, a scrub or a scroll costs the browser little style and layout. What they keep
// must be exactly what a fresh drawing of the same state gives: checked here after every step of
// random sequences of edits, scrubs, scrolls and selections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();

/** In the page: the drawing of the main ladder and the timeline, then the same drawn afresh. */
function keptAndFresh() {
  const ex = window.__explorer;
  const lad = ex.ladder;
  const tl = ex.timeline;
  const drawing = () => ({
    head: lad.head.innerHTML,
    back: lad.gBack.innerHTML,
    rows: lad.gRows.innerHTML,
    playhead: lad.playhead.outerHTML,
    timeline: tl.svg.innerHTML,
  });
  const kept = drawing();
  const steps = lad.gSteps.querySelectorAll('g.step').length;
  // Forget everything drawn, then draw the same state again from nothing.
  for (const g of [lad.head, lad.gBack, lad.gOver, lad.gSteps, tl.gAxis, tl.gBand, tl.gMarks]) g.replaceChildren();
  lad.units = [];
  lad._drawn = null;
  lad.drawHead();
  lad.render();
  tl.draw();
  return { kept, fresh: drawing(), steps };
}

/** A small deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const frames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

for (const [name, scenario] of [['preset bye-480-path-a', null], ['300 messages', bigScenario(300)]]) {
  test(`kept rows and marks are what a fresh drawing gives, after each of 40 random steps: scrubs, scrolls, selections, rule changes, edits (${name})`, async (t) => {
    const { page, errors } = await openExplorer(t, env, scenario ? { scenario } : {});
    const rand = rng(name.length * 7919);
    const done = [];
    for (let k = 0; k < 40; k++) {
      const r = rand();
      const pick = rand();
      const op = r < 0.3 ? 'scrub' : r < 0.5 ? 'scroll' : r < 0.65 ? 'select' : r < 0.72 ? 'rules' : 'edit';
      await page.evaluate(([op, pick]) => {
        const ex = window.__explorer;
        const s = ex.state;
        if (op === 'scrub') ex.api.setTime(Math.round(pick * s.trace.end_ms));
        else if (op === 'scroll') ex.ladder.scroll.scrollTop = Math.round(pick * ex.ladder.scroll.scrollHeight);
        else if (op === 'select') ex.api.selectStep('main', Math.floor(pick * s.trace.steps.length), null, true);
        else if (op === 'rules') ex.api.setRules(s.rules === 'post-cr' ? 'pre-cr' : 'post-cr');
        else {
          const evs = s.scenario.events;
          const i = Math.floor(pick * evs.length);
          // Half of the edits put the event at the time of its neighbour: rows that share a time
          // show it once, so a row's time label depends on the row above.
          const j = i > 0 ? i - 1 : i + 1;
          ex.benchMove(i, pick < 0.5 && evs[j] ? evs[j].at_ms : Math.max(0, evs[i].at_ms + 250));
        }
      }, [op, pick]);
      await frames(page);
      const d = await page.evaluate(keptAndFresh);
      done.push(op);
      assert.ok(d.steps > 0, `step ${k} (${op}): rows are drawn`);
      for (const part of Object.keys(d.fresh)) {
        assert.equal(d.kept[part], d.fresh[part], `after ${done.join(', ')}: the kept ${part} is not what a fresh drawing gives`);
      }
    }
    assert.ok(['scrub', 'scroll', 'select', 'edit'].every((op) => done.includes(op)), `every kind of step was tried: ${done}`);
    assert.deepEqual(errors, []);
  });
}

test('an edit below the view leaves the rows in view in the DOM; the timeline replaces only the moved marker', async (t) => {
  const scenario = bigScenario(300);
  const { page, errors } = await openExplorer(t, env, { scenario });
  const r = await page.evaluate(async () => {
    const ex = window.__explorer;
    const lad = ex.ladder;
    const tl = ex.timeline;
    const rowsBefore = [...lad.gSteps.children];
    const marksBefore = [...tl.gMarks.children];
    const seen = { rows: 0, marksAdded: 0, marksRemoved: 0 };
    const mo = new MutationObserver(() => {});
    mo.observe(lad.gSteps, { subtree: true, childList: true, attributes: true, characterData: true });
    const mt = new MutationObserver(() => {});
    mt.observe(tl.gMarks, { childList: true });
    const i = ex.state.scenario.events.findIndex((e) => e.kind === 'bye');
    const firstDrawn = Number(lad.gSteps.querySelector('g.step').dataset.step);
    const lastDrawn = Number([...lad.gSteps.querySelectorAll('g.step')].pop().dataset.step);
    const byeStep = ex.state.trace.steps.findIndex((s) => s.label.startsWith('BYE'));
    ex.benchMove(i, ex.state.scenario.events[i].at_ms + 10);
    seen.rows = mo.takeRecords().length;
    for (const m of mt.takeRecords()) {
      seen.marksAdded += m.addedNodes.length;
      seen.marksRemoved += m.removedNodes.length;
    }
    mo.disconnect();
    mt.disconnect();
    const moved = tl.gMarks.querySelector(`[data-ev="${i}"]`);
    return {
      ...seen, firstDrawn, lastDrawn, byeStep,
      sameRows: rowsBefore.length === lad.gSteps.children.length && rowsBefore.every((n, k) => lad.gSteps.children[k] === n),
      keptMarks: marksBefore.filter((n) => n.isConnected).length,
      marks: marksBefore.length,
      movedIsNew: !marksBefore.includes(moved),
    };
  });
  assert.ok(r.byeStep > r.lastDrawn, `the BYE (step ${r.byeStep}) is below the rows drawn (${r.firstDrawn}–${r.lastDrawn})`);
  assert.equal(r.rows, 0, 'no mutation of the rows in view');
  assert.ok(r.sameRows, 'the same row nodes, in the same order');
  assert.equal(r.marksAdded, 1, 'one marker put in');
  assert.equal(r.marksRemoved, 1, 'one marker taken out');
  assert.equal(r.keptMarks, r.marks - 1, 'every other marker kept');
  assert.ok(r.movedIsNew, 'the moved marker is the new one');
  assert.deepEqual(errors, []);
});

test('a resized window redraws the ladder for its new width and height (the sizes come from the ResizeObserver)', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a' });
  const size = () => page.evaluate(() => {
    const lad = window.__explorer.ladder;
    return { body: Number(lad.body.getAttribute('width')), model: lad.model.width, width: lad.width, client: lad.scroll.clientWidth, rows: lad.gSteps.querySelectorAll('g.step').length, viewH: lad.viewH, clientH: lad.scroll.clientHeight };
  });
  const before = await size();
  await page.setViewportSize({ width: 1700, height: 900 });
  await page.waitForFunction((w) => window.__explorer.ladder.scroll.clientWidth !== w, before.client);
  await frames(page);
  await frames(page);
  const after = await size();
  assert.notEqual(after.client, before.client, 'the ladder pane changed width');
  assert.equal(after.width, after.client, `the renderer's width is the pane's new one (was ${before.width}, pane ${before.client})`);
  assert.equal(after.body, after.model, 'the drawing has the width of the model built for it');
  assert.ok(after.body > before.body, `a wider pane, a wider drawing: ${before.body} → ${after.body}`);
  assert.equal(after.viewH, after.clientH, 'the height the renderer uses is the pane\'s');
  // Kept and fresh drawings agree after the resize too.
  const d = await page.evaluate(keptAndFresh);
  for (const part of Object.keys(d.fresh)) assert.equal(d.kept[part], d.fresh[part], `after a resize: the kept ${part}`);
  assert.deepEqual(errors, []);
});
