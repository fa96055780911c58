// Issue 13, item 9 (long work shows progress, can be cancelled, fails early where it cannot
// succeed), in Debian's Chromium, on a timeline of 19,998 messages (174,057 steps). In a file of
// its own: the engine runs and the text version of that many steps take a minute on a loaded
// machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();

test('item 9: 20,000 messages: the text version shows progress, can be cancelled and completes; PNG export refuses at once', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  await page.evaluate((s) => window.__explorer.load(s), bigScenario(19998));
  const steps = await page.evaluate(() => window.__explorer.state.trace.steps.length);
  assert.ok(steps > 100000, `${steps} steps`);
  // PNG: a clear message at once, no 3-minute freeze.
  const t0 = Date.now();
  await page.click('#file-menu summary');
  await page.click('[data-export="png"]');
  const msg = await page.locator('#banner:not([hidden]) #banner-text').textContent({ timeout: 10000 });
  assert.match(msg, /PNG export stops at 20,000 steps/, msg);
  assert.ok(Date.now() - t0 < 10000);
  await page.click('#banner-close');
  // Text version: a progress line with Cancel; the page answers meanwhile.
  await page.click('#text-toggle');
  await page.waitForSelector('#progress-cancel', { timeout: 10000 });
  assert.match(await page.locator('#progress-text').textContent(), /Writing the text version: [\d,]+ of [\d,]+ steps/);
  assert.equal(await page.evaluate(() => 1 + 1), 2, 'the page answers');
  await page.click('#progress-cancel');
  await page.waitForSelector('#progress', { state: 'detached', timeout: 10000 });
  assert.match(await page.locator('#banner-text').textContent(), /text version was cancelled/);
  // Again, to the end.
  await page.click('#banner-close');
  await page.click('#text-toggle');
  await page.waitForSelector('#progress-cancel', { timeout: 10000 });
  await page.waitForFunction((n) => document.querySelectorAll('#textview li').length === n && !document.getElementById('progress'), steps, { timeout: 120000 });
  assert.equal(await page.locator('#textview li').count(), steps);
  assert.deepEqual(errors, []);
});
