/**
 * The adapter parses every Dashboard answer with the project's zod schemas
 * (shared/director/meraki/schemas.ts) as loosely as the spec allows: a malformed entry of a list
 * is left out and reported (operation, network, field, value), the rest is used; an answer that
 * is not the documented shape as a whole is a DirectorResponseError naming the operation, the
 * field and the value; request bodies are built through the schemas.
 */
import { describe, expect, it } from '@jest/globals';
import { createMerakiDirector } from '../../../shared/director/meraki/adapter.js';
import type { MerakiLog } from '../../../shared/director/meraki/notices.js';
import {
  MERAKI_OPERATIONS,
  merakiOperationOf,
  merakiRequestBody,
  parseMerakiList,
  parseMerakiResponse,
} from '../../../shared/director/meraki/schemas.js';
import { DirectorRequestError, DirectorResponseError, ValidationError } from '../../../shared/errors.js';

const HUBS = [
  { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
];

/** An adapter whose Dashboard answers every request with `answer(method, path)`. */
function director(answer: (method: string, path: string) => { status: number; body: unknown }) {
  const warnings: Record<string, unknown>[] = [];
  const log: MerakiLog = { warn: (_m, ...a) => warnings.push(Object.assign({}, ...a)), error() {} };
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
    log,
  });
  return { d, sent, warnings };
}

const network = (tags: unknown) => ({ id: 'N_1', organizationId: 'org1', name: 'Branch 1', tags });

