/**
 * `npm run invoke -- <function | state machine> [event]`: run a function's real handler, or a DR
 * state machine, against the running sandbox and print the answer (./args.ts has the usage).
 * Exit codes: 0 done, 1 the function or execution failed (the error's name and message on
 * stderr) or no sandbox runs, 2 bad arguments or event.
 */
import { readSandboxEndpoints, type SandboxEndpoints } from '../sandbox/endpoints.js';
import { loadEvent, machinesOf, parseInvokeArgs, USAGE, type InvokeArgs, type LoadedEvent } from './args.js';
import { applySandboxEnv, errorOf, INVOKE_VIA, invokeHandler, reportToTimeline } from './run.js';

function fail(code: number, message: string): never {
  console.error(message);
  process.exit(code);
}

/** A task function's own events are task payloads; its samples are its state machines' inputs. */
function checkTaskPayload(args: InvokeArgs, loaded: LoadedEvent): void {
  const machines = machinesOf(args.fn);
  const event = loaded.event as { task?: unknown } | null;
  if (machines.length === 0 || (typeof event === 'object' && event !== null && 'task' in event)) return;
  fail(
    2,
    `invoke: ${loaded.source} is not a ${args.fn} task payload ({"task": …}): the ${args.fn} samples are ` +
      `state machine inputs; run the state machine instead: npm run invoke -- <${machines.join('|')}> <event>`,
  );
}

async function run(endpoints: SandboxEndpoints, args: InvokeArgs, loaded: LoadedEvent): Promise<unknown> {
  if (!args.workflow) return invokeHandler(endpoints, args.fn, loaded.event);
  const approve = args.approve !== undefined ? loadEvent(args.fn, args.approve).event : undefined;
  // Loaded only for a state machine: aws-local-stepfunctions and the CDK app's modules.
  const { runStateMachine } = await import('./workflow.js');
  const answer = await runStateMachine(endpoints, args.workflow, loaded.event, {
    ...(approve !== undefined ? { approve } : {}),
    progress: (line) => console.error(line),
  });
  if (answer.status !== 'SUCCEEDED') {
    const error = new Error(`${answer.workflow} ${answer.status}: ${answer.cause ?? ''}`);
    error.name = answer.error ?? 'ExecutionFailed';
    throw Object.assign(error, { answer });
  }
  return answer;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) return void console.log(USAGE);
  let args: InvokeArgs;
  let loaded: LoadedEvent;
  try {
    args = parseInvokeArgs(argv);
    loaded = loadEvent(args.fn, args.event);
    if (args.approve !== undefined) loadEvent(args.fn, args.approve);
  } catch (error) {
    return fail(2, `invoke: ${(error as Error).message}\n\n${USAGE}`);
  }
  checkTaskPayload(args, loaded);
  let endpoints: SandboxEndpoints;
  try {
    endpoints = readSandboxEndpoints();
  } catch (error) {
    return fail(1, `invoke: ${(error as Error).message}`);
  }
  applySandboxEnv(endpoints, args.fn, args.verbose);
  const warn = (line: string) => console.error(`invoke: ${line}`);
  const op = { function: args.fn, via: INVOKE_VIA, event: loaded.event };
  try {
    const result = await run(endpoints, args, loaded);
    await reportToTimeline(endpoints, { ...op, result }, warn);
    console.log(JSON.stringify(result ?? null, null, 2));
  } catch (error) {
    const e = errorOf(error);
    await reportToTimeline(endpoints, { ...op, error: e }, warn);
    const answer = (error as { answer?: unknown }).answer;
    if (answer !== undefined) console.log(JSON.stringify(answer, null, 2));
    fail(1, `${args.fn} failed (event: ${loaded.source}): ${e.name}: ${e.message}`);
  }
  // Done: don't wait for idle keep-alive sockets.
  process.exit(0);
}

void main();
