/**
 * The Meraki inventory behind the Director port: networks (all pages), the networks taking part
 * in failover with the hub each uses now, and the port's CPE model of them (one branch CPE per
 * network, one concentrator CPE per network and hub, see ./adapter.ts).
 *
 * A branch's tunnel to a hub is ESTABLISHED only when the network carries the hub's `_up` tag
 * and the VPN statuses say it reaches that hub (./vpn.ts, one paged read per listing); a tagged
 * hub it does not reach is CREATED, so drift finds it. The branch CPE's `MERAKI_REACHES` says
 * which hub it reaches ('' for none). When the VPN statuses cannot be read, the tags alone decide
 * (as before verification existed), `MERAKI_REACHES` is absent, and a warning is logged.
 */
import type * as z from 'zod/mini';
import { currentHubFromTags, hasHubTags, hubStateTags } from '../../domain/meraki-tags.js';
import { CANDIDATE_ORDER, type HaState } from '../../domain/model.js';
import { ConfigError, NotFoundError, formatValue } from '../../errors.js';
import type { DirectorCpe, ListCpesOptions } from '../port.js';
import { MERAKI_TUNNEL_IDENTIFIER, pathTarget } from './config.js';
import type { MerakiContext } from './context.js';
import { isUnreadable, logMalformed, type MerakiLog } from './notices.js';
import { MERAKI_OPERATIONS, parseMerakiList, parseMerakiResponse, type networkSchema } from './schemas.js';
import type { MerakiVpn, VpnReach } from './vpn.js';

/** A network as the Dashboard returns it (the fields used here). */
export interface MerakiNetwork {
  id: string;
  organizationId?: string;
  name: string;
  tags: string[];
}

/** A participating network with its failover state. */
export interface MerakiBranch extends MerakiNetwork {
  /** The hub whose `_up` tag it carries; undefined when none or several. */
  currentHub?: string;
}

/** Options of the inventory. */
export interface MerakiInventoryOptions {
  /** Networks per page when listing. @default 1000 */
  perPage?: number;
}

/** The inventory operations (see the module comment). */
export interface MerakiInventory {
  /** GET one network, parsed. */
  readNetwork(organizationId: string, networkId: string): Promise<MerakiNetwork>;
  /** Every network of an organization (all pages). */
  listNetworks(organizationId: string): Promise<MerakiNetwork[]>;
  /**
   * The same, page by page as it is consumed (the next page is asked for when the last is used
   * up). `urgent`: a re-tag's read, which its batches wait on (see the request budget).
   */
  streamNetworks(
    organizationId: string,
    options?: { urgent?: boolean },
  ): AsyncGenerator<MerakiNetwork, void, undefined>;
  /** The networks taking part in failover, with the hub each uses now. */
  listBranches(organizationId: string): Promise<MerakiBranch[]>;
  /** The Director port's CPEs of an organization (of one network: `haName` is its id). */
  listCpes(tenantId: string, options?: ListCpesOptions): Promise<DirectorCpe[]>;
}

function toNetwork(n: z.output<typeof networkSchema>): MerakiNetwork {
  return {
    id: n.id,
    name: n.name ?? n.id,
    tags: n.tags,
    ...(n.organizationId !== undefined ? { organizationId: n.organizationId } : {}),
  };
}

