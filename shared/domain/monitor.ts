/**
 * The monitor-blind share rule (after Route 53 ARC): when a large share of all monitored targets
 * goes DOWN within one run, the monitor's own view is suspect and election holds every change,
 * until it clears or an operator acts (see {@link nextMonitorVerdict}). An unreachable director
 * is not judged here: it freezes its own site only (blindness.ts). Pure.
 */

/** What one health-check run saw. */
export interface MonitorAssessmentInput {
  /** Targets monitored in the run (concentrators of every group). */
  totalTargets: number;
  /**
   * Targets that went DOWN in this run (transitions to DOWN); once the run has seen an operator's
   * acknowledgement, only those after it (the acknowledged ones must not raise the latch again).
   */
  wentDownThisRun: number;
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

/** Blind when `totalTargets >= blindMinTargets` and `wentDownThisRun / totalTargets >= blindShare`. */
export function assessMonitor(input: MonitorAssessmentInput): MonitorAssessment {
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

/**
 * The monitor's verdict as carried from one assessment to the next. The share rule's verdict is
 * a latch: raised when a large share of targets goes DOWN within one run, it stays raised while
 * that many are still DOWN (so the next run, which sees no new DOWN transition, cannot quietly
 * let failover act on the suspect view) and clears when enough targets are UP again or an
 * operator acknowledges it.
 */
export interface MonitorVerdict extends MonitorAssessment {
  /** The share rule's latch. */
  latched: boolean;
}

/** What {@link nextMonitorVerdict} looks at: one assessment's counts. */
export interface MonitorCounts extends MonitorAssessmentInput {
  /** Monitored targets that are DOWN now (UNKNOWN and UP do not count). */
  downNow: number;
}

/** The verdict after an operator's acknowledgement: the latch is gone. */
export function acknowledgedVerdict(): MonitorVerdict {
  return { blind: false, latched: false };
}

/**
 * The next verdict from the previous one (undefined: none recorded) and this assessment's
 * counts. The latch is raised by the share rule of {@link assessMonitor}; a raised latch stays
 * raised while `downNow / totalTargets >= blindShare` (with no targets at all there is nothing to
 * judge by, and it stays raised too). `blind` is the latch.
 */
export function nextMonitorVerdict(
  previous: Pick<MonitorVerdict, 'latched'> | undefined,
  counts: MonitorCounts,
): MonitorVerdict {
  const { totalTargets, downNow, blindShare } = counts;
  const raised = assessMonitor(counts);
  let latch: string | undefined;
  if (raised.blind) latch = raised.reason;
  else if (previous?.latched && (totalTargets === 0 || downNow / totalTargets >= blindShare)) {
    const still =
      totalTargets === 0
        ? 'no monitored targets to judge by'
        : `${downNow} of ${totalTargets} targets (${Math.round((downNow / totalTargets) * 100)}%) still DOWN`;
    latch =
      `monitor blind since a mass DOWN: ${still}; holds until fewer than ` +
      `${Math.round(blindShare * 100)}% are DOWN or an operator acknowledges it (ack-monitor-blind)`;
  }
  const latched = latch !== undefined;
  return latched ? { blind: true, latched, reason: latch } : { blind: false, latched };
}
