/**
 * Wiring of the failover and console functions: configuration, the state repository, the
 * directors, SNS and the idempotency store, built once per container from the environment
 * (TABLE_NAME, IDEMPOTENCY_TABLE_NAME, TOPIC_ARN, CPE_FAILOVER_CONFIG; DYNAMODB_ENDPOINT locally).
 * The sandbox and tests build {@link FailoverDeps} themselves with {@link buildFailoverDeps}.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { RequestBudget } from '../director/budget.js';
import type { WriteClaims } from '../director/port.js';
import { directorsForMode } from '../director/observe.js';
import { apiKeyProvider } from '../director/secrets.js';
import { createZwanDirector } from '../director/zwan/adapter.js';
import { ConfigError } from '../errors.js';
import { merakiSiteDirectors } from '../meraki/pipeline.js';
import { SnsPublisher } from '../notify/sns.js';
import { createNotifier } from '../notify/notifier.js';
import type { Publisher } from '../notify/port.js';
import { logger, powertoolsMetricSink, type LogSink, type MetricSink } from '../observability.js';
import { getDynamoClients } from '../store/dynamo.js';
import { createTableRequestBudget } from '../store/repos/request-budget.js';
import { StateRepository } from '../store/state-repo.js';
import type { DirectorSet, FailoverDeps, FailoverSettings } from './ports.js';

/** Environment variable names (the CDK app sets them; see cdk/constructs/function.ts). */
export const FAILOVER_ENV = {
  tableName: 'TABLE_NAME',
  idempotencyTableName: 'IDEMPOTENCY_TABLE_NAME',
  topicArn: 'TOPIC_ARN',
} as const;

/** Election and re-point settings from the configuration. */
export function settingsFromConfig(config: Config): FailoverSettings {
  return {
    preempt: config.election.preempt,
    blindShare: config.election.blindShare,
    blindMinTargets: config.election.blindMinTargets,
    concurrency: config.repoint.concurrency,
    groupCall: config.repoint.groupCall,
    driftRequestsPerSecond: config.repoint.requestsPerSecond,
  };
}

/** The tenants (zWAN) or organizations (Meraki) the controller looks after. */
export function tenantsFromConfig(config: Config): string[] {
  return config.director.kind === 'zwan'
    ? [...config.director.tenants]
    : config.director.organizations.map((o) => o.id);
}

/**
 * The directors per site from the configuration (zWAN: DC and DR; Meraki: the Dashboard as DC,
 * its requests within `budget`, the one every function shares; without one, the process's own;
 * its fenced tag swaps claimed in `claims`, the state table's, so a newer swap waits out an older one).
 * Meraki calls keep the Dashboard's own timeout (`director.timeoutMs`), not `repoint.timeoutMs`.
 */
export function directorsFromConfig(
  config: Config,
  options: { budget?: RequestBudget; claims?: WriteClaims } = {},
): DirectorSet {
  const d = config.director;
  if (d.kind === 'meraki')
    return merakiSiteDirectors(config, {
      retries: config.repoint.retries,
      ...(options.budget ? { budget: options.budget } : {}),
      ...(options.claims ? { claims: options.claims } : {}),
    });
  const site = (s: 'DC' | 'DR') =>
    createZwanDirector({
      site: s,
      baseUrl: d.sites[s].baseUrl,
      apiKey: apiKeyProvider({ secretName: d.secretName, site: s }),
      timeoutMs: config.repoint.timeoutMs,
      retries: config.repoint.retries,
      concurrency: config.repoint.concurrency,
    });
  return { DC: site('DC'), DR: site('DR') };
}

/**
 * Build the failover deps from parts (sandbox, tests, the Lambda wiring below). In observe mode
 * (config `mode`) the directors are wrapped so that every write is refused (director/observe.ts).
 */
export function buildFailoverDeps(parts: {
  config: Config;
  repo: StateRepository;
  directors: DirectorSet;
  publisher: Publisher;
  log?: LogSink;
  metrics?: MetricSink;
  now?: () => number;
}): FailoverDeps {
  const log = parts.log ?? logger;
  const metrics = parts.metrics ?? powertoolsMetricSink;
  return {
    store: parts.repo,
    directors: directorsForMode(parts.config.mode, parts.directors, { log, metrics }),
    notifier: createNotifier({ publisher: parts.publisher, audit: parts.repo, log, metrics }),
    log,
    metrics,
    settings: settingsFromConfig(parts.config),
    tenants: tenantsFromConfig(parts.config),
    ...(parts.now ? { now: parts.now } : {}),
  };
}

/** The environment variable `name`, or a ConfigError naming it. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (!value) throw new ConfigError('environment', [{ path: name, value, expected: 'a non-empty value' }]);
  return value;
}

let cached: FailoverDeps | undefined;
/**
 * The container's deps, from the environment (built on first use). `lane: 'background'` (the
 * status console, the drift reconcile): Meraki requests go through the budget's background lane,
 * so a mass re-point keeps most of the share while they read.
 */
export function failoverDepsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: { lane?: 'foreground' | 'background' } = {},
): FailoverDeps {
  if (cached) return cached;
  const config = configFromEnv(env);
  const { doc } = getDynamoClients();
  const tableName = requireEnv(FAILOVER_ENV.tableName, env);
  const repo = new StateRepository(doc, tableName, Date.now, {
    auditTtlDays: config.auditTtlDays,
  });
  const budget =
    config.director.kind === 'meraki'
      ? createTableRequestBudget({
          doc,
          tableName,
          requestsPerSecond: config.director.requestsPerSecond,
          background: options.lane === 'background',
        })
      : undefined;
  cached = buildFailoverDeps({
    config,
    repo,
    directors: directorsFromConfig(config, { ...(budget ? { budget } : {}), claims: repo.claims }),
    publisher: new SnsPublisher(new SNSClient({}), requireEnv(FAILOVER_ENV.topicArn, env)),
  });
  return cached;
}
