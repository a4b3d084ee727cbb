/**
 * Where each branch's VPN actually goes: `GET /organizations/{id}/appliance/vpn/statuses` lists,
 * per network, its third-party VPN peers and their reachability. A branch reaches a hub when the
 * hub's peer (by name — the hub's `peerName`, else its name — or else by public IP = the hub's
 * `trackedIp`) is listed for it as `reachable`. Tags say where a tunnel should go; this says
 * where it went: a swap is verified by it ({@link MerakiVpn.verifyReach}), and the inventory
 * counts a tunnel ESTABLISHED only when it agrees with the tags.
 */
import { ValidationError, formatValue } from '../../errors.js';
import type { MerakiHub } from './config.js';
import type { MerakiContext } from './context.js';
import { isUnreadable, logMalformed, type MerakiLog } from './notices.js';
import { MERAKI_OPERATIONS, parseMerakiList, type vpnStatusSchema } from './schemas.js';
import type * as z from 'zod/mini';

/** One network's VPN statuses entry (parsed). */
export type VpnStatus = z.output<typeof vpnStatusSchema>;

/** What the VPN statuses say about one network. */
export interface VpnReach {
  networkId: string;
  /** The hub it reaches (the first in failover order when several are); undefined when none. */
  hub?: string;
  /** Every configured hub whose peer is reachable from it, in failover order. */
  reachable: string[];
  /** Every configured hub whose peer is listed for it (reachable or not), in failover order. */
  listed: string[];
  /** False when the VPN statuses do not list the network at all (appliance offline, no VPN). */
  inStatuses: boolean;
}

/** The configured hub a listed peer is, or undefined (by peer name first, then by public IP). */
export function hubOfPeer(
  peer: { name?: string | undefined; publicIp?: string | null | undefined },
  hubs: readonly MerakiHub[],
): MerakiHub | undefined {
  return (
    hubs.find((h) => peer.name !== undefined && peer.name === (h.peerName ?? h.name)) ??
    hubs.find((h) => peer.publicIp != null && peer.publicIp === h.trackedIp)
  );
}

/** What one network's entry says about the configured hubs. Pure. */
export function reachOf(
  status: VpnStatus | undefined,
  networkId: string,
  hubs: readonly MerakiHub[],
): VpnReach {
  const listed = new Set<string>();
  const reachable = new Set<string>();
  for (const peer of status?.thirdPartyVpnPeers ?? []) {
    const hub = hubOfPeer(peer, hubs);
    if (!hub) continue;
    listed.add(hub.name);
    if (peer.reachability === 'reachable') reachable.add(hub.name);
  }
  const inOrder = (set: Set<string>) => hubs.map((h) => h.name).filter((n) => set.has(n));
  const reach: VpnReach = {
    networkId,
    reachable: inOrder(reachable),
    listed: inOrder(listed),
    inStatuses: status !== undefined,
  };
  const first = reach.reachable[0];
  return first === undefined ? reach : { ...reach, hub: first };
}

/** Why a network does not reach `hub`, in words for an operator. Pure. */
export function notReachedReason(reach: VpnReach, hub: string): string {
  if (!reach.inStatuses) {
    return `network ${reach.networkId} is not in the VPN statuses (appliance offline or not in the VPN)`;
  }
  if (reach.hub !== undefined) return `network ${reach.networkId} reaches hub ${reach.hub} instead of ${hub}`;
  if (reach.listed.includes(hub)) {
    return `hub ${hub}'s VPN peer is listed for network ${reach.networkId} but unreachable`;
  }
  return `hub ${hub}'s VPN peer is not listed for network ${reach.networkId} (its tags do not match the peer's networkTags)`;
}

/** Options of the VPN statuses side. */
export interface MerakiVpnOptions {
  /** Ask for these networks only (`networkIds[]`) when at most this many; else every page. @default 100 */
  vpnFilterMax?: number;
}

/** Options of one {@link MerakiVpn.verifyReach}. */
export interface VerifyReachOptions {
  /** Give up after this long (the clock port). */
  timeoutMs: number;
  /** Between two polls (one paged read for all networks still waiting). */
  pollMs: number;
}

/** What {@link MerakiVpn.verifyReach} saw. */
export interface VerifyReachResult {
  /** Networks that reach their hub. */
  reached: string[];
  /** Networks that did not within the timeout, with what they reach instead and why. */
  notReached: { networkId: string; hub: string; reaching?: string; reason: string }[];
}

/** The VPN statuses operations of the adapter. */
export interface MerakiVpn {
  /**
   * Per network (the ones asked for, else every listed one) the hub it reaches. One paged read.
   * A network asked for that the statuses do not list is returned with `inStatuses: false`.
   */
  vpnReach(organizationId: string, networkIds?: readonly string[]): Promise<VpnReach[]>;
  /**
   * Poll the VPN statuses until every network reaches its expected hub or `timeoutMs` has
   * passed: one read first, then one per `pollMs` for the networks still waiting (filtered by
   * `networkIds[]` up to `vpnFilterMax` of them, else every page; a read of n pages waits at
   * least n seconds before the next, so verifying thousands stays within the request budget). A
   * read that fails (the Dashboard unavailable, a refusal) counts as "not yet" and is named in the
   * reason.
   */
  verifyReach(
    organizationId: string,
    expected: readonly { networkId: string; hub: string }[],
    options: VerifyReachOptions,
  ): Promise<VerifyReachResult>;
}

