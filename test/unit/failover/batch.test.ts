import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { createFailoverBatchHandler } from '../../../shared/failover/batch.js';
import type { ReconcileResult } from '../../../shared/failover/service.js';
import { DirectorUnavailableError } from '../../../shared/errors.js';
import { silentLog } from '../../../shared/observability.js';
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
  const item = (health: string) => ({ pk: `HEALTH#${KEY}`, sk: 'DC1', type: 'health', health });
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
