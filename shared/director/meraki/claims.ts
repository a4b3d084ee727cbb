/**
 * Write claims on the Meraki side (the WriteClaims port, kept in the state table): how a fenced
 * tag write is claimed before its fences are read, how long it may still be sent, when its claim
 * is released, and how a newer change waits out older claims. See ./tags.ts for why.
 */
import { DirectorRequestError, StaleEpochError, ValidationError } from '../../errors.js';
import type { WriteClaim, WriteClaims } from '../port.js';
import type { MerakiContext } from './context.js';

/** Options of the claims (part of the tag options). */
export interface MerakiClaimOptions {
  /** Fenced writes in flight, shared by every function (./tags.ts). @default none: the fence alone */
  claims?: WriteClaims;
  /** Longest a single fenced swap waits for older claimed writes of its network. @default 10000 */
  claimWaitMs?: number;
  /** Per-attempt timeout of a PUT (a claim lasts the PUT's deadline plus a margin). @default config.timeoutMs */
  timeoutMs?: number;
}

/** A claimed write: nothing of it is sent after `sendBy` (our clock). */
export interface HeldWrite {
  sendBy: number;
  release(): Promise<void>;
}

/** The claim operations the tag side uses. */
export interface MerakiClaims {
  /** Claim one PUT (undefined without a claims store). */
  claimSwap(organizationId: string, networkId: string, epoch: number): Promise<HeldWrite | undefined>;
  /** Claim one batch submission of these networks (undefined without a store, or none fenced). */
  claimBatch(
    organizationId: string,
    branches: { branchId: string; epoch: number }[],
  ): Promise<HeldWrite | undefined>;
  /** The deadline (ms from now) of a fenced PUT under `claim`. */
  sendWithin(claim: HeldWrite | undefined): number;
  /** Release a claim whose write was answered for certain (a failure to do so is left to `until`). */
  release(claim: HeldWrite | undefined): Promise<void>;
  /**
   * Wait (at most `waitMs`) until no write of these networks at an older epoch than the one
   * asked is claimed. Returns the claims still held after the wait, by network.
   */
  waitOut(
    organizationId: string,
    epochs: ReadonlyMap<string, number>,
    waitMs?: number,
  ): Promise<Map<string, WriteClaim>>;
}

/** A fenced PUT may wait this long for the request budget before it is sent. */
const FENCED_SEND_WAIT_MS = 10_000;
/** A claim outlives the last moment its write may be sent by this much. */
const CLAIM_MARGIN_MS = 5_000;
/** A batch may also wait for one of the 5 running slots (other batches of the organization). */
const BATCH_SLOT_WAIT_MS = 60_000;
/** Claims still held are looked at again after at most this long. */
const CLAIM_POLL_MS = 500;

/**
 * Whether a failed write may still land: anything but a refusal before sending (a newer epoch
 * stored, a bad argument) or the Dashboard's own 4xx answer. Its claim is kept until it ends.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (error instanceof StaleEpochError || error instanceof ValidationError) return false;
  return !(error instanceof DirectorRequestError && error.status >= 400 && error.status < 500);
}

/** Why a change of a network still claimed by an older write is left pending. */
export const claimedMessage = (networkId: string, c: WriteClaim) =>
  `Meraki network ${networkId}: a swap of it at epoch ${c.epoch} may still land (claimed until ${new Date(c.until).toISOString()}); left to the next reconcile`;

/** Create the claim operations over the adapter's context. */
export function createMerakiClaims(ctx: MerakiContext, options: MerakiClaimOptions): MerakiClaims {
  const { claims } = options;
  const claimWaitMs = options.claimWaitMs ?? 10_000;
  const fencedDeadlineMs = (options.timeoutMs ?? ctx.config.timeoutMs) + FENCED_SEND_WAIT_MS;
  const swapTtlMs = fencedDeadlineMs + CLAIM_MARGIN_MS;
  const batchTtlMs = swapTtlMs + BATCH_SLOT_WAIT_MS;

  async function claim(
    organizationId: string,
    branches: { branchId: string; epoch: number }[],
    ttlMs: number,
  ): Promise<HeldWrite | undefined> {
    if (!claims || branches.length === 0) return undefined;
    // Taken on our clock before the claim: the claim (the store's clock) ends a margin later.
    const sendBy = ctx.clock.now() + ttlMs - CLAIM_MARGIN_MS;
    const held = await claims.claim(organizationId, branches, ttlMs);
    return { sendBy, release: () => held.release() };
  }

  return {
    claimSwap: (organizationId, networkId, epoch) =>
      claim(organizationId, [{ branchId: networkId, epoch }], swapTtlMs),
    claimBatch: (organizationId, branches) => claim(organizationId, branches, batchTtlMs),
    sendWithin: (held) => (held ? Math.max(1, held.sendBy - ctx.clock.now()) : fencedDeadlineMs),
    release: async (held) => {
      await held?.release().catch(() => undefined);
    },
    async waitOut(organizationId, epochs, waitMs = claimWaitMs) {
      const older = new Map<string, WriteClaim>();
      if (!claims || epochs.size === 0) return older;
      const giveUpAt = ctx.clock.now() + waitMs;
      for (;;) {
        older.clear();
        for (const c of await claims.live(organizationId)) {
          const epoch = epochs.get(c.branchId);
          if (epoch !== undefined && c.epoch < epoch && (older.get(c.branchId)?.until ?? 0) < c.until)
            older.set(c.branchId, c);
        }
        const now = ctx.clock.now();
        if (older.size === 0 || now >= giveUpAt) return older;
        // `until` is on the store's clock: only our own decides how long to wait.
        await ctx.clock.sleep(Math.max(1, Math.min(CLAIM_POLL_MS, giveUpAt - now)));
      }
    },
  };
}
