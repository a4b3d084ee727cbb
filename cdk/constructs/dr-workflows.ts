/**
 * DrWorkflows: the four DR state machines (Backup, SwitchoverDcToDr, FailbackDrToDc, WeeklyDrill)
 * on ONE DR task function (functions/dr/handler.ts, dispatching on `task`), the daily backup
 * and Sunday drill schedules, logging and X-Ray on every state machine.
 *
 * Every machine: validates its input first (a bad input fails at once, naming the field), takes
 * the one DR lock, polls director jobs with Wait/Choice loops bounded by a poll budget, retries
 * transient director errors by name with backoff, and on any caught error runs compensation →
 * failure notification → lock release → Fail with the original error name. The lock is released
 * on every exit path (its TTL covers an execution killed from outside).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Chain,
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type IChainable,
  type State,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import type { Workflow } from '../../shared/dr/inputs.js';
import { DR_METRICS } from '../../shared/dr/tasks.js';
import { ConfigError } from '../../shared/errors.js';
import { ELK_ROOT, MSP_ROOT } from '../../shared/dr/layout.js';
import {
  DR_STATE_NAMES,
  DRAIN_MARGIN_SEC,
  FENCE_RETRY_INTERVAL_SEC,
  fenceStateName,
  TRANSIENT_ERRORS,
} from '../../shared/dr/machine.js';
import { ControllerFunction, grantPublish, logRetention, type SharedResources } from './function.js';
import { acknowledgeLate, acknowledgeWildcards, grantStateTable, nagRender } from './least-privilege.js';

// The machines' constants live in shared/ (free of aws-cdk-lib, for the checker).
export { DR_STATE_NAMES, DRAIN_MARGIN_SEC, FENCE_RETRY_INTERVAL_SEC, fenceStateName, TRANSIENT_ERRORS };

/**
 * Fail synth unless `dr.drainAfterSec` is at least the longest timeout of `repointing` (the
 * functions that re-point branches) plus {@link DRAIN_MARGIN_SEC}: a switchover or failback that
 * fences an unreachable old site by draining relies on every fan-out on it having ended by then.
 */
export function checkDrainAfter(config: Config, repointing: readonly LambdaFunction[]): void {
  if (repointing.length === 0) return;
  // Lambda's own default when a function sets no timeout: 3 s.
  const timeouts = repointing.map((fn) => ({ fn, sec: fn.timeout?.toSeconds() ?? 3 }));
  const longest = timeouts.reduce((a, b) => (b.sec > a.sec ? b : a));
  const minimum = longest.sec + DRAIN_MARGIN_SEC;
  if (config.dr.drainAfterSec < minimum) {
    throw new ConfigError(`configuration for env ${config.env}`, [
      {
        path: 'dr.drainAfterSec',
        value: config.dr.drainAfterSec,
        expected: `at least ${minimum} s: the longest timeout of the functions that re-point (${longest.sec} s, ${longest.fn.node.path}) plus ${DRAIN_MARGIN_SEC} s, so every fan-out on an unreachable old site has ended before a switchover or failback changes the roles`,
      },
    ]);
  }
}

