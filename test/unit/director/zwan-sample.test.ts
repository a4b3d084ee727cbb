import { toSample } from '../../../shared/director/zwan/adapter.js';
import { generatedIds, generateTopology } from '../../../local/simulator/topology.js';

describe('toSample: one Sample per CPE from the WAN that carries the tunnel endpoint', () => {
  const at = 1_700_000_000_000;
  test('WAN00 wins over other WANs', () => {
    const s = toSample(
      {
        cpeId: 'c',
        alive: true,
        wans: [
          { name: 'WAN01', publicIp: '1.1.1.1', lossPct: 0, latencyMs: 5 },
          { name: 'WAN00', publicIp: '2.2.2.2', lossPct: 35, latencyMs: 70 },
        ],
      },
      'c',
      at,
    );
    expect(s).toEqual({ target: 'c', at, reachable: true, lossPct: 35, latencyMs: 70 });
  });

  test('without WAN00, the first WAN with a public IP', () => {
    const s = toSample(
      {
        cpeId: 'c',
        alive: true,
        wans: [
          { name: 'LTE0', lossPct: 90, latencyMs: 300 },
          { name: 'WAN02', publicIp: '3.3.3.3', lossPct: 1, latencyMs: 9 },
        ],
      },
      'c',
      at,
    );
    expect(s).toMatchObject({ lossPct: 1, latencyMs: 9 });
  });

  test('a CPE that is not alive is unreachable with no latency; an unknown one has no data', () => {
    expect(toSample({ cpeId: 'c', alive: false, wans: [{ name: 'WAN00', lossPct: 100 }] }, 'c', at)).toEqual({
      target: 'c',
      at,
      reachable: false,
      lossPct: 100,
      latencyMs: null,
    });
    expect(toSample(undefined, 'x', at)).toEqual({
      target: 'x',
      at,
      reachable: false,
      lossPct: null,
      latencyMs: null,
    });
    expect(toSample({ cpeId: 'c', alive: true, wans: [] }, 'c', at)).toMatchObject({
      reachable: true,
      lossPct: null,
    });
  });
});

describe('generateTopology', () => {
  test('100 groups × (4 concentrators + 96 branches) = 10,000 CPEs, branches on DC ACTIVE', () => {
    const t = generateTopology({ groups: 100, branchesPerGroup: 96, tenants: 3 });
    expect(t.cpes).toHaveLength(10_000);
    expect(new Set(t.cpes.map((c) => c.id)).size).toBe(10_000);
    expect(t.tenants.map((x) => x.id)).toEqual(['tenant-01', 'tenant-02', 'tenant-03']);
    const dc1 = t.cpes.find((c) => c.id === generatedIds.concentrator(7, 'dc1'));
    const br = t.cpes.find((c) => c.id === generatedIds.branch(7, 0));
    expect(dc1?.metadata).toMatchObject({ CPE_TYPE: 'DC', HA_STATE: 'ACTIVE', HA_NAME: 'G008' });
    expect(br?.tunnels[0]?.tunnelId).toBe(dc1?.tunnels[0]?.tunnelId);
    expect(br?.tenantId).toBe(dc1?.tenantId);
  });

  test('bad options are refused with the field and value', () => {
    expect(() => generateTopology({ groups: 0, branchesPerGroup: 1.5 })).toThrow(
      /groups=0.*branchesPerGroup=1\.5/,
    );
  });
});
