/**
 * Overlapping health runs (the code must not depend on reserved concurrency 1): every sample of
 * every run is applied to the stored state exactly once. A run whose conditional write loses
 * re-folds its own not-yet-persisted samples of that target, in order, onto the state the other
 * run stored, for progress writes as well as transition writes; a transition the other run
 * already made is not written twice. The interleaving is the test's: one run's writes wait at a
 * gate while the other run goes.
 */
import type { HealthState } from '../../../shared/domain/health.js';
import { runHealthCheck } from '../../../shared/health/run.js';
import {
  FakeClock,
  HUB1,
  gate,
  MemoryStore,
  runDeps,
  settings,
  snapshotDirector,
  T0,
  type DirectorScript,
} from './fakes.js';
import { boundHealthStore } from '../../helpers/health-store.js';

/** A run of `samples` rounds from `at` on its own clock, its director following `script`. */
function run(store: Parameters<typeof runDeps>[1], at: number, samples: number, script: DirectorScript) {
  const clock = new FakeClock(at);
  const director = snapshotDirector('DC', HUB1, clock, script);
  return runHealthCheck(runDeps({ DC: director }, store, clock, settings({ samplesPerRun: samples })));
}
const bad: DirectorScript = { loss: () => 100 };
const clean: DirectorScript = { loss: () => 0 };

describe('health run: overlapping runs apply every sample exactly once', () => {
  it("a progress write that loses to another run's UP re-folds its bad sample onto that UP", async () => {
    // A hold 25 s old. Run B sees a bad sample at T0 - 2 s (progress only: written at the end of
    // its run); run A completes the 30 s hold at T0 + 5 s and writes UP before B's write lands.
    const store = new MemoryStore();
    const holding: HealthState = {
      health: 'DOWN',
      badStreak: 0,
      cleanSince: T0 - 25_000,
      since: T0 - 120_000,
      lastSampleAt: T0 - 5_000,
    };
    store.seed('hub1', holding);
    const g = gate(store, () => true);
    const b = run(g.store, T0 - 2_000, 1, bad);
    await g.entered;
    const a = await run(store, T0 + 5_000, 1, clean);
    expect(a.transitions.map((t) => [t.from, t.to])).toEqual([['DOWN', 'UP']]);
    g.release();
    const bSummary = await b;

    // B's bad sample is not dropped: UP (A's transition stands) with a bad streak of 1.
    // Before the fix: B adopted A's state, { UP, badStreak 0 }, and wrote nothing.
    expect(bSummary.conflicts).toBe(1);
    expect(bSummary.transitions).toEqual([]);
    expect(store.state('hub1')).toEqual({
      health: 'UP',
      badStreak: 1,
      cleanSince: null,
      since: T0 + 5_000,
      lastBadAt: T0 - 2_000,
    });
    expect(store.written.filter((w) => w.transition).length).toBe(1);

    // So the next two bad samples are the second and third in a row: DOWN.
    const c = await run(store, T0 + 60_000, 2, bad);
    expect(c.transitions.map((t) => [t.from, t.to, t.at])).toEqual([['UP', 'DOWN', T0 + 65_000]]);
  });

  it('a transition write that loses re-folds all of its run’s unwritten samples, not just the last', async () => {
    // Run B sees three bad samples (DOWN at the third, failAfter 3); run A's progress write
    // ({ UP, badStreak 1 }, one bad sample at T0 + 2 s) lands first.
    const store = new MemoryStore();
    store.seed('hub1', { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 600_000 });
    const g = gate(store, () => true);
    const b = run(g.store, T0, 3, bad);
    const held = await g.entered;
    expect(held.transition).toMatchObject({ from: 'UP', to: 'DOWN', at: T0 + 10_000 });
    await run(store, T0 + 2_000, 1, bad);
    expect(store.state('hub1')).toMatchObject({ health: 'UP', badStreak: 1 });
    g.release();
    const bSummary = await b;

    // Four bad samples in a row: DOWN, at B's second (the third of the row).
    // Before the fix: only B's last sample was re-applied ({ UP, badStreak 2 }): the DOWN was lost.
    expect(store.state('hub1')).toEqual({
      health: 'DOWN',
      badStreak: 0,
      cleanSince: null,
      since: T0 + 5_000,
      lastBadAt: T0 + 5_000,
    });
    expect(bSummary.transitions.map((t) => [t.from, t.to, t.at])).toEqual([['UP', 'DOWN', T0 + 5_000]]);
  });

  it('a transition the other run already wrote is not written twice', async () => {
    const store = new MemoryStore();
    store.seed('hub1', { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 600_000 });
    const g = gate(store, () => true);
    const b = run(g.store, T0 + 1_000, 3, bad);
    await g.entered;
    const a = await run(store, T0, 3, bad);
    expect(a.transitions.map((t) => t.to)).toEqual(['DOWN']);
    g.release();
    const bSummary = await b;
    expect(bSummary.conflicts).toBe(1);
    expect(bSummary.transitions).toEqual([]);
    expect(store.written.filter((w) => w.transition).map((w) => w.transition?.to)).toEqual(['DOWN']);
    expect(store.state('hub1')).toEqual({
      health: 'DOWN',
      badStreak: 0,
      cleanSince: null,
      since: T0 + 10_000,
      lastBadAt: T0 + 10_000,
    });
  });

  it("a DOWN target's bad sample that changed nothing still reaches a hold another run stored meanwhile", async () => {
    // B read the stored DOWN (no hold) before A stored a hold; B's bad sample at T0 leaves its
    // own view of the state as it was, so it has nothing to write. Before the fix B ended there,
    // and A's hold (from T0 − 10 s, across B's bad sample) went on to come UP at T0 + 20 s.
    const store = new MemoryStore();
    const downSteady: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 120_000 };
    store.seed('hub1', downSteady);
    const staleView = await store.loadHealth();
    await run(store, T0 - 10_000, 2, clean);
    expect(store.written).toHaveLength(1);
    expect(store.state('hub1')).toMatchObject({ cleanSince: T0 - 10_000 });
    const b = await run({ ...boundHealthStore(store), loadHealth: async () => staleView }, T0, 1, bad);
    expect(b.rereads).toBe(1);
    expect(store.written).toHaveLength(2);
    expect(store.state('hub1')).toEqual({ ...downSteady, lastBadAt: T0 });
    // So the hold starts after B's bad sample: UP 30 s after T0 + 5 s, not at T0 + 20 s.
    const c = await run(store, T0 + 5_000, 8, clean);
    expect(c.transitions.map((t) => t.at)).toEqual([T0 + 35_000]);
  });

  it('a steady DOWN target re-reads only when it saw a bad sample, and writes nothing when nobody else wrote', async () => {
    const store = new MemoryStore();
    store.seed('hub1', { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 120_000 });
    const b = await run(store, T0, 3, bad);
    expect([b.rereads, store.written.length, store.reads]).toEqual([1, 0, 1]);
    store.seed('hub1', { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 120_000 });
    const u = await run(store, T0 + 60_000, 3, clean);
    expect([u.rereads, store.written.length, store.reads]).toEqual([0, 0, 1]);
  });
});
