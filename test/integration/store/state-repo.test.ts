import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, ValidationError } from '../../../shared/errors.js';
import {
  StateRepository,
  type BranchOutcome,
  type GroupItem,
  type VersionedItem,
} from '../../../shared/store/state-repo.js';
import { keys } from '../../../shared/store/table.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';
import { dc1HealthWrite } from '../../helpers/store-fixtures.js';

interface Counter extends VersionedItem {
  type: 'group';
  count: number;
  appliedBy: string[];
}

/** A DocumentClient whose first PutCommand runs `before` first (or is sent twice, see below). */
function interceptFirstPut(
  doc: DynamoDBDocumentClient,
  mode: { before: () => Promise<unknown> } | { duplicate: true },
): DynamoDBDocumentClient {
  let done = false;
  return {
    send: async (command: unknown) => {
      if (!done && command instanceof PutCommand) {
        done = true;
        if ('before' in mode) await mode.before();
        else {
          // The write lands, its answer is "lost", and the resend (as an SDK retry would) fails.
          await doc.send(command);
        }
      }
      return doc.send(command as PutCommand);
    },
  } as unknown as DynamoDBDocumentClient;
}

const increment =
  (by: string) =>
  (current: Counter | undefined): Omit<Counter, 'pk' | 'sk' | 'version' | 'updatedAt' | 'writeId'> => ({
    type: 'group',
    count: (current?.count ?? 0) + 1,
    appliedBy: [...(current?.appliedBy ?? []), by],
  });

