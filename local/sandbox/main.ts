/** `npm start`: the local sandbox (see ./sandbox.ts); `npm start -- --help` lists the options (./args.ts). */
import { applyLocalFunctionEnv } from './env.js';
import type { SandboxOptions } from './parts.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // Before any module that builds the shared logger loads (./args.js reaches it through the
  // Meraki adapter): Powertools reads these once.
  applyLocalFunctionEnv({
    functionName: 'cpe-failover-sandbox',
    logLevel: argv.includes('--verbose') ? 'INFO' : 'SILENT',
  });
  const { USAGE, parseSandboxArgs, wantsHelp } = await import('./args.js');
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return;
  }
  let options: SandboxOptions;
  try {
    options = parseSandboxArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }

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
    const result = await runSandbox(options, { signal: stop.signal });
    if (result.failed) process.exitCode = 1;
  } catch (error) {
    console.error(`sandbox failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
  // Everything is stopped; don't wait for idle keep-alive sockets.
  process.exit(process.exitCode ?? 0);
}

void main();
