import fc from 'fast-check';
import {
  applySample,
  applySamples,
  healthStateEquals,
  initialHealthState,
  isBadSample,
  sampleVerdict,
  type HealthState,
  type HysteresisConfig,
} from '../../../shared/domain/health.js';
import {
  DEFAULT_HEALTH_CONFIG,
  type HealthConfig,
  type Sample,
  type Transition,
} from '../../../shared/domain/model.js';

const T0 = 1_700_000_000_000;
const cfg: HealthConfig = DEFAULT_HEALTH_CONFIG;

function good(at: number): Sample {
  return { target: 'HA_DC1', at, reachable: true, lossPct: 0, latencyMs: 10 };
}
function down(at: number): Sample {
  return { target: 'HA_DC1', at, reachable: false, lossPct: null, latencyMs: null };
}
function lossy(at: number, lossPct: number): Sample {
  return { target: 'HA_DC1', at, reachable: true, lossPct, latencyMs: 10 };
}
function noData(at: number): Sample {
  return { target: 'HA_DC1', at, reachable: true, lossPct: null, latencyMs: null };
}
/** Samples every 5 s from `start`, produced by `make`. */
function every5s(start: number, count: number, make: (at: number) => Sample): Sample[] {
  return Array.from({ length: count }, (_, i) => make(start + i * 5000));
}

describe('isBadSample', () => {
  it('classifies unreachable, loss, latency and no-data samples', () => {
    expect(isBadSample(down(T0), cfg)).toBe(true);
    expect(isBadSample(lossy(T0, 30), cfg)).toBe(true);
    expect(isBadSample(lossy(T0, 29.9), cfg)).toBe(false);
    expect(isBadSample(noData(T0), cfg)).toBe(false);
    const slow = { ...good(T0), latencyMs: 250 };
    expect(isBadSample(slow, cfg)).toBe(false);
    expect(isBadSample(slow, { ...cfg, latencyThresholdMs: 250 })).toBe(true);
    expect(isBadSample(slow, { ...cfg, latencyThresholdMs: 251 })).toBe(false);
  });
});

describe('applySample examples', () => {
  it('is UNKNOWN before the first sample', () => {
    expect(initialHealthState().health).toBe('UNKNOWN');
  });

  it('goes DOWN after failAfter bad samples in a row, naming the last one', () => {
    const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 };
    const r = applySamples(up, every5s(T0, 3, down), cfg);
    expect(r.state).toEqual({
      health: 'DOWN',
      badStreak: 0,
      cleanSince: null,
      since: T0 + 10000,
      lastBadAt: T0 + 10000,
    });
    expect(r.transitions).toEqual([
      {
        target: 'HA_DC1',
        from: 'UP',
        to: 'DOWN',
        at: T0 + 10000,
        reason: '3 bad samples in a row (last: unreachable)',
      },
    ]);
    const lossDown = applySamples(
      up,
      every5s(T0, 3, (at) => lossy(at, 45)),
      cfg,
    );
    expect(lossDown.transitions[0]?.reason).toBe('3 bad samples in a row (last: loss 45%)');
  });

  it('needs the full hold of clean samples to come back UP, and a bad one restarts it', () => {
    const r1 = applySamples(initialHealthState(), every5s(T0, 3, down), cfg);
    expect(r1.state.health).toBe('DOWN');
    // 295 s clean, then a bad sample, then 300 s clean again.
    const clean1 = every5s(T0 + 15000, 60, good); // covers 0..295 s of hold
    const r2 = applySamples(r1.state, clean1, cfg);
    expect(r2.state.health).toBe('DOWN');
    expect(r2.transitions).toEqual([]);
    const r3 = applySamples(r2.state, [lossy(T0 + 15000 + 300000, 50)], cfg);
    expect(r3.state.health).toBe('DOWN');
    expect(r3.state.cleanSince).toBeNull();
    const start = T0 + 15000 + 305000;
    const r4 = applySamples(r3.state, every5s(start, 61, good), cfg);
    expect(r4.transitions).toEqual([
      { target: 'HA_DC1', from: 'DOWN', to: 'UP', at: start + 300000, reason: 'clean for 300 s' },
    ]);
  });

  it('returns the very same object in steady state (zero writes)', () => {
    const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 };
    expect(applySample(up, good(T0 + 1), cfg).state).toBe(up);
    const dn: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 };
    expect(applySample(dn, down(T0 + 1), cfg).state).toBe(dn);
    expect(applySample(dn, noData(T0 + 1), cfg).state).toBe(dn);
  });

  it('treats no-data samples as neither good nor bad', () => {
    const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 };
    // bad, no data, bad: the no-data sample neither resets nor advances the streak.
    const r = applySamples(up, [down(T0), noData(T0 + 5000), down(T0 + 10000)], cfg);
    expect(r.state).toMatchObject({ health: 'UP', badStreak: 2 });
    // Only no-data for longer than the hold: an UNKNOWN target stays UNKNOWN.
    const n = applySamples(initialHealthState(), every5s(T0, 100, noData), cfg);
    expect(n.state).toEqual(initialHealthState());
  });

  it('DOWN from UNKNOWN and UP from UNKNOWN', () => {
    const d = applySamples(initialHealthState(), every5s(T0, 3, down), cfg);
    expect(d.transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['UNKNOWN->DOWN']);
    const u = applySamples(initialHealthState(), every5s(T0, 61, good), cfg);
    expect(u.transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['UNKNOWN->UP']);
  });
});

