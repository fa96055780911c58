// The top bar and the page's layout (issue 12): at 1280×720 and 1366×768, normal and large type,
// light and dark: no horizontal scroll, every control inside the viewport (or inside a region
// that scrolls), axe-core with no serious or critical violation. The preset picker names the
// presets by title and the description can be read whole; the Policies panel closes on Escape
// and on a click outside, the page shows when a policy is not at its default, and an edited
// preset is "your timeline" in the picker, also after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openExplorer, shot, axe, ready } from '../harness.mjs';

const env = useBrowser();

/** Controls whose box leaves the viewport, except inside a scrolling region. */
const offscreen = (page) => page.evaluate(() => {
  const W = innerWidth;
  const H = innerHeight;
  const scrolls = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p);
      if (/(auto|scroll)/.test(o.overflowY + o.overflowX) && (p.scrollHeight > p.clientHeight + 1 || p.scrollWidth > p.clientWidth + 1)) return true;
    }
    return false;
  };
  const out = [];
  for (const e of document.querySelectorAll('button, select, input, summary, a[href], [tabindex="0"], [role="button"]')) {
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue; // not shown
    if (e.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1) {
      if (!scrolls(e)) out.push(`${e.id || e.tagName.toLowerCase()}${e.className?.baseVal ?? e.className ? `.${String(e.className?.baseVal ?? e.className).split(' ')[0]}` : ''} [${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)}×${Math.round(r.bottom)}]`);
    }
  }
  return { out, hscroll: document.documentElement.scrollWidth > W || document.body.scrollWidth > W };
});

for (const viewport of [{ width: 1280, height: 720 }, { width: 1366, height: 768 }]) {
  test(`${viewport.width}×${viewport.height}: normal and large type, light and dark: every control on screen, no sideways scroll, axe clean`, async (t) => {
    const { page, errors } = await openExplorer(t, env, { query: '?preset=bye-480-path-a', viewport });
    for (const large of [false, true]) {
      for (const theme of ['light', 'dark']) {
        await page.evaluate(([l, th]) => {
          const s = window.__explorer.state;
          if (s.large !== l) document.getElementById('large').click();
          if (document.documentElement.dataset.theme !== th) document.getElementById('theme').click();
        }, [large, theme]);
        await page.waitForTimeout(50);
        const r = await offscreen(page);
        const label = `${viewport.width} ${large ? 'large' : 'normal'} ${theme}`;
        assert.equal(r.hscroll, false, `${label}: the page scrolls sideways`);
        assert.deepEqual(r.out, [], `${label}: controls off-screen`);
        const a = await axe(page, env);
        assert.deepEqual(a.serious, [], `${label}: axe`);
        if (large) await shot(page, `header-${viewport.width}-large-${theme}`);
      }
    }
    assert.deepEqual(errors, []);
  });
}

test('preset picker: titles, a readable description; Policies: Escape, outside click, a mark when changed; an edited preset is your timeline', async (t) => {
  const { page, errors } = await openExplorer(t, env, { query: '', viewport: { width: 1280, height: 720 } });
  await page.selectOption('#preset', 'bye-480-path-a');
  const label = await page.locator('#preset option:checked').textContent();
  assert.equal(label, 'BYE 480, then Carol registers (path A)');
  assert.doesNotMatch(label, /-/);
  // The description is whole (wraps), not cut.
  const cap = page.locator('#preset-caption');
  assert.ok(await cap.evaluate((e) => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1), 'description fits');
  assert.ok((await cap.textContent()).length > 40);
  // Policies: opens, Escape closes (also from inside), an outside click closes.
  await page.click('#policies summary');
  assert.equal(await page.locator('#policies').getAttribute('open'), '');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#policies').getAttribute('open'), null);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector('#policies summary')), true);
  await page.click('#policies summary');
  await page.locator('#policy-list select').first().focus();
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#policies').getAttribute('open'), null, 'Escape from a select inside');
  await page.click('#policies summary');
  await page.click('#pane-main .ladder-scroll', { position: { x: 30, y: 200 } });
  assert.equal(await page.locator('#policies').getAttribute('open'), null, 'outside click');
  // A non-default policy: the mark on the page.
  assert.equal(await page.locator('#policy-mark').isHidden(), true);
  await page.click('#policies summary');
  const sel = page.locator('#policy-list select').first();
  const other = await sel.evaluate((s) => [...s.options].find((o) => !o.selected).value);
  await sel.selectOption(other);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#policy-mark').textContent(), '1 changed');
  assert.equal(await page.locator('#policy-mark').isVisible(), true);
  // That was an edit: the picker no longer names the preset, also after a reload.
  assert.equal(await page.locator('#preset').inputValue(), '');
  await page.waitForTimeout(100);
  await page.reload();
  await ready(page);
  assert.equal(await page.locator('#preset').inputValue(), '');
  assert.equal(await page.locator('#policy-mark').textContent(), '1 changed');
  assert.deepEqual(errors, []);
});
