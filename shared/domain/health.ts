/**
 * Health hysteresis (DESIGN.md "Health and election, precisely") as a pure fold over samples.
 *
 * - UNKNOWN before the first sample that decides anything.
 * - DOWN after `failAfter` bad samples in a row (from UP or UNKNOWN).
 * - UP only after `recoverAfterSec` of good samples with no bad one between (from DOWN or
 *   UNKNOWN). The hold is measured from the `at` of the first good sample after the last bad
 *   one to the `at` of the current good sample; any bad sample restarts it.
 * - The hold counts observed samples only: a good sample that arrives more than
 *   `maxSampleGapSec` after the previous observed sample of the hold (a director outage, a missed
 *   or timed-out run, a cold start) restarts the hold at itself. A gap is not clean time. The state
 *   remembers the last observed sample only while a hold runs (`lastSampleAt`).
 * - A reachable sample without loss data (`lossPct: null`) is "no data": it is neither good nor
 *   bad, so it never advances (nor breaks) a bad streak and is not an observation: it neither
 *   completes a hold nor bridges a gap (a stretch of no-data samples longer than the gap restarts
 *   the hold at the next good sample). The state is left exactly as it was.
 * - Samples from overlapping runs meet out of time order when one run's samples are folded onto
 *   the state another run stored. A good sample at or before a bad sample the state knows of
 *   (the DOWN transition's, or `lastBadAt`) is superseded and ignored: it starts no hold and
 *   clears no bad streak. While DOWN, a bad sample before the running hold's start does not break
 *   it (the hold needs no bad sample from its start on).
 *
 * The state is NORMALIZED so that persisting it costs zero writes in steady state: an UP target
 * seeing good samples, and a DOWN target seeing bad ones, get the very same object back (neither
 * has a hold running, so neither tracks its last sample). A running hold changes the state at
 * every good sample (its last sample moves): one progress write per run while a target recovers.
 */
import type { Health, HealthConfig, Sample, Transition } from './model.js';

/** A target's hysteresis state, persisted between runs. Compare with {@link healthStateEquals}. */
export interface HealthState {
  health: Health;
  /** Bad samples in a row while not DOWN; always 0 when DOWN. */
  badStreak: number;
  /** `at` of the first good sample of the current clean hold while not UP; always null when UP. */
  cleanSince: number | null;
  /** `at` of the last transition; null before the first one. */
  since: number | null;
  /**
   * `at` of the latest observed (good) sample of the running hold: set exactly while `cleanSince`
   * is, absent otherwise. A good sample more than `maxSampleGapSec` after it restarts the hold.
   * Optional so that a state stored without it still reads: a running hold stored without it is
   * not checked for a gap at its next sample (it has no last sample to measure from).
   */
  lastSampleAt?: number | null;
  /**
   * `at` of the latest bad sample that changed the state (counted in a streak, made it DOWN, or
   * broke a hold): a good sample at or before it is older news and is ignored. Absent before the
   * first such sample. A DOWN target's further bad samples do not move it, so a steady DOWN target
   * still costs no write. Optional so that a state stored without it still reads (a stored DOWN
   * state's `since` stands in for it).
   */
  lastBadAt?: number | null;
}

/** The hysteresis thresholds and the gap rule. */
export interface HysteresisConfig extends HealthConfig {
  /**
   * The longest gap, in seconds, between two observed samples that a clean hold may span; a good
   * sample later than this after the previous one restarts the hold. Set it from the sampling
   * cadence (the health run does: `health.maxSampleGapSec`, by default 2 × `sampleIntervalSec`
   * for snapshot directors and 90 s for per-minute series). @default no gap rule
   */
  maxSampleGapSec?: number;
}

/** The state of a target never seen: UNKNOWN, no streak, no hold. */
export function initialHealthState(): HealthState {
  return { health: 'UNKNOWN', badStreak: 0, cleanSince: null, since: null };
}

/** True when every field of two states is equal (the persisted state needs no write). */
export function healthStateEquals(a: HealthState, b: HealthState): boolean {
  return (
    a.health === b.health &&
    a.badStreak === b.badStreak &&
    a.cleanSince === b.cleanSince &&
    a.since === b.since &&
    (a.lastSampleAt ?? null) === (b.lastSampleAt ?? null) &&
    (a.lastBadAt ?? null) === (b.lastBadAt ?? null)
  );
}

/**
 * A sample is bad when the target is unreachable, or reports loss ≥ `lossThresholdPct`, or (when
 * `latencyThresholdMs` is set) latency ≥ it. A reachable sample with `lossPct: null` is NOT bad
 * (it is "no data", see {@link sampleVerdict}); it is not good either.
 */
export function isBadSample(sample: Sample, config: HealthConfig): boolean {
  return sampleVerdict(sample, config) === 'bad';
}

/** Classify a sample: `bad`, `good`, or `none` (reachable but no loss data). */
export function sampleVerdict(sample: Sample, config: HealthConfig): 'bad' | 'good' | 'none' {
  if (!sample.reachable) return 'bad';
  if (sample.lossPct !== null && sample.lossPct >= config.lossThresholdPct) return 'bad';
  if (
    config.latencyThresholdMs !== undefined &&
    sample.latencyMs !== null &&
    sample.latencyMs >= config.latencyThresholdMs
  )
    return 'bad';
  return sample.lossPct === null ? 'none' : 'good';
}

