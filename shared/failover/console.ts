/**
 * The console operations behind `update-branches`, `pin`, `unpin`, `status` and
 * `ack-monitor-blind`. Each takes a
 * validated event (see console-events.ts); every check happens before anything is changed.
 */
import { isPinActive } from '../domain/election.js';
import { branchCurrentTarget } from '../domain/inventory.js';
import type { BlindnessCase } from '../domain/blindness.js';
import type { AlarmKind, HaGroup, Pin, SiteName } from '../domain/model.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type {
  AckMonitorBlindEvent,
  PinEvent,
  StatusEvent,
  UnpinEvent,
  UpdateBranchesEvent,
} from './console-events.js';
import type { BranchOutcome, DirectorState, FailoverDeps } from './ports.js';
import {
  loadTenantView,
  blindnessFrom,
  reconcileGroup,
  type ReconcileResult,
  type TenantView,
} from './service.js';

/** One group's line in an `update-branches` answer. */
export interface UpdateBranchesGroup {
  groupKey: string;
  servingId?: string;
  epoch: number;
  held: boolean;
  reason: string;
  alarms: AlarmKind[];
  /** Dry run: the re-points that would be made. Else: what was attempted. */
  plan: { branchId: string; from?: string; to: string }[];
  result?: { repointed: number; unchanged: number; failed: number; failedBranches: string[] };
  /** Observe mode: the re-points and HA_STATE changes the apply would have made (none was sent). */
  observed?: NonNullable<ReconcileResult['fanOut']>['observed'];
  error?: string;
}

/** A pin as the console answers show it: its times as ISO dates. */
export interface PinView {
  concentratorId: string;
  reason: string;
  by?: string;
  /** ISO time it was set. */
  pinnedAt: string;
  /** ISO time it lapses (absent: until unpinned). */
  expiresAt?: string;
  /** It has lapsed: election no longer honours it. */
  expired: boolean;
}

/** The console's view of a stored pin at `now`. */
export function pinView(pin: Pin, now: number): PinView {
  return {
    concentratorId: pin.concentratorId,
    reason: pin.reason,
    ...(pin.by ? { by: pin.by } : {}),
    pinnedAt: new Date(pin.pinnedAt).toISOString(),
    ...(pin.expiresAt !== undefined ? { expiresAt: new Date(pin.expiresAt).toISOString() } : {}),
    expired: !isPinActive(pin, now),
  };
}

function groupsOf(view: TenantView): HaGroup[] {
  return view.inventory.tenants.flatMap((t) => t.groups);
}

/** The group `haName` of the tenant's view, or a NotFoundError naming the groups it has. */
export function findGroupOrThrow(view: TenantView, tenantId: string, haName: string): HaGroup {
  const group = groupsOf(view).find((g) => g.haName === haName);
  if (!group) {
    throw new NotFoundError(
      `haName=${JSON.stringify(haName)}: tenant ${tenantId} has no HA group of that name (groups: ${
        groupsOf(view)
          .map((g) => g.haName)
          .join(', ') || 'none'
      })`,
    );
  }
  return group;
}

function summarizeReconcile(r: ReconcileResult): UpdateBranchesGroup {
  return {
    groupKey: r.groupKey,
    servingId: r.servingId,
    epoch: r.epoch,
    held: r.held,
    reason: r.reason,
    alarms: r.alarms,
    plan: r.plan.map((a) => ({ branchId: a.branchId, from: a.fromId, to: a.targetId })),
    ...(r.fanOut
      ? {
          result: {
            repointed: r.fanOut.counts.repointed,
            unchanged: r.fanOut.counts.unchanged,
            failed: r.fanOut.counts.failed,
            failedBranches: r.fanOut.failed.map((f) => f.branchId),
          },
          // Observe mode: what the apply would have sent (nothing was).
          ...(r.fanOut.observed ? { observed: r.fanOut.observed } : {}),
        }
      : {}),
  };
}

/**
 * "Update Branch to Active Node": reconcile one group or every group of a tenant (election,
 * then re-point every branch not on the serving concentrator). `dryRun` changes nothing.
 * A failing group does not stop the others; its line carries the error.
 */
