/** The SNS adapter of the notification port. */
import { redactDeep } from '../redact.js';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notice, Publisher } from './port.js';

/** SNS limits a subject to 100 characters; keep a margin for the group key. */
const SUBJECT_MAX = 100;
/** Keep messages far below SNS's 256 KB: list at most this many failed branches. */
const MAX_FAILED_LISTED = 200;

/** One-line human summary, used as the SNS subject and by the local printer. */
export function summarize(notice: Notice): string {
  const move =
    notice.from !== undefined || notice.to !== undefined
      ? ` ${notice.from ?? '-'} → ${notice.to ?? '-'}`
      : '';
  // An observe-mode notice says so first: nothing moved, whatever its kind.
  const kind = notice.observed ? `OBSERVE ${notice.kind}` : notice.kind;
  return `[${kind}] ${notice.groupKey}${move} (epoch ${notice.epoch}): ${notice.reason}`;
}

/** Publishes each notice as JSON to one SNS topic, with `kind` and `groupKey` as attributes. */
export class SnsPublisher implements Publisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(raw: Notice): Promise<void> {
    const notice = redactDeep(raw);
    const body: Notice = {
      ...notice,
      ...(notice.failedBranches ? { failedBranches: notice.failedBranches.slice(0, MAX_FAILED_LISTED) } : {}),
    };
    // SNS subjects must be ASCII without line breaks.
    const subject = summarize(notice)
      .replace(/→/g, '->')
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, SUBJECT_MAX);
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subject,
        Message: JSON.stringify(body),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: notice.kind },
          groupKey: { DataType: 'String', StringValue: notice.groupKey },
        },
      }),
    );
  }
}
