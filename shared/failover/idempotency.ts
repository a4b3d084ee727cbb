/**
 * The idempotency table of the failover function (Powertools' default layout: key `id`, TTL
 * `expiration`). The CDK app creates the same table; tests and the sandbox create it on
 * DynamoDB Local from {@link idempotencyTableDefinition}.
 *
 * Only the failover function imports this module: the Powertools idempotency package (with its
 * JMESPath engine, ~37 KB minified) stays out of the console functions' bundles.
 */
import type {
  CreateTableCommandInput,
  DynamoDBClient,
  TimeToLiveSpecification,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { getDynamoClients } from '../store/dynamo.js';
import { FAILOVER_ENV, requireEnv } from './runtime.js';

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

/** The container's idempotency store (one per idempotent function), from `IDEMPOTENCY_TABLE_NAME`. */
export function idempotencyStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDBPersistenceLayer {
  return createIdempotencyStore(
    requireEnv(FAILOVER_ENV.idempotencyTableName, env),
    getDynamoClients().client,
  );
}
