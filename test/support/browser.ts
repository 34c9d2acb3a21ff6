import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where the browser tests keep screenshots: git-ignored, kept after the run as artifacts. */
export const ARTIFACTS_DIR = new URL('../../test-artifacts/', import.meta.url);

/**
 * Debian's Chromium (installed by `npm run setup`), headless. A missing browser fails the test with the
 * fix: these tests never skip.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: run \`npm run setup\` (installs Debian's chromium as root) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'] });
}
