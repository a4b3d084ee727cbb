import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { createFailoverBatchHandler } from '../../../shared/failover/batch.js';
import type { ReconcileResult } from '../../../shared/failover/service.js';
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
