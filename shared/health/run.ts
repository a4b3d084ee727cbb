/**
 * One health-check run (the application service behind functions/health-check): sample every
 * concentrator and each site's director `samplesPerRun` times, `sampleIntervalSec` apart, and once
 * more at the closing round when the run fills its minute ({@link roundOffsetsSec}), with bulk
 * calls; fold every sample through the hysteresis; write a target's state the moment it changes
 * health, and at the end of the run only if its normalized state differs from the stored one (so
 * a steady run writes nothing).
 *
 * A director that is down, answering 5xx or timing out does not make its CPEs DOWN: the run
 * records "director unreachable" (status item on change, metric, log) and leaves their health as
 * it was, so the failover function can tell "this site's director is unreachable" (its site's
 * decisions freeze, shared/domain/blindness.ts) from "the concentrators are down".
 *
 * The hold counts observed samples only: such a round takes no sample of the site's CPEs, and a
 * good sample more than {@link maxSampleGapSec} after the previous observed one (an outage, a
 * missed or late run) restarts the hold (shared/domain/health.ts). A recovering target's state
 * carries the hold's last sample, so it is written at the end of every run while the hold runs
 * (steady UP and DOWN targets still cost no write); a gap between runs is seen only where the
 * store persists that field (`HealthState.lastSampleAt`).
 *
 * Overlapping runs (nothing relies on reserved concurrency 1): every write is conditional on the
 * version read, and the run keeps each target's samples that are not yet in the stored state.
 * When another run wrote first, for a transition or a progress write alike, the fresh item becomes
 * the stored state and this run's unwritten samples of that target are folded onto it again, in
 * order: every sample of every run reaches the stored state exactly once (a bad sample is not
 * dropped because another run wrote UP meanwhile), and a transition the other run already made
 * is not made, nor written, twice. (Two runs that fetch the same series point each apply it: it
 * is a sample of each run.) The fold keeps time order where runs interleave: a good sample older
 * than a bad one the state knows of is ignored (shared/domain/health.ts). A DOWN target's bad
 * samples change nothing and so are never written: at the end of the run such a target is re-read
 * (a read, not a write), and when another run stored a hold meanwhile they are folded onto it.
 * What that leaves open: a hold another run writes after this re-read (it ends later, or this run
 * ended first) never hears of this run's bad samples of a DOWN target. Closing that would cost a
 * write per DOWN target per run (and a stream record each); overlapping runs are rare (reserved
 * concurrency 1 in AWS), so it is left open and said here.
 */
import type { Director } from '../director/port.js';
import {
  applySample,
  applySamples,
  healthStateEquals,
  initialHealthState,
  sampleVerdict,
  type HealthState,
  type HysteresisConfig,
} from '../domain/health.js';
import type {
  CandidateSlot,
  HealthConfig,
  Inventory,
  Sample,
  SiteName,
  Transition,
} from '../domain/model.js';
import { ConcurrentUpdateError, DirectorAuthError } from '../errors.js';
import { mapLimit } from '../director/limits.js';
import type { Config } from '../config/schema.js';
import { HEALTH_METRICS, type LogSink, type MetricSink } from '../observability.js';
import { InventoryCache } from './inventory-cache.js';
import { directorLossDecision } from '../domain/director-loss.js';
import { nextMonitorVerdict, type MonitorVerdict } from '../domain/monitor.js';
import type { DirectorItem, DirectorStatus, StateRepository } from '../store/state-repo.js';

/** A director status as read (with the operator's last acknowledgement) or as this run wrote it. */
type RecordedStatus = DirectorStatus & Pick<DirectorItem, 'acknowledged'>;

/** The health settings of the configuration (thresholds, cadence). */
export type HealthSettings = Config['health'];

/**
 * Seconds between two points of a `series` director (Meraki's `uplinksLossAndLatency`: one point
 * a minute).
 */
const SERIES_RESOLUTION_SEC = 60;

