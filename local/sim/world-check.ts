/**
 * One checker schedule: a random world and fault schedule drawn from a seed, the real code of
 * every function (health run, the failover batch handler with Powertools idempotency, drift
 * reconcile, console pin/unpin/update-branches) over one simulated world and an in-memory table
 * with DynamoDB's conditional semantics, on a virtual clock, every actor interleaved at its
 * await points; invariants checked as the world and the store change (./invariants.ts).
 *
 * About one seed in five draws a Meraki world instead (./meraki-world.ts): the Dashboard
 * simulator as the one director, each branch network a group, the same functions and store.
 *
 * Phases: faults for `faultPhaseMs`, then everything heals (operators' pins are lifted) and the
 * system gets one hold plus one drift period (and a margin of health runs) to converge.
 */
import type { Context } from 'aws-lambda';
import { parseConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { TokenBucket } from '../../shared/director/limits.js';
import { createZwanDirector, type ZwanDirector } from '../../shared/director/zwan/adapter.js';
import type { SiteName } from '../../shared/domain/model.js';
import { drSettings, stateRepoDrStore } from '../../shared/dr/adapters.js';
import { DRAIN_MARGIN_SEC } from '../../shared/dr/machine.js';
import type { DrNotice } from '../../shared/dr/ports.js';
import { createDrTasks } from '../../shared/dr/tasks.js';
import { CpeFailoverError } from '../../shared/errors.js';
import { createFailoverBatchHandler } from '../../shared/failover/batch.js';
import { pinGroup, unpinGroup, updateBranches } from '../../shared/failover/console.js';
import { reconcileDrift } from '../../shared/failover/drift.js';
import type { DirectorSet, FailoverDeps } from '../../shared/failover/ports.js';
import { buildFailoverDeps } from '../../shared/failover/runtime.js';
import type { ReconcileResult } from '../../shared/failover/service.js';
import { directorLossNotices } from '../../shared/health/director-lost.js';
import { InventoryCache } from '../../shared/health/inventory-cache.js';
import { healthRunConfig, runHealthCheck } from '../../shared/health/run.js';
import type { Notice } from '../../shared/notify/port.js';
import { silentLog, type LogSink, type MetricSink } from '../../shared/observability.js';
import { MemoryTable, type TableChangeListener } from '../../shared/store/memory-table.js';
import type { VersionedTable } from '../../shared/store/versioned-table.js';
import type { FeedTableOptions } from './feed-table.js';
import { RestoredTable } from './restored-table.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { createZwanSimulator, SIM_API_KEY } from '../simulator/zwan/server.js';
import {
  applyFault,
  describeFault,
  drawFaults,
  drawSwarm,
  healWorld,
  type Fault,
  type Swarm,
} from './faults.js';
import { DrDriver, type DrRun } from './dr.js';
import { MemoryIdempotencyLayer } from './idempotency.js';
import { Invariants, type GroupShape, type Violation } from './invariants.js';
import { SimScheduler, type Actor } from './scheduler.js';
import { SimStream, type Deliver } from './stream.js';
import { randomTopology } from './topology.js';
import type { TopologyInput } from '../simulator/topology.js';
import { newTransportLog, simTransport, type AppliedAction } from './transport.js';
import type { SimWorld } from '../simulator/zwan/world.js';
import { merakiSiteDirectors } from '../../shared/meraki/pipeline.js';
import {
  createMerakiWorld,
  drawMerakiFaults,
  drawsMeraki,
  merakiShapes,
  randomMerakiTopology,
  type MerakiTopology,
} from './meraki-world.js';

/** Options of {@link runSchedule}. */
export interface ScheduleOptions {
  /** Replace the drawn faults (shrinking). */
  faults?: Fault[];
  /**
   * Check every zWAN director answer the transport shares uncopied: plain JSON when given, and
   * the same JSON at the end of the schedule (nobody changed it after the fact); either failing
   * is a T1 violation. @default false
   */
  checkAnswers?: boolean;
  /** Topology limits. @default 20 groups, 50 branches */
  maxGroups?: number;
  maxBranches?: number;
  /** Keep this many trace lines. @default 120 */
  traceLines?: number;
  /** Use this world instead of a drawn one (hand-written regression schedules). */
  topology?: TopologyInput;
  /** Override drawn rates (e.g. no transport faults, no crashes). */
  swarm?: Partial<Swarm>;
  /** Scripted operator actions (hand-written schedules), besides the drawn ones. */
  console?: ScriptedConsoleOp[];
  /** Re-point calls in flight per group (config `repoint.concurrency`). @default 8 */
  repointConcurrency?: number;
  /**
   * Config `repoint.groupCall`: big groups re-pointed through the zWAN group update. @default on
   * for even seeds, off for odd ones (both paths run under every kind of schedule)
   */
  groupCall?: boolean;
  /** @default hold 60 s, a sample every 10 s, 6 per run */
  cadence?: Cadence;
  /**
   * The state table: default a {@link MemoryTable}; the DynamoDB Local slice passes a
   * {@link FeedTable} over a fresh real table.
   */
  table?: (
    sched: SimScheduler,
    hooks: FeedTableOptions,
  ) => Promise<VersionedTable & { onChange(l: TableChangeListener): unknown }>;
  /**
   * A Meraki world (./meraki-world.ts): `true` draws one, a topology is used as is, `false` keeps
   * zWAN. @default drawn from the seed (about one in five) unless `topology` is given
   */
  meraki?: boolean | MerakiTopology;
  /** Told of every director write as it lands, with the world (measurements). */
  onApplied?: (action: AppliedAction, world: SimWorld, now: number) => void;
}

/** An operator action at a virtual time (ms after the start) on a group key. */
export interface ScriptedConsoleOp {
  at: number;
  op: 'pin' | 'unpin' | 'update';
  groupKey: string;
  /** pin: onto this candidate (default: a drawn one), forced or not. */
  concentratorId?: string;
  force?: boolean;
}

/** What one schedule did and found. */
export interface ScheduleReport {
  seed: number;
  /** The world's director: zWAN directors per site, or the Meraki Dashboard. */
  kind: 'zwan' | 'meraki';
  /** Virtual epoch ms of the schedule's start (fault times are relative to it). */
  startedAt: number;
  violations: Violation[];
  steps: number;
  virtualMs: number;
  groups: number;
  branches: number;
  faults: Fault[];
  trace: string[];
  swarm: Swarm;
  /** Serving changes, director calls, invocations, crashes. */
  stats: {
    changes: number;
    directorCalls: number;
    invocations: number;
    crashes: number;
    dlq: number;
    duplicateNotices: number;
    /** DIRECTOR_LOST notices the health runs sent. */
    directorLost: number;
    /** DR executions started, and those that succeeded. */
    drStarted: number;
    drSucceeded: number;
    /** Groups S6 was judged for (every condition of the promise held), and why others were not. */
    s6Checked: number;
    s6Excused: Record<string, number>;
    /** Meraki worlds: action batches the Dashboard received, and its 429 answers (its own limit). */
    merakiBatches: number;
    meraki429: number;
  };
  /** The DR executions (workflow, outcome, times). */
  dr: DrRun[];
}

/** The checker's health cadence (short, so a schedule is minutes of virtual time). */
const CADENCE: Cadence = { holdSec: 60, sampleIntervalSec: 10, samplesPerRun: 6 };
/**
 * A Meraki world's cadence: the series is per minute, one loss call per run; a hold of three
 * clean minutes; `maxSampleGapSec` 90 (one point a minute). Its points come 2 minutes late.
 */
const MERAKI_CADENCE: Cadence = { holdSec: 180, sampleIntervalSec: 60, samplesPerRun: 1 };
const MERAKI_MAX_GAP_SEC = 90;
const MERAKI_LAG_MS = 120_000;

/** Hold and sampling of a schedule's health check. */
export interface Cadence {
  holdSec: number;
  sampleIntervalSec: number;
  samplesPerRun: number;
}
const HEALTH_PERIOD_MS = 60_000;
const DRIFT_PERIOD_MS = 60_000;
const HEALTH_TIMEOUT_MS = 70_000;
const FAILOVER_TIMEOUT_MS = 60_000;
const CONSOLE_TIMEOUT_MS = 60_000;
/** The DR task function's timeout (cdk/constructs/dr-workflows.ts: 10 minutes). */
const DR_TIMEOUT_MS = 600_000;
/** `dr.directorLostAfterSec`: short, so a lost site's DIRECTOR_LOST comes within a schedule. */
const DIRECTOR_LOST_AFTER_SEC = 60;
/**
 * `dr.drainAfterSec`: what synth requires (checkDrainAfter), the longest timeout of the
 * invocations that re-point (failover, drift, console: 60 s here) plus DRAIN_MARGIN_SEC: 90 s.
 */
const DRAIN_AFTER_SEC =
  Math.max(FAILOVER_TIMEOUT_MS, DRIFT_PERIOD_MS, CONSOLE_TIMEOUT_MS) / 1000 + DRAIN_MARGIN_SEC;
/** How long after the heal a DR execution still running may keep a schedule going. */
const DR_OVERRUN_MS = 15 * 60_000;
const BATCH_SIZE = 10;
const RETRY_ATTEMPTS = 5;

const silent: LogSink = { debug() {}, info() {}, warn() {}, error() {} };
const noMetrics: MetricSink = { count() {}, durationMs() {} };

/** JavaScript's own error classes: a failure with one of these is a bug, not an outcome. */
const BUILT_IN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError']);

/** A named error (`…Error`, ours or a library's) is an allowed outcome of an invocation (F2). */
function isNamedOutcome(e: unknown): boolean {
  if (e instanceof CpeFailoverError) return true;
  return e instanceof Error && /Error$/.test(e.name) && !BUILT_IN_ERRORS.has(e.name);
}

function checkerConfig(
  tenants: string[],
  cadence: Cadence,
  concurrency: number,
  groupCall: boolean,
  meraki?: { baseUrl: string; topology: MerakiTopology },
): Config {
  return parseConfig(
    {
      env: 'checker',
      region: 'eu-west-1',
      director: meraki
        ? {
            kind: 'meraki',
            baseUrl: meraki.baseUrl,
            secretName: 'checker',
            organizations: meraki.topology.organizations.map((o) => ({
              id: o.id,
              hubs: o.hubs.map((h) => ({ name: h.name, tagPrefix: h.tagPrefix, trackedIp: h.trackedIp })),
            })),
          }
        : {
            kind: 'zwan',
            sites: {
              DC: { baseUrl: 'http://127.0.0.1/sites/DC/api/v1', managementUrl: 'https://dc.example.net' },
              DR: { baseUrl: 'http://127.0.0.1/sites/DR/api/v1', managementUrl: 'https://dr.example.net' },
            },
            secretName: 'checker',
            tenants,
          },
      health: {
        recoverAfterSec: cadence.holdSec,
        sampleIntervalSec: cadence.sampleIntervalSec,
        samplesPerRun: cadence.samplesPerRun,
        failAfter: 3,
        ...(meraki ? { maxSampleGapSec: MERAKI_MAX_GAP_SEC } : {}),
      },
      repoint: { concurrency, groupCall, requestsPerSecond: 50, timeoutMs: 2_000, retries: 2 },
      reconcile: { schedule: 'rate(1 minute)' },
      dr: { directorLostAfterSec: DIRECTOR_LOST_AFTER_SEC, drainAfterSec: DRAIN_AFTER_SEC },
    },
    'checker configuration',
  );
}

/** Run one schedule from its seed. */
export async function runSchedule(seed: number, options: ScheduleOptions = {}): Promise<ScheduleReport> {
  const sched = new SimScheduler(seed);
  const start = sched.now;
  const rng = sched.rng;
  const topoRng = rng.fork();
  const swarmRng = rng.fork();
  const faultRng = rng.fork();
  const actRng = rng.fork();
  const netRng = rng.fork();
  const storeRng = rng.fork();
  const runtime = sched.runtime();
  const clock = { now: () => sched.now, sleep: (ms: number) => sched.sleep(ms) };

  // A Meraki world (its own draw, so the zWAN seeds' worlds are what they were), or zWAN.
  const mt: MerakiTopology | undefined =
    options.meraki === true || (options.meraki === undefined && !options.topology && drawsMeraki(seed))
      ? randomMerakiTopology(topoRng)
      : options.meraki || undefined;
  const topology: TopologyInput = mt
    ? // No zWAN world to speak of (the DR parts below are never started in a Meraki world).
      {
        name: 'checker-meraki',
        tenants: [{ id: 'none', name: 'none' }],
        sites: { DC: { role: 'ACTIVE' }, DR: { role: 'PASSIVE' } },
        cpes: [],
      }
    : (options.topology ??
      randomTopology(topoRng, {
        maxGroups: options.maxGroups ?? 20,
        maxBranches: options.maxBranches ?? 50,
      }));
  const swarm: Swarm = { ...drawSwarm(swarmRng), ...(mt ? { autoSwitchover: false } : {}), ...options.swarm };
  const sim = await createZwanSimulator({
    topology,
    listen: false,
    now: () => sched.now,
    logBodies: false,
    maxLoggedRequests: 0,
  });
  const world = sim.world;
  const mw = mt ? await createMerakiWorld(mt, sched) : undefined;
  const shapes = mt ? merakiShapes(mt) : new Map<string, GroupShape>();
  for (const c of topology.cpes) {
    const key = `${c.tenantId}#${c.metadata.HA_NAME}`;
    let s = shapes.get(key);
    if (!s) {
      s = { key, tenantId: c.tenantId, haName: String(c.metadata.HA_NAME), candidates: [], branches: [] };
      shapes.set(key, s);
    }
    if (c.metadata.CPE_TYPE) s.candidates.push(c.id);
    else s.branches.push(c.id);
  }
  // Failover order: DC/ACTIVE, DC/PASSIVE, DR/ACTIVE, DR/PASSIVE (from the onboarding metadata).
  const slotOf = new Map(
    topology.cpes.map((c) => [
      c.id,
      ['DC/ACTIVE', 'DC/PASSIVE', 'DR/ACTIVE', 'DR/PASSIVE'].indexOf(
        `${c.metadata.CPE_TYPE}/${c.metadata.HA_STATE}`,
      ),
    ]),
  );
  for (const s of shapes.values()) s.candidates.sort((a, b) => (slotOf.get(a) ?? 9) - (slotOf.get(b) ?? 9));
  const concentrators = [...shapes.values()].flatMap((s) => s.candidates);
  const faults =
    options.faults ??
    (mt ? drawMerakiFaults(faultRng, mt, swarm) : drawFaults(faultRng, concentrators, swarm));
  const cadence = options.cadence ?? (mt ? MERAKI_CADENCE : CADENCE);
  const config = checkerConfig(
    topology.tenants.map((t) => t.id),
    cadence,
    options.repointConcurrency ?? 8,
    options.groupCall ?? seed % 2 === 0,
    mw && mt ? { baseUrl: mw.sim.baseUrl, topology: mt } : undefined,
  );
  const transportLog = newTransportLog();

  const traceMax = options.traceLines ?? 120;
  const trace: string[] = [];
  const note = (line: string) => {
    trace.push(`+${((sched.now - start) / 1000).toFixed(3)}s ${line}`);
    if (trace.length > traceMax * 2) trace.splice(0, trace.length - traceMax);
  };
  const stats = {
    changes: 0,
    directorCalls: 0,
    invocations: 0,
    crashes: 0,
    dlq: 0,
    duplicateNotices: 0,
    directorLost: 0,
    drStarted: 0,
    drSucceeded: 0,
    s6Checked: 0,
    s6Excused: {} as Record<string, number>,
    merakiBatches: 0,
    meraki429: 0,
  };

  const inv = new Invariants(
    shapes,
    mw ? mw.view : world,
    {
      holdMs: cadence.holdSec * 1000,
      sampleIntervalMs: cadence.sampleIntervalSec * 1000,
      maxGapMs: mw ? MERAKI_MAX_GAP_SEC * 1000 : 2 * cadence.sampleIntervalSec * 1000,
      healthPeriodMs: HEALTH_PERIOD_MS,
      driftPeriodMs: DRIFT_PERIOD_MS,
    },
    () => sched.now,
    start,
    transportLog,
  );

  // --- The store: one table, a stream of its changes, a lossy network in front of it ------------
  let faultsOn = true;
  const hooks: FeedTableOptions = {
    gate: () => sched.sleep(storeRng.int(1, 6)),
    afterApply: (op, outcome) => {
      if (faultsOn && op.kind === 'put' && outcome === 'ok' && storeRng.chance(swarm.lostStoreAnswer)) {
        const e = new Error('the answer of a landed write was lost');
        e.name = 'TimeoutError';
        throw e;
      }
    },
  };
  const table = options.table
    ? await options.table(sched, hooks)
    : new MemoryTable({ name: 'state', ...hooks });
  const stream = new SimStream(sched, {
    shards: swarm.shards,
    batchSize: BATCH_SIZE,
    retryAttempts: RETRY_ATTEMPTS,
    rng: actRng,
    faults: () => (faultsOn ? swarm.stream : undefined),
    onDlq: (rec, crashesOnly) => {
      stats.dlq++;
      if (crashesOnly) {
        note(
          `stream record ${rec.eventID} went to the DLQ: its invocations crashed ${RETRY_ATTEMPTS + 1} times`,
        );
        return;
      }
      inv.fail(
        'F1',
        `stream record ${rec.eventID} (${JSON.stringify(rec.dynamodb?.Keys)}) went to the DLQ after ${RETRY_ATTEMPTS} retries`,
      );
    },
  });
  table.onChange((change) => {
    inv.onChange(change, sched.current());
    const img = change.newImage;
    if (img?.type === 'group' && change.oldImage?.servingId !== img.servingId) {
      stats.changes++;
      note(
        `store: ${String(img.sk)} serving ${String(change.oldImage?.servingId ?? '-')} → ${String(img.servingId)} epoch ${String(img.epoch)}`,
      );
    }
    if (img?.type === 'cpe-health' && (change.oldImage?.health ?? 'UNKNOWN') !== img.health)
      note(
        `store: health ${String(img.sk)} ${String(change.oldImage?.health ?? 'UNKNOWN')} → ${String(img.health)}`,
      );
    stream.offer(change);
  });
  // A restore (PITR) goes into a new table: invocations running at the switch keep the old one.
  const restorable =
    table instanceof MemoryTable ? new RestoredTable(table, () => sched.current(), hooks) : undefined;
  const repo = new StateRepository(restorable ?? table, runtime, { auditTtlDays: 90 });
  // Meraki: every tag change that moves a network's tunnel, as it lands (S1 as Meraki holds it).
  mw?.sim.onTunnelChange((c) => {
    const org = mw.sim.network(c.networkId)?.organizationId;
    note(`meraki ${c.networkId}: tunnel ${c.from ?? '-'} → ${c.to ?? '-'}`);
    if (org) inv.onUnfencedWrite(`${org}#${c.networkId}`, c.networkId);
  });
  const idempotency = new MemoryIdempotencyLayer(() => sched.sleep(storeRng.int(1, 6)));

  // --- Directors and containers ----------------------------------------------------------------
  // The transport's fault rates: the swarm's while faults are on, latency only after the heal.
  const transportFaults = () =>
    faultsOn
      ? swarm.transport
      : { ...swarm.transport, refused: 0, error5xx: 0, tooMany: 0, lostAnswer: 0, lateAnswer: 0 };
  const zwanFor = (s: SiteName): ZwanDirector =>
    createZwanDirector({
      site: s,
      baseUrl: sim.url(s),
      apiKey: Object.assign(async () => SIM_API_KEY, {}),
      transport: simTransport({
        sim,
        sched,
        rng: netRng,
        faults: transportFaults,
        log: transportLog,
        lossThresholdPct: config.health.lossThresholdPct,
        groupKey: (t, h) => `${t}#${h}`,
        checkAnswers: options.checkAnswers === true,
        onApplied: (a) => {
          inv.onApplied(a);
          options.onApplied?.(a, world, sched.now);
        },
      }),
      clock,
      random: () => netRng.float(),
      timeoutMs: config.repoint.timeoutMs,
      retries: config.repoint.retries,
      concurrency: config.repoint.concurrency,
    });
  // Meraki: the real pipeline director (the Dashboard as DC) over the in-process Dashboard; its
  // own rate-limit buckets per container (a Lambda container is a process).
  const merakiFor = (w: NonNullable<typeof mw>): DirectorSet =>
    merakiSiteDirectors(config, {
      apiKey: async () => w.sim.apiKey,
      fetch: w.fetch({
        rng: netRng,
        faults: transportFaults,
        log: transportLog,
        timeoutMs: config.repoint.timeoutMs,
        lossThresholdPct: config.health.lossThresholdPct,
      }),
      clock,
      random: () => netRng.float(),
      buckets: new Map(),
      // Fenced swaps claimed in the one store, as every function's are.
      claims: repo.claims,
      timeoutMs: config.repoint.timeoutMs,
      retries: config.repoint.retries,
      // The adapter's notices (an unreadable VPN status, a malformed entry) are expected under
      // the drawn faults; the checker reports what the world shows, not these.
      log: silentLog,
    });
  const directorsFor = (): DirectorSet => (mw ? merakiFor(mw) : { DC: zwanFor('DC'), DR: zwanFor('DR') });
  const publisher = {
    async publish(n: Notice) {
      await sched.sleep(storeRng.int(1, 20));
      inv.onNotice(n);
      note(`notice ${n.kind} ${n.groupKey} epoch ${n.epoch}`);
    },
  };
  // Every fan-out, whoever runs it (stream, drift, console), logs 'fan-out done' with its counts:
  // the checker's log sink is where S3a learns that a fan-out reports success.
  const observingLog: LogSink = {
    ...silent,
    info(message, ...attributes) {
      if (message !== 'fan-out done') return;
      const a = (attributes[0] ?? {}) as {
        groupKey?: string;
        servingId?: string;
        epoch?: number;
        failed?: number;
        stale?: number;
        /** Branches whose re-point may still apply (left to the next reconcile): no success. */
        pending?: number;
        haStateFailures?: unknown[];
      };
      if (!a.groupKey || !a.servingId || a.epoch === undefined) return;
      note(`fan-out ${a.groupKey} → ${a.servingId} epoch ${a.epoch}: ${JSON.stringify(attributes[0])}`);
      // Re-points refused as stale (an older epoch, or the director PASSIVE: DirectorPassiveError
      // is a StaleEpochError) are superseded, not a success.
      if (
        (a.failed ?? 0) > 0 ||
        (a.stale ?? 0) > 0 ||
        (a.pending ?? 0) > 0 ||
        (a.haStateFailures?.length ?? 0) > 0
      )
        return;
      inv.onFanOutDone(a.groupKey, {
        servingId: a.servingId,
        epoch: a.epoch,
        superseded: false,
        failed: [],
        counts: { failed: 0 },
      });
    },
  };
  const newDeps = (): FailoverDeps =>
    buildFailoverDeps({
      config,
      repo,
      directors: directorsFor(),
      publisher,
      log: observingLog,
      metrics: noMetrics,
      now: () => sched.now,
    });
  const onResult = (r: ReconcileResult) => {
    if (r.fanOut?.replayed)
      note(`fan-out ${r.groupKey} epoch ${r.fanOut.epoch}: replayed from the idempotency record`);
  };

  /** Run `fn` as one invocation of a function, killed at `timeoutMs`; resolves its outcome. */
  const invoke = async <T>(name: string, timeoutMs: number, fn: (a: Actor) => Promise<T>) => {
    stats.invocations++;
    const { actor, done } = sched.spawn(name, fn);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    done.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    // Settled, crashed (the runtime reports the dead process at once) or killed at its timeout.
    await Promise.race([done.catch(() => undefined), sched.died(actor), sched.harnessSleep(timeoutMs)]);
    sched.finished(actor);
    if (!outcome) {
      stats.crashes++;
      inv.disturb();
      // Crashed already, or killed now at its timeout.
      note(`${name}#${actor.id} ${actor.crashed ? 'crashed' : 'timed out'}`);
      sched.crash(actor);
      return { ok: false as const, error: new Error('crashed'), crashed: true };
    }
    if (!outcome.ok) {
      const e = outcome.error;
      if (!isNamedOutcome(e))
        inv.fail(
          'F2',
          `${name}#${actor.id} failed with an unnamed error: ${String((e as Error)?.stack ?? e)}`,
        );
      note(`${name}#${actor.id} failed: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    }
    return { ...outcome, crashed: false };
  };
  // Each invocation may die once, at an await drawn up front.
  const crashPlan = new WeakMap<Actor, number>();
  sched.crashAt = (actor) => {
    let at = crashPlan.get(actor);
    if (at === undefined) {
      at = actRng.chance(swarm.crash) ? actRng.int(1, 300) : Number.POSITIVE_INFINITY;
      crashPlan.set(actor, at);
    }
    return faultsOn && actor.sleeps >= at;
  };

  // --- Actors ----------------------------------------------------------------------------------
  const context = (fn: string) =>
    ({
      functionName: fn,
      awsRequestId: runtime.id(),
      getRemainingTimeInMillis: () => FAILOVER_TIMEOUT_MS,
    }) as unknown as Context;
  // Warm health containers; a run that overlaps a running one gets a container of its own (Lambda
  // never runs two invocations in one container).
  const idleHealth: { deps: DirectorSet; cache: InventoryCache }[] = [];
  // DIRECTOR_LOST and DIRECTOR_BACK: the product's listener (./director-lost.ts), its notices
  // recorded; with `autoSwitchover` drawn, a lost DC director starts SwitchoverDcToDr (the
  // execution named after the outage, so overlapping runs start it once; approved at once).
  const directorLoss = directorLossNotices({
    notifier: {
      async notify(n: Notice) {
        if (n.kind === 'DIRECTOR_LOST') stats.directorLost++;
        note(`notice ${n.kind} ${String((n.detail as { site?: string } | undefined)?.site ?? '')}`);
      },
      publish: async () => true,
    },
    log: silent,
    // Not with a table restore in the schedule (see drawFaults: restores and DR are kept apart).
    // Meraki has no DR director: never.
    autoSwitchover: !mw && swarm.autoSwitchover && !faults.some((f) => f.verb === 'restore-table'),
    starter: {
      async start(name, input) {
        if (faultsOn) startDr('SwitchoverDcToDr', name, input);
        return name;
      },
    },
  });
  const healthRun = async () => {
    const container = idleHealth.pop() ?? { deps: directorsFor(), cache: new InventoryCache() };
    const r = await invoke('health', HEALTH_TIMEOUT_MS, () =>
      runHealthCheck(
        {
          directors: container.deps,
          repo,
          config: healthRunConfig(config),
          clock: () => sched.now,
          sleep: (ms) => sched.sleep(ms),
          log: silent,
          inventory: container.cache,
          directorLoss,
        },
        {},
      ),
    );
    if (!r.ok) return; // the container died with it
    idleHealth.push(container);
    // The checker's own worlds are well-formed: a CPE left out would quietly shrink the test.
    if (r.value.invalidCpes > 0) inv.fail('T0', `the drawn world has ${r.value.invalidCpes} invalid CPE(s)`);
  };
  const healthLoop = async (until: number) => {
    while (sched.now < until) {
      void healthRun();
      if (actRng.chance(faultsOn ? swarm.overlapHealth : 0))
        sched.at(actRng.int(5_000, 55_000), () => void healthRun());
      await sched.harnessSleep(HEALTH_PERIOD_MS + actRng.int(0, 2_000));
    }
  };

  /** One failover invocation of a stream batch: one container per shard, kept until it fails. */
  const failoverContainers = new Map<number, ReturnType<typeof createFailoverBatchHandler>>();
  const deliver: Deliver = async (event, shard) => {
    let handler = failoverContainers.get(shard);
    if (!handler) {
      handler = createFailoverBatchHandler(newDeps(), { persistenceStore: idempotency, onResult });
      failoverContainers.set(shard, handler);
    }
    const run = handler;
    const r = await invoke('failover', FAILOVER_TIMEOUT_MS, () => run(event, context('failover')));
    if (!r.ok) failoverContainers.delete(shard);
    return r.ok ? { ok: true, value: r.value } : { ok: false, crashed: r.crashed };
  };

  const driftLoop = async (until: number) => {
    while (sched.now < until) {
      await sched.harnessSleep(DRIFT_PERIOD_MS);
      await invoke('drift', DRIFT_PERIOD_MS, async () => {
        const deps = newDeps();
        const report = await reconcileDrift(deps, {
          bucket: new TokenBucket(config.repoint.requestsPerSecond, config.repoint.requestsPerSecond, clock),
        });
        for (const r of report.results) onResult(r);
        return report;
      });
    }
  };

  const groupList = [...shapes.values()];
  type ConsoleOp = 'pin' | 'unpin' | 'update';
  const consoleCall = async (
    g: GroupShape,
    op: ConsoleOp,
    pin?: { concentratorId?: string; force?: boolean },
  ) => {
    note(`console ${op} ${g.key}`);
    const done = inv.operatorAct(g.key);
    await invoke('console', CONSOLE_TIMEOUT_MS, async () => {
      const deps = newDeps();
      if (op === 'pin')
        return pinGroup(deps, {
          tenantId: g.tenantId,
          haName: g.haName,
          concentratorId: pin?.concentratorId ?? actRng.pick(g.candidates),
          reason: 'checker maintenance',
          force: pin?.force ?? actRng.chance(0.5),
        });
      if (op === 'unpin') return unpinGroup(deps, { tenantId: g.tenantId, haName: g.haName });
      return updateBranches(deps, { tenantId: g.tenantId, haName: g.haName, dryRun: false });
    });
    done();
  };
  /** One operator action; `flip` is a pin and an unpin a moment later (racing fan-outs). */
  const consoleOp = () => {
    const g = actRng.pick(groupList);
    const op = actRng.pick(['pin', 'unpin', 'update', 'flip'] as const);
    if (op !== 'flip') return void consoleCall(g, op);
    void consoleCall(g, 'pin');
    sched.at(actRng.int(0, 3_000), () => void consoleCall(g, actRng.chance(0.5) ? 'unpin' : 'update'));
  };

  // --- DR workflows ------------------------------------------------------------------------------
  const drNotices: DrNotice[] = [];
  // DR workflows need zWAN directors: a Meraki world never starts one (the settings are read lazily).
  let drSettingsCache: ReturnType<typeof drSettings> | undefined;
  const settings = () => (drSettingsCache ??= drSettings(config, 'checker-backups'));
  const drInvoke = (stateName: string, fn: (tasks: ReturnType<typeof createDrTasks>) => Promise<unknown>) =>
    invoke(`dr ${stateName}`, DR_TIMEOUT_MS, () => {
      // A cold DR function per invocation, over the schedule's store and directors.
      const dirs = { DC: zwanFor('DC'), DR: zwanFor('DR') };
      return fn(
        createDrTasks({
          store: stateRepoDrStore(repo),
          objects: NO_OBJECTS,
          directors: (s) => dirs[s],
          notifier: {
            async notify(n) {
              drNotices.push(n);
            },
          },
          metrics: { put() {} },
          log: silent,
          now: () => sched.now,
          settings: settings(),
        }),
      );
    });
  const healAt = start + swarm.faultPhaseMs;
  /**
   * After a failed execution, once the faults have healed and no execution runs, the operator
   * finishes as the runbook says: each director is told its table role again (Compensate with no
   * state), the management URL is pointed at the ACTIVE site, the SSH-onboarded CPEs it lists are
   * rebooted. (S3 then holds the system to the store's roles, whatever the execution left.)
   */
  const operatorFinish = async () => {
    while (sched.now < healAt || driver.running > 0) await sched.harnessSleep(10_000);
    note('dr: the operator finishes after a failed execution');
    const payload = (task: string) => ({ task, workflow: 'SwitchoverDcToDr', executionId: 'operator' });
    await drInvoke('OperatorCompensate', (t) =>
      t.compensate({ ...payload('compensate'), target: 'DR', oldSite: 'DC' }),
    );
    let site: SiteName = 'DC';
    await drInvoke('OperatorManagementUrl', async (t) => {
      site = (await t.resolveSites(payload('resolveSites'))).active;
      if (world.provisioningSite !== site) await t.setManagementUrl({ ...payload('setManagementUrl'), site });
    });
    world.reboot(world.sshOnboarded(site).map((c) => c.id));
  };
  let finishing = false;
  const driver: DrDriver = new DrDriver({
    sched,
    invoke: (stateName, fn) => drInvoke(stateName, fn),
    note,
    drainAfterSec: config.dr.drainAfterSec,
    reboot: (ids) => world.reboot(ids),
    onEnd: (run) => {
      if (run.outcome === 'SUCCEEDED') {
        stats.drSucceeded++;
        // S6: serving from the new site within one health period, its branches after one more
        // drift period (see Invariants.armS6 for the conditions it is judged under).
        const w = inv.armS6(run.target);
        sched.at(HEALTH_PERIOD_MS, () => inv.judgeS6(w, false));
        sched.at(HEALTH_PERIOD_MS + DRIFT_PERIOD_MS, () => inv.judgeS6(w, true));
      } else if (!finishing) {
        finishing = true;
        void operatorFinish().finally(() => (finishing = false));
      }
    },
  });
  const startDr = (workflow: DrRun['workflow'], name: string, input: Record<string, unknown>) => {
    if (!driver.start(workflow, name, input)) return;
    stats.drStarted++;
    inv.disturb();
  };

  // --- The schedule ----------------------------------------------------------------------------
  // S3: within one hold plus one drift period of the heal (plus a health run and a margin).
  // Meraki: the heal shows in the series 2 minutes late (the heal falls on a whole minute, a point).
  const endAt =
    healAt + cadence.holdSec * 1000 + DRIFT_PERIOD_MS + HEALTH_PERIOD_MS + 30_000 + (mw ? MERAKI_LAG_MS : 0);
  // A point-in-time restore: the table as it was at `fromAt`, put back at `at` (memory table only).
  for (const f of faults) {
    if (f.verb !== 'restore-table' || !restorable) continue;
    let snapshot: ReturnType<MemoryTable['snapshot']> | undefined;
    sched.at(f.fromAt, () => (snapshot = restorable.live.snapshot()));
    sched.at(f.at, () => {
      if (!faultsOn || !snapshot) return;
      restorable.restore(snapshot, sched.now);
      inv.onRestore(snapshot);
    });
  }
  faults.forEach((f, i) => {
    if (f.verb !== 'dr') return;
    const input =
      f.workflow === 'SwitchoverDcToDr'
        ? { mode: f.mode, reason: `checker fault ${i}` }
        : { reason: `checker fault ${i}` };
    sched.at(f.at, () => faultsOn && startDr(f.workflow, `checker-${i}-${f.workflow}`, input));
  });
  for (const f of faults) {
    sched.at(f.at, () => {
      if (!faultsOn) return;
      note(`fault: ${describeFault(f)}`);
      const later = (ms: number, fn: () => void) => sched.at(ms, () => faultsOn && fn());
      if (mw) mw.apply(f, later);
      else applyFault(world, f, later, faultRng);
    });
  }
  for (const c of options.console ?? []) {
    const g = shapes.get(c.groupKey);
    if (!g) throw new Error(`scripted console op: no group ${c.groupKey}`);
    sched.at(c.at, () => void consoleCall(g, c.op, c));
  }
  for (let i = 0; i < swarm.consoleOps; i++) sched.at(actRng.int(0, swarm.faultPhaseMs), consoleOp);
  sched.at(swarm.faultPhaseMs, () => {
    faultsOn = false;
    if (mw) mw.heal();
    else healWorld(world);
    note('heal: every fault cleared');
    for (const g of groupList) {
      if (inv.operated.has(g.key)) void consoleCall(g, 'unpin');
    }
  });
  // The loops run to a horizon; the schedule itself ends at `end` (below).
  const horizon = endAt + DR_OVERRUN_MS + (endAt - healAt);
  void healthLoop(horizon);
  void stream.run(horizon, deliver);
  void driftLoop(horizon);

  // Powertools idempotency stamps its records with Date.now (expiry, in-progress expiry): in a
  // memory-table schedule it reads the virtual clock, so a crashed fan-out's in-progress record
  // expires in virtual time and replays do not depend on how fast this machine is. (Not for the
  // DynamoDB Local slice: the SDK signs its requests with Date.now.)
  const wallNow = Date.now;
  if (!options.table) Date.now = () => sched.now;
  try {
    // A DR execution still running at the heal (a fence waiting out its drain, retries) goes on;
    // S3 gives the system its convergence time from the last one's end (or the operator's finish).
    let end = endAt;
    for (;;) {
      await sched.runUntil(end);
      const quiet = driver.running > 0 || finishing ? undefined : Math.max(healAt, driver.lastEndedAt ?? 0);
      const next = quiet === undefined ? sched.now + 30_000 : quiet + (endAt - healAt);
      if (next <= end || next > endAt + DR_OVERRUN_MS) break;
      end = next;
    }
  } finally {
    Date.now = wallNow;
  }
  inv.atEnd();
  for (const e of transportLog.internalErrors.slice(0, 3))
    inv.fail('T1', `the simulated director failed on its own: ${e}`);
  const changed = transportLog.sharedAnswers.filter((a) => JSON.stringify(a.value) !== a.text);
  for (const a of changed.slice(0, 3))
    inv.fail(
      'T1',
      `an answer of ${a.what} changed after it was given (the world kept a hold of it, or the code changed it; --check-answers): answered ${a.text.slice(0, 200)}, now ${JSON.stringify(a.value).slice(0, 200)}`,
    );
  if (sched.orphanSleeps > 0)
    inv.fail(
      'T1',
      `${sched.orphanSleeps} await(s) of the code ran outside any actor (crashes and S4 would miss them)`,
    );
  stats.directorCalls = transportLog.calls;
  stats.duplicateNotices = inv.duplicateNotices;
  stats.s6Checked = inv.s6Checked;
  stats.s6Excused = Object.fromEntries(inv.s6Excuses);
  stats.merakiBatches = mw?.sim.stats().batchesCreated ?? 0;
  stats.meraki429 = mw?.sim.stats().http429 ?? 0;
  return {
    seed,
    kind: mw ? 'meraki' : 'zwan',
    startedAt: start,
    violations: inv.violations,
    steps: sched.steps,
    virtualMs: sched.now - start,
    groups: shapes.size,
    branches: groupList.reduce((n, g) => n + g.branches.length, 0),
    faults,
    trace: trace.slice(-traceMax),
    swarm,
    stats,
    dr: driver.runs,
  };
}

/** The backup bucket: the checker runs no backup or restore, so nothing reads it. */
const NO_OBJECTS = {
  verifyObject(): never {
    throw new Error('the checker runs no backup verification');
  },
  async deleteKeys(): Promise<void> {},
};
