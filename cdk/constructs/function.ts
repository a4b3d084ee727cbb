/**
 * The one way this app builds a Lambda function: NodejsFunction bundled with the local esbuild
 * (no Docker), ESM, nodejs22.x on arm64, minified with source maps, Powertools environment, X-Ray
 * tracing and an explicit log group. The bundling options are exported so the bundle benchmark
 * builds exactly what is deployed.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, type CfnRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { ConfigError } from '../../shared/errors.js';
import { acknowledgeWildcards } from './least-privilege.js';

/** The project root (where package.json and package-lock.json live). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Every deployed function: its name (also the `cpe-failover:function` metadata on the
 * AWS::Lambda::Function resource) and its handler entry, relative to the project root.
 */
export const FUNCTION_ENTRIES = {
  'health-check': 'functions/health-check/handler.ts',
  failover: 'functions/failover/handler.ts',
  'update-branches': 'functions/update-branches/handler.ts',
  pin: 'functions/pin/handler.ts',
  unpin: 'functions/unpin/handler.ts',
  status: 'functions/status/handler.ts',
  'ack-monitor-blind': 'functions/ack-monitor-blind/handler.ts',
  reconcile: 'functions/reconcile/handler.ts',
  dr: 'functions/dr/handler.ts',
  rehearsal: 'functions/rehearsal/handler.ts',
  'concentrator-page': 'functions/concentrator-page/handler.ts',
} as const;
/** A deployed function's name. */
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/** Metadata key naming the function on its AWS::Lambda::Function resource (read by cdk/assembly.ts). */
export const FUNCTION_METADATA_KEY = 'cpe-failover:function';

/** Node.js major version of the Lambda runtime (nodejs22.x). */
export const NODE_MAJOR = 22;

/**
 * ESM output needs `require` for the CommonJS dependencies that call it on Node built-ins;
 * esbuild's shim throws "Dynamic require of … is not supported" without this banner.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cpeCreateRequire } from 'node:module'; const require = __cpeCreateRequire(import.meta.url);";

/**
 * `require('semver')` in a bundle gets only semver's `gte` (see cdk/bundling/semver-gte.cjs): the
 * X-Ray SDK's AWS SDK v2 patcher is the only bundled user and calls nothing else.
 */
export const SEMVER_ALIAS = resolve(PROJECT_ROOT, 'cdk', 'bundling', 'semver-gte.cjs');

/** The esbuild options of every function (the NodejsFunction bundling and the bundle benchmark). */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  target: `node${NODE_MAJOR}`,
  format: 'esm',
  mainFields: ['module', 'main'],
  /** Provided by the nodejs22.x runtime. */
  externalModules: ['@aws-sdk/*'],
  banner: ESM_REQUIRE_BANNER,
  /** Package name → file the bundle uses instead (esbuild `alias`). */
  alias: { semver: SEMVER_ALIAS },
  /**
   * Legal comments go to index.mjs.LEGAL.txt beside the bundle (in the asset), not into the
   * bundle: today they are only Powertools' `@preserve` coverage hints.
   */
  legalComments: 'external',
} as const;

/** Environment variable names every function gets. */
export const FUNCTION_ENV = {
  tableName: 'TABLE_NAME',
  idempotencyTableName: 'IDEMPOTENCY_TABLE_NAME',
  topicArn: 'TOPIC_ARN',
  bucketName: 'BUCKET_NAME',
  /** The validated configuration as JSON (no secret values: only the secret's name). */
  config: 'CPE_FAILOVER_CONFIG',
  /** The director secret's name (also inside the configuration). */
  secretName: 'DIRECTOR_SECRET_NAME',
} as const;

/** The resources every function is wired to (the stateful stack's exports). */
export interface SharedResources {
  /** The validated configuration. */
  readonly config: Config;
  /** The state table (single-table design). */
  readonly table: ITable;
  /** The Powertools idempotency table. */
  readonly idempotencyTable: ITable;
  /** Notifications topic. */
  readonly topic: ITopic;
  /** Director backup bucket. */
  readonly bucket: IBucket;
  /** The director credentials secret. */
  readonly secret: ISecret;
}

