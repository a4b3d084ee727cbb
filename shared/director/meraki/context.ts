/**
 * What every part of the Meraki adapter shares: the validated configuration, the clock, the
 * per-organization HTTP clients (request budget, retries, redirects, the key, the identification
 * Meraki asks for) and the lookups of a configured organization or hub that turn an unknown one
 * into a ValidationError.
 *
 * Identification: `Authorization: Bearer <key>` (the documented header) and
 * `User-Agent: cpe-failover/<version> <vendor>` on every request. Redirects and next-page links
 * may lead, with the key, only to the base URL's origin and the shards of its region
 * ({@link merakiRedirectHosts}).
 *
 * Request budget: every attempt takes a slot of the organization's budget. Given a shared
 * `budget` (the state table's, shared/store/repos/request-budget.ts), all functions and
 * containers together stay within `config.requestsPerSecond` in any 1 s window; without one, the
 * process has its own timeline (shared/director/budget.ts), and `rateLimit`/`buckets` swap in
 * plain token buckets (tests, the whole-system checker).
 */
import { DirectorRequestError, NotFoundError, ValidationError, formatValue } from '../../errors.js';
import {
  BucketRequestBudget,
  MemorySlotLedger,
  SlottedRequestBudget,
  type RequestBudget,
} from '../budget.js';
import {
  createHttpClient,
  systemClock,
  type Clock,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  type TokenBucket,
} from '../http.js';
import { apiKeyProvider } from '../secrets.js';
import { controllerUserAgent } from '../user-agent.js';
import type { MerakiConfig, MerakiHub } from './config.js';

