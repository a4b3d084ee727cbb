/**
 * Site roles (`SITES` / `DC|DR`): which site's director is ACTIVE. Written one site item at a
 * time, each conditionally on its version (no transactions: an MRSC global table has none).
 */
import type { SiteName, SiteRole } from '../../domain/model.js';
import { ConcurrentUpdateError, ValidationError } from '../../errors.js';
import type { ItemStore } from '../item-store.js';
import { DEFAULT_SITE_ROLES, type SiteItem } from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, isConditionFailed, type TableItem } from '../versioned-table.js';

/** Sites in the order their role writes go: demotions (to PASSIVE) first, then DC before DR. */
function siteWriteOrder(roles: Partial<Record<SiteName, SiteRole>>): SiteName[] {
  return (Object.keys(roles) as SiteName[]).sort(
    (a, b) => Number(roles[a] === 'ACTIVE') - Number(roles[b] === 'ACTIVE') || (a < b ? -1 : a > b ? 1 : 0),
  );
}

/** Options of {@link SiteRepository.setSiteRoles}. */
export interface SetSiteRolesOptions {
  /** Write only if each listed site is still at this version (undefined: never written). */
  expectedVersions?: Partial<Record<SiteName, number | undefined>>;
  /** Why (kept on the items). */
  reason?: string;
  /** Who (e.g. the Step Functions execution). */
  by?: string;
}

/** Site roles over the table port. */
export class SiteRepository {
  constructor(private readonly store: ItemStore) {}

  /** Both site items as stored (a site never written is absent). */
  async getSiteItems(): Promise<Partial<Record<SiteName, SiteItem>>> {
    const items = await this.store.queryPartition<SiteItem>(keys.sitesPartition);
    return Object.fromEntries(items.map((item) => [item.site, item]));
  }

  /** Both sites' roles; a site without an item has its default (DC ACTIVE, DR PASSIVE). */
  async getSiteRoles(): Promise<Record<SiteName, SiteRole>> {
    const items = await this.getSiteItems();
    return { DC: items.DC?.role ?? DEFAULT_SITE_ROLES.DC, DR: items.DR?.role ?? DEFAULT_SITE_ROLES.DR };
  }

  /**
   * Set site roles, one conditional single-item write per site (no transaction: an MRSC global
   * table has none), in a fixed order: demotions to PASSIVE first, then DC before DR, so a reader
   * between the writes may see both sites PASSIVE but never both ACTIVE.
   *
   * With `expectedVersions`, every listed site must still be at that version (undefined: never
   * written): all are read and checked first, and a mismatch resolves false writing nothing. If a
   * write then still loses a race, the sites already written are put back as they were
   * (conditionally on the version written; a newer write there wins) and the call resolves false.
   * Without, the current versions are read, sites whose role is already right are skipped (no
   * stream record), and a conflict is re-read and re-applied to the sites still wrong.
   */
  async setSiteRoles(
    roles: Partial<Record<SiteName, SiteRole>>,
    options: SetSiteRolesOptions = {},
  ): Promise<boolean> {
    for (const [site, role] of Object.entries(roles)) {
      if (site !== 'DC' && site !== 'DR') {
        throw new ValidationError('roles', [
          { path: `roles.${site}`, value: role, expected: 'site DC or DR' },
        ]);
      }
      if (role !== 'ACTIVE' && role !== 'PASSIVE') {
        throw new ValidationError('roles', [
          { path: `roles.${site}`, value: role, expected: 'ACTIVE or PASSIVE' },
        ]);
      }
    }
    const sites = siteWriteOrder(roles);
    const siteItem = (site: SiteName, previous: SiteItem | undefined): SiteItem => ({
      ...keys.site(site),
      type: ITEM_TYPES.site,
      site,
      role: roles[site] as SiteRole,
      version: (previous?.version ?? 0) + 1,
      updatedAt: this.store.runtime.now(),
      writeId: this.store.runtime.id(),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.by === undefined ? {} : { by: options.by }),
    });
    const expectedVersions = options.expectedVersions;
    if (expectedVersions) {
      const current = await this.getSiteItems();
      if (sites.some((s) => current[s]?.version !== expectedVersions[s])) return false;
      const written: { previous: SiteItem | undefined; item: SiteItem }[] = [];
      for (const site of sites) {
        const item = siteItem(site, current[site]);
        if (!(await this.putSite(item, current[site]?.version))) {
          await this.restoreSites(written);
          return false;
        }
        written.push({ previous: current[site], item });
      }
      return true;
    }
    for (let attempt = 1; attempt <= this.store.maxAttempts; attempt++) {
      const current = await this.getSiteItems();
      const toWrite = sites.filter((s) => current[s]?.role !== roles[s]);
      let conflict = false;
      for (const site of toWrite) {
        if (!(await this.putSite(siteItem(site, current[site]), current[site]?.version))) {
          conflict = true;
          break;
        }
      }
      if (!conflict) return true;
    }
    throw new ConcurrentUpdateError(`site roles: still conflicting after ${this.store.maxAttempts} attempts`);
  }

  /** Put one site item conditionally; false on a lost race (true when the lost answer was ours). */
  private async putSite(item: SiteItem, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.store.table.put(item as unknown as TableItem, conditions.versionOrAbsent(expectedVersion));
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return (await this.store.get<SiteItem>(item))?.writeId === item.writeId;
    }
  }

  /** Undo site writes of a call that lost a race (newest first), each only if still ours. */
  private async restoreSites(written: { previous: SiteItem | undefined; item: SiteItem }[]): Promise<void> {
    for (const { previous, item } of [...written].reverse()) {
      try {
        if (previous === undefined) await this.store.table.delete(item, conditions.version(item.version));
        else {
          const back: SiteItem = {
            ...previous,
            version: item.version + 1,
            updatedAt: this.store.runtime.now(),
            writeId: this.store.runtime.id(),
          };
          await this.store.table.put(back as unknown as TableItem, conditions.version(item.version));
        }
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    }
  }
}
