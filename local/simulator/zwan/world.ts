/**
 * The simulated world behind both zWAN directors. ONE physical world: tenants' CPEs with their
 * liveness, WAN figures and power, runtime HA roles, where each branch's tunnels actually point,
 * and which site's director manages each branch (`managedBy`). Per site: what that director
 * KNOWS, its configuration ({@link DirectorConfig}: tenants, CPEs with metadata, LANs, tunnel
 * definitions; what a backup exports and a restore replaces), its own per-group epoch fence and
 * its role. No HTTP here: the server maps these operations to the contract. Lookups are O(1)
 * (maps by id and by group).
 *
 * A director lists, fences and writes only what its configuration holds; a PASSIVE director
 * refuses every write (409 DIRECTOR_PASSIVE), and a director refuses to re-point a branch it
 * does not manage (409 NOT_MANAGED; per branch in a group re-point). Provisioning-onboarded
 * branches follow the management URL ({@link SimWorld.setManagementUrl}); SSH-onboarded ones
 * move to the director the provisioning server names only when rebooted ({@link SimWorld.reboot}).
 *
 * Tunnel states are derived, not stored: a branch's tunnel is ESTABLISHED when the branch and
 * the concentrator owning that tunnel ID (same group, same HA identifier) are both alive; a
 * concentrator's tunnel is ESTABLISHED when it is alive and at least one alive branch of its
 * group uses that tunnel ID.
 */
import type { HaState, SiteName, SiteRole, TunnelState } from '../../../shared/domain/model.js';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import type {
  WireCpe,
  WireCpeHealth,
  WireGroupUpdateResult,
  WireHaStateResult,
  WireRepointResult,
  WireTunnel,
  WireTunnelAssignment,
  WireWanHealth,
} from '../../../shared/director/zwan/wire.js';
import { parseTopologyCpe, type Topology, type TopologyCpe, type TopologyCpeInput } from '../topology.js';
import { MSP_CONFIG_FORMAT, parseMspConfig, type MspConfig } from './msp-config.js';

/** An error the server turns into an HTTP answer `{ error: { code, message, ...extra } }`. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
  }
}

/** A CPE in the simulated world. */
export interface SimCpe {
  id: string;
  name: string;
  tenantId: string;
  site?: SiteName;
  metadata: Record<string, string>;
  wans: { name: string; publicIp?: string }[];
  lans: { name: string; cidr: string; virtualIp?: string }[];
  tunnels: { name: string; haTunnelIdentifier?: string; tunnelId: string }[];
  haRole?: HaState;
  onboardedBy: 'provisioning' | 'ssh';
  onboardedAt?: string;
  /** The site whose director manages it: the other director's re-points of it are refused. */
  managedBy: SiteName;
  /** Powered and connected (a site outage also takes it down, see `alive`). */
  up: boolean;
  lossPct: number;
  latencyMs: number;
  /** Per-WAN overrides of loss and latency. */
  wanFigures: Map<string, { lossPct: number; latencyMs: number }>;
  /** Epoch ms when it was last alive (set when it goes down). */
  lastSeenAt?: number;
}

/** How a site's director answers. */
export type DirectorMode = 'ok' | 'error5xx' | 'hang' | 'slow' | 'down';

/** A site's director and power. */
export interface SimSite {
  role: SiteRole;
  managementUrl: string;
  version: string;
  mode: DirectorMode;
  /** Extra delay of every answer in `slow` mode. */
  delayMs: number;
  /** Site power: false takes the site's CPEs down too (siteDown). */
  powered: boolean;
}

/** One CPE as a site's director knows it: its configuration, no runtime state. */
export interface DirectorCpeConfig {
  id: string;
  name: string;
  tenantId: string;
  metadata: Record<string, string>;
  wans: { name: string; publicIp?: string }[];
  lans: { name: string; cidr: string; virtualIp?: string }[];
  /** Tunnel definitions. A branch's listed tunnel ID is where the branch really points now. */
  tunnels: { name: string; haTunnelIdentifier?: string; tunnelId: string }[];
  onboardedBy: 'provisioning' | 'ssh';
  onboardedAt?: string;
}

const isConcentratorType = (t: string | undefined): t is SiteName => t === 'DC' || t === 'DR';
const SITES: readonly SiteName[] = ['DC', 'DR'];

/**
 * What one site's director knows (its MSP configuration): tenants with their CPE ids in listing
 * order, the CPEs, and an index of them by HA group. Replaced whole by a restore.
 */
export class DirectorConfig {
  readonly tenants = new Map<string, { id: string; name: string; cpeIds: string[] }>();
  readonly cpes = new Map<string, DirectorCpeConfig>();
  /** Group key (`tenant#HA_NAME`) → ids of the CPEs of that group. */
  private readonly groups = new Map<string, Set<string>>();

  /** Know a tenant (no-op when known). */
  addTenant(t: { id: string; name: string }): void {
    if (!this.tenants.has(t.id)) this.tenants.set(t.id, { id: t.id, name: t.name, cpeIds: [] });
  }

