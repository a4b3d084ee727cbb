/**
 * The read endpoints' answers, shaped as Meraki's v1 spec has them: networks, the per-uplink loss
 * series (every uplink × every tracked hub IP and 8.8.8.8, lagged), the appliances' uplink
 * statuses, the networks' VPN statuses (third-party peers and their reachability) and the
 * organization's third-party VPN peers.
 */
import { DEFAULT_DESTINATION } from './links.js';
import { HttpError, LazyArray, arrayParam, page, type RouteResult } from './http.js';
import type { NetState, OrgState, SimState } from './state.js';
import type { SimUplink } from './types.js';

/** A stable fake MX serial for a network id. */
export function serialOf(networkId: string): string {
  const hex = hashOf(networkId).toString(16).toUpperCase().padStart(8, '0');
  return `Q2SM-${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

function hashOf(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

const serial = (ns: NetState): string => ns.network.serial ?? serialOf(ns.network.id);

/** Stable addresses of a network's uplink (documentation ranges, derived from its position). */
function addresses(ns: NetState, uplink: SimUplink): { ip: string; gateway: string; publicIp: string } {
  const k = ns.links.uplinks.indexOf(uplink);
  const a = (ns.index >> 8) & 255;
  const b = ns.index & 255;
  return {
    ip: `10.${k + 1}.${a}.${b === 0 ? 1 : b}`,
    gateway: `10.${k + 1}.${a}.254`,
    publicIp: `100.${64 + k}.${a}.${b}`,
  };
}

/** A network as the Dashboard returns it. */
export function networkJson(ns: NetState): Record<string, unknown> {
  const n = ns.network;
  return {
    id: n.id,
    organizationId: ns.org.org.id,
    name: n.name,
    productTypes: ['appliance'],
    timeZone: 'Etc/UTC',
    tags: [...n.tags],
    url: `https://n1.meraki.example/${encodeURIComponent(n.name)}/n/${n.id}/manage/usage/list`,
    notes: '',
    isBoundToConfigTemplate: false,
  };
}

const networksOf = (org: OrgState): NetState[] => org.order.map((id) => org.byId.get(id) as NetState);

/** `GET /organizations/{organizationId}/networks`: paged by 3–100000 (default 1000). */
export function listNetworks(org: OrgState, query: URLSearchParams, selfUrl: string): RouteResult {
  const r = page(networksOf(org), (ns) => ns.network.id, query, selfUrl, {
    min: 3,
    max: 100_000,
    default: 1000,
  });
  return { status: 200, body: r.items.map(networkJson), headers: r.headers };
}

const UPLINK_FILTER = ['wan1', 'wan2', 'wan3', 'cellular'];
const WINDOW_MS = 300_000;

function seriesWindow(query: URLSearchParams, latest: number): { t0: number; t1: number } {
  const ts = query.get('timespan');
  const t0q = query.get('t0');
  const t1q = query.get('t1');
  if (ts !== null && (t0q !== null || t1q !== null)) {
    throw new HttpError(400, ['Specify either timespan or t0 and t1, not both']);
  }
  if (t0q !== null || t1q !== null) {
    const t1 = t1q === null ? latest : Date.parse(t1q);
    const t0 = t0q === null ? t1 - WINDOW_MS : Date.parse(t0q);
    if (Number.isNaN(t0) || Number.isNaN(t1)) throw new HttpError(400, ["'t0'/'t1' must be ISO 8601 times"]);
    if (t1 - t0 > WINDOW_MS || t1 < t0)
      throw new HttpError(400, ["'t1' must be within 5 minutes after 't0'"]);
    if (t1 > latest) throw new HttpError(400, ["'t1' must be at least 2 minutes in the past"]);
    return { t0, t1 };
  }
  const span = ts === null ? 300 : Number(ts);
  if (!Number.isFinite(span) || span <= 0 || span > 300) {
    throw new HttpError(400, ["'timespan' must be a number of seconds, at most 300"]);
  }
  return { t0: latest - span * 1000, t1: latest };
}

/**
 * `GET /organizations/{organizationId}/devices/uplinksLossAndLatency`: per MX, uplink and
 * destination (each tracked hub's IP, then 8.8.8.8) a per-minute series ending `lagMs` ago; a
 * point is the worse of the path's and the uplink's loss. Filters `uplink` and `ip`.
 */
export function lossSeries(
  state: SimState,
  org: OrgState,
  query: URLSearchParams,
  latest: number,
): RouteResult {
  const { t0, t1 } = seriesWindow(query, latest);
  const uplink = query.get('uplink');
  if (uplink !== null && !UPLINK_FILTER.includes(uplink)) {
    throw new HttpError(400, [
      `'uplink' must be one of ${UPLINK_FILTER.join(', ')}, not ${JSON.stringify(uplink)}`,
    ]);
  }
  const ip = query.get('ip');
  const minutes: number[] = [];
  for (let m = Math.floor(t1 / 60_000) * 60_000; m > t0; m -= 60_000) minutes.unshift(m);
  const stamps = minutes.map((m) => new Date(m).toISOString());
  function* series(): Generator<unknown> {
    for (const ns of networksOf(org)) {
      const hubs = org.org.hubs.filter(
        (h) => !ns.network.trackedHubs || ns.network.trackedHubs.includes(h.name),
      );
      const destinations: { ip: string; hub?: string }[] = [
        ...hubs.map((h) => ({ ip: h.trackedIp, hub: h.name })),
        { ip: DEFAULT_DESTINATION },
      ];
      for (const u of ns.links.uplinks) {
        if (uplink !== null && u !== uplink) continue;
        for (const d of destinations) {
          if (ip !== null && d.ip !== ip) continue;
          yield {
            networkId: ns.network.id,
            serial: serial(ns),
            uplink: u,
            ip: d.ip,
            timeSeries: minutes.map((m, i) => {
              const p = d.hub ? state.pathValue(ns, d.hub, u, m) : ns.links.uplinkValue(u, m);
              return { ts: stamps[i], lossPercent: p.lossPct, latencyMs: p.latencyMs };
            }),
          };
        }
      }
    }
  }
  return { status: 200, body: new LazyArray(series) };
}

