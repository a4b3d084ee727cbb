/**
 * Action batches by Meraki's rules: at most 100 actions, at most 20 when `synchronous: true` (the
 * answer carries the result, nothing to poll), at most 5 running per organization, up to 10
 * minutes to complete, and a confirmed batch cannot be deleted.
 *
 * Polling stays within the request budget: each running batch is first looked at when batches of
 * its size have been taking to complete (learned from the looks so far; `firstPollMs` until then),
 * with one GET of the batch, which is also its result; a batch still running is looked at again
 * after a quarter of the poll interval, doubling up to the ceiling. When several are due at once, one
 * `GET …/actionBatches?status=pending` tells which are done. A batch the caller stopped waiting for
 * stays tracked here and is reported `pending`, never `failed`: it may still apply. Before a
 * network's change is resubmitted, the pending listing tells whether a batch already holds one.
 * Submissions and batch reads are urgent for the request budget (../budget.ts): the running
 * batches wait on them, so they go before verification and console reads.
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
    /** First look at a batch after this long, until looks have taught how long its size takes. @default 1000 */
    firstPollMs?: number;
    /** A batch found still running is looked at again after a quarter of this, then doubling. @default 1000 */
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
   * outcome is unknown (a 5xx, a timeout): it is never resent. With `sendBy` (epoch ms) nothing is
   * sent after it (a claim of the write ends then): a submission still waiting fails.
   */
  submit(
    organizationId: string,
    actions: readonly BatchAction[],
    options?: { sendBy?: number },
  ): Promise<SubmitOutcome>;
  /** Wait for running batches (by id) within the timeout. */
  wait(organizationId: string, ids: readonly string[]): Promise<Map<string, BatchResult>>;
}

type Batch = z.output<typeof batchSchema>;

interface Waiter {
  deadline: number;
  resolve: (r: BatchResult) => void;
}

/** A batch this instance waits for: when to look at it next, and what its looks taught. */
interface Track {
  waiters: Waiter[];
  /** When its submission was answered (or when waiting for another's began). */
  since: number;
  /** Its action count, when known (the duration estimate is per count). */
  actions?: number;
  /** The estimate its first look was timed by. */
  expectedMs: number;
  nextAt: number;
  /** Looks that found it still running. */
  misses: number;
  /** When the last such look was sent. */
  lastPendingAt?: number;
}

const resultOf = (b: Batch): BatchResult => ({
  id: b.id,
  state: b.status.completed ? (b.status.failed ? 'failed' : 'done') : 'pending',
  errors: b.status.errors,
});

const networkOf = (resource: string) => /^\/networks\/([^/]+)$/.exec(resource)?.[1];

/** Looks that find this many batches due at once go through one pending listing instead of a read each. */
const LIST_WHEN_DUE = 3;

