/**
 * DynamoDB clients. In AWS the SDK's defaults apply; when `DYNAMODB_ENDPOINT` is set (sandbox,
 * tests) the clients talk to that endpoint (DynamoDB Local) with placeholder credentials if none
 * are configured. One client per container: module-level cache keyed by endpoint.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A low-level client and the DocumentClient over it. */
export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/** Options of {@link createDynamoClients}. */
export interface DynamoClientOptions {
  /** Endpoint URL. @default process.env.DYNAMODB_ENDPOINT, else AWS */
  endpoint?: string;
  /** Region. @default process.env.AWS_REGION, else `us-east-1` for a local endpoint */
  region?: string;
  /** SDK attempts per call (throttling, 5xx). @default the SDK's (3) */
  maxAttempts?: number;
}

/** Build fresh clients (tests, the sandbox). Lambda code uses {@link getDynamoClients}. */
export function createDynamoClients(options: DynamoClientOptions = {}): DynamoClients {
  const endpoint = options.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);
  const config: DynamoDBClientConfig = {};
  if (options.maxAttempts !== undefined) config.maxAttempts = options.maxAttempts;
  if (endpoint) {
    config.endpoint = endpoint;
    config.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    if (!process.env.AWS_ACCESS_KEY_ID)
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  } else if (options.region) {
    config.region = options.region;
  }
  const client = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, doc };
}

const cache = new Map<string, DynamoClients>();

/** The container's clients (created once per endpoint, reused across warm invocations). */
export function getDynamoClients(): DynamoClients {
  const key = process.env.DYNAMODB_ENDPOINT || 'aws';
  let clients = cache.get(key);
  if (!clients) {
    clients = createDynamoClients();
    cache.set(key, clients);
  }
  return clients;
}

/** The container's DocumentClient. */
export function getDocumentClient(): DynamoDBDocumentClient {
  return getDynamoClients().doc;
}
