/**
 * The re-point calls of one fan-out, after its fence, listing and HA_STATE: one call per branch
 * with bounded concurrency, or, for a group larger than one wave on a director that offers it,
 * the group's "Update Branch to Active Node" in one call (fenced and bound to serving like the
 * single re-points). One call instead of one per branch: 1,000 branches move in one round trip
 * instead of 63 waves of 16. A group call that fails for any reason but a stale epoch falls back
 * to single re-points (each idempotent), so a director that cannot do it still gets the fan-out;
 * so does each branch the group call left where it was. (A group call whose answer was lost after
 * it acted falls back too: the single re-points then find those branches right and count them
 * unchanged.)
 */
import { mapLimit, type TokenBucket } from '../director/limits.js';
import type { Director, RepointFence } from '../director/port.js';
import type { RepointAction } from '../domain/model.js';
import { RepointPendingError, StaleEpochError } from '../errors.js';
import { describe } from './common.js';
import type { BranchOutcome, FailoverDeps } from './ports.js';

/** What {@link sendRepoints} needs besides the actions. */
export interface RepointCalls {
  groupKey: string;
  tenantId: string;
  haName: string;
  servingId: string;
  epoch: number;
  /** Given for a director that keeps no epoch (each single re-point is fenced through it). */
  fence?: RepointFence;
  bucket?: TokenBucket;
  now: () => number;
}

/** The outcomes of the calls, and the re-points submitted whose outcome is not known yet. */
export interface RepointCallsResult {
  outcomes: BranchOutcome[];
  pending: { branchId: string; reason: string }[];
  /** Whether the group call did the work (else one call per branch). */
  viaGroup: boolean;
}

/** Send `send`'s re-points (see the module comment). */
export async function sendRepoints(
  deps: FailoverDeps,
  director: Director,
  calls: RepointCalls,
  send: readonly RepointAction[],
): Promise<RepointCallsResult> {
  const group = deps.settings.groupCall !== false && director.repointGroup && !calls.fence;
  if (group && send.length > deps.settings.concurrency) {
    const outcomes = await viaGroup(deps, director, calls, send);
    if (outcomes) {
      // A branch the group call left (an error: NO_TUNNEL_FOR_IDENTIFIER for a tunnel serving
      // lacks, NOT_MANAGED; or not reported) gets its single re-point, which moves what it can
      // and says why not.
      const left = new Set(outcomes.filter((o) => o.result === 'failed').map((o) => o.branchId));
      if (left.size === 0) return { outcomes, pending: [], viaGroup: true };
      const retried = await oneByOne(
        deps,
        director,
        calls,
        send.filter((a) => left.has(a.branchId)),
      );
      return {
        outcomes: [...outcomes.filter((o) => !left.has(o.branchId)), ...retried.outcomes],
        pending: retried.pending,
        viaGroup: true,
      };
    }
  }
  return { ...(await oneByOne(deps, director, calls, send)), viaGroup: false };
}

/** The group call; undefined when it failed (not stale): the caller falls back to single calls. */
async function viaGroup(
  deps: FailoverDeps,
  director: Director,
  calls: RepointCalls,
  send: readonly RepointAction[],
): Promise<BranchOutcome[] | undefined> {
  const { groupKey, tenantId, haName, servingId, epoch, now } = calls;
  const base = (a: RepointAction) => ({ groupKey, branchId: a.branchId, targetId: a.targetId, epoch });
  if (calls.bucket) await calls.bucket.take();
  let answer: Awaited<ReturnType<NonNullable<Director['repointGroup']>>>;
  try {
    answer = await director.repointGroup!({ tenantId, haName, targetId: servingId, epoch });
  } catch (error) {
    if (error instanceof StaleEpochError) {
      const at = now();
      return send.map((a) => ({ ...base(a), at, result: 'stale', changed: false, error: describe(error) }));
    }
    deps.log.warn('group re-point failed: re-pointing branch by branch', {
      groupKey,
      epoch,
      branches: send.length,
      error: describe(error),
    });
    return undefined;
  }
  const at = now();
  const byId = new Map(answer.map((b) => [b.branchId, b]));
  const planned = new Set(send.map((a) => a.branchId));
  const outcomes: BranchOutcome[] = send.map((a) => {
    const b = byId.get(a.branchId);
    if (!b)
      return {
        ...base(a),
        at,
        result: 'failed',
        changed: false,
        error: `the group update of ${haName} did not report branch ${a.branchId}`,
      };
    return b.error !== undefined
      ? { ...base(a), at, result: 'failed', changed: b.changed, error: b.error }
      : { ...base(a), at, result: 'ok', changed: b.changed };
  });
  // A branch the listing showed right that the director still moved (it changed meanwhile).
  for (const b of answer)
    if (!planned.has(b.branchId) && b.changed && b.error === undefined)
      outcomes.push({
        groupKey,
        branchId: b.branchId,
        targetId: servingId,
        epoch,
        at,
        result: 'ok',
        changed: true,
      });
  return outcomes;
}

/** One call per branch, `deps.settings.concurrency` at a time (retries are the HTTP client's). */
async function oneByOne(
  deps: FailoverDeps,
  director: Director,
  calls: RepointCalls,
  send: readonly RepointAction[],
): Promise<Omit<RepointCallsResult, 'viaGroup'>> {
  const { groupKey, epoch, fence, bucket, now } = calls;
  const pending: { branchId: string; reason: string }[] = [];
  const all = await mapLimit(
    send,
    deps.settings.concurrency,
    async (action): Promise<BranchOutcome | undefined> => {
      if (bucket) await bucket.take();
      const base = { groupKey, branchId: action.branchId, targetId: action.targetId, epoch };
      try {
        const r = fence ? await director.repoint(action, { fence }) : await director.repoint(action);
        return { ...base, at: now(), result: 'ok', changed: r.changed };
      } catch (error) {
        if (error instanceof RepointPendingError) {
          pending.push({ branchId: action.branchId, reason: describe(error) });
          return undefined;
        }
        const stale = error instanceof StaleEpochError;
        return {
          ...base,
          at: now(),
          result: stale ? 'stale' : 'failed',
          changed: false,
          error: describe(error),
        };
      }
    },
  );
  return { outcomes: all.filter((o): o is BranchOutcome => o !== undefined), pending };
}
