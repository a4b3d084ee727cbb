import fc from 'fast-check';
import {
  elect,
  electionSiteRoles,
  isPinActive,
  type ElectionInput,
  type ElectionResult,
} from '../../../shared/domain/election.js';
import { applySample, initialHealthState } from '../../../shared/domain/health.js';
import { assessMonitor } from '../../../shared/domain/monitor.js';
import type {
  HaGroup,
  Health,
  HealthConfig,
  Pin,
  Sample,
  SiteName,
  SiteRole,
} from '../../../shared/domain/model.js';
import { chennaiGroup } from './fixtures.js';

const NOW = 1_700_000_000_000;
const group = chennaiGroup(true);
const ALL_UP = { HA_DC1: 'UP', HA_DC2: 'UP', DR: 'UP', DR2: 'UP' } as const;
const ACTIVE_SITES: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'ACTIVE' };

function input(over: Partial<ElectionInput>): ElectionInput {
  return {
    group,
    health: ALL_UP,
    siteRoles: ACTIVE_SITES,
    current: { servingId: 'HA_DC1', epoch: 7 },
    now: NOW,
    preempt: true,
    monitorBlind: false,
    ...over,
  };
}

describe('elect examples', () => {
  it('elects the first UP candidate initially', () => {
    const r = elect(input({ current: { epoch: 0 } }));
    expect(r).toMatchObject({ servingId: 'HA_DC1', changed: true, epoch: 1, kind: 'initial', alarms: [] });
  });

  it('keeps serving unchanged with the same epoch when nothing changes', () => {
    expect(elect(input({}))).toMatchObject({ servingId: 'HA_DC1', changed: false, epoch: 7, alarms: [] });
  });

  it('fails over down the order and back, never electing DOWN or UNKNOWN', () => {
    const r1 = elect(input({ health: { ...ALL_UP, HA_DC1: 'DOWN' } }));
    expect(r1).toMatchObject({ servingId: 'HA_DC2', changed: true, epoch: 8, kind: 'failover' });
    expect(r1.reason).toContain('HA_DC1 (DOWN)');
    const r2 = elect(
      input({
        health: { ...ALL_UP, HA_DC1: 'DOWN', HA_DC2: 'UNKNOWN' },
        current: { servingId: 'HA_DC2', epoch: 8 },
      }),
    );
    expect(r2).toMatchObject({ servingId: 'DR', epoch: 9, kind: 'failover' });
    const r3 = elect(
      input({ health: { ...ALL_UP, HA_DC2: 'DOWN' }, current: { servingId: 'DR', epoch: 9 } }),
    );
    expect(r3).toMatchObject({ servingId: 'HA_DC1', epoch: 10, kind: 'failback' });
  });

  it('preempt: false keeps the current one while it is UP, and leaves it once DOWN', () => {
    const keep = elect(input({ preempt: false, current: { servingId: 'DR', epoch: 3 } }));
    expect(keep).toMatchObject({ servingId: 'DR', changed: false, epoch: 3 });
    const leave = elect(
      input({ preempt: false, current: { servingId: 'DR', epoch: 3 }, health: { ...ALL_UP, DR: 'DOWN' } }),
    );
    expect(leave).toMatchObject({ servingId: 'HA_DC1', changed: true, epoch: 4, kind: 'failback' });
  });

  it('skips the candidates of a PASSIVE site', () => {
    const r = elect(input({ siteRoles: { DC: 'PASSIVE', DR: 'ACTIVE' } }));
    expect(r).toMatchObject({ servingId: 'DR', changed: true, kind: 'failover' });
    const noPreempt = elect(input({ preempt: false, siteRoles: { DC: 'PASSIVE', DR: 'ACTIVE' } }));
    expect(noPreempt.servingId).toBe('DR');
  });

  it('keeps serving and raises ALL_DOWN when no eligible candidate is UP', () => {
    const down: Record<string, Health> = { HA_DC1: 'DOWN', HA_DC2: 'DOWN', DR: 'UNKNOWN' };
    const r = elect(input({ health: down }));
    expect(r).toMatchObject({ servingId: 'HA_DC1', changed: false, epoch: 7, alarms: ['ALL_DOWN'] });
    expect(r.reason).toContain('no eligible candidate is UP');
    const none = elect(input({ health: down, current: { epoch: 0 } }));
    expect(none.servingId).toBeUndefined();
    expect(none.alarms).toEqual(['ALL_DOWN']);
    // UP but on a PASSIVE site: still ALL_DOWN.
    const passive = elect(input({ health: { DR: 'UP' }, siteRoles: { DC: 'ACTIVE', DR: 'PASSIVE' } }));
    expect(passive.alarms).toEqual(['ALL_DOWN']);
  });

  it('holds every change while the monitor is blind', () => {
    const r = elect(input({ monitorBlind: true, health: { ...ALL_UP, HA_DC1: 'DOWN' } }));
    expect(r).toMatchObject({ servingId: 'HA_DC1', changed: false, epoch: 7, alarms: ['MONITOR_BLIND'] });
  });

  it('honours an unexpired pin over election, a PASSIVE site, a DOWN health and blindness', () => {
    const pin: Pin = {
      concentratorId: 'DR',
      reason: 'DC maintenance',
      by: 'ops',
      pinnedAt: NOW - 1000,
      expiresAt: NOW + 1000,
    };
    const r = elect(
      input({
        pin,
        siteRoles: { DC: 'ACTIVE', DR: 'PASSIVE' },
        health: { ...ALL_UP, DR: 'DOWN' },
        monitorBlind: true,
      }),
    );
    expect(r).toMatchObject({ servingId: 'DR', changed: true, epoch: 8, kind: 'pin', alarms: [] });
    expect(r.reason).toContain('DC maintenance');
    const same = elect(input({ pin, current: { servingId: 'DR', epoch: 8 } }));
    expect(same).toMatchObject({ servingId: 'DR', changed: false, epoch: 8 });
  });

  it('ignores an expired pin and a pin onto a concentrator that is not a candidate', () => {
    const expired: Pin = { concentratorId: 'DR', reason: 'x', pinnedAt: NOW - 2000, expiresAt: NOW };
    expect(isPinActive(expired, NOW)).toBe(false);
    expect(elect(input({ pin: expired }))).toMatchObject({ servingId: 'HA_DC1', changed: false });
    const stranger: Pin = { concentratorId: 'HA_DC9', reason: 'x', pinnedAt: NOW };
    const r = elect(input({ pin: stranger }));
    expect(r).toMatchObject({ servingId: 'HA_DC1', changed: false });
    expect(r.reason).toContain('HA_DC9');
  });

  it('accepts health as a Map, and treats a missing health as UNKNOWN', () => {
    const r = elect(input({ health: new Map<string, Health>([['HA_DC2', 'UP']]), current: { epoch: 0 } }));
    expect(r.servingId).toBe('HA_DC2');
  });

  it('moves off a serving id that is no longer a candidate (replaced concentrator)', () => {
    const r = elect(input({ current: { servingId: 'OLD_DC1', epoch: 2 } }));
    expect(r).toMatchObject({ servingId: 'HA_DC1', changed: true, epoch: 3, kind: 'failover' });
  });
});

