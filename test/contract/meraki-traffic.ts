/**
 * Meraki contract checking, shared by the npm-test contract test and the conformance script
 * meraki-official.ts: record real traffic between the adapter and the simulator, then
 * - {@link validateTraffic}: validate every request and response with openapi-backend (a
 *   maintained OpenAPI validator built on ajv) against an OpenAPI document: operation (path +
 *   method), parameters, bodies (when the document states them) and response headers. The npm
 *   test uses the project's shared/director/meraki/openapi-subset.yaml (operations, parameters,
 *   headers); the conformance script uses Meraki's official spec (everything, bodies included);
 * - {@link validateBodies}: check every request and response body against the project's zod
 *   schemas (shared/director/meraki/schemas.ts), the one statement of the bodies in the project.
 */
import { readFileSync } from 'node:fs';
import ajvFormats from 'ajv-formats';
import { OpenAPIBackend, SetMatchType } from 'openapi-backend';

// ajv-formats is CommonJS with a `default` export; under NodeNext the callable is `.default`
// for the type checker while the runtime may hand over either.
const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ?? ajvFormats) as (
  ajv: unknown,
) => unknown;
import { parse as parseYaml } from 'yaml';
import { parseInventory } from '../../shared/domain/inventory.js';
import {
  createMerakiDirector,
  pathTarget,
  type MerakiDirector,
} from '../../shared/director/meraki/adapter.js';
import { TokenBucket } from '../../shared/director/http.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../../local/simulator/meraki/generate.js';
import {
  createMerakiSimulator,
  serialOf,
  type LoggedExchange,
  type MerakiSimulator,
} from '../../local/simulator/meraki/server.js';
import { errorBodySchema, merakiOperationOf, schemaIssues } from '../../shared/director/meraki/schemas.js';
import { formatValue } from '../../shared/errors.js';

/** Read an OpenAPI document (YAML or JSON). */
export function loadSpec(path: string): Record<string, unknown> {
  const text = readFileSync(path, 'utf8');
  return (path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Record<string, unknown>;
}

/** The result of validating recorded traffic. */
export interface ContractResult {
  checked: number;
  /** One line per mismatch: which exchange, request or response, and what. */
  mismatches: string[];
  /** Responses whose status the spec does not describe (counted by status). */
  undocumented: Record<string, number>;
}

/** Validate exchanges against an OpenAPI document. */
export async function validateTraffic(
  spec: Record<string, unknown>,
  exchanges: readonly LoggedExchange[],
): Promise<ContractResult> {
  const api = new OpenAPIBackend({
    definition: structuredClone(spec) as never,
    // strict: an invalid OpenAPI document fails here instead of matching nothing.
    strict: true,
    quick: false,
    validate: true,
    ajvOpts: { strict: false },
    customizeAjv: (ajv) => {
      addFormats(ajv);
      return ajv;
    },
  });
  await api.init();
  const result: ContractResult = { checked: 0, mismatches: [], undocumented: {} };
  for (const [i, ex] of exchanges.entries()) {
    result.checked += 1;
    const where = `#${i} ${ex.method} ${ex.path}${queryString(ex.query)} → ${ex.status}`;
    const req = {
      method: ex.method.toLowerCase(),
      path: ex.path,
      query: arrayQuery(ex.query),
      headers: ex.headers,
      body: ex.requestBody,
    };
    const operation = api.matchOperation(req);
    if (!operation) {
      result.mismatches.push(`${where}: request: no operation in the spec for this method and path`);
      continue;
    }
    if (
      !('x-cisco-meraki-api-key' in ex.headers) &&
      !/^bearer /i.test(ex.headers.authorization ?? '') &&
      ex.headers.authorization !== '<redacted>'
    ) {
      result.mismatches.push(`${where}: request: no X-Cisco-Meraki-API-Key or Authorization header`);
    }
    const request = api.validateRequest(req, operation);
    if (!request.valid) result.mismatches.push(`${where}: request: ${describeErrors(request.errors)}`);

    const documented = Object.keys((operation as { responses?: Record<string, unknown> }).responses ?? {});
    const status = String(ex.status);
    if (
      !documented.includes(status) &&
      !documented.includes(`${status[0]}XX`) &&
      !documented.includes('default')
    ) {
      result.undocumented[status] = (result.undocumented[status] ?? 0) + 1;
      continue;
    }
    const body = api.validateResponse(ex.responseBody, operation, ex.status);
    if (!body.valid) result.mismatches.push(`${where}: response body: ${describeErrors(body.errors)}`);
    const headers = api.validateResponseHeaders(ex.responseHeaders, operation, {
      statusCode: ex.status,
      setMatchType: SetMatchType.Superset,
    });
    if (!headers.valid)
      result.mismatches.push(`${where}: response headers: ${describeErrors(headers.errors)}`);
  }
  return result;
}

/**
 * Check every exchange's bodies against the project's zod schemas: the request body of operations
 * that take one (none on the others), the success body at the operation's success status, Meraki's
 * error body on 4xx. An exchange of no known operation, or with another status, is a mismatch.
 */
export function validateBodies(exchanges: readonly LoggedExchange[]): ContractResult {
  const result: ContractResult = { checked: 0, mismatches: [], undocumented: {} };
  for (const [i, ex] of exchanges.entries()) {
    result.checked += 1;
    const where = `#${i} ${ex.method} ${ex.path}${queryString(ex.query)} → ${ex.status}`;
    const operation = merakiOperationOf(ex.method, ex.path);
    if (!operation) {
      result.mismatches.push(`${where}: request: no operation of the project's schemas`);
      continue;
    }
    const issues = (part: string, found: ReturnType<typeof schemaIssues>) => {
      if (found.length > 0) {
        result.mismatches.push(
          `${where}: ${part} (${operation.name}): ${found
            .slice(0, 5)
            .map((f) => `${f.path || '(root)'}=${formatValue(f.value)}: expected ${f.expected}`)
            .join('; ')}`,
        );
      }
    };
    if (operation.request) issues('request body', schemaIssues(operation.request, ex.requestBody));
    else if (ex.requestBody !== undefined && ex.requestBody !== '')
      issues('request body', [{ path: '', value: ex.requestBody, expected: 'no body' }]);
    if (ex.status === operation.success.status)
      issues('response body', schemaIssues(operation.success.body, ex.responseBody));
    else if (ex.status >= 400 && ex.status < 500)
      issues('response body', schemaIssues(errorBodySchema, ex.responseBody));
    else
      issues('response status', [
        { path: '', value: ex.status, expected: `${operation.success.status} or a 4xx` },
      ]);
  }
  return result;
}

/** Meraki's array parameters travel as `name[]=a&name[]=b`; the spec names them `name` (an array). */
function arrayQuery(query: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(query)) {
    if (k.endsWith('[]')) out[k.slice(0, -2)] = [v].flat();
    else out[k] = v;
  }
  return out;
}

