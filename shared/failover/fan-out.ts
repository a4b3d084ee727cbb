/**
 * One fan-out: make every branch of a group use the serving concentrator at an epoch. Fence,
 * then read: the acting director learns the epoch first, then the group is listed fresh from it
 * and the plan is made from that listing; HA_STATE (serving ACTIVE, any other ACTIVE → PASSIVE)
 * before any re-point; every branch's outcome recorded; a store behind the director's fence (a
 * table restore) is raised above it.
 */
import type { TokenBucket } from '../director/limits.js';
import { OBSERVE_METRICS } from '../director/observe.js';
import { branchCurrentTarget, findGroup } from '../domain/inventory.js';
import type { HaGroup, HaState, RepointAction, SiteName } from '../domain/model.js';
import { planRepoints } from '../domain/plan.js';
import { NotFoundError, ObserveModeError, StaleEpochError } from '../errors.js';
import type { BranchCounts } from '../notify/port.js';
import {
  activeDirector,
  describe,
  FAILOVER_METRICS,
  notice,
  splitGroupKey,
  viewOf,
  type TenantView,
} from './common.js';
import type { BranchOutcome, FailoverDeps } from './ports.js';
import { sendRepoints } from './repoint-calls.js';

/**
 * How long after a group's epoch changed a listing of a director that keeps no epoch may still
 * miss a swap in flight: a fenced swap's retries, and an action batch's 10 minutes (Meraki's
 * limit) with a margin.
 */
export const UNSETTLED_MS = 15 * 60_000;

/** What one fan-out is asked to do: make every branch of a group use `servingId` at `epoch`. */
export interface FanOutRequest {
  groupKey: string;
  tenantId: string;
  servingId: string;
  epoch: number;
  /** Epoch ms of the decision (for DecisionToLastRepointMs). */
  decidedAt: number;
}

/** What one fan-out did. JSON-safe: the idempotency layer stores it. */
export interface FanOutResult {
  groupKey: string;
  servingId: string;
  epoch: number;
  counts: BranchCounts;
  failed: { branchId: string; error: string }[];
  /** Dropped whole because the group's epoch moved on before it started. */
  superseded: boolean;
  /**
   * Another invocation holds the idempotency record of this group + epoch (running, or crashed
   * mid-way): this fan-out ran again anyway, without the idempotency layer (it is fenced and
   * idempotent).
   */
  inProgressElsewhere?: boolean;
  /** The stored result of an earlier fan-out for this group + epoch: nothing was done now. */
  replayed?: boolean;
  /**
   * HA_STATE calls that failed. A failed ACTIVE of serving means no branch was re-pointed (each is
   * recorded failed with the reason); a failed PASSIVE leaves two concentrators ACTIVE until the
   * drift reconcile makes the old one PASSIVE.
   */
  haStateFailures?: HaStateFailure[];
  /** HA_STATE calls made (the listing showed serving not ACTIVE, or another one ACTIVE). */
  haStateSet?: { cpeId: string; state: HaState }[];
  /**
   * Re-points submitted whose outcome is not known yet (a Meraki action batch still running: it
   * may still apply). Neither done nor failed: no outcome is stored for them, no REPOINT_FAILURE
   * is notified, and the fan-out does not report success; the drift reconcile reads them back.
   */
  pending?: { branchId: string; reason: string }[];
  /**
   * Observe mode (config `mode`): the director refused the fence, so nothing was written; this is
   * what the fan-out would have done, planned from its listing. No branch outcome is stored.
   */
  observed?: ObservedFanOut;
}

/** What an observe-mode fan-out would have done (nothing was sent to the director). */
export interface ObservedFanOut {
  /** Re-points it would have sent (branches not on serving). */
  repoints: number;
  /** HA_STATE calls it would have made (serving not ACTIVE, another concentrator ACTIVE). */
  haState: { cpeId: string; state: HaState }[];
}

