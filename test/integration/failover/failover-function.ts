/**
 * The failover function on a test table as the CDK app wires it: the table's real stream, as the
 * synthesized event source mapping filters it, feeding the batch handler, whose fan-out is
 * idempotent through Powertools on its own idempotency table (as the synthesized app defines it).
 */
import type { ReconcileResult } from '../../../shared/failover/service.js';
import { createFailoverBatchHandler, type FailoverBatchOptions } from '../../../shared/failover/batch.js';
import { createIdempotencyStore } from '../../../shared/failover/idempotency.js';
import type { FailoverDeps } from '../../../shared/failover/ports.js';
import { failoverFilterCriteria } from '../../helpers/assembly.js';
import { createTestIdempotencyTable, type TestTable } from '../../helpers/ddb.js';
import { openStream } from './stream-records.js';

/** The failover batch handler (`(event, context) → { batchItemFailures }`). */
export type FailoverHandler = ReturnType<typeof createFailoverBatchHandler>;

/** A failover function started by {@link startFailoverFunction}. */
export interface TestFailoverFunction {
  /** The table's stream records that the deployed mapping's filter lets through. */
  stream: Awaited<ReturnType<typeof openStream>>;
  /** The handler on the deps it was started with. */
  handler: FailoverHandler;
  /**
   * Another invocation's handler on the same idempotency table (a concurrent or retried
   * invocation), on `deps`, reporting each group reconciled to `onResult`.
   */
  handlerFor(deps: FailoverDeps, onResult?: (result: ReconcileResult) => void): FailoverHandler;
}

/**
 * Create the idempotency table on `table`'s endpoint, open `table`'s stream with the synthesized
 * filter criteria, and build the handler on `deps` (`onResult` sees each group reconciled).
 * Close `stream` when done.
 */
export async function startFailoverFunction(
  table: TestTable,
  deps: FailoverDeps,
  onResult?: (result: ReconcileResult) => void,
): Promise<TestFailoverFunction> {
  const idempotencyTable = await createTestIdempotencyTable(table.client);
  const handlerFor = (d: FailoverDeps, seen?: (result: ReconcileResult) => void): FailoverHandler => {
    const options: FailoverBatchOptions = {
      persistenceStore: createIdempotencyStore(idempotencyTable, table.client),
      ...(seen ? { onResult: seen } : {}),
    };
    return createFailoverBatchHandler(d, options);
  };
  const stream = await openStream(
    table.client,
    table.tableName,
    table.endpoint,
    await failoverFilterCriteria(),
  );
  return { stream, handler: handlerFor(deps, onResult), handlerFor };
}
