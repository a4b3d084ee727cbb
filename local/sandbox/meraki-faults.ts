/**
 * The Meraki fault script (`npm start -- --director meraki --faults …`): changes to the simulated
 * Dashboard's world at given SIMULATED times (`4m`, `90s`, or bare seconds; the simulator's clock
 * runs `--time-scale` times faster than the wall clock, and its loss series lag 2 minutes).
 *
 *   "4m loss N_1 london 45; 20m loss N_1 london 0"          (the default demo)
 *   "3m hub-down london; 6m dashboard 429 40; 12m heal"
 *
 * Actions:
 * | action | args | effect |
 * | --- | --- | --- |
 * | `loss` | `<network> <hub> <pct> [latencyMs]` | loss on one path (network → hub), every uplink |
 * | `hub-down` / `hub-up` | `<hub>` | 100 % / 0 % loss from every network to the hub |
 * | `uplink-loss` | `<network> <uplink> <pct>` | loss on one uplink (wan1, wan2, cellular) of the MX |
 * | `uplink-down` / `uplink-up` | `<network> <uplink>` | the uplink fails (the MX moves its tunnels to the next) / returns |
 * | `tunnel-down` / `tunnel-up` | `<network> <hub>` | the tunnel to that hub does not establish (tags say up, VPN status says unreachable) / does |
 * | `dashboard` | `5xx <count>` \| `429 <count>` \| `storm <time>` | the Dashboard answers the next `count` requests 503 / 429 (with Retry-After), or every request 429 for a (simulated) time |
 * | `tag-add` / `tag-remove` | `<network> <tag>` | an operator's tag edit in the Dashboard |
 * | `heal` | | every fault above cleared (the simulator's `heal`) |
 *
 * Networks, hubs and uplinks are checked when the script is parsed (not when a step fires).
 */
import { ValidationError, formatValue } from '../../shared/errors.js';
import type { MerakiFaults, SimUplink } from '../simulator/meraki/types.js';
import { readFaultScript, type RawFaultStep } from './fault-script.js';

/** The names a script may use: the sandbox organization's networks and hubs. */
export interface MerakiFaultWorld {
  id: string;
  networks: readonly { id: string }[];
  hubs: readonly { name: string }[];
}

/** The uplinks of an MX that a script may name. */
export const MERAKI_UPLINKS = ['wan1', 'wan2', 'cellular'] as const;

/** Every action and its argument kinds (`?` marks optional ones). */
const SIGNATURES = {
  loss: ['network', 'hub', 'pct', 'ms?'],
  'hub-down': ['hub'],
  'hub-up': ['hub'],
  'uplink-loss': ['network', 'uplink', 'pct'],
  'uplink-down': ['network', 'uplink'],
  'uplink-up': ['network', 'uplink'],
  'tunnel-down': ['network', 'hub'],
  'tunnel-up': ['network', 'hub'],
  dashboard: ['mode', 'amount'],
  'tag-add': ['network', 'tag'],
  'tag-remove': ['network', 'tag'],
  heal: [],
} as const satisfies Record<string, readonly string[]>;

/** A Meraki fault action. */
export type MerakiFaultAction = keyof typeof SIGNATURES;

/** One step of a Meraki fault script. */
export interface MerakiFaultStep {
  /** Simulated seconds after the sandbox started. */
  atSec: number;
  action: MerakiFaultAction;
  args: string[];
}

/** The default demo: loss on N_1 → london at simulated minute 4, clean again at minute 13. */
// The loss lasts 16 simulated minutes: detection takes about 6 (2 of lag, 3 bad points, a run), and
// the margin keeps the swap before the recovery on a loaded machine at time scale 60.
export const MERAKI_DEFAULT_FAULTS = '4m loss N_1 london 45; 20m loss N_1 london 0';

const DASHBOARD_MODES = ['5xx', '429', 'storm'] as const;

/** `4m` → 240, `90s` / `90` → 90 (simulated seconds); NaN otherwise. */
function simulatedSeconds(word: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|s)?$/.exec(word);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

type Issue = { path: string; value: unknown; expected: string };

