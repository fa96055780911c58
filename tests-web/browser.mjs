// Shared Chromium launch for the e2e tests and the benchmark: Debian's /usr/bin/chromium only,
// never a downloaded browser.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync',
];

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpm-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 720 },
  });
  const close = async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

/** Collect console errors and page errors of a page; `allow` lists regexps that are expected. */
export function watchErrors(page, allow = []) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !allow.some((re) => re.test(m.text()))) errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    if (!allow.some((re) => re.test(String(e)))) errors.push(`pageerror: ${e.message}`);
  });
  return errors;
}