describe('the hold counts observed samples only (gap rule)', () => {
  // 30 s hold, samples every 5 s, a gap of more than 10 s between two observed samples restarts it.
  const gapCfg: HysteresisConfig = { ...cfg, recoverAfterSec: 30, maxSampleGapSec: 10 };
  const downAt: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 60_000 };

  it('a director outage in the middle of a hold restarts it: no sample is not clean time', () => {
    // Clean at +0 and +5 s, then 30 s without any sample (the director is unreachable), then clean
    // again from +35 s: the hold restarts at +35 s and completes at +65 s, not at +35 s.
    const trace = [good(T0), good(T0 + 5000), ...every5s(T0 + 35_000, 7, good)];
    expect(applySamples(downAt, trace, gapCfg).transitions).toEqual([
      { target: 'HA_DC1', from: 'DOWN', to: 'UP', at: T0 + 65_000, reason: 'clean for 30 s' },
    ]);
  });

  it('a gap of exactly maxSampleGapSec does not restart the hold (one lost round is tolerated)', () => {
    const trace = [good(T0), good(T0 + 10_000), good(T0 + 20_000), good(T0 + 30_000)];
    expect(applySamples(downAt, trace, gapCfg).transitions.map((t) => t.at)).toEqual([T0 + 30_000]);
    const longer = [good(T0), good(T0 + 10_001), good(T0 + 20_001), good(T0 + 30_001)];
    expect(applySamples(downAt, longer, gapCfg).transitions).toEqual([]);
  });

  it('no-data samples are not observations: a stretch of them longer than the gap restarts the hold', () => {
    // Meraki null points: the series goes on, but says nothing about the target.
    const trace = [good(T0), ...every5s(T0 + 5000, 6, noData), ...every5s(T0 + 35_000, 7, good)];
    const r = applySamples(downAt, trace, gapCfg);
    expect(r.transitions.map((t) => t.at)).toEqual([T0 + 65_000]);
  });

  it('restarts the hold of an UNKNOWN target too (the first hold after a cold start)', () => {
    const r = applySamples(initialHealthState(), [good(T0), ...every5s(T0 + 60_000, 7, good)], gapCfg);
    expect(r.transitions).toEqual([
      { target: 'HA_DC1', from: 'UNKNOWN', to: 'UP', at: T0 + 90_000, reason: 'clean for 30 s' },
    ]);
  });

  it('tracks the last sample only while a hold runs: steady UP and DOWN still return the same object', () => {
    const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 };
    const upR = applySamples(up, every5s(T0 + 5000, 20, good), gapCfg);
    expect(upR.state).toBe(up);
    const downR = applySamples(downAt, every5s(T0, 20, down), gapCfg);
    expect(downR.state).toBe(downAt);
    // A bad sample ends the hold and forgets its last sample; coming UP forgets it too.
    const holding = applySamples(downAt, [good(T0)], gapCfg).state;
    expect(holding).toEqual({ ...downAt, cleanSince: T0, lastSampleAt: T0 });
    expect(applySample(holding, down(T0 + 5000), gapCfg).state).toEqual({ ...downAt, lastBadAt: T0 + 5000 });
    const upAgain = applySamples(holding, every5s(T0 + 5000, 6, good), gapCfg).state;
    expect(upAgain).toEqual({ health: 'UP', badStreak: 0, cleanSince: null, since: T0 + 30_000 });
    expect(healthStateEquals(upAgain, { ...upAgain, lastSampleAt: null })).toBe(true);
  });

  it('never moves the last sample back for a late (older) sample', () => {
    const holding = applySamples(downAt, [good(T0), good(T0 + 10_000)], gapCfg).state;
    const late = applySample(holding, good(T0 + 5000), gapCfg).state;
    expect(late.lastSampleAt).toBe(T0 + 10_000);
  });

  it('a hold stored without its last sample (an item written before the field existed) is not failed for it', () => {
    const legacy: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: T0, since: T0 - 60_000 };
    const r = applySamples(legacy, [good(T0 + 25_000), good(T0 + 30_000)], gapCfg);
    expect(r.transitions.map((t) => t.at)).toEqual([T0 + 30_000]);
  });
});

