/**
 * The one HTTP client of the director adapters (zWAN and Meraki): per-call timeouts, retries
 * with full-jitter exponential backoff, a shared rate gate (a token bucket or a request budget,
 * ./budget.ts), bounded concurrency, a `User-Agent`, `Retry-After`
 * on 429, RFC 5988 `Link` pagination, and the named errors of `shared/errors.ts`.
 *
 * Retried: 5xx, timeouts, connection errors, and 429 (waiting `Retry-After` when given, else
 * {@link HttpClientOptions.rateLimitWaitMs} or the backoff). Never retried: any other 4xx.
 * 401/403 → DirectorAuthError; other 4xx → DirectorRequestError. With
 * {@link HttpClientOptions.deadlineMs} a call gives up (its last error) rather than wait or keep
 * an attempt open past its deadline.
 *
 * Unknown outcomes ({@link HttpRequest.idempotent}). A 2xx whose body is not valid JSON means the
 * server acted: it is resent only for an idempotent request (GET/HEAD/PUT/DELETE by default); a
 * POST/PATCH gets DirectorRequestError at once. A timeout, a 5xx or a connection that broke after
 * sending leave the outcome unknown: retried unless the request says `idempotent: false` (a
 * Meraki action batch, a zWAN backup job), which then gets DirectorRequestError at once (429 and a
 * connection that never opened are still retried: the server did nothing). DirectorRequestError,
 * not DirectorUnavailableError, because no layer retries it (Step Functions retries the latter
 * and would resend the POST): the caller reconciles by reading the state back. POSTs are retried
 * by default because the zWAN ones (health query, re-point, group update) are idempotent by
 * contract and fenced by the epoch.
 *
 * Redirects (301/302/307/308 keep the method and body, 303 becomes a GET) are followed here, by
 * hand, under both transports, at most `maxRedirects` times: only to the base URL's origin or to
 * a host of {@link HttpClientOptions.redirectHosts} (Meraki's shards, `*.meraki.com`), never
 * from https to http. Any other target is a DirectorRequestError and gets no request at all:
 * `fetch` would follow it and (Fetch standard) strip only `Authorization`, forwarding a custom
 * key header such as `X-Cisco-Meraki-API-Key` to whatever host the redirect names. `Link` next
 * pages obey the same rule.
 *
 * Transport: `fetch`, or `node`: node:http(s) with a keep-alive agent per client, which costs
 * about a third of fetch's CPU per call (no WHATWG streams, no Request/Response objects). A
 * fan-out of thousands of re-points is bound by that CPU, not by the director.
 */
import { redact } from '../redact.js';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  DirectorAuthError,
  DirectorRequestError,
  DirectorResponseError,
  DirectorUnavailableError,
  RateLimitedError,
} from '../errors.js';
import { type Clock, Semaphore, systemClock, TokenBucket } from './limits.js';

export { type Clock, mapLimit, Semaphore, systemClock, TokenBucket } from './limits.js';

/** What a client takes before each attempt: resolves (with the ms waited) when it may send. */
export interface RateGate {
  /** Wait for the right to send one attempt; `deferrable` ones may let this client's others go first. */
  take(options?: TakeOptions): Promise<number>;
}

/** How one attempt asks a {@link RateGate}. */
export interface TakeOptions {
  /** Let this process's other requests under the same limit go first (see {@link HttpRequest.deferrable}). */
  deferrable?: boolean;
  /** A request on a critical path (see {@link HttpRequest.urgent}). */
  urgent?: boolean;
}

