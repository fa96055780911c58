// Exercises at tour stops (issue 15): a multiple choice and an engine-graded task, each answered
// wrong then right inside an embed, with the host receiving the result events (xAPI-shaped);
// texts from the file are shown literally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, newPage, ready } from '../harness.mjs';

const env = useBrowser();
const HOSTILE = '<b onmouseover="window.__pwned=1">Which case</b> of §8.3.2.9 applies here?';

test('multiple choice and engine-graded task, wrong then right, results to the host', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=group-ends-while-away' });
  // The task: "choose the policy under which the stored messages are not delivered when the
  // group ends" — the summary count that the q8 policy changes, at its value under "discard".
  const setup = await page.evaluate(async () => {
    const st = window.__explorer.state;
    const sc = st.scenario;
    // A policy other than the default runs on the second module (www/engine.js needsSecond).
    await st.engine.loadFast();
    const a = st.engine.run(sc, 'post-cr').summary;
    const b = st.engine.run({ ...sc, policies: { ...(sc.policies || {}), 'q8-group-ends': 'discard' } }, 'post-cr').summary;
    const field = Object.keys(b).find((k) => a[k] !== b[k]);
    const keys = st.trace.steps.filter((s) => s.key !== undefined).map((s) => s.sid);
    return { field, want: b[field], keys };
  });
  assert.ok(setup.field, 'the policy changes a count');
  const tour = {
    title: 'Quiz',
    stops: [
      { step: setup.keys[0], caption: 'The trigger.', ask: { id: 'which-case', question: HOSTILE, choices: ['Case 1: a BYE whose Reason is not 200', 'Case 2: an INVITE that times out', 'Case 3: MSRP fails'], answer: 0, explain: '§8.3.2.9 case 1: the BYE carries Reason SIP with a cause other than 200.' } },
      { step: setup.keys[1], caption: 'Now you.', ask: { id: 'q8-discard', question: 'Choose the policy under which the store is dropped when the group ends.', expect: [{ count: setup.field, min: setup.want, max: setup.want }], explain: 'Q8 (not in the CR): discard drops the store at the group’s end.' } },
    ],
  };
  await page.evaluate((tr) => window.__explorer.load({ ...window.__explorer.state.scenario, version: 2, tour: tr }), tour);
  const link = await page.evaluate(() => window.__explorer.shareLink());
  const hash = link.slice(link.indexOf('#'));

  const { page: host, errors: e2 } = await newPage(t, env);
  const port = new URL(env.origin).port;
  const q = new URLSearchParams({ explorer: env.origin, query: `?embed&tour${hash}` });
  await host.goto(`http://localhost:${port}/tests-web/pages/host-api.html?${q}`);
  const frame = await (await host.waitForSelector('#x')).contentFrame();
  await ready(frame);
  await frame.waitForSelector('#tour-box .ex');
  assert.equal(await frame.textContent('#tour-box .ex-q'), HOSTILE, 'the question is shown literally');
  assert.equal(await frame.evaluate(() => document.querySelectorAll('#tour-box .ex-q *').length), 0);
  const results = () => host.evaluate(() => window.__got.filter((m) => m.data.event === 'result').map((m) => m.data));
  // Multiple choice: wrong, then right.
  await frame.check('#tour-box input[name="ex-which-case"][value="1"]');
  await frame.click('#ex-answer');
  await host.waitForFunction(() => window.__got.some((m) => m.data.event === 'result'));
  assert.match(await frame.textContent('#tour-box .ex-feedback'), /^Not yet\. §8\.3\.2\.9 case 1/);
  await frame.check('#tour-box input[name="ex-which-case"][value="0"]');
  await frame.click('#ex-answer');
  await host.waitForFunction(() => window.__got.filter((m) => m.data.event === 'result').length === 2);
  assert.match(await frame.textContent('#tour-box .ex-feedback'), /^Right\./);
  let r = await results();
  assert.deepEqual(r.map((x) => [x.id, x.correct, x.attempts, x.response]), [['which-case', false, 1, '1'], ['which-case', true, 2, '0']]);
  assert.equal(r[1].xapi.verb.id, 'http://adlnet.gov/expapi/verbs/answered');
  assert.equal(r[1].xapi.object.id, 'urn:cpm-deferral-explorer:exercise:which-case');
  assert.equal(r[1].xapi.object.definition.interactionType, 'choice');
  assert.deepEqual(r[1].xapi.object.definition.correctResponsesPattern, ['0']);
  assert.equal(r[1].xapi.result.success, true);
  assert.equal(r[1].xapi.result.extensions['urn:cpm-deferral-explorer:attempts'], 2);
  // The task, graded by the engine on the learner's timeline: wrong (default policy), then right.
  await frame.click('#tour-next');
  await frame.waitForSelector('#ex-check');
  await frame.click('#ex-check');
  await host.waitForFunction(() => window.__got.filter((m) => m.data.event === 'result').length === 3);
  assert.match(await frame.textContent('#tour-box .ex-feedback'), new RegExp(`^Not yet\\. ${setup.field.replace(/_/g, ' ')}: \\d+ \\(wanted ${setup.want}\\)`));
  // The learner's edit: the policy (here sent by the host, as the embed has no Policies panel).
  await host.evaluate(() => window.send({ cmd: 'policy', policy: 'q8-group-ends', value: 'discard', id: 'p' }));
  await host.waitForFunction(() => window.__got.some((m) => m.data.id === 'p'));
  await frame.click('#ex-check');
  await host.waitForFunction(() => window.__got.filter((m) => m.data.event === 'result').length === 4);
  assert.match(await frame.textContent('#tour-box .ex-feedback'), /^Right\. Q8 \(not in the CR\)/);
  r = await results();
  assert.deepEqual(r.slice(2).map((x) => [x.id, x.correct, x.attempts, x.xapi.object.definition.interactionType]), [['q8-discard', false, 1, 'performance'], ['q8-discard', true, 2, 'performance']]);
  assert.equal(await frame.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(e2, []);
  assert.deepEqual(errors, []);
});

