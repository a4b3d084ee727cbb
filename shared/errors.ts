/**
 * Named error classes. Every error the controller raises on purpose is one of these, with a
 * stable `name` so Step Functions `Retry`/`Catch` and the console can match on it, and a
 * `cause` where it wraps another error.
 */
import { redact } from './redact.js';

/** Base class: sets `name` from the subclass so `error.name` is always the class name. */
export class CpeFailoverError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    // An API key never reaches a message, even one quoting a director's answer.
    super(redact(message), options);
    this.name = new.target.name;
  }
}

/** Input (an event, a request, a configuration file) failed validation. Nothing was changed. */
export class ValidationError extends CpeFailoverError {
  /** One entry per offending field: its dotted path, the value seen and what was expected. */
  readonly issues: readonly { path: string; value: unknown; expected: string }[];
  constructor(
    what: string,
    issues: readonly { path: string; value: unknown; expected: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `${what} is invalid: ${issues
        .map((i) => `${i.path || '(root)'}=${formatValue(i.value)}: expected ${i.expected}`)
        .join('; ')}`,
      options,
    );
    this.issues = issues;
  }
}

/** The configuration is missing or invalid; raised once at start-up (fail fast). */
export class ConfigError extends ValidationError {}

/** A CPE's metadata is wrong. The CPE is reported and left out; the rest is still monitored. */
export class InvalidCpeError extends CpeFailoverError {
  constructor(
    readonly cpeId: string,
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
    readonly tenantId?: string,
  ) {
    super(
      `CPE ${cpeId}${tenantId ? ` (tenant ${tenantId})` : ''}: ${field}=${formatValue(value)}: expected ${expected}`,
    );
  }
}

/** A director answered 5xx, timed out or could not be reached. Retried; transient. */
export class DirectorUnavailableError extends CpeFailoverError {}

/** A director refused the credentials (401/403). Not retried. */
export class DirectorAuthError extends CpeFailoverError {}