/** Props of {@link ControllerFunction}. */
export interface ControllerFunctionProps {
  /** Which function (selects the handler entry). */
  readonly name: FunctionName;
  /** What the function does, for an operator reading the console. */
  readonly description: string;
  /** The shared resources (environment variables only; grants are the caller's choice). */
  readonly shared: SharedResources;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Extra environment variables. @default - none */
  readonly environment?: Record<string, string>;
}

const RETENTION_VALUES = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

/** Map `logRetentionDays` to a CloudWatch retention, or fail naming the field. */
export function logRetention(config: Config): RetentionDays {
  const days = config.logRetentionDays;
  if (!RETENTION_VALUES.includes(days)) {
    throw new ConfigError(`configuration for env ${config.env}`, [
      { path: 'logRetentionDays', value: days, expected: `one of ${RETENTION_VALUES.join(', ')}` },
    ]);
  }
  return days as RetentionDays;
}

/** The environment variables of every function (also used by the bundle benchmark). */
export function functionEnvironment(values: {
  config: Config;
  tableName: string;
  idempotencyTableName: string;
  topicArn: string;
  bucketName: string;
  secretName: string;
}): Record<string, string> {
  const { config } = values;
  return {
    [FUNCTION_ENV.tableName]: values.tableName,
    [FUNCTION_ENV.idempotencyTableName]: values.idempotencyTableName,
    [FUNCTION_ENV.topicArn]: values.topicArn,
    [FUNCTION_ENV.bucketName]: values.bucketName,
    [FUNCTION_ENV.secretName]: values.secretName,
    [FUNCTION_ENV.config]: JSON.stringify(config),
    POWERTOOLS_SERVICE_NAME: config.observability.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: config.observability.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: config.observability.logLevel,
    NODE_OPTIONS: '--enable-source-maps',
  };
}

/**
 * One Lambda function of the controller. `fn` is the NodejsFunction; its log group is explicit
 * (retention from the configuration, retained on delete).
 */
export class ControllerFunction extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;
  /** Its log group. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ControllerFunctionProps) {
    super(scope, id);
    const { shared } = props;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: logRetention(shared.config),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: resolve(PROJECT_ROOT, FUNCTION_ENTRIES[props.name]),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        ...functionEnvironment({
          config: shared.config,
          tableName: shared.table.tableName,
          idempotencyTableName: shared.idempotencyTable.tableName,
          topicArn: shared.topic.topicArn,
          bucketName: shared.bucket.bucketName,
          secretName: shared.secret.secretName,
        }),
        ...props.environment,
      },
      bundling: {
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourceMap,
        target: BUNDLING.target,
        format: OutputFormat.ESM,
        mainFields: [...BUNDLING.mainFields],
        externalModules: [...BUNDLING.externalModules],
        banner: BUNDLING.banner,
        esbuildArgs: {
          ...Object.fromEntries(Object.entries(BUNDLING.alias).map(([from, to]) => [`--alias:${from}`, to])),
          '--legal-comments': BUNDLING.legalComments,
        },
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
      },
    });
    (this.fn.node.defaultChild as CfnFunction).addMetadata(FUNCTION_METADATA_KEY, props.name);

    // Logs into its own log group only, instead of AWSLambdaBasicExecutionRole (which allows
    // logs:CreateLogGroup/CreateLogStream/PutLogEvents on "*": any log group of the account).
    const role = this.fn.role;
    if (!(role instanceof Role)) throw new Error(`${this.node.path}: expected the function's own role`);
    (role.node.defaultChild as CfnRole).managedPolicyArns = undefined;
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's ARN ends in ":*" (its log streams).
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // X-Ray's PutTraceSegments/PutTelemetryRecords need "*"; acknowledged only while nothing
    // else in the function's policy is on "*" (see acknowledgeWildcards).
    acknowledgeWildcards(this.fn, ['xray']);
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `The controller targets nodejs${NODE_MAJOR}.x deliberately (the runtime the code and its bundle are built and tested for).`,
    });
  }
}

/**
 * `topic.grantPublish(fn)`, acknowledging the one wildcard it brings: publishing to a
 * KMS-encrypted topic needs `kms:GenerateDataKey*` on the topic's key.
 */
export function grantPublish(topic: ITopic, fn: IFunction): void {
  topic.grantPublish(fn);
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      "Publishing to the KMS-encrypted notifications topic needs kms:GenerateDataKey* on that topic's key only (the grant is scoped to the key's ARN).",
  });
}
