/**
 * The state table's stream and the failover function's event-source mapping, as Lambda runs
 * them: only new images of the watched item types pass (the deployed filter); one batch of up to
 * `batchSize` records at a time, in order; a partial batch response retries from the first
 * failed record; a failed invocation (error, timeout, crash) bisects the batch; a record that
 * fails `retryAttempts` times goes to the DLQ. On top, the checker's faults: a record delivered
 * again (duplicated), a batch reordered, polls delayed.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { TableChange } from '../../shared/store/memory-table.js';
import { FAILOVER_STREAM_TYPES } from '../../shared/store/table.js';
import type { Prng } from './prng.js';
import { streamImage } from './stream-image.js';
import type { SimScheduler } from './scheduler.js';

/** Stream faults while the fault phase lasts (undefined: none). */
export interface StreamFaults {
  duplicate: number;
  shuffle: number;
  maxDelayMs: number;
}

/** Options of {@link SimStream}. */
export interface SimStreamOptions {
  batchSize: number;
  retryAttempts: number;
  rng: Prng;
  faults: () => StreamFaults | undefined;
  /**
   * A record given up on. `crashesOnly`: every failure was a process crash or timeout, never the
   * handler's own answer (Lambda doing as designed under repeated process death).
   */
  onDlq: (record: DynamoDBRecord, crashesOnly: boolean) => void;
}

/** One invocation's outcome: the partial batch response, or a failure (an error; a crash or timeout). */
export type Delivery = { ok: true; value: DynamoDBBatchResponse } | { ok: false; crashed: boolean };

/** Invoke the function with one batch of shard `shard` (each shard has its own container). */
export type Deliver = (event: DynamoDBStreamEvent, shard: number) => Promise<Delivery>;

/**
 * The stream of one table and its event-source mapping: records go to a shard by partition key
 * (as DynamoDB Streams does), and each shard is polled on its own, so two failover invocations
 * can run at once (different shards), never two on one shard.
 */
export class SimStream {
  private readonly shards: StreamShard[];

  constructor(sched: SimScheduler, options: SimStreamOptions & { shards: number }) {
    this.shards = Array.from(
      { length: Math.max(1, options.shards) },
      (_, i) => new StreamShard(sched, options, i),
    );
  }

  /** A landed table write; kept when the deployed filter passes it, on its partition key's shard. */
  offer(change: TableChange): void {
    let h = 0;
    for (const ch of change.keys.pk) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    this.shards[h % this.shards.length]?.offer(change);
  }

  /** Poll every shard and deliver until virtual time `until`. */
  async run(until: number, deliver: Deliver): Promise<void> {
    await Promise.all(this.shards.map((s) => s.run(until, deliver)));
  }
}

/** One shard and its poller: one batch at a time, in order. */
class StreamShard {
  private readonly shard: DynamoDBRecord[] = [];
  private readonly processed: DynamoDBRecord[] = [];
  private next = 0;
  private retries = 0;
  private size: number;
  /** Whether the handler itself (not a crash) failed the head record since it became the head. */
  private handlerFailed = false;

  constructor(
    private readonly sched: SimScheduler,
    private readonly options: SimStreamOptions,
    private readonly index: number,
  ) {
    this.size = options.batchSize;
  }

  /** A landed table write; kept when the deployed filter passes it. */
  offer(change: TableChange): void {
    const img = change.newImage;
    if (!img || !FAILOVER_STREAM_TYPES.includes(img.type as never)) return;
    this.shard.push({
      eventID: String(change.seq),
      eventName: change.eventName,
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        Keys: streamImage({ ...change.keys }) as never,
        NewImage: streamImage(img) as never,
        ...(change.oldImage ? { OldImage: streamImage(change.oldImage) as never } : {}),
        SequenceNumber: String(change.seq).padStart(21, '0'),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  }

  /**
   * Poll and deliver until virtual time `until`: wait 100–500 ms (longer while polls are
   * delayed), poll, deliver a batch if there is one, again. A poll of an empty shard is a quiet
   * step ({@link SimScheduler.atQuiet}): it only schedules the next poll, with the same draws as
   * ever, but costs no event-loop turn (most polls find the shard empty).
   */
  run(until: number, deliver: Deliver): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The loop's head; true when it only scheduled the next poll (nothing asynchronous).
      const next = (): boolean => {
        if (this.sched.now >= until) {
          resolve();
          return false;
        }
        const faults = this.options.faults();
        this.sched.atQuiet(this.options.rng.int(100, faults?.maxDelayMs ?? 500), () => {
          if (this.next >= this.shard.length) return next();
          this.deliverBatch(deliver, faults, next).catch(reject);
          return false;
        });
        return true;
      };
      next();
    });
  }

  /** Deliver the batch at the head; then (synchronously, as the loop did) `next`. */
  private async deliverBatch(
    deliver: Deliver,
    faults: StreamFaults | undefined,
    next: () => unknown,
  ): Promise<void> {
    const { rng, batchSize, retryAttempts } = this.options;
    const batch = this.shard.slice(this.next, this.next + this.size);
    const records = [...batch];
    if (faults && this.processed.length > 0 && rng.chance(faults.duplicate))
      records.splice(rng.int(0, records.length), 0, rng.pick(this.processed.slice(-10)));
    if (faults && rng.chance(faults.shuffle)) rng.shuffle(records);
    const r = await deliver({ Records: records }, this.index);
    if (!r.ok) {
      if (!r.crashed) this.handlerFailed = true;
      this.size = Math.max(1, Math.floor(this.size / 2)); // bisect on error
      if (++this.retries > retryAttempts && batch.length === 1) this.giveUp();
      next();
      return;
    }
    const failed = new Set(r.value.batchItemFailures.map((f) => f.itemIdentifier));
    const firstFailed = batch.findIndex((rec) => failed.has(rec.dynamodb?.SequenceNumber ?? ''));
    if (firstFailed < 0) {
      this.processed.push(...batch);
      this.next += batch.length;
      this.retries = 0;
      this.handlerFailed = false;
      this.size = batchSize;
      next();
      return;
    }
    this.processed.push(...batch.slice(0, firstFailed));
    // A new head record starts its own count; the handler reported it failed.
    if (firstFailed > 0) this.retries = 0;
    this.next += firstFailed;
    this.handlerFailed = true;
    if (++this.retries > retryAttempts) this.giveUp();
    next();
  }

  /** The record at the head goes to the DLQ; the mapping carries on after it. */
  private giveUp(): void {
    const record = this.shard[this.next++];
    if (record) this.options.onDlq(record, !this.handlerFailed);
    this.retries = 0;
    this.handlerFailed = false;
    this.size = this.options.batchSize;
  }
}
