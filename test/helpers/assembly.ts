/**
 * The synthesized CDK app for the integration tests: test/global-setup.ts synthesizes it once per
 * test run and writes the local assembly (tables, the failover stream mapping, schedules) to the
 * file named by CPE_FAILOVER_TEST_ASSEMBLY; each test file reads it once. Reading JSON keeps
 * aws-cdk-lib (seconds to load) out of the test files.
 */
import { readFile } from 'node:fs/promises';
import type { LocalAssembly } from '../../local/runtime/local-assembly.js';
import type { FilterCriteria } from '../../local/runtime/filter-pattern.js';

/** Same value as ASSEMBLY_ENV in test/global-setup.ts (jest loads that file apart from the tests). */
export const TEST_ASSEMBLY_ENV = 'CPE_FAILOVER_TEST_ASSEMBLY';

let cached: Promise<LocalAssembly> | undefined;

async function load(): Promise<LocalAssembly> {
  const file = process.env[TEST_ASSEMBLY_ENV];
  if (file) return JSON.parse(await readFile(file, 'utf8')) as LocalAssembly;
  // Outside the integration project's global setup: synthesize here (slow, but the same app).
  const { synthLocalAssembly } = await import('../../local/runtime/synth-assembly.js');
  return synthLocalAssembly('example');
}

/** The synthesized app's local assembly (read once per test file). */
export function testAssembly(): Promise<LocalAssembly> {
  cached ??= load();
  return cached;
}

/** The failover function's stream filter criteria, as the synthesized event source mapping has them. */
export async function failoverFilterCriteria(): Promise<FilterCriteria> {
  const { failover } = await testAssembly();
  return { Filters: failover.filterCriteria.Filters.map((f) => ({ Pattern: f.Pattern })) };
}
