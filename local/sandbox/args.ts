/** The sandbox's command-line flags. */
import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.js';
import { DEFAULT_FAULTS, parseFaultScript } from './faults.js';
import type { SandboxOptions } from './parts.js';

/** `npm start -- --help`. */
export const USAGE = `usage: npm start -- [options]
  --faults <file|inline>     fault script (default "${DEFAULT_FAULTS}"; "none" for none)
  --time-scale <n>           divide the health cadence and the hold by n (default 20: hold 15 s)
  --duration <seconds>       stop after this long (default: run until Ctrl-C)
  --scenario <name>          run a registered scenario instead of the fault script (dc-site-loss)
  --director zwan|meraki     which director to simulate (default zwan)
  --topology <file>          zWAN simulator topology (default: the Chennai lab)
  --dynamodb-endpoint <url>  use a running DynamoDB instead of starting DynamoDB Local
  --verbose                  also print the functions' own JSON logs
  --help                     this text`;

/** Whether the command line asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Parse the CLI flags into sandbox options (ValidationError naming the flag on bad input). */
export function parseSandboxArgs(argv: readonly string[]): SandboxOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      faults: { type: 'string' },
      'time-scale': { type: 'string' },
      duration: { type: 'string' },
      scenario: { type: 'string' },
      topology: { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      director: { type: 'string' },
    },
    strict: true,
  });
  const number = (flag: string, raw: string | undefined, fallback?: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      throw new ValidationError('sandbox options', [
        { path: `--${flag}`, value: raw, expected: 'a number > 0' },
      ]);
    return n;
  };
  const director = values.director ?? 'zwan';
  if (director !== 'zwan' && director !== 'meraki')
    throw new ValidationError('sandbox options', [
      { path: '--director', value: director, expected: 'zwan or meraki' },
    ]);
  if (director === 'meraki' && (values.faults !== undefined || values.topology !== undefined))
    throw new ValidationError('sandbox options', [
      {
        path: values.faults !== undefined ? '--faults' : '--topology',
        value: values.faults ?? values.topology,
        expected:
          'nothing with --director meraki (Meraki mode runs its own timeline, local/sandbox/meraki.ts)',
      },
    ]);
  return {
    director,
    faults: parseFaultScript(values.faults ?? DEFAULT_FAULTS),
    timeScale: number('time-scale', values['time-scale'], 20) as number,
    ...(values.duration !== undefined ? { durationSec: number('duration', values.duration) } : {}),
    ...(values.scenario ? { scenario: values.scenario } : {}),
    ...(values.topology ? { topologyPath: values.topology } : {}),
    ...(values['dynamodb-endpoint'] ? { dynamoEndpoint: values['dynamodb-endpoint'] } : {}),
    verbose: values.verbose ?? false,
  };
}
