// The CR's own words beside the ladder (issue 12): the panel shows §8.3.2.9 as the CR shows it
// (inserted and removed words), highlights the sentence of the step at the playhead, a clause
// chip in the inspector scrolls to its sentence, and a policy step shows its open question,
// marked "not in the CR". Loaded on use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, shot, axe } from '../harness.mjs';

const env = useBrowser();

test('CR panel: the amended text with its changes, the current sentence, chips, open questions', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=race-rejoin-after-invite', viewport: { width: 1280, height: 720 } });
  assert.equal(await page.locator('#crpanel').count(), 0, 'not loaded before use');
  await page.click('#cr-toggle');
  await page.waitForSelector('#crpanel');
  assert.equal(await page.locator('#cr-toggle').getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#crpanel .cr-s').count(), 13);
  assert.match(await page.locator('#cr-remain del').first().textContent(), /^If the SIP BYE was received/);
  assert.equal(await page.locator('#cr-remain ins', { hasText: 'remain' }).count(), 1);
  assert.match(await page.locator('#cr-case2').textContent(), /Timeout of the SIP INVITE/);
  // Play the story by key steps: the trigger highlights case 1, the deferral the 'remain' sentence.
  await page.click('#next-key');
  assert.equal(await page.locator('#crpanel .cr-s.current').getAttribute('id'), 'cr-case1');
  await page.click('#next-key');
  assert.match(await page.locator('#crpanel .cr-s.current').getAttribute('id'), /^cr-(remain|subscribe)$/);
  // A policy step (Q1: the re-join after the PF's INVITE) shows the open question.
  for (let i = 0; i < 12 && await page.locator('#cr-question').isHidden(); i++) await page.click('#next-key');
  assert.match(await page.evaluate(() => { const s = window.__explorer.state; return s.trace.steps.slice(0, s.cursor).filter((x) => x.key).map((x) => x.key).join('|'); }), /Q1 policy\)\|Path B/);
  await page.locator('#cr-question').waitFor();
  assert.match(await page.locator('#cr-question').textContent(), /^Open question Q1: .*not in the CR$/);
  // A clause chip of the inspector scrolls the panel to its sentence.
  const sub = await page.evaluate(() => window.__explorer.state.trace.steps.findIndex((s) => s.label === 'SUBSCRIBE' && s.clauses.includes('8.2.2.6.2')));
  await page.evaluate((i) => window.__explorer.api.selectStep('main', i, null, true), sub);
  await page.click('#insp-clauses button.clause.cr:has-text("8.2.2.6.2")');
  await page.waitForFunction(() => document.activeElement?.id === 'cr-subscribe');
  const inView = await page.evaluate(() => {
    const p = document.getElementById('crpanel').getBoundingClientRect();
    const s = document.getElementById('cr-subscribe').getBoundingClientRect();
    return s.top >= p.top && s.bottom <= p.bottom;
  });
  assert.ok(inView, 'the sentence is in view');
  const noHScroll = await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
  assert.ok(noHScroll, 'no horizontal scroll with the panel open');
  const a = await axe(page, env);
  assert.deepEqual(a.serious, []);
  await shot(page, 'cr-panel');
  await page.click('#cr-toggle');
  await page.locator('#crpanel').waitFor({ state: 'hidden' });
  assert.equal(await page.locator('#cr-toggle').getAttribute('aria-expanded'), 'false');
  assert.deepEqual(errors, []);
});
