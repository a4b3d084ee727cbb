/**
 * The Meraki Dashboard (API v1) behind the Director port: tag-based VPN failover (issue 4).
 *
 * Mapping onto the port. Meraki failover is per branch, so each participating network is its own
 * HA group (`HA_NAME` = network id) with one branch CPE (id = network id) and, per configured hub,
 * one concentrator CPE whose id is the path `networkId→hubName` ({@link pathTarget}). The hubs
 * take the candidate slots in order (DC/ACTIVE, DC/PASSIVE, DR/ACTIVE, DR/PASSIVE), so the common
 * health hysteresis and election run per branch unchanged: the health target is the path, the
 * election picks the first UP hub, and a re-point is a tag swap (shared/domain/meraki-tags.ts).
 * The Director port supports up to four hubs; the tag operations ({@link MerakiDirector.retagMany})
 * take any number.
 *
 * Health: one `uplinksLossAndLatency` call per organization and minute covers every branch, and
 * one uplink-statuses read says which uplink each branch's VPN runs over; each per-minute point
 * of that uplink's series becomes a Sample (`lossPercent: null` → `lossPct: null`, "no data";
 * the other uplinks' series are not used, see ./uplinks.ts). Points already returned by this
 * instance are not returned again (the endpoint overlaps by 4 minutes), so the hysteresis never
 * counts one bad minute twice. A hub a branch does not track has no series and stays UNKNOWN,
 * unless the hub is `trustedWithoutTracking`, which gets a good sample per call (the reference
 * script's blind trust) and says so in its metadata.
 *
 * Verification: the VPN statuses say which hub each branch actually reaches (./vpn.ts):
 * `verifyReach` after a swap, `vpnReach` on demand, and the inventory's tunnel states. The
 * third-party VPN peers are checked against the hubs' tags and IPs by `checkPeers` (./peers.ts).
 *
 * Answers. Every Dashboard body is parsed with the project's schemas (./schemas.ts), as loosely
 * as the spec allows: a malformed entry of a list is left out and logged, a malformed answer as
 * a whole is a DirectorResponseError naming the operation, the field and the value. Request
 * bodies are built through the schemas.
 *
 * Rate limit: the organization's request budget (shared/director/budget.ts): the state table's,
 * shared by every function and container, or the process's own; `requestsPerSecond` (default 5)
 * in any 1 s window. A 429 waits for `Retry-After` (shared/director/http.ts).
 */
import type * as z from 'zod/mini';
import type { merakiSchema } from '../../config/schema.js';
import type { Director } from '../port.js';
import { parseMerakiConfig, type MerakiConfig } from './config.js';
import { createMerakiContext, type MerakiClientOptions } from './context.js';
import { createMerakiHealth, type MerakiHealthOptions } from './health.js';
import {
  createMerakiInventory,
  type MerakiInventoryOptions,
  type MerakiNetwork,
  type MerakiBranch,
} from './inventory.js';
import { defaultLogSink } from '../../observability.js';
import type { MerakiLogOptions } from './notices.js';
import { createMerakiPeers, type MerakiPeers } from './peers.js';
import {
  createMerakiTags,
  type MerakiTagOptions,
  type RetagChange,
  type RetagManyOptions,
  type RetagReport,
} from './tags.js';
import { createMerakiUplinks, type MerakiUplinkOptions } from './uplinks.js';
import { createMerakiVpn, type MerakiVpn, type MerakiVpnOptions } from './vpn.js';

export {
  MERAKI_TUNNEL_IDENTIFIER,
  PATH_SEPARATOR,
  parseMerakiConfig,
  parsePathTarget,
  pathTarget,
  type MerakiConfig,
  type MerakiHub,
} from './config.js';
export type { MerakiBranch, MerakiNetwork } from './inventory.js';
export type { MerakiLog } from './notices.js';
export type { PeerCheck, PeerProblem } from './peers.js';
export type { MalformedEntry } from './schemas.js';
export type { RetagChange, RetagManyOptions, RetagReport } from './tags.js';
export type { VerifyReachOptions, VerifyReachResult, VpnReach } from './vpn.js';

/** Options of {@link createMerakiDirector}: each part's own, plus the configuration. */
export interface MerakiDirectorOptions
  extends
    MerakiClientOptions,
    MerakiInventoryOptions,
    MerakiHealthOptions,
    MerakiUplinkOptions,
    MerakiVpnOptions,
    MerakiLogOptions,
    MerakiTagOptions {
  /** The `director` section of the configuration (kind `meraki`); validated here. */
  config: z.input<typeof merakiSchema>;
}

/** The Meraki adapter: the Director port plus tag operations. */
export interface MerakiDirector extends Director, MerakiVpn, MerakiPeers {
  readonly kind: 'meraki';
  /** The validated configuration. */
  readonly config: MerakiConfig;
  /** Every network of an organization (all pages). */
  listNetworks(organizationId: string): Promise<MerakiNetwork[]>;
  /** The networks taking part in failover, with the hub each uses now. */
  listBranches(organizationId: string): Promise<MerakiBranch[]>;
  /** Swap one network's tags so `hub` carries its tunnel (re-read before write). */
  retagOne(
    organizationId: string,
    networkId: string,
    hub: string,
  ): Promise<{ changed: boolean; tags: string[] }>;
  /** Swap many networks' tags through action batches (see {@link RetagReport}). */
  retagMany(
    organizationId: string,
    changes: readonly RetagChange[],
    options?: RetagManyOptions,
  ): Promise<RetagReport>;
}

/** Create the Meraki adapter. Throws ConfigError for a bad configuration (nothing is called). */
export function createMerakiDirector(options: MerakiDirectorOptions): MerakiDirector {
  const config = parseMerakiConfig(options.config);
  const ctx = createMerakiContext(config, options);
  // The shared logger by default: its JSON replacer keeps the API key out of every line.
  const log = options.log ?? defaultLogSink;
  const vpn = createMerakiVpn(ctx, log, options);
  const inventory = createMerakiInventory(ctx, vpn, log, options);
  const health = createMerakiHealth(ctx, createMerakiUplinks(ctx, log, options), log, options);
  const peers = createMerakiPeers(ctx, log);
  const tags = createMerakiTags(ctx, inventory, options);
  return {
    kind: 'meraki',
    fencing: 'none',
    site: 'DC',
    config,
    listCpes: inventory.listCpes,
    sampleHealth: health.sampleHealth,
    health: health.health,
    // Meraki has no HA role to set: the hubs are third-party peers chosen by tags.
    async setHaState() {},
    // The Dashboard keeps no epoch of ours: nothing to raise. Tag swaps are fenced per network
    // by the swap pipeline's own epoch check (a director-side fence for tags is a separate issue).
    async fence() {},
    repoint: tags.repoint,
    listNetworks: inventory.listNetworks,
    listBranches: inventory.listBranches,
    retagOne: tags.retagOne,
    retagMany: tags.retagMany,
    vpnReach: vpn.vpnReach,
    verifyReach: vpn.verifyReach,
    checkPeers: peers.checkPeers,
  };
}
