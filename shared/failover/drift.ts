/**
 * Drift reconcile: compare each branch's actual target (read from the director) with its
 * group's serving concentrator and re-point the drifted ones, rate-limited across all groups.
 * Covers the reference's "Update Branch to Active Node" scenarios without a button: a branch
 * that rebooted or shut down uncleanly, a replaced branch, a failed re-point, DC1/DC2 replaced
 * by newly onboarded DC3/DC4. Each group is re-elected first, so a serving concentrator that no
 * longer exists or is DOWN is replaced before anything is re-pointed.
 */
import { mapLimit, TokenBucket } from '../director/limits.js';
import type { FailoverDeps } from './ports.js';
import { FAILOVER_METRICS, loadTenantView, reconcileGroup, type ReconcileResult } from './service.js';

/** Groups of one tenant reconciled at once when the director keeps no epoch (one batch's worth). */
export const DRIFT_SIDE_BY_SIDE = 100;

/** What one drift pass found and did. */
export interface DriftReport {
  groups: number;
  /** Branches that were not on their group's serving concentrator. */
  drifted: number;
  repointed: number;
  failed: number;
  /**
   * Groups whose HA roles this pass corrected without a change of serving (e.g. two concentrators
   * ACTIVE after a failed PASSIVE, or serving not ACTIVE after a failed ACTIVE).
   */
  haStateFixed: string[];
  /** Groups with an HA_STATE call that failed again (retried on the next pass). */
  haStateFailed: string[];
  /** Groups held on purpose (ALL_DOWN, MONITOR_BLIND). */
  held: string[];
  /** Groups whose ALL_DOWN alarm is open after this pass (their count is the `AllDown` metric). */
  allDown: string[];
  /** Groups (or tenants) that could not be reconciled; retried on the next pass. */
  errors: { key: string; error: string }[];
  results: ReconcileResult[];
}

/**
 * One drift pass over every configured tenant (or `opts.tenants`). Never throws for one bad
 * group or tenant: it is reported in `errors` and the next pass tries again.
 */
export async function reconcileDrift(
  deps: FailoverDeps,
  opts: { tenants?: readonly string[]; bucket?: TokenBucket } = {},
): Promise<DriftReport> {
  const rps = deps.settings.driftRequestsPerSecond;
  const bucket = opts.bucket ?? new TokenBucket(rps, Math.max(1, Math.ceil(rps)));
  const report: DriftReport = {
    groups: 0,
    drifted: 0,
    repointed: 0,
    failed: 0,
    haStateFixed: [],
    haStateFailed: [],
    held: [],
    allDown: [],
    errors: [],
    results: [],
  };
  const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  for (const tenantId of opts.tenants ?? deps.tenants) {
    let view;
    try {
      view = await loadTenantView(deps, tenantId);
    } catch (error) {
      report.errors.push({ key: tenantId, error: message(error) });
      continue;
    }
    const groups = view.inventory.tenants.flatMap((t) => t.groups);
    // A director that keeps no epoch (Meraki: one group per branch network) gets its groups
    // reconciled side by side, so their re-points meet in its coalescing window and go out as
    // action batches; one after another, each network would cost its own reads and write.
    const side = Object.values(deps.directors).some((d) => d?.fencing === 'none') ? DRIFT_SIDE_BY_SIDE : 1;
    await mapLimit(groups, side, async (group) => {
      report.groups++;
      try {
        const r = await reconcileGroup(deps, group.key, { trigger: 'drift', view, bucket });
        report.results.push(r);
        if (r.held) report.held.push(group.key);
        if (r.alarms.includes('ALL_DOWN')) report.allDown.push(group.key);
        report.drifted += r.fanOut && !r.fanOut.superseded ? r.plan.length : 0;
        report.repointed += r.fanOut?.counts.repointed ?? 0;
        report.failed += r.fanOut?.counts.failed ?? 0;
        if (!r.changed && r.fanOut?.haStateSet) report.haStateFixed.push(group.key);
        if (r.fanOut?.haStateFailures) report.haStateFailed.push(group.key);
      } catch (error) {
        report.errors.push({ key: group.key, error: message(error) });
      }
    });
  }
  // The failover function counts a group once, when it enters ALL_DOWN; every pass reports how
  // many are in it now (0 included), which keeps the AllDown alarm raised until the last one
  // recovers. A pass that missed some groups reports only a count that raises the alarm: its 0
  // could be wrong, and no data leaves the alarm as it is.
  if (report.errors.length === 0 || report.allDown.length > 0) {
    deps.metrics.count(FAILOVER_METRICS.allDown, report.allDown.length);
  }
  if (
    report.drifted > 0 ||
    report.errors.length > 0 ||
    report.haStateFixed.length > 0 ||
    report.haStateFailed.length > 0
  ) {
    deps.log.info('drift reconcile', {
      groups: report.groups,
      drifted: report.drifted,
      repointed: report.repointed,
      failed: report.failed,
      haStateFixed: report.haStateFixed,
      haStateFailed: report.haStateFailed,
      allDown: report.allDown,
      errors: report.errors,
    });
  }
  return report;
}
