/**
 * The uplink each branch's VPN runs over, and each branch→hub path's points from that uplink's
 * loss series only (DESIGN: health comes from the uplink the VPN runs over, not the best of all).
 *
 * Which uplink. `GET /organizations/{id}/appliance/uplink/statuses` lists each appliance's
 * uplinks with a status; the VPN runs over an `active` one. When several are active (load
 * balancing) it is the first in the order wan1, wan2, wan3, cellular (the MX's default primary
 * first; a name the spec does not list yet comes last). Of an HA pair, the appliance with an
 * active uplink counts (the primary when both report one). A network listed with no active
 * uplink is offline: its points are left out (no hub is reachable from it, no re-point helps).
 *
 * Which minute. The series lag about 2 minutes behind the statuses, so a point is taken from the
 * uplink that was active when it was measured: the one the first statuses read at or after the
 * point's time saw (a switch-over between two reads counts from the earlier read on). The minutes
 * before a switch-over come from the old uplink's series, the minutes after from the new one's.
 *
 * Fallback. When the statuses cannot be read (the Dashboard refuses or fails, or the answer is
 * not a list), each network keeps the uplink the last read saw it on, else wan1 (the default
 * primary), and the adapter logs a warning; the loss series is still used. A network the
 * statuses do not list, or list malformed, has no known uplink: its points are left out.
 */
import { pathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import { isUnreadable, type MerakiLog } from './notices.js';
import {
  MERAKI_OPERATIONS,
  parseMerakiList,
  type MalformedEntry,
  type applianceUplinkStatusSchema,
  type lossSeriesSchema,
} from './schemas.js';
import type * as z from 'zod/mini';

/** Uplink names in the order an MX prefers them. */
export const UPLINK_ORDER: readonly string[] = ['wan1', 'wan2', 'wan3', 'cellular'];

/** The uplink used when the statuses cannot be read and a network was never seen. */
export const FALLBACK_UPLINK = 'wan1';

/** The uplink a network's VPN uses, and the appliance reporting it (when it says). */
export interface ActiveUplink {
  uplink: string;
  serial?: string;
}

/** One appliance's uplink statuses (parsed). */
export type ApplianceUplinks = z.output<typeof applianceUplinkStatusSchema>;
/** One loss series (parsed). */
export type LossSeries = z.output<typeof lossSeriesSchema>;

/** One per-minute point of a path: null loss or latency is "no data". */
export interface PathPoint {
  loss: number | null;
  latency: number | null;
}

function uplinkRank(name: string): number {
  const i = UPLINK_ORDER.indexOf(name);
  return i >= 0 ? i : UPLINK_ORDER.length;
}

function firstActive(appliance: ApplianceUplinks): string | undefined {
  return appliance.uplinks
    .filter((u) => u.status === 'active')
    .map((u) => u.interface)
    .sort((a, b) => uplinkRank(a) - uplinkRank(b) || a.localeCompare(b))[0];
}

/**
 * Per network listed, the uplink its VPN uses, or null when none is active (see the module
 * comment for the rules). Pure.
 */
export function activeUplinks(appliances: readonly ApplianceUplinks[]): Map<string, ActiveUplink | null> {
  const out = new Map<string, ActiveUplink | null>();
  const primary = new Set<string>();
  for (const a of appliances) {
    const uplink = firstActive(a);
    const seen = out.get(a.networkId);
    const isPrimary = a.highAvailability?.role !== 'spare';
    if (uplink === undefined) {
      if (seen === undefined) out.set(a.networkId, null);
      continue;
    }
    // An active uplink wins over none; of two, the HA primary's.
    if (seen && (primary.has(a.networkId) || !isPrimary)) continue;
    out.set(a.networkId, a.serial !== undefined ? { uplink, serial: a.serial } : { uplink });
    if (isPrimary) primary.add(a.networkId);
  }
  return out;
}

/**
 * Each wanted path's points by time, from the series of the uplink its network's VPN used at
 * that time (`uplinkAt`) towards the hub's tracked IP only. A point of another uplink, of another
 * appliance than the one reporting the active uplink, or of a network whose uplink is unknown is
 * left out. Of two points of one minute (duplicate series), one with data wins. Pure.
 */
export function pathPoints(
  series: readonly LossSeries[],
  uplinkAt: (networkId: string, at: number) => ActiveUplink | undefined,
  hubByIp: ReadonlyMap<string, string>,
  wanted: ReadonlySet<string>,
): Map<string, Map<number, PathPoint>> {
  const points = new Map<string, Map<number, PathPoint>>();
  for (const entry of series) {
    const hub = hubByIp.get(entry.ip);
    if (hub === undefined) continue;
    const target = pathTarget(entry.networkId, hub);
    if (!wanted.has(target)) continue;
    let byTs = points.get(target);
    for (const p of entry.timeSeries) {
      const at = Date.parse(p.ts);
      const active = uplinkAt(entry.networkId, at);
      if (!active || entry.uplink !== active.uplink) continue;
      if (active.serial !== undefined && entry.serial !== undefined && entry.serial !== active.serial)
        continue;
      if (!byTs) points.set(target, (byTs = new Map<number, PathPoint>()));
      const point = { loss: p.lossPercent ?? null, latency: p.latencyMs ?? null };
      const seen = byTs.get(at);
      if (!seen || (seen.loss === null && point.loss !== null)) byTs.set(at, point);
    }
  }
  return points;
}

/** Options of the uplink reader. */
export interface MerakiUplinkOptions {
  /**
   * Ask for these networks only (`networkIds[]`) when at most this many are sampled; else every
   * page. @default 50
   */
  uplinkFilterMax?: number;
}

/** What one read of the uplink statuses gave. */
export interface UplinkView {
  /** The uplink a network's VPN used at `at` (epoch ms); undefined when unknown (points left out). */
  at(networkId: string, at: number): ActiveUplink | undefined;
  /** `statuses`: read now; `fallback`: unreadable, last known else wan1 (see the module comment). */
  source: 'statuses' | 'fallback';
  malformed: MalformedEntry[];
}

/** Reads the uplink statuses of an organization, remembering what each read saw. */
export interface MerakiUplinks {
  read(organizationId: string, networkIds: readonly string[]): Promise<UplinkView>;
}

/** What the reads saw of one network: each segment covers the time after the previous one's `until`. */
export interface UplinkSegment {
  until: number;
  uplink: ActiveUplink | null;
}

/** How long what a read saw is kept (the series reach about 7 minutes back). */
const HISTORY_MS = 15 * 60_000;

const sameUplink = (a: ActiveUplink | null, b: ActiveUplink | null) =>
  a === b || (a !== null && b !== null && a.uplink === b.uplink && a.serial === b.serial);

/** Record what a read at `at` saw of a network (pure on the segment list it is given). */
export function recordUplink(segments: UplinkSegment[], at: number, uplink: ActiveUplink | null): void {
  const last = segments[segments.length - 1];
  if (last && sameUplink(last.uplink, uplink)) last.until = at;
  else segments.push({ until: at, uplink });
  while (segments.length > 1 && (segments[0] as UplinkSegment).until < at - HISTORY_MS) segments.shift();
}

/** The uplink of the first read at or after `at` (the last read's for later points). */
export function uplinkAt(segments: readonly UplinkSegment[], at: number): ActiveUplink | null | undefined {
  const seg = segments.find((s) => s.until >= at) ?? segments[segments.length - 1];
  return seg?.uplink;
}

/** Create the uplink reader over the adapter's context. */
export function createMerakiUplinks(
  ctx: MerakiContext,
  log: MerakiLog,
  options: MerakiUplinkOptions,
): MerakiUplinks {
  const filterMax = options.uplinkFilterMax ?? 50;
  // organizationId → networkId → what the reads saw.
  const history = new Map<string, Map<string, UplinkSegment[]>>();

  async function read(organizationId: string, networkIds: readonly string[]): Promise<UplinkView> {
    const seen = history.get(organizationId) ?? new Map<string, UplinkSegment[]>();
    history.set(organizationId, seen);
    const op = MERAKI_OPERATIONS.uplinkStatuses;
    const malformed: MalformedEntry[] = [];
    const filter = networkIds.length <= filterMax;
    try {
      const appliances = await ctx.client(organizationId).collect(
        {
          method: 'GET',
          path: `/organizations/${encodeURIComponent(organizationId)}/appliance/uplink/statuses`,
          query: { perPage: 1000, ...(filter ? { 'networkIds[]': [...networkIds] } : {}) },
          tenantId: organizationId,
        },
        (body) => {
          const page = parseMerakiList(op, 200, body);
          malformed.push(...page.malformed);
          return page.entries;
        },
      );
      const now = ctx.clock.now();
      const active = activeUplinks(appliances);
      // A network asked for but not listed (or listed malformed) has no known uplink now.
      for (const networkId of new Set([...networkIds, ...active.keys()])) {
        const segments = seen.get(networkId) ?? [];
        seen.set(networkId, segments);
        recordUplink(segments, now, active.get(networkId) ?? null);
      }
      return {
        at: (networkId, t) => uplinkAt(seen.get(networkId) ?? [], t) ?? undefined,
        source: 'statuses',
        malformed,
      };
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      log.warn('Meraki uplink statuses unreadable: each network on its last known uplink, else wan1', {
        organizationId,
        operation: op.name,
        error: (error as Error).message,
      });
      return {
        at: (networkId, t) => {
          const segments = seen.get(networkId);
          return segments ? (uplinkAt(segments, t) ?? undefined) : { uplink: FALLBACK_UPLINK };
        },
        source: 'fallback',
        malformed,
      };
    }
  }

  return { read };
}
