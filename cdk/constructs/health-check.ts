/**
 * HealthCheck: the health-check function on an EventBridge `rate(1 minute)` schedule. Each run
 * takes `samplesPerRun` samples `sampleIntervalSec` apart; reserved concurrency 1 keeps two runs
 * from overlapping.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';
import { HEALTH_ENV } from '../../shared/health/env.js';
import { roundOffsetsSec } from '../../shared/health/run.js';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';
import { grantStateTable } from './least-privilege.js';

/** Props of {@link HealthCheck}. */
export interface HealthCheckProps {
  /** The shared resources. */
  readonly shared: SharedResources;
  /**
   * Seconds added to `samplesPerRun × sampleIntervalSec` for the function timeout (inventory and
   * director calls, the end-of-run writes).
   * @default 30
   */
  readonly timeoutMarginSec?: number;
  /** Schedule of the runs. @default Schedule.rate(Duration.minutes(1)) */
  readonly schedule?: Schedule;
  /** @default 512 */
  readonly memorySize?: number;
}

/** The function timeout for a configuration: the sampling time plus a margin. */
export function healthCheckTimeout(config: Config, marginSec = 30): Duration {
  const { samplesPerRun, sampleIntervalSec } = config.health;
  const lastRound = Math.max(...roundOffsetsSec(config.health));
  return Duration.seconds(Math.ceil(Math.max(samplesPerRun * sampleIntervalSec, lastRound) + marginSec));
}

/** The scheduled health check. */
export class HealthCheck extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;
  /** The schedule rule. */
  readonly rule: Rule;
  /** The function timeout (used by the duration alarm). */
  readonly timeout: Duration;
  private readonly config: Config;

  constructor(scope: Construct, id: string, props: HealthCheckProps) {
    super(scope, id);
    const { shared } = props;
    this.timeout = healthCheckTimeout(shared.config, props.timeoutMarginSec);
    this.fn = new ControllerFunction(this, 'HealthCheck', {
      name: 'health-check',
      description:
        "Runs every minute: samples the concentrators of every HA group and each site's director, writes health transitions and the monitor-blind verdict to the state table (the failover function acts on them). Not for manual use.",
      shared,
      timeout: this.timeout,
      memorySize: props.memorySize,
      reservedConcurrentExecutions: 1,
    }).fn;
    // It reads and writes health and director status items (not groups, branches, site roles,
    // the DR lock or backups: see FUNCTION_TABLE_ACCESS) and reads the director key; it
    // publishes DIRECTOR_LOST and DIRECTOR_BACK (every other notice comes from the failover).
    grantStateTable(shared.table, this.fn, 'health-check', shared.config);
    shared.secret.grantRead(this.fn);
    grantPublish(shared.topic, this.fn);

    this.config = shared.config;
    this.rule = new Rule(this, 'Schedule', {
      description: 'Starts a health-check run every minute.',
      schedule: props.schedule ?? Schedule.rate(Duration.minutes(1)),
      // A missed run is not retried: the next one starts a minute later.
      targets: [new LambdaFunction(this.fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });
  }

  /**
   * With `dr.autoSwitchover` on, let the function start `switchover` on DIRECTOR_LOST (its ARN in
   * the environment, a grant to start it). Off: nothing is added.
   */
  allowSwitchoverStart(switchover: IStateMachine): void {
    if (!this.config.dr.autoSwitchover) return;
    this.fn.addEnvironment(HEALTH_ENV.switchoverArn, switchover.stateMachineArn);
    switchover.grantStartExecution(this.fn);
  }
}
