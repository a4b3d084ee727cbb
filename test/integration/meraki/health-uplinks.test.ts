/**
 * Health on the uplink the VPN runs over, against the Meraki simulator over HTTP: each path's
 * points come from its network's active uplink (uplink statuses), not the best of all uplinks.
 */
import { jest } from '@jest/globals';
import { applySamples, initialHealthState } from '../../../shared/domain/health.js';
import { DEFAULT_HEALTH_CONFIG, type Sample } from '../../../shared/domain/model.js';
import { pathTarget } from '../../../shared/director/meraki/adapter.js';
import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { adapterOn, requestsTo, startSim, type TestSim } from './health-fixtures.js';

jest.setTimeout(60_000);

const N0 = 'N_o1_0';
const N1 = 'N_o1_1';
const TARGETS = [N0, N1].flatMap((n) => [pathTarget(n, 'london'), pathTarget(n, 'paris')]);
const lossOf = (samples: Sample[], target: string) =>
  samples.filter((s) => s.target === target).map((s) => s.lossPct);

describe('Meraki health on the uplink the VPN runs over', () => {
  const sims: TestSim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const start = async (...args: Parameters<typeof startSim>) => {
    const sim = await startSim(...args);
    sims.push(sim);
    return sim;
  };

  it('loss on wan1 while wan2 is clean makes the path DOWN (the clean standby no longer hides it)', async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 2 })]);
    const { d } = adapterOn(sim);
    await d.sampleHealth('o1', TARGETS); // the first window: clean
    sim.setUplinkLoss(N0, 'wan1', 60);
    sim.clock.t += 6 * 60_000; // past the 2-minute lag: 4 lossy minutes
    const samples = await d.sampleHealth('o1', TARGETS);
    const london = pathTarget(N0, 'london');
    expect(lossOf(samples, london).filter((l) => l === 60).length).toBeGreaterThanOrEqual(3);
    expect(lossOf(samples, pathTarget(N1, 'london')).every((l) => l === 0)).toBe(true);
    // wan2 answered clean for the same minutes: the best over all uplinks would have hidden it.
    const loss = requestsTo(sim, 'devices/uplinksLossAndLatency').at(-1)?.responseBody as {
      networkId: string;
      uplink: string;
      ip: string;
      timeSeries: { lossPercent: number | null }[];
    }[];
    const wan2 = loss.find((s) => s.networkId === N0 && s.uplink === 'wan2' && s.ip === '192.0.2.10');
    expect(wan2?.timeSeries.every((p) => p.lossPercent === 0)).toBe(true);
    const mine = samples.filter((s) => s.target === london);
    const r = applySamples(initialHealthState(), mine, { ...DEFAULT_HEALTH_CONFIG, failAfter: 3 });
    expect(r.state.health).toBe('DOWN');
    // One uplink-statuses read per loss call, asking for the sampled networks only.
    expect(requestsTo(sim, 'appliance/uplink/statuses')).toHaveLength(2);
    expect(requestsTo(sim, 'appliance/uplink/statuses')[0]?.query['networkIds[]']).toEqual([N0, N1]);
  });

  it('after an uplink switch-over the series followed is wan2, and back to wan1 when it heals', async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 2 })]);
    const { d } = adapterOn(sim);
    const london = pathTarget(N0, 'london');
    await d.sampleHealth('o1', TARGETS);
    sim.setUplinkDown(N0, 'wan1', true);
    sim.clock.t += 15_000; // past the MX's 10 s failover delay
    expect(sim.activeUplink(N0)).toBe('wan2');
    sim.setUplinkLoss(N0, 'wan2', 35);
    sim.clock.t += 6 * 60_000;
    const onWan2 = await d.sampleHealth('o1', TARGETS);
    // wan1's series is 100 % lost; the tunnels run over wan2 and its 35 % is what is sampled.
    expect(lossOf(onWan2, london).filter((l) => l === 35).length).toBeGreaterThanOrEqual(3);
    expect(lossOf(onWan2, london)).not.toContain(100);
    expect(lossOf(onWan2, pathTarget(N0, 'paris')).filter((l) => l === 35).length).toBeGreaterThanOrEqual(3);

    sim.setUplinkDown(N0, 'wan1', false);
    const healedAt = sim.clock.t;
    sim.clock.t += 6 * 60_000;
    expect(sim.activeUplink(N0)).toBe('wan1');
    const back = (await d.sampleHealth('o1', TARGETS)).filter((s) => s.target === london);
    // Each minute from the uplink that carried the VPN then: wan2 before the heal, wan1 after.
    expect(back.filter((s) => s.at > healedAt).map((s) => s.lossPct)).toEqual([0, 0, 0, 0]);
    const before = back.filter((s) => s.at <= healedAt).map((s) => s.lossPct);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((l) => l === 35)).toBe(true);
    expect(back.map((s) => s.lossPct)).not.toContain(100);
  });

  it('a malformed entry leaves out one network and is logged; the others are sampled', async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 3 })]);
    // The Dashboard's answers drift: N_o1_0's loss series has a bad timestamp, N_o1_1's uplink
    // statuses entry has no uplinks array.
    const { d, warnings } = adapterOn(sim, {
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        if (!/uplinksLossAndLatency|uplink\/statuses/.test(url)) return res;
        const body = (await res.json()) as Record<string, unknown>[];
        for (const e of body) {
          if (e.networkId === N0 && Array.isArray(e.timeSeries))
            (e.timeSeries[0] as { ts: string }).ts = 'yesterday';
          if (e.networkId === N1 && url.includes('uplink/statuses')) delete e.uplinks;
        }
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      },
    });
    const targets = ['N_o1_0', 'N_o1_1', 'N_o1_2'].map((n) => pathTarget(n, 'london'));
    const samples = await d.sampleHealth('o1', targets);
    expect([...new Set(samples.map((s) => s.target))]).toEqual([pathTarget('N_o1_2', 'london')]);
    expect(warnings.map((w) => [w.fields.networkId, w.fields.operation, w.fields.field])).toEqual(
      expect.arrayContaining([
        [
          N0,
          'GET /organizations/{organizationId}/devices/uplinksLossAndLatency',
          expect.stringMatching(/^\d+\.timeSeries\.0\.ts$/),
        ],
        [
          N1,
          'GET /organizations/{organizationId}/appliance/uplink/statuses',
          expect.stringMatching(/^\d+\.uplinks$/),
        ],
      ]),
    );
    expect(warnings.find((w) => w.fields.networkId === N0)?.fields.value).toBe('yesterday');
  });

  it("a point stamped after the Dashboard's own time (its Date) is left out and logged: it neither becomes the newest sample nor hides the next minutes", async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 2 })]);
    let skewed = true;
    let injected = 0;
    const { d, warnings } = adapterOn(sim, {
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const url = String(input instanceof Request ? input.url : input);
        if (!skewed || !url.includes('uplinksLossAndLatency')) return res;
        // The answer's Date is the simulator's clock; one point claims a bad minute an hour ahead.
        expect(Date.parse(res.headers.get('date') ?? '')).toBe(Math.floor(sim.clock.t / 1000) * 1000);
        const body = (await res.json()) as { networkId: string; timeSeries: Record<string, unknown>[] }[];
        for (const e of body)
          if (e.networkId === N0 && ++injected)
            e.timeSeries.push({
              ts: new Date(sim.clock.t + 3_600_000).toISOString(),
              lossPercent: 100,
              latencyMs: 1,
            });
        return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
      },
    });
    const london = pathTarget(N0, 'london');
    const first = await d.sampleHealth('o1', [london]);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((s) => s.at <= sim.clock.t && s.lossPct !== 100)).toBe(true);
    expect(
      warnings.filter(
        (w) =>
          w.fields.networkId === N0 &&
          /^\d+\.timeSeries\.\d+\.ts$/.test(String(w.fields.field)) &&
          String(w.fields.expected).startsWith("a time at or before the answer's own"),
      ),
    ).toHaveLength(injected); // each of N0's series (every uplink, every hub) carried one
    expect(injected).toBeGreaterThanOrEqual(2);
    skewed = false;
    const before = sim.clock.t;
    sim.clock.t += 3 * 60_000;
    // The next minutes are sampled: no point from the future made them older news.
    const next = await d.sampleHealth('o1', [london]);
    expect(next.filter((s) => s.at > before - 120_000).length).toBeGreaterThanOrEqual(2);
  });

  it('uplink statuses unreadable: a warning, each network on its last known uplink, else wan1', async () => {
    const sim = await start([generateOrganization({ id: 'o1', networks: 2 })]);
    const { d, warnings } = adapterOn(sim, { retries: 0 });
    sim.setUplinkDown(N0, 'wan1', true);
    sim.clock.t += 15_000;
    await d.sampleHealth('o1', [pathTarget(N0, 'london')]); // learns N_o1_0 on wan2
    sim.setUplinkLoss(N0, 'wan2', 20);
    sim.setUplinkLoss(N1, 'wan1', 40);
    sim.failRequests({
      status: 500,
      forMs: 60 * 60_000,
      pathPrefix: '/organizations/o1/appliance/uplink/statuses',
    });
    sim.clock.t += 6 * 60_000;
    const samples = await d.sampleHealth('o1', TARGETS);
    expect(warnings.map((w) => w.message)).toEqual([
      'Meraki uplink statuses unreadable: each network on its last known uplink, else wan1',
    ]);
    expect(warnings[0]?.fields).toMatchObject({ organizationId: 'o1', error: expect.stringMatching(/500/) });
    expect(lossOf(samples, pathTarget(N0, 'london'))).toContain(20); // last known: wan2
    expect(lossOf(samples, pathTarget(N1, 'london'))).toContain(40); // never seen: wan1
  });
});
