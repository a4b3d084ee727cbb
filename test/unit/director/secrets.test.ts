import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { apiKeyProvider, clearSecretCache, type SecretsClient } from '../../../shared/director/secrets.js';
import { SecretError } from '../../../shared/errors.js';

function fakeClient(secretString: string | undefined | (() => string)): SecretsClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    send: async (command: GetSecretValueCommand) => {
      calls.push(command.input.SecretId ?? '');
      const s = typeof secretString === 'function' ? secretString() : secretString;
      return { SecretString: s };
    },
  };
}

beforeEach(() => clearSecretCache());

test('reads { apiKey } once and caches it for five minutes across providers of the secret', async () => {
  let t = 0;
  const client = fakeClient(JSON.stringify({ apiKey: 'k-1' }));
  const dc = apiKeyProvider({ secretName: 'zwan', site: 'DC', client, now: () => t, env: {} });
  const dr = apiKeyProvider({ secretName: 'zwan', site: 'DR', client, now: () => t, env: {} });
  expect(await Promise.all([dc(), dr(), dc()])).toEqual(['k-1', 'k-1', 'k-1']);
  expect(client.calls).toEqual(['zwan']);
  t += 5 * 60_000 - 1;
  await dc();
  expect(client.calls).toHaveLength(1);
  t += 1;
  await dc();
  expect(client.calls).toHaveLength(2);
});

test('per-site secrets give each site its own key; invalidate() forces a re-read', async () => {
  const client = fakeClient(JSON.stringify({ DC: 'dc-key', DR: 'dr-key' }));
  const dc = apiKeyProvider({ secretName: 's', site: 'DC', client, env: {} });
  const dr = apiKeyProvider({ secretName: 's', site: 'DR', client, env: {} });
  expect(await dc()).toBe('dc-key');
  expect(await dr()).toBe('dr-key');
  dc.invalidate();
  await dr();
  expect(client.calls).toHaveLength(2);
});

test('the sandbox variable wins and AWS is never called', async () => {
  const client = fakeClient(JSON.stringify({ apiKey: 'aws' }));
  const key = apiKeyProvider({ secretName: 's', client, env: { CPE_FAILOVER_API_KEY: 'local' } });
  expect(await key()).toBe('local');
  expect(client.calls).toHaveLength(0);
});

test('a deployed function refuses the sandbox variable: the key is read from nowhere and never shown', async () => {
  const client = fakeClient(JSON.stringify({ apiKey: 'aws' }));
  const key = apiKeyProvider({
    secretName: 's',
    client,
    env: {
      CPE_FAILOVER_API_KEY: 'plain-key-123',
      AWS_LAMBDA_FUNCTION_NAME: 'cpe-failover-prod-health',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    },
  });
  const err = (await key().catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(SecretError);
  expect(err.message).toMatch(
    /CPE_FAILOVER_API_KEY is set in the deployed function cpe-failover-prod-health: refused/,
  );
  expect(err.message).not.toContain('plain-key-123');
  expect(client.calls).toHaveLength(0);
});

test('a malformed secret is a SecretError that names the secret and never shows the value', async () => {
  for (const body of [
    'not json {secret-text}',
    '["secret-text"]',
    JSON.stringify({ other: 'secret-text' }),
  ]) {
    clearSecretCache();
    const key = apiKeyProvider({ secretName: 'zwan-key', site: 'DC', client: fakeClient(body), env: {} });
    const err = await key().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretError);
    expect((err as Error).message).toContain('zwan-key');
    expect((err as Error).message).not.toContain('secret-text');
    expect(JSON.stringify((err as Error).cause ?? null)).not.toContain('secret-text');
  }
});

test('a failed read is not cached', async () => {
  let fail = true;
  const client = fakeClient(() => {
    if (fail) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    return JSON.stringify({ apiKey: 'ok' });
  });
  const key = apiKeyProvider({ secretName: 's', client, env: {} });
  await expect(key()).rejects.toThrow(/Cannot read secret s from Secrets Manager: AccessDeniedException/);
  fail = false;
  expect(await key()).toBe('ok');
});
