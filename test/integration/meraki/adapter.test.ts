import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { applySamples, initialHealthState } from '../../../shared/domain/health.js';
import { branchCurrentTarget, parseInventory } from '../../../shared/domain/inventory.js';
import { DEFAULT_HEALTH_CONFIG, type Sample } from '../../../shared/domain/model.js';
import {
  createMerakiDirector,
  pathTarget,
  type MerakiDirectorOptions,
} from '../../../shared/director/meraki/adapter.js';
import type { TokenBucket } from '../../../shared/director/http.js';
import {
  ConfigError,
  DirectorAuthError,
  DirectorRequestError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../../shared/errors.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../../../local/simulator/meraki/generate.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type SimOrganization,
} from '../../../local/simulator/meraki/server.js';

const HUBS = [...DEFAULT_SIM_HUBS];
const T0 = Date.parse('2026-11-21T12:00:30Z');

async function withSim(
  orgs: SimOrganization[],
  options: Partial<Parameters<typeof createMerakiSimulator>[0]> = {},
): Promise<MerakiSimulator & { clock: { t: number } }> {
  const clock = { t: T0 };
  const sim = await createMerakiSimulator({
    organizations: orgs,
    rateLimit: { requestsPerSecond: 500, burst: 50 },
    now: () => clock.t,
    ...options,
  });
  return Object.assign(sim, { clock });
}

function director(sim: MerakiSimulator, over: Partial<MerakiDirectorOptions> & { orgs?: unknown[] } = {}) {
  const { orgs, ...rest } = over;
  return createMerakiDirector({
    config: {
      kind: 'meraki',
      baseUrl: sim.baseUrl,
      secretName: 'meraki/api-key',
      organizations: (orgs ?? [{ id: 'o1', hubs: HUBS }]) as never,
    },
    apiKey: async () => sim.apiKey,
    rateLimit: { requestsPerSecond: 400, burst: 40 },
    buckets: new Map<string, TokenBucket>(),
    minSampleIntervalMs: 0,
    batches: { firstPollMs: 5, pollIntervalMs: 5 },
    ...rest,
  });
}

// Generous per-test limits: the machine is shared and noisy; nothing here asserts durations.
jest.setTimeout(60_000);

