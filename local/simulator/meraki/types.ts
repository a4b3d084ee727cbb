/**
 * The Meraki simulator's public types: the simulated organizations, the options, the in-process
 * request/response of `dispatch()`, the request log and the running simulator's methods.
 */

/** An MX uplink the simulator models. */
export type SimUplink = 'wan1' | 'wan2' | 'cellular';

/** Every uplink name the simulator knows, in the MX's preference order. */
export const SIM_UPLINKS: readonly SimUplink[] = ['wan1', 'wan2', 'cellular'];

/** A hub: a third-party VPN peer with a tag prefix and the IP branches track. */
export interface SimHub {
  name: string;
  tagPrefix: string;
  trackedIp: string;
}

/** A network (a branch with an MX). */
export interface SimNetwork {
  id: string;
  name: string;
  tags: string[];
  /** Names of the hubs whose IP this network's MX tracks. @default every hub */
  trackedHubs?: string[];
  /** Serial of its MX. @default derived from the id */
  serial?: string;
  /** The MX's uplinks in preference order (the VPN runs over the first one up). @default ['wan1', 'wan2'] */
  uplinks?: SimUplink[];
}

/** A third-party VPN peer of an organization, as `thirdPartyVPNPeers` lists it. */
export interface SimPeer {
  name: string;
  publicIp: string;
  /** Networks carrying one of these tags connect to the peer; `['all']` every one, `['none']` none. */
  networkTags: string[];
  privateSubnets?: string[];
  ikeVersion?: '1' | '2';
}

/** An organization with its hubs (in failover order) and networks. */
export interface SimOrganization {
  id: string;
  name?: string;
  hubs: SimHub[];
  networks: SimNetwork[];
  /** Keys allowed to use this organization (others get 403). @default every valid key */
  apiKeys?: string[];
}

/** A token bucket's rate. */
export interface SimRate {
  requestsPerSecond: number;
  burst: number;
}

/** One action of a batch, as submitted. */
export interface SimBatchAction {
  resource: string;
  operation: string;
  body: Record<string, unknown>;
}

/** Options of `createMerakiSimulator`. */
export interface MerakiSimulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  organizations: SimOrganization[];
  /** Valid API keys. @default ['sim-meraki-key'] */
  apiKeys?: string[];
  /**
   * Time from submission to completion of a confirmed asynchronous action batch: a number, or a
   * function of the batch's actions (e.g. `(a) => 2_000 + a.length * 50`). @default batchCompletionDelayMs
   */
  batchDurationMs?: number | ((actions: readonly SimBatchAction[]) => number);
  /** The older name of a fixed {@link batchDurationMs}. @default 0 */
  batchCompletionDelayMs?: number;
  /** A confirmed batch not completed within this time fails (Meraki's 10 minutes). @default 600000 */
  batchTimeLimitMs?: number;
  /** Per-organization limit; `false` disables it. @default { requestsPerSecond: 10, burst: 20 } */
  rateLimit?: SimRate | false;
  /**
   * Per source IP limit over all organizations; `false` disables it.
   * @default Meraki's 100/s (burst 100) when `rateLimit` is left at Meraki's default; off when a caller tunes `rateLimit`
   */
  ipRateLimit?: SimRate | false;
  /** Delay of the loss series. @default 120000 (2 minutes) */
  lagMs?: number;
  /** Time the MX waits on a failed active uplink before moving the VPN to the next one. @default 10000 */
  uplinkFailoverMs?: number;
  /** Time from a network's tags matching a peer to the tunnel being up (IPsec negotiation). @default 5000 */
  tunnelSettleMs?: number;
  /** Clock of the loss series, the tunnels and the faults (epoch ms); the sandbox may scale time. @default Date.now */
  now?: () => number;
  /** Keep request/response bodies in the request log. @default true */
  logBodies?: boolean;
  /** Keep at most this many log entries (oldest dropped); 0 keeps none and builds none. @default 200000 */
  maxLog?: number;
  /** Open the HTTP server; `false`: no socket, calls go through `dispatch()`. @default true */
  listen?: boolean;
  /** Monotonic ms of the rate limiters and the request times. @default performance.now */
  monotonicNow?: () => number;
  /** Run `fn` after `ms` (asynchronous batch completion). @default setTimeout */
  setTimer?: (ms: number, fn: () => void) => void;
}

/** One request handed to `dispatch()` (what the socket would have carried). */
export interface MerakiDispatchRequest {
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The raw request body ('' when none). */
  body?: string;
  /** The caller's address for the per-IP limit. @default '127.0.0.1' */
  sourceIp?: string;
}

/** What `dispatch()` answers: what the socket would have carried back. */
export interface MerakiDispatchResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** One request and its response, as the simulator saw them. */
export interface LoggedExchange {
  /** Epoch ms on the simulator's clock (`now`). */
  at: number;
  method: string;
  /** Path below the base URL, e.g. `/networks/N_1`. */
  path: string;
  /** Query parameters (repeated ones as arrays). */
  query: Record<string, string | string[]>;
  /** Request headers, lower-case, with credentials replaced by `<redacted>`. */
  headers: Record<string, string>;
  requestBody?: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody?: unknown;
  organizationId?: string;
}

/** A change of a network's simulated tunnel (by its tags). */
export interface TunnelChange {
  at: number;
  networkId: string;
  from: string | undefined;
  to: string | undefined;
}

