/**
 * Meraki mode end to end through the common pipeline: the Meraki simulator over HTTP, the health
 * run and the failover function built from a `meraki` configuration, DynamoDB Local with its
 * stream, and a fake clock for the loss series (2-minute lag, per-minute points).
 */
import { groupStatus } from '../../shared/failover/console.js';
import { parseMerakiPipelineConfig } from '../../shared/meraki/pipeline.js';
import { pathTarget } from '../../shared/director/meraki/adapter.js';
import { ConfigError } from '../../shared/errors.js';
import type { SimNetwork, SimOrganization } from '../../local/simulator/meraki/server.js';
import { HUBS, ON_PRIMARY, startMerakiWorld, type MerakiWorld } from './meraki-pipeline-world.js';

const ORG = 'org-a';
const key = (networkId: string, org = ORG) => `${org}#${networkId}`;

function org(id: string, networks: SimNetwork[], hubs = HUBS): SimOrganization {
  return { id, hubs: hubs.map((h) => ({ ...h })), networks };
}
const net = (id: string, extra: Partial<SimNetwork> = {}): SimNetwork => ({
  id,
  name: `Branch ${id}`,
  tags: [...ON_PRIMARY],
  ...extra,
});

async function healthOf(w: MerakiWorld, networkId: string, hub: string, orgId = ORG) {
  const items = await w.repo.listHealth(key(networkId, orgId));
  return items.find((h) => h.targetId === pathTarget(networkId, hub))?.health ?? 'UNKNOWN';
}

let w: MerakiWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** Both paths of every branch come UP after the 5-minute clean hold, and the primary is elected. */
async function warmUp(world: MerakiWorld, networks: string[], orgId = ORG, primary = 'london') {
  const elected = async () => {
    for (const n of networks)
      if ((await world.repo.getGroup(key(n, orgId)))?.servingId !== pathTarget(n, primary)) return false;
    return true;
  };
  await world.until(elected, 4);
}

test('≥30 % loss to the primary → path DOWN → tags swap to the backup; 5 clean minutes → swap back', async () => {
  w = await startMerakiWorld({ organizations: [org(ORG, [net('N_1'), net('N_2')])] });
  await warmUp(w, ['N_1', 'N_2']);
  expect(w.sim.tunnelHub('N_1')).toBe('london');

  w.sim.setLoss('N_1', 'london', 45);
  // The series lags 2 minutes: nothing can have moved yet.
  await w.minute();
  await w.minute();
  expect(w.sim.tunnelHub('N_1')).toBe('london');
  await w.until(() => w!.sim.tunnelHub('N_1') === 'paris', 6);
  expect(await healthOf(w, 'N_1', 'london')).toBe('DOWN');
  expect(await w.repo.getGroup(key('N_1'))).toMatchObject({ servingId: pathTarget('N_1', 'paris') });
  // Exact tags: state tags swapped in place, look-alike and unrelated tags untouched.
  expect(w.sim.network('N_1')?.tags).toEqual([
    'branch',
    'london_primary_down',
    'paris_backup_up',
    'london_primary_up_old',
  ]);
  expect(w.sim.tunnelHub('N_2')).toBe('london');
  expect(w.sim.network('N_2')?.tags).toEqual(ON_PRIMARY);
  expect(w.published.notices.map((n) => [n.kind, n.groupKey])).toContainEqual(['FAILOVER', key('N_1')]);

  w.sim.setLoss('N_1', 'london', 0);
  // Lag (2 min) + hold (5 min): still on the backup 6 minutes later.
  for (let m = 0; m < 6; m++) await w.minute();
  expect(w.sim.tunnelHub('N_1')).toBe('paris');
  await w.until(() => w!.sim.tunnelHub('N_1') === 'london', 4);
  expect(w.sim.network('N_1')?.tags).toEqual(ON_PRIMARY);
  expect(await healthOf(w, 'N_1', 'london')).toBe('UP');
  expect(w.published.notices.map((n) => [n.kind, n.groupKey])).toContainEqual(['FAILBACK', key('N_1')]);
  // One tunnel move each way for N_1, none for N_2.
  expect(w.sim.tunnelChanges.map((c) => [c.networkId, c.from, c.to])).toEqual([
    ['N_1', 'london', 'paris'],
    ['N_1', 'paris', 'london'],
  ]);
});

test('a hub that a branch does not track stays UNKNOWN: no failover onto it (ALL_DOWN, hold)', async () => {
  w = await startMerakiWorld({
    organizations: [org(ORG, [net('N_1', { trackedHubs: ['london'] }), net('N_2')])],
  });
  await warmUp(w, ['N_1', 'N_2']);
  expect(await healthOf(w, 'N_1', 'paris')).toBe('UNKNOWN');
  w.sim.setLoss('N_1', 'london', 100);
  for (let m = 0; m < 8; m++) await w.minute();
  expect(await healthOf(w, 'N_1', 'london')).toBe('DOWN');
  expect(await healthOf(w, 'N_1', 'paris')).toBe('UNKNOWN');
  expect(w.sim.tunnelHub('N_1')).toBe('london');
  expect(w.sim.network('N_1')?.tags).toEqual(ON_PRIMARY);
  expect(await w.repo.getGroup(key('N_1'))).toMatchObject({
    servingId: pathTarget('N_1', 'london'),
    alarms: ['ALL_DOWN'],
  });
  expect(w.published.notices.map((n) => [n.kind, n.groupKey])).toContainEqual(['ALL_DOWN', key('N_1')]);
});