test('in the page (not framed): an engine-graded task answered wrong, then right after the learner\'s edit', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=msrp-loss-path-a' });
  const keys = await page.evaluate(() => window.__explorer.state.trace.steps.filter((s) => s.key !== undefined).map((s) => s.sid));
  await page.evaluate((k) => window.__explorer.load({ ...window.__explorer.state.scenario, version: 2, tour: { stops: [
    { step: k[0], ask: { id: 'pre-lost', question: 'Under the pre-CR rules, is anything lost here? Make the run lose nothing.', rules: 'pre-cr', expect: [{ count: 'lost', max: 0 }, { key: 'no such key step', present: false }] } },
  ] } }), keys);
  await page.click('#tour-start');
  await page.waitForSelector('#ex-check');
  await page.click('#ex-check');
  await page.waitForFunction(() => window.__explorer.state.lastResult?.attempts === 1);
  const r1 = await page.evaluate(() => window.__explorer.state.lastResult);
  assert.equal(r1.correct, false, r1.response);
  // The learner's edit: the other members' messages go (nothing left to lose).
  await page.evaluate(() => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, events: sc.events.filter((e) => e.kind !== 'message' || e.from === 'carol').filter((e) => e.kind !== 'group_ends') });
  });
  await page.click('#ex-check');
  await page.waitForFunction(() => window.__explorer.state.lastResult?.attempts === 2);
  const r2 = await page.evaluate(() => window.__explorer.state.lastResult);
  assert.equal(r2.correct, true, r2.response);
  assert.deepEqual(errors, []);
});

test('ready tours ship with presets: ?tour on invite-timeout-path-a plays its stops, a case question, and a graded task at the end', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=invite-timeout-path-a&tour' });
  await page.waitForSelector('#tour-box .ex');
  assert.match(await page.textContent('#tour-box .tour-text'), /^Trigger: Timer B fired/);
  await page.check('#tour-box input[value="0"]');
  await page.click('#ex-answer');
  assert.match(await page.textContent('#tour-box .ex-feedback'), /^Not yet\. §8\.3\.2\.9, case 2/);
  await page.check('#tour-box input[value="1"]');
  await page.click('#ex-answer');
  assert.match(await page.textContent('#tour-box .ex-feedback'), /^Right\./);
  const n = await page.evaluate(() => window.__explorer.state.scenario.tour.stops.length);
  assert.ok(n >= 5 && n <= 15, `${n} stops`);
  for (let i = 1; i < n; i++) await page.keyboard.press('PageDown');
  assert.equal(await page.evaluate(() => document.getElementById('tour-box').dataset.stop), String(n - 1));
  await page.click('#ex-check');
  assert.match(await page.textContent('#tour-box .ex-feedback'), /^Not yet\. lost: 3 \(wanted at most 0\)/);
  await page.evaluate(() => {
    const sc = window.__explorer.state.scenario;
    window.__explorer.load({ ...sc, events: sc.events.filter((e) => e.kind !== 'message') });
  });
  await page.click('#ex-check');
  assert.match(await page.textContent('#tour-box .ex-feedback'), /^Right\. Before the CR only a BYE/);
  // The editor offers the ready tour for an unedited preset only.
  await page.goto(`${env.base}?preset=bye-480-path-a`);
  await ready(page);
  await page.click('#file-menu summary');
  await page.click('#tour-edit');
  await page.waitForSelector('#tour-ready:not([hidden])');
  await page.click('#tour-ready');
  await page.waitForFunction(() => window.__explorer.state.scenario.tour?.stops.length > 3);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.tour.stops.at(-1).ask.id), 'bye-480-path-b');
  assert.deepEqual(errors, []);
});

