/**
 * SwitchoverDcToDr, FailbackDrToDc and the reference's Case1 timeline, on the state machines the
 * CDK app synthesizes, run with aws-local-stepfunctions and the real DR tasks against DynamoDB
 * Local, the S3 emulator and the zWAN simulator. Wait states: 5 ms.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { buildApp } from '../../../cdk/build.js';
import { PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import { loadConfigFile } from '../../../shared/config/load.js';
import type { SiteName, SiteRole } from '../../../shared/domain/model.js';
import type { BackupRecord } from '../../../shared/dr/layout.js';
import { DirectorPassiveError } from '../../../shared/errors.js';
import { runDrTask, type FenceResult } from '../../../shared/dr/tasks.js';
import { createTestDrWorld, definitionsOnce, expectSucceeded, type TestDrWorld } from './fixture.js';

beforeAll(async () => {
  await definitionsOnce();
}, 120_000);

const ELK_FILES = ['elk-0000.ndjson', 'elk-0001.ndjson', 'elk-0002.ndjson'];
const elk = (root: string, stamp: string) => ELK_FILES.map((f) => `${root}/${stamp}/${f}`);

async function records(w: TestDrWorld): Promise<BackupRecord[]> {
  const all = [...(await w.repo.listBackups('DC')), ...(await w.repo.listBackups('DR'))];
  return (all as unknown as BackupRecord[]).sort((a, b) => a.at.localeCompare(b.at));
}

function sshOnboarded(w: TestDrWorld): string[] {
  return [...w.sim.world.cpes.values()].filter((c) => c.onboardedBy === 'ssh').map((c) => c.id);
}

/** The world of the test running now. */
let w: TestDrWorld;

/** A fresh world for each test of the calling describe: the daily backup at DC done (Monday 06:30), the clock at 10:35. */
function useMondayWorld(): void {
  beforeEach(async () => {
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T06:30:00Z') });
    // The daily backup before anything happens.
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    w.setTime('2026-11-23T10:35:00Z');
  }, 30_000);
  afterEach(async () => {
    await w?.dispose();
  });
}

