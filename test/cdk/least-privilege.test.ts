// Least privilege in the synthesized templates (issue 12 §6): nothing on "*" outside the reviewed
// list, each function's state-table access by item type (dynamodb:LeadingKeys), the idempotency
// table for the failover only, the DR task's S3 access, the backup bucket's lock and key, the key
// policy's conditions, the approval token out of the execution-data logs. cdk-nag runs on every
// synth here: an acknowledgement that covered more than the reviewed list would fail these.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { buildApp, type BuiltApp } from '../../cdk/build.js';
import { FUNCTION_ENTRIES, PROJECT_ROOT } from '../../cdk/constructs/function.js';
import {
  ITEM_PARTITIONS,
  REVIEWED_WILDCARD_ACTION_LIST,
  tableStatements,
} from '../../cdk/constructs/least-privilege.js';
import { parseConfig } from '../../shared/config/load.js';
import type { Config } from '../../shared/config/schema.js';
import { ITEM_TYPES, keys, type ItemType } from '../../shared/store/table.js';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Synth {
  built: BuiltApp;
  stateful: { Resources: Record<string, Json & { Type: string; Properties: Json }> };
  stateless: { Resources: Record<string, Json & { Type: string; Properties: Json }> };
}

/** The reviewed list: the only actions any policy of this app may allow on "*". */
const REVIEWED_ON_STAR = [
  // X-Ray (functions with active tracing, state machines with tracing).
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // Step Functions log delivery to CloudWatch Logs.
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // CloudWatch metrics by API.
  'cloudwatch:PutMetricData',
];

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', ...WRITE_ACTIONS];
/** Functions that call the director (and so, with Meraki, reserve slots of the request budget). */
const DIRECTOR_CALLERS = [
  'health-check',
  'failover',
  'reconcile',
  'update-branches',
  'pin',
  'unpin',
  'status',
  'rehearsal',
  'concentrator-page',
];

/** A sample partition key of every item type, from the key builders. */
const SAMPLE_PKS: Record<ItemType, string> = {
  [ITEM_TYPES.group]: keys.group('tenant-acme#Chennai').pk,
  [ITEM_TYPES.health]: keys.health('tenant-acme#Chennai', 'cpe-1').pk,
  [ITEM_TYPES.branch]: keys.branch('tenant-acme#Chennai', 'b-1').pk,
  [ITEM_TYPES.site]: keys.site('DC').pk,
  [ITEM_TYPES.director]: keys.director('DR').pk,
  [ITEM_TYPES.audit]: keys.audit('2026-12-01T10:00:00.000Z', 'x').pk,
  [ITEM_TYPES.lock]: keys.lock('DR').pk,
  [ITEM_TYPES.backup]: keys.backup('DC', '2026-12-01T10:00:00.000Z').pk,
  [ITEM_TYPES.budget]: keys.budget('meraki#123').pk,
  [ITEM_TYPES.claim]: keys.claim('123', 'w').pk,
};

/** IAM StringLike. */
const like = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

const outdirs: string[] = [];
function synth(config?: Config): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'cpe-cdk-lp-'));
  outdirs.push(outdir);
  const built = buildApp({ ...(config ? { config } : { env: 'example' }), outdir, skipBundling: true });
  const assembly = built.app.synth(); // cdk-nag: throws on any unacknowledged finding
  return {
    built,
    stateful: assembly.getStackByName(built.stateful.stackName).template as Synth['stateful'],
    stateless: assembly.getStackByName(built.stateless.stackName).template as Synth['stateless'],
  };
}

/** Every identity-policy statement of a template (inline policies, managed policies, role policies). */
function identityStatements(t: Synth['stateless']): { where: string; s: Statement }[] {
  const out: { where: string; s: Statement }[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const docs: unknown[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties.Policies ?? []) as { PolicyDocument: unknown }[])
        docs.push(p.PolicyDocument);
    }
    for (const d of docs)
      for (const s of (d as { Statement: Statement[] }).Statement) out.push({ where: id, s });
  }
  return out;
}

const actionsOf = (s: Statement) => ([] as string[]).concat(s.Action);
const resourcesOf = (s: Statement) => ([] as unknown[]).concat(s.Resource);

