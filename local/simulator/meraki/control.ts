/**
 * The simulator's control API (no auth, never under /api/v1), in the zWAN simulator's style:
 *
 * | request | does |
 * | --- | --- |
 * | `GET /_sim/state[?organizationId=…]` | every network: tags, tunnel hub by tags, reachable hub, active uplink, uplink statuses |
 * | `GET /_sim/stats` | request counters, and per organization the busiest 1 s window |
 * | `POST /_sim/faults/<name>` | one {@link MerakiFaults} method; its arguments as a JSON object (below) |
 *
 * Fault bodies: `setLoss {networkId, hub, lossPct, latencyMs?}` · `setUplinkLoss {networkId,
 * uplink, lossPct, latencyMs?}` · `setUplinkDown {networkId, uplink, down}` · `setHubDown
 * {organizationId, hub, down}` · `breakTunnel {networkId, hub, broken}` · `setPeers
 * {organizationId, peers?}` · `failRequests {status, count?, forMs?, pathPrefix?, retryAfterSec?}` ·
 * `storm429 {forMs, retryAfterSec?}` · `failBatches {count?, networkIds?, message?}` · `setTags
 * {networkId, tags}` · `editTags {networkId, add?, remove?}` · `setRateLimit {rate}` ·
 * `setIpRateLimit {rate}` (`rate`: `{requestsPerSecond, burst}` or false) · `heal {}`.
 * A bad argument answers 400 `{ errors: [...] }` naming the field and the value; 404 for an unknown route.
 */
import { HttpError, objectOf, type RouteResult } from './http.js';
import type { MerakiFaults, SimNetworkState, SimPeer, SimRate, SimUplink } from './types.js';

type Args = Record<string, unknown>;

function str(args: Args, field: string): string {
  const v = args[field];
  if (typeof v !== 'string' || v === '')
    throw new HttpError(400, [`'${field}' must be a non-empty string, not ${JSON.stringify(v)}`]);
  return v;
}

function bool(args: Args, field: string): boolean {
  const v = args[field];
  if (typeof v !== 'boolean')
    throw new HttpError(400, [`'${field}' must be true or false, not ${JSON.stringify(v)}`]);
  return v;
}