/** Props of {@link DrWorkflows}. */
export interface DrWorkflowsProps {
  /** Configuration, state table, backup bucket, notifications topic, director secret. */
  readonly shared: SharedResources;
  /**
   * The DR task function (handler functions/dr/handler.ts). Given one, the caller grants it.
   * @default - a new function built with ControllerFunction ('dr'), granted table, bucket, topic, secret
   */
  readonly taskFunction?: IFunction;
  /** Daily backup schedule. @default Schedule.expression(config.backup.schedule) (12:00 UTC) */
  readonly backupSchedule?: Schedule;
  /** Weekly drill schedule. @default Schedule.expression(config.backup.drillSchedule) (Sunday) */
  readonly drillSchedule?: Schedule;
  /** Wait between two polls of a director job (each finished job costs at most this much extra). @default Duration.seconds(15) */
  readonly pollInterval?: Duration;
  /** Polls before a RUNNING job counts as hung (JobTimeoutError). @default 120 (30 min at 15 s) */
  readonly maxJobPolls?: number;
  /** How long a switchover or failback waits for an operator's approval. @default Duration.hours(2) */
  readonly approvalTimeout?: Duration;
  /** Execution timeout of every state machine (the lock's TTL is longer). @default Duration.hours(6) */
  readonly executionTimeout?: Duration;
  /**
   * The functions that re-point branches (failover, drift reconcile, update-branches, pin,
   * unpin): synth fails unless `dr.drainAfterSec` is at least their longest timeout plus
   * {@link DRAIN_MARGIN_SEC} (see {@link checkDrainAfter}).
   * @default - none (nothing to check against)
   */
  readonly repointingFunctions?: readonly LambdaFunction[];
}

/** The workflows with an operator approval step (a task token in the RequestApproval input). */
export const APPROVAL_WORKFLOWS: readonly Workflow[] = ['SwitchoverDcToDr', 'FailbackDrToDc'];

/** Key prefixes the DR task function reads (backup verification): MSP configuration and both ELK roots. */
export const BACKUP_READ_PREFIXES = [MSP_ROOT, ELK_ROOT.DC, ELK_ROOT.DR] as const;
/** Key prefixes it deletes current versions under (Case1 cleanup, drill prune): the ELK roots only. */
export const BACKUP_DELETE_PREFIXES = [ELK_ROOT.DC, ELK_ROOT.DR] as const;

/**
 * The DR task function's access to the backup bucket: GetObject under the backup prefixes,
 * ListBucket (so a missing object is NoSuchKey, not AccessDenied), DeleteObject of current
 * versions under `dcrepository/` and `drrepository/` only (a delete marker: with versioning and
 * Object Lock every version stays), kms:Decrypt of the bucket key; and an explicit deny of
 * everything that could destroy a backup version or loosen its lock.
 */
function grantBackupBucket(owner: Construct, shared: SharedResources, fn: IFunction): void {
  const bucketArn = shared.bucket.bucketArn;
  const objects = (prefixes: readonly string[]) => prefixes.map((p) => `${bucketArn}/${p}*`);
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['s3:GetObject'], resources: objects(BACKUP_READ_PREFIXES) }),
  );
  fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] }));
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['s3:DeleteObject'], resources: objects(BACKUP_DELETE_PREFIXES) }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.DENY,
      actions: [
        's3:DeleteObjectVersion',
        's3:BypassGovernanceRetention',
        's3:PutObjectRetention',
        's3:PutObjectLegalHold',
        's3:PutBucketObjectLockConfiguration',
        's3:PutLifecycleConfiguration',
        's3:PutBucketVersioning',
        's3:PutBucketPolicy',
        's3:DeleteBucket',
      ],
      resources: [bucketArn, `${bucketArn}/*`],
    }),
  );
  const key = shared.bucket.encryptionKey;
  if (key) fn.addToRolePolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
  acknowledgeLate(owner, () =>
    objects(BACKUP_READ_PREFIXES).map((resource) => ({
      scope: fn,
      id: `AwsSolutions-IAM5[Resource::${nagRender(Stack.of(owner).resolve(resource))}]`,
      reason: BACKUP_DELETE_PREFIXES.some((p) => resource.endsWith(`/${p}*`))
        ? 'Backup objects have per-backup keys (site and time): read (verify) and delete current versions (Case1 cleanup, drill) under this ELK root of the one backup bucket.'
        : 'Backup objects have per-backup keys (site and time): read (verify) under the MSP configuration root of the one backup bucket.',
    })),
  );
}

/** Build-time context of one state machine. */
interface MachineScope {
  scope: Construct;
  workflow: Workflow;
  fn: IFunction;
  /** Every state that must route errors to the failure chain. */
  catchers: LambdaInvoke[];
}

