/**
 * Integration tier: start DynamoDB Local and the S3 emulator once per test run and publish their
 * endpoints (DYNAMODB_ENDPOINT, S3_ENDPOINT) to the test files through process.env. Meanwhile,
 * synthesize the CDK app once (config/example.json) and publish the local assembly (tables,
 * stream mapping, schedules: local/runtime/local-assembly.ts) as a JSON file whose path is in
 * CPE_FAILOVER_TEST_ASSEMBLY (read by test/helpers/assembly.ts). test/global-teardown.ts stops the
 * emulators and removes the file.
 *
 * Jest loads this file as CommonJS without the `.js` → `.ts` module mapping the tests get, so the
 * (`.js`-suffixed) emulator modules are loaded through tsx's require hook instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  /** The directory of the assembly file. */
  assemblyDir: string;
}

/** The environment variable naming the assembly file (same value in test/helpers/assembly.ts). */
export const ASSEMBLY_ENV = 'CPE_FAILOVER_TEST_ASSEMBLY';

/** The configuration the tests synthesize. */
const TEST_CONFIG = 'example';

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

  const starting = Promise.allSettled([startDynamoDbLocal(), startS3Emulator()]);
  // Synchronous, while DynamoDB Local's JVM boots in its own process.
  const assemblyDir = mkdtempSync(join(tmpdir(), 'cpe-failover-test-assembly-'));
  let synthFailure: unknown;
  try {
    const { synthLocalAssembly } = tsxRequire(
      '../local/runtime/synth-assembly.ts',
      parent,
    ) as typeof import('../local/runtime/synth-assembly.js');
    const file = join(assemblyDir, 'assembly.json');
    writeFileSync(file, JSON.stringify(synthLocalAssembly(TEST_CONFIG)));
    process.env[ASSEMBLY_ENV] = file;
  } catch (error) {
    synthFailure = new Error(`synthesizing the CDK app (${TEST_CONFIG}) failed: ${String(error)}`, {
      cause: error,
    });
  }
  const [dynamo, s3] = await starting;
  if (dynamo.status === 'rejected' || s3.status === 'rejected' || synthFailure) {
    // Stop whichever did start, then fail the run with the reason (e.g. how to install Java).
    await Promise.all([dynamo, s3].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    rmSync(assemblyDir, { recursive: true, force: true });
    throw dynamo.status === 'rejected' ? dynamo.reason : s3.status === 'rejected' ? s3.reason : synthFailure;
  }
  (globalThis as Record<string, unknown>)[EMULATORS_KEY] = {
    dynamo: dynamo.value,
    s3: s3.value,
    assemblyDir,
  } satisfies TestEmulators;
  process.env.DYNAMODB_ENDPOINT = dynamo.value.endpoint;
  process.env.S3_ENDPOINT = s3.value.endpoint;
}
