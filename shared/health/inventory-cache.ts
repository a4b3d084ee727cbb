/**
 * The parsed inventory, cached in the warm container with a TTL, so a health run lists CPEs at
 * most once every few minutes instead of every minute. Listing asks every site's director and
 * merges what they answer (a CPE listed by both counts once); when no director answers for a
 * tenant, the last good listing of that tenant is kept (stale but safe) until one answers again.
 */
import type { Director, DirectorCpe } from '../director/port.js';
import { parseInventory, type TenantCpes } from '../domain/inventory.js';
import type { Inventory, SiteName } from '../domain/model.js';

/** Default time a listing stays fresh: 5 minutes. */
export const DEFAULT_INVENTORY_TTL_MS = 5 * 60_000;

/** A director that failed to list a tenant's CPEs. */
export interface ListingFailure {
  site: SiteName;
  tenantId: string;
  error: unknown;
}

/** The result of {@link InventoryCache.get}. */
export interface InventoryLoad {
  inventory: Inventory;
  /** True when this call listed CPEs (a cache miss or expiry). */
  refreshed: boolean;
  /** Director calls this load made (0 on a hit). */
  directorCalls: number;
  /** Directors that failed to answer while listing. */
  failures: ListingFailure[];
  /** Tenants nobody could list and that have no earlier listing: not monitored this run. */
  unlisted: string[];
}

/** Inventory cache for one container. Thread-safe for overlapping callers (one listing at a time). */
export class InventoryCache {
  private tenants = new Map<string, TenantCpes>();
  private inventory: Inventory | undefined;
  private loadedAt = -Infinity;
  private pending: Promise<InventoryLoad> | undefined;

  constructor(private readonly ttlMs = DEFAULT_INVENTORY_TTL_MS) {}

  /** Forget everything (next `get` lists again). */
  clear(): void {
    this.tenants.clear();
    this.inventory = undefined;
    this.loadedAt = -Infinity;
  }

  /** The inventory, listed again when older than the TTL (measured with `now`). */
  async get(
    tenantIds: readonly string[],
    directors: Partial<Record<SiteName, Director>>,
    now: number,
  ): Promise<InventoryLoad> {
    if (this.inventory && now - this.loadedAt < this.ttlMs) {
      return { inventory: this.inventory, refreshed: false, directorCalls: 0, failures: [], unlisted: [] };
    }
    this.pending ??= this.list(tenantIds, directors, now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async list(
    tenantIds: readonly string[],
    directors: Partial<Record<SiteName, Director>>,
    now: number,
  ): Promise<InventoryLoad> {
    const sites = Object.entries(directors) as [SiteName, Director][];
    const failures: ListingFailure[] = [];
    let directorCalls = 0;
    let allListed = true;
    const unlisted: string[] = [];
    await Promise.all(
      tenantIds.map(async (tenantId) => {
        const byId = new Map<string, DirectorCpe>();
        let answered = 0;
        await Promise.all(
          sites.map(async ([site, director]) => {
            directorCalls++;
            try {
              for (const cpe of await director.listCpes(tenantId))
                if (!byId.has(cpe.id)) byId.set(cpe.id, cpe);
              answered++;
            } catch (error) {
              failures.push({ site, tenantId, error });
            }
          }),
        );
        if (answered === sites.length) {
          this.tenants.set(tenantId, { tenantId, cpes: [...byId.values()] });
        } else {
          allListed = false;
          // Partial answers are merged with the last full listing rather than dropping CPEs.
          const previous = this.tenants.get(tenantId);
          if (previous) {
            for (const cpe of previous.cpes) if (!byId.has(cpe.id)) byId.set(cpe.id, cpe);
            this.tenants.set(tenantId, { tenantId, cpes: [...byId.values()] });
          } else if (answered > 0) {
            this.tenants.set(tenantId, { tenantId, cpes: [...byId.values()] });
          } else {
            unlisted.push(tenantId);
          }
        }
      }),
    );
    const inventory = parseInventory(
      tenantIds.flatMap((id) => {
        const t = this.tenants.get(id);
        return t ? [t] : [];
      }),
    );
    this.inventory = inventory;
    // A listing with failures is retried on the next run, not after the full TTL.
    this.loadedAt = allListed ? now : -Infinity;
    return { inventory, refreshed: true, directorCalls, failures, unlisted };
  }
}
