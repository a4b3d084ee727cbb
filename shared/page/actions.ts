/**
 * The Concentrator page's buttons: each maps a button press (which action, which group, the
 * form's inputs) to a console event, validates it with the console's own schema
 * (../failover/console-events.ts) and calls the console operation (../failover/console.ts).
 * A bad input comes back as an outcome naming the field and the value; nothing is changed then.
 * Both hosts (the dashboard widget and the sandbox page) call {@link runPageAction}.
 */
import * as z from 'zod/mini';
import '../config/zod-locale.js';
import { ValidationError } from '../errors.js';
import {
  acknowledgeMonitorBlind,
  pinGroup,
  unpinGroup,
  updateBranches,
  type UpdateBranchesGroup,
} from '../failover/console.js';
import {
  ackMonitorBlindEventSchema,
  parseEvent,
  pinEventSchema,
  unpinEventSchema,
  updateBranchesEventSchema,
} from '../failover/console-events.js';
import type { FailoverDeps } from '../failover/ports.js';

/** The page's actions. `plan` is the dry run of "Update Branch to Active Node", `apply` the real one. */
export const PAGE_ACTIONS = ['plan', 'apply', 'pin', 'unpin', 'ack-monitor-blind'] as const;
/** One of {@link PAGE_ACTIONS}. */
export type PageAction = (typeof PAGE_ACTIONS)[number];

/** The scope of the monitor-wide form (acknowledge MONITOR_BLIND), in place of a group key. */
export const MONITOR_SCOPE = 'monitor';

/**
 * The name of a form input of one group (or of {@link MONITOR_SCOPE}): inputs of every group's
 * form share one page (the widget sends them all at once), so each name carries its scope.
 */
export function fieldName(scope: string, field: string): string {
  return `${field}@${scope}`;
}

/** A button press. */
export const pageActionRequestSchema = z.object({
  action: z.enum(PAGE_ACTIONS),
  tenantId: z.optional(z.string()),
  haName: z.optional(z.string()),
});
/** A validated button press (the form's inputs travel apart, as {@link PageFields}). */
export type PageActionRequest = z.output<typeof pageActionRequestSchema>;

/** The form inputs as the host received them (name → value). */
export type PageFields = Readonly<Record<string, string | undefined>>;

/** What a button press did, for the page to show. */
export type PageOutcome =
  | {
      ok: true;
      action: PageAction;
      /** One line for the operator. */
      message: string;
      /** The group's plan (plan: what would be done; apply/pin/unpin: what was attempted). */
      groups?: UpdateBranchesGroup[];
      /** For `plan`: the group the apply button acts on. */
      applyTo?: { tenantId: string; haName?: string };
    }
  | {
      ok: false;
      action: PageAction | 'unknown';
      message: string;
      /** The validation issues (field, value, expected), when the input was bad. */
      issues?: readonly { path: string; value: unknown; expected: string }[];
    };

function failure(action: PageOutcome['action'], error: unknown): PageOutcome {
  if (error instanceof ValidationError) {
    return { ok: false, action, message: error.message, issues: error.issues };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { ok: false, action, message: `${e.name}: ${e.message}` };
}

/** An optional input: blank is absent. */
function optional(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Digits become a number; anything else stays as typed so the schema names it. */
function wholeNumber(value: string | undefined): number | string | undefined {
  const v = optional(value);
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
}

function summarize(groups: readonly UpdateBranchesGroup[], dryRun: boolean): string {
  return groups
    .map((g) => {
      const head = `${g.groupKey}: serving ${g.servingId ?? 'none'} (epoch ${g.epoch})`;
      if (g.error) return `${head}: ${g.error}`;
      if (g.held) return `${head}: held (${g.reason})`;
      if (dryRun || !g.result) return `${head}: ${g.plan.length} branch(es) to re-point`;
      const r = g.result;
      return `${head}: re-pointed ${r.repointed}, already right ${r.unchanged}, failed ${r.failed}`;
    })
    .join('; ');
}

/**
 * Run one button press. `by` is who pressed it when the form does not say (the host knows:
 * the dashboard's name, the sandbox). Never throws for bad input or a failed operation: the
 * outcome carries the error (and the operation changed nothing when the input was bad).
 */
export async function runPageAction(
  deps: FailoverDeps,
  input: unknown,
  fields: PageFields,
  by: string,
): Promise<PageOutcome> {
  const parsed = pageActionRequestSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const value = (input as { action?: unknown } | undefined)?.action;
    return failure(
      'unknown',
      new ValidationError('page action', [{ path: 'action', value, expected: PAGE_ACTIONS.join(' | ') }]),
    );
  }
  const request = parsed.data;
  const scope =
    request.action === 'ack-monitor-blind' ? MONITOR_SCOPE : `${request.tenantId}#${request.haName}`;
  const field = (name: string) => fields[fieldName(scope, name)];
  const who = optional(field('by')) ?? by;
  const group = { tenantId: request.tenantId, haName: request.haName };
  try {
    switch (request.action) {
      case 'plan':
      case 'apply': {
        const dryRun = request.action === 'plan';
        const event = parseEvent(updateBranchesEventSchema, { ...group, dryRun }, 'update-branches event');
        const out = await updateBranches(deps, event);
        return {
          ok: true,
          action: request.action,
          message: `${dryRun ? 'Plan (nothing changed)' : 'Applied'}: ${summarize(out.groups, dryRun)}`,
          groups: out.groups,
          ...(dryRun
            ? { applyTo: { tenantId: event.tenantId, ...(event.haName ? { haName: event.haName } : {}) } }
            : {}),
        };
      }
      case 'pin': {
        const event = parseEvent(
          pinEventSchema,
          {
            ...group,
            concentratorId: field('concentratorId'),
            reason: field('reason') ?? '',
            expiresAt: optional(field('expiresAt')),
            expiresInMinutes: wholeNumber(field('expiresInMinutes')),
            force: field('force') === 'on' || field('force') === 'true',
            by: who,
          },
          'pin event',
        );
        const out = await pinGroup(deps, event);
        const until =
          out.pin.expiresAt !== undefined ? ` until ${new Date(out.pin.expiresAt).toISOString()}` : '';
        return {
          ok: true,
          action: 'pin',
          message: `Pinned ${out.groupKey} on ${out.pin.concentratorId}${until}: ${summarize([out], false)}`,
          groups: [out],
        };
      }
      case 'unpin': {
        const reason = optional(field('reason'));
        const event = parseEvent(
          unpinEventSchema,
          { ...group, ...(reason !== undefined ? { reason } : {}), by: who },
          'unpin event',
        );
        const out = await unpinGroup(deps, event);
        return { ok: true, action: 'unpin', message: `Unpinned: ${summarize([out], false)}`, groups: [out] };
      }
      case 'ack-monitor-blind': {
        const event = parseEvent(
          ackMonitorBlindEventSchema,
          { reason: field('reason') ?? '', by: who },
          'ack-monitor-blind event',
        );
        const out = await acknowledgeMonitorBlind(deps, event);
        return { ok: true, action: 'ack-monitor-blind', message: out.message };
      }
    }
  } catch (error) {
    deps.log.warn('page action failed', { action: request.action, error: (error as Error).message });
    return failure(request.action, error);
  }
}