describe('samples of overlapping runs, folded out of time order', () => {
  const hold30: HysteresisConfig = { ...cfg, recoverAfterSec: 30, maxSampleGapSec: 20 };
  const downAt: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 60_000 };

  it("another run's good samples from before the DOWN transition start no hold (checker seed 400780)", () => {
    // This run went DOWN on a bad sample at T0; another run's samples of T0 − 14 s … T0 + 8 s are
    // folded onto it later. Before: the hold started at T0 − 14 s and came UP 30 s after it, with
    // this run's bad sample inside the hold.
    const downAtT0: HealthState = {
      health: 'DOWN',
      badStreak: 0,
      cleanSince: null,
      since: T0,
      lastBadAt: T0,
    };
    const other = [good(T0 - 14_000), good(T0 - 4_000), good(T0 + 8_000)];
    const merged = applySamples(downAtT0, other, hold30).state;
    expect(merged).toEqual({ ...downAtT0, cleanSince: T0 + 8_000, lastSampleAt: T0 + 8_000 });
    const mine = every5s(T0 + 10_000, 7, good);
    expect(applySamples(merged, mine, hold30).transitions.map((t) => t.at)).toEqual([T0 + 40_000]);
  });

  it('a DOWN state stored before lastBadAt existed uses its transition time as the floor', () => {
    const legacy: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 };
    expect(applySample(legacy, good(T0 - 1), hold30).state).toBe(legacy);
    expect(applySample(legacy, good(T0 + 1), hold30).state.cleanSince).toBe(T0 + 1);
  });

  it('a late good sample does not clear a newer bad streak; a late bad one does not break a hold it predates', () => {
    const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 600_000 };
    const streak = applySamples(up, [down(T0), down(T0 + 5_000)], hold30).state;
    expect(applySample(streak, good(T0 + 2_000), hold30).state).toBe(streak);
    expect(applySamples(streak, [good(T0 + 2_000), down(T0 + 10_000)], hold30).transitions).toHaveLength(1);
    const holding: HealthState = { ...downAt, cleanSince: T0, lastSampleAt: T0 + 5_000 };
    expect(applySample(holding, down(T0 - 1_000), hold30).state).toBe(holding);
    expect(applySample(holding, down(T0), hold30).state.cleanSince).toBeNull();
  });

  it('property: an UP never holds across a bad sample that changed the state before it, in any order of two runs', () => {
    // Two runs, each in time order over the same stretch, folded as one run's samples onto the
    // state the other stored (either order, split anywhere): the only orders a conflict makes.
    const runArb = fc
      .array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 12_000 })), { maxLength: 40 })
      .map((steps) => {
        let at = T0;
        return steps.map(([isGood, gap]) => ((at += gap), isGood ? good(at) : down(at)));
      });
    fc.assert(
      fc.property(runArb, runArb, fc.nat(), startStateArb, configArb, (a, b, cut, start, config) => {
        const split = a.length === 0 ? 0 : cut % (a.length + 1);
        const order = [...a.slice(0, split), ...b, ...a.slice(split)];
        let s = start;
        let knownBad = start.health === 'DOWN' && start.since !== null ? start.since : -Infinity;
        for (const sample of order) {
          const r = applySample(s, sample, config);
          // The hold starts after every bad sample the state has heard of: cleanSince > knownBad.
          if (r.transition?.to === 'UP') expect(knownBad).toBeLessThan(s.cleanSince ?? sample.at);
          if (!sample.reachable && r.state !== s) knownBad = Math.max(knownBad, sample.at);
          s = r.state;
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over generated traces

/** A generated trace: strictly increasing times with one of four kinds of sample. */
const kindArb = fc.constantFrom('good', 'bad', 'lossy', 'none', 'good', 'good');
const configArb = fc.record(
  {
    lossThresholdPct: fc.constantFrom(10, 30, 50),
    failAfter: fc.integer({ min: 1, max: 4 }),
    recoverAfterSec: fc.integer({ min: 0, max: 60 }),
    maxSampleGapSec: fc.constantFrom(5, 10, 20, 90),
  },
  { requiredKeys: ['lossThresholdPct', 'failAfter', 'recoverAfterSec'] },
) as fc.Arbitrary<HysteresisConfig>;
/** Mostly a few seconds between samples, sometimes an outage of up to two minutes. */
const gapArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 15_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 15_001, max: 120_000 }) },
);
const traceArb = fc
  .array(fc.tuple(kindArb, gapArb, fc.integer({ min: 0, max: 100 })), {
    maxLength: 80,
  })
  .map((steps) => {
    let at = T0;
    return steps.map(([kind, gap, loss]): Sample => {
      at += gap;
      if (kind === 'bad') return down(at);
      if (kind === 'none') return noData(at);
      if (kind === 'lossy') return lossy(at, loss);
      return good(at);
    });
  });
