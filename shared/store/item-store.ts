/**
 * The repositories' shared core over the {@link VersionedTable} port: strongly consistent reads,
 * partition queries, and {@link ItemStore.update}, the read–apply–conditional-put primitive every
 * versioned write goes through. Time and write ids come from the injected {@link Runtime}.
 */
import { ConcurrentUpdateError, ValidationError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { ItemType } from './table.js';
import { conditions, isConditionFailed, type TableItem, type VersionedTable } from './versioned-table.js';

/** The primary key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** Bookkeeping every item written by the repository carries. */
export interface VersionedItem extends ItemKey {
  type: ItemType;
  /** Raised by every write; conditional writes compare it. Starts at 1. */
  version: number;
  /** Epoch ms of the last write (the repository's clock). */
  updatedAt: number;
  /** Id of the write attempt that produced this version (detects our own landed write on retry). */
  writeId?: string;
}

/** The attributes an {@link ItemStore.update} function returns: the item without bookkeeping. */
export type ItemBody<T extends VersionedItem> = Omit<T, 'pk' | 'sk' | 'version' | 'updatedAt' | 'writeId'>;

/** Result of {@link ItemStore.update}. */
export interface UpdateResult<T> {
  /** The item as stored after the call (undefined: absent and the function wrote nothing). */
  item: T | undefined;
  /** Whether this call wrote. */
  changed: boolean;
  /** Read–apply–write rounds used. */
  attempts: number;
}

/** Options of {@link ItemStore}. */
export interface ItemStoreOptions {
  /** Read–apply–write rounds before {@link ConcurrentUpdateError}. @default 8 */
  maxAttempts?: number;
}

const BOOKKEEPING = new Set(['pk', 'sk', 'version', 'updatedAt', 'writeId']);

/** Throw a {@link ValidationError} unless `value` is a non-empty string. */
export function requireText(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, [{ path: field, value, expected: 'a non-empty string' }]);
  }
}

/** Throw a {@link ValidationError} unless `value` is a positive integer. */
export function requirePositiveInt(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValidationError(field, [{ path: field, value, expected: 'a positive integer' }]);
  }
}

/** The attributes of `item` without the bookkeeping ones (for building the next body). */
export function bodyOf<T extends VersionedItem>(item: T | undefined): Partial<ItemBody<T>> {
  if (item === undefined) return {};
  return Object.fromEntries(Object.entries(item).filter(([name]) => !BOOKKEEPING.has(name))) as Partial<
    ItemBody<T>
  >;
}

/** Reads and versioned writes over one table; shared by every repository. */
export class ItemStore {
  /** Read–apply–write rounds before giving up. */
  readonly maxAttempts: number;

  constructor(
    readonly table: VersionedTable,
    readonly runtime: Runtime,
    options: ItemStoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    requirePositiveInt('maxAttempts', this.maxAttempts);
  }

  /** Read one item (strongly consistent). */
  get<T extends object>(key: ItemKey): Promise<T | undefined> {
    return this.table.get<T>(key);
  }

  /** Every item of a partition (all pages), in sort-key order unless `newestFirst`. */
  queryPartition<T extends object>(
    pk: string,
    options: { newestFirst?: boolean; limit?: number } = {},
  ): Promise<T[]> {
    return this.table.query<T>(pk, {
      ...(options.newestFirst ? { descending: true } : {}),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
  }

  /**
   * The core primitive: read the item, apply the pure function `fn` to it, and write the result
   * conditioned on the version read (absent: on not existing). When another writer got there
   * first (ConditionFailedError), re-read and re-apply, up to `maxAttempts` rounds, then throw
   * {@link ConcurrentUpdateError}. `fn` returning undefined means "no change": nothing is
   * written. `fn` may be called several times and must have no side effects.
   *
   * Never applied twice: each write attempt carries a fresh `writeId`; if a write landed but its
   * answer was lost (an SDK retry then fails the condition), the re-read shows our `writeId` and
   * the call returns instead of applying `fn` again. The returned body replaces the whole item;
   * attributes it leaves undefined are removed.
   */
  async update<T extends VersionedItem>(
    key: ItemKey,
    fn: (current: T | undefined) => ItemBody<T> | undefined,
  ): Promise<UpdateResult<T>> {
    let lastError: unknown;
    let pendingWriteId: string | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await this.get<T>(key);
      if (pendingWriteId !== undefined && current?.writeId === pendingWriteId) {
        return { item: current, changed: true, attempts: attempt - 1 };
      }
      const body = fn(current);
      if (body === undefined) return { item: current, changed: false, attempts: attempt };
      const writeId = this.runtime.id();
      const attributes = Object.fromEntries(
        Object.entries(body).filter(([name, value]) => !BOOKKEEPING.has(name) && value !== undefined),
      );
      const next = {
        ...attributes,
        pk: key.pk,
        sk: key.sk,
        version: (current?.version ?? 0) + 1,
        updatedAt: this.runtime.now(),
        writeId,
      } as unknown as T;
      pendingWriteId = writeId;
      try {
        await this.table.put(
          next as unknown as TableItem,
          current ? conditions.version(current.version) : conditions.absent,
        );
        return { item: next, changed: true, attempts: attempt };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        lastError = error;
      }
    }
    // The last write may have landed with its answer lost: one more read settles it.
    const current = await this.get<T>(key);
    if (pendingWriteId !== undefined && current?.writeId === pendingWriteId) {
      return { item: current, changed: true, attempts: this.maxAttempts };
    }
    throw new ConcurrentUpdateError(
      `${key.pk}/${key.sk}: still conflicting after ${this.maxAttempts} read-apply-write attempts`,
      { cause: lastError },
    );
  }
}

/** Run `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
