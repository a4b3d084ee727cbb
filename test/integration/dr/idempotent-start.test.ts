/**
 * A director job start whose answer is lost (the director started the job, then the call timed
 * out) must not start a second job when the adapter and then Step Functions retry the step: every
 * attempt of one state in one execution sends the same client token, and the director returns the
 * job that token started. Synthesized state machines, real DR tasks, the S3 job runner.
 */
import type { SimRequestRecord } from '../../../local/simulator/zwan/server.js';
import { jobClientToken, runDrTask } from '../../../shared/dr/tasks.js';
import { createTestDrWorld, definitionsOnce, expectSucceeded, type TestDrWorld } from './fixture.js';

beforeAll(async () => {
  await definitionsOnce();
}, 120_000);

/** The job-start requests the simulator saw: HTTP status (0: never answered) and client token. */
function starts(w: TestDrWorld, operation: 'startBackup' | 'startRestore') {
  return w.sim.requests
    .filter((r: SimRequestRecord) => r.operation === operation)
    .map((r) => ({ status: r.status, token: (r.requestBody as { clientToken: string }).clientToken }));
}

describe('DR job starts survive a lost answer without a second job', () => {
  let w: TestDrWorld;
  beforeEach(async () => {
    // Short director timeouts: each hung start costs one of them.
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T12:00:00Z'), directorTimeoutMs: 250 });
  }, 30_000);
  afterEach(async () => {
    await w?.dispose();
  });

  it('StartBackup: both adapter attempts time out after the director started the job; the Step Functions retry gets that job', async () => {
    // The adapter tries twice per invocation (retries: 1): both answers are lost, so the task
    // fails with DirectorUnavailableError and the state machine retries the state.
    w.sim.faults.hangNextJobStarts(2);

    const r = await w.run('Backup', { trigger: 'on-demand' });

    expectSucceeded(r);
    expect(r.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['StartBackup']);
    const token = jobClientToken(r.executionId, 'StartBackup');
    expect(starts(w, 'startBackup')).toEqual([
      { status: 0, token },
      { status: 0, token },
      { status: 200, token },
    ]);
    const jobs = w.runner.history().filter((h) => h.job.kind === 'backup');
    expect(jobs).toHaveLength(1);
    const [record, ...more] = await w.repo.listBackups('DC');
    expect(more).toHaveLength(0);
    expect(record).toMatchObject({ jobId: jobs[0]?.job.jobId, at: '2026-11-23T12:00:00.000Z' });

    // A new execution is a new job under a new token.
    w.setTime('2026-11-24T12:00:00Z');
    const next = await w.run('Backup', { trigger: 'on-demand' });
    expectSucceeded(next);
    const tokens = starts(w, 'startBackup').map((s) => s.token);
    expect(new Set(tokens)).toEqual(new Set([token, jobClientToken(next.executionId, 'StartBackup')]));
    expect(w.runner.history().filter((h) => h.job.kind === 'backup')).toHaveLength(2);
  });

  it('StartBackup: every attempt sends the planned location, however far the clock moved (another body would be refused)', async () => {
    w.sim.faults.hangNextJobStarts(2);
    // Time passes between attempts: each StartBackup invocation runs a minute later.
    const r = await w.run(
      'Backup',
      { trigger: 'on-demand' },
      {
        invoke: (payload) => {
          if ((payload as { task?: string }).task === 'startBackup') w.clock.now += 60_000;
          return runDrTask(w.tasks, payload);
        },
      },
    );

    expectSucceeded(r);
    const bodies = w.sim.requests.filter((q) => q.operation === 'startBackup').map((q) => q.requestBody);
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body).toMatchObject({
        mspPrefix: 'msp/DC/2026-11-23T12-00-00Z/',
        elkPrefix: 'dcrepository/2026-11-23T12-00-00Z/',
      });
    }
    expect(w.runner.history().filter((h) => h.job.kind === 'backup')).toHaveLength(1);
    expect((await w.repo.listBackups('DC')).map((b) => b.at)).toEqual(['2026-11-23T12:00:00.000Z']);
  });

  it('RestoreIntoDR: a switchover whose restore start times out after the DR director accepted it restores once', async () => {
    expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
    w.setTime('2026-11-23T14:00:00Z');
    await w.loseSite('DC', '2026-11-23T13:50:00Z');
    w.sim.faults.hangNextJobStarts(2);

    const r = await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC site lost' });

    expectSucceeded(r);
    expect(r.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual(['RestoreIntoDR']);
    const token = jobClientToken(r.executionId, 'RestoreIntoDR');
    expect(starts(w, 'startRestore')).toEqual([
      { status: 0, token },
      { status: 0, token },
      { status: 200, token },
    ]);
    expect(w.runner.history().filter((h) => h.site === 'DR' && h.job.kind === 'restore')).toHaveLength(1);
    expect(w.runner.restoresOf('DR').map((x) => x.from.elkPrefix)).toEqual([
      'dcrepository/2026-11-23T12-00-00Z/',
    ]);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });
});
