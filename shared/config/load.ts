/**
 * Read and validate the configuration once. Used by the CDK app, the sandbox and the functions
 * (which get the file's JSON in the `CPE_FAILOVER_CONFIG` environment variable).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as z from 'zod/mini';
import { ConfigError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** Turn zod issues (a ZodError from classic zod or zod/mini) into our field/value/expected triples. */
export function zodIssues(
  error: { readonly issues: readonly z.core.$ZodIssue[] },
  input: unknown,
): { path: string; value: unknown; expected: string }[] {
  const at = (path: readonly PropertyKey[]): unknown => {
    let value: unknown = input;
    for (const p of path) {
      value =
        value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p] : undefined;
    }
    return value;
  };
  return error.issues.flatMap((issue) =>
    // Name each unknown field itself (a typo like "haname"), not the object that holds it.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...issue.path.map(String), key].join('.'),
          value: at([...issue.path, key]),
          expected: 'no such field (allowed: the documented fields only)',
        }))
      : [{ path: issue.path.map(String).join('.'), value: at(issue.path), expected: issue.message }],
  );
}

/** Validate a configuration object; throws ConfigError naming each bad field. */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw new ConfigError(source, zodIssues(result.error, input));
  return result.data;
}

/** Load `config/<env>.json` (relative to `root`). */
export function loadConfigFile(env: string, root = process.cwd()): Config {
  const path = resolve(root, 'config', `${env}.json`);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      `configuration ${path}`,
      [{ path: 'env', value: env, expected: `a file config/${env}.json` }],
      {
        cause,
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new ConfigError(
      `configuration ${path}`,
      [{ path: '', value: raw.slice(0, 40), expected: 'valid JSON' }],
      {
        cause,
      },
    );
  }
  return parseConfig(json, `configuration ${path}`);
}

let cached: Config | undefined;
/** The functions' configuration, from `CPE_FAILOVER_CONFIG` (JSON), validated once per container. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached) return cached;
  const raw = env.CPE_FAILOVER_CONFIG;
  if (!raw) {
    throw new ConfigError('environment', [
      { path: 'CPE_FAILOVER_CONFIG', value: raw, expected: 'the configuration as JSON' },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError('environment', [
      {
        path: 'CPE_FAILOVER_CONFIG',
        value: raw,
        expected: `the configuration as JSON (${(error as Error).message})`,
      },
    ]);
  }
  cached = parseConfig(json, 'CPE_FAILOVER_CONFIG');
  return cached;
}

/** For tests and the sandbox: forget the cached configuration. */
export function resetConfigCache(): void {
  cached = undefined;
}
