import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { loadSpec, recordMerakiTraffic, validateTraffic } from '../../contract/meraki-traffic.js';
import type { LoggedExchange } from '../../../local/simulator/meraki/server.js';

// Recording the traffic takes a few seconds (a 429 storm waits Retry-After); the machine is noisy.
jest.setTimeout(60_000);

const specPath = fileURLToPath(
  new URL('../../../shared/director/meraki/openapi-subset.yaml', import.meta.url),
);

describe('Meraki contract (project spec shared/director/meraki/openapi-subset.yaml)', () => {
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
      'GET /organizations/{id}/actionBatches/{id}',
      'GET /organizations/{id}/devices/uplinksLossAndLatency',
      'GET /organizations/{id}/networks',
      'POST /organizations/{id}/actionBatches',
      'PUT /networks/{id}',
    ]);
    const statuses = new Set(traffic.map((e) => e.status));
    for (const s of [200, 201, 401, 404, 429]) expect(statuses).toContain(s);
    const nulls = traffic.some((e) => JSON.stringify(e.responseBody ?? '').includes('"lossPercent":null'));
    expect(nulls).toBe(true);
  });

  it('every adapter request and every simulator response validates against the spec', async () => {
    const result = await validateTraffic(loadSpec(specPath), traffic);
    expect(result.mismatches).toEqual([]);
    expect(result.undocumented).toEqual({});
    expect(result.checked).toBe(traffic.length);
  });

  it('the validator does catch a broken request and a broken response', async () => {
    const good = traffic.find((e) => e.method === 'PUT' && e.status === 200) as LoggedExchange;
    const badRequest = { ...good, requestBody: { tags: 'london_primary_up paris_backup_down' } };
    const badResponse = { ...good, responseBody: { id: 1, tags: [] } };
    const result = await validateTraffic(loadSpec(specPath), [badRequest, badResponse]);
    expect(result.mismatches).toHaveLength(2);
    expect(result.mismatches[0]).toMatch(/request/);
    expect(result.mismatches[1]).toMatch(/response body/);
  });
});
