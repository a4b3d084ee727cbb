import type { DirectorCpe } from '../../../shared/director/port.js';
import {
  branchCurrentTarget,
  findGroup,
  isIpAddress,
  parseInventory,
} from '../../../shared/domain/inventory.js';
import type { HaGroup, Inventory } from '../../../shared/domain/model.js';
import { InvalidCpeError, formatValue } from '../../../shared/errors.js';

type TunnelSpec = [name: string, identifier: string, tunnelId: string, state?: 'CREATED' | 'ESTABLISHED'];

function cpe(
  id: string,
  metadata: Record<string, string>,
  tunnels: TunnelSpec[] = [],
  extra: Partial<DirectorCpe> = {},
): DirectorCpe {
  return {
    id,
    name: id,
    tenantId: 't1',
    metadata,
    lans: [{ name: 'LAN0', cidr: '172.7.0.1/24' }],
    tunnels: tunnels.map(([name, haTunnelIdentifier, tunnelId, state]) => ({
      name,
      haTunnelIdentifier,
      tunnelId,
      state: state ?? 'CREATED',
    })),
    ...extra,
  };
}

function concentrator(
  id: string,
  type: string,
  haState: string,
  port: number,
  tunnels: TunnelSpec[],
  haName = 'Chennai',
  extra: Partial<DirectorCpe> = {},
): DirectorCpe {
  return cpe(
    id,
    {
      CPE_TYPE: type,
      CPE_MODE: 'HA',
      HA_STATE: haState,
      HA_NAME: haName,
      WAN00_PUB_IP: '122.60.1.10',
      WAN00_PUB_PORT: String(port),
    },
    tunnels,
    extra,
  );
}

function branch(id: string, tunnels: TunnelSpec[], haName = 'Chennai'): DirectorCpe {
  return cpe(id, { CPE_BR_TYPE: 'HA', HA_NAME: haName, WAN00_PUB_IP: '49.204.7.7' }, tunnels);
}

/** The reference lab: HA group Chennai with HA_DC1, HA_DC2, DR and branches BR1, BR2. */
function chennaiLab(haName = 'Chennai', prefix = ''): DirectorCpe[] {
  return [
    concentrator(
      `${prefix}HA_DC1`,
      'DC',
      'ACTIVE',
      30000,
      [['IPSEC00', 'T1', `${prefix}key-dc1`, 'ESTABLISHED']],
      haName,
    ),
    concentrator(`${prefix}HA_DC2`, 'DC', 'PASSIVE', 40000, [['IPSEC00', 'T1', `${prefix}key-dc2`]], haName),
    concentrator(`${prefix}DR`, 'DR', 'ACTIVE', 50000, [['IPSEC00', 'T1', `${prefix}key-dr`]], haName),
    branch(`${prefix}BR1`, [['IPSEC00', 'T1', `${prefix}key-dc1`, 'ESTABLISHED']], haName),
    branch(`${prefix}BR2`, [['IPSEC00', 'T1', `${prefix}key-dc1`, 'ESTABLISHED']], haName),
  ];
}

function onlyGroup(inv: Inventory): HaGroup {
  expect(inv.tenants).toHaveLength(1);
  expect(inv.tenants[0]!.groups).toHaveLength(1);
  return inv.tenants[0]!.groups[0]!;
}

/** Parse one tenant with one bad CPE added to the lab; expect exactly one invalid entry. */
function expectOneInvalid(cpes: DirectorCpe[]) {
  const inv = parseInventory([{ tenantId: 't1', cpes }]);
  expect(inv.invalid).toHaveLength(1);
  return { inv, bad: inv.invalid[0]! };
}

