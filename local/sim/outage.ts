/**
 * Outage → last branch re-pointed, in virtual time, measured on the checker's world: one group
 * of `branches` branches on DC1 with DC2 standing by, the configuration's defaults (a sample
 * every 5 s, 12 per run and the closing round, 3 bad samples for DOWN, the group call for a group
 * this big), a calm network (1–20 ms a leg). DC1 loses power at a random moment after the first election; the figure is the time
 * until the simulated world has every branch's tunnel on DC2 (the world's word, not the
 * controller's).
 */
import { concentratorMetadata, type TopologyInput } from '../simulator/topology.js';
import { Prng } from './prng.js';
import { CALM } from './faults.js';
import { runSchedule } from './world-check.js';

function oneGroup(branches: number): TopologyInput {
  const conc = (slot: 'dc1' | 'dc2', state: 'ACTIVE' | 'PASSIVE', port: number) => ({
    id: slot,
    name: slot,
    tenantId: 't1',
    metadata: concentratorMetadata({
      type: 'DC',
      state,
      haName: 'big',
      ip: slot === 'dc1' ? '100.0.0.1' : '100.0.0.2',
      port,
    }),
    lans: [{ name: 'LAN00', cidr: `10.0.${port === 30000 ? 1 : 3}.1/24`, virtualIp: '10.0.0.5' }],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'big-HA00', tunnelId: `big-${slot}` }],
  });
  return {
    tenants: [{ id: 't1', name: 'Tenant 1' }],
    cpes: [
      conc('dc1', 'ACTIVE', 30000),
      conc('dc2', 'PASSIVE', 40000),
      ...Array.from({ length: branches }, (_, i) => ({
        id: `b${i + 1}`,
        name: `b${i + 1}`,
        tenantId: 't1',
        metadata: { CPE_BR_TYPE: 'HA', HA_NAME: 'big', WAN00_PUB_IP: `101.0.${(i >> 8) & 255}.${i & 255}` },
        lans: [{ name: 'LAN00', cidr: `192.168.${i & 255}.1/24` }],
        tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'big-HA00', tunnelId: 'big-dc1' }],
      })),
    ],
  };
}

/** One measurement (ms), or undefined when the branches never all reached DC2. */
export async function outageToLastRepoint(seed: number, branches: number): Promise<number | undefined> {
  const outageAt = 130_000 + new Prng(seed).int(0, 60_000);
  const moved = new Set<string>();
  let doneAt: number | undefined;
  const report = await runSchedule(seed, {
    topology: oneGroup(branches),
    swarm: { ...CALM, faultPhaseMs: outageAt + 60_000 },
    faults: [{ at: outageAt, verb: 'down', id: 'dc1' }],
    cadence: { holdSec: 60, sampleIntervalSec: 5, samplesPerRun: 12 },
    repointConcurrency: 16, // the configuration's default
    groupCall: true, // the configuration's default (a big group moves in one call)
    onApplied: (a, world, now) => {
      if (a.op !== 'repoint' || !a.cpeId || doneAt !== undefined) return;
      if (world.currentTarget(a.cpeId) === 'dc2') moved.add(a.cpeId);
      if (moved.size === branches) doneAt = now;
    },
  });
  return doneAt === undefined ? undefined : doneAt - (report.startedAt + outageAt);
}
