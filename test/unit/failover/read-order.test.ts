/**
 * The order of a reconcile's reads against the health run's writes. The health run writes the
 * blind verdict (director status) BEFORE the round's transitions (health), so a reader that sees a
 * transition must then see the verdict: it reads health first, the director states after. Reads
 * in parallel (or the other way round) can be served so that a mass DOWN is seen without its
 * verdict, and acted on.
 */
import { MemoryFailoverStore } from '../../../shared/failover/memory-store.js';
import type { DirectorState, TargetHealth } from '../../../shared/failover/ports.js';
import { reconcileGroup } from '../../../shared/failover/service.js';
import { harness, KEY } from './harness.js';

type ReadName = 'listHealth' | 'listDirectorStates';

/** A store whose health and director-state reads wait until the test serves them, in its order. */
class ScheduledStore extends MemoryFailoverStore {
  readonly pending: { name: ReadName; serve: () => void }[] = [];
  private wait<T>(name: ReadName, read: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ name, serve: () => void read().then(resolve, reject) });
    });
  }
  override listHealth(groupKey: string): Promise<TargetHealth[]> {
    return this.wait('listHealth', () => super.listHealth(groupKey));
  }
  override listDirectorStates(): Promise<DirectorState[]> {
    return this.wait('listDirectorStates', () => super.listDirectorStates());
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('a reconcile reads health before the director states', () => {
  // Serve director reads first whenever both are waiting; land the health run's two writes
  // (verdict, then transitions) after the `at`-th read served.
  it.each([0, 1, 2])(
    'never acts on a mass DOWN without the blind verdict the health run wrote first (writes after read %i)',
    async (at) => {
      const h = harness({ branches: 2, on: 'DC1' });
      await reconcileGroup(h.deps, KEY); // epoch 1, DC1
      const store = new ScheduledStore();
      for (const [k, v] of h.store.groups) store.groups.set(k, v);
      for (const [k, v] of h.store.health) store.health.set(k, new Map(v));
      store.directors = [{ site: 'DC', reachable: true }];
      h.deps.store = store;

      const writes = () => {
        store.directors = [{ site: 'DC', reachable: true, monitorBlind: true, monitorBlindLatched: true }];
        store.setHealth(KEY, 'DC1', 'DOWN');
        store.setHealth(KEY, 'DC2', 'DOWN');
      };
      let done = false;
      const run = reconcileGroup(h.deps, KEY).finally(() => (done = true));
      let served = 0;
      if (at === 0) writes();
      while (!done) {
        await turn();
        const i = Math.max(
          store.pending.findIndex((p) => p.name === 'listDirectorStates'),
          0,
        );
        const next = store.pending.splice(i, 1)[0];
        if (!next) continue;
        next.serve();
        await turn();
        if (++served === at) writes();
      }
      const r = await run;
      // Either the reconcile saw no DOWN (nothing to do) or it saw the verdict too (held).
      expect(r.changed).toBe(false);
      expect((await store.getGroup(KEY))?.servingId).toBe('DC1');
      expect(h.director.calls.repoint).toBe(0);
    },
  );
});
