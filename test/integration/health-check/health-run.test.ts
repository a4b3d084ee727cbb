/**
 * The health run against DynamoDB Local and the zWAN simulator over real HTTP, with a fake clock
 * (sleeps advance it at once).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { runHealthCheck, type HealthRunSummary } from '../../../shared/health/run.js';
import { HEALTH_METRICS } from '../../../shared/observability.js';
import { keys } from '../../../shared/store/table.js';
import type { DirectorItem } from '../../../shared/store/state-repo.js';
import { loadDefaultTopology } from '../../../local/simulator/index.js';
import { gate } from '../../unit/health/fakes.js';
import { FakeClock, LAB_GROUP, startHarness, T0, type Harness } from './harness.js';
import { boundHealthStore } from '../../helpers/health-store.js';

const CONCENTRATORS = ['HA_DC1', 'HA_DC2', 'DR'];

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Run until every concentrator of the lab is UP (the first hold), returning how many runs it took. */
async function untilAllUp(harness: Harness): Promise<number> {
  for (let runs = 1; runs <= 20; runs++) {
    await harness.run();
    const items = await Promise.all(CONCENTRATORS.map((id) => harness.healthItem(id)));
    if (items.every((i) => i?.health === 'UP')) return runs;
  }
  throw new Error('the lab never came UP');
}

describe('health run: hysteresis over real HTTP and DynamoDB Local', () => {
  it('writes HA_DC1 DOWN exactly at the failAfter-th bad sample, with the context the failover needs', async () => {
    h = await startHarness({ health: { recoverAfterSec: 30 } });
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');

    const first = await h.run({ samplesPerRun: 2 }); // 2 bad samples: not yet DOWN
    expect(first.transitions).toEqual([]);
    expect((await h.healthItem('HA_DC1'))?.health).toBe('UP');
    expect((await h.healthItem('HA_DC1'))?.badStreak).toBe(2);

    const seen: string[] = [];
    const second = await h.run({ onTransition: (t) => seen.push(`${t.target}:${t.from}->${t.to}`) });
    expect(second.transitions.map((t) => `${t.target}:${t.from}->${t.to}`)).toEqual(['HA_DC1:UP->DOWN']);
    expect(seen).toEqual(['HA_DC1:UP->DOWN']);
    // The third bad sample in a row is the first of this run.
    expect(second.transitions[0]?.at).toBe(second.startedAt);

    const item = await h.healthItem('HA_DC1');
    expect(item).toMatchObject({
      type: 'cpe-health',
      groupKey: LAB_GROUP,
      tenantId: 'lab-tenant',
      targetId: 'HA_DC1',
      slot: 'DC/ACTIVE',
      site: 'DC',
      health: 'DOWN',
      lastTransition: { from: 'UP', to: 'DOWN', at: second.startedAt },
    });
    expect(item?.lastTransition?.reason).toMatch(/3 bad samples in a row/);
    // The others are untouched.
    expect((await h.healthItem('HA_DC2'))?.health).toBe('UP');
    expect(h.metrics.get(HEALTH_METRICS.transitions)).toBeGreaterThanOrEqual(4); // 3 UNKNOWN→UP + 1 DOWN
  });

  it('brings HA_DC1 back UP only after the 300 s hold, a bad sample restarting it', async () => {
    h = await startHarness();
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    await h.run();
    expect((await h.healthItem('HA_DC1'))?.health).toBe('DOWN');

    h.sim.faults.cpeUp('HA_DC1');
    const cleanFrom = (await h.run({ samplesPerRun: 6 })).startedAt; // 25 s clean…
    h.sim.faults.cpeDown('HA_DC1');
    await h.run({ samplesPerRun: 1 }); // …then one bad sample restarts the hold
    h.sim.faults.cpeUp('HA_DC1');

    let up: { at: number; holdStart: number } | undefined;
    let holdStart: number | undefined;
    for (let i = 0; i < 10 && !up; i++) {
      const summary = await h.run();
      holdStart ??= summary.startedAt;
      const t = summary.transitions.find((x) => x.target === 'HA_DC1');
      if (t) {
        expect(t).toMatchObject({ from: 'DOWN', to: 'UP' });
        up = { at: t.at, holdStart };
      } else {
        expect((await h.healthItem('HA_DC1'))?.health).toBe('DOWN');
      }
    }
    expect(up).toBeDefined();
    // Measured from the first clean sample after the last bad one, not from the first recovery.
    expect(up!.at - up!.holdStart).toBeGreaterThanOrEqual(300_000);
    expect(up!.at - up!.holdStart).toBeLessThan(305_000);
    expect(up!.at - cleanFrom).toBeGreaterThan(300_000);
    expect((await h.healthItem('HA_DC1'))?.health).toBe('UP');
  });

  it('writes nothing to DynamoDB in steady state', async () => {
    h = await startHarness();
    await untilAllUp(h);
    await h.run(); // settles the last hysteresis progress
    h.writes.reset();
    for (let i = 0; i < 3; i++) {
      const summary = await h.run();
      expect(summary.writes).toBe(0);
      // 12 rounds and the closing one; + one sample per director.
      expect(summary.samples).toBe(13 * (CONCENTRATORS.length + 2));
    }
    expect(h.writes.count).toBe(0);

    // And the counter does count: a transition is a write.
    h.sim.faults.cpeDown('DR');
    await h.run();
    expect(h.writes.count).toBe(1);
  });
});

