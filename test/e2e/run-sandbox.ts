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
