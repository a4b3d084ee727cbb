/**
 * Write claims (`CLAIMS#<tenantId>` / `<writer>`): the {@link WriteClaims} port over the table.
 * One item per write (a tag swap, or an action batch of up to 100 networks), keyed by a unique
 * writer id, so two writers never overwrite each other's claim. A claim is put before the write's
 * fences are read and deleted once the write was answered for certain. A claim of a writer that
 * crashed, or whose write's outcome is unknown, stays until `until` (then it is ignored), and
 * DynamoDB deletes it by TTL an hour later. The items are no stream type: claiming wakes nothing.
 */
import type { WriteClaim, WriteClaims } from '../../director/port.js';
import { ValidationError } from '../../errors.js';
import { requirePositiveInt, requireText, type ItemStore } from '../item-store.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, type TableItem } from '../versioned-table.js';

/** The stored claim. */
export interface WriteClaimItem {
  pk: string;
  sk: string;
  type: typeof ITEM_TYPES.claim;
  tenantId: string;
  writer: string;
  /** The branches written, each with its group's epoch. */
  branches: { branchId: string; epoch: number }[];
  /** Epoch ms (see {@link WriteClaim.until}). */
  until: number;
  /** TTL: epoch SECONDS (an hour after `until`). */
  expiresAt: number;
}

/** Write claims over the table port. */
export class WriteClaimRepository implements WriteClaims {
  constructor(private readonly store: ItemStore) {}

  async claim(
    tenantId: string,
    branches: readonly { branchId: string; epoch: number }[],
    ttlMs: number,
  ): Promise<{ release(): Promise<void> }> {
    requireText('tenantId', tenantId);
    requirePositiveInt('ttlMs', ttlMs);
    if (branches.length === 0)
      throw new ValidationError('branches', [
        { path: 'branches', value: branches, expected: 'at least one branch' },
      ]);
    branches.forEach((b, i) => requireText(`branches.${i}.branchId`, b.branchId));
    const writer = this.store.runtime.id();
    const key = keys.claim(tenantId, writer);
    const until = this.store.runtime.now() + ttlMs;
    const item: WriteClaimItem = {
      ...key,
      type: ITEM_TYPES.claim,
      tenantId,
      writer,
      branches: branches.map(({ branchId, epoch }) => ({ branchId, epoch })),
      until,
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
      .flatMap((c) =>
        c.branches.map((b) => ({
          tenantId: c.tenantId,
          branchId: b.branchId,
          epoch: b.epoch,
          until: c.until,
          writer: c.writer,
        })),
      );
  }
}
