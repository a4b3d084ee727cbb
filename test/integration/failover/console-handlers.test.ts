/**
 * The console functions' real entry points (middy + Powertools, deps from the environment)
 * against DynamoDB Local and the simulator: what an operator's console test event does.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../../shared/errors.js';
import { testContext } from '../../helpers/lambda-context.js';
import { saveLabHealth, startLabFunctions, type LabFunctions } from '../../helpers/lab.js';

const context = testContext('console-it', 30_000);
let lab: LabFunctions;

beforeAll(async () => {
  lab = await startLabFunctions('console', { env: 'it' });
  await saveLabHealth(lab.repo, { HA_DC1: 'DOWN', HA_DC2: 'UP' });
});

afterAll(() => lab.stop());

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
    expect(lab.sim.requests.some((r) => r.operation === 'repointBranch')).toBe(false);
    expect(await lab.repo.getGroup('lab-tenant#Chennai')).toBeUndefined();
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
    expect(await lab.repo.listDirectorStates()).toEqual([]);
  });

  it('with the sample event, says there is nothing to acknowledge when the monitor is not blind', async () => {
    const { handler } = await import('../../../functions/ack-monitor-blind/handler.js');
    const event = JSON.parse(readFileSync('functions/ack-monitor-blind/events/acknowledge.json', 'utf8'));
    const out = await handler(event, context);
    expect(out).toMatchObject({ acknowledged: false, stillBlind: false, heldGroups: [] });
  });
});