describe('health run: director unreachable', () => {
  it.each(['error5xx', 'down'] as const)(
    'director %s: records "director unreachable", never marks the CPEs DOWN',
    async (mode) => {
      h = await startHarness({ health: { recoverAfterSec: 30 } });
      await untilAllUp(h);
      h.sim.faults.director('DC', { mode });
      const summary = await h.run();

      expect(summary.unreachableSites).toEqual(['DC']);
      expect(summary.transitions).toEqual([]);
      for (const id of CONCENTRATORS) expect((await h.healthItem(id))?.health).toBe('UP');
      const status = await h.repo.get<DirectorItem>(keys.director('DC'));
      // Unreachable freezes the site's decisions (failover's blindness per site); it is not the
      // monitor's own verdict, which only a mass DOWN raises.
      expect(status).toMatchObject({ type: 'director', site: 'DC', reachable: false, monitorBlind: false });
      expect(status?.reason).toBeTruthy();
      expect((await h.repo.get<DirectorItem>(keys.director('DR')))?.reachable).toBe(true);
      expect(h.metrics.get(HEALTH_METRICS.directorUnreachable)).toBe(1);
      expect(h.log.entries.some((e) => e.level === 'warn' && e.attributes.site === 'DC')).toBe(true);

      // The DR director still answers: its concentrator is still monitored.
      h.sim.faults.cpeDown('DR');
      const next = await h.run();
      expect(next.transitions.map((t) => t.target)).toEqual(['DR']);

      // Recovery is recorded once, then nothing more is written for the director.
      h.sim.faults.director('DC', { mode: 'ok' });
      await h.run();
      expect((await h.repo.get<DirectorItem>(keys.director('DC')))?.reachable).toBe(true);
      h.writes.reset();
      await h.run();
      expect(h.writes.count).toBe(0);
    },
  );
});

describe('health run: the hold counts observed samples only', () => {
  it('a director outage in the middle of a hold restarts it (no sample is not clean time)', async () => {
    h = await startHarness({ health: { recoverAfterSec: 30 } });
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    await h.run();
    expect((await h.healthItem('HA_DC1'))?.health).toBe('DOWN');
    h.sim.faults.cpeUp('HA_DC1');

    // One run whose DC director answers 5xx at +10…+30 s: HA_DC1 is clean at +0, +5 and from +35 s.
    const start = h.clock.t + 60_000;
    h.clock.t = start;
    const deps = h.makeDeps(h.clock);
    deps.sleep = async (ms) => {
      await h!.clock.sleep(ms);
      const t = h!.clock.t - start;
      h!.sim.faults.director('DC', { mode: t >= 10_000 && t <= 30_000 ? 'error5xx' : 'ok' });
    };
    const outage = await runHealthCheck(deps);
    expect(outage.unreachableSites).toEqual(['DC']);
    // Before the fix: HA_DC1 DOWN → UP "clean for 35 s" at +35 s, after 10 s of observed samples.
    expect(outage.transitions).toEqual([]);
    expect(await h.healthItem('HA_DC1')).toMatchObject({ health: 'DOWN', cleanSince: start + 35_000 });

    h.clock.t = start + 60_000;
    const next = await runHealthCheck(deps);
    expect(next.transitions.map((t) => [t.target, t.to, t.at - start, t.reason])).toEqual([
      ['HA_DC1', 'UP', 65_000, 'clean for 30 s'],
    ]);
  });
});

