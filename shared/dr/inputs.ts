/**
 * Execution inputs of the four DR state machines and the payloads of their tasks, validated with
 * zod. A bad input fails the execution in its first state with a ValidationError naming the
 * field, the value and what was expected; nothing is changed.
 */
import { z } from 'zod';
import { zodIssues } from '../config/load.js';
import { ValidationError } from '../errors.js';

/** The four DR workflows (state machine names end with these). */
export const WORKFLOWS = ['Backup', 'SwitchoverDcToDr', 'FailbackDrToDc', 'WeeklyDrill'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

const trigger = z.enum(['schedule', 'on-demand']).default('on-demand');
const reason = z.string().trim().min(1, 'a non-empty reason').max(500);

/** Backup: `{ "trigger": "on-demand", "reason": "before a change" }` (the cron sends `schedule`). */
export const backupInputSchema = z.object({ trigger, reason: reason.optional() }).strict();

/** SwitchoverDcToDr: `{ "mode": "unplanned", "reason": "DC site lost", "approval": false }`. */
export const switchoverInputSchema = z
  .object({
    mode: z.enum(['unplanned', 'planned']),
    reason,
    approval: z.boolean().default(false),
  })
  .strict();

/** FailbackDrToDc: `{ "reason": "DC site restored", "approval": false }`. */
export const failbackInputSchema = z.object({ reason, approval: z.boolean().default(false) }).strict();

/** WeeklyDrill: `{ "trigger": "schedule" }`. */
export const drillInputSchema = z.object({ trigger, reason: reason.optional() }).strict();

export const INPUT_SCHEMAS = {
  Backup: backupInputSchema,
  SwitchoverDcToDr: switchoverInputSchema,
  FailbackDrToDc: failbackInputSchema,
  WeeklyDrill: drillInputSchema,
} as const;

export type BackupInput = z.infer<typeof backupInputSchema>;
export type SwitchoverInput = z.infer<typeof switchoverInputSchema>;
export type FailbackInput = z.infer<typeof failbackInputSchema>;
export type DrillInput = z.infer<typeof drillInputSchema>;
/** Any validated execution input. */
export type WorkflowInput = BackupInput | SwitchoverInput | FailbackInput | DrillInput;

/** Parse with `schema`; a failure is a ValidationError naming every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, zodIssues(result.error, value));
  return result.data;
}

/** Validate a workflow's execution input (the first state of every DR state machine). */
export function parseWorkflowInput(workflow: Workflow, input: unknown): WorkflowInput {
  // A console "Start execution" with an empty box sends {}; null/undefined are treated the same.
  return parseWith(INPUT_SCHEMAS[workflow], input ?? {}, `${workflow} execution input`);
}
