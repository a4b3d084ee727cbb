/** The sandbox timeline's lines for console operations and /_sim faults (local/sandbox/timeline.ts). */
import { describe, expect, it } from '@jest/globals';
import { formatConsoleOperation, formatSimFault } from '../../../local/sandbox/timeline.js';

const via = 'npm run invoke';

describe('timeline lines', () => {
  it('a pin: who, the group, onto what, for how long, why, and what came of it (times as ISO)', () => {
    const line = formatConsoleOperation({
      function: 'pin',
      via,
      event: {
        tenantId: 'lab-tenant',
        haName: 'Chennai',
        concentratorId: 'HA_DC2',
        reason: 'firmware',
        expiresInMinutes: 480,
        by: 'noc@example.com',
      },
      result: {
        groupKey: 'lab-tenant#Chennai',
        servingId: 'HA_DC2',
        epoch: 2,
        plan: [{ branchId: 'BR1', to: 'HA_DC2' }],
        result: { repointed: 1, unchanged: 1, failed: 0 },
        pin: { concentratorId: 'HA_DC2', expiresAt: '2026-12-02T00:00:00.000Z' },
      },
    });
    expect(line).toBe(
      'console pin via npm run invoke by noc@example.com: lab-tenant/Chennai onto HA_DC2 (for 480 min) because "firmware" → ' +
        'ok: lab-tenant#Chennai serving HA_DC2 (epoch 2), pinned to HA_DC2 until 2026-12-02T00:00:00.000Z, ' +
        '1 re-point(s) planned, re-pointed 1, already right 1, failed 0',
    );
  });

  it('a failure names the error; status of every tenant; a dry run; a state machine; plain counts', () => {
    expect(
      formatConsoleOperation({
        function: 'pin',
        via,
        event: { tenantId: 'lab-tenant', haName: 'Nope', concentratorId: 'X', reason: 'r', force: true },
        error: { name: 'NotFoundError', message: 'no such group' },
      }),
    ).toBe(
      'console pin via npm run invoke: lab-tenant/Nope onto X (forced) because "r" → FAILED NotFoundError: no such group',
    );
    expect(
      formatConsoleOperation({
        function: 'status',
        via,
        event: {},
        result: { groups: [{ groupKey: 'a#b', servingId: 'HA_DC1', epoch: 1 }] },
      }),
    ).toBe('console status via npm run invoke: all tenants → ok: 1 group(s): a#b serving HA_DC1 (epoch 1)');
    expect(
      formatConsoleOperation({
        function: 'update-branches',
        via,
        event: { tenantId: 't', dryRun: true },
        result: { dryRun: true, groups: [{ groupKey: 't#g', epoch: 0, plan: [] }] },
      }),
    ).toBe(
      'console update-branches via npm run invoke: tenant t (dry run) → ok: 1 group(s): t#g serving - (epoch 0), 0 re-point(s) planned',
    );
    expect(
      formatConsoleOperation({
        function: 'Backup',
        via,
        event: { trigger: 'on-demand', reason: 'before the upgrade' },
        result: { workflow: 'Backup', status: 'SUCCEEDED', executionId: 'arn:x', durationMs: 2100 },
      }),
    ).toBe(
      'console Backup via npm run invoke: because "before the upgrade" → ok: Backup SUCCEEDED in 2.1 s (execution arn:x)',
    );
    expect(
      formatConsoleOperation({
        function: 'health-check',
        via,
        event: {},
        result: { startedAt: Date.parse('2026-12-01T12:00:00Z'), samples: 60, transitions: [] },
      }),
    ).toBe('console health-check via npm run invoke → ok: startedAt=2026-12-01T12:00:00.000Z samples=60');
  });

  it("a state machine input's requestedBy says who", () => {
    expect(
      formatConsoleOperation({
        function: 'Rehearsal',
        via,
        event: { tenantId: 't', haName: 'g', reason: 'check', requestedBy: 'noc' },
        error: { name: 'RehearsalRefusedError', message: 'the DR lock is held' },
      }),
    ).toBe(
      'console Rehearsal via npm run invoke by noc: t/g because "check" → FAILED RehearsalRefusedError: the DR lock is held',
    );
  });

  it('a /_sim fault: the director, the action and its arguments', () => {
    expect(formatSimFault('zWAN', 'setLoss', { id: 'BR1', lossPct: 40 })).toBe(
      'fault via /_sim (zWAN): setLoss id=BR1 lossPct=40',
    );
    expect(formatSimFault('Meraki', 'heal', {})).toBe('fault via /_sim (Meraki): heal');
  });
});
