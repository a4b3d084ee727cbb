/** The sandbox's command-line flags. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ValidationError } from '../../shared/errors.js';
import { DEFAULT_TOPOLOGY_PATH, parseTopology } from '../simulator/topology.js';
import { DEFAULT_FAULTS, parseFaultScript, type FaultStep } from './faults.js';
import { parseExternalFlags } from './meraki-external.js';
import { MERAKI_DEFAULT_FAULTS, parseMerakiFaultScript } from './meraki-faults.js';
import { MERAKI_SANDBOX_ORG } from './meraki-org.js';
import type { SandboxOptions } from './parts.js';
import { parseZwanExternalFlags } from './zwan-external.js';

/** `npm start -- --help`. */
export const USAGE = `usage: npm start -- [options]
  --faults <file|inline>     fault script (default "${DEFAULT_FAULTS}"; "none" for none);
                             with --director meraki, on the simulated clock (default "${MERAKI_DEFAULT_FAULTS}")
  --time-scale <n>           divide the health cadence and the hold by n (default 20: hold 15 s;
                             1 with --director-url)
  --duration <seconds>       stop after this long (default: run until Ctrl-C)
  --scenario <name>          run a registered scenario instead of the fault script (dc-site-loss)
  --director zwan|meraki     which director to simulate (default zwan)
  --observe                  observe-only: sample, elect, store and notify what it would do
                             ("observe: would fail over …"), but refuse every director write
  --director-url <base>      run against this director instead of the simulator (https, or http on
                             loopback); without --observe it WILL write there.
                             zwan: the DC director's API base (with --dr-director-url, --tenant)
                             meraki: the Dashboard, e.g. https://api.meraki.com/api/v1
  --dr-director-url <base>   zwan: the DR director's API base
  --tenant <id>              zwan: a tenant to look after (repeatable)
  --api-key <key>            the director's API key (or CPE_FAILOVER_API_KEY); never printed
  --org <id>                 meraki: an organization (repeatable); hubs read from its VPN peers
  --meraki-config <file>     meraki: organizations with hubs (the config's director section), instead of --org
  --topology <file>          zWAN simulator topology (default: the Chennai lab)
  --dynamodb-endpoint <url>  use a running DynamoDB instead of starting DynamoDB Local
  --verbose                  also print the functions' own JSON logs
  --help                     this text`;

/** Whether the command line asks for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Parse the CLI flags into sandbox options (ValidationError naming the flag on bad input; the API
 * key shown as `<redacted>`). `env` supplies `CPE_FAILOVER_API_KEY` when `--api-key` is absent.
 */
export function parseSandboxArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): SandboxOptions {
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
      observe: { type: 'boolean', default: false },
      'dr-director-url': { type: 'string' },
      tenant: { type: 'string', multiple: true },
      director: { type: 'string' },
      'director-url': { type: 'string' },
      'api-key': { type: 'string' },
      org: { type: 'string', multiple: true },
      'meraki-config': { type: 'string' },
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
  const refuse = (flag: string, value: unknown, expected: string) => {
    throw new ValidationError('sandbox options', [{ path: flag, value, expected }]);
  };
  if (director !== 'meraki' && (values.org !== undefined || values['meraki-config'] !== undefined))
    refuse('--director', director, 'meraki with --org or --meraki-config');
  if (director === 'meraki' && (values['dr-director-url'] !== undefined || values.tenant !== undefined))
    refuse('--director', director, 'zwan with --dr-director-url or --tenant');
  const external =
    director === 'meraki'
      ? parseExternalFlags(
          {
            directorUrl: values['director-url'],
            apiKey: values['api-key'],
            orgs: values.org,
            merakiConfig: values['meraki-config'],
          },
          env,
        )
      : undefined;
  const zwanExternal =
    director === 'zwan'
      ? parseZwanExternalFlags(
          {
            directorUrl: values['director-url'],
            drDirectorUrl: values['dr-director-url'],
            apiKey: values['api-key'],
            tenants: values.tenant,
          },
          env,
        )
      : undefined;
  if (director === 'meraki' && values.topology !== undefined)
    refuse('--topology', values.topology, 'nothing with --director meraki (a zWAN simulator topology)');
  if (external && values.faults !== undefined)
    refuse(
      '--faults',
      values.faults,
      "nothing with --director-url (faults need the sandbox's own simulator)",
    );
  const common = {
    ...(values.duration !== undefined ? { durationSec: number('duration', values.duration) } : {}),
    ...(values.scenario ? { scenario: values.scenario } : {}),
    ...(values['dynamodb-endpoint'] ? { dynamoEndpoint: values['dynamodb-endpoint'] } : {}),
    verbose: values.verbose ?? false,
    ...(values.observe ? { observe: true } : {}),
  };
  if (director === 'meraki')
    return {
      director,
      faults: [],
      ...(external
        ? { merakiExternal: external }
        : {
            merakiFaults: parseMerakiFaultScript(values.faults ?? MERAKI_DEFAULT_FAULTS, MERAKI_SANDBOX_ORG),
          }),
      // An external Dashboard keeps real time.
      timeScale: number('time-scale', values['time-scale'], external ? 1 : 20) as number,
      ...common,
    };
  if (values.scenario !== undefined && !SCENARIO_NAMES.includes(values.scenario))
    refuse('--scenario', values.scenario, SCENARIO_NAMES.join(' | '));
  if (zwanExternal) {
    // The directors are someone else's: no fault script, no scenario, no topology, real time.
    for (const [flag, value] of [
      ['--faults', values.faults],
      ['--scenario', values.scenario],
      ['--topology', values.topology],
    ] as const)
      if (value !== undefined)
        refuse(flag, value, "nothing with --director-url (it needs the sandbox's own simulator)");
    return {
      director,
      faults: [],
      zwanExternal,
      timeScale: number('time-scale', values['time-scale'], 1) as number,
      ...common,
    };
  }
  const faults = parseFaultScript(values.faults ?? DEFAULT_FAULTS);
  // A step naming a CPE the topology does not have fails now, not when it fires.
  if (values.scenario === undefined) checkFaultCpes(faults, values.topology);
  return {
    director,
    faults,
    timeScale: number('time-scale', values['time-scale'], 20) as number,
    ...(values.topology ? { topologyPath: values.topology } : {}),
    ...common,
  };
}

/** The scenarios `--scenario` accepts (the registry's keys; a unit test keeps the two equal). */
export const SCENARIO_NAMES: readonly string[] = ['dc-site-loss', 'director-loss'];

/** Every CPE a `down`/`up`/`loss` step names must be in the topology the sandbox will run. */
function checkFaultCpes(steps: readonly FaultStep[], topologyPath: string | undefined): void {
  const path = topologyPath ?? DEFAULT_TOPOLOGY_PATH.pathname;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ValidationError('sandbox options', [
      { path: '--topology', value: path, expected: `a readable JSON file (${(cause as Error).message})` },
    ]);
  }
  const ids = new Set(parseTopology(raw, `topology file ${path}`).cpes.map((c) => c.id));
  const issues = steps.flatMap((step, i) =>
    ['down', 'up', 'loss'].includes(step.action) && !ids.has(step.args[0] ?? '')
      ? [
          {
            path: `--faults ${i}.args.0`,
            value: step.args[0],
            expected: `a CPE of the topology (${[...ids].join(', ')})`,
          },
        ]
      : [],
  );
  if (issues.length > 0) throw new ValidationError('sandbox options', issues);
}
