/**
 * EventBridge cron expressions (`cron(minutes hours day-of-month month day-of-week year)`, UTC),
 * for one question: did a run start at one of the schedule's times? The Backup workflow's Case1
 * cleanup runs only in a scheduled run, and an execution input saying `"trigger": "schedule"`
 * proves nothing (anyone allowed to start the state machine can write it), so the run's own
 * start time is checked against the schedule instead.
 *
 * Supported in each field: `*`, `?` (day fields), numbers, ranges `a-b`, steps `a/n`, `*\/n`,
 * `a-b/n`, lists, and month (JAN–DEC) and weekday (SUN–SAT, 1 = Sunday) names. `L`, `W` and `#`
 * are not: {@link parseCron} refuses them (as values out of range), so the configuration check
 * of the backup schedule does too.
 *
 * Pure: no I/O, no clock.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 1, max: 7, names: DAYS },
  { min: 1970, max: 2199 },
];

/** A parsed cron: per field the allowed values (undefined: any, `*` or `?`). */
export type ParsedCron = readonly (ReadonlySet<number> | undefined)[];

function value(word: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(word.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + spec.min : /^\d+$/.test(word) ? Number(word) : Number.NaN;
  if (!(n >= spec.min && n <= spec.max)) throw new RangeError(`${word}: expected ${spec.min}–${spec.max}`);
  return n;
}

function field(text: string, spec: FieldSpec): Set<number> | undefined {
  if (text === '*' || text === '?') return undefined;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const pieces = part.split('/');
    if (pieces.length > 2) throw new RangeError(`${part}: at most one step`);
    const [range = '', stepText] = pieces;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new RangeError(`${part}: a step must be a positive integer`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [spec.min, spec.max];
    else if (range.includes('-')) {
      const ends = range.split('-');
      if (ends.length !== 2) throw new RangeError(`${range}: a range has two ends`);
      const [a = '', b = ''] = ends;
      [lo, hi] = [value(a, spec), value(b, spec)];
    } else {
      lo = value(range, spec);
      hi = stepText === undefined ? lo : spec.max;
    }
    if (lo > hi) throw new RangeError(`${range}: the range is empty`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/**
 * Parse `cron(…)`; throws RangeError naming what is wrong (six fields, one of day-of-month and
 * day-of-week `?`, values in range, no `L`/`W`/`#`).
 */
export function parseCron(expression: string): ParsedCron {
  const m = /^cron\((.+)\)$/.exec(expression.trim());
  if (!m) throw new RangeError('expected cron(<6 fields>)');
  const parts = (m[1] as string).trim().split(/\s+/);
  if (parts.length !== 6) throw new RangeError(`expected 6 fields, got ${parts.length}`);
  if ((parts[2] === '?') === (parts[4] === '?'))
    throw new RangeError('exactly one of day-of-month and day-of-week must be "?"');
  return parts.map((p, i) => field(p, FIELDS[i] as FieldSpec));
}

/** Whether the minute of `atMs` (UTC) is one of the schedule's times. */
export function cronMatches(cron: ParsedCron, atMs: number): boolean {
  const d = new Date(atMs);
  const values = [
    d.getUTCMinutes(),
    d.getUTCHours(),
    d.getUTCDate(),
    d.getUTCMonth() + 1,
    d.getUTCDay() + 1,
    d.getUTCFullYear(),
  ];
  return values.every((v, i) => cron[i]?.has(v) ?? true);
}

/** Whether one of the schedule's times falls within `toleranceMs` before `atMs` (or at it). */
export function startedOnSchedule(cron: ParsedCron, atMs: number, toleranceMs: number): boolean {
  const minute = 60_000;
  for (let t = Math.ceil((atMs - toleranceMs) / minute) * minute; t <= atMs; t += minute) {
    if (cronMatches(cron, t)) return true;
  }
  return false;
}