describe('parseInventory: the Chennai lab', () => {
  it('parses one group with 3 candidates in order and 2 branches', () => {
    const inv = parseInventory([{ tenantId: 't1', tenantName: 'Acme', cpes: chennaiLab() }]);
    expect(inv.invalid).toEqual([]);
    expect(inv.tenants[0]!.name).toBe('Acme');
    const g = onlyGroup(inv);
    expect(g.key).toBe('t1#Chennai');
    expect(g.candidates.map((c) => [c.id, c.slot])).toEqual([
      ['HA_DC1', 'DC/ACTIVE'],
      ['HA_DC2', 'DC/PASSIVE'],
      ['DR', 'DR/ACTIVE'],
    ]);
    expect(g.candidates.map((c) => c.wans)).toEqual([
      [{ wan: 'WAN00', publicIp: '122.60.1.10', publicPort: 30000 }],
      [{ wan: 'WAN00', publicIp: '122.60.1.10', publicPort: 40000 }],
      [{ wan: 'WAN00', publicIp: '122.60.1.10', publicPort: 50000 }],
    ]);
    expect(g.branches.map((b) => b.id)).toEqual(['BR1', 'BR2']);
    expect(g.branches[0]!.wans).toEqual([{ wan: 'WAN00', publicIp: '49.204.7.7' }]);
    expect(g.branches[0]!.tunnels).toEqual([
      { name: 'IPSEC00', haTunnelIdentifier: 'T1', tunnelId: 'key-dc1', state: 'ESTABLISHED' },
    ]);
    expect(findGroup(inv, 't1#Chennai')).toBe(g);
    expect(findGroup(inv, 't1#Kerala')).toBeUndefined();
  });

  it('orders candidates by slot whatever the list order, with DR PASSIVE last', () => {
    const cpes = [
      concentrator('DRP', 'dr', 'passive', 50001, [['IPSEC00', 'T1', 'k4']]),
      ...chennaiLab().reverse(),
    ];
    const g = onlyGroup(parseInventory([{ tenantId: 't1', cpes }]));
    expect(g.candidates.map((c) => c.id)).toEqual(['HA_DC1', 'HA_DC2', 'DR', 'DRP']);
  });

  it('parses several groups and several tenants, and ignores non-HA CPEs', () => {
    const inv = parseInventory([
      {
        tenantId: 't1',
        cpes: [
          ...chennaiLab(),
          ...chennaiLab('Kerala', 'K-'),
          cpe('plain', { CPE_TYPE: 'DC' }), // not CPE_MODE=HA: not ours
          cpe('spoke', { HA_NAME: 'Chennai' }),
        ],
      },
      { tenantId: 't2', cpes: chennaiLab() },
    ]);
    expect(inv.invalid).toEqual([]);
    expect(inv.tenants.map((t) => [t.id, t.groups.map((g) => g.key)])).toEqual([
      ['t1', ['t1#Chennai', 't1#Kerala']],
      ['t2', ['t2#Chennai']],
    ]);
    const kerala = findGroup(inv, 't1#Kerala')!;
    expect(kerala.candidates.map((c) => c.id)).toEqual(['K-HA_DC1', 'K-HA_DC2', 'K-DR']);
    expect(kerala.branches.map((b) => b.id)).toEqual(['K-BR1', 'K-BR2']);
    expect(findGroup(inv, 't2#Chennai')!.candidates).toHaveLength(3);
  });

  it('keeps several WAN endpoints in interface order', () => {
    const dc = concentrator('HA_DC1', 'DC', 'ACTIVE', 30000, [['IPSEC00', 'T1', 'key-dc1']]);
    dc.metadata.WAN01_PUB_IP = '2001:db8::1';
    dc.metadata.WAN01_PUB_PORT = '30001';
    const g = onlyGroup(parseInventory([{ tenantId: 't1', cpes: [dc] }]));
    expect(g.candidates[0]!.wans.map((w) => [w.wan, w.publicIp, w.publicPort])).toEqual([
      ['WAN00', '122.60.1.10', 30000],
      ['WAN01', '2001:db8::1', 30001],
    ]);
  });
});

