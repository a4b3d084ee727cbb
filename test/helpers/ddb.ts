/**
 * Test fixtures on the emulators that test/global-setup.ts started: a fresh, uniquely named state
 * table per test file (or test) and a fresh bucket, so tests never see each other's data. Tables
 * are created as the synthesized CDK app defines them (./assembly.ts).
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLocalS3Client } from '../../local/emulators/s3.js';
import { createTableFromAssembly } from '../../local/runtime/local-assembly.js';
import { createDynamoClients, type DynamoClients } from '../../shared/store/dynamo.js';
import { testAssembly } from './assembly.js';

function requireEnv(name: 'DYNAMODB_ENDPOINT' | 'S3_ENDPOINT'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run this test in the integration project (test/global-setup.ts starts the emulators)`,
    );
  }
  return value;
}

/** A short unique suffix: lower-case letters and digits (valid in table and bucket names). */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A state table on DynamoDB Local with its clients. */
export interface TestTable extends DynamoClients {
  tableName: string;
  endpoint: string;
  /** Delete the table and release the clients' sockets. */
  drop(): Promise<void>;
}

/**
 * Create a fresh state table (the synthesized stateful stack's, TTL on) named `<name>-<unique>`.
 * `ttl: false` for tests on a simulated clock in the past: DynamoDB Local's TTL sweeper runs on
 * the real clock and would delete, at a moment of its choosing, items (the DR lock) whose
 * `expiresAt` the simulated clock set.
 */
export async function createTestTable(name = 'state', options: { ttl?: boolean } = {}): Promise<TestTable> {
  const endpoint = requireEnv('DYNAMODB_ENDPOINT');
  const tableName = `${name}-${uniqueSuffix()}`;
  const { stateTable } = await testAssembly();
  const clients = createDynamoClients({ endpoint });
  const table = options.ttl === false ? { ...stateTable, timeToLiveAttribute: undefined } : stateTable;
  await createTableFromAssembly(clients.client, table, tableName);
  return {
    ...clients,
    tableName,
    endpoint,
    drop: async () => {
      try {
        await clients.client.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        clients.client.destroy();
      }
    },
  };
}

/**
 * Create a fresh idempotency table (the synthesized stateful stack's, TTL on) named
 * `<name>-<unique>` with the given client; returns its name.
 */
export async function createTestIdempotencyTable(client: DynamoDBClient, name = 'idem'): Promise<string> {
  const tableName = `${name}-${uniqueSuffix()}`;
  await createTableFromAssembly(client, (await testAssembly()).idempotencyTable, tableName);
  return tableName;
}

/** A bucket on the S3 emulator with a client for it. */
export interface TestBucket {
  bucket: string;
  endpoint: string;
  client: S3Client;
}

/** Create a fresh bucket named `<name>-<unique>` on the S3 emulator. */
export async function createTestBucket(name = 'backups'): Promise<TestBucket> {
  const endpoint = requireEnv('S3_ENDPOINT');
  const bucket = `${name}-${uniqueSuffix()}`;
  const client = createLocalS3Client(endpoint);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, endpoint, client };
}
