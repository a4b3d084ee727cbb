/**
 * `npm run invoke -- <function> [event]`: the function names (the folders of `functions/` with a
 * handler), and the event argument: inline JSON, a JSON file, or the name of one of the
 * function's samples (`functions/<function>/events/<name>.json`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKFLOWS } from '../../shared/dr/inputs.js';
import { ValidationError } from '../../shared/errors.js';

/** The project's `functions/` folder. */
export const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url));

/**
 * The state machines invoke runs, with the task function whose folder holds their samples
 * (the names are the CDK app's: shared/dr/inputs.ts, cdk/constructs/rehearsal.ts).
 */
export const STATE_MACHINES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(WORKFLOWS.map((w) => [w, 'dr'])),
  Rehearsal: 'rehearsal',
};

/** The state machines whose tasks `fn` runs (empty: not a task function). */
export function machinesOf(fn: string): string[] {
  return Object.keys(STATE_MACHINES).filter((m) => STATE_MACHINES[m] === fn);
}

/** `npm run invoke -- --help`. */
export const USAGE = `usage: npm run invoke -- <function | state machine> [event] [--approve <event>] [--verbose]

Runs a function's real handler (functions/<function>/handler.ts) against the running sandbox
(npm start, in another terminal) and prints its answer as JSON. The event is inline JSON, a JSON
file, or the name of a sample in functions/<function>/events/ (e.g. \`pin maintenance\`); none: {}.

A state machine (${Object.keys(STATE_MACHINES).join(', ')}) runs locally as synthesized,
its tasks on the real function behind them; its samples are that function's (functions/dr/events/,
functions/rehearsal/events/; e.g. \`Backup backup-on-demand\`, \`Rehearsal lab-chennai\`).
--approve <event> answers its approval step with that output (e.g. approval-task-output).
--verbose prints the functions' own logs.`;

/** The parsed command line. */
export interface InvokeArgs {
  /** A function, or a DR state machine (`workflow` is then set). */
  fn: string;
  workflow?: string;
  /** The event argument as given (absent: `{}`). */
  event?: string;
  /** A state machine's approval answer (as given). */
  approve?: string;
  verbose: boolean;
}

/** Functions that have a handler, sorted. */
export function functionNames(dir: string = FUNCTIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

/** The folder whose `events/` holds a target's samples. */
export function samplesOf(target: string): string {
  return STATE_MACHINES[target] ?? target;
}

/** The samples of a function or state machine (`maintenance.json`…), sorted. */
export function sampleEvents(target: string, dir: string = FUNCTIONS_DIR): string[] {
  const events = join(dir, samplesOf(target), 'events');
  return existsSync(events)
    ? readdirSync(events)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
}

const bad = (path: string, value: unknown, expected: string) =>
  new ValidationError('invoke arguments', [{ path, value, expected }]);

/** Parse the command line; a ValidationError naming the argument when wrong. */
export function parseInvokeArgs(argv: readonly string[], dir: string = FUNCTIONS_DIR): InvokeArgs {
  const rest: string[] = [];
  let verbose = false;
  let approve: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--verbose') verbose = true;
    else if (a === '--approve') {
      approve = argv[++i];
      if (approve === undefined)
        throw bad('--approve', approve, 'an event (inline JSON, a file or a sample)');
    } else if (a.startsWith('--')) throw bad('option', a, '--approve <event>, --verbose (or --help)');
    else rest.push(a);
  }
  const [fn, event, ...extra] = rest;
  const targets = [...functionNames(dir), ...Object.keys(STATE_MACHINES)];
  if (!fn || !targets.includes(fn)) throw bad('function', fn, targets.join(' | '));
  const workflow = STATE_MACHINES[fn] !== undefined ? fn : undefined;
  if (extra.length > 0) throw bad('arguments', extra.join(' '), 'one event at most (quote inline JSON)');
  if (approve !== undefined && !workflow)
    throw bad('--approve', approve, `only with a state machine (${Object.keys(STATE_MACHINES).join(', ')})`);
  return {
    fn,
    ...(workflow ? { workflow } : {}),
    ...(event !== undefined ? { event } : {}),
    ...(approve !== undefined ? { approve } : {}),
    verbose,
  };
}

/** Where the event comes from, for messages. */
export interface LoadedEvent {
  event: unknown;
  /** `inline JSON`, the file's path, or `sample functions/pin/events/maintenance.json`. */
  source: string;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError('invoke event', [
      {
        path: source,
        value: text.length > 80 ? `${text.slice(0, 79)}…` : text,
        expected: `valid JSON (${(error as Error).message})`,
      },
    ]);
  }
}

/** The event: inline JSON (starts with `{`, `[` or `"`), a file, or a sample's name. */
export function loadEvent(fn: string, arg: string | undefined, dir: string = FUNCTIONS_DIR): LoadedEvent {
  if (arg === undefined) return { event: {}, source: 'no event ({})' };
  const trimmed = arg.trim();
  if (/^[[{"]/.test(trimmed)) return { event: parseJson(trimmed, 'inline JSON'), source: 'inline JSON' };
  const sample = join(dir, samplesOf(fn), 'events', arg.endsWith('.json') ? arg : `${arg}.json`);
  const path = existsSync(arg) ? arg : existsSync(sample) ? sample : undefined;
  if (!path) {
    const samples = sampleEvents(fn, dir);
    throw new ValidationError('invoke event', [
      {
        path: 'event',
        value: arg,
        expected: `inline JSON, a JSON file, or a sample of ${fn} (${samples.join(', ') || 'it has none'})`,
      },
    ]);
  }
  return { event: parseJson(readFileSync(path, 'utf8'), path), source: path };
}
