/**
 * A Meraki Dashboard API v1 simulator: the subset the controller uses, with Meraki's behaviour.
 *
 * - `GET  /organizations/{organizationId}/networks` paged by `perPage`/`startingAfter`, with `Link`.
 * - `GET|PUT /networks/{networkId}` (v1 `tags` array).
 * - `GET  /organizations/{organizationId}/devices/uplinksLossAndLatency`: per network and tracked
 *   destination IP a per-minute series, ending `lagMs` (2 minutes) before now, `timespan` ≤ 300 s;
 *   `lossPercent`/`latencyMs` may be null (no data).
 * - `POST /organizations/{organizationId}/actionBatches` (≤ 100 actions, ≤ 20 synchronous, at most 5
 *   confirmed batches running per organization) completing after `batchCompletionDelayMs`, atomically
 *   (a failed batch applies none of its actions); `GET …/actionBatches/{actionBatchId}`.
 * - A token bucket per organization (10 requests/s, burst 20: Meraki allows 10 extra requests in the
 *   first second) answering 429 with `Retry-After` (seconds) and `{ errors: [...] }`.
 * - Auth by `X-Cisco-Meraki-API-Key` or `Authorization: Bearer`; 401 otherwise, 403 when the key
 *   may not see the organization, 404 for an unknown organization or network.
 *
 * Fault API: per-network loss to a hub, injected batch failures, injected 5xx, direct tag edits.
 * The simulated tunnel of a network follows its one `_up` tag (see shared/domain/meraki-tags.ts).
 * Binds 127.0.0.1 on a free port unless told one; with `listen: false` it opens no socket and is
 * driven through {@link MerakiSimulator.dispatch} (the whole-system checker, on its virtual clock).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { currentHubFromTags } from '../../../shared/domain/meraki-tags.js';

/** A hub: a third-party VPN peer with a tag prefix and the IP branches track. */
export interface SimHub {
  name: string;
  tagPrefix: string;
  trackedIp: string;
}

/** A network (a branch with an MX). */
export interface SimNetwork {
  id: string;
  name: string;
  tags: string[];
  /** Names of the hubs whose IP this network's MX tracks. @default every hub */
  trackedHubs?: string[];
  /** Serial of its MX. @default derived from the id */
  serial?: string;
}

/** An organization with its hubs (in failover order) and networks. */
export interface SimOrganization {
  id: string;
  name?: string;
  hubs: SimHub[];
  networks: SimNetwork[];
  /** Keys allowed to use this organization (others get 403). @default every valid key */
  apiKeys?: string[];
}

/** Options of {@link createMerakiSimulator}. */
export interface MerakiSimulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  organizations: SimOrganization[];
  /** Valid API keys. @default ['sim-meraki-key'] */
  apiKeys?: string[];
  /** Time from POST to completion of an asynchronous action batch. @default 0 */
  batchCompletionDelayMs?: number;
  /** Per-organization limit; `false` disables it. @default { requestsPerSecond: 10, burst: 20 } */
  rateLimit?: { requestsPerSecond: number; burst: number } | false;
  /** Delay of the loss series. @default 120000 (2 minutes) */
  lagMs?: number;
  /** Clock of the loss series (epoch ms); the sandbox may scale time. @default Date.now */
  now?: () => number;
  /** Keep request/response bodies in the request log. @default true */
  logBodies?: boolean;
  /** Keep at most this many log entries (oldest dropped). @default 200000 */
  maxLog?: number;
  /** Open the HTTP server; `false`: no socket, calls go through `dispatch()`. @default true */
  listen?: boolean;
  /** Monotonic ms of the rate limiter. @default performance.now */
  monotonicNow?: () => number;
  /** Run `fn` after `ms` (asynchronous batch completion). @default setTimeout */
  setTimer?: (ms: number, fn: () => void) => void;
}

/** One request handed to {@link MerakiSimulator.dispatch} (what the socket would have carried). */
export interface MerakiDispatchRequest {
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The raw request body ('' when none). */
  body?: string;
}

