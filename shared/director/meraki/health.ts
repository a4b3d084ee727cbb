/**
 * Health through the Dashboard: per branch→hub path a series of per-minute loss and latency
 * points from `uplinksLossAndLatency` (one call per organization and interval), and the
 * Dashboard's own reachability.
 */
import type { Sample } from '../../domain/model.js';
import { DirectorAuthError, DirectorRequestError, NotFoundError } from '../../errors.js';
import type { DirectorHealth } from '../port.js';
import { parsePathTarget, pathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import { MERAKI_OPERATIONS, parseMerakiResponse } from './schemas.js';

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

/** Create the health operations over the adapter's context. */
export function createMerakiHealth(ctx: MerakiContext, options: MerakiHealthOptions): MerakiHealth {
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
    const hubByIp = new Map(org.hubs.map((h) => [h.trackedIp, h]));
    // target → ts → best point over the network's uplinks (the VPN uses whichever works).
    const points = new Map<string, Map<number, { loss: number | null; latency: number | null }>>();
    let newest = Number.NEGATIVE_INFINITY;
    const series = parseMerakiResponse(MERAKI_OPERATIONS.uplinksLossAndLatency, res.status, res.body);
    for (const entry of series) {
      const hub = hubByIp.get(entry.ip);
      if (!hub) continue;
      const target = pathTarget(entry.networkId, hub.name);
      if (!wanted.has(target)) continue;
      const byTs = points.get(target) ?? new Map();
      points.set(target, byTs);
      for (const p of entry.timeSeries) {
        const at = Date.parse(p.ts);
        newest = Math.max(newest, at);
        const loss = p.lossPercent;
        const latency = p.latencyMs;
        const seen = byTs.get(at);
        if (!seen || (loss !== null && (seen.loss === null || loss < seen.loss)))
          byTs.set(at, { loss, latency });
      }
    }
    const samples: Sample[] = [];
    for (const [target, byTs] of points) {
      const mark = watermark.get(target) ?? Number.NEGATIVE_INFINITY;
      for (const at of [...byTs.keys()].sort((a, b) => a - b)) {
        if (at <= mark) continue;
        const p = byTs.get(at) as { loss: number | null; latency: number | null };
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
      if (points.has(target)) continue;
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
      parseMerakiResponse(MERAKI_OPERATIONS.listNetworks, res.status, res.body);
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
