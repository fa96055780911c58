// The Policies panel draws issue 11's new open questions from the engine's catalogue (Q2, Q4,
// Q10, the deferral while Carol is still registered, the de-registration while deferred), each marked "not in the CR", and switching
// one changes the run: on the preset where Carol re-joins during the PF's reaction delay (the
// CR's path B), Q2 `register-received` makes the same re-join a re-join after reacting, decided
// by Q1, with a step that cites policy:q2-reacted-when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, holdSecondModule } from '../harness.mjs';

const env = useBrowser();

const labels = (page) => page.evaluate(() => window.__explorer.state.trace.steps.map((s) => `${s.label} [${s.clauses.join(', ')}]`));

test('Policies: Q2, Q4, Q10 and still-registered are listed, and switching Q2 changes the trace', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-b', viewport: { width: 1280, height: 720 } });
  await page.click('#policies summary');
  await page.waitForSelector('#policy-list select');
  for (const [id, def] of [['q2-reacted-when', 'invite-sent'], ['q4-ringing-no-answer', 'no-answer-60s'], ['q10-store-cap', 'unlimited'], ['q10-at-cap', 'drop-oldest'], ['still-registered', 'wait'], ['dereg-while-deferred', 'keep-deferring'], ['q18-subscription-fails', 'retry-backoff'], ['q20-other-contribution-id', 'new-session'], ['q17-imdn-while-storing', 'none'], ['q15-which-device', 'registering-device'], ['q9-leave-elsewhere', 'end-deferral'], ['q16-cf-in-dialog', 'answer-as-user']]) {
    const sel = page.locator(`#policy-${id}`);
    assert.equal(await sel.inputValue(), def, `${id} starts at its default`);
    assert.match(await sel.getAttribute('aria-label'), /\(not in the CR\)$/);
  }
  const before = await labels(page);
  assert.ok(before.some((l) => l.startsWith('no INVITE (path B) [8.3.2.9]')), 'the preset shows the CR\'s path B');
  assert.ok(!before.some((l) => l.includes('policy:q2-reacted-when')));
  await page.selectOption('#policy-q2-reacted-when', 'register-received');
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.label === 'reaction given up'));
  const after = await labels(page);
  assert.ok(!after.some((l) => l.startsWith('no INVITE (path B)')), 'no longer the CR\'s path B');
  assert.ok(after.some((l) => l.startsWith('reaction given up [policy:q2-reacted-when, policy:q1-rejoin-after-invite]')));
  assert.equal(await page.locator('#policy-mark').textContent(), '1 changed');
  assert.deepEqual(errors, []);
});

// The page's first wasm module runs every policy at its default (Cargo feature `policies`, issue
// 10's first-load budget); a policy change runs on the second module. Opening the panel starts
// loading it; a change made before it is there waits for it, and one it cannot have is not made.
test('a policy change waits for the second module, runs there, and is refused with a message when that module cannot load', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '?preset=race-rejoin-after-invite', viewport: { width: 1280, height: 720 } });
  assert.equal(await page.evaluate(() => window.__explorer.state.engine.fast), null, 'a preset at the defaults does not load the second module');
  const release = await holdSecondModule(page);
  await page.click('#policies summary');
  await page.waitForSelector('#policy-list select');
  const busy = () => page.evaluate(() => window.__explorer.state.trace.steps.some((s) => s.label.startsWith('486')));
  assert.equal(await busy(), false);
  await page.selectOption('#policy-q1-rejoin-after-invite', 'prefer-own-invite');
  await page.waitForTimeout(300);
  assert.equal(await busy(), false, 'not run yet: the second module is still loading');
  assert.equal(await page.locator('#banner').isVisible(), false, 'no refusal while it loads');
  release();
  await page.waitForFunction(() => window.__explorer.state.trace.steps.some((s) => s.label.startsWith('486')), null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => { const e = window.__explorer.state.engine; return e.last === e.fast && e.fast !== e.mod; }), true, 'the run is the second module\'s');
  assert.equal(await page.locator('#policy-mark').textContent(), '1 changed');
  // Undo and redo move between the modules without a word.
  await page.keyboard.press('Control+z');
  await page.waitForFunction(() => !window.__explorer.state.trace.steps.some((s) => s.label.startsWith('486')));
  assert.equal(await page.evaluate(() => { const e = window.__explorer.state.engine; return e.last === e.mod; }), true, 'back at the defaults: the first module again');
  assert.deepEqual(errors, []);

  // A fresh page whose second module cannot load: the change is not made, and the page says so.
  const { page: p2, errors: e2 } = await openExplorer(t, env, { query: '?preset=race-rejoin-after-invite', viewport: { width: 1280, height: 720 }, allow: [/cpm_deferral|pkg\/export|Failed to load|ERR_FAILED|descriptions did not load/i] });
  await p2.route('**/pkg/export/**', (route) => route.abort());
  await p2.click('#policies summary');
  await p2.waitForSelector('#policy-list select');
  await p2.selectOption('#policy-q1-rejoin-after-invite', 'prefer-own-invite');
  await p2.waitForFunction(() => /This change was not made: the engine module that runs it/.test(document.querySelector('#banner-text')?.textContent || ''), null, { timeout: 30000 });
  assert.equal(await p2.evaluate(() => window.__explorer.state.trace.steps.some((s) => s.label.startsWith('486'))), false);
  assert.equal(await p2.evaluate(() => JSON.stringify(window.__explorer.state.scenario.policies || {})), '{}', 'the scenario keeps its defaults');
  assert.equal(await p2.locator('#policy-q1-rejoin-after-invite').inputValue(), 'prefer-rejoin', 'the picker shows the default again');
  assert.ok(!e2.some((e) => /EngineCrash|panic/i.test(String(e))), e2.join('\n'));
});

test('a saved timeline with a policy opens on the second module with that policy in force', async (t) => {
  const { page: p0 } = await openExplorer(t, env, {});
  const base = await p0.evaluate(() => JSON.parse(window.__explorer.state.presets.find((p) => p.name === 'race-rejoin-after-invite').json));
  const { page, errors } = await openExplorer(t, env, { scenario: { ...base, policies: { 'q1-rejoin-after-invite': 'prefer-own-invite' } } });
  assert.equal(await page.evaluate(() => window.__explorer.state.trace.steps.some((s) => s.label.startsWith('486'))), true);
  assert.equal(await page.evaluate(() => { const e = window.__explorer.state.engine; return e.last === e.fast && e.fast !== e.mod; }), true);
  assert.equal(await page.locator('#banner').isVisible(), false);
  assert.deepEqual(errors, []);
});
