/**
 * The failover service's dependencies as the tests build them: a given store and directors, a
 * notifier that records what it publishes, silent logs and counted metrics. Shared by the unit
 * harness (in-memory store, fake directors) and the integration worlds (DynamoDB Local, the
 * simulator).
 */
import type {
  DirectorSet,
  FailoverDeps,
  FailoverSettings,
  FailoverStore,
} from '../../shared/failover/ports.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { createNotifier } from '../../shared/notify/notifier.js';
import type { AuditSink } from '../../shared/notify/port.js';
import { CountingMetricSink, silentLog } from '../../shared/observability.js';

/** Election and re-point settings of the tests: preemption on, the default blind rule, 4 in flight. */
export const TEST_FAILOVER_SETTINGS: Readonly<FailoverSettings> = {
  preempt: true,
  blindShare: 0.5,
  blindMinTargets: 4,
  concurrency: 4,
  driftRequestsPerSecond: 500,
};

/** Failover deps plus the recorders behind them. */
export interface TestFailoverDeps {
  deps: FailoverDeps;
  published: LocalPublisher;
  metrics: CountingMetricSink;
}

/** Build {@link FailoverDeps} for a test; `settings` override {@link TEST_FAILOVER_SETTINGS}. */
export function testFailoverDeps(parts: {
  store: FailoverStore;
  directors: DirectorSet;
  /** Where audit events go (e.g. the state repository, or a recorder). */
  audit: AuditSink;
  tenants: readonly string[];
  settings?: Partial<FailoverSettings>;
  now?: () => number;
}): TestFailoverDeps {
  const published = new LocalPublisher();
  const metrics = new CountingMetricSink();
  const deps: FailoverDeps = {
    store: parts.store,
    directors: parts.directors,
    notifier: createNotifier({ publisher: published, audit: parts.audit, log: silentLog, metrics }),
    log: silentLog,
    metrics,
    settings: { ...TEST_FAILOVER_SETTINGS, ...parts.settings },
    tenants: parts.tenants,
    ...(parts.now ? { now: parts.now } : {}),
  };
  return { deps, published, metrics };
}
