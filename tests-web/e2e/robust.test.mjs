// Issue 13, "Nothing the user built is lost, and no input freezes the page": one test per finding
// of the page (items 1, 2, 3, 4, 5, 6, 8, 10, 13; item 9 in robust-long.test.mjs), in Debian's Chromium. Each fails on the
// code before the fix (checked by running it there) and on any console or page error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useBrowser, newPage, openExplorer, ready, shot, KEY, pick, seedSaved } from '../harness.mjs';

const env = useBrowser();

const HEAD = { format: 'cpm-deferral-scenario', version: 1 };
const small = (title = 'Mine') => ({
  ...HEAD, title, events: [
    { at_ms: 1000, kind: 'message', from: 'alice', text: 'one' },
    { at_ms: 3000, kind: 'bye', reason: 'SIP;cause=480' },
    { at_ms: 5000, kind: 'message', from: 'bob', text: 'two' },
    { at_ms: 9000, kind: 'register', reaction_ms: 500 },
  ],
});
const scenarioOf = (page) => page.evaluate(() => JSON.stringify(window.__explorer.state.scenario));
const savedRev = (page) => page.evaluate(() => document.documentElement.dataset.saved || '');
/** Waits until the page has written a revision other than `before`. */
const savedAfter = (page, before) => page.waitForFunction((b) => (document.documentElement.dataset.saved || '') !== b, before, { timeout: 20000 });

async function openEditor(page, kind) {
  await page.locator(`.marker[data-kind="${kind}"]`).first().click();
  await page.waitForSelector('#editor:not([hidden]) #ed-at');
}
async function typeInto(page, sel, value) {
  await page.fill(sel, value);
  await page.locator(sel).dispatchEvent('change');
}

// ------------------------------------------------------------------ item 1

test('item 1: an out-of-range time in the editor is refused with the engine\'s message; nothing is drawn, saved or slow after', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: small() });
  const before = await scenarioOf(page);
  await openEditor(page, 'message');
  for (const [typed, shown] of [['1733040000000', '1733040000000 is out of range'], ['10000000000000', 'is out of range'], ['1e308', '1e+308 is out of range'], ['-5', 'expected a whole number of milliseconds'], ['12.5', 'expected a whole number of milliseconds']]) {
    await typeInto(page, '#ed-at', typed);
    const msg = await page.locator('#ed-error').textContent({ timeout: 5000 });
    assert.match(msg, new RegExp(`^events\\[\\d\\]\\.at_ms: .*${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${typed}: ${msg}`);
    // The same words as the engine's check of that file (the CLI's `check`).
    const check = await page.evaluate((v) => {
      const s = structuredClone(window.__explorer.state.scenario);
      s.events[0].at_ms = Number(v);
      s.events.sort((a, b) => a.at_ms - b.at_ms);
      return window.__explorer.state.engine.check(s);
    }, typed);
    if (!['-5', '12.5'].includes(typed)) assert.equal(msg, check, `${typed}: same message as check`);
    assert.equal(await scenarioOf(page), before, `${typed}: the scenario is unchanged`);
    const ticks = await page.locator('#timeline .tl-axis line').count();
    assert.ok(ticks < 40, `${typed}: ${ticks} axis ticks`);
  }
  // After a reload the timeline is as it was (nothing out of range was saved).
  await page.reload();
  await ready(page);
  assert.equal(await scenarioOf(page), before);
  assert.ok((await page.locator('#timeline .tl-axis line').count()) < 40);
  assert.deepEqual(errors, []);
});

// ------------------------------------------------------------------ items 2 and 3

/**
 * A valid scenario of about `mib` M characters of JSON: texts of ~1,900 letters (pseudo-random,
 * so that IndexedDB's compression does not shrink them below a quota), some not Latin-1.
 */
function bigText(mib) {
  let x = 12345;
  const letters = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const rand = (n) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += letters[x % letters.length];
    }
    return out;
  };
  const n = Math.ceil((mib * 1024 * 1024) / 1970);
  const events = [];
  for (let i = 0; i < n; i++) events.push({ at_ms: 1000 + i * 100, kind: 'message', from: i % 2 ? 'bob' : 'alice', text: `${'ł'.repeat(20)}${rand(1870 + (i % 10))}` });
  return { ...HEAD, title: `${mib} MiB`, events };
}

