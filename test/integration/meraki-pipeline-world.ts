/**
 * A Meraki world for the pipeline tests: the Meraki simulator over HTTP (its loss series on a fake
 * clock), a state table with its real stream on DynamoDB Local, and the controller built exactly as
 * the functions build it from a `director.kind: 'meraki'` configuration: `createHealthRunDeps`
 * (health check) and `buildFailoverDeps` + `directorsFromConfig` + the stream batch handler with
 * idempotency (failover). `minute()` is one EventBridge tick: a health run, then the failover
 * function on the stream records it produced.
 */
import { parseConfig } from '../../shared/config/load.js';
import type { Config, ConfigInput } from '../../shared/config/schema.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import type { FailoverDeps } from '../../shared/failover/ports.js';
import { buildFailoverDeps, directorsFromConfig } from '../../shared/failover/runtime.js';
import type { ReconcileResult } from '../../shared/failover/service.js';
import { createHealthRunDeps } from '../../shared/health/deps.js';
import { runHealthCheck, type HealthRunDeps, type HealthRunSummary } from '../../shared/health/run.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { CountingMetricSink, silentLog } from '../../shared/observability.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type SimOrganization,
} from '../../local/simulator/meraki/server.js';
import { createTestTable, type TestTable } from '../helpers/ddb.js';
import { testContext } from '../helpers/lambda-context.js';
import { startFailoverFunction } from './failover/failover-function.js';

type MerakiInput = Extract<ConfigInput['director'], { kind: 'meraki' }>;

/** Two hubs in the reference's style: london (primary), paris (backup). */
export const HUBS = [
  { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
] as const;

/** Tags of a network on the primary hub, with unrelated tags around the state tags. */
export const ON_PRIMARY = ['branch', 'london_primary_up', 'paris_backup_down', 'london_primary_up_old'];

/** Options of {@link startMerakiWorld}. */
export interface MerakiWorldOptions {
  organizations: SimOrganization[];
  /** Per organization (by index), extra hub settings merged into the configuration's hubs. */
  hubSettings?: Record<number, Partial<{ trustedWithoutTracking: boolean }>[]>;
}

/** A running world. */
export interface MerakiWorld {
  sim: MerakiSimulator;
  table: TestTable;
  config: Config;
  repo: StateRepository;
  health: HealthRunDeps;
  failover: FailoverDeps;
  published: LocalPublisher;
  /** Every group reconciled by the failover function so far. */
  decisions: ReconcileResult[];
  /** Fake time (epoch ms) of the loss series and the health run. */
  now(): number;
  /** One scheduled minute: clock +60 s, a health run, the failover function on the new stream records. */
  minute(): Promise<HealthRunSummary>;
  /** Run minutes until `done()` holds (at most `max`); resolves with the minutes run. */
  until(done: () => boolean | Promise<boolean>, max: number): Promise<number>;
  close(): Promise<void>;
}

const context = testContext('failover-meraki-it', 60_000);

/** Start a world; the clock starts 30 s past a minute. */
export async function startMerakiWorld(options: MerakiWorldOptions): Promise<MerakiWorld> {
  let t = Date.UTC(2026, 2, 2, 9, 0, 30);
  const now = () => t;
  // Tunnels up as soon as the tags say (the fake clock only moves a minute at a time, and every
  // swap is verified against the VPN statuses before its re-point counts as done).
  const sim = await createMerakiSimulator({
    organizations: options.organizations,
    now,
    rateLimit: false,
    tunnelSettleMs: 0,
  });
  process.env[API_KEY_ENV] = sim.apiKey;
  const director: MerakiInput = {
    kind: 'meraki',
    baseUrl: sim.baseUrl,
    secretName: 'test (CPE_FAILOVER_API_KEY is used)',
    // Every scheduled run calls: the series' clock is fake, the adapter's throttle is real time.
    lossIntervalSec: 0.001,
    organizations: options.organizations.map((org, o) => ({
      id: org.id,
      hubs: org.hubs.map((h, i) => ({ ...h, ...(options.hubSettings?.[o]?.[i] ?? {}) })),
    })),
  };
  const config = parseConfig(
    { env: 'test', director, health: { samplesPerRun: 1 } } satisfies ConfigInput,
    'test configuration',
  );
  const table = await createTestTable('meraki');
  const repo = new StateRepository(table.doc, table.tableName, now);
  const health = createHealthRunDeps({
    config,
    tableName: table.tableName,
    doc: table.doc,
    clock: now,
    sleep: async (ms) => {
      t += ms;
    },
    log: silentLog,
    metrics: new CountingMetricSink(),
  });
  const published = new LocalPublisher();
  const failover = buildFailoverDeps({
    config,
    repo,
    directors: directorsFromConfig(config, { claims: repo.claims }),
    publisher: published,
    log: silentLog,
    metrics: new CountingMetricSink(),
    now,
  });
  const decisions: ReconcileResult[] = [];
  // The failover function sees only the records the synthesized event source mapping's filter passes.
  const { handler, stream } = await startFailoverFunction(table, failover, (r) => decisions.push(r));

  const world: MerakiWorld = {
    sim,
    table,
    config,
    repo,
    health,
    failover,
    published,
    decisions,
    now,
    async minute() {
      t += 60_000;
      const summary = await runHealthCheck(health);
      const event = await stream.event();
      if (event.Records.length > 0) {
        const result = await handler(event, context);
        if (result.batchItemFailures.length > 0)
          throw new Error(`failover batch failures: ${JSON.stringify(result.batchItemFailures)}`);
      }
      return summary;
    },
    async until(done, max) {
      for (let m = 1; m <= max; m++) {
        await world.minute();
        if (await done()) return m;
      }
      throw new Error(`condition not reached within ${max} minutes`);
    },
    async close() {
      stream.close();
      await sim.close();
      await table.drop();
      delete process.env[API_KEY_ENV];
    },
  };
  return world;
}
