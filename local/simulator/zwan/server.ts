/**
 * The zWAN director simulator: ONE HTTP server on loopback hosting both sites' directors
 * (`/sites/DC/api/v1`, `/sites/DR/api/v1`) over one simulated world (each director with its own
 * configuration, role and epoch fence: ./world.ts), speaking the contract in
 * `shared/director/zwan/openapi.yaml`. A director's backups and restores run on its job runner
 * (`jobs`, or `setJobRunner` later: ./jobs.ts writes and reads S3 for real). Fault injection works programmatically (`faults`) and
 * over HTTP (`POST /_sim/faults/<action>`); every director request is logged (`requests`,
 * `GET /_sim/requests`); `GET /_sim/state` shows the world.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DirectorJob, S3Location } from '../../../shared/director/port.js';
import type { HaState, SiteName, SiteRole } from '../../../shared/domain/model.js';
import { CpeFailoverError, NotFoundError, ValidationError } from '../../../shared/errors.js';
import {
  ZWAN_API_PREFIX,
  ZWAN_CLIENT_TOKEN_MAX,
  ZWAN_CLIENT_TOKEN_PATTERN,
  ZWAN_HEALTH_MAX_IDS,
  ZWAN_MAX_PAGE_SIZE,
  type WireDirectorHealth,
  type WireJob,
  type WireSshOnboardedCpe,
  type WireTunnelAssignment,
} from '../../../shared/director/zwan/wire.js';
import { parseTopology, type Topology, type TopologyCpeInput, type TopologyInput } from '../topology.js';
import { InstantJobRunner, type JobRunner } from './job-runner.js';
import { createWorld, type DirectorMode, SimHttpError, type SimWorld } from './world.js';

/** The API key both simulated directors accept unless told otherwise. */
export const SIM_API_KEY = 'zwan-sim-key';

/** One logged director request. */
export interface SimRequestRecord {
  seq: number;
  at: number;
  site: SiteName;
  method: string;
  /** Path below the director's API base (`/tenants/t/cpes`), without the query. */
  path: string;
  query: Record<string, string>;
  /** The contract's operationId when the route matched (`repointBranch`…). */
  operation?: string;
  requestBody?: unknown;
  /** HTTP status; 0 when the director dropped the connection or hung (a fault). */
  status: number;
  responseBody?: unknown;
  responseHeaders: Record<string, string>;
  /** The director fault applied to this request, if any. */
  fault?: DirectorMode;
}

/** Fault injection and world changes (also at `POST /_sim/faults/<method name>`). */
export interface SimFaults {
  cpeDown(id: string): void;
  cpeUp(id: string): void;
  /** The site loses power: its director drops connections and its CPEs are down. */
  siteDown(site: SiteName): void;
  siteUp(site: SiteName): void;
  /** Loss % and latency of a CPE (all WANs, or one). 100 % loss = nothing comes back. */
  setLoss(id: string, lossPct: number, latencyMs?: number, wan?: string): void;
  /** How a site's director answers: ok, 503s, never, after `delayMs`, or by dropping the connection. */
  director(site: SiteName, behaviour: { mode: DirectorMode; delayMs?: number }): void;
  /** The next `n` re-point calls (any site) answer 503 and change nothing. */
  failNextRepoints(n: number): void;
  /**
   * The next `n` job starts (backup or restore, any site) do their work (start a job, or find
   * the job of a repeated client token) and then never answer: a timeout after the director acted.
   */
  hangNextJobStarts(n: number): void;
  /**
   * Onboard a new CPE, known to `directors` (default both; `['DC']`: onboarded at DC after the
   * last backup, so DR learns it only from the next restore).
   */
  addCpe(cpe: TopologyCpeInput, options?: { directors?: readonly SiteName[] }): void;
  /**
   * Delete a CPE from `directors`' configurations; by default from both, and from the world
   * (hardware removed).
   */
  deleteCpe(id: string, options?: { directors?: readonly SiteName[] }): void;
  /**
   * Reboot CPEs (default: every SSH-onboarded one): each comes back managed by the director whose
   * management URL the provisioning server hands out now. Returns the ids rebooted.
   */
  reboot(cpeIds?: readonly string[]): string[];
  /**
   * Hardware replacement: onboard `cpe` instead of `oldId`. The old one stays listed and down
   * (reference scenario 4) unless `deleteOld` (scenario 5).
   */
  replaceCpe(oldId: string, cpe: TopologyCpeInput, options?: { deleteOld?: boolean }): void;
  /** Point a branch's tunnels at a concentrator behind the controller's back (reboot with stale config). */
  driftBranch(branchId: string, concentratorId: string): void;
  /**
   * A broken standby tunnel: once `branchId` is re-pointed onto `concentratorId`, its tunnels stay
   * CREATED and never reach ESTABLISHED (until heal).
   */
  breakTunnel(branchId: string, concentratorId: string): void;
  /** Set a site director's role directly (as an operator on the director would). */
  setSiteRole(site: SiteName, role: SiteRole): void;
  /** Everything back to normal: directors answer, sites powered, CPEs up, no loss, no pending failures, no broken tunnels. */
  heal(): void;
}

