/**
 * The steps of the Rehearsal state machine (cdk/constructs/rehearsal.ts): a failover rehearsal of
 * one HA group. Check the group, move it onto the target with a pin that expires after the
 * window, verify from the director's listing that every branch's tunnels are ESTABLISHED there,
 * move it back (unpin), verify again, report. Errors are named (shared/errors.ts) so the state
 * machine's Retry and Catch match on them; every refusal happens before anything is changed.
 */
import * as z from 'zod/mini';
import { isPinActive } from '../domain/election.js';
import {
  RehearsalCandidateDownError,
  RehearsalInterruptedError,
  RehearsalMoveFailedError,
  RehearsalNotReachedError,
  RehearsalRefusedError,
} from '../errors.js';
import { pinGroup, unpinGroup } from '../failover/console.js';
import { check, drInterference, findGroup } from './check.js';
import type { RehearsalDeps } from './deps.js';
import { parseRehearsalInput, PIN_MARGIN_MINUTES, type RehearsalInput } from './input.js';
import { describeNotOk, observeBranches, type Observation } from './observe.js';
import {
  buildReport,
  type CheckResult,
  type MoveResult,
  type RehearsalOutcome,
  type RehearsalReport,
  type RehearsalState,
  type RestoreResult,
} from './report.js';
import { parseWith } from '../dr/inputs.js';

export type { RehearsalDeps, RehearsalPublisher } from './deps.js';

const MINUTE_MS = 60_000;

/** The reason of the rehearsal's pin: names the execution, so Restore removes only its own pin. */
export function rehearsalPinReason(input: RehearsalInput, executionId: string): string {
  return `rehearsal: ${input.reason} (execution ${executionId.split(':').pop()})`;
}

function requireCheck(state: RehearsalState): CheckResult {
  if (!state.check)
    throw new RehearsalRefusedError('the execution state has no check result (CheckGroup did not run)');
  return state.check;
}

/** MoveToTarget: pin the group onto the target (expiry: the window's end + margin); election re-points. */
async function move(deps: RehearsalDeps, state: RehearsalState, executionId: string): Promise<MoveResult> {
  const { input } = state;
  const c = requireCheck(state);
  const expiresAt = Date.parse(input.notAfter) + PIN_MARGIN_MINUTES * MINUTE_MS;
  const r = await pinGroup(deps.failover, {
    tenantId: input.tenantId,
    haName: input.haName,
    concentratorId: c.targetId,
    reason: rehearsalPinReason(input, executionId),
    expiresAt,
    force: false,
    by: input.requestedBy,
  });
  const failedBranches = (r.result?.failedBranches ?? []).map((branchId) => ({
    branchId,
    error: 'the director did not accept the re-point (see the REPOINT_FAILURE notice)',
  }));
  if (r.servingId !== c.targetId && failedBranches.length === 0) {
    failedBranches.push(
      ...c.branchIds.map((branchId) => ({
        branchId,
        error: `election kept ${r.servingId ?? 'none'} (${r.reason})`,
      })),
    );
  }
  return {
    ...(r.servingId !== undefined ? { servingId: r.servingId } : {}),
    epoch: r.epoch,
    pinExpiresAt: new Date(expiresAt).toISOString(),
    failedBranches,
    deadline: new Date(deps.now() + input.verifyTimeoutSec * 1000).toISOString(),
  };
}

/**
 * VerifyOnTarget / VerifyBack: one look at the director's listing. Not yet there: `done: false`
 * (the machine waits and looks again) until the deadline, then RehearsalNotReachedError. On the
 * way to the target, a failed re-point or a candidate gone DOWN aborts at once.
 */
async function verify(
  deps: RehearsalDeps,
  state: RehearsalState,
  phase: 'target' | 'back',
): Promise<Observation> {
  const { input } = state;
  const c = requireCheck(state);
  const now = deps.now();
  let expected: string;
  let deadline: string;
  if (phase === 'target') {
    if (!state.moved) throw new RehearsalMoveFailedError('the execution state has no move result');
    const failed = state.moved.failedBranches;
    if (failed.length > 0) {
      throw new RehearsalMoveFailedError(
        `re-point onto ${c.targetId} failed for ${failed.map((f) => `${f.branchId} (${f.error})`).join(', ')}`,
      );
    }
    const dr = await drInterference(deps, c.siteRoles);
    if (dr) throw new RehearsalInterruptedError(`${dr} during the rehearsal`);
    const health = await deps.failover.store.listHealth(c.groupKey);
    const down = health.filter((h) => c.candidateIds.includes(h.targetId) && h.health === 'DOWN');
    if (down.length > 0) {
      throw new RehearsalCandidateDownError(
        `candidate ${down
          .map((h) => `${h.targetId} went DOWN${h.since ? ` at ${new Date(h.since).toISOString()}` : ''}`)
          .join(', ')} during the rehearsal`,
      );
    }
    expected = c.targetId;
    deadline = state.moved.deadline;
  } else {
    expected = state.restore?.servingId ?? c.originalId;
    deadline = state.restore?.deadline ?? new Date(now).toISOString();
  }
  const group = await findGroup(deps, input);
  const seen = observeBranches(group, c.branchIds, expected, now);
  if (!seen.done && now >= Date.parse(deadline)) {
    throw new RehearsalNotReachedError(
      `not ESTABLISHED on ${expected} within ${input.verifyTimeoutSec} s: ${describeNotOk(seen)}`,
    );
  }
  return seen;
}

