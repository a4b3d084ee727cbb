/**
 * What every part of the Meraki adapter shares: the validated configuration, the clock, the
 * per-organization HTTP clients (rate limit, retries, redirects, the key) and the lookups of a
 * configured organization or hub that turn an unknown one into a ValidationError.
 */
import { DirectorRequestError, NotFoundError, ValidationError, formatValue } from '../../errors.js';
import {
  createHttpClient,
  systemClock,
  TokenBucket,
  type Clock,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
} from '../http.js';
import { apiKeyProvider } from '../secrets.js';
import { DEFAULT_REDIRECT_HOSTS, type MerakiConfig, type MerakiHub } from './config.js';

/** Options of the adapter's HTTP side ({@link createMerakiContext}). */
export interface MerakiClientOptions {
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
  clock?: Clock;
  random?: () => number;
  fetch?: typeof fetch;
}

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

const processBuckets = new Map<string, TokenBucket>();

/** Create the shared part of the adapter for a validated configuration. */
export function createMerakiContext(config: MerakiConfig, options: MerakiClientOptions): MerakiContext {
  const clock = options.clock ?? systemClock;
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const apiKey = options.apiKey ?? apiKeyProvider({ secretName: config.secretName });
  const rate = options.rateLimit ?? {
    requestsPerSecond: config.requestsPerSecond,
    burst: Math.max(1, Math.floor(config.requestsPerSecond)),
  };
  const buckets = options.buckets ?? processBuckets;
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
