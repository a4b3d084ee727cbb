/** Items the store tests write. */
import type { HealthItemWrite } from '../../shared/store/state-repo.js';

/** A health write for HA_DC1 (`dc1`, DC ACTIVE) in group `t1#Chennai`, UP since 1000 unless overridden. */
export function dc1HealthWrite(overrides: Partial<HealthItemWrite> = {}): HealthItemWrite {
  return {
    groupKey: 't1#Chennai',
    tenantId: 't1',
    targetId: 'dc1',
    name: 'HA_DC1',
    site: 'DC',
    slot: 'DC/ACTIVE',
    state: { health: 'UP', badStreak: 0, cleanSince: null, since: 1000 },
    ...overrides,
  };
}
