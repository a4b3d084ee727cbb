/**
 * The rehearsal's report, built from what the execution gathered on its way (the state the
 * Rehearsal state machine passes to its tasks). Pure: no I/O.
 */
import type { RehearsalInput } from './input.js';
import type { Observation } from './observe.js';

/** What CheckGroup found (the group as it was before anything changed). */
export interface CheckResult {
  groupKey: string;
  /** The serving concentrator before the rehearsal. */
  originalId: string;
  /** The concentrator rehearsed onto. */
  targetId: string;
  /** The group's branches as listed at the check. */
  branchIds: string[];
  candidateIds: string[];
  epoch: number;
  /** The site roles at the check (`DC ACTIVE, DR PASSIVE`): a change aborts the rehearsal. */
  siteRoles: string;
}

/** What MoveToTarget did (the pin and its re-points). */
export interface MoveResult {
  servingId?: string;
  epoch: number;
  pinExpiresAt: string;
  /** Branches whose re-point onto the target failed, with why. */
  failedBranches: { branchId: string; error: string }[];
  /** ISO time the target must be reached by. */
  deadline: string;
}

/** What Restore did (unpin, and move back where election alone would not). */
export interface RestoreResult {
  servingId?: string;
  /** The rehearsal's pin was removed now (false: there was none, or an operator's own pin was left alone). */
  unpinned: boolean;
  /** An operator's pin set meanwhile, left in place. */
  foreignPin?: string;
  deadline: string;
}

/** A Step Functions error as a Catch's result path holds it. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/** The execution's state as the tasks receive it (`$`). */
export interface RehearsalState {
  input: RehearsalInput;
  check?: CheckResult;
  moved?: MoveResult;
  onTarget?: Observation;
  error?: CaughtError;
  restore?: RestoreResult;
  back?: Observation;
  restoreError?: CaughtError;
}

/** How a rehearsal ended. */
export type RehearsalOutcome = 'SUCCEEDED' | 'ABORTED' | 'REFUSED' | 'RESTORE_FAILED';

/** One branch in the report. */
export interface BranchReport {
  branchId: string;
  /** Its re-point onto the target did not fail. */
  moved: boolean;
  /** Its tunnels were seen ESTABLISHED on the target. */
  reached: boolean;
  /** Its tunnels were seen ESTABLISHED back on the serving concentrator. */
  returned: boolean;
  /** The first thing that went wrong for it. */
  failure?: string;
}

/** The state machine's output, the audit event's detail and the notice. */
export interface RehearsalReport {
  outcome: RehearsalOutcome;
  executionId: string;
  tenantId: string;
  haName: string;
  groupKey?: string;
  original?: string;
  target?: string;
  /** Where the group serves from after the rehearsal (from Restore). */
  servingAfter?: string;
  window: { notBefore: string; notAfter: string };
  reason: string;
  requestedBy: string;
  error?: { name: string; message: string };
  restoreError?: { name: string; message: string };
  branches: BranchReport[];
  /** A pin of this rehearsal is still set (it lapses at its expiry). */
  pinLeft: boolean;
  at: string;
  /** One line for an operator (the Fail state's cause, the notice's subject). */
  summary: string;
}

/** The message of a caught error: Lambda's JSON cause (`errorMessage`) or the text itself. */
export function causeMessage(error: CaughtError): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message.
  }
  return cause;
}

function named(error: CaughtError | undefined) {
  return error ? { name: error.Error, message: causeMessage(error) } : undefined;
}

/**
 * Build the report. `now` (ISO) and `current` (a fresh observation against the serving
 * concentrator, for branches the execution could not verify back) come from the caller.
 */
export function buildReport(parts: {
  outcome: RehearsalOutcome;
  executionId: string;
  state: RehearsalState;
  now: string;
  pinLeft: boolean;
  current?: Observation;
}): RehearsalReport {
  const { state, outcome } = parts;
  const { input, check, moved, onTarget } = state;
  const back = state.back ?? parts.current;
  const failed = new Map((moved?.failedBranches ?? []).map((f) => [f.branchId, f.error]));
  // Large groups: index the (usually short) lists of branches that are not ok.
  const notOk = (o: Observation | undefined) => new Map(o?.notOk.map((b) => [b.branchId, b.why]));
  const [notReached, notReturned] = [notOk(onTarget), notOk(back)];
  const branches = (check?.branchIds ?? []).map((branchId): BranchReport => {
    const didMove = moved !== undefined && !failed.has(branchId);
    const reached = onTarget !== undefined && !notReached.has(branchId);
    const returned = back !== undefined && !notReturned.has(branchId);
    const failure = !moved
      ? 'not moved: the rehearsal stopped before the move'
      : !didMove
        ? `re-point onto ${check?.targetId} failed: ${failed.get(branchId)}`
        : !reached
          ? `not ESTABLISHED on ${check?.targetId}: ${notReached.get(branchId) ?? 'not verified'}`
          : !returned
            ? `not back on ${back?.expected ?? check?.originalId}: ${notReturned.get(branchId) ?? 'not verified'}`
            : undefined;
    return {
      branchId,
      moved: didMove,
      reached,
      returned,
      ...(failure && outcome !== 'REFUSED' ? { failure } : {}),
    };
  });
  const error = named(state.error);
  const restoreError = named(state.restoreError);
  const what = `rehearsal of ${input.tenantId}#${input.haName}${
    check ? ` ${check.originalId} → ${check.targetId} → ${state.restore?.servingId ?? check.originalId}` : ''
  }`;
  const counts = `${branches.filter((b) => b.reached).length}/${branches.length} reached, ${
    branches.filter((b) => b.returned).length
  }/${branches.length} returned`;
  const summary =
    outcome === 'SUCCEEDED'
      ? `${what}: succeeded (${counts})`
      : outcome === 'REFUSED'
        ? `${what}: refused, nothing changed: ${error?.name}: ${error?.message}`
        : outcome === 'ABORTED'
          ? `${what}: aborted and restored (${counts}): ${error?.name}: ${error?.message}`
          : `${what}: RESTORE FAILED (${counts}): ${restoreError?.name}: ${restoreError?.message}${
              parts.pinLeft ? `; the rehearsal's pin lapses at ${moved?.pinExpiresAt}` : ''
            }`;
  return {
    outcome,
    executionId: parts.executionId,
    tenantId: input.tenantId,
    haName: input.haName,
    ...(check ? { groupKey: check.groupKey, original: check.originalId, target: check.targetId } : {}),
    ...(state.restore?.servingId ? { servingAfter: state.restore.servingId } : {}),
    window: { notBefore: input.notBefore, notAfter: input.notAfter },
    reason: input.reason,
    requestedBy: input.requestedBy,
    ...(error ? { error } : {}),
    ...(restoreError ? { restoreError } : {}),
    branches,
    pinLeft: parts.pinLeft,
    at: parts.now,
    summary,
  };
}
