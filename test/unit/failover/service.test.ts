import { reconcileDrift } from '../../../shared/failover/drift.js';
import { MemoryFailoverStore } from '../../../shared/failover/memory-store.js';
import { fanOut, loadTenantView, OUTBOX_GRACE_MS, reconcileGroup } from '../../../shared/failover/service.js';
import { harness, kinds, KEY } from './harness.js';

describe('reconcileGroup', () => {
  it('elects the first UP candidate at epoch 1 and re-points nothing that is already right', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', epoch: 1, changed: true, held: false });
    expect(r.fanOut?.counts).toMatchObject({ total: 3, repointed: 0, unchanged: 3, failed: 0 });
    expect(h.director.calls.repoint).toBe(0);
    expect(kinds(h)).toEqual(['ELECTED']);
    expect(h.audited.map((n) => n.kind)).toEqual(['ELECTED']);
  });

  it('fails over when DC1 goes DOWN: HA_STATE first, every branch moved, outcomes recorded, metrics', async () => {
    const h = harness({ branches: 4, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC2', previousId: 'DC1', epoch: 2, changed: true });
    expect(h.director.calls.setHaState).toEqual([
      ['DC2', 'ACTIVE', 2],
      ['DC1', 'PASSIVE', 2],
    ]);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2', 'DC2']);
    const outcomes = await h.store.listBranchOutcomes(KEY);
    expect(outcomes).toHaveLength(4);
    expect(
      outcomes.every((o) => o.result === 'ok' && o.changed && o.targetId === 'DC2' && o.epoch === 2),
    ).toBe(true);
    expect(h.metrics.get('Failovers')).toBe(1);
    expect(h.metrics.get('Repoints')).toBe(4);
    expect(h.metrics.totals.has('DecisionToLastRepointMs')).toBe(true);
    const failover = h.published.notices.find((n) => n.kind === 'FAILOVER');
    expect(failover).toMatchObject({ from: 'DC1', to: 'DC2', epoch: 2, groupKey: KEY });
  });

  it('changes nothing when replayed (same epoch, branches already on serving)', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    await reconcileGroup(h.deps, KEY);
    const calls = h.director.calls.repoint;
    const again = await reconcileGroup(h.deps, KEY);
    expect(again).toMatchObject({ servingId: 'DC2', epoch: 2, changed: false });
    expect(again.plan).toEqual([]);
    expect(h.director.calls.repoint).toBe(calls);
    expect(kinds(h).filter((k) => k === 'FAILOVER')).toHaveLength(1);
  });

  it('fails back to DC1 once it is UP again (preempt) and counts a failback', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'UP');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', epoch: 3 });
    expect(h.metrics.get('Failbacks')).toBe(1);
    expect([...h.director.branchTargets().values()]).toEqual(['DC1', 'DC1']);
  });

  it('raises ALL_DOWN once, keeps serving and re-points nothing', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    for (const id of ['DC1', 'DC2', 'DR1']) h.store.setHealth(KEY, id, 'DOWN');
    const before = h.director.calls.repoint;
    const r = await reconcileGroup(h.deps, KEY);
    const r2 = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', epoch: 1, held: true, alarms: ['ALL_DOWN'] });
    expect(r2.held).toBe(true);
    expect(h.director.calls.repoint).toBe(before);
    expect(kinds(h).filter((k) => k === 'ALL_DOWN')).toHaveLength(1);
    expect((await h.store.getGroup(KEY))?.alarms).toEqual(['ALL_DOWN']);
    expect(h.metrics.get('AllDown')).toBe(1);
  });

  it('an alarm decided on an older epoch is not written over a newer record: it re-reads and re-decides', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    for (const id of ['DC1', 'DC2', 'DR1']) h.store.setHealth(KEY, id, 'DOWN');
    // Between this run's read (epoch 1, all DOWN) and its alarm write, DR1 comes back and another
    // run elects it at epoch 2.
    const setAlarms = h.store.setAlarms.bind(h.store);
    const written: number[] = [];
    h.store.setAlarms = async (groupKey, alarms, group, expectedEpoch) => {
      if (written.length === 0) {
        h.store.setHealth(KEY, 'DR1', 'UP');
        const won = await h.store.compareAndSetServing(KEY, 1, {
          ...group,
          servingId: 'DR1',
          epoch: 2,
          reason: 'another run',
          alarms: [],
          changedAt: h.clock.now,
        });
        expect(won).toBe(true);
      }
      written.push(expectedEpoch);
      return setAlarms(groupKey, alarms, group, expectedEpoch);
    };
    const r = await reconcileGroup(h.deps, KEY);
    expect(written).toEqual([1]);
    expect(r).toMatchObject({ servingId: 'DR1', epoch: 2, alarms: [], held: false });
    expect(await h.store.getGroup(KEY)).toMatchObject({ servingId: 'DR1', epoch: 2, alarms: [] });
    expect(kinds(h)).not.toContain('ALL_DOWN');
  });

  it('holds every change while the ACTIVE site director is unreachable: frozen, no alarm', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.directors = [{ site: 'DC', reachable: false, at: 5 }];
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', changed: false, held: true, alarms: [] });
    expect(r.reason).toMatch(/ACTIVE site's director \(DC\) is unreachable/);
    expect(h.director.calls.setHaState).toEqual([]);
    expect(kinds(h)).not.toContain('MONITOR_BLIND');
    // Clears: the failover happens.
    h.store.directors = [{ site: 'DC', reachable: true }];
    const after = await reconcileGroup(h.deps, KEY);
    expect(after).toMatchObject({ servingId: 'DC2', alarms: [] });
  });

  it('holds everything with MONITOR_BLIND when no director answers', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.directors = [
      { site: 'DC', reachable: false },
      { site: 'DR', reachable: false },
    ];
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', changed: false, held: true, alarms: ['MONITOR_BLIND'] });
    expect(kinds(h)).toContain('MONITOR_BLIND');
    h.store.directors = [
      { site: 'DC', reachable: true },
      { site: 'DR', reachable: true },
    ];
    expect(await reconcileGroup(h.deps, KEY)).toMatchObject({ servingId: 'DC2', alarms: [] });
    expect((await h.store.getGroup(KEY))?.alarms).toEqual([]);
  });

  it('a standby DR director outage does not block DC failovers; DR candidates are neither chosen nor left', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.directors = [
      { site: 'DC', reachable: true },
      { site: 'DR', reachable: false },
    ];
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    expect(await reconcileGroup(h.deps, KEY)).toMatchObject({ servingId: 'DC2', epoch: 2, held: false });
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
    // DC2 down too: DR1 is UP by its last health, but frozen: not chosen (ALL_DOWN, serving stays).
    h.store.setHealth(KEY, 'DC2', 'DOWN');
    const allDown = await reconcileGroup(h.deps, KEY);
    expect(allDown).toMatchObject({ servingId: 'DC2', changed: false, alarms: ['ALL_DOWN'] });
    expect(allDown.reason).toMatch(/DR1 frozen \(DR director unreachable, last UP\)/);
    // DR answers again: DR1 serves.
    h.store.directors = [
      { site: 'DC', reachable: true },
      { site: 'DR', reachable: true },
    ];
    expect(await reconcileGroup(h.deps, KEY)).toMatchObject({ servingId: 'DR1', epoch: 3 });
  });

  it('after a switchover the unreachable DC director blocks nothing: DR candidates are elected', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.directors = [
      { site: 'DC', reachable: false },
      { site: 'DR', reachable: true },
    ];
    h.store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DR1', epoch: 2, changed: true, held: false });
    expect(h.drDirector.calls.setHaState).toContainEqual(['DR1', 'ACTIVE', 2]);
    expect(h.director.calls.setHaState).toEqual([]);
  });

  it('lets exactly one of two racing invocations win the epoch; the loser re-decides', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const [a, b] = await Promise.all([reconcileGroup(h.deps, KEY), reconcileGroup(h.deps, KEY)]);
    expect([a.changed, b.changed].sort()).toEqual([false, true]);
    expect(a.epoch).toBe(2);
    expect(b.epoch).toBe(2);
    // One change, audited once. The loser may find the winner's outbox not yet cleared and send
    // it too: notices are at least once, their audit events exactly once.
    expect(h.audited.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
    expect(kinds(h).filter((k) => k === 'FAILOVER').length).toBeGreaterThanOrEqual(1);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
  });

  it('records failed re-points, notifies, and leaves them to the next reconcile', async () => {
    const h = harness({ branches: 4, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    h.director.failRepoints.add('Chennai-br2');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r.fanOut?.counts).toMatchObject({ repointed: 3, failed: 1 });
    const failed = (await h.store.listBranchOutcomes(KEY)).find((o) => o.branchId === 'Chennai-br2');
    expect(failed).toMatchObject({ result: 'failed', targetId: 'DC2', epoch: 2 });
    expect(failed?.error).toMatch(/DirectorUnavailableError/);
    const notice = h.published.notices.find((n) => n.kind === 'REPOINT_FAILURE');
    expect(notice?.failedBranches).toEqual([{ branchId: 'Chennai-br2', error: expect.any(String) }]);
    expect(h.metrics.get('RepointFailures')).toBe(1);
    const again = await reconcileGroup(h.deps, KEY);
    expect(again.fanOut?.counts).toMatchObject({ repointed: 1, failed: 0 });
    expect(h.director.branchTargets().get('Chennai-br2')).toBe('DC2');
  });

  it('drops a fan-out whose epoch is older than the stored one', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    await reconcileGroup(h.deps, KEY); // epoch 2, serving DC2
    const calls = h.director.calls.repoint;
    const old = await fanOut(h.deps, {
      groupKey: KEY,
      tenantId: 't1',
      servingId: 'DC1',
      epoch: 1,
      decidedAt: 0,
    });
    expect(old.superseded).toBe(true);
    expect(h.director.calls.repoint).toBe(calls);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2']);
  });

  it('dry run returns the plan and changes nothing', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const notices = h.published.notices.length;
    const r = await reconcileGroup(h.deps, KEY, { dryRun: true });
    expect(r).toMatchObject({ dryRun: true, servingId: 'DC2', epoch: 2 });
    expect(r.plan.map((a) => [a.branchId, a.targetId])).toEqual([
      ['Chennai-br1', 'DC2'],
      ['Chennai-br2', 'DC2'],
      ['Chennai-br3', 'DC2'],
    ]);
    expect((await h.store.getGroup(KEY))?.epoch).toBe(1);
    expect(h.published.notices.length).toBe(notices);
    expect(h.director.calls.repoint).toBe(0);
  });

  it('uses the DR director once DR is the ACTIVE site and skips PASSIVE DC concentrators', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
    const r = await reconcileGroup(h.deps, KEY);
    expect(r.servingId).toBe('DR1');
    expect(h.drDirector.calls.repoint).toBe(2);
    expect([...h.director.branchTargets().values()]).toEqual(['DR1', 'DR1']);
  });
});

