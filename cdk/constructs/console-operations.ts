/**
 * ConsoleOperations: the functions an operator invokes from the Lambda console (Test tab, with
 * the sample events in functions/<name>/events/).
 */
import { Duration } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';
import { grantStateTable } from './least-privilege.js';

/** Props of {@link ConsoleOperations}. */
export interface ConsoleOperationsProps {
  /** The shared resources. */
  readonly shared: SharedResources;
  /** Timeout of the operations that may re-point a whole group. @default Duration.minutes(5) */
  readonly repointTimeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
}

/** update-branches, pin, unpin, status and ack-monitor-blind. */
export class ConsoleOperations extends Construct {
  /** "Update Branch to Active Node": re-point a group's (or a tenant's) branches. */
  readonly updateBranches: NodejsFunction;
  /** Force a group onto a concentrator. */
  readonly pin: NodejsFunction;
  /** Remove a pin. */
  readonly unpin: NodejsFunction;
  /** Read-only overview. */
  readonly status: NodejsFunction;
  /** Acknowledge MONITOR_BLIND: let failover act on the health check's view. */
  readonly ackMonitorBlind: NodejsFunction;

  constructor(scope: Construct, id: string, props: ConsoleOperationsProps) {
    super(scope, id);
    const { shared } = props;
    const repointTimeout = props.repointTimeout ?? Duration.minutes(5);
    const make = (
      cid: string,
      name: 'update-branches' | 'pin' | 'unpin' | 'status' | 'ack-monitor-blind',
      description: string,
      timeout: Duration,
    ) =>
      new ControllerFunction(this, cid, { name, description, shared, timeout, memorySize: props.memorySize })
        .fn;

    this.updateBranches = make(
      'UpdateBranches',
      'update-branches',
      'Console: re-point every branch of one HA group (or every group of a tenant) to its serving concentrator. Event: {"tenant":"…","group":"…"} or {"tenant":"…"}; add "dryRun":true to see the plan without changing anything.',
      repointTimeout,
    );
    this.pin = make(
      'Pin',
      'pin',
      'Console: force an HA group onto a named concentrator (maintenance) with a reason and optional expiry; election honours the pin. Refuses a DOWN concentrator unless "force":true.',
      repointTimeout,
    );
    this.unpin = make(
      'Unpin',
      'unpin',
      'Console: remove the pin of an HA group; election decides its serving concentrator again.',
      repointTimeout,
    );
    this.status = make(
      'Status',
      'status',
      'Console (read-only): every HA group with its serving concentrator, epoch, candidates health and since when, pins, drifted branches, open alarms, and the monitor-blind verdict.',
      Duration.minutes(1),
    );
    this.ackMonitorBlind = make(
      'AckMonitorBlind',
      'ack-monitor-blind',
      'Console: after MONITOR_BLIND, confirm the health view is right (targets really down) so failover acts on it. Event: {"reason":"…","by":"…"}. An unreachable director still holds until it answers.',
      Duration.minutes(1),
    );

    // Only the failover function keeps idempotency records: no idempotency-table grant here.
    const repointing = [
      [this.updateBranches, 'update-branches'],
      [this.pin, 'pin'],
      [this.unpin, 'unpin'],
    ] as const;
    for (const [fn, name] of repointing) {
      grantStateTable(shared.table, fn, name, shared.config);
      shared.secret.grantRead(fn);
      grantPublish(shared.topic, fn);
    }
    // ack-monitor-blind writes the director status items and notifies; it calls no director.
    grantStateTable(shared.table, this.ackMonitorBlind, 'ack-monitor-blind', shared.config);
    grantPublish(shared.topic, this.ackMonitorBlind);
    grantStateTable(shared.table, this.status, 'status', shared.config);
    // status reads each branch's actual target from the director to report drift.
    shared.secret.grantRead(this.status);
  }
}
