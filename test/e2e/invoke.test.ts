/**
 * `npm run invoke` end to end: one sandbox (in-process, time scale 60, no fault script) on the
 * test run's DynamoDB Local, and the real CLI as a child process for every sample event under
 * functions/*\/events/ (those of the console functions, the scheduled ones and the DR state
 * machines), each answer checked against what the event means in the sandbox's lab (tenant
 * lab-tenant, group Chennai: HA_DC1, HA_DC2, DR; branches BR1, BR2), and the sandbox's timeline
 * checked for each console operation and a fault injected through the simulator's `/_sim` API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_MACHINES } from '../../local/invoke/args.js';
import { SANDBOX_FILE_ENV, type SandboxEndpoints } from '../../local/sandbox/endpoints.js';
import { startSandbox, type RunningSandbox } from './run-sandbox.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const GROUP = 'lab-tenant#Chennai';

const dir = mkdtempSync(join(tmpdir(), 'cpe-invoke-'));
const endpointsFile = join(dir, 'endpoints.json');
let sandbox: RunningSandbox;
let endpoints: SandboxEndpoints;
/** Every sample this file has invoked (`pin/maintenance.json`). */
const invokedSamples = new Set<string>();

// The answers are checked field by field with toMatchObject.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Invoked {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON (undefined when it is not). */
  json: Json;
}

/** `npm run invoke -- <args>` as an operator runs it. */
function invoke(args: string[], env: Record<string, string> = {}): Promise<Invoked> {
  const sample = args[1] && !args[1].startsWith('{') ? args[1] : undefined;
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'invoke', '--', ...args], {
      env: { ...process.env, [SANDBOX_FILE_ENV]: endpointsFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  }).then((r) => {
    const target = args[0] ?? '';
    const folder = STATE_MACHINES[target] ?? target;
    if (sample && (r as Invoked).code === 0) invokedSamples.add(`${folder}/${sample}.json`);
    const approve = args.indexOf('--approve');
    if (approve >= 0 && (r as Invoked).code === 0) invokedSamples.add(`dr/${args[approve + 1]}.json`);
    return r as Invoked;
  });
}

/** Expect success and return the answer. */
async function ok(args: string[]): Promise<Json> {
  const r = await invoke(args);
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
  expect(r.json).toBeDefined();
  return r.json;
}

/** Status of the lab's tenant once its group serves from `servingId` (the failover acts on the role change). */
async function servingBecomes(servingId: string, timeoutMs = 30_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await ok(['status', 'tenant']);
    if (status.groups[0]?.servingId === servingId || Date.now() > deadline) return status.groups[0];
  }
}

/** Where the simulated world has each branch's tunnels. */
async function branchTargets(): Promise<Record<string, string | undefined>> {
  const res = await fetch(`${endpoints.simulator?.origin}/_sim/state?tenantId=lab-tenant`);
  const state = (await res.json()) as { cpes: { id: string; target?: string }[] };
  return Object.fromEntries(state.cpes.filter((c) => c.id.startsWith('BR')).map((c) => [c.id, c.target]));
}