describe('reconcileGroup at cold start', () => {
  it('waits without an alarm while no candidate has a health verdict yet', async () => {
    const h = harness({ branches: 1, on: 'DC1' });
    h.store.health.clear();
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ held: true, alarms: [], changed: false, epoch: 0 });
    expect(h.published.notices).toEqual([]);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    expect((await reconcileGroup(h.deps, KEY)).alarms).toEqual(['ALL_DOWN']);
  });
});

describe('fence, then read', () => {
  it('an epoch-2 fan-out still in flight cannot land branches on DC2 after unpin raised epoch 3 (pin DC2, unpin)', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY); // epoch 1, DC1
    // A view read before anything below (the batch handler's, drift's or the console's).
    const before = await loadTenantView(h.deps, 't1');
    let release!: () => void;
    h.director.repointGate = new Promise<void>((r) => (release = r));
    const arrived: number[] = [];
    let bothArrived!: () => void;
    const inFlight = new Promise<void>((r) => (bothArrived = r));
    h.director.onRepoint = (a) => {
      arrived.push(a.epoch);
      if (arrived.length === 2) bothArrived();
    };
    await h.store.setPin(
      KEY,
      { concentratorId: 'DC2', reason: 'maintenance', pinnedAt: h.clock.now },
      { tenantId: 't1', haName: 'Chennai' },
    );
    const pinned = reconcileGroup(h.deps, KEY, { view: before }); // epoch 2 → DC2, re-points held
    await inFlight;
    h.director.repointGate = undefined;
    h.director.onRepoint = undefined;
    await h.store.setPin(KEY, undefined, { tenantId: 't1', haName: 'Chennai' });
    const unpinned = await reconcileGroup(h.deps, KEY, { view: before }); // epoch 3 → DC1
    expect(unpinned).toMatchObject({ servingId: 'DC1', epoch: 3, changed: true });
    release();
    const r2 = await pinned;
    expect(r2).toMatchObject({ servingId: 'DC2', epoch: 2 });
    expect(r2.fanOut?.counts.stale).toBe(2);
    expect([...h.director.branchTargets().values()]).toEqual(['DC1', 'DC1']);
    const roles = new Map(h.director.cpes.map((c) => [c.id, c.haRole]));
    expect([roles.get('DC1'), roles.get('DC2')]).toEqual(['ACTIVE', 'PASSIVE']);
  });
});

