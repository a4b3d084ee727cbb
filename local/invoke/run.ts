/**
 * Run one function's real handler in this process against the running sandbox: the sandbox's
 * endpoints file gives the environment its functions get (local/sandbox/endpoints.ts), set here
 * before the handler's module loads (Powertools and the configuration read it once). The
 * operation is then reported to the sandbox's timeline.
 */
import type { Context } from 'aws-lambda';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyLocalFunctionEnv } from '../sandbox/env.js';
import type { SandboxEndpoints } from '../sandbox/endpoints.js';
import type { ConsoleOperation } from '../sandbox/timeline.js';
import { FUNCTIONS_DIR } from './args.js';

/** How invoke tells the timeline who ran the operation. */
export const INVOKE_VIA = 'npm run invoke';

/** A handler as the functions export it (middy-wrapped). */
type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Lambda's default when the synthesized app has no timeout for the function. */
const DEFAULT_TIMEOUT_SEC = 60;

/**
 * The sandbox's function environment in this process (its values win over the shell's, but a
 * real Dashboard's API key, which the file leaves out, comes from the shell).
 */
export function applySandboxEnv(endpoints: SandboxEndpoints, fn: string, verbose: boolean): void {
  applyLocalFunctionEnv({ functionName: `cpe-failover-${fn}`, logLevel: verbose ? 'INFO' : 'SILENT' });
  for (const [name, value] of Object.entries(endpoints.env)) process.env[name] = value;
}

/** Import `functions/<fn>/handler.ts` and call its `handler` with the event and a local context. */
export async function invokeHandler(
  endpoints: SandboxEndpoints,
  fn: string,
  event: unknown,
): Promise<unknown> {
  // Imported only now: Powertools reads the environment once, when its modules load.
  const { localContext } = await import('../sandbox/core-parts.js');
  const mod = (await import(pathToFileURL(join(FUNCTIONS_DIR, fn, 'handler.ts')).href)) as {
    handler?: Handler;
  };
  if (typeof mod.handler !== 'function') throw new Error(`functions/${fn}/handler.ts exports no handler`);
  const timeoutSec = endpoints.functionTimeoutsSec[fn] ?? DEFAULT_TIMEOUT_SEC;
  return mod.handler(event, localContext(fn, timeoutSec * 1000));
}

/** Report the operation to the sandbox's timeline; a warning (not a failure) when it cannot. */
export async function reportToTimeline(
  endpoints: SandboxEndpoints,
  op: ConsoleOperation,
  warn: (line: string) => void,
): Promise<void> {
  if (!endpoints.timelineUrl) return;
  try {
    const res = await fetch(endpoints.timelineUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) warn(`the sandbox's timeline refused the operation: HTTP ${res.status} ${await res.text()}`);
  } catch (error) {
    warn(`could not report the operation to the sandbox's timeline: ${(error as Error).message}`);
  }
}

/** `{name, message}` of anything thrown. */
export function errorOf(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
