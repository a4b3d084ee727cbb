/**
 * Notifications: every change of serving, ALL_DOWN, MONITOR_BLIND, pin/unpin and re-point
 * failure is published (SNS in AWS, a recorder in the sandbox and tests) and written as an
 * audit event. This file is the port; `sns.ts` and `local.ts` are the adapters.
 */

/**
 * What happened. FAILOVER/FAILBACK/ELECTED are changes of serving (ELECTED: first election);
 * MONITOR_BLIND_ACK: an operator acknowledged MONITOR_BLIND (`ack-monitor-blind`).
 */
export type NoticeKind =
  | 'FAILOVER'
  | 'FAILBACK'
  | 'ELECTED'
  | 'ALL_DOWN'
  | 'MONITOR_BLIND'
  | 'MONITOR_BLIND_ACK'
  | 'PIN'
  | 'UNPIN'
  | 'REPOINT_FAILURE'
  | 'DIRECTOR_LOST'
  | 'DIRECTOR_BACK';

/** Counts of one fan-out (or drift reconcile) over a group's branches. */
export interface BranchCounts {
  /** Branches of the group. */
  total: number;
  /** Re-pointed now (the director changed something). */
  repointed: number;
  /** Already on the target: nothing to do. */
  unchanged: number;
  /** Could not be re-pointed: left to the drift reconcile. */
  failed: number;
  /** Dropped because a newer epoch superseded the action. */
  stale?: number;
}

/** One notification: group, from, to, reason, epoch, branch counts. */
export interface Notice {
  kind: NoticeKind;
  /** The group; `*` for a notice about the whole controller (e.g. MONITOR_BLIND_ACK with no group held). */
  groupKey: string;
  tenantId: string;
  haName: string;
  /** Serving concentrator before (absent: none). */
  from?: string;
  /** Serving concentrator after (or the pinned one). */
  to?: string;
  reason: string;
  epoch: number;
  branches?: BranchCounts;
  /** Failed branch ids (REPOINT_FAILURE), capped by the publisher's message size. */
  failedBranches?: { branchId: string; error: string }[];
  /** Who acted (console operations). */
  by?: string;
  /** Epoch ms. */
  at: number;
  /**
   * Observe mode (config `mode`): the decision was made and stored but nothing was changed on the
   * directors; `reason` starts with what would have been done ("observe: would fail over …").
   */
  observed?: boolean;
  /** Structured evidence (DIRECTOR_LOST: since when, the last answer, the concentrators). */
  detail?: Record<string, unknown>;
}

/** Where notices go (SNS topic; a local recorder). */
export interface Publisher {
  publish(notice: Notice): Promise<void>;
}

/** Where audit events go (the state table, with a TTL). */
export interface AuditSink {
  writeAudit(notice: Notice): Promise<unknown>;
}