describe('HA_STATE failures', () => {
  it('a failed HA_STATE ACTIVE re-points nothing: branches recorded failed with the reason, REPOINT_FAILURE; the retry sets ACTIVE first', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    h.director.failHaStates.add('DC2:ACTIVE');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC2', epoch: 2, changed: true });
    expect(h.director.calls.repoint).toBe(0);
    expect([...h.director.branchTargets().values()]).toEqual(['DC1', 'DC1', 'DC1']);
    expect(r.fanOut?.counts).toMatchObject({ total: 3, repointed: 0, failed: 3 });
    expect(r.fanOut?.haStateFailures).toEqual([
      { cpeId: 'DC2', state: 'ACTIVE', error: expect.stringMatching(/DirectorUnavailableError/) },
    ]);
    const outcomes = await h.store.listBranchOutcomes(KEY);
    expect(outcomes).toHaveLength(3);
    for (const o of outcomes) {
      expect(o).toMatchObject({ result: 'failed', targetId: 'DC2', epoch: 2 });
      expect(o.error).toMatch(/HA_STATE ACTIVE of DC2 failed/);
    }
    const notice = h.published.notices.find((n) => n.kind === 'REPOINT_FAILURE');
    expect(notice?.reason).toMatch(/HA_STATE ACTIVE of DC2 failed/);
    // The retry (here the drift pass) runs HA_STATE first, then re-points.
    h.director.failHaStates.clear();
    h.director.calls.setHaState.length = 0;
    await reconcileGroup(h.deps, KEY, { trigger: 'drift' });
    expect(h.director.calls.setHaState[0]).toEqual(['DC2', 'ACTIVE', 2]);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
  });

  it('a failed HA_STATE PASSIVE on a concentrator still listed ACTIVE is reported, and the drift pass makes it PASSIVE', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    h.director.failHaStates.add('DC1:PASSIVE');
    const r = await reconcileGroup(h.deps, KEY);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2']);
    expect(r.fanOut?.haStateFailures).toEqual([
      { cpeId: 'DC1', state: 'PASSIVE', error: expect.stringMatching(/DirectorUnavailableError/) },
    ]);
    const role = (id: string) => h.director.cpes.find((c) => c.id === id)?.haRole;
    expect([role('DC1'), role('DC2')]).toEqual(['ACTIVE', 'ACTIVE']);
    h.director.failHaStates.clear();
    const report = await reconcileDrift(h.deps);
    expect(report.errors).toEqual([]);
    expect([role('DC1'), role('DC2')]).toEqual(['PASSIVE', 'ACTIVE']);
    expect(report.haStateFixed).toEqual([KEY]);
  });
});

