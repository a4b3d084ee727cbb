/**
 * What the failover service and its fan-out share: metric names, a tenant's parsed listing (the
 * view), the director to act through, group keys, notices.
 */
import { requireConfiguredTenant } from '../domain/identifiers.js';
import type { DirectorCpe } from '../director/port.js';
import { parseInventory } from '../domain/inventory.js';
import { actingSiteOf } from '../domain/blindness.js';
import type { HaGroup, HaState, Inventory, SiteName, SiteRole } from '../domain/model.js';
import { NotFoundError } from '../errors.js';
import type { Notice, NoticeKind } from '../notify/port.js';
import type { FailoverDeps } from './ports.js';

/** Metric names (the CDK alarms match on exactly these). */
export const FAILOVER_METRICS = {
  failovers: 'Failovers',
  failbacks: 'Failbacks',
  repoints: 'Repoints',
  repointFailures: 'RepointFailures',
  allDown: 'AllDown',
  monitorBlind: 'MonitorBlind',
  decisionToLastRepointMs: 'DecisionToLastRepointMs',
} as const;

/** A tenant's inventory plus each CPE's runtime HA role (not part of the parsed model). */
export interface TenantView {
  tenantId: string;
  inventory: Inventory;
  haRoles: Map<string, HaState | undefined>;
  /** Each CPE's raw metadata (e.g. Meraki's `MERAKI_TRUSTED_WITHOUT_TRACKING`, which `status` shows). */
  metadata?: Map<string, Record<string, string>>;
}

/** The director to act through: the ACTIVE site's (DC when both or neither are ACTIVE). */
export function activeDirector(deps: FailoverDeps, siteRoles: Record<SiteName, SiteRole>) {
  const site = actingSiteOf(siteRoles, deps.directors.DR !== undefined);
  return (site === 'DR' ? deps.directors.DR : undefined) ?? deps.directors.DC;
}

/** Read a tenant's CPEs from the active director and parse them. */
export async function loadTenantView(
  deps: FailoverDeps,
  tenantId: string,
  siteRoles?: Record<SiteName, SiteRole>,
): Promise<TenantView> {
  // Tenants are the blast radius: nothing is read from (or later written to) one not configured.
  requireConfiguredTenant(deps.tenants, tenantId, 'tenant');
  const roles = siteRoles ?? (await deps.store.getSiteRoles());
  return viewOf(deps, tenantId, await activeDirector(deps, roles).listCpes(tenantId));
}

/** Parse a tenant's CPE listing (invalid CPEs are logged and left out). */
export function viewOf(deps: FailoverDeps, tenantId: string, cpes: DirectorCpe[]): TenantView {
  const inventory = parseInventory([{ tenantId, cpes }]);
  for (const bad of inventory.invalid) {
    deps.log.warn('CPE left out: invalid metadata', { ...bad });
  }
  return {
    tenantId,
    inventory,
    haRoles: new Map(cpes.map((c) => [c.id, c.haRole])),
    metadata: new Map(cpes.map((c) => [c.id, c.metadata])),
  };
}

/** Split a group key `tenant#haName` (tenant ids contain no `#`). */
export function splitGroupKey(key: string): { tenantId: string; haName: string } {
  const i = key.indexOf('#');
  if (i <= 0 || i === key.length - 1) {
    throw new NotFoundError(`group key ${JSON.stringify(key)}: expected "<tenantId>#<haName>"`);
  }
  return { tenantId: key.slice(0, i), haName: key.slice(i + 1) };
}

/** An error as one line: `Name: message`. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A notice about a group. */
export function notice(
  kind: NoticeKind,
  group: HaGroup,
  fields: { from?: string; to?: string; reason: string; epoch: number; at: number },
): Notice {
  return { kind, groupKey: group.key, tenantId: group.tenantId, haName: group.haName, ...fields };
}
