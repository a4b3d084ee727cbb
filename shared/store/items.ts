/**
 * The item shapes of the state table (layout in ./table.ts), as the repositories store them and
 * their callers read them. Every versioned item carries the bookkeeping of {@link VersionedItem}.
 */
import type {
  AlarmKind,
  CandidateSlot,
  Health,
  Pin,
  SiteName,
  SiteRole,
  Transition,
} from '../domain/model.js';
import type { HealthState } from '../domain/health.js';
import type { Notice } from '../notify/port.js';
import type { ItemKey, VersionedItem } from './item-store.js';

/** The last transition of a target, kept on its health item (so a stream consumer sees it). */
export interface StoredTransition {
  from: Health;
  to: Health;
  reason: string;
  /** Epoch ms of the sample that caused it. */
  at: number;
}

/** A concentrator's health (`HEALTH#<groupKey>` / `<targetId>`): hysteresis state + context. */
export interface HealthItem extends VersionedItem {
  type: 'cpe-health';
  groupKey: string;
  tenantId: string;
  targetId: string;
  /** The CPE's name (logs, operators). */
  name: string;
  site: SiteName;
  slot: CandidateSlot;
  health: Health;
  /** Epoch ms of the last transition; null: never. */
  since: number | null;
  badStreak: number;
  cleanSince: number | null;
  /** `at` of the running hold's last observed sample (HealthState.lastSampleAt); null without a hold. */
  lastSampleAt?: number | null;
  /** `at` of the latest bad sample the hysteresis keeps (HealthState.lastBadAt); null when not kept. */
  lastBadAt?: number | null;
  /** The last transition (absent before the first one). */
  lastTransition?: StoredTransition;
}

/** A health write: the hysteresis state plus what the failover function needs from the stream. */
export interface HealthItemWrite {
  groupKey: string;
  tenantId: string;
  targetId: string;
  name: string;
  slot: CandidateSlot;
  site: SiteName;
  state: HealthState;
  /** Set on the write that makes a transition (absent on hysteresis-progress writes). */
  transition?: Transition;
}

/** A stored health state with the version its next write is conditional on. */
export interface StoredHealth {
  state: HealthState;
  version: number;
}

/** Outcome of {@link StateRepository.writeHealth}. */
export type HealthWriteResult =
  | { ok: true; version: number }
  | { ok: false; /** The item as stored now (undefined: absent). */ current: StoredHealth | undefined };

/** A group (`GROUPS` / `<groupKey>`): serving concentrator, epoch, pin, open alarms. */
export interface GroupItem extends VersionedItem {
  type: 'group';
  groupKey: string;
  tenantId: string;
  haName: string;
  /** Absent before the first election. */
  servingId?: string;
  /** Raised at every change of serving; 0 before the first. */
  epoch: number;
  pin?: Pin;
  alarms: AlarmKind[];
  /** Per-group override of the configured preemption. */
  preempt?: boolean;
  /** Why serving is what it is. */
  reason?: string;
  /** Epoch ms of the last change of serving. */
  changedAt?: number;
  /**
   * The notice outbox: notices of changes of serving not yet sent, written in the same
   * conditional write as the epoch ({@link StateRepository.compareAndSetServing}) and removed by
   * {@link StateRepository.clearOutbox} once sent.
   */
  outbox?: Notice[];
}

/** The next serving state for {@link StateRepository.compareAndSetServing}. */
export interface ServingUpdate {
  tenantId: string;
  haName: string;
  /** Undefined removes serving (no candidate ever UP). */
  servingId?: string;
  /** The new epoch: must be greater than the expected one. */
  epoch: number;
  reason: string;
  alarms: AlarmKind[];
  changedAt: number;
  /**
   * The group's notice outbox after this change (the new notice, plus any still unsent), stored
   * in the same conditional write as the epoch. Undefined keeps the stored outbox as it is.
   */
  outbox?: Notice[];
}

/** The group a pin/alarm write belongs to (used when the group item does not exist yet). */
export interface GroupIdentity {
  tenantId: string;
  haName: string;
}

/** A site's role (`SITES` / `DC|DR`). */
export interface SiteItem extends VersionedItem {
  type: 'site';
  site: SiteName;
  role: SiteRole;
  reason?: string;
  by?: string;
}

/** Site roles when no site item exists: DC ACTIVE, DR PASSIVE. */
export const DEFAULT_SITE_ROLES: Readonly<Record<SiteName, SiteRole>> = { DC: 'ACTIVE', DR: 'PASSIVE' };

