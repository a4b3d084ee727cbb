/**
 * The console operations' input events (an operator invokes these functions from the AWS
 * console with a JSON test event). Validated with zod; a bad event is a ValidationError naming
 * each field and its value, thrown before anything is read or changed.
 */
// zod/mini with the English messages: see ../config/zod-locale.ts.
import * as z from 'zod/mini';
import { zodIssues } from '../config/load.js';
import '../config/zod-locale.js';
import { ValidationError } from '../errors.js';
import { freeTextSchema, identifierSchema } from '../config/fields.js';

const id = identifierSchema;
const text = freeTextSchema;

/** An expiry: an ISO-8601 time with zone, or epoch milliseconds; becomes epoch ms. */
const EXPIRY_EXPECTED = 'an ISO-8601 time with a zone (e.g. "2026-11-22T06:00:00Z") or epoch milliseconds';
const expiry = z.pipe(
  z.union(
    [
      z.iso.datetime({ offset: true, error: EXPIRY_EXPECTED }),
      z.number({ error: EXPIRY_EXPECTED }).check(z.int(EXPIRY_EXPECTED), z.positive(EXPIRY_EXPECTED)),
    ],
    { error: EXPIRY_EXPECTED },
  ),
  z.transform((v: string | number) => (typeof v === 'number' ? v : Date.parse(v))),
);

/** `update-branches`: the "Update Branch to Active Node" button for one group or a tenant. */
export const updateBranchesEventSchema = z.strictObject({
  tenantId: id,
  /** One group; absent = every group of the tenant. */
  haName: z.optional(id),
  /** Return the plan, change nothing. */
  dryRun: z._default(z.boolean(), false),
});
export type UpdateBranchesEvent = z.output<typeof updateBranchesEventSchema>;

/** `pin`: force a group onto a named concentrator (maintenance). */
export const pinEventSchema = z
  .strictObject({
    tenantId: id,
    haName: id,
    concentratorId: id,
    reason: text,
    /** When the pin lapses; absent (and no `expiresInMinutes`) = until unpinned. */
    expiresAt: z.optional(expiry),
    /** Or: the pin lapses this many minutes from now (at most 7 days). */
    expiresInMinutes: z.optional(
      z
        .int('a whole number of minutes')
        .check(z.positive('a positive number of minutes'), z.lte(7 * 24 * 60, 'at most 10080 (7 days)')),
    ),
    /** Pin even onto a concentrator that is not UP. */
    force: z._default(z.boolean(), false),
    /** Who pinned (free text, e.g. an e-mail). */
    by: z.optional(text),
  })
  .check(
    // A pin says when it lapses at most once.
    z.refine((e) => e.expiresAt === undefined || e.expiresInMinutes === undefined, {
      message: 'either expiresAt or expiresInMinutes, not both',
      path: ['expiresInMinutes'],
    }),
  );
export type PinEvent = z.output<typeof pinEventSchema>;

/** `unpin`: hand the group back to election. */
export const unpinEventSchema = z.strictObject({
  tenantId: id,
  haName: id,
  reason: z.optional(text),
  by: z.optional(text),
});
export type UnpinEvent = z.output<typeof unpinEventSchema>;

/**
 * `ack-monitor-blind`: an operator has checked the health check's view after MONITOR_BLIND and
 * lets failover act on it (clears the latch; an unreachable director still holds).
 */
export const ackMonitorBlindEventSchema = z.strictObject({
  /** Why the view can be trusted (audited and notified). */
  reason: text,
  /** Who acknowledged (free text, e.g. an e-mail). */
  by: z.optional(text),
});
export type AckMonitorBlindEvent = z.output<typeof ackMonitorBlindEventSchema>;

/** `status`: every group (optionally of one tenant). */
export const statusEventSchema = z.strictObject({ tenantId: z.optional(id) });
export type StatusEvent = z.output<typeof statusEventSchema>;

/**
 * Validate an event; throws ValidationError naming each bad field. A null/undefined event (the
 * console's "{}" is fine) is treated as `{}` so required fields are named in the error.
 */
export function parseEvent<S extends z.ZodMiniType>(schema: S, input: unknown, what: string): z.output<S> {
  const value = input ?? {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(what, zodIssues(result.error, value));
}
