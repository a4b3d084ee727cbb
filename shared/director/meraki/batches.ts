/**
 * Action batches by Meraki's rules: at most 100 actions, at most 20 when `synchronous: true` (the
 * answer carries the result, nothing to poll), at most 5 running per organization, up to 10
 * minutes to complete, and a confirmed batch cannot be deleted.
 *
 * Polling stays within the request budget: one `GET …/actionBatches?status=pending` per interval
 * for all of the organization's running batches of this instance (backing off while nothing
 * completes), then one GET per batch that left the listing. A batch the caller stopped waiting for
 * stays tracked here and is reported `pending`, never `failed`: it may still apply. Before a
 * network's change is resubmitted, the pending listing tells whether a batch already holds one.
 */
import type * as z from 'zod/mini';
import { DirectorRequestError } from '../../errors.js';
import type { MerakiContext } from './context.js';
import {
  MERAKI_OPERATIONS,
  merakiRequestBody,
  parseMerakiList,
  parseMerakiResponse,
  type batchSchema,
} from './schemas.js';

/** Options of the action-batch side. */
export interface MerakiBatchOptions {
  /** Action batches. */
  batches?: {
    /** @default 100 (Meraki's maximum) */
    size?: number;
    /** Batches running at once per call. @default 5 (Meraki's maximum per organization) */
    maxRunning?: number;
    /** Resubmissions of a failed batch before it is split in halves. @default 1 */
    retries?: number;
    /** First look at a submitted batch after this long. @default 1000 */
    firstPollMs?: number;
    /** Then one pending listing per organization this often, backing off ×2 while nothing completes. @default 1000 */
    pollIntervalMs?: number;
    /** The back-off's ceiling. @default 2 × pollIntervalMs */
    maxPollIntervalMs?: number;
    /** Stop waiting for a batch after this long (it stays tracked and is reported pending). @default 300000 */
    timeoutMs?: number;
  };
}

/** One tag change of a batch. */
export interface BatchAction {
  networkId: string;
  tags: string[];
}

/** How a batch ended, as far as the caller waited: `pending` may still apply. */
export interface BatchResult {
  id: string;
  state: 'done' | 'failed' | 'pending';
  errors: string[];
}

/** A network's change that a batch still running holds. */
export interface PendingChange {
  batchId: string;
  /** The tags the batch will write (undefined when its action is not a tags update). */
  tags?: string[];
}

/** What {@link MerakiBatches.submit} did with one chunk. */
export interface SubmitOutcome {
  /** The batch made of the accepted actions (undefined when none was accepted). */
  batch?: BatchResult;
  /** The actions in that batch. */
  actions: BatchAction[];
  /** Actions the Dashboard refused at submission (a 400 naming them), with its reason. */
  rejected: { networkId: string; reason: string }[];
}

/** The batch operations of the adapter. */
export interface MerakiBatches {
  readonly size: number;
  readonly maxRunning: number;
  readonly retries: number;
  /** Networks whose change sits in a running batch (one pending listing), by network id. */
  pendingChanges(organizationId: string): Promise<Map<string, PendingChange>>;
  /**
   * Submit one batch (synchronous for ≤ 20 actions) and wait for it within the timeout. A 400
   * naming some actions drops them (reported) and resubmits the rest. Throws when the submission's
   * outcome is unknown (a 5xx, a timeout): it is never resent.
   */
  submit(organizationId: string, actions: readonly BatchAction[]): Promise<SubmitOutcome>;
  /** Wait for running batches (by id) within the timeout. */
  wait(organizationId: string, ids: readonly string[]): Promise<Map<string, BatchResult>>;
}

type Batch = z.output<typeof batchSchema>;

interface Waiter {
  deadline: number;
  resolve: (r: BatchResult) => void;
}

const resultOf = (b: Batch): BatchResult => ({
  id: b.id,
  state: b.status.completed ? (b.status.failed ? 'failed' : 'done') : 'pending',
  errors: b.status.errors,
});

const networkOf = (resource: string) => /^\/networks\/([^/]+)$/.exec(resource)?.[1];