describe('Meraki adapter over HTTP to the simulator', () => {
  const sims: MerakiSimulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const start = async (...args: Parameters<typeof withSim>) => {
    const sim = await withSim(...args);
    sims.push(sim);
    return sim;
  };

  it('lists every page of networks and maps each participating branch to its own HA group', async () => {
    const org = generateOrganization({ id: 'o1', networks: 11, bystanders: 3 });
    const sim = await start([org]);
    const d = director(sim, { perPage: 4 });
    expect(await d.listNetworks('o1')).toHaveLength(14);
    const pages = sim.log.filter((e) => e.path === '/organizations/o1/networks');
    expect(pages).toHaveLength(4);
    expect(pages[1]?.query.startingAfter).toBe('N_o1_3');

    const inventory = parseInventory([{ tenantId: 'o1', cpes: await d.listCpes('o1') }]);
    expect(inventory.invalid).toEqual([]);
    const groups = inventory.tenants[0]?.groups ?? [];
    expect(groups).toHaveLength(11);
    const g = groups[0]!;
    expect(g.candidates.map((c) => [c.id, c.slot])).toEqual([
      [pathTarget('N_o1_0', 'london'), 'DC/ACTIVE'],
      [pathTarget('N_o1_0', 'paris'), 'DC/PASSIVE'],
    ]);
    expect(branchCurrentTarget(g.branches[0]!, g)).toBe(pathTarget('N_o1_0', 'london'));
  });

  it('re-points by exact tag swap, keeps look-alikes and other tags, and is idempotent', async () => {
    const org: SimOrganization = {
      id: 'o1',
      hubs: HUBS,
      networks: [
        {
          id: 'N_1',
          name: 'b1',
          tags: [
            'london_primary_up_old',
            'london_primary_up',
            'xparis_backup_down',
            'paris_backup_down',
            'pos',
          ],
        },
      ],
    };
    const sim = await start([org]);
    const d = director(sim);
    const action = {
      groupKey: 'o1#N_1',
      tenantId: 'o1',
      branchId: 'N_1',
      targetId: pathTarget('N_1', 'paris'),
      epoch: 7,
      tunnels: [],
    };
    expect(await d.repoint(action)).toEqual({
      branchId: 'N_1',
      targetId: action.targetId,
      epoch: 7,
      changed: true,
    });
    expect(sim.network('N_1')?.tags).toEqual([
      'london_primary_up_old',
      'london_primary_down',
      'xparis_backup_down',
      'paris_backup_up',
      'pos',
    ]);
    expect(sim.tunnelHub('N_1')).toBe('paris');
    expect(sim.tunnelChanges.map((c) => [c.from, c.to])).toEqual([['london', 'paris']]);
    const puts = () => sim.log.filter((e) => e.method === 'PUT').length;
    expect(puts()).toBe(1);
    expect((await d.repoint(action)).changed).toBe(false);
    expect(puts()).toBe(1);
  });

  it('re-reads before writing: an edit made meanwhile is kept and the change recomputed', async () => {
    const org = generateOrganization({ id: 'o1', networks: 1 });
    const sim = await start([org]);
    let gets = 0;
    const d = director(sim, {
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if ((init?.method ?? 'GET') === 'GET' && String(input).includes('/networks/N_o1_0') && ++gets === 1) {
          sim.setTags('N_o1_0', [...(sim.network('N_o1_0')?.tags ?? []), 'added-by-operator']);
        }
        return res;
      },
    });
    expect((await d.retagOne('o1', 'N_o1_0', 'paris')).changed).toBe(true);
    const tags = sim.network('N_o1_0')?.tags ?? [];
    expect(tags).toContain('added-by-operator');
    expect(tags).toContain('paris_backup_up');
    expect(tags).toContain('london_primary_down');
    expect(gets).toBeGreaterThanOrEqual(4); // read, re-read (changed), read, re-read
  });

  it('turns lagged per-minute series with nulls into samples that drive the hysteresis', async () => {
    const org = generateOrganization({ id: 'o1', networks: 2 });
    (org.networks[1] as { trackedHubs?: string[] }).trackedHubs = ['london'];
    const sim = await start([org]);
    const d = director(sim);
    const london = pathTarget('N_o1_0', 'london');
    const targets = [
      london,
      pathTarget('N_o1_0', 'paris'),
      pathTarget('N_o1_1', 'london'),
      pathTarget('N_o1_1', 'paris'),
    ];
    const config = { ...DEFAULT_HEALTH_CONFIG, failAfter: 3, recoverAfterSec: 300 };
    let state = initialHealthState();
    const feed = (samples: Sample[]) => {
      const mine = samples.filter((s) => s.target === london);
      const r = applySamples(state, mine, config);
      state = r.state;
      return { mine, transitions: r.transitions };
    };

    const first = await d.sampleHealth('o1', targets);
    expect(first.filter((s) => s.target === pathTarget('N_o1_1', 'paris'))).toEqual([]); // not tracked: UNKNOWN
    expect(first.filter((s) => s.target === london)).toHaveLength(5);
    expect(feed(first).transitions).toEqual([]); // 5 clean minutes are not yet a 300 s hold
    expect(await d.sampleHealth('o1', targets)).toEqual([]); // nothing new: no minute counted twice

    sim.setLoss('N_o1_0', 'london', 45);
    sim.clock.t += 60_000;
    const lagged = feed(await d.sampleHealth('o1', targets));
    expect(lagged.mine.every((s) => s.lossPct === 0)).toBe(true); // the loss is still inside the 2-minute lag
    sim.clock.t += 4 * 60_000;
    const bad = feed(await d.sampleHealth('o1', targets));
    expect(bad.mine.map((s) => s.lossPct)).toEqual([0, 45, 45, 45]);
    expect(bad.transitions.map((t) => t.to)).toEqual(['DOWN']);

    sim.setLoss('N_o1_0', 'london', null); // the MX stops reporting: no data is never good
    sim.clock.t += 10 * 60_000;
    const gap = feed(await d.sampleHealth('o1', targets));
    expect(gap.mine.some((s) => s.lossPct === null)).toBe(true);
    expect(state.health).toBe('DOWN');

    sim.setLoss('N_o1_0', 'london', 0);
    sim.clock.t += 4 * 60_000;
    expect(feed(await d.sampleHealth('o1', targets)).transitions).toEqual([]);
    sim.clock.t += 5 * 60_000;
    expect(feed(await d.sampleHealth('o1', targets)).transitions.map((t) => t.to)).toEqual(['UP']);
  });

  it('gives a hub marked trustedWithoutTracking a good sample where the branch does not track it', async () => {
    const org = generateOrganization({ id: 'o1', networks: 1 });
    (org.networks[0] as { trackedHubs?: string[] }).trackedHubs = ['london'];
    const sim = await start([org]);
    const d = director(sim, {
      orgs: [{ id: 'o1', hubs: [HUBS[0], { ...HUBS[1], trustedWithoutTracking: true }] }],
    });
    const paris = pathTarget('N_o1_0', 'paris');
    const samples = (await d.sampleHealth('o1', [paris])).filter((s) => s.target === paris);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ reachable: true, lossPct: 0 });
    const cpe = (await d.listCpes('o1')).find((c) => c.id === paris);
    expect(cpe?.metadata.MERAKI_TRUSTED_WITHOUT_TRACKING).toBe('true');
  });

  it('re-tags many networks through action batches of at most 100, never more than 5 running', async () => {
    const org = generateOrganization({ id: 'o1', networks: 730 });
    const sim = await start([org], { batchCompletionDelayMs: 30 });
    const d = director(sim);
    const changes = org.networks.map((n) => ({ networkId: n.id, hub: 'paris' }));
    const report = await d.retagMany('o1', changes);
    expect(report.failed).toEqual([]);
    expect(report.changed).toHaveLength(730);
    expect(report.batches.map((b) => b.actions)).toEqual(expect.arrayContaining([100, 30]));
    expect(report.batches).toHaveLength(8);
    expect(org.networks.every((n) => sim.tunnelHub(n.id) === 'paris')).toBe(true);
    expect(sim.network('N_o1_0')?.tags).toContain('london_primary_up_old'); // look-alike untouched
    expect(sim.log.filter((e) => e.status === 400)).toEqual([]); // never over the 5-running limit
    const again = await d.retagMany('o1', changes);
    expect(again.unchanged).toHaveLength(730);
    expect(again.batches).toEqual([]);
  });

  it('retries a failed batch, and isolates and reports a network whose change keeps failing', async () => {
    const org = generateOrganization({ id: 'o1', networks: 40 });
    const sim = await start([org], { batchCompletionDelayMs: 5 });
    const d = director(sim, { batches: { firstPollMs: 2, pollIntervalMs: 2, size: 20 } });
    sim.failBatches({ count: 1, networkIds: ['N_o1_33'], message: 'Network is locked' });
    const report = await d.retagMany(
      'o1',
      org.networks.map((n) => ({ networkId: n.id, hub: 'paris' })),
    );
    expect(report.failed).toEqual([
      { networkId: 'N_o1_33', reason: expect.stringContaining('Network is locked') },
    ]);
    expect(report.changed).toHaveLength(39);
    expect(report.batches.filter((b) => b.failed).length).toBeGreaterThanOrEqual(2);
    expect(sim.tunnelHub('N_o1_33')).toBe('london'); // atomic batches: nothing half-applied
    expect(sim.tunnelHub('N_o1_32')).toBe('paris');
  });

  describe('a redirect to another host (a shard, or anything else)', () => {
    let front: Server;
    let frontUrl: string;
    const frontRequests: string[] = [];
    /** A Dashboard front door that sends every request on to the simulator (the "shard"). */
    const startFront = async (sim: MerakiSimulator, status: number) => {
      frontRequests.length = 0;
      front = createServer((req, res) => {
        frontRequests.push(`${req.method} ${req.url}`);
        res.writeHead(status, { location: `${new URL(sim.baseUrl).origin}${req.url}` });
        res.end();
      });
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
      frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}/api/v1`;
    };
    afterEach(async () => {
      await new Promise<void>((resolve) => front.close(() => resolve()));
    });
    const viaFront = (sim: MerakiSimulator, redirectHosts?: string[]) =>
      createMerakiDirector({
        config: {
          kind: 'meraki',
          baseUrl: frontUrl,
          secretName: 'meraki/api-key',
          organizations: [{ id: 'o1', hubs: HUBS }] as never,
          ...(redirectHosts ? { redirectHosts } : {}),
        },
        apiKey: async () => sim.apiKey,
        rateLimit: { requestsPerSecond: 400, burst: 40 },
        buckets: new Map<string, TokenBucket>(),
        perPage: 4,
      });

    it.each([301, 302, 307, 308])(
      'HTTP %i to a host outside the allow-list: a named error, and the key never reaches it',
      async (status) => {
        const sim = await start([generateOrganization({ id: 'o1', networks: 6 })]);
        await startFront(sim, status);
        // A base that is not one of Meraki's regional ones has no redirect hosts by default.
        const err = await viaFront(sim)
          .listNetworks('o1')
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DirectorRequestError);
        expect((err as Error).message).toContain(`refusing to call ${new URL(sim.baseUrl).origin}`);
        expect((err as Error).message).toContain('redirectHosts: none');
        expect((err as Error).message).not.toContain(sim.apiKey);
        expect(sim.log).toEqual([]); // not one request, so no key header, reached the other host
        expect(frontRequests).toHaveLength(1);
      },
    );

    it('to an allowed host: followed with the key, and every page is read from there', async () => {
      const org = generateOrganization({ id: 'o1', networks: 11, bystanders: 3 });
      const sim = await start([org]);
      await startFront(sim, 308);
      expect(await viaFront(sim, ['127.0.0.1']).listNetworks('o1')).toHaveLength(14);
      expect(frontRequests).toEqual(['GET /api/v1/organizations/o1/networks?perPage=4']);
      const pages = sim.log.filter((e) => e.path === '/organizations/o1/networks');
      expect(pages).toHaveLength(4);
      expect(pages.every((e) => e.status === 200 && e.headers.authorization === '<redacted>')).toBe(true);
    });

    it('a redirectHosts entry that is not a host pattern is a ConfigError naming it', () => {
      expect(() =>
        createMerakiDirector({
          config: {
            kind: 'meraki',
            secretName: 'meraki/api-key',
            organizations: [{ id: 'o1', hubs: HUBS }] as never,
            redirectHosts: ['https://evil.example/'],
          },
          apiKey: async () => 'k',
        }),
      ).toThrow(/redirectHosts\.0="https:\/\/evil\.example\/"/);
    });
  });

  it('stays under the organization limit on its own, and rides out a 429 storm from other callers', async () => {
    const org = generateOrganization({ id: 'o1', networks: 10 });
    // Meraki's shape scaled up: a burst of twice the rate per second on top of the rate.
    const sim = await start([org], { rateLimit: { requestsPerSecond: 50, burst: 20 } });
    const polite = director(sim, { rateLimit: { requestsPerSecond: 40, burst: 5 }, perPage: 3 });
    await Promise.all(Array.from({ length: 15 }, () => polite.listNetworks('o1')));
    expect(sim.stats().http429).toBe(0);

    // Three more "Lambdas", each with its own bucket at the full rate: together over budget.
    const greedy = [1, 2, 3].map(() =>
      director(sim, { rateLimit: { requestsPerSecond: 50, burst: 10 }, perPage: 3 }),
    );
    const lists = await Promise.all(
      greedy.flatMap((g) => Array.from({ length: 8 }, () => g.listNetworks('o1'))),
    );
    expect(lists.every((l) => l.length === 10)).toBe(true);
    const stats = sim.stats();
    expect(stats.http429).toBeGreaterThan(0);
    expect(sim.log.find((e) => e.status === 429)?.responseHeaders['retry-after']).toMatch(/^\d+$/);
    expect(sim.log.find((e) => e.status === 429)?.responseBody).toEqual({ errors: [expect.any(String)] });
  });

  it('gives up on endless 429s with RateLimitedError', async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 3 })]);
    sim.failRequests({ count: 100, status: 429 });
    const d = director(sim, { retries: 2 });
    await expect(d.listNetworks('o1')).rejects.toThrow(RateLimitedError);
  });

  it('keeps two organizations apart: own networks, own hubs, own buckets', async () => {
    const a = generateOrganization({ id: 'oa', networks: 3 });
    const hubsB = [
      { name: 'ny', tagPrefix: 'ny', trackedIp: '203.0.113.1' },
      { name: 'sf', tagPrefix: 'sf', trackedIp: '203.0.113.2' },
      { name: 'dal', tagPrefix: 'dal', trackedIp: '203.0.113.3' },
    ];
    const b = generateOrganization({ id: 'ob', networks: 2, hubs: hubsB });
    const sim = await start([a, b]);
    const buckets = new Map<string, TokenBucket>();
    const d = director(sim, {
      buckets,
      orgs: [
        { id: 'oa', hubs: HUBS },
        { id: 'ob', hubs: hubsB },
      ],
    });
    expect((await d.listBranches('oa')).map((n) => n.currentHub)).toEqual(['london', 'london', 'london']);
    expect((await d.listBranches('ob')).map((n) => n.currentHub)).toEqual(['ny', 'ny']);
    await d.retagOne('ob', 'N_ob_1', 'dal');
    expect(sim.network('N_ob_1')?.tags).toEqual([
      'branch',
      'ny_primary_down',
      'sf_backup_down',
      'dal_backup2_up',
      'region-1',
    ]);
    expect(sim.network('N_oa_1')?.tags).toContain('london_primary_up');
    expect([...buckets.keys()].sort()).toEqual([`${sim.baseUrl}|oa`, `${sim.baseUrl}|ob`]);
    await expect(d.retagOne('oa', 'N_oa_1', 'dal')).rejects.toThrow(/hub.*"dal".*"london", "paris"/);
  });

  it('names the organization on 401, 403 and 404', async () => {
    const org = { ...generateOrganization({ id: 'o1', networks: 1 }), apiKeys: ['other-key'] };
    const sim = await start([org], { apiKeys: ['sim-meraki-key', 'other-key'] });
    await expect(director(sim).listNetworks('o1')).rejects.toThrow(DirectorAuthError);
    await expect(director(sim).listNetworks('o1')).rejects.toThrow(/HTTP 403.*o1/);
    const wrong = director(sim, { apiKey: async () => 'nope' });
    await expect(wrong.listNetworks('o1')).rejects.toThrow(/HTTP 401.*o1/);
    const missing = director(sim, { orgs: [{ id: 'gone', hubs: HUBS }] });
    await expect(missing.listNetworks('gone')).rejects.toThrow(NotFoundError);
    await expect(missing.listNetworks('gone')).rejects.toThrow(/organization "gone" not found/);
    expect((await missing.health()).healthy).toBe(false);
    const bearer = director(sim, { apiKey: async () => 'other-key', bearer: true });
    expect(await bearer.listNetworks('o1')).toHaveLength(1);
    expect((await bearer.health()).healthy).toBe(true);
  });
});

describe('Meraki configuration errors name the field and the value', () => {
  const base = { kind: 'meraki', secretName: 's', baseUrl: 'http://127.0.0.1:9/api/v1' };
  const make = (config: unknown) => () =>
    createMerakiDirector({ config: config as never, apiKey: async () => 'k' });

  it('rejects a tag prefix with spaces', () => {
    const bad = make({
      ...base,
      organizations: [{ id: 'o1', hubs: [HUBS[0], { ...HUBS[1], tagPrefix: 'paris dc' }] }],
    });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/organizations\.0\.hubs\.1\.tagPrefix="paris dc"/);
  });

  it('rejects a configuration without organizations, and duplicate hubs', () => {
    expect(make({ ...base, organizations: [] })).toThrow(/organizations=\[\]/);
    expect(make({ ...base, organizations: [{ id: 'o1', hubs: [HUBS[0], HUBS[0]] }] })).toThrow(
      /organizations\.0\.hubs\.1\.name="london": expected a hub name used once/,
    );
  });

  it('rejects calls for an organization that is not configured, and unknown hubs, changing nothing', async () => {
    const d = make({ ...base, organizations: [{ id: 'o1', hubs: HUBS }] })();
    await expect(d.listCpes('o2')).rejects.toThrow(ValidationError);
    await expect(d.listCpes('o2')).rejects.toThrow(
      /tenantId="o2": expected one of the configured organizations "o1"/,
    );
    await expect(d.retagMany('o1', [{ networkId: 'N', hub: 'berlin' }])).rejects.toThrow(
      /changes\.0\.hub="berlin"/,
    );
  });
});
