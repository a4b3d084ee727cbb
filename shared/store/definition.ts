/**
 * The state table as a DynamoDB CreateTable input, built from {@link TABLE_KEYS}: what the tests
 * and the sandbox create on DynamoDB Local (the CDK construct builds the same table from
 * TABLE_KEYS; later the sandbox reads the synthesized template instead).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TimeToLiveSpecification,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from './table.js';

/** CreateTable input: `pk`/`sk` strings, on-demand billing, stream NEW_AND_OLD_IMAGES. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

/** The TTL setting: audit events (and the DR lock) expire at `expiresAt` (epoch seconds). */
export const TABLE_TTL: TimeToLiveSpecification = {
  AttributeName: TABLE_KEYS.ttlAttribute,
  Enabled: true,
};

/**
 * Create a table from a definition (default {@link tableDefinition}), enable its TTL (`null`: no
 * TTL) and wait until it is ACTIVE. For DynamoDB Local (tests, sandbox); AWS tables come from the
 * CDK app.
 */
export async function createTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
  ttl: TimeToLiveSpecification | null | undefined = TABLE_TTL,
): Promise<void> {
  await client.send(new CreateTableCommand(definition));
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i > 200) throw new Error(`table ${definition.TableName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (ttl) {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: definition.TableName, TimeToLiveSpecification: ttl }),
    );
  }
}