describe('health run: overlapping runs', () => {
  it('two concurrent runs neither lose nor double-apply a transition', async () => {
    h = await startHarness({ health: { recoverAfterSec: 30 } });
    await untilAllUp(h);
    await h.run();
    const before = await h.healthItem('HA_DC1');
    h.sim.faults.cpeDown('HA_DC1');
    h.sim.faults.setLoss('HA_DC2', 50);

    // Both runs read the stored state before either samples (a barrier on the first sleep).
    const start = h.clock.t + 60_000;
    let waiting = 0;
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    const clocks = [new FakeClock(start), new FakeClock(start + 1_000)];
    const deps = clocks.map((clock) => {
      const d = h!.makeDeps(clock);
      let first = true;
      d.sleep = async (ms) => {
        if (first) {
          first = false;
          if (++waiting === 2) release();
          await barrier;
        }
        await clock.sleep(ms);
      };
      return d;
    });
    const [a, b] = (await Promise.all(deps.map((d) => runHealthCheck(d)))) as [
      HealthRunSummary,
      HealthRunSummary,
    ];

    const all = [...a.transitions, ...b.transitions].map((t) => `${t.target}:${t.from}->${t.to}`).sort();
    expect(all).toEqual(['HA_DC1:UP->DOWN', 'HA_DC2:UP->DOWN']);
    expect(a.conflicts + b.conflicts).toBeGreaterThan(0);
    const after = await h.healthItem('HA_DC1');
    expect(after?.health).toBe('DOWN');
    expect(after?.lastTransition).toMatchObject({ from: 'UP', to: 'DOWN' });
    expect((await h.healthItem('HA_DC2'))?.health).toBe('DOWN');
    // One transition write per target, plus at most a final progress write: never two DOWNs.
    expect(after!.version - before!.version).toBeLessThanOrEqual(2);
  });
});

describe('health run: a missed run, as stored in DynamoDB', () => {
  // The health item persists HealthState.lastSampleAt, so the gap between two runs is seen.
  it('a missed run restarts the hold across runs (the store persists lastSampleAt)', async () => {
    h = await startHarness({ health: { recoverAfterSec: 90 } });
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    await h.run();
    h.sim.faults.cpeUp('HA_DC1');
    const holdFrom = (await h.run()).startedAt;
    h.clock.t = holdFrom + 120_000; // the run at +60 s never happened
    const late = await h.run();
    // Without the gap rule across runs: UP at +120 s, "clean for 120 s", after 55 s of samples.
    expect(late.transitions).toEqual([]);
    expect(await h.healthItem('HA_DC1')).toMatchObject({ health: 'DOWN', cleanSince: holdFrom + 120_000 });
  });
});

