import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ValidationError } from '../../../shared/errors.js';
import { triggerOf } from '../../../shared/failover/stream.js';

function record(oldImage?: Record<string, unknown>, newImage?: Record<string, unknown>): DynamoDBRecord {
  const img = newImage ?? oldImage ?? {};
  return {
    eventName: oldImage && newImage ? 'MODIFY' : newImage ? 'INSERT' : 'REMOVE',
    dynamodb: {
      Keys: marshall({ pk: img.pk, sk: img.sk }) as never,
      ...(oldImage ? { OldImage: marshall(oldImage) as never } : {}),
      ...(newImage ? { NewImage: marshall(newImage) as never } : {}),
      SequenceNumber: '1',
    },
  };
}

const health = (h: string, extra: Record<string, unknown> = {}) => ({
  pk: 'HEALTH#t1#Chennai',
  sk: 'DC1',
  type: 'cpe-health',
  health: h,
  ...extra,
});

describe('triggerOf', () => {
  it('maps a health transition to its group', () => {
    expect(triggerOf(record(health('UP'), health('DOWN')))).toMatchObject({
      scope: 'group',
      groupKey: 't1#Chennai',
    });
  });
  it('reads health nested in the hysteresis state too', () => {
    const nested = (h: string) => ({
      pk: 'HEALTH#t1#A#B',
      sk: 'DC1',
      type: 'cpe-health',
      state: { health: h },
    });
    expect(triggerOf(record(nested('UP'), nested('DOWN')))).toMatchObject({ groupKey: 't1#A#B' });
  });
  it('ignores hysteresis progress without a change of health', () => {
    expect(triggerOf(record(health('UP', { version: 1 }), health('UP', { version: 2 })))).toMatchObject({
      scope: 'none',
    });
  });
  it('maps site-role and director reachability changes to every group', () => {
    const site = (role: string) => ({ pk: 'SITES', sk: 'DC', type: 'site', role });
    const dir = (reachable: boolean) => ({ pk: 'DIRECTORS', sk: 'DC', type: 'director', reachable });
    expect(triggerOf(record(site('ACTIVE'), site('PASSIVE')))).toMatchObject({ scope: 'all' });
    expect(triggerOf(record(dir(true), dir(false)))).toMatchObject({ scope: 'all' });
    expect(triggerOf(record(undefined, site('ACTIVE')))).toMatchObject({ scope: 'all' });
  });
  it('ignores other item types', () => {
    expect(triggerOf(record(undefined, { pk: 'GROUPS', sk: 'x', type: 'group', epoch: 1 }))).toMatchObject({
      scope: 'none',
    });
  });
  it('rejects a record without keys, naming the field', () => {
    expect(() => triggerOf({ dynamodb: {} })).toThrow(ValidationError);
    expect(() => triggerOf({ dynamodb: {} })).toThrow(/dynamodb\.Keys/);
  });
});
