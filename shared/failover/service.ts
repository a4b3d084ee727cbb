/**
 * The failover service: for one HA group, read its state, elect, fence the change with the
 * epoch, and re-point the branches through the director (zWAN: HA_STATE first, then every
 * branch's tunnels). Used by the stream-triggered failover function, the drift reconcile and the
 * "Update Branch to Active Node" console function.
 */
import type { DirectorCpe } from '../director/port.js';
import { mapLimit, type TokenBucket } from '../director/limits.js';
import { elect, electionSiteRoles, isPinActive } from '../domain/election.js';
import { branchCurrentTarget, findGroup, parseInventory } from '../domain/inventory.js';
import {
  CANDIDATE_ORDER,
  type AlarmKind,
  type HaGroup,
  type HaState,
  type Health,
  type Inventory,
  type RepointAction,
  type SiteName,
  type SiteRole,
} from '../domain/model.js';
import { planRepoints } from '../domain/plan.js';
import { ConcurrentUpdateError, NotFoundError, StaleEpochError } from '../errors.js';
import { NOTIFY_FAILURES_METRIC } from '../notify/notifier.js';
import type { BranchCounts, Notice, NoticeKind } from '../notify/port.js';
import type { BranchOutcome, DirectorState, FailoverDeps, GroupState } from './ports.js';

/** Metric names (the CDK alarms match on exactly these). */
export const FAILOVER_METRICS = {
  failovers: 'Failovers',
  failbacks: 'Failbacks',
  repoints: 'Repoints',
  repointFailures: 'RepointFailures',
  allDown: 'AllDown',
  monitorBlind: 'MonitorBlind',
  decisionToLastRepointMs: 'DecisionToLastRepointMs',
} as const;

/** A tenant's inventory plus each CPE's runtime HA role (not part of the parsed model). */
export interface TenantView {
  tenantId: string;
  inventory: Inventory;
  haRoles: Map<string, HaState | undefined>;
  /** Each CPE's raw metadata (e.g. Meraki's `MERAKI_TRUSTED_WITHOUT_TRACKING`, which `status` shows). */
  metadata?: Map<string, Record<string, string>>;
}

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
}

/** What a fan-out may be given besides its request (not part of its idempotency key). */
export interface FanOutHooks {
  /** Throttle re-point calls across groups (drift reconcile). */
  bucket?: TokenBucket;
  /** Called with the re-point actions planned from the fresh listing (when the fan-out runs here). */
  onPlan?: (plan: RepointAction[]) => void;
}

/** Runs a fan-out: {@link fanOut} directly, or wrapped by Powertools idempotency (the handler). */
export type FanOutRunner = (request: FanOutRequest, hooks?: FanOutHooks) => Promise<FanOutResult>;

/** Options of {@link reconcileGroup}. */
export interface ReconcileOptions {
  /** Why (logged and audited): e.g. `stream`, `drift`, `console`. */
  trigger?: string;
  /** Decide and plan, change nothing; the result carries the plan. */
  dryRun?: boolean;
  /**
   * The tenant's inventory when the caller already read it (one read per tenant). Used only to
   * find the group and its candidates for election: a fan-out always plans from its own listing,
   * read after it fenced the director (DESIGN "Fence, then read").
   */
  view?: TenantView;
  /** How to fan out; default {@link fanOut} directly. */
  runFanOut?: FanOutRunner;
  /** Throttle re-point calls across groups (drift reconcile). */
  bucket?: TokenBucket;
  /** Re-read/re-decide budget when a racing writer wins the epoch. @default 5 */
  maxAttempts?: number;
}

/** What {@link reconcileGroup} decided and did. */
export interface ReconcileResult {
  groupKey: string;
  servingId?: string;
  previousId?: string;
  epoch: number;
  changed: boolean;
  reason: string;
  alarms: AlarmKind[];
  /** True when no re-point was attempted on purpose (ALL_DOWN, MONITOR_BLIND, nothing serving). */
  held: boolean;
  /**
   * The re-point actions (dry run: what would be done, from the view; else what the fan-out
   * attempted, planned from its fresh listing; empty when it did not run here).
   */
  plan: RepointAction[];
  fanOut?: FanOutResult;
  dryRun: boolean;
}

/** The director to act through: the ACTIVE site's (DC when both or neither are ACTIVE). */
export function activeDirector(deps: FailoverDeps, siteRoles: Record<SiteName, SiteRole>) {
  if (siteRoles.DC !== 'ACTIVE' && siteRoles.DR === 'ACTIVE' && deps.directors.DR) return deps.directors.DR;
  return deps.directors.DC;
}

/** Read a tenant's CPEs from the active director and parse them. */
export async function loadTenantView(
  deps: FailoverDeps,
  tenantId: string,
  siteRoles?: Record<SiteName, SiteRole>,
): Promise<TenantView> {
  const roles = siteRoles ?? (await deps.store.getSiteRoles());
  return viewOf(deps, tenantId, await activeDirector(deps, roles).listCpes(tenantId));
}