/** Query values; arrays repeat the parameter (`?id=a&id=b`), undefined is left out. */
export type QueryValue = string | number | boolean | undefined | readonly (string | number)[];

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  /** The director's name for errors and logs, e.g. `zwan-DC` or `meraki`. */
  name: string;
  /** Base URL; request paths are appended to it (`https://dir.example/api/v1`). */
  baseUrl: string;
  /** Headers for every call (auth); called per attempt so a rotated key is picked up. */
  headers?: () => Promise<Record<string, string>>;
  /** Per-attempt timeout (connect + headers + body). @default 10000 */
  timeoutMs?: number;
  /** Retries after the first attempt, for retryable failures. @default 3 */
  retries?: number;
  /** Backoff base: attempt n waits random(0, min(max, base·2ⁿ)). @default 200 */
  backoffBaseMs?: number;
  /** Backoff cap. @default 5000 */
  backoffMaxMs?: number;
  /** Upper bound for one `Retry-After` wait. @default 60000 */
  maxRetryAfterMs?: number;
  /**
   * Largest answer read, in bytes: a bigger one is a DirectorResponseError, read no further (a
   * broken or hostile director cannot fill the function's memory). @default 16 MiB
   */
  maxResponseBytes?: number;
  /** Most pages one paged listing follows before it is a DirectorRequestError. @default 10000 */
  maxPages?: number;
  /** Throttle every call (every attempt) of this client. */
  rateLimit?: { requestsPerSecond: number; burst: number };
  /**
   * Or a shared gate taken once per attempt: a TokenBucket, or one key of a RequestBudget
   * (shared/director/budget.ts, e.g. Meraki's per-organization limit). Wins over `rateLimit`.
   */
  bucket?: RateGate;
  /** `User-Agent` of every request. @default none (the transport's own) */
  userAgent?: string;
  /**
   * The wait after a 429 without `Retry-After`: uniformly random in [min, max] ms (Meraki's SDK
   * waits 1–60 s). @default the backoff, as for a 5xx
   */
  rateLimitWaitMs?: { min: number; max: number };
  /**
   * Longest a call may take, retries and waits included: an attempt's timeout is cut to the time
   * left, and a retry whose wait would end past it is not made (the last error is thrown).
   * @default none
   */
  deadlineMs?: number;
  /** At most this many requests in flight. @default unlimited */
  concurrency?: number;
  /** Tenant named in auth errors when the request does not name one. */
  tenantId?: string;
  /** Injectable time (tests). */
  clock?: Clock;
  /** Injectable randomness in [0, 1) for the jitter (tests). @default Math.random */
  random?: () => number;
  /**
   * `fetch` or `node` (node:http(s), keep-alive, far less CPU per call). Redirects are followed
   * by this client either way (see `redirectHosts`). A function is used as the transport itself
   * (the checker's in-process one). @default 'fetch'
   */
  transport?: 'fetch' | 'node' | Transport;
  /**
   * Hosts besides the base URL's origin that a redirect or a `Link` next page may lead to, with
   * the auth headers: exact host names (`api.meraki.com`) or `*.` patterns for any subdomain
   * (`*.meraki.com`; not the bare domain). Any port; never https → http. @default none
   */
  redirectHosts?: readonly string[];
  /** Redirects followed per request. @default 5 */
  maxRedirects?: number;
  /** Injectable fetch (transport `fetch`). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Called before each retry wait (for logs/metrics). Never receives headers or bodies. */
  onRetry?: (info: RetryInfo) => void;
}

/** What {@link HttpClientOptions.onRetry} is told. */
export interface RetryInfo {
  client: string;
  method: string;
  path: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  /** HTTP status, or undefined for a timeout / connection error. */
  status?: number;
  reason: string;
}

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the base URL (`/tenants/t1/cpes`), or an absolute URL of the same origin (a `Link` next page). */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body. */
  body?: unknown;
  /** Statuses returned instead of thrown. @default every 2xx */
  okStatuses?: readonly number[];
  /** Tenant to name in an auth error. */
  tenantId?: string;
  /** Override the client's retries for this call. */
  retries?: number;
  /**
   * Whether sending this request twice is harmless. `false`: never resent once the server may
   * have acted (an unreadable 2xx, a timeout, a 5xx, a broken connection); still retried after a
   * 429 or a refused connection. Unset: true for GET/HEAD/PUT/DELETE; for POST/PATCH an unreadable
   * 2xx is final but a timeout/5xx is retried (see the module comment).
   */
  idempotent?: boolean;
  /** Override the client's timeout for this call. */
  timeoutMs?: number;
  /** Override the client's {@link HttpClientOptions.deadlineMs} for this call. */
  deadlineMs?: number;
  /**
   * A read nobody is held up by (a verification poll): it lets this process's other requests
   * waiting for the same request budget go first, for a bounded time. @default false
   */
  deferrable?: boolean;
  /**
   * A request others wait on (an action batch's submission or status read): where the budget
   * keeps room for such requests in every window, it may go before requests already given later
   * slots. @default false
   */
  urgent?: boolean;
}

