/**
 * The Meraki Dashboard (API v1) behind the Director port: tag-based VPN failover (issue 4).
 *
 * Mapping onto the port. Meraki failover is per branch, so each participating network is its own
 * HA group (`HA_NAME` = network id) with one branch CPE (id = network id) and, per configured hub,
 * one concentrator CPE whose id is the path `networkId→hubName` ({@link pathTarget}). The hubs
 * take the candidate slots in order (DC/ACTIVE, DC/PASSIVE, DR/ACTIVE, DR/PASSIVE), so the common
 * health hysteresis and election run per branch unchanged: the health target is the path, the
 * election picks the first UP hub, and a re-point is a tag swap (shared/domain/meraki-tags.ts).
 * The Director port supports up to four hubs; the tag operations ({@link MerakiDirector.retagMany})
 * take any number.
 *
 * Health: one `uplinksLossAndLatency` call per organization and minute covers every branch; each
 * per-minute point becomes a Sample (`lossPercent: null` → `lossPct: null`, "no data"). Points
 * already returned by this instance are not returned again (the endpoint overlaps by 4 minutes),
 * so the hysteresis never counts one bad minute twice. A hub a branch does not track has no
 * series and stays UNKNOWN, unless the hub is `trustedWithoutTracking`, which gets a good sample
 * per call (the reference script's blind trust) and says so in its metadata.
 *
 * Answers. Every Dashboard body is parsed with the project's schemas (./schemas.ts) and every
 * request body is built through them: a malformed answer is a DirectorResponseError naming the
 * operation, the field and the value.
 *
 * Rate limit: one TokenBucket per organization (and base URL) in the process, shared by every
 * call and every adapter instance (default 9 requests/s, as the official SDK). 429 waits for
 * `Retry-After` (shared/director/http.ts).
 */
import type * as z from 'zod/mini';
import { zodIssues } from '../../config/load.js';
import { merakiSchema } from '../../config/schema.js';
import {
  currentHubFromTags,
  hasHubTags,
  hubStateTags,
  retagForHub,
  sameTags,
} from '../../domain/meraki-tags.js';
import { CANDIDATE_ORDER, type HaState, type RepointAction, type Sample } from '../../domain/model.js';
import {
  ConcurrentUpdateError,
  ConfigError,
  DirectorAuthError,
  DirectorRequestError,
  NotFoundError,
  ValidationError,
  formatValue,
} from '../../errors.js';
import {
  createHttpClient,
  mapLimit,
  systemClock,
  TokenBucket,
  type Clock,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
} from '../http.js';
import type { Director, DirectorCpe, DirectorHealth, RepointResult } from '../port.js';
import { apiKeyProvider } from '../secrets.js';
import { MERAKI_OPERATIONS, merakiRequestBody, parseMerakiResponse, type networkSchema } from './schemas.js';

/** Where the Dashboard's redirects may lead (its shards), unless `redirectHosts` is configured. */
export const DEFAULT_REDIRECT_HOSTS: readonly string[] = ['*.meraki.com'];

/** The Meraki part of the configuration, as validated (defaults applied). */
export type MerakiConfig = z.infer<typeof merakiSchema>;
/** One configured hub. */
export type MerakiHub = MerakiConfig['organizations'][number]['hubs'][number];

/** A network as the Dashboard returns it (the fields used here). */
export interface MerakiNetwork {
  id: string;
  organizationId?: string;
  name: string;
  tags: string[];
}

/** A participating network with its failover state. */
export interface MerakiBranch extends MerakiNetwork {
  /** The hub whose `_up` tag it carries; undefined when none or several. */
  currentHub?: string;
}

/** One wanted tag change: the hub that should carry the network's tunnel. */
export interface RetagChange {
  networkId: string;
  hub: string;
}

/** What {@link MerakiDirector.retagMany} did. */
export interface RetagReport {
  organizationId: string;
  /** Networks whose tags were changed. */
  changed: string[];
  /** Networks that already had the wanted tags (no request made for them). */
  unchanged: string[];
  /** Networks left to reconcile, with the reason (a failed batch's errors, a missing network…). */
  failed: { networkId: string; reason: string }[];
  /** Every batch submitted, in submission order. */
  batches: { id: string; actions: number; failed: boolean; errors: string[] }[];
}

