/**
 * Where a rehearsed group's branches are, from the director's listing (the world is the truth):
 * a branch has reached a concentrator when every one of its tunnels is ESTABLISHED and carries
 * that concentrator's tunnel ID for its HA tunnel identifier. Pure: no I/O.
 */
import type { HaGroup } from '../domain/model.js';

/** A branch that is not (yet) where it should be. */
export interface BranchNotOk {
  branchId: string;
  /** Why, e.g. `IPSEC00 CREATED on HA_DC2, not ESTABLISHED`. */
  why: string;
}

/**
 * One observation of the group's branches. Only the branches that are not ok are listed, so the
 * execution's state stays small for large groups (Step Functions caps it at 256 KiB).
 */
export interface Observation {
  /** The concentrator the branches should be on. */
  expected: string;
  /** Every branch ok. */
  done: boolean;
  /** ISO time of the listing. */
  at: string;
  /** How many branches are ok. */
  ok: number;
  notOk: BranchNotOk[];
}

/**
 * Observe `branchIds` of `group` (as listed now) against `expected`. A branch the listing no
 * longer has is not ok.
 */
export function observeBranches(
  group: HaGroup,
  branchIds: readonly string[],
  expected: string,
  at: number,
): Observation {
  const listed = new Map(group.branches.map((b) => [b.id, b]));
  const notOk: BranchNotOk[] = [];
  for (const branchId of branchIds) {
    const branch = listed.get(branchId);
    if (!branch) {
      notOk.push({ branchId, why: 'not listed by the director' });
      continue;
    }
    if (branch.tunnels.length === 0) {
      notOk.push({ branchId, why: 'has no tunnels' });
      continue;
    }
    const problems = branch.tunnels.flatMap((t) => {
      const owner = group.candidates.find((c) =>
        c.tunnels.some((ct) => ct.haTunnelIdentifier === t.haTunnelIdentifier && ct.tunnelId === t.tunnelId),
      );
      const where = owner?.id ?? `unknown tunnel ID ${t.tunnelId}`;
      if (owner?.id !== expected) return [`${t.name} on ${where}, not ${expected}`];
      return t.state === 'ESTABLISHED' ? [] : [`${t.name} ${t.state} on ${where}, not ESTABLISHED`];
    });
    if (problems.length > 0) notOk.push({ branchId, why: problems.join('; ') });
  }
  return {
    expected,
    done: notOk.length === 0,
    at: new Date(at).toISOString(),
    ok: branchIds.length - notOk.length,
    notOk,
  };
}

/** `BR2 (IPSEC00 CREATED on HA_DC2, not ESTABLISHED), …` for the branches that are not ok. */
export function describeNotOk(observation: Observation): string {
  return observation.notOk.map((b) => `${b.branchId} (${b.why})`).join(', ');
}
