/**
 * Monitoring: the alarms (all acting on the SNS topic) and the CloudWatch dashboard. Custom
 * metrics are the functions' EMF metrics in the configured namespace with the dimension
 * `service` = POWERTOOLS_SERVICE_NAME; their names are {@link METRIC_NAMES}.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  TextWidget,
  TreatMissingData,
  type IAlarm,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config } from '../../shared/config/schema.js';

/**
 * The custom metric names the functions emit (EMF, unit in brackets):
 * AllDown (Count: 1 per group newly raised, and the number of groups in ALL_DOWN on every drift
 * reconcile pass, 0 included), MonitorBlind (Count: 1 per health-check run that ends
 * blind, and per group newly held), RepointFailures, Failovers, Failbacks,
 * Repoints, BadSamples, Samples, Transitions, InvalidCpes (Count), RunDurationMs (Milliseconds,
 * one per completed health-check run), BackupAgeHours (None: age of the newest verified backup),
 * DirectorUnreachable (Count).
 */
export const METRIC_NAMES = {
  allDown: 'AllDown',
  monitorBlind: 'MonitorBlind',
  repointFailures: 'RepointFailures',
  failovers: 'Failovers',
  failbacks: 'Failbacks',
  repoints: 'Repoints',
  badSamples: 'BadSamples',
  runDurationMs: 'RunDurationMs',
  samples: 'Samples',
  transitions: 'Transitions',
  invalidCpes: 'InvalidCpes',
  backupAgeHours: 'BackupAgeHours',
  /** Emitted by the health check when a site's director cannot be reached (dashboard only). */
  directorUnreachable: 'DirectorUnreachable',
  /** 1 per health-check run while the ACTIVE site's director is lost. */
  directorLost: 'DirectorLost',
  /** Meraki: the third-party VPN peers do not match the hubs' tags and IPs (shared/health/meraki-peers.ts). */
  merakiPeerCheckFailed: 'MerakiPeerCheckFailed',
} as const;
/** One of {@link METRIC_NAMES}. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /** The validated configuration (metrics namespace, service name, backup age limit). */
  readonly config: Config;
  /** Alarm and OK actions go here. */
  readonly topic: ITopic;
  /** The health-check function. */
  readonly healthCheck: IFunction;
  /** The health-check function's timeout. */
  readonly healthCheckTimeout: Duration;
  /** The failover function. */
  readonly failover: IFunction;
  /** The failover on-failure queue. */
  readonly failoverDlq: IQueue;
  /**
   * The scheduled drift reconcile (its errors alarm; its passes report the AllDown level).
   * @default - no such alarm, and AllDown is only the count on entry (evaluated per minute)
   */
  readonly driftReconcile?: IFunction;
  /** Share of the health-check timeout at which the duration alarm fires. @default 0.9 */
  readonly durationAlarmShare?: number;
  /** Minutes without a completed health-check run before the missed-run alarm fires. @default 5 */
  readonly missedRunMinutes?: number;
  /** The Concentrator page widget, shown first under the title. @default - none */
  readonly pageWidget?: IWidget;
  /** Alarms made elsewhere (the DR workflows') to show on the dashboard. @default - none */
  readonly additionalAlarms?: readonly IAlarm[];
}

/** Alarms and dashboard. */
export class Monitoring extends Construct {
  /** Every alarm, by stable id. */
  readonly alarms: Record<string, Alarm>;
  /** The dashboard. */
  readonly dashboard: Dashboard;
  private readonly config: Config;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.config = props.config;
    const minute = Duration.minutes(1);
    const five = Duration.minutes(5);
    const timeoutMs = props.healthCheckTimeout.toMilliseconds();
    const missed = props.missedRunMinutes ?? 5;
    const env = props.config.env;
    const reconcilePeriod = scheduleInterval(props.config.reconcile.schedule) ?? five;

