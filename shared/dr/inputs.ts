/**
 * Execution inputs of the four DR state machines and the payloads of their tasks, validated with
 * zod. A bad input fails the execution in its first state with a ValidationError naming the
 * field, the value and what was expected; nothing is changed.
 */
// zod/mini with the English messages (see ../config/zod-locale.ts): classic zod put ~450 KB
// into the DR bundle.
import * as z from 'zod/mini';
import { zodIssues } from '../config/load.js';
import '../config/zod-locale.js';
import { ValidationError } from '../errors.js';
import { freeTextSchema } from '../config/fields.js';

/** The four DR workflows (state machine names end with these). */
export const WORKFLOWS = ['Backup', 'SwitchoverDcToDr', 'FailbackDrToDc', 'WeeklyDrill'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

const trigger = z._default(z.enum(['schedule', 'on-demand']), 'on-demand');
const reason = freeTextSchema;

/** Backup: `{ "trigger": "on-demand", "reason": "before a change" }` (the cron sends `schedule`). */
export const backupInputSchema = z.strictObject({ trigger, reason: z.optional(reason) });

/** SwitchoverDcToDr: `{ "mode": "unplanned", "reason": "DC site lost", "approval": false }`. */
export const switchoverInputSchema = z.strictObject({
  mode: z.enum(['unplanned', 'planned']),
  reason,
  approval: z._default(z.boolean(), false),
});

/** FailbackDrToDc: `{ "reason": "DC site restored", "approval": false }`. */
export const failbackInputSchema = z.strictObject({ reason, approval: z._default(z.boolean(), false) });

/** WeeklyDrill: `{ "trigger": "schedule" }`. */
export const drillInputSchema = z.strictObject({ trigger, reason: z.optional(reason) });

export const INPUT_SCHEMAS = {
  Backup: backupInputSchema,
  SwitchoverDcToDr: switchoverInputSchema,
  FailbackDrToDc: failbackInputSchema,
  WeeklyDrill: drillInputSchema,
} as const;

export type BackupInput = z.output<typeof backupInputSchema>;
export type SwitchoverInput = z.output<typeof switchoverInputSchema>;
export type FailbackInput = z.output<typeof failbackInputSchema>;
export type DrillInput = z.output<typeof drillInputSchema>;
/** Any validated execution input. */
export type WorkflowInput = BackupInput | SwitchoverInput | FailbackInput | DrillInput;

/** Parse with `schema`; a failure is a ValidationError naming every bad field. */
export function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, zodIssues(result.error, value));
  return result.data;
}

/** Validate a workflow's execution input (the first state of every DR state machine). */
export function parseWorkflowInput(workflow: Workflow, input: unknown): WorkflowInput {
  // A console "Start execution" with an empty box sends {}; null/undefined are treated the same.
  return parseWith(INPUT_SCHEMAS[workflow], input ?? {}, `${workflow} execution input`);
}
