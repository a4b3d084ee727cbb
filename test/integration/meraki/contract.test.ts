import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import {
  loadSpec,
  recordMerakiTraffic,
  validateBodies,
  validateTraffic,
} from '../../contract/meraki-traffic.js';
import type { LoggedExchange } from '../../../local/simulator/meraki/server.js';

// Recording the traffic takes a few seconds (a 429 storm waits Retry-After); the machine is noisy.
jest.setTimeout(60_000);

const specPath = fileURLToPath(
  new URL('../../../shared/director/meraki/openapi-subset.yaml', import.meta.url),
);

// Two statements of the contract, each fact once: the OpenAPI subset (operations, parameters,
// statuses, headers) and the zod schemas of shared/director/meraki/schemas.ts (bodies).
describe('Meraki contract (openapi-subset.yaml + the zod schemas of schemas.ts)', () => {
  let traffic: LoggedExchange[];
  beforeAll(async () => {
    traffic = await recordMerakiTraffic();
  });

  it('records traffic covering every operation, the storm and the error answers', () => {
    const seen = new Set(
      traffic.map(
        (e) =>
          `${e.method} ${e.path.replace(/\/(networks|actionBatches)\/[^/]+$/, '/$1/{id}').replace(/organizations\/[^/]+/, 'organizations/{id}')}`,
      ),
    );
    expect([...seen].sort()).toEqual([
      'GET /networks/{id}',
      'GET /organizations/{id}/actionBatches',
      'GET /organizations/{id}/actionBatches/{id}',
      'GET /organizations/{id}/appliance/uplink/statuses',
      'GET /organizations/{id}/appliance/vpn/statuses',
      'GET /organizations/{id}/appliance/vpn/thirdPartyVPNPeers',
      'GET /organizations/{id}/devices/uplinksLossAndLatency',
      'GET /organizations/{id}/networks',
      'POST /organizations/{id}/actionBatches',
      'PUT /networks/{id}',
    ]);
    const series = traffic.flatMap((e) =>
      e.path.endsWith('/uplinksLossAndLatency') && Array.isArray(e.responseBody)
        ? (e.responseBody as { uplink: string; ip: string }[])
        : [],
    );
    expect(new Set(series.map((s) => s.uplink))).toEqual(new Set(['wan1', 'wan2', 'cellular']));
    expect(series.some((s) => s.ip === '8.8.8.8')).toBe(true);
    const unreachable = traffic.some((e) => JSON.stringify(e.responseBody ?? '').includes('"unreachable"'));
    expect(unreachable).toBe(true);
    const filtered = traffic.filter((e) => 'networkIds[]' in e.query || 'serials[]' in e.query);
    expect(filtered.length).toBeGreaterThanOrEqual(3);
    const statuses = new Set(traffic.map((e) => e.status));
    for (const s of [200, 201, 401, 404, 429]) expect(statuses).toContain(s);
    const nulls = traffic.some((e) => JSON.stringify(e.responseBody ?? '').includes('"lossPercent":null'));
    expect(nulls).toBe(true);
  });

  it('every adapter request and every simulator response validates against the OpenAPI subset', async () => {
    const result = await validateTraffic(loadSpec(specPath), traffic);
    expect(result.mismatches).toEqual([]);
    expect(result.undocumented).toEqual({});
    expect(result.checked).toBe(traffic.length);
  });

  it('every request body and every response body conforms to the zod schemas', () => {
    expect(traffic.every((e) => e.status >= 300 || e.responseBody !== undefined)).toBe(true);
    const result = validateBodies(traffic);
    expect(result.mismatches).toEqual([]);
    expect(result.checked).toBe(traffic.length);
  });

  it('the zod check catches a broken request body and a broken response body', () => {
    const put = traffic.find((e) => e.method === 'PUT' && e.status === 200) as LoggedExchange;
    const post = traffic.find((e) => e.method === 'POST' && e.status === 201) as LoggedExchange;
    const loss = traffic.find(
      (e) => e.path.endsWith('/uplinksLossAndLatency') && e.status === 200,
    ) as LoggedExchange;
    const limited = traffic.find((e) => e.status === 429) as LoggedExchange;
    const result = validateBodies([
      { ...put, requestBody: { tags: 'london_primary_up paris_backup_down' } },
      { ...put, responseBody: { id: 1, tags: [] } },
      { ...post, requestBody: { confirmed: true, synchronous: false, actions: [] } },
      {
        ...loss,
        responseBody: [
          {
            networkId: 'N_1',
            serial: 'Q',
            uplink: 'wan1',
            ip: '1.2.3.4',
            timeSeries: [{ ts: 'yesterday', lossPercent: null, latencyMs: null }],
          },
        ],
      },
      { ...limited, responseBody: { message: 'slow down' } },
    ]);
    expect(result.mismatches).toHaveLength(5);
    expect(result.mismatches[0]).toMatch(
      /request body \(PUT \/networks\/\{networkId\}\): tags="london_primary_up/,
    );
    expect(result.mismatches[1]).toMatch(/response body \(PUT \/networks\/\{networkId\}\): id=1: expected/);
    expect(result.mismatches[2]).toMatch(/request body \(POST .*actionBatches\): actions=\[\]/);
    expect(result.mismatches[3]).toMatch(/response body .*: 0\.timeSeries\.0\.ts="yesterday"/);
    expect(result.mismatches[4]).toMatch(/response body .*: errors=undefined/);
  });

  it('the OpenAPI check catches an unknown operation and an out-of-range parameter', async () => {
    const loss = traffic.find(
      (e) => e.path.endsWith('/uplinksLossAndLatency') && e.status === 200,
    ) as LoggedExchange;
    const result = await validateTraffic(loadSpec(specPath), [
      { ...loss, query: { timespan: '900' } },
      { ...loss, method: 'DELETE' },
    ]);
    expect(result.mismatches).toHaveLength(2);
    expect(result.mismatches[0]).toMatch(/request: .*timespan/);
    expect(result.mismatches[1]).toMatch(/no operation in the spec/);
  });

  it('the OpenAPI check reads Meraki array parameters (networkIds[]=…) and catches a bad page size', async () => {
    const vpn = traffic.find(
      (e) => e.path.endsWith('/appliance/vpn/statuses') && 'networkIds[]' in e.query,
    ) as LoggedExchange;
    const result = await validateTraffic(loadSpec(specPath), [
      vpn,
      { ...vpn, query: { ...vpn.query, perPage: '301' } },
    ]);
    expect(result.mismatches).toHaveLength(1);
    expect(result.mismatches[0]).toMatch(/#1 .*perPage=301.*request: \/query\/perPage must be <= 300/);
  });
});
