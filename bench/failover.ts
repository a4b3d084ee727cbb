/**
 * Failover fan-out benchmark: the zWAN simulator over HTTP answering every call after 20 ms,
 * each group's DC ACTIVE concentrator going DOWN, and the time from the decision to the last
 * branch re-pointed. Writes bench/results/failover-fanout.json.
 *
 * Cases: 1,000 branches in one group, and 10,000 branches across 100 groups (all failing over
 * at once). State is in memory: this measures the director fan-out, not DynamoDB. The
 * simulator runs in a child process, as a director runs on its own machine, so its CPU does
 * not slow the controller down; `cpuMs` is the controller process's own CPU in the window.
 * Run: `npx tsx bench/failover.ts` (or through bench/run.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createZwanDirector } from '../shared/director/zwan/adapter.js';
import { mapLimit } from '../shared/director/limits.js';
import { groupKey } from '../shared/domain/model.js';
import { MemoryFailoverStore } from '../shared/failover/memory-store.js';
import type { FailoverDeps } from '../shared/failover/ports.js';
import { loadTenantView, reconcileGroup } from '../shared/failover/service.js';
import { LocalPublisher } from '../shared/notify/local.js';
import { createNotifier } from '../shared/notify/notifier.js';
import { CountingMetricSink, silentLog } from '../shared/observability.js';
import { generatedIds, SIM_API_KEY } from '../local/simulator/index.js';
import { startSimulatorProcess } from '../local/simulator/process.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'failover-fanout.json');
const SIM_LATENCY_MS = 20;
/** Re-point calls in flight per group (config `repoint.concurrency` default). */
const CONCURRENCY = 16;
/** Groups reconciled at once (one stream batch of the failover function holds up to 10 records). */
const GROUPS_IN_PARALLEL = 10;

/** One case's figures. */
export interface FanOutFigures {
  groups: number;
  branches: number;
  simLatencyMs: number;
  concurrencyPerGroup: number;
  msDecisionToLastRepoint: number;
  directorCalls: number;
  repointCalls: number;
  repointed: number;
  failed: number;
  /** CPU (user + system) of the controller process from the decision to the last re-point. */
  cpuMs: number;
}

async function runCase(groups: number, branchesPerGroup: number): Promise<FanOutFigures> {
  const sim = await startSimulatorProcess({
    generate: { groups, branchesPerGroup },
    latencyMs: SIM_LATENCY_MS,
    maxLoggedRequests: groups * branchesPerGroup * 3 + 10_000,
  });
  try {
    const apiKey = async () => SIM_API_KEY;
    const director = (site: 'DC' | 'DR') =>
      createZwanDirector({
        site,
        baseUrl: sim.url(site),
        apiKey,
        concurrency: CONCURRENCY * GROUPS_IN_PARALLEL,
      });
    const store = new MemoryFailoverStore();
    const metrics = new CountingMetricSink();
    const deps: FailoverDeps = {
      store,
      directors: { DC: director('DC'), DR: director('DR') },
      notifier: createNotifier({
        publisher: new LocalPublisher(),
        audit: { writeAudit: async () => undefined },
        log: silentLog,
        metrics,
      }),
      log: silentLog,
      metrics,
      settings: {
        preempt: true,
        blindShare: 0.5,
        blindMinTargets: 4,
        concurrency: CONCURRENCY,
        driftRequestsPerSecond: 1e6,
      },
      tenants: [generatedIds.tenant(0)],
    };
    const keys = Array.from({ length: groups }, (_, g) =>
      groupKey(generatedIds.tenant(0), generatedIds.group(g)),
    );
    // Steady state: every concentrator UP, DC1 serving at epoch 1.
    for (const [g, key] of keys.entries()) {
      for (const slot of ['dc1', 'dc2', 'dr1', 'dr2'] as const)
        store.setHealth(key, generatedIds.concentrator(g, slot), 'UP');
      await store.compareAndSetServing(key, 0, {
        tenantId: generatedIds.tenant(0),
        haName: generatedIds.group(g),
        servingId: generatedIds.concentrator(g, 'dc1'),
        epoch: 1,
        reason: 'bench steady state',
        alarms: [],
        changedAt: Date.now(),
      });
    }
    // Every group's DC1 dies; the health check has written DOWN.
    for (const [g, key] of keys.entries()) {
      await sim.fault('cpeDown', { id: generatedIds.concentrator(g, 'dc1') });
      store.setHealth(key, generatedIds.concentrator(g, 'dc1'), 'DOWN');
    }
    await sim.clearRequests();
    const start = Date.now();
    const cpu = process.cpuUsage();
    const view = await loadTenantView(deps, generatedIds.tenant(0));
    const results = await mapLimit(keys, GROUPS_IN_PARALLEL, (key) => reconcileGroup(deps, key, { view }));
    const end = Date.now();
    const used = process.cpuUsage(cpu);
    const requests = await sim.requests();
    const repointed = results.reduce((n, r) => n + (r.fanOut?.counts.repointed ?? 0), 0);
    const failed = results.reduce((n, r) => n + (r.fanOut?.counts.failed ?? 0), 0);
    return {
      groups,
      branches: groups * branchesPerGroup,
      simLatencyMs: SIM_LATENCY_MS,
      concurrencyPerGroup: CONCURRENCY,
      msDecisionToLastRepoint: end - start,
      directorCalls: requests.length,
      repointCalls: requests.filter((r) => r.operation === 'repointBranch').length,
      repointed,
      failed,
      cpuMs: Math.round((used.user + used.system) / 1000),
    };
  } finally {
    await sim.close();
  }
}

/** Run both cases and write bench/results/failover-fanout.json; resolves with what was written. */
export async function runFailoverBench(): Promise<Record<string, unknown>> {
  const one = await runCase(1, 1000);
  const many = await runCase(100, 100);
  const result = {
    note:
      'zWAN simulator over HTTP on loopback (in a child process), every answer delayed simLatencyMs; ms from reading the inventory ' +
      'after the DOWN transition to the last branch re-pointed (election, epoch write, HA_STATE, fan-out); ' +
      `${GROUPS_IN_PARALLEL} groups at a time, ${CONCURRENCY} re-points in flight per group; state in memory; ` +
      'cpuMs = the controller process CPU in that window.',
    at: new Date().toISOString(),
    /** The machine's cores and 1-minute load average at the end (wall times vary with it). */
    machine: { cores: cpus().length, loadAvg1m: Number((loadavg()[0] ?? 0).toFixed(1)) },
    branches: one.branches,
    simLatencyMs: one.simLatencyMs,
    msDecisionToLastRepoint: one.msDecisionToLastRepoint,
    directorCalls: one.directorCalls,
    oneGroup: one,
    manyGroups: many,
  };
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runFailoverBench().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
