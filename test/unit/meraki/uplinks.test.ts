/**
 * Choosing the uplink a branch's VPN runs over and taking each path's points from that uplink's
 * series only (shared/director/meraki/uplinks.ts): pure functions.
 */
import { describe, expect, it } from '@jest/globals';
import {
  activeUplinks,
  pathPoints,
  recordUplink,
  uplinkAt,
  type ApplianceUplinks,
  type UplinkSegment,
  type LossSeries,
} from '../../../shared/director/meraki/uplinks.js';

const LONDON = '198.51.100.1';
const PARIS = '198.51.100.2';
const hubByIp = new Map([
  [LONDON, 'london'],
  [PARIS, 'paris'],
]);

const appliance = (networkId: string, uplinks: [string, string][], extra: Partial<ApplianceUplinks> = {}) =>
  ({
    networkId,
    uplinks: uplinks.map(([i, status]) => ({ interface: i, status })),
    ...extra,
  }) as ApplianceUplinks;

const series = (networkId: string, uplink: string, ip: string, losses: (number | null)[], serial?: string) =>
  ({
    networkId,
    uplink,
    ip,
    ...(serial ? { serial } : {}),
    timeSeries: losses.map((lossPercent, i) => ({
      ts: new Date(Date.UTC(2026, 10, 21, 12, i)).toISOString(),
      lossPercent,
      latencyMs: lossPercent === null ? null : 20,
    })),
  }) as LossSeries;

describe('the uplink a branch VPN runs over', () => {
  it('is the active one; of several active, the first of wan1, wan2, wan3, cellular; a new name last', () => {
    const active = activeUplinks([
      appliance('N_1', [
        ['wan1', 'failed'],
        ['wan2', 'active'],
      ]),
      appliance('N_2', [
        ['cellular', 'active'],
        ['wan2', 'active'],
      ]),
      appliance('N_3', [
        ['wan7', 'active'],
        ['cellular', 'active'],
      ]),
      appliance('N_4', [
        ['wan1', 'ready'],
        ['wan2', 'not connected'],
      ]),
    ]);
    expect(active.get('N_1')?.uplink).toBe('wan2');
    expect(active.get('N_2')?.uplink).toBe('wan2');
    expect(active.get('N_3')?.uplink).toBe('cellular');
    // Listed with nothing active: offline (null), unlike a network not listed (undefined).
    expect(active.get('N_4')).toBeNull();
    expect(active.has('N_5')).toBe(false);
  });

  it("of an HA pair, the appliance with an active uplink counts, the primary's when both have one", () => {
    const spareFirst = activeUplinks([
      appliance('N_1', [['wan2', 'active']], {
        serial: 'SPARE',
        highAvailability: { enabled: true, role: 'spare' },
      }),
      appliance('N_1', [['wan1', 'active']], {
        serial: 'PRIM',
        highAvailability: { enabled: true, role: 'primary' },
      }),
    ]);
    expect(spareFirst.get('N_1')).toEqual({ uplink: 'wan1', serial: 'PRIM' });
    const onlySpare = activeUplinks([
      appliance('N_1', [['wan1', 'failed']], {
        serial: 'PRIM',
        highAvailability: { enabled: true, role: 'primary' },
      }),
      appliance('N_1', [['wan1', 'active']], {
        serial: 'SPARE',
        highAvailability: { enabled: true, role: 'spare' },
      }),
    ]);
    expect(onlySpare.get('N_1')).toEqual({ uplink: 'wan1', serial: 'SPARE' });
  });
});

describe("a path's points", () => {
  const wanted = new Set(['N_1→london', 'N_1→paris', 'N_2→london']);

  it("come from the active uplink's series only: loss on wan1 is not hidden by a clean wan2", () => {
    const all = [
      series('N_1', 'wan1', LONDON, [80, 90]),
      series('N_1', 'wan2', LONDON, [0, 0]),
      series('N_1', 'wan1', PARIS, [0, null]),
      series('N_1', 'wan2', PARIS, [100, 100]),
      series('N_1', 'wan1', '8.8.8.8', [0, 0]),
    ];
    const onWan1 = pathPoints(all, () => ({ uplink: 'wan1' }), hubByIp, wanted);
    expect([...(onWan1.get('N_1→london')?.values() ?? [])].map((p) => p.loss)).toEqual([80, 90]);
    expect([...(onWan1.get('N_1→paris')?.values() ?? [])].map((p) => p.loss)).toEqual([0, null]);
    // The MX moved its tunnels to wan2: the next call follows it.
    const onWan2 = pathPoints(all, () => ({ uplink: 'wan2' }), hubByIp, wanted);
    expect([...(onWan2.get('N_1→london')?.values() ?? [])].map((p) => p.loss)).toEqual([0, 0]);
    expect([...(onWan2.get('N_1→paris')?.values() ?? [])].map((p) => p.loss)).toEqual([100, 100]);
  });

  it('leave out a network whose uplink is unknown, paths not asked for, and another appliance of the pair', () => {
    const all = [
      series('N_1', 'wan1', LONDON, [50], 'PRIM'),
      series('N_1', 'wan1', LONDON, [0], 'SPARE'),
      series('N_2', 'wan1', LONDON, [70]),
      series('N_3', 'wan1', LONDON, [70]),
    ];
    const points = pathPoints(
      all,
      (n) => (n === 'N_1' ? { uplink: 'wan1', serial: 'PRIM' } : undefined),
      hubByIp,
      wanted,
    );
    expect([...points.keys()]).toEqual(['N_1→london']);
    expect([...(points.get('N_1→london')?.values() ?? [])]).toEqual([{ loss: 50, latency: 20 }]);
  });

  it('of two series of one minute, a point with data wins over null', () => {
    const points = pathPoints(
      [series('N_1', 'wan1', LONDON, [null]), series('N_1', 'wan1', LONDON, [40])],
      () => ({ uplink: 'wan1' }),
      hubByIp,
      wanted,
    );
    expect([...(points.get('N_1→london')?.values() ?? [])].map((p) => p.loss)).toEqual([40]);
  });
});

describe('which uplink a minute was measured on', () => {
  it('is what the first read at or after it saw: minutes before a switch-over stay on the old uplink', () => {
    const segments: UplinkSegment[] = [];
    const min = 60_000;
    recordUplink(segments, 10 * min, { uplink: 'wan1' });
    recordUplink(segments, 11 * min, { uplink: 'wan1' });
    recordUplink(segments, 12 * min, { uplink: 'wan2' });
    recordUplink(segments, 13 * min, null);
    expect(segments.map((s) => [s.until / min, s.uplink?.uplink ?? null])).toEqual([
      [11, 'wan1'],
      [12, 'wan2'],
      [13, null],
    ]);
    expect(uplinkAt(segments, 5 * min)?.uplink).toBe('wan1'); // before the first read: its uplink
    expect(uplinkAt(segments, 11 * min)?.uplink).toBe('wan1');
    expect(uplinkAt(segments, 11.5 * min)?.uplink).toBe('wan2'); // switched between two reads
    expect(uplinkAt(segments, 12.5 * min)).toBeNull(); // offline
    expect(uplinkAt(segments, 20 * min)).toBeNull(); // after the last read: what it saw
    expect(uplinkAt([], 1)).toBeUndefined();
    // What a read saw is kept for 15 minutes.
    recordUplink(segments, 40 * min, { uplink: 'wan1' });
    expect(segments.map((s) => s.until / min)).toEqual([40]);
  });
});
