/**
 * CheckGroup, the Rehearsal state machine's first real step: everything that must hold before a
 * rehearsal may move a group, checked before anything is changed (a refusal is a
 * RehearsalRefusedError or RehearsalWindowClosedError naming why).
 */
import { isPinActive } from '../domain/election.js';
import type { HaGroup } from '../domain/model.js';
import { RehearsalRefusedError, RehearsalWindowClosedError } from '../errors.js';
import { findGroupOrThrow } from '../failover/console.js';
import { loadTenantView } from '../failover/service.js';
import type { RehearsalDeps } from './deps.js';
import type { RehearsalInput } from './input.js';
import { describeNotOk, observeBranches } from './observe.js';
import type { CheckResult, RehearsalState } from './report.js';

/** The rehearsed group as the director lists it now (NotFoundError naming the groups there are). */
export async function findGroup(deps: RehearsalDeps, input: RehearsalInput): Promise<HaGroup> {
  const view = await loadTenantView(deps.failover, input.tenantId);
  return findGroupOrThrow(view, input.tenantId, input.haName);
}

/** Why a rehearsal must not run now: a DR workflow holds the lock, or the site roles differ from `roles`. */
export async function drInterference(deps: RehearsalDeps, roles?: string): Promise<string | undefined> {
  const [lock, current] = await Promise.all([deps.drLock.getLock(), deps.failover.store.getSiteRoles()]);
  if (lock && lock.expiresAt * 1000 > deps.now()) {
    return `a DR workflow is running (lock held by ${lock.owner} since ${new Date(lock.acquiredAt).toISOString()})`;
  }
  const now = siteRolesText(current);
  return roles !== undefined && roles !== now ? `the site roles changed (${roles} → ${now})` : undefined;
}

/** The site roles as one comparable line (`DC ACTIVE, DR PASSIVE`). */
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
export async function check(deps: RehearsalDeps, state: RehearsalState): Promise<CheckResult> {
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
