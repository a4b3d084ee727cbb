/**
 * The stateful stack: everything that holds data and must outlive a redeploy of the functions.
 * Every resource here is retained when the stack is deleted (the idempotency table excepted:
 * it holds only short-lived replay guards).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
  type IBucket,
} from 'aws-cdk-lib/aws-s3';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { Config } from '../shared/config/schema.js';
import { TABLE_KEYS } from '../shared/store/table.js';

/** Key attribute and TTL attribute of the Powertools idempotency table (Powertools' defaults). */
export const IDEMPOTENCY_TABLE_KEYS = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;

/** Props of {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  /** The validated configuration. */
  readonly config: Config;
  /**
   * Days after which a non-current version of a backup object is deleted (not before its
   * Object Lock retention ends).
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * The backup retention: the Object Lock default retention (governance mode) of every object
   * written to the backup bucket. Within it no one without s3:BypassGovernanceRetention (which
   * the controller does not have) can delete or overwrite that object version.
   * @default config `backup.retentionDays` (90)
   */
  readonly backupRetentionDays?: number;
  /**
   * Days after which server access log objects are deleted.
   * @default 365
   */
  readonly accessLogExpirationDays?: number;
}

/** The table, idempotency table, backup bucket, topic and director secret reference. */
export class StatefulStack extends Stack {
  /** The state table (pk/sk, stream NEW_AND_OLD_IMAGES, TTL `expiresAt`). */
  readonly table: Table;
  /** Powertools idempotency records (key `id`, TTL `expiration`). */
  readonly idempotencyTable: Table;
  /** Director backups (MSP configuration, `dcrepository/`, `drrepository/`). */
  readonly bucket: Bucket;
  /** Server access logs of the backup bucket. */
  readonly accessLogBucket: IBucket;
  /** Notifications and alarm actions (KMS-encrypted). */
  readonly topic: Topic;
  /** The project's customer-managed key: the topic and the backup bucket (CloudWatch alarms may use it). */
  readonly topicKey: Key;
  /** The director credentials secret, created by the operator (see the runbook). */
  readonly secret: ISecret;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.table = new Table(this, 'StateTable', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: IDEMPOTENCY_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: IDEMPOTENCY_TABLE_KEYS.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogExpirationDays ?? 365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would loop.',
    });
    this.accessLogBucket = accessLogBucket;

    // The project's customer-managed key (construct id kept: renaming it would replace the key).
    // CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key; the backup bucket
    // is encrypted with it too.
    this.topicKey = new Key(this, 'TopicKey', {
      description: `cpe-failover ${config.env}: notifications topic and director backup bucket`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch (alarm actions on the encrypted topic), only for this account's alarms in this
    // region (aws:SourceAccount, aws:SourceArn: no confused deputy).
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    this.bucket = new Bucket(this, 'BackupBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.topicKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      // Write once: a delete (Case1 cleanup, drill) only adds a delete marker; every version is
      // kept for the backup retention, whoever asks (governance mode: only a principal with
      // s3:BypassGovernanceRetention, never the controller, can shorten it).
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.governance(
        Duration.days(props.backupRetentionDays ?? props.config.backup.retentionDays),
      ),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogBucket,
      serverAccessLogsPrefix: 'backup-bucket/',
      lifecycleRules: [
        {
          id: 'noncurrent-versions',
          noncurrentVersionTransitions: [
            { storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
          ],
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 90),
        },
        { id: 'incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.topic = new Topic(this, 'Topic', {
      displayName: `cpe-failover ${config.env}`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    for (const email of config.notifications.emails) {
      this.topic.addSubscription(new EmailSubscription(email));
    }

    this.secret = Secret.fromSecretNameV2(this, 'DirectorSecret', config.director.secretName);
  }
}