/** Create the VPN statuses operations over the adapter's context. */
export function createMerakiVpn(ctx: MerakiContext, log: MerakiLog, options: MerakiVpnOptions): MerakiVpn {
  const filterMax = options.vpnFilterMax ?? 100;

  /** One paged read: what it says of each network, and how many pages (requests) it took. */
  async function readReach(
    organizationId: string,
    networkIds?: readonly string[],
    deferrable = false,
  ): Promise<{ reach: VpnReach[]; pages: number }> {
    const org = ctx.org(organizationId, 'organizationId');
    let pages = 0;
    const filter = networkIds !== undefined && networkIds.length <= filterMax;
    const op = MERAKI_OPERATIONS.vpnStatuses;
    const statuses = await ctx.client(organizationId).collect(
      {
        method: 'GET',
        path: `/organizations/${encodeURIComponent(organizationId)}/appliance/vpn/statuses`,
        query: { perPage: 300, ...(filter ? { 'networkIds[]': [...networkIds] } : {}) },
        tenantId: organizationId,
        ...(deferrable ? { deferrable } : {}),
      },
      (body) => {
        pages++;
        const page = parseMerakiList(op, 200, body);
        logMalformed(log, organizationId, page.malformed);
        return page.entries;
      },
    );
    const byNetwork = new Map(statuses.map((s) => [s.networkId, s]));
    const ids = networkIds ?? [...byNetwork.keys()];
    return { reach: ids.map((id) => reachOf(byNetwork.get(id), id, org.hubs)), pages };
  }

  async function vpnReach(organizationId: string, networkIds?: readonly string[]): Promise<VpnReach[]> {
    return (await readReach(organizationId, networkIds)).reach;
  }

  function checkExpected(organizationId: string, expected: readonly { networkId: string; hub: string }[]) {
    const wanted = new Map<string, string>();
    expected.forEach((e, i) => {
      if (typeof e.networkId !== 'string' || e.networkId === '') {
        throw new ValidationError('Meraki verifyReach', [
          { path: `expected.${i}.networkId`, value: e.networkId, expected: 'a network id' },
        ]);
      }
      ctx.hub(organizationId, e.hub, `expected.${i}.hub`);
      const prior = wanted.get(e.networkId);
      if (prior !== undefined && prior !== e.hub) {
        throw new ValidationError('Meraki verifyReach', [
          {
            path: `expected.${i}.hub`,
            value: e.hub,
            expected: `one hub per network (network ${e.networkId} also expected on ${formatValue(prior)})`,
          },
        ]);
      }
      wanted.set(e.networkId, e.hub);
    });
    return wanted;
  }

  function checkTimes(o: VerifyReachOptions) {
    for (const field of ['timeoutMs', 'pollMs'] as const) {
      const v = o[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (field === 'pollMs' && v === 0)) {
        throw new ValidationError('Meraki verifyReach', [
          { path: `options.${field}`, value: v, expected: field === 'pollMs' ? 'a positive ms' : 'ms ≥ 0' },
        ]);
      }
    }
  }

  async function verifyReach(
    organizationId: string,
    expected: readonly { networkId: string; hub: string }[],
    o: VerifyReachOptions,
  ): Promise<VerifyReachResult> {
    ctx.org(organizationId, 'organizationId');
    const wanted = checkExpected(organizationId, expected);
    checkTimes(o);
    const deadline = ctx.clock.now() + o.timeoutMs;
    // Every poll reads every expected network, and the answer is the last read's: a network that
    // reached its hub in an early read and lost it before the others arrived is not reported
    // reached (the caller settles them all at once, so the verdict must be as of one read).
    let last = new Map<string, VpnReach>();
    let reachedNow: string[] = [];
    let readError: string | undefined;
    for (;;) {
      let pages = 1;
      try {
        readError = undefined;
        // Nobody's batch waits on a verification read: the re-tag's own requests go first.
        const read = await readReach(organizationId, [...wanted.keys()], true);
        pages = read.pages;
        last = new Map(read.reach.map((r) => [r.networkId, r]));
        reachedNow = [...wanted]
          .filter(([id, hub]) => last.get(id)?.reachable.includes(hub))
          .map(([id]) => id);
      } catch (error) {
        if (!isUnreadable(error)) throw error;
        readError = (error as Error).message;
      }
      const now = ctx.clock.now();
      if (reachedNow.length === wanted.size || now >= deadline) break;
      // Many networks take many pages: at most one page a second on average, whatever pollMs.
      await ctx.clock.sleep(Math.min(Math.max(o.pollMs, pages * 1000), deadline - now));
    }
    const reached = new Set(reachedNow);
    const result: VerifyReachResult = { reached: [...reached], notReached: [] };
    for (const [networkId, hub] of wanted) {
      if (reached.has(networkId)) continue;
      const reach = last.get(networkId);
      const why = reach ? notReachedReason(reach, hub) : `no VPN status of network ${networkId} was read`;
      result.notReached.push({
        networkId,
        hub,
        ...(reach?.hub !== undefined ? { reaching: reach.hub } : {}),
        reason: `${why} after ${o.timeoutMs} ms${readError ? `; the last read failed: ${readError}` : ''}`,
      });
    }
    return result;
  }

  return { vpnReach, verifyReach };
}
