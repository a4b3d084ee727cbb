import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHttpClient,
  mapLimit,
  matchesHostPattern,
  parseLinkHeader,
  parseRetryAfter,
  TokenBucket,
} from '../../../shared/director/http.js';
import { fakeClock } from './http-fakes.js';
import {
  DirectorAuthError,
  DirectorRequestError,
  DirectorUnavailableError,
  RateLimitedError,
} from '../../../shared/errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A tiny real HTTP server whose behaviour each test sets; records every request. */
interface TestServer {
  url: string;
  handler: Handler;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  inFlight: number;
  maxInFlight: number;
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state: TestServer = {
    url: '',
    handler: (_req, res) => res.end(),
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      res.on('close', () => (state.inFlight -= 1));
      state.handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    state.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  return state;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.close();
});

/** The transport the `createHttpClient` suite runs with (it runs once per transport). */
let transport: 'fetch' | 'node' = 'fetch';

function client(extra: Partial<Parameters<typeof createHttpClient>[0]> = {}) {
  const clock = fakeClock();
  const http = createHttpClient({
    transport,
    name: 'zwan-DC',
    baseUrl: server.url,
    headers: async () => ({ 'x-api-key': 'secret-key' }),
    timeoutMs: 2000,
    retries: 3,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    clock,
    ...extra,
  });
  return { http, clock };
}

