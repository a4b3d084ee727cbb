/**
 * ConcentratorPage: the Concentrator page as a custom widget on the controller's dashboard. The
 * dashboard calls the function to draw the widget; the page's buttons ("Update Branch to Active
 * Node", pin, unpin, acknowledge MONITOR_BLIND) call the same function with the action, which
 * runs the console operation of that name (shared/page/). Operators need `lambda:InvokeFunction`
 * on it to see and use the widget.
 */
import { Duration } from 'aws-cdk-lib';
import { CustomWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ControllerFunction, grantPublish, type SharedResources } from './function.js';
import { grantStateTable } from './least-privilege.js';

/** Props of {@link ConcentratorPage}. */
export interface ConcentratorPageProps {
  /** The shared resources. */
  readonly shared: SharedResources;
  /** Timeout: an Apply re-points a whole group. @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Widget width in dashboard grid units (of 24). @default 24 */
  readonly width?: number;
  /** Widget height in dashboard grid units. @default 18 */
  readonly height?: number;
}

/** The page's function and its dashboard widget (placed by Monitoring, `pageWidget`). */
export class ConcentratorPage extends Construct {
  /** The widget's function (renders the page, runs its buttons). */
  readonly fn: NodejsFunction;
  /** The widget for the dashboard. */
  readonly widget: CustomWidget;

  constructor(scope: Construct, id: string, props: ConcentratorPageProps) {
    super(scope, id);
    const { shared } = props;
    this.fn = new ControllerFunction(this, 'Function', {
      name: 'concentrator-page',
      description:
        'Dashboard custom widget: the Concentrator page (per HA group: serving, candidates, branches, pin, alarms, timeline) and its buttons (update branches with a dry run first, pin, unpin, acknowledge MONITOR_BLIND), which run the console operations.',
      shared,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize,
    }).fn;
    // Reads like status, acts like update-branches / pin / unpin / ack-monitor-blind.
    grantStateTable(shared.table, this.fn, 'concentrator-page', shared.config);
    shared.secret.grantRead(this.fn);
    grantPublish(shared.topic, this.fn);
    this.widget = new CustomWidget({
      functionArn: this.fn.functionArn,
      title: 'Concentrators',
      width: props.width ?? 24,
      height: props.height ?? 18,
      // The page is live state, not a time series.
      updateOnTimeRangeChange: false,
      updateOnResize: false,
    });
  }
}
