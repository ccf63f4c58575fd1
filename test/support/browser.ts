/**
 * Headless Chromium for browser tests: Debian's `/usr/bin/chromium` (or DURAFLOW_CHROMIUM) driven by
 * playwright-core. Without a Chromium the tests skip with a printed reason — except in CI (CI=true), where
 * a missing browser is a failure (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

/** Path of the Chromium binary the tests use. */
export const CHROMIUM_PATH = process.env['DURAFLOW_CHROMIUM'] ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches Chromium, or skips `t` (fails it in CI) when there is none. */
export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM_PATH)) {
    const reason = `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
    if (process.env['CI'] === 'true') throw new Error(`Browser tests need Chromium in CI: ${reason}.`);
    process.stdout.write(`# skipping browser test: ${reason}\n`);
    t.skip(reason);
    return undefined;
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 60_000 });
}