/** A director's reachability as the health check recorded it (`DIRECTORS` / `DC|DR`). */
export interface DirectorStatus {
  site: SiteName;
  reachable: boolean;
  /** Epoch ms of the change. */
  since: number;
  /** Why it is unreachable (absent when reachable). */
  reason?: string;
  /** The health check's verdict that its own view is not trustworthy. */
  monitorBlind?: boolean;
  /**
   * The monitor-blind share rule's latch (shared/domain/monitor.ts `nextMonitorVerdict`): held
   * while many targets are still DOWN, cleared by recovery or {@link StateRepository.acknowledgeMonitorBlind}.
   */
  monitorBlindLatched?: boolean;
  /** Why the monitor is blind (absent when it is not). */
  monitorBlindReason?: string;
  /**
   * Epoch ms when DIRECTOR_LOST was raised for this director (unreachable for
   * `dr.directorLostAfterSec` while its site was ACTIVE); absent when not lost. Given with
   * `reachable: false` it is written when it differs; a reachable status clears it.
   */
  lostAt?: number;
  /** The last time the health check had an answer from it before it became unreachable. */
  lastAnsweredAt?: number;
}

/** An operator's acknowledgement of MONITOR_BLIND (the `ack-monitor-blind` console function). */
export interface MonitorBlindAck {
  /** Epoch ms. */
  at: number;
  reason: string;
  by?: string;
}

/** The stored director status item. */
export interface DirectorItem extends VersionedItem, DirectorStatus {
  type: 'director';
  /** The last acknowledgement that cleared the latch. */
  acknowledged?: MonitorBlindAck;
}

/** Outcome of {@link StateRepository.acknowledgeMonitorBlind}. */
export interface MonitorBlindAckResult {
  /** Whether anything was blind (and so changed). */
  acknowledged: boolean;
  /** The director status items as stored after the call. */
  directors: DirectorItem[];
}

/** A director status as the failover service reads it (`at` = `since`). */
export interface DirectorState extends DirectorStatus {
  at: number;
}

/** The last re-point outcome of one branch. */
export interface BranchOutcome {
  groupKey: string;
  branchId: string;
  targetId: string;
  epoch: number;
  /** Epoch ms. */
  at: number;
  /** `ok`: now on target; `failed`: left to the drift reconcile; `stale`: a newer epoch won. */
  result: 'ok' | 'failed' | 'stale';
  /** The director actually changed something (false: already right). */
  changed: boolean;
  error?: string;
}

/** The stored branch outcome item (`BRANCH#<groupKey>` / `<branchId>`). */
export interface BranchItem extends ItemKey, BranchOutcome {
  type: 'branch';
  updatedAt: number;
}

/** What an audit event must carry; any further fields are kept under `detail`. */
export interface AuditEventInput {
  kind: string;
  /** Epoch ms. */
  at: number;
  groupKey?: string;
  tenantId?: string;
  reason?: string;
}

/** A stored audit event (`AUDIT#<yyyy-mm-dd>` / `<iso time>#<id>`), deleted by TTL. */
export interface AuditItem extends ItemKey {
  type: 'audit';
  id: string;
  kind: string;
  at: number;
  groupKey?: string;
  tenantId?: string;
  reason?: string;
  /** The whole event as given. */
  detail: Record<string, unknown>;
  /** TTL: epoch SECONDS. */
  expiresAt: number;
}

/** The DR workflow lock (`LOCK` / `<name>`). */
export interface LockItem extends VersionedItem {
  type: 'lock';
  name: string;
  /** Who holds it (e.g. the Step Functions execution ARN). */
  owner: string;
  /** Epoch ms it was taken. */
  acquiredAt: number;
  /** TTL: epoch SECONDS; an expired lock may be taken over. */
  expiresAt: number;
}

/** Outcome of {@link StateRepository.acquireLock}. */
export type LockResult =
  { acquired: true; lock: LockItem } | { acquired: false; holder: LockItem | undefined };

/** What a backup record must carry (`site` and the ISO time `at` form the key). */
export interface BackupRecordInput {
  site: SiteName;
  /** ISO time: the sort key. */
  at: string;
}

/** A stored backup record: the record's own fields plus bookkeeping. */
export type BackupItem<T extends BackupRecordInput = BackupRecordInput> = T &
  VersionedItem & {
    type: 'backup';
    /** Set by a failback: the next scheduled run deletes superseded files. */
    cleanupPending?: boolean;
  };

/** Options of {@link StateRepository}. */
export interface StateRepositoryOptions {
  /** Audit events expire after this many days. @default 90 */
  auditTtlDays?: number;
  /** Read–apply–write rounds before {@link ConcurrentUpdateError}. @default 8 */
  maxAttempts?: number;
  /** Parallel queries in multi-partition reads. @default 8 */
  readConcurrency?: number;
}
