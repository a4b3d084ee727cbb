/**
 * Failover: the failover function on the state table's stream, filtered to the item types it
 * consumes (FAILOVER_STREAM_TYPES), with partial batch failures, bisection, bounded retries and
 * an encrypted on-failure queue.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FAILOVER_STREAM_TYPES } from '../../shared/store/table.js';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';

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
    shared.table.grantReadWriteData(this.fn);
    shared.idempotencyTable.grantReadWriteData(this.fn);
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

    this.fn.addEventSource(
      new DynamoEventSource(shared.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: props.batchSize ?? 10,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: props.retryAttempts ?? 5,
        maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(this.dlq),
        filters: [failoverStreamFilter()],
      }),
    );
  }
}
