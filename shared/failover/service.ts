/**
 * The failover service: for one HA group, read its state, elect, fence the change with the
 * epoch (its notice in the same write, the outbox), and hand the re-points to the fan-out
 * (./fan-out.ts). Used by the stream-triggered failover function, the drift reconcile and the
 * "Update Branch to Active Node" console function.
 */
import type { TokenBucket } from '../director/limits.js';
import { isObserveOnly, OBSERVE_METRICS } from '../director/observe.js';
import { assessBlindness, type Blindness } from '../domain/blindness.js';
import { elect, electionSiteRoles, isPinActive } from '../domain/election.js';
import { findGroup } from '../domain/inventory.js';
import {
  CANDIDATE_ORDER,
  SITE_NAMES,
  type AlarmKind,
  type HaGroup,
  type Health,
  type RepointAction,
  type SiteName,
  type SiteRole,
} from '../domain/model.js';
import { ConcurrentUpdateError, NotFoundError } from '../errors.js';
import { NOTIFY_FAILURES_METRIC } from '../notify/notifier.js';
import type { Notice, NoticeKind } from '../notify/port.js';
import type { DirectorState, FailoverDeps, GroupState } from './ports.js';
import {
  describe,
  FAILOVER_METRICS,
  loadTenantView,
  notice,
  splitGroupKey,
  type TenantView,
} from './common.js';
import {
  fanOut,
  haStatesToSet,
  planFor,
  type FanOutRequest,
  type FanOutResult,
  type FanOutRunner,
} from './fan-out.js';

export {
  activeDirector,
  FAILOVER_METRICS,
  loadTenantView,
  splitGroupKey,
  type TenantView,
} from './common.js';
export {
  fanOut,
  type FanOutHooks,
  type FanOutRequest,
  type FanOutResult,
  type FanOutRunner,
  type HaStateFailure,
} from './fan-out.js';

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

/**
 * How old a group's outbox must be before another reconcile sends it: the writer sends its own
 * within seconds of the epoch write; older than this, the writer is taken to have died.
 */
export const OUTBOX_GRACE_MS = 60_000;

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

