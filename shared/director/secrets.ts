/**
 * The directors' API key, read from AWS Secrets Manager and cached for five minutes per warm
 * container. In the sandbox and tests (env `CPE_FAILOVER_API_KEY` set) that value is used and AWS
 * is never called; a deployed function (the Lambda runtime's AWS_EXECUTION_ENV) refuses it. The key never
 * appears in a log line or an error message.
 *
 * Secret shapes: `{ "apiKey": "…" }` (one key for every site) or `{ "DC": "…", "DR": "…" }`
 * (one per site; `apiKey` is the fallback when the site has none).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SiteName } from '../domain/model.js';
import { SecretError } from '../errors.js';
import { rememberSecret } from '../redact.js';

/** The sandbox's override: when set, it is the key for every director. */
export const API_KEY_ENV = 'CPE_FAILOVER_API_KEY';

/** How long a read secret is reused. */
export const SECRET_TTL_MS = 5 * 60_000;

/** The subset of the Secrets Manager client used here (so tests can pass a fake). */
export interface SecretsClient {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

/** Options of {@link apiKeyProvider}. */
export interface ApiKeyProviderOptions {
  secretName: string;
  /** Pick the site's key from a per-site secret; without it the secret must have `apiKey`. */
  site?: SiteName;
  /** @default a SecretsManagerClient for the Lambda's region, created on first use */
  client?: SecretsClient;
  /** @default SECRET_TTL_MS */
  ttlMs?: number;
  /** Injectable clock (tests). */
  now?: () => number;
  /** Injectable environment (tests). @default process.env */
  env?: Record<string, string | undefined>;
}

/** A function returning the API key; `invalidate()` drops the cache (e.g. after a 401 from a rotated key). */
export interface ApiKeyProvider {
  (): Promise<string>;
  invalidate(): void;
}

interface CacheEntry {
  expiresAt: number;
  value: Promise<Record<string, unknown>>;
}

// One cache for the container: the DC and DR providers of one secret share a single read.
const cache = new Map<string, CacheEntry>();
let defaultClient: SecretsClient | undefined;

/** Forget every cached secret (tests). */
export function clearSecretCache(): void {
  cache.clear();
}

async function readSecret(client: SecretsClient, secretName: string): Promise<Record<string, unknown>> {
  let out: { SecretString?: string };
  try {
    out = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
  } catch (cause) {
    throw new SecretError(`Cannot read secret ${secretName} from Secrets Manager: ${(cause as Error).name}`, {
      cause,
    });
  }
  if (!out.SecretString) {
    throw new SecretError(`Secret ${secretName} has no SecretString (binary secrets are not supported)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString);
  } catch {
    // No cause: the parser's message would quote the secret's text.
    throw new SecretError(
      `Secret ${secretName} is not JSON: expected { "apiKey": "…" } or { "DC": "…", "DR": "…" }`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretError(
      `Secret ${secretName} is not a JSON object: expected { "apiKey": "…" } or { "DC": "…", "DR": "…" }`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Create a provider of the API key for one director (see the module comment). */
export function apiKeyProvider(options: ApiKeyProviderOptions): ApiKeyProvider {
  const { secretName, site } = options;
  const ttlMs = options.ttlMs ?? SECRET_TTL_MS;
  const now = options.now ?? Date.now;
  const env = options.env ?? process.env;
  const cacheKey = secretName;

  const provider = async (): Promise<string> => {
    const override = env[API_KEY_ENV];
    if (override) {
      // Only the sandbox and tests may hand the key in plainly: in a deployed function the
      // environment is visible to anyone who can read the function's configuration.
      // AWS_EXECUTION_ENV (managed runtimes) and AWS_LAMBDA_RUNTIME_API (every runtime) are set
      // by Lambda itself, never by the sandbox or the tests (which do set a function name).
      if (env.AWS_EXECUTION_ENV?.startsWith('AWS_Lambda_') || env.AWS_LAMBDA_RUNTIME_API) {
        throw new SecretError(
          `${API_KEY_ENV} is set in the deployed function ${env.AWS_LAMBDA_FUNCTION_NAME ?? '(unnamed)'}: refused (it is for the sandbox and tests only); remove it and keep the key in Secrets Manager secret ${secretName}`,
        );
      }
      rememberSecret(override);
      return override;
    }
    let entry = cache.get(cacheKey);
    if (!entry || entry.expiresAt <= now()) {
      const client = options.client ?? (defaultClient ??= new SecretsManagerClient({}));
      const value = readSecret(client, secretName);
      entry = { expiresAt: now() + ttlMs, value };
      cache.set(cacheKey, entry);
      // A failed read is not cached: the next call tries again.
      value.catch(() => {
        if (cache.get(cacheKey) === entry) cache.delete(cacheKey);
      });
    }
    const secret = await entry.value;
    const perSite = site ? secret[site] : undefined;
    const key = typeof perSite === 'string' && perSite !== '' ? perSite : secret.apiKey;
    if (typeof key !== 'string' || key === '') {
      const fields = site ? `"${site}" or "apiKey"` : '"apiKey"';
      throw new SecretError(`Secret ${secretName} has no non-empty string field ${fields}`);
    }
    rememberSecret(key);
    return key;
  };
  provider.invalidate = () => {
    cache.delete(cacheKey);
  };
  return provider;
}
