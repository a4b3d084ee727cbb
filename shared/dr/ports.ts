/**
 * What the DR tasks need from the outside world. The Lambda adapter (functions/dr/handler.ts)
 * wires these to DynamoDB, S3, SNS, CloudWatch and the zWAN directors; tests and the sandbox
 * wire them to DynamoDB Local, the S3 emulator and the simulator.
 */
import type { DrDirector } from '../director/port.js';
import type { SiteName, SiteRole } from '../domain/model.js';
import type { BackupRecord } from './layout.js';

/** A site's role with when it last changed and the item's version (for conditional writes). */
export interface SiteRoleState {
  role: SiteRole;
  /** ISO time of the last change ('' when never changed: the initial DC ACTIVE / DR PASSIVE). */
  since: string;
  /** Item version; 0 when the item does not exist yet. */
  version: number;
}

/** Both sites' roles. */
export type SiteRoles = Record<SiteName, SiteRoleState>;

/** The DR part of the state table. */
export interface DrStore {
  /** Both roles (DC ACTIVE / DR PASSIVE when never written). */
  getSiteRoles(): Promise<SiteRoles>;
  /**
   * Write both roles in one transaction, each conditional on the version read before; throws
   * ConcurrentUpdateError when another writer got there first. The stream record of each item
   * makes election move the groups.
   */
  putSiteRoles(next: Record<SiteName, SiteRole>, expected: SiteRoles, at: string, by: string): Promise<void>;
  /**
   * A site's director status as the health check last recorded it (undefined: never recorded):
   * whether it answered and since when (epoch ms) that has been so.
   */
  getDirectorStatus(site: SiteName): Promise<{ reachable: boolean; since: number } | undefined>;
  /** Take the one DR lock; throws WorkflowLockedError naming the holder when it is held. */
  acquireLock(holder: string, workflow: string, nowMs: number, ttlSec: number): Promise<void>;
  /** Release the lock if `holder` holds it; false when it did not (already released, expired). */
  releaseLock(holder: string): Promise<boolean>;
  putBackup(record: BackupRecord): Promise<void>;
  /** Every backup record of a site (or of both), oldest first. */
  listBackups(site?: SiteName): Promise<BackupRecord[]>;
  /** Mark records PRUNED (their ELK objects are gone; clears `cleanupPending`). */
  markPruned(records: readonly BackupRecord[], at: string): Promise<void>;
  /** Flag records whose ELK objects the next scheduled Backup run deletes (failback, Case1). */
  markCleanupPending(records: readonly BackupRecord[]): Promise<void>;
  /** Record an approval request (the task token) so an operator or a tool can find it. */
  putApprovalRequest(request: {
    executionId: string;
    workflow: string;
    taskToken: string;
    at: string;
  }): Promise<void>;
  /** Append an audit event. */
  audit(event: {
    at: string;
    kind: string;
    executionId: string;
    detail: Record<string, unknown>;
  }): Promise<void>;
}

/** Result of checking one object against its manifest entry. */
export interface ObjectCheck {
  key: string;
  ok: boolean;
  /** Absent when the object does not exist. */
  bytes?: number;
  sha256?: string;
}

/** The DR bucket. */
export interface ObjectStore {
  /** Stream the object and hash it (never buffered whole). */
  verifyObject(key: string, expected: { bytes: number; sha256: string }): Promise<ObjectCheck>;
  /** Delete exact keys (one by one where the backend needs it). */
  deleteKeys(keys: readonly string[]): Promise<void>;
}

/** Kinds of DR notification. */
export type DrNoticeKind =
  'DR_SUCCEEDED' | 'DR_FAILED' | 'DR_SKIPPED' | 'APPROVAL_REQUIRED' | 'BACKUP_VERIFICATION_FAILED';

/** One DR notification. */
export interface DrNotice {
  kind: DrNoticeKind;
  workflow: string;
  executionId: string;
  subject: string;
  message: string;
  detail?: Record<string, unknown>;
  at: string;
}

/** Where DR notifications go (SNS; a recorder). */
export interface DrNotifier {
  notify(notice: DrNotice): Promise<void>;
}

/** Metric units the DR tasks use. */
export type DrMetricUnit = 'Count' | 'Bytes' | 'Seconds' | 'None';

/** Where DR metrics go (Powertools EMF; a recorder). */
export interface DrMetrics {
  put(name: string, value: number, unit: DrMetricUnit): void;
}

/** Settings of the DR tasks, from the configuration and the environment. */
export interface DrSettings {
  bucket: string;
  /** Management URL the provisioning server hands to CPEs, per site. */
  managementUrls: Record<SiteName, string>;
  /** Tenants whose SSH-onboarded CPEs are listed after a switch. */
  tenants: readonly string[];
  /** Polls of a job before it counts as hung (with the state machine's poll interval). @default 60 */
  maxJobPolls: number;
  /** The lock's TTL: longer than the longest execution. @default 21600 (6 h) */
  lockTtlSec: number;
  /** At most this many SSH-onboarded CPEs are listed in an execution's output. @default 200 */
  maxListedCpes: number;
  /**
   * A site giving up ACTIVE whose director cannot be told PASSIVE counts as fenced once the
   * health check has recorded it unreachable this long: every fan-out that may still run on it
   * has ended (config `dr.drainAfterSec`). @default 330
   */
  drainAfterSec: number;
  /**
   * The Backup schedule (config `backup.schedule`, a cron): the Case1 cleanup runs only in a run
   * that took the lock within {@link scheduleToleranceSec} after one of its times.
   */
  backupSchedule: string;
  /** How late after a scheduled time a run may take the lock and still count as scheduled. @default 600 */
  scheduleToleranceSec: number;
}

/** Everything the DR tasks use. */
export interface DrDeps {
  store: DrStore;
  objects: ObjectStore;
  directors: (site: SiteName) => DrDirector;
  notifier: DrNotifier;
  metrics: DrMetrics;
  log: import('../observability.js').LogSink;
  /** Epoch ms. */
  now: () => number;
  settings: DrSettings;
}
