/** zWAN directors for both sites against the simulator, tuned for tests (one quick retry). */
import type { Director } from '../../shared/director/port.js';
import { createZwanDirector } from '../../shared/director/zwan/adapter.js';
import type { SiteName } from '../../shared/domain/model.js';
import { SIM_API_KEY, type ZwanSimulator } from '../../local/simulator/index.js';

/** The DC and DR zWAN adapters on `sim`, each call timing out after `timeoutMs`. */
export function simDirectors(sim: ZwanSimulator, timeoutMs: number): { DC: Director; DR: Director } {
  const make = (site: SiteName) =>
    createZwanDirector({
      site,
      baseUrl: sim.url(site),
      apiKey: async () => SIM_API_KEY,
      timeoutMs,
      retries: 1,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
    });
  return { DC: make('DC'), DR: make('DR') };
}
