/**
 * What the failover service needs from the rest of the system, as narrow ports: the state store
 * (adapted from `shared/store/state-repo.ts`, whose item shapes these types derive from), the
 * directors per site, the notifier, logs and metrics. Tests and the benchmark pass in-memory or
 * real implementations.
 */
import type { Director } from '../director/port.js';
import type { AlarmKind, Inventory, Pin, SiteName, SiteRole } from '../domain/model.js';
import type { Notifier } from '../notify/notifier.js';
import type { Notice } from '../notify/port.js';
import type { LogSink, MetricSink } from '../observability.js';
import type {
  BranchOutcome,
  DirectorStatus,
  GroupItem,
  HealthItem,
  MonitorBlindAck,
  ServingUpdate,
} from '../store/state-repo.js';
import type { ServingGuard } from '../store/repos/groups.js';

// The stored shapes are declared once, by the state repository (which implements FailoverStore).
export type { BranchOutcome, MonitorBlindAck, ServingGuard, ServingUpdate };

/** A group's record as the failover service sees it (the stored group without bookkeeping). */
export type GroupState = Pick<
  GroupItem,
  | 'groupKey'
  | 'tenantId'
  | 'haName'
  | 'servingId'
  | 'epoch'
  | 'pin'
  | 'alarms'
  | 'reason'
  | 'changedAt'
  | 'outbox'
>;

/** One concentrator's health as stored by the health check. */
export type TargetHealth = Pick<HealthItem, 'targetId' | 'health' | 'since'>;

/** A site's director as the health check last saw it. */
export interface DirectorState extends Omit<DirectorStatus, 'since'> {
  /** Epoch ms of the health-check run that wrote it. */
  at?: number;
  /** The last operator acknowledgement of MONITOR_BLIND. */
  acknowledged?: MonitorBlindAck;
}

/** The state-table operations the failover service uses. */
export interface FailoverStore {
  getGroup(groupKey: string): Promise<GroupState | undefined>;
  listGroups(): Promise<GroupState[]>;
  /**
   * Write serving + epoch (and `next.outbox`, the notices still to send, in the same conditional
   * write; undefined keeps the stored outbox) only if the stored epoch is still `expectedEpoch`
   * (0 and absent record are the same). Resolves false when another writer got there first.
   */
  compareAndSetServing(
    groupKey: string,
    expectedEpoch: number,
    next: ServingUpdate,
    guard?: ServingGuard,
  ): Promise<boolean>;
  /**
   * Remove the group's outbox (its notices were sent) only if the stored epoch is still `epoch`.
   * Resolves false, writing nothing, when the epoch moved (a newer change owns it) or none is stored.
   */
  clearOutbox(groupKey: string, epoch: number): Promise<boolean>;
  /** Write an audit event once per `dedupId` (a conditional put). Resolves true when created. */
  writeAuditOnce(event: Notice, dedupId: string): Promise<boolean>;
  /** Set or clear the group's pin (no change of epoch: the next election acts on it). */
  setPin(
    groupKey: string,
    pin: Pin | undefined,
    group: { tenantId: string; haName: string },
  ): Promise<unknown>;
  /**
   * Update the open alarms without touching serving or epoch, only if the epoch is still
   * `expectedEpoch` (the one the caller read). Resolves false, changing nothing, when it moved.
   */
  setAlarms(
    groupKey: string,
    alarms: AlarmKind[],
    group: { tenantId: string; haName: string },
    expectedEpoch: number,
  ): Promise<boolean>;
  listHealth(groupKey: string): Promise<TargetHealth[]>;
  /** Sites without a record count as DC ACTIVE, DR PASSIVE. */
  getSiteRoles(): Promise<Record<SiteName, SiteRole>>;
  listDirectorStates(): Promise<DirectorState[]>;
  /**
   * Clear the monitor-blind latch on every director status (an operator acts); blindness from an
   * unreachable director stays. Resolves whether anything was blind, and the statuses after.
   */
  acknowledgeMonitorBlind(
    ack: MonitorBlindAck,
  ): Promise<{ acknowledged: boolean; directors: DirectorState[] }>;
  putBranchOutcomes(outcomes: readonly BranchOutcome[]): Promise<unknown>;
  listBranchOutcomes(groupKey: string): Promise<BranchOutcome[]>;
}

/** Directors per site (zWAN: one each; Meraki: the Dashboard as DC). */
export type DirectorSet = { DC: Director; DR?: Director };

/** Knobs of election and re-point (from config `election` and `repoint`). */
export interface FailoverSettings {
  preempt: boolean;
  blindShare: number;
  blindMinTargets: number;
  /** Re-point calls in flight per group. */
  concurrency: number;
  /**
   * Re-point a group with more branches to move than `concurrency` through the director's group
   * call (`Director.repointGroup`, where it has one) in one request. @default true
   */
  groupCall?: boolean;
  /** Drift reconcile: re-point calls per second across all groups. */
  driftRequestsPerSecond: number;
}

/** Everything {@link reconcileGroup} and friends need. */
export interface FailoverDeps {
  store: FailoverStore;
  directors: DirectorSet;
  notifier: Notifier;
  log: LogSink;
  metrics: MetricSink;
  settings: FailoverSettings;
  /** Tenants to reconcile (config `director.tenants`). */
  tenants: readonly string[];
  now?: () => number;
  /** Read a tenant's inventory; default: the active site's director's `listCpes` + parse. */
  loadInventory?: (tenantId: string) => Promise<Inventory>;
}
