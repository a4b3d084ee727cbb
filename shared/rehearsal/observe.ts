/**
 * Where a rehearsed group's branches are, from the director's listing (the world is the truth):
 * a branch has reached a concentrator when every one of its tunnels is ESTABLISHED and carries
 * that concentrator's tunnel ID for its HA tunnel identifier. Pure: no I/O.
 */
import type { HaGroup } from '../domain/model.js';

/** One branch as observed against the concentrator it should be on. */
export interface BranchObservation {
  branchId: string;
  /** Every tunnel ESTABLISHED on the expected concentrator. */
  ok: boolean;
  /** Why not (absent when ok), e.g. `IPSEC00 CREATED on HA_DC2`. */
  why?: string;
}

/** One observation of the group's branches. */
export interface Observation {
  /** The concentrator the branches should be on. */
  expected: string;
  /** Every branch ok. */
  done: boolean;
  /** ISO time of the listing. */
  at: string;
  branches: BranchObservation[];
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
  const branches = branchIds.map((branchId): BranchObservation => {
    const branch = group.branches.find((b) => b.id === branchId);
    if (!branch) return { branchId, ok: false, why: 'not listed by the director' };
    if (branch.tunnels.length === 0) return { branchId, ok: false, why: 'has no tunnels' };
    const problems = branch.tunnels.flatMap((t) => {
      const owner = group.candidates.find((c) =>
        c.tunnels.some((ct) => ct.haTunnelIdentifier === t.haTunnelIdentifier && ct.tunnelId === t.tunnelId),
      );
      const where = owner?.id ?? `unknown tunnel ID ${t.tunnelId}`;
      if (owner?.id !== expected) return [`${t.name} on ${where}, not ${expected}`];
      return t.state === 'ESTABLISHED' ? [] : [`${t.name} ${t.state} on ${where}, not ESTABLISHED`];
    });
    return problems.length === 0 ? { branchId, ok: true } : { branchId, ok: false, why: problems.join('; ') };
  });
  return { expected, done: branches.every((b) => b.ok), at: new Date(at).toISOString(), branches };
}

/** `BR2 (IPSEC00 CREATED on HA_DC2, not ESTABLISHED), …` for the branches that are not ok. */
export function describeNotOk(observation: Observation): string {
  return observation.branches
    .filter((b) => !b.ok)
    .map((b) => `${b.branchId} (${b.why ?? 'not ok'})`)
    .join(', ');
}
