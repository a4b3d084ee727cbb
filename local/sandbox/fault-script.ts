/**
 * Reading a fault script, whichever world it drives (zWAN: ./faults.ts, Meraki: ./meraki-faults.ts):
 * inline steps `"<time> <action> <args…>"` separated by `;` or `,`, a JSON array
 * `[{ "at": 20, "action": "down", "args": ["HA_DC1"] }, …]` inline, or a path to a JSON file of
 * that array. Each world checks its own actions and arguments; this only splits and reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ValidationError } from '../../shared/errors.js';

/** One step as written: `at` in the script's own unit (NaN when unreadable), `path` for error messages. */
export interface RawFaultStep {
  at: number;
  action: string;
  args: string[];
  /** Where the step is, e.g. `0 ("20s down HA_DC1")` or `3` (JSON index). */
  path: string;
  /** The time as written (for error messages). */
  written: unknown;
}

/** Options of {@link readFaultScript}. */
export interface ReadFaultScriptOptions {
  /** What the errors call the script, e.g. `fault script`. */
  what: string;
  /** The time of an inline step from its first word (NaN when not a time). */
  time: (word: string) => number;
}

/** Whether `text` names a file rather than holding inline steps (those start with a time). */
function looksLikeFile(text: string): boolean {
  return text.endsWith('.json') || !/^\d/.test(text);
}

/**
 * Split a fault script into raw steps, sorted by time. `none` or empty: no steps. A file that
 * does not exist or is not a JSON array is a ValidationError naming it.
 */
export function readFaultScript(text: string, options: ReadFaultScriptOptions): RawFaultStep[] {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  if (trimmed.startsWith('[') || looksLikeFile(trimmed)) {
    const inline = trimmed.startsWith('[');
    if (!inline && !existsSync(trimmed))
      throw new ValidationError(options.what, [
        { path: '(file)', value: trimmed, expected: 'an existing JSON file (file not found)' },
      ]);
    let json: unknown;
    try {
      json = JSON.parse(inline ? trimmed : readFileSync(trimmed, 'utf8'));
    } catch (error) {
      throw new ValidationError(options.what, [
        {
          path: inline ? '(inline)' : '(file)',
          value: trimmed,
          expected: `valid JSON (${(error as Error).message})`,
        },
      ]);
    }
    if (!Array.isArray(json))
      throw new ValidationError(options.what, [{ path: '', value: json, expected: 'a JSON array of steps' }]);
    return json
      .map((raw: { at?: unknown; action?: unknown; args?: unknown }, i) => ({
        at: typeof raw?.at === 'number' ? raw.at : options.time(String(raw?.at)),
        action: String(raw?.action),
        args: Array.isArray(raw?.args) ? raw.args.map(String) : [],
        path: String(i),
        written: raw?.at,
      }))
      .sort((a, b) => a.at - b.at);
  }
  return trimmed
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((step, i) => {
      const [time = '', action = '', ...args] = step.split(/\s+/);
      return { at: options.time(time), action, args, path: `${i} (${JSON.stringify(step)})`, written: time };
    })
    .sort((a, b) => a.at - b.at);
}
