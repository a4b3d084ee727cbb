/** The Rehearsal execution input: defaults, the window resolved to ISO times, every bad field named. */
import { ValidationError } from '../../../shared/errors.js';
import { parseRehearsalInput } from '../../../shared/rehearsal/input.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const GOOD = {
  tenantId: 'lab-tenant',
  haName: 'Chennai',
  windowMinutes: 60,
  reason: 'standby check',
  requestedBy: 'noc@example.com',
};

function errorOf(input: unknown): ValidationError {
  try {
    parseRehearsalInput(input, NOW);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('parseRehearsalInput', () => {
  it('opens the window now by default, closes it windowMinutes later, verify timeout 300 s', () => {
    expect(parseRehearsalInput(GOOD, NOW)).toEqual({
      tenantId: 'lab-tenant',
      haName: 'Chennai',
      notBefore: '2026-12-01T10:00:00Z',
      notAfter: '2026-12-01T11:00:00Z',
      verifyTimeoutSec: 300,
      reason: 'standby check',
      requestedBy: 'noc@example.com',
    });
  });

  it('takes an explicit window in any zone and a target', () => {
    const out = parseRehearsalInput(
      {
        ...GOOD,
        windowMinutes: undefined,
        notBefore: '2026-12-02T07:30:00+05:30',
        notAfter: '2026-12-02T04:00:00Z',
        targetId: 'DR',
        verifyTimeoutSec: 120,
      },
      NOW,
    );
    expect(out).toMatchObject({
      notBefore: '2026-12-02T02:00:00Z',
      notAfter: '2026-12-02T04:00:00Z',
      targetId: 'DR',
      verifyTimeoutSec: 120,
    });
  });

  const bad: [what: string, input: Record<string, unknown>, field: string, expected: RegExp][] = [
    ['no tenant', { ...GOOD, tenantId: undefined }, 'tenantId', /string/],
    ['a bad HA_NAME', { ...GOOD, haName: 'a b/c' }, 'haName', /.+/],
    ['no requestedBy', { ...GOOD, requestedBy: undefined }, 'requestedBy', /string/],
    ['an unknown field', { ...GOOD, dryRun: true }, 'dryRun', /no such field/],
    [
      'no window end',
      { ...GOOD, windowMinutes: undefined },
      'notAfter',
      /exactly one of notAfter and windowMinutes/,
    ],
    ['both window ends', { ...GOOD, notAfter: '2026-12-01T12:00:00Z' }, 'notAfter', /exactly one/],
    [
      'a time without zone',
      { ...GOOD, notBefore: '2026-12-01T10:00:00' },
      'notBefore',
      /ISO-8601 time with a zone/,
    ],
    ['a zero verify timeout', { ...GOOD, verifyTimeoutSec: 0 }, 'verifyTimeoutSec', /positive/],
    [
      'a verify timeout over an hour',
      { ...GOOD, verifyTimeoutSec: 3601 },
      'verifyTimeoutSec',
      /at most 3600/,
    ],
    ['a window over 7 days', { ...GOOD, windowMinutes: 7 * 24 * 60 + 1 }, 'windowMinutes', /at most 10080/],
    [
      'a window that ended',
      {
        ...GOOD,
        windowMinutes: undefined,
        notBefore: '2026-12-01T08:00:00Z',
        notAfter: '2026-12-01T09:00:00Z',
      },
      'notAfter',
      /a window end in the future/,
    ],
    [
      'a window ending before it starts',
      {
        ...GOOD,
        windowMinutes: undefined,
        notBefore: '2026-12-01T13:00:00Z',
        notAfter: '2026-12-01T12:00:00Z',
      },
      'notAfter',
      /a window end after its start/,
    ],
    [
      'a window shorter than two verify timeouts',
      { ...GOOD, windowMinutes: 9 },
      'windowMinutes',
      /two verify timeouts \(600 s/,
    ],
  ];
  it.each(bad)('refuses %s, naming the field and the value', (_what, input, field, expected) => {
    const e = errorOf(input);
    const issue = e.issues.find((i) => i.path === field);
    expect(issue).toBeDefined();
    expect(issue?.expected).toMatch(expected);
    expect(e.message).toContain(`${field}=`);
  });

  it('treats a missing input as {} and names the required fields', () => {
    const e = errorOf(undefined);
    expect(e.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['tenantId', 'haName', 'reason', 'requestedBy']),
    );
  });
});