/** Parse a tenant's CPE listing (invalid CPEs are logged and left out). */
function viewOf(deps: FailoverDeps, tenantId: string, cpes: DirectorCpe[]): TenantView {
  const inventory = parseInventory([{ tenantId, cpes }]);
  for (const bad of inventory.invalid) {
    deps.log.warn('CPE left out: invalid metadata', { ...bad });
  }
  return {
    tenantId,
    inventory,
    haRoles: new Map(cpes.map((c) => [c.id, c.haRole])),
    metadata: new Map(cpes.map((c) => [c.id, c.metadata])),
  };
}

/** Split a group key `tenant#haName` (tenant ids contain no `#`). */
export function splitGroupKey(key: string): { tenantId: string; haName: string } {
  const i = key.indexOf('#');
  if (i <= 0 || i === key.length - 1) {
    throw new NotFoundError(`group key ${JSON.stringify(key)}: expected "<tenantId>#<haName>"`);
  }
  return { tenantId: key.slice(0, i), haName: key.slice(i + 1) };
}

/** The health check's view is suspect: it says so, or it could not reach the active director. */
export function monitorBlindFrom(
  states: readonly DirectorState[],
  siteRoles: Record<SiteName, SiteRole>,
): boolean {
  return states.some(
    (s) => s.monitorBlind === true || (!s.reachable && (siteRoles[s.site] === 'ACTIVE' || s.site === 'DC')),
  );
}

/** FAILOVER when serving moves down the candidate order, FAILBACK when up, ELECTED from none. */
export function classifyChange(group: HaGroup, from: string | undefined, to: string | undefined): NoticeKind {
  const rank = (id: string | undefined) => {
    const c = group.candidates.find((x) => x.id === id);
    return c ? CANDIDATE_ORDER.indexOf(c.slot) : -1;
  };
  if (from === undefined || rank(from) < 0) return 'ELECTED';
  return rank(to) > rank(from) ? 'FAILOVER' : 'FAILBACK';
}

/**
 * Reconcile one group: elect, fence a change of serving with `epoch + 1` (a racing writer that
 * loses re-reads and re-decides), then re-point its branches. Never re-points while ALL_DOWN or
 * MONITOR_BLIND. Re-point failures are recorded and left to the drift reconcile.
 */