/** What a fan-out may be given besides its request (not part of its idempotency key). */
export interface FanOutHooks {
  /** Throttle re-point calls across groups (drift reconcile). */
  bucket?: TokenBucket;
  /** Called with the re-point actions planned from the fresh listing (when the fan-out runs here). */
  onPlan?: (plan: RepointAction[]) => void;
  /**
   * The caller's listing of the tenant. Planned from only when the director keeps no epoch
   * (`fencing: 'none'`, Meraki): there a fresh listing buys no ordering, and listing the whole
   * organization once per group would spend its shared request budget.
   */
  view?: TenantView;
}

/** Runs a fan-out: {@link fanOut} directly, or wrapped by Powertools idempotency (the handler). */
export type FanOutRunner = (request: FanOutRequest, hooks?: FanOutHooks) => Promise<FanOutResult>;

/** The re-point actions for a group (branches already on `servingId` get none). */
export function planFor(group: HaGroup, servingId: string, epoch: number): RepointAction[] {
  const current = new Map(group.branches.map((b) => [b.id, branchCurrentTarget(b, group)]));
  return planRepoints(group, servingId, epoch, current);
}

/**
 * Make every branch of a group use `request.servingId`. Fence, then read: dropped whole when the
 * group's stored epoch is already newer; else the acting director is fenced with the epoch (from
 * then on it refuses every call of an older one), the group's CPEs are listed fresh from it (a
 * director that keeps no epoch, Meraki, plans from the caller's listing instead, but sends every
 * branch's re-point with a fence on the group's stored epoch), and everything
 * below is planned from that listing: HA_STATE first (serving ACTIVE, any other
 * concentrator it shows ACTIVE → PASSIVE), then each branch not on serving, with bounded
 * concurrency (retries are the HTTP client's), or, for more branches than one wave, through the
 * director's group call (./repoint-calls.ts). Each branch's outcome is recorded.
 */
