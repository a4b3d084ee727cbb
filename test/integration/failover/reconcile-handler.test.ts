/**
 * The scheduled drift reconcile's real entry point (middy + Powertools, deps from the
 * environment) against DynamoDB Local and the lab topology on the simulator: a drifted branch
 * is moved back; a tenant that cannot be read fails the pass (the errors alarm) after the
 * others were reconciled.
 */
import { readFileSync } from 'node:fs';
import { DriftReconcileError } from '../../../shared/errors.js';
import { testContext } from '../../helpers/lambda-context.js';
import {
  LAB_GROUP,
  LAB_TENANT,
  saveLabHealth,
  startLabFunctions,
  type LabFunctions,
} from '../../helpers/lab.js';

const context = testContext('reconcile-it', 60_000);
let lab: LabFunctions;

beforeAll(async () => {
  lab = await startLabFunctions('reconcile', {
    env: 'it',
    // The second tenant does not exist on the director: listing it fails.
    tenants: [LAB_TENANT, 'no-such-tenant'],
  });
  await saveLabHealth(lab.repo, { HA_DC1: 'UP', HA_DC2: 'UP', DR: 'UP' });
  // HA_DC1 already serves (no change of serving, so nothing is published).
  await lab.repo.compareAndSetServing(LAB_GROUP, 0, {
    tenantId: LAB_TENANT,
    haName: 'Chennai',
    servingId: 'HA_DC1',
    epoch: 1,
    reason: 'test',
    alarms: [],
    changedAt: Date.now(),
  });
});

afterAll(() => lab.stop());

it('re-points a drifted branch, then fails the pass naming the tenant it could not read', async () => {
  lab.sim.world.driftBranch('BR1', 'HA_DC2');
  expect(lab.sim.world.currentTarget('BR1')).toBe('HA_DC2');
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
  expect(lab.sim.world.currentTarget('BR1')).toBe('HA_DC1');
  expect(lab.sim.world.currentTarget('BR2')).toBe('HA_DC1');
  const outcomes = await lab.repo.listBranchOutcomes(LAB_GROUP);
  expect(outcomes).toEqual([expect.objectContaining({ branchId: 'BR1', targetId: 'HA_DC1', result: 'ok' })]);
});