/**
 * The headers of an answer, as the client reads them (by name, case-insensitive). `Headers`
 * satisfies it; an in-process transport may pass something lighter.
 */
export interface ResponseHeaders {
  get(name: string): string | null;
}

/** A response: status, headers, and the body parsed as JSON (text when not JSON, undefined when empty). */
export interface HttpResponse<T> {
  status: number;
  headers: ResponseHeaders;
  body: T;
}

/** An HTTP client bound to one director. */
export interface HttpClient {
  readonly name: string;
  readonly baseUrl: string;
  request<T>(req: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * Every item of a paged list: requests `req`, takes `items(body)`, then follows the
   * `Link: <…>; rel="next"` header until there is none. Stops with DirectorRequestError when a
   * next link repeats (a server loop) or leads outside the base URL's origin and `redirectHosts`.
   */
  paginate<TItem, TBody = unknown>(
    req: HttpRequest,
    items: (body: TBody) => readonly TItem[],
  ): AsyncGenerator<TItem, void, undefined>;
  /** `paginate` collected into an array. */
  collect<TItem, TBody = unknown>(
    req: HttpRequest,
    items: (body: TBody) => readonly TItem[],
  ): Promise<TItem[]>;
}

/** Parse an RFC 5988 `Link` header into `rel → URL` (first URL wins per rel). */
export function parseLinkHeader(header: string | null | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  // Split on commas that start a new `<…>` entry (URLs may contain commas).
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const [, url, params] = match;
    const relMatch = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params ?? '');
    const rels = (relMatch?.[1] ?? relMatch?.[2] ?? '').split(/\s+/).filter(Boolean);
    for (const rel of rels) {
      const key = rel.toLowerCase();
      if (url !== undefined && !(key in links)) links[key] = url;
    }
  }
  return links;
}

/** Parse `Retry-After` (delta seconds or an HTTP date) into ms; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Pull a human-readable error text out of an error response: zWAN `{ error: { code, message } }`,
 * Meraki `{ errors: [...] }`, `{ message }`, or the raw text (cut to 300 characters).
 */
export function errorText(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const err = b.error;
    if (err && typeof err === 'object') {
      const e = err as Record<string, unknown>;
      const code = typeof e.code === 'string' ? `${e.code}: ` : '';
      if (typeof e.message === 'string') return `${code}${e.message}`;
    }
    if (typeof err === 'string') return err;
    if (Array.isArray(b.errors)) return b.errors.map(String).join('; ');
    if (typeof b.message === 'string') return b.message;
    return redact(JSON.stringify(body)).slice(0, 300);
  }
  // Redacted before it is cut, so no part of a quoted key survives.
  if (typeof body === 'string') return redact(body).slice(0, 300);
  return '';
}

/** Methods whose repeat is harmless (RFC 9110 §9.2.2), unless a request says otherwise. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Connection errors raised before the request left the machine: a retry cannot duplicate it. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `hostname` matches one of `patterns`: an exact host name, or `*.domain` for any
 * subdomain of `domain` (at any depth, not `domain` itself). Case-insensitive.
 */
export function matchesHostPattern(hostname: string, patterns: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern;
  });
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** A 3xx with a `Location`: the request loop decides whether to follow it. */
class Redirect extends Error {
  constructor(
    readonly status: number,
    readonly location: string,
  ) {
    super(`HTTP ${status} redirect to ${location}`);
  }
}

