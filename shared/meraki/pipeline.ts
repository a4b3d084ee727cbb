/**
 * Meraki mode through the common pipeline (issue 4 §1): the Meraki Dashboard as the `DC` director
 * of the health run and the failover service, with nothing Meraki-specific in either.
 *
 * The mapping is the adapter's (shared/director/meraki/adapter.ts): each participating branch
 * network is an HA group of its own (key `<orgId>#<networkId>`) with one branch (the network)
 * and one candidate per configured hub, in order (primary → DC/ACTIVE, backup → DC/PASSIVE, 3rd →
 * DR/ACTIVE, 4th → DR/PASSIVE). A candidate's health target is the branch→hub path; a re-point is
 * the network's tag swap. What this module adds on top of the adapter:
 *
 * - `sampling: 'series'`: the health run applies every per-minute point of
 *   `uplinksLossAndLatency` at its own time (2-minute lag, nulls are "no data") with the same
 *   hysteresis, and a hub a branch does not track gets no point, so it stays UNKNOWN from that
 *   branch and election never fails over onto it, unless the hub is `trustedWithoutTracking`
 *   (the adapter then reports it clean, as the reference script assumed).
 * - Re-points made at about the same time (one failover batch reconciles many branch groups at
 *   once, e.g. when a hub dies) are coalesced per organization into action batches
 *   (`retagMany`); a lone one is a guarded GET/GET/PUT (`retagOne`). Each carries the fan-out's
 *   fence (the group's stored epoch), checked per network before and after the write.
 * - Every swap is verified: after the tags are right (written now or already), the organization's
 *   VPN statuses must show the network reaching the hub ({@link ReachVerifier}); one that does
 *   not within the timeout is a failed re-point (RepointNotReachedError, with the reason), so
 *   REPOINT_FAILURE is notified and the drift reconcile tries again. A change whose batch is still
 *   running when the caller stops waiting is RepointPendingError (it may still apply).
 * - Configuration checks the port needs: at most four hubs per organization (one per slot).
 */
import type { Config } from '../config/schema.js';
import {
  createMerakiDirector,
  parseMerakiConfig,
  type MerakiConfig,
  type MerakiDirector,
  type MerakiDirectorOptions,
  type RetagReport,
} from '../director/meraki/adapter.js';
import { parsePathTarget } from '../director/meraki/adapter.js';
import type { MerakiTags } from '../director/meraki/tags.js';
import { systemClock } from '../director/limits.js';
import type { Director, RepointFence, RepointOptions, RepointResult } from '../director/port.js';
import { CANDIDATE_ORDER, type RepointAction } from '../domain/model.js';
import {
  ConfigError,
  DirectorUnavailableError,
  RepointNotReachedError,
  RepointPendingError,
  StaleEpochError,
} from '../errors.js';

/** What verification needs: whether networks reach their hubs, per the organization's VPN statuses. */
export interface ReachVerifier {
  verifyReach(
    organizationId: string,
    targets: readonly { networkId: string; hub: string }[],
    options: { timeoutMs: number; pollMs: number },
  ): Promise<{
    reached: string[];
    notReached: { networkId: string; hub: string; reaching?: string; reason: string }[];
  }>;
}

/** Options of {@link createMerakiPipelineDirector}: the adapter's, plus coalescing and verification. */
export interface MerakiPipelineOptions extends Omit<MerakiDirectorOptions, 'config'> {
  /** Flush a organization's pending re-points after this long without a new one. @default 25 */
  coalesceIdleMs?: number;
  /** …and at the latest this long after the first one. @default 250 */
  coalesceMaxMs?: number;
  /**
   * Verification of each swap. @default the adapter's own `verifyReach` (VPN statuses), first
   * read 5 s after the swap, 60 s timeout, polled every 5 s. `false` turns it off (a re-point is then done when the tags are).
   */
  verify?:
    | false
    | {
        verifier?: ReachVerifier;
        timeoutMs?: number;
        pollMs?: number;
        /** First look at swapped networks this long after their tags changed. @default 5000 */
        settleMs?: number;
      };
}

/** The Meraki director as the pipeline uses it: the adapter with series sampling and batched re-points. */
export interface MerakiPipelineDirector extends MerakiDirector {
  readonly sampling: 'series';
  /** Every action-batch report of coalesced re-points so far (newest last, at most 100 kept). */
  readonly batchReports: readonly RetagReport[];
  /** Whether each swap is verified (a re-point is done when the branch reaches the hub, not when tagged). */
  readonly verifies: boolean;
}