function checkArg(
  kind: string,
  value: string,
  world: MerakiFaultWorld,
  mode: string | undefined,
): string | undefined {
  const list = (names: readonly string[]) => names.map((n) => formatValue(n)).join(', ');
  switch (kind) {
    case 'network':
      return world.networks.some((n) => n.id === value)
        ? undefined
        : `a network of the sandbox organization: ${list(world.networks.map((n) => n.id))}`;
    case 'hub':
      return world.hubs.some((h) => h.name === value)
        ? undefined
        : `a hub of the sandbox organization: ${list(world.hubs.map((h) => h.name))}`;
    case 'uplink':
      return (MERAKI_UPLINKS as readonly string[]).includes(value) ? undefined : MERAKI_UPLINKS.join(' | ');
    case 'pct':
      return value !== '' && Number(value) >= 0 && Number(value) <= 100 ? undefined : 'a loss % 0–100';
    case 'ms':
      return value !== '' && Number(value) >= 0 ? undefined : 'a latency in ms >= 0';
    case 'mode':
      return (DASHBOARD_MODES as readonly string[]).includes(value) ? undefined : DASHBOARD_MODES.join(' | ');
    case 'amount':
      if (mode === 'storm') return simulatedSeconds(value) > 0 ? undefined : 'a simulated time > 0 (2m, 90s)';
      return Number.isInteger(Number(value)) && Number(value) > 0 ? undefined : 'a request count > 0';
    case 'tag':
      return /^\S+$/.test(value) ? undefined : 'a tag without spaces';
    default:
      return `an argument of kind ${kind}`;
  }
}

function checkStep(raw: RawFaultStep, world: MerakiFaultWorld): MerakiFaultStep {
  const issues: Issue[] = [];
  const { path } = raw;
  if (!Number.isFinite(raw.at) || raw.at < 0)
    issues.push({ path: `${path}.at`, value: raw.written, expected: 'a simulated time >= 0 (4m, 90s)' });
  const signature = (SIGNATURES as Record<string, readonly string[]>)[raw.action];
  if (!signature) {
    issues.push({ path: `${path}.action`, value: raw.action, expected: Object.keys(SIGNATURES).join(' | ') });
    throw new ValidationError('Meraki fault script', issues);
  }
  const required = signature.filter((k) => !k.endsWith('?')).length;
  if (raw.args.length < required || raw.args.length > signature.length) {
    issues.push({
      path: `${path}.args`,
      value: raw.args,
      expected: `${signature.map((k) => `<${k.replace('?', '')}>${k.endsWith('?') ? '?' : ''}`).join(' ') || 'nothing'} for ${raw.action}`,
    });
  } else {
    raw.args.forEach((value, i) => {
      const kind = (signature[i] ?? '').replace('?', '');
      const expected = checkArg(kind, value, world, raw.args[0]);
      if (expected) issues.push({ path: `${path}.args.${i}`, value, expected });
    });
  }
  if (issues.length > 0) throw new ValidationError('Meraki fault script', issues);
  return { atSec: raw.at, action: raw.action as MerakiFaultAction, args: raw.args };
}

/**
 * Parse a Meraki fault script (inline, a JSON array, or a JSON file: see the module comment)
 * against the sandbox organization. Throws ValidationError naming the step, the field and the value.
 */
export function parseMerakiFaultScript(text: string, world: MerakiFaultWorld): MerakiFaultStep[] {
  return readFaultScript(text, { what: 'Meraki fault script', time: simulatedSeconds }).map((raw) =>
    checkStep(raw, world),
  );
}

/** A step as the sandbox prints it when it fires. */
export function describeMerakiFault(step: MerakiFaultStep): string {
  const [a, b, c] = step.args;
  const when = `simulated minute ${Math.round((step.atSec / 60) * 100) / 100}`;
  if (step.action === 'loss')
    return `${a} → ${b} loss ${c}% (${when}; the Dashboard's series shows it 2 minutes later)`;
  return `${step.action} ${step.args.join(' ')}`.trimEnd() + ` (${when})`;
}

/**
 * Apply one step through the Meraki simulator's fault methods (a storm's time is on the
 * simulator's clock, which the sandbox scales).
 */
export function applyMerakiFault(sim: MerakiFaults, step: MerakiFaultStep, world: MerakiFaultWorld): void {
  const [a = '', b = '', c, d] = step.args;
  switch (step.action) {
    case 'loss':
      return sim.setLoss(a, b, Number(c), d === undefined ? undefined : Number(d));
    case 'hub-down':
    case 'hub-up':
      return sim.setHubDown(world.id, a, step.action === 'hub-down');
    case 'uplink-loss':
      return sim.setUplinkLoss(a, b as SimUplink, Number(c));
    case 'uplink-down':
    case 'uplink-up':
      return sim.setUplinkDown(a, b as SimUplink, step.action === 'uplink-down');
    case 'tunnel-down':
    case 'tunnel-up':
      return sim.breakTunnel(a, b, step.action === 'tunnel-down');
    case 'dashboard':
      if (a === 'storm') return sim.storm429({ forMs: simulatedSeconds(b) * 1000 });
      return sim.failRequests({ status: a === '429' ? 429 : 503, count: Number(b) });
    case 'tag-add':
      return sim.editTags(a, { add: [b] });
    case 'tag-remove':
      return sim.editTags(a, { remove: [b] });
    case 'heal':
      return sim.heal();
  }
}
