/**
 * The sandbox's "event source mapping": reads a table's stream on DynamoDB Local and invokes a
 * handler with Lambda-shaped DynamoDB stream events, the way Lambda does it:
 * - records are converted to the Lambda event shape (`ApproximateCreationDateTime` in epoch
 *   seconds, `eventSourceARN`, `awsRegion`, `eventSource: 'aws:dynamodb'`, binary as base64);
 * - the filter criteria are applied first; records that match no filter are dropped;
 * - per shard, in order, batches of at most `batchSize` records;
 * - with `batchItemFailures` the batch is retried from the first failed record (records before it
 *   count as done); a thrown error retries the whole batch; after `maxRetries` retries the
 *   records are discarded and reported to `onError` (Lambda's on-failure destination).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
  type AttributeValue as SdkAttributeValue,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { compileFilterCriteria, type CdkFilterCriteria, type FilterCriteria } from './filter-pattern.js';

/** Why {@link StreamPollerOptions.onError} was called. */
export type StreamPollerErrorKind = 'poll' | 'handler' | 'discarded';

/** Options of {@link startStreamPoller}. */
export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint. */
  endpoint: string;
  tableName: string;
  /** The event source mapping's filter criteria. @default none (every record) */
  filterCriteria?: FilterCriteria | CdkFilterCriteria;
  /** Records per invocation. @default 100 */
  batchSize?: number;
  /** The function; may return `batchItemFailures` (ReportBatchItemFailures). */
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /**
   * Errors: `poll` (reading the stream failed; polling goes on), `handler` (an invocation threw
   * or reported failures; it will be retried), `discarded` (retries exhausted; `records` dropped).
   * @default log to stderr
   */
  onError?: (error: unknown, info: { kind: StreamPollerErrorKind; records: DynamoDBRecord[] }) => void;
  /** Pause between polls that found nothing. @default 200 */
  pollIntervalMs?: number;
  /** Retries of a failing batch before its records are discarded. @default 3 */
  maxRetries?: number;
  /** Where to start reading the shards that exist at start. @default 'TRIM_HORIZON' */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Region put in `awsRegion` and the ARN. @default process.env.AWS_REGION ?? 'us-east-1' */
  region?: string;
}

/** A running poller. */
export interface StreamPoller {
  /** The stream read. */
  readonly streamArn: string;
  /**
   * Resolves after two full poll rounds in a row, started after this call, found no new records and
   * left nothing pending (every record written before the call has been delivered or discarded).
   */
  idle(): Promise<void>;
  /** Stop polling; resolves once the loop has ended (an invocation in flight completes first). */
  stop(): Promise<void>;
}

/** Consecutive rounds that found nothing before {@link StreamPoller.idle} resolves. */
const QUIET_ROUNDS = 2;

/** Longest wait for one stream or table API answer. */
const REQUEST_TIMEOUT_MS = 10_000;

interface ShardState {
  id: string;
  parentId?: string;
  iterator?: string;
  /** Last sequence number handed over (delivered, dropped by the filter, or discarded). */
  checkpoint?: string;
  /** Converted, filtered records fetched but not yet done. */
  pending: DynamoDBRecord[];
  attempts: number;
  closed: boolean;
  /** No (valid) iterator: get one at the checkpoint, or at the start position. */
  fresh: boolean;
  /** Found after start (a child of a shard we read): read from its beginning. */
  late: boolean;
}

/** Convert an SDK AttributeValue to the Lambda event's JSON (binary as base64). */
export function toLambdaAttribute(value: SdkAttributeValue): AttributeValue {
  const v = value as unknown as Record<string, unknown>;
  if (v.S !== undefined) return { S: v.S as string };
  if (v.N !== undefined) return { N: v.N as string };
  if (v.B !== undefined) return { B: Buffer.from(v.B as Uint8Array).toString('base64') };
  if (v.SS !== undefined) return { SS: v.SS as string[] };
  if (v.NS !== undefined) return { NS: v.NS as string[] };
  if (v.BS !== undefined) return { BS: (v.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
  if (v.M !== undefined) return { M: toLambdaImage(v.M as Record<string, SdkAttributeValue>) };
  if (v.L !== undefined) return { L: (v.L as SdkAttributeValue[]).map(toLambdaAttribute) };
  if (v.NULL !== undefined) return { NULL: v.NULL as boolean } as AttributeValue;
  if (v.BOOL !== undefined) return { BOOL: v.BOOL as boolean };
  return {} as AttributeValue;
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaAttribute(v)]));
}

