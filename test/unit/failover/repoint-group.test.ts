/**
 * A fan-out of a group larger than one wave on a director with the group button
 * (`repointGroup`): one call moves every branch, each branch's outcome comes from the director's
 * answer, a stale answer supersedes the fan-out, and a failed group call falls back to single
 * re-points. The director here is the unit fake; the HTTP path is tested against the simulator.
 */
import type { GroupRepointOutcome, GroupRepointRequest } from '../../../shared/director/port.js';
import { DirectorUnavailableError, StaleEpochError } from '../../../shared/errors.js';
import { fanOut } from '../../../shared/failover/fan-out.js';
import { FakeDirector } from './fake-director.js';
import { harness, kinds, KEY, storeDecision } from './harness.js';

/** The fake director with the group button: moves the group's branches onto the target's tunnel. */
class GroupDirector extends FakeDirector {
  readonly groupCalls: GroupRepointRequest[] = [];
  /** Branches the director will not move (reported with an error). */
  readonly refuse = new Set<string>();
  /** When set, the group call fails with it. */
  groupError?: Error;

  async repointGroup(request: GroupRepointRequest): Promise<GroupRepointOutcome[]> {
    this.groupCalls.push(request);
    if (this.groupError) throw this.groupError;
    const current = this.epochs.get(KEY) ?? 0;
    if (request.epoch < current) throw new StaleEpochError('stale', { currentEpoch: current });
    this.epochs.set(KEY, request.epoch);
    const tunnel = this.cpes.find((c) => c.id === request.targetId)?.tunnels[0]?.tunnelId;
    return this.cpes
      .filter((c) => c.metadata.CPE_BR_TYPE === 'HA' && c.metadata.HA_NAME === request.haName)
      .map((b) => {
        if (this.refuse.has(b.id))
          return { branchId: b.id, changed: false, error: 'NOT_MANAGED: DR manages it' };
        const t = b.tunnels[0]!;
        const changed = t.tunnelId !== tunnel || t.state !== 'ESTABLISHED';
        t.tunnelId = tunnel!;
        t.state = 'ESTABLISHED';
        return { branchId: b.id, changed };
      });
  }
}

async function arrange(branches: number) {
  const h = harness({ branches, on: 'DC1', settings: { concurrency: 4 } });
  const director = new GroupDirector(h.director.cpes, 'DC');
  h.deps.directors.DC = director;
  await storeDecision(h, 'DC2', 2);
  return { h, director };
}

const request = { groupKey: KEY, tenantId: 't1', servingId: 'DC2', epoch: 2, decidedAt: 1 };
const onDc2 = (d: FakeDirector) => [...d.branchTargets().values()].filter((t) => t === 'DC2').length;

describe('fan-out through the group button', () => {
  it('moves a group larger than one wave in one call, each outcome from the answer', async () => {
    const { h, director } = await arrange(10);
    const result = await fanOut(h.deps, request);
    expect(director.groupCalls).toEqual([{ tenantId: 't1', haName: 'Chennai', targetId: 'DC2', epoch: 2 }]);
    expect(director.calls.repoint).toBe(0);
    expect(result.counts).toMatchObject({ total: 10, repointed: 10, unchanged: 0, failed: 0 });
    expect(onDc2(director)).toBe(10);
    expect((await h.store.listBranchOutcomes(KEY)).filter((o) => o.result === 'ok')).toHaveLength(10);
  });

  it('a branch the group call left gets its single re-point, which moves it', async () => {
    const { h, director } = await arrange(6);
    director.refuse.add('Chennai-br3');
    const result = await fanOut(h.deps, request);
    expect(director.calls.repoint).toBe(1);
    expect(result.counts).toMatchObject({ total: 6, repointed: 6, unchanged: 0, failed: 0 });
    expect(onDc2(director)).toBe(6);
  });

  it('a branch neither call could move is failed with the single call’s reason and notified', async () => {
    const { h, director } = await arrange(6);
    director.refuse.add('Chennai-br3');
    director.failRepoints.add('Chennai-br3');
    const result = await fanOut(h.deps, request);
    expect(result.counts).toMatchObject({ total: 6, repointed: 5, unchanged: 0, failed: 1 });
    expect(result.failed).toEqual([
      { branchId: 'Chennai-br3', error: expect.stringContaining('DirectorUnavailableError') },
    ]);
    expect(kinds(h)).toContain('REPOINT_FAILURE');
  });

  it('a branch the listing showed right but the director moved counts once, as re-pointed', async () => {
    const { h, director } = await arrange(6);
    // The fan-out's listing shows br1 on DC2 already; it is back on DC1 by the time of the call.
    const br1 = director.cpes.find((c) => c.id === 'Chennai-br1')!;
    const dc2Tunnel = director.cpes.find((c) => c.id === 'DC2')!.tunnels[0]!.tunnelId;
    const list = director.listCpes.bind(director);
    director.listCpes = async (t) => {
      const cpes = await list(t);
      const b = cpes.find((c) => c.id === 'Chennai-br1')!;
      b.tunnels[0] = { ...b.tunnels[0]!, tunnelId: dc2Tunnel, state: 'ESTABLISHED' };
      return cpes;
    };
    expect(br1.tunnels[0]?.tunnelId).not.toBe(dc2Tunnel);
    const result = await fanOut(h.deps, request);
    expect(result.counts).toMatchObject({ total: 6, repointed: 6, unchanged: 0, failed: 0 });
  });

  it('a group call refused as stale after the fence marks every branch stale (superseded)', async () => {
    const { h, director } = await arrange(6);
    director.groupError = new StaleEpochError('epoch 2 was already decided for DC1');
    const result = await fanOut(h.deps, request);
    expect(result.superseded).toBe(true);
    expect(result.counts).toMatchObject({ stale: 6, repointed: 0 });
    expect(director.calls.repoint).toBe(0);
  });

  it('a group call that fails otherwise falls back to single re-points', async () => {
    const { h, director } = await arrange(6);
    director.groupError = new DirectorUnavailableError('503 after retries');
    const result = await fanOut(h.deps, request);
    expect(director.groupCalls).toHaveLength(1);
    expect(director.calls.repoint).toBe(6);
    expect(result.counts).toMatchObject({ repointed: 6, failed: 0 });
    expect(onDc2(director)).toBe(6);
  });

  it('a group no larger than one wave is re-pointed branch by branch', async () => {
    const { h, director } = await arrange(4);
    const result = await fanOut(h.deps, request);
    expect(director.groupCalls).toEqual([]);
    expect(director.calls.repoint).toBe(4);
    expect(result.counts.repointed).toBe(4);
  });
});
