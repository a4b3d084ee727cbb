/**
 * Runs the DR state machines on one machine: the definitions come from the synthesized CDK app
 * (intrinsics resolved), and aws-local-stepfunctions executes them with every Lambda task sent
 * to the real DR task code, Wait states shortened, retry intervals shortened, and task tokens
 * (`waitForTaskToken`) held by a local broker that plays `send-task-success|failure`.
 * Used by the DR integration tests, the sandbox's dc-site-loss scenario and the DR benchmark.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { synthTemplates, type CfnTemplate } from '../../../cdk/assembly.js';
import type { Config } from '../../../shared/config/schema.js';
import { WORKFLOWS, type Workflow } from '../../../shared/dr/inputs.js';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+); Node 20 lacks it.
const P = Promise as unknown as { withResolvers?: () => unknown };
P.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** The four synthesized definitions. */
export type DrDefinitions = Record<Workflow, StateMachineDefinition>;

const FAKE_ACCOUNT = '123456789012';

/** Resolve the intrinsics CDK leaves in a DefinitionString (Fn::Join, Ref, Fn::GetAtt). */
export function resolveIntrinsics(value: unknown, region: string): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveIntrinsics(p, region)).join(sep);
  }
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': region,
      'AWS::AccountId': FAKE_ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[v.Ref] ?? v.Ref;
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id] = v['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:${region}:${FAKE_ACCOUNT}:function:${id}`;
  }
  throw new Error(`unsupported intrinsic in a state machine definition: ${JSON.stringify(value)}`);
}

/** The DR state machines of a synthesized stateless template, by workflow. */
export function drDefinitionsFromTemplate(template: CfnTemplate, region: string): DrDefinitions {
  const found: Partial<DrDefinitions> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const name = String(resource.Properties?.StateMachineName ?? '');
    const workflow = WORKFLOWS.find((w) => name.endsWith(`-${w}`));
    if (!workflow) continue;
    found[workflow] = JSON.parse(
      resolveIntrinsics(resource.Properties?.DefinitionString, region),
    ) as StateMachineDefinition;
  }
  const missing = WORKFLOWS.filter((w) => !found[w]);
  if (missing.length > 0)
    throw new Error(`the synthesized app has no state machine for ${missing.join(', ')}`);
  return found as DrDefinitions;
}

/** Synthesize the CDK app (bundling skipped) and return its DR state machine definitions. */
export async function synthDrDefinitions(config: string | Config = 'example'): Promise<DrDefinitions> {
  const t = await synthTemplates(config);
  return drDefinitionsFromTemplate(t.stateless, t.config.region);
}

/**
 * Task tokens of `waitForTaskToken` states, held locally. `sendTaskSuccess`/`sendTaskFailure`
 * do what `aws stepfunctions send-task-success|send-task-failure` do in AWS.
 */
export class LocalTaskTokens {
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((token: string) => void)[] = [];

  /** Hold the execution until the token is answered. */
  wait(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(token, { resolve, reject });
      for (const l of this.listeners.splice(0)) l(token);
    });
  }

  /** Resolves with the next token that starts waiting (or one already waiting). */
  next(): Promise<string> {
    const first = this.pending.keys().next();
    if (!first.done) return Promise.resolve(first.value);
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  sendTaskSuccess(token: string, output: unknown): void {
    this.take(token).resolve(JSON.parse(JSON.stringify(output)));
  }

  sendTaskFailure(token: string, error: string, cause: string): void {
    const e = new Error(cause);
    e.name = error;
    this.take(token).reject(e);
  }

  private take(token: string) {
    const entry = this.pending.get(token);
    if (!entry) throw new Error(`task token ${token} is not waiting (TaskDoesNotExist)`);
    this.pending.delete(token);
    return entry;
  }
}

/** One state transition, for printing and for tests. */
export interface StepEvent {
  type: string;
  state?: string;
  error?: string;
  /** The state's input (StateEntered) or output (StateExited). */
  data?: unknown;
  at: number;
}

