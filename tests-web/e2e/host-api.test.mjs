// The host control API (issue 15, docs/host-api.md): a host page on another origin drives the
// embedded explorer with postMessage and receives ready and state events; messages from other
// frames or origins, and messages of unexpected shape, change nothing and get no answer; what
// arrives is never evaluated (a hostile title is shown literally).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, ready } from '../harness.mjs';

const env = useBrowser();

/** The host page on http://localhost:PORT with the explorer from http://127.0.0.1:PORT. */
async function host(t, query = '') {
  const { page, errors } = await newPage(t, env);
  const port = new URL(env.origin).port;
  const q = new URLSearchParams({ explorer: env.origin, ...(query ? { query } : {}) });
  await page.goto(`http://localhost:${port}/tests-web/pages/host-api.html?${q}`);
  const frame = await (await page.waitForSelector('#x')).contentFrame();
  await ready(frame);
  await page.waitForFunction(() => window.__got.some((m) => m.data.event === 'ready'));
  return { page, frame, errors, origin: `http://localhost:${port}` };
}
const events = (page, kind) => page.evaluate((k) => window.__got.filter((m) => m.data.event === k).map((m) => m.data), kind);
/** Send a command and wait for its answer ('done' or 'error' with this id). */
async function command(page, msg) {
  const id = `c${Math.random().toString(36).slice(2)}`;
  await page.evaluate((m) => window.send(m), { ...msg, id });
  await page.waitForFunction((i) => window.__got.some((m) => m.data.id === i), id, { timeout: 10000 }).catch(async (e) => {
    throw new Error(`no answer to ${JSON.stringify(msg).slice(0, 200)}; last messages: ${JSON.stringify(await page.evaluate(() => window.__got.slice(-3).map((m) => m.data))).slice(0, 800)}`, { cause: e });
  });
  const all = await page.evaluate(() => window.__got.map((m) => m.data));
  return all.find((m) => m.id === id);
}
const lastState = async (page) => (await events(page, 'state')).at(-1);
const view = (frame) => frame.evaluate(() => {
  const s = window.__explorer.state;
  return { cursor: s.cursor, rules: s.rules, filters: s.filters.slice(), scenario: JSON.stringify(s.scenario), t: s.t };
});

test('commands from the embedding parent: step, key step, go to a step and a time, rules, policy, filters, scenario, tour; state events follow', async (t) => {
  const { page, frame, errors, origin } = await host(t);
  const ready0 = (await events(page, 'ready'))[0];
  assert.equal(ready0.protocol, 'cpm-deferral-explorer');
  assert.ok(ready0.commands.includes('goto') && ready0.commands.includes('tour'));
  assert.ok((await page.evaluate(() => window.__got.every((m) => m.origin === new URL(document.getElementById('x').src).origin))), 'events come from the explorer');
  void origin;
  assert.equal((await command(page, { cmd: 'next' })).event, 'done');
  let st = await lastState(page);
  assert.equal(st.step, await frame.evaluate(() => window.__explorer.state.cursor));
  assert.equal(typeof st.caption, 'string');
  assert.ok('pfState' in st && 'stored' in st && 'delivered' in st && 'lost' in st && 'key' in st && 'sid' in st);
  await command(page, { cmd: 'nextKey' });
  st = await lastState(page);
  assert.notEqual(st.key, null, 'a key step');
  const sid20 = await frame.evaluate(() => window.__explorer.state.trace.steps[20].sid);
  await command(page, { cmd: 'goto', step: sid20 });
  assert.equal((await lastState(page)).step, 21);
  await command(page, { cmd: 'goto', t: 30000 });
  assert.equal((await lastState(page)).t, 30000);
  await command(page, { cmd: 'goto', index: 0 });
  assert.equal((await lastState(page)).step, 0);
  assert.match((await command(page, { cmd: 'goto', step: 'no/such/step' })).message, /no step with this identity/);
  await command(page, { cmd: 'rules', rules: 'pre-cr' });
  assert.equal((await view(frame)).rules, 'pre-cr');
  assert.equal((await lastState(page)).rules, 'pre-cr');
  await command(page, { cmd: 'rules', rules: 'post-cr' });
  const pol = await command(page, { cmd: 'policy', policy: 'q8-group-ends', value: 'discard' });
  assert.equal(pol.event, 'done', pol.message);
  assert.equal(await frame.evaluate(() => window.__explorer.state.scenario.policies['q8-group-ends']), 'discard');
  assert.match((await command(page, { cmd: 'policy', policy: 'q8-group-ends', value: 'coin-toss' })).message, /options are/);
  await command(page, { cmd: 'filters', filters: ['msrp-200', 'nonsense'] });
  assert.deepEqual((await view(frame)).filters, ['msrp-200']);
  // Load a scenario (its title is shown as text), then a tour, played from stop 1.
  const sc = await frame.evaluate(() => ({ ...window.__explorer.state.scenario, title: '<img src=x onerror="window.__pwned=1">' }));
  assert.equal((await command(page, { cmd: 'scenario', scenario: sc })).event, 'done');
  assert.equal(await frame.evaluate(() => document.getElementById('title').textContent), sc.title);
  assert.equal(await frame.evaluate(() => document.querySelectorAll('img[src="x"]').length), 0);
  assert.match((await command(page, { cmd: 'scenario', scenario: { ...sc, events: [{ at_ms: 5, kind: 'dance' }] } })).message, /events\[0\]\.kind: unknown event kind/);
  const sids = await frame.evaluate(() => window.__explorer.state.trace.steps.filter((s) => s.key !== undefined).map((s) => s.sid));
  const tour = { title: 'From the host', stops: [{ step: sids[0], caption: 'first' }, { step: sids[1], caption: 'second' }] };
  assert.equal((await command(page, { cmd: 'tour', tour, play: true })).event, 'done');
  st = await lastState(page);
  assert.deepEqual([st.stop, st.caption, st.sid], [0, 'first', sids[0]]);
  await command(page, { cmd: 'stop', by: 1 });
  st = await lastState(page);
  assert.deepEqual([st.stop, st.caption], [1, 'second']);
  assert.match((await command(page, { cmd: 'tour', tour: { stops: [{ step: 'a', caption: 7 }] } })).message, /tour\.stops\[0\]\.caption: expected a string/);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
});