export async function fanOut(
  deps: FailoverDeps,
  request: FanOutRequest,
  hooks: FanOutHooks = {},
): Promise<FanOutResult> {
  const now = deps.now ?? Date.now;
  const { groupKey, tenantId, servingId, epoch } = request;
  const { haName } = splitGroupKey(groupKey);
  const result: FanOutResult = {
    groupKey,
    servingId,
    epoch,
    counts: { total: 0, repointed: 0, unchanged: 0, failed: 0, stale: 0 },
    failed: [],
    superseded: false,
  };
  const stored = await deps.store.getGroup(groupKey);
  const storedEpoch = stored?.epoch ?? 0;
  if (storedEpoch > epoch) {
    result.superseded = true;
    deps.log.info('fan-out superseded by a newer epoch', { groupKey, epoch, storedEpoch });
    return result;
  }
  const director = activeDirector(deps, await deps.store.getSiteRoles());
  try {
    await director.fence(tenantId, haName, epoch, servingId);
  } catch (error) {
    if (error instanceof ObserveModeError) return observedFanOut(deps, director, request, hooks, result);
    if (!(error instanceof StaleEpochError)) throw error;
    const raised = await raiseBehindStore(deps, request, director.site, error, hooks);
    if (raised) return raised;
    result.superseded = true;
    deps.log.info('fan-out superseded: the director has a newer epoch', {
      groupKey,
      epoch,
      directorEpoch: error.currentEpoch,
    });
    return result;
  }
  // Read after the fence: a call of an older epoch still in flight has landed (and is seen
  // here) or will be refused.
  const { view, group, actions } = await listAndPlan(deps, director, request, hooks);
  result.counts.total = group.branches.length;
  // A director that keeps no epoch is planned for from the caller's listing. While the group's
  // epoch changed recently, that listing may miss a swap still in flight (an older epoch's, a
  // batch still applying): no branch counts as already right from it, every branch's re-point is
  // sent and the director's own fresh read decides changed or unchanged. Later, the listing is
  // as good as a re-read (a drift pass over a settled organization sends nothing). Every re-point
  // carries a fence: the group's stored epoch and serving, checked around each write.
  const unfenced = director.fencing === 'none';
  const unsettled = unfenced && now() - (stored?.changedAt ?? 0) < UNSETTLED_MS;
  const planned = new Map(actions.map((a) => [a.branchId, a]));
  const send = unsettled
    ? planRepoints(group, servingId, epoch, new Map()).map((a) => planned.get(a.branchId) ?? a)
    : actions;
  const fence = unfenced
    ? {
        read: async () => {
          const g = await deps.store.getGroup(groupKey);
          return { epoch: g?.epoch ?? 0, ...(g?.servingId !== undefined ? { servingId: g.servingId } : {}) };
        },
      }
    : undefined;
  const bucket = hooks.bucket;

  let ha: HaStateReport;
  try {
    ha = await setHaStates(deps, director, group, view, servingId, epoch);
  } catch (error) {
    if (error instanceof StaleEpochError) {
      result.superseded = true;
      result.counts.stale = send.length;
      return result;
    }
    throw error;
  }
  const haFailures = [...(ha.active ? [ha.active] : []), ...ha.passive];
  if (haFailures.length > 0) result.haStateFailures = haFailures;
  if (ha.set.length > 0) result.haStateSet = ha.set;

  result.counts.unchanged = group.branches.length - send.length;
  let outcomes: BranchOutcome[];
  let pending: { branchId: string; reason: string }[] = [];
  if (ha.active) {
    // No virtual IP on the serving concentrator: a branch moved onto it would lose its LAN. Every
    // re-point is left to the retry and the drift reconcile, which run HA_STATE first.
    const why = `HA_STATE ACTIVE of ${servingId} failed (${ha.active.error}); not re-pointed`;
    const at = now();
    outcomes = send.map((a) => ({
      groupKey,
      branchId: a.branchId,
      targetId: a.targetId,
      epoch,
      at,
      result: 'failed',
      changed: false,
      error: why,
    }));
  } else {
    const calls = { groupKey, tenantId, haName, servingId, epoch, now, ...(fence ? { fence } : {}) };
    ({ outcomes, pending } = await sendRepoints(deps, director, bucket ? { ...calls, bucket } : calls, send));
  }
  if (pending.length > 0) result.pending = pending;
  // The group call may report a branch the listing showed right as moved (it changed meanwhile):
  // counted as re-pointed, not also as unchanged.
  const unplanned = outcomes.length + pending.length - send.length;
  if (unplanned > 0) result.counts.unchanged -= unplanned;
  await deps.store.putBranchOutcomes(outcomes);

  let last = 0;
  for (const o of outcomes) {
    if (o.result === 'ok' && o.changed) result.counts.repointed++;
    else if (o.result === 'ok') result.counts.unchanged++;
    else if (o.result === 'stale') result.counts.stale = (result.counts.stale ?? 0) + 1;
    else {
      result.counts.failed++;
      result.failed.push({ branchId: o.branchId, error: o.error ?? 'unknown' });
    }
    if (o.result === 'ok' && o.changed) last = Math.max(last, o.at);
  }
  // A re-point refused as stale (a newer epoch, or a director gone PASSIVE) means a newer
  // decision owns the group: the fan-out is superseded, whoever made it finishes the job.
  if ((result.counts.stale ?? 0) > 0) result.superseded = true;
  if (result.counts.repointed > 0) {
    deps.metrics.count(FAILOVER_METRICS.repoints, result.counts.repointed);
    deps.metrics.durationMs(FAILOVER_METRICS.decisionToLastRepointMs, Math.max(0, last - request.decidedAt));
  }
  if (result.counts.failed > 0) {
    deps.metrics.count(FAILOVER_METRICS.repointFailures, result.counts.failed);
    await deps.notifier.notify({
      ...notice('REPOINT_FAILURE', group, {
        to: servingId,
        reason: ha.active
          ? `HA_STATE ACTIVE of ${servingId} failed (${ha.active.error}): none of ${send.length} re-points made; left to the retry and the drift reconcile (HA_STATE first)`
          : `${result.counts.failed} of ${send.length} re-points failed; left to the drift reconcile`,
        epoch,
        at: now(),
      }),
      branches: result.counts,
      failedBranches: result.failed,
    });
  }
  deps.log.info('fan-out done', {
    groupKey,
    servingId,
    epoch,
    ...result.counts,
    ...(haFailures.length > 0 ? { haStateFailures: haFailures } : {}),
    ...(pending.length > 0 ? { pending: pending.length } : {}),
  });
  return result;
}