/** Blindness per site (shared/domain/blindness.ts) from the recorded director states. */
export function blindnessFrom(
  deps: Pick<FailoverDeps, 'directors'>,
  states: readonly DirectorState[],
  siteRoles: Record<SiteName, SiteRole>,
): Blindness {
  const sites = SITE_NAMES.filter((site) => deps.directors[site] !== undefined);
  return assessBlindness(states, siteRoles, sites);
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

/** Whether the directors are in observe mode (director/observe.ts: every write refused). */
export function observing(deps: Pick<FailoverDeps, 'directors'>): boolean {
  return Object.values(deps.directors).some((d) => isObserveOnly(d));
}

const WOULD: Partial<Record<NoticeKind, string>> = {
  FAILOVER: 'fail over',
  FAILBACK: 'fail back',
  ELECTED: 'elect',
};

/**
 * What an observe-mode change would do, for its notice and the stored reason:
 * `observe: would fail over Chennai HA_DC1 → HA_DC2: 212 branches`.
 */
export function wouldDo(
  kind: NoticeKind,
  group: HaGroup,
  from: string | undefined,
  to: string,
  branches: number,
): string {
  const name = (id: string | undefined) => group.candidates.find((c) => c.id === id)?.name ?? id ?? '-';
  const n = `${branches} ${branches === 1 ? 'branch' : 'branches'}`;
  const [a, b] = [name(from), name(to)];
  // Meraki candidates are named `Branch 1 → london`: an arrow between two of them would not read.
  const move = a.includes('→') || b.includes('→') ? `from ${a} to ${b}` : `${a} → ${b}`;
  return `observe: would ${WOULD[kind] ?? kind.toLowerCase()} ${group.haName} ${move}: ${n}`;
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
    // (a stream retry, the drift pass, the console) sends what a crash left there — once the
    // outbox is older than OUTBOX_GRACE_MS, so that a reconcile racing the writer does not send
    // the writer's notice a second time while the writer is still sending it.
    let pending = stored?.outbox ?? [];
    const orphaned = stored?.changedAt === undefined || now() - stored.changedAt >= OUTBOX_GRACE_MS;
    if (!dryRun && pending.length > 0 && stored && orphaned) {
      if (await flushOutbox(deps, groupKey, stored.epoch, pending, 'left by an earlier run')) pending = [];
    }
    const blindness = blindnessFrom(deps, directorStates, roles);
    if (blindness.actingFrozen && !blindness.monitorBlind && !opts.view) {
      // The director that would list and re-point is recorded unreachable: hold without calling
      // it (the health check's status write when it answers again wakes every group).
      return {
        groupKey,
        ...(stored?.servingId !== undefined
          ? { servingId: stored.servingId, previousId: stored.servingId }
          : {}),
        epoch: stored?.epoch ?? 0,
        changed: false,
        reason: `${blindness.explanation}: serving stays ${stored?.servingId ?? 'none'}`,
        alarms: [...(stored?.alarms ?? [])].sort(),
        dryRun,
        held: true,
        plan: [],
      };
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
      monitorBlind: blindness.monitorBlind,
      frozen: { sites: blindness.frozenSites, acting: blindness.actingFrozen, reason: blindness.explanation },
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
    const held = alarms.length > 0 || decision.frozen === true || decision.servingId === undefined;

    if (dryRun) {
      const plan = held || !decision.servingId ? [] : planFor(group, decision.servingId, decision.epoch);
      return { ...base, held, plan };
    }

    const observe = observing(deps);
    if (decision.changed) {
      const kind =
        decision.kind === 'failover'
          ? 'FAILOVER'
          : decision.kind === 'failback'
            ? 'FAILBACK'
            : classifyChange(group, current.servingId, decision.servingId);
      // Observe mode: the decision is stored (the next one builds on it, and a notice goes out
      // once per change) but worded as what would be done, with the branches its plan moves.
      const to = decision.servingId;
      const reason =
        observe && to
          ? `${wouldDo(kind, group, current.servingId, to, planFor(group, to, decision.epoch).length)}; ${decision.reason}`
          : decision.reason;
      base.reason = reason;
      // The notice goes into the outbox in the same conditional write as the epoch (with any
      // notice still unsent), then is sent from there: a crash in between loses nothing.
      const outbox = [
        ...pending,
        {
          ...notice(kind, group, {
            from: current.servingId,
            to: decision.servingId,
            reason,
            epoch: decision.epoch,
            at,
          }),
          ...(observe ? { observed: true } : {}),
        },
      ];
      // Conditional on the epoch AND the pin this decision read: a pin or unpin changes no epoch,
      // so without the pin in the condition a decision made on a pin withdrawn meanwhile landed
      // (serving onto an UNKNOWN candidate nobody pins any more).
      const won = await deps.store.compareAndSetServing(
        groupKey,
        current.epoch,
        {
          tenantId,
          haName,
          servingId: decision.servingId,
          epoch: decision.epoch,
          reason,
          alarms,
          changedAt: at,
          outbox,
        },
        { pin: current.pin },
      );
      if (!won) {
        deps.log.info('lost the epoch race; re-reading', { groupKey, epoch: current.epoch, attempt });
        continue;
      }
      if (observe) deps.metrics.count(OBSERVE_METRICS.wouldChangeServing);
      else if (kind === 'FAILOVER') deps.metrics.count(FAILOVER_METRICS.failovers);
      else if (kind === 'FAILBACK') deps.metrics.count(FAILOVER_METRICS.failbacks);
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
    if (observe && !decision.changed && opts.trigger === 'drift') {
      // Observe mode: a drift pass would only find again the branches its would-be change left
      // where they are; it sends nothing (no refused write per group per pass) and says what
      // it would re-point.
      const plan = planFor(group, decision.servingId, decision.epoch);
      return {
        ...base,
        held: false,
        plan,
        fanOut: observedDrift(group, view, decision.servingId, decision.epoch, plan),
      };
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
      view,
    });
    return { ...base, held: false, plan, fanOut: result };
  }
  throw new ConcurrentUpdateError(`group ${groupKey}: lost the epoch race ${maxAttempts} times in a row`);
}

/** The fan-out result of an observe-mode drift pass: what it would re-point; nothing sent. */
function observedDrift(
  group: HaGroup,
  view: TenantView,
  servingId: string,
  epoch: number,
  plan: RepointAction[],
): FanOutResult {
  const total = group.branches.length;
  return {
    groupKey: group.key,
    servingId,
    epoch,
    counts: { total, repointed: 0, unchanged: total - plan.length, failed: 0 },
    failed: [],
    superseded: false,
    observed: { repoints: plan.length, haState: haStatesToSet(group, view, servingId) },
  };
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
