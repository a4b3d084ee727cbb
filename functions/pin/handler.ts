/**
 * Console: pin an HA group onto one concentrator (maintenance). Refused onto a concentrator
 * that is not UP unless `force: true`. Event: see ./events/.
 */
import { pinGroup } from '../../shared/failover/console.js';
import { parseEvent, pinEventSchema } from '../../shared/failover/console-events.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** Lambda entry point. */
export const handler = withObservability(async (event: unknown) =>
  pinGroup(failoverDepsFromEnv(), parseEvent(pinEventSchema, event, 'pin event')),
);
