/**
 * Sandbox part: the failover function on the state table's stream (the poller applies the same
 * filter criteria as the event source mapping) and the drift reconcile on a scaled schedule.
 * Every decision is printed with its reason: serving changes, holds (ALL_DOWN, MONITOR_BLIND),
 * re-point counts. List {@link failoverPart} in ./registry.ts before the health check.
 */
import { buildFailoverDeps, directorsFromConfig } from '../../shared/failover/runtime.js';
import { createFailoverBatchHandler } from '../../shared/failover/batch.js';
import { reconcileDrift } from '../../shared/failover/drift.js';
import {
  createIdempotencyStore,
  IDEMPOTENCY_TTL,
  idempotencyTableDefinition,
} from '../../shared/failover/idempotency.js';
import type { ReconcileResult } from '../../shared/failover/service.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { silentLog } from '../../shared/observability.js';
import { createTable } from '../../shared/store/definition.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { FAILOVER_STREAM_TYPES } from '../../shared/store/table.js';
import { startStreamPoller, type StreamPoller } from '../runtime/stream-poller.js';
import { localContext } from './core-parts.js';
import { abortableSleep, need, type PartFactory } from './parts.js';

/** The event source mapping's filter (as cdk/constructs/failover.ts synthesizes it). */
export const FAILOVER_FILTER = {
  Filters: [
    { Pattern: JSON.stringify({ dynamodb: { NewImage: { type: { S: [...FAILOVER_STREAM_TYPES] } } } }) },
  ],
};

/** Drift reconcile period before time scaling (the health check's one minute). */
const DRIFT_PERIOD_MS = 60_000;

/** One line per decision worth an operator's attention. */
export function formatDecision(r: ReconcileResult, why: string): string | undefined {
  const counts =
    r.fanOut && !r.fanOut.replayed && !r.fanOut.inProgressElsewhere ? r.fanOut.counts : undefined;
  const moved = counts && counts.repointed + counts.failed > 0;
  if (!r.changed && r.alarms.length === 0 && !moved) return undefined;
  const head = r.changed
    ? `${r.groupKey}  serving ${r.previousId ?? '-'} → ${r.servingId ?? '-'} (epoch ${r.epoch})`
    : `${r.groupKey}  serving stays ${r.servingId ?? '-'} (epoch ${r.epoch})`;
  const tail = r.held
    ? `  HOLD ${r.alarms.join(', ') || 'nothing serving'}`
    : counts
      ? `  re-pointed ${counts.repointed}, already right ${counts.unchanged}, failed ${counts.failed}`
      : '';
  return `${head}: ${r.reason}${tail}  [trigger: ${why}]`;
}

/** The failover function behind the stream poller, plus the drift reconcile timer. */
export const failoverPart: PartFactory = (options) => {
  let poller: StreamPoller | undefined;
  let drift: Promise<void> | undefined;
  const stopping = new AbortController();
  return {
    name: 'failover',
    async start(ctx) {
      const dynamo = need(ctx, 'dynamo', 'failover');
      const tableName = need(ctx, 'tableName', 'failover');
      const config = need(ctx, 'config', 'failover');
      const idempotencyTable = `${tableName}-idempotency`;
      await createTable(dynamo.client, idempotencyTableDefinition(idempotencyTable), IDEMPOTENCY_TTL);
      const repo = new StateRepository(dynamo.doc, tableName, Date.now, {
        auditTtlDays: config.auditTtlDays,
      });
      const deps = buildFailoverDeps({
        config,
        repo,
        directors: directorsFromConfig(config),
        publisher: new LocalPublisher((line) => ctx.print(`notify ${line}`)),
        ...(options.verbose ? {} : { log: silentLog }),
      });
      const handler = createFailoverBatchHandler(deps, {
        persistenceStore: createIdempotencyStore(idempotencyTable, dynamo.client),
        onResult: (r, why) => {
          const line = formatDecision(r, why);
          if (line) ctx.print(line);
        },
      });
      poller = await startStreamPoller({
        endpoint: dynamo.endpoint,
        tableName,
        filterCriteria: FAILOVER_FILTER,
        batchSize: 10,
        startingPosition: 'TRIM_HORIZON',
        handler: (event) => handler(event, localContext('failover', 300_000)),
        onError: (error, info) =>
          ctx.print(
            `failover ${info.kind}: ${(error as Error)?.message ?? String(error)} (${info.records.length} records)`,
          ),
      });
      ctx.print(`failover: stream poller on ${poller.streamArn}`);

      const signal = AbortSignal.any([stopping.signal, ctx.signal]);
      const sleep = abortableSleep(signal);
      const periodMs = DRIFT_PERIOD_MS / options.timeScale;
      drift = (async () => {
        await sleep(periodMs);
        while (!signal.aborted) {
          try {
            const report = await reconcileDrift(deps);
            if (report.repointed + report.failed > 0 || report.errors.length > 0) {
              ctx.print(
                `drift reconcile: ${report.drifted} drifted, ${report.repointed} re-pointed, ${report.failed} failed` +
                  (report.errors.length
                    ? `, errors: ${report.errors.map((e) => `${e.key}: ${e.error}`).join('; ')}`
                    : ''),
              );
            }
          } catch (error) {
            if (!signal.aborted) ctx.print(`drift reconcile failed: ${(error as Error).message}`);
          }
          await sleep(periodMs);
        }
      })();
    },
    async stop() {
      stopping.abort();
      await drift;
      await poller?.stop();
    },
  };
};
