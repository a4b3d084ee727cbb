/**
 * The Meraki simulator's exchange log: kept by default, and neither kept nor built with
 * `maxLog: 0` (the checker), with the same answers.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MERAKI_SANDBOX_ORG } from '../../../local/sandbox/meraki-org.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';

const sims: MerakiSimulator[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
});

async function simulator(maxLog?: number): Promise<MerakiSimulator> {
  const t = Date.UTC(2026, 0, 1, 12);
  const s = await createMerakiSimulator({
    organizations: [MERAKI_SANDBOX_ORG],
    listen: false,
    now: () => t,
    monotonicNow: () => t,
    rateLimit: false,
    ...(maxLog === undefined ? {} : { maxLog }),
  });
  sims.push(s);
  return s;
}

const networks = (s: MerakiSimulator) =>
  s.dispatch({
    method: 'GET',
    url: new URL(`${s.baseUrl}/organizations/${MERAKI_SANDBOX_ORG.id}/networks`),
    headers: { authorization: `Bearer ${s.apiKey}` },
  });

describe('Meraki simulator log', () => {
  it('logs each exchange by default; maxLog 0 logs none and answers the same', async () => {
    const logged = await simulator();
    const a = await networks(logged);
    expect(a.status).toBe(200);
    expect(logged.log.map((e) => [e.method, e.status, e.organizationId])).toEqual([
      ['GET', 200, MERAKI_SANDBOX_ORG.id],
    ]);

    const quiet = await simulator(0);
    const b = await networks(quiet);
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(quiet.log).toEqual([]);
  });
});
