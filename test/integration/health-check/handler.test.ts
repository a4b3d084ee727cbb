/**
 * The health-check Lambda handler through its middy/Powertools stack, with its dependencies built
 * from the environment (CPE_FAILOVER_CONFIG, TABLE_NAME, DYNAMODB_ENDPOINT, CPE_FAILOVER_API_KEY)
 * against DynamoDB Local and the simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../../shared/errors.js';
import {
  createHealthCheckHandler,
  resetHealthCheckContainer,
} from '../../../functions/health-check/handler.js';
import { localContext } from '../../../local/sandbox/core-parts.js';
import { startLabFunctions, type LabFunctions } from '../../helpers/lab.js';
import { LAB_GROUP } from './harness.js';

const scheduled = JSON.parse(
  readFileSync(new URL('../../../functions/health-check/events/scheduled.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

let lab: LabFunctions;
beforeAll(async () => {
  lab = await startLabFunctions('handler', {
    env: 'test',
    // recoverAfterSec 0: UP on the first clean sample. A hold measured in real milliseconds made the
    // UP depend on the machine's speed (rounds are due from the run's start, so after a slow
    // inventory load they run back to back, less than the hold apart).
    health: { sampleIntervalSec: 0.02, samplesPerRun: 3, recoverAfterSec: 0 },
  });
  resetHealthCheckContainer();
});
afterAll(async () => {
  resetHealthCheckContainer();
  await lab.stop();
});

describe('health-check handler', () => {
  it('runs a health check for the sample scheduled event and writes what it saw', async () => {
    const handler = createHealthCheckHandler();
    const result = await handler(scheduled, localContext('health-check', 60_000));
    expect(result.rounds).toBe(3);
    expect(result.targets).toBe(3);
    expect(result.samples).toBe(3 * (3 + 2));
    expect(result.transitions.map((t) => `${t.target}:${t.to}`).sort()).toEqual([
      'DR:UP',
      'HA_DC1:UP',
      'HA_DC2:UP',
    ]);
    const { Items } = await lab.table.doc.send(
      new QueryCommand({
        TableName: lab.table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `HEALTH#${LAB_GROUP}` },
      }),
    );
    expect(Items?.map((i) => i.health)).toEqual(['UP', 'UP', 'UP']);
  });

  it('rejects an event that is not an object, naming the field, and changes nothing', async () => {
    const handler = createHealthCheckHandler();
    const before = lab.sim.requests.length;
    await expect(handler('tick' as never, localContext('health-check', 60_000))).rejects.toThrow(
      ValidationError,
    );
    await expect(
      handler({ ...scheduled, samplesPerRun: -1 }, localContext('health-check', 60_000)),
    ).rejects.toThrow(/samplesPerRun=-1/);
    expect(lab.sim.requests.length).toBe(before);
  });
});
