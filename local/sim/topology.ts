/**
 * Random topologies for the checker: 1–20 HA groups over 1–3 tenants, each with 1–4 candidates
 * (a prefix-closed choice of DC/ACTIVE, DC/PASSIVE, DR/ACTIVE, DR/PASSIVE) and 0–50 branches.
 * Small worlds are drawn far more often than large ones: most bugs need only a few actors.
 */
import { concentratorMetadata, type TopologyCpeInput, type TopologyInput } from '../simulator/topology.js';
import type { Prng } from './prng.js';

const SLOTS = [
  { slot: 'dc1', type: 'DC', state: 'ACTIVE', port: 30000 },
  { slot: 'dc2', type: 'DC', state: 'PASSIVE', port: 40000 },
  { slot: 'dr1', type: 'DR', state: 'ACTIVE', port: 50000 },
  { slot: 'dr2', type: 'DR', state: 'PASSIVE', port: 50001 },
] as const;

/** Which candidate slots a group has (the DC ACTIVE one always). */
const SHAPES = [[0], [0, 1], [0, 2], [0, 1, 2], [0, 1, 2, 3], [0, 2, 3]] as const;

/** Size limits of a drawn topology. */
export interface TopologyLimits {
  maxGroups: number;
  maxBranches: number;
}

/** A skewed size: usually small, sometimes up to `max`. */
function skewed(rng: Prng, min: number, max: number): number {
  const r = rng.float();
  return min + Math.floor(r * r * r * (max - min + 1));
}

/** Draw a topology; ids are short and readable in traces (`t1`, `g3`, `g3.dc1`, `g3.b7`). */
export function randomTopology(rng: Prng, limits: TopologyLimits): TopologyInput {
  const tenants = rng.int(1, 3);
  const groups = skewed(rng, 1, limits.maxGroups);
  const cpes: TopologyCpeInput[] = [];
  let ip = 1;
  const nextIp = (net: number) => {
    ip++;
    return `${net}.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;
  };
  for (let g = 1; g <= groups; g++) {
    const tenantId = `t${1 + (g % tenants)}`;
    const haName = `g${g}`;
    const shape = rng.pick(SHAPES);
    const ident = `${haName}-HA00`;
    const tunnelOf = (slot: string) => `${haName}-${slot}`;
    for (const i of shape) {
      const s = SLOTS[i] as (typeof SLOTS)[number];
      cpes.push({
        id: `${haName}.${s.slot}`,
        name: `${haName}.${s.slot}`,
        tenantId,
        metadata: concentratorMetadata({ ...s, haName, ip: nextIp(100) }),
        lans: [
          { name: 'LAN00', cidr: `10.${g}.${i}.1/24`, virtualIp: `10.${g}.${s.type === 'DC' ? 0 : 2}.5` },
        ],
        tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: ident, tunnelId: tunnelOf(s.slot) }],
      });
    }
    const branches = skewed(rng, 0, limits.maxBranches);
    for (let b = 1; b <= branches; b++) {
      // Most branches start on DC/ACTIVE; a few start drifted onto another candidate.
      const start = rng.chance(0.1) ? rng.pick(shape) : 0;
      cpes.push({
        id: `${haName}.b${b}`,
        name: `${haName}.b${b}`,
        tenantId,
        metadata: { CPE_BR_TYPE: 'HA', HA_NAME: haName, WAN00_PUB_IP: nextIp(101) },
        lans: [{ name: 'LAN00', cidr: `192.168.${b}.1/24` }],
        tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: ident, tunnelId: tunnelOf(SLOTS[start]!.slot) }],
      });
    }
  }
  return {
    name: 'checker',
    tenants: Array.from({ length: tenants }, (_, i) => ({ id: `t${i + 1}`, name: `Tenant ${i + 1}` })),
    sites: { DC: { role: 'ACTIVE' }, DR: { role: 'PASSIVE' } },
    cpes,
  };
}