describe.each(['fetch', 'node'] as const)('createHttpClient (transport %s)', (t) => {
  beforeEach(() => {
    transport = t;
  });

  test('sends method, path, query, headers and JSON body; parses the JSON response', async () => {
    server.handler = (_req, res) => json(res, 200, { ok: true });
    const { http } = client();
    const res = await http.request<{ ok: boolean }>({
      method: 'POST',
      path: '/tenants/t1/cpes',
      query: { limit: 10, id: ['a', 'b'], skip: undefined },
      body: { hello: 'world' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    const [r] = server.requests;
    expect(r?.method).toBe('POST');
    expect(r?.url).toBe('/api/v1/tenants/t1/cpes?limit=10&id=a&id=b');
    expect(r?.headers['x-api-key']).toBe('secret-key');
    expect(r?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r?.body ?? '')).toEqual({ hello: 'world' });
  });

  test('retries 5xx with full-jitter exponential backoff, then succeeds', async () => {
    let calls = 0;
    server.handler = (_req, res) => {
      calls += 1;
      if (calls <= 2) json(res, 503, { error: { code: 'BUSY', message: 'try later' } });
      else json(res, 200, { n: calls });
    };
    const retries: number[] = [];
    const { http, clock } = client({ random: () => 0.5, onRetry: (i) => retries.push(i.status ?? -1) });
    const res = await http.request<{ n: number }>({ method: 'GET', path: '/health' });
    expect(res.body.n).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(retries).toEqual([503, 503]);
    // random 0.5 × min(1000, 100·2ⁿ): 50 then 100.
    expect(clock.sleeps).toEqual([50, 100]);
  });

  test('backoff is capped by backoffMaxMs', async () => {
    server.handler = (_req, res) => json(res, 500, {});
    const { http, clock } = client({ random: () => 0.999999, retries: 5 });
    await expect(http.request({ method: 'GET', path: '/x' })).rejects.toThrow(DirectorUnavailableError);
    expect(clock.sleeps.map(Math.round)).toEqual([100, 200, 400, 800, 1000]);
  });

  test('5xx past the retries → DirectorUnavailableError naming the call and the last status', async () => {
    server.handler = (_req, res) => json(res, 502, { error: { code: 'BAD_GATEWAY', message: 'upstream' } });
    const { http } = client({ retries: 2 });
    const err = await http.request({ method: 'GET', path: '/health' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    expect(err).not.toBeInstanceOf(RateLimitedError);
    expect((err as Error).message).toContain('zwan-DC GET /health');
    expect((err as Error).message).toContain('3 attempt(s)');
    expect((err as Error).message).toContain('BAD_GATEWAY: upstream');
    expect(server.requests).toHaveLength(3);
  });

  test('a hanging server times out per attempt → DirectorUnavailableError with the cause', async () => {
    server.handler = () => {
      /* never answers */
    };
    const { http } = client({ timeoutMs: 80, retries: 1 });
    const err = await http.request({ method: 'GET', path: '/slow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    expect((err as Error).message).toContain('timed out after 80 ms');
    expect((err as Error).cause).toBeDefined();
    expect(server.requests).toHaveLength(2);
  });

  test('a refused connection is retried, then DirectorUnavailableError', async () => {
    const url = server.url;
    await server.close();
    const { http, clock } = client({ baseUrl: url, retries: 2 });
    const err = await http.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    expect((err as Error).message).toContain('connection failed');
    expect(clock.sleeps).toHaveLength(2);
    server = await startServer(); // for afterEach
  });

  test('400 is never retried → DirectorRequestError with status and the error text', async () => {
    server.handler = (_req, res) =>
      json(res, 400, { error: { code: 'BAD_INPUT', message: 'epoch must be >= 0' } });
    const { http } = client();
    const err = await http
      .request({ method: 'PUT', path: '/x', body: {}, tenantId: 't1' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorRequestError);
    expect((err as DirectorRequestError).status).toBe(400);
    expect((err as Error).message).toContain('BAD_INPUT: epoch must be >= 0');
    expect((err as Error).message).toContain('tenant t1');
    expect(server.requests).toHaveLength(1);
  });

  test.each([401, 403])(
    '%i → DirectorAuthError naming the director and the tenant, not retried',
    async (status) => {
      server.handler = (_req, res) => json(res, status, { error: { code: 'AUTH', message: 'bad key' } });
      const { http } = client();
      const err = await http
        .request({ method: 'GET', path: '/tenants/acme/cpes', tenantId: 'acme' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorAuthError);
      expect((err as Error).message).toContain('zwan-DC');
      expect((err as Error).message).toContain('tenant acme');
      expect((err as Error).message).toContain(`HTTP ${status}`);
      expect((err as Error).message).not.toContain('secret-key');
      expect(server.requests).toHaveLength(1);
    },
  );

  test('okStatuses returns listed non-2xx statuses instead of throwing', async () => {
    server.handler = (_req, res) => json(res, 409, { error: { code: 'STALE_EPOCH', message: 'old' } });
    const { http } = client();
    const res = await http.request<{ error: { code: string } }>({
      method: 'POST',
      path: '/x',
      okStatuses: [200, 409],
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('STALE_EPOCH');
  });

  test('429 honours Retry-After in seconds, then succeeds', async () => {
    let calls = 0;
    server.handler = (_req, res) => {
      calls += 1;
      if (calls === 1) json(res, 429, { errors: ['Too many requests'] }, { 'retry-after': '2' });
      else json(res, 200, {});
    };
    const { http, clock } = client();
    await http.request({ method: 'GET', path: '/x' });
    expect(clock.sleeps).toEqual([2000]);
  });

  test('429 past the retries → RateLimitedError', async () => {
    server.handler = (_req, res) => json(res, 429, { errors: ['Too many requests'] }, { 'retry-after': '1' });
    const { http, clock } = client({ retries: 2 });
    const err = await http.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as Error).message).toContain('Too many requests');
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  test('a per-request retries override of 0 makes one attempt', async () => {
    server.handler = (_req, res) => json(res, 500, {});
    const { http } = client();
    await expect(http.request({ method: 'POST', path: '/jobs', retries: 0 })).rejects.toThrow(
      DirectorUnavailableError,
    );
    expect(server.requests).toHaveLength(1);
  });

  describe('unknown outcomes: a repeat must not apply a request twice', () => {
    /** Answers `status` with a JSON content type and a body that is not JSON, then valid JSON. */
    function brokenThenGood(status: number): void {
      server.handler = (_req, res) => {
        if (server.requests.length === 1) {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end('{"id": "batch-1", "stat');
        } else json(res, status, { id: `batch-${server.requests.length}` });
      };
    }

    test.each(['GET', 'PUT', 'DELETE'] as const)(
      'a 2xx with invalid JSON is resent for idempotent %s',
      async (method) => {
        brokenThenGood(200);
        const { http } = client();
        const res = await http.request<{ id: string }>({ method, path: '/x' });
        expect(res.body.id).toBe('batch-2');
        expect(server.requests).toHaveLength(2);
      },
    );

    test('a 2xx with invalid JSON to a POST → DirectorRequestError at once (it was applied)', async () => {
      brokenThenGood(201);
      const { http } = client();
      const err = await http
        .request({ method: 'POST', path: '/organizations/o1/actionBatches', body: { actions: [] } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorRequestError);
      expect(err).not.toBeInstanceOf(DirectorUnavailableError);
      expect((err as DirectorRequestError).status).toBe(201);
      expect((err as Error).message).toContain('invalid JSON in a 201 response');
      expect((err as Error).message).toContain('read the state back');
      expect(server.requests).toHaveLength(1);
    });

    test('a POST declared idempotent is resent after a 2xx with invalid JSON', async () => {
      brokenThenGood(200);
      const { http } = client();
      const res = await http.request<{ id: string }>({ method: 'POST', path: '/x', idempotent: true });
      expect(res.body.id).toBe('batch-2');
      expect(server.requests).toHaveLength(2);
    });

    test('idempotent: false — a 5xx is final: one request, DirectorRequestError with the status', async () => {
      server.handler = (_req, res) => json(res, 502, { errors: ['upstream'] });
      const { http } = client();
      const err = await http
        .request({ method: 'POST', path: '/batches', body: {}, idempotent: false })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorRequestError);
      expect((err as DirectorRequestError).status).toBe(502);
      expect((err as Error).message).toContain('may have applied it');
      expect(server.requests).toHaveLength(1);
    });

    test('idempotent: false — a timeout is final: one request', async () => {
      server.handler = () => {
        /* never answers */
      };
      const { http } = client({ timeoutMs: 80 });
      const err = await http
        .request({ method: 'POST', path: '/batches', body: {}, idempotent: false })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorRequestError);
      expect((err as Error).message).toContain('timed out after 80 ms');
      expect(server.requests).toHaveLength(1);
    });

    test('idempotent: false — a 429 (nothing done) is still retried', async () => {
      server.handler = (_req, res) => {
        if (server.requests.length === 1) json(res, 429, {}, { 'retry-after': '1' });
        else json(res, 201, { id: 'b' });
      };
      const { http } = client();
      const res = await http.request({ method: 'POST', path: '/batches', idempotent: false });
      expect(res.status).toBe(201);
      expect(server.requests).toHaveLength(2);
    });

    test('idempotent: false — a refused connection (never sent) is still retried', async () => {
      const url = server.url;
      await server.close();
      const { http, clock } = client({ baseUrl: url, retries: 2 });
      const err = await http
        .request({ method: 'POST', path: '/batches', idempotent: false })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorUnavailableError);
      expect(clock.sleeps).toHaveLength(2);
      server = await startServer(); // for afterEach
    });

    test('a POST left unset is retried after a 5xx (the zWAN POSTs are idempotent by contract)', async () => {
      server.handler = (_req, res) => {
        if (server.requests.length === 1) json(res, 503, {});
        else json(res, 200, { changed: true });
      };
      const { http } = client();
      const res = await http.request<{ changed: boolean }>({ method: 'POST', path: '/repoint' });
      expect(res.body.changed).toBe(true);
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('redirects: followed by hand, the key only to allowed hosts', () => {
    let other: TestServer;
    beforeEach(async () => {
      other = await startServer();
    });
    afterEach(async () => {
      await other.close();
    });
    const redirectTo = (status: number, location: (path: string) => string) => {
      server.handler = (req, res) => {
        res.writeHead(status, { location: location((req.url ?? '').replace('/api/v1', '')) });
        res.end();
      };
    };

    test('a redirect within the origin is followed with the method, body and key', async () => {
      server.handler = (req, res) => {
        if (req.url === '/api/v1/old') {
          res.writeHead(308, { location: '/api/v1/new' });
          res.end();
        } else json(res, 200, { at: req.url });
      };
      const { http } = client();
      const res = await http.request<{ at: string }>({ method: 'PUT', path: '/old', body: { a: 1 } });
      expect(res.body.at).toBe('/api/v1/new');
      expect(server.requests.map((r) => [r.method, r.url, r.body, r.headers['x-api-key']])).toEqual([
        ['PUT', '/api/v1/old', '{"a":1}', 'secret-key'],
        ['PUT', '/api/v1/new', '{"a":1}', 'secret-key'],
      ]);
    });

    test.each([301, 302, 307, 308])(
      'a %i to another host → DirectorRequestError; that host gets no request (no key)',
      async (status) => {
        redirectTo(status, (path) => `${other.url}${path}`);
        const { http } = client();
        const err = await http.request({ method: 'GET', path: '/networks' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DirectorRequestError);
        expect((err as DirectorRequestError).status).toBe(status);
        expect((err as Error).message).toContain(`refusing to call ${new URL(other.url).origin}`);
        expect(other.requests).toEqual([]);
        expect(server.requests).toHaveLength(1);
      },
    );

    test('a redirect to an allowed host is followed with the key; the method and body are kept', async () => {
      redirectTo(307, (path) => `${other.url}${path}`);
      other.handler = (_req, res) => json(res, 201, { id: 'b1' });
      const { http } = client({ redirectHosts: ['127.0.0.1'] });
      const res = await http.request<{ id: string }>({ method: 'POST', path: '/batches', body: { x: 1 } });
      expect(res.body.id).toBe('b1');
      expect(other.requests.map((r) => [r.method, r.url, r.body, r.headers['x-api-key']])).toEqual([
        ['POST', '/api/v1/batches', '{"x":1}', 'secret-key'],
      ]);
    });

    test('a 303 after a POST is fetched with a GET and no body', async () => {
      server.handler = (req, res) => {
        if (req.method === 'POST') {
          res.writeHead(303, { location: '/api/v1/result/7' });
          res.end();
        } else json(res, 200, { id: 7 });
      };
      const { http } = client();
      await http.request({ method: 'POST', path: '/jobs', body: { go: true } });
      expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
        ['POST', '/api/v1/jobs', '{"go":true}'],
        ['GET', '/api/v1/result/7', ''],
      ]);
    });

    test('a redirect loop stops after maxRedirects', async () => {
      redirectTo(302, (path) => path.replace(/^\/a(\d+)/, (_m, n: string) => `/api/v1/a${Number(n) + 1}`));
      const { http } = client({ maxRedirects: 3 });
      const err = await http.request({ method: 'GET', path: '/a0' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectorRequestError);
      expect((err as Error).message).toContain('more than 3 redirects');
      expect(server.requests).toHaveLength(4);
    });

    test('an https base URL is never redirected to http, even on an allowed host', async () => {
      const fetchSeen: string[] = [];
      const fakeFetch: typeof fetch = async (input) => {
        fetchSeen.push(String(input));
        return new Response(null, { status: 301, headers: { location: 'http://n1.meraki.com/api/v1/x' } });
      };
      const http = createHttpClient({
        name: 'meraki',
        baseUrl: 'https://api.meraki.com/api/v1',
        redirectHosts: ['*.meraki.com'],
        fetch: fakeFetch,
        clock: fakeClock(),
      });
      await expect(http.request({ method: 'GET', path: '/x' })).rejects.toThrow(
        /refusing to call http:\/\/n1/,
      );
      expect(fetchSeen).toEqual(['https://api.meraki.com/api/v1/x']);
    });

    test('paging follows next links on an allowed host after a redirect', async () => {
      redirectTo(301, (path) => `${other.url}${path}`);
      other.handler = (req, res) => {
        const page = Number(new URL(req.url ?? '', 'http://x').searchParams.get('page') ?? '1');
        const link: Record<string, string> =
          page < 3 ? { link: `<${other.url}/items?page=${page + 1}>; rel=next` } : {};
        json(res, 200, [page], link);
      };
      const { http } = client({ redirectHosts: ['127.0.0.1'] });
      expect(await http.collect({ method: 'GET', path: '/items' }, (b: number[]) => b)).toEqual([1, 2, 3]);
      expect(other.requests.every((r) => r.headers['x-api-key'] === 'secret-key')).toBe(true);
      expect(other.requests).toHaveLength(3);
    });
  });

  test('non-JSON bodies come back as text; empty bodies as undefined', async () => {
    server.handler = (req, res) => {
      if (req.url?.endsWith('/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello');
      } else {
        res.writeHead(204);
        res.end();
      }
    };
    const { http } = client();
    expect((await http.request({ method: 'GET', path: '/text' })).body).toBe('hello');
    expect((await http.request({ method: 'DELETE', path: '/thing' })).body).toBeUndefined();
  });

  test('connections are kept alive and reused across calls', async () => {
    server.handler = (_req, res) => json(res, 200, { ok: true });
    const { http } = client();
    for (let i = 0; i < 10; i++) await http.request({ method: 'POST', path: '/x', body: { i } });
    expect(server.requests.map((r) => r.body)).toEqual(Array.from({ length: 10 }, (_, i) => `{"i":${i}}`));
    // Without keep-alive this would be 10 (undici's pool may open a second one).
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  test('concurrency bounds the requests in flight', async () => {
    server.handler = (_req, res) => setTimeout(() => json(res, 200, {}), 20);
    const { http } = client({ concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => http.request({ method: 'GET', path: '/x' })));
    expect(server.requests).toHaveLength(6);
    expect(server.maxInFlight).toBe(2);
  });

  test('the rate limit throttles every call of the client through one bucket', async () => {
    server.handler = (_req, res) => json(res, 200, {});
    const { http, clock } = client({ rateLimit: { requestsPerSecond: 10, burst: 2 } });
    for (let i = 0; i < 5; i++) await http.request({ method: 'GET', path: '/x' });
    // Two from the burst, then one token per 100 ms.
    expect(clock.sleeps).toEqual([100, 100, 100]);
  });

  test('paginate follows Link rel=next across pages', async () => {
    server.handler = (req, res) => {
      const u = new URL(req.url ?? '', 'http://x');
      const page = Number(u.searchParams.get('page') ?? '1');
      const headers: Record<string, string> =
        page < 3
          ? {
              link: `<${server.url}/items?page=1>; rel=first, <${server.url}/items?page=${page + 1}&perPage=2>; rel="next"`,
            }
          : {};
      json(res, 200, { items: [`${page}a`, `${page}b`] }, headers);
    };
    const { http } = client();
    const all = await http.collect<string, { items: string[] }>(
      { method: 'GET', path: '/items', query: { perPage: 2 } },
      (b) => b.items,
    );
    expect(all).toEqual(['1a', '1b', '2a', '2b', '3a', '3b']);
    expect(server.requests.map((r) => r.url)).toEqual([
      '/api/v1/items?perPage=2',
      '/api/v1/items?page=2&perPage=2',
      '/api/v1/items?page=3&perPage=2',
    ]);
  });

  test('paginate refuses a next link to another origin (the key is never sent elsewhere)', async () => {
    server.handler = (_req, res) => json(res, 200, [], { link: '<http://evil.example/steal>; rel=next' });
    const { http } = client();
    await expect(http.collect({ method: 'GET', path: '/items' }, (b: unknown[]) => b)).rejects.toThrow(
      /not the director's origin/,
    );
    expect(server.requests).toHaveLength(1);
  });

  test('paginate stops a next link that loops', async () => {
    server.handler = (_req, res) => json(res, 200, [1], { link: `<${server.url}/items?page=2>; rel=next` });
    const { http } = client();
    await expect(http.collect({ method: 'GET', path: '/items' }, (b: number[]) => b)).rejects.toThrow(
      /loops/,
    );
  });
});

describe('helpers', () => {
  test('parseLinkHeader reads several rels, quoted and unquoted', () => {
    expect(
      parseLinkHeader(
        '<https://a/x?p=1,2>; rel=first, <https://a/x?p=3>; rel="next", <https://a/x?p=9>; rel=last',
      ),
    ).toEqual({ first: 'https://a/x?p=1,2', next: 'https://a/x?p=3', last: 'https://a/x?p=9' });
    expect(parseLinkHeader(null)).toEqual({});
  });

  test('matchesHostPattern: exact names and *.domain subdomains, nothing that merely ends alike', () => {
    const patterns = ['*.meraki.com', 'api.example.org'];
    expect(matchesHostPattern('n123.meraki.com', patterns)).toBe(true);
    expect(matchesHostPattern('API.Meraki.com', patterns)).toBe(true);
    expect(matchesHostPattern('a.b.meraki.com', patterns)).toBe(true);
    expect(matchesHostPattern('api.example.org', patterns)).toBe(true);
    expect(matchesHostPattern('meraki.com', patterns)).toBe(false);
    expect(matchesHostPattern('evilmeraki.com', patterns)).toBe(false);
    expect(matchesHostPattern('meraki.com.evil.io', patterns)).toBe(false);
    expect(matchesHostPattern('x.api.example.org', patterns)).toBe(false);
    expect(matchesHostPattern('n1.meraki.com', [])).toBe(false);
  });

  test('parseRetryAfter reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  test('TokenBucket serves the burst at once, then one token per interval, and refills over time', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(5, 3, clock);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) waits.push(await bucket.take());
    expect(waits).toEqual([0, 0, 0, 200, 200]);
    clock.t += 10_000;
    expect(bucket.available()).toBe(3);
  });

  test('TokenBucket rejects bad settings with the field and value', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/requestsPerSecond=0/);
    expect(() => new TokenBucket(1, 0)).toThrow(/burst=0/);
  });

  test('mapLimit keeps order and bounds concurrency', async () => {
    let active = 0;
    let max = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n, i) => {
      active += 1;
      max = Math.max(max, active);
      await new Promise((r) => setTimeout(r, n));
      active -= 1;
      return `${i}:${n * 10}`;
    });
    expect(out).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30', '5:0']);
    expect(max).toBe(2);
  });

  test('mapLimit rejects on the first failure and starts no more items', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
    await expect(mapLimit([], 0, async () => 1)).rejects.toThrow(/limit=0/);
  });
});
