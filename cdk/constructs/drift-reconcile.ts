/**
 * DriftReconcile: the drift reconcile function on an EventBridge schedule (config
 * `reconcile.schedule`, default `rate(5 minutes)`). Reserved concurrency 1: a pass that outlasts
 * the period is not overlapped by the next (throttled, dropped: the one after runs). A failed
 * pass is not retried; the next pass re-reads everything anyway.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';
import { grantStateTable } from './least-privilege.js';

/** Props of {@link DriftReconcile}. */
export interface DriftReconcileProps {
  /** The shared resources. */
  readonly shared: SharedResources;
  /** @default Schedule.expression(config.reconcile.schedule) */
  readonly schedule?: Schedule;
  /** A pass over every group, rate-limited by `repoint.requestsPerSecond`. @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
}

/** The scheduled drift reconcile. */
export class DriftReconcile extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;
  /** The schedule rule. */
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DriftReconcileProps) {
    super(scope, id);
    const { shared } = props;
    const schedule = props.schedule ?? Schedule.expression(shared.config.reconcile.schedule);
    this.fn = new ControllerFunction(this, 'Reconcile', {
      name: 'reconcile',
      description: `Runs on ${shared.config.reconcile.schedule}: re-elects every HA group and re-points branches whose tunnels are not on the serving concentrator (reboots, replaced CPEs, failed re-points), rate-limited. Not for manual use (use update-branches).`,
      shared,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize,
      reservedConcurrentExecutions: 1,
    }).fn;
    // Re-election writes group records, alarms and branch outcomes; audit events; notices.
    grantStateTable(shared.table, this.fn, 'reconcile', shared.config);
    shared.secret.grantRead(this.fn);
    grantPublish(shared.topic, this.fn);
    this.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    this.rule = new Rule(this, 'Schedule', {
      description: `Starts a drift reconcile pass (${shared.config.reconcile.schedule}).`,
      schedule,
      targets: [new LambdaFunction(this.fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
