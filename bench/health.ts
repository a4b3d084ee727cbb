/**
 * Health-run benchmark (`npm run bench -- health`): one health run over a generated topology of
 * 10,000 CPEs (100 HA groups × 4 concentrators + 96 branches) against the zWAN simulator and
 * DynamoDB Local. The simulator runs in a child process (local/simulator/process.ts) so
 * `process.cpuUsage()` here measures only the handler's own work (HTTP client, hysteresis,
 * DynamoDB client); sleeps are a fake clock's.
 * Writes bench/results/health-run.json. Goal: cpuMsPerRun ≤ 1,000; ddbWritesPerRunSteady 0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../shared/config/load.js';
import { API_KEY_ENV } from '../shared/director/secrets.js';
import { createHealthRunDeps } from '../shared/health/deps.js';
import { runHealthCheck, type HealthRunSummary } from '../shared/health/run.js';
import { CountingMetricSink, silentLog } from '../shared/observability.js';
import { createTable, tableDefinition } from '../shared/store/definition.js';
import { createDynamoClients } from '../shared/store/dynamo.js';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local.js';
import { generatedIds, SIM_API_KEY } from '../local/simulator/index.js';
import { startSimulatorProcess } from '../local/simulator/process.js';

const GROUPS = 100;
const BRANCHES_PER_GROUP = 96;
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'health-run.json');

/** The figures written to bench/results/health-run.json. */
export interface HealthBenchFigures {
  cpes: number;
  concentrators: number;
  samplesPerRun: number;
  /** CPU (user + system) of one steady run, sleeps excluded. */
  cpuMsPerRun: number;
  /** HTTP requests the simulator served for one steady run. */
  directorCallsPerRun: number;
  /** Director port calls (bulk health chunks count once per call). */
  directorPortCallsPerRun: number;
  ddbWritesPerRunSteady: number;
  /** Mean over the flapping runs, 1 % of concentrators alternating down/up every run. */
  ddbWritesPerRunFlapping: number;
  cpuMsPerRunFlapping: number;
  goal: { cpuMsPerRun: number; ddbWritesPerRunSteady: number };
  withinGoals: boolean;
}

/** Run the benchmark and write bench/results/health-run.json. */
export async function runHealthBench(): Promise<HealthBenchFigures> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env[API_KEY_ENV] = SIM_API_KEY;
  const dynamo = await startDynamoDbLocal();
  const sim = await startSimulatorProcess({
    generate: { groups: GROUPS, branchesPerGroup: BRANCHES_PER_GROUP },
    maxLoggedRequests: 100_000,
  });
  const clients = createDynamoClients({ endpoint: dynamo.endpoint });
  try {
    const tableName = 'bench-health';
    await createTable(clients.client, tableDefinition(tableName));
    let writes = 0;
    const send = clients.doc.send.bind(clients.doc) as (c: unknown, ...r: unknown[]) => Promise<unknown>;
    (clients.doc as unknown as { send: typeof send }).send = (command: unknown, ...rest: unknown[]) => {
      if (/^(Put|Update|Delete|BatchWrite|TransactWrite)Command$/.test((command as object).constructor.name))
        writes++;
      return send(command, ...rest);
    };
    const config = parseConfig({
      env: 'bench',
      director: {
        kind: 'zwan',
        sites: { DC: { baseUrl: sim.url('DC') }, DR: { baseUrl: sim.url('DR') } },
        secretName: 'bench',
        tenants: [generatedIds.tenant(0)],
      },
    });
    // A fake clock: the sample-interval sleeps advance it at once (no waiting, no CPU).
    let now = Date.UTC(2026, 10, 21, 12);
    const deps = createHealthRunDeps({
      config,
      tableName,
      doc: clients.doc,
      clock: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      log: silentLog,
      metrics: new CountingMetricSink(),
    });
    const run = async (): Promise<{
      summary: HealthRunSummary;
      cpuMs: number;
      writes: number;
      http: number;
    }> => {
      now = Math.ceil((now + 1) / 60_000) * 60_000;
      const httpBefore = (await sim.requests()).length;
      const writesBefore = writes;
      const cpu = process.cpuUsage();
      const summary = await runHealthCheck(deps);
      const used = process.cpuUsage(cpu);
      return {
        summary,
        cpuMs: (used.user + used.system) / 1000,
        writes: writes - writesBefore,
        http: (await sim.requests()).length - httpBefore,
      };
    };

    // Warm up until every concentrator is UP (the first 5-minute hold), then one more run.
    for (let i = 0; i < 8; i++) await run();
    const steady = await run();

    // 1 % of the concentrators alternate down/up every run.
    const flapping = Array.from({ length: (GROUPS * 4) / 100 }, (_, i) =>
      generatedIds.concentrator(i * 25, i % 2 === 0 ? 'dc1' : 'dr1'),
    );
    const flapRuns: { cpuMs: number; writes: number }[] = [];
    for (let i = 0; i < 6; i++) {
      for (const id of flapping) await sim.fault(i % 2 === 0 ? 'cpeDown' : 'cpeUp', { id });
      flapRuns.push(await run());
    }
    const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;

    const figures: HealthBenchFigures = {
      cpes: GROUPS * (4 + BRANCHES_PER_GROUP),
      concentrators: steady.summary.targets,
      samplesPerRun: config.health.samplesPerRun,
      cpuMsPerRun: Math.round(steady.cpuMs),
      directorCallsPerRun: steady.http,
      directorPortCallsPerRun: steady.summary.directorCalls,
      ddbWritesPerRunSteady: steady.writes,
      ddbWritesPerRunFlapping: mean(flapRuns.map((r) => r.writes)),
      cpuMsPerRunFlapping: Math.round(mean(flapRuns.map((r) => r.cpuMs))),
      goal: { cpuMsPerRun: 1000, ddbWritesPerRunSteady: 0 },
      withinGoals: steady.cpuMs <= 1000 && steady.writes === 0,
    };
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`health run over ${figures.cpes} CPEs (${figures.concentrators} concentrators):`);
    console.log(JSON.stringify(figures, null, 2));
    console.log(`written to ${RESULTS}`);
    return figures;
  } finally {
    clients.client.destroy();
    await sim.close();
    await dynamo.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void runHealthBench();
}
