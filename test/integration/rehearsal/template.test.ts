/**
 * The Rehearsal state machine in the synthesized stateless template (the test run's one synthesis,
 * with cdk-nag: a finding would have failed it): its name, logging and tracing, a role that may
 * invoke only the rehearsal task function, every task on that function, the failed-execution
 * alarm notifying the topic, and the task function's own grants.
 */
import type { CfnTemplate } from '../../../cdk/assembly.js';
import { FUNCTION_METADATA_KEY } from '../../../cdk/constructs/function.js';
import { REVIEWED_WILDCARD_ACTION_LIST } from '../../../cdk/constructs/least-privilege.js';
import { testAssembly } from '../../helpers/assembly.js';

type Resource = CfnTemplate['Resources'][string];
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let t: CfnTemplate;
let env: string;
beforeAll(async () => {
  const { templates } = await testAssembly();
  t = templates.stateless;
  env = templates.config.env;
}, 120_000);

const entries = () => Object.entries(t.Resources);
const actions = (s: Statement) => ([] as string[]).concat(s.Action);
const resources = (s: Statement) => ([] as unknown[]).concat(s.Resource);

/** Every statement of the policies attached to role `roleId`. */
function roleStatements(roleId: string): Statement[] {
  return entries()
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) => JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap(([, r]) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

function machine(): [string, Resource] {
  const found = entries().filter(
    ([, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' &&
      r.Properties?.StateMachineName === `cpe-failover-${env}-Rehearsal`,
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Resource];
}

function taskFunction(): [string, Resource] {
  const found = entries().find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Metadata as Record<string, unknown> | undefined)?.[FUNCTION_METADATA_KEY] === 'rehearsal',
  );
  if (!found) throw new Error('no rehearsal task function');
  return found;
}

describe('Rehearsal in the synthesized template', () => {
  test('the state machine: logging ALL with execution data, X-Ray, every task on the rehearsal function', () => {
    const [, sm] = machine();
    const [fnId] = taskFunction();
    expect(sm.Properties?.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.Properties?.LoggingConfiguration).toEqual(
      expect.objectContaining({ Level: 'ALL', IncludeExecutionData: true }),
    );
    const definition = JSON.stringify(sm.Properties?.DefinitionString);
    for (const state of [
      'ValidateInput',
      'WaitForWindow',
      'CheckGroup',
      'MoveToTarget',
      'VerifyOnTarget',
      'Restore',
      'VerifyBack',
    ]) {
      expect(definition).toContain(`\\"${state}\\":{`);
    }
    // Every Lambda ARN in the definition is the task function's.
    const arns = [...definition.matchAll(/"Fn::GetAtt":\["([^"]+)","Arn"\]/g)].map((m) => m[1]);
    expect(new Set(arns)).toEqual(new Set([fnId]));
  });

  test('the machine\'s role may invoke only the rehearsal function; on "*" only the reviewed log delivery and X-Ray', () => {
    const [, sm] = machine();
    const [fnId] = taskFunction();
    const roleId = ((sm.Properties?.RoleArn as Record<string, string[]>)['Fn::GetAtt'] ?? [])[0] as string;
    const statements = roleStatements(roleId);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      if (resources(s).includes('*')) {
        for (const a of actions(s)) expect(REVIEWED_WILDCARD_ACTION_LIST).toContain(a);
        continue;
      }
      expect(actions(s)).toEqual(['lambda:InvokeFunction']);
      for (const r of resources(s)) expect(JSON.stringify(r)).toContain(`"${fnId}"`);
    }
  });

  test('the task function: no S3, no idempotency table, no deletes; the state table by LeadingKeys only', () => {
    const [, fn] = taskFunction();
    const roleId = ((fn.Properties?.Role as Record<string, string[]>)['Fn::GetAtt'] ?? [])[0] as string;
    const statements = roleStatements(roleId);
    const all = statements.flatMap(actions);
    expect(all.some((a) => a.startsWith('s3:'))).toBe(false);
    expect(all).not.toContain('dynamodb:DeleteItem');
    expect(JSON.stringify(statements)).not.toMatch(/IdempotencyTable/);
    for (const s of statements.filter((x) => actions(x).some((a) => a.startsWith('dynamodb:')))) {
      expect(JSON.stringify(s)).toContain('dynamodb:LeadingKeys');
    }
    expect(all).toEqual(expect.arrayContaining(['sns:Publish', 'secretsmanager:GetSecretValue']));
  });

  test('an alarm on failed executions notifies the topic', () => {
    const [smId] = machine();
    const alarms = entries().filter(
      ([, r]) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties?.MetricName === 'ExecutionsFailed' &&
        JSON.stringify(r.Properties?.Dimensions).includes(`"${smId}"`),
    );
    expect(alarms).toHaveLength(1);
    const [, alarm] = alarms[0] as [string, Resource];
    expect(alarm.Properties?.Threshold).toBe(1);
    expect(JSON.stringify(alarm.Properties?.AlarmActions)).toMatch(/Topic|topic/);
  });
});
