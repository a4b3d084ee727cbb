/** Integration tier: stop the emulators that test/global-setup.ts started and remove the assembly file. */
import { rmSync } from 'node:fs';
import type { TestEmulators } from './global-setup.js';

// Same value as EMULATORS_KEY in global-setup.ts (jest loads this file as CommonJS without the
// `.js` → `.ts` mapping, so it cannot import values from there).
const EMULATORS_KEY = '__cpeFailoverEmulators';

export default async function globalTeardown(): Promise<void> {
  const slot = globalThis as Record<string, unknown>;
  const emulators = slot[EMULATORS_KEY] as TestEmulators | undefined;
  delete slot[EMULATORS_KEY];
  if (!emulators) return;
  rmSync(emulators.assemblyDir, { recursive: true, force: true });
  await Promise.all([emulators.dynamo.stop(), emulators.s3.stop()]);
}
