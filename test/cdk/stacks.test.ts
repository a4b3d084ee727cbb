// Template assertions on what matters in the two stacks, with cdk-nag AwsSolutionsChecks on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { buildApp, type BuiltApp } from '../../cdk/build.js';
import { METRIC_NAMES, scheduleInterval } from '../../cdk/constructs/monitoring.js';
import { FAILOVER_STREAM_TYPES, TABLE_KEYS } from '../../shared/store/table.js';

let outdir: string;
let built: BuiltApp;
let stateful: Template;
let stateless: Template;

type Json = Record<string, unknown>;
/** The console functions (operators invoke them with test events). */
const CONSOLE_FUNCTIONS = ['update-branches', 'pin', 'unpin', 'status', 'ack-monitor-blind'];
/** Every function of the stateless stack but the DR task function. */
const STATELESS_FUNCTIONS = ['health-check', 'failover', 'reconcile', ...CONSOLE_FUNCTIONS];
const resources = (t: Template, type: string) =>
  t.findResources(type) as Record<string, Json & { Properties: Json }>;
/** The logical ID of the (only) Lambda function with this metadata name. */
const fnId = (name: string) =>
  Object.entries(resources(stateless, 'AWS::Lambda::Function')).find(
    ([, r]) => (r.Metadata as Json | undefined)?.['cpe-failover:function'] === name,
  )?.[0] as string;
/** The policy statements attached to a function's role. */
function statementsOf(name: string): Json[] {
  const fn = resources(stateless, 'AWS::Lambda::Function')[fnId(name)]!;
  const roleId = ((fn.Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
  return Object.values(resources(stateless, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement);
}
const actionsOf = (s: Json) => ([] as string[]).concat(s.Action as string | string[]);
const importsOf = (s: Json) => JSON.stringify(s.Resource);

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cpe-cdk-test-'));
  built = buildApp({ env: 'example', outdir, skipBundling: true });
  built.app.synth(); // throws on any unsuppressed cdk-nag finding
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk-nag', () => {
  test('both stacks synthesize with AwsSolutionsChecks and no error annotations', () => {
    expect(Annotations.fromStack(built.stateful).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(built.stateless).findError('*', Match.anyValue())).toEqual([]);
  });

  test('an unsuppressed finding fails synth (the checks really run)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpe-cdk-nag-'));
    try {
      const other = buildApp({ env: 'example', outdir: dir, skipBundling: true });
      new Queue(other.stateless, 'UnencryptedNoSsl', { enforceSSL: false });
      expect(() => other.app.synth()).toThrow(/AwsSolutions-SQS4/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stateful stack', () => {
  test('state table: pk/sk strings, stream with both images, TTL, PITR, deletion protection, retained', () => {
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([{ AttributeName: 'pk', AttributeType: 'S' }]),
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
    });
  });

  test('idempotency table: key id, TTL expiration', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  test('backup bucket: public access blocked, encrypted, versioned, noncurrent-version lifecycle, logged, retained', () => {
    const buckets = Object.values(resources(stateful, 'AWS::S3::Bucket'));
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) {
      expect(b.DeletionPolicy).toBe('Retain');
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.BucketEncryption).toBeDefined();
    }
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } })]),
      },
    });
  });

  test('every bucket policy denies requests without TLS', () => {
    const policies = Object.values(resources(stateful, 'AWS::S3::BucketPolicy'));
    expect(policies.length).toBe(Object.keys(resources(stateful, 'AWS::S3::Bucket')).length);
    for (const p of policies) {
      expect((p.Properties.PolicyDocument as { Statement: Json[] }).Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  test('topic: KMS-encrypted with a rotating key, e-mail subscriptions from the configuration', () => {
    stateful.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    stateful.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    stateful.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: built.config.notifications.emails[0],
    });
  });
});

