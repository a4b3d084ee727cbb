/**
 * The monitor-blind guard (DESIGN.md safety rules, after Route 53 ARC): when a large share of
 * all monitored targets goes DOWN within one run, or the director cannot be reached, the
 * monitor's own view is suspect and election holds every change. Pure.
 */

/** What one health-check run saw. */
export interface MonitorAssessmentInput {
  /** Targets monitored in the run (concentrators of every group). */
  totalTargets: number;
  /** Targets that went DOWN in this run (transitions to DOWN). */
  wentDownThisRun: number;
  /** The run could not reach the director (5xx, timeouts, connection errors). */
  directorUnreachable: boolean;
  /** Share of targets (0–1) going DOWN at once that makes the monitor blind. @default 0.5 */
  blindShare: number;
  /** The share rule applies only with at least this many targets. @default 4 */
  blindMinTargets: number;
}

/** Whether the monitor is blind, and why. */
export interface MonitorAssessment {
  blind: boolean;
  reason?: string;
}

/**
 * Blind when the director is unreachable, or when `totalTargets >= blindMinTargets` and
 * `wentDownThisRun / totalTargets >= blindShare`.
 */
export function assessMonitor(input: MonitorAssessmentInput): MonitorAssessment {
  if (input.directorUnreachable) {
    return { blind: true, reason: 'the director is unreachable: health samples cannot be trusted' };
  }
  const { totalTargets, wentDownThisRun, blindShare, blindMinTargets } = input;
  if (totalTargets > 0 && totalTargets >= blindMinTargets && wentDownThisRun / totalTargets >= blindShare) {
    const pct = Math.round((wentDownThisRun / totalTargets) * 100);
    return {
      blind: true,
      reason:
        `${wentDownThisRun} of ${totalTargets} targets (${pct}%) went DOWN in one run ` +
        `(threshold ${Math.round(blindShare * 100)}% of at least ${blindMinTargets}): suspecting the monitor's own view`,
    };
  }
  return { blind: false };
}
