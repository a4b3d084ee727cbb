import { ConditionFailedError, ValidationError } from '../../../shared/errors.js';
import {
  MemoryTable,
  compareUtf8,
  type TableChange,
  type TableOp,
} from '../../../shared/store/memory-table.js';
import { conditions, type TableItem } from '../../../shared/store/versioned-table.js';

const item = (sk: string, extra: Record<string, unknown> = {}): TableItem => ({ pk: 'P', sk, ...extra });

describe('MemoryTable', () => {
  describe('conditions', () => {
    it('absent, version and attribute conditions hold or fail atomically, changing nothing on failure', async () => {
      const t = new MemoryTable();
      await t.put(item('a', { version: 1, owner: 'x' }), conditions.absent);
      await expect(t.put(item('a', { version: 9 }), conditions.absent)).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      await expect(t.put(item('a', { version: 2 }), conditions.version(7))).rejects.toThrow(
        /P\/a: condition failed: expected version=7/,
      );
      await t.put(item('a', { version: 2, owner: 'x' }), conditions.version(1));
      await expect(t.put(item('a', { version: 3 }), conditions.attribute('owner', 'y'))).rejects.toThrow(
        ConditionFailedError,
      );
      expect(await t.get({ pk: 'P', sk: 'a' })).toEqual(item('a', { version: 2, owner: 'x' }));
      // A version condition on an absent item fails (as `version = :v` does in DynamoDB).
      await expect(t.put(item('b', { version: 1 }), conditions.version(0))).rejects.toThrow(
        ConditionFailedError,
      );
      await expect(t.delete({ pk: 'P', sk: 'a' }, conditions.attribute('owner', 'y'))).rejects.toThrow(
        ConditionFailedError,
      );
      await t.delete({ pk: 'P', sk: 'a' }, conditions.attribute('owner', 'x'));
      expect(await t.get({ pk: 'P', sk: 'a' })).toBeUndefined();
      await t.delete({ pk: 'P', sk: 'a' }, conditions.none); // absent: a no-op
      await t.put(item('a', { n: 1 }), conditions.none);
      await t.put(item('a', { n: 2 }), conditions.none);
      expect(await t.get({ pk: 'P', sk: 'a' })).toEqual(item('a', { n: 2 }));
    });

    it('of concurrent conditional puts on one version exactly one lands', async () => {
      const t = new MemoryTable();
      await t.put(item('a', { version: 1 }), conditions.absent);
      const results = await Promise.allSettled(
        ['w1', 'w2', 'w3'].map((w) => t.put(item('a', { version: 2, by: w }), conditions.version(1))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
    });
  });

  describe('copies and validation', () => {
    it('copies items in and out and drops undefined attributes and list elements', async () => {
      const t = new MemoryTable();
      const input = item('a', { nested: { list: [1, undefined, { x: 2 }] }, gone: undefined });
      await t.put(input, conditions.none);
      (input.nested as { list: unknown[] }).list.push(99);
      const out = await t.get<Record<string, unknown>>({ pk: 'P', sk: 'a' });
      expect(out).toEqual(item('a', { nested: { list: [1, { x: 2 }] } }));
      expect(out && 'gone' in out).toBe(false);
      (out?.nested as { list: unknown[] }).list.push(100);
      expect(await t.get({ pk: 'P', sk: 'a' })).toEqual(item('a', { nested: { list: [1, { x: 2 }] } }));
    });

    it('rejects what DynamoDB rejects: empty keys, dates, NaN', async () => {
      const t = new MemoryTable();
      await expect(t.put({ pk: 'P', sk: '' }, conditions.none)).rejects.toBeInstanceOf(ValidationError);
      await expect(t.put(item('a', { at: new Date() }), conditions.none)).rejects.toThrow(/at=/);
      await expect(t.put(item('a', { n: Number.NaN }), conditions.none)).rejects.toThrow(/finite number/);
      expect(t.snapshot()).toEqual([]);
    });
  });

  describe('query', () => {
    it('orders sort keys by UTF-8 bytes, filters by prefix, descends and limits', async () => {
      const t = new MemoryTable();
      // UTF-16 order puts U+FF5E before U+1F600 (a surrogate pair); UTF-8 byte order the other way round.
      const sks = ['b', 'a#2', 'a#10', 'A', '\u{ff5e}', '\u{1f600}', 'a#1'];
      await t.batchPut(sks.map((sk) => item(sk)));
      await t.put({ pk: 'Q', sk: 'a#0' }, conditions.none);
      const ordered = ['A', 'a#1', 'a#10', 'a#2', 'b', '\u{ff5e}', '\u{1f600}'];
      expect((await t.query('P')).map((i) => i.sk)).toEqual(ordered);
      expect(compareUtf8('\u{ff5e}', '\u{1f600}')).toBeLessThan(0);
      expect('\u{ff5e}' < '\u{1f600}').toBe(false);
      expect((await t.query('P', { skPrefix: 'a#' })).map((i) => i.sk)).toEqual(['a#1', 'a#10', 'a#2']);
      expect((await t.query('P', { descending: true, limit: 2 })).map((i) => i.sk)).toEqual([
        '\u{1f600}',
        '\u{ff5e}',
      ]);
      expect(await t.query('none')).toEqual([]);
    });
  });

  describe('change feed', () => {
    it('reports INSERT, MODIFY and REMOVE with old and new images and an increasing seq, and nothing for no-op writes', async () => {
      const t = new MemoryTable();
      const changes: TableChange[] = [];
      const stop = t.onChange((c) => changes.push(c));
      await t.put(item('a', { v: 1 }), conditions.none);
      await t.put(item('a', { v: 2 }), conditions.none);
      await t.put(item('a', { v: 2 }), conditions.none); // unchanged: no record
      await expect(t.put(item('a', { v: 3 }), conditions.absent)).rejects.toThrow(ConditionFailedError);
      await t.delete({ pk: 'P', sk: 'a' }, conditions.none);
      await t.delete({ pk: 'P', sk: 'a' }, conditions.none); // absent: no record
      await t.batchPut([item('b'), item('c')]);
      stop();
      await t.put(item('d'), conditions.none);
      expect(changes).toEqual([
        { seq: 1, eventName: 'INSERT', keys: { pk: 'P', sk: 'a' }, newImage: item('a', { v: 1 }) },
        {
          seq: 2,
          eventName: 'MODIFY',
          keys: { pk: 'P', sk: 'a' },
          oldImage: item('a', { v: 1 }),
          newImage: item('a', { v: 2 }),
        },
        { seq: 3, eventName: 'REMOVE', keys: { pk: 'P', sk: 'a' }, oldImage: item('a', { v: 2 }) },
        { seq: 4, eventName: 'INSERT', keys: { pk: 'P', sk: 'b' }, newImage: item('b') },
        { seq: 5, eventName: 'INSERT', keys: { pk: 'P', sk: 'c' }, newImage: item('c') },
      ]);
    });

    it('calls listeners synchronously, before the writer resumes', async () => {
      const t = new MemoryTable();
      const seen: string[] = [];
      t.onChange((c) => seen.push(`change ${c.keys.sk}`));
      await t.put(item('a'), conditions.none);
      seen.push('resumed');
      expect(seen).toEqual(['change a', 'resumed']);
    });
  });

  describe('hooks', () => {
    it('gate runs before each operation, which then executes atomically; a rejecting gate applies nothing', async () => {
      const ops: TableOp[] = [];
      const held: (() => void)[] = [];
      const t = new MemoryTable({
        gate: (op) => {
          ops.push(op);
          return new Promise<void>((resolve) => held.push(resolve));
        },
      });
      const put = t.put(item('a', { version: 1 }), conditions.absent);
      const get = t.get({ pk: 'P', sk: 'a' });
      await Promise.resolve();
      expect(ops).toEqual([
        { kind: 'put', key: { pk: 'P', sk: 'a' } },
        { kind: 'get', key: { pk: 'P', sk: 'a' } },
      ]);
      // The scheduler releases the read first: it sees nothing, then the put lands.
      held[1]?.();
      expect(await get).toBeUndefined();
      held[0]?.();
      await put;
      t.gate = undefined;
      expect(await t.get({ pk: 'P', sk: 'a' })).toEqual(item('a', { version: 1 }));
      t.gate = async (op) => {
        if (op.kind === 'delete') throw new Error('throttled');
      };
      await expect(t.delete({ pk: 'P', sk: 'a' }, conditions.none)).rejects.toThrow('throttled');
      expect(t.snapshot()).toHaveLength(1);
      await t.query('P');
      await t.batchPut([item('b')]);
      expect(ops.length).toBe(2);
    });

    it('afterApply sees every executed operation and its outcome; throwing loses the answer but keeps the write', async () => {
      const seen: string[] = [];
      let lose = false;
      const t = new MemoryTable({
        afterApply: (op, outcome) => {
          seen.push(`${op.kind}:${outcome}`);
          if (lose) throw new Error('answer lost');
        },
      });
      await t.put(item('a', { version: 1 }), conditions.absent);
      await expect(t.put(item('a', { version: 1 }), conditions.absent)).rejects.toThrow(ConditionFailedError);
      lose = true;
      await expect(t.put(item('a', { version: 2 }), conditions.version(1))).rejects.toThrow('answer lost');
      lose = false;
      expect(await t.get({ pk: 'P', sk: 'a' })).toEqual(item('a', { version: 2 }));
      expect(seen).toEqual(['put:ok', 'put:conditionFailed', 'put:ok', 'get:ok']);
    });
  });

  it('snapshot copies everything in key order; restore replaces the content without change records', async () => {
    const t = new MemoryTable({ name: 'state' });
    await t.batchPut([{ pk: 'B', sk: '1' }, item('z', { n: [1] }), item('a')]);
    const snap = t.snapshot();
    expect(snap.map((i) => `${i.pk}/${i.sk}`)).toEqual(['B/1', 'P/a', 'P/z']);
    (snap[2]?.n as number[]).push(2);
    await t.put(item('later'), conditions.none);
    const changes: TableChange[] = [];
    t.onChange((c) => changes.push(c));
    t.restore(t.snapshot().filter((i) => i.sk !== 'later'));
    expect(t.snapshot()).toEqual([{ pk: 'B', sk: '1' }, item('a'), item('z', { n: [1] })]);
    expect(changes).toEqual([]);
    await t.put(item('next'), conditions.none);
    expect(changes[0]?.seq).toBe(5);
    expect(t.name).toBe('state');
  });
});