/** What {@link MerakiSimulator.dispatch} answers: what the socket would have carried back. */
export interface MerakiDispatchResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** One request and its response, as the simulator saw them. */
export interface LoggedExchange {
  /** Epoch ms (real time). */
  at: number;
  method: string;
  /** Path below the base URL, e.g. `/networks/N_1`. */
  path: string;
  /** Query parameters (repeated ones as arrays). */
  query: Record<string, string | string[]>;
  /** Request headers, lower-case, with credentials replaced by `<redacted>`. */
  headers: Record<string, string>;
  requestBody?: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody?: unknown;
  organizationId?: string;
}

/** A change of a network's simulated tunnel. */
export interface TunnelChange {
  at: number;
  networkId: string;
  from: string | undefined;
  to: string | undefined;
}

/** Counters. */
export interface SimStats {
  requests: number;
  http429: number;
  byStatus: Record<number, number>;
  batchesCreated: number;
  batchesFailed: number;
}

/** A running simulator. */
export interface MerakiSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234/api/v1` (`http://meraki.sim/api/v1` without a socket). */
  readonly baseUrl: string;
  /** Answer one request in-process, exactly as over HTTP (no socket, no real time). */
  dispatch(req: MerakiDispatchRequest): Promise<MerakiDispatchResponse>;
  readonly port: number;
  /** The first valid API key. */
  readonly apiKey: string;
  close(): Promise<void>;
  /** Set the loss (and latency) from a network to a hub from now on; null = no data. */
  setLoss(networkId: string, hubName: string, lossPct: number | null, latencyMs?: number | null): void;
  /** Make batches fail at completion: the next `count`, and/or any touching one of `networkIds`. */
  failBatches(spec: { count?: number; networkIds?: readonly string[]; message?: string }): void;
  /** Change the per-organization limit from now on (buckets start full); `false` disables it. */
  setRateLimit(rate: { requestsPerSecond: number; burst: number } | false): void;
  /** Answer the next `count` requests (optionally only those whose path starts with `pathPrefix`) with `status`. */
  failRequests(spec: { count: number; status: number; pathPrefix?: string }): void;
  /** A copy of a network (undefined when unknown). */
  network(networkId: string): (SimNetwork & { organizationId: string }) | undefined;
  /** Change tags behind the controller's back (an operator in the Dashboard). */
  setTags(networkId: string, tags: string[]): void;
  /** The hub the network's tunnel uses now (its one `_up` tag). */
  tunnelHub(networkId: string): string | undefined;
  /** Every tunnel change so far. */
  readonly tunnelChanges: readonly TunnelChange[];
  onTunnelChange(listener: (change: TunnelChange) => void): void;
  /** Every request and response so far (bounded by `maxLog`). */
  readonly log: readonly LoggedExchange[];
  clearLog(): void;
  stats(): SimStats;
}

interface Point {
  at: number;
  lossPct: number | null;
  latencyMs: number | null;
}

interface Batch {
  id: string;
  organizationId: string;
  confirmed: boolean;
  synchronous: boolean;
  actions: { resource: string; operation: string; body: Record<string, unknown> }[];
  completed: boolean;
  failed: boolean;
  errors: string[];
}

interface OrgState {
  org: SimOrganization;
  byId: Map<string, SimNetwork>;
  order: string[];
  tokens: number;
  last: number;
  batches: Map<string, Batch>;
}

/** Meraki's error body. */
function errors(...messages: string[]): { errors: string[] } {
  return { errors: messages };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly messages: string[],
    readonly headers: Record<string, string> = {},
  ) {
    super(messages.join('; '));
  }
}

const DEFAULT_LATENCY = 20;
const NETWORK_RESOURCE = /^\/networks\/([^/]+)$/;

