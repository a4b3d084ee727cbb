import fc from 'fast-check';
import {
  acknowledgedVerdict,
  assessMonitor,
  nextMonitorVerdict,
  type MonitorCounts,
} from '../../../shared/domain/monitor.js';

const base = { blindShare: 0.5, blindMinTargets: 4 };
const counts = (over: Partial<MonitorCounts>): MonitorCounts => ({
  totalTargets: 8,
  wentDownThisRun: 0,
  downNow: 0,
  ...base,
  ...over,
});

/** Counts where `downNow` includes this run's new DOWN targets (as a health run sees them). */
const countsArb = fc
  .record({
    totalTargets: fc.integer({ min: 0, max: 40 }),
    downFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    newFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    blindShare: fc.double({ min: 0.05, max: 1, noNaN: true }),
    blindMinTargets: fc.integer({ min: 1, max: 10 }),
  })
  .map(({ totalTargets, downFrac, newFrac, ...rest }): MonitorCounts => {
    const downNow = Math.floor(totalTargets * downFrac);
    return { totalTargets, downNow, wentDownThisRun: Math.floor(downNow * newFrac), ...rest };
  });
const previousArb = fc.option(fc.record({ latched: fc.boolean() }), { nil: undefined });

describe('nextMonitorVerdict: the sticky MONITOR_BLIND latch', () => {
  it('raises the latch when half of at least 4 targets go DOWN in one run', () => {
    const v = nextMonitorVerdict(undefined, counts({ wentDownThisRun: 4, downNow: 4 }));
    expect(v).toMatchObject({ blind: true, latched: true });
    expect(v.reason).toMatch(/4 of 8 targets \(50%\) went DOWN in one run/);
  });

  it('keeps it raised on the next run, which sees no new DOWN, while half are still DOWN', () => {
    const v = nextMonitorVerdict({ latched: true }, counts({ wentDownThisRun: 0, downNow: 4 }));
    expect(v).toMatchObject({ blind: true, latched: true });
    expect(v.reason).toMatch(/4 of 8 targets \(50%\) still DOWN/);
    expect(v.reason).toMatch(/ack-monitor-blind/);
  });

  it('clears it once enough targets are UP again', () => {
    expect(nextMonitorVerdict({ latched: true }, counts({ downNow: 3 }))).toEqual({
      blind: false,
      latched: false,
    });
  });

  it('stays clear after an acknowledgement while the same targets are still DOWN (no new mass DOWN)', () => {
    const acked = acknowledgedVerdict();
    expect(acked).toEqual({ blind: false, latched: false });
    expect(nextMonitorVerdict(acked, counts({ downNow: 8 }))).toEqual({ blind: false, latched: false });
    // A new mass DOWN raises it again.
    expect(nextMonitorVerdict(acked, counts({ wentDownThisRun: 4, downNow: 8 })).latched).toBe(true);
  });

  it('keeps a raised latch when there are no targets to judge by, and below blindMinTargets by share', () => {
    expect(nextMonitorVerdict({ latched: true }, counts({ totalTargets: 0 })).latched).toBe(true);
    expect(nextMonitorVerdict({ latched: true }, counts({ totalTargets: 3, downNow: 2 })).latched).toBe(true);
    expect(nextMonitorVerdict({ latched: true }, counts({ totalTargets: 3, downNow: 1 })).latched).toBe(
      false,
    );
  });

  it('properties: blind = the latch; the latch holds exactly while the DOWN share stays high', () => {
    fc.assert(
      fc.property(previousArb, countsArb, (previous, c) => {
        const v = nextMonitorVerdict(previous, c);
        const raised = assessMonitor(c).blind;
        const shareHigh = c.totalTargets === 0 || c.downNow / c.totalTargets >= c.blindShare;
        expect(v.blind).toBe(v.latched);
        // Raised by the share rule always latches.
        if (raised) expect(v.latched).toBe(true);
        // A latch never comes from nowhere: the share rule or the previous latch.
        if (v.latched) expect(raised || previous?.latched === true).toBe(true);
        // A previous latch holds while the share is high, and only then (unless raised anew).
        if (previous?.latched && !raised) expect(v.latched).toBe(shareHigh);
        if (v.blind) expect(v.reason).toBeTruthy();
      }),
      { numRuns: 2000 },
    );
  });

  it('property: over a trace, once raised it stays raised until the share drops or an operator acknowledges', () => {
    const step = fc.record({
      down: fc.integer({ min: 0, max: 10 }),
      ack: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), (steps) => {
        const total = 10;
        let previousDown = 0;
        let verdict = nextMonitorVerdict(undefined, counts({ totalTargets: total }));
        for (const s of steps) {
          const wentDown = Math.max(0, s.down - previousDown);
          const before = verdict;
          verdict = nextMonitorVerdict(
            before,
            counts({ totalTargets: total, downNow: s.down, wentDownThisRun: wentDown }),
          );
          if (before.latched && s.down >= 5) expect(verdict.latched).toBe(true);
          if (before.latched && s.down < 5 && wentDown < 5) expect(verdict.latched).toBe(false);
          if (s.ack) verdict = acknowledgedVerdict();
          previousDown = s.down;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