describe('after a table restore (PITR)', () => {
  it('a store epoch behind the director fence is raised above it and the fan-out runs (stored 1, director 7)', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY); // epoch 1
    h.director.epochs.set(KEY, 7); // the director saw epochs up to 7 before the restore
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC2', changed: true });
    expect(r.fanOut).toMatchObject({ superseded: false, epoch: 8 });
    expect(await h.store.getGroup(KEY)).toMatchObject({ servingId: 'DC2', epoch: 8 });
    expect((await h.store.getGroup(KEY))?.reason).toMatch(/behind/);
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2', 'DC2']);
    // One change of serving, one notice.
    expect(kinds(h).filter((k) => k === 'FAILOVER')).toHaveLength(1);
    // The next reconcile (drift) finds nothing to do at epoch 8.
    const again = await reconcileGroup(h.deps, KEY);
    expect(again).toMatchObject({ changed: false, epoch: 8 });
    expect(again.fanOut?.superseded).toBe(false);
  });

  it('a stale answer while a newer epoch is stored is still superseded (no raise)', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    await reconcileGroup(h.deps, KEY); // epoch 2, DC2
    h.director.epochs.set(KEY, 3);
    await h.store.compareAndSetServing(KEY, 2, {
      tenantId: 't1',
      haName: 'Chennai',
      servingId: 'DC2',
      epoch: 3,
      reason: 'another decider',
      alarms: [],
      changedAt: h.clock.now,
    });
    const old = await fanOut(h.deps, {
      groupKey: KEY,
      tenantId: 't1',
      servingId: 'DC1',
      epoch: 2,
      decidedAt: 0,
    });
    expect(old.superseded).toBe(true);
    expect((await h.store.getGroup(KEY))?.epoch).toBe(3);
  });
});