/**
 * The gap rule's bound for a director's samples (`health.maxSampleGapSec` when set). Snapshot
 * directors: 2 × `sampleIntervalSec`, so one lost round is tolerated and two are not (at 5 s:
 * 10 s; consecutive runs a minute apart are one interval apart). Series directors: 1.5 × the
 * series resolution (90 s): consecutive points (60 s apart, whatever our own call cadence, since
 * each call returns the last 5 minutes) keep the hold, and one missing or no-data point (120 s
 * between two observed points) restarts it.
 */
export function maxSampleGapSec(settings: HealthSettings, sampling: Director['sampling']): number {
  if (settings.maxSampleGapSec !== undefined) return settings.maxSampleGapSec;
  return sampling === 'series' ? 1.5 * SERIES_RESOLUTION_SEC : 2 * settings.sampleIntervalSec;
}

/** The health-check schedule's period: EventBridge runs the function once a minute. */
export const HEALTH_RUN_PERIOD_SEC = 60;
/**
 * How late a run may start after the previous one's period ended (EventBridge delivery, a cold
 * start, the inventory) while sampling still never leaves more than one interval between two
 * rounds: see {@link roundOffsetsSec}.
 */
export const HEALTH_START_DELAY_SEC = 2;

/**
 * The offsets (seconds from the run's start) of a run's sample rounds: `samplesPerRun` rounds
 * `sampleIntervalSec` apart, and, when the run fills its period (12 × 5 s in a 1-minute run), one
 * closing round `sampleIntervalSec − HEALTH_START_DELAY_SEC` before the period ends (57 s at
 * 5 s). Without it the last round is at 55 s and the next run's first at 60 s plus its start
 * delay: a 7 s gap at a 2 s delay, which stretches detection past failAfter × interval. With it
 * no two consecutive samples are more than one interval apart, within a run or across two.
 * `health.closingRoundSec` sets the closing round's offset (0: none). Series directors (Meraki:
 * every call returns the last minutes, a point a minute) never need one: `series` gives none.
 */
export function roundOffsetsSec(settings: HealthSettings, series = false): number[] {
  const { samplesPerRun, sampleIntervalSec } = settings;
  const offsets = Array.from({ length: samplesPerRun }, (_, r) => r * sampleIntervalSec);
  if (series) return offsets;
  const fills = samplesPerRun > 1 && samplesPerRun * sampleIntervalSec === HEALTH_RUN_PERIOD_SEC;
  const closing =
    settings.closingRoundSec ??
    (fills ? HEALTH_RUN_PERIOD_SEC + HEALTH_START_DELAY_SEC - sampleIntervalSec : 0);
  const last = offsets[offsets.length - 1] ?? 0;
  if (closing > last) offsets.push(closing);
  return offsets;
}

/** What a run needs from the configuration. */
export interface HealthRunConfig {
  /** Tenants (zWAN) or organizations (Meraki) to monitor. */
  tenants: readonly string[];
  health: HealthSettings;
  /** The monitor-blind guard's thresholds (config `election`). @default share 0.5 of at least 4 */
  election?: { blindShare: number; blindMinTargets: number };
  /** DIRECTOR_LOST after this long unreachable (config `dr.directorLostAfterSec`). @default 300 */
  directorLostAfterSec?: number;
}

/** Extract the run's configuration from the validated {@link Config}. */
export function healthRunConfig(config: Config): HealthRunConfig {
  const tenants =
    config.director.kind === 'zwan'
      ? config.director.tenants
      : config.director.organizations.map((o) => o.id);
  return {
    tenants,
    health: config.health,
    election: { blindShare: config.election.blindShare, blindMinTargets: config.election.blindMinTargets },
    directorLostAfterSec: config.dr.directorLostAfterSec,
  };
}

/**
 * The part of the state repository the health run uses (see shared/store/state-repo.ts: health
 * items written conditionally on their version, director status written only on change).
 */
export type HealthStore = Pick<
  StateRepository,
  'loadHealth' | 'readHealth' | 'writeHealth' | 'loadDirectorStatus' | 'writeDirectorStatus' | 'getSiteRoles'
>;

/** What a run tells when a director is lost or back (./director-lost.ts sends the notice). */
export interface DirectorLossListener {
  /** DIRECTOR_LOST was recorded by this run (once per outage, whatever runs overlap). */
  lost(evidence: DirectorLossEvidence): Promise<void>;
  /** A lost director answers again (recorded by this run). */
  back(site: SiteName, at: number, lostAt: number): Promise<void>;
}