/** Options of {@link runDrWorkflow}. */
export interface RunOptions {
  /** The DR task code: `runDrTask(tasks, payload)`. */
  invoke: (payload: unknown) => Promise<unknown>;
  /** Milliseconds each Wait state really waits. @default 5 */
  waitMs?: number;
  /** Milliseconds between retries. @default 5 */
  retryMs?: number;
  /** Broker of task tokens (approval). @default a new one */
  tokens?: LocalTaskTokens;
  /** `$$.Execution.Id`. @default a fresh local ARN */
  executionId?: string;
  /** Called at every state entered/failed/retried/caught. */
  onEvent?: (event: StepEvent) => void;
}

/** Outcome of one execution. */
export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  /** The execution's error name and cause (FAILED). */
  error?: string;
  cause?: string;
  executionId: string;
  /** States entered, in order. */
  states: string[];
  events: StepEvent[];
  durationMs: number;
}

/** Lambda semantics: results and payloads cross a JSON boundary. */
const viaJson = <T>(v: T): T => (v === undefined ? (null as T) : (JSON.parse(JSON.stringify(v)) as T));

/** Run one execution of `definition` with `input`. Never throws for a failed execution. */
export async function runDrWorkflow(
  definition: StateMachineDefinition,
  input: unknown,
  options: RunOptions,
): Promise<RunResult> {
  const executionId =
    options.executionId ?? `arn:aws:states:local:${FAKE_ACCOUNT}:execution:dr:${randomUUID()}`;
  const tokens = options.tokens ?? new LocalTaskTokens();
  const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if ('Retry' in state && state.Retry) retries[name] = options.retryMs ?? 5;
    if (state.Type === 'Wait') waits[name] = options.waitMs ?? 5;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource;
    if (resource.endsWith(':lambda:invoke.waitForTaskToken')) {
      taskHandlers[name] = async (raw) => {
        const payload = viaJson((raw as { Payload: unknown }).Payload) as { taskToken: string };
        await options.invoke(payload);
        return tokens.wait(payload.taskToken);
      };
    } else if (resource.endsWith(':lambda:invoke')) {
      taskHandlers[name] = async (raw) => ({
        StatusCode: 200,
        Payload: viaJson(await options.invoke(viaJson((raw as { Payload: unknown }).Payload))),
      });
    } else {
      // payloadResponseOnly: the Lambda ARN itself, the payload is the state's parameters.
      taskHandlers[name] = async (raw) => viaJson(await options.invoke(viaJson(raw)));
    }
  }
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  const started = Date.now();
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers as never,
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: {
      Execution: { Id: executionId, Name: executionId.split(':').pop() },
      Task: { Token: `local-token-${randomUUID()}` },
    },
  });
  const events: StepEvent[] = [];
  const states: string[] = [];
  const collecting = (async () => {
    for await (const e of execution.eventLogs) {
      const ev = e as {
        type: string;
        state?: { name: string; input?: unknown; output?: unknown };
        Error?: string;
        timestamp: number;
      };
      if (!ev.state && !ev.type.startsWith('Execution')) continue;
      const step: StepEvent = { type: ev.type, at: ev.timestamp };
      if (ev.state) step.state = ev.state.name;
      if (ev.Error) step.error = ev.Error;
      if (ev.type === 'StateEntered') step.data = ev.state?.input;
      if (ev.type === 'StateExited') step.data = ev.state?.output;
      if (ev.type === 'StateEntered' && ev.state) states.push(ev.state.name);
      events.push(step);
      options.onEvent?.(step);
      if (ev.type.startsWith('Execution') && ev.type !== 'ExecutionStarted') break;
    }
  })();
  let result: RunResult;
  try {
    const output = await execution.result;
    result = { status: 'SUCCEEDED', output, executionId, states, events, durationMs: 0 };
  } catch (error) {
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    result = {
      status: 'FAILED',
      error: cause?.name ?? (error as Error).name,
      cause: cause?.message ?? (error as Error).message,
      executionId,
      states,
      events,
      durationMs: 0,
    };
  }
  await collecting;
  result.durationMs = Date.now() - started;
  return result;
}
