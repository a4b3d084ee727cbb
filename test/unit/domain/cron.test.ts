import { cronMatches, parseCron, startedOnSchedule } from '../../../shared/domain/cron.js';

const at = (iso: string) => Date.parse(iso);

describe('EventBridge cron: did a run start at one of the schedule times', () => {
  it('daily at 12:00 UTC: the minute matches, a run 25 s late is on schedule, one at 13:00 is not', () => {
    const daily = parseCron('cron(0 12 * * ? *)');
    expect(cronMatches(daily, at('2026-12-01T12:00:40Z'))).toBe(true);
    expect(cronMatches(daily, at('2026-12-01T12:01:00Z'))).toBe(false);
    expect(startedOnSchedule(daily, at('2026-12-01T12:00:25Z'), 600_000)).toBe(true);
    expect(startedOnSchedule(daily, at('2026-12-01T12:09:59Z'), 600_000)).toBe(true);
    expect(startedOnSchedule(daily, at('2026-12-01T12:10:01Z'), 600_000)).toBe(false);
    expect(startedOnSchedule(daily, at('2026-12-01T11:59:59Z'), 600_000)).toBe(false);
  });

  it('weekday names (1 = Sunday), month names, lists, ranges and steps', () => {
    const sundays = parseCron('cron(0 3 ? * SUN *)');
    expect(cronMatches(sundays, at('2026-11-29T03:00:00Z'))).toBe(true); // a Sunday
    expect(cronMatches(sundays, at('2026-11-30T03:00:00Z'))).toBe(false);
    const busy = parseCron('cron(0/15 8-17 ? JAN,DEC MON-FRI 2026)');
    expect(cronMatches(busy, at('2026-12-01T08:45:00Z'))).toBe(true); // a Tuesday
    expect(cronMatches(busy, at('2026-12-01T18:00:00Z'))).toBe(false);
    expect(cronMatches(busy, at('2026-11-30T08:50:00Z'))).toBe(false);
    expect(cronMatches(busy, at('2027-01-04T09:00:00Z'))).toBe(false);
  });

  it.each([
    ['cron(0 12 * * *)', /6 fields/],
    ['cron(0 12 * * MON *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 12 L * ? *)', /L: expected 1–31/],
    ['cron(0 12 ? * 2#1 *)', /2#1: expected 1–7/],
    ['cron(61 12 * * ? *)', /61: expected 0–59/],
    ['rate(1 day)', /expected cron/],
    ['cron(1-2-3 12 * * ? *)', /a range has two ends/],
    ['cron(0/5/7 12 * * ? *)', /at most one step/],
  ])('refuses %s', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(message);
  });
});
