/**
 * The Meraki peer check at start-up: before a container's first inventory listing, each
 * organization's third-party VPN peers are checked against its hubs (the adapter's
 * `checkPeers`). A mismatch means tag swaps cannot move tunnels: it is logged as an error with the
 * hub, peer and tag, and counted as the `MerakiPeerCheckFailed` metric (alarm on it). It does not
 * block health or failover (the tags are still the best the controller can do, and `status` shows
 * the check). A passed check is kept for the container's life; a failed one, or one that could not
 * run (the Dashboard unavailable), is tried again before the next listing, so a fix clears it
 * without a redeploy.
 */
import type { Director } from '../director/port.js';
import { ConfigError } from '../errors.js';
import type { LogSink, MetricSink } from '../observability.js';

/** The metric counted for each organization whose peers do not match its hubs. */
export const PEER_CHECK_FAILED_METRIC = 'MerakiPeerCheckFailed';

/** A director with a peer check (the Meraki adapter). */
type PeerChecking = Director & { checkPeers(organizationId: string): Promise<unknown> };

function hasPeerCheck(director: Director): director is PeerChecking {
  return typeof (director as Partial<PeerChecking>).checkPeers === 'function';
}

/**
 * The director with its peer check run before listings (see the module comment); a director
 * without one is returned as it is.
 */
export function withStartupPeerCheck(
  director: Director,
  organizationIds: readonly string[],
  log: LogSink,
  metrics: MetricSink,
): Director {
  if (!hasPeerCheck(director)) return director;
  const checking = director;
  const passed = new Set<string>();
  async function check(organizationId: string): Promise<void> {
    if (passed.has(organizationId)) return;
    try {
      await checking.checkPeers(organizationId);
      passed.add(organizationId);
      log.info('Meraki third-party VPN peers match the hubs', { organizationId });
    } catch (error) {
      if (error instanceof ConfigError) {
        log.error('Meraki third-party VPN peers do not match the hubs: tag swaps cannot move tunnels', {
          organizationId,
          error: error.message,
        });
        metrics.count(PEER_CHECK_FAILED_METRIC, 1);
      } else {
        log.warn('Meraki peer check could not run; tried again before the next listing', {
          organizationId,
          error: (error as Error).message,
        });
      }
    }
  }
  return {
    ...director,
    async listCpes(tenantId, options) {
      if (organizationIds.includes(tenantId)) await check(tenantId);
      return director.listCpes(tenantId, options);
    },
  };
}