/** The evidence of a DIRECTOR_LOST: since when, the last answer, what the concentrators last said. */
export interface DirectorLossEvidence {
  site: SiteName;
  at: number;
  unreachableSince: number;
  lastAnsweredAt?: number;
  reason?: string;
  /** The site's concentrators as last sampled (their health is left as it was). */
  concentrators: {
    id: string;
    name: string;
    groupKey: string;
    health: string;
    since: number | null;
  }[];
}

/** A transition that was written, with the context the sandbox and logs print. */
export interface HealthTransitionEvent extends Transition {
  groupKey: string;
  tenantId: string;
  /** The CPE's name. */
  name: string;
  slot: CandidateSlot;
  site: SiteName;
}

/** Everything a run needs; built once per container by the handler (tests pass fakes). */
export interface HealthRunDeps {
  /** The director of each site (zWAN: DC and DR; Meraki: the Dashboard as DC). */
  directors: Partial<Record<SiteName, Director>>;
  repo: HealthStore;
  config: HealthRunConfig;
  /** Epoch ms now. */
  clock: () => number;
  /** Wait between sample rounds (tests and benchmarks pass a no-op or a fake-clock advance). */
  sleep: (ms: number) => Promise<void>;
  log: LogSink;
  /** @default no metrics */
  metrics?: MetricSink;
  /** The container's inventory cache. @default a fresh cache (no caching across runs) */
  inventory?: InventoryCache;
  /** Told when a director is lost or back. @default none (the loss is still recorded) */
  directorLoss?: DirectorLossListener;
}

/** Per-run options. */
export interface HealthRunOptions {
  /** @default config.health.samplesPerRun */
  samplesPerRun?: number;
  /** Stop sampling early (the end-of-run writes still happen). */
  signal?: AbortSignal;
  /** Called for every transition once it is written. */
  onTransition?: (event: HealthTransitionEvent) => void;
  /** Parallel writes at the end of a run. @default 16 */
  writeConcurrency?: number;
}

/** What a run did. */
export interface HealthRunSummary {
  startedAt: number;
  durationMs: number;
  /** Sample rounds taken. */
  rounds: number;
  /** Concentrators monitored. */
  targets: number;
  /** Samples applied (concentrators and directors). */
  samples: number;
  badSamples: number;
  /** Transitions written by this run, in order. */
  transitions: HealthTransitionEvent[];
  /** Successful DynamoDB writes (health and director status items). */
  writes: number;
  /** Conditional writes lost to a concurrent writer (then this run's unwritten samples are re-folded). */
  conflicts: number;
  /**
   * Single-item re-reads at the end of the run: a DOWN target whose bad samples changed nothing is
   * re-read, so a hold another run stored meanwhile still hears of them.
   */
  rereads: number;
  /** Calls to the Director port (list, bulk health, director health). */
  directorCalls: number;
  /** Sites whose director was unreachable at least once in this run. */
  unreachableSites: SiteName[];
  /** CPEs left out of monitoring because their metadata is wrong. */
  invalidCpes: number;
}

/** How often a conflicting write is re-read and re-applied before giving up. */
const MAX_WRITE_ATTEMPTS = 5;

interface Target {
  id: string;
  name: string;
  groupKey: string;
  tenantId: string;
  slot: CandidateSlot;
  site: SiteName;
}

/** Director sample target id of a site, e.g. `director:DC`. */
export function directorTarget(site: SiteName): string {
  return `director:${site}`;
}

