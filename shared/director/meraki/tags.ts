/**
 * Tag swaps: a re-point of a Meraki branch is a swap of its hub state tags
 * (shared/domain/meraki-tags.ts). One network is a guarded GET/GET/PUT; many go through action
 * batches (at most 100 actions, at most 5 running per organization), a failed batch resubmitted
 * and then split until the failing networks are isolated.
 */
import type * as z from 'zod/mini';
import { retagForHub, sameTags } from '../../domain/meraki-tags.js';
import type { RepointAction } from '../../domain/model.js';
import { ConcurrentUpdateError, DirectorRequestError, NotFoundError, ValidationError } from '../../errors.js';
import { mapLimit } from '../http.js';
import type { RepointResult } from '../port.js';
import { parsePathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import type { MerakiInventory, MerakiNetwork } from './inventory.js';
import { MERAKI_OPERATIONS, merakiRequestBody, parseMerakiResponse } from './schemas.js';

/** One wanted tag change: the hub that should carry the network's tunnel. */
export interface RetagChange {
  networkId: string;
  hub: string;
}

/** What {@link MerakiTags.retagMany} did. */
export interface RetagReport {
  organizationId: string;
  /** Networks whose tags were changed. */
  changed: string[];
  /** Networks that already had the wanted tags (no request made for them). */
  unchanged: string[];
  /** Networks left to reconcile, with the reason (a failed batch's errors, a missing network…). */
  failed: { networkId: string; reason: string }[];
  /** Every batch submitted, in submission order. */
  batches: { id: string; actions: number; failed: boolean; errors: string[] }[];
}

/** Options of the tag side. */
export interface MerakiTagOptions {
  /** Action batches. */
  batches?: {
    /** @default 100 (Meraki's maximum) */
    size?: number;
    /** Batches running at once per call. @default 5 (Meraki's maximum per organization) */
    maxRunning?: number;
    /** Resubmissions of a failed batch before it is split in halves. @default 1 */
    retries?: number;
    /** First poll after this long, until completions have been observed. @default 1000 */
    firstPollMs?: number;
    /** Then poll this often. @default 250 */
    pollIntervalMs?: number;
    /** Give up on one batch after this long. @default 300000 */
    timeoutMs?: number;
  };
}

/** The tag operations of the adapter. */
export interface MerakiTags {
  /** Swap one network's tags so `hub` carries its tunnel (re-read before write). */
  retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
  ): Promise<{ changed: boolean; tags: string[] }>;
  /** Swap many networks' tags through action batches (see {@link RetagReport}). */
  retagMany(organizationId: string, changes: readonly RetagChange[]): Promise<RetagReport>;
  /** The Director port's re-point: one network's tag swap. */
  repoint(action: RepointAction): Promise<RepointResult>;
}

