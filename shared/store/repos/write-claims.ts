/**
 * Write claims (`CLAIMS#<tenantId>` / `<branchId>#<writer>`): the {@link WriteClaims} port over
 * the table. One item per claim (a unique writer id in the sort key), so two writers of one branch
 * never overwrite each other's claim; a claim is put before the write's fence is read and deleted
 * once the write was answered. A writer that crashed leaves its claim until `until` (then it is
 * ignored) and DynamoDB deletes it by TTL an hour later. The items are not stream types: claiming
 * wakes no function.
 */
import type { WriteClaim, WriteClaims } from '../../director/port.js';
import { requirePositiveInt, requireText, type ItemStore } from '../item-store.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, type TableItem } from '../versioned-table.js';

/** The stored claim. */
export interface WriteClaimItem extends WriteClaim {
  pk: string;
  sk: string;
  type: typeof ITEM_TYPES.claim;
  /** TTL: epoch SECONDS (an hour after `until`). */
  expiresAt: number;
}

/** Write claims over the table port. */
export class WriteClaimRepository implements WriteClaims {
  constructor(private readonly store: ItemStore) {}

  async claim(
    tenantId: string,
    branchId: string,
    epoch: number,
    ttlMs: number,
  ): Promise<{ release(): Promise<void> }> {
    requireText('tenantId', tenantId);
    requireText('branchId', branchId);
    requirePositiveInt('ttlMs', ttlMs);
    const writer = this.store.runtime.id();
    const key = keys.claim(tenantId, branchId, writer);
    const until = this.store.runtime.now() + ttlMs;
    const item: WriteClaimItem = {
      ...key,
      type: ITEM_TYPES.claim,
      tenantId,
      branchId,
      epoch,
      until,
      writer,
      expiresAt: Math.ceil(until / 1000) + 3600,
    };
    await this.store.table.put(item as unknown as TableItem, conditions.none);
    return { release: () => this.store.table.delete(key, conditions.none) };
  }

  async live(tenantId: string): Promise<WriteClaim[]> {
    requireText('tenantId', tenantId);
    const now = this.store.runtime.now();
    const items = await this.store.table.query<WriteClaimItem>(keys.claimsPartition(tenantId));
    return items
      .filter((c) => c.until > now)
      .map(({ tenantId: t, branchId, epoch, until, writer }) => ({
        tenantId: t,
        branchId,
        epoch,
        until,
        writer,
      }));
  }
}