/** Create the inventory operations over the adapter's context. */
export function createMerakiInventory(
  ctx: MerakiContext,
  vpn: MerakiVpn,
  log: MerakiLog,
  options: MerakiInventoryOptions,
): MerakiInventory {
  const perPage = options.perPage ?? 1000;

  async function readNetwork(organizationId: string, networkId: string): Promise<MerakiNetwork> {
    const res = await ctx.networkCall(organizationId, networkId, { method: 'GET' });
    return toNetwork(parseMerakiResponse(MERAKI_OPERATIONS.readNetwork, res.status, res.body));
  }

  async function* streamNetworks(
    organizationId: string,
    options: { urgent?: boolean } = {},
  ): AsyncGenerator<MerakiNetwork, void, undefined> {
    try {
      // Paged answers are all 200 (any other status is an error thrown by the client).
      for await (const n of ctx.client(organizationId).paginate(
        {
          method: 'GET',
          path: `/organizations/${encodeURIComponent(organizationId)}/networks`,
          query: { perPage },
          tenantId: organizationId,
          ...(options.urgent ? { urgent: true } : {}),
        },
        (body) => {
          const page = parseMerakiList(MERAKI_OPERATIONS.listNetworks, 200, body);
          logMalformed(log, organizationId, page.malformed);
          return page.entries;
        },
      ))
        yield toNetwork(n);
    } catch (error) {
      ctx.notFound(error, `organization ${formatValue(organizationId)}`);
    }
  }

  async function listNetworks(organizationId: string): Promise<MerakiNetwork[]> {
    const all: MerakiNetwork[] = [];
    for await (const n of streamNetworks(organizationId)) all.push(n);
    return all;
  }

  function participates(organizationId: string, tags: readonly string[]): boolean {
    const org = ctx.org(organizationId);
    return org.networkTag ? tags.includes(org.networkTag) : hasHubTags(tags, org.hubs);
  }

  function branchesOf(organizationId: string, networks: readonly MerakiNetwork[]): MerakiBranch[] {
    const org = ctx.org(organizationId);
    return networks
      .filter((n) => participates(organizationId, n.tags))
      .map((n) => {
        const currentHub = currentHubFromTags(n.tags, org.hubs);
        return currentHub === undefined ? n : { ...n, currentHub };
      });
  }

  async function listBranches(organizationId: string): Promise<MerakiBranch[]> {
    return branchesOf(organizationId, await listNetworks(organizationId));
  }

  /** One network as a branch (none when it is unknown or does not take part). */
  async function oneBranch(organizationId: string, networkId: string): Promise<MerakiBranch[]> {
    try {
      return branchesOf(organizationId, [await readNetwork(organizationId, networkId)]);
    } catch (error) {
      if (error instanceof NotFoundError) return [];
      throw error;
    }
  }

  /** The VPN statuses by network, or undefined (logged) when they cannot be read. */
  async function readReach(
    tenantId: string,
    networkIds?: readonly string[],
  ): Promise<Map<string, VpnReach> | undefined> {
    try {
      return new Map((await vpn.vpnReach(tenantId, networkIds)).map((r) => [r.networkId, r]));
    } catch (error) {
      if (!isUnreadable(error)) throw error;
      log.warn('Meraki VPN statuses unreadable: tunnels judged by the tags alone', {
        organizationId: tenantId,
        operation: MERAKI_OPERATIONS.vpnStatuses.name,
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  async function listCpes(tenantId: string, options: ListCpesOptions = {}): Promise<DirectorCpe[]> {
    const org = ctx.org(tenantId);
    if (org.hubs.length > CANDIDATE_ORDER.length) {
      throw new ConfigError('director (meraki)', [
        {
          path: `organizations.${ctx.config.organizations.indexOf(org)}.hubs`,
          value: org.hubs.map((h) => h.name),
          expected: `at most ${CANDIDATE_ORDER.length} hubs behind the Director port (one per candidate slot)`,
        },
      ]);
    }
    // One HA group is one network: read it alone (two requests) instead of the whole organization.
    const haName = options.haName;
    const branches = haName === undefined ? await listBranches(tenantId) : await oneBranch(tenantId, haName);
    if (branches.length === 0) return [];
    const reach = await readReach(tenantId, haName === undefined ? undefined : [haName]);
    const out: DirectorCpe[] = [];
    for (const b of branches) {
      const reaches = reach?.get(b.id);
      // Tags say where the tunnel should go; the VPN statuses (when read) say whether it went.
      const established = (hub: string) =>
        b.currentHub === hub && (reach === undefined || (reaches?.reachable.includes(hub) ?? false));
      const current = b.currentHub !== undefined && established(b.currentHub) ? b.currentHub : undefined;
      out.push({
        id: b.id,
        name: b.name,
        tenantId,
        metadata: {
          CPE_BR_TYPE: 'HA',
          HA_NAME: b.id,
          MERAKI_TAGS: b.tags.join(' '),
          ...(reach ? { MERAKI_REACHES: reaches?.hub ?? '' } : {}),
        },
        lans: [],
        tunnels: [
          {
            name: 'IPSEC00',
            haTunnelIdentifier: MERAKI_TUNNEL_IDENTIFIER,
            tunnelId: b.currentHub ? `tag:${b.currentHub}` : '',
            state: current ? 'ESTABLISHED' : 'CREATED',
          },
        ],
      });
      org.hubs.forEach((hub, i) => {
        const [site, state] = (CANDIDATE_ORDER[i] as string).split('/') as [string, HaState];
        out.push({
          id: pathTarget(b.id, hub.name),
          name: `${b.name} → ${hub.name}`,
          tenantId,
          metadata: {
            CPE_TYPE: site,
            CPE_MODE: 'HA',
            HA_STATE: state,
            HA_NAME: b.id,
            WAN00_PUB_IP: hub.trackedIp,
            MERAKI_HUB: hub.name,
            MERAKI_UP_TAG: hubStateTags(hub, i).up,
            MERAKI_TRUSTED_WITHOUT_TRACKING: String(hub.trustedWithoutTracking),
          },
          lans: [],
          tunnels: [
            {
              name: 'IPSEC00',
              haTunnelIdentifier: MERAKI_TUNNEL_IDENTIFIER,
              tunnelId: `tag:${hub.name}`,
              state: established(hub.name) ? 'ESTABLISHED' : 'CREATED',
            },
          ],
        });
      });
    }
    return out;
  }

  return { readNetwork, listNetworks, streamNetworks, listBranches, listCpes };
}
