import { jest } from '@jest/globals';
import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';

jest.setTimeout(60_000);

describe('Meraki simulator: Meraki behaviour seen over raw HTTP', () => {
  let sim: MerakiSimulator;
  const org = generateOrganization({ id: 'o1', networks: 7 });
  beforeEach(async () => {
    sim = await createMerakiSimulator({
      organizations: [org],
      batchCompletionDelayMs: 60_000,
      rateLimit: { requestsPerSecond: 0.5, burst: 3 },
    });
  });
  afterEach(async () => sim.close());

  const call = (path: string, init: RequestInit = {}, key: string | null = sim.apiKey) =>
    fetch(`${sim.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(key ? { 'X-Cisco-Meraki-API-Key': key } : {}) },
    });
  const batch = (n: number) => ({
    confirmed: true,
    actions: Array.from({ length: n }, () => ({
      resource: '/networks/N_o1_0',
      operation: 'update',
      body: { tags: ['a'] },
    })),
  });

  it('answers 401 without a valid key, with Meraki error bodies', async () => {
    const res = await call('/organizations/o1/networks', {}, null);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errors: ['Invalid API key'] });
    const bearer = await fetch(`${sim.baseUrl}/networks/N_o1_0`, {
      headers: { authorization: `Bearer ${sim.apiKey}` },
    });
    expect(bearer.status).toBe(200);
  });

  it('limits each organization with a token bucket and answers 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('/networks/N_o1_1')).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses).toContain(429);
    const limited = sim.log.find((e) => e.status === 429);
    expect(Number(limited?.responseHeaders['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(sim.stats().http429).toBeGreaterThan(0);
  });

  it('pages networks with Link headers and rejects a bad timespan', async () => {
    sim.setRateLimit(false);
    const first = await call('/organizations/o1/networks?perPage=3');
    expect(((await first.json()) as unknown[]).length).toBe(3);
    const next = /<([^>]+)>; rel=next/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toContain('startingAfter=N_o1_2');
    const bad = await call('/organizations/o1/devices/uplinksLossAndLatency?timespan=301');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: string[] }).errors[0]).toMatch(/timespan/);
  });

  it('takes at most 100 actions per batch and at most 5 running batches per organization', async () => {
    sim.setRateLimit(false);
    expect(
      (await call('/organizations/o1/actionBatches', { method: 'POST', body: JSON.stringify(batch(101)) }))
        .status,
    ).toBe(400);
    for (let i = 0; i < 5; i++) {
      const res = await call('/organizations/o1/actionBatches', {
        method: 'POST',
        body: JSON.stringify(batch(100)),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { status: { completed: boolean } }).status.completed).toBe(false);
    }
    const sixth = await call('/organizations/o1/actionBatches', {
      method: 'POST',
      body: JSON.stringify(batch(1)),
    });
    expect(sixth.status).toBe(400);
    expect(((await sixth.json()) as { errors: string[] }).errors[0]).toMatch(
      /concurrently executing batches/,
    );
    expect(sim.network('N_o1_0')?.tags).not.toEqual(['a']); // nothing applied before completion
  });
});
