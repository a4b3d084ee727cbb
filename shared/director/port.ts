/**
 * The Director port: what the controller needs from an SD-WAN director (DESIGN.md "zWAN
 * director: what the controller needs from its API"). Adapters: `zwan/` (one director per
 * site) and `meraki/` (the Dashboard). Domain code never sees HTTP; it sees these types.
 */
import type {
  HaState,
  LanInterface,
  RepointAction,
  Sample,
  SiteName,
  SiteRole,
  TunnelState,
} from '../domain/model.js';

/** A CPE as the director lists it: raw metadata, parsed by `shared/domain/inventory`. */
export interface DirectorCpe {
  id: string;
  name: string;
  tenantId: string;
  /** Onboarding metadata: CPE_TYPE, CPE_MODE, HA_STATE, HA_NAME, CPE_BR_TYPE, WANnn_PUB_IP, WANnn_PUB_PORT… */
  metadata: Record<string, string>;
  lans: LanInterface[];
  tunnels: { name: string; haTunnelIdentifier?: string; tunnelId: string; state: TunnelState }[];
  /** Runtime HA role the controller last set (zWAN `ha-state`); absent on branches. */
  haRole?: HaState;
  onboardedBy?: 'provisioning' | 'ssh';
  onboardedAt?: string;
  /**
   * Set when the director's entry for this CPE did not conform to its contract: the adapter left
   * out what it could not read, and inventory reports the CPE invalid (InvalidCpes) with this.
   */
  malformed?: { field: string; value: unknown; expected: string };
}

/** Options of {@link Director.listCpes}. */
export interface ListCpesOptions {
  /** Only this HA group's CPEs (concentrators and branches). @default every CPE of the tenant */
  haName?: string;
}

/** A director's own health and its site's role. */
export interface DirectorHealth {
  site: SiteName;
  reachable: boolean;
  healthy: boolean;
  role?: SiteRole;
  version?: string;
}

/** Result of one re-point: `changed: false` when the branch already used the target. */
export interface RepointResult {
  branchId: string;
  targetId: string;
  epoch: number;
  changed: boolean;
}

/** The group's stored decision as a {@link RepointFence} reads it. */
export interface FenceState {
  epoch: number;
  servingId?: string;
}

/**
 * The group's stored epoch and serving, read by a director that keeps no epoch of ours
 * (`fencing: 'none'`) right before and right after each write: a newer epoch stored before the
 * write refuses it (StaleEpochError), one stored meanwhile makes the director redo the write for
 * the newest serving.
 */
export interface RepointFence {
  read(): Promise<FenceState>;
}

/** A fenced write announced as in flight (see {@link WriteClaims}): one branch of it. */
export interface WriteClaim {
  tenantId: string;
  branchId: string;
  /** The group's epoch the write is made for. */
  epoch: number;
  /** Epoch ms after which the write can no longer land (nothing is sent after `until` less a margin). */
  until: number;
  /** Who claimed it (one id per claim). */
  writer: string;
}

/**
 * Fenced writes in flight, shared by every function and container (the state table). A director
 * that keeps no epoch of ours (Meraki) cannot refuse an older write that lands late: a swap
 * checked against the fence just before a newer epoch was stored may still land after the newer
 * change read the branch and found it right. So each such write (one PUT, or one action batch)
 * is claimed before its fences are read and released once it was answered for certain; a newer
 * change of a branch first waits out the older claims, and only then reads what to write.
 */
export interface WriteClaims {
  /**
   * Claim one write of these branches (each at its group's epoch) for `ttlMs`. `release` removes
   * the claim; a write whose outcome is unknown keeps it until `until`.
   */
  claim(
    tenantId: string,
    branches: readonly { branchId: string; epoch: number }[],
    ttlMs: number,
  ): Promise<{ release(): Promise<void> }>;
  /** The tenant's claims still live (`until` in the future). */
  live(tenantId: string): Promise<WriteClaim[]>;
}

/** Options of {@link Director.repoint}. */
export interface RepointOptions {
  /** Given by the fan-out to a director with `fencing: 'none'`; ignored by one that keeps epochs. */
  fence?: RepointFence;
}

/** A backup or restore job on a director. */
export interface DirectorJob {
  jobId: string;
  kind: 'backup' | 'restore';
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  progressPct: number;
  /** For a finished backup: every object written, with size and SHA-256 (hex). */
  manifest?: { key: string; bytes: number; sha256: string }[];
  error?: string;
}

/** Where a backup goes or a restore reads from. */
export interface S3Location {
  bucket: string;
  /** MSP configuration object prefix, e.g. `msp/DC/2026-11-21T12-00-00Z/`. */
  mspPrefix: string;
  /** ELK data prefix: `dcrepository/` or `drrepository/` (+ a per-backup folder). */
  elkPrefix: string;
}

