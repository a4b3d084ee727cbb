/**
 * Where the Meraki adapter says what it left out or could not read without failing the call: a
 * malformed entry of a list answer, uplink statuses it fell back from, VPN statuses it could not
 * use. The caller passes its log; the default is the functions' shared logger, so nothing is
 * dropped silently and the API key is redacted from every line. Also which failures such an optional read falls
 * back from ({@link isUnreadable}).
 */
import {
  DirectorAuthError,
  DirectorRequestError,
  DirectorUnavailableError,
  NotFoundError,
} from '../../errors.js';
import type { LogSink } from '../../observability.js';
import type { MalformedEntry } from './schemas.js';

/** The part of a LogSink the adapter uses. */
export type MerakiLog = Pick<LogSink, 'warn' | 'error'>;

/** Options of the adapter's notices. */
export interface MerakiLogOptions {
  /** @default the shared logger (shared/observability.ts) */
  log?: MerakiLog;
}

/** Log the malformed entries of one organization's answers (one line per entry), if any. */
export function logMalformed(
  log: MerakiLog,
  organizationId: string,
  entries: readonly MalformedEntry[],
): void {
  for (const entry of entries) {
    log.warn('Meraki answer entry left out: malformed', { organizationId, ...entry });
  }
}

/**
 * True for a Dashboard read that failed on the Dashboard's side (unavailable, refused, a
 * malformed answer, a 404): what an optional read falls back from. Anything else is a bug.
 */
export function isUnreadable(error: unknown): boolean {
  return (
    error instanceof DirectorUnavailableError ||
    error instanceof DirectorRequestError ||
    error instanceof DirectorAuthError ||
    error instanceof NotFoundError
  );
}
