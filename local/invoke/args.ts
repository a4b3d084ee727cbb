/**
 * `npm run invoke -- <function> [event]`: the function names (the folders of `functions/` with a
 * handler), and the event argument: inline JSON, a JSON file, or the name of one of the
 * function's samples (`functions/<function>/events/<name>.json`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../shared/errors.js';

/** The project's `functions/` folder. */
export const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url));

/** `npm run invoke -- --help`. */
export const USAGE = `usage: npm run invoke -- <function> [event.json | '<json>' | <sample>] [--verbose]

Runs the function's real handler (functions/<function>/handler.ts) against the running sandbox
(npm start, in another terminal) and prints its answer as JSON. The event is inline JSON, a JSON
file, or the name of a sample in functions/<function>/events/ (e.g. \`pin maintenance\`); none: {}.
dr takes a state machine input (functions/dr/events/): it runs that state machine locally.
--verbose prints the function's own logs (stderr).`;

/** The parsed command line. */
export interface InvokeArgs {
  fn: string;
  /** The event argument as given (absent: `{}`). */
  event?: string;
  verbose: boolean;
}

/** Functions that have a handler, sorted. */
export function functionNames(dir: string = FUNCTIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

/** The samples of a function (`maintenance.json`…), sorted. */
export function sampleEvents(fn: string, dir: string = FUNCTIONS_DIR): string[] {
  const events = join(dir, fn, 'events');
  return existsSync(events)
    ? readdirSync(events)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
}

/** Parse `<function> [event] [--verbose]`; a ValidationError naming the argument when wrong. */
export function parseInvokeArgs(argv: readonly string[], dir: string = FUNCTIONS_DIR): InvokeArgs {
  const verbose = argv.includes('--verbose');
  const rest = argv.filter((a) => a !== '--verbose');
  const unknownFlag = rest.find((a) => a.startsWith('--'));
  if (unknownFlag)
    throw new ValidationError('invoke arguments', [
      { path: 'option', value: unknownFlag, expected: '--verbose (or --help)' },
    ]);
  const [fn, event, ...extra] = rest;
  const names = functionNames(dir);
  if (!fn)
    throw new ValidationError('invoke arguments', [
      { path: 'function', value: fn, expected: names.join(' | ') },
    ]);
  if (!names.includes(fn))
    throw new ValidationError('invoke arguments', [
      { path: 'function', value: fn, expected: names.join(' | ') },
    ]);
  if (extra.length > 0)
    throw new ValidationError('invoke arguments', [
      { path: 'arguments', value: extra.join(' '), expected: 'one event at most (quote inline JSON)' },
    ]);
  return { fn, ...(event !== undefined ? { event } : {}), verbose };
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
  const sample = join(dir, fn, 'events', arg.endsWith('.json') ? arg : `${arg}.json`);
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
