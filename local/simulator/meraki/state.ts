/**
 * The simulated organizations: networks and their tags, the paths to the hubs, the MXs' links,
 * the third-party VPN peers and the tunnels. A network's tunnel to a peer is listed when the
 * network carries one of the peer's `networkTags`, and reachable when, in addition, the tags (and
 * the active uplink) have been in place for `tunnelSettleMs`, the path over the active uplink is
 * below 100 % loss and no fault breaks it. Pure state on the injected clock: no I/O, no timers.
 */
import { currentHubFromTags, hubStateTags } from '../../../shared/domain/meraki-tags.js';
import { DEFAULT_LATENCY_MS, MxLinks, Timeline, defaultLatency, worse, type LossValue } from './links.js';
import type {
  SimHub,
  SimNetwork,
  SimNetworkState,
  SimOrganization,
  SimPeer,
  SimUplink,
  TunnelChange,
} from './types.js';

/** One organization's state. */
export interface OrgState {
  org: SimOrganization;
  byId: Map<string, NetState>;
  order: string[];
  peers: SimPeer[];
  /** Per hub name: down (every path to it lost). */
  hubDown: Map<string, Timeline<boolean>>;
}

/** One network's state. */
export interface NetState {
  network: SimNetwork;
  org: OrgState;
  /** Position in the organization (stable addresses). */
  index: number;
  links: MxLinks;
  /** Per hub name: the path's own loss. */
  path: Map<string, Timeline<LossValue>>;
  /** Per peer name: since when the network's tags select it. */
  listedSince: Map<string, number>;
  /** Hub names whose tunnel does not come up. */
  broken: Set<string>;
}

/** Settings of {@link SimState}. */
export interface SimStateOptions {
  organizations: readonly SimOrganization[];
  now: () => number;
  uplinkFailoverMs: number;
  tunnelSettleMs: number;
}

/** The default peers of an organization: one per hub, selected by the hub's `_up` tag. */
export function defaultPeers(hubs: readonly SimHub[]): SimPeer[] {
  return hubs.map((h, i) => ({
    name: h.name,
    publicIp: h.trackedIp,
    networkTags: [hubStateTags(h, i).up],
    privateSubnets: [`10.${(200 + i) % 256}.0.0/16`],
    ikeVersion: '2',
  }));
}

function selects(peer: SimPeer, tags: readonly string[]): boolean {
  if (peer.networkTags.includes('none')) return false;
  if (peer.networkTags.includes('all')) return true;
  return peer.networkTags.some((t) => tags.includes(t));
}

/** The world of a Meraki simulator. */
export class SimState {
  readonly orgs = new Map<string, OrgState>();
  private readonly networks = new Map<string, NetState>();
  readonly tunnelChanges: TunnelChange[] = [];
  readonly tunnelListeners: ((c: TunnelChange) => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly options: SimStateOptions) {
    this.now = options.now;
    for (const org of options.organizations) {
      const copy: SimOrganization = {
        ...org,
        hubs: org.hubs.map((h) => ({ ...h })),
        networks: org.networks.map((n) => ({
          ...n,
          tags: [...n.tags],
          ...(n.uplinks ? { uplinks: [...n.uplinks] } : {}),
        })),
      };
      const state: OrgState = {
        org: copy,
        byId: new Map(),
        order: copy.networks.map((n) => n.id),
        peers: defaultPeers(copy.hubs),
        hubDown: new Map(copy.hubs.map((h) => [h.name, new Timeline(false)])),
      };
      copy.networks.forEach((network, index) => {
        const ns: NetState = {
          network,
          org: state,
          index,
          links: new MxLinks(network.uplinks ?? ['wan1', 'wan2'], options.uplinkFailoverMs),
          path: new Map(
            copy.hubs.map((h) => [
              h.name,
              new Timeline<LossValue>({ lossPct: 0, latencyMs: DEFAULT_LATENCY_MS }),
            ]),
          ),
          listedSince: new Map(),
          broken: new Set(),
        };
        this.relist(ns, Number.NEGATIVE_INFINITY);
        state.byId.set(network.id, ns);
        this.networks.set(network.id, ns);
      });
      this.orgs.set(org.id, state);
    }
  }

