import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import {
  acknowledgeMonitorBlind,
  groupStatus,
  pinGroup,
  unpinGroup,
  updateBranches,
} from '../../../shared/failover/console.js';
import {
  ackMonitorBlindEventSchema,
  parseEvent,
  pinEventSchema,
  statusEventSchema,
  unpinEventSchema,
  updateBranchesEventSchema,
} from '../../../shared/failover/console-events.js';
import { reconcileGroup } from '../../../shared/failover/service.js';
import { harness, kinds, KEY } from './harness.js';

const pin = (e: Record<string, unknown>) =>
  parseEvent(pinEventSchema, { tenantId: 't1', haName: 'Chennai', reason: 'maintenance', ...e }, 'pin event');

describe('console events', () => {
  it.each([
    ['update-branches', updateBranchesEventSchema],
    ['pin', pinEventSchema],
    ['unpin', unpinEventSchema],
    ['status', statusEventSchema],
    ['ack-monitor-blind', ackMonitorBlindEventSchema],
  ])('every sample event of %s is valid', (name, schema) => {
    const dir = join(process.cwd(), 'functions', name, 'events');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(() => parseEvent(schema, JSON.parse(readFileSync(join(dir, f), 'utf8')), f)).not.toThrow();
    }
  });

  it('names the bad field and its value', () => {
    expect(() => parseEvent(updateBranchesEventSchema, { tenantId: 't1', dryRun: 'yes' }, 'event')).toThrow(
      /dryRun="yes"/,
    );
    expect(() => parseEvent(pinEventSchema, { tenantId: 't1', haname: 'x' }, 'pin event')).toThrow(
      /haname="x"/,
    );
    expect(() => parseEvent(unpinEventSchema, undefined, 'unpin event')).toThrow(/tenantId=undefined/);
  });
});

