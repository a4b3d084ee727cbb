/**
 * The DR workflows' items: the lock (`LOCK` / `<name>`, one DR workflow at a time, expiring) and
 * the backup records (`BACKUP#<site>` / `<iso time>`, verified manifests).
 */
import type { SiteName } from '../../domain/model.js';
import { ValidationError } from '../../errors.js';
import { bodyOf, requirePositiveInt, requireText, type ItemBody, type ItemStore } from '../item-store.js';
import type { BackupItem, BackupRecordInput, LockItem, LockResult } from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, isConditionFailed } from '../versioned-table.js';

/** The DR lock and backup records over the table port. */
export class DrRepository {
  constructor(private readonly store: ItemStore) {}

  /** The lock item as stored (it may have expired: compare `expiresAt` with now). */
  getLock(name = 'DR'): Promise<LockItem | undefined> {
    return this.store.get<LockItem>(keys.lock(name));
  }

  /**
   * Take the lock for `owner` for `ttlSec` seconds: succeeds when it is free, expired, or already
   * held by the same owner (a retried step; the TTL is renewed). Otherwise reports the holder.
   */
  async acquireLock(owner: string, ttlSec: number, name = 'DR'): Promise<LockResult> {
    requireText('owner', owner);
    requirePositiveInt('ttlSec', ttlSec);
    requireText('name', name);
    const now = this.store.runtime.now();
    const nowSec = Math.floor(now / 1000);
    const result = await this.store.update<LockItem>(keys.lock(name), (current) => {
      const live = current !== undefined && current.expiresAt > nowSec;
      if (live && current.owner !== owner) return undefined;
      return {
        type: ITEM_TYPES.lock,
        name,
        owner,
        acquiredAt: live ? current.acquiredAt : now,
        expiresAt: nowSec + ttlSec,
      };
    });
    return result.changed
      ? { acquired: true, lock: result.item as LockItem }
      : { acquired: false, holder: result.item };
  }

  /** Release the lock if `owner` holds it. Resolves whether it did (false: someone else's or free). */
  async releaseLock(owner: string, name = 'DR'): Promise<boolean> {
    requireText('owner', owner);
    try {
      await this.store.table.delete(keys.lock(name), conditions.attribute('owner', owner));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  // --- Backup records -------------------------------------------------------------------------

  /** Record (or re-record, replacing) a backup under `BACKUP#<site>` / `<at>`. */
  async recordBackup<T extends BackupRecordInput>(record: T): Promise<BackupItem<T>> {
    if (record.site !== 'DC' && record.site !== 'DR') {
      throw new ValidationError('backup record', [
        { path: 'site', value: record.site, expected: 'DC or DR' },
      ]);
    }
    if (Number.isNaN(Date.parse(record.at))) {
      throw new ValidationError('backup record', [{ path: 'at', value: record.at, expected: 'an ISO time' }]);
    }
    const result = await this.store.update<BackupItem<T>>(
      keys.backup(record.site, record.at),
      (current) =>
        ({
          ...record,
          type: ITEM_TYPES.backup,
          ...(current?.cleanupPending === undefined ? {} : { cleanupPending: current.cleanupPending }),
        }) as unknown as ItemBody<BackupItem<T>>,
    );
    return result.item as BackupItem<T>;
  }

  /** A site's backup records, newest first (at most `limit`). */
  listBackups<T extends BackupRecordInput = BackupRecordInput>(
    site: SiteName,
    limit?: number,
  ): Promise<BackupItem<T>[]> {
    return this.store.queryPartition<BackupItem<T>>(keys.backupPartition(site), { newestFirst: true, limit });
  }

  /**
   * Mark (or unmark) a backup's cleanup as pending. Resolves false when the record does not
   * exist; nothing is created then.
   */
  async markCleanupPending(site: SiteName, at: string, pending = true): Promise<boolean> {
    const result = await this.store.update<BackupItem>(keys.backup(site, at), (current) =>
      current === undefined
        ? undefined
        : ({ ...bodyOf(current), cleanupPending: pending } as ItemBody<BackupItem>),
    );
    return result.changed;
  }
}
