/** Observing a rehearsed group's branches, and the per-branch report built from an execution's state. */
import type { Branch, Concentrator, HaGroup, TunnelState } from '../../../shared/domain/model.js';
import { describeNotOk, observeBranches } from '../../../shared/rehearsal/observe.js';
import { buildReport, causeMessage, type RehearsalState } from '../../../shared/rehearsal/report.js';

const IDENT = 'CHENNAI-HA-00';
const concentrator = (id: string, tunnelId: string, slot: Concentrator['slot']): Concentrator => ({
  kind: 'concentrator',
  id,
  name: id,
  tenantId: 't',
  haName: 'Chennai',
  site: slot.startsWith('DC') ? 'DC' : 'DR',
  haState: 'PASSIVE',
  slot,
  wans: [],
  lans: [],
  tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId, state: 'ESTABLISHED' }],
});
const branch = (id: string, tunnelId: string, state: TunnelState): Branch => ({
  kind: 'branch',
  id,
  name: id,
  tenantId: 't',
  haName: 'Chennai',
  wans: [],
  lans: [],
  tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: IDENT, tunnelId, state }],
});
const group = (branches: Branch[]): HaGroup => ({
  tenantId: 't',
  haName: 'Chennai',
  key: 't#Chennai',
  candidates: [concentrator('DC1', 'aaa', 'DC/ACTIVE'), concentrator('DC2', 'bbb', 'DC/PASSIVE')],
  branches,
});
const AT = Date.parse('2026-12-01T10:00:00Z');

describe('observeBranches', () => {
  it('a branch is ok only when every tunnel is ESTABLISHED on the expected concentrator', () => {
    const g = group([
      branch('B1', 'bbb', 'ESTABLISHED'),
      branch('B2', 'bbb', 'CREATED'),
      branch('B3', 'aaa', 'ESTABLISHED'),
    ]);
    const seen = observeBranches(g, ['B1', 'B2', 'B3', 'B4'], 'DC2', AT);
    expect(seen).toEqual({
      expected: 'DC2',
      done: false,
      at: '2026-12-01T10:00:00.000Z',
      ok: 1,
      notOk: [
        { branchId: 'B2', why: 'IPSEC00 CREATED on DC2, not ESTABLISHED' },
        { branchId: 'B3', why: 'IPSEC00 on DC1, not DC2' },
        { branchId: 'B4', why: 'not listed by the director' },
      ],
    });
    expect(describeNotOk(seen)).toBe(
      'B2 (IPSEC00 CREATED on DC2, not ESTABLISHED), B3 (IPSEC00 on DC1, not DC2), B4 (not listed by the director)',
    );
    expect(observeBranches(g, ['B1'], 'DC2', AT).done).toBe(true);
  });

  it('names a tunnel ID no candidate owns', () => {
    const seen = observeBranches(group([branch('B1', 'zzz', 'ESTABLISHED')]), ['B1'], 'DC1', AT);
    expect(seen.notOk[0]?.why).toBe('IPSEC00 on unknown tunnel ID zzz, not DC1');
  });
});

describe('buildReport', () => {
  const input = {
    tenantId: 't',
    haName: 'Chennai',
    notBefore: '2026-12-01T10:00:00.000Z',
    notAfter: '2026-12-01T11:00:00.000Z',
    verifyTimeoutSec: 60,
    reason: 'check',
    requestedBy: 'noc',
  };
  const check = {
    groupKey: 't#Chennai',
    originalId: 'DC1',
    targetId: 'DC2',
    branchIds: ['B1', 'B2'],
    candidateIds: ['DC1', 'DC2'],
    epoch: 3,
    siteRoles: 'DC ACTIVE, DR PASSIVE',
  };
  const moved = {
    servingId: 'DC2',
    epoch: 4,
    pinExpiresAt: '2026-12-01T11:15:00.000Z',
    failedBranches: [{ branchId: 'B2', error: '503' }],
    deadline: '2026-12-01T10:01:00.000Z',
  };
  const obs = (expected: string, okB1: boolean, okB2: boolean) => ({
    expected,
    done: okB1 && okB2,
    at: 'x',
    ok: Number(okB1) + Number(okB2),
    notOk: [
      ...(okB1 ? [] : [{ branchId: 'B1', why: 'w1' }]),
      ...(okB2 ? [] : [{ branchId: 'B2', why: 'w2' }]),
    ],
  });

  it('an aborted run: the first failure of each branch, the error from a Lambda JSON cause', () => {
    const state: RehearsalState = {
      input,
      check,
      moved,
      onTarget: obs('DC2', true, false),
      error: {
        Error: 'RehearsalMoveFailedError',
        Cause: JSON.stringify({ errorMessage: 're-point failed for B2' }),
      },
      restore: { servingId: 'DC1', unpinned: true, deadline: 'x' },
      back: obs('DC1', true, false),
    };
    const r = buildReport({ outcome: 'ABORTED', executionId: 'arn:x', state, now: 'now', pinLeft: false });
    expect(r.branches).toEqual([
      { branchId: 'B1', moved: true, reached: true, returned: true },
      {
        branchId: 'B2',
        moved: false,
        reached: false,
        returned: false,
        failure: 're-point onto DC2 failed: 503',
      },
    ]);
    expect(r.error).toEqual({ name: 'RehearsalMoveFailedError', message: 're-point failed for B2' });
    expect(r.summary).toBe(
      'rehearsal of t#Chennai DC1 → DC2 → DC1: aborted and restored (1/2 reached, 1/2 returned): RehearsalMoveFailedError: re-point failed for B2',
    );
  });

  it('a restore that failed says so and when the pin lapses; a fresh observation stands in for VerifyBack', () => {
    const state: RehearsalState = {
      input,
      check,
      moved: { ...moved, failedBranches: [] },
      onTarget: obs('DC2', true, true),
      restoreError: { Error: 'DirectorUnavailableError', Cause: 'no answer' },
    };
    const r = buildReport({
      outcome: 'RESTORE_FAILED',
      executionId: 'arn:x',
      state,
      now: 'now',
      pinLeft: true,
      current: obs('DC2', false, false),
    });
    expect(r.branches.map((b) => b.failure)).toEqual(['not back on DC2: w1', 'not back on DC2: w2']);
    expect(r.summary).toMatch(
      /RESTORE FAILED .*DirectorUnavailableError: no answer; the rehearsal's pin lapses at 2026-12-01T11:15:00.000Z$/,
    );
  });

  it('a refusal lists the branches unmoved, without failures', () => {
    const r = buildReport({
      outcome: 'REFUSED',
      executionId: 'arn:x',
      state: { input, check, error: { Error: 'RehearsalRefusedError', Cause: 'pinned' } },
      now: 'now',
      pinLeft: false,
    });
    expect(r.branches).toEqual([
      { branchId: 'B1', moved: false, reached: false, returned: false },
      { branchId: 'B2', moved: false, reached: false, returned: false },
    ]);
    expect(r.summary).toBe(
      'rehearsal of t#Chennai DC1 → DC2 → DC1: refused, nothing changed: RehearsalRefusedError: pinned',
    );
  });

  it('causeMessage: plain text or Lambda JSON', () => {
    expect(causeMessage({ Error: 'E', Cause: 'plain' })).toBe('plain');
    expect(causeMessage({ Error: 'E', Cause: '{"errorType":"E","errorMessage":"m"}' })).toBe('m');
    expect(causeMessage({ Error: 'E' })).toBe('');
  });
});
