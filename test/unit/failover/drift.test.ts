/**
 * The reference's five "Update Branch to Active Node" scenarios, handled by the drift reconcile
 * without a button.
 */
import { groupKey } from '../../../shared/domain/model.js';
import { reconcileDrift } from '../../../shared/failover/drift.js';
import { FAILOVER_METRICS, reconcileGroup } from '../../../shared/failover/service.js';
import type { MetricSink } from '../../../shared/observability.js';
import { harness, HUBS, KEY } from './harness.js';
import { topology } from './fake-director.js';

describe('reconcileDrift: the five "Update Branch to Active Node" scenarios', () => {
  it('1: a branch that rebooted / shut down uncleanly comes back on the old tunnel and is re-pointed', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    await reconcileGroup(h.deps, KEY); // all on DC2
    // br2 reboots with its stale config: tunnel to DC1's ID, not established anywhere useful.
    const br2 = h.director.cpes.find((c) => c.id === 'Chennai-br2')!;
    br2.tunnels[0] = { name: 'IPSEC00', haTunnelIdentifier: 'HA-T1', tunnelId: 'T-DC1', state: 'CREATED' };
    const report = await reconcileDrift(h.deps);
    expect(report).toMatchObject({ groups: 1, drifted: 1, repointed: 1, failed: 0, errors: [] });
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
    const again = await reconcileDrift(h.deps);
    expect(again).toMatchObject({ drifted: 0, repointed: 0 });
  });

  it('1b: a replaced branch (new CPE id, no tunnel established yet) is put on the serving concentrator', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    const old = h.director.cpes.findIndex((c) => c.id === 'Chennai-br1');
    h.director.cpes.splice(old, 1, {
      ...structuredClone(h.director.cpes[old]!),
      id: 'Chennai-br1-new',
      name: 'Chennai-br1-new',
      tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'HA-T1', tunnelId: 'T-none', state: 'CREATED' }],
    });
    const report = await reconcileDrift(h.deps);
    expect(report.repointed).toBe(1);
    expect(h.director.branchTargets().get('Chennai-br1-new')).toBe('DC1');
  });

  it('2: DC site director down, DR director takes over (DR ACTIVE): branches go to DR through the DR director', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
    h.store.directors = [{ site: 'DR', reachable: true }];
    // A failed re-point during the switchover leaves one branch behind.
    h.drDirector.failRepoints.add('Chennai-br3');
    const first = await reconcileDrift(h.deps);
    expect(first).toMatchObject({ repointed: 2, failed: 1 });
    const second = await reconcileDrift(h.deps);
    expect(second).toMatchObject({ repointed: 1, failed: 0 });
    expect([...h.director.branchTargets().values()]).toEqual(['DR1', 'DR1', 'DR1']);
    expect(h.director.calls.repoint).toBe(0); // the DC director was not used
  });

  it('3: DC director and DC concentrators down: DR serves; nothing is left on a dead DC concentrator', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    h.store.setHealth(KEY, 'DC2', 'DOWN');
    const report = await reconcileDrift(h.deps);
    expect(report.errors).toEqual([]);
    expect((await h.store.getGroup(KEY))?.servingId).toBe('DR1');
    expect([...h.director.branchTargets().values()]).toEqual(['DR1', 'DR1', 'DR1']);
  });

  it('4: DC1/DC2 replaced by DC3/DC4 while DC1/DC2 are still listed: branches move to DC3', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    // DC1/DC2 die (still listed); DC3 (ACTIVE) and DC4 (PASSIVE) are onboarded with the same
    // HA_NAME and tunnel identifier but new tunnel IDs.
    const fresh = topology({
      hubs: [
        { id: 'DC3', site: 'DC', haState: 'ACTIVE', onboardedAt: '2026-11-20T00:00:00Z' },
        { id: 'DC4', site: 'DC', haState: 'PASSIVE', onboardedAt: '2026-11-20T00:00:00Z' },
      ],
      branches: 0,
    });
    h.director.cpes.push(...fresh);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    h.store.setHealth(KEY, 'DC2', 'DOWN');
    h.store.setHealth(KEY, 'DC3', 'UP');
    h.store.setHealth(KEY, 'DC4', 'UP');
    const report = await reconcileDrift(h.deps);
    expect(report).toMatchObject({ repointed: 3, failed: 0, errors: [] });
    expect((await h.store.getGroup(KEY))?.servingId).toBe('DC3');
    expect([...h.director.branchTargets().values()]).toEqual(['DC3', 'DC3', 'DC3']);
    expect(h.director.calls.setHaState).toContainEqual(['DC3', 'ACTIVE', 2]);
  });

  it('5: DC1/DC2 replaced by DC3/DC4 and deleted from the list: branches move to DC3', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.director.cpes = h.director.cpes.filter((c) => c.id !== 'DC1' && c.id !== 'DC2');
    h.drDirector.cpes = h.director.cpes;
    h.director.cpes.push(
      ...topology({
        hubs: [
          { id: 'DC3', site: 'DC', haState: 'ACTIVE' },
          { id: 'DC4', site: 'DC', haState: 'PASSIVE' },
        ],
        branches: 0,
      }),
    );
    h.store.setHealth(KEY, 'DC3', 'UP');
    h.store.setHealth(KEY, 'DC4', 'UP');
    const report = await reconcileDrift(h.deps);
    expect(report).toMatchObject({ repointed: 2, errors: [] });
    expect([...h.director.branchTargets().values()]).toEqual(['DC3', 'DC3']);
    const status = await h.store.getGroup(KEY);
    expect(status).toMatchObject({ servingId: 'DC3', epoch: 2 });
  });

  it('holds drifted branches while no candidate is UP (never re-points to a dead concentrator)', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    for (const id of ['DC1', 'DC2', 'DR1']) h.store.setHealth(KEY, id, 'DOWN');
    h.director.cpes.find((c) => c.id === 'Chennai-br1')!.tunnels[0]!.state = 'CREATED';
    const report = await reconcileDrift(h.deps);
    expect(report.held).toEqual([KEY]);
    expect(h.director.calls.repoint).toBe(0);
  });
});

