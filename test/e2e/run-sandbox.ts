/** Run the sandbox programmatically on the test run's DynamoDB Local and collect what it prints. */
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { runSandbox } from '../../local/sandbox/sandbox.js';

/**
 * Run `npm start -- <args>` in-process until a printed line matches `stopAt` (or its
 * `--duration` ends); resolves every printed line, the sandbox's own "stopped" line last.
 */
export async function runSandboxUntil(args: string[], stopAt: RegExp): Promise<string[]> {
  const options = parseSandboxArgs([...args, '--dynamodb-endpoint', process.env.DYNAMODB_ENDPOINT ?? '']);
  const lines: string[] = [];
  const stop = new AbortController();
  await runSandbox(options, {
    signal: stop.signal,
    output: (line) => {
      lines.push(line);
      if (stopAt.test(line)) stop.abort();
    },
  });
  return lines;
}

/** A sandbox started in-process for a test file's cases to share. */
export interface RunningSandbox {
  /** Every line printed so far. */
  readonly lines: string[];
  /** Resolves with the first printed line (already printed or to come) matching `re`; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  /** Stop it; resolves every printed line once everything is stopped. */
  stop(): Promise<string[]>;
}

/** Start `npm start -- <args>` in-process (on the test run's DynamoDB Local) and keep it running. */
export function startSandbox(args: string[]): RunningSandbox {
  const options = parseSandboxArgs([...args, '--dynamodb-endpoint', process.env.DYNAMODB_ENDPOINT ?? '']);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const stop = new AbortController();
  const done = runSandbox(options, {
    signal: stop.signal,
    output: (line) => {
      lines.push(line);
      for (const w of waiters.filter((w) => w.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    },
  });
  let failed: unknown;
  done.catch((error: unknown) => (failed = error));
  return {
    lines,
    waitFor(re, timeoutMs) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const why = failed ? ` (the sandbox failed: ${(failed as Error).message})` : '';
          reject(
            new Error(`no line matching ${re} within ${timeoutMs} ms${why}; printed:\n${lines.join('\n')}`),
          );
        }, timeoutMs);
        waiters.push({
          re,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
    async stop() {
      stop.abort();
      await done;
      return lines;
    },
  };
}
