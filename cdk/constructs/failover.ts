/**
 * Failover: the failover function on the state table's stream, filtered to the item types it
 * consumes (FAILOVER_STREAM_TYPES), with partial batch failures, bisection, bounded retries and
 * an encrypted on-failure queue.
 */
import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FAILOVER_STREAM_TYPES } from '../../shared/store/table.js';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';
import { acknowledgeLate, grantStateTable, nagRender } from './least-privilege.js';

/** Props of {@link Failover}. */
export interface FailoverProps {
  /** The shared resources; `shared.table` must have a stream. */
  readonly shared: SharedResources;
  /** @default 10 */
  readonly batchSize?: number;
  /** Retries of a failing batch (after bisection) before it goes to the DLQ. @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this go to the DLQ. @default Duration.hours(1) */
  readonly maxRecordAge?: Duration;
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
}

/** The stream filter patterns: only records whose new image is one of FAILOVER_STREAM_TYPES. */
export function failoverStreamFilter(): Record<string, unknown> {
  return FilterCriteria.filter({ dynamodb: { NewImage: { type: { S: [...FAILOVER_STREAM_TYPES] } } } });
}

/** The stream-triggered failover. */
export class Failover extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;
  /** Records that failed past the retries (encrypted, TLS-only). */
  readonly dlq: Queue;

  constructor(scope: Construct, id: string, props: FailoverProps) {
    super(scope, id);
    const { shared } = props;
    this.fn = new ControllerFunction(this, 'Failover', {
      name: 'failover',
      description:
        "Triggered by the state table's stream (health transitions, site roles, director status): elects each affected group's serving concentrator and re-points its branches. Not for manual use.",
      shared,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 1024,
    }).fn;
    grantStateTable(shared.table, this.fn, 'failover', shared.config);
    // Powertools' DynamoDBPersistenceLayer: get, conditional put, update and delete of a record.
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [shared.idempotencyTable.tableArn],
      }),
    );
    shared.secret.grantRead(this.fn);
    grantPublish(shared.topic, this.fn);

    this.dlq = new Queue(this, 'Dlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself the dead-letter destination of the failover stream's event source mapping (on-failure destination), so it needs no DLQ of its own.",
    });

    // The mapping without DynamoEventSource, whose grant adds dynamodb:ListStreams on "*": the
    // stream actions here are scoped to this table's streams (as AWS's own example policy does).
    const streamArn = shared.table.tableStreamArn;
    if (!streamArn) throw new Error(`${shared.table.node.path}: the state table needs a stream`);
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [streamArn],
      }),
    );
    const streams = `${shared.table.tableArn}/stream/*`;
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: [streams] }));
    const fn = this.fn;
    acknowledgeLate(this, () => [
      {
        scope: fn,
        id: `AwsSolutions-IAM5[Resource::${nagRender(Stack.of(fn).resolve(streams))}]`,
        reason:
          "dynamodb:ListStreams on the state table's own streams (a stream ARN ends in its creation time, unknown at synth).",
      },
    ]);
    // The id DynamoEventSource used, so the deployed mapping keeps its logical ID.
    this.fn.addEventSourceMapping(`DynamoDBEventSource:${Names.nodeUniqueId(shared.table.node)}`, {
      eventSourceArn: streamArn,
      startingPosition: StartingPosition.LATEST,
      batchSize: props.batchSize ?? 10,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: props.retryAttempts ?? 5,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.dlq),
      filters: [failoverStreamFilter()],
    });
  }
}
