/**
 * CPE health items (`HEALTH#<groupKey>` / `<targetId>`): the health check's hysteresis state per
 * concentrator, written conditionally on the version it read, read by the failover service.
 */
import { isConditionFailed, conditions, type TableItem } from '../versioned-table.js';
import {
  bodyOf,
  mapBounded,
  requirePositiveInt,
  requireText,
  type ItemBody,
  type ItemStore,
  type UpdateResult,
} from '../item-store.js';
import type {
  HealthItem,
  HealthItemWrite,
  HealthWriteResult,
  StoredHealth,
  StoredTransition,
} from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';

function healthState(item: HealthItem): StoredHealth['state'] {
  return {
    health: item.health,
    badStreak: item.badStreak,
    cleanSince: item.cleanSince,
    since: item.since,
    ...(item.lastSampleAt != null ? { lastSampleAt: item.lastSampleAt } : {}),
    ...(item.lastBadAt != null ? { lastBadAt: item.lastBadAt } : {}),
  };
}

/** A health item's attributes from a write; the stored transition stays unless the write has one. */
function healthBody(item: HealthItemWrite, stored: StoredTransition | undefined): ItemBody<HealthItem> {
  const t = item.transition;
  return {
    type: ITEM_TYPES.health,
    groupKey: item.groupKey,
    tenantId: item.tenantId,
    targetId: item.targetId,
    name: item.name,
    site: item.site,
    slot: item.slot,
    health: item.state.health,
    since: item.state.since,
    badStreak: item.state.badStreak,
    cleanSince: item.state.cleanSince,
    // Always written (null without a hold), so a previous value never survives in the item.
    lastSampleAt: item.state.lastSampleAt ?? null,
    lastBadAt: item.state.lastBadAt ?? null,
    lastTransition: t ? { from: t.from, to: t.to, reason: t.reason, at: t.at } : stored,
  };
}

/** Options of {@link HealthRepository}. */
export interface HealthRepositoryOptions {
  /** Parallel queries in multi-group reads ({@link HealthRepository.loadHealth}). @default 8 */
  readConcurrency?: number;
}

/** CPE health over the table port. */
export class HealthRepository {
  private readonly readConcurrency: number;

  constructor(
    private readonly store: ItemStore,
    options: HealthRepositoryOptions = {},
  ) {
    this.readConcurrency = options.readConcurrency ?? 8;
    requirePositiveInt('readConcurrency', this.readConcurrency);
  }

  /** Every health item of a group (one Query). */
  listHealthItems(groupKey: string): Promise<HealthItem[]> {
    requireText('groupKey', groupKey);
    return this.store.queryPartition<HealthItem>(keys.healthPartition(groupKey));
  }

  /** A group's targets' health (one Query); each item has `targetId`, `health`, `since`. */
  listHealth(groupKey: string): Promise<HealthItem[]> {
    return this.listHealthItems(groupKey);
  }

  /** The stored hysteresis state and version of every target of these groups, by target id. */
  async loadHealth(groupKeys: readonly string[]): Promise<Map<string, StoredHealth>> {
    const perGroup = await mapBounded(groupKeys, this.readConcurrency, (g) => this.listHealthItems(g));
    const result = new Map<string, StoredHealth>();
    for (const item of perGroup.flat())
      result.set(item.targetId, { state: healthState(item), version: item.version });
    return result;
  }

  /** One target's stored hysteresis state and version (one strongly consistent read). */
  async readHealth(groupKey: string, targetId: string): Promise<StoredHealth | undefined> {
    requireText('groupKey', groupKey);
    requireText('targetId', targetId);
    const item = await this.store.get<HealthItem>(keys.health(groupKey, targetId));
    return item && { state: healthState(item), version: item.version };
  }

  /**
   * Write a target's health if its stored version is still `expectedVersion` (undefined: the item
   * must not exist yet). Attributes not written (the last transition on a progress-only write)
   * are kept. On a lost race, returns the item as stored now so the caller can re-apply.
   * One read, then one put conditional on `expectedVersion`.
   */
  async writeHealth(item: HealthItemWrite, expectedVersion: number | undefined): Promise<HealthWriteResult> {
    requireText('groupKey', item.groupKey);
    requireText('targetId', item.targetId);
    const key = keys.health(item.groupKey, item.targetId);
    const stored = (current: HealthItem | undefined): HealthWriteResult => ({
      ok: false,
      current: current && { state: healthState(current), version: current.version },
    });
    const current = await this.store.get<HealthItem>(key);
    if (current?.version !== expectedVersion) return stored(current);
    const writeId = this.store.runtime.id();
    const next: HealthItem = {
      ...bodyOf(current),
      ...healthBody(item, current?.lastTransition),
      ...key,
      version: (expectedVersion ?? 0) + 1,
      updatedAt: this.store.runtime.now(),
      writeId,
    };
    try {
      await this.store.table.put(next as unknown as TableItem, conditions.versionOrAbsent(expectedVersion));
      return { ok: true, version: next.version };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const now = await this.store.get<HealthItem>(key);
      if (now && now.writeId === writeId) return { ok: true, version: now.version };
      return stored(now);
    }
  }

  /**
   * Write a target's health only when it differs from what is stored (state, or a new
   * transition), re-reading and re-applying on a conflict. Returns whether it wrote.
   */
  async saveHealth(item: HealthItemWrite): Promise<UpdateResult<HealthItem>> {
    requireText('groupKey', item.groupKey);
    requireText('targetId', item.targetId);
    return this.store.update<HealthItem>(keys.health(item.groupKey, item.targetId), (current) => {
      const s = item.state;
      const t = item.transition;
      const sameState =
        current !== undefined &&
        current.health === s.health &&
        current.badStreak === s.badStreak &&
        current.cleanSince === s.cleanSince &&
        (current.lastSampleAt ?? null) === (s.lastSampleAt ?? null) &&
        (current.lastBadAt ?? null) === (s.lastBadAt ?? null) &&
        current.since === s.since;
      const sameTransition =
        t === undefined ||
        (current?.lastTransition?.at === t.at &&
          current.lastTransition.from === t.from &&
          current.lastTransition.to === t.to);
      if (sameState && sameTransition) return undefined;
      return healthBody(item, current?.lastTransition);
    });
  }
}
