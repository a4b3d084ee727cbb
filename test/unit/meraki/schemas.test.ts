/**
 * The adapter parses every Dashboard answer with the project's zod schemas
 * (shared/director/meraki/schemas.ts): a malformed answer is a DirectorResponseError naming the
 * operation, the field and the value, and request bodies are built through the schemas.
 */
import { describe, expect, it } from '@jest/globals';
import { createMerakiDirector } from '../../../shared/director/meraki/adapter.js';
import {
  MERAKI_OPERATIONS,
  merakiOperationOf,
  merakiRequestBody,
} from '../../../shared/director/meraki/schemas.js';
import { DirectorRequestError, DirectorResponseError, ValidationError } from '../../../shared/errors.js';

const HUBS = [
  { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
];

/** An adapter whose Dashboard answers every request with `answer(method, path)`. */
function director(answer: (method: string, path: string) => { status: number; body: unknown }) {
  const sent: { method: string; path: string; body: unknown }[] = [];
  const fetchStub = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? 'GET';
    const path = url.pathname.replace(/^\/api\/v1/, '');
    sent.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const { status, body } = answer(method, path);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const d = createMerakiDirector({
    config: {
      kind: 'meraki',
      baseUrl: 'http://dashboard.test/api/v1',
      secretName: 'unused',
      organizations: [{ id: 'org1', hubs: HUBS }],
    },
    apiKey: async () => 'key',
    buckets: new Map(),
    retries: 0,
    minSampleIntervalMs: 0,
    fetch: fetchStub,
  });
  return { d, sent };
}

const network = (tags: unknown) => ({ id: 'N_1', organizationId: 'org1', name: 'Branch 1', tags });

describe('Meraki answers parsed with the zod schemas', () => {
  it('a network listing with a v0 tag string is a named error naming the operation, field and value', async () => {
    const { d } = director(() => ({ status: 200, body: [network('london_primary_up paris_backup_down')] }));
    const error = await d.listNetworks('org1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect(error).toBeInstanceOf(DirectorRequestError);
    expect((error as Error).message).toMatch(
      /^GET \/organizations\/\{organizationId\}\/networks answered HTTP 200 with a malformed body: 0\.tags="london_primary_up paris_backup_down": expected/,
    );
  });

  it('a loss series missing its timeSeries is a named error, not an undefined deep inside', async () => {
    const { d } = director(() => ({
      status: 200,
      body: [{ networkId: 'N_1', serial: 'Q2', uplink: 'wan1', ip: '198.51.100.1' }],
    }));
    const error = await d.sampleHealth('org1', ['N_1→london']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect((error as DirectorResponseError).operation).toBe(
      'GET /organizations/{organizationId}/devices/uplinksLossAndLatency',
    );
    expect((error as DirectorResponseError).issues.map((i) => i.path)).toEqual(['0.timeSeries']);
  });

  it('null loss and latency are accepted as "no data"', async () => {
    const { d } = director(() => ({
      status: 200,
      body: [
        {
          networkId: 'N_1',
          serial: 'Q2',
          uplink: 'wan1',
          ip: '198.51.100.1',
          timeSeries: [{ ts: '2026-11-21T12:00:00Z', lossPercent: null, latencyMs: null }],
        },
      ],
    }));
    const samples = await d.sampleHealth('org1', ['N_1→london']);
    expect(samples).toEqual([
      {
        target: 'N_1→london',
        at: Date.parse('2026-11-21T12:00:00Z'),
        reachable: true,
        lossPct: null,
        latencyMs: null,
      },
    ]);
  });

  it('a PUT answer without tags fails the re-tag with a named error; the PUT body was exactly {tags}', async () => {
    const { d, sent } = director((method) =>
      method === 'GET'
        ? { status: 200, body: network(['branch', 'london_primary_up', 'paris_backup_down']) }
        : { status: 200, body: { id: 'N_1', organizationId: 'org1', name: 'Branch 1' } },
    );
    const error = await d.retagOne('org1', 'N_1', 'paris').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect((error as Error).message).toMatch(
      /^PUT \/networks\/\{networkId\} answered HTTP 200 .*tags=undefined/,
    );
    expect(sent.find((s) => s.method === 'PUT')?.body).toEqual({
      tags: ['branch', 'london_primary_down', 'paris_backup_up'],
    });
  });

  it('an action batch answer without status is a named error', async () => {
    const { d } = director((method) =>
      method === 'POST'
        ? {
            status: 201,
            body: { id: 'B1', organizationId: 'org1', confirmed: true, synchronous: false, actions: [] },
          }
        : { status: 200, body: network(['london_primary_up', 'paris_backup_down']) },
    );
    const report = await d.retagMany('org1', [{ networkId: 'N_1', hub: 'paris' }]);
    expect(report.changed).toEqual([]);
    expect(report.failed).toEqual([
      {
        networkId: 'N_1',
        reason: expect.stringMatching(/^POST .*actionBatches answered HTTP 201 .*status=undefined/),
      },
    ]);
  });

  it('request bodies are built through the schemas: a bad one is a ValidationError naming the field', () => {
    expect(() => merakiRequestBody(MERAKI_OPERATIONS.writeNetworkTags, { tags: ['two words'] })).toThrow(
      ValidationError,
    );
    expect(() =>
      merakiRequestBody(MERAKI_OPERATIONS.submitBatch, {
        confirmed: true,
        synchronous: false,
        actions: Array.from({ length: 101 }, () => ({
          resource: '/networks/N_1',
          operation: 'update' as const,
          body: { tags: [] },
        })),
      }),
    ).toThrow(
      /PUT|POST \/organizations\/\{organizationId\}\/actionBatches request body is invalid: actions=/,
    );
  });

  it('operations are matched by method and path', () => {
    expect(merakiOperationOf('get', '/networks/N_1')?.name).toBe('GET /networks/{networkId}');
    expect(merakiOperationOf('PUT', '/networks/N_1')?.name).toBe('PUT /networks/{networkId}');
    expect(merakiOperationOf('GET', '/organizations/o/actionBatches/b')?.name).toBe(
      'GET /organizations/{organizationId}/actionBatches/{actionBatchId}',
    );
    expect(merakiOperationOf('DELETE', '/networks/N_1')).toBeUndefined();
    expect(merakiOperationOf('GET', '/networks/N_1/devices')).toBeUndefined();
  });
});
