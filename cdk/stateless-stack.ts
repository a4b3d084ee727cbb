/**
 * The stateless stack: the functions, their triggers, the alarms and the dashboard. It can be
 * destroyed and redeployed at will; everything with data lives in the stateful stack.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { ConcentratorPage } from './constructs/concentrator-page.js';
import { ConsoleOperations } from './constructs/console-operations.js';
import { DriftReconcile } from './constructs/drift-reconcile.js';
import { DrWorkflows } from './constructs/dr-workflows.js';
import { Failover } from './constructs/failover.js';
import type { SharedResources } from './constructs/function.js';
import { HealthCheck } from './constructs/health-check.js';
import { Monitoring } from './constructs/monitoring.js';
import { Rehearsal } from './constructs/rehearsal.js';

/** Props of {@link StatelessStack}. */
export interface StatelessStackProps extends StackProps {
  /** The stateful stack's resources and the validated configuration. */
  readonly shared: SharedResources;
}

/** Functions, triggers, DR workflows, alarms, dashboard. */
export class StatelessStack extends Stack {
  /** The scheduled health check. */
  readonly healthCheck: HealthCheck;
  /** The stream-triggered failover. */
  readonly failover: Failover;
  /** The scheduled drift reconcile. */
  readonly driftReconcile: DriftReconcile;
  /** The console operations. */
  readonly consoleOperations: ConsoleOperations;
  /** The Concentrator page: the dashboard widget's function (its buttons run the console operations). */
  readonly concentratorPage: ConcentratorPage;
  /** The DR state machines, their task function, schedules and alarms. */
  readonly drWorkflows: DrWorkflows;
  /** The failover rehearsal state machine, its task function and alarm. */
  readonly rehearsal: Rehearsal;
  /** Alarms and dashboard. */
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { shared } = props;
    this.healthCheck = new HealthCheck(this, 'HealthCheck', { shared });
    this.failover = new Failover(this, 'Failover', { shared });
    this.driftReconcile = new DriftReconcile(this, 'DriftReconcile', { shared });
    this.consoleOperations = new ConsoleOperations(this, 'ConsoleOperations', { shared });
    this.concentratorPage = new ConcentratorPage(this, 'ConcentratorPage', { shared });
    this.rehearsal = new Rehearsal(this, 'Rehearsal', { shared });
    this.drWorkflows = new DrWorkflows(this, 'DrWorkflows', {
      shared,
      // Synth checks dr.drainAfterSec against the longest timeout of these.
      repointingFunctions: [
        this.failover.fn,
        this.driftReconcile.fn,
        this.consoleOperations.updateBranches,
        this.consoleOperations.pin,
        this.consoleOperations.unpin,
        this.concentratorPage.fn,
        this.rehearsal.taskFunction,
      ],
    });
    // dr.autoSwitchover: DIRECTOR_LOST of the DC director starts the switchover (with approval).
    this.healthCheck.allowSwitchoverStart(this.drWorkflows.switchover);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      config: shared.config,
      topic: shared.topic,
      healthCheck: this.healthCheck.fn,
      healthCheckTimeout: this.healthCheck.timeout,
      failover: this.failover.fn,
      failoverDlq: this.failover.dlq,
      driftReconcile: this.driftReconcile.fn,
      pageWidget: this.concentratorPage.widget,
      additionalAlarms: [
        ...this.drWorkflows.node.findAll().filter((c): c is Alarm => c instanceof Alarm),
        this.rehearsal.failedAlarm,
      ],
    });
  }
}
