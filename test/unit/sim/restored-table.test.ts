import { describe, expect, it } from '@jest/globals';
import { RestoredTable } from '../../../local/sim/restored-table.js';
import type { Actor } from '../../../local/sim/scheduler.js';
import { MemoryTable } from '../../../shared/store/memory-table.js';

const actor = (startedAt: number): Actor => ({
  id: startedAt,
  name: 'a',
  startedAt,
  crashed: false,
  sleeps: 0,
});

describe('RestoredTable (a PITR into a new table)', () => {
  it('keeps the old table for invocations running at the switch; later ones and the feed see the restored one', async () => {
    const live = new MemoryTable({ name: 'state' });
    let running: Actor | undefined;
    const table = new RestoredTable(live, () => running, {});
    const fed: unknown[] = [];
    live.onChange((c) => fed.push(c.newImage?.v));
    await table.put({ pk: 'p', sk: 's', v: 1 }, { kind: 'none' });
    const restorePoint = live.snapshot();
    await table.put({ pk: 'p', sk: 's', v: 2 }, { kind: 'none' });

    const before = actor(10);
    table.restore(restorePoint, 20);
    const after = actor(20);

    running = before;
    expect(await table.get({ pk: 'p', sk: 's' })).toMatchObject({ v: 2 });
    await table.put({ pk: 'p', sk: 's', v: 3 }, { kind: 'none' });
    expect(await table.get({ pk: 'p', sk: 's' })).toMatchObject({ v: 3 });

    running = after;
    expect(await table.get({ pk: 'p', sk: 's' })).toMatchObject({ v: 1 });
    running = undefined;
    expect(await table.query('p')).toEqual([expect.objectContaining({ v: 1 })]);
    // The old table's writes reach no change feed (its stream is no longer read).
    expect(fed).toEqual([1, 2]);
  });
});