describe('reconcileDrift: the AllDown level', () => {
  const MUMBAI = groupKey('t1', 'Mumbai');
  const MUMBAI_HUBS = HUBS.map((h) => ({ ...h, id: `M-${h.id}` }));

  /** Two groups (Chennai, Mumbai), every hub UP; `allDown()` lists the AllDown values emitted. */
  function twoGroups() {
    const h = harness({ branches: 1, on: 'DC1' });
    h.director.cpes.push(...topology({ haName: 'Mumbai', hubs: MUMBAI_HUBS, branches: 1, on: 'M-DC1' }));
    for (const hub of MUMBAI_HUBS) h.store.setHealth(MUMBAI, hub.id, 'UP', 1);
    const emitted: [string, number][] = [];
    const metrics: MetricSink = {
      count: (name, value = 1) => void emitted.push([name, value]),
      durationMs() {},
    };
    const deps = { ...h.deps, metrics };
    const allDown = () =>
      emitted.splice(0).flatMap(([name, value]) => (name === FAILOVER_METRICS.allDown ? [value] : []));
    const down = (key: string, hubs: typeof HUBS, health: 'DOWN' | 'UP') => {
      for (const hub of hubs) h.store.setHealth(key, hub.id, health);
    };
    return { h, deps, allDown, down };
  }

  it('is emitted on every pass as the number of groups in ALL_DOWN (0 when none), besides the count on entry', async () => {
    const { deps, allDown, down } = twoGroups();
    expect(await reconcileDrift(deps)).toMatchObject({ groups: 2, allDown: [], errors: [] });
    expect(allDown()).toEqual([0]);

    down(KEY, HUBS, 'DOWN');
    expect((await reconcileDrift(deps)).allDown).toEqual([KEY]);
    expect(allDown()).toEqual([1, 1]); // entry (failover count) and level

    expect((await reconcileDrift(deps)).allDown).toEqual([KEY]);
    expect(allDown()).toEqual([1]); // still down: the level alone keeps the alarm raised

    down(MUMBAI, MUMBAI_HUBS, 'DOWN');
    await reconcileDrift(deps);
    expect(allDown()).toEqual([1, 2]);

    down(KEY, HUBS, 'UP');
    down(MUMBAI, MUMBAI_HUBS, 'UP');
    expect((await reconcileDrift(deps)).allDown).toEqual([]);
    expect(allDown()).toEqual([0]);
  });

  it('a pass that missed a group emits no 0 (it could be wrong) but still emits a count that raises', async () => {
    const { h, deps, allDown, down } = twoGroups();
    const getGroup = h.store.getGroup.bind(h.store);
    h.store.getGroup = async (key) => {
      if (key === MUMBAI) throw new Error('throttled');
      return getGroup(key);
    };
    expect((await reconcileDrift(deps)).errors).toEqual([{ key: MUMBAI, error: 'Error: throttled' }]);
    expect(allDown()).toEqual([]);

    down(KEY, HUBS, 'DOWN');
    await reconcileDrift(deps);
    expect(allDown()).toEqual([1, 1]);
  });
});
