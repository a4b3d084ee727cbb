/**
 * A slice of the whole-system checker against DynamoDB Local: the same schedules as the unit
 * tier, with the state table a real DynamoDB table, so every conditional write the repositories
 * make is judged by the real API (the change feed comes from the writes that landed).
 */
import { FeedTable } from '../../../local/sim/feed-table.js';
import { runSchedule } from '../../../local/sim/world-check.js';
import { DynamoTable } from '../../../shared/store/dynamo-table.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';

const SCHEDULES = Number(process.env.CHECK_DDB_SCHEDULES ?? 50);

describe('the checker on DynamoDB Local', () => {
  it(`${SCHEDULES} schedules: no invariant broken`, async () => {
    const failing: string[] = [];
    let changes = 0;
    for (let seed = 5_001; seed < 5_001 + SCHEDULES; seed++) {
      let t: TestTable | undefined;
      try {
        const r = await runSchedule(seed, {
          maxGroups: 4,
          maxBranches: 12,
          table: async (sched, hooks) => {
            t = await createTestTable('check');
            return new FeedTable(new DynamoTable(t.doc, t.tableName, sched.runtime()), sched, hooks);
          },
        });
        changes += r.stats.changes;
        for (const v of r.violations.slice(0, 1)) failing.push(`seed ${seed}: ${v.invariant}: ${v.message}`);
      } finally {
        await t?.drop();
      }
    }
    expect(failing).toEqual([]);
    // The slice exercised the store: serving changed (each a conditional write on the epoch).
    expect(changes).toBeGreaterThan(SCHEDULES);
  }, 900_000);
});
