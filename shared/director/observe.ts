/**
 * Observe mode (config `mode: "observe"`) at the adapter: a decorator over any director (zWAN,
 * Meraki, the DR operations) that refuses every write before it is sent — fence, HA_STATE,
 * re-point, tag swaps, the group button, site role, backup, restore, management URL — counts it
 * ({@link OBSERVE_METRICS}), logs it and throws ObserveModeError. Reads (listing, health samples,
 * director health, job status, VPN statuses, peer checks) pass through unchanged, so the
 * controller samples, elects and plans as in act mode.
 *
 * What the controller's own state does then (shared/failover): decisions are stored (serving,
 * epoch, alarms) and their notice goes out worded "observe: would fail over … N branches"; a
 * fan-out reads and plans but writes nothing, stores no branch outcome and sends no
 * REPOINT_FAILURE. Switched to act mode, the drift reconcile moves the branches that are not on
 * the stored serving (the decision is re-elected from current health first).
 */
import { ObserveModeError } from '../errors.js';
import type { LogSink, MetricSink } from '../observability.js';
import type { ControllerMode } from '../config/schema.js';
import type { Director } from './port.js';

/** Metrics of observe mode. */
export const OBSERVE_METRICS = {
  /** Director writes refused by the decorator (one per call). */
  refusedWrites: 'ObserveRefusedWrites',
  /** Changes of serving decided (and stored, and notified) in observe mode. */
  wouldChangeServing: 'ObserveWouldChangeServing',
  /** Re-points a fan-out would have sent (observe mode: none sent). */
  wouldRepoint: 'ObserveWouldRepoint',
} as const;

/**
 * Every director method that changes something: the Director and DrDirector ports, the zWAN
 * group button, the Meraki tag operations. A method not named here is a read.
 */
export const DIRECTOR_WRITES: readonly string[] = [
  'fence',
  'setHaState',
  'repoint',
  'repointGroup',
  'updateGroupBranches',
  'setSiteRole',
  'startBackup',
  'startRestore',
  'setManagementUrl',
  'retagOne',
  'retagMany',
];

const WRITES = new Set(DIRECTOR_WRITES);
const OBSERVING = Symbol('observe-only director');

/** Where refusals are logged and counted. */
export interface ObserveSinks {
  log: LogSink;
  metrics: MetricSink;
}

/** The arguments of a refused call, for its log line (identifiers and epochs; no bodies, no functions). */
function summarize(args: readonly unknown[]): unknown[] {
  const keys = ['tenantId', 'branchId', 'targetId', 'cpeId', 'epoch', 'bucket', 'mspPrefix', 'elkPrefix'];
  return args
    .filter((a) => typeof a !== 'function')
    .map((a) => {
      if (a === null || typeof a !== 'object') return a;
      if (Array.isArray(a)) return `${a.length} item(s)`;
      const o = a as Record<string, unknown>;
      return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    })
    .filter((a) => !(typeof a === 'object' && a !== null && Object.keys(a).length === 0));
}

/**
 * `director` with every write refused (see the module comment): the returned object has the same
 * type and reads; each write resolves to nothing on the director and rejects with
 * ObserveModeError after counting {@link OBSERVE_METRICS.refusedWrites} and logging a warning.
 */
export function observeOnly<D extends Director>(director: D, sinks: ObserveSinks): D {
  if (isObserveOnly(director)) return director;
  const who = `${director.kind} ${director.site} director`;
  return new Proxy(director, {
    get(target, prop, receiver) {
      if (prop === OBSERVING) return true;
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !WRITES.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<never> => {
        sinks.metrics.count(OBSERVE_METRICS.refusedWrites);
        const detail = summarize(args);
        sinks.log.warn(`observe mode: refused ${prop} on the ${who} (nothing sent)`, {
          operation: prop,
          director: director.kind,
          site: director.site,
          args: detail,
        });
        throw new ObserveModeError(
          prop,
          `observe mode: ${prop}(${JSON.stringify(detail).slice(1, -1)}) on the ${who} refused; nothing was sent (config mode is "observe")`,
        );
      };
    },
  });
}

/** Whether `director` is an {@link observeOnly} decorator (its writes are refused). */
export function isObserveOnly(director: object | undefined): boolean {
  return director !== undefined && (director as Record<symbol, unknown>)[OBSERVING] === true;
}

/**
 * The site directors as the configuration's `mode` wants them: unchanged in act mode, each one
 * {@link observeOnly} in observe mode. Every builder of directors from the configuration ends here.
 */
export function directorsForMode<T extends Partial<Record<string, Director>>>(
  mode: ControllerMode,
  directors: T,
  sinks: ObserveSinks,
): T {
  if (mode === 'act') return directors;
  const out: Partial<Record<string, Director>> = {};
  for (const [site, d] of Object.entries(directors)) if (d) out[site] = observeOnly(d, sinks);
  return out as T;
}