function errorReason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Run one health check. Never throws for an unreachable director; throws for store failures. */
export async function runHealthCheck(
  deps: HealthRunDeps,
  options: HealthRunOptions = {},
): Promise<HealthRunSummary> {
  const { directors, repo, config, clock, sleep, log } = deps;
  const metrics = deps.metrics;
  const cache = deps.inventory ?? new InventoryCache();
  const settings = config.health;
  const healthConfig: HealthConfig = {
    lossThresholdPct: settings.lossThresholdPct,
    failAfter: settings.failAfter,
    recoverAfterSec: settings.recoverAfterSec,
    ...(settings.latencyThresholdMs !== undefined ? { latencyThresholdMs: settings.latencyThresholdMs } : {}),
  };
  // The hysteresis of each site's targets: the thresholds plus the gap rule of its sampling.
  const hysteresis = new Map<SiteName, HysteresisConfig>();
  for (const [site, director] of Object.entries(directors) as [SiteName, Director][])
    hysteresis.set(site, { ...healthConfig, maxSampleGapSec: maxSampleGapSec(settings, director.sampling) });
  const configOf = (target: Target): HysteresisConfig => hysteresis.get(target.site) ?? healthConfig;
  const sites = Object.entries(directors) as [SiteName, Director][];
  // Round offsets from the run's start, ms (a `samplesPerRun` override: evenly spaced only).
  const offsetsMs = (
    options.samplesPerRun === undefined
      ? roundOffsetsSec(settings, sites.length > 0 && sites.every(([, d]) => d.sampling === 'series'))
      : Array.from({ length: options.samplesPerRun }, (_, r) => r * settings.sampleIntervalSec)
  ).map((s) => s * 1000);
  const startedAt = clock();

  const summary: HealthRunSummary = {
    startedAt,
    durationMs: 0,
    rounds: 0,
    targets: 0,
    samples: 0,
    badSamples: 0,
    transitions: [],
    writes: 0,
    conflicts: 0,
    rereads: 0,
    directorCalls: 0,
    unreachableSites: [],
    invalidCpes: 0,
  };

  // --- Inventory (cached in the container) -------------------------------------------------
  const load = await cache.get(config.tenants, directors, startedAt);
  summary.directorCalls += load.directorCalls;
  for (const failure of load.failures) {
    log.warn('director could not list CPEs', {
      site: failure.site,
      tenantId: failure.tenantId,
      error: errorReason(failure.error),
    });
  }
  for (const tenantId of load.unlisted) {
    log.error('tenant not monitored: no director listed its CPEs', { tenantId });
  }
  const inventory = load.inventory;
  reportInvalid(inventory, log);
  summary.invalidCpes = inventory.invalid.length;

  const targets = new Map<string, Target>();
  // Per site, per tenant: the concentrator ids to sample in one bulk call.
  const bySite = new Map<SiteName, Map<string, string[]>>();
  for (const tenant of inventory.tenants) {
    for (const group of tenant.groups) {
      for (const c of group.candidates) {
        targets.set(c.id, {
          id: c.id,
          name: c.name,
          groupKey: group.key,
          tenantId: tenant.id,
          slot: c.slot,
          site: c.site,
        });
        const tenants = bySite.get(c.site) ?? new Map<string, string[]>();
        bySite.set(c.site, tenants);
        const ids = tenants.get(tenant.id) ?? [];
        tenants.set(tenant.id, ids);
        ids.push(c.id);
      }
    }
  }
  summary.targets = targets.size;
  // The monitor-blind share rule counts only targets the monitor samples itself (not series).
  const snapshotIds = [...targets.values()]
    .filter((t) => directors[t.site]?.sampling !== 'series')
    .map((t) => t.id);
  for (const [site, tenants] of bySite) {
    if (!directors[site]) {
      const count = [...tenants.values()].reduce((n, ids) => n + ids.length, 0);
      log.error('no director configured for a site with concentrators: not monitored', { site, count });
    }
  }

  // --- Stored state: read once per run ----------------------------------------------------------
  const groupKeys = inventory.tenants.flatMap((t) => t.groups.map((g) => g.key));
  const [stored, directorStatus, siteRoles] = await Promise.all([
    repo.loadHealth(groupKeys),
    Promise.all(sites.map(async ([site]) => [site, await repo.loadDirectorStatus(site)] as const)),
    repo.getSiteRoles(),
  ]);
  const lostAfterSec = config.directorLostAfterSec ?? 300;
  const states = new Map<string, HealthState>();
  for (const id of targets.keys()) states.set(id, stored.get(id)?.state ?? initialHealthState());
  /**
   * Each target's samples applied in memory but not yet in the stored state, in the order they
   * were applied (time order). Invariant: `states` = `stored` with these folded on top.
   */
  const unwritten = new Map<string, Sample[]>();
  for (const id of targets.keys()) unwritten.set(id, []);
  const recorded = new Map<SiteName, RecordedStatus | undefined>(directorStatus);
  const unreachable = new Set<SiteName>();

  /** Report a written transition (summary, log, callback). */
  const reportTransition = (target: Target, transition: Transition) => {
    const event: HealthTransitionEvent = {
      ...transition,
      groupKey: target.groupKey,
      tenantId: target.tenantId,
      name: target.name,
      slot: target.slot,
      site: target.site,
    };
    summary.transitions.push(event);
    log.info('health transition', {
      tenantId: target.tenantId,
      groupKey: target.groupKey,
      cpeId: target.id,
      cpeName: target.name,
      slot: target.slot,
      site: target.site,
      from: transition.from,
      to: transition.to,
      reason: transition.reason,
      at: new Date(transition.at).toISOString(),
    });
    options.onTransition?.(event);
  };

  /**
   * Fold a target's unwritten samples onto its stored state and write the result, conditional on
   * the stored version: every transition with its own write, in order; then, with `progress`, the
   * remaining hysteresis progress when it differs from the stored state (without, the samples
   * after the last transition stay unwritten until a later flush). When another run wrote first,
   * the fresh item becomes the stored state and the same unwritten samples are folded onto it
   * again: each sample of this run reaches the stored state exactly once, and a transition the
   * other run already made is not made (nor written) again.
   */
  const flush = async (target: Target, progress: boolean) => {
    const config = configOf(target);
    const queue = unwritten.get(target.id) ?? [];
    for (let conflicts = 0; ;) {
      const base = stored.get(target.id);
      const from = base?.state ?? initialHealthState();
      // The stored state with the unwritten samples up to (and with) the first transition.
      let state = from;
      let transition: Transition | undefined;
      let used = 0;
      while (used < queue.length && !transition) {
        const step = applySample(state, queue[used++] as Sample, config);
        state = step.state;
        transition = step.transition;
      }
      if (!transition) {
        if (!progress) return;
        if (healthStateEquals(state, from)) {
          // Folded in, nothing changed: nothing to write, unless the base is stale. A DOWN
          // target's bad samples leave its state as it was, so another run's hold stored since
          // this run read would never hear of them: re-read, and re-fold onto a newer state.
          if (state.health === 'DOWN' && queue.some((s) => sampleVerdict(s, config) === 'bad')) {
            const fresh = await repo.readHealth(target.groupKey, target.id);
            summary.rereads++;
            if (fresh && fresh.version !== base?.version && ++conflicts < MAX_WRITE_ATTEMPTS) {
              stored.set(target.id, fresh);
              states.set(target.id, applySamples(fresh.state, queue, config).state);
              continue;
            }
          }
          queue.length = 0;
          return;
        }
      }
      const result = await repo.writeHealth(
        {
          groupKey: target.groupKey,
          tenantId: target.tenantId,
          targetId: target.id,
          name: target.name,
          slot: target.slot,
          site: target.site,
          state,
          ...(transition ? { transition } : {}),
        },
        base?.version,
      );
      if (result.ok) {
        summary.writes++;
        stored.set(target.id, { state, version: result.version });
        queue.splice(0, used);
        if (!transition) return;
        reportTransition(target, transition);
        continue; // further transitions, then (with `progress`) the rest
      }
      summary.conflicts++;
      if (result.current) stored.set(target.id, result.current);
      else stored.delete(target.id);
      // The in-memory state follows the fresh stored state: later samples fold onto it.
      states.set(target.id, applySamples(result.current?.state ?? initialHealthState(), queue, config).state);
      log.debug("health write conflict: re-folding this run's unwritten samples on the fresh state", {
        tenantId: target.tenantId,
        groupKey: target.groupKey,
        cpeId: target.id,
        samples: queue.length,
      });
      if (++conflicts >= MAX_WRITE_ATTEMPTS) {
        throw new ConcurrentUpdateError(
          `health of ${target.id} (group ${target.groupKey}) kept changing under ${MAX_WRITE_ATTEMPTS} writes`,
        );
      }
    }
  };

  /**
   * The monitor's verdict on its own view, re-assessed every round from the recorded one (the
   * share rule's latch carries over from run to run; see nextMonitorVerdict).
   */
  let blind: MonitorVerdict = recordedVerdict(recorded);
  /** DOWN transitions of this run, since the last acknowledgement the run saw (the share rule). */
  let wentDown = 0;
  /** The acknowledgement each site's status item carried when last read (its time). */
  const acknowledged = new Map(sites.map(([site]) => [site, acknowledgedAt(recorded.get(site))]));
  const reachableNow = new Map<SiteName, { reachable: boolean; reason?: string }>();
  /** The round time of each director's last answer in this run. */
  const answeredAt = new Map<SiteName, number>();

  /** Note a director's reachability this round (logged once per run when it is lost). */
  const noteDirector = (site: SiteName, reachable: boolean, at: number, reason?: string) => {
    reachableNow.set(site, reason ? { reachable, reason } : { reachable });
    if (reachable) answeredAt.set(site, at);
    if (!reachable && !unreachable.has(site)) {
      unreachable.add(site);
      log.warn('director unreachable: CPE health of the site left as it was', { site, reason });
    }
  };

  /**
   * Write each site's status item whose reachability, blind verdict or loss differs from the
   * stored one. DIRECTOR_LOST is raised (and cleared) by the run whose write records it, so
   * overlapping runs tell it once.
   */
  const recordDirectors = async (at: number) => {
    await Promise.all(
      sites.map(async ([site]) => {
        const now = reachableNow.get(site);
        if (!now) return;
        const previous = recorded.get(site);
        const loss = directorLossDecision(previous, now.reachable, siteRoles[site], at, lostAfterSec);
        if (
          previous &&
          loss === 'none' &&
          previous.reachable === now.reachable &&
          (previous.monitorBlind ?? false) === blind.blind &&
          (previous.monitorBlindLatched ?? false) === blind.latched
        )
          return;
        const stillDown = previous !== undefined && !previous.reachable && !now.reachable;
        const lastAnsweredAt = stillDown ? previous.lastAnsweredAt : answeredAt.get(site);
        const lostAt = loss === 'raise' ? at : stillDown ? previous.lostAt : undefined;
        const status: DirectorStatus = {
          site,
          reachable: now.reachable,
          since: previous && previous.reachable === now.reachable ? previous.since : at,
          ...(now.reason ? { reason: now.reason } : {}),
          monitorBlind: blind.blind,
          monitorBlindLatched: blind.latched,
          ...(blind.reason ? { monitorBlindReason: blind.reason } : {}),
          ...(!now.reachable && lastAnsweredAt !== undefined ? { lastAnsweredAt } : {}),
          ...(!now.reachable && lostAt !== undefined ? { lostAt } : {}),
        };
        // False: a concurrent run recorded the same already.
        const wrote = await repo.writeDirectorStatus(status);
        if (wrote) summary.writes++;
        recorded.set(site, status);
        if (now.reachable && previous && !previous.reachable) log.info('director reachable again', { site });
        if (blind.blind !== (previous?.monitorBlind ?? false))
          log[blind.blind ? 'warn' : 'info'](blind.blind ? 'monitor blind' : 'monitor view trusted again', {
            site,
            reason: blind.reason,
          });
        if (!wrote || !previous) return;
        if (loss === 'raise') {
          log.error('DIRECTOR_LOST: the ACTIVE site director has been unreachable too long', {
            site,
            since: new Date(previous.since).toISOString(),
          });
          await deps.directorLoss?.lost({
            site,
            at,
            unreachableSince: previous.since,
            ...(lastAnsweredAt !== undefined ? { lastAnsweredAt } : {}),
            ...(now.reason ? { reason: now.reason } : {}),
            concentrators: [...targets.values()]
              .filter((t) => t.site === site)
              .map((t) => ({
                id: t.id,
                name: t.name,
                groupKey: t.groupKey,
                health: states.get(t.id)?.health ?? 'UNKNOWN',
                since: states.get(t.id)?.since ?? null,
              })),
          });
        } else if (loss === 'clear' && previous.lostAt !== undefined) {
          log.info('DIRECTOR_LOST cleared: the director answers again', { site });
          await deps.directorLoss?.back(site, at, previous.lostAt);
        }
      }),
    );
  };

  /** Fold a CPE sample into the in-memory state; a target that made a transition is `due` this round. */
  const applyCpeSample = (sample: Sample, due: Set<Target>, series = false) => {
    const target = targets.get(sample.target);
    if (!target) return;
    const config = configOf(target);
    summary.samples++;
    if (sampleVerdict(sample, config) === 'bad') summary.badSamples++;
    const result = applySample(states.get(target.id) ?? initialHealthState(), sample, config);
    states.set(target.id, result.state);
    unwritten.get(target.id)?.push(sample);
    if (result.transition) {
      // Series points are each branch's own measurement: they do not test the monitor's view.
      if (result.transition.to === 'DOWN' && !series) wentDown++;
      due.add(target);
    }
  };

  /** One round at one site: director health, then one bulk call per tenant. */
  const sampleSite = async (site: SiteName, director: Director, at: number, due: Set<Target>) => {
    summary.directorCalls++;
    let reason: string | undefined;
    try {
      const health = await director.health();
      if (!health.reachable) reason = 'director did not answer';
      else if (!health.healthy) reason = 'director reports itself unhealthy';
    } catch (error) {
      reason = errorReason(error);
    }
    summary.samples++;
    if (reason) {
      summary.badSamples++;
      noteDirector(site, false, at, reason);
      return;
    }
    for (const [tenantId, ids] of bySite.get(site) ?? []) {
      summary.directorCalls++;
      let samples: Sample[];
      try {
        samples = await director.sampleHealth(tenantId, ids);
      } catch (error) {
        if (error instanceof DirectorAuthError) log.error('director refused the API key', { site, tenantId });
        summary.badSamples++;
        noteDirector(site, false, at, errorReason(error));
        return;
      }
      if (director.sampling === 'series') {
        // Time-stamped points (Meraki): each at its own time, in order; no point = no data.
        const wanted = new Set(ids);
        for (const s of [...samples].sort((a, b) => a.at - b.at))
          if (wanted.has(s.target)) applyCpeSample(s, due, true);
        continue;
      }
      const got = new Map(samples.map((s) => [s.target, s]));
      for (const id of ids) {
        // A CPE the director does not report is unreachable from the director's point of view.
        const s = got.get(id);
        applyCpeSample(
          s ? { ...s, target: id, at } : { target: id, at, reachable: false, lossPct: null, latencyMs: null },
          due,
        );
      }
    }
    noteDirector(site, true, at);
  };

  // --- Sample rounds ----------------------------------------------------------------------------
  for (const [round, offsetMs] of offsetsMs.entries()) {
    if (options.signal?.aborted) break;
    if (round > 0) {
      const wait = startedAt + offsetMs - clock();
      await sleep(Math.max(0, wait));
      if (options.signal?.aborted) break;
    }
    // Every sample of a round carries the round's time, so the hold is measured on one clock.
    const at = clock();
    // Targets that made a transition this round: written now, each in sample order (a series
    // director can bring several transitions of one target), targets in parallel.
    const due = new Set<Target>();
    await Promise.all(sites.map(([site, director]) => sampleSite(site, director, at, due)));
    const writeRound = () => Promise.all([...due].map((target) => flush(target, false)));
    if (blind.latched) {
      // While latched, re-read the recorded verdict: an operator may have acknowledged it.
      for (const [site] of sites) recorded.set(site, await repo.loadDirectorStatus(site));
      const acked = sites.filter(([site]) => acknowledgedAt(recorded.get(site)) !== acknowledged.get(site));
      if (acked.length > 0) {
        // The operator confirmed the DOWNs seen so far: only DOWN transitions after the
        // acknowledgement count towards a new mass DOWN (else this run would raise it again).
        for (const [site] of acked) acknowledged.set(site, acknowledgedAt(recorded.get(site)));
        log.info('monitor blind acknowledged during the run: counting DOWN transitions from now on', {
          wentDownBefore: wentDown,
        });
        wentDown = 0;
      }
    }
    blind = nextMonitorVerdict(recordedVerdict(recorded), {
      totalTargets: snapshotIds.length,
      wentDownThisRun: wentDown,
      downNow: snapshotIds.filter((id) => states.get(id)?.health === 'DOWN').length,
      blindShare: config.election?.blindShare ?? 0.5,
      blindMinTargets: config.election?.blindMinTargets ?? 4,
    });
    if (blind.blind) {
      // Recorded BEFORE the round's transitions, so the failover function, which reads the
      // director items when a transition reaches it, already sees a blind monitor.
      await recordDirectors(at);
      await writeRound();
    } else {
      // Recorded AFTER: a verdict that clears wakes the failover, which must read this round's
      // transitions (the UPs that cleared it).
      await writeRound();
      await recordDirectors(at);
    }
    summary.rounds++;
  }

  // --- End of run: persist hysteresis progress only where the normalized state changed -------
  const sampled = [...targets.values()].filter((t) => (unwritten.get(t.id)?.length ?? 0) > 0);
  await mapLimit(sampled, options.writeConcurrency ?? 16, (t) => flush(t, true));

  summary.unreachableSites = [...unreachable];
  summary.durationMs = clock() - startedAt;
  if (metrics) {
    metrics.count(HEALTH_METRICS.samples, summary.samples);
    metrics.count(HEALTH_METRICS.badSamples, summary.badSamples);
    metrics.count(HEALTH_METRICS.transitions, summary.transitions.length);
    metrics.count(HEALTH_METRICS.invalidCpes, summary.invalidCpes);
    metrics.count(HEALTH_METRICS.directorUnreachable, summary.unreachableSites.length);
    // MONITOR_BLIND: the share rule's latch, or no director answering at all (blindness.ts).
    const noneAnswers =
      sites.length > 0 && sites.every(([site]) => reachableNow.get(site)?.reachable === false);
    metrics.count(HEALTH_METRICS.monitorBlind, blind.blind || noneAnswers ? 1 : 0);
    // 1 while the ACTIVE site's director stays lost: the DirectorLost alarm holds until it
    // answers or a switchover makes its site PASSIVE.
    const lost = [...recorded.values()].some(
      (s) => s?.lostAt !== undefined && siteRoles[s.site] === 'ACTIVE',
    );
    metrics.count(HEALTH_METRICS.directorLost, lost ? 1 : 0);
    metrics.durationMs(HEALTH_METRICS.runDurationMs, summary.durationMs);
  }
  log.info('health run done', {
    rounds: summary.rounds,
    targets: summary.targets,
    samples: summary.samples,
    badSamples: summary.badSamples,
    transitions: summary.transitions.length,
    writes: summary.writes,
    conflicts: summary.conflicts,
    rereads: summary.rereads,
    directorCalls: summary.directorCalls,
    unreachableSites: summary.unreachableSites,
    invalidCpes: summary.invalidCpes,
    durationMs: summary.durationMs,
  });
  return summary;
}

/** When the operator's last acknowledgement recorded on a status item was made (undefined: none). */
function acknowledgedAt(status: RecordedStatus | undefined): number | undefined {
  return status?.acknowledged?.at;
}

/** The verdict the director status items record: latched if any site's item says so. */
function recordedVerdict(recorded: ReadonlyMap<SiteName, RecordedStatus | undefined>): MonitorVerdict {
  const items = [...recorded.values()];
  return {
    blind: items.some((s) => s?.monitorBlind === true),
    latched: items.some((s) => s?.monitorBlindLatched === true),
  };
}

/** Log each CPE left out of monitoring with tenant, CPE, field, value and what was expected. */
function reportInvalid(inventory: Inventory, log: LogSink): void {
  for (const bad of inventory.invalid) {
    log.warn('invalid CPE left out of monitoring', {
      tenantId: bad.tenantId,
      cpeId: bad.cpeId,
      field: bad.field,
      value: bad.value,
      expected: bad.expected,
      message: bad.message,
    });
  }
}