/**
 * Restore: remove the rehearsal's pin (an operator's own pin set meanwhile is left alone) and let
 * election move the group back; with `preempt: false` (election keeps the target while it is UP)
 * pin the original briefly, if it is UP, and unpin again.
 */
async function restore(
  deps: RehearsalDeps,
  state: RehearsalState,
  executionId: string,
): Promise<RestoreResult> {
  const { input } = state;
  const c = requireCheck(state);
  const now = deps.now();
  const fd = deps.failover;
  const stored = await fd.store.getGroup(c.groupKey);
  const pin = stored?.pin;
  const deadline = new Date(now + input.verifyTimeoutSec * 1000).toISOString();
  const ours = pin?.concentratorId === c.targetId && pin.reason === rehearsalPinReason(input, executionId);
  if (pin && !ours && isPinActive(pin, now)) {
    return {
      ...(stored?.servingId ? { servingId: stored.servingId } : {}),
      unpinned: false,
      foreignPin: `${pin.concentratorId} (${pin.reason}${pin.by ? `, by ${pin.by}` : ''})`,
      deadline,
    };
  }
  const why = state.error ? `aborted: ${state.error.Error}` : 'completed';
  const unpin = (reason: string) =>
    unpinGroup(fd, { tenantId: input.tenantId, haName: input.haName, reason, by: input.requestedBy });
  let r = await unpin(`rehearsal ${why}: back to election`);
  // With preemption, election's choice stands (the original may be DOWN, or its site PASSIVE now).
  if (!fd.settings.preempt && r.servingId !== c.originalId) {
    const health = await fd.store.listHealth(c.groupKey);
    if (health.some((h) => h.targetId === c.originalId && h.health === 'UP')) {
      await pinGroup(fd, {
        tenantId: input.tenantId,
        haName: input.haName,
        concentratorId: c.originalId,
        reason: `${rehearsalPinReason(input, executionId)}: back to ${c.originalId}`,
        expiresInMinutes: PIN_MARGIN_MINUTES,
        force: false,
        by: input.requestedBy,
      });
      r = await unpin(`rehearsal ${why}: back on ${c.originalId}`);
    }
  }
  return { ...(r.servingId ? { servingId: r.servingId } : {}), unpinned: ours, deadline };
}

/** Report: build it, write it to the audit trail (once per execution) and publish it. */
async function report(
  deps: RehearsalDeps,
  state: RehearsalState,
  outcome: RehearsalOutcome,
  executionId: string,
): Promise<RehearsalReport> {
  const now = deps.now();
  const c = state.check;
  const stored = c ? await deps.failover.store.getGroup(c.groupKey) : undefined;
  const pin = stored?.pin;
  const pinLeft =
    c !== undefined &&
    isPinActive(pin, now) &&
    pin.reason.startsWith(rehearsalPinReason(state.input, executionId));
  let current: Observation | undefined;
  if (c && !state.back && state.moved) {
    try {
      const group = await findGroup(deps, state.input);
      current = observeBranches(group, c.branchIds, stored?.servingId ?? c.originalId, now);
    } catch {
      // The director does not answer: the report says "not verified" for those branches.
    }
  }
  const out = buildReport({
    outcome,
    executionId,
    state,
    now: new Date(now).toISOString(),
    pinLeft,
    ...(current ? { current } : {}),
  });
  await deps.audit.writeAuditOnce(
    {
      kind: 'REHEARSAL',
      at: now,
      ...(out.groupKey ? { groupKey: out.groupKey } : {}),
      tenantId: out.tenantId,
      reason: out.summary,
      detail: out,
    },
    `rehearsal#${executionId}`,
  );
  await deps.publisher.publish(out);
  return out;
}

/** Task names the state machine sends. */
export const REHEARSAL_TASKS = ['validateInput', 'check', 'move', 'verify', 'restore', 'report'] as const;

const payloadSchema = z.object({
  task: z.enum(REHEARSAL_TASKS),
  executionId: z.string().check(z.minLength(1)),
  input: z.optional(z.unknown()),
  state: z.optional(z.unknown()),
  phase: z.optional(z.enum(['target', 'back'])),
  outcome: z.optional(z.enum(['SUCCEEDED', 'ABORTED', 'REFUSED', 'RESTORE_FAILED'])),
});

/**
 * Run the task a state machine payload names (`{ task, executionId, state | input, … }`) and
 * return its result. The state comes from the machine's own earlier tasks.
 */
export async function runRehearsalTask(deps: RehearsalDeps, payload: unknown): Promise<unknown> {
  const p = parseWith(payloadSchema, payload ?? {}, 'rehearsal task payload');
  const state = p.state as RehearsalState;
  switch (p.task) {
    case 'validateInput':
      return parseRehearsalInput(p.input, deps.now());
    case 'check':
      return check(deps, state);
    case 'move':
      return move(deps, state, p.executionId);
    case 'verify':
      return verify(deps, state, p.phase ?? 'target');
    case 'restore':
      return restore(deps, state, p.executionId);
    case 'report':
      return report(deps, state, p.outcome ?? 'SUCCEEDED', p.executionId);
  }
}