describe('DR SwitchoverDcToDr and FailbackDrToDc', () => {
  useMondayWorld();

  it('unplanned: restores the newest verified backup into DR, makes DR ACTIVE / DC PASSIVE, points the management URL at DR, lists SSH CPEs', async () => {
    // DC lost at 10:29 (recorded by the health check): drained by 10:35 (dr.drainAfterSec 330).
    await w.loseSite('DC', '2026-11-23T10:29:00Z');

    const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC site lost at 10:30' });

    expectSucceeded(r);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(w.sim.world.sites.DR.role).toBe('ACTIVE');
    const restores = w.runner.restoresOf('DR');
    expect(restores.map((x) => x.from.elkPrefix)).toEqual(['dcrepository/2026-11-23T06-30-00Z/']);
    expect(w.sim.world.sites.DR.managementUrl).toBe('https://director-dr.example.net');
    const out = r.output as {
      sshCpes: { count: number; cpes: { id: string }[] };
      roles: { passiveDirector: string };
    };
    expect(out.sshCpes.cpes.map((c) => c.id).sort()).toEqual(sshOnboarded(w).sort());
    expect(out.sshCpes.count).toBe(sshOnboarded(w).length);
    // The lost DC director could not be told; it was fenced by the drain, and the operator is
    // told to set it PASSIVE when it is back.
    expect(out.roles.passiveDirector).toMatch(/not told .*fenced drained/);
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['DR_SUCCEEDED']);
    expect(await w.repo.getLock()).toBeUndefined();
    // No backup was taken: the DC director is gone.
    expect((await records(w)).map((b) => b.at)).toEqual(['2026-11-23T06:30:00.000Z']);
  });

  it('planned: takes an on-demand DC backup first and restores exactly that one into DR', async () => {
    const r = await w.run('SwitchoverDcToDr', { mode: 'planned', reason: 'DC maintenance' });

    expectSucceeded(r);
    expect((await records(w)).map((b) => [b.site, b.at, b.trigger])).toEqual([
      ['DC', '2026-11-23T06:30:00.000Z', 'schedule'],
      ['DC', '2026-11-23T10:35:00.000Z', 'on-demand'],
    ]);
    expect(w.runner.restoresOf('DR').map((x) => x.from.elkPrefix)).toEqual([
      'dcrepository/2026-11-23T10-35-00Z/',
    ]);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(w.sim.world.sites.DC.role).toBe('PASSIVE');
  });

  it('with approval: waits for the task token; a rejection leaves the roles unchanged and releases the lock', async () => {
    const running = w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC flapping', approval: true });
    const token = await w.tokens.next();
    // While it waits: restored, roles untouched, the lock held, the operator told how to answer.
    expect(w.runner.restoresOf('DR')).toHaveLength(1);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(await w.repo.getLock()).toBeDefined();
    const ask = w.notifier.notices.find((n) => n.kind === 'APPROVAL_REQUIRED');
    expect(ask?.message).toContain('aws stepfunctions send-task-success --task-token');
    expect(ask?.message).toContain('aws stepfunctions send-task-failure --task-token');

    w.tokens.sendTaskFailure(token, 'ApprovalRejectedError', 'DC is back, no switchover');
    const r = await running;

    expect(r.error).toBe('ApprovalRejectedError');
    expect(r.cause).toBe('DC is back, no switchover');
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    expect(await w.repo.getLock()).toBeUndefined();
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['APPROVAL_REQUIRED', 'DR_FAILED']);
  });

  it('with approval: an approval lets it change the roles', async () => {
    const running = w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost', approval: true });
    w.tokens.sendTaskSuccess(await w.tokens.next(), { approved: true, by: 'noc-oncall' });
    expectSucceeded(await running);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });

  it('a failed restore leaves the roles as they were, notifies and releases the lock', async () => {
    w.runner.injectFault('DR', { kind: 'fail', message: 'DR director out of disk' });

    const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost' });

    expect(r.error).toBe('RestoreFailedError');
    expect(r.cause).toContain('DR director out of disk');
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    expect(w.sim.world.sites.DC.role).toBe('ACTIVE');
    expect((r.output ?? null) === null).toBe(true);
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['DR_FAILED']);
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it.each([
    ['missing', 'deleted'],
    ['corrupt', 'overwritten with other bytes of the same size'],
  ])(
    'a %s backup object fails the restore: roles unchanged, DR still holds its own configuration',
    async (_kind, how) => {
      const mspKey = (await w.keys('msp/DC/')).find((k) => k.endsWith('msp-config.json'));
      expect(mspKey).toBeDefined();
      const drCpesBefore = [...w.sim.world.configs.DR.cpes.keys()].sort();
      if (how === 'deleted') {
        await w.s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: mspKey }));
      } else {
        const body = await (
          await w.s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: mspKey }))
        ).Body!.transformToString();
        await w.s3.send(
          new PutObjectCommand({ Bucket: w.bucket, Key: mspKey, Body: 'x'.repeat(Buffer.byteLength(body)) }),
        );
      }
      w.sim.world.deleteCpe('BR1', { directors: ['DR'] }); // DR's own configuration differs from DC's

      const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost' });

      expect(r.error).toBe('RestoreFailedError');
      expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
      expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
      expect([...w.sim.world.configs.DR.cpes.keys()].sort()).toEqual(
        drCpesBefore.filter((id) => id !== 'BR1'),
      );
      expect(await w.repo.getLock()).toBeUndefined();
    },
  );

  it('failback needs DR ACTIVE', async () => {
    const r = await w.run('FailbackDrToDc', { reason: 'DC restored' });
    expect(r.error).toBe('PreconditionFailedError');
    expect(r.cause).toContain('needs DR ACTIVE');
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('a second workflow is refused while a switchover waits for approval', async () => {
    const running = w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost', approval: true });
    const token = await w.tokens.next();
    const second = await w.run('Backup', { trigger: 'on-demand' });
    expect(second.error).toBe('WorkflowLockedError');
    w.tokens.sendTaskFailure(token, 'ApprovalRejectedError', 'test over');
    expect((await running).error).toBe('ApprovalRejectedError');
  });

  it('Case1: Monday cron backup at DC, DC lost at 10:30, switchover, DR backups, Tuesday failback, the next scheduled run deletes exactly the DR-period and pre-failover ELK files', async () => {
    // Monday 06:30: the cron backup at DC (beforeEach). 10:29 DC is lost; 10:35 switchover.
    await w.loseSite('DC', '2026-11-23T10:29:00Z');
    expectSucceeded(await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost at 10:29' }));

    // Monday 11:30: the scheduled backup runs at the ACTIVE site, DR, into drrepository/.
    w.setTime('2026-11-23T11:30:00Z');
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    expect(await w.keys('drrepository/')).toEqual(elk('drrepository', '2026-11-23T11-30-00Z'));

    // Tuesday 09:00: DC is back; failback: on-demand backup at DR, restore into DC, roles back.
    w.setTime('2026-11-24T09:00:00Z');
    w.sim.faults.siteUp('DC');
    await w.recordDirector('DC', true, '2026-11-24T08:55:00Z');
    const failback = await w.run('FailbackDrToDc', { reason: 'DC site restored' });
    expectSucceeded(failback);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(w.sim.world.sites.DC.role).toBe('ACTIVE');
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    expect(w.sim.world.sites.DC.managementUrl).toBe('https://director-dc.example.net');
    expect(w.runner.restoresOf('DC').map((x) => x.from.elkPrefix)).toEqual([
      'drrepository/2026-11-24T09-00-00Z/',
    ]);
    // The failback deletes nothing itself…
    const beforeCleanup = await w.keys();
    expect(beforeCleanup.filter((k) => !k.startsWith('msp/'))).toEqual([
      ...elk('dcrepository', '2026-11-23T06-30-00Z'),
      ...elk('drrepository', '2026-11-23T11-30-00Z'),
      ...elk('drrepository', '2026-11-24T09-00-00Z'),
    ]);
    // …it flags the DR period's and the pre-failover backups for the next scheduled run.
    expect((await records(w)).filter((b) => b.cleanupPending).map((b) => `${b.site}@${b.at}`)).toEqual([
      'DC@2026-11-23T06:30:00.000Z',
      'DR@2026-11-23T11:30:00.000Z',
      'DR@2026-11-24T09:00:00.000Z',
    ]);

    // An on-demand backup is not the scheduled run: nothing is deleted.
    w.setTime('2026-11-24T10:00:00Z');
    expectSucceeded(await w.run('Backup', { trigger: 'on-demand', reason: 'after failback' }));
    expect((await w.keys('drrepository/')).length).toBe(6);

    // A manual run at 11:00 claiming "schedule" is not the scheduled run either: refused, audited.
    w.setTime('2026-11-24T11:00:00Z');
    const claimed = await w.run('Backup', { trigger: 'schedule', reason: 'pretending to be the cron' });
    expectSucceeded(claimed);
    expect((claimed.output as { cleanup: { deleted: string[]; refused?: string } }).cleanup).toMatchObject({
      deleted: [],
      refused: expect.stringMatching(
        /did not start at a time of the Backup schedule cron\(0 12 \* \* \? \*\)/,
      ),
    });
    expect((await w.keys('drrepository/')).length).toBe(6);

    // Tuesday 12:00: the scheduled run backs up DC, then deletes exactly the flagged ELK files.
    w.setTime('2026-11-24T12:00:00Z');
    const scheduled = await w.run('Backup', { trigger: 'schedule' });
    expectSucceeded(scheduled);
    expect((scheduled.output as { cleanup: { deleted: string[] } }).cleanup.deleted).toEqual([
      ...elk('dcrepository', '2026-11-23T06-30-00Z'),
      ...elk('drrepository', '2026-11-23T11-30-00Z'),
      ...elk('drrepository', '2026-11-24T09-00-00Z'),
    ]);
    expect(await w.keys('drrepository/')).toEqual([]);
    expect(await w.keys('dcrepository/')).toEqual([
      ...elk('dcrepository', '2026-11-24T10-00-00Z'),
      ...elk('dcrepository', '2026-11-24T11-00-00Z'),
      ...elk('dcrepository', '2026-11-24T12-00-00Z'),
    ]);
    // MSP configurations stay; the pruned records say so and are never restored from.
    expect((await w.keys('msp/')).length).toBe(12);
    expect((await records(w)).map((b) => `${b.site}@${b.at}:${b.status}`)).toEqual([
      'DC@2026-11-23T06:30:00.000Z:PRUNED',
      'DR@2026-11-23T11:30:00.000Z:PRUNED',
      'DR@2026-11-24T09:00:00.000Z:PRUNED',
      'DC@2026-11-24T10:00:00.000Z:VERIFIED',
      'DC@2026-11-24T11:00:00.000Z:VERIFIED',
      'DC@2026-11-24T12:00:00.000Z:VERIFIED',
    ]);

    // The next scheduled run has nothing left to delete.
    w.setTime('2026-11-25T12:00:00Z');
    const next = await w.run('Backup', { trigger: 'schedule' });
    expectSucceeded(next);
    expect((next.output as { cleanup: { deleted: string[] } }).cleanup.deleted).toEqual([]);
  });
});

/** What the world looked like when MakeDRActive/MakeDCActive (setSiteRoles) was invoked. */
interface AtRoleChange {
  directors: Record<SiteName, SiteRole>;
  table: Record<SiteName, SiteRole>;
  audit: string[];
}

/** The DR tasks, with `before(task)` run before each invocation (to move time, inject faults). */
function invokeWith(w: TestDrWorld, before: (task: string) => void | Promise<void>) {
  return {
    invoke: async (payload: unknown) => {
      await before((payload as { task: string }).task);
      return runDrTask(w.tasks, payload);
    },
  };
}

/** Every director site-role request the simulator answered, in order: `DC:PASSIVE`… */
function siteRoleCalls(w: TestDrWorld): string[] {
  return w.sim.requests
    .filter((r) => r.operation === 'setSiteRole' && r.status === 200)
    .map((r) => `${r.site}:${(r.requestBody as { role: string }).role}`);
}

/** A write through `site`'s director (HA_STATE of one of its concentrators, a fresh epoch). */
function writeThrough(w: TestDrWorld, site: SiteName): Promise<void> {
  const concentrator = [...w.sim.world.cpes.values()].find((c) => c.metadata.CPE_TYPE === site);
  if (!concentrator) throw new Error(`no ${site} concentrator in the topology`);
  return w.directors[site].setHaState(concentrator.tenantId, concentrator.id, 'ACTIVE', 1000);
}

/** One role change was seen: these directors' and table roles, the fence audited, the roles not yet. */
function expectFencedAtRoleChange(
  seen: AtRoleChange[],
  directors: AtRoleChange['directors'],
  table: AtRoleChange['table'],
): void {
  expect(seen.map((x) => ({ directors: x.directors, table: x.table }))).toEqual([{ directors, table }]);
  expect(seen[0]?.audit).toContain('SITE_FENCED');
  expect(seen[0]?.audit).not.toContain('SITE_ROLES');
}

const retriesOf = (r: { events: { type: string; state?: string }[] }, state: string) =>
  r.events.filter((e) => e.type === 'StateRetried' && e.state === state).length;

describe('DR: fencing the old site before the roles change', () => {
  useMondayWorld();

  /** Capture the world at the moment the roles are about to change (the audit of `day`). */
  function watchRoleChange(day = '2026-11-23'): {
    seen: AtRoleChange[];
    options: ReturnType<typeof invokeWith>;
  } {
    const seen: AtRoleChange[] = [];
    return {
      seen,
      options: invokeWith(w, async (task) => {
        if (task !== 'setSiteRoles') return;
        seen.push({
          directors: { DC: w.sim.world.sites.DC.role, DR: w.sim.world.sites.DR.role },
          table: await w.repo.getSiteRoles(),
          audit: await w.auditKinds(day),
        });
      }),
    };
  }

  /** DC lost Monday 10:29, switched over to DR at 10:35; Tuesday 09:00 DC is back (and recorded so). */
  async function switchedOverDcBack(): Promise<void> {
    await w.loseSite('DC', '2026-11-23T10:29:00Z');
    expectSucceeded(await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost' }));
    w.setTime('2026-11-24T09:00:00Z');
    w.sim.faults.siteUp('DC');
    await w.recordDirector('DC', true, '2026-11-24T08:55:00Z');
  }

  it('planned switchover: the DC director is PASSIVE before the table roles change, and refuses writes afterwards', async () => {
    const { seen, options } = watchRoleChange();

    const r = await w.run('SwitchoverDcToDr', { mode: 'planned', reason: 'DC maintenance' }, options);

    expectSucceeded(r);
    // When the roles were about to change: DC fenced (PASSIVE, audited), DR not yet ACTIVE, the
    // table still DC ACTIVE.
    expectFencedAtRoleChange(seen, { DC: 'PASSIVE', DR: 'PASSIVE' }, { DC: 'ACTIVE', DR: 'PASSIVE' });
    // Old site fenced → new director ACTIVE → (table) → the old one told PASSIVE again.
    expect(siteRoleCalls(w)).toEqual(['DC:PASSIVE', 'DR:ACTIVE', 'DC:PASSIVE']);
    expect(r.states.indexOf('FenceDcSite')).toBeLessThan(r.states.indexOf('MakeDRActive'));
    expect((r.output as { fence: FenceResult }).fence).toEqual({
      site: 'DC',
      fenced: 'passive',
      at: '2026-11-23T10:35:00.000Z',
    });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(await w.auditKinds('2026-11-23')).toEqual(expect.arrayContaining(['SITE_FENCED', 'SITE_ROLES']));

    // A fan-out still running through the DC director lands nothing.
    await expect(writeThrough(w, 'DC')).rejects.toThrow(DirectorPassiveError);
  });

  it('DC director unreachable, recorded for less than dr.drainAfterSec: fails with OldSiteNotFencedError after its retries, roles unchanged', async () => {
    await w.loseSite('DC', '2026-11-23T10:33:00Z');

    const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost at 10:33' });

    expect(r.error).toBe('OldSiteNotFencedError');
    expect(r.cause).toContain('unreachable since 2026-11-23T10:33:00.000Z (120 s)');
    expect(r.cause).toContain(
      'have ended by 2026-11-23T10:38:30.000Z, 210 s from now (dr.drainAfterSec=330)',
    );
    expect(retriesOf(r, 'FenceDcSite')).toBe(Math.ceil(w.config.dr.drainAfterSec / 30) + 2);
    expect(r.states).not.toContain('MakeDRActive');
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['DR_FAILED']);
    expect(await w.repo.getLock()).toBeUndefined();
    expect(await w.auditKinds('2026-11-23')).not.toContain('SITE_FENCED');
  });

  it('DC director recorded unreachable for longer than dr.drainAfterSec: fenced by the drain, the switchover proceeds', async () => {
    await w.loseSite('DC', '2026-11-23T10:29:00Z');

    const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost at 10:29' });

    expectSucceeded(r);
    expect(retriesOf(r, 'FenceDcSite')).toBe(0);
    expect((r.output as { fence: FenceResult }).fence).toEqual({
      site: 'DC',
      fenced: 'drained',
      at: '2026-11-23T10:35:00.000Z',
      unreachableSince: '2026-11-23T10:29:00.000Z',
      drainAfterSec: 330,
    });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(await w.auditKinds('2026-11-23')).toEqual(expect.arrayContaining(['SITE_FENCED', 'SITE_ROLES']));
  });

  it('the fence waits out the drain through its retries (30 s apart), then the roles change', async () => {
    await w.loseSite('DC', '2026-11-23T10:32:00Z');
    // Each attempt of FenceDcSite comes one retry interval (30 s) after the last.
    const r = await w.run(
      'SwitchoverDcToDr',
      { mode: 'unplanned', reason: 'DC lost at 10:32' },
      invokeWith(w, (task) => {
        if (task === 'fenceOldSite') w.clock.now += 30_000;
      }),
    );

    expectSucceeded(r);
    // Recorded unreachable at 10:32:00; attempts at +210 s … +330 s: the fifth is past the drain.
    expect(retriesOf(r, 'FenceDcSite')).toBe(4);
    expect((r.output as { fence: FenceResult }).fence).toMatchObject({
      fenced: 'drained',
      at: '2026-11-23T10:37:30.000Z',
    });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });

  it('a failure after the fence but before the roles change: the fenced DC director is told ACTIVE again, the roles stay as they were', async () => {
    // The DR director answers 503 from the moment the roles are to change (MakeDRActive).
    const r = await w.run(
      'SwitchoverDcToDr',
      { mode: 'unplanned', reason: 'DC flapping' },
      invokeWith(w, (task) => {
        if (task === 'setSiteRoles') w.sim.faults.director('DR', { mode: 'error5xx' });
      }),
    );

    expect(r.error).toBe('DirectorUnavailableError');
    expect(r.states).toEqual(expect.arrayContaining(['FenceDcSite', 'MakeDRActive', 'Compensate']));
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    // Fenced PASSIVE, then back to ACTIVE by the compensation: director and table agree again.
    expect(siteRoleCalls(w)).toEqual(['DC:PASSIVE', 'DC:ACTIVE']);
    expect(w.sim.world.sites.DC.role).toBe('ACTIVE');
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    await expect(writeThrough(w, 'DC')).resolves.toBeUndefined();
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('failback fences DR the same way: the DR director is PASSIVE before the table roles change, and refuses writes afterwards', async () => {
    await switchedOverDcBack();
    const before = siteRoleCalls(w).length;
    const { seen, options } = watchRoleChange('2026-11-24');

    const r = await w.run('FailbackDrToDc', { reason: 'DC site restored' }, options);

    expectSucceeded(r);
    // The DC director, lost during the switchover, was never told PASSIVE: still ACTIVE.
    expectFencedAtRoleChange(seen, { DC: 'ACTIVE', DR: 'PASSIVE' }, { DC: 'PASSIVE', DR: 'ACTIVE' });
    expect(siteRoleCalls(w).slice(before)).toEqual(['DR:PASSIVE', 'DC:ACTIVE', 'DR:PASSIVE']);
    expect((r.output as { fence: FenceResult }).fence).toEqual({
      site: 'DR',
      fenced: 'passive',
      at: '2026-11-24T09:00:00.000Z',
    });
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    await expect(writeThrough(w, 'DR')).rejects.toThrow(DirectorPassiveError);
  });

  it('failback whose DR director is lost before the fence (recorded just now): OldSiteNotFencedError, DR stays ACTIVE, the DC director told PASSIVE again', async () => {
    await switchedOverDcBack();
    let lost = false;

    const r = await w.run(
      'FailbackDrToDc',
      { reason: 'DC site restored' },
      invokeWith(w, async (task) => {
        if (task !== 'fenceOldSite' || lost) return;
        lost = true;
        await w.loseSite('DR', '2026-11-24T09:00:00Z');
      }),
    );

    expect(r.error).toBe('OldSiteNotFencedError');
    expect(r.cause).toContain('DR director could not be told PASSIVE');
    expect(r.cause).toContain('330 s from now');
    expect(r.states).not.toContain('MakeDCActive');
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
    // The DC director (ACTIVE since it came back) is told its table role, PASSIVE, by the compensation.
    expect(w.sim.world.sites.DC.role).toBe('PASSIVE');
    expect(await w.repo.getLock()).toBeUndefined();
  });
});

describe('DR: the drain the fence waits for, at synth', () => {
  it('FenceDcSite/FenceDrSite retry OldSiteNotFencedError every 30 s for longer than dr.drainAfterSec', async () => {
    const defs = await definitionsOnce();
    for (const [workflow, state] of [
      ['SwitchoverDcToDr', 'FenceDcSite'],
      ['FailbackDrToDc', 'FenceDrSite'],
    ] as const) {
      const fence = defs[workflow].States[state] as { Retry?: { ErrorEquals: string[] }[]; Next?: string };
      expect(fence.Retry).toContainEqual({
        ErrorEquals: ['OldSiteNotFencedError'],
        IntervalSeconds: 30,
        BackoffRate: 1,
        MaxAttempts: Math.ceil(330 / 30) + 2,
      });
      expect(fence.Next).toBe(workflow === 'SwitchoverDcToDr' ? 'MakeDRActive' : 'MakeDCActive');
    }
  });

  it('synth fails when dr.drainAfterSec is shorter than the longest re-pointing timeout plus 30 s', () => {
    const example = loadConfigFile('example', PROJECT_ROOT);
    const short = { ...example, dr: { ...example.dr, drainAfterSec: 120 } };

    expect(() => buildApp({ config: short, skipBundling: true, nag: false })).toThrow(
      /dr\.drainAfterSec=120: expected at least 330 s: the longest timeout of the functions that re-point \(300 s, [^)]+\) plus 30 s/,
    );
    expect(() =>
      buildApp({
        config: { ...example, dr: { ...example.dr, drainAfterSec: 330 } },
        skipBundling: true,
        nag: false,
      }),
    ).not.toThrow();
  });
});
