/**
 * A Meraki Dashboard API v1 simulator: the subset the controller uses, with Meraki's behaviour.
 *
 * API (below `/api/v1`, shaped as Meraki's v1 spec; shared/director/meraki/openapi-subset.yaml):
 * - `GET  /organizations/{organizationId}/networks` paged by `perPage`/`startingAfter`, with `Link`.
 * - `GET|PUT /networks/{networkId}` (v1 `tags` array).
 * - `GET  /organizations/{organizationId}/devices/uplinksLossAndLatency`: per MX, uplink (wan1,
 *   wan2, cellular as configured) and destination (each tracked hub IP, then 8.8.8.8) a per-minute
 *   series ending `lagMs` (2 minutes) before now, `timespan` ≤ 300 s; filters `uplink`, `ip`;
 *   `lossPercent`/`latencyMs` may be null (no data). A point is the worse of the path and the uplink.
 * - `GET  /organizations/{organizationId}/appliance/uplink/statuses`: each MX's uplinks, `active`
 *   (the one the VPN runs over), `ready`, `failed` (100 % loss) or `not connected` (unplugged);
 *   paged (3–1000), `networkIds[]`, `serials[]`.
 * - `GET  /organizations/{organizationId}/appliance/vpn/statuses`: per network the third-party
 *   peers its tags select and their `reachability`; paged (3–300), `networkIds[]`.
 * - `GET  /organizations/{organizationId}/appliance/vpn/thirdPartyVPNPeers`: `{ peers }`, by
 *   default one per hub with `networkTags: [<hub's _up tag>]` and `publicIp` = its tracked IP.
 * - `POST /organizations/{organizationId}/actionBatches`, `GET …/actionBatches[?status=]`,
 *   `GET|DELETE …/actionBatches/{actionBatchId}`: see ./batches.ts (durations, the 10-minute
 *   limit, 5 running per organization, no delete once confirmed).
 * - Limits (./limits.ts): 10 requests/s per organization (burst 20: Meraki allows 10 extra in the
 *   first second) and 100/s per source IP; every 429 carries `Retry-After` (seconds).
 * - Auth by `X-Cisco-Meraki-API-Key` or `Authorization: Bearer`; 401 otherwise, 403 when the key
 *   may not see the organization, 404 for an unknown organization, network or route.
 *
 * The world (./state.ts, ./links.ts): the MX runs its VPN over its first uplink that is up and
 * moves after `uplinkFailoverMs` when that one fails (unplugged or 100 % loss); a network's tunnel
 * reaches a hub when its tags select the hub's peer, settled for `tunnelSettleMs`, with the path
 * over the active uplink below 100 % loss and no broken tunnel. {@link MerakiSimulator.reachableHub}
 * says where a branch really is; {@link MerakiSimulator.tunnelHub} where its tags point.
 *
 * Faults: every {@link MerakiFaults} method in-process, and over HTTP at `POST /_sim/faults/<name>`
 * (./control.ts lists the bodies), with `GET /_sim/state` and `GET /_sim/stats`; no auth, not logged.
 *
 * Time: `now` (series, tunnels, faults), `monotonicNow` (limits, request times) and `setTimer`
 * (batches) are injected; given them, nothing reads the real clock (the checker's virtual time).
 * Binds 127.0.0.1 on a free port unless told one; with `listen: false` it opens no socket and is
 * driven through {@link MerakiSimulator.dispatch}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Batches } from './batches.js';
import { control } from './control.js';
import { HttpError, LazyArray, errors, queryObject, redactHeaders, type RouteResult } from './http.js';
import { defaultLatency } from './links.js';
import { RequestFaults, RequestTimes, SimBucket, limitOrThrow } from './limits.js';
import { routeApi } from './routes.js';
import { SimState } from './state.js';
import type {
  LoggedExchange,
  MerakiDispatchResponse,
  MerakiSimulator,
  MerakiSimulatorOptions,
  SimRate,
  SimStats,
} from './types.js';

export { realisticBatchDurationMs } from './batches.js';
export { serialOf } from './reads.js';
export * from './types.js';

const DEFAULT_SOURCE_IP = '127.0.0.1';
/** Items of a {@link LazyArray} answer serialized between two looks at other requests. */
const LAZY_SLICE = 500;
const MERAKI_ORG_RATE: SimRate = { requestsPerSecond: 10, burst: 20 };
const MERAKI_IP_RATE: SimRate = { requestsPerSecond: 100, burst: 100 };