describe('the notice outbox', () => {
  it('a crash between the epoch write and the notice: the retry sends the FAILOVER from the outbox, audited once', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    // The process dies right after the conditional write of epoch 2.
    const write = h.store.compareAndSetServing.bind(h.store);
    h.store.compareAndSetServing = async (...args) => {
      await write(...args);
      h.store.compareAndSetServing = write;
      throw new Error('crash');
    };
    await expect(reconcileGroup(h.deps, KEY)).rejects.toThrow('crash');
    expect(kinds(h)).not.toContain('FAILOVER');
    expect((await h.store.getGroup(KEY))?.outbox?.map((n) => n.kind)).toEqual(['FAILOVER']);
    // A reconcile right away leaves the outbox to its writer (it may still be sending it)...
    await reconcileGroup(h.deps, KEY);
    expect(kinds(h)).not.toContain('FAILOVER');
    // ...the stream's retry after the grace finds no change left to decide, but sends the outbox.
    h.clock.now += OUTBOX_GRACE_MS;
    const retry = await reconcileGroup(h.deps, KEY);
    expect(retry).toMatchObject({ changed: false, epoch: 2, servingId: 'DC2' });
    expect(h.published.notices.filter((n) => n.kind === 'FAILOVER')).toEqual([
      expect.objectContaining({ from: 'DC1', to: 'DC2', epoch: 2 }),
    ]);
    expect(h.audited.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
    expect((await h.store.getGroup(KEY))?.outbox).toBeUndefined();
    // Nothing is sent twice once cleared.
    await reconcileGroup(h.deps, KEY);
    expect(kinds(h).filter((k) => k === 'FAILOVER')).toHaveLength(1);
  });

  it('a notice published but not cleared (crash before clearOutbox) is sent again and audited once', async () => {
    const h = harness({ branches: 1, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const clear = h.store.clearOutbox.bind(h.store);
    h.store.clearOutbox = async () => {
      h.store.clearOutbox = clear;
      throw new Error('crash');
    };
    await reconcileGroup(h.deps, KEY);
    expect((await h.store.getGroup(KEY))?.outbox).toHaveLength(1);
    h.clock.now += OUTBOX_GRACE_MS;
    await reconcileGroup(h.deps, KEY, { trigger: 'drift' });
    expect(kinds(h).filter((k) => k === 'FAILOVER')).toHaveLength(2);
    expect(h.audited.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
    expect(h.store.audits.map((a) => a.dedupId)).toContain(`${KEY}#2#FAILOVER`);
    expect((await h.store.getGroup(KEY))?.outbox).toBeUndefined();
  });

  it('an unsent notice is carried into the next change and both are sent', async () => {
    const h = harness({ branches: 1, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const publish = h.deps.notifier.publish.bind(h.deps.notifier);
    h.deps.notifier.publish = async () => false; // SNS down
    await reconcileGroup(h.deps, KEY); // epoch 2: FAILOVER stays in the outbox
    h.store.setHealth(KEY, 'DC1', 'UP');
    h.deps.notifier.publish = publish;
    await reconcileGroup(h.deps, KEY); // epoch 3: sends epoch 2's first, then FAILBACK
    expect(h.published.notices.map((n) => [n.kind, n.epoch])).toEqual([
      ['ELECTED', 1],
      ['FAILOVER', 2],
      ['FAILBACK', 3],
    ]);
    expect((await h.store.getGroup(KEY))?.outbox).toBeUndefined();
  });
});

describe('MemoryFailoverStore outbox', () => {
  const group = { tenantId: 't1', haName: 'Chennai' };
  const n = (epoch: number) => ({
    kind: 'FAILOVER' as const,
    groupKey: KEY,
    ...group,
    reason: 'r',
    epoch,
    at: 1,
  });
  it('stores the outbox with the epoch, keeps it when not given, clears it only at its epoch', async () => {
    const store = new MemoryFailoverStore();
    const update = { ...group, servingId: 'DC1', reason: 'r', alarms: [], changedAt: 1 };
    expect(await store.compareAndSetServing(KEY, 0, { ...update, epoch: 1, outbox: [n(1)] })).toBe(true);
    expect((await store.getGroup(KEY))?.outbox).toEqual([n(1)]);
    expect(await store.compareAndSetServing(KEY, 0, { ...update, epoch: 2, outbox: [] })).toBe(false);
    expect(await store.compareAndSetServing(KEY, 1, { ...update, epoch: 2 })).toBe(true);
    expect((await store.getGroup(KEY))?.outbox).toEqual([n(1)]);
    expect(await store.clearOutbox(KEY, 1)).toBe(false);
    expect(await store.clearOutbox(KEY, 2)).toBe(true);
    expect(await store.clearOutbox(KEY, 2)).toBe(false);
    expect((await store.getGroup(KEY))?.outbox).toBeUndefined();
  });
  it('writeAuditOnce creates one event per dedup id', async () => {
    const store = new MemoryFailoverStore();
    expect(await store.writeAuditOnce(n(2), 'k#2#FAILOVER')).toBe(true);
    expect(await store.writeAuditOnce(n(2), 'k#2#FAILOVER')).toBe(false);
    expect(store.audits).toHaveLength(1);
  });
});

describe('the notice outbox and a reconcile racing its writer', () => {
  it('a reconcile within the grace does not send the writer’s notice a second time', async () => {
    const h = harness({ branches: 1, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    // The writer is slow to publish: another reconcile (the console, a drift pass) runs meanwhile.
    const publish = h.published.publish.bind(h.published);
    let racing: Promise<unknown> | undefined;
    h.published.publish = async (n) => {
      if (n.kind === 'FAILOVER' && !racing) {
        racing = reconcileGroup(h.deps, KEY, { trigger: 'console' });
        await racing; // the writer's publish waits for the racing reconcile to finish
      }
      return publish(n);
    };
    await reconcileGroup(h.deps, KEY);
    expect(h.published.notices.filter((n) => n.kind === 'FAILOVER')).toHaveLength(1);
  });
});

describe('a decision made on a pin that is withdrawn before it lands', () => {
  it('does not land: serving never moves onto the UNKNOWN candidate nobody pins any more', async () => {
    // Found by the whole-system checker (S2): a forced pin and an unpin a moment later; the
    // pin's reconcile read the pin, the unpin removed it (no epoch change), and the pin's
    // epoch write still landed.
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY); // epoch 1 on DC1
    h.store.setHealth(KEY, 'DC2', 'UNKNOWN');
    const group = { tenantId: 't1', haName: 'Chennai' };
    await h.store.setPin(KEY, { concentratorId: 'DC2', reason: 'forced', pinnedAt: h.clock.now }, group);
    // The unpin lands between this reconcile's read and its epoch write.
    const write = h.store.compareAndSetServing.bind(h.store);
    h.store.compareAndSetServing = async (...args) => {
      h.store.compareAndSetServing = write;
      await h.store.setPin(KEY, undefined, group);
      return write(...args);
    };
    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC1', epoch: 1, changed: false });
    expect((await h.store.getGroup(KEY))?.servingId).toBe('DC1');
    expect([...h.director.branchTargets().values()]).toEqual(['DC1', 'DC1']);
  });
});

describe('a fan-out through a director that keeps no epoch (Meraki)', () => {
  it('plans from the caller’s listing instead of listing the whole organization again per group', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    Object.assign(h.director, { fencing: 'none' });
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const view = await loadTenantView(h.deps, 't1');
    const listed = h.director.calls.listCpes;
    const r = await reconcileGroup(h.deps, KEY, { view });
    expect(r.fanOut).toMatchObject({ servingId: 'DC2', counts: { repointed: 2 } });
    expect(h.director.calls.listCpes).toBe(listed);
    // A director that keeps epochs is listed fresh after its fence (fence, then read).
    Object.assign(h.director, { fencing: 'epoch' });
    h.store.setHealth(KEY, 'DC1', 'UP');
    await reconcileGroup(h.deps, KEY, { view });
    expect(h.director.calls.listCpes).toBe(listed + 1);
  });
});
