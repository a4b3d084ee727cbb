/**
 * Many tag swaps at once, through action batches (./batches.ts): the networks' current tags are
 * read by the call itself (a few GETs, else the listing page by page, so the first batches go out
 * while later pages are read), up to `maxRunning` batches run at once, a failed batch is
 * resubmitted and then split until the failing networks are isolated, and every submission is
 * claimed and fenced as a single swap is (see ./tags.ts for the fencing and claims).
 */
import { retagForHub, sameTags } from '../../domain/meraki-tags.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { mapLimit } from '../http.js';
import type { FenceState, RepointFence } from '../port.js';
import type { BatchAction, MerakiBatches } from './batches.js';
import { claimedMessage, type MerakiClaims } from './claims.js';
import { parsePathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import type { MerakiInventory, MerakiNetwork } from './inventory.js';

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

/** Redos of a swap whose fence moved during the write. */
export const MAX_REDO = 2;

/** Why a change at `epoch` was superseded by the stored one. */
export const staleMessage = (networkId: string, epoch: number, now: FenceState) =>
  `Meraki network ${networkId}: re-tag at epoch ${epoch} superseded by the stored epoch ${now.epoch}${now.servingId ? ` (serving ${now.servingId})` : ''}`;

/** The hub a stored serving names for a network (undefined when none, or another network's). */
export function servingHub(networkId: string, state: FenceState): string | undefined {
  const p = state.servingId === undefined ? undefined : parsePathTarget(state.servingId);
  return p && p.networkId === networkId ? p.hub : undefined;
}

/** A running batch holding a change of the network: wait for it; still running → pending. */
export async function settleHeld(
  batches: MerakiBatches,
  organizationId: string,
  networkIds: readonly string[],
): Promise<Map<string, string>> {
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

/** What {@link createRetagMany} works with: the adapter's context, inventory, batches and claims. */
export interface RetagManyDeps {
  ctx: MerakiContext;
  inventory: MerakiInventory;
  batches: MerakiBatches;
  held: MerakiClaims;
}

/** Create the many-swaps operation: `retagMany(organizationId, changes, onSettled)` (see {@link RetagReport}). */
export function createRetagMany({
  ctx,
  inventory,
  batches,
  held,
}: RetagManyDeps): (
  organizationId: string,
  changes: readonly RetagChange[],
  onSettled?: RetagManyOptions['onSettled'],
) => Promise<RetagReport> {
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
        : inventory.streamNetworks(organizationId, { urgent: true });
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
    const running = await settleHeld(batches, organizationId, [...wanted.keys()]);
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

  return (
    organizationId: string,
    changes: readonly RetagChange[],
    onSettled?: RetagManyOptions['onSettled'],
  ): Promise<RetagReport> => retagMany(organizationId, changes, 0, onSettled);
}
