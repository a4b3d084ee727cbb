// cdk/assembly.ts: the table, stream filter and schedules the sandbox takes from the templates.
import {
  functionNamesFromTemplate,
  rateToMs,
  schedulesFromTemplate,
  streamFilterFromTemplate,
  streamMappingsFromTemplate,
  synthTemplates,
  tableFromTemplate,
  type SynthesizedTemplates,
} from '../../cdk/assembly.js';
import { loadConfigFile } from '../../shared/config/load.js';
import { ValidationError } from '../../shared/errors.js';
import { FAILOVER_STREAM_TYPES, TABLE_KEYS } from '../../shared/store/table.js';

let synth: SynthesizedTemplates;
beforeAll(() => {
  synth = synthTemplates('example');
});

test('synthTemplates returns both stacks of the named configuration', () => {
  expect(synth.config.env).toBe('example');
  expect(synth.stackNames).toEqual({
    stateful: 'CpeFailover-example-Stateful',
    stateless: 'CpeFailover-example-Stateless',
  });
  expect(Object.keys(synth.stateful.Resources).length).toBeGreaterThan(0);
  expect(Object.keys(synth.stateless.Resources).length).toBeGreaterThan(0);
});

test('tableFromTemplate: the state table as CreateTable input with its TTL attribute', () => {
  const def = tableFromTemplate(synth.stateful, { tableName: 'local-state' });
  expect(def.createTable).toEqual({
    TableName: 'local-state',
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  });
  expect(def.timeToLiveAttribute).toBe(TABLE_KEYS.ttlAttribute);
  expect(synth.stateful.Resources[def.logicalId]?.Type).toBe('AWS::DynamoDB::Table');
});

test('tableFromTemplate: the idempotency table', () => {
  const def = tableFromTemplate(synth.stateful, { kind: 'idempotency', tableName: 'local-idem' });
  expect(def.createTable.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
  expect(def.createTable.StreamSpecification).toBeUndefined();
  expect(def.timeToLiveAttribute).toBe('expiration');
});

test('tableFromTemplate: a template without the table is a ValidationError', () => {
  expect(() => tableFromTemplate(synth.stateless)).toThrow(ValidationError);
});

test('streamFilterFromTemplate: the failover mapping filter, as Lambda receives it', () => {
  const filter = streamFilterFromTemplate(synth.stateless);
  expect(filter.Filters.map((f) => JSON.parse(f.Pattern))).toEqual([
    { dynamodb: { NewImage: { type: { S: [...FAILOVER_STREAM_TYPES] } } } },
  ]);
  const [mapping] = streamMappingsFromTemplate(synth.stateless);
  expect(mapping).toMatchObject({
    function: 'failover',
    bisectBatchOnFunctionError: true,
    reportBatchItemFailures: true,
    startingPosition: 'LATEST',
  });
  expect(() => streamFilterFromTemplate(synth.stateless, 'status')).toThrow(/EventSourceMapping/);
});

test('schedulesFromTemplate: the health check every minute', () => {
  const schedules = schedulesFromTemplate(synth.stateless);
  const health = schedules.filter((s) =>
    s.targets.some((t) => t.kind === 'function' && t.name === 'health-check'),
  );
  expect(health).toEqual([
    expect.objectContaining({ expression: 'rate(1 minute)', rateMs: 60_000, enabled: true }),
  ]);
});

test('functionNamesFromTemplate names every function', () => {
  expect(Object.values(functionNamesFromTemplate(synth.stateless))).toEqual(
    expect.arrayContaining(['health-check', 'failover', 'update-branches', 'pin', 'unpin', 'status']),
  );
});

test('rateToMs', () => {
  expect(rateToMs('rate(1 minute)')).toBe(60_000);
  expect(rateToMs('rate(5 minutes)')).toBe(300_000);
  expect(rateToMs('rate(2 hours)')).toBe(7_200_000);
  expect(rateToMs('rate(1 day)')).toBe(86_400_000);
  expect(rateToMs('cron(0 12 * * ? *)')).toBeUndefined();
});

test('synthTemplates takes a validated configuration too (the sandbox configuration)', () => {
  const config = loadConfigFile('sandbox');
  const other = synthTemplates(config);
  expect(other.stackNames.stateful).toBe('CpeFailover-sandbox-Stateful');
  const fnEnv = Object.values(other.stateless.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!
    .Properties!.Environment as { Variables: Record<string, string> };
  expect(JSON.parse(fnEnv.Variables.CPE_FAILOVER_CONFIG!)).toEqual(config);
});
