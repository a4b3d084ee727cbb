/**
 * How the adapter identifies itself, as the Meraki simulator sees it over real HTTP: the
 * documented `Authorization: Bearer` header only, and `User-Agent: cpe-failover/<version>
 * <vendor>`.
 */
import { createMerakiDirector, type MerakiDirectorOptions } from '../../../shared/director/meraki/adapter.js';
import { CONTROLLER_VERSION } from '../../../shared/director/user-agent.js';
import { fakeClock } from '../../unit/director/http-fakes.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';

describe('the adapter identifies itself as Meraki asks', () => {
  let sim: MerakiSimulator;
  beforeAll(async () => {
    sim = await createMerakiSimulator({
      organizations: [generateOrganization({ id: 'o1', networks: 7 })],
      rateLimit: false,
    });
  });
  afterAll(() => sim.close());

  /** An adapter on the simulator's organization o1 (the simulator's key unless `options` say). */
  const adapter = (
    options: Omit<MerakiDirectorOptions, 'config'> = {},
    config: Partial<MerakiDirectorOptions['config']> = {},
  ) =>
    createMerakiDirector({
      config: {
        kind: 'meraki',
        baseUrl: sim.baseUrl,
        secretName: 'unused',
        organizations: [{ id: 'o1', hubs: [...DEFAULT_SIM_HUBS] }],
        ...config,
      },
      apiKey: async () => sim.apiKey,
      ...options,
    });

  it('every request carries Authorization: Bearer and the User-Agent, never X-Cisco-Meraki-API-Key', async () => {
    const director = adapter({ perPage: 3 }, { vendor: 'acme-msp' });
    expect(await director.listNetworks('o1')).toHaveLength(7);
    const seen = sim.log.filter((e) => e.path.startsWith('/organizations/o1'));
    expect(seen.length).toBeGreaterThanOrEqual(3); // every page
    for (const e of seen) {
      expect(e.status).toBe(200);
      expect(e.headers.authorization).toBe('<redacted>');
      expect(e.headers).not.toHaveProperty('x-cisco-meraki-api-key');
      expect(e.headers['user-agent']).toBe(`cpe-failover/${CONTROLLER_VERSION} acme-msp`);
    }
    // The key itself never reaches the log.
    expect(JSON.stringify(sim.log)).not.toContain(sim.apiKey);
  });

  it('a wrong key is refused with Bearer as well (the simulator checks the header it gets)', async () => {
    const director = adapter({ apiKey: async () => 'not-the-key' });
    await expect(director.listNetworks('o1')).rejects.toThrow(/refused the credentials \(HTTP 401\)/);
  });

  it('a 429 without Retry-After is waited out as the SDK does (1–60 s), then the call succeeds', async () => {
    const clock = fakeClock();
    let refused = 0;
    const director = adapter({
      clock,
      random: () => 0.25,
      // A front that refuses the first request with a bare 429, as a proxy in the way might.
      fetch: async (input, init) => {
        if (refused++ === 0) {
          return new Response(JSON.stringify({ errors: ['Too many requests'] }), {
            status: 429,
            headers: { 'content-type': 'application/json' },
          });
        }
        return globalThis.fetch(input, init);
      },
    });
    expect(await director.listNetworks('o1')).toHaveLength(7);
    expect(clock.sleeps).toContain(1_000 + 0.25 * 59_000);
  });
});
