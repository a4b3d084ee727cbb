import { readFileSync } from 'node:fs';
import { createHttpClient, type RawResponse, type Transport } from '../../../shared/director/http.js';
import { MERAKI_REGIONS, merakiRedirectHosts } from '../../../shared/director/meraki/context.js';
import { CONTROLLER_VERSION, controllerUserAgent } from '../../../shared/director/user-agent.js';
import { DirectorUnavailableError, RateLimitedError } from '../../../shared/errors.js';
import { merakiSchema } from '../../../shared/config/schema.js';
import { fakeClock } from './http-fakes.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): RawResponse => ({
  status,
  headers: new Headers({ 'content-type': 'application/json', ...headers }),
  text: JSON.stringify(body),
});

/** A transport answering from a script, recording what it was sent. */
function scripted(answers: (RawResponse | 'timeout')[]) {
  const seen: { url: string; headers: Record<string, string>; timeoutMs: number }[] = [];
  const transport: Transport = async (url, init) => {
    seen.push({ url: url.href, headers: init.headers, timeoutMs: init.timeoutMs });
    const next = answers.shift() ?? json(200, {});
    if (next === 'timeout') {
      const e = new Error('slow');
      e.name = 'TimeoutError';
      throw e;
    }
    return next;
  };
  return { seen, transport };
}

describe('identifying as Meraki asks', () => {
  it('the User-Agent names the controller, its version (package.json) and the vendor', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(CONTROLLER_VERSION).toBe(pkg.version);
    expect(controllerUserAgent('acme-msp')).toBe(`cpe-failover/${pkg.version} acme-msp`);
    expect(controllerUserAgent()).toBe(`cpe-failover/${pkg.version} cpe-failover`);
  });

  it('the client sends it on every request', async () => {
    const { seen, transport } = scripted([]);
    const http = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport,
      userAgent: 'x/1 y',
    });
    await http.request({ method: 'GET', path: '/organizations' });
    expect(seen[0]?.headers['user-agent']).toBe('x/1 y');
  });

  it('a vendor with a space is a config error naming the field', () => {
    const r = merakiSchema.safeParse({
      kind: 'meraki',
      secretName: 's',
      organizations: [],
      vendor: 'Acme MSP',
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('vendor');
  });

  it('defaults: 5 requests/s, 60 s per request; more than 10/s or a fraction is refused', () => {
    const base = {
      kind: 'meraki',
      secretName: 's',
      organizations: [
        {
          id: 'o',
          hubs: [
            { name: 'a', tagPrefix: 'a', trackedIp: '192.0.2.1' },
            { name: 'b', tagPrefix: 'b', trackedIp: '192.0.2.2' },
          ],
        },
      ],
    };
    const parsed = merakiSchema.safeParse(base);
    expect(parsed.success && parsed.data.requestsPerSecond).toBe(5);
    expect(parsed.success && parsed.data.timeoutMs).toBe(60_000);
    expect(merakiSchema.safeParse({ ...base, requestsPerSecond: 11 }).success).toBe(false);
    expect(merakiSchema.safeParse({ ...base, requestsPerSecond: 4.5 }).success).toBe(false);
  });

  it.each([
    ['https://api.meraki.com/api/v1', ['*.meraki.com']],
    ['https://api.meraki.ca/api/v1', ['*.meraki.ca']],
    ['https://api.meraki.cn/api/v1', ['*.meraki.cn']],
    ['https://api.meraki.in/api/v1', ['*.meraki.in']],
    ['https://api.gov-meraki.com/api/v1', ['*.gov-meraki.com']],
    ['https://API.Meraki.CA/api/v1/', ['*.meraki.ca']],
    ['http://127.0.0.1:8080/api/v1', []],
    ['https://dashboard.example.net/api/v1', []],
  ])('a regional base %s redirects only to %j', (base, hosts) => {
    expect(merakiRedirectHosts(base)).toEqual(hosts);
  });

  it('configured redirect hosts win over the region', () => {
    expect(merakiRedirectHosts('https://api.meraki.ca/api/v1', ['n1.example'])).toEqual(['n1.example']);
    expect(Object.keys(MERAKI_REGIONS)).toHaveLength(5);
  });
});

describe('429 without Retry-After, within the deadline', () => {
  it('waits as the SDK does: a random time between the bounds, then retries', async () => {
    const clock = fakeClock();
    const { seen, transport } = scripted([json(429, { errors: ['rate'] }), json(200, { ok: 1 })]);
    const http = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport,
      clock,
      random: () => 0.5,
      rateLimitWaitMs: { min: 1_000, max: 60_000 },
    });
    const res = await http.request<{ ok: number }>({ method: 'GET', path: '/x' });
    expect(res.body.ok).toBe(1);
    expect(clock.sleeps).toEqual([30_500]);
    expect(seen).toHaveLength(2);
  });

  it('Retry-After still wins over the random wait', async () => {
    const clock = fakeClock();
    const { transport } = scripted([json(429, {}, { 'retry-after': '2' }), json(200, {})]);
    const http = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport,
      clock,
      random: () => 0.99,
      rateLimitWaitMs: { min: 1_000, max: 60_000 },
    });
    await http.request({ method: 'GET', path: '/x' });
    expect(clock.sleeps).toEqual([2_000]);
  });

  it('a wait that would end past the deadline is not made: RateLimitedError at once', async () => {
    const clock = fakeClock();
    const { seen, transport } = scripted([json(429, {}), json(429, {}), json(200, {})]);
    const http = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport,
      clock,
      random: () => 0.5, // 30.5 s per wait
      retries: 6,
      rateLimitWaitMs: { min: 1_000, max: 60_000 },
      deadlineMs: 45_000,
    });
    const err = await http.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as Error).message).toContain("past the call's 45000 ms deadline");
    expect(clock.sleeps).toEqual([30_500]);
    expect(seen).toHaveLength(2);
  });

  it("an attempt's timeout is cut to what is left before the deadline", async () => {
    const clock = fakeClock();
    const { seen, transport } = scripted(['timeout', 'timeout']);
    // The fake transport fails at once, so let each attempt "take" its whole timeout.
    const timed: Transport = async (url, init) => {
      clock.t += init.timeoutMs;
      return transport(url, init);
    };
    const slow = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport: timed,
      clock,
      random: () => 0.5,
      retries: 3,
      backoffBaseMs: 1_000,
      timeoutMs: 60_000,
      deadlineMs: 90_000,
    });
    const err = await slow.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    // 60 s, a 0.5 s backoff, then the 29.5 s left.
    expect(seen.map((s) => s.timeoutMs)).toEqual([60_000, 29_500]);
  });

  it('a wait for the request budget that reaches the deadline sends nothing', async () => {
    const clock = fakeClock();
    const { seen, transport } = scripted([]);
    const http = createHttpClient({
      name: 'm',
      baseUrl: 'https://api.meraki.com/api/v1',
      transport,
      clock,
      bucket: {
        take: async () => {
          await clock.sleep(50_000);
          return 50_000;
        },
      },
      deadlineMs: 45_000,
    });
    const err = await http.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorUnavailableError);
    expect((err as Error).message).toContain('no request sent');
    expect(seen).toEqual([]);
  });
});
