/**
 * The failover function: triggered by the state table's stream (health transitions, site-role
 * changes, director reachability). Each affected group is reconciled once per batch; a bad
 * record fails alone (partial batch response). Not for manual use.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createFailoverBatchHandler } from '../../shared/failover/batch.js';
import { idempotencyStoreFromEnv } from '../../shared/failover/idempotency.js';
import { failoverDepsFromEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';

let batchHandler: ReturnType<typeof createFailoverBatchHandler> | undefined;

/** Lambda entry point (see cdk/constructs/failover.ts). */
export const handler = withObservability(
  async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    batchHandler ??= createFailoverBatchHandler(failoverDepsFromEnv(), {
      persistenceStore: idempotencyStoreFromEnv(),
    });
    return batchHandler(event, context);
  },
);