function num(args: Args, field: string, optional: true): number | undefined;
function num(args: Args, field: string, optional?: false): number;
function num(args: Args, field: string, optional = false): number | undefined {
  const v = args[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new HttpError(400, [`'${field}' must be a number, not ${JSON.stringify(v)}`]);
  return v;
}

function lossPct(args: Args): number | null {
  const v = args.lossPct;
  if (v === null) return null;
  const n = num(args, 'lossPct');
  if (n < 0 || n > 100) throw new HttpError(400, [`'lossPct' must be from 0 to 100 or null, not ${n}`]);
  return n;
}

function strings(args: Args, field: string): string[] | undefined {
  const v = args[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new HttpError(400, [`'${field}' must be an array of strings, not ${JSON.stringify(v)}`]);
  }
  return v as string[];
}

function rate(args: Args): SimRate | false {
  const v = args.rate;
  if (v === false) return false;
  const r = objectOf(v, 'rate');
  return { requestsPerSecond: num(r, 'requestsPerSecond'), burst: num(r, 'burst') };
}

const uplink = (args: Args) => str(args, 'uplink') as SimUplink;

/** The control methods by name, each taking its JSON arguments. */
function methods(f: MerakiFaults): Record<string, (args: Args) => void> {
  return {
    setLoss: (a) =>
      f.setLoss(
        str(a, 'networkId'),
        str(a, 'hub'),
        lossPct(a),
        a.latencyMs === null ? null : num(a, 'latencyMs', true),
      ),
    setUplinkLoss: (a) =>
      f.setUplinkLoss(str(a, 'networkId'), uplink(a), lossPct(a), num(a, 'latencyMs', true)),
    setUplinkDown: (a) => f.setUplinkDown(str(a, 'networkId'), uplink(a), bool(a, 'down')),
    setHubDown: (a) => f.setHubDown(str(a, 'organizationId'), str(a, 'hub'), bool(a, 'down')),
    breakTunnel: (a) => f.breakTunnel(str(a, 'networkId'), str(a, 'hub'), bool(a, 'broken')),
    setPeers: (a) =>
      f.setPeers(str(a, 'organizationId'), a.peers === undefined ? undefined : (a.peers as SimPeer[])),
    failRequests: (a) => {
      const count = num(a, 'count', true);
      const forMs = num(a, 'forMs', true);
      const retryAfterSec = num(a, 'retryAfterSec', true);
      f.failRequests({
        status: num(a, 'status'),
        ...(count !== undefined ? { count } : {}),
        ...(forMs !== undefined ? { forMs } : {}),
        ...(typeof a.pathPrefix === 'string' ? { pathPrefix: a.pathPrefix } : {}),
        ...(retryAfterSec !== undefined ? { retryAfterSec } : {}),
      });
    },
    storm429: (a) => {
      const retryAfterSec = num(a, 'retryAfterSec', true);
      f.storm429({ forMs: num(a, 'forMs'), ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) });
    },
    failBatches: (a) => {
      const count = num(a, 'count', true);
      const networkIds = strings(a, 'networkIds');
      f.failBatches({
        ...(count !== undefined ? { count } : {}),
        ...(networkIds ? { networkIds } : {}),
        ...(typeof a.message === 'string' ? { message: a.message } : {}),
      });
    },
    setTags: (a) => f.setTags(str(a, 'networkId'), strings(a, 'tags') ?? []),
    editTags: (a) => {
      const add = strings(a, 'add');
      const remove = strings(a, 'remove');
      f.editTags(str(a, 'networkId'), { ...(add ? { add } : {}), ...(remove ? { remove } : {}) });
    },
    setRateLimit: (a) => f.setRateLimit(rate(a)),
    setIpRateLimit: (a) => f.setIpRateLimit(rate(a)),
    heal: () => f.heal(),
  };
}

/** Told of a fault applied over HTTP: its name and JSON arguments. */
export type ControlFaultListener = (name: string, args: Record<string, unknown>) => void;

const faultListeners = new WeakMap<MerakiFaults, ControlFaultListener[]>();

/**
 * Be told of each fault applied through `POST /_sim/faults/<name>` to the simulator whose fault
 * methods are `faults` (the simulator itself; the sandbox's timeline prints them).
 */
export function onControlFault(faults: MerakiFaults, listener: ControlFaultListener): void {
  faultListeners.set(faults, [...(faultListeners.get(faults) ?? []), listener]);
}

/** What the control API reads besides the faults. */
export interface ControlView {
  faults: MerakiFaults;
  state(organizationId: string | null): SimNetworkState[];
  stats(): unknown;
}

/** Answer one `/_sim/…` request. */
export function control(view: ControlView, method: string, url: URL, body: unknown): RouteResult {
  const parts = url.pathname.split('/').filter(Boolean); // ['_sim', ...]
  if (method === 'GET' && parts.length === 2 && parts[1] === 'state') {
    return { status: 200, body: { networks: view.state(url.searchParams.get('organizationId')) } };
  }
  if (method === 'GET' && parts.length === 2 && parts[1] === 'stats')
    return { status: 200, body: view.stats() };
  if (method === 'POST' && parts.length === 3 && parts[1] === 'faults') {
    const name = parts[2] as string;
    const fn = Object.hasOwn(methods(view.faults), name) ? methods(view.faults)[name] : undefined;
    if (!fn) {
      throw new HttpError(404, [
        `No fault ${JSON.stringify(name)}; one of ${Object.keys(methods(view.faults)).join(', ')}`,
      ]);
    }
    const args = objectOf(body ?? {}, 'body');
    try {
      fn(args);
    } catch (error) {
      if (error instanceof RangeError) throw new HttpError(400, [error.message]);
      throw error;
    }
    for (const listener of faultListeners.get(view.faults) ?? []) listener(name, args);
    return { status: 200, body: { ok: true } };
  }
  throw new HttpError(404, [`No simulator control route ${method} ${url.pathname}`]);
}