/** The statements of the role of the function with this `cpe-failover:function` name. */
function statementsOf(t: Synth['stateless'], name: string): Statement[] {
  const fn = Object.values(t.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Metadata as Json | undefined)?.['cpe-failover:function'] === name,
  );
  if (!fn) throw new Error(`no function ${name}`);
  const roleId = ((fn.Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
  return Object.values(t.Resources)
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((x) => x.Ref === roleId),
    )
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const onTable = (s: Statement, logical: RegExp) => logical.test(JSON.stringify(s.Resource));
/** The LeadingKeys patterns of a state-table statement (undefined: no such condition). */
const leadingKeys = (s: Statement) =>
  s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[] | undefined;

/** Whether `name` may do `action` on an item whose partition key is `pk`. */
function allows(t: Synth['stateless'], name: string, action: string, pk: string): boolean {
  return statementsOf(t, name).some(
    (s) =>
      s.Effect === 'Allow' &&
      actionsOf(s).includes(action) &&
      onTable(s, /StateTable/) &&
      (leadingKeys(s) ?? ['*']).some((p) => like(p, pk)),
  );
}
const writes = (t: Synth['stateless'], name: string, type: ItemType) =>
  WRITE_ACTIONS.some((a) => allows(t, name, a, SAMPLE_PKS[type]));
/** The item types `name` may write. */
const writtenTypes = (t: Synth['stateless'], name: string) =>
  (Object.keys(SAMPLE_PKS) as ItemType[]).filter((type) => writes(t, name, type)).sort();

function merakiConfig(base: Config): Config {
  return parseConfig({
    ...base,
    director: {
      kind: 'meraki',
      secretName: 'cpe-failover/example/meraki',
      organizations: [
        {
          id: '123456',
          hubs: [
            { name: 'HUB-DC', tagPrefix: 'dc', trackedIp: '192.0.2.1' },
            { name: 'HUB-DR', tagPrefix: 'dr', trackedIp: '192.0.2.2' },
          ],
        },
      ],
    },
  });
}

let zwan: Synth;
let meraki: Synth;
beforeAll(() => {
  zwan = synth();
  meraki = synth(merakiConfig(zwan.built.config));
});
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

describe('"*" only for the reviewed actions', () => {
  test('the module lists exactly the reviewed actions', () => {
    expect([...REVIEWED_WILDCARD_ACTION_LIST].sort()).toEqual([...REVIEWED_ON_STAR].sort());
  });

  test.each(['zwan', 'meraki'])(
    '%s: no policy allows anything else on "*", and no action is a wildcard',
    (kind) => {
      const s = kind === 'zwan' ? zwan : meraki;
      const all = [...identityStatements(s.stateful), ...identityStatements(s.stateless)];
      expect(all.length).toBeGreaterThan(20);
      const offending = all
        .filter(({ s: st }) => st.Effect === 'Allow' && resourcesOf(st).includes('*'))
        .flatMap(({ where, s: st }) => actionsOf(st).map((a) => ({ where, a })))
        .filter(({ a }) => !REVIEWED_ON_STAR.includes(a));
      expect(offending).toEqual([]);
      const starActions = all
        .filter(({ s: st }) => st.Effect === 'Allow')
        .flatMap(({ s: st }) => actionsOf(st))
        .filter((a) => a === '*' || a.endsWith(':*'));
      expect(starActions).toEqual([]);
      // The stream mapping's ListStreams is scoped to the table's streams.
      const list = statementsOf(s.stateless, 'failover').filter((st) =>
        actionsOf(st).includes('dynamodb:ListStreams'),
      );
      expect(list).toHaveLength(1);
      expect(JSON.stringify(list[0]!.Resource)).toMatch(/StateTable.*\/stream\/\*/);
    },
  );

  test('no blanket acknowledgement: a secret read or a table delete on "*" fails synth with AwsSolutions-IAM5', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cpe-cdk-lp-neg-'));
    outdirs.push(outdir);
    const other = buildApp({ env: 'example', outdir, skipBundling: true });
    other.stateless.healthCheck.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }),
    );
    other.stateless.consoleOperations.status.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:DeleteTable'], resources: ['*'] }),
    );
    let report = '';
    try {
      other.app.synth();
    } catch (error) {
      report = String(error);
    }
    expect(report).toMatch(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(report).toMatch(/HealthCheck\/Function\/ServiceRole\/DefaultPolicy/);
    expect(report).toMatch(/Status\/Function\/ServiceRole\/DefaultPolicy/);
    // X-Ray alone stays acknowledged: the other functions are not in the report.
    expect(report).not.toMatch(/Failover\/Function\/ServiceRole\/DefaultPolicy/);
  });

  test('no function source mentions an acknowledgement of Resource::* but the reviewed helper', () => {
    for (const file of [
      'function.ts',
      'dr-workflows.ts',
      'failover.ts',
      'health-check.ts',
      'console-operations.ts',
    ]) {
      const text = readFileSync(join(PROJECT_ROOT, 'cdk', 'constructs', file), 'utf8');
      expect({ file, blanket: text.includes("'AwsSolutions-IAM5[Resource::*]'") }).toEqual({
        file,
        blanket: false,
      });
    }
  });
});

