/**
 * The VersionedTable port's contract, run against both implementations: the DynamoDB table (on
 * DynamoDB Local) and the in-memory table the whole-system checker uses. Whatever passes here
 * behaves the same over both, so repositories written against the port run unchanged on either.
 */
import { ConditionFailedError } from '../../../shared/errors.js';
import { DynamoTable } from '../../../shared/store/dynamo-table.js';
import { MemoryTable } from '../../../shared/store/memory-table.js';
import { conditions, type VersionedTable } from '../../../shared/store/versioned-table.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';

let dynamo: TestTable;
beforeAll(async () => {
  dynamo = await createTestTable('contract');
});
afterAll(async () => {
  await dynamo.drop();
});

const implementations: [string, () => VersionedTable][] = [
  ['DynamoTable (DynamoDB Local)', () => new DynamoTable(dynamo.doc, dynamo.tableName)],
  ['MemoryTable', () => new MemoryTable()],
];

let run = 0;

describe.each(implementations)('VersionedTable contract: %s', (_name, make) => {
  let table: VersionedTable;
  let pk: string;
  beforeEach(() => {
    table = make();
    pk = `C#${++run}`; // a fresh partition per test: the DynamoDB table is shared by the file
  });

  it('get: absent is undefined; a put item reads back whole, without its undefined attributes', async () => {
    expect(await table.get({ pk, sk: 'a' })).toBeUndefined();
    await table.put(
      { pk, sk: 'a', version: 1, nested: { list: [1, 'two', { three: true }], none: null }, gone: undefined },
      conditions.absent,
    );
    const got = await table.get<Record<string, unknown>>({ pk, sk: 'a' });
    expect(got).toEqual({
      pk,
      sk: 'a',
      version: 1,
      nested: { list: [1, 'two', { three: true }], none: null },
    });
    expect(got && 'gone' in got).toBe(false);
  });

  it('put: absent, version and attribute conditions; a failed condition changes nothing', async () => {
    const key = { pk, sk: 'a' };
    await table.put({ ...key, version: 1, owner: 'x' }, conditions.absent);
    await expect(table.put({ ...key, version: 1 }, conditions.absent)).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await expect(table.put({ ...key, version: 2 }, conditions.version(5))).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await expect(
      table.put({ ...key, version: 2 }, conditions.attribute('owner', 'y')),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await table.get(key)).toEqual({ ...key, version: 1, owner: 'x' });
    await table.put({ ...key, version: 2, owner: 'x' }, conditions.version(1));
    await table.put({ ...key, version: 3 }, conditions.attribute('owner', 'x'));
    expect(await table.get(key)).toEqual({ ...key, version: 3 });
    // Conditions on an absent item: version and attribute fail, none holds.
    await expect(table.put({ pk, sk: 'b', version: 1 }, conditions.version(0))).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await expect(table.put({ pk, sk: 'b' }, conditions.attribute('owner', 'x'))).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await table.put({ pk, sk: 'b', n: 1 }, conditions.none);
    await table.put({ pk, sk: 'b', n: 2 }, conditions.none);
    expect(await table.get({ pk, sk: 'b' })).toEqual({ pk, sk: 'b', n: 2 });
  });

  it('of concurrent puts conditional on one version exactly one lands', async () => {
    const key = { pk, sk: 'race' };
    await table.put({ ...key, version: 1 }, conditions.absent);
    const results = await Promise.allSettled(
      ['w1', 'w2', 'w3', 'w4'].map((by) => table.put({ ...key, version: 2, by }, conditions.version(1))),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`w${i + 1}`] : []));
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    expect(await table.get(key)).toEqual({ ...key, version: 2, by: won[0] });
  });

  it('delete: conditional on an attribute or version; deleting an absent item without condition is a no-op', async () => {
    const key = { pk, sk: 'lock' };
    await table.put({ ...key, owner: 'exec-A', version: 4 }, conditions.none);
    await expect(table.delete(key, conditions.attribute('owner', 'exec-B'))).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await expect(table.delete(key, conditions.version(3))).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await table.get(key)).toBeDefined();
    await table.delete(key, conditions.attribute('owner', 'exec-A'));
    expect(await table.get(key)).toBeUndefined();
    await table.delete(key, conditions.none);
    await expect(table.delete(key, conditions.attribute('owner', 'exec-A'))).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
  });

  it('query: sort keys in UTF-8 byte order, prefix, descending, limit; partitions are separate', async () => {
    const sks = ['b', 'a#2', 'a#10', 'A', '2026-03-01T10:00:00.000Z#x', '\u{ff5e}', '\u{1f600}', 'a#1'];
    for (const sk of sks) await table.put({ pk, sk }, conditions.none);
    await table.put({ pk: `${pk}#other`, sk: 'a#0' }, conditions.none);
    const ordered = ['2026-03-01T10:00:00.000Z#x', 'A', 'a#1', 'a#10', 'a#2', 'b', '\u{ff5e}', '\u{1f600}'];
    expect((await table.query(pk)).map((i) => i.sk)).toEqual(ordered);
    expect((await table.query(pk, { descending: true })).map((i) => i.sk)).toEqual([...ordered].reverse());
    expect((await table.query(pk, { skPrefix: 'a#' })).map((i) => i.sk)).toEqual(['a#1', 'a#10', 'a#2']);
    expect((await table.query(pk, { skPrefix: 'a#', descending: true, limit: 2 })).map((i) => i.sk)).toEqual([
      'a#2',
      'a#10',
    ]);
    expect((await table.query(pk, { limit: 3 })).map((i) => i.sk)).toEqual(ordered.slice(0, 3));
    expect(await table.query(`${pk}#none`)).toEqual([]);
  });

  it('batchPut: more than one batch of 25, replacing existing items', async () => {
    await table.put({ pk, sk: 'i00', old: true }, conditions.none);
    const items = Array.from({ length: 60 }, (_, i) => ({ pk, sk: `i${String(i).padStart(2, '0')}`, n: i }));
    await table.batchPut(items);
    const listed = await table.query(pk);
    expect(listed).toHaveLength(60);
    expect(listed[0]).toEqual({ pk, sk: 'i00', n: 0 });
    expect(listed[59]).toEqual({ pk, sk: 'i59', n: 59 });
    await table.batchPut([]);
  });
});
