/**
 * {@link VersionedTable} over DynamoDB (a DocumentClient, ./dynamo.ts): GetItem and Query with
 * ConsistentRead, PutItem/DeleteItem with a condition expression, BatchWriteItem in chunks of 25.
 * `ConditionalCheckFailedException` becomes {@link ConditionFailedError} (the SDK error as its
 * cause); every other error passes through unchanged.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, ConditionFailedError } from '../errors.js';
import { systemRuntime, type Runtime } from '../runtime.js';
import {
  describeCondition,
  type QueryOptions,
  type TableItem,
  type TableKey,
  type VersionedTable,
  type WriteCondition,
} from './versioned-table.js';

/** BatchWriteItem's limit of requests per call. */
const BATCH_SIZE = 25;
/** Rounds of re-sending unprocessed items before giving up. */
const BATCH_ROUNDS = 8;

/** The condition as DynamoDB expression parameters (empty for `none`). */
function conditionExpression(condition: WriteCondition): {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  switch (condition.kind) {
    case 'none':
      return {};
    case 'absent':
      return { ConditionExpression: 'attribute_not_exists(pk)' };
    case 'version':
      return {
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':v': condition.equals },
      };
    case 'attribute':
      return {
        ConditionExpression: '#a = :a',
        ExpressionAttributeNames: { '#a': condition.name },
        ExpressionAttributeValues: { ':a': condition.equals },
      };
  }
}

function isConditionalCheckFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException'
  );
}

/** The state table in DynamoDB, as the repositories' port. */
export class DynamoTable implements VersionedTable {
  /**
   * @param doc the container's DocumentClient (`removeUndefinedValues` on, as ./dynamo.ts builds it)
   * @param name the table name
   * @param runtime the backoff sleep between batch-write rounds comes from here
   */
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly name: string,
    private readonly runtime: Pick<Runtime, 'sleep'> = systemRuntime,
  ) {}

  async get<T extends object = TableItem>(key: TableKey): Promise<T | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.name, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }),
    );
    return Item as T | undefined;
  }

  async query<T extends object = TableItem>(pk: string, options: QueryOptions = {}): Promise<T[]> {
    const items: T[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    const prefix = options.skPrefix;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ...(prefix === undefined ? {} : { ':prefix': prefix }) },
          ConsistentRead: true,
          ScanIndexForward: !options.descending,
          ExclusiveStartKey: start,
          Limit: options.limit === undefined ? undefined : options.limit - items.length,
        }),
      );
      items.push(...((page.Items ?? []) as T[]));
      start = page.LastEvaluatedKey;
    } while (start && (options.limit === undefined || items.length < options.limit));
    return items;
  }

  async put(item: TableItem, condition: WriteCondition): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.name, Item: item, ...conditionExpression(condition) }),
      );
    } catch (error) {
      throw this.mapError(error, item, condition);
    }
  }

  async delete(key: TableKey, condition: WriteCondition): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.name,
          Key: { pk: key.pk, sk: key.sk },
          ...conditionExpression(condition),
        }),
      );
    } catch (error) {
      throw this.mapError(error, key, condition);
    }
  }

  /**
   * BatchWriteItem in chunks of 25; unprocessed items are re-sent with exponential backoff
   * (50 ms, 100 ms, …) for up to 8 rounds, then {@link ConcurrentUpdateError}.
   */
  async batchPut(items: readonly TableItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      let requests = items.slice(i, i + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round >= BATCH_ROUNDS) {
          throw new ConcurrentUpdateError(
            `table=${this.name}: ${requests.length} batch-written items still unprocessed after ${BATCH_ROUNDS} rounds`,
          );
        }
        if (round > 0) await this.runtime.sleep(25 * 2 ** round);
        const { UnprocessedItems } = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.name]: requests } }),
        );
        requests = (UnprocessedItems?.[this.name] ?? []) as typeof requests;
      }
    }
  }

  private mapError(error: unknown, key: TableKey, condition: WriteCondition): unknown {
    if (!isConditionalCheckFailure(error)) return error;
    return new ConditionFailedError(
      `${this.name} ${key.pk}/${key.sk}: condition failed: expected ${describeCondition(condition)}`,
      { cause: error },
    );
  }
}
