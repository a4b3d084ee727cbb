/**
 * The health run over a `series` director (Meraki-like: several time-stamped points per target
 * per call): one target can make two transitions in one round, and both must be written, in
 * order, with the final state stored. In-memory store with version-conditional writes.
 */
import type { Director } from '../../../shared/director/port.js';
import type { HealthState } from '../../../shared/domain/health.js';
import type { Sample } from '../../../shared/domain/model.js';
import { runHealthCheck, type HealthStore } from '../../../shared/health/run.js';
import type { HealthWriteResult, StoredHealth } from '../../../shared/store/state-repo.js';
import { topology } from '../failover/fake-director.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Version-conditional health items in a Map; each write yields to the event loop first. */
function memoryHealthStore() {
  const items = new Map<string, StoredHealth>();
  const store: HealthStore = {
    loadHealth: async () => new Map(items),
    readHealth: async (_groupKey, targetId) => items.get(targetId),
    writeHealth: async (item, expected): Promise<HealthWriteResult> => {
      await new Promise((resolve) => setImmediate(resolve));
      const current = items.get(item.targetId);
      if (current?.version !== expected) return { ok: false, current };
      const version = (expected ?? 0) + 1;
      items.set(item.targetId, { state: item.state as HealthState, version });
      return { ok: true, version };
    },
    loadDirectorStatus: async () => undefined,
    writeDirectorStatus: async () => true,
    getSiteRoles: async () => ({ DC: 'ACTIVE', DR: 'PASSIVE' }),
  } as HealthStore;
  return { store, items };
}

describe('health run, series director', () => {
  it('writes both transitions of one target in one round and stores the final state', async () => {
    const cpes = topology({ hubs: [{ id: 'hub1', site: 'DC', haState: 'ACTIVE' }], branches: 1 });
    // One bad point (DOWN at failAfter 1), then 60 s clean (UP at recoverAfterSec 60).
    const points: Sample[] = [
      { target: 'hub1', at: T0 - 180_000, reachable: false, lossPct: null, latencyMs: null },
      { target: 'hub1', at: T0 - 120_000, reachable: true, lossPct: 0, latencyMs: 10 },
      { target: 'hub1', at: T0 - 60_000, reachable: true, lossPct: 0, latencyMs: 10 },
    ];
    const director: Director = {
      kind: 'meraki',
      site: 'DC',
      sampling: 'series',
      listCpes: async () => cpes,
      sampleHealth: async () => points,
      health: async () => ({ site: 'DC', reachable: true, healthy: true }),
      setHaState: async () => {},
      fence: async () => {},
      repoint: async () => {
        throw new Error('not used');
      },
    };
    const { store, items } = memoryHealthStore();
    const summary = await runHealthCheck(
      {
        directors: { DC: director },
        repo: store,
        config: {
          tenants: ['t1'],
          health: {
            lossThresholdPct: 30,
            failAfter: 1,
            recoverAfterSec: 60,
            sampleIntervalSec: 5,
            samplesPerRun: 1,
          },
        },
        clock: () => T0,
        sleep: async () => {},
        log: silent,
      },
      { samplesPerRun: 1 },
    );

    expect(summary.transitions.map((t) => [t.from, t.to, t.at])).toEqual([
      ['UNKNOWN', 'DOWN', T0 - 180_000],
      ['DOWN', 'UP', T0 - 60_000],
    ]);
    expect(items.get('hub1')?.state.health).toBe('UP');
    expect(summary.conflicts).toBe(0);
  });
});