/** Options of {@link createZwanSimulator}. */
export interface ZwanSimulatorOptions {
  /** @default the Chennai lab (topologies/chennai-lab.json) */
  topology?: Topology | TopologyInput;
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Added to every director answer (benchmarks: 20). @default 0 */
  latencyMs?: number;
  /** Accepted `X-Api-Key` per site. @default SIM_API_KEY for both */
  apiKeys?: Partial<Record<SiteName, string>>;
  /** Backup/restore runner, or a factory given the world. @default InstantJobRunner */
  jobs?: JobRunner | ((world: SimWorld) => JobRunner);
  /** Request log length kept (oldest dropped first); 0 keeps none (the checker reads none). @default 10000 */
  maxLoggedRequests?: number;
  /** Keep request and response bodies in the log. @default true */
  logBodies?: boolean;
  /** Injectable clock for `at` fields. @default Date.now */
  now?: () => number;
  /** Open a socket. false: in-process only, through {@link ZwanSimulator.dispatch} (the checker). @default true */
  listen?: boolean;
}

/** One director request given to {@link ZwanSimulator.dispatch}: the body already parsed. */
export interface SimDispatchRequest {
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  json?: unknown;
  /** The body was not valid JSON. */
  invalid?: boolean;
  /** The Host header (for Link URLs). */
  host?: string;
}

/** What a director does with a request: answers, drops the connection, or never answers. */
export type SimDispatchResult =
  | { kind: 'reply'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'down' }
  | { kind: 'hang' };

/** Told of each fault applied over HTTP: the action and its JSON arguments. */
export type ControlListener = (action: string, body: Record<string, unknown>) => void;

/** A running simulator. */
export interface ZwanSimulator {
  /** A site director's API base URL, e.g. `http://127.0.0.1:PORT/sites/DC/api/v1`. */
  url(site: SiteName): string;
  readonly port: number;
  /** `http://host:port` (the `/_sim` API lives below it). */
  readonly origin: string;
  readonly world: SimWorld;
  readonly faults: SimFaults;
  /** The live request log (oldest first). */
  readonly requests: SimRequestRecord[];
  /** Answer one director request in-process (no socket, no latency). */
  dispatch(request: SimDispatchRequest): Promise<SimDispatchResult>;
  /**
   * Attach another backup/restore runner (e.g. the S3 one of the DR world) to this simulator's
   * directors. Only before the first job start (throws after).
   */
  setJobRunner(runner: JobRunner | ((world: SimWorld) => JobRunner)): void;
  /** Called after each fault applied through `POST /_sim/faults/<action>` (the sandbox's timeline prints it). */
  onControl(listener: ControlListener): void;
  clearRequests(): void;
  close(): Promise<void>;
}

type Params = Record<string, string>;
interface Ctx {
  site: SiteName;
  params: Params;
  query: URLSearchParams;
  body: unknown;
  /** Absolute base URL of this site's API (for Link headers). */
  apiBase: string;
}
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** The director acted but never answers (hangNextJobStarts). */
  hang?: boolean;
}
interface Route {
  method: string;
  pattern: string[];
  operation: string;
  handle(ctx: Ctx): Reply | Promise<Reply>;
}

/** Whether path segments fit a route pattern of the same length (`:name` takes any non-empty segment). */
function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segments[i] as string;
    if (p.charCodeAt(0) === 58 /* : */ ? s === '' : p !== s) return false;
  }
  return true;
}

function bad(message: string, code = 'BAD_REQUEST'): SimHttpError {
  return new SimHttpError(400, code, message);
}

function obj(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function str(body: Record<string, unknown>, field: string, optional = false): string | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '')
    throw bad(`${field}=${JSON.stringify(v)}: expected a non-empty string`);
  return v;
}

function epochOf(body: Record<string, unknown>, optional = false): number | undefined {
  const v = body.epoch;
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw bad(`epoch=${JSON.stringify(v)}: expected an integer >= 0`);
  }
  return v;
}

function role(v: unknown, field: string): HaState {
  if (v !== 'ACTIVE' && v !== 'PASSIVE')
    throw bad(`${field}=${JSON.stringify(v)}: expected ACTIVE or PASSIVE`);
  return v;
}

function onlyFields(body: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0)
    throw bad(`unknown field(s) ${extra.join(', ')}: expected only ${allowed.join(', ')}`);
}

/** `limit` and `cursor` query parameters (cursor = offset). */
function paging(query: URLSearchParams): { limit: number; offset: number } {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 500 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > ZWAN_MAX_PAGE_SIZE) {
    throw bad(`limit=${JSON.stringify(rawLimit)}: expected an integer from 1 to ${ZWAN_MAX_PAGE_SIZE}`);
  }
  const cursor = query.get('cursor');
  if (cursor !== null && !/^\d+$/.test(cursor))
    throw bad(`cursor=${JSON.stringify(cursor)}: not a cursor of this API`);
  return { limit, offset: cursor === null ? 0 : Number(cursor) };
}

