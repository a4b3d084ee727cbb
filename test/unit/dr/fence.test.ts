/**
 * FenceOldSite's decision, setSiteRoles' order and compensate after a fence, on the real DR tasks
 * over the real StateRepository on the in-memory table, with fake directors that record what
 * they are told.
 */
import type { DirectorHealth, DrDirector } from '../../../shared/director/port.js';
import type { SiteName, SiteRole } from '../../../shared/domain/model.js';
import {
  drSettings,
  RecordingDrMetrics,
  RecordingDrNotifier,
  stateRepoDrStore,
} from '../../../shared/dr/adapters.js';
import { createDrTasks, type DrTasks } from '../../../shared/dr/tasks.js';
import { parseConfig } from '../../../shared/config/load.js';
import {
  ConcurrentUpdateError,
  DirectorAuthError,
  DirectorRequestError,
  DirectorUnavailableError,
  OldSiteNotFencedError,
} from '../../../shared/errors.js';
import { silentLog } from '../../../shared/observability.js';
import type { Runtime } from '../../../shared/runtime.js';
import { MemoryTable } from '../../../shared/store/memory-table.js';
import { StateRepository } from '../../../shared/store/state-repo.js';

const T0 = Date.parse('2026-11-23T10:35:00Z');

/** A director that records every role it is told; `refuse` makes setSiteRole throw. */
interface FakeDirector {
  told: SiteRole[];
  refuse?: Error;
  health: DirectorHealth | Error;
  /** Awaited when it is told a role (to look at the world at that moment). */
  onTold?: (role: SiteRole) => Promise<void>;
}

function world() {
  const clock = { now: T0 };
  let ids = 0;
  const runtime: Runtime = {
    now: () => clock.now,
    sleep: async () => {},
    random: () => 0.5,
    id: () => `id-${++ids}`,
  };
  const repo = new StateRepository(new MemoryTable(), runtime);
  const calls: string[] = [];
  const fakes: Record<SiteName, FakeDirector> = {
    DC: { told: [], health: { site: 'DC', reachable: true, healthy: true } },
    DR: { told: [], health: { site: 'DR', reachable: true, healthy: true } },
  };
  const director = (site: SiteName) =>
    ({
      site,
      async setSiteRole(role: SiteRole) {
        const f = fakes[site];
        if (f.refuse) throw f.refuse;
        f.told.push(role);
        calls.push(`${site}:${role}`);
        await f.onTold?.(role);
      },
      async health() {
        const h = fakes[site].health;
        if (h instanceof Error) throw h;
        return h;
      },
    }) as unknown as DrDirector;
  const config = parseConfig({
    env: 'unit',
    director: {
      kind: 'zwan',
      sites: { DC: { baseUrl: 'http://dc.invalid/api' }, DR: { baseUrl: 'http://dr.invalid/api' } },
      secretName: 'unit/director',
      tenants: ['t1'],
    },
  });
  const store = stateRepoDrStore(repo);
  const tasks: DrTasks = createDrTasks({
    store,
    objects: {
      verifyObject: () => Promise.reject(new Error('not used')),
      deleteKeys: () => Promise.reject(new Error('not used')),
    },
    directors: director,
    notifier: new RecordingDrNotifier(),
    metrics: new RecordingDrMetrics(),
    log: silentLog,
    now: () => clock.now,
    settings: drSettings(config, 'bucket'),
  });
  const base = { workflow: 'SwitchoverDcToDr', executionId: 'exec-1' } as const;
  const unreachableSince = (site: SiteName, agoSec: number) =>
    repo.writeDirectorStatus({ site, reachable: false, since: T0 - agoSec * 1000, reason: 'no answer' });
  // An audit item's `detail` is the whole event as the DR store wrote it; the task's detail is in it.
  const audit = async () =>
    (await repo.listAuditEvents('2026-11-23'))
      .reverse()
      .map((e) => ({ kind: e.kind, detail: e.detail.detail as Record<string, unknown> }));
  return { clock, repo, store, fakes, calls, tasks, base, unreachableSince, audit };
}

const lost = () => new DirectorUnavailableError('DC director: connect ECONNREFUSED');

