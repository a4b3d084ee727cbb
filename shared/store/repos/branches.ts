/**
 * Branch outcomes (`BRANCH#<groupKey>` / `<branchId>`): the last re-point result per branch,
 * batch-written by the fan-out, read by the drift reconcile and the console.
 */
import { requireText, type ItemStore } from '../item-store.js';
import type { BranchItem, BranchOutcome } from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';
import type { TableItem } from '../versioned-table.js';

/** Branch outcomes over the table port. */
export class BranchRepository {
  constructor(private readonly store: ItemStore) {}

  /**
   * Record branch outcomes with batch writes (25 per request, unprocessed items retried with
   * backoff). Last writer wins per branch; within one call the highest epoch of a branch is kept.
   */
  async putBranchOutcomes(outcomes: readonly BranchOutcome[]): Promise<void> {
    const latest = new Map<string, BranchOutcome>();
    for (const o of outcomes) {
      requireText('groupKey', o.groupKey);
      requireText('branchId', o.branchId);
      const id = `${o.groupKey}\u0000${o.branchId}`;
      const seen = latest.get(id);
      if (!seen || o.epoch >= seen.epoch) latest.set(id, o);
    }
    const now = this.store.runtime.now();
    const items: BranchItem[] = [...latest.values()].map((o) => ({
      ...o,
      ...keys.branch(o.groupKey, o.branchId),
      type: ITEM_TYPES.branch,
      updatedAt: now,
    }));
    if (items.length > 0) await this.store.table.batchPut(items as unknown as TableItem[]);
  }

  /** Every branch outcome of a group. */
  listBranchOutcomes(groupKey: string): Promise<BranchItem[]> {
    requireText('groupKey', groupKey);
    return this.store.queryPartition<BranchItem>(keys.branchPartition(groupKey));
  }
}