describe('console operations', () => {
  it('update-branches dry run returns the plan and changes nothing; the real run re-points', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN');
    const dry = await updateBranches(h.deps, { tenantId: 't1', dryRun: true });
    expect(dry.groups[0]).toMatchObject({ servingId: 'DC2', plan: [{ to: 'DC2' }, { to: 'DC2' }] });
    expect(h.director.calls.repoint).toBe(0);
    expect((await h.store.getGroup(KEY))?.servingId).toBe('DC1');
    const real = await updateBranches(h.deps, { tenantId: 't1', haName: 'Chennai', dryRun: false });
    expect(real.groups[0]?.result).toMatchObject({ repointed: 2, failed: 0 });
  });

  it('update-branches names an unknown group', async () => {
    const h = harness();
    await expect(updateBranches(h.deps, { tenantId: 't1', haName: 'Nowhere', dryRun: true })).rejects.toThrow(
      NotFoundError,
    );
  });

  it('pin refuses a DOWN concentrator without force and changes nothing', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC2', 'DOWN', 5_000);
    await expect(pinGroup(h.deps, pin({ concentratorId: 'DC2' }))).rejects.toThrow(ValidationError);
    await expect(pinGroup(h.deps, pin({ concentratorId: 'DC2' }))).rejects.toThrow(
      /concentratorId="DC2".*DOWN/,
    );
    await expect(pinGroup(h.deps, pin({ concentratorId: 'XX' }))).rejects.toThrow(/concentratorId="XX"/);
    expect((await h.store.getGroup(KEY))?.pin).toBeUndefined();
    expect(h.director.calls.repoint).toBe(0);
  });

  it('pin moves the group (force onto DOWN allowed), election honours it, unpin hands it back', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC2', 'DOWN');
    const pinned = await pinGroup(h.deps, pin({ concentratorId: 'DC2', force: true, by: 'noc' }));
    expect(pinned).toMatchObject({ servingId: 'DC2', epoch: 2, pin: { concentratorId: 'DC2', by: 'noc' } });
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2']);
    expect(kinds(h)).toContain('PIN');
    const unpinned = await unpinGroup(h.deps, { tenantId: 't1', haName: 'Chennai' });
    expect(unpinned).toMatchObject({ servingId: 'DC1', epoch: 3 });
    expect(kinds(h)).toContain('UNPIN');
    expect((await h.store.getGroup(KEY))?.pin).toBeUndefined();
  });

  it('a forced pin is honoured before the first health verdicts (every candidate UNKNOWN)', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    for (const id of ['DC1', 'DC2', 'DR1']) h.store.setHealth(KEY, id, 'UNKNOWN');
    expect(await reconcileGroup(h.deps, KEY)).toMatchObject({ held: true, epoch: 0 });
    const pinned = await pinGroup(h.deps, pin({ concentratorId: 'DC2', force: true }));
    expect(pinned).toMatchObject({ servingId: 'DC2', epoch: 1, held: false });
    expect([...h.director.branchTargets().values()]).toEqual(['DC2', 'DC2']);
  });

  it('an expired pin no longer holds the group', async () => {
    const h = harness({ branches: 1, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    await pinGroup(h.deps, pin({ concentratorId: 'DC2', expiresAt: h.clock.now + 1000 }));
    h.clock.now += 2000;
    const r = await reconcileGroup(h.deps, KEY);
    expect(r.servingId).toBe('DC1');
    const status = await groupStatus(h.deps, {});
    expect(status.groups[0]?.pin?.expired).toBe(true);
    // Times as ISO dates, not epoch milliseconds.
    expect(status.groups[0]?.pin).toMatchObject({
      pinnedAt: new Date(h.clock.now - 2000).toISOString(),
      expiresAt: new Date(h.clock.now - 1000).toISOString(),
    });
  });

  it('status shows serving, epoch, candidates with health and since, drifted branches and alarms', async () => {
    const h = harness({ branches: 3, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    h.store.setHealth(KEY, 'DC1', 'DOWN', Date.UTC(2026, 10, 21, 10));
    h.director.failRepoints.add('Chennai-br3');
    await reconcileGroup(h.deps, KEY);
    const { groups } = await groupStatus(h.deps, { tenantId: 't1' });
    expect(groups).toHaveLength(1);
    const g = groups[0]!;
    expect(g).toMatchObject({ groupKey: KEY, servingId: 'DC2', epoch: 2, branches: 3, alarms: [] });
    expect(g.candidates).toContainEqual({
      id: 'DC1',
      name: 'DC1',
      slot: 'DC/ACTIVE',
      health: 'DOWN',
      since: '2026-11-21T10:00:00.000Z',
    });
    expect(g.drifted).toEqual([
      {
        branchId: 'Chennai-br3',
        currentTarget: 'DC1',
        lastOutcome: expect.objectContaining({ result: 'failed' }),
      },
    ]);
  });
});

describe('ack-monitor-blind', () => {
  const ack = (e: Record<string, unknown>) =>
    parseEvent(ackMonitorBlindEventSchema, e, 'ack-monitor-blind event');

  it('needs a reason, and names an unknown field', () => {
    expect(() => ack({})).toThrow(/reason=undefined/);
    expect(() => ack({ reason: '  ' })).toThrow(/reason/);
    expect(() => ack({ reason: 'ok', force: true })).toThrow(/force=true/);
  });

  it('clears the latch, notifies each held group, and election acts on the next reconcile', async () => {
    const h = harness();
    await reconcileGroup(h.deps, KEY); // DC1 elected
    h.store.directors = [
      { site: 'DC', reachable: true, monitorBlind: true, monitorBlindLatched: true },
      { site: 'DR', reachable: true, monitorBlind: true, monitorBlindLatched: true },
    ];
    h.store.setHealth(KEY, 'DC1', 'DOWN', 2);
    const repointsBefore = h.director.calls.repoint;
    await reconcileGroup(h.deps, KEY);
    expect((await h.store.getGroup(KEY))?.alarms).toEqual(['MONITOR_BLIND']);
    expect(h.director.calls.repoint).toBe(repointsBefore);
    expect((await groupStatus(h.deps, {})).monitor).toMatchObject({
      blind: true,
      howToClear: expect.stringMatching(/ack-monitor-blind/),
    });

    const out = await acknowledgeMonitorBlind(h.deps, ack({ reason: 'DC1 really is down', by: 'noc' }));
    expect(out).toMatchObject({ acknowledged: true, stillBlind: false, heldGroups: [KEY] });
    expect(h.store.directors.every((d) => !d.monitorBlind && !d.monitorBlindLatched)).toBe(true);
    expect(h.store.directors[0]?.acknowledged).toEqual({
      at: h.clock.now,
      reason: 'DC1 really is down',
      by: 'noc',
    });
    const notices = h.published.notices.filter((n) => n.kind === 'MONITOR_BLIND_ACK');
    expect(notices).toEqual([expect.objectContaining({ groupKey: KEY, by: 'noc', from: 'DC1' })]);
    expect(h.audited.map((n) => n.kind)).toContain('MONITOR_BLIND_ACK');

    const r = await reconcileGroup(h.deps, KEY);
    expect(r).toMatchObject({ servingId: 'DC2', changed: true, alarms: [] });
    expect((await groupStatus(h.deps, {})).monitor).toMatchObject({ blind: false });
  });

  it('status says which blindness case holds, the frozen sites, since when, and DIRECTOR_LOST', async () => {
    const h = harness();
    await reconcileGroup(h.deps, KEY);
    const since = Date.UTC(2026, 11, 1, 10, 0, 0);
    h.store.directors = [
      { site: 'DC', reachable: false, at: since, lostAt: since + 300_000 },
      { site: 'DR', reachable: true },
    ];
    const { monitor } = await groupStatus(h.deps, {});
    expect(monitor).toMatchObject({
      blind: false,
      case: 'active-director-unreachable',
      frozenSites: ['DC'],
      howToClear: 'clears when the director answers again',
      directors: [
        {
          site: 'DC',
          reachable: false,
          unreachableSince: '2026-12-01T10:00:00.000Z',
          directorLostAt: '2026-12-01T10:05:00.000Z',
        },
        { site: 'DR', reachable: true },
      ],
    });
    expect(monitor.explanation).toMatch(
      /the ACTIVE site's director \(DC\) is unreachable since 2026-12-01T10:00:00.000Z/,
    );
    h.store.siteRoles = { DC: 'PASSIVE', DR: 'ACTIVE' };
    expect((await groupStatus(h.deps, {})).monitor).toMatchObject({
      case: 'passive-director-unreachable',
      frozenSites: [],
    });
  });

  it('with no group held, sends one notice for the whole controller', async () => {
    const h = harness();
    h.store.directors = [{ site: 'DC', reachable: true, monitorBlind: true, monitorBlindLatched: true }];
    await acknowledgeMonitorBlind(h.deps, ack({ reason: 'checked' }));
    expect(h.published.notices).toEqual([
      expect.objectContaining({ kind: 'MONITOR_BLIND_ACK', groupKey: '*' }),
    ]);
  });

  it('not blind: changes and notifies nothing', async () => {
    const h = harness();
    h.store.directors = [{ site: 'DC', reachable: true, monitorBlind: false }];
    const out = await acknowledgeMonitorBlind(h.deps, ack({ reason: 'checked' }));
    expect(out).toMatchObject({ acknowledged: false, stillBlind: false });
    expect(out.message).toMatch(/not blind/);
    expect(h.published.notices).toEqual([]);
  });

  it('an unreachable director does not keep the monitor blind: it freezes its own site only', async () => {
    const h = harness();
    h.store.directors = [
      { site: 'DC', reachable: false, monitorBlind: true, monitorBlindLatched: true },
      { site: 'DR', reachable: true, monitorBlind: true, monitorBlindLatched: true },
    ];
    const out = await acknowledgeMonitorBlind(h.deps, ack({ reason: 'checked' }));
    expect(out).toMatchObject({ acknowledged: true, stillBlind: false });
    expect(h.store.directors.map((d) => [d.monitorBlind, d.monitorBlindLatched])).toEqual([
      [false, false],
      [false, false],
    ]);
  });

  it('no director answering keeps the monitor blind after an acknowledgement', async () => {
    const h = harness();
    h.store.directors = [
      { site: 'DC', reachable: false, monitorBlind: true, monitorBlindLatched: true },
      { site: 'DR', reachable: false },
    ];
    const out = await acknowledgeMonitorBlind(h.deps, ack({ reason: 'checked' }));
    expect(out).toMatchObject({ acknowledged: true, stillBlind: true });
    expect(out.message).toMatch(/director DC, DR unreachable/);
  });
});

describe('bounded input and tenants as the blast radius', () => {
  it('a 300 KB pin reason, a reason with CR/LF and a tenant id ".." are refused, naming the field', () => {
    expect(() => pin({ reason: 'x'.repeat(300_000) })).toThrow(/reason=.*at most 500 characters/);
    expect(() => pin({ reason: 'ok\r\nBcc: x@example.net' })).toThrow(/reason=/);
    expect(() => pin({ by: 'a\nb' })).toThrow(/by=/);
    expect(() => parseEvent(statusEventSchema, { tenantId: '..' }, 'status event')).toThrow(
      /tenantId="\.\."/,
    );
    expect(() => parseEvent(unpinEventSchema, { tenantId: 't1', haName: 'x#G' }, 'unpin event')).toThrow(
      /haName="x#G"/,
    );
  });

  it('every console operation on an unconfigured tenant is a ValidationError and calls no director', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    const before = { ...h.director.calls };
    const other = { tenantId: 'not-configured' };
    await expect(updateBranches(h.deps, { ...other, dryRun: false })).rejects.toThrow(
      /tenantId="not-configured": expected a configured tenant/,
    );
    await expect(
      pinGroup(h.deps, { ...other, haName: 'Chennai', concentratorId: 'DC2', reason: 'r', force: true }),
    ).rejects.toThrow(ValidationError);
    await expect(unpinGroup(h.deps, { ...other, haName: 'Chennai' })).rejects.toThrow(ValidationError);
    await expect(groupStatus(h.deps, other)).rejects.toThrow(ValidationError);
    expect(h.director.calls).toEqual(before);
    expect(await h.store.getGroup('not-configured#Chennai')).toBeUndefined();
  });
});

describe('pin expiry relative to now', () => {
  it('expiresInMinutes lapses that long after the pin; with expiresAt too it is refused', async () => {
    const h = harness({ branches: 2, on: 'DC1' });
    await reconcileGroup(h.deps, KEY);
    const pinned = await pinGroup(h.deps, pin({ concentratorId: 'DC2', force: true, expiresInMinutes: 480 }));
    expect(pinned.pin.expiresAt).toBe(new Date(h.clock.now + 480 * 60_000).toISOString());
    expect(() =>
      pin({ concentratorId: 'DC2', expiresInMinutes: 10, expiresAt: '2030-01-01T00:00:00Z' }),
    ).toThrow(/expiresInMinutes=10: expected either expiresAt or expiresInMinutes, not both/);
    expect(() => pin({ concentratorId: 'DC2', expiresInMinutes: 0 })).toThrow(/expiresInMinutes=0/);
    expect(() => pin({ concentratorId: 'DC2', expiresInMinutes: 20_000 })).toThrow(
      /expiresInMinutes=20000: expected at most 10080/,
    );
  });
});
