import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';

describe('Meraki simulator control API (/_sim over HTTP)', () => {
  let sim: MerakiSimulator;
  let t = Date.parse('2026-11-21T12:00:30Z');
  beforeEach(async () => {
    t = Date.parse('2026-11-21T12:00:30Z');
    sim = await createMerakiSimulator({
      organizations: [generateOrganization({ id: 'o1', networks: 4 })],
      now: () => t,
      monotonicNow: () => t,
      rateLimit: { requestsPerSecond: 1, burst: 1 },
    });
  });
  afterEach(async () => sim.close());

  const fault = async (name: string, args: unknown) => {
    const res = await fetch(`${sim.controlUrl}/_sim/faults/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    return { status: res.status, body: (await res.json()) as { ok?: boolean; errors?: string[] } };
  };
  const state = async (query = '') => {
    const res = await fetch(`${sim.controlUrl}/_sim/state${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { networks: { networkId: string; [k: string]: unknown }[] }).networks;
  };
  const api = (path: string) =>
    fetch(`${sim.baseUrl}${path}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });

  it('shows the world: tags, tunnel hub, reachable hub, active uplink and uplink statuses', async () => {
    const networks = await state('?organizationId=o1');
    expect(networks).toHaveLength(4);
    expect(networks[0]).toEqual({
      networkId: 'N_o1_0',
      organizationId: 'o1',
      tags: expect.arrayContaining(['london_primary_up', 'paris_backup_down']),
      tunnelHub: 'london',
      reachableHub: 'london',
      activeUplink: 'wan1',
      uplinks: [
        { interface: 'wan1', status: 'active' },
        { interface: 'wan2', status: 'ready' },
      ],
    });
    expect(await state('?organizationId=other')).toEqual([]);
  });

  it('applies every fault by name with its JSON arguments, unauthenticated, unlogged and outside the budget', async () => {
    expect(await fault('setUplinkDown', { networkId: 'N_o1_0', uplink: 'wan1', down: true })).toEqual({
      status: 200,
      body: { ok: true },
    });
    t += 10_000;
    expect(sim.activeUplink('N_o1_0')).toBe('wan2');
    await fault('setUplinkLoss', { networkId: 'N_o1_1', uplink: 'wan2', lossPct: 30, latencyMs: 80 });
    await fault('setLoss', { networkId: 'N_o1_2', hub: 'london', lossPct: 100 });
    expect(sim.reachableHub('N_o1_2')).toBeUndefined();
    await fault('setHubDown', { organizationId: 'o1', hub: 'london', down: true });
    expect(sim.reachableHub('N_o1_3')).toBeUndefined();
    await fault('setHubDown', { organizationId: 'o1', hub: 'london', down: false });
    expect(sim.reachableHub('N_o1_3')).toBe('london');
    await fault('breakTunnel', { networkId: 'N_o1_3', hub: 'london', broken: true });
    expect((await state()).find((n) => n.networkId === 'N_o1_3')?.reachableHub).toBeUndefined();
    await fault('editTags', { networkId: 'N_o1_1', add: ['operator-note'], remove: ['branch'] });
    expect(sim.network('N_o1_1')?.tags).toContain('operator-note');
    expect(sim.network('N_o1_1')?.tags).not.toContain('branch');
    await fault('setTags', {
      networkId: 'N_o1_1',
      tags: ['branch', 'london_primary_down', 'paris_backup_up'],
    });
    expect(sim.tunnelHub('N_o1_1')).toBe('paris');
    await fault('setPeers', {
      organizationId: 'o1',
      peers: [{ name: 'london', publicIp: '192.0.2.10', networkTags: ['none'] }],
    });
    t += 60_000;
    expect(sim.reachableHub('N_o1_0')).toBeUndefined();
    await fault('failBatches', { count: 1, message: 'Network is locked' });
    expect(sim.log).toEqual([]);
    expect(sim.requestTimes('o1')).toEqual([]);

    await fault('heal', {});
    t += 60_000;
    const healed = await state();
    expect(healed.map((n) => n.reachableHub)).toEqual(['london', 'paris', 'london', 'london']);
    expect(healed.map((n) => n.activeUplink)).toEqual(['wan1', 'wan1', 'wan1', 'wan1']);
  });

  it('a 5xx for a while, a 429 storm, and the limits changed over HTTP', async () => {
    await fault('setRateLimit', { rate: false });
    await fault('failRequests', { status: 502, forMs: 1_000 });
    expect((await api('/networks/N_o1_0')).status).toBe(502);
    t += 1_000;
    expect((await api('/networks/N_o1_0')).status).toBe(200);
    await fault('storm429', { forMs: 2_000, retryAfterSec: 2 });
    const storm = await api('/organizations/o1/networks');
    expect(storm.status).toBe(429);
    expect(storm.headers.get('retry-after')).toBe('2');
    t += 2_000;
    expect((await api('/organizations/o1/networks')).status).toBe(200);
    await fault('setIpRateLimit', { rate: { requestsPerSecond: 1, burst: 1 } });
    expect((await api('/networks/N_o1_0')).status).toBe(200);
    const limited = await api('/networks/N_o1_0');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const stats = (await (await fetch(`${sim.controlUrl}/_sim/stats`)).json()) as {
      requests: number;
      maxRequestsPerSecond: Record<string, number>;
    };
    expect(stats.requests).toBe(6);
    expect(stats.maxRequestsPerSecond).toEqual({ o1: 2 });
  });

  it('names the bad field and value, and the unknown fault or route', async () => {
    expect(await fault('setUplinkDown', { networkId: 'N_o1_0', uplink: 'wan1', down: 'yes' })).toEqual({
      status: 400,
      body: { errors: ['\'down\' must be true or false, not "yes"'] },
    });
    expect(
      (await fault('setUplinkLoss', { networkId: 'N_o1_0', uplink: 'cellular', lossPct: 5 })).body
        .errors?.[0],
    ).toBe('uplink="cellular": network N_o1_0 has wan1, wan2');
    expect(
      (await fault('setLoss', { networkId: 'N_x', hub: 'london', lossPct: 5 })).body.errors?.[0],
    ).toMatch(/networkId="N_x": not a simulated network/);
    expect(
      (await fault('setLoss', { networkId: 'N_o1_0', hub: 'rome', lossPct: 5 })).body.errors?.[0],
    ).toMatch(/hubName="rome": not a hub of organization o1/);
    expect(
      (await fault('setLoss', { networkId: 'N_o1_0', hub: 'london', lossPct: 120 })).body.errors?.[0],
    ).toMatch(/'lossPct' must be from 0 to 100 or null, not 120/);
    const unknown = await fault('explode', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors?.[0]).toMatch(/No fault "explode"; one of setLoss, setUplinkLoss/);
    const route = await fetch(`${sim.controlUrl}/_sim/nothing`);
    expect(route.status).toBe(404);
    // The control API is never reachable under the API's base.
    expect((await api('/_sim/state')).status).toBe(404);
  });
});
