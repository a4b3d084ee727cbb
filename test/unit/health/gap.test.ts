/**
 * The hold counts observed samples only (DESIGN.md): in the health run, a round whose director is
 * unreachable, a missed run and a stretch of no-data series points are gaps, and a gap longer than
 * `health.maxSampleGapSec` restarts the hold. The per-minute series of a Meraki director must not
 * restart every hold in steady state.
 */
import type { HealthState } from '../../../shared/domain/health.js';
import { maxSampleGapSec, roundOffsetsSec, runHealthCheck } from '../../../shared/health/run.js';
import {
  FakeClock,
  HUB1,
  MemoryStore,
  runDeps,
  seriesDirector,
  settings,
  snapshotDirector,
  T0,
  type DirectorScript,
} from './fakes.js';

const DOWN: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 600_000 };

/** hub1 stored DOWN and clean from T0 on, its DC director following `script`. */
function recovering(script: DirectorScript = {}) {
  const clock = new FakeClock(T0);
  const director = snapshotDirector('DC', HUB1, clock, script);
  const store = new MemoryStore();
  store.seed('hub1', DOWN);
  return { clock, director, store };
}

/** The DC director unreachable from +10 s to +30 s. */
const outage = () => recovering({ reachable: (at) => at < T0 + 10_000 || at > T0 + 30_000 });

describe('health run: a gap in sampling restarts the hold', () => {
  it('a round in which the site director is unreachable is no sample: the hold restarts after it', async () => {
    // Clean from T0; the director is unreachable at +10…+30 s (5 rounds); clean again from +35 s.
    // Before the fix the hold counted the outage: UP at +35 s after 10 s of observed samples.
    const { clock, director, store } = outage();
    const first = await runHealthCheck(runDeps({ DC: director }, store, clock));
    expect(first.unreachableSites).toEqual(['DC']);
    expect(first.transitions).toEqual([]);
    expect(store.state('hub1')).toMatchObject({
      health: 'DOWN',
      cleanSince: T0 + 35_000,
      lastSampleAt: T0 + 57_000, // the closing round
    });

    clock.t = T0 + 60_000; // the next scheduled run
    const second = await runHealthCheck(runDeps({ DC: director }, store, clock));
    expect(second.transitions.map((t) => [t.from, t.to, t.at, t.reason])).toEqual([
      ['DOWN', 'UP', T0 + 65_000, 'clean for 30 s'],
    ]);
  });

  it('a missed run restarts the hold: the next run does not count the minute nobody sampled', async () => {
    const { clock, director, store } = recovering();
    const health = settings({ recoverAfterSec: 90 });
    await runHealthCheck(runDeps({ DC: director }, store, clock, health));
    expect(store.state('hub1')).toMatchObject({ cleanSince: T0, lastSampleAt: T0 + 57_000 });

    clock.t = T0 + 120_000; // the run at +60 s never happened
    const late = await runHealthCheck(runDeps({ DC: director }, store, clock, health));
    // Before the fix: UP at +120 s, "clean for 120 s", after 55 s of observed samples.
    expect(late.transitions).toEqual([]);
    expect(store.state('hub1')).toMatchObject({ health: 'DOWN', cleanSince: T0 + 120_000 });
  });

  it('a run that fills its minute closes with a round at +57 s: a next run up to 2 s late keeps the hold', async () => {
    const strict = settings({ recoverAfterSec: 90, maxSampleGapSec: 5 });
    for (const closingRoundSec of [undefined, 0]) {
      const { clock, director, store } = recovering();
      const health = closingRoundSec === undefined ? strict : { ...strict, closingRoundSec };
      const first = await runHealthCheck(runDeps({ DC: director }, store, clock, health));
      expect(first.rounds).toBe(closingRoundSec === undefined ? 13 : 12);
      clock.t = T0 + 62_000; // the next run starts 2 s late
      const second = await runHealthCheck(runDeps({ DC: director }, store, clock, health));
      // With the closing round the gap is 5 s: the hold goes on. Without, 7 s: it restarts.
      expect(second.transitions.map((t) => [t.to, t.at])).toEqual(
        closingRoundSec === undefined ? [['UP', T0 + 92_000]] : [],
      );
    }
  });

  it('consecutive runs a minute apart keep the hold (the gap between runs is one interval)', async () => {
    const { clock, director, store } = recovering();
    const health = settings({ recoverAfterSec: 90 });
    await runHealthCheck(runDeps({ DC: director }, store, clock, health));
    clock.t = T0 + 60_000;
    const next = await runHealthCheck(runDeps({ DC: director }, store, clock, health));
    expect(next.transitions.map((t) => [t.to, t.at])).toEqual([['UP', T0 + 90_000]]);
  });

  it('health.maxSampleGapSec sets the bound explicitly', async () => {
    // The same 30 s outage as above, tolerated with a 30 s bound.
    const { clock, director, store } = outage();
    const run = await runHealthCheck(
      runDeps({ DC: director }, store, clock, settings({ maxSampleGapSec: 30 })),
    );
    expect(run.transitions.map((t) => [t.to, t.at])).toEqual([['UP', T0 + 35_000]]);
  });

  it('defaults: 2 × sampleIntervalSec for snapshot directors, 90 s for per-minute series', () => {
    expect(maxSampleGapSec(settings({ sampleIntervalSec: 5 }), 'snapshot')).toBe(10);
    expect(maxSampleGapSec(settings({ sampleIntervalSec: 0.25 }), undefined)).toBe(0.5);
    expect(maxSampleGapSec(settings({ sampleIntervalSec: 5 }), 'series')).toBe(90);
    expect(maxSampleGapSec(settings({ maxSampleGapSec: 20 }), 'snapshot')).toBe(20);
    expect(maxSampleGapSec(settings({ maxSampleGapSec: 120 }), 'series')).toBe(120);
  });
});

