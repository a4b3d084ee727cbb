/**
 * The notifier: one call publishes a notice and writes its audit event. A failure of either is
 * logged and counted, never thrown: losing an e-mail must not stop a failover half-way. Notices
 * of changes of serving go through the group's outbox instead (shared/failover: written with the
 * epoch, then published here and audited once per group + epoch + kind, then cleared).
 */
import type { LogSink, MetricSink } from '../observability.js';
import type { AuditSink, Notice, Publisher } from './port.js';
import { summarize } from './sns.js';

/** Counted when a notice could not be published or audited. */
export const NOTIFY_FAILURES_METRIC = 'NotifyFailures';

/** Publishes and audits notices. */
export interface Notifier {
  /** Publish and audit one notice (failures are logged and counted, never thrown). */
  notify(notice: Notice): Promise<void>;
  /**
   * Publish only (logged; a failure is logged and counted, never thrown): for notices sent from a
   * group's outbox, whose audit event the sender writes once per group + epoch + kind. Resolves
   * whether it was published (false: keep it in the outbox and send it again later).
   */
  publish(notice: Notice): Promise<boolean>;
}

/** Build a notifier from a publisher, an audit sink and where to log. */
export function createNotifier(deps: {
  publisher: Publisher;
  audit: AuditSink;
  log: LogSink;
  metrics: MetricSink;
}): Notifier {
  return {
    async notify(notice) {
      deps.log.info(summarize(notice), { notice });
      const results = await Promise.allSettled([
        deps.publisher.publish(notice),
        deps.audit.writeAudit(notice),
      ]);
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          deps.metrics.count(NOTIFY_FAILURES_METRIC);
          deps.log.error(i === 0 ? 'publishing a notice failed' : 'writing an audit event failed', {
            kind: notice.kind,
            groupKey: notice.groupKey,
            error: String(result.reason),
          });
        }
      });
    },
    async publish(notice) {
      deps.log.info(summarize(notice), { notice, from: 'outbox' });
      try {
        await deps.publisher.publish(notice);
        return true;
      } catch (error) {
        deps.metrics.count(NOTIFY_FAILURES_METRIC);
        deps.log.error('publishing a notice failed; it stays in the outbox and is sent again', {
          kind: notice.kind,
          groupKey: notice.groupKey,
          error: String(error),
        });
        return false;
      }
    },
  };
}