/** Options of the adapter's HTTP side ({@link createMerakiContext}). */
export interface MerakiClientOptions {
  /** The API key. @default from Secrets Manager `config.secretName` (shared/director/secrets.ts) */
  apiKey?: () => Promise<string>;
  /**
   * @deprecated Ignored: the key always goes as `Authorization: Bearer`, the documented header.
   * Kept until the callers that still pass it are updated.
   */
  bearer?: boolean;
  /**
   * The request budget shared by every function and container (key `meraki#<organizationId>`).
   * @default the process's own (see the module comment)
   */
  budget?: RequestBudget;
  /** Plain token buckets instead (tests, sandbox). @default config.requestsPerSecond, equal burst */
  rateLimit?: { requestsPerSecond: number; burst: number };
  /** Token buckets by `baseUrl|organizationId` (with `rateLimit` or alone). */
  buckets?: Map<string, TokenBucket>;
  /** Retries of one call (429, 5xx, timeouts). @default 6 */
  retries?: number;
  /** Per-attempt timeout. @default config.timeoutMs (60 s, as Meraki's SDK) */
  timeoutMs?: number;
  /**
   * Longest one call may take with its retries and waits (see shared/director/http.ts).
   * @default 120000: below the 5-minute functions' timeout, at least one full 60 s attempt
   */
  deadlineMs?: number;
  /** Wait after a 429 without `Retry-After`. @default 1–60 s at random, as Meraki's SDK */
  rateLimitWaitMs?: { min: number; max: number };
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

/** Meraki's regional API hosts and the hosts their redirects lead to (the region's shards). */
export const MERAKI_REGIONS: Readonly<Record<string, readonly string[]>> = {
  'api.meraki.com': ['*.meraki.com'],
  'api.meraki.ca': ['*.meraki.ca'],
  'api.meraki.cn': ['*.meraki.cn'],
  'api.meraki.in': ['*.meraki.in'],
  'api.gov-meraki.com': ['*.gov-meraki.com'],
};

/**
 * Where redirects and next-page links of `baseUrl` may lead with the key: `configured` when set,
 * else the shards of a regional Dashboard ({@link MERAKI_REGIONS}), else nowhere but the base
 * URL's own origin (another implementation of the API: set `redirectHosts` for it).
 */
export function merakiRedirectHosts(baseUrl: string, configured?: readonly string[]): readonly string[] {
  if (configured) return configured;
  return MERAKI_REGIONS[new URL(baseUrl).hostname.toLowerCase()] ?? [];
}

/** The default wait after a 429 without `Retry-After` (Meraki's SDK: 1 to 60 s at random). */
export const MERAKI_429_WAIT_MS = { min: 1_000, max: 60_000 } as const;

/** One configured organization. */
export type MerakiOrganization = MerakiConfig['organizations'][number];

/** The shared part of the adapter (see the module comment). */
export interface MerakiContext {
  readonly config: MerakiConfig;
  readonly clock: Clock;
  /** `config.baseUrl` without trailing slashes. */
  readonly baseUrl: string;
  /** The configured organization; ValidationError naming `field` when it is not one. */
  org(organizationId: string, field?: string): MerakiOrganization;
  /** The configured hub of an organization; ValidationError naming `field` when it is not one. */
  hub(organizationId: string, hub: string, field: string): MerakiHub;
  /** The organization's HTTP client. */
  client(organizationId: string): HttpClient;
  /** A call on an organization's path; a 404 is a NotFoundError naming the organization. */
  orgCall<T>(organizationId: string, req: HttpRequest): Promise<HttpResponse<T>>;
  /** A call on `/networks/{networkId}`; a 404 is a NotFoundError naming the network. */
  networkCall<T>(
    organizationId: string,
    networkId: string,
    req: Omit<HttpRequest, 'path'>,
  ): Promise<HttpResponse<T>>;
  /** Turn a 404 into a NotFoundError naming `what`; rethrow anything else. */
  notFound(error: unknown, what: string): never;
}

/**
 * The process's own timelines, shared by every adapter instance without a shared budget that
 * runs on the same clock (the real one, or one virtual clock: times of two clocks never mix).
 */
const processLedgers = new WeakMap<Clock, MemorySlotLedger>();

function processLedger(clock: Clock): MemorySlotLedger {
  let ledger = processLedgers.get(clock);
  if (!ledger) {
    ledger = new MemorySlotLedger();
    processLedgers.set(clock, ledger);
  }
  return ledger;
}

/** The budget and its key per organization (see the module comment). */
function budgetOf(
  config: MerakiConfig,
  baseUrl: string,
  options: MerakiClientOptions,
  clock: Clock,
): { budget: RequestBudget; key: (organizationId: string) => string } {
  if (options.budget) return { budget: options.budget, key: (id) => `meraki#${id}` };
  const key = (id: string): string => `${baseUrl}|${id}`;
  if (options.rateLimit || options.buckets) {
    const rate = options.rateLimit ?? {
      requestsPerSecond: config.requestsPerSecond,
      burst: config.requestsPerSecond,
    };
    return { budget: new BucketRequestBudget(rate, clock, options.buckets), key };
  }
  // In memory a reservation costs nothing: one slot at a time wastes none.
  const budget = new SlottedRequestBudget(processLedger(clock), {
    requestsPerSecond: config.requestsPerSecond,
    clock,
    maxLease: 1,
  });
  return { budget, key };
}

/** Create the shared part of the adapter for a validated configuration. */
export function createMerakiContext(config: MerakiConfig, options: MerakiClientOptions): MerakiContext {
  const clock = options.clock ?? systemClock;
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const apiKey = options.apiKey ?? apiKeyProvider({ secretName: config.secretName });
  const { budget, key: budgetKey } = budgetOf(config, baseUrl, options, clock);
  const redirectHosts = merakiRedirectHosts(baseUrl, config.redirectHosts);
  const userAgent = controllerUserAgent(config.vendor);
  const orgs = new Map(config.organizations.map((o) => [o.id, o]));
  const clients = new Map<string, HttpClient>();

  function org(organizationId: string, field = 'tenantId'): MerakiOrganization {
    const found = orgs.get(organizationId);
    if (!found) {
      throw new ValidationError('Meraki request', [
        {
          path: field,
          value: organizationId,
          expected: `one of the configured organizations ${[...orgs.keys()].map((k) => formatValue(k)).join(', ')}`,
        },
      ]);
    }
    return found;
  }

  function hub(organizationId: string, name: string, field: string): MerakiHub {
    const hubs = org(organizationId).hubs;
    const found = hubs.find((h) => h.name === name);
    if (!found) {
      const names = hubs.map((h) => formatValue(h.name)).join(', ');
      throw new ValidationError('Meraki request', [
        { path: field, value: name, expected: `a hub of organization ${organizationId}: ${names}` },
      ]);
    }
    return found;
  }

  function client(organizationId: string): HttpClient {
    org(organizationId);
    let c = clients.get(organizationId);
    if (!c) {
      const key = budgetKey(organizationId);
      c = createHttpClient({
        name: `meraki org ${organizationId}`,
        baseUrl,
        headers: async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await apiKey()}` }),
        userAgent,
        bucket: { take: (o) => budget.take(key, o) },
        // The Dashboard may redirect to a shard; the key goes there and nowhere else.
        redirectHosts,
        // One organization-wide answer (the loss series of 10,000 networks) is about 25 MB.
        maxResponseBytes: 64 * 1024 * 1024,
        tenantId: organizationId,
        retries: options.retries ?? 6,
        timeoutMs: options.timeoutMs ?? config.timeoutMs,
        deadlineMs: options.deadlineMs ?? 120_000,
        rateLimitWaitMs: options.rateLimitWaitMs ?? MERAKI_429_WAIT_MS,
        clock,
        ...(options.random ? { random: options.random } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      clients.set(organizationId, c);
    }
    return c;
  }

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

  return { config, clock, baseUrl, org, hub, client, orgCall, networkCall, notFound };
}
