/**
 * `npm run invoke -- <function> [event]`: run a function's real handler against the running
 * sandbox and print its answer (./args.ts has the usage). Exit codes: 0 done, 1 the function
 * failed (its error's name and message on stderr) or no sandbox runs, 2 bad arguments.
 */
import { readSandboxEndpoints } from '../sandbox/endpoints.js';
import { loadEvent, parseInvokeArgs, USAGE, type InvokeArgs, type LoadedEvent } from './args.js';
import { applySandboxEnv, errorOf, INVOKE_VIA, invokeHandler, reportToTimeline } from './run.js';

function fail(code: number, message: string): never {
  console.error(message);
  process.exit(code);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) return void console.log(USAGE);
  let args: InvokeArgs;
  let loaded: LoadedEvent;
  try {
    args = parseInvokeArgs(argv);
    loaded = loadEvent(args.fn, args.event);
  } catch (error) {
    return fail(2, `invoke: ${(error as Error).message}\n\n${USAGE}`);
  }
  let endpoints;
  try {
    endpoints = readSandboxEndpoints();
  } catch (error) {
    return fail(1, `invoke: ${(error as Error).message}`);
  }
  applySandboxEnv(endpoints, args.fn, args.verbose);
  const warn = (line: string) => console.error(`invoke: ${line}`);
  try {
    const result = await invokeHandler(endpoints, args.fn, loaded.event);
    await reportToTimeline(
      endpoints,
      { function: args.fn, via: INVOKE_VIA, event: loaded.event, result },
      warn,
    );
    console.log(JSON.stringify(result ?? null, null, 2));
  } catch (error) {
    const e = errorOf(error);
    await reportToTimeline(
      endpoints,
      { function: args.fn, via: INVOKE_VIA, event: loaded.event, error: e },
      warn,
    );
    fail(1, `${args.fn} failed (event: ${loaded.source}): ${e.name}: ${e.message}`);
  }
  // Done: don't wait for idle keep-alive sockets.
  process.exit(0);
}

void main();