/** Start a simulator. Resolves once it listens. */
export async function createMerakiSimulator(options: MerakiSimulatorOptions): Promise<MerakiSimulator> {
  const apiKeys = options.apiKeys ?? ['sim-meraki-key'];
  let rate = options.rateLimit === undefined ? { requestsPerSecond: 10, burst: 20 } : options.rateLimit;
  const lagMs = options.lagMs ?? 120_000;
  const now = options.now ?? Date.now;
  const delayMs = options.batchCompletionDelayMs ?? 0;
  const logBodies = options.logBodies ?? true;
  const maxLog = options.maxLog ?? 200_000;
  const monotonic = options.monotonicNow ?? (() => performance.now());
  const setTimer =
    options.setTimer ??
    ((ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    });

  const orgs = new Map<string, OrgState>();
  const networkOrg = new Map<string, OrgState>();
  for (const org of options.organizations) {
    const copy: SimOrganization = {
      ...org,
      hubs: org.hubs.map((h) => ({ ...h })),
      networks: org.networks.map((n) => ({ ...n, tags: [...n.tags] })),
    };
    const state: OrgState = {
      org: copy,
      byId: new Map(copy.networks.map((n) => [n.id, n])),
      order: copy.networks.map((n) => n.id),
      tokens: rate ? rate.burst : 0,
      last: monotonic(),
      batches: new Map(),
    };
    orgs.set(org.id, state);
    for (const n of copy.networks) networkOrg.set(n.id, state);
  }

  const loss = new Map<string, Point[]>(); // `${networkId}|${hubName}` → change points
  const log: LoggedExchange[] = [];
  const tunnelChanges: TunnelChange[] = [];
  const tunnelListeners: ((c: TunnelChange) => void)[] = [];
  const batchFaults = { count: 0, networkIds: new Set<string>(), message: 'injected failure' };
  let requestFaults: { count: number; status: number; pathPrefix?: string } | undefined;
  const stats: SimStats = { requests: 0, http429: 0, byStatus: {}, batchesCreated: 0, batchesFailed: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let nextBatchId = 1;

  function applyTags(state: OrgState, network: SimNetwork, tags: string[]): void {
    const from = currentHubFromTags(network.tags, state.org.hubs);
    network.tags = [...tags];
    const to = currentHubFromTags(network.tags, state.org.hubs);
    if (from !== to) {
      const change: TunnelChange = { at: now(), networkId: network.id, from, to };
      tunnelChanges.push(change);
      for (const l of tunnelListeners) l(change);
    }
  }

  function takeToken(state: OrgState): number | undefined {
    if (!rate) return undefined;
    const t = monotonic();
    state.tokens = Math.min(rate.burst, state.tokens + ((t - state.last) * rate.requestsPerSecond) / 1000);
    state.last = t;
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return undefined;
    }
    // Seconds until one token is back, rounded up as Meraki's integer Retry-After.
    return Math.max(1, Math.ceil((1 - state.tokens) / rate.requestsPerSecond));
  }

  function networkJson(state: OrgState, n: SimNetwork): Record<string, unknown> {
    return {
      id: n.id,
      organizationId: state.org.id,
      name: n.name,
      productTypes: ['appliance'],
      timeZone: 'Etc/UTC',
      tags: [...n.tags],
      url: `https://n1.meraki.example/${encodeURIComponent(n.name)}/n/${n.id}/manage/usage/list`,
      notes: '',
      isBoundToConfigTemplate: false,
    };
  }

  function validTags(value: unknown, field: string): string[] {
    if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) {
      throw new HttpError(400, [`'${field}' must be an array of strings`]);
    }
    const bad = value.find((t: string) => t.trim() === '' || /\s/.test(t));
    if (bad !== undefined)
      throw new HttpError(400, [`'${field}' contains an invalid tag ${JSON.stringify(bad)}`]);
    return value as string[];
  }

  function lossAt(networkId: string, hub: string, t: number): Point {
    const points = loss.get(`${networkId}|${hub}`);
    let current: Point = { at: 0, lossPct: 0, latencyMs: DEFAULT_LATENCY };
    for (const p of points ?? []) {
      if (p.at <= t) current = p;
      else break;
    }
    return current;
  }

  function seriesWindow(query: URLSearchParams): { t0: number; t1: number } {
    const latest = now() - lagMs;
    const ts = query.get('timespan');
    const t0q = query.get('t0');
    const t1q = query.get('t1');
    if (ts !== null && (t0q !== null || t1q !== null)) {
      throw new HttpError(400, ['Specify either timespan or t0 and t1, not both']);
    }
    if (t0q !== null || t1q !== null) {
      const t1 = t1q === null ? latest : Date.parse(t1q);
      const t0 = t0q === null ? t1 - 300_000 : Date.parse(t0q);
      if (Number.isNaN(t0) || Number.isNaN(t1))
        throw new HttpError(400, ["'t0'/'t1' must be ISO 8601 times"]);
      if (t1 - t0 > 300_000 || t1 < t0)
        throw new HttpError(400, ["'t1' must be within 5 minutes after 't0'"]);
      if (t1 > latest) throw new HttpError(400, ["'t1' must be at least 2 minutes in the past"]);
      return { t0, t1 };
    }
    const span = ts === null ? 300 : Number(ts);
    if (!Number.isFinite(span) || span <= 0 || span > 300) {
      throw new HttpError(400, ["'timespan' must be a number of seconds, at most 300"]);
    }
    return { t0: latest - span * 1000, t1: latest };
  }

  function uplinks(state: OrgState, query: URLSearchParams): unknown[] {
    const { t0, t1 } = seriesWindow(query);
    const uplink = query.get('uplink');
    if (uplink !== null && !['wan1', 'wan2', 'wan3', 'cellular'].includes(uplink)) {
      throw new HttpError(400, ["'uplink' must be one of wan1, wan2, wan3, cellular"]);
    }
    if (uplink !== null && uplink !== 'wan1') return []; // Simulated MXs have one uplink, wan1.
    const ip = query.get('ip');
    const minutes: number[] = [];
    for (let m = Math.floor(t1 / 60_000) * 60_000; m > t0; m -= 60_000) minutes.unshift(m);
    const out: unknown[] = [];
    for (const id of state.order) {
      const n = state.byId.get(id) as SimNetwork;
      for (const hub of state.org.hubs) {
        if (n.trackedHubs && !n.trackedHubs.includes(hub.name)) continue;
        if (ip !== null && hub.trackedIp !== ip) continue;
        out.push({
          networkId: n.id,
          serial: n.serial ?? serialOf(n.id),
          uplink: 'wan1',
          ip: hub.trackedIp,
          timeSeries: minutes.map((m) => {
            const p = lossAt(n.id, hub.name, m);
            return { ts: new Date(m).toISOString(), lossPercent: p.lossPct, latencyMs: p.latencyMs };
          }),
        });
      }
    }
    return out;
  }

  function listNetworks(
    state: OrgState,
    query: URLSearchParams,
    selfUrl: string,
  ): { body: unknown[]; headers: Record<string, string> } {
    const perPageQ = query.get('perPage');
    const perPage = perPageQ === null ? 1000 : Number(perPageQ);
    if (!Number.isInteger(perPage) || perPage < 3 || perPage > 100_000) {
      throw new HttpError(400, ["'perPage' must be an integer from 3 to 100000"]);
    }
    const after = query.get('startingAfter');
    let start = 0;
    if (after !== null) {
      const i = state.order.indexOf(after);
      if (i < 0) throw new HttpError(400, ["'startingAfter' is not a valid page token"]);
      start = i + 1;
    }
    const ids = state.order.slice(start, start + perPage);
    const link = (token?: string): string => {
      const u = new URL(selfUrl);
      u.search = '';
      u.searchParams.set('perPage', String(perPage));
      if (token) u.searchParams.set('startingAfter', token);
      return `<${u.toString()}>`;
    };
    const links = [`${link()}; rel=first`];
    const lastId = ids[ids.length - 1];
    if (lastId !== undefined && start + perPage < state.order.length) links.push(`${link(lastId)}; rel=next`);
    return {
      body: ids.map((id) => networkJson(state, state.byId.get(id) as SimNetwork)),
      headers: { link: links.join(', ') },
    };
  }

  function validateActions(state: OrgState, raw: unknown, synchronous: boolean): Batch['actions'] {
    if (!Array.isArray(raw) || raw.length === 0)
      throw new HttpError(400, ["'actions' must be a non-empty array"]);
    const max = synchronous ? 20 : 100;
    if (raw.length > max) {
      throw new HttpError(400, [
        `Too many actions: ${raw.length}; a${synchronous ? ' synchronous' : 'n'} batch holds at most ${max}`,
      ]);
    }
    return raw.map((a: unknown, i: number) => {
      const action = (a ?? {}) as Record<string, unknown>;
      const resource = action.resource;
      const match = typeof resource === 'string' ? NETWORK_RESOURCE.exec(resource) : null;
      if (!match || action.operation !== 'update') {
        throw new HttpError(400, [
          `Action ${i}: the simulator supports only {resource: "/networks/{networkId}", operation: "update"}`,
        ]);
      }
      if (!state.byId.has(match[1] as string)) {
        throw new HttpError(400, [`Action ${i}: network ${match[1]} is not in organization ${state.org.id}`]);
      }
      const body = (action.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body))
        throw new HttpError(400, [`Action ${i}: 'body' must be an object`]);
      if (body.tags !== undefined) validTags(body.tags, `actions[${i}].body.tags`);
      return { resource: resource as string, operation: 'update', body };
    });
  }

  function batchJson(b: Batch): Record<string, unknown> {
    return {
      id: b.id,
      organizationId: b.organizationId,
      confirmed: b.confirmed,
      synchronous: b.synchronous,
      status: { completed: b.completed, failed: b.failed, errors: [...b.errors], createdResources: [] },
      actions: b.actions.map((a) => ({ ...a, body: { ...a.body } })),
    };
  }

  function complete(state: OrgState, b: Batch): void {
    const networks = b.actions.map(
      (a) => (NETWORK_RESOURCE.exec(a.resource) as RegExpExecArray)[1] as string,
    );
    const hit = networks.find((id) => batchFaults.networkIds.has(id));
    if (batchFaults.count > 0 || hit !== undefined) {
      if (hit === undefined) batchFaults.count -= 1;
      b.failed = true;
      b.errors = [
        `${hit !== undefined ? `Network ${hit}: ` : ''}${batchFaults.message}; no action was applied`,
      ];
      stats.batchesFailed += 1;
    } else {
      b.actions.forEach((a, i) => {
        const n = state.byId.get(networks[i] as string) as SimNetwork;
        if (Array.isArray(a.body.tags)) applyTags(state, n, a.body.tags as string[]);
        if (typeof a.body.name === 'string') n.name = a.body.name;
      });
    }
    b.completed = true;
  }

  function createBatch(state: OrgState, body: unknown): Batch {
    const req = (body ?? {}) as Record<string, unknown>;
    const confirmed = req.confirmed === true;
    const synchronous = req.synchronous === true;
    const actions = validateActions(state, req.actions, synchronous);
    if (confirmed) {
      const running = [...state.batches.values()].filter((b) => b.confirmed && !b.completed).length;
      if (running >= 5) {
        throw new HttpError(400, [
          'Too many concurrently executing batches. Maximum is 5 confirmed but not yet executed batches.',
        ]);
      }
    }
    const b: Batch = {
      id: String(nextBatchId++),
      organizationId: state.org.id,
      confirmed,
      synchronous,
      actions,
      completed: false,
      failed: false,
      errors: [],
    };
    state.batches.set(b.id, b);
    stats.batchesCreated += 1;
    if (confirmed && (synchronous || delayMs <= 0)) complete(state, b);
    else if (confirmed) setTimer(delayMs, () => complete(state, b));
    return b;
  }

  function authorize(req: Exchange, state: OrgState | undefined): void {
    const header = req.headers['x-cisco-meraki-api-key'];
    const auth = req.headers.authorization;
    const bearer = /^Bearer\s+(.+)$/i.exec(typeof auth === 'string' ? auth : '')?.[1];
    const key = (typeof header === 'string' ? header : undefined) ?? bearer;
    if (!key || !apiKeys.includes(key)) throw new HttpError(401, ['Invalid API key']);
    if (state?.org.apiKeys && !state.org.apiKeys.includes(key)) {
      throw new HttpError(403, ['This API key has no access to the organization']);
    }
  }

  function limit(state: OrgState): void {
    const retryAfter = takeToken(state);
    if (retryAfter !== undefined) {
      throw new HttpError(429, ['API rate limit exceeded for organization'], {
        'retry-after': String(retryAfter),
      });
    }
  }

  async function route(
    req: Exchange,
    path: string,
    query: URLSearchParams,
    body: unknown,
    selfUrl: string,
    entry: LoggedExchange,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const method = req.method ?? 'GET';
    let m: RegExpExecArray | null;
    const orgOf = (id: string): OrgState => {
      const state = orgs.get(id);
      authorize(req, state);
      if (!state) throw new HttpError(404, [`Organization ${id} not found`]);
      entry.organizationId = id;
      limit(state);
      return state;
    };
    if ((m = /^\/organizations\/([^/]+)\/networks$/.exec(path)) && method === 'GET') {
      const r = listNetworks(orgOf(decodeURIComponent(m[1] as string)), query, selfUrl);
      return { status: 200, body: r.body, headers: r.headers };
    }
    if ((m = /^\/organizations\/([^/]+)\/devices\/uplinksLossAndLatency$/.exec(path)) && method === 'GET') {
      return { status: 200, body: uplinks(orgOf(decodeURIComponent(m[1] as string)), query) };
    }
    if ((m = /^\/organizations\/([^/]+)\/actionBatches$/.exec(path)) && method === 'POST') {
      const b = createBatch(orgOf(decodeURIComponent(m[1] as string)), body);
      return { status: 201, body: batchJson(b) };
    }
    if ((m = /^\/organizations\/([^/]+)\/actionBatches\/([^/]+)$/.exec(path)) && method === 'GET') {
      const state = orgOf(decodeURIComponent(m[1] as string));
      const b = state.batches.get(decodeURIComponent(m[2] as string));
      if (!b) throw new HttpError(404, ['Action batch not found']);
      return { status: 200, body: batchJson(b) };
    }
    if ((m = /^\/networks\/([^/]+)$/.exec(path)) && (method === 'GET' || method === 'PUT')) {
      const id = decodeURIComponent(m[1] as string);
      const state = networkOrg.get(id);
      authorize(req, state);
      if (!state) throw new HttpError(404, [`Network ${id} not found`]);
      entry.organizationId = state.org.id;
      limit(state);
      const n = state.byId.get(id) as SimNetwork;
      if (method === 'PUT') {
        const update = (body ?? {}) as Record<string, unknown>;
        if (typeof update !== 'object' || Array.isArray(update))
          throw new HttpError(400, ['The body must be an object']);
        if (update.name !== undefined && typeof update.name !== 'string')
          throw new HttpError(400, ["'name' must be a string"]);
        const tags = update.tags === undefined ? undefined : validTags(update.tags, 'tags');
        if (typeof update.name === 'string') n.name = update.name;
        if (tags) applyTags(state, n, tags);
      }
      return { status: 200, body: networkJson(state, n) };
    }
    authorize(req, undefined);
    throw new HttpError(404, [`No route for ${method} ${path}`]);
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const raw = await readBody(req);
    const r = await exchange({ method: req.method ?? 'GET', headers: req.headers, url, raw });
    res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.text) });
    res.end(r.text);
  }

  /** One request, socket or not: route it, count and log it, and build the answer. */
  async function exchange(req: Exchange & { url: URL; raw: string }): Promise<MerakiDispatchResponse> {
    const url = req.url;
    const path = url.pathname.replace(/^\/api\/v1(?=\/)/, '');
    const raw = req.raw;
    const entry: LoggedExchange = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path,
      query: queryObject(url.searchParams),
      headers: redactHeaders(req.headers),
      status: 0,
      responseHeaders: {},
    };
    let status: number;
    let payload: unknown;
    let headers: Record<string, string> = {};
    try {
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, ['The request body is not valid JSON']);
        }
      }
      if (logBodies) entry.requestBody = body;
      if (!url.pathname.startsWith('/api/v1/'))
        throw new HttpError(404, ['Not found: paths start with /api/v1']);
      if (requestFaults && requestFaults.count > 0 && path.startsWith(requestFaults.pathPrefix ?? '')) {
        requestFaults.count -= 1;
        throw new HttpError(requestFaults.status, ['Injected failure']);
      }
      const r = await route(req, path, url.searchParams, body, url.toString(), entry);
      status = r.status;
      payload = r.body;
      headers = r.headers ?? {};
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        payload = errors(...error.messages);
        headers = error.headers;
      } else {
        status = 500;
        payload = errors(`Internal simulator error: ${(error as Error).message}`);
      }
    }
    stats.requests += 1;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 429) stats.http429 += 1;
    const text = JSON.stringify(payload);
    const all = { 'content-type': 'application/json; charset=utf-8', ...headers };
    entry.status = status;
    entry.responseHeaders = all;
    if (logBodies) entry.responseBody = payload;
    log.push(entry);
    if (log.length > maxLog) log.splice(0, log.length - maxLog);
    return { status, headers: all, text };
  }

  const listening = options.listen ?? true;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errors(String(error))));
    });
  });
  const host = options.host ?? '127.0.0.1';
  if (listening) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  }
  const port = listening ? (server.address() as AddressInfo).port : 0;

  const findNetwork = (networkId: string): { state: OrgState; network: SimNetwork } => {
    const state = networkOrg.get(networkId);
    const network = state?.byId.get(networkId);
    if (!state || !network)
      throw new RangeError(`networkId=${JSON.stringify(networkId)}: not a simulated network`);
    return { state, network };
  };

  return {
    baseUrl: listening ? `http://${host}:${port}/api/v1` : 'http://meraki.sim/api/v1',
    port,
    apiKey: apiKeys[0] as string,
    dispatch: (req) =>
      exchange({ method: req.method, headers: req.headers, url: req.url, raw: req.body ?? '' }),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (!listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setLoss(networkId, hubName, lossPct, latencyMs) {
      const { state } = findNetwork(networkId);
      if (!state.org.hubs.some((h) => h.name === hubName)) {
        throw new RangeError(`hubName=${JSON.stringify(hubName)}: not a hub of organization ${state.org.id}`);
      }
      const key = `${networkId}|${hubName}`;
      const points = loss.get(key) ?? [];
      const at = now();
      points.push({
        at,
        lossPct,
        latencyMs:
          latencyMs !== undefined
            ? latencyMs
            : lossPct === null
              ? null
              : lossPct >= 100
                ? null
                : DEFAULT_LATENCY,
      });
      loss.set(key, points);
    },
    failBatches(spec) {
      batchFaults.count += spec.count ?? 0;
      for (const id of spec.networkIds ?? []) batchFaults.networkIds.add(id);
      if (spec.message) batchFaults.message = spec.message;
    },
    setRateLimit(next) {
      rate = next;
      for (const state of orgs.values()) {
        state.tokens = next ? next.burst : 0;
        state.last = monotonic();
      }
    },
    failRequests(spec) {
      requestFaults = { ...spec };
    },
    network(networkId) {
      const state = networkOrg.get(networkId);
      const n = state?.byId.get(networkId);
      return state && n ? { ...n, tags: [...n.tags], organizationId: state.org.id } : undefined;
    },
    setTags(networkId, tags) {
      const { state, network } = findNetwork(networkId);
      applyTags(state, network, tags);
    },
    tunnelHub(networkId) {
      const { state, network } = findNetwork(networkId);
      return currentHubFromTags(network.tags, state.org.hubs);
    },
    tunnelChanges,
    onTunnelChange(listener) {
      tunnelListeners.push(listener);
    },
    log,
    clearLog() {
      log.length = 0;
    },
    stats() {
      return { ...stats, byStatus: { ...stats.byStatus } };
    },
  };
}

/** A stable fake MX serial for a network id. */
export function serialOf(networkId: string): string {
  let h = 0;
  for (const c of networkId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).toUpperCase().padStart(8, '0');
  return `Q2SM-${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

/** A request as routing needs it (IncomingMessage or a dispatched one). */
interface Exchange {
  method?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

function redactHeaders(headers: Exchange['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const secret = k === 'authorization' || k === 'x-cisco-meraki-api-key';
    out[k] = secret ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