/**
 * The group listed from the acting director (a director that keeps no epoch: from the caller's
 * listing when given) and the re-point actions planned from it (each carries the request's
 * epoch: all are stale or none is), handed to `hooks.onPlan`.
 */
async function listAndPlan(
  deps: FailoverDeps,
  director: ReturnType<typeof activeDirector>,
  request: FanOutRequest,
  hooks: FanOutHooks,
): Promise<{ view: TenantView; group: HaGroup; actions: RepointAction[] }> {
  const { groupKey, tenantId, servingId, epoch } = request;
  const { haName } = splitGroupKey(groupKey);
  const view =
    director.fencing === 'none' && hooks.view
      ? hooks.view
      : viewOf(deps, tenantId, await director.listCpes(tenantId, { haName }));
  const group = findGroup(view.inventory, groupKey);
  if (!group) {
    throw new NotFoundError(`group ${groupKey}: no CPE of tenant ${tenantId} has HA_NAME ${haName}`);
  }
  const actions = planFor(group, servingId, epoch);
  hooks.onPlan?.(actions);
  return { view, group, actions };
}

/** The HA_STATE calls a fan-out makes from a listing: serving ACTIVE, any other ACTIVE → PASSIVE. */
export function haStatesToSet(
  group: HaGroup,
  view: TenantView,
  servingId: string,
): { cpeId: string; state: HaState }[] {
  return [
    ...(view.haRoles.get(servingId) !== 'ACTIVE' ? [{ cpeId: servingId, state: 'ACTIVE' as const }] : []),
    ...group.candidates
      .filter((c) => c.id !== servingId && view.haRoles.get(c.id) === 'ACTIVE')
      .map((c) => ({ cpeId: c.id, state: 'PASSIVE' as const })),
  ];
}

/**
 * Observe mode: the director refused the fence (director/observe.ts). Read and plan as a fan-out
 * would, send nothing more (every write would be refused the same way), store no outcome, notify
 * nothing: the result says what would have been done, and its re-points are counted.
 */
async function observedFanOut(
  deps: FailoverDeps,
  director: ReturnType<typeof activeDirector>,
  request: FanOutRequest,
  hooks: FanOutHooks,
  result: FanOutResult,
): Promise<FanOutResult> {
  const { group, view, actions } = await listAndPlan(deps, director, request, hooks);
  const { servingId } = request;
  const haState = haStatesToSet(group, view, servingId);
  result.counts.total = group.branches.length;
  result.counts.unchanged = group.branches.length - actions.length;
  result.observed = { repoints: actions.length, haState };
  if (actions.length > 0) deps.metrics.count(OBSERVE_METRICS.wouldRepoint, actions.length);
  deps.log.info(
    `observe: would re-point ${actions.length} of ${group.branches.length} branches of ${group.key} onto ${servingId} (epoch ${request.epoch}); nothing sent`,
    { groupKey: group.key, servingId, epoch: request.epoch, wouldRepoint: actions.length, haState },
  );
  return result;
}

/**
 * The director refused the fence with a newer epoch. When the store still holds the request's
 * epoch (nobody newer decided), it is the store that is behind the director, e.g. after a table
 * restore (PITR): raise the stored epoch above the director's (same serving, conditional on the
 * request's epoch) and fan out again at that epoch. Otherwise (a newer epoch stored, or the
 * director did not say its epoch) undefined: the fan-out is superseded.
 */
