/**
 * SwitchoverDcToDr, FailbackDrToDc and the reference's Case1 timeline, on the state machines the
 * CDK app synthesizes, run with aws-local-stepfunctions and the real DR tasks against DynamoDB
 * Local, the S3 emulator and the zWAN simulator. Wait states: 5 ms.
 */
import type { BackupRecord } from '../../../shared/dr/layout.js';
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

describe('DR SwitchoverDcToDr and FailbackDrToDc', () => {
  let w: TestDrWorld;
  beforeEach(async () => {
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T06:30:00Z') });
    // The daily backup before anything happens.
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    w.setTime('2026-11-23T10:35:00Z');
  }, 30_000);
  afterEach(async () => {
    await w?.dispose();
  });

  it('unplanned: restores the newest verified backup into DR, makes DR ACTIVE / DC PASSIVE, points the management URL at DR, lists SSH CPEs', async () => {
    w.sim.faults.siteDown('DC');

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
    // The lost DC director could not be told; the operator is told to set it PASSIVE later.
    expect(out.roles.passiveDirector).toMatch(/not told/);
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
    // Monday 06:30: the cron backup at DC (beforeEach). 10:30 DC is lost; 10:35 switchover.
    w.sim.faults.siteDown('DC');
    expectSucceeded(await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC lost at 10:30' }));

    // Monday 11:30: the scheduled backup runs at the ACTIVE site, DR, into drrepository/.
    w.setTime('2026-11-23T11:30:00Z');
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    expect(await w.keys('drrepository/')).toEqual(elk('drrepository', '2026-11-23T11-30-00Z'));

    // Tuesday 09:00: DC is back; failback: on-demand backup at DR, restore into DC, roles back.
    w.setTime('2026-11-24T09:00:00Z');
    w.sim.faults.siteUp('DC');
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
      ...elk('dcrepository', '2026-11-24T12-00-00Z'),
    ]);
    // MSP configurations stay; the pruned records say so and are never restored from.
    expect((await w.keys('msp/')).length).toBe(10);
    expect((await records(w)).map((b) => `${b.site}@${b.at}:${b.status}`)).toEqual([
      'DC@2026-11-23T06:30:00.000Z:PRUNED',
      'DR@2026-11-23T11:30:00.000Z:PRUNED',
      'DR@2026-11-24T09:00:00.000Z:PRUNED',
      'DC@2026-11-24T10:00:00.000Z:VERIFIED',
      'DC@2026-11-24T12:00:00.000Z:VERIFIED',
    ]);

    // The next scheduled run has nothing left to delete.
    w.setTime('2026-11-25T12:00:00Z');
    const next = await w.run('Backup', { trigger: 'schedule' });
    expectSucceeded(next);
    expect((next.output as { cleanup: { deleted: string[] } }).cleanup.deleted).toEqual([]);
  });
});