/** Create the tag operations over the adapter's context and inventory. */
export function createMerakiTags(
  ctx: MerakiContext,
  inventory: MerakiInventory,
  options: MerakiTagOptions,
): MerakiTags {
  const batchSize = Math.min(100, options.batches?.size ?? 100);
  const maxRunning = Math.min(5, options.batches?.maxRunning ?? 5);
  const batchRetries = options.batches?.retries ?? 1;
  const firstPollMs = options.batches?.firstPollMs ?? 1000;
  const pollIntervalMs = options.batches?.pollIntervalMs ?? 250;
  const batchTimeoutMs = options.batches?.timeoutMs ?? 300_000;

  async function retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
  ): Promise<{ changed: boolean; tags: string[] }> {
    const org = ctx.org(organizationId, 'organizationId');
    ctx.hub(organizationId, hub, 'hub');
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await inventory.readNetwork(organizationId, networkId);
      const tags = retagForHub(before.tags, org.hubs, hub);
      if (sameTags(tags, before.tags)) return { changed: false, tags };
      // Re-read just before writing: an edit in between (an operator, another run) wins, and
      // the change is recomputed from it. Meraki has no conditional update.
      const again = await inventory.readNetwork(organizationId, networkId);
      if (!sameTags(again.tags, before.tags)) continue;
      const put = MERAKI_OPERATIONS.writeNetworkTags;
      const res = await ctx.networkCall(organizationId, networkId, {
        method: 'PUT',
        body: merakiRequestBody(put, { tags }),
      });
      return { changed: true, tags: parseMerakiResponse(put, res.status, res.body).tags };
    }
    throw new ConcurrentUpdateError(
      `Meraki network ${networkId}: its tags kept changing while re-tagging it for hub ${hub}`,
    );
  }

  async function repoint(action: RepointAction): Promise<RepointResult> {
    const hub = parsePathTarget(action.targetId)?.hub ?? action.targetId;
    const { changed } = await retagOne(action.tenantId, action.branchId, hub);
    return { branchId: action.branchId, targetId: action.targetId, epoch: action.epoch, changed };
  }

  type BatchBody = z.output<typeof MERAKI_OPERATIONS.submitBatch.success.body>;
  // Adaptive polling: the longest wait that found a batch still running and the shortest that
  // found one finished; the first poll goes between them.
  const timing = { runningMs: 0, doneMs: Number.POSITIVE_INFINITY };

  async function runBatch(
    organizationId: string,
    actions: { networkId: string; tags: string[] }[],
  ): Promise<{ id: string; errors: string[]; failed: boolean }> {
    const path = `/organizations/${encodeURIComponent(organizationId)}/actionBatches`;
    const body = merakiRequestBody(MERAKI_OPERATIONS.submitBatch, {
      confirmed: true,
      synchronous: false,
      actions: actions.map((a) => ({
        resource: `/networks/${a.networkId}`,
        operation: 'update' as const,
        body: { tags: a.tags },
      })),
    });
    let created: BatchBody | undefined;
    for (let wait = 0; !created; wait++) {
      try {
        // Never resent once the Dashboard may have created it (a timeout, a 5xx, an unreadable
        // answer): a duplicate batch could apply these tags after a newer batch. The networks are
        // reported failed and the next reconcile reads the tags back.
        const res = await ctx.orgCall(organizationId, { method: 'POST', path, body, idempotent: false });
        created = parseMerakiResponse(MERAKI_OPERATIONS.submitBatch, res.status, res.body);
      } catch (error) {
        // Another client's batches fill the 5 running slots: wait for one to finish.
        const busy =
          error instanceof DirectorRequestError &&
          error.status === 400 &&
          /concurrently|running/i.test(error.message);
        if (!busy || wait >= 60) throw error;
        await ctx.clock.sleep(firstPollMs);
      }
    }
    const started = ctx.clock.now();
    let next = Number.isFinite(timing.doneMs)
      ? Math.max(pollIntervalMs, (timing.runningMs + timing.doneMs) / 2)
      : firstPollMs;
    let status = created.status;
    while (!status.completed) {
      await ctx.clock.sleep(Math.max(0, started + next - ctx.clock.now()));
      const elapsed = ctx.clock.now() - started;
      if (elapsed > batchTimeoutMs) {
        return {
          id: created.id,
          failed: true,
          errors: [`batch ${created.id} did not complete within ${batchTimeoutMs} ms`],
        };
      }
      const res = await ctx.orgCall(organizationId, {
        method: 'GET',
        path: `${path}/${encodeURIComponent(created.id)}`,
      });
      status = parseMerakiResponse(MERAKI_OPERATIONS.readBatch, res.status, res.body).status;
      if (status.completed) timing.doneMs = Math.min(timing.doneMs, elapsed);
      else timing.runningMs = Math.max(timing.runningMs, Math.min(elapsed, timing.doneMs));
      next = elapsed + pollIntervalMs;
    }
    return { id: created.id, failed: status.failed, errors: status.errors };
  }

  async function retagMany(organizationId: string, changes: readonly RetagChange[]): Promise<RetagReport> {
    const org = ctx.org(organizationId, 'organizationId');
    const wanted = new Map<string, string>();
    changes.forEach((c, i) => {
      ctx.hub(organizationId, c.hub, `changes.${i}.hub`);
      const prior = wanted.get(c.networkId);
      if (prior !== undefined && prior !== c.hub) {
        throw new ValidationError('Meraki re-tag', [
          {
            path: `changes.${i}.networkId`,
            value: c.networkId,
            expected: `one hub per network (also asked for ${prior})`,
          },
        ]);
      }
      wanted.set(c.networkId, c.hub);
    });
    const report: RetagReport = { organizationId, changed: [], unchanged: [], failed: [], batches: [] };
    if (wanted.size === 0) return report;

    // Current tags: a few GETs for a few networks, else one paged listing.
    const current = new Map<string, MerakiNetwork>();
    if (wanted.size <= 10) {
      for (const id of wanted.keys()) {
        try {
          current.set(id, await inventory.readNetwork(organizationId, id));
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
    } else {
      for (const n of await inventory.listNetworks(organizationId)) current.set(n.id, n);
    }
    const todo: { networkId: string; tags: string[] }[] = [];
    for (const [networkId, hub] of wanted) {
      const n = current.get(networkId);
      if (!n) {
        report.failed.push({ networkId, reason: `network not found in organization ${organizationId}` });
        continue;
      }
      const tags = retagForHub(n.tags, org.hubs, hub);
      if (sameTags(tags, n.tags)) report.unchanged.push(networkId);
      else todo.push({ networkId, tags });
    }

    const chunks: (typeof todo)[] = [];
    for (let i = 0; i < todo.length; i += batchSize) chunks.push(todo.slice(i, i + batchSize));
    // A failed batch (atomic: nothing applied) is resubmitted, then split in halves until the
    // failing networks are isolated; those are reported and left to the next reconcile.
    const process = async (chunk: typeof todo, attempt: number): Promise<void> => {
      let result: Awaited<ReturnType<typeof runBatch>>;
      try {
        result = await runBatch(organizationId, chunk);
      } catch (error) {
        for (const a of chunk)
          report.failed.push({ networkId: a.networkId, reason: (error as Error).message });
        return;
      }
      report.batches.push({
        id: result.id,
        actions: chunk.length,
        failed: result.failed,
        errors: result.errors,
      });
      if (!result.failed) {
        report.changed.push(...chunk.map((a) => a.networkId));
        return;
      }
      if (attempt < batchRetries) return process(chunk, attempt + 1);
      if (chunk.length === 1) {
        report.failed.push({
          networkId: (chunk[0] as (typeof todo)[number]).networkId,
          reason: result.errors.join('; ') || `batch ${result.id} failed`,
        });
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await process(chunk.slice(0, half), batchRetries);
      await process(chunk.slice(half), batchRetries);
    };
    await mapLimit(chunks, maxRunning, (chunk) => process(chunk, 0));
    return report;
  }

  return { retagOne, retagMany, repoint };
}
