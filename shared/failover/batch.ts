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
import { isDirectorUnavailable } from '../errors.js';
import type { FailoverDeps } from './ports.js';
import {
  activeDirector,
  fanOut,
  loadTenantView,
  reconcileGroup,
  type FanOutHooks,
  type FanOutRequest,
  type FanOutResult,
  type FanOutRunner,
  type ReconcileResult,
  splitGroupKey,
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
      if (ran.has(request)) return result;
      // The stored result of a fan-out that left work undone (failed re-points or HA_STATE) is
      // not an answer to replay: run it again, fenced and idempotent, so a retried record retries.
      if (result.counts.failed > 0 || (result.haStateFailures?.length ?? 0) > 0) {
        deps.log.info('the stored fan-out for this epoch left branches undone: running it again', {
          groupKey: request.groupKey,
          epoch: request.epoch,
          failed: result.counts.failed,
        });
        return fanOut(deps, request, hooks);
      }
      return { ...result, replayed: true };
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
  /** Seen by tests and the sandbox: the one line logged per tenant or group held by a director outage. */
  onHold?: (line: string) => void;
}

/**
 * Build the stream handler: `(event, context) → { batchItemFailures }`. Records that matter
 * for no group succeed at once; a record fails when it cannot be read or when reconciling any
 * group it affects fails. A director outage (unreachable, 5xx or 429 past the retries) is an
 * expected condition, not a failed record: the tenant or group is held, with one warning line
 * saying why, and the health check and the drift reconcile pick it up (a record failure would be
 * retried into the DLQ, which is for records the controller cannot understand).
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
    const reconciles = new Map<string, Promise<ReconcileResult | undefined>>();
    let everyGroup: Promise<string[]> | undefined;
    // Tenants and groups held in this batch: one line each.
    const heldKeys = new Set<string>();
    const hold = async (key: string, error: Error): Promise<void> => {
      if (heldKeys.has(key)) return;
      heldKeys.add(key);
      let site = 'DC';
      try {
        site = activeDirector(deps, await deps.store.getSiteRoles()).site;
      } catch {
        // The site roles could not be read either: name the default acting director.
      }
      const what = key.includes('#') ? splitGroupKey(key).haName : key;
      const line = `holding ${what}: director ${site} unreachable (${error.name}: ${error.message}); the drift reconcile retries`;
      deps.log.warn(line, { key, site, error: error.name });
      opts.onHold?.(line);
    };
    /** The tenant's view, or undefined (held) when its director is unavailable. */
    const viewOrHold = async (tenantId: string): Promise<TenantView | undefined> => {
      try {
        return await viewOf(tenantId);
      } catch (error) {
        if (!isDirectorUnavailable(error)) throw error;
        await hold(tenantId, error);
        return undefined;
      }
    };

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
        deps.tenants.map(
          async (t) =>
            (await viewOrHold(t))?.inventory.tenants.flatMap((x) => x.groups.map((g) => g.key)) ?? [],
        ),
      );
      return [...new Set(fromInventory.flat())];
    };
    const reconcileOnce = (groupKey: string, why: string) => {
      let p = reconciles.get(groupKey);
      if (!p) {
        p = (async () => {
          const tenantId = groupKey.slice(0, groupKey.indexOf('#'));
          let view: TenantView | undefined;
          if (deps.tenants.includes(tenantId)) {
            view = await viewOrHold(tenantId);
            if (!view) return undefined;
          }
          try {
            const result = await reconcileGroup(deps, groupKey, { trigger: why, runFanOut, view });
            opts.onResult?.(result, why);
            return result;
          } catch (error) {
            if (!isDirectorUnavailable(error)) throw error;
            await hold(heldKeys.has(tenantId) ? tenantId : groupKey, error);
            return undefined;
          }
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