function queryString(query: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of [v].flat()) params.append(k, one);
  const s = params.toString();
  return s ? `?${s}` : '';
}

function describeErrors(
  errors: readonly { instancePath?: string; message?: string; params?: unknown }[] | null | undefined,
): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params ?? {})}`.trim())
    .join('; ');
}

/**
 * Drive the adapter through everything it does against a fresh simulator (two organizations,
 * paging, loss series with nulls and lag, single and bulk re-tags, a failed batch, a 429 storm,
 * both auth headers, error answers) and return the simulator's log of every exchange.
 */
export async function recordMerakiTraffic(): Promise<LoggedExchange[]> {
  let t = Date.parse('2026-11-21T12:00:30Z');
  const orgA = generateOrganization({ id: '500100', networks: 130, bystanders: 2 });
  const orgB = generateOrganization({ id: '500200', networks: 4 });
  (orgB.networks[0] as { trackedHubs?: string[] }).trackedHubs = ['london'];
  (orgB.networks[1] as { uplinks?: string[] }).uplinks = ['wan1', 'wan2', 'cellular'];
  const sim = await createMerakiSimulator({
    organizations: [orgA, orgB],
    batchCompletionDelayMs: 20,
    rateLimit: { requestsPerSecond: 200, burst: 40 },
    now: () => t,
  });
  try {
    const director = (bearer: boolean, rate = { requestsPerSecond: 150, burst: 20 }): MerakiDirector =>
      createMerakiDirector({
        config: {
          kind: 'meraki',
          baseUrl: sim.baseUrl,
          secretName: 'unused',
          organizations: [
            { id: orgA.id, hubs: [...DEFAULT_SIM_HUBS] },
            {
              id: orgB.id,
              hubs: [DEFAULT_SIM_HUBS[0], { ...DEFAULT_SIM_HUBS[1], trustedWithoutTracking: true }],
            },
          ],
        } as never,
        apiKey: async () => sim.apiKey,
        bearer,
        rateLimit: rate,
        buckets: new Map<string, TokenBucket>(),
        perPage: 50,
        minSampleIntervalMs: 0,
        batches: { firstPollMs: 10, pollIntervalMs: 10 },
      });
    const a = director(false);
    const b = director(true);
    const inventory = parseInventory([
      { tenantId: orgA.id, cpes: await a.listCpes(orgA.id) },
      { tenantId: orgB.id, cpes: await b.listCpes(orgB.id) },
    ]);
    const targets = (orgId: string): string[] =>
      inventory.tenants.find((x) => x.id === orgId)?.groups.flatMap((g) => g.candidates.map((c) => c.id)) ??
      [];
    const first = orgA.networks[0]?.id as string;
    sim.setLoss(first, 'london', 45);
    sim.setLoss(orgA.networks[1]?.id as string, 'paris', null);
    await a.sampleHealth(orgA.id, targets(orgA.id));
    t += 4 * 60_000;
    await a.sampleHealth(orgA.id, targets(orgA.id));
    await b.sampleHealth(orgB.id, targets(orgB.id));
    await a.repoint({
      groupKey: `${orgA.id}#${first}`,
      tenantId: orgA.id,
      branchId: first,
      targetId: pathTarget(first, 'paris'),
      epoch: 1,
      tunnels: [],
    });
    await b.retagOne(orgB.id, orgB.networks[1]?.id as string, 'paris');
    sim.failBatches({ count: 1 });
    await a.retagMany(
      orgA.id,
      orgA.networks.slice(0, 120).map((n) => ({ networkId: n.id, hub: 'paris' })),
    );
    await a.health();
    // A storm: three "Lambdas" with their own buckets, together over the organization's budget.
    sim.setRateLimit({ requestsPerSecond: 20, burst: 5 });
    const greedy = [1, 2, 3].map(() => director(false, { requestsPerSecond: 1000, burst: 100 }));
    await Promise.all(greedy.flatMap((d) => Array.from({ length: 10 }, () => d.listNetworks(orgB.id))));
    sim.setRateLimit(false);
    await callNewEndpoints(sim, orgA.id, orgB.id);
    // Error answers the simulator gives: unknown organization (404), bad key (401).
    for (const key of [sim.apiKey, 'wrong-key']) {
      await createMerakiDirector({
        config: {
          kind: 'meraki',
          baseUrl: sim.baseUrl,
          secretName: 'x',
          organizations: [{ id: '999', hubs: [...DEFAULT_SIM_HUBS] }],
        },
        apiKey: async () => key,
        buckets: new Map(),
      })
        .listNetworks('999')
        .catch(() => undefined);
    }
    return [...sim.log];
  } finally {
    await sim.close();
  }
}

