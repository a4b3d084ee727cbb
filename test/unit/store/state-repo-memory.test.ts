/**
 * The real StateRepository over the in-memory table, as the whole-system checker runs it: a
 * deterministic runtime (time and ids), interleavings forced through the table's gate, and the
 * change feed as the stream. The same behaviours test/integration/store/state-repo.test.ts checks
 * on DynamoDB Local hold here.
 */
import { ConditionFailedError } from '../../../shared/errors.js';
import { ItemStore } from '../../../shared/store/item-store.js';
import { AuditRepository } from '../../../shared/store/repos/audit.js';
import { GroupRepository } from '../../../shared/store/repos/groups.js';
import type { Notice } from '../../../shared/notify/port.js';
import type { Runtime } from '../../../shared/runtime.js';
import { MemoryTable, type TableChange, type TableOp } from '../../../shared/store/memory-table.js';
import { StateRepository, type DirectorItem } from '../../../shared/store/state-repo.js';
import { keys } from '../../../shared/store/table.js';
import type { TableItem, VersionedTable, WriteCondition } from '../../../shared/store/versioned-table.js';
import { dc1HealthWrite } from '../../helpers/store-fixtures.js';

function fakeRuntime(start = Date.parse('2026-03-01T10:00:00Z')): Runtime & { t: number } {
  let ids = 0;
  const rt = {
    t: start,
    now: () => rt.t,
    sleep: async (ms: number) => {
      rt.t += Math.max(0, ms);
    },
    random: () => 0.5,
    id: () => `id-${++ids}`,
  };
  return rt;
}

/** A table whose puts land and are then sent again, as an SDK retry after a lost answer would. */
function resendingPuts(inner: VersionedTable): VersionedTable {
  return {
    name: inner.name,
    get: (key) => inner.get(key),
    query: (pk, options) => inner.query(pk, options),
    delete: (key, condition) => inner.delete(key, condition),
    batchPut: (items) => inner.batchPut(items),
    async put(item: TableItem, condition: WriteCondition) {
      await inner.put(item, condition);
      await inner.put(item, condition);
    },
  };
}

/** A gate that holds the first `n` operations matching `match` until all `n` have arrived. */
function barrier(n: number, match: (op: TableOp) => boolean): (op: TableOp) => Promise<void> {
  const waiting: (() => void)[] = [];
  return (op) => {
    if (!match(op) || waiting.length >= n) return Promise.resolve();
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === n) for (const release of waiting) release();
    });
  };
}

const group = { tenantId: 't1', haName: 'Chennai' };
const notice = (epoch: number, to: string): Notice => ({
  kind: 'FAILOVER',
  groupKey: 't1#Chennai',
  ...group,
  to,
  reason: `elect ${to}`,
  epoch,
  at: 1000 + epoch,
});

