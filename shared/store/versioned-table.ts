/**
 * The storage port the repositories are written against: one table of items keyed by `pk`/`sk`,
 * with strongly consistent reads, whole-partition queries and single-item conditional writes.
 * Nothing else — no update expressions, no transactions (a DynamoDB global table with
 * multi-Region strong consistency has none; see DESIGN "Constraints from what comes next").
 *
 * Two implementations: {@link DynamoTable} (./dynamo-table.ts, production) and
 * {@link MemoryTable} (./memory-table.ts, the whole-system checker and unit tests). The same
 * repositories run unchanged over both.
 */
import { ConditionFailedError } from '../errors.js';

/** The primary key of an item. */
export interface TableKey {
  pk: string;
  sk: string;
}

/** An item: its key plus any attributes (JSON-like values; `undefined` attributes are dropped). */
export type TableItem = TableKey & Record<string, unknown>;

/** A scalar an attribute condition compares with. */
export type ConditionValue = string | number | boolean;

/**
 * What a write requires of the item as stored, checked atomically with the write:
 * - `none`: nothing (last writer wins);
 * - `absent`: no item with this key exists;
 * - `version`: the item exists and its `version` attribute equals `equals`;
 * - `attribute`: the item exists and its attribute `name` equals `equals`.
 */
export type WriteCondition =
  | { kind: 'none' }
  | { kind: 'absent' }
  | { kind: 'version'; equals: number }
  | { kind: 'attribute'; name: string; equals: ConditionValue };

/** Builders of {@link WriteCondition}s. */
export const conditions = {
  none: { kind: 'none' } as WriteCondition,
  absent: { kind: 'absent' } as WriteCondition,
  version: (equals: number): WriteCondition => ({ kind: 'version', equals }),
  attribute: (name: string, equals: ConditionValue): WriteCondition => ({ kind: 'attribute', name, equals }),
  /** `version` equal to `expected`, or absent when `expected` is undefined (never written). */
  versionOrAbsent: (expected: number | undefined): WriteCondition =>
    expected === undefined ? { kind: 'absent' } : { kind: 'version', equals: expected },
} as const;

/** Options of {@link VersionedTable.query}. */
export interface QueryOptions {
  /** At most this many items. @default all */
  limit?: number;
  /** Sort keys descending (newest first for ISO-time keys). @default false */
  descending?: boolean;
  /** Only sort keys that begin with this. */
  skPrefix?: string;
}

/**
 * The table port. Every read is strongly consistent. A write whose condition does not hold
 * rejects with {@link ConditionFailedError} and changes nothing; any other rejection means the
 * outcome is unknown (the write may have landed).
 */
export interface VersionedTable {
  /** A name for messages and logs (the DynamoDB table name). */
  readonly name: string;
  /** One item, or undefined when absent. */
  get<T extends object = TableItem>(key: TableKey): Promise<T | undefined>;
  /** A partition's items (all pages), ordered by sort key as DynamoDB orders strings (UTF-8 bytes). */
  query<T extends object = TableItem>(pk: string, options?: QueryOptions): Promise<T[]>;
  /** Replace (or create) the whole item, if `condition` holds. */
  put(item: TableItem, condition: WriteCondition): Promise<void>;
  /** Delete the item, if `condition` holds (deleting an absent item with `none` is a no-op). */
  delete(key: TableKey, condition: WriteCondition): Promise<void>;
  /** Unconditional puts of many items (each lands on its own; not atomic as a whole). */
  batchPut(items: readonly TableItem[]): Promise<void>;
}

/** Whether `error` is the port's condition failure. */
export function isConditionFailed(error: unknown): error is ConditionFailedError {
  return error instanceof ConditionFailedError;
}

/** A condition for messages: `item absent`, `version=3`, `owner="exec-1"`. */
export function describeCondition(condition: WriteCondition): string {
  switch (condition.kind) {
    case 'none':
      return 'none';
    case 'absent':
      return 'item absent';
    case 'version':
      return `version=${condition.equals}`;
    case 'attribute':
      return `${condition.name}=${JSON.stringify(condition.equals)}`;
  }
}