/**
 * `GET /organizations/{organizationId}/appliance/uplink/statuses`: one entry per MX with each
 * uplink's status (active, ready, failed, not connected); paged by 3–1000; filters `networkIds[]`, `serials[]`, `iccids[]`.
 */
export function uplinkStatuses(
  state: SimState,
  org: OrgState,
  query: URLSearchParams,
  selfUrl: string,
  nowMs: number,
): RouteResult {
  const networkIds = arrayParam(query, 'networkIds');
  const serials = arrayParam(query, 'serials');
  const iccids = arrayParam(query, 'iccids');
  const iccidOf = (ns: NetState) => `8901${String(hashOf(ns.network.id)).padStart(12, '0')}`;
  const matching = networksOf(org).filter(
    (ns) =>
      (!networkIds || networkIds.has(ns.network.id)) &&
      (!serials || serials.has(serial(ns))) &&
      (!iccids || (ns.links.has('cellular') && iccids.has(iccidOf(ns)))),
  );
  const r = page(matching, (ns) => serial(ns), query, selfUrl, { min: 3, max: 1000 });
  const lastReportedAt = new Date(nowMs).toISOString();
  const body = r.items.map((ns) => ({
    networkId: ns.network.id,
    serial: serial(ns),
    model: 'MX68CW',
    lastReportedAt,
    highAvailability: { enabled: false, role: 'primary' },
    uplinks: state.uplinkStatuses(ns).map(({ interface: u, status }) => {
      const addr = addresses(ns, u);
      const common = { interface: u, status, ip: addr.ip, gateway: addr.gateway, publicIp: addr.publicIp };
      return u === 'cellular'
        ? {
            ...common,
            provider: 'Simulated Mobile',
            model: 'integrated',
            signalStat: { rsrp: '-95', rsrq: '-10' },
            connectionType: '4g',
            apn: 'internet',
            dns1: '192.0.2.53',
            dns2: '198.51.100.53',
            signalType: '4G',
            iccid: iccidOf(ns),
          }
        : { ...common, primaryDns: '192.0.2.53', secondaryDns: '198.51.100.53', ipAssignedBy: 'static' };
    }),
  }));
  return { status: 200, body, headers: r.headers };
}

/**
 * `GET /organizations/{organizationId}/appliance/vpn/statuses`: per network its MX, uplinks and
 * the third-party peers its tags select, each `reachable` or `unreachable`; paged by 3–300; filter `networkIds[]`.
 */
export function vpnStatuses(
  state: SimState,
  org: OrgState,
  query: URLSearchParams,
  selfUrl: string,
): RouteResult {
  const networkIds = arrayParam(query, 'networkIds');
  const matching = networksOf(org).filter((ns) => !networkIds || networkIds.has(ns.network.id));
  const r = page(matching, (ns) => ns.network.id, query, selfUrl, { min: 3, max: 300 });
  const body = r.items.map((ns) => {
    const online = state.uplinkStatuses(ns).some((u) => u.status === 'active' || u.status === 'ready');
    return {
      networkId: ns.network.id,
      networkName: ns.network.name,
      deviceSerial: serial(ns),
      deviceStatus: online ? 'online' : 'offline',
      uplinks: ns.links.uplinks.map((u) => ({ interface: u, publicIp: addresses(ns, u).publicIp })),
      vpnMode: 'spoke',
      exportedSubnets: [
        { subnet: `192.168.${ns.index % 256}.0/24`, name: `lan-${Math.floor(ns.index / 256)}` },
      ],
      merakiVpnPeers: [],
      thirdPartyVpnPeers: state.peersOf(ns).map(({ peer, reachable }) => ({
        name: peer.name,
        publicIp: peer.publicIp,
        reachability: reachable ? 'reachable' : 'unreachable',
      })),
    };
  });
  return { status: 200, body, headers: r.headers };
}

/** `GET /organizations/{organizationId}/appliance/vpn/thirdPartyVPNPeers`: `{ peers }`. */
export function thirdPartyPeers(org: OrgState): RouteResult {
  return {
    status: 200,
    body: {
      peers: org.peers.map((p) => ({
        name: p.name,
        publicIp: p.publicIp,
        privateSubnets: [...(p.privateSubnets ?? [])],
        secret: 'sim-shared-secret',
        ipsecPoliciesPreset: 'default',
        ikeVersion: p.ikeVersion ?? '1',
        networkTags: [...p.networkTags],
      })),
    },
  };
}
