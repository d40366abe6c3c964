import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run); no browser is downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
/** In CI the browser tests must run; elsewhere they are skipped (with a notice) when Chromium is absent. */
export const runBrowserTests = hasChromium || process.env.CI === 'true';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

if (!runBrowserTests) {
  console.warn(
    `Chromium not found at ${CHROMIUM}: browser tests skipped (apt-get install chromium to run them).`,
  );
}
