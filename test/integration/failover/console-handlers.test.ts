/**
 * The console functions' real entry points (middy + Powertools, deps from the environment)
 * against DynamoDB Local and the simulator: what an operator's console test event does.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../../shared/errors.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { createZwanSimulator, SIM_API_KEY, type ZwanSimulator } from '../../../local/simulator/index.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { LAB_TENANT, saveLabHealth, setFunctionEnv, simDirectorConfig } from '../../helpers/lab.js';

const context = {
  functionName: 'console-it',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;
let table: TestTable;
let sim: ZwanSimulator;
let restoreEnv: () => void;

beforeAll(async () => {
  table = await createTestTable('console');
  sim = await createZwanSimulator();
  restoreEnv = setFunctionEnv({
    TABLE_NAME: table.tableName,
    IDEMPOTENCY_TABLE_NAME: 'unused-by-console',
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:000000000000:unused',
    CPE_FAILOVER_API_KEY: SIM_API_KEY,
    CPE_FAILOVER_CONFIG: JSON.stringify({ env: 'it', director: simDirectorConfig(sim, [LAB_TENANT]) }),
  });
  await saveLabHealth(new StateRepository(table.doc, table.tableName), { HA_DC1: 'DOWN', HA_DC2: 'UP' });
});

afterAll(async () => {
  // Integration files share one process (--runInBand): leave the environment as found.
  restoreEnv();
  const { resetConfigCache } = await import('../../../shared/config/load.js');
  resetConfigCache();
  await sim.close();
  await table.drop();
});

describe('console functions (real handlers)', () => {
  it('status lists the lab group with candidates and their health', async () => {
    const { handler } = await import('../../../functions/status/handler.js');
    const event = JSON.parse(readFileSync('functions/status/events/all.json', 'utf8'));
    const out = (await handler(event, context)) as {
      groups: { groupKey: string; candidates: { id: string; health: string }[] }[];
    };
    expect(out.groups.map((g) => g.groupKey)).toEqual(['lab-tenant#Chennai']);
    expect(out.groups[0]?.candidates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'HA_DC1', health: 'DOWN' }),
        expect.objectContaining({ id: 'HA_DC2', health: 'UP' }),
      ]),
    );
  });

  it('update-branches dry run plans the move to HA_DC2 and changes nothing', async () => {
    const { handler } = await import('../../../functions/update-branches/handler.js');
    const out = (await handler({ tenantId: 'lab-tenant', dryRun: true }, context)) as {
      groups: { servingId: string; plan: { to: string }[] }[];
    };
    expect(out.groups[0]?.servingId).toBe('HA_DC2');
    expect(out.groups[0]?.plan.length).toBeGreaterThan(0);
    expect(out.groups[0]?.plan.every((p) => p.to === 'HA_DC2')).toBe(true);
    expect(sim.requests.some((r) => r.operation === 'repointBranch')).toBe(false);
    expect(
      await new StateRepository(table.doc, table.tableName).getGroup('lab-tenant#Chennai'),
    ).toBeUndefined();
  });

  it('a bad pin event is a ValidationError naming the field and value', async () => {
    const { handler } = await import('../../../functions/pin/handler.js');
    await expect(
      handler({ tenantId: 'lab-tenant', haName: 'Chennai', concentratorId: 'HA_DC2' }, context),
    ).rejects.toThrow(ValidationError);
    await expect(
      handler({ tenantId: 'lab-tenant', haName: 'Chennai', concentratorId: 'HA_DC2' }, context),
    ).rejects.toThrow(/reason=undefined/);
  });
});

describe('ack-monitor-blind (real handler)', () => {
  it('rejects an event without a reason, naming the field, and changes nothing', async () => {
    const { handler } = await import('../../../functions/ack-monitor-blind/handler.js');
    await expect(handler({ by: 'noc' }, context)).rejects.toThrow(ValidationError);
    await expect(handler({ reason: 'ok', acknowledge: true }, context)).rejects.toThrow(/acknowledge/);
    const repo = new StateRepository(table.doc, table.tableName);
    expect(await repo.listDirectorStates()).toEqual([]);
  });

  it('with the sample event, says there is nothing to acknowledge when the monitor is not blind', async () => {
    const { handler } = await import('../../../functions/ack-monitor-blind/handler.js');
    const event = JSON.parse(readFileSync('functions/ack-monitor-blind/events/acknowledge.json', 'utf8'));
    const out = await handler(event, context);
    expect(out).toMatchObject({ acknowledged: false, stillBlind: false, heldGroups: [] });
  });
});
