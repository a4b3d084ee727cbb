import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';
import { clockedSim, type ClockedSim } from './simulator-helpers.js';

describe('Meraki simulator limits: per organization, per source IP, Retry-After on every 429, request times', () => {
  let c: ClockedSim;
  afterEach(async () => c.sim.close());

  const statusOf = async (path: string) => {
    const r = await c.call(path);
    return {
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: r.body as { errors?: string[] },
    };
  };

  it("Meraki's defaults: 10/s per organization with a burst of 20, then 429 with Retry-After", async () => {
    c = await clockedSim([generateOrganization({ id: 'o1', networks: 3 })], { rateLimit: undefined });
    const answers = [];
    for (let i = 0; i < 21; i++) answers.push(await statusOf('/networks/N_o1_0'));
    expect(answers.slice(0, 20).every((a) => a.status === 200)).toBe(true);
    expect(answers[20]).toMatchObject({ status: 429, retryAfter: '1' });
    expect(answers[20]?.body.errors?.[0]).toMatch(/rate limit exceeded for organization/);
    c.advance(1_000);
    expect((await statusOf('/networks/N_o1_0')).status).toBe(200);
  });

  it('100/s per source IP across organizations (socket address; dispatch takes sourceIp)', async () => {
    const orgs = ['o1', 'o2'].map((id) => generateOrganization({ id, networks: 3 }));
    c = await clockedSim(orgs, {
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      ipRateLimit: { requestsPerSecond: 5, burst: 5 },
    });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await statusOf(`/networks/N_o${(i % 2) + 1}_0`));
    expect(statuses.slice(0, 5).map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toMatchObject({ status: 429, retryAfter: '1' });
    expect(statuses[5]?.body.errors?.[0]).toMatch(/source IP 127\.0\.0\.1/);
    const other = await c.sim.dispatch({
      method: 'GET',
      url: new URL(`${c.sim.baseUrl}/networks/N_o1_1`),
      headers: { authorization: `Bearer ${c.sim.apiKey}` },
      sourceIp: '192.0.2.77',
    });
    expect(other.status).toBe(200);
    c.advance(200);
    expect((await statusOf('/networks/N_o1_1')).status).toBe(200);
  });

  it('injected 429s (counted, or a storm for a while) and 5xx for a while; every 429 has Retry-After', async () => {
    c = await clockedSim();
    c.sim.failRequests({ status: 429, count: 2 });
    expect(await statusOf('/networks/N_o1_0')).toMatchObject({ status: 429, retryAfter: '1' });
    expect((await statusOf('/networks/N_o1_0')).status).toBe(429);
    expect((await statusOf('/networks/N_o1_0')).status).toBe(200);
    c.sim.storm429({ forMs: 5_000, retryAfterSec: 3 });
    expect(await statusOf('/organizations/o1/networks')).toMatchObject({ status: 429, retryAfter: '3' });
    c.advance(4_999);
    expect((await statusOf('/organizations/o1/appliance/vpn/statuses')).status).toBe(429);
    c.advance(1);
    expect((await statusOf('/organizations/o1/appliance/vpn/statuses')).status).toBe(200);
    c.sim.failRequests({ status: 503, forMs: 2_000, pathPrefix: '/organizations/o1/devices' });
    expect((await statusOf('/organizations/o1/devices/uplinksLossAndLatency')).status).toBe(503);
    expect((await statusOf('/networks/N_o1_0')).status).toBe(200);
    c.advance(2_000);
    expect((await statusOf('/organizations/o1/devices/uplinksLossAndLatency')).status).toBe(200);
    const limited = c.sim.log.filter((e) => e.status === 429);
    expect(limited.length).toBe(4);
    expect(limited.every((e) => /^\d+$/.test(e.responseHeaders['retry-after'] ?? ''))).toBe(true);
    expect(() => c.sim.failRequests({ status: 302, count: 1 })).toThrow(/status=302/);
  });

  it("records every organization request's time; the busiest window counts 429s too", async () => {
    c = await clockedSim([generateOrganization({ id: 'o1', networks: 3 })], {
      rateLimit: { requestsPerSecond: 2, burst: 3 },
    });
    const t0 = c.now();
    for (const step of [0, 100, 100, 100, 100, 900, 100]) {
      c.advance(step);
      await c.call('/organizations/o1/networks');
    }
    expect(c.sim.requestTimes('o1').map((t) => t - t0)).toEqual([0, 100, 200, 300, 400, 1300, 1400]);
    expect(c.sim.maxRequestsInWindow('o1')).toBe(5);
    expect(c.sim.maxRequestsInWindow('o1', 200)).toBe(2);
    expect(c.sim.requestTimes('nobody')).toEqual([]);
    expect(c.sim.stats().http429).toBeGreaterThan(0);
  });
});

describe('Meraki simulator limits with real clocks', () => {
  let sim: MerakiSimulator;
  afterEach(async () => sim.close());

  it('a tuned per-organization rate leaves the per-IP limit off unless asked', async () => {
    sim = await createMerakiSimulator({
      organizations: [generateOrganization({ id: 'o1', networks: 3 })],
      rateLimit: { requestsPerSecond: 1000, burst: 200 },
    });
    const statuses = await Promise.all(
      Array.from({ length: 120 }, () =>
        fetch(`${sim.baseUrl}/networks/N_o1_0`, { headers: { authorization: `Bearer ${sim.apiKey}` } }).then(
          (r) => r.status,
        ),
      ),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
