/**
 * Re-point plans: which branches must move to the serving concentrator, and with which tunnel
 * IDs. Pure; the adapters carry the actions out, fenced by the epoch.
 */
import { NotFoundError } from '../errors.js';
import { lookup, type ById } from './election.js';
import type { HaGroup, RepointAction } from './model.js';

/**
 * One action per branch of `group` not already on `servingId` (per `current`: branch id → the
 * concentrator it uses now, undefined = unknown/none). Each action carries, for every HA tunnel
 * identifier of the branch, the serving concentrator's tunnel ID. Identifiers the serving
 * concentrator lacks are left out (inventory guarantees that some candidate has each one).
 * @throws NotFoundError when `servingId` is not a candidate of the group.
 */
export function planRepoints(
  group: HaGroup,
  servingId: string,
  epoch: number,
  current: ById<string | undefined>,
): RepointAction[] {
  const serving = group.candidates.find((c) => c.id === servingId);
  if (!serving) {
    throw new NotFoundError(
      `group ${group.key}: serving concentrator ${JSON.stringify(servingId)} is not a candidate ` +
        `(expected one of: ${group.candidates.map((c) => c.id).join(', ') || 'none'})`,
    );
  }
  const tunnelIdOf = new Map(serving.tunnels.map((t) => [t.haTunnelIdentifier, t.tunnelId]));
  const actions: RepointAction[] = [];
  for (const branch of group.branches) {
    const fromId = lookup(current, branch.id);
    if (fromId === servingId) continue;
    const tunnels: RepointAction['tunnels'] = [];
    for (const identifier of new Set(branch.tunnels.map((t) => t.haTunnelIdentifier))) {
      const tunnelId = tunnelIdOf.get(identifier);
      if (tunnelId !== undefined) tunnels.push({ haTunnelIdentifier: identifier, tunnelId });
    }
    actions.push({
      groupKey: group.key,
      tenantId: group.tenantId,
      branchId: branch.id,
      targetId: servingId,
      ...(fromId !== undefined ? { fromId } : {}),
      epoch,
      tunnels,
    });
  }
  return actions;
}
