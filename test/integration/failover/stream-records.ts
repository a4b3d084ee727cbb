/**
 * Read the REAL stream of a DynamoDB Local table on demand and shape its records as Lambda's
 * (the sandbox poller's `toLambdaRecord`), dropping those the event source mapping's filter
 * criteria reject (as Lambda does; pass the synthesized ones). Each `drain()` returns the records
 * written since the previous one, so a test can hand the same event to the handler again
 * (replays, races).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { compileFilterCriteria, type FilterCriteria } from '../../../local/runtime/filter-pattern.js';
import { toLambdaRecord } from '../../../local/runtime/stream-poller.js';

/** A reader over every shard of the table's stream, from its start (filtered when `filterCriteria` is given). */
export async function openStream(
  client: DynamoDBClient,
  tableName: string,
  endpoint: string,
  filterCriteria?: FilterCriteria,
) {
  const pass = compileFilterCriteria(filterCriteria);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const arn = Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${tableName} has no stream`);
  const streamArn: string = arn;
  const streams = new DynamoDBStreamsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const iterators = new Map<string, string | undefined>();

  async function drain(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      const it = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      iterators.set(shard.ShardId, it.ShardIterator);
    }
    const out: DynamoDBRecord[] = [];
    for (const [shardId, iterator] of iterators) {
      let it = iterator;
      while (it) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
        for (const r of page.Records ?? []) {
          const record = toLambdaRecord(r, streamArn, 'ddblocal');
          if (pass(record)) out.push(record);
        }
        const next = page.NextShardIterator;
        if (!page.Records?.length) {
          iterators.set(shardId, next);
          break;
        }
        it = next;
        iterators.set(shardId, next);
      }
    }
    return out;
  }

  return {
    drain,
    /** The records since the last drain as one Lambda event. */
    async event(): Promise<DynamoDBStreamEvent> {
      return { Records: await drain() };
    },
    close: () => streams.destroy(),
  };
}