/**
 * A failure that may be retried; carries what the final error needs. `unknownOutcome`: the
 * server may have acted (`'acted'`: it certainly did, a 2xx), so only an idempotent request is
 * resent.
 */
class Retryable extends Error {
  constructor(
    readonly reason: string,
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
    readonly unknownOutcome: false | 'maybe' | 'acted' = 'maybe',
  ) {
    super(reason, options);
  }
}

/** What a transport returns: status, headers and the whole body as text. */
/** What a {@link Transport} answers. */
export interface RawResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
  /**
   * The body already decoded, plain JSON data nobody else holds or changes afterwards (an
   * in-process transport: the checker skips writing and re-reading JSON it would decode at once). When set, `text` is not read,
   * so the client's size check on `text` does not apply: such a transport answers for `maxBytes`
   * itself (the checker's in-process answers are far below the 16 MB default and do not).
   */
  json?: unknown;
}

/**
 * One HTTP exchange; rejects with a `TimeoutError`-named error after `timeoutMs`, or a connection
 * error. Injectable ({@link HttpClientOptions.transport}): the whole-system checker routes calls
 * in-process to the simulator, on its virtual clock.
 */
export type Transport = (
  url: URL,
  init: {
    method: string;
    headers: Record<string, string>;
    body: string | undefined;
    timeoutMs: number;
    /** Stop reading past this many bytes (a transport that cannot is checked after it answers). */
    maxBytes?: number;
  },
) => Promise<RawResponse>;

/** An answer larger than the client reads (see {@link HttpClientOptions.maxResponseBytes}). */
class TooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
  }
}

function timeoutError(timeoutMs: number): Error {
  const error = new Error(`no complete answer within ${timeoutMs} ms`);
  error.name = 'TimeoutError';
  return error;
}

