/**
 * A real browser for page tests: Debian's chromium driven by playwright-core (which ships no
 * browser of its own). A machine without /usr/bin/chromium fails the test with how to install it:
 * a page test never passes without a browser.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian installs chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a headless chromium on a closed network (no background traffic, no sandbox as root). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** A launched browser (its one context, on a fresh profile) and how to close it and remove the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launch chromium with a fresh profile; throws a clear error when chromium is not installed. */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<TestBrowser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `${executablePath} is missing: the page tests need a real browser. Install it with \`apt-get install -y chromium\` (Debian), then run the test again.`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'cpe-chromium-'));
  // A fresh --user-data-dir: playwright takes it as the persistent context's directory.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
