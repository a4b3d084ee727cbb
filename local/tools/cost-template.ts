/**
 * The quantities of the monthly bill (local/tools/cost.ts) as the synthesized templates state them:
 * schedules (EventBridge rate/cron expressions counted per month), the controller functions' memory
 * and timeouts, the configuration they carry, the state machines' states, alarms, dashboards, custom
 * metrics, KMS keys, email subscriptions, the backup bucket's retention and the tables with PITR.
 */
import type { CfnResourceJson, CfnTemplate } from '../../cdk/assembly.js';
import { FUNCTION_ENV, FUNCTION_METADATA_KEY } from '../../cdk/constructs/function.js';
import type { Config } from '../../shared/config/schema.js';
import { ValidationError } from '../../shared/errors.js';

/** Days in an average month. */
export const DAYS_PER_MONTH = 30.44;
const SECONDS_PER_MONTH = DAYS_PER_MONTH * 86_400;

/** A ValidationError about one input of the bill. */
export const costInputError = (path: string, value: unknown, expected: string) =>
  new ValidationError('cost inputs', [{ path, value, expected }]);

const DOW = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** A cron value: a number, or a day name (SUN = 1, as EventBridge counts). */
const cronValue = (text: string) => (DOW.includes(text) ? DOW.indexOf(text) + 1 : Number(text));

/** Count the values of one cron field (`*`, `5`, `1,3`, `1-5`, `MON-FRI`, `*\/15`, `0/10`). */
function cronFieldCount(text: string, size: number, path: string): number {
  return text.split(',').reduce((sum, part) => {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw costInputError(path, text, 'a cron field with a positive step');
    let span: number;
    if (range === '*' || range === '?') span = size;
    else if (range.includes('-')) {
      const [from, to] = range.split('-').map(cronValue);
      span = (to ?? NaN) - (from ?? NaN) + 1;
    } else span = stepText === undefined ? 1 : size - Number(range);
    if (!(span >= 1)) throw costInputError(path, text, 'a cron field EventBridge accepts');
    return sum + Math.ceil(span / step);
  }, 0);
}

