/**
 * zod schemas of the two kinds of operator-entered strings, over the domain's one statement of
 * them (shared/domain/identifiers.ts): an identifier (tenant id, HA_NAME, CPE id) and a line of
 * free text (a reason, `by`). Surrounding spaces are trimmed first.
 */
import * as z from 'zod/mini';
import './zod-locale.js';
import {
  FREE_TEXT_EXPECTED,
  FREE_TEXT_MAX_CHARS,
  IDENTIFIER_EXPECTED,
  isFreeText,
  isIdentifier,
} from '../domain/identifiers.js';
import { parseCron } from '../domain/cron.js';

/** A tenant id, HA_NAME or CPE id. */
export const identifierSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'a non-empty string'), z.refine(isIdentifier, IDENTIFIER_EXPECTED));

/** A reason or `by`: one non-empty line, bounded. */
export const freeTextSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'a non-empty string'), z.refine(isFreeText, FREE_TEXT_EXPECTED));

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/**
 * Whether `expression` is an EventBridge schedule expression: `rate(<n> <unit>)` with a
 * positive n and the unit's singular only for 1, or a `cron(<6 fields>)` that
 * shared/domain/cron.ts reads (values in range, exactly one of day-of-month and day-of-week `?`;
 * `L`, `W` and `#` are not supported). Checked when the configuration is read, so `cdk synth`
 * fails on a bad one instead of the deployment.
 */
export function isScheduleExpression(expression: string): boolean {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] as string;
    return n >= 1 && (n === 1) === !unit.endsWith('s');
  }
  try {
    parseCron(expression);
    return true;
  } catch {
    return false;
  }
}

/** An EventBridge schedule expression (see {@link isScheduleExpression}). */
export const scheduleSchema = z
  .string()
  .check(
    z.refine(
      isScheduleExpression,
      'an EventBridge schedule expression: rate(<n> minutes|hours|days) or cron(<6 fields>, one of day-of-month and day-of-week "?")',
    ),
  );

// Second-level public suffixes common enough to list: `*.co.uk` is as wide as `*.com`.
const PUBLIC_SECOND_LEVEL = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'com.au',
  'net.au',
  'co.jp',
  'com.cn',
  'net.cn',
  'co.in',
  'gov.in',
  'com.br',
  'co.nz',
  'com.sg',
  'co.za',
]);

/**
 * Whether a redirect-host entry stays within one registrable domain: a host name, or
 * `*.<domain>` whose domain has at least two labels and is not a listed public suffix
 * (`*.meraki.com` yes; `*.com`, `*.co.uk` no).
 */
export function isNarrowHostPattern(pattern: string): boolean {
  const host = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i.exec(pattern);
  if (!host) return false;
  if (!host[1]) return true;
  const domain = (host[2] as string).toLowerCase();
  return domain.includes('.') && !PUBLIC_SECOND_LEVEL.has(domain);
}

/**
 * The Backup schedule: a cron expression only (not `rate(…)`), in the subset shared/domain/cron.ts
 * reads, because the Case1 cleanup checks a run's start time against it.
 */
export const backupScheduleSchema = z.string().check(
  z.superRefine((expression, ctx) => {
    try {
      parseCron(expression);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `an EventBridge cron(<6 fields>) without L, W or # (${(error as Error).message}); the scheduled run's Case1 cleanup is checked against it`,
        input: expression,
      });
    }
  }),
);

/**
 * Whether a director URL may carry the API key: `https:`, or `http:` only to this machine
 * (loopback, `localhost`) or to a special-use name that never resolves on the internet
 * (`.localhost`, `.test`, `.invalid`: the sandbox, the tests, the checker); never with
 * credentials in it. Anything else (`http://` across a network, `javascript:`, `file:`) is refused.
 */
export function isDirectorUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  // Credentials would travel in every log of the URL; a query or fragment would swallow the paths
  // appended to the base.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return false;
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /\.(localhost|test|invalid)$/.test(host)
  );
}

/** A director's URL (see {@link isDirectorUrl}). */
export const directorUrlSchema = z
  .string()
  .check(
    z.refine(
      isDirectorUrl,
      'an https:// URL without credentials, query or fragment (http:// only to loopback or a .test/.invalid/.localhost name)',
    ),
  );

/**
 * Free text that must never fail the step it arrives in (an approver's note on an approval):
 * any string, made one line (control characters and line breaks become spaces) and cut to the
 * free-text bound, instead of refused.
 */
export const lenientTextSchema = z.pipe(
  z.string(),
  z.transform((v: string) =>
    [...v.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim()].slice(0, FREE_TEXT_MAX_CHARS).join(''),
  ),
);
