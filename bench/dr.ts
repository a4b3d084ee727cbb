/**
 * `npm run bench -- dr`: the DR workflows' orchestration overhead. Runs the synthesized state
 * machines (aws-local-stepfunctions, the real DR tasks, DynamoDB Local, s3rver, the zWAN
 * simulator with real S3 jobs) and writes bench/results/dr-overhead.json: per workflow the total
 * time, the simulator's job time, and the overhead between them.
 *
 * Wait states are scaled: the deployed poll interval (the Wait state, 15 s) runs locally as
 * WAIT_MS (1/300). The overhead measured locally is therefore the tasks' own work (DynamoDB,
 * S3 verification, director calls) plus the scaled polling; the deployed-shape estimate adds
 * back, per job, the worst-case quantization of one full poll interval and a per-state
 * transition cost.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local.js';
import { createLocalS3Client, startS3Emulator } from '../local/emulators/s3.js';
import { synthTemplates } from '../cdk/assembly.js';
import { createTableFromAssembly } from '../local/runtime/local-assembly.js';
import { localAssemblyFromTemplates } from '../local/runtime/synth-assembly.js';
import { drDefinitionsFromTemplate } from '../local/sandbox/scenarios/dr-machines.js';
import { createDrWorld } from '../local/sandbox/scenarios/dr-world.js';
import type { Workflow } from '../shared/dr/inputs.js';
import { createDynamoClients } from '../shared/store/dynamo.js';

/** Deployed poll interval (cdk/constructs/dr-workflows.ts default). */
const DEPLOYED_POLL_SEC = 15;
/** Local Wait state duration: 15 s scaled by 1/300. */
const WAIT_MS = 50;
/** Simulator job duration. */
const JOB_MS = 1000;
/** Assumed Step Functions transition + warm Lambda invoke per Task state in AWS. */
const DEPLOYED_TASK_TRANSITION_MS = 150;
const ROUNDS = 3;

interface WorkflowFigures {
  workflow: Workflow;
  runs: number;
  totalMs: { median: number; min: number; max: number };
  simulatorJobMs: { median: number };
  overheadMs: { median: number; min: number; max: number };
  jobs: number;
  taskStates: number;
  waitStates: number;
  deployedOverheadEstimateSec: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** Run the DR benchmark and write bench/results/dr-overhead.json. */
export async function runDrBench(): Promise<WorkflowFigures[]> {
  // One synthesis: the state machines and the state table as deployed.
  const templates = synthTemplates('example');
  const definitions = drDefinitionsFromTemplate(templates.stateless, templates.config.region);
  const { stateTable } = localAssemblyFromTemplates(templates);
  const dynamo = await startDynamoDbLocal();
  const s3emu = await startS3Emulator();
  const clients = createDynamoClients({ endpoint: dynamo.endpoint });
  const s3 = createLocalS3Client(s3emu.endpoint);
  const results: WorkflowFigures[] = [];
  try {
    await createTableFromAssembly(clients.client, stateTable, 'bench-dr');
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-dr' }));
    const world = await createDrWorld({
      doc: clients.doc,
      tableName: 'bench-dr',
      s3,
      bucket: 'bench-dr',
      definitions,
      jobDurationMs: JOB_MS,
      elkObjects: 4,
      elkObjectBytes: 256 * 1024,
      waitMs: WAIT_MS,
    });
    const samples = new Map<
      Workflow,
      { total: number; job: number; jobs: number; tasks: number; waits: number }[]
    >();
    const measure = async (workflow: Workflow, input: unknown) => {
      world.clock.now += 3_600_000; // a new hour: distinct backup keys
      const before = world.runner.history().length;
      const r = await world.run(workflow, input);
      if (r.status !== 'SUCCEEDED') throw new Error(`${workflow} failed: ${r.error}: ${r.cause}`);
      await world.runner.idle();
      const jobs = world.runner.history().slice(before);
      const jobMs = jobs.reduce((n, j) => n + (j.runMs ?? 0), 0);
      const entered = r.events.filter((e) => e.type === 'StateEntered');
      const taskNames = new Set(
        Object.entries(definitions[workflow].States)
          .filter(([, s]) => s.Type === 'Task')
          .map(([n]) => n),
      );
      const list = samples.get(workflow) ?? [];
      list.push({
        total: r.durationMs,
        job: jobMs,
        jobs: jobs.length,
        tasks: entered.filter((e) => e.state && taskNames.has(e.state)).length,
        waits: entered.filter((e) => e.state && definitions[workflow].States[e.state]?.Type === 'Wait')
          .length,
      });
      samples.set(workflow, list);
    };
    for (let i = 0; i < ROUNDS; i++) {
      await measure('Backup', { trigger: 'schedule' });
      await measure('SwitchoverDcToDr', { mode: 'unplanned', reason: 'bench' });
      await measure('FailbackDrToDc', { reason: 'bench' });
      await measure('WeeklyDrill', { trigger: 'schedule' });
    }
    await world.close();
    for (const [workflow, list] of samples) {
      const totals = list.map((s) => s.total);
      const overheads = list.map((s) => s.total - s.job);
      const last = list[list.length - 1] ?? { jobs: 0, tasks: 0, waits: 0 };
      const localOverhead = median(overheads);
      // Deployed shape: local overhead minus the scaled waits, plus per job one whole poll
      // interval (the worst quantization), plus a transition per task state.
      const deployedMs =
        Math.max(0, localOverhead - last.waits * WAIT_MS) +
        last.jobs * DEPLOYED_POLL_SEC * 1000 +
        last.tasks * DEPLOYED_TASK_TRANSITION_MS;
      results.push({
        workflow,
        runs: list.length,
        totalMs: { median: median(totals), min: Math.min(...totals), max: Math.max(...totals) },
        simulatorJobMs: { median: median(list.map((s) => s.job)) },
        overheadMs: { median: localOverhead, min: Math.min(...overheads), max: Math.max(...overheads) },
        jobs: last.jobs,
        taskStates: last.tasks,
        waitStates: last.waits,
        deployedOverheadEstimateSec: Math.round(deployedMs / 100) / 10,
      });
    }
  } finally {
    clients.client.destroy();
    s3.destroy();
    await s3emu.stop();
    await dynamo.stop();
  }
  const out = {
    generatedAt: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, Node ${process.version}`,
    method:
      'Synthesized state machines run with aws-local-stepfunctions and the real DR tasks against DynamoDB Local, s3rver and the zWAN simulator (jobs really write/read S3: 1 MSP object + 4 × 256 KiB ELK objects). Overhead = total − simulator job time (jobs run back to back).',
    waitScaling: `Wait states (deployed ${DEPLOYED_POLL_SEC} s poll interval) run as ${WAIT_MS} ms locally (1/${(DEPLOYED_POLL_SEC * 1000) / WAIT_MS}); retry intervals 5 ms; simulator jobs ${JOB_MS} ms each.`,
    deployedEstimate: `local overhead − local waits + jobs × ${DEPLOYED_POLL_SEC} s (worst-case poll quantization) + task states × ${DEPLOYED_TASK_TRANSITION_MS} ms (assumed transition + warm invoke). Goal: ≤ 60 s.`,
    workflows: results,
  };
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'dr-overhead.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const r of results) {
    console.log(
      `${r.workflow.padEnd(17)} total ${r.totalMs.median} ms  jobs ${r.simulatorJobMs.median} ms (${r.jobs})  overhead ${r.overheadMs.median} ms  → deployed ≈ ${r.deployedOverheadEstimateSec} s`,
    );
  }
  console.log(`wrote ${file}`);
  return results;
}
