/** What the rehearsal tasks need from the rest of the system, as narrow ports. */
import type { ControllerMode } from '../config/schema.js';
import type { FailoverDeps } from '../failover/ports.js';
import type { AuditEventInput } from '../store/items.js';
import type { RehearsalReport } from './report.js';

/** Where a rehearsal's report is sent (SNS; a recorder in tests and the sandbox). */
export interface RehearsalPublisher {
  publish(report: RehearsalReport): Promise<void>;
}

/** Everything the rehearsal tasks use. */
export interface RehearsalDeps {
  /** The console operations' deps (pin, unpin, the directors, the state store). */
  failover: FailoverDeps;
  /** The audit trail (the state repository): one event per execution. */
  audit: { writeAuditOnce(event: AuditEventInput & { detail: unknown }, dedupId: string): Promise<boolean> };
  publisher: RehearsalPublisher;
  /** Epoch ms (the same clock as `failover.now`). */
  now: () => number;
  /** The DR lock (the state repository): no rehearsal while a DR workflow holds it. */
  drLock: { getLock(): Promise<{ owner: string; acquiredAt: number; expiresAt: number } | undefined> };
  /** Config `mode`: observe-only refuses every rehearsal (it could not move a branch). @default act */
  mode?: ControllerMode;
}
