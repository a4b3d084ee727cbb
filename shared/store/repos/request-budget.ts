/**
 * The request budget shared by every function and container (`BUDGET#<key>` / `BUDGET`): the
 * {@link SlotLedger} of shared/director/budget.ts over the table port. The item holds the key's
 * recent and future slots (those of the last two windows on: a few dozen numbers at most); a
 * reservation adds to them with a put conditioned on the version read, so two containers never
 * get the same slots. The last item seen is kept, so an uncontended reservation costs one write (a
 * failed condition costs a read and another try).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  backgroundLane,
  backgroundShareOf,
  reserveOn,
  SlottedRequestBudget,
  type RequestBudget,
  type ReserveOptions,
  type SlotLedger,
  type SlotWindow,
  type Timeline,
} from '../../director/budget.js';
import { systemClock, type Clock } from '../../director/limits.js';
import { ConcurrentUpdateError } from '../../errors.js';
import { DynamoTable } from '../dynamo-table.js';
import { requirePositiveInt, requireText } from '../item-store.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, isConditionFailed, type VersionedTable } from '../versioned-table.js';

/** The stored budget item: the key's timeline (its slots and marks, see shared/director/budget.ts). */
export interface RequestBudgetItem extends Timeline {
  pk: string;
  sk: string;
  type: typeof ITEM_TYPES.budget;
  version: number;
  /** Epoch ms of the last write (the writer's clock). */
  updatedAt: number;
  /** TTL (epoch s): an idle budget disappears; a fresh one starts at "now". */
  expiresAt: number;
}

/** Options of {@link TableSlotLedger}. */
export interface TableSlotLedgerOptions {
  /** Conditional-write rounds per reservation before ConcurrentUpdateError. @default 16 */
  maxAttempts?: number;
  /** The item's time to live after its last write, in seconds. @default 86400 */
  ttlSec?: number;
  /** @default the system clock */
  clock?: Clock;
}

/** The shared slot ledger over the state table (see the module comment). */
export class TableSlotLedger implements SlotLedger {
  private readonly seen = new Map<string, RequestBudgetItem | undefined>();
  private readonly maxAttempts: number;
  private readonly ttlSec: number;
  private readonly clock: Clock;

  constructor(
    private readonly table: VersionedTable,
    options: TableSlotLedgerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 16;
    this.ttlSec = options.ttlSec ?? 86_400;
    this.clock = options.clock ?? systemClock;
    requirePositiveInt('maxAttempts', this.maxAttempts);
    requirePositiveInt('ttlSec', this.ttlSec);
  }

  busyUntil(key: string): number {
    return this.seen.get(key)?.busyUntil ?? 0;
  }

  urgentRoomUntil(key: string): number {
    return this.seen.get(key)?.urgentUntil ?? 0;
  }

  async reserve(
    key: string,
    count: number,
    rule: SlotWindow,
    notBefore: number,
    options: ReserveOptions = {},
  ): Promise<number[]> {
    requireText('key', key);
    requirePositiveInt('count', count);
    const k = keys.budget(key);
    const started = this.clock.now();
    let current = this.seen.has(key) ? this.seen.get(key) : await this.table.get<RequestBudgetItem>(k);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      // A lost race costs a round trip: ask that much later, or the slots come back already past
      // (dropped unused, yet counted in everyone's window).
      const { slots, timeline } = reserveOn(
        current,
        count,
        rule,
        notBefore + (this.clock.now() - started),
        options,
      );
      const next: RequestBudgetItem = {
        ...k,
        type: ITEM_TYPES.budget,
        version: (current?.version ?? 0) + 1,
        ...timeline,
        updatedAt: notBefore,
        expiresAt: Math.ceil(notBefore / 1000) + this.ttlSec,
      };
      try {
        await this.table.put({ ...next }, conditions.versionOrAbsent(current?.version));
        this.seen.set(key, next);
        return slots;
      } catch (error) {
        // Any other failure leaves the outcome unknown: forget the item, so the next call reads it.
        this.seen.delete(key);
        if (!isConditionFailed(error)) throw error;
        current = await this.table.get<RequestBudgetItem>(k);
      }
    }
    throw new ConcurrentUpdateError(
      `request budget ${key} in table ${this.table.name}: no reservation after ${this.maxAttempts} conditional writes (too many senders at once)`,
    );
  }
}

/**
 * The budget every function and container shares: slots for `requestsPerSecond` in any 1 s window
 * from the state table `tableName` (one per container; pass it to every director it builds).
 * `background: true` (the status console, the drift reconcile) paces the container's requests
 * through the background lane first (shared/director/budget.ts {@link backgroundLane}).
 */
export function createTableRequestBudget(options: {
  doc: DynamoDBDocumentClient;
  tableName: string;
  requestsPerSecond: number;
  clock?: Clock;
  /** @default false */
  background?: boolean;
}): RequestBudget {
  requireText('tableName', options.tableName);
  const ledger = new TableSlotLedger(
    new DynamoTable(options.doc, options.tableName),
    options.clock ? { clock: options.clock } : {},
  );
  const budget = (requestsPerSecond: number, foreground: boolean) =>
    new SlottedRequestBudget(ledger, {
      requestsPerSecond,
      foreground,
      ...(options.clock ? { clock: options.clock } : {}),
    });
  const shared = budget(options.requestsPerSecond, !options.background);
  return options.background
    ? backgroundLane(shared, budget(backgroundShareOf(options.requestsPerSecond), false))
    : shared;
}
