/**
 * Rehearsal: the failover rehearsal state machine (a practice run of one HA group onto a standby
 * concentrator and back) on its own task function (functions/rehearsal/handler.ts, dispatching on
 * `task`), with logging, X-Ray and an alarm on failed executions.
 *
 * ValidateInput → WaitForWindow (until `notBefore`) → CheckGroup → MoveToTarget (a pin that
 * expires after the window) → VerifyOnTarget loop → Restore (unpin) → VerifyBack loop → Report.
 * A refusal at CheckGroup changes nothing (ReportRefused → Refused). Any failure from the move on
 * is caught: Restore → VerifyBack → ReportAborted → Aborted. A failing Restore or VerifyBack goes
 * to ReportRestoreFailed → RestoreFailed (the pin still lapses at its expiry). Every Report writes
 * the audit event and publishes the report; on success the report is the execution's output.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { RehearsalOutcome } from '../../shared/rehearsal/report.js';
import { TRANSIENT_ERRORS } from './dr-workflows.js';
import { ControllerFunction, grantPublish, logRetention, type SharedResources } from './function.js';
import { acknowledgeLate, acknowledgeWildcards, grantStateTable, nagRender } from './least-privilege.js';

/** The state machine's name ends with this (`cpe-failover-<env>-Rehearsal`). */
export const REHEARSAL_MACHINE = 'Rehearsal';

/** State names (tests and the sandbox refer to them). */
export const REHEARSAL_STATES = {
  validate: 'ValidateInput',
  wait: 'WaitForWindow',
  check: 'CheckGroup',
  move: 'MoveToTarget',
  verifyTarget: 'VerifyOnTarget',
  restore: 'Restore',
  verifyBack: 'VerifyBack',
} as const;

/** Props of {@link Rehearsal}. */
export interface RehearsalProps {
  /** Configuration, state table, notifications topic, director secret. */
  readonly shared: SharedResources;
  /** Wait between two looks at the director's listing while verifying. @default Duration.seconds(15) */
  readonly pollInterval?: Duration;
  /**
   * Execution timeout: the longest window an operator may choose (7 days) plus both verify
   * timeouts. @default Duration.days(8)
   */
  readonly executionTimeout?: Duration;
  /** Timeout of the task function (one pin or unpin re-points a whole group). @default Duration.minutes(5) */
  readonly taskTimeout?: Duration;
}