test('item 2: a 6 MiB scenario is kept (IndexedDB) and comes back after a reload; with the quota used up the page says so and offers a download', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const big = bigText(6);
  // Quota exhaustion first (the storage is nearly full when a big timeline comes): IndexedDB
  // refuses the write; the page says so and offers the download.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin, quotaSize: 256 * 1024 });
  t.after(() => cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin }).catch(() => {}));
  const rev = await savedRev(page);
  await page.evaluate((s) => window.__explorer.load(s), big);
  await page.evaluate(() => window.__explorer.benchMove(1, 2345));
  const msg = await page.locator('#keep-banner:not([hidden]) #keep-text').textContent({ timeout: 20000 });
  assert.match(msg, /cannot be kept in this browser: the browser's storage for this page is full/, msg);
  assert.equal(await savedRev(page), rev, 'nothing claimed as saved');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#keep-download')]);
  const got = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
  assert.equal(got.events.length, big.events.length);
  assert.equal(got.events.find((e) => e.at_ms === 2345)?.kind, 'message', 'the download has the last edit');
  await shot(page, 'robust-quota');

  // Room again: the next edit is kept (in IndexedDB: too big for localStorage), the message
  // goes, and after a reload the timeline is back with its last edit.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: env.origin });
  await page.evaluate(() => window.__explorer.benchMove(0, 1234));
  await page.evaluate(() => window.__explorer.settled());
  assert.equal(await page.locator('#keep-banner').isHidden(), true);
  const want = await scenarioOf(page);
  assert.ok(want.length > 5.5 * 1024 * 1024, `${want.length} characters`);
  await page.reload();
  await ready(page);
  assert.equal(await scenarioOf(page), want, 'the 6 MiB timeline with its last edit came back');
  assert.equal(await page.locator('#keep-banner').isHidden(), true);
  assert.deepEqual(errors, []);
});

test('item 3: a save in another tab (even a theme toggle) never replaces this tab\'s timeline silently', async (t) => {
  const { page: a, errors: ea } = await openExplorer(t, env, { scenario: small('Tab A') });
  const { page: b, errors: eb } = await newPage(t, env);
  await b.goto(env.base);
  await ready(b);
  // A edits (saved); then B, which loaded the older revision, toggles the theme.
  const rev = await savedRev(a);
  await a.evaluate(() => window.__explorer.benchMove(0, 1500));
  await savedAfter(a, rev);
  const aSaved = await a.evaluate((k) => localStorage.getItem(k), KEY);
  assert.match(await b.locator('#keep-banner:not([hidden]) #keep-text').textContent({ timeout: 5000 }), /Another tab saved a different timeline/);
  await b.click('#theme');
  await b.waitForTimeout(300);
  assert.equal(await a.evaluate((k) => localStorage.getItem(k), KEY), aSaved, "B's theme toggle did not replace A's timeline");
  // B edits too: still nothing written over A's.
  await b.evaluate(() => window.__explorer.benchMove(0, 7000));
  await b.waitForTimeout(300);
  assert.equal(await a.evaluate((k) => localStorage.getItem(k), KEY), aSaved);
  await shot(b, 'robust-two-tabs');
  // B chooses to open A's timeline: B shows it (and can undo back to its own).
  await b.click('#keep-load');
  await b.waitForFunction(() => document.getElementById('keep-banner').hidden);
  assert.equal(await scenarioOf(b), await scenarioOf(a));
  assert.equal(await b.evaluate(() => window.__explorer.state.history.canUndo()), true);
  // B edits now and saves; A hears of it and chooses to keep its own: A's is saved again.
  const revB = await savedRev(b);
  await b.evaluate(() => window.__explorer.benchMove(0, 8000));
  await savedAfter(b, revB);
  await a.waitForSelector('#keep-banner:not([hidden]) #keep-mine', { timeout: 5000 });
  const revA = await savedRev(a);
  await a.click('#keep-mine');
  await savedAfter(a, revA);
  const stored = JSON.parse(await a.evaluate((k) => localStorage.getItem(k), KEY));
  assert.equal(JSON.stringify(stored.scenario), await scenarioOf(a));
  assert.deepEqual(ea, []);
  assert.deepEqual(eb, []);
});

// ------------------------------------------------------------------ items 4 and 13

