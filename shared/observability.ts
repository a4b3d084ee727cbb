/**
 * The one set of Powertools instances (Logger, Metrics, Tracer) every function and shared service
 * uses, and the middy wiring every handler applies. Service name and namespace come from the
 * standard `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_METRICS_NAMESPACE` variables.
 *
 * Metric names are constants here because the CDK alarms match on exactly these names.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { redactingReplacer } from './redact.js';

/** Service name used when `POWERTOOLS_SERVICE_NAME` is not set. */
export const DEFAULT_SERVICE_NAME = 'cpe-failover';
/** CloudWatch namespace used when `POWERTOOLS_METRICS_NAMESPACE` is not set. */
export const DEFAULT_METRICS_NAMESPACE = 'CpeFailover';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME;
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE;

/** The shared structured logger (JSON; level from `POWERTOOLS_LOG_LEVEL`). */
export const logger = new Logger({
  serviceName,
  // No API key in any log line, even inside an error's cause or a director's quoted answer.
  jsonReplacerFn: redactingReplacer,
});
/** The start of the Metrics utility's warning on flushing an empty buffer. */
export const EMPTY_METRICS_WARNING = 'No application metrics to publish';
/**
 * The Metrics utility's own log lines go to the structured logger (JSON, log level, request id).
 * Its warning on an empty buffer is logged at DEBUG: an invocation without an application metric
 * is normal here (status, most DR tasks, an event rejected before any work), and the runs that
 * must emit are watched by alarms instead (HealthCheckMissedRun, BackupTooOld, the AllDown level).
 * Its other warnings (a metric or dimension dropped as invalid) stay at WARN.
 */
const metricsLog = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) =>
    message.startsWith(EMPTY_METRICS_WARNING) ? logger.debug(message) : logger.warn(message),
  error: (message: string) => logger.error(message),
};
/** The shared EMF metrics buffer, flushed by {@link withObservability} at the end of each invocation. */
export const metrics = new Metrics({ serviceName, namespace, logger: metricsLog });
/** The shared X-Ray tracer (off when `POWERTOOLS_TRACE_ENABLED=false`, e.g. in tests and the sandbox). */
export const tracer = new Tracer({ serviceName });

/**
 * Metric names the health check emits (the CDK alarms use exactly these). Other capabilities
 * add theirs beside them; every one is a count except `RunDurationMs`.
 */
export const HEALTH_METRICS = {
  /** Samples taken (concentrators and directors). */
  samples: 'Samples',
  /** Samples that were bad (unreachable, loss or latency over threshold). */
  badSamples: 'BadSamples',
  /** Health transitions written. */
  transitions: 'Transitions',
  /** Wall-clock duration of a health-check run. */
  runDurationMs: 'RunDurationMs',
  /** CPEs left out of monitoring because their metadata is wrong. */
  invalidCpes: 'InvalidCpes',
  /** A site's director could not be reached (down, 5xx, timeout) during a run. */
  directorUnreachable: 'DirectorUnreachable',
  /** 1 per run while a director is lost (DIRECTOR_LOST: the ACTIVE site's, unreachable for `dr.directorLostAfterSec`). */
  directorLost: 'DirectorLost',
  /** 1 per run that ends with the monitor blind (keeps the MonitorBlind alarm raised until it clears). */
  monitorBlind: 'MonitorBlind',
} as const;
/** One of the health metric names. */
export type HealthMetricName = (typeof HEALTH_METRICS)[keyof typeof HEALTH_METRICS];

/**
 * Where shared services send log lines: the Powertools logger satisfies it; tests and the
 * sandbox may pass their own. Attributes are structured fields (tenant, group, CPE…).
 */
export interface LogSink {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** Where shared services send metrics: counts and milliseconds. */
export interface MetricSink {
  count(name: string, value?: number): void;
  durationMs(name: string, value: number): void;
}

/** A {@link MetricSink} backed by the shared Powertools {@link metrics} buffer. */
export const powertoolsMetricSink: MetricSink = {
  count: (name, value = 1) => {
    metrics.addMetric(name, MetricUnit.Count, value);
  },
  durationMs: (name, value) => {
    metrics.addMetric(name, MetricUnit.Milliseconds, value);
  },
};

/** A {@link LogSink} that drops everything (benchmarks, quiet tests). */
export const silentLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };

/** A {@link MetricSink} that adds up values per name, for tests, the sandbox and benchmarks. */
export class CountingMetricSink implements MetricSink {
  readonly totals = new Map<string, number>();
  count(name: string, value = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
  }
  durationMs(name: string, value: number): void {
    this.totals.set(name, value);
  }
  /** The total recorded for `name` (0 when never recorded). */
  get(name: string): number {
    return this.totals.get(name) ?? 0;
  }
}

/**
 * Wrap a Lambda handler with the standard middleware: tracing, Lambda context in every log line
 * (plus the cold-start flag), and metrics flushed as EMF after every invocation (even on error).
 */
export function withObservability<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(handler)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

/** The shared Powertools {@link logger} as a {@link LogSink} (compile-time check that it fits). */
export const defaultLogSink: LogSink = logger;