/** Why a sample is bad, for transition reasons and logs, e.g. `unreachable`, `loss 45%`. */
export function describeBadSample(sample: Sample, config: HealthConfig): string {
  if (!sample.reachable) return 'unreachable';
  if (sample.lossPct !== null && sample.lossPct >= config.lossThresholdPct) return `loss ${sample.lossPct}%`;
  return `latency ${sample.latencyMs ?? '?'} ms`;
}

/**
 * Apply one sample. Returns the same `state` object when nothing meaningful changed, so callers
 * can skip the write with `result.state === state` (or {@link healthStateEquals}).
 */
export function applySample(state: HealthState, sample: Sample, config: HysteresisConfig): HealthStep {
  const verdict = sampleVerdict(sample, config);
  if (verdict === 'none') return { state };
  const latestBad = Math.max(sample.at, state.lastBadAt ?? Number.NEGATIVE_INFINITY);

  if (verdict === 'bad') {
    if (state.health === 'DOWN') {
      // Already DOWN: a bad sample only restarts a running hold (one from before it started is
      // not in the hold).
      if (state.cleanSince === null || sample.at < state.cleanSince) return { state };
      return { state: normal('DOWN', 0, null, state.since, null, latestBad) };
    }
    const badStreak = state.badStreak + 1;
    if (badStreak >= Math.max(1, config.failAfter)) {
      return transitionTo(
        'DOWN',
        state,
        sample,
        `${badStreak} bad sample${badStreak === 1 ? '' : 's'} in a row (last: ${describeBadSample(sample, config)})`,
      );
    }
    return { state: normal(state.health, badStreak, null, state.since, null, latestBad) };
  }

  // A good sample: older news than a bad sample the state knows of changes nothing.
  if (sample.at <= badFloor(state)) return { state };
  if (state.health === 'UP') {
    return holdOrRestart(state, null, null, state.lastBadAt ?? null);
  }
  const last = state.lastSampleAt ?? null;
  const gap = state.cleanSince !== null && last !== null && sample.at - last > maxGapMs(config);
  // A gap in sampling is not clean time: the hold restarts at this sample.
  const cleanSince = gap ? sample.at : (state.cleanSince ?? sample.at);
  const heldMs = sample.at - cleanSince;
  if (heldMs >= config.recoverAfterSec * 1000) {
    return transitionTo('UP', state, sample, `clean for ${Math.round(heldMs / 1000)} s`);
  }
  // A late sample (older than the last one, e.g. another run's) never moves the last sample back.
  return holdOrRestart(
    state,
    cleanSince,
    last === null ? sample.at : Math.max(last, sample.at),
    state.lastBadAt ?? null,
  );
}

/** The latest bad sample the state knows of: a good sample at or before it is older news. */
function badFloor(state: HealthState): number {
  const down = state.health === 'DOWN' && state.since !== null ? state.since : Number.NEGATIVE_INFINITY;
  return Math.max(down, state.lastBadAt ?? Number.NEGATIVE_INFINITY);
}

/** The gap rule's bound in ms (no rule: infinite). */
function maxGapMs(config: HysteresisConfig): number {
  return config.maxSampleGapSec === undefined ? Number.POSITIVE_INFINITY : config.maxSampleGapSec * 1000;
}

/** One step of {@link applySample}: the next state and the transition it made, if any. */
export type HealthStep = { state: HealthState; transition?: Transition };

/**
 * Keep the health with no bad streak, `cleanSince`, (with a hold) its last sample and the latest
 * known bad sample: the same object when already so.
 */
function holdOrRestart(
  state: HealthState,
  cleanSince: number | null,
  lastSampleAt: number | null = null,
  lastBadAt: number | null = null,
): HealthStep {
  const next = normal(state.health, 0, cleanSince, state.since, lastSampleAt, lastBadAt);
  return healthStateEquals(state, next) ? { state } : { state: next };
}

/** A state in normal form: `lastSampleAt` present only with a running hold, `lastBadAt` once known. */
function normal(
  health: Health,
  badStreak: number,
  cleanSince: number | null,
  since: number | null,
  lastSampleAt: number | null = null,
  lastBadAt: number | null = null,
): HealthState {
  const state: HealthState = { health, badStreak, cleanSince, since };
  if (cleanSince !== null && lastSampleAt !== null) state.lastSampleAt = lastSampleAt;
  if (lastBadAt !== null) state.lastBadAt = lastBadAt;
  return state;
}

/** Move to `to` at the sample's time, counters cleared, with the transition that says why. */
function transitionTo(to: Health, state: HealthState, sample: Sample, reason: string): HealthStep {
  const known = state.lastBadAt ?? null;
  const lastBadAt = to === 'DOWN' ? Math.max(sample.at, known ?? sample.at) : known;
  return {
    state: normal(to, 0, null, sample.at, null, lastBadAt),
    transition: { target: sample.target, from: state.health, to, at: sample.at, reason },
  };
}

/**
 * Apply samples in order (one target). Returns the final state (the input object when nothing
 * changed) and every transition in order. Splitting a trace across several calls, persisting the
 * state in between, gives the same result as one call.
 */
export function applySamples(
  state: HealthState,
  samples: readonly Sample[],
  config: HysteresisConfig,
): { state: HealthState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  let current = state;
  for (const sample of samples) {
    const result = applySample(current, sample, config);
    current = result.state;
    if (result.transition) transitions.push(result.transition);
  }
  return { state: current, transitions };
}
