// Share links in Chromium: the round trip reproduces the view; bad links (truncated, changed,
// oversized, invalid scenario) give a message and a working page, and never overwrite the
// user's saved timeline. Each test fails on any console or page error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, openExplorer, ready, shot, view, KEY } from '../harness.mjs';

const env = useBrowser();

function lossScenario() {
  return {
    format: 'cpm-deferral-scenario', version: 1, title: 'Shared: MSRP loss <b>&</b> “quotes”', description: 'shared', setup: 'established', t1_ms: 500,
    policies: { 'q1-rejoin-after-invite': 'prefer-own-invite' },
    events: [
      { at_ms: 1000, kind: 'message', from: 'alice', text: 'before; #1 <x>' },
      { at_ms: 3000, kind: 'msrp_loss' },
      { at_ms: 6000, kind: 'message', from: 'bob', text: 'while away "quoted"' },
      { at_ms: 8000, kind: 'message', from: 'alice', text: 'second while away' },
      { at_ms: 30000, kind: 'register', reaction_ms: 500 },
    ],
  };
}
function mine() {
  return { format: 'cpm-deferral-scenario', version: 1, title: 'My own saved timeline', setup: 'established', t1_ms: 500, events: [{ at_ms: 1000, kind: 'message', from: 'bob', text: 'mine' }] };
}

/** Open a link in a page whose storage holds `saved` (the receiver's own timeline). */
async function openLink(t, link, saved, allow = []) {
  const { page, errors } = await newPage(t, env, { allow });
  await page.goto(env.base);
  await ready(page);
  const stored = JSON.stringify({ scenario: saved, rules: 'post-cr' });
  await page.evaluate(([k, v]) => {
    localStorage.clear();
    localStorage.setItem(k, v);
  }, [KEY, stored]);
  await page.goto('about:blank');
  await page.goto(link);
  await ready(page);
  return { page, errors, stored };
}

test('share link round trip: scenario, rules, policies, playhead, selection, compare', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: lossScenario() });
  await page.check('input[name="rules"][value="pre-cr"]');
  await page.check('#compare');
  await page.check('#hidefuture');
  await page.locator('body').focus();
  const c0 = (await view(page)).cursor;
  for (let i = 0; i < 9; i++) await page.keyboard.press('PageDown');
  const sent = await view(page);
  assert.equal(sent.cursor, c0 + 9);
  assert.ok(sent.sel, 'a step is selected');
  // The Share button shows the link.
  await page.click('#share');
  await page.waitForSelector('#share-box:not([hidden])');
  const link = await page.locator('#share-url').inputValue();
  assert.match(link, /\/www\/#s=[A-Za-z0-9_-]+$/);
  assert.equal(link, await page.evaluate(() => window.__explorer.shareLink()));
  await shot(page, 'share-1-sender');

  const { page: p2, errors: e2, stored } = await openLink(t, link, mine());
  const got = await view(p2);
  assert.deepEqual(got, sent, 'the receiver sees what the sender saw');
  assert.equal(await p2.locator('#pane-alt').isVisible(), true, 'compare view');
  assert.equal(await p2.locator('#banner').isHidden(), true, 'no message');
  assert.equal(await p2.evaluate(() => window.__explorer.state.scenario.policies['q1-rejoin-after-invite']), 'prefer-own-invite');
  await shot(p2, 'share-2-receiver');
  // Looking around does not replace the receiver's saved timeline; an edit makes it theirs.
  await p2.locator('body').focus();
  await p2.keyboard.press('PageDown');
  await p2.keyboard.press('.');
  await p2.keyboard.press('.');
  assert.equal(await p2.evaluate((k) => localStorage.getItem(k), KEY), stored, 'saved timeline untouched');
  await p2.click('#palette button[data-kind="group_ends"]');
  const after = JSON.parse(await p2.evaluate((k) => localStorage.getItem(k), KEY));
  assert.equal(after.scenario.title, lossScenario().title, 'after an edit the shared timeline is saved');
  assert.equal(await p2.evaluate(() => location.hash), '', 'the link leaves the address bar once edited');
  assert.deepEqual(errors, []);
  assert.deepEqual(e2, []);
});

