/**
 * Action batches as the Dashboard runs them: at most 100 actions (20 when synchronous); every
 * action checked at submission (an unknown network or an invalid tag refuses the whole batch with
 * a 400 naming the action); a synchronous batch answers completed; a confirmed asynchronous one
 * completes after `batchDurationMs` (a number or a function of its actions), atomically (a failed
 * batch applies none of its actions), or fails when not done within the time limit (Meraki's 10
 * minutes); at most 5 confirmed batches running per organization; a confirmed batch cannot be
 * deleted; listing by `status=pending|completed|failed`.
 */
import { HttpError, objectOf } from './http.js';
import type { OrgState, SimState } from './state.js';
import type { SimBatchAction, SimStats } from './types.js';

const NETWORK_RESOURCE = /^\/networks\/([^/]+)$/;

/**
 * A Dashboard-like duration of an asynchronous batch: a few seconds to start, then about a tenth of
 * a second per action (100 tag updates ≈ 12 s). An assumption for benchmarks and the sandbox, not a
 * documented figure; pass it as `batchDurationMs`.
 */
export function realisticBatchDurationMs(actions: readonly SimBatchAction[]): number {
  return 2_000 + actions.length * 100;
}

/** Meraki's limit on running batches per organization. */
export const MAX_RUNNING_BATCHES = 5;

interface Batch {
  id: string;
  organizationId: string;
  confirmed: boolean;
  synchronous: boolean;
  actions: SimBatchAction[];
  completed: boolean;
  failed: boolean;
  errors: string[];
}

/** Settings of {@link Batches}. */
export interface BatchOptions {
  state: SimState;
  stats: SimStats;
  durationMs: number | ((actions: readonly SimBatchAction[]) => number);
  timeLimitMs: number;
  setTimer: (ms: number, fn: () => void) => void;
}

/** Validate a tag array: strings without whitespace, or a 400 naming the field and the tag. */
export function validTags(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) {
    throw new HttpError(400, [`'${field}' must be an array of strings`]);
  }
  const bad = value.find((t: string) => t.trim() === '' || /\s/.test(t));
  if (bad !== undefined)
    throw new HttpError(400, [`'${field}' contains an invalid tag ${JSON.stringify(bad)}`]);
  return value as string[];
}

/** The action batches of every organization. */
export class Batches {
  private readonly byOrg = new Map<string, Map<string, Batch>>();
  private nextId = 1;
  private readonly faults = { count: 0, networkIds: new Set<string>(), message: 'injected failure' };

  constructor(private readonly options: BatchOptions) {}

  /** Make batches fail at completion: the next `count`, and/or any touching one of `networkIds`. */
  failBatches(spec: { count?: number; networkIds?: readonly string[]; message?: string }): void {
    this.faults.count += spec.count ?? 0;
    for (const id of spec.networkIds ?? []) this.faults.networkIds.add(id);
    if (spec.message) this.faults.message = spec.message;
  }

  clearFaults(): void {
    this.faults.count = 0;
    this.faults.networkIds.clear();
  }

  private of(org: OrgState): Map<string, Batch> {
    let batches = this.byOrg.get(org.org.id);
    if (!batches) this.byOrg.set(org.org.id, (batches = new Map()));
    return batches;
  }

  /** `POST /organizations/{organizationId}/actionBatches`. */
  create(org: OrgState, body: unknown): Record<string, unknown> {
    const req = objectOf(body ?? {}, 'body');
    const confirmed = req.confirmed === true;
    const synchronous = req.synchronous === true;
    const actions = this.validate(org, req.actions, synchronous);
    const batches = this.of(org);
    if (confirmed && !synchronous) {
      const running = [...batches.values()].filter((b) => b.confirmed && !b.completed && !b.failed).length;
      if (running >= MAX_RUNNING_BATCHES) {
        throw new HttpError(400, [
          'Too many concurrently executing batches. Maximum is 5 confirmed but not yet executed batches.',
        ]);
      }
    }
    const b: Batch = {
      id: String(this.nextId++),
      organizationId: org.org.id,
      confirmed,
      synchronous,
      actions,
      completed: false,
      failed: false,
      errors: [],
    };
    batches.set(b.id, b);
    this.options.stats.batchesCreated += 1;
    if (confirmed) this.start(org, b);
    return json(b);
  }

