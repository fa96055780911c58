// Presenter mode in Chromium: ?present, the Present button and the P key; clicker keys go key
// step to key step (PageDown / space / PageUp; tests-web/e2e/present-story.test.mjs counts them),
// ↓ / ↑ one step, and play ('.'); the caption narrates each step and names the case
// of §8.3.2.9 and the path once the trace has reached them; Esc leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, shot } from '../harness.mjs';

const env = useBrowser();
const caption = (page) => page.locator('#caption').textContent();
const cursor = (page) => page.evaluate(() => window.__explorer.state.cursor);

test('?present: clicker keys step, the caption changes with every step', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?present&preset=bye-480-path-a' });
  await page.waitForSelector('.present-bar');
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('present')), true);
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large')), true, 'large type');
  assert.equal(await page.locator('.top').isHidden(), true);
  const c0 = await cursor(page);
  const seen = [await caption(page)];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('ArrowDown'); // one step (PageDown and space go key step to key step)
    assert.equal(await cursor(page), c0 + i + 1, `step ${i + 1}`);
    const c = await caption(page);
    assert.ok(!seen.includes(c), `new caption at step ${i + 1}: ${c}`);
    seen.push(c);
  }
  await page.keyboard.press('ArrowUp');
  assert.equal(await cursor(page), c0 + 5);
  assert.equal(await caption(page), seen[5], 'PageUp shows the previous caption again');
  // Step until the PF defers: the caption names case 1; until delivery: path A.
  const situation = () => page.locator('#caption .cap-situation').textContent();
  for (let i = 0; i < 200 && !/Path A:/.test(await situation()); i++) await page.keyboard.press('PageDown');
  const cap = await caption(page);
  assert.match(cap, /Case 1 of §8\.3\.2\.9: Carol's BYE carries a Reason with protocol SIP and a cause other than 200/);
  assert.match(cap, /Path A: Carol registers, the S-CSCF sends a 3rd-party REGISTER, and the PF invites her back/);
  assert.match(cap, /Why: /);
  await shot(page, 'present-path-a');
  // '.' plays and pauses.
  await page.keyboard.press('.');
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'true');
  await page.keyboard.press('.');
  assert.equal(await page.locator('#play').getAttribute('aria-pressed'), 'false');
  // Esc leaves presenter mode.
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('present')), false);
  assert.equal(await page.locator('#caption').isHidden(), true);
  assert.equal(await page.locator('.top').isVisible(), true);
  assert.deepEqual(errors, []);
});

test('the Present button (full screen) and the P key; path B and case 3 in the captions', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=msrp-loss-path-b' });
  await page.click('#present');
  await page.waitForSelector('.present-bar');
  await page.waitForFunction(() => !!document.fullscreenElement, null, { timeout: 5000 });
  assert.equal(await page.locator('#caption .cap-situation').textContent(), 'Case 3, then Carol\'s client re-joins the group session itself.', 'starts with the preset description');
  await page.keyboard.press('End');
  const cap = await caption(page);
  assert.match(cap, /Case 3 of §8\.3\.2\.9: the MSRP connection to Carol failed/);
  assert.match(cap, /Path B: Carol's client re-joins the group session itself/);
  await shot(page, 'present-path-b');
  await page.click('#present-exit');
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('present')), false);
  await page.waitForFunction(() => !document.fullscreenElement, null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large')), false, 'large type back off');
  await page.locator('#pane-main .ladder-scroll').focus();
  await page.keyboard.press('p');
  await page.waitForFunction(() => document.documentElement.classList.contains('present'));
  await page.keyboard.press('p');
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains('present')), false);
  assert.deepEqual(errors, []);
});
