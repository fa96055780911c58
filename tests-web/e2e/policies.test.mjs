// The Policies panel draws issue 11's new open questions from the engine's catalogue (Q2, Q4,
// Q10, the deferral while Carol is still registered, the de-registration while deferred), each marked "not in the CR", and switching
// one changes the run: on the preset where Carol re-joins during the PF's reaction delay (the
// CR's path B), Q2 `register-received` makes the same re-join a re-join after reacting, decided
// by Q1, with a step that cites policy:q2-reacted-when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer } from '../harness.mjs';

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
