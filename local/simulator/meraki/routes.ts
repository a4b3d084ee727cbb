/**
 * Routing of the simulator's `/api/v1` requests: authorization (API key, organization access),
 * the organization's request budget, injected failures, then the operation.
 */
import type { Batches } from './batches.js';
import { validTags } from './batches.js';
import { HttpError, objectOf, type RouteResult } from './http.js';
import type { RequestFaults } from './limits.js';
import {
  listNetworks,
  lossSeries,
  networkJson,
  thirdPartyPeers,
  uplinkStatuses,
  vpnStatuses,
} from './reads.js';
import type { OrgState, SimState } from './state.js';

/** What routing works on. */
export interface RouteContext {
  state: SimState;
  batches: Batches;
  apiKeys: readonly string[];
  lagMs: number;
  now: () => number;
  requestFaults: RequestFaults;
  /** Count a request against an organization and apply its limit (throws 429). */
  admit(organizationId: string): void;
}

/** One API request, its path below /api/v1. */
export interface ApiRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  path: string;
  query: URLSearchParams;
  selfUrl: string;
  body: unknown;
}

function authorize(ctx: RouteContext, req: ApiRequest, org: OrgState | undefined): void {
  const header = req.headers['x-cisco-meraki-api-key'];
  const auth = req.headers.authorization;
  const bearer = /^Bearer\s+(.+)$/i.exec(typeof auth === 'string' ? auth : '')?.[1];
  const key = (typeof header === 'string' ? header : undefined) ?? bearer;
  if (!key || !ctx.apiKeys.includes(key)) throw new HttpError(401, ['Invalid API key']);
  if (org?.org.apiKeys && !org.org.apiKeys.includes(key)) {
    throw new HttpError(403, ['This API key has no access to the organization']);
  }
}

/** Admit a request of a known organization (or 401/403/404), then apply injected failures. */
function enter(ctx: RouteContext, req: ApiRequest, org: OrgState | undefined, missing: string): OrgState {
  authorize(ctx, req, org);
  if (!org) throw new HttpError(404, [missing]);
  ctx.admit(org.org.id);
  ctx.requestFaults.check(req.path);
  return org;
}

const ORG = '^/organizations/([^/]+)';

type Handler = (org: OrgState, ids: string[], req: ApiRequest) => RouteResult;

/** The organization-scoped operations: method, path below the organization, handler. */
function orgRoutes(ctx: RouteContext): [string, RegExp, Handler][] {
  const { state, batches } = ctx;
  return [
    ['GET', /^\/networks$/, (org, _ids, req) => listNetworks(org, req.query, req.selfUrl)],
    [
      'GET',
      /^\/devices\/uplinksLossAndLatency$/,
      (org, _ids, req) => lossSeries(state, org, req.query, ctx.now() - ctx.lagMs),
    ],
    [
      'GET',
      /^\/appliance\/uplink\/statuses$/,
      (org, _ids, req) => uplinkStatuses(state, org, req.query, req.selfUrl, ctx.now()),
    ],
    [
      'GET',
      /^\/appliance\/vpn\/statuses$/,
      (org, _ids, req) => vpnStatuses(state, org, req.query, req.selfUrl),
    ],
    ['GET', /^\/appliance\/vpn\/thirdPartyVPNPeers$/, (org) => thirdPartyPeers(org)],
    ['POST', /^\/actionBatches$/, (org, _ids, req) => ({ status: 201, body: batches.create(org, req.body) })],
    [
      'GET',
      /^\/actionBatches$/,
      (org, _ids, req) => ({ status: 200, body: batches.list(org, req.query.get('status')) }),
    ],
    [
      'GET',
      /^\/actionBatches\/([^/]+)$/,
      (org, ids) => ({ status: 200, body: batches.read(org, ids[0] as string) }),
    ],
    [
      'DELETE',
      /^\/actionBatches\/([^/]+)$/,
      (org, ids) => {
        batches.delete(org, ids[0] as string);
        return { status: 204, body: undefined };
      },
    ],
  ];
}

/** Answer one `/api/v1` request (after the per-IP limit). */
export async function routeApi(ctx: RouteContext, req: ApiRequest): Promise<RouteResult> {
  const orgMatch = new RegExp(`${ORG}(/.*)$`).exec(req.path);
  if (orgMatch) {
    const orgId = decodeURIComponent(orgMatch[1] as string);
    const rest = orgMatch[2] as string;
    for (const [method, pattern, handler] of orgRoutes(ctx)) {
      const m = pattern.exec(rest);
      if (!m || method !== req.method) continue;
      const org = enter(ctx, req, ctx.state.orgs.get(orgId), `Organization ${orgId} not found`);
      return handler(org, m.slice(1).map(decodeURIComponent), req);
    }
  }
  const net = /^\/networks\/([^/]+)$/.exec(req.path);
  if (net && (req.method === 'GET' || req.method === 'PUT')) {
    const id = decodeURIComponent(net[1] as string);
    const ns = ctx.state.find(id);
    enter(ctx, req, ns?.org, `Network ${id} not found`);
    if (!ns) throw new HttpError(404, [`Network ${id} not found`]);
    if (req.method === 'PUT') {
      const update = objectOf(req.body ?? {}, 'body');
      if (update.name !== undefined && typeof update.name !== 'string')
        throw new HttpError(400, ["'name' must be a string"]);
      const tags = update.tags === undefined ? undefined : validTags(update.tags, 'tags');
      if (typeof update.name === 'string') ns.network.name = update.name;
      if (tags) ctx.state.applyTags(ns, tags);
    }
    return { status: 200, body: networkJson(ns) };
  }
  authorize(ctx, req, undefined);
  throw new HttpError(404, [`No route for ${req.method} ${req.path}`]);
}