describe('parseInventory: bad metadata is reported, left out, and never stops the rest', () => {
  /** The message names the CPE, the field, the value and what was expected. */
  function expectNamed(
    bad: Inventory['invalid'][number],
    cpeId: string,
    field: string,
    value: unknown,
    expectedPart: string,
  ) {
    expect(bad).toMatchObject({ cpeId, tenantId: 't1', field, value });
    expect(bad.expected).toContain(expectedPart);
    expect(bad.message).toBe(new InvalidCpeError(cpeId, field, value, bad.expected, 't1').message);
    expect(bad.message).toContain(`CPE ${cpeId}`);
    expect(bad.message).toContain(field);
    expect(bad.message).toContain(`${field}=${formatValue(value)}`);
    expect(bad.message).toContain(expectedPart);
  }

  it('unknown CPE_TYPE', () => {
    const { inv, bad } = expectOneInvalid([...chennaiLab(), concentrator('X', 'HUB', 'ACTIVE', 1, [])]);
    expectNamed(bad, 'X', 'CPE_TYPE', 'HUB', 'DC or DR');
    expect(onlyGroup(inv).candidates).toHaveLength(3);
  });

  it('missing CPE_TYPE on a CPE_MODE=HA CPE', () => {
    const x = cpe('X', { CPE_MODE: 'HA', HA_STATE: 'ACTIVE', HA_NAME: 'Chennai' });
    const { bad } = expectOneInvalid([...chennaiLab(), x]);
    expectNamed(bad, 'X', 'CPE_TYPE', undefined, 'DC or DR');
  });

  it('HA_STATE not ACTIVE/PASSIVE', () => {
    const { inv, bad } = expectOneInvalid([
      ...chennaiLab(),
      concentrator('X', 'DR', 'STANDBY', 50001, [['IPSEC00', 'T1', 'kx']]),
    ]);
    expectNamed(bad, 'X', 'HA_STATE', 'STANDBY', 'ACTIVE or PASSIVE');
    expect(onlyGroup(inv).candidates.map((c) => c.id)).toEqual(['HA_DC1', 'HA_DC2', 'DR']);
  });

  it('missing HA_NAME on a concentrator and on a branch', () => {
    const inv = parseInventory([
      {
        tenantId: 't1',
        cpes: [
          ...chennaiLab(),
          concentrator('X', 'DR', 'PASSIVE', 50001, [['IPSEC00', 'T1', 'kx']], '  '),
          cpe('BR3', { CPE_BR_TYPE: 'HA' }, [['IPSEC00', 'T1', 'key-dc1']]),
        ],
      },
    ]);
    expect(inv.invalid).toHaveLength(2);
    expectNamed(inv.invalid[0]!, 'X', 'HA_NAME', '  ', 'non-empty HA group name');
    expectNamed(inv.invalid[1]!, 'BR3', 'HA_NAME', undefined, 'non-empty HA group name');
    expect(onlyGroup(inv).branches.map((b) => b.id)).toEqual(['BR1', 'BR2']);
  });

  it('two DC ACTIVE in one group: the one onboarded later (by onboardedAt) is kept', () => {
    const lab = chennaiLab();
    lab[0]!.onboardedAt = '2026-01-10T00:00:00Z';
    const dc3 = concentrator('HA_DC3', 'DC', 'ACTIVE', 30000, [['IPSEC00', 'T1', 'key-dc3']], 'Chennai', {
      onboardedAt: '2026-03-01T00:00:00Z',
    });
    // DC3 listed before DC1: the date decides, not the order.
    const { inv, bad } = expectOneInvalid([dc3, ...lab]);
    expectNamed(
      bad,
      'HA_DC1',
      'HA_STATE',
      'ACTIVE',
      'at most one DC ACTIVE concentrator in HA group "Chennai"',
    );
    expect(bad.expected).toContain('HA_DC3');
    expect(onlyGroup(inv).candidates.map((c) => c.id)).toEqual(['HA_DC3', 'HA_DC2', 'DR']);
  });

  it('DC1/DC2 replaced by DC3/DC4 still listed: list order decides without dates', () => {
    const cpes = [
      ...chennaiLab(),
      concentrator('HA_DC3', 'DC', 'ACTIVE', 30000, [['IPSEC00', 'T1', 'key-dc3']]),
      concentrator('HA_DC4', 'DC', 'PASSIVE', 40000, [['IPSEC00', 'T1', 'key-dc4']]),
    ];
    const inv = parseInventory([{ tenantId: 't1', cpes }]);
    expect(inv.invalid.map((i) => [i.cpeId, i.field, i.value])).toEqual([
      ['HA_DC1', 'HA_STATE', 'ACTIVE'],
      ['HA_DC2', 'HA_STATE', 'PASSIVE'],
    ]);
    const g = onlyGroup(inv);
    expect(g.candidates.map((c) => c.id)).toEqual(['HA_DC3', 'HA_DC4', 'DR']);
    // Branches still carry DC1's tunnel ID: identifier T1 is known, so they stay (drifted).
    expect(g.branches.map((b) => b.id)).toEqual(['BR1', 'BR2']);
    expect(branchCurrentTarget(g.branches[0]!, g)).toBeUndefined();
  });

  it('a branch tunnel whose HA tunnel identifier no concentrator of its group has', () => {
    const br3 = branch('BR3', [
      ['IPSEC00', 'T1', 'key-dc1', 'ESTABLISHED'],
      ['IPSEC01', 'T9', 'key-x'],
    ]);
    const { inv, bad } = expectOneInvalid([...chennaiLab(), br3]);
    expectNamed(
      bad,
      'BR3',
      'tunnels.IPSEC01.haTunnelIdentifier',
      'T9',
      'HA tunnel identifier of a concentrator',
    );
    expect(bad.expected).toContain('"T1"');
    expect(onlyGroup(inv).branches.map((b) => b.id)).toEqual(['BR1', 'BR2']);
  });

  it('DC ACTIVE and DC PASSIVE sharing a tunnel ID for one identifier: the PASSIVE one is reported', () => {
    const lab = chennaiLab();
    lab[1] = concentrator('HA_DC2', 'DC', 'PASSIVE', 40000, [['IPSEC00', 'T1', 'key-dc1']]);
    const { inv, bad } = expectOneInvalid(lab);
    expectNamed(
      bad,
      'HA_DC2',
      'tunnels.IPSEC00.tunnelId',
      'key-dc1',
      'different from DC/ACTIVE concentrator HA_DC1',
    );
    expect(onlyGroup(inv).candidates.map((c) => c.id)).toEqual(['HA_DC1', 'DR']);
  });

  it.each([
    ['122.60.x.x', 'placeholder'],
    ['256.1.1.1', 'octet > 255'],
    ['01.2.3.4', 'leading zero'],
    ['', 'empty'],
    ['2001:db8:::1', 'bad IPv6'],
    ['chennai-dc.example.com', 'a host name'],
  ])('a public IP that is not an IP: %s (%s)', (ip) => {
    const x = concentrator('X', 'DR', 'PASSIVE', 50001, [['IPSEC00', 'T1', 'kx']]);
    x.metadata.WAN00_PUB_IP = ip;
    const { inv, bad } = expectOneInvalid([...chennaiLab(), x]);
    expectNamed(bad, 'X', 'WAN00_PUB_IP', ip, 'an IPv4 or IPv6 address');
    expect(onlyGroup(inv).candidates).toHaveLength(3);
  });

  it('a port without its IP is reported against the IP field', () => {
    const x = concentrator('X', 'DR', 'PASSIVE', 50001, [['IPSEC00', 'T1', 'kx']]);
    x.metadata.WAN03_PUB_PORT = '443';
    const { bad } = expectOneInvalid([...chennaiLab(), x]);
    expectNamed(bad, 'X', 'WAN03_PUB_IP', undefined, 'an IPv4 or IPv6 address');
  });

  it.each(['0', '65536', '30000.5', '-1', 'abc', '1e3'])(
    'a port outside 1–65535 or not an integer: %s',
    (port) => {
      const x = concentrator('X', 'DR', 'PASSIVE', 50001, [['IPSEC00', 'T1', 'kx']]);
      x.metadata.WAN00_PUB_PORT = port;
      const { bad } = expectOneInvalid([...chennaiLab(), x]);
      expectNamed(bad, 'X', 'WAN00_PUB_PORT', port, 'an integer port from 1 to 65535');
    },
  );

  it('a CPE listed twice keeps the first listing', () => {
    const lab = chennaiLab();
    const { inv, bad } = expectOneInvalid([...lab, { ...lab[3]!, name: 'again' }]);
    expectNamed(bad, 'BR1', 'id', 'BR1', 'listed once');
    expect(onlyGroup(inv).branches.map((b) => b.name)).toEqual(['BR1', 'BR2']);
  });

  it('a branch that also says CPE_TYPE=DC is contradictory', () => {
    const x = branch('BR9', [['IPSEC00', 'T1', 'key-dc1']]);
    x.metadata.CPE_TYPE = 'DC';
    const { bad } = expectOneInvalid([...chennaiLab(), x]);
    expectNamed(bad, 'BR9', 'CPE_BR_TYPE', 'HA', 'absent on a DC concentrator');
  });

  it('reports every bad CPE of several tenants and still parses the good ones', () => {
    const inv = parseInventory([
      { tenantId: 't1', cpes: [concentrator('A', 'XX', 'ACTIVE', 1, []), ...chennaiLab()] },
      { tenantId: 't2', cpes: [...chennaiLab(), concentrator('B', 'DC', 'MAYBE', 1, [])] },
    ]);
    expect(inv.invalid.map((i) => [i.tenantId, i.cpeId, i.field])).toEqual([
      ['t1', 'A', 'CPE_TYPE'],
      ['t2', 'B', 'HA_STATE'],
    ]);
    expect(inv.tenants.map((t) => t.groups[0]!.candidates.length)).toEqual([3, 3]);
  });
});

