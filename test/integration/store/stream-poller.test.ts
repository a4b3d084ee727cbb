import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamPoller, type StreamPoller } from '../../../local/runtime/stream-poller.js';
import { StateRepository, type HealthItemWrite } from '../../../shared/store/state-repo.js';
import { FAILOVER_STREAM_TYPES } from '../../../shared/store/table.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { dc1HealthWrite } from '../../helpers/store-fixtures.js';

const failoverFilter = {
  Filters: [
    { Pattern: JSON.stringify({ dynamodb: { NewImage: { type: { S: [...FAILOVER_STREAM_TYPES] } } } }) },
  ],
};

const dc1 = (health: 'UP' | 'DOWN', since: number): HealthItemWrite =>
  dc1HealthWrite({ state: { health, badStreak: 0, cleanSince: null, since } });

describe('stream poller (DynamoDB Local streams → Lambda-shaped events)', () => {
  let table: TestTable;
  let poller: StreamPoller | undefined;

  beforeEach(async () => {
    table = await createTestTable('stream');
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    await table.drop();
  });

  it('delivers a health transition as a Lambda event and filters out other item types', async () => {
    const events: DynamoDBStreamEvent[] = [];
    poller = await startStreamPoller({
      endpoint: table.endpoint,
      tableName: table.tableName,
      filterCriteria: failoverFilter,
      region: 'eu-west-1',
      pollIntervalMs: 50,
      handler: async (event) => {
        events.push(event);
      },
    });
    const repo = new StateRepository(table.doc, table.tableName);
    await repo.writeHealth(dc1('UP', 1000), undefined);
    await repo.compareAndSetServing('t1#Chennai', 0, {
      tenantId: 't1',
      haName: 'Chennai',
      servingId: 'dc1',
      epoch: 1,
      reason: 'first election',
      alarms: [],
      changedAt: 1000,
    });
    await repo.writeAudit({ kind: 'ELECTED', at: Date.now() });
    await repo.writeHealth(
      {
        ...dc1('DOWN', 2000),
        transition: { target: 'dc1', from: 'UP', to: 'DOWN', at: 2000, reason: '3 bad' },
      },
      1,
    );
    await poller.idle();

    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => [r.eventName, r.dynamodb?.NewImage?.type?.S])).toEqual([
      ['INSERT', 'cpe-health'],
      ['MODIFY', 'cpe-health'],
    ]);
    const transition = records[1] as DynamoDBRecord;
    expect(transition).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventSourceARN: poller.streamArn,
      awsRegion: 'eu-west-1',
      dynamodb: {
        Keys: { pk: { S: 'HEALTH#t1#Chennai' }, sk: { S: 'dc1' } },
        OldImage: { health: { S: 'UP' } },
        NewImage: {
          health: { S: 'DOWN' },
          lastTransition: { M: { from: { S: 'UP' }, to: { S: 'DOWN' }, reason: { S: '3 bad' } } },
          version: { N: '2' },
        },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(poller.streamArn).toContain(table.tableName);
    const created = transition.dynamodb?.ApproximateCreationDateTime;
    expect(Number.isInteger(created)).toBe(true);
    // Epoch seconds, not milliseconds and not a Date.
    expect(String(created)).toHaveLength(10);
  });

  it('re-delivers from the first failed record on batchItemFailures; every record handled exactly once, in order', async () => {
    const invocations: string[][] = [];
    const handled: string[] = [];
    let failedOnce = false;
    const errors: string[] = [];
    poller = await startStreamPoller({
      endpoint: table.endpoint,
      tableName: table.tableName,
      pollIntervalMs: 20,
      batchSize: 10,
      onError: (_error, info) => errors.push(info.kind),
      handler: async (event): Promise<DynamoDBBatchResponse> => {
        const ids = event.Records.map((r) => r.dynamodb?.Keys?.sk?.S ?? '?');
        invocations.push(ids);
        const failures: DynamoDBBatchResponse['batchItemFailures'] = [];
        for (const r of event.Records) {
          const id = r.dynamodb?.Keys?.sk?.S ?? '?';
          if (id === 'i2' && !failedOnce) {
            failedOnce = true;
            failures.push({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' });
            break;
          }
          handled.push(id);
        }
        return { batchItemFailures: failures };
      },
    });
    for (let i = 0; i < 5; i++) {
      await table.doc.send(
        new PutCommand({ TableName: table.tableName, Item: { pk: 'P', sk: `i${i}`, type: 'x' } }),
      );
    }
    await poller.idle();
    expect(handled).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    // The retry starts at the failed record, never before it.
    const retry = invocations.find((ids, n) => n > 0 && ids[0] === 'i2');
    expect(retry).toBeDefined();
    expect(invocations.flat().filter((id) => id === 'i1')).toHaveLength(1);
    expect(errors).toEqual(['handler']);
  });

  it('discards a batch after the retries are exhausted, reports it, and goes on', async () => {
    const discarded: string[] = [];
    const handled: string[] = [];
    poller = await startStreamPoller({
      endpoint: table.endpoint,
      tableName: table.tableName,
      pollIntervalMs: 5,
      maxRetries: 2,
      batchSize: 1,
      onError: (_error, info) => {
        if (info.kind === 'discarded')
          discarded.push(...info.records.map((r) => r.dynamodb?.Keys?.sk?.S ?? '?'));
      },
      handler: async (event) => {
        const id = event.Records[0]?.dynamodb?.Keys?.sk?.S ?? '?';
        if (id === 'poison') throw new Error('cannot handle');
        handled.push(id);
      },
    });
    for (const sk of ['a', 'poison', 'b']) {
      await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'P', sk } }));
    }
    await poller.idle();
    expect(discarded).toEqual(['poison']);
    expect(handled).toEqual(['a', 'b']);
  });

  it('stop() ends polling: nothing is delivered after it resolves', async () => {
    const seen: string[] = [];
    poller = await startStreamPoller({
      endpoint: table.endpoint,
      tableName: table.tableName,
      pollIntervalMs: 10,
      handler: async (event) => {
        seen.push(...event.Records.map((r) => r.dynamodb?.Keys?.sk?.S ?? '?'));
      },
    });
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'P', sk: 'before' } }));
    await poller.idle();
    await poller.stop();
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'P', sk: 'after' } }));
    // A fresh poller from the start of the stream sees both: the stream has the record.
    const all: string[] = [];
    const second = await startStreamPoller({
      endpoint: table.endpoint,
      tableName: table.tableName,
      pollIntervalMs: 10,
      handler: async (event) => {
        all.push(...event.Records.map((r) => r.dynamodb?.Keys?.sk?.S ?? '?'));
      },
    });
    await second.idle();
    await second.stop();
    expect(all).toEqual(['before', 'after']);
    expect(seen).toEqual(['before']);
  });
});
