/**
 * Console: "Update Branch to Active Node" for one HA group or every group of a tenant.
 * Event: { "tenantId": "...", "haName"?: "...", "dryRun"?: true } (samples in ./events/).
 */
import { updateBranches } from '../../shared/failover/console.js';
import { parseEvent, updateBranchesEventSchema } from '../../shared/failover/console-events.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

/** Lambda entry point. */
export const handler = withObservability(async (event: unknown) =>
  updateBranches(
    failoverDepsFromEnv(),
    parseEvent(updateBranchesEventSchema, event, 'update-branches event'),
  ),
);