async function raiseBehindStore(
  deps: FailoverDeps,
  request: FanOutRequest,
  site: SiteName,
  error: StaleEpochError,
  hooks: FanOutHooks,
): Promise<FanOutResult | undefined> {
  const directorEpoch = error.currentEpoch;
  // The same epoch refused: the director has it bound to another serving (a decision the store
  // lost, e.g. restored to before it). Raised above it like an older stored epoch.
  if (directorEpoch === undefined || directorEpoch < request.epoch) return undefined;
  const stored = await deps.store.getGroup(request.groupKey);
  if (!stored || stored.epoch !== request.epoch || stored.servingId !== request.servingId) return undefined;
  const epoch = directorEpoch + 1;
  const won = await deps.store.compareAndSetServing(request.groupKey, request.epoch, {
    tenantId: stored.tenantId,
    haName: stored.haName,
    servingId: stored.servingId,
    epoch,
    reason: `${stored.reason ?? 'serving unchanged'}; stored epoch ${request.epoch} was behind the ${site} director's ${directorEpoch} (a table restore?): raised to ${epoch}`,
    alarms: [...stored.alarms],
    changedAt: (deps.now ?? Date.now)(),
  });
  if (!won) return undefined;
  deps.log.warn(
    `store behind the director: ${request.groupKey} was at epoch ${request.epoch}, the ${site} director at ${directorEpoch} (a table restore?); raised the stored epoch to ${epoch} (serving ${request.servingId} unchanged) and fanning out again`,
    { groupKey: request.groupKey, storedEpoch: request.epoch, directorEpoch, epoch },
  );
  return fanOut(deps, { ...request, epoch }, hooks);
}

/** One HA_STATE call that failed (other than StaleEpochError). */
export interface HaStateFailure {
  cpeId: string;
  state: HaState;
  error: string;
}

/** What {@link setHaStates} could not do. */
interface HaStateReport {
  /** Serving could not be made ACTIVE: nothing else was attempted. */
  active?: HaStateFailure;
  /** Concentrators listed ACTIVE that could not be made PASSIVE (two ACTIVE until the drift pass). */
  passive: HaStateFailure[];
  /** The calls that succeeded. */
  set: { cpeId: string; state: HaState }[];
}

/**
 * Serving ACTIVE (unless the listing already shows it), then every other concentrator the listing
 * shows ACTIVE → PASSIVE. StaleEpochError is thrown; other failures are reported: a failed ACTIVE
 * stops here (no PASSIVE either: the old one keeps the virtual IP).
 */
async function setHaStates(
  deps: FailoverDeps,
  director: ReturnType<typeof activeDirector>,
  group: HaGroup,
  view: TenantView,
  servingId: string,
  epoch: number,
): Promise<HaStateReport> {
  const report: HaStateReport = { passive: [], set: [] };
  if (view.haRoles.get(servingId) !== 'ACTIVE') {
    try {
      await director.setHaState(group.tenantId, servingId, 'ACTIVE', epoch);
      report.set.push({ cpeId: servingId, state: 'ACTIVE' });
    } catch (error) {
      if (error instanceof StaleEpochError) throw error;
      report.active = { cpeId: servingId, state: 'ACTIVE', error: describe(error) };
      deps.log.error(
        `setting HA_STATE ACTIVE of ${servingId} failed: no branch of ${group.key} is re-pointed now (the serving concentrator lacks the virtual IP); the retry and the drift reconcile set HA_STATE first`,
        { groupKey: group.key, servingId, epoch, error: report.active.error },
      );
      return report;
    }
  }
  for (const c of group.candidates) {
    if (c.id === servingId || view.haRoles.get(c.id) !== 'ACTIVE') continue;
    try {
      await director.setHaState(group.tenantId, c.id, 'PASSIVE', epoch);
      report.set.push({ cpeId: c.id, state: 'PASSIVE' });
    } catch (error) {
      if (error instanceof StaleEpochError) throw error;
      const failure: HaStateFailure = { cpeId: c.id, state: 'PASSIVE', error: describe(error) };
      report.passive.push(failure);
      deps.log.warn(
        `setting HA_STATE PASSIVE of ${c.id} failed: ${c.id} and ${servingId} may both be ACTIVE in ${group.key} until the drift reconcile makes ${c.id} PASSIVE`,
        { groupKey: group.key, cpeId: c.id, servingId, epoch, error: failure.error },
      );
    }
  }
  return report;
}