/** Options of {@link createMerakiDirector}. */
export interface MerakiDirectorOptions {
  /** The `director` section of the configuration (kind `meraki`); validated here. */
  config: z.input<typeof merakiSchema>;
  /** The API key. @default from Secrets Manager `config.secretName` (shared/director/secrets.ts) */
  apiKey?: () => Promise<string>;
  /** Send the key as `Authorization: Bearer` instead of `X-Cisco-Meraki-API-Key`. @default false */
  bearer?: boolean;
  /** Override the bucket (tests, sandbox). @default config.requestsPerSecond with an equal burst */
  rateLimit?: { requestsPerSecond: number; burst: number };
  /** Buckets by `baseUrl|organizationId`. @default one map for the process */
  buckets?: Map<string, TokenBucket>;
  /** Retries of one call (429, 5xx, timeouts). @default 6 */
  retries?: number;
  /** Per-attempt timeout. @default 10000 */
  timeoutMs?: number;
  /** Networks per page when listing. @default 1000 */
  perPage?: number;
  /**
   * Per health target, the `at` of the newest point already returned; points at or before it are
   * not returned again. Pass a map that outlives the adapter (module scope of a warm Lambda, or
   * loaded from the store) so a new instance does not replay the overlapping minutes.
   * @default a map of this instance
   */
  watermarks?: Map<string, number>;
  /** Minimum time between two loss calls for one organization. @default 60000 */
  minSampleIntervalMs?: number;
  /** Action batches. */
  batches?: {
    /** @default 100 (Meraki's maximum) */
    size?: number;
    /** Batches running at once per call. @default 5 (Meraki's maximum per organization) */
    maxRunning?: number;
    /** Resubmissions of a failed batch before it is split in halves. @default 1 */
    retries?: number;
    /** First poll after this long, until completions have been observed. @default 1000 */
    firstPollMs?: number;
    /** Then poll this often. @default 250 */
    pollIntervalMs?: number;
    /** Give up on one batch after this long. @default 300000 */
    timeoutMs?: number;
  };
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

/** The Meraki adapter: the Director port plus tag operations. */
export interface MerakiDirector extends Director {
  readonly kind: 'meraki';
  /** The validated configuration. */
  readonly config: MerakiConfig;
  /** Every network of an organization (all pages). */
  listNetworks(organizationId: string): Promise<MerakiNetwork[]>;
  /** The networks taking part in failover, with the hub each uses now. */
  listBranches(organizationId: string): Promise<MerakiBranch[]>;
  /** Swap one network's tags so `hub` carries its tunnel (re-read before write). */
  retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
  ): Promise<{ changed: boolean; tags: string[] }>;
  /** Swap many networks' tags through action batches (see {@link RetagReport}). */
  retagMany(organizationId: string, changes: readonly RetagChange[]): Promise<RetagReport>;
}

/** Separator of a branch→hub path target (`N_1→london`), as in `Sample.target`. */
export const PATH_SEPARATOR = '→';

/** The health target / concentrator id of the path from a network to a hub. */
export function pathTarget(networkId: string, hubName: string): string {
  return `${networkId}${PATH_SEPARATOR}${hubName}`;
}

/** Split a path target; undefined when it is not one. */
export function parsePathTarget(target: string): { networkId: string; hub: string } | undefined {
  const i = target.lastIndexOf(PATH_SEPARATOR);
  if (i <= 0 || i === target.length - 1) return undefined;
  return { networkId: target.slice(0, i), hub: target.slice(i + PATH_SEPARATOR.length) };
}

/** HA tunnel identifier used for the Meraki VPN in the port's CPE model. */
export const MERAKI_TUNNEL_IDENTIFIER = 'meraki-vpn';

const processBuckets = new Map<string, TokenBucket>();

/**
 * Validate the Meraki configuration beyond the schema: unique hub names and state tags per
 * organization, unique organization ids. Throws ConfigError naming the field and the value.
 */
