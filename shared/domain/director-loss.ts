/**
 * DIRECTOR_LOST (README "DR runbook"): the ACTIVE site's director has been unreachable for
 * `dr.directorLostAfterSec`. Raised once per loss, cleared when the director answers again. Pure.
 */
import type { SiteRole } from './model.js';

/** A director's recorded status, as the decision reads it. */
export interface RecordedReach {
  reachable: boolean;
  /** Epoch ms since when it has been (un)reachable. */
  since: number;
  /** Epoch ms when DIRECTOR_LOST was raised for the current outage. */
  lostAt?: number;
}

/** What to do about DIRECTOR_LOST after a round. */
export type DirectorLossDecision = 'raise' | 'clear' | 'none';

/**
 * Raise when the director was already recorded unreachable, still is, its site is ACTIVE, the
 * outage has lasted `lostAfterSec` and nothing was raised for it yet; clear when a lost director
 * answers again. A PASSIVE site's director being unreachable is not a lost director: nothing
 * serves through it.
 */
export function directorLossDecision(
  previous: RecordedReach | undefined,
  reachableNow: boolean,
  role: SiteRole,
  at: number,
  lostAfterSec: number,
): DirectorLossDecision {
  if (reachableNow) return previous?.lostAt !== undefined ? 'clear' : 'none';
  if (!previous || previous.reachable || previous.lostAt !== undefined || role !== 'ACTIVE') return 'none';
  return at - previous.since >= lostAfterSec * 1000 ? 'raise' : 'none';
}
