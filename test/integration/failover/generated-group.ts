/**
 * The first HA group of a generated topology (`generateTopology`), as the failover integration
 * tests drive it: its tenant, group key and concentrators, and what the simulator says of its
 * branches.
 */
import { groupKey } from '../../../shared/domain/model.js';
import { generatedIds, type ZwanSimulator } from '../../../local/simulator/index.js';

/** The group's tenant. */
export const TENANT = generatedIds.tenant(0);
/** The group's key (`tenant#haName`). */
export const KEY = groupKey(TENANT, generatedIds.group(0));

/** A concentrator slot of the group. */
export type Slot = 'dc1' | 'dc2' | 'dr1' | 'dr2';
/** The id of the group's concentrator in `slot`. */
export const id = (slot: Slot): string => generatedIds.concentrator(0, slot);

/** The concentrator each of the group's first `branches` branches points at now. */
export function branchTargets(sim: ZwanSimulator, branches: number): (string | undefined)[] {
  return Array.from({ length: branches }, (_, b) => sim.world.currentTarget(generatedIds.branch(0, b)));
}

/** The re-point calls in the simulator's request log. */
export function repointCount(sim: ZwanSimulator): number {
  return sim.requests.filter((r) => r.operation === 'repointBranch').length;
}