test('item 4: saved state that cannot be opened is named, kept, downloadable raw or discarded; the page works meanwhile', async (t) => {
  const deep = `{"scenario":{"events":[],"title":${'['.repeat(200000)}${']'.repeat(200000)}},"rules":"post-cr"}`;
  const cases = [
    ['events: [null]', JSON.stringify({ scenario: { ...HEAD, events: [null] }, rules: 'post-cr' }), /events\[0\]: expected an object/],
    ['members: [null]', JSON.stringify({ scenario: { ...HEAD, members: [null], events: [] }, rules: 'post-cr' }), /members\[0\]: expected an object/],
    ['deep nesting', deep, /cannot be read|nested|recursion|JSON/],
    ['truncated', JSON.stringify({ scenario: small(), rules: 'post-cr' }).slice(0, 60), /not complete or not JSON/],
    ['not JSON', 'hello', /not complete or not JSON/],
    ['at an epoch time', JSON.stringify({ scenario: { ...HEAD, events: [{ at_ms: 1733040000000, kind: 'rejoin' }] } }), /events\[0\]\.at_ms: 1733040000000 is out of range/],
  ];
  for (const [name, raw, re] of cases) {
    const { page, errors } = await newPage(t, env);
    await seedSaved(page, env, raw);
    for (let round = 0; round < 2; round++) {
      await page.reload();
      await ready(page);
      const msg = await page.locator('#keep-banner:not([hidden]) #keep-text').textContent({ timeout: 10000 });
      assert.match(msg, /^Your saved timeline cannot be opened: /, `${name}: ${msg}`);
      assert.match(msg, re, `${name}: ${msg}`);
      assert.ok((await page.evaluate(() => window.__explorer.state.trace.steps.length)) > 0, `${name}: a preset runs meanwhile`);
      assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), raw, `${name}: the record is kept as it was (round ${round})`);
    }
    if (name === 'events: [null]') {
      await shot(page, 'robust-bad-saved');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#keep-raw')]);
      assert.equal(fs.readFileSync(await dl.path(), 'utf8'), raw, 'downloaded as saved');
    }
    await page.click('#keep-discard');
    await page.waitForFunction(() => document.getElementById('keep-banner').hidden);
    await page.reload();
    await ready(page);
    assert.equal(await page.locator('#keep-banner').isHidden(), true, `${name}: discarded`);
    assert.deepEqual(errors, [], name);
    await page.close();
  }
});

test('item 13: a saved speed or time that is garbage falls back to its default; the clock and playback work', async (t) => {
  for (const bad of [{ speed: 'fast', t: 'soon' }, { speed: -3, t: -1 }, { speed: 1e308, t: 1e308 }, { speed: null, t: { x: 1 } }]) {
    const { page, errors } = await newPage(t, env);
    await seedSaved(page, env, JSON.stringify({ scenario: small(), rules: 'post-cr', ...bad }));
    await page.reload();
    await ready(page);
    const st = await page.evaluate(() => ({ speed: window.__explorer.state.speed, t: window.__explorer.state.t, clock: document.getElementById('clock').textContent }));
    assert.equal(st.speed, 1, JSON.stringify(bad));
    assert.equal(st.t, 0, JSON.stringify(bad));
    assert.match(st.clock, /^\d+:\d\d\.\d{3}$/, `${JSON.stringify(bad)}: clock ${st.clock}`);
    await page.click('#play');
    await page.waitForFunction(() => window.__explorer.state.t > 0, null, { timeout: 5000 });
    assert.deepEqual(errors, [], JSON.stringify(bad));
    await page.close();
  }
});

// ------------------------------------------------------------------ item 5

