/**
 * Health through the Dashboard: per branch→hub path a series of per-minute loss and latency
 * points from `uplinksLossAndLatency` (one call per organization and interval), taken from the
 * uplink the branch's VPN runs over (./uplinks.ts: one uplink-statuses read per loss call), and
 * the Dashboard's own reachability.
 */
import type { Sample } from '../../domain/model.js';
import { DirectorAuthError, DirectorRequestError, NotFoundError } from '../../errors.js';
import type { DirectorHealth } from '../port.js';
import { parsePathTarget, pathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import { logMalformed, type MerakiLog } from './notices.js';
import { MERAKI_OPERATIONS, parseMerakiList, type MalformedEntry } from './schemas.js';
import { pathPoints, type MerakiUplinks, type PathPoint } from './uplinks.js';

/** A point may be stamped this much after the answer's `Date` (whole seconds; a minute's start). */
const FUTURE_TOLERANCE_MS = 60_000;

type SeriesEntry = { networkId: string; timeSeries: { ts: string }[] };

/**
 * The entries without the points stamped after `latest` (the Dashboard's own time of answering,
 * plus the tolerance), each one left out reported. Such a point is no measurement: it would be the
 * path's newest sample (the watermark, the latest bad sample), and every real point until its
 * time would be skipped as older news.
 */
function withoutFuturePoints<E extends SeriesEntry>(
  entries: readonly E[],
  latest: number,
  operation: string,
): { entries: E[]; malformed: MalformedEntry[] } {
  const malformed: MalformedEntry[] = [];
  const kept = entries.map((entry, i) => {
    const timeSeries = entry.timeSeries.filter((p, j) => {
      if (Date.parse(p.ts) <= latest) return true;
      malformed.push({
        operation,
        networkId: entry.networkId,
        field: `${i}.timeSeries.${j}.ts`,
        value: p.ts,
        expected: `a time at or before the answer's own (Date ${new Date(latest - FUTURE_TOLERANCE_MS).toUTCString()})`,
      });
      return false;
    });
    return timeSeries.length === entry.timeSeries.length ? entry : { ...entry, timeSeries };
  });
  return { entries: kept, malformed };
}

/** Options of the health side. */
export interface MerakiHealthOptions {
  /**
   * Per health target, the `at` of the newest point already returned; points at or before it are
   * not returned again. Pass a map that outlives the adapter (module scope of a warm Lambda, or
   * loaded from the store) so a new instance does not replay the overlapping minutes.
   * @default a map of this instance
   */
  watermarks?: Map<string, number>;
  /** Minimum time between two loss calls for one organization. @default 60000 */
  minSampleIntervalMs?: number;
}

/** The health operations of the adapter. */
export interface MerakiHealth {
  sampleHealth(tenantId: string, cpeIds: readonly string[]): Promise<Sample[]>;
  health(): Promise<DirectorHealth>;
}

/** Create the health operations over the adapter's context and uplink reader. */
export function createMerakiHealth(
  ctx: MerakiContext,
  uplinks: MerakiUplinks,
  log: MerakiLog,
  options: MerakiHealthOptions,
): MerakiHealth {
  const lastCall = new Map<string, number>();
  const watermark = options.watermarks ?? new Map<string, number>();
  const minSampleIntervalMs = options.minSampleIntervalMs ?? 60_000;

  async function sampleHealth(tenantId: string, cpeIds: readonly string[]): Promise<Sample[]> {
    const org = ctx.org(tenantId);
    const wanted = new Set(cpeIds);
    const previous = lastCall.get(tenantId);
    if (previous !== undefined && ctx.clock.now() - previous < minSampleIntervalMs) return [];
    lastCall.set(tenantId, ctx.clock.now());
    const res = await ctx.orgCall(tenantId, {
      method: 'GET',
      path: `/organizations/${encodeURIComponent(tenantId)}/devices/uplinksLossAndLatency`,
      query: { timespan: 300 },
    });
    const parsed = parseMerakiList(MERAKI_OPERATIONS.uplinksLossAndLatency, res.status, res.body);
    logMalformed(log, tenantId, parsed.malformed);
    // Judged by the Dashboard's clock (its Date header), never ours: the two need not agree.
    const answeredAt = Date.parse(res.headers.get('date') ?? '');
    const series = Number.isFinite(answeredAt)
      ? withoutFuturePoints(
          parsed.entries,
          answeredAt + FUTURE_TOLERANCE_MS,
          MERAKI_OPERATIONS.uplinksLossAndLatency.name,
        )
      : { entries: parsed.entries, malformed: [] };
    logMalformed(log, tenantId, series.malformed);
    const hubByIp = new Map(org.hubs.map((h) => [h.trackedIp, h.name]));
    // Paths with a series in the answer (on any uplink): the branch tracks the hub.
    const tracked = new Set<string>();
    const networks = new Set<string>();
    let newest = Number.NEGATIVE_INFINITY;
    for (const entry of series.entries) {
      for (const p of entry.timeSeries) newest = Math.max(newest, Date.parse(p.ts));
      const hub = hubByIp.get(entry.ip);
      const target = hub === undefined ? undefined : pathTarget(entry.networkId, hub);
      if (target === undefined || !wanted.has(target)) continue;
      tracked.add(target);
      networks.add(entry.networkId);
    }
    let points = new Map<string, Map<number, PathPoint>>();
    if (networks.size > 0) {
      const view = await uplinks.read(tenantId, [...networks]);
      logMalformed(log, tenantId, view.malformed);
      points = pathPoints(series.entries, view.at, hubByIp, wanted);
    }
    const samples: Sample[] = [];
    for (const [target, byTs] of points) {
      const mark = watermark.get(target) ?? Number.NEGATIVE_INFINITY;
      for (const at of [...byTs.keys()].sort((a, b) => a - b)) {
        if (at <= mark) continue;
        const p = byTs.get(at) as PathPoint;
        samples.push({
          target,
          at,
          reachable: p.loss === null || p.loss < 100,
          lossPct: p.loss,
          latencyMs: p.latency,
        });
        watermark.set(target, at);
      }
    }
    // Untracked hubs: UNKNOWN (no sample), unless trusted without tracking.
    const at = Number.isFinite(newest) ? newest : ctx.clock.now();
    for (const target of wanted) {
      if (tracked.has(target)) continue;
      const path = parsePathTarget(target);
      const hub = path && org.hubs.find((h) => h.name === path.hub);
      if (!hub?.trustedWithoutTracking || (watermark.get(target) ?? Number.NEGATIVE_INFINITY) >= at) continue;
      samples.push({ target, at, reachable: true, lossPct: 0, latencyMs: null });
      watermark.set(target, at);
    }
    return samples;
  }

  async function health(): Promise<DirectorHealth> {
    const first = ctx.config.organizations[0]?.id as string;
    try {
      const res = await ctx.orgCall(first, {
        method: 'GET',
        path: `/organizations/${encodeURIComponent(first)}/networks`,
        query: { perPage: 3 },
        retries: 1,
      });
      parseMerakiList(MERAKI_OPERATIONS.listNetworks, res.status, res.body);
      return { site: 'DC', reachable: true, healthy: true, version: 'v1' };
    } catch (error) {
      // An answer (even a refusal) means the Dashboard is reachable.
      const reachable =
        error instanceof DirectorRequestError ||
        error instanceof DirectorAuthError ||
        error instanceof NotFoundError;
      return { site: 'DC', reachable, healthy: false };
    }
  }

  return { sampleHealth, health };
}
