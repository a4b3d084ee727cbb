/**
 * `--director-url` / `--dr-director-url` / `--tenant` / `--api-key` against the zWAN simulator
 * started as a separate process (`npm run sim`: tsx local/simulator/main.ts), as if
 * it were a real director pair: the sandbox's own flag parsing and configuration part build the
 * functions' configuration, and the real health run and failover service run on it (DynamoDB
 * Local, a fake clock for the hold). Observe mode: the would-be failover is decided and notified
 * and the director's request log holds no write; act mode on the same director writes.
 */
import { parseSandboxArgs } from '../../../local/sandbox/args.js';
import { configPart } from '../../../local/sandbox/core-parts.js';
import type { SandboxContext } from '../../../local/sandbox/parts.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { generatedIds, SIM_API_KEY } from '../../../local/simulator/index.js';
import type { SimRequestRecord } from '../../../local/simulator/zwan/server.js';
import type { Config } from '../../../shared/config/schema.js';
import { OBSERVE_METRICS } from '../../../shared/director/observe.js';
import { API_KEY_ENV } from '../../../shared/director/secrets.js';
import { groupKey } from '../../../shared/domain/model.js';
import { buildFailoverDeps, directorsFromConfig } from '../../../shared/failover/runtime.js';
import { reconcileGroup } from '../../../shared/failover/service.js';
import { createHealthRunDeps } from '../../../shared/health/deps.js';
import { runHealthCheck } from '../../../shared/health/run.js';
import { LocalPublisher } from '../../../shared/notify/local.js';
import { CountingMetricSink, silentLog } from '../../../shared/observability.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { FakeClock } from '../../unit/health/fakes.js';

const BRANCHES = 5;
const TENANT = generatedIds.tenant(0);
const KEY = groupKey(TENANT, generatedIds.group(0));
const DC1 = generatedIds.concentrator(0, 'dc1');
const DC2 = generatedIds.concentrator(0, 'dc2');

/** `npm run sim -- --generate 1x<BRANCHES>` in a child process, driven over HTTP as an operator would. */
interface ExternalSim {
  url(site: 'DC' | 'DR'): string;
  fault(action: string, body: Record<string, unknown>): Promise<void>;
  requests(): Promise<SimRequestRecord[]>;
  clearRequests(): Promise<void>;
  close(): Promise<void>;
}