describe('StateRepository (DynamoDB Local)', () => {
  let table: TestTable;
  let now: number;
  let repo: StateRepository;
  const clock = (): number => now;

  beforeAll(async () => {
    table = await createTestTable('repo');
  });
  afterAll(async () => {
    await table.drop();
  });
  beforeEach(() => {
    now = Date.parse('2026-03-01T10:00:00Z');
    repo = new StateRepository(table.doc, table.tableName, clock);
  });

  describe('update', () => {
    it('creates, then writes conditionally on the version, and skips when the function returns undefined', async () => {
      const key = { pk: 'T#update', sk: 'a' };
      const first = await repo.update<Counter>(key, increment('one'));
      expect(first).toMatchObject({ changed: true, item: { count: 1, version: 1 } });
      const second = await repo.update<Counter>(key, increment('two'));
      expect(second.item).toMatchObject({ count: 2, version: 2, appliedBy: ['one', 'two'] });
      const none = await repo.update<Counter>(key, () => undefined);
      expect(none).toMatchObject({ changed: false, item: { version: 2 } });
      const stored = await repo.get<Counter>(key);
      expect(stored).toMatchObject({ count: 2, version: 2 });
    });

    it('re-reads and re-applies when another writer wins: both updates applied exactly once', async () => {
      const key = { pk: 'T#race', sk: 'a' };
      await repo.update<Counter>(key, increment('seed'));
      const other = new StateRepository(table.doc, table.tableName, clock);
      const racing = new StateRepository(
        interceptFirstPut(table.doc, { before: () => other.update<Counter>(key, increment('B')) }),
        table.tableName,
        clock,
      );
      const a = await racing.update<Counter>(key, increment('A'));
      expect(a.attempts).toBe(2);
      const stored = await repo.get<Counter>(key);
      expect(stored?.count).toBe(3);
      expect([...(stored?.appliedBy ?? [])].sort()).toEqual(['A', 'B', 'seed']);
      expect(stored?.version).toBe(3);
    });

    it('applies many concurrent updates on one item each exactly once', async () => {
      const key = { pk: 'T#many', sk: 'a' };
      const writers = Array.from({ length: 8 }, (_, i) => `w${i}`);
      await Promise.all(
        writers.map((w) =>
          new StateRepository(table.doc, table.tableName, clock, { maxAttempts: 20 }).update<Counter>(
            key,
            increment(w),
          ),
        ),
      );
      const stored = await repo.get<Counter>(key);
      expect(stored?.count).toBe(8);
      expect([...(stored?.appliedBy ?? [])].sort()).toEqual(writers);
    });

    it('does not apply twice when its write landed but the answer was lost', async () => {
      const key = { pk: 'T#lost', sk: 'a' };
      await repo.update<Counter>(key, increment('seed'));
      const flaky = new StateRepository(
        interceptFirstPut(table.doc, { duplicate: true }),
        table.tableName,
        clock,
      );
      const result = await flaky.update<Counter>(key, increment('once'));
      expect(result.changed).toBe(true);
      expect((await repo.get<Counter>(key))?.appliedBy).toEqual(['seed', 'once']);
    });

    it('gives up with ConcurrentUpdateError when every attempt conflicts', async () => {
      const key = { pk: 'T#giveup', sk: 'a' };
      await repo.update<Counter>(key, increment('seed'));
      const other = new StateRepository(table.doc, table.tableName, clock);
      let calls = 0;
      const hostile = {
        send: async (command: unknown) => {
          if (command instanceof PutCommand) {
            calls++;
            await other.update<Counter>(key, increment(`intruder${calls}`));
          }
          return table.doc.send(command as PutCommand);
        },
      } as unknown as DynamoDBDocumentClient;
      const loser = new StateRepository(hostile, table.tableName, clock, { maxAttempts: 3 });
      await expect(loser.update<Counter>(key, increment('loser'))).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      const stored = await repo.get<Counter>(key);
      expect(stored?.appliedBy).not.toContain('loser');
      expect(stored?.count).toBe(4);
    });
  });

  describe('groups', () => {
    const group = { tenantId: 't1', haName: 'Chennai' };
    const serving = (servingId: string, epoch: number) => ({
      ...group,
      servingId,
      epoch,
      reason: `elect ${servingId}`,
      alarms: [],
      changedAt: now,
    });

    it('compareAndSetServing: of racing writers on one epoch exactly one wins', async () => {
      const groupKey = 't1#race';
      const results = await Promise.all(
        ['dc1', 'dc2', 'dr1', 'dr2'].map((id) => repo.compareAndSetServing(groupKey, 0, serving(id, 1))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await repo.getGroup(groupKey);
      const winner = ['dc1', 'dc2', 'dr1', 'dr2'][results.indexOf(true)];
      expect(stored).toMatchObject({ type: 'group', groupKey, epoch: 1, servingId: winner, alarms: [] });
      // A writer still on the old epoch loses; one on the current epoch wins.
      expect(await repo.compareAndSetServing(groupKey, 0, serving('dc2', 1))).toBe(false);
      expect(await repo.compareAndSetServing(groupKey, 1, serving('dc2', 2))).toBe(true);
      expect(await repo.getGroup(groupKey)).toMatchObject({ epoch: 2, servingId: 'dc2' });
    });

    it('rejects a next epoch that does not increase, changing nothing', async () => {
      const groupKey = 't1#bad-epoch';
      await expect(repo.compareAndSetServing(groupKey, 3, serving('dc1', 3))).rejects.toThrow(
        ValidationError,
      );
      await expect(repo.compareAndSetServing(groupKey, 3, serving('dc1', 3))).rejects.toThrow(
        /next\.epoch=3/,
      );
      expect(await repo.getGroup(groupKey)).toBeUndefined();
    });

    it('setAlarms writes only at the epoch the caller read: an older decision never lands on a newer record', async () => {
      const groupKey = 't1#alarm-epoch';
      // A reconcile reads epoch 1 (serving dc1) and decides ALL_DOWN; meanwhile another run wins epoch 2.
      expect(await repo.compareAndSetServing(groupKey, 0, serving('dc1', 1))).toBe(true);
      expect(await repo.compareAndSetServing(groupKey, 1, serving('dc2', 2))).toBe(true);
      const before = await repo.getGroup(groupKey);
      expect(await repo.setAlarms(groupKey, ['ALL_DOWN'], group, 1)).toBe(false);
      expect(await repo.getGroup(groupKey)).toEqual(before); // nothing written, not even the version
      expect(await repo.setAlarms(groupKey, ['ALL_DOWN'], group, 2)).toBe(true);
      expect(await repo.getGroup(groupKey)).toMatchObject({
        epoch: 2,
        servingId: 'dc2',
        alarms: ['ALL_DOWN'],
      });
      // A group never written is at epoch 0.
      expect(await repo.setAlarms('t1#alarm-new', ['MONITOR_BLIND'], group, 1)).toBe(false);
      expect(await repo.getGroup('t1#alarm-new')).toBeUndefined();
      expect(await repo.setAlarms('t1#alarm-new', ['MONITOR_BLIND'], group, 0)).toBe(true);
      expect(await repo.getGroup('t1#alarm-new')).toMatchObject({ epoch: 0, alarms: ['MONITOR_BLIND'] });
      await expect(repo.setAlarms(groupKey, [], group, -1)).rejects.toThrow(/expectedEpoch=-1/);
    });

    it('keeps pin and alarms separate from serving; lists every group', async () => {
      const groupKey = 't1#pin';
      const pin = { concentratorId: 'dc2', reason: 'maintenance', pinnedAt: now };
      const created = await repo.setPin(groupKey, pin, group);
      expect(created).toMatchObject({ epoch: 0, alarms: [], pin, version: 1 });
      expect(await repo.compareAndSetServing(groupKey, 0, serving('dc2', 1))).toBe(true);
      expect(await repo.setAlarms(groupKey, ['ALL_DOWN', 'ALL_DOWN'], group, 1)).toBe(true);
      let stored = await repo.getGroup(groupKey);
      expect(stored).toMatchObject({ pin, servingId: 'dc2', epoch: 1, alarms: ['ALL_DOWN'], version: 3 });
      await repo.setPin(groupKey, undefined, group);
      stored = await repo.getGroup(groupKey);
      expect(stored?.pin).toBeUndefined();
      expect(stored?.alarms).toEqual(['ALL_DOWN']);
      const listed = await repo.listGroups();
      expect(listed.map((g: GroupItem) => g.groupKey)).toEqual(expect.arrayContaining([groupKey, 't1#race']));
    });
  });

  describe('health', () => {
    it('saveHealth writes only when the state differs and keeps the last transition', async () => {
      const transition = {
        target: 'dc1',
        from: 'UNKNOWN' as const,
        to: 'UP' as const,
        at: 1000,
        reason: 'clean',
      };
      const first = await repo.saveHealth(dc1HealthWrite({ transition }));
      expect(first.changed).toBe(true);
      expect(first.item).toMatchObject({
        type: 'cpe-health',
        health: 'UP',
        version: 1,
        lastTransition: { from: 'UNKNOWN', to: 'UP', reason: 'clean', at: 1000 },
      });
      expect((await repo.saveHealth(dc1HealthWrite({ transition }))).changed).toBe(false);
      expect((await repo.saveHealth(dc1HealthWrite())).changed).toBe(false);
      const progress = await repo.saveHealth(
        dc1HealthWrite({ state: { health: 'UP', badStreak: 1, cleanSince: null, since: 1000 } }),
      );
      expect(progress.item).toMatchObject({ badStreak: 1, version: 2, lastTransition: { to: 'UP' } });
    });

    it('writeHealth is conditional on the expected version and returns the current item on a lost race', async () => {
      const groupKey = 't1#Cond';
      const down = { health: 'DOWN' as const, badStreak: 0, cleanSince: null, since: 2000 };
      expect(await repo.writeHealth(dc1HealthWrite({ groupKey }), undefined)).toEqual({
        ok: true,
        version: 1,
      });
      const lost = await repo.writeHealth(dc1HealthWrite({ groupKey, state: down }), undefined);
      expect(lost).toEqual({
        ok: false,
        current: { version: 1, state: { health: 'UP', badStreak: 0, cleanSince: null, since: 1000 } },
      });
      const transition = {
        target: 'dc1',
        from: 'UP' as const,
        to: 'DOWN' as const,
        at: 2000,
        reason: '3 bad',
      };
      expect(await repo.writeHealth(dc1HealthWrite({ groupKey, state: down, transition }), 1)).toEqual({
        ok: true,
        version: 2,
      });
      // A progress-only write keeps the transition for the stream consumer.
      await repo.writeHealth(dc1HealthWrite({ groupKey, state: { ...down, cleanSince: 2500 } }), 2);
      await repo.writeHealth(
        dc1HealthWrite({ groupKey, targetId: 'dc2', name: 'HA_DC2', slot: 'DC/PASSIVE' }),
        undefined,
      );
      const items = await repo.listHealth(groupKey);
      expect(items.map((i) => [i.targetId, i.health, i.version, i.lastTransition?.to])).toEqual([
        ['dc1', 'DOWN', 3, 'DOWN'],
        ['dc2', 'UP', 1, undefined],
      ]);
      const loaded = await repo.loadHealth([groupKey, 'no#such-group']);
      expect(loaded.get('dc1')).toEqual({
        version: 3,
        state: { health: 'DOWN', badStreak: 0, cleanSince: 2500, since: 2000 },
      });
      expect([...loaded.keys()].sort()).toEqual(['dc1', 'dc2']);
    });
  });

  it('site roles: defaults, transactional set, conditional on version', async () => {
    expect(await repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(
      await repo.setSiteRoles({ DC: 'PASSIVE', DR: 'ACTIVE' }, { reason: 'switchover', by: 'exec-1' }),
    ).toBe(true);
    const items = await repo.getSiteItems();
    expect(items.DC).toMatchObject({ type: 'site', role: 'PASSIVE', version: 1, reason: 'switchover' });
    expect(await repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    // A stale expected version changes neither site.
    expect(
      await repo.setSiteRoles(
        { DC: 'ACTIVE', DR: 'PASSIVE' },
        { expectedVersions: { DC: 1, DR: undefined } },
      ),
    ).toBe(false);
    expect(await repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(
      await repo.setSiteRoles({ DC: 'ACTIVE', DR: 'PASSIVE' }, { expectedVersions: { DC: 1, DR: 1 } }),
    ).toBe(true);
    // Already right: nothing written (no version change, so no stream record).
    expect(await repo.setSiteRoles({ DC: 'ACTIVE' })).toBe(true);
    expect((await repo.getSiteItems()).DC?.version).toBe(2);
    await expect(repo.setSiteRoles({ DC: 'STANDBY' as never })).rejects.toThrow(/roles\.DC="STANDBY"/);
  });

  it('director status is written only on change', async () => {
    expect(await repo.writeDirectorStatus({ site: 'DC', reachable: true, since: 1 })).toBe(true);
    expect(await repo.writeDirectorStatus({ site: 'DC', reachable: true, since: 2 })).toBe(false);
    expect(
      await repo.writeDirectorStatus({ site: 'DC', reachable: false, since: 3, reason: 'HTTP 503' }),
    ).toBe(true);
    expect(await repo.loadDirectorStatus('DC')).toMatchObject({
      reachable: false,
      since: 3,
      reason: 'HTTP 503',
    });
    expect(await repo.writeDirectorStatus({ site: 'DC', reachable: true, since: 4 })).toBe(true);
    const states = await repo.listDirectorStates();
    expect(states).toEqual([expect.objectContaining({ site: 'DC', reachable: true, at: 4, version: 3 })]);
    expect(states[0]?.reason).toBeUndefined();
  });

  it('branch outcomes are batch-written (more than one batch) and listed per group', async () => {
    const outcomes: BranchOutcome[] = Array.from({ length: 30 }, (_, i) => ({
      groupKey: 't1#Batch',
      branchId: `br${String(i).padStart(2, '0')}`,
      targetId: 'dc2',
      epoch: 4,
      at: now,
      result: i === 7 ? 'failed' : 'ok',
      changed: true,
      ...(i === 7 ? { error: 'HTTP 500' } : {}),
    }));
    // An older outcome of br00 in the same call is superseded by the newer epoch.
    await repo.putBranchOutcomes([{ ...outcomes[0]!, epoch: 3, targetId: 'dc1' }, ...outcomes]);
    const listed = await repo.listBranchOutcomes('t1#Batch');
    expect(listed).toHaveLength(30);
    expect(listed[0]).toMatchObject({ type: 'branch', branchId: 'br00', targetId: 'dc2', epoch: 4 });
    expect(listed[7]).toMatchObject({ result: 'failed', error: 'HTTP 500' });
  });

  it('audit events carry the TTL attribute (epoch seconds) and are listed per day', async () => {
    const days = new StateRepository(table.doc, table.tableName, clock, { auditTtlDays: 7 });
    const at = Date.parse('2026-03-01T10:00:00.123Z');
    const item = await days.writeAudit({
      kind: 'FAILOVER',
      at,
      groupKey: 't1#Chennai',
      reason: 'dc1 DOWN',
      epoch: 2,
    });
    const raw = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: item.pk, sk: item.sk } }),
    );
    expect(raw.Item).toMatchObject({
      type: 'audit',
      kind: 'FAILOVER',
      pk: 'AUDIT#2026-03-01',
      expiresAt: Math.floor(at / 1000) + 7 * 86400,
      detail: { epoch: 2, reason: 'dc1 DOWN' },
    });
    expect(Number.isInteger(raw.Item?.expiresAt)).toBe(true);
    await days.writeAudit({ kind: 'FAILBACK', at: at + 1000 });
    const listed = await days.listAuditEvents('2026-03-01');
    expect(listed.map((e) => e.kind)).toEqual(['FAILBACK', 'FAILOVER']);
  });

  it('the DR lock is exclusive, renewable by its owner, released only by its owner, and expires', async () => {
    const a = await repo.acquireLock('exec-A', 60);
    expect(a).toMatchObject({
      acquired: true,
      lock: { owner: 'exec-A', expiresAt: Math.floor(now / 1000) + 60 },
    });
    const b = await repo.acquireLock('exec-B', 60);
    expect(b).toMatchObject({ acquired: false, holder: { owner: 'exec-A' } });
    expect((await repo.acquireLock('exec-A', 120)).acquired).toBe(true);
    expect(await repo.releaseLock('exec-B')).toBe(false);
    expect(await repo.getLock()).toMatchObject({ owner: 'exec-A' });
    expect(await repo.releaseLock('exec-A')).toBe(true);
    expect(await repo.getLock()).toBeUndefined();
    expect((await repo.acquireLock('exec-B', 30)).acquired).toBe(true);
    now += 29_000;
    expect((await repo.acquireLock('exec-C', 30)).acquired).toBe(false);
    now += 2_000;
    expect(await repo.acquireLock('exec-C', 30)).toMatchObject({ acquired: true, lock: { owner: 'exec-C' } });
    await expect(repo.acquireLock('', 30)).rejects.toThrow(/owner="": expected a non-empty string/);
    await repo.releaseLock('exec-C');
  });

  it('backup records: newest first, cleanup pending marked only on existing records', async () => {
    const base = { site: 'DC' as const, jobId: 'j', objects: [{ key: 'k', bytes: 1, sha256: 'x' }] };
    await repo.recordBackup({ ...base, at: '2026-03-01T12:00:00.000Z', backupId: 'b1' });
    await repo.recordBackup({ ...base, at: '2026-03-02T12:00:00.000Z', backupId: 'b2' });
    await repo.recordBackup({ ...base, site: 'DR', at: '2026-03-03T12:00:00.000Z', backupId: 'b3' });
    const newest = await repo.listBackups<typeof base & { at: string; backupId: string }>('DC', 1);
    expect(newest.map((b) => b.backupId)).toEqual(['b2']);
    expect(newest[0]?.objects).toEqual(base.objects);
    expect(await repo.markCleanupPending('DC', '2026-03-01T12:00:00.000Z')).toBe(true);
    expect(await repo.markCleanupPending('DC', '2026-01-01T00:00:00.000Z')).toBe(false);
    // Re-recording keeps the mark.
    await repo.recordBackup({ ...base, at: '2026-03-01T12:00:00.000Z', backupId: 'b1' });
    const all = await repo.listBackups('DC');
    expect(all.map((b) => [b.at.slice(0, 10), b.cleanupPending])).toEqual([
      ['2026-03-02', undefined],
      ['2026-03-01', true],
    ]);
    expect(await repo.get(keys.backup('DC', '2026-01-01T00:00:00.000Z'))).toBeUndefined();
    await expect(repo.recordBackup({ site: 'XX' as never, at: 'now' })).rejects.toThrow(ValidationError);
  });

  it('write claims: one item per write, listed per organization by branch while live, gone once released, ignored once past', async () => {
    const a = await repo.claims.claim('org-claims', [{ branchId: 'N_1', epoch: 3 }], 15_000);
    const b = await repo.claims.claim(
      'org-claims',
      [
        { branchId: 'N_1', epoch: 4 },
        { branchId: 'N_3', epoch: 2 },
      ],
      30_000,
    );
    await repo.claims.claim('org-claims', [{ branchId: 'N_2', epoch: 1 }], 1_000);
    await repo.claims.claim('org-other', [{ branchId: 'N_1', epoch: 9 }], 15_000);
    const live = await repo.claims.live('org-claims');
    expect(live.map((c) => [c.branchId, c.epoch, c.until - now]).sort()).toEqual([
      ['N_1', 3, 15_000],
      ['N_1', 4, 30_000],
      ['N_2', 1, 1_000],
      ['N_3', 2, 30_000],
    ]);
    // Two writers of one network never overwrite each other's claim; one batch is one claim.
    expect(new Set(live.map((c) => c.writer)).size).toBe(3);
    const writer = live.find((c) => c.epoch === 3)!.writer;
    const stored = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.claim('org-claims', writer) }),
    );
    expect(stored.Item).toMatchObject({
      type: 'write-claim',
      expiresAt: Math.ceil((now + 15_000) / 1000) + 3600,
    });
    await a.release();
    now += 2_000; // N_2's claim is past its `until`
    expect((await repo.claims.live('org-claims')).map((c) => [c.branchId, c.epoch]).sort()).toEqual([
      ['N_1', 4],
      ['N_3', 2],
    ]);
    await b.release();
    await b.release(); // releasing twice changes nothing
    expect(await repo.claims.live('org-claims')).toEqual([]);
    await expect(repo.claims.claim('org-claims', [{ branchId: 'N_1', epoch: 1 }], 0)).rejects.toThrow(
      ValidationError,
    );
    await expect(repo.claims.claim('org-claims', [], 10)).rejects.toThrow(/branches/);
    await expect(repo.claims.claim('', [{ branchId: 'N_1', epoch: 1 }], 10)).rejects.toThrow(/tenantId/);
  });
});