describe('fenceOldSite', () => {
  it('tells a reachable old director PASSIVE: fenced passive, audited SITE_FENCED', async () => {
    const w = world();

    const result = await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });

    expect(result).toEqual({ site: 'DC', fenced: 'passive', at: '2026-11-23T10:35:00.000Z' });
    expect(w.fakes.DC.told).toEqual(['PASSIVE']);
    const events = await w.audit();
    expect(events.map((e) => [e.kind, e.detail])).toEqual([
      [
        'SITE_FENCED',
        { workflow: 'SwitchoverDcToDr', site: 'DC', fenced: 'passive', at: '2026-11-23T10:35:00.000Z' },
      ],
    ]);
  });

  it('an unreachable director recorded unreachable for drainAfterSec or longer: fenced drained', async () => {
    const w = world();
    w.fakes.DC.refuse = lost();
    await w.unreachableSince('DC', 330);

    const result = await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });

    expect(result).toEqual({
      site: 'DC',
      fenced: 'drained',
      at: '2026-11-23T10:35:00.000Z',
      unreachableSince: '2026-11-23T10:29:30.000Z',
      drainAfterSec: 330,
    });
    const [event] = await w.audit();
    expect(event?.kind).toBe('SITE_FENCED');
    expect(event?.detail).toMatchObject({ fenced: 'drained', refusal: 'DC director: connect ECONNREFUSED' });
  });

  it('recorded unreachable for less: OldSiteNotFencedError saying since when, until when and why; nothing audited', async () => {
    const w = world();
    w.fakes.DC.refuse = lost();
    await w.unreachableSince('DC', 100);

    const attempt = w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });

    await expect(attempt).rejects.toThrow(OldSiteNotFencedError);
    await expect(attempt).rejects.toThrow(
      'DC director could not be told PASSIVE (DC director: connect ECONNREFUSED); unreachable since 2026-11-23T10:33:20.000Z (100 s): fan-outs that were running on it have ended by 2026-11-23T10:38:50.000Z, 230 s from now (dr.drainAfterSec=330); the roles change after that',
    );
    expect(await w.audit()).toEqual([]);
    // A retry once the drain is over fences it.
    w.clock.now += 230_000;
    await expect(
      w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' }),
    ).resolves.toMatchObject({ fenced: 'drained' });
  });

  it('unreachable but the health check recorded it reachable, or recorded nothing: not fenced', async () => {
    const w = world();
    w.fakes.DC.refuse = lost();
    const fence = () => w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });

    await expect(fence()).rejects.toThrow(/recorded no status for it/);
    await w.repo.writeDirectorStatus({ site: 'DC', reachable: true, since: T0 - 3_600_000 });
    await expect(fence()).rejects.toThrow(OldSiteNotFencedError);
    await expect(fence()).rejects.toThrow(/recorded it reachable \(since 2026-11-23T09:35:00.000Z\)/);
  });

  it('a director that answers but refuses is reachable (its health says so): not fenced, whatever the record says', async () => {
    const w = world();
    w.fakes.DC.refuse = new DirectorRequestError('PUT /site/role answered 422', 422);
    await w.unreachableSince('DC', 3600);
    const fence = () => w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });

    await expect(fence()).rejects.toThrow(/yet it answers/);
    // An auth error from health() is an answer too.
    w.fakes.DC.health = new DirectorAuthError('401');
    await expect(fence()).rejects.toThrow(/yet it answers/);
    // health() saying unreachable makes it a lost director: drained.
    w.fakes.DC.health = { site: 'DC', reachable: false, healthy: false };
    await expect(fence()).resolves.toMatchObject({ fenced: 'drained' });
  });
});

describe('setSiteRoles after the fence', () => {
  it('needs the fence of the site giving up ACTIVE', async () => {
    const w = world();
    const fence = { site: 'DR', fenced: 'passive', at: '2026-11-23T10:35:00.000Z' };

    await expect(
      w.tasks.setSiteRoles({ ...w.base, task: 'setSiteRoles', active: 'DR', fence }),
    ).rejects.toThrow(/fence\.site="DR": expected DC \(the site giving up ACTIVE\)/);
    await expect(w.tasks.setSiteRoles({ ...w.base, task: 'setSiteRoles', active: 'DR' })).rejects.toThrow(
      /fence/,
    );
    expect(w.calls).toEqual([]);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
  });

  it('old site fenced → new director ACTIVE → table → old director told PASSIVE again', async () => {
    const w = world();
    const fence = await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });
    const tableWhenDrActive: Record<SiteName, SiteRole>[] = [];
    w.fakes.DR.onTold = async () => {
      tableWhenDrActive.push(await w.repo.getSiteRoles());
    };

    const result = await w.tasks.setSiteRoles({ ...w.base, task: 'setSiteRoles', active: 'DR', fence });

    expect(w.calls).toEqual(['DC:PASSIVE', 'DR:ACTIVE', 'DC:PASSIVE']);
    expect(tableWhenDrActive).toEqual([{ DC: 'ACTIVE', DR: 'PASSIVE' }]);
    expect(result).toMatchObject({ changed: true, current: { DC: 'PASSIVE', DR: 'ACTIVE' } });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect((await w.audit()).map((e) => e.kind)).toEqual(['SITE_FENCED', 'SITE_ROLES']);
  });
});

