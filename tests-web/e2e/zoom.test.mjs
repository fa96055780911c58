// Timeline zoom (issue 12): on a 1,000-message timeline the messages are ticks; the wheel zooms
// in around the pointer until they are markers again, one of which is then selected, dragged and
// edited. The buttons and the + − 0 keys zoom too; the window survives a share link round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, ready, shot } from '../harness.mjs';
import { bigScenario } from '../big-scenario.mjs';

const env = useBrowser();
const win = (page) => page.evaluate(() => window.__explorer.state.zoom);

test('zoom a 1,000-message timeline until one message can be selected, dragged and edited; buttons, keys, share link', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: bigScenario(1000), viewport: { width: 1280, height: 720 } });
  assert.equal(await page.locator('#timeline .marker[data-kind="message"]').count(), 0, 'messages are ticks at first');
  const box = await page.locator('#timeline svg').boundingBox();
  // Wheel over the timeline, a third of the way in.
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  for (let i = 0; i < 12 && (await page.locator('#timeline .marker[data-kind="message"]').count()) === 0; i++) {
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(30);
  }
  const z = await win(page);
  assert.ok(z && z.to - z.from < 60000, `zoomed in: ${JSON.stringify(z)}`);
  // The playhead (at 0, left of the window) is not drawn at the window's edge.
  if (z.from > 0) assert.equal(await page.locator('#timeline .tl-playhead').getAttribute('visibility'), 'hidden');
  const n = await page.locator('#timeline .marker[data-kind="message"]').count();
  assert.ok(n > 0 && n <= 150, `${n} message markers`);
  // Select one message: the event editor opens for it.
  const m = page.locator('#timeline .marker[data-kind="message"]').nth(Math.floor(n / 2));
  const idx = Number(await m.getAttribute('data-ev'));
  const before = await page.evaluate((i) => window.__explorer.state.scenario.events[i].at_ms, idx);
  await m.click();
  await page.locator('#editor').waitFor();
  assert.equal(await page.evaluate(() => window.__explorer.state.selEvent), idx);
  // Drag it 30 px right: at this zoom that is a small, exact move in time.
  const mb = await page.locator(`#timeline .marker[data-ev="${idx}"]`).boundingBox();
  const msPerPx = await page.evaluate(() => { const tl = window.__explorer.timeline; return (tl.to - tl.from) / (tl.width - 28); });
  await page.mouse.move(mb.x + mb.width / 2, mb.y + mb.height / 2);
  await page.mouse.down();
  await page.mouse.move(mb.x + mb.width / 2 + 15, mb.y + mb.height / 2, { steps: 3 });
  await page.mouse.move(mb.x + mb.width / 2 + 30, mb.y + mb.height / 2, { steps: 3 });
  await page.mouse.up();
  await page.waitForFunction(([i, b]) => window.__explorer.state.scenario.events.some((e, j) => e.kind === 'message' && e.at_ms !== b && j >= i - 2 && j <= i + 2), [idx, before]);
  const moved = await page.evaluate(() => { const s = window.__explorer.state; return s.scenario.events[s.selEvent].at_ms; });
  assert.ok(Math.abs(moved - before - 30 * msPerPx) <= msPerPx * 3 + 10, `moved by ${moved - before} ms, ~${Math.round(30 * msPerPx)} expected`);
  await shot(page, 'zoom-1000');
  // Buttons and keys.
  const w0 = await win(page);
  await page.click('#zoom-in');
  await page.waitForFunction((w) => { const z = window.__explorer.state.zoom; return z && z.to - z.from < (w.to - w.from) * 0.6; }, w0);
  await page.click('#zoom-out');
  await page.waitForFunction((w) => { const z = window.__explorer.state.zoom; return z && Math.abs((z.to - z.from) - (w.to - w.from)) < 5; }, w0);
  await page.locator(`#timeline .marker[data-ev]`).first().focus();
  await page.keyboard.press('+');
  await page.waitForFunction((w) => (window.__explorer.state.zoom.to - window.__explorer.state.zoom.from) < (w.to - w.from) * 0.6, w0);
  await page.keyboard.press('-');
  // The share link keeps the window.
  const zShared = await win(page);
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const { page: p2, errors: e2 } = await openExplorer(t, env, { query: '' });
  await p2.goto(link);
  await ready(p2);
  await p2.waitForFunction(() => window.__explorer.state.zoom != null);
  assert.deepEqual(await win(p2), zShared);
  assert.ok(await p2.locator('#timeline .marker[data-kind="message"]').count() > 0);
  // 0 (or Fit) shows everything again.
  await p2.locator('#timeline .marker[data-ev]').first().focus();
  await p2.keyboard.press('0');
  await p2.waitForFunction(() => window.__explorer.state.zoom == null);
  assert.equal(await p2.locator('#zoom-fit').isDisabled(), true);
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});