describe('logs', () => {
  test('no managed policy on any role (no AWSLambdaBasicExecutionRole: logs on "*"); each function writes its own log group only', () => {
    for (const t of [zwan.stateful, zwan.stateless]) {
      for (const [id, r] of Object.entries(t.Resources).filter(([, x]) => x.Type === 'AWS::IAM::Role')) {
        expect({ id, managed: r.Properties.ManagedPolicyArns }).toEqual({ id, managed: undefined });
      }
    }
    for (const name of Object.keys(FUNCTION_ENTRIES)) {
      const fn = Object.values(zwan.stateless.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && (r.Metadata as Json)['cpe-failover:function'] === name,
      )!;
      const group = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logs = statementsOf(zwan.stateless, name).filter((st) =>
        actionsOf(st).some((a) => a.startsWith('logs:')),
      );
      expect({ name, logs }).toEqual({
        name,
        logs: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [group, 'Arn'] },
          },
        ],
      });
    }
  });
});

describe('state table by item type (dynamodb:LeadingKeys)', () => {
  test('every item type has one partition pattern that matches its own keys and no other type', () => {
    for (const [type, pk] of Object.entries(SAMPLE_PKS) as [ItemType, string][]) {
      const matching = (Object.entries(ITEM_PARTITIONS) as [ItemType, string][])
        .filter(([, pattern]) => like(pattern, pk))
        .map(([t]) => t);
      expect({ pk, matching }).toEqual({ pk, matching: [type] });
    }
  });

  test.each(['zwan', 'meraki'])(
    '%s: every state-table statement is an item action limited by LeadingKeys',
    (kind) => {
      const s = kind === 'zwan' ? zwan : meraki;
      for (const name of Object.keys(FUNCTION_ENTRIES)) {
        const table = statementsOf(s.stateless, name).filter(
          (st) =>
            onTable(st, /StateTable/) &&
            !onTable(st, /StreamArn/) &&
            !JSON.stringify(st.Resource).includes('/stream/'),
        );
        expect(table.length).toBeGreaterThan(0);
        for (const st of table) {
          for (const a of actionsOf(st))
            expect({ name, a, ok: ITEM_ACTIONS.includes(a) }).toEqual({ name, a, ok: true });
          expect({ name, keys: leadingKeys(st) }).toEqual({ name, keys: expect.any(Array) });
          expect(Object.keys(st.Condition ?? {})).toEqual(['ForAllValues:StringLike']);
        }
      }
    },
  );

  test('the health check writes health, director status and audit items only: no site roles, DR lock, backups, groups or branches', () => {
    expect(writtenTypes(zwan.stateless, 'health-check')).toEqual(['audit', 'cpe-health', 'director']);
    for (const type of [
      ITEM_TYPES.site,
      ITEM_TYPES.lock,
      ITEM_TYPES.backup,
      ITEM_TYPES.group,
      ITEM_TYPES.branch,
    ]) {
      expect({ type, writes: writes(zwan.stateless, 'health-check', type) }).toEqual({ type, writes: false });
    }
    expect(allows(zwan.stateless, 'health-check', 'dynamodb:Query', SAMPLE_PKS.site)).toBe(true);
    expect(allows(zwan.stateless, 'health-check', 'dynamodb:GetItem', SAMPLE_PKS.lock)).toBe(false);
  });

  test('what each function may write', () => {
    const t = zwan.stateless;
    for (const name of ['failover', 'reconcile', 'update-branches', 'pin', 'unpin', 'rehearsal']) {
      expect({ name, types: writtenTypes(t, name) }).toEqual({ name, types: ['audit', 'branch', 'group'] });
    }
    expect(writtenTypes(t, 'status')).toEqual([]);
    expect(writtenTypes(t, 'ack-monitor-blind')).toEqual(['audit', 'director']);
    expect(writtenTypes(t, 'dr')).toEqual(['audit', 'backup', 'lock', 'site']);
    // Only the DR task may write site roles, the lock or backup records; only it deletes.
    for (const name of Object.keys(FUNCTION_ENTRIES).filter((n) => n !== 'dr')) {
      for (const type of [ITEM_TYPES.site, ITEM_TYPES.lock, ITEM_TYPES.backup]) {
        expect({ name, type, writes: writes(t, name, type) }).toEqual({ name, type, writes: false });
      }
      const table = statementsOf(t, name).filter((st) => onTable(st, /StateTable/));
      expect(table.flatMap(actionsOf)).not.toContain('dynamodb:DeleteItem');
    }
    // Nothing scans, nothing updates the state table in place.
    for (const name of Object.keys(FUNCTION_ENTRIES)) {
      const table = statementsOf(t, name).filter((st) => onTable(st, /StateTable/));
      expect(table.flatMap(actionsOf)).not.toContain('dynamodb:Scan');
      expect(table.flatMap(actionsOf)).not.toContain('dynamodb:UpdateItem');
    }
  });

  test('the request budget: with Meraki, every function that calls the Dashboard may get and put BUDGET# items, the others not; with zWAN none', () => {
    for (const name of Object.keys(FUNCTION_ENTRIES)) {
      const calls = DIRECTOR_CALLERS.includes(name);
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem']) {
        expect({
          name,
          action,
          meraki: allows(meraki.stateless, name, action, SAMPLE_PKS[ITEM_TYPES.budget]),
        }).toEqual({
          name,
          action,
          meraki: calls,
        });
        expect({
          name,
          action,
          zwan: allows(zwan.stateless, name, action, SAMPLE_PKS[ITEM_TYPES.budget]),
        }).toEqual({
          name,
          action,
          zwan: false,
        });
      }
    }
    // Status stays read-only but for the budget.
    expect(writtenTypes(meraki.stateless, 'status')).toEqual(['request-budget']);
  });

  test('write claims: with Meraki, exactly the functions that swap tags may put, query and delete CLAIMS# items (no other delete); with zWAN none', () => {
    const swappers = [
      'failover',
      'reconcile',
      'update-branches',
      'pin',
      'unpin',
      'rehearsal',
      'concentrator-page',
    ];
    const pk = SAMPLE_PKS[ITEM_TYPES.claim];
    for (const name of Object.keys(FUNCTION_ENTRIES)) {
      for (const action of ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem']) {
        expect({ name, action, meraki: allows(meraki.stateless, name, action, pk) }).toEqual({
          name,
          action,
          meraki: swappers.includes(name),
        });
        expect({ name, action, zwan: allows(zwan.stateless, name, action, pk) }).toEqual({
          name,
          action,
          zwan: false,
        });
      }
      // A claim's delete reaches no other item type.
      if (name === 'dr') continue;
      for (const type of Object.keys(SAMPLE_PKS) as ItemType[])
        if (type !== ITEM_TYPES.claim)
          expect({
            name,
            type,
            del: allows(meraki.stateless, name, 'dynamodb:DeleteItem', SAMPLE_PKS[type]),
          }).toEqual({
            name,
            type,
            del: false,
          });
    }
  });

  test('tableStatements: one statement per action, the partitions of every item type granted it', () => {
    const statements = tableStatements('arn:table', {
      [ITEM_TYPES.health]: ['Query', 'PutItem'],
      [ITEM_TYPES.site]: ['Query'],
    }).map((st) => st.toStatementJson() as Statement);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: 'arn:table',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['HEALTH#*'] } },
      },
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: 'arn:table',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['HEALTH#*', 'SITES'] } },
      },
    ]);
  });
});

