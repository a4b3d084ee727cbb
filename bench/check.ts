/**
 * `npm run bench -- check`: the whole-system checker's throughput and one virtual-time figure,
 * written to bench/results/world-check.json.
 *
 * - schedules: CHECK_SCHEDULES (default 10,000) random schedules from seed CHECK_FROM (default
 *   1), over CHECK_WORKERS worker processes (default: the machine's cores); violations, seconds,
 *   steps per second. Goal: 10,000 schedules in ≤ 180 s on 2 cores.
 * - outage → last branch re-pointed, in virtual time, for 1,000 branches at 5 s sampling (p50 and
 *   p99 over OUTAGE_RUNS runs, default 40). Goal: p99 ≤ 16 s.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { outageToLastRepoint } from '../local/sim/outage.js';
import { runParallel } from '../local/sim/runner.js';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** Run the checker benchmark and write its figures. */
export async function run(): Promise<unknown> {
  const from = num('CHECK_FROM', 1);
  const schedules = num('CHECK_SCHEDULES', 10_000);
  const workers = num('CHECK_WORKERS', availableParallelism());
  const summary = await runParallel(from, schedules, workers);
  console.log(
    `${summary.schedules} schedules on ${workers} workers (Node ${summary.node}): ${summary.violations} with violations, ${summary.seconds.toFixed(1)} s, ${Math.round(summary.stepsPerSecond)} steps/s`,
  );

  const runs = num('OUTAGE_RUNS', 40);
  const times: number[] = [];
  let missed = 0;
  for (let seed = 1; seed <= runs; seed++) {
    const t = await outageToLastRepoint(seed, 1000);
    if (t === undefined) missed++;
    else times.push(t);
  }
  times.sort((a, b) => a - b);
  const outage = {
    branches: 1000,
    sampleIntervalSec: 5,
    runs,
    missed,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times[times.length - 1] ?? null,
    goalP99Ms: 16_000,
  };
  console.log(
    `outage → last branch re-pointed (1,000 branches, virtual time): p50 ${outage.p50Ms} ms, p99 ${outage.p99Ms} ms`,
  );

  const result = {
    measuredAt: new Date().toISOString(),
    machine: { cores: availableParallelism(), node: process.version },
    /** The Node.js the schedules ran on, as the processes that ran them report it (local/lambda-node.mjs). */
    checkerNode: summary.node,
    schedules: summary.schedules,
    seeds: { from, to: from + schedules - 1 },
    workers,
    violations: summary.violations,
    failingSeeds: summary.failingSeeds.slice(0, 50),
    seconds: Number(summary.seconds.toFixed(1)),
    steps: summary.steps,
    stepsPerSecond: Math.round(summary.stepsPerSecond),
    invariants: summary.invariants,
    goal: { schedules: 10_000, seconds: 180, cores: 2 },
    outageToLastRepoint: outage,
  };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'world-check.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