/** Create the batch operations over the adapter's context. */
export function createMerakiBatches(ctx: MerakiContext, options: MerakiBatchOptions): MerakiBatches {
  const size = Math.min(100, options.batches?.size ?? 100);
  const maxRunning = Math.min(5, options.batches?.maxRunning ?? 5);
  const retries = options.batches?.retries ?? 1;
  const firstPollMs = options.batches?.firstPollMs ?? 1000;
  const pollMs = options.batches?.pollIntervalMs ?? 1000;
  const maxPollMs = options.batches?.maxPollIntervalMs ?? 2 * pollMs;
  const timeoutMs = options.batches?.timeoutMs ?? 300_000;
  const path = (org: string) => `/organizations/${encodeURIComponent(org)}/actionBatches`;

  // Per organization: the batches this instance submitted or waits for that have not been seen
  // completed; one poller runs while anybody waits.
  const tracked = new Map<string, Map<string, Track>>();
  const polling = new Set<string>();
  // Learned durations by action count (ms), so a batch is first looked at about when it should be
  // done: one read per batch when the Dashboard is steady, not one every interval.
  const learned = new Map<number, number>();

  function estimate(actions: number | undefined): number {
    if (actions === undefined) return firstPollMs;
    const exact = learned.get(actions);
    if (exact !== undefined) return exact;
    let nearest: [number, number] | undefined;
    for (const [n, ms] of learned)
      if (!nearest || Math.abs(n - actions) < Math.abs(nearest[0] - actions)) nearest = [n, ms];
    return nearest ? Math.max(1, Math.round((nearest[1] * actions) / nearest[0])) : firstPollMs;
  }

  /** What a completed batch's looks say about batches of its size. */
  function learn(t: Track, foundAt: number): void {
    if (t.actions === undefined) return;
    const upper = foundAt - t.since;
    // Found at the first look: it may have been done well before, so look a little earlier next
    // time (1 %: a miss costs a read of the budget, and 5 % missed every other batch). Found
    // later: it completed between the last miss and this look.
    const next =
      t.misses === 0
        ? Math.min(t.expectedMs, upper) * 0.99
        : ((t.lastPendingAt ?? t.since) - t.since + upper) / 2;
    learned.set(t.actions, Math.max(1, Math.round(next)));
  }

  /** The wait after a look that found it still running: a quarter interval at first, then doubling. */
  const backoff = (misses: number) => Math.min(maxPollMs, (pollMs / 4) * 2 ** Math.max(0, misses - 1));

  async function listPending(organizationId: string): Promise<Batch[]> {
    const res = await ctx.orgCall(organizationId, {
      method: 'GET',
      path: path(organizationId),
      query: { status: 'pending' },
      urgent: true,
    });
    // An entry without what a batch needs (its id, its actions) is left out: not ours to track.
    return parseMerakiList(MERAKI_OPERATIONS.listBatches, res.status, res.body).entries;
  }

  async function readBatch(organizationId: string, id: string): Promise<Batch> {
    const res = await ctx.orgCall(organizationId, {
      method: 'GET',
      path: `${path(organizationId)}/${encodeURIComponent(id)}`,
      urgent: true,
    });
    return parseMerakiResponse(MERAKI_OPERATIONS.readBatch, res.status, res.body);
  }

  async function pendingChanges(organizationId: string): Promise<Map<string, PendingChange>> {
    const found = new Map<string, PendingChange>();
    for (const b of await listPending(organizationId)) {
      if (b.status.completed) continue;
      for (const a of b.actions) {
        const networkId = networkOf(a.resource);
        if (!networkId) continue;
        const tags = (a as { body?: { tags?: unknown } }).body?.tags;
        const valid = Array.isArray(tags) && tags.every((t) => typeof t === 'string');
        found.set(networkId, { batchId: b.id, ...(valid ? { tags: tags as string[] } : {}) });
      }
    }
    return found;
  }

  /** Resolve the waiters whose deadline passed (`pending`: it may still apply); drop idle tracks. */
  function expire(mine: Map<string, Track>, now: number): void {
    for (const [id, t] of mine) {
      for (const w of t.waiters)
        if (w.deadline <= now)
          w.resolve({
            id,
            state: 'pending',
            errors: [`batch ${id} did not complete within ${timeoutMs} ms; it may still apply`],
          });
      t.waiters = t.waiters.filter((w) => w.deadline > now);
      if (t.waiters.length === 0) mine.delete(id);
    }
  }

  /** One look at the due batches: a read each, or one pending listing when many are due. */
  async function look(organizationId: string, mine: Map<string, Track>, due: [string, Track][]) {
    const sentAt = ctx.clock.now();
    let gone = due;
    if (due.length >= LIST_WHEN_DUE) {
      try {
        const running = new Set(
          (await listPending(organizationId)).filter((b) => !b.status.completed).map((b) => b.id),
        );
        gone = due.filter(([id]) => !running.has(id));
      } catch {
        gone = []; // unknown: as if still running; the deadlines still apply
      }
    }
    const missed = (t: Track) => {
      t.misses += 1;
      t.lastPendingAt = sentAt;
      t.nextAt = ctx.clock.now() + backoff(t.misses);
    };
    for (const [, t] of due) if (!gone.some(([, g]) => g === t)) missed(t);
    await Promise.all(
      gone.map(async ([id, t]) => {
        const readAt = ctx.clock.now();
        let result: BatchResult;
        try {
          result = resultOf(await readBatch(organizationId, id));
        } catch {
          t.nextAt = ctx.clock.now() + backoff(t.misses + 1); // asked again later
          return;
        }
        if (result.state === 'pending') {
          t.misses += 1;
          t.lastPendingAt = readAt;
          t.nextAt = ctx.clock.now() + backoff(t.misses);
          return;
        }
        learn(t, ctx.clock.now());
        mine.delete(id);
        for (const w of t.waiters) w.resolve(result);
      }),
    );
  }

  /** The poller of an organization: each batch is looked at when it is due, never faster than the back-off. */
  async function poll(organizationId: string): Promise<void> {
    if (polling.has(organizationId)) return;
    polling.add(organizationId);
    try {
      for (;;) {
        const mine = tracked.get(organizationId);
        if (!mine) return;
        expire(mine, ctx.clock.now());
        if (mine.size === 0) return;
        const now = ctx.clock.now();
        // Batches due within half an interval of each other are looked at together.
        const due = [...mine].filter(([, t]) => t.nextAt <= now + pollMs / 2);
        if (due.some(([, t]) => t.nextAt <= now)) {
          await look(organizationId, mine, due);
          continue;
        }
        const wake = Math.min(
          ...[...mine.values()].flatMap((t) => [t.nextAt, ...t.waiters.map((w) => w.deadline)]),
        );
        await ctx.clock.sleep(Math.max(1, wake - now));
      }
    } finally {
      polling.delete(organizationId);
      // A waiter that arrived while this poller was finishing gets its own.
      if ((tracked.get(organizationId)?.size ?? 0) > 0) void poll(organizationId);
    }
  }

  function waitFor(
    organizationId: string,
    ids: readonly string[],
    actions?: number,
  ): Promise<Map<string, BatchResult>> {
    let mine = tracked.get(organizationId);
    if (!mine) tracked.set(organizationId, (mine = new Map()));
    const now = ctx.clock.now();
    const deadline = now + timeoutMs;
    const all = ids.map(
      (id) =>
        new Promise<BatchResult>((resolve) => {
          const m = mine as Map<string, Track>;
          let t = m.get(id);
          if (!t) {
            const expectedMs = estimate(actions);
            t = {
              waiters: [],
              since: now,
              ...(actions !== undefined ? { actions } : {}),
              expectedMs,
              nextAt: now + expectedMs,
              misses: 0,
            };
            m.set(id, t);
          }
          t.waiters.push({ deadline, resolve });
        }),
    );
    void poll(organizationId);
    return Promise.all(all).then((rs) => new Map(rs.map((r) => [r.id, r])));
  }

  const wait = (organizationId: string, ids: readonly string[]) => waitFor(organizationId, ids);

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

  async function post(
    organizationId: string,
    actions: readonly BatchAction[],
    sendBy: number,
  ): Promise<Batch> {
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
          urgent: true,
          ...(Number.isFinite(sendBy) ? { deadlineMs: Math.max(1, sendBy - ctx.clock.now()) } : {}),
        });
        return parseMerakiResponse(MERAKI_OPERATIONS.submitBatch, res.status, res.body);
      } catch (error) {
        // Other batches fill the 5 running slots: wait for one to finish.
        const busy =
          error instanceof DirectorRequestError &&
          error.status === 400 &&
          /concurrently|running/i.test(error.message);
        const delay = Math.min(maxPollMs, pollMs * 2 ** Math.min(wait, 3));
        if (!busy || wait >= 60 || ctx.clock.now() + delay >= sendBy) throw error;
        await ctx.clock.sleep(delay);
      }
    }
  }

  async function submit(
    organizationId: string,
    actions: readonly BatchAction[],
    options: { sendBy?: number } = {},
  ): Promise<SubmitOutcome> {
    const sendBy = options.sendBy ?? Number.POSITIVE_INFINITY;
    const rejected: SubmitOutcome['rejected'] = [];
    let left = [...actions];
    while (left.length > 0) {
      let created: Batch;
      try {
        created = await post(organizationId, left, sendBy);
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
      const result = (await waitFor(organizationId, [created.id], left.length)).get(created.id) ?? now;
      return { batch: result, actions: left, rejected };
    }
    return { actions: [], rejected };
  }

  return { size, maxRunning, retries, pendingChanges, submit, wait };
}
