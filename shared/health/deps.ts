/**
 * Builds what a health run needs from the validated configuration: the site directors, the state
 * repository, the real clock and sleep, the shared logger and metrics, and the container's
 * inventory cache. The Lambda handler builds it once per container; the sandbox and the
 * benchmark build it with their own endpoints.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { RequestBudget } from '../director/budget.js';
import { directorsForMode } from '../director/observe.js';
import type { Director } from '../director/port.js';
import { apiKeyProvider } from '../director/secrets.js';
import { createZwanDirector, type ZwanDirectorOptions } from '../director/zwan/adapter.js';
import { SITE_NAMES, type SiteName } from '../domain/model.js';
import { ConfigError } from '../errors.js';
import { merakiSiteDirectors } from '../meraki/pipeline.js';
import { defaultLogSink, powertoolsMetricSink, type LogSink, type MetricSink } from '../observability.js';
import { createNotifier } from '../notify/notifier.js';
import { SnsPublisher } from '../notify/sns.js';
import { getDocumentClient } from '../store/dynamo.js';
import { createTableRequestBudget } from '../store/repos/request-budget.js';
import { StateRepository } from '../store/state-repo.js';
import { DEFAULT_INVENTORY_TTL_MS, InventoryCache } from './inventory-cache.js';
import { directorLossNotices } from './director-lost.js';
import { withStartupPeerCheck } from './meraki-peers.js';
import { HEALTH_ENV } from './env.js';
import { healthRunConfig, type HealthRunDeps } from './run.js';
import { SfnSwitchoverStarter } from './sfn-starter.js';

/** The shared notifications topic variable (cdk/constructs/function.ts FUNCTION_ENV.topicArn). */
const FUNCTION_TOPIC_ENV = 'TOPIC_ARN';

/** Extra settings of the zWAN adapters (tests and benchmarks tune timeouts and retries). */
export type DirectorTuning = Partial<
  Pick<
    ZwanDirectorOptions,
    'timeoutMs' | 'retries' | 'concurrency' | 'backoffBaseMs' | 'backoffMaxMs' | 'healthRetries'
  >
>;

/**
 * The directors per site from the configuration (API key from Secrets Manager or
 * `CPE_FAILOVER_API_KEY`): zWAN one per site; Meraki the Dashboard as DC, its requests within
 * `budget` (the one every function shares; without one, the process's own).
 */
export function createSiteDirectors(
  config: Config,
  tuning: DirectorTuning = {},
  budget?: RequestBudget,
  log?: LogSink,
): Partial<Record<SiteName, Director>> {
  const director = config.director;
  if (director.kind === 'meraki') {
    // The Dashboard as DC, sampled as a series (shared/meraki/pipeline.ts); what it leaves out
    // of an answer, or falls back from, goes to `log`.
    return merakiSiteDirectors(config, {
      ...(tuning.timeoutMs !== undefined ? { timeoutMs: tuning.timeoutMs } : {}),
      ...(tuning.retries !== undefined ? { retries: tuning.retries } : {}),
      ...(budget ? { budget } : {}),
      ...(log ? { log } : {}),
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
  /** The Meraki request budget the directors share. @default the process's own */
  requestBudget?: RequestBudget;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: LogSink;
  metrics?: MetricSink;
  /** @default 5 minutes */
  inventoryTtlMs?: number;
  /** Told when a director is lost or back. @default none */
  directorLoss?: HealthRunDeps['directorLoss'];
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
  const log = options.log ?? defaultLogSink;
  const metrics = options.metrics ?? powertoolsMetricSink;
  // Observe mode (config `mode`): every director write refused at the adapter (director/observe.ts).
  const directors = directorsForMode(
    options.config.mode,
    {
      ...(options.directors ??
        createSiteDirectors(options.config, options.directorTuning, options.requestBudget, log)),
    },
    { log, metrics },
  );
  const meraki = options.config.director;
  // Meraki: the third-party VPN peers are checked against the hubs before the first listing.
  if (meraki.kind === 'meraki' && directors.DC) {
    const orgs = meraki.organizations.map((o) => o.id);
    directors.DC = withStartupPeerCheck(directors.DC, orgs, log, metrics);
  }
  return {
    directors,
    repo: new StateRepository(options.doc ?? getDocumentClient(), options.tableName, clock, {
      auditTtlDays: options.config.auditTtlDays,
    }),
    config: healthRunConfig(options.config),
    clock,
    sleep: options.sleep ?? realSleep,
    log,
    metrics,
    inventory: new InventoryCache(options.inventoryTtlMs ?? DEFAULT_INVENTORY_TTL_MS),
    ...(options.directorLoss ? { directorLoss: options.directorLoss } : {}),
  };
}

/**
 * The Lambda's dependencies from its environment: `CPE_FAILOVER_CONFIG`, `TABLE_NAME`, `TOPIC_ARN`
 * (DIRECTOR_LOST notices) and, with `dr.autoSwitchover` on, `SWITCHOVER_STATE_MACHINE_ARN`.
 */
export function createHealthRunDepsFromEnv(env: NodeJS.ProcessEnv): HealthRunDeps {
  const config = configFromEnv(env);
  const tableName = env.TABLE_NAME ?? '';
  // Meraki: the budget every function and container shares, in the state table.
  const requestBudget =
    config.director.kind === 'meraki' && tableName
      ? createTableRequestBudget({
          doc: getDocumentClient(),
          tableName,
          requestsPerSecond: config.director.requestsPerSecond,
        })
      : undefined;
  const base = createHealthRunDeps({ config, tableName, ...(requestBudget ? { requestBudget } : {}) });
  const topicArn = env[FUNCTION_TOPIC_ENV];
  if (!topicArn) return base;
  const switchoverArn = env[HEALTH_ENV.switchoverArn];
  if (config.dr.autoSwitchover && !switchoverArn) {
    throw new ConfigError('environment', [
      {
        path: HEALTH_ENV.switchoverArn,
        value: switchoverArn,
        expected: 'the SwitchoverDcToDr state machine ARN (dr.autoSwitchover is on)',
      },
    ]);
  }
  const log = base.log;
  const metrics = base.metrics ?? powertoolsMetricSink;
  const notifier = createNotifier({
    publisher: new SnsPublisher(new SNSClient({}), topicArn),
    audit: base.repo as StateRepository,
    log,
    metrics,
  });
  return {
    ...base,
    directorLoss: directorLossNotices({
      notifier,
      log,
      autoSwitchover: config.dr.autoSwitchover,
      ...(switchoverArn ? { starter: new SfnSwitchoverStarter(new SFNClient({}), switchoverArn) } : {}),
    }),
  };
}
