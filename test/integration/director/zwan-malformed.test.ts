/**
 * The zWAN adapter against a director whose answers do not conform to the contract, over real
 * HTTP: a malformed CPE is left out and reported invalid, a malformed health entry is "no data",
 * a malformed whole answer is a DirectorResponseError naming the operation, field and value.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MalformedEntry } from '../../../shared/director/zwan/schemas.js';
import { createZwanDirector } from '../../../shared/director/zwan/adapter.js';
import { parseInventory } from '../../../shared/domain/inventory.js';
import { DirectorResponseError } from '../../../shared/errors.js';

const goodCpe = (id: string, meta: Record<string, unknown> = {}) => ({
  id,
  name: id,
  tenantId: 't1',
  metadata: { CPE_TYPE: 'DC', CPE_MODE: 'HA', HA_STATE: 'ACTIVE', HA_NAME: 'G', ...meta },
  lans: [],
  tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'IPSEC00', tunnelId: `T-${id}`, state: 'ESTABLISHED' }],
  onboardedBy: 'provisioning',
});

/** Answers by `METHOD path`; anything else 404. */
let answers: Record<string, unknown> = {};
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    req.resume();
    req.on('end', () => {
      const body = answers[key];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: { code: 'NOT_FOUND', message: key } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function director(reports: MalformedEntry[] = []) {
  return createZwanDirector({
    site: 'DC',
    baseUrl,
    apiKey: async () => 'k',
    retries: 0,
    onMalformed: (e) => reports.push(e),
  });
}

test('a malformed CPE is left out of the listing and reported invalid; the others are monitored', async () => {
  answers = {
    'GET /api/v1/tenants/t1/cpes': {
      items: [
        goodCpe('c1'),
        goodCpe('c2', { HA_NAME: 42 }),
        { name: 'no id' },
        goodCpe('c3', { HA_STATE: 'PASSIVE' }),
      ],
    },
  };
  const reports: MalformedEntry[] = [];
  const cpes = await director(reports).listCpes('t1');
  expect(cpes.filter((c) => !c.malformed).map((c) => c.id)).toEqual(['c1', 'c3']);
  expect(reports).toEqual([
    expect.objectContaining({ operation: 'listCpes', entry: 'c2', field: 'metadata.HA_NAME', value: 42 }),
    expect.objectContaining({ operation: 'listCpes', entry: '#2', field: 'id' }),
  ]);
  const inventory = parseInventory([{ tenantId: 't1', cpes }]);
  expect(inventory.tenants[0]?.groups[0]?.candidates.map((c) => c.id)).toEqual(['c1', 'c3']);
  expect(inventory.invalid.map((i) => [i.cpeId, i.field])).toEqual([
    ['c2', 'metadata.HA_NAME'],
    ['(listing entry #2)', 'id'],
  ]);
});

test('a malformed health entry is no data, never a good sample; a well-formed one is read', async () => {
  answers = {
    'POST /api/v1/tenants/t1/cpe-health': {
      at: '2026-12-01T10:00:00Z',
      results: [
        { cpeId: 'a', alive: true, wans: [{ name: 'WAN00', lossPct: 'abc' }] },
        { cpeId: 'b', alive: true, wans: [{ name: 'WAN00' }] },
        { cpeId: 'c', alive: 'yes', wans: [] },
        { cpeId: 'd', alive: true, wans: [{ name: 'WAN00', lossPct: 40, latencyMs: 9 }] },
      ],
      unknownIds: [],
    },
  };
  const reports: MalformedEntry[] = [];
  const samples = await director(reports).sampleHealth('t1', ['a', 'b', 'c', 'd']);
  const at = Date.parse('2026-12-01T10:00:00Z');
  expect(samples).toEqual([
    { target: 'a', at, reachable: true, lossPct: null, latencyMs: null },
    { target: 'b', at, reachable: true, lossPct: null, latencyMs: null },
    { target: 'c', at, reachable: true, lossPct: null, latencyMs: null },
    { target: 'd', at, reachable: true, lossPct: 40, latencyMs: 9 },
  ]);
  expect(reports.map((r) => [r.entry, r.field]).sort()).toEqual([
    ['a', 'wans.0.lossPct'],
    ['b', 'wans.0.lossPct'],
    ['c', 'alive'],
  ]);
});

test.each([
  ['POST /api/v1/tenants/t1/cpe-health', { at: 'now', results: [], unknownIds: [] }, 'at'],
  [
    'POST /api/v1/tenants/t1/cpe-health',
    { at: '2026-12-01T10:00:00Z', results: {}, unknownIds: [] },
    'results',
  ],
])(
  'a malformed whole health answer is a DirectorResponseError naming the field (%#)',
  async (key, body, field) => {
    answers = { [key]: body };
    const error = await director()
      .sampleHealth('t1', ['a'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect((error as DirectorResponseError).message).toContain('sampleHealth');
    expect((error as DirectorResponseError).issues[0]?.path).toBe(field);
  },
);

test('a listing page without items, a job with an unknown state and a re-point without changed are DirectorResponseErrors', async () => {
  answers = {
    'GET /api/v1/tenants/t1/cpes': { cpes: [] },
    'GET /api/v1/jobs/j1': { jobId: 'j1', kind: 'backup', state: 'DONE', progressPct: 100 },
    'POST /api/v1/tenants/t1/cpes/b1/repoint': { branchId: 'b1', targetCpeId: 'c1', epoch: 3, tunnels: [] },
  };
  const d = director();
  await expect(d.listCpes('t1')).rejects.toThrow(/listCpes.*items=undefined/);
  await expect(d.getJob('j1')).rejects.toThrow(/getJob.*state="DONE"/);
  await expect(
    d.repoint({
      tenantId: 't1',
      groupKey: 't1#G',
      branchId: 'b1',
      targetId: 'c1',
      epoch: 3,
      tunnels: [{ haTunnelIdentifier: 'IPSEC00', tunnelId: 'T1' }],
    }),
  ).rejects.toThrow(/repoint.*changed=undefined/);
});

test('a malformed /health answer: reachable (it answered), not healthy, and reported', async () => {
  answers = { 'GET /api/v1/health': { site: 'DC', status: 'FINE', role: 'ACTIVE', version: '1', time: 'x' } };
  const reports: MalformedEntry[] = [];
  expect(await director(reports).health()).toEqual({ site: 'DC', reachable: true, healthy: false });
  expect(reports[0]).toMatchObject({ operation: 'health', field: 'status', value: 'FINE' });
});

test('a CPE the director says is not alive is unreachable even when its entry is otherwise malformed; nulls read as absent', async () => {
  answers = {
    'POST /api/v1/tenants/t1/cpe-health': {
      at: '2026-12-01T10:00:00Z',
      results: [
        { cpeId: 'a', alive: false, wans: [{ name: 'WAN00', lossPct: 100, latencyMs: null }] },
        {
          cpeId: 'b',
          alive: false,
          lastSeenAt: '2026-12-01T09:59:00+0100',
          wans: [{ name: 'WAN00', lossPct: 'n/a' }],
        },
        {
          cpeId: 'c',
          alive: true,
          lastSeenAt: null,
          wans: [{ name: 'WAN00', publicIp: null, lossPct: 5, latencyMs: null }],
        },
        {
          cpeId: 'd',
          alive: true,
          wans: [
            { name: 'WAN00', lossPct: 2, latencyMs: 7 },
            { name: 'WAN01', lossPct: 'n/a' },
          ],
        },
      ],
      unknownIds: [],
    },
    'GET /api/v1/tenants/t1/cpes': {
      items: [
        {
          ...goodCpe('c1'),
          haRole: null,
          lans: [{ name: 'LAN00', cidr: '10.0.0.1/24', virtualIp: null }],
          onboardedAt: '2026-01-01T00:00:00',
        },
      ],
    },
  };
  const at = Date.parse('2026-12-01T10:00:00Z');
  const d = director();
  expect(await d.sampleHealth('t1', ['a', 'b', 'c', 'd'])).toEqual([
    { target: 'a', at, reachable: false, lossPct: 100, latencyMs: null },
    { target: 'b', at, reachable: false, lossPct: null, latencyMs: null },
    { target: 'c', at, reachable: true, lossPct: 5, latencyMs: null },
    { target: 'd', at, reachable: true, lossPct: 2, latencyMs: 7 },
  ]);
  const [cpe] = await d.listCpes('t1');
  expect(cpe).toMatchObject({ id: 'c1', lans: [{ name: 'LAN00', cidr: '10.0.0.1/24' }] });
  expect(cpe?.malformed).toBeUndefined();
  expect(cpe?.haRole).toBeUndefined();
});

test('an answer past the size cap is a DirectorResponseError read no further; a director that never stops paging is stopped', async () => {
  const big = createServer((req, res) => {
    req.resume();
    if ((req.url ?? '').startsWith('/api/v1/tenants/t1/cpes')) {
      // Always a next page, never the same link twice.
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? '0');
      res.writeHead(200, {
        'content-type': 'application/json',
        link: `</api/v1/tenants/t1/cpes?cursor=${n + 1}>; rel="next"`,
      });
      res.end(JSON.stringify({ items: [] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    // 3 MB of padding in a health answer.
    res.end(
      JSON.stringify({ at: '2026-12-01T10:00:00Z', results: [], unknownIds: [], pad: 'x'.repeat(3_000_000) }),
    );
  });
  await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(big.address() as AddressInfo).port}/api/v1`;
  try {
    const capped = createZwanDirector({
      site: 'DC',
      baseUrl: url,
      apiKey: async () => 'k',
      retries: 0,
      maxResponseBytes: 1_000_000,
      maxPages: 5,
    });
    const error = await capped.sampleHealth('t1', ['a']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect((error as Error).message).toMatch(/more than 1000000 bytes/);
    await expect(capped.listCpes('t1')).rejects.toThrow(/more than 5 pages/);
  } finally {
    await new Promise<void>((r) => big.close(() => r()));
  }
});