function pageReply<T>(
  ctx: Ctx,
  path: string,
  limit: number,
  items: T[],
  next: number | undefined,
  filters: Record<string, string> = {},
): Reply {
  if (next === undefined) return { status: 200, body: { items } };
  const query = new URLSearchParams({ ...filters, limit: String(limit), cursor: String(next) });
  const link = `${ctx.apiBase}${path}?${query.toString()}`;
  return {
    status: 200,
    body: { items, nextCursor: String(next) },
    headers: { link: `<${link}>; rel="next"` },
  };
}

/** A job start's body: the S3 location and the client token. */
function jobRequest(body: unknown): { location: S3Location; clientToken: string } {
  const b = obj(body);
  onlyFields(b, ['scope', 'bucket', 'mspPrefix', 'elkPrefix', 'clientToken']);
  if (b.scope !== 'msp') throw bad(`scope=${JSON.stringify(b.scope)}: expected "msp"`);
  const bucket = str(b, 'bucket') as string;
  if (bucket.length < 3 || bucket.length > 63)
    throw bad(`bucket=${JSON.stringify(bucket)}: expected 3 to 63 characters`);
  const clientToken = str(b, 'clientToken') as string;
  if (clientToken.length > ZWAN_CLIENT_TOKEN_MAX || !ZWAN_CLIENT_TOKEN_PATTERN.test(clientToken)) {
    throw bad(
      `clientToken=${JSON.stringify(clientToken)}: expected 1 to ${ZWAN_CLIENT_TOKEN_MAX} characters of A-Z a-z 0-9 . _ : -`,
    );
  }
  return {
    location: { bucket, mspPrefix: str(b, 'mspPrefix') as string, elkPrefix: str(b, 'elkPrefix') as string },
    clientToken,
  };
}

