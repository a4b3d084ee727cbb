/**
 * Tag swaps: a re-point of a Meraki branch is a swap of its hub state tags
 * (shared/domain/meraki-tags.ts). One network is a guarded GET/GET/PUT (here); many go through
 * action batches (./retag-many.ts over ./batches.ts), a failed batch resubmitted and then split
 * until the failing networks are isolated.
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
  RepointPendingError,
  StaleEpochError,
} from '../../errors.js';
import type { FenceState, RepointFence, RepointOptions, RepointResult } from '../port.js';
import { createMerakiBatches, type MerakiBatchOptions } from './batches.js';
import { claimedMessage, createMerakiClaims, outcomeUnknown, type MerakiClaimOptions } from './claims.js';
import { parsePathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import type { MerakiInventory } from './inventory.js';
import {
  createRetagMany,
  MAX_REDO,
  servingHub,
  settleHeld,
  staleMessage,
  type RetagChange,
  type RetagManyOptions,
  type RetagReport,
} from './retag-many.js';
import { MERAKI_OPERATIONS, merakiRequestBody, parseMerakiResponse } from './schemas.js';

export type { RetagChange, RetagManyOptions, RetagReport } from './retag-many.js';

/** Options of the tag side. */
export interface MerakiTagOptions extends MerakiBatchOptions, MerakiClaimOptions {}

/** Options of {@link MerakiTags.retagOne}. */
export interface RetagOneOptions {
  epoch?: number;
  fence?: RepointFence;
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

/** Create the tag operations over the adapter's context and inventory. */
export function createMerakiTags(
  ctx: MerakiContext,
  inventory: MerakiInventory,
  options: MerakiTagOptions,
): MerakiTags {
  const batches = createMerakiBatches(ctx, options);
  const held = createMerakiClaims(ctx, options);

  const retagMany = createRetagMany({ ctx, inventory, batches, held });

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
      const batchId = (await settleHeld(batches, organizationId, [networkId])).get(networkId);
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

  return { retagOne, retagMany: (o, c, opts) => retagMany(o, c, opts?.onSettled), repoint };
}