export async function reconcileGroup(
  deps: FailoverDeps,
  groupKey: string,
  opts: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const now = deps.now ?? Date.now;
  const { tenantId, haName } = splitGroupKey(groupKey);
  const maxAttempts = opts.maxAttempts ?? 5;
  const dryRun = opts.dryRun ?? false;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // Health first, the director states after it (not in parallel): the health run writes its
    // blind verdict BEFORE the round's transitions, so a transition seen here has its verdict
    // visible to the read that follows. Read the other way round (or in parallel), a mass DOWN
    // could be seen without the MONITOR_BLIND written before it, and acted on.
    const healthItems = await deps.store.listHealth(groupKey);
    // The store gives both sites' roles, defaults (DC ACTIVE, DR PASSIVE) included.
    const [directorStates, stored, roles] = await Promise.all([
      deps.store.listDirectorStates(),
      deps.store.getGroup(groupKey),
      deps.store.getSiteRoles(),
    ]);
    // A change's notice is written to the outbox with its epoch; whoever reconciles the group next
    // (a stream retry, the drift pass, the console) sends what a crash left there.
    let pending = stored?.outbox ?? [];
    if (!dryRun && pending.length > 0 && stored) {
      if (await flushOutbox(deps, groupKey, stored.epoch, pending, 'left by an earlier run')) pending = [];
    }
    const view = opts.view ?? (await loadTenantView(deps, tenantId, roles));
    const group = findGroup(view.inventory, groupKey);
    if (!group)
      throw new NotFoundError(`group ${groupKey}: no CPE of tenant ${tenantId} has HA_NAME ${haName}`);

    const current: GroupState = stored ?? { groupKey, tenantId, haName, epoch: 0, alarms: [] };
    const health = new Map<string, Health>(healthItems.map((h) => [h.targetId, h.health]));
    const at = now();
    const pin = isPinActive(current.pin, at) ? current.pin : undefined;
    if (
      current.servingId === undefined &&
      !group.candidates.some((c) => c.id === pin?.concentratorId) &&
      group.candidates.every((c) => (health.get(c.id) ?? 'UNKNOWN') === 'UNKNOWN')
    ) {
      // Cold start: the health check has not decided about any candidate yet. Not ALL_DOWN. An
      // operator's pin onto a candidate is still honoured (election: a pin wins whatever the health).
      const reason = 'awaiting the first health verdicts: every candidate is UNKNOWN';
      return {
        groupKey,
        epoch: current.epoch,
        changed: false,
        reason,
        alarms: [],
        dryRun,
        held: true,
        plan: [],
      };
    }
    const decision = elect({
      group,
      health,
      siteRoles: electionSiteRoles(roles),
      current: { servingId: current.servingId, epoch: current.epoch },
      pin,
      now: at,
      preempt: deps.settings.preempt,
      monitorBlind: monitorBlindFrom(directorStates, roles),
    });
    const alarms = [...decision.alarms].sort();
    const newAlarms = alarms.filter((a) => !current.alarms.includes(a));
    const base = {
      groupKey,
      previousId: current.servingId,
      servingId: decision.servingId,
      epoch: decision.epoch,
      changed: decision.changed,
      reason: decision.reason,
      alarms,
      dryRun,
    };
    const held = alarms.length > 0 || decision.servingId === undefined;

    if (dryRun) {
      const plan = held || !decision.servingId ? [] : planFor(group, decision.servingId, decision.epoch);
      return { ...base, held, plan };
    }

    if (decision.changed) {
      const kind =
        decision.kind === 'failover'
          ? 'FAILOVER'
          : decision.kind === 'failback'
            ? 'FAILBACK'
            : classifyChange(group, current.servingId, decision.servingId);
      // The notice goes into the outbox in the same conditional write as the epoch (with any
      // notice still unsent), then is sent from there: a crash in between loses nothing.
      const outbox = [
        ...pending,
        notice(kind, group, {
          from: current.servingId,
          to: decision.servingId,
          reason: decision.reason,
          epoch: decision.epoch,
          at,
        }),
      ];
      const won = await deps.store.compareAndSetServing(groupKey, current.epoch, {
        tenantId,
        haName,
        servingId: decision.servingId,
        epoch: decision.epoch,
        reason: decision.reason,
        alarms,
        changedAt: at,
        outbox,
      });
      if (!won) {
        deps.log.info('lost the epoch race; re-reading', { groupKey, epoch: current.epoch, attempt });
        continue;
      }
      if (kind === 'FAILOVER') deps.metrics.count(FAILOVER_METRICS.failovers);
      if (kind === 'FAILBACK') deps.metrics.count(FAILOVER_METRICS.failbacks);
      await flushOutbox(deps, groupKey, decision.epoch, outbox, 'this change');
    } else if (alarms.join() !== [...current.alarms].sort().join()) {
      // Conditional on the epoch decided on: a newer serving record must not get this decision's
      // alarms (an ALL_DOWN over a group another run just re-pointed). Lost: re-read, re-decide.
      if (!(await deps.store.setAlarms(groupKey, alarms, { tenantId, haName }, current.epoch))) {
        deps.log.info('the epoch moved before the alarm write; re-reading', {
          groupKey,
          epoch: current.epoch,
          attempt,
        });
        continue;
      }
    }
    for (const alarm of newAlarms) {
      deps.metrics.count(alarm === 'ALL_DOWN' ? FAILOVER_METRICS.allDown : FAILOVER_METRICS.monitorBlind);
      await deps.notifier.notify(
        notice(alarm, group, {
          from: current.servingId,
          to: decision.servingId,
          reason: decision.reason,
          epoch: decision.epoch,
          at,
        }),
      );
    }

    if (held || decision.servingId === undefined) {
      deps.log.warn('holding: no re-point', { groupKey, alarms, reason: decision.reason });
      return { ...base, held: true, plan: [] };
    }
    const request: FanOutRequest = {
      groupKey,
      tenantId,
      servingId: decision.servingId,
      epoch: decision.epoch,
      decidedAt: at,
    };
    const runner = opts.runFanOut ?? ((req, hooks) => fanOut(deps, req, hooks));
    let plan: RepointAction[] = [];
    const result = await runner(request, {
      ...(opts.bucket ? { bucket: opts.bucket } : {}),
      onPlan: (p) => (plan = p),
    });
    return { ...base, held: false, plan, fanOut: result };
  }
  throw new ConcurrentUpdateError(`group ${groupKey}: lost the epoch race ${maxAttempts} times in a row`);
}

/** The audit dedup id of an outbox notice: group + epoch + kind. */
export function outboxDedupId(n: Notice): string {
  return `${n.groupKey}#${n.epoch}#${n.kind}`;
}

/**
 * Send a group's outbox, at least once: publish each notice, write its audit event once (keyed by
 * {@link outboxDedupId}), then clear the outbox if the stored epoch is still `epoch` (a newer
 * change carries the unsent ones in its own outbox). Never throws: a failure is logged and the
 * notices stay for the next reconcile of the group. Resolves whether the outbox was cleared.
 */
