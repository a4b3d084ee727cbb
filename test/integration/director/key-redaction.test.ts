/**
 * The API key never leaves: a director that quotes the key back in a 401 body (over real HTTP)
 * yields an error, a log line, a notice and an audit event without it.
 */
import { createServer, type Server } from 'node:http';
import { jest } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { apiKeyProvider } from '../../../shared/director/secrets.js';
import { createZwanDirector } from '../../../shared/director/zwan/adapter.js';
import { SnsPublisher } from '../../../shared/notify/sns.js';
import { logger } from '../../../shared/observability.js';
import { errorText } from '../../../shared/director/http.js';
import { formatValue } from '../../../shared/errors.js';
import { forgetSecrets, redactingReplacer, REDACTED, rememberSecret } from '../../../shared/redact.js';
import { systemRuntime } from '../../../shared/runtime.js';
import { MemoryTable } from '../../../shared/store/memory-table.js';
import { StateRepository } from '../../../shared/store/state-repo.js';

const KEY = 'zw-live-9f8e7d6c5b4a3210';
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const got = String(req.headers['x-api-key'] ?? '');
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: { code: 'UNAUTHORIZED', message: `key ${got} is not valid for this tenant` } }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => forgetSecrets());

test('a 401 body quoting the key: the error, the WARN log line, the notice and the audit event show <redacted>', async () => {
  const apiKey = apiKeyProvider({ secretName: 's', env: { CPE_FAILOVER_API_KEY: KEY } });
  const director = createZwanDirector({ site: 'DC', baseUrl, apiKey, retries: 0 });
  const error = (await director.listCpes('t1').catch((e: unknown) => e)) as Error;
  expect(error.message).toContain('is not valid');
  expect(error.message).not.toContain(KEY);
  expect(error.message).toContain(REDACTED);

  const lines: string[] = [];
  // Powertools writes WARN through a Console on stderr (stdout for lower levels).
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  const level = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  try {
    logger.warn('director call failed', { error, body: { message: `key ${KEY}` }, detail: `Bearer ${KEY}` });
  } finally {
    logger.setLogLevel(level);
    for (const spy of spies) spy.mockRestore();
  }
  const logged = lines.join('');
  expect(logged).toContain('director call failed');
  expect(logged).not.toContain(KEY);
  expect(logged).toContain(REDACTED);

  const sent: { Subject?: string; Message?: string }[] = [];
  const sns = new SnsPublisher(
    { send: async (c: { input: object }) => sent.push(c.input) } as never,
    'arn:topic',
  );
  const notice = {
    kind: 'REPOINT_FAILURE' as const,
    groupKey: 't1#G',
    tenantId: 't1',
    haName: 'G',
    reason: error.message + ` (raw: ${KEY})`,
    epoch: 1,
    at: Date.UTC(2026, 11, 1),
  };
  await sns.publish(notice);
  expect(JSON.stringify(sent)).not.toContain(KEY);
  expect(sent[0]?.Message).toContain(REDACTED);

  const repo = new StateRepository(new MemoryTable({ name: 'state' }), systemRuntime);
  const audit = await repo.writeAudit(notice);
  expect(JSON.stringify(audit)).not.toContain(KEY);
  expect(audit.reason).toContain(REDACTED);
});

test('a key cut short, URL-encoded, JSON-escaped or used as a property name is redacted too', async () => {
  const key = 'zw/live+9f8e"7d6c5b4a3210';
  rememberSecret(key);
  const bodies = [
    `<html><body>401 Unauthorized: the key ${key} ${'x'.repeat(280)}</body></html>`,
    { detail: `bad key ${encodeURIComponent(key)}`, filler: 'y'.repeat(400) },
  ];
  for (const body of bodies) {
    const text = errorText(body);
    expect(text).not.toContain(key.slice(0, 8));
    expect(text).not.toContain(encodeURIComponent(key).slice(0, 12));
  }
  expect(formatValue(`${'z'.repeat(100)} ${key}`)).not.toContain(key.slice(0, 8));
  expect(JSON.stringify({ note: key }, redactingReplacer)).not.toContain('zw/live');
  const escaped = JSON.stringify({ raw: JSON.stringify({ k: key }) }, redactingReplacer);
  expect(escaped).not.toContain('9f8e');
  const named = JSON.stringify({ cause: { errors: { [key]: 'unknown key' } } }, redactingReplacer);
  expect(named).not.toContain('9f8e');
  expect(named).toContain(REDACTED);
});