export function parseMerakiConfig(input: unknown, source = 'director (meraki)'): MerakiConfig {
  const parsed = merakiSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, zodIssues(parsed.error, input));
  const config = parsed.data;
  const issues: { path: string; value: unknown; expected: string }[] = [];
  const orgIds = new Set<string>();
  config.organizations.forEach((org, o) => {
    if (orgIds.has(org.id))
      issues.push({ path: `organizations.${o}.id`, value: org.id, expected: 'a unique organization id' });
    orgIds.add(org.id);
    const names = new Set<string>();
    const tags = new Set<string>();
    org.hubs.forEach((hub, h) => {
      if (names.has(hub.name)) {
        issues.push({
          path: `organizations.${o}.hubs.${h}.name`,
          value: hub.name,
          expected: 'a hub name used once per organization',
        });
      }
      names.add(hub.name);
      for (const tag of Object.values(hubStateTags(hub, h))) {
        if (tags.has(tag)) {
          issues.push({
            path: `organizations.${o}.hubs.${h}.tagPrefix`,
            value: hub.tagPrefix,
            expected: `a prefix whose tag ${tag} no other hub has`,
          });
        }
        tags.add(tag);
      }
    });
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  return config;
}

/** Create the Meraki adapter. Throws ConfigError for a bad configuration (nothing is called). */
export function createMerakiDirector(options: MerakiDirectorOptions): MerakiDirector {
  const config = parseMerakiConfig(options.config);
  const clock = options.clock ?? systemClock;
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const apiKey = options.apiKey ?? apiKeyProvider({ secretName: config.secretName });
  const rate = options.rateLimit ?? {
    requestsPerSecond: config.requestsPerSecond,
    burst: Math.max(1, Math.floor(config.requestsPerSecond)),
  };
  const buckets = options.buckets ?? processBuckets;
  const perPage = options.perPage ?? 1000;
  const minSampleIntervalMs = options.minSampleIntervalMs ?? 60_000;
  const batchSize = Math.min(100, options.batches?.size ?? 100);
  const maxRunning = Math.min(5, options.batches?.maxRunning ?? 5);
  const batchRetries = options.batches?.retries ?? 1;
  const firstPollMs = options.batches?.firstPollMs ?? 1000;
  const pollIntervalMs = options.batches?.pollIntervalMs ?? 250;
  const batchTimeoutMs = options.batches?.timeoutMs ?? 300_000;

  const orgs = new Map(config.organizations.map((o) => [o.id, o]));
  const clients = new Map<string, HttpClient>();

  function orgConfig(organizationId: string, field = 'tenantId'): MerakiConfig['organizations'][number] {
    const org = orgs.get(organizationId);
    if (!org) {
      throw new ValidationError('Meraki request', [
        {
          path: field,
          value: organizationId,
          expected: `one of the configured organizations ${[...orgs.keys()].map((k) => formatValue(k)).join(', ')}`,
        },
      ]);
    }
    return org;
  }

  function hubOf(organizationId: string, hub: string, field: string): MerakiHub {
    const found = orgConfig(organizationId).hubs.find((h) => h.name === hub);
    if (!found) {
      const names = orgConfig(organizationId)
        .hubs.map((h) => formatValue(h.name))
        .join(', ');
      throw new ValidationError('Meraki request', [
        { path: field, value: hub, expected: `a hub of organization ${organizationId}: ${names}` },
      ]);
    }
    return found;
  }

  function client(organizationId: string): HttpClient {
    orgConfig(organizationId);
    let c = clients.get(organizationId);
    if (!c) {
      const key = `${baseUrl}|${organizationId}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = new TokenBucket(rate.requestsPerSecond, rate.burst, clock);
        buckets.set(key, bucket);
      }
      c = createHttpClient({
        name: `meraki org ${organizationId}`,
        baseUrl,
        headers: async (): Promise<Record<string, string>> => {
          const k = await apiKey();
          return options.bearer ? { authorization: `Bearer ${k}` } : { 'x-cisco-meraki-api-key': k };
        },
        bucket,
        // The Dashboard may redirect to a shard; the key goes there and nowhere else.
        redirectHosts: config.redirectHosts ?? DEFAULT_REDIRECT_HOSTS,
        tenantId: organizationId,
        retries: options.retries ?? 6,
        timeoutMs: options.timeoutMs ?? 10_000,
        clock,
        ...(options.random ? { random: options.random } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      clients.set(organizationId, c);
    }
    return c;
  }

  /** Turn a 404 into a NotFoundError naming the organization or network. */
  function notFound(error: unknown, what: string): never {
    if (error instanceof DirectorRequestError && error.status === 404) {
      throw new NotFoundError(
        `Meraki ${what} not found at ${baseUrl} (HTTP 404): check the configuration and the API key's access`,
        { cause: error },
      );
    }
    throw error;
  }

  async function orgCall<T>(organizationId: string, req: HttpRequest): Promise<HttpResponse<T>> {
    try {
      return await client(organizationId).request<T>({ ...req, tenantId: organizationId });
    } catch (error) {
      return notFound(error, `organization ${formatValue(organizationId)}`);
    }
  }

  async function networkCall<T>(
    organizationId: string,
    networkId: string,
    req: Omit<HttpRequest, 'path'>,
  ): Promise<HttpResponse<T>> {
    try {
      return await client(organizationId).request<T>({
        ...req,
        path: `/networks/${encodeURIComponent(networkId)}`,
        tenantId: organizationId,
      });
    } catch (error) {
      return notFound(error, `network ${formatValue(networkId)} (organization ${organizationId})`);
    }
  }

  function toNetwork(n: z.output<typeof networkSchema>): MerakiNetwork {
    return { id: n.id, name: n.name, tags: n.tags, organizationId: n.organizationId };
  }

  /** GET a network, parsed. */
  async function readNetwork(organizationId: string, networkId: string): Promise<MerakiNetwork> {
    const res = await networkCall(organizationId, networkId, { method: 'GET' });
    return toNetwork(parseMerakiResponse(MERAKI_OPERATIONS.readNetwork, res.status, res.body));
  }

  async function listNetworks(organizationId: string): Promise<MerakiNetwork[]> {
    try {
      // Paged answers are all 200 (any other status is an error thrown by the client).
      const raw = await client(organizationId).collect(
        {
          method: 'GET',
          path: `/organizations/${encodeURIComponent(organizationId)}/networks`,
          query: { perPage },
          tenantId: organizationId,
        },
        (body) => parseMerakiResponse(MERAKI_OPERATIONS.listNetworks, 200, body),
      );
      return raw.map(toNetwork);
    } catch (error) {
      return notFound(error, `organization ${formatValue(organizationId)}`);
    }
  }

  function participates(organizationId: string, tags: readonly string[]): boolean {
    const org = orgConfig(organizationId);
    return org.networkTag ? tags.includes(org.networkTag) : hasHubTags(tags, org.hubs);
  }

  async function listBranches(organizationId: string): Promise<MerakiBranch[]> {
    const org = orgConfig(organizationId);
    return (await listNetworks(organizationId))
      .filter((n) => participates(organizationId, n.tags))
      .map((n) => {
        const currentHub = currentHubFromTags(n.tags, org.hubs);
        return currentHub === undefined ? n : { ...n, currentHub };
      });
  }

  async function listCpes(tenantId: string): Promise<DirectorCpe[]> {
    const org = orgConfig(tenantId);
    if (org.hubs.length > CANDIDATE_ORDER.length) {
      throw new ConfigError('director (meraki)', [
        {
          path: `organizations.${config.organizations.indexOf(org)}.hubs`,
          value: org.hubs.map((h) => h.name),
          expected: `at most ${CANDIDATE_ORDER.length} hubs behind the Director port (one per candidate slot)`,
        },
      ]);
    }
    const out: DirectorCpe[] = [];
    for (const b of await listBranches(tenantId)) {
      out.push({
        id: b.id,
        name: b.name,
        tenantId,
        metadata: { CPE_BR_TYPE: 'HA', HA_NAME: b.id, MERAKI_TAGS: b.tags.join(' ') },
        lans: [],
        tunnels: [
          {
            name: 'IPSEC00',
            haTunnelIdentifier: MERAKI_TUNNEL_IDENTIFIER,
            tunnelId: b.currentHub ? `tag:${b.currentHub}` : '',
            state: b.currentHub ? 'ESTABLISHED' : 'CREATED',
          },
        ],
      });
      org.hubs.forEach((hub, i) => {
        const [site, state] = (CANDIDATE_ORDER[i] as string).split('/') as [string, HaState];
        out.push({
          id: pathTarget(b.id, hub.name),
          name: `${b.name} → ${hub.name}`,
          tenantId,
          metadata: {
            CPE_TYPE: site,
            CPE_MODE: 'HA',
            HA_STATE: state,
            HA_NAME: b.id,
            WAN00_PUB_IP: hub.trackedIp,
            MERAKI_HUB: hub.name,
            MERAKI_UP_TAG: hubStateTags(hub, i).up,
            MERAKI_TRUSTED_WITHOUT_TRACKING: String(hub.trustedWithoutTracking),
          },
          lans: [],
          tunnels: [
            {
              name: 'IPSEC00',
              haTunnelIdentifier: MERAKI_TUNNEL_IDENTIFIER,
              tunnelId: `tag:${hub.name}`,
              state: b.currentHub === hub.name ? 'ESTABLISHED' : 'CREATED',
            },
          ],
        });
      });
    }
    return out;
  }

  // ---- health ----------------------------------------------------------------------------

  const lastCall = new Map<string, number>();
  const watermark = options.watermarks ?? new Map<string, number>();

  async function sampleHealth(tenantId: string, cpeIds: readonly string[]): Promise<Sample[]> {
    const org = orgConfig(tenantId);
    const wanted = new Set(cpeIds);
    const previous = lastCall.get(tenantId);
    if (previous !== undefined && clock.now() - previous < minSampleIntervalMs) return [];
    lastCall.set(tenantId, clock.now());
    const res = await orgCall(tenantId, {
      method: 'GET',
      path: `/organizations/${encodeURIComponent(tenantId)}/devices/uplinksLossAndLatency`,
      query: { timespan: 300 },
    });
    const hubByIp = new Map(org.hubs.map((h) => [h.trackedIp, h]));
    // target → ts → best point over the network's uplinks (the VPN uses whichever works).
    const points = new Map<string, Map<number, { loss: number | null; latency: number | null }>>();
    let newest = Number.NEGATIVE_INFINITY;
    const series = parseMerakiResponse(MERAKI_OPERATIONS.uplinksLossAndLatency, res.status, res.body);
    for (const entry of series) {
      const hub = hubByIp.get(entry.ip);
      if (!hub) continue;
      const target = pathTarget(entry.networkId, hub.name);
      if (!wanted.has(target)) continue;
      const byTs = points.get(target) ?? new Map();
      points.set(target, byTs);
      for (const p of entry.timeSeries) {
        const at = Date.parse(p.ts);
        newest = Math.max(newest, at);
        const loss = p.lossPercent;
        const latency = p.latencyMs;
        const seen = byTs.get(at);
        if (!seen || (loss !== null && (seen.loss === null || loss < seen.loss)))
          byTs.set(at, { loss, latency });
      }
    }
    const samples: Sample[] = [];
    for (const [target, byTs] of points) {
      const mark = watermark.get(target) ?? Number.NEGATIVE_INFINITY;
      for (const at of [...byTs.keys()].sort((a, b) => a - b)) {
        if (at <= mark) continue;
        const p = byTs.get(at) as { loss: number | null; latency: number | null };
        samples.push({
          target,
          at,
          reachable: p.loss === null || p.loss < 100,
          lossPct: p.loss,
          latencyMs: p.latency,
        });
        watermark.set(target, at);
      }
    }
    // Untracked hubs: UNKNOWN (no sample), unless trusted without tracking.
    const at = Number.isFinite(newest) ? newest : clock.now();
    for (const target of wanted) {
      if (points.has(target)) continue;
      const path = parsePathTarget(target);
      const hub = path && org.hubs.find((h) => h.name === path.hub);
      if (!hub?.trustedWithoutTracking || (watermark.get(target) ?? Number.NEGATIVE_INFINITY) >= at) continue;
      samples.push({ target, at, reachable: true, lossPct: 0, latencyMs: null });
      watermark.set(target, at);
    }
    return samples;
  }

  async function health(): Promise<DirectorHealth> {
    const first = config.organizations[0]?.id as string;
    try {
      const res = await orgCall(first, {
        method: 'GET',
        path: `/organizations/${encodeURIComponent(first)}/networks`,
        query: { perPage: 3 },
        retries: 1,
      });
      parseMerakiResponse(MERAKI_OPERATIONS.listNetworks, res.status, res.body);
      return { site: 'DC', reachable: true, healthy: true, version: 'v1' };
    } catch (error) {
      // An answer (even a refusal) means the Dashboard is reachable.
      const reachable =
        error instanceof DirectorRequestError ||
        error instanceof DirectorAuthError ||
        error instanceof NotFoundError;
      return { site: 'DC', reachable, healthy: false };
    }
  }

  // ---- tags ------------------------------------------------------------------------------

  async function retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
  ): Promise<{ changed: boolean; tags: string[] }> {
    const org = orgConfig(organizationId, 'organizationId');
    hubOf(organizationId, hub, 'hub');
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await readNetwork(organizationId, networkId);
      const tags = retagForHub(before.tags, org.hubs, hub);
      if (sameTags(tags, before.tags)) return { changed: false, tags };
      // Re-read just before writing: an edit in between (an operator, another run) wins, and
      // the change is recomputed from it. Meraki has no conditional update.
      const again = await readNetwork(organizationId, networkId);
      if (!sameTags(again.tags, before.tags)) continue;
      const put = MERAKI_OPERATIONS.writeNetworkTags;
      const res = await networkCall(organizationId, networkId, {
        method: 'PUT',
        body: merakiRequestBody(put, { tags }),
      });
      return { changed: true, tags: parseMerakiResponse(put, res.status, res.body).tags };
    }
    throw new ConcurrentUpdateError(
      `Meraki network ${networkId}: its tags kept changing while re-tagging it for hub ${hub}`,
    );
  }

  async function repoint(action: RepointAction): Promise<RepointResult> {
    const hub = parsePathTarget(action.targetId)?.hub ?? action.targetId;
    const { changed } = await retagOne(action.tenantId, action.branchId, hub);
    return { branchId: action.branchId, targetId: action.targetId, epoch: action.epoch, changed };
  }

  type BatchBody = z.output<typeof MERAKI_OPERATIONS.submitBatch.success.body>;
  // Adaptive polling: the longest wait that found a batch still running and the shortest that
  // found one finished; the first poll goes between them.
  const timing = { runningMs: 0, doneMs: Number.POSITIVE_INFINITY };

  async function runBatch(
    organizationId: string,
    actions: { networkId: string; tags: string[] }[],
  ): Promise<{ id: string; errors: string[]; failed: boolean }> {
    const path = `/organizations/${encodeURIComponent(organizationId)}/actionBatches`;
    const body = merakiRequestBody(MERAKI_OPERATIONS.submitBatch, {
      confirmed: true,
      synchronous: false,
      actions: actions.map((a) => ({
        resource: `/networks/${a.networkId}`,
        operation: 'update' as const,
        body: { tags: a.tags },
      })),
    });
    let created: BatchBody | undefined;
    for (let wait = 0; !created; wait++) {
      try {
        // Never resent once the Dashboard may have created it (a timeout, a 5xx, an unreadable
        // answer): a duplicate batch could apply these tags after a newer batch. The networks are
        // reported failed and the next reconcile reads the tags back.
        const res = await orgCall(organizationId, { method: 'POST', path, body, idempotent: false });
        created = parseMerakiResponse(MERAKI_OPERATIONS.submitBatch, res.status, res.body);
      } catch (error) {
        // Another client's batches fill the 5 running slots: wait for one to finish.
        const busy =
          error instanceof DirectorRequestError &&
          error.status === 400 &&
          /concurrently|running/i.test(error.message);
        if (!busy || wait >= 60) throw error;
        await clock.sleep(firstPollMs);
      }
    }
    const started = clock.now();
    let next = Number.isFinite(timing.doneMs)
      ? Math.max(pollIntervalMs, (timing.runningMs + timing.doneMs) / 2)
      : firstPollMs;
    let status = created.status;
    while (!status.completed) {
      await clock.sleep(Math.max(0, started + next - clock.now()));
      const elapsed = clock.now() - started;
      if (elapsed > batchTimeoutMs) {
        return {
          id: created.id,
          failed: true,
          errors: [`batch ${created.id} did not complete within ${batchTimeoutMs} ms`],
        };
      }
      const res = await orgCall(organizationId, {
        method: 'GET',
        path: `${path}/${encodeURIComponent(created.id)}`,
      });
      status = parseMerakiResponse(MERAKI_OPERATIONS.readBatch, res.status, res.body).status;
      if (status.completed) timing.doneMs = Math.min(timing.doneMs, elapsed);
      else timing.runningMs = Math.max(timing.runningMs, Math.min(elapsed, timing.doneMs));
      next = elapsed + pollIntervalMs;
    }
    return { id: created.id, failed: status.failed, errors: status.errors };
  }

  async function retagMany(organizationId: string, changes: readonly RetagChange[]): Promise<RetagReport> {
    const org = orgConfig(organizationId, 'organizationId');
    const wanted = new Map<string, string>();
    changes.forEach((c, i) => {
      hubOf(organizationId, c.hub, `changes.${i}.hub`);
      const prior = wanted.get(c.networkId);
      if (prior !== undefined && prior !== c.hub) {
        throw new ValidationError('Meraki re-tag', [
          {
            path: `changes.${i}.networkId`,
            value: c.networkId,
            expected: `one hub per network (also asked for ${prior})`,
          },
        ]);
      }
      wanted.set(c.networkId, c.hub);
    });
    const report: RetagReport = { organizationId, changed: [], unchanged: [], failed: [], batches: [] };
    if (wanted.size === 0) return report;

    // Current tags: a few GETs for a few networks, else one paged listing.
    const current = new Map<string, MerakiNetwork>();
    if (wanted.size <= 10) {
      for (const id of wanted.keys()) {
        try {
          current.set(id, await readNetwork(organizationId, id));
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
    } else {
      for (const n of await listNetworks(organizationId)) current.set(n.id, n);
    }
    const todo: { networkId: string; tags: string[] }[] = [];
    for (const [networkId, hub] of wanted) {
      const n = current.get(networkId);
      if (!n) {
        report.failed.push({ networkId, reason: `network not found in organization ${organizationId}` });
        continue;
      }
      const tags = retagForHub(n.tags, org.hubs, hub);
      if (sameTags(tags, n.tags)) report.unchanged.push(networkId);
      else todo.push({ networkId, tags });
    }

    const chunks: (typeof todo)[] = [];
    for (let i = 0; i < todo.length; i += batchSize) chunks.push(todo.slice(i, i + batchSize));
    // A failed batch (atomic: nothing applied) is resubmitted, then split in halves until the
    // failing networks are isolated; those are reported and left to the next reconcile.
    const process = async (chunk: typeof todo, attempt: number): Promise<void> => {
      let result: Awaited<ReturnType<typeof runBatch>>;
      try {
        result = await runBatch(organizationId, chunk);
      } catch (error) {
        for (const a of chunk)
          report.failed.push({ networkId: a.networkId, reason: (error as Error).message });
        return;
      }
      report.batches.push({
        id: result.id,
        actions: chunk.length,
        failed: result.failed,
        errors: result.errors,
      });
      if (!result.failed) {
        report.changed.push(...chunk.map((a) => a.networkId));
        return;
      }
      if (attempt < batchRetries) return process(chunk, attempt + 1);
      if (chunk.length === 1) {
        report.failed.push({
          networkId: (chunk[0] as (typeof todo)[number]).networkId,
          reason: result.errors.join('; ') || `batch ${result.id} failed`,
        });
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await process(chunk.slice(0, half), batchRetries);
      await process(chunk.slice(half), batchRetries);
    };
    await mapLimit(chunks, maxRunning, (chunk) => process(chunk, 0));
    return report;
  }

  return {
    kind: 'meraki',
    fencing: 'none',
    site: 'DC',
    config,
    listCpes,
    sampleHealth,
    health,
    // Meraki has no HA role to set: the hubs are third-party peers chosen by tags.
    async setHaState() {},
    // The Dashboard keeps no epoch of ours: nothing to raise. Tag swaps are fenced per network
    // by the swap pipeline's own epoch check (a director-side fence for tags is a separate issue).
    async fence() {},
    repoint,
    listNetworks,
    listBranches,
    retagOne,
    retagMany,
  };
}