/** A director rejected a request (other 4xx). Not retried. */
export class DirectorRequestError extends CpeFailoverError {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A director answered with a body that does not have the documented shape (a missing field, a
 * wrong type). Names the operation, each bad field and its value. Not retried.
 */
export class DirectorResponseError extends DirectorRequestError {
  constructor(
    readonly operation: string,
    status: number,
    readonly issues: readonly { path: string; value: unknown; expected: string }[],
    options?: { cause?: unknown },
  ) {
    super(
      `${operation} answered HTTP ${status} with a malformed body: ${issues
        .map((i) => `${i.path || '(root)'}=${formatValue(i.value)}: expected ${i.expected}`)
        .join('; ')}`,
      status,
      options,
    );
  }
}

/** A director kept answering 429 past the retry limit. */
export class RateLimitedError extends DirectorUnavailableError {}

/** A conditional write lost to a concurrent writer and the re-read/re-apply budget ran out. */
export class ConcurrentUpdateError extends CpeFailoverError {}

/**
 * A conditional write's condition did not hold (the item existed, was absent, or had another
 * `version` or attribute value than the write required). The store port's answer to a lost race;
 * repositories catch it and re-read, or turn it into a `false` result.
 */
export class ConditionFailedError extends CpeFailoverError {}

/**
 * An action carried an epoch older than the group's current epoch: dropped, never applied.
 * `currentEpoch`: the epoch the refusing director already has for the group, when it says.
 */
export class StaleEpochError extends CpeFailoverError {
  readonly currentEpoch?: number;
  constructor(message: string, options?: { cause?: unknown; currentEpoch?: number }) {
    super(message, options);
    if (options?.currentEpoch !== undefined) this.currentEpoch = options.currentEpoch;
  }
}

/**
 * A director refused a write (a concentrator's HA state, a branch re-point, a group re-point)
 * because its site role is PASSIVE: a PASSIVE director is fenced as a whole, whatever the epoch.
 * It extends {@link StaleEpochError} on purpose: for a fan-out the decision was superseded (the
 * site roles changed under it), so it is dropped, never applied and not retried; reads, the epoch
 * fence, health and jobs still work on that director. `site`: the refusing director's site, when known.
 */
export class DirectorPassiveError extends StaleEpochError {
  readonly site?: string;
  constructor(message: string, options?: { cause?: unknown; site?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    if (options?.site !== undefined) this.site = options.site;
  }
}

/** Something the operator asked for does not exist (tenant, group, concentrator). */
export class NotFoundError extends CpeFailoverError {}

/** A DR workflow is already running (the lock item is held). */
export class WorkflowLockedError extends CpeFailoverError {}

/** A director backup job failed or was reported FAILED (DR workflows). */
export class BackupFailedError extends CpeFailoverError {}

/** A director restore job failed; the site roles are left as they were. */
export class RestoreFailedError extends CpeFailoverError {}

/** A backup object is missing or its size or SHA-256 differs from the job's manifest. */
export class VerificationFailedError extends CpeFailoverError {}

/** An operator rejected a DR step that waited for approval (task token). */
export class ApprovalRejectedError extends CpeFailoverError {}

/** A director job did not finish within its polling budget (a hung job). */
export class JobTimeoutError extends CpeFailoverError {}

/** A director answered but reports itself unhealthy; retried for a while, then fatal. */
export class DirectorUnhealthyError extends CpeFailoverError {}

/** A DR workflow cannot run in the current state (e.g. failback while DC is already ACTIVE). */
export class PreconditionFailedError extends CpeFailoverError {}

/**
 * A switchover or failback could not fence the site giving up ACTIVE: its director could not be
 * told PASSIVE and has not been recorded unreachable for `dr.drainAfterSec` (fan-outs may still
 * be running on it). The state machine retries it until the drain is over, then fails with the
 * roles unchanged.
 */
export class OldSiteNotFencedError extends CpeFailoverError {}

/** A drift reconcile pass could not reconcile some groups or tenants (each is retried on the next pass). */
export class DriftReconcileError extends CpeFailoverError {}

/** Local tooling (`npm run invoke`): no local sandbox is running to run a function against. */
export class SandboxNotRunningError extends CpeFailoverError {}

/** A secret (e.g. a director's API key) could not be read or has the wrong shape. The value is never in the message. */
export class SecretError extends CpeFailoverError {}

/**
 * A director could not be reached or answered 5xx/429 past its retries: an expected condition
 * (hold and retry later), not a defect of the request.
 */
export function isDirectorUnavailable(
  error: unknown,
): error is DirectorUnavailableError | DirectorUnhealthyError {
  return error instanceof DirectorUnavailableError || error instanceof DirectorUnhealthyError;
}

/** Render a value for an error message: strings quoted, objects as JSON, long values cut. */
export function formatValue(value: unknown): string {
  let s: string;
  if (value === undefined) s = 'undefined';
  else if (typeof value === 'string') s = JSON.stringify(value);
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  // Redact before cutting: a key cut in half would no longer be found.
  s = redact(s);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * A re-point was submitted (a Meraki action batch) but its outcome is not known yet: the batch may
 * still apply, so it is neither done nor failed. Left to the drift reconcile, never notified failed.
 */
export class RepointPendingError extends CpeFailoverError {}

/** A re-point was written but the branch does not reach its new target (checked after the write). */
export class RepointNotReachedError extends CpeFailoverError {}

/** A failover rehearsal cannot start: the group is pinned, a candidate is not UP, an alarm is open, or the target is wrong. Nothing was changed. */
export class RehearsalRefusedError extends CpeFailoverError {}

/** A failover rehearsal's window has ended before it could begin. Nothing was changed. */
export class RehearsalWindowClosedError extends CpeFailoverError {}

/** A rehearsal's re-point of some branches failed: it aborts and moves the group back. */
export class RehearsalMoveFailedError extends CpeFailoverError {}

/** Branches' tunnels were not ESTABLISHED on the expected concentrator within the rehearsal's verify timeout. */
export class RehearsalNotReachedError extends CpeFailoverError {}

/** A candidate of the rehearsed group went DOWN during the rehearsal: it aborts and moves the group back. */
export class RehearsalCandidateDownError extends CpeFailoverError {}

/**
 * The controller runs in observe mode (config `mode: "observe"`): a director write (fence, HA_STATE,
 * re-point, tag swap, site role, backup, restore, management URL) was refused before it was sent,
 * or a DR workflow refused to run. Nothing was changed on the director.
 */
export class ObserveModeError extends CpeFailoverError {
  constructor(
    /** The refused operation (`repoint`, `setHaState`, `startBackup`…). */
    readonly operation: string,
    message: string,
  ) {
    super(message);
  }
}

/** A DR workflow started (or the site roles changed) during a failover rehearsal: it aborts and moves the group back. */
export class RehearsalInterruptedError extends CpeFailoverError {}
