/** The local adapter of the notification port: records notices and optionally prints them. */
import type { Notice, Publisher } from './port.js';
import { summarize } from './sns.js';

/** Records every notice (tests read `notices`); prints a one-line summary when `print` is set. */
export class LocalPublisher implements Publisher {
  readonly notices: Notice[] = [];
  constructor(private readonly print?: (line: string) => void) {}

  async publish(notice: Notice): Promise<void> {
    this.notices.push(notice);
    this.print?.(summarize(notice));
  }
}
