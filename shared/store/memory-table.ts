/**
 * {@link VersionedTable} in memory, with DynamoDB's semantics for the port's operations: items are
 * deep-copied in and out (`undefined` attributes and list elements dropped, as the DocumentClient's
 * `removeUndefinedValues` does; dates, class instances, functions, NaN and empty keys rejected,
 * as DynamoDB rejects them), strongly consistent reads, sort keys ordered by their UTF-8 bytes,
 * and every condition checked atomically with its write.
 *
 * For the deterministic whole-system checker it also has:
 * - {@link MemoryTableOptions.gate}: awaited before each operation executes (the seeded
 *   scheduler interleaves actors and delays here; a rejection fails the operation unapplied);
 * - {@link MemoryTableOptions.afterApply}: called right after each operation executed; if it
 *   throws, the operation's effect stays but the caller gets the error ("landed, answer lost");
 * - a change feed ({@link MemoryTable.onChange}) shaped like DynamoDB Streams NEW_AND_OLD_IMAGES;
 * - {@link MemoryTable.snapshot} and {@link MemoryTable.restore} (a point-in-time restore).
 *
 * Batch puts are applied all at once after one gate (DynamoDB applies each item on its own; no
 * caller relies on the difference). Item size limits (400 KB) are not modelled.
 */
import { ConditionFailedError, ValidationError } from '../errors.js';
import {
  describeCondition,
  type QueryOptions,
  type TableItem,
  type TableKey,
  type VersionedTable,
  type WriteCondition,
} from './versioned-table.js';

/** The kinds of operation a {@link TableOp} describes. */
export type TableOpKind = 'get' | 'query' | 'put' | 'delete' | 'batchPut';

/** One operation on the table, as the hooks see it. */
export interface TableOp {
  kind: TableOpKind;
  /** The item's key (get, put, delete). */
  key?: TableKey;
  /** The partition (query). */
  pk?: string;
  /** Every item's key (batchPut). */
  keys?: TableKey[];
}

/** How an operation ended, as {@link MemoryTableOptions.afterApply} is told. */
export type TableOpOutcome = 'ok' | 'conditionFailed';

/** One landed write, like a DynamoDB Streams record with view type NEW_AND_OLD_IMAGES. */
export interface TableChange {
  /** Increases by one per change of this table. */
  seq: number;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  keys: TableKey;
  /** The item before (absent on INSERT). */
  oldImage?: Record<string, unknown>;
  /** The item after (absent on REMOVE). */
  newImage?: Record<string, unknown>;
}

/** Options of {@link MemoryTable}. */
export interface MemoryTableOptions {
  /** @default `memory` */
  name?: string;
  /** Awaited before each operation; the operation then executes atomically. */
  gate?: (op: TableOp) => Promise<void>;
  /** Called after each operation executed; throwing loses the answer, not the effect. */
  afterApply?: (op: TableOp, outcome: TableOpOutcome) => void;
}

/** A change-feed listener; see {@link MemoryTable.onChange}. */
export type TableChangeListener = (change: TableChange) => void;

/** Compare strings as DynamoDB orders them: by their UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function invalid(path: string, value: unknown, expected: string): ValidationError {
  return new ValidationError('item', [{ path, value, expected }]);
}

const ANY_KIND = 'a string, number, boolean, null, list or plain object';

/** What is wrong with a value itself (not its parts), or undefined when it may be stored. */
function badKind(value: unknown): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'a finite number';
  if (Array.isArray(value)) return undefined;
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    return proto === Object.prototype || proto === null ? undefined : ANY_KIND;
  }
  return ANY_KIND;
}

/** What {@link copyValue} returns for a value that may not be stored. */
const REJECTED = Symbol('rejected');

/** Deep copy of an attribute value as DynamoDB would store it (undefined: drop it), or REJECTED. */
function copyValue(value: unknown): unknown {
  if (badKind(value) !== undefined) return REJECTED;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value as unknown[]) {
      if (v === undefined) continue;
      const c = copyValue(v);
      if (c === REJECTED) return REJECTED;
      out.push(c);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const c = copyValue(v);
    if (c === REJECTED) return REJECTED;
    out[name] = c;
  }
  return out;
}

