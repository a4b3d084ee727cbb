/**
 * `npm start`: the local sandbox (see ./sandbox.ts). Options:
 *   --faults <file|inline>   fault script (default "20s down HA_DC1; 60s up HA_DC1"; "none" for none)
 *   --time-scale <n>         divide the health cadence and the hold by n (default 20: hold 15 s)
 *   --duration <seconds>     stop after this long (default: run until Ctrl-C)
 *   --scenario <name>        run a registered scenario instead of the fault script
 *   --topology <file>        simulator topology (default: the Chennai lab)
 *   --dynamodb-endpoint <url> use a running DynamoDB instead of starting DynamoDB Local
 *   --verbose                also print the functions' own JSON logs
 */
import { parseSandboxArgs } from './args.js';
import { applyLocalFunctionEnv } from './env.js';
import type { SandboxOptions } from './parts.js';

async function main(): Promise<void> {
  let options: SandboxOptions;
  try {
    options = parseSandboxArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  // Before the functions' modules load: Powertools reads these once.
  applyLocalFunctionEnv({
    functionName: 'cpe-failover-sandbox',
    logLevel: options.verbose ? 'INFO' : 'SILENT',
  });

  const stop = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A terminal's Ctrl-C reaches us twice at once (directly and relayed by tsx): only a second
    // Ctrl-C well after the first forces the exit.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 1_500) return;
      console.error(`${signal} again: exiting now`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    console.log(`\n${signal}: stopping…`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { runSandbox } = await import('./sandbox.js');
  try {
    await runSandbox(options, { signal: stop.signal });
  } catch (error) {
    console.error(`sandbox failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
  // Everything is stopped; don't wait for idle keep-alive sockets.
  process.exit(process.exitCode ?? 0);
}

void main();
