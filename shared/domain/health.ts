/**
 * Health hysteresis (DESIGN.md "Health and election, precisely") as a pure fold over samples.
 *
 * - UNKNOWN before the first sample that decides anything.
 * - DOWN after `failAfter` bad samples in a row (from UP or UNKNOWN).
 * - UP only after `recoverAfterSec` of good samples with no bad one between (from DOWN or
 *   UNKNOWN). The hold is measured from the `at` of the first good sample after the last bad
 *   one to the `at` of the current good sample; any bad sample restarts it.
 * - A reachable sample without loss data (`lossPct: null`) is "no data": it is neither good nor
 *   bad, so it never advances (nor breaks) a bad streak and never completes (nor restarts) a
 *   clean hold. The state is left exactly as it was. Only a good sample can complete a hold, so
 *   "no data is never good" holds even across a gap of no-data samples.
 *
 * The state is NORMALIZED so that persisting it costs zero writes in steady state: an UP target
 * seeing good samples, and a DOWN target seeing bad ones, get the very same object back.
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
    a.since === b.since
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
export function applySample(state: HealthState, sample: Sample, config: HealthConfig): HealthStep {
  const verdict = sampleVerdict(sample, config);
  if (verdict === 'none') return { state };

  if (verdict === 'bad') {
    if (state.health === 'DOWN') {
      // Already DOWN: a bad sample only restarts a running hold.
      return holdOrRestart(state, null);
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
    return { state: { ...state, badStreak, cleanSince: null } };
  }

  // A good sample.
  if (state.health === 'UP') {
    return holdOrRestart(state, null);
  }
  const cleanSince = state.cleanSince ?? sample.at;
  const heldMs = sample.at - cleanSince;
  if (heldMs >= config.recoverAfterSec * 1000) {
    return transitionTo('UP', state, sample, `clean for ${Math.round(heldMs / 1000)} s`);
  }
  return holdOrRestart(state, cleanSince);
}

/** One step of {@link applySample}: the next state and the transition it made, if any. */
export type HealthStep = { state: HealthState; transition?: Transition };

/** Keep the health with no bad streak and `cleanSince` (the same object when already so). */
function holdOrRestart(state: HealthState, cleanSince: number | null): HealthStep {
  return state.badStreak === 0 && state.cleanSince === cleanSince
    ? { state }
    : { state: { ...state, badStreak: 0, cleanSince } };
}

/** Move to `to` at the sample's time, counters cleared, with the transition that says why. */
function transitionTo(to: Health, state: HealthState, sample: Sample, reason: string): HealthStep {
  return {
    state: { health: to, badStreak: 0, cleanSince: null, since: sample.at },
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
  config: HealthConfig,
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