const startStateArb = fc.constantFrom<HealthState>(
  initialHealthState(),
  { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 1 },
  { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 1 },
  // A hold already running, as stored by an earlier run.
  { health: 'DOWN', badStreak: 0, cleanSince: T0 - 20_000, since: T0 - 60_000, lastSampleAt: T0 - 4_000 },
);

/** Run a trace, recording the state after every sample. */
function runTrace(start: HealthState, trace: Sample[], config: HysteresisConfig) {
  const states: HealthState[] = [];
  const transitions: Transition[] = [];
  let s = start;
  for (const sample of trace) {
    const r = applySample(s, sample, config);
    s = r.state;
    states.push(s);
    if (r.transition) transitions.push(r.transition);
  }
  return { states, transitions };
}

describe('hysteresis properties', () => {
  it('at most one DOWN→UP per hold window', () => {
    fc.assert(
      fc.property(startStateArb, traceArb, configArb, (start, trace, config) => {
        const ups = runTrace(start, trace, config).transitions.filter((t) => t.to === 'UP');
        for (let i = 1; i < ups.length; i++) {
          // Strictly more than a hold apart: a DOWN sits between, then a full clean hold.
          expect(ups[i]!.at - ups[i - 1]!.at).toBeGreaterThan(config.recoverAfterSec * 1000);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('comes UP exactly when the hold has passed clean since the last bad sample or gap', () => {
    fc.assert(
      fc.property(startStateArb, traceArb, configArb, (start, trace, config) => {
        const { states } = runTrace(start, trace, config);
        // First good sample after the last bad one or the last gap, and the last good one since.
        let cleanStart: number | null = start.cleanSince;
        let lastGood: number | null = start.lastSampleAt ?? null;
        const maxGapMs = (config.maxSampleGapSec ?? Infinity) * 1000;
        let before = start;
        trace.forEach((sample, i) => {
          const after = states[i]!;
          const bad = isBadSample(sample, config);
          const isGood = !bad && sample.lossPct !== null;
          if (bad) cleanStart = lastGood = null;
          if (isGood && lastGood !== null && sample.at - lastGood > maxGapMs) cleanStart = null;
          if (isGood && cleanStart === null) cleanStart = sample.at;
          if (isGood) lastGood = sample.at;
          if (before.health !== 'UP') {
            const held =
              isGood && cleanStart !== null && sample.at - cleanStart >= config.recoverAfterSec * 1000;
            expect(after.health === 'UP').toBe(held);
          }
          if (after.health === 'UP') cleanStart = lastGood = null;
          before = after;
        });
      }),
      { numRuns: 500 },
    );
  });

  it('never comes UP with a gap of more than maxSampleGapSec between observed samples inside the hold', () => {
    fc.assert(
      fc.property(
        startStateArb.filter((s) => s.cleanSince === null),
        traceArb,
        configArb.filter((c) => c.maxSampleGapSec !== undefined),
        (start, trace, config) => {
          const holdMs = config.recoverAfterSec * 1000;
          const maxGapMs = (config.maxSampleGapSec as number) * 1000;
          const observed = trace.filter((s) => sampleVerdict(s, config) !== 'none');
          for (const up of runTrace(start, trace, config).transitions.filter((t) => t.to === 'UP')) {
            // Every pair of consecutive observed samples whose later one falls in the hold window
            // (up − hold, up] is good and at most maxSampleGapSec apart.
            observed.forEach((q, i) => {
              const p = observed[i - 1];
              if (!p || q.at <= up.at - holdMs || q.at > up.at) return;
              expect(q.at - p.at).toBeLessThanOrEqual(maxGapMs);
              expect(isBadSample(p, config) || isBadSample(q, config)).toBe(false);
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('goes DOWN exactly after failAfter bad samples in a row', () => {
    fc.assert(
      fc.property(startStateArb, traceArb, configArb, (start, trace, config) => {
        const { states } = runTrace(start, trace, config);
        // The streak counts bad samples since the last good one; no-data samples are skipped.
        let streak = start.badStreak;
        let before = start;
        trace.forEach((sample, i) => {
          const after = states[i]!;
          const bad = isBadSample(sample, config);
          if (bad) streak += 1;
          else if (sample.lossPct !== null) streak = 0;
          if (before.health !== 'DOWN') {
            expect(after.health === 'DOWN').toBe(bad && streak >= config.failAfter);
          }
          if (after.health === 'DOWN' && before.health !== 'DOWN') streak = 0;
          before = after;
        });
      }),
      { numRuns: 500 },
    );
  });

  it('a single bad sample never takes an UP target DOWN when failAfter > 1', () => {
    // Isolated bad samples: each is followed by at least one good sample.
    const isolatedArb = fc
      .array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 60 })
      .map((steps) => {
        let at = T0;
        const out: Sample[] = [];
        for (const [withBad, goods] of steps) {
          if (withBad) out.push(down((at += 5000)));
          for (let g = 0; g <= goods; g++) out.push(good((at += 5000)));
        }
        return out;
      });
    fc.assert(
      fc.property(
        isolatedArb,
        configArb.filter((c) => c.failAfter > 1),
        (trace, config) => {
          const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 };
          const r = applySamples(up, trace, config);
          expect(r.transitions).toEqual([]);
          // UP with no streak; the last bad sample is remembered (a late good one is older news).
          const lastBad = trace.filter((s) => !s.reachable).at(-1)?.at;
          expect(r.state).toEqual(lastBad === undefined ? up : { ...up, lastBadAt: lastBad });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same result however the samples are split across runs', () => {
    fc.assert(
      fc.property(
        startStateArb,
        traceArb,
        configArb,
        fc.array(fc.nat(), { maxLength: 6 }),
        (start, trace, config, cutsRaw) => {
          const whole = applySamples(start, trace, config);
          const cuts = [...new Set(cutsRaw.map((c) => c % (trace.length + 1)))].sort((a, b) => a - b);
          let state = start;
          const transitions: Transition[] = [];
          let from = 0;
          for (const to of [...cuts, trace.length]) {
            const r = applySamples(state, trace.slice(from, to), config);
            // Persisted between runs as JSON, as the store does.
            state = JSON.parse(JSON.stringify(r.state)) as HealthState;
            transitions.push(...r.transitions);
            from = to;
          }
          expect(healthStateEquals(state, whole.state)).toBe(true);
          expect(transitions).toEqual(whole.transitions);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('costs zero writes in steady state whatever the gaps: UP seeing good samples, DOWN seeing bad ones', () => {
    const steadyArb = (make: (at: number) => Sample) =>
      fc.array(gapArb, { maxLength: 60 }).map((gaps) => {
        let at = T0;
        return gaps.map((gap) => make((at += gap)));
      });
    fc.assert(
      fc.property(steadyArb(good), steadyArb(down), configArb, (goods, bads, config) => {
        const up: HealthState = { health: 'UP', badStreak: 0, cleanSince: null, since: T0 - 1 };
        const dn: HealthState = { health: 'DOWN', badStreak: 0, cleanSince: null, since: T0 - 1 };
        expect(applySamples(up, goods, config).state).toBe(up);
        expect(applySamples(dn, bads, config).state).toBe(dn);
      }),
      { numRuns: 300 },
    );
  });

  it('changes state only at meaningful events (steady state returns the same object)', () => {
    fc.assert(
      fc.property(startStateArb, traceArb, configArb, (start, trace, config) => {
        let s = start;
        for (const sample of trace) {
          const r = applySample(s, sample, config);
          if (r.state !== s) expect(healthStateEquals(r.state, s)).toBe(false);
          // Normal form: UP has no hold, DOWN has no streak, the last sample only with a hold.
          if (r.state.health === 'UP') expect(r.state.cleanSince).toBeNull();
          if (r.state.health === 'DOWN') expect(r.state.badStreak).toBe(0);
          expect(r.state.lastSampleAt == null).toBe(r.state.cleanSince === null);
          s = r.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});
