/**
 * The steps of the Rehearsal state machine (cdk/constructs/rehearsal.ts): a failover rehearsal of
 * one HA group. Check the group, move it onto the target with a pin that expires after the
 * window, verify from the director's listing that every branch's tunnels are ESTABLISHED there,
 * move it back (unpin), verify again, report. Errors are named (shared/errors.ts) so the state
 * machine's Retry and Catch match on them; every refusal happens before anything is changed.
 */
import * as z from 'zod/mini';
import { isPinActive } from '../domain/election.js';
import type { ControllerMode } from '../config/schema.js';
import type { HaGroup } from '../domain/model.js';
import {
  RehearsalCandidateDownError,
  RehearsalInterruptedError,
  RehearsalMoveFailedError,
  RehearsalNotReachedError,
  RehearsalRefusedError,
  RehearsalWindowClosedError,
} from '../errors.js';
import { findGroupOrThrow, pinGroup, unpinGroup } from '../failover/console.js';
import type { FailoverDeps } from '../failover/ports.js';
import { loadTenantView } from '../failover/service.js';
import type { AuditEventInput } from '../store/items.js';
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

/** Where a rehearsal's report is sent (SNS; a recorder in tests and the sandbox). */
export interface RehearsalPublisher {
  publish(report: RehearsalReport): Promise<void>;
}

/** Everything the rehearsal tasks use. */
export interface RehearsalDeps {
  /** The console operations' deps (pin, unpin, the directors, the state store). */
  failover: FailoverDeps;
  /** The audit trail (the state repository): one event per execution. */
  audit: { writeAuditOnce(event: AuditEventInput & { detail: unknown }, dedupId: string): Promise<boolean> };
  publisher: RehearsalPublisher;
  /** Epoch ms (the same clock as `failover.now`). */
  now: () => number;
  /** The DR lock (the state repository): no rehearsal while a DR workflow holds it. */
  drLock: { getLock(): Promise<{ owner: string; acquiredAt: number; expiresAt: number } | undefined> };
  /** Config `mode`: observe-only refuses every rehearsal (it could not move a branch). @default act */
  mode?: ControllerMode;
}

const MINUTE_MS = 60_000;

/** The reason of the rehearsal's pin: names the execution, so Restore removes only its own pin. */
export function rehearsalPinReason(input: RehearsalInput, executionId: string): string {
  return `rehearsal: ${input.reason} (execution ${executionId.split(':').pop()})`;
}

async function findGroup(deps: RehearsalDeps, input: RehearsalInput): Promise<HaGroup> {
  const view = await loadTenantView(deps.failover, input.tenantId);
  return findGroupOrThrow(view, input.tenantId, input.haName);
}

/** Why a rehearsal must not run now: a DR workflow holds the lock, or the site roles differ from `roles`. */
async function drInterference(deps: RehearsalDeps, roles?: string): Promise<string | undefined> {
  const [lock, current] = await Promise.all([deps.drLock.getLock(), deps.failover.store.getSiteRoles()]);
  if (lock && lock.expiresAt * 1000 > deps.now()) {
    return `a DR workflow is running (lock held by ${lock.owner} since ${new Date(lock.acquiredAt).toISOString()})`;
  }
  const now = `DC ${current.DC}, DR ${current.DR}`;
  return roles !== undefined && roles !== now ? `the site roles changed (${roles} → ${now})` : undefined;
}

function siteRolesText(roles: { DC: string; DR: string }): string {
  return `DC ${roles.DC}, DR ${roles.DR}`;
}

function refuse(input: RehearsalInput, why: string): never {
  throw new RehearsalRefusedError(`rehearsal of ${input.tenantId}#${input.haName} refused: ${why}`);
}

/**
 * CheckGroup: the window is open, the controller acts (not observe-only), every director answers
 * and the monitor is not blind, the group exists, is not pinned, has no open alarm, every
 * candidate is UP and every branch is on the serving concentrator.
 */
async function check(deps: RehearsalDeps, state: RehearsalState): Promise<CheckResult> {
  const { input } = state;
  const now = deps.now();
  if (now >= Date.parse(input.notAfter)) {
    throw new RehearsalWindowClosedError(
      `the window of the rehearsal of ${input.tenantId}#${input.haName} ended at ${input.notAfter} (now ${new Date(now).toISOString()}): nothing changed`,
    );
  }
  if (deps.mode === 'observe') {
    refuse(input, 'the controller runs observe-only (config mode: observe): every director write is refused');
  }
  const dr = await drInterference(deps);
  if (dr) refuse(input, dr);
  const roles = siteRolesText(await deps.failover.store.getSiteRoles());
  const group = await findGroup(deps, input);
  const store = deps.failover.store;
  const [stored, health, directors] = await Promise.all([
    store.getGroup(group.key),
    store.listHealth(group.key),
    store.listDirectorStates(),
  ]);
  const troubled = directors.filter((d) => !d.reachable || d.monitorBlind === true);
  if (troubled.length > 0) {
    refuse(
      input,
      `every director must answer and see clearly: ${troubled
        .map(
          (d) =>
            `${d.site} ${d.reachable ? `monitor blind (${d.monitorBlindReason ?? 'share rule'})` : `unreachable (${d.reason ?? 'no answer'})`}`,
        )
        .join(', ')}`,
    );
  }
  if (stored && isPinActive(stored.pin, now)) {
    const p = stored.pin;
    refuse(
      input,
      `the group is pinned onto ${p.concentratorId} (${p.reason}${
        p.expiresAt !== undefined ? ` until ${new Date(p.expiresAt).toISOString()}` : ''
      }): unpin it first`,
    );
  }
  if (stored && stored.alarms.length > 0) refuse(input, `alarm ${stored.alarms.join(', ')} is open`);
  const byId = new Map(health.map((h) => [h.targetId, h.health]));
  const notUp = group.candidates.filter((c) => byId.get(c.id) !== 'UP');
  if (notUp.length > 0) {
    refuse(
      input,
      `every candidate must be UP: ${notUp.map((c) => `${c.id} is ${byId.get(c.id) ?? 'UNKNOWN'}`).join(', ')}`,
    );
  }
  const original = stored?.servingId;
  if (original === undefined) refuse(input, 'the group has no serving concentrator yet');
  const ids = group.candidates.map((c) => c.id);
  let target = input.targetId;
  if (target === undefined) {
    target = ids[(ids.indexOf(original) + 1) % ids.length];
  } else if (!ids.includes(target)) {
    refuse(input, `targetId=${JSON.stringify(target)} is not a candidate of the group (${ids.join(', ')})`);
  }
  if (target === undefined || target === original) {
    refuse(
      input,
      `the target must be another candidate than the serving ${original} (candidates: ${ids.join(', ')})`,
    );
  }
  if (group.branches.length === 0) refuse(input, 'the group has no branches to rehearse with');
  const branchIds = group.branches.map((b) => b.id);
  const now2 = observeBranches(group, branchIds, original, now);
  if (!now2.done) {
    refuse(
      input,
      `branches are not on the serving ${original}: ${describeNotOk(now2)} (run update-branches first)`,
    );
  }
  return {
    groupKey: group.key,
    originalId: original,
    targetId: target,
    branchIds,
    candidateIds: ids,
    epoch: stored?.epoch ?? 0,
    siteRoles: roles,
  };
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
 * election move the group back; where it would not (`preempt: false` keeps the target while it is
 * UP), pin the original briefly and unpin again.
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
  if (r.servingId !== c.originalId) {
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
