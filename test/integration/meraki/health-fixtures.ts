/**
 * What the read-side tests (health-uplinks, vpn-reach, peers) share: a Meraki simulator over real
 * HTTP on a test clock that the adapter's clock port advances (so settle times and poll intervals
 * pass without waiting), an adapter pointed at it, and the warnings it logs.
 */
import type { MerakiLog } from '../../../shared/director/meraki/notices.js';
import { createMerakiDirector, type MerakiDirectorOptions } from '../../../shared/director/meraki/adapter.js';
import type { TokenBucket } from '../../../shared/director/http.js';
import { DEFAULT_SIM_HUBS } from '../../../local/simulator/meraki/generate.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type MerakiSimulatorOptions,
  type SimOrganization,
} from '../../../local/simulator/meraki/server.js';

export const HUBS = [...DEFAULT_SIM_HUBS];
export const T0 = Date.parse('2026-11-21T12:00:30Z');

/** A simulator on a test clock `clock.t` (epoch ms). */
export type TestSim = MerakiSimulator & { clock: { t: number } };

/** Start a simulator on the test clock; the caller closes it. */
export async function startSim(
  orgs: SimOrganization[],
  options: Partial<MerakiSimulatorOptions> = {},
): Promise<TestSim> {
  const clock = { t: T0 };
  const sim = await createMerakiSimulator({
    organizations: orgs,
    rateLimit: { requestsPerSecond: 500, burst: 50 },
    ipRateLimit: false,
    now: () => clock.t,
    ...options,
  });
  return Object.assign(sim, { clock });
}

/** An adapter on the simulator, whose clock is the simulator's test clock; its warnings collected. */
export function adapterOn(sim: TestSim, over: Partial<MerakiDirectorOptions> & { hubs?: unknown[] } = {}) {
  const { hubs, ...rest } = over;
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const log: MerakiLog = {
    warn: (message, ...a) => warnings.push({ message, fields: Object.assign({}, ...a) }),
    error: (message, ...a) => warnings.push({ message, fields: Object.assign({}, ...a) }),
  };
  const d = createMerakiDirector({
    config: {
      kind: 'meraki',
      baseUrl: sim.baseUrl,
      secretName: 'meraki/api-key',
      organizations: [{ id: 'o1', hubs: (hubs ?? HUBS) as never }],
    },
    apiKey: async () => sim.apiKey,
    rateLimit: { requestsPerSecond: 400, burst: 40 },
    buckets: new Map<string, TokenBucket>(),
    minSampleIntervalMs: 0,
    clock: {
      now: () => sim.clock.t,
      sleep: async (ms) => {
        sim.clock.t += Math.max(0, ms);
      },
    },
    log,
    ...rest,
  });
  return { d, warnings };
}

/** The requests the simulator logged below `/organizations/o1/<suffix>`. */
export function requestsTo(sim: TestSim, suffix: string) {
  return sim.log.filter((e) => e.path === `/organizations/o1/${suffix}`);
}
