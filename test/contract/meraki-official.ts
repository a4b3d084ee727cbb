/**
 * Conformance of the Meraki adapter and simulator to Meraki's official OpenAPI spec.
 *
 *   npx tsx test/contract/meraki-official.ts [path/to/spec.json]
 *
 * Validates every request the adapter sent and every response the simulator gave, from two
 * sources, against the given spec with openapi-backend, and prints counts per source:
 * - the tests' traffic: the same as the npm-test contract test records (every operation the
 *   adapter uses, paging, nulls, a failed batch, a 429 storm, error answers);
 * - the sandbox's Meraki scenario (`npm start -- --director meraki`), run in-process at time
 *   scale 60 until N_1's tags have swapped away and back (at most 60 s): the health check's loss
 *   calls, the failover function's reads and tag writes, as the sandbox's simulator logged them.
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
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { applyLocalFunctionEnv } from '../../local/sandbox/env.js';
import type { LoggedExchange } from '../../local/simulator/meraki/server.js';
import { merakiOperationOf } from '../../shared/director/meraki/schemas.js';
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

/** The line the sandbox prints when N_1's tags are back on its primary hub (the scenario's end). */
const SANDBOX_DONE = /meraki N_1: tags swapped, tunnel paris → london/;

/**
 * Run the sandbox's Meraki scenario in-process (it starts its own DynamoDB Local) and return the
 * Meraki simulator's log of every exchange, with bodies, and the lines it printed.
 */
export async function recordSandboxMerakiTraffic(): Promise<{
  exchanges: LoggedExchange[];
  lines: string[];
}> {
  const exchanges: LoggedExchange[] = [];
  const lines: string[] = [];
  const stop = new AbortController();
  // As `npm start` without --verbose: the functions' own logs and metrics stay quiet.
  // Powertools reads these once when the functions' modules load: the sandbox is imported after.
  applyLocalFunctionEnv({ functionName: 'cpe-failover-conformance', logLevel: 'SILENT' });
  const { runSandbox } = await import('../../local/sandbox/sandbox.js');
  const options = parseSandboxArgs(['--director', 'meraki', '--time-scale', '60', '--duration', '60']);
  await runSandbox(
    { ...options, merakiLog: exchanges },
    {
      signal: stop.signal,
      output: (line) => {
        lines.push(line);
        if (SANDBOX_DONE.test(line)) stop.abort();
      },
    },
  );
  return { exchanges, lines };
}

const operationOf = (e: LoggedExchange): string =>
  merakiOperationOf(e.method, e.path)?.name ?? `${e.method} ${e.path}`;

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
  const sandbox = await recordSandboxMerakiTraffic();
  if (!sandbox.lines.some((l) => SANDBOX_DONE.test(l))) {
    console.log(
      "  note: the sandbox's scenario did not reach its swap back within 60 s; its traffic so far is checked",
    );
  }
  const sources: [string, LoggedExchange[]][] = [
    ["tests' traffic (recordMerakiTraffic)", await recordMerakiTraffic()],
    ['sandbox Meraki scenario (npm start -- --director meraki)', sandbox.exchanges],
  ];
  let failed = 0;
  let checked = 0;
  for (const [source, traffic] of sources) {
    const result = await validateTraffic(spec, traffic);
    const ops = new Set(traffic.map(operationOf));
    console.log(
      `${source}: ${result.checked} exchanges over ${ops.size} operations (${[...ops].sort().join(', ')}): ` +
        `${result.checked - result.mismatches.length} passed, ${result.mismatches.length} failed`,
    );
    const undocumented = Object.entries(result.undocumented);
    if (undocumented.length > 0) {
      console.log(
        `  statuses the spec does not describe (not failed): ${undocumented.map(([s, n]) => `${s}×${n}`).join(', ')}`,
      );
    }
    for (const m of result.mismatches) console.error(`  MISMATCH ${m}`);
    if (result.checked === 0) {
      console.error(`  MISMATCH ${source}: no exchanges recorded`);
      failed += 1;
    }
    failed += result.mismatches.length;
    checked += result.checked;
  }
  console.log(
    `meraki conformance against ${specPath}: ${checked} exchanges, ${checked - failed} passed, ${failed} failed`,
  );
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