test('every ready tour: its task is not met by the preset as it is, and is met by a one-event edit', async (t) => {
  const { page, errors } = await openExplorer(t, env);
  const out = await page.evaluate(async () => {
    const ready = await import('./ready-tours.js');
    const ex = await import('./exercises.js');
    const st = window.__explorer.state;
    await st.engine.prepare({ tour: {} }); // the module that checks tours (the first one has no tour checks)
    const fixes = {
      'bye-480-path-a': (sc) => ({ ...sc, events: [...sc.events, { at_ms: 26200, kind: 'rejoin' }].sort((a, b) => a.at_ms - b.at_ms) }),
      'invite-timeout-path-a': (sc) => ({ ...sc, events: sc.events.filter((e) => e.kind !== 'message') }),
      'msrp-loss-path-a': (sc) => ({ ...sc, events: sc.events.map((e) => (e.kind === 'msrp_loss' ? { at_ms: e.at_ms, kind: 'bye', reason: 'SIP;cause=480' } : e)) }),
    };
    return ready.names.map((name) => {
      const sc = JSON.parse(st.presets.find((p) => p.name === name).json);
      const tour = ready.readyTour(name, st.engine.run(sc, 'post-cr'));
      const ask = tour.stops.at(-1).ask;
      const api = (s) => ({ state: { engine: st.engine, scenario: s, rules: 'post-cr' } });
      return { name, stops: tour.stops.length, asks: tour.stops.filter((s) => s.ask).length, before: ex.check(api(sc), ask), after: ex.check(api(fixes[name](sc)), ask), valid: st.engine.check({ ...sc, version: 2, tour }) };
    });
  });
  assert.equal(out.length, 3);
  for (const r of out) {
    assert.equal(r.valid, null, `${r.name}: the engine accepts the ready tour`);
    assert.equal(r.asks, 2, r.name);
    assert.equal(r.before.ok, false, `${r.name}: ${r.before.response}`);
    assert.equal(r.after.ok, true, `${r.name}: ${r.after.response}`);
  }
  assert.deepEqual(errors, []);
});

test('the editor records a multiple-choice question at a stop; it plays, is graded and shown literally', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=msrp-loss-path-a' });
  await page.click('#file-menu summary');
  await page.click('#tour-edit');
  await page.click('#next-key');
  await page.fill('#tour-caption', 'The trigger');
  await page.click('#tour-ask summary');
  await page.fill('#tour-q', HOSTILE);
  await page.fill('#tour-choices', 'Case 1\nCase 2\n\nCase 3 <i>MSRP</i>');
  await page.fill('#tour-right', '3');
  await page.fill('#tour-explain', '§8.3.2.9 case 3.');
  await page.click('#tour-add');
  await page.waitForFunction(() => window.__explorer.state.scenario.tour?.stops.length === 1);
  const ask = await page.evaluate(() => window.__explorer.state.scenario.tour.stops[0].ask);
  assert.deepEqual({ ...ask, id: undefined }, { id: undefined, question: HOSTILE, choices: ['Case 1', 'Case 2', 'Case 3 <i>MSRP</i>'], answer: 2, explain: '§8.3.2.9 case 3.' });
  assert.match(ask.id, /^stop-1-b-onmouseover/);
  // Not enough answers: refused with a sentence, nothing recorded.
  await page.click('#next-key');
  await page.click('#tour-ask summary').catch(() => {});
  await page.evaluate(() => { document.getElementById('tour-ask').open = true; });
  await page.fill('#tour-q', 'Only one?');
  await page.fill('#tour-choices', 'yes');
  await page.click('#tour-add');
  assert.match(await page.textContent('#tour-error'), /at least two answers/);
  assert.equal(await page.evaluate(() => window.__explorer.state.scenario.tour.stops.length), 1);
  await page.click('#tour-preview');
  await page.waitForSelector('#tour-box .ex');
  assert.equal(await page.textContent('#tour-box .ex-q'), HOSTILE);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#tour-box .ex i, #tour-box .ex-q *').length), 0);
  await page.check('#tour-box input[value="2"]');
  await page.click('#ex-answer');
  assert.match(await page.textContent('#tour-box .ex-feedback'), /^Right\. §8\.3\.2\.9 case 3\./);
  assert.deepEqual(errors, []);
});