/** The four DR state machines, their schedules and alarms. */
export class DrWorkflows extends Construct {
  /** The DR task function. */
  readonly taskFunction: IFunction;
  readonly backup: StateMachine;
  readonly switchover: StateMachine;
  readonly failback: StateMachine;
  readonly drill: StateMachine;
  /** Daily backup rule and the weekly drill rule. */
  readonly backupRule: Rule;
  readonly drillRule: Rule;

  private readonly pollInterval: Duration;
  private readonly maxJobPolls: number;
  private readonly approvalTimeout: Duration;
  private readonly drainAfterSec: number;

  constructor(scope: Construct, id: string, props: DrWorkflowsProps) {
    super(scope, id);
    const { shared } = props;
    const config = shared.config;
    checkDrainAfter(config, props.repointingFunctions ?? []);
    this.drainAfterSec = config.dr.drainAfterSec;
    this.pollInterval = props.pollInterval ?? Duration.seconds(15);
    this.maxJobPolls = props.maxJobPolls ?? 120;
    this.approvalTimeout = props.approvalTimeout ?? Duration.hours(2);
    const executionTimeout = props.executionTimeout ?? Duration.hours(6);

    if (props.taskFunction) {
      this.taskFunction = props.taskFunction;
    } else {
      const fn = new ControllerFunction(this, 'DrTask', {
        name: 'dr',
        description:
          'The steps of the DR state machines (backup, verify, restore, site roles, cleanup). Invoked by Step Functions with a `task` field; not for manual use.',
        shared,
        // Verifying a backup streams every object through SHA-256.
        timeout: Duration.minutes(10),
        memorySize: 1024,
        environment: { DR_LOCK_TTL_SEC: String(executionTimeout.toSeconds() + 3600) },
      }).fn;
      grantStateTable(shared.table, fn, 'dr', shared.config);
      grantBackupBucket(this, shared, fn);
      shared.secret.grantRead(fn);
      grantPublish(shared.topic, fn);
      this.taskFunction = fn;
    }

    const machine = (name: Workflow, build: (m: MachineScope) => IChainable): StateMachine => {
      const m: MachineScope = {
        scope: new Construct(this, `${name}Definition`),
        workflow: name,
        fn: this.taskFunction,
        catchers: [],
      };
      const body = build(m);
      const failure = this.failureChain(m);
      for (const state of m.catchers) state.addCatch(failure, { resultPath: '$.error' });
      const sm = new StateMachine(this, name, {
        stateMachineName: `cpe-failover-${config.env}-${name}`,
        comment: `cpe-failover DR: ${name}`,
        definitionBody: DefinitionBody.fromChainable(body),
        timeout: executionTimeout,
        tracingEnabled: true,
        logs: {
          destination: new LogGroup(this, `${name}Logs`, { retention: logRetention(config) }),
          level: LogLevel.ALL,
          // The approval step's task token is in its input: the machines that ask for an approval
          // log events without their data (the execution history in Step Functions keeps it).
          includeExecutionData: !APPROVAL_WORKFLOWS.includes(name),
        },
      });
      acknowledgeWildcards(sm, ['logDelivery', 'xray']);
      acknowledgeLate(this, () => [
        {
          scope: sm,
          id: `AwsSolutions-IAM5[Resource::${nagRender(Stack.of(this).resolve(this.taskFunction.functionArn))}:*]`,
          reason: 'Invoking the DR task function by any version or alias of that one function.',
        },
      ]);
      return sm;
    };

    this.backup = machine('Backup', (m) => this.backupDefinition(m));
    this.switchover = machine('SwitchoverDcToDr', (m) => this.switchoverDefinition(m));
    this.failback = machine('FailbackDrToDc', (m) => this.failbackDefinition(m));
    this.drill = machine('WeeklyDrill', (m) => this.drillDefinition(m));

    this.backupRule = new Rule(this, 'DailyBackup', {
      description: 'Starts the DR Backup state machine (daily, 12:00 UTC by default).',
      schedule: props.backupSchedule ?? Schedule.expression(config.backup.schedule),
      targets: [
        new SfnStateMachine(this.backup, { input: RuleTargetInput.fromObject({ trigger: 'schedule' }) }),
      ],
    });
    this.drillRule = new Rule(this, 'WeeklyDrillSchedule', {
      description: 'Starts the DR WeeklyDrill state machine (Sunday).',
      schedule: props.drillSchedule ?? Schedule.expression(config.backup.drillSchedule),
      targets: [
        new SfnStateMachine(this.drill, { input: RuleTargetInput.fromObject({ trigger: 'schedule' }) }),
      ],
    });

    const namespace = config.observability.metricsNamespace;
    const dims = { service: config.observability.serviceName };
    new Alarm(this, 'BackupVerificationFailed', {
      alarmDescription:
        'A director backup failed verification (an object is missing or its size/SHA-256 differs from the manifest); it was not recorded.',
      metric: new Metric({
        namespace,
        metricName: DR_METRICS.verificationFailed,
        dimensionsMap: dims,
        statistic: 'Sum',
        period: Duration.hours(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(shared.topic));
    for (const sm of [this.backup, this.switchover, this.failback, this.drill]) {
      new Alarm(this, `${sm.node.id}Failed`, {
        alarmDescription: `An execution of the DR ${sm.node.id} state machine failed (after compensation and lock release).`,
        metric: sm.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(shared.topic));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Building blocks

  /** One task on the DR function. `catchable` routes its errors to the failure chain. */
  private task(
    m: MachineScope,
    name: string,
    task: string,
    args: Record<string, unknown>,
    resultPath: string | null,
    options: { catchable?: boolean; retry?: readonly string[]; maxAttempts?: number } = {},
  ): LambdaInvoke {
    const state = new LambdaInvoke(m.scope, name, {
      lambdaFunction: m.fn,
      payloadResponseOnly: true,
      payload: TaskInput.fromObject({
        task,
        workflow: m.workflow,
        executionId: JsonPath.executionId,
        // `$$.State.Name`, known here: with the execution id it names the step, and a job start
        // derives its director client token from the pair (a Retry of the state reuses it).
        stateName: name,
        ...args,
      }),
      resultPath: resultPath ?? JsonPath.DISCARD,
      taskTimeout: Timeout.duration(Duration.minutes(10)),
    });
    const retry = options.retry ?? TRANSIENT_ERRORS;
    if (retry.length > 0) {
      state.addRetry({
        errors: [...retry],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: options.maxAttempts ?? 4,
      });
    }
    if (options.catchable ?? true) m.catchers.push(state);
    return state;
  }

  /** Validate the input, then take the lock (neither is caught: nothing to undo yet). */
  private start(m: MachineScope): { first: LambdaInvoke; last: LambdaInvoke } {
    // The validated input (defaults applied) goes to $.input; everything after reads it there.
    const validate = this.task(m, DR_STATE_NAMES.validate, 'validateInput', { 'input.$': '$' }, '$.input', {
      catchable: false,
      retry: [],
    });
    const lock = this.task(m, DR_STATE_NAMES.lock, 'acquireLock', {}, '$.lock', {
      catchable: false,
      retry: [],
    });
    // Taking the lock is idempotent for this execution: any failure but "someone else holds it"
    // (a crash or a timeout after the write landed) is retried, so a dying attempt does not
    // leave the lock held until its TTL and every DR workflow refused meanwhile.
    lock.addRetry({ errors: ['WorkflowLockedError', 'ValidationError'], maxAttempts: 0 });
    lock.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
    validate.next(lock);
    return { first: validate, last: lock };
  }

  /** Release the lock, then succeed. */
  private finish(m: MachineScope): State {
    const release = this.task(m, DR_STATE_NAMES.release, 'releaseLock', {}, null, {
      catchable: false,
      retry: ['States.ALL'],
    });
    release.next(new Succeed(m.scope, 'Done'));
    return release;
  }

  /** Compensate → notify → release → Fail with the original error name and cause. */
  private failureChain(m: MachineScope): IChainable {
    const target = m.workflow === 'FailbackDrToDc' ? 'DC' : m.workflow === 'Backup' ? undefined : 'DR';
    // The site a switchover or failback fences (FenceOldSite may have set it PASSIVE).
    const oldSite =
      m.workflow === 'SwitchoverDcToDr' ? 'DC' : m.workflow === 'FailbackDrToDc' ? 'DR' : undefined;
    const compensate = this.task(
      m,
      'Compensate',
      'compensate',
      { 'state.$': '$', ...(target ? { target } : {}), ...(oldSite ? { oldSite } : {}) },
      '$.compensation',
      { catchable: false },
    );
    const notify = this.task(m, 'NotifyFailure', 'notify', { outcome: 'FAILED', 'state.$': '$' }, null, {
      catchable: false,
    });
    const release = this.task(m, 'ReleaseLockAfterFailure', 'releaseLock', {}, null, {
      catchable: false,
      retry: ['States.ALL'],
    });
    const fail = new Fail(m.scope, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    // A failing compensation or notification must never keep the lock.
    compensate.addCatch(notify, { resultPath: '$.compensationError' });
    notify.addCatch(release, { resultPath: '$.notifyError' });
    return compensate.next(notify).next(release).next(fail);
  }

  /** Start a job, then Wait → Poll → Choice until it SUCCEEDED (poll budget: JobTimeoutError). */
  private jobLoop(m: MachineScope, prefix: string, startState: LambdaInvoke, jobPath: string): Chain {
    const wait = new Wait(m.scope, `${prefix}Wait`, { time: WaitTime.duration(this.pollInterval) });
    const poll = this.task(
      m,
      `${prefix}Poll`,
      'pollJob',
      { 'job.$': jobPath, maxPolls: this.maxJobPolls },
      jobPath,
    );
    const done = new Pass(m.scope, `${prefix}Done`);
    const choice = new Choice(m.scope, `${prefix}Finished?`)
      .when(Condition.stringEquals(`${jobPath}.state`, 'SUCCEEDED'), done)
      .otherwise(wait);
    startState.next(wait);
    wait.next(poll);
    poll.next(choice);
    return Chain.custom(startState, [done], done);
  }

  /**
   * Back up `site` (a literal or `$.sites.active`), wait, verify + record into `$.backup`. The
   * location is planned in a step of its own, so every retry of StartBackup sends the director
   * the same request under the same client token (one job, however many attempts).
   */
  private backupChain(m: MachineScope, prefix: string, site: string, trigger: string): Chain {
    const siteArg = site.startsWith('$') ? { 'site.$': site } : { site };
    const triggerArg = trigger.startsWith('$') ? { 'trigger.$': trigger } : { trigger };
    const plan = this.task(m, `${prefix}PlanBackup`, 'planBackup', siteArg, '$.backupPlan', { retry: [] });
    const start = this.task(
      m,
      `${prefix}StartBackup`,
      'startBackup',
      { 'plan.$': '$.backupPlan' },
      '$.backupJob',
    );
    plan.next(start);
    const loop = this.jobLoop(m, `${prefix}Backup`, start, '$.backupJob');
    const verify = this.task(
      m,
      `${prefix}VerifyBackup`,
      'verifyBackup',
      { 'job.$': '$.backupJob', ...triggerArg },
      '$.backup',
    );
    const chain = loop.next(verify);
    return Chain.custom(plan, chain.endStates, verify);
  }

  /** Restore the backup at `backupPath` into `site`, wait, check that director is healthy. */
  private restoreChain(m: MachineScope, site: 'DC' | 'DR', backupPath: string): Chain {
    const start = this.task(
      m,
      `RestoreInto${site}`,
      'startRestore',
      { site, 'backup.$': backupPath },
      '$.restoreJob',
    );
    const loop = this.jobLoop(m, `Restore${site}`, start, '$.restoreJob');
    const healthy = this.task(
      m,
      `Check${site}DirectorHealthy`,
      'checkDirectorHealthy',
      { site },
      '$.health',
      {
        retry: [...TRANSIENT_ERRORS, 'DirectorUnhealthyError'],
        maxAttempts: 6,
      },
    );
    return loop.next(healthy);
  }

  /**
   * Optional operator approval (task token), then fence the site giving up ACTIVE, then set the
   * roles. The fence retries OldSiteNotFencedError every {@link FENCE_RETRY_INTERVAL_SEC} for a
   * little longer than `dr.drainAfterSec` (an unreachable old director is fenced by that drain),
   * then fails through compensation with the roles unchanged.
   */
  private approvalThenRoles(m: MachineScope, active: 'DC' | 'DR'): { entry: State; roles: LambdaInvoke } {
    const old = active === 'DC' ? 'DR' : 'DC';
    const fence = this.task(m, fenceStateName(old), 'fenceOldSite', { site: old }, '$.fence', { retry: [] });
    fence.addRetry({
      errors: ['OldSiteNotFencedError'],
      interval: Duration.seconds(FENCE_RETRY_INTERVAL_SEC),
      backoffRate: 1,
      maxAttempts: Math.ceil(this.drainAfterSec / FENCE_RETRY_INTERVAL_SEC) + 2,
    });
    fence.addRetry({
      errors: [...TRANSIENT_ERRORS],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 4,
    });
    const roles = this.task(
      m,
      `Make${active}Active`,
      'setSiteRoles',
      { active, 'fence.$': '$.fence' },
      '$.roles',
    );
    fence.next(roles);
    const request = new LambdaInvoke(m.scope, DR_STATE_NAMES.requestApproval, {
      lambdaFunction: m.fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        task: 'requestApproval',
        workflow: m.workflow,
        executionId: JsonPath.executionId,
        taskToken: JsonPath.taskToken,
        summary: { 'input.$': '$.input', 'restored.$': '$.restoreJob.location', 'health.$': '$.health' },
      }),
      resultPath: '$.approval',
      taskTimeout: Timeout.duration(this.approvalTimeout),
    });
    m.catchers.push(request);
    const check = this.task(
      m,
      'CheckApproval',
      'checkApproval',
      { 'approval.$': '$.approval' },
      '$.approval',
    );
    request.next(check).next(fence);
    const entry = new Choice(m.scope, 'NeedsApproval?')
      .when(Condition.booleanEquals('$.input.approval', true), request)
      .otherwise(fence);
    return { entry, roles };
  }

  // ------------------------------------------------------------------------------------------
  // The four definitions

  private backupDefinition(m: MachineScope): IChainable {
    const { first, last } = this.start(m);
    const sites = this.task(m, 'ResolveSites', 'resolveSites', {}, '$.sites');
    const backup = this.backupChain(m, '', '$.sites.active', '$.input.trigger');
    const age = this.task(m, 'PublishBackupAge', 'publishBackupAge', {}, '$.age');
    const release = this.finish(m);
    // The run's start (when it took the lock) is checked against the schedule by the task.
    const cleanup = this.task(
      m,
      'RunPendingCleanup',
      'runPendingCleanup',
      { 'startedAt.$': '$.lock.at' },
      '$.cleanup',
    );
    cleanup.next(release);
    const scheduled = new Choice(m.scope, 'Scheduled?')
      .when(Condition.stringEquals('$.input.trigger', 'schedule'), cleanup)
      .otherwise(release);
    last.next(sites).next(backup).next(age).next(scheduled);
    return first;
  }

  private switchoverDefinition(m: MachineScope): IChainable {
    const { first, last } = this.start(m);
    const require = this.task(m, 'RequireDcActive', 'requireActive', { site: 'DC' }, '$.sites');
    const restore = this.restoreChain(m, 'DR', '$.source');
    const planned = this.backupChain(m, 'Planned', 'DC', 'on-demand');
    const useBackup = new Pass(m.scope, 'UseNewBackup', { inputPath: '$.backup', resultPath: '$.source' });
    const latest = this.task(m, 'FindLatestBackup', 'findLatestBackup', {}, '$.source');
    planned.next(useBackup);
    useBackup.next(restore);
    latest.next(restore);
    const mode = new Choice(m.scope, 'Planned?')
      .when(Condition.stringEquals('$.input.mode', 'planned'), planned)
      .otherwise(latest);
    const { entry, roles } = this.approvalThenRoles(m, 'DR');
    restore.next(entry);
    const url = this.task(m, 'SetDrManagementUrl', 'setManagementUrl', { site: 'DR' }, '$.managementUrl');
    const ssh = this.task(m, 'ListSshOnboardedCpes', 'listSshCpes', { site: 'DR' }, '$.sshCpes');
    const notify = this.task(m, 'NotifySuccess', 'notify', { outcome: 'SUCCEEDED', 'state.$': '$' }, null);
    roles.next(url).next(ssh).next(notify).next(this.finish(m));
    last.next(require).next(mode);
    return first;
  }

  private failbackDefinition(m: MachineScope): IChainable {
    const { first, last } = this.start(m);
    const require = this.task(m, 'RequireDrActive', 'requireActive', { site: 'DR' }, '$.sites');
    const backup = this.backupChain(m, 'Dr', 'DR', 'on-demand');
    const restore = this.restoreChain(m, 'DC', '$.backup');
    const { entry, roles } = this.approvalThenRoles(m, 'DC');
    const url = this.task(m, 'SetDcManagementUrl', 'setManagementUrl', { site: 'DC' }, '$.managementUrl');
    const ssh = this.task(m, 'ListSshOnboardedCpes', 'listSshCpes', { site: 'DC' }, '$.sshCpes');
    const pending = this.task(
      m,
      'MarkCleanupPending',
      'markCleanupPending',
      { 'roles.$': '$.roles' },
      '$.cleanup',
    );
    const notify = this.task(m, 'NotifySuccess', 'notify', { outcome: 'SUCCEEDED', 'state.$': '$' }, null);
    last.next(require).next(backup).next(restore).next(entry);
    roles.next(url).next(ssh).next(pending).next(notify).next(this.finish(m));
    return first;
  }

  private drillDefinition(m: MachineScope): IChainable {
    const { first, last } = this.start(m);
    const sites = this.task(m, 'ResolveSites', 'resolveSites', {}, '$.sites');
    const release = this.finish(m);
    const backup = this.backupChain(m, 'Drill', 'DC', '$.input.trigger');
    const restore = this.restoreChain(m, 'DR', '$.backup');
    const prune = this.task(
      m,
      'PruneSupersededDcFiles',
      'pruneSuperseded',
      { 'keep.$': '$.backup' },
      '$.pruned',
    );
    const notify = this.task(m, 'NotifySuccess', 'notify', { outcome: 'SUCCEEDED', 'state.$': '$' }, null);
    backup.next(restore).next(prune).next(notify).next(release);
    const explain = this.task(m, 'ExplainSkip', 'explainSkip', {}, '$.skip');
    const notifySkip = this.task(m, 'NotifySkipped', 'notify', { outcome: 'SKIPPED', 'state.$': '$' }, null);
    explain.next(notifySkip).next(release);
    const dcActive = new Choice(m.scope, 'DcActive?')
      .when(Condition.stringEquals('$.sites.active', 'DC'), backup)
      .otherwise(explain);
    last.next(sites).next(dcActive);
    return first;
  }
}
