/**
 * Tag swaps: a re-point of a Meraki branch is a swap of its hub state tags
 * (shared/domain/meraki-tags.ts). One network is a guarded GET/GET/PUT; many go through action
 * batches (./batches.ts), a failed batch resubmitted and then split until the failing networks
 * are isolated.
 *
 * Fenced swaps. The Dashboard keeps no epoch of ours and has no conditional update, so a change
 * given a {@link RepointFence} (the group's stored epoch and serving) checks it right before the
 * write (a newer epoch stored: StaleEpochError, nothing written) and right after it (a newer epoch
 * stored meanwhile: the swap is redone for the newest serving from a fresh read, bounded, and the
 * change reported stale). Tags are always written from a read made by the swap itself, and only
 * the hub state tags change: an operator's tag added before that read survives.
 *
 * Older writes still in flight. A PUT (or an action batch) checked just before a newer epoch was
 * stored may land after the newer change read the network and found it right (the older write's
 * own redo puts the network back, but the newer change has reported success meanwhile). With
 * {@link WriteClaims} (the state table) each fenced write, a single PUT or one batch submission
 * (its resubmissions each again), is claimed before its fences are read; the claim is released
 * once the write was answered for certain (applied, refused, or a batch the Dashboard lists as
 * running, which a change waits for through the pending listing), and kept until it ends when the
 * outcome is unknown. Nothing is sent once a claim is about to end. A fenced change first waits
 * out the older claims of its networks (one swap: up to `claimWaitMs`; many: not at all), and a
 * network still claimed is left pending for the next reconcile, never reported done.
 */
import { retagForHub, sameTags } from '../../domain/meraki-tags.js';
import type { RepointAction } from '../../domain/model.js';
import {
  ConcurrentUpdateError,
  DirectorRequestError,
  NotFoundError,
  RepointPendingError,
  StaleEpochError,
  ValidationError,
} from '../../errors.js';
import { mapLimit } from '../http.js';
import type { FenceState, RepointFence, RepointOptions, RepointResult } from '../port.js';
import { createMerakiBatches, type BatchAction, type MerakiBatchOptions } from './batches.js';
import { claimedMessage, createMerakiClaims, outcomeUnknown, type MerakiClaimOptions } from './claims.js';
import { parsePathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import type { MerakiInventory, MerakiNetwork } from './inventory.js';
import { MERAKI_OPERATIONS, merakiRequestBody, parseMerakiResponse } from './schemas.js';

/** One wanted tag change: the hub that should carry the network's tunnel. */
export interface RetagChange {
  networkId: string;
  hub: string;
  /** The group's epoch the change is made for (with `fence`). */
  epoch?: number;
  /** Checked right before and after the write (see the module comment). */
  fence?: RepointFence;
}

/** What {@link MerakiTags.retagMany} did. */
export interface RetagReport {
  organizationId: string;
  /** Networks whose tags were changed. */
  changed: string[];
  /** Networks that already had the wanted tags (no write made for them). */
  unchanged: string[];
  /** Networks left to reconcile, with the reason (a failed batch's errors, a missing network…). */
  failed: { networkId: string; reason: string }[];
  /**
   * Networks whose change may still apply (a batch still running: its id; an older claimed swap:
   * no id): neither done nor failed.
   */
  pending: { networkId: string; batchId?: string; reason: string }[];
  /** Networks whose fence showed a newer epoch (nothing written for this change, or redone for the newest). */
  stale: { networkId: string; reason: string; currentEpoch: number }[];
  /** Every batch submitted, in submission order. */
  batches: {
    id: string;
    actions: number;
    failed: boolean;
    state: 'done' | 'failed' | 'pending';
    errors: string[];
  }[];
}

/** Options of the tag side. */
export interface MerakiTagOptions extends MerakiBatchOptions, MerakiClaimOptions {}

/** Options of {@link MerakiTags.retagOne}. */
export interface RetagOneOptions {
  epoch?: number;
  fence?: RepointFence;
}

/** Options of {@link MerakiTags.retagMany}. */
export interface RetagManyOptions {
  /**
   * Told, as soon as they are final, of the networks this call leaves right: those already right
   * when read, and each batch's once it completed and their fences still hold (so a caller can
   * verify them while later batches run). Every network told here is in the report's `changed` or
   * `unchanged`; one moved by a newer epoch meanwhile is never told.
   */
  onSettled?: (settled: { networkId: string; changed: boolean }[]) => void;
}

/** The tag operations of the adapter. */
export interface MerakiTags {
  /**
   * Swap one network's tags so `hub` carries its tunnel (re-read before write). With a fence:
   * StaleEpochError when a newer epoch is stored (before the write, or after it: then redone for
   * the newest), RepointPendingError when a running batch holds a change of the network.
   */
  retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
    options?: RetagOneOptions,
  ): Promise<{ changed: boolean; tags: string[] }>;
  /** Swap many networks' tags through action batches (see {@link RetagReport}). */
  retagMany(
    organizationId: string,
    changes: readonly RetagChange[],
    options?: RetagManyOptions,
  ): Promise<RetagReport>;
  /** The Director port's re-point: one network's tag swap, fenced by `options.fence`. */
  repoint(action: RepointAction, options?: RepointOptions): Promise<RepointResult>;
}