test('bad share links: a message, a working page, the saved timeline untouched', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: lossScenario() });
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const hash = link.slice(link.indexOf('#'));
  const base = link.slice(0, link.indexOf('#'));
  // A valid link whose scenario is not: time goes backwards at events[1].
  const badScenario = await page.evaluate(async () => {
    const sc = { ...window.__explorer.state.scenario };
    sc.events = [{ at_ms: 5000, kind: 'message', from: 'alice', text: 'x' }, { at_ms: 1000, kind: 'msrp_loss' }];
    const m = await import('./share.js');
    return m.encodeShare({ scenario: sc, rules: 'post-cr' });
  });
  // A short link that would unpack to 3 MB (spaces compress about 1000:1): stopped at 2 MB.
  const bomb = await page.evaluate(async () => {
    const m = await import('./share.js');
    return m.PREFIX + m.toBase64url(await m.deflate(new Uint8Array(3 * 1024 * 1024).fill(32)));
  });
  const mid = Math.floor(hash.length / 2);
  const flip = (c) => (c === 'A' ? 'B' : 'A');
  const cases = [
    ['truncated', hash.slice(0, hash.length - 9), /cannot be opened: it is (damaged or incomplete|not complete)/],
    ['tampered', hash.slice(0, mid) + flip(hash[mid]) + flip(hash[mid + 1]) + hash.slice(mid + 2), /cannot be opened/],
    ['bad characters', `${hash.slice(0, mid)}!${hash.slice(mid + 1)}`, /cannot be opened: it contains characters/],
    ['oversized', `#s=${'A'.repeat(70 * 1024)}`, /cannot be opened: it is 70 KB long/],
    ['unpacks too far', bomb, /cannot be opened: it unpacks to more than 2 MB/],
    ['invalid scenario', badScenario, /cannot be opened: its scenario is not valid: events\[1\]\.at_ms/],
  ];
  for (const [name, h, re] of cases) {
    const { page: p, errors: e, stored } = await openLink(t, base + h, mine());
    await p.waitForSelector('#banner:not([hidden])');
    const msg = await p.locator('#banner-text').textContent();
    assert.match(msg, re, `${name}: ${msg}`);
    assert.match(msg, /your own saved timeline/, `${name}: says what is shown`);
    assert.equal(await p.locator('#title').textContent(), 'My own saved timeline', `${name}: the user's timeline is shown`);
    assert.equal(await p.evaluate((k) => localStorage.getItem(k), KEY), stored, `${name}: saved timeline untouched`);
    // The page works: step, play, dismiss the message.
    await p.locator('body').focus();
    const c0 = await p.evaluate(() => window.__explorer.state.cursor);
    await p.keyboard.press('PageDown');
    assert.equal(await p.evaluate(() => window.__explorer.state.cursor), c0 + 1, `${name}: stepping works`);
    await shot(p, `share-bad-${name.replace(/ /g, '-')}`);
    await p.click('#banner-close');
    assert.equal(await p.locator('#banner').isHidden(), true);
    assert.deepEqual(e, [], name);
  }
  // Without a saved timeline a bad link shows a preset.
  const { page: p, errors: e } = await newPage(t, env);
  await p.goto(env.base);
  await ready(p);
  await p.evaluate(() => localStorage.clear());
  await p.goto('about:blank');
  await p.goto(base + hash.slice(0, 30));
  await ready(p);
  assert.match(await p.locator('#banner-text').textContent(), /Showing a preset instead/);
  assert.ok((await p.evaluate(() => window.__explorer.state.trace.steps.length)) > 0);
  assert.deepEqual(e, []);
  assert.deepEqual(errors, []);
});

test('a ?preset= link does not replace the saved timeline until an edit', async (t) => {
  const { page, errors, stored } = await openLink(t, `${env.base}?preset=voluntary-leave`, mine());
  assert.equal(await page.evaluate(() => window.__explorer.state.preset), 'voluntary-leave');
  await page.locator('body').focus();
  await page.keyboard.press('End');
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), stored, 'saved timeline untouched');
  await page.click('#palette button[data-kind="group_ends"]');
  // Saved now, as the user's own timeline: an edited preset is no longer the preset (issue 12).
  const saved = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), KEY));
  assert.equal(saved.preset, '');
  assert.equal(saved.scenario.title, JSON.parse(await page.evaluate(() => window.__explorer.state.presets.find((p) => p.name === 'voluntary-leave').json)).title);
  assert.equal(await page.evaluate(() => location.search), '', 'the preset leaves the address bar once edited');
  assert.deepEqual(errors, []);
});
