/**
 * The rehearsal task function: every step of the Rehearsal state machine (a failover rehearsal of
 * one HA group; cdk/constructs/rehearsal.ts). Step Functions invokes it with `{ task,
 * executionId, state | input, … }`; it runs shared/rehearsal's task of that name. Errors keep
 * their class name (RehearsalRefusedError, RehearsalNotReachedError…) for the machine's Retry and
 * Catch. Not for manual use: start the state machine with an input like ./events/*.json.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../../shared/config/load.js';
import { failoverDepsFromEnv, FAILOVER_ENV, requireEnv } from '../../shared/failover/runtime.js';
import { withObservability } from '../../shared/observability.js';
import { SnsRehearsalPublisher } from '../../shared/rehearsal/publishers.js';
import { runRehearsalTask, type RehearsalDeps } from '../../shared/rehearsal/tasks.js';
import { getDocumentClient } from '../../shared/store/dynamo.js';
import { StateRepository } from '../../shared/store/state-repo.js';

let deps: RehearsalDeps | undefined;

function depsFromEnv(): RehearsalDeps {
  const config = configFromEnv();
  const tableName = requireEnv(FAILOVER_ENV.tableName, process.env);
  const repo = new StateRepository(getDocumentClient(), tableName, Date.now, {
    auditTtlDays: config.auditTtlDays,
  });
  return {
    failover: failoverDepsFromEnv(),
    audit: repo,
    drLock: repo,
    publisher: new SnsRehearsalPublisher(new SNSClient({}), requireEnv(FAILOVER_ENV.topicArn, process.env)),
    now: Date.now,
    mode: config.mode,
  };
}

/** Lambda entry point (see cdk/constructs/rehearsal.ts). */
export const handler = withObservability(async (event: unknown): Promise<unknown> => {
  deps ??= depsFromEnv();
  return runRehearsalTask(deps, event);
});
