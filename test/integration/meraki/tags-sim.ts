/**
 * The simulator arrangement of the Meraki write-side tests (tags.test.ts, batches.test.ts): one
 * organization `o1` of generated networks on the default hubs, a generous rate limit, closed
 * after each test.
 */
import { afterEach } from '@jest/globals';
import type { TokenBucket } from '../../../shared/director/http.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../../../local/simulator/meraki/generate.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type MerakiSimulatorOptions,
} from '../../../local/simulator/meraki/server.js';

/** The default hubs: london (primary), paris (backup). */
export const HUBS = [...DEFAULT_SIM_HUBS];

/** A function starting simulators of `networks` networks; each is closed after its test. */
export function simulators(): (
  networks: number,
  options?: Partial<MerakiSimulatorOptions>,
) => Promise<MerakiSimulator> {
  const sims: MerakiSimulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  return async (networks, options = {}) => {
    const sim = await createMerakiSimulator({
      organizations: [generateOrganization({ id: 'o1', networks })],
      rateLimit: { requestsPerSecond: 500, burst: 50 },
      ...options,
    });
    sims.push(sim);
    return sim;
  };
}

/** The `director` configuration of the simulator's organization. */
export const simConfig = (sim: MerakiSimulator) => ({
  kind: 'meraki' as const,
  baseUrl: sim.baseUrl,
  secretName: 'meraki/api-key',
  organizations: [{ id: 'o1', hubs: HUBS }],
});

/** The adapter's client options for the simulator (its key, a high limit, own buckets). */
export const simClient = (sim: MerakiSimulator) => ({
  apiKey: async () => sim.apiKey,
  rateLimit: { requestsPerSecond: 400, burst: 40 },
  buckets: new Map<string, TokenBucket>(),
});
