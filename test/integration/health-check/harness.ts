/**
 * Test harness for the health run: a fresh state table on DynamoDB Local, the zWAN simulator over
 * real HTTP, and the real adapters and repository, driven by a fake clock whose sleep advances
 * time at once (so a 55 s run takes milliseconds). Counts every DynamoDB write command.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../../../shared/config/load.js';
import type { ConfigInput } from '../../../shared/config/schema.js';
import { API_KEY_ENV } from '../../../shared/director/secrets.js';
import { createHealthRunDeps } from '../../../shared/health/deps.js';
import { runHealthCheck, type HealthRunDeps, type HealthRunOptions } from '../../../shared/health/run.js';
import { CountingMetricSink, type LogSink } from '../../../shared/observability.js';
import { StateRepository, type HealthItem } from '../../../shared/store/state-repo.js';
import { keys } from '../../../shared/store/table.js';
import {
  createZwanSimulator,
  SIM_API_KEY,
  type TopologyInput,
  type ZwanSimulator,
} from '../../../local/simulator/index.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { LAB_GROUP, LAB_TENANT, simDirectorConfig } from '../../helpers/lab.js';
import { FakeClock } from '../../unit/health/fakes.js';

export { LAB_GROUP, LAB_TENANT } from '../../helpers/lab.js';

/** One recorded log line. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** A LogSink that keeps every line. */
export class RecordingLog implements LogSink {
  readonly entries: LogEntry[] = [];
  private add(level: LogEntry['level'], message: string, attrs: Record<string, unknown>[]) {
    this.entries.push({ level, message, attributes: Object.assign({}, ...attrs) });
  }
  debug(message: string, ...attrs: Record<string, unknown>[]) {
    this.add('debug', message, attrs);
  }
  info(message: string, ...attrs: Record<string, unknown>[]) {
    this.add('info', message, attrs);
  }
  warn(message: string, ...attrs: Record<string, unknown>[]) {
    this.add('warn', message, attrs);
  }
  error(message: string, ...attrs: Record<string, unknown>[]) {
    this.add('error', message, attrs);
  }
}

export { FakeClock };

/** Count the write commands a DocumentClient sends. */
export function countWrites(doc: DynamoDBDocumentClient): { readonly count: number; reset(): void } {
  const counter = { count: 0, reset: () => (counter.count = 0) };
  const send = doc.send.bind(doc) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  (doc as unknown as { send: typeof send }).send = (command: unknown, ...rest: unknown[]) => {
    const name = (command as { constructor: { name: string } }).constructor.name;
    if (/^(Put|Update|Delete|BatchWrite|TransactWrite)(Item)?Command$/.test(name)) counter.count++;
    return send(command, ...rest);
  };
  return counter;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  topology?: TopologyInput;
  health?: NonNullable<ConfigInput['health']>;
}

/** A running harness. */
export interface Harness {
  sim: ZwanSimulator;
  table: TestTable;
  repo: StateRepository;
  clock: FakeClock;
  log: RecordingLog;
  metrics: CountingMetricSink;
  writes: { readonly count: number; reset(): void };
  deps: HealthRunDeps;
  /** Build another, independent set of deps (own cache, clock and log) on the same table and simulator. */
  makeDeps(clock: FakeClock, log?: LogSink): HealthRunDeps;
  /** Start the next run at the next whole minute of the fake clock. */
  run(options?: HealthRunOptions): ReturnType<typeof runHealthCheck>;
  /** Read a target's stored health item. */
  healthItem(targetId: string, group?: string): Promise<HealthItem | undefined>;
  stop(): Promise<void>;
}

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** Start a table, the simulator and the deps (see the module comment). */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  process.env[API_KEY_ENV] = SIM_API_KEY;
  const table = await createTestTable('health');
  const sim = await createZwanSimulator(options.topology ? { topology: options.topology } : {});
  const config = parseConfig({
    env: 'test',
    director: simDirectorConfig(sim, [
      ...new Set((options.topology?.tenants ?? [{ id: LAB_TENANT }]).map((t) => t.id)),
    ]),
    health: options.health ?? {},
  });
  const writes = countWrites(table.doc);
  const clock = new FakeClock(T0);
  const log = new RecordingLog();
  const metrics = new CountingMetricSink();
  const makeDeps = (c: FakeClock, l: LogSink = new RecordingLog(), m = new CountingMetricSink()) =>
    createHealthRunDeps({
      config,
      tableName: table.tableName,
      doc: table.doc,
      clock: c.now,
      sleep: c.sleep,
      log: l,
      metrics: m,
      directorTuning: { timeoutMs: 2000, retries: 1, backoffBaseMs: 1, backoffMaxMs: 5, healthRetries: 0 },
    });
  const deps = makeDeps(clock, log, metrics);
  let nextRunAt = T0;
  const repo = new StateRepository(table.doc, table.tableName);
  return {
    sim,
    table,
    repo,
    clock,
    log,
    metrics,
    writes,
    deps,
    makeDeps: (c, l) => makeDeps(c, l),
    run: (runOptions) => {
      clock.t = Math.max(clock.t, nextRunAt);
      nextRunAt = clock.t + 60_000;
      return runHealthCheck(deps, runOptions);
    },
    healthItem: (targetId, group = LAB_GROUP) => repo.get<HealthItem>(keys.health(group, targetId)),
    stop: async () => {
      await sim.close();
      await table.drop();
    },
  };
}
