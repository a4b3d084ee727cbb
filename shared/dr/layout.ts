/**
 * The DR bucket layout and the pure planning of deletions (DESIGN.md "DR with Step Functions",
 * the reference's Case1). Pure: no SDK.
 *
 * | object                     | key                                               |
 * | -------------------------- | ------------------------------------------------- |
 * | MSP configuration + manifest | `msp/<site>/<stamp>/…`                          |
 * | DC ELK data                | `dcrepository/<stamp>/…`                          |
 * | DR ELK data                | `drrepository/<stamp>/…`                          |
 */
import type { S3Location } from '../director/port.js';
import type { SiteName } from '../domain/model.js';

/** ELK repository root per site. */
export const ELK_ROOT: Readonly<Record<SiteName, string>> = { DC: 'dcrepository/', DR: 'drrepository/' };
/** MSP configuration root (per site and time below it). */
export const MSP_ROOT = 'msp/';

/** `2026-11-23T06:30:00.000Z` → `2026-11-23T06-30-00Z`: sortable, no `:` in keys. */
export function backupStamp(atMs: number): string {
  return new Date(atMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/** Where a backup of `site` taken at `atMs` goes. */
export function backupLocation(bucket: string, site: SiteName, atMs: number): S3Location {
  const stamp = backupStamp(atMs);
  return { bucket, mspPrefix: `${MSP_ROOT}${site}/${stamp}/`, elkPrefix: `${ELK_ROOT[site]}${stamp}/` };
}

/** One object of a verified backup. */
export interface BackupObject {
  key: string;
  bytes: number;
  sha256: string;
}

/** A verified backup as recorded in the state table (`BACKUP#<site>`, sort key `at`). */
export interface BackupRecord {
  site: SiteName;
  /** ISO time the backup was started (the sort key). */
  at: string;
  backupId: string;
  jobId: string;
  location: S3Location;
  objects: BackupObject[];
  totalBytes: number;
  /** ISO time the last object was verified. */
  verifiedAt: string;
  /** PRUNED: its ELK objects were deleted (Case1 cleanup, drill); it is no longer restorable. */
  status: 'VERIFIED' | 'PRUNED';
  trigger: string;
  executionId: string;
  prunedAt?: string;
  /** Set by a failback: the next scheduled Backup run deletes this backup's ELK objects. */
  cleanupPending?: boolean;
}

/** The ELK objects of a backup (the MSP configuration stays). */
export function elkKeys(record: BackupRecord): string[] {
  return record.objects.map((o) => o.key).filter((key) => key.startsWith(ELK_ROOT[record.site]));
}

/** The DR period a failback ends: what its cleanup covers. */
export interface DrPeriod {
  /** ISO time DR became ACTIVE (the switchover). */
  drActiveSince: string;
  /** ISO time DC became ACTIVE again (the failback). */
  failbackAt: string;
}

/** What a cleanup will delete: exact keys, and the records they come from. */
export interface DeletionPlan {
  keys: string[];
  records: BackupRecord[];
}

function plan(records: BackupRecord[]): DeletionPlan {
  const sorted = [...records].sort((a, b) => a.at.localeCompare(b.at));
  return { records: sorted, keys: sorted.flatMap(elkKeys) };
}

/**
 * Case1: the ELK files of the DR period under `drrepository/` (DR backups taken from the
 * switchover up to the failback, the failback's own backup included) and the DC files taken
 * before the failover under `dcrepository/`. Backups already pruned are left out.
 */
export function planFailbackCleanup(backups: readonly BackupRecord[], pending: DrPeriod): DeletionPlan {
  return plan(
    backups.filter(
      (b) =>
        b.status === 'VERIFIED' &&
        ((b.site === 'DR' && b.at >= pending.drActiveSince && b.at <= pending.failbackAt) ||
          (b.site === 'DC' && b.at < pending.drActiveSince)),
    ),
  );
}

/** The backups a failback flagged, still to be deleted by the next scheduled run. */
export function planPendingCleanup(backups: readonly BackupRecord[]): DeletionPlan {
  return plan(backups.filter((b) => b.status === 'VERIFIED' && b.cleanupPending === true));
}

/** Weekly drill: every older verified backup of `keep.site` is superseded by `keep`. */
export function planSuperseded(
  backups: readonly BackupRecord[],
  keep: { site: SiteName; at: string },
): DeletionPlan {
  return plan(backups.filter((b) => b.status === 'VERIFIED' && b.site === keep.site && b.at < keep.at));
}

/** The newest verified backup (of one site, or of either). */
export function newestVerified(backups: readonly BackupRecord[], site?: SiteName): BackupRecord | undefined {
  return backups
    .filter((b) => b.status === 'VERIFIED' && (site === undefined || b.site === site))
    .reduce<BackupRecord | undefined>(
      (best, b) => (best === undefined || b.at > best.at ? b : best),
      undefined,
    );
}
