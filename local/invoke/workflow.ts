/**
 * A state machine run by `npm run invoke -- <machine> <input>`: the definition the sandbox
 * synthesized (from its endpoints file), executed here with aws-local-stepfunctions, every task
 * on the real function behind it (functions/dr/handler.ts, functions/rehearsal/handler.ts) with
 * the sandbox's environment, so e.g. the DR directors' jobs run in the sandbox's simulator and
 * write its S3 emulator. Wait states and retry intervals are shortened; an approval step is
 * answered with `--approve`'s output (what `aws stepfunctions send-task-success` sends in AWS).
 */
import type { Context } from 'aws-lambda';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { SandboxEndpoints } from '../sandbox/endpoints.js';
import { FUNCTIONS_DIR } from './args.js';
import { LocalTaskTokens, runDrWorkflow, type RunResult } from '../sandbox/scenarios/dr-machines.js';

/** Wait states last this long (ms): job polls and the like. */
const WAIT_MS = 250;
/** Between retries (ms): e.g. fencing an old site while it drains. */
const RETRY_MS = 500;

/** What invoke prints for a state machine run. */
export interface WorkflowAnswer {
  /** The state machine's short name. */
  workflow: string;
  status: RunResult['status'];
  executionId: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** States entered, in order. */
  states: string[];
  durationMs: number;
}

/** Options of {@link runStateMachine}. */
export interface WorkflowRunOptions {
  /** The approval step's answer; required when the input asks for approval. */
  approve?: unknown;
  /** One line per state entered, failure and approval (invoke prints them on stderr). */
  progress: (line: string) => void;
}

/** Run `workflow` with `input` to its end; resolves with the execution's outcome (a failed one too). */
export async function runStateMachine(
  endpoints: SandboxEndpoints,
  workflow: string,
  input: unknown,
  options: WorkflowRunOptions,
): Promise<WorkflowAnswer> {
  const machine = endpoints.stateMachines?.[workflow];
  if (!machine) {
    const has = Object.keys(endpoints.stateMachines ?? {});
    throw new NotFoundError(
      `the running sandbox (${endpoints.director}) has no state machine ${workflow} ` +
        `(it has ${has.join(', ') || 'none'}); the DR ones need plain \`npm start\` (zWAN, no --scenario)`,
    );
  }
  const asksApproval = (input as { approval?: unknown } | null)?.approval === true;
  if (asksApproval && options.approve === undefined) {
    throw new ValidationError('invoke arguments', [
      {
        path: '--approve',
        value: undefined,
        expected: `the approver's answer: ${workflow} with "approval": true waits for it (e.g. --approve approval-task-output)`,
      },
    ]);
  }
  // Imported only now: Powertools reads the environment once, when its modules load.
  const { localContext } = await import('../sandbox/core-parts.js');
  const { handler } = (await import(
    pathToFileURL(join(FUNCTIONS_DIR, machine.function, 'handler.ts')).href
  )) as { handler: (event: unknown, context: Context) => Promise<unknown> };
  const timeoutMs = (endpoints.functionTimeoutsSec[machine.function] ?? 600) * 1000;
  const tokens = new LocalTaskTokens();
  if (options.approve !== undefined) {
    void tokens.next().then((token) => {
      options.progress(`${workflow}: approval requested; answering with ${JSON.stringify(options.approve)}`);
      tokens.sendTaskSuccess(token, options.approve);
    });
  }
  const r = await runDrWorkflow(machine.definition, input, {
    invoke: (payload) => handler(payload, localContext(machine.function, timeoutMs)),
    tokens,
    waitMs: WAIT_MS,
    retryMs: RETRY_MS,
    onEvent: (e) => {
      if (e.type === 'StateEntered' && e.state) options.progress(`${workflow} › ${e.state}`);
      if (e.type === 'StateFailed' || e.type === 'StateCaught')
        options.progress(`${workflow} ✗ ${e.state ?? ''}: ${e.error ?? ''}`);
    },
  });
  return {
    workflow,
    status: r.status,
    executionId: r.executionId,
    ...(r.output !== undefined ? { output: r.output } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.cause !== undefined ? { cause: r.cause } : {}),
    states: r.states,
    durationMs: r.durationMs,
  };
}
