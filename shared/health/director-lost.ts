/**
 * What the health check does when it records DIRECTOR_LOST (README "DR runbook"): a notice with
 * the evidence (since when, the last answer, what the site's concentrators last reported), and,
 * with `dr.autoSwitchover` on and the DC director lost, the start of SwitchoverDcToDr in unplanned
 * mode with the approval step, so the operator approves from the notice. The director answering
 * again sends DIRECTOR_BACK. Starting the switchover is idempotent per outage (the execution is
 * named after the site and the outage's start), and the DR lock keeps a second workflow out.
 */
import type { SiteName } from '../domain/model.js';
import type { Notifier } from '../notify/notifier.js';
import type { Notice } from '../notify/port.js';
import type { LogSink } from '../observability.js';
import type { DirectorLossEvidence, DirectorLossListener } from './run.js';

/** Starts the SwitchoverDcToDr state machine (Step Functions in AWS; the local runner in the sandbox). */
export interface SwitchoverStarter {
  /**
   * Start one execution named `name` (the same name again is the same execution: not an error).
   * Resolves its id (the execution ARN in AWS).
   */
  start(name: string, input: { mode: 'unplanned'; reason: string; approval: true }): Promise<string>;
}

/** Options of {@link directorLossNotices}. */
export interface DirectorLossOptions {
  notifier: Notifier;
  log: LogSink;
  /** Start the switchover on a lost DC director (config `dr.autoSwitchover`). */
  autoSwitchover: boolean;
  /** Required when `autoSwitchover` is on. */
  starter?: SwitchoverStarter;
}

/** How many concentrators a notice lists (the rest are counted). */
const LISTED = 20;

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : 'unknown');

/** The execution name for one outage: `director-lost-DC-<since, epoch ms>` (Step Functions' charset). */
export function switchoverExecutionName(site: SiteName, unreachableSince: number): string {
  return `director-lost-${site}-${unreachableSince}`;
}

/** The listener the health run calls (see {@link DirectorLossListener}). */
export function directorLossNotices(options: DirectorLossOptions): DirectorLossListener {
  const { notifier, log } = options;
  const notice = (
    kind: Notice['kind'],
    reason: string,
    at: number,
    detail?: Record<string, unknown>,
  ): Notice => ({
    kind,
    groupKey: '*',
    tenantId: '*',
    haName: '*',
    epoch: 0,
    reason,
    at,
    ...(detail ? { detail } : {}),
  });
  return {
    async lost(evidence: DirectorLossEvidence) {
      const { site, concentrators } = evidence;
      const sec = (evidence.at - evidence.unreachableSince) / 1000;
      const lasted = sec < 120 ? `${Math.round(sec)} s` : `${Math.round(sec / 6) / 10} min`;
      const listed = concentrators
        .slice(0, LISTED)
        .map((c) => `${c.name} (${c.groupKey}) ${c.health} since ${iso(c.since)}`)
        .join('; ');
      const more = concentrators.length > LISTED ? ` and ${concentrators.length - LISTED} more` : '';
      let next =
        site === 'DC'
          ? 'if the DC site is lost, start SwitchoverDcToDr (unplanned); until then no DC concentrator failover is decided'
          : 'if the DR site is lost, fail back to DC once DC is healthy (FailbackDrToDc)';
      let executionId: string | undefined;
      if (site === 'DC' && options.autoSwitchover && options.starter) {
        try {
          executionId = await options.starter.start(
            switchoverExecutionName(site, evidence.unreachableSince),
            {
              mode: 'unplanned',
              reason: `DIRECTOR_LOST: the DC director unreachable since ${iso(evidence.unreachableSince)}`,
              approval: true,
            },
          );
          next = `SwitchoverDcToDr started (${executionId}): it waits for your approval before it changes roles`;
        } catch (error) {
          log.error('could not start SwitchoverDcToDr on DIRECTOR_LOST', { site, error: String(error) });
          next = `starting SwitchoverDcToDr failed (${String(error)}): start it by hand if the DC site is lost`;
        }
      }
      const reason =
        `the ${site} director (site ACTIVE) has not answered for ${lasted}: unreachable since ` +
        `${iso(evidence.unreachableSince)}, last answer ${
          evidence.lastAnsweredAt === undefined
            ? `before ${iso(evidence.unreachableSince)}`
            : iso(evidence.lastAnsweredAt)
        }` +
        `${evidence.reason ? ` (${evidence.reason})` : ''}; its concentrators as last reported: ` +
        `${listed || 'none'}${more}; ${next}`;
      await notifier.notify(
        notice('DIRECTOR_LOST', reason, evidence.at, {
          site,
          unreachableSince: iso(evidence.unreachableSince),
          lastAnsweredAt: iso(evidence.lastAnsweredAt),
          concentrators: concentrators.slice(0, LISTED),
          ...(executionId ? { switchoverExecution: executionId } : {}),
        }),
      );
    },
    async back(site, at, lostAt) {
      await notifier.notify(
        notice(
          'DIRECTOR_BACK',
          `the ${site} director answers again (DIRECTOR_LOST since ${iso(lostAt)} cleared); a switchover waiting for approval is still waiting: reject it if the site is fine`,
          at,
          { site },
        ),
      );
    },
  };
}
