/**
 * The fault script: world changes at given times (seconds of wall-clock time after the sandbox
 * started; the time scale does not apply to them). Inline form, steps separated by `;` or `,`:
 *
 *   "20s down HA_DC1; 60s up HA_DC1; 90s loss HA_DC2 50; 100s director DC error5xx; 120s heal"
 *
 * or a JSON file with `[{ "at": 20, "action": "down", "args": ["HA_DC1"] }, …]`.
 * Actions: `down <cpe>`, `up <cpe>`, `loss <cpe> <pct> [latencyMs]`, `site-down <DC|DR>`,
 * `site-up <DC|DR>`, `director <DC|DR> <ok|error5xx|hang|slow|down> [delayMs]`, `heal`.
 */
import type { SiteName } from '../../shared/domain/model.js';
import { ValidationError } from '../../shared/errors.js';
import type { DirectorMode, ZwanSimulator } from '../simulator/index.js';
import { readFaultScript } from './fault-script.js';
import { need, type PartFactory, type SandboxContext, type SandboxPart } from './parts.js';

/** One step of a fault script. */
export interface FaultStep {
  /** Seconds after the sandbox started. */
  at: number;
  action: 'down' | 'up' | 'loss' | 'site-down' | 'site-up' | 'director' | 'heal';
  args: string[];
}

/** The default demo: HA_DC1 down at 20 s, back up at 60 s. */
export const DEFAULT_FAULTS = '20s down HA_DC1; 40s down HA_DC2; 60s up HA_DC1; 62s up HA_DC2';

const ARITY: Record<FaultStep['action'], [number, number]> = {
  down: [1, 1],
  up: [1, 1],
  loss: [2, 3],
  'site-down': [1, 1],
  'site-up': [1, 1],
  director: [2, 3],
  heal: [0, 0],
};
const MODES: readonly DirectorMode[] = ['ok', 'error5xx', 'hang', 'slow', 'down'];

function checkStep(step: FaultStep, path: string, written: unknown = step.at): FaultStep {
  const issues: { path: string; value: unknown; expected: string }[] = [];
  if (!Number.isFinite(step.at) || step.at < 0)
    issues.push({ path: `${path}.at`, value: written, expected: 'seconds >= 0' });
  const arity = ARITY[step.action];
  if (!arity) {
    issues.push({ path: `${path}.action`, value: step.action, expected: Object.keys(ARITY).join(' | ') });
  } else if (step.args.length < arity[0] || step.args.length > arity[1]) {
    issues.push({
      path: `${path}.args`,
      value: step.args,
      expected: `${arity[0]}${arity[1] > arity[0] ? `–${arity[1]}` : ''} argument(s) for ${step.action}`,
    });
  } else {
    if (
      ['site-down', 'site-up', 'director'].includes(step.action) &&
      !['DC', 'DR'].includes(step.args[0] ?? '')
    )
      issues.push({ path: `${path}.args.0`, value: step.args[0], expected: 'DC or DR' });
    if (step.action === 'director' && !MODES.includes(step.args[1] as DirectorMode))
      issues.push({ path: `${path}.args.1`, value: step.args[1], expected: MODES.join(' | ') });
    if (step.action === 'loss' && !(Number(step.args[1]) >= 0 && Number(step.args[1]) <= 100))
      issues.push({ path: `${path}.args.1`, value: step.args[1], expected: 'a loss % 0–100' });
  }
  if (issues.length > 0) throw new ValidationError('fault script', issues);
  return step;
}

/** Parse a fault script given inline or as a path to a JSON file (see the module comment). */
export function parseFaultScript(text: string): FaultStep[] {
  return readFaultScript(text, { what: 'fault script', time: wallSeconds }).map(
    ({ path, written, ...step }) => checkStep(step as FaultStep, path, written),
  );
}

/** `20s` or `20` → 20 (wall-clock seconds); NaN otherwise. */
function wallSeconds(word: string): number {
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(word);
  return m ? Number(m[1]) : Number.NaN;
}

/** Apply one step to the simulator. */
export function applyFault(sim: ZwanSimulator, step: FaultStep): void {
  const [a = '', b = '', c] = step.args;
  switch (step.action) {
    case 'down':
      return sim.faults.cpeDown(a);
    case 'up':
      return sim.faults.cpeUp(a);
    case 'loss':
      return sim.faults.setLoss(a, Number(b), c === undefined ? undefined : Number(c));
    case 'site-down':
      return sim.faults.siteDown(a as SiteName);
    case 'site-up':
      return sim.faults.siteUp(a as SiteName);
    case 'director':
      return sim.faults.director(a as SiteName, {
        mode: b as DirectorMode,
        ...(c === undefined ? {} : { delayMs: Number(c) }),
      });
    case 'heal':
      return sim.faults.heal();
  }
}

/** A part that plays a fault script against the simulator. */
export function faultScriptPart(steps: readonly FaultStep[], name = 'faults'): SandboxPart {
  const timers: NodeJS.Timeout[] = [];
  return {
    name,
    async start(ctx: SandboxContext) {
      need(ctx, 'simulator', name);
    },
    running(ctx: SandboxContext) {
      const sim = need(ctx, 'simulator', name);
      for (const step of steps) {
        const delay = ctx.startedAt + step.at * 1000 - Date.now();
        timers.push(
          setTimeout(
            () => {
              try {
                applyFault(sim, step);
                ctx.print(`fault: ${step.action} ${step.args.join(' ')}`.trimEnd());
              } catch (error) {
                ctx.print(`fault ${step.action} ${step.args.join(' ')} failed: ${(error as Error).message}`);
              }
            },
            Math.max(0, delay),
          ),
        );
      }
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
    },
  };
}

/** The fault script from the options (no part when a scenario drives the world). */
export const faultsPart: PartFactory = (options) =>
  options.scenario || options.director === 'meraki' || options.zwanExternal
    ? undefined
    : faultScriptPart(options.faults);
