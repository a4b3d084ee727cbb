/**
 * A {@link HealthStore}'s methods bound to it, as a plain object: spread it and replace one
 * method to stage a race (e.g. a run that loads a stale view but writes to the real store).
 */
import type { HealthStore } from '../../shared/health/run.js';

/** The store's health-run methods bound to it. */
export function boundHealthStore(store: HealthStore): HealthStore {
  return {
    loadHealth: (groups) => store.loadHealth(groups),
    readHealth: (g, t) => store.readHealth(g, t),
    writeHealth: (i, v) => store.writeHealth(i, v),
    loadDirectorStatus: (site) => store.loadDirectorStatus(site),
    writeDirectorStatus: (st) => store.writeDirectorStatus(st),
    getSiteRoles: () => store.getSiteRoles(),
  };
}