/** Start a simulator. Resolves once it listens. */
export async function createMerakiSimulator(options: MerakiSimulatorOptions): Promise<MerakiSimulator> {
  const apiKeys = options.apiKeys ?? ['sim-meraki-key'];
  let orgRate = options.rateLimit === undefined ? MERAKI_ORG_RATE : options.rateLimit;
  let ipRate = options.ipRateLimit ?? (options.rateLimit === undefined ? MERAKI_IP_RATE : false);
  const lagMs = options.lagMs ?? 120_000;
  const now = options.now ?? Date.now;
  const logBodies = options.logBodies ?? true;
  const maxLog = options.maxLog ?? 200_000;
  const monotonic = options.monotonicNow ?? (() => performance.now());
  const timers = new Set<NodeJS.Timeout>();
  const setTimer =
    options.setTimer ??
    ((ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    });

  const state = new SimState({
    organizations: options.organizations,
    now,
    uplinkFailoverMs: options.uplinkFailoverMs ?? 10_000,
    tunnelSettleMs: options.tunnelSettleMs ?? 5_000,
  });
  const stats: SimStats = { requests: 0, http429: 0, byStatus: {}, batchesCreated: 0, batchesFailed: 0 };
  const batches = new Batches({
    state,
    stats,
    durationMs: options.batchDurationMs ?? options.batchCompletionDelayMs ?? 0,
    timeLimitMs: options.batchTimeLimitMs ?? 600_000,
    setTimer,
  });
  const orgBuckets = new Map([...state.orgs.keys()].map((id) => [id, new SimBucket(orgRate, monotonic)]));
  const ipBuckets = new Map<string, SimBucket>();
  const requestFaults = new RequestFaults(now);
  const requestTimes = new RequestTimes();
  const log: LoggedExchange[] = [];

  const ipBucket = (ip: string): SimBucket => {
    let bucket = ipBuckets.get(ip);
    if (!bucket) ipBuckets.set(ip, (bucket = new SimBucket(ipRate, monotonic)));
    return bucket;
  };

  interface Incoming {
    method: string;
    url: URL;
    headers: Record<string, string | string[] | undefined>;
    raw: string;
    sourceIp: string;
  }

  /**
   * An answer as built: over the socket, a large array's JSON comes as slices (each the JSON of
   * up to {@link LAZY_SLICE} items, comma-joined), written one by one; `text` is then unused.
   */
  interface Served extends MerakiDispatchResponse {
    slices?: string[];
  }
  const joined = (slices: readonly string[]) => `[${slices.join(',')}]`;

  /** One request, socket or not: route it, count and log it, and build the answer. */
  async function exchange(req: Incoming): Promise<Served> {
    const { url, raw } = req;
    if (url.pathname.startsWith('/_sim/')) return simExchange(req);
    const path = url.pathname.replace(/^\/api\/v1(?=\/)/, '');
    // No log entry at all when none is kept (the checker reads none).
    const entry: LoggedExchange | undefined =
      maxLog > 0
        ? {
            at: now(),
            method: req.method,
            path,
            query: queryObject(url.searchParams),
            headers: redactHeaders(req.headers),
            status: 0,
            responseHeaders: {},
          }
        : undefined;
    let result: RouteResult;
    try {
      let body: unknown;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, ['The request body is not valid JSON']);
        }
      }
      if (entry && logBodies) entry.requestBody = body;
      if (!url.pathname.startsWith('/api/v1/'))
        throw new HttpError(404, ['Not found: paths start with /api/v1']);
      limitOrThrow(ipBucket(req.sourceIp), `API rate limit exceeded for source IP ${req.sourceIp}`);
      result = await routeApi(
        {
          state,
          batches,
          apiKeys,
          lagMs,
          now,
          requestFaults,
          admit(organizationId) {
            if (entry) entry.organizationId = organizationId;
            requestTimes.record(organizationId, monotonic());
            const bucket = orgBuckets.get(organizationId);
            if (bucket) limitOrThrow(bucket, 'API rate limit exceeded for organization');
          },
        },
        {
          method: req.method,
          headers: req.headers,
          path,
          query: url.searchParams,
          selfUrl: url.toString(),
          body,
        },
      );
    } catch (error) {
      result =
        error instanceof HttpError
          ? { status: error.status, body: errors(...error.messages), headers: error.headers }
          : { status: 500, body: errors(`Internal simulator error: ${(error as Error).message}`) };
    }
    const status = result.status;
    stats.requests += 1;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 429) stats.http429 += 1;
    let body = result.body;
    let text = '';
    let slices: string[] | undefined;
    if (body instanceof LazyArray) {
      if (listening) {
        slices = await sliced(body.items());
        if (logBodies) body = JSON.parse(joined(slices)) as unknown;
      } else text = JSON.stringify((body = [...body.items()]));
    } else if (body !== undefined) text = JSON.stringify(body);
    // The Dashboard's own clock (the simulated one, which may run ahead of the wall clock).
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      date: new Date(now()).toUTCString(),
      ...(result.headers ?? {}),
    };
    if (entry) {
      entry.status = status;
      entry.responseHeaders = headers;
      if (logBodies) entry.responseBody = body;
      log.push(entry);
      if (log.length > maxLog) log.splice(0, log.length - maxLog);
    }
    return { status, headers, text, ...(slices ? { slices } : {}) };
  }

  const turn = () => new Promise<void>((next) => setImmediate(next));

  /** A lazy array's JSON in slices, letting other requests in between slices. */
  async function sliced(items: Iterable<unknown>): Promise<string[]> {
    const slices: string[] = [];
    let parts: string[] = [];
    for (const item of items) {
      parts.push(JSON.stringify(item));
      if (parts.length === LAZY_SLICE) {
        slices.push(parts.join(','));
        parts = [];
        await turn();
      }
    }
    if (parts.length > 0) slices.push(parts.join(','));
    return slices;
  }

  function simExchange(req: Incoming): MerakiDispatchResponse {
    let result: RouteResult;
    try {
      let body: unknown;
      try {
        body = req.raw === '' ? undefined : JSON.parse(req.raw);
      } catch {
        throw new HttpError(400, ['The request body is not valid JSON']);
      }
      result = control(
        {
          faults: sim,
          state: (orgId) =>
            [...state.orgs.values()]
              .filter((o) => orgId === null || o.org.id === orgId)
              .flatMap((o) => o.order.map((id) => state.view(state.net(id)))),
          stats: () => ({
            ...sim.stats(),
            maxRequestsPerSecond: Object.fromEntries(
              [...state.orgs.keys()].map((id) => [id, requestTimes.maxInWindow(id)]),
            ),
          }),
        },
        req.method,
        req.url,
        body,
      );
    } catch (error) {
      result =
        error instanceof HttpError
          ? { status: error.status, body: errors(...error.messages) }
          : { status: 500, body: errors(`Internal simulator error: ${(error as Error).message}`) };
    }
    return {
      status: result.status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      text: JSON.stringify(result.body),
    };
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const raw = await readBody(req);
    const r = await exchange({
      method: req.method ?? 'GET',
      headers: req.headers,
      url,
      raw,
      sourceIp: req.socket.remoteAddress ?? DEFAULT_SOURCE_IP,
    });
    if (!r.slices) {
      res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.text) });
      res.end(r.text);
      return;
    }
    // Chunked, a slice at a time: writing tens of MB at once held the event loop too.
    res.writeHead(r.status, r.headers);
    res.write('[');
    for (const [i, slice] of r.slices.entries()) {
      res.write(i === 0 ? slice : `,${slice}`);
      await turn();
    }
    res.end(']');
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

  const sim: MerakiSimulator = {
    baseUrl: listening ? `http://${host}:${port}/api/v1` : 'http://meraki.sim.test/api/v1',
    controlUrl: listening ? `http://${host}:${port}` : '',
    port,
    apiKey: apiKeys[0] as string,
    dispatch: async (req) => {
      const r = await exchange({
        method: req.method,
        headers: req.headers,
        url: req.url,
        raw: req.body ?? '',
        sourceIp: req.sourceIp ?? DEFAULT_SOURCE_IP,
      });
      return r.slices ? { status: r.status, headers: r.headers, text: joined(r.slices) } : r;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (!listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setLoss(networkId, hubName, lossPct, latencyMs) {
      state.setPathLoss(state.net(networkId), hubName, lossPct, latencyMs);
    },
    setUplinkLoss(networkId, uplink, lossPct, latencyMs) {
      const ns = state.net(networkId);
      state.uplink(ns, uplink);
      ns.links.setLoss(
        uplink,
        now(),
        lossPct === null ? null : { lossPct, latencyMs: latencyMs ?? defaultLatency(lossPct) },
      );
    },
    setUplinkDown(networkId, uplink, down) {
      const ns = state.net(networkId);
      ns.links.setDown(state.uplink(ns, uplink), now(), down);
    },
    setHubDown(organizationId, hubName, down) {
      const org = state.org(organizationId);
      state.hub(org, hubName);
      org.hubDown.get(hubName)?.set(now(), down);
    },
    breakTunnel(networkId, hubName, broken) {
      const ns = state.net(networkId);
      state.hub(ns.org, hubName);
      if (broken) ns.broken.add(hubName);
      else ns.broken.delete(hubName);
    },
    setPeers(organizationId, peers) {
      state.setPeers(state.org(organizationId), peers);
    },
    failRequests(spec) {
      requestFaults.add(spec);
    },
    storm429(spec) {
      requestFaults.add({ status: 429, forMs: spec.forMs, retryAfterSec: spec.retryAfterSec ?? 1 });
    },
    failBatches(spec) {
      batches.failBatches(spec);
    },
    setTags(networkId, tags) {
      state.applyTags(state.net(networkId), tags);
    },
    editTags(networkId, edit) {
      const ns = state.net(networkId);
      const remove = new Set(edit.remove ?? []);
      const kept = ns.network.tags.filter((t) => !remove.has(t));
      state.applyTags(ns, [...kept, ...(edit.add ?? []).filter((t) => !kept.includes(t))]);
    },
    setRateLimit(next) {
      orgRate = next;
      for (const bucket of orgBuckets.values()) bucket.reset(next);
    },
    setIpRateLimit(next) {
      ipRate = next;
      for (const bucket of ipBuckets.values()) bucket.reset(next);
    },
    heal() {
      state.heal();
      requestFaults.clear();
      batches.clearFaults();
    },
    network(networkId) {
      const ns = state.find(networkId);
      return ns ? { ...ns.network, tags: [...ns.network.tags], organizationId: ns.org.org.id } : undefined;
    },
    tunnelHub(networkId) {
      return state.tunnelHub(state.net(networkId));
    },
    reachableHub(networkId) {
      return state.reachableHub(state.net(networkId));
    },
    activeUplink(networkId) {
      return state.net(networkId).links.active(now()).uplink;
    },
    networkState(networkId) {
      return state.view(state.net(networkId));
    },
    tunnelChanges: state.tunnelChanges,
    onTunnelChange(listener) {
      state.tunnelListeners.push(listener);
    },
    requestTimes: (organizationId) => requestTimes.of(organizationId),
    maxRequestsInWindow: (organizationId, windowMs) => requestTimes.maxInWindow(organizationId, windowMs),
    log,
    clearLog() {
      log.length = 0;
    },
    stats() {
      return { ...stats, byStatus: { ...stats.byStatus } };
    },
  };
  return sim;
}
