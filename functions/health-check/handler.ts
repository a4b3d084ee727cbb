/**
 * The health-check Lambda (EventBridge `rate(1 minute)`): a thin adapter around
 * {@link runHealthCheck}. Dependencies are built once per container from `CPE_FAILOVER_CONFIG`
 * and `TABLE_NAME`; the inventory cache lives as long as the container.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { zodIssues } from '../../shared/config/load.js';
import '../../shared/config/zod-locale.js';
import { CpeFailoverError, ValidationError } from '../../shared/errors.js';
import { createHealthRunDepsFromEnv } from '../../shared/health/deps.js';
import {
  runHealthCheck,
  type HealthRunDeps,
  type HealthRunSummary,
  type HealthTransitionEvent,
} from '../../shared/health/run.js';
import { logger, withObservability } from '../../shared/observability.js';

/**
 * The scheduled event, validated loosely: any object (EventBridge's scheduled event, or `{}` from
 * the console's test button). `samplesPerRun` lets an operator ask for a short run.
 */
export const healthCheckEventSchema = z.looseObject({
  source: z.optional(z.string()),
  'detail-type': z.optional(z.string()),
  time: z.optional(z.string()),
  samplesPerRun: z.optional(z.int().check(z.positive(), z.lte(120))),
});
/** The event as validated. */
export type HealthCheckEvent = z.infer<typeof healthCheckEventSchema>;

/** What the function returns (also logged): the run's counts. */
export type HealthCheckResult = Omit<HealthRunSummary, 'transitions'> & {
  transitions: Pick<HealthTransitionEvent, 'groupKey' | 'target' | 'from' | 'to' | 'at' | 'reason'>[];
};

/** Stop sampling this long before the Lambda times out, leaving time for the end-of-run writes. */
const DEADLINE_MARGIN_MS = 10_000;

let containerDeps: HealthRunDeps | undefined;

/** The container's dependencies (built on first use). */
export function healthCheckDeps(): HealthRunDeps {
  containerDeps ??= createHealthRunDepsFromEnv(process.env);
  return containerDeps;
}

/** Forget the container's dependencies (tests, the sandbox after changing the environment). */
export function resetHealthCheckContainer(): void {
  containerDeps = undefined;
}

/** Options of {@link createHealthCheckHandler}. */
export interface HealthCheckHandlerOptions {
  /** Called for every transition as soon as it is written (the sandbox prints them). */
  onTransition?: (event: HealthTransitionEvent) => void;
  /** @default the container's dependencies from the environment */
  deps?: () => HealthRunDeps;
  /** Stop sampling when aborted (the sandbox's Ctrl-C); the end-of-run writes still happen. */
  signal?: AbortSignal;
}

/** Build the middy-wrapped handler (the sandbox adds a transition listener). */
export function createHealthCheckHandler(options: HealthCheckHandlerOptions = {}) {
  return withObservability(async (event: unknown, context: Context): Promise<HealthCheckResult> => {
    const parsed = healthCheckEventSchema.safeParse(event);
    if (!parsed.success) throw new ValidationError('health-check event', zodIssues(parsed.error, event));
    const deps = (options.deps ?? healthCheckDeps)();
    const remaining =
      typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 0;
    try {
      const summary = await runHealthCheck(deps, {
        ...(parsed.data.samplesPerRun ? { samplesPerRun: parsed.data.samplesPerRun } : {}),
        ...(remaining > DEADLINE_MARGIN_MS
          ? { signal: AbortSignal.timeout(Math.floor(remaining - DEADLINE_MARGIN_MS)) }
          : {}),
        ...(options.onTransition ? { onTransition: options.onTransition } : {}),
      });
      return {
        ...summary,
        transitions: summary.transitions.map(({ groupKey, target, from, to, at, reason }) => ({
          groupKey,
          target,
          from,
          to,
          at,
          reason,
        })),
      };
    } catch (error) {
      // Named errors keep their name (alarms and the console match on it); anything else is wrapped.
      logger.error('health-check run failed', { error });
      if (error instanceof CpeFailoverError) throw error;
      throw new CpeFailoverError(`health-check run failed: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
  });
}

/** The Lambda entry point. */
export const handler = createHealthCheckHandler();
