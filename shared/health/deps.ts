/**
 * Builds what a health run needs from the validated configuration: the site directors, the state
 * repository, the real clock and sleep, the shared logger and metrics, and the container's
 * inventory cache. The Lambda handler builds it once per container; the sandbox and the
 * benchmark build it with their own endpoints.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config/schema.js';
import type { Director } from '../director/port.js';
import { apiKeyProvider } from '../director/secrets.js';
import { createZwanDirector, type ZwanDirectorOptions } from '../director/zwan/adapter.js';
import { SITE_NAMES, type SiteName } from '../domain/model.js';
import { ConfigError } from '../errors.js';
import { merakiSiteDirectors } from '../meraki/pipeline.js';
import { defaultLogSink, powertoolsMetricSink, type LogSink, type MetricSink } from '../observability.js';
import { getDocumentClient } from '../store/dynamo.js';
import { StateRepository } from '../store/state-repo.js';
import { DEFAULT_INVENTORY_TTL_MS, InventoryCache } from './inventory-cache.js';
import { healthRunConfig, type HealthRunDeps } from './run.js';

/** Extra settings of the zWAN adapters (tests and benchmarks tune timeouts and retries). */
export type DirectorTuning = Partial<
  Pick<
    ZwanDirectorOptions,
    'timeoutMs' | 'retries' | 'concurrency' | 'backoffBaseMs' | 'backoffMaxMs' | 'healthRetries'
  >
>;

/**
 * The directors per site from the configuration (API key from Secrets Manager or
 * `CPE_FAILOVER_API_KEY`): zWAN one per site; Meraki the Dashboard as DC.
 */
export function createSiteDirectors(
  config: Config,
  tuning: DirectorTuning = {},
): Partial<Record<SiteName, Director>> {
  const director = config.director;
  if (director.kind === 'meraki') {
    // The Dashboard as DC, sampled as a series (shared/meraki/pipeline.ts).
    return merakiSiteDirectors(config, {
      ...(tuning.timeoutMs !== undefined ? { timeoutMs: tuning.timeoutMs } : {}),
      ...(tuning.retries !== undefined ? { retries: tuning.retries } : {}),
    });
  }
  const result: Partial<Record<SiteName, Director>> = {};
  for (const site of SITE_NAMES) {
    result[site] = createZwanDirector({
      site,
      baseUrl: director.sites[site].baseUrl,
      apiKey: apiKeyProvider({ secretName: director.secretName, site }),
      ...tuning,
    });
  }
  return result;
}

/** Options of {@link createHealthRunDeps}. */
export interface HealthRunDepsOptions {
  config: Config;
  tableName: string;
  /** @default the container's DocumentClient (DYNAMODB_ENDPOINT when set) */
  doc?: DynamoDBDocumentClient;
  /** @default the configured zWAN directors */
  directors?: Partial<Record<SiteName, Director>>;
  directorTuning?: DirectorTuning;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: LogSink;
  metrics?: MetricSink;
  /** @default 5 minutes */
  inventoryTtlMs?: number;
}

/** The real sleep. */
export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Build the dependencies of {@link runHealthCheck} (see the module comment). */
export function createHealthRunDeps(options: HealthRunDepsOptions): HealthRunDeps {
  if (!options.tableName) {
    throw new ConfigError('environment', [
      { path: 'TABLE_NAME', value: options.tableName, expected: 'the state table name' },
    ]);
  }
  const clock = options.clock ?? Date.now;
  return {
    directors: options.directors ?? createSiteDirectors(options.config, options.directorTuning),
    repo: new StateRepository(options.doc ?? getDocumentClient(), options.tableName, clock, {
      auditTtlDays: options.config.auditTtlDays,
    }),
    config: healthRunConfig(options.config),
    clock,
    sleep: options.sleep ?? realSleep,
    log: options.log ?? defaultLogSink,
    metrics: options.metrics ?? powertoolsMetricSink,
    inventory: new InventoryCache(options.inventoryTtlMs ?? DEFAULT_INVENTORY_TTL_MS),
  };
}
