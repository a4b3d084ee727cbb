/**
 * The idempotency table of the failover function (Powertools' default layout: key `id`, TTL
 * `expiration`). The CDK app creates the same table; tests and the sandbox create it on
 * DynamoDB Local from {@link idempotencyTableDefinition}.
 */
import type {
  CreateTableCommandInput,
  DynamoDBClient,
  TimeToLiveSpecification,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

/** Key and TTL attribute names (Powertools' defaults). */
export const IDEMPOTENCY_KEYS = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;

/** CreateTable input: `id` string key, on-demand billing. */
export function idempotencyTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_KEYS.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: IDEMPOTENCY_KEYS.partitionKey, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** TTL setting of the idempotency table. */
export const IDEMPOTENCY_TTL: TimeToLiveSpecification = {
  AttributeName: IDEMPOTENCY_KEYS.ttlAttribute,
  Enabled: true,
};

/** One persistence layer per idempotent function (sharing one makes every record the same key). */
export function createIdempotencyStore(tableName: string, client: DynamoDBClient): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
}
