/**
 * Where a rehearsal's report goes: the notifications topic (SNS), or a recorder (tests, sandbox).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { redactDeep } from '../redact.js';
import type { RehearsalReport } from './report.js';
import type { RehearsalPublisher } from './deps.js';

/** Publishes each report to an SNS topic (subject: the summary; message: the report as JSON). */
export class SnsRehearsalPublisher implements RehearsalPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(report: RehearsalReport): Promise<void> {
    const safe = redactDeep(report);
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects: ASCII, no line breaks, at most 100 characters.
        Subject: `[REHEARSAL ${safe.outcome}] ${safe.summary.replace(/^rehearsal of /, '')}`
          .replace(/→/g, '->')
          .replace(/[^\x20-\x7e]/g, '?')
          .slice(0, 100),
        Message: `${safe.summary}\n\n${JSON.stringify(safe, null, 2)}`,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'REHEARSAL' },
          outcome: { DataType: 'String', StringValue: safe.outcome },
        },
      }),
    );
  }
}

/** Keeps every report (tests read `reports`). */
export class RecordingRehearsalPublisher implements RehearsalPublisher {
  readonly reports: RehearsalReport[] = [];
  async publish(report: RehearsalReport): Promise<void> {
    this.reports.push(report);
  }
}
