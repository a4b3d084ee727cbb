/**
 * DR workflows in observe mode: the synthesized state machines run with the real DR tasks whose
 * directors are wrapped as config `mode: "observe"` wraps them (createDrDeps). A workflow fails at
 * its first director write, through its failure path, before any site role changes; nothing
 * reaches the zWAN simulator. The same world in act mode then runs it (so the test can fail).
 */
import { OBSERVE_METRICS } from '../../../shared/director/observe.js';
import {
  createDrDeps,
  drSettings,
  RecordingDrMetrics,
  RecordingDrNotifier,
} from '../../../shared/dr/adapters.js';
import { createDrTasks, runDrTask } from '../../../shared/dr/tasks.js';
import { silentLog } from '../../../shared/observability.js';
import { runDrWorkflow } from '../../../local/sandbox/scenarios/dr-machines.js';
import type { SimRequestRecord } from '../../../local/simulator/zwan/server.js';
import { createTestDrWorld, definitionsOnce, expectSucceeded, type TestDrWorld } from '../dr/fixture.js';

beforeAll(async () => {
  await definitionsOnce();
}, 120_000);

/** zWAN writes: anything but a GET and the bulk health query. */
const writes = (log: readonly SimRequestRecord[]) =>
  log
    .filter((r) => r.method !== 'GET' && r.operation !== 'queryCpeHealth')
    .map((r) => `${r.site} ${r.operation}`);

let w: TestDrWorld;

/**
 * The world's DR tasks as observe mode builds them, with their own recorders: `mode` given, or
 * (`fromConfig`) only settings made from a configuration whose mode is observe.
 */
function observeTasks(how: 'mode' | 'fromConfig' = 'mode') {
  const notifier = new RecordingDrNotifier();
  const metrics = new RecordingDrMetrics();
  const tasks = createDrTasks(
    createDrDeps({
      ...(how === 'mode' ? { mode: 'observe' as const } : {}),
      repo: w.repo,
      s3: w.s3,
      settings: drSettings(how === 'mode' ? w.config : { ...w.config, mode: 'observe' }, w.bucket, {
        maxJobPolls: 400,
      }),
      directors: (site) => w.directors[site],
      notifier,
      metrics,
      log: silentLog,
      now: () => w.clock.now,
    }),
  );
  return {
    notifier,
    metrics,
    run: async (workflow: 'Backup' | 'SwitchoverDcToDr', input: unknown) =>
      runDrWorkflow((await definitionsOnce())[workflow], input, {
        invoke: (payload) => runDrTask(tasks, payload),
        tokens: w.tokens,
        waitMs: 5,
      }),
  };
}

beforeEach(async () => {
  w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T06:30:00Z') });
  // The daily backup (act mode) before anything happens; its writes are not this test's.
  expectSucceeded(await w.run('Backup', { trigger: 'schedule' }));
  w.setTime('2026-11-23T10:35:00Z');
  w.sim.requests.splice(0);
}, 30_000);
afterEach(async () => {
  await w?.dispose();
});

describe('DR workflows in observe mode', () => {
  it('an unplanned switchover after the DC site is lost fails at its first write: no director write, roles unchanged, refusal counted, DR_FAILED, lock released; act mode then switches', async () => {
    await w.loseSite('DC', '2026-11-23T10:29:00Z');
    const observe = observeTasks();

    const r = await observe.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC site lost at 10:30' });

    expect(r.status).toBe('FAILED');
    // The restore step names its own failure (the roles stay as they were) and quotes the refusal.
    expect(r.error).toBe('RestoreFailedError');
    expect(r.cause).toMatch(
      /observe mode: startRestore\(.*\) on the zwan DR director refused; nothing was sent/,
    );
    expect(r.states.slice(-4)).toEqual(['Compensate', 'NotifyFailure', 'ReleaseLockAfterFailure', 'Failed']);
    expect(writes(w.sim.requests)).toEqual([]);
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'ACTIVE', DR: 'PASSIVE' });
    expect(w.sim.world.sites.DR.role).toBe('PASSIVE');
    expect(w.runner.restoresOf('DR')).toEqual([]);
    // One count per refused attempt (the step retries its start).
    expect(observe.metrics.of(OBSERVE_METRICS.refusedWrites).length).toBeGreaterThanOrEqual(1);
    expect(observe.notifier.notices.map((n) => n.kind)).toEqual(['DR_FAILED']);
    expect(observe.notifier.notices[0]?.message).toMatch(/observe mode/);
    expect(await w.repo.getLock()).toBeUndefined();

    // The same world in act mode: the switchover writes (restore, roles, management URL).
    expectSucceeded(await w.run('SwitchoverDcToDr', { mode: 'unplanned', reason: 'DC site lost at 10:30' }));
    expect(writes(w.sim.requests)).toEqual(expect.arrayContaining(['DR startRestore', 'DR setSiteRole']));
    expect(await w.repo.getSiteRoles()).toEqual({ DC: 'PASSIVE', DR: 'ACTIVE' });
  });

  it('a backup fails at its start: no job, no object written, no record (settings of an observe-mode configuration suffice)', async () => {
    const keysBefore = await w.keys();
    const observe = observeTasks('fromConfig');
    const r = await observe.run('Backup', { trigger: 'on-demand' });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('BackupFailedError');
    expect(r.cause).toMatch(
      /observe mode: startBackup\(.*\) on the zwan DC director refused; nothing was sent/,
    );
    expect(writes(w.sim.requests)).toEqual([]);
    expect(await w.keys()).toEqual(keysBefore);
    expect(await w.repo.listBackups('DC')).toHaveLength(1);
    expect(observe.metrics.of(OBSERVE_METRICS.refusedWrites).length).toBeGreaterThanOrEqual(1);
    expect(observe.notifier.notices.map((n) => n.kind)).toContain('DR_FAILED');
    expect(await w.repo.getLock()).toBeUndefined();
  });
});
