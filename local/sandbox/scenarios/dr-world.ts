/**
 * A complete local DR world: the zWAN simulator with the S3 job runner, the state repository on
 * a DynamoDB table, the backup bucket, the real DR tasks (with a settable clock), and the four
 * synthesized state machines. The DR integration tests, the dc-site-loss scenario and the DR
 * benchmark all build on it. Given a running simulator (the sandbox's), it attaches the S3 job
 * runner to it instead of starting its own, so the workflows and everything else act on one world.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseConfig } from '../../../shared/config/load.js';
import type { Config } from '../../../shared/config/schema.js';
import { createZwanDirector, type ZwanDirector } from '../../../shared/director/zwan/adapter.js';
import type { SiteName } from '../../../shared/domain/model.js';
import {
  createDrDeps,
  drSettings,
  RecordingDrMetrics,
  RecordingDrNotifier,
} from '../../../shared/dr/adapters.js';
import type { Workflow } from '../../../shared/dr/inputs.js';
import { createDrTasks, runDrTask, type DrTasks } from '../../../shared/dr/tasks.js';
import { silentLog, type LogSink } from '../../../shared/observability.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { createZwanSimulator, SIM_API_KEY, type ZwanSimulator } from '../../simulator/zwan/server.js';
import { S3JobRunner } from '../../simulator/zwan/jobs.js';
import {
  LocalTaskTokens,
  runDrWorkflow,
  type DrDefinitions,
  type RunOptions,
  type RunResult,
} from './dr-machines.js';

/** Options of {@link createDrWorld}. */
export interface DrWorldOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  s3: S3Client;
  bucket: string;
  definitions: DrDefinitions;
  /** Start of the simulated clock (epoch ms). @default now */
  startAt?: number;
  /** Simulator job duration (ms). @default 40 */
  jobDurationMs?: number;
  /** ELK objects per backup. @default 3 */
  elkObjects?: number;
  /** Bytes per ELK object. @default 4096 */
  elkObjectBytes?: number;
  /** Local Wait state duration (ms). @default 5 */
  waitMs?: number;
  /** Per-attempt timeout of the tasks' director calls (ms). @default 2000 */
  directorTimeoutMs?: number;
  /** Where the tasks log. @default silent */
  log?: LogSink;
  /** Printed notifications. @default none */
  print?: (line: string) => void;
  /**
   * A running simulator to use (the sandbox's) instead of starting one: the S3 job runner is
   * attached to it (before any job started on it), and `close()` leaves it running. Its clock is
   * its own (the world's `clock` drives the tasks and the job runner).
   */
  simulator?: ZwanSimulator;
  /** The configuration's `dr` section the tasks run with (e.g. the sandbox's, time-scaled). @default its defaults */
  drConfig?: Partial<Config['dr']>;
  /**
   * The tasks, the repository and the job runner read the real clock (the sandbox) instead of the
   * settable `clock` (which `setTime` then does not move). @default false
   */
  realTime?: boolean;
}

/** A running DR world. */
export interface DrWorld {
  sim: ZwanSimulator;
  runner: S3JobRunner;
  repo: StateRepository;
  tasks: DrTasks;
  notifier: RecordingDrNotifier;
  metrics: RecordingDrMetrics;
  tokens: LocalTaskTokens;
  config: Config;
  directors: Record<SiteName, ZwanDirector>;
  /** The simulated clock (epoch ms); tasks and the repository read it. */
  clock: { now: number };
  /** Set the simulated clock to an ISO time. */
  setTime(isoTime: string): void;
  /** Run one execution of a workflow. */
  run(workflow: Workflow, input: unknown, options?: Partial<RunOptions>): Promise<RunResult>;
  /** Wait for the job runner; stop the simulator unless it was given ({@link DrWorldOptions.simulator}). */
  close(): Promise<void>;
}

/** Build the world; `close()` stops the simulator it started. */
export async function createDrWorld(options: DrWorldOptions): Promise<DrWorld> {
  const clock = { now: options.startAt ?? Date.now() };
  const now = options.realTime ? () => Date.now() : () => clock.now;
  const runner = new S3JobRunner({
    s3: options.s3,
    jobDurationMs: options.jobDurationMs ?? 40,
    elkObjects: options.elkObjects ?? 3,
    elkObjectBytes: options.elkObjectBytes ?? 4096,
    now,
  });
  const given = options.simulator;
  if (given) given.setJobRunner(runner);
  const sim = given ?? (await createZwanSimulator({ jobs: runner, now }));
  const config = parseConfig({
    env: 'local',
    director: {
      kind: 'zwan',
      sites: {
        DC: { baseUrl: sim.url('DC'), managementUrl: 'https://director-dc.example.net' },
        DR: { baseUrl: sim.url('DR'), managementUrl: 'https://director-dr.example.net' },
      },
      secretName: 'local/director',
      tenants: [...sim.world.tenants.keys()],
    },
    ...(options.drConfig ? { dr: options.drConfig } : {}),
  });
  const director = (site: SiteName) =>
    createZwanDirector({
      site,
      baseUrl: sim.url(site),
      apiKey: async () => SIM_API_KEY,
      retries: 1,
      timeoutMs: options.directorTimeoutMs ?? 2000,
      backoffBaseMs: 10,
    });
  const directors = { DC: director('DC'), DR: director('DR') };
  const repo = new StateRepository(options.doc, options.tableName, now);
  const notifier = new RecordingDrNotifier(options.print);
  const metrics = new RecordingDrMetrics();
  const tasks = createDrTasks(
    createDrDeps({
      repo,
      s3: options.s3,
      settings: drSettings(config, options.bucket, { maxJobPolls: 400 }),
      directors: (site) => directors[site],
      notifier,
      metrics,
      log: options.log ?? silentLog,
      now,
    }),
  );
  const tokens = new LocalTaskTokens();
  return {
    sim,
    runner,
    repo,
    tasks,
    notifier,
    metrics,
    tokens,
    config,
    directors,
    clock,
    setTime(isoTime) {
      clock.now = Date.parse(isoTime);
    },
    run(workflow, input, runOptions = {}) {
      return runDrWorkflow(options.definitions[workflow], input, {
        invoke: (payload) => runDrTask(tasks, payload),
        tokens,
        waitMs: options.waitMs ?? 5,
        ...runOptions,
      });
    },
    async close() {
      await runner.idle();
      if (!given) await sim.close();
    },
  };
}