describe('health run: the gap rule over a per-minute series (Meraki)', () => {
  /** One run a minute, one call each; returns the transitions and the final state. */
  async function minutes(count: number, loss: (at: number) => number | null) {
    const clock = new FakeClock(T0);
    const director = seriesDirector(HUB1, clock, (_id, at) => loss(at));
    const store = new MemoryStore();
    store.seed('hub1', DOWN);
    const health = settings({ recoverAfterSec: 300, samplesPerRun: 1 });
    const transitions: [string, number][] = [];
    for (let i = 0; i < count; i++) {
      clock.t = T0 + i * 60_000;
      const run = await runHealthCheck(runDeps({ DC: director }, store, clock, health));
      transitions.push(...run.transitions.map((t): [string, number] => [t.to, t.at]));
    }
    return { transitions, state: store.state('hub1') };
  }
  // Points are 2 minutes behind the clock; the first run (at T0) sees the last 5 minutes, the
  // points of T0 - 360 s … T0 - 120 s, and each later run one more point.

  it('a point a minute completes the 5-minute hold in steady state (the bound is above 60 s)', async () => {
    const { transitions } = await minutes(8, () => 0);
    // Clean from the first point seen (T0 - 360 s); UP five points later.
    expect(transitions).toEqual([['UP', T0 - 60_000]]);
  });

  it('a no-data (null) point is a gap: the hold restarts at the next good point', async () => {
    // Good at T0 - 360 s … T0 - 240 s, null at T0 - 180 s, good from T0 - 120 s: 120 s between
    // two observed points. Without the gap rule: UP at T0 - 60 s, counting the null minute.
    const { transitions } = await minutes(8, (at) => (at === T0 - 180_000 ? null : 0));
    expect(transitions).toEqual([['UP', T0 - 120_000 + 300_000]]);
  });
});

describe('roundOffsetsSec', () => {
  const base = settings();
  it('adds the closing round only to a snapshot run that fills its minute', () => {
    expect(roundOffsetsSec(base)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 57]);
    expect(roundOffsetsSec(base, true)).toHaveLength(12); // a series director: never
    expect(roundOffsetsSec(settings({ samplesPerRun: 1, sampleIntervalSec: 60 }))).toEqual([0]);
    expect(roundOffsetsSec(settings({ samplesPerRun: 6, sampleIntervalSec: 10 })).at(-1)).toBe(52);
    expect(roundOffsetsSec(settings({ samplesPerRun: 3 }))).toEqual([0, 5, 10]);
    expect(roundOffsetsSec(settings({ closingRoundSec: 0 }))).toHaveLength(12);
    expect(roundOffsetsSec(settings({ closingRoundSec: 58 })).at(-1)).toBe(58);
  });
});
