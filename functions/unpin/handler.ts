/** Console: remove an HA group's pin; election decides again. Event: see ./events/. */
import { unpinGroup } from '../../shared/failover/console.js';
import { parseEvent, unpinEventSchema } from '../../shared/failover/console-events.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** Lambda entry point. */
export const handler = withObservability(async (event: unknown) =>
  unpinGroup(failoverDepsFromEnv(), parseEvent(unpinEventSchema, event, 'unpin event')),
);
