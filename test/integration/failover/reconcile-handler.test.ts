/**
 * The scheduled drift reconcile's real entry point (middy + Powertools, deps from the
 * environment) against DynamoDB Local and the lab topology on the simulator: a drifted branch
 * is moved back; a tenant that cannot be read fails the pass (the errors alarm) after the
 * others were reconciled.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { DriftReconcileError } from '../../../shared/errors.js';
import { StateRepository } from '../../../shared/store/state-repo.js';
import { createZwanSimulator, SIM_API_KEY, type ZwanSimulator } from '../../../local/simulator/index.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import {
  LAB_GROUP,
  LAB_TENANT,
  saveLabHealth,
  setFunctionEnv,
  simDirectorConfig,
} from '../../helpers/lab.js';

const context = {
  functionName: 'reconcile-it',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
let table: TestTable;
let sim: ZwanSimulator;
let restoreEnv: () => void;

beforeAll(async () => {
  table = await createTestTable('reconcile');
  sim = await createZwanSimulator();
  restoreEnv = setFunctionEnv({
    TABLE_NAME: table.tableName,
    IDEMPOTENCY_TABLE_NAME: 'unused-by-reconcile',
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:000000000000:unused',
    CPE_FAILOVER_API_KEY: SIM_API_KEY,
    CPE_FAILOVER_CONFIG: JSON.stringify({
      env: 'it',
      // The second tenant does not exist on the director: listing it fails.
      director: simDirectorConfig(sim, [LAB_TENANT, 'no-such-tenant']),
    }),
  });
  const repo = new StateRepository(table.doc, table.tableName);
  await saveLabHealth(repo, { HA_DC1: 'UP', HA_DC2: 'UP', DR: 'UP' });
  // HA_DC1 already serves (no change of serving, so nothing is published).
  await repo.compareAndSetServing(LAB_GROUP, 0, {
    tenantId: LAB_TENANT,
    haName: 'Chennai',
    servingId: 'HA_DC1',
    epoch: 1,
    reason: 'test',
    alarms: [],
    changedAt: Date.now(),
  });
});

afterAll(async () => {
  restoreEnv();
  const { resetConfigCache } = await import('../../../shared/config/load.js');
  resetConfigCache();
  await sim.close();
  await table.drop();
});

it('re-points a drifted branch, then fails the pass naming the tenant it could not read', async () => {
  sim.world.driftBranch('BR1', 'HA_DC2');
  expect(sim.world.currentTarget('BR1')).toBe('HA_DC2');
  const { handler } = await import('../../../functions/reconcile/handler.js');
  const event = JSON.parse(readFileSync('functions/reconcile/events/scheduled.json', 'utf8'));

  const failure = await handler(event, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(DriftReconcileError);
  expect((failure as Error).message).toMatch(/no-such-tenant/);
  expect((failure as Error).message).toMatch(/re-pointed in this pass: 1/);
  // The readable tenant was reconciled all the same.
  expect(sim.world.currentTarget('BR1')).toBe('HA_DC1');
  expect(sim.world.currentTarget('BR2')).toBe('HA_DC1');
  const outcomes = await new StateRepository(table.doc, table.tableName).listBranchOutcomes(LAB_GROUP);
  expect(outcomes).toEqual([expect.objectContaining({ branchId: 'BR1', targetId: 'HA_DC1', result: 'ok' })]);
});
