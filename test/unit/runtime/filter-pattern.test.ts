import type { DynamoDBRecord } from 'aws-lambda';
import { ValidationError } from '../../../shared/errors.js';
import {
  compileFilterCriteria,
  matchesPattern,
  parsePattern,
} from '../../../local/runtime/filter-pattern.js';

/** A Lambda-shaped stream record of one item. */
function record(newImage: Record<string, unknown> | undefined, eventName = 'MODIFY'): DynamoDBRecord {
  return {
    eventID: '1',
    eventName: eventName as DynamoDBRecord['eventName'],
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      Keys: { pk: { S: 'HEALTH#t#g' }, sk: { S: 'dc1' } },
      ...(newImage ? { NewImage: newImage as never } : {}),
      SequenceNumber: '100',
      SizeBytes: 10,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}
const health = record({
  type: { S: 'cpe-health' },
  health: { S: 'DOWN' },
  version: { N: '7' },
  site: { S: 'DC' },
});
const group = record({ type: { S: 'group' }, epoch: { N: '2' } });
const removed = record(undefined, 'REMOVE');

const matches = (pattern: unknown, r: unknown) => matchesPattern(parsePattern(JSON.stringify(pattern)), r);

describe('filter patterns (Lambda event filtering)', () => {
  it('matches exact values on nested DynamoDB JSON, any of several values', () => {
    const byType = { dynamodb: { NewImage: { type: { S: ['cpe-health', 'site', 'director'] } } } };
    expect(matches(byType, health)).toBe(true);
    expect(matches(byType, group)).toBe(false);
    expect(matches(byType, removed)).toBe(false);
    expect(matches({ eventName: ['INSERT', 'MODIFY'] }, health)).toBe(true);
    expect(matches({ eventName: ['INSERT'] }, health)).toBe(false);
  });

  it('requires every key of the pattern (AND)', () => {
    const p = {
      eventName: ['MODIFY'],
      dynamodb: { NewImage: { health: { S: ['DOWN'] }, site: { S: ['DR'] } } },
    };
    expect(matches(p, health)).toBe(false);
    expect(
      matches({ ...p, dynamodb: { NewImage: { health: { S: ['DOWN'] }, site: { S: ['DC'] } } } }, health),
    ).toBe(true);
  });

  it('supports prefix, suffix, equals-ignore-case and anything-but', () => {
    expect(matches({ dynamodb: { Keys: { pk: { S: [{ prefix: 'HEALTH#' }] } } } }, health)).toBe(true);
    expect(matches({ dynamodb: { Keys: { pk: { S: [{ prefix: 'GROUPS' }] } } } }, health)).toBe(false);
    expect(matches({ dynamodb: { Keys: { sk: { S: [{ suffix: 'c1' }] } } } }, health)).toBe(true);
    expect(
      matches({ dynamodb: { NewImage: { health: { S: [{ 'equals-ignore-case': 'down' }] } } } }, health),
    ).toBe(true);
    const notGroup = { dynamodb: { NewImage: { type: { S: [{ 'anything-but': ['group', 'audit'] }] } } } };
    expect(matches(notGroup, health)).toBe(true);
    expect(matches(notGroup, group)).toBe(false);
    // anything-but needs the field to exist.
    expect(matches(notGroup, removed)).toBe(false);
    expect(matches({ eventName: [{ 'anything-but': { prefix: 'MOD' } }] }, health)).toBe(false);
    expect(matches({ eventName: [{ 'anything-but': 'REMOVE' }] }, health)).toBe(true);
  });

  it('exists works on leaves only, and exists:false matches a missing leaf', () => {
    expect(matches({ dynamodb: { NewImage: { health: { S: [{ exists: true }] } } } }, health)).toBe(true);
    expect(matches({ dynamodb: { NewImage: { health: { S: [{ exists: true }] } } } }, group)).toBe(false);
    expect(matches({ dynamodb: { NewImage: { health: { S: [{ exists: false }] } } } }, group)).toBe(true);
    // `health` is an intermediate node ({S: …}), not a leaf.
    expect(matches({ dynamodb: { NewImage: { health: [{ exists: true }] } } }, health)).toBe(false);
    expect(matches({ dynamodb: { NewImage: [{ exists: false }] } }, removed)).toBe(true);
  });

  it('compares numbers, DynamoDB N strings included', () => {
    expect(
      matches({ dynamodb: { NewImage: { version: { N: [{ numeric: ['>', 5, '<=', 7] }] } } } }, health),
    ).toBe(true);
    expect(matches({ dynamodb: { NewImage: { version: { N: [{ numeric: ['>', 7] }] } } } }, health)).toBe(
      false,
    );
    expect(matches({ dynamodb: { NewImage: { version: { N: [7] } } } }, health)).toBe(true);
    expect(matches({ dynamodb: { SizeBytes: [{ numeric: ['=', 10] }] } }, health)).toBe(true);
    // A string that is not under N is not a number.
    expect(matches({ dynamodb: { SequenceNumber: [{ numeric: ['=', 100] }] } }, health)).toBe(false);
  });

  it('matches null, empty strings, and array values element-wise', () => {
    const r = { a: null, b: '', c: ['x', 'y'] };
    expect(matches({ a: [null] }, r)).toBe(true);
    expect(matches({ b: [''] }, r)).toBe(true);
    expect(matches({ c: ['y'] }, r)).toBe(true);
    expect(matches({ c: ['z'] }, r)).toBe(false);
    expect(matches({ a: [null] }, {})).toBe(false);
  });

  it('compiles filter criteria: any filter may match; none given lets everything through', () => {
    const criteria = {
      Filters: [
        { Pattern: JSON.stringify({ dynamodb: { NewImage: { type: { S: ['cpe-health'] } } } }) },
        { Pattern: JSON.stringify({ eventName: ['REMOVE'] }) },
      ],
    };
    const pass = compileFilterCriteria(criteria);
    expect([health, group, removed].map(pass)).toEqual([true, false, true]);
    const cdk = compileFilterCriteria({ filters: [{ pattern: criteria.Filters[0]!.Pattern }] });
    expect([health, group].map(cdk)).toEqual([true, false]);
    expect(compileFilterCriteria(undefined)(group)).toBe(true);
    expect(compileFilterCriteria({ Filters: [] })(group)).toBe(true);
  });

  it('rejects invalid patterns with the path and value', () => {
    expect(() => parsePattern('{not json', 'Filters[0].Pattern')).toThrow(ValidationError);
    expect(() => parsePattern('{"a": "x"}')).toThrow(/Pattern\.a="x": expected an array of conditions/);
    expect(() => parsePattern('{"a": [{"wildcard": "x*"}]}')).toThrow(/Pattern\.a\[0\]/);
    expect(() => parsePattern('{"a": [{"numeric": [">", "5"]}]}')).toThrow(/numeric/);
    expect(() => compileFilterCriteria({ Filters: [{}] })).toThrow(/Filters\[0\]\.Pattern/);
  });
});
