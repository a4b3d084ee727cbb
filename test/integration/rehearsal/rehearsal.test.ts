/**
 * The failover rehearsal on the Rehearsal state machine the CDK app synthesizes, run with
 * aws-local-stepfunctions and the real rehearsal tasks against DynamoDB Local and the lab zWAN
 * simulator over HTTP (group Chennai: HA_DC1 serving, HA_DC2 and DR standby, branches BR1, BR2).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../cdk/constructs/function.js';
import type { RunResult } from '../../../local/sandbox/scenarios/dr-machines.js';
import type { RehearsalReport } from '../../../shared/rehearsal/report.js';
import { pinGroup } from '../../../shared/failover/console.js';
import { LAB_GROUP, LAB_TENANT } from '../../helpers/lab.js';
import { createRehearsalWorld, rehearsalDefinition, type RehearsalWorld } from './world.js';

beforeAll(async () => {
  await rehearsalDefinition();
}, 120_000);

let w: RehearsalWorld;
beforeEach(async () => {
  w = await createRehearsalWorld();
}, 30_000);
afterEach(async () => {
  await w?.dispose();
});

const INPUT = {
  tenantId: LAB_TENANT,
  haName: 'Chennai',
  windowMinutes: 60,
  verifyTimeoutSec: 60,
  reason: 'standby check CHG-1',
  requestedBy: 'noc@example.com',
};

/** The report of the execution (its output, or what its Report state returned when it failed). */
function reportOf(r: RunResult): RehearsalReport {
  if (r.status === 'SUCCEEDED') return r.output as RehearsalReport;
  const exited = r.events.filter((e) => e.type === 'StateExited' && e.state?.startsWith('Report'));
  const last = exited.at(-1)?.data as { report?: RehearsalReport } | undefined;
  if (!last?.report) throw new Error(`no report: ${r.error}: ${r.cause} (states ${r.states.join(' → ')})`);
  return last.report;
}

async function rehearsalAudits(): Promise<{ kind: string; reason?: string }[]> {
  const day = new Date(w.now()).toISOString().slice(0, 10);
  return (await w.repo.listAuditEvents(day)).filter((e) => e.kind === 'REHEARSAL');
}

/** The re-points the director received, as `branch→target`. */
function repoints(): string[] {
  return w.sim.requests
    .filter((q) => q.operation === 'repointBranch' && q.status === 200)
    .map((q) => `${q.path.split('/')[4]}→${(q.requestBody as { targetCpeId?: string }).targetCpeId}`);
}