describe('other tables, the backup bucket, the key, the approval token', () => {
  test('only the failover function reaches the idempotency table, with get/put/update/delete', () => {
    for (const name of Object.keys(FUNCTION_ENTRIES)) {
      const idem = statementsOf(zwan.stateless, name).filter((st) => onTable(st, /IdempotencyTable/));
      if (name === 'failover') {
        expect(idem.flatMap(actionsOf).sort()).toEqual([
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ]);
      } else {
        expect({ name, idem }).toEqual({ name, idem: [] });
      }
    }
  });

  test('the DR task deletes only current versions under dcrepository/ and drrepository/, never a version, never bypasses the lock', () => {
    const all = [...identityStatements(zwan.stateful), ...identityStatements(zwan.stateless)].map((x) => x.s);
    const allowed = all.filter((st) => st.Effect === 'Allow').flatMap(actionsOf);
    for (const forbidden of [
      's3:DeleteObjectVersion',
      's3:BypassGovernanceRetention',
      's3:PutObjectRetention',
      's3:PutBucketObjectLockConfiguration',
      's3:PutLifecycleConfiguration',
    ]) {
      expect(allowed).not.toContain(forbidden);
    }
    const dr = statementsOf(zwan.stateless, 'dr');
    const deletes = dr.filter(
      (st) => st.Effect === 'Allow' && actionsOf(st).some((a) => a.startsWith('s3:Delete')),
    );
    expect(deletes.flatMap(actionsOf)).toEqual(['s3:DeleteObject']);
    const deleted = deletes.flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(deleted).toHaveLength(2);
    expect(deleted[0]).toMatch(/BackupBucket.*"\/dcrepository\/\*"/);
    expect(deleted[1]).toMatch(/BackupBucket.*"\/drrepository\/\*"/);
    const denied = dr.filter((st) => st.Effect === 'Deny').flatMap(actionsOf);
    expect(denied).toEqual(
      expect.arrayContaining(['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention']),
    );
    // Reads (verification) only under the backup prefixes; kms:Decrypt for the bucket's key.
    const reads = dr.filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('s3:GetObject'));
    expect(reads.flatMap(resourcesOf).map((r) => JSON.stringify(r).match(/"\/([a-z]+)\/\*"/)?.[1])).toEqual([
      'msp',
      'dcrepository',
      'drrepository',
    ]);
    expect(
      dr.some((st) => actionsOf(st).includes('kms:Decrypt') && /TopicKey/.test(JSON.stringify(st.Resource))),
    ).toBe(true);
  });

  test('the backup bucket: the project KMS key, Object Lock in governance mode for the backup retention', () => {
    const bucket = Object.entries(zwan.stateful.Resources).find(([id]) => id.startsWith('BackupBucket'))![1];
    const keyId = Object.keys(zwan.stateful.Resources).find((id) => id.startsWith('TopicKey'))!;
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
        },
      ],
    });
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } },
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('the KMS key policy: every service principal is limited by aws:SourceAccount and aws:SourceArn', () => {
    const keyPolicies = Object.values(zwan.stateful.Resources)
      .filter((r) => r.Type === 'AWS::KMS::Key')
      .flatMap(
        (r) => (r.Properties.KeyPolicy as { Statement: (Statement & { Principal: Json })[] }).Statement,
      );
    const services = keyPolicies.filter((st) => st.Principal.Service !== undefined);
    expect(services.length).toBeGreaterThan(0);
    for (const st of services) {
      expect(st.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
      expect(JSON.stringify(st.Condition?.ArnLike?.['aws:SourceArn'])).toMatch(/:cloudwatch:.*:alarm:\*/);
    }
  });

  test('the approval token: the machines with an approval step log no execution data; the others keep it', () => {
    const machines = Object.entries(zwan.stateless.Resources).filter(
      ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machines).toHaveLength(5);
    for (const [id, r] of machines) {
      const definition = JSON.stringify(r.Properties.DefinitionString);
      const approval = definition.includes('.waitForTaskToken');
      expect({ id, approval }).toEqual({ id, approval: /Switchover|Failback/.test(id) });
      expect({ id, logging: r.Properties.LoggingConfiguration }).toEqual({
        id,
        logging: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: !approval }),
      });
    }
  });
});

describe('Meraki peer check', () => {
  const peerAlarms = (s: Synth) =>
    Object.values(s.stateless.Resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        String(r.Properties.AlarmName).endsWith('-MerakiPeerCheckFailed'),
    );
  test('an alarm on MerakiPeerCheckFailed with a Meraki director, none with zWAN', () => {
    const [alarm] = peerAlarms(meraki);
    expect(alarm?.Properties).toMatchObject({ MetricName: 'MerakiPeerCheckFailed', Threshold: 1 });
    expect(peerAlarms(zwan)).toEqual([]);
  });
});
