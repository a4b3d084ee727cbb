/**
 * An in-memory {@link FailoverStore} with the same compare-and-set semantics as the table:
 * unit tests, the benchmark (which measures the director fan-out, not DynamoDB) and dry runs.
 */
import type { AlarmKind, Health, Pin, SiteName, SiteRole } from '../domain/model.js';
import { acknowledgedVerdict } from '../domain/monitor.js';
import type { Notice } from '../notify/port.js';
import { samePin } from '../store/repos/groups.js';
import type {
  BranchOutcome,
  DirectorState,
  FailoverStore,
  GroupState,
  MonitorBlindAck,
  ServingGuard,
  ServingUpdate,
  TargetHealth,
} from './ports.js';

/** A FailoverStore in memory; the setters let tests arrange health, site roles and directors. */
export class MemoryFailoverStore implements FailoverStore {
  readonly groups = new Map<string, GroupState>();
  readonly health = new Map<string, Map<string, TargetHealth>>();
  readonly outcomes = new Map<string, Map<string, BranchOutcome>>();
  /** Audit events written by {@link writeAuditOnce}, in order, with their dedup ids. */
  readonly audits: { event: Notice; dedupId: string }[] = [];
  siteRoles: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'PASSIVE' };
  directors: DirectorState[] = [];

  /** Arrange a concentrator's health. */
  setHealth(groupKey: string, targetId: string, health: Health, since: number | null = null): void {
    let m = this.health.get(groupKey);
    if (!m) this.health.set(groupKey, (m = new Map()));
    m.set(targetId, { targetId, health, since });
  }

  async getGroup(groupKey: string): Promise<GroupState | undefined> {
    const g = this.groups.get(groupKey);
    return g ? structuredClone(g) : undefined;
  }

  async listGroups(): Promise<GroupState[]> {
    return [...this.groups.values()].map((g) => structuredClone(g));
  }

  async compareAndSetServing(
    groupKey: string,
    expectedEpoch: number,
    next: ServingUpdate,
    guard?: ServingGuard,
  ): Promise<boolean> {
    const g = this.groups.get(groupKey);
    if ((g?.epoch ?? 0) !== expectedEpoch) return false;
    if (guard && !samePin(g?.pin, guard.pin)) return false;
    this.groups.set(groupKey, {
      ...(g ?? { alarms: [] }),
      groupKey,
      tenantId: next.tenantId,
      haName: next.haName,
      servingId: next.servingId,
      epoch: next.epoch,
      reason: next.reason,
      alarms: [...next.alarms],
      changedAt: next.changedAt,
      ...((next.outbox ?? g?.outbox) ? { outbox: structuredClone(next.outbox ?? g?.outbox) } : {}),
    });
    return true;
  }

  async clearOutbox(groupKey: string, epoch: number): Promise<boolean> {
    const g = this.groups.get(groupKey);
    if (!g || g.epoch !== epoch || g.outbox === undefined) return false;
    delete g.outbox;
    return true;
  }

  async writeAuditOnce(event: Notice, dedupId: string): Promise<boolean> {
    if (this.audits.some((a) => a.dedupId === dedupId)) return false;
    this.audits.push({ event: structuredClone(event), dedupId });
    return true;
  }

  private upsert(groupKey: string, group: { tenantId: string; haName: string }): GroupState {
    let g = this.groups.get(groupKey);
    if (!g) this.groups.set(groupKey, (g = { groupKey, ...group, epoch: 0, alarms: [] }));
    return g;
  }

  async setPin(
    groupKey: string,
    pin: Pin | undefined,
    group: { tenantId: string; haName: string },
  ): Promise<void> {
    const g = this.upsert(groupKey, group);
    if (pin) g.pin = { ...pin };
    else delete g.pin;
  }

  async setAlarms(
    groupKey: string,
    alarms: AlarmKind[],
    group: { tenantId: string; haName: string },
    expectedEpoch: number,
  ): Promise<boolean> {
    if ((this.groups.get(groupKey)?.epoch ?? 0) !== expectedEpoch) return false;
    this.upsert(groupKey, group).alarms = [...alarms];
    return true;
  }

  async listHealth(groupKey: string): Promise<TargetHealth[]> {
    return [...(this.health.get(groupKey)?.values() ?? [])].map((h) => ({ ...h }));
  }

  async getSiteRoles(): Promise<Record<SiteName, SiteRole>> {
    return { ...this.siteRoles };
  }

  async listDirectorStates(): Promise<DirectorState[]> {
    return this.directors.map((d) => ({ ...d }));
  }

  async acknowledgeMonitorBlind(
    ack: MonitorBlindAck,
  ): Promise<{ acknowledged: boolean; directors: DirectorState[] }> {
    const blind = this.directors.filter((d) => d.monitorBlind === true || d.monitorBlindLatched === true);
    if (blind.length > 0) {
      const verdict = acknowledgedVerdict();
      for (const d of blind) {
        d.monitorBlind = verdict.blind;
        d.monitorBlindLatched = false;
        d.acknowledged = { ...ack };
        if (verdict.reason) d.monitorBlindReason = verdict.reason;
        else delete d.monitorBlindReason;
      }
    }
    return { acknowledged: blind.length > 0, directors: await this.listDirectorStates() };
  }

  async putBranchOutcomes(outcomes: readonly BranchOutcome[]): Promise<void> {
    for (const o of outcomes) {
      let m = this.outcomes.get(o.groupKey);
      if (!m) this.outcomes.set(o.groupKey, (m = new Map()));
      m.set(o.branchId, { ...o });
    }
  }

  async listBranchOutcomes(groupKey: string): Promise<BranchOutcome[]> {
    return [...(this.outcomes.get(groupKey)?.values() ?? [])].map((o) => ({ ...o }));
  }
}