describe('health run: overlapping runs, a lost progress write', () => {
  it("re-folds its bad sample onto the other run's UP instead of adopting it", async () => {
    h = await startHarness({ health: { recoverAfterSec: 60 } });
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    await h.run();
    h.sim.faults.cpeUp('HA_DC1');
    const holdFrom = (await h.run()).startedAt; // 55 s of the 60 s hold
    expect(await h.healthItem('HA_DC1')).toMatchObject({ health: 'DOWN', cleanSince: holdFrom });

    // Run B sees HA_DC1 bad at +58 s: progress only, its end-of-run write waits at the gate…
    h.sim.faults.cpeDown('HA_DC1');
    const depsB = h.makeDeps(new FakeClock(holdFrom + 58_000));
    const g = gate(depsB.repo, () => true);
    depsB.repo = g.store;
    const b = runHealthCheck(depsB, { samplesPerRun: 1 });
    expect((await g.entered).targetId).toBe('HA_DC1');
    // …while run A completes the hold at +60 s and writes UP.
    h.sim.faults.cpeUp('HA_DC1');
    const a = await runHealthCheck(h.makeDeps(new FakeClock(holdFrom + 60_000)), { samplesPerRun: 1 });
    expect(a.transitions.map((t) => [t.target, t.to])).toEqual([['HA_DC1', 'UP']]);
    g.release();
    const bSummary = await b;

    // Before the fix B adopted A's state (badStreak 0) and its bad sample was lost.
    expect(bSummary.conflicts).toBe(1);
    expect(bSummary.transitions).toEqual([]);
    expect(await h.healthItem('HA_DC1')).toMatchObject({
      health: 'UP',
      badStreak: 1,
      lastTransition: { from: 'DOWN', to: 'UP', at: holdFrom + 60_000 },
    });
  });
});

describe('health run: overlapping runs, a DOWN target that saw nothing new', () => {
  it('re-reads the item and folds its bad sample onto the hold another run stored meanwhile', async () => {
    h = await startHarness({ health: { recoverAfterSec: 60 } });
    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    await h.run();
    // Run B read the stored DOWN (no hold) before run A stored a hold…
    const staleView = await h.makeDeps(new FakeClock(0)).repo.loadHealth([LAB_GROUP]);
    h.sim.faults.cpeUp('HA_DC1');
    const holdFrom = (await h.run()).startedAt;
    expect(await h.healthItem('HA_DC1')).toMatchObject({ health: 'DOWN', cleanSince: holdFrom });
    // …and sees HA_DC1 bad inside that hold: its own state does not change.
    h.sim.faults.cpeDown('HA_DC1');
    const depsB = h.makeDeps(new FakeClock(holdFrom + 30_000));
    depsB.repo = { ...boundHealthStore(depsB.repo), loadHealth: async () => staleView };
    const b = await runHealthCheck(depsB, { samplesPerRun: 1 });
    // Before the fix B wrote nothing and A's hold, across B's bad sample, went on.
    expect(b.rereads).toBeGreaterThanOrEqual(1);
    expect(await h.healthItem('HA_DC1')).toMatchObject({
      health: 'DOWN',
      cleanSince: null,
      lastBadAt: holdFrom + 30_000,
    });
  });
});

describe('health run: invalid CPEs', () => {
  it('reports an invalid CPE (tenant, CPE, field) and keeps monitoring the rest', async () => {
    const topology = await loadDefaultTopology();
    const template = topology.cpes.find((c) => c.id === 'HA_DC2')!;
    const bad = {
      ...template,
      id: 'HA_BAD',
      name: 'HA_BAD',
      metadata: { ...template.metadata, HA_STATE: 'BOTH' },
    };
    h = await startHarness({
      topology: { ...topology, cpes: [...topology.cpes, bad] } as never,
      health: { recoverAfterSec: 30 },
    });
    const summary = await h.run();
    expect(summary.invalidCpes).toBe(1);
    expect(summary.targets).toBe(CONCENTRATORS.length);
    expect(h.metrics.get(HEALTH_METRICS.invalidCpes)).toBe(1);
    const entry = h.log.entries.find((e) => e.attributes.cpeId === 'HA_BAD');
    expect(entry).toMatchObject({
      level: 'warn',
      attributes: { tenantId: 'lab-tenant', cpeId: 'HA_BAD', field: 'HA_STATE', value: 'BOTH' },
    });

    await untilAllUp(h);
    h.sim.faults.cpeDown('HA_DC1');
    const next = await h.run();
    expect(next.transitions.map((t) => t.target)).toEqual(['HA_DC1']);
    expect(await h.healthItem('HA_BAD')).toBeUndefined();
    expect(next.startedAt).toBeGreaterThan(T0);
  });
});
