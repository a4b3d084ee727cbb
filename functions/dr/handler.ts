/**
 * The DR task function: every step of the four DR state machines (Backup, SwitchoverDcToDr,
 * FailbackDrToDc, WeeklyDrill). Step Functions invokes it with `{ task, workflow, executionId,
 * … }`; it runs shared/dr's task of that name and returns its result. Errors keep their class
 * name (DirectorUnavailableError, RestoreFailedError…) so the state machines' Retry and Catch
 * match on them. Not for manual use: start the state machines instead.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { configFromEnv } from '../../shared/config/load.js';
import type { SiteName } from '../../shared/domain/model.js';
import { apiKeyProvider } from '../../shared/director/secrets.js';
import { createZwanDirector, type ZwanDirector } from '../../shared/director/zwan/adapter.js';
import { createDrDeps, drSettings, powertoolsDrMetrics, SnsDrNotifier } from '../../shared/dr/adapters.js';
import { createDrTasks, runDrTask, type DrTasks } from '../../shared/dr/tasks.js';
import { ConfigError } from '../../shared/errors.js';
import { logger, withObservability } from '../../shared/observability.js';
import { getDocumentClient } from '../../shared/store/dynamo.js';
import { StateRepository } from '../../shared/store/state-repo.js';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError('environment', [{ path: name, value, expected: 'set by the CDK app' }]);
  return value;
}

/** Build the tasks once per container from the environment the CDK app sets. */
function tasksFromEnv(): DrTasks {
  const config = configFromEnv();
  if (config.director.kind !== 'zwan')
    throw new ConfigError('configuration', [
      {
        path: 'director.kind',
        value: config.director.kind,
        expected: 'zwan (DR workflows need zWAN directors)',
      },
    ]);
  const zwan = config.director;
  const directors = new Map<SiteName, ZwanDirector>();
  const director = (site: SiteName): ZwanDirector => {
    let d = directors.get(site);
    if (!d) {
      d = createZwanDirector({
        site,
        baseUrl: zwan.sites[site].baseUrl,
        apiKey: apiKeyProvider({ secretName: zwan.secretName, site }),
      });
      directors.set(site, d);
    }
    return d;
  };
  const lockTtl = Number(process.env.DR_LOCK_TTL_SEC ?? '');
  const settings = drSettings(
    config,
    requireEnv('BUCKET_NAME'),
    Number.isInteger(lockTtl) && lockTtl > 0 ? { lockTtlSec: lockTtl } : {},
  );
  const repo = new StateRepository(getDocumentClient(), requireEnv('TABLE_NAME'), Date.now, {
    auditTtlDays: config.auditTtlDays,
  });
  return createDrTasks(
    createDrDeps({
      mode: config.mode,
      repo,
      s3: new S3Client({}),
      settings,
      directors: director,
      notifier: new SnsDrNotifier(new SNSClient({}), requireEnv('TOPIC_ARN')),
      metrics: powertoolsDrMetrics,
      log: logger,
    }),
  );
}

let tasks: DrTasks | undefined;

/** Lambda entry point (see cdk/constructs/dr-workflows.ts). */
export const handler = withObservability(async (event: unknown): Promise<unknown> => {
  tasks ??= tasksFromEnv();
  return runDrTask(tasks, event);
});