/** Redos of a swap whose fence moved during the write. */
const MAX_REDO = 2;

const staleMessage = (networkId: string, epoch: number, now: FenceState) =>
  `Meraki network ${networkId}: re-tag at epoch ${epoch} superseded by the stored epoch ${now.epoch}${now.servingId ? ` (serving ${now.servingId})` : ''}`;

/** The hub a stored serving names for a network (undefined when none, or another network's). */
function servingHub(networkId: string, state: FenceState): string | undefined {
  const p = state.servingId === undefined ? undefined : parsePathTarget(state.servingId);
  return p && p.networkId === networkId ? p.hub : undefined;
}

/** Create the tag operations over the adapter's context and inventory. */
export function createMerakiTags(
  ctx: MerakiContext,
  inventory: MerakiInventory,
  options: MerakiTagOptions,
): MerakiTags {
  const batches = createMerakiBatches(ctx, options);
  const held = createMerakiClaims(ctx, options);

  /** A running batch holding a change of the network: wait for it; still running → pending. */
  async function settleHeld(organizationId: string, networkIds: readonly string[]) {
    const held = await batches.pendingChanges(organizationId);
    const ids = [...new Set(networkIds.flatMap((n) => held.get(n)?.batchId ?? []))];
    const stillRunning = new Map<string, string>();
    if (ids.length === 0) return stillRunning;
    const results = await batches.wait(organizationId, ids);
    for (const n of networkIds) {
      const id = held.get(n)?.batchId;
      if (id !== undefined && results.get(id)?.state === 'pending') stillRunning.set(n, id);
    }
    return stillRunning;
  }

  async function check(fence: RepointFence | undefined, networkId: string, epoch: number): Promise<void> {
    if (!fence) return;
    const now = await fence.read();
    if (now.epoch > epoch)
      throw new StaleEpochError(staleMessage(networkId, epoch, now), { currentEpoch: now.epoch });
  }

  async function swap(
    organizationId: string,
    networkId: string,
    hub: string,
    epoch: number,
    fence: RepointFence | undefined,
  ): Promise<{ changed: boolean; tags: string[] }> {
    const org = ctx.org(organizationId, 'organizationId');
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await inventory.readNetwork(organizationId, networkId);
      const tags = retagForHub(before.tags, org.hubs, hub);
      if (sameTags(tags, before.tags)) return { changed: false, tags };
      // Re-read just before writing: an edit in between (an operator, another run) wins, and
      // the change is recomputed from it. Meraki has no conditional update.
      const again = await inventory.readNetwork(organizationId, networkId);
      if (!sameTags(again.tags, before.tags)) continue;
      // Claimed before the fence is read (see the module comment).
      const claim = fence ? await held.claimSwap(organizationId, networkId, epoch) : undefined;
      const put = MERAKI_OPERATIONS.writeNetworkTags;
      try {
        await check(fence, networkId, epoch);
        // Fenced: never resent blindly (a resend could land after a newer swap); the loop re-reads.
        // Nothing is sent once the claim is about to end.
        const res = await ctx.networkCall(organizationId, networkId, {
          method: 'PUT',
          body: merakiRequestBody(put, { tags }),
          ...(fence ? { idempotent: false, deadlineMs: held.sendWithin(claim) } : {}),
        });
        await held.release(claim);
        return { changed: true, tags: parseMerakiResponse(put, res.status, res.body).tags };
      } catch (error) {
        if (!outcomeUnknown(error)) await held.release(claim);
        const unknown = error instanceof DirectorRequestError && (error.status === 0 || error.status >= 500);
        if (!fence || !unknown || attempt === 2) throw error;
      }
    }
    throw new ConcurrentUpdateError(
      `Meraki network ${networkId}: its tags kept changing while re-tagging it for hub ${hub}`,
    );
  }

  async function retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
    opts: RetagOneOptions = {},
  ): Promise<{ changed: boolean; tags: string[] }> {
    ctx.org(organizationId, 'organizationId');
    ctx.hub(organizationId, hub, 'hub');
    const { fence } = opts;
    let epoch = opts.epoch ?? 0;
    if (fence) {
      const batchId = (await settleHeld(organizationId, [networkId])).get(networkId);
      if (batchId !== undefined)
        throw new RepointPendingError(
          `Meraki network ${networkId}: batch ${batchId} holding a change of it is still running; left to the next reconcile`,
        );
      const claimed = (await held.waitOut(organizationId, new Map([[networkId, epoch]]))).get(networkId);
      if (claimed) throw new RepointPendingError(claimedMessage(networkId, claimed));
    }
    let target = hub;
    let result = await swap(organizationId, networkId, target, epoch, fence);
    let superseded: FenceState | undefined;
    for (let redo = 0; fence && result.changed && redo <= MAX_REDO; redo++) {
      const now = await fence.read();
      if (now.epoch <= epoch) break;
      superseded ??= now;
      const newest = servingHub(networkId, now);
      epoch = now.epoch;
      if (newest === undefined || newest === target) break;
      target = newest;
      result = await swap(organizationId, networkId, target, epoch, fence);
    }
    if (superseded && target !== hub)
      throw new StaleEpochError(
        `${staleMessage(networkId, opts.epoch ?? 0, superseded)}; redone for hub ${target}`,
        {
          currentEpoch: superseded.epoch,
        },
      );
    return result;
  }

  async function repoint(action: RepointAction, opts: RepointOptions = {}): Promise<RepointResult> {
    const hub = parsePathTarget(action.targetId)?.hub ?? action.targetId;
    const { changed } = await retagOne(action.tenantId, action.branchId, hub, {
      epoch: action.epoch,
      ...(opts.fence ? { fence: opts.fence } : {}),
    });
    return { branchId: action.branchId, targetId: action.targetId, epoch: action.epoch, changed };
  }

  function validate(organizationId: string, changes: readonly RetagChange[]): Map<string, RetagChange> {
    const wanted = new Map<string, RetagChange>();
    changes.forEach((c, i) => {
      ctx.hub(organizationId, c.hub, `changes.${i}.hub`);
      const prior = wanted.get(c.networkId);
      if (prior !== undefined && prior.hub !== c.hub) {
        throw new ValidationError('Meraki re-tag', [
          {
            path: `changes.${i}.networkId`,
            value: c.networkId,
            expected: `one hub per network (also asked for ${prior.hub})`,
          },
        ]);
      }
      wanted.set(c.networkId, c);
    });
    return wanted;
  }

  /** Current tags, read by this call: a few GETs for a few networks, else one paged listing. */
  async function readCurrent(
    organizationId: string,
    ids: readonly string[],
  ): Promise<Map<string, MerakiNetwork>> {
    const current = new Map<string, MerakiNetwork>();
    if (ids.length <= 10) {
      for (const id of ids) {
        try {
          current.set(id, await inventory.readNetwork(organizationId, id));
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
    } else {
      const wanted = new Set(ids);
      for (const n of await inventory.listNetworks(organizationId))
        if (wanted.has(n.id)) current.set(n.id, n);
    }
    return current;
  }

  /** Drop the changes whose fence shows a newer epoch (reported stale). */
  async function fenced(
    report: RetagReport,
    changes: readonly RetagChange[],
  ): Promise<{ kept: RetagChange[]; moved: Map<string, FenceState> }> {
    const moved = new Map<string, FenceState>();
    const states = await mapLimit(changes, 10, (c) =>
      c.fence ? c.fence.read() : Promise.resolve(undefined),
    );
    const kept = changes.filter((c, i) => {
      const now = states[i];
      if (!now || now.epoch <= (c.epoch ?? 0)) return true;
      moved.set(c.networkId, now);
      report.stale.push({
        networkId: c.networkId,
        reason: staleMessage(c.networkId, c.epoch ?? 0, now),
        currentEpoch: now.epoch,
      });
      return false;
    });
    return { kept, moved };
  }

  /**
   * The changes to submit, in chunks of the batch size, from this call's read of the current tags
   * (a few GETs for a few networks, else the listing, consumed page by page, so the first batches
   * go out while later pages are still to be read). Networks already right are told at once;
   * each chunk's fences are checked when it is submitted (see `process`); networks the read never
   * met are reported failed.
   */
  async function* chunksToSubmit(
    organizationId: string,
    wanted: ReadonlyMap<string, RetagChange>,
    report: RetagReport,
    submitted: Map<string, BatchAction & { change: RetagChange }>,
    onSettled: RetagManyOptions['onSettled'],
  ): AsyncGenerator<(BatchAction & { change: RetagChange })[], void, undefined> {
    const org = ctx.org(organizationId, 'organizationId');
    const ids = [...wanted.keys()];
    const read: AsyncIterable<MerakiNetwork> =
      ids.length <= 10
        ? (async function* () {
            yield* (await readCurrent(organizationId, ids)).values();
          })()
        : inventory.streamNetworks(organizationId);
    const seen = new Set<string>();
    let buffer: (BatchAction & { change: RetagChange })[] = [];
    let alreadyRight: string[] = [];
    const tell = () => {
      if (alreadyRight.length > 0)
        onSettled?.(alreadyRight.map((networkId) => ({ networkId, changed: false })));
      alreadyRight = [];
    };
    async function* handOut(all: boolean) {
      while (buffer.length >= batches.size || (all && buffer.length > 0)) {
        const chunk = buffer.slice(0, batches.size);
        buffer = buffer.slice(batches.size);
        for (const a of chunk) submitted.set(a.networkId, a);
        yield chunk;
      }
    }
    for await (const n of read) {
      const change = wanted.get(n.id);
      if (!change || seen.has(n.id)) continue;
      seen.add(n.id);
      const tags = retagForHub(n.tags, org.hubs, change.hub);
      if (sameTags(tags, n.tags)) {
        report.unchanged.push(n.id);
        alreadyRight.push(n.id);
      } else buffer.push({ networkId: n.id, tags, change });
      if (buffer.length >= batches.size) {
        tell();
        yield* handOut(false);
      }
    }
    tell();
    for (const networkId of ids)
      if (!seen.has(networkId))
        report.failed.push({ networkId, reason: `network not found in organization ${organizationId}` });
    yield* handOut(true);
  }

  async function retagMany(
    organizationId: string,
    changes: readonly RetagChange[],
    depth = 0,
    onSettled: RetagManyOptions['onSettled'] = undefined,
  ): Promise<RetagReport> {
    ctx.org(organizationId, 'organizationId');
    const wanted = validate(organizationId, changes);
    const report: RetagReport = {
      organizationId,
      changed: [],
      unchanged: [],
      failed: [],
      pending: [],
      stale: [],
      batches: [],
    };
    if (wanted.size === 0) return report;

    // A change already held in a running batch (this instance's, timed out, or another's): wait
    // for it to land before reading; still running → pending, never resubmitted meanwhile.
    const running = await settleHeld(organizationId, [...wanted.keys()]);
    for (const [networkId, batchId] of running) {
      wanted.delete(networkId);
      report.pending.push({
        networkId,
        batchId,
        reason: `batch ${batchId} holding a change of ${networkId} is still running; left to the next reconcile`,
      });
    }
    // An older write claimed and not answered yet may still land: pending at once (waiting here
    // would hold up every other network of the call).
    const fencedEpochs = new Map(
      [...wanted.values()].flatMap((c) => (c.fence ? [[c.networkId, c.epoch ?? 0] as const] : [])),
    );
    for (const [networkId, claim] of await held.waitOut(organizationId, fencedEpochs, 0)) {
      wanted.delete(networkId);
      report.pending.push({ networkId, reason: claimedMessage(networkId, claim) });
    }
    type Action = BatchAction & { change: RetagChange };
    // What was handed to a batch, by network (the fence after the write needs its change).
    const submitted = new Map<string, Action>();
    const source = chunksToSubmit(organizationId, wanted, report, submitted, onSettled);

    // Fences right after each write: a newer epoch stored meanwhile → redone for the newest serving
    // (after the batches); the rest are final and told at once.
    const redo: RetagChange[] = [];
    const landed = async (ids: readonly string[]): Promise<void> => {
      if (ids.length === 0) return;
      const written = new Set(ids);
      let after: Awaited<ReturnType<typeof fenced>>;
      try {
        after = await fenced(
          report,
          [...written].flatMap((id) => submitted.get(id)?.change ?? []),
        );
      } catch {
        // The fences could not be read: the tags are written all the same. Reported changed (the
        // caller verifies them with the rest), not told early and never reported failed.
        report.changed.push(...ids);
        return;
      }
      report.changed.push(...ids.filter((id) => !after.moved.has(id)));
      const settled = ids.filter((id) => !after.moved.has(id));
      for (const [networkId, now] of after.moved) {
        const hub = servingHub(networkId, now);
        const change = wanted.get(networkId);
        if (hub === undefined || !change) continue;
        if (hub === change.hub) {
          // The newest serving wants what was written: done after all.
          report.stale = report.stale.filter((s) => s.networkId !== networkId);
          report.changed.push(networkId);
          settled.push(networkId);
        } else if (depth < MAX_REDO) redo.push({ ...change, hub, epoch: now.epoch });
      }
      if (settled.length > 0) onSettled?.(settled.map((networkId) => ({ networkId, changed: true })));
    };

    // A failed batch (atomic: nothing applied) is resubmitted, then split in halves until the
    // failing networks are isolated; those are reported and left to the next reconcile.
    const process = async (all: Action[], attempt: number): Promise<void> => {
      // Each submission is claimed before its fences are read, as a single swap is; a network
      // whose fence shows a newer epoch is left out (reported stale).
      const claim = await held.claimBatch(
        organizationId,
        all.flatMap((a) => (a.change.fence ? [{ branchId: a.networkId, epoch: a.change.epoch ?? 0 }] : [])),
      );
      let chunk: Action[];
      try {
        const keep = new Set(
          (
            await fenced(
              report,
              all.map((a) => a.change),
            )
          ).kept.map((c) => c.networkId),
        );
        chunk = all.filter((a) => keep.has(a.networkId));
      } catch (error) {
        await held.release(claim);
        throw error;
      }
      if (chunk.length === 0) return void (await held.release(claim));
      let outcome: Awaited<ReturnType<typeof batches.submit>>;
      try {
        outcome = await batches.submit(organizationId, chunk, claim ? { sendBy: claim.sendBy } : {});
        // Answered: applied, refused, or a batch the Dashboard lists as running (waited for there).
        await held.release(claim);
      } catch (error) {
        // Unknown outcome (the claim stays until it ends) and no such batch running: it never
        // existed, or it already completed.
        const now = await readCurrent(
          organizationId,
          chunk.map((a) => a.networkId),
        ).catch(() => new Map<string, MerakiNetwork>());
        const applied: string[] = [];
        for (const a of chunk) {
          if (sameTags(now.get(a.networkId)?.tags ?? [], a.tags)) applied.push(a.networkId);
          else report.failed.push({ networkId: a.networkId, reason: (error as Error).message });
        }
        await landed(applied);
        return;
      }
      report.failed.push(...outcome.rejected);
      const result = outcome.batch;
      if (!result) return;
      const inBatch = chunk.filter((a) => outcome.actions.some((b) => b.networkId === a.networkId));
      report.batches.push({
        id: result.id,
        actions: inBatch.length,
        failed: result.state === 'failed',
        state: result.state,
        errors: result.errors,
      });
      if (result.state === 'done') {
        await landed(inBatch.map((a) => a.networkId));
        return;
      }
      if (result.state === 'pending') {
        const reason = result.errors.join('; ') || `batch ${result.id} still running`;
        for (const a of inBatch) report.pending.push({ networkId: a.networkId, batchId: result.id, reason });
        return;
      }
      if (attempt < batches.retries) return process(inBatch, attempt + 1);
      if (inBatch.length === 1) {
        report.failed.push({
          networkId: (inBatch[0] as Action).networkId,
          reason: result.errors.join('; ') || `batch ${result.id} failed`,
        });
        return;
      }
      const half = Math.ceil(inBatch.length / 2);
      await process(inBatch.slice(0, half), batches.retries);
      await process(inBatch.slice(half), batches.retries);
    };
    // Up to maxRunning batches at once, each taking the next chunk as the read goes on. A failure
    // stops the taking; the batches already running finish (and are told) before it is thrown.
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (!failure) {
        try {
          const next = await source.next();
          if (next.done) return;
          await process(next.value, 0);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: batches.maxRunning }, worker));
    if (failure) throw failure.error;

    if (redo.length > 0) {
      // This call's changes stay stale: the redo is the newest epoch's, whose fan-out checks it.
      report.batches.push(...(await retagMany(organizationId, redo, depth + 1)).batches);
    }
    return report;
  }

  return { retagOne, retagMany: (o, c, opts) => retagMany(o, c, 0, opts?.onSettled), repoint };
}
