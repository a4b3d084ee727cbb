/**
 * Read the REAL stream of a DynamoDB Local table and shape its records as Lambda's DynamoDB
 * stream event (epoch-second ApproximateCreationDateTime, eventSourceARN, …). Each `drain()`
 * returns the records written since the previous one.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/** A reader over every shard of the table's stream, from its start. */
export async function openStream(client: DynamoDBClient, tableName: string, endpoint: string) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${tableName} has no stream`);
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
          const d = r.dynamodb ?? {};
          out.push({
            eventID: r.eventID,
            eventName: r.eventName as DynamoDBRecord['eventName'],
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: r.awsRegion,
            eventSourceARN: streamArn,
            dynamodb: {
              ApproximateCreationDateTime: d.ApproximateCreationDateTime
                ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000)
                : undefined,
              Keys: d.Keys as never,
              NewImage: d.NewImage as never,
              OldImage: d.OldImage as never,
              SequenceNumber: d.SequenceNumber,
              SizeBytes: d.SizeBytes,
              StreamViewType: d.StreamViewType as never,
            },
          });
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
