/**
 * The Backup and WeeklyDrill state machines as the CDK app synthesizes them, run with
 * aws-local-stepfunctions and the real DR tasks against DynamoDB Local, the S3 emulator and the
 * zWAN simulator (whose jobs really write and read the bucket). Wait states: 5 ms.
 */
import type { BackupRecord } from '../../../shared/dr/layout.js';
import { DR_METRICS, runDrTask } from '../../../shared/dr/tasks.js';
import { createTestDrWorld, definitionsOnce, expectSucceeded, type TestDrWorld } from './fixture.js';

beforeAll(async () => {
  await definitionsOnce();
}, 120_000);

const ELK_FILES = ['elk-0000.ndjson', 'elk-0001.ndjson', 'elk-0002.ndjson'];

async function records(w: TestDrWorld, site: 'DC' | 'DR'): Promise<BackupRecord[]> {
  return (await w.repo.listBackups(site)) as unknown as BackupRecord[];
}

describe('DR Backup state machine', () => {
  let w: TestDrWorld;
  beforeEach(async () => {
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T12:00:00Z') });
  }, 30_000);
  afterEach(async () => {
    await w?.dispose();
  });

  it('backs up the ACTIVE site into dcrepository/ + msp/, verifies every object, records it, publishes its age', async () => {
    const r = await w.run('Backup', { trigger: 'schedule' });
    expectSucceeded(r);

    const stamp = '2026-11-23T12-00-00Z';
    expect(await w.keys()).toEqual(
      [
        ...ELK_FILES.map((f) => `dcrepository/${stamp}/${f}`),
        `msp/DC/${stamp}/manifest.json`,
        `msp/DC/${stamp}/msp-config.json`,
      ].sort(),
    );
    const [record, ...more] = await records(w, 'DC');
    expect(more).toHaveLength(0);
    expect(record).toMatchObject({
      site: 'DC',
      at: '2026-11-23T12:00:00.000Z',
      status: 'VERIFIED',
      trigger: 'schedule',
    });
    // The manifest itself is not one of its entries: config + 3 ELK objects.
    expect(record?.objects.map((o) => o.key).sort()).toEqual(
      [...ELK_FILES.map((f) => `dcrepository/${stamp}/${f}`), `msp/DC/${stamp}/msp-config.json`].sort(),
    );
    expect(await records(w, 'DR')).toHaveLength(0);
    expect(w.metrics.of(DR_METRICS.backupAgeHours)).toEqual([0]);
    expect(w.metrics.of(DR_METRICS.verificationFailed)).toEqual([]);
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('a corrupted object fails verification: no record, the alarm metric, a notification, the lock released', async () => {
    w.setTime('2026-11-22T12:00:00Z');
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    w.setTime('2026-11-23T12:00:00Z');
    w.runner.injectFault('DC', { kind: 'corrupt' });

    const r = await w.run('Backup', { trigger: 'schedule' });

    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('VerificationFailedError');
    expect(r.cause).toContain('dcrepository/2026-11-23T12-00-00Z/elk-0002.ndjson');
    expect((await records(w, 'DC')).map((b) => b.at)).toEqual(['2026-11-22T12:00:00.000Z']);
    expect(w.metrics.of(DR_METRICS.verificationFailed)).toEqual([1]);
    // The failure path republishes the newest verified backup's age: 24 h, so the 26 h alarm is near.
    expect(w.metrics.of(DR_METRICS.backupAgeHours)).toEqual([0, 24]);
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['BACKUP_VERIFICATION_FAILED', 'DR_FAILED']);
    expect(r.states.slice(-4)).toEqual(['Compensate', 'NotifyFailure', 'ReleaseLockAfterFailure', 'Failed']);
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('a hung job ends in JobTimeoutError after its poll budget, and the lock is released', async () => {
    w.runner.injectFault('DC', { kind: 'hang' });
    const r = await w.run('Backup', {});
    expect(r.error).toBe('JobTimeoutError');
    expect(r.cause).toMatch(/still RUNNING .* after 120 polls/);
    expect(await records(w, 'DC')).toHaveLength(0);
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('a failed backup job fails with BackupFailedError and records nothing', async () => {
    w.runner.injectFault('DC', { kind: 'fail', message: 'disk full' });
    const r = await w.run('Backup', { trigger: 'on-demand', reason: 'before an upgrade' });
    expect(r.error).toBe('BackupFailedError');
    expect(r.cause).toContain('disk full');
    expect(await records(w, 'DC')).toHaveLength(0);
  });

  it('a lock step that dies after taking the lock is retried: the execution goes on and releases it', async () => {
    let died = false;
    const r = await w.run(
      'Backup',
      { trigger: 'schedule' },
      {
        invoke: async (payload) => {
          const result = await runDrTask(w.tasks, payload);
          if ((payload as { task?: string }).task === 'acquireLock' && !died) {
            died = true; // the write landed, then the function timed out
            throw Object.assign(new Error('Task timed out after 60.00 seconds'), {
              name: 'Sandbox.Timedout',
            });
          }
          return result;
        },
      },
    );
    expect(died).toBe(true);
    expectSucceeded(r);
    expect(r.states.filter((s) => s === 'AcquireLock')).toHaveLength(1);
    expect(await w.repo.getLock()).toBeUndefined();
  });

  it('is refused while another DR workflow holds the lock, leaving that lock alone', async () => {
    const other = await w.repo.acquireLock('arn:aws:states:eu-west-1:1:execution:SwitchoverDcToDr:x', 3600);
    expect(other.acquired).toBe(true);

    const r = await w.run('Backup', { trigger: 'schedule' });

    expect(r.error).toBe('WorkflowLockedError');
    expect(r.cause).toContain('SwitchoverDcToDr:x');
    expect(r.states).toEqual(['ValidateInput', 'AcquireLock']);
    expect(await w.keys()).toEqual([]);
    expect((await w.repo.getLock())?.owner).toBe('arn:aws:states:eu-west-1:1:execution:SwitchoverDcToDr:x');
  });

  it.each([
    ['Backup', { trigger: 'hourly' }, 'trigger="hourly"'],
    ['Backup', { trigger: 'schedule', extra: 1 }, 'extra'],
    ['SwitchoverDcToDr', { mode: 'maybe', reason: 'x' }, 'mode="maybe"'],
    ['SwitchoverDcToDr', { mode: 'planned' }, 'reason=undefined'],
    ['SwitchoverDcToDr', { mode: 'planned', reason: 'maintenance', approval: 'yes' }, 'approval="yes"'],
    ['FailbackDrToDc', { reason: '   ' }, 'reason="   "'],
  ] as const)(
    '%s with %j fails at once naming the field (%s), changing nothing',
    async (workflow, input, field) => {
      const r = await w.run(workflow, input);
      expect(r.error).toBe('ValidationError');
      expect(r.cause).toContain(field);
      expect(r.states).toEqual(['ValidateInput']);
      expect(await w.repo.getLock()).toBeUndefined();
      expect(await w.keys()).toEqual([]);
    },
  );
});

describe('DR WeeklyDrill state machine', () => {
  let w: TestDrWorld;
  beforeEach(async () => {
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-21T12:00:00Z') });
  }, 30_000);
  afterEach(async () => {
    await w?.dispose();
  });

  it('with DC ACTIVE: backs up DC, restores into DR, deletes the superseded dcrepository/ files (exact keys)', async () => {
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    w.setTime('2026-11-22T03:00:00Z');

    const r = await w.run('WeeklyDrill', { trigger: 'schedule' });

    expectSucceeded(r);
    const restores = w.runner.restoresOf('DR');
    expect(restores).toHaveLength(1);
    expect(restores[0]?.from.elkPrefix).toBe('dcrepository/2026-11-22T03-00-00Z/');
    expect(await w.keys('dcrepository/')).toEqual(
      ELK_FILES.map((f) => `dcrepository/2026-11-22T03-00-00Z/${f}`),
    );
    // MSP configurations are kept.
    expect(await w.keys('msp/')).toHaveLength(4);
    const dc = await records(w, 'DC');
    expect(dc.map((b) => [b.at, b.status])).toEqual([
      ['2026-11-22T03:00:00.000Z', 'VERIFIED'],
      ['2026-11-21T12:00:00.000Z', 'PRUNED'],
    ]);
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
  });

  it('with DR ACTIVE: does nothing and says why', async () => {
    await w.repo.setSiteRoles({ DC: 'PASSIVE', DR: 'ACTIVE' });

    const r = await w.run('WeeklyDrill', { trigger: 'schedule' });

    expectSucceeded(r);
    expect((r.output as { skip: { reason: string } }).skip.reason).toMatch(
      /DR is ACTIVE .*only runs while DC is ACTIVE/,
    );
    expect(w.runner.history()).toEqual([]);
    expect(w.notifier.notices.map((n) => n.kind)).toEqual(['DR_SKIPPED']);
    expect(await w.repo.getLock()).toBeUndefined();
  });
});
