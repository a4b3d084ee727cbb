/**
 * Generate simulated Meraki organizations: many branch networks tagged for failover the way the
 * reference describes (`<primary>_primary_up`, `<backup>_backup_down`, …), with unrelated tags
 * around them (and look-alikes, so exact tag handling is exercised at scale).
 */
import { hubStateTags } from '../../../shared/domain/meraki-tags.js';
import type { SimHub, SimNetwork, SimOrganization, SimUplink } from './types.js';

/** Two hubs as in the reference: London primary, Paris backup. */
export const DEFAULT_SIM_HUBS: readonly SimHub[] = [
  { name: 'london', tagPrefix: 'london', trackedIp: '192.0.2.10' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.10' },
];

/** Options of {@link generateOrganization}. */
export interface GenerateOptions {
  id: string;
  name?: string;
  /** How many branch networks. @default 10000 */
  networks?: number;
  hubs?: readonly SimHub[];
  /** Network id prefix. @default `N_<id>_` */
  idPrefix?: string;
  /** Extra networks that do not take part (no hub tags). @default 0 */
  bystanders?: number;
  /** The uplinks of every branch's MX. @default the simulator's (wan1, wan2) */
  uplinks?: readonly SimUplink[];
}

/** One organization whose networks all start on the first hub. */
export function generateOrganization(options: GenerateOptions): SimOrganization {
  const hubs = (options.hubs ?? DEFAULT_SIM_HUBS).map((h) => ({ ...h }));
  const count = options.networks ?? 10_000;
  const prefix = options.idPrefix ?? `N_${options.id}_`;
  const networks: SimNetwork[] = [];
  for (let i = 0; i < count; i++) {
    const stateTags = hubs.map((h, k) => (k === 0 ? hubStateTags(h, k).up : hubStateTags(h, k).down));
    const extra = [`region-${i % 7}`];
    if (i % 10 === 0) extra.push(`${stateTags[0]}_old`); // a look-alike that must never change
    networks.push({
      id: `${prefix}${i}`,
      name: `branch-${i}`,
      tags: ['branch', ...stateTags, ...extra],
      ...(options.uplinks ? { uplinks: [...options.uplinks] } : {}),
    });
  }
  for (let i = 0; i < (options.bystanders ?? 0); i++) {
    networks.push({ id: `${prefix}other${i}`, name: `office-${i}`, tags: ['office'] });
  }
  return { id: options.id, name: options.name ?? `Org ${options.id}`, hubs, networks };
}
