/**
 * A point-in-time restore as DynamoDB does one: into a new table. The controller is pointed at the
 * restored table; invocations already running when it was switched keep the table they started
 * with (the old one, its content as at the switch), read it and write it until they end. Their
 * writes reach no one: no stream record, no check of the store. Their director calls land as any
 * other. Invocations started after the switch use the restored table.
 *
 * Before this, the checker swapped the content under running invocations, which no restore does:
 * a decision read from the old table landed in the restored one (seed 746728).
 */
import type { Actor } from './scheduler.js';
import { MemoryTable, type MemoryTableOptions } from '../../shared/store/memory-table.js';
import type { TableItem, VersionedTable } from '../../shared/store/versioned-table.js';

/** The live table plus, after a restore, the table the invocations then running keep. */
export class RestoredTable implements VersionedTable {
  readonly name: string;
  private old: MemoryTable | undefined;
  private switchedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** The table the controller uses (restored in place; its change feed is the stream's). */
    readonly live: MemoryTable,
    private readonly current: () => Actor | undefined,
    private readonly hooks: Pick<MemoryTableOptions, 'gate' | 'afterApply'>,
  ) {
    this.name = live.name;
  }

  /**
   * Restore `items` at virtual time `now`: actors started before `now` go on with the content as
   * it is (a table of their own), the others see `items`.
   */
  restore(items: readonly TableItem[], now: number): void {
    const old = new MemoryTable({ name: `${this.live.name} (before the restore)`, ...this.hooks });
    old.restore(this.live.snapshot());
    this.old = old;
    this.switchedAt = now;
    this.live.restore(items);
  }

  /** The table the running actor started with. */
  private table(): VersionedTable {
    const actor = this.current();
    return this.old && actor && actor.startedAt < this.switchedAt ? this.old : this.live;
  }

  get: VersionedTable['get'] = (key) => this.table().get(key);
  query: VersionedTable['query'] = (pk, options) => this.table().query(pk, options);
  put: VersionedTable['put'] = (item, condition) => this.table().put(item, condition);
  delete: VersionedTable['delete'] = (key, condition) => this.table().delete(key, condition);
  batchPut: VersionedTable['batchPut'] = (items) => this.table().batchPut(items);
}
