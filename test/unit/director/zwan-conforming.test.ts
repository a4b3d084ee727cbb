import {
  conformingCpe,
  conformingHealth,
  conformingWanNumbers,
} from '../../../shared/director/zwan/conforming.js';
import {
  wanNumbersSchema,
  zwanCpeHealthSchema,
  zwanCpeSchema,
} from '../../../shared/director/zwan/schemas.js';

/** Values a field is set to (absent: the field removed). */
const VALUES: unknown[] = [
  'absent',
  undefined,
  null,
  '',
  'x',
  'ACTIVE',
  'PASSIVE',
  'CREATED',
  'ESTABLISHED',
  'provisioning',
  'ssh',
  0,
  42,
  true,
  false,
  {},
  [],
  ['x'],
  { a: 'b' },
  { a: 1 },
];

const cpe = () => ({
  id: 'c1',
  name: 'Branch 1',
  tenantId: 't1',
  metadata: { CPE_BR_TYPE: 'HA', HA_NAME: 'g1', WAN00_PUB_IP: '192.0.2.1' },
  lans: [{ name: 'LAN1', cidr: '10.0.0.0/24', virtualIp: '10.0.0.1' }],
  tunnels: [{ name: 't1', haTunnelIdentifier: 'HA1', tunnelId: 'tun-1', state: 'ESTABLISHED' }],
  haRole: 'ACTIVE',
  onboardedBy: 'provisioning',
  onboardedAt: '2026-01-01T00:00:00Z',
  extra: { anything: [1, 2] },
});

const health = () => ({
  cpeId: 'c1',
  alive: true,
  lastSeenAt: '2026-01-01T00:00:00Z',
  wans: [{ name: 'WAN00', publicIp: '192.0.2.1', lossPct: 3, latencyMs: 20 }],
});

/** Every variant of `base` with one field (at `paths`) set to each of VALUES. */
function variants(base: () => Record<string, unknown>, paths: string[][]): unknown[] {
  const out: unknown[] = [base()];
  for (const path of paths)
    for (const value of VALUES) {
      const v = base();
      let at: Record<string, unknown> = v;
      for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
      const last = path[path.length - 1] as string;
      if (value === 'absent') delete at[last];
      // A JSON copy, as a director's answer is (structuredClone would make objects of another realm).
      else at[last] = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
      out.push(v);
    }
  return out;
}

/** The check accepts exactly what the schema accepts, and returns what zod's copy equals. */
function sameAsZod(
  check: (raw: unknown) => unknown,
  schema: { safeParse(raw: unknown): { success: boolean; data?: unknown } },
  cases: unknown[],
): void {
  for (const raw of cases) {
    const zod = schema.safeParse(raw);
    const fast = check(raw);
    expect({ raw, accepted: fast !== undefined }).toEqual({ raw, accepted: zod.success });
    if (fast !== undefined) expect(fast).toEqual(zod.data);
  }
}

describe('conforming entries: the hand-written checks agree with the zod schemas', () => {
  test('a listing CPE, each field (and nested field) set to every kind of value', () => {
    const paths = [
      ...Object.keys(cpe()).map((k) => [k]),
      ['metadata', 'HA_NAME'],
      ['lans', '0'],
      ...['name', 'cidr', 'virtualIp', 'more'].map((k) => ['lans', '0', k]),
      ['tunnels', '0'],
      ...['name', 'haTunnelIdentifier', 'tunnelId', 'state', 'more'].map((k) => ['tunnels', '0', k]),
    ];
    sameAsZod(conformingCpe, zwanCpeSchema, variants(cpe, paths));
  });

  test('a bulk-health entry, each field (and nested field) set to every kind of value', () => {
    const paths = [
      ...Object.keys(health()).map((k) => [k]),
      ['wans', '0'],
      ...['name', 'publicIp', 'lossPct', 'latencyMs', 'more'].map((k) => ['wans', '0', k]),
    ];
    sameAsZod(conformingHealth, zwanCpeHealthSchema, variants(health, paths));
  });

  test("a WAN's numbers, each set to every kind of value and to edge numbers", () => {
    const numbers = () => ({ name: 'WAN00', lossPct: 3, latencyMs: 20 });
    const cases = variants(numbers, [['lossPct'], ['latencyMs'], ['more']]);
    for (const n of [-1, -0, 0, 0.5, 100, 100.01, 1e9, Number.NaN, Infinity, -Infinity])
      cases.push({ lossPct: n }, { lossPct: 1, latencyMs: n });
    sameAsZod(conformingWanNumbers, wanNumbersSchema, cases);
  });

  test('whole values that are not entries', () => {
    for (const raw of VALUES) {
      expect(conformingCpe(raw)).toBeUndefined();
      expect(conformingHealth(raw)).toBeUndefined();
      expect(conformingWanNumbers(raw)).toBeUndefined();
    }
  });

  test('anything unusual is left to zod: an own __proto__, a prototype, a null prototype', () => {
    const proto = JSON.parse(
      JSON.stringify(cpe()).replace('"CPE_BR_TYPE"', '"__proto__":"x","CPE_BR_TYPE"'),
    ) as unknown;
    expect(conformingCpe(proto)).toBeUndefined();
    expect(conformingCpe(Object.assign(Object.create({ inherited: 1 }) as object, cpe()))).toBeUndefined();
    expect(
      conformingCpe({ ...cpe(), metadata: Object.assign(Object.create(null) as object, { a: 'b' }) }),
    ).toBe(undefined);
    expect(conformingHealth(Object.assign(Object.create(null) as object, health()))).toBeUndefined();
  });

  test('the entry itself is returned, not a copy', () => {
    const raw = cpe();
    expect(conformingCpe(raw)).toBe(raw);
    const h = health();
    expect(conformingHealth(h)).toBe(h);
  });
});
