import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { serialOf } from '../../../local/simulator/meraki/server.js';
import { clockedSim, type ClockedSim } from './simulator-helpers.js';

interface Series {
  networkId: string;
  serial: string;
  uplink: string;
  ip: string;
  timeSeries: { ts: string; lossPercent: number | null; latencyMs: number | null }[];
}
interface UplinkStatus {
  networkId: string;
  serial: string;
  model: string;
  lastReportedAt: string;
  uplinks: { interface: string; status: string; ip: string; publicIp: string; gateway: string }[];
}
interface VpnStatus {
  networkId: string;
  networkName: string;
  deviceSerial: string;
  deviceStatus: string;
  uplinks: { interface: string; publicIp: string }[];
  vpnMode: string;
  exportedSubnets: { subnet: string; name: string }[];
  merakiVpnPeers: unknown[];
  thirdPartyVpnPeers: { name: string; publicIp: string; reachability: string }[];
}

const LONDON = '192.0.2.10';
const PARIS = '198.51.100.10';

describe('Meraki simulator reads: series per uplink, uplink statuses, VPN statuses, peers (raw HTTP)', () => {
  let c: ClockedSim;
  beforeEach(async () => {
    const org = generateOrganization({ id: 'o1', networks: 7 });
    (org.networks[2] as { uplinks?: string[] }).uplinks = ['wan1', 'wan2', 'cellular'];
    c = await clockedSim([org]);
  });
  afterEach(async () => c.sim.close());

  const series = async (query = ''): Promise<Series[]> => {
    const r = await c.call(`/organizations/o1/devices/uplinksLossAndLatency${query}`);
    expect(r.status).toBe(200);
    return r.body as Series[];
  };
  const lastLoss = (all: Series[], networkId: string, uplink: string, ip: string) =>
    all.find((s) => s.networkId === networkId && s.uplink === uplink && s.ip === ip)?.timeSeries.at(-1)
      ?.lossPercent;
  const vpn = async (query = ''): Promise<VpnStatus[]> => {
    const r = await c.call(`/organizations/o1/appliance/vpn/statuses${query}`);
    expect(r.status).toBe(200);
    return r.body as VpnStatus[];
  };
  const peersOf = async (networkId: string) =>
    (await vpn(`?networkIds[]=${networkId}`))[0]?.thirdPartyVpnPeers.map(
      (p) => `${p.name}:${p.reachability}`,
    );

  it('series: one per uplink and destination (each hub, then 8.8.8.8), filtered by uplink and ip', async () => {
    const all = await series();
    expect(all).toHaveLength(6 * 2 * 3 + 3 * 3);
    expect(all.filter((s) => s.networkId === 'N_o1_2').map((s) => `${s.uplink} ${s.ip}`)).toEqual([
      `wan1 ${LONDON}`,
      `wan1 ${PARIS}`,
      'wan1 8.8.8.8',
      `wan2 ${LONDON}`,
      `wan2 ${PARIS}`,
      'wan2 8.8.8.8',
      `cellular ${LONDON}`,
      `cellular ${PARIS}`,
      'cellular 8.8.8.8',
    ]);
    expect(all[0]?.serial).toBe(serialOf('N_o1_0'));
    expect(all[0]?.timeSeries).toHaveLength(5);
    expect((await series('?uplink=wan2')).every((s) => s.uplink === 'wan2')).toBe(true);
    expect(await series('?uplink=cellular')).toHaveLength(3);
    expect((await series('?ip=8.8.8.8')).map((s) => s.ip)).toEqual(Array(6 * 2 + 3).fill('8.8.8.8'));
    const bad = await c.call('/organizations/o1/devices/uplinksLossAndLatency?uplink=wan9');
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: string[] }).errors[0]).toMatch(/'uplink' must be one of .*"wan9"/);
  });

  it('series: a point is the worse of the path (every uplink) and the uplink (every destination), 2 minutes late', async () => {
    c.sim.setUplinkLoss('N_o1_0', 'wan1', 40);
    c.sim.setLoss('N_o1_0', 'london', 60);
    expect(lastLoss(await series(), 'N_o1_0', 'wan1', LONDON)).toBe(0); // not yet: the lag
    c.advance(3 * 60_000);
    const all = await series();
    expect(lastLoss(all, 'N_o1_0', 'wan1', LONDON)).toBe(60);
    expect(lastLoss(all, 'N_o1_0', 'wan1', PARIS)).toBe(40);
    expect(lastLoss(all, 'N_o1_0', 'wan1', '8.8.8.8')).toBe(40);
    expect(lastLoss(all, 'N_o1_0', 'wan2', LONDON)).toBe(60);
    expect(lastLoss(all, 'N_o1_0', 'wan2', PARIS)).toBe(0);
    expect(lastLoss(all, 'N_o1_0', 'wan2', '8.8.8.8')).toBe(0);
    expect(lastLoss(all, 'N_o1_1', 'wan1', LONDON)).toBe(0);
    c.sim.setUplinkDown('N_o1_1', 'wan2', true);
    c.advance(3 * 60_000);
    const down = (await series()).find(
      (s) => s.networkId === 'N_o1_1' && s.uplink === 'wan2' && s.ip === PARIS,
    );
    expect(down?.timeSeries.at(-1)).toMatchObject({ lossPercent: 100, latencyMs: null });
  });

  it('uplink statuses: every MX with its uplinks, paged 3–1000 with Link, filtered by networkIds[] and serials[]', async () => {
    const first = await c.call('/organizations/o1/appliance/uplink/statuses?perPage=3');
    expect(first.status).toBe(200);
    const page1 = first.body as UplinkStatus[];
    expect(page1.map((s) => s.networkId)).toEqual(['N_o1_0', 'N_o1_1', 'N_o1_2']);
    expect(page1[0]).toMatchObject({ serial: serialOf('N_o1_0'), model: expect.any(String) });
    expect(Date.parse(page1[0]?.lastReportedAt ?? '')).toBe(c.now());
    expect(page1[0]?.uplinks.map((u) => `${u.interface}:${u.status}`)).toEqual(['wan1:active', 'wan2:ready']);
    expect(page1[2]?.uplinks.map((u) => u.interface)).toEqual(['wan1', 'wan2', 'cellular']);
    expect(page1[0]?.uplinks[0]).toMatchObject({ ip: expect.any(String), publicIp: expect.any(String) });
    const ids: string[] = [];
    let next: string | undefined = '/organizations/o1/appliance/uplink/statuses?perPage=3';
    while (next) {
      const r = await c.call(next);
      ids.push(...(r.body as UplinkStatus[]).map((s) => s.networkId));
      next = /<([^>]+)>; rel=next/.exec(r.headers.get('link') ?? '')?.[1]?.slice(c.sim.baseUrl.length);
    }
    expect(ids).toEqual(Array.from({ length: 7 }, (_, i) => `N_o1_${i}`));
    const byNet = await c.call(
      '/organizations/o1/appliance/uplink/statuses?networkIds[]=N_o1_4&networkIds[]=N_o1_1',
    );
    expect((byNet.body as UplinkStatus[]).map((s) => s.networkId)).toEqual(['N_o1_1', 'N_o1_4']);
    const bySerial = await c.call(
      `/organizations/o1/appliance/uplink/statuses?serials[]=${serialOf('N_o1_5')}`,
    );
    expect((bySerial.body as UplinkStatus[]).map((s) => s.networkId)).toEqual(['N_o1_5']);
    const bad = await c.call('/organizations/o1/appliance/uplink/statuses?perPage=1001');
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: string[] }).errors[0]).toMatch(
      /'perPage' must be an integer from 3 to 1000/,
    );
  });

  it('the MX moves its VPN to wan2 uplinkFailoverMs after wan1 fails, and back as soon as wan1 is good', async () => {
    const statuses = async () =>
      (
        (await c.call('/organizations/o1/appliance/uplink/statuses?networkIds[]=N_o1_0'))
          .body as UplinkStatus[]
      )[0]?.uplinks.map((u) => `${u.interface}:${u.status}`);
    c.sim.setUplinkDown('N_o1_0', 'wan1', true);
    expect(await statuses()).toEqual(['wan1:not connected', 'wan2:ready']);
    expect(c.sim.activeUplink('N_o1_0')).toBe('wan1');
    c.advance(9_999);
    expect(c.sim.activeUplink('N_o1_0')).toBe('wan1');
    c.advance(1);
    expect(await statuses()).toEqual(['wan1:not connected', 'wan2:active']);
    c.sim.setUplinkDown('N_o1_0', 'wan1', false);
    expect(await statuses()).toEqual(['wan1:active', 'wan2:ready']);
    // 100 % loss fails an uplink too; a short failure that heals within the delay moves nothing.
    c.sim.setUplinkLoss('N_o1_0', 'wan1', 100);
    c.advance(5_000);
    c.sim.setUplinkLoss('N_o1_0', 'wan1', null);
    c.advance(20_000);
    expect(c.sim.activeUplink('N_o1_0')).toBe('wan1');
    c.sim.setUplinkLoss('N_o1_0', 'wan1', 100);
    c.advance(10_000);
    expect(c.sim.activeUplink('N_o1_0')).toBe('wan2');
    // Everything failed: it stays where it is.
    c.sim.setUplinkDown('N_o1_0', 'wan2', true);
    c.advance(60_000);
    expect(await statuses()).toEqual(['wan1:failed', 'wan2:not connected']);
    expect(c.sim.activeUplink('N_o1_0')).toBe('wan2');
  });

  it('VPN statuses: the shape, paged 3–300 with Link, filtered by networkIds[]', async () => {
    const all = await vpn();
    expect(all).toHaveLength(7);
    expect(all[0]).toEqual({
      networkId: 'N_o1_0',
      networkName: 'branch-0',
      deviceSerial: serialOf('N_o1_0'),
      deviceStatus: 'online',
      uplinks: [
        { interface: 'wan1', publicIp: expect.any(String) },
        { interface: 'wan2', publicIp: expect.any(String) },
      ],
      vpnMode: 'spoke',
      exportedSubnets: [{ subnet: expect.any(String), name: expect.any(String) }],
      merakiVpnPeers: [],
      thirdPartyVpnPeers: [{ name: 'london', publicIp: LONDON, reachability: 'reachable' }],
    });
    const first = await c.call('/organizations/o1/appliance/vpn/statuses?perPage=3');
    expect((first.body as VpnStatus[]).map((s) => s.networkId)).toEqual(['N_o1_0', 'N_o1_1', 'N_o1_2']);
    const link = first.headers.get('link') ?? '';
    expect(link).toMatch(/rel=first/);
    expect(link).toMatch(/startingAfter=N_o1_2[^>]*>; rel=next/);
    const next = /<([^>]+)>; rel=next/.exec(link)?.[1]?.slice(c.sim.baseUrl.length) ?? '';
    const second = await c.call(next);
    expect((second.body as VpnStatus[]).map((s) => s.networkId)).toEqual(['N_o1_3', 'N_o1_4', 'N_o1_5']);
    expect(second.headers.get('link')).toMatch(/endingBefore=N_o1_3[^>]*>; rel=prev/);
    expect((await vpn('?networkIds[]=N_o1_6&networkIds[]=N_o1_1')).map((s) => s.networkId)).toEqual([
      'N_o1_1',
      'N_o1_6',
    ]);
    for (const perPage of [2, 301]) {
      const bad = await c.call(`/organizations/o1/appliance/vpn/statuses?perPage=${perPage}`);
      expect(bad.status).toBe(400);
      expect((bad.body as { errors: string[] }).errors[0]).toMatch(
        /'perPage' must be an integer from 3 to 300/,
      );
    }
  });

  it('reachability follows the tags after tunnelSettleMs; hub loss, a down hub and a broken tunnel break it', async () => {
    expect(c.sim.reachableHub('N_o1_0')).toBe('london');
    c.sim.setTags('N_o1_0', ['branch', 'london_primary_down', 'paris_backup_up']);
    expect(c.sim.tunnelHub('N_o1_0')).toBe('paris');
    expect(await peersOf('N_o1_0')).toEqual(['paris:unreachable']);
    expect(c.sim.reachableHub('N_o1_0')).toBeUndefined();
    c.advance(4_999);
    expect(c.sim.reachableHub('N_o1_0')).toBeUndefined();
    c.advance(1);
    expect(await peersOf('N_o1_0')).toEqual(['paris:reachable']);
    expect(c.sim.reachableHub('N_o1_0')).toBe('paris');
    c.sim.setLoss('N_o1_0', 'paris', 100);
    expect(await peersOf('N_o1_0')).toEqual(['paris:unreachable']);
    c.sim.setLoss('N_o1_0', 'paris', 45); // lossy, but the tunnel is up
    expect(await peersOf('N_o1_0')).toEqual(['paris:reachable']);
    c.sim.setHubDown('o1', 'paris', true);
    expect(await peersOf('N_o1_0')).toEqual(['paris:unreachable']);
    expect(await peersOf('N_o1_1')).toEqual(['london:reachable']);
    c.sim.setHubDown('o1', 'paris', false);
    c.sim.breakTunnel('N_o1_0', 'paris', true);
    expect(await peersOf('N_o1_0')).toEqual(['paris:unreachable']);
    expect(c.sim.tunnelHub('N_o1_0')).toBe('paris'); // the tags say paris, the branch reaches nothing
    c.sim.breakTunnel('N_o1_0', 'paris', false);
    expect(c.sim.reachableHub('N_o1_0')).toBe('paris');
  });

  it('reachability follows the active uplink: down while wan1 has failed, back after the switch and the settle time', async () => {
    c.sim.setUplinkLoss('N_o1_0', 'wan2', 100); // the standby uplink's trouble does not matter
    expect(c.sim.reachableHub('N_o1_0')).toBe('london');
    c.sim.setUplinkLoss('N_o1_0', 'wan2', null);
    c.sim.setUplinkDown('N_o1_0', 'wan1', true);
    expect(c.sim.reachableHub('N_o1_0')).toBeUndefined();
    expect((await vpn('?networkIds[]=N_o1_0'))[0]?.deviceStatus).toBe('online');
    c.advance(10_000 + 4_999);
    expect(c.sim.reachableHub('N_o1_0')).toBeUndefined();
    c.advance(1);
    expect(c.sim.reachableHub('N_o1_0')).toBe('london');
    c.sim.setUplinkDown('N_o1_0', 'wan2', true);
    expect((await vpn('?networkIds[]=N_o1_0'))[0]?.deviceStatus).toBe('offline');
    expect(c.sim.networkState('N_o1_0')).toMatchObject({ activeUplink: 'wan2', reachableHub: undefined });
  });

  it('third-party peers: one per hub tagged with its _up tag; an injected misconfiguration changes who connects', async () => {
    const peers = await c.call('/organizations/o1/appliance/vpn/thirdPartyVPNPeers');
    expect(peers.status).toBe(200);
    const body = peers.body as { peers: { name: string; publicIp: string; networkTags: string[] }[] };
    expect(body.peers.map((p) => [p.name, p.publicIp, p.networkTags])).toEqual([
      ['london', LONDON, ['london_primary_up']],
      ['paris', PARIS, ['paris_backup_up']],
    ]);
    c.sim.setPeers('o1', [
      { name: 'london', publicIp: LONDON, networkTags: ['paris_backup_up'] },
      { name: 'paris', publicIp: PARIS, networkTags: ['all'] },
    ]);
    expect(
      ((await c.call('/organizations/o1/appliance/vpn/thirdPartyVPNPeers')).body as typeof body).peers.map(
        (p) => p.networkTags,
      ),
    ).toEqual([['paris_backup_up'], ['all']]);
    expect(await peersOf('N_o1_0')).toEqual(['paris:unreachable']); // a new tunnel: negotiating
    c.advance(5_000);
    expect(c.sim.reachableHub('N_o1_0')).toBe('paris');
    c.sim.setPeers('o1', undefined);
    c.advance(5_000);
    expect(c.sim.reachableHub('N_o1_0')).toBe('london');
  });
});

describe('Meraki simulator: a large answer does not hold up other callers', () => {
  it('answers small reads while it serializes the 60,000 series of a 10,000-network organization', async () => {
    const c = await clockedSim([generateOrganization({ id: 'o1', networks: 10_000 })]);
    try {
      const big = c.call('/organizations/o1/devices/uplinksLossAndLatency');
      const small: number[] = [];
      // One small read after another, each sent when the previous one was answered.
      for (let i = 0; i < 5; i++) small.push((await c.call('/organizations/o1/networks?perPage=3')).status);
      const series = await big;
      expect(series.status).toBe(200);
      expect((series.body as Series[]).length).toBe(60_000); // wan1 and wan2, each to london, paris and 8.8.8.8
      expect(small).toEqual([200, 200, 200, 200, 200]);
      const order = c.sim.log.map((e) => (e.path.endsWith('uplinksLossAndLatency') ? 'series' : 'small'));
      // Logged as each answer is finished: the small reads were all answered before the series.
      expect(order).toEqual(['small', 'small', 'small', 'small', 'small', 'series']);
    } finally {
      await c.sim.close();
    }
  });
});
