/**
 * The Concentrator page as a CloudWatch dashboard custom widget: the dashboard calls this
 * function and shows the HTML it answers; the page's buttons call it again with the action
 * (see shared/page/). Event: what CloudWatch sends (samples in ./events/).
 */
import type { Context } from 'aws-lambda';
import { parseEvent } from '../../shared/failover/console-events.js';
import { withObservability } from '../../shared/observability.js';
import { pageDepsFromEnv } from '../../shared/page/runtime.js';
import { concentratorWidget, widgetEventSchema } from '../../shared/page/widget.js';

/** Lambda entry point: the buttons call this same function (its ARN from the context). */
export const handler = withObservability(async (event: unknown, context: Context) =>
  concentratorWidget(pageDepsFromEnv(), parseEvent(widgetEventSchema, event, 'concentrator-page event'), {
    endpoint: context.invokedFunctionArn,
  }),
);
