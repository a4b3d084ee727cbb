/**
 * The drift reconcile (EventBridge schedule, config `reconcile.schedule`, default every 5
 * minutes; reserved concurrency 1): one pass of {@link reconcileDrift} over every configured
 * tenant. Each group is re-elected, then every branch whose tunnels are not on its serving
 * concentrator (read from the director) is re-pointed, rate-limited (`repoint.requestsPerSecond`).
 * Groups held by ALL_DOWN or MONITOR_BLIND are left as they are; the pass emits `AllDown` = the
 * number of groups in ALL_DOWN (the alarm's level). Not for manual use: an operator
 * uses update-branches. The event is ignored (EventBridge's scheduled event, or `{}`).
 *
 * A pass that could not reconcile some groups or tenants still does all the others, then fails
 * with DriftReconcileError naming them (the function's Errors alarm); the next pass retries them.
 */
import { DriftReconcileError } from '../../shared/errors.js';
import { reconcileDrift, type DriftReport } from '../../shared/failover/drift.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** What a pass returns (and logs): the report without the per-group results. */
export type ReconcileSummary = Omit<DriftReport, 'results'>;

/** Lambda entry point (see cdk/constructs/drift-reconcile.ts). */
export const handler = withObservability(async (): Promise<ReconcileSummary> => {
  const { results: _results, ...summary } = await reconcileDrift(
    failoverDepsFromEnv(process.env, { lane: 'background' }),
  );
  const { repointed, errors } = summary;
  if (errors.length > 0) {
    throw new DriftReconcileError(
      `drift reconcile: ${errors.length} group(s) or tenant(s) not reconciled, retried on the next pass ` +
        `(re-pointed in this pass: ${repointed}): ${errors.map((e) => `${e.key}: ${e.error}`).join('; ')}`,
    );
  }
  return summary;
});