  /** Know a CPE (replacing what was known of the same id). Its tenant must be known. */
  add(c: DirectorCpeConfig): void {
    if (this.cpes.has(c.id)) this.delete(c.id);
    const tenant = this.tenants.get(c.tenantId);
    if (!tenant)
      throw new NotFoundError(`tenant ${JSON.stringify(c.tenantId)} of CPE ${c.id} is not configured`);
    this.cpes.set(c.id, c);
    tenant.cpeIds.push(c.id);
    const key = groupOf(c);
    if (key) {
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = new Set()));
      g.add(c.id);
    }
  }

  /** Forget a CPE (no-op when unknown). */
  delete(id: string): void {
    const c = this.cpes.get(id);
    if (!c) return;
    this.cpes.delete(id);
    const tenant = this.tenants.get(c.tenantId);
    if (tenant) tenant.cpeIds.splice(tenant.cpeIds.indexOf(id), 1);
    const key = groupOf(c);
    if (key) this.groups.get(key)?.delete(id);
  }

  /** Ids of the CPEs of a group (empty when the director knows none). */
  group(key: string): ReadonlySet<string> {
    return this.groups.get(key) ?? new Set();
  }
}

/** Deep copy of a CPE's configuration part. */
function configOf(c: DirectorCpeConfig): DirectorCpeConfig {
  const out: DirectorCpeConfig = {
    id: c.id,
    name: c.name,
    tenantId: c.tenantId,
    metadata: { ...c.metadata },
    wans: c.wans.map((w) => ({ ...w })),
    lans: c.lans.map((l) => ({ ...l })),
    tunnels: c.tunnels.map((t) => ({ ...t })),
    onboardedBy: c.onboardedBy,
  };
  if (c.onboardedAt) out.onboardedAt = c.onboardedAt;
  return out;
}

/** Build the group key the way the domain does (`tenant#HA_NAME`). */
function groupOf(c: { tenantId: string; metadata: Record<string, string> }): string | undefined {
  const haName = c.metadata.HA_NAME?.trim();
  return haName ? `${c.tenantId}#${haName}` : undefined;
}

/** Whether `c` has a tunnel with this HA identifier and tunnel ID. */
function hasTunnel(c: SimCpe, ident: string | undefined, tunnelId: string): boolean {
  for (const t of c.tunnels) if (t.haTunnelIdentifier === ident && t.tunnelId === tunnelId) return true;
  return false;
}

/** `c`'s tunnel named `name`, if any. */
function tunnelNamed(c: SimCpe, name: string): SimCpe['tunnels'][number] | undefined {
  for (const t of c.tunnels) if (t.name === name) return t;
  return undefined;
}

/** The simulated world. Create with {@link createWorld}. */
export class SimWorld {
  /** Every tenant of the physical world, with its CPEs' ids. */
  readonly tenants = new Map<string, { id: string; name: string; cpeIds: string[] }>();
  /** The physical CPEs (what exists, whichever director knows it). */
  readonly cpes = new Map<string, SimCpe>();
  readonly sites: Record<SiteName, SimSite>;
  /**
   * What each site's director knows (its MSP configuration). At start both hold the whole
   * topology, as if a previous drill had restored DC's configuration into DR.
   */
  readonly configs: Record<SiteName, DirectorConfig> = { DC: new DirectorConfig(), DR: new DirectorConfig() };
  /** The site whose management URL the provisioning server hands out now (last setManagementUrl). */
  provisioningSite: SiteName = 'DC';
  /**
   * Highest epoch each site's director has applied or been fenced with, per group key. Each
   * director keeps its own (the contract): the DC director knowing epoch 7 says nothing to DR's.
   */
  readonly epochs: Record<SiteName, Map<string, number>> = { DC: new Map(), DR: new Map() };
  /**
   * The concentrator each site's director was fenced for at the group's highest epoch (a fence
   * that named its serving, or the target of the first write at that epoch). An epoch is one
   * decision: a write or fence at that same epoch for another concentrator is refused (409), so
   * an epoch number reused for another decision (a table restored to before it) cannot land.
   */
  readonly boundServing: Record<SiteName, Map<string, string>> = { DC: new Map(), DR: new Map() };
  /** Group key → ids of its concentrators and of its branches (physical). */
  private readonly groups = new Map<string, { concentrators: Set<string>; branches: Set<string> }>();
  /** Re-point calls still to fail with 503 (failNextRepoints). */
  failRepoints = 0;
  /** Job starts still to create their job and then never answer (hangNextJobStarts). */
  hangJobStarts = 0;
  /**
   * Broken standby tunnels (`<branchId>→<concentratorId>`, breakTunnel): once that branch is
   * re-pointed onto that concentrator, its tunnels stay CREATED (never ESTABLISHED).
   */
  readonly brokenTunnels = new Set<string>();
  /**
   * Client tokens of job starts, per site (`<site>/<token>`): the request each started (kind and
   * location, as a canonical string) and its job. A director keeps them as long as its jobs.
   */
  readonly jobTokens = new Map<string, { request: string; jobId: string }>();