describe('Rehearsal state machine', () => {
  it('succeeds: the branches move onto the next candidate, are ESTABLISHED there, move back; per-branch report, no pin left', async () => {
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });

    const r = await w.run(INPUT);

    expect(r.status).toBe('SUCCEEDED');
    const report = r.output as RehearsalReport;
    expect(report).toMatchObject({
      outcome: 'SUCCEEDED',
      groupKey: LAB_GROUP,
      original: 'HA_DC1',
      target: 'HA_DC2',
      servingAfter: 'HA_DC1',
      pinLeft: false,
      requestedBy: 'noc@example.com',
    });
    expect(report.branches).toEqual([
      { branchId: 'BR1', moved: true, reached: true, returned: true },
      { branchId: 'BR2', moved: true, reached: true, returned: true },
    ]);
    // The world went there and back: every branch re-pointed onto HA_DC2, then onto HA_DC1.
    expect(repoints().sort()).toEqual(['BR1→HA_DC1', 'BR1→HA_DC2', 'BR2→HA_DC1', 'BR2→HA_DC2']);
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    const group = await w.repo.getGroup(LAB_GROUP);
    expect(group?.pin).toBeUndefined();
    expect(group?.servingId).toBe('HA_DC1');
    expect(r.states).toEqual(
      expect.arrayContaining(['CheckGroup', 'MoveToTarget', 'VerifyOnTarget', 'Restore', 'VerifyBack']),
    );
    expect(w.notices.filter((n) => n.kind === 'PIN').map((n) => n.reason)).toEqual([
      expect.stringMatching(/^rehearsal: standby check CHG-1 \(execution [\w-]+\) until /),
    ]);
    // Reported once: the notice and the audit event.
    expect(w.reports.map((x) => x.outcome)).toEqual(['SUCCEEDED']);
    const audits = await rehearsalAudits();
    expect(audits).toHaveLength(1);
    expect(audits[0]?.reason).toMatch(/succeeded \(2\/2 reached, 2\/2 returned\)/);
  });

  it('a broken standby tunnel: aborts at the verify timeout and restores; the report names the branch and why', async () => {
    // Over the simulator's HTTP fault API, as an operator of the sandbox would.
    const res = await fetch(`${w.sim.origin}/_sim/faults/breakTunnel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ branchId: 'BR2', concentratorId: 'HA_DC2' }),
    });
    expect(res.status).toBe(200);

    const r = await w.run(INPUT);

    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('RehearsalNotReachedError');
    expect(r.cause).toMatch(/aborted and restored/);
    // Polled until the timeout (60 s at 15 s a look), then moved back.
    expect(r.states.filter((s) => s === 'VerifyOnTarget').length).toBe(4);
    const report = reportOf(r);
    expect(report.outcome).toBe('ABORTED');
    expect(report.error?.name).toBe('RehearsalNotReachedError');
    expect(report.error?.message).toMatch(/BR2 \(IPSEC00 CREATED on HA_DC2, not ESTABLISHED\)/);
    expect(report.branches).toEqual([
      { branchId: 'BR1', moved: true, reached: true, returned: true },
      {
        branchId: 'BR2',
        moved: true,
        reached: false,
        returned: true,
        failure: 'not ESTABLISHED on HA_DC2: IPSEC00 CREATED on HA_DC2, not ESTABLISHED',
      },
    ]);
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    const group = await w.repo.getGroup(LAB_GROUP);
    expect(group?.pin).toBeUndefined();
    expect(group?.servingId).toBe('HA_DC1');
    expect(report.pinLeft).toBe(false);
    expect(w.reports.map((x) => x.outcome)).toEqual(['ABORTED']);
    expect(await rehearsalAudits()).toHaveLength(1);
  });

  it('a candidate going DOWN mid-rehearsal aborts and restores', async () => {
    let looks = 0;
    const r = await w.run(INPUT, async (p) => {
      // The health check records DR DOWN while the branches are on HA_DC2.
      if (p.task === 'verify' && p.phase === 'target' && ++looks === 1) await w.health({ DR: 'DOWN' });
    });

    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('RehearsalCandidateDownError');
    const report = reportOf(r);
    expect(report.outcome).toBe('ABORTED');
    expect(report.error?.message).toMatch(/candidate DR went DOWN/);
    expect(report.branches.map((b) => [b.branchId, b.moved, b.returned])).toEqual([
      ['BR1', true, true],
      ['BR2', true, true],
    ]);
    expect(repoints()).toEqual(expect.arrayContaining(['BR1→HA_DC2', 'BR2→HA_DC2']));
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    expect((await w.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
  });

  it('a DR workflow starting mid-rehearsal (it takes the DR lock) aborts and restores', async () => {
    const r = await w.run(INPUT, async (p) => {
      if (p.task === 'verify' && p.phase === 'target') await w.repo.acquireLock('arn:dr:switchover-1', 3600);
    });

    expect(r.error).toBe('RehearsalInterruptedError');
    expect(reportOf(r).error?.message).toMatch(
      /a DR workflow is running \(lock held by arn:dr:switchover-1 since .*\) during the rehearsal/,
    );
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    expect((await w.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
  });

  it('a re-point onto the target that fails aborts at once and restores; the report says which and why', async () => {
    // Every re-point attempt fails (two per branch: the adapter retries once).
    w.sim.faults.failNextRepoints(4);

    const r = await w.run(INPUT);

    expect(r.error).toBe('RehearsalMoveFailedError');
    expect(r.states.filter((s) => s === 'VerifyOnTarget')).toHaveLength(1);
    const report = reportOf(r);
    expect(report.outcome).toBe('ABORTED');
    expect(report.branches.map((b) => [b.branchId, b.moved, b.reached, b.returned])).toEqual([
      ['BR1', false, false, true],
      ['BR2', false, false, true],
    ]);
    expect(report.branches[0]?.failure).toMatch(/^re-point onto HA_DC2 failed: /);
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    expect((await w.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
  });

  it('a restore that fails (the director stops answering) ends RESTORE_FAILED; the pin lapses after the window', async () => {
    const r = await w.run(INPUT, async (p) => {
      if (p.task === 'restore') w.sim.faults.director('DC', { mode: 'error5xx' });
    });

    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('DirectorUnavailableError');
    const report = reportOf(r);
    expect(report.outcome).toBe('RESTORE_FAILED');
    expect(report.pinLeft).toBe(true);
    expect(report.summary).toMatch(/RESTORE FAILED .* the rehearsal's pin lapses at /);
    expect(report.branches.map((b) => [b.branchId, b.reached, b.returned])).toEqual([
      ['BR1', true, false],
      ['BR2', true, false],
    ]);
    // No permanent pin: it expires 15 minutes after the window's end.
    const pin = (await w.repo.getGroup(LAB_GROUP))?.pin;
    expect(pin?.concentratorId).toBe('HA_DC2');
    expect(pin?.expiresAt).toBe(Math.floor(w.startedAt / 1000) * 1000 + 75 * 60_000);
    expect(w.reports.map((x) => x.outcome)).toEqual(['RESTORE_FAILED']);
  });

  describe('refused, nothing changed', () => {
    it('a bad input fails at ValidateInput naming each field and value', async () => {
      const r = await w.run({
        ...INPUT,
        requestedBy: undefined,
        windowMinutes: undefined,
        notAfter: '2026-13-01T00:00:00Z',
        verifyTimeoutSec: 0,
      });
      expect(r.status).toBe('FAILED');
      expect(r.error).toBe('ValidationError');
      expect(r.cause).toMatch(/notAfter="2026-13-01T00:00:00Z": expected an ISO-8601 time/);
      expect(r.cause).toMatch(/verifyTimeoutSec=0: expected a positive number of seconds/);
      expect(r.cause).toMatch(/requestedBy=undefined/);
      expect(r.states).toEqual(['ValidateInput']);
      expect(repoints()).toEqual([]);
      expect(w.reports).toEqual([]);
    });

    it('observe-only mode: refused, nothing written', async () => {
      await w.dispose();
      w = await createRehearsalWorld({ mode: 'observe' });
      const r = await w.run(INPUT);
      expect([r.error, r.cause]).toEqual([
        'RehearsalRefusedError',
        expect.stringMatching(/observe-only \(config mode: observe\)/),
      ]);
      expect(repoints()).toEqual([]);
      expect((await w.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
      expect(w.reports.map((x) => x.outcome)).toEqual(['REFUSED']);
    });

    it('a window too short for both directions', async () => {
      const r = await w.run({ ...INPUT, windowMinutes: 1, verifyTimeoutSec: 60 });
      expect(r.error).toBe('ValidationError');
      expect(r.cause).toMatch(/windowMinutes=1: expected a window of at least two verify timeouts \(120 s/);
    });

    it('a group already pinned, a candidate not UP, an unknown target or group: RehearsalRefusedError / NotFoundError, reported', async () => {
      await pinGroup(w.failover, {
        tenantId: LAB_TENANT,
        haName: 'Chennai',
        concentratorId: 'HA_DC1',
        reason: 'firmware freeze',
        force: false,
      });
      const pinned = (await w.repo.getGroup(LAB_GROUP))?.pin;
      let r = await w.run(INPUT);
      expect([r.error, r.cause]).toEqual([
        'RehearsalRefusedError',
        expect.stringMatching(/pinned onto HA_DC1 \(firmware freeze\): unpin it first/),
      ]);
      expect((await w.repo.getGroup(LAB_GROUP))?.pin).toEqual(pinned);
      await w.failover.store.setPin(LAB_GROUP, undefined, { tenantId: LAB_TENANT, haName: 'Chennai' });

      await w.health({ DR: 'DOWN' });
      r = await w.run(INPUT);
      expect([r.error, r.cause]).toEqual([
        'RehearsalRefusedError',
        expect.stringMatching(/every candidate must be UP: DR is DOWN/),
      ]);
      await w.health({ DR: 'UP' });
      await w.repo.writeDirectorStatus({ site: 'DR', reachable: false, since: w.now(), reason: 'timeout' });
      r = await w.run(INPUT);
      expect(r.cause).toMatch(/every director must answer and see clearly: DR unreachable \(timeout\)/);
      await w.repo.writeDirectorStatus({ site: 'DR', reachable: true, since: w.now() });
      await w.repo.acquireLock('arn:aws:states:local:1:execution:dr:backup-1', 3600);
      r = await w.run(INPUT);
      expect(r.cause).toMatch(
        /a DR workflow is running \(lock held by arn:aws:states:local:1:execution:dr:backup-1 since /,
      );
      await w.repo.releaseLock('arn:aws:states:local:1:execution:dr:backup-1');
      r = await w.run({ ...INPUT, targetId: 'HA_DC9' });
      expect(r.cause).toMatch(/targetId="HA_DC9" is not a candidate of the group \(HA_DC1, HA_DC2, DR\)/);
      r = await w.run({ ...INPUT, targetId: 'HA_DC1' });
      expect(r.cause).toMatch(/another candidate than the serving HA_DC1/);
      r = await w.run({ ...INPUT, haName: 'Mumbai' });
      expect([r.error, r.cause]).toEqual([
        'NotFoundError',
        expect.stringMatching(/no HA group of that name \(groups: Chennai\)/),
      ]);

      expect(repoints()).toEqual([]);
      expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
      expect(w.reports.map((x) => x.outcome)).toEqual(Array(7).fill('REFUSED'));
      expect(w.reports.every((x) => x.branches.every((b) => !b.moved && b.failure === undefined))).toBe(true);
    });
  });

  it('preempt: false (election would keep the standby): the restore moves the group back onto the original itself', async () => {
    await w.dispose();
    w = await createRehearsalWorld({ settings: { preempt: false } });

    const r = await w.run(INPUT);

    expect(r.status).toBe('SUCCEEDED');
    expect((r.output as RehearsalReport).servingAfter).toBe('HA_DC1');
    expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    const group = await w.repo.getGroup(LAB_GROUP);
    expect([group?.servingId, group?.pin]).toEqual(['HA_DC1', undefined]);
    // Unpinned, election kept HA_DC2 (no preemption): the restore pinned HA_DC1 and unpinned again.
    expect(
      w.notices
        .filter((n) => n.kind === 'PIN' || n.kind === 'UNPIN')
        .map((n) => `${n.kind} ${n.to ?? n.from}`),
    ).toEqual(['PIN HA_DC2', 'UNPIN HA_DC2', 'PIN HA_DC1', 'UNPIN HA_DC1']);
  });

  it('every sample input under functions/rehearsal/events/ runs a rehearsal of the lab to success', async () => {
    const dir = join(PROJECT_ROOT, 'functions', 'rehearsal', 'events');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const input = JSON.parse(await readFile(join(dir, f), 'utf8')) as Record<string, unknown>;
      const r = await w.run(input);
      expect([f, r.status, r.error]).toEqual([f, 'SUCCEEDED', undefined]);
      const report = r.output as RehearsalReport;
      expect([f, report.target]).toEqual([f, input.targetId ?? 'HA_DC2']);
      expect(w.branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
    }
  });
});