/** Counters. */
export interface SimStats {
  requests: number;
  http429: number;
  byStatus: Record<number, number>;
  batchesCreated: number;
  batchesFailed: number;
}

/** Injected request failures: the next `count` requests, and/or every request for `forMs`. */
export interface RequestFaultSpec {
  status: number;
  count?: number;
  /** From now on (simulator clock) for this long. */
  forMs?: number;
  /** Only paths (below /api/v1) starting with this. */
  pathPrefix?: string;
  /** Retry-After of injected 429s (seconds). @default 1 */
  retryAfterSec?: number;
}

/** Fault injection and world changes; each is also `POST /_sim/faults/<name>` with its arguments as a JSON object. */
export interface MerakiFaults {
  /** The path from a network to a hub on every uplink: loss (and latency) from now on; null = no data. */
  setLoss(networkId: string, hubName: string, lossPct: number | null, latencyMs?: number | null): void;
  /** One uplink of a network: loss to every destination from now on; null clears it. 100 % fails the uplink. */
  setUplinkLoss(networkId: string, uplink: SimUplink, lossPct: number | null, latencyMs?: number): void;
  /** An uplink unplugged (true) or back (false); the MX moves its VPN after `uplinkFailoverMs`. */
  setUplinkDown(networkId: string, uplink: SimUplink, down: boolean): void;
  /** A hub down (every network's path to it at 100 %) or back up. */
  setHubDown(organizationId: string, hubName: string, down: boolean): void;
  /** Tags right but the tunnel to that hub does not come up (true), or heals (false). */
  breakTunnel(networkId: string, hubName: string, broken: boolean): void;
  /** Replace an organization's third-party VPN peers (a misconfiguration); undefined restores the default. */
  setPeers(organizationId: string, peers: readonly SimPeer[] | undefined): void;
  /** Answer requests with `status` (5xx, or 429 with Retry-After): the next `count`, and/or for `forMs`. */
  failRequests(spec: RequestFaultSpec): void;
  /** Every request answered 429 with Retry-After for `forMs`. */
  storm429(spec: { forMs: number; retryAfterSec?: number }): void;
  /** Make batches fail at completion: the next `count`, and/or any touching one of `networkIds`. */
  failBatches(spec: { count?: number; networkIds?: readonly string[]; message?: string }): void;
  /** Change tags behind the controller's back (an operator in the Dashboard). */
  setTags(networkId: string, tags: string[]): void;
  /** An operator adds and/or removes tags of a network (others keep their place). */
  editTags(networkId: string, edit: { add?: readonly string[]; remove?: readonly string[] }): void;
  /** Change the per-organization limit from now on (buckets start full); `false` disables it. */
  setRateLimit(rate: SimRate | false): void;
  /** Change the per source IP limit from now on; `false` disables it. */
  setIpRateLimit(rate: SimRate | false): void;
  /** No loss, uplinks up, hubs up, tunnels unbroken, default peers, no injected request or batch failures. */
  heal(): void;
}

/** What `GET /_sim/state` and {@link MerakiSimulator.networkState} show of a network. */
export interface SimNetworkState {
  networkId: string;
  organizationId: string;
  tags: string[];
  /** The hub by tags (its one `_up` tag). */
  tunnelHub: string | undefined;
  /** The hub the branch actually reaches (VPN status), undefined when none. */
  reachableHub: string | undefined;
  activeUplink: SimUplink;
  uplinks: { interface: SimUplink; status: 'active' | 'ready' | 'failed' | 'not connected' }[];
}

/** A running simulator. */
export interface MerakiSimulator extends MerakiFaults {
  /** Base URL, e.g. `http://127.0.0.1:41234/api/v1` (`http://meraki.sim.test/api/v1` without a socket). */
  readonly baseUrl: string;
  /** `http://host:port` (the `/_sim` control API lives below it); '' without a socket. */
  readonly controlUrl: string;
  /** Answer one request in-process, exactly as over HTTP (no socket, no real time). */
  dispatch(req: MerakiDispatchRequest): Promise<MerakiDispatchResponse>;
  readonly port: number;
  /** The first valid API key. */
  readonly apiKey: string;
  close(): Promise<void>;
  /** A copy of a network (undefined when unknown). */
  network(networkId: string): (SimNetwork & { organizationId: string }) | undefined;
  /** The hub the network's tags point at (its one `_up` tag). */
  tunnelHub(networkId: string): string | undefined;
  /** The hub the branch actually reaches now (tags settled, path up, tunnel not broken), undefined when none. */
  reachableHub(networkId: string): string | undefined;
  /** The uplink the MX's VPN runs over now. */
  activeUplink(networkId: string): SimUplink;
  /** The network as `GET /_sim/state` shows it. */
  networkState(networkId: string): SimNetworkState;
  /** Every tunnel change (by tags) so far. */
  readonly tunnelChanges: readonly TunnelChange[];
  onTunnelChange(listener: (change: TunnelChange) => void): void;
  /** Monotonic times (`monotonicNow`) of every API request attributed to the organization, 429s included. */
  requestTimes(organizationId: string): readonly number[];
  /** The most requests of the organization within any window of `windowMs` (default 1 s). */
  maxRequestsInWindow(organizationId: string, windowMs?: number): number;
  /** Every request and response so far (bounded by `maxLog`). */
  readonly log: readonly LoggedExchange[];
  clearLog(): void;
  stats(): SimStats;
}
