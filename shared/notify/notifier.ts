/**
 * The notifier: one call publishes a notice and writes its audit event. A failure of either is
 * logged and counted, never thrown: losing an e-mail must not stop a failover half-way.
 */
import type { LogSink, MetricSink } from '../observability.js';
import type { AuditSink, Notice, Publisher } from './port.js';
import { summarize } from './sns.js';

/** Counted when a notice could not be published or audited. */
export const NOTIFY_FAILURES_METRIC = 'NotifyFailures';

/** Publishes and audits notices. */
export interface Notifier {
  notify(notice: Notice): Promise<void>;
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
  };
}
