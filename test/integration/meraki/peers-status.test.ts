/**
 * The peer check at start-up (health run) and in `status`, and `status` showing the hub each
 * branch actually reaches: the Meraki pipeline over the simulator, DynamoDB Local.
 */
import { jest } from '@jest/globals';
import { groupStatus } from '../../../shared/failover/console.js';
import { PEER_CHECK_FAILED_METRIC } from '../../../shared/health/meraki-peers.js';
import type { CountingMetricSink } from '../../../shared/observability.js';
import { HUBS, ON_PRIMARY, startMerakiWorld, type MerakiWorld } from '../meraki-pipeline-world.js';

jest.setTimeout(120_000);

const ORG = 'org-a';
const PEERS = 'appliance/vpn/thirdPartyVPNPeers';

let w: MerakiWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

async function world(): Promise<MerakiWorld> {
  return startMerakiWorld({
    organizations: [
      {
        id: ORG,
        hubs: HUBS.map((h) => ({ ...h })),
        networks: ['N_1', 'N_2'].map((id) => ({ id, name: `Branch ${id}`, tags: [...ON_PRIMARY] })),
      },
    ],
  });
}
const peerReads = (x: MerakiWorld) =>
  x.sim.log.filter((e) => e.path === `/organizations/${ORG}/${PEERS}`).length;
const failures = (x: MerakiWorld) =>
  (x.health.metrics as CountingMetricSink).totals.get(PEER_CHECK_FAILED_METRIC) ?? 0;

test('peers matching the hubs: checked once per container, status says so and shows the hub each branch reaches', async () => {
  w = await world();
  await w.minute();
  await w.minute();
  expect(peerReads(w)).toBe(1);
  expect(failures(w)).toBe(0);
  w.sim.breakTunnel('N_2', 'london', true);
  const status = await groupStatus(w.failover, { tenantId: ORG });
  expect(status.peers).toEqual([{ tenantId: ORG, ok: true }]);
  const reached = Object.fromEntries(status.groups.map((g) => [g.haName, g.reached]));
  expect(reached).toEqual({
    N_1: [{ branchId: 'N_1', hub: 'london' }],
    N_2: [{ branchId: 'N_2', hub: null }],
  });
});

test("a peer carrying another hub's tag: an error metric at start-up (retried until fixed), and status names hub, peer and tag", async () => {
  w = await world();
  const good = HUBS.map((h, i) => ({
    name: h.name,
    publicIp: h.trackedIp,
    networkTags: [i === 0 ? 'london_primary_up' : 'paris_backup_up'],
  }));
  w.sim.setPeers(ORG, [good[0]!, { ...good[1]!, networkTags: ['london_primary_up'] }]);
  await w.minute();
  expect(failures(w)).toBe(1);
  const status = await groupStatus(w.failover, { tenantId: ORG });
  expect(status.peers?.[0]).toMatchObject({ tenantId: ORG, ok: false });
  expect(status.peers?.[0]?.error).toMatch(/\[hub paris, peer paris, tag london_primary_up\]/);
  // Health and failover carry on (the check alarms, it does not block).
  expect(status.groups).toHaveLength(2);

  w.sim.setPeers(ORG, undefined); // fixed in the Dashboard
  const before = peerReads(w);
  for (let m = 0; m < 7; m++) await w.minute(); // the inventory is listed again after its 5-minute TTL
  expect(peerReads(w)).toBe(before + 1); // checked again before that listing: passed
  expect(failures(w)).toBe(1);
  expect((await groupStatus(w.failover, { tenantId: ORG })).peers).toEqual([{ tenantId: ORG, ok: true }]);
  for (let m = 0; m < 6; m++) await w.minute();
  expect(peerReads(w)).toBe(before + 2); // the status read only: a passed check is not repeated
});