/**
 * The read and batch endpoints the adapter does not call yet, over raw HTTP as a client would:
 * uplink statuses and VPN statuses (paged, filtered), third-party peers, multi-uplink series with
 * their filters, the batch listing by status, and their error answers.
 */
export async function callNewEndpoints(sim: MerakiSimulator, orgA: string, orgB: string): Promise<void> {
  const get = async (path: string): Promise<Response> => {
    const res = await fetch(`${sim.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${sim.apiKey}`, 'user-agent': 'cpe-failover/contract test' },
    });
    await res.arrayBuffer();
    return res;
  };
  const nextOf = (res: Response): string | undefined => {
    const url = /<([^>]+)>; rel=next/.exec(res.headers.get('link') ?? '')?.[1];
    return url === undefined ? undefined : url.slice(sim.baseUrl.length);
  };
  const first = (ids: string): string => encodeURIComponent(ids);
  // Every page of the uplink and VPN statuses of orgB; orgA filtered by networks and serials.
  for (const start of [
    `/organizations/${orgB}/appliance/uplink/statuses?perPage=3`,
    `/organizations/${orgB}/appliance/vpn/statuses?perPage=3`,
  ]) {
    let path: string | undefined = start;
    while (path !== undefined) path = nextOf(await get(path));
  }
  const a0 = `N_${orgA}_0`;
  const a1 = `N_${orgA}_1`;
  await get(
    `/organizations/${orgA}/appliance/uplink/statuses?networkIds[]=${first(a0)}&networkIds[]=${first(a1)}`,
  );
  await get(`/organizations/${orgA}/appliance/uplink/statuses?serials[]=${first(serialOf(a0))}`);
  await get(`/organizations/${orgA}/appliance/vpn/statuses?networkIds[]=${first(a0)}`);
  sim.breakTunnel(a1, 'london', true);
  await get(`/organizations/${orgA}/appliance/vpn/statuses?perPage=300`);
  sim.breakTunnel(a1, 'london', false);
  await get(`/organizations/${orgA}/appliance/vpn/thirdPartyVPNPeers`);
  await get(`/organizations/${orgB}/devices/uplinksLossAndLatency?uplink=cellular`);
  await get(`/organizations/${orgB}/devices/uplinksLossAndLatency?ip=8.8.8.8&timespan=120`);
  for (const status of ['pending', 'completed', 'failed'])
    await get(`/organizations/${orgA}/actionBatches?status=${status}`);
  await get(`/organizations/${orgB}/actionBatches`);
  // An error answer to a valid request: an organization the simulator does not know.
  await get(`/organizations/999/appliance/vpn/statuses`);
}
