/**
 * The simulator's default lab (tenant `lab-tenant`, group Chennai: HA_DC1, HA_DC2 and DR) as the
 * tests that run the functions' real entry points arrange it: a configuration pointing at the
 * simulator, the environment the handlers read, and stored health.
 */
import { resetConfigCache } from '../../shared/config/load.js';
import type { ConfigInput } from '../../shared/config/schema.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import type { CandidateSlot, Health, SiteName } from '../../shared/domain/model.js';
import { StateRepository } from '../../shared/store/state-repo.js';
import { createZwanSimulator, SIM_API_KEY, type ZwanSimulator } from '../../local/simulator/index.js';
import { createTestTable, type TestTable } from './ddb.js';

/** The default lab's tenant and group. */
export const LAB_TENANT = 'lab-tenant';
export const LAB_GROUP = 'lab-tenant#Chennai';

/** The lab's concentrators and their candidate slots. */
export const LAB_CONCENTRATORS = {
  HA_DC1: { slot: 'DC/ACTIVE', site: 'DC' },
  HA_DC2: { slot: 'DC/PASSIVE', site: 'DC' },
  DR: { slot: 'DR/ACTIVE', site: 'DR' },
} as const satisfies Record<string, { slot: CandidateSlot; site: SiteName }>;

/** A zWAN director section on the simulator (the API key comes from CPE_FAILOVER_API_KEY). */
export function simDirectorConfig(sim: ZwanSimulator, tenants: string[]): ConfigInput['director'] {
  return {
    kind: 'zwan',
    sites: { DC: { baseUrl: sim.url('DC') }, DR: { baseUrl: sim.url('DR') } },
    secretName: 'unused-in-tests',
    tenants,
  };
}

/**
 * Set environment variables for a function's real entry point. Resolves a function that puts
 * them back as found (integration files share one process under --runInBand).
 */
export function setFunctionEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * The environment the functions' real entry points build their deps from (as the CDK app sets
 * it), on `tableName` with `config` and the simulator's API key; the idempotency table and the
 * topic are named but unused. Resolves the function that restores the environment.
 */
export function setLabFunctionEnv(tableName: string, config: ConfigInput): () => void {
  return setFunctionEnv({
    TABLE_NAME: tableName,
    IDEMPOTENCY_TABLE_NAME: 'unused-in-tests',
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:000000000000:unused',
    [API_KEY_ENV]: SIM_API_KEY,
    CPE_FAILOVER_CONFIG: JSON.stringify(config),
  });
}

/** Store each named lab concentrator's health in the lab group, as of `since`. */
export async function saveLabHealth(
  repo: StateRepository,
  health: Partial<Record<keyof typeof LAB_CONCENTRATORS, Health>>,
  since = Date.UTC(2026, 10, 21),
): Promise<void> {
  for (const [id, h] of Object.entries(health)) {
    await repo.saveHealth({
      groupKey: LAB_GROUP,
      tenantId: LAB_TENANT,
      targetId: id,
      name: id,
      ...LAB_CONCENTRATORS[id as keyof typeof LAB_CONCENTRATORS],
      state: { health: h, badStreak: 0, cleanSince: null, since },
    });
  }
}

/** A fresh table and the lab simulator, with the functions' environment pointing at them. */
export interface LabFunctions {
  table: TestTable;
  sim: ZwanSimulator;
  repo: StateRepository;
  /** Restore the environment, forget the cached config, stop the simulator, drop the table. */
  stop(): Promise<void>;
}

/**
 * Start a table `<name>-<unique>` and the default lab simulator and set the functions'
 * environment ({@link setLabFunctionEnv}): configuration `env`, the zWAN director on the
 * simulator for `tenants` (default: the lab tenant), and `health` settings.
 */
export async function startLabFunctions(
  name: string,
  config: { env: string; tenants?: string[]; health?: ConfigInput['health'] },
): Promise<LabFunctions> {
  const table = await createTestTable(name);
  const sim = await createZwanSimulator();
  const restoreEnv = setLabFunctionEnv(table.tableName, {
    env: config.env,
    director: simDirectorConfig(sim, config.tenants ?? [LAB_TENANT]),
    ...(config.health ? { health: config.health } : {}),
  });
  resetConfigCache();
  return {
    table,
    sim,
    repo: new StateRepository(table.doc, table.tableName),
    stop: async () => {
      // Integration files share one process (--runInBand): leave the environment as found.
      restoreEnv();
      resetConfigCache();
      await sim.close();
      await table.drop();
    },
  };
}
