/**
 * The Runtime port: every source of time, waiting and randomness the shipped code uses. The real
 * one ({@link systemRuntime}) reads the wall clock, `setTimeout` and `node:crypto`; the whole-system
 * checker (`local/sim/`) passes one driven by its virtual clock and seeded scheduler, so the same
 * code runs deterministically there. Nothing in `shared/` should read `Date.now()`,
 * `Math.random()`, `randomUUID()` or `setTimeout` behind this port's back.
 */
import { randomUUID } from 'node:crypto';

/** Time, waiting and randomness, injected. */
export interface Runtime {
  /** Epoch milliseconds now. */
  now(): number;
  /** Resolve after `ms` milliseconds (0 or less: on the next turn). */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
  /** A fresh unique id (a UUID in production). */
  id(): string;
}

/** The real runtime: wall clock, timers, crypto ids. */
export const systemRuntime: Runtime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  random: () => Math.random(),
  id: () => randomUUID(),
};
