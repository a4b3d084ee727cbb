/**
 * A parsed Meraki fault script applied to the real Meraki simulator (in-process, no socket, on a
 * clock the test moves): each step changes what the Dashboard shows, and `heal` undoes them all.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MERAKI_SANDBOX_ORG } from '../../../local/sandbox/meraki-org.js';
import { applyMerakiFault, parseMerakiFaultScript } from '../../../local/sandbox/meraki-faults.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';

let sim: MerakiSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function world(): Promise<{ sim: MerakiSimulator; clock: { t: number } }> {
  const clock = { t: Date.UTC(2026, 0, 1, 12) };
  sim = await createMerakiSimulator({
    organizations: [MERAKI_SANDBOX_ORG],
    listen: false,
    now: () => clock.t,
    monotonicNow: () => clock.t,
    rateLimit: false,
  });
  return { sim, clock };
}

const apply = (s: MerakiSimulator, text: string) => {
  for (const step of parseMerakiFaultScript(text, MERAKI_SANDBOX_ORG))
    applyMerakiFault(s, step, MERAKI_SANDBOX_ORG);
};

async function get(s: MerakiSimulator, path: string): Promise<{ status: number; body: unknown }> {
  const r = await s.dispatch({
    method: 'GET',
    url: new URL(`${s.baseUrl}${path}`),
    headers: { authorization: `Bearer ${s.apiKey}` },
  });
  return { status: r.status, body: JSON.parse(r.text) as unknown };
}

describe('Meraki fault steps on the simulator', () => {
  it('hub-down makes every branch lose that hub; hub-up brings it back', async () => {
    const { sim: s, clock } = await world();
    expect(s.reachableHub('N_1')).toBe('london');
    apply(s, '0s hub-down london');
    clock.t += 1000;
    expect(['N_1', 'N_2', 'N_3'].map((n) => s.reachableHub(n))).toEqual([undefined, undefined, undefined]);
    apply(s, '0s hub-up london');
    clock.t += 1000;
    expect(s.reachableHub('N_2')).toBe('london');
  });

  it('uplink-down moves the VPN to the next uplink after the failover delay; uplink-up returns it', async () => {
    const { sim: s, clock } = await world();
    expect(s.activeUplink('N_1')).toBe('wan1');
    apply(s, '0s uplink-down N_1 wan1');
    clock.t += 60_000;
    expect(s.activeUplink('N_1')).toBe('wan2');
    apply(s, '0s uplink-up N_1 wan1');
    clock.t += 60_000;
    expect(s.activeUplink('N_1')).toBe('wan1');
  });

  it('tunnel-down: the tags still point at the hub but the branch does not reach it', async () => {
    const { sim: s, clock } = await world();
    apply(s, '0s tunnel-down N_2 london');
    clock.t += 1000;
    expect([s.tunnelHub('N_2'), s.reachableHub('N_2')]).toEqual(['london', undefined]);
    apply(s, '0s heal');
    clock.t += 60_000;
    expect(s.reachableHub('N_2')).toBe('london');
  });

  it('tag edits keep the other tags in place', async () => {
    const { sim: s } = await world();
    apply(s, '0s tag-add N_3 maintenance; 1s tag-remove N_3 branch');
    expect(s.network('N_3')?.tags).toEqual(['london_primary_up', 'paris_backup_down', 'maintenance']);
  });

  it('dashboard 5xx and 429 answer the next requests so, 429 with Retry-After; heal ends a storm', async () => {
    const { sim: s, clock } = await world();
    const path = `/organizations/${MERAKI_SANDBOX_ORG.id}/networks`;
    apply(s, '0s dashboard 5xx 2');
    expect([(await get(s, path)).status, (await get(s, path)).status, (await get(s, path)).status]).toEqual([
      503, 503, 200,
    ]);
    apply(s, '0s dashboard 429 1');
    const r = await s.dispatch({
      method: 'GET',
      url: new URL(`${s.baseUrl}${path}`),
      headers: { authorization: `Bearer ${s.apiKey}` },
    });
    expect([r.status, r.headers['retry-after']]).toEqual([429, expect.stringMatching(/^\d+$/)]);
    apply(s, '0s dashboard storm 2m');
    clock.t += 60_000;
    expect((await get(s, path)).status).toBe(429);
    apply(s, '0s heal');
    expect((await get(s, path)).status).toBe(200);
  });

  it("loss on one path shows in that path's series only", async () => {
    const { sim: s, clock } = await world();
    apply(s, '0s loss N_1 london 45');
    clock.t += 10 * 60_000;
    const { body } = await get(
      s,
      `/organizations/${MERAKI_SANDBOX_ORG.id}/devices/uplinksLossAndLatency?timespan=120&uplink=wan1`,
    );
    const series = body as { networkId: string; ip: string; timeSeries: { lossPercent: number | null }[] }[];
    const of = (networkId: string, ip: string) =>
      series.find((x) => x.networkId === networkId && x.ip === ip)?.timeSeries.map((p) => p.lossPercent);
    expect(of('N_1', '198.51.100.1')).toEqual([45, 45]);
    expect(of('N_1', '198.51.100.2')).toEqual([0, 0]);
    expect(of('N_2', '198.51.100.1')).toEqual([0, 0]);
  });
});