export async function flushOutbox(
  deps: FailoverDeps,
  groupKey: string,
  epoch: number,
  outbox: readonly Notice[],
  whose: string,
): Promise<boolean> {
  for (const n of outbox) {
    if (!(await deps.notifier.publish(n))) return false;
    try {
      await deps.store.writeAuditOnce(n, outboxDedupId(n));
    } catch (error) {
      deps.metrics.count(NOTIFY_FAILURES_METRIC);
      deps.log.error('writing an audit event failed; the notice stays in the outbox and is sent again', {
        groupKey,
        kind: n.kind,
        epoch: n.epoch,
        error: describe(error),
      });
      return false;
    }
  }
  try {
    const cleared = await deps.store.clearOutbox(groupKey, epoch);
    if (whose !== 'this change') {
      deps.log.info(`sent ${outbox.length} notice(s) from the outbox ${whose}`, {
        groupKey,
        epoch,
        kinds: outbox.map((n) => n.kind),
        cleared,
      });
    }
    return cleared;
  } catch (error) {
    deps.log.warn('clearing the outbox failed; its notices are sent again (audited once)', {
      groupKey,
      epoch,
      error: describe(error),
    });
    return false;
  }
}

/** The re-point actions for a group (branches already on `servingId` get none). */
function planFor(group: HaGroup, servingId: string, epoch: number): RepointAction[] {
  const current = new Map(group.branches.map((b) => [b.id, branchCurrentTarget(b, group)]));
  return planRepoints(group, servingId, epoch, current);
}

/**
 * Make every branch of a group use `request.servingId`. Fence, then read: dropped whole when the
 * group's stored epoch is already newer; else the acting director is fenced with the epoch (from
 * then on it refuses every call of an older one), the tenant's CPEs are listed fresh from it, and
 * everything below is planned from that listing: HA_STATE first (serving ACTIVE, any other
 * concentrator it shows ACTIVE → PASSIVE), then each branch not on serving, with bounded
 * concurrency (retries are the HTTP client's). Each branch's outcome is recorded.
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
    await director.fence(tenantId, haName, epoch);
  } catch (error) {
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
  const view = viewOf(deps, tenantId, await director.listCpes(tenantId));
  const group = findGroup(view.inventory, groupKey);
  if (!group) {
    throw new NotFoundError(`group ${groupKey}: no CPE of tenant ${tenantId} has HA_NAME ${haName}`);
  }
  result.counts.total = group.branches.length;
  // Every action carries the request's epoch: all are stale or none is.
  const actions = planFor(group, servingId, epoch);
  hooks.onPlan?.(actions);
  const bucket = hooks.bucket;

  let ha: HaStateReport;
  try {
    ha = await setHaStates(deps, director, group, view, servingId, epoch);
  } catch (error) {
    if (error instanceof StaleEpochError) {
      result.superseded = true;
      result.counts.stale = actions.length;
      return result;
    }
    throw error;
  }
  const haFailures = [...(ha.active ? [ha.active] : []), ...ha.passive];
  if (haFailures.length > 0) result.haStateFailures = haFailures;
  if (ha.set.length > 0) result.haStateSet = ha.set;

  result.counts.unchanged = group.branches.length - actions.length;
  let outcomes: BranchOutcome[];
  if (ha.active) {
    // No virtual IP on the serving concentrator: a branch moved onto it would lose its LAN. Every
    // re-point is left to the retry and the drift reconcile, which run HA_STATE first.
    const why = `HA_STATE ACTIVE of ${servingId} failed (${ha.active.error}); not re-pointed`;
    const at = now();
    outcomes = actions.map((a) => ({
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
    outcomes = await mapLimit(actions, deps.settings.concurrency, async (action): Promise<BranchOutcome> => {
      if (bucket) await bucket.take();
      const base = { groupKey, branchId: action.branchId, targetId: action.targetId, epoch };
      try {
        const r = await director.repoint(action);
        return { ...base, at: now(), result: 'ok', changed: r.changed };
      } catch (error) {
        const stale = error instanceof StaleEpochError;
        return {
          ...base,
          at: now(),
          result: stale ? 'stale' : 'failed',
          changed: false,
          error: describe(error),
        };
      }
    });
  }
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
          ? `HA_STATE ACTIVE of ${servingId} failed (${ha.active.error}): none of ${actions.length} re-points made; left to the retry and the drift reconcile (HA_STATE first)`
          : `${result.counts.failed} of ${actions.length} re-points failed; left to the drift reconcile`,
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
  });
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
  if (directorEpoch === undefined || directorEpoch <= request.epoch) return undefined;
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

/** An error as one line: `Name: message`. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
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

function notice(
  kind: NoticeKind,
  group: HaGroup,
  fields: { from?: string; to?: string; reason: string; epoch: number; at: number },
): Notice {
  return { kind, groupKey: group.key, tenantId: group.tenantId, haName: group.haName, ...fields };
}
