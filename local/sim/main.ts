/**
 * `npm run check -- world [--seed N | --from N --schedules K] [--workers W] [--no-shrink]`: run
 * the whole-system checker. One seed replays one schedule exactly and prints its trace; a range
 * runs many (split over worker processes) and prints each failing seed with its first violation.
 */
import asyncHooks from 'node:async_hooks';

// The X-Ray SDK under Powertools Tracer enables a destroy-tracking async hook when it loads,
// which taxes every promise (about a quarter of the checker's time). Nothing is traced here
// (POWERTOOLS_TRACE_ENABLED=false), so this process hands it a hook that is never enabled.
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
const createHook = asyncHooks.createHook;
(asyncHooks as { createHook: typeof createHook }).createHook = (callbacks) => {
  const hook = createHook(callbacks);
  return { enable: () => hook, disable: () => hook } as ReturnType<typeof createHook>;
};

const { runChecks, serveWorker } = await import('./runner.js');
const argv = process.argv.slice(2);
// A worker of a parallel range runs the chunks of seeds its parent sends.
if (argv[0] === '--worker') serveWorker();
else process.exit(await runChecks(argv));