/** Convert a DynamoDB Streams API record to the record of a Lambda DynamoDB stream event. */
export function toLambdaRecord(record: SdkRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      ...(d.Keys ? { Keys: toLambdaImage(d.Keys) } : {}),
      ...(d.NewImage ? { NewImage: toLambdaImage(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: toLambdaImage(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
  };
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

/**
 * Start polling a table's stream. Resolves once the stream is found and the shards are listed;
 * rejects when the table has no stream.
 */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const credentials = process.env.AWS_ACCESS_KEY_ID
    ? undefined
    : { accessKeyId: 'local', secretAccessKey: 'local' };
  // A bounded wait per call: DynamoDB Local under load can leave a request unanswered, and an
  // unbounded call would stall the loop (and every idle() waiter) for good; a timed-out call is a
  // poll error and the round is retried.
  const requestHandler = {
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: REQUEST_TIMEOUT_MS,
    // Without it the handler only logs a warning when the request timeout passes.
    throwOnRequestTimeout: true,
  };
  const clientConfig = {
    endpoint: options.endpoint,
    region,
    requestHandler,
    ...(credentials ? { credentials } : {}),
  };
  const ddb = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const maxRetries = options.maxRetries ?? 3;
  const pass = compileFilterCriteria(options.filterCriteria);
  const onError =
    options.onError ??
    ((error: unknown, info: { kind: StreamPollerErrorKind; records: DynamoDBRecord[] }) =>
      console.error(`stream poller (${options.tableName}) ${info.kind}:`, error));

  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn) {
    ddb.destroy();
    streams.destroy();
    throw new Error(`table ${options.tableName} has no stream (StreamSpecification missing)`);
  }

  const shards = new Map<string, ShardState>();
  const stopController = new AbortController();
  let roundWaiters: { afterRound: number; resolve: () => void }[] = [];
  let round = 0;

  async function refreshShards(initial: boolean): Promise<void> {
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
        { abortSignal: stopController.signal },
      );
      for (const shard of StreamDescription?.Shards ?? []) addShard(shard, initial);
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  function addShard(shard: Shard, initial: boolean): void {
    if (!shard.ShardId || shards.has(shard.ShardId)) return;
    shards.set(shard.ShardId, {
      id: shard.ShardId,
      ...(shard.ParentShardId ? { parentId: shard.ParentShardId } : {}),
      pending: [],
      attempts: 0,
      closed: false,
      fresh: true,
      late: !initial,
    });
  }

  async function iteratorFor(shard: ShardState): Promise<string | undefined> {
    const position =
      shard.checkpoint !== undefined
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: shard.checkpoint }
        : {
            ShardIteratorType: shard.late
              ? ('TRIM_HORIZON' as const)
              : (options.startingPosition ?? 'TRIM_HORIZON'),
          };
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.id, ...position }),
      { abortSignal: stopController.signal },
    );
    return ShardIterator;
  }

  /** Fetch more records for a shard whose pending list is empty. Returns how many raw records came. */
  async function fetch(shard: ShardState): Promise<number> {
    if (shard.fresh || shard.iterator === undefined) {
      shard.iterator = await iteratorFor(shard);
      shard.fresh = false;
      if (shard.iterator === undefined) {
        shard.closed = true;
        return 0;
      }
    }
    let result;
    try {
      result = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }), {
        abortSignal: stopController.signal,
      });
    } catch (error) {
      if (
        errorName(error) === 'ExpiredIteratorException' ||
        errorName(error) === 'TrimmedDataAccessException'
      ) {
        shard.fresh = true;
        return 0;
      }
      throw error;
    }
    const raw = result.Records ?? [];
    shard.iterator = result.NextShardIterator;
    if (shard.iterator === undefined) shard.closed = true;
    for (const r of raw) {
      const converted = toLambdaRecord(r, streamArn as string, region);
      if (pass(converted)) shard.pending.push(converted);
      else shard.checkpoint = converted.dynamodb?.SequenceNumber ?? shard.checkpoint;
    }
    return raw.length;
  }

  /** Invoke the handler with the next batch of a shard; handle failures like Lambda. */
  async function deliver(shard: ShardState): Promise<void> {
    const batch = shard.pending.slice(0, batchSize);
    let failedFrom = -1;
    let failure: unknown;
    try {
      const response = await options.handler({ Records: batch });
      const failures = response?.batchItemFailures ?? [];
      if (failures.length > 0) {
        const indexes = failures.map((f) =>
          batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier && f.itemIdentifier !== ''),
        );
        // An unknown identifier fails the whole batch (as Lambda does).
        failedFrom = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
        failure = new Error(`batchItemFailures: ${failures.map((f) => f.itemIdentifier).join(', ')}`);
      }
    } catch (error) {
      failedFrom = 0;
      failure = error;
    }
    const done = failedFrom < 0 ? batch.length : failedFrom;
    if (done > 0) {
      shard.checkpoint = batch[done - 1]?.dynamodb?.SequenceNumber ?? shard.checkpoint;
      shard.pending.splice(0, done);
      shard.attempts = 0;
    }
    if (failedFrom < 0) return;
    const failed = batch.slice(failedFrom);
    if (shard.attempts >= maxRetries) {
      onError(failure, { kind: 'discarded', records: failed });
      shard.checkpoint = failed.at(-1)?.dynamodb?.SequenceNumber ?? shard.checkpoint;
      shard.pending.splice(0, failed.length);
      shard.attempts = 0;
      return;
    }
    shard.attempts++;
    onError(failure, { kind: 'handler', records: failed });
    await sleep(Math.min(pollIntervalMs * 2 ** (shard.attempts - 1), 5000));
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stopController.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        stopController.signal.removeEventListener('abort', done);
        resolve();
      }
      stopController.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** A shard has work once it is open or has pending records, and its parent (if known) is done. */
  function ready(shard: ShardState): boolean {
    if (shard.closed && shard.pending.length === 0) return false;
    const parent = shard.parentId === undefined ? undefined : shards.get(shard.parentId);
    return !parent || (parent.closed && parent.pending.length === 0);
  }

  async function loop(): Promise<void> {
    let lastRefresh = Date.now();
    let quiet = 0;
    while (!stopController.signal.aborted) {
      const roundNo = ++round;
      let activity = false;
      try {
        if (Date.now() - lastRefresh > 5000 || [...shards.values()].every((s) => s.closed)) {
          await refreshShards(false);
          lastRefresh = Date.now();
        }
        for (const shard of shards.values()) {
          if (stopController.signal.aborted) break;
          if (!ready(shard)) continue;
          if (shard.pending.length === 0 && !shard.closed) {
            if ((await fetch(shard)) > 0) activity = true;
          }
          while (shard.pending.length > 0 && !stopController.signal.aborted) {
            activity = true;
            await deliver(shard);
          }
        }
      } catch (error) {
        if (stopController.signal.aborted) break;
        activity = true;
        onError(error, { kind: 'poll', records: [] });
        await sleep(pollIntervalMs);
      }
      quiet = activity ? 0 : quiet + 1;
      if (!activity) {
        // Two quiet rounds in a row, both started after the call: a stream's GetRecords may
        // answer empty once with records just behind (DynamoDB Local does under load).
        const settled = (w: { afterRound: number }) =>
          quiet >= QUIET_ROUNDS && roundNo - quiet >= w.afterRound;
        const waiting = roundWaiters.filter(settled);
        roundWaiters = roundWaiters.filter((w) => !settled(w));
        for (const w of waiting) w.resolve();
        await sleep(pollIntervalMs);
      }
    }
  }

  await refreshShards(true);
  const finished = loop().finally(() => {
    for (const w of roundWaiters) w.resolve();
    roundWaiters = [];
    ddb.destroy();
    streams.destroy();
  });

  return {
    streamArn,
    idle: () =>
      stopController.signal.aborted
        ? finished
        : new Promise<void>((resolve) => roundWaiters.push({ afterRound: round, resolve })),
    stop: async () => {
      stopController.abort();
      await finished;
    },
  };
}
