// Presenter mode tells each preset's story with a clicker (issue 12): from the start, PageDown
// (and space) reach the end of every preset, both rule sets, in at most 15 presses; every key
// stop's caption cites a sentence of the CR (the CR panel's text) or names the open question
// (policy, "not in the CR"), and says what changed (PF state, store). The bar shows the PF's
// state and the store; the title is not cut at 1280×720 in large type; the end sums the story up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, ready, shot } from '../harness.mjs';
import { CR_SENTENCES, amended, original } from '../../www/cr-text.js';

const env = useBrowser();
const MAX_PRESSES = 15;
const crTexts = new Set(CR_SENTENCES.flatMap((s) => [amended(s), original(s)]));

test('every preset, both rules: the clicker reaches the end in ≤ 15 presses, each stop citing the CR or a policy', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?present&preset=bye-480-path-a', viewport: { width: 1280, height: 720 } });
  await page.waitForSelector('.present-bar');
  const presets = await page.evaluate(() => window.__explorer.state.presets.map((p) => p.name));
  assert.ok(presets.length >= 16);
  const report = [];
  for (const name of presets) {
    for (const rules of ['post-cr', 'pre-cr']) {
      await page.evaluate(([n, r]) => {
        const s = window.__explorer.state;
        localStorage.setItem('cpm-deferral-explorer:v1', JSON.stringify({ scenario: JSON.parse(s.presets.find((p) => p.name === n).json), rules: r, preset: n }));
      }, [name, rules]);
      await page.goto(`${env.base}?present`);
      await ready(page);
      await page.waitForSelector('.present-bar');
      assert.equal(await page.evaluate(() => window.__explorer.state.rules), rules);
      let presses = 0;
      const total = await page.evaluate(() => window.__explorer.state.trace.steps.length);
      while ((await page.evaluate(() => window.__explorer.state.cursor)) < total) {
        await page.keyboard.press(presses % 3 === 2 ? ' ' : 'PageDown');
        presses++;
        assert.ok(presses <= MAX_PRESSES, `${name} ${rules}: more than ${MAX_PRESSES} presses`);
        const cap = await page.evaluate(() => ({
          key: document.querySelector('#caption .cap-key')?.textContent ?? null,
          changed: document.querySelector('#caption .cap-changed')?.textContent ?? null,
          cites: [...document.querySelectorAll('#caption .cap-cr')].map((e) => ({ cite: e.dataset.cite, text: e.textContent })),
          atEnd: window.__explorer.state.cursor === window.__explorer.state.trace.steps.length,
          keyHere: window.__explorer.state.trace.steps[window.__explorer.state.cursor - 1]?.key ?? null,
        }));
        if (cap.keyHere == null) {
          assert.ok(cap.atEnd, `${name} ${rules}: press ${presses} stopped on a step that is not a key step`);
          continue;
        }
        assert.ok(cap.key, `${name} ${rules} press ${presses}: no key title`);
        assert.match(cap.changed, /^PF .* · store \d+$/);
        assert.ok(cap.cites.length >= 1, `${name} ${rules} press ${presses} (${cap.key}): cites neither the CR nor a policy`);
        for (const c of cap.cites) {
          if (c.cite.startsWith('policy:')) assert.match(c.text, /^Open question Q?\S*.*not in the CR\)$/, c.text);
          else {
            const quoted = /“(.*)”$/.exec(c.text)?.[1];
            assert.ok(crTexts.has(quoted) || quoted === '(not in the text before the CR)', `${name}: not a CR sentence: ${c.text}`);
          }
        }
      }
      report.push(`${name} ${rules}: ${presses}`);
      // The end: the closing summary.
      assert.match(await page.locator('#caption .cap-closing').textContent(), /^End of the story\. .* stored for Carol, \d+ delivered from the store, \d+ lost/);
    }
  }
  t.diagnostic(report.join('; '));
  assert.deepEqual(errors, []);
});

test('presenter at 1280×720 (large type): the title is whole, the PF state and store are shown', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?present&preset=msrp-setup-fails', viewport: { width: 1280, height: 720 } });
  await page.waitForSelector('.present-bar');
  const title = page.locator('.present-title');
  assert.equal(await title.textContent(), await page.evaluate(() => window.__explorer.state.scenario.title));
  assert.ok(await title.evaluate((e) => e.scrollWidth <= e.clientWidth + 1 && getComputedStyle(e).textOverflow !== 'ellipsis'), 'title not cut');
  await page.keyboard.press('PageDown');
  await page.keyboard.press('PageDown');
  assert.match(await page.locator('#present-status').textContent(), /^PF: Deferred · store: 0 · step \d+ \/ \d+$/);
  for (let i = 0; i < 3; i++) await page.keyboard.press('PageDown');
  assert.match(await page.locator('#present-status').textContent(), /store: [1-9]/);
  // No internal-step box spills its text: every label fits its box.
  const spill = await page.evaluate(() => [...document.querySelectorAll('#pane-main g.step.internal, #pane-main g.step')].filter((g) => {
    const box = g.querySelector('rect.box');
    const lbl = g.querySelector('text.lbl');
    return box && lbl && lbl.getComputedTextLength() > Number(box.getAttribute('width')) + 1;
  }).map((g) => g.querySelector('text.lbl').textContent));
  assert.deepEqual(spill, [], 'labels wider than their boxes');
  await shot(page, 'present-story-1280');
  assert.deepEqual(errors, []);
});