  /** The network, or a RangeError naming it. */
  net(networkId: string): NetState {
    const ns = this.networks.get(networkId);
    if (!ns) throw new RangeError(`networkId=${JSON.stringify(networkId)}: not a simulated network`);
    return ns;
  }

  /** The network or undefined. */
  find(networkId: string): NetState | undefined {
    return this.networks.get(networkId);
  }

  /** The organization, or a RangeError naming it. */
  org(organizationId: string): OrgState {
    const os = this.orgs.get(organizationId);
    if (!os)
      throw new RangeError(`organizationId=${JSON.stringify(organizationId)}: not a simulated organization`);
    return os;
  }

  /** The hub of an organization, or a RangeError naming it. */
  hub(org: OrgState, hubName: string): SimHub {
    const hub = org.org.hubs.find((h) => h.name === hubName);
    if (!hub)
      throw new RangeError(`hubName=${JSON.stringify(hubName)}: not a hub of organization ${org.org.id}`);
    return hub;
  }

  /** The uplink of a network, or a RangeError naming it. */
  uplink(ns: NetState, uplink: SimUplink): SimUplink {
    if (!ns.links.has(uplink)) {
      throw new RangeError(
        `uplink=${JSON.stringify(uplink)}: network ${ns.network.id} has ${ns.links.uplinks.join(', ')}`,
      );
    }
    return uplink;
  }

  /** Set a network's tags (API write, batch or operator); records a tunnel change by tags. */
  applyTags(ns: NetState, tags: readonly string[]): void {
    const hubs = ns.org.org.hubs;
    const from = currentHubFromTags(ns.network.tags, hubs);
    ns.network.tags = [...tags];
    this.relist(ns, this.now());
    const to = currentHubFromTags(ns.network.tags, hubs);
    if (from !== to) {
      const change: TunnelChange = { at: this.now(), networkId: ns.network.id, from, to };
      this.tunnelChanges.push(change);
      for (const l of this.tunnelListeners) l(change);
    }
  }

  /** Replace an organization's peers (undefined: the default ones). */
  setPeers(org: OrgState, peers: readonly SimPeer[] | undefined): void {
    const before = new Map(org.peers.map((p) => [p.name, JSON.stringify(p)]));
    org.peers = peers
      ? peers.map((p) => ({ ...p, networkTags: [...p.networkTags] }))
      : defaultPeers(org.org.hubs);
    const kept = new Set(
      org.peers.filter((p) => before.get(p.name) === JSON.stringify(p)).map((p) => p.name),
    );
    const t = this.now();
    for (const ns of org.byId.values()) {
      // A changed peer is a new tunnel: negotiated from now.
      for (const name of [...ns.listedSince.keys()]) if (!kept.has(name)) ns.listedSince.delete(name);
      this.relist(ns, t);
    }
  }

  private relist(ns: NetState, t: number): void {
    for (const peer of ns.org.peers) {
      const listed = selects(peer, ns.network.tags);
      if (!listed) ns.listedSince.delete(peer.name);
      else if (!ns.listedSince.has(peer.name)) ns.listedSince.set(peer.name, t);
    }
  }

  /** The hub a peer leads to: by name, else by public IP. */
  hubOfPeer(org: OrgState, peer: SimPeer): SimHub | undefined {
    return (
      org.org.hubs.find((h) => h.name === peer.name) ??
      org.org.hubs.find((h) => h.trackedIp === peer.publicIp)
    );
  }

