/**
 * The first sandbox parts: DynamoDB Local, the state table, the zWAN simulator, the functions'
 * configuration (time-scaled) and the health-check handler on a timer (the EventBridge schedule).
 * The table and the schedule come from the synthesized app (./assembly.ts).
 */
import type { Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { parseConfig, resetConfigCache } from '../../shared/config/load.js';
import { DR_DEFAULTS, type Config } from '../../shared/config/schema.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import { createHealthRunDeps } from '../../shared/health/deps.js';
import { directorLossNotices } from '../../shared/health/director-lost.js';
import type { DirectorLossListener, HealthTransitionEvent } from '../../shared/health/run.js';
import { LocalPublisher } from '../../shared/notify/local.js';
import { createNotifier } from '../../shared/notify/notifier.js';
import { silentLog, type MetricSink } from '../../shared/observability.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { DEFAULT_HEALTH_CONFIG } from '../../shared/domain/model.js';
import { createDynamoClients } from '../../shared/store/dynamo.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../emulators/dynamodb-local.js';
import { createTableFromAssembly, functionSchedule } from '../runtime/local-assembly.js';
import { createZwanSimulator, loadTopology, SIM_API_KEY } from '../simulator/index.js';
import { abortableSleep, need, sandboxMode, type PartFactory, type SandboxContext } from './parts.js';
import { describeZwanExternal } from './zwan-external.js';

/** Default health cadence (config defaults), scaled by the time scale. */
const BASE_SAMPLE_INTERVAL_SEC = 5;

/**
 * The gap rule at a time scale: two sample intervals (the default), scaled like the cadence, but
 * never under one second of wall clock. At scale 60 two intervals are 167 ms, and a loaded
 * machine stalls that long (GC, a busy DynamoDB Local, the test runner's other workers) without a
 * sample being missed; each stall restarted the hold, so HA_DC1 could stay UNKNOWN for the
 * whole run. A director outage (seconds of wall clock) still restarts it.
 */
export function sandboxMaxSampleGapSec(scale: number): number {
  return Math.max((2 * BASE_SAMPLE_INTERVAL_SEC) / scale, 1);
}

/** DynamoDB Local (or the endpoint given with `--dynamodb-endpoint`). */
export const dynamoPart: PartFactory = (options) => {
  let local: DynamoDbLocal | undefined;
  let destroy: (() => void) | undefined;
  return {
    name: 'dynamodb',
    async start(ctx) {
      let endpoint = options.dynamoEndpoint;
      if (!endpoint) {
        local = await startDynamoDbLocal();
        endpoint = local.endpoint;
      }
      const clients = createDynamoClients({ endpoint });
      destroy = () => clients.client.destroy();
      ctx.dynamo = { endpoint, ...clients };
      ctx.setEnv('DYNAMODB_ENDPOINT', endpoint);
      ctx.print(`DynamoDB Local at ${endpoint}${local ? '' : ' (given)'}`);
    },
    async stop() {
      destroy?.();
      await local?.stop();
    },
  };
};

/** The state table, created as the synthesized stateful stack defines it. */
export const tablePart: PartFactory = () => ({
  name: 'table',
  async start(ctx) {
    const dynamo = need(ctx, 'dynamo', 'table');
    const assembly = need(ctx, 'assembly', 'table');
    const tableName = `cpe-failover-sandbox-${randomBytes(3).toString('hex')}`;
    await createTableFromAssembly(dynamo.client, assembly.stateTable, tableName);
    ctx.tableName = tableName;
    ctx.setEnv('TABLE_NAME', tableName);
    ctx.print(`state table ${tableName}`);
  },
  async stop() {},
});

/** The zWAN simulator (both site directors) with the default or given topology. */
export const simulatorPart: PartFactory = (options) => {
  if (options.director === 'meraki') return undefined; // local/sandbox/meraki.ts
  if (options.zwanExternal) return undefined; // the directors given with --director-url
  let close: (() => Promise<void>) | undefined;
  return {
    name: 'simulator',
    async start(ctx) {
      const sim = await createZwanSimulator(
        options.topologyPath ? { topology: await loadTopology(options.topologyPath) } : {},
      );
      close = () => sim.close();
      ctx.simulator = sim;
      ctx.setEnv(API_KEY_ENV, SIM_API_KEY);
      ctx.print(`zWAN simulator: DC ${sim.url('DC')}  DR ${sim.url('DR')}`);
    },
    async stop() {
      await close?.();
    },
  };
};

/** The functions' configuration: the simulator's directors, health cadence and hold divided by the time scale. */
export const configPart: PartFactory = (options) =>
  options.director === 'meraki' ? undefined : zwanConfigPart(options);

const zwanConfigPart: PartFactory = (options) => ({
  name: 'config',
  async start(ctx) {
    const scale = options.timeScale;
    const external = options.zwanExternal;
    let directors: { sites: Record<'DC' | 'DR', string>; tenants: string[] };
    if (external) {
      ctx.setEnv(API_KEY_ENV, external.apiKey());
      ctx.print(describeZwanExternal(external, options.observe === true));
      directors = external;
    } else {
      const sim = need(ctx, 'simulator', 'config');
      directors = {
        sites: { DC: sim.url('DC'), DR: sim.url('DR') },
        tenants: [...new Set([...sim.world.cpes.values()].map((c) => c.tenantId))].sort(),
      };
    }
    const config = parseConfig(
      {
        env: 'sandbox',
        mode: sandboxMode(options),
        director: {
          kind: 'zwan',
          sites: { DC: { baseUrl: directors.sites.DC }, DR: { baseUrl: directors.sites.DR } },
          secretName: 'sandbox (CPE_FAILOVER_API_KEY is used)',
          tenants: directors.tenants,
        },
        health: {
          sampleIntervalSec: BASE_SAMPLE_INTERVAL_SEC / scale,
          recoverAfterSec: DEFAULT_HEALTH_CONFIG.recoverAfterSec / scale,
          maxSampleGapSec: sandboxMaxSampleGapSec(scale),
        },
        dr: {
          directorLostAfterSec: DR_DEFAULTS.directorLostAfterSec / scale,
          drainAfterSec: DR_DEFAULTS.drainAfterSec / scale,
          ...options.scenarioConfig?.dr,
        },
      },
      'sandbox configuration',
    );
    ctx.config = config;
    ctx.setEnv('CPE_FAILOVER_CONFIG', JSON.stringify(config));
    resetConfigCache();
    ctx.print(
      `time scale ${scale}: a sample every ${round(config.health.sampleIntervalSec)} s, ` +
        `DOWN after ${config.health.failAfter} bad, UP after ${round(config.health.recoverAfterSec)} s clean ` +
        `(a gap over ${round(config.health.maxSampleGapSec ?? 0)} s restarts it), ` +
        `DIRECTOR_LOST after ${round(config.dr.directorLostAfterSec)} s unreachable`,
    );
  },
  async stop() {
    resetConfigCache();
  },
});

function round(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/**
 * DIRECTOR_LOST and DIRECTOR_BACK printed as `notify …` lines (and audited in the table), and,
 * with `dr.autoSwitchover`, the switchover started through the scenario's starter
 * (`ctx.switchoverStarter`, looked up when the loss happens).
 */
function sandboxDirectorLoss(ctx: SandboxContext, config: Config): DirectorLossListener {
  const noMetrics: MetricSink = { count: () => undefined, durationMs: () => undefined };
  const repo = new StateRepository(
    need(ctx, 'dynamo', 'health-check').doc,
    need(ctx, 'tableName', 'health-check'),
  );
  const notifier = createNotifier({
    publisher: new LocalPublisher((line) => ctx.print(`notify ${line}`)),
    audit: repo,
    log: silentLog,
    metrics: noMetrics,
  });
  const listener = () =>
    directorLossNotices({
      notifier,
      log: silentLog,
      autoSwitchover: config.dr.autoSwitchover,
      ...(ctx.switchoverStarter ? { starter: ctx.switchoverStarter } : {}),
    });
  return {
    lost: (evidence) => listener().lost(evidence),
    back: (site, at, lostAt) => listener().back(site, at, lostAt),
  };
}

/** `HA_DC1 (DC/ACTIVE)  UP → DOWN  why` with the group. */
export function formatTransition(t: HealthTransitionEvent): string {
  return `${t.groupKey}  ${t.name} (${t.slot})  ${t.from} → ${t.to}  ${t.reason}`;
}

/** A Lambda context for local invocations. */
export function localContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomBytes(8).toString('hex'),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The health-check handler (the real middy/Powertools one) on a timer: the synthesized schedule's
 * period divided by the time scale (a run's samples are already scaled by the configuration), with
 * the synthesized timeout, never two runs at once (reserved concurrency 1). Transitions are
 * printed the moment they are written.
 */
export const healthCheckPart: PartFactory = (options) => {
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  return {
    name: 'health-check',
    async start(ctx: SandboxContext) {
      const config = need(ctx, 'config', 'health-check');
      const tableName = need(ctx, 'tableName', 'health-check');
      const assembly = need(ctx, 'assembly', 'health-check');
      const schedule = functionSchedule(assembly, 'health-check');
      const timeoutSec = assembly.functionTimeoutsSec['health-check'];
      if (!schedule || timeoutSec === undefined)
        throw new Error('the synthesized app has no health-check function on a rate(...) schedule');
      const signal = AbortSignal.any([stopping.signal, ctx.signal]);
      const sleep = abortableSleep(signal);
      // Imported here so Powertools reads the environment the sandbox has set.
      const { createHealthCheckHandler } = await import('../../functions/health-check/handler.js');
      const deps = createHealthRunDeps({
        config,
        tableName,
        sleep,
        directorTuning: { timeoutMs: 2_000 },
        directorLoss: sandboxDirectorLoss(ctx, config),
      });
      const handler = createHealthCheckHandler({
        deps: () => deps,
        signal,
        onTransition: (t) => ctx.print(formatTransition(t)),
      });
      const periodMs = schedule.rateMs / options.timeScale;
      const timeoutMs = timeoutSec * 1000;
      loop = (async () => {
        let next = Date.now();
        while (!signal.aborted) {
          try {
            await handler(
              { source: 'aws.events', 'detail-type': 'Scheduled Event' },
              localContext('health-check', timeoutMs),
            );
          } catch (error) {
            if (!signal.aborted)
              ctx.print(`health-check failed: ${(error as Error).name}: ${(error as Error).message}`);
          }
          next += periodMs;
          await sleep(Math.max(0, next - Date.now()));
          next = Math.max(next, Date.now() - periodMs);
        }
      })();
    },
    async stop() {
      stopping.abort();
      await loop;
    },
  };
};