export async function updateBranches(
  deps: FailoverDeps,
  event: UpdateBranchesEvent,
): Promise<{ tenantId: string; dryRun: boolean; groups: UpdateBranchesGroup[] }> {
  const view = await loadTenantView(deps, event.tenantId);
  const groups = event.haName ? [findGroupOrThrow(view, event.tenantId, event.haName)] : groupsOf(view);
  if (groups.length === 0)
    throw new NotFoundError(`tenantId=${JSON.stringify(event.tenantId)}: no HA groups`);
  const out: UpdateBranchesGroup[] = [];
  for (const group of groups) {
    try {
      const r = await reconcileGroup(deps, group.key, {
        trigger: 'console update-branches',
        dryRun: event.dryRun,
        view,
      });
      out.push(summarizeReconcile(r));
    } catch (error) {
      if (event.haName) throw error;
      out.push({
        groupKey: group.key,
        epoch: 0,
        held: true,
        reason: 'failed',
        alarms: [],
        plan: [],
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }
  return { tenantId: event.tenantId, dryRun: event.dryRun, groups: out };
}

/**
 * Pin a group onto one of its concentrators; election honours it at once. Refused (nothing
 * changed) for a concentrator that is not a candidate of the group, or not UP unless `force`.
 */
export async function pinGroup(
  deps: FailoverDeps,
  event: PinEvent,
): Promise<UpdateBranchesGroup & { pin: PinView }> {
  const now = (deps.now ?? Date.now)();
  const view = await loadTenantView(deps, event.tenantId);
  const group = findGroupOrThrow(view, event.tenantId, event.haName);
  if (!group.candidates.some((c) => c.id === event.concentratorId)) {
    throw new ValidationError('pin event', [
      {
        path: 'concentratorId',
        value: event.concentratorId,
        expected: `a concentrator of ${group.key} (${group.candidates.map((c) => c.id).join(', ')})`,
      },
    ]);
  }
  const expiresAt =
    event.expiresInMinutes !== undefined ? now + event.expiresInMinutes * 60_000 : event.expiresAt;
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new ValidationError('pin event', [
      { path: 'expiresAt', value: new Date(expiresAt).toISOString(), expected: 'a time in the future' },
    ]);
  }
  const health = (await deps.store.listHealth(group.key)).find((h) => h.targetId === event.concentratorId);
  if (!event.force && health?.health !== 'UP') {
    throw new ValidationError('pin event', [
      {
        path: 'concentratorId',
        value: event.concentratorId,
        expected: `a concentrator that is UP (it is ${health?.health ?? 'UNKNOWN'}${
          health?.since ? ` since ${new Date(health.since).toISOString()}` : ''
        }), or force: true`,
      },
    ]);
  }
  const pin: Pin = {
    concentratorId: event.concentratorId,
    reason: event.reason,
    pinnedAt: now,
    ...(event.by ? { by: event.by } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
  await deps.store.setPin(group.key, pin, { tenantId: group.tenantId, haName: group.haName });
  const stored = await deps.store.getGroup(group.key);
  await deps.notifier.notify({
    kind: 'PIN',
    groupKey: group.key,
    tenantId: group.tenantId,
    haName: group.haName,
    from: stored?.servingId,
    to: event.concentratorId,
    reason: `${event.reason}${event.force ? ' (forced)' : ''}${
      expiresAt !== undefined ? ` until ${new Date(expiresAt).toISOString()}` : ''
    }`,
    epoch: stored?.epoch ?? 0,
    at: now,
    ...(event.by ? { by: event.by } : {}),
  });
  const r = await reconcileGroup(deps, group.key, { trigger: 'console pin', view });
  return { ...summarizeReconcile(r), pin: pinView(pin, now) };
}

/** Remove a group's pin and let election decide again. Unpinning an unpinned group is a no-op. */
export async function unpinGroup(deps: FailoverDeps, event: UnpinEvent): Promise<UpdateBranchesGroup> {
  const now = (deps.now ?? Date.now)();
  const view = await loadTenantView(deps, event.tenantId);
  const group = findGroupOrThrow(view, event.tenantId, event.haName);
  const stored = await deps.store.getGroup(group.key);
  if (stored?.pin) {
    await deps.store.setPin(group.key, undefined, { tenantId: group.tenantId, haName: group.haName });
    await deps.notifier.notify({
      kind: 'UNPIN',
      groupKey: group.key,
      tenantId: group.tenantId,
      haName: group.haName,
      from: stored.pin.concentratorId,
      reason: event.reason ?? 'unpinned',
      epoch: stored.epoch,
      at: now,
      ...(event.by ? { by: event.by } : {}),
    });
  }
  return summarizeReconcile(await reconcileGroup(deps, group.key, { trigger: 'console unpin', view }));
}

/** A group's stored decision, as `status` and the Concentrator page show it (ISO times). */
export interface GroupDecisionView {
  groupKey: string;
  tenantId: string;
  haName: string;
  servingId?: string;
  epoch: number;
  reason?: string;
  changedAt?: string;
}

/** One group in the `status` answer. */
export interface GroupStatus extends GroupDecisionView {
  candidates: {
    id: string;
    name: string;
    slot: string;
    health: string;
    since?: string;
    /** Meraki: the hub is configured `trustedWithoutTracking` (untracked, it counts as clean and may be elected). */
    trustedWithoutTracking?: true;
  }[];
  pin?: PinView;
  branches: number;
  /** Branches whose tunnels are not on the serving concentrator (per the director). */
  drifted: { branchId: string; currentTarget?: string; lastOutcome?: BranchOutcome }[];
  /** Meraki: the hub each branch actually reaches by the VPN statuses (null: none); absent when not read. */
  reached?: { branchId: string; hub: string | null }[];
  alarms: AlarmKind[];
}

/** Meraki: the third-party VPN peer check of one organization (peers against the hubs' tags and IPs). */
export interface PeerCheckStatus {
  tenantId: string;
  ok: boolean;
  /** What does not match (hub, peer, tag), or why the check could not run. */
  error?: string;
}

/** The peer check of each tenant, when the director has one (Meraki); else undefined. */
async function peerChecks(
  deps: FailoverDeps,
  tenants: readonly string[],
): Promise<PeerCheckStatus[] | undefined> {
  const director = deps.directors.DC as { checkPeers?: (tenantId: string) => Promise<unknown> };
  const check = director.checkPeers;
  if (typeof check !== 'function') return undefined;
  return Promise.all(
    tenants.map(async (tenantId) => {
      try {
        await check.call(director, tenantId);
        return { tenantId, ok: true };
      } catch (error) {
        return { tenantId, ok: false, error: (error as Error).message };
      }
    }),
  );
}

/** The monitor's verdict in the `status` answer. */
export interface MonitorStatus {
  /** MONITOR_BLIND: every change is on hold. */
  blind: boolean;
  /** Which blindness case holds (shared/domain/blindness.ts): `clear` when every director answers. */
  case: BlindnessCase;
  /** Sites whose candidates are frozen (their director is unreachable). */
  frozenSites: SiteName[];
  /** What the case means for election, in one sentence. */
  explanation: string;
  /** What ends the hold (when blind). */
  howToClear?: string;
  directors: AckMonitorBlindResult['directors'];
}

function directorSummary(directors: readonly DirectorState[]): AckMonitorBlindResult['directors'] {
  return directors.map((d) => ({
    site: d.site,
    reachable: d.reachable,
    monitorBlind: d.monitorBlind === true,
    ...(d.reason ? { reason: d.reason } : {}),
    ...(d.monitorBlindReason ? { monitorBlindReason: d.monitorBlindReason } : {}),
    ...(!d.reachable && d.at !== undefined ? { unreachableSince: new Date(d.at).toISOString() } : {}),
    ...(d.lostAt !== undefined ? { directorLostAt: new Date(d.lostAt).toISOString() } : {}),
  }));
}

/** Every group (of one tenant or all configured tenants) as an operator wants to see it, and the monitor's verdict. */
export async function groupStatus(
  deps: FailoverDeps,
  event: StatusEvent,
): Promise<{ groups: GroupStatus[]; monitor: MonitorStatus; peers?: PeerCheckStatus[] }> {
  const now = (deps.now ?? Date.now)();
  const tenants = event.tenantId ? [event.tenantId] : [...deps.tenants];
  const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : undefined);
  const groups: GroupStatus[] = [];
  for (const tenantId of tenants) {
    const view = await loadTenantView(deps, tenantId);
    const reachedOf = (branchIds: string[]) => {
      const reached = branchIds.flatMap((branchId) => {
        const hub = view.metadata?.get(branchId)?.MERAKI_REACHES;
        return hub === undefined ? [] : [{ branchId, hub: hub === '' ? null : hub }];
      });
      return reached.length > 0 ? { reached } : {};
    };
    for (const group of groupsOf(view)) {
      const [stored, health, outcomes] = await Promise.all([
        deps.store.getGroup(group.key),
        deps.store.listHealth(group.key),
        deps.store.listBranchOutcomes(group.key),
      ]);
      const byId = new Map(health.map((h) => [h.targetId, h]));
      const lastOutcome = new Map(outcomes.map((o) => [o.branchId, o]));
      const serving = stored?.servingId;
      groups.push({
        groupKey: group.key,
        tenantId: group.tenantId,
        haName: group.haName,
        servingId: serving,
        epoch: stored?.epoch ?? 0,
        reason: stored?.reason,
        changedAt: iso(stored?.changedAt),
        candidates: group.candidates.map((c) => ({
          id: c.id,
          name: c.name,
          slot: c.slot,
          health: byId.get(c.id)?.health ?? 'UNKNOWN',
          since: iso(byId.get(c.id)?.since),
          ...(view.metadata?.get(c.id)?.MERAKI_TRUSTED_WITHOUT_TRACKING === 'true'
            ? { trustedWithoutTracking: true as const }
            : {}),
        })),
        ...(stored?.pin ? { pin: pinView(stored.pin, now) } : {}),
        branches: group.branches.length,
        drifted: group.branches
          .map((b) => ({
            branchId: b.id,
            currentTarget: branchCurrentTarget(b, group),
            lastOutcome: lastOutcome.get(b.id),
          }))
          .filter((b) => serving !== undefined && b.currentTarget !== serving),
        ...reachedOf(group.branches.map((b) => b.id)),
        alarms: stored?.alarms ?? [],
      });
    }
  }
  const [directors, roles, peers] = await Promise.all([
    deps.store.listDirectorStates(),
    deps.store.getSiteRoles(),
    peerChecks(deps, tenants),
  ]);
  const blindness = blindnessFrom(deps, directors, roles);
  const blind = blindness.monitorBlind;
  return {
    ...(peers ? { peers } : {}),
    groups,
    monitor: {
      blind,
      case: blindness.case,
      frozenSites: blindness.frozenSites,
      explanation: blindness.explanation,
      ...(blindness.case === 'mass-down'
        ? {
            howToClear:
              'clears when enough targets are UP again, or invoke ack-monitor-blind once the view is checked',
          }
        : blindness.case !== 'clear'
          ? { howToClear: 'clears when the director answers again' }
          : {}),
      directors: directorSummary(directors),
    },
  };
}

/** The answer of `ack-monitor-blind`. */
export interface AckMonitorBlindResult {
  /** False: the monitor was not blind; nothing was changed or notified. */
  acknowledged: boolean;
  /** Still blind after the acknowledgement: a director is unreachable (that clears by itself). */
  stillBlind: boolean;
  /** What happens now, for the operator. */
  message: string;
  /** The director statuses after the call. */
  directors: {
    site: string;
    reachable: boolean;
    monitorBlind: boolean;
    reason?: string;
    monitorBlindReason?: string;
    /** ISO time since when it has been unreachable (absent when reachable). */
    unreachableSince?: string;
    /** ISO time DIRECTOR_LOST was raised for it (absent when not lost). */
    directorLostAt?: string;
  }[];
  /** Groups that were held with MONITOR_BLIND (the failover function re-evaluates them now). */
  heldGroups: string[];
}

/**
 * An operator acknowledges MONITOR_BLIND: the health check's view is right (e.g. a DC really
 * lost half its concentrators), so failover may act on it. Clears the share rule's latch on the
 * director status items; the change wakes the failover function (table stream), which
 * re-evaluates every group. A director that is unreachable keeps the monitor blind until it
 * answers. Each held group gets a MONITOR_BLIND_ACK notice and audit event (one `*` notice when
 * none is held). Not blind: nothing changes.
 */
export async function acknowledgeMonitorBlind(
  deps: FailoverDeps,
  event: AckMonitorBlindEvent,
): Promise<AckMonitorBlindResult> {
  const now = (deps.now ?? Date.now)();
  const { acknowledged, directors } = await deps.store.acknowledgeMonitorBlind({
    at: now,
    reason: event.reason,
    ...(event.by ? { by: event.by } : {}),
  });
  const roles = await deps.store.getSiteRoles();
  const stillBlind = blindnessFrom(deps, directors, roles).monitorBlind;
  const summary = directorSummary(directors);
  if (!acknowledged) {
    return {
      acknowledged: false,
      stillBlind,
      message: stillBlind
        ? 'no director answers: the monitor stays blind until one does (nothing to acknowledge)'
        : 'the monitor is not blind: nothing to acknowledge',
      directors: summary,
      heldGroups: [],
    };
  }
  const unreachable = directors.filter((d) => !d.reachable).map((d) => d.site);
  const message = stillBlind
    ? `acknowledged, but still blind: director ${unreachable.join(', ')} unreachable; every change stays on hold until one answers`
    : 'acknowledged: the failover function re-evaluates every group on the current health now';
  const held = (await deps.store.listGroups()).filter((g) => g.alarms.includes('MONITOR_BLIND'));
  const by = event.by ? ` by ${event.by}` : '';
  const notices = held.length
    ? held.map((g) => ({
        groupKey: g.groupKey,
        tenantId: g.tenantId,
        haName: g.haName,
        from: g.servingId,
        epoch: g.epoch,
      }))
    : [{ groupKey: '*', tenantId: '*', haName: '*', epoch: 0 }];
  for (const n of notices) {
    await deps.notifier.notify({
      kind: 'MONITOR_BLIND_ACK',
      ...n,
      reason: `MONITOR_BLIND acknowledged${by}: ${event.reason}; ${message}`,
      at: now,
      ...(event.by ? { by: event.by } : {}),
    });
  }
  return {
    acknowledged: true,
    stillBlind,
    message,
    directors: summary,
    heldGroups: held.map((g) => g.groupKey),
  };
}