test('trustedWithoutTracking: an untracked hub counts as clean, and failover onto it is allowed', async () => {
  w = await startMerakiWorld({
    organizations: [org(ORG, [net('N_1', { trackedHubs: ['london'] })])],
    hubSettings: { 0: [{}, { trustedWithoutTracking: true }] },
  });
  await warmUp(w, ['N_1']);
  // One clean point per loss call: UP once the 5-minute hold is complete, like a tracked hub.
  await w.until(async () => (await healthOf(w!, 'N_1', 'paris')) === 'UP', 7);
  // status shows which hubs are trusted without tracking.
  const status = await groupStatus(w.failover, { tenantId: ORG });
  const candidates = status.groups.find((g) => g.groupKey === key('N_1'))?.candidates ?? [];
  expect(candidates.map((c) => [c.id, c.trustedWithoutTracking ?? false])).toEqual([
    [pathTarget('N_1', 'london'), false],
    [pathTarget('N_1', 'paris'), true],
  ]);

  w.sim.setLoss('N_1', 'london', 100);
  await w.until(() => w!.sim.tunnelHub('N_1') === 'paris', 8);
  expect(w.sim.network('N_1')?.tags).toEqual([
    'branch',
    'london_primary_down',
    'paris_backup_up',
    'london_primary_up_old',
  ]);
});

test('a hub lost by every branch moves them all through action batches, not one PUT each', async () => {
  const ids = Array.from({ length: 6 }, (_, i) => `N_${i + 1}`);
  w = await startMerakiWorld({
    organizations: [
      org(
        ORG,
        ids.map((id) => net(id)),
      ),
    ],
  });
  await warmUp(w, ids);
  w.sim.clearLog();
  for (const id of ids) w.sim.setLoss(id, 'london', 60);
  await w.until(() => ids.every((id) => w!.sim.tunnelHub(id) === 'paris'), 8);
  // Every branch's own series says the hub is lost: not a blind monitor, no hold.
  expect(w.published.notices.filter((n) => n.kind === 'MONITOR_BLIND')).toEqual([]);
  for (const id of ids) {
    const group = await w.repo.getGroup(key(id));
    expect(group?.alarms ?? []).toEqual([]);
  }
  const batches = w.sim.log.filter((e) => e.method === 'POST' && e.path.endsWith('/actionBatches'));
  const puts = w.sim.log.filter((e) => e.method === 'PUT');
  expect(batches.length).toBeGreaterThan(0);
  expect(puts.length).toBeLessThan(ids.length);
  const actions = batches.flatMap(
    (b) => (b.requestBody as { actions: { resource: string; body: { tags: string[] } }[] }).actions,
  );
  const batched = new Set(actions.map((a) => a.resource));
  expect(batched.size).toBeGreaterThanOrEqual(2);
  for (const r of batched) expect(ids.map((id) => `/networks/${id}`)).toContain(r);
  for (const a of actions) expect(a.body.tags).toContain('paris_backup_up');
});

test('two organizations: one loss call per organization per run, and only the affected branch moves', async () => {
  const hubsB = [
    { name: 'nyc', tagPrefix: 'nyc', trackedIp: '203.0.113.1' },
    { name: 'chicago', tagPrefix: 'chi', trackedIp: '203.0.113.2' },
  ] as const;
  const onNyc = ['nyc_primary_up', 'chi_backup_down', 'store'];
  w = await startMerakiWorld({
    organizations: [
      org(ORG, [net('N_1')]),
      {
        id: 'org-b',
        hubs: hubsB.map((h) => ({ ...h })),
        networks: [
          { id: 'B_1', name: 'Store 1', tags: [...onNyc] },
          { id: 'B_2', name: 'Store 2', tags: [...onNyc] },
        ],
      },
    ],
  });
  await warmUp(w, ['N_1']);
  await warmUp(w, ['B_1', 'B_2'], 'org-b', 'nyc');
  w.sim.clearLog();
  w.sim.setLoss('B_2', 'nyc', 35);
  const minutes = await w.until(() => w!.sim.tunnelHub('B_2') === 'chicago', 6);
  const lossCalls = (orgId: string) =>
    w!.sim.log.filter((e) => e.organizationId === orgId && e.path.endsWith('/uplinksLossAndLatency')).length;
  expect(lossCalls(ORG)).toBe(minutes);
  expect(lossCalls('org-b')).toBe(minutes);
  expect(w.sim.network('B_2')?.tags).toEqual(['nyc_primary_down', 'chi_backup_up', 'store']);
  expect(w.sim.tunnelHub('B_1')).toBe('nyc');
  expect(w.sim.tunnelHub('N_1')).toBe('london');
  expect(await w.repo.getGroup(key('B_2', 'org-b'))).toMatchObject({
    servingId: pathTarget('B_2', 'chicago'),
  });
});

test('more than four hubs, or a hub tag prefix with spaces, is a configuration error naming the field', () => {
  const hubs = ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({
    name: n,
    tagPrefix: n,
    trackedIp: `192.0.2.${i + 1}`,
  }));
  const base = { kind: 'meraki', secretName: 's' };
  expect(() => parseMerakiPipelineConfig({ ...base, organizations: [{ id: 'o', hubs }] })).toThrow(
    ConfigError,
  );
  expect(() => parseMerakiPipelineConfig({ ...base, organizations: [{ id: 'o', hubs }] })).toThrow(
    /organizations\.0\.hubs=.*at most 4 hubs/,
  );
  expect(() =>
    parseMerakiPipelineConfig({
      ...base,
      organizations: [{ id: 'o', hubs: [hubs[0], { ...hubs[1], tagPrefix: 'has space' }] }],
    }),
  ).toThrow(/organizations\.0\.hubs\.1\.tagPrefix/);
  expect(
    parseMerakiPipelineConfig({ ...base, organizations: [{ id: 'o', hubs: hubs.slice(0, 4) }] })
      .organizations[0]?.hubs,
  ).toHaveLength(4);
});