describe('Meraki answers parsed with the zod schemas', () => {
  it('a network entry with a v0 tag string is left out and reported; the others are listed', async () => {
    const { d, warnings } = director(() => ({
      status: 200,
      body: [
        network(['london_primary_up', 'paris_backup_down']),
        { ...network('london_primary_up paris_backup_down'), id: 'N_2' },
        { ...network(['a tag with spaces', 'london_primary_up']), id: 'N_3', name: undefined },
      ],
    }));
    const networks = await d.listNetworks('org1');
    expect(networks.map((n) => n.id)).toEqual(['N_1', 'N_3']);
    // A tag the spec allows (a string, even with a space) is kept as it is; no name → its id.
    expect(networks[1]).toEqual({
      id: 'N_3',
      name: 'N_3',
      organizationId: 'org1',
      tags: ['a tag with spaces', 'london_primary_up'],
    });
    expect(warnings).toEqual([
      expect.objectContaining({
        organizationId: 'org1',
        operation: 'GET /organizations/{organizationId}/networks',
        networkId: 'N_2',
        field: '1.tags',
        value: 'london_primary_up paris_backup_down',
      }),
    ]);
  });

  it('a listing that is not an array is a named error naming the operation, the field and the value', async () => {
    const { d } = director(() => ({ status: 200, body: { networks: [] } }));
    const error = await d.listNetworks('org1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectorResponseError);
    expect(error).toBeInstanceOf(DirectorRequestError);
    expect((error as Error).message).toMatch(
      /^GET \/organizations\/\{organizationId\}\/networks answered HTTP 200 with a malformed body: \(root\)=\{"networks":\[\]\}: expected an array/,
    );
  });

  it('loss series: a series without timeSeries has no points, one without a network is reported, an unknown uplink name fails nothing', () => {
    const op = MERAKI_OPERATIONS.uplinksLossAndLatency;
    const parsed = parseMerakiList(op, 200, [
      { networkId: 'N_1', uplink: 'wan1', ip: '198.51.100.1' },
      { uplink: 'wan1', ip: '198.51.100.1', timeSeries: [] },
      { networkId: 'N_3', uplink: 'wan9', ip: '198.51.100.1', timeSeries: [{ ts: '2026-11-21T12:00:00Z' }] },
      {
        networkId: 'N_4',
        uplink: 'wan1',
        ip: '198.51.100.1',
        timeSeries: [{ ts: 'yesterday', lossPercent: 0 }],
      },
    ]);
    expect(parsed.entries.map((e) => [e.networkId, e.uplink, e.timeSeries.length])).toEqual([
      ['N_1', 'wan1', 0],
      ['N_3', 'wan9', 1],
    ]);
    expect(parsed.malformed).toEqual([
      expect.objectContaining({ operation: op.name, field: '1.networkId', value: undefined }),
      expect.objectContaining({
        operation: op.name,
        networkId: 'N_4',
        field: '3.timeSeries.0.ts',
        value: 'yesterday',
      }),
    ]);
    expect(() => parseMerakiList(op, 200, 'nope')).toThrow(
      /uplinksLossAndLatency answered HTTP 200 with a malformed body: \(root\)="nope": expected an array/,
    );
  });

  it('null or absent loss and latency are accepted as "no data"', async () => {
    const { d } = director((_m, path) =>
      path.endsWith('/uplink/statuses')
        ? { status: 200, body: [{ networkId: 'N_1', uplinks: [{ interface: 'wan1', status: 'active' }] }] }
        : {
            status: 200,
            body: [
              {
                networkId: 'N_1',
                serial: 'Q2',
                uplink: 'wan1',
                ip: '198.51.100.1',
                timeSeries: [
                  { ts: '2026-11-21T12:00:00Z', lossPercent: null, latencyMs: null },
                  { ts: '2026-11-21T12:01:00Z' },
                ],
              },
            ],
          },
    );
    const samples = await d.sampleHealth('org1', ['N_1→london']);
    expect(samples).toEqual(
      ['2026-11-21T12:00:00Z', '2026-11-21T12:01:00Z'].map((ts) => ({
        target: 'N_1→london',
        at: Date.parse(ts),
        reachable: true,
        lossPct: null,
        latencyMs: null,
      })),
    );
  });

  it('a network answer without tags is a named error (a swap writes the whole array back)', () => {
    const put = MERAKI_OPERATIONS.writeNetworkTags;
    expect(() =>
      parseMerakiResponse(put, 200, { id: 'N_1', organizationId: 'org1', name: 'Branch 1' }),
    ).toThrow(/^PUT \/networks\/\{networkId\} answered HTTP 200 with a malformed body: tags=undefined/);
    expect(parseMerakiResponse(MERAKI_OPERATIONS.readNetwork, 200, { id: 'N_1', tags: [] })).toEqual({
      id: 'N_1',
      tags: [],
    });
  });

  it('action batches as the spec requires: an absent status is "not completed", an absent id or actions is named', () => {
    const op = MERAKI_OPERATIONS.submitBatch;
    expect(parseMerakiResponse(op, 201, { id: 'B1', actions: [] })).toEqual({
      id: 'B1',
      actions: [],
      status: { completed: false, failed: false, errors: [], createdResources: [] },
    });
    expect(
      parseMerakiResponse(MERAKI_OPERATIONS.readBatch, 200, {
        id: 'B1',
        actions: [{ resource: '/networks/N_1', operation: 'update' }],
        status: { completed: true, createdResources: [] },
      }).status,
    ).toEqual({ completed: true, failed: false, errors: [], createdResources: [] });
    expect(() => parseMerakiResponse(op, 201, { actions: [] })).toThrow(/: id=undefined: expected/);
    expect(() => parseMerakiResponse(op, 201, { id: 'B1' })).toThrow(/: actions=undefined: expected/);
    expect(() =>
      parseMerakiResponse(op, 201, { id: 'B1', actions: [], status: { completed: true } }),
    ).toThrow(/status\.createdResources=undefined/);
    const pending = parseMerakiList(MERAKI_OPERATIONS.listBatches, 200, [
      { id: 'B1', actions: [] },
      { actions: [] },
    ]);
    expect(pending.entries.map((b) => b.id)).toEqual(['B1']);
    expect(pending.malformed).toEqual([expect.objectContaining({ field: '1.id' })]);
  });

  it('third-party VPN peers: a peer without a name is reported, peers that are not a list is a named error', () => {
    const op = MERAKI_OPERATIONS.thirdPartyVpnPeers;
    const parsed = parseMerakiList(op, 200, {
      peers: [{ name: 'london', publicIp: '198.51.100.1' }, { publicIp: '198.51.100.9' }],
    });
    expect(parsed.entries.map((p) => p.name)).toEqual(['london']);
    expect(parsed.malformed).toEqual([
      expect.objectContaining({ operation: op.name, field: 'peers.1.name' }),
    ]);
    expect(() => parseMerakiList(op, 200, { peers: 'london' })).toThrow(
      /: peers="london": expected an array/,
    );
    expect(() => parseMerakiList(op, 200, [])).toThrow(
      /: \(root\)=\[\]: expected an object with an array peers/,
    );
  });

  it('request bodies are built through the schemas: a bad one is a ValidationError naming the field', () => {
    // An operator's tag with a space is written back as it was read.
    expect(merakiRequestBody(MERAKI_OPERATIONS.writeNetworkTags, { tags: ['two words'] })).toEqual({
      tags: ['two words'],
    });
    expect(() =>
      merakiRequestBody(MERAKI_OPERATIONS.writeNetworkTags, { tags: 'london_primary_up' as never }),
    ).toThrow(ValidationError);
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
    ).toThrow(/POST \/organizations\/\{organizationId\}\/actionBatches request body is invalid: actions=/);
  });

  it('operations are matched by method and path', () => {
    expect(merakiOperationOf('get', '/networks/N_1')?.name).toBe('GET /networks/{networkId}');
    expect(merakiOperationOf('PUT', '/networks/N_1')?.name).toBe('PUT /networks/{networkId}');
    expect(merakiOperationOf('GET', '/organizations/o/actionBatches/b')?.name).toBe(
      'GET /organizations/{organizationId}/actionBatches/{actionBatchId}',
    );
    expect(merakiOperationOf('GET', '/organizations/o/actionBatches')?.name).toBe(
      'GET /organizations/{organizationId}/actionBatches',
    );
    for (const path of [
      'appliance/uplink/statuses',
      'appliance/vpn/statuses',
      'appliance/vpn/thirdPartyVPNPeers',
    ]) {
      expect(merakiOperationOf('GET', `/organizations/o/${path}`)?.name).toBe(
        `GET /organizations/{organizationId}/${path}`,
      );
    }
    expect(merakiOperationOf('DELETE', '/networks/N_1')).toBeUndefined();
    expect(merakiOperationOf('GET', '/networks/N_1/devices')).toBeUndefined();
  });
});
