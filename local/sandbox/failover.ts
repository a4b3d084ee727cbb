/**
 * Sandbox part: the failover function on the state table's stream (the poller applies the
 * synthesized event source mapping's filter criteria, batch size and retry bound, the way Lambda
 * does) and the drift reconcile on a scaled schedule (the app's reconcile schedule when it has
 * one, else the health check's).
 * Every decision is printed with its reason: serving changes, holds (ALL_DOWN, MONITOR_BLIND),
 * re-point counts. List {@link failoverPart} in ./registry.ts before the health check.
 */
import { buildFailoverDeps, directorsFromConfig } from '../../shared/failover/runtime.js';
import { createFailoverBatchHandler } from '../../shared/failover/batch.js';
import { reconcileDrift } from '../../shared/failover/drift.js';
import { createIdempotencyStore } from '../../shared/failover/idempotency.js';
import type { ReconcileResult } from '../../shared/failover/service.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { silentLog } from '../../shared/observability.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { createTableFromAssembly, functionSchedule, reconcileSchedule } from '../runtime/local-assembly.js';
import { startStreamPoller, type StreamPoller } from '../runtime/stream-poller.js';
import { localContext } from './core-parts.js';
import { abortableSleep, need, type PartFactory } from './parts.js';

/** One line per decision worth an operator's attention. */
export function formatDecision(r: ReconcileResult, why: string): string | undefined {
  const counts =
    r.fanOut && !r.fanOut.replayed && !r.fanOut.inProgressElsewhere ? r.fanOut.counts : undefined;
  const moved = counts && counts.repointed + counts.failed > 0;
  if (!r.changed && r.alarms.length === 0 && !moved) return undefined;
  const head = r.changed
    ? `${r.groupKey}  serving ${r.previousId ?? '-'} → ${r.servingId ?? '-'} (epoch ${r.epoch})`
    : `${r.groupKey}  serving stays ${r.servingId ?? '-'} (epoch ${r.epoch})`;
  const observed = r.fanOut?.observed;
  const tail = r.held
    ? `  HOLD ${r.alarms.join(', ') || 'nothing serving'}`
    : observed
      ? `  observe: would re-point ${observed.repoints} (nothing sent)`
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
      const assembly = need(ctx, 'assembly', 'failover');
      const mapping = assembly.failover;
      const idempotencyTable = `${tableName}-idempotency`;
      await createTableFromAssembly(dynamo.client, assembly.idempotencyTable, idempotencyTable);
      ctx.setEnv('IDEMPOTENCY_TABLE_NAME', idempotencyTable);
      const repo = new StateRepository(dynamo.doc, tableName, Date.now, {
        auditTtlDays: config.auditTtlDays,
      });
      const deps = buildFailoverDeps({
        config,
        repo,
        directors: directorsFromConfig(config, { claims: repo.claims }),
        publisher: new LocalPublisher((line) => ctx.print(`notify ${line}`)),
        ...(options.verbose ? {} : { log: silentLog }),
      });
      const handler = createFailoverBatchHandler(deps, {
        persistenceStore: createIdempotencyStore(idempotencyTable, dynamo.client),
        onResult: (r, why) => {
          const line = formatDecision(r, why);
          if (line) ctx.print(line);
        },
        // A director outage holds (no record failure): one line per tenant or group says why.
        onHold: (line) => ctx.print(line),
      });
      poller = await startStreamPoller({
        endpoint: dynamo.endpoint,
        tableName,
        filterCriteria: { Filters: [...mapping.filterCriteria.Filters] },
        batchSize: mapping.batchSize,
        ...(mapping.maximumRetryAttempts !== undefined ? { maxRetries: mapping.maximumRetryAttempts } : {}),
        // The table is new and empty: its start is what the mapping's LATEST sees in AWS, without
        // racing the first writes.
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
      const schedule = reconcileSchedule(assembly) ?? functionSchedule(assembly, 'health-check');
      if (!schedule)
        throw new Error('the synthesized app has neither a reconcile nor a health-check schedule');
      const periodMs = schedule.rateMs / options.timeScale;
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