    const specs: Record<
      string,
      {
        metric: Metric;
        threshold: number;
        description: string;
        comparison?: ComparisonOperator;
        evaluationPeriods?: number;
        datapointsToAlarm?: number;
        missing?: TreatMissingData;
      }
    > = {
      FailoverErrors: {
        metric: props.failover.metricErrors({ period: five, statistic: 'Sum' }),
        threshold: 1,
        description:
          'The failover function failed. Failed stream records are retried, then sent to the DLQ; check the function logs.',
      },
      FailoverDlqNotEmpty: {
        metric: props.failoverDlq.metricApproximateNumberOfMessagesVisible({
          period: minute,
          statistic: 'Maximum',
        }),
        threshold: 1,
        description:
          'Stream records the failover function could not process are in the DLQ. Run update-branches for the groups named in them, then purge the queue.',
      },
      AllDown: props.driftReconcile
        ? {
            // Every reconcile pass reports how many groups are in ALL_DOWN: one period per pass (5
            // minutes for a cron schedule). A period without a report (no pass, or one that could
            // not read every group and found none) keeps the alarm as it is.
            metric: this.custom(METRIC_NAMES.allDown, 'Maximum', reconcilePeriod),
            threshold: 1,
            missing: TreatMissingData.IGNORE,
            description: `ALL_DOWN: no candidate of an HA group is UP; its branches stay where they are. Raised when a group enters it, cleared by the first drift reconcile pass (${props.config.reconcile.schedule}) that finds no group in it. Check the concentrators and the status function.`,
          }
        : {
            metric: this.custom(METRIC_NAMES.allDown, 'Maximum', minute),
            threshold: 1,
            description:
              'ALL_DOWN: an HA group entered it (no candidate is UP); its branches stay where they are. Check the concentrators and the status function.',
          },
      MonitorBlind: {
        metric: this.custom(METRIC_NAMES.monitorBlind, 'Maximum', minute),
        threshold: 1,
        description:
          'MONITOR_BLIND: half or more of the monitored concentrators went DOWN at once, or no director answers; every failover is on hold. It clears when enough are UP again or a director answers. If they really are down, invoke ack-monitor-blind; status shows why.',
      },
      DirectorLost: {
        metric: this.custom(METRIC_NAMES.directorLost, 'Maximum', minute),
        threshold: 1,
        description: `DIRECTOR_LOST: the ACTIVE site's director has not answered for ${props.config.dr.directorLostAfterSec} s; no failover is decided on its site's concentrators. If the site is lost, run SwitchoverDcToDr (unplanned)${props.config.dr.autoSwitchover ? ': one was started and waits for your approval' : ''}. Clears when the director answers.`,
      },
      ...(props.config.director.kind === 'meraki'
        ? {
            MerakiPeerCheckFailed: {
              metric: this.custom(METRIC_NAMES.merakiPeerCheckFailed, 'Maximum', minute),
              threshold: 1,
              description:
                "Meraki: the organization's third-party VPN peers do not match the hubs (each hub's _up tag on exactly its own peer, the peer's public IP the hub's tracked IP); tag swaps cannot move tunnels until it is fixed. The health check's error log and status name hub, peer and tag.",
            },
          }
        : {}),
      RepointFailures: {
        metric: this.custom(METRIC_NAMES.repointFailures, 'Sum', five),
        threshold: 1,
        description: `Branches could not be re-pointed; the drift reconcile retries them (${props.config.reconcile.schedule}). If it persists, check the director and run update-branches.`,
      },
      ...(props.driftReconcile
        ? {
            DriftReconcileErrors: {
              metric: props.driftReconcile.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
              threshold: 2,
              description:
                'Drift reconcile passes failed twice in 15 minutes: some groups or tenants were not reconciled (the error names them) or the pass crashed. Check the reconcile logs and the director; update-branches re-points a group by hand.',
            },
          }
        : {}),
      HealthCheckErrors: {
        metric: props.healthCheck.metricErrors({ period: minute, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description:
          'The health-check function failed in 2 of the last 3 minutes; health is not being updated.',
      },
      HealthCheckNearTimeout: {
        metric: props.healthCheck.metricDuration({ period: minute, statistic: 'Maximum' }),
        threshold: Math.round(timeoutMs * (props.durationAlarmShare ?? 0.9)),
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `A health-check run took over ${Math.round((props.durationAlarmShare ?? 0.9) * 100)}% of its ${timeoutMs / 1000} s timeout; the director is slow or there are too many targets.`,
      },
      HealthCheckMissedRun: {
        metric: this.custom(METRIC_NAMES.runDurationMs, 'SampleCount', Duration.minutes(missed)),
        threshold: 1,
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
        description: `No health-check run completed in ${missed} minutes (schedule disabled, throttled or crashing): failover is blind.`,
      },
      BackupTooOld: {
        metric: this.custom(METRIC_NAMES.backupAgeHours, 'Maximum', Duration.hours(1)),
        threshold: props.config.backup.maxAgeHours,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
        description: `The newest verified director backup is older than ${props.config.backup.maxAgeHours} hours (or none was reported). Check the Backup state machine's executions.`,
      },
    };

    const action = new SnsAction(props.topic);
    this.alarms = {};
    for (const [aid, spec] of Object.entries(specs)) {
      const alarm = new Alarm(this, aid, {
        alarmName: `cpe-failover-${env}-${aid}`,
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: spec.evaluationPeriods ?? 1,
        datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods ?? 1,
        treatMissingData: spec.missing ?? TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms[aid] = alarm;
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `cpe-failover-${env}`,
      defaultInterval: Duration.hours(24),
    });
    const sum = (name: MetricName, label: string) => this.custom(name, 'Sum', five).with({ label });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# cpe-failover (${env})\nFailovers and failbacks per 5 minutes, re-points, health samples and run duration. Alarms are on the right; each alarm's description says what to do.`,
        width: 24,
        height: 2,
      }),
    );
    if (props.pageWidget) this.dashboard.addWidgets(props.pageWidget);
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Failovers and failbacks',
        left: [sum(METRIC_NAMES.failovers, 'Failovers'), sum(METRIC_NAMES.failbacks, 'Failbacks')],
        width: 8,
      }),
      new GraphWidget({
        title: 'Re-points',
        left: [
          sum(METRIC_NAMES.repoints, 'Re-points'),
          sum(METRIC_NAMES.repointFailures, 'Re-point failures'),
        ],
        width: 8,
      }),
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms) as IAlarm[],
        width: 8,
        height: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Health samples',
        left: [
          sum(METRIC_NAMES.samples, 'Samples'),
          sum(METRIC_NAMES.badSamples, 'Bad samples'),
          sum(METRIC_NAMES.transitions, 'Transitions'),
          sum(METRIC_NAMES.invalidCpes, 'Invalid CPEs'),
          sum(METRIC_NAMES.directorUnreachable, 'Director unreachable'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Health-check run duration (ms)',
        left: [
          this.custom(METRIC_NAMES.runDurationMs, 'Average', five).with({ label: 'average' }),
          this.custom(METRIC_NAMES.runDurationMs, 'Maximum', five).with({ label: 'maximum' }),
        ],
        leftAnnotations: [{ value: timeoutMs, label: 'timeout' }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'ALL_DOWN / MONITOR_BLIND',
        left: [
          this.custom(METRIC_NAMES.allDown, 'Maximum', minute).with({ label: 'ALL_DOWN' }),
          this.custom(METRIC_NAMES.monitorBlind, 'Maximum', minute).with({ label: 'MONITOR_BLIND' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Newest verified backup age (hours)',
        left: [this.custom(METRIC_NAMES.backupAgeHours, 'Maximum', Duration.hours(1))],
        leftAnnotations: [{ value: props.config.backup.maxAgeHours, label: 'alarm' }],
        width: 8,
      }),
    );
  }

  /** A custom metric in the configured namespace with the `service` dimension. */
  custom(name: MetricName, statistic: string, period: Duration): Metric {
    return new Metric({
      namespace: this.config.observability.metricsNamespace,
      metricName: name,
      dimensionsMap: { service: this.config.observability.serviceName },
      statistic,
      period,
    });
  }
}

/**
 * The interval of an EventBridge `rate(…)` schedule expression, when it is a valid alarm period
 * (a whole number of minutes, at most one day); undefined otherwise (a `cron(…)` expression).
 */
export function scheduleInterval(expression: string): Duration | undefined {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const interval =
    match[2] === 'minute' ? Duration.minutes(n) : match[2] === 'hour' ? Duration.hours(n) : Duration.days(n);
  const seconds = interval.toSeconds();
  return seconds >= 60 && seconds <= 86_400 ? interval : undefined;
}
