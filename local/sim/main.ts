/**
 * `npm run check -- world [--seed N | --from N --schedules K] [--workers W] [--shrink]`: run the
 * whole-system checker. One seed replays one schedule exactly and prints its trace; a range runs
 * many (in worker processes) and prints each failing seed with its first violation.
 */
import { runChecks, runRange } from './runner.js';

const argv = process.argv.slice(2);
if (argv[0] === '--worker') {
  // A worker of a parallel range: run its seeds, send the result to the parent.
  const r = await runRange(Number(argv[1]), Number(argv[2]));
  process.send?.(r, () => process.exit(0));
} else {
  process.exit(await runChecks(argv));
}