describe('assessMonitor', () => {
  const base = {
    totalTargets: 8,
    wentDownThisRun: 0,
    blindShare: 0.5,
    blindMinTargets: 4,
  };
  it('is blind when at least the share of at least the minimum targets went DOWN', () => {
    expect(assessMonitor({ ...base, wentDownThisRun: 4 }).blind).toBe(true);
    expect(assessMonitor({ ...base, wentDownThisRun: 4 }).reason).toContain('4 of 8');
    expect(assessMonitor({ ...base, wentDownThisRun: 3 }).blind).toBe(false);
    expect(assessMonitor({ ...base, totalTargets: 3, wentDownThisRun: 3 }).blind).toBe(false);
    expect(assessMonitor({ ...base, totalTargets: 4, wentDownThisRun: 2 }).blind).toBe(true);
    expect(assessMonitor({ ...base, totalTargets: 0, blindMinTargets: 0 }).blind).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Traces: health samples through health.ts, then election, step by step. Each step is generated
// as one integer and decoded, which keeps 10,000 traces fast; checks throw plain errors (cheaper
// than `expect` in a hot loop) with the step in the message.

const TICK_MS = 5000;
const configArb = fc.record({
  lossThresholdPct: fc.constant(30),
  failAfter: fc.integer({ min: 1, max: 3 }),
  recoverAfterSec: fc.constantFrom(5, 10, 20),
});

/** Sample kinds: 0 good, 1 lossy (bad), 2 unreachable (bad), 3 no data. Good is most likely. */
const KINDS = [0, 0, 0, 1, 2, 3, 0, 0];

interface Step {
  /** Per candidate (by index): a sample kind. */
  samples: number[];
  role?: [SiteName, SiteRole];
  /** Pin onto candidate `index` expiring after `ticks`; an index past the candidates unpins. */
  pin?: { index: number; ticks: number };
  blind: boolean;
}

/** Decode one step from 31 random bits: 4×3 bits of samples, then role, pin and blind bits. */
function decodeStep(bits: number, n: number): Step {
  const samples = Array.from({ length: n }, (_, i) => KINDS[(bits >>> (3 * i)) & 7]!);
  const r = (bits >>> 12) & 15; // 1 in 8: a role change
  const p = (bits >>> 16) & 31; // 1 in 8: a pin or unpin
  const b = (bits >>> 21) & 15; // 1 in 16: blind
  return {
    samples,
    ...(r < 2
      ? { role: [(bits >>> 25) & 1 ? 'DR' : 'DC', r === 0 ? 'PASSIVE' : 'ACTIVE'] as [SiteName, SiteRole] }
      : {}),
    ...(p < 4 ? { pin: { index: (bits >>> 26) % (n + 1), ticks: 1 + ((bits >>> 29) & 3) * 2 } } : {}),
    blind: b === 0,
  };
}

const traceArb = fc.record({
  n: fc.integer({ min: 2, max: 4 }),
  config: configArb,
  preempt: fc.boolean(),
  steps: fc.array(fc.nat({ max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 14 }),
});

function sampleOf(target: string, at: number, kind: number): Sample {
  if (kind === 2) return { target, at, reachable: false, lossPct: null, latencyMs: null };
  if (kind === 3) return { target, at, reachable: true, lossPct: null, latencyMs: null };
  return { target, at, reachable: true, lossPct: kind === 1 ? 60 : 0, latencyMs: 10 };
}

interface Decision {
  at: number;
  result: ElectionResult;
  previousId?: string;
  health: Record<string, Health>;
}

/** Drive a group through a trace; `checkStep` sees each election; returns every decision. */
function runGroup(
  g: HaGroup,
  steps: readonly Step[],
  config: HealthConfig,
  preempt: boolean,
  checkStep?: (i: ElectionInput & { health: Record<string, Health> }, r: ElectionResult, t: number) => void,
): Decision[] {
  const states = g.candidates.map(() => initialHealthState());
  const roles: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'ACTIVE' };
  let current: { servingId?: string; epoch: number } = { epoch: 0 };
  let pin: Pin | undefined;
  const decisions: Decision[] = [];
  steps.forEach((step, t) => {
    const at = NOW + t * TICK_MS;
    const health: Record<string, Health> = {};
    g.candidates.forEach((c, idx) => {
      states[idx] = applySample(states[idx]!, sampleOf(c.id, at, step.samples[idx] ?? 0), config).state;
      health[c.id] = states[idx]!.health;
    });
    if (step.role) roles[step.role[0]] = step.role[1];
    if (step.pin) {
      const target = g.candidates[step.pin.index];
      pin = target
        ? {
            concentratorId: target.id,
            reason: 'test',
            pinnedAt: at,
            expiresAt: at + step.pin.ticks * TICK_MS,
          }
        : undefined;
    }
    const inp = {
      group: g,
      health,
      siteRoles: { ...roles },
      current,
      pin,
      now: at,
      preempt,
      monitorBlind: step.blind,
    };
    const result = elect(inp);
    checkStep?.(inp, result, t);
    decisions.push({ at, result, previousId: current.servingId, health });
    current = {
      ...(result.servingId !== undefined ? { servingId: result.servingId } : {}),
      epoch: result.epoch,
    };
  });
  return decisions;
}

function groupOf(n: number): HaGroup {
  const g = chennaiGroup(true);
  return { ...g, candidates: g.candidates.slice(0, n) };
}

function check(ok: boolean, what: string, t: number, r: ElectionResult): void {
  if (!ok) throw new Error(`step ${t}: ${what}; result ${JSON.stringify(r)}`);
}

describe('election over generated traces', () => {
  it('holds the safety invariants and the epoch rule (10,000 traces with role changes, pins, blindness)', () => {
    fc.assert(
      fc.property(traceArb, ({ n, config, preempt, steps }) => {
        const g = groupOf(n);
        const ids = new Set(g.candidates.map((c) => c.id));
        const decoded = steps.map((bits) => decodeStep(bits, n));
        runGroup(g, decoded, config, preempt, (inp, r, t) => {
          const eligibleUp = g.candidates.filter(
            (c) => inp.siteRoles[c.site] !== 'PASSIVE' && inp.health[c.id] === 'UP',
          );
          // Never two serving: one id, either the unchanged one or a candidate of the group.
          check(
            r.servingId === inp.current.servingId || ids.has(r.servingId!),
            'serving is not a candidate',
            t,
            r,
          );
          // The epoch rises by one exactly when serving changes, and never otherwise.
          check(r.changed === (r.servingId !== inp.current.servingId), 'changed flag', t, r);
          check(r.epoch === inp.current.epoch + (r.changed ? 1 : 0), 'epoch rule', t, r);
          check((r.kind !== undefined) === r.changed, 'kind set iff changed', t, r);
          if (isPinActive(inp.pin, inp.now)) {
            check(r.servingId === inp.pin.concentratorId, 'an active pin wins', t, r);
            return;
          }
          if (inp.monitorBlind) {
            check(!r.changed && r.alarms.join() === 'MONITOR_BLIND', 'blind holds every change', t, r);
            return;
          }
          // Never elect a DOWN or UNKNOWN candidate.
          check(!r.changed || inp.health[r.servingId!] === 'UP', 'elected a non-UP candidate', t, r);
          if (eligibleUp.length > 0) {
            // Never a DOWN (or ineligible) serving while an UP eligible one exists.
            check(
              eligibleUp.some((c) => c.id === r.servingId),
              'serving not UP while one is',
              t,
              r,
            );
            check(!inp.preempt || r.servingId === eligibleUp[0]!.id, 'preempt: first UP serves', t, r);
            check(r.alarms.length === 0, 'no alarm while one is UP', t, r);
          } else {
            check(!r.changed && r.alarms.join() === 'ALL_DOWN', 'none UP: hold with ALL_DOWN', t, r);
          }
        });
      }),
      { numRuns: 10_000 },
    );
  });

  // Oscillating loss: candidates flip between clean and lossy bursts; no pins, no role changes,
  // no blindness, preempt on: every change of serving is health's doing.
  const burstsArb = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 6 })), { maxLength: 8 });
  function oscillation(bursts: readonly (readonly [boolean, number][])[], length: number): Step[] {
    const perCandidate = bursts.map((b) => {
      const kinds = b.flatMap(([bad, len]) => Array<number>(len).fill(bad ? 1 : 0));
      return Array.from({ length }, (_, i) => kinds[i % Math.max(1, kinds.length)] ?? 0);
    });
    return Array.from({ length }, (_, t) => ({ samples: perCandidate.map((k) => k[t]!), blind: false }));
  }
  /** Times strictly more than `holdMs` apart (at most one per hold window). */
  function spaced(times: number[], holdMs: number): boolean {
    return times.every((at, i) => i === 0 || at - times[i - 1]! > holdMs);
  }

  it('one candidate oscillating: at most one failover and one failback per hold window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.nat({ max: 3 }),
        configArb,
        burstsArb,
        fc.integer({ min: 10, max: 30 }),
        (n, which, config, bursts, length) => {
          const g = groupOf(n);
          const all = g.candidates.map((_, i) => (i === which % n ? bursts : []));
          const decisions = runGroup(g, oscillation(all, length), config, true);
          const times = (kind: string) => decisions.filter((d) => d.result.kind === kind).map((d) => d.at);
          const hold = config.recoverAfterSec * 1000;
          return spaced(times('failover'), hold) && spaced(times('failback'), hold);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('every candidate oscillating: failbacks onto a candidate at most once per hold window; failovers only away from a non-UP one', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 4 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              configArb,
              fc.array(burstsArb, { minLength: n, maxLength: n }),
              fc.integer({ min: 10, max: 40 }),
            ),
          ),
        ([n, config, bursts, length]) => {
          const g = groupOf(n);
          const decisions = runGroup(g, oscillation(bursts, length), config, true);
          const hold = config.recoverAfterSec * 1000;
          return g.candidates.every((c) => {
            const onto = decisions.filter((d) => d.result.kind === 'failback' && d.result.servingId === c.id);
            const away = decisions.filter((d) => d.result.kind === 'failover' && d.previousId === c.id);
            return (
              spaced(
                onto.map((d) => d.at),
                hold,
              ) && away.every((d) => d.health[c.id] !== 'UP')
            );
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('electionSiteRoles', () => {
  it('keeps the standby DR site eligible while DC is ACTIVE (DR is the last resort)', () => {
    expect(electionSiteRoles({ DC: 'ACTIVE', DR: 'PASSIVE' })).toEqual({ DC: 'ACTIVE', DR: 'ACTIVE' });
  });

  it('skips the DC site after a switchover, until failback', () => {
    expect(electionSiteRoles({ DC: 'PASSIVE', DR: 'ACTIVE' })).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });

  it('leaves both PASSIVE as they are (nothing eligible, ALL_DOWN)', () => {
    expect(electionSiteRoles({ DC: 'PASSIVE', DR: 'PASSIVE' })).toEqual({ DC: 'PASSIVE', DR: 'PASSIVE' });
  });
});