describe('stateless stack', () => {
  test('every function: nodejs22.x, arm64, X-Ray, explicit log group, Powertools and resource environment', () => {
    const fns = resources(stateless, 'AWS::Lambda::Function');
    expect(Object.values(fns).map((f) => (f.Metadata as Json)['cpe-failover:function'])).toEqual(
      expect.arrayContaining(STATELESS_FUNCTIONS),
    );
    for (const f of Object.values(fns)) {
      const p = f.Properties;
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect((p.LoggingConfig as Json).LogGroup).toBeDefined();
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'cpe-failover',
        POWERTOOLS_METRICS_NAMESPACE: 'CpeFailover',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      for (const k of [
        'TABLE_NAME',
        'IDEMPOTENCY_TABLE_NAME',
        'TOPIC_ARN',
        'BUCKET_NAME',
        'CPE_FAILOVER_CONFIG',
      ]) {
        expect(env[k]).toBeDefined();
      }
      expect(JSON.parse(env.CPE_FAILOVER_CONFIG as string)).toEqual(built.config);
      expect(JSON.stringify(env)).not.toMatch(/apiKey|SecretString/i);
    }
    stateless.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: built.config.logRetentionDays,
    });
  });

  test('health-check: rate(1 minute), reserved concurrency 1, timeout above the sampling time', () => {
    const id = fnId('health-check');
    const fn = resources(stateless, 'AWS::Lambda::Function')[id]!;
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    const sampling = built.config.health.samplesPerRun * built.config.health.sampleIntervalSec;
    expect(fn.Properties.Timeout as number).toBeGreaterThan(sampling);
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  test('health-check: its description claims only what it does; it publishes (DIRECTOR_LOST) and starts nothing by default', () => {
    const d = resources(stateless, 'AWS::Lambda::Function')[fnId('health-check')]!.Properties
      .Description as string;
    expect(d).not.toMatch(/re-point/i);
    expect(statementsOf('health-check').some((s) => actionsOf(s).includes('sns:Publish'))).toBe(true);
    expect(statementsOf('health-check').some((s) => actionsOf(s).includes('states:StartExecution'))).toBe(
      false,
    );
  });

  test('dr.autoSwitchover on: the health check may start SwitchoverDcToDr, and only that state machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpe-cdk-auto-'));
    try {
      const auto = buildApp({
        outdir: dir,
        skipBundling: true,
        nag: false,
        config: { ...built.config, dr: { ...built.config.dr, autoSwitchover: true } },
      });
      const t = Template.fromStack(auto.stateless);
      const fns = t.findResources('AWS::Lambda::Function') as Record<string, Json & { Properties: Json }>;
      const [id, fn] = Object.entries(fns).find(
        ([, r]) => (r.Metadata as Json | undefined)?.['cpe-failover:function'] === 'health-check',
      )!;
      const env = (fn.Properties.Environment as { Variables: Json }).Variables;
      expect(JSON.stringify(env.SWITCHOVER_STATE_MACHINE_ARN)).toMatch(/SwitchoverDcToDr/);
      const roleId = ((fn.Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
      const starts = Object.values(
        t.findResources('AWS::IAM::Policy') as Record<string, { Properties: Json }>,
      )
        .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement)
        .filter((st) => actionsOf(st).includes('states:StartExecution'));
      expect(starts).toHaveLength(1);
      expect(JSON.stringify(starts[0]?.Resource)).toMatch(/SwitchoverDcToDr/);
      expect(id).toBeTruthy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reconcile: on the configured schedule, reserved concurrency 1, no retries, writes + secret + publish', () => {
    expect(built.config.reconcile.schedule).toBe('rate(5 minutes)');
    const id = fnId('reconcile');
    const fn = resources(stateless, 'AWS::Lambda::Function')[id]!;
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Properties.Description as string).toMatch(/rate\(5 minutes\).*re-points branches/);
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id, 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
        }),
      ],
    });
    stateless.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
    });
    const statements = statementsOf('reconcile');
    const has = (action: string, target: RegExp) =>
      statements.some((s) => actionsOf(s).includes(action) && target.test(importsOf(s)));
    expect(has('dynamodb:PutItem', /StateTable/)).toBe(true);
    expect(has('dynamodb:Query', /StateTable/)).toBe(true);
    expect(has('secretsmanager:GetSecretValue', /director-\?{6}/)).toBe(true);
    expect(has('sns:Publish', /Topic/)).toBe(true);
    // It needs no idempotency table (the drift pass fans out directly).
    expect(statements.some((s) => /IdempotencyTable/.test(importsOf(s)))).toBe(false);
  });

  test('failover: filtered stream mapping with partial failures, bisection, bounded retries, encrypted DLQ', () => {
    const mapping = Object.values(resources(stateless, 'AWS::Lambda::EventSourceMapping'));
    expect(mapping).toHaveLength(1);
    const p = mapping[0]!.Properties;
    expect(p.FunctionName).toEqual({ Ref: fnId('failover') });
    expect(
      (p.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern)),
    ).toEqual([{ dynamodb: { NewImage: { type: { S: [...FAILOVER_STREAM_TYPES] } } } }]);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.BisectBatchOnFunctionError).toBe(true);
    expect(p.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(p.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(p.MaximumRecordAgeInSeconds).toBeGreaterThan(0);
    const dlqId = (
      ((p.DestinationConfig as Json).OnFailure as Json).Destination as { 'Fn::GetAtt': string[] }
    )['Fn::GetAtt'][0]!;
    const dlq = resources(stateless, 'AWS::SQS::Queue')[dlqId]!;
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
    stateless.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('console functions have operator descriptions', () => {
    for (const name of CONSOLE_FUNCTIONS) {
      const d = resources(stateless, 'AWS::Lambda::Function')[fnId(name)]!.Properties.Description as string;
      expect(d).toMatch(/^Console/);
      expect(d.length).toBeLessThanOrEqual(256);
    }
  });

  test('grants are scoped to the table, idempotency table, topic, key and secret; "*" only where AWS requires it', () => {
    // X-Ray only (the stream's ListStreams is scoped to the table's streams).
    const allowedStar = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
    for (const name of STATELESS_FUNCTIONS) {
      for (const s of statementsOf(name)) {
        if (s.Resource === '*') {
          for (const a of actionsOf(s)) expect(allowedStar).toContain(a);
          continue;
        }
        const target = importsOf(s);
        const ok =
          /StateTable|IdempotencyTable|Topic|TopicKey|FailoverDlq/.test(target) ||
          // its own log group (test/cdk/least-privilege.test.ts)
          (actionsOf(s).every((a) => a.startsWith('logs:')) && /Logs[0-9A-F]{8}/.test(target)) ||
          target.includes(`:secret:${built.config.director.secretName}-??????`);
        expect({ name, target, ok }).toEqual({ name, target, ok: true });
        for (const a of actionsOf(s)) expect(a).not.toMatch(/^(s3|iam|secretsmanager:Put|kms:\*)/);
      }
    }
    const writes = (name: string) =>
      statementsOf(name).some(
        (s) => actionsOf(s).includes('dynamodb:PutItem') && /StateTable/.test(importsOf(s)),
      );
    expect(writes('failover')).toBe(true);
    expect(writes('status')).toBe(false);
    expect(writes('ack-monitor-blind')).toBe(true);
    expect(statementsOf('ack-monitor-blind').some((s) => actionsOf(s).includes('sns:Publish'))).toBe(true);
    // It calls no director: no secret.
    expect(
      statementsOf('ack-monitor-blind').some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue')),
    ).toBe(false);
    expect(statementsOf('status').some((s) => actionsOf(s).includes('sns:Publish'))).toBe(false);
    expect(statementsOf('failover').some((s) => actionsOf(s).includes('sns:Publish'))).toBe(true);
    expect(
      statementsOf('failover').some(
        (s) =>
          actionsOf(s).includes('secretsmanager:GetSecretValue') && importsOf(s).includes('director-??????'),
      ),
    ).toBe(true);
  });

  test('the DR task function reaches only the backup bucket in S3', () => {
    const s3 = statementsOf('dr').filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) {
      expect(importsOf(s)).toMatch(/BackupBucket/);
      expect(importsOf(s)).not.toMatch(/AccessLogBucket/);
    }
    for (const name of STATELESS_FUNCTIONS) {
      expect(
        statementsOf(name)
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('s3:')),
      ).toEqual([]);
    }
  });

  test('alarms: every one acts on the topic; the custom metrics use the configured namespace and service', () => {
    const alarms = Object.values(resources(stateless, 'AWS::CloudWatch::Alarm'));
    const names = alarms.map((a) => a.Properties.AlarmName);
    for (const id of [
      'FailoverErrors',
      'FailoverDlqNotEmpty',
      'AllDown',
      'MonitorBlind',
      'RepointFailures',
      'HealthCheckErrors',
      'HealthCheckNearTimeout',
      'HealthCheckMissedRun',
      'DriftReconcileErrors',
    ]) {
      expect(names).toContain(`cpe-failover-example-${id}`);
    }
    for (const a of alarms) {
      expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/ExportsOutputRefTopic/);
    }
    const byName = (n: string) =>
      alarms.find((a) => a.Properties.AlarmName === `cpe-failover-example-${n}`)!.Properties;
    expect(byName('AllDown')).toMatchObject({
      Namespace: 'CpeFailover',
      MetricName: METRIC_NAMES.allDown,
      Dimensions: [{ Name: 'service', Value: 'cpe-failover' }],
    });
    expect(byName('MonitorBlind')).toMatchObject({ MetricName: 'MonitorBlind' });
    expect(byName('RepointFailures')).toMatchObject({ MetricName: 'RepointFailures' });
    expect(byName('HealthCheckMissedRun')).toMatchObject({
      MetricName: 'RunDurationMs',
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
    });
    const timeoutMs =
      (resources(stateless, 'AWS::Lambda::Function')[fnId('health-check')]!.Properties.Timeout as number) *
      1000;
    const near = byName('HealthCheckNearTimeout');
    expect(near.MetricName).toBe('Duration');
    expect(near.Threshold as number).toBeLessThan(timeoutMs);
    expect(near.Threshold as number).toBeGreaterThan(timeoutMs / 2);
    expect(byName('DriftReconcileErrors')).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('reconcile') } }],
    });
    expect(byName('MonitorBlind').AlarmDescription as string).toMatch(/ack-monitor-blind/);
    expect(byName('FailoverDlqNotEmpty')).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible' });
  });

  test('AllDown: the Maximum of the level each drift reconcile pass reports, one period per pass; no report keeps the state', () => {
    const alarm = Object.values(resources(stateless, 'AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.AlarmName === 'cpe-failover-example-AllDown',
    )!.Properties;
    const rule = Object.values(resources(stateless, 'AWS::Events::Rule')).find((r) =>
      JSON.stringify(r.Properties.Targets).includes(fnId('reconcile')),
    )!.Properties;
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(alarm).toMatchObject({
      MetricName: 'AllDown',
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    expect(alarm.AlarmDescription as string).toMatch(/cleared by the first drift reconcile pass/);
    expect(alarm.OKActions).toEqual(alarm.AlarmActions);
    expect(scheduleInterval('rate(1 minute)')?.toSeconds()).toBe(60);
    expect(scheduleInterval('rate(2 hours)')?.toSeconds()).toBe(7200);
    expect(scheduleInterval('rate(2 days)')).toBeUndefined(); // longer than an alarm period may be
    expect(scheduleInterval('cron(0/10 * * * ? *)')).toBeUndefined();
  });

  test('dashboard shows failovers, re-points, bad samples, run duration and the alarms', () => {
    const dash = Object.values(resources(stateless, 'AWS::CloudWatch::Dashboard'))[0]!;
    const body = JSON.stringify(dash.Properties.DashboardBody);
    for (const m of ['Failovers', 'Failbacks', 'Repoints', 'BadSamples', 'RunDurationMs'])
      expect(body).toContain(m);
    expect(body).toContain('alarm');
  });

  test('dashboard has the Concentrator page: a custom widget calling the page function, right under the title', () => {
    const dash = Object.values(resources(stateless, 'AWS::CloudWatch::Dashboard'))[0]!;
    const body = JSON.stringify(dash.Properties.DashboardBody);
    const id = fnId('concentrator-page');
    expect(id).toBeDefined();
    // The body is an Fn::Join; the widget's functionArn is the page function's Arn.
    const widget = body.indexOf('\\"type\\":\\"custom\\"');
    expect(widget).toBeGreaterThan(0);
    expect(body.slice(widget)).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
    expect(body.slice(widget, widget + 400)).toContain('Concentrators');
    // Before the first graph: operators see it first.
    expect(widget).toBeLessThan(body.indexOf('\\"type\\":\\"metric\\"'));
    // It re-points (Apply, pin, unpin): it reads the director secret and publishes notices.
    const actions = statementsOf('concentrator-page').flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'sns:Publish']));
  });
});
