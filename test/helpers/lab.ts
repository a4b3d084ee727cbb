/**
 * The simulator's default lab (tenant `lab-tenant`, group Chennai: HA_DC1, HA_DC2 and DR) as the
 * tests that run the functions' real entry points arrange it: a configuration pointing at the
 * simulator, the environment the handlers read, and stored health.
 */
import type { ConfigInput } from '../../shared/config/schema.js';
import type { CandidateSlot, Health, SiteName } from '../../shared/domain/model.js';
import type { StateRepository } from '../../shared/store/state-repo.js';
import type { ZwanSimulator } from '../../local/simulator/index.js';

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