async function simFault(action: string, body: unknown): Promise<void> {
  const res = await fetch(`${endpoints.simulator?.origin}/_sim/faults/${action}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  process.env[SANDBOX_FILE_ENV] = endpointsFile;
  sandbox = startSandbox(['--time-scale', '60', '--faults', 'none']);
  await sandbox.waitFor(/endpoints: /, 120_000);
  // Every candidate UP after the scaled hold (5 s), and HA_DC1 elected.
  await sandbox.waitFor(/HA_DC2 \(DC\/PASSIVE\)\s+UNKNOWN → UP/, 30_000);
  await sandbox.waitFor(/serving - → HA_DC1 \(epoch 1\)/, 30_000);
  endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as SandboxEndpoints;
}, 180_000);

afterAll(async () => {
  await sandbox?.stop();
  delete process.env[SANDBOX_FILE_ENV];
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('npm run invoke against the sandbox', () => {
  it('status (all, one tenant) and the tenant dry run show the lab group on HA_DC1, nothing to move', async () => {
    const [all, tenant, dry] = await Promise.all([
      ok(['status', 'all']),
      ok(['status', 'tenant']),
      ok(['update-branches', 'tenant-dry-run']),
    ]);
    for (const status of [all, tenant]) {
      expect(status.groups).toHaveLength(1);
      expect(status.groups[0]).toMatchObject({
        groupKey: GROUP,
        servingId: 'HA_DC1',
        branches: 2,
        drifted: [],
        candidates: [
          { id: 'HA_DC1', slot: 'DC/ACTIVE', health: 'UP', since: expect.stringMatching(ISO) },
          { id: 'HA_DC2', slot: 'DC/PASSIVE', health: 'UP' },
          { id: 'DR', slot: 'DR/ACTIVE', health: 'UP' },
        ],
      });
      expect(status.monitor).toMatchObject({ blind: false, case: 'clear' });
    }
    expect(dry).toMatchObject({
      tenantId: 'lab-tenant',
      dryRun: true,
      groups: [{ groupKey: GROUP, servingId: 'HA_DC1', held: false, plan: [] }],
    });
    expect(dry.groups[0].result).toBeUndefined();
  }, 60_000);

  it('pin maintenance moves the branches to HA_DC2 until an ISO time 8 h ahead; status shows it; unpin hands back', async () => {
    const before = Date.now();
    const pinned = await ok(['pin', 'maintenance']);
    expect(pinned).toMatchObject({
      groupKey: GROUP,
      servingId: 'HA_DC2',
      held: false,
      pin: {
        concentratorId: 'HA_DC2',
        by: 'noc@example.com',
        pinnedAt: expect.stringMatching(ISO),
        expiresAt: expect.stringMatching(ISO),
        expired: false,
      },
    });
    const expiresAt = Date.parse(pinned.pin.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 480 * 60_000);
    expect(expiresAt).toBeLessThan(Date.now() + 480 * 60_000);
    expect(await branchTargets()).toEqual({ BR1: 'HA_DC2', BR2: 'HA_DC2' });

    const status = await ok(['status', 'tenant']);
    expect(status.groups[0]).toMatchObject({
      servingId: 'HA_DC2',
      drifted: [],
      pin: { concentratorId: 'HA_DC2', expiresAt: pinned.pin.expiresAt, expired: false },
    });

    // The button on a group already where it belongs: nothing to move.
    const button = await ok(['update-branches', 'one-group']);
    expect(button).toMatchObject({
      dryRun: false,
      groups: [{ groupKey: GROUP, servingId: 'HA_DC2', result: { repointed: 0, unchanged: 2, failed: 0 } }],
    });

    const unpinned = await ok(['unpin', 'unpin']);
    expect(unpinned).toMatchObject({ groupKey: GROUP, servingId: 'HA_DC1', held: false });
    expect((await ok(['status', 'tenant'])).groups[0].pin).toBeUndefined();
    expect(await branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
  }, 90_000);

  it('the Concentrator page function renders the lab, plans, and pins from its form (a real pin, then unpinned)', async () => {
    const [page, plan] = await Promise.all([
      ok(['concentrator-page', 'render']),
      ok(['concentrator-page', 'plan']),
    ]);
    for (const html of [page, plan]) {
      expect(typeof html).toBe('string');
      expect(html).toContain('Chennai');
      expect(html).toContain('HA_DC1');
    }
    const before = Date.now();
    expect(typeof (await ok(['concentrator-page', 'pin']))).toBe('string');
    const pinned = (await ok(['status', 'tenant'])).groups[0];
    expect(pinned).toMatchObject({
      servingId: 'HA_DC2',
      pin: { concentratorId: 'HA_DC2', by: 'noc@example.com' },
    });
    expect(Date.parse(pinned.pin.expiresAt)).toBeGreaterThanOrEqual(before + 120 * 60_000);
    expect(await ok(['unpin', 'unpin'])).toMatchObject({ servingId: 'HA_DC1' });
  }, 90_000);

  it('the Rehearsal state machine practises a failover onto the next candidate and onto DR, and comes back', async () => {
    for (const [sample, target] of [
      ['lab-chennai', 'HA_DC2'],
      ['lab-chennai-onto-dr', 'DR'],
    ] as const) {
      const r = await ok(['Rehearsal', sample]);
      expect(r).toMatchObject({
        workflow: 'Rehearsal',
        status: 'SUCCEEDED',
        output: {
          outcome: 'SUCCEEDED',
          groupKey: GROUP,
          original: 'HA_DC1',
          target,
          servingAfter: 'HA_DC1',
          pinLeft: false,
          branches: [
            { branchId: 'BR1', moved: true, reached: true, returned: true },
            { branchId: 'BR2', moved: true, reached: true, returned: true },
          ],
        },
      });
    }
    expect(await branchTargets()).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC1' });
  }, 90_000);

  it('a fault injected through /_sim takes HA_DC2 DOWN; the forced pin still moves the group onto it', async () => {
    await simFault('cpeDown', { id: 'HA_DC2' });
    await sandbox.waitFor(/HA_DC2 \(DC\/PASSIVE\)\s+UP → DOWN/, 20_000);
    const refused = await invoke([
      'pin',
      '{"tenantId":"lab-tenant","haName":"Chennai","concentratorId":"HA_DC2","reason":"not forced"}',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /ValidationError: pin event is invalid: concentratorId="HA_DC2": expected a concentrator that is UP \(it is DOWN since \d{4}-/,
    );

    const forced = await ok(['pin', 'force-onto-down']);
    expect(forced).toMatchObject({
      servingId: 'HA_DC2',
      pin: { concentratorId: 'HA_DC2', reason: expect.stringContaining('INC-42') },
    });
    expect(forced.pin.expiresAt).toBeUndefined(); // until unpinned
    expect(await branchTargets()).toEqual({ BR1: 'HA_DC2', BR2: 'HA_DC2' });

    expect(await ok(['unpin', 'unpin'])).toMatchObject({ servingId: 'HA_DC1' });
    await simFault('cpeUp', { id: 'HA_DC2' });
  }, 90_000);

  it('the scheduled events run one health-check and one drift reconcile pass; ack-monitor-blind has nothing to acknowledge', async () => {
    const [health, reconcile, ack] = await Promise.all([
      ok(['health-check', 'scheduled']),
      ok(['reconcile', 'scheduled']),
      ok(['ack-monitor-blind', 'acknowledge']),
    ]);
    expect(ack).toMatchObject({
      acknowledged: false,
      stillBlind: false,
      message: 'the monitor is not blind: nothing to acknowledge',
      heldGroups: [],
    });
    expect(health).toMatchObject({ targets: 3, rounds: 12, unreachableSites: [], invalidCpes: 0 });
    expect(health.samples).toBeGreaterThanOrEqual(36);
    expect(reconcile).toMatchObject({ groups: 1, failed: 0, errors: [] });
  }, 60_000);

  it('the DR state machines run against the lab: backup, drill, planned switchover (approved), failback, unplanned switchover', async () => {
    const run = async (args: string[]) => {
      const r = await ok(args);
      expect({ args, status: r.status, error: r.error, cause: r.cause }).toEqual({
        args,
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      return r;
    };
    const backup = await run(['Backup', 'backup-on-demand']);
    expect(backup.states).toEqual(expect.arrayContaining(['StartBackup', 'VerifyBackup', 'ReleaseLock']));
    await run(['WeeklyDrill', 'weekly-drill']);

    const planned = await run([
      'SwitchoverDcToDr',
      'switchover-planned-with-approval',
      '--approve',
      'approval-task-output',
    ]);
    expect(planned.durationMs).toBeGreaterThan(0);
    expect(await servingBecomes('DR')).toMatchObject({ servingId: 'DR' });
    await run(['FailbackDrToDc', 'failback']);
    expect(await servingBecomes('HA_DC1')).toMatchObject({ servingId: 'HA_DC1' });

    await run(['SwitchoverDcToDr', 'switchover-unplanned']);
    expect(await servingBecomes('DR')).toMatchObject({ servingId: 'DR' });
  }, 180_000);

  it('bad invocations: a clear error, exit non-zero, nothing run', async () => {
    const [
      badJson,
      unknownFn,
      unknownSample,
      unknownGroup,
      drSample,
      noSandbox,
      noApproval,
      rehearsalSample,
    ] = await Promise.all([
      invoke(['pin', '{"tenantId": lab']),
      invoke(['nope', '{}']),
      invoke(['pin', 'no-such-sample']),
      invoke(['status', '{"tenantId":"tenant-a"}']),
      invoke(['dr', 'backup-on-demand']),
      invoke(['status', 'all'], { [SANDBOX_FILE_ENV]: join(dir, 'none.json') }),
      invoke(['SwitchoverDcToDr', 'switchover-planned-with-approval']),
      invoke(['rehearsal', 'lab-chennai']),
    ]);
    expect(badJson).toMatchObject({ code: 2, stdout: '' });
    expect(badJson.stderr).toMatch(/event is invalid: inline JSON=.*tenantId.*: expected valid JSON/);
    expect(unknownFn.code).toBe(2);
    expect(unknownFn.stderr).toMatch(
      /function="nope": expected ack-monitor-blind \| .*pin \| .*update-branches \| Backup \| SwitchoverDcToDr/,
    );
    expect(unknownSample.code).toBe(2);
    expect(unknownSample.stderr).toMatch(
      /event="no-such-sample": expected .*a sample of pin \(force-onto-down.json, maintenance.json\)/,
    );
    expect(unknownGroup.code).toBe(1);
    expect(unknownGroup.stderr).toMatch(/status failed .*: ValidationError: .*tenantId="tenant-a"/);
    expect(drSample.code).toBe(2);
    expect(drSample.stderr).toMatch(/run the state machine instead: npm run invoke -- <Backup\|/);
    expect(noSandbox.code).toBe(1);
    expect(noSandbox.stderr).toMatch(/no sandbox is running \(no .*none\.json\): start one with `npm start`/);
    expect(noApproval.code).toBe(1);
    expect(noApproval.stderr).toMatch(/--approve=undefined: expected the approver's answer/);
    expect(rehearsalSample.code).toBe(2);
    expect(rehearsalSample.stderr).toMatch(
      /run the state machine instead: npm run invoke -- <Rehearsal> <event>/,
    );
  }, 60_000);

  it('every sample event was invoked', () => {
    const root = join(process.cwd(), 'functions');
    const samples = readdirSync(root)
      .filter((fn) => existsSync(join(root, fn, 'events')))
      .flatMap((fn) => readdirSync(join(root, fn, 'events')).map((f) => `${fn}/${f}`))
      .sort();
    expect([...invokedSamples].sort()).toEqual(samples);
  });

  it("the sandbox's timeline shows each console operation (who, what, why, outcome) and the /_sim fault", () => {
    const text = sandbox.lines.join('\n');
    for (const re of [
      /console status via npm run invoke: all tenants → ok: 1 group\(s\): lab-tenant#Chennai serving HA_DC1/,
      /console update-branches via npm run invoke: tenant lab-tenant \(dry run\) → ok: /,
      /console pin via npm run invoke by noc@example\.com: lab-tenant\/Chennai onto HA_DC2 \(for 480 min\) because "HA_DC1 firmware upgrade, change CHG-1234" → ok: lab-tenant#Chennai serving HA_DC2 \(epoch \d+\), pinned to HA_DC2 until \d{4}-\d\d-\d\dT/,
      /notify \[PIN\] lab-tenant#Chennai .*until \d{4}-\d\d-\d\dT/,
      /console unpin via npm run invoke by noc@example\.com: lab-tenant\/Chennai because "maintenance done" → ok: /,
      /notify \[UNPIN\] lab-tenant#Chennai HA_DC2 → - \(epoch \d+\): maintenance done/,
      /fault via \/_sim \(zWAN\): cpeDown id=HA_DC2/,
      /console pin via npm run invoke: lab-tenant\/Chennai onto HA_DC2 because "not forced" → FAILED ValidationError/,
      /console pin via npm run invoke by noc@example\.com: lab-tenant\/Chennai onto HA_DC2 \(forced\)/,
      /console ack-monitor-blind via npm run invoke by noc@example\.com: because "DC1 site power loss.*" → ok: not acknowledged/,
      /console Backup via npm run invoke: because "before the director upgrade" → ok: Backup SUCCEEDED in/,
      /console SwitchoverDcToDr via npm run invoke: because "DC maintenance window" → ok: SwitchoverDcToDr SUCCEEDED/,
      /notify \[APPROVAL_REQUIRED\]/,
      /console status via npm run invoke: tenant tenant-a → FAILED ValidationError/,
      /console Rehearsal via npm run invoke by noc@example\.com: lab-tenant\/Chennai because "quarterly standby check, change CHG-2044" → ok: Rehearsal SUCCEEDED/,
      /console concentrator-page via npm run invoke: lab-tenant\/Chennai → ok: /,
    ]) {
      expect({ re: re.source, found: re.test(text) }).toEqual({ re: re.source, found: true });
    }
    // Pins are never shown as epoch milliseconds.
    expect(sandbox.lines.filter((l) => /(console pin|PIN\]).*\b1\d{12}\b/.test(l))).toEqual([]);
  });

  it('the endpoints file is removed when the sandbox stops', async () => {
    expect(existsSync(endpointsFile)).toBe(true);
    await sandbox.stop();
    expect(existsSync(endpointsFile)).toBe(false);
  }, 60_000);
});