describe('StateRepository over MemoryTable', () => {
  let table: MemoryTable;
  let rt: ReturnType<typeof fakeRuntime>;
  let repo: StateRepository;
  let changes: TableChange[];
  const serving = (servingId: string, epoch: number, outbox?: Notice[]) => ({
    ...group,
    servingId,
    epoch,
    reason: `elect ${servingId}`,
    alarms: [],
    changedAt: rt.now(),
    ...(outbox ? { outbox } : {}),
  });

  beforeEach(() => {
    table = new MemoryTable({ name: 'state' });
    rt = fakeRuntime();
    repo = StateRepository.overTable(table, rt);
    changes = [];
    table.onChange((c) => changes.push(c));
  });

  it('takes time and write ids from the runtime', async () => {
    expect(repo.tableName).toBe('state');
    const { item } = await repo.saveHealth(dc1HealthWrite());
    expect(item).toMatchObject({ version: 1, updatedAt: rt.t, writeId: 'id-1' });
    const constructed = new StateRepository(table, rt, { maxAttempts: 2 });
    expect(constructed.tableName).toBe('state');
  });

  describe('health', () => {
    it('writeHealth is conditional on the expected version and returns the stored item on a lost race', async () => {
      expect(await repo.writeHealth(dc1HealthWrite(), undefined)).toEqual({ ok: true, version: 1 });
      const down = { health: 'DOWN' as const, badStreak: 0, cleanSince: null, since: 2000 };
      expect(await repo.writeHealth(dc1HealthWrite({ state: down }), undefined)).toEqual({
        ok: false,
        current: { version: 1, state: { health: 'UP', badStreak: 0, cleanSince: null, since: 1000 } },
      });
      const transition = { target: 'dc1', from: 'UP' as const, to: 'DOWN' as const, at: 2000, reason: 'bad' };
      expect(await repo.writeHealth(dc1HealthWrite({ state: down, transition }), 1)).toEqual({
        ok: true,
        version: 2,
      });
      // A progress-only write keeps the last transition.
      expect(await repo.writeHealth(dc1HealthWrite({ state: { ...down, cleanSince: 2500 } }), 2)).toEqual({
        ok: true,
        version: 3,
      });
      expect((await repo.listHealth('t1#Chennai'))[0]).toMatchObject({
        version: 3,
        cleanSince: 2500,
        lastTransition: { to: 'DOWN' },
      });
      expect(await repo.writeHealth(dc1HealthWrite(), 7)).toMatchObject({
        ok: false,
        current: { version: 3 },
      });
    });

    it('writeHealth: of two writers on one version exactly one wins, the loser gets the winner’s item', async () => {
      table.gate = barrier(2, (op) => op.kind === 'put');
      const down = { health: 'DOWN' as const, badStreak: 0, cleanSince: null, since: 2000 };
      const [a, b] = await Promise.all([
        repo.writeHealth(dc1HealthWrite(), undefined),
        repo.writeHealth(dc1HealthWrite({ state: down }), undefined),
      ]);
      expect([a.ok, b.ok].sort()).toEqual([false, true]);
      const loser = a.ok ? b : a;
      const stored = await repo.listHealth('t1#Chennai');
      expect(loser).toEqual({
        ok: false,
        current: { version: 1, state: expect.objectContaining({ health: stored[0]?.health }) },
      });
    });

    it('a health write that landed but whose answer was lost (SDK resend) counts as written, once', async () => {
      const flaky = StateRepository.overTable(resendingPuts(table), rt);
      expect(await flaky.writeHealth(dc1HealthWrite(), undefined)).toEqual({ ok: true, version: 1 });
      const saved = await flaky.saveHealth(
        dc1HealthWrite({ state: { health: 'UP', badStreak: 1, cleanSince: null, since: 1000 } }),
      );
      expect(saved).toMatchObject({ changed: true, item: { version: 2, badStreak: 1 } });
      expect(changes.map((c) => c.eventName)).toEqual(['INSERT', 'MODIFY']);
    });

    it('an answer lost outright (afterApply throws) reaches the caller, the write stays', async () => {
      table.afterApply = (op) => {
        if (op.kind === 'put') throw new Error('socket hang up');
      };
      await expect(repo.writeHealth(dc1HealthWrite(), undefined)).rejects.toThrow('socket hang up');
      table.afterApply = undefined;
      expect(await repo.writeHealth(dc1HealthWrite(), undefined)).toMatchObject({
        ok: false,
        current: { version: 1 },
      });
    });
  });

  describe('groups', () => {
    it('compareAndSetServing with a guard: refused when the stored pin is no longer the one read', async () => {
      const pin = { concentratorId: 'dc2', reason: 'maintenance', pinnedAt: rt.now() };
      await repo.setPin('t1#Chennai', pin, group);
      await repo.setPin('t1#Chennai', undefined, group); // an unpin lands after the decision read the pin
      expect(await repo.compareAndSetServing('t1#Chennai', 0, serving('dc2', 1), { pin })).toBe(false);
      expect((await repo.getGroup('t1#Chennai'))?.servingId).toBeUndefined();
      expect(await repo.compareAndSetServing('t1#Chennai', 0, serving('dc1', 1), { pin: undefined })).toBe(
        true,
      );
    });

    it('compareAndSetServing: of four writers that all read epoch 0 exactly one wins', async () => {
      table.gate = barrier(4, (op) => op.kind === 'get');
      const ids = ['dc1', 'dc2', 'dr1', 'dr2'];
      const results = await Promise.all(
        ids.map((id) => repo.compareAndSetServing('t1#Chennai', 0, serving(id, 1))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await repo.getGroup('t1#Chennai')).toMatchObject({
        epoch: 1,
        servingId: ids[results.indexOf(true)],
        version: 1,
      });
      expect(await repo.compareAndSetServing('t1#Chennai', 0, serving('dc2', 1))).toBe(false);
    });

    it('compareAndSetServing re-applies over a concurrent pin (epoch unchanged) and keeps the pin', async () => {
      const pin = { concentratorId: 'dc2', reason: 'maintenance', pinnedAt: 5 };
      let pinned = false;
      table.gate = async (op) => {
        if (op.kind === 'put' && !pinned) {
          pinned = true;
          await repo.setPin('t1#Chennai', pin, group);
        }
      };
      expect(await repo.compareAndSetServing('t1#Chennai', 0, serving('dc1', 1))).toBe(true);
      expect(await repo.getGroup('t1#Chennai')).toMatchObject({
        epoch: 1,
        servingId: 'dc1',
        pin,
        version: 2,
      });
    });

    it('stores the notice outbox in the same write as the epoch; clearOutbox only at that epoch', async () => {
      expect(await repo.compareAndSetServing('t1#Chennai', 0, serving('dc1', 1, [notice(1, 'dc1')]))).toBe(
        true,
      );
      const write = changes.at(-1);
      expect(write?.eventName).toBe('INSERT');
      expect(write?.newImage).toMatchObject({ epoch: 1, servingId: 'dc1', outbox: [notice(1, 'dc1')] });
      expect((await repo.getGroup('t1#Chennai'))?.outbox).toEqual([notice(1, 'dc1')]);

      // A setAlarms at the same epoch keeps the outbox; a newer serving change replaces it.
      expect(await repo.setAlarms('t1#Chennai', ['ALL_DOWN'], group, 1)).toBe(true);
      expect((await repo.getGroup('t1#Chennai'))?.outbox).toEqual([notice(1, 'dc1')]);
      const outbox2 = [notice(1, 'dc1'), notice(2, 'dc2')];
      expect(await repo.compareAndSetServing('t1#Chennai', 1, serving('dc2', 2, outbox2))).toBe(true);

      const before = changes.length;
      expect(await repo.clearOutbox('t1#Chennai', 1)).toBe(false); // epoch moved: nothing written
      expect(changes).toHaveLength(before);
      expect(await repo.clearOutbox('t1#Chennai', 2)).toBe(true);
      expect(changes.at(-1)?.oldImage).toMatchObject({ outbox: outbox2 });
      expect(changes.at(-1)?.newImage).not.toHaveProperty('outbox');
      expect(await repo.getGroup('t1#Chennai')).toMatchObject({ epoch: 2, servingId: 'dc2', alarms: [] });
      expect(await repo.clearOutbox('t1#Chennai', 2)).toBe(false); // no outbox
      expect(await repo.clearOutbox('t1#none', 0)).toBe(false); // no group
      expect(changes).toHaveLength(before + 1);

      // Without an outbox, a serving change keeps the stored one (none here).
      expect(await repo.compareAndSetServing('t1#Chennai', 2, serving('dc1', 3))).toBe(true);
      expect((await repo.getGroup('t1#Chennai'))?.outbox).toBeUndefined();
      await expect(repo.clearOutbox('t1#Chennai', -1)).rejects.toThrow(/epoch=-1/);
    });

    it('clearOutbox loses to a serving change that lands first', async () => {
      await repo.compareAndSetServing('t1#Chennai', 0, serving('dc1', 1, [notice(1, 'dc1')]));
      let raced = false;
      table.gate = async (op) => {
        if (op.kind === 'put' && !raced) {
          raced = true;
          await repo.compareAndSetServing(
            't1#Chennai',
            1,
            serving('dc2', 2, [notice(1, 'dc1'), notice(2, 'dc2')]),
          );
        }
      };
      expect(await repo.clearOutbox('t1#Chennai', 1)).toBe(false);
      expect((await repo.getGroup('t1#Chennai'))?.outbox).toHaveLength(2);
    });
  });

  describe('audit', () => {
    it('writeAuditOnce creates an audit item once per dedup id (key derived from it)', async () => {
      const event = { kind: 'FAILOVER', at: Date.parse('2026-03-01T10:00:00.123Z'), groupKey: 't1#Chennai' };
      expect(await repo.writeAuditOnce(event, 't1#Chennai#2')).toBe(true);
      expect(await repo.writeAuditOnce(event, 't1#Chennai#2')).toBe(false);
      expect(await repo.writeAuditOnce(event, 't1#Chennai#3')).toBe(true);
      const listed = await repo.listAuditEvents('2026-03-01');
      expect(listed.map((a) => [a.sk, a.id])).toEqual([
        ['2026-03-01T10:00:00.123Z#t1#Chennai#3', 't1#Chennai#3'],
        ['2026-03-01T10:00:00.123Z#t1#Chennai#2', 't1#Chennai#2'],
      ]);
      await repo.writeAudit(event);
      expect(await repo.listAuditEvents('2026-03-01')).toHaveLength(3);
      await expect(repo.writeAuditOnce(event, '')).rejects.toThrow(/dedupId/);
    });
  });

  describe('site roles (no transaction)', () => {
    const roleWrites = () =>
      changes
        .filter((c) => c.keys.pk === 'SITES')
        .map((c) => `${c.keys.sk}:${(c.newImage as { role?: string } | undefined)?.role ?? 'removed'}`);

    it('writes each site on its own, demotions first, so no reader ever sees both ACTIVE', async () => {
      expect(await repo.setSiteRoles({ DR: 'ACTIVE', DC: 'PASSIVE' })).toBe(true);
      expect(await repo.setSiteRoles({ DC: 'ACTIVE', DR: 'PASSIVE' })).toBe(true);
      expect(roleWrites()).toEqual(['DC:PASSIVE', 'DR:ACTIVE', 'DR:PASSIVE', 'DC:ACTIVE']);
      expect(await repo.setSiteRoles({ DC: 'ACTIVE' })).toBe(true); // already right: nothing written
      expect(roleWrites()).toHaveLength(4);
    });

    it('with expected versions, a race lost on the second site puts the first back and resolves false', async () => {
      let intruded = false;
      table.gate = async (op) => {
        if (op.kind === 'put' && op.key?.sk === 'DR' && !intruded) {
          intruded = true;
          await StateRepository.overTable(table, rt).setSiteRoles({ DR: 'PASSIVE' }, { reason: 'operator' });
        }
      };
      const ok = await repo.setSiteRoles(
        { DC: 'PASSIVE', DR: 'ACTIVE' },
        { expectedVersions: { DC: undefined, DR: undefined }, reason: 'switchover' },
      );
      expect(ok).toBe(false);
      expect(roleWrites()).toEqual(['DC:PASSIVE', 'DR:PASSIVE', 'DC:removed']);
      expect(await repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    });

    it('with expected versions, a stale version writes nothing', async () => {
      await repo.setSiteRoles({ DC: 'PASSIVE', DR: 'ACTIVE' });
      const before = changes.length;
      expect(
        await repo.setSiteRoles(
          { DC: 'ACTIVE', DR: 'PASSIVE' },
          { expectedVersions: { DC: 1, DR: undefined } },
        ),
      ).toBe(false);
      expect(changes).toHaveLength(before);
      expect(
        await repo.setSiteRoles({ DC: 'ACTIVE', DR: 'PASSIVE' }, { expectedVersions: { DC: 1, DR: 1 } }),
      ).toBe(true);
      expect(await repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    });
  });

  describe('director status', () => {
    it('writes only on change and keeps the last acknowledgement', async () => {
      expect(
        await repo.writeDirectorStatus({
          site: 'DC',
          reachable: true,
          since: 1,
          monitorBlind: true,
          monitorBlindLatched: true,
          monitorBlindReason: 'share',
        }),
      ).toBe(true);
      expect(await repo.writeDirectorStatus({ site: 'DC', reachable: true, since: 2 })).toBe(false);
      const ack = await repo.acknowledgeMonitorBlind({ at: 3, reason: 'checked', by: 'noc' });
      expect(ack.acknowledged).toBe(true);
      expect(
        await repo.writeDirectorStatus({ site: 'DC', reachable: false, since: 4, reason: 'HTTP 503' }),
      ).toBe(true);
      expect(await repo.loadDirectorStatus('DC')).toMatchObject({
        reachable: false,
        reason: 'HTTP 503',
        monitorBlind: false,
        acknowledged: { reason: 'checked', by: 'noc' },
      });
    });

    it('acknowledgeMonitorBlind writes each blind item on its own and re-applies over a concurrent health-check write', async () => {
      for (const site of ['DC', 'DR'] as const) {
        await repo.writeDirectorStatus({
          site,
          reachable: true,
          since: 1,
          monitorBlind: true,
          monitorBlindLatched: true,
          monitorBlindReason: 'share',
        });
      }
      let intruded = false;
      table.gate = async (op) => {
        if (op.kind === 'put' && op.key?.sk === 'DR' && !intruded) {
          intruded = true;
          await repo.writeDirectorStatus({
            site: 'DR',
            reachable: true,
            since: 2,
            monitorBlindLatched: false,
            monitorBlind: true,
          });
        }
      };
      const before = changes.length;
      const result = await repo.acknowledgeMonitorBlind({ at: 3, reason: 'checked' });
      expect(result.acknowledged).toBe(true);
      expect(
        result.directors.map((d: DirectorItem) => [d.site, d.monitorBlind, d.monitorBlindLatched]),
      ).toEqual([
        ['DC', false, false],
        ['DR', false, false],
      ]);
      // DC acknowledged once, the intruder's DR write, then DR acknowledged: three writes.
      expect(changes.slice(before).map((c) => c.keys.sk)).toEqual(['DC', 'DR', 'DR']);
      table.gate = undefined;
      expect(await repo.acknowledgeMonitorBlind({ at: 4, reason: 'again' })).toMatchObject({
        acknowledged: false,
      });
    });
  });

  it('the DR lock and branch outcomes work over the port', async () => {
    expect(await repo.acquireLock('exec-A', 60)).toMatchObject({ acquired: true, lock: { owner: 'exec-A' } });
    expect(await repo.acquireLock('exec-B', 60)).toMatchObject({
      acquired: false,
      holder: { owner: 'exec-A' },
    });
    expect(await repo.releaseLock('exec-B')).toBe(false);
    expect(await repo.releaseLock('exec-A')).toBe(true);
    await repo.putBranchOutcomes(
      Array.from({ length: 30 }, (_, i) => ({
        groupKey: 't1#Chennai',
        branchId: `br${String(i).padStart(2, '0')}`,
        targetId: 'dc2',
        epoch: 2,
        at: 1,
        result: 'ok' as const,
        changed: true,
      })),
    );
    expect(await repo.listBranchOutcomes('t1#Chennai')).toHaveLength(30);
    expect(await table.get(keys.branch('t1#Chennai', 'br00'))).toMatchObject({
      type: 'branch',
      updatedAt: rt.t,
    });
  });

  it('each part runs on its own over an ItemStore (the facade composes the same parts)', async () => {
    const store = new ItemStore(table, rt);
    const groups = new GroupRepository(store);
    const audit = new AuditRepository(store, { auditTtlDays: 1 });
    expect(await groups.compareAndSetServing('t1#Chennai', 0, serving('dc1', 1, [notice(1, 'dc1')]))).toBe(
      true,
    );
    expect((await repo.groups.getGroup('t1#Chennai'))?.outbox).toHaveLength(1);
    expect(await audit.writeAuditOnce({ kind: 'FAILOVER', at: 0 }, 'g#1')).toBe(true);
    expect(await repo.listAuditEvents('1970-01-01')).toMatchObject([{ id: 'g#1', expiresAt: 86_400 }]);
    expect(() => new AuditRepository(store, { auditTtlDays: 0 })).toThrow(/auditTtlDays=0/);
  });

  it('a condition failure surfaces as ConditionFailedError from the table, never from the repository', async () => {
    await repo.writeAudit({ kind: 'X', at: 1 });
    await expect(table.put({ pk: 'GROUPS', sk: 'g' }, { kind: 'version', equals: 1 })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await repo.setAlarms('g', [], group, 1)).toBe(false);
  });
});
