/**
 * Conformance of the Meraki adapter and simulator to Meraki's official OpenAPI spec.
 *
 *   npx tsx test/contract/meraki-official.ts [path/to/spec.json]
 *
 * Records the same traffic as the npm-test contract test (every operation the adapter uses,
 * paging, nulls, a failed batch, a 429 storm, error answers) and validates every request the
 * adapter sent and every response the simulator gave against the given spec with openapi-backend.
 * Default spec: ../shared/reference/meraki-dashboard-api-v1.42.0-subset.openapi.json beside the
 * project; when that default is absent the script says so and exits 0 (a user's clone has no
 * ../shared). Exit 1 on any mismatch, 2 when a named spec file is missing.
 *
 * One documented deviation is patched into the spec before validating, and printed: the
 * official spec types `lossPercent`/`latencyMs` as plain numbers, while the API returns null for
 * minutes without data (the issue and Meraki's own script handle nulls). Statuses the spec does
 * not describe (Meraki documents only successes; 400/401/404/429 are real answers) are counted
 * and printed, not failed.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec, recordMerakiTraffic, validateTraffic } from './meraki-traffic.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_SPEC = resolve(
  root,
  '..',
  'shared',
  'reference',
  'meraki-dashboard-api-v1.42.0-subset.openapi.json',
);

/** Mark the loss series' values nullable (see the module comment). Returns what was patched. */
export function patchNullableSeries(spec: Record<string, unknown>): string[] {
  const patched: string[] = [];
  const path = '/organizations/{organizationId}/devices/uplinksLossAndLatency';
  const props = dig(spec, [
    'paths',
    path,
    'get',
    'responses',
    '200',
    'content',
    'application/json',
    'schema',
    'items',
    'properties',
    'timeSeries',
    'items',
    'properties',
  ]) as Record<string, Record<string, unknown>> | undefined;
  for (const field of ['lossPercent', 'latencyMs']) {
    const schema = props?.[field];
    if (schema && schema.nullable !== true) {
      schema.nullable = true;
      patched.push(`GET ${path} 200 timeSeries[].${field}: nullable`);
    }
  }
  return patched;
}

function dig(value: unknown, keys: readonly string[]): unknown {
  let v = value;
  for (const k of keys) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

async function main(): Promise<number> {
  const named = process.argv[2];
  const specPath = named ? resolve(named) : DEFAULT_SPEC;
  if (!existsSync(specPath)) {
    if (named) {
      console.error(`meraki conformance: spec ${specPath} not found`);
      return 2;
    }
    console.log(`meraki conformance: ${specPath} is absent; nothing to check (a clone without ../shared)`);
    return 0;
  }
  const spec = loadSpec(specPath);
  const patches = patchNullableSeries(spec);
  for (const p of patches) console.log(`spec patch (documented deviation): ${p}`);
  const traffic = await recordMerakiTraffic();
  const result = await validateTraffic(spec, traffic);
  const ops = new Set(traffic.map((e) => `${e.method} ${e.path.replace(/\/[^/]*\d[^/]*/g, '/{id}')}`));
  console.log(
    `meraki conformance: ${result.checked} exchanges over ${ops.size} operations against ${specPath}`,
  );
  const undocumented = Object.entries(result.undocumented);
  if (undocumented.length > 0) {
    console.log(
      `  statuses the spec does not describe (not failed): ${undocumented.map(([s, n]) => `${s}×${n}`).join(', ')}`,
    );
  }
  for (const m of result.mismatches) console.error(`  MISMATCH ${m}`);
  console.log(`${result.checked - result.mismatches.length} passed, ${result.mismatches.length} failed`);
  return result.mismatches.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