/** What every director adapter provides: inventory, bulk health, HA role and re-point. */
export interface Director {
  readonly kind: 'zwan' | 'meraki';
  /** Which site's director this is (Meraki: the one cloud Dashboard reports as 'DC'). */
  readonly site: SiteName;
  /**
   * How `sampleHealth` answers. `snapshot` (the default, zWAN): one current sample per CPE per call;
   * the caller stamps it with its round's time, and a CPE left out of the answer is unreachable.
   * `series` (Meraki `uplinksLossAndLatency`): time-stamped points, several per target, lagged and
   * never repeated; each is applied at its own time in order, and a target left out has no data
   * (neither good nor bad). Each series point is measured by the branch itself, so a share of
   * series targets going DOWN together says nothing about the monitor's own view.
   */
  readonly sampling?: 'snapshot' | 'series';
  /**
   * Whether the director keeps the epochs it is given. `epoch` (the default, zWAN): `fence`
   * raises the group's epoch and older writes are refused from then on, so a fan-out lists the
   * group fresh after fencing. `none` (Meraki): the Dashboard keeps no epoch of ours, `fence` is a
   * no-op, a fan-out plans from the caller's listing but sends every branch's re-point with a
   * {@link RepointFence} (the director's fresh read decides changed or unchanged).
   */
  readonly fencing?: 'epoch' | 'none';
  /**
   * Every CPE of a tenant, with metadata, LANs and tunnels (all pages). With `haName`, the CPEs
   * of that HA group (HA_NAME, trimmed): a fan-out lists its own group, not the tenant. An adapter
   * may return more (Meraki: every network, since its hubs serve every group); callers find the
   * group in what they get.
   */
  listCpes(tenantId: string, options?: ListCpesOptions): Promise<DirectorCpe[]>;
  /** Liveness and loss/latency of many CPEs in one bulk call (chunked by the adapter). */
  sampleHealth(tenantId: string, cpeIds: readonly string[]): Promise<Sample[]>;
  /** The director's own health (never throws for unreachable: `reachable: false`). */
  health(): Promise<DirectorHealth>;
  /**
   * Raise the group's epoch on this director (a fence) and change nothing else: from then on it
   * refuses every call of an older epoch for the group. A fan-out fences first, then lists the
   * CPEs and plans from that listing. StaleEpochError when the director already has a newer epoch,
   * or has this epoch bound to another serving concentrator: an epoch is one decision (given
   * `servingId`, the director binds it; its re-points and HA_STATE ACTIVE at that epoch must be
   * for that concentrator), so a number reused after the store lost it (a table restore) is
   * refused instead of landing a second decision under the same epoch.
   */
  fence(tenantId: string, haName: string, epoch: number, servingId?: string): Promise<void>;
  /** Set a concentrator's runtime HA role (the virtual IP moves with it), fenced by `epoch`. */
  setHaState(tenantId: string, cpeId: string, state: HaState, epoch: number): Promise<void>;
  /**
   * Re-point one branch's tunnels to the target concentrator; idempotent, fenced by the epoch (by
   * the director, or through `options.fence` when it keeps none). RepointPendingError: submitted,
   * outcome not known yet (it may still apply); RepointNotReachedError: written, not reaching it.
   */
  repoint(action: RepointAction, options?: RepointOptions): Promise<RepointResult>;
  /**
   * Optional: re-point every branch of a group onto `targetId` in one call (zWAN's "Update Branch
   * to Active Node"), fenced by `epoch` and bound to `targetId` like {@link fence}. The director
   * answers per branch; a branch it could not move has an `error`. StaleEpochError (or
   * DirectorPassiveError) when the whole call is refused. A fan-out uses it for groups larger than
   * one wave of single re-points.
   */
  repointGroup?(request: GroupRepointRequest): Promise<GroupRepointOutcome[]>;
}

/** The request of {@link Director.repointGroup}. */
export interface GroupRepointRequest {
  tenantId: string;
  haName: string;
  targetId: string;
  epoch: number;
}

/** One branch's outcome of {@link Director.repointGroup}. */
export interface GroupRepointOutcome {
  branchId: string;
  changed: boolean;
  /** Why the branch (or one of its tunnels) was left where it was. */
  error?: string;
}

/** Options of a job start ({@link DrDirector.startBackup}, {@link DrDirector.startRestore}). */
export interface JobStartOptions {
  /**
   * Idempotency key (1–128 of `A-Za-z0-9._:-`): every start with the same token and location
   * returns the one job the first started; the same token with another location is refused.
   * Give the same token to every retry of one intended job (a workflow step), a new one for a
   * new job. @default a fresh token per call (the adapter's own retries of the call reuse it)
   */
  clientToken?: string;
}

/** The DR operations of a zWAN director (DESIGN.md "DR with Step Functions"). */
export interface DrDirector extends Director {
  setSiteRole(role: SiteRole): Promise<void>;
  startBackup(tenantScope: 'msp', target: S3Location, options?: JobStartOptions): Promise<DirectorJob>;
  startRestore(tenantScope: 'msp', source: S3Location, options?: JobStartOptions): Promise<DirectorJob>;
  getJob(jobId: string): Promise<DirectorJob>;
  /** Set the management URL the provisioning server hands to CPEs. */
  setManagementUrl(url: string): Promise<void>;
}