/** A transport over an injected `fetch`. */
function fetchTransport(doFetch: typeof fetch): Transport {
  return async (url, { method, headers, body, timeoutMs, maxBytes }) => {
    // Redirects are followed by the client, which checks the target before sending the key.
    const res = await doFetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (maxBytes !== undefined && declared > maxBytes) {
      await res.body?.cancel();
      throw new TooLarge(maxBytes);
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
}

/**
 * A transport over node:http(s) with one keep-alive agent per client. Idle sockets are closed
 * after 4 s, before the usual 5 s server keep-alive, so a reused socket is rarely one the
 * server is closing. The timer covers connect, headers and body, and is cleared at once.
 */
function nodeTransport(maxSockets: number | undefined): Transport {
  const agentOptions = { keepAlive: true, timeout: 4_000, ...(maxSockets ? { maxSockets } : {}) };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  return (url, { method, headers, body, timeoutMs, maxBytes }) =>
    new Promise<RawResponse>((resolve, reject) => {
      const https = url.protocol === 'https:';
      const outHeaders: Record<string, string | number> = { ...headers };
      if (body !== undefined) outHeaders['content-length'] = Buffer.byteLength(body);
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method, headers: outHeaders, agent: https ? agents.https : agents.http },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (maxBytes !== undefined && bytes > maxBytes) fail(new TooLarge(maxBytes));
            else chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('the connection closed before the answer was complete')));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            const resHeaders = new Headers();
            for (const [key, value] of Object.entries(res.headers)) {
              if (Array.isArray(value)) for (const v of value) resHeaders.append(key, v);
              else if (value !== undefined) resHeaders.set(key, value);
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: resHeaders,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      const timer = setTimeout(() => fail(timeoutError(timeoutMs)), timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/** Create an {@link HttpClient}. See the module comment for the retry and error rules. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const name = options.name;
  const baseUrl = trimSlash(options.baseUrl);
  const base = new URL(baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const backoffBaseMs = options.backoffBaseMs ?? 200;
  const backoffMaxMs = options.backoffMaxMs ?? 5_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  const maxPages = options.maxPages ?? 10_000;
  const transport =
    typeof options.transport === 'function'
      ? options.transport
      : options.transport === 'node'
        ? nodeTransport(options.concurrency)
        : fetchTransport(options.fetch ?? ((input, init) => globalThis.fetch(input, init)));
  const bucket: RateGate | undefined =
    options.bucket ??
    (options.rateLimit
      ? new TokenBucket(options.rateLimit.requestsPerSecond, options.rateLimit.burst, clock)
      : undefined);
  const semaphore = options.concurrency ? new Semaphore(options.concurrency) : undefined;
  const redirectHosts = options.redirectHosts ?? [];
  const maxRedirects = options.maxRedirects ?? 5;

  /** Whether the credentials may be sent to `url` (see the module comment). */
  function allowedTarget(url: URL): boolean {
    if (url.origin === base.origin) return true;
    const downgrade = base.protocol === 'https:' && url.protocol !== 'https:';
    return !downgrade && matchesHostPattern(url.hostname, redirectHosts);
  }

  function refusal(url: URL, what: string, status: number): DirectorRequestError {
    return new DirectorRequestError(
      `${name}: refusing to call ${url.origin} (${what}), which is not the director's origin ${base.origin}` +
        ` nor an allowed host (redirectHosts: ${redirectHosts.join(', ') || 'none'}); the credentials are never sent there`,
      status,
    );
  }

  function buildUrl(req: HttpRequest): URL {
    const url = /^https?:\/\//i.test(req.path) ? new URL(req.path) : new URL(baseUrl + req.path);
    // Never send the credentials to another host, whatever a Link header says.
    if (!allowedTarget(url)) throw refusal(url, 'a next-page link', 0);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, String(v));
      else url.searchParams.set(key, String(value));
    }
    return url;
  }

  function describe(req: HttpRequest): string {
    return `${name} ${req.method} ${req.path.replace(/^https?:\/\/[^/]+/i, '')}`;
  }

  async function attempt<T>(req: HttpRequest, url: URL, attemptTimeoutMs: number): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.userAgent) headers['user-agent'] = options.userAgent;
    Object.assign(headers, options.headers ? await options.headers() : {});
    let payload: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(req.body);
    }
    let status: number;
    let resHeaders: ResponseHeaders;
    let body: unknown;
    try {
      const res = await transport(url, {
        method: req.method,
        headers,
        body: payload,
        timeoutMs: attemptTimeoutMs,
        maxBytes: maxResponseBytes,
      });
      status = res.status;
      resHeaders = res.headers;
      const text = res.text;
      if (text.length > maxResponseBytes) throw new TooLarge(maxResponseBytes);
      const type = res.headers.get('content-type') ?? '';
      if (res.json !== undefined) body = res.json;
      else if (text === '') body = undefined;
      else if (type.includes('json')) {
        try {
          body = JSON.parse(text);
        } catch (cause) {
          if (status >= 200 && status < 300) {
            throw new Retryable(
              `invalid JSON in a ${status} response`,
              status,
              undefined,
              { cause },
              'acted',
            );
          }
          body = text;
        }
      } else body = text;
    } catch (error) {
      if (error instanceof Retryable) throw error;
      // Not retried: the same director would send the same answer.
      if (error instanceof TooLarge) {
        throw new DirectorResponseError(describe(req), 0, [
          {
            path: '(body)',
            value: `more than ${error.maxBytes} bytes`,
            expected: `an answer of at most ${error.maxBytes} bytes`,
          },
        ]);
      }
      const e = error as {
        name?: string;
        code?: string;
        message?: string;
        cause?: { code?: string; message?: string };
      };
      // fetch wraps the socket error in `cause`; node:http throws it as is.
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      const code = e.cause?.code ?? e.code;
      const reason = timedOut
        ? `timed out after ${attemptTimeoutMs} ms`
        : `connection failed: ${code ?? e.cause?.message ?? e.message ?? String(error)}`;
      const notSent = !timedOut && code !== undefined && NOT_SENT_CODES.has(code);
      throw new Retryable(reason, undefined, undefined, { cause: error }, notSent ? false : 'maybe');
    }

    const ok = req.okStatuses ? req.okStatuses.includes(status) : status >= 200 && status < 300;
    if (ok) return { status, headers: resHeaders, body: body as T };
    const location = resHeaders.get('location');
    if (REDIRECT_STATUSES.has(status) && location) throw new Redirect(status, location);
    const text = errorText(body);
    if (status === 429) {
      throw new Retryable(
        `HTTP 429 rate limited${text ? `: ${text}` : ''}`,
        status,
        parseRetryAfter(resHeaders.get('retry-after'), clock.now()),
        undefined,
        false,
      );
    }
    if (status >= 500) throw new Retryable(`HTTP ${status}${text ? `: ${text}` : ''}`, status, undefined);
    const tenant = req.tenantId ?? options.tenantId;
    if (status === 401 || status === 403) {
      throw new DirectorAuthError(
        `Director ${name} refused the credentials (HTTP ${status}) for ${
          tenant ? `tenant ${tenant}` : 'a director-level call'
        }: ${req.method} ${url.pathname}${text ? `: ${text}` : ''}`,
      );
    }
    throw new DirectorRequestError(
      `${describe(req)} → HTTP ${status}${tenant ? ` (tenant ${tenant})` : ''}${text ? `: ${text}` : ''}`,
      status,
      { cause: body },
    );
  }

  /** Whether a retryable failure may be resent without risking a second application. */
  function resendable(req: HttpRequest, error: Retryable): boolean {
    if (error.unknownOutcome === false) return true;
    const idempotent = req.idempotent ?? (IDEMPOTENT_METHODS.has(req.method) || undefined);
    // Unset on a POST/PATCH: resent after a timeout/5xx (see the module comment), never after a 2xx.
    return idempotent ?? error.unknownOutcome === 'maybe';
  }

  /** The wait before retry `n + 1`: `Retry-After`, else the 429 wait, else the backoff. */
  function retryDelay(error: Retryable, n: number): number {
    if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, maxRetryAfterMs);
    const wait = options.rateLimitWaitMs;
    if (error.status === 429 && wait) return wait.min + random() * (wait.max - wait.min);
    return random() * Math.min(backoffMaxMs, backoffBaseMs * 2 ** n);
  }

  async function request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    let url = buildUrl(req);
    let current = req;
    const maxRetries = req.retries ?? retries;
    const deadlineMs = req.deadlineMs ?? options.deadlineMs;
    const deadline = deadlineMs === undefined ? Infinity : clock.now() + deadlineMs;
    let redirects = 0;
    for (let n = 0; ;) {
      try {
        if (bucket)
          await bucket.take(
            req.deferrable || req.urgent
              ? { ...(req.deferrable ? { deferrable: true } : {}), ...(req.urgent ? { urgent: true } : {}) }
              : undefined,
          );
        // The budget's wait may have used up the call's time: send nothing that must time out.
        if (clock.now() >= deadline) {
          throw new DirectorUnavailableError(
            `${describe(req)}: no request sent, the wait for the request budget reached the call's ${deadlineMs} ms deadline`,
          );
        }
        const target = url;
        const sent = current;
        // At least 1 ms: a call whose deadline has passed still fails as a timeout, not a hang.
        const budgetMs = Math.max(1, Math.min(req.timeoutMs ?? timeoutMs, deadline - clock.now()));
        return semaphore
          ? await semaphore.run(() => attempt<T>(sent, target, budgetMs))
          : await attempt<T>(sent, target, budgetMs);
      } catch (error) {
        if (error instanceof Redirect) {
          const next = new URL(error.location, url);
          if (!allowedTarget(next)) throw refusal(next, `an HTTP ${error.status} redirect`, error.status);
          if (++redirects > maxRedirects) {
            throw new DirectorRequestError(
              `${describe(req)}: more than ${maxRedirects} redirects (last to ${next.href})`,
              error.status,
            );
          }
          url = next;
          // 303 See Other: the answer is fetched with a GET; the others keep the method and body.
          if (error.status === 303) current = { ...current, method: 'GET', body: undefined };
          continue;
        }
        if (!(error instanceof Retryable)) throw error;
        if (!resendable(current, error)) {
          throw new DirectorRequestError(
            `${describe(req)}: ${error.reason}; not resent, as a repeat could apply it twice ` +
              `(the director ${error.unknownOutcome === 'acted' ? 'accepted it' : 'may have applied it'}: read the state back)`,
            error.status ?? 0,
            { cause: error.cause ?? error },
          );
        }
        const delayMs = retryDelay(error, n);
        const pastDeadline = clock.now() + delayMs >= deadline;
        if (n >= maxRetries || pastDeadline) {
          const message =
            `${describe(req)} failed after ${n + 1} attempt(s): ${error.reason}` +
            (pastDeadline && n < maxRetries
              ? ` (the next retry would end past the call's ${deadlineMs} ms deadline)`
              : '');
          if (error.status === 429) throw new RateLimitedError(message, { cause: error });
          throw new DirectorUnavailableError(message, { cause: error.cause ?? error });
        }
        options.onRetry?.({
          client: name,
          method: req.method,
          path: url.pathname,
          attempt: n + 1,
          delayMs,
          status: error.status,
          reason: error.reason,
        });
        await clock.sleep(delayMs);
        n += 1;
      }
    }
  }

  /** Page `pages` of a listing: `page` itself, unless the listing has more than `maxPages` pages. */
  function checkPage(req: HttpRequest, pages: number, page: HttpRequest): HttpRequest {
    if (pages > maxPages) {
      throw new DirectorRequestError(
        `${describe(req)}: more than ${maxPages} pages; stopped (a director that never stops paging?)`,
        0,
      );
    }
    return page;
  }

  /** The request of the page after `res` (its `Link: rel=next`, never one `seen`), or undefined. */
  function nextPage(
    req: HttpRequest,
    sent: HttpRequest,
    res: HttpResponse<unknown>,
    seen: Set<string>,
  ): HttpRequest | undefined {
    const link = parseLinkHeader(res.headers.get('link')).next;
    if (!link) return undefined;
    const absolute = new URL(link, buildUrl(sent)).toString();
    if (seen.has(absolute)) {
      throw new DirectorRequestError(`${describe(req)}: pagination loops back to ${absolute}`, 0);
    }
    seen.add(absolute);
    // The next link carries its own query; do not add the first request's again.
    return { ...req, path: absolute, query: undefined };
  }

  async function* paginate<TItem, TBody = unknown>(
    req: HttpRequest,
    items: (body: TBody) => readonly TItem[],
  ): AsyncGenerator<TItem, void, undefined> {
    const seen = new Set<string>();
    let next: HttpRequest | undefined = req;
    for (let pages = 1; next; pages++) {
      const sent = checkPage(req, pages, next);
      const res: HttpResponse<TBody> = await request<TBody>(sent);
      yield* items(res.body);
      next = nextPage(req, sent, res, seen);
    }
  }

  // The same pages as `paginate`, without an async generator's promise per item.
  async function collect<TItem, TBody = unknown>(
    req: HttpRequest,
    items: (body: TBody) => readonly TItem[],
  ): Promise<TItem[]> {
    const out: TItem[] = [];
    const seen = new Set<string>();
    let next: HttpRequest | undefined = req;
    for (let pages = 1; next; pages++) {
      const sent = checkPage(req, pages, next);
      const res: HttpResponse<TBody> = await request<TBody>(sent);
      for (const item of items(res.body)) out.push(item);
      next = nextPage(req, sent, res, seen);
    }
    return out;
  }

  return { name, baseUrl, request, paginate, collect };
}
