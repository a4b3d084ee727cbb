/**
 * The rehearsal task function's real entry point (functions/rehearsal/handler.ts) with the
 * environment the CDK app sets, on DynamoDB Local and the lab simulator: it builds its deps from
 * the environment, reads the director and the table, and keeps the named errors the state
 * machine's Catch matches on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import { LAB_TENANT, saveLabHealth, startLabFunctions, type LabFunctions } from '../../helpers/lab.js';
import { testContext } from '../../helpers/lambda-context.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let lab: LabFunctions;
let handler: Handler;
const context = testContext('rehearsal', 60_000);
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:cpe-failover-it-Rehearsal:e1';

beforeAll(async () => {
  lab = await startLabFunctions('rehearsal-fn', { env: 'it' });
  await saveLabHealth(lab.repo, { HA_DC1: 'UP', HA_DC2: 'UP', DR: 'UP' });
  ({ handler } = (await import('../../../functions/rehearsal/handler.js')) as { handler: Handler });
}, 60_000);
afterAll(() => lab.stop());

async function errorOf(event: unknown): Promise<Error> {
  try {
    await handler(event, context);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`accepted ${JSON.stringify(event)}`);
}

describe('rehearsal task function', () => {
  it('validateInput resolves the sample input window', async () => {
    const sample = JSON.parse(
      await readFile(join(PROJECT_ROOT, 'functions/rehearsal/events/lab-chennai.json'), 'utf8'),
    ) as unknown;
    const out = (await handler(
      { task: 'validateInput', executionId: EXECUTION, input: sample },
      context,
    )) as {
      notBefore: string;
      notAfter: string;
    };
    expect(Date.parse(out.notAfter) - Date.parse(out.notBefore)).toBe(60 * 60_000);
  });

  it('check reads the lab through the director and the table: no serving yet is a RehearsalRefusedError', async () => {
    const input = {
      tenantId: LAB_TENANT,
      haName: 'Chennai',
      notBefore: new Date().toISOString(),
      notAfter: new Date(Date.now() + 3_600_000).toISOString(),
      verifyTimeoutSec: 60,
      reason: 'r',
      requestedBy: 'b',
    };
    const e = await errorOf({ task: 'check', executionId: EXECUTION, state: { input } });
    expect([e.name, e.message]).toEqual([
      'RehearsalRefusedError',
      'rehearsal of lab-tenant#Chennai refused: the group has no serving concentrator yet',
    ]);
  });

  it('a payload naming no known task is a ValidationError naming the field and value', async () => {
    const e = await errorOf({ task: 'pin', executionId: EXECUTION });
    expect(e.name).toBe('ValidationError');
    expect(e.message).toContain('task="pin"');
  });
});
