/**
 * Console: every HA group with its serving concentrator, epoch, candidates' health and since
 * when, pin, drifted branches and open alarms. Event: {} or { "tenantId": "..." }.
 */
import { groupStatus } from '../../shared/failover/console.js';
import { parseEvent, statusEventSchema } from '../../shared/failover/console-events.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** Lambda entry point. */
export const handler = withObservability(async (event: unknown) =>
  groupStatus(
    failoverDepsFromEnv(process.env, { lane: 'background' }),
    parseEvent(statusEventSchema, event, 'status event'),
  ),
);
