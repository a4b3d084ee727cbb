import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { MemoryIdempotencyLayer } from '../../../local/sim/idempotency.js';
import {
  createFailoverBatchHandler,
  FANOUT_IDEMPOTENCY_KEY,
  idempotentFanOut,
} from '../../../shared/failover/batch.js';
import { reconcileGroup, type ReconcileResult } from '../../../shared/failover/service.js';
import { DirectorUnavailableError } from '../../../shared/errors.js';
import { silentLog } from '../../../shared/observability.js';
import { ITEM_TYPES } from '../../../shared/store/table.js';
import { harness, KEY } from './harness.js';

/** A stream event of one site-role change: a trigger for every group. */
function siteRoleChange(): DynamoDBStreamEvent {
  const site = (role: string) => ({ pk: 'SITES', sk: 'DC', type: 'site', role });
  return {
    Records: [
      {
        eventName: 'MODIFY',
        dynamodb: {
          Keys: marshall({ pk: 'SITES', sk: 'DC' }) as never,
          OldImage: marshall(site('PASSIVE')) as never,
          NewImage: marshall(site('ACTIVE')) as never,
          SequenceNumber: '1',
        },
      },
    ],
  };
}

const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'failover' } as unknown as Context;

describe('createFailoverBatchHandler', () => {
  it('reconciles every inventory group on an all-groups trigger without listing the stored groups', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    // A stored group that no inventory lists any more: left alone.
    await h.store.setPin('t1#Gone', undefined, { tenantId: 't1', haName: 'Gone' });
    let listed = 0;
    const listGroups = h.store.listGroups.bind(h.store);
    h.store.listGroups = async () => {
      listed += 1;
      return listGroups();
    };
    const results: ReconcileResult[] = [];
    const handler = createFailoverBatchHandler(h.deps, { onResult: (r) => results.push(r) });
    const response = await handler(siteRoleChange(), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(results.map((r) => r.groupKey)).toEqual([KEY]);
    expect(listed).toBe(0);
  });
});

/** A stream event of one health transition of the group (a group trigger). */
function healthChange(): DynamoDBStreamEvent {
  const item = (health: string) => ({ pk: `HEALTH#${KEY}`, sk: 'DC1', type: ITEM_TYPES.health, health });
  return {
    Records: [
      {
        eventName: 'MODIFY',
        dynamodb: {
          Keys: marshall({ pk: `HEALTH#${KEY}`, sk: 'DC1' }) as never,
          OldImage: marshall(item('UP')) as never,
          NewImage: marshall(item('DOWN')) as never,
          SequenceNumber: '2',
        },
      },
    ],
  };
}

describe('a director outage', () => {
  it('holds (no record failure) and says why in one line per tenant; a record it cannot read still fails', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    h.director.listCpes = async () => {
      throw new DirectorUnavailableError(
        'GET /tenants/t1/cpes failed after 2 attempt(s): connection refused',
      );
    };
    const lines: string[] = [];
    const holds: string[] = [];
    h.deps.log = { ...silentLog, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
    const handler = createFailoverBatchHandler(h.deps, { onHold: (line) => holds.push(line) });
    const event = { Records: [...siteRoleChange().Records, ...healthChange().Records] };
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(holds).toEqual([
      'holding t1: director DC unreachable (DirectorUnavailableError: GET /tenants/t1/cpes failed after 2 attempt(s): connection refused); the drift reconcile retries',
    ]);
    expect(lines).toEqual(holds);
    // The DLQ is for records the controller cannot understand.
    const bad = {
      Records: [{ eventName: 'MODIFY', dynamodb: { SequenceNumber: '3' } }, ...healthChange().Records],
    } as DynamoDBStreamEvent;
    expect((await handler(bad, context)).batchItemFailures).toEqual([{ itemIdentifier: '3' }]);
  });
});

describe('idempotentFanOut', () => {
  it('runs again a stored fan-out that left branches undone, instead of replaying its failures', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY); // epoch 1 on DC1
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    const config = new IdempotencyConfig({ eventKeyJmesPath: FANOUT_IDEMPOTENCY_KEY });
    config.registerLambdaContext(context);
    const runFanOut = idempotentFanOut(h.deps, new MemoryIdempotencyLayer(async () => {}), config);
    // The first epoch-2 fan-out: two re-points fail (503 after the client's retries).
    h.director.failRepoints.add('Chennai-br1');
    h.director.failRepoints.add('Chennai-br2');
    const first = await reconcileGroup(h.deps, KEY, { runFanOut });
    expect(first.fanOut).toMatchObject({ epoch: 2, counts: { failed: 2 } });
    // The record is retried with the same group + epoch once the director recovered.
    const request = { groupKey: KEY, tenantId: 't1', servingId: 'DC2', epoch: 2, decidedAt: h.clock.now };
    const again = await runFanOut(request);
    expect(again.replayed).toBeUndefined();
    expect(again.counts.failed).toBe(0);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
    // Another retry runs again too (the stored record still holds the failed run) but, fenced and
    // planned from a fresh listing, finds nothing left to re-point.
    const calls = h.director.calls.repoint;
    expect((await runFanOut(request)).counts).toMatchObject({ repointed: 0, failed: 0, unchanged: 3 });
    expect(h.director.calls.repoint).toBe(calls);
  });
});