  /** The path network → hub over `uplink` at `t`. */
  pathValue(ns: NetState, hubName: string, uplink: SimUplink, t: number): LossValue {
    const hubDown = ns.org.hubDown.get(hubName)?.at(t) ?? false;
    const path = hubDown
      ? { lossPct: 100, latencyMs: null }
      : (ns.path.get(hubName)?.at(t) ?? { lossPct: 0, latencyMs: DEFAULT_LATENCY_MS });
    return worse(path, ns.links.uplinkValue(uplink, t));
  }

  /** Set a path's own loss from now on. */
  setPathLoss(ns: NetState, hubName: string, lossPct: number | null, latencyMs?: number | null): void {
    this.hub(ns.org, hubName);
    ns.path.get(hubName)?.set(this.now(), {
      lossPct,
      latencyMs: latencyMs !== undefined ? latencyMs : defaultLatency(lossPct),
    });
  }

  /** The peers a network's tags select, each with its reachability now. */
  peersOf(ns: NetState): { peer: SimPeer; hub: SimHub | undefined; reachable: boolean }[] {
    const t = this.now();
    const active = ns.links.active(t);
    const settleMs = this.options.tunnelSettleMs;
    return ns.org.peers
      .filter((p) => ns.listedSince.has(p.name))
      .map((peer) => {
        const hub = this.hubOfPeer(ns.org, peer);
        const since = Math.max(ns.listedSince.get(peer.name) as number, active.since);
        const value = hub
          ? this.pathValue(ns, hub.name, active.uplink, t)
          : ns.links.uplinkValue(active.uplink, t);
        const reachable =
          t - since >= settleMs &&
          !ns.links.failed(active.uplink, t) &&
          (value.lossPct === null || value.lossPct < 100) &&
          !(hub && ns.broken.has(hub.name));
        return { peer, hub, reachable };
      });
  }

  /** The hub the network's tags point at (its one `_up` tag). */
  tunnelHub(ns: NetState): string | undefined {
    return currentHubFromTags(ns.network.tags, ns.org.org.hubs);
  }

  /** The hub the branch reaches now (the first in failover order), undefined when none. */
  reachableHub(ns: NetState): string | undefined {
    const reached = new Set(
      this.peersOf(ns)
        .filter((p) => p.reachable && p.hub)
        .map((p) => p.hub?.name),
    );
    return ns.org.org.hubs.find((h) => reached.has(h.name))?.name;
  }

  /** Each uplink's status now: the active one, the ready ones, the failed ones (100 % loss), the unplugged ones. */
  uplinkStatuses(ns: NetState): SimNetworkState['uplinks'] {
    const t = this.now();
    const active = ns.links.active(t).uplink;
    return ns.links.uplinks.map((u) => ({
      interface: u,
      status: ns.links.unplugged(u, t)
        ? 'not connected'
        : ns.links.failed(u, t)
          ? 'failed'
          : u === active
            ? 'active'
            : 'ready',
    }));
  }

  /** A network as `GET /_sim/state` shows it. */
  view(ns: NetState): SimNetworkState {
    return {
      networkId: ns.network.id,
      organizationId: ns.org.org.id,
      tags: [...ns.network.tags],
      tunnelHub: this.tunnelHub(ns),
      reachableHub: this.reachableHub(ns),
      activeUplink: ns.links.active(this.now()).uplink,
      uplinks: this.uplinkStatuses(ns),
    };
  }

  /** Everything back to normal from now on (tags and peers' tags stay as they are, peers back to default). */
  heal(): void {
    const t = this.now();
    for (const org of this.orgs.values()) {
      for (const timeline of org.hubDown.values()) timeline.set(t, false);
      for (const ns of org.byId.values()) {
        for (const timeline of ns.path.values())
          timeline.set(t, { lossPct: 0, latencyMs: DEFAULT_LATENCY_MS });
        for (const u of ns.links.uplinks) {
          ns.links.setLoss(u, t, null);
          ns.links.setDown(u, t, false);
        }
        ns.broken.clear();
      }
      this.setPeers(org, undefined);
    }
  }
}