/**
 * How many times a month an EventBridge schedule fires (`rate(5 minutes)`, `cron(0 12 * * ? *)`).
 * Throws ValidationError naming the expression for anything else.
 */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unitSec = { minute: 60, hour: 3600, day: 86_400 }[rate[2]!.replace(/s$/, '') as 'minute'];
    return SECONDS_PER_MONTH / (Number(rate[1]) * unitSec);
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron)
    throw costInputError(
      'ScheduleExpression',
      expression,
      'rate(N unit) or cron(min hour dom month dow year)',
    );
  const [, min = '', hour = '', dom = '', month = '', dow = ''] = cron;
  const perDay = cronFieldCount(min, 60, 'minutes') * cronFieldCount(hour, 24, 'hours');
  const days =
    dom !== '*' && dom !== '?'
      ? cronFieldCount(dom, 31, 'day-of-month')
      : dow !== '*' && dow !== '?'
        ? (cronFieldCount(dow.replace(/#\d+|L/g, ''), 7, 'day-of-week') * DAYS_PER_MONTH) / 7
        : DAYS_PER_MONTH;
  return perDay * days * (month === '*' ? 1 : cronFieldCount(month, 12, 'month') / 12);
}

const ofType = (t: CfnTemplate, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const refOf = (v: unknown): string | undefined => {
  const o = v as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
  if (typeof o?.Ref === 'string') return o.Ref;
  return Array.isArray(o?.['Fn::GetAtt']) && typeof o['Fn::GetAtt'][0] === 'string'
    ? o['Fn::GetAtt'][0]
    : undefined;
};
/** A DefinitionString or DashboardBody with its intrinsics replaced by a placeholder. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  return join ? join[1].map((p) => (typeof p === 'string' ? p : 'X')).join(join[0]) : '';
}

/** A controller function of the stateless template, as the bill needs it. */
export interface FunctionFacts {
  readonly logicalId: string;
  readonly memoryGb: number;
  readonly timeoutSec: number;
  /** How many times a month its schedules invoke it (0: not scheduled). */
  readonly scheduledRuns: number;
}

/** What the bill reads from the two templates. */
export interface TemplateFacts {
  /** The configuration the functions carry (`CPE_FAILOVER_CONFIG`). */
  readonly config: Config;
  readonly functions: Readonly<Record<string, FunctionFacts>>;
  /** Per state machine: states in its definition, scheduled executions a month. */
  readonly stateMachines: Readonly<Record<string, { states: number; scheduledRuns: number }>>;
  readonly alarmMetrics: number;
  readonly dashboards: number;
  /** Distinct custom metrics (the configuration's namespace) the alarms and dashboards read. */
  readonly customMetrics: number;
  readonly kmsKeys: number;
  readonly emailSubscriptions: number;
  /** Days a backup object is kept: the longer of Object Lock's default retention and noncurrent expiry. */
  readonly backupRetentionDays: number;
  readonly tablesWithPitr: number;
}

/** Read the quantities of the bill from the synthesized templates. */
export function templateFacts(stateful: CfnTemplate, stateless: CfnTemplate): TemplateFacts {
  const schedules = ofType(stateless, 'AWS::Events::Rule').flatMap(([, r]) => {
    const expression = r.Properties?.ScheduleExpression;
    if (typeof expression !== 'string') return [];
    const targets = (r.Properties?.Targets ?? []) as { Arn?: unknown }[];
    return targets.map((t) => ({ target: refOf(t.Arn), runs: runsPerMonth(expression) }));
  });
  const scheduled = (id: string) => schedules.filter((s) => s.target === id).reduce((n, s) => n + s.runs, 0);

  const functions: Record<string, FunctionFacts> = {};
  let config: Config | undefined;
  for (const [id, r] of ofType(stateless, 'AWS::Lambda::Function')) {
    const name = r.Metadata?.[FUNCTION_METADATA_KEY];
    if (typeof name !== 'string') continue; // CDK's own helper functions (custom resources)
    const p = r.Properties ?? {};
    functions[name] = {
      logicalId: id,
      memoryGb: Number(p.MemorySize ?? 128) / 1024,
      timeoutSec: Number(p.Timeout ?? 3),
      scheduledRuns: scheduled(id),
    };
    const env = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    const text = env?.[FUNCTION_ENV.config];
    if (!config && typeof text === 'string') config = JSON.parse(text) as Config;
  }
  if (!config)
    throw costInputError(`${FUNCTION_ENV.config}`, undefined, 'the configuration in a function environment');

  const stateMachines: Record<string, { states: number; scheduledRuns: number }> = {};
  for (const [id, r] of ofType(stateless, 'AWS::StepFunctions::StateMachine')) {
    const definition = joined(r.Properties?.DefinitionString);
    const name = String(r.Properties?.StateMachineName ?? id).replace(/^.*-/, '');
    stateMachines[name] = {
      states: (definition.match(/"Type":"/g) ?? []).length,
      scheduledRuns: scheduled(id),
    };
  }

  const alarms = ofType(stateless, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties ?? {});
  const namespace = config.observability.metricsNamespace;
  const custom = new Set(alarms.filter((a) => a.Namespace === namespace).map((a) => String(a.MetricName)));
  const dashboards = ofType(stateless, 'AWS::CloudWatch::Dashboard');
  for (const [, d] of dashboards) {
    const body = joined(d.Properties?.DashboardBody);
    for (const m of body.matchAll(new RegExp(`\\["${namespace}","(\\w+)"`, 'g'))) custom.add(m[1]!);
  }

  const bucket = ofType(stateful, 'AWS::S3::Bucket').find(([, r]) => r.Properties?.ObjectLockEnabled)?.[1];
  return {
    config,
    functions,
    stateMachines,
    alarmMetrics: alarms.reduce((n, a) => n + (Array.isArray(a.Metrics) ? a.Metrics.length : 1), 0),
    dashboards: dashboards.length,
    customMetrics: custom.size,
    kmsKeys: ofType(stateful, 'AWS::KMS::Key').length,
    emailSubscriptions: ofType(stateful, 'AWS::SNS::Subscription').filter(
      ([, r]) => r.Properties?.Protocol === 'email',
    ).length,
    backupRetentionDays: bucket ? backupRetention(bucket) : 0,
    tablesWithPitr: ofType(stateful, 'AWS::DynamoDB::Table').filter(
      ([, r]) =>
        (r.Properties?.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean })
          ?.PointInTimeRecoveryEnabled,
    ).length,
  };
}

function backupRetention(bucket: CfnResourceJson): number {
  const p = bucket.Properties ?? {};
  const lock = (p.ObjectLockConfiguration as { Rule?: { DefaultRetention?: { Days?: number } } })?.Rule
    ?.DefaultRetention?.Days;
  const rules = ((
    p.LifecycleConfiguration as { Rules?: { NoncurrentVersionExpiration?: { NoncurrentDays?: number } }[] }
  )?.Rules ?? []) as { NoncurrentVersionExpiration?: { NoncurrentDays?: number } }[];
  const noncurrent = Math.max(0, ...rules.map((r) => r.NoncurrentVersionExpiration?.NoncurrentDays ?? 0));
  return Math.max(lock ?? 0, noncurrent);
}
