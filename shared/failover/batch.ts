/**
 * The failover function's batch logic: Powertools BatchProcessor over DynamoDB stream records
 * (a bad record fails alone), each record mapped to the groups it affects, every group
 * reconciled once per batch, and each group's fan-out made idempotent on group + epoch.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { FailoverDeps } from './ports.js';
import {
  fanOut,
  loadTenantView,
  reconcileGroup,
  type FanOutHooks,
  type FanOutRequest,
  type FanOutResult,
  type FanOutRunner,
  type ReconcileResult,
  type TenantView,
} from './service.js';
import { triggerOf } from './stream.js';

/** The idempotency key: group + epoch (a replayed record for a done epoch changes nothing). */
export const FANOUT_IDEMPOTENCY_KEY = '[groupKey, epoch]';

/**
 * Wrap {@link fanOut} with Powertools idempotency keyed on group + epoch: a replayed record for a
 * fan-out that completed gets its stored result. A record that finds the fan-out "in progress"
 * (another invocation runs it, or one crashed mid-way and its record has not expired) runs the
 * fan-out again directly, without the idempotency layer: it is epoch-fenced and idempotent (fence,
 * fresh listing, re-points that answer `changed: false` when already right), so running it twice
 * is safe, and a crashed one is finished now instead of by the next drift pass.
 */
export function idempotentFanOut(
  deps: FailoverDeps,
  persistenceStore: BasePersistenceLayer,
  config: IdempotencyConfig,
): FanOutRunner {
  // Requests that really ran here (the rest got the stored result of an earlier run).
  const ran = new WeakSet<FanOutRequest>();
  // A named function: Powertools puts its name in the idempotency key.
  const fanOutOnce = async (request: FanOutRequest, hooks?: FanOutHooks) => {
    ran.add(request);
    return fanOut(deps, request, hooks);
  };
  const once = makeIdempotent(fanOutOnce, { persistenceStore, config, dataIndexArgument: 0 });
  return async (request, hooks) => {
    try {
      const result = await once(request, hooks);
      return ran.has(request) ? result : { ...result, replayed: true };
    } catch (error) {
      if (!(error instanceof IdempotencyAlreadyInProgressError)) throw error;
      deps.log.info(
        'fan-out for this epoch is marked in progress (running elsewhere, or crashed): running it again, fenced and idempotent',
        { groupKey: request.groupKey, epoch: request.epoch },
      );
      return { ...(await fanOut(deps, request, hooks)), inProgressElsewhere: true } satisfies FanOutResult;
    }
  };
}

/** Options of {@link createFailoverBatchHandler}. */
export interface FailoverBatchOptions {
  /** Powertools persistence layer for the fan-out (one per function; see TOOLCHAIN-NOTES). */
  persistenceStore?: BasePersistenceLayer;
  /** Seen by tests and the sandbox: one entry per group reconciled. */
  onResult?: (result: ReconcileResult, why: string) => void;
}

/**
 * Build the stream handler: `(event, context) → { batchItemFailures }`. Records that matter
 * for no group succeed at once; a record fails when it cannot be read or when reconciling any
 * group it affects fails.
 */
export function createFailoverBatchHandler(deps: FailoverDeps, opts: FailoverBatchOptions = {}) {
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: FANOUT_IDEMPOTENCY_KEY,
    throwOnNoIdempotencyKey: true,
  });
  const runFanOut = opts.persistenceStore
    ? idempotentFanOut(deps, opts.persistenceStore, idempotencyConfig)
    : undefined;

  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    idempotencyConfig.registerLambdaContext(context);
    const views = new Map<string, Promise<TenantView>>();
    const reconciles = new Map<string, Promise<ReconcileResult>>();
    let everyGroup: Promise<string[]> | undefined;

    const viewOf = (tenantId: string) => {
      let v = views.get(tenantId);
      if (!v) {
        v = loadTenantView(deps, tenantId);
        views.set(tenantId, v);
      }
      return v;
    };
    // Every group the tenants' inventories list. A stored group no inventory lists any more has
    // nothing to re-point and is left alone (no store query just to log it).
    const allGroupKeys = async (): Promise<string[]> => {
      const fromInventory = await Promise.all(
        deps.tenants.map(async (t) =>
          (await viewOf(t)).inventory.tenants.flatMap((x) => x.groups.map((g) => g.key)),
        ),
      );
      return [...new Set(fromInventory.flat())];
    };
    const reconcileOnce = (groupKey: string, why: string) => {
      let p = reconciles.get(groupKey);
      if (!p) {
        p = (async () => {
          const tenantId = groupKey.slice(0, groupKey.indexOf('#'));
          const view = deps.tenants.includes(tenantId) ? await viewOf(tenantId) : undefined;
          const result = await reconcileGroup(deps, groupKey, { trigger: why, runFanOut, view });
          opts.onResult?.(result, why);
          return result;
        })();
        reconciles.set(groupKey, p);
      }
      return p;
    };

    const recordHandler = async (record: DynamoDBRecord): Promise<void> => {
      const trigger = triggerOf(record);
      if (trigger.scope === 'none') return;
      const groupKeys =
        trigger.scope === 'group' ? [trigger.groupKey] : await (everyGroup ??= allGroupKeys());
      await Promise.all(groupKeys.map((k) => reconcileOnce(k, trigger.why)));
    };

    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.DynamoDBStreams), {
      context,
    });
  };
}
