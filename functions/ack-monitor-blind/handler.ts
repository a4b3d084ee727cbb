/**
 * Console: acknowledge MONITOR_BLIND. After a mass DOWN the health check suspects its own view
 * and every change is on hold until enough targets are UP again; an operator who has checked
 * that the view is right (the concentrators really are down) invokes this to let failover act.
 * An unreachable director keeps the hold until it answers. Event: see ./events/.
 */
import { acknowledgeMonitorBlind } from '../../shared/failover/console.js';
import { ackMonitorBlindEventSchema, parseEvent } from '../../shared/failover/console-events.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** Lambda entry point. */
export const handler = withObservability(async (event: unknown) =>
  acknowledgeMonitorBlind(
    failoverDepsFromEnv(),
    parseEvent(ackMonitorBlindEventSchema, event, 'ack-monitor-blind event'),
  ),
);
