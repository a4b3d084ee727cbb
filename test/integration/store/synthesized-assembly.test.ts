/**
 * What the tests (and the sandbox) create locally is what the synthesized CDK app defines: the
 * tables on DynamoDB Local against the raw template resources (DescribeTable, DescribeTimeToLive),
 * and the failover stream filter against the raw event source mapping, applied to real stream
 * records.
 */
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CfnTemplate } from '../../../cdk/assembly.js';
import { keys } from '../../../shared/store/table.js';
import { failoverFilterCriteria, testAssembly } from '../../helpers/assembly.js';
import { createTestIdempotencyTable, createTestTable, type TestTable } from '../../helpers/ddb.js';
import { openStream } from '../failover/stream-records.js';

let table: TestTable;

beforeAll(async () => {
  table = await createTestTable('synth');
});

afterAll(async () => {
  await table.drop();
});

type KeyElement = { AttributeName?: string; KeyType?: string };
type AttributeDefinition = { AttributeName?: string; AttributeType?: string };

/** A table resource's properties in the raw template, by logical ID. */
function templateTable(template: CfnTemplate, logicalId: string) {
  const resource = template.Resources[logicalId];
  expect(resource?.Type).toBe('AWS::DynamoDB::Table');
  return resource?.Properties as {
    KeySchema: KeyElement[];
    AttributeDefinitions: AttributeDefinition[];
    BillingMode?: string;
    StreamSpecification?: { StreamViewType: string };
    TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
    GlobalSecondaryIndexes?: { IndexName: string; KeySchema: KeyElement[] }[];
  };
}

const byName = <T extends { AttributeName?: string }>(list: T[]) =>
  [...list].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));

/** DescribeTable + DescribeTimeToLive, reduced to what the template says. */
async function describeLocal(tableName: string) {
  const { Table } = await table.client.send(new DescribeTableCommand({ TableName: tableName }));
  const { TimeToLiveDescription } = await table.client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const t = Table as TableDescription;
  return {
    KeySchema: t.KeySchema,
    AttributeDefinitions: byName(t.AttributeDefinitions ?? []),
    BillingMode: t.BillingModeSummary?.BillingMode ?? 'PROVISIONED',
    StreamViewType: t.StreamSpecification?.StreamEnabled ? t.StreamSpecification.StreamViewType : undefined,
    TimeToLive:
      TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' ? TimeToLiveDescription.AttributeName : undefined,
    GlobalSecondaryIndexes: (t.GlobalSecondaryIndexes ?? []).map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
    })),
  };
}

function expected(p: ReturnType<typeof templateTable>) {
  return {
    KeySchema: p.KeySchema,
    AttributeDefinitions: byName(p.AttributeDefinitions),
    BillingMode: p.BillingMode ?? 'PROVISIONED',
    StreamViewType: p.StreamSpecification?.StreamViewType,
    TimeToLive: p.TimeToLiveSpecification?.Enabled ? p.TimeToLiveSpecification.AttributeName : undefined,
    GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes ?? []).map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
    })),
  };
}

describe('local tables and stream filter = the synthesized CDK app', () => {
  it('creates the state table as the stateful template defines it (keys, billing, stream, TTL)', async () => {
    const { templates, stateTable } = await testAssembly();
    const want = expected(templateTable(templates.stateful, stateTable.logicalId));
    expect(want).toMatchObject({ StreamViewType: 'NEW_AND_OLD_IMAGES', TimeToLive: 'expiresAt' });
    expect(await describeLocal(table.tableName)).toEqual(want);
  });

  it('creates the idempotency table as the stateful template defines it', async () => {
    const { templates, idempotencyTable } = await testAssembly();
    const name = await createTestIdempotencyTable(table.client);
    try {
      const want = expected(templateTable(templates.stateful, idempotencyTable.logicalId));
      expect(want.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
      expect(await describeLocal(name)).toEqual(want);
    } finally {
      await table.client.send(new DeleteTableCommand({ TableName: name }));
    }
  });

  it("uses the failover event source mapping's FilterCriteria from the stateless template", async () => {
    const { templates } = await testAssembly();
    const { Resources } = templates.stateless;
    const failoverFn = Object.keys(Resources).find(
      (id) =>
        Resources[id]?.Type === 'AWS::Lambda::Function' &&
        Resources[id]?.Metadata?.['cpe-failover:function'] === 'failover',
    );
    const mappings = Object.values(Resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties?.FunctionName).includes(`"${failoverFn}"`),
    );
    expect(failoverFn).toBeDefined();
    expect(mappings).toHaveLength(1);
    expect(await failoverFilterCriteria()).toEqual(mappings[0]?.Properties?.FilterCriteria);
  });

  it('drops the records of item types the failover function does not consume, and removals', async () => {
    const put = (item: Record<string, unknown>) =>
      table.doc.send(new PutCommand({ TableName: table.tableName, Item: item }));
    const all = await openStream(table.client, table.tableName, table.endpoint);
    const filtered = await openStream(
      table.client,
      table.tableName,
      table.endpoint,
      await failoverFilterCriteria(),
    );
    try {
      await put({ ...keys.group('t#g'), type: 'group', epoch: 1 });
      await put({ ...keys.health('t#g', 'cpe-1'), type: 'cpe-health', health: 'DOWN' });
      await put({ ...keys.branch('t#g', 'br-1'), type: 'branch', epoch: 1 });
      await put({ ...keys.site('DC'), type: 'site', role: 'ACTIVE' });
      await put({ ...keys.director('DC'), type: 'director', reachable: true });
      await table.doc.send(
        new DeleteCommand({ TableName: table.tableName, Key: keys.health('t#g', 'cpe-1') }),
      );
      const summary = (records: Awaited<ReturnType<typeof all.drain>>) =>
        records.map((r) => `${r.eventName} ${r.dynamodb?.NewImage?.type?.S ?? '-'}`);
      expect(summary(await all.drain())).toEqual([
        'INSERT group',
        'INSERT cpe-health',
        'INSERT branch',
        'INSERT site',
        'INSERT director',
        'REMOVE -',
      ]);
      expect(summary(await filtered.drain())).toEqual([
        'INSERT cpe-health',
        'INSERT site',
        'INSERT director',
      ]);
    } finally {
      all.close();
      filtered.close();
    }
  });
});