test('a foreign frame, a foreign origin or a hostile payload changes nothing and gets no answer', async (t) => {
  const { page, frame, errors } = await host(t);
  await command(page, { cmd: 'nextKey' });
  const before = await view(frame);
  const n0 = await page.evaluate(() => window.__got.length);
  const good = { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'goto', index: 0 };
  // The same command from a frame of the host's origin that is not the parent, and from a frame
  // of the explorer's own origin (postMessage to the explorer's window, any target origin).
  for (const id of ['same', 'other']) {
    const f = await (await page.waitForSelector(`#${id}`)).contentFrame();
    await f.waitForLoadState();
    await f.evaluate((m) => window.parent.frames[0].postMessage(m, '*'), good);
  }
  // Hostile shapes from the parent itself.
  const hostile = [
    null, 'goto', 42, [good], { ...good, protocol: 'other' }, { ...good, v: 2 }, { ...good, v: '1' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: '__proto__' }, { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'constructor' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'toString' }, { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'hasOwnProperty' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'eval', code: 'window.__pwned=1' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'goto', step: { toString: 'x' } },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'goto', index: -1 }, { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'goto', t: -5 },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'goto', index: 1.5 },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'rules', rules: 'best' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'filters', filters: 'msrp-200' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'filters', filters: Array(20).fill('msrp-200') },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'scenario', scenario: 'window.__pwned=1' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'scenario', scenario: [1, 2] },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'policy', policy: { length: 1 }, value: 'x' },
    { protocol: 'cpm-deferral-explorer', v: 1, cmd: 'stop', index: 'first' },
  ];
  await page.evaluate((list) => {
    for (const m of list) window.sendRaw(m);
    // Deep nesting and non-JSON values (structured clone carries them, JSON does not).
    let deep = {};
    for (let i = 0; i < 3000; i++) deep = { a: deep };
    window.sendRaw({ protocol: 'cpm-deferral-explorer', v: 1, cmd: 'scenario', scenario: deep });
    window.sendRaw({ protocol: 'cpm-deferral-explorer', v: 1, cmd: 'scenario', scenario: { events: [], big: 10n } });
    window.sendRaw({ protocol: 'cpm-deferral-explorer', v: 1, cmd: 'tour', tour: new Map([['stops', []]]) });
    window.sendRaw(Object.assign(Object.create({ cmd: 'next' }), { protocol: 'cpm-deferral-explorer', v: 1 }));
  }, hostile);
  // A command after them all: its answer comes after anything they could have caused.
  const after = await command(page, { cmd: 'state' });
  assert.equal(after.event, 'done');
  assert.deepEqual(await view(frame), before, 'nothing changed');
  const answers = await page.evaluate((n) => window.__got.slice(n).map((m) => m.data), n0);
  assert.deepEqual(answers.filter((m) => m.event !== 'state').map((m) => m.event), ['done'], `only the last command was answered: ${JSON.stringify(answers).slice(0, 300)}`);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors, []);
});

test('not framed: no host API (host.js is not loaded)', async (t) => {
  const { page, errors } = await newPage(t, env);
  await page.goto(`${env.base}?embed&preset=bye-480-path-a`);
  await ready(page);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('/host.js'))), false);
  assert.deepEqual(errors, []);
});

test('?host= names the parent: the right origin is answered, a wrong one gets nothing and commands nothing', async (t) => {
  const port = new URL(env.origin).port;
  const run = async (hostParam) => {
    const { page, errors } = await newPage(t, env);
    const q = new URLSearchParams({ explorer: env.origin, query: `?embed&preset=bye-480-path-a&host=${encodeURIComponent(hostParam)}` });
    await page.goto(`http://localhost:${port}/tests-web/pages/host-api.html?${q}`);
    const frame = await (await page.waitForSelector('#x')).contentFrame();
    await ready(frame);
    await page.waitForTimeout(300);
    await page.evaluate(() => window.send({ cmd: 'goto', index: 5, id: 'g' }));
    await page.waitForTimeout(500);
    return { got: await page.evaluate(() => window.__got.map((m) => m.data.event)), cursor: await frame.evaluate(() => window.__explorer.state.cursor), errors };
  };
  const right = await run(`http://localhost:${port}`);
  assert.ok(right.got.includes('ready') && right.got.includes('done'), right.got.join());
  assert.equal(right.cursor, 5);
  const wrong = await run('https://deck.example');
  assert.deepEqual(wrong.got, [], 'nothing reaches a parent the explorer was not told about');
  assert.notEqual(wrong.cursor, 5, 'and its commands are ignored');
  assert.deepEqual([...right.errors, ...wrong.errors], []);
});