async function startExternalSim(): Promise<ExternalSim> {
  const child: ChildProcess = spawn(
    'node_modules/.bin/tsx',
    ['local/simulator/main.ts', '--generate', `1x${BRANCHES}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const urls: Partial<Record<'DC' | 'DR', string>> = {};
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`npm run sim exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^\s+(DC|DR) director: (\S+)$/.exec(line);
      if (m) urls[m[1] as 'DC' | 'DR'] = m[2];
      if (urls.DC && urls.DR) resolve();
    });
  });
  const origin = new URL(urls.DC!).origin;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${origin}/_sim/${path}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`simulator ${method} /_sim/${path}: HTTP ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as unknown);
  };
  return {
    url: (site) => urls[site]!,
    fault: async (action, body) => void (await control('POST', `faults/${action}`, body)),
    requests: async () => ((await control('GET', 'requests')) as { requests: SimRequestRecord[] }).requests,
    clearRequests: async () => void (await control('DELETE', 'requests')),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

let sim: ExternalSim;
let table: TestTable | undefined;
let restoreKey: string | undefined;

beforeAll(async () => {
  sim = await startExternalSim();
  restoreKey = process.env[API_KEY_ENV];
}, 60_000);
afterAll(async () => {
  await sim?.close();
  if (restoreKey === undefined) delete process.env[API_KEY_ENV];
  else process.env[API_KEY_ENV] = restoreKey;
});
afterEach(async () => {
  await table?.drop();
  table = undefined;
  await sim.fault('cpeUp', { id: DC1 });
  await sim.clearRequests();
});

const writes = (log: readonly SimRequestRecord[]) =>
  log
    .filter((r) => r.method !== 'GET' && r.operation !== 'queryCpeHealth')
    .map((r) => `${r.site} ${r.operation}`);

/** The configuration the sandbox's config part makes from the flags (on a minimal context). */
async function sandboxConfig(extra: string[]): Promise<{ config: Config; printed: string[] }> {
  const options = parseSandboxArgs([
    '--director-url',
    sim.url('DC'),
    '--dr-director-url',
    sim.url('DR'),
    '--tenant',
    TENANT,
    '--api-key',
    SIM_API_KEY,
    ...extra,
  ]);
  const printed: string[] = [];
  const ctx = {
    options,
    print: (line: string) => printed.push(line),
    setEnv: (name: string, value: string) => void (process.env[name] = value),
  } as unknown as SandboxContext;
  const part = configPart(options);
  if (!part) throw new Error('no config part for external zWAN directors');
  await part.start(ctx);
  if (!ctx.config) throw new Error('the config part set no configuration');
  return { config: ctx.config, printed };
}

/** The health run and the failover service on `config`: every candidate UP, DC1 elected, then DC1 down. */
async function failOverDc1(config: Config) {
  table = await createTestTable('observe-ext');
  const clock = new FakeClock(Date.UTC(2026, 11, 1, 12));
  const metrics = new CountingMetricSink();
  const health = createHealthRunDeps({
    config,
    tableName: table.tableName,
    doc: table.doc,
    clock: clock.now,
    sleep: clock.sleep,
    log: silentLog,
    metrics,
    directorTuning: { timeoutMs: 2000, retries: 1, backoffBaseMs: 1, backoffMaxMs: 5, healthRetries: 0 },
  });
  const repo = new StateRepository(table.doc, table.tableName, clock.now);
  const publisher = new LocalPublisher();
  const failover = buildFailoverDeps({
    config,
    repo,
    directors: directorsFromConfig(config),
    publisher,
    log: silentLog,
    metrics,
    now: clock.now,
  });
  // The hold is real time here (time scale 1): 300 s of clean samples, five one-minute runs.
  for (let run = 0; run < 6; run++) await runHealthCheck(health);
  const elected = await reconcileGroup(failover, KEY, { trigger: 'stream' });
  await sim.fault('cpeDown', { id: DC1 });
  await runHealthCheck(health);
  const failedOver = await reconcileGroup(failover, KEY, { trigger: 'stream' });
  return { elected, failedOver, publisher, metrics, repo };
}

describe('the sandbox against an external zWAN director pair (a simulator process)', () => {
  it("observe mode: would fail over, notified and stored; not one write in the director's request log", async () => {
    const { config, printed } = await sandboxConfig(['--observe']);
    expect(config.mode).toBe('observe');
    expect(config.director).toMatchObject({
      kind: 'zwan',
      sites: { DC: { baseUrl: sim.url('DC') }, DR: { baseUrl: sim.url('DR') } },
      tenants: [TENANT],
    });
    expect(printed.join('\n')).toMatch(
      /zWAN directors \(external, API key <redacted>\): DC .* observe mode: every director write is refused/,
    );
    expect(printed.join('\n')).not.toContain(SIM_API_KEY);

    const { elected, failedOver, publisher, metrics, repo } = await failOverDc1(config);

    expect(elected).toMatchObject({ servingId: DC1, epoch: 1, changed: true });
    expect(failedOver).toMatchObject({ servingId: DC2, previousId: DC1, epoch: 2, changed: true });
    const notice = publisher.notices.find((n) => n.kind === 'FAILOVER');
    expect(notice).toMatchObject({ observed: true, from: DC1, to: DC2 });
    expect(notice?.reason).toContain(
      // Names as the director lists them (the generated topology names G001-dc1 "G001_DC1").
      `observe: would fail over G001 G001_DC1 → G001_DC2: ${BRANCHES} branches`,
    );
    expect((await repo.getGroup(KEY))?.servingId).toBe(DC2);
    expect(metrics.get(OBSERVE_METRICS.refusedWrites)).toBe(2); // the two fan-outs' fences
    expect(metrics.get(OBSERVE_METRICS.wouldRepoint)).toBe(BRANCHES);

    const log = await sim.requests();
    expect(log.some((r) => r.operation === 'listCpes')).toBe(true);
    expect(log.some((r) => r.operation === 'queryCpeHealth')).toBe(true);
    expect(writes(log)).toEqual([]);
  }, 60_000);

  it('act mode (no --observe) on the same director: it fences, sets HA_STATE and re-points every branch', async () => {
    const { config, printed } = await sandboxConfig([]);
    expect(config.mode).toBe('act');
    expect(printed.join('\n')).toMatch(/the controller WILL write there .*--observe is recommended/);

    const { failedOver, publisher } = await failOverDc1(config);

    expect(failedOver.fanOut?.counts).toMatchObject({ total: BRANCHES, repointed: BRANCHES, failed: 0 });
    expect(publisher.notices.find((n) => n.kind === 'FAILOVER')?.observed).toBeUndefined();
    const ops = writes(await sim.requests());
    expect(ops).toEqual(expect.arrayContaining(['DC fenceHaGroup', 'DC setHaState']));
    expect(ops.filter((o) => o === 'DC repointBranch')).toHaveLength(BRANCHES);
  }, 60_000);
});
