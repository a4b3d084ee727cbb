/**
 * The third-party VPN peers against the hubs (`GET /organizations/{id}/appliance/vpn/thirdPartyVPNPeers`).
 * Tag-based failover only works when each hub's peer connects exactly the networks carrying that
 * hub's `_up` tag: a swap of tags then moves the tunnel. Each configured hub must have
 *
 * - exactly one peer named as the hub (`peerName`, else the hub's `name`);
 * - its own `_up` tag in that peer's `networkTags`, and no other state tag (another hub's `_up`,
 *   any `_down`), nor `all` (absent `networkTags` means `all`); other tags are the operator's;
 * - that peer's `publicIp` equal to the hub's `trackedIp` (health tracks that IP);
 * - and no other peer listing its `_up` tag (a network would get two tunnels).
 *
 * A mismatch is a ConfigError naming the hub, the peer and the tag: swaps cannot work until it is
 * fixed in the Dashboard.
 */
import { hubStateTags } from '../../domain/meraki-tags.js';
import { ConfigError, formatValue } from '../../errors.js';
import type { MerakiHub } from './config.js';
import type { MerakiContext } from './context.js';
import { logMalformed, type MerakiLog } from './notices.js';
import { MERAKI_OPERATIONS, parseMerakiList } from './schemas.js';

/** What the check needs of a peer. */
export interface PeerView {
  name: string;
  publicIp?: string | null | undefined;
  networkTags?: readonly string[] | undefined;
}

/** One mismatch between a hub and the peers. */
export interface PeerProblem {
  hub: string;
  /** The peer concerned (absent when the hub has none). */
  peer?: string;
  /** The tag concerned, when it is about one. */
  tag?: string;
  /** Where: `peers.<name>.networkTags`, `peers.<name>.publicIp`, or `hubs.<hub>.peer`. */
  field: string;
  value: unknown;
  expected: string;
}

/** The mismatches between the configured hubs and the peers (see the module comment). Pure. */
export function peerProblems(peers: readonly PeerView[], hubs: readonly MerakiHub[]): PeerProblem[] {
  const problems: PeerProblem[] = [];
  const tags = hubs.map((h, i) => ({ hub: h.name, ...hubStateTags(h, i) }));
  const owner = new Map<string, { hub: string; up: boolean }>();
  for (const t of tags) {
    owner.set(t.up, { hub: t.hub, up: true });
    owner.set(t.down, { hub: t.hub, up: false });
  }
  hubs.forEach((hub, i) => {
    const peerName = hub.peerName ?? hub.name;
    const up = (tags[i] as (typeof tags)[number]).up;
    const named = peers.filter((p) => p.name === peerName);
    if (named.length !== 1) {
      problems.push({
        hub: hub.name,
        field: `hubs.${hub.name}.peer`,
        value: named.length === 0 ? peers.map((p) => p.name) : `${named.length} peers named ${peerName}`,
        expected: `exactly one third-party VPN peer named ${formatValue(peerName)} for hub ${hub.name}${
          named.length === 0 ? ' (set peerName when it is named otherwise)' : ''
        }`,
      });
    }
    const peer = named[0];
    if (named.length === 1 && peer) {
      const networkTags = peer.networkTags ?? ['all'];
      const field = `peers.${peer.name}.networkTags`;
      if (!networkTags.includes(up)) {
        problems.push({
          hub: hub.name,
          peer: peer.name,
          tag: up,
          field,
          value: networkTags,
          expected: `hub ${hub.name}'s tag ${up} (networks carrying it connect to this peer)`,
        });
      }
      for (const tag of networkTags) {
        const other = owner.get(tag);
        const wrong = tag === 'all' || (other !== undefined && (other.hub !== hub.name || !other.up));
        if (!wrong) continue;
        problems.push({
          hub: hub.name,
          peer: peer.name,
          tag,
          field,
          value: networkTags,
          expected:
            tag === 'all'
              ? `only the networks tagged ${up}, not all`
              : `no state tag but ${up} (${tag} is hub ${other?.hub}'s ${other?.up ? '_up' : '_down'} tag)`,
        });
      }
      if (peer.publicIp !== hub.trackedIp) {
        problems.push({
          hub: hub.name,
          peer: peer.name,
          field: `peers.${peer.name}.publicIp`,
          value: peer.publicIp,
          expected: `hub ${hub.name}'s trackedIp ${hub.trackedIp}`,
        });
      }
    }
    for (const p of peers) {
      if (p.name === peerName || !(p.networkTags ?? []).includes(up)) continue;
      problems.push({
        hub: hub.name,
        peer: p.name,
        tag: up,
        field: `peers.${p.name}.networkTags`,
        value: p.networkTags,
        expected: `no ${up}: hub ${hub.name}'s tag belongs to its own peer ${peerName} only`,
      });
    }
  });
  return problems;
}

/** A passed check: each hub with its peer. */
export interface PeerCheck {
  organizationId: string;
  hubs: { hub: string; peer: string }[];
}

/** The peer check of the adapter. */
export interface MerakiPeers {
  /**
   * Read the organization's third-party VPN peers and check them against its hubs. Resolves when
   * they match; a mismatch throws ConfigError naming hub, peer and tag (one issue each).
   */
  checkPeers(organizationId: string): Promise<PeerCheck>;
}

/** Create the peer check over the adapter's context. */
export function createMerakiPeers(ctx: MerakiContext, log: MerakiLog): MerakiPeers {
  async function checkPeers(organizationId: string): Promise<PeerCheck> {
    const org = ctx.org(organizationId, 'organizationId');
    const op = MERAKI_OPERATIONS.thirdPartyVpnPeers;
    const res = await ctx.orgCall(organizationId, {
      method: 'GET',
      path: `/organizations/${encodeURIComponent(organizationId)}/appliance/vpn/thirdPartyVPNPeers`,
    });
    const peers = parseMerakiList(op, res.status, res.body);
    logMalformed(log, organizationId, peers.malformed);
    const problems = peerProblems(peers.entries, org.hubs);
    if (problems.length > 0) {
      throw new ConfigError(
        `Meraki third-party VPN peers of organization ${organizationId}`,
        problems.map((p) => ({
          path: p.field,
          value: p.value,
          expected: `${p.expected} [hub ${p.hub}${p.peer !== undefined ? `, peer ${p.peer}` : ''}${p.tag !== undefined ? `, tag ${p.tag}` : ''}]`,
        })),
      );
    }
    return {
      organizationId,
      hubs: org.hubs.map((h) => ({ hub: h.name, peer: h.peerName ?? h.name })),
    };
  }
  return { checkPeers };
}