test('item 5: 200 moves on a 1 MB timeline keep changes, not copies (heap), and undo gives back every state', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const big = bigText(1);
  await page.evaluate((s) => window.__explorer.load(s), big);
  const first = await scenarioOf(page);
  const cdp = await page.context().newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const h0 = await heap();
  await page.evaluate(() => {
    const n = window.__explorer.state.scenario.events.length;
    for (let k = 0; k < 200; k++) window.__explorer.benchMove((k * 37) % n, 1000 + ((k * 7919) % n) * 100 + 50);
  });
  const grown = (await heap()) - h0;
  t.diagnostic(`heap growth over 200 moves: ${(grown / 1048576).toFixed(1)} MB (history ${await page.evaluate(() => window.__explorer.state.history.bytes)} bytes)`);
  assert.ok(grown < 40 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(0)} MB over 200 moves (200 copies would be ${(200 * first.length * 2 / 1048576).toFixed(0)} MB)`);
  const back = await page.evaluate(() => {
    let n = 0;
    while (window.__explorer.state.history.canUndo()) {
      document.getElementById('undo').click();
      n++;
    }
    return n;
  });
  assert.ok(back >= 200, `${back} undos`);
  assert.equal(await scenarioOf(page), first, 'undo went back to the first state');
  assert.deepEqual(errors, []);
});

// ------------------------------------------------------------------ item 6

test('item 6: "Add member" derives a valid, unique id from any name and shows it; the timeline runs', async (t) => {
  const scenario = { ...small(), members: [{ id: 'alice', name: 'Alice' }, { id: 'bob', name: 'Bob' }, { id: 'dave', name: 'Dave', in_group: false }] };
  scenario.events = [...scenario.events, { at_ms: 6000, kind: 'join', member: 'dave' }].sort((a, b) => a.at_ms - b.at_ms);
  const { page, errors } = await openExplorer(t, env, { scenario });
  const ids = [];
  for (const name of ['Alexandra Richardson', '2nd shift', 'CF', 'Carol PF', 'scscf', 'carol', 'Zoë', '李']) {
    await openEditor(page, 'join');
    await page.fill('#ed-newmember', name);
    await page.click('#editor button:text("Add member")');
    await page.waitForFunction((n) => document.getElementById('ed-added')?.textContent.includes(`“${n}”`), name, { timeout: 5000 });
    const shown = await page.locator('#ed-added').textContent();
    const id = await page.evaluate(() => window.__explorer.state.scenario.events.find((e) => e.kind === 'join').member);
    assert.equal(shown, `Added “${name}” with the id ${id}.`);
    assert.match(id, /^[a-z][a-z0-9-]{0,15}$/, `${name} → ${id}`);
    assert.ok(!['carol', 'carol-pf', 'cf', 'scscf'].includes(id) && !ids.includes(id), `${name} → ${id}`);
    ids.push(id);
    assert.equal(await page.locator('#banner').isHidden(), true, `${name}: no message`);
    assert.equal(await page.evaluate(() => window.__explorer.state.error), null);
  }
  assert.deepEqual(errors, []);
});

// ------------------------------------------------------------------ items 8 and 10


test('item 10: the page refuses what `check` refuses (BOM, bad UTF-8, 1000.0, 1e3, -0, version 1.0, status 486.0), in check\'s words', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: small('Kept') });
  const ev = (e) => Buffer.from(`{"format":"cpm-deferral-scenario","version":1,"events":[${e}]}`);
  const cases = [
    ['bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ev('{"at_ms":1,"kind":"rejoin"}')]), /\(file\): starts with a byte order mark/],
    ['overlong', Buffer.from('{"format":"cpm-deferral-scenario","version":1,"title":"\xc0\xaf","events":[]}', 'latin1'), /not UTF-8 text \(invalid or overlong UTF-8 at byte 55\)/],
    ['invalid', Buffer.from('{"format":"cpm-deferral-scenario","version":1,"title":"\xff","events":[]}', 'latin1'), /not UTF-8 text/],
    ['decimal', ev('{"at_ms":1000.0,"kind":"rejoin"}'), /events\[0\]\.at_ms: expected a whole number of milliseconds \(0 or more\), found 1000\.0 \(write it as 1000/],
    ['exponent', ev('{"at_ms":1e3,"kind":"rejoin"}'), /events\[0\]\.at_ms: .*write it as 1000/],
    ['minus-zero', ev('{"at_ms":-0,"kind":"rejoin"}'), /events\[0\]\.at_ms: .*write it as 0/],
    ['version', Buffer.from('{"format":"cpm-deferral-scenario","version":1.0,"events":[]}'), /version: found 1\.0; write 1/],
    ['status', ev('{"at_ms":1,"kind":"invite_rejected","status":486.0}'), /events\[0\]\.status: expected a whole number, a SIP final status code, found 486\.0/],
  ];
  for (const [name, buffer, re] of cases) {
    await pick(page, { name: `${name}.json`, mimeType: 'application/json', buffer });
    const msg = await page.locator('#banner:not([hidden]) #banner-text').textContent({ timeout: 5000 });
    assert.match(msg, new RegExp(`^Cannot open ${name}\\.json: `), msg);
    assert.match(msg, re, `${name}: ${msg}`);
    assert.equal(await page.evaluate(() => window.__explorer.state.scenario.title), 'Kept', `${name}: not opened`);
  }
  assert.deepEqual(errors, []);
});

test('item 8: an 8 MB hostile value is cut in the message; the banner fits the window', async (t) => {
  const { page, errors } = await openExplorer(t, env, { scenario: small('Kept') });
  const big = 'k'.repeat(7 * 1024 * 1024);
  for (const [name, text] of [
    ['kind', `{"format":"cpm-deferral-scenario","version":1,"events":[{"at_ms":1,"kind":"${big}"}]}`],
    ['policy', `{"format":"cpm-deferral-scenario","version":1,"policies":{"${big}":"x"},"events":[]}`],
    ['member', `{"format":"cpm-deferral-scenario","version":1,"events":[{"at_ms":1,"kind":"leave","member":"${big}"}]}`],
  ]) {
    await pick(page, { name: `${name}.json`, mimeType: 'application/json', buffer: Buffer.from(text) });
    const msg = await page.locator('#banner:not([hidden]) #banner-text').textContent({ timeout: 10000 });
    assert.ok(msg.length < 1000 && msg.includes('…'), `${name}: ${msg.length} characters: ${msg.slice(0, 200)}`);
    const box = await page.locator('#banner-close').boundingBox();
    const width = await page.evaluate(() => innerWidth);
    assert.ok(box && box.x + box.width <= width, `${name}: the close button is at x=${box?.x}`);
  }
  assert.deepEqual(errors, []);
});