/** The switchover's Compensate step (target DR, old site DC) with the execution's state. */
function compensateSwitchover(w: ReturnType<typeof world>, state: Record<string, unknown>) {
  return w.tasks.compensate({ ...w.base, task: 'compensate', target: 'DR', oldSite: 'DC', state });
}

describe('compensate after the fence', () => {
  it('the roles did not change: the would-be ACTIVE director back to PASSIVE first, then the fenced one ACTIVE again', async () => {
    const w = world();
    await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });
    // The table write loses to another writer after DR was told ACTIVE (setSiteRoles undoes DR).
    w.store.putSiteRoles = () => Promise.reject(new ConcurrentUpdateError('site roles changed'));
    const fence = { site: 'DC', fenced: 'passive', at: '2026-11-23T10:35:00.000Z' };
    await expect(
      w.tasks.setSiteRoles({ ...w.base, task: 'setSiteRoles', active: 'DR', fence }),
    ).rejects.toThrow(ConcurrentUpdateError);

    const result = await compensateSwitchover(w, { fence });

    expect(result).toEqual({
      rolesChanged: false,
      roles: expect.objectContaining({ DC: 'ACTIVE', DR: 'PASSIVE' }) as unknown,
      directors: { DR: 'PASSIVE', DC: 'ACTIVE' },
      note: 'roles unchanged',
    });
    expect(w.calls).toEqual(['DC:PASSIVE', 'DR:ACTIVE', 'DR:PASSIVE', 'DR:PASSIVE', 'DC:ACTIVE']);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
  });

  it('a role write that failed half-way (both PASSIVE) is put back: the old site ACTIVE again', async () => {
    const w = world();
    const fence = { site: 'DC', fenced: 'passive', at: '2026-11-23T10:35:00.000Z' };
    await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });
    // DC's demotion lands, then the call fails before DR's promotion (a lost answer).
    await w.repo.setSiteRoles({ DC: 'PASSIVE' });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'PASSIVE' });

    const result = await compensateSwitchover(w, { fence });

    expect(result).toMatchObject({ rolesChanged: false, directors: { DR: 'PASSIVE', DC: 'ACTIVE' } });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
  });

  it('a role write whose last answer was lost (the switch landed) is kept', async () => {
    const w = world();
    await w.repo.setSiteRoles({ DC: 'PASSIVE', DR: 'ACTIVE' });
    const result = await w.tasks.compensate({ ...w.base, task: 'compensate', target: 'DR', oldSite: 'DC' });
    expect(result).toMatchObject({
      rolesChanged: true,
      note: 'roles were changed before the failure and are kept',
    });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });

  it('a director that cannot be told is reported, the other is still told', async () => {
    const w = world();
    w.fakes.DC.refuse = lost();

    const result = await w.tasks.compensate({ ...w.base, task: 'compensate', target: 'DR', oldSite: 'DC' });

    expect(result).toMatchObject({
      rolesChanged: false,
      directors: { DR: 'PASSIVE', DC: 'not told (DC director: connect ECONNREFUSED)' },
    });
  });

  it('roles already changed: kept; each director is told its table role, the ACTIVE one last', async () => {
    const w = world();
    const roles = {
      previous: { DC: { role: 'ACTIVE', since: '' }, DR: { role: 'PASSIVE', since: '' } },
      current: { DC: 'PASSIVE', DR: 'ACTIVE' },
      changed: true,
      changedAt: '2026-11-23T10:35:00.000Z',
    };

    const result = await w.tasks.compensate({
      ...w.base,
      task: 'compensate',
      target: 'DR',
      oldSite: 'DC',
      state: { roles },
    });

    expect(result).toMatchObject({ rolesChanged: true });
    // The table (never written in this test) says DC ACTIVE, DR PASSIVE.
    expect(w.calls).toEqual(['DR:PASSIVE', 'DC:ACTIVE']);
  });

  it('a role write that landed but lost its answer is a done switch: the new director stays ACTIVE', async () => {
    const w = world();
    const fence = await w.tasks.fenceOldSite({ ...w.base, task: 'fenceOldSite', site: 'DC' });
    const put = w.store.putSiteRoles.bind(w.store);
    w.store.putSiteRoles = async (...args) => {
      await put(...args);
      throw new Error('socket hang up (the answer was lost)');
    };
    const result = await w.tasks.setSiteRoles({ ...w.base, task: 'setSiteRoles', active: 'DR', fence });
    expect(result).toMatchObject({ changed: true });
    expect(w.calls).toEqual(['DC:PASSIVE', 'DR:ACTIVE', 'DC:PASSIVE']);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });
});
