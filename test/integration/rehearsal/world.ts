/**
 * The rehearsal's integration world: the synthesized Rehearsal state machine (the test run's one
 * synthesis) run with aws-local-stepfunctions as the DR tests run theirs, its tasks the real
 * shared/rehearsal code over DynamoDB Local and the lab zWAN simulator over HTTP. The clock is
 * the test's: each verify step advances it by the machine's poll interval (the Wait before it),
 * so a verify timeout is reached after a known number of looks, without sleeping.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  resolveIntrinsics,
  runDrWorkflow,
  type RunResult,
} from '../../../local/sandbox/scenarios/dr-machines.js';
import { createZwanSimulator, type ZwanSimulator } from '../../../local/simulator/index.js';
import type { ControllerMode } from '../../../shared/config/schema.js';
import type { Health } from '../../../shared/domain/model.js';
import type { FailoverDeps, FailoverSettings } from '../../../shared/failover/ports.js';
import type { Notice } from '../../../shared/notify/port.js';
import { reconcileGroup } from '../../../shared/failover/service.js';
import { RecordingRehearsalPublisher } from '../../../shared/rehearsal/publishers.js';
import type { RehearsalReport } from '../../../shared/rehearsal/report.js';
import { runRehearsalTask, type RehearsalDeps } from '../../../shared/rehearsal/tasks.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { testAssembly } from '../../helpers/assembly.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { testFailoverDeps } from '../../helpers/failover-deps.js';
import { LAB_CONCENTRATORS, LAB_GROUP, LAB_TENANT, saveLabHealth } from '../../helpers/lab.js';
import { simDirectors } from '../../helpers/sim-directors.js';

/** Simulated seconds per look while verifying (the construct's default poll interval). */
export const POLL_SEC = 15;

let definition: Promise<StateMachineDefinition> | undefined;

/** The synthesized Rehearsal state machine's definition, intrinsics resolved. */
export function rehearsalDefinition(): Promise<StateMachineDefinition> {
  definition ??= testAssembly().then(({ templates }) => {
    const found = Object.values(templates.stateless.Resources).find(
      (r) =>
        r.Type === 'AWS::StepFunctions::StateMachine' &&
        String(r.Properties?.StateMachineName ?? '').endsWith('-Rehearsal'),
    );
    if (!found) throw new Error('the synthesized app has no Rehearsal state machine');
    return JSON.parse(
      resolveIntrinsics(found.Properties?.DefinitionString, templates.config.region),
    ) as StateMachineDefinition;
  });
  return definition;
}

/** A task payload as the machine sends it. */
export interface TaskPayload {
  task: string;
  phase?: string;
}

/** A lab with the Rehearsal machine on it. */
export interface RehearsalWorld {
  sim: ZwanSimulator;
  repo: StateRepository;
  failover: FailoverDeps;
  reports: RehearsalReport[];
  /** The console operations' notices (PIN, UNPIN, FAILOVER…), oldest first. */
  notices: Notice[];
  /** The test's clock (epoch ms). */
  now(): number;
  /** The clock when the world was made (it moves only at verify steps). */
  startedAt: number;
  /** Store the lab concentrators' health. */
  health(h: Partial<Record<keyof typeof LAB_CONCENTRATORS, Health>>): Promise<void>;
  /** Run one execution; `before` runs before each task (e.g. a candidate goes DOWN). */
  run(input: unknown, before?: (payload: TaskPayload) => Promise<void>): Promise<RunResult>;
  /** Where each lab branch's tunnels point in the simulated world. */
  branchTargets(): Record<string, string | undefined>;
  dispose(): Promise<void>;
}

/**
 * The lab with every candidate UP and HA_DC1 serving (elected), its branches on HA_DC1;
 * `settings` override the tests' election settings (e.g. `preempt: false`).
 */
export async function createRehearsalWorld(
  options: { settings?: Partial<FailoverSettings>; mode?: ControllerMode } = {},
): Promise<RehearsalWorld> {
  let clock = Date.now();
  const now = () => clock;
  const [table, sim, def]: [TestTable, ZwanSimulator, StateMachineDefinition] = await Promise.all([
    createTestTable('rehearsal'),
    createZwanSimulator(),
    rehearsalDefinition(),
  ]);
  const repo = new StateRepository(table.doc, table.tableName, now);
  const { deps: failover, published } = testFailoverDeps({
    store: repo,
    directors: simDirectors(sim, 2000),
    audit: repo,
    tenants: [LAB_TENANT],
    now,
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const publisher = new RecordingRehearsalPublisher();
  const deps: RehearsalDeps = {
    failover,
    audit: repo,
    drLock: repo,
    publisher,
    now,
    ...(options.mode ? { mode: options.mode } : {}),
  };
  const health: RehearsalWorld['health'] = (h) => saveLabHealth(repo, h, clock - 3_600_000);
  await health({ HA_DC1: 'UP', HA_DC2: 'UP', DR: 'UP' });
  await reconcileGroup(failover, LAB_GROUP, { trigger: 'test setup' });
  return {
    sim,
    repo,
    failover,
    reports: publisher.reports,
    notices: published.notices,
    now,
    startedAt: clock,
    health,
    run: (input, before) =>
      runDrWorkflow(def, input, {
        waitMs: 1,
        retryMs: 1,
        invoke: async (payload) => {
          const p = payload as TaskPayload;
          if (p.task === 'verify') clock += POLL_SEC * 1000;
          await before?.(p);
          return runRehearsalTask(deps, payload);
        },
      }),
    branchTargets: () => Object.fromEntries(['BR1', 'BR2'].map((id) => [id, sim.world.currentTarget(id)])),
    dispose: async () => {
      await sim.close();
      await table.drop();
    },
  };
}
