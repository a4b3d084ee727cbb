/**
 * The controller's vocabulary as plain data (see DESIGN.md "Words"). Pure: no SDK, no HTTP.
 * Every module in shared/ and functions/ speaks these types.
 */

/** A site of the deployment. Each site has its own director and concentrators. */
export type SiteName = 'DC' | 'DR';
export const SITE_NAMES: readonly SiteName[] = ['DC', 'DR'];

/** A site's role (after a DC→DR switchover the DC site is PASSIVE until failback). */
export type SiteRole = 'ACTIVE' | 'PASSIVE';

/** A concentrator's configured HA role, from its onboarding metadata `HA_STATE`. */
export type HaState = 'ACTIVE' | 'PASSIVE';

/**
 * A concentrator's place in its group's failover order. The slot comes from the onboarding
 * metadata (`CPE_TYPE` + `HA_STATE`) and never changes at run time: the runtime HA role the
 * controller sets on the director is separate, so the order DC/ACTIVE first stays stable and
 * failback (preemption) has a well-defined target.
 */
export type CandidateSlot = 'DC/ACTIVE' | 'DC/PASSIVE' | 'DR/ACTIVE' | 'DR/PASSIVE';
/** Failover order: the first UP candidate of a group (skipping PASSIVE sites) serves. */
export const CANDIDATE_ORDER: readonly CandidateSlot[] = [
  'DC/ACTIVE',
  'DC/PASSIVE',
  'DR/ACTIVE',
  'DR/PASSIVE',
];

/** A tunnel's state as the director reports it. */
export type TunnelState = 'CREATED' | 'ESTABLISHED';

/** A public WAN endpoint from `WANnn_PUB_IP` / `WANnn_PUB_PORT` metadata. */
export interface WanEndpoint {
  /** Interface name, e.g. `WAN00`. */
  wan: string;
  publicIp: string;
  /** Undefined when the metadata gives an IP without a port. */
  publicPort?: number;
}

/** One IPsec tunnel of a CPE (`IPSEC00`, …). */
export interface Tunnel {
  /** Tunnel interface name, e.g. `IPSEC00`. */
  name: string;
  /** The HA tunnel identifier shared by a group's concentrators and branches for this tunnel. */
  haTunnelIdentifier: string;
  /** The tunnel ID (key). A branch's tunnel ID equals its current concentrator's for the identifier. */
  tunnelId: string;
  state: TunnelState;
}

/** A LAN interface with its subnet and, on concentrators, the HA virtual IP. */
export interface LanInterface {
  name: string;
  /** CIDR of the interface address, e.g. `172.7.0.1/24`. */
  cidr: string;
  virtualIp?: string;
}

/** A DC or DR hub CPE (`CPE_MODE=HA`, `CPE_TYPE=DC|DR`). */
export interface Concentrator {
  kind: 'concentrator';
  id: string;
  name: string;
  tenantId: string;
  haName: string;
  site: SiteName;
  haState: HaState;
  slot: CandidateSlot;
  wans: WanEndpoint[];
  lans: LanInterface[];
  tunnels: Tunnel[];
  /** How the CPE was onboarded; `ssh` ones need a reboot after a management-URL change. */
  onboardedBy?: 'provisioning' | 'ssh';
  /** ISO time of onboarding, when the director reports it. */
  onboardedAt?: string;
}

/** A spoke CPE of an HA group (`CPE_BR_TYPE=HA`). */
export interface Branch {
  kind: 'branch';
  id: string;
  name: string;
  tenantId: string;
  haName: string;
  wans: WanEndpoint[];
  lans: LanInterface[];
  tunnels: Tunnel[];
  onboardedBy?: 'provisioning' | 'ssh';
}

/** Every CPE of a tenant sharing one `HA_NAME`. */
export interface HaGroup {
  tenantId: string;
  haName: string;
  /** `${tenantId}#${haName}`: the group's key everywhere (store, logs, metrics). */
  key: string;
  /** Concentrators in CANDIDATE_ORDER; at most one per slot. */
  candidates: Concentrator[];
  branches: Branch[];
}

/** A tenant (an MSP customer; a Meraki organization). */
export interface Tenant {
  id: string;
  name: string;
  groups: HaGroup[];
}

/** The parsed director inventory, with the CPEs left out and why. */
export interface Inventory {
  tenants: Tenant[];
  /** CPEs whose metadata is wrong: reported (log + metric), left out, never fatal. */
  invalid: {
    cpeId: string;
    tenantId: string;
    field: string;
    value: unknown;
    expected: string;
    message: string;
  }[];
}

/** Build a group's key. */
export function groupKey(tenantId: string, haName: string): string {
  return `${tenantId}#${haName}`;
}

// ---------------------------------------------------------------------------------------------
// Health

/** One observation of a target (a concentrator, a director, a Meraki branch→hub path). */
export interface Sample {
  /** Target id: a CPE id, `director:DC`, or for Meraki `networkId→hubName`. */
  target: string;
  /** Epoch milliseconds. */
  at: number;
  reachable: boolean;
  /** Loss in percent (0–100); null = no data (never "good"). */
  lossPct: number | null;
  latencyMs: number | null;
}

/** A target's health. UNKNOWN (never seen, or no data yet) counts as not UP. */
export type Health = 'UNKNOWN' | 'UP' | 'DOWN';

/** Hysteresis thresholds (DESIGN.md "Health and election, precisely"). */
export interface HealthConfig {
  /** A sample with loss ≥ this is bad. @default 30 */
  lossThresholdPct: number;
  /** When set, a sample with latency ≥ this is bad. @default undefined */
  latencyThresholdMs?: number;
  /** DOWN after this many bad samples in a row. @default 3 */
  failAfter: number;
  /** UP only after this many seconds of good samples with no bad one between. @default 300 */
  recoverAfterSec: number;
}

/** Defaults from DESIGN.md: loss ≥ 30 %, 3 bad in a row, 5 minutes clean. */
export const DEFAULT_HEALTH_CONFIG: HealthConfig = {
  lossThresholdPct: 30,
  failAfter: 3,
  recoverAfterSec: 300,
};

/** A change of a target's health. */
export interface Transition {
  target: string;
  from: Health;
  to: Health;
  /** Epoch ms of the sample that caused it. */
  at: number;
  /** Human-readable why, e.g. "3 bad samples in a row (loss 100%)". */
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Election

/** Alarms the election raises (DESIGN.md safety rules). */
export type AlarmKind = 'ALL_DOWN' | 'MONITOR_BLIND';

/** An operator's pin of a group onto one concentrator (maintenance). */
export interface Pin {
  concentratorId: string;
  reason: string;
  by?: string;
  /** Epoch ms; absent = until unpinned. */
  expiresAt?: number;
  pinnedAt: number;
}

/** A re-point action: make one branch use the serving concentrator, fenced by the epoch. */
export interface RepointAction {
  groupKey: string;
  tenantId: string;
  branchId: string;
  /** The concentrator the branch must use. */
  targetId: string;
  /** What the branch used before (undefined = unknown / none established). */
  fromId?: string;
  epoch: number;
  /** Per HA tunnel identifier, the tunnel ID the branch's tunnel must get. */
  tunnels: { haTunnelIdentifier: string; tunnelId: string }[];
}