/** The Rehearsal state machine, its task function and its alarm. */
export class Rehearsal extends Construct {
  /** The task function (re-points branches through pin and unpin). */
  readonly taskFunction: NodejsFunction;
  readonly stateMachine: StateMachine;
  /** Any execution that failed (refused, aborted, or the restore failed). */
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: RehearsalProps) {
    super(scope, id);
    const { shared } = props;
    const config = shared.config;
    const pollInterval = props.pollInterval ?? Duration.seconds(15);
    const fn = new ControllerFunction(this, 'Task', {
      name: 'rehearsal',
      description:
        'The steps of the Rehearsal state machine (check, pin onto the standby, verify, unpin, verify, report). Invoked by Step Functions with a `task` field; start the state machine instead.',
      shared,
      timeout: props.taskTimeout ?? Duration.minutes(5),
    }).fn;
    grantStateTable(shared.table, fn, 'rehearsal', config);
    shared.secret.grantRead(fn);
    grantPublish(shared.topic, fn);
    this.taskFunction = fn;

    const defs = new Construct(this, 'Definition');
    const task = (name: string, taskName: string, args: Record<string, unknown>, resultPath: string) => {
      const state = new LambdaInvoke(defs, name, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        payload: TaskInput.fromObject({
          task: taskName,
          executionId: JsonPath.executionId,
          ...args,
        }),
        resultPath,
        taskTimeout: Timeout.duration(props.taskTimeout ?? Duration.minutes(5)),
      });
      state.addRetry({
        errors: [...TRANSIENT_ERRORS],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 4,
      });
      return state;
    };
    const withState = { 'state.$': '$' };
    const S = REHEARSAL_STATES;

    const validate = task(S.validate, 'validateInput', { 'input.$': '$' }, '$.input');
    const wait = new Wait(defs, S.wait, { time: WaitTime.timestampPath('$.input.notBefore') });
    const check = task(S.check, 'check', withState, '$.check');
    const move = task(S.move, 'move', withState, '$.moved');
    const onTarget = task(S.verifyTarget, 'verify', { ...withState, phase: 'target' }, '$.onTarget');
    const restore = task(S.restore, 'restore', withState, '$.restore');
    const back = task(S.verifyBack, 'verify', { ...withState, phase: 'back' }, '$.back');
    const report = (outcome: RehearsalOutcome, name: string) => {
      const r = task(name, 'report', { ...withState, outcome }, '$.report');
      r.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
      return r;
    };
    const fail = (name: string, errorPath: string) =>
      new Fail(defs, name, { errorPath, causePath: '$.report.summary' });

    const reportRefused = report('REFUSED', 'ReportRefused');
    reportRefused.next(fail('Refused', '$.error.Error'));
    const reportAborted = report('ABORTED', 'ReportAborted');
    reportAborted.next(fail('Aborted', '$.error.Error'));
    const reportRestoreFailed = report('RESTORE_FAILED', 'ReportRestoreFailed');
    reportRestoreFailed.next(fail('RestoreFailed', '$.restoreError.Error'));
    const reportSucceeded = report('SUCCEEDED', 'ReportSucceeded');
    reportSucceeded.next(new Succeed(defs, 'Done', { outputPath: '$.report' }));

    check.addCatch(reportRefused, { resultPath: '$.error' });
    for (const s of [move, onTarget]) s.addCatch(restore, { resultPath: '$.error' });
    for (const s of [restore, back]) s.addCatch(reportRestoreFailed, { resultPath: '$.restoreError' });

    const waitTarget = new Wait(defs, 'WaitOnTarget', { time: WaitTime.duration(pollInterval) });
    const waitBack = new Wait(defs, 'WaitBack', { time: WaitTime.duration(pollInterval) });
    const aborted = new Choice(defs, 'Aborted?')
      .when(Condition.isPresent('$.error'), reportAborted)
      .otherwise(reportSucceeded);
    validate.next(wait).next(check).next(move).next(onTarget);
    onTarget.next(
      new Choice(defs, 'OnTarget?')
        .when(Condition.booleanEquals('$.onTarget.done', true), restore)
        .otherwise(waitTarget),
    );
    waitTarget.next(onTarget);
    restore.next(back);
    back.next(
      new Choice(defs, 'Back?')
        .when(Condition.booleanEquals('$.back.done', true), aborted)
        .otherwise(waitBack),
    );
    waitBack.next(back);

    this.stateMachine = new StateMachine(this, REHEARSAL_MACHINE, {
      stateMachineName: `cpe-failover-${config.env}-${REHEARSAL_MACHINE}`,
      comment:
        'cpe-failover: failover rehearsal of one HA group onto a standby concentrator and back, with a per-branch report',
      definitionBody: DefinitionBody.fromChainable(validate),
      timeout: props.executionTimeout ?? Duration.days(8),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: logRetention(config) }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    acknowledgeWildcards(this.stateMachine, ['logDelivery', 'xray']);
    acknowledgeLate(this, () => [
      {
        scope: this.stateMachine,
        id: `AwsSolutions-IAM5[Resource::${nagRender(Stack.of(this).resolve(fn.functionArn))}:*]`,
        reason: 'Invoking the rehearsal task function by any version or alias of that one function.',
      },
    ]);
    this.failedAlarm = new Alarm(this, 'RehearsalFailed', {
      alarmDescription:
        'A failover rehearsal did not succeed (refused, aborted and restored, or its restore failed): read its report in the notice or the audit trail.',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.failedAlarm.addAlarmAction(new SnsAction(shared.topic));
  }
}