/** Create the batch operations over the adapter's context. */
export function createMerakiBatches(ctx: MerakiContext, options: MerakiBatchOptions): MerakiBatches {
  const size = Math.min(100, options.batches?.size ?? 100);
  const maxRunning = Math.min(5, options.batches?.maxRunning ?? 5);
  const retries = options.batches?.retries ?? 1;
  const firstPollMs = options.batches?.firstPollMs ?? 1000;
  const pollMs = options.batches?.pollIntervalMs ?? 1000;
  // A batch takes seconds: a longer back-off notices each wave of completions late (the bench's
  // ratio to its bound), for one listing per interval whatever the number of batches.
  const maxPollMs = options.batches?.maxPollIntervalMs ?? 2 * pollMs;
  const timeoutMs = options.batches?.timeoutMs ?? 300_000;
  const path = (org: string) => `/organizations/${encodeURIComponent(org)}/actionBatches`;

  // Per organization: the batches this instance submitted that have not been seen completed, and
  // whoever waits for each; one poller runs while anybody waits.
  const tracked = new Map<string, Map<string, Waiter[]>>();
  const polling = new Set<string>();

  async function listPending(organizationId: string): Promise<Batch[]> {
    const res = await ctx.orgCall(organizationId, {
      method: 'GET',
      path: path(organizationId),
      query: { status: 'pending' },
    });
    // An entry without what a batch needs (its id, its actions) is left out: not ours to track.
    return parseMerakiList(MERAKI_OPERATIONS.listBatches, res.status, res.body).entries;
  }

  async function readBatch(organizationId: string, id: string): Promise<Batch> {
    const res = await ctx.orgCall(organizationId, {
      method: 'GET',
      path: `${path(organizationId)}/${encodeURIComponent(id)}`,
    });
    return parseMerakiResponse(MERAKI_OPERATIONS.readBatch, res.status, res.body);
  }

  async function pendingChanges(organizationId: string): Promise<Map<string, PendingChange>> {
    const found = new Map<string, PendingChange>();
    const running = new Set<string>();
    for (const b of await listPending(organizationId)) {
      if (b.status.completed) continue;
      running.add(b.id);
      for (const a of b.actions) {
        const networkId = networkOf(a.resource);
        if (!networkId) continue;
        const tags = (a as { body?: { tags?: unknown } }).body?.tags;
        const valid = Array.isArray(tags) && tags.every((t) => typeof t === 'string');
        found.set(networkId, { batchId: b.id, ...(valid ? { tags: tags as string[] } : {}) });
      }
    }
    // A tracked batch nobody waits for any more and no longer pending has completed: forget it.
    const mine = tracked.get(organizationId);
    for (const [id, waiters] of mine ?? []) if (waiters.length === 0 && !running.has(id)) mine?.delete(id);
    return found;
  }

  /** The shared poller of an organization: one pending listing per interval for all its batches. */
  async function poll(organizationId: string): Promise<void> {
    if (polling.has(organizationId)) return;
    polling.add(organizationId);
    let interval = pollMs;
    try {
      await ctx.clock.sleep(firstPollMs);
      for (;;) {
        const mine = tracked.get(organizationId);
        const waiting = mine ? [...mine.values()].flat() : [];
        if (!mine || waiting.length === 0) return;
        let pending: Set<string>;
        try {
          pending = new Set(
            (await listPending(organizationId)).filter((b) => !b.status.completed).map((b) => b.id),
          );
        } catch {
          pending = new Set(mine.keys()); // unknown: as if still running; the deadlines still apply
        }
        let progressed = false;
        for (const [id, waiters] of [...mine]) {
          if (pending.has(id)) continue;
          let result: BatchResult;
          try {
            result = resultOf(await readBatch(organizationId, id));
          } catch {
            continue; // asked again next round
          }
          if (result.state === 'pending') continue;
          mine.delete(id);
          progressed = true;
          for (const w of waiters) w.resolve(result);
        }
        const now = ctx.clock.now();
        for (const [id, waiters] of mine) {
          const left = waiters.filter((w) => w.deadline > now);
          for (const w of waiters)
            if (w.deadline <= now)
              w.resolve({
                id,
                state: 'pending',
                errors: [`batch ${id} did not complete within ${timeoutMs} ms; it may still apply`],
              });
          waiters.splice(0, waiters.length, ...left);
        }
        interval = progressed ? pollMs : Math.min(maxPollMs, interval * 2);
        const deadlines = [...mine.values()].flat().map((w) => w.deadline);
        if (deadlines.length === 0) return;
        await ctx.clock.sleep(Math.max(1, Math.min(interval, Math.min(...deadlines) - ctx.clock.now())));
      }
    } finally {
      polling.delete(organizationId);
      // A waiter that arrived while this poller was finishing gets its own.
      if ([...(tracked.get(organizationId)?.values() ?? [])].some((w) => w.length > 0))
        void poll(organizationId);
    }
  }

  function wait(organizationId: string, ids: readonly string[]): Promise<Map<string, BatchResult>> {
    let mine = tracked.get(organizationId);
    if (!mine) tracked.set(organizationId, (mine = new Map()));
    const deadline = ctx.clock.now() + timeoutMs;
    const all = ids.map(
      (id) =>
        new Promise<BatchResult>((resolve) => {
          let waiters = (mine as Map<string, Waiter[]>).get(id);
          if (!waiters) (mine as Map<string, Waiter[]>).set(id, (waiters = []));
          waiters.push({ deadline, resolve });
        }),
    );
    void poll(organizationId);
    return Promise.all(all).then((rs) => new Map(rs.map((r) => [r.id, r])));
  }

  /** A running batch holding exactly these changes (a submission whose answer was lost). */
  async function findRunning(
    organizationId: string,
    actions: readonly BatchAction[],
  ): Promise<string | undefined> {
    const want = new Map(actions.map((a) => [a.networkId, JSON.stringify(a.tags)]));
    for (const b of await listPending(organizationId)) {
      if (b.status.completed || b.actions.length !== want.size) continue;
      const same = b.actions.every((a) => {
        const n = networkOf(a.resource);
        return (
          n !== undefined && want.get(n) === JSON.stringify((a as { body?: { tags?: unknown } }).body?.tags)
        );
      });
      if (same) return b.id;
    }
    return undefined;
  }

  /** The actions a 400 names (by network id, or `Action <i>` / `actions[<i>]`). */
  function named(actions: readonly BatchAction[], errors: readonly string[]): Set<number> {
    const hit = new Set<number>();
    for (const e of errors) {
      for (const m of e.matchAll(/\b[Aa]ctions?\s*\[?\s*(\d+)\]?/g)) {
        const i = Number(m[1]);
        if (i < actions.length) hit.add(i);
      }
      actions.forEach((a, i) => {
        if (new RegExp(`(^|[^\\w-])${a.networkId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w-]|$)`).test(e))
          hit.add(i);
      });
    }
    return hit;
  }

  async function post(organizationId: string, actions: readonly BatchAction[]): Promise<Batch> {
    const body = merakiRequestBody(MERAKI_OPERATIONS.submitBatch, {
      confirmed: true,
      synchronous: actions.length <= 20,
      actions: actions.map((a) => ({
        resource: `/networks/${a.networkId}`,
        operation: 'update' as const,
        body: { tags: a.tags },
      })),
    });
    for (let wait = 0; ; wait++) {
      try {
        // Never resent once the Dashboard may have created it (a timeout, a 5xx, an unreadable
        // answer): a duplicate could apply these tags after a newer batch.
        const res = await ctx.orgCall(organizationId, {
          method: 'POST',
          path: path(organizationId),
          body,
          idempotent: false,
        });
        return parseMerakiResponse(MERAKI_OPERATIONS.submitBatch, res.status, res.body);
      } catch (error) {
        // Other batches fill the 5 running slots: wait for one to finish.
        const busy =
          error instanceof DirectorRequestError &&
          error.status === 400 &&
          /concurrently|running/i.test(error.message);
        if (!busy || wait >= 60) throw error;
        await ctx.clock.sleep(Math.min(maxPollMs, pollMs * 2 ** Math.min(wait, 3)));
      }
    }
  }

  async function submit(organizationId: string, actions: readonly BatchAction[]): Promise<SubmitOutcome> {
    const rejected: SubmitOutcome['rejected'] = [];
    let left = [...actions];
    while (left.length > 0) {
      let created: Batch;
      try {
        created = await post(organizationId, left);
      } catch (error) {
        if (!(error instanceof DirectorRequestError) || error.status !== 400) {
          // Unknown outcome (a 5xx, a timeout): the batch may exist. Running → waited for; else
          // (never created, or already completed: the next read of the tags tells) the error.
          const found = await findRunning(organizationId, left).catch(() => undefined);
          if (!found) throw error;
          const result = (await wait(organizationId, [found])).get(found);
          return { ...(result ? { batch: result } : {}), actions: left, rejected };
        }
        // A 400 creates nothing: drop the actions it names and resubmit the rest.
        const errors = [error.message];
        const bad = named(left, errors);
        if (bad.size === 0 || bad.size === left.length) {
          for (const a of left) rejected.push({ networkId: a.networkId, reason: error.message });
          return { actions: [], rejected };
        }
        for (const i of bad)
          rejected.push({ networkId: (left[i] as BatchAction).networkId, reason: error.message });
        left = left.filter((_, i) => !bad.has(i));
        continue;
      }
      const now = resultOf(created);
      if (now.state !== 'pending') return { batch: now, actions: left, rejected };
      const result = (await wait(organizationId, [created.id])).get(created.id) ?? now;
      return { batch: result, actions: left, rejected };
    }
    return { actions: [], rejected };
  }

  return { size, maxRunning, retries, pendingChanges, submit, wait };
}
