/**
 * A {@link VersionedTable} in front of a real one (DynamoDB Local, for the checker's slice): each
 * operation first waits at the scheduler's gate, then runs for real while virtual time stands
 * still ({@link SimScheduler.external}); every write that landed is told to the change feed with
 * the item before (the last image this table wrote: every write of a schedule goes through it,
 * and the conditional ones are serialized by their conditions) and after. The store's conditions
 * are the real API's; the feed stands in for DynamoDB Streams.
 */
import type {
  TableChange,
  TableChangeListener,
  TableOp,
  TableOpOutcome,
} from '../../shared/store/memory-table.js';
import type {
  QueryOptions,
  TableItem,
  TableKey,
  VersionedTable,
  WriteCondition,
} from '../../shared/store/versioned-table.js';
import { isConditionFailed } from '../../shared/store/versioned-table.js';
import type { SimScheduler } from './scheduler.js';
import { jsonCopy } from './json-copy.js';

/** The hooks a checker table offers (the MemoryTable has the same). */
export interface FeedTableOptions {
  gate: (op: TableOp) => Promise<void>;
  afterApply?: (op: TableOp, outcome: TableOpOutcome) => void;
}

/** A table with a change feed over a real table. */
export class FeedTable implements VersionedTable {
  private readonly images = new Map<string, Record<string, unknown>>();
  private readonly listeners: TableChangeListener[] = [];
  private seq = 0;

  constructor(
    private readonly inner: VersionedTable,
    private readonly sched: SimScheduler,
    private readonly options: FeedTableOptions,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  onChange(listener: TableChangeListener): void {
    this.listeners.push(listener);
  }

  private async run<T>(op: TableOp, io: () => Promise<T>): Promise<T> {
    await this.options.gate(op);
    try {
      const result = await this.sched.external(io());
      this.options.afterApply?.(op, 'ok');
      return result;
    } catch (error) {
      if (isConditionFailed(error)) this.options.afterApply?.(op, 'conditionFailed');
      throw error;
    }
  }

  private tell(key: TableKey, next: Record<string, unknown> | undefined): void {
    const k = `${key.pk}\u0000${key.sk}`;
    const before = this.images.get(k);
    // `next` is the writer-independent copy made at the write; images are shared with the
    // listeners, which only read them.
    if (next) this.images.set(k, next);
    else this.images.delete(k);
    if (!before && !next) return;
    const change: TableChange = {
      seq: ++this.seq,
      eventName: !before ? 'INSERT' : next ? 'MODIFY' : 'REMOVE',
      keys: { pk: key.pk, sk: key.sk },
      ...(before ? { oldImage: before } : {}),
      ...(next ? { newImage: next } : {}),
    };
    for (const l of this.listeners) l(change);
  }

  get<T extends object = TableItem>(key: TableKey): Promise<T | undefined> {
    return this.run({ kind: 'get', key }, () => this.inner.get<T>(key));
  }

  query<T extends object = TableItem>(pk: string, options?: QueryOptions): Promise<T[]> {
    return this.run({ kind: 'query', pk }, () => this.inner.query<T>(pk, options));
  }

  put(item: TableItem, condition: WriteCondition): Promise<void> {
    const clean = jsonCopy(item) as TableItem;
    return this.run({ kind: 'put', key: { pk: item.pk, sk: item.sk } }, async () => {
      await this.inner.put(item, condition);
      this.tell(item, clean);
    });
  }

  delete(key: TableKey, condition: WriteCondition): Promise<void> {
    return this.run({ kind: 'delete', key }, async () => {
      await this.inner.delete(key, condition);
      this.tell(key, undefined);
    });
  }

  batchPut(items: readonly TableItem[]): Promise<void> {
    return this.run({ kind: 'batchPut', keys: items.map((i) => ({ pk: i.pk, sk: i.sk })) }, async () => {
      await this.inner.batchPut(items);
      for (const i of items) this.tell(i, jsonCopy(i) as TableItem);
    });
  }
}