  constructor(
    topology: Topology,
    readonly now: () => number = Date.now,
  ) {
    const site = (s: SiteName, defaultRole: SiteRole): SimSite => ({
      role: topology.sites[s]?.role ?? defaultRole,
      managementUrl:
        topology.sites[s]?.managementUrl ?? `https://director-${s.toLowerCase()}.example.net:7081`,
      version: topology.sites[s]?.version ?? 'zwan-sim 1.0',
      mode: 'ok',
      delayMs: 0,
      powered: true,
    });
    this.sites = { DC: site('DC', 'ACTIVE'), DR: site('DR', 'PASSIVE') };
    for (const t of topology.tenants) {
      this.tenants.set(t.id, { id: t.id, name: t.name, cpeIds: [] });
      for (const s of SITES) this.configs[s].addTenant(t);
    }
    for (const c of topology.cpes) this.addCpe(c);
  }

  // ------------------------------------------------------------------ membership

  /**
   * Add (onboard) a CPE: it exists in the world and the `directors` know it (default both, as if
   * the last drill had already carried it over; `['DC']`: onboarded at DC since the last backup).
   */
  addCpe(input: TopologyCpe | TopologyCpeInput, options: { directors?: readonly SiteName[] } = {}): SimCpe {
    const c = parseTopologyCpe(input);
    const tenant = this.tenants.get(c.tenantId);
    if (!tenant)
      throw new NotFoundError(`tenant ${JSON.stringify(c.tenantId)} of CPE ${c.id} does not exist`);
    if (this.cpes.has(c.id)) {
      throw new ValidationError('cpe', [
        { path: 'id', value: c.id, expected: 'an id not used by another CPE' },
      ]);
    }
    const type = c.metadata.CPE_TYPE?.trim();
    const concentrator = isConcentratorType(type);
    const wans =
      c.wans ??
      (() => {
        const fromMeta = Object.entries(c.metadata)
          .map(([k, v]) => [/^(WAN\d{2})_PUB_IP$/.exec(k)?.[1], v] as const)
          .filter((e): e is readonly [string, string] => e[0] !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([wan, publicIp]) => ({ name: wan, publicIp }));
        return fromMeta.length > 0 ? fromMeta : [{ name: 'WAN00' }];
      })();
    const haState = c.metadata.HA_STATE?.trim();
    const cpe: SimCpe = {
      id: c.id,
      name: c.name,
      tenantId: c.tenantId,
      metadata: { ...c.metadata },
      wans,
      lans: c.lans.map((l) => ({ ...l })),
      tunnels: c.tunnels.map((t) => ({ ...t })),
      onboardedBy: c.onboardedBy,
      managedBy: c.managedBy ?? 'DC',
      up: c.up,
      lossPct: c.lossPct,
      latencyMs: c.latencyMs,
      wanFigures: new Map(),
    };
    const site = c.site ?? (concentrator ? type : undefined);
    if (site) cpe.site = site;
    const role =
      c.haRole ?? (concentrator && (haState === 'ACTIVE' || haState === 'PASSIVE') ? haState : undefined);
    if (role) cpe.haRole = role;
    if (c.onboardedAt) cpe.onboardedAt = c.onboardedAt;
    this.cpes.set(cpe.id, cpe);
    tenant.cpeIds.push(cpe.id);
    const key = groupOf(cpe);
    if (key) {
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = { concentrators: new Set(), branches: new Set() }));
      (concentrator ? g.concentrators : g.branches).add(cpe.id);
    }
    for (const s of options.directors ?? SITES) {
      this.configs[s].addTenant(tenant);
      this.configs[s].add(configOf(cpe));
    }
    return cpe;
  }

  /**
   * Delete a CPE from the `directors`' configurations (default both). Deleted from both by
   * default, it is gone from the world too (hardware removed); a director restored from a backup
   * taken before still lists it, as a CPE that never answers.
   */
  deleteCpe(id: string, options: { directors?: readonly SiteName[] } = {}): void {
    if (options.directors) {
      for (const s of options.directors) {
        if (!this.configs[s].cpes.has(id)) {
          throw new NotFoundError(`CPE ${JSON.stringify(id)} is not configured on the ${s} director`);
        }
        this.configs[s].delete(id);
      }
      return;
    }
    const cpe = this.mustGet(id);
    for (const s of SITES) this.configs[s].delete(id);
    this.cpes.delete(id);
    const tenant = this.tenants.get(cpe.tenantId);
    if (tenant) tenant.cpeIds.splice(tenant.cpeIds.indexOf(id), 1);
    const key = groupOf(cpe);
    const g = key ? this.groups.get(key) : undefined;
    g?.concentrators.delete(id);
    g?.branches.delete(id);
  }

  /** A CPE by id, or NotFoundError. */
  mustGet(id: string): SimCpe {
    const cpe = this.cpes.get(id);
    if (!cpe) throw new NotFoundError(`CPE ${JSON.stringify(id)} does not exist in the simulator`);
    return cpe;
  }

  isConcentrator(c: { metadata: Record<string, string> }): boolean {
    return isConcentratorType(c.metadata.CPE_TYPE?.trim());
  }

  /** Alive = up and its site powered. */
  alive(c: SimCpe): boolean {
    return c.up && !(c.site && !this.sites[c.site].powered);
  }

  /** Mark a CPE up or down (remembering when it was last seen). */
  setUp(id: string, up: boolean): void {
    const cpe = this.mustGet(id);
    if (cpe.up && !up && this.alive(cpe)) cpe.lastSeenAt = this.now();
    cpe.up = up;
  }

  /** Power a site on or off (its CPEs go with it). */
  setSitePower(site: SiteName, powered: boolean): void {
    if (!powered && this.sites[site].powered) {
      for (const c of this.cpes.values()) if (c.site === site && this.alive(c)) c.lastSeenAt = this.now();
    }
    this.sites[site].powered = powered;
  }

  // ------------------------------------------------------------------ management

  /**
   * The provisioning server now hands out `url`, set on `site`'s director: every
   * provisioning-onboarded CPE follows it and is managed by `site` from now on; SSH-onboarded
   * ones keep their director until rebooted. Returns the ids that changed director.
   */
  setManagementUrl(site: SiteName, url: string): string[] {
    this.sites[site].managementUrl = url;
    this.provisioningSite = site;
    const moved: string[] = [];
    for (const c of this.cpes.values()) {
      if (c.onboardedBy === 'provisioning' && c.managedBy !== site) {
        c.managedBy = site;
        moved.push(c.id);
      }
    }
    return moved;
  }

  /**
   * Reboot CPEs (default: every SSH-onboarded one): each comes back managed by the director whose
   * management URL the provisioning server hands out now. Returns the ids rebooted.
   */
  reboot(ids?: readonly string[]): string[] {
    const cpes =
      ids === undefined
        ? [...this.cpes.values()].filter((c) => c.onboardedBy === 'ssh')
        : ids.map((id) => this.mustGet(id));
    for (const c of cpes) c.managedBy = this.provisioningSite;
    return cpes.map((c) => c.id);
  }

  // ------------------------------------------------------------------ configuration

  /** `site`'s director configuration as its MSP backup exports it (a deep copy, JSON-ready). */
  exportConfig(site: SiteName): MspConfig {
    const config = this.configs[site];
    return {
      format: MSP_CONFIG_FORMAT,
      site,
      exportedAt: new Date(this.now()).toISOString(),
      tenants: [...config.tenants.values()].map((t) => ({
        id: t.id,
        name: t.name,
        cpes: t.cpeIds.map((id) => {
          const known = this.knownView(config.cpes.get(id) as DirectorCpeConfig);
          const { tenantId: _tenant, ...cpe } = known;
          return cpe;
        }),
      })),
    };
  }

  /**
   * Replace `site`'s director configuration with an export (a restore). Validated first: an
   * invalid export throws ValidationError and changes nothing.
   */
  importConfig(site: SiteName, input: unknown): void {
    const parsed = parseMspConfig(input, `MSP configuration restored into the ${site} director`);
    const next = new DirectorConfig();
    for (const t of parsed.tenants) {
      next.addTenant(t);
      for (const c of t.cpes) next.add(configOf({ ...c, tenantId: t.id }));
    }
    this.configs[site] = next;
  }

  /** What a director knows of a CPE, with a branch's tunnel IDs where the branch really points. */
  private knownView(cfg: DirectorCpeConfig): DirectorCpeConfig {
    const out = configOf(cfg);
    const c = this.cpes.get(cfg.id);
    if (c) {
      for (const t of out.tunnels) {
        const real = c.tunnels.find((x) => x.name === t.name);
        if (real) t.tunnelId = real.tunnelId;
      }
    }
    return out;
  }

  private group(c: SimCpe) {
    const key = groupOf(c);
    return key ? this.groups.get(key) : undefined;
  }

  /** The concentrator of `branch`'s group that owns tunnel ID `tunnelId` for `ident`. */
  private ownerOf(branch: SimCpe, ident: string | undefined, tunnelId: string): SimCpe | undefined {
    for (const id of this.group(branch)?.concentrators ?? []) {
      const c = this.cpes.get(id);
      if (c && hasTunnel(c, ident, tunnelId)) return c;
    }
    return undefined;
  }

  /** Whether the tunnel from `branchId` to `concentratorId` is broken (breakTunnel). */
  private broken(branchId: string, concentratorId: string): boolean {
    // Checked for every tunnel of every listing: no key built while none is broken.
    return this.brokenTunnels.size > 0 && this.brokenTunnels.has(`${branchId}→${concentratorId}`);
  }

  /** The current state of one of `cpe`'s tunnels (see the module comment). */
  tunnelState(cpe: SimCpe, t: SimCpe['tunnels'][number]): TunnelState {
    if (!this.alive(cpe)) return 'CREATED';
    if (!this.isConcentrator(cpe)) {
      const owner = this.ownerOf(cpe, t.haTunnelIdentifier, t.tunnelId);
      return owner && this.alive(owner) && !this.broken(cpe.id, owner.id) ? 'ESTABLISHED' : 'CREATED';
    }
    for (const id of this.group(cpe)?.branches ?? []) {
      const b = this.cpes.get(id);
      if (
        b &&
        this.alive(b) &&
        hasTunnel(b, t.haTunnelIdentifier, t.tunnelId) &&
        !this.broken(b.id, cpe.id)
      ) {
        return 'ESTABLISHED';
      }
    }
    return 'CREATED';
  }

  /** Which concentrator a branch's tunnels point at now (first tunnel), if any. */
  currentTarget(branchId: string): string | undefined {
    const b = this.mustGet(branchId);
    const t = b.tunnels[0];
    return t ? this.ownerOf(b, t.haTunnelIdentifier, t.tunnelId)?.id : undefined;
  }

  // ------------------------------------------------------------------ contract views

  private wireTunnels(c: SimCpe): WireTunnel[] {
    return c.tunnels.map((t) => ({ ...t, state: this.tunnelState(c, t) }));
  }

  /** A physical CPE as a director that knows it exactly would show it (the `/_sim/state` view). */
  toWire(c: SimCpe): WireCpe {
    return this.wire(configOf(c), c);
  }

  /**
   * A CPE as `cfg` (a director's configuration) describes it, with the runtime state of its
   * physical counterpart `c` when there is one (none: every tunnel CREATED, no HA role).
   */
  private wire(cfg: DirectorCpeConfig, c: SimCpe | undefined): WireCpe {
    const concentrator = this.isConcentrator(cfg);
    // The LAN virtual IP is shown on the concentrator that holds it (runtime ACTIVE).
    const holdsVip = concentrator && c?.haRole === 'ACTIVE';
    const wire: WireCpe = {
      id: cfg.id,
      name: cfg.name,
      tenantId: cfg.tenantId,
      metadata: { ...cfg.metadata },
      lans: cfg.lans.map((l) =>
        l.virtualIp && holdsVip
          ? { name: l.name, cidr: l.cidr, virtualIp: l.virtualIp }
          : { name: l.name, cidr: l.cidr },
      ),
      tunnels: cfg.tunnels.map((t) => {
        const real = c ? tunnelNamed(c, t.name) : undefined;
        return {
          ...t,
          tunnelId: real?.tunnelId ?? t.tunnelId,
          state: c && real ? this.tunnelState(c, real) : 'CREATED',
        };
      }),
      onboardedBy: cfg.onboardedBy,
    };
    if (concentrator && c?.haRole) wire.haRole = c.haRole;
    if (cfg.onboardedAt) wire.onboardedAt = cfg.onboardedAt;
    return wire;
  }

  /** The physical counterpart of a configured CPE (same id and tenant), if it exists. */
  private physical(cfg: DirectorCpeConfig): SimCpe | undefined {
    const c = this.cpes.get(cfg.id);
    return c && c.tenantId === cfg.tenantId ? c : undefined;
  }

  /** The tenant as `site`'s director knows it, or 404. */
  tenant(site: SiteName, tenantId: string) {
    const t = this.configs[site].tenants.get(tenantId);
    if (!t)
      throw new SimHttpError(404, 'NOT_FOUND', `tenant ${tenantId} does not exist on the ${site} director`);
    return t;
  }

  /** A tenant's CPE as `site`'s director knows it, or 404. */
  private configured(site: SiteName, tenantId: string, cpeId: string): DirectorCpeConfig {
    this.tenant(site, tenantId);
    const c = this.configs[site].cpes.get(cpeId);
    if (!c || c.tenantId !== tenantId) {
      throw new SimHttpError(
        404,
        'NOT_FOUND',
        `CPE ${cpeId} does not exist in tenant ${tenantId} on the ${site} director`,
      );
    }
    return c;
  }

  /** A tenant's CPE `site`'s director knows and can act on (it exists in the world), or 404. */
  tenantCpe(site: SiteName, tenantId: string, cpeId: string): SimCpe {
    const c = this.physical(this.configured(site, tenantId, cpeId));
    if (!c) {
      throw new SimHttpError(
        404,
        'NOT_FOUND',
        `CPE ${cpeId} of tenant ${tenantId} is configured on the ${site} director but does not exist any more`,
      );
    }
    return c;
  }

  /** One CPE as `site`'s director lists it, or 404. */
  getCpe(site: SiteName, tenantId: string, cpeId: string): WireCpe {
    const cfg = this.configured(site, tenantId, cpeId);
    return this.wire(cfg, this.physical(cfg));
  }

  /** A page of a tenant's CPEs as `site`'s director knows them (offset cursor), or of one HA group's (HA_NAME, trimmed). */
  listCpes(
    site: SiteName,
    tenantId: string,
    offset: number,
    limit: number,
    haName?: string,
  ): { items: WireCpe[]; next?: number } {
    const config = this.configs[site];
    const all = this.tenant(site, tenantId).cpeIds;
    const want = haName?.trim();
    const ids =
      want === undefined ? all : all.filter((id) => config.cpes.get(id)?.metadata.HA_NAME?.trim() === want);
    const items = ids.slice(offset, offset + limit).map((id) => {
      const cfg = config.cpes.get(id) as DirectorCpeConfig;
      return this.wire(cfg, this.physical(cfg));
    });
    return offset + limit < ids.length ? { items, next: offset + limit } : { items };
  }

  /**
   * Liveness and WAN figures as `site`'s director reports them: ids it does not know are
   * returned apart; a known CPE that no longer exists is not alive.
   */
  health(
    site: SiteName,
    tenantId: string,
    ids: readonly string[],
  ): { results: WireCpeHealth[]; unknownIds: string[] } {
    this.tenant(site, tenantId);
    const config = this.configs[site];
    const results: WireCpeHealth[] = [];
    const unknownIds: string[] = [];
    const nowIso = new Date(this.now()).toISOString();
    for (const id of ids) {
      const cfg = config.cpes.get(id);
      if (!cfg || cfg.tenantId !== tenantId) {
        unknownIds.push(id);
        continue;
      }
      const c = this.physical(cfg);
      if (!c) {
        const wans = cfg.wans.map((w) => ({
          name: w.name,
          ...(w.publicIp ? { publicIp: w.publicIp } : {}),
          lossPct: 100,
        }));
        results.push({ cpeId: id, alive: false, wans });
        continue;
      }
      const alive = this.alive(c);
      const wans = c.wans.map((w) => {
        const f = c.wanFigures.get(w.name) ?? c;
        // Field by field, in the answer's order (name, publicIp, lossPct, latencyMs): two
        // spreads per WAN of every health answer cost more than the rest of it.
        const wan = { name: w.name } as WireWanHealth;
        if (w.publicIp) wan.publicIp = w.publicIp;
        if (!alive || f.lossPct >= 100) wan.lossPct = 100;
        else {
          wan.lossPct = f.lossPct;
          wan.latencyMs = f.latencyMs;
        }
        return wan;
      });
      const r: WireCpeHealth = { cpeId: id, alive, wans };
      if (alive) r.lastSeenAt = nowIso;
      else if (c.lastSeenAt !== undefined) r.lastSeenAt = new Date(c.lastSeenAt).toISOString();
      results.push(r);
    }
    return { results, unknownIds };
  }

  /** SSH-onboarded CPEs (every tenant) as `site`'s director knows them. */
  sshOnboarded(site: SiteName): DirectorCpeConfig[] {
    return [...this.configs[site].cpes.values()].filter((c) => c.onboardedBy === 'ssh');
  }

  /** 409 DIRECTOR_PASSIVE when `site`'s director is PASSIVE: it refuses every write. */
  private refuseIfPassive(site: SiteName, what: string): void {
    if (this.sites[site].role !== 'PASSIVE') return;
    throw new SimHttpError(
      409,
      'DIRECTOR_PASSIVE',
      `the ${site} director is PASSIVE and refuses writes: ${what} was not applied`,
      { site },
    );
  }

  /**
   * Check the epoch against `site`'s highest for the group; raise it when newer. 409 when older,
   * or when it is the same epoch for another concentrator than the one it is bound to
   * (`serving`: the fence's serving, a re-point's target, HA_STATE ACTIVE's concentrator).
   */
  private fence(site: SiteName, groupKey: string, haName: string, epoch: number, serving?: string): void {
    const epochs = this.epochs[site];
    const bound = this.boundServing[site];
    const current = epochs.get(groupKey) ?? 0;
    if (epoch < current) {
      throw new SimHttpError(
        409,
        'STALE_EPOCH',
        `epoch ${epoch} is older than ${current}, already applied to HA group ${haName}`,
        { haName, currentEpoch: current, requestedEpoch: epoch },
      );
    }
    const boundTo = epoch === current ? bound.get(groupKey) : undefined;
    if (serving !== undefined && boundTo !== undefined && boundTo !== serving) {
      throw new SimHttpError(
        409,
        'STALE_EPOCH',
        `epoch ${epoch} of HA group ${haName} was already decided for ${boundTo}, not ${serving}`,
        { haName, currentEpoch: current, requestedEpoch: epoch, boundServingId: boundTo },
      );
    }
    if (epoch > current) bound.delete(groupKey);
    epochs.set(groupKey, epoch);
    if (serving !== undefined && !bound.has(groupKey)) bound.set(groupKey, serving);
  }

  /** The group `site`'s director knows, or 404. */
  private knownGroup(
    site: SiteName,
    tenantId: string,
    haName: string,
  ): { key: string; ids: ReadonlySet<string> } {
    this.tenant(site, tenantId);
    const key = `${tenantId}#${haName}`;
    const ids = this.configs[site].group(key);
    if (ids.size === 0) {
      throw new SimHttpError(
        404,
        'NOT_FOUND',
        `HA group ${haName} does not exist in tenant ${tenantId} on the ${site} director`,
      );
    }
    return { key, ids };
  }

  /** Raise a group's epoch on `site`'s director (fenceHaGroup; a PASSIVE one too); 404 for a group it does not know. */
  fenceGroup(
    site: SiteName,
    tenantId: string,
    haName: string,
    epoch: number,
    servingId?: string,
  ): { haName: string; epoch: number } {
    const { key } = this.knownGroup(site, tenantId, haName);
    this.fence(site, key, haName, epoch, servingId);
    return { haName, epoch };
  }

  private groupKeyOf(c: SimCpe): { key: string; haName: string } {
    const key = groupOf(c);
    if (!key) throw new SimHttpError(400, 'NO_HA_GROUP', `CPE ${c.id} has no HA_NAME metadata`);
    return { key, haName: c.metadata.HA_NAME?.trim() ?? '' };
  }

  /** 409 NOT_MANAGED when `branch` is managed by the other site's director. */
  private notManaged(site: SiteName, branch: SimCpe): SimHttpError | undefined {
    if (branch.managedBy === site) return undefined;
    return new SimHttpError(
      409,
      'NOT_MANAGED',
      `branch ${branch.id} is managed by the ${branch.managedBy} director, not by the ${site} director` +
        (branch.onboardedBy === 'ssh' ? ' (SSH-onboarded: it moves when rebooted)' : ''),
      { branchId: branch.id, managedBy: branch.managedBy },
    );
  }

  /** Set a concentrator's runtime HA state; ACTIVE demotes its group's others at the same site. */
  setHaState(
    site: SiteName,
    tenantId: string,
    cpeId: string,
    state: HaState,
    epoch: number,
  ): WireHaStateResult {
    this.refuseIfPassive(site, `HA_STATE ${state} of ${cpeId}`);
    const c = this.tenantCpe(site, tenantId, cpeId);
    if (!this.isConcentrator(c)) {
      throw new SimHttpError(
        400,
        'NOT_A_CONCENTRATOR',
        `CPE ${cpeId} is not a concentrator (CPE_TYPE DC or DR)`,
      );
    }
    const { key, haName } = this.groupKeyOf(c);
    this.fence(site, key, haName, epoch, state === 'ACTIVE' ? cpeId : undefined);
    let changed = c.haRole !== state;
    c.haRole = state;
    if (state === 'ACTIVE') {
      for (const id of this.groups.get(key)?.concentrators ?? []) {
        const peer = this.cpes.get(id);
        if (peer && peer !== c && peer.site === c.site && peer.haRole === 'ACTIVE') {
          peer.haRole = 'PASSIVE';
          changed = true;
        }
      }
    }
    return { cpeId, haName, state, epoch, changed };
  }

  /** Validate and apply a re-point of one branch. Bad input changes nothing. */
  repoint(
    site: SiteName,
    tenantId: string,
    branchId: string,
    targetId: string,
    epoch: number,
    tunnels: WireTunnelAssignment[],
  ) {
    this.refuseIfPassive(site, `the re-point of branch ${branchId}`);
    const branch = this.tenantCpe(site, tenantId, branchId);
    if (this.isConcentrator(branch)) {
      throw new SimHttpError(400, 'NOT_A_BRANCH', `CPE ${branchId} is a concentrator, not a branch`);
    }
    const target = this.tenantCpe(site, tenantId, targetId);
    const { key, haName } = this.groupKeyOf(branch);
    if (!this.isConcentrator(target) || groupOf(target) !== key) {
      throw new SimHttpError(
        400,
        'WRONG_TARGET',
        `target ${targetId} is not a concentrator of HA group ${haName} (branch ${branchId})`,
      );
    }
    for (const a of tunnels) {
      if (!branch.tunnels.some((t) => t.haTunnelIdentifier === a.haTunnelIdentifier)) {
        throw new SimHttpError(
          400,
          'UNKNOWN_IDENTIFIER',
          `branch ${branchId} has no tunnel with HA tunnel identifier ${a.haTunnelIdentifier}`,
        );
      }
      const own = target.tunnels.find((t) => t.haTunnelIdentifier === a.haTunnelIdentifier);
      if (!own || own.tunnelId !== a.tunnelId) {
        throw new SimHttpError(
          400,
          'TUNNEL_MISMATCH',
          `tunnel ID ${a.tunnelId} for identifier ${a.haTunnelIdentifier} is not target ${targetId}'s (${own?.tunnelId ?? 'none'})`,
        );
      }
    }
    const refused = this.notManaged(site, branch);
    if (refused) throw refused;
    this.fence(site, key, haName, epoch, targetId);
    let changed = false;
    for (const a of tunnels) {
      for (const t of branch.tunnels) {
        if (t.haTunnelIdentifier === a.haTunnelIdentifier && t.tunnelId !== a.tunnelId) {
          t.tunnelId = a.tunnelId;
          changed = true;
        }
      }
    }
    const result: WireRepointResult = {
      branchId,
      targetCpeId: targetId,
      epoch,
      changed,
      tunnels: this.wireTunnels(branch),
    };
    return result;
  }

  /**
   * The "Update Branch to Active Node" button for one group, over the CPEs `site`'s director
   * knows. A branch the director does not manage is reported (code NOT_MANAGED) and not moved.
   */
  updateGroup(
    site: SiteName,
    tenantId: string,
    haName: string,
    targetId?: string,
    epoch?: number,
  ): WireGroupUpdateResult {
    this.refuseIfPassive(site, `the update of HA group ${haName}'s branches`);
    const { key, ids } = this.knownGroup(site, tenantId, haName);
    const members = [...ids]
      .map((id) => this.cpes.get(id))
      .filter((c): c is SimCpe => c !== undefined && c.tenantId === tenantId);
    const concentrators = members.filter((c) => this.isConcentrator(c));
    let target: SimCpe | undefined;
    if (targetId) {
      target = this.tenantCpe(site, tenantId, targetId);
      if (!concentrators.includes(target)) {
        throw new SimHttpError(
          400,
          'WRONG_TARGET',
          `target ${targetId} is not a concentrator of HA group ${haName}`,
        );
      }
    } else {
      // The director's own choice: the runtime-ACTIVE concentrator of an ACTIVE site, alive first, DC before DR.
      const candidates = concentrators
        .filter((c) => c.haRole === 'ACTIVE' && c.site && this.sites[c.site].role === 'ACTIVE')
        .sort(
          (a, b) =>
            Number(this.alive(b)) - Number(this.alive(a)) || (a.site ?? '').localeCompare(b.site ?? ''),
        );
      target = candidates[0];
      if (!target) {
        throw new SimHttpError(
          400,
          'NO_ACTIVE_NODE',
          `HA group ${haName} has no ACTIVE concentrator at an ACTIVE site`,
        );
      }
    }
    // A group update is a re-point of every branch: the epoch binds to its target.
    if (epoch !== undefined) this.fence(site, key, haName, epoch, target.id);
    const branches = members
      .filter((b) => !this.isConcentrator(b))
      .map((b): WireGroupUpdateResult['branches'][number] => {
        const refused = this.notManaged(site, b);
        if (refused) {
          return {
            branchId: b.id,
            changed: false,
            code: 'NOT_MANAGED',
            managedBy: b.managedBy,
            error: refused.message,
          };
        }
        let changed = false;
        const missing: string[] = [];
        for (const t of b.tunnels) {
          const own = target.tunnels.find((x) => x.haTunnelIdentifier === t.haTunnelIdentifier);
          if (!own) missing.push(t.haTunnelIdentifier ?? t.name);
          else if (own.tunnelId !== t.tunnelId) {
            t.tunnelId = own.tunnelId;
            changed = true;
          }
        }
        return missing.length > 0
          ? {
              branchId: b.id,
              changed,
              code: 'NO_TUNNEL_FOR_IDENTIFIER',
              error: `target has no tunnel for identifier(s) ${missing.join(', ')}`,
            }
          : { branchId: b.id, changed };
      });
    return { haName, targetCpeId: target.id, ...(epoch !== undefined ? { epoch } : {}), branches };
  }

  /** Point a branch's tunnels at a concentrator directly (a reboot with stale config, a manual change). */
  driftBranch(branchId: string, concentratorId: string): void {
    const b = this.mustGet(branchId);
    const c = this.mustGet(concentratorId);
    for (const t of b.tunnels) {
      const own = c.tunnels.find((x) => x.haTunnelIdentifier === t.haTunnelIdentifier);
      if (own) t.tunnelId = own.tunnelId;
    }
  }

  /**
   * Break `branchId`'s standby tunnel to `concentratorId` (same HA group): after a re-point onto
   * it, the branch's tunnels stay CREATED. Bad ids change nothing (ValidationError naming them).
   */
  breakTunnel(branchId: string, concentratorId: string): void {
    const b = this.mustGet(branchId);
    const c = this.mustGet(concentratorId);
    const key = groupOf(b);
    if (this.isConcentrator(b) || !key) {
      throw new ValidationError('breakTunnel', [
        { path: 'branchId', value: branchId, expected: 'a branch of an HA group' },
      ]);
    }
    if (!this.isConcentrator(c) || groupOf(c) !== key) {
      throw new ValidationError('breakTunnel', [
        { path: 'concentratorId', value: concentratorId, expected: `a concentrator of ${key}` },
      ]);
    }
    this.brokenTunnels.add(`${branchId}→${concentratorId}`);
  }
}

/** Create the world of a topology. */
export function createWorld(topology: Topology, now?: () => number): SimWorld {
  return new SimWorld(topology, now);
}