  private start(org: OrgState, b: Batch): void {
    const d = this.options.durationMs;
    const duration = typeof d === 'function' ? d(b.actions) : d;
    if (b.synchronous || duration <= 0) {
      this.complete(org, b);
      return;
    }
    const limit = this.options.timeLimitMs;
    if (duration > limit) {
      this.options.setTimer(limit, () => {
        if (b.completed || b.failed) return;
        b.failed = true;
        b.completed = true; // finished, unsuccessfully (as an injected failure ends)
        b.errors = [`Action batch did not complete within ${limit / 60_000} minutes; no action was applied`];
        this.options.stats.batchesFailed += 1;
      });
      return;
    }
    this.options.setTimer(duration, () => this.complete(org, b));
  }

  /** `GET …/actionBatches/{actionBatchId}`. */
  read(org: OrgState, id: string): Record<string, unknown> {
    const b = this.of(org).get(id);
    if (!b) throw new HttpError(404, [`Action batch ${id} not found`]);
    return json(b);
  }

  /** `GET …/actionBatches?status=…`. */
  list(org: OrgState, status: string | null): Record<string, unknown>[] {
    const wanted = ['pending', 'completed', 'failed'];
    if (status !== null && !wanted.includes(status)) {
      throw new HttpError(400, [
        `'status' must be one of ${wanted.join(', ')}, not ${JSON.stringify(status)}`,
      ]);
    }
    const stateOf = (b: Batch) => (b.failed ? 'failed' : b.completed ? 'completed' : 'pending');
    return [...this.of(org).values()].filter((b) => status === null || stateOf(b) === status).map(json);
  }

  /** `DELETE …/actionBatches/{actionBatchId}`: only a batch not yet confirmed. */
  delete(org: OrgState, id: string): void {
    const batches = this.of(org);
    const b = batches.get(id);
    if (!b) throw new HttpError(404, [`Action batch ${id} not found`]);
    if (b.confirmed) throw new HttpError(400, ['A confirmed action batch cannot be deleted']);
    batches.delete(id);
  }

  private validate(org: OrgState, raw: unknown, synchronous: boolean): SimBatchAction[] {
    if (!Array.isArray(raw) || raw.length === 0)
      throw new HttpError(400, ["'actions' must be a non-empty array"]);
    const max = synchronous ? 20 : 100;
    if (raw.length > max) {
      throw new HttpError(400, [
        `Too many actions: ${raw.length}; a${synchronous ? ' synchronous' : 'n'} batch holds at most ${max}`,
      ]);
    }
    return raw.map((a: unknown, i: number) => {
      const action = (a ?? {}) as Record<string, unknown>;
      const resource = action.resource;
      const match = typeof resource === 'string' ? NETWORK_RESOURCE.exec(resource) : null;
      if (!match || action.operation !== 'update') {
        throw new HttpError(400, [
          `Action ${i}: the simulator supports only {resource: "/networks/{networkId}", operation: "update"}`,
        ]);
      }
      if (!org.byId.has(match[1] as string)) {
        throw new HttpError(400, [`Action ${i}: network ${match[1]} is not in organization ${org.org.id}`]);
      }
      const body = objectOf(action.body ?? {}, `actions[${i}].body`);
      if (body.tags !== undefined) validTags(body.tags, `actions[${i}].body.tags`);
      return { resource: resource as string, operation: 'update', body };
    });
  }

  private complete(org: OrgState, b: Batch): void {
    if (b.completed || b.failed) return;
    const networks = b.actions.map(
      (a) => (NETWORK_RESOURCE.exec(a.resource) as RegExpExecArray)[1] as string,
    );
    const hit = networks.find((id) => this.faults.networkIds.has(id));
    if (this.faults.count > 0 || hit !== undefined) {
      if (hit === undefined) this.faults.count -= 1;
      b.failed = true;
      b.errors = [
        `${hit !== undefined ? `Network ${hit}: ` : ''}${this.faults.message}; no action was applied`,
      ];
      this.options.stats.batchesFailed += 1;
    } else {
      b.actions.forEach((a, i) => {
        const ns = org.byId.get(networks[i] as string);
        if (!ns) return;
        if (Array.isArray(a.body.tags)) this.options.state.applyTags(ns, a.body.tags as string[]);
        if (typeof a.body.name === 'string') ns.network.name = a.body.name;
      });
    }
    b.completed = true;
  }
}

function json(b: Batch): Record<string, unknown> {
  return {
    id: b.id,
    organizationId: b.organizationId,
    confirmed: b.confirmed,
    synchronous: b.synchronous,
    status: { completed: b.completed, failed: b.failed, errors: [...b.errors], createdResources: [] },
    actions: b.actions.map((a) => ({ ...a, body: { ...a.body } })),
  };
}
