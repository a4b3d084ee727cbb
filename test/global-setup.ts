/**
 * Integration tier: start DynamoDB Local and the S3 emulator once per test run and publish their
 * endpoints (DYNAMODB_ENDPOINT, S3_ENDPOINT) to the test files through process.env.
 * test/global-teardown.ts stops them.
 *
 * Jest loads this file as CommonJS without the `.js` → `.ts` module mapping the tests get, so the
 * (`.js`-suffixed) emulator modules are loaded through tsx's require hook instead.
 */
import { join } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';
import type { DynamoDbLocal } from '../local/emulators/dynamodb-local.js';
import type { S3Emulator } from '../local/emulators/s3.js';

/** The globalThis slot global-teardown.ts reads (setup and teardown share the jest process). */
export const EMULATORS_KEY = '__cpeFailoverEmulators';

/** What setup leaves for teardown. */
export interface TestEmulators {
  dynamo: DynamoDbLocal;
  s3: S3Emulator;
}

export default async function globalSetup(
  _globalConfig: unknown,
  projectConfig: { rootDir: string },
): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const parent = join(projectConfig.rootDir, 'test', 'global-setup.ts');
  const { startDynamoDbLocal } = tsxRequire(
    '../local/emulators/dynamodb-local.ts',
    parent,
  ) as typeof import('../local/emulators/dynamodb-local.js');
  const { startS3Emulator } = tsxRequire(
    '../local/emulators/s3.ts',
    parent,
  ) as typeof import('../local/emulators/s3.js');

  const [dynamo, s3] = await Promise.allSettled([startDynamoDbLocal(), startS3Emulator()]);
  if (dynamo.status === 'rejected' || s3.status === 'rejected') {
    // Stop whichever did start, then fail the run with the reason (e.g. how to install Java).
    await Promise.all([dynamo, s3].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw dynamo.status === 'rejected' ? dynamo.reason : (s3 as PromiseRejectedResult).reason;
  }
  (globalThis as Record<string, unknown>)[EMULATORS_KEY] = {
    dynamo: dynamo.value,
    s3: s3.value,
  } satisfies TestEmulators;
  process.env.DYNAMODB_ENDPOINT = dynamo.value.endpoint;
  process.env.S3_ENDPOINT = s3.value.endpoint;
}
