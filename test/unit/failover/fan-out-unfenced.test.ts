/**
 * A fan-out over a director that keeps no epoch (`fencing: 'none'`, Meraki): every branch's
 * re-point is sent with a fence on the group's stored epoch and serving (the caller's listing may
 * be stale, so nothing counts as already right from it), and a re-point still pending (an action
 * batch that may still apply) is neither done nor failed.
 */
import type { RepointOptions, RepointResult } from '../../../shared/director/port.js';
import type { RepointAction } from '../../../shared/domain/model.js';
import { RepointPendingError } from '../../../shared/errors.js';
import { viewOf } from '../../../shared/failover/common.js';
import { fanOut, UNSETTLED_MS } from '../../../shared/failover/fan-out.js';
import { FakeDirector } from './fake-director.js';
import { harness, kinds, KEY, storeDecision } from './harness.js';

/** The fake director, keeping no epoch: it records each re-point's fence as it reads it then. */
class UnfencedDirector extends FakeDirector {
  readonly fencing = 'none' as const;
  readonly fenceReads: { branchId: string; epoch: number; servingId?: string }[] = [];
  readonly pendingBranches = new Set<string>();
  override async fence(): Promise<void> {}
  override async repoint(action: RepointAction, options?: RepointOptions): Promise<RepointResult> {
    if (!options?.fence) throw new Error(`re-point of ${action.branchId} sent without a fence`);
    this.fenceReads.push({ branchId: action.branchId, ...(await options.fence.read()) });
    if (this.pendingBranches.has(action.branchId))
      throw new RepointPendingError(`batch 7 holding a change of ${action.branchId} is still running`);
    return super.repoint(action);
  }
}

async function arrange(epoch: number, changedAgoMs = 60_000) {
  const h = harness({ branches: 3, on: 'DC1' });
  const director = new UnfencedDirector(h.director.cpes, 'DC');
  h.deps.directors.DC = director;
  await storeDecision(h, 'DC1', epoch, changedAgoMs);
  // The caller's listing: every branch on DC1 (as if nothing moved since).
  const view = viewOf(h.deps, 't1', structuredClone(director.cpes));
  return { h, director, view };
}

const request = (epoch: number) => ({ groupKey: KEY, tenantId: 't1', servingId: 'DC1', epoch, decidedAt: 1 });

describe('fan-out over a director that keeps no epoch', () => {
  it("while the epoch is recent, sends every branch's re-point with a fence on the stored epoch, whatever the caller's listing shows", async () => {
    const { h, director, view } = await arrange(4);
    // Behind the listing's back, one branch went elsewhere (the listing still says DC1).
    const br2 = director.cpes.find((c) => c.id === 'Chennai-br2');
    if (br2?.tunnels[0]) br2.tunnels[0].tunnelId = 'T-DC2';
    const result = await fanOut(h.deps, request(4), { view });
    expect(director.fenceReads).toEqual(
      ['Chennai-br1', 'Chennai-br2', 'Chennai-br3'].map((branchId) => ({
        branchId,
        epoch: 4,
        servingId: 'DC1',
      })),
    );
    expect(result.counts).toMatchObject({ total: 3, repointed: 1, unchanged: 2, failed: 0 });
    expect(director.branchTargets().get('Chennai-br2')).toBe('DC1');
    expect(director.calls.listCpes).toBe(0); // planned from the caller's listing
  });

  it('a group whose epoch settled long ago is planned from the listing: nothing sent for branches already right', async () => {
    const { h, director } = await arrange(4, UNSETTLED_MS);
    const br2 = director.cpes.find((c) => c.id === 'Chennai-br2');
    if (br2?.tunnels[0]) br2.tunnels[0].tunnelId = 'T-DC2';
    const drifted = viewOf(h.deps, 't1', structuredClone(director.cpes)); // a drift pass's fresh listing
    const result = await fanOut(h.deps, request(4), { view: drifted });
    expect(director.fenceReads).toEqual([{ branchId: 'Chennai-br2', epoch: 4, servingId: 'DC1' }]);
    expect(result.counts).toMatchObject({ total: 3, repointed: 1, unchanged: 2, failed: 0 });
  });

  it('a pending re-point is neither done nor failed: no outcome stored, no REPOINT_FAILURE, not a success', async () => {
    const { h, director, view } = await arrange(2);
    director.pendingBranches.add('Chennai-br3');
    const result = await fanOut(h.deps, request(2), { view });
    expect(result.pending).toEqual([
      { branchId: 'Chennai-br3', reason: expect.stringContaining('batch 7 holding a change of Chennai-br3') },
    ]);
    expect(result.counts.failed).toBe(0);
    expect(result.failed).toEqual([]);
    expect(kinds(h)).not.toContain('REPOINT_FAILURE');
    const stored = await h.store.listBranchOutcomes(KEY);
    expect(stored.map((o) => o.branchId).sort()).toEqual(['Chennai-br1', 'Chennai-br2']);
  });
});
