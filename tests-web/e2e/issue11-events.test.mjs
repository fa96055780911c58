// Issue 11's new timeline controls in the event editor, in a real browser: the focus's
// re-INVITE on the PF's leg (Q16, with a new Subject), a re-join with other session IDs (Q20),
// and Carol's second device (Q15/Q9: the tablet checkbox and an event's device). Each edit
// reaches the engine: the trace changes the way the engine's own tests say it must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer } from '../harness.mjs';

const env = useBrowser();

const steps = (page) => page.evaluate(() => window.__explorer.state.trace.steps.map((s) => ({ from: s.from, to: s.to, label: s.label, clauses: [...s.clauses] })));

/** Opens the editor of the first event of `kind` (its timeline marker, keyboard). */
async function editFirst(page, kind) {
  const idx = await page.evaluate((k) => window.__explorer.state.scenario.events.findIndex((e) => e.kind === k), kind);
  assert.ok(idx >= 0, `the timeline has a ${kind} event`);
  await page.locator(`.marker[data-ev="${idx}"]`).focus();
  await page.keyboard.press('Enter');
  return idx;
}

test("Q16: the palette's re-INVITE of the focus reaches the PF, and its Subject is edited in place", async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-b', viewport: { width: 1280, height: 720 } });
  assert.ok(!(await steps(page)).some((s) => s.from === 'cf' && s.to === 'carol-pf' && s.label === 'INVITE'), 'no re-INVITE before');
  await page.click('#palette button[data-kind="cf_reinvite"]');
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.from === 'cf' && s.to === 'carol-pf' && s.label === 'INVITE'));
  await editFirst(page, 'cf_reinvite');
  await page.fill('#ed-subject', 'Saturday planning');
  await page.press('#ed-subject', 'Tab');
  await page.waitForFunction(() => window.__explorer.state.scenario.events.some((e) => e.kind === 'cf_reinvite' && e.subject === 'Saturday planning'));
  assert.deepEqual(errors, []);
});

test('Q20: a re-join with a new Contribution-ID, chosen in the editor, is a new session under the default policy', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-b', viewport: { width: 1280, height: 720 } });
  assert.ok(!(await steps(page)).some((s) => s.clauses.includes('policy:q20-other-contribution-id')));
  await editFirst(page, 'rejoin');
  await page.selectOption('#ed-ids', 'new-contribution');
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.clauses.includes('policy:q20-other-contribution-id')));
  const ev = await page.evaluate(() => window.__explorer.state.scenario.events.find((e) => e.kind === 'rejoin'));
  assert.equal(ev.ids, 'new-contribution');
  assert.ok(!(await steps(page)).some((s) => s.label.startsWith('no INVITE (path B)')), "no longer the CR's path B");
  assert.deepEqual(errors, []);
});

test("Q15: Carol's tablet is switched on in the editor, and a REGISTER moved to it comes from its own lane", async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a', viewport: { width: 1280, height: 720 } });
  assert.ok(!(await steps(page)).some((s) => s.from === 'carol-tablet' || s.to === 'carol-tablet'));
  await editFirst(page, 'register');
  await page.click('#ed-tablet');
  await page.waitForFunction(() => (window.__explorer.state.scenario.devices || []).includes('tablet'));
  await page.waitForSelector('#ed-device');
  await page.selectOption('#ed-device', 'tablet');
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.from === 'carol-tablet' && s.label === 'REGISTER'));
  // Path A then invites the device that registered (q15-which-device, default registering-device).
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.to === 'carol-tablet' && s.label === 'INVITE'));
  // Switching the tablet off takes the device off every event again.
  await page.click('#ed-tablet');
  await page.waitForFunction(() => !window.__explorer.state.scenario.devices && !window.__explorer.state.trace.steps.some((s) => s.to === 'carol-tablet' || s.from === 'carol-tablet'));
  assert.deepEqual(errors, []);
});
