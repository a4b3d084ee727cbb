/**
 * Constants of the DR state machines (cdk/constructs/dr-workflows.ts builds them): their Retry
 * rules' error names and intervals, the drain margin synth checks, and state names. Here, free of
 * aws-cdk-lib, so the whole-system checker (local/sim) can follow the machines without loading
 * the CDK; the construct re-exports them.
 */

/** Error names retried with backoff (transient director trouble). */
export const TRANSIENT_ERRORS = ['DirectorUnavailableError', 'RateLimitedError'] as const;

/** Seconds `dr.drainAfterSec` must exceed the longest timeout of the functions that re-point by. */
export const DRAIN_MARGIN_SEC = 30;

/** Seconds between two attempts of FenceOldSite while it waits out the drain. */
export const FENCE_RETRY_INTERVAL_SEC = 30;

/** State names every machine shares (tests and the sandbox refer to them). */
export const DR_STATE_NAMES = {
  validate: 'ValidateInput',
  lock: 'AcquireLock',
  release: 'ReleaseLock',
  requestApproval: 'RequestApproval',
} as const;

/** The state that fences the site giving up ACTIVE (FenceDcSite in a switchover, FenceDrSite in a failback). */
export function fenceStateName(site: 'DC' | 'DR'): string {
  return `Fence${site === 'DC' ? 'Dc' : 'Dr'}Site`;
}