function wireJob(job: WireJob): WireJob {
  const out: WireJob = { jobId: job.jobId, kind: job.kind, state: job.state, progressPct: job.progressPct };
  // Copied: an in-process answer is handed over uncopied, and the runner keeps the job.
  if (job.manifest)
    out.manifest = job.manifest.map((m) => ({ key: m.key, bytes: m.bytes, sha256: m.sha256 }));
  if (job.error !== undefined) out.error = job.error;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Start the simulator. */
export async function createZwanSimulator(options: ZwanSimulatorOptions = {}): Promise<ZwanSimulator> {
  const topology = options.topology
    ? parseTopology(options.topology)
    : await import('../topology.js').then((m) => m.loadDefaultTopology());
  const now = options.now ?? Date.now;
  const world = createWorld(topology, now);
  const takeRunner = (given: JobRunner | ((world: SimWorld) => JobRunner) | undefined): JobRunner => {
    const runner: JobRunner = typeof given === 'function' ? given(world) : (given ?? new InstantJobRunner());
    runner.attach?.(world);
    return runner;
  };
  let jobs = takeRunner(options.jobs);
  /** Replace the job runner before any job started (a started job's runner must keep answering for it). */
  function setJobRunner(runner: JobRunner | ((world: SimWorld) => JobRunner)): void {
    if (world.jobTokens.size > 0) {
      throw new Error(
        `setJobRunner: ${world.jobTokens.size} job(s) already started with the current runner; attach the runner before the first job`,
      );
    }
    jobs = takeRunner(runner);
  }
  const apiKeys: Record<SiteName, string> = {
    DC: options.apiKeys?.DC ?? SIM_API_KEY,
    DR: options.apiKeys?.DR ?? SIM_API_KEY,
  };
  const latencyMs = options.latencyMs ?? 0;
  const maxLogged = options.maxLoggedRequests ?? 10_000;
  const logBodies = options.logBodies ?? true;
  const requests: SimRequestRecord[] = [];
  const controlListeners: ControlListener[] = [];
  const onControl = (listener: ControlListener) => void controlListeners.push(listener);
  let seq = 0;

  function log(record: Omit<SimRequestRecord, 'seq' | 'at'>): void {
    const r: SimRequestRecord = { seq: ++seq, at: now(), ...record };
    // dispatch leaves the bodies out already (a delete makes the record a slow dictionary).
    if (!logBodies && (r.requestBody !== undefined || r.responseBody !== undefined)) {
      delete r.requestBody;
      delete r.responseBody;
    }
    requests.push(r);
    // Drop the oldest in batches so the log stays amortized O(1).
    if (requests.length > maxLogged + Math.ceil(maxLogged / 10))
      requests.splice(0, requests.length - maxLogged);
  }

  // ---------------------------------------------------------------- director routes
  /**
   * Start a backup or restore, idempotent by client token: a token seen before with the same
   * request returns its job (200), with another request 409; a new token starts a job (202).
   * While `hangJobStarts` counts down, the reply is withheld after the job exists.
   */
  function startJob(site: SiteName, kind: DirectorJob['kind'], body: unknown): Reply {
    const { location, clientToken } = jobRequest(body);
    const key = `${site}/${clientToken}`;
    const request = JSON.stringify([kind, location.bucket, location.mspPrefix, location.elkPrefix]);
    const seen = world.jobTokens.get(key);
    let reply: Reply;
    if (seen) {
      if (seen.request !== request) {
        throw new SimHttpError(
          409,
          'CLIENT_TOKEN_REUSED',
          `clientToken ${clientToken} already started job ${seen.jobId} with a different request on the ${site} director; nothing was started`,
          { clientToken, jobId: seen.jobId },
        );
      }
      const job = jobs.getJob(site, seen.jobId);
      if (!job) throw new Error(`the job runner lost job ${seen.jobId} of clientToken ${clientToken}`);
      reply = { status: 200, body: wireJob(job) };
    } else {
      const job = kind === 'backup' ? jobs.startBackup(site, location) : jobs.startRestore(site, location);
      world.jobTokens.set(key, { request, jobId: job.jobId });
      reply = { status: 202, body: wireJob(job) };
    }
    if (world.hangJobStarts > 0) {
      world.hangJobStarts--;
      reply.hang = true;
    }
    return reply;
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: ['health'],
      operation: 'getDirectorHealth',
      handle: ({ site }) => {
        const s = world.sites[site];
        const body: WireDirectorHealth = {
          site,
          status: 'OK',
          role: s.role,
          version: s.version,
          time: new Date(now()).toISOString(),
        };
        return { status: 200, body };
      },
    },
    {
      method: 'GET',
      pattern: ['site', 'role'],
      operation: 'getSiteRole',
      handle: ({ site }) => ({ status: 200, body: { site, role: world.sites[site].role } }),
    },
    {
      method: 'PUT',
      pattern: ['site', 'role'],
      operation: 'setSiteRole',
      handle: ({ site, body }) => {
        const b = obj(body);
        onlyFields(b, ['role']);
        world.sites[site].role = role(b.role, 'role');
        return { status: 200, body: { site, role: world.sites[site].role } };
      },
    },
    {
      method: 'GET',
      pattern: ['tenants', ':tenantId', 'cpes'],
      operation: 'listCpes',
      handle: (ctx) => {
        const { limit, offset } = paging(ctx.query);
        const tenantId = ctx.params.tenantId as string;
        const haName = ctx.query.get('haName') ?? undefined;
        const page = world.listCpes(ctx.site, tenantId, offset, limit, haName);
        const path = `/tenants/${encodeURIComponent(tenantId)}/cpes`;
        return pageReply(ctx, path, limit, page.items, page.next, haName ? { haName } : {});
      },
    },
    {
      method: 'GET',
      pattern: ['tenants', ':tenantId', 'cpes', ':cpeId'],
      operation: 'getCpe',
      handle: ({ site, params }) => ({
        status: 200,
        body: world.getCpe(site, params.tenantId as string, params.cpeId as string),
      }),
    },
    {
      method: 'POST',
      pattern: ['tenants', ':tenantId', 'cpe-health'],
      operation: 'queryCpeHealth',
      handle: ({ site, params, body }) => {
        const b = obj(body);
        onlyFields(b, ['cpeIds']);
        const ids = b.cpeIds;
        if (
          !Array.isArray(ids) ||
          ids.length < 1 ||
          ids.length > ZWAN_HEALTH_MAX_IDS ||
          !ids.every((i) => typeof i === 'string' && i !== '')
        ) {
          throw bad(
            `cpeIds: expected 1 to ${ZWAN_HEALTH_MAX_IDS} non-empty strings, got ${Array.isArray(ids) ? `${ids.length} item(s)` : JSON.stringify(ids)}`,
          );
        }
        const report = world.health(site, params.tenantId as string, ids as string[]);
        return { status: 200, body: { at: new Date(now()).toISOString(), ...report } };
      },
    },
    {
      method: 'PUT',
      pattern: ['tenants', ':tenantId', 'cpes', ':cpeId', 'ha-state'],
      operation: 'setHaState',
      handle: ({ site, params, body }) => {
        const b = obj(body);
        onlyFields(b, ['state', 'epoch']);
        const state = role(b.state, 'state');
        const epoch = epochOf(b) as number;
        return {
          status: 200,
          body: world.setHaState(site, params.tenantId as string, params.cpeId as string, state, epoch),
        };
      },
    },
    {
      method: 'POST',
      pattern: ['tenants', ':tenantId', 'cpes', ':cpeId', 'repoint'],
      operation: 'repointBranch',
      handle: ({ site, params, body }) => {
        const b = obj(body);
        onlyFields(b, ['targetCpeId', 'epoch', 'tunnels']);
        const targetCpeId = str(b, 'targetCpeId') as string;
        const epoch = epochOf(b) as number;
        const tunnels = b.tunnels;
        if (!Array.isArray(tunnels) || tunnels.length === 0) {
          throw bad(
            `tunnels=${JSON.stringify(tunnels)}: expected at least one { haTunnelIdentifier, tunnelId }`,
          );
        }
        const assignments: WireTunnelAssignment[] = tunnels.map((t, i) => {
          const o = obj(t);
          onlyFields(o, ['haTunnelIdentifier', 'tunnelId']);
          if (typeof o.haTunnelIdentifier !== 'string' || o.haTunnelIdentifier === '') {
            throw bad(
              `tunnels.${i}.haTunnelIdentifier=${JSON.stringify(o.haTunnelIdentifier)}: expected a non-empty string`,
            );
          }
          if (typeof o.tunnelId !== 'string' || o.tunnelId === '') {
            throw bad(`tunnels.${i}.tunnelId=${JSON.stringify(o.tunnelId)}: expected a non-empty string`);
          }
          return { haTunnelIdentifier: o.haTunnelIdentifier, tunnelId: o.tunnelId };
        });
        if (world.failRepoints > 0) {
          world.failRepoints -= 1;
          throw new SimHttpError(503, 'UNAVAILABLE', 'injected re-point failure (failNextRepoints)');
        }
        return {
          status: 200,
          body: world.repoint(
            site,
            params.tenantId as string,
            params.cpeId as string,
            targetCpeId,
            epoch,
            assignments,
          ),
        };
      },
    },
    {
      method: 'POST',
      pattern: ['tenants', ':tenantId', 'ha-groups', ':haName', 'update-branches'],
      operation: 'updateGroupBranches',
      handle: ({ site, params, body }) => {
        const b = obj(body ?? {});
        onlyFields(b, ['targetCpeId', 'epoch']);
        const target = str(b, 'targetCpeId', true);
        const epoch = epochOf(b, true);
        return {
          status: 200,
          body: world.updateGroup(site, params.tenantId as string, params.haName as string, target, epoch),
        };
      },
    },
    {
      method: 'PUT',
      pattern: ['tenants', ':tenantId', 'ha-groups', ':haName', 'epoch'],
      operation: 'fenceHaGroup',
      handle: ({ site, params, body }) => {
        const b = obj(body);
        onlyFields(b, ['epoch', 'servingId']);
        const epoch = epochOf(b) as number;
        const servingId = b.servingId === undefined ? undefined : str(b, 'servingId');
        return {
          status: 200,
          body: world.fenceGroup(site, params.tenantId as string, params.haName as string, epoch, servingId),
        };
      },
    },
    {
      method: 'POST',
      pattern: ['backups'],
      operation: 'startBackup',
      handle: ({ site, body }) => startJob(site, 'backup', body),
    },
    {
      method: 'POST',
      pattern: ['restores'],
      operation: 'startRestore',
      handle: ({ site, body }) => startJob(site, 'restore', body),
    },
    {
      method: 'GET',
      pattern: ['jobs', ':jobId'],
      operation: 'getJob',
      handle: ({ site, params }) => {
        const job = jobs.getJob(site, params.jobId as string);
        if (!job)
          throw new SimHttpError(
            404,
            'NOT_FOUND',
            `job ${params.jobId} does not exist on the ${site} director`,
          );
        return { status: 200, body: wireJob(job) };
      },
    },
    {
      method: 'GET',
      pattern: ['provisioning', 'management-url'],
      operation: 'getManagementUrl',
      handle: ({ site }) => ({ status: 200, body: { url: world.sites[site].managementUrl } }),
    },
    {
      method: 'PUT',
      pattern: ['provisioning', 'management-url'],
      operation: 'setManagementUrl',
      handle: ({ site, body }) => {
        const b = obj(body);
        onlyFields(b, ['url']);
        const url = str(b, 'url') as string;
        if (!/^https?:\/\/[^\s/]+/.test(url) || !URL.canParse(url)) {
          throw bad(`url=${JSON.stringify(url)}: expected an http(s) URL`);
        }
        world.setManagementUrl(site, url);
        return { status: 200, body: { url } };
      },
    },
    {
      method: 'GET',
      pattern: ['provisioning', 'ssh-onboarded-cpes'],
      operation: 'listSshOnboardedCpes',
      handle: (ctx) => {
        const { limit, offset } = paging(ctx.query);
        const all: WireSshOnboardedCpe[] = world.sshOnboarded(ctx.site).map((c) => ({
          id: c.id,
          name: c.name,
          tenantId: c.tenantId,
          ...(c.onboardedAt ? { onboardedAt: c.onboardedAt } : {}),
        }));
        const next = offset + limit < all.length ? offset + limit : undefined;
        return pageReply(
          ctx,
          '/provisioning/ssh-onboarded-cpes',
          limit,
          all.slice(offset, offset + limit),
          next,
        );
      },
    },
  ];

  /** Routes by path length, in declaration order (the first match wins, as before). */
  const routesByLength = new Map<number, Route[]>();
  for (const route of routes) {
    const list = routesByLength.get(route.pattern.length) ?? [];
    list.push(route);
    routesByLength.set(route.pattern.length, list);
  }

  function match(method: string, segments: string[]): { route?: Route; params: Params; pathKnown: boolean } {
    let pathKnown = false;
    for (const route of routesByLength.get(segments.length) ?? []) {
      if (!matches(route.pattern, segments)) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      const params: Params = {};
      route.pattern.forEach((p, i) => {
        if (p.startsWith(':')) params[p.slice(1)] = segments[i] as string;
      });
      return { route, params, pathKnown };
    }
    return { params: {}, pathKnown };
  }

  // ---------------------------------------------------------------- faults
  function siteArg(site: unknown): SiteName {
    if (site !== 'DC' && site !== 'DR') {
      throw new ValidationError('fault', [{ path: 'site', value: site, expected: 'DC or DR' }]);
    }
    return site;
  }
  function sitesOption(
    what: string,
    opts: { directors?: readonly SiteName[] } | undefined,
  ): { directors?: readonly SiteName[] } {
    const d = opts?.directors;
    if (d === undefined) return {};
    if (!Array.isArray(d) || !d.every((s) => s === 'DC' || s === 'DR')) {
      throw new ValidationError(what, [{ path: 'directors', value: d, expected: 'an array of DC and DR' }]);
    }
    return { directors: d };
  }
  const faults: SimFaults = {
    cpeDown: (id) => world.setUp(id, false),
    cpeUp: (id) => world.setUp(id, true),
    siteDown: (site) => {
      world.setSitePower(siteArg(site), false);
      world.sites[site].mode = 'down';
    },
    siteUp: (site) => {
      world.setSitePower(siteArg(site), true);
      world.sites[site].mode = 'ok';
    },
    setLoss: (id, lossPct, latencyMs, wan) => {
      const cpe = world.mustGet(id);
      if (typeof lossPct !== 'number' || !(lossPct >= 0 && lossPct <= 100)) {
        throw new ValidationError('setLoss', [
          { path: 'lossPct', value: lossPct, expected: 'a number from 0 to 100' },
        ]);
      }
      if (latencyMs !== undefined && (typeof latencyMs !== 'number' || !(latencyMs >= 0))) {
        throw new ValidationError('setLoss', [
          { path: 'latencyMs', value: latencyMs, expected: 'a number >= 0' },
        ]);
      }
      if (wan !== undefined) {
        if (!cpe.wans.some((w) => w.name === wan)) {
          throw new ValidationError('setLoss', [
            { path: 'wan', value: wan, expected: `one of ${cpe.wans.map((w) => w.name).join(', ')}` },
          ]);
        }
        const prev = cpe.wanFigures.get(wan) ?? cpe;
        cpe.wanFigures.set(wan, { lossPct, latencyMs: latencyMs ?? prev.latencyMs });
      } else {
        cpe.lossPct = lossPct;
        if (latencyMs !== undefined) cpe.latencyMs = latencyMs;
        cpe.wanFigures.clear();
      }
    },
    director: (site, behaviour) => {
      const modes: DirectorMode[] = ['ok', 'error5xx', 'hang', 'slow', 'down'];
      if (!modes.includes(behaviour?.mode)) {
        throw new ValidationError('director fault', [
          { path: 'mode', value: behaviour?.mode, expected: modes.join(' | ') },
        ]);
      }
      const d = behaviour.delayMs ?? 1000;
      if (typeof d !== 'number' || !(d >= 0)) {
        throw new ValidationError('director fault', [
          { path: 'delayMs', value: d, expected: 'a number >= 0' },
        ]);
      }
      const s = world.sites[siteArg(site)];
      s.mode = behaviour.mode;
      s.delayMs = d;
    },
    failNextRepoints: (n) => {
      if (!Number.isInteger(n) || n < 0) {
        throw new ValidationError('failNextRepoints', [{ path: 'n', value: n, expected: 'an integer >= 0' }]);
      }
      world.failRepoints = n;
    },
    hangNextJobStarts: (n) => {
      if (!Number.isInteger(n) || n < 0) {
        throw new ValidationError('hangNextJobStarts', [
          { path: 'n', value: n, expected: 'an integer >= 0' },
        ]);
      }
      world.hangJobStarts = n;
    },
    addCpe: (cpe, opts) => void world.addCpe(cpe, sitesOption('addCpe', opts)),
    deleteCpe: (id, opts) => world.deleteCpe(id, sitesOption('deleteCpe', opts)),
    reboot: (cpeIds) => {
      if (
        cpeIds !== undefined &&
        (!Array.isArray(cpeIds) || !cpeIds.every((i) => typeof i === 'string' && i !== ''))
      ) {
        throw new ValidationError('reboot', [
          {
            path: 'cpeIds',
            value: cpeIds,
            expected: 'an array of CPE ids (or absent: every SSH-onboarded CPE)',
          },
        ]);
      }
      return world.reboot(cpeIds);
    },
    replaceCpe: (oldId, cpe, opts) => {
      world.mustGet(oldId);
      world.addCpe(cpe);
      if (opts?.deleteOld) world.deleteCpe(oldId);
      else world.setUp(oldId, false);
    },
    driftBranch: (branchId, concentratorId) => world.driftBranch(branchId, concentratorId),
    breakTunnel: (branchId, concentratorId) => world.breakTunnel(branchId, concentratorId),
    setSiteRole: (site, r) => {
      world.sites[siteArg(site)].role = role(r, 'role');
    },
    heal: () => {
      for (const s of ['DC', 'DR'] as const) {
        world.setSitePower(s, true);
        world.sites[s].mode = 'ok';
      }
      for (const c of world.cpes.values()) {
        c.up = true;
        c.lossPct = 0;
        c.wanFigures.clear();
      }
      world.failRepoints = 0;
      world.hangJobStarts = 0;
      world.brokenTunnels.clear();
    },
  };

  /** Call a fault by name with the JSON body's fields (HTTP fault API). */
  function applyFault(action: string, body: Record<string, unknown>): void {
    // Arguments are checked by the fault functions themselves (clear errors naming the field).
    const a = (key: string) => body[key] as never;
    switch (action) {
      case 'cpeDown':
      case 'cpeUp':
        return faults[action](a('id'));
      case 'deleteCpe':
        return faults.deleteCpe(a('id'), { directors: a('directors') });
      case 'reboot':
        return void faults.reboot(a('cpeIds'));
      case 'siteDown':
      case 'siteUp':
        return faults[action](a('site'));
      case 'setLoss':
        return faults.setLoss(a('id'), a('lossPct'), a('latencyMs'), a('wan'));
      case 'director':
        return faults.director(a('site'), { mode: a('mode'), delayMs: a('delayMs') });
      case 'failNextRepoints':
      case 'hangNextJobStarts':
        return faults[action](a('n'));
      case 'addCpe':
        return faults.addCpe(a('cpe'), { directors: a('directors') });
      case 'replaceCpe':
        return faults.replaceCpe(a('oldId'), a('cpe'), { deleteOld: a('deleteOld') });
      case 'driftBranch':
      case 'breakTunnel':
        return faults[action](a('branchId'), a('concentratorId'));
      case 'setSiteRole':
        return faults.setSiteRole(a('site'), a('role'));
      case 'heal':
        return faults.heal();
      default:
        throw new NotFoundError(
          `unknown fault ${JSON.stringify(action)}: expected one of ${Object.keys(faults).join(', ')}`,
        );
    }
  }

  function stateView(tenantId: string | null) {
    const cpes = [...world.cpes.values()]
      .filter((c) => !tenantId || c.tenantId === tenantId)
      .map((c) => ({
        ...world.toWire(c),
        site: c.site,
        alive: world.alive(c),
        lossPct: c.lossPct,
        latencyMs: c.latencyMs,
        target: world.isConcentrator(c) ? undefined : world.currentTarget(c.id),
        managedBy: c.managedBy,
      }));
    const known = (site: SiteName) =>
      [...world.configs[site].cpes.values()]
        .filter((c) => !tenantId || c.tenantId === tenantId)
        .map((c) => c.id);
    return {
      sites: world.sites,
      provisioningSite: world.provisioningSite,
      /** The CPE ids each site's director knows (its configuration). */
      directors: { DC: { cpeIds: known('DC') }, DR: { cpeIds: known('DR') } },
      epochs: { DC: Object.fromEntries(world.epochs.DC), DR: Object.fromEntries(world.epochs.DR) },
      failNextRepoints: world.failRepoints,
      hangNextJobStarts: world.hangJobStarts,
      tenants: [...world.tenants.values()].map((t) => ({ id: t.id, name: t.name, cpes: t.cpeIds.length })),
      cpes,
    };
  }

  // ---------------------------------------------------------------- HTTP
  function send(res: ServerResponse, reply: Reply): void {
    const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(payload ? { 'content-type': 'application/json' } : {}),
      ...reply.headers,
    });
    res.end(payload);
  }

  function errorReply(error: unknown): Reply {
    if (error instanceof SimHttpError) {
      return {
        status: error.status,
        body: { error: { code: error.code, message: error.message, ...error.extra } },
      };
    }
    if (error instanceof NotFoundError)
      return { status: 404, body: { error: { code: 'NOT_FOUND', message: error.message } } };
    if (error instanceof CpeFailoverError) {
      return { status: 400, body: { error: { code: 'BAD_REQUEST', message: error.message } } };
    }
    return {
      status: 500,
      body: { error: { code: 'INTERNAL', message: String((error as Error)?.message ?? error) } },
    };
  }

  async function readBody(req: IncomingMessage): Promise<{ raw: string; json?: unknown; invalid?: boolean }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (raw === '') return { raw };
    try {
      return { raw, json: JSON.parse(raw) };
    } catch {
      return { raw, invalid: true };
    }
  }

  async function handleSim(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: unknown,
  ): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean); // ['_sim', ...]
    try {
      if (req.method === 'GET' && parts[1] === 'state' && parts.length === 2) {
        return send(res, { status: 200, body: stateView(url.searchParams.get('tenantId')) });
      }
      if (parts[1] === 'requests' && parts.length === 2) {
        if (req.method === 'DELETE') {
          requests.length = 0;
          return send(res, { status: 204, body: undefined });
        }
        if (req.method === 'GET') {
          const since = Number(url.searchParams.get('since') ?? '0');
          const site = url.searchParams.get('site');
          return send(res, {
            status: 200,
            body: { requests: requests.filter((r) => r.seq > since && (!site || r.site === site)) },
          });
        }
      }
      if (req.method === 'POST' && parts[1] === 'faults' && parts.length === 3) {
        const action = parts[2] as string;
        const args = obj(body ?? {});
        applyFault(action, args);
        for (const listener of controlListeners) listener(action, args);
        return send(res, { status: 200, body: { ok: true, state: stateView(null).sites } });
      }
      throw new SimHttpError(404, 'NOT_FOUND', `no simulator control route ${req.method} ${url.pathname}`);
    } catch (error) {
      return send(res, errorReply(error));
    }
  }

  const hanging = new Set<ServerResponse>();

  const sitePath = /^\/sites\/(DC|DR)(\/api\/v1)(\/.*)?$/;

  /**
   * One director request, without sockets: what the node server answers, and what the checker's
   * in-process transport calls directly. `down`: the connection is dropped; `hang`: never answered.
   * Latency is the caller's (the node server sleeps first; the checker delays on its clock).
   */
  async function dispatch(request: SimDispatchRequest): Promise<SimDispatchResult> {
    const url = request.url;
    const m = sitePath.exec(url.pathname);
    if (!m) {
      return {
        kind: 'reply',
        status: 404,
        body: {
          error: {
            code: 'NOT_FOUND',
            message: `no director at ${url.pathname}: use /sites/DC${ZWAN_API_PREFIX} or /sites/DR${ZWAN_API_PREFIX}`,
          },
        },
      };
    }
    const site = m[1] as SiteName;
    const path = m[3] ?? '/';
    const method = request.method;
    const { json, invalid } = request;
    const segments = path.split('/').slice(1).map(decodeURIComponent);
    const { route, params, pathKnown } = match(method, segments);
    // No log record at all when none is kept: building one cost as much as answering a read.
    const base: Omit<SimRequestRecord, 'seq' | 'at' | 'status' | 'responseHeaders'> | undefined =
      maxLogged > 0
        ? {
            site,
            method,
            path,
            query: Object.fromEntries(url.searchParams),
            ...(route ? { operation: route.operation } : {}),
            ...(json !== undefined && logBodies ? { requestBody: json } : {}),
          }
        : undefined;

    const s = world.sites[site];
    if (s.mode === 'down') {
      if (base) log({ ...base, status: 0, responseHeaders: {}, fault: 'down' });
      return { kind: 'down' };
    }
    if (s.mode === 'hang') {
      if (base) log({ ...base, status: 0, responseHeaders: {}, fault: 'hang' });
      return { kind: 'hang' };
    }

    let reply: Reply;
    const fault = s.mode === 'slow' || s.mode === 'error5xx' ? s.mode : undefined;
    if (s.mode === 'error5xx') {
      reply = {
        status: 503,
        body: { error: { code: 'UNAVAILABLE', message: `the ${site} director is unavailable (injected)` } },
      };
    } else if (request.headers['x-api-key'] !== apiKeys[site]) {
      reply = {
        status: 401,
        body: {
          error: { code: 'UNAUTHORIZED', message: `missing or wrong X-Api-Key for the ${site} director` },
        },
      };
    } else if (invalid) {
      reply = errorReply(bad('the body is not valid JSON'));
    } else if (!route) {
      reply = pathKnown
        ? {
            status: 405,
            body: { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}` } },
          }
        : { status: 404, body: { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } } };
    } else {
      try {
        reply = await route.handle({
          site,
          params,
          query: url.searchParams,
          body: json,
          apiBase: `http://${request.host ?? '127.0.0.1'}/sites/${site}${ZWAN_API_PREFIX}`,
        });
      } catch (error) {
        reply = errorReply(error);
      }
    }
    if (reply.hang) {
      if (base) log({ ...base, status: 0, responseHeaders: {}, fault: 'hang' });
      return { kind: 'hang' };
    }
    if (base)
      log({
        ...base,
        status: reply.status,
        ...(reply.body !== undefined && logBodies ? { responseBody: reply.body } : {}),
        responseHeaders: reply.headers ?? {},
        ...(fault ? { fault } : {}),
      });
    return { kind: 'reply', ...reply };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const { json, invalid } = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) {
      if (invalid) return send(res, errorReply(bad('the body is not valid JSON')));
      return handleSim(req, res, url, json);
    }
    const site = sitePath.exec(url.pathname)?.[1] as SiteName | undefined;
    const mode = site ? world.sites[site].mode : 'ok';
    const delay =
      mode === 'down' || mode === 'hang'
        ? 0
        : latencyMs + (mode === 'slow' && site ? world.sites[site].delayMs : 0);
    if (delay > 0) await sleep(delay);
    const result = await dispatch({
      method: req.method ?? 'GET',
      url,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
      ),
      ...(json !== undefined ? { json } : {}),
      ...(invalid ? { invalid } : {}),
      ...(req.headers.host ? { host: req.headers.host } : {}),
    });
    if (result.kind === 'down') {
      req.socket.destroy();
      return;
    }
    if (result.kind === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    send(res, result);
  }

  if (options.listen === false) {
    return {
      url: (site) => `http://sim.invalid/sites/${site}${ZWAN_API_PREFIX}`,
      port: 0,
      origin: 'http://sim.invalid',
      world,
      faults,
      requests,
      dispatch,
      setJobRunner,
      onControl,
      clearRequests: () => {
        requests.length = 0;
      },
      close: async () => {},
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, errorReply(error));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: (site) => `${origin}/sites/${site}${ZWAN_API_PREFIX}`,
    port: address.port,
    origin,
    world,
    faults,
    requests,
    dispatch,
    setJobRunner,
    onControl,
    clearRequests: () => {
      requests.length = 0;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
