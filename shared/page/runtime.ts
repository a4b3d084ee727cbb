/** The page's deps in a Lambda container: the failover deps and the state repository from the environment. */
import { configFromEnv } from '../config/load.js';
import { FAILOVER_ENV, failoverDepsFromEnv, requireEnv } from '../failover/runtime.js';
import { getDynamoClients } from '../store/dynamo.js';
import { StateRepository } from '../store/state-repo.js';
import type { PageDeps } from './view.js';

let cached: PageDeps | undefined;

/** Built on first use, like {@link failoverDepsFromEnv}. */
export function pageDepsFromEnv(env: NodeJS.ProcessEnv = process.env): PageDeps {
  if (cached) return cached;
  const config = configFromEnv(env);
  const repo = new StateRepository(
    getDynamoClients().doc,
    requireEnv(FAILOVER_ENV.tableName, env),
    Date.now,
    {
      auditTtlDays: config.auditTtlDays,
    },
  );
  cached = { failover: failoverDepsFromEnv(env), repo };
  return cached;
}