describe('branchCurrentTarget', () => {
  const g = onlyGroup(parseInventory([{ tenantId: 't1', cpes: chennaiLab() }]));
  const br = g.branches[0]!;

  it('is the concentrator whose tunnel ID the established tunnels carry', () => {
    expect(branchCurrentTarget(br, g)).toBe('HA_DC1');
    const onDr = { ...br, tunnels: [{ ...br.tunnels[0]!, tunnelId: 'key-dr' }] };
    expect(branchCurrentTarget(onDr, g)).toBe('DR');
  });

  it('is undefined with no established tunnel, an unknown tunnel ID, or mixed targets', () => {
    expect(
      branchCurrentTarget({ ...br, tunnels: [{ ...br.tunnels[0]!, state: 'CREATED' }] }, g),
    ).toBeUndefined();
    expect(
      branchCurrentTarget({ ...br, tunnels: [{ ...br.tunnels[0]!, tunnelId: 'nope' }] }, g),
    ).toBeUndefined();
    const dc1 = g.candidates[0]!;
    const dr = g.candidates[2]!;
    const twoIds = {
      ...g,
      candidates: [
        {
          ...dc1,
          tunnels: [
            ...dc1.tunnels,
            { ...dc1.tunnels[0]!, name: 'IPSEC01', haTunnelIdentifier: 'T2', tunnelId: 'k2-dc1' },
          ],
        },
        g.candidates[1]!,
        {
          ...dr,
          tunnels: [
            ...dr.tunnels,
            { ...dr.tunnels[0]!, name: 'IPSEC01', haTunnelIdentifier: 'T2', tunnelId: 'k2-dr' },
          ],
        },
      ],
    };
    const t2 = { name: 'IPSEC01', haTunnelIdentifier: 'T2', state: 'ESTABLISHED' as const };
    expect(
      branchCurrentTarget({ ...br, tunnels: [br.tunnels[0]!, { ...t2, tunnelId: 'k2-dc1' }] }, twoIds),
    ).toBe('HA_DC1');
    expect(
      branchCurrentTarget({ ...br, tunnels: [br.tunnels[0]!, { ...t2, tunnelId: 'k2-dr' }] }, twoIds),
    ).toBeUndefined();
  });
});

describe('isIpAddress', () => {
  it.each([
    '0.0.0.0',
    '122.60.1.10',
    '255.255.255.255',
    '::',
    '::1',
    '2001:db8::8a2e:370:7334',
    '1:2:3:4:5:6:7:8',
    '::ffff:10.0.0.1',
  ])('accepts %s', (ip) => expect(isIpAddress(ip)).toBe(true));
  it.each([
    '1.2.3',
    '1.2.3.4.5',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '::1::',
    'g::1',
    '1.2.3.4::',
    ' 1.2.3.4',
  ])('rejects %s', (ip) => expect(isIpAddress(ip)).toBe(false));
});
