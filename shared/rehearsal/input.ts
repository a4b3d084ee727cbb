/**
 * The execution input of the Rehearsal state machine (a failover rehearsal of one HA group),
 * validated with zod. A bad input fails the execution in its first state with a ValidationError
 * naming the field, the value and what was expected; nothing is read or changed.
 */
import * as z from 'zod/mini';
import { zodIssues } from '../config/load.js';
import '../config/zod-locale.js';
import { freeTextSchema, identifierSchema } from '../config/fields.js';
import { ValidationError } from '../errors.js';

const ISO_EXPECTED = 'an ISO-8601 time with a zone (e.g. "2026-12-05T02:00:00Z")';
const isoTime = z.iso.datetime({ offset: true, error: ISO_EXPECTED });

/** Longest verify timeout (s): one hour per direction. */
export const MAX_VERIFY_TIMEOUT_SEC = 3600;
/** Longest window (minutes): a rehearsal is a practice run, not a maintenance (7 days). */
export const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** Minutes the rehearsal's pin outlives the window, so a crashed execution leaves no permanent pin. */
export const PIN_MARGIN_MINUTES = 15;

/** What the operator types into "Start execution". */
export const rehearsalInputSchema = z
  .strictObject({
    tenantId: identifierSchema,
    haName: identifierSchema,
    /** The window opens (absent: at once). The machine waits for it. */
    notBefore: z.optional(isoTime),
    /** The window closes: the rehearsal does not begin after it. */
    notAfter: z.optional(isoTime),
    /** Or: the window closes this many minutes after it opens. */
    windowMinutes: z.optional(
      z
        .int('a whole number of minutes')
        .check(
          z.positive('a positive number of minutes'),
          z.lte(MAX_WINDOW_MINUTES, `at most ${MAX_WINDOW_MINUTES} (7 days)`),
        ),
    ),
    /** The concentrator to rehearse onto; absent: the candidate after the serving one. */
    targetId: z.optional(identifierSchema),
    /** How long each direction may take until every branch's tunnels are ESTABLISHED. */
    verifyTimeoutSec: z._default(
      z
        .int('a whole number of seconds')
        .check(
          z.positive('a positive number of seconds'),
          z.lte(MAX_VERIFY_TIMEOUT_SEC, `at most ${MAX_VERIFY_TIMEOUT_SEC}`),
        ),
      300,
    ),
    reason: freeTextSchema,
    /** Who asked for it (audited and notified). */
    requestedBy: freeTextSchema,
  })
  .check(
    z.refine((e) => (e.notAfter === undefined) !== (e.windowMinutes === undefined), {
      message: 'exactly one of notAfter and windowMinutes',
      path: ['notAfter'],
    }),
  );

/** The validated input with the window resolved to ISO times (what every later state reads at `$.input`). */
export interface RehearsalInput {
  tenantId: string;
  haName: string;
  notBefore: string;
  notAfter: string;
  targetId?: string;
  verifyTimeoutSec: number;
  reason: string;
  requestedBy: string;
}

/**
 * Validate the execution input at `now` (epoch ms) and resolve the window: it must end after it
 * starts, end in the future, and leave room for both directions (two verify timeouts).
 */
export function parseRehearsalInput(input: unknown, now: number): RehearsalInput {
  const value = input ?? {};
  const parsed = rehearsalInputSchema.safeParse(value);
  if (!parsed.success) throw new ValidationError('Rehearsal execution input', zodIssues(parsed.error, value));
  const e = parsed.data;
  const start = e.notBefore !== undefined ? Date.parse(e.notBefore) : now;
  const end = e.notAfter !== undefined ? Date.parse(e.notAfter) : start + (e.windowMinutes ?? 0) * 60_000;
  const fail = (path: string, v: unknown, expected: string): never => {
    throw new ValidationError('Rehearsal execution input', [{ path, value: v, expected }]);
  };
  const endField = e.notAfter !== undefined ? 'notAfter' : 'windowMinutes';
  const endValue = e.notAfter ?? e.windowMinutes;
  if (end <= start)
    fail(endField, endValue, `a window end after its start (${new Date(start).toISOString()})`);
  if (end <= now) fail(endField, endValue, `a window end in the future (now ${new Date(now).toISOString()})`);
  const needMs = 2 * e.verifyTimeoutSec * 1000;
  if (end - Math.max(start, now) < needMs) {
    fail(
      endField,
      endValue,
      `a window of at least two verify timeouts (${2 * e.verifyTimeoutSec} s: onto the target and back)`,
    );
  }
  if (end - start > MAX_WINDOW_MINUTES * 60_000) fail(endField, endValue, 'a window of at most 7 days');
  // Whole seconds: the Wait state's timestamp (RFC 3339) in its plainest form.
  const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return {
    tenantId: e.tenantId,
    haName: e.haName,
    notBefore: iso(start),
    notAfter: iso(end),
    ...(e.targetId !== undefined ? { targetId: e.targetId } : {}),
    verifyTimeoutSec: e.verifyTimeoutSec,
    reason: e.reason,
    requestedBy: e.requestedBy,
  };
}