/** The error naming the first value of a rejected item (its path as the item's attributes spell it). */
function rejection(value: unknown, path: string): ValidationError | undefined {
  const why = badKind(value);
  if (why !== undefined) return invalid(path, value, why);
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    const kept = (value as unknown[]).filter((v) => v !== undefined);
    for (const [i, v] of kept.entries()) {
      const e = rejection(v, `${path}[${i}]`);
      if (e) return e;
    }
    return undefined;
  }
  for (const [name, v] of Object.entries(value)) {
    const e = v === undefined ? undefined : rejection(v, path ? `${path}.${name}` : name);
    if (e) return e;
  }
  return undefined;
}

function copyItem<T>(item: object): T {
  // Every read and write copies its item: the path of a bad value is built only for the error
  // (building it for every value cost more than the copy).
  const out = copyValue(item);
  if (out === REJECTED) throw rejection(item, '') ?? invalid('', item, ANY_KIND);
  return out as T;
}

function checkKey(key: TableKey): void {
  for (const name of ['pk', 'sk'] as const) {
    const v = (key as unknown as Record<string, unknown>)[name];
    if (typeof v !== 'string' || v.length === 0) throw invalid(name, v, 'a non-empty string key');
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function holds(condition: WriteCondition, current: Record<string, unknown> | undefined): boolean {
  switch (condition.kind) {
    case 'none':
      return true;
    case 'absent':
      return current === undefined;
    case 'version':
      return current !== undefined && current.version === condition.equals;
    case 'attribute':
      return current !== undefined && current[condition.name] === condition.equals;
  }
}

/** The in-memory table; see the module comment. */
export class MemoryTable implements VersionedTable {
  readonly name: string;
  /** Awaited before each operation (settable after construction). */
  gate: MemoryTableOptions['gate'];
  /** Called after each operation executed (settable after construction). */
  afterApply: MemoryTableOptions['afterApply'];
  private readonly partitions = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly listeners = new Set<TableChangeListener>();
  private seq = 0;

  constructor(options: MemoryTableOptions = {}) {
    this.name = options.name ?? 'memory';
    this.gate = options.gate;
    this.afterApply = options.afterApply;
  }

  /**
   * Subscribe to the change feed: called synchronously, in `seq` order, as each write lands
   * (before the writer's promise settles). A write that changes nothing (the same item put again,
   * an absent item deleted) yields no change, as in DynamoDB Streams. Returns the unsubscribe.
   */
  onChange(listener: TableChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async get<T extends object = TableItem>(key: TableKey): Promise<T | undefined> {
    return this.run({ kind: 'get', key: { pk: key.pk, sk: key.sk } }, () => {
      checkKey(key);
      const item = this.partitions.get(key.pk)?.get(key.sk);
      return item === undefined ? undefined : copyItem<T>(item);
    });
  }

  async query<T extends object = TableItem>(pk: string, options: QueryOptions = {}): Promise<T[]> {
    return this.run({ kind: 'query', pk }, () => {
      const partition = this.partitions.get(pk);
      if (!partition) return [];
      let sks = [...partition.keys()].sort(compareUtf8);
      if (options.skPrefix !== undefined) sks = sks.filter((sk) => sk.startsWith(options.skPrefix as string));
      if (options.descending) sks.reverse();
      if (options.limit !== undefined) sks = sks.slice(0, options.limit);
      return sks.map((sk) => copyItem<T>(partition.get(sk) as object));
    });
  }

  async put(item: TableItem, condition: WriteCondition): Promise<void> {
    return this.run({ kind: 'put', key: { pk: item.pk, sk: item.sk } }, () => {
      checkKey(item);
      const next = copyItem<Record<string, unknown>>(item);
      const current = this.partitions.get(item.pk)?.get(item.sk);
      if (!holds(condition, current)) return this.conditionFailed(item, condition);
      this.store(item, current, next);
    });
  }

  async delete(key: TableKey, condition: WriteCondition): Promise<void> {
    return this.run({ kind: 'delete', key: { pk: key.pk, sk: key.sk } }, () => {
      checkKey(key);
      const current = this.partitions.get(key.pk)?.get(key.sk);
      if (!holds(condition, current)) return this.conditionFailed(key, condition);
      this.store(key, current, undefined);
    });
  }

  async batchPut(items: readonly TableItem[]): Promise<void> {
    const keys = items.map((i) => ({ pk: i.pk, sk: i.sk }));
    return this.run({ kind: 'batchPut', keys }, () => {
      const copies = items.map((item) => {
        checkKey(item);
        return copyItem<Record<string, unknown>>(item);
      });
      copies.forEach((next, i) => {
        const key = keys[i] as TableKey;
        this.store(key, this.partitions.get(key.pk)?.get(key.sk), next);
      });
    });
  }

  /** Every item, deep-copied, ordered by partition then sort key. */
  snapshot(): TableItem[] {
    return [...this.partitions.keys()]
      .sort(compareUtf8)
      .flatMap((pk) => {
        const partition = this.partitions.get(pk) as Map<string, Record<string, unknown>>;
        return [...partition.keys()].sort(compareUtf8).map((sk) => partition.get(sk) as object);
      })
      .map((item) => copyItem<TableItem>(item));
  }

  /**
   * Replace the whole content with `items` (a point-in-time restore). Like a restore into a new
   * table, it yields no change records; `seq` goes on from where it was.
   */
  restore(items: readonly TableItem[]): void {
    const copies = items.map((item) => {
      checkKey(item);
      return copyItem<TableItem>(item);
    });
    this.partitions.clear();
    for (const item of copies) this.partition(item.pk).set(item.sk, item);
  }

  private partition(pk: string): Map<string, Record<string, unknown>> {
    let partition = this.partitions.get(pk);
    if (!partition) {
      partition = new Map();
      this.partitions.set(pk, partition);
    }
    return partition;
  }

  /** Write `next` (undefined: delete) over `current`, and publish the change if there is one. */
  private store(
    key: TableKey,
    current: Record<string, unknown> | undefined,
    next: Record<string, unknown> | undefined,
  ): void {
    if (next === undefined) {
      if (current === undefined) return;
      this.partitions.get(key.pk)?.delete(key.sk);
      if (this.partitions.get(key.pk)?.size === 0) this.partitions.delete(key.pk);
    } else {
      this.partition(key.pk).set(key.sk, next);
      if (current !== undefined && deepEqual(current, next)) return;
    }
    const change: TableChange = {
      seq: ++this.seq,
      eventName: current === undefined ? 'INSERT' : next === undefined ? 'REMOVE' : 'MODIFY',
      keys: { pk: key.pk, sk: key.sk },
      // The replaced (or deleted) item is no longer the table's: handed over as it is.
      ...(current === undefined ? {} : { oldImage: current }),
      ...(next === undefined ? {} : { newImage: copyItem<Record<string, unknown>>(next) }),
    };
    for (const listener of this.listeners) listener(change);
  }

  private conditionFailed(key: TableKey, condition: WriteCondition): never {
    throw new ConditionFailedError(
      `${this.name} ${key.pk}/${key.sk}: condition failed: expected ${describeCondition(condition)}`,
    );
  }

  /** Gate, execute atomically, tell afterApply (whose throw replaces the outcome). */
  private async run<R>(op: TableOp, execute: () => R): Promise<R> {
    if (this.gate) await this.gate(op);
    let result: R;
    try {
      result = execute();
    } catch (error) {
      if (error instanceof ConditionFailedError) this.afterApply?.(op, 'conditionFailed');
      throw error;
    }
    this.afterApply?.(op, 'ok');
    return result;
  }
}