/**
 * Validate the Meraki director configuration for the pipeline: the adapter's rules (unique
 * organizations, hubs and tags; tag prefixes without spaces) and at most four hubs per
 * organization. Throws ConfigError naming the field and the value; nothing is called.
 */
export function parseMerakiPipelineConfig(input: unknown): MerakiConfig {
  const config = parseMerakiConfig(input);
  const issues = config.organizations.flatMap((org, o) =>
    org.hubs.length > CANDIDATE_ORDER.length
      ? [
          {
            path: `organizations.${o}.hubs`,
            value: org.hubs.map((h) => h.name),
            expected: `at most ${CANDIDATE_ORDER.length} hubs (primary, backup, 3rd, 4th: one per candidate slot ${CANDIDATE_ORDER.join(', ')})`,
          },
        ]
      : [],
  );
  if (issues.length > 0) throw new ConfigError('director (meraki)', issues);
  return config;
}

interface Pending {
  action: RepointAction;
  hub: string;
  fence?: RepointFence;
  resolve: (r: RepointResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Create the Meraki director of the pipeline (see the module comment). Throws ConfigError for a
 * bad configuration.
 */
export function createMerakiPipelineDirector(
  config: unknown,
  options: MerakiPipelineOptions = {},
): MerakiPipelineDirector {
  const valid = parseMerakiPipelineConfig(config);
  const { coalesceIdleMs = 25, coalesceMaxMs = 250, verify, ...adapterOptions } = options;
  const adapter = createMerakiDirector({
    minSampleIntervalMs: valid.lossIntervalSec * 1000,
    ...adapterOptions,
    config: valid,
  });
  const verifier: ReachVerifier | undefined = verify === false ? undefined : (verify?.verifier ?? adapter);
  // The adapter's retagOne is the tag part's (fence options included); its interface may lag.
  const retagOne = adapter.retagOne as MerakiTags['retagOne'];
  const verifyTiming = {
    timeoutMs: (verify || undefined)?.timeoutMs ?? 60_000,
    pollMs: (verify || undefined)?.pollMs ?? 5_000,
    settleMs: (verify || undefined)?.settleMs ?? 5_000,
  };
  const reports: RetagReport[] = [];
  // Time and waiting through the adapter's injectable clock (the checker's virtual one, or real).
  const clock = options.clock ?? systemClock;
  // Per organization: the pending re-points; `gen` counts arrivals, so only the wait started by
  // the newest arrival flushes (a debounce without timers to cancel).
  const queues = new Map<string, { items: Pending[]; first: number; gen: number }>();

  const settle = (p: Pending, changed: boolean) =>
    p.resolve({ branchId: p.action.branchId, targetId: p.action.targetId, epoch: p.action.epoch, changed });

  /** Settle the items whose tags are right: done when each reaches its hub (when verified). */
  async function verified(organizationId: string, done: { p: Pending; changed: boolean }[]): Promise<void> {
    if (done.length === 0) return;
    if (!verifier) {
      for (const d of done) settle(d.p, d.changed);
      return;
    }
    // A tunnel takes seconds to come up after its tags changed: looking sooner only spends the budget.
    if (done.every((d) => d.changed)) await clock.sleep(verifyTiming.settleMs);
    let answer: Awaited<ReturnType<ReachVerifier['verifyReach']>>;
    try {
      answer = await verifier.verifyReach(
        organizationId,
        done.map((d) => ({ networkId: d.p.action.branchId, hub: d.p.hub })),
        verifyTiming,
      );
    } catch (error) {
      for (const d of done)
        d.p.reject(
          new DirectorUnavailableError(
            `Meraki network ${d.p.action.branchId}: tags ${d.changed ? 'swapped' : 'already'} for hub ${d.p.hub}, but the swap could not be verified: ${(error as Error).message}`,
            { cause: error },
          ),
        );
      return;
    }
    const missed = new Map(answer.notReached.map((n) => [n.networkId, n]));
    for (const d of done) {
      const n = missed.get(d.p.action.branchId);
      if (!n) settle(d.p, d.changed);
      else
        d.p.reject(
          new RepointNotReachedError(
            `tags ${d.changed ? 'swapped' : 'already set'} but ${d.p.action.branchId} does not reach hub ${d.p.hub}${n.reaching ? ` (it reaches ${n.reaching})` : ''}: ${n.reason}`,
          ),
        );
    }
  }

  async function flush(organizationId: string): Promise<void> {
    const queue = queues.get(organizationId);
    if (!queue) return;
    queues.delete(organizationId);
    // One network asked twice (two epochs in one window): the newer epoch wins.
    const latest = new Map<string, Pending>();
    for (const p of queue.items) {
      const seen = latest.get(p.action.branchId);
      if (seen && seen.action.epoch > p.action.epoch) {
        p.reject(
          new StaleEpochError(`re-point of ${p.action.branchId} at epoch ${p.action.epoch}: superseded`),
        );
        continue;
      }
      if (seen)
        seen.reject(
          new StaleEpochError(
            `re-point of ${seen.action.branchId} at epoch ${seen.action.epoch}: superseded`,
          ),
        );
      latest.set(p.action.branchId, p);
    }
    const items = [...latest.values()];
    const early = new Set<string>();
    const verifications: Promise<void>[] = [];
    const ofItem = (p: Pending) => ({
      networkId: p.action.branchId,
      hub: p.hub,
      epoch: p.action.epoch,
      ...(p.fence ? { fence: p.fence } : {}),
    });
    try {
      if (items.length === 1) {
        const p = items[0] as Pending;
        let changed: boolean;
        try {
          const { epoch, fence } = ofItem(p);
          ({ changed } = await retagOne(organizationId, p.action.branchId, p.hub, {
            epoch,
            ...(fence ? { fence } : {}),
          }));
        } catch (error) {
          p.reject(error);
          return;
        }
        await verified(organizationId, [{ p, changed }]);
        return;
      }
      // Each batch's networks are verified as soon as it completed, while later batches run.
      const byId = new Map(items.map((p) => [p.action.branchId, p]));
      const report = await adapter.retagMany(organizationId, items.map(ofItem), {
        onSettled: (settled) => {
          const done = settled.flatMap(({ networkId, changed }) => {
            const p = byId.get(networkId);
            if (!p || early.has(networkId)) return [];
            early.add(networkId);
            return [{ p, changed }];
          });
          verifications.push(verified(organizationId, done));
        },
      });
      reports.push(report);
      if (reports.length > 100) reports.shift();
      const changed = new Set(report.changed);
      const failed = new Map(report.failed.map((f) => [f.networkId, f.reason]));
      const pending = new Map(report.pending.map((f) => [f.networkId, f.reason]));
      const stale = new Map(report.stale.map((f) => [f.networkId, f]));
      const done: { p: Pending; changed: boolean }[] = [];
      for (const p of items) {
        const id = p.action.branchId;
        if (early.has(id)) continue;
        const why = `Meraki network ${id} (organization ${organizationId}) not re-tagged for hub ${p.hub}`;
        const s = stale.get(id);
        if (failed.has(id)) p.reject(new DirectorUnavailableError(`${why}: ${failed.get(id)}`));
        else if (pending.has(id)) p.reject(new RepointPendingError(`${why} yet: ${pending.get(id)}`));
        else if (s) p.reject(new StaleEpochError(s.reason, { currentEpoch: s.currentEpoch }));
        else done.push({ p, changed: changed.has(id) });
      }
      await verified(organizationId, done);
    } catch (error) {
      for (const p of items) if (!early.has(p.action.branchId)) p.reject(error);
    } finally {
      await Promise.all(verifications);
    }
  }

  function repoint(action: RepointAction, options: RepointOptions = {}): Promise<RepointResult> {
    const hub = parsePathTarget(action.targetId)?.hub ?? action.targetId;
    return new Promise<RepointResult>((resolve, reject) => {
      const now = clock.now();
      let queue = queues.get(action.tenantId);
      if (!queue) {
        queue = { items: [], first: now, gen: 0 };
        queues.set(action.tenantId, queue);
      }
      queue.items.push({ action, hub, ...(options.fence ? { fence: options.fence } : {}), resolve, reject });
      const wait =
        queue.items.length >= 100
          ? 0
          : Math.min(coalesceIdleMs, Math.max(0, queue.first + coalesceMaxMs - now));
      const q = queue;
      const gen = ++q.gen;
      void clock.sleep(wait).then(() => {
        if (queues.get(action.tenantId) === q && q.gen === gen) void flush(action.tenantId);
      });
    });
  }

  return { ...adapter, sampling: 'series', repoint, batchReports: reports, verifies: verifier !== undefined };
}

/**
 * The directors of a Meraki configuration, by site: the Dashboard as `DC` (there is no DR
 * director; the DR slots are the 3rd and 4th hubs). Throws ConfigError when `config.director` is
 * not Meraki or is invalid.
 */
export function merakiSiteDirectors(
  config: Config,
  options: MerakiPipelineOptions = {},
): { DC: Director & MerakiPipelineDirector } {
  if (config.director.kind !== 'meraki') {
    throw new ConfigError('configuration', [
      { path: 'director.kind', value: config.director.kind, expected: 'meraki' },
    ]);
  }
  return { DC: createMerakiPipelineDirector(config.director, options) };
}
